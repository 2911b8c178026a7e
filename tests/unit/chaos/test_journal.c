/* test_journal.c — unit tests for chaos/journal.c: a journal is created
 * locked, holds the agent header and fault entries, is not stale while its
 * owner holds it, is stale after, ignores a torn last line, and is reverted
 * and removed by ch_jfile_revert / ch_recover_stale. Works in a temporary
 * directory; the only ops used are process ops on a child of the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/squall-unit-journal.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char **paths = NULL;
    sq_err err;
    if (ch_journal_list(dir, &paths, &err) == 0) {
        for (char **p = paths; *p; p++)
            unlink(*p);
        ch_paths_free(paths);
    }
    rmdir(dir);
    return 0;
}

/* Starts a sleep that waits long and is not our child (squall never
 * targets its own children: they are its watchdog); returns its pid. */
static pid_t spawn(void)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            close(p[0]);
            close(p[1]);
            /* A real program: a copy of this binary would be "a squall
             * process" (same executable), which is protected. */
            execl("/bin/sleep", "sleep", "1000", (char *)NULL);
            _exit(127);
        }
        if (write(p[1], &g, sizeof g) != (ssize_t)sizeof g)
            _exit(1);
        _exit(0);
    }
    pid_t g = -1;
    close(p[1]);
    if (read(p[0], &g, sizeof g) != (ssize_t)sizeof g)
        g = -1;
    close(p[0]);
    waitpid(c, NULL, 0);
    /* Wait for the exec, so that the pid is sleep and no longer this binary. */
    char comm[64] = "";
    for (int i = 0; i < 400 && g > 0 && strcmp(comm, "sleep") != 0; i++) {
        struct timespec ts = {0, 5000000};
        if (ch_proc_comm(g, comm, sizeof comm))
            break;
        nanosleep(&ts, NULL);
    }
    return g;
}

