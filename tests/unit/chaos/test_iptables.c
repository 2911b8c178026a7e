/* test_iptables.c — unit tests for chaos/fault_iptables.c rule building:
 * the exact rule text for each fault kind (delay --port's nat rules too),
 * the SSH exemption, loopback guards, every validation error, and forged
 * journal ops refused. No iptables is run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chaos/ch_internal.h"

/* Builds the rules for spec and joins rule i as "CHAIN args..." into buf.
 * Returns the number of rules, or the negative error. */
static int build(const ch_spec *s, json_t **rules, sq_err *err)
{
    *rules = json_array();
    int rc = ch_ipt_rules(s, "t1", *rules, err);
    return rc ? rc : (int)json_array_size(*rules);
}

static const char *rule_text(json_t *rules, size_t i, char *buf, size_t len)
{
    json_t *r = json_array_get(rules, i);
    size_t n = (size_t)snprintf(buf, len, "%s", json_string_value(json_object_get(r, "chain")));
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(r, "args"), k, t)
        n += (size_t)snprintf(buf + n, len - n, " %s", json_string_value(t));
    return buf;
}

static void test_drop_port_in(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    s.port = 8080;
    json_t *rules;
    sq_err err;
    char buf[512];
    assert_int_equal(build(&s, &rules, &err), 1);
    assert_string_equal(rule_text(rules, 0, buf, sizeof buf),
                        "SQUALL-IN ! -i lo -p tcp -m multiport --ports 8080 -m comment --comment "
                        "squall:t1 -j DROP");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "parent")),
                        "INPUT");
    json_decref(rules);
}

static void test_reject_both_directions(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_REJECT);
    s.port = 80;
    s.direction = CH_DIR_BOTH;
    s.src = "10.1.2.0/24";
    json_t *rules;
    sq_err err;
    char buf[512];
    assert_int_equal(build(&s, &rules, &err), 2);
    assert_string_equal(rule_text(rules, 0, buf, sizeof buf),
                        "SQUALL-IN ! -i lo -p tcp -m multiport --ports 80 -s 10.1.2.0/24 -m "
                        "comment --comment squall:t1 -j REJECT --reject-with tcp-reset");
    assert_string_equal(rule_text(rules, 1, buf, sizeof buf),
                        "SQUALL-OUT ! -o lo -p tcp -m multiport --ports 80 -s 10.1.2.0/24 -m "
                        "comment --comment squall:t1 -j REJECT --reject-with tcp-reset");
    json_decref(rules);
}

static void test_reject_udp_icmp(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_REJECT);
    s.port = 53;
    s.proto = "udp";
    json_t *rules;
    sq_err err;
    char buf[512];
    assert_int_equal(build(&s, &rules, &err), 1);
    assert_non_null(strstr(rule_text(rules, 0, buf, sizeof buf),
                           "-p udp -m multiport --ports 53"));
    assert_non_null(strstr(buf, "--reject-with icmp-port-unreachable"));
    json_decref(rules);
}

static void test_loss_probability(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_LOSS);
    s.port = 5432;
    s.probability = 0.3;
    json_t *rules;
    sq_err err;
    char buf[512];
    assert_int_equal(build(&s, &rules, &err), 1);
    assert_non_null(strstr(rule_text(rules, 0, buf, sizeof buf),
                           "-m statistic --mode random --probability 0.300000 -m comment"));
    json_decref(rules);
}

static void test_partition_exempts_ssh(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_PARTITION);
    s.peers = "10.9.0.0/16,192.168.5.5";
    json_t *rules;
    sq_err err;
    char buf[512];
    /* Per direction: the SSH RETURN and one DROP per peer. */
    assert_int_equal(build(&s, &rules, &err), 6);
    assert_string_equal(rule_text(rules, 0, buf, sizeof buf),
                        "SQUALL-IN -p tcp -m multiport --ports 22 -m comment --comment squall:t1 "
                        "-j RETURN");
    assert_string_equal(rule_text(rules, 1, buf, sizeof buf),
                        "SQUALL-IN ! -i lo -s 10.9.0.0/16 -m comment --comment squall:t1 -j DROP");
    assert_string_equal(rule_text(rules, 2, buf, sizeof buf),
                        "SQUALL-IN ! -i lo -s 192.168.5.5 -m comment --comment squall:t1 -j DROP");
    assert_string_equal(rule_text(rules, 5, buf, sizeof buf),
                        "SQUALL-OUT ! -o lo -d 192.168.5.5 -m comment --comment squall:t1 -j DROP");
    json_decref(rules);
}

