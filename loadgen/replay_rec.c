/* replay_rec.c — turning a recorded request into what a worker sends
 * (replay.h): the target's origin form, the headers kept, the clone's user
 * id written wherever the recorded id appeared, and body templates. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen/loadgen.h"
#include "loadgen/replay.h"
#include "loadgen/route.h"
#include "loadgen/rng.h"

/* A growable byte buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

/* Appends s[0..n) to b (sets b->oom on failure). */
static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends a NUL-terminated string. */
static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Writes a random version-4 UUID (36 characters and a NUL) into out. */
static void uuid4(uint64_t rng[2], char out[37])
{
    unsigned char b[16];
    uint64_t a = lg_rng_next(rng), c = lg_rng_next(rng);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static const char *const template_names[] = {"tag", "clone", "uuid", "user"};

/* Index of the template named s[0..n) in template_names, or -1. */
static int template_index(const char *s, size_t n)
{
    for (int i = 0; i < 4; i++)
        if (strlen(template_names[i]) == n && memcmp(template_names[i], s, n) == 0)
            return i;
    return -1;
}

/* Finds the next "${" in s[from..n): *at is where it starts, *len the
 * length of the name up to the next "}" (SIZE_MAX when none follows).
 * Returns 0 when there is none. */
static int next_template(const char *s, size_t n, size_t from, size_t *at, size_t *len)
{
    for (size_t i = from; i + 1 < n; i++) {
        if (s[i] != '$' || s[i + 1] != '{')
            continue;
        const char *close = memchr(s + i + 2, '}', n - i - 2);
        *at = i;
        *len = close ? (size_t)(close - s - i - 2) : SIZE_MAX;
        return 1;
    }
    return 0;
}

/* The template at s + at with name length len (see next_template): its
 * index in template_names, or -1 when unknown or unterminated. */
static int template_at(const char *s, size_t at, size_t len)
{
    return len == SIZE_MAX ? -1 : template_index(s + at + 2, len);
}

/* Expands templates; see replay.h. */
int lg_template_expand(const char *s, size_t n, const char *tag, uint32_t clone, const char *user,
                       uint64_t rng[2], char **out, size_t *out_len)
{
    sbuf b = {0};
    size_t i = 0, at, len;
    sb_put(&b, "", 0);
    while (next_template(s, n, i, &at, &len)) {
        sb_put(&b, s + i, at - i);
        int t = template_at(s, at, len);
        if (t < 0) { /* sent as written, its "$" and the rest */
            sb_put(&b, "$", 1);
            i = at + 1;
            continue;
        }
        char tmp[40];
        switch (t) {
        case 0: sb_str(&b, tag ? tag : ""); break;
        case 1: snprintf(tmp, sizeof tmp, "%u", clone); sb_str(&b, tmp); break;
        case 2: uuid4(rng, tmp); sb_str(&b, tmp); break;
        default: sb_str(&b, user ? user : ""); break;
        }
        i = at + len + 3;
    }
    sb_put(&b, s + i, n - i);
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }
    *out = b.p;
    *out_len = b.len;
    return 0;
}

/* Checks a user-written template; see replay.h. */
int lg_template_check(const char *s, size_t n, sq_err *err)
{
    size_t i = 0, at, len;
    while (next_template(s, n, i, &at, &len)) {
        if (len == SIZE_MAX)
            return sq_errf(err, -EINVAL, "unterminated template '${' at column %zu", at + 1);
        if (template_at(s, at, len) < 0)
            return sq_errf(err, -EINVAL,
                           "unknown template ${%.*s} at column %zu; known: ${tag}, ${clone}, "
                           "${uuid}, ${user}",
                           (int)(len > 40 ? 40 : len), s + at + 2, at + 1);
        i = at + len + 3;
    }
    return 0;
}

/* 1 when s[0..n) holds a known template. */
int lg_template_present(const char *s, size_t n)
{
    size_t i = 0, at, len;
    while (next_template(s, n, i, &at, &len)) {
        if (template_at(s, at, len) >= 0)
            return 1;
        i = at + 1;
    }
    return 0;
}

