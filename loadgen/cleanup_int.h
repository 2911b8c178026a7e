/* cleanup_int.h — the pieces of `squall cleanup` (private to loadgen/):
 * request templates (cleanup_template.c), the ledger reader and the index of
 * entries already done (cleanup_ledger.c), the check of which hosts requests
 * may go to (cleanup_host.c), and the HTTP sender with its retry rules
 * (cleanup_http.c). cleanup.c ties them together. */
#ifndef LG_CLEANUP_INT_H
#define LG_CLEANUP_INT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/core.h"
#include "loadgen/cleanup.h"

/* ---- cleanup_template.c: "METHOD URL-TEMPLATE" ------------------------- */

enum {
    LG_TPL_LOCATION = 1, /* uses {location} */
    LG_TPL_ID = 2,       /* uses {id} */
    LG_TPL_TAG = 4,      /* uses {tag} */
};

#define LG_TPL_METHOD_MAX 32

/* A parsed request template. */
typedef struct lg_tpl {
    char method[LG_TPL_METHOD_MAX];
    char *url;     /* owned: the URL template as given */
    unsigned uses; /* LG_TPL_* */
    int relative;  /* the URL starts with '/': resolved against run.json's target */
} lg_tpl;

/* Parses spec "METHOD URL-TEMPLATE" into tpl (which then owns a copy of the
 * URL; free with lg_tpl_free). The method is upper-case letters, '-' or '_';
 * the URL starts with '/', http://, https:// or {location}, has no spaces,
 * and uses only {location}, {id} and {tag}. Returns 0 or -EINVAL with
 * "column N: what is wrong" (N counts bytes of spec from 1). */
int lg_tpl_parse(const char *spec, lg_tpl *tpl, sq_err *err);

/* Frees what tpl owns (a zeroed or freed tpl is fine). */
void lg_tpl_free(lg_tpl *tpl);

/* The values of one expansion; NULL when unknown. */
typedef struct lg_tpl_vars {
    const char *location; /* inserted as is */
    const char *id;       /* percent-encoded */
    const char *tag;      /* percent-encoded */
    const char *base;     /* "scheme://host[:port]" for URLs starting with '/' */
} lg_tpl_vars;

/* Expands tpl's URL with v into a new absolute URL owned by the caller
 * (*out, free()). Returns 0, -ENOENT when a placeholder's value is missing
 * or a relative URL has no base (err says which: "no id recorded", ...),
 * -EINVAL when the result is not an http(s) URL, or -ENOMEM. */
int lg_tpl_expand(const lg_tpl *tpl, const lg_tpl_vars *v, char **out, sq_err *err);

/* Writes the "scheme://host[:port]" part of an http(s) URL into buf.
 * Returns 0, or -EINVAL when url is not an absolute http(s) URL. */
int lg_url_base(const char *url, char *buf, size_t len, sq_err *err);

/* ---- cleanup_host.c: which hosts requests may go to --------------------- */

#define LG_HOST_MAX 300

/* Where a URL sends its request, normalised for comparison. */
typedef struct lg_origin {
    char scheme[8];          /* "http" or "https" */
    char host[LG_HOST_MAX];  /* lower case; an IPv6 literal canonical, in brackets,
                              * with its zone as "%25zone" */
    unsigned port;           /* explicit, or the scheme's default (80, 443) */
} lg_origin;

/* Takes an absolute http(s) URL apart as libcurl does (the host libcurl
 * would connect to: userinfo skipped, percent-encoding and short IPv4 forms
 * resolved). Returns 0, or -EINVAL with why (not a URL libcurl accepts, not
 * http(s), a host too long), or -ENOMEM. */
int lg_origin_parse(const char *url, lg_origin *o, sq_err *err);

/* True when a and b have the same scheme, host and port. */
int lg_origin_same(const lg_origin *a, const lg_origin *b);

/* Writes "host:port" of o into buf (what --allow-host takes). */
void lg_origin_hostport(const lg_origin *o, char *buf, size_t len);

/* An --allow-host value: a host and port requests may go to besides the
 * target, with either scheme. */
typedef struct lg_allow_host {
    char host[LG_HOST_MAX]; /* normalised as lg_origin's */
    unsigned port;          /* 0: the URL scheme's default (80 or 443) */
} lg_allow_host;

/* Parses HOST[:PORT] (a name, an IPv4 address, an IPv6 address in brackets
 * — or bare, without a port) into a. Returns 0 or -EINVAL with what was
 * expected. */
int lg_allow_host_parse(const char *spec, lg_allow_host *a, sq_err *err);

/* True when a allows o's host and port. */
int lg_allow_host_match(const lg_allow_host *a, const lg_origin *o);

/* Where cleanup requests may go: run.json's target and the allowed hosts. */
typedef struct lg_host_policy {
    lg_origin target;
    int have_target;            /* 0: run.json has no usable target */
    const char *no_target;      /* why not, for messages */
    const lg_allow_host *allow; /* --allow-host */
    size_t n_allow;
} lg_host_policy;

