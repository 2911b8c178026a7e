/* test_hist.c — unit tests for core/hist.c (log-linear histogram). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

/* ---- helpers ----------------------------------------------------------------- */

/* splitmix64: a fixed-seed PRNG so every run sees the same samples. */
static uint64_t prng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double prng_unit(uint64_t *s)
{
    return (double)(prng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform integer in lo..hi inclusive. */
static int64_t prng_range(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(prng_next(s) % (uint64_t)(hi - lo + 1));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Number of sorted samples <= v. */
static uint64_t brute_at_or_below(const int64_t *sorted, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 10^-digits. */
static double tolerance(int digits)
{
    return pow(10.0, -digits);
}

/* Percentiles in thousandths of a percent, so the expected rank is exact
 * integer arithmetic: rank = ceil(pm * n / 100000). */
static const int64_t pms[] = {1,     100,   1000,  10000, 25000, 50000, 75000,
                              90000, 95000, 99000, 99900, 99990, 99999};

/* Records the samples into a fresh histogram, then checks count, min, max,
 * mean exactly and every percentile within 10^-digits of the sorted truth. */
static void check_distribution(int64_t *samples, size_t n, int digits, int64_t highest)
{
    sq_hist *h = sq_hist_new(digits, highest);
    assert_non_null(h);
    __extension__ unsigned __int128 sum = 0;
    for (size_t i = 0; i < n; i++) {
        sq_hist_record(h, samples[i]);
        sum += (uint64_t)samples[i];
    }
    qsort(samples, n, sizeof *samples, cmp_i64);

    assert_int_equal(sq_hist_count(h), n);
    assert_int_equal(sq_hist_min(h), samples[0]);
    assert_int_equal(sq_hist_max(h), samples[n - 1]);
    assert_true(sq_hist_mean(h) == (double)((long double)sum / (long double)n));
    assert_int_equal(sq_hist_percentile(h, 0.0), samples[0]);
    assert_int_equal(sq_hist_percentile(h, 100.0), samples[n - 1]);

    for (size_t k = 0; k < sizeof pms / sizeof pms[0]; k++) {
        uint64_t rank = ((uint64_t)pms[k] * n + 99999) / 100000;
        if (rank < 1)
            rank = 1;
        int64_t want = samples[rank - 1];
        int64_t got = sq_hist_percentile(h, (double)pms[k] / 1000.0);
        if (got < want || (double)(got - want) > (double)want * tolerance(digits))
            fail_msg("digits %d p%.3f: got %lld, exact %lld", digits,
                     (double)pms[k] / 1000.0, (long long)got, (long long)want);
        assert_true(got >= sq_hist_min(h) && got <= sq_hist_max(h));
    }
    sq_hist_free(h);
}

/* Asserts a and b hold exactly the same data. */
static void assert_hist_equal(const sq_hist *a, const sq_hist *b)
{
    assert_int_equal(sq_hist_digits(a), sq_hist_digits(b));
    assert_int_equal(sq_hist_highest(a), sq_hist_highest(b));
    assert_int_equal(sq_hist_count(a), sq_hist_count(b));
    assert_int_equal(sq_hist_min(a), sq_hist_min(b));
    assert_int_equal(sq_hist_max(a), sq_hist_max(b));
    assert_int_equal(sq_hist_clamped(a), sq_hist_clamped(b));
    assert_true(sq_hist_mean(a) == sq_hist_mean(b));
    size_t ca = 0, cb = 0;
    int64_t la, ha, lb, hb;
    uint64_t na, nb;
    for (;;) {
        int ra = sq_hist_next_bucket(a, &ca, &la, &ha, &na);
        int rb = sq_hist_next_bucket(b, &cb, &lb, &hb, &nb);
        assert_int_equal(ra, rb);
        if (!ra)
            break;
        assert_int_equal(la, lb);
        assert_int_equal(ha, hb);
        assert_int_equal(na, nb);
    }
    for (size_t k = 0; k < sizeof pms / sizeof pms[0]; k++) {
        double p = (double)pms[k] / 1000.0;
        assert_int_equal(sq_hist_percentile(a, p), sq_hist_percentile(b, p));
    }
}

/* ---- construction -------------------------------------------------------------- */

static void test_new_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_null(sq_hist_new(0, 1000));
    assert_null(sq_hist_new(6, 1000));
    assert_null(sq_hist_new(3, 0));
    assert_null(sq_hist_new(3, -5));
    sq_hist *h = sq_hist_new(1, 1);
    assert_non_null(h);
    sq_hist_record(h, 1);
    assert_int_equal(sq_hist_max(h), 1);
    sq_hist_free(h);
    sq_hist_free(NULL);
}

static void test_empty(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(SQ_HIST_DEFAULT_DIGITS, SQ_HIST_DEFAULT_HIGHEST);
    assert_non_null(h);
    assert_int_equal(sq_hist_digits(h), 3);
    assert_int_equal(sq_hist_highest(h), SQ_HIST_DEFAULT_HIGHEST);
    assert_int_equal(sq_hist_count(h), 0);
    assert_int_equal(sq_hist_min(h), 0);
    assert_int_equal(sq_hist_max(h), 0);
    assert_true(sq_hist_mean(h) == 0.0);
    assert_int_equal(sq_hist_percentile(h, 50.0), 0);
    assert_int_equal(sq_hist_count_at_or_below(h, 1000), 0);
    size_t cur = 0;
    int64_t lo, hi;
    uint64_t n;
    assert_int_equal(sq_hist_next_bucket(h, &cur, &lo, &hi, &n), 0);
    sq_hist_free(h);
}

/* Every value lands in a bucket that contains it and is narrower than
 * value * 10^-digits, for every precision and across the whole range: the
 * sorted values are walked alongside the bucket iteration. */
static void test_bucket_precision_all_digits(void **state)
{
    (void)state;
    enum { NV = 3000 };
    int64_t *vals = malloc(NV * sizeof *vals);
    assert_non_null(vals);
    uint64_t seed = 7;
    for (int digits = 1; digits <= 5; digits++) {
        int64_t highest = digits == 5 ? INT64_MAX : SQ_HIST_DEFAULT_HIGHEST;
        sq_hist *h = sq_hist_new(digits, highest);
        assert_non_null(h);
        for (size_t i = 0; i < NV; i++) {
            int64_t v;
            if (i < 63 * 3) {
                int64_t p2 = (int64_t)1 << (i / 3); /* powers of two and neighbours */
                v = p2 + (int64_t)(i % 3) - 1;
            } else {
                v = (int64_t)(prng_next(&seed) >> (1 + prng_next(&seed) % 63));
            }
            vals[i] = v > highest ? highest : v;
            sq_hist_record(h, vals[i]);
        }
        qsort(vals, NV, sizeof *vals, cmp_i64);
        size_t cur = 0, k = 0;
        int64_t lo, hi;
        uint64_t n;
        while (sq_hist_next_bucket(h, &cur, &lo, &hi, &n)) {
            for (uint64_t j = 0; j < n; j++, k++) {
                assert_true(k < NV);
                int64_t v = vals[k];
                if (lo > v || hi < v || (double)(hi - lo) > (double)v * tolerance(digits))
                    fail_msg("digits %d value %lld in bucket %lld..%lld", digits,
                             (long long)v, (long long)lo, (long long)hi);
            }
        }
        assert_int_equal(k, NV);
        sq_hist_free(h);
    }
    free(vals);
}

/* ---- percentiles against sorted samples ------------------------------------------- */

#define NSAMPLES 100000

static void test_percentiles_uniform(void **state)
{
    (void)state;
    int64_t *s = malloc(NSAMPLES * sizeof *s);
    assert_non_null(s);
    for (int digits = 2; digits <= 3; digits++) {
        uint64_t seed = 42;
        for (size_t i = 0; i < NSAMPLES; i++)
            s[i] = prng_range(&seed, 0, 10000000);
        check_distribution(s, NSAMPLES, digits, SQ_HIST_DEFAULT_HIGHEST);
    }
    free(s);
}

static void test_percentiles_exponential(void **state)
{
    (void)state;
    int64_t *s = malloc(NSAMPLES * sizeof *s);
    assert_non_null(s);
    for (int digits = 2; digits <= 3; digits++) {
        uint64_t seed = 1234;
        for (size_t i = 0; i < NSAMPLES; i++)
            s[i] = (int64_t)(-5000.0 * log(1.0 - prng_unit(&seed)));
        check_distribution(s, NSAMPLES, digits, SQ_HIST_DEFAULT_HIGHEST);
    }
    free(s);
}

static void test_percentiles_bimodal(void **state)
{
    (void)state;
    int64_t *s = malloc(NSAMPLES * sizeof *s);
    assert_non_null(s);
    for (int digits = 2; digits <= 3; digits++) {
        uint64_t seed = 99;
        for (size_t i = 0; i < NSAMPLES; i++)
            s[i] = prng_next(&seed) % 10 == 0 ? prng_range(&seed, 190000, 210000)
                                               : prng_range(&seed, 900, 1100);
        check_distribution(s, NSAMPLES, digits, SQ_HIST_DEFAULT_HIGHEST);
    }
    free(s);
}

static void test_percentiles_single_value(void **state)
{
    (void)state;
    int64_t s[1000];
    for (int digits = 2; digits <= 3; digits++) {
        for (size_t i = 0; i < 1000; i++)
            s[i] = 123457;
        check_distribution(s, 1000, digits, SQ_HIST_DEFAULT_HIGHEST);
    }
    /* A single value is reported exactly at every percentile (min/max cap). */
    sq_hist *h = sq_hist_new(2, SQ_HIST_DEFAULT_HIGHEST);
    assert_non_null(h);
    sq_hist_record_n(h, 123457, 10);
    for (double p = 0.0; p <= 100.0; p += 12.5)
        assert_int_equal(sq_hist_percentile(h, p), 123457);
    assert_true(sq_hist_mean(h) == 123457.0);
    sq_hist_free(h);
}

static void test_values_at_zero_and_highest(void **state)
{
    (void)state;
    const int64_t highest = 1000000;
    for (int digits = 2; digits <= 3; digits++) {
        sq_hist *h = sq_hist_new(digits, highest);
        assert_non_null(h);
        sq_hist_record_n(h, 0, 50);
        sq_hist_record_n(h, highest, 50);
        assert_int_equal(sq_hist_count(h), 100);
        assert_int_equal(sq_hist_clamped(h), 0);
        assert_int_equal(sq_hist_min(h), 0);
        assert_int_equal(sq_hist_max(h), highest);
        assert_int_equal(sq_hist_percentile(h, 50.0), 0);
        assert_int_equal(sq_hist_percentile(h, 50.5), highest);
        assert_int_equal(sq_hist_percentile(h, 99.0), highest);
        assert_true(sq_hist_mean(h) == highest / 2.0);
        assert_int_equal(sq_hist_count_at_or_below(h, 0), 50);
        assert_int_equal(sq_hist_count_at_or_below(h, highest - 1), 50);
        assert_int_equal(sq_hist_count_at_or_below(h, highest), 100);
        sq_hist_free(h);
    }
    /* The top of the int64 range works too. */
    sq_hist *h = sq_hist_new(5, INT64_MAX);
    assert_non_null(h);
    sq_hist_record(h, INT64_MAX);
    sq_hist_record(h, 0);
    assert_int_equal(sq_hist_max(h), INT64_MAX);
    assert_int_equal(sq_hist_percentile(h, 75.0), INT64_MAX);
    assert_int_equal(sq_hist_clamped(h), 0);
    sq_hist_free(h);
}

static void test_clamping_and_negative(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(3, 10000);
    assert_non_null(h);
    sq_hist_record(h, 20000);
    sq_hist_record(h, INT64_MAX);
    sq_hist_record_n(h, 10001, 3);
    sq_hist_record(h, 5);
    sq_hist_record(h, -7);
    sq_hist_record_n(h, INT64_MIN, 2);
    sq_hist_record_n(h, 77, 0); /* records nothing */
    assert_int_equal(sq_hist_count(h), 9);
    assert_int_equal(sq_hist_clamped(h), 5);
    assert_int_equal(sq_hist_min(h), 0);
    assert_int_equal(sq_hist_max(h), 10000);
    assert_true(sq_hist_mean(h) == (double)((long double)(5 * 10000 + 5) / 9.0L));
    assert_int_equal(sq_hist_percentile(h, 100.0), 10000);
    assert_int_equal(sq_hist_percentile(h, 40.0), 5);
    assert_int_equal(sq_hist_percentile(h, 33.3), 0);
    assert_int_equal(sq_hist_percentile(h, 50.0), 10000);
    assert_int_equal(sq_hist_count_at_or_below(h, 0), 3);
    assert_int_equal(sq_hist_count_at_or_below(h, 9999), 4);
    assert_int_equal(sq_hist_count_at_or_below(h, INT64_MAX), 9);
    sq_hist_free(h);
}

/* A sum above UINT64_MAX stays exact (128-bit) and survives JSON. */
static void test_huge_sum(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(3, INT64_MAX);
    assert_non_null(h);
    sq_hist_record_n(h, INT64_MAX, 4);
    sq_hist_record(h, 1);
    long double want = (4.0L * (long double)INT64_MAX + 1.0L) / 5.0L;
    assert_true(sq_hist_mean(h) == (double)want);
    json_t *j = sq_hist_to_json(h);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "sum")),
                        "36893488147419103229");
    sq_err err = {{0}};
    sq_hist *back = sq_hist_from_json(j, &err);
    assert_non_null(back);
    assert_hist_equal(h, back);
    json_decref(j);
    sq_hist_free(back);
    sq_hist_free(h);
}

