/* test_slo_parse.c — unit tests for reports/slo_parse.c: every form of
 * DESIGN.md's SLO expressions parses to the right fields, and typos,
 * unknown metrics, bad numbers and impossible combinations are rejected with
 * the column of the offending token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"

/* Parses text, asserting success; returns the result. */
static rp_slo ok(const char *text)
{
    rp_slo s;
    sq_err err = {{0}};
    int rc = rp_slo_parse(text, &s, &err);
    if (rc != 0)
        fail_msg("'%s' should parse but: %s", text, err.msg);
    return s;
}

/* Asserts that text is rejected with a message starting "column COL:" and
 * containing `needle`. */
static void bad(const char *text, int col, const char *needle)
{
    rp_slo s;
    memset(&s, 0x5a, sizeof s);
    sq_err err = {{0}};
    int rc = rp_slo_parse(text, &s, &err);
    if (rc != -EINVAL)
        fail_msg("'%s' should be rejected (rc %d)", text, rc);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "column %d: ", col);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("'%s': expected '%s...', got '%s'", text, prefix, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': expected '%s' in '%s'", text, needle, err.msg);
    assert_null(strchr(err.msg, '\n'));
    /* output untouched on failure */
    assert_int_equal(((unsigned char *)&s)[0], 0x5a);
}

static void test_ratio_objectives(void **state)
{
    (void)state;
    rp_slo s = ok("availability 99.9% good=status<500");
    assert_int_equal(s.metric, RP_M_AVAILABILITY);
    assert_true(s.is_ratio);
    assert_float_equal(s.objective, 0.999, 1e-12);
    assert_int_equal(s.good.cmp, RP_LT);
    assert_int_equal(s.good.code, 500);
    assert_false(s.good.is_class);
    assert_string_equal(s.name, "availability");
    assert_string_equal(rp_slo_valet(&s), "Availability");

    s = ok("  availability 99% good = status != 5xx ");
    assert_int_equal(s.good.cmp, RP_NE);
    assert_true(s.good.is_class);
    assert_int_equal(s.good.code, 5);
    assert_string_equal(s.text, "availability 99% good = status != 5xx");

    s = ok("latency 99% < 300ms");
    assert_int_equal(s.metric, RP_M_LATENCY);
    assert_true(s.is_ratio);
    assert_float_equal(s.objective, 0.99, 1e-12);
    assert_int_equal(s.cmp, RP_LT);
    assert_float_equal(s.target, 300.0, 1e-9);
    assert_string_equal(rp_slo_valet(&s), "Latency");

    s = ok("latency 95%<=1.5s");
    assert_int_equal(s.cmp, RP_LE);
    assert_float_equal(s.target, 1500.0, 1e-9);
}

static void test_thresholds(void **state)
{
    (void)state;
    rp_slo s = ok("p(99) < 300ms");
    assert_int_equal(s.metric, RP_M_PERCENTILE);
    assert_false(s.is_ratio);
    assert_float_equal(s.percentile, 99, 0);
    assert_float_equal(s.target, 300, 1e-9);
    assert_string_equal(s.name, "p(99)");

    s = ok("p(99.9)<=250us");
    assert_float_equal(s.percentile, 99.9, 1e-12);
    assert_float_equal(s.target, 0.25, 1e-12);
    assert_string_equal(s.name, "p(99.9)");

    s = ok("p(100) < 2s");
    assert_float_equal(s.percentile, 100, 0);
    s = ok("p(0) >= 1ms");
    assert_int_equal(s.cmp, RP_GE);

    s = ok("max < 2s");
    assert_int_equal(s.metric, RP_M_MAX);
    s = ok("mean <= 80ms");
    assert_int_equal(s.metric, RP_M_MEAN);

    s = ok("rate(status==400) < 0.5%");
    assert_int_equal(s.metric, RP_M_RATE);
    assert_int_equal(s.good.cmp, RP_EQ);
    assert_int_equal(s.good.code, 400);
    assert_float_equal(s.target, 0.005, 1e-12);
    assert_string_equal(s.name, "rate(status==400)");
    assert_string_equal(rp_slo_valet(&s), "Errors");

    s = ok("rate(status>=500) < 0.01");
    assert_float_equal(s.target, 0.01, 1e-12);

    s = ok("error_rate < 1%");
    assert_int_equal(s.metric, RP_M_ERROR_RATE);
    assert_float_equal(s.target, 0.01, 1e-12);

    s = ok("achieved_rate >= 99% of intended");
    assert_int_equal(s.metric, RP_M_ACHIEVED_RATE);
    assert_true(s.of_intended);
    assert_float_equal(s.target, 0.99, 1e-12);
    assert_string_equal(rp_slo_valet(&s), "Volume");

    s = ok("achieved_rate >= 2.5k");
    assert_false(s.of_intended);
    assert_float_equal(s.target, 2500, 1e-9);

    s = ok("recovery < 60s after nic-down");
    assert_int_equal(s.metric, RP_M_RECOVERY);
    assert_int_equal(s.scope, RP_SCOPE_AFTER);
    assert_string_equal(s.scope_name, "nic-down");
    assert_float_equal(s.target, 60, 1e-9);
    assert_string_equal(s.name, "recovery after nic-down");
    assert_string_equal(rp_slo_valet(&s), "Tickets");
}

