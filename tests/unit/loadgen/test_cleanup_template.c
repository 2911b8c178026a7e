/* test_cleanup_template.c — cleanup request templates (parse errors with
 * their column, expansion with percent-encoding and base URLs), the URL base
 * of run.json's target, the host check (origins compared with default ports,
 * case, IPv6 literals, userinfo; --allow-host values), and the status /
 * retry rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "loadgen/cleanup_int.h"

/* Parses spec and expects an error whose message is want. */
static void expect_parse_error(const char *spec, const char *want)
{
    lg_tpl tpl;
    sq_err err = {{0}};
    int rc = lg_tpl_parse(spec, &tpl, &err);
    if (rc != -EINVAL)
        fail_msg("'%s': got %d, want -EINVAL", spec, rc);
    if (strcmp(err.msg, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", spec, err.msg, want);
}

static void test_parse_ok(void **state)
{
    (void)state;
    lg_tpl tpl;
    sq_err err = {{0}};
    assert_int_equal(lg_tpl_parse("DELETE {location}", &tpl, &err), 0);
    assert_string_equal(tpl.method, "DELETE");
    assert_string_equal(tpl.url, "{location}");
    assert_int_equal(tpl.uses, LG_TPL_LOCATION);
    assert_false(tpl.relative);
    lg_tpl_free(&tpl);

    assert_int_equal(lg_tpl_parse("  POST   /admin/purge/{id}?tag={tag}  ", &tpl, &err), 0);
    assert_string_equal(tpl.method, "POST");
    assert_string_equal(tpl.url, "/admin/purge/{id}?tag={tag}");
    assert_int_equal(tpl.uses, LG_TPL_ID | LG_TPL_TAG);
    assert_true(tpl.relative);
    lg_tpl_free(&tpl);

    assert_int_equal(lg_tpl_parse("DELETE HTTPS://h:8443/x/{id}", &tpl, &err), 0);
    assert_int_equal(tpl.uses, LG_TPL_ID);
    lg_tpl_free(&tpl);
    lg_tpl_free(&tpl); /* twice is fine */

    assert_int_equal(lg_cleanup_check_template("DELETE /t?tag={tag}", 1, &err), 0);
    assert_int_equal(lg_cleanup_check_template("DELETE {location}", 0, &err), 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("DELETE /items/{uid}",
                       "column 15: unknown placeholder {uid} (expected {location}, {id} or {tag})");
    expect_parse_error("DELETE /items/{id",
                       "column 15: '{' without a closing '}' (placeholders are {location}, "
                       "{id} and {tag})");
    expect_parse_error("DELETE /a/{i{d}",
                       "column 11: '{' without a closing '}' (placeholders are {location}, "
                       "{id} and {tag})");
    expect_parse_error("DELETE /a/{}", "column 11: unknown placeholder {} (expected {location}, "
                                       "{id} or {tag})");
    expect_parse_error("delete {location}", "column 1: the method must be upper case (e.g. DELETE)");
    expect_parse_error("{location}", "column 1: the method is missing (expected 'METHOD URL', "
                                     "e.g. 'DELETE {location}')");
    expect_parse_error("/items/{id}", "column 1: the method is missing (expected 'METHOD URL', "
                                      "e.g. 'DELETE {location}')");
    expect_parse_error("DELETE", "column 7: the URL is missing (expected 'METHOD URL', e.g. "
                                 "'DELETE {location}')");
    expect_parse_error("", "column 1: expected 'METHOD URL', e.g. 'DELETE {location}'");
    expect_parse_error("DEL;ETE /x", "column 4: ';' cannot be part of an HTTP method");
    expect_parse_error("DELETE items/{id}", "column 8: the URL must start with '/', http://, "
                                            "https:// or {location}");
    expect_parse_error("DELETE {id}", "column 8: the URL must start with '/', http://, https:// "
                                      "or {location}");
    expect_parse_error("DELETE ftp://h/x", "column 8: the URL must start with '/', http://, "
                                           "https:// or {location}");
    expect_parse_error("DELETE /a b", "column 10: a space in the URL; percent-encode it");
    expect_parse_error("DELETE /a\tb", "column 10: a control character in the URL; "
                                       "percent-encode it");
    expect_parse_error("AVERYLONGMETHODNAMEMUCHTOOLONGFORHTTP /x",
                       "column 1: the method is longer than 31 characters");

    sq_err err = {{0}};
    assert_int_equal(lg_cleanup_check_template("DELETE /t/{id}?tag={tag}", 1, &err), -EINVAL);
    assert_string_equal(err.msg, "column 11: a bulk request can only use {tag} (one request for "
                                 "the whole run); use --request for {id}");
    assert_int_equal(lg_cleanup_check_template("DELETE {location}?x={id}", 1, &err), -EINVAL);
    assert_string_equal(err.msg, "column 8: a bulk request can only use {tag} (one request for "
                                 "the whole run); use --request for {location}");
    assert_int_equal(lg_cleanup_check_template("DELETE /{nope}", 0, &err), -EINVAL);
}

/* Expands spec with v and expects want (or, want NULL, the error code rc
 * with a message containing msg). */
static void expect_expand(const char *spec, const lg_tpl_vars *v, const char *want, int rc,
                          const char *msg)
{
    lg_tpl tpl;
    sq_err err = {{0}};
    char *url = NULL;
    assert_int_equal(lg_tpl_parse(spec, &tpl, &err), 0);
    int got = lg_tpl_expand(&tpl, v, &url, &err);
    lg_tpl_free(&tpl);
    if (want) {
        if (got != 0)
            fail_msg("'%s': error %d: %s", spec, got, err.msg);
        assert_string_equal(url, want);
    } else {
        if (got != rc)
            fail_msg("'%s': got %d, want %d", spec, got, rc);
        assert_null(url);
        if (!strstr(err.msg, msg))
            fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, msg);
    }
    free(url);
}

static void test_expand(void **state)
{
    (void)state;
    lg_tpl_vars v = {.location = "http://127.0.0.1:8080/items/17", .id = "a b/c?d&e=%",
                     .tag = "run-1.x_y~z", .base = "http://127.0.0.1:8080"};
    expect_expand("DELETE {location}", &v, "http://127.0.0.1:8080/items/17", 0, NULL);
    expect_expand("DELETE {location}?hard=1", &v, "http://127.0.0.1:8080/items/17?hard=1", 0,
                  NULL);
    expect_expand("DELETE /things/{id}", &v, "http://127.0.0.1:8080/things/a%20b%2Fc%3Fd%26e%3D%25",
                  0, NULL);
    expect_expand("DELETE /admin?tag={tag}", &v, "http://127.0.0.1:8080/admin?tag=run-1.x_y~z",
                  0, NULL);
    expect_expand("DELETE https://other:8443/{id}/{tag}", &v,
                  "https://other:8443/a%20b%2Fc%3Fd%26e%3D%25/run-1.x_y~z", 0, NULL);
    lg_tpl_vars utf8 = {.id = "\xc3\xa9", .base = "http://h"};
    expect_expand("DELETE /x/{id}", &utf8, "http://h/x/%C3%A9", 0, NULL);

    /* a relative location is resolved against the base too */
    lg_tpl_vars rel = {.location = "/items/9", .base = "http://h:1"};
    expect_expand("DELETE {location}", &rel, "http://h:1/items/9", 0, NULL);

    /* what cannot be built */
    lg_tpl_vars none = {.base = "http://h"};
    expect_expand("DELETE {location}", &none, NULL, -ENOENT, "no location recorded");
    expect_expand("DELETE /x/{id}", &none, NULL, -ENOENT, "no id recorded for this entry");
    expect_expand("DELETE /x?t={tag}", &none, NULL, -ENOENT, "no run tag");
    lg_tpl_vars empty_id = {.id = "", .base = "http://h"};
    expect_expand("DELETE /x/{id}", &empty_id, NULL, -ENOENT, "no id recorded");
    lg_tpl_vars nobase = {.id = "1", .location = "/items/1"};
    expect_expand("DELETE /x/{id}", &nobase, NULL, -ENOENT, "has no target");
    expect_expand("DELETE {location}", &nobase, NULL, -ENOENT, "is relative");
    lg_tpl_vars odd = {.location = "items/1"};
    expect_expand("DELETE {location}", &odd, NULL, -EINVAL, "'items/1' is not an http:// or "
                                                             "https:// URL");
    lg_tpl_vars spaced = {.location = "http://h/a b"};
    expect_expand("DELETE {location}", &spaced, NULL, -EINVAL, "contains a space");
    lg_tpl_vars bare = {.location = "http://"};
    expect_expand("DELETE {location}", &bare, NULL, -EINVAL, "is not an http");
}

static void test_url_base(void **state)
{
    (void)state;
    char buf[64];
    sq_err err = {{0}};
    assert_int_equal(lg_url_base("http://127.0.0.1:18091/api/items?x=1", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "http://127.0.0.1:18091");
    assert_int_equal(lg_url_base("HTTPS://Example.com", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "https://Example.com");
    assert_int_equal(lg_url_base("http://[::1]:8080#f", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "http://[::1]:8080");
    assert_int_equal(lg_url_base("ftp://h/x", buf, sizeof buf, &err), -EINVAL);
    assert_string_equal(err.msg, "'ftp://h/x' is not an http:// or https:// URL");
    assert_int_equal(lg_url_base("http:///x", buf, sizeof buf, &err), -EINVAL);
    assert_string_equal(err.msg, "'http:///x' has no host");
    assert_int_equal(lg_url_base("http://a-very-long-host-name-indeed.example.com:8080/",
                                 buf, 16, &err), -EINVAL);
    assert_int_equal(lg_url_base(NULL, buf, sizeof buf, &err), -EINVAL);
}

/* Expects url's origin to be scheme, host, port. */
static void expect_origin(const char *url, const char *scheme, const char *host, unsigned port)
{
    lg_origin o;
    sq_err err = {{0}};
    if (lg_origin_parse(url, &o, &err) != 0)
        fail_msg("'%s': %s", url, err.msg);
    if (strcmp(o.scheme, scheme) != 0 || strcmp(o.host, host) != 0 || o.port != port)
        fail_msg("'%s': got %s %s %u, want %s %s %u", url, o.scheme, o.host, o.port, scheme, host,
                 port);
}

/* True when urls a and b have the same origin. */
static int same(const char *a, const char *b)
{
    lg_origin oa, ob;
    sq_err err = {{0}};
    if (lg_origin_parse(a, &oa, &err) != 0 || lg_origin_parse(b, &ob, &err) != 0)
        fail_msg("'%s' or '%s': %s", a, b, err.msg);
    return lg_origin_same(&oa, &ob);
}

static void test_origin(void **state)
{
    (void)state;
    expect_origin("http://127.0.0.1:8080/items/1", "http", "127.0.0.1", 8080);
    expect_origin("HTTP://Example.COM/x", "http", "example.com", 80);
    expect_origin("https://example.com?x", "https", "example.com", 443);
    expect_origin("https://example.com:8443#f", "https", "example.com", 8443);
    expect_origin("http://user:pw@h:81/", "http", "h", 81);
    expect_origin("http://h:8080@evil/x", "http", "evil", 80); /* userinfo, not a port */
    expect_origin("http://[::1]:8080/x", "http", "[::1]", 8080);
    expect_origin("http://[0:0:0:0:0:0:0:1]/", "http", "[::1]", 80);
    expect_origin("https://[FE80::A%25eth0]/", "https", "[fe80::a%25eth0]", 443);
    expect_origin("http://[::ffff:127.0.0.1]/", "http", "[::ffff:127.0.0.1]", 80);
    expect_origin("http://h:080/", "http", "h", 80);

    /* default ports made explicit, scheme and host in lower case */
    assert_true(same("http://h/a", "http://h:80/b"));
    assert_true(same("https://h", "HTTPS://H:443/"));
    assert_true(same("http://[::1]/", "http://[::1]:80/x"));
    assert_true(same("https://[::1]:443/", "https://[0::1]/"));
    assert_true(same("http://u@h:1/", "http://h:1/"));
    assert_false(same("http://h/", "https://h/"));
    assert_false(same("http://h:443/", "https://h:443/")); /* the scheme differs */
    assert_false(same("http://h:80/", "http://h:8080/"));
    assert_false(same("https://h/", "https://h:80/"));
    assert_false(same("http://h/", "http://h.example/"));
    assert_false(same("http://127.0.0.1:8080/", "http://[::1]:8080/"));
    assert_false(same("http://localhost/", "http://127.0.0.1/"));
    assert_false(same("http://[::1]/", "http://[::2]/"));
    assert_false(same("http://[fe80::1%25eth0]/", "http://[fe80::1%25eth1]/"));
    assert_false(same("http://h:1@evil/", "http://h:1/"));

    lg_origin o;
    sq_err err = {{0}};
    assert_int_equal(lg_origin_parse("ftp://h/x", &o, &err), -EINVAL);
    assert_int_equal(lg_origin_parse("http://[zz]/", &o, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "is not a URL libcurl accepts"));
    assert_int_equal(lg_origin_parse("http://h:65536/", &o, &err), -EINVAL);
    assert_int_equal(lg_origin_parse("http://h:0/", &o, &err), -EINVAL);
    assert_string_equal(err.msg, "'http://h:0/': port 0");
    assert_int_equal(lg_origin_parse(NULL, &o, &err), -EINVAL);

    char hp[64];
    assert_int_equal(lg_origin_parse("https://[::1]/", &o, &err), 0);
    lg_origin_hostport(&o, hp, sizeof hp);
    assert_string_equal(hp, "[::1]:443");
    assert_int_equal(lg_origin_parse("http://Other.Example/", &o, &err), 0);
    lg_origin_hostport(&o, hp, sizeof hp);
    assert_string_equal(hp, "other.example:80");
}

/* True when --allow-host spec allows url. */
static int allows(const char *spec, const char *url)
{
    lg_allow_host a;
    lg_origin o;
    sq_err err = {{0}};
    if (lg_allow_host_parse(spec, &a, &err) != 0 || lg_origin_parse(url, &o, &err) != 0)
        fail_msg("'%s' or '%s': %s", spec, url, err.msg);
    return lg_allow_host_match(&a, &o);
}

/* Expects --allow-host spec to be refused. */
static void expect_bad_allow(const char *spec)
{
    lg_allow_host a;
    sq_err err = {{0}};
    if (lg_allow_host_parse(spec, &a, &err) != -EINVAL)
        fail_msg("'%s' was accepted", spec);
    if (!strstr(err.msg, "expected HOST or HOST:PORT"))
        fail_msg("'%s': %s", spec, err.msg);
}

static void test_allow_host(void **state)
{
    (void)state;
    assert_true(allows("127.0.0.1:8081", "http://127.0.0.1:8081/items/1"));
    assert_true(allows("127.0.0.1:8081", "https://127.0.0.1:8081/")); /* either scheme */
    assert_false(allows("127.0.0.1:8081", "http://127.0.0.1:8082/"));
    assert_false(allows("127.0.0.1:8081", "http://127.0.0.1/"));
    /* no port: the scheme's default */
    assert_true(allows("Other.Example", "http://other.example/x"));
    assert_true(allows("other.example", "https://OTHER.example:443/x"));
    assert_false(allows("other.example", "http://other.example:8080/x"));
    assert_false(allows("other.example", "http://sub.other.example/x"));
    assert_true(allows("other.example:443", "https://other.example/x"));
    assert_false(allows("other.example:443", "http://other.example/x"));
    /* IPv6: in brackets with a port, bare or in brackets without */
    assert_true(allows("[::1]:8081", "http://[::1]:8081/"));
    assert_true(allows("[0::1]:8081", "http://[::1]:8081/"));
    assert_false(allows("[::1]:8081", "http://[::1]/"));
    assert_true(allows("::1", "http://[::1]/"));
    assert_true(allows("::1", "https://[0:0::1]:443/"));
    assert_false(allows("::1", "http://[::1]:8081/"));
    assert_true(allows("[::1]", "http://[::1]:80/"));
    assert_false(allows("[::1]:8081", "http://127.0.0.1:8081/"));
    assert_true(allows("127.1:80", "http://127.0.0.1/")); /* libcurl's reading of 127.1 */

    /* the H of a refusal, given back to --allow-host, allows that URL */
    static const char *const urls[] = {"http://h:8081/x", "https://Example.COM/",
                                       "http://[::1]:8080/", "https://[FE80::A%25eth0]/",
                                       "http://127.1/", "http://u@h/"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        lg_origin o;
        lg_allow_host a;
        char hp[LG_HOST_MAX + 8];
        sq_err err = {{0}};
        assert_int_equal(lg_origin_parse(urls[i], &o, &err), 0);
        lg_origin_hostport(&o, hp, sizeof hp);
        if (lg_allow_host_parse(hp, &a, &err) != 0)
            fail_msg("'%s' from '%s': %s", hp, urls[i], err.msg);
        assert_true(lg_allow_host_match(&a, &o));
    }

    expect_bad_allow("");
    expect_bad_allow("http://h");
    expect_bad_allow("h/x");
    expect_bad_allow("u@h");
    expect_bad_allow("h x");
    expect_bad_allow("h:");
    expect_bad_allow("h:0");
    expect_bad_allow("h:65536");
    expect_bad_allow("h:port");
    expect_bad_allow("[::1]:0");
    expect_bad_allow("[::1");
    expect_bad_allow("[zz]:80");
    expect_bad_allow("h:80:81");
    expect_bad_allow("h?x");
    expect_bad_allow(NULL);
    assert_int_equal(lg_cleanup_check_allow_host("[::1]:8080", NULL), 0);
}

/* The decision and the refusal messages. */
static void test_host_check(void **state)
{
    (void)state;
    lg_allow_host allow[1];
    sq_err err = {{0}};
    char why[SQ_ERR_MAX];
    lg_host_policy p = {.have_target = 1, .allow = allow, .n_allow = 0};
    assert_int_equal(lg_origin_parse("http://127.0.0.1:8080/api", &p.target, &err), 0);
    assert_int_equal(lg_host_check(&p, "http://127.0.0.1:8080/items/1", "location", why,
                                   sizeof why, &err), 1);
    assert_int_equal(lg_host_check(&p, "http://127.0.0.1:8081/items/1", "location", why,
                                   sizeof why, &err), 0);
    assert_string_equal(why, "location points at another host (127.0.0.1:8081); rerun with "
                             "--allow-host 127.0.0.1:8081 to delete there");
    assert_int_equal(lg_host_check(&p, "http://[::1]:8080/x", "the URL", why, sizeof why, &err),
                     0);
    assert_string_equal(why, "the URL points at another host ([::1]:8080); rerun with "
                             "--allow-host [::1]:8080 to delete there");
    assert_int_equal(lg_host_check(&p, "https://127.0.0.1:8080/x", "location", why, sizeof why,
                                   &err), 0);
    assert_string_equal(why, "location uses https, not the target's http (127.0.0.1:8080); "
                             "rerun with --allow-host 127.0.0.1:8080 to delete there");
    assert_int_equal(lg_allow_host_parse("127.0.0.1:8081", &allow[0], &err), 0);
    p.n_allow = 1;
    assert_int_equal(lg_host_check(&p, "http://127.0.0.1:8081/items/1", "location", why,
                                   sizeof why, &err), 1);
    assert_int_equal(lg_host_check(&p, "http://[zz]/", "location", why, sizeof why, &err),
                     -EINVAL);

    /* the target with its default port */
    assert_int_equal(lg_origin_parse("https://API.example", &p.target, &err), 0);
    assert_int_equal(lg_host_check(&p, "https://api.example:443/x", "location", why, sizeof why,
                                   &err), 1);
    assert_int_equal(lg_host_check(&p, "http://api.example/x", "location", why, sizeof why,
                                   &err), 0);
    assert_string_equal(why, "location points at another host (api.example:80); rerun with "
                             "--allow-host api.example:80 to delete there");

    /* no target: everything needs --allow-host */
    lg_host_policy none = {.no_target = "no \"target\""};
    assert_int_equal(lg_host_check(&none, "http://h/x", "location", why, sizeof why, &err), 0);
    assert_string_equal(why, "location points at h:80 and run.json has no target to compare it "
                             "with (no \"target\"); rerun with --allow-host h:80 to delete "
                             "there");
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(lg_cleanup_classify(200, 0, 0), LG_VERDICT_DELETED);
    assert_int_equal(lg_cleanup_classify(204, 0, 0), LG_VERDICT_DELETED);
    assert_int_equal(lg_cleanup_classify(202, 0, 1), LG_VERDICT_DELETED);
    assert_int_equal(lg_cleanup_classify(404, 0, 0), LG_VERDICT_GONE);
    assert_int_equal(lg_cleanup_classify(410, 0, 0), LG_VERDICT_GONE);
    assert_int_equal(lg_cleanup_classify(404, 0, 1), LG_VERDICT_FAILED); /* no bulk endpoint */
    assert_int_equal(lg_cleanup_classify(410, 0, 1), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(408, 0, 0), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(429, 0, 0), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(500, 0, 0), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(503, 0, 1), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(599, 0, 0), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(400, 0, 0), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(401, 0, 0), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(403, 0, 0), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(405, 0, 0), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(301, 0, 0), LG_VERDICT_FAILED);
    assert_int_equal(lg_cleanup_classify(0, 1, 0), LG_VERDICT_RETRY);
    assert_int_equal(lg_cleanup_classify(0, 0, 0), LG_VERDICT_FAILED);
}

static void test_backoff(void **state)
{
    (void)state;
    const int64_t ms = SQ_NS_PER_MS, max = 30 * SQ_NS_PER_S;
    assert_int_equal(lg_cleanup_backoff(1, 100 * ms, -1, max), 100 * ms);
    assert_int_equal(lg_cleanup_backoff(2, 100 * ms, -1, max), 200 * ms);
    assert_int_equal(lg_cleanup_backoff(3, 100 * ms, -1, max), 400 * ms);
    assert_int_equal(lg_cleanup_backoff(60, 100 * ms, -1, max), max); /* no overflow */
    assert_int_equal(lg_cleanup_backoff(1, 100 * ms, 2 * SQ_NS_PER_S, max), 2 * SQ_NS_PER_S);
    assert_int_equal(lg_cleanup_backoff(3, 100 * ms, 0, max), 400 * ms); /* shorter: ignored */
    assert_int_equal(lg_cleanup_backoff(1, 100 * ms, 3600 * SQ_NS_PER_S, max), max);
    assert_int_equal(lg_cleanup_backoff(4, 0, -1, max), 0);
}

static void test_retry_after(void **state)
{
    (void)state;
    const int64_t s = SQ_NS_PER_S;
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example) */
    const int64_t now = 784111777 - 30;
    const char *v = " 120\r\n";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), 120 * s);
    v = "Sun, 06 Nov 1994 08:49:37 GMT\r\n";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), 30 * s);
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now + 100), 0); /* in the past */
    v = "999999999";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), 86400 * s); /* capped */
    v = "12abc";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), -1);
    v = "soon";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), -1);
    v = "   \r\n";
    assert_int_equal(lg_cleanup_retry_after(v, strlen(v), now), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),   cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_expand),     cmocka_unit_test(test_url_base),
        cmocka_unit_test(test_origin),     cmocka_unit_test(test_allow_host),
        cmocka_unit_test(test_host_check), cmocka_unit_test(test_classify),
        cmocka_unit_test(test_backoff),    cmocka_unit_test(test_retry_after),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
