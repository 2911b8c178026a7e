/* cmd_traffic.c — `squall traffic inspect FILE`: reads a traffic file
 * (JSON Lines, combined/common log, GoReplay, HAR) and prints its request
 * count, duration, exact peak rate and when, mean rate, methods, users and
 * top routes, for a person or as JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "loadgen/inspect.h"
#include "loadgen/traffic.h"

#define CMD "traffic"

static const char usage[] =
    "usage: squall traffic inspect FILE [options]\n"
    "\n"
    "Reads a recorded traffic file and prints what a replay would see: format,\n"
    "requests, duration, peak rate (the most requests in any 1-second window,\n"
    "sliding over the timestamps) and when, mean rate, read/write mix, methods,\n"
    "distinct users and the top 20 routes.\n"
    "\n"
    "  --json                 print JSON (format, requests, duration_s, peak_rps,\n"
    "                         peak_at, mean_rps, methods, users, routes, ...)\n"
    "  --format F             auto (default), jsonl, combined, common, gor or har\n"
    "  --user-key K           where the user id is: header:NAME, query:NAME,\n"
    "                         cookie:NAME or json:/pointer (into a JSON body)\n"
    "  --skip-bad             count and skip records that cannot be read (and\n"
    "                         requests out of order beyond the reorder window)\n"
    "                         instead of stopping at the first one\n"
    "  -h, --help             this help\n"
    "\n"
    "Timestamps out of order are sorted within a 10 s / 100000-request window.\n"
    "See docs/traffic.md for the formats.\n"
    "\n"
    "Exit codes: 0 done, 2 bad usage or a record that cannot be read\n"
    "(reported as FILE:LINE: what was expected).\n";

enum { OPT_JSON = 256, OPT_FORMAT, OPT_USER_KEY, OPT_SKIP_BAD };

static const struct option long_opts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"user-key", required_argument, NULL, OPT_USER_KEY},
    {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* `squall traffic inspect`: argv[0] is "inspect". Returns an exit code. */
static int traffic_inspect(int argc, char **argv)
{
    int json_out = 0, c;
    enum lg_traffic_format format = LG_TRAFFIC_AUTO;
    lg_traffic_opts opts;
    sq_err err = {{0}};
    lg_traffic_opts_init(&opts);
    optind = 0;
    while ((c = cli_getopt(CMD " inspect", argc, argv, "h", long_opts)) != -1) {
        switch (c) {
        case OPT_JSON:
            json_out = 1;
            break;
        case OPT_FORMAT:
            if (lg_traffic_format_parse(optarg, &format, &err))
                return cli_usage_error(CMD " inspect", "--format: %s", err.msg);
            break;
        case OPT_USER_KEY:
            if (lg_user_key_parse(optarg, &opts.user_key, &err))
                return cli_usage_error(CMD " inspect", "--user-key: %s", err.msg);
            break;
        case OPT_SKIP_BAD:
            opts.skip_bad = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return SQ_EXIT_OK;
        default:
            return SQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(CMD " inspect", optind >= argc ? "expected a traffic FILE"
                                                              : "expected one traffic FILE");
    const char *path = argv[optind];
    lg_traffic *t = NULL;
    int rc = lg_traffic_open(path, format, &opts, &t, &err);
    if (rc) {
        fprintf(stderr, "squall traffic: %s\n", err.msg);
        return SQ_EXIT_USAGE;
    }
    lg_inspect r;
    rc = lg_inspect_run(t, opts.user_key.kind != LG_USER_KEY_NONE, &r, &err);
    lg_traffic_close(t);
    if (rc) {
        fprintf(stderr, "squall traffic: %s%s\n", err.msg,
                rc == -EBADMSG && !opts.skip_bad ? " (--skip-bad counts and skips bad records)" : "");
        return rc == -ENOMEM || rc == -EIO ? SQ_EXIT_RUNTIME : SQ_EXIT_USAGE;
    }
    if (json_out) {
        json_t *j = lg_inspect_to_json(&r);
        if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            json_decref(j);
            fprintf(stderr, "squall traffic: out of memory\n");
            return SQ_EXIT_RUNTIME;
        }
        fputc('\n', stdout);
        json_decref(j);
    } else {
        lg_inspect_print(&r, path, stdout);
    }
    if (r.skipped)
        fprintf(stderr, "squall traffic: %s: skipped %llu bad records (%llu out of order beyond "
                        "the reorder window)\n",
                path, (unsigned long long)r.skipped, (unsigned long long)r.skipped_late);
    return SQ_EXIT_OK;
}

/* `squall traffic SUBCOMMAND`: dispatches (only `inspect` for now). */
int cmd_traffic(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SQ_EXIT_USAGE : SQ_EXIT_OK;
    }
    if (strcmp(argv[1], "inspect") == 0)
        return traffic_inspect(argc - 1, argv + 1);
    return cli_usage_error(CMD, "unknown subcommand '%s' (expected inspect)", argv[1]);
}
