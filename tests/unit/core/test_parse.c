/* test_parse.c — unit tests for core/parse.c: every parser with good and bad
 * input, boundaries, overflow, and format/parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/parse.h"

/* Asserts that msg mentions the quoted value `'s'` and is one line. */
static void assert_names_value(const char *msg, const char *s)
{
    char quoted[256];
    snprintf(quoted, sizeof quoted, "'%s'", s);
    if (!strstr(msg, quoted))
        fail_msg("message \"%s\" does not name %s", msg, quoted);
    assert_null(strchr(msg, '\n'));
}

/* ---- durations --------------------------------------------------------- */

static void test_duration_good(void **state)
{
    static const struct {
        const char *s;
        int64_t ns;
    } cases[] = {
        {"0", 0},
        {"0s", 0},
        {"0ms", 0},
        {"12ns", 12},
        {"750us", 750000},
        {"750\xc2\xb5s", 750000},
        {"750\xce\xbcs", 750000},
        {"250ms", 250000000},
        {"1.25ms", 1250000},
        {"5s", 5000000000LL},
        {"1.5s", 1500000000LL},
        {"0.1s", 100000000LL},
        {"2m", 120000000000LL},
        {"1h", 3600000000000LL},
        {"1h30m", 5400000000000LL},
        {"1m30s", 90000000000LL},
        {"1h1ns", 3600000000001LL},
        {"1h2m3s4ms5us6ns", 3723004005006LL},
        {"1.5h", 5400000000000LL},
        {"0.5ns", 1},  /* rounds half up */
        {"0.4ns", 0},
        {"1.000000001s", 1000000001LL},
        {"0000000000000000000000001s", 1000000000LL},
        {"2562047h47m16.854775807s", INT64_MAX},
        {"9223372036854775807ns", INT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sq_err err = {{0}};
        int64_t ns = -1;
        if (sq_parse_duration(cases[i].s, &ns, &err) != 0)
            fail_msg("'%s' rejected: %s", cases[i].s, err.msg);
        if (ns != cases[i].ns)
            fail_msg("'%s' gave %lld, want %lld", cases[i].s, (long long)ns,
                     (long long)cases[i].ns);
    }
}

static void test_duration_bad(void **state)
{
    static const struct {
        const char *s;
        int code;
        const char *says;
    } cases[] = {
        {"", -EINVAL, "expected a number with a unit"},
        {"5", -EINVAL, "missing unit"},
        {"1.5", -EINVAL, "missing unit"},
        {"5 parsecs", -EINVAL, "expected a number with a unit: 250ms, 5s, 2m, 1h"},
        {"5s5", -EINVAL, "missing unit after '5'"},
        {"1.2.3s", -EINVAL, "expected a number with a unit"},
        {"-5s", -EINVAL, "negative"},
        {"+5s", -EINVAL, "expected a number with a unit"},
        {" 5s", -EINVAL, "expected a number with a unit"},
        {"5s ", -EINVAL, "expected a number with a unit"},
        {"5 s", -EINVAL, "expected a number with a unit"},
        {"5x", -EINVAL, "unknown unit 'x'"},
        {"5S", -EINVAL, "unknown unit 'S'"},
        {"5sec", -EINVAL, "unknown unit 'sec'"},
        {"1s1m", -EINVAL, "larger to smaller"},
        {"1s1s", -EINVAL, "larger to smaller"},
        {"1ms1s", -EINVAL, "larger to smaller"},
        {"s", -EINVAL, "expected a number with a unit"},
        {"ms", -EINVAL, "expected a number with a unit"},
        {".5s", -EINVAL, "expected a number with a unit"},
        {"5.s", -EINVAL, "expected a number with a unit"},
        {"1e3s", -EINVAL, "unknown unit 'e'"},
        {"0x10s", -EINVAL, "unknown unit 'x'"},
        {"inf", -EINVAL, "expected a number with a unit"},
        {"nan", -EINVAL, "expected a number with a unit"},
        {"infs", -EINVAL, "expected a number with a unit"},
        {"5s\n", -EINVAL, "expected a number with a unit"},
        {"2562047h47m16.854775808s", -ERANGE, "at most"},
        {"9223372036854775808ns", -ERANGE, "at most"},
        {"99999999999999999999h", -ERANGE, "at most"},
        {"18446744073709551616ns", -ERANGE, "at most"},
        {"5000000h5000000m", -ERANGE, "at most"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sq_err err = {{0}};
        int64_t ns = 42;
        int rc = sq_parse_duration(cases[i].s, &ns, &err);
        if (rc != cases[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", cases[i].s, rc, cases[i].code, err.msg);
        assert_int_equal(ns, 42);
        if (!strstr(err.msg, cases[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", cases[i].s, err.msg, cases[i].says);
        if (!strchr(cases[i].s, '\n'))
            assert_names_value(err.msg, cases[i].s);
    }
}

static void test_duration_message_exact(void **state)
{
    sq_err err = {{0}};
    int64_t ns;
    (void)state;
    assert_int_equal(sq_parse_duration("5 parsecs", &ns, &err), -EINVAL);
    assert_string_equal(err.msg, "'5 parsecs' is not a duration "
                                 "(expected a number with a unit: 250ms, 5s, 2m, 1h)");
    assert_int_equal(sq_parse_duration("5s\n", &ns, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'5s\\x0a'"));
    assert_int_equal(sq_parse_duration("", &ns, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'' is not a duration"));
}

static void test_duration_long_input(void **state)
{
    char big[5000];
    sq_err err = {{0}};
    int64_t ns;
    (void)state;
    memset(big, '9', sizeof big - 2);
    big[sizeof big - 2] = 's';
    big[sizeof big - 1] = '\0';
    assert_int_equal(sq_parse_duration(big, &ns, &err), -ERANGE);
    assert_non_null(strstr(err.msg, "...'"));
    assert_true(strlen(err.msg) < SQ_ERR_MAX - 1);
    /* a long fraction is fine and exact */
    memset(big, '0', sizeof big);
    memcpy(big, "1.", 2);
    big[sizeof big - 3] = '1';
    big[sizeof big - 2] = 's';
    big[sizeof big - 1] = '\0';
    assert_int_equal(sq_parse_duration(big, &ns, &err), 0);
    assert_int_equal(ns, 1000000000LL);
}

/* ---- formatting and round trips --------------------------------------- */

static void test_format_duration(void **state)
{
    static const struct {
        int64_t ns;
        const char *s;
    } cases[] = {
        {0, "0s"},
        {12, "12ns"},
        {750000, "750us"},
        {1250000, "1.25ms"},
        {250000000, "250ms"},
        {1000000000LL, "1s"},
        {1500000000LL, "1.5s"},
        {1000000001LL, "1.000000001s"},
        {59999999999LL, "59.999999999s"},
        {120000000000LL, "2m"},
        {90500000000LL, "1m30.5s"},
        {3600000000000LL, "1h"},
        {5400000000000LL, "1h30m"},
        {3600000000001LL, "1h1ns"},
        {3600500000000LL, "1h500ms"},
        {90000000000000LL, "25h"},
        {-1500000000LL, "-1.5s"},
        {INT64_MAX, "2562047h47m16.854775807s"},
        {INT64_MIN, "-2562047h47m16.854775808s"},
    };
    char buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sq_format_duration(cases[i].ns, buf, sizeof buf), cases[i].s);
    /* truncates to the buffer, always terminated */
    char small[4];
    assert_ptr_equal(sq_format_duration(1500000000LL, small, sizeof small), small);
    assert_string_equal(small, "1.5");
}

static void test_duration_round_trip(void **state)
{
    static const int64_t values[] = {0,
                                     1,
                                     999,
                                     1000,
                                     1001,
                                     123456789,
                                     999999999,
                                     1000000000LL,
                                     59999999999LL,
                                     60000000000LL,
                                     60000000001LL,
                                     3599999999999LL,
                                     3600000000000LL,
                                     86400000000000LL + 1,
                                     INT64_MAX - 1,
                                     INT64_MAX};
    char buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        sq_err err = {{0}};
        int64_t back = -1;
        sq_format_duration(values[i], buf, sizeof buf);
        if (sq_parse_duration(buf, &back, &err) != 0)
            fail_msg("%lld formatted as '%s' does not parse: %s", (long long)values[i], buf,
                     err.msg);
        assert_int_equal(back, values[i]);
    }
    /* a pseudo-random walk over the whole range */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t v = (int64_t)(x >> (1 + i % 63));
        int64_t back = -1;
        sq_format_duration(v, buf, sizeof buf);
        assert_int_equal(sq_parse_duration(buf, &back, NULL), 0);
        assert_int_equal(back, v);
    }
}

/* ---- rates ------------------------------------------------------------- */

static void test_rate_good(void **state)
{
    static const struct {
        const char *s;
        double value;
        int rel;
    } cases[] = {
        {"500", 500, 0},       {"2.5k", 2500, 0},    {"2.5K", 2500, 0},
        {"1M", 1e6, 0},        {"1e3", 1000, 0},     {"1E3", 1000, 0},
        {"1.5e-1", 0.15, 0},   {"0.5", 0.5, 0},      {"10xpeak", 10, 1},
        {"2.5xpeak", 2.5, 1},  {"0.1xpeak", 0.1, 1}, {"1e1xpeak", 10, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sq_err err = {{0}};
        sq_rate r = {-1, -1};
        if (sq_parse_rate(cases[i].s, &r, &err) != 0)
            fail_msg("'%s' rejected: %s", cases[i].s, err.msg);
        assert_float_equal(r.value, cases[i].value, 1e-12);
        assert_int_equal(r.relative_to_peak, cases[i].rel);
    }
}

static void test_rate_bad(void **state)
{
    static const struct {
        const char *s;
        int code;
        const char *says;
    } cases[] = {
        {"abc", -EINVAL, "expected requests per second like 500 or 2.5k"},
        {"", -EINVAL, "expected requests per second"},
        {"0", -EINVAL, "greater than 0"},
        {"0.0k", -EINVAL, "greater than 0"},
        {"0xpeak", -EINVAL, "greater than 0"},
        {"-5", -EINVAL, "negative"},
        {"-2xpeak", -EINVAL, "negative"},
        {"+5", -EINVAL, "expected requests per second"},
        {"5 ", -EINVAL, "expected requests per second"},
        {" 5", -EINVAL, "expected requests per second"},
        {"5m", -EINVAL, "expected requests per second"},
        {"5x", -EINVAL, "10xpeak"},
        {"xpeak", -EINVAL, "expected requests per second"},
        {"10xpeakx", -EINVAL, "expected requests per second"},
        {"10 xpeak", -EINVAL, "expected requests per second"},
        {"nan", -EINVAL, "expected requests per second"},
        {"inf", -EINVAL, "expected requests per second"},
        {"0x10", -EINVAL, "expected requests per second"},
        {"1e", -EINVAL, "expected requests per second"},
        {"1.2.3", -EINVAL, "expected requests per second"},
        {"5/s", -EINVAL, "expected requests per second"},
        {"1e999", -ERANGE, "too large"},
        {"1e308k", -ERANGE, "too large"},
        {"1e-999", -ERANGE, "too small"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sq_err err = {{0}};
        sq_rate r = {-1, -1};
        int rc = sq_parse_rate(cases[i].s, &r, &err);
        if (rc != cases[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", cases[i].s, rc, cases[i].code, err.msg);
        assert_float_equal(r.value, -1, 0);
        if (!strstr(err.msg, cases[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", cases[i].s, err.msg, cases[i].says);
        assert_names_value(err.msg, cases[i].s);
    }
    sq_err err = {{0}};
    sq_rate r;
    assert_int_equal(sq_parse_rate("abc", &r, &err), -EINVAL);
    assert_string_equal(err.msg, "'abc' is not a rate (expected requests per second like 500 "
                                 "or 2.5k, or a multiple of the peak like 10xpeak)");
}

static void test_rate_range(void **state)
{
    sq_err err = {{0}};
    sq_rate a, b;
    (void)state;
    assert_int_equal(sq_parse_rate_range("200", &a, &b, &err), 0);
    assert_float_equal(a.value, 200, 0);
    assert_float_equal(b.value, 200, 0);
    assert_int_equal(sq_parse_rate_range("200..2000", &a, &b, &err), 0);
    assert_float_equal(a.value, 200, 0);
    assert_float_equal(b.value, 2000, 0);
    assert_int_equal(a.relative_to_peak | b.relative_to_peak, 0);
    assert_int_equal(sq_parse_rate_range("1.5..2.5k", &a, &b, &err), 0);
    assert_float_equal(a.value, 1.5, 0);
    assert_float_equal(b.value, 2500, 0);
    assert_int_equal(sq_parse_rate_range("2000..200", &a, &b, &err), 0); /* ramp down */
    assert_int_equal(sq_parse_rate_range("1xpeak..10xpeak", &a, &b, &err), 0);
    assert_int_equal(a.relative_to_peak & b.relative_to_peak, 1);
    assert_float_equal(b.value, 10, 0);
    assert_int_equal(sq_parse_rate_range("10xpeak", &a, &b, &err), 0);
    assert_int_equal(a.relative_to_peak & b.relative_to_peak, 1);

    static const struct {
        const char *s;
        const char *says;
    } bad[] = {
        {"200..", "expected a rate like 200 or a range like 200..2000"},
        {"..200", "expected a rate like 200 or a range"},
        {"..", "expected a rate like 200 or a range"},
        {"200..abc", "'abc' is not a rate"},
        {"abc..200", "'abc' is not a rate"},
        {"1..2..3", "'2..3' is not a rate"},
        {"1...5", "'.5' is not a rate"},
        {"200..0", "greater than 0"},
        {"200..10xpeak", "both ends"},
        {"1xpeak..200", "both ends"},
        {"200 .. 2000", "is not a rate"},
        {"", "is not a rate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a.value = b.value = -1;
        assert_int_equal(sq_parse_rate_range(bad[i].s, &a, &b, &err), -EINVAL);
        assert_float_equal(a.value, -1, 0);
        assert_float_equal(b.value, -1, 0);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", bad[i].s, err.msg, bad[i].says);
        assert_names_value(err.msg, bad[i].s);
    }
}

/* ---- speed ------------------------------------------------------------- */

static void test_speed(void **state)
{
    static const struct {
        const char *s;
        double v;
    } good[] = {{"10x", 10}, {"10", 10}, {"0.5x", 0.5}, {"1X", 1}, {"100.25x", 100.25}};
    static const char *bad[] = {"0x", "0", "-1x", "x", "", "10xx", "10 x", "1e3x", "inf",
                                "10xpeak", " 10x"};
    sq_err err = {{0}};
    double f;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(sq_parse_speed(good[i].s, &f, &err), 0);
        assert_float_equal(f, good[i].v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = -1;
        if (sq_parse_speed(bad[i], &f, &err) != -EINVAL)
            fail_msg("'%s' accepted or wrong code", bad[i]);
        assert_float_equal(f, -1, 0);
        assert_names_value(err.msg, bad[i]);
        assert_non_null(strstr(err.msg, "speed"));
    }
}

/* ---- sizes and bit rates ---------------------------------------------- */

static void test_size(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"0", 0},
        {"512", 512},
        {"512B", 512},
        {"4k", 4000},
        {"4K", 4000},
        {"4KB", 4000},
        {"4kb", 4000},
        {"4KiB", 4096},
        {"4kib", 4096},
        {"1.5k", 1500},
        {"1.5KiB", 1536},
        {"10MB", 10000000},
        {"1MiB", 1048576},
        {"1.5GiB", 1610612736ULL},
        {"2G", 2000000000ULL},
        {"1T", 1000000000000ULL},
        {"1TiB", 1099511627776ULL},
        {"18446744073709551615", UINT64_MAX},
        {"16777215.5TiB", 18446743523953737728ULL},
    };
    static const struct {
        const char *s;
        int code;
        const char *says;
    } bad[] = {
        {"", -EINVAL, "expected a number of bytes"},
        {"abc", -EINVAL, "expected a number of bytes"},
        {"4 KB", -EINVAL, "expected a number of bytes"},
        {"4KBB", -EINVAL, "expected a number of bytes"},
        {"4Ki", -EINVAL, "expected a number of bytes"},
        {"4P", -EINVAL, "expected a number of bytes"},
        {"-4k", -EINVAL, "negative"},
        {"1.5", -EINVAL, "whole"},
        {"1.5B", -EINVAL, "whole"},
        {"0x10", -EINVAL, "expected a number of bytes"},
        {"1e3", -EINVAL, "expected a number of bytes"},
        {"18446744073709551616", -ERANGE, "at most 18446744073709551615 bytes"},
        {"16777216TiB", -ERANGE, "at most"},
        {"99999999999999999999999T", -ERANGE, "at most"},
    };
    sq_err err = {{0}};
    uint64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (sq_parse_size(good[i].s, &v, &err) != 0)
            fail_msg("'%s' rejected: %s", good[i].s, err.msg);
        assert_int_equal(v, good[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        int rc = sq_parse_size(bad[i].s, &v, &err);
        if (rc != bad[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", bad[i].s, rc, bad[i].code, err.msg);
        assert_int_equal(v, 7);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", bad[i].s, err.msg, bad[i].says);
        assert_names_value(err.msg, bad[i].s);
    }
}

static void test_bitrate(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"1mbit", 1000000},   {"1Mbit", 1000000},     {"500kbit", 500000},
        {"10gbit", 10000000000ULL}, {"1bit", 1},      {"100", 100},
        {"100bps", 800},      {"1kbps", 8000},        {"1MBPS", 8000000},
        {"1.5mbit", 1500000}, {"1kibit", 1024},       {"1mibps", 8388608},
        {"1tbit", 1000000000000ULL},
    };
    static const struct {
        const char *s;
        int code;
    } bad[] = {
        {"", -EINVAL},          {"fast", -EINVAL},    {"0", -EINVAL},
        {"0kbit", -EINVAL},     {"-1mbit", -EINVAL},  {"1 mbit", -EINVAL},
        {"1mb", -EINVAL},       {"1.5bit", -EINVAL},  {"1kbitx", -EINVAL},
        {"99999999999tbit", -ERANGE}, {"3000000tbps", -ERANGE},
    };
    sq_err err = {{0}};
    uint64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (sq_parse_bitrate(good[i].s, &v, &err) != 0)
            fail_msg("'%s' rejected: %s", good[i].s, err.msg);
        assert_int_equal(v, good[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        int rc = sq_parse_bitrate(bad[i].s, &v, &err);
        if (rc != bad[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", bad[i].s, rc, bad[i].code, err.msg);
        assert_int_equal(v, 7);
        assert_names_value(err.msg, bad[i].s);
        assert_non_null(strstr(err.msg, "bit rate"));
    }
}

/* ---- percentages ------------------------------------------------------- */

static void test_percent(void **state)
{
    sq_err err = {{0}};
    double f;
    (void)state;
    assert_int_equal(sq_parse_percent("10%", 0, &f, &err), 0);
    assert_float_equal(f, 0.10, 1e-15);
    assert_int_equal(sq_parse_percent("0.5%", 0, &f, &err), 0);
    assert_float_equal(f, 0.005, 1e-15);
    assert_int_equal(sq_parse_percent("0%", 0, &f, &err), 0);
    assert_float_equal(f, 0, 0);
    assert_int_equal(sq_parse_percent("100%", 0, &f, &err), 0);
    assert_float_equal(f, 1, 0);
    assert_int_equal(sq_parse_percent("0.1", 1, &f, &err), 0);
    assert_float_equal(f, 0.1, 0);
    assert_int_equal(sq_parse_percent("1", 1, &f, &err), 0);
    assert_float_equal(f, 1, 0);
    assert_int_equal(sq_parse_percent("0", 1, &f, &err), 0);
    assert_int_equal(sq_parse_percent("30%", 1, &f, &err), 0);
    assert_float_equal(f, 0.3, 1e-15);

    static const struct {
        const char *s;
        int frac;
        int code;
        const char *says;
    } bad[] = {
        {"101%", 0, -ERANGE, "between 0% and 100%"},
        {"100.0001%", 1, -ERANGE, "between 0% and 100%"},
        {"-1%", 0, -EINVAL, "negative"},
        {"%", 0, -EINVAL, "expected a percentage like 10%"},
        {"", 1, -EINVAL, "expected a percentage like 10% or a fraction like 0.1"},
        {"0.1", 0, -EINVAL, "expected a percentage like 10% or 0.5%"},
        {"5", 1, -ERANGE, "did you mean 5%?"},
        {"1.01", 1, -ERANGE, "between 0 and 1"},
        {"10 %", 0, -EINVAL, "expected a percentage"},
        {"10%%", 0, -EINVAL, "expected a percentage"},
        {"ten%", 0, -EINVAL, "expected a percentage"},
        {"nan%", 0, -EINVAL, "expected a percentage"},
        {"-0.1", 1, -EINVAL, "negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = -1;
        int rc = sq_parse_percent(bad[i].s, bad[i].frac, &f, &err);
        if (rc != bad[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", bad[i].s, rc, bad[i].code, err.msg);
        assert_float_equal(f, -1, 0);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", bad[i].s, err.msg, bad[i].says);
        assert_names_value(err.msg, bad[i].s);
    }
}

/* ---- unsigned integers ------------------------------------------------- */

static void test_uint(void **state)
{
    sq_err err = {{0}};
    uint64_t v;
    (void)state;
    assert_int_equal(sq_parse_uint("1", 1, 1000, &v, &err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(sq_parse_uint("1000", 1, 1000, &v, &err), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(sq_parse_uint("007", 1, 1000, &v, &err), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sq_parse_uint("18446744073709551615", 0, UINT64_MAX, &v, &err), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(sq_parse_uint("0", 0, 0, &v, &err), 0);

    static const struct {
        const char *s;
        uint64_t min, max;
        int code;
        const char *says;
    } bad[] = {
        {"0", 1, 1000, -ERANGE, "from 1 to 1000"},
        {"1001", 1, 1000, -ERANGE, "from 1 to 1000"},
        {"18446744073709551616", 0, UINT64_MAX, -ERANGE, "of at least 0"},
        {"99999999999999999999999", 5, UINT64_MAX, -ERANGE, "of at least 5"},
        {"abc", 1, 1000, -EINVAL, "from 1 to 1000"},
        {"", 1, 10, -EINVAL, "expected a whole number"},
        {"-1", 0, 10, -EINVAL, "expected a whole number"},
        {"+1", 0, 10, -EINVAL, "expected a whole number"},
        {" 1", 0, 10, -EINVAL, "expected a whole number"},
        {"1 ", 0, 10, -EINVAL, "expected a whole number"},
        {"1.0", 0, 10, -EINVAL, "expected a whole number"},
        {"0x1", 0, 10, -EINVAL, "expected a whole number"},
        {"1e1", 0, 100, -EINVAL, "expected a whole number"},
        {"1k", 0, 10000, -EINVAL, "expected a whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        int rc = sq_parse_uint(bad[i].s, bad[i].min, bad[i].max, &v, &err);
        if (rc != bad[i].code)
            fail_msg("'%s': rc %d, want %d (%s)", bad[i].s, rc, bad[i].code, err.msg);
        assert_int_equal(v, 42);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", bad[i].s, err.msg, bad[i].says);
        assert_names_value(err.msg, bad[i].s);
    }
    assert_int_equal(sq_parse_uint("5000", 1, 1000, &v, &err), -ERANGE);
    assert_string_equal(err.msg, "'5000' is out of range (expected a whole number from 1 to 1000)");
}

/* A NULL err is allowed everywhere. */
static void test_null_err(void **state)
{
    int64_t ns;
    sq_rate r, r2;
    double d;
    uint64_t u;
    (void)state;
    assert_int_equal(sq_parse_duration("x", &ns, NULL), -EINVAL);
    assert_int_equal(sq_parse_rate("x", &r, NULL), -EINVAL);
    assert_int_equal(sq_parse_rate_range("1..x", &r, &r2, NULL), -EINVAL);
    assert_int_equal(sq_parse_speed("x", &d, NULL), -EINVAL);
    assert_int_equal(sq_parse_size("x", &u, NULL), -EINVAL);
    assert_int_equal(sq_parse_bitrate("x", &u, NULL), -EINVAL);
    assert_int_equal(sq_parse_percent("x", 1, &d, NULL), -EINVAL);
    assert_int_equal(sq_parse_uint("x", 0, 1, &u, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_good),
        cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_duration_message_exact),
        cmocka_unit_test(test_duration_long_input),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_duration_round_trip),
        cmocka_unit_test(test_rate_good),
        cmocka_unit_test(test_rate_bad),
        cmocka_unit_test(test_rate_range),
        cmocka_unit_test(test_speed),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_bitrate),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_null_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
