/* cleanup_template.c — cleanup request templates: "METHOD URL-TEMPLATE"
 * with {location}, {id} and {tag}, parsed once (errors with a column) and
 * expanded per ledger entry into an absolute URL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen/cleanup_int.h"

/* A placeholder name and its LG_TPL_* bit. */
static const struct {
    const char *name;
    unsigned bit;
} placeholders[] = {
    {"location", LG_TPL_LOCATION},
    {"id", LG_TPL_ID},
    {"tag", LG_TPL_TAG},
};

/* Returns the bit of placeholder name[0..len), or 0 when unknown. */
static unsigned placeholder_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof placeholders / sizeof placeholders[0]; i++)
        if (strlen(placeholders[i].name) == len && memcmp(placeholders[i].name, name, len) == 0)
            return placeholders[i].bit;
    return 0;
}

/* True when s starts with an http:// or https:// scheme (any case); the
 * length of "scheme://" goes to *skip. */
static int has_http_scheme(const char *s, size_t *skip)
{
    if (strncasecmp(s, "http://", 7) == 0) {
        *skip = 7;
        return 1;
    }
    if (strncasecmp(s, "https://", 8) == 0) {
        *skip = 8;
        return 1;
    }
    return 0;
}

/* Checks the URL template url (starting at column col of the spec) and
 * notes its placeholders in tpl->uses. Returns 0 or -EINVAL with the
 * column of the first problem. */
static int check_url(const char *url, size_t col, lg_tpl *tpl, sq_err *err)
{
    size_t skip;
    if (!*url)
        return sq_errf(err, -EINVAL, "column %zu: the URL is missing (expected 'METHOD URL', "
                                     "e.g. 'DELETE {location}')",
                       col);
    tpl->relative = url[0] == '/';
    if (!tpl->relative && !has_http_scheme(url, &skip) && strncmp(url, "{location}", 10) != 0)
        return sq_errf(err, -EINVAL, "column %zu: the URL must start with '/', http://, "
                                     "https:// or {location}",
                       col);
    for (size_t i = 0; url[i]; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c == 0x7f)
            return sq_errf(err, -EINVAL, "column %zu: %s in the URL; percent-encode it",
                           col + i, c == ' ' ? "a space" : "a control character");
        if (c != '{')
            continue;
        const char *close = strchr(url + i + 1, '}');
        const char *open = strchr(url + i + 1, '{');
        if (!close || (open && open < close))
            return sq_errf(err, -EINVAL, "column %zu: '{' without a closing '}' (placeholders "
                                         "are {location}, {id} and {tag})",
                           col + i);
        size_t len = (size_t)(close - (url + i + 1));
        unsigned bit = placeholder_bit(url + i + 1, len);
        if (!bit)
            return sq_errf(err, -EINVAL, "column %zu: unknown placeholder {%.*s} (expected "
                                         "{location}, {id} or {tag})",
                           col + i, (int)(len > 40 ? 40 : len), url + i + 1);
        tpl->uses |= bit;
        i += len + 1;
    }
    return 0;
}

/* Parses "METHOD URL-TEMPLATE" (see cleanup_int.h); tpl owns a copy of
 * the URL afterwards. */
int lg_tpl_parse(const char *spec, lg_tpl *tpl, sq_err *err)
{
    size_t i = 0, m;
    int rc;
    memset(tpl, 0, sizeof *tpl);
    if (!spec)
        spec = "";
    while (spec[i] == ' ')
        i++;
    m = i;
    while (spec[i] && spec[i] != ' ') {
        char c = spec[i];
        if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) {
            if (i == m && (c == '/' || c == '{' || c == 'h'))
                return sq_errf(err, -EINVAL, "column %zu: the method is missing (expected "
                                             "'METHOD URL', e.g. 'DELETE {location}')",
                               i + 1);
            if (c >= 'a' && c <= 'z')
                return sq_errf(err, -EINVAL, "column %zu: the method must be upper case "
                                             "(e.g. DELETE)",
                               i + 1);
            return sq_errf(err, -EINVAL, "column %zu: '%c' cannot be part of an HTTP method",
                           i + 1, c >= ' ' && c < 0x7f ? c : '?');
        }
        i++;
    }
    if (i == m)
        return sq_errf(err, -EINVAL, "column %zu: expected 'METHOD URL', e.g. "
                                     "'DELETE {location}'",
                       i + 1);
    if (i - m >= sizeof tpl->method)
        return sq_errf(err, -EINVAL, "column %zu: the method is longer than %zu characters",
                       m + 1, sizeof tpl->method - 1);
    memcpy(tpl->method, spec + m, i - m);
    tpl->method[i - m] = '\0';
    while (spec[i] == ' ')
        i++;
    size_t end = strlen(spec);
    while (end > i && spec[end - 1] == ' ')
        end--;
    tpl->url = strndup(spec + i, end - i);
    if (!tpl->url)
        return sq_errf(err, -ENOMEM, "out of memory");
    if ((rc = check_url(tpl->url, i + 1, tpl, err)) < 0) {
        lg_tpl_free(tpl);
        return rc;
    }
    return 0;
}

