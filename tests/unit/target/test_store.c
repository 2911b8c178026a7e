/* test_store.c — the demo target's item store (target/store.c): add, get,
 * delete, per-tag counts, and the bulk delete by tag behind
 * DELETE /items?tag=T, including the probe chains it leaves behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/tg_internal.h"

static void test_add_get_delete(void **state)
{
    (void)state;
    tg_store *st = tg_store_new(10);
    uint64_t a, b, created, deleted;
    char tag[16];
    int has_tag = -1;
    assert_non_null(st);
    assert_int_equal(tg_store_add(st, "t1", &a), 0);
    assert_int_equal(tg_store_add(st, NULL, &b), 0);
    assert_int_equal(tg_store_get(st, a, tag, sizeof tag, &has_tag), 0);
    assert_true(has_tag);
    assert_string_equal(tag, "t1");
    assert_int_equal(tg_store_get(st, b, tag, sizeof tag, &has_tag), 0);
    assert_false(has_tag);
    assert_int_equal(tg_store_count(st, "t1"), 1);
    assert_int_equal(tg_store_count(st, NULL), 2);
    assert_int_equal(tg_store_delete(st, a), 0);
    assert_int_equal(tg_store_delete(st, a), -ENOENT);
    assert_int_equal(tg_store_get(st, a, tag, sizeof tag, &has_tag), -ENOENT);
    assert_int_equal(tg_store_count(st, "t1"), 0);
    tg_store_totals(st, &created, &deleted);
    assert_int_equal(created, 2);
    assert_int_equal(deleted, 1);
    tg_store_free(st);
}

static void test_delete_tag(void **state)
{
    (void)state;
    enum { N = 5000 };
    tg_store *st = tg_store_new(N);
    static uint64_t ids[N];
    uint64_t n = 99;
    char tag[16];
    int has_tag;
    assert_non_null(st);
    /* interleave three tags so their items share probe chains */
    for (unsigned i = 0; i < N; i++) {
        const char *t = i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : NULL;
        assert_int_equal(tg_store_add(st, t, &ids[i]), 0);
    }
    assert_int_equal(tg_store_delete_tag(st, "nope", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(tg_store_delete_tag(st, "a", &n), 0);
    assert_int_equal(n, (N + 2) / 3);
    assert_int_equal(tg_store_count(st, "a"), 0);
    assert_int_equal(tg_store_count(st, "b"), (N + 1) / 3);
    assert_int_equal(tg_store_count(st, NULL), N - (N + 2) / 3);
    /* every other item is still found (the chains were closed correctly) */
    for (unsigned i = 0; i < N; i++) {
        int rc = tg_store_get(st, ids[i], tag, sizeof tag, &has_tag);
        if (i % 3 == 0) {
            assert_int_equal(rc, -ENOENT);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(has_tag, i % 3 == 1);
        }
    }
    assert_int_equal(tg_store_delete_tag(st, "a", &n), 0);
    assert_int_equal(n, 0);
    /* the tag can be used again after its last item went */
    uint64_t id;
    assert_int_equal(tg_store_add(st, "a", &id), 0);
    assert_int_equal(tg_store_count(st, "a"), 1);
    assert_int_equal(tg_store_delete_tag(st, "b", &n), 0);
    assert_int_equal(n, (N + 1) / 3);
    assert_int_equal(tg_store_count(st, NULL), N / 3 + 1);
    tg_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_get_delete),
        cmocka_unit_test(test_delete_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
