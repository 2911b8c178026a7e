/* cleanup_http.c — sends cleanup requests: one libcurl multi handle driven
 * by curl_multi_poll (no event library, no busy loop: the wait ends at the
 * next send the rate allows, the next retry due, a transfer's event or the
 * stop descriptor), up to --connections transfers at once, sends spaced to
 * honour --rate, retries with exponential backoff and Retry-After.
 *
 * Jobs come from the caller's `next` callback only while fewer than
 * PENDING_PER_CONN x connections are in flight or waiting for a retry, so
 * memory stays flat however long the ledger is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "loadgen/cleanup_int.h"
#include "loadgen/curl_opts.h"

#define PENDING_PER_CONN 4
#define WAIT_MAX_NS (1000 * SQ_NS_PER_MS) /* curl's own timers shorten it */
#define RETRY_AFTER_MAX_S 86400

/* Classifies a response or its absence (see cleanup_int.h). */
enum lg_verdict lg_cleanup_classify(long status, int transient, int bulk)
{
    if (status == 0)
        return transient ? LG_VERDICT_RETRY : LG_VERDICT_FAILED;
    if (status >= 200 && status < 300)
        return LG_VERDICT_DELETED;
    if (status == 404 || status == 410)
        return bulk ? LG_VERDICT_FAILED : LG_VERDICT_GONE;
    if (status == 408 || status == 429 || (status >= 500 && status < 600))
        return LG_VERDICT_RETRY;
    return LG_VERDICT_FAILED;
}

/* The delay before retry number attempt (see cleanup_int.h). */
int64_t lg_cleanup_backoff(unsigned attempt, int64_t base_ns, int64_t retry_after_ns,
                           int64_t max_ns)
{
    int64_t d = base_ns > 0 ? base_ns : 0;
    for (unsigned i = 1; i < attempt && d < max_ns; i++)
        d *= 2;
    if (retry_after_ns > d)
        d = retry_after_ns;
    return d > max_ns ? max_ns : d;
}

/* True for transport errors that may pass on a later attempt (refused or
 * reset connections, timeouts, name lookups); not for bad URLs, TLS
 * verification failures or garbage answers. */
