/* correlate.c — chaos correlation: for each fault from events.jsonl, the
 * baseline / during / recovery windows (latency from merged histograms,
 * error rate, throughput), the time to impact and the time to recover.
 *
 * Windows, in UTC ns, with L = the fault's duration clamped to 10 s..60 s:
 *   baseline [applied - L, applied), never reaching back before the end of
 *            the previous fault; during [applied, reverted) (to the end of
 *            the run when never reverted); recovery [reverted, reverted + L),
 *            never reaching into the next fault.
 * An interval belongs to a window when its midpoint does.
 *
 * Health of an interval: when the run has unscoped, unrouted objectives,
 * every threshold holds on that interval alone and every ratio objective
 * spends its error budget at less than RP_HEALTH_BURN times the allowed pace
 * (a single interval of a 99.9% objective is too small a sample to demand
 * 99.9% of it: sampling noise alone would make it fail); otherwise (no objectives)
 * the interval's error rate stays below baseline + 1 percentage point and
 * its p99 below max(2 x baseline p99, baseline p99 + 10 ms). An interval in
 * which requests were due but no response or error came back is never
 * healthy.
 * Time to impact: from `applied` to the start of the first unhealthy
 * interval that ends after `applied` and starts before the recovery window
 * ends (0 when the fault lands mid-interval). Time to recover: from
 * `reverted` to the first of RP_RECOVER_RUN consecutive healthy intervals
 * after the impact (a fault never reverted never recovers). Both are null
 * without impact.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"

#define WIN_MIN_NS (10 * SQ_NS_PER_S)
#define WIN_MAX_NS (60 * SQ_NS_PER_S)

enum { W_BASE, W_DURING, W_RECOV };

/* The bounds [*from, *to) of window `which` of fault k. */
static void bounds(const rp_report *r, size_t k, int which, int64_t *from, int64_t *to)
{
    const rp_fault *f = &r->faults[k];
    int64_t len = f->reverted_ns ? f->reverted_ns - f->applied_ns : 0;
    if (len < WIN_MIN_NS)
        len = WIN_MIN_NS;
    if (len > WIN_MAX_NS)
        len = WIN_MAX_NS;
    switch (which) {
    case W_BASE: {
        int64_t prev_end = INT64_MIN;
        for (size_t j = 0; j < r->n_faults; j++) {
            const rp_fault *g = &r->faults[j];
            int64_t e = g->reverted_ns ? g->reverted_ns : g->applied_ns;
            if (j != k && g->applied_ns < f->applied_ns && e > prev_end)
                prev_end = e;
        }
        *from = f->applied_ns - len > prev_end ? f->applied_ns - len : prev_end;
        *to = f->applied_ns;
        break;
    }
    case W_DURING:
        *from = f->applied_ns;
        *to = f->reverted_ns ? f->reverted_ns : INT64_MAX;
        break;
    default: {
        int64_t next = INT64_MAX; /* the next fault's start bounds the recovery */
        for (size_t j = 0; j < r->n_faults; j++)
            if (j != k && r->faults[j].applied_ns > f->applied_ns && r->faults[j].applied_ns < next)
                next = r->faults[j].applied_ns;
        *from = f->reverted_ns ? f->reverted_ns : INT64_MAX;
        *to = f->reverted_ns ? f->reverted_ns + len : INT64_MAX;
        if (*to > next)
            *to = next;
    }
    }
}

/* Adds point i (and its histogram) into window w. */
static int window_add(rp_report *r, rp_window *w, size_t i, const sq_hist *corr, sq_err *err)
{
    const rp_point *p = &r->pts[i];
    sq_err he;
    if (w->intervals == 0)
        w->start_s = p->t_s;
    w->end_s = p->t_s + p->dur_s;
    w->intervals++;
    w->valid += p->completed + p->errors;
    w->bad += p->errors + p->s5xx;
    w->completed += p->completed;
    w->seconds += p->dur_s;
    if (sq_hist_count(corr) == 0)
        return 0;
    if (!w->hist && !(w->hist = sq_hist_new(sq_hist_digits(corr), sq_hist_highest(corr))))
        return sq_errf(err, -ENOMEM, "out of memory");
    if (sq_hist_merge(w->hist, corr, &he))
        return sq_errf(err, -EINVAL, "%s/series.jsonl: %s", r->dir, he.msg);
    return 0;
}

