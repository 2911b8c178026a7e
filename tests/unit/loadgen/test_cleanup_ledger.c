/* test_cleanup_ledger.c — the cleanup ledger reader: line parsing (created,
 * cleanup, cleanup_bulk, unknown types, torn lines, bad lines), the streaming
 * reader's FILE:LINE errors and torn-last-line warnings, the resume rule (the
 * latest outcome of an entry wins), the second pass, the entry index at
 * scale, and lg_cleanup_run's dry run and input errors (no sockets). Works in
 * a mkdtemp directory under /tmp that is removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/cleanup_int.h"

struct fixture {
    char root[64];
    char path[128]; /* root/ledger.jsonl */
};

/* Removes one entry for nftw. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->root, sizeof fx->root, "/tmp/squall-test-ledger-XXXXXX");
    if (!mkdtemp(fx->root)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/ledger.jsonl", fx->root);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* Writes text as the whole file dir/name. */
static void spit(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Parses line and returns the code; rec is cleared afterwards unless kept. */
static int parse(const char *line, lg_cledger_rec *rec, sq_err *err)
{
    return lg_cledger_parse(line, strlen(line), rec, err);
}

static void test_parse_created(void **state)
{
    (void)state;
    lg_cledger_rec rec;
    sq_err err = {{0}};
    assert_int_equal(parse("{\"type\":\"created\",\"entry\":\"0-1-17\",\"run_id\":\"T\",\"clone\":2,"
                           "\"method\":\"POST\",\"url\":\"http://h/items\",\"status\":201,"
                           "\"location\":\"http://h/items/17\",\"id\":\"17\",\"utc_ns\":1}",
                           &rec, &err),
                     0);
    assert_int_equal(rec.type, LG_CLEDGER_CREATED);
    assert_string_equal(rec.entry, "0-1-17");
    assert_string_equal(rec.location, "http://h/items/17");
    assert_string_equal(rec.id, "17");
    assert_string_equal(rec.method, "POST");
    assert_string_equal(rec.url, "http://h/items");
    assert_null(rec.missing);
    lg_cledger_rec_clear(&rec);

    /* nulls, an integer id, a reason for the missing id */
    assert_int_equal(parse("{\"type\":\"created\",\"entry\":\"e\",\"location\":null,\"id\":42}",
                           &rec, &err),
                     0);
    assert_null(rec.location);
    assert_string_equal(rec.id, "42");
    lg_cledger_rec_clear(&rec);
    assert_int_equal(parse("{\"type\":\"created\",\"entry\":\"e\",\"id\":null,"
                           "\"missing\":\"no id in the body\"}\r",
                           &rec, &err),
                     0);
    assert_null(rec.id);
    assert_string_equal(rec.missing, "no id in the body");
    lg_cledger_rec_clear(&rec);
}

static void test_parse_outcomes_and_others(void **state)
{
    (void)state;
    lg_cledger_rec rec;
    sq_err err = {{0}};
    assert_int_equal(parse("{\"type\":\"cleanup\",\"entry\":\"e\",\"outcome\":\"gone\","
                           "\"status\":404}",
                           &rec, &err),
                     0);
    assert_int_equal(rec.type, LG_CLEDGER_CLEANUP);
    assert_string_equal(rec.entry, "e");
    assert_int_equal(rec.outcome, LG_OUTCOME_GONE);
    lg_cledger_rec_clear(&rec);
    assert_int_equal(parse("{\"type\":\"cleanup\",\"entry\":\"e\",\"outcome\":\"vaporised\"}",
                           &rec, &err),
                     0);
    assert_int_equal(rec.outcome, LG_OUTCOME_NONE); /* unknown: not done */
    lg_cledger_rec_clear(&rec);
    assert_int_equal(parse("{\"type\":\"cleanup_bulk\",\"request\":\"DELETE http://h/x?tag=T\","
                           "\"outcome\":\"deleted\"}",
                           &rec, &err),
                     0);
    assert_int_equal(rec.type, LG_CLEDGER_BULK);
    assert_string_equal(rec.request, "DELETE http://h/x?tag=T");
    assert_int_equal(rec.outcome, LG_OUTCOME_DELETED);
    lg_cledger_rec_clear(&rec);

    /* forward compatible: other types, blank lines */
    assert_int_equal(parse("{\"type\":\"checkpoint\",\"whatever\":[1,2]}", &rec, &err), 0);
    assert_int_equal(rec.type, LG_CLEDGER_OTHER);
    lg_cledger_rec_clear(&rec);
    assert_int_equal(parse("   \r", &rec, &err), 0);
    assert_int_equal(rec.type, LG_CLEDGER_OTHER);
    lg_cledger_rec_clear(&rec);
    assert_string_equal(lg_outcome_name(LG_OUTCOME_DELETED), "deleted");
    assert_string_equal(lg_outcome_name(LG_OUTCOME_FAILED), "failed");
}

/* Expects line to be rejected with code rc and a message equal to msg. */
static void expect_bad(const char *line, int rc, const char *msg)
{
    lg_cledger_rec rec;
    sq_err err = {{0}};
    int got = parse(line, &rec, &err);
    lg_cledger_rec_clear(&rec);
    if (got != rc)
        fail_msg("'%s': got %d, want %d (%s)", line, got, rc, err.msg);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("'%s': got '%s', want '%s'", line, err.msg, msg);
}

static void test_parse_bad_and_torn(void **state)
{
    (void)state;
    const char *torn = "the line is cut short (a writer stopped mid-line)";
    expect_bad("{\"type\":\"created\",\"en", -ENODATA, torn);
    expect_bad("{\"type\":\"created\",\"entry\":\"e\"", -ENODATA, torn);
    expect_bad("{", -ENODATA, torn);
    expect_bad("[1,2]", -EBADMSG, "expected a JSON object (a ledger line), got an array");
    expect_bad("\"x\"", -EBADMSG, "expected a JSON object (a ledger line), got a string");
    expect_bad("17", -EBADMSG, "expected a JSON object (a ledger line), got a number, true, "
                               "false or null");
    expect_bad("{\"a\":1}x", -EBADMSG, "not JSON at column 8: end of file expected near 'x' "
                                       "(expected one JSON object per line)");
    expect_bad("{\"a\" 1}", -EBADMSG, "not JSON at column 6: ':' expected near '1' (expected "
                                      "one JSON object per line)");
    expect_bad("hello", -EBADMSG, "not JSON at column 5: invalid token near 'hello' "
                                  "(expected one JSON object per line)");
    expect_bad("{\"entry\":\"e\"}", -EBADMSG, "expected \"type\" (a string: created, cleanup or "
                                              "cleanup_bulk)");
    expect_bad("{\"type\":\"created\",\"id\":\"1\"}", -EBADMSG,
               "a created line needs \"entry\" (a non-empty string naming the object within "
               "the run)");
    expect_bad("{\"type\":\"created\",\"entry\":\"\"}", -EBADMSG,
               "a created line needs \"entry\" (a non-empty string naming the object within "
               "the run)");
    expect_bad("{\"type\":\"created\",\"entry\":\"e\",\"location\":5}", -EBADMSG,
               "\"location\" must be a string or null");
    expect_bad("{\"type\":\"created\",\"entry\":\"e\",\"id\":[1]}", -EBADMSG,
               "\"id\" must be a string, an integer or null");
    expect_bad("{\"type\":\"cleanup\",\"outcome\":\"deleted\"}", -EBADMSG,
               "a cleanup line needs \"entry\" (a non-empty string)");
}

static void test_reader_errors_name_file_and_line(void **state)
{
    struct fixture *fx = *state;
    lg_cledger_scan scan;
    sq_err err = {{0}};
    char want[256];
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"a\",\"id\":\"1\"}\n"
         "\n"
         "{\"type\":\"created\",\"id\":\"2\"}\n");
    assert_int_equal(lg_cledger_scan_file(fx->path, NULL, NULL, &scan, &err), -EBADMSG);
    snprintf(want, sizeof want, "%s:3: a created line needs \"entry\" (a non-empty string "
                                "naming the object within the run)",
             fx->path);
    assert_string_equal(err.msg, want);
    assert_null(scan.ix);

    spit(fx->root, "ledger.jsonl", "{\"type\":\"created\",\"entry\":\"a\"}\nnot json\n{}\n");
    assert_int_equal(lg_cledger_scan_file(fx->path, NULL, NULL, &scan, &err), -EBADMSG);
    snprintf(want, sizeof want, "%s:2: not JSON", fx->path);
    assert_memory_equal(err.msg, want, strlen(want));

    /* a missing ledger is an empty one */
    unlink(fx->path);
    assert_int_equal(lg_cledger_scan_file(fx->path, NULL, NULL, &scan, &err), 0);
    assert_int_equal(scan.entries, 0);
    assert_int_equal(scan.bytes, 0);
    lg_cledger_scan_free(&scan);
}

