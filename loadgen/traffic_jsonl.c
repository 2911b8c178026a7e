/* traffic_jsonl.c — squall's own JSON Lines traffic format: one object per
 * line, {"ts_ns": N | "ts": "RFC3339" | "ts": epoch-seconds, "method",
 * "url", "headers": {..} | [[k, v], ..], "body" | "body_b64", "user"}.
 * Blank lines are skipped; unknown keys are ignored. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/traffic.h"

typedef struct jsonl_state {
    lg_tlines lines;
    unsigned char *b64; /* scratch for body_b64 */
    size_t b64_cap;
} jsonl_state;

/* Checks that s is an HTTP method token (1..32 of A-Z, a-z, 0-9, '-', '_'). */
static int is_method(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Reads the timestamp of obj into b. Returns 0 or -EBADMSG. */
static int get_ts(json_t *obj, lg_tbuild *b, sq_err *err)
{
    json_t *v = json_object_get(obj, "ts_ns");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return sq_errf(err, -EBADMSG, "\"ts_ns\": expected a non-negative integer (ns since the epoch)");
        b->ts_ns = (int64_t)json_integer_value(v);
        return 0;
    }
    v = json_object_get(obj, "ts");
    if (!v)
        return sq_errf(err, -EBADMSG, "expected a timestamp: \"ts_ns\" (integer ns) or \"ts\" "
                                      "(RFC 3339 string or epoch seconds)");
    if (json_is_string(v)) {
        if (lg_traffic_parse_rfc3339(json_string_value(v), json_string_length(v), &b->ts_ns))
            return sq_errf(err, -EBADMSG,
                           "\"ts\": expected an RFC 3339 time like 2026-11-21T08:54:53.123Z");
        return 0;
    }
    if (json_is_number(v)) {
        double s = json_number_value(v);
        if (!(s >= 0) || s > 9.2e9 || !isfinite(s))
            return sq_errf(err, -EBADMSG, "\"ts\": expected epoch seconds >= 0");
        /* seconds and fraction apart so that 1.5e9 + 0.123 keeps its ns */
        double whole = floor(s);
        b->ts_ns = (int64_t)whole * SQ_NS_PER_S + (int64_t)llround((s - whole) * 1e9);
        return 0;
    }
    return sq_errf(err, -EBADMSG, "\"ts\": expected an RFC 3339 string or epoch seconds");
}

/* Copies obj's "headers" (object or array of pairs) into b. */
static int get_headers(json_t *obj, lg_tbuild *b, sq_err *err)
{
    json_t *h = json_object_get(obj, "headers");
    if (!h || json_is_null(h))
        return 0;
    if (json_is_object(h)) {
        const char *k;
        json_t *v;
        json_object_foreach(h, k, v) {
            if (!json_is_string(v))
                return sq_errf(err, -EBADMSG, "\"headers\": the value of '%.64s' must be a string", k);
            const char *why = lg_traffic_check_header(k, strlen(k), json_string_value(v),
                                                      json_string_length(v));
            if (why)
                return sq_errf(err, -EBADMSG, "\"headers\": '%.64s': %s", k, why);
            if (lg_tbuild_header(b, k, strlen(k), json_string_value(v), json_string_length(v)))
                return -ENOMEM;
        }
        return 0;
    }
    if (json_is_array(h)) {
        size_t i;
        json_t *p;
        json_array_foreach(h, i, p) {
            json_t *k = json_array_get(p, 0), *v = json_array_get(p, 1);
            if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_string(k) ||
                !json_is_string(v) || json_string_length(k) == 0)
                return sq_errf(err, -EBADMSG,
                               "\"headers\"[%zu]: expected a [name, value] pair of strings", i);
            const char *why = lg_traffic_check_header(json_string_value(k), json_string_length(k),
                                                      json_string_value(v), json_string_length(v));
            if (why)
                return sq_errf(err, -EBADMSG, "\"headers\"[%zu]: %s", i, why);
            if (lg_tbuild_header(b, json_string_value(k), json_string_length(k),
                                 json_string_value(v), json_string_length(v)))
                return -ENOMEM;
        }
        return 0;
    }
    return sq_errf(err, -EBADMSG, "\"headers\": expected an object or an array of [name, value]");
}

