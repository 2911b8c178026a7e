/* test_svg.c — unit tests for reports/svg.c: downsampling keeps spikes
 * (max) or averages, skips NaN; value formats; chart output escapes labels,
 * breaks lines at NaN and keeps coordinates inside the viewBox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/svg.h"

static void test_downsample(void **state)
{
    (void)state;
    double x[10], y[10], ox[4], oy[4];
    for (int i = 0; i < 10; i++) {
        x[i] = i;
        y[i] = 1;
    }
    y[7] = 50;  /* a spike */
    y[2] = NAN; /* a gap */
    /* 10 points into at most 4: buckets of 3 -> 4 buckets */
    size_t n = rp_downsample(x, y, 10, 4, 1, ox, oy);
    assert_int_equal(n, 4);
    assert_float_equal(ox[0], 1, 1e-12);
    assert_float_equal(oy[0], 1, 0); /* NaN ignored */
    assert_float_equal(oy[2], 50, 0); /* 6..8 keeps the spike */
    assert_float_equal(ox[3], 9, 1e-12);
    n = rp_downsample(x, y, 10, 4, 0, ox, oy);
    assert_float_equal(oy[2], 52.0 / 3, 1e-12); /* mean */
    /* fewer points than the limit: unchanged */
    n = rp_downsample(x, y, 3, 4, 1, ox, oy);
    assert_int_equal(n, 3);
    assert_true(isnan(oy[2]));
    assert_int_equal(rp_downsample(x, y, 0, 4, 1, ox, oy), 0);
}

static void test_formats(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(rp_fmt_value(RP_FMT_MS, 250, b, sizeof b), "250ms");
    assert_string_equal(rp_fmt_value(RP_FMT_MS, 1500, b, sizeof b), "1.5s");
    assert_string_equal(rp_fmt_value(RP_FMT_MS, 0.1, b, sizeof b), "100µs");
    assert_string_equal(rp_fmt_value(RP_FMT_MS, 0, b, sizeof b), "0ms");
    assert_string_equal(rp_fmt_value(RP_FMT_PCT, 0.005, b, sizeof b), "0.5%");
    assert_string_equal(rp_fmt_value(RP_FMT_X, 14.4, b, sizeof b), "14.4×");
    assert_string_equal(rp_fmt_value(RP_FMT_TIME, 65, b, sizeof b), "1:05");
    assert_string_equal(rp_fmt_value(RP_FMT_TIME, 3725, b, sizeof b), "1:02:05");
    assert_string_equal(rp_fmt_value(RP_FMT_PCTL, 2, b, sizeof b), "99%");
    assert_string_equal(rp_fmt_value(RP_FMT_PCTL, 3, b, sizeof b), "99.9%");
    assert_string_equal(rp_fmt_value(RP_FMT_NUM, 1500, b, sizeof b), "1.5k");
    assert_string_equal(rp_fmt_value(RP_FMT_NUM, 12, b, sizeof b), "12");
}

static void test_chart(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rp_chart c = {.f = f, .w = 1000, .h = 200, .ml = 60, .mr = 10, .mt = 10, .mb = 20,
                  .x0 = 0, .x1 = 10, .xfmt = RP_FMT_TIME, .yfmt = RP_FMT_NUM};
    double x[4] = {0, 1, 2, 3}, y[4] = {0, 5, NAN, 500};
    rp_chart_fit_y(&c, 0, 10);
    rp_chart_begin(&c, "a <b> \"chart\"");
    rp_chart_axes(&c);
    rp_chart_band(&c, 2, 4, "<script>");
    rp_chart_marker(&c, 5, "probe: 'x'");
    rp_chart_line(&c, x, y, 4, "l");
    rp_chart_hline(&c, 8, "p(99) < 300ms", "th");
    rp_chart_end(&c);
    fclose(f);
    assert_non_null(strstr(buf, "aria-label=\"a &lt;b&gt; &quot;chart&quot;\""));
    assert_non_null(strstr(buf, "&lt;script&gt;"));
    assert_null(strstr(buf, "<script"));
    assert_non_null(strstr(buf, "probe: &#39;x&#39;"));
    assert_non_null(strstr(buf, "p(99) &lt; 300ms"));
    /* the line breaks at NaN: two M commands */
    const char *d = strstr(buf, "<path class=\"l\" d=\"");
    assert_non_null(d);
    const char *end = strchr(d + 20, '"');
    size_t moves = 0;
    for (const char *p = d + 19; p < end; p++)
        moves += *p == 'M';
    assert_int_equal(moves, 2);
    /* 500 is far above the top (10): pinned just above the plot, not off the chart */
    assert_non_null(strstr(d, "M339.0 3.2"));
    assert_null(strstr(buf, "nan"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_downsample),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_chart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
