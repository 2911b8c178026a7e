/* engine.c — lg_run: starts the workers, watches for a stop request,
 * aggregates their intervals into series.jsonl lines as they complete, and
 * writes routes.json at the end. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/engine.h"
#include "loadgen/feeder.h"
#include "loadgen/metrics.h"
#include "loadgen/progress.h"
#include "loadgen/route.h"

#define START_DELAY_NS (100 * SQ_NS_PER_MS) /* lets every worker be ready at t0 */
#define H2_STREAMS_PER_CONNECTION 100
#define LEDGER_SYNC_MS 50 /* how often the ledger is fsync'd while it grows */

/* Fills cfg with the defaults documented in loadgen.h. */
void lg_config_init(lg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->method = "GET";
    cfg->connections = 100;
    cfg->threads = 1;
    cfg->timeout_ns = 5 * SQ_NS_PER_S;
    cfg->interval_ns = SQ_NS_PER_S;
    cfg->late_after_ns = SQ_NS_PER_MS;
    cfg->drain_ns = 2 * SQ_NS_PER_S;
    cfg->hist_digits = SQ_HIST_DEFAULT_DIGITS;
    cfg->tag_header = "X-Squall-Run";
    cfg->stop_fd = -1;
    cfg->shard_count = 1;
}

/* Everything lg_run owns while it runs. */
typedef struct lg_run_state {
    lg_shared sh;
    lg_worker *workers[LG_MAX_WORKERS];
    pthread_t threads[LG_MAX_WORKERS];
    unsigned started;
    lg_stats *total;
    lg_metrics *metrics;
    lg_progress progress;
    lg_feeder *feeder; /* replay only */
    sq_err *err; /* where write_interval reports */
    int64_t end_ns; /* mono ns the last worker finished (set after join) */
} lg_run_state;

/* How many of the schedule's first c requests belong to this shard. */
uint64_t lg_shard_count(const lg_config *cfg, uint64_t c)
{
    uint64_t n = cfg->shard_count, s = cfg->shard_index;
    return c > s ? (c - s - 1) / n + 1 : 0;
}

/* Planned requests of this shard in [a, b) ns from t0, cut at a stop. */
static uint64_t intended_between(const lg_run_state *st, int64_t a, int64_t b)
{
    const lg_config *cfg = st->sh.cfg;
    if (!cfg->open_model)
        return 0;
    int64_t stop_at = atomic_load(&st->sh.stop_at);
    if (stop_at) {
        int64_t stop_rel = stop_at - st->sh.t0_mono;
        if (b > stop_rel)
            b = stop_rel;
        if (a > stop_rel)
            a = stop_rel;
    }
    return lg_shard_count(cfg, lg_schedule_count_before(&cfg->schedule, b)) -
           lg_shard_count(cfg, lg_schedule_count_before(&cfg->schedule, a));
}

/* lg_agg_drain callback: writes interval i as one series line and adds it
 * to the run totals. `last` marks the final, possibly short, one. */
static int write_interval(uint64_t i, lg_stats *s, int last, void *ctx)
{
    lg_run_state *st = ctx;
    sq_err *err = st->err;
    const lg_config *cfg = st->sh.cfg;
    int64_t start = (int64_t)i * cfg->interval_ns;
    int64_t end = start + cfg->interval_ns;
    if (last && st->end_ns && st->end_ns - st->sh.t0_mono < end)
        end = st->end_ns - st->sh.t0_mono;
    if (end <= start)
        end = start + 1;
    double dur = (double)(end - start) / 1e9;
    uint64_t intended = st->feeder       ? lg_feeder_take_planned(st->feeder, i)
                        : cfg->open_model ? intended_between(st, start, end)
                                          : s->sent;
    json_t *line = json_pack("{s:I, s:f, s:f, s:I, s:I, s:f, s:I, s:f, s:I}", "interval", (json_int_t)i,
                             "t_s", (double)start / 1e9, "dur_s", dur, "start_utc_ns",
                             (json_int_t)(st->sh.t0_utc + start), "intended", (json_int_t)intended,
                             "rate_intended", (double)intended / dur, "sent", (json_int_t)s->sent,
                             "rate_achieved", (double)s->sent / dur, "late", (json_int_t)s->late);
    if (!line || lg_stats_to_json(s, line)) {
        json_decref(line);
        return sq_errf(err, -ENOMEM, "out of memory writing series.jsonl");
    }
    if (last && cfg->open_model) {
        uint64_t unsent = 0; /* exact: intended = sent + unsent over the run */
        for (unsigned w = 0; w < st->sh.n_workers; w++)
            unsent += st->sh.agg.unsent[w];
        if (st->feeder)
            unsent += atomic_load(&st->feeder->unsent);
        json_object_set_new(line, "unsent", json_integer((json_int_t)unsent));
    }
    if (cfg->open_model && !cfg->replay) {
        size_t p = lg_schedule_phase_at(&cfg->schedule, start);
        if (cfg->schedule.phases[p].name[0])
            json_object_set_new(line, "phase", json_string(cfg->schedule.phases[p].name));
    }
    int rc = sq_rundir_append(st->sh.rd, "series.jsonl", line, err);
    json_decref(line);
    lg_stats_merge(st->total, s);
    lg_progress_interval(&st->progress, (double)end / 1e9, (double)intended / dur,
                         (double)s->sent / dur, s, st->total);
    if (st->metrics)
        lg_metrics_update(st->metrics, st->total, (double)intended / dur, (double)s->sent / dur);
    return rc;
}

