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
#define LG_FEED_MAX_BYTES ((size_t)256 << 20) /* queued records' bytes, all queues */
#define LG_FEED_PRIME_MAX_NS (30 * SQ_NS_PER_S) /* longest wait for the first records */

typedef struct lg_recq {
    lg_rec **ring;
    _Atomic size_t head; /* next to take (worker) */
    _Atomic size_t tail; /* next free (feeder) */
    atomic_int closed;   /* no more records will come */
    atomic_int starving; /* the worker waits for a push */
    _Atomic size_t *bytes; /* the feeder's count of queued bytes */
} lg_recq;

typedef struct lg_feeder {
    lg_shared *sh;
    const lg_replay *replay;
    lg_worker **workers;
    unsigned n_workers;
    lg_recq q[LG_MAX_WORKERS];
    pthread_t thread;
    int started;
    pthread_mutex_t plan_lock;          /* guards planned and written_next */
    uint64_t planned[LG_FEED_PLAN_RING]; /* per interval, by index % ring */
    uint64_t written_next;               /* first interval not yet written */
    atomic_ullong unsent;                /* due before a stop, never queued */
    _Atomic size_t bytes;                /* bytes of the records in the queues */
    atomic_int primed; /* the first records are queued (or the feeder waits for the clock) */
    atomic_int go;     /* t0 is set: the feeder may follow the clock */
    int rc;                                   /* the feeder's error (0: none) */
    sq_err err;
    uint64_t rng[2];
} lg_feeder;

/* Creates the feeder for sh's configuration (cfg->replay set) and its
 * queues. *out is the caller's (lg_feeder_free). Returns 0 or -ENOMEM. */
int lg_feeder_new(lg_shared *sh, lg_worker **workers, unsigned n_workers, lg_feeder **out,
                  sq_err *err);

/* Starts the feeder thread before the run's start time is known: it queues
 * the requests of the first LG_FEED_AHEAD_NS, then waits. Returns 0 or
 * -EAGAIN. */
int lg_feeder_start(lg_feeder *f, sq_err *err);

/* Waits until the feeder has queued its first records (at most
 * LG_FEED_PRIME_MAX_NS), so that the run starts with work in hand. */
void lg_feeder_wait_primed(lg_feeder *f);

/* Tells the feeder that sh->t0_mono is set: it follows the clock from now. */
void lg_feeder_go(lg_feeder *f);

/* Waits for the thread (which ends at the end of the file or after a
 * stop), then empties the queues, counting what was due as unsent.
 * Returns the feeder's error (0 when none; message in err). */
int lg_feeder_join(lg_feeder *f, sq_err *err);

/* Frees the feeder and any record still queued; NULL is a no-op. */
void lg_feeder_free(lg_feeder *f);

/* Worker side: the next record of queue q without taking it, or NULL. */
lg_rec *lg_recq_peek(lg_recq *q);

/* Worker side: takes the record lg_recq_peek returned (it is the caller's
 * from now on). */
void lg_recq_pop(lg_recq *q);

/* Worker side, on a stop: takes and frees every queued record; returns how
 * many were due by the stop (unsent); the others are taken off the plan. */
uint64_t lg_feeder_discard(lg_feeder *f, lg_recq *q);

/* Engine side: planned requests of interval i (once; later reads give 0). */
uint64_t lg_feeder_take_planned(lg_feeder *f, uint64_t i);

#endif
