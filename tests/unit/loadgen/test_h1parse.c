/* test_h1parse.c — the streaming HTTP/1.1 response parser: framing, 1xx
 * skipping, keep-alive rules, malformed input, truncation and limits, each
 * case fed whole, split at every byte boundary (and every pair of
 * boundaries for short inputs) and byte by byte, with identical results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/h1parse.h"

/* What one run of the parser over an input gave. */
typedef struct outcome {
    ssize_t rc;      /* last feed result when negative, else 0 */
    size_t consumed; /* bytes consumed over all feeds */
    int status, done, keep_alive;
    int64_t content_length;
    uint64_t body_bytes;
    int eof_rc; /* lg_h1_resp_eof result (when asked for) */
    char msg[SQ_ERR_MAX];
    char eof_msg[SQ_ERR_MAX];
} outcome;

/* Feeds in[0..len) cut at the sorted offsets cuts[0..ncuts) (the parser
 * sees one feed per piece, stopping at an error or once a feed consumes
 * less than given), then calls eof when with_eof. */
static void run(outcome *o, const char *in, size_t len, int head, const size_t *cuts,
                size_t ncuts, int with_eof)
{
    static lg_h1_resp r; /* large (8 KiB line buffer): kept off the stack */
    sq_err err = {{0}};
    memset(o, 0, sizeof *o);
    lg_h1_resp_init(&r, head);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        ssize_t rc = lg_h1_resp_feed(&r, in + at, end - at, &err);
        if (rc < 0) {
            o->rc = rc;
            snprintf(o->msg, sizeof o->msg, "%s", err.msg);
            break;
        }
        assert_true((size_t)rc <= end - at);
        o->consumed += (size_t)rc;
        if ((size_t)rc < end - at) {
            assert_true(r.done);
            break;
        }
        at = end;
    }
    if (o->rc == 0 && r.done) {
        /* once done, nothing more is consumed */
        assert_int_equal(lg_h1_resp_feed(&r, "HTTP/1.1 200 OK\r\n", 17, &err), 0);
    }
    if (with_eof) {
        err.msg[0] = '\0';
        o->eof_rc = lg_h1_resp_eof(&r, &err);
        snprintf(o->eof_msg, sizeof o->eof_msg, "%s", err.msg);
    }
    o->status = r.status;
    o->done = r.done;
    o->keep_alive = r.keep_alive;
    o->content_length = r.content_length;
    o->body_bytes = r.body_bytes;
}

/* Fails unless a and b are the same outcome; what names the split. */
static void same(const outcome *a, const outcome *b, const char *what, size_t x, size_t y)
{
    if (a->rc != b->rc || (a->rc == 0 && a->consumed != b->consumed) || a->done != b->done ||
        a->eof_rc != b->eof_rc || strcmp(a->msg, b->msg) != 0 ||
        strcmp(a->eof_msg, b->eof_msg) != 0 ||
        (a->rc == 0 && (a->status != b->status || a->keep_alive != b->keep_alive ||
                        a->content_length != b->content_length ||
                        a->body_bytes != b->body_bytes)))
        fail_msg("%s %zu/%zu differs: rc %zd/%zd consumed %zu/%zu done %d/%d status %d/%d "
                 "ka %d/%d cl %lld/%lld body %llu/%llu eof %d/%d msg '%s'/'%s' eof '%s'/'%s'",
                 what, x, y, a->rc, b->rc, a->consumed, b->consumed, a->done, b->done,
                 a->status, b->status, a->keep_alive, b->keep_alive,
                 (long long)a->content_length, (long long)b->content_length,
                 (unsigned long long)a->body_bytes, (unsigned long long)b->body_bytes,
                 a->eof_rc, b->eof_rc, a->msg, b->msg, a->eof_msg, b->eof_msg);
}

/* Runs in[0..len) whole into *whole, then checks that every split (every
 * stride-th boundary, every pair for short inputs) and byte-by-byte feeding
 * give the same outcome. */
