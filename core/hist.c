/* hist.c — log-linear (HDR-style) histogram, written by hand.
 *
 * Layout (the HdrHistogram scheme with a lowest discernible value of 1):
 * sub_bucket_count is the smallest power of two >= 2 * 10^digits and
 * sub_bucket_half is half of it. Bucket b (b >= 0) holds values
 * sub_bucket_half << b .. (sub_bucket_count << b) - 1 in sub_bucket_half
 * slots of width 2^b; bucket 0 additionally covers 0 .. sub_bucket_half - 1
 * exactly (the "lower half"). The flat counts array therefore has
 * (bucket_count + 1) * sub_bucket_half slots and a value v maps to
 *
 *     b = lzc_base - clz(v | sub_mask),  index = (b << half_mag) + (v >> b)
 *
 * A slot of width 2^b only starts at values >= sub_bucket_half * 2^b, so the
 * relative width is below 1 / sub_bucket_half < 10^-digits.
 *
 * The exact sum is kept in an unsigned 128-bit integer: every value is at most
 * INT64_MAX and the count at most UINT64_MAX, so the sum is below 2^127 and
 * can never overflow. Counts are uint64_t and not guarded against wrapping
 * (that needs 2^64 recordings).
 *
 * JSON: every unsigned quantity (count, clamped, sum, bucket counts) is written
 * as a JSON integer when it fits in int64 (jansson's json_int_t) and otherwise
 * as a string of decimal digits, which is lossless; the decoder accepts both
 * forms for each of them. Unknown keys are ignored (forward compatibility).
 */
#include "hist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 hist_u128;

#define HIST_MAX_BYTES ((size_t)64 << 20) /* refuse layouts above 64 MiB */
#define HIST_U64_DIGITS 20                /* decimal digits of UINT64_MAX */
#define HIST_U128_DIGITS 39               /* decimal digits of 2^128 - 1 */

struct sq_hist {
    int digits;
    int half_mag;       /* log2(sub_bucket_half) */
    int lzc_base;       /* 64 - half_mag - 1 */
    int64_t highest;
    uint64_t sub_mask;  /* sub_bucket_count - 1 */
    size_t counts_len;  /* (bucket_count + 1) * sub_bucket_half */
    uint64_t total;     /* number of recorded values */
    uint64_t clamped;   /* how many of them were above highest */
    int64_t min;        /* INT64_MAX while empty */
    int64_t max;        /* 0 while empty */
    hist_u128 sum;      /* exact sum of the (clamped) values */
    uint64_t counts[];  /* counts_len slots, same allocation */
};

/* Shape of a histogram derived from (digits, highest). */
struct hist_layout {
    int half_mag;
    size_t counts_len;
    size_t bytes;       /* size of the single allocation */
};

/* Computes the layout for digits/highest into *out. Returns 0, or -EINVAL
 * when the arguments are out of range, or -E2BIG above HIST_MAX_BYTES. */
static int hist_layout(int digits, int64_t highest, struct hist_layout *out)
{
    if (digits < 1 || digits > 5 || highest < 1)
        return -EINVAL;
    uint64_t largest = 2;
    for (int i = 0; i < digits; i++)
        largest *= 10;
    int mag = 0;
    while ((UINT64_C(1) << mag) < largest)
        mag++;
    /* Bucket count: double the covered range until it passes highest. The
     * limit tops out at 2^63 > INT64_MAX, so uint64_t never overflows. */
    size_t bucket_count = 1;
    for (uint64_t limit = UINT64_C(1) << mag; limit <= (uint64_t)highest; limit <<= 1)
        bucket_count++;
    out->half_mag = mag - 1;
    out->counts_len = (bucket_count + 1) << out->half_mag;
    out->bytes = sizeof(struct sq_hist) + out->counts_len * sizeof(uint64_t);
    return out->bytes > HIST_MAX_BYTES ? -E2BIG : 0;
}

