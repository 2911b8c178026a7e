/* cmd_load.c — `squall load URL`: parses flags, writes run.json, runs the
 * load generator, then builds summary.json and prints the terminal summary. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/load_replay.h"
#include "loadgen/ledger.h"
#include "loadgen/loadgen.h"
#include "reports/reports.h"

#define CMD "load"
#define MAX_HEADERS 64
#define MAX_RATE 10e6 /* req/s; far above what one machine sends */
#define MAX_SLOS 64

static const char usage[] =
    "usage: squall load URL [options]\n"
    "       squall load URL --traffic FILE [--speed Kx | --rate Kxpeak | --rate R] [options]\n"
    "\n"
    "Sends HTTP requests to URL and writes a run directory (run.json, series.jsonl,\n"
    "routes.json, summary.json). With --traffic, replays a recorded traffic file at\n"
    "URL (its paths and queries; the recorded host is replaced by URL's).\n"
    "\n"
    "Load model (open model when a rate is given, closed model otherwise):\n"
    "  -r, --rate R           requests per second on a fixed schedule, or a ramp\n"
    "                         R1..R2 over the duration (open model)\n"
    "      --phase SPEC       [NAME=]DURATION@RATE[..RATE]; repeatable, run back to\n"
    "                         back (open model; replaces --rate/--duration)\n"
    "  -c, --connections N    closed model: N connections, each sending when the last\n"
    "                         request answered; open model: cap on connections (100)\n"
    "  -d, --duration D       test length (default 10s)\n"
    "      --ramp D           open model: rise linearly from 0 to --rate over the first\n"
    "                         D of the duration\n"
    "  -t, --threads N        worker threads (default: number of cores)\n"
    "\n"
    "Replay (docs/load.md, \"Replaying traffic\"):\n"
    "      --traffic FILE     replay FILE (squall JSON Lines, combined/common log,\n"
    "                         GoReplay .gor, HAR) in the open model\n"
    "      --format F         auto (default), jsonl, combined, common, gor, har\n"
    "      --speed Kx         compress the recorded timeline K times (default 1x)\n"
    "      --rate Kxpeak      replay so that the peak is K x the file's recorded peak\n"
    "      --rate R           replay so that the peak is R req/s\n"
    "      --loop             repeat the file (until --duration or Ctrl-C)\n"
    "  -d, --duration D       cut the replay after D\n"
    "      --user-key K       header:NAME, query:NAME, cookie:NAME or json:/pointer\n"
    "      --sample P%        keep the users whose stable hash falls under P\n"
    "      --seed N           seed of that hash (default 0)\n"
    "      --clone K          replay each kept user K times as distinct users\n"
    "      --skip-bad         count and skip unreadable records instead of failing\n"
    "\n"
    "Requests:\n"
    "  -m, --method M         HTTP method (default GET)\n"
    "  -H, --header 'N: V'    extra request header (repeatable)\n"
    "      --body TEXT        request body; ${tag}, ${uuid}, ${clone}, ${user} are\n"
    "                         replaced per request (the run id, a fresh UUID, 0, \"\")\n"
    "      --body-file F      request body read from a file\n"
    "      --timeout D        per-request timeout (default 5s)\n"
    "      --http2            use HTTP/2 (TLS with ALPN, or prior knowledge on http://)\n"
    "      --engine E         HTTP client: auto (default: squall's own HTTP/1.1 client\n"
    "                         for plain http://, libcurl for https:// and HTTP/2),\n"
    "                         curl, or native\n"
    "  -k, --insecure         do not verify the server's TLS certificate\n"
    "      --cacert F         CA bundle to verify the server with\n"
    "      --cert F, --key F  client certificate and key\n"
    "\n"
    "Run:\n"
    "      --tag ID           run id, sent as X-Squall-Run on every request (default:\n"
    "                         generated)\n"
    "      --tag-header NAME  header that carries the run id (default X-Squall-Run)\n"
    "  -o, --out DIR          run directory (default runs/<run-id>)\n"
    "      --interval D       series interval (default 1s)\n"
    "      --shard I/N        open model: send shard I of N of the schedule (request k\n"
    "                         when k %% N == I-1), for one load spread over N machines;\n"
    "                         merge the run directories with `squall report merge`\n"
    "      --metrics-listen A serve Prometheus metrics on HOST:PORT while running\n"
    "      --slo EXPR         objective, e.g. 'p(99) < 300ms' (repeatable; docs/slo.md)\n"
    "      --junit FILE       also write JUnit XML for CI\n"
    "      --ledger SRC       how an object created by a write (POST/PUT/PATCH answered\n"
    "                         2xx) is recorded in ledger.jsonl for `squall cleanup`:\n"
    "                         location (default), json:/pointer, header:NAME, or off\n"
    "  -q, --quiet            no progress line and no summary on stdout\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit codes: 0 done (every objective met), 2 bad usage, 3 target unreachable or\n"
    "run-time failure, 4 interrupted (the run directory is still complete).\n";

