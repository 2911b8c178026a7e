/* test_schedule.c — the open model's schedule: constant, ramp, phases,
 * counts, inverse times and the catch-up property (times never move). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "loadgen/schedule.h"

#define S SQ_NS_PER_S
#define MS SQ_NS_PER_MS

static lg_phase phase(const char *name, int64_t dur, double from, double to)
{
    lg_phase p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.duration_ns = dur;
    p.rate_from = from;
    p.rate_to = to;
    return p;
}

/* Constant 1000 req/s for 5 s: exactly 5000 requests, 1 ms apart, first at 0. */
static void test_constant(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p = phase("", 5 * S, 1000, 1000);
    assert_int_equal(lg_schedule_init(&s, &p, 1, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 5000);
    assert_int_equal(lg_schedule_duration(&s), 5 * S);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 0, &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(lg_schedule_time(&s, 1, &t), 0);
    assert_int_equal(t, 1 * MS);
    assert_int_equal(lg_schedule_time(&s, 4999, &t), 0);
    assert_int_equal(t, 4999 * MS);
    assert_int_equal(lg_schedule_time(&s, 5000, &t), 1);
    assert_int_equal(lg_schedule_count_before(&s, 1 * S), 1000);
    assert_int_equal(lg_schedule_count_before(&s, 1 * S + 1), 1001);
    assert_int_equal(lg_schedule_count_before(&s, 0), 0);
    assert_int_equal(lg_schedule_count_before(&s, 1), 1);
}

/* Sub-millisecond spacing is kept exactly: 3000 req/s is 333.333 µs apart. */
static void test_sub_millisecond(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p = phase("", 1 * S, 3000, 3000);
    assert_int_equal(lg_schedule_init(&s, &p, 1, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 3000);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 1, &t), 0);
    assert_int_equal(t, 333333);
    assert_int_equal(lg_schedule_time(&s, 2, &t), 0);
    assert_int_equal(t, 666667);
    assert_int_equal(lg_schedule_time(&s, 3, &t), 0);
    assert_int_equal(t, 1 * MS);
}

/* A ramp 0 -> 1000 over 10 s sends 5000 and its rate rises linearly. */
static void test_ramp(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p = phase("ramp", 10 * S, 0, 1000);
    assert_int_equal(lg_schedule_init(&s, &p, 1, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 5000);
    /* C(t) = 50 t^2: half the requests by t = sqrt(50) s */
    assert_int_equal(lg_schedule_count_before(&s, 5 * S), 1250);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 1250, &t), 0);
    assert_true(llabs(t - 5 * S) <= 1);
    assert_int_equal(lg_schedule_time(&s, 2500, &t), 0);
    assert_true(fabs((double)t / 1e9 - sqrt(50.0)) < 1e-6);
    assert_true(fabs(lg_schedule_rate_at(&s, 5 * S) - 500) < 1e-6);
    /* strictly increasing times */
    int64_t prev = -1;
    for (uint64_t k = 0; k < 5000; k++) {
        assert_int_equal(lg_schedule_time(&s, k, &t), 0);
        assert_true(t > prev || k == 0);
        assert_true(t < 10 * S);
        prev = t;
    }
}

/* A falling ramp 2000 -> 0 over 2 s: 2000 requests, denser at the start. */
static void test_falling_ramp(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p = phase("", 2 * S, 2000, 0);
    assert_int_equal(lg_schedule_init(&s, &p, 1, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 2000);
    assert_int_equal(lg_schedule_count_before(&s, 1 * S), 1500);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 1999, &t), 0);
    assert_true(t < 2 * S);
}

/* Phases run back to back; counts add up; the inverse lands in the right phase. */
static void test_phases(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p[3] = {phase("baseline", 20 * S, 200, 200), phase("ramp", 10 * S, 200, 2000),
                     phase("peak", 60 * S, 2000, 2000)};
    assert_int_equal(lg_schedule_init(&s, p, 3, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 4000 + 11000 + 120000);
    assert_int_equal(lg_schedule_duration(&s), 90 * S);
    assert_int_equal(lg_schedule_phase_at(&s, 19 * S), 0);
    assert_int_equal(lg_schedule_phase_at(&s, 20 * S), 1);
    assert_int_equal(lg_schedule_phase_at(&s, 89 * S), 2);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 4000, &t), 0);
    assert_int_equal(t, 20 * S);
    assert_int_equal(lg_schedule_time(&s, 15000, &t), 0);
    assert_int_equal(t, 30 * S);
    assert_int_equal(lg_schedule_count_before(&s, 30 * S), 15000);
    /* every k maps back: count_before(t_k) == k and count_before(t_k + 1) == k + 1 */
    for (uint64_t k = 0; k < lg_schedule_total(&s); k += 997) {
        assert_int_equal(lg_schedule_time(&s, k, &t), 0);
        assert_int_equal(lg_schedule_count_before(&s, t), k);
        assert_int_equal(lg_schedule_count_before(&s, t + 1), k + 1);
    }
}

/* A phase with no load in the middle: times skip over it. */
static void test_idle_phase(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p[3] = {phase("a", 1 * S, 10, 10), phase("pause", 5 * S, 0, 0),
                     phase("b", 1 * S, 10, 10)};
    assert_int_equal(lg_schedule_init(&s, p, 3, NULL), 0);
    assert_int_equal(lg_schedule_total(&s), 20);
    int64_t t;
    assert_int_equal(lg_schedule_time(&s, 10, &t), 0);
    assert_int_equal(t, 6 * S);
}

/* Catch-up: intended times are a pure function of k, so a sender that fell
 * behind finds every missed request still due at its original time. */
static void test_catch_up_times_do_not_move(void **state)
{
    (void)state;
    lg_schedule s;
    lg_phase p = phase("", 1 * S, 100, 100);
    assert_int_equal(lg_schedule_init(&s, &p, 1, NULL), 0);
    /* a sender stalled until 500 ms has 50 requests due, at their own times */
    uint64_t due = lg_schedule_count_before(&s, 500 * MS + 1);
    assert_int_equal(due, 51);
    for (uint64_t k = 0; k < due; k++) {
        int64_t t;
        assert_int_equal(lg_schedule_time(&s, k, &t), 0);
        assert_int_equal(t, (int64_t)k * 10 * MS);
    }
}

/* Bad schedules are rejected with a message. */
static void test_invalid(void **state)
{
    (void)state;
    lg_schedule s;
    sq_err err;
    lg_phase p = phase("x", 0, 10, 10);
    assert_int_equal(lg_schedule_init(&s, &p, 1, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "duration"));
    p = phase("x", S, -1, 10);
    assert_int_equal(lg_schedule_init(&s, &p, 1, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "rate"));
    p = phase("x", S, NAN, 10);
    assert_int_equal(lg_schedule_init(&s, &p, 1, &err), -EINVAL);
    p = phase("x", S, INFINITY, 10);
    assert_int_equal(lg_schedule_init(&s, &p, 1, &err), -EINVAL);
    assert_int_equal(lg_schedule_init(&s, &p, 0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no phases"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_sub_millisecond),
        cmocka_unit_test(test_ramp),
        cmocka_unit_test(test_falling_ramp),
        cmocka_unit_test(test_phases),
        cmocka_unit_test(test_idle_phase),
        cmocka_unit_test(test_catch_up_times_do_not_move),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
