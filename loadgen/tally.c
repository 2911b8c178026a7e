/* tally.c — the sliding 1-second peak and the string set of tally.h.
 *
 * Peak: a ring of the distinct timestamps in (t - 1 s, t] for the newest
 * timestamp t, with the number of requests at each; after each push the
 * ring's total is a candidate. The window is the half-open [first, first +
 * 1 s) for its first timestamp `first`; on ties the earliest window wins. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "loadgen/tally.h"

/* Doubles the ring, keeping its order. Returns 0 or -ENOMEM. */
static int peak_grow(lg_peak *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 1024;
    int64_t *nts = malloc(ncap * sizeof *nts);
    uint64_t *nc = malloc(ncap * sizeof *nc);
    if (!nts || !nc) {
        free(nts);
        free(nc);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->n; i++) {
        nts[i] = p->ts[(p->head + i) % p->cap];
        nc[i] = p->count[(p->head + i) % p->cap];
    }
    free(p->ts);
    free(p->count);
    p->ts = nts;
    p->count = nc;
    p->head = 0;
    p->cap = ncap;
    return 0;
}

/* Adds count requests at ts; see tally.h. */
int lg_peak_push(lg_peak *p, int64_t ts, uint64_t count)
{
    size_t last = p->n ? (p->head + p->n - 1) % p->cap : 0;
    if (p->n && p->ts[last] == ts) {
        p->count[last] += count;
    } else {
        if (p->n == p->cap && peak_grow(p))
            return -ENOMEM;
        size_t at = (p->head + p->n) % p->cap;
        p->ts[at] = ts;
        p->count[at] = count;
        p->n++;
    }
    p->in_window += count;
    while (p->ts[p->head] <= ts - SQ_NS_PER_S) {
        p->in_window -= p->count[p->head];
        p->head = (p->head + 1) % p->cap;
        p->n--;
    }
    if (p->in_window > p->peak) {
        p->peak = p->in_window;
        p->peak_at = p->ts[p->head];
    }
    return 0;
}

/* Frees the ring. */
void lg_peak_free(lg_peak *p)
{
    free(p->ts);
    free(p->count);
    memset(p, 0, sizeof *p);
}

/* FNV-1a of s[0..n). */
uint64_t lg_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Frees every key and the table. */
void lg_strset_free(lg_strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].key);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* Doubles the table. Returns 0 or -ENOMEM. */
static int strset_grow(lg_strset *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    lg_strset_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].key)
            continue;
        size_t j = s->slots[i].hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    return 0;
}

/* Finds or adds key; see tally.h. */
int lg_strset_get(lg_strset *s, const char *key, size_t max, lg_strset_slot **slot)
{
    *slot = NULL;
    if ((s->n + 1) * 4 > s->cap * 3 && strset_grow(s))
        return -ENOMEM;
    size_t n = strlen(key);
    uint64_t h = lg_hash_bytes(key, n);
    size_t j = h & (s->cap - 1);
    while (s->slots[j].key) {
        if (s->slots[j].hash == h && strcmp(s->slots[j].key, key) == 0) {
            *slot = &s->slots[j];
            return 0;
        }
        j = (j + 1) & (s->cap - 1);
    }
    if (s->n >= max)
        return 0;
    s->slots[j].key = strdup(key);
    if (!s->slots[j].key)
        return -ENOMEM;
    s->slots[j].hash = h;
    s->slots[j].count = 0;
    s->n++;
    *slot = &s->slots[j];
    return 0;
}
