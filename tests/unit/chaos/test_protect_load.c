/* test_protect_load.c — unit tests for chaos/protect_load.c: the matcher
 * that tells whether a packet fault's planned rules would cut a TCP flow
 * (ports at either end, directions, CIDRs, partition peers, protocols, the
 * SSH exemption, loopback guards), and the parser of /proc/net/tcp lines.
 * Synthetic flows only; nothing is read from /proc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chaos/ch_internal.h"

/* Host-order IPv4 address of dotted text. */
static uint32_t ip(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

/* A flow local lport -> remote rport, not over loopback. */
static ch_flow flow(const char *l, int lport, const char *r, int rport)
{
    ch_flow f = {.local = ip(l), .remote = ip(r), .lport = lport, .rport = rport};
    return f;
}

/* Plans the rules of spec (must succeed) and tells whether they cut fl. */
static int cuts(const ch_spec *s, const ch_flow *fl)
{
    json_t *rules = json_array();
    sq_err err;
    int rc = ch_ipt_rules(s, "t1", rules, &err);
    if (rc)
        fail_msg("ch_ipt_rules: %s", err.msg);
    int r = ch_rules_cut_flow(rules, fl);
    json_decref(rules);
    return r;
}

/* The load's connection, client side (in the client's namespace). */
static ch_flow client(void)
{
    return flow("10.231.5.1", 40312, "10.231.5.2", 8080);
}

static void test_port_either_end(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    s.port = 8080;
    s.direction = CH_DIR_OUT;
    ch_flow c = client();
    assert_int_equal(cuts(&s, &c), 1); /* remote port */
    s.direction = CH_DIR_IN;
    assert_int_equal(cuts(&s, &c), 1); /* replies come from port 8080 */
    ch_flow srv = flow("10.231.5.2", 8080, "10.231.5.1", 40312);
    assert_int_equal(cuts(&s, &srv), 1); /* local port, server side */
    s.port = 40312;
    assert_int_equal(cuts(&s, &c), 1); /* the client's ephemeral port */
    s.port = 9090;
    assert_int_equal(cuts(&s, &c), 0);
    assert_int_equal(cuts(&s, &srv), 0);
}

static void test_directions_and_cidrs(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    ch_flow c = client();
    /* out: the remote end is the destination. */
    s.direction = CH_DIR_OUT;
    s.dst = "10.231.5.0/24";
    assert_int_equal(cuts(&s, &c), 1);
    s.dst = "10.231.5.2";
    assert_int_equal(cuts(&s, &c), 1);
    s.dst = "10.231.6.0/24";
    assert_int_equal(cuts(&s, &c), 0);
    s.dst = "10.231.5.1"; /* our own address is the source of what leaves */
    assert_int_equal(cuts(&s, &c), 0);
    s.dst = NULL;
    s.src = "10.231.5.1";
    assert_int_equal(cuts(&s, &c), 1);
    /* in: the remote end is the source. */
    s.direction = CH_DIR_IN;
    s.src = "10.231.5.2/32";
    assert_int_equal(cuts(&s, &c), 1);
    s.src = "10.231.5.1/32";
    assert_int_equal(cuts(&s, &c), 0);
    s.src = NULL;
    s.dst = "10.231.5.1";
    assert_int_equal(cuts(&s, &c), 1);
    s.dst = "10.231.5.2";
    assert_int_equal(cuts(&s, &c), 0);
    /* both: either chain may cut it. */
    s.direction = CH_DIR_BOTH;
    assert_int_equal(cuts(&s, &c), 1); /* SQUALL-OUT -d 10.231.5.2 */
    s.dst = "10.0.0.0/8";
    assert_int_equal(cuts(&s, &c), 1);
    s.dst = "192.168.0.0/16";
    assert_int_equal(cuts(&s, &c), 0);
}

static void test_partition_peers(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_PARTITION);
    ch_flow c = client();
    s.peers = "10.9.0.0/16,10.231.5.2/32";
    assert_int_equal(cuts(&s, &c), 1);
    s.peers = "10.231.5.0/30";
    assert_int_equal(cuts(&s, &c), 1);
    s.peers = "10.9.0.0/16,192.168.1.1";
    assert_int_equal(cuts(&s, &c), 0);
    /* A flow whose remote end is the peer, seen from the peer's side. */
    ch_flow srv = flow("10.231.5.2", 8080, "10.231.5.1", 40312);
    s.peers = "10.231.5.1";
    assert_int_equal(cuts(&s, &srv), 1);
    s.port = 8080;
    s.proto = "tcp";
    assert_int_equal(cuts(&s, &srv), 1);
    s.port = 9090;
    assert_int_equal(cuts(&s, &srv), 0);
}

