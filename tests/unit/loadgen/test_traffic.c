/* test_traffic.c — the traffic readers: every field of every format, format
 * detection, user keys, the reorder window and --skip-bad counting, and the
 * shared decoders (RFC 3339, base64). Malformed input is in
 * test_traffic_errors.c, inspect (peak) in test_traffic_inspect.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/traffic.h"

#define T0 1795255200000000000LL /* 2026-11-21T10:00:00Z */
#define GOR_SEP "\n\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89\n"

/* Opens s (a C string) as format with opts (may be NULL); fails the test
 * on error. */
static lg_traffic *open_str(const char *s, enum lg_traffic_format f, const lg_traffic_opts *opts)
{
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    int rc = lg_traffic_open_mem(s, strlen(s), "mem", f, opts, &t, &err);
    if (rc)
        fail_msg("open: %d %s", rc, err.msg);
    return t;
}

/* Reads the next request, failing the test unless there is one. */
static void next_ok(lg_traffic *t, lg_traffic_req *r)
{
    sq_err err = {{0}};
    int rc = lg_traffic_next(t, r, &err);
    if (rc != 1)
        fail_msg("next: %d %s", rc, err.msg);
}

/* Asserts the end of input. */
static void next_eof(lg_traffic *t)
{
    lg_traffic_req r;
    sq_err err = {{0}};
    int rc = lg_traffic_next(t, &r, &err);
    if (rc != 0)
        fail_msg("expected EOF, got %d %s (url %s)", rc, err.msg, rc == 1 ? r.url : "");
}

/* The value of header name in r, or NULL. */
static const char *hdr(const lg_traffic_req *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void test_jsonl_fields(void **state)
{
    (void)state;
    const char *in =
        "{\"ts\": \"2026-11-21T10:00:00.123456789Z\", \"method\": \"GET\", \"url\": \"/a?uid=u1\", "
        "\"headers\": {\"X-User-Id\": \"u1\"}, \"user\": \"u1\"}\n"
        "{\"ts_ns\": 1795255200500000000, \"method\": \"POST\", \"url\": \"http://h/o\", "
        "\"headers\": [[\"Content-Type\", \"application/json\"], [\"X-A\", \"1\"]], \"body\": \"{}\"}\n"
        "\n"
        "   \n"
        "{\"ts\": 1795255201.25, \"method\": \"PUT\", \"url\": \"/i/42\", \"body_b64\": "
        "\"aGVsbG8Ad29ybGQ=\", \"user\": 7}\r\n"
        "{\"ts\": \"2026-11-21T11:00:02+01:00\", \"url\": \"/healthz\", \"extra\": true}";
    lg_traffic *t = open_str(in, LG_TRAFFIC_AUTO, NULL);
    assert_int_equal(lg_traffic_format_of(t), LG_TRAFFIC_JSONL);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 123456789);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "/a?uid=u1");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(hdr(&r, "X-User-Id"), "u1");
    assert_string_equal(r.user, "u1");
    assert_int_equal(r.body_len, 0);
    assert_int_equal(r.line, 1);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 500000000);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "http://h/o");
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(r.headers[0].name, "Content-Type");
    assert_string_equal(r.headers[1].value, "1");
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "{}", 2);
    assert_null(r.user);
    assert_int_equal(r.line, 2);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 1250000000);
    assert_string_equal(r.method, "PUT");
    assert_int_equal(r.body_len, 11);
    assert_memory_equal(r.body, "hello\0world", 11);
    assert_string_equal(r.user, "7");
    assert_int_equal(r.line, 5);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 2 * SQ_NS_PER_S);
    assert_string_equal(r.method, "GET"); /* default */
    assert_string_equal(r.url, "/healthz");
    assert_int_equal(r.line, 6);
    next_eof(t);
    next_eof(t);
    lg_traffic_close(t);
}

