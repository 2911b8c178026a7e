/* test_merge.c — `report merge`: two shards whose intervals start 0.2 s
 * apart are aligned on one UTC grid; counts add up; every merged histogram
 * is exactly the histogram of all values (same JSON encoding), so the merged
 * summary's percentiles equal those of one histogram holding everything;
 * routes merge by key; events are kept once and in time order; run.json
 * lists the shards and the union of their objectives; mismatched intervals
 * and an occupied output are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/reports.h"
#include "fixture.h"

/* Shard A: 10 intervals at 0..9 s of 100 responses: 90 at 1 ms, 10 at 5 ms.
 * Shard B: 12 intervals starting 0.2 s later, 50 responses: 45 at 2 ms and
 * 5 at 90 ms, one 503 among them. */
static const long A_LAT[3] = {1000, 5000, 0}, A_CNT[3] = {90, 10, 0};
static const long B_LAT[3] = {2000, 90000, 0}, B_CNT[3] = {45, 5, 0};

/* Writes one shard's run.json (shard i/2, one stored objective). */
static void shard_run_json(const char *dir, int i, const char *slo, double interval)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"schema\":\"squall.run/1\",\"run_id\":\"shard%d\",\"start_utc_ns\":%lld,"
             "\"target\":\"http://x/\",\"load\":{\"model\":\"open\",\"interval_s\":%g},"
             "\"shard\":\"%d/2\",\"slos\":[\"%s\"]}",
             i, FX_T0, interval, i, slo);
    fx_write(dir, "run.json", buf, "w");
}

/* A route entry as loadgen writes it. New reference. */
static json_t *route_entry(const char *key, long n, const char *code, json_t *h)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:{s:I},s:{},s:{s:O,s:O}}", "route", key, "sent",
                     (json_int_t)n, "completed", (json_int_t)n, "errors_total", (json_int_t)0,
                     "status", code, (json_int_t)n, "errors", "latency_us", "corrected", h,
                     "uncorrected", h);
}

/* Writes a routes.json with one or two routes from the given latencies. */
static void shard_routes(const char *dir, const long *lat, const long *cnt, long n, int two)
{
    json_t *h = fx_hist(lat, cnt, 3, 2);
    json_t *routes = json_array();
    json_array_append_new(routes, route_entry("GET /a", n, "200", h));
    if (two)
        json_array_append_new(routes, route_entry("POST /b", 1, "201", h));
    json_t *doc = json_pack("{s:s,s:o}", "schema", "squall.routes/1", "routes", routes);
    char *text = json_dumps(doc, 0);
    fx_write(dir, "routes.json", text, "w");
    free(text);
    json_decref(doc);
    json_decref(h);
}

/* Builds both shards under root (root/a, root/b). */
static void make_shards(const char *root, char *a, char *b, size_t len)
{
    snprintf(a, len, "%s/a", root);
    snprintf(b, len, "%s/b", root);
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    shard_run_json(a, 1, "p(99) < 100ms", 1.0);
    shard_run_json(b, 2, "error_rate < 1%", 1.0);
    for (int t = 0; t < 10; t++) {
        fx_interval iv = fx_ok(t, 100, 0);
        memcpy(iv.lat_us, A_LAT, sizeof A_LAT);
        memcpy(iv.lat_counts, A_CNT, sizeof A_CNT);
        fx_interval_line(a, &iv);
    }
    for (int t = 0; t < 12; t++) {
        fx_interval iv = fx_ok(t + 0.2, 50, 0);
        memcpy(iv.lat_us, B_LAT, sizeof B_LAT);
        memcpy(iv.lat_counts, B_CNT, sizeof B_CNT);
        if (t == 3) {
            iv.code_counts[0] = 49;
            iv.codes[1] = 503;
            iv.code_counts[1] = 1;
        }
        fx_interval_line(b, &iv);
    }
    shard_routes(a, A_LAT, A_CNT, 1000, 0);
    shard_routes(b, B_LAT, B_CNT, 600, 1);
    fx_fault_event(a, "fault_applied", "f1", "loss", 3.0);
    fx_fault_event(b, "fault_applied", "f1", "loss", 3.0); /* the same event, seen twice */
    fx_fault_event(b, "fault_reverted", "f1", "loss", 5.0);
    fx_fault_event(a, "fault_applied", "f0", "kill", 1.0);
}

