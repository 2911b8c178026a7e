/* worker.c — one load worker: a libev loop, a pool of reusable request
 * slots sent through a transport (worker_int.h), and the open- or
 * closed-model send logic. Each worker records into its own stats with no
 * locks and hands finished intervals to the engine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loadgen/feeder.h"
#include "loadgen/rng.h"
#include "loadgen/worker_int.h"

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
        lg_agg_deliver(&w->sh->agg, w->id, w->cur_interval, w->cur);
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

/* Writes x's trace digits at out; see worker_int.h. */
void lg_xfer_trace(const lg_xfer *x, char *out)
{
    hex16(out, x->trace_rand[0]);
    hex16(out + 16, x->trace_rand[1]);
    out[32] = '-';
    hex16(out + 33, x->trace_rand[2]);
}

/* The route index of a replayed request (its key was made with the record,
 * off this thread; the main route when the table cannot grow). */
static int rec_route(lg_worker *w, const lg_rec *r)
{
    int route = lg_routes_intern(&w->routes, r->route_key);
    return route < 0 ? w->route_main : route;
}

/* The configured request with its body's templates expanded (a fresh
 * ${uuid} each time), as a record owned by the caller; NULL when out of
 * memory (the request then goes out with its body unexpanded). */
static lg_rec *templated_request(lg_worker *w, int64_t at_ns)
{
    const lg_config *cfg = w->cfg;
    lg_traffic_req req = {.method = cfg->method, .url = w->target_path, .body = cfg->body,
                          .body_len = cfg->body_len};
    lg_rec_ctx ctx = {.run_id = cfg->run_id,
                      .tag_header = cfg->tag_header,
                      .extra_headers = cfg->headers,
                      .n_extra = cfg->n_headers,
                      .clones = 1,
                      .rng = w->rng};
    lg_rec *r = NULL;
    return lg_rec_build(&req, &ctx, 0, at_ns, &r) ? NULL : r;
}

/* Gives slot x the buffers a ledger capture needs (once). Returns 1 when
 * it has them, 0 when out of memory (the write then goes unrecorded, and
 * the worker's first "other" error says so). */
static int capture_ready(lg_worker *w, lg_xfer *x)
{
    lg_h1_capture *c = &x->cap;
    if (!c->value && !(c->value = malloc(LG_LEDGER_VALUE_MAX)))
        return 0;
    c->value_cap = LG_LEDGER_VALUE_MAX;
    if (w->ledger.kind == LG_LEDGER_JSON) {
        if (!c->body && !(c->body = malloc(LG_LEDGER_BODY_MAX)))
            return 0;
        c->body_cap = LG_LEDGER_BODY_MAX;
    }
    c->header = lg_ledger_capture_header(&w->ledger);
    lg_h1_capture_reset(c);
    return 1;
}

/* Appends the "created" line of slot x's write to the ledger when its
 * response (status; cut: cut short after the headers) created an object. */
static void ledger_record(lg_worker *w, lg_xfer *x, long status, int cut)
{
    char entry[64], *url = NULL, *line = NULL;
    snprintf(entry, sizeof entry, "%u-%u-%llu", w->cfg->shard_index + 1, w->id,
             (unsigned long long)(w->ledger_written + w->ledger_lost + 1));
    if (x->rec) {
        size_t n = strlen(w->base_url) + strlen(x->rec->target) + 1;
        if ((url = malloc(n)))
            snprintf(url, n, "%s%s", w->base_url, x->rec->target);
    }
    lg_ledger_item item = {.entry = entry,
                           .run_id = w->cfg->run_id,
                           .clone = x->rec ? x->rec->clone : 0,
                           .method = x->rec ? x->rec->method : w->cfg->method,
                           .url = x->rec ? url : w->cfg->url,
                           .status = status,
                           .cut = cut};
    sq_err err;
    if (!item.url || lg_ledger_line(&w->ledger, &item, &x->cap, &line)) {
        w->ledger_lost++; /* out of memory */
    } else if (line) {
        if (sq_rundir_append_raw(w->sh->rd, "ledger.jsonl", line, strlen(line), &err)) {
            w->ledger_lost++;
        } else {
            w->ledger_written++;
            atomic_store(&w->sh->ledger_dirty, 1);
        }
    }
    free(line);
    free(url);
}

