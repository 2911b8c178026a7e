/* cleanup.c — lg_cleanup_run: reads run.json (the tag, the target, the tag
 * header), makes a first pass over ledger.jsonl to learn which entries are
 * already deleted or gone, then streams the rest into the sender
 * (cleanup_http.c) and appends one outcome line per entry as its verdict
 * comes; or, with --by-tag, one bulk request for the whole run. A request
 * whose URL points at another host than the target's (and not one of
 * --allow-host) is never sent: the entry fails (cleanup_host.c). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "loadgen/cleanup_int.h"

#define FAILURES_LOGGED 10
#define PROGRESS_EVERY_NS (100 * SQ_NS_PER_MS)
#define BAR_WIDTH 24

/* build_job: a request that must not be sent */
enum {
    JOB_REFUSED = 2, /* its URL points at a host not allowed */
    JOB_BAD_URL = 3, /* libcurl cannot take its URL apart */
};

/* Fills opts with the defaults (see cleanup.h). */
void lg_cleanup_opts_init(lg_cleanup_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->request = LG_CLEANUP_DEFAULT_REQUEST;
    opts->rate = 100;
    opts->connections = 8;
    opts->retries = 3;
    opts->timeout_ns = 5 * SQ_NS_PER_S;
    opts->backoff_ns = 100 * SQ_NS_PER_MS;
    opts->backoff_max_ns = 30 * SQ_NS_PER_S;
    opts->dry_run_out = stdout;
    opts->stop_fd = -1;
}

/* True for the codes lg_cleanup_run returns for bad input (exit 2). */
int lg_cleanup_input_error(int rc)
{
    return rc == -EINVAL || rc == -ENOENT || rc == -EBADMSG || rc == -ENOTDIR;
}

/* One cleanup run's state. */
typedef struct run_ctx {
    const lg_cleanup_opts *o;
    sq_rundir *rd;
    lg_cleanup_result *res;
    lg_tpl tpl;
    char tag[128];
    char base[512];     /* scheme://host:port of run.json's target, "" if none */
    sq_err base_err;    /* why base is "" */
    lg_host_policy hosts; /* where requests may go: the target, --allow-host */
    lg_allow_host *allow; /* owned: the parsed --allow-host values */
    const char *what;   /* what a refused URL came from: "location" or "the URL" */
    char tag_header[128];
    char ledger[PATH_MAX];
    lg_cledger_scan scan;
    lg_cledger_reader reader;
    uint64_t todo;     /* entries to attempt in this run */
    uint64_t finished; /* of which with a verdict */
    int64_t drawn_ns;  /* when the progress bar was last drawn, 0 never */
    int bulk_given;    /* the bulk job went to the sender */
} run_ctx;

/* Reads run_id, target and load.tag_header from DIR/run.json into c.
 * Returns 0, -ENOENT (no run.json) or -EINVAL, with a message. */
