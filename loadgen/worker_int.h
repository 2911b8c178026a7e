/* worker_int.h — the worker's state, shared by worker.c (scheduling,
 * recording, lifecycle) and its transports (private to loadgen/):
 * xfer_curl.c (libcurl multi_socket: TLS, HTTP/2, anything) and
 * xfer_native.c (plain HTTP/1.1 keep-alive written for speed). A transport
 * is a small vtable, so swapping one in changes nothing else (wrk's style).
 */
#ifndef LG_WORKER_INT_H
#define LG_WORKER_INT_H

#include <curl/curl.h>
#include <ev.h>
#include <sys/socket.h>

#include "loadgen/engine.h"
#include "loadgen/h1parse.h"
#include "loadgen/ledger.h"
#include "loadgen/replay.h"
#include "loadgen/route.h"
#include "loadgen/stats.h"

#define LG_TRACEPARENT_PREFIX "traceparent: 00-"
/* "traceparent: 00-" + 32 hex trace id + "-" + 16 hex span id + "-01" */
#define LG_TRACEPARENT_LINE LG_TRACEPARENT_PREFIX "00000000000000000000000000000000-0000000000000000-01"
#define LG_TRACEPARENT_LEN 68 /* strlen(LG_TRACEPARENT_LINE) */

#define LG_MAX_ADDRS 8 /* addresses of the target host tried in turn */

typedef struct lg_worker lg_worker;
typedef struct lg_conn lg_conn; /* xfer_native.c's connection */

/* One request slot: a reusable transfer. */
typedef struct lg_xfer {
    int64_t intended_ns;
    int64_t started_ns;
    int route;
    int busy;
    char *trace_hex; /* 65 bytes of "trace-span" hex rewritten per request */
    struct lg_xfer *next_free;
    struct lg_rec *rec;       /* replay: the request being sent (owned), else NULL */
    uint64_t trace_rand[3];   /* this request's trace and span ids */
    int capture_on;           /* a write whose created object goes into the ledger */
    long partial_status;      /* status of a response cut short after its headers, else 0 */
    lg_h1_capture cap;        /* what its response said (buffers owned by the slot) */
    /* libcurl transport */
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *rec_headers; /* replay: this request's headers (owned) */
    char *rec_url;                  /* replay: this request's URL (owned) */
    char errbuf[CURL_ERROR_SIZE];
    /* native transport */
    lg_conn *conn;
} lg_xfer;

/* A transport: how a slot's request goes out and comes back. */
typedef struct lg_transport {
    const char *name;
    /* per worker set-up and tear-down */
    int (*init)(lg_worker *w, sq_err *err);
    void (*cleanup)(lg_worker *w);
    /* per slot */
    int (*setup)(lg_worker *w, lg_xfer *x, sq_err *err);
    void (*teardown)(lg_worker *w, lg_xfer *x);
    /* starts the request of a busy slot; completion comes through
     * lg_worker_complete(); a failure to start completes it with an error */
    void (*start)(lg_worker *w, lg_xfer *x);
    /* abandons an in-flight request without completing it */
    void (*cancel)(lg_worker *w, lg_xfer *x);
} lg_transport;

extern const lg_transport lg_transport_curl;
extern const lg_transport lg_transport_native;

struct lg_worker {
    lg_shared *sh;
    const lg_config *cfg;
    const lg_transport *tp;
    unsigned id;
    unsigned conns; /* this worker's share of --connections */
    struct ev_loop *loop;
    ev_io send_io;        /* timerfd: the next intended send (ns precision) */
    ev_timer tick;        /* interval rollover when idle; closed-model end */
    ev_timer drain_timer; /* cancels what is still in flight */
    ev_async wake;        /* stop requests */
    int send_fd;
    int64_t armed_ns; /* absolute time the timerfd is armed for, 0 if not */

    lg_xfer *xfers;
    unsigned n_xfers;
    lg_xfer *free_list;
    unsigned in_flight;

    struct lg_recq *queue; /* replay: this worker's queue from the feeder, else NULL */
    char base_url[320];    /* "scheme://host[:port]" of the target */
    char host_header[300]; /* the Host header's value */
    char *target_path;     /* the target URL's path and query (owned) */
    lg_ledger_spec ledger; /* how created objects are identified */
    uint64_t ledger_written; /* ledger entries written by this worker */
    uint64_t ledger_lost;  /* successful writes that could not be recorded */
    uint64_t next_k;  /* open model: next request index of this worker */
    uint64_t stride;  /* distance between its indexes: shards x workers */
    int64_t next_abs; /* its intended mono time, or -1 when not computed */
    int sending_done; /* no more requests will be started */
    int64_t end_ns;   /* closed model: when to stop sending */
    int draining;
    uint64_t unsent; /* due before a stop but never started */
    int dispatching; /* guards against re-entering dispatch from a completion */

    lg_stats *cur;
    uint64_t cur_interval;
    lg_routes routes;
    int route_main;
    char first_error[LG_ERR_COUNT][LG_ERROR_SAMPLE_MAX];
    uint64_t rng[2];

    /* libcurl transport */
    CURLM *multi;
    ev_timer curl_timer; /* CURLMOPT_TIMERFUNCTION */

    /* native transport */
    struct sockaddr_storage addrs[LG_MAX_ADDRS]; /* what the target's host resolved to */
    socklen_t addr_lens[LG_MAX_ADDRS];
    unsigned n_addrs;
    unsigned addr_cur; /* the address new connections try first (the last that worked) */
    char *request;       /* the request head template (owned) */
    size_t request_len;
    size_t trace_offset; /* where the trace hex sits in the head */
    char *rbuf;          /* receive buffer shared by the worker's connections */
    char target_name[80]; /* "HOST:PORT" for messages */
};

/* Writes slot x's trace id, "-" and span id (49 characters, no NUL) at
 * out: the digits of a traceparent header. */
void lg_xfer_trace(const lg_xfer *x, char *out);

/* Called by a transport when the request of slot x has ended: with an HTTP
 * status (> 0), or with status 0 and an error class plus a message (may be
 * NULL). The transport has already detached x; the worker records the
 * result, frees the slot and starts whatever is due. */
void lg_worker_complete(lg_worker *w, lg_xfer *x, long status, enum lg_error_class c,
                        const char *message);

#endif