static int transient_error(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Frees a job and its strings. */
void lg_cjob_free(lg_cjob *job)
{
    if (!job)
        return;
    free(job->entry);
    free(job->request);
    free(job);
}

/* The sender's state for one lg_sender_run. */
typedef struct sender {
    const lg_sender *s;
    const lg_cleanup_opts *o;
    CURLM *multi;
    struct curl_slist *headers;
    unsigned active;
    lg_cjob *inflight; /* on the multi handle */
    lg_cjob *waiting;  /* retries, by ready_ns */
    size_t n_waiting;
    size_t max_pending;
    int src_done;
    int64_t interval_ns; /* 0: no rate limit */
    int64_t next_send_ns;
    uint64_t *requests, *retries; /* the caller's counters, kept current */
} sender;

/* CURLOPT_WRITEFUNCTION: keeps the start of the body for messages. */
static size_t keep_body(char *data, size_t size, size_t n, void *userp)
{
    lg_cjob *job = userp;
    size_t len = size * n, room = sizeof job->body - 1 - job->body_len;
    size_t take = len < room ? len : room;
    memcpy(job->body + job->body_len, data, take);
    job->body_len += take;
    job->body[job->body_len] = '\0';
    return len;
}

/* How long a Retry-After value v[0..n) asks to wait; see cleanup_int.h. */
int64_t lg_cleanup_retry_after(const char *v, size_t n, int64_t now_s)
{
    size_t i = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    while (n > i && strchr(" \t\r\n", v[n - 1]))
        n--;
    if (i == n)
        return -1;
    if (v[i] >= '0' && v[i] <= '9') {
        int64_t secs = 0;
        for (; i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            if ((secs = secs * 10 + (v[i] - '0')) > RETRY_AFTER_MAX_S)
                secs = RETRY_AFTER_MAX_S;
        }
        return secs * SQ_NS_PER_S;
    }
    /* an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"): the wait until then */
    char date[64];
    if (n - i >= sizeof date)
        return -1;
    memcpy(date, v + i, n - i);
    date[n - i] = '\0';
    time_t when = curl_getdate(date, NULL);
    if (when == (time_t)-1)
        return -1;
    int64_t wait_s = (int64_t)when - now_s;
    if (wait_s > RETRY_AFTER_MAX_S)
        wait_s = RETRY_AFTER_MAX_S;
    return wait_s > 0 ? wait_s * SQ_NS_PER_S : 0;
}

/* CURLOPT_HEADERFUNCTION: notes Retry-After (seconds, or an HTTP date) of
 * the final response; a new status line forgets an earlier one's. */
static size_t on_header(char *line, size_t size, size_t n, void *userp)
{
    lg_cjob *job = userp;
    size_t len = size * n;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
        job->retry_after_ns = -1;
    else if (len > 12 && strncasecmp(line, "retry-after:", 12) == 0)
        job->retry_after_ns = lg_cleanup_retry_after(line + 12, len - 12,
                                                     sq_utc_ns() / SQ_NS_PER_S);
    return len;
}

/* The shared request headers: the run tag, then the caller's. Returns NULL
 * on out of memory (a list is never empty: the tag header is always there). */
static struct curl_slist *build_headers(const lg_sender *s)
{
    struct curl_slist *list = NULL, *l;
    char tag[600];
    snprintf(tag, sizeof tag, "%s: %s", s->tag_header, s->tag ? s->tag : "");
    if (!(list = curl_slist_append(NULL, tag)))
        return NULL;
    for (size_t i = 0; i < s->opts->n_headers; i++) {
        if (!(l = curl_slist_append(list, s->opts->headers[i]))) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = l;
    }
    return list;
}

/* Starts one attempt of job on a new easy handle. Returns 0 or -ENOMEM. */
static int start_job(sender *st, lg_cjob *job, sq_err *err)
{
    const lg_cleanup_opts *o = st->o;
    char method[LG_TPL_METHOD_MAX];
    CURL *e = curl_easy_init();
    int bad = 0;
    if (!e)
        return sq_errf(err, -ENOMEM, "libcurl cannot create a transfer");
    snprintf(method, sizeof method, "%.*s", (int)job->method_len, job->request);
    job->status = 0;
    job->errbuf[0] = job->body[0] = job->error[0] = '\0';
    job->body_len = 0;
    job->retry_after_ns = -1;
    long ms = (long)(o->timeout_ns / SQ_NS_PER_MS);
    bad |= curl_easy_setopt(e, CURLOPT_URL, job->request + job->method_len + 1) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, job) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, st->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, job) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, job) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "squall/" SQUALL_VERSION " cleanup") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    /* POST, PUT and PATCH go with an empty body and Content-Length: 0 */
    bad |= lg_curl_set_method(e, method, NULL, 0) != 0;
    bad |= lg_curl_set_tls(e, o->insecure, o->cacert, o->cert, o->key) != 0;
    if (bad || curl_multi_add_handle(st->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        return sq_errf(err, -ENOMEM, "libcurl cannot set up a transfer");
    }
    job->easy = e;
    job->attempts++;
    job->next = st->inflight;
    st->inflight = job;
    st->active++;
    (*st->requests)++;
    if (job->attempts > 1)
        (*st->retries)++;
    return 0;
}

/* Queues job for a retry at job->ready_ns, keeping the queue in time order. */
static void queue_retry(sender *st, lg_cjob *job)
{
    lg_cjob **pp = &st->waiting;
    while (*pp && (*pp)->ready_ns <= job->ready_ns)
        pp = &(*pp)->next;
    job->next = *pp;
    *pp = job;
    st->n_waiting++;
}

