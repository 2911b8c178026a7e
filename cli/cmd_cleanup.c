/* cmd_cleanup.c — `squall cleanup RUN_DIR`: parses flags and calls
 * lg_cleanup_run, which deletes what the run's ledger says it created, then
 * prints the counts (deleted, gone, failed, already done). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "loadgen/cleanup.h"

#define CMD "cleanup"
#define MAX_HEADERS 64
#define MAX_ALLOW_HOSTS 64
#define MAX_RATE 1e6

static const char usage[] =
    "usage: squall cleanup RUN_DIR [options]\n"
    "\n"
    "Deletes every object RUN_DIR/ledger.jsonl says the run created, one request per\n"
    "entry, and appends each outcome to the ledger: a second run resumes where the\n"
    "first stopped and, after a complete one, sends nothing. 2xx is deleted, 404 and\n"
    "410 are gone (already deleted), 408, 429, 5xx and no answer are retried with\n"
    "backoff, any other status fails. A request whose URL points at another host than\n"
    "run.json's target (scheme, host and port) is never sent: the entry fails.\n"
    "\n"
    "  --request 'M URL'      request per entry (default 'DELETE {location}'); the URL\n"
    "                         may use {location}, {id} and {tag}; one starting with /\n"
    "                         is sent to run.json's target\n"
    "  --by-tag 'M URL'       instead, one bulk request for the whole run, e.g.\n"
    "                         'DELETE /admin/testdata?tag={tag}' (2xx: done)\n"
    "  -r, --rate R           requests per second, retries included (default 100;\n"
    "                         0: no limit)\n"
    "  -c, --connections N    concurrent requests (default 8)\n"
    "      --retries N        retries after a retryable failure (default 3)\n"
    "      --backoff D        first retry delay, doubled per retry (default 100ms);\n"
    "                         a longer Retry-After is honoured up to 30s\n"
    "      --timeout D        per-request timeout (default 5s)\n"
    "      --allow-host HOST[:PORT]\n"
    "                         also send to this host (repeatable; no port: 80 for\n"
    "                         http, 443 for https; IPv6 in brackets: [::1]:8080)\n"
    "  -H, --header 'N: V'    extra request header (repeatable), e.g. Authorization;\n"
    "                         sent only to the target and the --allow-host hosts\n"
    "      --tag-header NAME  header carrying the run id (default: run.json's, else\n"
    "                         X-Squall-Run)\n"
    "  -k, --insecure         do not verify the server's TLS certificate\n"
    "      --cacert F         CA bundle to verify the server with\n"
    "      --cert F, --key F  client certificate and key\n"
    "      --dry-run          print each request (METHOD URL) instead of sending it,\n"
    "                         and 'refused METHOD URL: why' for another host; the\n"
    "                         ledger is not changed\n"
    "  -q, --quiet            no progress bar and no summary line\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit codes: 0 everything deleted or gone, 1 an entry failed (or cannot be\n"
    "deleted: no location or id recorded, another host), 2 bad usage, run\n"
    "directory or ledger line (or a --request/--by-tag URL to another host), 3\n"
    "run-time failure (cannot write the ledger), 4 interrupted (run again to\n"
    "finish). See docs/cleanup.md.\n";

enum { OPT_REQUEST = 256, OPT_BY_TAG, OPT_RETRIES, OPT_BACKOFF, OPT_TIMEOUT, OPT_TAG_HEADER,
       OPT_CACERT, OPT_DRY_RUN, OPT_ALLOW_HOST, OPT_CERT, OPT_KEY };

static const struct option long_opts[] = {
    {"request", required_argument, NULL, OPT_REQUEST},
    {"by-tag", required_argument, NULL, OPT_BY_TAG},
    {"rate", required_argument, NULL, 'r'},
    {"connections", required_argument, NULL, 'c'},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"backoff", required_argument, NULL, OPT_BACKOFF},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"header", required_argument, NULL, 'H'},
    {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
    {"tag-header", required_argument, NULL, OPT_TAG_HEADER},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Everything the flags say. */
typedef struct cleanup_flags {
    lg_cleanup_opts o;
    const char *headers[MAX_HEADERS];
    const char *allow_hosts[MAX_ALLOW_HOSTS];
    int quiet, have_request;
} cleanup_flags;

