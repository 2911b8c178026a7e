/* replay.h — replaying a traffic file (private to loadgen/; the CLI
 * includes it to plan a replay and lg_run follows the plan).
 *
 * lg_replay_new() reads the whole file once (streaming) to plan: the
 * recorded peak of the full input, which users the stable seeded hash keeps
 * (--sample), the peak of the sampled and cloned stream, and from those the
 * time compression that gives --speed, --rate Kxpeak or --rate R. During
 * the run a feeder thread (feeder.c) reads the file again and hands each
 * request, rewritten for its clone, to a worker at its scaled time.
 *
 * Definitions (docs/load.md, "Replaying traffic"):
 *   peak        the most requests in any window [t, t + 1 s) (tally.h)
 *   speed       recorded time / replay time
 *   multiplier  the replay's peak rate / the full input's recorded peak
 *               = speed x stream peak / full peak
 */
#ifndef LG_REPLAY_H
#define LG_REPLAY_H

#include <stdint.h>

#include "core/core.h"
#include "loadgen/traffic.h"

typedef struct lg_replay_opts {
    const char *path;
    enum lg_traffic_format format;
    lg_traffic_opts traffic; /* user key, --skip-bad */
    double speed;            /* --speed K: the timeline compressed by K (0: not given) */
    double peak_multiple;    /* --rate Kxpeak: replay peak = K x full peak (0: not given) */
    double peak_rate;        /* --rate R: replay peak = R req/s (0: not given) */
    double sample;           /* fraction of users kept, (0, 1] */
    uint64_t seed;           /* of the sampling hash */
    unsigned clones;         /* each kept user replayed this many times (>= 1) */
    int loop;                /* repeat the file */
    int64_t duration_ns;     /* cut the replay here (0: the file once, or forever with loop) */
} lg_replay_opts;

/* Fills o with the defaults: auto format, sample 1, clones 1, speed 1. */
void lg_replay_opts_init(lg_replay_opts *o);

/* What the planning pass found and decided. */
typedef struct lg_replay_plan {
    enum lg_traffic_format format;
    uint64_t requests;        /* readable requests in the file */
    uint64_t kept;            /* of those, kept by sampling */
    uint64_t skipped;         /* bad records skipped (--skip-bad) */
    int users_known;          /* the file or the user key gave users */
    uint64_t users_seen, users_sampled;
    uint64_t peak_full;       /* recorded peak of the whole file (req/s) */
    int64_t peak_full_at_ns;  /* UTC start of that window */
    uint64_t peak_stream;     /* peak of the kept, cloned stream before compression */
    int64_t first_ns, last_ns;
    double speed;             /* compression applied */
    double multiplier;        /* replay peak / recorded peak */
    int64_t pass_ns;          /* replay time of one pass through the file */
    uint64_t per_pass;        /* requests sent per pass (kept x clones), all shards */
    uint64_t total;           /* requests planned, all shards; 0 when unknown (cut or looped) */
    int64_t duration_ns;      /* replay length; 0 when it runs until stopped */
} lg_replay_plan;

typedef struct lg_replay lg_replay;

/* Plans the replay of o (copied; o->path must outlive the result) with one
 * streaming pass over the file. On success *out is owned by the caller
 * (lg_replay_free). Returns 0, -EBADMSG / -EIO with "FILE:LINE: ..." for a
 * bad file, -EINVAL for options that cannot work (an empty sample, a file
 * with no request, a peak that cannot be reached), or -ENOMEM. */
int lg_replay_new(const lg_replay_opts *o, lg_replay **out, sq_err *err);

/* The plan (owned by r). */
const lg_replay_plan *lg_replay_plan_of(const lg_replay *r);

/* The options r was made with (owned by r). */
const lg_replay_opts *lg_replay_opts_of(const lg_replay *r);

/* Frees r; NULL is a no-op. */
void lg_replay_free(lg_replay *r);

/* 1 when the user with id `user` is kept by sampling fraction `sample`
 * under `seed` (a stable hash: the same users on every run and shard). */
int lg_replay_keep_user(const char *user, uint64_t seed, double sample);

/* 1 when a request with no user id, at source line `line`, is kept (by a
 * stable hash of the line, so the choice is the same on every run). */
int lg_replay_keep_line(uint64_t line, uint64_t seed, double sample);

/* ---- one request as a worker sends it ----------------------------------- */

/* A request ready to send: everything is in one allocation. Owned by
 * whoever holds it (feeder queue, then the worker's slot); freed with free(). */
typedef struct lg_rec {
    int64_t at_ns;        /* intended offset from the run start */
    size_t size;          /* bytes of this allocation */
    uint32_t clone;       /* 1..K when cloning, 0 otherwise */
    const char *method;
    const char *target;   /* origin-form: "/path?query" */
    const char *headers;  /* "Name: value\r\n" lines (no Host, framing or tag headers) */
    size_t headers_len;
    const char *body;     /* NULL when none */
    size_t body_len;
    const char *route_key; /* lg_route_key of method and target */
    unsigned char has_host, has_user_agent; /* headers sets them (a -H Host, a recorded UA) */
    char data[];
} lg_rec;

/* What a request is rewritten with. */
typedef struct lg_rec_ctx {
    const char *run_id;
    const char *tag_header;
    const char *const *extra_headers; /* -H lines: they replace recorded headers of the same name */
    size_t n_extra;
    unsigned clones;                  /* > 1: the user key value gets "-c<clone>" */
    uint64_t *rng;                    /* two words of state for ${uuid} */
} lg_rec_ctx;

/* Builds the record for request req as clone `clone` (1-based; 0 = no
 * cloning) at offset at_ns: the target's path and query (an absolute URL's
 * scheme and host dropped: requests go to the target given on the command
 * line), hop-by-hop, Host and framing headers dropped, the user id given a
 * clone suffix wherever it appears (header values, query values, cookie
 * values, JSON body strings), body templates expanded. *out is the
 * caller's (free()). Returns 0 or -ENOMEM. */
int lg_rec_build(const lg_traffic_req *req, const lg_rec_ctx *ctx, uint32_t clone, int64_t at_ns,
                 lg_rec **out);

/* Expands ${tag}, ${clone}, ${uuid} and ${user} in s[0..n) into a new
 * malloc'd buffer (*out, *out_len; NUL-terminated); other text, unknown
 * ${names} included, is copied as is. Returns 0 or -ENOMEM. */
int lg_template_expand(const char *s, size_t n, const char *tag, uint32_t clone, const char *user,
                       uint64_t rng[2], char **out, size_t *out_len);

/* Checks a user-written template (--body): returns 0, or -EINVAL with the
 * message "unknown template ${x} at column N; known: ..." in err. */
int lg_template_check(const char *s, size_t n, sq_err *err);

/* 1 when s[0..n) contains a template that changes per request or per clone. */
int lg_template_present(const char *s, size_t n);

#endif
