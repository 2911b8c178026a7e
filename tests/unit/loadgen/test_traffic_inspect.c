/* test_traffic_inspect.c — `traffic inspect` on generated files with a
 * known peak, one per format: the peak (most requests in any 1-second
 * window, sliding over the timestamps) and its start must equal a
 * brute-force count exactly, with requests, duration, mean rate, methods,
 * users and top routes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen/inspect.h"
#include "loadgen/traffic.h"

#define T0 1795255200000000000LL /* 2026-11-21T10:00:00Z */
#define GOR_SEP "\n\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89\n"
#define MAXN 4096

/* The generated traffic: timestamps (file order) and what they carry. */
typedef struct gen {
    int64_t ts[MAXN];
    size_t n;
} gen;

/* A deterministic pseudo-random number (xorshift). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* 30 s at 20 req/s, plus a burst of 37 requests in [12.3 s, 13.2 s),
 * truncated to `res` ns (1 s for access logs, 1 ms for HAR), shuffled
 * within +-2 s in file order when `shuffle`. */
static void generate(gen *g, int64_t res, int shuffle)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    g->n = 0;
    for (int i = 0; i < 600; i++)
        g->ts[g->n++] = T0 + (int64_t)i * 50 * SQ_NS_PER_MS + (int64_t)(rnd(&seed) % 1000);
    for (int i = 0; i < 37; i++)
        g->ts[g->n++] = T0 + 12300 * SQ_NS_PER_MS + (int64_t)(rnd(&seed) % (900 * SQ_NS_PER_MS));
    /* sort, then optionally displace neighbours by up to 2 s */
    for (size_t i = 1; i < g->n; i++)
        for (size_t j = i; j > 0 && g->ts[j - 1] > g->ts[j]; j--) {
            int64_t x = g->ts[j];
            g->ts[j] = g->ts[j - 1];
            g->ts[j - 1] = x;
        }
    for (size_t i = 0; i < g->n; i++)
        g->ts[i] -= (g->ts[i] - T0) % res;
    if (shuffle)
        for (size_t i = 0; i + 1 < g->n; i++) {
            size_t j = i + rnd(&seed) % 30;
            if (j < g->n && g->ts[j] - g->ts[i] < 2 * SQ_NS_PER_S) {
                int64_t x = g->ts[j];
                g->ts[j] = g->ts[i];
                g->ts[i] = x;
            }
        }
}

/* Brute force: the most timestamps in any [t_i, t_i + 1 s), and the
 * earliest such t_i. */
static void brute_peak(const gen *g, uint64_t *peak, int64_t *at)
{
    int64_t *s = malloc(g->n * sizeof *s);
    assert_non_null(s);
    memcpy(s, g->ts, g->n * sizeof *s);
    for (size_t i = 1; i < g->n; i++)
        for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int64_t x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    *peak = 0;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t c = 0;
        for (size_t j = i; j < g->n && s[j] < s[i] + SQ_NS_PER_S; j++)
            c++;
        if (c > *peak) {
            *peak = c;
            *at = s[i];
        }
    }
    free(s);
}

/* The method, path and user of request i: every 10th a POST; users u0..u6. */
static const char *method_of(size_t i)
{
    return i % 10 == 3 ? "POST" : "GET";
}

/* Writes g in format f to a new temporary file; returns its path (static). */
static const char *write_file(const gen *g, enum lg_traffic_format f)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/squall-test-traffic.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    assert_non_null(out);
    if (f == LG_TRAFFIC_HAR)
        fprintf(out, "{\"log\": {\"version\": \"1.2\", \"entries\": [\n");
    for (size_t i = 0; i < g->n; i++) {
        const char *m = method_of(i);
        char when[64];
        time_t secs = (time_t)(g->ts[i] / SQ_NS_PER_S);
        struct tm tm;
        gmtime_r(&secs, &tm);
        switch (f) {
        case LG_TRAFFIC_JSONL:
            fprintf(out, "{\"ts_ns\": %lld, \"method\": \"%s\", \"url\": \"/items/%zu?uid=u%zu\"}\n",
                    (long long)g->ts[i], m, i, i % 7);
            break;
        case LG_TRAFFIC_COMBINED:
        case LG_TRAFFIC_COMMON:
            strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
            fprintf(out, "10.0.0.%zu - u%zu [%s] \"%s /items/%zu?uid=u%zu HTTP/1.1\" 200 12%s\n",
                    i % 250, i % 7, when, m, i, i % 7, f == LG_TRAFFIC_COMBINED ? " \"-\" \"t\"" : "");
            break;
        case LG_TRAFFIC_GOR:
            fprintf(out, "1 %016zx %lld 0\n%s /items/%zu?uid=u%zu HTTP/1.1\r\nHost: h\r\n\r\n" GOR_SEP,
                    i, (long long)g->ts[i], m, i, i % 7);
            fprintf(out, "2 %016zx %lld 100\nHTTP/1.1 200 OK\r\n\r\n" GOR_SEP, i,
                    (long long)g->ts[i] + 100);
            break;
        case LG_TRAFFIC_HAR:
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
            fprintf(out,
                    "%s  {\"startedDateTime\": \"%s.%03lldZ\",\n   \"request\": {\"method\": \"%s\", "
                    "\"url\": \"http://h/items/%zu?uid=u%zu\", \"headers\": []}}",
                    i ? ",\n" : "", when, (long long)(g->ts[i] % SQ_NS_PER_S / SQ_NS_PER_MS), m, i,
                    i % 7);
            break;
        default:
            fail();
        }
    }
    if (f == LG_TRAFFIC_HAR)
        fprintf(out, "\n]}}\n");
    assert_int_equal(fclose(out), 0);
    return path;
}

