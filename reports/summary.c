/* summary.c — summary.json (version 1) from an evaluated report, the exit
 * code it implies, and rp_report_finish: the one call that ends `load`,
 * `run` and `report`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/report_int.h"

/* A JSON real, or null when v is NaN / infinite. New reference. */
static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Percentile block in ms; see report_int.h. */
json_t *rp_latency_json(const sq_hist *h)
{
    if (!h || sq_hist_count(h) == 0)
        return json_pack("{s:n,s:n,s:n,s:n,s:n,s:n}", "p50", "p90", "p99", "p999", "max", "mean");
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "p50", sq_hist_percentile(h, 50) / 1e3, "p90",
                     sq_hist_percentile(h, 90) / 1e3, "p99", sq_hist_percentile(h, 99) / 1e3,
                     "p999", sq_hist_percentile(h, 99.9) / 1e3, "max", sq_hist_max(h) / 1e3,
                     "mean", sq_hist_mean(h) / 1e3);
}

/* An objective as summary.json shows it. New reference. */
static json_t *objective_json(const rp_obj *o)
{
    static const char *const scopes[] = {"run", "during", "after", "phase"};
    static const char *const statuses[] = {"ok", "fail", "insufficient_data", "no_data"};
    const rp_slo *s = &o->slo;
    json_t *j = json_pack("{s:o,s:o,s:s,s:s,s:s,s:o,s:f,s:s,s:b,s:s,s:f}", "name",
                          sq_json_text(s->name), "expr", sq_json_text(s->text), "valet",
                          rp_slo_valet(s), "kind", s->is_ratio ? "ratio" : "threshold", "unit",
                          o->unit, "observed",
                          o->have_observed ? num_or_null(o->observed) : json_null(), "target",
                          o->target, "comparison",
                          s->is_ratio ? ">=" : rp_cmp_text(s->cmp), "ok", o->status == RP_ST_OK,
                          "status", statuses[o->status], "samples", o->samples);
    if (!j)
        return NULL;
    if (o->at_least)
        json_object_set_new(j, "observed_is_lower_bound", json_true());
    json_object_set_new(j, "margin", o->have_observed ? num_or_null(o->margin) : json_null());
    json_object_set_new(j, "budget_consumed",
                        o->have_budget ? num_or_null(o->budget_consumed) : json_null());
    json_object_set_new(j, "peak_burn_rate", o->have_budget ? num_or_null(o->peak_burn) : json_null());
    if (o->have_budget && isfinite(o->peak_burn)) {
        json_object_set_new(j, "burn_window_s", json_real(o->burn_window_s));
        json_object_set_new(j, "peak_burn_at_s", json_real(o->peak_burn_at_s));
        json_object_set_new(j, "alerts",
                            json_pack("{s:o,s:o}", "page_1h_5m_14_4",
                                      o->alert_fast < 0 ? json_null() : json_boolean(o->alert_fast),
                                      "ticket_6h_30m_6",
                                      o->alert_slow < 0 ? json_null() : json_boolean(o->alert_slow)));
    }
    json_object_set_new(j, "scope", json_string(scopes[s->scope]));
    if (s->scope != RP_SCOPE_RUN)
        json_object_set_new(j, "scope_name", sq_json_text(s->scope_name));
    if (s->route[0])
        json_object_set_new(j, "route", sq_json_text(s->route));
    if (s->for_ns)
        json_object_set_new(j, "for_s", json_real((double)s->for_ns / 1e9));
    if (o->note[0])
        json_object_set_new(j, "note", sq_json_text(o->note));
    return j;
}

/* A correlation window as JSON. New reference. */
static json_t *window_json(const rp_window *w)
{
    if (w->intervals == 0)
        return json_null();
    const sq_hist *h = w->hist;
    int have = h && sq_hist_count(h) > 0;
    return json_pack("{s:f,s:f,s:I,s:o,s:o,s:o,s:o}", "start_s", w->start_s, "end_s", w->end_s,
                     "requests", (json_int_t)w->valid, "p50_ms",
                     have ? json_real(sq_hist_percentile(h, 50) / 1e3) : json_null(), "p99_ms",
                     have ? json_real(sq_hist_percentile(h, 99) / 1e3) : json_null(), "error_rate",
                     w->valid > 0 ? json_real(w->bad / w->valid) : json_null(), "throughput_rps",
                     w->seconds > 0 ? json_real(w->completed / w->seconds) : json_null());
}

