/* test_rundir.c — unit tests for core/rundir.c: directory creation, atomic
 * documents, concurrent appends that stay whole lines, torn-line recovery,
 * name checks, JSON load errors and run ids. Works in a mkdtemp directory
 * under /tmp that is removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/rundir.h"

#define THREADS 4
#define LINES_PER_THREAD 1000

/* The test's scratch directory (set up once per group). */
struct fixture {
    char root[64];
};

/* Removes one entry for nftw. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->root, sizeof fx->root, "/tmp/squall-test-rundir-XXXXXX");
    if (!mkdtemp(fx->root)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *fx = *state;
    nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* Builds root/sub into buf and returns buf. */
static char *sub(void **state, const char *name, char *buf, size_t len)
{
    struct fixture *fx = *state;
    snprintf(buf, len, "%s/%s", fx->root, name);
    return buf;
}

/* Reads a whole file into a new NUL-terminated buffer (caller frees). */
static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* Writes text as the whole file path. */
static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_open_creates_parents(void **state)
{
    char path[256], probe[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    struct stat st;
    mode_t old_mask = umask(022);
    sub(state, "a/b/c/run1", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    umask(old_mask);
    assert_non_null(rd);
    assert_string_equal(sq_rundir_path(rd), path);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0755);
    sq_rundir_free(rd);

    /* reopening an existing directory is fine, trailing slashes too */
    snprintf(probe, sizeof probe, "%s//", path);
    assert_int_equal(sq_rundir_open(probe, &rd, &err), 0);
    sq_rundir_free(rd);
    sq_rundir_free(NULL);
}

static void test_open_errors(void **state)
{
    char file[256], path[300];
    sq_rundir *rd = (sq_rundir *)1;
    sq_err err = {{0}};
    sub(state, "plainfile", file, sizeof file);
    spit(file, "x");

    /* the run directory itself is a file */
    assert_int_equal(sq_rundir_open(file, &rd, &err), -ENOTDIR);
    assert_null(rd);
    assert_non_null(strstr(err.msg, file));
    assert_non_null(strstr(err.msg, "Not a directory"));

    /* a parent is a file */
    snprintf(path, sizeof path, "%s/run", file);
    assert_true(sq_rundir_open(path, &rd, &err) < 0);
    assert_non_null(strstr(err.msg, "cannot create run directory '"));
    assert_non_null(strstr(err.msg, path));

    assert_int_equal(sq_rundir_open("", &rd, &err), -EINVAL);

    /* no permission (root ignores mode bits, so only as a normal user) */
    if (geteuid() != 0) {
        char locked[256];
        sub(state, "locked", locked, sizeof locked);
        assert_int_equal(mkdir(locked, 0555), 0);
        snprintf(path, sizeof path, "%s/run", locked);
        assert_int_equal(sq_rundir_open(path, &rd, &err), -EACCES);
        char want[400];
        snprintf(want, sizeof want, "cannot create run directory '%s': Permission denied", path);
        assert_string_equal(err.msg, want);
        chmod(locked, 0755);
    }
}

static void test_write_json_atomic(void **state)
{
    char path[256], file[300], tmp[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    json_t *loaded = NULL;
    sub(state, "docs", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);

    json_t *doc = json_pack("{s:s, s:s, s:I, s:{s:i, s:i}, s:[i,i]}", "schema", SQ_RUN_SCHEMA,
                            "run_id", "20260101-000000-abcdef", "start_ns",
                            (json_int_t)1767225600000000000LL, "shard", "i", 0, "n", 1, "zz",
                            1, 2);
    assert_non_null(doc);
    assert_int_equal(sq_rundir_write_json(rd, "run.json", doc, &err), 0);
    assert_int_equal(doc->refcount, 1); /* the reference was not stolen */

    snprintf(file, sizeof file, "%s/run.json", path);
    snprintf(tmp, sizeof tmp, "%s/run.json.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    char *text = slurp(file, NULL);
    assert_non_null(text);
    /* pretty, insertion order, newline at the end */
    assert_non_null(strstr(text, "\n  \"schema\": \"squall.run/1\""));
    assert_true(strstr(text, "\"schema\"") < strstr(text, "\"run_id\""));
    assert_true(strstr(text, "\"shard\"") < strstr(text, "\"zz\""));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);

    assert_int_equal(sq_json_load_file(path, "run.json", &loaded, &err), 0);
    assert_true(json_equal(doc, loaded));
    json_decref(loaded);

    /* replacing the document */
    json_object_set_new(doc, "schema", json_string("squall.run/2"));
    assert_int_equal(sq_rundir_write_json(rd, "run.json", doc, &err), 0);
    assert_int_equal(sq_json_load_file(path, "run.json", &loaded, &err), 0);
    assert_string_equal(json_string_value(json_object_get(loaded, "schema")), "squall.run/2");
    json_decref(loaded);
    assert_int_equal(access(tmp, F_OK), -1);

    /* a stale temporary file from a crash is simply replaced */
    spit(tmp, "garbage");
    assert_int_equal(sq_rundir_write_json(rd, "run.json", doc, &err), 0);
    assert_int_equal(access(tmp, F_OK), -1);

    json_decref(doc);
    sq_rundir_free(rd);
}

struct writer {
    sq_rundir *rd;
    int id;
    int failures;
};

/* Appends LINES_PER_THREAD lines tagged with the writer's id. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char pad[300];
    memset(pad, 'a' + w->id, sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++) {
        sq_err err;
        /* vary the size so that some lines cross page boundaries */
        json_t *o = json_pack("{s:i, s:i, s:s%}", "t", w->id, "i", i, "pad", pad,
                              (size_t)(i % 7) * 40);
        if (!o || sq_rundir_append(w->rd, "series.jsonl", o, &err) != 0)
            w->failures++;
        json_decref(o);
    }
    return NULL;
}