/* Headers squall sets itself or that belong to the recorded connection. */
static int dropped_header(const char *name, const char *tag_header)
{
    static const char *const drop[] = {"Host", "Content-Length", "Transfer-Encoding",
                                       "Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                       "Trailer", "Upgrade", "Expect", "traceparent",
                                       "tracestate"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return 1;
    return strcasecmp(name, tag_header) == 0;
}

/* 1 when one of the -H lines sets header `name`. */
static int overridden(const lg_rec_ctx *ctx, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < ctx->n_extra; i++)
        if (strncasecmp(ctx->extra_headers[i], name, n) == 0 && ctx->extra_headers[i][n] == ':')
            return 1;
    return 0;
}

/* Appends "name=value" pairs s[0..n) separated by `sep` (query, form body
 * or cookie), each value equal to `user` replaced by `clone_user`; `trim`
 * skips spaces before a name (cookies). */
static void put_pairs(sbuf *b, const char *s, size_t n, char sep, int trim, const char *user,
                      const char *clone_user)
{
    size_t ulen = user ? strlen(user) : 0;
    size_t i = 0;
    while (i <= n) {
        const char *end = memchr(s + i, sep, n - i);
        size_t e = end ? (size_t)(end - s) : n;
        size_t k = i;
        while (trim && k < e && s[k] == ' ')
            k++;
        const char *eq = memchr(s + k, '=', e - k);
        if (user && clone_user && eq && (size_t)(s + e - eq - 1) == ulen &&
            memcmp(eq + 1, user, ulen) == 0) {
            sb_put(b, s + i, (size_t)(eq + 1 - s) - i);
            sb_str(b, clone_user);
        } else {
            sb_put(b, s + i, e - i);
        }
        if (!end)
            break;
        sb_put(b, &sep, 1);
        i = e + 1;
    }
}

/* Appends the origin form of url: an absolute URL's scheme and authority
 * are dropped, the query's user values rewritten. */
static void put_target(sbuf *b, const char *url, const char *user, const char *clone_user)
{
    const char *p = url;
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "://") + 3;
        p += strcspn(p, "/?#");
    }
    size_t n = strcspn(p, "#");
    if (n == 0 || p[0] != '/')
        sb_put(b, "/", 1);
    const char *q = memchr(p, '?', n);
    if (!q) {
        sb_put(b, p, n);
        return;
    }
    sb_put(b, p, (size_t)(q - p) + 1);
    put_pairs(b, q + 1, n - (size_t)(q - p) - 1, '&', 0, user, clone_user);
}

/* Replaces, in place, every JSON string equal to user by clone_user.
 * Returns how many it replaced. */
static int json_rewrite(json_t *v, const char *user, const char *clone_user)
{
    int n = 0;
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), user) == 0 && json_string_set(v, clone_user) == 0)
            n++;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *item;
        json_object_foreach(v, k, item)
            n += json_rewrite(item, user, clone_user);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
            n += json_rewrite(item, user, clone_user);
    }
    return n;
}

/* Appends the body with the user id rewritten: JSON strings equal to it in
 * a JSON body, values equal to it in a form body; anything else as is. */
static void put_body(sbuf *b, const lg_traffic_req *req, const char *content_type,
                     const char *clone_user)
{
    const char *user = req->user;
    size_t i = 0;
    while (i < req->body_len && strchr(" \t\r\n", req->body[i]))
        i++;
    if (clone_user && i < req->body_len && (req->body[i] == '{' || req->body[i] == '[')) {
        json_t *doc = json_loadb(req->body, req->body_len, 0, NULL);
        if (doc && json_rewrite(doc, user, clone_user) > 0) {
            char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref(doc);
            if (!text) {
                b->oom = 1;
                return;
            }
            sb_str(b, text);
            free(text);
            return;
        }
        json_decref(doc);
    } else if (clone_user && content_type &&
               strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
        put_pairs(b, req->body, req->body_len, '&', 0, user, clone_user);
        return;
    }
    sb_put(b, req->body, req->body_len);
}

