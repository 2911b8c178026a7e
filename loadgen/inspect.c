/* inspect.c — `squall traffic inspect`: one streaming pass over a traffic
 * reader.
 *
 * Peak: the largest number of requests in any 1-second window, sliding over
 * the request timestamps (not calendar seconds), computed by lg_peak
 * (tally.c); the window is [peak_at, peak_at + 1 s).
 *
 * Users: an exact hash set of the distinct ids (about 24 bytes + the id per
 * user). Routes: a hash map of lg_route_key counts, at most
 * LG_INSPECT_MAX_ROUTES keys (the rest count under "OTHER"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/inspect.h"
#include "loadgen/loadgen.h"
#include "loadgen/route.h"
#include "loadgen/tally.h"

/* 1 for methods that only read. */
static int is_read(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0 ||
           strcmp(m, "TRACE") == 0;
}

/* Adds one request of method m to r->methods. */
static void count_method(lg_inspect *r, const char *m)
{
    size_t i;
    for (i = 0; i < r->n_methods; i++)
        if (strcmp(r->methods[i].name, m) == 0)
            break;
    if (i == r->n_methods) {
        if (r->n_methods < LG_INSPECT_MAX_METHODS) {
            snprintf(r->methods[i].name, sizeof r->methods[i].name, "%s", m);
        } else {
            for (i = 0; i < r->n_methods; i++)
                if (strcmp(r->methods[i].name, "OTHER") == 0)
                    break;
            if (i == r->n_methods)
                snprintf(r->methods[i].name, sizeof r->methods[i].name, "OTHER");
        }
        if (i == r->n_methods)
            r->n_methods++;
    }
    r->methods[i].count++;
}