/* A fault with its correlation. New reference. */
static json_t *fault_json(const rp_fault *f)
{
    return json_pack("{s:o,s:o,s:f,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "name", sq_json_text(f->name),
                     "kind", sq_json_text(f->kind), "applied_at_s", f->applied_s, "reverted_at_s",
                     f->reverted_ns ? json_real(f->reverted_s) : json_null(), "time_to_impact_s",
                     f->impact ? json_real(f->tti_s) : json_null(), "time_to_recover_s",
                     f->impact && f->recovered ? json_real(f->ttr_s) : json_null(), "recovered",
                     !f->impact || f->recovered, "baseline", window_json(&f->base), "during",
                     window_json(&f->during), "recovery", window_json(&f->recov));
}

/* A first/last-seen table as an object key -> {count, first_s, last_s}. */
static json_t *seen_json(const rp_seen *tab, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++) {
        json_t *e = json_pack("{s:I,s:f,s:f}", "count", (json_int_t)tab[i].count, "first_s",
                              tab[i].first_s, "last_s", tab[i].last_s);
        if (e && tab[i].sample[0])
            json_object_set_new(e, "first_message", sq_json_text(tab[i].sample));
        json_object_set_new(o, tab[i].key, e);
    }
    return o;
}

/* Counts of a seen table as key -> count. */
static json_t *counts_json(const rp_seen *tab, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, tab[i].key, json_integer((json_int_t)tab[i].count));
    return o;
}

/* Builds summary.json; see reports.h. */
json_t *rp_report_summary(const rp_report *r)
{
    double intended = r->have_unsent ? r->tot_sent + r->tot_unsent : r->tot_intended;
    if (intended < r->tot_sent)
        intended = r->tot_sent;
    double load_s = r->load_end_s > 0 ? r->load_end_s : r->end_s;
    const json_t *load = json_object_get(r->run, "load");
    const json_t *mult = json_object_get(load, "multiplier");
    const json_t *users = json_object_get(r->run, "users");
    json_t *objectives = json_array(), *faults = json_array(), *events = json_array();
    json_t *s = NULL;
    if (!objectives || !faults || !events)
        goto fail;
    for (size_t k = 0; k < r->n_objs; k++)
        if (json_array_append_new(objectives, objective_json(&r->objs[k])))
            goto fail;
    for (size_t k = 0; k < r->n_faults; k++)
        if (json_array_append_new(faults, fault_json(&r->faults[k])))
            goto fail;
    for (size_t k = 0; k < r->n_events; k++)
        json_array_append_new(events, json_pack("{s:s,s:f,s:o,s:o}", "type", r->events[k].type,
                                                "at_s", r->events[k].t_s, "label",
                                                sq_json_text(r->events[k].label), "ok",
                                                r->events[k].ok < 0 ? json_null()
                                                                    : json_boolean(r->events[k].ok)));
    s = json_pack(
        "{s:s,s:o,s:s,s:f,s:f,"
        " s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o},"
        " s:{s:f,s:f,s:f},"
        " s:{s:o,s:o},"
        " s:o, s:o, s:o, s:o}",
        "schema", RP_SUMMARY_SCHEMA, "run_id", sq_json_text(r->run_id), "verdict", r->verdict,
        "duration_s", r->end_s, "load_duration_s", load_s,
        "requests", "intended", (json_int_t)intended, "sent", (json_int_t)r->tot_sent,
        "completed", (json_int_t)r->tot_completed, "late", (json_int_t)r->tot_late, "errors",
        (json_int_t)r->tot_errors, "cancelled", (json_int_t)r->tot_cancelled, "unsent",
        (json_int_t)(intended - r->tot_sent), "by_status", counts_json(r->codes, r->n_codes),
        "by_error", counts_json(r->classes, r->n_classes),
        "rate", "intended_rps", load_s > 0 ? intended / load_s : 0.0, "achieved_rps",
        load_s > 0 ? r->tot_sent / load_s : 0.0, "multiplier",
        json_is_number(mult) ? json_number_value(mult) : 1.0,
        "latency_ms", "corrected", rp_latency_json(r->corrected), "uncorrected",
        rp_latency_json(r->uncorrected),
        "users",
        json_is_object(users) ? json_incref((json_t *)users)
                              : json_pack("{s:i,s:i,s:i}", "seen", 0, "sampled", 0, "clones", 1),
        "objectives", objectives, "faults", faults, "events", events);
    objectives = faults = events = NULL;
    if (!s)
        goto fail;
    json_object_set_new(s, "intervals", json_integer((json_int_t)r->n));
    json_object_set_new(s, "interval_s", json_real(r->interval_s));
    if (r->target)
        json_object_set_new(s, "target", sq_json_text(r->target));
    if (r->aborted)
        json_object_set_new(s, "abort_reason", sq_json_text(r->abort_reason));
    json_object_set_new(s, "status_codes", seen_json(r->codes, r->n_codes));
    json_object_set_new(s, "error_classes", seen_json(r->classes, r->n_classes));
    json_object_set_new(
        s, "methodology",
        json_pack("{s:s,s:i,s:I,s:I,s:i}", "latency_from", "intended send time (corrected)",
                  "histogram_digits", r->digits, "clamped",
                  (json_int_t)(r->corrected ? sq_hist_clamped(r->corrected) : 0), "late_sends",
                  (json_int_t)r->tot_late, "shards", r->shards));
    return s;
fail:
    json_decref(objectives);
    json_decref(faults);
    json_decref(events);
    json_decref(s);
    return NULL;
}

