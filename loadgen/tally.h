/* tally.h — counting helpers shared by `traffic inspect` and the replay
 * planner (private to loadgen/): the exact sliding 1-second peak of a
 * timestamp stream, and a hash set/counter map of strings. */
#ifndef LG_TALLY_H
#define LG_TALLY_H

#include <stddef.h>
#include <stdint.h>

/* The largest number of requests in any window [t, t + 1 s). Timestamps
 * must be pushed in non-decreasing order. Memory: 16 bytes per distinct
 * timestamp in the busiest second. */
typedef struct lg_peak {
    int64_t *ts;     /* ring of timestamps in (t - 1 s, t] */
    uint64_t *count; /* requests at each of them */
    size_t head, n, cap;
    uint64_t in_window; /* requests in the ring */
    uint64_t peak;      /* the largest in_window so far */
    int64_t peak_at;    /* first timestamp of the first window with `peak` */
} lg_peak;

/* Adds `count` requests at ts. Returns 0 or -ENOMEM. */
int lg_peak_push(lg_peak *p, int64_t ts, uint64_t count);

/* Frees p's memory (p itself is the caller's). */
void lg_peak_free(lg_peak *p);

/* An open-addressing set of strings, each with a counter. */
typedef struct lg_strset_slot {
    uint64_t hash;
    char *key; /* owned; NULL = empty */
    uint64_t count;
} lg_strset_slot;

typedef struct lg_strset {
    lg_strset_slot *slots;
    size_t cap, n;
} lg_strset;

/* Finds key in s, adding it (count 0) unless the set holds max keys
 * already (then *slot is NULL). *slot points into s until the next call.
 * Returns 0 or -ENOMEM. */
int lg_strset_get(lg_strset *s, const char *key, size_t max, lg_strset_slot **slot);

/* Frees every key and the table (s itself is the caller's). */
void lg_strset_free(lg_strset *s);

/* FNV-1a of s[0..n). */
uint64_t lg_hash_bytes(const char *s, size_t n);

#endif