/* ---- counting and iteration ------------------------------------------------------- */

static void test_count_at_or_below(void **state)
{
    (void)state;
    enum { N = 20000 };
    int64_t *s = malloc(N * sizeof *s);
    assert_non_null(s);
    for (int digits = 2; digits <= 3; digits++) {
        uint64_t seed = 5;
        sq_hist *h = sq_hist_new(digits, SQ_HIST_DEFAULT_HIGHEST);
        assert_non_null(h);
        for (size_t i = 0; i < N; i++) {
            s[i] = prng_range(&seed, 10, 3000000);
            sq_hist_record(h, s[i]);
        }
        qsort(s, N, sizeof *s, cmp_i64);
        /* Exact at every bucket boundary. */
        size_t cur = 0;
        int64_t lo, hi;
        uint64_t n;
        while (sq_hist_next_bucket(h, &cur, &lo, &hi, &n)) {
            assert_int_equal(sq_hist_count_at_or_below(h, hi), brute_at_or_below(s, N, hi));
            assert_int_equal(sq_hist_count_at_or_below(h, lo - 1),
                             brute_at_or_below(s, N, lo - 1));
        }
        /* Inside a bucket it never over-counts and never misses a full bucket. */
        for (int i = 0; i < 1000; i++) {
            int64_t v = prng_range(&seed, 0, 3100000);
            uint64_t got = sq_hist_count_at_or_below(h, v);
            assert_true(got <= brute_at_or_below(s, N, v));
        }
        assert_int_equal(sq_hist_count_at_or_below(h, -1), 0);
        assert_int_equal(sq_hist_count_at_or_below(h, 9), 0);
        assert_int_equal(sq_hist_count_at_or_below(h, s[N - 1]), N);
        assert_int_equal(sq_hist_count_at_or_below(h, INT64_MAX), N);
        sq_hist_free(h);
    }
    /* Values below sub_bucket_count are exact, one per slot. */
    sq_hist *h = sq_hist_new(3, SQ_HIST_DEFAULT_HIGHEST);
    assert_non_null(h);
    for (int64_t v = 0; v < 5000; v++)
        sq_hist_record(h, v);
    assert_int_equal(sq_hist_count_at_or_below(h, 0), 1);
    assert_int_equal(sq_hist_count_at_or_below(h, 2047), 2048);
    assert_int_equal(sq_hist_count_at_or_below(h, 2048), 2048); /* slot 2048..2049 */
    assert_int_equal(sq_hist_count_at_or_below(h, 2049), 2050);
    sq_hist_free(h);
    free(s);
}