static void run_all_splits(outcome *whole, const char *in, size_t len, int head, int with_eof,
                           size_t stride)
{
    outcome o;
    run(whole, in, len, head, NULL, 0, with_eof);
    for (size_t a = 0; a <= len; a += stride) {
        run(&o, in, len, head, &a, 1, with_eof);
        same(whole, &o, "split", a, a);
    }
    if (len <= 300) {
        for (size_t a = 1; a < len; a++) {
            for (size_t b = a + 1; b < len; b++) {
                size_t cuts[2] = {a, b};
                run(&o, in, len, head, cuts, 2, with_eof);
                same(whole, &o, "split pair", a, b);
            }
        }
    }
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    run(&o, in, len, head, cuts, len ? len - 1 : 0, with_eof);
    same(whole, &o, "byte by byte", 1, 1);
    free(cuts);
}

/* A complete valid response: checks the results (consumed = len - extra:
 * the last `extra` bytes are leftovers after the response). */
static void expect_ok_ex(const char *in, size_t len, int head, int status, int ka, int64_t cl,
                         uint64_t body, size_t extra)
{
    outcome o;
    run_all_splits(&o, in, len, head, 0, len > 4096 ? 61 : 1);
    if (o.rc != 0)
        fail_msg("unexpected error %zd '%s' for:\n%s", o.rc, o.msg, in);
    if (!o.done || o.status != status || o.keep_alive != ka || o.content_length != cl ||
        o.body_bytes != body || o.consumed != len - extra)
        fail_msg("got done %d status %d ka %d cl %lld body %llu consumed %zu; want status %d "
                 "ka %d cl %lld body %llu consumed %zu for:\n%s",
                 o.done, o.status, o.keep_alive, (long long)o.content_length,
                 (unsigned long long)o.body_bytes, o.consumed, status, ka, (long long)cl,
                 (unsigned long long)body, len - extra, in);
}

#define expect_ok(in, head, status, ka, cl, body) \
    expect_ok_ex((in), strlen(in), (head), (status), (ka), (cl), (body), 0)

/* A malformed response: -EBADMSG with a one-line message containing frag,
 * for every split. */
static void expect_bad_n(const char *in, size_t len, int head, const char *frag)
{
    outcome o;
    run_all_splits(&o, in, len, head, 0, len > 4096 ? 61 : 1);
    if (o.rc != -EBADMSG)
        fail_msg("want -EBADMSG '%s', got rc %zd done %d for:\n%s", frag, o.rc, o.done, in);
    if (!strstr(o.msg, frag) || strchr(o.msg, '\n'))
        fail_msg("message '%s' lacks '%s'", o.msg, frag);
}

#define expect_bad(in, frag) expect_bad_n((in), strlen(in), 0, (frag))
/* for string literals with embedded NULs */
#define expect_bad_lit(lit, frag) expect_bad_n((lit), sizeof(lit) - 1, 0, (frag))

/* A response cut by the connection closing: feeds all of in, then eof must
 * give want_rc (0 or -EPIPE) with a message containing frag. */
static void expect_eof(const char *in, int want_rc, const char *frag)
{
    outcome o;
    run_all_splits(&o, in, strlen(in), 0, 1, 1);
    assert_int_equal(o.rc, 0);
    if (o.eof_rc != want_rc || (frag && !strstr(o.eof_msg, frag)))
        fail_msg("eof: got %d '%s', want %d '%s' for:\n%s", o.eof_rc, o.eof_msg, want_rc,
                 frag ? frag : "", in);
}

