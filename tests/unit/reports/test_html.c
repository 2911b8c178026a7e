/* test_html.c — unit tests for HTML escaping and report.html: hostile
 * strings (<script>, quotes, control bytes, invalid UTF-8) from URLs,
 * headers, routes, fault names, event labels and objectives never reach the
 * page unescaped; the page is self-contained; junit.xml and the terminal
 * summary escape and mark objectives the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"
#include "fixture.h"

/* Escapes n bytes of s into a new string (caller frees). */
static char *escaped(const char *s, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rp_html_escape(f, s, n);
    fclose(f);
    return buf;
}

/* Asserts escape(s) == want. */
static void check_escape(const char *s, size_t n, const char *want)
{
    char *got = escaped(s, n);
    if (strcmp(got, want) != 0)
        fail_msg("escape: want '%s', got '%s'", want, got);
    free(got);
}

static void test_escape(void **state)
{
    (void)state;
    check_escape("<script>alert(1)</script>", 25, "&lt;script&gt;alert(1)&lt;/script&gt;");
    check_escape("a\"b'c&d", 7, "a&quot;b&#39;c&amp;d");
    check_escape("x\x01y\x7fz", 5, "x\xEF\xBF\xBDy\xEF\xBF\xBDz");
    check_escape("tab\tnl\n", 7, "tab\tnl\n");
    check_escape("nul\0after", 9, "nul\xEF\xBF\xBD" "after");
    check_escape("\xff\xfe", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");        /* not UTF-8 */
    check_escape("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9");      /* été stays */
    check_escape("\xc0\xaf", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");        /* overlong '/' */
    check_escape("\xed\xa0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    check_escape("\xe2\x82", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");        /* truncated */
    check_escape("\xc2\x85", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");        /* C1 control */
    check_escape("\xf0\x9f\x8c\xa7", 4, "\xf0\x9f\x8c\xa7");        /* 🌧 */
    check_escape("", 0, "");
}

/* Reads a whole file into a new string (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Counts occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* A run whose every input string is hostile. */
static void write_hostile_run(const char *dir)
{
    fx_write(dir, "run.json",
             "{\"schema\":\"squall.run/1\",\"run_id\":\"<script>id</script>\",\"tool\":\"squall "
             "<b>x</b>\",\"start_utc_ns\":1795000000000000000,\"target\":\"http://h/<script>"
             "alert('t')</script>?a=\\\"q\\\"&b=\\u0001\",\"load\":{\"model\":\"<i>open</i>\","
             "\"interval_s\":1.0,\"headers\":[\"X-Evil: <script>h</script>\"]},\"shard\":\"1/1\","
             "\"slos\":[\"error_rate < 1% during \\\"<script>f</script>\\\"\"]}\n",
             "w");
    for (int t = 0; t < 6; t++) {
        fx_interval iv = fx_ok(t, 100, 2000);
        iv.phase = "<img src=x onerror=alert(1)>";
        if (t == 2) {
            iv.code_counts[0] = 90;
            iv.codes[1] = 503;
            iv.code_counts[1] = 10;
        }
        fx_interval_line(dir, &iv);
    }
    fx_fault_event(dir, "fault_applied", "<script>f</script>", "<b>kind</b>", 2.0);
    fx_fault_event(dir, "fault_reverted", "<script>f</script>", "<b>kind</b>", 3.0);
    fx_write(dir, "events.jsonl",
             "{\"type\":\"probe\",\"utc_ns\":1795000004000000000,\"name\":\"<svg onload=x>\\u0002"
             "\",\"ok\":false}\n"
             "{\"type\":\"abort\",\"utc_ns\":1795000005000000000,\"reason\":\"</title><script>r"
             "</script>\"}\n",
             "a");
    fx_write(dir, "routes.json",
             "{\"schema\":\"squall.routes/1\",\"routes\":[{\"route\":\"GET /<script>r</script>\","
             "\"method\":\"GET\",\"path\":\"/<script>r</script>\",\"sent\":3,\"completed\":3,"
             "\"errors_total\":0,\"status\":{\"200\":3},\"errors\":{},\"latency_us\":{\"corrected\":"
             "{\"digits\":2,\"highest\":3600000000,\"count\":0,\"min\":0,\"max\":0,\"sum\":0,"
             "\"clamped\":0,\"buckets\":[]}}}]}\n",
             "w");
}

static void test_report_escapes_everything(void **state)
{
    (void)state;
    char dir[64], html[128], junit[128];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    write_hostile_run(dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    snprintf(junit, sizeof junit, "%s/junit.xml", dir);
    const char *extra[] = {"p(99) < 1s route=\"GET /<script>r</script>\""};
    rp_outputs outs = {.html = html, .junit = junit};
    int code = -1;
    sq_err err = {{0}};
    char *tbuf = NULL;
    size_t tlen = 0;
    FILE *term = open_memstream(&tbuf, &tlen);
    int rc = rp_report_finish(dir, extra, 1, &outs, term, &code, &err);
    fclose(term);
    if (rc)
        fail_msg("rp_report_finish: %s", err.msg);
    assert_int_equal(code, SQ_EXIT_ABORTED);
    char *page = slurp(html);
    /* nothing from input opens a tag: the only "<script" would be input's */
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "<svg onload"));
    assert_null(strstr(page, "<b>x</b>"));
    assert_null(strstr(page, "<b>kind</b>"));
    assert_null(strstr(page, "<i>open"));
    assert_null(strstr(page, "</title><script"));
    assert_null(strstr(page, "onerror=alert(1)>"));
    assert_true(count_of(page, "&lt;script&gt;") >= 4);
    assert_non_null(strstr(page, "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;?a=&quot;q&quot;"));
    /* control bytes from input never reach the page */
    for (const char *p = page; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            fail_msg("control byte 0x%02x at offset %ld", (unsigned char)*p, (long)(p - page));
    /* self-contained: no script, no external reference */
    assert_null(strstr(page, "src=\"http"));
    assert_null(strstr(page, "href=\"http"));
    assert_null(strstr(page, "@import"));
    assert_non_null(strstr(page, "<svg class=\"chart\""));
    assert_non_null(strstr(page, "ABORTED"));
    free(page);

    char *xml = slurp(junit);
    assert_null(strstr(xml, "<script"));
    assert_non_null(strstr(xml, "tests=\"3\""));
    assert_non_null(strstr(xml, "name=\"p(99) &lt; 1s route=&quot;GET /&lt;script&gt;r&lt;/script&gt;&quot;\""));
    assert_non_null(strstr(xml, "classname=\"squall.probe\""));
    for (const char *p = xml; *p; p++)
        assert_false((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t');
    free(xml);

    assert_non_null(strstr(tbuf, "ABORTED"));
    assert_non_null(strstr(tbuf, "aborted: </title><script>r</script>")); /* a terminal is not a browser */
    free(tbuf);
    fx_rmdir(dir);
}

static void test_report_marks_and_sections(void **state)
{
    (void)state;
    char dir[64], html[128];
    assert_non_null(fx_mkdir(dir, sizeof dir));
    fx_run_json(dir, "[\"p(99) < 100ms\", \"error_rate < 0.1%\"]");
    for (int t = 0; t < 30; t++) {
        fx_interval iv = fx_ok(t, 200, 5000);
        if (t >= 10 && t < 14) {
            iv.code_counts[0] = 150;
            iv.codes[1] = 500;
            iv.code_counts[1] = 50;
        }
        if (t == 5 || t == 7)
            iv.errors = 2;
        fx_interval_line(dir, &iv);
    }
    fx_write(dir, "events.jsonl",
             "{\"type\":\"error_sample\",\"utc_ns\":1795000031000000000,\"class\":\"timeout\","
             "\"count\":4,\"message\":\"<Timeout> was reached\"}\n",
             "a");
    fx_fault_event(dir, "fault_applied", "kill-db", "kill", 10.0);
    fx_fault_event(dir, "fault_reverted", "kill-db", "kill", 12.0);
    snprintf(html, sizeof html, "%s/report.html", dir);
    rp_outputs outs = {.html = html};
    int code = -1;
    sq_err err;
    char *tbuf = NULL;
    size_t tlen = 0;
    FILE *term = open_memstream(&tbuf, &tlen);
    assert_int_equal(rp_report_finish(dir, NULL, 0, &outs, term, &code, &err), 0);
    fclose(term);
    assert_int_equal(code, SQ_EXIT_FAIL);
    char *page = slurp(html);
    const char *must[] = {"FAIL", "1 of 2 objectives met", "Objectives", "Timeline", "Faults",
                          "kill-db", "Latency distribution", "Routes", "Status codes and errors",
                          "Methodology", "class=\"band\"", "Error-budget burn rate", "✓ met",
                          "✗ missed", "Impact after", "First message",
                          "&lt;Timeout&gt; was reached", NULL};
    for (int i = 0; must[i]; i++)
        if (!strstr(page, must[i]))
            fail_msg("report.html lacks '%s'", must[i]);
    /* the error sample is not a timeline marker */
    assert_null(strstr(page, "error_sample"));
    free(page);
    rp_report *r = NULL;
    assert_int_equal(rp_report_load(dir, NULL, 0, &r, &err), 0);
    json_t *s = rp_report_summary(r);
    const json_t *cls = json_object_get(json_object_get(s, "error_classes"), "timeout");
    assert_int_equal(json_integer_value(json_object_get(cls, "count")), 4);
    assert_float_equal(json_number_value(json_object_get(cls, "first_s")), 5, 0);
    assert_float_equal(json_number_value(json_object_get(cls, "last_s")), 7, 0);
    assert_string_equal(json_string_value(json_object_get(cls, "first_message")),
                        "<Timeout> was reached");
    json_decref(s);
    rp_report_free(r);
    assert_non_null(strstr(tbuf, "\u2713 p(99) < 100ms"));
    assert_non_null(strstr(tbuf, "\u2717 error_rate < 0.1%"));
    assert_non_null(strstr(tbuf, "fault kill-db (kill) at 10.0s: impact after 0.0s, recovered "
                                 "2.0s after it ended"));
    free(tbuf);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_report_escapes_everything),
        cmocka_unit_test(test_report_marks_and_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