/* Reads the next request line. See lg_tsrc. */
static int jsonl_next(void *state, lg_tbuild *b, sq_err *err)
{
    jsonl_state *s = state;
    char *line;
    size_t len;
    int rc;
    json_t *obj = NULL;
    for (;;) {
        rc = lg_tlines_next(&s->lines, &line, &len);
        b->line = s->lines.line;
        if (rc == -EMSGSIZE)
            return sq_errf(err, -EBADMSG, "line longer than %u bytes", LG_TRAFFIC_LINE_MAX);
        if (rc == -EIO)
            return sq_errf(err, rc, "read error at line %llu", (unsigned long long)b->line + 1);
        if (rc <= 0)
            return rc;
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < len)
            break;
    }
    json_error_t jerr;
    obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!obj)
        return sq_errf(err, -EBADMSG, "expected one JSON object per line: %s (column %d)", jerr.text,
                       jerr.column);
    if (!json_is_object(obj)) {
        rc = sq_errf(err, -EBADMSG, "expected a JSON object, not %s",
                     json_is_array(obj) ? "an array" : "a scalar");
        goto out;
    }
    if ((rc = get_ts(obj, b, err)))
        goto out;
    json_t *m = json_object_get(obj, "method");
    if (m && !(json_is_string(m) && is_method(json_string_value(m)))) {
        rc = sq_errf(err, -EBADMSG, "\"method\": expected an HTTP method like \"GET\"");
        goto out;
    }
    const char *method = m ? json_string_value(m) : "GET";
    if ((rc = lg_tbuild_method(b, method, strlen(method))))
        goto out;
    json_t *u = json_object_get(obj, "url");
    if (!json_is_string(u) || json_string_length(u) == 0 ||
        memchr(json_string_value(u), '\0', json_string_length(u))) {
        rc = sq_errf(err, -EBADMSG, "\"url\": expected a non-empty string (absolute URL or /path)");
        goto out;
    }
    const char *why = lg_traffic_check_url(json_string_value(u), json_string_length(u));
    if (why) {
        rc = sq_errf(err, -EBADMSG, "\"url\": %s", why);
        goto out;
    }
    if ((rc = lg_tbuild_url(b, json_string_value(u), json_string_length(u))))
        goto out;
    if ((rc = get_headers(obj, b, err)))
        goto out;
    json_t *body = json_object_get(obj, "body"), *b64 = json_object_get(obj, "body_b64");
    if (body && b64) {
        rc = sq_errf(err, -EBADMSG, "give \"body\" or \"body_b64\", not both");
        goto out;
    }
    if (body && !json_is_null(body)) {
        if (!json_is_string(body)) {
            rc = sq_errf(err, -EBADMSG, "\"body\": expected a string (or use \"body_b64\")");
            goto out;
        }
        if ((rc = lg_tbuild_body(b, json_string_value(body), json_string_length(body))))
            goto out;
    } else if (b64 && !json_is_null(b64)) {
        size_t n = json_is_string(b64) ? json_string_length(b64) : 0, outn = 0;
        if (n / 4 * 3 + 3 > s->b64_cap) {
            unsigned char *nb = realloc(s->b64, n / 4 * 3 + 3);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            s->b64 = nb;
            s->b64_cap = n / 4 * 3 + 3;
        }
        if (!json_is_string(b64) || lg_traffic_b64_decode(json_string_value(b64), n, s->b64, &outn)) {
            rc = sq_errf(err, -EBADMSG, "\"body_b64\": expected a base64 string");
            goto out;
        }
        if ((rc = lg_tbuild_body(b, (const char *)s->b64, outn)))
            goto out;
    }
    json_t *user = json_object_get(obj, "user");
    if (user && !json_is_null(user)) {
        char num[32];
        if (json_is_string(user)) {
            rc = lg_tbuild_user(b, json_string_value(user), json_string_length(user));
        } else if (json_is_integer(user)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(user));
            rc = lg_tbuild_user(b, num, strlen(num));
        } else {
            rc = sq_errf(err, -EBADMSG, "\"user\": expected a string or an integer");
        }
        if (rc)
            goto out;
    }
    rc = 1;
out:
    json_decref(obj);
    return rc;
}

/* Frees the reader's state. */
static void jsonl_free(void *state)
{
    jsonl_state *s = state;
    if (!s)
        return;
    lg_tlines_free(&s->lines);
    free(s->b64);
    free(s);
}

/* Creates a JSON Lines source over f (not owned). */
int lg_tsrc_jsonl(void *f, lg_tsrc *src, sq_err *err)
{
    jsonl_state *s = calloc(1, sizeof *s);
    if (!s || lg_tlines_init(&s->lines, f)) {
        free(s);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    src->state = s;
    src->next = jsonl_next;
    src->free = jsonl_free;
    return 0;
}