/* Takes a free slot, stamps it and hands it to the transport with the
 * replayed request rec (owned by the slot from now on), or with the
 * configured request when rec is NULL. */
static void start_request(lg_worker *w, lg_xfer *x, lg_rec *rec, int64_t intended, int64_t now)
{
    w->free_list = x->next_free;
    x->busy = 1;
    x->intended_ns = intended;
    x->started_ns = now;
    if (!rec && w->cfg->body_templated)
        rec = templated_request(w, intended - w->sh->t0_mono);
    x->rec = rec;
    x->route = rec ? rec_route(w, rec) : w->route_main;
    x->capture_on = w->ledger.kind != LG_LEDGER_OFF &&
                    lg_ledger_is_write(rec ? rec->method : w->cfg->method) && capture_ready(w, x);
    for (int i = 0; i < 3; i++)
        x->trace_rand[i] = lg_rng_next(w->rng);
    if (!rec)
        lg_xfer_trace(x, x->trace_hex);
    w->in_flight++;
    w->cur->sent++;
    w->routes.items[x->route].stats->sent++;
    if (now - intended > w->cfg->late_after_ns)
        w->cur->late++;
    w->tp->start(w, x);
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

/* Replay: starts every queued request whose time has come, as long as a
 * transfer is free; arms the timer for the next one, or asks the feeder
 * for a wake-up when the queue is empty. */
static void dispatch_replay(lg_worker *w)
{
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    while (!w->sending_done) {
        lg_rec *r = lg_recq_peek(w->queue);
        if (!r) {
            int closed = atomic_load(&w->queue->closed);
            atomic_store(&w->queue->starving, 1);
            atomic_thread_fence(memory_order_seq_cst); /* pairs with the feeder's (hand_over) */
            if ((r = lg_recq_peek(w->queue)) == NULL) {
                if (closed)
                    w->sending_done = 1;
                break; /* the feeder wakes us after its next push */
            }
            atomic_store(&w->queue->starving, 0);
        }
        int64_t at = w->sh->t0_mono + r->at_ns;
        if (at > now) {
            arm_send(w, at);
            return;
        }
        if (!w->free_list)
            return;
        lg_recq_pop(w->queue);
        start_request(w, w->free_list, r, at, now);
        now = sq_mono_ns();
        roll_intervals(w, now);
    }
    maybe_finish(w);
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
        start_request(w, w->free_list, NULL, w->next_abs, now);
        w->next_k += w->stride;
        w->next_abs = -1;
        now = sq_mono_ns();
        roll_intervals(w, now);
    }
    maybe_finish(w);
}

/* Closed model: every free slot starts its next request now, until the end
 * time. */
static void dispatch_closed(lg_worker *w)
{
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    while (!w->sending_done && w->free_list) {
        if (now >= w->end_ns) {
            w->sending_done = 1;
            break;
        }
        start_request(w, w->free_list, NULL, now, now);
        now = sq_mono_ns();
    }
    if (now >= w->end_ns)
        w->sending_done = 1;
    maybe_finish(w);
}

/* Starts whatever the model says is due now (not re-entrantly: a request
 * that fails at once completes inside start and must not recurse). */
static void dispatch(lg_worker *w)
{
    if (w->dispatching)
        return;
    w->dispatching = 1;
    if (w->sending_done)
        maybe_finish(w);
    else if (w->queue)
        dispatch_replay(w);
    else if (w->cfg->open_model)
        dispatch_open(w);
    else
        dispatch_closed(w);
    w->dispatching = 0;
}

/* Records the end of slot x's request, frees the slot and starts what is
 * due; see worker_int.h. */