static void test_bucket_iteration(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(3, SQ_HIST_DEFAULT_HIGHEST);
    assert_non_null(h);
    uint64_t seed = 11;
    for (int i = 0; i < 50000; i++)
        sq_hist_record(h, (int64_t)(-20000.0 * log(1.0 - prng_unit(&seed))));
    sq_hist_record(h, SQ_HIST_DEFAULT_HIGHEST + 1);
    size_t cur = 0;
    int64_t lo, hi, prev_hi = -1;
    uint64_t n, total = 0;
    int buckets = 0;
    while (sq_hist_next_bucket(h, &cur, &lo, &hi, &n)) {
        assert_true(lo > prev_hi);
        assert_true(hi >= lo);
        assert_true(n > 0);
        total += n;
        prev_hi = hi;
        buckets++;
    }
    assert_true(buckets > 100);
    assert_int_equal(total, sq_hist_count(h));
    assert_true(prev_hi >= SQ_HIST_DEFAULT_HIGHEST);
    /* Once done it stays done. */
    assert_int_equal(sq_hist_next_bucket(h, &cur, &lo, &hi, &n), 0);
    sq_hist_free(h);
}

/* ---- merge and reset ------------------------------------------------------------ */

static void test_merge_equals_single(void **state)
{
    (void)state;
    for (int digits = 1; digits <= 4; digits++) {
        sq_hist *a = sq_hist_new(digits, 5000000);
        sq_hist *b = sq_hist_new(digits, 5000000);
        sq_hist *all = sq_hist_new(digits, 5000000);
        sq_hist *empty = sq_hist_new(digits, 5000000);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(all);
        assert_non_null(empty);
        uint64_t seed = 3 + (uint64_t)digits;
        for (int i = 0; i < 20000; i++) {
            int64_t v = prng_range(&seed, 1000, 6000000);
            sq_hist_record(i % 3 ? a : b, v);
            sq_hist_record(all, v);
        }
        sq_hist_record_n(b, 3, 4); /* b holds the minimum */
        sq_hist_record_n(all, 3, 4);
        sq_err err = {{0}};
        assert_int_equal(sq_hist_merge(a, empty, &err), 0);
        assert_int_equal(sq_hist_merge(empty, b, &err), 0);
        assert_int_equal(sq_hist_merge(a, empty, &err), 0);
        assert_hist_equal(a, all);
        assert_int_equal(sq_hist_min(a), 3);
        assert_int_equal(sq_hist_max(a), 5000000);
        assert_true(sq_hist_clamped(a) > 0);
        sq_hist_free(a);
        sq_hist_free(b);
        sq_hist_free(all);
        sq_hist_free(empty);
    }
}