/* Reads everything r gives into a string of "type:entry " items. */
static void collect(lg_cledger_reader *r, char *out, size_t len)
{
    lg_cledger_rec rec;
    sq_err err = {{0}};
    int rc;
    out[0] = '\0';
    while ((rc = lg_cledger_reader_next(r, &rec, &err)) == 1) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%d:%s ", rec.type, rec.entry ? rec.entry : "-");
        lg_cledger_rec_clear(&rec);
    }
    assert_int_equal(rc, 0);
}

static void test_reader_torn_lines(void **state)
{
    struct fixture *fx = *state;
    lg_cledger_reader r;
    sq_err err = {{0}};
    char got[512], warn_text[512] = "";
    /* a torn line in the middle (core/rundir.c ended it with '\n' before the
     * next append) and a torn last line: both warnings, both skipped */
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"a\",\"id\":\"1\"}\n"
         "{\"type\":\"created\",\"entry\":\"b\",\"i\n"
         "{\"type\":\"cleanup\",\"entry\":\"a\",\"outcome\":\"deleted\"}\n"
         "{\"type\":\"created\",\"entry\":\"c\",\"id\":\"3\"}\n"
         "{\"type\":\"created\",\"entry\":\"d");
    FILE *warn = fmemopen(warn_text, sizeof warn_text, "w");
    assert_non_null(warn);
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, -1, warn, &err), 0);
    collect(&r, got, sizeof got);
    fclose(warn);
    assert_string_equal(got, "1:a 2:a 1:c ");
    assert_int_equal(r.torn, 2);
    assert_int_equal(r.lineno, 5);
    lg_cledger_reader_close(&r);
    char want[512];
    snprintf(want, sizeof want,
             "%s:2: warning: ignoring a line cut short (a writer stopped mid-line)\n"
             "%s:5: warning: ignoring a line cut short (a writer stopped mid-line)\n",
             fx->path, fx->path);
    assert_string_equal(warn_text, want);

    /* a whole last line without '\n' is used; a bad one is a warning */
    spit(fx->root, "ledger.jsonl", "{\"type\":\"created\",\"entry\":\"a\"}\n"
                                   "{\"type\":\"created\",\"entry\":\"z\"}");
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, -1, NULL, &err), 0);
    collect(&r, got, sizeof got);
    assert_string_equal(got, "1:a 1:z ");
    assert_int_equal(r.torn, 0);
    lg_cledger_reader_close(&r);
    spit(fx->root, "ledger.jsonl", "{\"type\":\"created\",\"entry\":\"a\"}\nnot json at all");
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, -1, NULL, &err), 0);
    collect(&r, got, sizeof got);
    assert_string_equal(got, "1:a ");
    assert_int_equal(r.torn, 1);
    lg_cledger_reader_close(&r);

    /* a limit: the reader sees the file as it was (a line completed later
     * is still cut at the limit) */
    spit(fx->root, "ledger.jsonl", "{\"type\":\"created\",\"entry\":\"a\"}\n"
                                   "{\"type\":\"created\",\"entry\":\"b\"}\n"
                                   "{\"type\":\"created\",\"entry\":\"c\"}\n");
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, 31 + 20, NULL, &err), 0);
    collect(&r, got, sizeof got);
    assert_string_equal(got, "1:a ");
    assert_int_equal(r.torn, 1);
    lg_cledger_reader_close(&r);
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, 62, NULL, &err), 0);
    collect(&r, got, sizeof got);
    assert_string_equal(got, "1:a 1:b ");
    lg_cledger_reader_close(&r);
}