/* Reads line k (0-based) of dir/series.jsonl. New reference. */
static json_t *series_line(const char *dir, int k)
{
    char path[512];
    snprintf(path, sizeof path, "%s/series.jsonl", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    json_t *o = NULL;
    for (int i = 0; i <= k && getline(&line, &cap, f) > 0; i++)
        if (i == k)
            o = json_loads(line, 0, NULL);
    free(line);
    fclose(f);
    assert_non_null(o);
    return o;
}

static void test_merge_exact(void **state)
{
    (void)state;
    char root[64], a[128], b[128], out[128];
    assert_non_null(fx_mkdir(root, sizeof root));
    make_shards(root, a, b, sizeof a);
    snprintf(out, sizeof out, "%s/merged", root);
    const char *dirs[] = {a, b};
    sq_err err;
    if (rp_merge(dirs, 2, out, &err))
        fail_msg("rp_merge: %s", err.msg);

    /* slot 4: A's interval 4 and B's interval starting at 4.2 s */
    json_t *l4 = series_line(out, 4);
    assert_int_equal(json_integer_value(json_object_get(l4, "intended")), 150);
    assert_int_equal(json_integer_value(json_object_get(l4, "completed")), 150);
    assert_float_equal(json_number_value(json_object_get(l4, "t_s")), 4.0, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(l4, "start_utc_ns")), FX_T0 + 4000000000LL);
    sq_hist *ref = sq_hist_new(3, SQ_HIST_DEFAULT_HIGHEST);
    for (int i = 0; i < 2; i++) {
        sq_hist_record_n(ref, A_LAT[i], (uint64_t)A_CNT[i]);
        sq_hist_record_n(ref, B_LAT[i], (uint64_t)B_CNT[i]);
    }
    json_t *want = sq_hist_to_json(ref);
    assert_true(json_equal(want, json_object_get(json_object_get(l4, "latency_us"), "corrected")));
    json_decref(want);
    json_decref(l4);
    /* slot 3 holds B's 503 */
    json_t *l3 = series_line(out, 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l3, "status"), "503")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l3, "status"), "200")), 149);
    json_decref(l3);
    /* slots 10, 11: B alone */
    json_t *l11 = series_line(out, 11);
    assert_int_equal(json_integer_value(json_object_get(l11, "intended")), 50);
    json_decref(l11);

    /* the merged summary's percentiles are those of one histogram of all
     * 1600 values, exactly */
    sq_hist *all = sq_hist_new(3, SQ_HIST_DEFAULT_HIGHEST);
    for (int i = 0; i < 2; i++) {
        sq_hist_record_n(all, A_LAT[i], (uint64_t)A_CNT[i] * 10);
        sq_hist_record_n(all, B_LAT[i], (uint64_t)B_CNT[i] * 12);
    }
    rp_report *r = NULL;
    if (rp_report_load(out, NULL, 0, &r, &err))
        fail_msg("%s", err.msg);
    json_t *s = rp_report_summary(r);
    rp_report_free(r);
    const json_t *lat = json_object_get(json_object_get(s, "latency_ms"), "corrected");
    const double ps[] = {50, 90, 99, 99.9};
    const char *keys[] = {"p50", "p90", "p99", "p999"};
    for (int i = 0; i < 4; i++)
        assert_float_equal(json_number_value(json_object_get(lat, keys[i])),
                           (double)sq_hist_percentile(all, ps[i]) / 1e3, 0);
    assert_float_equal(json_number_value(json_object_get(lat, "max")), 90.0, 0);
    assert_float_equal(json_number_value(json_object_get(lat, "mean")), sq_hist_mean(all) / 1e3, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "requests"), "sent")), 1600);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "methodology"), "shards")), 2);
    /* both shards' objectives are evaluated */
    assert_int_equal(json_array_size(json_object_get(s, "objectives")), 2);
    /* one fault f1 (3 s..5 s) and f0, not three */
    const json_t *faults = json_object_get(s, "faults");
    assert_int_equal(json_array_size(faults), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(faults, 0), "name")), "f0");
    assert_float_equal(json_number_value(json_object_get(json_array_get(faults, 1), "reverted_at_s")), 5.0, 1e-9);
    json_decref(s);

    /* routes: GET /a merged, POST /b carried over */
    json_t *routes = NULL;
    assert_int_equal(sq_json_load_file(out, "routes.json", &routes, &err), 0);
    const json_t *arr = json_object_get(routes, "routes");
    assert_int_equal(json_array_size(arr), 2);
    const json_t *ga = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(ga, "route")), "GET /a");
    assert_int_equal(json_integer_value(json_object_get(ga, "sent")), 1600);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ga, "status"), "200")), 1600);
    sq_hist *rh = sq_hist_from_json(json_object_get(json_object_get(ga, "latency_us"), "corrected"), &err);
    assert_non_null(rh);
    assert_int_equal(sq_hist_count(rh), 150); /* 100 + 50 values in the two route histograms */
    sq_hist_free(rh);
    json_decref(routes);

    /* run.json */
    json_t *run = NULL;
    assert_int_equal(sq_json_load_file(out, "run.json", &run, &err), 0);
    assert_string_equal(json_string_value(json_object_get(run, "shard")), "merged");
    assert_int_equal(json_array_size(json_object_get(run, "shards")), 2);
    assert_int_equal(json_array_size(json_object_get(run, "slos")), 2);
    json_decref(run);

    /* an occupied output is refused */
    assert_int_equal(rp_merge(dirs, 2, out, &err), -EEXIST);
    sq_hist_free(ref);
    sq_hist_free(all);
    fx_rmdir(root);
}

static void test_merge_refuses_mismatch(void **state)
{
    (void)state;
    char root[64], a[128], b[128], out[128];
    assert_non_null(fx_mkdir(root, sizeof root));
    make_shards(root, a, b, sizeof a);
    shard_run_json(b, 2, "error_rate < 1%", 0.5);
    snprintf(out, sizeof out, "%s/merged", root);
    const char *dirs[] = {a, b};
    sq_err err;
    assert_int_equal(rp_merge(dirs, 2, out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "interval"));
    const char *bad[] = {a, "/nonexistent-shard"};
    snprintf(out, sizeof out, "%s/merged2", root);
    assert_int_equal(rp_merge(bad, 2, out, &err), -ENOENT);
    fx_rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_exact),
        cmocka_unit_test(test_merge_refuses_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
