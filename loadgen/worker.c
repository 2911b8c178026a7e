/* worker.c — one load worker: a libev loop driving a libcurl multi handle
 * (the shape of curl's hiperfifo example), a pool of reusable easy handles,
 * and the open- or closed-model send logic. Each worker records into its own
 * stats with no locks and hands finished intervals to the engine.
 */
#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "loadgen/engine.h"
#include "loadgen/route.h"
#include "loadgen/stats.h"

#define TRACEPARENT_PREFIX "traceparent: 00-"
/* "traceparent: 00-" + 32 hex trace id + "-" + 16 hex span id + "-01" */

typedef struct lg_xfer {
    CURL *easy;
    struct curl_slist *headers;
    char *trace_hex; /* points into the traceparent header's text, rewritten per request */
    int64_t intended_ns;
    int64_t started_ns;
    int route;
    int busy;
    char errbuf[CURL_ERROR_SIZE];
    struct lg_xfer *next_free;
} lg_xfer;

typedef struct lg_sock {
    ev_io io;
    struct lg_worker *w;
} lg_sock;

struct lg_worker {
    lg_shared *sh;
    const lg_config *cfg;
    unsigned id;
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer curl_timer;   /* CURLMOPT_TIMERFUNCTION */
    ev_io send_io;         /* timerfd: the next intended send (ns precision) */
    ev_timer tick;         /* interval rollover when idle; closed-model end */
    ev_timer drain_timer;  /* cancels what is still in flight */
    ev_async wake;         /* stop requests */
    int send_fd;
    int64_t armed_ns;      /* absolute time the timerfd is armed for, 0 if not */

    lg_xfer *xfers;
    unsigned n_xfers;
    lg_xfer *free_list;
    unsigned in_flight;

    uint64_t next_k;       /* open model: next request index of this worker */
    int64_t next_abs;      /* its intended mono time, or -1 when not computed */
    int sending_done;      /* no more requests will be started */
    int64_t end_ns;        /* closed model: when to stop sending */
    int draining;
    uint64_t unsent;       /* due before a stop but never started */

    lg_stats *cur;
    uint64_t cur_interval;
    lg_routes routes;
    int route_main;
    char first_error[LG_ERR_COUNT][LG_ERROR_SAMPLE_MAX];
    uint64_t rng[2];
};

/* xorshift128+: fast per-worker randomness for trace ids. */
static uint64_t rng_next(uint64_t s[2])
{
    uint64_t x = s[0];
    const uint64_t y = s[1];
    s[0] = y;
    x ^= x << 23;
    s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s[1] + y;
}

/* Writes 16 lowercase hex digits of v at out. */
static void hex16(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 15];
        v >>= 4;
    }
}

/* Delivers every finished interval up to the one containing `now`. */
static void roll_intervals(lg_worker *w, int64_t now)
{
    int64_t since = now - w->sh->t0_mono;
    uint64_t idx = since > 0 ? (uint64_t)(since / w->cfg->interval_ns) : 0;
    while (w->cur_interval < idx) {
        lg_shared_deliver(w->sh, w->id, w->cur_interval, w->cur);
        lg_stats_reset(w->cur);
        w->cur_interval++;
    }
}

/* Stops the loop once nothing more will be sent and nothing is in flight. */
static void maybe_finish(lg_worker *w)
{
    if (w->sending_done && w->in_flight == 0)
        ev_break(w->loop, EVBREAK_ALL);
}

/* Starts one request on a free transfer, intended at `intended`. */
static void start_request(lg_worker *w, lg_xfer *x, int64_t intended, int64_t now)
{
    w->free_list = x->next_free;
    x->busy = 1;
    x->intended_ns = intended;
    x->started_ns = now;
    x->errbuf[0] = '\0';
    hex16(x->trace_hex, rng_next(w->rng));
    hex16(x->trace_hex + 16, rng_next(w->rng));
    hex16(x->trace_hex + 33, rng_next(w->rng));
    w->in_flight++;
    w->cur->sent++;
    w->routes.items[x->route].stats->sent++;
    if (now - intended > w->cfg->late_after_ns)
        w->cur->late++;
    CURLMcode mc = curl_multi_add_handle(w->multi, x->easy);
    if (mc != CURLM_OK) {
        /* cannot happen with a valid handle; count it rather than lose it */
        w->in_flight--;
        x->busy = 0;
        x->next_free = w->free_list;
        w->free_list = x;
        w->cur->by_error[LG_ERR_OTHER]++;
    }
}

