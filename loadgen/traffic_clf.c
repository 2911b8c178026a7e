/* traffic_clf.c — nginx/Apache access logs in the common and combined
 * formats:
 *   common:   $remote_addr $ident $remote_user [$time_local] "$request" $status $bytes
 *   combined: common + " \"$http_referer\" \"$http_user_agent\""
 * $time_local is "10/Oct/2000:13:55:36 -0700" (second resolution). Fields
 * after the combined ones are ignored (custom formats that append). Escapes
 * inside quoted fields (\" \\ and nginx's \xHH) are decoded. The remote
 * user, when not "-", is the request's user. Blank lines are skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen/traffic.h"

typedef struct clf_state {
    lg_tlines lines;
    int combined;
    char *scratch; /* decoded quoted fields */
    size_t scratch_cap;
} clf_state;

/* A field of the line: [p, p+n). */
typedef struct span {
    const char *p;
    size_t n;
} span;

/* Skips spaces at *i. */
static void skip_sp(const char *s, size_t len, size_t *i)
{
    while (*i < len && s[*i] == ' ')
        (*i)++;
}

/* Reads a space-delimited token at *i into *out; 0 or -1 when none. */
static int token(const char *s, size_t len, size_t *i, span *out)
{
    skip_sp(s, len, i);
    size_t st = *i;
    while (*i < len && s[*i] != ' ')
        (*i)++;
    out->p = s + st;
    out->n = *i - st;
    return out->n ? 0 : -1;
}

/* Reads a "quoted" field at *i (backslash escapes skipped over) into *out
 * without the quotes; 0 or -1 when not a quoted field. */
static int quoted(const char *s, size_t len, size_t *i, span *out)
{
    skip_sp(s, len, i);
    if (*i >= len || s[*i] != '"')
        return -1;
    size_t st = ++(*i);
    while (*i < len && s[*i] != '"') {
        if (s[*i] == '\\' && *i + 1 < len)
            (*i)++;
        (*i)++;
    }
    if (*i >= len)
        return -1;
    out->p = s + st;
    out->n = *i - st;
    (*i)++;
    return 0;
}

/* Value of a hex digit, or -1; see traffic.h. */
int lg_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escapes of a quoted field into out (at least f.n bytes);
 * returns the decoded length. */
static size_t unescape(span f, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < f.n; i++) {
        char c = f.p[i];
        if (c == '\\' && i + 1 < f.n) {
            char d = f.p[i + 1];
            if (d == 'x' && i + 3 < f.n && lg_hexval(f.p[i + 2]) >= 0 && lg_hexval(f.p[i + 3]) >= 0) {
                out[o++] = (char)(lg_hexval(f.p[i + 2]) * 16 + lg_hexval(f.p[i + 3]));
                i += 3;
                continue;
            }
            if (d == '"' || d == '\\') {
                out[o++] = d;
                i++;
                continue;
            }
        }
        out[o++] = c;
    }
    return o;
}

/* Parses "10/Oct/2000:13:55:36 -0700" into ns. Returns 0 or -1. */
static int parse_time(span f, int64_t *ns)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *s = f.p;
    if (f.n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
        s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
        return -1;
    static const int digit_pos[] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25};
    for (size_t k = 0; k < sizeof digit_pos / sizeof digit_pos[0]; k++)
        if (!isdigit((unsigned char)s[digit_pos[k]]))
            return -1;
    int mon = -1;
    for (int m = 0; m < 12; m++)
        if (memcmp(s + 3, months + 3 * m, 3) == 0)
            mon = m;
    if (mon < 0)
        return -1;
#define D2(p) ((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
    struct tm tm = {0};
    tm.tm_mday = D2(0);
    tm.tm_mon = mon;
    tm.tm_year = D2(7) * 100 + D2(9) - 1900;
    tm.tm_hour = D2(12);
    tm.tm_min = D2(15);
    tm.tm_sec = D2(18);
    int oh = D2(22), om = D2(24);
#undef D2
    if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 ||
        oh > 23 || om > 59 || tm.tm_year < 70)
        return -1;
    int64_t off = (int64_t)(oh * 3600 + om * 60) * (s[21] == '-' ? -1 : 1);
    int64_t secs = (int64_t)timegm(&tm) - off;
    if (secs < 0 || secs > INT64_MAX / SQ_NS_PER_S - 1)
        return -1; /* before 1970 or after 2262 */
    *ns = secs * SQ_NS_PER_S;
    return 0;
}