static void test_modifiers(void **state)
{
    (void)state;
    rp_slo s = ok("p(99) < 500ms during db-loss");
    assert_int_equal(s.scope, RP_SCOPE_DURING);
    assert_string_equal(s.scope_name, "db-loss");
    assert_string_equal(s.name, "p(99) during db-loss");

    s = ok("error_rate < 1% phase peak for 10s");
    assert_int_equal(s.scope, RP_SCOPE_PHASE);
    assert_string_equal(s.scope_name, "peak");
    assert_int_equal(s.for_ns, 10 * SQ_NS_PER_S);

    s = ok("p(90) < 1s for 1m30s after \"kill worker\"");
    assert_int_equal(s.scope, RP_SCOPE_AFTER);
    assert_string_equal(s.scope_name, "kill worker");
    assert_int_equal(s.for_ns, 90 * SQ_NS_PER_S);

    s = ok("availability 99.9% good=status<500 route=\"POST /api/orders\"");
    assert_string_equal(s.route, "POST /api/orders");
    assert_string_equal(s.name, "availability POST /api/orders");

    s = ok("p(99) < 300ms route=\"GET /a \\\"q\\\"\"");
    assert_string_equal(s.route, "GET /a \"q\"");

    s = ok("error_rate > 50% for 10s"); /* the abort-condition form */
    assert_int_equal(s.cmp, RP_GT);
}

static void test_unknown_metrics_and_typos(void **state)
{
    (void)state;
    bad("p99 < 300ms", 1, "did you mean p(99)?");
    bad("error_rat < 1%", 1, "did you mean error_rate?");
    bad("availabilty 99.9% good=status<500", 1, "did you mean availability?");
    bad("latncy 99% < 300ms", 1, "did you mean latency?");
    bad("throughput > 5", 1, "unknown metric 'throughput'");
    bad("", 1, "empty objective");
    bad("   ", 4, "empty objective");
    bad("P(99) < 1s", 1, "unknown metric 'P'");
    bad("availability 99.9% good=stats<500", 25, "did you mean status?");
    bad("p(99) < 300ms durin db-loss", 15, "did you mean during?");
    bad("p(99) < 300ms garbage", 15, "unexpected 'garbage'");
}

static void test_bad_numbers(void **state)
{
    (void)state;
    bad("p(101) < 300ms", 3, "outside 0..100");
    bad("p(-1) < 300ms", 3, "a percentile");
    bad("p(abc) < 300ms", 3, "a percentile");
    bad("p(99 < 300ms", 6, "expected ')'");
    bad("p 99 < 300ms", 3, "expected '('");
    bad("p(99) < 300", 9, "not a duration");
    bad("p(99) < 300xs", 9, "not a duration");
    bad("p(99) < ", 9, "found the end");
    bad("p(99) 300ms", 7, "expected a comparison");
    bad("p(99) = 300ms", 7, "'=' is not a comparison");
    bad("p(99) == 300ms", 7, "cannot be used");
    bad("availability 99.9 good=status<500", 14, "percentage");
    bad("availability 101% good=status<500", 14, "out of range");
    bad("availability 99.9%", 19, "expected good=");
    bad("availability 99.9% good=status<600", 32, "status code 100..599");
    bad("availability 99.9% good=status<50", 32, "status code");
    bad("rate(status>5xx) < 1%", 13, "== or != only");
    bad("rate(status==400) < 5", 21, "did you mean 5%");
    bad("error_rate < 150%", 14, "out of range");
    bad("latency 99% > 300ms", 13, "cannot be used");
    bad("achieved_rate >= 99% of planned", 25, "expected 'intended'");
    bad("achieved_rate >= 10xpeak", 18, "of intended");
    bad("achieved_rate >= fast", 18, "not a rate");
    bad("error_rate < 1% for 0s", 17, "longer than 0");
}