enum {
    OPT_PHASE = 256, OPT_RAMP, OPT_BODY, OPT_BODY_FILE, OPT_TIMEOUT, OPT_HTTP2, OPT_CACERT,
    OPT_CERT, OPT_KEY, OPT_TAG, OPT_TAG_HEADER, OPT_INTERVAL, OPT_METRICS, OPT_SLO, OPT_JUNIT, OPT_ENGINE, OPT_SHARD,
    OPT_LEDGER,
};

static const struct option long_opts[] = {
    {"rate", required_argument, NULL, 'r'},
    {"phase", required_argument, NULL, OPT_PHASE},
    {"connections", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"ramp", required_argument, NULL, OPT_RAMP},
    {"threads", required_argument, NULL, 't'},
    {"method", required_argument, NULL, 'm'},
    {"header", required_argument, NULL, 'H'},
    {"body", required_argument, NULL, OPT_BODY},
    {"body-file", required_argument, NULL, OPT_BODY_FILE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"tag", required_argument, NULL, OPT_TAG},
    {"tag-header", required_argument, NULL, OPT_TAG_HEADER},
    {"out", required_argument, NULL, 'o'},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"slo", required_argument, NULL, OPT_SLO},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"ledger", required_argument, NULL, OPT_LEDGER},
    LOAD_REPLAY_LONG_OPTS,
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Everything the flags say, before it becomes an lg_config. */
typedef struct load_opts {
    lg_config cfg;
    const char *headers[MAX_HEADERS];
    const char *rate;
    const char *phases[LG_MAX_PHASES];
    size_t n_phases;
    int64_t duration_ns, ramp_ns;
    int have_connections, have_duration;
    const char *body_file;
    char *body_owned;
    const char *tag, *out;
    int quiet;
    const char *slos[MAX_SLOS]; /* --slo, validated; stored in run.json */
    size_t n_slos;
    const char *junit;          /* --junit FILE */
    load_replay replay;         /* --traffic and its options */
    int have_method;            /* -m given */
    lg_ledger_spec ledger;      /* --ledger */
} load_opts;

