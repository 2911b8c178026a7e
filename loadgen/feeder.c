/* feeder.c — the replay feeder thread and its per-worker queues
 * (feeder.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen/feeder.h"
#include "loadgen/tally.h"
#include "loadgen/worker_int.h"

/* The next record of q, or NULL (worker side). */
lg_rec *lg_recq_peek(lg_recq *q)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (h == atomic_load_explicit(&q->tail, memory_order_acquire))
        return NULL;
    return q->ring[h & (LG_FEED_QUEUE - 1)];
}

/* Takes the peeked record (worker side). */
void lg_recq_pop(lg_recq *q)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_fetch_sub(q->bytes, q->ring[h & (LG_FEED_QUEUE - 1)]->size);
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
}

/* Queues r unless q is full (feeder side). Returns 1 when queued. */
static int recq_push(lg_recq *q, lg_rec *r)
{
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t - atomic_load_explicit(&q->head, memory_order_acquire) >= LG_FEED_QUEUE)
        return 0;
    q->ring[t & (LG_FEED_QUEUE - 1)] = r;
    atomic_fetch_add(q->bytes, r->size);
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    return 1;
}

/* The interval index of offset at_ns. */
static uint64_t interval_of(const lg_feeder *f, int64_t at_ns)
{
    return at_ns > 0 ? (uint64_t)(at_ns / f->sh->cfg->interval_ns) : 0;
}

/* Counts one planned request at offset at_ns (delta +1), or takes one off
 * the plan (-1); one whose interval was already written counts in the
 * first one that was not. */
static void plan_add(lg_feeder *f, int64_t at_ns, int delta)
{
    uint64_t i = interval_of(f, at_ns);
    pthread_mutex_lock(&f->plan_lock);
    if (i < f->written_next)
        i = f->written_next;
    f->planned[i & (LG_FEED_PLAN_RING - 1)] += (uint64_t)(int64_t)delta;
    pthread_mutex_unlock(&f->plan_lock);
}

/* Planned requests of interval i; see feeder.h. */
uint64_t lg_feeder_take_planned(lg_feeder *f, uint64_t i)
{
    pthread_mutex_lock(&f->plan_lock);
    f->written_next = i + 1;
    uint64_t n = f->planned[i & (LG_FEED_PLAN_RING - 1)];
    f->planned[i & (LG_FEED_PLAN_RING - 1)] = 0;
    pthread_mutex_unlock(&f->plan_lock);
    return n;
}

/* The stop's offset from t0, or -1 when no stop was requested. */
static int64_t stop_offset(const lg_feeder *f)
{
    if (!atomic_load(&f->sh->stop))
        return -1;
    int64_t at = atomic_load(&f->sh->stop_at);
    return at ? at - f->sh->t0_mono : 0;
}

/* Empties q; see feeder.h. */
uint64_t lg_feeder_discard(lg_feeder *f, lg_recq *q)
{
    int64_t stop_rel = stop_offset(f);
    uint64_t unsent = 0;
    lg_rec *r;
    while ((r = lg_recq_peek(q))) {
        lg_recq_pop(q);
        if (stop_rel < 0 || r->at_ns <= stop_rel)
            unsent++;
        else
            plan_add(f, r->at_ns, -1);
        free(r);
    }
    return unsent;
}

/* Sleeps ns nanoseconds (less than a second). */
static void nap(int64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
    nanosleep(&ts, NULL);
}

/* Before the start: says the first records are queued and waits for the
 * clock (t0). Returns 1 when stopped first. */
static int wait_go(lg_feeder *f)
{
    atomic_store(&f->primed, 1);
    while (!atomic_load_explicit(&f->go, memory_order_acquire)) {
        if (atomic_load(&f->sh->stop))
            return 1;
        nap(SQ_NS_PER_MS);
    }
    return 0;
}

/* Sleeps until offset at_ns from t0 or a stop, whichever comes first (an
 * offset <= 0 needs no clock: it is queued before the start). Returns 1
 * when stopped. */
static int wait_until(lg_feeder *f, int64_t at_ns)
{
    if (!atomic_load_explicit(&f->go, memory_order_acquire) && (at_ns <= 0 || wait_go(f)))
        return at_ns <= 0 ? 0 : 1;
    for (;;) {
        if (atomic_load(&f->sh->stop))
            return 1;
        int64_t left = f->sh->t0_mono + at_ns - sq_mono_ns();
        if (left <= 0)
            return 0;
        if (left > 20 * SQ_NS_PER_MS)
            left = 20 * SQ_NS_PER_MS;
        nap(left);
    }
}

