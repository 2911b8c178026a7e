/* schedule.h — the open model's send schedule (private to loadgen/).
 *
 * A schedule is a list of phases, each with a duration and a rate that goes
 * linearly from `from` to `to` req/s over it (constant when equal). The k-th
 * request (k = 0, 1, ...) is intended at the time t where the cumulative
 * count C(t) = integral of the rate from 0 to t equals k; so request 0 is at
 * t = 0 and a constant R over D seconds sends exactly ceil(R*D) requests.
 * Pure arithmetic: no clock, no allocation after creation.
 */
#ifndef LG_SCHEDULE_H
#define LG_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct lg_phase {
    char name[48];
    int64_t duration_ns;
    double rate_from; /* req/s at the phase's start */
    double rate_to;   /* req/s at its end */
} lg_phase;

#define LG_MAX_PHASES 64

typedef struct lg_schedule {
    lg_phase phases[LG_MAX_PHASES];
    size_t n_phases;
    double start_count[LG_MAX_PHASES + 1]; /* C(t) at each phase start; [n] = total */
    int64_t start_ns[LG_MAX_PHASES + 1];   /* phase start offsets; [n] = end */
} lg_schedule;

/* Fills s from n phases (copied). Rejects no phases, too many, a
 * non-positive duration, a negative rate or a phase whose rates are both 0
 * only when every phase is empty. Returns 0 or -EINVAL with a message. */
int lg_schedule_init(lg_schedule *s, const lg_phase *phases, size_t n, sq_err *err);

/* Total duration of the schedule in ns. */
int64_t lg_schedule_duration(const lg_schedule *s);

/* Number of requests the schedule intends (those with intended time < end). */
uint64_t lg_schedule_total(const lg_schedule *s);

/* Intended time (ns from the schedule's start) of request k. Returns 0, or
 * 1 when request k falls at or after the end (nothing written). */
int lg_schedule_time(const lg_schedule *s, uint64_t k, int64_t *t_ns);

/* Number of requests intended in [0, t_ns) — C(t) rounded up. */
uint64_t lg_schedule_count_before(const lg_schedule *s, int64_t t_ns);

/* Index of the phase that contains time t_ns (the last one past the end). */
size_t lg_schedule_phase_at(const lg_schedule *s, int64_t t_ns);

/* Rate (req/s) intended at time t_ns. */
double lg_schedule_rate_at(const lg_schedule *s, int64_t t_ns);

#endif
