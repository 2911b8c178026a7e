/* load.c — reads a run directory into an rp_report: run.json (and its
 * stored objectives), events.jsonl (faults, instant events, abort),
 * series.jsonl (streamed once: interval numbers kept, histograms merged and
 * dropped) and routes.json; then has every objective evaluated and every
 * fault correlated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"
#include "reports/series.h"

/* Parses the stored and extra objectives into r->objs. An extra objective
 * whose text equals a stored one replaces it. */
static int load_objectives(rp_report *r, const char *const *extra, size_t n_extra, sq_err *err)
{
    const json_t *stored = json_object_get(r->run, "slos");
    size_t n_stored = json_is_array(stored) ? json_array_size(stored) : 0;
    if (stored && !json_is_array(stored))
        return sq_errf(err, -EINVAL, "%s/run.json: \"slos\" must be an array of strings", r->dir);
    r->objs = calloc(n_stored + n_extra + 1, sizeof *r->objs);
    if (!r->objs)
        return sq_errf(err, -ENOMEM, "out of memory");
    sq_err e;
    for (size_t i = 0; i < n_stored; i++) {
        const char *text = json_string_value(json_array_get(stored, i));
        if (!text)
            return sq_errf(err, -EINVAL, "%s/run.json: slos[%zu] must be a string", r->dir, i);
        if (rp_slo_parse(text, &r->objs[r->n_objs].slo, &e))
            return sq_errf(err, -EINVAL, "%s/run.json: slos[%zu] '%s': %s", r->dir, i, text,
                           e.msg);
        r->n_objs++;
    }
    for (size_t i = 0; i < n_extra; i++) {
        rp_slo s;
        if (rp_slo_parse(extra[i], &s, &e))
            return sq_errf(err, -EINVAL, "--slo '%s': %s", extra[i], e.msg);
        size_t k = 0;
        while (k < r->n_objs && strcmp(r->objs[k].slo.text, s.text) != 0)
            k++;
        r->objs[k].slo = s;
        if (k == r->n_objs)
            r->n_objs++;
    }
    return 0;
}

/* Makes room for point index r->n in pts and every objective's arrays. */
static int grow(rp_report *r, sq_err *err)
{
    if (r->n < r->cap)
        return 0;
    size_t cap = r->cap ? r->cap * 2 : 256;
    rp_point *p = realloc(r->pts, cap * sizeof *p);
    if (!p)
        return sq_errf(err, -ENOMEM, "out of memory");
    r->pts = p;
    for (size_t k = 0; k < r->n_objs; k++) {
        rp_obj *o = &r->objs[k];
        double *g = realloc(o->good, cap * sizeof *g);
        if (g)
            o->good = g;
        double *v = realloc(o->valid, cap * sizeof *v);
        if (v)
            o->valid = v;
        double *x = realloc(o->value, cap * sizeof *x);
        if (x)
            o->value = x;
        unsigned char *s = realloc(o->in_scope, cap);
        if (s)
            o->in_scope = s;
        if (!g || !v || !x || !s)
            return sq_errf(err, -ENOMEM, "out of memory");
    }
    r->cap = cap;
    return 0;
}

/* Reads a non-negative integer member (0 when absent and optional). */
static int get_count(rp_report *r, const json_t *obj, const char *key, size_t lineno,
                     int required, double *out, sq_err *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v && !required) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"%s\" must be a non-negative integer",
                       r->dir, lineno, key);
    *out = (double)json_integer_value(v);
    return 0;
}

/* Counts key into a first/last-seen table. */
static void seen_add(rp_seen *tab, size_t *n, const char *key, uint64_t count, double t_s)
{
    size_t i = 0;
    while (i < *n && strcmp(tab[i].key, key) != 0)
        i++;
    if (i == *n) {
        if (*n == RP_MAX_CODES)
            return; /* more distinct keys than a report can show */
        snprintf(tab[i].key, sizeof tab[i].key, "%s", key);
        tab[i].first_s = t_s;
        (*n)++;
    }
    tab[i].count += count;
    tab[i].last_s = t_s;
}

