/* stats.c — per-interval and per-run counters and histograms. */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *error_class_names[LG_ERR_COUNT] = {
    "connect", "timeout", "reset", "tls", "dns", "other", "cancelled",
};

/* Returns the static name of an error class. */
const char *lg_error_class_name(enum lg_error_class c)
{
    return (unsigned)c < LG_ERR_COUNT ? error_class_names[c] : "other";
}

/* Allocates stats with two histograms; caller owns. */
lg_stats *lg_stats_new(int digits)
{
    lg_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->corrected = sq_hist_new(digits, SQ_HIST_DEFAULT_HIGHEST);
    s->uncorrected = sq_hist_new(digits, SQ_HIST_DEFAULT_HIGHEST);
    if (!s->corrected || !s->uncorrected) {
        lg_stats_free(s);
        return NULL;
    }
    return s;
}

/* Frees the stats and their histograms. */
void lg_stats_free(lg_stats *s)
{
    if (!s)
        return;
    sq_hist_free(s->corrected);
    sq_hist_free(s->uncorrected);
    free(s);
}

/* Zeroes counters and histograms, keeping the allocations. */
void lg_stats_reset(lg_stats *s)
{
    sq_hist *c = s->corrected, *u = s->uncorrected;
    memset(s, 0, sizeof *s);
    s->corrected = c;
    s->uncorrected = u;
    sq_hist_reset(c);
    sq_hist_reset(u);
}

/* Adds src's counters and histograms to dst. */
void lg_stats_merge(lg_stats *dst, const lg_stats *src)
{
    dst->sent += src->sent;
    dst->late += src->late;
    dst->completed += src->completed;
    for (int i = 0; i < LG_MAX_STATUS; i++)
        dst->by_status[i] += src->by_status[i];
    for (int i = 0; i < LG_ERR_COUNT; i++)
        dst->by_error[i] += src->by_error[i];
    /* same digits by construction: merge cannot fail */
    sq_hist_merge(dst->corrected, src->corrected, NULL);
    sq_hist_merge(dst->uncorrected, src->uncorrected, NULL);
}

/* Counts one response and records its latencies in µs. */
void lg_stats_record_response(lg_stats *s, long status, int64_t corrected_ns,
                              int64_t uncorrected_ns)
{
    s->completed++;
    s->by_status[(status > 0 && status < LG_MAX_STATUS) ? status : 0]++;
    sq_hist_record(s->corrected, corrected_ns / SQ_NS_PER_US);
    sq_hist_record(s->uncorrected, uncorrected_ns / SQ_NS_PER_US);
}

/* Total errors over all classes. */
uint64_t lg_stats_errors(const lg_stats *s)
{
    uint64_t n = 0;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        n += s->by_error[i];
    return n;
}

/* Sets key to a new integer; returns -ENOMEM on failure. */
static int set_uint(json_t *obj, const char *key, uint64_t v)
{
    return json_object_set_new(obj, key, json_integer((json_int_t)v)) ? -ENOMEM : 0;
}

/* Writes the counters and histograms of s into j. */
int lg_stats_to_json(const lg_stats *s, json_t *j)
{
    json_t *status = json_object(), *classes = json_object(), *errors = json_object();
    json_t *lat = json_object();
    uint64_t by_class[6] = {0};
    char key[16];
    int rc = -ENOMEM;
    if (!status || !classes || !errors || !lat)
        goto out;
    for (int code = 0; code < LG_MAX_STATUS; code++) {
        if (!s->by_status[code])
            continue;
        snprintf(key, sizeof key, "%d", code);
        if (set_uint(status, key, s->by_status[code]))
            goto out;
        by_class[code / 100 < 6 ? code / 100 : 0] += s->by_status[code];
    }
    for (int c = 1; c < 6; c++) {
        snprintf(key, sizeof key, "%dxx", c);
        if (by_class[c] && set_uint(classes, key, by_class[c]))
            goto out;
    }
    for (int e = 0; e < LG_ERR_COUNT; e++)
        if (s->by_error[e] && set_uint(errors, error_class_names[e], s->by_error[e]))
            goto out;
    if (json_object_set_new(lat, "corrected", sq_hist_to_json(s->corrected)) ||
        json_object_set_new(lat, "uncorrected", sq_hist_to_json(s->uncorrected)))
        goto out;
    if (set_uint(j, "completed", s->completed) || set_uint(j, "errors_total", lg_stats_errors(s)))
        goto out;
    json_object_set_new(j, "status", status);
    json_object_set_new(j, "classes", classes);
    json_object_set_new(j, "errors", errors);
    json_object_set_new(j, "latency_us", lat);
    return 0;
out:
    json_decref(status);
    json_decref(classes);
    json_decref(errors);
    json_decref(lat);
    return rc;
}
