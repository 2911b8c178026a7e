/* merge.c — `squall report merge`: shard run directories into one.
 *
 * series.jsonl: every shard's intervals are placed on one UTC grid (origin
 * = the earliest interval start of any shard, step = the shards' common
 * interval) and merged shard by shard in a k-way walk over the files, so
 * memory stays at one line per shard: counts and count maps are added,
 * histograms merged exactly (sq_hist_merge), never averaged.
 * routes.json: merged per route key the same way. events.jsonl: every
 * shard's events, by time, identical lines once. run.json: the first
 * shard's, with "shard": "merged", "shards": [...] and the union of the
 * shards' "slos".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"

/* One shard being walked. */
typedef struct shard {
    const char *dir;
    FILE *series;
    char *line;
    size_t cap, lineno;
    json_t *head;      /* the current line, or NULL at the end */
    int64_t head_slot; /* its grid slot */
} shard;

/* Adds every integer member of src into dst (both objects of counts). */
static int add_map(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)src, key, v)
    {
        if (!json_is_integer(v))
            return -EINVAL;
        json_t *old = json_object_get(dst, key);
        if (json_object_set_new(dst, key, json_integer(json_integer_value(v) +
                                                       (old ? json_integer_value(old) : 0))))
            return -ENOMEM;
    }
    return 0;
}

/* Merges the histogram at latency_us.key of src into dst's (both lines or
 * route entries), re-encoding dst's. */
static int merge_hist_member(json_t *dst, const json_t *src, const char *key, sq_err *err)
{
    json_t *dl = json_object_get(dst, "latency_us");
    const json_t *sl = json_object_get(src, "latency_us");
    sq_hist *a = sq_hist_from_json(json_object_get(dl, key), err);
    if (!a)
        return -EINVAL;
    sq_hist *b = sq_hist_from_json(json_object_get(sl, key), err);
    int rc = -EINVAL;
    if (b && sq_hist_merge(a, b, err) == 0)
        rc = json_object_set_new(dl, key, sq_hist_to_json(a)) ? -ENOMEM : 0;
    sq_hist_free(a);
    sq_hist_free(b);
    return rc;
}

/* Adds the integer member key of src into dst (missing counts as 0). */
static void add_int(json_t *dst, const json_t *src, const char *key)
{
    const json_t *v = json_object_get(src, key);
    if (!json_is_integer(v))
        return;
    json_t *old = json_object_get(dst, key);
    json_object_set_new(dst, key,
                        json_integer(json_integer_value(v) + (old ? json_integer_value(old) : 0)));
}

/* Merges the counters, maps and histograms of src into dst (series lines or
 * route entries). */
static int merge_counts(json_t *dst, const json_t *src, sq_err *err)
{
    static const char *const ints[] = {"intended", "sent", "late", "completed", "errors_total",
                                       "unsent", NULL};
    static const char *const maps[] = {"status", "classes", "errors", NULL};
    for (size_t i = 0; ints[i]; i++)
        add_int(dst, src, ints[i]);
    for (size_t i = 0; maps[i]; i++) {
        const json_t *m = json_object_get(src, maps[i]);
        if (!m)
            continue;
        json_t *d = json_object_get(dst, maps[i]);
        if (!d) {
            json_object_set_new(dst, maps[i], json_object());
            d = json_object_get(dst, maps[i]);
        }
        if (!json_is_object(m) || add_map(d, m))
            return sq_errf(err, -EINVAL, "\"%s\" must be an object of counts", maps[i]);
    }
    int rc;
    if ((rc = merge_hist_member(dst, src, "corrected", err)) ||
        (rc = merge_hist_member(dst, src, "uncorrected", err)))
        return rc;
    if (!json_object_get(dst, "phase") && json_object_get(src, "phase"))
        json_object_set(dst, "phase", json_object_get(src, "phase"));
    return 0;
}

/* Reads the shard's next series line into head (NULL at the end). A
 * truncated last line ends the shard. */
static int next_line(shard *s, int64_t origin, int64_t step, sq_err *err)
{
    json_decref(s->head);
    s->head = NULL;
    ssize_t n;
    while ((n = getline(&s->line, &s->cap, s->series)) > 0) {
        s->lineno++;
        json_error_t je;
        json_t *o = json_loadb(s->line, (size_t)n, 0, &je);
        const json_t *u = json_object_get(o, "start_utc_ns");
        if (!json_is_object(o) || !json_is_integer(u) || json_integer_value(u) < origin ||
            json_integer_value(u) >= RP_MAX_UTC_NS) {
            json_decref(o);
            if (s->line[n - 1] != '\n')
                return 0;
            return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: expected an interval object with "
                                         "\"start_utc_ns\" (a UTC time in ns, in order)",
                           s->dir, s->lineno);
        }
        s->head = o;
        double slot = (double)(json_integer_value(u) - origin) / (double)step;
        s->head_slot = (int64_t)llround(slot);
        return 0;
    }
    return 0;
}

