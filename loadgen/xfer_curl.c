/* xfer_curl.c — the libcurl transport: curl_multi_socket_action driven by
 * libev (the shape of curl's hiperfifo example), one reusable easy handle per
 * slot. Used for https://, HTTP/2 and whenever --engine curl is asked for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/curl_opts.h"
#include "loadgen/worker_int.h"

typedef struct lg_sock {
    ev_io io;
    lg_worker *w;
} lg_sock;

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

/* Reports every finished transfer (curl_multi_info_read) to the worker. */
static void collect_done(lg_worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        lg_xfer *x = NULL;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        long status = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        if (res != CURLE_OK) {
            x->partial_status = status; /* cut short: the headers may have said 201 */
            status = 0;
        }
        curl_multi_remove_handle(w->multi, x->easy);
        if (res == CURLE_OK)
            lg_worker_complete(w, x, status, LG_ERR_OTHER, NULL);
        else
            lg_worker_complete(w, x, 0, classify(res),
                               x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    }
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

/* Discards a response body (CURLOPT_WRITEFUNCTION). */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Keeps the ledger's header of a response (CURLOPT_HEADERFUNCTION): a
 * status line starts a new header section (after a 1xx or a redirect). */
static size_t capture_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    lg_xfer *x = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        lg_h1_capture_reset(&x->cap);
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (!colon)
        return n;
    const char *v = colon + 1, *end = ptr + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    lg_h1_capture_header(&x->cap, ptr, (size_t)(colon - ptr), v, (size_t)(end - v));
    return n;
}

/* Keeps the start of a response body for the ledger (CURLOPT_WRITEFUNCTION). */
static size_t capture_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    lg_xfer *x = userdata;
    lg_h1_capture_body(&x->cap, ptr, size * nmemb);
    return size * nmemb;
}

/* Creates slot x's easy handle with every option its requests share
 * (lg_transport.setup). */
static int curl_setup(lg_worker *w, lg_xfer *x, sq_err *err)
{
    const lg_config *cfg = w->cfg;
    CURL *e = curl_easy_init();
    if (!e)
        return sq_errf(err, -ENOMEM, "cannot create a curl handle");
    x->easy = e;
    char line[256];
    snprintf(line, sizeof line, "%s: %s", cfg->tag_header, cfg->run_id);
    const char *extra[] = {line, cfg->body ? "Expect:" : NULL /* no 100-continue round trip */,
                           LG_TRACEPARENT_LINE};
    for (size_t i = 0; i < cfg->n_headers + 3; i++) {
        const char *h = i < cfg->n_headers ? cfg->headers[i] : extra[i - cfg->n_headers];
        if (!h)
            continue;
        struct curl_slist *grown = curl_slist_append(x->headers, h);
        if (!grown)
            return sq_errf(err, -ENOMEM, "out of memory building request headers");
        x->headers = grown; /* on failure the list so far stays in x for teardown */
    }
    struct curl_slist *last = x->headers;
    while (last->next)
        last = last->next;
    x->trace_hex = last->data + strlen(LG_TRACEPARENT_PREFIX);

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
    bad |= lg_curl_set_tls(e, cfg->insecure, cfg->cacert, cfg->cert, cfg->key) != 0;
    if (bad)
        return sq_errf(err, -EINVAL, "libcurl rejected an option (is it built with HTTP/2 and TLS?)");
    return 0;
}


/* Creates the worker's multi handle (lg_transport.init). */
static int curl_init(lg_worker *w, sq_err *err)
{
    const lg_config *cfg = w->cfg;
    w->multi = curl_multi_init();
    if (!w->multi)
        return sq_errf(err, -ENOMEM, "cannot create a curl multi handle");
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)w->conns);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)w->conns);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->conns);
    curl_multi_setopt(w->multi, CURLMOPT_PIPELINING,
                      cfg->http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    ev_timer_init(&w->curl_timer, on_curl_timeout, 0., 0.);
    w->curl_timer.data = w;
    return 0;
}

