/* h1parse.c — streaming, allocation-free HTTP/1.1 response parser (RFC 9112).
 *
 * Lines (status, header, chunk-size, trailer) are found with memchr and, when
 * they lie whole inside the fed buffer, parsed in place; only a line split
 * across feeds is copied into r->line. Bodies are never copied: Content-Length
 * and chunk data are skipped by arithmetic.
 *
 * Every check depends only on the bytes of the response, never on how they
 * were split into feeds, so any split gives the same result and message:
 *   - a line is limited to LG_H1_MAX_LINE bytes before its LF (a CR included);
 *     the limit is checked both on partial lines and on whole ones;
 *   - a status line is checked for its "HTTP/" prefix as soon as bytes of it
 *     arrive, before the length limit (so early garbage fails fast);
 *   - everything else is validated when the line is complete.
 */
#include "loadgen/h1parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    S_STATUS,     /* reading the status line */
    S_HEADER,     /* reading header lines */
    S_BODY_CL,    /* Content-Length body: r->remaining bytes left */
    S_BODY_EOF,   /* body delimited by the connection closing */
    S_CHUNK_SIZE, /* reading a chunk-size line */
    S_CHUNK_DATA, /* chunk data: r->remaining bytes left */
    S_CHUNK_CR,   /* expecting CR (or a bare LF) after chunk data */
    S_CHUNK_LF,   /* expecting LF after that CR */
    S_TRAILER,    /* reading trailer lines after the last chunk */
    S_DONE,       /* the whole response was consumed */
    S_ERROR,      /* a malformed response was rejected */
};

/* r->chunked values */
enum { TE_NONE = 0, TE_CHUNKED = 1, TE_OTHER = 2 };

#define QUOTE_MAX 40 /* input bytes quoted in messages */
#define QUOTE_BUF (QUOTE_MAX * 4 + 4)

/* Character classes: token characters (RFC 9110 tchar) and field-value
 * characters (HTAB, SP, VCHAR, obs-text). */
enum { C_TCHAR = 1, C_VALUE = 2 };