/* Adds interval i to every fault window it falls in; see report_int.h. */
int rp_correlate_interval(rp_report *r, size_t i, const sq_hist *corr, sq_err *err)
{
    for (size_t k = 0; k < r->n_faults; k++) {
        rp_window *ws[3] = {&r->faults[k].base, &r->faults[k].during, &r->faults[k].recov};
        for (int w = W_BASE; w <= W_RECOV; w++) {
            int64_t from, to;
            bounds(r, k, w, &from, &to);
            if (rp_point_within(&r->pts[i], from, to)) {
                int rc = window_add(r, ws[w], i, corr, err);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* Whether objective o can judge a single interval: run-wide, all routes,
 * not a recovery objective. */
static int judges_intervals(const rp_obj *o)
{
    return o->slo.scope == RP_SCOPE_RUN && !o->slo.route[0] && o->slo.metric != RP_M_RECOVERY;
}

/* Health of interval i for fault f (see the file comment). */
static int healthy(const rp_report *r, const rp_fault *f, size_t i, int by_objectives)
{
    const rp_point *p = &r->pts[i];
    double valid = p->completed + p->errors;
    if (valid <= 0)
        return !(p->intended > 0 || p->sent > 0);
    if (by_objectives) {
        for (size_t k = 0; k < r->n_objs; k++) {
            const rp_obj *o = &r->objs[k];
            if (!judges_intervals(o) || isnan(o->value[i]))
                continue;
            int holds = o->slo.is_ratio
                            ? (1 - o->value[i]) < RP_HEALTH_BURN * (1 - o->slo.objective)
                            : rp_cmp_holds(o->slo.cmp, o->value[i], o->slo.target);
            if (!holds)
                return 0;
        }
        return 1;
    }
    double base_err = f->base.valid > 0 ? f->base.bad / f->base.valid : 0;
    double base_p99 = f->base.hist ? (double)sq_hist_percentile(f->base.hist, 99) / 1e3
                      : r->corrected ? (double)sq_hist_percentile(r->corrected, 50) / 1e3
                                     : 0;
    double err_rate = (p->errors + p->s5xx) / valid;
    double p99_limit = fmax(2 * base_p99, base_p99 + 10);
    return err_rate < base_err + 0.01 && !(p->p99 > p99_limit);
}

/* Impact and recovery of every fault; see report_int.h. */
void rp_correlate_finish(rp_report *r)
{
    int by_objectives = 0;
    for (size_t k = 0; k < r->n_objs; k++)
        by_objectives |= judges_intervals(&r->objs[k]);
    for (size_t k = 0; k < r->n_faults; k++) {
        rp_fault *f = &r->faults[k];
        int64_t rfrom, rto;
        bounds(r, k, W_RECOV, &rfrom, &rto);
        int64_t search_end = f->reverted_ns ? rto : INT64_MAX;
        size_t hit = 0;
        f->impact = 0;
        f->recovered = 0;
        for (size_t i = 0; i < r->n; i++) {
            const rp_point *p = &r->pts[i];
            int64_t end = p->utc_ns + (int64_t)(p->dur_s * 1e9);
            if (end <= f->applied_ns || p->utc_ns >= search_end)
                continue;
            if (!healthy(r, f, i, by_objectives)) {
                f->impact = 1;
                hit = i;
                f->tti_s = p->utc_ns > f->applied_ns ? (double)(p->utc_ns - f->applied_ns) / 1e9 : 0;
                break;
            }
        }
        if (!f->impact || !f->reverted_ns)
            continue;
        for (size_t i = hit + 1; i + RP_RECOVER_RUN <= r->n; i++) {
            const rp_point *p = &r->pts[i];
            if (p->utc_ns + (int64_t)(p->dur_s * 1e9) <= f->reverted_ns)
                continue;
            size_t j = 0;
            while (j < RP_RECOVER_RUN && healthy(r, f, i + j, by_objectives))
                j++;
            if (j == RP_RECOVER_RUN) {
                f->recovered = 1;
                f->ttr_s = p->utc_ns > f->reverted_ns ? (double)(p->utc_ns - f->reverted_ns) / 1e9
                                                      : 0;
                break;
            }
        }
    }
}
