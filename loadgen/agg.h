/* agg.h — the interval aggregator (private to loadgen/): workers deliver
 * their stats for each interval as they roll over; the writer takes an
 * interval once every worker still running has delivered it, so series lines
 * come out complete and in order. Thread-safe; workers block only if they
 * run LG_RING intervals ahead of the writer. */
#ifndef LG_AGG_H
#define LG_AGG_H

#include <pthread.h>
#include <stdint.h>

#include "loadgen/stats.h"

#define LG_MAX_WORKERS 256
#define LG_RING 8 /* intervals a worker may run ahead of the writer */

typedef struct lg_agg {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n_workers;
    lg_stats *ring[LG_RING]; /* interval i lives in ring[i % LG_RING] */
    lg_stats *spare;         /* swapped with a ring slot while the writer takes it */
    uint64_t ring_base;      /* oldest interval not yet taken */
    uint64_t delivered[LG_MAX_WORKERS]; /* next interval each worker will deliver */
    int done[LG_MAX_WORKERS];
    int64_t finished_at[LG_MAX_WORKERS]; /* mono ns when each worker ended */
    uint64_t unsent[LG_MAX_WORKERS];     /* each worker's never-sent count */
    int wake_fd; /* eventfd, readable after a delivery or a finish */
} lg_agg;

/* Sets up a for n_workers (1..LG_MAX_WORKERS) with histograms of `digits`.
 * Returns 0 or a negative errno with a message; lg_agg_destroy either way. */
int lg_agg_init(lg_agg *a, unsigned n_workers, int digits, sq_err *err);

/* Frees what lg_agg_init allocated. */
void lg_agg_destroy(lg_agg *a);

/* Worker `id` merges its stats for `interval` (waiting while the writer is
 * LG_RING intervals behind). Intervals must be delivered in order. */
void lg_agg_deliver(lg_agg *a, unsigned id, uint64_t interval, const lg_stats *s);

/* Worker `id` delivers its last (possibly partial) interval and finishes,
 * in one step, so the writer never mistakes it for a full interval. */
void lg_agg_finish(lg_agg *a, unsigned id, uint64_t interval, const lg_stats *s, int64_t now,
                   uint64_t unsent);

/* Calls take(i, stats, last, ctx) for each interval every unfinished worker
 * has delivered, in order, then resets it. Without `final`, intervals are
 * taken only while some worker still runs (the last ones wait for the final
 * drain); with `final`, every delivered interval is taken and `last` marks
 * the final one. Stops at and returns take's first non-zero result. take
 * runs without the lock held (only the writer thread drains). */
int lg_agg_drain(lg_agg *a, int final,
                 int (*take)(uint64_t interval, lg_stats *s, int last, void *ctx), void *ctx);

/* 1 when the first n workers have all finished. */
int lg_agg_all_done(lg_agg *a, unsigned n);

#endif
