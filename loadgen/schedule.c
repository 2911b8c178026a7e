/* schedule.c — the open model's send schedule: cumulative counts of
 * piecewise-linear rates and their inverse. */
#include "schedule.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Requests intended within the first `secs` seconds of phase p. */
static double phase_count(const lg_phase *p, double secs)
{
    double dur = (double)p->duration_ns / 1e9;
    double slope = (p->rate_to - p->rate_from) / dur;
    return p->rate_from * secs + 0.5 * slope * secs * secs;
}

/* Fills the schedule and its prefix sums from the given phases. */
int lg_schedule_init(lg_schedule *s, const lg_phase *phases, size_t n, sq_err *err)
{
    memset(s, 0, sizeof *s);
    if (n == 0)
        return sq_errf(err, -EINVAL, "the schedule has no phases");
    if (n > LG_MAX_PHASES)
        return sq_errf(err, -EINVAL, "too many phases (%zu; at most %d)", n, LG_MAX_PHASES);
    for (size_t i = 0; i < n; i++) {
        const lg_phase *p = &phases[i];
        if (p->duration_ns <= 0)
            return sq_errf(err, -EINVAL, "phase %zu%s%s: duration must be positive", i + 1,
                           p->name[0] ? " " : "", p->name);
        if (!(p->rate_from >= 0) || !(p->rate_to >= 0) || isinf(p->rate_from) ||
            isinf(p->rate_to))
            return sq_errf(err, -EINVAL, "phase %zu%s%s: rate must be a finite number >= 0",
                           i + 1, p->name[0] ? " " : "", p->name);
    }
    memcpy(s->phases, phases, n * sizeof *phases);
    s->n_phases = n;
    for (size_t i = 0; i < n; i++) {
        s->start_ns[i + 1] = s->start_ns[i] + phases[i].duration_ns;
        s->start_count[i + 1] =
            s->start_count[i] + phase_count(&phases[i], (double)phases[i].duration_ns / 1e9);
    }
    return 0;
}

/* Total duration in ns. */
int64_t lg_schedule_duration(const lg_schedule *s)
{
    return s->start_ns[s->n_phases];
}

/* C(t) rounded up: the number of k with C^-1(k) < t. A tiny epsilon absorbs
 * floating-point noise so that R*D integral gives exactly R*D. */
static uint64_t count_ceil(double c)
{
    double eps = c * 1e-12 > 1e-9 ? c * 1e-12 : 1e-9;
    double r = ceil(c - eps);
    return r < 0 ? 0 : (uint64_t)r;
}

/* Requests intended before the end. */
uint64_t lg_schedule_total(const lg_schedule *s)
{
    return count_ceil(s->start_count[s->n_phases]);
}

/* Phase index containing time t (clamped to the last). */
size_t lg_schedule_phase_at(const lg_schedule *s, int64_t t_ns)
{
    size_t i = 0;
    while (i + 1 < s->n_phases && t_ns >= s->start_ns[i + 1])
        i++;
    return i;
}

/* Requests intended in [0, t): the number of k whose (integer ns) intended
 * time is before t. Estimated from C(t), then corrected against
 * lg_schedule_time so that the two always agree exactly. */
uint64_t lg_schedule_count_before(const lg_schedule *s, int64_t t_ns)
{
    if (t_ns <= 0)
        return 0;
    if (t_ns >= lg_schedule_duration(s))
        return lg_schedule_total(s);
    size_t i = lg_schedule_phase_at(s, t_ns);
    double secs = (double)(t_ns - s->start_ns[i]) / 1e9;
    uint64_t k = count_ceil(s->start_count[i] + phase_count(&s->phases[i], secs));
    int64_t tk;
    while (k > 0 && lg_schedule_time(s, k - 1, &tk) == 0 && tk >= t_ns)
        k--;
    while (lg_schedule_time(s, k, &tk) == 0 && tk < t_ns)
        k++;
    return k;
}

/* Intended rate at time t. */
double lg_schedule_rate_at(const lg_schedule *s, int64_t t_ns)
{
    if (t_ns < 0 || t_ns >= lg_schedule_duration(s))
        return 0;
    size_t i = lg_schedule_phase_at(s, t_ns);
    const lg_phase *p = &s->phases[i];
    double frac = (double)(t_ns - s->start_ns[i]) / (double)p->duration_ns;
    return p->rate_from + (p->rate_to - p->rate_from) * frac;
}

/* Solves a/2 x^2 + b x = c for the smallest x >= 0 (a may be 0), in a form
 * that is stable when a is tiny. */
static double solve_ramp(double a, double b, double c)
{
    if (c <= 0)
        return 0;
    if (fabs(a) < 1e-12)
        return b > 0 ? c / b : INFINITY;
    double disc = b * b + 2 * a * c;
    if (disc < 0)
        return INFINITY; /* a falling ramp that never reaches c */
    return 2 * c / (b + sqrt(disc));
}

/* Intended time of request k, or 1 when it falls at or after the end. */
int lg_schedule_time(const lg_schedule *s, uint64_t k, int64_t *t_ns)
{
    double target = (double)k;
    if (k >= lg_schedule_total(s))
        return 1;
    size_t i = 0;
    while (i + 1 < s->n_phases && s->start_count[i + 1] <= target)
        i++;
    /* skip empty phases (rate 0 throughout) that cannot hold request k */
    while (i + 1 < s->n_phases && s->start_count[i + 1] - s->start_count[i] <= 0)
        i++;
    const lg_phase *p = &s->phases[i];
    double dur = (double)p->duration_ns / 1e9;
    double slope = (p->rate_to - p->rate_from) / dur;
    double secs = solve_ramp(slope, p->rate_from, target - s->start_count[i]);
    if (!isfinite(secs) || secs > dur)
        secs = dur;
    int64_t t = s->start_ns[i] + (int64_t)llround(secs * 1e9);
    if (t >= lg_schedule_duration(s))
        t = lg_schedule_duration(s) - 1;
    *t_ns = t;
    return 0;
}