/* Parses one --phase SPEC "[NAME=]DURATION@RATE[..RATE]" into p. */
static int parse_phase(const char *spec, lg_phase *p)
{
    memset(p, 0, sizeof *p);
    const char *eq = strchr(spec, '=');
    const char *body = spec;
    if (eq) {
        if ((size_t)(eq - spec) >= sizeof p->name || eq == spec)
            return cli_usage_error(CMD, "--phase: '%s': the name must be 1..%zu characters", spec,
                                   sizeof p->name - 1);
        memcpy(p->name, spec, (size_t)(eq - spec));
        body = eq + 1;
    }
    const char *at = strchr(body, '@');
    if (!at)
        return cli_usage_error(CMD, "--phase: '%s' is not a phase (expected [NAME=]DURATION@RATE, "
                                    "e.g. warmup=30s@100 or ramp=1m@100..1000)",
                               spec);
    char dur[64];
    if ((size_t)(at - body) >= sizeof dur)
        return cli_usage_error(CMD, "--phase: '%s': duration too long", spec);
    memcpy(dur, body, (size_t)(at - body));
    dur[at - body] = '\0';
    sq_err err;
    sq_rate from, to;
    if (sq_parse_duration(dur, &p->duration_ns, &err) || p->duration_ns <= 0)
        return cli_usage_error(CMD, "--phase: '%s': %s", spec,
                               p->duration_ns <= 0 && !err.msg[0] ? "duration must be positive"
                                                                  : err.msg);
    if (sq_parse_rate_range(at + 1, &from, &to, &err))
        return cli_usage_error(CMD, "--phase: '%s': %s", spec, err.msg);
    if (from.relative_to_peak || to.relative_to_peak)
        return cli_usage_error(CMD, "--phase: '%s': a rate relative to the peak needs --traffic",
                               spec);
    if (from.value > MAX_RATE || to.value > MAX_RATE)
        return cli_usage_error(CMD, "--phase: '%s': the rate is above %.0f req/s", spec, MAX_RATE);
    p->rate_from = from.value;
    p->rate_to = to.value;
    return 0;
}

/* Reads a whole file into a new buffer owned by the caller. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_usage_error(CMD, "--body-file: cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return cli_usage_error(CMD, "--body-file: '%s' is too large", path);
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return cli_usage_error(CMD, "--body-file: cannot read '%s'", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Checks a --header value: a header (cli_header), and not one of the
 * framing headers squall sets itself from the body. */
static int check_header(const char *h)
{
    int rc = cli_header(CMD, "header", h);
    if (rc)
        return rc;
    size_t name_len = (size_t)(strchr(h, ':') - h);
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
        if (name_len == strlen(framing[i]) && strncasecmp(h, framing[i], name_len) == 0)
            return cli_usage_error(CMD, "--header: squall sets %s itself from the body; remove it",
                                   framing[i]);
    return 0;
}