static void test_force_drops_guards(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    s.force = 1;
    s.port = 22;
    json_t *rules;
    sq_err err;
    char buf[512];
    assert_int_equal(build(&s, &rules, &err), 1);
    assert_string_equal(rule_text(rules, 0, buf, sizeof buf),
                        "SQUALL-IN -p tcp -m multiport --ports 22 -m comment --comment squall:t1 "
                        "-j DROP");
    json_decref(rules);
}

/* Expects build() to fail with code and a message containing want. */
static void expect_error(const ch_spec *s, int code, const char *want)
{
    json_t *rules;
    sq_err err = {{0}};
    assert_int_equal(build(s, &rules, &err), code);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
    json_decref(rules);
}

static void test_errors(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    s.port = 22;
    expect_error(&s, -EPERM, "SSH");
    ch_spec_init(&s, CH_DROP);
    s.proto = "sctp";
    expect_error(&s, -EINVAL, "sctp");
    ch_spec_init(&s, CH_DROP);
    s.proto = "icmp";
    s.port = 80;
    expect_error(&s, -EINVAL, "--port needs");
    ch_spec_init(&s, CH_DROP);
    s.src = "127.0.0.1";
    expect_error(&s, -EPERM, "loopback");
    ch_spec_init(&s, CH_DROP);
    s.dst = "0.0.0.0/0";
    expect_error(&s, -EPERM, "loopback");
    ch_spec_init(&s, CH_DROP);
    s.dst = "fd00::1";
    expect_error(&s, -EINVAL, "IPv6");
    ch_spec_init(&s, CH_DROP);
    s.dst = "10.0.0.1/33";
    expect_error(&s, -EINVAL, "not an IPv4");
    ch_spec_init(&s, CH_LOSS);
    expect_error(&s, -EINVAL, "--probability");
    ch_spec_init(&s, CH_PARTITION);
    expect_error(&s, -EINVAL, "--peers");
    ch_spec_init(&s, CH_PARTITION);
    s.peers = "10.1.1.1,bad";
    expect_error(&s, -EINVAL, "'bad'");
    ch_spec_init(&s, CH_REJECT);
    s.proto = "udp";
    s.port = 53;
    s.reject_with = "tcp-reset";
    expect_error(&s, -EINVAL, "needs --proto tcp");
    ch_spec_init(&s, CH_DROP);
    s.reject_with = "icmp";
    expect_error(&s, -EINVAL, "reject only");
}

static void test_cidr(void **state)
{
    (void)state;
    sq_err err;
    assert_int_equal(ch_parse_cidr("--src", "10.1.2.3", &err), 0);
    assert_int_equal(ch_parse_cidr("--src", "10.1.2.0/24", &err), 0);
    assert_int_equal(ch_parse_cidr("--src", "10.1.2.0/", &err), -EINVAL);
    assert_int_equal(ch_parse_cidr("--src", "/24", &err), -EINVAL);
    assert_int_equal(ch_parse_cidr("--src", "10.1.2", &err), -EINVAL);
    assert_int_equal(ch_protect_cidr("--src", "127.0.0.0/8", 0, &err), -EPERM);
    assert_int_equal(ch_protect_cidr("--src", "126.0.0.0/7", 0, &err), -EPERM);
    assert_int_equal(ch_protect_cidr("--src", "128.0.0.0/8", 0, &err), 0);
    assert_int_equal(ch_protect_cidr("--src", "127.0.0.1", 1, &err), 0);
}

/* The exact nat rules: PREROUTING for connections from elsewhere, OUTPUT
 * for local ones (loopback and the proxy's own marked connections
 * excluded), each a REDIRECT to the proxy with the fault's comment. */
