/* replay_plan.c — the planning pass of a replay (replay.h): one streaming
 * read of the traffic file that measures the recorded peak, applies the
 * stable user sampling, and chooses the time compression. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/replay.h"
#include "loadgen/tally.h"

#define MAX_REPLAY_RATE 1e7 /* req/s: the same bound as --rate */
#define MAX_PASS_NS 1e18    /* ~31 years: keeps every offset far inside int64 ns */

struct lg_replay {
    lg_replay_opts opts;
    lg_replay_plan plan;
};

/* Fills o with the defaults. */
void lg_replay_opts_init(lg_replay_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = LG_TRAFFIC_AUTO;
    lg_traffic_opts_init(&o->traffic);
    o->sample = 1.0;
    o->clones = 1;
}

/* splitmix64's finaliser: spreads every input bit over the output. */
static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Whether hash h falls under the sampling fraction. */
static int keep_hash(uint64_t h, double sample)
{
    if (sample >= 1.0)
        return 1;
    return (double)(h >> 11) * 0x1.0p-53 < sample;
}

/* 1 when user is kept; see replay.h. */
int lg_replay_keep_user(const char *user, uint64_t seed, double sample)
{
    return keep_hash(mix64(lg_hash_bytes(user, strlen(user)) ^ seed), sample);
}

/* 1 when a request with no user id is kept; see replay.h. */
int lg_replay_keep_line(uint64_t line, uint64_t seed, double sample)
{
    return keep_hash(mix64(line * 0x9E3779B97F4A7C15ULL ^ seed ^ 0x5157A11ULL), sample);
}

/* Reads the file once and fills the counting part of the plan. */
static int count_pass(const lg_replay_opts *o, lg_replay_plan *p, sq_err *err)
{
    lg_traffic *t = NULL;
    lg_peak full = {0}, stream = {0};
    lg_strset seen = {0}, sampled = {0};
    lg_strset_slot *slot;
    int rc = lg_traffic_open(o->path, o->format, &o->traffic, &t, err);
    if (rc)
        return rc;
    p->format = lg_traffic_format_of(t);
    p->users_known = o->traffic.user_key.kind != LG_USER_KEY_NONE;
    lg_traffic_req req;
    while ((rc = lg_traffic_next(t, &req, err)) == 1) {
        if (p->requests++ == 0)
            p->first_ns = req.ts_ns;
        p->last_ns = req.ts_ns;
        int keep;
        if (req.user) {
            p->users_known = 1;
            keep = lg_replay_keep_user(req.user, o->seed, o->sample);
            if (lg_strset_get(&seen, req.user, SIZE_MAX, &slot) ||
                (keep && lg_strset_get(&sampled, req.user, SIZE_MAX, &slot)))
                goto oom;
        } else {
            keep = lg_replay_keep_line(req.line, o->seed, o->sample);
        }
        if (lg_peak_push(&full, req.ts_ns, 1))
            goto oom;
        if (keep) {
            p->kept++;
            if (lg_peak_push(&stream, req.ts_ns, o->clones))
                goto oom;
        }
    }
    if (rc < 0)
        goto out;
    rc = 0;
    p->skipped = lg_traffic_skipped(t);
    p->users_seen = seen.n;
    p->users_sampled = sampled.n;
    p->peak_full = full.peak;
    p->peak_full_at_ns = full.peak_at;
    p->peak_stream = stream.peak;
    goto out;
oom:
    rc = sq_errf(err, -ENOMEM, "out of memory planning the replay of %s", o->path);
out:
    lg_traffic_close(t);
    lg_peak_free(&full);
    lg_peak_free(&stream);
    lg_strset_free(&seen);
    lg_strset_free(&sampled);
    return rc;
}

/* Chooses the compression and the replay's length from the counts. */
static int decide(const lg_replay_opts *o, lg_replay_plan *p, sq_err *err)
{
    if (p->requests == 0)
        return sq_errf(err, -EINVAL, "%s has no request to replay", o->path);
    if (p->kept == 0)
        return sq_errf(err, -EINVAL,
                       "--sample %g%% keeps none of the %llu users of %s; raise it or change "
                       "--seed",
                       o->sample * 100, (unsigned long long)p->users_seen, o->path);
    if (o->speed > 0)
        p->speed = o->speed;
    else if (o->peak_multiple > 0)
        p->speed = o->peak_multiple * (double)p->peak_full / (double)p->peak_stream;
    else if (o->peak_rate > 0)
        p->speed = o->peak_rate / (double)p->peak_stream;
    else
        p->speed = 1.0;
    p->multiplier = p->speed * (double)p->peak_stream / (double)p->peak_full;
    double replay_peak = p->speed * (double)p->peak_stream;
    if (replay_peak > MAX_REPLAY_RATE)
        return sq_errf(err, -EINVAL,
                       "replaying %s at %.4gx would peak at %.0f req/s, more than one machine "
                       "can send; shard the load instead",
                       o->path, p->speed, replay_peak);
    int64_t span = p->last_ns - p->first_ns;
    /* one pass lasts the recorded span plus one mean gap, so that a looped
     * file keeps its rate across the seam */
    double gap = p->requests > 1 && span > 0 ? (double)span / (double)(p->requests - 1)
                                             : (double)SQ_NS_PER_S;
    double pass = ceil(((double)span + gap) / p->speed);
    if (!(pass < MAX_PASS_NS))
        return sq_errf(err, -EINVAL,
                       "replaying %s at %.4gx would take %.3g years for one pass; give a faster "
                       "--speed or --rate",
                       o->path, p->speed, pass / 1e9 / 86400 / 365.25);
    p->pass_ns = (int64_t)pass;
    if (p->pass_ns < 1)
        p->pass_ns = 1;
    p->per_pass = p->kept * o->clones;
    if (o->duration_ns > 0) {
        p->duration_ns = o->duration_ns;
        p->total = !o->loop && o->duration_ns >= p->pass_ns ? p->per_pass : 0;
    } else if (o->loop) {
        p->duration_ns = 0;
        p->total = 0;
    } else {
        p->duration_ns = p->pass_ns;
        p->total = p->per_pass;
    }
    return 0;
}

/* Plans the replay; see replay.h. */
int lg_replay_new(const lg_replay_opts *o, lg_replay **out, sq_err *err)
{
    *out = NULL;
    if (o->clones < 1 || !(o->sample > 0 && o->sample <= 1.0))
        return sq_errf(err, -EINVAL, "replay: clones must be >= 1 and the sample in (0, 100%%]");
    lg_replay *r = calloc(1, sizeof *r);
    if (!r)
        return sq_errf(err, -ENOMEM, "out of memory");
    r->opts = *o;
    int rc = count_pass(o, &r->plan, err);
    if (!rc)
        rc = decide(o, &r->plan, err);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* The plan; owned by r. */
const lg_replay_plan *lg_replay_plan_of(const lg_replay *r)
{
    return &r->plan;
}

/* The options; owned by r. */
const lg_replay_opts *lg_replay_opts_of(const lg_replay *r)
{
    return &r->opts;
}

/* Frees r. */
void lg_replay_free(lg_replay *r)
{
    free(r);
}
