/* xfer_native.c — squall's own HTTP/1.1 transport for plain http://:
 * one keep-alive connection per slot, the request head built once per slot
 * (only the traceparent digits change per request), one sendmsg() to send, one
 * read() to receive in the common case, and the streaming response parser of
 * h1parse.c. It exists because libcurl spends ~100k instructions per request
 * on formatting, URL parsing and header storage; this path spends a few
 * thousand, which is what lets squall keep up with wrk (bench/).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loadgen/h1parse.h"
#include "loadgen/worker_int.h"

#define RBUF_SIZE 65536

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_WRITING, CONN_READING };

struct lg_conn {
    ev_io io;
    ev_timer timer; /* the request's timeout */
    lg_worker *w;
    lg_xfer *x;
    int fd;             /* -1 when closed */
    int events;         /* what io watches */
    enum conn_state state;
    int reused;         /* this request went out on a connection used before */
    int retried;        /* it was already retried once on a fresh connection */
    int got_bytes;      /* some of the response arrived */
    int pending_errno;  /* a connect that failed at once, reported from the loop */
    unsigned addr_tries; /* addresses of the target this connect attempt has tried */
    size_t written;
    char *head;         /* this slot's request head (trace digits rewritten) */
    /* the request being sent: the configured one, or a replayed one */
    const char *method;
    const char *out;    /* its head */
    size_t out_len;
    const char *body;
    size_t body_len;
    char *dyn;          /* replay: heads built per request (owned) */
    size_t dyn_cap;
    lg_h1_resp resp;
};

/* Closes c's socket (if open) and stops watching it. */
static void conn_close(lg_conn *c)
{
    if (c->fd >= 0) {
        ev_io_stop(c->w->loop, &c->io);
        close(c->fd);
        c->fd = -1;
    }
    c->events = 0;
    c->state = CONN_IDLE;
}

