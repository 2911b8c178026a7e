/* test_correlate.c — chaos correlation on synthetic series with a known
 * impact and recovery: baseline / during / recovery windows, time to
 * impact, time to recover, no impact (nulls), no recovery, health judged by
 * the run's objectives or, without objectives, against the baseline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "reports/reports.h"
#include "fixture.h"

/* 60 intervals of 100 requests at 10 ms. Fault "net-loss" 20 s..30 s hurts
 * intervals 22..33 (40% 503 at 300 ms); "noop" 45 s..50 s hurts nothing;
 * "crash" at 52 s is never reverted and hurts 53.. to the end. */
static void write_run(const char *dir, const char *slos)
{
    fx_run_json(dir, slos);
    for (int t = 0; t < 60; t++) {
        fx_interval iv = fx_ok(t, 100, 10000);
        if ((t >= 22 && t <= 33) || t >= 53) {
            iv.code_counts[0] = 60;
            iv.codes[1] = 503;
            iv.code_counts[1] = 40;
            iv.lat_counts[0] = 60;
            iv.lat_us[1] = 300000;
            iv.lat_counts[1] = 40;
        }
        fx_interval_line(dir, &iv);
    }
    fx_fault_event(dir, "fault_applied", "net-loss", "loss", 20.0);
    fx_fault_event(dir, "fault_reverted", "net-loss", "loss", 30.0);
    fx_fault_event(dir, "fault_applied", "noop", "delay", 45.0);
    fx_fault_event(dir, "fault_reverted", "noop", "delay", 50.0);
    fx_fault_event(dir, "fault_applied", "crash", "kill", 52.0);
}

/* summary.json of dir (extra objectives: none). */
static json_t *summarize(const char *dir)
{
    rp_report *r = NULL;
    sq_err err;
    if (rp_report_load(dir, NULL, 0, &r, &err))
        fail_msg("%s", err.msg);
    json_t *s = rp_report_summary(r);
    rp_report_free(r);
    return s;
}

/* Number member of o (fails when not a number). */
static double numv(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

/* Checks the three faults of write_run in s. */
static void check_faults(const json_t *s)
{
    const json_t *faults = json_object_get(s, "faults");
    assert_int_equal(json_array_size(faults), 3);
    const json_t *a = json_array_get(faults, 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "net-loss");
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "loss");
    assert_float_equal(numv(a, "applied_at_s"), 20, 1e-9);
    assert_float_equal(numv(a, "reverted_at_s"), 30, 1e-9);
    assert_float_equal(numv(a, "time_to_impact_s"), 2.0, 1e-9);
    assert_float_equal(numv(a, "time_to_recover_s"), 4.0, 1e-9);
    assert_true(json_is_true(json_object_get(a, "recovered")));
    /* windows of L = 10 s: baseline 10..20, during 20..30, recovery 30..40 */
    const json_t *base = json_object_get(a, "baseline");
    const json_t *during = json_object_get(a, "during");
    const json_t *recov = json_object_get(a, "recovery");
    assert_float_equal(numv(base, "start_s"), 10, 1e-9);
    assert_float_equal(numv(base, "end_s"), 20, 1e-9);
    assert_float_equal(numv(base, "error_rate"), 0, 0);
    assert_float_equal(numv(base, "p99_ms"), 10, 0.01);
    assert_float_equal(numv(base, "throughput_rps"), 100, 1e-9);
    assert_float_equal(numv(during, "error_rate"), 320.0 / 1000, 1e-12);
    assert_float_equal(numv(during, "p99_ms"), 300, 0.3);
    assert_float_equal(numv(during, "p50_ms"), 10, 0.01);
    assert_float_equal(numv(during, "requests"), 1000, 0);
    assert_float_equal(numv(recov, "error_rate"), 160.0 / 1000, 1e-12);
    assert_float_equal(numv(recov, "start_s"), 30, 1e-9);
    assert_float_equal(numv(recov, "end_s"), 40, 1e-9);

    const json_t *b = json_array_get(faults, 1);
    assert_true(json_is_null(json_object_get(b, "time_to_impact_s")));
    assert_true(json_is_null(json_object_get(b, "time_to_recover_s")));
    assert_true(json_is_true(json_object_get(b, "recovered")));
    /* noop's baseline starts after net-loss ended (30 s), not 10 s before */
    assert_float_equal(numv(json_object_get(b, "baseline"), "start_s"), 35, 1e-9);

    const json_t *c = json_array_get(faults, 2);
    assert_true(json_is_null(json_object_get(c, "reverted_at_s")));
    assert_float_equal(numv(c, "time_to_impact_s"), 1.0, 1e-9);
    assert_true(json_is_null(json_object_get(c, "time_to_recover_s")));
    assert_false(json_is_true(json_object_get(c, "recovered")));
    assert_true(json_is_null(json_object_get(c, "recovery")));
}

static void test_baseline_health(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_run(dir, "[]");
    json_t *s = summarize(dir);
    check_faults(s);
    json_decref(s);
    fx_rmdir(dir);
}

static void test_objective_health(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_run(dir, "[\"error_rate < 5%\", \"availability 99% good=status<500\","
                   " \"recovery < 5s after net-loss\", \"recovery < 3s after net-loss\","
                   " \"recovery < 1s after noop\", \"recovery < 60s after crash\","
                   " \"p(99) < 500ms during net-loss\"]");
    json_t *s = summarize(dir);
    check_faults(s);
    const json_t *objs = json_object_get(s, "objectives");
    const json_t *o = json_array_get(objs, 2);
    assert_float_equal(numv(o, "observed"), 4.0, 1e-9);
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_false(json_is_true(json_object_get(json_array_get(objs, 3), "ok")));
    o = json_array_get(objs, 4); /* no impact: recovered at once */
    assert_float_equal(numv(o, "observed"), 0, 0);
    assert_true(json_is_true(json_object_get(o, "ok")));
    o = json_array_get(objs, 5); /* never reverted, never recovered */
    assert_false(json_is_true(json_object_get(o, "ok")));
    assert_true(json_is_true(json_object_get(o, "observed_is_lower_bound")));
    assert_true(json_is_true(json_object_get(json_array_get(objs, 6), "ok")));
    json_decref(s);
    fx_rmdir(dir);
}

static void test_lagging_impact(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[]");
    /* the fault runs 10..12 s; the damage shows only at 14..15 s (a queue
     * draining) and is gone from 16 s */
    for (int t = 0; t < 30; t++) {
        fx_interval iv = fx_ok(t, 100, 5000);
        if (t == 14 || t == 15) {
            iv.lat_us[0] = 900000;
        }
        fx_interval_line(dir, &iv);
    }
    fx_fault_event(dir, "fault_applied", "stall", "stop", 10.5);
    fx_fault_event(dir, "fault_reverted", "stall", "stop", 12.0);
    json_t *s = summarize(dir);
    const json_t *f = json_array_get(json_object_get(s, "faults"), 0);
    assert_float_equal(numv(f, "time_to_impact_s"), 3.5, 1e-9);
    assert_float_equal(numv(f, "time_to_recover_s"), 4.0, 1e-9);
    json_decref(s);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_health),
        cmocka_unit_test(test_objective_health),
        cmocka_unit_test(test_lagging_impact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
