/* cmd_target.c — `squall target`: parse flags, run the built-in demo/test
 * HTTP service until SIGINT or SIGTERM, then stop it gracefully. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "target/target.h"

#define CMD "target"

/* Prints the help text to stdout. */
static void target_usage(void)
{
    printf("usage: squall target [options]\n"
           "\n"
           "A small HTTP service for demos and tests, with injectable latency, errors and\n"
           "stalls, and a writable store that remembers each item's run tag.\n"
           "\n"
           "options:\n"
           "  -l, --listen ADDR        HOST:PORT, [IPV6]:PORT or :PORT (127.0.0.1); port 0\n"
           "                           picks a free port (default " TG_DEFAULT_LISTEN ")\n"
           "  -t, --threads N          worker threads (default: number of CPUs)\n"
           "      --latency SPEC       added latency: 5ms | uniform:1ms..10ms | exp:5ms (mean)\n"
           "                           | normal:10ms,2ms (mean,stddev; clamped at 0) | none\n"
           "      --error-rate P       share of requests answered 500, e.g. 1%% or 0.01\n"
           "                           (not /healthz, /stats or the /items store)\n"
           "      --stall-every DUR    stall periodically: every DUR after start ...\n"
           "      --stall-for DUR      ... hold every answer for DUR (but /healthz, /stats)\n"
           "      --tag-header NAME    request header carrying the run tag\n"
           "                           (default " TG_DEFAULT_TAG_HEADER ")\n"
           "      --max-items N        store capacity; 507 beyond (default 1000000)\n"
           "      --max-body SIZE      request body limit; 413 beyond (default 1MiB)\n"
           "      --max-connections N  concurrent connections (default 20000)\n"
           "      --drain DUR          at shutdown, time allowed to answer held requests\n"
           "                           (default 5s)\n"
           "  -v, --verbose            log libmicrohttpd diagnostics to stderr\n"
           "  -h, --help               show this help\n"
           "\n"
           "routes:\n"
           "  GET  /healthz               200 ok\n"
           "  GET  /stats                 counters as JSON (requests, by_status, items, ...)\n"
           "  POST /items (or PUT)        201, Location: /items/ID,\n"
           "                              {\"id\":\"ID\",\"tag\":TAG|null}\n"
           "  GET  /items/ID              200 item or 404;  DELETE /items/ID: 204 or 404\n"
           "  GET  /items/count[?tag=T]   {\"count\":N}\n"
           "  DELETE /items?tag=T         deletes every item carrying tag T: {\"deleted\":N}\n"
           "  any other path              200 {\"ok\":true,\"path\":...} for GET HEAD POST PUT\n"
           "                              PATCH DELETE; 405 for other methods\n"
           "  ?delay=DUR  ?status=NNN     per-request overrides on any route\n"
           "\n"
           "Prints \"squall target: listening on http://HOST:PORT\" once ready; stops on\n"
           "SIGINT or SIGTERM after answering held requests. Exit codes: 0 stopped by a\n"
           "signal, 2 bad options, 3 cannot listen. See docs/target.md.\n");
}

/* Parses argv into opts. Returns 0, -1 after --help (exit 0), or
 * SQ_EXIT_USAGE after printing the error. The latency spec lands in opts. */