/* Decodes latency_us.<key> of a line into a new histogram (caller frees). */
static sq_hist *line_hist(rp_report *r, const json_t *line, const char *key, size_t lineno,
                          sq_err *err)
{
    sq_err he;
    const json_t *h = json_object_get(json_object_get(line, "latency_us"), key);
    if (!h) {
        sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: missing \"latency_us\".\"%s\"", r->dir,
                lineno, key);
        return NULL;
    }
    sq_hist *one = sq_hist_from_json(h, &he);
    if (!one)
        sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"latency_us\".\"%s\": %s", r->dir, lineno,
                key, he.msg);
    return one;
}

/* Merges one into *total (created with one's configuration on first use). */
static int merge_total(rp_report *r, sq_hist **total, const sq_hist *one, size_t lineno,
                       sq_err *err)
{
    sq_err he;
    if (!*total) {
        *total = sq_hist_new(sq_hist_digits(one), sq_hist_highest(one));
        if (!*total)
            return sq_errf(err, -ENOMEM, "out of memory");
    }
    if (sq_hist_merge(*total, one, &he))
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: %s", r->dir, lineno, he.msg);
    return 0;
}

/* Index of phase name in r->phases (added when new); -1 when full. */
static int phase_index(rp_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_phases; i++)
        if (strcmp(r->phases[i], name) == 0)
            return (int)i;
    if (r->n_phases == sizeof r->phases / sizeof r->phases[0])
        return -1;
    snprintf(r->phases[r->n_phases], RP_NAME_MAX, "%s", name);
    return (int)r->n_phases++;
}

/* Status and error maps of a line into the point and the seen tables. */
static int fold_codes(rp_report *r, rp_point *p, const json_t *line, size_t lineno, sq_err *err)
{
    const char *key;
    json_t *v;
    const json_t *status = json_object_get(line, "status");
    const json_t *errors = json_object_get(line, "errors");
    if ((status && !json_is_object(status)) || (errors && !json_is_object(errors)))
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"status\" and \"errors\" must be "
                                     "objects",
                       r->dir, lineno);
    json_object_foreach((json_t *)status, key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"status\".\"%s\" must be a "
                                         "non-negative integer",
                           r->dir, lineno, key);
        int code = rp_status_code(key);
        double c = (double)json_integer_value(v);
        if (code >= 500 && code < 600)
            p->s5xx += c;
        else if (code >= 400 && code < 500)
            p->s4xx += c;
        if (c > 0)
            seen_add(r->codes, &r->n_codes, key, (uint64_t)c, p->t_s);
    }
    json_object_foreach((json_t *)errors, key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"errors\".\"%s\" must be a "
                                         "non-negative integer",
                           r->dir, lineno, key);
        double c = (double)json_integer_value(v);
        if (strcmp(key, "cancelled") == 0)
            p->cancelled += c;
        else
            p->errors += c;
        if (c > 0)
            seen_add(r->classes, &r->n_classes, key, (uint64_t)c, p->t_s);
    }
    return 0;
}

/* rp_series_each callback: one interval line into a point, the totals, the
 * objectives and the fault windows. */
