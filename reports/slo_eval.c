/* slo_eval.c — evaluates objectives from the run directory's data alone
 * (docs/slo.md, "How objectives are evaluated").
 *
 * While series.jsonl streams, rp_eval_interval records per interval and per
 * objective a numerator (good events for ratio objectives, matching events
 * for rates), a denominator (valid events) and the interval's value, marks
 * whether the interval is in the objective's scope, and merges the
 * interval's histogram into the objective's scope histogram when a
 * percentile is asked. rp_eval_finish then reduces over the scope: observed
 * value, margin, ok, error budget consumed, peak burn rate over sliding
 * windows, multiwindow alerts, and "insufficient data" when the samples
 * cannot support the percentile or objective asked.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"

/* Number of responses in a status map satisfying c. */
static double count_matching(const json_t *status, const rp_cond *c)
{
    double n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)status, key, v)
    {
        if (rp_cond_holds(c, rp_status_code(key)))
            n += (double)json_integer_value(v);
    }
    return n;
}

/* Latency threshold of a ratio latency objective in µs, inclusive. */
static int64_t latency_limit_us(const rp_slo *s)
{
    double us = s->target * 1e3;
    int64_t lim = (int64_t)llround(us);
    return s->cmp == RP_LT ? lim - 1 : lim;
}

/* The scope window of a fault-scoped objective; see report_int.h. */
int rp_fault_window(const rp_report *r, const rp_slo *slo, int64_t *from, int64_t *to)
{
    for (size_t i = 0; i < r->n_faults; i++) {
        const rp_fault *f = &r->faults[i];
        if (strcmp(f->name, slo->scope_name) != 0)
            continue;
        if (slo->scope == RP_SCOPE_DURING) {
            *from = f->applied_ns;
            *to = f->reverted_ns ? f->reverted_ns : INT64_MAX;
        } else {
            *from = f->reverted_ns ? f->reverted_ns : f->applied_ns;
            *to = INT64_MAX;
        }
        return 0;
    }
    return -ENOENT;
}

/* Whether point i is in the objective's scope. */
static int in_scope(const rp_report *r, const rp_slo *s, const rp_point *p)
{
    int64_t from, to;
    switch (s->scope) {
    case RP_SCOPE_RUN:
        return 1;
    case RP_SCOPE_PHASE:
        return p->phase >= 0 && strcmp(r->phases[p->phase], s->scope_name) == 0;
    case RP_SCOPE_DURING:
    case RP_SCOPE_AFTER:
        return rp_fault_window(r, s, &from, &to) == 0 && rp_point_within(p, from, to);
    }
    return 0;
}

/* Records interval i for every objective; see report_int.h. */
int rp_eval_interval(rp_report *r, size_t i, const json_t *line, const sq_hist *corr, sq_err *err)
{
    const rp_point *p = &r->pts[i];
    const json_t *status = json_object_get(line, "status");
    double valid = p->completed + p->errors;
    for (size_t k = 0; k < r->n_objs; k++) {
        rp_obj *o = &r->objs[k];
        const rp_slo *s = &o->slo;
        double num = 0, den = valid, value = NAN;
        o->in_scope[i] = (unsigned char)in_scope(r, s, p);
        switch (s->metric) {
        case RP_M_AVAILABILITY:
            num = count_matching(status, &s->good);
            break;
        case RP_M_LATENCY:
            num = (double)sq_hist_count_at_or_below(corr, latency_limit_us(s));
            break;
        case RP_M_PERCENTILE:
        case RP_M_MAX:
        case RP_M_MEAN:
            den = (double)sq_hist_count(corr);
            if (den > 0)
                value = s->metric == RP_M_PERCENTILE ? (double)sq_hist_percentile(corr, s->percentile) / 1e3
                        : s->metric == RP_M_MAX      ? (double)sq_hist_max(corr) / 1e3
                                                     : sq_hist_mean(corr) / 1e3;
            if (o->in_scope[i] && den > 0) {
                sq_err he;
                if (!o->scope_hist &&
                    !(o->scope_hist = sq_hist_new(sq_hist_digits(corr), sq_hist_highest(corr))))
                    return sq_errf(err, -ENOMEM, "out of memory");
                if (sq_hist_merge(o->scope_hist, corr, &he))
                    return sq_errf(err, -EINVAL, "%s/series.jsonl: %s", r->dir, he.msg);
            }
            break;
        case RP_M_RATE:
            num = count_matching(status, &s->good);
            break;
        case RP_M_ERROR_RATE:
            num = p->errors + p->s5xx;
            break;
        case RP_M_ACHIEVED_RATE:
            num = p->sent;
            den = s->of_intended ? p->intended : (p->intended > 0 || p->sent > 0 ? p->dur_s : 0);
            break;
        case RP_M_RECOVERY:
            den = 0;
            break;
        }
        if (s->metric != RP_M_PERCENTILE && s->metric != RP_M_MAX && s->metric != RP_M_MEAN &&
            den > 0)
            value = num / den;
        o->good[i] = num;
        o->valid[i] = den;
        o->value[i] = value;
    }
    return 0;
}