/* Makes c's io watcher wait for `events` (no syscall when unchanged). */
static void conn_watch(lg_conn *c, int events)
{
    if (c->events == events)
        return;
    ev_io_stop(c->w->loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(c->w->loop, &c->io);
    c->events = events;
}

/* Ends the current request: stops its timer and reports to the worker. */
static void conn_finish(lg_conn *c, long status, enum lg_error_class cls, const char *msg)
{
    lg_xfer *x = c->x;
    ev_timer_stop(c->w->loop, &c->timer);
    if (status == 0 && c->state == CONN_READING && lg_h1_resp_headers_done(&c->resp))
        x->partial_status = c->resp.status; /* for the ledger: the creation was answered */
    if (status == 0)
        conn_close(c);
    else if (c->fd >= 0)
        c->state = CONN_IDLE;
    lg_worker_complete(c->w, x, status, cls, msg);
}

/* Fails the request with a formatted message. */
static void conn_fail(lg_conn *c, enum lg_error_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_fail(lg_conn *c, enum lg_error_class cls, const char *fmt, ...)
{
    char msg[LG_ERROR_SAMPLE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    conn_finish(c, 0, cls, msg);
}

static void conn_write(lg_conn *c);

/* Opens a new connection for the current request. */
static void conn_open(lg_conn *c)
{
    lg_worker *w = c->w;
    c->reused = 0;
    const struct sockaddr_storage *addr = &w->addrs[w->addr_cur];
    c->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(c, LG_ERR_CONNECT, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->events = 0;
    if (connect(c->fd, (const struct sockaddr *)addr, w->addr_lens[w->addr_cur]) == 0) {
        c->state = CONN_WRITING;
        conn_write(c);
        return;
    }
    if (errno != EINPROGRESS) {
        /* reported from the loop, so that a closed-model refill cannot recurse */
        c->pending_errno = errno;
        c->state = CONN_CONNECTING;
        conn_watch(c, EV_WRITE);
        ev_feed_event(w->loop, &c->io, EV_CUSTOM);
        return;
    }
    c->state = CONN_CONNECTING;
    conn_watch(c, EV_WRITE);
}

/* Whether a method may be sent twice without changing more than once
 * (RFC 9110 9.2.2). */
static int idempotent(const char *method)
{
    static const char *const ok[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(method, ok[i]) == 0)
            return 1;
    return 0;
}

/* Retries the request once on a fresh connection: a kept-alive connection
 * that the server closed while idle fails before any response byte. Once the
 * whole request went out, only idempotent methods are retried: the server
 * may have acted on a POST before the connection broke. */
static int conn_retry(lg_conn *c)
{
    const lg_worker *w = c->w;
    if (!c->reused || c->retried || c->got_bytes)
        return 0;
    (void)w;
    if (c->written >= c->out_len + c->body_len && !idempotent(c->method))
        return 0;
    c->retried = 1;
    conn_close(c);
    c->written = 0;
    lg_h1_resp_init(&c->resp, c->resp.head_request);
    conn_open(c);
    return 1;
}

/* Sends (the rest of) the request head and body. */
static void conn_write(lg_conn *c)
{
    lg_worker *w = c->w;
    size_t total = c->out_len + c->body_len;
    while (c->written < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->written < c->out_len) {
            iov[n].iov_base = (char *)c->out + c->written;
            iov[n++].iov_len = c->out_len - c->written;
        }
        if (c->body_len) {
            size_t off = c->written > c->out_len ? c->written - c->out_len : 0;
            iov[n].iov_base = (char *)c->body + off;
            iov[n++].iov_len = c->body_len - off;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL); /* EPIPE, never SIGPIPE */
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                c->state = CONN_WRITING;
                conn_watch(c, EV_WRITE);
                return;
            }
            int e = errno;
            if (!conn_retry(c))
                conn_fail(c, LG_ERR_RESET, "sending to %s: %s", w->target_name, strerror(e));
            return;
        }
        c->written += (size_t)r;
    }
    c->state = CONN_READING;
    conn_watch(c, EV_READ);
}

/* The response is complete: report its status, keep or close the socket. */
static void conn_done(lg_conn *c, int leftover)
{
    if (!c->resp.keep_alive || leftover)
        conn_close(c); /* squall does not pipeline: extra bytes end the connection */
    conn_finish(c, c->resp.status, LG_ERR_OTHER, NULL);
}

/* Reads what arrived and feeds the parser. */
static void conn_read(lg_conn *c)
{
    lg_worker *w = c->w;
    for (;;) {
        ssize_t n = read(c->fd, w->rbuf, RBUF_SIZE);
        if (n > 0) {
            c->got_bytes = 1;
            sq_err err;
            ssize_t used = lg_h1_resp_feed(&c->resp, w->rbuf, (size_t)n, &err);
            if (used < 0) {
                conn_fail(c, LG_ERR_OTHER, "malformed response from %s: %s", w->target_name,
                          err.msg);
                return;
            }
            if (c->resp.done) {
                conn_done(c, used < n);
                return;
            }
            if (n < RBUF_SIZE)
                return; /* the rest comes with the next readiness */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        int e = n < 0 ? errno : 0;
        if (conn_retry(c))
            return;
        sq_err err;
        if (n == 0 && lg_h1_resp_eof(&c->resp, &err) == 0) {
            conn_done(c, 0);
            return;
        }
        if (n == 0)
            conn_fail(c, LG_ERR_RESET, "%s: %s", w->target_name, err.msg);
        else
            conn_fail(c, LG_ERR_RESET, "receiving from %s: %s", w->target_name, strerror(e));
        return;
    }
}

/* ev_io callback: connect finished, socket writable, or data to read. */
static void on_conn_io(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    lg_conn *c = (lg_conn *)io;
    switch (c->state) {
    case CONN_CONNECTING: {
        int e = c->pending_errno;
        socklen_t len = sizeof e;
        c->pending_errno = 0;
        if (!e && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            e = errno;
        if (e && e != ETIMEDOUT && c->addr_tries + 1 < c->w->n_addrs) {
            /* e.g. "localhost" gave ::1 first and the server listens on 127.0.0.1
             * only: the next address, which new connections then try first */
            c->addr_tries++;
            c->w->addr_cur = (c->w->addr_cur + 1) % c->w->n_addrs;
            conn_close(c);
            conn_open(c);
            return;
        }
        if (e) {
            conn_fail(c, e == ETIMEDOUT ? LG_ERR_TIMEOUT : LG_ERR_CONNECT, "connect to %s: %s",
                      c->w->target_name, strerror(e));
            return;
        }
        c->addr_tries = 0;
        c->state = CONN_WRITING;
        conn_write(c);
        return;
    }
    case CONN_WRITING:
        if (revents & EV_WRITE)
            conn_write(c);
        return;
    case CONN_READING:
        conn_read(c);
        return;
    case CONN_IDLE: {
        /* an idle kept-alive connection became readable: closed or garbage */
        char b[256];
        ssize_t n = read(c->fd, b, sizeof b);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || n > 0)
            conn_close(c);
        return;
    }
    }
}

/* ev_timer callback: the request's --timeout expired. */
static void on_conn_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    lg_conn *c = t->data;
    const char *phase = c->state == CONN_CONNECTING ? "connecting to" : "waiting for";
    conn_fail(c, LG_ERR_TIMEOUT, "no response within %.3gs (%s %s)",
              (double)c->w->cfg->timeout_ns / 1e9, phase, c->w->target_name);
}

/* Whether the user already gave header `name` (case-insensitive). */
static int has_header(const lg_config *cfg, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < cfg->n_headers; i++)
        if (strncasecmp(cfg->headers[i], name, n) == 0 && cfg->headers[i][n] == ':')
            return 1;
    return 0;
}