static int read_run_json(run_ctx *c, sq_err *err)
{
    const char *dir = sq_rundir_path(c->rd);
    json_t *run = NULL, *v;
    int rc = sq_json_load_file(dir, "run.json", &run, err);
    if (rc == -ENOENT)
        return sq_errf(err, -ENOENT, "'%s' is not a run directory: it has no run.json", dir);
    if (rc < 0)
        return -EINVAL; /* bad JSON, or unreadable: the message says which */
    if (!json_is_object(run)) {
        rc = sq_errf(err, -EINVAL, "%s/run.json: expected a JSON object", dir);
        goto out;
    }
    v = json_object_get(run, "run_id");
    if (!json_is_string(v) || !*json_string_value(v) ||
        strlen(json_string_value(v)) >= sizeof c->tag) {
        rc = sq_errf(err, -EINVAL, "%s/run.json: expected \"run_id\" (the run's tag, a string "
                                   "of 1 to %zu characters)",
                     dir, sizeof c->tag - 1);
        goto out;
    }
    snprintf(c->tag, sizeof c->tag, "%s", json_string_value(v));
    for (const char *p = c->tag; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f) {
            rc = sq_errf(err, -EINVAL, "%s/run.json: \"run_id\" contains a control character "
                                       "(it is sent in a header)",
                         dir);
            goto out;
        }
    /* relative URLs are resolved against the target (parse_template reports a
     * bad one), and every request must go to its origin unless allowed */
    v = json_object_get(run, "target");
    if (json_is_string(v) && (lg_url_base(json_string_value(v), c->base, sizeof c->base,
                                          &c->base_err) < 0 ||
                              lg_origin_parse(json_string_value(v), &c->hosts.target,
                                              &c->base_err) < 0))
        c->base[0] = '\0';
    else if (!json_is_string(v))
        snprintf(c->base_err.msg, sizeof c->base_err.msg, "no \"target\"");
    c->hosts.have_target = c->base[0] != '\0';
    c->hosts.no_target = c->base_err.msg;
    v = json_object_get(json_object_get(run, "load"), "tag_header");
    if (json_is_string(v) && *json_string_value(v) &&
        strlen(json_string_value(v)) < sizeof c->tag_header &&
        !strpbrk(json_string_value(v), ": \t\r\n"))
        snprintf(c->tag_header, sizeof c->tag_header, "%s", json_string_value(v));
    else
        snprintf(c->tag_header, sizeof c->tag_header, "%s", LG_CLEANUP_DEFAULT_TAG_HEADER);
    if (c->o->tag_header)
        snprintf(c->tag_header, sizeof c->tag_header, "%s", c->o->tag_header);
    rc = 0;
out:
    json_decref(run);
    return rc;
}

/* Parses spec into tpl; for a bulk template, refuses {location} and {id}.
 * Returns 0 (tpl then owns its URL) or -EINVAL with "column N: ...". */
static int parse_spec(const char *spec, int bulk, lg_tpl *tpl, sq_err *err)
{
    int rc = lg_tpl_parse(spec, tpl, err);
    if (rc < 0 || !bulk || !(tpl->uses & (LG_TPL_LOCATION | LG_TPL_ID)))
        return rc;
    const char *loc = strstr(spec, "{location}"), *id = strstr(spec, "{id}");
    const char *p = !loc || (id && id < loc) ? id : loc;
    lg_tpl_free(tpl);
    return sq_errf(err, -EINVAL, "column %zu: a bulk request can only use {tag} (one "
                                 "request for the whole run); use --request for %s",
                   (size_t)(p - spec) + 1, p == id ? "{id}" : "{location}");
}

/* Checks an --allow-host value (see cleanup.h). */
int lg_cleanup_check_allow_host(const char *spec, sq_err *err)
{
    lg_allow_host a;
    return lg_allow_host_parse(spec, &a, err);
}

/* Parses opts->allow_hosts into c->hosts. Returns 0, -EINVAL
 * ("--allow-host: ...") or -ENOMEM. */
static int parse_allow_hosts(run_ctx *c, sq_err *err)
{
    if (c->o->n_allow_hosts == 0)
        return 0;
    if (!(c->allow = calloc(c->o->n_allow_hosts, sizeof *c->allow)))
        return sq_errf(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < c->o->n_allow_hosts; i++) {
        int rc = lg_allow_host_parse(c->o->allow_hosts[i], &c->allow[i], err);
        if (rc < 0)
            return sq_err_prefix(err, rc, "--allow-host: ");
    }
    c->hosts.allow = c->allow;
    c->hosts.n_allow = c->o->n_allow_hosts;
    return 0;
}

/* Refuses, before anything is sent, a template whose scheme and host are
 * fixed (no placeholder before the path) and not allowed: every request
 * would be refused. Returns 0 or -EINVAL with why. */