/* Frees the multi handle (after every easy handle: lg_transport.cleanup). */
static void curl_cleanup(lg_worker *w)
{
    if (w->multi)
        curl_multi_cleanup(w->multi);
    w->multi = NULL;
}

/* Frees slot x's handle and headers (lg_transport.teardown). */
static void curl_teardown(lg_worker *w, lg_xfer *x)
{
    if (x->easy) {
        if (x->busy && w->multi)
            curl_multi_remove_handle(w->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rec_headers);
    free(x->rec_url);
    x->easy = NULL;
    x->headers = NULL;
    x->rec_headers = NULL;
    x->rec_url = NULL;
}

/* Sets slot x's handle up for its replayed request: URL, method, headers
 * (recorded ones, the tag, a fresh traceparent) and body. Returns 0 or
 * -ENOMEM / -EINVAL. */
static int setup_rec(lg_worker *w, lg_xfer *x)
{
    const lg_rec *r = x->rec;
    CURL *e = x->easy;
    curl_slist_free_all(x->rec_headers);
    x->rec_headers = NULL;
    free(x->rec_url);
    size_t ulen = strlen(w->base_url) + strlen(r->target) + 1;
    if (!(x->rec_url = malloc(ulen)))
        return -ENOMEM;
    snprintf(x->rec_url, ulen, "%s%s", w->base_url, r->target);
    char line[LG_TRACEPARENT_LEN + 320];
    /* the record's lines, split in one copy (libcurl copies each line it keeps) */
    char *block = strdup(r->headers);
    if (!block)
        return -ENOMEM;
    for (char *p = block; *p;) {
        char *eol = strstr(p, "\r\n");
        if (eol)
            *eol = '\0';
        struct curl_slist *l = curl_slist_append(x->rec_headers, p);
        if (!l) {
            free(block);
            return -ENOMEM;
        }
        x->rec_headers = l;
        p = eol ? eol + 2 : p + strlen(p);
    }
    free(block);
    snprintf(line, sizeof line, "%s: %s", w->cfg->tag_header, w->cfg->run_id);
    struct curl_slist *l = curl_slist_append(x->rec_headers, line);
    if (l)
        x->rec_headers = l;
    snprintf(line, sizeof line, "%s", LG_TRACEPARENT_LINE);
    lg_xfer_trace(x, line + strlen(LG_TRACEPARENT_PREFIX));
    if (!l || !(l = curl_slist_append(x->rec_headers, line)) ||
        !(x->rec_headers = l, l = curl_slist_append(x->rec_headers, "Expect:")))
        return -ENOMEM;
    x->rec_headers = l;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, x->rec_url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->rec_headers) != CURLE_OK;
    bad |= lg_curl_set_method(e, r->method, r->body, r->body_len) != 0;
    return bad ? -EINVAL : 0;
}

/* Adds slot x's handle to the multi handle (lg_transport.start). */
static void curl_start(lg_worker *w, lg_xfer *x)
{
    x->errbuf[0] = '\0';
    if (x->rec && setup_rec(w, x)) {
        lg_worker_complete(w, x, 0, LG_ERR_OTHER, "cannot set up the replayed request");
        return;
    }
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, x->capture_on ? capture_header : NULL);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x->capture_on ? (void *)x : NULL);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, x->capture_on ? capture_body : discard_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x->capture_on ? (void *)x : NULL);
    CURLMcode mc = curl_multi_add_handle(w->multi, x->easy);
    if (mc != CURLM_OK)
        lg_worker_complete(w, x, 0, LG_ERR_OTHER, curl_multi_strerror(mc));
}

/* Removes an in-flight handle (lg_transport.cancel). */
static void curl_cancel(lg_worker *w, lg_xfer *x)
{
    curl_multi_remove_handle(w->multi, x->easy);
}

const lg_transport lg_transport_curl = {
    .name = "curl",
    .init = curl_init,
    .cleanup = curl_cleanup,
    .setup = curl_setup,
    .teardown = curl_teardown,
    .start = curl_start,
    .cancel = curl_cancel,
};
