/* summary.c — builds summary.json (version 1) from a run directory and
 * prints the terminal summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"
#include "reports/series.h"

/* Running totals over series.jsonl. */
typedef struct series_acc {
    const char *dir;
    sq_hist *corrected, *uncorrected;
    uint64_t intended_plan, sent, late, completed, unsent;
    int have_unsent;
    json_t *by_status; /* code -> count */
    json_t *by_error;  /* class -> count */
    double end_s;      /* largest t_s + dur_s */
    size_t lines;
    sq_err *err;
} series_acc;

/* Reads a non-negative integer member, or reports FILE:LINE. */
static int get_count(series_acc *a, json_t *obj, const char *key, size_t lineno, int required,
                     uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return sq_errf(a->err, -EINVAL,
                       "%s/series.jsonl:%zu: \"%s\" must be a non-negative integer", a->dir,
                       lineno, key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Adds every "key": count of src (an object of counts) into dst. */
static int add_counts(series_acc *a, json_t *dst, json_t *src, const char *what, size_t lineno)
{
    if (!src)
        return 0;
    if (!json_is_object(src))
        return sq_errf(a->err, -EINVAL, "%s/series.jsonl:%zu: \"%s\" must be an object", a->dir,
                       lineno, what);
    const char *key;
    json_t *v;
    json_object_foreach(src, key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return sq_errf(a->err, -EINVAL,
                           "%s/series.jsonl:%zu: \"%s\".\"%s\" must be a non-negative integer",
                           a->dir, lineno, what, key);
        json_t *old = json_object_get(dst, key);
        json_int_t sum = json_integer_value(v) + (old ? json_integer_value(old) : 0);
        json_object_set_new(dst, key, json_integer(sum));
    }
    return 0;
}

/* Decodes one of the line's histograms and merges it into *into (creating
 * it from the first line). */
static int merge_hist(series_acc *a, json_t *lat, const char *key, size_t lineno, sq_hist **into)
{
    sq_err herr;
    json_t *h = json_object_get(lat, key);
    if (!h)
        return sq_errf(a->err, -EINVAL, "%s/series.jsonl:%zu: missing \"latency_us\".\"%s\"",
                       a->dir, lineno, key);
    sq_hist *one = sq_hist_from_json(h, &herr);
    if (!one)
        return sq_errf(a->err, -EINVAL, "%s/series.jsonl:%zu: \"latency_us\".\"%s\": %s", a->dir,
                       lineno, key, herr.msg);
    int rc = 0;
    if (!*into)
        *into = one;
    else {
        rc = sq_hist_merge(*into, one, &herr);
        sq_hist_free(one);
        if (rc)
            rc = sq_errf(a->err, rc, "%s/series.jsonl:%zu: %s", a->dir, lineno, herr.msg);
    }
    return rc;
}

/* rp_series_each callback: folds one interval line into the totals. */
static int fold_line(json_t *line, size_t lineno, void *ctx)
{
    series_acc *a = ctx;
    uint64_t intended = 0, sent = 0, late = 0, completed = 0, unsent = 0;
    int rc;
    if ((rc = get_count(a, line, "intended", lineno, 1, &intended)) ||
        (rc = get_count(a, line, "sent", lineno, 1, &sent)) ||
        (rc = get_count(a, line, "late", lineno, 1, &late)) ||
        (rc = get_count(a, line, "completed", lineno, 1, &completed)) ||
        (rc = get_count(a, line, "unsent", lineno, 0, &unsent)))
        return rc;
    json_t *t = json_object_get(line, "t_s"), *d = json_object_get(line, "dur_s");
    if (!json_is_number(t) || !json_is_number(d) || json_number_value(d) <= 0)
        return sq_errf(a->err, -EINVAL,
                       "%s/series.jsonl:%zu: \"t_s\" and \"dur_s\" must be numbers (dur_s > 0)",
                       a->dir, lineno);
    json_t *lat = json_object_get(line, "latency_us");
    if (!json_is_object(lat))
        return sq_errf(a->err, -EINVAL, "%s/series.jsonl:%zu: \"latency_us\" must be an object",
                       a->dir, lineno);
    if ((rc = add_counts(a, a->by_status, json_object_get(line, "status"), "status", lineno)) ||
        (rc = add_counts(a, a->by_error, json_object_get(line, "errors"), "errors", lineno)) ||
        (rc = merge_hist(a, lat, "corrected", lineno, &a->corrected)) ||
        (rc = merge_hist(a, lat, "uncorrected", lineno, &a->uncorrected)))
        return rc;
    if (json_object_get(line, "unsent")) {
        a->have_unsent = 1;
        a->unsent += unsent;
    }
    a->intended_plan += intended;
    a->sent += sent;
    a->late += late;
    a->completed += completed;
    double end = json_number_value(t) + json_number_value(d);
    if (end > a->end_s)
        a->end_s = end;
    a->lines++;
    return 0;
}

/* Percentile block {"p50",...,"max","mean"} in ms from a µs histogram. */
static json_t *latency_block(const sq_hist *h)
{
    if (!h)
        return json_pack("{s:n,s:n,s:n,s:n,s:n,s:n}", "p50", "p90", "p99", "p999", "max", "mean");
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "p50", sq_hist_percentile(h, 50) / 1e3, "p90",
                     sq_hist_percentile(h, 90) / 1e3, "p99", sq_hist_percentile(h, 99) / 1e3,
                     "p999", sq_hist_percentile(h, 99.9) / 1e3, "max", sq_hist_max(h) / 1e3,
                     "mean", sq_hist_mean(h) / 1e3);
}

/* Sum of the integer members of an object of counts. */
static uint64_t sum_counts(json_t *obj)
{
    uint64_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) n += (uint64_t)json_integer_value(v);
    return n;
}

