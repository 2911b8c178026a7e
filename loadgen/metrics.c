/* metrics.c — Prometheus text format (version 0.0.4), written by hand. */
#include "metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lg_metrics {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    lg_stats *total; /* snapshot, guarded by mu */
    double rate_intended, rate_achieved;
};

/* Bucket bounds of squall_latency_seconds, in seconds. */
static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* A growing text buffer for the exposition. */
typedef struct text {
    char *buf;
    size_t len, cap;
    int oom;
} text;

/* Appends formatted text, growing the buffer. */
static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->oom = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

/* Renders the snapshot; caller frees the result. */
char *lg_metrics_render(lg_metrics *m)
{
    text t = {.buf = malloc(4096), .cap = 4096};
    if (!t.buf)
        return NULL;
    t.buf[0] = '\0';
    pthread_mutex_lock(&m->mu);
    const lg_stats *s = m->total;
    text_add(&t, "# HELP squall_requests_total Responses received, by HTTP status code.\n"
                 "# TYPE squall_requests_total counter\n");
    for (int code = 0; code < LG_MAX_STATUS; code++)
        if (s->by_status[code])
            text_add(&t, "squall_requests_total{status=\"%d\"} %llu\n", code,
                     (unsigned long long)s->by_status[code]);
    text_add(&t, "# HELP squall_request_errors_total Requests that got no response, by class.\n"
                 "# TYPE squall_request_errors_total counter\n");
    for (int c = 0; c < LG_ERR_COUNT; c++)
        text_add(&t, "squall_request_errors_total{class=\"%s\"} %llu\n", lg_error_class_name(c),
                 (unsigned long long)s->by_error[c]);
    text_add(&t, "# HELP squall_requests_sent_total Requests started.\n"
                 "# TYPE squall_requests_sent_total counter\nsquall_requests_sent_total %llu\n"
                 "# HELP squall_requests_late_total Requests started later than intended.\n"
                 "# TYPE squall_requests_late_total counter\nsquall_requests_late_total %llu\n",
             (unsigned long long)s->sent, (unsigned long long)s->late);
    text_add(&t, "# HELP squall_latency_seconds Response latency from the intended send time "
                 "(coordinated omission corrected).\n# TYPE squall_latency_seconds histogram\n");
    for (size_t i = 0; i < sizeof latency_bounds / sizeof latency_bounds[0]; i++)
        text_add(&t, "squall_latency_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[i],
                 (unsigned long long)sq_hist_count_at_or_below(
                     s->corrected, (int64_t)(latency_bounds[i] * 1e6)));
    uint64_t count = sq_hist_count(s->corrected);
    text_add(&t,
             "squall_latency_seconds_bucket{le=\"+Inf\"} %llu\nsquall_latency_seconds_sum %.6f\n"
             "squall_latency_seconds_count %llu\n",
             (unsigned long long)count, sq_hist_mean(s->corrected) * (double)count / 1e6,
             (unsigned long long)count);
    text_add(&t, "# HELP squall_rate_intended Intended request rate (req/s), latest interval.\n"
                 "# TYPE squall_rate_intended gauge\nsquall_rate_intended %.3f\n"
                 "# HELP squall_rate_achieved Achieved send rate (req/s), latest interval.\n"
                 "# TYPE squall_rate_achieved gauge\nsquall_rate_achieved %.3f\n"
                 "# HELP squall_faults_active Chaos faults currently applied.\n"
                 "# TYPE squall_faults_active gauge\nsquall_faults_active 0\n",
             m->rate_intended, m->rate_achieved);
    pthread_mutex_unlock(&m->mu);
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* MHD access handler: answers any GET with the exposition text. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)url;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    lg_metrics *m = cls;
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    char *body = NULL;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else if (!(body = lg_metrics_render(m))) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Starts the metrics server; see metrics.h. */
int lg_metrics_start(const char *addr, int digits, lg_metrics **out, sq_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = sq_parse_listen_addr(addr, &ss, &len, err);
    if (rc)
        return sq_err_prefix(err, rc, "--metrics-listen: ");
    lg_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->total = lg_stats_new(digits))) {
        free(m);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&m->mu, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)10, MHD_OPTION_END);
    if (!m->daemon) {
        int e = errno ? errno : EADDRINUSE;
        lg_metrics_free(m);
        return sq_errf(err, -e, "--metrics-listen: cannot listen on %s: %s", addr, strerror(e));
    }
    *out = m;
    return 0;
}

/* Replaces the snapshot with the latest totals. */
void lg_metrics_update(lg_metrics *m, const lg_stats *total, double rate_intended,
                       double rate_achieved)
{
    pthread_mutex_lock(&m->mu);
    lg_stats_reset(m->total);
    lg_stats_merge(m->total, total);
    m->rate_intended = rate_intended;
    m->rate_achieved = rate_achieved;
    pthread_mutex_unlock(&m->mu);
}

/* Stops the daemon and frees the snapshot. */
void lg_metrics_free(lg_metrics *m)
{
    if (!m)
        return;
    if (m->daemon)
        MHD_stop_daemon(m->daemon);
    pthread_mutex_destroy(&m->mu);
    lg_stats_free(m->total);
    free(m);
}