/* Checks a request URL against p. Returns 1 when it may be sent; 0 when it
 * is refused, with "WHAT points at another host (H); rerun with
 * --allow-host H to delete there" in refusal[len] (what: "location" or "the
 * URL"; H is "host:port"; "WHAT uses https, not the target's http (H); ..."
 * when only the scheme differs, "WHAT points at H and run.json has no target
 * to compare it with (p->no_target); ..." without a target); -EINVAL or
 * -ENOMEM when the URL cannot be taken apart (err says why). */
int lg_host_check(const lg_host_policy *p, const char *url, const char *what, char *refusal,
                  size_t len, sq_err *err);

/* ---- cleanup_ledger.c: reading ledger.jsonl ---------------------------- */

enum lg_cledger_type {
    LG_CLEDGER_OTHER = 0, /* an unknown type or a blank line: skipped */
    LG_CLEDGER_CREATED,
    LG_CLEDGER_CLEANUP,
    LG_CLEDGER_BULK,
};

enum lg_outcome {
    LG_OUTCOME_NONE = 0, /* unknown outcome: not done */
    LG_OUTCOME_DELETED,
    LG_OUTCOME_GONE,
    LG_OUTCOME_FAILED,
};

/* The name of an outcome as written in the ledger ("deleted", ...). */
const char *lg_outcome_name(enum lg_outcome o);

/* One ledger line. The strings point into doc (owned by the record; release
 * with lg_cledger_rec_clear); NULL when the key is absent or null. */
typedef struct lg_cledger_rec {
    enum lg_cledger_type type;
    const char *entry;    /* created, cleanup */
    const char *location; /* created */
    const char *id;       /* created (an integer id is formatted into id_buf) */
    const char *missing;  /* created: why the id could not be found */
    const char *method, *url; /* created: the request that created it */
    enum lg_outcome outcome;  /* cleanup, cleanup_bulk */
    const char *request;      /* cleanup_bulk */
    json_t *doc;
    char id_buf[24];
} lg_cledger_rec;

/* Parses one line (without its '\n'; need not be NUL-terminated) into rec.
 * Returns 0 (rec filled; blank lines and unknown types are LG_CLEDGER_OTHER),
 * -ENODATA when the line is the start of a JSON object cut short (a writer
 * killed mid-line), or -EBADMSG with what was expected in err. rec is
 * cleared first and always safe to pass to lg_cledger_rec_clear. */
int lg_cledger_parse(const char *line, size_t len, lg_cledger_rec *rec, sq_err *err);

/* Releases rec's document and zeroes it. */
void lg_cledger_rec_clear(lg_cledger_rec *rec);

/* A set of entry names with a few flag bits each, for millions of entries:
 * open addressing over a string arena; memory is proportional to the
 * number and length of the entry names only. */
typedef struct lg_cledger_index lg_cledger_index;

enum {
    LG_IX_CREATED = 1, /* a created line names it */
    LG_IX_DONE = 2,    /* its latest outcome is deleted or gone */
    LG_IX_QUEUED = 4,  /* taken for this run (duplicates are sent once) */
};

/* A new empty index owned by the caller (lg_cledger_index_free), or NULL. */
lg_cledger_index *lg_cledger_index_new(void);

/* Frees ix (NULL is fine). */
void lg_cledger_index_free(lg_cledger_index *ix);

/* Returns a pointer to entry's flags (owned by ix, valid until the next
 * insertion), inserting it with flags 0 when add is set; NULL when absent
 * (add == 0) or out of memory (add == 1). */
unsigned *lg_cledger_index_get(lg_cledger_index *ix, const char *entry, int add);

/* Number of entries in ix. */
size_t lg_cledger_index_size(const lg_cledger_index *ix);

/* A streaming reader of ledger.jsonl: one line in memory at a time. */
typedef struct lg_cledger_reader {
    FILE *f;
    const char *path;  /* for messages (borrowed) */
    char *line;        /* getline buffer */
    size_t cap;
    uint64_t lineno;   /* of the line last read */
    int64_t pos;       /* bytes consumed */
    int64_t limit;     /* stop after this many bytes; -1 = the whole file */
    FILE *warn;        /* torn lines are reported here; NULL = silent */
    uint64_t torn;     /* torn lines skipped */
} lg_cledger_reader;

/* Opens path for reading up to limit bytes (-1: all). Returns 0, -ENOENT
 * when the file does not exist, or another negative errno with a message. */
int lg_cledger_reader_open(lg_cledger_reader *r, const char *path, int64_t limit, FILE *warn,
                          sq_err *err);

/* Closes r (a zeroed reader is fine). */
void lg_cledger_reader_close(lg_cledger_reader *r);

/* Reads the next record (not LG_CLEDGER_OTHER: those are skipped, and so are
 * torn lines, each reported to r->warn as "PATH:LINE: warning: ..."). A
 * last line without '\n' is used when it is whole and skipped as torn when
 * not. Returns 1 with rec filled, 0 at the end, -EBADMSG with
 * "PATH:LINE: what was expected", or -EIO. */
int lg_cledger_reader_next(lg_cledger_reader *r, lg_cledger_rec *rec, sq_err *err);