/* Writes every interval that all workers have delivered (all of them when
 * `final`). */
static int drain_ring(lg_run_state *st, int final, sq_err *err)
{
    st->err = err;
    return lg_agg_drain(&st->sh.agg, final, write_interval, st);
}

/* Checks the configuration before anything starts. */
static int check_config(const lg_config *cfg, sq_err *err)
{
    if (!cfg->url || !*cfg->url)
        return sq_errf(err, -EINVAL, "no target URL");
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)
        return sq_errf(err, -EINVAL, "'%s' is not an http:// or https:// URL", cfg->url);
    if (cfg->threads < 1 || cfg->threads > LG_MAX_WORKERS)
        return sq_errf(err, -EINVAL, "threads must be 1..%d", LG_MAX_WORKERS);
    if (cfg->shard_count < 1 || cfg->shard_index >= cfg->shard_count)
        return sq_errf(err, -EINVAL, "shard %u/%u does not exist", cfg->shard_index + 1,
                       cfg->shard_count);
    if (cfg->connections < 1)
        return sq_errf(err, -EINVAL, "connections must be at least 1");
    if (cfg->interval_ns < 10 * SQ_NS_PER_MS)
        return sq_errf(err, -EINVAL, "the series interval must be at least 10ms");
    if (cfg->replay && !cfg->open_model)
        return sq_errf(err, -EINVAL, "a replay runs in the open model");
    if (!cfg->open_model && cfg->duration_ns <= 0)
        return sq_errf(err, -EINVAL, "the closed model needs a positive duration");
    if (!cfg->run_id || sq_run_id_validate(cfg->run_id, err))
        return -EINVAL;
    if (cfg->http2 && cfg->engine == LG_ENGINE_NATIVE)
        return sq_errf(err, -EINVAL, "--engine native speaks HTTP/1.1 only; drop --http2 or "
                                     "use --engine curl");
    if (cfg->http2 && strncmp(cfg->url, "http://", 7) == 0 &&
        curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
        return sq_errf(err, -EINVAL,
                       "--http2 on http:// needs libcurl 8.0 or later: libcurl %s fails every "
                       "reused cleartext HTTP/2 connection (curl issue #10634); use an https:// "
                       "URL for HTTP/2",
                       curl_version_info(CURLVERSION_NOW)->version);
    return 0;
}

/* Consumes a stop request from stop_fd and passes it to the workers: the
 * first drains, a second cancels what is in flight. */
static void request_stop(lg_run_state *st)
{
    char buf[256];
    if (read(st->sh.cfg->stop_fd, buf, sizeof buf) < 0) {
        /* a signalfd or pipe; whatever was read, this is a stop */
    }
    int level = atomic_load(&st->sh.stop) + 1;
    if (level == 1)
        atomic_store(&st->sh.stop_at, sq_mono_ns());
    atomic_store(&st->sh.stop, level > 2 ? 2 : level);
    for (unsigned i = 0; i < st->started; i++)
        lg_worker_wake(st->workers[i]);
}

