/* escape.c — HTML/XML escaping of untrusted strings (URLs, headers, fault
 * and route names, error messages): everything from a run directory passes
 * through rp_html_escape before it reaches report.html or junit.xml. */
#include <stdio.h>
#include <string.h>

#include "reports/reports.h"

/* Length of the UTF-8 sequence at s that may appear in HTML as it is, or 0:
 * valid (sq_utf8_decode) and not a C1 control or a noncharacter. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len = sq_utf8_decode(s, n, &cp);
    if (!len || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
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