/* Fewest samples that can support a fraction `frac` in (0, 1]: a p99 needs
 * 100 values, a 99.9% objective 1000 events. */
static double min_samples(double frac)
{
    if (frac >= 1 || frac <= 0)
        return 1;
    return ceil(1.0 / (1.0 - frac) - 1e-9);
}

/* The burn window: a twelfth of the run's load, at least 5 s and at most
 * 5 min, in whole intervals. */
static size_t burn_window(const rp_report *r)
{
    double run = r->load_end_s > 0 ? r->load_end_s : r->end_s;
    double w = run / 12;
    if (w < 5)
        w = 5;
    if (w > 300)
        w = 300;
    size_t n = (size_t)llround(w / r->interval_s);
    return n ? n : 1;
}

/* Burn rate, budget and alerts of a ratio-like objective over its scope;
 * `bad_is_num` says whether the numerator counts bad events (rates) or
 * good ones (availability, latency); budget = 1 - objective. */
static int eval_burn(const rp_report *r, rp_obj *o, double objective, int bad_is_num, sq_err *err)
{
    double *bad = malloc((r->n + 1) * sizeof *bad), *valid = malloc((r->n + 1) * sizeof *valid);
    size_t *idx = malloc((r->n + 1) * sizeof *idx);
    size_t m = 0;
    if (!bad || !valid || !idx) {
        free(bad);
        free(valid);
        free(idx);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!o->in_scope[i])
            continue;
        valid[m] = o->valid[i];
        bad[m] = bad_is_num ? o->good[i] : o->valid[i] - o->good[i];
        idx[m++] = i;
    }
    size_t win = burn_window(r), at = 0;
    o->burn_window_s = (double)win * r->interval_s;
    o->peak_burn = rp_burn_peak(bad, valid, m, win, objective, &at);
    o->peak_burn_at_s = m ? r->pts[idx[at]].t_s : 0;
    double iv = r->interval_s;
    size_t h1 = (size_t)llround(3600 / iv), m5 = (size_t)llround(300 / iv);
    size_t h6 = (size_t)llround(21600 / iv), m30 = (size_t)llround(1800 / iv);
    o->alert_fast = m >= h1 ? rp_burn_alert(bad, valid, m, h1, m5, objective, 14.4) : -1;
    o->alert_slow = m >= h6 ? rp_burn_alert(bad, valid, m, h6, m30, objective, 6) : -1;
    free(bad);
    free(valid);
    free(idx);
    return 0;
}

/* The worst sustained value over windows of k consecutive in-scope
 * intervals: for an upper bound (<, <=) the max over windows of the window's
 * min, for a lower bound the min of the maxes. Intervals without data do
 * not breach. Returns 0 and *out, or -1 when no window fits the scope. */