/* fsyncs ledger.jsonl when lines were added since the last time (called at
 * least every LEDGER_SYNC_MS while the run lasts, and at its end). */
static void sync_ledger(lg_run_state *st)
{
    sq_err err;
    if (atomic_exchange(&st->sh.ledger_dirty, 0) &&
        sq_rundir_sync(st->sh.rd, "ledger.jsonl", &err))
        sq_warn("%s", err.msg);
}

/* Waits for workers while writing intervals as they complete. */
static int supervise(lg_run_state *st, sq_err *err)
{
    const lg_config *cfg = st->sh.cfg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = st->sh.agg.wake_fd, .events = POLLIN},
                                {.fd = cfg->stop_fd, .events = POLLIN}};
        int n = poll(fds, cfg->stop_fd >= 0 ? 2 : 1, LEDGER_SYNC_MS);
        if (n < 0 && errno != EINTR)
            return sq_errf(err, -errno, "poll: %s", strerror(errno));
        if (n > 0 && cfg->stop_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP)))
            request_stop(st);
        int rc = drain_ring(st, 0, err);
        if (rc)
            return rc;
        sync_ledger(st);
        if (lg_agg_all_done(&st->sh.agg, st->started))
            return 0;
    }
}

/* Frees what lg_run allocated (workers must have been joined). */
static void run_state_free(lg_run_state *st)
{
    for (unsigned i = 0; i < st->sh.n_workers; i++)
        lg_worker_free(st->workers[i]);
    lg_feeder_free(st->feeder);
    lg_agg_destroy(&st->sh.agg);
    lg_stats_free(st->total);
    lg_metrics_free(st->metrics);
    free(st);
}

/* Writes routes.json merged from every worker's route table. */
static int write_routes(lg_run_state *st, sq_err *err)
{
    lg_routes all;
    lg_routes_init(&all);
    int rc = 0;
    for (unsigned i = 0; i < st->sh.n_workers && rc == 0; i++)
        rc = lg_routes_merge(&all, lg_worker_routes(st->workers[i]));
    json_t *doc = rc ? NULL : lg_routes_to_json(&all);
    if (!doc)
        rc = sq_errf(err, -ENOMEM, "out of memory writing routes.json");
    else
        rc = sq_rundir_write_json(st->sh.rd, "routes.json", doc, err);
    json_decref(doc);
    lg_routes_free(&all);
    return rc;
}

/* Fills the caller's totals from the merged run. */
static void fill_totals(lg_run_state *st, lg_totals *t)
{
    const lg_stats *s = st->total;
    memset(t, 0, sizeof *t);
    t->sent = s->sent;
    t->late = s->late;
    t->completed = s->completed;
    t->errors = lg_stats_errors(s);
    memcpy(t->by_error, s->by_error, sizeof t->by_error);
    for (unsigned i = 0; i < st->sh.n_workers; i++) {
        uint64_t written, lost;
        lg_worker_ledger_counts(st->workers[i], &written, &lost);
        t->ledger_written += written;
        t->ledger_lost += lost;
        t->unsent += st->sh.agg.unsent[i];
        for (int c = 0; c < LG_ERR_COUNT; c++)
            if (!t->first_error[c][0])
                snprintf(t->first_error[c], sizeof t->first_error[c], "%s",
                         lg_worker_first_error(st->workers[i], c));
    }
    if (st->feeder)
        t->unsent += atomic_load(&st->feeder->unsent);
    t->intended = t->sent + t->unsent;
    t->elapsed_s = (double)(st->end_ns - st->sh.t0_mono) / 1e9;
    t->stopped = atomic_load(&st->sh.stop) != 0;
}

/* How long the run is planned to last (0: until stopped). */
static int64_t run_length(const lg_config *cfg)
{
    if (cfg->replay)
        return lg_replay_plan_of(cfg->replay)->duration_ns;
    return cfg->open_model ? lg_schedule_duration(&cfg->schedule) : cfg->duration_ns;
}

