/* reports.h — the public header of squall's reporter: everything here works
 * from a run directory alone (DESIGN.md), so it serves finished, merged and
 * partial (crashed) runs alike.
 *
 * Three layers:
 *   - SLO expressions (rp_slo_parse): text -> rp_slo, errors with the column;
 *   - the report (rp_report_load): run.json, events.jsonl, series.jsonl and
 *     routes.json read once, every objective evaluated, every fault
 *     correlated; the outputs (summary.json, report.html, junit.xml, the
 *     terminal summary) are views of it;
 *   - merge (rp_merge): shards into one run directory, histograms exactly.
 */
#ifndef RP_REPORTS_H
#define RP_REPORTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

#define RP_SUMMARY_SCHEMA "squall.summary/1"
#define RP_SLO_TEXT_MAX 512  /* longest expression accepted */
#define RP_SLO_NAME_MAX 160  /* fault / phase names inside an expression */
#define RP_SLO_ROUTE_MAX 256 /* route="METHOD /path" */

/* ---- SLO expressions (slo_parse.c; docs/slo.md) ------------------------- */

typedef enum rp_metric {
    RP_M_AVAILABILITY,  /* ratio: availability 99.9% good=status<500 */
    RP_M_LATENCY,       /* ratio: latency 99% < 300ms */
    RP_M_PERCENTILE,    /* p(99) < 300ms */
    RP_M_MAX,           /* max < 2s */
    RP_M_MEAN,          /* mean < 100ms */
    RP_M_RATE,          /* rate(status==400) < 0.5% */
    RP_M_ERROR_RATE,    /* error_rate < 1% */
    RP_M_ACHIEVED_RATE, /* achieved_rate >= 99% of intended | >= 450 (req/s) */
    RP_M_RECOVERY,      /* recovery < 60s after X */
} rp_metric;

typedef enum rp_cmp { RP_LT, RP_LE, RP_GT, RP_GE, RP_EQ, RP_NE } rp_cmp;

typedef enum rp_scope { RP_SCOPE_RUN, RP_SCOPE_DURING, RP_SCOPE_AFTER, RP_SCOPE_PHASE } rp_scope;

/* A condition on a response: `status<500`, `status==5xx`. */
typedef struct rp_cond {
    rp_cmp cmp;
    int code;     /* 100..599, or the class digit 1..5 when is_class */
    int is_class; /* `5xx`: compares code / 100 (== and != only) */
} rp_cond;

/* One parsed objective. Plain data, no allocation: copy it freely. */
typedef struct rp_slo {
    char text[RP_SLO_TEXT_MAX];  /* the expression as written, trimmed */
    char name[RP_SLO_TEXT_MAX];  /* short label: "p(99) during db-loss" */
    rp_metric metric;
    int is_ratio;      /* availability/latency: has an error budget */
    double objective;  /* ratio objectives: the good fraction wanted (0.999) */
    double percentile; /* RP_M_PERCENTILE: 0..100 */
    rp_cond good;      /* availability good=, rate(cond) */
    rp_cmp cmp;        /* threshold comparison (ratio latency: < or <=) */
    double target;     /* ms (latency metrics), fraction (rates), req/s or
                          fraction of intended (achieved_rate), s (recovery) */
    int of_intended;   /* achieved_rate: target is a fraction of intended */
    char route[RP_SLO_ROUTE_MAX]; /* "" = every route */
    rp_scope scope;
    char scope_name[RP_SLO_NAME_MAX];
    int64_t for_ns;    /* sustained window; 0 = none */
} rp_slo;

/* Parses one objective. Returns 0 and fills *out, or -EINVAL with
 * "column N: what is wrong (what was expected)" in err. Never accepts a
 * partial expression, an unknown metric or an out-of-range number. */
int rp_slo_parse(const char *text, rp_slo *out, sq_err *err);

/* After a failed rp_slo_parse of text, prints the expression and a caret
 * under the column err names ("column N: ..."), indented, to f:
 *       p99 < 300ms
 *       ^
 * Prints nothing when err names no column. */
void rp_slo_caret(FILE *f, const char *text, const sq_err *err);

/* The VALET category of an objective: "Volume", "Availability", "Latency",
 * "Errors" or "Tickets" (static strings). */
const char *rp_slo_valet(const rp_slo *slo);

/* Whether `value` satisfies `cmp target`. */
int rp_cmp_holds(rp_cmp cmp, double value, double target);

/* The operator as written ("<", ">=", ...; static). */
const char *rp_cmp_text(rp_cmp cmp);