static int check_fixed_host(run_ctx *c, sq_err *err)
{
    char origin[LG_HOST_MAX + 32], refusal[SQ_ERR_MAX];
    const char *url = c->tpl.url;
    if (c->tpl.relative || strncmp(url, "{location}", 10) == 0)
        return 0;
    const char *auth = strstr(url, "://") + 3; /* lg_tpl_parse checked the scheme */
    size_t len = (size_t)(auth - url) + strcspn(auth, "/?#");
    if (memchr(url, '{', len))
        return 0; /* checked per request */
    if (len + 2 > sizeof origin)
        return sq_errf(err, -EINVAL, "the host is too long");
    memcpy(origin, url, len);
    memcpy(origin + len, "/", 2);
    int rc = lg_host_check(&c->hosts, origin, "the URL", refusal, sizeof refusal, err);
    if (rc == 0)
        return sq_errf(err, -EINVAL, "%s", refusal);
    return rc < 0 ? rc : 0;
}

/* Checks a template without a run directory (see cleanup.h). */
int lg_cleanup_check_template(const char *spec, int bulk, sq_err *err)
{
    lg_tpl tpl;
    int rc = parse_spec(spec, bulk, &tpl, err);
    if (rc == 0)
        lg_tpl_free(&tpl);
    return rc;
}

/* Parses the template spec given as --FLAG into c->tpl and checks it
 * against what the run can supply. Returns 0 or -EINVAL ("--FLAG: ..."). */
static int parse_template(run_ctx *c, const char *flag, const char *spec, sq_err *err)
{
    int rc = parse_spec(spec, c->o->by_tag != NULL, &c->tpl, err);
    if (rc < 0)
        return sq_err_prefix(err, rc, "--%s: '%s': ", flag, spec);
    if (c->tpl.relative && !c->base[0])
        return sq_errf(err, -EINVAL, "--%s: '%s': the URL is relative but %s/run.json has no "
                                     "\"target\" to resolve it against (%.200s); give an "
                                     "absolute URL",
                       flag, spec, sq_rundir_path(c->rd), c->base_err.msg);
    c->what = strncmp(c->tpl.url, "{location}", 10) == 0 ? "location" : "the URL";
    if ((rc = check_fixed_host(c, err)) < 0)
        return sq_err_prefix(err, rc, "--%s: '%s': ", flag, spec);
    return 0;
}

/* Redraws the progress bar (at most every PROGRESS_EVERY_NS unless final;
 * a no-op unless asked for). */
static void draw_progress(run_ctx *c, int final)
{
    const lg_cleanup_result *r = c->res;
    int64_t now = sq_mono_ns();
    char bar[BAR_WIDTH + 1];
    if (!c->o->progress || c->todo == 0 || (!final && c->drawn_ns &&
                                            now - c->drawn_ns < PROGRESS_EVERY_NS))
        return;
    size_t fill = (size_t)(c->finished * BAR_WIDTH / c->todo);
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr,
            "\r\033[Kcleanup [%s] %3.0f%% %llu/%llu  deleted %llu  gone %llu  failed %llu  "
            "retries %llu",
            bar, 100.0 * (double)c->finished / (double)c->todo,
            (unsigned long long)c->finished, (unsigned long long)c->todo,
            (unsigned long long)r->deleted, (unsigned long long)r->gone,
            (unsigned long long)r->failed, (unsigned long long)r->retries);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
    c->drawn_ns = now;
}

/* Appends the outcome line of an entry (or, entry NULL, of the bulk
 * request) to the ledger. request may be NULL (nothing could be sent).
 * Returns 0 or a negative errno with a message. */
static int append_outcome(run_ctx *c, const char *entry, enum lg_outcome outcome, long status,
                          unsigned attempts, const char *request, const char *error,
                          sq_err *err)
{
    json_t *line = json_pack("{s:s}", "type", entry ? "cleanup" : "cleanup_bulk");
    int rc = -ENOMEM;
    if (!line)
        goto fail;
    if ((entry && json_object_set_new(line, "entry", sq_json_text(entry))) ||
        json_object_set_new(line, "outcome", json_string(lg_outcome_name(outcome))) ||
        json_object_set_new(line, "status", json_integer(status)) ||
        json_object_set_new(line, "attempts", json_integer(attempts)) ||
        json_object_set_new(line, "request", request ? sq_json_text(request) : json_null()) ||
        (error && *error && json_object_set_new(line, "error", sq_json_text(error))) ||
        json_object_set_new(line, "utc_ns", json_integer(sq_utc_ns())))
        goto fail;
    rc = sq_rundir_append(c->rd, LG_CLEANUP_LEDGER, line, err);
    json_decref(line);
    return rc;
fail:
    json_decref(line);
    return sq_errf(err, rc, "out of memory writing an outcome line");
}