static void test_merge_mismatch(void **state)
{
    (void)state;
    sq_hist *a = sq_hist_new(3, 1000000);
    sq_hist *b = sq_hist_new(2, 1000000);
    sq_hist *c = sq_hist_new(3, 2000000);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    sq_hist_record(a, 10);
    sq_hist_record(b, 20);
    sq_hist_record(c, 30);
    sq_err err = {{0}};
    assert_int_equal(sq_hist_merge(a, b, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "digits differ (2 into 3)"));
    assert_int_equal(sq_hist_merge(a, c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "highest differs (2000000 into 1000000)"));
    assert_int_equal(sq_hist_merge(a, c, NULL), -EINVAL);
    assert_int_equal(sq_hist_count(a), 1); /* untouched */
    assert_int_equal(sq_hist_max(a), 10);
    sq_hist_free(a);
    sq_hist_free(b);
    sq_hist_free(c);
}

static void test_reset(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(2, 100000);
    assert_non_null(h);
    for (int64_t v = 0; v < 200000; v += 7)
        sq_hist_record(h, v);
    sq_hist_reset(h);
    assert_int_equal(sq_hist_count(h), 0);
    assert_int_equal(sq_hist_clamped(h), 0);
    assert_int_equal(sq_hist_min(h), 0);
    assert_int_equal(sq_hist_max(h), 0);
    assert_true(sq_hist_mean(h) == 0.0);
    assert_int_equal(sq_hist_digits(h), 2);
    assert_int_equal(sq_hist_highest(h), 100000);
    size_t cur = 0;
    int64_t lo, hi;
    uint64_t n;
    assert_int_equal(sq_hist_next_bucket(h, &cur, &lo, &hi, &n), 0);
    sq_hist_record(h, 500);
    sq_hist_record(h, 700);
    assert_int_equal(sq_hist_min(h), 500);
    assert_int_equal(sq_hist_max(h), 700);
    assert_true(sq_hist_mean(h) == 600.0);
    sq_hist_free(h);
}

