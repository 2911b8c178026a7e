/* test_agg.c — interval rollover: workers' intervals are merged and written
 * in order, only once every running worker has delivered them; finished
 * workers do not hold the writer back; a worker far ahead waits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/agg.h"

typedef struct taken {
    uint64_t interval[64];
    uint64_t sent[64];
    int last[64];
    int n;
} taken;

static int take(uint64_t interval, lg_stats *s, int last, void *ctx)
{
    taken *t = ctx;
    t->interval[t->n] = interval;
    t->sent[t->n] = s->sent;
    t->last[t->n] = last;
    t->n++;
    return 0;
}

/* Delivers an interval with `sent` requests from worker id. */
static void deliver(lg_agg *a, unsigned id, uint64_t interval, uint64_t sent)
{
    lg_stats *s = lg_stats_new(2);
    s->sent = sent;
    lg_stats_record_response(s, 200, 1000000, 1000000);
    lg_agg_deliver(a, id, interval, s);
    lg_stats_free(s);
}

/* Worker id delivers its last interval (`sent` requests) and finishes. */
static void finish(lg_agg *a, unsigned id, uint64_t interval, uint64_t sent, int64_t now,
                   uint64_t unsent)
{
    lg_stats *s = lg_stats_new(2);
    s->sent = sent;
    lg_agg_finish(a, id, interval, s, now, unsent);
    lg_stats_free(s);
}

static void test_waits_for_every_worker(void **state)
{
    (void)state;
    lg_agg a;
    taken t = {0};
    assert_int_equal(lg_agg_init(&a, 2, 2, NULL), 0);
    deliver(&a, 0, 0, 10);
    deliver(&a, 0, 1, 11);
    deliver(&a, 0, 2, 12);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 0); /* worker 1 has delivered nothing */
    deliver(&a, 1, 0, 5);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.interval[0], 0);
    assert_int_equal(t.sent[0], 15); /* merged */
    assert_int_equal(t.last[0], 0);
    deliver(&a, 1, 1, 6);
    deliver(&a, 1, 2, 7);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.sent[1], 17);
    assert_int_equal(t.sent[2], 19);
    assert_false(lg_agg_all_done(&a, 2));
    lg_agg_destroy(&a);
}

static void test_finished_worker_does_not_block(void **state)
{
    (void)state;
    lg_agg a;
    taken t = {0};
    assert_int_equal(lg_agg_init(&a, 2, 2, NULL), 0);
    deliver(&a, 0, 0, 1);
    finish(&a, 0, 1, 1, 123, 4);
    for (uint64_t i = 0; i < 4; i++)
        deliver(&a, 1, i, 2);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.sent[0], 3);
    assert_int_equal(t.sent[1], 3);
    assert_int_equal(t.sent[3], 2);
    finish(&a, 1, 4, 2, 456, 0);
    assert_true(lg_agg_all_done(&a, 2));
    /* once everyone has finished, only the final drain takes the rest */
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 4);
    assert_int_equal(lg_agg_drain(&a, 1, take, &t), 0);
    assert_int_equal(t.n, 5);
    assert_int_equal(t.interval[4], 4);
    assert_int_equal(t.last[4], 1);
    assert_int_equal(a.unsent[0], 4);
    assert_int_equal(a.finished_at[1], 456);
    lg_agg_destroy(&a);
}

static void test_final_drain_marks_the_last_interval(void **state)
{
    (void)state;
    lg_agg a;
    taken t = {0};
    assert_int_equal(lg_agg_init(&a, 1, 2, NULL), 0);
    deliver(&a, 0, 0, 1);
    finish(&a, 0, 1, 1, 1, 0);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0);
    assert_int_equal(t.n, 0); /* the last interval waits for the final drain */
    assert_int_equal(lg_agg_drain(&a, 1, take, &t), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.last[0], 0);
    assert_int_equal(t.last[1], 1);
    /* nothing is taken twice */
    assert_int_equal(lg_agg_drain(&a, 1, take, &t), 0);
    assert_int_equal(t.n, 2);
    lg_agg_destroy(&a);
}

static int take_fails(uint64_t interval, lg_stats *s, int last, void *ctx)
{
    (void)s;
    (void)last;
    (void)ctx;
    return interval == 1 ? -5 : 0;
}

static void test_drain_stops_at_an_error(void **state)
{
    (void)state;
    lg_agg a;
    assert_int_equal(lg_agg_init(&a, 1, 2, NULL), 0);
    for (uint64_t i = 0; i < 3; i++)
        deliver(&a, 0, i, 1);
    assert_int_equal(lg_agg_drain(&a, 0, take_fails, NULL), -5);
    lg_agg_destroy(&a);
}

typedef struct ahead {
    lg_agg *a;
    volatile int done;
} ahead;

static void *deliver_far_ahead(void *arg)
{
    ahead *h = arg;
    for (uint64_t i = 0; i <= LG_RING; i++) /* one more than the ring holds */
        deliver(h->a, 0, i, 1);
    h->done = 1;
    return NULL;
}

static void test_worker_far_ahead_waits_for_the_writer(void **state)
{
    (void)state;
    lg_agg a;
    taken t = {0};
    assert_int_equal(lg_agg_init(&a, 2, 2, NULL), 0);
    ahead h = {.a = &a};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, deliver_far_ahead, &h), 0);
    usleep(100000);
    assert_false(h.done); /* blocked on interval LG_RING: the ring is full */
    deliver(&a, 1, 0, 1);
    assert_int_equal(lg_agg_drain(&a, 0, take, &t), 0); /* frees interval 0's slot */
    pthread_join(th, NULL);
    assert_true(h.done);
    assert_int_equal(t.n, 1);
    lg_agg_destroy(&a);
}

static void test_bad_worker_count(void **state)
{
    (void)state;
    lg_agg a;
    sq_err err;
    assert_int_equal(lg_agg_init(&a, 0, 2, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "workers"));
    lg_agg_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_for_every_worker),
        cmocka_unit_test(test_finished_worker_does_not_block),
        cmocka_unit_test(test_final_drain_marks_the_last_interval),
        cmocka_unit_test(test_drain_stops_at_an_error),
        cmocka_unit_test(test_worker_far_ahead_waits_for_the_writer),
        cmocka_unit_test(test_bad_worker_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