static void test_concurrent_appends(void **state)
{
    char path[256], file[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    pthread_t th[THREADS];
    struct writer w[THREADS];
    int seen[THREADS][LINES_PER_THREAD];
    sub(state, "threads", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct writer){rd, t, 0};
        assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(w[t].failures, 0);
    }
    assert_int_equal(sq_rundir_sync(rd, "series.jsonl", &err), 0);
    sq_rundir_free(rd);

    memset(seen, 0, sizeof seen);
    snprintf(file, sizeof file, "%s/series.jsonl", path);
    size_t len = 0;
    char *text = slurp(file, &len);
    assert_non_null(text);
    assert_int_equal(text[len - 1], '\n');
    int lines = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, &jerr);
        if (!o)
            fail_msg("line %d is not JSON: %s", lines + 1, jerr.text);
        int t = (int)json_integer_value(json_object_get(o, "t"));
        int i = (int)json_integer_value(json_object_get(o, "i"));
        assert_in_range(t, 0, THREADS - 1);
        assert_in_range(i, 0, LINES_PER_THREAD - 1);
        seen[t][i]++;
        json_decref(o);
        lines++;
    }
    assert_int_equal(lines, THREADS * LINES_PER_THREAD);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < LINES_PER_THREAD; i++)
            assert_int_equal(seen[t][i], 1);
    free(text);
}

