/* test_agent.c — unit tests for review fixes in the agent and the process
 * faults: the TTL wait is capped (a huge TTL never overflows poll's
 * timeout), stopping signals are refused for kill, other squall processes
 * are protected, and a failed apply whose undo also fails is never
 * reported as reverted. Works in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

static char dir[256];

/* A fresh state directory. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/squall-unit-agent.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes the journals and the state directory. */
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

/* Item 1: 600 h (and even INT64_MAX) waits are cut to 60 s pieces. */
static void test_wait_ms(void **state)
{
    (void)state;
    const int64_t ms = 1000000;
    assert_int_equal(ch_wait_ms(100, 100), 0);
    assert_int_equal(ch_wait_ms(100, 50), 0);
    assert_int_equal(ch_wait_ms(0, 1), 1);
    assert_int_equal(ch_wait_ms(0, ms), 1);
    assert_int_equal(ch_wait_ms(0, ms + 1), 2);
    assert_int_equal(ch_wait_ms(0, 1500 * ms), 1500);
    assert_int_equal(ch_wait_ms(0, 60000 * ms), CH_MAX_WAIT_MS);
    assert_int_equal(ch_wait_ms(0, 600LL * 3600 * 1000 * ms), CH_MAX_WAIT_MS);
    assert_int_equal(ch_wait_ms(0, 25LL * 24 * 3600 * 1000 * ms), CH_MAX_WAIT_MS);
    assert_int_equal(ch_wait_ms(5, INT64_MAX), CH_MAX_WAIT_MS);
}

/* Item 2: kill with a stopping signal is a usage error. */
static void test_kill_stopping_signal_refused(void **state)
{
    (void)state;
    static const int sigs[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        ch_spec spec;
        ch_spec_init(&spec, CH_KILL);
        spec.pid = getpid();
        spec.signal = sigs[i];
        ch_fault *f = NULL;
        sq_err err;
        assert_int_equal(ch_fault_plan(&spec, &f, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "chaos stop --for"));
        assert_true(ch_signal_is_stopping(sigs[i]));
    }
    assert_int_equal(ch_signal_from_name("STOP"), SIGSTOP);
    assert_int_equal(ch_signal_from_name("SIGTSTP"), SIGTSTP);
    assert_false(ch_signal_is_stopping(SIGKILL));
    assert_false(ch_signal_is_stopping(SIGCONT));
}

/* Item 5: a process running the same executable as this one (here: a
 * fork of the test that is not our child) is protected; --force allows it.
 * Our own children stay never-targetable. */
static void test_same_exe_protected(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            close(p[0]);
            close(p[1]);
            for (;;)
                pause();
        }
        if (write(p[1], &g, sizeof g) != (ssize_t)sizeof g)
            _exit(1);
        _exit(0);
    }
    pid_t g = -1;
    close(p[1]);
    assert_int_equal(read(p[0], &g, sizeof g), (ssize_t)sizeof g);
    close(p[0]);
    waitpid(c, NULL, 0);

    ch_spec spec;
    ch_spec_init(&spec, CH_KILL);
    spec.pid = g;
    ch_fault *f = NULL;
    sq_err err;
    int rc = ch_fault_plan(&spec, &f, &err);
    kill(g, SIGKILL); /* whatever happens below */
    assert_int_equal(rc, -EPERM);
    assert_non_null(strstr(err.msg, "squall process"));
}

/* Item 6: an op whose apply fails and whose undo fails too: the fault is
 * not marked reverted, the error says "revert FAILED", and the journal is
 * kept (the watchdog and recover retry). */
