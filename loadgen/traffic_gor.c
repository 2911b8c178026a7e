/* traffic_gor.c — GoReplay .gor files: records separated by the line
 * "\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89" (monkey emojis; the
 * separator is "\n🐵🙈🙉\n"), each record a header line "TYPE ID
 * TIMESTAMP_NS [LATENCY]" (type 1 = request, 2 = original response, 3 =
 * replayed response) followed by the raw HTTP message. Only requests are
 * kept; responses are skipped silently. A record's line number is that of
 * its header line. Also the raw HTTP/1.x request parser shared with HAR
 * tests. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen/traffic.h"

static const char gor_sep[] = "\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89";

typedef struct gor_state {
    lg_tlines lines;
    char *rec; /* the record's payload */
    size_t len, cap;
} gor_state;

/* 1 when line is the record separator (a trailing "\r" tolerated). */
static int is_sep(const char *line, size_t len)
{
    size_t n = sizeof gor_sep - 1;
    return (len == n || (len == n + 1 && line[n] == '\r')) && memcmp(line, gor_sep, n) == 0;
}

/* Parses the record header "TYPE ID TIMESTAMP [LATENCY]"; sets *type and
 * *ts. Returns 0 or -1. */
static int parse_header(const char *line, size_t len, int *type, int64_t *ts)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len < 5 || (line[0] != '1' && line[0] != '2' && line[0] != '3') || line[1] != ' ')
        return -1;
    *type = line[0] - '0';
    size_t i = 2;
    size_t id0 = i;
    while (i < len && line[i] != ' ')
        i++;
    if (i == id0 || i >= len)
        return -1;
    i++;
    size_t t0 = i;
    int64_t v = 0;
    while (i < len && isdigit((unsigned char)line[i])) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (line[i] - '0');
        i++;
    }
    if (i == t0)
        return -1;
    if (i < len) {
        if (line[i] != ' ')
            return -1;
        i++;
        size_t l0 = i;
        while (i < len && (isdigit((unsigned char)line[i]) || line[i] == '-'))
            i++;
        if (i == l0 || i != len)
            return -1;
    }
    *ts = v;
    return 0;
}

/* Appends data[0..len) to the record. Returns 0, -EMSGSIZE (beyond the
 * record limit) or -ENOMEM. */
static int rec_append(gor_state *s, const char *data, size_t len)
{
    size_t need = s->len + len;
    if (need > LG_TRAFFIC_LINE_MAX)
        return -EMSGSIZE;
    if (need > s->cap) {
        size_t ncap = s->cap ? s->cap : 4096;
        while (ncap < need)
            ncap *= 2;
        char *nr = realloc(s->rec, ncap);
        if (!nr)
            return -ENOMEM;
        s->rec = nr;
        s->cap = ncap;
    }
    if (len)
        memcpy(s->rec + s->len, data, len);
    s->len += len;
    return 0;
}