/* Whether a status code satisfies a condition. */
int rp_cond_holds(const rp_cond *c, int status);

/* ---- burn-rate math (burn.c) --------------------------------------------- */

/* Peak burn rate over every window of `win` consecutive intervals: for each
 * window, (sum bad / sum valid) / (1 - objective); windows with no valid
 * event are skipped. Returns the peak (0 when there is none) and, through
 * *at (may be NULL), the index of the first interval of the peak window. */
double rp_burn_peak(const double *bad, const double *valid, size_t n, size_t win,
                    double objective, size_t *at);

/* Multiwindow burn-rate alert (SRE workbook): true when some interval ends
 * both a long window and a short window whose burn rates are >= factor.
 * Near the start of the run the long window covers what exists so far (as
 * a range query over a young series does). Never fires when n < long_win:
 * the run is too short for the alert to mean anything. */
int rp_burn_alert(const double *bad, const double *valid, size_t n, size_t long_win,
                  size_t short_win, double objective, double factor);

/* ---- the report (report.c and friends) ----------------------------------- */

typedef struct rp_report rp_report;

/* Loads run_dir and evaluates its objectives: those stored in run.json
 * ("slos": [...]) followed by `extra` (command-line --slo); an extra one
 * with the same text as a stored one replaces it. Returns 0 and a new
 * report owned by the caller (rp_report_free), or -EINVAL with
 * "FILE:LINE:COL: message" for malformed input / a bad expression, -ENOENT
 * when run_dir is not a run directory, -ENOMEM. */
int rp_report_load(const char *run_dir, const char *const *extra, size_t n_extra,
                   rp_report **out, sq_err *err);

/* Frees r (NULL is fine). */
void rp_report_free(rp_report *r);

/* summary.json version 1 (every key of DESIGN.md and more). New reference
 * owned by the caller; NULL on out of memory. */
json_t *rp_report_summary(const rp_report *r);

/* Writes report.html / junit.xml to path (atomically: temporary + rename).
 * Returns 0 or a negative errno with the message in err. */
int rp_report_write_html(const rp_report *r, const char *path, sq_err *err);
int rp_report_write_junit(const rp_report *r, const char *path, sq_err *err);

/* The exit code the report implies: 0 pass or none, 1 fail, 4 aborted. */
int rp_report_exit_code(const rp_report *r);

/* What rp_report_finish writes: paths, NULL = skip. */
typedef struct rp_outputs {
    const char *json;  /* summary.json */
    const char *html;  /* report.html */
    const char *junit; /* junit.xml */
} rp_outputs;

/* The end of `load`, `run` and `report`: loads and evaluates run_dir (as
 * rp_report_load), writes the outputs asked for, prints the terminal summary
 * to term (NULL = quiet) and sets *exit_code (SQ_EXIT_OK / FAIL / ABORTED).
 * Returns 0, or a negative errno with the message in err (-EINVAL: bad input
 * or expression, exit 2; otherwise exit 3). */
int rp_report_finish(const char *run_dir, const char *const *extra, size_t n_extra,
                     const rp_outputs *outs, FILE *term, int *exit_code, sq_err *err);

/* ---- a summary.json document ------------------------------------------------ */

/* Prints the terminal summary of a summary.json document: the headline
 * numbers, one line per objective with ✓/✗. */
void rp_summary_print(const json_t *summary, FILE *out);

/* The exit code a summary implies: 0 pass or none, 1 fail, 4 aborted. */
int rp_summary_exit_code(const json_t *summary);

/* Writes junit.xml for a summary.json document to path. */
int rp_junit_write(const json_t *summary, const char *path, sq_err *err);

/* ---- merge (merge.c) ----------------------------------------------------- */

/* Merges the shard run directories dirs[0..n) into out_dir: run.json (the
 * first shard's, with "shard" = "merged", "shards": [...]), series.jsonl
 * (intervals aligned by UTC start time, counts added, histograms merged
 * exactly), routes.json (per route, exactly), events.jsonl (all, by time).
 * Returns 0 or a negative errno with the message in err. */
int rp_merge(const char *const *dirs, size_t n, const char *out_dir, sq_err *err);

/* ---- HTML escaping (escape.c) ------------------------------------------- */

/* Appends s[0..n) to f escaped for HTML text and attribute values: & < > " '
 * become entities, control bytes (other than \n and \t) become U+FFFD, and
 * invalid UTF-8 becomes U+FFFD. */
void rp_html_escape(FILE *f, const char *s, size_t n);

#endif
