/* test_traffic_errors.c — malformed input in every traffic format: each
 * bad record is reported as "FILE:LINE: what was expected" (-EBADMSG), the
 * reader goes on after it, and --skip-bad counts it. */
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

#define GOR_SEP "\n\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89\n"

typedef struct bad_case {
    const char *input;   /* good records around one bad one */
    const char *prefix;  /* "mem:LINE: " */
    const char *message; /* a substring of what was expected */
} bad_case;

/* Reads input as format f and checks that exactly one record is bad, with
 * the expected message, that the good ones are still read around it (with
 * and without skip_bad), and that skip_bad counts it. */
static void check_case(enum lg_traffic_format f, const bad_case *c, size_t good)
{
    for (int skip = 0; skip < 2; skip++) {
        lg_traffic_opts o;
        lg_traffic_opts_init(&o);
        o.skip_bad = skip;
        lg_traffic *t = NULL;
        sq_err err = {{0}};
        int rc = lg_traffic_open_mem(c->input, strlen(c->input), "mem", f, &o, &t, &err);
        if (rc)
            fail_msg("open: %s", err.msg);
        lg_traffic_req r;
        size_t got = 0, errors = 0;
        while ((rc = lg_traffic_next(t, &r, &err)) != 0) {
            if (rc == 1) {
                got++;
                continue;
            }
            if (rc != -EBADMSG)
                fail_msg("fatal %d: %s", rc, err.msg);
            errors++;
            if (strncmp(err.msg, c->prefix, strlen(c->prefix)) != 0 || !strstr(err.msg, c->message))
                fail_msg("input %.60s...: got '%s', want '%s...%s...'", c->input, err.msg, c->prefix,
                         c->message);
            if (strchr(err.msg, '\n'))
                fail_msg("message on more than one line: %s", err.msg);
        }
        if (got != good || errors != (skip ? 0u : 1u) || lg_traffic_skipped(t) != (skip ? 1u : 0u))
            fail_msg("input %.60s...: skip %d: %zu good (want %zu), %zu errors, %llu skipped", c->input,
                     skip, got, good, errors, (unsigned long long)lg_traffic_skipped(t));
        lg_traffic_close(t);
    }
}

#define J_OK "{\"ts\":1,\"url\":\"/ok\"}\n"

static void test_jsonl_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {J_OK "not json\n" J_OK, "mem:2: ", "expected one JSON object per line"},
        {J_OK J_OK "[1, 2]\n", "mem:3: ", "expected a JSON object, not an array"},
        {"\n" J_OK "{\"url\": \"/\"}\n", "mem:3: ", "expected a timestamp"},
        {"{\"ts\": \"yesterday\", \"url\": \"/\"}\n" J_OK, "mem:1: ", "\"ts\": expected an RFC 3339"},
        {J_OK "{\"ts_ns\": -5, \"url\": \"/\"}", "mem:2: ", "\"ts_ns\": expected a non-negative"},
        {J_OK "{\"ts\": 1}\n", "mem:2: ", "\"url\": expected a non-empty string"},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"method\": \"GE T\"}\n", "mem:2: ", "\"method\""},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"headers\": {\"a\": 1}}\n", "mem:2: ", "\"headers\""},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"headers\": [[\"a\"]]}\n", "mem:2: ", "\"headers\"[0]"},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"body_b64\": \"!!\"}\n", "mem:2: ", "\"body_b64\""},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"body\": 5}\n", "mem:2: ", "\"body\": expected a string"},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"user\": [1]}\n", "mem:2: ", "\"user\""},
        {J_OK "{\"ts\": 1, \"ts\": 2, \"url\": \"/\"}\n", "mem:2: ", "duplicate"},
        {J_OK "{\"ts\": 1, \"url\": \"/a b\"}\n", "mem:2: ", "\"url\": contains a space"},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"headers\": {\"X\": \"a\\r\\nY: b\"}}\n", "mem:2: ",
         "\"headers\": 'X': header value with CR, LF or NUL"},
        {J_OK "{\"ts\": 1, \"url\": \"/\", \"headers\": [[\"X Y\", \"a\"]]}\n", "mem:2: ",
         "\"headers\"[0]: header name with a space"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t good = 0;
        for (const char *p = cases[i].input; (p = strstr(p, "/ok")); p++)
            good++;
        check_case(LG_TRAFFIC_JSONL, &cases[i], good);
    }
}

