/* engine.h — what the engine shares with its workers (private to loadgen/):
 * the configuration, the common start time, the stop request, and the
 * interval aggregator that turns each worker's per-interval stats into one
 * series line. */
#ifndef LG_ENGINE_H
#define LG_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "loadgen/agg.h"
#include "loadgen/loadgen.h"
#include "loadgen/stats.h"

typedef struct lg_shared {
    const lg_config *cfg;
    unsigned n_workers;
    int64_t t0_mono; /* run start (mono ns); intervals are aligned to it */
    int64_t t0_utc;

    atomic_int stop;      /* 1: stop sending, drain; 2: cancel now */
    atomic_llong stop_at; /* mono ns of the first stop request, 0 if none */

    lg_agg agg; /* workers' intervals on their way to series.jsonl */
    struct lg_feeder *feeder; /* replay: the feeder (feeder.h), else NULL */
    sq_rundir *rd;            /* where the ledger goes */
    atomic_int ledger_dirty;  /* ledger lines written since the last fsync */
} lg_shared;

typedef struct lg_worker lg_worker;
struct lg_recq;

/* Creates worker `id` with `slots` concurrent transfers. Caller owns it
 * (lg_worker_free). Returns 0 or a negative errno with a message. */
int lg_worker_new(lg_shared *sh, unsigned id, unsigned slots, lg_worker **out, sq_err *err);

/* Makes worker w take its requests from the replay queue q (not owned). */
void lg_worker_attach_queue(lg_worker *w, struct lg_recq *q);

/* Thread entry: runs the worker's loop until its share of the load is done
 * (or it is stopped) and every transfer has ended. */
void *lg_worker_main(void *worker);

/* Wakes the worker's loop so it notices a stop request (any thread). */
void lg_worker_wake(lg_worker *w);

/* The worker's per-route statistics (owned by the worker). */
const struct lg_routes *lg_worker_routes(const lg_worker *w);

/* The first error message worker w saw in class c ("" if none; owned by w). */
const char *lg_worker_first_error(const lg_worker *w, int c);

/* The worker's ledger counts: lines written and writes left unrecorded. */
void lg_worker_ledger_counts(const lg_worker *w, uint64_t *written, uint64_t *lost);

/* Frees the worker (after its thread has been joined). */
void lg_worker_free(lg_worker *w);

#endif