/* Exit code of an evaluated report. */
int rp_report_exit_code(const rp_report *r)
{
    if (strcmp(r->verdict, "aborted") == 0)
        return SQ_EXIT_ABORTED;
    return strcmp(r->verdict, "fail") == 0 ? SQ_EXIT_FAIL : SQ_EXIT_OK;
}

/* Exit code implied by a summary's verdict. */
int rp_summary_exit_code(const json_t *summary)
{
    const char *v = json_string_value(json_object_get(summary, "verdict"));
    if (v && strcmp(v, "fail") == 0)
        return SQ_EXIT_FAIL;
    if (v && strcmp(v, "aborted") == 0)
        return SQ_EXIT_ABORTED;
    return SQ_EXIT_OK;
}

/* Writes data to path via path.tmp + fsync + rename. */
int rp_write_file(const char *path, const char *data, size_t len, sq_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return sq_errf(err, -errno, "%s: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        remove(tmp);
        return sq_errf(err, -e, "%s: %s", path, strerror(e));
    }
    return 0;
}

/* Loads, evaluates, writes and prints; see reports.h. */
int rp_report_finish(const char *run_dir, const char *const *extra, size_t n_extra,
                     const rp_outputs *outs, FILE *term, int *exit_code, sq_err *err)
{
    rp_report *r = NULL;
    json_t *summary = NULL;
    char *text = NULL;
    int rc = rp_report_load(run_dir, extra, n_extra, &r, err);
    if (rc)
        return rc;
    summary = rp_report_summary(r);
    if (!summary) {
        rc = sq_errf(err, -ENOMEM, "out of memory building summary.json");
        goto out;
    }
    if (outs && outs->json) {
        text = json_dumps(summary, JSON_INDENT(2));
        if (!text) {
            rc = sq_errf(err, -ENOMEM, "out of memory writing summary.json");
            goto out;
        }
        size_t len = strlen(text);
        char *t2 = realloc(text, len + 2);
        if (!t2) {
            rc = sq_errf(err, -ENOMEM, "out of memory");
            goto out;
        }
        text = t2;
        text[len] = '\n';
        if ((rc = rp_write_file(outs->json, text, len + 1, err)))
            goto out;
    }
    if (outs && outs->html && (rc = rp_report_write_html(r, outs->html, err)))
        goto out;
    if (outs && outs->junit && (rc = rp_report_write_junit(r, outs->junit, err)))
        goto out;
    if (term)
        rp_summary_print(summary, term);
    *exit_code = rp_report_exit_code(r);
out:
    free(text);
    json_decref(summary);
    rp_report_free(r);
    return rc;
}