/* Generates, writes and inspects one format; checks everything. */
static void check_format(enum lg_traffic_format f, int64_t res, int shuffle)
{
    gen *g = malloc(sizeof *g);
    assert_non_null(g);
    generate(g, res, shuffle);
    uint64_t want_peak;
    int64_t want_at = 0, lo = INT64_MAX, hi = INT64_MIN;
    brute_peak(g, &want_peak, &want_at);
    for (size_t i = 0; i < g->n; i++) {
        lo = g->ts[i] < lo ? g->ts[i] : lo;
        hi = g->ts[i] > hi ? g->ts[i] : hi;
    }
    const char *path = write_file(g, f);
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    sq_err err = {{0}};
    assert_int_equal(lg_user_key_parse("query:uid", &o.user_key, &err), 0);
    lg_traffic *t = NULL;
    if (lg_traffic_open(path, LG_TRAFFIC_AUTO, &o, &t, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(lg_traffic_format_of(t), f);
    lg_inspect r;
    if (lg_inspect_run(t, 1, &r, &err))
        fail_msg("%s", err.msg);
    lg_traffic_close(t);
    unlink(path);
    if (r.peak_rps != want_peak || r.peak_at_ns != want_at)
        fail_msg("%s: peak %llu at %lld, want %llu at %lld", lg_traffic_format_name(f),
                 (unsigned long long)r.peak_rps, (long long)r.peak_at_ns,
                 (unsigned long long)want_peak, (long long)want_at);
    assert_true(want_peak >= 37);
    assert_int_equal(r.requests, g->n);
    assert_int_equal(r.first_ns, lo);
    assert_int_equal(r.last_ns, hi);
    assert_true(r.duration_s == (double)(hi - lo) / 1e9);
    assert_true(r.mean_rps == (double)(g->n - 1) / r.duration_s);
    assert_int_equal(r.n_methods, 2);
    assert_string_equal(r.methods[0].name, "GET");
    assert_int_equal(r.methods[0].count + r.methods[1].count, g->n);
    assert_int_equal(r.writes, r.methods[1].count);
    assert_true(r.users_known);
    assert_int_equal(r.users, 7);
    assert_int_equal(r.requests_with_user, g->n);
    assert_int_equal(r.n_routes_top, 2);
    assert_string_equal(r.routes[0].name, "GET /items/:id");
    assert_string_equal(r.routes[1].name, "POST /items/:id");
    /* the JSON keys of DESIGN.md */
    json_t *j = lg_inspect_to_json(&r);
    assert_non_null(j);
    const char *keys[] = {"format", "requests", "duration_s", "peak_rps", "peak_at",
                          "mean_rps", "methods", "users", "routes"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(j, keys[i]))
            fail_msg("no key %s", keys[i]);
    assert_string_equal(json_string_value(json_object_get(j, "format")), lg_traffic_format_name(f));
    assert_int_equal(json_integer_value(json_object_get(j, "peak_rps")), (json_int_t)want_peak);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "methods"), "GET")),
                     (json_int_t)r.methods[0].count);
    json_decref(j);
    free(g);
}

static void test_inspect_jsonl(void **state)
{
    (void)state;
    check_format(LG_TRAFFIC_JSONL, 1, 1);
}

static void test_inspect_combined(void **state)
{
    (void)state;
    check_format(LG_TRAFFIC_COMBINED, SQ_NS_PER_S, 0);
}

static void test_inspect_common(void **state)
{
    (void)state;
    check_format(LG_TRAFFIC_COMMON, SQ_NS_PER_S, 1);
}