static void test_protocols(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    ch_flow c = client();
    s.direction = CH_DIR_BOTH;
    s.port = 8080;
    s.proto = "udp";
    assert_int_equal(cuts(&s, &c), 0); /* a udp rule never matches tcp */
    s.port = 0;
    assert_int_equal(cuts(&s, &c), 0);
    s.proto = "icmp";
    assert_int_equal(cuts(&s, &c), 0);
    s.proto = "all";
    assert_int_equal(cuts(&s, &c), 1);
    s.proto = "tcp";
    assert_int_equal(cuts(&s, &c), 1);
    s.proto = NULL;
    assert_int_equal(cuts(&s, &c), 1);
    /* reject and loss cut (some of) the packets too. */
    ch_spec_init(&s, CH_REJECT);
    s.port = 8080;
    assert_int_equal(cuts(&s, &c), 1);
    ch_spec_init(&s, CH_LOSS);
    s.port = 8080;
    s.probability = 0.1;
    assert_int_equal(cuts(&s, &c), 1);
}

static void test_ssh_and_loopback(void **state)
{
    (void)state;
    ch_spec s;
    ch_spec_init(&s, CH_DROP);
    s.direction = CH_DIR_BOTH;
    /* A rule on every port exempts SSH first: a flow to port 22 survives. */
    ch_flow ssh = flow("10.231.5.1", 40000, "10.231.5.2", 22);
    assert_int_equal(cuts(&s, &ssh), 0);
    ch_flow c = client();
    assert_int_equal(cuts(&s, &c), 1);
    /* "! -i lo" / "! -o lo": a flow over loopback is spared. */
    ch_flow lo = flow("127.0.0.1", 40000, "127.0.0.1", 8080);
    lo.loopback = 1;
    s.port = 8080;
    assert_int_equal(cuts(&s, &lo), 0);
    lo.loopback = 0;
    assert_int_equal(cuts(&s, &lo), 1);
}

static void test_rules_by_hand(void **state)
{
    (void)state;
    json_error_t je;
    json_t *rules = json_loads(
        "[{\"chain\":\"SQUALL-OUT\",\"args\":[\"-p\",\"tcp\",\"-m\",\"multiport\",\"--ports\","
        "\"8080\",\"-j\",\"RETURN\"]},"
        "{\"chain\":\"SQUALL-OUT\",\"args\":[\"-d\",\"10.231.5.0/24\",\"-j\",\"DROP\"]}]",
        0, &je);
    assert_non_null(rules);
    ch_flow c = client();
    assert_int_equal(ch_rules_cut_flow(rules, &c), 0); /* RETURN comes first */
    c.rport = 8081;
    assert_int_equal(ch_rules_cut_flow(rules, &c), 1);
    json_t *empty = json_array();
    assert_int_equal(ch_rules_cut_flow(empty, &c), 0);
    json_decref(empty);
    json_decref(rules);
}

static void test_parse_tcp_line(void **state)
{
    (void)state;
    ch_flow fl;
    unsigned long ino;
    int st;
    const char *hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                      "retrnsmt   uid  timeout inode";
    assert_int_equal(ch_parse_tcp_line(hdr, &fl, &ino, &st), -EINVAL);
    /* 10.231.5.1:40312 -> 10.231.5.2:8080, ESTABLISHED (little-endian words). */
    char line[256];
    uint32_t l = htonl(ip("10.231.5.1")), r = htonl(ip("10.231.5.2"));
    snprintf(line, sizeof line,
             "   3: %08X:9D78 %08X:1F90 01 00000000:00000000 00:00000000 00000000     0        "
             "0 123456 1 0000000000000000 20 4 30 10 -1\n",
             (unsigned)l, (unsigned)r);
    assert_int_equal(ch_parse_tcp_line(line, &fl, &ino, &st), 0);
    assert_int_equal(fl.local, ip("10.231.5.1"));
    assert_int_equal(fl.remote, ip("10.231.5.2"));
    assert_int_equal(fl.lport, 40312);
    assert_int_equal(fl.rport, 8080);
    assert_int_equal(fl.loopback, 0);
    assert_int_equal(ino, 123456);
    assert_int_equal(st, 1);
    /* tcp6, IPv4-mapped ::ffff:127.0.0.1, LISTEN. */
    uint32_t mapped = htonl(0xffffu), lo = htonl(ip("127.0.0.1"));
    snprintf(line, sizeof line,
             "   0: 0000000000000000%08X%08X:1F90 0000000000000000%08X%08X:9D78 0A "
             "00000000:00000000 00:00000000 00000000  1000        0 77 1\n",
             (unsigned)mapped, (unsigned)lo, (unsigned)mapped, (unsigned)lo);
    assert_int_equal(ch_parse_tcp_line(line, &fl, &ino, &st), 0);
    assert_int_equal(fl.local, ip("127.0.0.1"));
    assert_int_equal(fl.loopback, 1);
    assert_int_equal(st, 0x0A);
    assert_int_equal(ino, 77);
    /* A real IPv6 flow: iptables (IPv4) never matches it. */
    assert_int_equal(ch_parse_tcp_line("   0: 20010DB8000000000000000000000001:1F90 "
                                       "20010DB8000000000000000000000002:9D78 01 "
                                       "00000000:00000000 00:00000000 00000000 0 0 5 1\n",
                                       &fl, &ino, &st),
                     -EAFNOSUPPORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_either_end),  cmocka_unit_test(test_directions_and_cidrs),
        cmocka_unit_test(test_partition_peers),  cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_ssh_and_loopback), cmocka_unit_test(test_rules_by_hand),
        cmocka_unit_test(test_parse_tcp_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