/* Parses one log line into b. Returns 1 or -EBADMSG / -ENOMEM. */
static int parse_line(clf_state *s, const char *line, size_t len, lg_tbuild *b, sq_err *err)
{
    const char *what = s->combined ? "combined" : "common";
    size_t i = 0;
    span host, ident, user, time, req, status, bytes, ref = {0}, ua = {0};
    if (token(line, len, &i, &host) || token(line, len, &i, &ident) ||
        token(line, len, &i, &user))
        return sq_errf(err, -EBADMSG, "expected a %s log line: ADDR IDENT USER [TIME] \"REQUEST\" "
                                      "STATUS BYTES%s", what, s->combined ? " \"REFERER\" \"USER-AGENT\"" : "");
    skip_sp(line, len, &i);
    if (i >= len || line[i] != '[')
        return sq_errf(err, -EBADMSG, "expected [TIME] after the user, like [10/Oct/2000:13:55:36 -0700]");
    const char *close = memchr(line + i, ']', len - i);
    if (!close)
        return sq_errf(err, -EBADMSG, "expected ']' closing the time");
    time.p = line + i + 1;
    time.n = (size_t)(close - time.p);
    i = (size_t)(close - line) + 1;
    if (parse_time(time, &b->ts_ns))
        return sq_errf(err, -EBADMSG, "bad time '%.*s': expected DD/Mon/YYYY:HH:MM:SS +ZZZZ",
                       (int)(time.n > 40 ? 40 : time.n), time.p);
    if (quoted(line, len, &i, &req))
        return sq_errf(err, -EBADMSG, "expected the quoted request \"METHOD /path HTTP/1.1\" after the time");
    if (token(line, len, &i, &status) || status.n != 3 || !isdigit((unsigned char)status.p[0]) ||
        !isdigit((unsigned char)status.p[1]) || !isdigit((unsigned char)status.p[2]))
        return sq_errf(err, -EBADMSG, "expected a 3-digit status after the request");
    if (token(line, len, &i, &bytes))
        return sq_errf(err, -EBADMSG, "expected the response size (bytes or -) after the status");
    for (size_t k = 0; k < bytes.n; k++)
        if (!isdigit((unsigned char)bytes.p[k]) && !(bytes.n == 1 && bytes.p[0] == '-'))
            return sq_errf(err, -EBADMSG, "expected the response size (bytes or -) after the status");
    if (s->combined) {
        if (quoted(line, len, &i, &ref) || quoted(line, len, &i, &ua))
            return sq_errf(err, -EBADMSG, "expected \"REFERER\" \"USER-AGENT\" after the size "
                                          "(combined format; use --format common for the common one)");
    } else {
        skip_sp(line, len, &i);
        if (i < len && line[i] != '"')
            return sq_errf(err, -EBADMSG, "unexpected text after the size (common format)");
    }
    /* the request line, decoded */
    if (len + 1 > s->scratch_cap) {
        char *ns = realloc(s->scratch, len + 1);
        if (!ns)
            return -ENOMEM;
        s->scratch = ns;
        s->scratch_cap = len + 1;
    }
    size_t rn = unescape(req, s->scratch);
    const char *r = s->scratch;
    const char *sp1 = memchr(r, ' ', rn);
    if (!sp1 || sp1 == r)
        return sq_errf(err, -EBADMSG, "bad request '%.*s': expected \"METHOD /path HTTP/1.1\"",
                       (int)(rn > 60 ? 60 : rn), r);
    for (const char *p = r; p < sp1; p++)
        if (!isalpha((unsigned char)*p) && *p != '-' && *p != '_')
            return sq_errf(err, -EBADMSG, "bad request '%.*s': expected \"METHOD /path HTTP/1.1\"",
                           (int)(rn > 60 ? 60 : rn), r);
    const char *u = sp1 + 1, *end = r + rn;
    const char *sp2 = memchr(u, ' ', (size_t)(end - u));
    const char *uend = sp2 ? sp2 : end;
    if (uend == u || (*u != '/' && *u != 'h' && *u != '*') ||
        lg_traffic_check_url(u, (size_t)(uend - u)))
        return sq_errf(err, -EBADMSG, "bad request '%.*s': expected \"METHOD /path HTTP/1.1\"",
                       (int)(rn > 60 ? 60 : rn), r);
    if (sp2 && (end - (sp2 + 1) < 5 || memcmp(sp2 + 1, "HTTP/", 5) != 0))
        return sq_errf(err, -EBADMSG, "bad request '%.*s': expected \"METHOD /path HTTP/1.1\"",
                       (int)(rn > 60 ? 60 : rn), r);
    if (lg_tbuild_method(b, r, (size_t)(sp1 - r)) || lg_tbuild_url(b, u, (size_t)(uend - u)))
        return -ENOMEM;
    if (s->combined) {
        span hv[2] = {ref, ua};
        static const char *const names[] = {"Referer", "User-Agent"};
        for (int k = 0; k < 2; k++) {
            if (hv[k].n == 0 || (hv[k].n == 1 && hv[k].p[0] == '-'))
                continue;
            size_t n = unescape(hv[k], s->scratch);
            const char *why = lg_traffic_check_header(names[k], strlen(names[k]), s->scratch, n);
            if (why)
                return sq_errf(err, -EBADMSG, "%s: %s", names[k], why);
            if (lg_tbuild_header(b, names[k], strlen(names[k]), s->scratch, n))
                return -ENOMEM;
        }
    }
    if (!(user.n == 1 && user.p[0] == '-') && lg_tbuild_user(b, user.p, user.n))
        return -ENOMEM;
    return 1;
}

/* Reads the next log line. See lg_tsrc. */
static int clf_next(void *state, lg_tbuild *b, sq_err *err)
{
    clf_state *s = state;
    char *line;
    size_t len;
    for (;;) {
        int rc = lg_tlines_next(&s->lines, &line, &len);
        b->line = s->lines.line;
        if (rc == -EMSGSIZE)
            return sq_errf(err, -EBADMSG, "line longer than %u bytes", LG_TRAFFIC_LINE_MAX);
        if (rc == -EIO)
            return sq_errf(err, rc, "read error after line %llu", (unsigned long long)b->line);
        if (rc <= 0)
            return rc;
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < len)
            return parse_line(s, line, len, b, err);
    }
}

/* Frees the reader's state. */
static void clf_free(void *state)
{
    clf_state *s = state;
    if (!s)
        return;
    lg_tlines_free(&s->lines);
    free(s->scratch);
    free(s);
}

/* Creates a common (combined = 0) or combined log source over f. */
int lg_tsrc_clf(void *f, int combined, lg_tsrc *src, sq_err *err)
{
    clf_state *s = calloc(1, sizeof *s);
    if (!s || lg_tlines_init(&s->lines, f)) {
        free(s);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    s->combined = combined;
    src->state = s;
    src->next = clf_next;
    src->free = clf_free;
    return 0;
}