static void test_combined_fields(void **state)
{
    (void)state;
    const char *in =
        "10.0.0.1 - alice [21/Nov/2026:10:00:00 +0000] \"GET /a?uid=u1 HTTP/1.1\" 200 512 \"-\" "
        "\"curl/8.0\"\n"
        "10.0.0.2 - - [21/Nov/2026:11:00:01 +0100] \"POST /o HTTP/1.1\" 201 17 \"https://r/x\" "
        "\"Mozilla/5.0 (X11)\" rt=0.003 extra\n"
        "10.0.0.3 - bob [21/Nov/2026:04:00:02 -0600] \"GET /q\\x22x HTTP/2.0\" 200 - \"-\" "
        "\"say \\\"hi\\\"\"\n";
    lg_traffic *t = open_str(in, LG_TRAFFIC_AUTO, NULL);
    assert_int_equal(lg_traffic_format_of(t), LG_TRAFFIC_COMBINED);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "/a?uid=u1");
    assert_string_equal(r.user, "alice");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(hdr(&r, "User-Agent"), "curl/8.0");
    assert_int_equal(r.line, 1);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + SQ_NS_PER_S);
    assert_string_equal(r.method, "POST");
    assert_null(r.user);
    assert_string_equal(hdr(&r, "Referer"), "https://r/x");
    assert_string_equal(hdr(&r, "User-Agent"), "Mozilla/5.0 (X11)");
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 2 * SQ_NS_PER_S);
    assert_string_equal(r.url, "/q\"x");
    assert_string_equal(hdr(&r, "User-Agent"), "say \"hi\"");
    assert_string_equal(r.user, "bob");
    assert_int_equal(r.line, 3);
    next_eof(t);
    lg_traffic_close(t);
}

static void test_common_fields(void **state)
{
    (void)state;
    const char *in = "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n"
                     "127.0.0.1 - - [10/Oct/2000:13:55:37 -0700] \"DELETE /items/9\" 204 -\n";
    lg_traffic *t = open_str(in, LG_TRAFFIC_AUTO, NULL);
    assert_int_equal(lg_traffic_format_of(t), LG_TRAFFIC_COMMON);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, 971211336LL * SQ_NS_PER_S); /* 2000-10-10T20:55:36Z */
    assert_string_equal(r.url, "/apache_pb.gif");
    assert_string_equal(r.user, "frank");
    assert_int_equal(r.n_headers, 0);
    next_ok(t, &r);
    assert_string_equal(r.method, "DELETE");
    assert_string_equal(r.url, "/items/9");
    next_eof(t);
    lg_traffic_close(t);
}

static void test_gor_fields(void **state)
{
    (void)state;
    const char *in =
        "1 aa01 1795255200000000000 0\n"
        "GET /a?uid=u1 HTTP/1.1\r\nHost: shop\r\nCookie: sid=s1; x=y\r\n\r\n" GOR_SEP
        "2 aa01 1795255200010000000 10000000\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" GOR_SEP
        "1 aa02 1795255200500000000 0\n"
        "POST /o HTTP/1.1\r\nContent-Length: 12\r\n\r\nline1\r\nline2garbage" GOR_SEP
        "3 aa02 1795255200600000000 5\n"
        "HTTP/1.1 201 Created\r\n\r\n" GOR_SEP
        "1 aa03 1795255200700000000\n" /* old 3-field header */
        "PUT /b HTTP/1.1\nX-A:  v  \n\n\x01\x02" GOR_SEP;
    lg_traffic *t = open_str(in, LG_TRAFFIC_AUTO, NULL);
    assert_int_equal(lg_traffic_format_of(t), LG_TRAFFIC_GOR);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "/a?uid=u1");
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(hdr(&r, "Host"), "shop");
    assert_string_equal(hdr(&r, "Cookie"), "sid=s1; x=y");
    assert_int_equal(r.body_len, 0);
    assert_int_equal(r.line, 1);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 500000000);
    assert_string_equal(r.method, "POST");
    assert_int_equal(r.body_len, 12); /* Content-Length bounds it; CRLF kept */
    assert_memory_equal(r.body, "line1\r\nline2", 12);
    assert_int_equal(r.line, 14);
    next_ok(t, &r);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(hdr(&r, "X-A"), "v");
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "\x01\x02", 2);
    assert_int_equal(r.line, 26);
    next_eof(t);
    lg_traffic_close(t);
}

static void test_har_fields(void **state)
{
    (void)state;
    const char *in =
        "{\n"
        "  \"log\": {\n"
        "    \"version\": \"1.2\", \"pages\": [{\"id\": \"p\"}],\n"
        "    \"entries\": [\n"
        "      {\"startedDateTime\": \"2026-11-21T10:00:00.000Z\",\n"
        "       \"request\": {\"method\": \"GET\", \"url\": \"https://h/a?uid=u1\",\n"
        "         \"headers\": [{\"name\": \":authority\", \"value\": \"h\"}, {\"name\": \"Cookie\", "
        "\"value\": \"sid=s1\"}]}},\n"
        "      {\"startedDateTime\": \"2026-11-21T11:00:00.25+01:00\",\n"
        "       \"request\": {\"method\": \"POST\", \"url\": \"https://h/o\", \"headers\": [],\n"
        "         \"postData\": {\"mimeType\": \"application/json\", \"text\": \"{\\\"u\\\":1}\"}}}\n"
        "    ]\n"
        "  }\n"
        "}\n";
    lg_traffic *t = open_str(in, LG_TRAFFIC_AUTO, NULL);
    assert_int_equal(lg_traffic_format_of(t), LG_TRAFFIC_HAR);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0);
    assert_string_equal(r.url, "https://h/a?uid=u1");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(hdr(&r, "Cookie"), "sid=s1");
    assert_int_equal(r.line, 5);
    next_ok(t, &r);
    assert_int_equal(r.ts_ns, T0 + 250000000);
    assert_string_equal(r.method, "POST");
    assert_int_equal(r.body_len, 7);
    assert_memory_equal(r.body, "{\"u\":1}", 7);
    assert_int_equal(r.line, 8);
    next_eof(t);
    lg_traffic_close(t);
}