/* Counts a failed entry and tells the log about the first few. */
static void note_failure(run_ctx *c, const char *entry, const char *request, const char *why)
{
    if (c->res->failed++ >= FAILURES_LOGGED || !c->o->log)
        return;
    if (c->o->progress && c->drawn_ns && c->o->log == stderr)
        fputs("\r\033[K", stderr); /* the bar is drawn again on the next tick */
    fprintf(c->o->log, "cleanup: entry %s: %s%s%s\n", entry, request ? request : "",
            request ? ": " : "", why);
}

/* Builds the job for a created record: "METHOD URL" from the template.
 * Returns 1 and *job (owned by the caller), 0 when the request cannot be
 * built (why in err), JOB_REFUSED or JOB_BAD_URL with *job when it must not
 * be sent (why in err), or -ENOMEM. */
static int build_job(run_ctx *c, const lg_cledger_rec *rec, lg_cjob **job, sq_err *err)
{
    lg_tpl_vars vars = {.location = rec->location, .id = rec->id, .tag = c->tag,
                        .base = c->base[0] ? c->base : NULL};
    char *url = NULL;
    int rc = lg_tpl_expand(&c->tpl, &vars, &url, err);
    *job = NULL;
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        size_t n = strlen(err->msg);
        if (rec->missing)
            snprintf(err->msg + n, sizeof err->msg - n, " (the ledger says: %s)", rec->missing);
        else if (!rec->location && rec->id && (c->tpl.uses & LG_TPL_LOCATION))
            snprintf(err->msg + n, sizeof err->msg - n,
                     " (the ledger has its id, %.64s: use --request 'DELETE /PATH/{id}')",
                     rec->id);
        return 0;
    }
    lg_cjob *j = calloc(1, sizeof *j);
    size_t mlen = strlen(c->tpl.method), len = mlen + 1 + strlen(url) + 1;
    if (!j || !(j->request = malloc(len)) || (rec->entry && !(j->entry = strdup(rec->entry)))) {
        lg_cjob_free(j);
        free(url);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    snprintf(j->request, len, "%s %s", c->tpl.method, url);
    j->method_len = mlen;
    *job = j;
    rc = lg_host_check(&c->hosts, url, c->what, err->msg, sizeof err->msg, err);
    free(url);
    if (rc == -ENOMEM) {
        lg_cjob_free(j);
        *job = NULL;
        return rc;
    }
    return rc == 1 ? 1 : rc == 0 ? JOB_REFUSED : JOB_BAD_URL;
}

/* lg_sender.next: the next entry still to delete. Entries whose request
 * cannot be built (no location or id) or is refused (another host) are
 * recorded as failed on the way; a dry run lists the refused ones. */
static int next_job(void *ctx, lg_cjob **job, sq_err *err)
{
    run_ctx *c = ctx;
    lg_cledger_rec rec;
    int rc;
    while ((rc = lg_cledger_next_todo(&c->reader, c->scan.ix, &rec, err)) == 1) {
        sq_err why = {{0}};
        lg_cjob *refused = NULL;
        rc = build_job(c, &rec, job, &why);
        if (rc == JOB_REFUSED || rc == JOB_BAD_URL) {
            refused = *job;
            *job = NULL;
            c->res->refused += rc == JOB_REFUSED;
            if (c->o->dry_run)
                fprintf(c->o->dry_run_out, "refused %s: %s\n", refused->request, why.msg);
        } else if (rc != 0) {
            lg_cledger_rec_clear(&rec);
            if (rc < 0)
                return sq_errf(err, rc, "%s", why.msg);
            return 1;
        }
        const char *request = refused ? refused->request : NULL;
        note_failure(c, rec.entry, request, why.msg);
        c->finished++;
        rc = c->o->dry_run ? 0
                           : append_outcome(c, rec.entry, LG_OUTCOME_FAILED, 0, 0, request,
                                            why.msg, err);
        lg_cjob_free(refused);
        lg_cledger_rec_clear(&rec);
        if (rc < 0)
            return rc;
        draw_progress(c, 0);
    }
    return rc;
}

