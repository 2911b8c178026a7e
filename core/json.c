/* json.c — jansson helpers. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence; see json.h. */
size_t sq_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len;
    unsigned min, c;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, min = 0x80, c = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, min = 0x800, c = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Length of the valid UTF-8 sequence at s, or 0 (a NUL byte counts as
 * invalid: JSON strings from C strings cannot carry it). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len = sq_utf8_decode(s, n, &cp);
    return len && cp ? len : 0;
}

/* Builds a JSON string from n bytes, replacing invalid UTF-8 with U+FFFD. */
json_t *sq_json_textn(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_sequence(u + i, n - i);
        if (!len)
            break;
        i += len;
    }
    if (i == n)
        return json_stringn(s, n);
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    size_t out = 0;
    for (i = 0; i < n;) {
        size_t len = utf8_sequence(u + i, n - i);
        if (len) {
            memcpy(buf + out, s + i, len);
            out += len;
            i += len;
        } else {
            memcpy(buf + out, "\xEF\xBF\xBD", 3);
            out += 3;
            i++;
        }
    }
    json_t *j = json_stringn(buf, out);
    free(buf);
    return j;
}

/* Builds a JSON string from a C string, replacing invalid UTF-8. */
json_t *sq_json_text(const char *s)
{
    return sq_json_textn(s, strlen(s));
}