static void test_inspect_gor(void **state)
{
    (void)state;
    check_format(LG_TRAFFIC_GOR, 1, 1);
}

static void test_inspect_har(void **state)
{
    (void)state;
    check_format(LG_TRAFFIC_HAR, SQ_NS_PER_MS, 1);
}

/* Window edges: [t, t + 1 s) is half-open, so requests exactly 1 s apart
 * are never in one window; ties go to the earliest window. */
static void test_peak_edges(void **state)
{
    (void)state;
    const char *in = "{\"ts_ns\": 0, \"url\": \"/\"}\n"
                     "{\"ts_ns\": 999999999, \"url\": \"/\"}\n"
                     "{\"ts_ns\": 1000000000, \"url\": \"/\"}\n"
                     "{\"ts_ns\": 1999999999, \"url\": \"/\"}\n"
                     "{\"ts_ns\": 5000000000, \"url\": \"/\"}\n"
                     "{\"ts_ns\": 5000000000, \"url\": \"/\"}\n";
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    assert_int_equal(lg_traffic_open_mem(in, strlen(in), "mem", LG_TRAFFIC_AUTO, NULL, &t, &err), 0);
    lg_inspect r;
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), 0);
    lg_traffic_close(t);
    assert_int_equal(r.peak_rps, 2);
    assert_int_equal(r.peak_at_ns, 0);
    assert_int_equal(r.requests, 6);
    assert_false(r.users_known);
    assert_true(r.duration_s == 5.0);
    assert_true(r.mean_rps == 1.0);
    json_t *j = lg_inspect_to_json(&r);
    assert_true(json_is_null(json_object_get(j, "users")));
    json_decref(j);

    /* one request: duration 0, mean = requests; nothing: all zero */
    assert_int_equal(lg_traffic_open_mem(in, 25, "mem", LG_TRAFFIC_JSONL, NULL, &t, &err), 0);
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), 0);
    lg_traffic_close(t);
    assert_int_equal(r.peak_rps, 1);
    assert_true(r.mean_rps == 1.0);
    assert_int_equal(lg_traffic_open_mem("", 0, "mem", LG_TRAFFIC_JSONL, NULL, &t, &err), 0);
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), 0);
    lg_traffic_close(t);
    assert_int_equal(r.requests, 0);
    assert_int_equal(r.peak_rps, 0);
    j = lg_inspect_to_json(&r);
    assert_true(json_is_null(json_object_get(j, "peak_at")));
    json_decref(j);
}

/* Top routes: 25 distinct, the top 20 by count then name; a bad record
 * stops inspect with its FILE:LINE unless skipped. */
static void test_top_routes_and_errors(void **state)
{
    (void)state;
    char *in = malloc(65536);
    assert_non_null(in);
    size_t len = 0;
    for (int r = 0; r < 25; r++)
        for (int k = 0; k <= r; k++)
            len += (size_t)snprintf(in + len, 65536 - len, "{\"ts\": %d, \"url\": \"/r%c\"}\n", r,
                                    'a' + r);
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    assert_int_equal(lg_traffic_open_mem(in, len, "mem", LG_TRAFFIC_JSONL, NULL, &t, &err), 0);
    lg_inspect r;
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), 0);
    lg_traffic_close(t);
    assert_int_equal(r.n_routes_top, 20);
    assert_int_equal(r.routes_distinct, 25);
    assert_string_equal(r.routes[0].name, "GET /ry");
    assert_int_equal(r.routes[0].count, 25);
    assert_string_equal(r.routes[19].name, "GET /rf");

    len += (size_t)snprintf(in + len, 65536 - len, "oops\n{\"ts\": 30, \"url\": \"/z\"}\n");
    assert_int_equal(lg_traffic_open_mem(in, len, "mem", LG_TRAFFIC_JSONL, NULL, &t, &err), 0);
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "mem:326: expected one JSON object per line"));
    lg_traffic_close(t);
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    o.skip_bad = 1;
    assert_int_equal(lg_traffic_open_mem(in, len, "mem", LG_TRAFFIC_JSONL, &o, &t, &err), 0);
    assert_int_equal(lg_inspect_run(t, 0, &r, &err), 0);
    lg_traffic_close(t);
    assert_int_equal(r.requests, 326);
    assert_int_equal(r.skipped, 1);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect_jsonl),  cmocka_unit_test(test_inspect_combined),
        cmocka_unit_test(test_inspect_common), cmocka_unit_test(test_inspect_gor),
        cmocka_unit_test(test_inspect_har),    cmocka_unit_test(test_peak_edges),
        cmocka_unit_test(test_top_routes_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