/* lg_sender.done: records an entry's verdict. */
static int job_done(void *ctx, lg_cjob *job, enum lg_verdict v, sq_err *err)
{
    run_ctx *c = ctx;
    enum lg_outcome out = v == LG_VERDICT_DELETED ? LG_OUTCOME_DELETED
                          : v == LG_VERDICT_GONE  ? LG_OUTCOME_GONE
                                                  : LG_OUTCOME_FAILED;
    if (!job->entry) {
        c->res->bulk_status = job->status;
        c->res->bulk_deleted = out == LG_OUTCOME_DELETED;
        snprintf(c->res->bulk_error, sizeof c->res->bulk_error, "%s", job->error);
    } else if (out == LG_OUTCOME_DELETED) {
        c->res->deleted++;
    } else if (out == LG_OUTCOME_GONE) {
        c->res->gone++;
    } else {
        note_failure(c, job->entry, job->request, job->error);
    }
    c->finished++;
    return append_outcome(c, job->entry, out, job->status, job->attempts, job->request,
                          out == LG_OUTCOME_FAILED ? job->error : NULL, err);
}

/* lg_sender.tick: redraws the progress bar now and then. */
static void tick(void *ctx)
{
    draw_progress(ctx, 0);
}

/* lg_sender.next for a bulk run: the one job, once. */
static int next_bulk(void *ctx, lg_cjob **job, sq_err *err)
{
    run_ctx *c = ctx;
    lg_cledger_rec none = {0};
    if (c->bulk_given)
        return 0;
    c->bulk_given = 1;
    int rc = build_job(c, &none, job, err);
    if (rc == 1 || rc < 0)
        return rc;
    lg_cjob_free(*job); /* refused, or a bad URL */
    *job = NULL;
    return sq_err_prefix(err, -EINVAL, "--by-tag: ");
}

/* Prints what a dry run would send. Returns 0 or a negative errno. */
static int dry_run(run_ctx *c, sq_err *err)
{
    lg_cjob *job = NULL;
    int rc;
    while ((rc = c->o->by_tag ? next_bulk(c, &job, err) : next_job(c, &job, err)) == 1) {
        fprintf(c->o->dry_run_out, "%s\n", job->request);
        c->res->requests++;
        lg_cjob_free(job);
    }
    return rc;
}

/* Sends the jobs through the sender with curl set up around it. */
static int send_all(run_ctx *c, int bulk, sq_err *err)
{
    lg_sender s = {.opts = c->o, .tag_header = c->tag_header, .tag = c->tag, .bulk = bulk,
                   .next = bulk ? next_bulk : next_job, .done = job_done,
                   .tick = bulk ? NULL : tick, .ctx = c};
    int rc = lg_sender_run(&s, &c->res->stopped, &c->res->requests, &c->res->retries, err);
    if (!bulk)
        draw_progress(c, 1);
    if (!c->o->dry_run) {
        sq_err serr;
        if (sq_rundir_sync(c->rd, LG_CLEANUP_LEDGER, &serr) < 0 && rc == 0)
            rc = sq_errf(err, -EIO, "%s", serr.msg);
    }
    return rc;
}

/* The bulk form: one request for the run, unless the same one already
 * succeeded after the last created line. */