/* Parses argv into o. Returns 0, or an exit code (help printed: -1). */
static int parse_args(int argc, char **argv, load_opts *o)
{
    lg_config *cfg = &o->cfg;
    uint64_t n;
    int c, rc;
    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "r:c:d:t:m:H:ko:qh", long_opts)) != -1) {
        switch (c) {
        case 'r':
            o->rate = optarg;
            break;
        case OPT_PHASE:
            if (o->n_phases == LG_MAX_PHASES)
                return cli_usage_error(CMD, "--phase: at most %d phases", LG_MAX_PHASES);
            o->phases[o->n_phases++] = optarg;
            break;
        case 'c':
            if ((rc = cli_uint(CMD, "connections", optarg, 1, 1000000, &n)))
                return rc;
            cfg->connections = (unsigned)n;
            o->have_connections = 1;
            break;
        case 'd':
            if ((rc = cli_duration(CMD, "duration", optarg, &o->duration_ns)))
                return rc;
            if (o->duration_ns <= 0)
                return cli_usage_error(CMD, "--duration: must be positive");
            o->have_duration = 1;
            break;
        case OPT_RAMP:
            if ((rc = cli_duration(CMD, "ramp", optarg, &o->ramp_ns)))
                return rc;
            break;
        case 't':
            if ((rc = cli_uint(CMD, "threads", optarg, 1, 256, &n)))
                return rc;
            cfg->threads = (unsigned)n;
            break;
        case 'm':
            for (const char *p = optarg; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
                    return cli_usage_error(CMD, "--method: '%s' is not an HTTP method", optarg);
            if (!*optarg)
                return cli_usage_error(CMD, "--method: empty");
            cfg->method = optarg;
            o->have_method = 1;
            break;
        case 'H':
            if (cfg->n_headers == MAX_HEADERS)
                return cli_usage_error(CMD, "--header: at most %d headers", MAX_HEADERS);
            if ((rc = check_header(optarg)))
                return rc;
            o->headers[cfg->n_headers++] = optarg;
            break;
        case OPT_BODY:
            cfg->body = optarg;
            cfg->body_len = strlen(optarg);
            break;
        case OPT_BODY_FILE:
            o->body_file = optarg;
            break;
        case OPT_TIMEOUT:
            if ((rc = cli_duration(CMD, "timeout", optarg, &cfg->timeout_ns)))
                return rc;
            if (cfg->timeout_ns < SQ_NS_PER_MS)
                return cli_usage_error(CMD, "--timeout: must be at least 1ms");
            break;
        case OPT_HTTP2:
            cfg->http2 = 1;
            break;
        case 'k':
            cfg->insecure = 1;
            break;
        case OPT_CACERT:
            cfg->cacert = optarg;
            break;
        case OPT_CERT:
            cfg->cert = optarg;
            break;
        case OPT_KEY:
            cfg->key = optarg;
            break;
        case OPT_TAG:
            o->tag = optarg;
            break;
        case OPT_TAG_HEADER:
            if ((rc = cli_header_name(CMD, "tag-header", optarg)))
                return rc;
            cfg->tag_header = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case OPT_INTERVAL:
            if ((rc = cli_duration(CMD, "interval", optarg, &cfg->interval_ns)))
                return rc;
            if (cfg->interval_ns < 10 * SQ_NS_PER_MS)
                return cli_usage_error(CMD, "--interval: must be at least 10ms");
            break;
        case OPT_METRICS:
            cfg->metrics_listen = optarg;
            break;
        case OPT_SHARD: {
            unsigned si, sn;
            char tail;
            if (sscanf(optarg, "%u/%u%c", &si, &sn, &tail) != 2 || sn < 1 || sn > 10000 ||
                si < 1 || si > sn || strspn(optarg, "0123456789/") != strlen(optarg))
                return cli_usage_error(CMD, "--shard: '%s' is not a shard (expected I/N with "
                                            "1 <= I <= N <= 10000, e.g. 2/4)",
                                       optarg);
            cfg->shard_index = si - 1;
            cfg->shard_count = sn;
            break;
        }
        case OPT_ENGINE:
            if (strcmp(optarg, "auto") == 0)
                cfg->engine = LG_ENGINE_AUTO;
            else if (strcmp(optarg, "curl") == 0)
                cfg->engine = LG_ENGINE_CURL;
            else if (strcmp(optarg, "native") == 0)
                cfg->engine = LG_ENGINE_NATIVE;
            else
                return cli_usage_error(CMD, "--engine: '%s' is not an engine (expected auto, "
                                            "curl or native)",
                                       optarg);
            break;
        case OPT_SLO: {
            rp_slo slo;
            sq_err serr;
            if (o->n_slos == MAX_SLOS)
                return cli_usage_error(CMD, "--slo: at most %d objectives", MAX_SLOS);
            if (rp_slo_parse(optarg, &slo, &serr)) {
                fprintf(stderr, "squall %s: --slo '%s': %s\n", CMD, optarg, serr.msg);
                rp_slo_caret(stderr, optarg, &serr);
                return cli_usage_error(CMD, "--slo: see docs/slo.md for the syntax");
            }
            o->slos[o->n_slos++] = optarg;
            break;
        }
        case OPT_JUNIT:
            o->junit = optarg;
            break;
        case OPT_LEDGER: {
            sq_err lerr;
            if (lg_ledger_spec_parse(optarg, &o->ledger, &lerr))
                return cli_usage_error(CMD, "--ledger: %s", lerr.msg);
            break;
        }
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            if (c >= LOAD_REPLAY_OPT && c < OPT_REPLAY_END) {
                if ((rc = load_replay_flag(&o->replay, c, optarg)))
                    return rc;
                break;
            }
            return SQ_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return cli_usage_error(CMD, "missing the target URL");
    if (optind + 1 < argc)
        return cli_usage_error(CMD, "unexpected argument '%s' (one URL only)", argv[optind + 1]);
    cfg->url = argv[optind];
    return 0;
}

/* Builds the open-model schedule (or the closed model) from the flags. */
static int resolve_model(load_opts *o)
{
    lg_config *cfg = &o->cfg;
    lg_phase phases[LG_MAX_PHASES];
    size_t n = 0;
    int rc;
    int64_t duration = o->have_duration ? o->duration_ns : 10 * SQ_NS_PER_S;
    if (o->replay.opts.path || o->replay.given_other) {
        /* -c stays the open model's cap on connections */
        int conflicting = o->n_phases || o->ramp_ns || o->have_method || cfg->body || o->body_file;
        return load_replay_plan(&o->replay, cfg, o->rate, o->have_duration ? o->duration_ns : 0,
                                conflicting);
    }
    if (o->n_phases) {
        if (o->rate || o->have_duration || o->ramp_ns)
            return cli_usage_error(CMD, "--phase replaces --rate, --duration and --ramp; "
                                        "give one or the other");
        for (size_t i = 0; i < o->n_phases; i++)
            if ((rc = parse_phase(o->phases[i], &phases[n++])))
                return rc;
    } else if (o->rate) {
        sq_rate from, to;
        sq_err err;
        if (sq_parse_rate_range(o->rate, &from, &to, &err))
            return cli_usage_error(CMD, "--rate: %s", err.msg);
        if (from.relative_to_peak || to.relative_to_peak)
            return cli_usage_error(CMD, "--rate: '%s' is relative to a traffic file's peak; "
                                        "it needs --traffic FILE",
                                   o->rate);
        if (from.value > MAX_RATE || to.value > MAX_RATE)
            return cli_usage_error(CMD, "--rate: '%s' is above %.0f req/s, more than one "
                                        "machine can send; shard the load instead",
                                   o->rate, MAX_RATE);
        if (o->ramp_ns >= duration)
            return cli_usage_error(CMD, "--ramp: must be shorter than --duration");
        if (o->ramp_ns > 0) {
            phases[n++] = (lg_phase){.name = "ramp", .duration_ns = o->ramp_ns, .rate_from = 0,
                                     .rate_to = from.value};
        }
        phases[n++] = (lg_phase){.name = "", .duration_ns = duration - o->ramp_ns,
                                 .rate_from = from.value, .rate_to = to.value};
    } else {
        if (!o->have_connections)
            return cli_usage_error(CMD, "give --rate R (open model) or --connections N "
                                        "(closed model)");
        if (o->ramp_ns)
            return cli_usage_error(CMD, "--ramp needs --rate (open model)");
        cfg->open_model = 0;
        cfg->duration_ns = duration;
        return 0;
    }
    cfg->open_model = 1;
    sq_err err;
    if (lg_schedule_init(&cfg->schedule, phases, n, &err))
        return cli_usage_error(CMD, "%s", err.msg);
    if (lg_shard_count(cfg, lg_schedule_total(&cfg->schedule)) == 0)
        return cli_usage_error(CMD, "the rate and duration give no request at all%s",
                               cfg->shard_count > 1 ? " for this shard" : "");
    return 0;
}

/* The resolved configuration as run.json's "load" object. */
static json_t *load_json(const lg_config *cfg)
{
    json_t *load = json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:f, s:b, s:s}", "model",
                             cfg->open_model ? "open" : "closed", "engine",
                             lg_config_engine(cfg), "method", cfg->method,
                             "connections", (int)cfg->connections, "threads", (int)cfg->threads,
                             "timeout_s", (double)cfg->timeout_ns / 1e9, "interval_s",
                             (double)cfg->interval_ns / 1e9, "http2", cfg->http2, "tag_header",
                             cfg->tag_header);
    if (!load)
        return NULL;
    if (cfg->replay) {
        const lg_replay_plan *p = lg_replay_plan_of(cfg->replay);
        json_object_set_new(load, "model", json_string("replay"));
        json_object_set_new(load, "intended_requests",
                            p->total && cfg->shard_count == 1 ? json_integer((json_int_t)p->total)
                                                              : json_null());
        json_object_set_new(load, "duration_s",
                            p->duration_ns ? json_real((double)p->duration_ns / 1e9) : json_null());
    } else if (cfg->open_model) {
        json_t *phases = json_array();
        for (size_t i = 0; i < cfg->schedule.n_phases; i++) {
            const lg_phase *p = &cfg->schedule.phases[i];
            json_array_append_new(phases, json_pack("{s:s, s:f, s:f, s:f}", "name", p->name,
                                                    "duration_s", (double)p->duration_ns / 1e9,
                                                    "rate_from", p->rate_from, "rate_to", p->rate_to));
        }
        json_object_set_new(load, "phases", phases);
        json_object_set_new(load, "intended_requests",
                            json_integer((json_int_t)lg_shard_count(cfg, lg_schedule_total(&cfg->schedule))));
        json_object_set_new(load, "duration_s",
                            json_real((double)lg_schedule_duration(&cfg->schedule) / 1e9));
    } else {
        json_object_set_new(load, "duration_s", json_real((double)cfg->duration_ns / 1e9));
    }
    json_t *headers = json_array();
    for (size_t i = 0; i < cfg->n_headers; i++)
        json_array_append_new(headers, sq_json_text(cfg->headers[i]));
    json_object_set_new(load, "headers", headers);
    json_object_set_new(load, "multiplier",
                        json_real(cfg->replay ? lg_replay_plan_of(cfg->replay)->multiplier : 1.0));
    return load;
}

