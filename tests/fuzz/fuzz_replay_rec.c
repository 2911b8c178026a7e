/* fuzz_replay_rec.c — libFuzzer harness for the replay's rewriting of
 * recorded requests (loadgen/replay_rec.c) and body templates.
 *
 * The first byte picks the user key (as in traffic_harness.h) and the
 * clone count; the rest is a squall JSON Lines file. Every request read is
 * built for each clone; abort() marks a broken invariant: the target is an
 * origin-form path without spaces or control bytes, every header line is
 * "Name: value\r\n" with no other CR or LF (no header injection from the
 * file), the body length matches, and template checking and expansion of
 * the raw input never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/replay.h"

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_replay_rec: invariant failed at line %d: %s\n", __LINE__,  \
                    #cond);                                                                  \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static const char *const user_keys[] = {NULL, "header:X-User", "query:uid", "cookie:sid",
                                        "json:/user/id", "json:/u", NULL, NULL};

/* Checks the invariants of one built record. */
static void check_rec(const lg_rec *r)
{
    CHECK(r->target[0] == '/');
    for (const char *p = r->target; *p; p++)
        CHECK((unsigned char)*p > ' ' && *p != 0x7f);
    for (const char *p = r->headers; *p;) {
        const char *eol = strstr(p, "\r\n");
        CHECK(eol != NULL);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        CHECK(colon && colon > p);
        for (const char *q = p; q < eol; q++)
            CHECK(*q != '\r' && *q != '\n' && *q != '\0');
        p = eol + 2;
    }
    if (r->body)
        CHECK(r->body[r->body_len] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    uint64_t rng[2] = {1, 2};
    sq_err err;
    char *out = NULL;
    size_t out_len = 0;
    lg_template_check((const char *)data + 1, size - 1, &err);
    if (lg_template_expand((const char *)data + 1, size - 1, "tag", 3, "u", rng, &out, &out_len) == 0) {
        CHECK(out[out_len] == '\0');
        free(out);
    }
    lg_traffic_opts o;
    lg_traffic_opts_init(&o);
    o.skip_bad = 1;
    const char *key = user_keys[ctl & 7];
    if (key && lg_user_key_parse(key, &o.user_key, NULL) != 0)
        abort();
    unsigned clones = 1 + ((ctl >> 3) & 3);
    lg_traffic *t = NULL;
    if (lg_traffic_open_mem(data + 1, size - 1, "fuzz", LG_TRAFFIC_JSONL, &o, &t, &err))
        return 0;
    const char *extra[] = {"X-Extra: 1"};
    lg_rec_ctx ctx = {.run_id = "run", .tag_header = "X-Squall-Run", .extra_headers = extra,
                      .n_extra = 1, .clones = clones, .rng = rng};
    lg_traffic_req req;
    while (lg_traffic_next(t, &req, &err) == 1) {
        for (uint32_t c = 1; c <= clones; c++) {
            lg_rec *r = NULL;
            if (lg_rec_build(&req, &ctx, clones > 1 ? c : 0, 0, &r) == 0) {
                check_rec(r);
                free(r);
            }
        }
    }
    lg_traffic_close(t);
    return 0;
}