static const unsigned char char_class[256] = {
    ['\t'] = C_VALUE, [' '] = C_VALUE,
    ['!'] = C_TCHAR | C_VALUE, ['"'] = C_VALUE, ['#'] = C_TCHAR | C_VALUE,
    ['$'] = C_TCHAR | C_VALUE, ['%'] = C_TCHAR | C_VALUE, ['&'] = C_TCHAR | C_VALUE,
    ['\''] = C_TCHAR | C_VALUE, ['('] = C_VALUE, [')'] = C_VALUE,
    ['*'] = C_TCHAR | C_VALUE, ['+'] = C_TCHAR | C_VALUE, [','] = C_VALUE,
    ['-'] = C_TCHAR | C_VALUE, ['.'] = C_TCHAR | C_VALUE, ['/'] = C_VALUE,
    ['0'] = C_TCHAR | C_VALUE, ['1'] = C_TCHAR | C_VALUE, ['2'] = C_TCHAR | C_VALUE,
    ['3'] = C_TCHAR | C_VALUE, ['4'] = C_TCHAR | C_VALUE, ['5'] = C_TCHAR | C_VALUE,
    ['6'] = C_TCHAR | C_VALUE, ['7'] = C_TCHAR | C_VALUE, ['8'] = C_TCHAR | C_VALUE,
    ['9'] = C_TCHAR | C_VALUE, [':'] = C_VALUE, [';'] = C_VALUE, ['<'] = C_VALUE,
    ['='] = C_VALUE, ['>'] = C_VALUE, ['?'] = C_VALUE, ['@'] = C_VALUE,
    ['A'] = C_TCHAR | C_VALUE, ['B'] = C_TCHAR | C_VALUE, ['C'] = C_TCHAR | C_VALUE,
    ['D'] = C_TCHAR | C_VALUE, ['E'] = C_TCHAR | C_VALUE, ['F'] = C_TCHAR | C_VALUE,
    ['G'] = C_TCHAR | C_VALUE, ['H'] = C_TCHAR | C_VALUE, ['I'] = C_TCHAR | C_VALUE,
    ['J'] = C_TCHAR | C_VALUE, ['K'] = C_TCHAR | C_VALUE, ['L'] = C_TCHAR | C_VALUE,
    ['M'] = C_TCHAR | C_VALUE, ['N'] = C_TCHAR | C_VALUE, ['O'] = C_TCHAR | C_VALUE,
    ['P'] = C_TCHAR | C_VALUE, ['Q'] = C_TCHAR | C_VALUE, ['R'] = C_TCHAR | C_VALUE,
    ['S'] = C_TCHAR | C_VALUE, ['T'] = C_TCHAR | C_VALUE, ['U'] = C_TCHAR | C_VALUE,
    ['V'] = C_TCHAR | C_VALUE, ['W'] = C_TCHAR | C_VALUE, ['X'] = C_TCHAR | C_VALUE,
    ['Y'] = C_TCHAR | C_VALUE, ['Z'] = C_TCHAR | C_VALUE, ['['] = C_VALUE,
    ['\\'] = C_VALUE, [']'] = C_VALUE, ['^'] = C_TCHAR | C_VALUE,
    ['_'] = C_TCHAR | C_VALUE, ['`'] = C_TCHAR | C_VALUE,
    ['a'] = C_TCHAR | C_VALUE, ['b'] = C_TCHAR | C_VALUE, ['c'] = C_TCHAR | C_VALUE,
    ['d'] = C_TCHAR | C_VALUE, ['e'] = C_TCHAR | C_VALUE, ['f'] = C_TCHAR | C_VALUE,
    ['g'] = C_TCHAR | C_VALUE, ['h'] = C_TCHAR | C_VALUE, ['i'] = C_TCHAR | C_VALUE,
    ['j'] = C_TCHAR | C_VALUE, ['k'] = C_TCHAR | C_VALUE, ['l'] = C_TCHAR | C_VALUE,
    ['m'] = C_TCHAR | C_VALUE, ['n'] = C_TCHAR | C_VALUE, ['o'] = C_TCHAR | C_VALUE,
    ['p'] = C_TCHAR | C_VALUE, ['q'] = C_TCHAR | C_VALUE, ['r'] = C_TCHAR | C_VALUE,
    ['s'] = C_TCHAR | C_VALUE, ['t'] = C_TCHAR | C_VALUE, ['u'] = C_TCHAR | C_VALUE,
    ['v'] = C_TCHAR | C_VALUE, ['w'] = C_TCHAR | C_VALUE, ['x'] = C_TCHAR | C_VALUE,
    ['y'] = C_TCHAR | C_VALUE, ['z'] = C_TCHAR | C_VALUE, ['{'] = C_VALUE,
    ['|'] = C_TCHAR | C_VALUE, ['}'] = C_VALUE, ['~'] = C_TCHAR | C_VALUE,
#define OBS4(x) [x] = C_VALUE, [x + 1] = C_VALUE, [x + 2] = C_VALUE, [x + 3] = C_VALUE
#define OBS16(x) OBS4(x), OBS4(x + 4), OBS4(x + 8), OBS4(x + 12)
    OBS16(0x80), OBS16(0x90), OBS16(0xa0), OBS16(0xb0),
    OBS16(0xc0), OBS16(0xd0), OBS16(0xe0), OBS16(0xf0),
#undef OBS16
#undef OBS4
};

/* Writes s[0..len) into out (QUOTE_BUF bytes) for an error message: at most
 * QUOTE_MAX input bytes, non-printable bytes and backslashes escaped as \xNN,
 * "..." appended when cut. Returns out. */