/* Checks a template flag value; returns 0 or SQ_EXIT_USAGE after a message. */
static int check_template(const char *flag, const char *spec, int bulk)
{
    sq_err err;
    if (lg_cleanup_check_template(spec, bulk, &err))
        return cli_usage_error(CMD, "--%s: '%s': %s", flag, spec, err.msg);
    return 0;
}

/* Parses one flag c with its value; returns 0, -1 after --help, or an exit
 * code. */
static int parse_flag(int c, const char *val, cleanup_flags *f)
{
    lg_cleanup_opts *o = &f->o;
    uint64_t n;
    int64_t ns;
    sq_rate rate;
    int rc;
    switch (c) {
    case OPT_REQUEST:
        f->have_request = 1;
        o->request = val;
        return check_template("request", val, 0);
    case OPT_BY_TAG:
        o->by_tag = val;
        return check_template("by-tag", val, 1);
    case 'r':
        if (strcmp(val, "0") == 0) { /* no limit */
            o->rate = 0;
            return 0;
        }
        if ((rc = cli_rate(CMD, "rate", val, &rate)))
            return rc;
        if (rate.relative_to_peak || rate.value > MAX_RATE)
            return cli_usage_error(CMD, "--rate: '%s': expected requests per second, 0 (no "
                                        "limit) to %.0f",
                                   val, MAX_RATE);
        o->rate = rate.value;
        return 0;
    case 'c':
        if ((rc = cli_uint(CMD, "connections", val, 1, 1000, &n)))
            return rc;
        o->connections = (unsigned)n;
        return 0;
    case OPT_RETRIES:
        if ((rc = cli_uint(CMD, "retries", val, 0, 100, &n)))
            return rc;
        o->retries = (unsigned)n;
        return 0;
    case OPT_BACKOFF:
        if ((rc = cli_duration(CMD, "backoff", val, &ns)))
            return rc;
        if (ns < 0 || ns > 60 * SQ_NS_PER_S)
            return cli_usage_error(CMD, "--backoff: '%s': expected 0 to 60s", val);
        o->backoff_ns = ns;
        return 0;
    case OPT_TIMEOUT:
        if ((rc = cli_duration(CMD, "timeout", val, &ns)))
            return rc;
        if (ns < SQ_NS_PER_MS)
            return cli_usage_error(CMD, "--timeout: must be at least 1ms");
        o->timeout_ns = ns;
        return 0;
    case 'H':
        if (o->n_headers == MAX_HEADERS)
            return cli_usage_error(CMD, "--header: at most %d headers", MAX_HEADERS);
        if ((rc = cli_header(CMD, "header", val)))
            return rc;
        f->headers[o->n_headers++] = val;
        return 0;
    case OPT_ALLOW_HOST: {
        sq_err err;
        if (o->n_allow_hosts == MAX_ALLOW_HOSTS)
            return cli_usage_error(CMD, "--allow-host: at most %d hosts", MAX_ALLOW_HOSTS);
        if (lg_cleanup_check_allow_host(val, &err) < 0)
            return cli_usage_error(CMD, "--allow-host: %s", err.msg);
        f->allow_hosts[o->n_allow_hosts++] = val;
        return 0;
    }
    case OPT_TAG_HEADER:
        o->tag_header = val;
        return cli_header_name(CMD, "tag-header", val);
    case 'k':
        o->insecure = 1;
        return 0;
    case OPT_CACERT:
        o->cacert = val;
        return 0;
    case OPT_CERT:
        o->cert = val;
        return 0;
    case OPT_KEY:
        o->key = val;
        return 0;
    case OPT_DRY_RUN:
        o->dry_run = 1;
        return 0;
    case 'q':
        f->quiet = 1;
        return 0;
    case 'h':
        fputs(usage, stdout);
        return -1;
    default:
        return SQ_EXIT_USAGE;
    }
}

/* Prints the outcome of a bulk run; returns the exit code. */
static int report_bulk(const cleanup_flags *f, const lg_cleanup_result *r)
{
    if (r->bulk_skipped) {
        if (!f->quiet)
            printf("cleanup: nothing to send: '%s' already succeeded after the last created "
                   "entry\n",
                   r->bulk_request);
        return SQ_EXIT_OK;
    }
    if (f->o.dry_run)
        return SQ_EXIT_OK;
    if (r->bulk_deleted) {
        if (!f->quiet)
            printf("cleanup: %s: deleted (HTTP %ld)\n", r->bulk_request, r->bulk_status);
        return SQ_EXIT_OK;
    }
    fprintf(stderr, "squall cleanup: %s: failed: %s\n", r->bulk_request,
            r->bulk_error[0] ? r->bulk_error : "no answer");
    return SQ_EXIT_FAIL;
}