static void test_scan_resume_rule(void **state)
{
    struct fixture *fx = *state;
    lg_cledger_scan scan;
    lg_cledger_reader r;
    lg_cledger_rec rec;
    sq_err err = {{0}};
    char got[256] = "";
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"a\",\"id\":\"1\"}\n"                  /* 1 */
         "{\"type\":\"created\",\"entry\":\"b\",\"id\":\"2\"}\n"                  /* 2 */
         "{\"type\":\"created\",\"entry\":\"c\",\"id\":\"3\"}\n"                  /* 3 */
         "{\"type\":\"created\",\"entry\":\"d\",\"id\":\"4\"}\n"                  /* 4 */
         "{\"type\":\"cleanup\",\"entry\":\"a\",\"outcome\":\"deleted\"}\n"       /* done */
         "{\"type\":\"cleanup\",\"entry\":\"b\",\"outcome\":\"failed\"}\n"        /* again */
         "{\"type\":\"cleanup\",\"entry\":\"c\",\"outcome\":\"failed\"}\n"
         "{\"type\":\"cleanup\",\"entry\":\"c\",\"outcome\":\"gone\"}\n"          /* done */
         "{\"type\":\"cleanup\",\"entry\":\"d\",\"outcome\":\"deleted\"}\n"
         "{\"type\":\"cleanup\",\"entry\":\"d\",\"outcome\":\"failed\"}\n"        /* again */
         "{\"type\":\"cleanup\",\"entry\":\"ghost\",\"outcome\":\"deleted\"}\n"   /* no created */
         "{\"type\":\"created\",\"entry\":\"b\",\"id\":\"2\"}\n"                  /* duplicate */
         "{\"type\":\"created\",\"entry\":\"e\",\"id\":null}\n"
         "{\"type\":\"cleanup_bulk\",\"request\":\"DELETE http://h/x\",\"outcome\":\"deleted\"}\n"
         "{\"type\":\"something_new\"}\n");
    assert_int_equal(lg_cledger_scan_file(fx->path, "DELETE http://h/x", NULL, &scan, &err), 0);
    assert_int_equal(scan.entries, 5);
    assert_int_equal(scan.done, 2);
    assert_int_equal(scan.last_created_line, 13);
    assert_int_equal(scan.bulk_done_line, 14);
    assert_int_equal(lg_cledger_index_size(scan.ix), 6);
    assert_non_null(lg_cledger_index_get(scan.ix, "ghost", 0));
    assert_null(lg_cledger_index_get(scan.ix, "nobody", 0));

    /* the second pass yields b, d, e once each, in ledger order */
    assert_int_equal(lg_cledger_reader_open(&r, fx->path, scan.bytes, NULL, &err), 0);
    int rc;
    while ((rc = lg_cledger_next_todo(&r, scan.ix, &rec, &err)) == 1) {
        strcat(got, rec.entry);
        lg_cledger_rec_clear(&rec);
    }
    assert_int_equal(rc, 0);
    assert_string_equal(got, "bde");
    lg_cledger_reader_close(&r);
    lg_cledger_scan_free(&scan);

    /* another bulk request, or a failed one, does not count */
    assert_int_equal(lg_cledger_scan_file(fx->path, "DELETE http://h/y", NULL, &scan, &err), 0);
    assert_int_equal(scan.bulk_done_line, 0);
    lg_cledger_scan_free(&scan);
}