/* Says whether a job could start now: a retry is due, or the source may
 * give another one. */
static int have_work(const sender *st, int64_t now)
{
    return (st->waiting && st->waiting->ready_ns <= now) ||
           (!st->src_done && st->active + st->n_waiting < st->max_pending);
}

/* Starts jobs while a connection is free, the rate allows and there is
 * work: due retries first, then new jobs. Returns 0 or a negative errno. */
static int start_ready(sender *st, int64_t now, sq_err *err)
{
    int rc;
    while (st->active < st->o->connections && have_work(st, now)) {
        if (st->interval_ns && now < st->next_send_ns)
            return 0;
        lg_cjob *job = NULL;
        if (st->waiting && st->waiting->ready_ns <= now) {
            job = st->waiting;
            st->waiting = job->next;
            st->n_waiting--;
            job->next = NULL;
        } else {
            rc = st->s->next(st->s->ctx, &job, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                st->src_done = 1;
                continue;
            }
        }
        if ((rc = start_job(st, job, err)) < 0) {
            lg_cjob_free(job);
            return rc;
        }
        if (st->interval_ns) {
            if (st->next_send_ns < now)
                st->next_send_ns = now;
            st->next_send_ns += st->interval_ns;
        }
    }
    return 0;
}

/* Writes what went wrong with job's last attempt into job->error: the
 * status and the start of the body, or libcurl's words. */
static void describe_failure(lg_cjob *job, CURLcode res)
{
    if (res != CURLE_OK) {
        snprintf(job->error, sizeof job->error, "%s",
                 job->errbuf[0] ? job->errbuf : curl_easy_strerror(res));
        return;
    }
    char body[sizeof job->body];
    size_t n = 0;
    for (size_t i = 0; i < job->body_len && n < 120; i++) {
        unsigned char c = (unsigned char)job->body[i];
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        if (c >= ' ' && c < 0x7f && !(c == ' ' && (n == 0 || body[n - 1] == ' ')))
            body[n++] = (char)c;
    }
    while (n > 0 && body[n - 1] == ' ')
        n--;
    body[n] = '\0';
    snprintf(job->error, sizeof job->error, "HTTP %ld%s%s", job->status, n ? ": " : "", body);
}

/* Takes job off the in-flight list. */
static void unlink_inflight(sender *st, lg_cjob *job)
{
    lg_cjob **pp = &st->inflight;
    while (*pp && *pp != job)
        pp = &(*pp)->next;
    if (*pp)
        *pp = job->next;
    job->next = NULL;
}

/* Handles every finished transfer: a verdict for its job, or a retry.
 * Returns 0 or the first negative errno from the done callback. */
static int collect(sender *st, sq_err *err)
{
    CURLMsg *msg;
    int left, rc = 0;
    while ((msg = curl_multi_info_read(st->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        lg_cjob *job = NULL;
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&job);
        if (res == CURLE_OK)
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &job->status);
        curl_multi_remove_handle(st->multi, e);
        curl_easy_cleanup(e);
        job->easy = NULL;
        unlink_inflight(st, job);
        st->active--;
        enum lg_verdict v = lg_cleanup_classify(res == CURLE_OK ? job->status : 0,
                                                transient_error(res), st->s->bulk);
        if (v != LG_VERDICT_DELETED && v != LG_VERDICT_GONE)
            describe_failure(job, res);
        if (v == LG_VERDICT_RETRY && job->attempts <= st->o->retries) {
            job->ready_ns = sq_mono_ns() + lg_cleanup_backoff(job->attempts, st->o->backoff_ns,
                                                              job->retry_after_ns,
                                                              st->o->backoff_max_ns);
            queue_retry(st, job);
            continue;
        }
        if (v == LG_VERDICT_RETRY) {
            size_t n = strlen(job->error);
            snprintf(job->error + n, sizeof job->error - n, " (gave up after %u attempts)",
                     job->attempts);
            v = LG_VERDICT_FAILED;
        }
        if (rc == 0)
            rc = st->s->done(st->s->ctx, job, v, err);
        lg_cjob_free(job);
    }
    return rc;
}

