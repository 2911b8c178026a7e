/* test_slo_eval.c — unit tests for objective evaluation, burn-rate math and
 * summary.json on synthetic run directories with worked examples:
 * availability and latency error budgets and peak burn rates, percentile
 * thresholds with "insufficient data", sustained `for` windows, fault and
 * phase scopes, unknown faults/phases/routes (never a pass), route filters
 * from routes.json, achieved rate, verdicts and exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "reports/reports.h"
#include "fixture.h"

/* Loads dir with the given extra objectives and returns summary.json. */
static json_t *summarize(const char *dir, const char *const *slos, size_t n)
{
    rp_report *r = NULL;
    sq_err err = {{0}};
    int rc = rp_report_load(dir, slos, n, &r, &err);
    if (rc)
        fail_msg("rp_report_load: %s", err.msg);
    json_t *s = rp_report_summary(r);
    assert_non_null(s);
    rp_report_free(r);
    return s;
}

/* The k-th objective of a summary. */
static const json_t *obj(const json_t *s, size_t k)
{
    const json_t *o = json_array_get(json_object_get(s, "objectives"), k);
    assert_non_null(o);
    return o;
}

/* A number member (fails the test when absent or null). */
static double numv(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

/* Status string of an objective. */
static const char *status(const json_t *o)
{
    return json_string_value(json_object_get(o, "status"));
}

/* 10 intervals of 1000 requests at 20 ms; interval 3 has 50 answered 503. */
static void write_availability_run(const char *dir, const char *slos)
{
    fx_run_json(dir, slos);
    for (int t = 0; t < 10; t++) {
        fx_interval iv = fx_ok(t, 1000, 20000);
        if (t == 3) {
            iv.code_counts[0] = 950;
            iv.codes[1] = 503;
            iv.code_counts[1] = 50;
        }
        fx_interval_line(dir, &iv);
    }
}

static void test_availability_budget_and_burn(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_availability_run(dir, "[\"availability 99.9% good=status<500\","
                                " \"availability 99% good=status<500\"]");
    json_t *s = summarize(dir, NULL, 0);
    /* 99.9%: 50 bad of 10000; budget 0.1% x 10000 = 10 events -> 500% used.
     * Burn window: max(5 s, 10 s / 12) = 5 intervals; the worst holds the 50
     * bad of 5000: 1% / 0.1% = 10x. */
    const json_t *a = obj(s, 0);
    assert_string_equal(status(a), "fail");
    assert_false(json_is_true(json_object_get(a, "ok")));
    assert_float_equal(numv(a, "observed"), 0.995, 1e-12);
    assert_float_equal(numv(a, "target"), 0.999, 1e-12);
    assert_float_equal(numv(a, "margin"), -0.004, 1e-12);
    assert_float_equal(numv(a, "budget_consumed"), 5.0, 1e-9);
    assert_float_equal(numv(a, "peak_burn_rate"), 10.0, 1e-9);
    assert_float_equal(numv(a, "burn_window_s"), 5.0, 1e-9);
    assert_float_equal(numv(a, "samples"), 10000, 0);
    assert_true(json_is_null(json_object_get(json_object_get(a, "alerts"), "page_1h_5m_14_4")));
    assert_string_equal(json_string_value(json_object_get(a, "valet")), "Availability");
    /* 99%: budget 100 events, 50 used; peak burn 1% / 1% = 1x. */
    const json_t *b = obj(s, 1);
    assert_string_equal(status(b), "ok");
    assert_float_equal(numv(b, "budget_consumed"), 0.5, 1e-9);
    assert_float_equal(numv(b, "peak_burn_rate"), 1.0, 1e-9);
    assert_string_equal(json_string_value(json_object_get(s, "verdict")), "fail");
    assert_int_equal(rp_summary_exit_code(s), SQ_EXIT_FAIL);
    json_decref(s);
    fx_rmdir(dir);
}

static void test_latency_ratio_and_percentiles(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[]");
    /* 10 x 100 responses: 98 at 100 ms, 2 at 400 ms -> 2% slow. */
    for (int t = 0; t < 10; t++) {
        fx_interval iv = fx_ok(t, 100, 100000);
        iv.lat_counts[0] = 98;
        iv.lat_us[1] = 400000;
        iv.lat_counts[1] = 2;
        fx_interval_line(dir, &iv);
    }
    const char *slos[] = {"latency 97% < 300ms", "latency 99% < 300ms", "p(95) < 300ms",
                          "p(99) < 300ms", "max <= 400ms", "mean < 110ms", "latency 98% <= 400ms"};
    json_t *s = summarize(dir, slos, 7);
    const json_t *o = obj(s, 0);
    assert_string_equal(status(o), "ok");
    assert_float_equal(numv(o, "observed"), 0.98, 1e-12);
    assert_float_equal(numv(o, "budget_consumed"), 2.0 / 3.0, 1e-9);
    o = obj(s, 1);
    assert_string_equal(status(o), "fail");
    assert_float_equal(numv(o, "budget_consumed"), 2.0, 1e-9);
    assert_float_equal(numv(o, "peak_burn_rate"), 2.0, 1e-9);
    o = obj(s, 2);
    assert_string_equal(status(o), "ok");
    assert_float_equal(numv(o, "observed"), 100.0, 0.1);
    assert_string_equal(json_string_value(json_object_get(o, "unit")), "ms");
    o = obj(s, 3);
    assert_string_equal(status(o), "fail");
    assert_float_equal(numv(o, "observed"), 400.0, 0.4);
    assert_float_equal(numv(o, "margin"), -100.0, 0.4);
    o = obj(s, 4);
    assert_string_equal(status(o), "ok");
    assert_float_equal(numv(o, "observed"), 400.0, 0);
    o = obj(s, 5); /* mean = 0.98*100 + 0.02*400 = 106 ms, exact */
    assert_float_equal(numv(o, "observed"), 106.0, 1e-9);
    assert_string_equal(status(o), "ok");
    o = obj(s, 6); /* <= 400ms includes the slow ones: 100% */
    assert_float_equal(numv(o, "observed"), 1.0, 1e-12);
    json_decref(s);
    fx_rmdir(dir);
}

static void test_insufficient_data(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[]");
    fx_interval iv = fx_ok(0, 50, 1000);
    fx_interval_line(dir, &iv);
    const char *slos[] = {"p(99) < 1s", "p(50) < 1s", "availability 99.9% good=status<500",
                          "p(99) < 1s for 5s"};
    json_t *s = summarize(dir, slos, 4);
    assert_string_equal(status(obj(s, 0)), "insufficient_data");
    assert_false(json_is_true(json_object_get(obj(s, 0), "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(obj(s, 0), "note")), "at least 100"));
    assert_string_equal(status(obj(s, 1)), "ok");
    assert_string_equal(status(obj(s, 2)), "insufficient_data");
    assert_string_equal(status(obj(s, 3)), "insufficient_data");
    assert_string_equal(json_string_value(json_object_get(s, "verdict")), "fail");
    json_decref(s);
    fx_rmdir(dir);
}

static void test_sustained_window(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[]");
    /* p99 is 500 ms during t = 3..5 (3 s), 10 ms otherwise. */
    for (int t = 0; t < 12; t++) {
        fx_interval iv = fx_ok(t, 200, t >= 3 && t <= 5 ? 500000 : 10000);
        fx_interval_line(dir, &iv);
    }
    const char *slos[] = {"p(99) < 300ms for 4s", "p(99) < 300ms for 3s", "p(99) < 300ms",
                          "p(99) < 300ms for 20s"};
    json_t *s = summarize(dir, slos, 4);
    assert_string_equal(status(obj(s, 0)), "ok");
    assert_float_equal(numv(obj(s, 0), "observed"), 10.0, 0.01);
    assert_string_equal(status(obj(s, 1)), "fail");
    assert_float_equal(numv(obj(s, 1), "observed"), 500.0, 0.5);
    assert_string_equal(status(obj(s, 2)), "fail");
    assert_string_equal(status(obj(s, 3)), "insufficient_data");
    json_decref(s);
    fx_rmdir(dir);
}

/* 20 intervals of 100 requests at 10 ms; fault "db-loss" from 5 s to 10 s
 * during which half the answers are 503 at 200 ms. */
static void write_fault_run(const char *dir)
{
    fx_run_json(dir, "[]");
    for (int t = 0; t < 20; t++) {
        fx_interval iv = fx_ok(t, 100, 10000);
        iv.phase = t < 10 ? "warm" : "peak";
        if (t >= 5 && t < 10) {
            iv.code_counts[0] = 50;
            iv.codes[1] = 503;
            iv.code_counts[1] = 50;
            iv.lat_counts[0] = 50;
            iv.lat_us[1] = 200000;
            iv.lat_counts[1] = 50;
        }
        fx_interval_line(dir, &iv);
    }
    fx_fault_event(dir, "fault_applied", "db-loss", "loss", 5.0);
    fx_fault_event(dir, "fault_reverted", "db-loss", "loss", 10.0);
}

static void test_scopes(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_fault_run(dir);
    const char *slos[] = {"error_rate < 1% during db-loss", "error_rate < 1% after db-loss",
                          "error_rate < 1% phase peak", "error_rate < 30% phase warm",
                          "error_rate < 1% during nope", "error_rate < 1% phase nope",
                          "p(99) < 100ms after db-loss", "recovery < 5s after db-loss",
                          "error_rate < 20%"};
    json_t *s = summarize(dir, slos, 9);
    assert_string_equal(status(obj(s, 0)), "fail");
    assert_float_equal(numv(obj(s, 0), "observed"), 0.5, 1e-12);
    assert_float_equal(numv(obj(s, 0), "samples"), 500, 0);
    assert_string_equal(status(obj(s, 1)), "ok");
    assert_float_equal(numv(obj(s, 1), "observed"), 0, 0);
    assert_float_equal(numv(obj(s, 1), "samples"), 1000, 0);
    assert_string_equal(status(obj(s, 2)), "ok");
    assert_string_equal(status(obj(s, 3)), "ok"); /* 250 of 1000 */
    assert_float_equal(numv(obj(s, 3), "observed"), 0.25, 1e-12);
    assert_float_equal(numv(obj(s, 3), "budget_consumed"), 0.25 / 0.30, 1e-9);
    assert_string_equal(status(obj(s, 4)), "no_data");
    assert_false(json_is_true(json_object_get(obj(s, 4), "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(obj(s, 4), "note")), "nope"));
    assert_string_equal(status(obj(s, 5)), "no_data");
    assert_non_null(strstr(json_string_value(json_object_get(obj(s, 5), "note")), "warm, peak"));
    assert_string_equal(status(obj(s, 6)), "ok");
    /* health is judged by the run-wide objective (error_rate < 20%): the
     * first bad interval is the one the fault starts in; 10 s is healthy */
    assert_string_equal(status(obj(s, 7)), "ok");
    assert_float_equal(numv(obj(s, 7), "observed"), 0, 1e-9);
    assert_string_equal(status(obj(s, 8)), "ok"); /* 250 / 2000 = 12.5% */
    json_decref(s);
    fx_rmdir(dir);
}

static void test_route_and_volume(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[\"achieved_rate >= 99% of intended\"]");
    for (int t = 0; t < 4; t++) {
        fx_interval iv = fx_ok(t, 100, 1000);
        iv.intended = 100;
        iv.sent = t == 0 ? 90 : 100;
        iv.code_counts[0] = iv.lat_counts[0] = iv.sent;
        fx_interval_line(dir, &iv);
    }
    long v[3] = {1000, 900000, 0}, c[3] = {95, 5, 0};
    json_t *h = fx_hist(v, c, 2, 2);
    json_t *routes = json_pack("{s:s,s:[{s:s,s:s,s:s,s:I,s:I,s:I,s:{s:I,s:I},s:{},s:{s:o,s:o}}]}",
                               "schema", "squall.routes/1", "routes", "route", "POST /api/o",
                               "method", "POST", "path", "/api/o", "sent", (json_int_t)100,
                               "completed", (json_int_t)100, "errors_total", (json_int_t)0,
                               "status", "201", (json_int_t)95, "500", (json_int_t)5, "errors",
                               "latency_us", "corrected", json_incref(h), "uncorrected", h);
    char *text = json_dumps(routes, 0);
    fx_write(dir, "routes.json", text, "w");
    free(text);
    json_decref(routes);
    const char *slos[] = {"availability 90% good=status<500 route=\"POST /api/o\"",
                          "p(99) < 500ms route=\"POST /api/o\"",
                          "error_rate < 1% route=\"GET /missing\"", "achieved_rate >= 95"};
    json_t *s = summarize(dir, slos, 4);
    const json_t *o = obj(s, 0); /* stored objective first */
    assert_float_equal(numv(o, "observed"), 390.0 / 400.0, 1e-12);
    assert_string_equal(status(o), "fail");
    assert_string_equal(json_string_value(json_object_get(o, "valet")), "Volume");
    o = obj(s, 1);
    assert_string_equal(status(o), "ok");
    assert_float_equal(numv(o, "observed"), 0.95, 1e-12);
    assert_float_equal(numv(o, "budget_consumed"), 0.5, 1e-9);
    assert_true(json_is_null(json_object_get(o, "peak_burn_rate")));
    o = obj(s, 2);
    assert_string_equal(status(o), "fail");
    assert_float_equal(numv(o, "observed"), 900.0, 9);
    assert_string_equal(status(obj(s, 3)), "no_data");
    o = obj(s, 4); /* 390 sent over 4 s */
    assert_float_equal(numv(o, "observed"), 97.5, 1e-9);
    assert_string_equal(status(o), "ok");
    json_decref(s);
    fx_rmdir(dir);
}

static void test_verdicts(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_availability_run(dir, "[]");
    json_t *s = summarize(dir, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(s, "verdict")), "none");
    assert_int_equal(rp_summary_exit_code(s), SQ_EXIT_OK);
    json_decref(s);
    const char *pass[] = {"error_rate < 1%"};
    s = summarize(dir, pass, 1);
    assert_string_equal(json_string_value(json_object_get(s, "verdict")), "pass");
    json_decref(s);
    /* an extra objective with a stored one's text replaces it */
    fx_run_json(dir, "[\"error_rate < 1%\", \"p(99) < 1ms\"]");
    const char *same[] = {"error_rate < 1%"};
    s = summarize(dir, same, 1);
    assert_int_equal(json_array_size(json_object_get(s, "objectives")), 2);
    json_decref(s);
    fx_write(dir, "events.jsonl",
             "{\"type\":\"abort\",\"utc_ns\":1795000005000000000,\"reason\":\"signal\"}\n", "w");
    s = summarize(dir, pass, 1);
    assert_string_equal(json_string_value(json_object_get(s, "verdict")), "aborted");
    assert_int_equal(rp_summary_exit_code(s), SQ_EXIT_ABORTED);
    assert_string_equal(json_string_value(json_object_get(s, "abort_reason")), "signal");
    json_decref(s);
    /* bad expressions are errors, with where they came from */
    rp_report *r = NULL;
    sq_err err;
    const char *typo[] = {"error_rat < 1%"};
    assert_int_equal(rp_report_load(dir, typo, 1, &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "--slo 'error_rat < 1%': column 1:"));
    fx_run_json(dir, "[\"p(999) < 1s\"]");
    assert_int_equal(rp_report_load(dir, NULL, 0, &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "run.json: slos[0]"));
    assert_int_equal(rp_report_load("/nonexistent-dir", NULL, 0, &r, &err), -ENOENT);
    fx_rmdir(dir);
}

static void test_summary_v1_keys(void **state)
{
    (void)state;
    char dir[64];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_fault_run(dir);
    const char *slos[] = {"error_rate < 1%"};
    json_t *s = summarize(dir, slos, 1);
    const char *top[] = {"schema", "run_id", "verdict", "duration_s", "requests", "rate",
                         "latency_ms", "users", "objectives", "faults", NULL};
    for (int i = 0; top[i]; i++)
        if (!json_object_get(s, top[i]))
            fail_msg("summary.json lacks \"%s\"", top[i]);
    assert_string_equal(json_string_value(json_object_get(s, "schema")), "squall.summary/1");
    const char *req[] = {"intended", "sent", "completed", "late", "errors", "by_status",
                         "by_error", NULL};
    for (int i = 0; req[i]; i++)
        assert_non_null(json_object_get(json_object_get(s, "requests"), req[i]));
    const char *lat[] = {"p50", "p90", "p99", "p999", "max", "mean", NULL};
    for (int i = 0; lat[i]; i++) {
        assert_non_null(json_object_get(json_object_get(json_object_get(s, "latency_ms"), "corrected"), lat[i]));
        assert_non_null(json_object_get(json_object_get(json_object_get(s, "latency_ms"), "uncorrected"), lat[i]));
    }
    const char *ok[] = {"name", "expr", "observed", "target", "ok", "budget_consumed", "samples", NULL};
    for (int i = 0; ok[i]; i++)
        assert_non_null(json_object_get(obj(s, 0), ok[i]));
    const json_t *f = json_array_get(json_object_get(s, "faults"), 0);
    const char *fk[] = {"name", "kind", "applied_at_s", "reverted_at_s", "time_to_impact_s",
                        "time_to_recover_s", NULL};
    for (int i = 0; fk[i]; i++)
        assert_non_null(json_object_get(f, fk[i]));
    assert_float_equal(numv(json_object_get(s, "requests"), "completed"), 2000, 0);
    assert_float_equal(numv(json_object_get(json_object_get(s, "requests"), "by_status"), "503"), 250, 0);
    assert_float_equal(numv(s, "duration_s"), 20, 1e-9);
    assert_float_equal(numv(json_object_get(s, "rate"), "achieved_rps"), 100, 1e-9);
    const json_t *sc = json_object_get(json_object_get(s, "status_codes"), "503");
    assert_float_equal(numv(sc, "first_s"), 5, 0);
    assert_float_equal(numv(sc, "last_s"), 9, 0);
    json_decref(s);
    fx_rmdir(dir);
}

static void test_burn_math(void **state)
{
    (void)state;
    /* 10 intervals of 100 events, 2 bad in interval 4 and 6 bad in 7. */
    double bad[10] = {0, 0, 0, 0, 2, 0, 0, 6, 0, 0}, valid[10];
    for (int i = 0; i < 10; i++)
        valid[i] = 100;
    size_t at = 99;
    /* 99%: window 1: interval 7 = 6% / 1% = 6x */
    assert_float_equal(rp_burn_peak(bad, valid, 10, 1, 0.99, &at), 6.0, 1e-9);
    assert_int_equal(at, 7);
    /* window 4: intervals 4..7 = 8 / 400 = 2% -> 2x */
    assert_float_equal(rp_burn_peak(bad, valid, 10, 4, 0.99, &at), 2.0, 1e-9);
    assert_int_equal(at, 4);
    /* whole run: 8 / 1000 / 1% = 0.8x; a window longer than the run is the run */
    assert_float_equal(rp_burn_peak(bad, valid, 10, 50, 0.99, NULL), 0.8, 1e-9);
    assert_float_equal(rp_burn_peak(bad, valid, 0, 5, 0.99, NULL), 0, 0);
    /* windows with nothing valid are skipped */
    double none[3] = {0, 0, 0};
    assert_float_equal(rp_burn_peak(none, none, 3, 1, 0.99, NULL), 0, 0);

    /* Multiwindow: 2 hours of 1 s intervals, 1000 events each, 99.9%.
     * From 3000 s, 1.5% bad (15x burn) for 3600 s. The 1 h window reaches
     * 14.4x after 3456 s of it, with the 5 m window at 15x: fires. */
    size_t n = 7200;
    double *b = calloc(n, sizeof *b), *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = 1000;
        b[i] = i >= 3000 && i < 6600 ? 15 : 0;
    }
    assert_true(rp_burn_alert(b, v, n, 3600, 300, 0.999, 14.4));
    assert_false(rp_burn_alert(b, v, n, 3600, 300, 0.999, 15.5));
    /* A 5-minute 100x spike an hour in: the 5 m window burns at 100x but
     * the 1 h one reaches only 300 s * 100 / 3600 s = 8.3x: no page. A
     * 10-minute one reaches 16.7x: page. */
    for (size_t i = 0; i < n; i++)
        b[i] = i >= 5000 && i < 5300 ? 100 : 0;
    assert_false(rp_burn_alert(b, v, n, 3600, 300, 0.999, 14.4));
    for (size_t i = 0; i < n; i++)
        b[i] = i >= 5000 && i < 5600 ? 100 : 0;
    assert_true(rp_burn_alert(b, v, n, 3600, 300, 0.999, 14.4));
    /* early in a run the long window is what exists: 300 s at 100x after
     * 1000 quiet seconds is 30000 / 1.3e6 / 0.1% = 23x */
    for (size_t i = 0; i < n; i++)
        b[i] = i >= 1000 && i < 1300 ? 100 : 0;
    assert_true(rp_burn_alert(b, v, n, 3600, 300, 0.999, 14.4));
    /* a run shorter than the long window never alerts */
    assert_false(rp_burn_alert(b, v, 3000, 3600, 300, 0.999, 14.4));
    free(b);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_availability_budget_and_burn),
        cmocka_unit_test(test_latency_ratio_and_percentiles),
        cmocka_unit_test(test_insufficient_data),
        cmocka_unit_test(test_sustained_window),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_route_and_volume),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_summary_v1_keys),
        cmocka_unit_test(test_burn_math),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