static void test_index_at_scale(void **state)
{
    (void)state;
    lg_cledger_index *ix = lg_cledger_index_new();
    char name[32];
    assert_non_null(ix);
    for (unsigned i = 0; i < 200000; i++) {
        snprintf(name, sizeof name, "%u-%u", i % 7, i);
        unsigned *f = lg_cledger_index_get(ix, name, 1);
        assert_non_null(f);
        assert_int_equal(*f, 0);
        *f = i % 3;
    }
    assert_int_equal(lg_cledger_index_size(ix), 200000);
    for (unsigned i = 0; i < 200000; i += 997) {
        snprintf(name, sizeof name, "%u-%u", i % 7, i);
        unsigned *f = lg_cledger_index_get(ix, name, 0);
        assert_non_null(f);
        assert_int_equal(*f, i % 3);
    }
    assert_null(lg_cledger_index_get(ix, "0-200001", 0));
    lg_cledger_index_free(ix);
    lg_cledger_index_free(NULL);
}

/* Runs lg_cleanup_run on the fixture's directory with opts; returns its
 * code. */
static int run_cleanup(struct fixture *fx, lg_cleanup_opts *o, lg_cleanup_result *res,
                       sq_err *err)
{
    sq_rundir *rd = NULL;
    assert_int_equal(sq_rundir_open_existing(fx->root, &rd, err), 0);
    int rc = lg_cleanup_run(rd, o, res, err);
    sq_rundir_free(rd);
    return rc;
}

