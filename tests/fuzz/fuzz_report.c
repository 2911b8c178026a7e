/* fuzz_report.c — libFuzzer harness for the reporter's readers of a run
 * directory (reports/load.c, events.c, slo_eval.c, correlate.c) and its
 * writers (summary, report.html, junit.xml, the terminal summary).
 *
 * The input is split at lines "#events" and "#routes" into series.jsonl,
 * events.jsonl and routes.json of a scratch run directory whose run.json
 * carries objectives of every kind and scope. Loading must either fail with
 * a one-line message and a known code, or succeed and produce a summary with
 * a valid verdict, and every output must be written without crashing; the
 * HTML must never contain "<script" (the input may well contain it).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/reports.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_report: invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static const char RUN_JSON[] =
    "{\"schema\":\"squall.run/1\",\"run_id\":\"fuzz\",\"start_utc_ns\":1000000000000,"
    "\"load\":{\"model\":\"open\",\"interval_s\":1.0},\"slos\":["
    "\"availability 99.9% good=status<500\",\"latency 99% < 300ms\",\"p(99) < 1s\","
    "\"p(90) < 1s for 3s\",\"error_rate < 1% during f\",\"rate(status==5xx) < 1% after f\","
    "\"achieved_rate >= 99% of intended phase p\",\"achieved_rate >= 10\","
    "\"recovery < 5s after f\",\"max < 2s\",\"mean < 1s phase q for 2s\","
    "\"p(50) < 1s route=\\\"GET /a\\\"\",\"availability 99% good=status!=4xx route=\\\"GET /a\\\"\"]}";

/* Writes n bytes of data as dir/name. Returns 0 or -1. */
static int put_file(const char *dir, const char *name, const uint8_t *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
    return 0;
}

/* Finds "\n#tag\n" in data[from..size); returns its offset or size. */
static size_t find_tag(const uint8_t *data, size_t size, size_t from, const char *tag)
{
    size_t tl = strlen(tag);
    for (size_t i = from; i + tl <= size; i++)
        if (memcmp(data + i, tag, tl) == 0)
            return i;
    return size;
}

/* Checks that the file at path holds no "<script". */
static void check_no_script(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                break;
            buf = b;
        }
    }
    fclose(f);
    if (buf)
        CHECK(!memmem(buf, len, "<script", 7));
    free(buf);
}

/* The scratch run directory (one per process) and its removal at exit. */
static char scratch[64];

/* Removes the scratch directory and the files this harness writes there. */
static void remove_scratch(void)
{
    static const char *const names[] = {"run.json", "series.jsonl", "events.jsonl", "routes.json",
                                        "report.html", "junit.xml", NULL};
    char path[256];
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", scratch, names[i]);
        unlink(path);
    }
    rmdir(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *dir = scratch;
    if (!dir[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/squall-fuzz-report-XXXXXX");
        if (!mkdtemp(scratch))
            abort();
        atexit(remove_scratch);
    }
    size_t ev = find_tag(data, size, 0, "\n#events\n");
    size_t rt = find_tag(data, size, ev, "\n#routes\n");
    size_t ev_start = ev < size ? ev + 9 : size, rt_start = rt < size ? rt + 9 : size;
    if (put_file(dir, "run.json", (const uint8_t *)RUN_JSON, strlen(RUN_JSON)) ||
        put_file(dir, "series.jsonl", data, ev) ||
        put_file(dir, "events.jsonl", data + ev_start, (rt > ev_start ? rt : ev_start) - ev_start) ||
        put_file(dir, "routes.json", data + rt_start, size - rt_start))
        abort();

    rp_report *r = NULL;
    sq_err err = {{0}};
    int rc = rp_report_load(dir, NULL, 0, &r, &err);
    if (rc) {
        CHECK(rc == -EINVAL || rc == -ENOENT || rc == -ENOMEM);
        CHECK(err.msg[0] != '\0');
        return 0;
    }
    json_t *s = rp_report_summary(r);
    CHECK(s != NULL);
    const char *v = json_string_value(json_object_get(s, "verdict"));
    CHECK(v && (!strcmp(v, "pass") || !strcmp(v, "fail") || !strcmp(v, "none") ||
                !strcmp(v, "aborted")));
    CHECK(json_array_size(json_object_get(s, "objectives")) == 13);
    char *text = json_dumps(s, 0);
    CHECK(text != NULL);
    free(text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        rp_summary_print(s, f);
        fclose(f);
        free(buf);
    }
    json_decref(s);
    char html[128], junit[128];
    snprintf(html, sizeof html, "%s/report.html", dir);
    snprintf(junit, sizeof junit, "%s/junit.xml", dir);
    CHECK(rp_report_write_html(r, html, &err) == 0);
    CHECK(rp_report_write_junit(r, junit, &err) == 0);
    check_no_script(html);
    check_no_script(junit);
    rp_report_free(r);
    return 0;
}