static void test_content_length(void **state)
{
    (void)state;
    expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 200, 1, 5, 5);
    expect_ok("HTTP/1.1 200 OK\r\nServer: x\r\ncontent-LENGTH:5  \r\nX-A:\r\n\r\nhello", 0, 200,
              1, 5, 5);
    expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length:\t5\r\n\r\nhello", 0,
              200, 1, 5, 5);
    expect_ok("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0, 201, 1, 0, 0);
    expect_ok("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 0, 200, 1, 2, 2);
    expect_ok("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", 0, 200, 1, 2, 2);
    expect_ok("HTTP/1.1 404 Not Found\nContent-Length: 3\n\nnop", 0, 404, 1, 3, 3);
    expect_ok("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1\n\r\nx", 0, 503, 1, 1, 1);
    expect_ok("HTTP/1.1 200 OK\r\nX-Obs: caf\xc3\xa9\t and\ttabs\r\nContent-Length: 1\r\n\r\nx",
              0, 200, 1, 1, 1);
    expect_ok("HTTP/1.1 599 Whatever it is\r\nContent-Length: 00010\r\n\r\n0123456789", 0, 599,
              1, 10, 10);
}

static void test_large_body_not_copied(void **state)
{
    (void)state;
    size_t body = 200000;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n";
    size_t hl = strlen(head), len = hl + body;
    char *in = malloc(len + 1);
    assert_non_null(in);
    memcpy(in, head, hl);
    memset(in + hl, 'b', body);
    in[len] = '\0';
    expect_ok_ex(in, len, 0, 200, 1, 200000, body, 0);
    free(in);
}

static void test_chunked(void **state)
{
    (void)state;
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5;foo=bar\r\nhello\r\n6 ; a=\"b c\";x\r\n world\r\n0\r\n"
              "X-Trailer: yes\r\nAnother:1\r\n\r\n",
              0, 200, 1, -1, 11);
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
              "A\r\n0123456789\r\na\n0123456789\n00000\r\n\r\n",
              0, 200, 1, -1, 20);
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: ,chunked , \r\n"
              "\r\n1\r\nx\r\n0;end\r\n\r\n",
              0, 200, 1, -1, 1);
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 200, 1, -1,
              0);
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
              "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n",
              0, 200, 1, -1, 3);
}

static void test_chunked_big(void **state)
{
    (void)state;
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffFF\r\n";
    const char *tail = "\r\n0000000000000000\r\n\r\n";
    size_t hl = strlen(head), tl = strlen(tail), len = hl + 0xffff + tl;
    char *in = malloc(len + 1);
    assert_non_null(in);
    memcpy(in, head, hl);
    memset(in + hl, 'c', 0xffff);
    memcpy(in + hl + 0xffff, tail, tl + 1);
    expect_ok_ex(in, len, 0, 200, 1, -1, 0xffff, 0);
    free(in);
}

static void test_interim_responses(void **state)
{
    (void)state;
    expect_ok("HTTP/1.1 100 Continue\r\n\r\n"
              "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nConnection: close\r\n"
              "Content-Length: 99\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              0, 200, 1, 2, 2);
    expect_ok("HTTP/1.1 102 Processing\n\nHTTP/1.1 204 No Content\n\n", 0, 204, 1, -1, 0);
    /* 1xx then a close-delimited body stays open until eof */
    expect_eof("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nabc", 0, NULL);
    expect_eof("HTTP/1.1 100 Continue\r\n\r\n", -EPIPE, "before the status line");
}

static void test_no_body(void **state)
{
    (void)state;
    /* HEAD: the headers describe the GET body, which does not follow */
    expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1, 200, 1, 100, 0);
    expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 200, 1, -1, 0);
    expect_ok("HTTP/1.1 200 OK\r\n\r\n", 1, 200, 1, -1, 0);
    expect_ok("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 0, 204, 1, -1, 0);
    expect_ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"a\"\r\n\r\n", 0, 304,
              1, 50, 0);
    expect_ok("HTTP/1.0 304 Not Modified\r\n\r\n", 0, 304, 0, -1, 0);
}