static int fold_line(json_t *line, size_t lineno, void *ctx)
{
    void **c = ctx;
    rp_report *r = c[0];
    sq_err *err = c[1];
    sq_hist *corr = NULL, *unc = NULL;
    int rc = grow(r, err);
    if (rc)
        return rc;
    rp_point *p = &r->pts[r->n];
    memset(p, 0, sizeof *p);
    p->phase = -1;
    const json_t *t = json_object_get(line, "t_s"), *d = json_object_get(line, "dur_s");
    const json_t *u = json_object_get(line, "start_utc_ns");
    if (!json_is_number(t) || !json_is_number(d) || json_number_value(d) <= 0)
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"t_s\" and \"dur_s\" must be numbers "
                                     "(dur_s > 0)",
                       r->dir, lineno);
    p->t_s = json_number_value(t);
    p->dur_s = json_number_value(d);
    if (!(p->t_s >= 0 && p->t_s <= RP_MAX_T_S) || !(p->dur_s <= RP_MAX_DUR_S))
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"t_s\" must be 0..%g and \"dur_s\" "
                                     "at most %g",
                       r->dir, lineno, RP_MAX_T_S, RP_MAX_DUR_S);
    if (u && (!json_is_integer(u) || json_integer_value(u) < 0 ||
              json_integer_value(u) >= RP_MAX_UTC_NS))
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"start_utc_ns\" must be a UTC time "
                                     "in ns",
                       r->dir, lineno);
    p->utc_ns = u ? (int64_t)json_integer_value(u) : r->start_utc_ns + (int64_t)(p->t_s * 1e9);
    if ((rc = get_count(r, line, "intended", lineno, 1, &p->intended, err)) ||
        (rc = get_count(r, line, "sent", lineno, 1, &p->sent, err)) ||
        (rc = get_count(r, line, "late", lineno, 1, &p->late, err)) ||
        (rc = get_count(r, line, "completed", lineno, 1, &p->completed, err)) ||
        (rc = get_count(r, line, "unsent", lineno, 0, &p->unsent, err)) ||
        (rc = fold_codes(r, p, line, lineno, err)))
        return rc;
    const json_t *ph = json_object_get(line, "phase");
    if (json_is_string(ph) && json_string_length(ph) > 0)
        p->phase = phase_index(r, json_string_value(ph));
    if (!json_is_object(json_object_get(line, "latency_us")))
        return sq_errf(err, -EINVAL, "%s/series.jsonl:%zu: \"latency_us\" must be an object",
                       r->dir, lineno);
    if (!(corr = line_hist(r, line, "corrected", lineno, err)) ||
        !(unc = line_hist(r, line, "uncorrected", lineno, err))) {
        rc = -EINVAL;
        goto out;
    }
    if ((rc = merge_total(r, &r->corrected, corr, lineno, err)) ||
        (rc = merge_total(r, &r->uncorrected, unc, lineno, err)))
        goto out;
    p->p50 = (double)sq_hist_percentile(corr, 50) / 1e3;
    p->p90 = (double)sq_hist_percentile(corr, 90) / 1e3;
    p->p99 = (double)sq_hist_percentile(corr, 99) / 1e3;
    p->p999 = (double)sq_hist_percentile(corr, 99.9) / 1e3;
    p->max = (double)sq_hist_max(corr) / 1e3;
    p->mean = sq_hist_mean(corr) / 1e3;
    p->u99 = (double)sq_hist_percentile(unc, 99) / 1e3;
    if (json_object_get(line, "unsent"))
        r->have_unsent = 1;
    r->tot_intended += p->intended;
    r->tot_sent += p->sent;
    r->tot_late += p->late;
    r->tot_completed += p->completed;
    r->tot_errors += p->errors;
    r->tot_cancelled += p->cancelled;
    r->tot_unsent += p->unsent;
    r->tot_5xx += p->s5xx;
    if (p->t_s + p->dur_s > r->end_s)
        r->end_s = p->t_s + p->dur_s;
    if ((p->intended > 0 || p->sent > 0) && p->t_s + p->dur_s > r->load_end_s)
        r->load_end_s = p->t_s + p->dur_s;
    if ((rc = rp_eval_interval(r, r->n, line, corr, err)) ||
        (rc = rp_correlate_interval(r, r->n, corr, err)))
        goto out;
    r->n++;
out:
    sq_hist_free(corr);
    sq_hist_free(unc);
    return rc;
}

