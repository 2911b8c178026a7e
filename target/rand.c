/* rand.c — per-thread pseudo-random numbers (xoshiro256**), so that workers
 * never share a generator or take a lock to draw a number. */
#include "tg_internal.h"

#include <pthread.h>

#include "core/clock.h"

/* The calling thread's generator state; all zero until first use. */
static _Thread_local uint64_t tg_rng[4];

/* One splitmix64 step: used to expand a seed into xoshiro state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Rotates x left by k bits. */
static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Seeds this thread's generator from the clock and the thread's identity. */
static void seed_thread(void)
{
    uint64_t x = (uint64_t)sq_mono_ns() ^ ((uint64_t)(uintptr_t)&tg_rng << 16) ^
                 (uint64_t)pthread_self();
    for (int i = 0; i < 4; i++)
        tg_rng[i] = splitmix64(&x);
    if (!(tg_rng[0] | tg_rng[1] | tg_rng[2] | tg_rng[3]))
        tg_rng[0] = 1;
}

/* Returns the next 64 random bits of the calling thread's generator. */
uint64_t tg_rand_u64(void)
{
    uint64_t *s = tg_rng;
    if (__builtin_expect(!(s[0] | s[1] | s[2] | s[3]), 0))
        seed_thread();
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Returns a uniform double in [0, 1) (53 random bits). */
double tg_rand_unit(void)
{
    return (double)(tg_rand_u64() >> 11) * 0x1.0p-53;
}
