/* traffic_har.c — HAR 1.2 files (browser devtools, proxies): one JSON
 * document {"log": {"entries": [{"startedDateTime", "request": {"method",
 * "url", "headers": [{"name", "value"}], "postData": {"text"}}}]}}.
 *
 * A HAR file is one JSON document, so it is loaded whole, up to
 * LG_TRAFFIC_HAR_MAX (256 MiB); a bigger file is refused with a message
 * (convert it to JSON Lines). A light scan of the text finds the line on
 * which each entry starts, so bad entries are reported as FILE:LINE.
 * HTTP/2 pseudo-headers (":authority", ...) are dropped. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/traffic.h"

typedef struct har_state {
    json_t *doc;
    json_t *entries; /* borrowed from doc */
    uint64_t *lines; /* the start line of each entry, n_lines of them */
    size_t n_lines, cap_lines;
    size_t next;
} har_state;

/* Records line as the start of the next entry. Returns 0 or -ENOMEM. */
static int add_line(har_state *s, uint64_t line)
{
    if (s->n_lines == s->cap_lines) {
        size_t ncap = s->cap_lines ? s->cap_lines * 2 : 64;
        uint64_t *nl = realloc(s->lines, ncap * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        s->lines = nl;
        s->cap_lines = ncap;
    }
    s->lines[s->n_lines++] = line;
    return 0;
}

/* Scans the JSON text for the values directly inside the top-level
 * log.entries array and records the line each starts on. The text has
 * already been parsed by jansson, so it is well-formed. Returns 0 or
 * -ENOMEM. */
static int scan_entry_lines(har_state *s, const char *text, size_t n)
{
    uint64_t line = 1;
    int depth = 0, log_open = 0, entries_open = 0, want = 0; /* want: an entry starts next */
    const char *str = NULL, *key = NULL; /* last string; key just before ':' */
    size_t str_n = 0, key_n = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (want && depth == 3 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ']' &&
            c != ',') {
            if (add_line(s, line))
                return -ENOMEM;
            want = 0;
        }
        switch (c) {
        case '\n':
            line++;
            break;
        case '"': {
            size_t st = ++i;
            while (i < n && text[i] != '"') {
                if (text[i] == '\\')
                    i++;
                else if (text[i] == '\n')
                    line++;
                i++;
            }
            str = text + st;
            str_n = i - st;
            break;
        }
        case ':':
            key = str;
            key_n = str_n;
            break;
        case ',':
            key = NULL;
            if (depth == 3 && entries_open)
                want = 1;
            break;
        case '{':
        case '[':
            depth++;
            if (depth == 2 && c == '{' && key && key_n == 3 && memcmp(key, "log", 3) == 0)
                log_open = 1;
            else if (depth == 3 && c == '[' && log_open && key && key_n == 7 &&
                     memcmp(key, "entries", 7) == 0)
                entries_open = want = 1;
            key = NULL;
            break;
        case '}':
        case ']':
            if (depth == 3)
                entries_open = want = 0;
            if (depth == 2)
                log_open = 0;
            depth--;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Builds the request of entry i into b. Returns 1 or -EBADMSG/-ENOMEM. */
static int har_entry(har_state *s, size_t i, lg_tbuild *b, sq_err *err)
{
    json_t *e = json_array_get(s->entries, i);
    if (!json_is_object(e))
        return sq_errf(err, -EBADMSG, "log.entries[%zu]: expected an object", i);
    json_t *t = json_object_get(e, "startedDateTime");
    if (!json_is_string(t) ||
        lg_traffic_parse_rfc3339(json_string_value(t), json_string_length(t), &b->ts_ns))
        return sq_errf(err, -EBADMSG,
                       "log.entries[%zu].startedDateTime: expected an ISO 8601 time like "
                       "2026-11-21T08:54:53.123Z",
                       i);
    json_t *r = json_object_get(e, "request");
    if (!json_is_object(r))
        return sq_errf(err, -EBADMSG, "log.entries[%zu].request: expected an object", i);
    json_t *m = json_object_get(r, "method"), *u = json_object_get(r, "url");
    if (!json_is_string(m) || json_string_length(m) == 0 || json_string_length(m) > 32 ||
        strcspn(json_string_value(m), " \t\r\n") != json_string_length(m))
        return sq_errf(err, -EBADMSG, "log.entries[%zu].request.method: expected a method like \"GET\"",
                       i);
    if (!json_is_string(u) || json_string_length(u) == 0)
        return sq_errf(err, -EBADMSG, "log.entries[%zu].request.url: expected a non-empty URL string", i);
    const char *why = lg_traffic_check_url(json_string_value(u), json_string_length(u));
    if (why)
        return sq_errf(err, -EBADMSG, "log.entries[%zu].request.url: %s", i, why);
    if (lg_tbuild_method(b, json_string_value(m), json_string_length(m)) ||
        lg_tbuild_url(b, json_string_value(u), json_string_length(u)))
        return -ENOMEM;
    json_t *hs = json_object_get(r, "headers");
    if (hs && !json_is_array(hs))
        return sq_errf(err, -EBADMSG, "log.entries[%zu].request.headers: expected an array", i);
    size_t k;
    json_t *h;
    json_array_foreach(hs, k, h) {
        json_t *hn = json_object_get(h, "name"), *hv = json_object_get(h, "value");
        if (!json_is_string(hn) || !json_is_string(hv) || json_string_length(hn) == 0)
            return sq_errf(err, -EBADMSG,
                           "log.entries[%zu].request.headers[%zu]: expected {\"name\": .., \"value\": ..}",
                           i, k);
        if (json_string_value(hn)[0] == ':')
            continue;
        why = lg_traffic_check_header(json_string_value(hn), json_string_length(hn),
                                      json_string_value(hv), json_string_length(hv));
        if (why)
            return sq_errf(err, -EBADMSG, "log.entries[%zu].request.headers[%zu]: %s", i, k, why);
        if (lg_tbuild_header(b, json_string_value(hn), json_string_length(hn),
                             json_string_value(hv), json_string_length(hv)))
            return -ENOMEM;
    }
    json_t *pd = json_object_get(r, "postData");
    if (pd && !json_is_null(pd)) {
        if (!json_is_object(pd))
            return sq_errf(err, -EBADMSG, "log.entries[%zu].request.postData: expected an object", i);
        json_t *text = json_object_get(pd, "text");
        if (text && !json_is_string(text))
            return sq_errf(err, -EBADMSG, "log.entries[%zu].request.postData.text: expected a string",
                           i);
        if (text && lg_tbuild_body(b, json_string_value(text), json_string_length(text)))
            return -ENOMEM;
    }
    return 1;
}

/* Yields the next entry. See lg_tsrc. */
static int har_next(void *state, lg_tbuild *b, sq_err *err)
{
    har_state *s = state;
    if (s->next >= json_array_size(s->entries))
        return 0;
    size_t i = s->next++;
    b->line = i < s->n_lines ? s->lines[i] : 0;
    return har_entry(s, i, b, err);
}

/* Frees the reader's state. */
static void har_free(void *state)
{
    har_state *s = state;
    if (!s)
        return;
    json_decref(s->doc);
    free(s->lines);
    free(s);
}

/* Loads the HAR document from f (whole, capped) and creates its source. */
int lg_tsrc_har(void *f, const char *name, lg_tsrc *src, sq_err *err)
{
    int rc = 0;
    char *text = NULL;
    size_t n = 0, cap = 0;
    har_state *s = calloc(1, sizeof *s);
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    while (f) {
        if (n == cap) {
            if (cap >= LG_TRAFFIC_HAR_MAX) {
                rc = sq_errf(err, -EFBIG,
                             "%s: a HAR file is read whole and this one is %zu MiB or more; "
                             "convert it to squall JSON Lines (docs/traffic.md)",
                             name, LG_TRAFFIC_HAR_MAX >> 20);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            char *nt = realloc(text, ncap + 1);
            if (!nt) {
                rc = -ENOMEM;
                goto out;
            }
            text = nt;
            cap = ncap;
        }
        size_t got = fread(text + n, 1, cap - n, (FILE *)f);
        n += got;
        if (got == 0) {
            if (ferror((FILE *)f)) {
                rc = sq_errf(err, -EIO, "%s: read error", name);
                goto out;
            }
            break;
        }
    }
    if (n > LG_TRAFFIC_HAR_MAX) {
        rc = sq_errf(err, -EFBIG,
                     "%s: a HAR file is read whole and this one is larger than %zu MiB; convert it "
                     "to squall JSON Lines (docs/traffic.md)",
                     name, LG_TRAFFIC_HAR_MAX >> 20);
        goto out;
    }
    json_error_t jerr;
    s->doc = json_loadb(text ? text : "", n, 0, &jerr);
    if (!s->doc) {
        rc = sq_errf(err, -EBADMSG, "%s:%d: expected a HAR JSON document: %s", name,
                     jerr.line > 0 ? jerr.line : 1, jerr.text);
        goto out;
    }
    json_t *log = json_object_get(s->doc, "log");
    s->entries = json_object_get(log, "entries");
    if (!json_is_object(log) || !json_is_array(s->entries)) {
        rc = sq_errf(err, -EBADMSG, "%s:1: expected a HAR document {\"log\": {\"entries\": [...]}}",
                     name);
        goto out;
    }
    if ((rc = scan_entry_lines(s, text, n)))
        goto out;
    src->state = s;
    src->next = har_next;
    src->free = har_free;
    s = NULL;
out:
    if (rc == -ENOMEM)
        sq_errf(err, rc, "%s: out of memory", name);
    free(text);
    har_free(s);
    return rc;
}
