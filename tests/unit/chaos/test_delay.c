/* test_delay.c — unit tests for the delay fault's pure parts: the proxy's
 * delay queues (order kept under jitter, the byte cap, the end-of-stream
 * mark), the random delay's range, the timer heap, and the planner's
 * validation (both modes: netem's whole microseconds, --max-conns under
 * the open-files limit) and proxy plan; the proxy's own start under a low
 * open-files limit. The nat rule text is tested in
 * test_iptables.c, forged nat and netem journal ops in test_iptables.c and
 * test_agent.c. No root; one test starts a proxy (a listening socket). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Chunks pushed with random delays come out in push order, with due
 * times that never go down; bytes are charged and uncharged. */
static void test_delayq_order(void **state)
{
    (void)state;
    ch_delayq q = {0};
    uint64_t rng = 42;
    int64_t now = 1000000000;
    for (int i = 0; i < 200; i++) {
        unsigned char b = (unsigned char)i;
        int64_t d = ch_delay_pick(100000000, 90000000, &rng);
        assert_int_equal(ch_delayq_push(&q, &b, 1, 0, now + d), 0);
        now += 1000000; /* 1 ms apart: far less than the jitter */
    }
    assert_int_equal(q.bytes, 200 * (sizeof(ch_chunk) + 1));
    int64_t last = 0;
    for (int i = 0; i < 200; i++) {
        assert_non_null(q.head);
        assert_int_equal(q.head->data[0], (unsigned char)i);
        assert_true(q.head->due_ns >= last);
        last = q.head->due_ns;
        ch_delayq_pop(&q);
    }
    assert_null(q.head);
    assert_null(q.tail);
    assert_int_equal(q.bytes, 0);
    ch_delayq_pop(&q); /* empty: nothing */
}

/* The end-of-stream mark is queued like data and keeps its place. */
static void test_delayq_eof(void **state)
{
    (void)state;
    ch_delayq q = {0};
    assert_int_equal(ch_delayq_push(&q, "abc", 3, 0, 500), 0);
    assert_int_equal(ch_delayq_push(&q, NULL, 0, 1, 100), 0);
    assert_false(q.head->eof);
    assert_int_equal(q.head->len, 3);
    assert_memory_equal(q.head->data, "abc", 3);
    ch_delayq_pop(&q);
    assert_true(q.head->eof);
    assert_int_equal(q.head->due_ns, 500); /* never before the data it follows */
    ch_delayq_clear(&q);
    assert_null(q.head);
    assert_int_equal(q.bytes, 0);
}

/* A read never takes more than the cap allows, never more than a chunk,
 * and none at all when less than CH_CHUNK_MIN fits. */
static void test_delayq_room(void **state)
{
    (void)state;
    ch_delayq q = {0};
    size_t cap = CH_PROXY_BUF;
    static unsigned char big[CH_CHUNK_MAX];
    assert_int_equal(ch_delayq_room(&q, cap), CH_CHUNK_MAX);
    size_t pushed = 0;
    for (;;) {
        size_t room = ch_delayq_room(&q, cap);
        if (!room)
            break;
        assert_true(room >= CH_CHUNK_MIN && room <= CH_CHUNK_MAX);
        assert_int_equal(ch_delayq_push(&q, big, room, 0, 0), 0);
        pushed += room;
        assert_true(q.bytes <= cap);
    }
    assert_true(pushed > cap - CH_CHUNK_MIN - 8 * sizeof(ch_chunk));
    assert_true(q.bytes <= cap);
    assert_int_equal(ch_delayq_room(&q, 1000), 0);
    ch_delayq_clear(&q);
}

/* Delays are uniform in latency ± jitter: within bounds, both halves hit,
 * and exact without jitter. */