/* How long to wait for events, in ms: until the next send the rate allows
 * (when there is work and a free connection), the next retry due, or at
 * most WAIT_MAX_NS (libcurl's own timers end the wait earlier). */
static int wait_ms(const sender *st, int64_t now)
{
    int64_t wait = WAIT_MAX_NS;
    if (st->interval_ns && st->active < st->o->connections && have_work(st, now) &&
        st->next_send_ns - now < wait)
        wait = st->next_send_ns - now;
    if (st->waiting && st->waiting->ready_ns > now && st->waiting->ready_ns - now < wait)
        wait = st->waiting->ready_ns - now;
    if (wait < 0)
        wait = 0;
    return (int)((wait + SQ_NS_PER_MS - 1) / SQ_NS_PER_MS);
}

/* Abandons every job in flight or waiting (no verdict: a later run sends
 * them again). */
static void abandon_all(sender *st)
{
    while (st->inflight) {
        lg_cjob *next = st->inflight->next;
        curl_multi_remove_handle(st->multi, st->inflight->easy);
        curl_easy_cleanup(st->inflight->easy);
        lg_cjob_free(st->inflight);
        st->inflight = next;
    }
    while (st->waiting) {
        lg_cjob *next = st->waiting->next;
        lg_cjob_free(st->waiting);
        st->waiting = next;
    }
    st->active = 0;
    st->n_waiting = 0;
}

/* Sends every job (see cleanup_int.h). */
int lg_sender_run(const lg_sender *s, int *stopped, uint64_t *requests, uint64_t *retries,
                  sq_err *err)
{
    sender st = {.s = s, .o = s->opts, .requests = requests, .retries = retries};
    int rc = 0, running;
    *stopped = 0;
    st.max_pending = (size_t)s->opts->connections * PENDING_PER_CONN;
    if (s->opts->rate > 0)
        st.interval_ns = (int64_t)(1e9 / s->opts->rate);
    if (!(st.multi = curl_multi_init()) || !(st.headers = build_headers(s))) {
        rc = sq_errf(err, -ENOMEM, "libcurl failed to initialise");
        goto out;
    }
    curl_multi_setopt(st.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)s->opts->connections);
    curl_multi_setopt(st.multi, CURLMOPT_MAXCONNECTS, (long)s->opts->connections);
    st.next_send_ns = sq_mono_ns();
    for (;;) {
        int64_t now = sq_mono_ns();
        if ((rc = start_ready(&st, now, err)) < 0)
            break;
        if (st.active == 0 && !st.waiting && st.src_done)
            break;
        struct curl_waitfd stop = {.fd = s->opts->stop_fd, .events = CURL_WAIT_POLLIN};
        CURLMcode mc = curl_multi_poll(st.multi, &stop, s->opts->stop_fd >= 0 ? 1 : 0,
                                       wait_ms(&st, sq_mono_ns()), NULL);
        if (mc != CURLM_OK) {
            rc = sq_errf(err, -EIO, "libcurl: %s", curl_multi_strerror(mc));
            break;
        }
        if (s->opts->stop_fd >= 0 && (stop.revents & CURL_WAIT_POLLIN)) {
            *stopped = 1;
            break;
        }
        if ((mc = curl_multi_perform(st.multi, &running)) != CURLM_OK) {
            rc = sq_errf(err, -EIO, "libcurl: %s", curl_multi_strerror(mc));
            break;
        }
        rc = collect(&st, err);
        if (s->tick)
            s->tick(s->ctx);
        if (rc < 0)
            break;
    }
out:
    if (st.multi) {
        abandon_all(&st);
        curl_multi_cleanup(st.multi);
    }
    curl_slist_free_all(st.headers);
    return rc;
}
