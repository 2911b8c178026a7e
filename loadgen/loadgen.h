/* loadgen.h — the public header of squall's load generator.
 *
 * lg_run() drives HTTP requests at a target with libcurl's multi_socket API
 * on libev, one event loop per worker thread, in the open model (requests
 * start at their scheduled time whether or not earlier ones have answered;
 * latency measured from that intended time) or the closed model (N
 * connections, each sending when its last request answered). It writes the
 * run directory's series.jsonl (one line per interval) and routes.json.
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "loadgen/cleanup.h"
#include "loadgen/schedule.h"

/* Error classes of requests that got no HTTP response. */
enum lg_error_class {
    LG_ERR_CONNECT = 0,
    LG_ERR_TIMEOUT,
    LG_ERR_RESET,
    LG_ERR_TLS,
    LG_ERR_DNS,
    LG_ERR_OTHER,
    LG_ERR_CANCELLED, /* still in flight when the run stopped */
    LG_ERR_COUNT
};

#define LG_ERROR_SAMPLE_MAX 256 /* = CURL_ERROR_SIZE */

/* The class's name as written in the run directory ("connect", ...). */
const char *lg_error_class_name(enum lg_error_class c);

/* Which HTTP client sends the requests. */
enum lg_engine {
    LG_ENGINE_AUTO = 0, /* native for plain http:// HTTP/1.1, libcurl otherwise */
    LG_ENGINE_CURL,     /* always libcurl */
    LG_ENGINE_NATIVE,   /* squall's own HTTP/1.1 client (http:// only) */
};

typedef struct lg_config {
    const char *url;            /* absolute http(s) URL */
    const char *method;         /* default "GET" */
    const char *const *headers; /* "Name: value" lines */
    size_t n_headers;
    const char *body; /* may be NULL; not copied, must outlive lg_run */
    size_t body_len;
    int body_templated; /* body holds ${tag} ${clone} ${uuid} ${user}: expanded per request */

    int open_model;        /* 1: follow `schedule`; 0: closed model */
    lg_schedule schedule;  /* open model */
    int64_t duration_ns;   /* closed model */
    unsigned connections;  /* open: cap on connections; closed: count */
    unsigned threads;      /* worker threads (>= 1) */
    int64_t timeout_ns;    /* per request */
    int64_t interval_ns;   /* series interval (default 1 s) */
    int64_t late_after_ns; /* a send starting later than this after its intended time is late */
    int64_t drain_ns;      /* on stop, how long in-flight requests may finish */
    int hist_digits;       /* significant digits of latency histograms */

    enum lg_engine engine;
    int http2;
    int insecure;
    const char *cacert, *cert, *key;

    unsigned shard_index;   /* this process sends the schedule's requests k with */
    unsigned shard_count;   /* k % shard_count == shard_index (0-based; 1 shard) */

    /* replay: requests come from a traffic file (lg_replay_new in
     * loadgen/replay.h) instead of method/url/body; `url` is then the
     * target the recorded paths are sent to. Not owned. */
    const struct lg_replay *replay;

    /* how a created object is identified in ledger.jsonl (loadgen/ledger.h);
     * NULL: by its Location header */
    const struct lg_ledger_spec *ledger;

    const char *run_id;     /* the tag */
    const char *tag_header; /* default "X-Squall-Run" */

    const char *metrics_listen; /* "HOST:PORT" for Prometheus text, or NULL */
    int progress;               /* show one live progress line on stderr */
    int stop_fd;                /* readable when the run must stop (signalfd), or -1 */
} lg_config;

/* The HTTP client cfg selects: "native" (squall's own HTTP/1.1 client, for
 * plain http:// without HTTP/2) or "curl" (libcurl: TLS, HTTP/2). Static. */
const char *lg_config_engine(const lg_config *cfg);

/* How many of the schedule's first c requests belong to cfg's shard. */
uint64_t lg_shard_count(const lg_config *cfg, uint64_t c);

/* Fills cfg with defaults (GET, 1 thread, 5 s timeout, 1 s interval, ...). */
void lg_config_init(lg_config *cfg);

/* Run totals returned by lg_run. */
typedef struct lg_totals {
    uint64_t intended, sent, unsent, late, completed, errors;
    uint64_t by_error[LG_ERR_COUNT];
    double elapsed_s;
    int stopped; /* 1 when stopped early (through stop_fd, or by an error below) */
    char stop_error[SQ_ERR_MAX]; /* why the run stopped early on its own ("" when it did not:
                                  * e.g. a traffic file that became unreadable mid-run) */
    uint64_t ledger_written; /* created objects recorded in ledger.jsonl */
    uint64_t ledger_lost;    /* successful writes that could not be recorded */
    char first_error[LG_ERR_COUNT][LG_ERROR_SAMPLE_MAX]; /* libcurl's words, "" if none */
} lg_totals;

/* Runs the load described by cfg, writing series.jsonl and routes.json into
 * rd. Returns 0 (totals filled) or a negative errno with a message in err
 * (bad configuration, curl/libev set-up failure, metrics address in use). */
int lg_run(const lg_config *cfg, sq_rundir *rd, lg_totals *totals, sq_err *err);

/* Writes the route key of (method, url) into buf: the method, a space and
 * the URL's path with its query dropped and id-like segments (numbers,
 * UUIDs, long hex) replaced by ":id". Returns buf. */
char *lg_route_key(const char *method, const char *url, char *buf, size_t len);

#endif