/* Appends formatted text to the growing head; returns -ENOMEM on failure. */
static int head_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int head_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -ENOMEM;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return 0;
        }
        size_t ncap = (*cap + (size_t)n + 1) * 2;
        char *b = realloc(*buf, ncap);
        if (!b)
            return -ENOMEM;
        *buf = b;
        *cap = ncap;
    }
}

/* Builds the request head template from the configuration. */
static int build_head(lg_worker *w, const char *host_header, const char *path, sq_err *err)
{
    const lg_config *cfg = w->cfg;
    size_t len = 0, cap = 512;
    char *buf = malloc(cap);
    int rc = buf ? 0 : -ENOMEM;
    rc = rc ? rc : head_add(&buf, &len, &cap, "%s %s HTTP/1.1\r\n", cfg->method, path);
    if (!rc && !has_header(cfg, "Host"))
        rc = head_add(&buf, &len, &cap, "Host: %s\r\n", host_header);
    if (!rc && !has_header(cfg, "User-Agent"))
        rc = head_add(&buf, &len, &cap, "User-Agent: squall/" SQUALL_VERSION "\r\n");
    if (!rc && !has_header(cfg, "Accept"))
        rc = head_add(&buf, &len, &cap, "Accept: */*\r\n");
    for (size_t i = 0; !rc && i < cfg->n_headers; i++)
        rc = head_add(&buf, &len, &cap, "%s\r\n", cfg->headers[i]);
    if (!rc)
        rc = head_add(&buf, &len, &cap, "%s: %s\r\n", cfg->tag_header, cfg->run_id);
    size_t trace_at = len + strlen(LG_TRACEPARENT_PREFIX);
    if (!rc)
        rc = head_add(&buf, &len, &cap, "%s\r\n", LG_TRACEPARENT_LINE);
    if (!rc && (cfg->body || strcmp(cfg->method, "POST") == 0 || strcmp(cfg->method, "PUT") == 0 ||
                strcmp(cfg->method, "PATCH") == 0))
        rc = head_add(&buf, &len, &cap, "Content-Length: %zu\r\n", cfg->body_len);
    if (!rc)
        rc = head_add(&buf, &len, &cap, "\r\n");
    if (rc) {
        free(buf);
        return sq_errf(err, rc, "out of memory building the request");
    }
    w->request = buf;
    w->request_len = len;
    w->trace_offset = trace_at;
    return 0;
}

