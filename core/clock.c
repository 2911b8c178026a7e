/* clock.c — monotonic and wall clocks in nanoseconds. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

/* Reads CLOCK_MONOTONIC in ns. */
int64_t sq_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SQ_NS_PER_S + ts.tv_nsec;
}

/* Reads CLOCK_REALTIME in ns since the epoch. */
int64_t sq_utc_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SQ_NS_PER_S + ts.tv_nsec;
}

/* Formats a UTC ns timestamp as RFC 3339 with ms into the caller's buffer. */
char *sq_utc_format(int64_t utc_ns, char *buf, unsigned long len)
{
    time_t secs = (time_t)(utc_ns / SQ_NS_PER_S);
    int ms = (int)((utc_ns % SQ_NS_PER_S) / SQ_NS_PER_MS);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}