static void test_close_delimited(void **state)
{
    (void)state;
    outcome o;
    const char *in = "HTTP/1.1 200 OK\r\nServer: old\r\n\r\nsome body";
    run_all_splits(&o, in, strlen(in), 0, 0, 1);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.consumed, strlen(in));
    assert_false(o.done);
    run_all_splits(&o, in, strlen(in), 0, 1, 1);
    assert_int_equal(o.eof_rc, 0);
    assert_true(o.done);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 9);
    assert_int_equal(o.status, 200);
    /* empty close-delimited body */
    expect_eof("HTTP/1.1 200 OK\r\n\r\n", 0, NULL);
    /* a non-chunked transfer coding: body until close */
    in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz";
    run_all_splits(&o, in, strlen(in), 0, 1, 1);
    assert_int_equal(o.eof_rc, 0);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 2);
    in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\nzzz";
    run_all_splits(&o, in, strlen(in), 0, 1, 1);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.eof_rc, 0);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 3);
}

static void test_keep_alive_rules(void **state)
{
    (void)state;
    const char *body = "Content-Length: 0\r\n\r\n";
    char in[256];
    static const struct {
        const char *status, *conn;
        int ka;
    } cases[] = {
        {"HTTP/1.1 200 OK", "", 1},
        {"HTTP/1.1 200 OK", "Connection: close\r\n", 0},
        {"HTTP/1.1 200 OK", "Connection: Close\r\n", 0},
        {"HTTP/1.1 200 OK", "Connection: foo, CLOSE\r\n", 0},
        {"HTTP/1.1 200 OK", "Connection: keep-alive\r\n", 1},
        {"HTTP/1.1 200 OK", "Connection: x-close, closed\r\n", 1},
        {"HTTP/1.1 200 OK", "Connection: keep-alive\r\nConnection: close\r\n", 0},
        {"HTTP/1.0 200 OK", "", 0},
        {"HTTP/1.0 200 OK", "Connection: keep-alive\r\n", 1},
        {"HTTP/1.0 200 OK", "Connection: Keep-Alive, Upgrade\r\n", 1},
        {"HTTP/1.0 200 OK", "Connection: keep-alive, close\r\n", 0},
        {"HTTP/1.0 200 OK", "Keep-Alive: timeout=5\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(in, sizeof in, "%s\r\n%s%s", cases[i].status, cases[i].conn, body);
        expect_ok(in, 0, 200, cases[i].ka, 0, 0);
    }
    /* both Transfer-Encoding and Content-Length: chunked wins, no reuse */
    expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\n\r\n",
              0, 200, 0, 3, 3);
    /* Transfer-Encoding in HTTP/1.0: parsed, but never reused */
    expect_ok("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
              "1\r\na\r\n0\r\n\r\n",
              0, 200, 0, -1, 1);
}

static void test_leftover_not_consumed(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
    expect_ok_ex(in, strlen(in), 0, 200, 1, 2, 2, 17);
    in = "HTTP/1.1 204 No Content\r\n\r\nXYZ";
    expect_ok_ex(in, strlen(in), 0, 204, 1, -1, 0, 3);
    in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n\r\n";
    expect_ok_ex(in, strlen(in), 0, 200, 1, -1, 1, 2);
    in = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHEAD-ONLYgarbage";
    expect_ok_ex(in, strlen(in), 1, 200, 1, 9, 0, 16);
}