void lg_worker_complete(lg_worker *w, lg_xfer *x, long status, enum lg_error_class c,
                        const char *message)
{
    int64_t now = sq_mono_ns();
    roll_intervals(w, now);
    lg_stats *rs = w->routes.items[x->route].stats;
    long answered = status > 0 ? status : x->partial_status;
    if (x->capture_on && answered >= 200 && answered < 300)
        ledger_record(w, x, answered, status == 0);
    x->capture_on = 0;
    x->partial_status = 0;
    if (status > 0) {
        lg_stats_record_response(w->cur, status, now - x->intended_ns, now - x->started_ns);
        lg_stats_record_response(rs, status, now - x->intended_ns, now - x->started_ns);
    } else {
        if (!w->first_error[c][0])
            snprintf(w->first_error[c], sizeof w->first_error[c], "%s",
                     message && *message ? message : lg_error_class_name(c));
        w->cur->by_error[c]++;
        rs->by_error[c]++;
    }
    free(x->rec);
    x->rec = NULL;
    x->busy = 0;
    x->next_free = w->free_list;
    w->free_list = x;
    w->in_flight--;
    dispatch(w);
}

/* Ends every request still in flight, counting each as cancelled. */
static void cancel_all(lg_worker *w)
{
    roll_intervals(w, sq_mono_ns());
    w->sending_done = 1;
    for (unsigned i = 0; i < w->n_xfers; i++) {
        lg_xfer *x = &w->xfers[i];
        if (!x->busy)
            continue;
        w->tp->cancel(w, x);
        lg_worker_complete(w, x, 0, LG_ERR_CANCELLED, "still in flight when the run stopped");
    }
    maybe_finish(w);
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
    if (w->queue) {
        w->unsent += lg_feeder_discard(w->sh->feeder, w->queue);
        return;
    }
    if (!w->cfg->open_model || w->sending_done)
        return;
    /* this worker's requests are k = next_k, next_k + n, ...; those with
     * k < due were due by now */
    uint64_t due = lg_schedule_count_before(&w->cfg->schedule, sq_mono_ns() - w->sh->t0_mono);
    uint64_t n = w->stride;
    if (due > w->next_k) {
        uint64_t missed = (due - w->next_k + n - 1) / n;
        w->unsent += missed;
        w->next_k += missed * n;
        w->next_abs = -1;
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
    } else {
        dispatch(w); /* the feeder queued a request for a starving worker */
    }
}

/* Chooses the transport: the native HTTP/1.1 one for plain http:// without
 * HTTP/2 (unless --engine curl), libcurl otherwise. */
static const lg_transport *choose_transport(const lg_config *cfg)
{
    return strcmp(lg_config_engine(cfg), "native") == 0 ? &lg_transport_native
                                                         : &lg_transport_curl;
}

/* The HTTP client cfg selects: "native" or "curl". */
const char *lg_config_engine(const lg_config *cfg)
{
    if (cfg->engine == LG_ENGINE_CURL)
        return "curl";
    if (cfg->engine == LG_ENGINE_NATIVE)
        return "native";
    return !cfg->http2 && strncmp(cfg->url, "http://", 7) == 0 ? "native" : "curl";
}

/* Fills w->base_url ("scheme://host[:port]") and w->host_header from the
 * target URL. Returns 0 or -EINVAL with a message. */