/* Writes run.json: schema, run id, version, start time, target, load. */
static int write_run_json(sq_rundir *rd, const load_opts *o, sq_err *err)
{
    const lg_config *cfg = &o->cfg;
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", cfg->shard_index + 1, cfg->shard_count);
    json_t *run = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:s}", "schema", SQ_RUN_SCHEMA,
                            "run_id", cfg->run_id, "tool", "squall " SQUALL_VERSION,
                            "start_utc_ns", (json_int_t)sq_utc_ns(), "target",
                            sq_json_text(cfg->url), "load", load_json(cfg), "shard", shard);
    json_t *slos = json_array();
    if (!run || !slos || json_object_set_new(run, "slos", slos)) {
        json_decref(run);
        return sq_errf(err, -ENOMEM, "out of memory writing run.json");
    }
    for (size_t i = 0; i < o->n_slos; i++)
        json_array_append_new(slos, sq_json_text(o->slos[i]));
    char ledger[300];
    json_object_set_new(run, "ledger", json_string(lg_ledger_spec_text(&o->ledger, ledger, sizeof ledger)));
    if (cfg->replay) {
        json_object_set_new(run, "traffic", load_replay_json(&o->replay));
        json_object_set_new(run, "users", load_replay_users(&o->replay));
    }
    int rc = sq_rundir_write_json(rd, "run.json", run, err);
    json_decref(run);
    return rc;
}