#define C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET /ok HTTP/1.1\" 200 5 \"-\" \"ua\"\n"

static void test_combined_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {C_OK "garbage\n" C_OK, "mem:2: ", "expected a combined log line"},
        {C_OK "1.2.3.4 - - 21/Nov/2026:10:00:00 \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n", "mem:2: ",
         "expected [TIME]"},
        {C_OK "1.2.3.4 - - [32/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n",
         "mem:2: ", "bad time '32/Nov/2026:10:00:00 +0000'"},
        {C_OK "1.2.3.4 - - [21/Foo/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n",
         "mem:2: ", "bad time"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] GET / HTTP/1.1 200 5 \"-\" \"ua\"\n", "mem:2: ",
         "expected the quoted request"},
        {"1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"-\" 400 0 \"-\" \"-\"\n" C_OK, "mem:1: ",
         "bad request '-'"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"\\x16\\x03\\x01\" 400 0 \"-\" \"-\"\n",
         "mem:2: ", "bad request"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / FTP/1\" 200 5 \"-\" \"ua\"\n", "mem:2: ",
         "bad request"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 20 5 \"-\" \"ua\"\n", "mem:2: ",
         "3-digit status"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5x \"-\" \"ua\"\n",
         "mem:2: ", "response size"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"a\\x0D\\x0Ab\"\n",
         "mem:2: ", "User-Agent: header value with CR, LF or NUL"},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET /a\\x0Db HTTP/1.1\" 200 5 \"-\" \"u\"\n",
         "mem:2: ", "bad request"},
        {C_OK C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n", "mem:3: ",
         "\"REFERER\" \"USER-AGENT\""},
        {C_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\n",
         "mem:2: ", "\"REFERER\" \"USER-AGENT\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t good = 0;
        for (const char *p = cases[i].input; (p = strstr(p, "/ok")); p++)
            good++;
        check_case(LG_TRAFFIC_COMBINED, &cases[i], good);
    }
}

#define M_OK "1.2.3.4 - u [21/Nov/2026:10:00:00 +0000] \"GET /ok HTTP/1.1\" 200 5\n"

static void test_common_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {M_OK "- -\n" M_OK, "mem:2: ", "expected a common log line"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000\n", "mem:2: ", "expected ']'"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00] \"GET / HTTP/1.1\" 200 5\n", "mem:2: ", "bad time"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:25:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n", "mem:2: ",
         "bad time"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1 200 5\n", "mem:2: ",
         "expected the quoted request"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET\" 200 5\n", "mem:2: ", "bad request 'GET'"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" abc 5\n", "mem:2: ",
         "3-digit status"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200\n", "mem:2: ",
         "response size"},
        {M_OK "1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 junk\n", "mem:2: ",
         "unexpected text after the size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t good = 0;
        for (const char *p = cases[i].input; (p = strstr(p, "/ok")); p++)
            good++;
        check_case(LG_TRAFFIC_COMMON, &cases[i], good);
    }
}

#define G_OK(id) "1 " id " 1795255200000000000 0\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n" GOR_SEP

static void test_gor_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        /* G_OK spans 6 lines (header, 3 request lines, the separator's 2) */
        {G_OK("a") "x y z\nGET / HTTP/1.1\r\n\r\n" GOR_SEP G_OK("b"), "mem:7: ",
         "expected a GoReplay record header"},
        {G_OK("a") "1 id notdigits 0\nGET / HTTP/1.1\r\n\r\n" GOR_SEP, "mem:7: ",
         "expected a GoReplay record header"},
        {"4 id 1 0\nGET / HTTP/1.1\r\n\r\n" GOR_SEP G_OK("b"), "mem:1: ", "TYPE 1, 2 or 3"},
        {G_OK("a") "1 id 1795255200000000000 0\ngarbage" GOR_SEP, "mem:7: ",
         "expected an HTTP request line"},
        {G_OK("a") "1 id 1795255200000000000 0\nGET /\r\n\r\n" GOR_SEP, "mem:7: ",
         "expected an HTTP request line"},
        {G_OK("a") "1 id 1795255200000000000 0\nGET / HTTP/1.1\r\nNoColon\r\n\r\n" GOR_SEP G_OK("c"),
         "mem:7: ", "bad header line 'NoColon'"},
        {G_OK("a") "1 id 1795255200000000000 0\nPOST / HTTP/1.1\r\nContent-Length: x\r\n\r\nab" GOR_SEP,
         "mem:7: ", "bad Content-Length 'x'"},
        {G_OK("a") "1 id 1795255200000000000 0\nG\"T / HTTP/1.1\r\n\r\n" GOR_SEP, "mem:7: ", "bad method"},
        {G_OK("a") "1 id 1795255200000000000 0\nGET / HTTP/1.1\r\nBad Name: v\r\n\r\n" GOR_SEP,
         "mem:7: ", "bad header 'Bad Name': header name with a space"},
        {G_OK("a") "1 id 1795255200000000000 0\nGET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n" GOR_SEP,
         "mem:7: ", "bad header 'X-A': header value with CR, LF or NUL"},
        {G_OK("a") "1 id 1795255200000000000 0\nGET /a\x01b HTTP/1.1\r\n\r\n" GOR_SEP, "mem:7: ",
         "the request target contains a space or a control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t good = 0;
        for (const char *p = cases[i].input; (p = strstr(p, "/ok")); p++)
            good++;
        check_case(LG_TRAFFIC_GOR, &cases[i], good);
    }
}