/* Polls (up to 2 s) until pid is in state want; returns the last state. */
static char wait_state(pid_t pid, char want)
{
    char st = 0;
    for (int i = 0; i < 400; i++) {
        ch_proc_state(pid, &st);
        if (st == want)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return st;
}

static void test_roundtrip_and_revert(void **state)
{
    (void)state;
    pid_t child = spawn();
    ch_spec spec;
    ch_spec_init(&spec, CH_STOP);
    spec.pid = child;
    spec.ttl_ns = 1000000000;
    ch_fault *f = NULL;
    sq_err err;
    assert_int_equal(ch_fault_plan(&spec, &f, &err), 0);
    assert_int_equal(json_array_size(ch_fault_ops(f)), 1);

    ch_journal *j = NULL;
    assert_int_equal(ch_journal_create(dir, NULL, &j, &err), 0);
    int seq = 0;
    assert_int_equal(ch_journal_fault(j, f, &seq, &err), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(ch_op_apply(json_array_get(ch_fault_ops(f), 0), &err), 0);
    assert_int_equal(ch_journal_mark(j, seq, "applied", &err), 0);
    assert_int_equal(wait_state(child, 'T'), 'T');

    /* Held by us: not stale. */
    ch_jfile jf;
    assert_int_equal(ch_jfile_read(ch_journal_path(j), 1, &jf, &err), 0);
    assert_false(jf.stale);
    assert_int_equal(jf.pid, getpid());
    assert_int_equal(jf.n_entries, 1);
    assert_true(jf.entries[0].applied);
    assert_false(jf.entries[0].reverted);
    ch_jfile_release(&jf);

    /* A torn last line (a crash mid-write) is ignored. */
    int fd = open(ch_journal_path(j), O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"type\":\"rever", 14), 14);
    close(fd);
    char path[4096];
    snprintf(path, sizeof path, "%s", ch_journal_path(j));
    ch_journal_close(j, 0);

    /* Closed: stale; recover_stale resumes the child and removes it. */
    int n = 0;
    assert_int_equal(ch_recover_stale(dir, "test", &n, NULL, NULL, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(wait_state(child, 'S'), 'S');
    assert_int_equal(access(path, F_OK), -1);

    /* Idempotent: reverting the same op again is fine. */
    assert_int_equal(ch_op_revert(json_array_get(ch_fault_ops(f), 0), &err), 0);
    ch_fault_free(f);
    kill(child, SIGKILL);
}

static void test_reverted_is_not_redone(void **state)
{
    (void)state;
    pid_t child = spawn();
    ch_spec spec;
    ch_spec_init(&spec, CH_STOP);
    spec.pid = child;
    spec.ttl_ns = 1000000000;
    ch_fault *f = NULL;
    sq_err err;
    assert_int_equal(ch_fault_plan(&spec, &f, &err), 0);
    ch_journal *j = NULL;
    assert_int_equal(ch_journal_create(dir, NULL, &j, &err), 0);
    int seq = 0;
    assert_int_equal(ch_journal_fault(j, f, &seq, &err), 0);
    assert_int_equal(ch_journal_mark(j, seq, "reverted", &err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s", ch_journal_path(j));
    ch_journal_close(j, 0);
    /* The child is stopped by hand afterwards: a journal that says
     * "reverted" must not SIGCONT it. */
    kill(child, SIGSTOP);
    assert_int_equal(wait_state(child, 'T'), 'T');
    int n = -1;
    assert_int_equal(ch_recover_stale(dir, "test", &n, NULL, NULL, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(wait_state(child, 'T'), 'T');
    assert_int_equal(access(path, F_OK), -1);
    ch_fault_free(f);
    kill(child, SIGKILL);
}

static void test_list_and_missing_dir(void **state)
{
    (void)state;
    char **paths = NULL;
    sq_err err;
    assert_int_equal(ch_journal_list("/nonexistent/squall-state", &paths, &err), 0);
    assert_null(paths[0]);
    ch_paths_free(paths);
    char p[512];
    snprintf(p, sizeof p, "%s/agent-7.jsonl", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"type\":\"agent\",\"pid\":7,\"start\":1,\"utc_ns\":1,\"version\":1}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/other.txt", dir);
    f = fopen(p, "w");
    fclose(f);
    assert_int_equal(ch_journal_list(dir, &paths, &err), 0);
    assert_non_null(paths[0]);
    assert_non_null(strstr(paths[0], "agent-7.jsonl"));
    assert_null(paths[1]);
    ch_paths_free(paths);
    unlink(p);
    int n = -1;
    assert_int_equal(ch_recover_stale(dir, "test", &n, NULL, NULL, &err), 0);
    assert_int_equal(n, 0);
}

/* The agent: journal + apply + events, then revert + events; the journal
 * is removed once everything is reverted; events carry the exact ops. */
static void test_agent_events(void **state)
{
    (void)state;
    pid_t child = spawn();
    ch_spec spec;
    ch_spec_init(&spec, CH_STOP);
    spec.pid = child;
    spec.ttl_ns = 1000000000;
    snprintf(spec.id, sizeof spec.id, "t-agent");
    ch_fault *f = NULL;
    ch_agent *a = NULL;
    sq_err err;
    char run[512], path[600];
    snprintf(run, sizeof run, "%s/run", dir);
    assert_int_equal(ch_fault_plan(&spec, &f, &err), 0);
    assert_int_equal(ch_agent_new(dir, run, 1, &a, &err), 0);
    snprintf(path, sizeof path, "%s", ch_agent_journal_path(a));
    assert_int_equal(ch_agent_apply(a, f, &err), 0);
    assert_int_equal(wait_state(child, 'T'), 'T');
    assert_true(ch_fault_apply_ns(f) > 0);
    assert_int_equal(ch_agent_revert(a, f, "ttl", &err), 0);
    assert_int_equal(wait_state(child, 'S'), 'S');
    /* Reverting again is a no-op. */
    assert_int_equal(ch_agent_revert(a, f, "ttl", &err), 0);
    ch_agent_free(a);
    assert_int_equal(access(path, F_OK), -1);

    char ev[700];
    snprintf(ev, sizeof ev, "%s/events.jsonl", run);
    FILE *fp = fopen(ev, "r");
    assert_non_null(fp);
    char line[4096];
    const char *want[] = {"fault_applied", "fault_reverted"};
    for (int i = 0; i < 2; i++) {
        assert_non_null(fgets(line, sizeof line, fp));
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "type")), want[i]);
        assert_true(json_integer_value(json_object_get(o, "utc_ns")) > 1700000000000000000LL);
        json_t *fault = json_object_get(o, "fault");
        assert_string_equal(json_string_value(json_object_get(fault, "id")), "t-agent");
        assert_string_equal(json_string_value(json_object_get(fault, "name")), "t-agent");
        assert_string_equal(json_string_value(json_object_get(fault, "kind")), "stop");
        json_t *op = json_array_get(json_object_get(o, "objects"), 0);
        assert_int_equal(json_integer_value(json_object_get(op, "pid")), child);
        assert_true(json_integer_value(json_object_get(op, "start")) > 0);
        json_decref(o);
    }
    assert_null(fgets(line, sizeof line, fp));
    fclose(fp);
    unlink(ev);
    rmdir(run);
    ch_fault_free(f);
    kill(child, SIGKILL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_and_revert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reverted_is_not_redone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