static void test_delay_pick(void **state)
{
    (void)state;
    uint64_t rng = 7;
    int below = 0, above = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t d = ch_delay_pick(100, 10, &rng);
        assert_true(d >= 90 && d <= 110);
        below += d < 100;
        above += d > 100;
    }
    assert_true(below > 4000 && above > 4000);
    assert_int_equal(ch_delay_pick(100, 0, &rng), 100);
    assert_int_equal(ch_delay_pick(0, 0, &rng), 0);
    assert_true(ch_delay_pick(10, 10, &rng) >= 0);
}

/* The heap's top is always the smallest key, through inserts, re-keys
 * (up and down) and removals; it refuses more nodes than its room. */
static void test_heap(void **state)
{
    (void)state;
    enum { N = 300 };
    ch_heap h;
    ch_heap_node nodes[N];
    assert_int_equal(ch_heap_init(&h, N), 0);
    uint64_t rng = 99;
    for (int i = 0; i < N; i++) {
        nodes[i].idx = CH_HEAP_NONE;
        assert_int_equal(ch_heap_set(&h, &nodes[i], ch_delay_pick(1000, 1000, &rng)), 0);
    }
    ch_heap_node extra = {.idx = CH_HEAP_NONE};
    assert_int_equal(ch_heap_set(&h, &extra, 5), -ENOSPC);
    for (int round = 0; round < 2000; round++) {
        ch_heap_node *x = &nodes[ch_delay_pick(N / 2, N / 2, &rng) % N];
        if (round % 3 == 0)
            ch_heap_remove(&h, x);
        else
            assert_int_equal(ch_heap_set(&h, x, ch_delay_pick(1000, 1000, &rng)), 0);
        int64_t min = INT64_MAX;
        for (int i = 0; i < N; i++)
            if (nodes[i].idx != CH_HEAP_NONE && nodes[i].key < min)
                min = nodes[i].key;
        ch_heap_node *top = ch_heap_top(&h);
        if (top)
            assert_int_equal(top->key, min);
        else
            assert_int_equal(min, INT64_MAX);
    }
    int64_t last = INT64_MIN;
    ch_heap_node *top;
    while ((top = ch_heap_top(&h))) {
        assert_true(top->key >= last);
        last = top->key;
        ch_heap_remove(&h, top);
        assert_int_equal(top->idx, CH_HEAP_NONE);
    }
    ch_heap_free(&h);
}

/* Plans spec; expects code and a message containing want. */
static void expect_plan(const ch_spec *s, int code, const char *want)
{
    ch_fault *f = NULL;
    sq_err err = {{0}};
    assert_int_equal(ch_fault_plan(s, &f, &err), code);
    assert_null(f);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
}

/* A delay spec with a TTL, a latency and a port. */
static void base(ch_spec *s)
{
    ch_spec_init(s, CH_DELAY);
    s->ttl_ns = 1000000000;
    s->latency_ns = 100000000;
    s->port = 8080;
}

/* Every contradictory or missing flag is a usage error (-EINVAL). */
static void test_plan_errors(void **state)
{
    (void)state;
    ch_spec s;
    base(&s);
    s.latency_ns = 0;
    expect_plan(&s, -EINVAL, "needs --latency");
    base(&s);
    s.jitter_ns = -1;
    expect_plan(&s, -EINVAL, "--jitter: must not be negative");
    base(&s);
    s.jitter_ns = s.latency_ns + 1;
    expect_plan(&s, -EINVAL, "must not exceed --latency");
    base(&s);
    s.latency_ns = CH_DELAY_MAX_NS + 1;
    expect_plan(&s, -EINVAL, "at most 60s");
    base(&s);
    s.dev = "veth0";
    expect_plan(&s, -EINVAL, "not both");
    base(&s);
    s.port = 0;
    expect_plan(&s, -EINVAL, "needs --dev IF");
    base(&s);
    s.port = 0;
    s.dev = "veth0";
    s.direction = CH_DIR_OUT;
    expect_plan(&s, -EINVAL, "apply to delay --port");
    base(&s);
    s.proto = "udp";
    expect_plan(&s, -EINVAL, "tcp only");
    base(&s);
    s.rate_bps = 1000000;
    expect_plan(&s, -EINVAL, "delay takes");
    base(&s);
    s.name = "nginx";
    expect_plan(&s, -EINVAL, "delay takes");
    base(&s);
    s.ttl_ns = 0;
    expect_plan(&s, -EINVAL, "needs --for");
    base(&s);
    s.port = 22;
    expect_plan(&s, -EPERM, "SSH");
}