/* Reads events.jsonl (if any) and returns 1 when the run was aborted. */
static int run_was_aborted(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int aborted = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *ev = json_loads(line, 0, NULL);
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (type && strcmp(type, "abort") == 0)
            aborted = 1;
        json_decref(ev);
    }
    free(line);
    fclose(f);
    return aborted;
}

/* Builds summary.json from the run directory; see reports.h. */
int rp_summary_build(const char *run_dir, json_t **out, sq_err *err)
{
    json_t *run = NULL, *summary = NULL;
    series_acc a = {.dir = run_dir, .err = err, .by_status = json_object(), .by_error = json_object()};
    int rc = sq_json_load_file(run_dir, "run.json", &run, err);
    if (rc)
        goto out;
    const char *run_id = json_string_value(json_object_get(run, "run_id"));
    if (!json_is_object(run) || !run_id) {
        rc = sq_errf(err, -EINVAL, "%s/run.json: missing \"run_id\" (is this a squall run directory?)",
                     run_dir);
        goto out;
    }
    rc = rp_series_each(run_dir, fold_line, &a, err);
    if (rc == -ENOENT)
        rc = 0; /* a run that stopped before its first interval */
    if (rc)
        goto out;
    uint64_t errors = sum_counts(a.by_error);
    uint64_t intended = a.have_unsent ? a.sent + a.unsent : a.intended_plan;
    if (intended < a.sent)
        intended = a.sent;
    double dur = a.end_s;
    json_t *multiplier = json_object_get(json_object_get(run, "load"), "multiplier");
    json_t *users = json_object_get(run, "users");
    int aborted = run_was_aborted(run_dir);
    json_t *users_v = json_is_object(users)
                          ? json_incref(users)
                          : json_pack("{s:i,s:i,s:i}", "seen", 0, "sampled", 0, "clones", 1);
    summary = json_pack(
        "{s:s, s:s, s:s, s:f, s:{s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:O}, s:{s:f,s:f,s:f},"
        " s:{s:o,s:o}, s:o, s:[], s:[]}",
        "schema", RP_SUMMARY_SCHEMA, "run_id", run_id, "verdict", aborted ? "aborted" : "none",
        "duration_s", dur, "requests", "intended", (json_int_t)intended, "sent",
        (json_int_t)a.sent, "completed", (json_int_t)a.completed, "late", (json_int_t)a.late,
        "errors", (json_int_t)errors, "unsent", (json_int_t)(intended - a.sent), "by_status",
        a.by_status, "by_error", a.by_error, "rate", "intended_rps",
        dur > 0 ? (double)intended / dur : 0.0, "achieved_rps", dur > 0 ? (double)a.sent / dur : 0.0,
        "multiplier", json_is_number(multiplier) ? json_number_value(multiplier) : 1.0,
        "latency_ms", "corrected", latency_block(a.corrected), "uncorrected",
        latency_block(a.uncorrected), "users", users_v, "objectives", "faults");
    if (!summary) {
        rc = sq_errf(err, -ENOMEM, "out of memory building summary.json");
        goto out;
    }
    json_object_set(summary, "target", json_object_get(run, "target"));
    json_object_set_new(summary, "intervals", json_integer((json_int_t)a.lines));
    *out = summary;
    rc = 0;
out:
    sq_hist_free(a.corrected);
    sq_hist_free(a.uncorrected);
    json_decref(a.by_status);
    json_decref(a.by_error);
    json_decref(run);
    return rc;
}