static void test_append_raw_and_large(void **state)
{
    char path[256], file[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    sub(state, "raw", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    assert_int_equal(sq_rundir_append_raw(rd, "ledger.jsonl", "{\"a\":1}", 7, &err), 0);
    assert_int_equal(sq_rundir_append_raw(rd, "ledger.jsonl", "{\"b\":2}xx", 7, &err), 0);
    assert_int_equal(sq_rundir_append_raw(rd, "ledger.jsonl", "{\"a\":\n1}", 8, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "newline"));

    /* lines larger than the stack buffer */
    size_t big = 100000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'x', big);
    s[big] = '\0';
    json_t *o = json_pack("{s:s}", "big", s);
    assert_int_equal(sq_rundir_append(rd, "ledger.jsonl", o, &err), 0);
    json_decref(o);
    s[0] = '"';
    s[big - 1] = '"';
    assert_int_equal(sq_rundir_append_raw(rd, "ledger.jsonl", s, big, &err), 0);
    /* the sync of a name never appended to is a no-op */
    assert_int_equal(sq_rundir_sync(rd, "never.jsonl", &err), 0);
    sq_rundir_free(rd);

    snprintf(file, sizeof file, "%s/ledger.jsonl", path);
    size_t len;
    char *text = slurp(file, &len);
    assert_non_null(text);
    assert_int_equal(len, 8 + 8 + (8 + big + 2 + 1) + (big + 1));
    assert_memory_equal(text, "{\"a\":1}\n{\"b\":2}\n{\"big\":\"xxx", 27);
    assert_int_equal(text[len - 1], '\n');
    free(text);
    free(s);
}

static void test_open_existing(void **state)
{
    char path[256], file[300];
    sq_rundir *rd = (sq_rundir *)1;
    sq_err err = {{0}};
    struct stat st;

    /* a missing directory is not created */
    sub(state, "existing/missing", path, sizeof path);
    assert_int_equal(sq_rundir_open_existing(path, &rd, &err), -ENOENT);
    assert_null(rd);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_int_equal(stat(path, &st), -1);
    sub(state, "existing", path, sizeof path);
    assert_int_equal(stat(path, &st), -1);

    /* a file is not a directory */
    sub(state, "existing-file", file, sizeof file);
    spit(file, "x");
    assert_int_equal(sq_rundir_open_existing(file, &rd, &err), -ENOTDIR);
    assert_int_equal(sq_rundir_open_existing("", &rd, &err), -EINVAL);

    /* an existing directory opens, and appends go to it */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(sq_rundir_open_existing(path, &rd, &err), 0);
    assert_string_equal(sq_rundir_path(rd), path);
    assert_int_equal(sq_rundir_append_raw(rd, "ledger.jsonl", "{\"a\":1}", 7, &err), 0);
    sq_rundir_free(rd);
    snprintf(file, sizeof file, "%s/ledger.jsonl", path);
    char *text = slurp(file, NULL);
    assert_string_equal(text, "{\"a\":1}\n");
    free(text);
}

static void test_torn_line_recovery(void **state)
{
    char path[256], file[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    sub(state, "torn", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    snprintf(file, sizeof file, "%s/events.jsonl", path);
    spit(file, "{\"whole\":1}\n{\"cut\":");
    json_t *o = json_pack("{s:i}", "next", 2);
    assert_int_equal(sq_rundir_append(rd, "events.jsonl", o, &err), 0);
    assert_int_equal(sq_rundir_append(rd, "events.jsonl", o, &err), 0);
    json_decref(o);
    sq_rundir_free(rd);
    char *text = slurp(file, NULL);
    assert_string_equal(text, "{\"whole\":1}\n{\"cut\":\n{\"next\":2}\n{\"next\":2}\n");
    free(text);
}

/* Appends lines forever (the parent kills it). */
static void child_appender(const char *path)
{
    sq_rundir *rd = NULL;
    sq_err err;
    if (sq_rundir_open(path, &rd, &err) != 0)
        _exit(2);
    for (int i = 0;; i++) {
        json_t *o = json_pack("{s:i, s:s}", "i", i, "pad",
                              "................................................................");
        if (sq_rundir_append(rd, "killed.jsonl", o, &err) != 0)
            _exit(3);
        json_decref(o);
    }
}

static void test_append_survives_kill(void **state)
{
    char path[256], file[300];
    sub(state, "killed", path, sizeof path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_appender(path);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    snprintf(file, sizeof file, "%s/killed.jsonl", path);
    size_t len;
    char *text = slurp(file, &len);
    assert_non_null(text);
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    int expect = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "i")), expect++);
        json_decref(o);
    }
    assert_true(expect > 0);
    free(text);
}

