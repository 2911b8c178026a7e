/* load_replay.h — the replay half of `squall load` (--traffic FILE and
 * its options): flag parsing, planning, and what run.json says of it. */
#ifndef SQ_CLI_LOAD_REPLAY_H
#define SQ_CLI_LOAD_REPLAY_H

#include <getopt.h>
#include <jansson.h>

#include "loadgen/loadgen.h"
#include "loadgen/replay.h"

/* Long options of the replay flags; their values start at LOAD_REPLAY_OPT. */
#define LOAD_REPLAY_OPT 400
enum {
    OPT_TRAFFIC = LOAD_REPLAY_OPT, OPT_FORMAT, OPT_SPEED, OPT_LOOP, OPT_SAMPLE, OPT_CLONE,
    OPT_USER_KEY, OPT_SEED, OPT_SKIP_BAD, OPT_REPLAY_END
};
#define LOAD_REPLAY_LONG_OPTS                                                                      \
    {"traffic", required_argument, NULL, OPT_TRAFFIC},                                             \
        {"format", required_argument, NULL, OPT_FORMAT},                                           \
        {"speed", required_argument, NULL, OPT_SPEED}, {"loop", no_argument, NULL, OPT_LOOP},      \
        {"sample", required_argument, NULL, OPT_SAMPLE},                                           \
        {"clone", required_argument, NULL, OPT_CLONE},                                             \
        {"user-key", required_argument, NULL, OPT_USER_KEY},                                       \
        {"seed", required_argument, NULL, OPT_SEED},                                               \
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD}

/* What the replay flags said. */
typedef struct load_replay {
    lg_replay_opts opts;
    int given_other; /* a replay option was given (needs --traffic) */
    lg_replay *replay; /* after load_replay_plan: owned */
} load_replay;

/* Fills r with the defaults. */
void load_replay_init(load_replay *r);

/* Handles replay flag c with value arg. Returns 0 or an exit code (a
 * usage error was printed). */
int load_replay_flag(load_replay *r, int c, const char *arg);

/* Checks the replay against the other flags (rate, duration, method...),
 * reads the file to plan it and points cfg at the plan. Returns 0 or an
 * exit code (message printed). */
int load_replay_plan(load_replay *r, lg_config *cfg, const char *rate, int64_t duration_ns,
                     int conflicting_flags);

/* run.json's "traffic" object for the plan (new reference, NULL on OOM). */
json_t *load_replay_json(const load_replay *r);

/* run.json's "users" object {seen, sampled, clones} (new reference). */
json_t *load_replay_users(const load_replay *r);

/* Frees what r owns. */
void load_replay_free(load_replay *r);

#endif