static void test_apply_and_undo_fail(void **state)
{
    (void)state;
    ch_fault *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->spec.kind = CH_STOP;
    f->spec.ttl_ns = 1000000000;
    snprintf(f->id, sizeof f->id, "t-undo");
    f->ops = json_pack("[{s:s}]", "type", "no-such-op");
    ch_agent *a = NULL;
    sq_err err;
    assert_int_equal(ch_agent_new(dir, NULL, 0, &a, &err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s", ch_agent_journal_path(a));
    assert_int_equal(ch_agent_apply(a, f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "revert FAILED"));
    assert_false(ch_fault_is_reverted(f));
    ch_agent_free(a);
    assert_int_equal(access(path, F_OK), 0); /* kept */
    unlink(path);
    ch_fault_free(f);
}

/* A fault holding one kill op aimed at this process (a kill has nothing to
 * revert, so reverting it touches nothing). */
static ch_fault *kill_fault(void)
{
    unsigned long long start = 0;
    ch_proc_start_time(getpid(), &start);
    ch_fault *f = calloc(1, sizeof *f);
    f->spec.kind = CH_KILL;
    snprintf(f->id, sizeof f->id, "t-kill");
    f->ops = json_pack("[{s:s, s:i, s:I, s:s, s:i}]", "type", "signal", "pid", (int)getpid(),
                       "start", (json_int_t)start, "comm", "t", "signal", SIGKILL);
    return f;
}

/* Item 7: a journal appears under its name already locked (no temporary
 * left behind); the watchdog's read through the descriptor works after the
 * name is gone, and a revert never marks or unlinks another file that now
 * has the name. */
static void test_journal_create_and_read_fd(void **state)
{
    (void)state;
    ch_journal *j = NULL;
    sq_err err;
    assert_int_equal(ch_journal_create(dir, NULL, &j, &err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s", ch_journal_path(j));
    ch_jfile jf;
    assert_int_equal(ch_jfile_read(path, 1, &jf, &err), 0);
    assert_false(jf.stale); /* locked from the first moment it is visible */
    ch_jfile_release(&jf);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep -v '^agent-[0-9]*\\.jsonl$')\"", dir);
    assert_int_equal(system(cmd), 0); /* no temporary file left */

    ch_fault *f = kill_fault();
    int seq = 0;
    assert_int_equal(ch_journal_fault(j, f, &seq, &err), 0);
    assert_int_equal(unlink(path), 0);
    FILE *other = fopen(path, "w"); /* a new agent with the same pid */
    assert_non_null(other);
    fputs("other\n", other);
    fclose(other);
    assert_int_equal(ch_jfile_read_fd(ch_journal_fd(j), path, &jf, &err), 0);
    assert_int_equal(jf.n_entries, 1);
    assert_int_equal(ch_jfile_revert(&jf, 1, "test", NULL, NULL, &err), 0);
    ch_jfile_release(&jf);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 6); /* untouched: not marked, not unlinked */
    unlink(path);
    ch_journal_close(j, 0);
    ch_fault_free(f);
}

/* Item 8: an untrusted state directory is refused; a journal that is not
 * a regular file of ours is skipped. */
static void test_state_dir_trust(void **state)
{
    (void)state;
    ch_journal *j = NULL;
    sq_err err;
    char **paths = NULL;
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(ch_journal_create(dir, NULL, &j, &err), -EACCES);
    assert_non_null(strstr(err.msg, "writable by group or others"));
    assert_int_equal(ch_journal_list(dir, &paths, &err), -EACCES);
    assert_int_equal(chmod(dir, 0700), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/agent-5.jsonl", dir);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    ch_jfile jf;
    assert_int_equal(ch_jfile_read(p, 1, &jf, &err), -EPERM);
    assert_non_null(strstr(err.msg, "not trusted"));
    int n = -1;
    assert_int_equal(ch_recover_stale(dir, "test", &n, NULL, NULL, &err), 0);
    assert_int_equal(n, 0);
    unlink(p);
}

/* Item 8: journaled ops are validated before use. */
static void test_ops_validated(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"type\":\"stop\",\"pid\":0,\"start\":5}",
        "{\"type\":\"stop\",\"pid\":\"12\",\"start\":5}",
        "{\"type\":\"stop\",\"pid\":12,\"start\":-1}",
        "{\"type\":\"signal\",\"pid\":12,\"start\":5,\"signal\":19}",
        "{\"type\":\"signal\",\"pid\":12,\"start\":5,\"signal\":99}",
        "{\"type\":\"link\",\"ifindex\":2,\"name\":\"veth0\",\"flags\":1,\"was_up\":true}",
        "{\"type\":\"link\",\"netns_id\":{\"dev\":1,\"ino\":2},\"ifindex\":0,"
        "\"name\":\"veth0\",\"flags\":1,\"was_up\":true}",
        "{\"type\":\"link\",\"netns_id\":{\"dev\":1,\"ino\":2},\"ifindex\":2,"
        "\"name\":\"a-name-far-too-long\",\"flags\":1,\"was_up\":true}",
        "{\"type\":\"qdisc\",\"netns_id\":{\"dev\":1,\"ino\":2},\"ifindex\":2,"
        "\"name\":\"v\",\"handle\":1,\"rate_bytes\":1,\"burst\":1,\"limit\":1,"
        "\"before\":{\"default\":true,\"kind\":\"\"}}",
        "{\"type\":\"qdisc\",\"netns_id\":{\"dev\":1,\"ino\":2},\"ifindex\":2,"
        "\"name\":\"v\",\"handle\":1364656128,\"rate_bytes\":1,\"burst\":1,\"limit\":1,"
        "\"before\":{\"default\":false,\"kind\":\"pfifo\",\"handle\":65536,"
        "\"options\":\"zz\"}}",
        /* delay --dev: netem numbers in range, and no other qdisc kind. */
        "{\"type\":\"qdisc\",\"qdisc\":\"netem\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"ifindex\":2,\"name\":\"v\",\"handle\":1364656128,\"latency_us\":100,"
        "\"jitter_us\":101,\"limit\":1000,\"before\":{\"default\":true,\"kind\":\"\"}}",
        "{\"type\":\"qdisc\",\"qdisc\":\"netem\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"ifindex\":2,\"name\":\"v\",\"handle\":1364656128,\"latency_us\":0,"
        "\"jitter_us\":0,\"limit\":1000,\"before\":{\"default\":true,\"kind\":\"\"}}",
        "{\"type\":\"qdisc\",\"qdisc\":\"htb\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"ifindex\":2,\"name\":\"v\",\"handle\":1364656128,\"rate_bytes\":1,\"burst\":1,"
        "\"limit\":1,\"before\":{\"default\":true,\"kind\":\"\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t je;
        json_t *op = json_loads(bad[i], 0, &je);
        assert_non_null(op);
        sq_err err;
        int active = 0;
        assert_int_equal(ch_op_revert(op, &err), -EINVAL);
        assert_int_equal(ch_op_apply(op, &err), -EINVAL);
        assert_int_equal(ch_op_check(op, &active, &err), -EINVAL);
        json_decref(op);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_ms),
        cmocka_unit_test(test_kill_stopping_signal_refused),
        cmocka_unit_test(test_same_exe_protected),
        cmocka_unit_test_setup_teardown(test_apply_and_undo_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_create_and_read_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_dir_trust, setup, teardown),
        cmocka_unit_test(test_ops_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