/* The earliest start_utc_ns of a shard's series (INT64_MAX when empty). */
static int64_t first_start(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/series.jsonl", dir);
    FILE *f = fopen(path, "r");
    int64_t best = INT64_MAX;
    char *line = NULL;
    size_t cap = 0;
    if (f && getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const json_t *u = json_object_get(o, "start_utc_ns");
        if (json_is_integer(u) && json_integer_value(u) >= 0 &&
            json_integer_value(u) < RP_MAX_UTC_NS)
            best = (int64_t)json_integer_value(u);
        json_decref(o);
    }
    free(line);
    if (f)
        fclose(f);
    return best;
}

/* Walks every shard's series.jsonl in slot order, writing merged lines. */
static int merge_series(shard *sh, size_t n, sq_rundir *out, int64_t step, double step_s,
                        sq_err *err)
{
    int64_t origin = INT64_MAX;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t = first_start(sh[i].dir);
        origin = t < origin ? t : origin;
    }
    if (origin == INT64_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/series.jsonl", sh[i].dir);
        sh[i].series = fopen(path, "r");
        if (sh[i].series && (rc = next_line(&sh[i], origin, step, err)))
            return rc;
    }
    for (;;) {
        int64_t slot = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (sh[i].head && sh[i].head_slot < slot)
                slot = sh[i].head_slot;
        if (slot == INT64_MAX)
            return 0;
        json_t *acc = NULL;
        for (size_t i = 0; i < n && rc == 0; i++) {
            while (sh[i].head && sh[i].head_slot == slot && rc == 0) {
                if (!acc) {
                    acc = json_deep_copy(sh[i].head);
                    if (!acc)
                        rc = sq_errf(err, -ENOMEM, "out of memory");
                } else if ((rc = merge_counts(acc, sh[i].head, err))) {
                    rc = sq_err_prefix(err, rc, "%s/series.jsonl:%zu: ", sh[i].dir, sh[i].lineno);
                }
                if (rc == 0)
                    rc = next_line(&sh[i], origin, step, err);
            }
        }
        if (rc == 0) {
            double dur = json_number_value(json_object_get(acc, "dur_s"));
            json_object_set_new(acc, "interval", json_integer((json_int_t)slot));
            json_object_set_new(acc, "t_s", json_real((double)slot * step_s));
            json_object_set_new(acc, "start_utc_ns", json_integer((json_int_t)(origin + slot * step)));
            if (dur > 0) {
                json_object_set_new(acc, "rate_intended",
                                    json_real((double)json_integer_value(json_object_get(acc, "intended")) / dur));
                json_object_set_new(acc, "rate_achieved",
                                    json_real((double)json_integer_value(json_object_get(acc, "sent")) / dur));
            }
            rc = sq_rundir_append(out, "series.jsonl", acc, err);
        }
        json_decref(acc);
        if (rc)
            return rc;
    }
}

/* Merges every shard's routes.json by route key. */
static int merge_routes(shard *sh, size_t n, sq_rundir *out, sq_err *err)
{
    json_t *merged = json_array();
    int rc = 0, any = 0;
    if (!merged)
        return sq_errf(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *doc = NULL;
        rc = sq_json_load_file(sh[i].dir, "routes.json", &doc, err);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        any = 1;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(doc, "routes"), k, e)
        {
            const char *key = json_string_value(json_object_get(e, "route"));
            if (!key) {
                rc = sq_errf(err, -EINVAL, "%s/routes.json: routes[%zu] has no \"route\"",
                             sh[i].dir, k);
                break;
            }
            json_t *dst = NULL;
            size_t j;
            json_t *m;
            json_array_foreach(merged, j, m)
            {
                if (strcmp(json_string_value(json_object_get(m, "route")), key) == 0)
                    dst = m;
            }
            if (!dst) {
                json_array_append_new(merged, json_deep_copy(e));
                continue;
            }
            if ((rc = merge_counts(dst, e, err))) {
                rc = sq_err_prefix(err, rc, "%s/routes.json: route \"%s\": ", sh[i].dir, key);
                break;
            }
        }
        json_decref(doc);
    }
    if (rc == 0 && any) {
        json_t *doc = json_pack("{s:s,s:O}", "schema", "squall.routes/1", "routes", merged);
        rc = doc ? sq_rundir_write_json(out, "routes.json", doc, err)
                 : sq_errf(err, -ENOMEM, "out of memory");
        json_decref(doc);
    }
    json_decref(merged);
    return rc;
}

/* Compares events by utc_ns (qsort). */
static int by_time(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "utc_ns"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "utc_ns"));
    return x < y ? -1 : x > y;
}

