/* target.h — the public header of the `target` component: squall's built-in
 * HTTP service for demos and tests (`squall target`).
 *
 * A real server on libmicrohttpd (a pool of epoll worker threads) with
 * injectable behaviour: latency (fixed or a distribution), an error rate,
 * periodic stalls, per-request overrides (?delay=DUR, ?status=NNN), and a
 * writable store (POST /items, GET|DELETE /items/{id}, GET /items/count?tag=T,
 * DELETE /items?tag=T) that remembers the run tag header each item arrived
 * with. Delays never block a worker thread: the connection is suspended and
 * resumed by a single timer thread. See docs/target.md for the HTTP surface.
 */
#ifndef SQ_TARGET_H
#define SQ_TARGET_H

#include <stdint.h>

#include "core/err.h"

#define TG_DEFAULT_LISTEN "127.0.0.1:8080"
#define TG_DEFAULT_TAG_HEADER "X-Squall-Run"
#define TG_DEFAULT_MAX_ITEMS 1000000ULL
#define TG_DEFAULT_MAX_BODY (1024ULL * 1024ULL)
#define TG_DEFAULT_MAX_CONNECTIONS 20000U
#define TG_DEFAULT_DRAIN_NS 5000000000LL /* 5 s */
#define TG_TAG_MAX 256                   /* longest tag header value stored */

/* A latency distribution. */
typedef enum tg_latency_kind {
    TG_LATENCY_NONE = 0, /* no added latency */
    TG_LATENCY_FIXED,    /* a = the delay */
    TG_LATENCY_UNIFORM,  /* uniform in [a, b] */
    TG_LATENCY_EXP,      /* exponential with mean a */
    TG_LATENCY_NORMAL,   /* normal with mean a, standard deviation b, clamped at 0 */
} tg_latency_kind;

typedef struct tg_latency {
    tg_latency_kind kind;
    int64_t a_ns;
    int64_t b_ns;
} tg_latency;

/* Parses a latency spec: "5ms" (fixed), "uniform:1ms..10ms", "exp:5ms" (mean),
 * "normal:10ms,2ms" (mean, standard deviation), or "0"/"none" for no added
 * latency. Durations use sq_parse_duration. Returns 0, or -EINVAL with a
 * message that quotes the spec and says what was expected. */
int tg_latency_parse(const char *spec, tg_latency *out, sq_err *err);

/* Formats a latency back into the spec syntax ("uniform:1ms..10ms") into buf.
 * Returns buf. */
char *tg_latency_format(const tg_latency *lat, char *buf, unsigned long len);

/* Draws one delay in ns from the distribution, using the calling thread's
 * own pseudo-random generator (no shared state). Never negative. */
int64_t tg_latency_sample(const tg_latency *lat);

/* Server configuration. Strings are borrowed: they must outlive the server. */
typedef struct tg_options {
    const char *listen;       /* HOST:PORT, [IPV6]:PORT or :PORT (127.0.0.1); port 0 = any
                               * free port; default TG_DEFAULT_LISTEN */
    unsigned threads;         /* worker threads; 0 = number of online CPUs */
    tg_latency latency;       /* added to every response but /healthz, /stats */
    double error_rate;        /* 0..1: share of generic requests answered 500 */
    int64_t stall_every_ns;   /* 0 = no stalls */
    int64_t stall_for_ns;     /* length of each stall, < stall_every_ns */
    const char *tag_header;   /* request header naming the run; default X-Squall-Run */
    uint64_t max_items;       /* store capacity (507 beyond); default 1,000,000 */
    uint64_t max_body;        /* request body limit (413 beyond); default 1 MiB */
    unsigned max_connections; /* concurrent connection limit; default 20000 */
    int64_t drain_ns;         /* on stop, how long delayed requests may take to be answered */
} tg_options;

/* Fills opts with the defaults above. */
void tg_options_init(tg_options *opts);

/* Checks opts for consistency (address syntax, ranges, stall window shorter
 * than its period, tag header a valid header name). Returns 0 or -EINVAL with
 * a message naming the option as a command-line flag ("--stall-for: ..."). */
int tg_options_validate(const tg_options *opts, sq_err *err);

typedef struct tg_server tg_server;

/* Validates opts, binds and listens on opts->listen and starts the worker
 * threads and the delay thread. On success returns 0 and a new server owned
 * by the caller (stop and free it with tg_server_stop). On failure returns a
 * negative errno: -EINVAL for bad options (message as tg_options_validate),
 * otherwise the bind/listen/start error with the message
 * "cannot listen on ADDR: <reason>" or a precise start failure. */
int tg_server_start(const tg_options *opts, tg_server **out, sq_err *err);

/* The port actually bound (useful with port 0). */
uint16_t tg_server_port(const tg_server *srv);

/* The bound address as a URL base, "http://127.0.0.1:PORT" (owned by srv). */
const char *tg_server_url(const tg_server *srv);

/* Counters, as also served on GET /stats. */
typedef struct tg_stats {
    uint64_t requests;         /* answered requests, excluding /healthz and /stats */
    uint64_t control_requests; /* answered /healthz and /stats requests */
    uint64_t items;            /* items currently in the store */
    uint64_t items_created;
    uint64_t items_deleted;
    uint64_t delayed;          /* requests held by latency, ?delay or a stall */
    uint64_t stalled;          /* of which held by a stall */
    uint64_t errors_injected;  /* 500s from --error-rate */
} tg_stats;

/* Takes a snapshot of the counters. */
void tg_server_stats(const tg_server *srv, tg_stats *out);

/* Stops gracefully and frees srv (NULL is fine): stops accepting, answers
 * every request held by a delay or stall at once, waits up to drain_ns for
 * those answers to be sent, then stops the workers and frees everything. */
void tg_server_stop(tg_server *srv);

#endif