#define H_HEAD "{\"log\": {\"entries\": [\n"
#define H_OK "{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": \"GET\", \"url\": \"/ok\"}}"
#define H_TAIL "\n]}}\n"

static void test_har_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {H_HEAD H_OK ",\n5" H_TAIL, "mem:3: ", "log.entries[1]: expected an object"},
        {H_HEAD H_OK ",\n" H_OK ",\n{\"request\": {\"method\": \"GET\", \"url\": \"/\"}}" H_TAIL, "mem:4: ",
         "log.entries[2].startedDateTime: expected an ISO 8601 time"},
        {H_HEAD "{\"startedDateTime\": \"2026-11-21\", \"request\": {}},\n" H_OK H_TAIL, "mem:2: ",
         "startedDateTime"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\"}" H_TAIL, "mem:3: ",
         "log.entries[1].request: expected an object"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": 1, "
                "\"url\": \"/\"}}" H_TAIL,
         "mem:3: ", "request.method"},
        {H_HEAD H_OK ",\n  {\"startedDateTime\": \"2026-11-21T10:00:00Z\",\n \"request\": {\"method\": "
                "\"GET\", \"url\": \"\"}}" H_TAIL,
         "mem:3: ", "request.url"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": "
                "\"GET\", \"url\": \"/\", \"headers\": [{\"value\": \"x\"}]}}" H_TAIL,
         "mem:3: ", "request.headers[0]"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": "
                "\"GET\", \"url\": \"/\", \"postData\": {\"text\": 5}}}" H_TAIL,
         "mem:3: ", "postData.text"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": "
                "\"GET\", \"url\": \"/a b\"}}" H_TAIL,
         "mem:3: ", "request.url: contains a space"},
        {H_HEAD H_OK ",\n{\"startedDateTime\": \"2026-11-21T10:00:00Z\", \"request\": {\"method\": "
                "\"GET\", \"url\": \"/\", \"headers\": [{\"name\": \"X\", \"value\": \"a\\nb\"}]}}" H_TAIL,
         "mem:3: ", "request.headers[0]: header value with CR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t good = 0;
        for (const char *p = cases[i].input; (p = strstr(p, "/ok")); p++)
            good++;
        check_case(LG_TRAFFIC_HAR, &cases[i], good);
    }
}

/* A HAR document that is not JSON, or has no log.entries, is fatal. */
static void test_har_fatal(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"{\"log\": {\"entries\": [\n{,}\n]}}", "mem:2: expected a HAR JSON document"},
        {"{\"log\": {}}", "mem:1: expected a HAR document {\"log\": {\"entries\""},
        {"[]", "mem:1: expected a HAR document"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg_traffic *t = NULL;
        sq_err err = {{0}};
        int rc = lg_traffic_open_mem(bad[i][0], strlen(bad[i][0]), "mem", LG_TRAFFIC_HAR, NULL, &t, &err);
        assert_int_equal(rc, -EBADMSG);
        assert_null(t);
        if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
            fail_msg("got '%s', want '%s'", err.msg, bad[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_errors),   cmocka_unit_test(test_combined_errors),
        cmocka_unit_test(test_common_errors),  cmocka_unit_test(test_gor_errors),
        cmocka_unit_test(test_har_errors),     cmocka_unit_test(test_har_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
