/* report_int.h — the loaded report, shared by the files of reports/ (not a
 * public header: other components use reports/reports.h).
 *
 * rp_report_load (load.c) reads the run directory once into these structs;
 * slo_eval.c and correlate.c fill in the results; summary.c, text.c,
 * junit.c and html.c only read them.
 */
#ifndef RP_REPORT_INT_H
#define RP_REPORT_INT_H

#include "reports/reports.h"

#define RP_NAME_MAX 128
#define RP_MAX_CODES 64      /* distinct status codes / error classes kept */
#define RP_RECOVER_RUN 3     /* consecutive healthy intervals = recovered */
#define RP_HEALTH_BURN 2.0   /* an interval burning a ratio budget this fast is unhealthy */
#define RP_MAX_UTC_NS (INT64_C(1) << 62) /* timestamps accepted: 0 .. year 2116 */
#define RP_MAX_T_S 1e9                   /* interval offsets accepted: 0 .. 31 years */
#define RP_MAX_DUR_S 86400.0             /* the longest interval accepted: a day */
#define RP_MIN_INTERVAL_S 0.001          /* the shortest interval used for windows */

/* One series.jsonl interval, reduced to numbers (histograms are not kept
 * per interval: a 1-hour run would need a gigabyte). Latencies in ms. */
typedef struct rp_point {
    double t_s, dur_s;
    int64_t utc_ns;     /* interval start */
    double intended, sent, late, completed, unsent;
    double errors;      /* transport errors, without "cancelled" */
    double cancelled;   /* still in flight when the run stopped */
    double s5xx, s4xx;  /* responses by class */
    double p50, p90, p99, p999, max, mean; /* corrected, ms */
    double u99;         /* uncorrected p99, ms */
    int phase;          /* index into rp_report.phases, -1 = none */
} rp_point;

/* A status code or error class seen during the run. */
typedef struct rp_seen {
    char key[32];
    uint64_t count;
    double first_s, last_s; /* offsets of the first/last interval holding it */
    char sample[256];       /* error classes: the first message ("error_sample" event) */
} rp_seen;

/* Statistics of a time window (baseline, during, recovery). */
typedef struct rp_window {
    double start_s, end_s; /* offsets from the run's first interval */
    size_t intervals;
    double valid, bad, completed, seconds;
    sq_hist *hist;         /* corrected latency, merged; NULL until used */
} rp_window;

/* A fault from events.jsonl. */
typedef struct rp_fault {
    char name[RP_NAME_MAX], kind[64];
    int64_t applied_ns, reverted_ns; /* reverted 0: no revert event */
    double applied_s, reverted_s;    /* offsets from the first interval */
    rp_window base, during, recov;
    int impact;                      /* an unhealthy interval was seen */
    double tti_s, ttr_s;             /* valid when impact / recovered */
    int recovered;
} rp_fault;

/* An instant event: a marker on the timeline. */
typedef struct rp_event {
    int64_t utc_ns;
    double t_s;
    char type[32];
    char label[RP_NAME_MAX];
    int ok; /* probe results: 1 passed, 0 failed; -1 otherwise */
} rp_event;

typedef enum rp_status {
    RP_ST_OK,
    RP_ST_FAIL,
    RP_ST_INSUFFICIENT, /* too few samples for what was asked */
    RP_ST_NO_DATA,      /* the scope names a fault/phase/route not in the run */
} rp_status;

/* One objective and its evaluation. The per-interval arrays have
 * rp_report.n entries. */
typedef struct rp_obj {
    rp_slo slo;
    double *good, *valid, *value; /* per interval: good/valid events, value */
    unsigned char *in_scope;      /* per interval */
    sq_hist *scope_hist;          /* percentile/max/mean: merged over scope */
    /* results */
    rp_status status;
    double observed, target, margin;
    int have_observed;
    int at_least;                 /* observed is a lower bound (not recovered) */
    const char *unit;             /* "ms", "ratio", "req/s", "s" */
    double samples;
    int have_budget;
    double budget_consumed, peak_burn;
    double peak_burn_at_s;
    double burn_window_s;
    int alert_fast, alert_slow;   /* -1 run too short, 0 no, 1 fired */
    char note[256];               /* why: insufficient data, no such fault */
} rp_obj;

struct rp_report {
    char dir[4096];
    json_t *run;         /* run.json */
    json_t *routes;      /* routes.json, or NULL */
    const char *run_id;  /* owned by run */
    const char *target;  /* owned by run, may be NULL */
    int64_t start_utc_ns;
    double interval_s;
    int shards;

    rp_point *pts;
    size_t n, cap;
    double end_s;        /* largest t_s + dur_s */
    double load_end_s;   /* end of the last interval that intended or sent */

    sq_hist *corrected, *uncorrected;
    int digits;
    double tot_intended, tot_sent, tot_late, tot_completed, tot_errors, tot_cancelled,
        tot_unsent, tot_5xx;
    int have_unsent;
    rp_seen codes[RP_MAX_CODES], classes[RP_MAX_CODES];
    size_t n_codes, n_classes;

    char phases[16][RP_NAME_MAX];
    size_t n_phases;

    rp_fault *faults;
    size_t n_faults;
    rp_event *events;
    size_t n_events;
    rp_seen samples[RP_MAX_CODES]; /* "error_sample" events: key = class, sample = message */
    size_t n_samples;
    int aborted;
    char abort_reason[256];

    rp_obj *objs;
    size_t n_objs;
    const char *verdict; /* "pass", "fail", "none", "aborted" */
};

/* load.c: the events of run_dir into r (faults, instant events, abort). */
int rp_load_events(rp_report *r, sq_err *err);

/* slo_eval.c: per-interval contribution of one series line to each
 * objective (called while streaming), then the final evaluation. */
int rp_eval_interval(rp_report *r, size_t i, const json_t *line, const sq_hist *corrected,
                     sq_err *err);
int rp_eval_finish(rp_report *r, sq_err *err);

/* correlate.c: window membership while streaming, then impact/recovery. */
int rp_correlate_interval(rp_report *r, size_t i, const sq_hist *corrected, sq_err *err);
void rp_correlate_finish(rp_report *r);

/* A status code from a "status" map key: 0..999, or 0 when the key is not
 * a plain number in that range. */
int rp_status_code(const char *key);

/* Whether a point lies in [from_ns, to_ns) (by its midpoint). */
int rp_point_within(const rp_point *p, int64_t from_ns, int64_t to_ns);

/* The scope window of a fault-scoped objective: [from, to). Returns 0, or
 * -ENOENT when the fault is not in events.jsonl. */
int rp_fault_window(const rp_report *r, const rp_slo *slo, int64_t *from, int64_t *to);

/* Copies the error_sample messages into the classes table (load.c). */
void rp_attach_samples(rp_report *r);

/* Percentile block {"p50","p90","p99","p999","max","mean"} in ms (nulls
 * when h is NULL or empty). New reference. */
json_t *rp_latency_json(const sq_hist *h);

/* Formats an objective's observed or target value with its unit ("312ms",
 * "99.93%", "482 req/s", "12.0s") into buf. Returns buf. */
char *rp_format_value(const rp_obj *o, double v, char *buf, size_t len);

/* The status text of an objective ("ok", "fail", "insufficient data",
 * "no data"). */
const char *rp_status_text(rp_status st);

/* Writes text to path atomically (path.tmp, fsync, rename). */
int rp_write_file(const char *path, const char *data, size_t len, sq_err *err);

#endif