static void test_malformed(void **state)
{
    (void)state;
    /* status line */
    expect_bad("HTTP/2.0 200 OK\r\n\r\n", "unsupported http version 'HTTP/2.0'");
    expect_bad("HTTP/1.2 200 OK\r\n\r\n", "unsupported http version");
    expect_bad("HTTP/1.1 20 OK\r\n\r\n", "malformed status line 'HTTP/1.1 20 OK'");
    expect_bad("HTTP/1.1 2000 OK\r\n\r\n", "malformed status line");
    expect_bad("HTTP/1.1  200 OK\r\n\r\n", "malformed status line");
    expect_bad("HTTP/1.1 200OK\r\n\r\n", "malformed status line");
    expect_bad("HTTP/1 200 OK\r\n\r\n", "malformed status line");
    expect_bad("HTTP/1.1 099 Low\r\n\r\n", "status code 099 out of range 100..599");
    expect_bad("HTTP/1.1 600 High\r\n\r\n", "status code 600 out of range");
    expect_bad("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
               "unexpected 101 switching protocols");
    expect_bad("<html><body>hi</body></html>\n", "does not start with 'HTTP/' (byte 1 is '<')");
    expect_bad("http/1.1 200 OK\r\n\r\n", "does not start with 'HTTP/'");
    expect_bad("\r\nHTTP/1.1 200 OK\r\n\r\n", "(byte 1 is '\\x0d')");
    expect_bad("HT\r\n", "(byte 3 is '\\x0d')");
    expect_bad("HTTP/1.1 200 O\x01K\r\n\r\n", "invalid byte '\\x01' in the reason phrase");
    expect_bad_lit("HTTP/1.1 200 OK\0\r\n\r\n", "invalid byte '\\x00' in the reason");
    /* header lines */
    expect_bad_lit("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n",
                   "invalid byte '\\x00' in the value of header 'X-A'");
    expect_bad("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "invalid byte '\\x0d' in the value");
    expect_bad("HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n", "invalid byte '\\x7f'");
    expect_bad("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", "obsolete line folding");
    expect_bad("HTTP/1.1 200 OK\r\n\tContent-Length: 1\r\n\r\nx", "obsolete line folding");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
               "whitespace before the colon in header line 'Content-Length : 5'");
    expect_bad("HTTP/1.1 200 OK\r\nNa(me: x\r\n\r\n", "invalid byte '(' in header name");
    expect_bad("HTTP/1.1 200 OK\r\nJustText\r\n\r\n", "header line without a colon 'JustText'");
    expect_bad("HTTP/1.1 200 OK\r\n: value\r\n\r\n", "empty header name");
    /* framing headers */
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "bad content-length 'abc'");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad content-length '-1'");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", "bad content-length '+1'");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 1 1\r\n\r\nx", "bad content-length '1 1'");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", "bad content-length");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "empty content-length");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
               "conflicting content-length values 5 and 6");
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
               "content-length '9223372036854775808' overflows");
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chu nked\r\n\r\n",
               "bad transfer-encoding 'chu nked'");
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: , \r\n\r\n", "empty transfer-encoding");
    /* chunked body */
    const char *te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char in[512];
    snprintf(in, sizeof in, "%szz\r\n", te);
    expect_bad(in, "bad chunk size 'zz'");
    snprintf(in, sizeof in, "%s\r\n", te);
    expect_bad(in, "bad chunk size ''");
    snprintf(in, sizeof in, "%s-1\r\n", te);
    expect_bad(in, "bad chunk size '-1'");
    snprintf(in, sizeof in, "%s5 x\r\nhello\r\n", te);
    expect_bad(in, "bad chunk size '5 x'");
    snprintf(in, sizeof in, "%s10000000000000000\r\n", te);
    expect_bad(in, "chunk size '10000000000000000' overflows");
    snprintf(in, sizeof in, "%s00000000000000001\r\n", te);
    expect_bad(in, "overflows (more than 16 hex digits)");
    snprintf(in, sizeof in, "%s5\r\nhelloX\r\n0\r\n\r\n", te);
    expect_bad(in, "missing crlf after chunk data (got 'X')");
    snprintf(in, sizeof in, "%s5\r\nhello\rX0\r\n\r\n", te);
    expect_bad(in, "missing crlf after chunk data (got '\\x0dX')");
    snprintf(in, sizeof in, "%s5\r\nhello\r\r\n", te);
    expect_bad(in, "missing crlf after chunk data (got '\\x0d\\x0d')");
    snprintf(in, sizeof in, "%s1;a=\x01\r\nx\r\n0\r\n\r\n", te);
    expect_bad(in, "invalid byte '\\x01' in chunk extension");
    snprintf(in, sizeof in, "%s0\r\nX-T: 1\r\n folded\r\n\r\n", te);
    expect_bad(in, "obsolete line folding in trailer line");
    snprintf(in, sizeof in, "%s0\r\nno colon\r\n\r\n", te);
    expect_bad(in, "whitespace before the colon in trailer line");
    snprintf(in, sizeof in, "%s0\r\nX: \x02\r\n\r\n", te);
    expect_bad(in, "invalid byte '\\x02' in the value of trailer 'X'");
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    lg_h1_resp r;
    sq_err err = {{0}};
    lg_h1_resp_init(&r, 0);
    assert_int_equal(lg_h1_resp_feed(&r, "XTTP/1.1", 8, &err), -EBADMSG);
    assert_int_equal(lg_h1_resp_feed(&r, "HTTP/1.1 200 OK\r\n", 17, &err), -EBADMSG);
    assert_int_equal(lg_h1_resp_feed(&r, "", 0, &err), -EBADMSG);
    assert_int_equal(lg_h1_resp_eof(&r, &err), -EBADMSG);
    assert_false(r.done);
}