/* Parses the URL and resolves its host once (lg_transport.init). */
static int native_init(lg_worker *w, sq_err *err)
{
    const lg_config *cfg = w->cfg;
    int rc = 0;
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    char *pathq = NULL;
    CURLU *u = curl_url();
    if (!u)
        return sq_errf(err, -ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, cfg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = sq_errf(err, -EINVAL, "'%s' is not a valid URL", cfg->url);
        goto out;
    }
    char *scheme = NULL;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    int plain = scheme && strcmp(scheme, "http") == 0;
    curl_free(scheme);
    if (!plain) {
        rc = sq_errf(err, -EINVAL, "--engine native speaks plain http:// only; use --engine curl");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    size_t plen = strlen(path ? path : "/") + (query ? strlen(query) + 1 : 0) + 1;
    pathq = malloc(plen);
    if (!pathq) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    snprintf(pathq, plen, "%s%s%s", path ? path : "/", query ? "?" : "", query ? query : "");
    /* the host as the URL spells it, for the Host header; brackets for IPv6 */
    char bare[256];
    snprintf(bare, sizeof bare, "%s", host);
    if (bare[0] == '[') {
        memmove(bare, bare + 1, strlen(bare));
        bare[strcspn(bare, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(bare, port, &hints, &ai);
    if (gai != 0 || !ai) {
        rc = sq_errf(err, -EHOSTUNREACH, "cannot resolve '%s': %s", bare, gai_strerror(gai));
        goto out;
    }
    for (const struct addrinfo *a = ai; a && w->n_addrs < LG_MAX_ADDRS; a = a->ai_next) {
        memcpy(&w->addrs[w->n_addrs], a->ai_addr, a->ai_addrlen);
        w->addr_lens[w->n_addrs++] = a->ai_addrlen;
    }
    freeaddrinfo(ai);
    snprintf(w->target_name, sizeof w->target_name, "%s:%s", host, port);
    char host_header[300];
    int default_port = strcmp(port, "80") == 0;
    snprintf(host_header, sizeof host_header, "%s%s%s", host, default_port ? "" : ":",
             default_port ? "" : port);
    if ((rc = build_head(w, host_header, pathq, err)) < 0)
        goto out;
    w->rbuf = malloc(RBUF_SIZE);
    if (!w->rbuf)
        rc = sq_errf(err, -ENOMEM, "out of memory");
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    free(pathq);
    curl_url_cleanup(u);
    return rc;
}

/* Frees the head template and the receive buffer (lg_transport.cleanup). */
static void native_cleanup(lg_worker *w)
{
    free(w->request);
    free(w->rbuf);
    w->request = NULL;
    w->rbuf = NULL;
}

/* Gives slot x a connection object and its own copy of the request head
 * (lg_transport.setup). */
static int native_setup(lg_worker *w, lg_xfer *x, sq_err *err)
{
    lg_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->head = malloc(w->request_len))) {
        free(c);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    memcpy(c->head, w->request, w->request_len);
    c->w = w;
    c->x = x;
    c->fd = -1;
    ev_init(&c->io, on_conn_io);
    ev_timer_init(&c->timer, on_conn_timeout, 0., 0.);
    c->timer.data = c;
    x->conn = c;
    x->trace_hex = c->head + w->trace_offset;
    return 0;
}

/* Closes slot x's connection and frees it (lg_transport.teardown). */
static void native_teardown(lg_worker *w, lg_xfer *x)
{
    lg_conn *c = x->conn;
    if (!c)
        return;
    ev_timer_stop(w->loop, &c->timer);
    conn_close(c);
    free(c->head);
    free(c->dyn);
    free(c);
    x->conn = NULL;
}

/* Builds the head of slot x's replayed request into c->dyn. Returns 0 or
 * -ENOMEM. */
static int build_rec_head(lg_worker *w, lg_conn *c, const lg_rec *r, const lg_xfer *x)
{
    size_t len = 0;
    int rc = head_add(&c->dyn, &len, &c->dyn_cap, "%s %s HTTP/1.1\r\n", r->method, r->target);
    if (!rc && !r->has_host) /* a -H Host: replaces the target's */
        rc = head_add(&c->dyn, &len, &c->dyn_cap, "Host: %s\r\n", w->host_header);
    if (!rc && !r->has_user_agent)
        rc = head_add(&c->dyn, &len, &c->dyn_cap, "User-Agent: squall/" SQUALL_VERSION "\r\n");
    if (!rc)
        rc = head_add(&c->dyn, &len, &c->dyn_cap, "%s%s: %s\r\n%s\r\n", r->headers,
                      w->cfg->tag_header, w->cfg->run_id, LG_TRACEPARENT_LINE);
    if (rc)
        return rc;
    lg_xfer_trace(x, c->dyn + len - 2 - 52);
    if (r->body || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
        strcmp(r->method, "PATCH") == 0)
        rc = head_add(&c->dyn, &len, &c->dyn_cap, "Content-Length: %zu\r\n", r->body_len);
    if (!rc)
        rc = head_add(&c->dyn, &len, &c->dyn_cap, "\r\n");
    c->out = c->dyn;
    c->out_len = len;
    c->method = r->method;
    c->body = r->body;
    c->body_len = r->body_len;
    return rc;
}

/* Sends slot x's request, on its kept-alive connection when it has one
 * (lg_transport.start). */
static void native_start(lg_worker *w, lg_xfer *x)
{
    lg_conn *c = x->conn;
    if (x->rec) {
        if (build_rec_head(w, c, x->rec, x)) {
            conn_fail(c, LG_ERR_OTHER, "out of memory building the request");
            return;
        }
    } else {
        c->out = c->head;
        c->out_len = w->request_len;
        c->method = w->cfg->method;
        c->body = w->cfg->body;
        c->body_len = w->cfg->body_len;
    }
    lg_h1_resp_init(&c->resp, strcmp(c->method, "HEAD") == 0);
    if (x->capture_on)
        c->resp.capture = &x->cap;
    c->written = 0;
    c->got_bytes = 0;
    c->retried = 0;
    c->pending_errno = 0;
    c->addr_tries = 0;
    ev_now_update(w->loop);
    ev_timer_set(&c->timer, (double)w->cfg->timeout_ns / 1e9, 0.);
    ev_timer_start(w->loop, &c->timer);
    if (c->fd < 0) {
        conn_open(c);
        return;
    }
    c->reused = 1;
    c->state = CONN_WRITING;
    conn_write(c);
}

/* Abandons slot x's request and its connection (lg_transport.cancel). */
static void native_cancel(lg_worker *w, lg_xfer *x)
{
    lg_conn *c = x->conn;
    ev_timer_stop(w->loop, &c->timer);
    conn_close(c);
}

const lg_transport lg_transport_native = {
    .name = "native",
    .init = native_init,
    .cleanup = native_cleanup,
    .setup = native_setup,
    .teardown = native_teardown,
    .start = native_start,
    .cancel = native_cancel,
};