static const char *quote(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, n = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* Formats the message (its arguments may read r->state), then enters the
 * error state; evaluates to -EBADMSG. */
#define BAD(r, err, ...) (sq_errf((err), -EBADMSG, __VA_ARGS__), (r)->state = S_ERROR, -EBADMSG)

/* Returns the index of the first byte of s[0..len) that is not a
 * field-value byte (HTAB, SP, VCHAR, obs-text), or len. Eight bytes at a
 * time: a word with no byte below 0x20 and none equal to 0x7f is all valid;
 * otherwise (a tab, or a real error) its bytes are checked one by one. */
static size_t find_bad_value_byte(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t ctl = (x - 0x20 * ones) & ~x & highs;
        uint64_t y = x ^ (0x7f * ones);
        uint64_t del = (y - ones) & ~y & highs;
        if (ctl | del)
            break;
    }
    for (; i < len; i++) {
        if (!(char_class[(unsigned char)s[i]] & C_VALUE))
            return i;
    }
    return len;
}

/* Compares s[0..len) with the lowercase word w, ignoring ASCII case of s.
 * Returns 1 on a match. */
static int eq_nocase(const char *s, size_t len, const char *w)
{
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        if (w[i] == '\0' || c != (unsigned char)w[i])
            return 0;
    }
    return w[i] == '\0';
}

/* Trims spaces and tabs from both ends of s[*b..*e). */
static void trim_ows(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && (s[*b] == ' ' || s[*b] == '\t'))
        (*b)++;
    while (*e > *b && (s[*e - 1] == ' ' || s[*e - 1] == '\t'))
        (*e)--;
}

/* Resets the per-section framing state (before each header section). */
static void reset_section(lg_h1_resp *r)
{
    r->content_length = -1;
    r->chunked = TE_NONE;
    r->conn_close = 0;
    r->conn_keep_alive = 0;
    r->header_bytes = 0;
    r->line_len = 0;
    if (r->capture)
        lg_h1_capture_reset(r->capture); /* a 1xx response's headers are not the final ones */
}

/* Empties c's results; see h1parse.h. */
void lg_h1_capture_reset(lg_h1_capture *c)
{
    c->found = 0;
    c->truncated = 0;
    c->value_len = 0;
    c->body_len = 0;
    if (c->value && c->value_cap)
        c->value[0] = '\0';
}

/* Keeps a wanted header's value; see h1parse.h. */
void lg_h1_capture_header(lg_h1_capture *c, const char *name, size_t nlen, const char *v,
                          size_t n)
{
    if (!c->header || c->found || !c->value || c->value_cap == 0 || strlen(c->header) != nlen ||
        strncasecmp(name, c->header, nlen) != 0)
        return;
    size_t k = n < c->value_cap - 1 ? n : c->value_cap - 1;
    memcpy(c->value, v, k);
    c->value[k] = '\0';
    c->value_len = k;
    c->truncated = k < n;
    c->found = 1;
}

/* Keeps body bytes; see h1parse.h. */
void lg_h1_capture_body(lg_h1_capture *c, const char *p, size_t n)
{
    if (!c->body || c->body_len >= c->body_cap)
        return;
    size_t k = n < c->body_cap - c->body_len ? n : c->body_cap - c->body_len;
    memcpy(c->body + c->body_len, p, k);
    c->body_len += k;
}

/* Prepares r for the response to a request (see h1parse.h). */
void lg_h1_resp_init(lg_h1_resp *r, int head_request)
{
    r->status = 0;
    r->done = 0;
    r->keep_alive = 0;
    r->body_bytes = 0;
    r->head_request = head_request ? 1 : 0;
    r->capture = NULL;
    r->state = S_STATUS;
    r->http_minor = 0;
    r->remaining = 0;
    reset_section(r);
}

/* Checks bytes p[0..n) of the status line, which start at offset `at` of
 * the line, against the "HTTP/" prefix. Returns 0 or -EBADMSG. */
static int check_status_prefix(lg_h1_resp *r, size_t at, const char *p, size_t n, sq_err *err)
{
    static const char want[] = "HTTP/";
    for (size_t i = at; i < 5 && i - at < n; i++) {
        if (p[i - at] != want[i]) {
            char q[QUOTE_BUF];
            return BAD(r, err, "malformed status line: does not start with 'HTTP/' (byte %zu is '%s')",
                       i + 1, quote(q, p + (i - at), 1));
        }
    }
    return 0;
}