static int sustained(const rp_report *r, const rp_obj *o, size_t k, double *out)
{
    int upper = o->slo.cmp == RP_LT || o->slo.cmp == RP_LE;
    int found = 0;
    double worst = upper ? -INFINITY : INFINITY;
    for (size_t i = 0; i + k <= r->n; i++) {
        double best = NAN;
        size_t j;
        for (j = i; j < i + k && o->in_scope[j]; j++)
            best = upper ? fmin(best, o->value[j]) : fmax(best, o->value[j]);
        if (j < i + k)
            continue; /* the window leaves the scope */
        found = 1;
        if (isnan(best))
            continue;
        worst = upper ? fmax(worst, best) : fmin(worst, best);
    }
    if (!found)
        return -1;
    *out = isinf(worst) ? 0 : worst;
    return 0;
}

/* Finds the route entry named name in routes.json, or NULL. */
static const json_t *find_route(const rp_report *r, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(r->routes, "routes"), i, e)
    {
        const char *k = json_string_value(json_object_get(e, "route"));
        if (k && strcmp(k, name) == 0)
            return e;
    }
    return NULL;
}

/* Evaluates a route-filtered objective from routes.json (whole-run totals). */
static int eval_route(rp_report *r, rp_obj *o, sq_err *err)
{
    const rp_slo *s = &o->slo;
    const json_t *e = find_route(r, s->route);
    if (!e) {
        o->status = RP_ST_NO_DATA;
        snprintf(o->note, sizeof o->note, "no route \"%.200s\" in routes.json", s->route);
        return 0;
    }
    const json_t *status = json_object_get(e, "status");
    const json_t *errs = json_object_get(e, "errors");
    double completed = (double)json_integer_value(json_object_get(e, "completed"));
    double errors = (double)json_integer_value(json_object_get(e, "errors_total")) -
                    (double)json_integer_value(json_object_get(errs, "cancelled"));
    double valid = completed + errors, num = 0;
    sq_err he;
    sq_hist *h = sq_hist_from_json(json_object_get(json_object_get(e, "latency_us"), "corrected"),
                                   &he);
    if (!h)
        return sq_errf(err, -EINVAL, "%s/routes.json: route \"%s\": %s", r->dir, s->route, he.msg);
    rp_cond c5 = {RP_EQ, 5, 1};
    switch (s->metric) {
    case RP_M_AVAILABILITY:
    case RP_M_RATE:
        num = count_matching(status, &s->good);
        break;
    case RP_M_LATENCY:
        num = (double)sq_hist_count_at_or_below(h, latency_limit_us(s));
        break;
    case RP_M_ERROR_RATE:
        num = errors + count_matching(status, &c5);
        break;
    default:
        break;
    }
    o->samples = valid;
    if (s->metric == RP_M_PERCENTILE || s->metric == RP_M_MAX || s->metric == RP_M_MEAN) {
        o->samples = (double)sq_hist_count(h);
        o->observed = s->metric == RP_M_PERCENTILE ? (double)sq_hist_percentile(h, s->percentile) / 1e3
                      : s->metric == RP_M_MAX      ? (double)sq_hist_max(h) / 1e3
                                                   : sq_hist_mean(h) / 1e3;
        if (o->samples < min_samples(s->metric == RP_M_PERCENTILE ? s->percentile / 100 : 0))
            o->status = RP_ST_INSUFFICIENT;
    } else if (valid <= 0) {
        o->status = RP_ST_INSUFFICIENT;
    } else {
        o->observed = num / valid;
        if (s->is_ratio && valid < min_samples(s->objective))
            o->status = RP_ST_INSUFFICIENT;
    }
    sq_hist_free(h);
    o->have_observed = o->samples > 0;
    if (s->is_ratio && valid > 0) {
        o->have_budget = 1;
        o->budget_consumed = (valid - num) / ((1 - s->objective) * valid);
        o->peak_burn = NAN; /* no time series per route */
    }
    return 0;
}

/* Evaluates a recovery objective from the correlated faults. */
static void eval_recovery(rp_report *r, rp_obj *o)
{
    const rp_fault *f = NULL;
    for (size_t i = 0; i < r->n_faults && !f; i++)
        if (strcmp(r->faults[i].name, o->slo.scope_name) == 0)
            f = &r->faults[i];
    if (!f) {
        o->status = RP_ST_NO_DATA;
        snprintf(o->note, sizeof o->note, "no fault named \"%.160s\" in events.jsonl",
                 o->slo.scope_name);
        return;
    }
    o->have_observed = 1;
    o->samples = (double)f->recov.intervals + (double)f->during.intervals;
    if (!f->impact) {
        o->observed = 0;
        snprintf(o->note, sizeof o->note, "no impact seen");
    } else if (f->recovered) {
        o->observed = f->ttr_s;
    } else {
        o->observed = r->end_s - f->reverted_s;
        o->at_least = 1;
        o->status = RP_ST_FAIL;
        snprintf(o->note, sizeof o->note, "did not recover before the run ended");
    }
}

