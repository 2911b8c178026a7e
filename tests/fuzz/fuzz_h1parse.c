/* fuzz_h1parse.c — libFuzzer harness for loadgen/h1parse.c.
 *
 * The first input byte is a control byte: bit 7 = HEAD request, bits 0..6
 * pick a split position (0..127 scaled to the response length). The rest is
 * the response, fed three ways: whole, in two pieces cut at that position,
 * and byte by byte (for inputs up to 4 KiB); then the connection is closed
 * (lg_h1_resp_eof). Nothing may crash, and abort() marks a broken
 * invariant:
 *   - every way gives the same result: return codes, bytes consumed, the
 *     parsed fields and the error messages, for the feeds and for eof;
 *   - a feed consumes at most what it is given, and less only once done;
 *     after done, a feed consumes nothing and eof succeeds;
 *   - errors are -EBADMSG (feed) or -EPIPE (eof) with a one-line message;
 *   - a finished response has a status in 200..599 and no body for HEAD,
 *     204 and 304, and exactly Content-Length bytes when that framed it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/h1parse.h"

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_h1parse: invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                              \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* What one way of feeding gave. */
typedef struct result {
    long rc, eof_rc;
    size_t consumed;
    int status, done, keep_alive;
    int64_t content_length;
    uint64_t body_bytes;
    char msg[SQ_ERR_MAX], eof_msg[SQ_ERR_MAX];
} result;

/* Checks that an error message is one non-empty line. */
static void check_msg(const char *m)
{
    CHECK(m[0] != '\0');
    CHECK(strchr(m, '\n') == NULL);
}

/* Feeds data[0..len) in pieces of `step` bytes, except that a positive
 * `cut` makes exactly two pieces [0, cut) and [cut, len); then calls eof.
 * Fills *out and checks the per-run invariants. */
static void run(result *out, lg_h1_resp *r, const char *data, size_t len, int head, size_t cut,
                size_t step)
{
    sq_err err = {{0}};
    memset(out, 0, sizeof *out);
    lg_h1_resp_init(r, head);
    size_t at = 0;
    while (at < len) {
        size_t n = cut ? (at < cut ? cut - at : len - at) : (step < len - at ? step : len - at);
        ssize_t rc = lg_h1_resp_feed(r, data + at, n, &err);
        if (rc < 0) {
            CHECK(rc == -EBADMSG);
            check_msg(err.msg);
            CHECK(!r->done);
            out->rc = (long)rc;
            snprintf(out->msg, sizeof out->msg, "%s", err.msg);
            break;
        }
        CHECK((size_t)rc <= n);
        out->consumed += (size_t)rc;
        if ((size_t)rc < n) {
            CHECK(r->done);
            break;
        }
        at += n;
    }
    if (r->done) {
        CHECK(lg_h1_resp_feed(r, data, len, &err) == 0);
        CHECK(r->status >= 200 && r->status <= 599);
        if (head || r->status == 204 || r->status == 304)
            CHECK(r->body_bytes == 0);
    }
    int was_done = r->done;
    err.msg[0] = '\0';
    out->eof_rc = lg_h1_resp_eof(r, &err);
    snprintf(out->eof_msg, sizeof out->eof_msg, "%s", err.msg);
    if (was_done)
        CHECK(out->eof_rc == 0);
    if (out->rc)
        CHECK(out->eof_rc == -EBADMSG);
    else if (out->eof_rc)
        CHECK(out->eof_rc == -EPIPE && !r->done);
    if (out->eof_rc)
        check_msg(err.msg);
    if (out->eof_rc == 0) {
        CHECK(r->done);
        if (!was_done)
            CHECK(!r->keep_alive);
    }
    out->status = r->status;
    out->done = r->done;
    out->keep_alive = r->keep_alive;
    out->content_length = r->content_length;
    out->body_bytes = r->body_bytes;
}

/* Checks that two ways of feeding gave the same result. */
static void same(const result *a, const result *b)
{
    CHECK(a->rc == b->rc);
    CHECK(a->eof_rc == b->eof_rc);
    CHECK(strcmp(a->msg, b->msg) == 0);
    CHECK(strcmp(a->eof_msg, b->eof_msg) == 0);
    CHECK(a->done == b->done);
    if (a->rc == 0) {
        CHECK(a->consumed == b->consumed);
        CHECK(a->status == b->status);
        CHECK(a->keep_alive == b->keep_alive);
        CHECK(a->content_length == b->content_length);
        CHECK(a->body_bytes == b->body_bytes);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int head = (data[0] & 0x80) != 0;
    const char *resp = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = (size_t)(((uint64_t)(data[0] & 0x7f) * len) / 127);

    lg_h1_resp *r = malloc(sizeof *r);
    if (!r)
        return 0;
    result whole, split, bytes;
    run(&whole, r, resp, len, head, 0, len ? len : 1);
    /* framed by Content-Length (peeking at the private r->chunked: 0 means
     * no Transfer-Encoding): exactly that many body bytes */
    if (whole.done && whole.rc == 0 && whole.content_length >= 0 && !head && r->chunked == 0 &&
        whole.status != 204 && whole.status != 304)
        CHECK(whole.body_bytes == (uint64_t)whole.content_length);
    if (cut > 0 && cut < len) {
        run(&split, r, resp, len, head, cut, 0);
        same(&whole, &split);
    }
    if (len <= 4096) {
        run(&bytes, r, resp, len, head, 0, 1);
        same(&whole, &bytes);
    }
    free(r);
    return 0;
}
