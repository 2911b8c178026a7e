/* load_replay.c — `squall load --traffic FILE`: the replay flags, the
 * planning pass and the replay's part of run.json. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/flags.h"
#include "cli/load_replay.h"

#define CMD "load"

/* Fills r with the defaults. */
void load_replay_init(load_replay *r)
{
    memset(r, 0, sizeof *r);
    lg_replay_opts_init(&r->opts);
}

/* Handles one replay flag; see load_replay.h. */
int load_replay_flag(load_replay *r, int c, const char *arg)
{
    lg_replay_opts *o = &r->opts;
    sq_err err;
    uint64_t n;
    int rc;
    if (c != OPT_TRAFFIC)
        r->given_other = 1;
    switch (c) {
    case OPT_TRAFFIC:
        o->path = arg;
        return 0;
    case OPT_FORMAT:
        if (lg_traffic_format_parse(arg, &o->format, &err))
            return cli_usage_error(CMD, "--format: %s", err.msg);
        return 0;
    case OPT_SPEED:
        if (sq_parse_speed(arg, &o->speed, &err))
            return cli_usage_error(CMD, "--speed: %s", err.msg);
        return 0;
    case OPT_LOOP:
        o->loop = 1;
        return 0;
    case OPT_SAMPLE:
        if ((rc = cli_percent(CMD, "sample", arg, &o->sample)))
            return rc;
        if (o->sample <= 0)
            return cli_usage_error(CMD, "--sample: '%s' keeps nobody; give more than 0%%", arg);
        return 0;
    case OPT_CLONE:
        if ((rc = cli_uint(CMD, "clone", arg, 1, 100000, &n)))
            return rc;
        o->clones = (unsigned)n;
        return 0;
    case OPT_USER_KEY:
        if (lg_user_key_parse(arg, &o->traffic.user_key, &err))
            return cli_usage_error(CMD, "--user-key: %s", err.msg);
        return 0;
    case OPT_SEED:
        if ((rc = cli_uint(CMD, "seed", arg, 0, UINT64_MAX, &o->seed)))
            return rc;
        return 0;
    case OPT_SKIP_BAD:
        o->traffic.skip_bad = 1;
        return 0;
    default:
        return cli_usage_error(CMD, "internal: unknown replay flag %d", c);
    }
}

/* Checks and plans the replay; see load_replay.h. */
int load_replay_plan(load_replay *r, lg_config *cfg, const char *rate, int64_t duration_ns,
                     int conflicting_flags)
{
    lg_replay_opts *o = &r->opts;
    if (!o->path) {
        if (r->given_other)
            return cli_usage_error(CMD, "--speed, --loop, --sample, --clone, --user-key, "
                                        "--seed, --format and --skip-bad need --traffic FILE");
        return 0;
    }
    struct stat st;
    if (stat(o->path, &st) != 0)
        return cli_usage_error(CMD, "--traffic: cannot open '%s': %s", o->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_usage_error(CMD, "--traffic: '%s' is not a regular file; a replay reads it "
                                    "twice (to plan, then to send), so decompress or save it "
                                    "first",
                               o->path);
    if (conflicting_flags)
        return cli_usage_error(CMD, "--traffic replays the recorded requests: --phase, --ramp, "
                                    "--method, --body and --body-file do not apply");
    if (rate) {
        sq_rate from, to;
        sq_err err;
        if (sq_parse_rate_range(rate, &from, &to, &err))
            return cli_usage_error(CMD, "--rate: %s", err.msg);
        if (from.value != to.value || from.relative_to_peak != to.relative_to_peak)
            return cli_usage_error(CMD, "--rate: a replay takes one rate (Kxpeak or R), not a "
                                        "range");
        if (o->speed > 0)
            return cli_usage_error(CMD, "give --speed or --rate with --traffic, not both");
        if (from.relative_to_peak)
            o->peak_multiple = from.value;
        else
            o->peak_rate = from.value;
        if (from.value <= 0)
            return cli_usage_error(CMD, "--rate: must be positive");
    }
    if (o->sample < 1.0 && o->traffic.user_key.kind == LG_USER_KEY_NONE)
        fprintf(stderr, "squall load: note: --sample without --user-key samples by the users the "
                        "file itself records (the format's user field), and requests without "
                        "one by their line\n");
    o->duration_ns = duration_ns;
    sq_err err;
    int rc = lg_replay_new(o, &r->replay, &err);
    if (rc) {
        fprintf(stderr, "squall %s: %s\n", CMD, err.msg);
        return rc == -ENOMEM ? SQ_EXIT_RUNTIME : SQ_EXIT_USAGE;
    }
    if (o->clones > 1 && lg_replay_plan_of(r->replay)->users_seen == 0)
        fprintf(stderr, "squall load: note: no request in %s carries a user id, so its %u clones "
                        "are identical requests; give --user-key to clone users\n",
                o->path, o->clones);
    cfg->replay = r->replay;
    cfg->open_model = 1;
    return 0;
}

/* run.json's "traffic" object; see load_replay.h. */
json_t *load_replay_json(const load_replay *r)
{
    const lg_replay_plan *p = lg_replay_plan_of(r->replay);
    const lg_replay_opts *o = &r->opts;
    return json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:b, s:f, s:I, s:I}",
                     "file", sq_json_text(o->path), "format", lg_traffic_format_name(p->format),
                     "requests", (json_int_t)p->requests, "kept", (json_int_t)p->kept,
                     "peak_rps", (json_int_t)p->peak_full, "stream_peak_rps",
                     (json_int_t)p->peak_stream, "speed", p->speed, "multiplier", p->multiplier,
                     "sample", o->sample, "clones", (json_int_t)o->clones, "loop", o->loop,
                     "pass_s", (double)p->pass_ns / 1e9, "seed", (json_int_t)o->seed,
                     "skipped", (json_int_t)p->skipped);
}

/* run.json's "users" object; see load_replay.h. */
json_t *load_replay_users(const load_replay *r)
{
    const lg_replay_plan *p = lg_replay_plan_of(r->replay);
    return json_pack("{s:I, s:I, s:I}", "seen", (json_int_t)p->users_seen, "sampled",
                     (json_int_t)p->users_sampled, "clones", (json_int_t)r->opts.clones);
}

/* Frees the plan. */
void load_replay_free(load_replay *r)
{
    lg_replay_free(r->replay);
    r->replay = NULL;
}