/* Orders counts by count descending, then name. */
static int cmp_count(const void *a, const void *b)
{
    const lg_inspect_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Keeps the top LG_INSPECT_TOP_ROUTES of the route map in r->routes. */
static void top_routes(lg_inspect *r, const lg_strset *routes, uint64_t other)
{
    lg_inspect_count *top = r->routes;
    size_t n = 0;
    for (size_t i = 0; i <= routes->cap; i++) {
        lg_inspect_count c;
        if (i == routes->cap) {
            if (!other)
                break;
            snprintf(c.name, sizeof c.name, "OTHER");
            c.count = other;
        } else {
            if (!routes->slots || !routes->slots[i].key)
                continue;
            snprintf(c.name, sizeof c.name, "%s", routes->slots[i].key);
            c.count = routes->slots[i].count;
        }
        if (n < LG_INSPECT_TOP_ROUTES) {
            top[n++] = c;
            qsort(top, n, sizeof *top, cmp_count);
        } else if (cmp_count(&c, &top[n - 1]) < 0) {
            top[n - 1] = c;
            qsort(top, n, sizeof *top, cmp_count);
        }
    }
    r->n_routes_top = n;
}

/* Reads every request of t into out. See inspect.h. */
int lg_inspect_run(lg_traffic *t, int user_key_given, lg_inspect *out, sq_err *err)
{
    int rc = 0;
    lg_strset users = {0}, routes = {0};
    lg_peak peak = {0};
    uint64_t other_routes = 0;
    memset(out, 0, sizeof *out);
    out->format = lg_traffic_format_of(t);
    out->users_known = user_key_given;
    lg_traffic_req req;
    char key[LG_ROUTE_KEY_MAX];
    lg_strset_slot *slot;
    for (;;) {
        rc = lg_traffic_next(t, &req, err);
        if (rc == 0)
            break;
        if (rc < 0)
            goto out;
        rc = -ENOMEM;
        if (out->requests == 0)
            out->first_ns = req.ts_ns;
        out->last_ns = req.ts_ns;
        out->requests++;
        /* the sliding 1-second window ending at this request */
        if (lg_peak_push(&peak, req.ts_ns, 1))
            goto oom;
        count_method(out, req.method);
        if (is_read(req.method))
            out->reads++;
        else
            out->writes++;
        if (req.user) {
            out->users_known = 1;
            out->requests_with_user++;
            if (lg_strset_get(&users, req.user, SIZE_MAX, &slot))
                goto oom;
        }
        lg_route_key(req.method, req.url, key, sizeof key);
        if (lg_strset_get(&routes, key, LG_INSPECT_MAX_ROUTES, &slot))
            goto oom;
        if (slot)
            slot->count++;
        else
            other_routes++;
    }
    out->users = users.n;
    out->peak_rps = peak.peak;
    out->peak_at_ns = peak.peak_at;
    out->routes_distinct = routes.n + (other_routes ? 1 : 0);
    out->duration_s = out->requests ? (double)(out->last_ns - out->first_ns) / 1e9 : 0;
    out->mean_rps = out->duration_s > 0 ? (double)(out->requests - 1) / out->duration_s
                                        : (double)out->requests;
    out->skipped = lg_traffic_skipped(t);
    out->skipped_late = lg_traffic_skipped_late(t);
    qsort(out->methods, out->n_methods, sizeof out->methods[0], cmp_count);
    top_routes(out, &routes, other_routes);
    rc = 0;
    goto out;
oom:
    rc = sq_errf(err, -ENOMEM, "out of memory while inspecting");
out:
    lg_strset_free(&users);
    lg_strset_free(&routes);
    lg_peak_free(&peak);
    return rc;
}

/* The result as JSON; caller owns it. */
json_t *lg_inspect_to_json(const lg_inspect *r)
{
    char at[40], first[40], last[40];
    json_t *methods = json_object(), *routes = json_array();
    if (!methods || !routes)
        goto fail;
    for (size_t i = 0; i < r->n_methods; i++)
        json_object_set_new(methods, r->methods[i].name, json_integer((json_int_t)r->methods[i].count));
    for (size_t i = 0; i < r->n_routes_top; i++) {
        const char *k = r->routes[i].name;
        const char *sp = strchr(k, ' ');
        json_t *o = json_pack("{s:o, s:I}", "route", sq_json_text(k), "count",
                              (json_int_t)r->routes[i].count);
        if (o && sp) {
            json_object_set_new(o, "method", sq_json_textn(k, (size_t)(sp - k)));
            json_object_set_new(o, "path", sq_json_text(sp + 1));
        }
        if (!o || json_array_append_new(routes, o))
            goto fail;
    }
    int has = r->requests > 0;
    json_t *j = json_pack(
        "{s:s, s:I, s:f, s:I, s:o, s:I, s:f, s:o, s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
        "format", lg_traffic_format_name(r->format), "requests", (json_int_t)r->requests,
        "duration_s", r->duration_s, "peak_rps", (json_int_t)r->peak_rps, "peak_at",
        has ? json_string(sq_utc_format(r->peak_at_ns, at, sizeof at)) : json_null(), "peak_at_ns",
        (json_int_t)r->peak_at_ns, "mean_rps", r->mean_rps, "methods", methods, "users",
        r->users_known ? json_integer((json_int_t)r->users) : json_null(), "reads",
        (json_int_t)r->reads, "writes", (json_int_t)r->writes, "first_at",
        has ? json_string(sq_utc_format(r->first_ns, first, sizeof first)) : json_null(), "last_at",
        has ? json_string(sq_utc_format(r->last_ns, last, sizeof last)) : json_null(),
        "requests_with_user", (json_int_t)r->requests_with_user, "routes_distinct",
        (json_int_t)r->routes_distinct, "skipped", (json_int_t)r->skipped, "skipped_late",
        (json_int_t)r->skipped_late, "first_at_ns", (json_int_t)r->first_ns);
    methods = NULL;
    if (!j)
        goto fail;
    json_object_set_new(j, "routes", routes);
    return j;
fail:
    json_decref(methods);
    json_decref(routes);
    return NULL;
}

/* Writes s to out with control characters (which a terminal would act on)
 * replaced by '?'. */
static void put_clean(const char *s, FILE *out)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* Prints the result for a person. */
void lg_inspect_print(const lg_inspect *r, const char *path, FILE *out)
{
    char a[40], b[40], d[32];
    put_clean(path, out);
    fputc('\n', out);
    fprintf(out, "  format      %s\n", lg_traffic_format_name(r->format));
    fprintf(out, "  requests    %llu\n", (unsigned long long)r->requests);
    if (r->requests == 0) {
        if (r->skipped)
            fprintf(out, "  skipped     %llu bad records\n", (unsigned long long)r->skipped);
        return;
    }
    sq_utc_format(r->first_ns, a, sizeof a);
    sq_utc_format(r->last_ns, b, sizeof b);
    fprintf(out, "  duration    %s (%.3f s, %s .. %s)\n",
            sq_format_duration(r->last_ns - r->first_ns, d, sizeof d), r->duration_s, a, b);
    sq_utc_format(r->peak_at_ns, a, sizeof a);
    fprintf(out, "  peak        %llu req/s, in the second starting %s\n",
            (unsigned long long)r->peak_rps, a);
    fprintf(out, "  mean        %.2f req/s\n", r->mean_rps);
    fprintf(out, "  read/write  %.1f%% / %.1f%%\n", 100.0 * (double)r->reads / (double)r->requests,
            100.0 * (double)r->writes / (double)r->requests);
    fprintf(out, "  methods    ");
    for (size_t i = 0; i < r->n_methods; i++) {
        fputc(' ', out);
        put_clean(r->methods[i].name, out);
        fprintf(out, " %llu", (unsigned long long)r->methods[i].count);
    }
    fprintf(out, "\n");
    if (r->users_known)
        fprintf(out, "  users       %llu distinct (%llu of the requests carry one)\n",
                (unsigned long long)r->users, (unsigned long long)r->requests_with_user);
    else
        fprintf(out, "  users       unknown (give --user-key header:X|query:x|cookie:x|json:/ptr)\n");
    if (r->skipped)
        fprintf(out, "  skipped     %llu bad records (%llu out of order beyond the window)\n",
                (unsigned long long)r->skipped, (unsigned long long)r->skipped_late);
    fprintf(out, "  routes      %llu distinct; top %zu:\n", (unsigned long long)r->routes_distinct,
            r->n_routes_top);
    for (size_t i = 0; i < r->n_routes_top; i++) {
        fprintf(out, "    %10llu  %5.1f%%  ", (unsigned long long)r->routes[i].count,
                100.0 * (double)r->routes[i].count / (double)r->requests);
        put_clean(r->routes[i].name, out);
        fputc('\n', out);
    }
}