/* Arms the send timerfd for absolute mono time at (no-op if already). */
static void arm_send(lg_worker *w, int64_t at)
{
    if (w->armed_ns == at)
        return;
    struct itimerspec its = {0};
    its.it_value.tv_sec = at / SQ_NS_PER_S;
    its.it_value.tv_nsec = at % SQ_NS_PER_S;
    timerfd_settime(w->send_fd, TFD_TIMER_ABSTIME, &its, NULL);
    w->armed_ns = at;
}

/* Open model: starts every request whose intended time has come, as long as
 * a transfer is free; arms the timer for the next one. Requests that find no
 * free transfer wait (and count as late when they start). */
static void dispatch_open(lg_worker *w)
{
    const lg_schedule *sched = &w->cfg->schedule;
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    while (!w->sending_done) {
        if (w->next_abs < 0) {
            int64_t t;
            if (lg_schedule_time(sched, w->next_k, &t)) {
                w->sending_done = 1;
                break;
            }
            w->next_abs = w->sh->t0_mono + t;
        }
        if (w->next_abs > now) {
            arm_send(w, w->next_abs);
            return;
        }
        if (!w->free_list)
            return; /* resumed when a transfer completes */
        start_request(w, w->free_list, w->next_abs, now);
        w->next_k += w->sh->n_workers;
        w->next_abs = -1;
        now = sq_mono_ns();
    }
    maybe_finish(w);
}

/* Closed model: every free transfer starts its next request now, until the
 * end time. */
static void dispatch_closed(lg_worker *w)
{
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    if (now >= w->end_ns)
        w->sending_done = 1;
    while (!w->sending_done && w->free_list) {
        start_request(w, w->free_list, now, now);
        now = sq_mono_ns();
    }
    maybe_finish(w);
}

/* Starts whatever the model says is due now. */
static void dispatch(lg_worker *w)
{
    if (w->sending_done)
        maybe_finish(w);
    else if (w->cfg->open_model)
        dispatch_open(w);
    else
        dispatch_closed(w);
}

/* Maps a failed transfer's CURLcode to an error class. */
static enum lg_error_class classify(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_CONNECT:
        return LG_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return LG_ERR_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return LG_ERR_DNS;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return LG_ERR_RESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return LG_ERR_TLS;
    default:
        return LG_ERR_OTHER;
    }
}

/* Returns a finished transfer to the free list. */
static void release(lg_worker *w, lg_xfer *x)
{
    curl_multi_remove_handle(w->multi, x->easy);
    x->busy = 0;
    x->next_free = w->free_list;
    w->free_list = x;
    w->in_flight--;
}

/* Records every finished transfer (curl_multi_info_read), frees its slot and
 * lets the model start what is due. */
static void collect_done(lg_worker *w)
{
    CURLMsg *msg;
    int left;
    int freed = 0;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        lg_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        int64_t now = sq_mono_ns();
        roll_intervals(w, now);
        lg_stats *rs = w->routes.items[x->route].stats;
        if (msg->data.result == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
            lg_stats_record_response(w->cur, status, now - x->intended_ns, now - x->started_ns);
            lg_stats_record_response(rs, status, now - x->intended_ns, now - x->started_ns);
        } else {
            enum lg_error_class c = classify(msg->data.result);
            if (!w->first_error[c][0])
                snprintf(w->first_error[c], sizeof w->first_error[c], "%s",
                         x->errbuf[0] ? x->errbuf : curl_easy_strerror(msg->data.result));
            w->cur->by_error[c]++;
            rs->by_error[c]++;
        }
        release(w, x);
        freed = 1;
    }
    if (freed)
        dispatch(w);
}

