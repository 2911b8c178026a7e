/* cleanup.h — `squall cleanup`: deletes what a run's ledger says it created.
 *
 * A run directory's ledger.jsonl holds one "created" line per object a write
 * made (written by the load generator the moment the response arrived).
 * lg_cleanup_run() sends one request per created entry whose latest outcome
 * is not yet "deleted" or "gone" (default `DELETE {location}`), with retries
 * and backoff, at a bounded rate over a few connections, and appends one
 * "cleanup" outcome line per entry, so a second run resumes where the first
 * stopped and a run after a complete one sends nothing. A bulk form sends one
 * request per run (`--by-tag 'DELETE /admin/testdata?tag={tag}'`).
 *
 * It is a library call so that the scenario runner can clean up at the end
 * of a scenario and after an abort; `squall cleanup` (cli/cmd_cleanup.c) is
 * a thin wrapper. See docs/cleanup.md for the ledger format and the rules.
 *
 * Requests go only to run.json's target (scheme, host and port) and to the
 * hosts the caller allows: a Location in the ledger may point elsewhere, and
 * the requests carry the caller's headers (Authorization).
 */
#ifndef LG_CLEANUP_H
#define LG_CLEANUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

#define LG_CLEANUP_LEDGER "ledger.jsonl"
#define LG_CLEANUP_DEFAULT_REQUEST "DELETE {location}"
#define LG_CLEANUP_DEFAULT_TAG_HEADER "X-Squall-Run"

typedef struct lg_cleanup_opts {
    const char *request; /* "METHOD URL-TEMPLATE" per entry; default "DELETE {location}".
                          * Placeholders {location}, {id}, {tag}; a URL starting with
                          * '/' is resolved against run.json's target */
    const char *by_tag;  /* bulk "METHOD URL-TEMPLATE" ({tag} only): one request per run
                          * instead of one per entry; NULL = per entry */
    double rate;          /* requests per second, retries included; 0 = no limit */
    unsigned connections; /* concurrent requests (>= 1) */
    unsigned retries;     /* extra attempts after a retryable failure */
    int64_t timeout_ns;   /* per request */
    int64_t backoff_ns;   /* first retry delay; doubles per attempt */
    int64_t backoff_max_ns; /* cap on a retry delay, Retry-After included */
    const char *tag_header; /* header carrying the run id; NULL = run.json's
                             * load.tag_header, else X-Squall-Run */
    const char *const *headers; /* extra "Name: value" request headers */
    size_t n_headers;
    const char *const *allow_hosts; /* "HOST[:PORT]" other than run.json's target's
                                     * that requests may go to (no port: 80 for
                                     * http, 443 for https); any other host is
                                     * refused: the entry fails, nothing is sent */
    size_t n_allow_hosts;
    int insecure;         /* do not verify TLS certificates */
    const char *cacert;   /* CA bundle, or NULL */
    const char *cert, *key; /* client certificate and key, or NULL */
    int dry_run;          /* print "METHOD URL" per request to dry_run_out; send and
                           * append nothing */
    FILE *dry_run_out;    /* where dry-run lines go (default stdout) */
    FILE *log;            /* warnings (torn ledger lines) and the first failures, one
                           * line each; NULL = silent */
    int progress;         /* draw a progress bar on stderr (only on a terminal) */
    int stop_fd;          /* readable when the run must stop early (signalfd), or -1 */
} lg_cleanup_opts;

/* What a cleanup run did. Entries are distinct "created" entries of the
 * ledger; deleted + gone + failed + skipped + unsent = entries. */
typedef struct lg_cleanup_result {
    uint64_t entries;  /* distinct created entries in the ledger */
    uint64_t deleted;  /* 2xx in this run */
    uint64_t gone;     /* 404 or 410 in this run: already deleted */
    uint64_t failed;   /* failed in this run (incl. entries without a location/id
                        * and refused ones) */
    uint64_t refused;  /* of which refused: the URL points at another host than
                        * run.json's target, not allowed by allow_hosts */
    uint64_t skipped;  /* already deleted or gone in an earlier run: nothing sent */
    uint64_t unsent;   /* left for a later run because the run was stopped */
    uint64_t requests; /* HTTP requests sent (dry run: that would be sent) */
    uint64_t retries;  /* of which retries */
    uint64_t torn_lines; /* ledger lines cut short by a killed writer, ignored */
    int stopped;       /* 1 when stop_fd ended the run early */
    /* bulk (--by-tag) only */
    int bulk;          /* 1 for a bulk run */
    int bulk_skipped;  /* the same bulk request already succeeded after the last
                        * created line: nothing sent */
    int bulk_deleted;  /* the bulk request succeeded (2xx) */
    long bulk_status;  /* its last HTTP status (0: no response) */
    char bulk_request[512]; /* "METHOD URL" as sent */
    char bulk_error[384];   /* what went wrong, "" if nothing */
} lg_cleanup_result;

/* Fills opts with the defaults: DELETE {location}, 100 req/s, 8
 * connections, 3 retries, 5 s timeout, 100 ms backoff capped at 30 s, no
 * dry run, stdout for dry-run lines, no log, no progress, stop_fd -1. */
void lg_cleanup_opts_init(lg_cleanup_opts *opts);

/* Cleans up the run directory rd (opened with sq_rundir_open_existing):
 * reads RUN_DIR/run.json (run_id, target, load.tag_header) and streams
 * RUN_DIR/ledger.jsonl twice (once for the outcomes, once for the work),
 * sends the requests and appends one outcome line per entry (nothing when
 * dry_run). A request whose URL's scheme, host and port are not run.json's
 * target's, nor allowed by allow_hosts, is never sent: its entry fails with
 * "location points at another host (H); rerun with --allow-host H to delete
 * there" (and counts in res->refused). Returns 0 with res filled — failed
 * entries are not an error: look at res->failed — or a negative errno with a
 * message in err:
 *   -EINVAL   bad options or template ("--request: column N: ..."), a
 *             template or bulk request whose fixed host is not allowed, a bad
 *             allow_hosts value, or a bad run.json;
 *   -ENOENT   no run.json (not a run directory);
 *   -EBADMSG  a ledger line that cannot be read ("DIR/ledger.jsonl:LINE: ...");
 *   other     run-time failures (cannot read the ledger, cannot append an
 *             outcome line, libcurl set-up).
 * lg_cleanup_input_error() tells the first three apart. Calls
 * curl_global_init/cleanup, so do not run it while another thread is
 * initialising libcurl. */
int lg_cleanup_run(sq_rundir *rd, const lg_cleanup_opts *opts, lg_cleanup_result *res,
                   sq_err *err);

/* Checks a request template "METHOD URL-TEMPLATE" as --request (bulk = 0)
 * or --by-tag (bulk = 1, where only {tag} may appear) without a run
 * directory. Returns 0 or -EINVAL with "column N: what is wrong". */
int lg_cleanup_check_template(const char *spec, int bulk, sq_err *err);

/* Checks an allow_hosts value "HOST[:PORT]" (an IPv6 address in brackets).
 * Returns 0 or -EINVAL with what was expected. */
int lg_cleanup_check_allow_host(const char *spec, sq_err *err);

/* True when rc (from lg_cleanup_run) is an input error (exit code 2) rather
 * than a run-time failure (exit code 3). */
int lg_cleanup_input_error(int rc);

#endif
