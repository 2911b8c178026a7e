/* latency.c — latency specs: parsing ("uniform:1ms..10ms"), formatting and
 * sampling with the calling thread's own generator. */
#include "tg_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/parse.h"

#define TG_LATENCY_EXPECTED                                                              \
    "expected a duration (5ms), uniform:MIN..MAX, exp:MEAN or normal:MEAN,STDDEV"

/* Parses the duration in s[0..n) (copied so it can be NUL-terminated) into
 * *ns; what names the part in messages ("the mean"). Returns 0 or -EINVAL
 * with a message that quotes the whole spec. */
static int parse_part(const char *spec, const char *s, size_t n, const char *what, int64_t *ns,
                      sq_err *err)
{
    char buf[64];
    sq_err sub;
    if (n == 0)
        return sq_errf(err, -EINVAL, "'%s': %s is missing; " TG_LATENCY_EXPECTED, spec,
                       what);
    if (n >= sizeof buf)
        return sq_errf(err, -EINVAL, "'%s': %s is too long to be a duration", spec,
                       what);
    memcpy(buf, s, n);
    buf[n] = '\0';
    sub.msg[0] = '\0';
    if (sq_parse_duration(buf, ns, &sub) != 0)
        return sq_errf(err, -EINVAL, "'%s': %s: %s", spec, what, sub.msg);
    if (*ns < 0)
        return sq_errf(err, -EINVAL, "'%s': %s must not be negative", spec, what);
    return 0;
}

/* Parses a latency spec into *out (see target.h). Returns 0 or -EINVAL with
 * a precise message in err. */
int tg_latency_parse(const char *spec, tg_latency *out, sq_err *err)
{
    tg_latency lat = {TG_LATENCY_NONE, 0, 0};
    int rc;

    if (!spec || !*spec)
        return sq_errf(err, -EINVAL, "the spec is empty; " TG_LATENCY_EXPECTED);
    if (strcmp(spec, "none") == 0 || strcmp(spec, "0") == 0) {
        *out = lat;
        return 0;
    }
    const char *colon = strchr(spec, ':');
    if (!colon) {
        if ((rc = parse_part(spec, spec, strlen(spec), "the delay", &lat.a_ns, err)))
            return rc;
        lat.kind = lat.a_ns > 0 ? TG_LATENCY_FIXED : TG_LATENCY_NONE;
        *out = lat;
        return 0;
    }

    size_t klen = (size_t)(colon - spec);
    const char *args = colon + 1;
    if (klen == 7 && strncmp(spec, "uniform", 7) == 0) {
        const char *dots = strstr(args, "..");
        if (!dots)
            return sq_errf(err, -EINVAL, "'%s': uniform needs MIN..MAX (uniform:1ms..10ms)",
                           spec);
        if ((rc = parse_part(spec, args, (size_t)(dots - args), "the minimum", &lat.a_ns, err)) ||
            (rc = parse_part(spec, dots + 2, strlen(dots + 2), "the maximum", &lat.b_ns, err)))
            return rc;
        if (lat.a_ns > lat.b_ns)
            return sq_errf(err, -EINVAL,
                           "'%s': the minimum is above the maximum; write uniform:MIN..MAX",
                           spec);
        lat.kind = TG_LATENCY_UNIFORM;
    } else if (klen == 3 && strncmp(spec, "exp", 3) == 0) {
        if (strchr(args, ',') || strstr(args, ".."))
            return sq_errf(err, -EINVAL, "'%s': exp takes one duration, the mean (exp:5ms)",
                           spec);
        if ((rc = parse_part(spec, args, strlen(args), "the mean", &lat.a_ns, err)))
            return rc;
        if (lat.a_ns == 0)
            return sq_errf(err, -EINVAL, "'%s': the mean must be above 0", spec);
        lat.kind = TG_LATENCY_EXP;
    } else if (klen == 6 && strncmp(spec, "normal", 6) == 0) {
        const char *comma = strchr(args, ',');
        if (!comma)
            return sq_errf(err, -EINVAL,
                           "'%s': normal needs MEAN,STDDEV (normal:10ms,2ms)", spec);
        if ((rc = parse_part(spec, args, (size_t)(comma - args), "the mean", &lat.a_ns, err)) ||
            (rc = parse_part(spec, comma + 1, strlen(comma + 1), "the standard deviation",
                             &lat.b_ns, err)))
            return rc;
        lat.kind = TG_LATENCY_NORMAL;
    } else {
        return sq_errf(err, -EINVAL, "'%s': unknown distribution '%.*s'; " TG_LATENCY_EXPECTED,
                       spec, (int)klen, spec);
    }
    *out = lat;
    return 0;
}

/* Formats lat in the spec syntax into the caller's buf; returns buf. */
char *tg_latency_format(const tg_latency *lat, char *buf, unsigned long len)
{
    char a[32], b[32];
    sq_format_duration(lat->a_ns, a, sizeof a);
    sq_format_duration(lat->b_ns, b, sizeof b);
    switch (lat->kind) {
    case TG_LATENCY_FIXED: snprintf(buf, len, "%s", a); break;
    case TG_LATENCY_UNIFORM: snprintf(buf, len, "uniform:%s..%s", a, b); break;
    case TG_LATENCY_EXP: snprintf(buf, len, "exp:%s", a); break;
    case TG_LATENCY_NORMAL: snprintf(buf, len, "normal:%s,%s", a, b); break;
    default: snprintf(buf, len, "none"); break;
    }
    return buf;
}

/* Clamps a sampled delay in ns (a double) to [0, 1 h]. */
static int64_t clamp_ns(double v)
{
    if (!(v > 0)) /* also NaN */
        return 0;
    if (v > 3600.0 * 1e9)
        return 3600LL * 1000000000LL;
    return (int64_t)v;
}

/* Draws one delay from lat with the calling thread's generator. */
int64_t tg_latency_sample(const tg_latency *lat)
{
    switch (lat->kind) {
    case TG_LATENCY_FIXED:
        return lat->a_ns;
    case TG_LATENCY_UNIFORM:
        return lat->a_ns + clamp_ns(tg_rand_unit() * (double)(lat->b_ns - lat->a_ns));
    case TG_LATENCY_EXP:
        /* 1 - u is in (0, 1], so the log is finite. */
        return clamp_ns(-(double)lat->a_ns * log(1.0 - tg_rand_unit()));
    case TG_LATENCY_NORMAL: {
        double u1 = 1.0 - tg_rand_unit(), u2 = tg_rand_unit();
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        return clamp_ns((double)lat->a_ns + z * (double)lat->b_ns);
    }
    default:
        return 0;
    }
}