/* Parses the status line l[0..len) (terminator stripped): version, status
 * code and reason phrase. Returns 0 or -EBADMSG. */
static int parse_status(lg_h1_resp *r, const char *l, size_t len, sq_err *err)
{
    char q[QUOTE_BUF], q2[QUOTE_BUF];
    /* "HTTP/" was checked by check_status_prefix */
    if (len < 12 || l[5] < '0' || l[5] > '9' || l[6] != '.' || l[7] < '0' || l[7] > '9' ||
        l[8] != ' ' || l[9] < '0' || l[9] > '9' || l[10] < '0' || l[10] > '9' || l[11] < '0' ||
        l[11] > '9' || (len > 12 && l[12] != ' '))
        return BAD(r, err, "malformed status line '%s'", quote(q, l, len));
    if (l[5] != '1' || (l[7] != '0' && l[7] != '1'))
        return BAD(r, err, "unsupported http version '%s' (only HTTP/1.0 and HTTP/1.1)",
                   quote(q, l, 8));
    if (len > 13) {
        size_t i = 13 + find_bad_value_byte(l + 13, len - 13);
        if (i < len)
            return BAD(r, err, "invalid byte '%s' in the reason phrase of status line '%s'",
                       quote(q2, l + i, 1), quote(q, l, len));
    }
    int status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (status < 100 || status > 599)
        return BAD(r, err, "status code %.3s out of range 100..599", l + 9);
    if (status == 101)
        return BAD(r, err, "unexpected 101 switching protocols (squall never asks to upgrade)");
    r->status = status;
    r->http_minor = l[7] - '0';
    return 0;
}

/* Parses one Content-Length value v[0..len) (already trimmed). Returns 0 or
 * -EBADMSG. */
static int parse_content_length(lg_h1_resp *r, const char *v, size_t len, sq_err *err)
{
    char q[QUOTE_BUF];
    if (len == 0)
        return BAD(r, err, "empty content-length");
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return BAD(r, err, "bad content-length '%s'", quote(q, v, len));
        int d = v[i] - '0';
        if (n > (INT64_MAX - d) / 10)
            return BAD(r, err, "content-length '%s' overflows", quote(q, v, len));
        n = n * 10 + d;
    }
    if (r->content_length >= 0 && r->content_length != n)
        return BAD(r, err, "conflicting content-length values %lld and %lld",
                   (long long)r->content_length, (long long)n);
    r->content_length = n;
    return 0;
}

/* Parses one Transfer-Encoding value v[0..len): a comma list of codings
 * (parameters allowed), recording whether the last one is "chunked".
 * Returns 0 or -EBADMSG. */
static int parse_transfer_encoding(lg_h1_resp *r, const char *v, size_t len, sq_err *err)
{
    char q[QUOTE_BUF];
    int any = 0, last_chunked = 0;
    size_t b = 0;
    while (b <= len) {
        const char *comma = memchr(v + b, ',', len - b);
        size_t e = comma ? (size_t)(comma - v) : len;
        size_t next = e + 1;
        trim_ows(v, &b, &e);
        if (b < e) {
            size_t t = b;
            while (t < e && (char_class[(unsigned char)v[t]] & C_TCHAR))
                t++;
            size_t rest = t;
            while (rest < e && (v[rest] == ' ' || v[rest] == '\t'))
                rest++;
            if (t == b || (rest < e && v[rest] != ';'))
                return BAD(r, err, "bad transfer-encoding '%s'", quote(q, v, len));
            any = 1;
            last_chunked = eq_nocase(v + b, t - b, "chunked");
        }
        b = next;
    }
    if (!any)
        return BAD(r, err, "empty transfer-encoding");
    r->chunked = last_chunked ? TE_CHUNKED : TE_OTHER;
    return 0;
}

/* Parses one Connection value v[0..len): comma-separated options, of which
 * "close" and "keep-alive" matter. */
