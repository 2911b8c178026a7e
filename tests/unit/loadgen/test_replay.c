/* test_replay.c — the replay's request rewriting (replay_rec.c), body
 * templates, the planning pass (replay_plan.c: peaks, stable sampling,
 * compression), the ledger's created lines (ledger.c) and the peak
 * counter (tally.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/ledger.h"
#include "loadgen/replay.h"
#include "loadgen/tally.h"

static uint64_t rng[2] = {0x1234, 0x5678};

/* Builds req as clone c of K and returns the record (caller frees). */
static lg_rec *build(const lg_traffic_req *req, unsigned clones, uint32_t c,
                     const char *const *extra, size_t n_extra)
{
    lg_rec_ctx ctx = {.run_id = "run-1", .tag_header = "X-Squall-Run", .extra_headers = extra,
                      .n_extra = n_extra, .clones = clones, .rng = rng};
    lg_rec *r = NULL;
    assert_int_equal(lg_rec_build(req, &ctx, c, 42, &r), 0);
    assert_non_null(r);
    return r;
}

static void test_target_and_headers(void **state)
{
    (void)state;
    lg_traffic_header h[] = {{"Host", "prod.example"},       {"Connection", "keep-alive"},
                             {"X-Squall-Run", "old"},        {"Accept", "text/html"},
                             {"Content-Length", "99"},       {"traceparent", "00-ab-cd-01"},
                             {"Authorization", "Bearer rec"}};
    lg_traffic_req req = {.method = "GET", .url = "https://prod.example:8443/a/b?x=1#frag",
                          .headers = h, .n_headers = 7};
    const char *extra[] = {"Authorization: Bearer test"};
    lg_rec *r = build(&req, 1, 0, extra, 1);
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->target, "/a/b?x=1");
    assert_string_equal(r->headers, "Accept: text/html\r\nAuthorization: Bearer test\r\n");
    assert_string_equal(r->route_key, "GET /a/b");
    assert_false(r->has_host);
    assert_false(r->has_user_agent);
    assert_null(r->body);
    assert_int_equal(r->at_ns, 42);
    free(r);
    req.url = "http://prod.example";
    r = build(&req, 1, 0, NULL, 0);
    assert_string_equal(r->target, "/");
    free(r);
    req.url = "http://prod.example?q=1";
    r = build(&req, 1, 0, NULL, 0);
    assert_string_equal(r->target, "/?q=1");
    free(r);
    req.url = "relative/path";
    r = build(&req, 1, 0, NULL, 0);
    assert_string_equal(r->target, "/relative/path");
    free(r);
}