/* ---- JSON ------------------------------------------------------------------------- */

static void test_json_shape(void **state)
{
    (void)state;
    sq_hist *h = sq_hist_new(3, 1000);
    assert_non_null(h);
    sq_hist_record_n(h, 1, 2);
    sq_hist_record(h, 3);
    json_t *got = sq_hist_to_json(h);
    assert_non_null(got);
    json_t *want = json_loads("{\"digits\":3,\"highest\":1000,\"count\":3,\"min\":1,"
                              "\"max\":3,\"sum\":5,\"clamped\":0,"
                              "\"buckets\":[[1,2],[3,1]]}",
                              0, NULL);
    assert_non_null(want);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);

    /* Counts may also come as decimal strings (the form used above int64). */
    json_t *j = json_loads("{\"digits\":3,\"highest\":1000,\"count\":\"3\",\"min\":1,"
                           "\"max\":3,\"sum\":\"5\",\"clamped\":\"0\","
                           "\"buckets\":[[1,\"2\"],[3,1]],\"future\":true}",
                           0, NULL);
    assert_non_null(j);
    sq_err err = {{0}};
    sq_hist *back = sq_hist_from_json(j, &err);
    assert_non_null(back);
    assert_hist_equal(h, back);
    sq_hist_free(back);
    json_decref(j);
    sq_hist_free(h);
}