static void parse_connection(lg_h1_resp *r, const char *v, size_t len)
{
    size_t b = 0;
    while (b <= len) {
        const char *comma = memchr(v + b, ',', len - b);
        size_t e = comma ? (size_t)(comma - v) : len;
        size_t next = e + 1;
        trim_ows(v, &b, &e);
        if (eq_nocase(v + b, e - b, "close"))
            r->conn_close = 1;
        else if (eq_nocase(v + b, e - b, "keep-alive"))
            r->conn_keep_alive = 1;
        b = next;
    }
}

/* Parses a non-empty header (or, with trailer set, trailer) line
 * l[0..len): validates name and value and records the framing fields.
 * Returns 0 or -EBADMSG. */
static int parse_field(lg_h1_resp *r, const char *l, size_t len, int trailer, sq_err *err)
{
    char q[QUOTE_BUF], q2[QUOTE_BUF];
    const char *what = trailer ? "trailer" : "header";
    if (l[0] == ' ' || l[0] == '\t')
        return BAD(r, err, "obsolete line folding in %s line '%s'", what, quote(q, l, len));
    size_t i = 0;
    while (i < len && (char_class[(unsigned char)l[i]] & C_TCHAR))
        i++;
    if (i == len)
        return BAD(r, err, "%s line without a colon '%s'", what, quote(q, l, len));
    if (l[i] != ':') {
        if (i > 0 && (l[i] == ' ' || l[i] == '\t'))
            return BAD(r, err, "whitespace before the colon in %s line '%s'", what,
                       quote(q, l, len));
        return BAD(r, err, "invalid byte '%s' in %s name '%s'", quote(q2, l + i, 1), what,
                   quote(q, l, len));
    }
    if (i == 0)
        return BAD(r, err, "empty %s name in '%s'", what, quote(q, l, len));
    size_t name_len = i;
    size_t b = i + 1, e = len;
    size_t k = b + find_bad_value_byte(l + b, len - b);
    if (k < len)
        return BAD(r, err, "invalid byte '%s' in the value of %s '%s'", quote(q2, l + k, 1), what,
                   quote(q, l, name_len));
    if (trailer)
        return 0; /* trailers never affect framing */
    trim_ows(l, &b, &e);
    if (r->capture)
        lg_h1_capture_header(r->capture, l, name_len, l + b, e - b);
    switch (name_len) {
    case 10:
        if (eq_nocase(l, name_len, "connection"))
            parse_connection(r, l + b, e - b);
        return 0;
    case 14:
        if (eq_nocase(l, name_len, "content-length"))
            return parse_content_length(r, l + b, e - b, err);
        return 0;
    case 17:
        if (eq_nocase(l, name_len, "transfer-encoding"))
            return parse_transfer_encoding(r, l + b, e - b, err);
        return 0;
    default:
        return 0;
    }
}

/* Ends the response: r->done is set. */
static void finish(lg_h1_resp *r)
{
    r->state = S_DONE;
    r->done = 1;
}

/* Called at the empty line ending a header section: skips a 1xx, or decides
 * how the body is framed (RFC 9112 section 6.3) and the keep-alive. */
static void end_of_headers(lg_h1_resp *r)
{
    if (r->status < 200) { /* interim (101 was rejected earlier) */
        reset_section(r);
        r->state = S_STATUS;
        return;
    }
    if (r->http_minor == 1)
        r->keep_alive = !r->conn_close;
    else
        r->keep_alive = r->conn_keep_alive && !r->conn_close;
    if (r->head_request || r->status == 204 || r->status == 304) {
        finish(r);
        return;
    }
    if (r->chunked != TE_NONE) {
        /* Transfer-Encoding overrides Content-Length, but both at once (or
         * any TE in HTTP/1.0) is faulty framing: do not reuse the connection */
        if (r->content_length >= 0 || r->http_minor == 0)
            r->keep_alive = 0;
        if (r->chunked == TE_CHUNKED) {
            r->state = S_CHUNK_SIZE;
        } else {
            r->keep_alive = 0;
            r->state = S_BODY_EOF;
        }
        return;
    }
    if (r->content_length >= 0) {
        r->remaining = (uint64_t)r->content_length;
        if (r->remaining == 0)
            finish(r);
        else
            r->state = S_BODY_CL;
        return;
    }
    r->keep_alive = 0;
    r->state = S_BODY_EOF;
}