/* Names of the phases seen, for a message. */
static void phase_list(const rp_report *r, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_phases && o + 1 < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", r->phases[i]);
    if (!r->n_phases)
        snprintf(buf, len, "none named");
}

/* Reduces one objective over its scope. */
static int eval_one(rp_report *r, rp_obj *o, sq_err *err)
{
    const rp_slo *s = &o->slo;
    o->status = RP_ST_OK;
    o->peak_burn = NAN;
    o->margin = NAN;
    o->alert_fast = o->alert_slow = -1;
    switch (s->metric) {
    case RP_M_AVAILABILITY:
    case RP_M_LATENCY:
    case RP_M_RATE:
    case RP_M_ERROR_RATE:
        o->unit = "ratio";
        break;
    case RP_M_ACHIEVED_RATE:
        o->unit = s->of_intended ? "ratio" : "req/s";
        break;
    case RP_M_RECOVERY:
        o->unit = "s";
        break;
    default:
        o->unit = "ms";
    }
    o->target = s->is_ratio ? s->objective : s->target;
    int64_t from, to;
    if ((s->scope == RP_SCOPE_DURING || s->scope == RP_SCOPE_AFTER) &&
        rp_fault_window(r, s, &from, &to) < 0) {
        o->status = RP_ST_NO_DATA;
        snprintf(o->note, sizeof o->note, "no fault named \"%.160s\" in events.jsonl",
                 s->scope_name);
        return 0;
    }
    if (s->metric == RP_M_RECOVERY) {
        eval_recovery(r, o);
        goto judge;
    }
    if (s->route[0]) {
        int rc = eval_route(r, o, err);
        if (rc)
            return rc;
        goto judge;
    }
    size_t scoped = 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!o->in_scope[i])
            continue;
        scoped++;
        num += o->good[i];
        den += o->valid[i];
    }
    if (s->scope == RP_SCOPE_PHASE && scoped == 0) {
        char list[200];
        phase_list(r, list, sizeof list);
        o->status = RP_ST_NO_DATA;
        snprintf(o->note, sizeof o->note, "no interval of phase \"%.100s\" in series.jsonl "
                                          "(phases: %s)",
                 s->scope_name, list);
        return 0;
    }
    switch (s->metric) {
    case RP_M_PERCENTILE:
    case RP_M_MAX:
    case RP_M_MEAN: {
        const sq_hist *h = o->scope_hist;
        o->samples = h ? (double)sq_hist_count(h) : 0;
        if (o->samples > 0) {
            o->have_observed = 1;
            o->observed = s->metric == RP_M_PERCENTILE ? (double)sq_hist_percentile(h, s->percentile) / 1e3
                          : s->metric == RP_M_MAX      ? (double)sq_hist_max(h) / 1e3
                                                       : sq_hist_mean(h) / 1e3;
        }
        double need = min_samples(s->metric == RP_M_PERCENTILE ? s->percentile / 100 : 0);
        if (o->samples < need) {
            o->status = RP_ST_INSUFFICIENT;
            snprintf(o->note, sizeof o->note, "%.0f samples; %.100s needs at least %.0f", o->samples,
                     s->name, need);
        }
        break;
    }
    default:
        o->samples = s->metric == RP_M_ACHIEVED_RATE && !s->of_intended ? num : den;
        if (den > 0) {
            o->have_observed = 1;
            o->observed = num / den;
        }
        if (den <= 0) {
            o->status = RP_ST_INSUFFICIENT;
            snprintf(o->note, sizeof o->note, "no %s in scope",
                     s->metric == RP_M_ACHIEVED_RATE ? "intended requests" : "requests");
        } else if (s->is_ratio && den < min_samples(s->objective)) {
            o->status = RP_ST_INSUFFICIENT;
            snprintf(o->note, sizeof o->note, "%.0f requests; a %g%% objective needs at least %.0f",
                     den, s->objective * 100, min_samples(s->objective));
        }
        if (s->is_ratio && den > 0) {
            o->have_budget = 1;
            o->budget_consumed = (den - num) / ((1 - s->objective) * den);
            if (eval_burn(r, o, s->objective, 0, err))
                return -ENOMEM;
        } else if ((s->metric == RP_M_RATE || s->metric == RP_M_ERROR_RATE) &&
                   (s->cmp == RP_LT || s->cmp == RP_LE) && s->target > 0 && den > 0) {
            o->have_budget = 1;
            o->budget_consumed = o->observed / s->target;
            if (eval_burn(r, o, 1 - s->target, 1, err))
                return -ENOMEM;
        }
    }
    if (s->for_ns > 0 && o->status == RP_ST_OK) {
        double kd = ceil((double)s->for_ns / 1e9 / r->interval_s - 1e-9);
        size_t k = kd > (double)r->n ? r->n + 1 : (size_t)kd;
        double v;
        if (sustained(r, o, k ? k : 1, &v) < 0) {
            o->status = RP_ST_INSUFFICIENT;
            snprintf(o->note, sizeof o->note, "the scope is shorter than the 'for' window");
        } else {
            o->observed = v;
            o->have_observed = 1;
            snprintf(o->note, sizeof o->note, "worst value sustained for %gs", (double)k * r->interval_s);
        }
    }