static int parse_target(lg_worker *w, sq_err *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = 0;
    CURLU *u = curl_url();
    if (!u)
        return sq_errf(err, -ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, w->cfg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = sq_errf(err, -EINVAL, "'%s' is not a valid URL", w->cfg->url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* NULL: the scheme's default */
    char *path = NULL, *query = NULL;
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    size_t n = strlen(path ? path : "/") + (query ? strlen(query) + 1 : 0) + 1;
    if ((w->target_path = malloc(n)))
        snprintf(w->target_path, n, "%s%s%s", path ? path : "/", query ? "?" : "",
                 query ? query : "");
    curl_free(path);
    curl_free(query);
    if (!w->target_path)
        rc = sq_errf(err, -ENOMEM, "out of memory");
    snprintf(w->host_header, sizeof w->host_header, "%s%s%s", host, port ? ":" : "",
             port ? port : "");
    snprintf(w->base_url, sizeof w->base_url, "%s://%s", scheme, w->host_header);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Gives the worker its replay queue; see engine.h. */
void lg_worker_attach_queue(lg_worker *w, struct lg_recq *q)
{
    w->queue = q;
}

/* Creates worker id with `slots` request slots; see engine.h. */
int lg_worker_new(lg_shared *sh, unsigned id, unsigned slots, lg_worker **out, sq_err *err)
{
    const lg_config *cfg = sh->cfg;
    int rc = -ENOMEM;
    lg_worker *w = calloc(1, sizeof *w);
    if (!w)
        return sq_errf(err, -ENOMEM, "out of memory");
    w->sh = sh;
    w->cfg = cfg;
    w->tp = choose_transport(cfg);
    w->id = id;
    w->send_fd = -1;
    /* request k goes to shard k % shards, then to worker (k / shards) % workers */
    w->next_k = cfg->shard_index + (uint64_t)cfg->shard_count * id;
    w->stride = (uint64_t)cfg->shard_count * sh->n_workers;
    w->next_abs = -1;
    w->conns = (cfg->connections + sh->n_workers - 1 - id) / sh->n_workers;
    lg_routes_init(&w->routes);
    w->rng[0] = (uint64_t)sq_utc_ns() ^ ((uint64_t)id << 32) ^ 0x9E3779B97F4A7C15ULL;
    w->rng[1] = (uint64_t)sq_mono_ns() * 0xBF58476D1CE4E5B9ULL + id;
    char key[LG_ROUTE_KEY_MAX];
    if (!(w->cur = lg_stats_new(cfg->hist_digits)) ||
        (w->route_main = lg_routes_intern(&w->routes,
                                          lg_route_key(cfg->method, cfg->url, key, sizeof key))) < 0) {
        sq_errf(err, rc, "out of memory");
        goto fail;
    }
    if ((rc = parse_target(w, err)) < 0)
        goto fail;
    if (cfg->ledger)
        w->ledger = *cfg->ledger;
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
    w->send_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!w->loop || w->send_fd < 0) {
        sq_errf(err, rc = -EIO, "cannot create the event loop or its timer");
        goto fail;
    }
    if ((rc = w->tp->init(w, err)) < 0)
        goto fail;
    w->n_xfers = slots;
    w->xfers = calloc(slots, sizeof *w->xfers);
    if (!w->xfers) {
        sq_errf(err, rc = -ENOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < slots; i++) {
        lg_xfer *x = &w->xfers[i];
        x->route = w->route_main;
        if ((rc = w->tp->setup(w, x, err)) < 0)
            goto fail;
        x->next_free = w->free_list;
        w->free_list = x;
    }
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
    if (w->queue && atomic_load(&w->sh->stop))
        w->unsent += lg_feeder_discard(w->sh->feeder, w->queue);
    lg_agg_finish(&w->sh->agg, w->id, w->cur_interval, w->cur, now, w->unsent);
    lg_stats_reset(w->cur);
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

/* The worker's ledger counts; see engine.h. */
void lg_worker_ledger_counts(const lg_worker *w, uint64_t *written, uint64_t *lost)
{
    *written = w->ledger_written;
    *lost = w->ledger_lost;
}

/* Frees the worker, its slots, its transport state and its loop. */
void lg_worker_free(lg_worker *w)
{
    if (!w)
        return;
    for (unsigned i = 0; w->xfers && i < w->n_xfers; i++) {
        w->tp->teardown(w, &w->xfers[i]);
        free(w->xfers[i].rec);
        free(w->xfers[i].cap.value);
        free(w->xfers[i].cap.body);
    }
    free(w->xfers);
    w->tp->cleanup(w);
    if (w->loop)
        ev_loop_destroy(w->loop);
    if (w->send_fd >= 0)
        close(w->send_fd);
    lg_stats_free(w->cur);
    lg_routes_free(&w->routes);
    free(w->target_path);
    free(w);
}