static void test_clone_rewrites_user_everywhere(void **state)
{
    (void)state;
    lg_traffic_header h[] = {{"X-User", "u7"},
                             {"Cookie", "sid=abc; uid=u7; theme=u77"},
                             {"Content-Type", "application/json"},
                             {"X-Other", "u7x"}};
    const char *body = "{\"user\":\"u7\",\"items\":[{\"by\":\"u7\"},\"u77\"],\"n\":7}";
    lg_traffic_req req = {.method = "POST", .url = "/orders?uid=u7&x=u7y&u=u7", .headers = h,
                          .n_headers = 4, .body = body, .body_len = strlen(body), .user = "u7"};
    lg_rec *r = build(&req, 4, 3, NULL, 0);
    assert_string_equal(r->target, "/orders?uid=u7-c3&x=u7y&u=u7-c3");
    assert_string_equal(r->headers, "X-User: u7-c3\r\nCookie: sid=abc; uid=u7-c3; theme=u77\r\n"
                                    "Content-Type: application/json\r\nX-Other: u7x\r\n");
    assert_string_equal(r->body,
                        "{\"user\":\"u7-c3\",\"items\":[{\"by\":\"u7-c3\"},\"u77\"],\"n\":7}");
    assert_int_equal(r->body_len, strlen(r->body));
    assert_int_equal(r->clone, 3);
    free(r);
    /* a long id keeps all of it, suffix included */
    char longid[1001];
    memset(longid, 'x', 1000);
    longid[1000] = '\0';
    char *hv = NULL;
    assert_true(asprintf(&hv, "%s", longid) > 0);
    lg_traffic_header lh[] = {{"X-User", hv}};
    lg_traffic_req lreq = {.method = "GET", .url = "/", .headers = lh, .n_headers = 1,
                           .user = longid};
    lg_rec *lr = build(&lreq, 2, 2, NULL, 0);
    assert_int_equal(strlen(lr->headers), strlen("X-User: \r\n") + 1000 + 3);
    assert_non_null(strstr(lr->headers, "x-c2\r\n"));
    free(lr);
    free(hv);
    /* one clone (no cloning): recorded as is */
    r = build(&req, 1, 0, NULL, 0);
    assert_string_equal(r->target, "/orders?uid=u7&x=u7y&u=u7");
    assert_string_equal(r->body, body);
    free(r);
    /* a form body */
    lg_traffic_header fh[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.headers = fh;
    req.n_headers = 1;
    req.body = "a=1&uid=u7&b=u7u";
    req.body_len = strlen(req.body);
    r = build(&req, 2, 1, NULL, 0);
    assert_string_equal(r->body, "a=1&uid=u7-c1&b=u7u");
    free(r);
}

static void test_templates(void **state)
{
    (void)state;
    char *out;
    size_t len;
    const char *t = "${tag}/${clone}/${user}/${nope}/$x/${uuid}";
    assert_int_equal(lg_template_expand(t, strlen(t), "run-1", 3, "u7-c3", rng, &out, &len), 0);
    assert_int_equal(len, strlen(out));
    assert_true(strncmp(out, "run-1/3/u7-c3/${nope}/$x/", 25) == 0);
    const char *uuid = out + 25;
    assert_int_equal(strlen(uuid), 36);
    assert_int_equal(uuid[14], '4'); /* version 4 */
    assert_true(strchr("89ab", uuid[19]) != NULL);
    char first[37];
    snprintf(first, sizeof first, "%s", uuid);
    free(out);
    assert_int_equal(lg_template_expand("${uuid}", 7, "", 0, NULL, rng, &out, &len), 0);
    assert_string_not_equal(out, first); /* fresh each time */
    free(out);
    sq_err err;
    assert_int_equal(lg_template_check("{\"a\":\"${tag}\"}", 14, &err), 0);
    assert_int_equal(lg_template_check("x ${tga}", 8, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "${tga} at column 3"));
    assert_int_equal(lg_template_check("x ${tag", 7, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "unterminated"));
    assert_true(lg_template_present("a${uuid}", 8));
    assert_false(lg_template_present("a${uuidx}", 9));
    assert_false(lg_template_present("plain", 5));
    /* templates in a recorded body are expanded with the clone's user */
    lg_traffic_req req = {.method = "POST", .url = "/", .body = "{\"u\":\"${user}\",\"t\":\"${tag}\"}",
                          .user = "u1"};
    req.body_len = strlen(req.body);
    lg_rec *r = build(&req, 2, 2, NULL, 0);
    assert_string_equal(r->body, "{\"u\":\"u1-c2\",\"t\":\"run-1\"}");
    free(r);
}

static void test_sampling_is_stable(void **state)
{
    (void)state;
    int kept = 0, again = 0, other = 0;
    char user[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(user, sizeof user, "user-%d", i);
        int k = lg_replay_keep_user(user, 0, 0.25);
        kept += k;
        again += k == lg_replay_keep_user(user, 0, 0.25);
        other += k != lg_replay_keep_user(user, 99, 0.25);
        assert_true(lg_replay_keep_user(user, 0, 1.0));
        /* nested: a bigger sample keeps everyone a smaller one kept */
        if (k)
            assert_true(lg_replay_keep_user(user, 0, 0.5));
    }
    assert_int_equal(again, 10000);
    assert_in_range(kept, 2300, 2700);
    assert_in_range(other, 2000, 5000);
}

static void test_peak(void **state)
{
    (void)state;
    lg_peak p = {0};
    /* 10 req/s for 5 s, then 5 at t = 2.5 s (clones) */
    for (int i = 0; i < 50; i++)
        assert_int_equal(lg_peak_push(&p, (int64_t)i * 100000000, i == 25 ? 6 : 1), 0);
    assert_int_equal(p.peak, 15);
    assert_true(p.peak_at <= 2500000000 && p.peak_at > 1500000000);
    lg_peak_free(&p);
}

/* Writes lines to a temporary file; returns its path (static buffer). */
static const char *temp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/squall-test-replay-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_plan(void **state)
{
    (void)state;
    /* 4 users, 10 s at 4 req/s (one per user per second), then a burst of 8 */
    char text[8192] = "";
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "{\"ts_ns\": %lld, \"method\": \"GET\", \"url\": \"/a\", \"user\": \"u%d\"}\n",
                              (long long)i * 250000000LL, i % 4);
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "{\"ts_ns\": %lld, \"method\": \"GET\", \"url\": \"/b\", \"user\": \"u%d\"}\n",
                              10000000000LL + i, i % 4);
    const char *path = temp_file(text);
    lg_replay_opts o;
    lg_replay_opts_init(&o);
    o.path = path;
    o.peak_multiple = 10;
    o.clones = 3;
    lg_replay *r = NULL;
    sq_err err;
    assert_int_equal(lg_replay_new(&o, &r, &err), 0);
    const lg_replay_plan *p = lg_replay_plan_of(r);
    assert_int_equal(p->requests, 48);
    assert_int_equal(p->users_seen, 4);
    assert_int_equal(p->users_sampled, 4);
    assert_int_equal(p->peak_full, 11);   /* [9.25 s, 10.25 s): 9.25, 9.5, 9.75 and the burst */
    assert_int_equal(p->peak_stream, 33); /* x 3 clones */
    assert_true(p->speed > 3.333 && p->speed < 3.334); /* 10 x 11 / 33 */
    assert_true(p->multiplier > 9.999 && p->multiplier < 10.001);
    assert_int_equal(p->per_pass, 144);
    assert_int_equal(p->total, 144);
    lg_replay_free(r);
    /* --speed and a sample that keeps nobody */
    o.peak_multiple = 0;
    o.speed = 2;
    o.clones = 1;
    assert_int_equal(lg_replay_new(&o, &r, &err), 0);
    assert_true(lg_replay_plan_of(r)->multiplier == 2.0);
    lg_replay_free(r);
    o.sample = 1e-9;
    assert_int_equal(lg_replay_new(&o, &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "keeps none"));
    unlink(path);
}