static void test_run_dry_run_and_errors(void **state)
{
    struct fixture *fx = *state;
    lg_cleanup_opts o;
    lg_cleanup_result res;
    sq_err err = {{0}};
    char out[1024] = "", want[512];
    struct stat before, after;
    lg_cleanup_opts_init(&o);

    /* not a run directory */
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -ENOENT);
    snprintf(want, sizeof want, "'%s' is not a run directory: it has no run.json", fx->root);
    assert_string_equal(err.msg, want);
    assert_true(lg_cleanup_input_error(-ENOENT));
    assert_false(lg_cleanup_input_error(-EIO));

    spit(fx->root, "run.json", "{\"schema\":\"squall.run/1\",\"target\":\"http://h:1/api\"}");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "run.json: expected \"run_id\""));

    spit(fx->root, "run.json", "{\"run_id\":\"T 1\",\"target\":\"http://h:1/api\"}");
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"0-1\",\"location\":\"http://h:1/items/1\",\"id\":\"1\"}\n"
         "{\"type\":\"created\",\"entry\":\"0-2\",\"location\":null,\"id\":null,"
         "\"missing\":\"no Location header\"}\n"
         "{\"type\":\"created\",\"entry\":\"0-3\",\"location\":\"http://h:1/items/3\",\"id\":\"3\"}\n"
         "{\"type\":\"cleanup\",\"entry\":\"0-3\",\"outcome\":\"gone\"}\n");
    assert_int_equal(stat(fx->path, &before), 0);
    o.dry_run = 1;
    o.dry_run_out = fmemopen(out, sizeof out, "w");
    assert_non_null(o.dry_run_out);
    o.request = "DELETE /things/{id}?run={tag}";
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    fclose(o.dry_run_out);
    assert_string_equal(out, "DELETE http://h:1/things/1?run=T%201\n");
    assert_int_equal(res.entries, 3);
    assert_int_equal(res.skipped, 1);
    assert_int_equal(res.failed, 1); /* 0-2: no id */
    assert_int_equal(res.requests, 1);
    assert_int_equal(res.deleted + res.gone, 0);
    assert_int_equal(stat(fx->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size); /* nothing appended */

    /* a dry bulk run: one request */
    o.request = NULL;
    o.by_tag = "DELETE /admin/testdata?tag={tag}";
    o.dry_run_out = fmemopen(out, sizeof out, "w");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    fclose(o.dry_run_out);
    assert_string_equal(out, "DELETE http://h:1/admin/testdata?tag=T%201\n");
    assert_true(res.bulk);
    assert_string_equal(res.bulk_request, "DELETE http://h:1/admin/testdata?tag=T%201");

    /* template errors name the flag and the column */
    o.by_tag = "DELETE /admin/{id}";
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_string_equal(err.msg, "--by-tag: 'DELETE /admin/{id}': column 15: a bulk request can "
                                 "only use {tag} (one request for the whole run); use --request "
                                 "for {id}");
    o.by_tag = NULL;
    o.request = "DELETE /x/{ID}";
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_string_equal(err.msg, "--request: 'DELETE /x/{ID}': column 11: unknown placeholder "
                                 "{ID} (expected {location}, {id} or {tag})");

    /* a relative template needs run.json's target */
    spit(fx->root, "run.json", "{\"run_id\":\"T\"}");
    o.request = "DELETE /x/{id}";
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "has no \"target\" to resolve it against"));
    spit(fx->root, "run.json", "{\"run_id\":\"T\",\"target\":\"ftp://x\"}");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "run.json has no \"target\" to resolve it against "
                                    "('ftp://x' is not an http:// or https:// URL)"));
    /* without a usable target, an absolute URL is refused unless allowed */
    o.request = "DELETE {location}";
    memset(out, 0, sizeof out);
    o.dry_run_out = fmemopen(out, sizeof out, "w");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    fclose(o.dry_run_out);
    assert_string_equal(out, "refused DELETE http://h:1/items/1: location points at h:1 and "
                             "run.json has no target to compare it with ('ftp://x' is not an "
                             "http:// or https:// URL); rerun with --allow-host h:1 to delete "
                             "there\n");
    assert_int_equal(res.requests, 0);
    assert_int_equal(res.refused, 1);
    static const char *const h1[] = {"h:1"};
    o.allow_hosts = h1;
    o.n_allow_hosts = 1;
    memset(out, 0, sizeof out);
    o.dry_run_out = fmemopen(out, sizeof out, "w");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    fclose(o.dry_run_out);
    assert_string_equal(out, "DELETE http://h:1/items/1\n");
    assert_int_equal(res.requests, 1);
    assert_int_equal(res.refused, 0);
    o.allow_hosts = NULL;
    o.n_allow_hosts = 0;
    o.request = "DELETE /x/{id}";
    spit(fx->root, "run.json", "{\"run_id\":\"T\\r\\nX: y\",\"target\":\"http://h:1/\"}");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"run_id\" contains a control character"));
    spit(fx->root, "run.json", "{\"run_id\":");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "run.json:1:"));

    /* a bad ledger line: FILE:LINE, an input error */
    spit(fx->root, "run.json", "{\"run_id\":\"T\",\"target\":\"http://h:1/\"}");
    spit(fx->root, "ledger.jsonl", "{\"type\":\"created\",\"entry\":\"0-1\",\"id\":\"1\"}\n[]\n");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), -EBADMSG);
    snprintf(want, sizeof want, "%s:2: expected a JSON object (a ledger line), got an array",
             fx->path);
    assert_string_equal(err.msg, want);
    assert_true(lg_cleanup_input_error(-EBADMSG));

    /* nothing to do: no request, no error */
    unlink(fx->path);
    memset(out, 0, sizeof out);
    o.dry_run_out = fmemopen(out, sizeof out, "w");
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    fclose(o.dry_run_out);
    assert_string_equal(out, "");
    assert_int_equal(res.entries + res.requests + res.failed, 0);
    unlink(fx->path);
}