static void test_detect(void **state)
{
    (void)state;
    assert_int_equal(lg_traffic_detect("{\"ts\":1}", 8, "x"), LG_TRAFFIC_JSONL);
    assert_int_equal(lg_traffic_detect("\xEF\xBB\xBF {\n \"log\": {", 15, "x"), LG_TRAFFIC_HAR);
    assert_int_equal(lg_traffic_detect("{\n", 2, "a.har"), LG_TRAFFIC_HAR);
    assert_int_equal(lg_traffic_detect("1 ab 123 4\nGET", 14, "x"), LG_TRAFFIC_GOR);
    const char *c = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"ua\"\n";
    assert_int_equal(lg_traffic_detect(c, strlen(c), "x"), LG_TRAFFIC_COMBINED);
    const char *m = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1\n";
    assert_int_equal(lg_traffic_detect(m, strlen(m), "x"), LG_TRAFFIC_COMMON);
    assert_int_equal(lg_traffic_detect("", 0, "x"), LG_TRAFFIC_JSONL);
    assert_int_equal(lg_traffic_detect("", 0, "x.gor"), LG_TRAFFIC_GOR);
    assert_int_equal(lg_traffic_detect("garbage\n", 8, "x.log"), LG_TRAFFIC_COMBINED);
    assert_int_equal(lg_traffic_detect("garbage\n", 8, "x"), LG_TRAFFIC_AUTO);
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    assert_int_equal(lg_traffic_open_mem("garbage\n", 8, "g.txt", LG_TRAFFIC_AUTO, NULL, &t, &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "g.txt: cannot tell the traffic format"));
    assert_int_equal(lg_traffic_open("/nonexistent/x.jsonl", LG_TRAFFIC_AUTO, NULL, &t, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/x.jsonl: cannot open"));
}

/* Returns the user of the single request in jsonl line with key k. */
static void expect_user(const char *line, const char *k, const char *want)
{
    lg_traffic_opts o;
    sq_err err = {{0}};
    lg_traffic_opts_init(&o);
    if (lg_user_key_parse(k, &o.user_key, &err))
        fail_msg("%s", err.msg);
    lg_traffic *t = open_str(line, LG_TRAFFIC_JSONL, &o);
    lg_traffic_req r;
    next_ok(t, &r);
    if (want == NULL ? r.user != NULL : (r.user == NULL || strcmp(r.user, want) != 0))
        fail_msg("user key %s: got '%s', want '%s'", k, r.user ? r.user : "(none)",
                 want ? want : "(none)");
    lg_traffic_close(t);
}

static void test_user_keys(void **state)
{
    (void)state;
    const char *l = "{\"ts\":1,\"url\":\"/a?x=1&uid=u%201&y\",\"user\":\"own\",\"headers\":"
                    "{\"X-User\":\"hu\",\"Cookie\":\"a=b; sid=cs;c\"},\"body\":"
                    "\"{\\\"u\\\":{\\\"id\\\":\\\"ju\\\",\\\"n\\\":42,\\\"a/b\\\":\\\"sl\\\","
                    "\\\"l\\\":[\\\"z0\\\",\\\"z1\\\"]}}\"}";
    expect_user(l, "header:x-user", "hu");
    expect_user(l, "header:X-Other", NULL);
    expect_user(l, "query:uid", "u%201");
    expect_user(l, "query:y", "");
    expect_user(l, "query:ui", NULL);
    expect_user(l, "cookie:sid", "cs");
    expect_user(l, "cookie:c", "");
    expect_user(l, "cookie:none", NULL);
    expect_user(l, "json:/u/id", "ju");
    expect_user(l, "json:/u/n", "42");
    expect_user(l, "json:/u/a~1b", "sl");
    expect_user(l, "json:/u/l/1", "z1");
    expect_user(l, "json:/u/l/x", NULL);
    expect_user(l, "json:/u", NULL); /* an object is not an id */
    expect_user("{\"ts\":1,\"url\":\"/\",\"body\":\"not json\"}", "json:/u", NULL);
    /* without a key, the format's own user */
    lg_traffic *t = open_str(l, LG_TRAFFIC_JSONL, NULL);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_string_equal(r.user, "own");
    lg_traffic_close(t);

    lg_user_key k;
    sq_err err = {{0}};
    assert_int_equal(lg_user_key_parse("header:X-Id", &k, &err), 0);
    assert_int_equal(k.kind, LG_USER_KEY_HEADER);
    assert_int_equal(lg_user_key_parse("json:id", &k, &err), -EINVAL);
    assert_int_equal(lg_user_key_parse("query:", &k, &err), -EINVAL);
    assert_int_equal(lg_user_key_parse("ip:x", &k, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "header:NAME"));
}

/* Builds JSON Lines with the given timestamps (ms after T0), url "/N". */
static char *jsonl_ts(const int64_t *ms, size_t n)
{
    size_t cap = n * 80 + 1, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "{\"ts_ns\":%lld,\"url\":\"/%zu\"}\n",
                                (long long)(T0 + ms[i] * SQ_NS_PER_MS), i);
    return s;
}

static void test_reorder_within_window(void **state)
{
    (void)state;
    const int64_t ms[] = {0, 2000, 1000, 9500, 3000, 3000, 12000, 11000, 2500 + 9000};
    char *in = jsonl_ts(ms, sizeof ms / sizeof ms[0]);
    lg_traffic *t = open_str(in, LG_TRAFFIC_JSONL, NULL);
    lg_traffic_req r;
    const char *want[] = {"/0", "/2", "/1", "/4", "/5", "/3", "/7", "/8", "/6"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        next_ok(t, &r);
        assert_string_equal(r.url, want[i]);
    }
    next_eof(t);
    lg_traffic_close(t);
    free(in);
}

static void test_reorder_beyond_window(void **state)
{
    (void)state;
    /* /4 (at 4 s) comes after /1 (at 5 s) was released, when /3 (16 s) came */
    const int64_t ms[] = {0, 5000, 15000, 16000, 4000};
    char *in = jsonl_ts(ms, 5);
    lg_traffic *t = open_str(in, LG_TRAFFIC_JSONL, NULL);
    lg_traffic_req r;
    sq_err err = {{0}};
    next_ok(t, &r);
    assert_string_equal(r.url, "/0");
    next_ok(t, &r);
    assert_string_equal(r.url, "/1");
    assert_int_equal(lg_traffic_next(t, &r, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "mem:5: timestamp 2026-11-21T10:00:04.000Z is earlier than"));
    assert_non_null(strstr(err.msg, "reorder window (10s or 100000 requests)"));
    lg_traffic_close(t);

    /* with skip_bad it is counted as late and the rest is read */
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    o.skip_bad = 1;
    t = open_str(in, LG_TRAFFIC_JSONL, &o);
    const char *want[] = {"/0", "/1", "/2", "/3"};
    for (size_t i = 0; i < 4; i++) {
        next_ok(t, &r);
        assert_string_equal(r.url, want[i]);
    }
    next_eof(t);
    assert_int_equal(lg_traffic_skipped(t), 1);
    assert_int_equal(lg_traffic_skipped_late(t), 1);
    lg_traffic_close(t);

    /* a 2-request window: the count bound releases early */
    const int64_t ms2[] = {100, 300, 200, 0};
    free(in);
    in = jsonl_ts(ms2, 4);
    lg_traffic_opts_init(&o);
    o.window_max = 2;
    t = open_str(in, LG_TRAFFIC_JSONL, &o);
    next_ok(t, &r);
    assert_string_equal(r.url, "/0");
    assert_int_equal(lg_traffic_next(t, &r, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "mem:4: "));
    lg_traffic_close(t);
    /* a 100 ms window */
    lg_traffic_opts_init(&o);
    o.window_ns = 100 * SQ_NS_PER_MS;
    t = open_str(in, LG_TRAFFIC_JSONL, &o);
    next_ok(t, &r);
    assert_string_equal(r.url, "/0");
    assert_int_equal(lg_traffic_next(t, &r, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "mem:4: "));
    assert_non_null(strstr(err.msg, "(100ms or"));
    lg_traffic_close(t);
    free(in);
}

static void test_skip_bad_counts(void **state)
{
    (void)state;
    const char *in = "{\"ts\":1,\"url\":\"/a\"}\n"
                     "not json\n"
                     "{\"ts\":2}\n"
                     "{\"ts\":3,\"url\":\"/b\"}\n"
                     "[1]\n";
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    o.skip_bad = 1;
    lg_traffic *t = open_str(in, LG_TRAFFIC_JSONL, &o);
    lg_traffic_req r;
    next_ok(t, &r);
    assert_string_equal(r.url, "/a");
    next_ok(t, &r);
    assert_string_equal(r.url, "/b");
    assert_int_equal(r.line, 4);
    next_eof(t);
    assert_int_equal(lg_traffic_skipped(t), 3);
    assert_int_equal(lg_traffic_skipped_late(t), 0);
    lg_traffic_close(t);
}

static void test_empty_inputs(void **state)
{
    (void)state;
    for (int f = LG_TRAFFIC_JSONL; f <= LG_TRAFFIC_GOR; f++) {
        lg_traffic *t = NULL;
        sq_err err = {{0}};
        assert_int_equal(lg_traffic_open_mem("", 0, "e", (enum lg_traffic_format)f, NULL, &t, &err), 0);
        next_eof(t);
        lg_traffic_close(t);
        t = open_str("\n\n", (enum lg_traffic_format)f, NULL);
        next_eof(t);
        lg_traffic_close(t);
    }
    lg_traffic *t = open_str("{\"log\":{\"entries\":[]}}", LG_TRAFFIC_AUTO, NULL);
    next_eof(t);
    lg_traffic_close(t);
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = LG_TRAFFIC_LINE_MAX + 100;
    char *in = malloc(n + 64);
    assert_non_null(in);
    memset(in, 'x', n);
    strcpy(in + n, "\n{\"ts\":1,\"url\":\"/ok\"}\n");
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    assert_int_equal(lg_traffic_open_mem(in, strlen(in), "big", LG_TRAFFIC_JSONL, NULL, &t, &err), 0);
    lg_traffic_req r;
    assert_int_equal(lg_traffic_next(t, &r, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "big:1: line longer than"));
    next_ok(t, &r); /* readable on after -EBADMSG */
    assert_string_equal(r.url, "/ok");
    assert_int_equal(r.line, 2);
    lg_traffic_close(t);
    free(in);
}

static void test_rfc3339_and_b64(void **state)
{
    (void)state;
    int64_t ns;
    const char *ok[] = {"2026-11-21T10:00:00Z", "2026-11-21t10:00:00z", "2026-11-21 10:00:00Z",
                        "2026-11-21T11:30:00+01:30", "2026-11-21T09:00:00-0100",
                        "2026-11-21T10:00:00.0000000001Z"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(lg_traffic_parse_rfc3339(ok[i], strlen(ok[i]), &ns), 0);
        assert_int_equal(ns, T0);
    }
    const char *bad[] = {"2026-11-21T10:00:00", "2026-13-21T10:00:00Z", "2026-11-21T10:00Z",
                         "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00Zx", "2026-11-21T10:00:00+1",
                         "1969-12-31T23:59:59Z", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lg_traffic_parse_rfc3339(bad[i], strlen(bad[i]), &ns) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    unsigned char out[32];
    size_t n;
    assert_int_equal(lg_traffic_b64_decode("aGk=", 4, out, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(lg_traffic_b64_decode("aGk", 3, out, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(lg_traffic_b64_decode("-_8=", 4, out, &n), 0);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(lg_traffic_b64_decode("a", 1, out, &n), -EINVAL);
    assert_int_equal(lg_traffic_b64_decode("aG=k", 4, out, &n), -EINVAL);
    assert_int_equal(lg_traffic_b64_decode("a*==", 4, out, &n), -EINVAL);
}

static void test_format_names(void **state)
{
    (void)state;
    enum lg_traffic_format f;
    sq_err err = {{0}};
    const char *names[] = {"auto", "jsonl", "combined", "common", "gor", "har"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(lg_traffic_format_parse(names[i], &f, &err), 0);
        assert_int_equal(f, i);
        assert_string_equal(lg_traffic_format_name(f), names[i]);
    }
    assert_int_equal(lg_traffic_format_parse("csv", &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'csv' is not a traffic format"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_fields),
        cmocka_unit_test(test_combined_fields),
        cmocka_unit_test(test_common_fields),
        cmocka_unit_test(test_gor_fields),
        cmocka_unit_test(test_har_fields),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_user_keys),
        cmocka_unit_test(test_reorder_within_window),
        cmocka_unit_test(test_reorder_beyond_window),
        cmocka_unit_test(test_skip_bad_counts),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_rfc3339_and_b64),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