/* Parses a chunk-size line l[0..len): hex size, optional whitespace and
 * ";extensions" (ignored). Returns 0 or -EBADMSG. */
static int parse_chunk_size(lg_h1_resp *r, const char *l, size_t len, sq_err *err)
{
    char q[QUOTE_BUF], q2[QUOTE_BUF];
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)l[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            break;
        if (i == 16)
            return BAD(r, err, "chunk size '%s' overflows (more than 16 hex digits)",
                       quote(q, l, len));
        v = v << 4 | d;
    }
    if (i == 0)
        return BAD(r, err, "bad chunk size '%s'", quote(q, l, len));
    size_t j = i;
    while (j < len && (l[j] == ' ' || l[j] == '\t'))
        j++;
    if (j < len) {
        if (l[j] != ';')
            return BAD(r, err, "bad chunk size '%s'", quote(q, l, len));
        size_t k = j + 1 + find_bad_value_byte(l + j + 1, len - j - 1);
        if (k < len)
            return BAD(r, err, "invalid byte '%s' in chunk extension '%s'", quote(q2, l + k, 1),
                       quote(q, l, len));
    }
    if (v == 0) {
        r->header_bytes = 0; /* the trailer section has the header limit */
        r->state = S_TRAILER;
    } else {
        r->remaining = v;
        r->state = S_CHUNK_DATA;
    }
    return 0;
}

/* Handles one complete line l[0..raw) (LF excluded, a final CR still in)
 * in the current line state. Returns 0 or -EBADMSG. */
static int process_line(lg_h1_resp *r, const char *l, size_t raw, sq_err *err)
{
    size_t len = raw;
    if (len > 0 && l[len - 1] == '\r')
        len--;
    switch (r->state) {
    case S_STATUS:
    case S_HEADER:
    case S_TRAILER:
        r->header_bytes += raw + 1;
        if (r->header_bytes > LG_H1_MAX_HEADER_BYTES)
            return BAD(r, err, "%s section larger than %d KiB (LG_H1_MAX_HEADER_BYTES)",
                       r->state == S_TRAILER ? "trailer" : "header",
                       LG_H1_MAX_HEADER_BYTES / 1024);
        if (r->state == S_STATUS) {
            int rc = parse_status(r, l, len, err);
            if (rc == 0)
                r->state = S_HEADER;
            return rc;
        }
        if (len == 0) {
            if (r->state == S_TRAILER)
                finish(r);
            else
                end_of_headers(r);
            return 0;
        }
        return parse_field(r, l, len, r->state == S_TRAILER, err);
    default: /* S_CHUNK_SIZE */
        return parse_chunk_size(r, l, len, err);
    }
}

/* Returns the "too long" message subject for a line state. */
static const char *line_kind(int state)
{
    switch (state) {
    case S_STATUS:
        return "status line";
    case S_HEADER:
        return "header line";
    case S_TRAILER:
        return "trailer line";
    default:
        return "chunk-size line";
    }
}

/* Consumes bytes of a line state from p[0..n): completes and processes at
 * most one line. Returns the bytes consumed or -EBADMSG. */
static ssize_t feed_line(lg_h1_resp *r, const char *p, size_t n, sq_err *err)
{
    const char *lf = memchr(p, '\n', n);
    size_t seg = lf ? (size_t)(lf - p) : n;
    if (r->state == S_STATUS && r->line_len < 5 &&
        check_status_prefix(r, r->line_len, p, seg, err) < 0)
        return -EBADMSG;
    if (r->line_len + seg > LG_H1_MAX_LINE)
        return BAD(r, err, "%s longer than %d bytes (LG_H1_MAX_LINE)", line_kind(r->state),
                   LG_H1_MAX_LINE);
    if (!lf) {
        memcpy(r->line + r->line_len, p, n);
        r->line_len += n;
        return (ssize_t)n;
    }
    int rc;
    if (r->line_len) {
        memcpy(r->line + r->line_len, p, seg);
        size_t raw = r->line_len + seg;
        r->line_len = 0;
        rc = process_line(r, r->line, raw, err);
    } else {
        rc = process_line(r, p, seg, err);
    }
    return rc < 0 ? rc : (ssize_t)(seg + 1);
}