/* Appends an "abort" event with the reason to events.jsonl. */
static void record_abort(sq_rundir *rd, const char *reason)
{
    json_t *ev = json_pack("{s:s, s:I, s:s, s:o}", "type", "abort", "utc_ns",
                           (json_int_t)sq_utc_ns(), "source", "load", "reason",
                           sq_json_text(reason));
    sq_err err;
    if (ev && sq_rundir_append(rd, "events.jsonl", ev, &err))
        sq_warn("%s", err.msg);
    json_decref(ev);
}

/* Tells, for each error class seen, how many and libcurl's first message,
 * on stderr and as "error_sample" events in events.jsonl. */
static void report_error_samples(sq_rundir *rd, const lg_totals *t, int quiet)
{
    for (int c = 0; c < LG_ERR_COUNT; c++) {
        if (!t->by_error[c] || !t->first_error[c][0])
            continue;
        if (!quiet)
            fprintf(stderr, "squall load: %llu %s error%s; the first: %s\n",
                    (unsigned long long)t->by_error[c], lg_error_class_name(c),
                    t->by_error[c] == 1 ? "" : "s", t->first_error[c]);
        json_t *ev = json_pack("{s:s, s:I, s:s, s:I, s:o}", "type", "error_sample", "utc_ns",
                               (json_int_t)sq_utc_ns(), "class", lg_error_class_name(c), "count",
                               (json_int_t)t->by_error[c], "message",
                               sq_json_text(t->first_error[c]));
        sq_err err;
        if (ev && sq_rundir_append(rd, "events.jsonl", ev, &err))
            sq_warn("%s", err.msg);
        json_decref(ev);
    }
}

