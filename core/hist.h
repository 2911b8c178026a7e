/* hist.h — log-linear (HDR-style) histogram of non-negative integer values.
 *
 * Values are recorded in a unit chosen by the caller (squall records latency in
 * microseconds). Precision is `digits` significant decimal digits (1..5,
 * default 3): any recorded value v is reported back as a value within
 * v * 10^-digits of it. The range is 0 .. highest (at least 1 h in µs by
 * default). Memory is fixed at creation; recording never allocates.
 * Values above `highest` are clamped to it and counted in `clamped`.
 *
 * Two histograms merge exactly when they share digits and highest.
 */
#ifndef SQ_HIST_H
#define SQ_HIST_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "err.h"

#define SQ_HIST_DEFAULT_DIGITS 3
#define SQ_HIST_DEFAULT_HIGHEST 3600000000LL /* 1 h in µs */

typedef struct sq_hist sq_hist;

/* Creates an empty histogram covering 0..highest with `digits` significant
 * digits. Returns NULL on bad arguments or out of memory. Caller owns it and
 * frees it with sq_hist_free(). */
sq_hist *sq_hist_new(int digits, int64_t highest);

/* Frees h (NULL is fine). */
void sq_hist_free(sq_hist *h);

/* Removes every recorded value, keeping the configuration. */
void sq_hist_reset(sq_hist *h);

/* Records value once / n times. Negative values count as 0. */
void sq_hist_record(sq_hist *h, int64_t value);
void sq_hist_record_n(sq_hist *h, int64_t value, uint64_t n);

/* Adds every count of src into dst. Returns 0, or -EINVAL (message in err)
 * when the two differ in digits or highest. */
int sq_hist_merge(sq_hist *dst, const sq_hist *src, sq_err *err);

/* Number of recorded values. */
uint64_t sq_hist_count(const sq_hist *h);

/* Smallest / largest recorded value, exact (0 when empty). */
int64_t sq_hist_min(const sq_hist *h);
int64_t sq_hist_max(const sq_hist *h);

/* Exact mean of recorded values (sum kept exactly); 0 when empty. */
double sq_hist_mean(const sq_hist *h);

/* Number of values recorded above `highest` and clamped. */
uint64_t sq_hist_clamped(const sq_hist *h);

/* The value at percentile p (0..100): the smallest recorded value's
 * equivalent such that at least p% of values are <= it (p=100 gives max,
 * p=0 gives min). 0 when empty. */
int64_t sq_hist_percentile(const sq_hist *h, double p);

/* Number of recorded values <= value (counting each bucket by its highest
 * equivalent value; exact at bucket boundaries). */
uint64_t sq_hist_count_at_or_below(const sq_hist *h, int64_t value);

/* Configuration accessors. */
int sq_hist_digits(const sq_hist *h);
int64_t sq_hist_highest(const sq_hist *h);

/* Iterates non-empty buckets in increasing value order. Start with
 * *cursor = 0; each call returns 1 and fills the bucket's lowest and highest
 * equivalent values and its count, or returns 0 when done. */
int sq_hist_next_bucket(const sq_hist *h, size_t *cursor, int64_t *lo, int64_t *hi,
                        uint64_t *count);

/* Encodes h losslessly as a sparse JSON object:
 *   {"digits":3,"highest":N,"count":N,"min":N,"max":N,"sum":N,"clamped":N,
 *    "buckets":[[index,count],...]}
 * Returns a new reference owned by the caller, or NULL on out of memory. */
json_t *sq_hist_to_json(const sq_hist *h);

/* Decodes the encoding above into a new histogram owned by the caller.
 * Rejects malformed input (wrong types, indexes out of range or not
 * increasing, counts that do not add up) with NULL and a precise message. */
sq_hist *sq_hist_from_json(const json_t *obj, sq_err *err);

#endif