static void test_quoting(void **state)
{
    (void)state;
    /* long offending input is quoted to 40 bytes, then "..." */
    outcome o;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 12345678x0123456789012345678901234567890x"
                     "\r\n\r\n";
    run(&o, in, strlen(in), 0, NULL, 0, 0);
    assert_int_equal(o.rc, -EBADMSG);
    assert_string_equal(o.msg,
                        "bad content-length '12345678x0123456789012345678901234567890...'");
    in = "HTTP/1.1 200 OK\r\nX-Bin: \\ok\x1b\r\n\r\n";
    run(&o, in, strlen(in), 0, NULL, 0, 0);
    assert_string_equal(o.msg, "invalid byte '\\x1b' in the value of header 'X-Bin'");
}

static void test_eof_truncation(void **state)
{
    (void)state;
    expect_eof("", -EPIPE, "connection closed before the status line");
    expect_eof("HTTP/1.1 2", -EPIPE, "connection closed inside the status line");
    expect_eof("HTTP/1.1 200 OK\r", -EPIPE, "connection closed inside the status line");
    expect_eof("HTTP/1.1 200 OK\r\n", -EPIPE, "connection closed inside the headers");
    expect_eof("HTTP/1.1 200 OK\r\nContent-", -EPIPE, "connection closed inside the headers");
    expect_eof("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r", -EPIPE, "inside the headers");
    expect_eof("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "012345678901234567",
               -EPIPE, "connection closed 12 bytes short of Content-Length 100");
    expect_eof("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", -EPIPE,
               "connection closed inside chunked body");
    expect_eof("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", -EPIPE,
               "inside chunked body (after 3 payload bytes)");
    expect_eof("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r", -EPIPE,
               "inside chunked body (after 5 payload bytes)");
    expect_eof("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
               -EPIPE, "inside chunked body (in the trailers)");
    /* a complete response, then the close: fine */
    expect_eof("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 0, NULL);
}

/* Builds "HTTP/1.1 200 OK\r\n" + headers of the given line lengths (each
 * line `n` bytes before its LF, CR included) + "\r\n" + "Content-Length: 0"
 * framing; returns a malloc'd buffer, its length in *len. */
static char *build_headers(const size_t *lines, size_t nlines, size_t *len)
{
    size_t cap = 64;
    for (size_t i = 0; i < nlines; i++)
        cap += lines[i] + 1;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "HTTP/1.1 200 OK\r\n");
    for (size_t i = 0; i < nlines; i++) {
        assert_true(lines[i] >= 5);
        memcpy(s + o, "X-P:", 4);
        memset(s + o + 4, 'p', lines[i] - 5);
        s[o + lines[i] - 1] = '\r';
        s[o + lines[i]] = '\n';
        o += lines[i] + 1;
    }
    memcpy(s + o, "\r\n", 3);
    *len = o + 2;
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    size_t len;
    /* one line: LG_H1_MAX_LINE bytes before the LF is the most */
    size_t one = LG_H1_MAX_LINE;
    char *s = build_headers(&one, 1, &len);
    (void)len; /* no body framing: close-delimited, ended by the close */
    expect_eof(s, 0, NULL);
    free(s);
    one = LG_H1_MAX_LINE + 1;
    s = build_headers(&one, 1, &len);
    expect_bad_n(s, len, 0, "header line longer than 8192 bytes (LG_H1_MAX_LINE)");
    free(s);
    /* a line never ended */
    s = malloc(LG_H1_MAX_LINE + 100);
    assert_non_null(s);
    memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(s + 20, 'y', LG_H1_MAX_LINE + 79);
    expect_bad_n(s, LG_H1_MAX_LINE + 99, 0, "header line longer than 8192 bytes");
    memcpy(s, "HTTP/1.1 200 ", 13);
    memset(s + 13, 'y', 20);
    expect_bad_n(s, LG_H1_MAX_LINE + 99, 0, "status line longer than 8192 bytes");
    free(s);

    /* the header section: exactly 64 KiB is fine, one more byte is not */
    size_t lines[9];
    size_t fixed = strlen("HTTP/1.1 200 OK\r\n") + 2, total = fixed;
    for (size_t i = 0; i < 8; i++) {
        lines[i] = 8000;
        total += 8001;
    }
    lines[8] = LG_H1_MAX_HEADER_BYTES - total - 1;
    s = build_headers(lines, 9, &len);
    assert_int_equal(len, LG_H1_MAX_HEADER_BYTES);
    outcome o;
    run_all_splits(&o, s, len, 1, 0, 61);
    assert_int_equal(o.rc, 0);
    assert_true(o.done);
    free(s);
    lines[8]++;
    s = build_headers(lines, 9, &len);
    expect_bad_n(s, len, 1, "header section larger than 64 KiB (LG_H1_MAX_HEADER_BYTES)");
    free(s);

    /* each 1xx section has its own budget */
    size_t half[5] = {8000, 8000, 8000, 8000, 8000};
    size_t hl;
    char *h = build_headers(half, 5, &hl);
    memcpy(h + 9, "100", 3);
    char *two = malloc(2 * hl + 1);
    assert_non_null(two);
    memcpy(two, h, hl);
    memcpy(two + hl, h, hl);
    memcpy(two + hl + 9, "204", 3);
    two[2 * hl] = '\0';
    expect_ok_ex(two, 2 * hl, 0, 204, 1, -1, 0, 0);
    free(two);
    free(h);

    /* chunk-size line and trailer section */
    const char *te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t tl = strlen(te);
    s = malloc(tl + LG_H1_MAX_LINE + 16);
    assert_non_null(s);
    memcpy(s, te, tl);
    memcpy(s + tl, "1;x=", 4);
    memset(s + tl + 4, 'e', LG_H1_MAX_LINE - 4);
    memcpy(s + tl + LG_H1_MAX_LINE, "\r\n", 2);
    expect_bad_n(s, tl + LG_H1_MAX_LINE + 2, 0,
                 "chunk-size line longer than 8192 bytes (LG_H1_MAX_LINE)");
    free(s);

    size_t tr[9];
    for (size_t i = 0; i < 9; i++)
        tr[i] = 8000;
    h = build_headers(tr, 9, &hl); /* reuse its header lines as trailers */
    s = malloc(tl + 3 + hl);
    assert_non_null(s);
    memcpy(s, te, tl);
    memcpy(s + tl, "0\r\n", 3);
    memcpy(s + tl + 3, h + 17, hl - 17);
    expect_bad_n(s, tl + 3 + hl - 17, 0, "trailer section larger than 64 KiB");
    free(s);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_large_body_not_copied),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_big),
        cmocka_unit_test(test_interim_responses),
        cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_leftover_not_consumed),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_eof_truncation),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