/* Ends every transfer still in flight, counting each as cancelled. */
static void cancel_all(lg_worker *w)
{
    roll_intervals(w, sq_mono_ns());
    for (unsigned i = 0; i < w->n_xfers; i++) {
        lg_xfer *x = &w->xfers[i];
        if (!x->busy)
            continue;
        w->cur->by_error[LG_ERR_CANCELLED]++;
        w->routes.items[x->route].stats->by_error[LG_ERR_CANCELLED]++;
        release(w, x);
    }
    maybe_finish(w);
}

/* ev_io callback for a curl socket: implements the socket half of
 * curl_multi_socket_action. */
static void on_sock_io(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    lg_sock *sk = (lg_sock *)io;
    lg_worker *w = sk->w;
    int action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
                 ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(w->multi, io->fd, action, &running);
    collect_done(w);
}

/* CURLMOPT_SOCKETFUNCTION: curl tells which events it wants on socket s. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    lg_worker *w = userp;
    lg_sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            ev_io_stop(w->loop, &sk->io);
            free(sk);
        }
        return 0;
    }
    int events = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!sk) {
        sk = calloc(1, sizeof *sk);
        if (!sk)
            return -1;
        sk->w = w;
        ev_io_init(&sk->io, on_sock_io, s, events);
        curl_multi_assign(w->multi, s, sk);
    } else {
        ev_io_stop(w->loop, &sk->io);
        ev_io_set(&sk->io, s, events);
    }
    ev_io_start(w->loop, &sk->io);
    return 0;
}

/* ev_timer callback: curl's timeout expired (socket_action on TIMEOUT). */
static void on_curl_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    lg_worker *w = t->data;
    int running;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(w);
}

/* CURLMOPT_TIMERFUNCTION: curl asks to be called back after timeout_ms
 * (-1 deletes the timer). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    lg_worker *w = userp;
    ev_timer_stop(w->loop, &w->curl_timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&w->curl_timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(w->loop, &w->curl_timer);
    }
    return 0;
}

/* ev_io callback for the send timerfd: the next intended send is due. */
static void on_send_due(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    (void)revents;
    lg_worker *w = io->data;
    uint64_t expirations;
    if (read(w->send_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    w->armed_ns = 0;
    dispatch(w);
}

/* Schedules the tick for just after the next interval boundary. */
static void schedule_tick(lg_worker *w)
{
    int64_t now = sq_mono_ns();
    int64_t next = w->sh->t0_mono + (int64_t)(w->cur_interval + 1) * w->cfg->interval_ns;
    if (!w->cfg->open_model && !w->sending_done && w->end_ns < next)
        next = w->end_ns;
    double delay = (double)(next - now) / 1e9 + 0.0005;
    ev_now_update(w->loop);
    ev_timer_set(&w->tick, delay > 0 ? delay : 0, 0.);
    ev_timer_start(w->loop, &w->tick);
}

/* ev_timer callback: interval boundary (delivers idle intervals) and, in the
 * closed model, the end of sending. */
static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    lg_worker *w = t->data;
    roll_intervals(w, sq_mono_ns());
    if (!w->cfg->open_model)
        dispatch(w);
    schedule_tick(w);
}

/* ev_timer callback: the drain period after a stop or the end is over. */
static void on_drain_end(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    cancel_all(t->data);
}

/* Open model, on a stop: counts this worker's requests that were due by now
 * but never started, so that intended = sent + unsent holds exactly. */
static void count_unsent(lg_worker *w)
{
    if (!w->cfg->open_model || w->sending_done)
        return;
    int64_t now_rel = sq_mono_ns() - w->sh->t0_mono;
    int64_t t;
    if (w->next_abs >= 0)
        t = w->next_abs - w->sh->t0_mono;
    else if (lg_schedule_time(&w->cfg->schedule, w->next_k, &t))
        return;
    while (t < now_rel) {
        w->unsent++;
        w->next_k += w->sh->n_workers;
        if (lg_schedule_time(&w->cfg->schedule, w->next_k, &t))
            break;
    }
}

/* Starts draining: no more sends; in-flight transfers get `grace` seconds. */
static void begin_drain(lg_worker *w, double grace)
{
    count_unsent(w);
    w->sending_done = 1;
    ev_io_stop(w->loop, &w->send_io);
    if (w->draining)
        return;
    w->draining = 1;
    ev_now_update(w->loop);
    ev_timer_set(&w->drain_timer, grace, 0.);
    ev_timer_start(w->loop, &w->drain_timer);
    maybe_finish(w);
}

/* ev_async callback: the engine asked to stop (1: drain, 2: cancel now). */
static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)loop;
    (void)revents;
    lg_worker *w = a->data;
    int stop = atomic_load(&w->sh->stop);
    if (stop >= 2) {
        count_unsent(w);
        w->sending_done = 1;
        cancel_all(w);
    } else if (stop == 1) {
        begin_drain(w, (double)w->cfg->drain_ns / 1e9);
    }
}

