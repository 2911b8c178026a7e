/* traffic_detect.c — `--format auto`: tells the traffic format from the
 * first bytes of a file, with the extension as a hint when the content
 * does not decide:
 *   - '{' whose first key is "log"                  -> har
 *   - other '{'                                     -> jsonl
 *   - a first line "1|2|3 ID DIGITS [DIGITS]" or the GoReplay separator -> gor
 *   - ADDR IDENT USER [TIME] "REQ" STATUS BYTES "REF" "UA" -> combined
 *   - the same without "REF" "UA"                   -> common
 *   - otherwise the extension: .jsonl/.ndjson/.json, .har, .gor, .log
 *     (combined); an empty file is read as (empty) jsonl. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "loadgen/traffic.h"

/* 1 when name ends with ext (case-insensitive). */
static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* 1 when s[0..n) is a GoReplay record header line. */
static int gor_header(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n < 5 || (s[0] != '1' && s[0] != '2' && s[0] != '3') || s[1] != ' ')
        return 0;
    size_t i = 2;
    while (i < n && s[i] != ' ' && !isspace((unsigned char)s[i]))
        i++;
    if (i == 2 || i >= n || s[i] != ' ')
        return 0;
    size_t d = ++i;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    if (i == d)
        return 0;
    if (i == n)
        return 1;
    if (s[i] != ' ')
        return 0;
    d = ++i;
    while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '-'))
        i++;
    return i == n && i > d;
}

/* Returns 0 (not an access log), 1 (common) or 2 (combined) for line. */
static int clf_kind(const char *s, size_t n)
{
    size_t i = 0;
    for (int tok = 0; tok < 3; tok++) { /* addr, ident, user */
        size_t st = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i == st || i >= n)
            return 0;
        i++;
    }
    if (i >= n || s[i] != '[')
        return 0;
    const char *close = memchr(s + i, ']', n - i);
    if (!close)
        return 0;
    i = (size_t)(close - s) + 1;
    if (i + 1 >= n || s[i] != ' ' || s[i + 1] != '"')
        return 0;
    i += 2;
    while (i < n && s[i] != '"')
        i += s[i] == '\\' ? 2 : 1;
    if (i >= n)
        return 0;
    i++;
    /* " STATUS BYTES" */
    if (i + 4 > n || s[i] != ' ' || !isdigit((unsigned char)s[i + 1]))
        return 0;
    i += 1;
    while (i < n && s[i] != ' ')
        i++;
    if (i >= n)
        return 1;
    i++;
    while (i < n && s[i] != ' ')
        i++;
    while (i < n && s[i] == ' ')
        i++;
    return i < n && s[i] == '"' ? 2 : 1;
}

/* Detects the format of head[0..len) (NUL-terminated at len). */
enum lg_traffic_format lg_traffic_detect(const char *head, size_t len, const char *name)
{
    size_t i = 0;
    if (len >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && isspace((unsigned char)head[i]))
        i++;
    if (i == len) {
        if (has_ext(name, ".har"))
            return LG_TRAFFIC_HAR;
        if (has_ext(name, ".gor"))
            return LG_TRAFFIC_GOR;
        if (has_ext(name, ".log"))
            return LG_TRAFFIC_COMBINED;
        return LG_TRAFFIC_JSONL;
    }
    if (head[i] == '{') {
        size_t j = i + 1;
        while (j < len && isspace((unsigned char)head[j]))
            j++;
        if (len - j >= 5 && memcmp(head + j, "\"log\"", 5) == 0)
            return LG_TRAFFIC_HAR;
        if (j == len && has_ext(name, ".har"))
            return LG_TRAFFIC_HAR;
        return LG_TRAFFIC_JSONL;
    }
    const char *nl = memchr(head + i, '\n', len - i);
    size_t ln = nl ? (size_t)(nl - (head + i)) : len - i;
    if (gor_header(head + i, ln) || memmem(head, len, "\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89", 12))
        return LG_TRAFFIC_GOR;
    int k = clf_kind(head + i, ln);
    if (k == 2)
        return LG_TRAFFIC_COMBINED;
    if (k == 1)
        return LG_TRAFFIC_COMMON;
    if (has_ext(name, ".jsonl") || has_ext(name, ".ndjson") || has_ext(name, ".json"))
        return LG_TRAFFIC_JSONL;
    if (has_ext(name, ".har"))
        return LG_TRAFFIC_HAR;
    if (has_ext(name, ".gor"))
        return LG_TRAFFIC_GOR;
    if (has_ext(name, ".log"))
        return LG_TRAFFIC_COMBINED;
    return LG_TRAFFIC_AUTO;
}