/* Maps a value in 0..highest to its slot index. Branch-free. */
static inline size_t hist_index(const sq_hist *h, uint64_t v)
{
    int b = h->lzc_base - __builtin_clzll(v | h->sub_mask);
    return ((size_t)b << h->half_mag) + (size_t)(v >> b);
}

/* Lowest and highest value equivalent to slot index i (both inclusive). */
static void hist_slot_range(const sq_hist *h, size_t i, uint64_t *lo, uint64_t *hi)
{
    size_t half = (size_t)1 << h->half_mag;
    if (i < 2 * half) {
        *lo = *hi = i;
        return;
    }
    int b = (int)(i >> h->half_mag) - 1;
    uint64_t sub = (uint64_t)(i & (half - 1)) + half;
    *lo = sub << b;
    *hi = *lo + ((UINT64_C(1) << b) - 1); /* no overflow at 2^63 - 1 */
}

/* Creates an empty histogram; NULL on bad arguments or out of memory. The
 * caller owns the result (sq_hist_free). Struct and counts are one block. */
sq_hist *sq_hist_new(int digits, int64_t highest)
{
    struct hist_layout lay = {0};
    if (hist_layout(digits, highest, &lay) < 0)
        return NULL;
    sq_hist *h = calloc(1, lay.bytes);
    if (!h)
        return NULL;
    h->digits = digits;
    h->half_mag = lay.half_mag;
    h->lzc_base = 64 - lay.half_mag - 1;
    h->highest = highest;
    h->sub_mask = (UINT64_C(1) << (lay.half_mag + 1)) - 1;
    h->counts_len = lay.counts_len;
    h->min = INT64_MAX;
    return h;
}

/* Frees h and its counts (one allocation). NULL is fine. */
void sq_hist_free(sq_hist *h)
{
    free(h);
}

/* Zeroes every count and the summary fields; digits/highest stay. */
void sq_hist_reset(sq_hist *h)
{
    memset(h->counts, 0, h->counts_len * sizeof(uint64_t));
    h->total = 0;
    h->clamped = 0;
    h->min = INT64_MAX;
    h->max = 0;
    h->sum = 0;
}

/* The hot path shared by both record calls: clamp, index, add. The only
 * data-dependent branch is the (unlikely) clamp; min/max compile to cmov. */
static inline void hist_add(sq_hist *h, int64_t value, uint64_t n)
{
    int64_t v = value < 0 ? 0 : value;
    if (__builtin_expect(v > h->highest, 0)) {
        v = h->highest;
        h->clamped += n;
    }
    h->counts[hist_index(h, (uint64_t)v)] += n;
    h->total += n;
    h->sum += (hist_u128)(uint64_t)v * n;
    h->min = v < h->min ? v : h->min;
    h->max = v > h->max ? v : h->max;
}

/* Records value once. Never allocates. */
void sq_hist_record(sq_hist *h, int64_t value)
{
    hist_add(h, value, 1);
}

/* Records value n times (n = 0 records nothing). Never allocates. */
void sq_hist_record_n(sq_hist *h, int64_t value, uint64_t n)
{
    if (n == 0)
        return;
    hist_add(h, value, n);
}

/* Adds src into dst exactly (counts, min, max, sum, clamped). Returns 0, or
 * -EINVAL with a message in err when the configurations differ. */