/* Every shard's events, by time, each identical event once. */
static int merge_events(shard *sh, size_t n, sq_rundir *out, sq_err *err)
{
    json_t *all = json_array();
    int rc = 0;
    if (!all)
        return sq_errf(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/events.jsonl", sh[i].dir);
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) > 0) {
            json_t *ev = json_loads(line, 0, NULL);
            if (!json_is_object(ev)) {
                json_decref(ev);
                continue; /* torn line of a killed writer */
            }
            size_t k;
            json_t *seen;
            int dup = 0;
            json_array_foreach(all, k, seen) dup |= json_equal(seen, ev);
            if (dup)
                json_decref(ev);
            else
                json_array_append_new(all, ev);
        }
        free(line);
        if (f)
            fclose(f);
    }
    size_t m = json_array_size(all);
    json_t **v = malloc((m + 1) * sizeof *v);
    if (!v) {
        json_decref(all);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++)
        v[i] = json_array_get(all, i);
    qsort(v, m, sizeof *v, by_time);
    for (size_t i = 0; i < m && rc == 0; i++)
        rc = sq_rundir_append(out, "events.jsonl", v[i], err);
    free(v);
    json_decref(all);
    return rc;
}

/* run.json of the merged run. */
static int merge_run_json(shard *sh, size_t n, sq_rundir *out, double *step_s, sq_err *err)
{
    json_t *first = NULL, *shards = json_array(), *slos = json_array();
    int rc = 0;
    if (!shards || !slos) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *run = NULL;
        if ((rc = sq_json_load_file(sh[i].dir, "run.json", &run, err)))
            break;
        const json_t *iv = json_object_get(json_object_get(run, "load"), "interval_s");
        double s = json_is_number(iv) ? json_number_value(iv) : 1.0;
        if (!json_is_string(json_object_get(run, "run_id"))) {
            rc = sq_errf(err, -EINVAL, "%s/run.json: missing \"run_id\" (is this a squall run "
                                       "directory?)",
                         sh[i].dir);
        } else if (i > 0 && fabs(s - *step_s) > 1e-9) {
            rc = sq_errf(err, -EINVAL, "%s: series interval %gs differs from %s's %gs; shards "
                                       "must share one interval",
                         sh[i].dir, s, sh[0].dir, *step_s);
        } else {
            *step_s = s;
            json_array_append_new(shards, json_pack("{s:O,s:O,s:o}", "run_id",
                                                    json_object_get(run, "run_id"), "shard",
                                                    json_object_get(run, "shard")
                                                        ? json_object_get(run, "shard")
                                                        : json_null(),
                                                    "dir", sq_json_text(sh[i].dir)));
            size_t k;
            json_t *e;
            json_array_foreach(json_object_get(run, "slos"), k, e)
            {
                size_t j;
                json_t *have;
                int dup = 0;
                json_array_foreach(slos, j, have) dup |= json_equal(have, e);
                if (!dup)
                    json_array_append(slos, e);
            }
        }
        if (i == 0 && rc == 0)
            first = json_incref(run);
        json_decref(run);
    }
    if (rc)
        goto out;
    json_object_set_new(first, "shard", json_string("merged"));
    json_object_set(first, "shards", shards);
    json_object_set(first, "slos", slos);
    rc = sq_rundir_write_json(out, "run.json", first, err);
out:
    json_decref(first);
    json_decref(shards);
    json_decref(slos);
    return rc;
}

/* Merges shards into out_dir; see reports.h. */
int rp_merge(const char *const *dirs, size_t n, const char *out_dir, sq_err *err)
{
    shard *sh = calloc(n ? n : 1, sizeof *sh);
    sq_rundir *out = NULL;
    double step_s = 1.0;
    int rc;
    if (!sh)
        return sq_errf(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        sh[i].dir = dirs[i];
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/series.jsonl", out_dir);
    FILE *exists = fopen(probe, "r");
    if (exists) {
        fclose(exists);
        rc = sq_errf(err, -EEXIST, "%s already holds a run; merge into a new directory", out_dir);
        goto out;
    }
    if ((rc = sq_rundir_open(out_dir, &out, err)) ||
        (rc = merge_run_json(sh, n, out, &step_s, err)) ||
        (rc = merge_series(sh, n, out, (int64_t)llround(step_s * 1e9), step_s, err)) ||
        (rc = merge_routes(sh, n, out, err)) || (rc = merge_events(sh, n, out, err)))
        goto out;
out:
    for (size_t i = 0; i < n; i++) {
        json_decref(sh[i].head);
        free(sh[i].line);
        if (sh[i].series)
            fclose(sh[i].series);
    }
    free(sh);
    sq_rundir_free(out);
    return rc;
}