/* Runs the load; see loadgen.h. */
int lg_run(const lg_config *cfg, sq_rundir *rd, lg_totals *totals, sq_err *err)
{
    int rc = check_config(cfg, err);
    if (rc)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sq_errf(err, -EIO, "libcurl failed to initialise");
    lg_run_state *st = calloc(1, sizeof *st);
    if (!st)
        return sq_errf(err, -ENOMEM, "out of memory");
    lg_shared *sh = &st->sh;
    sh->cfg = cfg;
    sh->rd = rd;
    unsigned threads = cfg->threads < cfg->connections ? cfg->threads : cfg->connections;
    sh->n_workers = threads;
    if ((rc = lg_agg_init(&sh->agg, threads, cfg->hist_digits, err)) < 0)
        goto out;
    st->total = lg_stats_new(cfg->hist_digits);
    if (!st->total) {
        sq_errf(err, rc = -ENOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < threads; i++) {
        unsigned conns = (cfg->connections + threads - 1 - i) / threads;
        /* open model over HTTP/2: each connection carries up to 100 streams;
         * closed model: N connections means N users, however multiplexed */
        unsigned slots = cfg->http2 && cfg->open_model ? conns * H2_STREAMS_PER_CONNECTION : conns;
        if ((rc = lg_worker_new(sh, i, slots, &st->workers[i], err)) < 0)
            goto out;
    }
    if (cfg->replay) {
        if ((rc = lg_feeder_new(sh, st->workers, threads, &st->feeder, err)) < 0)
            goto out;
        sh->feeder = st->feeder;
        for (unsigned i = 0; i < threads; i++)
            lg_worker_attach_queue(st->workers[i], &st->feeder->q[i]);
    }
    if (cfg->metrics_listen && (rc = lg_metrics_start(cfg->metrics_listen, cfg->hist_digits, &st->metrics, err)) < 0)
        goto out;
    int64_t planned_ns = run_length(cfg);
    lg_progress_init(&st->progress, cfg->progress, (double)planned_ns / 1e9);
    if (st->feeder) { /* the first records are queued before the clock starts */
        if ((rc = lg_feeder_start(st->feeder, err)) < 0)
            goto out;
        lg_feeder_wait_primed(st->feeder);
    }
    sh->t0_mono = sq_mono_ns() + START_DELAY_NS;
    sh->t0_utc = sq_utc_ns() + START_DELAY_NS;
    if (st->feeder)
        lg_feeder_go(st->feeder);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&st->threads[i], NULL, lg_worker_main, st->workers[i]) != 0) {
            sq_errf(err, rc = -EAGAIN, "cannot start worker thread %u", i);
            atomic_store(&sh->stop, 2);
            break;
        }
        st->started++;
    }
    int sup_rc = st->started == threads ? supervise(st, err) : 0;
    if (sup_rc) {
        atomic_store(&sh->stop, 2);
        atomic_store(&sh->stop_at, sq_mono_ns());
    }
    for (unsigned i = 0; i < st->started; i++)
        lg_worker_wake(st->workers[i]);
    for (unsigned i = 0; i < st->started; i++)
        pthread_join(st->threads[i], NULL);
    int feed_rc = st->feeder ? lg_feeder_join(st->feeder, err) : 0;
    sync_ledger(st);
    for (unsigned i = 0; i < st->started; i++)
        if (sh->agg.finished_at[i] > st->end_ns)
            st->end_ns = sh->agg.finished_at[i];
    /* a run that was not stopped lasts at least its schedule, even when the
     * last response came back before the schedule's end */
    if (cfg->open_model && !atomic_load(&sh->stop) && st->end_ns < sh->t0_mono + planned_ns)
        st->end_ns = sh->t0_mono + planned_ns;
    lg_progress_finish(&st->progress);
    if (st->started != threads)
        goto out;
    if (sup_rc) {
        rc = sup_rc;
        goto out;
    }
    /* a feeder error stops the run like a signal: what was sent is written in full */
    char feed_msg[SQ_ERR_MAX] = "";
    if (feed_rc)
        snprintf(feed_msg, sizeof feed_msg, "%s", err->msg);
    if ((rc = drain_ring(st, 1, err)) < 0 || (rc = write_routes(st, err)) < 0)
        goto out;
    fill_totals(st, totals);
    if (feed_rc) {
        totals->stopped = 1;
        snprintf(totals->stop_error, sizeof totals->stop_error, "%s", feed_msg);
    }
    rc = 0;
out:
    run_state_free(st);
    curl_global_cleanup();
    return rc;
}
