/* json.c — the few JSON writing helpers the target needs for its small,
 * hot-path response bodies (no allocation, bounded buffers). */
#include "tg_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

/* Appends one byte if it fits; returns 0 or -ENOSPC. */
static int put(char *buf, size_t len, size_t *pos, char c)
{
    if (*pos + 1 >= len)
        return -ENOSPC;
    buf[(*pos)++] = c;
    buf[*pos] = '\0';
    return 0;
}

/* Appends s as an escaped JSON string literal (see tg_internal.h). Invalid
 * UTF-8 bytes become U+FFFD so that the output is always valid JSON. */
int tg_json_str(char *buf, size_t len, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = put(buf, len, pos, '"');
    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            if (!(rc = put(buf, len, pos, '\\')))
                rc = put(buf, len, pos, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            for (int i = 0; !rc && esc[i]; i++)
                rc = put(buf, len, pos, esc[i]);
        } else if (c >= 0x80) {
            unsigned cp;
            size_t n = sq_utf8_decode(p, strnlen((const char *)p, 4), &cp);
            if (n == 0) {
                const char *rep = "\\ufffd";
                for (int i = 0; !rc && rep[i]; i++)
                    rc = put(buf, len, pos, rep[i]);
            } else {
                for (size_t i = 0; !rc && i < n; i++)
                    rc = put(buf, len, pos, (char)p[i]);
                p += n - 1;
            }
        } else {
            rc = put(buf, len, pos, (char)c);
        }
    }
    return rc ? rc : put(buf, len, pos, '"');
}

/* Appends formatted text (see tg_internal.h). */
int tg_json_fmt(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos >= len)
        return -ENOSPC;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n >= len - *pos) {
        *pos = len - 1;
        return -ENOSPC;
    }
    *pos += (size_t)n;
    return 0;
}