/* Loads run_dir and evaluates it; see reports.h. */
int rp_report_load(const char *run_dir, const char *const *extra, size_t n_extra,
                   rp_report **out, sq_err *err)
{
    rp_report *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return sq_errf(err, -ENOMEM, "out of memory");
    snprintf(r->dir, sizeof r->dir, "%s", run_dir);
    if ((rc = sq_json_load_file(run_dir, "run.json", &r->run, err)))
        goto fail;
    r->run_id = json_string_value(json_object_get(r->run, "run_id"));
    if (!json_is_object(r->run) || !r->run_id) {
        rc = sq_errf(err, -EINVAL, "%s/run.json: missing \"run_id\" (is this a squall run "
                                   "directory?)",
                     run_dir);
        goto fail;
    }
    r->target = json_string_value(json_object_get(r->run, "target"));
    const json_t *st = json_object_get(r->run, "start_utc_ns");
    r->start_utc_ns = json_is_integer(st) && json_integer_value(st) >= 0 &&
                              json_integer_value(st) < RP_MAX_UTC_NS
                          ? (int64_t)json_integer_value(st)
                          : 0;
    const json_t *load = json_object_get(r->run, "load");
    const json_t *iv = json_object_get(load, "interval_s");
    r->interval_s = json_is_number(iv) && json_number_value(iv) >= RP_MIN_INTERVAL_S &&
                            json_number_value(iv) <= RP_MAX_DUR_S
                        ? json_number_value(iv)
                        : 1.0;
    const json_t *shards = json_object_get(r->run, "shards");
    r->shards = json_is_array(shards) ? (int)json_array_size(shards) : 1;
    if ((rc = load_objectives(r, extra, n_extra, err)) || (rc = rp_load_events(r, err)))
        goto fail;
    void *ctx[2] = {r, err};
    rc = rp_series_each(run_dir, fold_line, ctx, err);
    if (rc == -ENOENT)
        rc = 0; /* a run that stopped before its first interval */
    if (rc)
        goto fail;
    if (r->n > 0) {
        /* offsets of faults and events relative to the first interval */
        int64_t t0 = r->pts[0].utc_ns - (int64_t)(r->pts[0].t_s * 1e9);
        r->start_utc_ns = t0;
        for (size_t i = 0; i < r->n_faults; i++) {
            rp_fault *f = &r->faults[i];
            f->applied_s = (double)(f->applied_ns - t0) / 1e9;
            f->reverted_s = f->reverted_ns ? (double)(f->reverted_ns - t0) / 1e9 : r->end_s;
        }
        for (size_t i = 0; i < r->n_events; i++)
            r->events[i].t_s = (double)(r->events[i].utc_ns - t0) / 1e9;
        if (r->n > 1 && r->pts[1].t_s - r->pts[0].t_s >= RP_MIN_INTERVAL_S)
            r->interval_s = r->pts[1].t_s - r->pts[0].t_s;
    }
    r->digits = r->corrected ? sq_hist_digits(r->corrected) : SQ_HIST_DEFAULT_DIGITS;
    rc = sq_json_load_file(run_dir, "routes.json", &r->routes, err);
    if (rc == -ENOENT)
        rc = 0;
    if (rc)
        goto fail;
    rp_attach_samples(r);
    rp_correlate_finish(r);
    if ((rc = rp_eval_finish(r, err)))
        goto fail;
    *out = r;
    return 0;
fail:
    rp_report_free(r);
    return rc;
}

/* Frees the report and everything it owns. */
void rp_report_free(rp_report *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n_objs; k++) {
        free(r->objs[k].good);
        free(r->objs[k].valid);
        free(r->objs[k].value);
        free(r->objs[k].in_scope);
        sq_hist_free(r->objs[k].scope_hist);
    }
    for (size_t i = 0; i < r->n_faults; i++) {
        sq_hist_free(r->faults[i].base.hist);
        sq_hist_free(r->faults[i].during.hist);
        sq_hist_free(r->faults[i].recov.hist);
    }
    free(r->objs);
    free(r->faults);
    free(r->events);
    free(r->pts);
    sq_hist_free(r->corrected);
    sq_hist_free(r->uncorrected);
    json_decref(r->run);
    json_decref(r->routes);
    free(r);
}

/* Parses a status map key; see report_int.h. */
int rp_status_code(const char *key)
{
    int code = 0;
    for (size_t i = 0; key[i]; i++) {
        if (key[i] < '0' || key[i] > '9' || i >= 3)
            return 0;
        code = code * 10 + (key[i] - '0');
    }
    return code;
}

/* Whether the interval's midpoint lies in [from_ns, to_ns). */
int rp_point_within(const rp_point *p, int64_t from_ns, int64_t to_ns)
{
    int64_t mid = p->utc_ns + (int64_t)(p->dur_s * 5e8);
    return mid >= from_ns && mid < to_ns;
}
