/* agg.c — the interval aggregator between workers and the series writer. */
#include "agg.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Initialises the ring, the lock and the wake-up eventfd. */
int lg_agg_init(lg_agg *a, unsigned n_workers, int digits, sq_err *err)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->wake_fd = -1;
    if (n_workers < 1 || n_workers > LG_MAX_WORKERS)
        return sq_errf(err, -EINVAL, "workers must be 1..%d", LG_MAX_WORKERS);
    a->n_workers = n_workers;
    for (int i = 0; i < LG_RING; i++)
        if (!(a->ring[i] = lg_stats_new(digits)))
            return sq_errf(err, -ENOMEM, "out of memory");
    if (!(a->spare = lg_stats_new(digits)))
        return sq_errf(err, -ENOMEM, "out of memory");
    a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->wake_fd < 0)
        return sq_errf(err, -errno, "eventfd: %s", strerror(errno));
    return 0;
}

/* Releases the ring, the lock and the eventfd. */
void lg_agg_destroy(lg_agg *a)
{
    for (int i = 0; i < LG_RING; i++)
        lg_stats_free(a->ring[i]);
    lg_stats_free(a->spare);
    if (a->wake_fd >= 0)
        close(a->wake_fd);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    memset(a, 0, sizeof *a);
    a->wake_fd = -1;
}

/* Wakes the writer (the eventfd counter cannot overflow in practice). */
static void wake(lg_agg *a)
{
    uint64_t one = 1;
    if (write(a->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN only at a counter of 2^64-2: the writer is awake anyway */
    }
}

/* Merges interval `interval` of worker id into the ring; called locked. */
static void merge_locked(lg_agg *a, unsigned id, uint64_t interval, const lg_stats *s)
{
    while (interval >= a->ring_base + LG_RING)
        pthread_cond_wait(&a->cv, &a->mu);
    lg_stats_merge(a->ring[interval % LG_RING], s);
    a->delivered[id] = interval + 1;
}

/* Merges one worker's interval into the ring. */
void lg_agg_deliver(lg_agg *a, unsigned id, uint64_t interval, const lg_stats *s)
{
    pthread_mutex_lock(&a->mu);
    merge_locked(a, id, interval, s);
    pthread_mutex_unlock(&a->mu);
    wake(a);
}

/* Delivers a worker's last interval and marks it finished, atomically. */
void lg_agg_finish(lg_agg *a, unsigned id, uint64_t interval, const lg_stats *s, int64_t now,
                   uint64_t unsent)
{
    pthread_mutex_lock(&a->mu);
    merge_locked(a, id, interval, s);
    a->done[id] = 1;
    a->finished_at[id] = now;
    a->unsent[id] = unsent;
    pthread_mutex_unlock(&a->mu);
    wake(a);
}

/* Hands every complete interval to take, in order, outside the lock. */
int lg_agg_drain(lg_agg *a, int final,
                 int (*take)(uint64_t interval, lg_stats *s, int last, void *ctx), void *ctx)
{
    int rc = 0;
    uint64_t drained;
    if (read(a->wake_fd, &drained, sizeof drained) < 0) {
        /* EAGAIN: nothing new since the last drain; look anyway */
    }
    pthread_mutex_lock(&a->mu);
    uint64_t limit = UINT64_MAX, most = 0;
    for (unsigned w = 0; w < a->n_workers; w++) {
        if (a->delivered[w] > most)
            most = a->delivered[w];
        if (!a->done[w] && a->delivered[w] < limit)
            limit = a->delivered[w];
    }
    if (final)
        limit = most;
    else if (limit == UINT64_MAX)
        limit = 0; /* everyone finished: the rest is the final drain's */
    while (a->ring_base < limit && rc == 0) {
        uint64_t i = a->ring_base;
        lg_stats *s = a->ring[i % LG_RING];
        a->ring[i % LG_RING] = a->spare; /* the slot is free for interval i + LG_RING */
        a->ring_base++;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        rc = take(i, s, final && i + 1 == limit, ctx);
        lg_stats_reset(s);
        pthread_mutex_lock(&a->mu);
        a->spare = s;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* Whether workers 0..n-1 have all finished. */
int lg_agg_all_done(lg_agg *a, unsigned n)
{
    pthread_mutex_lock(&a->mu);
    int done = 1;
    for (unsigned i = 0; i < n; i++)
        done &= a->done[i];
    pthread_mutex_unlock(&a->mu);
    return done;
}
