/* route.c — route keys and per-route statistics tables. */
#include "route.h"
#include "tally.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Is the path segment [s, s+n) id-like: all digits, a UUID, or 8+ hex
 * characters with at least one digit? */
static int segment_is_id(const char *s, size_t n)
{
    size_t digits = 0, hex = 0, dashes = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c))
            digits++;
        if (isxdigit(c))
            hex++;
        else if (c == '-')
            dashes++;
    }
    if (n > 0 && digits == n)
        return 1;
    if (n == 36 && dashes == 4 && hex == 32)
        return 1;
    return n >= 8 && hex == n && digits > 0;
}

/* Writes "METHOD /normalised/path" for url into buf; returns buf. */
char *lg_route_key(const char *method, const char *url, char *buf, size_t len)
{
    const char *path = url;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        path = strchr(scheme + 3, '/');
        if (!path)
            path = "/";
    }
    size_t out = (size_t)snprintf(buf, len, "%s ", method);
    if (out >= len)
        return buf;
    const char *p = path;
    while (*p && *p != '?' && *p != '#' && out + 1 < len) {
        if (*p == '/') {
            buf[out++] = '/';
            p++;
            continue;
        }
        size_t seg = strcspn(p, "/?#");
        if (segment_is_id(p, seg)) {
            const char *id = ":id";
            for (size_t i = 0; id[i] && out + 1 < len; i++)
                buf[out++] = id[i];
        } else {
            for (size_t i = 0; i < seg && out + 1 < len; i++)
                buf[out++] = p[i];
        }
        p += seg;
    }
    if (out == strlen(method) + 1 && out + 1 < len)
        buf[out++] = '/';
    buf[out] = '\0';
    return buf;
}

/* Sets up an empty table. */
void lg_routes_init(lg_routes *t)
{
    memset(t, 0, sizeof *t);
}

/* Frees the table's routes. */
void lg_routes_free(lg_routes *t)
{
    for (size_t i = 0; i < t->n; i++)
        lg_stats_free(t->items[i].stats);
    free(t->items);
    memset(t, 0, sizeof *t);
}

/* Finds or adds a route by key; returns its index or -ENOMEM. */
int lg_routes_intern(lg_routes *t, const char *key)
{
    size_t slot = lg_hash_bytes(key, strlen(key)) & (LG_ROUTE_INDEX - 1);
    for (; t->index[slot]; slot = (slot + 1) & (LG_ROUTE_INDEX - 1))
        if (strcmp(t->items[t->index[slot] - 1].key, key) == 0)
            return t->index[slot] - 1;
    if (t->n >= LG_MAX_ROUTES && strcmp(key, "OTHER") != 0)
        return lg_routes_intern(t, "OTHER"); /* "OTHER" itself may go one past the cap */
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        lg_route *items = realloc(t->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        t->items = items;
        t->cap = cap;
    }
    lg_route *r = &t->items[t->n];
    snprintf(r->key, sizeof r->key, "%s", key);
    r->stats = lg_stats_new(LG_ROUTE_DIGITS);
    if (!r->stats)
        return -ENOMEM;
    t->index[slot] = (int)t->n + 1;
    return (int)t->n++;
}

/* Merges src's routes into dst by key. */
int lg_routes_merge(lg_routes *dst, const lg_routes *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int at = lg_routes_intern(dst, src->items[i].key);
        if (at < 0)
            return at;
        lg_stats_merge(dst->items[at].stats, src->items[i].stats);
    }
    return 0;
}

/* Encodes the routes document; caller owns the result (NULL on ENOMEM). */
json_t *lg_routes_to_json(const lg_routes *t)
{
    json_t *doc = json_object(), *arr = json_array();
    if (!doc || !arr)
        goto fail;
    for (size_t i = 0; i < t->n; i++) {
        const lg_route *r = &t->items[i];
        if (r->stats->sent == 0 && r->stats->completed == 0 && lg_stats_errors(r->stats) == 0 &&
            t->n > 1)
            continue; /* e.g. the URL's route of a replay, which sends the recorded paths */
        const char *sp = strchr(r->key, ' ');
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o))
            goto fail;
        json_object_set_new(o, "route", sq_json_text(r->key));
        json_object_set_new(o, "method", sq_json_textn(r->key, sp ? (size_t)(sp - r->key) : 0));
        json_object_set_new(o, "path", sq_json_text(sp ? sp + 1 : r->key));
        json_object_set_new(o, "sent", json_integer((json_int_t)r->stats->sent));
        if (lg_stats_to_json(r->stats, o))
            goto fail;
    }
    json_object_set_new(doc, "schema", json_string("squall.routes/1"));
    json_object_set_new(doc, "routes", arr);
    return doc;
fail:
    json_decref(arr);
    json_decref(doc);
    return NULL;
}