static void test_bad_structure(void **state)
{
    (void)state;
    bad("recovery < 60s", 1, "add 'after FAULT'");
    bad("recovery < 60s during x", 16, "add 'after FAULT'");
    bad("p(99) < 1s during a after b", 21, "only one of");
    bad("p(99) < 1s for 1s for 2s", 19, "given twice");
    bad("p(99) < 1s route=\"GET /\" during x", 12, "whole-run totals");
    bad("p(99) < 1s route=GET", 18, "quoted route");
    bad("p(99) < 1s route=\"GET /", 18, "unterminated string");
    bad("achieved_rate >= 99% of intended route=\"GET /\"", 34, "no per-route value");
    bad("availability 99% good=status<500 for 10s", 34, "'for' applies to thresholds");
    bad("p(99) < 1s during", 18, "expected a name after 'during'");
    bad("p(99) < 1s; drop", 11, "unexpected character ';'");
    bad("p(99) < 1s\x01", 11, "control character 0x01");
    bad("p(99) ! 1s", 7, "write !=");
    bad("p(99) < 1s during \"a\x02\"", 21, "control character");
}

static void test_long_and_many(void **state)
{
    (void)state;
    char buf[2048];
    memset(buf, 'a', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    sq_err err;
    rp_slo s;
    assert_int_equal(rp_slo_parse(buf, &s, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));
    /* 70 tokens */
    char many[RP_SLO_TEXT_MAX - 1];
    size_t o = 0;
    o += (size_t)snprintf(many, sizeof many, "p(99) < 1s");
    while (o + 3 < sizeof many - 1) {
        memcpy(many + o, " (", 2);
        o += 2;
    }
    many[o] = '\0';
    assert_int_equal(rp_slo_parse(many, &s, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "too many words"));
}

static void test_caret(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    rp_slo s;
    sq_err err;
    const char *text = "p(99) < 300ms durin\x01x";
    assert_int_equal(rp_slo_parse("p(99) < 300ms durin x", &s, &err), -EINVAL);
    FILE *f = open_memstream(&buf, &len);
    rp_slo_caret(f, "p(99) < 300ms durin x", &err);
    fclose(f);
    assert_string_equal(buf, "    p(99) < 300ms durin x\n                  ^\n");
    free(buf);
    assert_int_equal(rp_slo_parse(text, &s, &err), -EINVAL);
    f = open_memstream(&buf, &len);
    rp_slo_caret(f, text, &err);
    fclose(f);
    assert_string_equal(buf, "    p(99) < 300ms durin?x\n                       ^\n");
    free(buf);
    sq_err other = {"not a column message"};
    f = open_memstream(&buf, &len);
    rp_slo_caret(f, text, &other);
    fclose(f);
    assert_string_equal(buf, "");
    free(buf);
}

static void test_helpers(void **state)
{
    (void)state;
    rp_cond c = {RP_LT, 500, 0};
    assert_true(rp_cond_holds(&c, 200));
    assert_true(rp_cond_holds(&c, 499));
    assert_false(rp_cond_holds(&c, 500));
    rp_cond k = {RP_EQ, 5, 1};
    assert_true(rp_cond_holds(&k, 503));
    assert_false(rp_cond_holds(&k, 499));
    assert_true(rp_cmp_holds(RP_GE, 1, 1));
    assert_false(rp_cmp_holds(RP_GT, 1, 1));
    assert_string_equal(rp_cmp_text(RP_NE), "!=");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratio_objectives),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_unknown_metrics_and_typos),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_bad_structure),
        cmocka_unit_test(test_long_and_many),
        cmocka_unit_test(test_caret),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
