/* traffic_harness.h — the body shared by the traffic readers' libFuzzer
 * harnesses (fuzz_traffic_<format>.c), which define FUZZ_TRAFFIC_NAME
 * ("gor") and FUZZ_TRAFFIC_FORMAT (LG_TRAFFIC_GOR) and include this file.
 *
 * The first input byte is a control byte: bits 0..2 pick the user key
 * (none, header, query, cookie, json pointer), bits 3..5 a small reorder
 * window (1..8 requests, so the out-of-order path is reached), bit 6
 * format auto instead of the harness's own. The rest is the file. Nothing
 * may crash, and abort() marks a broken invariant:
 *   - with skip_bad every request is yielded in timestamp order, with a
 *     method, a URL, a 1-based line, named headers and a NUL after the
 *     body; the reader ends (0) and counts what it skipped;
 *   - without skip_bad, errors are -EBADMSG (or fatal at open) with one
 *     line "fuzz:LINE: ..." and reading on after -EBADMSG is allowed;
 *     it yields exactly the requests of the skip_bad pass.
 */
#ifndef FUZZ_TRAFFIC_HARNESS_H
#define FUZZ_TRAFFIC_HARNESS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/traffic.h"

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_traffic_" FUZZ_TRAFFIC_NAME ": invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                                  \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static const char *const user_keys[] = {NULL, "header:X-User", "query:uid", "cookie:sid",
                                        "json:/user/id", "json:/0", NULL, NULL};

/* Reads the whole input once; returns the number of requests yielded and
 * checks the per-request invariants. */
static uint64_t pass(const uint8_t *data, size_t size, const lg_traffic_opts *o,
                     enum lg_traffic_format f, int skip)
{
    lg_traffic_opts opts = *o;
    opts.skip_bad = skip;
    lg_traffic *t = NULL;
    sq_err err = {{0}};
    int rc = lg_traffic_open_mem(data, size, "fuzz", f, &opts, &t, &err);
    if (rc) {
        CHECK(t == NULL);
        CHECK(strncmp(err.msg, "fuzz:", 5) == 0 && !strchr(err.msg, '\n'));
        return 0;
    }
    uint64_t n = 0, errors = 0;
    int64_t last = INT64_MIN;
    lg_traffic_req r;
    for (;;) {
        err.msg[0] = '\0';
        rc = lg_traffic_next(t, &r, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            CHECK(rc == -EBADMSG && !skip);
            CHECK(strncmp(err.msg, "fuzz:", 5) == 0 && !strchr(err.msg, '\n'));
            CHECK(++errors < 1000000);
            continue;
        }
        CHECK(rc == 1);
        CHECK(r.ts_ns >= last);
        last = r.ts_ns;
        CHECK(r.method && r.method[0]);
        CHECK(r.url && r.url[0]);
        CHECK(r.line >= 1);
        CHECK(r.body && r.body[r.body_len] == '\0');
        for (size_t i = 0; i < r.n_headers; i++)
            CHECK(r.headers[i].name[0] && r.headers[i].value);
        n++;
    }
    if (skip)
        CHECK(lg_traffic_skipped(t) >= lg_traffic_skipped_late(t));
    else
        CHECK(lg_traffic_skipped(t) == 0);
    lg_traffic_close(t);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    const char *key = user_keys[ctl & 7];
    if (key && lg_user_key_parse(key, &o.user_key, NULL) != 0)
        abort();
    o.window_max = 1 + ((ctl >> 3) & 7);
    enum lg_traffic_format f = (ctl & 0x40) ? LG_TRAFFIC_AUTO : FUZZ_TRAFFIC_FORMAT;
    uint64_t a = pass(data + 1, size - 1, &o, f, 1);
    uint64_t b = pass(data + 1, size - 1, &o, f, 0);
    CHECK(a == b);
    return 0;
}

#endif