int sq_hist_merge(sq_hist *dst, const sq_hist *src, sq_err *err)
{
    if (dst->digits != src->digits)
        return sq_errf(err, -EINVAL,
                       "histogram merge: digits differ (%d into %d)",
                       src->digits, dst->digits);
    if (dst->highest != src->highest)
        return sq_errf(err, -EINVAL,
                       "histogram merge: highest differs (%lld into %lld)",
                       (long long)src->highest, (long long)dst->highest);
    if (src->total == 0)
        return 0;
    for (size_t i = 0; i < dst->counts_len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

/* Number of recorded values. */
uint64_t sq_hist_count(const sq_hist *h)
{
    return h->total;
}

/* Exact smallest recorded value, 0 when empty. */
int64_t sq_hist_min(const sq_hist *h)
{
    return h->total ? h->min : 0;
}

/* Exact largest recorded value, 0 when empty. */
int64_t sq_hist_max(const sq_hist *h)
{
    return h->total ? h->max : 0;
}

/* Mean from the exact 128-bit sum, rounded once via long double. */
double sq_hist_mean(const sq_hist *h)
{
    if (h->total == 0)
        return 0.0;
    return (double)((long double)h->sum / (long double)h->total);
}

/* Number of values that were above highest and clamped to it. */
uint64_t sq_hist_clamped(const sq_hist *h)
{
    return h->clamped;
}

/* Rank (1..total) of percentile p in (0, 100): ceil(p/100 * total). p is
 * usually a short decimal (99.9) whose double is a hair off; a relative
 * tolerance of 1e-12 absorbs that so 99.9% of 1000 is rank 999, not 1000. */
static uint64_t hist_rank(double p, uint64_t total)
{
    long double x = (long double)p / 100.0L * (long double)total;
    long double r = ceill(x - x * 1e-12L);
    if (r < 1.0L)
        return 1;
    if (r >= (long double)total)
        return total;
    return (uint64_t)r;
}

/* Value at percentile p: p <= 0 (or NaN) gives min, p >= 100 gives max,
 * otherwise the highest equivalent of the slot where the cumulative count
 * reaches the rank, kept within [min, max]. 0 when empty. */
int64_t sq_hist_percentile(const sq_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (!(p > 0.0))
        return h->min;
    if (p >= 100.0)
        return h->max;
    uint64_t rank = hist_rank(p, h->total);
    uint64_t cum = 0;
    for (size_t i = 0; i < h->counts_len; i++) {
        cum += h->counts[i];
        if (cum >= rank) {
            uint64_t lo, hi;
            hist_slot_range(h, i, &lo, &hi);
            int64_t v = hi > (uint64_t)h->max ? h->max : (int64_t)hi;
            return v < h->min ? h->min : v;
        }
    }
    return h->max; /* unreachable while counts add up to total */
}

/* Values <= value, each slot counted at its highest equivalent value (capped
 * at the exact max), so the answer is exact at slot boundaries. */
uint64_t sq_hist_count_at_or_below(const sq_hist *h, int64_t value)
{
    if (h->total == 0 || value < 0 || value < h->min)
        return 0;
    if (value >= h->max)
        return h->total;
    /* Here min <= value < max <= highest, so value has a slot. */
    size_t idx = hist_index(h, (uint64_t)value);
    uint64_t lo, hi;
    hist_slot_range(h, idx, &lo, &hi);
    size_t end = hi == (uint64_t)value ? idx + 1 : idx;
    uint64_t n = 0;
    for (size_t i = 0; i < end; i++)
        n += h->counts[i];
    return n;
}

/* Configured significant digits. */
int sq_hist_digits(const sq_hist *h)
{
    return h->digits;
}

/* Configured highest trackable value. */
int64_t sq_hist_highest(const sq_hist *h)
{
    return h->highest;
}

/* Steps *cursor to the next non-empty slot and reports its range and count;
 * returns 0 when there is none left. */
int sq_hist_next_bucket(const sq_hist *h, size_t *cursor, int64_t *lo, int64_t *hi,
                        uint64_t *count)
{
    for (size_t i = *cursor; i < h->counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        uint64_t l, u;
        hist_slot_range(h, i, &l, &u);
        *lo = (int64_t)l;
        *hi = (int64_t)u;
        *count = h->counts[i];
        *cursor = i + 1;
        return 1;
    }
    *cursor = h->counts_len;
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Encodes an unsigned quantity losslessly: a JSON integer when it fits in
 * json_int_t, else a decimal string. New reference (NULL on OOM). */
static json_t *hist_json_uint(hist_u128 v)
{
    if (v <= (hist_u128)INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[HIST_U128_DIGITS + 1];
    size_t n = sizeof buf;
    buf[--n] = '\0';
    do {
        buf[--n] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return json_string(buf + n);
}

/* Encodes h as the sparse JSON object described in hist.h. Returns a new
 * reference owned by the caller, or NULL on out of memory. */
json_t *sq_hist_to_json(const sq_hist *h)
{
    json_t *obj = json_object();
    json_t *buckets = json_array();
    if (!obj || !buckets)
        goto fail;
    if (json_object_set_new(obj, "digits", json_integer(h->digits)) < 0 ||
        json_object_set_new(obj, "highest", json_integer(h->highest)) < 0 ||
        json_object_set_new(obj, "count", hist_json_uint(h->total)) < 0 ||
        json_object_set_new(obj, "min", json_integer(sq_hist_min(h))) < 0 ||
        json_object_set_new(obj, "max", json_integer(sq_hist_max(h))) < 0 ||
        json_object_set_new(obj, "sum", hist_json_uint(h->sum)) < 0 ||
        json_object_set_new(obj, "clamped", hist_json_uint(h->clamped)) < 0)
        goto fail;
    for (size_t i = 0; i < h->counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        json_t *pair = json_array();
        if (!pair)
            goto fail;
        if (json_array_append_new(pair, json_integer((json_int_t)i)) < 0 ||
            json_array_append_new(pair, hist_json_uint(h->counts[i])) < 0 ||
            json_array_append_new(buckets, pair) < 0) {
            json_decref(pair);
            goto fail;
        }
    }
    if (json_object_set_new(obj, "buckets", buckets) < 0) {
        buckets = NULL; /* set_new consumed it even on failure */
        goto fail;
    }
    return obj;
fail:
    json_decref(buckets);
    json_decref(obj);
    return NULL;
}

/* Reads a non-negative JSON integer or decimal string into *out, refusing
 * values above limit. `what` names the field in the message. Returns 0 or
 * -EINVAL. */
static int hist_get_uint(const json_t *v, const char *what, hist_u128 limit,
                         hist_u128 *out, sq_err *err)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return sq_errf(err, -EINVAL, "histogram: %s is negative (%lld)", what,
                           (long long)x);
        if ((hist_u128)x > limit)
            return sq_errf(err, -EINVAL, "histogram: %s is too large", what);
        *out = (hist_u128)x;
        return 0;
    }
    if (!json_is_string(v))
        return sq_errf(err, -EINVAL,
                       "histogram: %s must be a non-negative integer or a decimal string",
                       what);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0 || len > HIST_U128_DIGITS)
        return sq_errf(err, -EINVAL, "histogram: %s is not a decimal number", what);
    hist_u128 x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return sq_errf(err, -EINVAL, "histogram: %s is not a decimal number", what);
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (limit - d) / 10)
            return sq_errf(err, -EINVAL, "histogram: %s is too large", what);
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/* Looks up key in obj; NULL with a "missing key" message when absent. */
static const json_t *hist_need(const json_t *obj, const char *key, sq_err *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        sq_errf(err, -EINVAL, "histogram: missing key \"%s\"", key);
    return v;
}

/* Reads obj[key] as a JSON integer in lo..hi. Returns 0 or -EINVAL. */
static int hist_get_int(const json_t *obj, const char *key, int64_t lo, int64_t hi,
                        int64_t *out, sq_err *err)
{
    const json_t *v = hist_need(obj, key, err);
    if (!v)
        return -EINVAL;
    if (!json_is_integer(v))
        return sq_errf(err, -EINVAL, "histogram: \"%s\" must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return sq_errf(err, -EINVAL, "histogram: \"%s\" %lld out of range %lld..%lld",
                       key, (long long)x, (long long)lo, (long long)hi);
    *out = x;
    return 0;
}

/* Reads obj[key] as an unsigned quantity (see hist_get_uint). */
static int hist_get_key_uint(const json_t *obj, const char *key, hist_u128 limit,
                             hist_u128 *out, sq_err *err)
{
    const json_t *v = hist_need(obj, key, err);
    if (!v)
        return -EINVAL;
    char what[32];
    snprintf(what, sizeof what, "\"%s\"", key);
    return hist_get_uint(v, what, limit, out, err);
}

/* Fills h->counts from the "buckets" array, checking each entry, and returns
 * the total through *total and the first/last slot used. Returns 0 or
 * -EINVAL with a message naming the entry. */
static int hist_load_buckets(sq_hist *h, const json_t *arr, hist_u128 *total,
                             size_t *first, size_t *last, sq_err *err)
{
    size_t max_index = hist_index(h, (uint64_t)h->highest);
    size_t n = json_array_size(arr);
    *total = 0;
    for (size_t k = 0; k < n; k++) {
        const json_t *pair = json_array_get(arr, k);
        if (!json_is_array(pair) || json_array_size(pair) != 2)
            return sq_errf(err, -EINVAL,
                           "histogram: buckets[%zu] must be an [index, count] pair", k);
        const json_t *jidx = json_array_get(pair, 0);
        if (!json_is_integer(jidx))
            return sq_errf(err, -EINVAL, "histogram: buckets[%zu] index must be an integer",
                           k);
        json_int_t idx = json_integer_value(jidx);
        if (idx < 0 || (uint64_t)idx > max_index)
            return sq_errf(err, -EINVAL,
                           "histogram: buckets[%zu] index %lld out of range 0..%zu", k,
                           (long long)idx, max_index);
        if (k > 0 && (size_t)idx <= *last)
            return sq_errf(err, -EINVAL,
                           "histogram: buckets[%zu] index %lld not greater than previous %zu",
                           k, (long long)idx, *last);
        char what[48];
        snprintf(what, sizeof what, "buckets[%zu] count", k);
        hist_u128 c;
        if (hist_get_uint(json_array_get(pair, 1), what, UINT64_MAX, &c, err) < 0)
            return -EINVAL;
        if (c == 0)
            return sq_errf(err, -EINVAL, "histogram: %s must be > 0", what);
        h->counts[idx] = (uint64_t)c;
        *total += c; /* <= n * UINT64_MAX, far below 2^128 */
        if (k == 0)
            *first = (size_t)idx;
        *last = (size_t)idx;
    }
    return 0;
}

/* Checks the summary fields against the loaded counts: min/max inside the
 * first/last slot, clamped values sitting in highest's slot, and sum within
 * the range the slots allow. Returns 0 or -EINVAL. */
static int hist_check_summary(const sq_hist *h, size_t first, size_t last, sq_err *err)
{
    uint64_t lo, hi;
    hist_slot_range(h, first, &lo, &hi);
    if ((uint64_t)h->min < lo || (uint64_t)h->min > hi)
        return sq_errf(err, -EINVAL,
                       "histogram: min %lld not in the first bucket's range %llu..%llu",
                       (long long)h->min, (unsigned long long)lo, (unsigned long long)hi);
    hist_slot_range(h, last, &lo, &hi);
    if ((uint64_t)h->max < lo || (uint64_t)h->max > hi)
        return sq_errf(err, -EINVAL,
                       "histogram: max %lld not in the last bucket's range %llu..%llu",
                       (long long)h->max, (unsigned long long)lo, (unsigned long long)hi);
    if (h->clamped > 0) {
        if (h->max != h->highest)
            return sq_errf(err, -EINVAL,
                           "histogram: clamped %llu but max %lld is not highest %lld",
                           (unsigned long long)h->clamped, (long long)h->max,
                           (long long)h->highest);
        uint64_t at_top = h->counts[hist_index(h, (uint64_t)h->highest)];
        if (h->clamped > at_top)
            return sq_errf(err, -EINVAL,
                           "histogram: clamped %llu exceeds the %llu values in highest's bucket",
                           (unsigned long long)h->clamped, (unsigned long long)at_top);
    }
    /* Each value lies in its slot and within [min, max]: bound the sum. */
    hist_u128 sum_lo = 0, sum_hi = 0;
    for (size_t i = first; i <= last; i++) {
        if (h->counts[i] == 0)
            continue;
        hist_slot_range(h, i, &lo, &hi);
        if (lo < (uint64_t)h->min)
            lo = (uint64_t)h->min;
        if (hi > (uint64_t)h->max)
            hi = (uint64_t)h->max;
        sum_lo += (hist_u128)lo * h->counts[i];
        sum_hi += (hist_u128)hi * h->counts[i];
    }
    if (h->sum < sum_lo || h->sum > sum_hi)
        return sq_errf(err, -EINVAL,
                       "histogram: sum is inconsistent with the buckets, min and max");
    return 0;
}

/* Decodes the JSON encoding into a new histogram owned by the caller, or
 * returns NULL with a message naming the first problem found. */
sq_hist *sq_hist_from_json(const json_t *obj, sq_err *err)
{
    sq_hist *h = NULL;
    int64_t digits, highest, min, max;
    hist_u128 count, sum, clamped, total;
    size_t first = 0, last = 0;

    if (!json_is_object(obj)) {
        sq_errf(err, -EINVAL, "histogram: expected a JSON object");
        goto fail;
    }
    if (hist_get_int(obj, "digits", 1, 5, &digits, err) < 0 ||
        hist_get_int(obj, "highest", 1, INT64_MAX, &highest, err) < 0)
        goto fail;
    struct hist_layout lay = {0};
    if (hist_layout((int)digits, highest, &lay) < 0) {
        sq_errf(err, -EINVAL, "histogram: digits %lld and highest %lld need %zu bytes "
                "(limit %zu)", (long long)digits, (long long)highest, lay.bytes,
                HIST_MAX_BYTES);
        goto fail;
    }
    if (hist_get_key_uint(obj, "count", UINT64_MAX, &count, err) < 0 ||
        hist_get_int(obj, "min", 0, highest, &min, err) < 0 ||
        hist_get_int(obj, "max", 0, highest, &max, err) < 0 ||
        hist_get_key_uint(obj, "sum", ~(hist_u128)0, &sum, err) < 0 ||
        hist_get_key_uint(obj, "clamped", UINT64_MAX, &clamped, err) < 0)
        goto fail;
    const json_t *buckets = hist_need(obj, "buckets", err);
    if (!buckets)
        goto fail;
    if (!json_is_array(buckets)) {
        sq_errf(err, -EINVAL, "histogram: \"buckets\" must be an array");
        goto fail;
    }
    if (min > max) {
        sq_errf(err, -EINVAL, "histogram: min %lld > max %lld", (long long)min,
                (long long)max);
        goto fail;
    }
    if (clamped > count) {
        sq_errf(err, -EINVAL, "histogram: clamped exceeds count");
        goto fail;
    }
    if (count == 0 && (min != 0 || max != 0 || sum != 0)) {
        sq_errf(err, -EINVAL, "histogram: min, max and sum must be 0 when count is 0");
        goto fail;
    }

    h = sq_hist_new((int)digits, highest);
    if (!h) {
        sq_errf(err, -ENOMEM, "histogram: out of memory");
        goto fail;
    }
    if (hist_load_buckets(h, buckets, &total, &first, &last, err) < 0)
        goto fail;
    if (total != count) {
        sq_errf(err, -EINVAL, "histogram: bucket counts add up to %s than \"count\"",
                total < count ? "less" : "more");
        goto fail;
    }
    h->total = (uint64_t)count;
    h->clamped = (uint64_t)clamped;
    h->sum = sum;
    if (count > 0) {
        h->min = min;
        h->max = max;
        if (hist_check_summary(h, first, last, err) < 0)
            goto fail;
    }
    return h;
fail:
    sq_hist_free(h);
    return NULL;
}