/* Discards a response body (CURLOPT_WRITEFUNCTION). */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Sets the options every request of this worker shares on a new handle. */
static int setup_easy(lg_worker *w, lg_xfer *x, sq_err *err)
{
    const lg_config *cfg = w->cfg;
    CURL *e = curl_easy_init();
    if (!e)
        return sq_errf(err, -ENOMEM, "cannot create a curl handle");
    x->easy = e;
    for (size_t i = 0; i < cfg->n_headers; i++)
        x->headers = curl_slist_append(x->headers, cfg->headers[i]);
    char line[256];
    snprintf(line, sizeof line, "%s: %s", cfg->tag_header, cfg->run_id);
    x->headers = curl_slist_append(x->headers, line);
    if (cfg->body)
        x->headers = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
    x->headers = curl_slist_append(
        x->headers, TRACEPARENT_PREFIX "00000000000000000000000000000000-0000000000000000-01");
    if (!x->headers)
        return sq_errf(err, -ENOMEM, "out of memory building request headers");
    struct curl_slist *last = x->headers;
    while (last->next)
        last = last->next;
    x->trace_hex = last->data + strlen(TRACEPARENT_PREFIX);

    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, cfg->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_ns / SQ_NS_PER_MS)) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->timeout_ns / SQ_NS_PER_MS)) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "squall/" SQUALL_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    /* no proxy: also spares libcurl a getenv() of the proxy variables per request */
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    if (strcmp(cfg->method, "HEAD") == 0)
        bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    else if (strcmp(cfg->method, "GET") != 0)
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, cfg->method) != CURLE_OK;
    if (cfg->body) {
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cfg->body_len) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, cfg->body) != CURLE_OK;
        if (strcmp(cfg->method, "POST") != 0)
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, cfg->method) != CURLE_OK;
    }
    if (cfg->http2) {
        long v = strncmp(cfg->url, "https:", 6) == 0 ? CURL_HTTP_VERSION_2TLS
                                                     : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, v) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1) != CURLE_OK;
    }
    if (cfg->insecure) {
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    if (cfg->cacert)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cacert) != CURLE_OK;
    if (cfg->cert)
        bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert) != CURLE_OK;
    if (cfg->key)
        bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key) != CURLE_OK;
    if (bad)
        return sq_errf(err, -EINVAL, "libcurl rejected an option (is it built with HTTP/2 and TLS?)");
    return 0;
}