/* Feeds received bytes (see h1parse.h). */
ssize_t lg_h1_resp_feed(lg_h1_resp *r, const char *buf, size_t n, sq_err *err)
{
    size_t off = 0;
    while (off < n) {
        size_t avail = n - off;
        switch (r->state) {
        case S_STATUS:
        case S_HEADER:
        case S_CHUNK_SIZE:
        case S_TRAILER: {
            ssize_t used = feed_line(r, buf + off, avail, err);
            if (used < 0)
                return used;
            off += (size_t)used;
            break;
        }
        case S_BODY_CL:
        case S_CHUNK_DATA: {
            uint64_t take = r->remaining < avail ? r->remaining : avail;
            if (r->capture)
                lg_h1_capture_body(r->capture, buf + off, (size_t)take);
            r->remaining -= take;
            r->body_bytes += take;
            off += (size_t)take;
            if (r->remaining == 0) {
                if (r->state == S_BODY_CL)
                    finish(r);
                else
                    r->state = S_CHUNK_CR;
            }
            break;
        }
        case S_CHUNK_CR:
        case S_CHUNK_LF: {
            char c = buf[off];
            if (c == '\n') {
                r->state = S_CHUNK_SIZE;
            } else if (c == '\r' && r->state == S_CHUNK_CR) {
                r->state = S_CHUNK_LF;
            } else {
                char q[QUOTE_BUF];
                return BAD(r, err, "missing crlf after chunk data (got '%s%s')",
                           r->state == S_CHUNK_LF ? "\\x0d" : "", quote(q, &buf[off], 1));
            }
            off++;
            break;
        }
        case S_BODY_EOF:
            if (r->capture)
                lg_h1_capture_body(r->capture, buf + off, avail);
            r->body_bytes += avail;
            off = n;
            break;
        case S_DONE:
            return (ssize_t)off;
        default: /* S_ERROR */
            return sq_errf(err, -EBADMSG, "response already rejected as malformed");
        }
    }
    if (r->state == S_ERROR) /* n == 0 after an error */
        return sq_errf(err, -EBADMSG, "response already rejected as malformed");
    return (ssize_t)off;
}

/* Whether the final response's headers are in (see h1parse.h). */
int lg_h1_resp_headers_done(const lg_h1_resp *r)
{
    return r->state != S_STATUS && r->state != S_HEADER && r->state != S_ERROR;
}

/* The peer closed the connection (see h1parse.h). */
int lg_h1_resp_eof(lg_h1_resp *r, sq_err *err)
{
    switch (r->state) {
    case S_DONE:
        return 0;
    case S_BODY_EOF:
        finish(r);
        return 0;
    case S_STATUS:
        if (r->line_len == 0)
            return sq_errf(err, -EPIPE, "connection closed before the status line");
        return sq_errf(err, -EPIPE, "connection closed inside the status line");
    case S_HEADER:
        return sq_errf(err, -EPIPE, "connection closed inside the headers");
    case S_BODY_CL:
        return sq_errf(err, -EPIPE, "connection closed %llu bytes short of Content-Length %lld",
                       (unsigned long long)r->remaining, (long long)r->content_length);
    case S_TRAILER:
        return sq_errf(err, -EPIPE, "connection closed inside chunked body (in the trailers)");
    case S_CHUNK_SIZE:
    case S_CHUNK_DATA:
    case S_CHUNK_CR:
    case S_CHUNK_LF:
        return sq_errf(err, -EPIPE, "connection closed inside chunked body (after %llu payload bytes)",
                       (unsigned long long)r->body_bytes);
    default:
        return sq_errf(err, -EBADMSG, "response already rejected as malformed");
    }
}
