/* fuzz_parse.c — libFuzzer harness for core/parse.c (and run id checks).
 *
 * The input, NUL-terminated, goes through every parser. None may crash, and
 * results must hold their invariants; a violated invariant abort()s so that
 * libFuzzer records the input:
 *   - success: the value is in its domain (durations >= 0, rates/speeds/bit
 *     rates > 0 and finite, fractions in 0..1, uints within bounds), and a
 *     canonical re-rendering (sq_format_duration, "%llu", "%llubit") parses
 *     back to the same value;
 *   - failure: the code is -EINVAL or -ERANGE, the output is untouched, and
 *     the message is one non-empty line that starts with a quote or "the";
 *   - sq_format_duration of the first 8 bytes read as an int64 parses back.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "core/rundir.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_parse: invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                          \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* A failed parse: known code, one-line non-empty message. */
static void check_failure(int rc, const sq_err *err)
{
    CHECK(rc == -EINVAL || rc == -ERANGE);
    CHECK(err->msg[0] != '\0');
    CHECK(strchr(err->msg, '\n') == NULL);
    CHECK(strlen(err->msg) < SQ_ERR_MAX);
}

/* ns formats to text that parses back to ns exactly. */
static void check_duration_round_trip(int64_t ns)
{
    char buf[64];
    sq_err err;
    int64_t back = -1;
    sq_format_duration(ns, buf, sizeof buf);
    CHECK(strlen(buf) < sizeof buf - 1);
    if (ns >= 0) {
        CHECK(sq_parse_duration(buf, &back, &err) == 0);
        CHECK(back == ns);
    } else {
        CHECK(buf[0] == '-');
        CHECK(sq_parse_duration(buf, &back, &err) == -EINVAL);
        if (ns != INT64_MIN) {
            CHECK(sq_parse_duration(buf + 1, &back, &err) == 0);
            CHECK(back == -ns);
        }
    }
}

static void fuzz_duration(const char *s)
{
    sq_err err = {{0}};
    int64_t ns = -7;
    int rc = sq_parse_duration(s, &ns, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(ns == -7);
        return;
    }
    CHECK(ns >= 0);
    check_duration_round_trip(ns);
}

static void fuzz_rates(const char *s)
{
    sq_err err = {{0}};
    sq_rate r = {-7, -7}, from = {-7, -7}, to = {-7, -7};
    int rc = sq_parse_rate(s, &r, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(r.value == -7 && r.relative_to_peak == -7);
    } else {
        CHECK(isfinite(r.value) && r.value > 0);
        CHECK(r.relative_to_peak == 0 || r.relative_to_peak == 1);
    }
    int rrc = sq_parse_rate_range(s, &from, &to, &err);
    if (rrc < 0) {
        CHECK(rrc == -EINVAL || rrc == -ERANGE || rrc == -ENOMEM);
        CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
        CHECK(from.value == -7 && to.value == -7);
        /* a single valid rate is always a valid range */
        CHECK(rc < 0 || strstr(s, "..") != NULL);
        return;
    }
    CHECK(isfinite(from.value) && from.value > 0 && isfinite(to.value) && to.value > 0);
    CHECK(from.relative_to_peak == to.relative_to_peak);
    if (!strstr(s, "..")) {
        CHECK(rc == 0);
        CHECK(from.value == r.value && to.value == r.value);
        CHECK(from.relative_to_peak == r.relative_to_peak);
    }
}

static void fuzz_speed(const char *s)
{
    sq_err err = {{0}};
    double f = -7;
    int rc = sq_parse_speed(s, &f, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(f == -7);
        return;
    }
    CHECK(isfinite(f) && f > 0);
}

static void fuzz_sizes(const char *s)
{
    sq_err err = {{0}};
    uint64_t v = 7, back = 0;
    char buf[64];
    int rc = sq_parse_size(s, &v, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(v == 7);
    } else {
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        CHECK(sq_parse_size(buf, &back, &err) == 0 && back == v);
        snprintf(buf, sizeof buf, "%" PRIu64 "B", v);
        CHECK(sq_parse_size(buf, &back, &err) == 0 && back == v);
    }
    v = 7;
    rc = sq_parse_bitrate(s, &v, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(v == 7);
    } else {
        CHECK(v > 0);
        snprintf(buf, sizeof buf, "%" PRIu64 "bit", v);
        CHECK(sq_parse_bitrate(buf, &back, &err) == 0 && back == v);
    }
}

static void fuzz_percent(const char *s)
{
    sq_err err = {{0}};
    double strict = -7, loose = -7;
    int rc = sq_parse_percent(s, 0, &strict, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(strict == -7);
    } else {
        CHECK(strict >= 0 && strict <= 1);
    }
    int lrc = sq_parse_percent(s, 1, &loose, &err);
    if (lrc < 0) {
        check_failure(lrc, &err);
        CHECK(rc < 0); /* allowing fractions only ever accepts more */
        return;
    }
    CHECK(loose >= 0 && loose <= 1);
    if (rc == 0)
        CHECK(loose == strict);
}

static void fuzz_uint(const char *s)
{
    sq_err err = {{0}};
    uint64_t v = 7, w = 7, back = 0;
    char buf[32];
    int rc = sq_parse_uint(s, 0, UINT64_MAX, &v, &err);
    if (rc < 0) {
        check_failure(rc, &err);
        CHECK(v == 7);
    } else {
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        CHECK(sq_parse_uint(buf, v, v, &back, &err) == 0 && back == v);
    }
    int brc = sq_parse_uint(s, 10, 1000, &w, &err);
    if (brc < 0) {
        check_failure(brc, &err);
        CHECK(rc < 0 || v < 10 || v > 1000);
    } else {
        CHECK(rc == 0 && w == v && w >= 10 && w <= 1000);
    }
}

static void fuzz_run_id(const char *s)
{
    sq_err err = {{0}};
    int rc = sq_run_id_validate(s, &err);
    size_t len = strlen(s);
    if (rc < 0) {
        CHECK(rc == -EINVAL && err.msg[0] && !strchr(err.msg, '\n'));
        return;
    }
    CHECK(len >= 1 && len <= 64 && s[0] != '.' && s[0] != '-');
    CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    fuzz_duration(s);
    fuzz_rates(s);
    fuzz_speed(s);
    fuzz_sizes(s);
    fuzz_percent(s);
    fuzz_uint(s);
    fuzz_run_id(s);

    if (size >= sizeof(int64_t)) {
        int64_t ns;
        memcpy(&ns, data, sizeof ns);
        check_duration_round_trip(ns);
    }
    free(s);
    return 0;
}