/* Creates worker id with `slots` transfers; see engine.h. */
int lg_worker_new(lg_shared *sh, unsigned id, unsigned slots, lg_worker **out, sq_err *err)
{
    const lg_config *cfg = sh->cfg;
    int rc = -ENOMEM;
    lg_worker *w = calloc(1, sizeof *w);
    if (!w)
        return sq_errf(err, -ENOMEM, "out of memory");
    w->sh = sh;
    w->cfg = cfg;
    w->id = id;
    w->send_fd = -1;
    w->next_k = id;
    w->next_abs = -1;
    lg_routes_init(&w->routes);
    w->rng[0] = (uint64_t)sq_utc_ns() ^ ((uint64_t)id << 32) ^ 0x9E3779B97F4A7C15ULL;
    w->rng[1] = (uint64_t)sq_mono_ns() * 0xBF58476D1CE4E5B9ULL + id;
    if (!(w->cur = lg_stats_new(cfg->hist_digits))) {
        sq_errf(err, rc, "out of memory");
        goto fail;
    }
    char key[LG_ROUTE_KEY_MAX];
    w->route_main = lg_routes_intern(&w->routes, lg_route_key(cfg->method, cfg->url, key, sizeof key));
    if (w->route_main < 0) {
        sq_errf(err, rc, "out of memory");
        goto fail;
    }
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
    w->multi = curl_multi_init();
    w->send_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!w->loop || !w->multi || w->send_fd < 0) {
        sq_errf(err, rc = -EIO, "cannot create the event loop, curl multi handle or timer");
        goto fail;
    }
    unsigned conns = (cfg->connections + sh->n_workers - 1 - id) / sh->n_workers;
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)conns);
    curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, cfg->http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);

    w->n_xfers = slots;
    w->xfers = calloc(slots, sizeof *w->xfers);
    if (!w->xfers) {
        sq_errf(err, rc, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < slots; i++) {
        lg_xfer *x = &w->xfers[i];
        x->route = w->route_main;
        if ((rc = setup_easy(w, x, err)) < 0)
            goto fail;
        x->next_free = w->free_list;
        w->free_list = x;
    }
    ev_timer_init(&w->curl_timer, on_curl_timeout, 0., 0.);
    w->curl_timer.data = w;
    ev_io_init(&w->send_io, on_send_due, w->send_fd, EV_READ);
    w->send_io.data = w;
    ev_timer_init(&w->tick, on_tick, 0., 0.);
    w->tick.data = w;
    ev_timer_init(&w->drain_timer, on_drain_end, 0., 0.);
    w->drain_timer.data = w;
    ev_async_init(&w->wake, on_wake);
    w->wake.data = w;
    ev_async_start(w->loop, &w->wake);
    *out = w;
    return 0;
fail:
    lg_worker_free(w);
    return rc;
}

/* Worker thread: waits for the common start, runs the loop, delivers the
 * last interval and tells the engine it is done. */
void *lg_worker_main(void *arg)
{
    lg_worker *w = arg;
    const lg_config *cfg = w->cfg;
    int64_t t0 = w->sh->t0_mono;
    if (cfg->open_model) {
        ev_io_start(w->loop, &w->send_io);
        arm_send(w, t0);
    } else {
        w->end_ns = t0 + cfg->duration_ns;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
        int64_t wait = t0 - sq_mono_ns();
        if (wait > 0) {
            ts.tv_sec = wait / SQ_NS_PER_S;
            ts.tv_nsec = wait % SQ_NS_PER_S;
            nanosleep(&ts, NULL);
        }
        dispatch(w);
    }
    schedule_tick(w);
    if (atomic_load(&w->sh->stop))
        on_wake(w->loop, &w->wake, 0);
    if (!(w->sending_done && w->in_flight == 0))
        ev_run(w->loop, 0);
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    lg_shared_deliver(w->sh, w->id, w->cur_interval, w->cur);
    lg_stats_reset(w->cur);
    lg_shared_finish(w->sh, w->id, now, w->unsent);
    return NULL;
}

/* Wakes the worker's loop from another thread. */
void lg_worker_wake(lg_worker *w)
{
    ev_async_send(w->loop, &w->wake);
}

/* The worker's route table. */
const lg_routes *lg_worker_routes(const lg_worker *w)
{
    return &w->routes;
}

/* The first error message the worker saw in class c ("" if none). */
const char *lg_worker_first_error(const lg_worker *w, int c)
{
    return w->first_error[c];
}

/* Frees the worker, its transfers and its loop. */
void lg_worker_free(lg_worker *w)
{
    if (!w)
        return;
    for (unsigned i = 0; w->xfers && i < w->n_xfers; i++) {
        if (w->xfers[i].easy) {
            if (w->xfers[i].busy && w->multi)
                curl_multi_remove_handle(w->multi, w->xfers[i].easy);
            curl_easy_cleanup(w->xfers[i].easy);
        }
        curl_slist_free_all(w->xfers[i].headers);
    }
    free(w->xfers);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    if (w->loop)
        ev_loop_destroy(w->loop);
    if (w->send_fd >= 0)
        close(w->send_fd);
    lg_stats_free(w->cur);
    lg_routes_free(&w->routes);
    free(w);
}