static int run_bulk(run_ctx *c, sq_err *err)
{
    lg_cledger_rec none = {0};
    lg_cjob *job = NULL;
    int rc = build_job(c, &none, &job, err);
    if (rc < 0)
        return rc;
    if (rc != 1) {
        lg_cjob_free(job); /* NULL when it cannot be built */
        return sq_err_prefix(err, -EINVAL, "--by-tag: ");
    }
    snprintf(c->res->bulk_request, sizeof c->res->bulk_request, "%s", job->request);
    lg_cjob_free(job);
    if ((rc = lg_cledger_scan_file(c->ledger, c->res->bulk_request, c->o->log, &c->scan,
                                  err)) < 0)
        return rc;
    c->res->entries = c->scan.entries;
    c->res->torn_lines = c->scan.torn;
    if (c->scan.bulk_done_line && c->scan.bulk_done_line > c->scan.last_created_line) {
        c->res->bulk_skipped = 1;
        return 0;
    }
    c->todo = 1;
    if (c->o->dry_run)
        return dry_run(c, err);
    return send_all(c, 1, err);
}

/* The per-entry form: first pass, then the entries still to delete. */
static int run_entries(run_ctx *c, sq_err *err)
{
    int rc = lg_cledger_scan_file(c->ledger, NULL, c->o->log, &c->scan, err);
    if (rc < 0)
        return rc;
    c->res->entries = c->scan.entries;
    c->res->skipped = c->scan.done;
    c->res->torn_lines = c->scan.torn;
    c->todo = c->scan.entries - c->scan.done;
    if (c->todo == 0)
        return 0;
    if ((rc = lg_cledger_reader_open(&c->reader, c->ledger, c->scan.bytes, NULL, err)) < 0)
        return rc == -ENOENT ? sq_errf(err, -EIO, "%s disappeared while it was read",
                                       c->ledger)
                             : rc;
    rc = c->o->dry_run ? dry_run(c, err) : send_all(c, 0, err);
    lg_cledger_reader_close(&c->reader);
    if (c->res->stopped)
        c->res->unsent = c->todo - c->finished;
    if (c->o->log && c->res->failed > FAILURES_LOGGED)
        fprintf(c->o->log, "cleanup: ... and %llu more failed entries (their outcome lines "
                           "are in %s)\n",
                (unsigned long long)(c->res->failed - FAILURES_LOGGED), c->ledger);
    return rc;
}

/* Cleans up the run directory rd (see cleanup.h). */
int lg_cleanup_run(sq_rundir *rd, const lg_cleanup_opts *opts, lg_cleanup_result *res,
                   sq_err *err)
{
    run_ctx c;
    int rc;
    memset(res, 0, sizeof *res);
    memset(&c, 0, sizeof c);
    c.o = opts;
    c.rd = rd;
    c.res = res;
    res->bulk = opts->by_tag != NULL;
    if (opts->connections < 1 || opts->rate < 0 || opts->timeout_ns <= 0)
        return sq_errf(err, -EINVAL, "cleanup needs at least 1 connection, a rate >= 0 and "
                                     "a positive timeout");
    if ((size_t)snprintf(c.ledger, sizeof c.ledger, "%s/%s", sq_rundir_path(rd),
                         LG_CLEANUP_LEDGER) >= sizeof c.ledger)
        return sq_errf(err, -EINVAL, "the run directory path is too long");
    if ((rc = read_run_json(&c, err)) < 0)
        return rc;
    /* libcurl's URL parser checks the hosts, its transfers send */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sq_errf(err, -EIO, "libcurl failed to initialise");
    rc = parse_allow_hosts(&c, err);
    if (rc == 0 && opts->by_tag)
        rc = parse_template(&c, "by-tag", opts->by_tag, err);
    else if (rc == 0)
        rc = parse_template(&c, "request", opts->request ? opts->request
                                                          : LG_CLEANUP_DEFAULT_REQUEST,
                            err);
    if (rc == 0)
        rc = opts->by_tag ? run_bulk(&c, err) : run_entries(&c, err);
    lg_cledger_scan_free(&c.scan);
    lg_tpl_free(&c.tpl);
    free(c.allow);
    curl_global_cleanup();
    return rc;
}