/* delay --dev journals microseconds: a latency or jitter that is not a
 * whole number of them (which apply and revert would refuse) is a usage
 * error, before the kernel is probed for netem. */
static void test_plan_netem_units(void **state)
{
    (void)state;
    ch_spec s;
    base(&s);
    s.port = 0;
    s.dev = "veth0";
    s.latency_ns = 500;
    expect_plan(&s, -EINVAL, "--latency: delay --dev (netem) takes a whole number of microseconds");
    s.latency_ns = 1500;
    expect_plan(&s, -EINVAL, "got 1500 ns");
    s.latency_ns = 100000000;
    s.jitter_ns = 999;
    expect_plan(&s, -EINVAL, "--jitter: delay --dev (netem) takes 0 or a whole number");
    s.jitter_ns = 1000001;
    expect_plan(&s, -EINVAL, "--jitter");
    /* The proxy takes any nanosecond value. */
    base(&s);
    s.latency_ns = 1500;
    s.jitter_ns = 999;
    ch_fault *f = NULL;
    sq_err err;
    assert_int_equal(ch_fault_plan(&s, &f, &err), 0);
    ch_fault_free(f);
}

/* In a child with RLIMIT_NOFILE lowered to n:n, plans a delay --port with
 * --max-conns mc (0 = default). Returns the plan's code, and the journaled
 * max_conns in *got, or 1000 + a step number when the child failed. */
static int plan_under_nofile(rlim_t n, int mc, int *got, char *msg, size_t len)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1000;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        struct rlimit rl = {n, n};
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(1);
        ch_spec s;
        base(&s);
        s.max_conns = mc;
        ch_fault *f = NULL;
        sq_err err = {{0}};
        int rc = ch_fault_plan(&s, &f, &err), m = 0;
        if (rc == 0) {
            json_t *px = json_object_get(json_array_get(ch_fault_ops(f), 0), "proxy");
            m = (int)json_integer_value(json_object_get(px, "max_conns"));
            ch_fault_free(f);
        }
        dprintf(pfd[1], "%d %d %s", rc, m, err.msg);
        _exit(0);
    }
    close(pfd[1]);
    char buf[600] = "";
    ssize_t r = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (r <= 0 || !WIFEXITED(st) || WEXITSTATUS(st))
        return 1001;
    buf[r] = '\0';
    int rc = 0, off = 0;
    if (sscanf(buf, "%d %d %n", &rc, got, &off) < 2)
        return 1002;
    snprintf(msg, len, "%s", buf + off);
    return rc;
}

/* --max-conns is held to the open-files hard limit: two descriptors per
 * connection beside a reserve the revert always has; the default is
 * lowered to what fits, and a limit below the reserve is refused. */
static void test_plan_max_conns_nofile(void **state)
{
    (void)state;
    int got = -1;
    char msg[512];
    assert_int_equal(plan_under_nofile(200, 500, &got, msg, sizeof msg), -EINVAL);
    if (!strstr(msg, "--max-conns 500") || !strstr(msg, "open files") || !strstr(msg, "at most 68"))
        fail_msg("message '%s'", msg);
    assert_int_equal(plan_under_nofile(200, 69, &got, msg, sizeof msg), -EINVAL);
    assert_int_equal(plan_under_nofile(200, 68, &got, msg, sizeof msg), 0);
    assert_int_equal(got, 68);
    assert_int_equal(plan_under_nofile(200, 0, &got, msg, sizeof msg), 0);
    assert_int_equal(got, (200 - CH_PROXY_FD_RESERVE) / 2); /* the default, lowered */
    assert_int_equal(plan_under_nofile(65, 0, &got, msg, sizeof msg), -EMFILE);
    if (!strstr(msg, "too low for the proxy"))
        fail_msg("message '%s'", msg);
    assert_int_equal(plan_under_nofile(4096, 0, &got, msg, sizeof msg), 0);
    assert_int_equal(got, CH_PROXY_MAX_CONNS);
    long hard;
    assert_true(ch_proxy_conn_limit(&hard) >= 1);
}

