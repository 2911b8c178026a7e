/* parse.c — parsers for the values users type on the command line and in
 * scenario files: durations, rates, speeds, sizes, bit rates, percentages and
 * counts.
 *
 * Every parser accepts the whole string or nothing. Numbers are plain
 * decimals ("12", "1.5"; rates also take an exponent, "1e3"): no sign, no
 * leading or trailing space, no hex, no inf/nan, no leading or trailing dot.
 * The checks are done here, by scan_number(), before strtod() ever sees the
 * text, so strtod's generosity (hex, "inf", leading blanks, locale) cannot
 * leak through.
 *
 * Integer results (durations, sizes, bit rates) are computed with exact
 * decimal arithmetic (dec_mul), never through a double, so "0.1s" is exactly
 * 100000000 ns and "1.5GiB" exactly 1610612736 bytes.
 *
 * Return codes: -EINVAL for text that is not the expected kind of value, or a
 * value outside its domain (a rate of 0, a negative number); -ERANGE for a
 * number too large for its type or outside explicit bounds (a uint outside
 * [min, max], a percentage above 100%).
 *
 * Messages are one line: "'VALUE' is not a KIND (why; what was expected)",
 * or "'VALUE' is out of range for a KIND (...)" for -ERANGE. VALUE is the
 * user's text with control characters escaped and long input shortened.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"

#define NS_PER_MIN (60 * SQ_NS_PER_S)
#define NS_PER_HOUR (3600 * SQ_NS_PER_S)

/* The longest part of a value quoted back in a message. */
#define QUOTE_MAX 96

static const char DURATION_HINT[] = "expected a number with a unit: 250ms, 5s, 2m, 1h";
static const char RATE_HINT[] = "expected requests per second like 500 or 2.5k, "
                                "or a multiple of the peak like 10xpeak";
static const char RANGE_HINT[] = "expected a rate like 200 or a range like 200..2000 "
                                 "or 1xpeak..10xpeak";
static const char SPEED_HINT[] = "expected a factor greater than 0 like 10x or 0.5x";
static const char SIZE_HINT[] = "expected a number of bytes like 512, 4k, 10MB or 1GiB";
static const char BITRATE_HINT[] = "expected a bit rate like 500kbit, 10mbit or 1gbit, "
                                   "or bytes per second like 100kbps";

/* A unit or suffix and what it multiplies by. rank orders duration units
 * (larger unit, larger rank); other tables leave it 0. */
struct unit {
    const char *name;
    uint64_t mult;
    int rank;
};

/* Duration units, case-sensitive ("m" is minutes, "M" means nothing). */
static const struct unit duration_units[] = {
    {"ns", 1, 1},
    {"us", SQ_NS_PER_US, 2},
    {"\xc2\xb5s", SQ_NS_PER_US, 2}, /* U+00B5 MICRO SIGN */
    {"\xce\xbcs", SQ_NS_PER_US, 2}, /* U+03BC GREEK SMALL LETTER MU */
    {"ms", SQ_NS_PER_MS, 3},
    {"s", SQ_NS_PER_S, 4},
    {"m", NS_PER_MIN, 5},
    {"h", NS_PER_HOUR, 6},
    {NULL, 0, 0},
};

/* Size suffixes, case-insensitive: decimal (1000s) and binary (1024s). */
static const struct unit size_units[] = {
    {"", 1, 0},
    {"b", 1, 0},
    {"k", 1000ULL, 0},
    {"kb", 1000ULL, 0},
    {"kib", 1ULL << 10, 0},
    {"m", 1000000ULL, 0},
    {"mb", 1000000ULL, 0},
    {"mib", 1ULL << 20, 0},
    {"g", 1000000000ULL, 0},
    {"gb", 1000000000ULL, 0},
    {"gib", 1ULL << 30, 0},
    {"t", 1000000000000ULL, 0},
    {"tb", 1000000000000ULL, 0},
    {"tib", 1ULL << 40, 0},
    {NULL, 0, 0},
};

/* Bit rate units as tc(8) writes them, case-insensitive. A bare number is
 * bits per second (as in tc); "bps" units are bytes per second. */
