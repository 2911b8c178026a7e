/* feeder.h — the replay feeder (private to loadgen/): a thread that reads
 * the traffic file again, keeps what the plan keeps, builds each clone's
 * request (lg_rec) and queues it for a worker shortly before its time.
 *
 * Each worker has a single-producer single-consumer queue. The feeder
 * stays at most LG_FEED_AHEAD_NS ahead of the clock and a queue holds at
 * most LG_FEED_QUEUE records, so memory stays flat however long the file.
 * A worker that finds its queue empty sets `starving`; the feeder wakes it
 * after the next push. When the file ends (or the replay is cut) the queues
 * are closed.
 *
 * Accounting: the feeder counts each request it plans into the interval of
 * its intended time (the series' per-interval `intended`); on a stop,
 * requests due before the stop that never reached a worker count as
 * unsent, so that intended = sent + unsent holds exactly.
 */
#ifndef LG_FEEDER_H
#define LG_FEEDER_H

#include <pthread.h>
#include <stdatomic.h>

#include "loadgen/engine.h"
#include "loadgen/replay.h"

#define LG_FEED_AHEAD_NS (500 * SQ_NS_PER_MS)
#define LG_FEED_QUEUE 65536   /* records per worker queue (a power of 2) */
#define LG_FEED_PLAN_RING 4096 /* intervals of planned counts (a power of 2) */

typedef struct lg_recq {
    lg_rec **ring;
    _Atomic size_t head; /* next to take (worker) */
    _Atomic size_t tail; /* next free (feeder) */
    atomic_int closed;   /* no more records will come */
    atomic_int starving; /* the worker waits for a push */
} lg_recq;

typedef struct lg_feeder {
    lg_shared *sh;
    const lg_replay *replay;
    lg_worker **workers;
    unsigned n_workers;
    lg_recq q[LG_MAX_WORKERS];
    pthread_t thread;
    int started;
    atomic_ullong planned[LG_FEED_PLAN_RING]; /* per interval, by index % ring */
    atomic_ullong written_next;               /* first interval not yet written */
    atomic_ullong unsent;                     /* due before a stop, never queued */
    int rc;                                   /* the feeder's error (0: none) */
    sq_err err;
    uint64_t rng[2];
} lg_feeder;

/* Creates the feeder for sh's configuration (cfg->replay set) and its
 * queues. *out is the caller's (lg_feeder_free). Returns 0 or -ENOMEM. */
int lg_feeder_new(lg_shared *sh, lg_worker **workers, unsigned n_workers, lg_feeder **out,
                  sq_err *err);

/* Starts the feeder thread. Returns 0 or -EAGAIN. */
int lg_feeder_start(lg_feeder *f, sq_err *err);

/* Waits for the thread (which ends at the end of the file or after a
 * stop), then empties the queues, counting what was due as unsent.
 * Returns the feeder's error (0 when none; message in err). */
int lg_feeder_join(lg_feeder *f, sq_err *err);

/* Frees the feeder and any record still queued; NULL is a no-op. */
void lg_feeder_free(lg_feeder *f);

/* Worker side: the next record of queue q without taking it, or NULL. */
lg_rec *lg_recq_peek(lg_recq *q);

/* Worker side: takes the record lg_recq_peek returned. */
void lg_recq_pop(lg_recq *q);

/* Worker side, on a stop: takes and frees every queued record; returns how
 * many were due by the stop (unsent); the others are taken off the plan. */
uint64_t lg_feeder_discard(lg_feeder *f, lg_recq *q);

/* Engine side: planned requests of interval i (once; later reads give 0). */
uint64_t lg_feeder_take_planned(lg_feeder *f, uint64_t i);

#endif
