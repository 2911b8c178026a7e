/* server.c — the server's life cycle: listen socket, libmicrohttpd daemon
 * (epoll worker pool, suspend/resume), store and delay queue; graceful stop. */
#include "tg_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "core/log.h"

#define TG_LISTEN_BACKLOG 4096
#define TG_IDLE_TIMEOUT_S 120

/* libmicrohttpd's error log hook: its messages are diagnostics, shown only
 * at debug level (a busy server must not print a stack of warnings). */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sq_debug("target: libmicrohttpd: %s", msg);
}

/* Creates a non-blocking socket bound to *ss and listening, and stores the
 * address actually bound (the chosen port) back into *ss / *len. Returns the
 * descriptor (caller owns it) or a negative errno with
 * "cannot listen on SPEC: <reason>" in err. */
static int open_listener(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                         sq_err *err)
{
    int one = 1, rc;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        goto fail;
    if (ss->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)ss, *len) != 0)
        goto fail;
    if (listen(fd, TG_LISTEN_BACKLOG) != 0)
        goto fail;
    /* Learn the port the kernel chose for port 0. */
    *len = sizeof *ss;
    if (getsockname(fd, (struct sockaddr *)ss, len) != 0)
        goto fail;
    return fd;
fail:
    rc = -errno;
    if (fd >= 0)
        close(fd);
    return sq_errf(err, rc, "cannot listen on %s: %s", spec, strerror(-rc));
}

/* Frees srv's parts that exist; the daemon must already be stopped. */
static void server_free(tg_server *srv)
{
    tg_delay_free(srv->delay);
    tg_store_free(srv->store);
    tg_static_free(&srv->resp);
    free(srv->listen);
    free(srv->tag_header);
    free(srv);
}

/* Starts the server (see target.h). */
int tg_server_start(const tg_options *opts, tg_server **out, sq_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    char hostport[80];
    int rc, fd = -1;
    tg_server *srv = NULL;

    if ((rc = tg_options_validate(opts, err)))
        return rc;
    if (!(srv = calloc(1, sizeof *srv)))
        return sq_errf(err, -ENOMEM, "out of memory");
    srv->opts = *opts;
    srv->listen = strdup(opts->listen);
    srv->tag_header = strdup(opts->tag_header);
    if (!srv->listen || !srv->tag_header) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto fail;
    }
    srv->opts.listen = srv->listen;
    srv->opts.tag_header = srv->tag_header;
    if (srv->opts.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        srv->opts.threads = n > 0 ? (unsigned)(n > 1024 ? 1024 : n) : 1;
    }
    if ((rc = sq_parse_listen_addr(srv->listen, &ss, &sslen, err)))
        goto fail;
    if (!(srv->store = tg_store_new(srv->opts.max_items))) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = tg_static_init(&srv->resp))) {
        sq_errf(err, rc, "out of memory");
        goto fail;
    }
    if ((rc = tg_delay_new(&srv->delay, err)))
        goto fail;
    if ((fd = open_listener(srv->listen, &ss, &sslen, err)) < 0) {
        rc = fd;
        goto fail;
    }
    sq_format_addr((struct sockaddr *)&ss, hostport, sizeof hostport);
    snprintf(srv->url, sizeof srv->url, "http://%s", hostport);
    srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    srv->start_ns = sq_mono_ns();

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* A pool only with more than one thread (MHD warns about a pool of 1). */
    struct MHD_OptionItem pool[] = {
        {srv->opts.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)srv->opts.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->mhd = MHD_start_daemon(
        flags, srv->port, NULL, NULL, tg_handle, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger,
        srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_ARRAY, pool, MHD_OPTION_CONNECTION_LIMIT,
        srv->opts.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)TG_IDLE_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, tg_request_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        tg_connection_notify, srv, MHD_OPTION_END);
    if (!srv->mhd) {
        rc = sq_errf(err, -EIO,
                     "cannot start the HTTP server on %s: libmicrohttpd refused to start "
                     "(try fewer --threads or --max-connections)",
                     hostport);
        goto fail;
    }
    *out = srv;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    server_free(srv);
    return rc;
}

/* The bound port. */
uint16_t tg_server_port(const tg_server *srv)
{
    return srv->port;
}

/* The bound address as a URL base (owned by srv). */
const char *tg_server_url(const tg_server *srv)
{
    return srv->url;
}

/* Snapshots the counters into the caller's *out. */
void tg_server_stats(const tg_server *srv, tg_stats *out)
{
    tg_server *s = (tg_server *)srv; /* atomics and the store lock are not const */
    memset(out, 0, sizeof *out);
    out->requests = atomic_load_explicit(&s->requests, memory_order_relaxed);
    out->control_requests = atomic_load_explicit(&s->control_requests, memory_order_relaxed);
    out->delayed = atomic_load_explicit(&s->delayed, memory_order_relaxed);
    out->stalled = atomic_load_explicit(&s->stalled, memory_order_relaxed);
    out->errors_injected = atomic_load_explicit(&s->errors_injected, memory_order_relaxed);
    out->items = tg_store_count(s->store, NULL);
    tg_store_totals(s->store, &out->items_created, &out->items_deleted);
}

/* Sleeps for ns nanoseconds. */
static void nap(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / SQ_NS_PER_S), (long)(ns % SQ_NS_PER_S)};
    nanosleep(&ts, NULL);
}

/* Stops gracefully and frees srv (see target.h). */
void tg_server_stop(tg_server *srv)
{
    if (!srv)
        return;
    if (srv->mhd) {
        /* Stop accepting; MHD hands the listen socket back to us. */
        MHD_socket lfd = MHD_quiesce_daemon(srv->mhd);
        if (lfd != MHD_INVALID_SOCKET)
            close(lfd);
    }
    /* Answer everything held by a delay or a stall now; later requests on
     * open connections are answered without delay. */
    tg_delay_drain(srv->delay);
    int64_t deadline = sq_mono_ns() + srv->opts.drain_ns;
    while (atomic_load(&srv->delayed_inflight) > 0 && sq_mono_ns() < deadline)
        nap(2 * SQ_NS_PER_MS);
    if (srv->mhd)
        MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    server_free(srv);
}
