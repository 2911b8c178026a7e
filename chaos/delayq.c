/* delayq.c — the delay proxy's data structures: per-direction FIFOs of
 * chunks held back until due (order kept, bytes capped), the random delay
 * of each chunk, and a min-heap of due times that tells the proxy's loop
 * when to wake. Pure: no sockets, no clock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chaos/ch_internal.h"

/* Appends a chunk (see ch_internal.h); the due time is raised to the last
 * one so that the queue never reorders. */
int ch_delayq_push(ch_delayq *q, const void *data, size_t len, int eof, int64_t due_ns)
{
    ch_chunk *c = malloc(sizeof *c + len);
    if (!c)
        return -ENOMEM;
    c->next = NULL;
    c->due_ns = q->head && due_ns < q->last_due ? q->last_due : due_ns;
    c->len = len;
    c->off = 0;
    c->eof = eof;
    if (len)
        memcpy(c->data, data, len);
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->last_due = c->due_ns;
    q->bytes += sizeof *c + len;
    return 0;
}

/* Frees the head chunk and uncharges it. */
void ch_delayq_pop(ch_delayq *q)
{
    ch_chunk *c = q->head;
    if (!c)
        return;
    q->head = c->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= sizeof *c + c->len;
    free(c);
}

/* Bytes the next read may take (see ch_internal.h). */
size_t ch_delayq_room(const ch_delayq *q, size_t cap)
{
    size_t used = q->bytes + sizeof(ch_chunk);
    if (used >= cap)
        return 0;
    size_t room = cap - used;
    if (room < CH_CHUNK_MIN)
        return 0;
    return room > CH_CHUNK_MAX ? CH_CHUNK_MAX : room;
}

/* Frees every chunk of q. */
void ch_delayq_clear(ch_delayq *q)
{
    while (q->head)
        ch_delayq_pop(q);
    q->last_due = 0;
}

/* xorshift64* step: the next pseudo-random 64-bit value of *s. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [latency - jitter, latency + jitter], clamped at 0. */
int64_t ch_delay_pick(int64_t latency_ns, int64_t jitter_ns, uint64_t *rng)
{
    if (jitter_ns <= 0)
        return latency_ns > 0 ? latency_ns : 0;
    uint64_t span = (uint64_t)jitter_ns * 2 + 1;
    int64_t d = latency_ns - jitter_ns + (int64_t)(next_rand(rng) % span);
    return d > 0 ? d : 0;
}

/* ---- the timer heap ---------------------------------------------------------------- */

/* Allocates room for cap nodes. 0 or -ENOMEM. */
int ch_heap_init(ch_heap *h, size_t cap)
{
    h->n = 0;
    h->cap = cap;
    h->v = calloc(cap ? cap : 1, sizeof *h->v);
    return h->v ? 0 : -ENOMEM;
}

/* Frees the heap's array (not the nodes, which belong to their owners). */
void ch_heap_free(ch_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

/* Puts x at position i and records it there. */
static void place(ch_heap *h, size_t i, ch_heap_node *x)
{
    h->v[i] = x;
    x->idx = i;
}

/* Moves the node at i up while it is smaller than its parent. */
static void sift_up(ch_heap *h, size_t i)
{
    ch_heap_node *x = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->key <= x->key)
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, x);
}

/* Moves the node at i down while a child is smaller. */
static void sift_down(ch_heap *h, size_t i)
{
    ch_heap_node *x = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        int64_t best = x->key;
        if (l < h->n && h->v[l]->key < best) {
            m = l;
            best = h->v[l]->key;
        }
        if (l + 1 < h->n && h->v[l + 1]->key < best)
            m = l + 1;
        if (m == i)
            break;
        place(h, i, h->v[m]);
        i = m;
    }
    place(h, i, x);
}

/* Inserts or re-keys x (see ch_internal.h). */
int ch_heap_set(ch_heap *h, ch_heap_node *x, int64_t key)
{
    if (x->idx != CH_HEAP_NONE) {
        int64_t old = x->key;
        x->key = key;
        if (key < old)
            sift_up(h, x->idx);
        else
            sift_down(h, x->idx);
        return 0;
    }
    if (h->n == h->cap)
        return -ENOSPC;
    x->key = key;
    place(h, h->n++, x);
    sift_up(h, x->idx);
    return 0;
}

/* Removes x from the heap when it is in. */
void ch_heap_remove(ch_heap *h, ch_heap_node *x)
{
    size_t i = x->idx;
    if (i == CH_HEAP_NONE)
        return;
    x->idx = CH_HEAP_NONE;
    ch_heap_node *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    sift_up(h, i);
    sift_down(h, last->idx);
}

/* The smallest node, or NULL when empty. */
ch_heap_node *ch_heap_top(const ch_heap *h)
{
    return h->n ? h->v[0] : NULL;
}