/* Encodes, serialises, parses and decodes h, asserting nothing changed. */
static void round_trip(const sq_hist *h)
{
    json_t *j = sq_hist_to_json(h);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_t *j2 = json_loads(text, 0, NULL);
    assert_non_null(j2);
    sq_err err = {{0}};
    sq_hist *back = sq_hist_from_json(j2, &err);
    if (!back)
        fail_msg("round trip rejected: %s", err.msg);
    assert_hist_equal(h, back);
    /* And re-encoding gives identical JSON. */
    json_t *j3 = sq_hist_to_json(back);
    assert_non_null(j3);
    assert_true(json_equal(j, j3));
    json_decref(j3);
    sq_hist_free(back);
    json_decref(j2);
    free(text);
    json_decref(j);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    for (int digits = 1; digits <= 5; digits++) {
        sq_hist *h = sq_hist_new(digits, SQ_HIST_DEFAULT_HIGHEST);
        assert_non_null(h);
        round_trip(h); /* empty */
        uint64_t seed = 17 + (uint64_t)digits;
        for (int i = 0; i < 30000; i++)
            sq_hist_record(h, (int64_t)(-30000.0 * log(1.0 - prng_unit(&seed))));
        sq_hist_record_n(h, 0, 3);
        round_trip(h);
        sq_hist_record_n(h, SQ_HIST_DEFAULT_HIGHEST * 2, 5); /* clamped */
        round_trip(h);
        sq_hist_reset(h);
        sq_hist_record(h, 42);
        round_trip(h);
        sq_hist_free(h);
    }
}

/* A syntactically valid encoding with the given fields (all JSON text). */
#define HJ(digits, highest, count, min, max, sum, clamped, buckets)                        \
    "{\"digits\":" digits ",\"highest\":" highest ",\"count\":" count ",\"min\":" min      \
    ",\"max\":" max ",\"sum\":" sum ",\"clamped\":" clamped ",\"buckets\":" buckets "}"

struct bad_case {
    const char *json;
    const char *expect; /* substring the error message must contain */
};