/* Number member or 0. */
static double num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

/* Prints the headline numbers and the objectives. */
void rp_summary_print(const json_t *s, FILE *out)
{
    const json_t *req = json_object_get(s, "requests");
    const json_t *rate = json_object_get(s, "rate");
    const json_t *lat = json_object_get(json_object_get(s, "latency_ms"), "corrected");
    const json_t *unc = json_object_get(json_object_get(s, "latency_ms"), "uncorrected");
    double sent = num(req, "sent"), errors = num(req, "errors");
    fprintf(out, "run %s: %s in %.1fs\n", json_string_value(json_object_get(s, "run_id")),
            json_string_value(json_object_get(s, "verdict")), num(s, "duration_s"));
    fprintf(out, "  requests  %.0f intended, %.0f sent, %.0f completed, %.0f errors (%.2f%%), "
                 "%.0f late, %.0f never sent\n",
            num(req, "intended"), sent, num(req, "completed"), errors,
            sent > 0 ? 100.0 * errors / sent : 0.0, num(req, "late"), num(req, "unsent"));
    fprintf(out, "  rate      %.1f req/s intended, %.1f req/s achieved\n", num(rate, "intended_rps"),
            num(rate, "achieved_rps"));
    fprintf(out, "  latency   p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms "
                 "(corrected)\n",
            num(lat, "p50"), num(lat, "p90"), num(lat, "p99"), num(lat, "p999"), num(lat, "max"));
    fprintf(out, "            p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms "
                 "(uncorrected)\n",
            num(unc, "p50"), num(unc, "p90"), num(unc, "p99"), num(unc, "p999"), num(unc, "max"));
    const json_t *by_error = json_object_get(req, "by_error");
    if (json_object_size(by_error)) {
        fprintf(out, "  errors   ");
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)by_error, key, v)
            fprintf(out, " %s %lld", key, (long long)json_integer_value(v));
        fputc('\n', out);
    }
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(s, "objectives"), i, o)
    {
        fprintf(out, "  %s %s\n", json_is_true(json_object_get(o, "ok")) ? "\u2713" : "\u2717",
                json_string_value(json_object_get(o, "expr")));
    }
}

/* Exit code implied by the verdict. */
int rp_summary_exit_code(const json_t *summary)
{
    const char *v = json_string_value(json_object_get(summary, "verdict"));
    if (v && strcmp(v, "fail") == 0)
        return SQ_EXIT_FAIL;
    if (v && strcmp(v, "aborted") == 0)
        return SQ_EXIT_ABORTED;
    return SQ_EXIT_OK;
}
