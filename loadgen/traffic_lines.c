/* traffic_lines.c — a small streaming line reader for the traffic readers:
 * a buffer that grows up to LG_TRAFFIC_LINE_MAX, refilled with fread, so a
 * multi-GB file is read with flat memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/traffic.h"

#define LINES_CHUNK 65536

/* Initialises r over f (may be NULL: empty input); r does not own f.
 * Returns 0 or -ENOMEM. */
int lg_tlines_init(lg_tlines *r, void *f)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->cap = LINES_CHUNK;
    r->buf = malloc(r->cap + 1);
    if (!r->buf)
        return -ENOMEM;
    r->eof = f == NULL;
    return 0;
}

/* Frees r's buffer (not the FILE). */
void lg_tlines_free(lg_tlines *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Reads more input into r's buffer after moving the unread part to the
 * front, growing it when full (up to the line limit + 1 chunk). Returns
 * the bytes read, 0 at EOF, -EIO or -ENOMEM. */
static long fill(lg_tlines *r)
{
    if (r->eof)
        return 0;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        size_t ncap = r->cap * 2;
        if (ncap > LG_TRAFFIC_LINE_MAX + LINES_CHUNK)
            ncap = LG_TRAFFIC_LINE_MAX + LINES_CHUNK;
        if (ncap <= r->cap)
            return -ENOMEM;
        char *b = realloc(r->buf, ncap + 1);
        if (!b)
            return -ENOMEM;
        r->buf = b;
        r->cap = ncap;
    }
    size_t n = fread(r->buf + r->end, 1, r->cap - r->end, (FILE *)r->f);
    if (n == 0) {
        if (ferror((FILE *)r->f)) {
            r->error = 1;
            return -EIO;
        }
        r->eof = 1;
        return 0;
    }
    r->end += n;
    return (long)n;
}

/* Returns the next line (without its "\n" / "\r\n", NUL-terminated, valid
 * until the next call) and 1; 0 at EOF; -EMSGSIZE for an over-long line,
 * which is consumed and skipped (r->line is its number); -EIO on a read
 * error. A last line without "\n" is still a line. */
int lg_tlines_next(lg_tlines *r, char **line, size_t *len)
{
    size_t scanned = 0;
    int too_long = 0;
    for (;;) {
        char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            char *s = r->buf + r->start;
            r->start += n + 1;
            r->line++;
            if (too_long || n > LG_TRAFFIC_LINE_MAX)
                return -EMSGSIZE;
            if (n > 0 && s[n - 1] == '\r' && !r->keep_cr)
                n--;
            s[n] = '\0';
            *line = s;
            *len = n;
            return 1;
        }
        scanned = r->end - r->start;
        if (scanned > LG_TRAFFIC_LINE_MAX) {
            /* drop what we have of this line and keep looking for its end */
            too_long = 1;
            r->start = r->end = 0;
            scanned = 0;
        }
        long got = fill(r);
        if (got < 0)
            return (int)got;
        if (got == 0) {
            if (r->end == r->start) {
                if (too_long) {
                    r->line++;
                    return -EMSGSIZE;
                }
                return 0;
            }
            size_t n = r->end - r->start;
            char *s = r->buf + r->start;
            r->start = r->end;
            r->line++;
            if (too_long)
                return -EMSGSIZE;
            if (n > 0 && s[n - 1] == '\r' && !r->keep_cr)
                n--;
            s[n] = '\0'; /* buf has cap + 1 bytes */
            *line = s;
            *len = n;
            return 1;
        }
    }
}
