/* delay.c — the delay queue: a min-heap of suspended connections ordered by
 * when they are due, served by one thread that sleeps on a condition variable
 * (timed wait on CLOCK_MONOTONIC) and resumes each connection when its time
 * comes. Worker threads never sleep: a delayed request costs one heap entry. */
#include "tg_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

#define TG_RESUME_BATCH 64

/* A connection waiting to be resumed at due_ns (monotonic). */
typedef struct tg_timer {
    int64_t due_ns;
    struct MHD_Connection *conn;
} tg_timer;

struct tg_delay {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int thread_started;
    int stopping; /* under mu: no more suspends; thread resumes all and exits */
    int joined;
    tg_timer *heap;
    size_t n, cap;
};

/* Restores the heap order upwards from index i. */
static void sift_up(tg_timer *h, size_t i)
{
    tg_timer x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].due_ns <= x.due_ns)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

/* Restores the heap order downwards from index 0 over n entries. */
static void sift_down(tg_timer *h, size_t n)
{
    size_t i = 0;
    tg_timer x = h[0];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1].due_ns < h[c].due_ns)
            c++;
        if (x.due_ns <= h[c].due_ns)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Removes and returns the earliest entry (heap not empty). Caller holds mu. */
static tg_timer heap_pop(tg_delay *d)
{
    tg_timer top = d->heap[0];
    if (--d->n > 0) {
        d->heap[0] = d->heap[d->n];
        sift_down(d->heap, d->n);
    }
    return top;
}

/* Converts a monotonic ns time into a timespec for pthread_cond_timedwait. */
static struct timespec to_timespec(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / SQ_NS_PER_S);
    ts.tv_nsec = (long)(ns % SQ_NS_PER_S);
    return ts;
}

/* The delay thread: resumes connections as they fall due; on stop, resumes
 * every remaining one and returns. */
static void *delay_main(void *arg)
{
    tg_delay *d = arg;
    struct MHD_Connection *batch[TG_RESUME_BATCH];

    pthread_mutex_lock(&d->mu);
    for (;;) {
        size_t nb = 0;
        int64_t now = sq_mono_ns();
        while (d->n > 0 && nb < TG_RESUME_BATCH && (d->stopping || d->heap[0].due_ns <= now))
            batch[nb++] = heap_pop(d).conn;
        if (nb > 0) {
            /* Resume outside the lock so that workers can keep suspending. */
            pthread_mutex_unlock(&d->mu);
            for (size_t i = 0; i < nb; i++)
                MHD_resume_connection(batch[i]);
            pthread_mutex_lock(&d->mu);
            continue;
        }
        if (d->stopping)
            break;
        if (d->n == 0) {
            pthread_cond_wait(&d->cv, &d->mu);
        } else {
            struct timespec ts = to_timespec(d->heap[0].due_ns);
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Creates the queue and starts its thread (see tg_internal.h). */
int tg_delay_new(tg_delay **out, sq_err *err)
{
    int rc;
    pthread_condattr_t ca;
    tg_delay *d = calloc(1, sizeof *d);
    if (!d)
        return sq_errf(err, -ENOMEM, "out of memory");
    d->cap = 256;
    d->heap = malloc(d->cap * sizeof *d->heap);
    if (!d->heap) {
        free(d);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    if ((rc = pthread_create(&d->thread, NULL, delay_main, d)) != 0) {
        tg_delay_free(d);
        return sq_errf(err, -rc, "cannot start the delay thread: %s", strerror(rc));
    }
    d->thread_started = 1;
    *out = d;
    return 0;
}

/* Suspends conn and schedules it (see tg_internal.h). The suspend happens
 * under the queue lock, so the delay thread can only resume a connection
 * that is already suspended. */
int tg_delay_suspend(tg_delay *d, struct MHD_Connection *conn, int64_t due_ns)
{
    int rc = 0;
    pthread_mutex_lock(&d->mu);
    if (d->stopping) {
        rc = -ESHUTDOWN;
        goto out;
    }
    if (d->n == d->cap) {
        tg_timer *nh = realloc(d->heap, 2 * d->cap * sizeof *nh);
        if (!nh) {
            rc = -ENOMEM;
            goto out;
        }
        d->heap = nh;
        d->cap *= 2;
    }
    MHD_suspend_connection(conn);
    d->heap[d->n].due_ns = due_ns;
    d->heap[d->n].conn = conn;
    sift_up(d->heap, d->n);
    d->n++;
    /* Wake the thread only when its next deadline moved earlier. */
    if (d->heap[0].conn == conn)
        pthread_cond_signal(&d->cv);
out:
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* Resumes everything, refuses new suspends, joins the thread. */
void tg_delay_drain(tg_delay *d)
{
    if (!d || d->joined)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (d->thread_started)
        pthread_join(d->thread, NULL);
    d->joined = 1;
}

/* Drains and frees the queue. */
void tg_delay_free(tg_delay *d)
{
    if (!d)
        return;
    tg_delay_drain(d);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->heap);
    free(d);
}
