/* metrics.h — live Prometheus text exposition while a load runs (private to
 * loadgen/). Served by libmicrohttpd on its own thread at any path. */
#ifndef LG_METRICS_H
#define LG_METRICS_H

#include "core/core.h"
#include "loadgen/stats.h"

typedef struct lg_metrics lg_metrics;

/* Starts serving on addr ("HOST:PORT"), keeping histograms of `digits`
 * (the run's). Caller owns *out (lg_metrics_free). Returns 0 or a negative
 * errno (bad address, port in use) with a message. */
int lg_metrics_start(const char *addr, int digits, lg_metrics **out, sq_err *err);

/* Publishes the run totals so far and the latest interval's rates. */
void lg_metrics_update(lg_metrics *m, const lg_stats *total, double rate_intended,
                       double rate_achieved);

/* Renders the exposition text for the current snapshot into a new string
 * owned by the caller (free()). NULL on out of memory. */
char *lg_metrics_render(lg_metrics *m);

/* Stops the server and frees m (NULL is fine). */
void lg_metrics_free(lg_metrics *m);

#endif