/* What the first pass over the ledger found. */
typedef struct lg_cledger_scan {
    lg_cledger_index *ix;        /* owned: every created or cleaned-up entry */
    uint64_t entries;           /* distinct created entries */
    uint64_t done;              /* of which done (latest outcome deleted or gone) */
    uint64_t last_created_line; /* line number of the last created line */
    uint64_t bulk_done_line;    /* line of the last successful cleanup_bulk with
                                 * the same request as asked (0: none) */
    uint64_t torn;              /* torn lines skipped */
    int64_t bytes;              /* bytes read: the second pass stops there */
} lg_cledger_scan;

/* First pass over the ledger at path: indexes every entry with its latest
 * outcome and notes the last successful bulk request equal to bulk_request
 * (may be NULL). Fills out (free with lg_cledger_scan_free). A missing
 * ledger is an empty one. Returns 0 or a negative errno as
 * lg_cledger_reader_next (-EBADMSG for a bad line, -ENOMEM, -EIO). */
int lg_cledger_scan_file(const char *path, const char *bulk_request, FILE *warn,
                        lg_cledger_scan *out, sq_err *err);

/* Frees what scan owns. */
void lg_cledger_scan_free(lg_cledger_scan *scan);

/* Second pass: the next created record whose entry is not done and not yet
 * taken (it is then marked taken). Returns 1, 0 at the end, or a negative
 * errno as lg_cledger_reader_next. */
int lg_cledger_next_todo(lg_cledger_reader *r, lg_cledger_index *ix, lg_cledger_rec *rec,
                        sq_err *err);

/* ---- cleanup_http.c: sending with retries -------------------------------- */

/* What a response (or its absence) means for an entry. */
enum lg_verdict {
    LG_VERDICT_DELETED = 0, /* 2xx */
    LG_VERDICT_GONE,        /* 404, 410 (per entry only) */
    LG_VERDICT_RETRY,       /* 408, 429, 5xx, or a transient transport error */
    LG_VERDICT_FAILED,      /* anything else */
};

/* Classifies an HTTP status (0: no response, transient says whether the
 * transport error may pass). bulk: 404/410 mean the endpoint is missing,
 * so they fail. */
enum lg_verdict lg_cleanup_classify(long status, int transient, int bulk);

/* How long a Retry-After header value v[0..n) asks to wait, in ns, at UTC
 * second now_s: delay-seconds or an HTTP date (a past date is 0), capped at
 * a day; -1 when the value is neither. */
int64_t lg_cleanup_retry_after(const char *v, size_t n, int64_t now_s);

/* The delay before retry number `attempt` (1 = the first retry): base
 * doubled per earlier retry, or Retry-After when it is longer, capped at
 * max_ns. retry_after_ns < 0 means none was given. */
int64_t lg_cleanup_backoff(unsigned attempt, int64_t base_ns, int64_t retry_after_ns,
                           int64_t max_ns);

/* One request to send (and resend). */
typedef struct lg_cjob {
    char *entry;      /* owned; NULL for a bulk request */
    char *request;    /* owned: "METHOD URL" */
    size_t method_len; /* request[0..method_len) is the method */
    unsigned attempts;
    int64_t ready_ns;  /* monotonic time it may be retried */
    long status;       /* the last HTTP status, 0 without a response */
    char error[384];   /* what went wrong, "" if nothing */
    void *easy;        /* CURL *, while in flight */
    char errbuf[256];  /* CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE) */
    char body[160];    /* the start of the response body, for messages */
    size_t body_len;
    int64_t retry_after_ns; /* from the last response, -1 = none */
    struct lg_cjob *next;
} lg_cjob;

/* Frees a job and what it owns (NULL is fine). */
void lg_cjob_free(lg_cjob *job);

/* How to send, and where jobs come from and go. */
typedef struct lg_sender {
    const lg_cleanup_opts *opts;
    const char *tag_header, *tag; /* sent on every request */
    int bulk;                     /* 404/410 fail */
    /* Gives the next job (*job then belongs to the sender): 1, 0 when there
     * is none left, or a negative errno to stop with err set. */
    int (*next)(void *ctx, lg_cjob **job, sq_err *err);
    /* A job has its final verdict (never RETRY); the job stays the
     * sender's. Returns 0, or a negative errno to stop with err set. */
    int (*done)(void *ctx, lg_cjob *job, enum lg_verdict v, sq_err *err);
    /* Called after every round of events (progress); may be NULL. */
    void (*tick)(void *ctx);
    void *ctx;
} lg_sender;

/* Sends every job from s->next over up to opts->connections concurrent
 * transfers (libcurl multi), no faster than opts->rate, retrying as
 * lg_cleanup_classify says, until the jobs run out or opts->stop_fd becomes
 * readable (*stopped = 1; jobs in flight are abandoned without a verdict).
 * Adds each request sent to *requests and each retry to *retries as it
 * goes (so a progress bar can show them). Returns 0 or the
 * first negative errno from a callback or libcurl. */
int lg_sender_run(const lg_sender *s, int *stopped, uint64_t *requests, uint64_t *retries,
                  sq_err *err);

#endif