/* Hands r to worker wid, waiting while its queue is full. Returns 1 when
 * stopped first (r is then the caller's). */
static int hand_over(lg_feeder *f, unsigned wid, lg_rec *r)
{
    lg_recq *q = &f->q[wid];
    /* a full queue, or too many bytes queued (one record always fits) */
    while ((atomic_load(&f->bytes) > 0 && atomic_load(&f->bytes) + r->size > LG_FEED_MAX_BYTES) ||
           !recq_push(q, r)) {
        if (atomic_load(&f->sh->stop))
            return 1;
        if (!atomic_load_explicit(&f->go, memory_order_acquire) && wait_go(f))
            return 1; /* the workers only start taking records once the run starts */
        nap(SQ_NS_PER_MS);
    }
    /* pairs with the worker's fence between setting starving and re-reading the
     * queue: either it sees this record, or this sees it starving */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_exchange(&q->starving, 0))
        lg_worker_wake(f->workers[wid]);
    return 0;
}

/* Whether clone c of a request (k-th of the stream, with user id `user`)
 * belongs to this shard: by user and clone when there is a user, so that
 * a user's session stays on one shard, else by k. */
static int mine(const lg_config *cfg, const char *user, uint32_t c, uint64_t k)
{
    if (cfg->shard_count <= 1)
        return 1;
    uint64_t h = user ? lg_hash_bytes(user, strlen(user)) * 0x9E3779B97F4A7C15ULL + c : k;
    return h % cfg->shard_count == cfg->shard_index;
}

/* State of one pass of the feeder over the file. */
typedef struct feed_run {
    lg_feeder *f;
    lg_rec_ctx ctx;
    uint64_t k;     /* requests of the stream so far (all shards) */
    unsigned rr;    /* next worker */
    int stopped;
} feed_run;

/* Queues (or, after a stop, counts) the clones of one kept request at
 * offset base. Returns 1 when the replay is over for this shard (past the
 * stop), 0 to go on, or -ENOMEM. */
static int feed_request(feed_run *fr, const lg_traffic_req *req, int64_t base)
{
    lg_feeder *f = fr->f;
    const lg_config *cfg = f->sh->cfg;
    unsigned clones = lg_replay_opts_of(f->replay)->clones;
    if (!fr->stopped)
        fr->stopped = wait_until(f, base - LG_FEED_AHEAD_NS);
    for (uint32_t c = 1; c <= clones; c++) {
        uint64_t k = fr->k++;
        if (!mine(cfg, req->user, c, k))
            continue;
        if (fr->stopped) {
            if (base > stop_offset(f))
                return 1;
            plan_add(f, base, 1); /* it was due: intended, and never sent */
            atomic_fetch_add(&f->unsent, 1);
            continue;
        }
        lg_rec *r;
        if (lg_rec_build(req, &fr->ctx, clones > 1 ? c : 0, base, &r))
            return -ENOMEM;
        plan_add(f, base, 1);
        if (hand_over(f, fr->rr, r)) {
            fr->stopped = 1;
            if (base <= stop_offset(f))
                atomic_fetch_add(&f->unsent, 1);
            else
                plan_add(f, base, -1);
            free(r);
            continue;
        }
        fr->rr = (fr->rr + 1) % f->n_workers;
    }
    return 0;
}

/* One pass over the file; returns 1 when the replay is over, 0 at the end
 * of the file, or a negative errno (f->err set). */
static int feed_pass(feed_run *fr, uint64_t pass)
{
    lg_feeder *f = fr->f;
    const lg_replay_opts *o = lg_replay_opts_of(f->replay);
    const lg_replay_plan *p = lg_replay_plan_of(f->replay);
    lg_traffic *t = NULL;
    int rc = lg_traffic_open(o->path, p->format, &o->traffic, &t, &f->err);
    if (rc)
        return rc;
    lg_traffic_req req;
    while ((rc = lg_traffic_next(t, &req, &f->err)) == 1) {
        int keep = req.user ? lg_replay_keep_user(req.user, o->seed, o->sample)
                            : lg_replay_keep_line(req.line, o->seed, o->sample);
        if (!keep)
            continue;
        int64_t base = (int64_t)pass * p->pass_ns +
                       (int64_t)((double)(req.ts_ns - p->first_ns) / p->speed);
        if (p->duration_ns > 0 && base >= p->duration_ns) {
            rc = 1;
            break;
        }
        rc = feed_request(fr, &req, base);
        if (rc < 0)
            rc = sq_errf(&f->err, rc, "out of memory building requests");
        if (rc)
            break;
    }
    lg_traffic_close(t);
    return rc;
}

