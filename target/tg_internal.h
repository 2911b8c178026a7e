/* tg_internal.h — private declarations shared by the files of target/.
 * Nothing outside target/ includes this. */
#ifndef SQ_TG_INTERNAL_H
#define SQ_TG_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "target.h"

/* ---- rand.c: per-thread pseudo-random numbers -------------------------- */

/* Next 64 random bits from the calling thread's own generator (seeded on
 * first use from the clock and the thread's identity). */
uint64_t tg_rand_u64(void);

/* Uniform double in [0, 1). */
double tg_rand_unit(void);

/* ---- store.c: the item store ------------------------------------------ */

typedef struct tg_store tg_store;

/* Creates an empty store holding at most max_items items. Returns NULL on
 * out of memory. Caller owns it; free with tg_store_free. */
tg_store *tg_store_new(uint64_t max_items);

/* Frees the store and every item and tag in it (NULL is fine). */
void tg_store_free(tg_store *st);

/* Adds an item carrying tag (NULL = no tag; copied). Returns 0 and its new
 * id, -ENOSPC when the store is full, -ENOMEM. Thread-safe. */
int tg_store_add(tg_store *st, const char *tag, uint64_t *id);

/* Looks item id up. Returns 0 and copies its tag into tag[taglen] with
 * *has_tag set (0 when it came without one), or -ENOENT. Thread-safe. */
int tg_store_get(tg_store *st, uint64_t id, char *tag, size_t taglen, int *has_tag);

/* Deletes item id. Returns 0 or -ENOENT. Thread-safe. */
int tg_store_delete(tg_store *st, uint64_t id);

/* Deletes every item carrying tag; *deleted says how many (0 when the tag
 * is unknown). Returns 0 or -ENOMEM (nothing deleted). Thread-safe. */
int tg_store_delete_tag(tg_store *st, const char *tag, uint64_t *deleted);

/* Number of items, all of them (tag NULL) or those carrying tag. */
uint64_t tg_store_count(tg_store *st, const char *tag);

/* Lifetime counters. */
void tg_store_totals(tg_store *st, uint64_t *created, uint64_t *deleted);

/* ---- delay.c: the delay heap and its thread ----------------------------- */

typedef struct tg_delay tg_delay;

/* Creates the delay queue and starts its thread. Returns 0 and the queue
 * (caller owns it; free with tg_delay_free) or a negative errno. */
int tg_delay_new(tg_delay **out, sq_err *err);

/* Suspends conn (which must be inside its access handler) and schedules its
 * resumption at monotonic time due_ns. Returns 0, or -ESHUTDOWN once
 * tg_delay_drain has begun (the connection is then left untouched and the
 * caller answers at once), or -ENOMEM. Thread-safe. */
int tg_delay_suspend(tg_delay *d, struct MHD_Connection *conn, int64_t due_ns);

/* Resumes every scheduled connection now, refuses new ones, and stops and
 * joins the thread. Idempotent. */
void tg_delay_drain(tg_delay *d);

/* Drains (if not yet done) and frees d (NULL is fine). */
void tg_delay_free(tg_delay *d);

/* ---- json.c: tiny JSON writing helpers ---------------------------------- */

/* Appends s as a JSON string literal (quotes included, escaped) to
 * buf[*pos..len), advancing *pos. Output is truncated (never overflowed) when
 * buf is too small; returns -ENOSPC then, else 0. */
int tg_json_str(char *buf, size_t len, size_t *pos, const char *s);

/* Appends printf-formatted text to buf[*pos..len) like tg_json_str. */
int tg_json_fmt(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- routes.c: request handling ------------------------------------------ */

/* The route a request path maps to. */
typedef enum tg_route {
    TG_ROUTE_GENERIC = 0, /* any other path */
    TG_ROUTE_HEALTHZ,     /* /healthz */
    TG_ROUTE_STATS,       /* /stats */
    TG_ROUTE_ITEMS,       /* /items, /items/ (DELETE ?tag=T: bulk delete) */
    TG_ROUTE_COUNT,       /* /items/count */
    TG_ROUTE_ITEM,        /* /items/{id} */
} tg_route;

typedef enum tg_method {
    TG_M_OTHER = 0,
    TG_M_GET,
    TG_M_HEAD,
    TG_M_POST,
    TG_M_PUT,
    TG_M_PATCH,
    TG_M_DELETE,
} tg_method;

/* Per-request state, embedded in the per-connection context and reset at
 * the start of each request. */
typedef struct tg_req {
    int phase;            /* TG_PHASE_* in routes.c */
    tg_route route;
    tg_method method;
    int inject_error;     /* answer 500 (error rate) */
    int delayed;          /* was suspended at least once */
    unsigned status;      /* ?status override, 0 = none */
    uint64_t body_bytes;  /* request body bytes seen */
    int too_large;        /* body exceeded max_body */
    int bad_query;        /* ?delay / ?status invalid: answer 400 */
    char bad_msg[160];
} tg_req;

/* Per-connection context (MHD socket context): allocated when MHD accepts a
 * connection, freed when it closes. */
typedef struct tg_conn {
    tg_req req;
} tg_conn;

/* Constant responses, built once at start and shared by every worker. */
typedef struct tg_static {
    struct MHD_Response *healthz;  /* 200 "ok\n" */
    struct MHD_Response *error;    /* 500 injected error */
    struct MHD_Response *not_found;
    struct MHD_Response *method;   /* 405 */
    struct MHD_Response *too_large;
    struct MHD_Response *full;     /* 507 */
    struct MHD_Response *empty;    /* 204 / no body */
} tg_static;

/* The status counters cover 100..599. */
#define TG_STATUS_MIN 100
#define TG_STATUS_MAX 599

struct tg_server {
    tg_options opts;
    char *listen;        /* copies of the borrowed strings */
    char *tag_header;
    char url[96];
    uint16_t port;
    int64_t start_ns;    /* monotonic; stall windows are relative to it */
    struct MHD_Daemon *mhd;
    tg_store *store;
    tg_delay *delay;
    tg_static resp;
    _Atomic uint64_t delayed_inflight; /* delayed requests not yet completed */
    _Atomic uint64_t by_status[TG_STATUS_MAX - TG_STATUS_MIN + 1];
    _Atomic uint64_t requests;
    _Atomic uint64_t control_requests;
    _Atomic uint64_t delayed;
    _Atomic uint64_t stalled;
    _Atomic uint64_t errors_injected;
};

/* MHD access handler (MHD_AccessHandlerCallback); cls is the tg_server. */
enum MHD_Result tg_handle(void *cls, struct MHD_Connection *conn, const char *url,
                          const char *method, const char *version, const char *upload_data,
                          size_t *upload_data_size, void **req_cls);

/* MHD_OPTION_NOTIFY_COMPLETED hook: a request ended (answered or not). */
void tg_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe);

/* MHD_OPTION_NOTIFY_CONNECTION hook: allocates / frees the tg_conn. */
void tg_connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe);

/* Builds srv->resp. Returns 0 or -ENOMEM. */
int tg_static_init(tg_static *resp);

/* Destroys every response in resp (missing ones are fine). */
void tg_static_free(tg_static *resp);

#endif
