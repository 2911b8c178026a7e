/* inspect.h — `squall traffic inspect` (private to loadgen/; the CLI
 * includes it): one streaming pass over a traffic reader that computes the
 * request count, duration, exact peak rate (largest count in any 1-second
 * window), mean rate, methods, distinct users and top routes. */
#ifndef LG_INSPECT_H
#define LG_INSPECT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"
#include "loadgen/traffic.h"

#define LG_INSPECT_TOP_ROUTES 20
#define LG_INSPECT_MAX_ROUTES 100000 /* distinct routes tracked; the rest count as OTHER */
#define LG_INSPECT_MAX_METHODS 32    /* distinct methods; the rest count as OTHER */

typedef struct lg_inspect_count {
    char name[256]; /* method, or route key "METHOD /path" */
    uint64_t count;
} lg_inspect_count;

typedef struct lg_inspect {
    enum lg_traffic_format format;
    uint64_t requests;
    int64_t first_ns, last_ns;   /* timestamps of the first and last request */
    double duration_s;           /* (last - first) in seconds */
    double mean_rps;             /* (requests - 1) / duration_s; requests if duration is 0 */
    uint64_t peak_rps;           /* most requests in any window [t, t + 1 s) */
    int64_t peak_at_ns;          /* t of the first such window: a request's timestamp */
    uint64_t reads, writes;      /* GET/HEAD/OPTIONS/TRACE vs the rest */
    lg_inspect_count methods[LG_INSPECT_MAX_METHODS + 1];
    size_t n_methods;
    int users_known;             /* a user key was given or the format carried users */
    uint64_t users;              /* distinct user ids */
    uint64_t requests_with_user;
    lg_inspect_count routes[LG_INSPECT_TOP_ROUTES]; /* by count, then by key */
    size_t n_routes_top;
    uint64_t routes_distinct;
    uint64_t skipped, skipped_late; /* bad records skipped with skip_bad */
} lg_inspect;

/* Reads every request of t (which stays the caller's to close) and fills
 * out. user_key_given says whether users are expected even when none are
 * found. Returns 0, or the reader's error (message in err, FILE:LINE
 * first) or -ENOMEM. */
int lg_inspect_run(lg_traffic *t, int user_key_given, lg_inspect *out, sq_err *err);

/* The result as JSON: {"format", "requests", "duration_s", "peak_rps",
 * "peak_at", "mean_rps", "methods": {..}, "users", "routes": [..], ...}.
 * Caller owns the reference; NULL on out of memory. */
json_t *lg_inspect_to_json(const lg_inspect *r);

/* Prints the result for a person to out. */
void lg_inspect_print(const lg_inspect *r, const char *path, FILE *out);

#endif