judge:
    if (o->status == RP_ST_OK && o->have_observed) {
        int holds = s->is_ratio ? o->observed >= s->objective
                                : rp_cmp_holds(s->cmp, o->observed, s->target);
        o->status = holds ? RP_ST_OK : RP_ST_FAIL;
    }
    if (o->have_observed && !o->at_least) {
        int upper = !s->is_ratio && (s->cmp == RP_LT || s->cmp == RP_LE);
        o->margin = upper ? o->target - o->observed : o->observed - o->target;
    }
    return 0;
}

/* Evaluates every objective and sets the verdict; see report_int.h. */
int rp_eval_finish(rp_report *r, sq_err *err)
{
    int failed = 0;
    for (size_t k = 0; k < r->n_objs; k++) {
        int rc = eval_one(r, &r->objs[k], err);
        if (rc)
            return rc;
        failed |= r->objs[k].status != RP_ST_OK;
    }
    r->verdict = r->aborted ? "aborted" : r->n_objs == 0 ? "none" : failed ? "fail" : "pass";
    return 0;
}

/* Status text; see report_int.h. */
const char *rp_status_text(rp_status st)
{
    switch (st) {
    case RP_ST_OK:
        return "ok";
    case RP_ST_FAIL:
        return "fail";
    case RP_ST_INSUFFICIENT:
        return "insufficient data";
    case RP_ST_NO_DATA:
        return "no data";
    }
    return "?";
}

/* Formats a value in the objective's unit; see report_int.h. */
char *rp_format_value(const rp_obj *o, double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "n/a");
    } else if (strcmp(o->unit, "ratio") == 0) {
        double pct = v * 100;
        if (pct != 0 && fabs(pct) < 0.01)
            snprintf(buf, len, "%.4f%%", pct);
        else if (fabs(pct) >= 99 && fabs(pct) < 100)
            snprintf(buf, len, "%.3f%%", pct);
        else
            snprintf(buf, len, "%.2f%%", pct);
    } else if (strcmp(o->unit, "ms") == 0) {
        if (fabs(v) >= 1000)
            snprintf(buf, len, "%.2fs", v / 1000);
        else if (fabs(v) >= 10)
            snprintf(buf, len, "%.0fms", v);
        else
            snprintf(buf, len, "%.2fms", v);
    } else if (strcmp(o->unit, "req/s") == 0) {
        snprintf(buf, len, "%.1f req/s", v);
    } else {
        snprintf(buf, len, "%.1fs", v);
    }
    return buf;
}
