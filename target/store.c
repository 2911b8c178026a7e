/* store.c — the in-memory item store behind /items: an open-addressing hash
 * table of id -> tag (linear probing, backward-shift deletion) plus a chained
 * table of distinct tags with their live item counts, so that
 * GET /items/count?tag=T is O(1). One mutex guards both. */
#include "tg_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A distinct tag and how many live items carry it. */
typedef struct tg_tag {
    struct tg_tag *next;
    uint64_t hash;
    uint64_t count;
    char name[]; /* NUL-terminated */
} tg_tag;

/* One slot of the item table; id 0 marks an empty slot (ids start at 1). */
typedef struct tg_slot {
    uint64_t id;
    tg_tag *tag;
} tg_slot;

struct tg_store {
    pthread_mutex_t mu;
    uint64_t max_items;
    uint64_t next_id;
    uint64_t count;
    uint64_t created, deleted;
    tg_slot *slots; /* cap slots, cap a power of two */
    size_t cap;
    tg_tag **tags; /* ntag_buckets chains, a power of two */
    size_t ntag_buckets;
    size_t ntags;
};

/* Mixes an id into a table index (ids are sequential; spread them). */
static inline size_t id_hash(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id;
}

/* FNV-1a hash of a tag name. */
static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Creates an empty store (see tg_internal.h). */
tg_store *tg_store_new(uint64_t max_items)
{
    tg_store *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->max_items = max_items;
    st->next_id = 1;
    st->cap = 1024;
    st->ntag_buckets = 64;
    st->slots = calloc(st->cap, sizeof *st->slots);
    st->tags = calloc(st->ntag_buckets, sizeof *st->tags);
    if (!st->slots || !st->tags || pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st->slots);
        free(st->tags);
        free(st);
        return NULL;
    }
    return st;
}

/* Frees the store, its items and its tags. */
void tg_store_free(tg_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->ntag_buckets; i++) {
        tg_tag *t = st->tags[i];
        while (t) {
            tg_tag *next = t->next;
            free(t);
            t = next;
        }
    }
    free(st->tags);
    free(st->slots);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* Finds the tag named name, or NULL. Caller holds the lock. */