/* Evaluates the run's objectives (stored in run.json) and writes
 * summary.json, report.html and, when asked, junit.xml into the run
 * directory; prints the terminal summary unless quiet. Returns the exit code
 * the verdict implies (0, 1, 4) or SQ_EXIT_RUNTIME. */
static int finish_report(sq_rundir *rd, const load_opts *o)
{
    const char *dir = sq_rundir_path(rd);
    char json[4200], html[4200];
    snprintf(json, sizeof json, "%s/summary.json", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    rp_outputs outs = {.json = json, .html = html, .junit = o->junit};
    int code = SQ_EXIT_OK;
    sq_err err;
    if (rp_report_finish(dir, NULL, 0, &outs, o->quiet ? NULL : stdout, &code, &err)) {
        fprintf(stderr, "squall load: %s\n", err.msg);
        return SQ_EXIT_RUNTIME;
    }
    if (!o->quiet)
        printf("  report    %s\n  run dir   %s\n", html, dir);
    return code;
}

/* Says how many created objects the ledger holds, and any it could not
 * record (on stderr: that is data squall cannot clean up). */
static void report_ledger(const load_opts *o, const lg_totals *t, const char *dir)
{
    if (t->ledger_lost)
        fprintf(stderr, "squall load: %llu successful writes could not be recorded in "
                        "ledger.jsonl; cleanup will not find them\n",
                (unsigned long long)t->ledger_lost);
    if (!o->quiet && t->ledger_written)
        printf("  ledger    %llu created object%s recorded; delete them with: squall cleanup %s\n",
               (unsigned long long)t->ledger_written, t->ledger_written == 1 ? "" : "s", dir);
}

/* The body of `squall load` over o (initialised by the caller). */
static int load_body(int argc, char **argv, load_opts *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->cfg.threads = cores > 0 ? (unsigned)cores : 1;
    o->cfg.headers = o->headers;
    o->cfg.ledger = &o->ledger;
    int rc = parse_args(argc, argv, o);
    if (rc)
        return rc < 0 ? SQ_EXIT_OK : rc;
    if ((rc = resolve_model(o)))
        return rc;
    if (o->body_file) {
        if (o->cfg.body)
            return cli_usage_error(CMD, "give --body or --body-file, not both");
        if ((rc = read_file(o->body_file, &o->body_owned, &o->cfg.body_len)))
            return rc;
        o->cfg.body = o->body_owned;
    }
    if (o->cfg.body && strcmp(o->cfg.method, "GET") == 0)
        o->cfg.method = "POST";
    if (o->cfg.body) {
        sq_err terr;
        if (lg_template_check(o->cfg.body, o->cfg.body_len, &terr)) {
            free(o->body_owned);
            return cli_usage_error(CMD, "%s: %s", o->body_file ? "--body-file" : "--body",
                                   terr.msg);
        }
        o->cfg.body_templated = lg_template_present(o->cfg.body, o->cfg.body_len);
    }

    char run_id[80], out_dir[4096];
    sq_err err;
    if (o->tag) {
        if (sq_run_id_validate(o->tag, &err)) {
            free(o->body_owned);
            return cli_usage_error(CMD, "--tag: %s", err.msg);
        }
        snprintf(run_id, sizeof run_id, "%s", o->tag);
    } else {
        sq_run_id_generate(run_id, sizeof run_id);
    }
    o->cfg.run_id = run_id;
    snprintf(out_dir, sizeof out_dir, "%s", o->out ? o->out : "runs/");
    if (!o->out)
        strncat(out_dir, run_id, sizeof out_dir - strlen(out_dir) - 1);
    o->cfg.progress = !o->quiet && isatty(STDERR_FILENO);
    long fd_limit = sq_raise_fd_limit();
    if (fd_limit > 0 && (long)o->cfg.connections + 64 > fd_limit) {
        fprintf(stderr, "squall load: --connections %u needs about %u open files but the limit "
                        "is %ld; raise it (ulimit -n) or use fewer connections\n",
                o->cfg.connections, o->cfg.connections + 64, fd_limit);
        free(o->body_owned);
        return SQ_EXIT_RUNTIME;
    }

    char existing[4200];
    snprintf(existing, sizeof existing, "%s/run.json", out_dir);
    if (access(existing, F_OK) == 0) {
        free(o->body_owned);
        return cli_usage_error(CMD, "'%s' already holds a run; give a new --out directory "
                                    "(run directories are never mixed)",
                               out_dir);
    }
    sq_rundir *rd = NULL;
    if (sq_rundir_open(out_dir, &rd, &err) || write_run_json(rd, o, &err)) {
        fprintf(stderr, "squall load: %s\n", err.msg);
        sq_rundir_free(rd);
        free(o->body_owned);
        return SQ_EXIT_RUNTIME;
    }
    o->cfg.stop_fd = cli_stop_signals();
    lg_totals totals;
    rc = lg_run(&o->cfg, rd, &totals, &err);
    /* SIGINT/SIGTERM stay blocked until exit: the run directory is written in
     * full even if a second Ctrl-C comes while the report is being built */
    if (o->cfg.stop_fd >= 0)
        close(o->cfg.stop_fd);
    if (rc) {
        fprintf(stderr, "squall load: %s\n", err.msg);
        rc = rc == -EINVAL ? SQ_EXIT_USAGE : SQ_EXIT_RUNTIME;
        goto out;
    }
    report_error_samples(rd, &totals, o->quiet);
    if (totals.stop_error[0])
        fprintf(stderr, "squall load: stopped: %s\n", totals.stop_error);
    if (totals.stopped)
        record_abort(rd, totals.stop_error[0] ? totals.stop_error : "interrupted by a signal");
    rc = finish_report(rd, o);
    report_ledger(o, &totals, sq_rundir_path(rd));
    if (totals.stop_error[0] || totals.ledger_lost)
        rc = SQ_EXIT_RUNTIME; /* the file broke mid-run, or created objects went unrecorded */
    else if (totals.stopped)
        rc = SQ_EXIT_ABORTED;
    else if (rc == SQ_EXIT_OK && totals.completed == 0 && totals.errors > 0 &&
             totals.by_error[LG_ERR_CONNECT] + totals.by_error[LG_ERR_DNS] +
                     totals.by_error[LG_ERR_TLS] ==
                 totals.errors) {
        fprintf(stderr, "squall load: target unreachable: no request got a response (%llu "
                        "connect, %llu dns, %llu tls errors)\n",
                (unsigned long long)totals.by_error[LG_ERR_CONNECT],
                (unsigned long long)totals.by_error[LG_ERR_DNS],
                (unsigned long long)totals.by_error[LG_ERR_TLS]);
        rc = SQ_EXIT_RUNTIME;
    }
out:
    sq_rundir_free(rd);
    free(o->body_owned);
    return rc;
}

int cmd_load(int argc, char **argv)
{
    load_opts o;
    memset(&o, 0, sizeof o);
    lg_config_init(&o.cfg);
    load_replay_init(&o.replay);
    int rc = load_body(argc, argv, &o);
    load_replay_free(&o.replay);
    return rc;
}
