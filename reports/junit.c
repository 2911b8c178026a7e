/* junit.c — junit.xml for CI: one testsuite, a testcase per objective and
 * per probe result; <failure> carries observed vs expected, <skipped> is
 * never used (insufficient data is a failure, not a skip). Built from
 * summary.json so that it can be regenerated from a stored summary. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"

/* Writes a string member of obj escaped (nothing when absent). */
static void esc_member(FILE *f, const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s)
        rp_html_escape(f, s, strlen(s));
}

/* Formats a number member with its unit for a failure message. */
static void value_text(const json_t *o, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(o, key);
    const char *unit = json_string_value(json_object_get(o, "unit"));
    if (!json_is_number(v))
        snprintf(buf, len, "n/a");
    else if (unit && strcmp(unit, "ratio") == 0)
        snprintf(buf, len, "%.4g%%", json_number_value(v) * 100);
    else
        snprintf(buf, len, "%.6g%s", json_number_value(v), unit && strcmp(unit, "req/s") == 0 ? " req/s" : unit ? unit : "");
}

/* Writes junit.xml for a summary; see reports.h. */
int rp_junit_write(const json_t *s, const char *path, sq_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return sq_errf(err, -ENOMEM, "out of memory writing junit.xml");
    const json_t *objs = json_object_get(s, "objectives");
    const json_t *events = json_object_get(s, "events");
    size_t tests = 0, failures = 0, i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        tests++;
        failures += !json_is_true(json_object_get(o, "ok"));
    }
    json_array_foreach(events, i, o)
    {
        if (json_is_boolean(json_object_get(o, "ok"))) {
            tests++;
            failures += !json_is_true(json_object_get(o, "ok"));
        }
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
               "<testsuite name=\"squall ");
    esc_member(f, s, "run_id");
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", tests, failures,
            json_number_value(json_object_get(s, "duration_s")));
    json_array_foreach(objs, i, o)
    {
        fprintf(f, "  <testcase classname=\"squall.slo.");
        esc_member(f, o, "valet");
        fprintf(f, "\" name=\"");
        esc_member(f, o, "expr");
        fprintf(f, "\">");
        if (!json_is_true(json_object_get(o, "ok"))) {
            char obs[64], tgt[64];
            value_text(o, "observed", obs, sizeof obs);
            value_text(o, "target", tgt, sizeof tgt);
            const char *st = json_string_value(json_object_get(o, "status"));
            char msg[256];
            snprintf(msg, sizeof msg, "observed %s, expected %s %s%s%s%s", obs,
                     json_string_value(json_object_get(o, "comparison")), tgt,
                     st && strcmp(st, "fail") != 0 ? " (" : "",
                     st && strcmp(st, "fail") != 0 ? st : "",
                     st && strcmp(st, "fail") != 0 ? ")" : "");
            fprintf(f, "\n    <failure message=\"");
            rp_html_escape(f, msg, strlen(msg));
            fprintf(f, "\" type=\"");
            rp_html_escape(f, st ? st : "fail", strlen(st ? st : "fail"));
            fprintf(f, "\">");
            esc_member(f, o, "note");
            fprintf(f, "</failure>\n  ");
        }
        fprintf(f, "</testcase>\n");
    }
    json_array_foreach(events, i, o)
    {
        const json_t *ok = json_object_get(o, "ok");
        if (!json_is_boolean(ok))
            continue;
        fprintf(f, "  <testcase classname=\"squall.probe\" name=\"");
        esc_member(f, o, "label");
        fprintf(f, " @ %.1fs\">", json_number_value(json_object_get(o, "at_s")));
        if (!json_is_true(ok))
            fprintf(f, "<failure message=\"probe failed\" type=\"probe\"/>");
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    if (fclose(f) != 0) {
        free(buf);
        return sq_errf(err, -ENOMEM, "out of memory writing junit.xml");
    }
    int rc = rp_write_file(path, buf, len, err);
    free(buf);
    return rc;
}

/* junit.xml of an evaluated report; see reports.h. */
int rp_report_write_junit(const rp_report *r, const char *path, sq_err *err)
{
    json_t *s = rp_report_summary(r);
    if (!s)
        return sq_errf(err, -ENOMEM, "out of memory writing junit.xml");
    int rc = rp_junit_write(s, path, err);
    json_decref(s);
    return rc;
}