static tg_tag *tag_find(tg_store *st, const char *name, uint64_t hash)
{
    for (tg_tag *t = st->tags[hash & (st->ntag_buckets - 1)]; t; t = t->next)
        if (t->hash == hash && strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Doubles the tag table when it gets crowded (best effort: on out of memory
 * the chains just grow longer). Caller holds the lock. */
static void tag_grow(tg_store *st)
{
    size_t n = st->ntag_buckets * 2;
    tg_tag **nb = calloc(n, sizeof *nb);
    if (!nb)
        return;
    for (size_t i = 0; i < st->ntag_buckets; i++) {
        tg_tag *t = st->tags[i];
        while (t) {
            tg_tag *next = t->next;
            t->next = nb[t->hash & (n - 1)];
            nb[t->hash & (n - 1)] = t;
            t = next;
        }
    }
    free(st->tags);
    st->tags = nb;
    st->ntag_buckets = n;
}

/* Returns the tag entry for name, creating it with count 0 if new; NULL on
 * out of memory. Caller holds the lock; the store owns the entry. */
static tg_tag *tag_get(tg_store *st, const char *name)
{
    uint64_t h = str_hash(name);
    tg_tag *t = tag_find(st, name, h);
    if (t)
        return t;
    size_t len = strlen(name);
    t = malloc(sizeof *t + len + 1);
    if (!t)
        return NULL;
    memcpy(t->name, name, len + 1);
    t->hash = h;
    t->count = 0;
    size_t b = h & (st->ntag_buckets - 1);
    t->next = st->tags[b];
    st->tags[b] = t;
    if (++st->ntags > st->ntag_buckets)
        tag_grow(st);
    return t;
}

/* Drops one item's reference to t, freeing t at zero. Caller holds the lock. */
static void tag_release(tg_store *st, tg_tag *t)
{
    if (!t || --t->count > 0)
        return;
    tg_tag **pp = &st->tags[t->hash & (st->ntag_buckets - 1)];
    while (*pp != t)
        pp = &(*pp)->next;
    *pp = t->next;
    st->ntags--;
    free(t);
}

/* Returns the slot index holding id, or cap when absent. Caller holds the lock. */
static size_t slot_find(const tg_store *st, uint64_t id)
{
    size_t mask = st->cap - 1;
    for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        if (st->slots[i].id == id)
            return i;
        if (st->slots[i].id == 0)
            return st->cap;
    }
}

/* Places (id, tag) into slots[0..cap) (id not present). */
static void slot_put(tg_slot *slots, size_t cap, uint64_t id, tg_tag *tag)
{
    size_t mask = cap - 1, i = id_hash(id) & mask;
    while (slots[i].id != 0)
        i = (i + 1) & mask;
    slots[i].id = id;
    slots[i].tag = tag;
}

/* Doubles the item table. Returns 0 or -ENOMEM. Caller holds the lock. */
static int slots_grow(tg_store *st)
{
    size_t n = st->cap * 2;
    tg_slot *ns = calloc(n, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < st->cap; i++)
        if (st->slots[i].id)
            slot_put(ns, n, st->slots[i].id, st->slots[i].tag);
    free(st->slots);
    st->slots = ns;
    st->cap = n;
    return 0;
}

/* Adds an item with tag (copied into the tag table). */
int tg_store_add(tg_store *st, const char *tag, uint64_t *id)
{
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    if (st->count >= st->max_items) {
        rc = -ENOSPC;
        goto out;
    }
    if ((st->count + 1) * 2 > st->cap && (rc = slots_grow(st)))
        goto out;
    tg_tag *t = NULL;
    if (tag && !(t = tag_get(st, tag))) {
        rc = -ENOMEM;
        goto out;
    }
    if (t)
        t->count++;
    *id = st->next_id++;
    slot_put(st->slots, st->cap, *id, t);
    st->count++;
    st->created++;
out:
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* Copies item id's tag out. */
int tg_store_get(tg_store *st, uint64_t id, char *tag, size_t taglen, int *has_tag)
{
    int rc = -ENOENT;
    if (id == 0)
        return rc;
    pthread_mutex_lock(&st->mu);
    size_t i = slot_find(st, id);
    if (i < st->cap) {
        tg_tag *t = st->slots[i].tag;
        *has_tag = t != NULL;
        if (taglen) {
            size_t n = t ? strlen(t->name) : 0;
            if (n >= taglen)
                n = taglen - 1;
            if (t)
                memcpy(tag, t->name, n);
            tag[n] = '\0';
        }
        rc = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* Deletes the item in slot i, closing the gap by shifting later
 * probe-chain entries back (no tombstones). Caller holds the lock. */
static void slot_delete(tg_store *st, size_t i)
{
    size_t mask = st->cap - 1;
    tag_release(st, st->slots[i].tag);
    st->slots[i].id = 0;
    st->slots[i].tag = NULL;
    for (size_t j = (i + 1) & mask; st->slots[j].id; j = (j + 1) & mask) {
        size_t home = id_hash(st->slots[j].id) & mask;
        /* Move j back into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            st->slots[i] = st->slots[j];
            st->slots[j].id = 0;
            st->slots[j].tag = NULL;
            i = j;
        }
    }
    st->count--;
    st->deleted++;
}

/* Deletes item id. */
int tg_store_delete(tg_store *st, uint64_t id)
{
    int rc = -ENOENT;
    if (id == 0)
        return rc;
    pthread_mutex_lock(&st->mu);
    size_t i = slot_find(st, id);
    if (i < st->cap) {
        slot_delete(st, i);
        rc = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* Deletes every item carrying tag: collects their ids in one scan of the
 * table (deleting during the scan would shift entries past the cursor),
 * then deletes each, all under the lock. */
int tg_store_delete_tag(tg_store *st, const char *tag, uint64_t *deleted)
{
    int rc = 0;
    uint64_t *ids = NULL, n = 0;
    *deleted = 0;
    pthread_mutex_lock(&st->mu);
    tg_tag *t = tag_find(st, tag, str_hash(tag));
    if (!t)
        goto out;
    uint64_t want = t->count; /* t is freed with its last item */
    if (!(ids = malloc(want * sizeof *ids))) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < st->cap && n < want; i++)
        if (st->slots[i].id && st->slots[i].tag == t)
            ids[n++] = st->slots[i].id;
    for (uint64_t k = 0; k < n; k++) {
        size_t i = slot_find(st, ids[k]);
        if (i < st->cap)
            slot_delete(st, i);
    }
    *deleted = n;
out:
    pthread_mutex_unlock(&st->mu);
    free(ids);
    return rc;
}

/* Counts all items or those carrying tag. */
uint64_t tg_store_count(tg_store *st, const char *tag)
{
    uint64_t n;
    pthread_mutex_lock(&st->mu);
    if (!tag) {
        n = st->count;
    } else {
        tg_tag *t = tag_find(st, tag, str_hash(tag));
        n = t ? t->count : 0;
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

/* Reports how many items were ever created and deleted. */
void tg_store_totals(tg_store *st, uint64_t *created, uint64_t *deleted)
{
    pthread_mutex_lock(&st->mu);
    *created = st->created;
    *deleted = st->deleted;
    pthread_mutex_unlock(&st->mu);
}