static void test_ledger_lines(void **state)
{
    (void)state;
    lg_ledger_spec spec;
    sq_err err;
    char value[256], body[256];
    lg_h1_capture c = {.value = value, .value_cap = sizeof value, .body = body,
                       .body_cap = sizeof body};
    lg_ledger_item item = {.entry = "1-0-1", .run_id = "r", .clone = 2, .method = "POST",
                           .url = "http://h:80/api/items?x=1", .status = 201};
    char *line;
    assert_int_equal(lg_ledger_spec_parse("location", &spec, &err), 0);
    c.header = lg_ledger_capture_header(&spec);
    lg_h1_capture_reset(&c);
    lg_h1_capture_header(&c, "location", 8, "17", 2);
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    json_t *o = json_loads(line, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "location")), "http://h:80/api/17");
    assert_string_equal(json_string_value(json_object_get(o, "id")), "17");
    assert_int_equal(json_integer_value(json_object_get(o, "clone")), 2);
    json_decref(o);
    free(line);
    lg_h1_capture_reset(&c); /* a 201 without Location: recorded, with why */
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_non_null(strstr(line, "\"id\":null"));
    assert_non_null(strstr(line, "no Location"));
    free(line);
    item.status = 200; /* a POST answered 200 with nothing to identify: a read, not recorded */
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_null(line);
    lg_h1_capture_header(&c, "Location", 8, "/files/report%202024.pdf", 24);
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0); /* 200 naming its object */
    assert_non_null(strstr(line, "\"id\":\"report 2024.pdf\"")); /* stored decoded */
    free(line);
    item.method = "PUT"; /* updates are never recorded, Location or not */
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_null(line);
    item.status = 204;
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_null(line);
    item.method = "PATCH";
    item.status = 200;
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_null(line);
    item.method = "PUT"; /* a PUT answered 201 without Location created its own URL */
    item.status = 201;
    lg_h1_capture_reset(&c);
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_non_null(strstr(line, "\"location\":\"http://h:80/api/items?x=1\""));
    assert_non_null(strstr(line, "\"id\":\"items\""));
    free(line);
    item.method = "POST";
    item.cut = 1; /* cut short after the headers: still recorded, with a note */
    lg_h1_capture_header(&c, "Location", 8, "/api/9", 6);
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_non_null(strstr(line, "cut short"));
    free(line);
    item.cut = 0;
    assert_int_equal(lg_ledger_spec_parse("json:/data/0/id", &spec, &err), 0);
    lg_h1_capture_reset(&c);
    const char *b = "{\"data\":[{\"id\":12345}]}";
    lg_h1_capture_body(&c, b, strlen(b));
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_non_null(strstr(line, "\"id\":\"12345\""));
    free(line);
    assert_int_equal(lg_ledger_spec_parse("header:X-Id", &spec, &err), 0);
    c.header = lg_ledger_capture_header(&spec);
    lg_h1_capture_reset(&c);
    lg_h1_capture_header(&c, "x-id", 4, "abc", 3);
    assert_int_equal(lg_ledger_line(&spec, &item, &c, &line), 0);
    assert_non_null(strstr(line, "\"id\":\"abc\""));
    free(line);
    assert_int_equal(lg_ledger_spec_parse("json:id", &spec, &err), -EINVAL);
    assert_int_equal(lg_ledger_spec_parse("etag", &spec, &err), -EINVAL);
    assert_int_equal(lg_ledger_spec_parse("header:", &spec, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_and_headers),
        cmocka_unit_test(test_clone_rewrites_user_everywhere),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_sampling_is_stable),
        cmocka_unit_test(test_peak),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_ledger_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