static const struct unit bitrate_units[] = {
    {"", 1, 0},
    {"bit", 1, 0},
    {"kbit", 1000ULL, 0},
    {"mbit", 1000000ULL, 0},
    {"gbit", 1000000000ULL, 0},
    {"tbit", 1000000000000ULL, 0},
    {"kibit", 1ULL << 10, 0},
    {"mibit", 1ULL << 20, 0},
    {"gibit", 1ULL << 30, 0},
    {"tibit", 1ULL << 40, 0},
    {"bps", 8ULL, 0},
    {"kbps", 8000ULL, 0},
    {"mbps", 8000000ULL, 0},
    {"gbps", 8000000000ULL, 0},
    {"tbps", 8000000000000ULL, 0},
    {"kibps", 8ULL << 10, 0},
    {"mibps", 8ULL << 20, 0},
    {"gibps", 8ULL << 30, 0},
    {"tibps", 8ULL << 40, 0},
    {NULL, 0, 0},
};

/* Rate suffixes, case-sensitive ("m" would read as milli): req/s, or
 * (rank 1) a multiple of the recorded peak. */
static const struct unit rate_units[] = {
    {"", 1, 0},
    {"xpeak", 1, 1},
    {"k", 1000ULL, 0},
    {"K", 1000ULL, 0},
    {"M", 1000000ULL, 0},
    {NULL, 0, 0},
};

/* Speed suffixes. */
static const struct unit speed_units[] = {
    {"", 1, 0},
    {"x", 1, 0},
    {"X", 1, 0},
    {NULL, 0, 0},
};

/* A decimal number found by scan_number: integer digits, optional fraction
 * digits and optional exponent; all pointers point into the caller's text. */
struct num {
    const char *start;
    const char *int_p;
    size_t int_n;
    const char *frac_p;
    size_t frac_n;
    const char *end; /* first byte after the number */
};

/* Writes s[0..len) into buf (cap bytes) for quoting in a message: control
 * characters become \xNN, and text longer than QUOTE_MAX is cut with "...".
 * Returns buf (caller-owned). */
