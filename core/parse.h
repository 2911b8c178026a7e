/* parse.h — parsers for the values users type: durations, rates, sizes,
 * percentages, counts. Each accepts the whole string or rejects it with a
 * message naming the value and what was expected; never partial accepts. */
#ifndef SQ_PARSE_H
#define SQ_PARSE_H

#include <stdint.h>

#include "err.h"

/* Duration: a number followed by a unit: ns, us, ms, s, m, h; may chain
 * ("1m30s"); decimals allowed ("1.5s"). A bare "0" is 0. Result in ns.
 * Returns 0 or -EINVAL/-ERANGE. */
int sq_parse_duration(const char *s, int64_t *ns, sq_err *err);

/* A rate as typed for --rate: an absolute req/s ("500", "2.5k", "1e3") or a
 * multiple of the traffic's recorded peak ("10xpeak", "2.5xpeak"). */
typedef struct sq_rate {
    double value;  /* req/s, or the multiplier when relative_to_peak */
    int relative_to_peak;
} sq_rate;
int sq_parse_rate(const char *s, sq_rate *out, sq_err *err);

/* A rate range for phases: "200" or "200..2000" (either side may be Kxpeak
 * when both are). */
int sq_parse_rate_range(const char *s, sq_rate *from, sq_rate *to, sq_err *err);

/* A speed factor: "10x", "0.5x", "10". Must be > 0. */
int sq_parse_speed(const char *s, double *factor, sq_err *err);

/* Size in bytes: "512", "4k"/"4KB" (1000), "4KiB" (1024), M/G/T likewise. */
int sq_parse_size(const char *s, uint64_t *bytes, sq_err *err);

/* Bit rate for bandwidth faults: "1mbit", "500kbit", "10gbit", "100bps"
 * (bytes per second), tc style. Result in bits per second. */
int sq_parse_bitrate(const char *s, uint64_t *bits_per_s, sq_err *err);

/* Percentage "10%", "0.5%", or a fraction "0.1" when allow_fraction; result
 * as a fraction 0..1. */
int sq_parse_percent(const char *s, int allow_fraction, double *fraction, sq_err *err);

/* Unsigned integer within [min, max]. */
int sq_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, sq_err *err);

/* Formats a duration in ns the way a person writes it ("250ms", "1.5s",
 * "2m", "1h30m") into buf. Returns buf. */
char *sq_format_duration(int64_t ns, char *buf, unsigned long len);

#endif
