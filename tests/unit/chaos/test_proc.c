/* test_proc.c — unit tests for chaos/proc.c: /proc/PID/stat parsing (comm
 * with spaces and parentheses), signal names, and the identity check that
 * keeps a signal from reaching a process with a reused pid. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

static void test_parse_stat(void **state)
{
    (void)state;
    unsigned long long start = 0;
    char st = 0;
    const char *line = "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                       "987654 1000 200 18446744073709551615\n";
    assert_int_equal(ch_parse_stat_start(line, &start, &st), 0);
    assert_int_equal(start, 987654ULL);
    assert_int_equal(st, 'S');
    assert_int_equal(ch_parse_stat_start("1234 (x) S 1 2", &start, &st), -EINVAL);
    assert_int_equal(ch_parse_stat_start("garbage", &start, &st), -EINVAL);
}

static void test_signal_names(void **state)
{
    (void)state;
    assert_int_equal(ch_signal_from_name("KILL"), SIGKILL);
    assert_int_equal(ch_signal_from_name("sigterm"), SIGTERM);
    assert_int_equal(ch_signal_from_name("9"), 9);
    assert_int_equal(ch_signal_from_name("HUP"), SIGHUP);
    assert_int_equal(ch_signal_from_name("FOO"), -1);
    assert_int_equal(ch_signal_from_name("0"), -1);
    assert_int_equal(ch_signal_from_name("65"), -1);
    assert_int_equal(ch_signal_from_name(""), -1);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_int_equal(ch_kind_from_name("link-down"), CH_LINK_DOWN);
    assert_int_equal(ch_kind_from_name("link_down"), CH_LINK_DOWN);
    assert_int_equal(ch_kind_from_name("partition"), CH_PARTITION);
    assert_int_equal(ch_kind_from_name("delay"), CH_DELAY);
    assert_int_equal(ch_kind_from_name("flood"), -1);
    assert_int_equal(ch_kind_from_name("bandwidthxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), -1);
    for (int k = 0; k < CH_KIND_COUNT; k++)
        assert_int_equal(ch_kind_from_name(ch_kind_name((ch_kind)k)), k);
    assert_false(ch_kind_is_network(CH_KILL));
    assert_true(ch_kind_is_network(CH_DROP));
    assert_true(ch_kind_is_network(CH_DELAY));
}

/* A reused pid (same pid, another start time) is never signalled; the
 * right identity is. */
static void test_identity(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;)
            pause();
    }
    unsigned long long start;
    assert_int_equal(ch_proc_start_time(child, &start), 0);
    assert_int_equal(ch_proc_signal(child, start + 1, SIGKILL), -ESRCH);
    assert_int_equal(kill(child, 0), 0); /* untouched */
    char st = 0;
    assert_int_equal(ch_proc_signal(child, start, SIGSTOP), 0);
    for (int i = 0; i < 200 && st != 'T'; i++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        ch_proc_state(child, &st);
    }
    assert_int_equal(st, 'T');
    assert_int_equal(ch_proc_signal(child, start, SIGKILL), 0);
    int ws;
    assert_int_equal(waitpid(child, &ws, 0), child);
    assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    assert_int_equal(ch_proc_signal(child, start, SIGKILL), -ESRCH);
    assert_int_equal(ch_proc_start_time(child, &start), -ESRCH);
}

static void test_comm_cmdline(void **state)
{
    (void)state;
    char comm[64], cmd[4096];
    assert_int_equal(ch_proc_comm(getpid(), comm, sizeof comm), 0);
    assert_string_equal(comm, "unit_chaos_test");
    assert_int_equal(ch_proc_cmdline(getpid(), cmd, sizeof cmd), 0);
    assert_non_null(strstr(cmd, "unit_chaos_test_proc"));
    assert_int_equal(ch_proc_comm(-5, comm, sizeof comm), -ESRCH);
}

static void test_random_below(void **state)
{
    (void)state;
    int seen[5] = {0};
    for (int i = 0; i < 500; i++) {
        uint64_t v = ch_random_below(5);
        assert_true(v < 5);
        seen[v]++;
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i] > 0);
    assert_int_equal(ch_random_below(1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),   cmocka_unit_test(test_signal_names),
        cmocka_unit_test(test_kind_names),   cmocka_unit_test(test_identity),
        cmocka_unit_test(test_comm_cmdline), cmocka_unit_test(test_random_below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