/* Prints the counts of a per-entry run; returns the exit code. */
static int report_entries(const cleanup_flags *f, const char *dir, const lg_cleanup_result *r)
{
    unsigned long long done = (unsigned long long)r->skipped;
    char refused[96] = "";
    if (r->refused)
        snprintf(refused, sizeof refused, "; %llu refused: another host (see --allow-host)",
                 (unsigned long long)r->refused);
    if (!f->quiet && r->entries == 0)
        printf("cleanup: nothing to send: %s/%s records no created objects\n", dir,
               LG_CLEANUP_LEDGER);
    else if (!f->quiet && r->entries == r->skipped)
        printf("cleanup: nothing to send: all %llu entries are already deleted or gone\n", done);
    if (f->o.dry_run) {
        if (!f->quiet)
            printf("cleanup: dry run: %llu requests would be sent, %llu entries cannot be "
                   "deleted (%llu already done)%s\n",
                   (unsigned long long)r->requests, (unsigned long long)r->failed, done,
                   refused);
    } else if (!f->quiet) {
        printf("cleanup: %llu deleted, %llu gone, %llu failed (%llu already done)%s\n",
               (unsigned long long)r->deleted, (unsigned long long)r->gone,
               (unsigned long long)r->failed, done, refused);
    }
    return r->failed ? SQ_EXIT_FAIL : SQ_EXIT_OK;
}

/* `squall cleanup RUN_DIR [options]`; returns the exit code. */
int cmd_cleanup(int argc, char **argv)
{
    cleanup_flags f;
    int c, rc;
    memset(&f, 0, sizeof f);
    lg_cleanup_opts_init(&f.o);
    f.o.headers = f.headers;
    f.o.allow_hosts = f.allow_hosts;
    optind = 0;
    while ((c = cli_getopt(CMD, argc, argv, "r:c:H:kqh", long_opts)) != -1)
        if ((rc = parse_flag(c, optarg, &f)))
            return rc < 0 ? SQ_EXIT_OK : rc;
    if (f.have_request && f.o.by_tag)
        return cli_usage_error(CMD, "give --request (one request per entry) or --by-tag (one "
                                    "request for the run), not both");
    if (optind >= argc)
        return cli_usage_error(CMD, "missing the run directory");
    if (optind + 1 < argc)
        return cli_usage_error(CMD, "unexpected argument '%s' (one run directory)",
                               argv[optind + 1]);
    const char *dir = argv[optind];
    f.o.log = stderr;
    f.o.progress = !f.quiet && !f.o.dry_run && isatty(STDERR_FILENO);

    sq_rundir *rd = NULL;
    sq_err err;
    lg_cleanup_result r;
    if ((rc = sq_rundir_open_existing(dir, &rd, &err)) < 0) {
        fprintf(stderr, "squall cleanup: %s\n", err.msg);
        return rc == -ENOENT || rc == -ENOTDIR || rc == -EINVAL ? SQ_EXIT_USAGE
                                                                 : SQ_EXIT_RUNTIME;
    }
    f.o.stop_fd = f.o.dry_run ? -1 : cli_stop_signals();
    rc = lg_cleanup_run(rd, &f.o, &r, &err);
    if (f.o.stop_fd >= 0)
        close(f.o.stop_fd);
    sq_rundir_free(rd);
    if (rc < 0) {
        fprintf(stderr, "squall cleanup: %s\n", err.msg);
        return lg_cleanup_input_error(rc) ? SQ_EXIT_USAGE : SQ_EXIT_RUNTIME;
    }
    if (r.stopped) {
        fprintf(stderr, "squall cleanup: interrupted: %llu deleted, %llu gone, %llu failed; "
                        "%llu entries left (run again to finish)\n",
                (unsigned long long)r.deleted, (unsigned long long)r.gone,
                (unsigned long long)r.failed, (unsigned long long)r.unsent);
        return SQ_EXIT_ABORTED;
    }
    return r.bulk ? report_bulk(&f, &r) : report_entries(&f, dir, &r);
}
