/* escape.c — HTML/XML escaping of untrusted strings (URLs, headers, fault
 * and route names, error messages): everything from a run directory passes
 * through rp_html_escape before it reaches report.html or junit.xml. */
#include <stdio.h>
#include <string.h>

#include "reports/reports.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min, cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, min = 0x80, cp = s[0] & 0x1Fu;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, min = 0x800, cp = s[0] & 0x0Fu;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, min = 0x10000, cp = s[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        (cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return len;
}

/* Writes s[0..n) to f escaped; see reports.h. */
void rp_html_escape(FILE *f, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        switch (c) {
        case '&':
            fputs("&amp;", f);
            i++;
            continue;
        case '<':
            fputs("&lt;", f);
            i++;
            continue;
        case '>':
            fputs("&gt;", f);
            i++;
            continue;
        case '"':
            fputs("&quot;", f);
            i++;
            continue;
        case '\'':
            fputs("&#39;", f);
            i++;
            continue;
        case '\n':
        case '\t':
            fputc(c, f);
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            fputs("\xEF\xBF\xBD", f);
            i++;
            continue;
        }
        size_t len = utf8_len(u + i, n - i);
        if (!len) {
            fputs("\xEF\xBF\xBD", f);
            i++;
            continue;
        }
        fwrite(u + i, 1, len, f);
        i += len;
    }
}