/* Builds the record of req as clone `clone`; see replay.h. */
int lg_rec_build(const lg_traffic_req *req, const lg_rec_ctx *ctx, uint32_t clone, int64_t at_ns,
                 lg_rec **out)
{
    char *cu = NULL; /* the clone's user id, when it differs from the recorded one */
    if (req->user && ctx->clones > 1 && clone > 0 &&
        asprintf(&cu, "%s-c%u", req->user, clone) < 0) /* any length: never cut short */
        return -ENOMEM;
    sbuf target = {0}, hdrs = {0}, body = {0};
    const char *content_type = NULL;
    int has_user_agent = 0;
    int rc = -ENOMEM;
    put_target(&target, req->url, req->user, cu);
    sb_put(&hdrs, "", 0);
    for (size_t i = 0; i < req->n_headers; i++) {
        const lg_traffic_header *h = &req->headers[i];
        if (dropped_header(h->name, ctx->tag_header) || overridden(ctx, h->name))
            continue;
        if (strcasecmp(h->name, "Content-Type") == 0)
            content_type = h->value;
        has_user_agent |= strcasecmp(h->name, "User-Agent") == 0;
        sb_str(&hdrs, h->name);
        sb_put(&hdrs, ": ", 2);
        if (cu && strcasecmp(h->name, "Cookie") == 0)
            put_pairs(&hdrs, h->value, strlen(h->value), ';', 1, req->user, cu);
        else if (cu && strcmp(h->value, req->user) == 0)
            sb_str(&hdrs, cu);
        else
            sb_str(&hdrs, h->value);
        sb_put(&hdrs, "\r\n", 2);
    }
    for (size_t i = 0; i < ctx->n_extra; i++) {
        sb_str(&hdrs, ctx->extra_headers[i]);
        sb_put(&hdrs, "\r\n", 2);
    }
    has_user_agent |= overridden(ctx, "User-Agent");
    if (req->body && req->body_len) {
        put_body(&body, req, content_type, cu);
        if (!body.oom && lg_template_present(body.p, body.len)) {
            char *x;
            size_t xlen;
            if (lg_template_expand(body.p, body.len, ctx->run_id, clone,
                                   cu ? cu : req->user, ctx->rng, &x, &xlen))
                goto out;
            free(body.p);
            body.p = x;
            body.len = xlen;
        }
    }
    if (target.oom || hdrs.oom || body.oom)
        goto out;
    size_t mlen = strlen(req->method);
    char key[LG_ROUTE_KEY_MAX];
    size_t klen = strlen(lg_route_key(req->method, target.p, key, sizeof key));
    size_t size = sizeof(lg_rec) + mlen + 1 + target.len + 1 + hdrs.len + 1 + body.len + 1 +
                  klen + 1;
    lg_rec *r = malloc(size);
    if (!r)
        goto out;
    r->size = size;
    char *p = r->data;
    r->at_ns = at_ns;
    r->clone = clone;
    r->method = memcpy(p, req->method, mlen + 1);
    p += mlen + 1;
    r->target = memcpy(p, target.p, target.len + 1);
    p += target.len + 1;
    r->headers = memcpy(p, hdrs.p, hdrs.len + 1);
    r->headers_len = hdrs.len;
    p += hdrs.len + 1;
    r->body = NULL;
    r->body_len = body.len;
    if (body.p) {
        memcpy(p, body.p, body.len);
        p[body.len] = '\0';
        r->body = p;
    }
    p += body.len + 1;
    r->route_key = memcpy(p, key, klen + 1);
    r->has_host = (unsigned char)overridden(ctx, "Host");
    r->has_user_agent = (unsigned char)has_user_agent;
    *out = r;
    rc = 0;
out:
    free(target.p);
    free(hdrs.p);
    free(body.p);
    free(cu);
    return rc;
}