static int parse_flags(int argc, char **argv, tg_options *opts)
{
    enum {
        OPT_LATENCY = 256,
        OPT_ERROR_RATE,
        OPT_STALL_EVERY,
        OPT_STALL_FOR,
        OPT_TAG_HEADER,
        OPT_MAX_ITEMS,
        OPT_MAX_BODY,
        OPT_MAX_CONNS,
        OPT_DRAIN,
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"latency", required_argument, NULL, OPT_LATENCY},
        {"error-rate", required_argument, NULL, OPT_ERROR_RATE},
        {"stall-every", required_argument, NULL, OPT_STALL_EVERY},
        {"stall-for", required_argument, NULL, OPT_STALL_FOR},
        {"tag-header", required_argument, NULL, OPT_TAG_HEADER},
        {"max-items", required_argument, NULL, OPT_MAX_ITEMS},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
        {"drain", required_argument, NULL, OPT_DRAIN},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t u;
    sq_err err;
    int c, rc;

    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "l:t:vh", longopts)) != -1) {
        switch (c) {
        case 'l':
            opts->listen = optarg;
            break;
        case 't':
            if ((rc = cli_uint(CMD, "threads", optarg, 1, 1024, &u)))
                return rc;
            opts->threads = (unsigned)u;
            break;
        case OPT_LATENCY:
            if (tg_latency_parse(optarg, &opts->latency, &err) != 0)
                return cli_usage_error(CMD, "--latency: %s", err.msg);
            break;
        case OPT_ERROR_RATE:
            if ((rc = cli_percent(CMD, "error-rate", optarg, &opts->error_rate)))
                return rc;
            if (opts->error_rate < 0 || opts->error_rate > 1)
                return cli_usage_error(CMD, "--error-rate: '%s' is not between 0%% and 100%%",
                                       optarg);
            break;
        case OPT_STALL_EVERY:
            if ((rc = cli_duration(CMD, "stall-every", optarg, &opts->stall_every_ns)))
                return rc;
            break;
        case OPT_STALL_FOR:
            if ((rc = cli_duration(CMD, "stall-for", optarg, &opts->stall_for_ns)))
                return rc;
            break;
        case OPT_TAG_HEADER:
            opts->tag_header = optarg;
            break;
        case OPT_MAX_ITEMS:
            if ((rc = cli_uint(CMD, "max-items", optarg, 1, 1000000000ULL, &u)))
                return rc;
            opts->max_items = u;
            break;
        case OPT_MAX_BODY:
            if ((rc = cli_size(CMD, "max-body", optarg, &opts->max_body)))
                return rc;
            break;
        case OPT_MAX_CONNS:
            if ((rc = cli_uint(CMD, "max-connections", optarg, 1, 1000000, &u)))
                return rc;
            opts->max_connections = (unsigned)u;
            break;
        case OPT_DRAIN:
            if ((rc = cli_duration(CMD, "drain", optarg, &opts->drain_ns)))
                return rc;
            break;
        case 'v':
            sq_log_set_level(SQ_LOG_DEBUG);
            break;
        case 'h':
            target_usage();
            return -1;
        default:
            return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (tg_options_validate(opts, &err) != 0)
        return cli_usage_error(CMD, "%s", err.msg);
    return 0;
}

/* `squall target`: see target_usage(). */
int cmd_target(int argc, char **argv)
{
    tg_options opts;
    tg_server *srv = NULL;
    sigset_t set, old;
    sq_err err;
    int rc, sig = 0;

    tg_options_init(&opts);
    rc = parse_flags(argc, argv, &opts);
    if (rc == -1)
        return SQ_EXIT_OK;
    if (rc)
        return rc;

    /* Block the stop signals before any thread starts, so that every thread
     * inherits the mask and only sigwait() below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    sq_raise_fd_limit();

    err.msg[0] = '\0';
    rc = tg_server_start(&opts, &srv, &err);
    if (rc) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc == -EINVAL)
            return cli_usage_error(CMD, "%s", err.msg);
        fprintf(stderr, "squall %s: %s\n", CMD, err.msg);
        return SQ_EXIT_RUNTIME;
    }
    printf("squall target: listening on %s\n", tg_server_url(srv));
    fflush(stdout);

    while (sigwait(&set, &sig) != 0)
        ;
    sq_info("target: %s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    tg_stats st;
    tg_server_stats(srv, &st);
    tg_server_stop(srv);
    printf("squall target: stopped after %llu requests\n", (unsigned long long)st.requests);
    fflush(stdout);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return SQ_EXIT_OK;
}