/* Thread entry: feeds every pass, then closes the queues. */
static void *feeder_main(void *arg)
{
    lg_feeder *f = arg;
    const lg_config *cfg = f->sh->cfg;
    const lg_replay_opts *o = lg_replay_opts_of(f->replay);
    feed_run fr = {.f = f,
                   .ctx = {.run_id = cfg->run_id,
                           .tag_header = cfg->tag_header,
                           .extra_headers = cfg->headers,
                           .n_extra = cfg->n_headers,
                           .clones = o->clones,
                           .rng = f->rng}};
    int rc = 0;
    for (uint64_t pass = 0; rc == 0; pass++) {
        rc = feed_pass(&fr, pass);
        if (!o->loop)
            break;
    }
    if (rc < 0) {
        f->rc = rc;
        /* a file that cannot be read any more stops the run: what is in flight
         * may finish (as after a first Ctrl-C) */
        int none = 0;
        long long zero = 0;
        atomic_compare_exchange_strong(&f->sh->stop_at, &zero, sq_mono_ns());
        atomic_compare_exchange_strong(&f->sh->stop, &none, 1);
    }
    atomic_store(&f->primed, 1);
    for (unsigned i = 0; i < f->n_workers; i++) {
        atomic_store(&f->q[i].closed, 1);
        if (atomic_load_explicit(&f->go, memory_order_acquire))
            lg_worker_wake(f->workers[i]);
    }
    return NULL;
}

/* Creates the feeder; see feeder.h. */
int lg_feeder_new(lg_shared *sh, lg_worker **workers, unsigned n_workers, lg_feeder **out,
                  sq_err *err)
{
    lg_feeder *f = calloc(1, sizeof *f);
    if (!f)
        return sq_errf(err, -ENOMEM, "out of memory");
    f->sh = sh;
    f->replay = sh->cfg->replay;
    f->workers = workers;
    f->n_workers = n_workers;
    f->rng[0] = (uint64_t)sq_utc_ns() ^ 0x9E3779B97F4A7C15ULL;
    f->rng[1] = (uint64_t)sq_mono_ns() * 0xBF58476D1CE4E5B9ULL | 1;
    pthread_mutex_init(&f->plan_lock, NULL);
    for (unsigned i = 0; i < n_workers; i++) {
        f->q[i].bytes = &f->bytes;
        f->q[i].ring = malloc(LG_FEED_QUEUE * sizeof *f->q[i].ring);
        if (!f->q[i].ring) {
            lg_feeder_free(f);
            return sq_errf(err, -ENOMEM, "out of memory");
        }
    }
    *out = f;
    return 0;
}

/* Starts the thread. */
int lg_feeder_start(lg_feeder *f, sq_err *err)
{
    if (pthread_create(&f->thread, NULL, feeder_main, f) != 0)
        return sq_errf(err, -EAGAIN, "cannot start the replay feeder thread");
    f->started = 1;
    return 0;
}

/* Waits for the first records; see feeder.h. */
void lg_feeder_wait_primed(lg_feeder *f)
{
    int64_t until = sq_mono_ns() + LG_FEED_PRIME_MAX_NS;
    while (!atomic_load(&f->primed) && sq_mono_ns() < until) {
        nap(SQ_NS_PER_MS);
    }
}

/* Lets the feeder follow the clock; see feeder.h. */
void lg_feeder_go(lg_feeder *f)
{
    atomic_store_explicit(&f->go, 1, memory_order_release);
}

/* Joins the thread and empties the queues; see feeder.h. */
int lg_feeder_join(lg_feeder *f, sq_err *err)
{
    if (f->started) {
        pthread_join(f->thread, NULL);
        f->started = 0;
    }
    for (unsigned i = 0; i < f->n_workers; i++)
        atomic_fetch_add(&f->unsent, lg_feeder_discard(f, &f->q[i]));
    if (f->rc)
        return sq_errf(err, f->rc, "%s", f->err.msg);
    return 0;
}

/* Frees the feeder and whatever is still queued. */
void lg_feeder_free(lg_feeder *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n_workers; i++) {
        if (!f->q[i].ring)
            continue;
        lg_rec *r;
        while ((r = lg_recq_peek(&f->q[i]))) {
            lg_recq_pop(&f->q[i]);
            free(r);
        }
        free(f->q[i].ring);
    }
    pthread_mutex_destroy(&f->plan_lock);
    free(f);
}
