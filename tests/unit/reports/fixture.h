/* fixture.h — synthetic run directories for the reports unit tests: a
 * run.json, series.jsonl lines with exact histograms, events.jsonl and
 * routes.json written exactly as loadgen and chaos write them. Header-only
 * (static functions) so that each test executable stays one file. */
#ifndef RP_TEST_FIXTURE_H
#define RP_TEST_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"

#define FX_T0 1795000000000000000LL /* UTC ns of the first interval */

/* One interval to write: counts, status codes, errors and latencies. */
typedef struct fx_interval {
    double t_s;
    long intended, sent, late;
    int codes[4];          /* status codes ... */
    long code_counts[4];   /* ... and how many of each */
    long errors;           /* transport errors ("timeout") */
    long lat_us[3];        /* latency values (µs) ... */
    long lat_counts[3];    /* ... and how many of each (summing to the responses) */
    const char *phase;
} fx_interval;

/* Removes one entry for nftw. */
static inline int fx_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Creates a fresh directory under /tmp; returns it in buf. */
static inline char *fx_mkdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/squall-test-reports-XXXXXX");
    return mkdtemp(buf);
}

/* Removes dir and everything in it. */
static inline void fx_rmdir(const char *dir)
{
    nftw(dir, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text as dir/name (truncating). */
static inline void fx_write(const char *dir, const char *name, const char *text, const char *mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

/* Writes run.json with the given "slos" array text (e.g. "[\"p(99) < 1s\"]"). */
static inline void fx_run_json(const char *dir, const char *slos_json)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"schema\":\"squall.run/1\",\"run_id\":\"test-run\",\"tool\":\"squall test\","
             "\"start_utc_ns\":%lld,\"target\":\"http://127.0.0.1:1/<x>\",\"load\":{\"model\":"
             "\"open\",\"interval_s\":1.0,\"multiplier\":1.0},\"shard\":\"1/1\",\"slos\":%s}\n",
             FX_T0, slos_json ? slos_json : "[]");
    fx_write(dir, "run.json", buf, "w");
}

/* A histogram JSON of the interval's latencies. New reference. */
static inline json_t *fx_hist(const long *vals, const long *counts, int n, int digits)
{
    sq_hist *h = sq_hist_new(digits, SQ_HIST_DEFAULT_HIGHEST);
    for (int i = 0; i < n; i++)
        if (counts[i] > 0)
            sq_hist_record_n(h, vals[i], (uint64_t)counts[i]);
    json_t *j = sq_hist_to_json(h);
    sq_hist_free(h);
    return j;
}

/* Appends one series.jsonl line for iv (1 s long). */
static inline void fx_interval_line(const char *dir, const fx_interval *iv)
{
    json_t *status = json_object(), *errors = json_object();
    long completed = 0;
    for (int i = 0; i < 4; i++) {
        if (!iv->codes[i])
            continue;
        char k[8];
        snprintf(k, sizeof k, "%d", iv->codes[i]);
        json_object_set_new(status, k, json_integer(iv->code_counts[i]));
        completed += iv->code_counts[i];
    }
    if (iv->errors)
        json_object_set_new(errors, "timeout", json_integer(iv->errors));
    json_t *lat = json_pack("{s:o,s:o}", "corrected", fx_hist(iv->lat_us, iv->lat_counts, 3, 3),
                            "uncorrected", fx_hist(iv->lat_us, iv->lat_counts, 3, 3));
    json_t *line = json_pack("{s:I,s:f,s:f,s:I,s:I,s:f,s:I,s:f,s:I,s:I,s:I,s:o,s:o,s:o}",
                             "interval", (json_int_t)iv->t_s, "t_s", iv->t_s, "dur_s", 1.0,
                             "start_utc_ns", (json_int_t)(FX_T0 + (long long)(iv->t_s * 1e9)),
                             "intended", (json_int_t)iv->intended, "rate_intended",
                             (double)iv->intended, "sent", (json_int_t)iv->sent, "rate_achieved",
                             (double)iv->sent, "late", (json_int_t)iv->late, "completed",
                             (json_int_t)completed, "errors_total", (json_int_t)iv->errors,
                             "status", status, "errors", errors, "latency_us", lat);
    if (iv->phase)
        json_object_set_new(line, "phase", json_string(iv->phase));
    char *text = json_dumps(line, JSON_COMPACT);
    char path[512];
    snprintf(path, sizeof path, "%s/series.jsonl", dir);
    FILE *f = fopen(path, "a");
    fprintf(f, "%s\n", text);
    fclose(f);
    free(text);
    json_decref(line);
}

/* A healthy interval: n requests, all 200 in `lat_us`. */
static inline fx_interval fx_ok(double t, long n, long lat_us)
{
    fx_interval iv = {.t_s = t, .intended = n, .sent = n};
    iv.codes[0] = 200;
    iv.code_counts[0] = n;
    iv.lat_us[0] = lat_us;
    iv.lat_counts[0] = n;
    return iv;
}

/* Appends a fault event at offset t seconds. */
static inline void fx_fault_event(const char *dir, const char *type, const char *name, const char *kind,
                           double t)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"%s\",\"utc_ns\":%lld,\"fault\":{\"name\":\"%s\",\"kind\":\"%s\"}}\n",
             type, FX_T0 + (long long)(t * 1e9), name, kind);
    fx_write(dir, "events.jsonl", buf, "a");
}

#endif
