/* rng.h — xorshift128+, the fast per-thread randomness of trace ids and
 * ${uuid} (private to loadgen/; not for anything secret). */
#ifndef LG_RNG_H
#define LG_RNG_H

#include <stdint.h>

/* The next 64 random bits of state s (two words, not both zero). */
static inline uint64_t lg_rng_next(uint64_t s[2])
{
    uint64_t x = s[0];
    const uint64_t y = s[1];
    s[0] = y;
    x ^= x << 23;
    s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s[1] + y;
}

#endif
