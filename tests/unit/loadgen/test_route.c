/* test_route.c — route keys (method + normalised path) and route tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "loadgen/route.h"

static void expect_key(const char *method, const char *url, const char *want)
{
    char buf[LG_ROUTE_KEY_MAX];
    lg_route_key(method, url, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        fail_msg("route of %s %s: got '%s', want '%s'", method, url, buf, want);
}

static void test_route_keys(void **state)
{
    (void)state;
    expect_key("GET", "http://h:8080/api/items", "GET /api/items");
    expect_key("GET", "http://h:8080", "GET /");
    expect_key("GET", "https://h/", "GET /");
    expect_key("GET", "http://h/api/items?page=2&uid=7", "GET /api/items");
    expect_key("DELETE", "http://h/items/12345", "DELETE /items/:id");
    expect_key("GET", "http://h/users/550e8400-e29b-41d4-a716-446655440000/orders",
               "GET /users/:id/orders");
    expect_key("GET", "http://h/blobs/deadbeef01", "GET /blobs/:id");
    expect_key("GET", "http://h/blobs/deadbeef", "GET /blobs/deadbeef"); /* no digit: a word */
    expect_key("GET", "http://h/v2/items", "GET /v2/items");
    expect_key("GET", "http://h/a/b#frag", "GET /a/b");
    expect_key("POST", "/relative/42", "POST /relative/:id");
}

static void test_route_key_truncates_safely(void **state)
{
    (void)state;
    char url[1024] = "http://h/";
    memset(url + 9, 'a', 900);
    url[909] = '\0';
    char buf[32];
    lg_route_key("GET", url, buf, sizeof buf);
    assert_int_equal(strlen(buf), sizeof buf - 1);
    assert_memory_equal(buf, "GET /aaaa", 9);
}

static void test_routes_intern_and_merge(void **state)
{
    (void)state;
    lg_routes a, b;
    lg_routes_init(&a);
    lg_routes_init(&b);
    int ga = lg_routes_intern(&a, "GET /x");
    int pa = lg_routes_intern(&a, "POST /x");
    assert_int_equal(ga, 0);
    assert_int_equal(pa, 1);
    assert_int_equal(lg_routes_intern(&a, "GET /x"), 0);
    lg_stats_record_response(a.items[ga].stats, 200, 1000000, 500000);
    int pb = lg_routes_intern(&b, "POST /x");
    lg_stats_record_response(b.items[pb].stats, 201, 2000000, 1000000);
    b.items[pb].stats->by_error[LG_ERR_TIMEOUT] = 3;
    assert_int_equal(lg_routes_merge(&a, &b), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.items[pa].stats->by_status[201], 1);
    assert_int_equal(a.items[pa].stats->by_error[LG_ERR_TIMEOUT], 3);
    json_t *doc = lg_routes_to_json(&a);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "squall.routes/1");
    json_t *r1 = json_array_get(json_object_get(doc, "routes"), 1);
    assert_string_equal(json_string_value(json_object_get(r1, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(r1, "path")), "/x");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r1, "errors"), "timeout")), 3);
    json_decref(doc);
    lg_routes_free(&a);
    lg_routes_free(&b);
}

static void test_routes_overflow_into_other(void **state)
{
    (void)state;
    lg_routes t;
    lg_routes_init(&t);
    char key[32];
    for (int i = 0; i < LG_MAX_ROUTES; i++) {
        snprintf(key, sizeof key, "GET /r%d", i);
        assert_int_equal(lg_routes_intern(&t, key), i);
    }
    int other = lg_routes_intern(&t, "GET /one-too-many");
    assert_int_equal(other, LG_MAX_ROUTES);
    assert_string_equal(t.items[other].key, "OTHER");
    assert_int_equal(lg_routes_intern(&t, "GET /another"), other);
    lg_routes_free(&t);
}

static void test_stats_merge_and_json(void **state)
{
    (void)state;
    lg_stats *a = lg_stats_new(3), *b = lg_stats_new(3);
    a->sent = 2;
    lg_stats_record_response(a, 200, 1500000, 1000000);
    lg_stats_record_response(a, 503, 3000000, 3000000);
    b->sent = 1;
    b->late = 1;
    b->by_error[LG_ERR_CONNECT] = 1;
    lg_stats_merge(a, b);
    assert_int_equal(a->sent, 3);
    assert_int_equal(a->late, 1);
    assert_int_equal(a->completed, 2);
    assert_int_equal(lg_stats_errors(a), 1);
    assert_int_equal(sq_hist_max(a->corrected), 3000);
    json_t *j = json_object();
    assert_int_equal(lg_stats_to_json(a, j), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "status"), "503")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "classes"), "2xx")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "errors"), "connect")), 1);
    assert_non_null(json_object_get(json_object_get(j, "latency_us"), "uncorrected"));
    json_decref(j);
    lg_stats_reset(a);
    assert_int_equal(a->sent, 0);
    assert_int_equal(sq_hist_count(a->corrected), 0);
    lg_stats_free(a);
    lg_stats_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_keys),
        cmocka_unit_test(test_route_key_truncates_safely),
        cmocka_unit_test(test_routes_intern_and_merge),
        cmocka_unit_test(test_routes_overflow_into_other),
        cmocka_unit_test(test_stats_merge_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