/* Parses a raw HTTP/1.x request (see traffic.h). */
int lg_traffic_parse_http(lg_tbuild *b, const char *text, size_t n, sq_err *err)
{
    const char *end = text + n;
    const char *eol = memchr(text, '\n', n);
    if (!eol)
        return sq_errf(err, -EBADMSG, "expected an HTTP request line \"METHOD /path HTTP/1.1\"");
    const char *le = eol > text && eol[-1] == '\r' ? eol - 1 : eol;
    const char *sp1 = memchr(text, ' ', (size_t)(le - text));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == text || sp2 == sp1 + 1 || le - sp2 - 1 < 5 ||
        memcmp(sp2 + 1, "HTTP/", 5) != 0)
        return sq_errf(err, -EBADMSG, "expected an HTTP request line \"METHOD /path HTTP/1.1\"");
    for (const char *p = text; p < sp1; p++)
        if (!isalpha((unsigned char)*p) && *p != '-' && *p != '_')
            return sq_errf(err, -EBADMSG, "bad method in the request line: expected a token like GET");
    const char *why = lg_traffic_check_url(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    if (why)
        return sq_errf(err, -EBADMSG, "the request target %s", why);
    if (lg_tbuild_method(b, text, (size_t)(sp1 - text)) ||
        lg_tbuild_url(b, sp1 + 1, (size_t)(sp2 - sp1 - 1)))
        return -ENOMEM;
    const char *p = eol + 1;
    long long clen = -1;
    for (;;) {
        if (p >= end)
            break; /* headers without the blank line: no body */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *hl = nl ? nl : end;
        const char *he = hl > p && hl[-1] == '\r' ? hl - 1 : hl;
        if (he == p) { /* blank line: the body follows */
            p = nl ? nl + 1 : end;
            size_t blen = (size_t)(end - p);
            if (clen >= 0 && (unsigned long long)clen < blen)
                blen = (size_t)clen;
            if (lg_tbuild_body(b, p, blen))
                return -ENOMEM;
            return 0;
        }
        const char *colon = memchr(p, ':', (size_t)(he - p));
        if (!colon || colon == p)
            return sq_errf(err, -EBADMSG, "bad header line '%.*s': expected 'Name: value'",
                           (int)(he - p > 60 ? 60 : he - p), p);
        const char *v = colon + 1;
        while (v < he && (*v == ' ' || *v == '\t'))
            v++;
        const char *ve = he;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if ((why = lg_traffic_check_header(p, (size_t)(colon - p), v, (size_t)(ve - v))))
            return sq_errf(err, -EBADMSG, "bad header '%.*s': %s",
                           (int)(colon - p > 60 ? 60 : colon - p), p, why);
        if (lg_tbuild_header(b, p, (size_t)(colon - p), v, (size_t)(ve - v)))
            return -ENOMEM;
        if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            long long x = 0;
            const char *q = v;
            for (; q < ve && isdigit((unsigned char)*q) && x < (1LL << 50); q++)
                x = x * 10 + (*q - '0');
            if (q != ve || q == v)
                return sq_errf(err, -EBADMSG, "bad Content-Length '%.*s'",
                               (int)(ve - v > 30 ? 30 : ve - v), v);
            clen = x;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

/* Reads the next request record. See lg_tsrc. */
static int gor_next(void *state, lg_tbuild *b, sq_err *err)
{
    gor_state *s = state;
    char *line;
    size_t len;
    int rc;
    for (;;) {
        /* the header line (blank lines and stray separators skipped) */
        do {
            rc = lg_tlines_next(&s->lines, &line, &len);
            b->line = s->lines.line;
            if (rc == -EIO)
                return sq_errf(err, rc, "read error after line %llu", (unsigned long long)b->line);
            if (rc == 0)
                return 0;
        } while (rc == 1 && (len == 0 || (len == 1 && line[0] == '\r') || is_sep(line, len)));
        uint64_t rec_line = s->lines.line;
        int type = 0, bad = 0;
        int64_t ts = 0;
        if (rc == -EMSGSIZE) {
            bad = sq_errf(err, -EBADMSG, "line longer than %u bytes", LG_TRAFFIC_LINE_MAX);
        } else if (parse_header(line, len, &type, &ts)) {
            bad = sq_errf(err, -EBADMSG, "expected a GoReplay record header \"TYPE ID TIMESTAMP_NS "
                                         "LATENCY\" (TYPE 1, 2 or 3)");
        }
        /* the payload, up to the separator or the end */
        s->len = 0;
        int first = 1;
        for (;;) {
            rc = lg_tlines_next(&s->lines, &line, &len);
            if (rc == -EIO)
                return sq_errf(err, rc, "read error after line %llu", (unsigned long long)s->lines.line);
            if (rc == 0)
                break;
            if (rc == 1 && is_sep(line, len))
                break;
            if (bad || type != 1)
                continue;
            if (rc == -EMSGSIZE) {
                bad = sq_errf(err, -EBADMSG, "record longer than %u bytes", LG_TRAFFIC_LINE_MAX);
                continue;
            }
            int ar = first ? 0 : rec_append(s, "\n", 1);
            if (ar == 0)
                ar = rec_append(s, line, len);
            if (ar == -ENOMEM)
                return ar;
            if (ar == -EMSGSIZE)
                bad = sq_errf(err, -EBADMSG, "record longer than %u bytes", LG_TRAFFIC_LINE_MAX);
            first = 0;
        }
        b->line = rec_line;
        if (bad)
            return bad;
        if (type != 1) {
            if (rc == 0)
                return 0;
            continue; /* a response: not replayed */
        }
        b->ts_ns = ts;
        rc = lg_traffic_parse_http(b, s->rec ? s->rec : "", s->len, err);
        if (rc < 0)
            return rc;
        return 1;
    }
}

/* Frees the reader's state. */
static void gor_free(void *state)
{
    gor_state *s = state;
    if (!s)
        return;
    lg_tlines_free(&s->lines);
    free(s->rec);
    free(s);
}

/* Creates a GoReplay source over f. */
int lg_tsrc_gor(void *f, lg_tsrc *src, sq_err *err)
{
    gor_state *s = calloc(1, sizeof *s);
    if (!s || lg_tlines_init(&s->lines, f)) {
        free(s);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    s->lines.keep_cr = 1;
    src->state = s;
    src->next = gor_next;
    src->free = gor_free;
    return 0;
}