/* Frees the URL copy tpl owns. */
void lg_tpl_free(lg_tpl *tpl)
{
    free(tpl->url);
    tpl->url = NULL;
}

/* Writes s to f percent-encoded (every byte but A-Z a-z 0-9 - . _ ~). */
static void put_encoded(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

/* Writes tpl's URL with its placeholders replaced to f. Returns 0, or
 * -ENOENT when a value is missing (err says which). */
static int expand_into(FILE *f, const lg_tpl *tpl, const lg_tpl_vars *v, sq_err *err)
{
    const char *u = tpl->url;
    for (;;) {
        const char *brace = strchr(u, '{');
        if (!brace) {
            fputs(u, f);
            return 0;
        }
        fwrite(u, 1, (size_t)(brace - u), f);
        const char *close = strchr(brace, '}'); /* there is one: lg_tpl_parse checked */
        unsigned bit = placeholder_bit(brace + 1, (size_t)(close - brace - 1));
        if (bit == LG_TPL_LOCATION) {
            if (!v->location || !*v->location)
                return sq_errf(err, -ENOENT, "no location recorded for this entry");
            fputs(v->location, f);
        } else if (bit == LG_TPL_ID) {
            if (!v->id || !*v->id)
                return sq_errf(err, -ENOENT, "no id recorded for this entry");
            put_encoded(f, v->id);
        } else {
            if (!v->tag || !*v->tag)
                return sq_errf(err, -ENOENT, "no run tag to put in {tag}");
            put_encoded(f, v->tag);
        }
        u = close + 1;
    }
}

/* Expands tpl with v into a new absolute URL owned by the caller. */
int lg_tpl_expand(const lg_tpl *tpl, const lg_tpl_vars *v, char **out, sq_err *err)
{
    char *s = NULL, *abs = NULL;
    size_t len = 0, skip;
    int rc;
    *out = NULL;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return sq_errf(err, -ENOMEM, "out of memory");
    rc = expand_into(f, tpl, v, err);
    if (fclose(f) != 0 && rc == 0)
        rc = sq_errf(err, -ENOMEM, "out of memory");
    if (rc < 0)
        goto out;
    if (s[0] == '/') {
        if (!v->base || !*v->base) {
            rc = sq_errf(err, -ENOENT, "the URL '%.200s' is relative and run.json has no "
                                       "target to resolve it against",
                         s);
            goto out;
        }
        if (asprintf(&abs, "%s%s", v->base, s) < 0) {
            rc = sq_errf(err, -ENOMEM, "out of memory");
            goto out;
        }
        free(s);
        s = abs;
        len = strlen(s);
    }
    if (!has_http_scheme(s, &skip) || !s[skip]) {
        rc = sq_errf(err, -EINVAL, "'%.200s' is not an http:// or https:// URL", s);
        goto out;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
            rc = sq_errf(err, -EINVAL, "the URL '%.200s' contains a space or a control "
                                       "character",
                         s);
            goto out;
        }
    *out = s;
    return 0;
out:
    free(s);
    return rc;
}

/* Writes "scheme://authority" of an http(s) URL into buf (see
 * cleanup_int.h). */
int lg_url_base(const char *url, char *buf, size_t len, sq_err *err)
{
    size_t skip;
    if (!url || !has_http_scheme(url, &skip))
        return sq_errf(err, -EINVAL, "'%.200s' is not an http:// or https:// URL",
                       url ? url : "");
    size_t host = strcspn(url + skip, "/?#");
    if (host == 0)
        return sq_errf(err, -EINVAL, "'%.200s' has no host", url);
    if (skip + host + 1 > len)
        return sq_errf(err, -EINVAL, "'%.200s': the host is too long", url);
    for (size_t i = 0; i < skip + host; i++) {
        char c = url[i];
        buf[i] = i < skip && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    buf[skip + host] = '\0';
    return 0;
}
