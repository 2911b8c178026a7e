/* clock.h — monotonic and wall clocks in nanoseconds. */
#ifndef SQ_CLOCK_H
#define SQ_CLOCK_H

#include <stdint.h>

#define SQ_NS_PER_US 1000LL
#define SQ_NS_PER_MS 1000000LL
#define SQ_NS_PER_S 1000000000LL

/* Monotonic time (CLOCK_MONOTONIC) in ns: for measuring intervals. */
int64_t sq_mono_ns(void);

/* Wall-clock time (CLOCK_REALTIME) in ns since the Unix epoch, UTC. */
int64_t sq_utc_ns(void);

/* Formats utc_ns as RFC 3339 UTC with milliseconds ("2026-11-21T08:54:53.123Z")
 * into buf (at least 32 bytes). Returns buf. */
char *sq_utc_format(int64_t utc_ns, char *buf, unsigned long len);

#endif