static void test_delay_nat_rules(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DELAY);
    s.port = 8080;
    json_t *rules = json_array();
    sq_err err;
    char buf[512];
    assert_int_equal(ch_delay_rules(&s, "t1", "40000", rules, &err), 0);
    assert_int_equal(json_array_size(rules), 2);
    assert_string_equal(rule_text(rules, 0, buf, sizeof buf),
                        "SQUALL-NAT-PRE -p tcp --dport 8080 -m comment --comment squall:t1 -j "
                        "REDIRECT --to-ports 40000");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "parent")),
                        "PREROUTING");
    assert_string_equal(rule_text(rules, 1, buf, sizeof buf),
                        "SQUALL-NAT-OUT -p tcp --dport 8080 ! -d 127.0.0.0/8 -m mark ! --mark "
                        "0x5157 -m comment --comment squall:t1 -j REDIRECT --to-ports 40000");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 1), "parent")),
                        "OUTPUT");
    json_decref(rules);

    s.src = "10.1.0.0/16";
    s.dst = "10.2.3.4";
    rules = json_array();
    assert_int_equal(ch_delay_rules(&s, "t1", "40000", rules, &err), 0);
    assert_string_equal(rule_text(rules, 1, buf, sizeof buf),
                        "SQUALL-NAT-OUT -p tcp --dport 8080 -s 10.1.0.0/16 -d 10.2.3.4 -m mark ! "
                        "--mark 0x5157 -m comment --comment squall:t1 -j REDIRECT --to-ports "
                        "40000");
    json_decref(rules);

    /* Protected: SSH and loopback, unless forced. */
    ch_spec_init(&s, CH_DELAY);
    s.port = 22;
    rules = json_array();
    assert_int_equal(ch_delay_rules(&s, "t1", "40000", rules, &err), -EPERM);
    assert_non_null(strstr(err.msg, "SSH"));
    json_decref(rules);
    s.port = 5432;
    s.dst = "127.0.0.1";
    rules = json_array();
    assert_int_equal(ch_delay_rules(&s, "t1", "40000", rules, &err), -EPERM);
    assert_non_null(strstr(err.msg, "loopback"));
    json_decref(rules);
    s.force = 1;
    s.dst = NULL;
    rules = json_array();
    assert_int_equal(ch_delay_rules(&s, "t1", "40000", rules, &err), 0);
    assert_null(strstr(rule_text(rules, 1, buf, sizeof buf), "127.0.0.0/8"));
    json_decref(rules);
}

/* A journal that was tampered with cannot make squall run other iptables
 * commands: such ops are refused before anything runs. */
static void test_journal_rules_checked(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"type\":\"iptables\",\"rules\":[{\"chain\":\"SQUALL-IN\",\"args\":[\"-j\","
        "\"DROP\\n-F INPUT\"]}]}",
        "{\"type\":\"iptables\",\"rules\":[{\"chain\":\"INPUT\",\"args\":[\"-j\",\"DROP\"]}]}",
        "{\"type\":\"iptables\",\"rules\":[{\"chain\":\"SQUALL-OUT\",\"args\":[\"a b\"]}]}",
        "{\"type\":\"iptables\",\"rules\":[{\"chain\":\"SQUALL-OUT\",\"args\":[]}]}",
        "{\"type\":\"iptables\",\"rules\":[]}",
        "{\"type\":\"iptables\",\"netns\":\"../x\",\"rules\":[{\"chain\":\"SQUALL-IN\","
        "\"args\":[\"-j\",\"DROP\"]}]}",
        /* nat (delay --port): only a REDIRECT to a port, only in our nat chains;
         * no other table. */
        "{\"type\":\"iptables\",\"table\":\"nat\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-NAT-OUT\",\"args\":[\"-j\",\"DNAT\",\"--to\","
        "\"10.0.0.1\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"nat\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-NAT-OUT\",\"args\":[\"-j\",\"REDIRECT\","
        "\"--to-ports\",\"{proxy-port}\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"nat\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-NAT-OUT\",\"args\":[\"-j\",\"REDIRECT\","
        "\"--to-ports\",\"70000\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"nat\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-NAT-OUT\",\"args\":[\"-g\",\"X\",\"-j\","
        "\"REDIRECT\",\"--to-ports\",\"4000\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"nat\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-IN\",\"args\":[\"-j\",\"REDIRECT\","
        "\"--to-ports\",\"4000\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"filter\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-NAT-PRE\",\"args\":[\"-j\",\"DROP\"]}]}",
        "{\"type\":\"iptables\",\"table\":\"mangle\",\"netns_id\":{\"dev\":1,\"ino\":2},"
        "\"rules\":[{\"chain\":\"SQUALL-IN\",\"args\":[\"-j\",\"DROP\"]}]}",
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
        cmocka_unit_test(test_drop_port_in),      cmocka_unit_test(test_reject_both_directions),
        cmocka_unit_test(test_reject_udp_icmp),   cmocka_unit_test(test_loss_probability),
        cmocka_unit_test(test_partition_exempts_ssh), cmocka_unit_test(test_force_drops_guards),
        cmocka_unit_test(test_errors),            cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_journal_rules_checked), cmocka_unit_test(test_delay_nat_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