/* Writes a run directory whose target is http://h:1/api, with entries on
 * h:1, on HTTP://H:1 (the same origin), on h:2, on https://h:1, on a URL
 * whose userinfo looks like h:1 but that goes to evil, and a relative one. */
static void spit_hosts(struct fixture *fx)
{
    spit(fx->root, "run.json", "{\"run_id\":\"T\",\"target\":\"http://h:1/api\"}");
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"a\",\"id\":\"1\","
         "\"location\":\"http://h:1/items/1\"}\n"
         "{\"type\":\"created\",\"entry\":\"b\",\"id\":\"2\","
         "\"location\":\"HTTP://H:1/items/2\"}\n"
         "{\"type\":\"created\",\"entry\":\"c\",\"id\":\"3\","
         "\"location\":\"http://h:2/items/3\"}\n"
         "{\"type\":\"created\",\"entry\":\"d\",\"id\":\"4\","
         "\"location\":\"https://h:1/items/4\"}\n"
         "{\"type\":\"created\",\"entry\":\"e\",\"id\":\"5\","
         "\"location\":\"http://h:1@evil/items/5\"}\n"
         "{\"type\":\"created\",\"entry\":\"f\",\"id\":\"6\",\"location\":\"/items/6\"}\n");
}

/* Runs a dry cleanup of the fixture into out[len]; returns its code. */
static int dry(struct fixture *fx, lg_cleanup_opts *o, lg_cleanup_result *res, sq_err *err,
               char *out, size_t len)
{
    memset(out, 0, len);
    o->dry_run = 1;
    o->dry_run_out = fmemopen(out, len, "w");
    assert_non_null(o->dry_run_out);
    int rc = run_cleanup(fx, o, res, err);
    fclose(o->dry_run_out);
    return rc;
}