/* The proxy itself refuses to start when the descriptors open now leave
 * no room beside the reserve, and starts (on another port than the
 * faulted one) when they do. */
static void test_proxy_nofile(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {1024, 1024};
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(1);
        ch_proxy_cfg cfg = {.port = 9, .max_conns = 1024, .buf_cap = CH_PROXY_BUF, .mark = 0};
        ch_proxy *p = NULL;
        sq_err err = {{0}};
        if (ch_proxy_start(&cfg, &p, &err) != 0)
            _exit(2);
        int port = ch_proxy_port(p);
        ch_proxy_stats st;
        ch_proxy_stop(p, &st);
        if (port <= 0 || port == 9 || st.conns != 0)
            _exit(3);
        rl.rlim_cur = rl.rlim_max = CH_PROXY_FD_RESERVE + 4;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(4);
        p = NULL;
        if (ch_proxy_start(&cfg, &p, &err) != -EMFILE || p || !strstr(err.msg, "leaves no room"))
            _exit(5);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* A proxy plan: one nat iptables op whose rules wait for the proxy's port,
 * and which the journal checks would refuse until the port is filled in. */
static void test_plan_proxy(void **state)
{
    (void)state;
    ch_spec s;
    base(&s);
    s.jitter_ns = 10000000;
    s.direction = CH_DIR_BOTH;
    ch_fault *f = NULL;
    sq_err err;
    assert_int_equal(ch_fault_plan(&s, &f, &err), 0);
    json_t *ops = ch_fault_ops(f);
    assert_int_equal(json_array_size(ops), 1);
    json_t *op = json_array_get(ops, 0);
    assert_string_equal(json_string_value(json_object_get(op, "type")), "iptables");
    assert_string_equal(json_string_value(json_object_get(op, "table")), "nat");
    json_t *px = json_object_get(op, "proxy");
    assert_int_equal(json_integer_value(json_object_get(px, "port")), 8080);
    assert_string_equal(json_string_value(json_object_get(px, "direction")), "both");
    assert_int_equal(json_integer_value(json_object_get(px, "max_conns")), CH_PROXY_MAX_CONNS);
    json_t *args = json_object_get(json_array_get(json_object_get(op, "rules"), 0), "args");
    assert_string_equal(json_string_value(json_array_get(args, json_array_size(args) - 1)),
                        CH_PROXY_PORT_TOKEN);
    int active;
    assert_int_equal(ch_op_check(op, &active, &err), -EINVAL); /* no port yet: refused */
    char line[256];
    assert_non_null(strstr(ch_op_summary(op, line, sizeof line), "delay proxy"));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ch_fault_describe(f, out);
    fclose(out);
    assert_non_null(strstr(text, "*nat"));
    assert_non_null(strstr(text, "-I PREROUTING 1 -m comment --comment squall -j SQUALL-NAT-PRE"));
    assert_non_null(strstr(text, "-I OUTPUT 1 -m comment --comment squall -j SQUALL-NAT-OUT"));
    assert_non_null(strstr(text, "SO_MARK 0x5157"));
    assert_non_null(strstr(text, "revert: then the proxy stops"));
    free(text);
    ch_fault_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayq_order),   cmocka_unit_test(test_delayq_eof),
        cmocka_unit_test(test_delayq_room),    cmocka_unit_test(test_delay_pick),
        cmocka_unit_test(test_heap),           cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_plan_proxy),     cmocka_unit_test(test_plan_netem_units),
        cmocka_unit_test(test_plan_max_conns_nofile), cmocka_unit_test(test_proxy_nofile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
