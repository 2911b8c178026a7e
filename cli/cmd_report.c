/* cmd_report.c — `squall report RUN_DIR` (re-evaluate a run directory and
 * write summary.json, report.html, junit.xml) and `squall report merge
 * RUN_DIR... --out DIR` (shards into one run, then its report). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "reports/reports.h"

#define CMD "report"
#define MAX_SLOS 64
#define MAX_SHARDS 1024

static const char usage[] =
    "usage: squall report RUN_DIR [options]\n"
    "       squall report merge RUN_DIR... --out DIR [options]\n"
    "\n"
    "Evaluates a run directory's objectives and writes its reports: summary.json\n"
    "and report.html in RUN_DIR (or where the options say), junit.xml when asked,\n"
    "and a summary on stdout. Objectives stored in RUN_DIR/run.json (\"slos\") are\n"
    "evaluated along with every --slo; a --slo with the same text replaces one.\n"
    "`merge` combines shard run directories into DIR (histograms merged exactly,\n"
    "intervals aligned by UTC time) and reports on the result.\n"
    "\n"
    "Options:\n"
    "      --slo EXPR     objective (repeatable), e.g. 'p(99) < 300ms',\n"
    "                     'availability 99.9% good=status<500', 'error_rate < 1%\n"
    "                     during db-loss'; see docs/slo.md\n"
    "      --json F       write summary.json to F (default RUN_DIR/summary.json)\n"
    "      --html F       write report.html to F (default RUN_DIR/report.html)\n"
    "      --junit F      write JUnit XML to F (default: not written)\n"
    "      --no-html      do not write report.html\n"
    "  -o, --out DIR      merge: the merged run directory (required)\n"
    "  -q, --quiet        no summary on stdout\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit codes: 0 every objective met (or none set), 1 an objective failed or\n"
    "lacked data, 2 bad usage or unreadable run directory, 3 cannot write, 4 the\n"
    "run was aborted.\n";

enum { OPT_SLO = 256, OPT_JSON, OPT_HTML, OPT_JUNIT, OPT_NO_HTML };

static const struct option long_opts[] = {
    {"slo", required_argument, NULL, OPT_SLO},
    {"json", required_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"no-html", no_argument, NULL, OPT_NO_HTML},
    {"out", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct report_opts {
    const char *slos[MAX_SLOS];
    size_t n_slos;
    const char *json, *html, *junit, *out;
    int no_html, quiet;
} report_opts;

/* Parses flags from argv (argv[0] is the command word). Returns 0, -1
 * after --help, or an exit code. */
static int parse_args(int argc, char **argv, report_opts *o)
{
    int c;
    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "o:qh", long_opts)) != -1) {
        switch (c) {
        case OPT_SLO: {
            rp_slo slo;
            sq_err err;
            if (o->n_slos == MAX_SLOS)
                return cli_usage_error(CMD, "--slo: at most %d objectives", MAX_SLOS);
            if (rp_slo_parse(optarg, &slo, &err)) {
                fprintf(stderr, "squall %s: --slo '%s': %s\n", CMD, optarg, err.msg);
                rp_slo_caret(stderr, optarg, &err);
                return cli_usage_error(CMD, "--slo: see docs/slo.md for the syntax");
            }
            o->slos[o->n_slos++] = optarg;
            break;
        }
        case OPT_JSON:
            o->json = optarg;
            break;
        case OPT_HTML:
            o->html = optarg;
            break;
        case OPT_JUNIT:
            o->junit = optarg;
            break;
        case OPT_NO_HTML:
            o->no_html = 1;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return SQ_EXIT_USAGE;
        }
    }
    return 0;
}

/* Reports on dir with the options; returns the exit code. */
static int report_dir(const char *dir, const report_opts *o)
{
    char json_path[4200], html_path[4200];
    snprintf(json_path, sizeof json_path, "%s/summary.json", dir);
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    rp_outputs outs = {.json = o->json ? o->json : json_path,
                       .html = o->no_html ? NULL : o->html ? o->html : html_path,
                       .junit = o->junit};
    int code = SQ_EXIT_OK;
    sq_err err;
    int rc = rp_report_finish(dir, o->slos, o->n_slos, &outs, o->quiet ? NULL : stdout, &code,
                              &err);
    if (rc) {
        fprintf(stderr, "squall report: %s\n", err.msg);
        return rc == -EINVAL || rc == -ENOENT || rc == -ENOTDIR ? SQ_EXIT_USAGE : SQ_EXIT_RUNTIME;
    }
    if (!o->quiet) {
        if (outs.html)
            printf("  report    %s\n", outs.html);
        if (outs.junit)
            printf("  junit     %s\n", outs.junit);
    }
    return code;
}

/* `squall report merge RUN_DIR... --out DIR`. */
static int cmd_merge(int argc, char **argv)
{
    report_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? SQ_EXIT_OK : rc;
    if (!o.out)
        return cli_usage_error(CMD, "merge: --out DIR is required");
    size_t n = (size_t)(argc - optind);
    if (n < 1)
        return cli_usage_error(CMD, "merge: give the shard run directories to merge");
    if (n > MAX_SHARDS)
        return cli_usage_error(CMD, "merge: at most %d shards", MAX_SHARDS);
    sq_err err;
    rc = rp_merge((const char *const *)argv + optind, n, o.out, &err);
    if (rc) {
        fprintf(stderr, "squall report merge: %s\n", err.msg);
        return rc == -EINVAL || rc == -ENOENT || rc == -ENOTDIR || rc == -EEXIST ? SQ_EXIT_USAGE
                                                                                  : SQ_EXIT_RUNTIME;
    }
    if (!o.quiet)
        printf("merged %zu shard%s into %s\n", n, n == 1 ? "" : "s", o.out);
    return report_dir(o.out, &o);
}

/* `squall report ...`: dispatches `merge`, else reports on one run
 * directory; returns the exit code. */
int cmd_report(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    report_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? SQ_EXIT_OK : rc;
    if (o.out)
        return cli_usage_error(CMD, "--out is for `squall report merge`; use --json/--html/"
                                    "--junit to choose where reports go");
    if (optind >= argc)
        return cli_usage_error(CMD, "missing the run directory");
    if (optind + 1 < argc)
        return cli_usage_error(CMD, "unexpected argument '%s' (one run directory; to combine "
                                    "shards use `squall report merge`)",
                               argv[optind + 1]);
    return report_dir(argv[optind], &o);
}
