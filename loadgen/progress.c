/* progress.c — the live progress line. */
#include "progress.h"

#include <stdio.h>

/* Formats a latency in µs with a unit that keeps 3 significant figures. */
char *lg_format_latency_us(int64_t us, char *buf, unsigned long len)
{
    if (us < 1000)
        snprintf(buf, len, "%lldus", (long long)us);
    else if (us < 1000000)
        snprintf(buf, len, "%.*fms", us < 10000 ? 2 : us < 100000 ? 1 : 0, (double)us / 1e3);
    else
        snprintf(buf, len, "%.2fs", (double)us / 1e6);
    return buf;
}

/* Sets up the progress line. */
void lg_progress_init(lg_progress *p, int enabled, double total_s)
{
    p->enabled = enabled;
    p->printed = 0;
    p->total_s = total_s;
}

/* Redraws the line from the latest interval and the running totals. */
void lg_progress_interval(lg_progress *p, double elapsed_s, double rate_intended,
                          double rate_achieved, const lg_stats *interval, const lg_stats *total)
{
    if (!p->enabled)
        return;
    char p50[32], p99[32];
    uint64_t errors = lg_stats_errors(total);
    uint64_t done = total->completed + errors;
    char total_s[32] = ""; /* empty when the run lasts until stopped (a looped replay) */
    if (p->total_s > 0)
        snprintf(total_s, sizeof total_s, "/%.0fs", p->total_s);
    fprintf(stderr,
            "\r\033[K[%5.0fs%s] rate %.0f/%.0f req/s  p50 %s  p99 %s  errors %llu (%.2f%%)  "
            "late %llu",
            elapsed_s, total_s, rate_intended, rate_achieved,
            lg_format_latency_us(sq_hist_percentile(interval->corrected, 50), p50, sizeof p50),
            lg_format_latency_us(sq_hist_percentile(interval->corrected, 99), p99, sizeof p99),
            (unsigned long long)errors, done ? 100.0 * (double)errors / (double)done : 0.0,
            (unsigned long long)total->late);
    fflush(stderr);
    p->printed = 1;
}

/* Finishes the line. */
void lg_progress_finish(lg_progress *p)
{
    if (p->enabled && p->printed)
        fputc('\n', stderr);
    p->printed = 0;
}
