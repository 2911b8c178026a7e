/* ledger.c — the "created" lines of ledger.jsonl (ledger.h). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen/ledger.h"
#include "loadgen/traffic.h"

/* Parses a --ledger value; see ledger.h. */
int lg_ledger_spec_parse(const char *s, lg_ledger_spec *spec, sq_err *err)
{
    memset(spec, 0, sizeof *spec);
    const char *name = NULL;
    if (strcmp(s, "location") == 0) {
        spec->kind = LG_LEDGER_LOCATION;
        return 0;
    }
    if (strcmp(s, "off") == 0) {
        spec->kind = LG_LEDGER_OFF;
        return 0;
    }
    if (strncmp(s, "json:", 5) == 0) {
        spec->kind = LG_LEDGER_JSON;
        name = s + 5;
        if (name[0] != '/')
            return sq_errf(err, -EINVAL, "'%s': a JSON pointer starts with '/', e.g. json:/id", s);
    } else if (strncmp(s, "header:", 7) == 0) {
        spec->kind = LG_LEDGER_HEADER;
        name = s + 7;
        if (!*name || strpbrk(name, " \t:\r\n"))
            return sq_errf(err, -EINVAL, "'%s': expected header:NAME, e.g. header:X-Object-Id", s);
    } else {
        return sq_errf(err, -EINVAL,
                       "'%s' is not a ledger source (expected location, json:/pointer, "
                       "header:NAME or off)",
                       s);
    }
    if (strlen(name) >= sizeof spec->name)
        return sq_errf(err, -EINVAL, "'%s': the name is longer than %zu characters", s,
                       sizeof spec->name - 1);
    snprintf(spec->name, sizeof spec->name, "%s", name);
    return 0;
}

/* The spec as text; see ledger.h. */
const char *lg_ledger_spec_text(const lg_ledger_spec *spec, char *buf, size_t len)
{
    switch (spec->kind) {
    case LG_LEDGER_JSON: snprintf(buf, len, "json:%s", spec->name); break;
    case LG_LEDGER_HEADER: snprintf(buf, len, "header:%s", spec->name); break;
    case LG_LEDGER_OFF: snprintf(buf, len, "off"); break;
    default: snprintf(buf, len, "location"); break;
    }
    return buf;
}

/* 1 for POST, PUT and PATCH. */
int lg_ledger_is_write(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* The header to capture; see ledger.h. */
const char *lg_ledger_capture_header(const lg_ledger_spec *spec)
{
    if (spec->kind == LG_LEDGER_LOCATION)
        return "Location";
    if (spec->kind == LG_LEDGER_HEADER)
        return spec->name;
    return NULL;
}

/* Resolves a Location value against the request URL. Returns a new string
 * (curl_free) or NULL when it cannot be resolved. */
static char *resolve_location(const char *url, const char *loc)
{
    char *out = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_URL, &out, 0);
    curl_url_cleanup(u);
    return out;
}

/* Percent-decodes s in place (the id is stored decoded: cleanup encodes it
 * again for {id}); a sequence that would decode to NUL is kept as is. */
static void percent_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = lg_hexval(p[1])) >= 0 && (lo = lg_hexval(p[2])) >= 0 && (hi || lo)) {
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* The last non-empty path segment of an absolute URL, percent-decoded, as a
 * new string (free), or NULL. */
static char *last_segment(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    size_t end = strcspn(p, "?#");
    while (end > 0 && p[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && p[start - 1] != '/')
        start--;
    char *seg = end > start ? strndup(p + start, end - start) : NULL;
    if (seg)
        percent_decode(seg);
    return seg;
}

/* The object's id from a JSON body, as a new string (free), or NULL with
 * *why set. */
static char *id_from_json(const char *ptr, const lg_h1_capture *c, const char **why)
{
    json_error_t jerr;
    json_t *doc = c->body && c->body_len ? json_loadb(c->body, c->body_len, 0, &jerr) : NULL;
    if (!doc) {
        *why = c->body_len >= c->body_cap && c->body_cap ? "the response body is larger than 64 KiB"
                                                         : "the response body is not JSON";
        return NULL;
    }
    json_t *v = lg_json_pointer(doc, ptr);
    char *id = lg_json_id_text(v);
    if (!id)
        *why = v ? "the JSON pointer names neither a string nor an integer"
                 : "the JSON pointer names nothing in the response body";
    json_decref(doc);
    return id;
}

/* Builds the created line; see ledger.h. */
int lg_ledger_line(const lg_ledger_spec *spec, const lg_ledger_item *item, const lg_h1_capture *c,
                   char **line)
{
    char *location = NULL, *id = NULL;
    const char *why = NULL;
    *line = NULL;
    int created = item->status == 201;
    if (!created && !(strcmp(item->method, "POST") == 0 && item->status >= 200 && item->status < 300))
        return 0; /* an update (PUT/PATCH 200, 204) or anything else: nothing was created */
    if (c->found && c->truncated) {
        why = "the response's header is longer than 4 KiB";
    } else if (spec->kind == LG_LEDGER_LOCATION ||
               (c->found && strcasecmp(c->header, "Location") == 0)) {
        if (c->found && c->value_len)
            location = resolve_location(item->url, c->value);
        else if (created && strcmp(item->method, "PUT") == 0)
            location = resolve_location(item->url, item->url); /* PUT created its own URL */
    }
    if (why) {
        /* nothing more can be trusted */
    } else if (spec->kind == LG_LEDGER_LOCATION) {
        if (location)
            id = last_segment(location);
        else
            why = "the response had no Location header";
    } else if (spec->kind == LG_LEDGER_HEADER) {
        if (c->found && c->value_len)
            id = strdup(c->value);
        else
            why = "the response lacked the ledger's header";
    } else {
        id = id_from_json(spec->name, c, &why);
    }
    if (!created && !id && !(c->found && c->truncated)) {
        /* a POST answered 200 with nothing to identify: a read (a search, ...) */
        curl_free(location);
        return 0;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:I, s:o, s:o, s:I}", "type", "created",
                          "entry", item->entry, "run_id", item->run_id, "clone",
                          (json_int_t)item->clone, "method", item->method, "url",
                          sq_json_text(item->url), "status", (json_int_t)item->status, "location",
                          location ? sq_json_text(location) : json_null(), "id",
                          id ? sq_json_text(id) : json_null(), "utc_ns", (json_int_t)sq_utc_ns());
    if (o && why)
        json_object_set_new(o, "missing", json_string(why));
    if (o && item->cut)
        json_object_set_new(o, "note", json_string("the response was cut short after its headers"));
    *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    curl_free(location);
    free(id);
    return *line ? 0 : -ENOMEM;
}