static char *quote(const char *s, size_t len, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* Formats "'VALUE' is not a KIND (why)", or "'VALUE' is out of range (why)"
 * when code is -ERANGE, into err; the value is s[0..len). Returns code. */
static int bad(sq_err *err, int code, const char *s, size_t len, const char *kind,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int bad(sq_err *err, int code, const char *s, size_t len, const char *kind,
               const char *fmt, ...)
{
    char q[QUOTE_MAX * 4 + 16];
    char why[SQ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    quote(s, len, q, sizeof q);
    if (code == -ERANGE)
        return sq_errf(err, code, "'%s' is out of range (%s)", q, why);
    return sq_errf(err, code, "'%s' is not a %s (%s)", q, kind, why);
}

/* True when s[0..len) starts like a negative number ("-5", "-.5"). */
static int looks_negative(const char *s, size_t len)
{
    return len >= 2 && s[0] == '-' && (isdigit((unsigned char)s[1]) || s[1] == '.');
}

/* Scans an unsigned decimal number at p (not past lim): digits, optionally
 * '.' and more digits, and, when allow_exp, an exponent "e[+-]digits". A
 * trailing dot, a leading dot or a second dot are rejected. Fills n and
 * returns 0, or -1 when p does not start with such a number. */
static int scan_number(const char *p, const char *lim, int allow_exp, struct num *n)
{
    const char *q = p;
    memset(n, 0, sizeof *n);
    n->start = p;
    n->int_p = q;
    while (q < lim && isdigit((unsigned char)*q))
        q++;
    n->int_n = (size_t)(q - p);
    if (n->int_n == 0)
        return -1;
    if (q < lim && *q == '.') {
        n->frac_p = ++q;
        while (q < lim && isdigit((unsigned char)*q))
            q++;
        n->frac_n = (size_t)(q - n->frac_p);
        if (n->frac_n == 0)
            return -1;
        if (q < lim && *q == '.')
            return -1;
    }
    if (allow_exp && q < lim && (*q == 'e' || *q == 'E')) {
        const char *e = q + 1;
        if (e < lim && (*e == '+' || *e == '-'))
            e++;
        if (e < lim && isdigit((unsigned char)*e)) {
            while (e < lim && isdigit((unsigned char)*e))
                e++;
            q = e;
        }
    }
    n->end = q;
    return 0;
}

/* Converts a scanned number to a double with strtod on a private,
 * NUL-terminated copy (so strtod cannot read past the number). Returns 0,
 * -ERANGE when it overflows, -EINVAL when strtod disagrees with the scan
 * (a non-"." locale decimal point), or -ENOMEM. Returns -ERANGE also when
 * the value underflows. */
static int num_to_double(const struct num *n, double *out)
{
    char small[128];
    size_t len = (size_t)(n->end - n->start);
    char *copy = len < sizeof small ? small : malloc(len + 1);
    int rc = 0;
    if (!copy)
        return -ENOMEM;
    memcpy(copy, n->start, len);
    copy[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(copy, &end);
    if (end != copy + len)
        rc = -EINVAL;
    else if (isinf(v) || isnan(v) || errno == ERANGE) /* overflow or underflow */
        rc = -ERANGE;
    else
        *out = v;
    if (copy != small)
        free(copy);
    return rc;
}

/* Computes round(n × mult) exactly in integers, where n is a scanned number
 * without exponent and mult <= 2^59. The fraction is multiplied digit by
 * digit from the last one: x = floor((d·2m + x) / 10) keeps x < 2m and ends
 * as floor(0.frac × 2m), which rounds half up to the nearest integer.
 * Returns 0 and *out, or -ERANGE when the result exceeds UINT64_MAX. */
static int dec_mul(const struct num *n, uint64_t mult, uint64_t *out)
{
    uint64_t whole = 0;
    for (size_t i = 0; i < n->int_n; i++) {
        uint64_t d = (uint64_t)(n->int_p[i] - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -ERANGE;
        whole = whole * 10 + d;
    }
    if (mult && whole > UINT64_MAX / mult)
        return -ERANGE;
    whole *= mult;
    uint64_t m2 = 2 * mult;
    uint64_t x = 0;
    for (size_t i = n->frac_n; i-- > 0;)
        x = ((uint64_t)(n->frac_p[i] - '0') * m2 + x) / 10;
    uint64_t frac = (x + 1) / 2;
    if (whole > UINT64_MAX - frac)
        return -ERANGE;
    *out = whole + frac;
    return 0;
}

/* Finds the unit named s[0..len) in table (case-insensitively when icase).
 * Returns the entry (owned by the table) or NULL. */
static const struct unit *find_unit(const struct unit *table, const char *s, size_t len,
                                    int icase)
{
    for (const struct unit *u = table; u->name; u++) {
        if (strlen(u->name) != len)
            continue;
        if (icase ? strncasecmp(u->name, s, len) == 0 : memcmp(u->name, s, len) == 0)
            return u;
    }
    return NULL;
}

/* Parses s[0..len) as one plain number followed by a suffix from table
 * (which must be the whole rest), into an exact integer. Sets *frac_unit
 * when the suffix multiplier is 1 and the number has a non-zero fraction
 * (a fractional byte or bit), so the caller can refuse it. Returns 0,
 * -EINVAL (bad syntax, message uses kind/hint) or -ERANGE. */
static int parse_scaled(const char *s, size_t len, const struct unit *table,
                        const char *kind, const char *hint, uint64_t *out,
                        int *frac_unit, sq_err *err)
{
    const char *lim = s + len;
    struct num n;
    if (looks_negative(s, len))
        return bad(err, -EINVAL, s, len, kind, "must not be negative");
    if (scan_number(s, lim, 0, &n) < 0)
        return bad(err, -EINVAL, s, len, kind, "%s", hint);
    const struct unit *u = find_unit(table, n.end, (size_t)(lim - n.end), 1);
    if (!u)
        return bad(err, -EINVAL, s, len, kind, "%s", hint);
    *frac_unit = 0;
    if (u->mult == 1)
        for (size_t i = 0; i < n.frac_n; i++)
            if (n.frac_p[i] != '0')
                *frac_unit = 1;
    if (dec_mul(&n, u->mult, out) < 0)
        return bad(err, -ERANGE, s, len, kind, "a %s can be at most %" PRIu64 " %s", kind,
                   UINT64_MAX, table == size_units ? "bytes" : "bits per second");
    return 0;
}

/* Parses s[0..len) as one number followed by a suffix from table (compared
 * case-sensitively, must be the whole rest) into a double, the number times
 * the suffix's multiplier; *unit (may be NULL) gets the suffix's entry.
 * Returns 0, -EINVAL (message with kind/hint), -ERANGE or -ENOMEM. */
static int parse_real(const char *s, size_t len, int allow_exp, const struct unit *table,
                      const char *kind, const char *hint, double *out,
                      const struct unit **unit, sq_err *err)
{
    const char *lim = s + len;
    struct num n;
    double v = 0;
    if (looks_negative(s, len))
        return bad(err, -EINVAL, s, len, kind, "must not be negative");
    if (scan_number(s, lim, allow_exp, &n) < 0)
        return bad(err, -EINVAL, s, len, kind, "%s", hint);
    const struct unit *u = find_unit(table, n.end, (size_t)(lim - n.end), 0);
    if (!u)
        return bad(err, -EINVAL, s, len, kind, "%s", hint);
    int rc = num_to_double(&n, &v);
    if (rc == -ENOMEM)
        return sq_errf(err, rc, "out of memory");
    if (rc == -ERANGE || isinf(v * (double)u->mult))
        return bad(err, -ERANGE, s, len, kind, "the number is too large or too small for a %s",
                   kind);
    if (rc < 0)
        return bad(err, rc, s, len, kind, "%s", hint);
    *out = v * (double)u->mult;
    if (unit)
        *unit = u;
    return 0;
}

/* Parses one "NUMBERUNIT" term of a duration at *pp (not past lim) and
 * advances *pp past it; *rank gets the unit's rank. The whole value
 * s[0..len) is only used for messages. Returns 0, -EINVAL or -ERANGE. */
static int duration_term(const char *s, size_t len, const char **pp, uint64_t *ns, int *rank,
                         sq_err *err)
{
    const char *lim = s + len;
    struct num n;
    if (scan_number(*pp, lim, 0, &n) < 0)
        return bad(err, -EINVAL, s, len, "duration", "%s", DURATION_HINT);
    const char *u = n.end, *q = n.end;
    int letters = 1;
    while (q < lim && !isdigit((unsigned char)*q) && *q != '.') {
        unsigned char c = (unsigned char)*q++;
        if (!isalpha(c) && c < 0x80)
            letters = 0;
    }
    if (q == u) /* scan_number stops at neither a digit nor a '.' */
        return bad(err, -EINVAL, s, len, "duration",
                   "missing unit after '%.*s'; expected e.g. %.*ss or %.*sms",
                   (int)(n.end - n.start), n.start, (int)(n.end - n.start), n.start,
                   (int)(n.end - n.start), n.start);
    if (!letters)
        return bad(err, -EINVAL, s, len, "duration", "%s", DURATION_HINT);
    const struct unit *unit = find_unit(duration_units, u, (size_t)(q - u), 0);
    if (!unit) {
        char qu[QUOTE_MAX * 4 + 16];
        return bad(err, -EINVAL, s, len, "duration",
                   "unknown unit '%s'; expected ns, us, ms, s, m or h",
                   quote(u, (size_t)(q - u), qu, sizeof qu));
    }
    if (dec_mul(&n, unit->mult, ns) < 0)
        return -ERANGE;
    *rank = unit->rank;
    *pp = q;
    return 0;
}

/* Parses a duration ("250ms", "1.5s", "1h30m", "0") into ns. Units of a
 * chain must go from larger to smaller, each at most once. */
int sq_parse_duration(const char *s, int64_t *ns, sq_err *err)
{
    size_t len = strlen(s);
    const char *p = s, *lim = s + len;
    uint64_t total = 0;
    int last_rank = 1000;
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (looks_negative(s, len))
        return bad(err, -EINVAL, s, len, "duration", "must not be negative");
    if (len == 0)
        return bad(err, -EINVAL, s, len, "duration", "%s", DURATION_HINT);
    while (p < lim) {
        uint64_t v = 0;
        int rank = 0;
        int rc = duration_term(s, len, &p, &v, &rank, err);
        if (rc == -ERANGE)
            goto range;
        if (rc < 0)
            return rc;
        if (rank >= last_rank)
            return bad(err, -EINVAL, s, len, "duration",
                       "units must go from larger to smaller, each once, like 1h30m or 1m30s");
        last_rank = rank;
        if (total > UINT64_MAX - v)
            goto range;
        total += v;
    }
    if (total > (uint64_t)INT64_MAX)
        goto range;
    *ns = (int64_t)total;
    return 0;
range:
    return bad(err, -ERANGE, s, len, "duration",
               "a duration can be at most 2562047h47m16.854775807s");
}

/* Parses one absolute or peak-relative rate in s[0..len) into out. */
static int rate_span(const char *s, size_t len, sq_rate *out, sq_err *err)
{
    const struct unit *u = NULL;
    double v = 0;
    int rc = parse_real(s, len, 1, rate_units, "rate", RATE_HINT, &v, &u, err);
    if (rc < 0)
        return rc;
    if (!(v > 0))
        return bad(err, -EINVAL, s, len, "rate", "must be greater than 0");
    out->value = v;
    out->relative_to_peak = u->rank == 1;
    return 0;
}

/* Parses a rate ("500", "2.5k", "1e3", "10xpeak"); must be > 0. */
int sq_parse_rate(const char *s, sq_rate *out, sq_err *err)
{
    return rate_span(s, strlen(s), out, err);
}

/* Parses "RATE" or "FROM..TO"; both ends must be of the same kind (absolute
 * or multiples of the peak). A single rate sets both ends. */
int sq_parse_rate_range(const char *s, sq_rate *from, sq_rate *to, sq_err *err)
{
    size_t len = strlen(s);
    const char *dots = strstr(s, "..");
    sq_rate a, b;
    int rc;
    if (!dots) {
        if ((rc = rate_span(s, len, &a, err)) < 0)
            return rc;
        *from = *to = a;
        return 0;
    }
    if (dots == s || dots + 2 == s + len)
        return bad(err, -EINVAL, s, len, "rate range", "%s", RANGE_HINT);
    if ((rc = rate_span(s, (size_t)(dots - s), &a, err)) < 0 ||
        (rc = rate_span(dots + 2, len - (size_t)(dots + 2 - s), &b, err)) < 0) {
        if (rc == -ENOMEM)
            return rc;
        char q[QUOTE_MAX * 4 + 16];
        return sq_err_prefix(err, rc, "'%s' is not a rate range: ", quote(s, len, q, sizeof q));
    }
    if (a.relative_to_peak != b.relative_to_peak)
        return bad(err, -EINVAL, s, len, "rate range",
                   "both ends must be req/s (200..2000) or both multiples of the peak "
                   "(1xpeak..10xpeak)");
    *from = a;
    *to = b;
    return 0;
}

/* Parses a speed factor ("10x", "0.5x", "10"); must be > 0. */
int sq_parse_speed(const char *s, double *factor, sq_err *err)
{
    size_t len = strlen(s);
    double v = 0;
    int rc = parse_real(s, len, 0, speed_units, "speed", SPEED_HINT, &v, NULL, err);
    if (rc < 0)
        return rc;
    if (!(v > 0))
        return bad(err, -EINVAL, s, len, "speed", "must be greater than 0");
    *factor = v;
    return 0;
}

/* Parses a size in bytes: bare bytes, k/M/G/T (1000s, optional B) or
 * KiB/MiB/GiB/TiB (1024s), case-insensitive; decimals round to the nearest
 * byte, but a bare number of bytes must be whole. */
int sq_parse_size(const char *s, uint64_t *bytes, sq_err *err)
{
    size_t len = strlen(s);
    int frac = 0;
    uint64_t v = 0;
    int rc = parse_scaled(s, len, size_units, "size", SIZE_HINT, &v, &frac, err);
    if (rc < 0)
        return rc;
    if (frac)
        return bad(err, -EINVAL, s, len, "size", "a number of bytes must be whole");
    *bytes = v;
    return 0;
}

/* Parses a tc-style bit rate (bit, kbit, mbit, gbit, tbit, kibit.., bps,
 * kbps.. in bytes per second, case-insensitive; a bare number is bits per
 * second) into bits per second; must be > 0. */
int sq_parse_bitrate(const char *s, uint64_t *bits_per_s, sq_err *err)
{
    size_t len = strlen(s);
    int frac = 0;
    uint64_t v = 0;
    int rc = parse_scaled(s, len, bitrate_units, "bit rate", BITRATE_HINT, &v, &frac, err);
    if (rc < 0)
        return rc;
    if (frac)
        return bad(err, -EINVAL, s, len, "bit rate", "a number of bits must be whole");
    if (v == 0)
        return bad(err, -EINVAL, s, len, "bit rate", "must be greater than 0");
    *bits_per_s = v;
    return 0;
}

/* Parses "10%" / "0.5%" (0..100%), or a bare fraction "0.1" (0..1) when
 * allow_fraction, into a fraction 0..1. */
int sq_parse_percent(const char *s, int allow_fraction, double *fraction, sq_err *err)
{
    static const struct unit pct[] = {{"%", 1, 0}, {NULL, 0, 0}};
    static const struct unit bare[] = {{"", 1, 0}, {NULL, 0, 0}};
    const char *hint = allow_fraction ? "expected a percentage like 10% or a fraction like 0.1"
                                      : "expected a percentage like 10% or 0.5%";
    size_t len = strlen(s);
    int is_pct = len > 0 && s[len - 1] == '%';
    double v = 0;
    int rc = parse_real(s, len, 0, is_pct || !allow_fraction ? pct : bare, "percentage", hint,
                        &v, NULL, err);
    if (rc < 0)
        return rc;
    if (is_pct) {
        if (v > 100)
            return bad(err, -ERANGE, s, len, "percentage",
                       "a percentage must be between 0%% and 100%%");
        v /= 100;
    } else if (v > 1) {
        return bad(err, -ERANGE, s, len, "percentage",
                   "a fraction must be between 0 and 1; did you mean %.*s%%?", (int)len, s);
    }
    *fraction = v;
    return 0;
}

/* Writes "from MIN to MAX" (or "of at least MIN" when max is UINT64_MAX)
 * into buf; returns buf (caller-owned). */
static char *range_text(uint64_t min, uint64_t max, char *buf, size_t cap)
{
    if (max == UINT64_MAX)
        snprintf(buf, cap, "of at least %" PRIu64, min);
    else
        snprintf(buf, cap, "from %" PRIu64 " to %" PRIu64, min, max);
    return buf;
}

/* Parses an unsigned decimal integer (digits only) within [min, max]. */
int sq_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, sq_err *err)
{
    size_t len = strlen(s);
    char range[64];
    struct num n;
    uint64_t v = 0;
    range_text(min, max, range, sizeof range);
    if (scan_number(s, s + len, 0, &n) < 0 || n.frac_n || n.end != s + len)
        return bad(err, -EINVAL, s, len, "whole number", "expected a whole number %s", range);
    if (dec_mul(&n, 1, &v) < 0 || v < min || v > max)
        return bad(err, -ERANGE, s, len, "whole number", "expected a whole number %s", range);
    *out = v;
    return 0;
}

/* Appends "W[.FFF]UNIT" for v (< 60 s) to buf at *o, using the largest of
 * s, ms, us, ns that fits, with the fraction's trailing zeros trimmed. */
static void format_small(uint64_t v, char *buf, size_t cap, size_t *o)
{
    static const struct {
        const char *name;
        uint64_t mult;
        int digits;
    } units[] = {{"s", SQ_NS_PER_S, 9}, {"ms", SQ_NS_PER_MS, 6}, {"us", SQ_NS_PER_US, 3},
                 {"ns", 1, 0}};
    size_t i = 0;
    while (i < 3 && v < units[i].mult)
        i++;
    uint64_t whole = v / units[i].mult, frac = v % units[i].mult;
    *o += (size_t)snprintf(buf + *o, cap - *o, "%" PRIu64, whole);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%0*" PRIu64, units[i].digits, frac);
        size_t fl = strlen(f);
        while (fl > 0 && f[fl - 1] == '0')
            fl--;
        *o += (size_t)snprintf(buf + *o, cap - *o, ".%.*s", (int)fl, f);
    }
    *o += (size_t)snprintf(buf + *o, cap - *o, "%s", units[i].name);
}

/* Formats ns the way a person writes it: hours and minutes as a chain, the
 * rest in the largest fitting unit with an exact decimal ("0s", "250ms",
 * "1.5s", "2m", "1h30m", "1m30.5s", "1.25ms", "750us", "12ns"). The result
 * always parses back to ns with sq_parse_duration when ns >= 0. Writes into
 * the caller's buf (truncated to len); returns buf. */
char *sq_format_duration(int64_t ns, char *buf, unsigned long len)
{
    char tmp[64];
    size_t o = 0;
    uint64_t v;
    if (!buf || len == 0)
        return buf;
    if (ns < 0) {
        tmp[o++] = '-';
        v = (uint64_t)(-(ns + 1)) + 1;
    } else {
        v = (uint64_t)ns;
    }
    if (v == 0) {
        snprintf(buf, len, "0s");
        return buf;
    }
    uint64_t h = v / NS_PER_HOUR, m = v % NS_PER_HOUR / NS_PER_MIN, rest = v % NS_PER_MIN;
    if (h)
        o += (size_t)snprintf(tmp + o, sizeof tmp - o, "%" PRIu64 "h", h);
    if (m)
        o += (size_t)snprintf(tmp + o, sizeof tmp - o, "%" PRIu64 "m", m);
    if (rest)
        format_small(rest, tmp, sizeof tmp, &o);
    snprintf(buf, len, "%s", tmp);
    return buf;
}