static void test_name_checks(void **state)
{
    static const char *bad[] = {"", ".", "..", "a/b", "/etc/passwd", "../x.jsonl", "x/"};
    char path[256];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    sub(state, "names", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    json_t *o = json_pack("{s:i}", "a", 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(sq_rundir_append(rd, bad[i], o, &err), -EINVAL);
        char want[64];
        snprintf(want, sizeof want, "'%s'", bad[i]);
        assert_non_null(strstr(err.msg, want));
        assert_int_equal(sq_rundir_append_raw(rd, bad[i], "1", 1, &err), -EINVAL);
        assert_int_equal(sq_rundir_write_json(rd, bad[i], o, &err), -EINVAL);
        assert_int_equal(sq_rundir_sync(rd, bad[i], &err), -EINVAL);
    }
    assert_int_equal(sq_rundir_append(rd, "..hidden-but-fine.jsonl", o, &err), 0);
    json_decref(o);
    sq_rundir_free(rd);
}

static void test_load_file_errors(void **state)
{
    char path[256], file[300];
    sq_rundir *rd = NULL;
    sq_err err = {{0}};
    json_t *doc = (json_t *)1;
    sub(state, "load", path, sizeof path);
    assert_int_equal(sq_rundir_open(path, &rd, &err), 0);
    sq_rundir_free(rd);
    snprintf(file, sizeof file, "%s/broken.json", path);
    spit(file, "{\n  \"a\": 1,\n  oops\n}\n");

    assert_int_equal(sq_json_load_file(path, "broken.json", &doc, &err), -EINVAL);
    assert_null(doc);
    char want[320];
    snprintf(want, sizeof want, "%s:3:", file);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", err.msg, want);
    /* FILE:LINE:COL: text */
    const char *p = err.msg + strlen(want);
    char *end;
    strtol(p, &end, 10);
    assert_true(end > p);
    assert_memory_equal(end, ": ", 2);
    assert_true(strlen(end) > 2);

    assert_int_equal(sq_json_load_file(path, "missing.json", &doc, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "missing.json"));
    assert_non_null(strstr(err.msg, "No such file"));

    /* empty file */
    spit(file, "");
    assert_int_equal(sq_json_load_file(path, "broken.json", &doc, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "broken.json"));

    /* without a directory the name is a path */
    spit(file, "[1, 2]");
    assert_int_equal(sq_json_load_file(NULL, file, &doc, &err), 0);
    assert_int_equal(json_array_size(doc), 2);
    json_decref(doc);
}

static void test_run_id(void **state)
{
    char a[32], b[32];
    sq_err err = {{0}};
    (void)state;
    assert_ptr_equal(sq_run_id_generate(a, sizeof a), a);
    assert_int_equal(strlen(a), 22);
    for (int i = 0; i < 22; i++) {
        if (i == 8 || i == 15)
            assert_int_equal(a[i], '-');
        else if (i < 15)
            assert_true(a[i] >= '0' && a[i] <= '9');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(sq_run_id_validate(a, &err), 0);
    /* the date part is today's UTC date */
    time_t now = time(NULL);
    struct tm tm;
    char date[16];
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    assert_memory_equal(a, date, 8);
    /* random part differs (1 in 16M chance of a false failure per try) */
    int differ = 0;
    for (int i = 0; i < 3 && !differ; i++)
        differ = strcmp(sq_run_id_generate(b, sizeof b), a) != 0;
    assert_true(differ);
    /* short buffers are terminated */
    char tiny[9];
    sq_run_id_generate(tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 8);

    static const char *good[] = {"a", "checkout-peak", "run_1.2", "A-b_C.9", "0abc",
                                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    static const char *bad[] = {
        "", ".hidden", "-flag", "a b", "a/b", "a\nb", "caf\xc3\xa9", "x;rm", "a*",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (sq_run_id_validate(good[i], &err) != 0)
            fail_msg("'%s' rejected: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(sq_run_id_validate(bad[i], &err), -EINVAL);
        assert_non_null(strstr(err.msg, "run id"));
        assert_null(strchr(err.msg, '\n'));
    }
    sq_run_id_validate("a b", &err);
    assert_non_null(strstr(err.msg, "'a?b'"));
    assert_non_null(strstr(err.msg, "position 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_parents),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_existing),
        cmocka_unit_test(test_write_json_atomic),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_append_raw_and_large),
        cmocka_unit_test(test_torn_line_recovery),
        cmocka_unit_test(test_append_survives_kill),
        cmocka_unit_test(test_name_checks),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_run_id),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
