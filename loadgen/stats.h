/* stats.h — counters and latency histograms for one interval or a whole
 * run (private to loadgen/). A worker records into its own lg_stats with no
 * locking; the engine merges them. */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "core/core.h"
#include "loadgen/loadgen.h"

#define LG_MAX_STATUS 600

typedef struct lg_stats {
    uint64_t sent, late, completed;
    uint64_t by_status[LG_MAX_STATUS]; /* exact codes; 0 holds out-of-range codes */
    uint64_t by_error[LG_ERR_COUNT];
    sq_hist *corrected;   /* µs, completion - intended */
    sq_hist *uncorrected; /* µs, completion - actual start */
} lg_stats;

/* Creates zeroed stats with histograms of `digits` significant digits.
 * Caller owns the result (lg_stats_free). NULL on out of memory. */
lg_stats *lg_stats_new(int digits);

/* Frees s (NULL is fine). */
void lg_stats_free(lg_stats *s);

/* Zeroes every counter and histogram. */
void lg_stats_reset(lg_stats *s);

/* Adds src into dst (same digits). */
void lg_stats_merge(lg_stats *dst, const lg_stats *src);

/* Records one response with status code and the two latencies in ns. */
void lg_stats_record_response(lg_stats *s, long status, int64_t corrected_ns,
                              int64_t uncorrected_ns);

/* Sum of by_error. */
uint64_t lg_stats_errors(const lg_stats *s);

/* Adds the counters of s to j as "completed", "status" (exact codes, sparse),
 * "classes" ("2xx": n, ...), "errors" (by class, sparse), "latency_us"
 * ({"corrected": hist, "uncorrected": hist}). Returns 0 or -ENOMEM. */
int lg_stats_to_json(const lg_stats *s, json_t *j);

#endif
