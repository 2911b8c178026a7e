/* progress.h — the one live progress line on a terminal (private to
 * loadgen/): elapsed, intended/achieved rate, p50/p99, errors, late. */
#ifndef LG_PROGRESS_H
#define LG_PROGRESS_H

#include <stdint.h>

#include "loadgen/stats.h"

typedef struct lg_progress {
    int enabled;
    int printed;
    double total_s;
} lg_progress;

/* Sets up the line; enabled = 0 makes every call a no-op. */
void lg_progress_init(lg_progress *p, int enabled, double total_s);

/* Redraws the line after an interval ending at elapsed_s, with its intended
 * and achieved rates in req/s. */
void lg_progress_interval(lg_progress *p, double elapsed_s, double rate_intended,
                          double rate_achieved, const lg_stats *interval, const lg_stats *total);

/* Ends the line (newline) if one was drawn. */
void lg_progress_finish(lg_progress *p);

/* Formats a latency in µs as "850us", "12.3ms", "1.20s" into buf. */
char *lg_format_latency_us(int64_t us, char *buf, unsigned long len);

#endif