static const struct bad_case bad_cases[] = {
    {"[1, 2]", "expected a JSON object"},
    {"{\"highest\":1000,\"count\":0,\"min\":0,\"max\":0,\"sum\":0,\"clamped\":0,"
     "\"buckets\":[]}",
     "missing key \"digits\""},
    {HJ("\"3\"", "1000", "2", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"digits\" must be an integer"},
    {HJ("6", "1000", "2", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"digits\" 6 out of range 1..5"},
    {HJ("0", "1000", "2", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"digits\" 0 out of range 1..5"},
    {HJ("3", "0", "0", "0", "0", "0", "0", "[]"), "\"highest\" 0 out of range"},
    {HJ("3", "1000.0", "2", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"highest\" must be an integer"},
    {HJ("3", "1000", "-2", "1", "3", "4", "0", "[[1,1],[3,1]]"), "\"count\" is negative"},
    {HJ("3", "1000", "2.5", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"count\" must be a non-negative integer or a decimal string"},
    {HJ("3", "1000", "\"99999999999999999999999\"", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"count\" is too large"},
    {HJ("3", "1000", "2", "1", "3", "\"4x\"", "0", "[[1,1],[3,1]]"),
     "\"sum\" is not a decimal number"},
    {HJ("3", "1000", "2", "1", "3", "\"\"", "0", "[[1,1],[3,1]]"),
     "\"sum\" is not a decimal number"},
    {HJ("3", "1000", "2", "1", "3", "4", "null", "[[1,1],[3,1]]"),
     "\"clamped\" must be a non-negative integer"},
    {HJ("3", "1000", "2", "1", "2000", "4", "0", "[[1,1],[3,1]]"),
     "\"max\" 2000 out of range 0..1000"},
    {HJ("3", "1000", "2", "-1", "3", "4", "0", "[[1,1],[3,1]]"),
     "\"min\" -1 out of range 0..1000"},
    {"{\"digits\":3,\"highest\":1000,\"count\":0,\"min\":0,\"max\":0,\"sum\":0,"
     "\"clamped\":0}",
     "missing key \"buckets\""},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "{}"), "\"buckets\" must be an array"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,1],[3]]"),
     "buckets[1] must be an [index, count] pair"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[7]"),
     "buckets[0] must be an [index, count] pair"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[\"1\",1],[3,1]]"),
     "buckets[0] index must be an integer"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,1],[1001,1]]"),
     "buckets[1] index 1001 out of range 0..1000"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[-1,1],[3,1]]"),
     "buckets[0] index -1 out of range"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[3,1],[1,1]]"),
     "buckets[1] index 1 not greater than previous 3"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,1],[1,1]]"),
     "buckets[1] index 1 not greater than previous 1"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,0],[3,2]]"),
     "buckets[0] count must be > 0"},
    {HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,-1],[3,3]]"),
     "buckets[0] count is negative"},
    {HJ("3", "1000", "3", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "bucket counts add up to less than \"count\""},
    {HJ("3", "1000", "1", "1", "3", "4", "0", "[[1,1],[3,1]]"),
     "bucket counts add up to more than \"count\""},
    {HJ("3", "1000", "2", "3", "1", "4", "0", "[[1,1],[3,1]]"), "min 3 > max 1"},
    {HJ("3", "1000", "2", "2", "3", "5", "0", "[[1,1],[3,1]]"),
     "min 2 not in the first bucket's range 1..1"},
    {HJ("3", "1000", "2", "1", "4", "5", "0", "[[1,1],[3,1]]"),
     "max 4 not in the last bucket's range 3..3"},
    {HJ("3", "1000", "2", "1", "3", "100", "0", "[[1,1],[3,1]]"),
     "sum is inconsistent"},
    {HJ("3", "1000", "2", "1", "3", "4", "3", "[[1,1],[3,1]]"), "clamped exceeds count"},
    {HJ("3", "1000", "2", "1", "3", "4", "1", "[[1,1],[3,1]]"),
     "clamped 1 but max 3 is not highest 1000"},
    {HJ("3", "1000", "0", "5", "5", "0", "0", "[]"),
     "min, max and sum must be 0 when count is 0"},
};

static void test_json_rejects_malformed(void **state)
{
    (void)state;
    /* The template itself is valid. */
    json_t *ok = json_loads(HJ("3", "1000", "2", "1", "3", "4", "0", "[[1,1],[3,1]]"), 0,
                            NULL);
    assert_non_null(ok);
    sq_err err = {{0}};
    sq_hist *h = sq_hist_from_json(ok, &err);
    assert_non_null(h);
    assert_int_equal(sq_hist_count(h), 2);
    sq_hist_free(h);
    json_decref(ok);

    int checked = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        json_error_t jerr;
        json_t *j = json_loads(bad_cases[i].json, 0, &jerr);
        if (!j)
            fail_msg("case %zu is not JSON: %s", i, jerr.text);
        memset(&err, 0, sizeof err);
        h = sq_hist_from_json(j, &err);
        if (h)
            fail_msg("case %zu accepted: %s", i, bad_cases[i].json);
        if (!strstr(err.msg, bad_cases[i].expect))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg,
                     bad_cases[i].expect);
        json_decref(j);
        checked++;
    }
    assert_true(checked >= 30);
    /* A NULL err is allowed. */
    assert_null(sq_hist_from_json(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_bad_arguments),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bucket_precision_all_digits),
        cmocka_unit_test(test_percentiles_uniform),
        cmocka_unit_test(test_percentiles_exponential),
        cmocka_unit_test(test_percentiles_bimodal),
        cmocka_unit_test(test_percentiles_single_value),
        cmocka_unit_test(test_values_at_zero_and_highest),
        cmocka_unit_test(test_clamping_and_negative),
        cmocka_unit_test(test_huge_sum),
        cmocka_unit_test(test_count_at_or_below),
        cmocka_unit_test(test_bucket_iteration),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_merge_mismatch),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