static void test_run_refuses_other_hosts(void **state)
{
    struct fixture *fx = *state;
    lg_cleanup_opts o;
    lg_cleanup_result res;
    sq_err err = {{0}};
    char out[2048];
    lg_cleanup_opts_init(&o);
    spit_hosts(fx);

    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), 0);
    assert_string_equal(out,
        "DELETE http://h:1/items/1\n"
        "DELETE HTTP://H:1/items/2\n"
        "refused DELETE http://h:2/items/3: location points at another host (h:2); rerun "
        "with --allow-host h:2 to delete there\n"
        "refused DELETE https://h:1/items/4: location uses https, not the target's http "
        "(h:1); rerun with --allow-host h:1 to delete there\n"
        "refused DELETE http://h:1@evil/items/5: location points at another host (evil:80); "
        "rerun with --allow-host evil:80 to delete there\n"
        "DELETE http://h:1/items/6\n");
    assert_int_equal(res.requests, 3);
    assert_int_equal(res.failed, 3);
    assert_int_equal(res.refused, 3);

    /* allowed: h:2 by port, evil by its default port, https://h:1 by h:1 */
    static const char *const allow[] = {"h:2", "EVIL", "h:1"};
    o.allow_hosts = allow;
    o.n_allow_hosts = 3;
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), 0);
    assert_int_equal(res.requests, 6);
    assert_int_equal(res.failed + res.refused, 0);
    o.n_allow_hosts = 1;
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), 0);
    assert_int_equal(res.requests, 4);
    assert_int_equal(res.refused, 2);

    /* a bad --allow-host value */
    static const char *const bad[] = {"h:1/x"};
    o.allow_hosts = bad;
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), -EINVAL);
    assert_string_equal(err.msg, "--allow-host: 'h:1/x': expected HOST or HOST:PORT (a name or "
                                 "an address; an IPv6 address in brackets, e.g. [::1]:8080)");
    o.n_allow_hosts = 0;

    /* a fixed host in the template: refused before anything, unless allowed */
    o.request = "DELETE http://h:2/items/{id}";
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), -EINVAL);
    assert_string_equal(err.msg, "--request: 'DELETE http://h:2/items/{id}': the URL points at "
                                 "another host (h:2); rerun with --allow-host h:2 to delete "
                                 "there");
    assert_string_equal(out, "");
    o.request = "DELETE http://H:1/items/{id}"; /* the target's */
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), 0);
    assert_int_equal(res.requests, 6);
    o.request = NULL;
    o.by_tag = "DELETE https://h:1/admin?tag={tag}";
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), -EINVAL);
    assert_string_equal(err.msg, "--by-tag: 'DELETE https://h:1/admin?tag={tag}': the URL uses "
                                 "https, not the target's http (h:1); rerun with --allow-host "
                                 "h:1 to delete there");
    o.by_tag = "DELETE http://h:2/admin?tag={tag}";
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), -EINVAL);
    assert_string_equal(err.msg, "--by-tag: 'DELETE http://h:2/admin?tag={tag}': the URL points "
                                 "at another host (h:2); rerun with --allow-host h:2 to delete "
                                 "there");
    o.allow_hosts = allow;
    o.n_allow_hosts = 1;
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), 0);
    assert_string_equal(out, "DELETE http://h:2/admin?tag=T\n");
    o.n_allow_hosts = 0;
    /* a host made from {tag} is checked once it is known */
    o.by_tag = "DELETE http://{tag}.h/admin";
    assert_int_equal(dry(fx, &o, &res, &err, out, sizeof out), -EINVAL);
    assert_string_equal(err.msg, "--by-tag: the URL points at another host (t.h:80); rerun with "
                                 "--allow-host t.h:80 to delete there");
    assert_string_equal(out, "");
    o.by_tag = NULL;

    /* nothing refused is ever written: a real (not dry) run appends the
     * refusals without sending anything (the only hosts left are refused) */
    spit(fx->root, "ledger.jsonl",
         "{\"type\":\"created\",\"entry\":\"c\",\"location\":\"http://h:2/items/3\"}\n");
    o.dry_run = 0;
    o.dry_run_out = NULL;
    assert_int_equal(run_cleanup(fx, &o, &res, &err), 0);
    assert_int_equal(res.failed, 1);
    assert_int_equal(res.refused, 1);
    assert_int_equal(res.requests, 0);
    FILE *f = fopen(fx->path, "r");
    char line[1024];
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "\"entry\":\"c\",\"outcome\":\"failed\",\"status\":0,"
                                 "\"attempts\":0,\"request\":\"DELETE http://h:2/items/3\","
                                 "\"error\":\"location points at another host (h:2); rerun "
                                 "with --allow-host h:2 to delete there\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_created),
        cmocka_unit_test(test_parse_outcomes_and_others),
        cmocka_unit_test(test_parse_bad_and_torn),
        cmocka_unit_test_setup_teardown(test_reader_errors_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_torn_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_resume_rule, setup, teardown),
        cmocka_unit_test(test_index_at_scale),
        cmocka_unit_test_setup_teardown(test_run_dry_run_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_refuses_other_hosts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
