/* traffic_reader.c — the format-independent part of the traffic readers:
 * opening (with detection), the request builder, user-key extraction, the
 * bounded reorder window (a min-heap on timestamp, then file order), bad
 * record counting, and small shared decoders (RFC 3339, base64). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "loadgen/traffic.h"

#define DETECT_BYTES 65536

/* One request held in the reorder window: a single allocation holding the
 * request, its header array and its strings. */
typedef struct titem {
    lg_traffic_req req;
    uint64_t seq;
    lg_traffic_header hdrs[];
} titem;

struct lg_traffic {
    char *name;
    FILE *f;
    enum lg_traffic_format format;
    lg_traffic_opts opts;
    lg_tsrc src;
    lg_tbuild b;
    titem **heap;
    size_t n_heap, cap_heap;
    titem *cur;           /* returned last; freed on the next call */
    int src_done;
    uint64_t seq;
    int64_t newest_ts;    /* newest timestamp read so far */
    int64_t released_ts;  /* timestamp of the last request returned */
    int released_any;
    uint64_t skipped, skipped_late;
};

static const char *const format_names[] = {"auto", "jsonl", "combined", "common", "gor", "har"};

/* The format's name. Static. */
const char *lg_traffic_format_name(enum lg_traffic_format f)
{
    if ((unsigned)f >= sizeof format_names / sizeof format_names[0])
        return "?";
    return format_names[f];
}

/* Parses a --format value ("auto", "jsonl", "combined", "common", "gor",
 * "har"). Returns 0 or -EINVAL with a message. */
int lg_traffic_format_parse(const char *s, enum lg_traffic_format *f, sq_err *err)
{
    for (unsigned i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(s, format_names[i]) == 0) {
            *f = (enum lg_traffic_format)i;
            return 0;
        }
    if (strcmp(s, "ndjson") == 0 || strcmp(s, "json") == 0) {
        *f = LG_TRAFFIC_JSONL;
        return 0;
    }
    return sq_errf(err, -EINVAL,
                   "'%s' is not a traffic format (expected auto, jsonl, combined, common, gor or har)",
                   s);
}

/* Parses "header:X", "query:x", "cookie:x" or "json:/ptr" into key.
 * Returns 0 or -EINVAL with a message. */
int lg_user_key_parse(const char *s, lg_user_key *key, sq_err *err)
{
    static const struct {
        const char *prefix;
        enum lg_user_key_kind kind;
    } kinds[] = {{"header:", LG_USER_KEY_HEADER},
                 {"query:", LG_USER_KEY_QUERY},
                 {"cookie:", LG_USER_KEY_COOKIE},
                 {"json:", LG_USER_KEY_JSON}};
    memset(key, 0, sizeof *key);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t pl = strlen(kinds[i].prefix);
        if (strncmp(s, kinds[i].prefix, pl) != 0)
            continue;
        const char *name = s + pl;
        size_t n = strlen(name);
        if (n == 0 || n >= sizeof key->name)
            return sq_errf(err, -EINVAL, "user key '%s': the name after '%s' must be 1..%zu characters",
                           s, kinds[i].prefix, sizeof key->name - 1);
        if (kinds[i].kind == LG_USER_KEY_JSON && name[0] != '/')
            return sq_errf(err, -EINVAL,
                           "user key '%s': expected a JSON pointer starting with '/', e.g. json:/user/id", s);
        key->kind = kinds[i].kind;
        memcpy(key->name, name, n + 1);
        return 0;
    }
    return sq_errf(err, -EINVAL,
                   "user key '%s': expected header:NAME, query:NAME, cookie:NAME or json:/pointer", s);
}

/* Fills opts with the defaults: no user key, stop at the first bad record,
 * 10 s / 100000-request reorder window. */
void lg_traffic_opts_init(lg_traffic_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->window_ns = LG_TRAFFIC_WINDOW_NS;
    opts->window_max = LG_TRAFFIC_WINDOW_MAX;
}

/* ---- the request builder ------------------------------------------------ */

/* Empties b for the next request (keeps its memory). */
void lg_tbuild_reset(lg_tbuild *b)
{
    b->len = 0;
    b->n_hdr = 0;
    b->has_body = b->has_user = 0;
    b->body_len = 0;
    b->method = b->url = b->body = b->user = 0;
    b->ts_ns = 0;
    b->line = 0;
}

/* Appends s[0..n) and a NUL to the arena; *off gets its offset. */
int lg_tbuild_str(lg_tbuild *b, const char *s, size_t n, size_t *off)
{
    if (b->cap - b->len < n + 1) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap - b->len < n + 1) {
            if (ncap > SIZE_MAX / 2)
                return -ENOMEM;
            ncap *= 2;
        }
        char *nb = realloc(b->buf, ncap);
        if (!nb)
            return -ENOMEM;
        b->buf = nb;
        b->cap = ncap;
    }
    if (n)
        memcpy(b->buf + b->len, s, n);
    b->buf[b->len + n] = '\0';
    *off = b->len;
    b->len += n + 1;
    return 0;
}

/* Adds a header; copies name and value. Returns 0 or -ENOMEM. */
int lg_tbuild_header(lg_tbuild *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (b->n_hdr + 2 > b->cap_hdr) {
        size_t ncap = b->cap_hdr ? b->cap_hdr * 2 : 32;
        size_t *nh = realloc(b->hdr, ncap * sizeof *nh);
        if (!nh)
            return -ENOMEM;
        b->hdr = nh;
        b->cap_hdr = ncap;
    }
    size_t no, vo;
    if (lg_tbuild_str(b, name, nlen, &no) || lg_tbuild_str(b, value, vlen, &vo))
        return -ENOMEM;
    b->hdr[b->n_hdr++] = no;
    b->hdr[b->n_hdr++] = vo;
    return 0;
}

/* Sets the method (copied). */
int lg_tbuild_method(lg_tbuild *b, const char *s, size_t n)
{
    return lg_tbuild_str(b, s, n, &b->method);
}

/* Sets the URL (copied). */
int lg_tbuild_url(lg_tbuild *b, const char *s, size_t n)
{
    return lg_tbuild_str(b, s, n, &b->url);
}

/* Sets the body (copied, may hold NULs). */
int lg_tbuild_body(lg_tbuild *b, const char *s, size_t n)
{
    b->has_body = 1;
    b->body_len = n;
    return lg_tbuild_str(b, s, n, &b->body);
}

/* Sets the user id (copied). */
int lg_tbuild_user(lg_tbuild *b, const char *s, size_t n)
{
    b->has_user = 1;
    return lg_tbuild_str(b, s, n, &b->user);
}

/* The first header called name (case-insensitive), or NULL; points into
 * the arena. */
const char *lg_tbuild_get_header(const lg_tbuild *b, const char *name)
{
    for (size_t i = 0; i + 1 < b->n_hdr; i += 2)
        if (strcasecmp(b->buf + b->hdr[i], name) == 0)
            return b->buf + b->hdr[i + 1];
    return NULL;
}

/* Frees b's memory. */
void lg_tbuild_free(lg_tbuild *b)
{
    free(b->buf);
    free(b->hdr);
    memset(b, 0, sizeof *b);
}

/* Checks a URL for replay; see traffic.h. */
const char *lg_traffic_check_url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return "contains a space or a control character (percent-encode it)";
    return NULL;
}

/* Checks a header for replay; see traffic.h. */
const char *lg_traffic_check_header(const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (nlen == 0)
        return "empty header name";
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f || name[i] == ':')
            return "header name with a space, ':' or a control character";
    for (size_t i = 0; i < vlen; i++)
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
            return "header value with CR, LF or NUL";
    return NULL;
}

/* Packs b into one new allocation (caller frees it with free()). */
static titem *pack(const lg_tbuild *b, uint64_t seq)
{
    size_t nh = b->n_hdr / 2;
    size_t head = sizeof(titem) + nh * sizeof(lg_traffic_header);
    titem *it = malloc(head + b->len + 1);
    if (!it)
        return NULL;
    char *arena = (char *)it + head;
    if (b->len)
        memcpy(arena, b->buf, b->len);
    arena[b->len] = '\0';
    static const char empty[] = "";
    memset(&it->req, 0, sizeof it->req);
    it->seq = seq;
    it->req.ts_ns = b->ts_ns;
    it->req.line = b->line;
    it->req.method = b->len ? arena + b->method : empty;
    it->req.url = b->len ? arena + b->url : empty;
    it->req.body = b->has_body ? arena + b->body : empty;
    it->req.body_len = b->has_body ? b->body_len : 0;
    it->req.user = b->has_user ? arena + b->user : NULL;
    for (size_t i = 0; i < nh; i++) {
        it->hdrs[i].name = arena + b->hdr[2 * i];
        it->hdrs[i].value = arena + b->hdr[2 * i + 1];
    }
    it->req.headers = it->hdrs;
    it->req.n_headers = nh;
    return it;
}

/* ---- user keys ---------------------------------------------------------- */

/* Finds the value of name in a "k=v<sep>k=v" list s (spaces after sep
 * skipped); sets *v, *vn. Returns 1 when found. */
static int find_pair(const char *s, size_t n, char sep, const char *name, const char **v,
                     size_t *vn)
{
    size_t nl = strlen(name), i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t j = i;
        while (j < n && s[j] != sep)
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        size_t kn = eq ? (size_t)(eq - (s + i)) : j - i;
        if (kn == nl && memcmp(s + i, name, nl) == 0) {
            *v = eq ? eq + 1 : s + j;
            *vn = eq ? (size_t)(s + j - (eq + 1)) : 0;
            return 1;
        }
        i = j + 1;
    }
    return 0;
}

/* Follows an RFC 6901 pointer; see traffic.h. */
json_t *lg_json_pointer(json_t *doc, const char *ptr)
{
    json_t *cur = doc;
    char seg[256];
    while (cur && *ptr == '/') {
        ptr++;
        size_t sn = 0;
        while (*ptr && *ptr != '/' && sn + 1 < sizeof seg) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                seg[sn++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                seg[sn++] = *ptr++;
            }
        }
        seg[sn] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(seg, &end, 10);
            cur = (sn && *end == '\0' && isdigit((unsigned char)seg[0])) ? json_array_get(cur, idx)
                                                                        : NULL;
        } else {
            cur = NULL;
        }
    }
    return cur;
}

/* An id's text; see traffic.h. */
char *lg_json_id_text(const json_t *v)
{
    char *s = NULL;
    if (json_is_string(v))
        s = strndup(json_string_value(v), json_string_length(v));
    else if (json_is_integer(v) && asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
        s = NULL;
    return s;
}

/* Extracts the user id named by key from b and stores it with
 * lg_tbuild_user; leaves b without a user when absent. Returns 0 or
 * -ENOMEM. */
static int extract_user(lg_tbuild *b, const lg_user_key *key)
{
    const char *v = NULL;
    size_t vn = 0;
    char *tmp = NULL;
    int rc = 0;
    b->has_user = 0;
    switch (key->kind) {
    case LG_USER_KEY_NONE:
        return 0;
    case LG_USER_KEY_HEADER:
        v = lg_tbuild_get_header(b, key->name);
        if (v)
            vn = strlen(v);
        break;
    case LG_USER_KEY_QUERY: {
        const char *url = b->buf + b->url;
        const char *q = strchr(url, '?');
        if (q) {
            size_t qn = strcspn(q + 1, "#");
            if (!find_pair(q + 1, qn, '&', key->name, &v, &vn))
                v = NULL;
        }
        break;
    }
    case LG_USER_KEY_COOKIE:
        for (size_t i = 0; i + 1 < b->n_hdr && !v; i += 2)
            if (strcasecmp(b->buf + b->hdr[i], "Cookie") == 0) {
                const char *c = b->buf + b->hdr[i + 1];
                if (!find_pair(c, strlen(c), ';', key->name, &v, &vn))
                    v = NULL;
            }
        break;
    case LG_USER_KEY_JSON: {
        if (!b->has_body || b->body_len == 0)
            break;
        json_t *doc = json_loadb(b->buf + b->body, b->body_len, JSON_DECODE_ANY, NULL);
        json_t *cur = lg_json_pointer(doc, key->name);
        int is_id = json_is_string(cur) || json_is_integer(cur);
        tmp = lg_json_id_text(cur);
        json_decref(doc);
        if (is_id && !tmp)
            return -ENOMEM;
        if (tmp) {
            v = tmp;
            vn = strlen(tmp);
        }
        break;
    }
    }
    if (v) {
        /* v may point into the arena, which the append can move */
        char *copy = tmp ? NULL : strndup(v, vn);
        if (!tmp && !copy)
            return -ENOMEM;
        rc = lg_tbuild_user(b, tmp ? tmp : copy, vn);
        free(copy);
    }
    free(tmp);
    return rc;
}

/* ---- the reorder window (min-heap on (ts, seq)) ------------------------- */

/* 1 when a sorts before b. */
static int item_less(const titem *a, const titem *b)
{
    return a->req.ts_ns < b->req.ts_ns || (a->req.ts_ns == b->req.ts_ns && a->seq < b->seq);
}

/* Pushes it onto t's heap. Returns 0 or -ENOMEM (it not taken). */
static int heap_push(lg_traffic *t, titem *it)
{
    if (t->n_heap == t->cap_heap) {
        size_t ncap = t->cap_heap ? t->cap_heap * 2 : 256;
        titem **nh = realloc(t->heap, ncap * sizeof *nh);
        if (!nh)
            return -ENOMEM;
        t->heap = nh;
        t->cap_heap = ncap;
    }
    size_t i = t->n_heap++;
    t->heap[i] = it;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(t->heap[i], t->heap[p]))
            break;
        titem *x = t->heap[p];
        t->heap[p] = t->heap[i];
        t->heap[i] = x;
        i = p;
    }
    return 0;
}

/* Removes and returns the earliest item (the heap must not be empty). */
static titem *heap_pop(lg_traffic *t)
{
    titem *top = t->heap[0];
    t->heap[0] = t->heap[--t->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n_heap && item_less(t->heap[l], t->heap[m]))
            m = l;
        if (r < t->n_heap && item_less(t->heap[r], t->heap[m]))
            m = r;
        if (m == i)
            break;
        titem *x = t->heap[m];
        t->heap[m] = t->heap[i];
        t->heap[i] = x;
        i = m;
    }
    return top;
}

/* ---- open / next / close ------------------------------------------------ */

/* Replaces control characters in err's message (input quoted in it, a
 * parser's "near" text) with '?', so that it stays one printable line.
 * Returns code. */
static int clean_msg(sq_err *err, int code)
{
    if (err)
        for (char *p = err->msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    return code;
}

/* Sets up a reader over f (owned from now on, may be NULL for empty input),
 * detecting the format from its first bytes when asked. */
static int open_file(FILE *f, const char *name, enum lg_traffic_format format,
                     const lg_traffic_opts *opts, lg_traffic **out, sq_err *err)
{
    int rc = 0;
    char *head = NULL;
    lg_traffic *t = calloc(1, sizeof *t);
    if (!t) {
        rc = -ENOMEM;
        goto fail;
    }
    t->f = f;
    t->name = strdup(name);
    if (!t->name) {
        rc = -ENOMEM;
        goto fail;
    }
    if (opts)
        t->opts = *opts;
    else
        lg_traffic_opts_init(&t->opts);
    if (t->opts.window_ns <= 0)
        t->opts.window_ns = LG_TRAFFIC_WINDOW_NS;
    if (t->opts.window_max == 0)
        t->opts.window_max = LG_TRAFFIC_WINDOW_MAX;
    if (format == LG_TRAFFIC_AUTO) {
        size_t n = 0;
        head = malloc(DETECT_BYTES + 1);
        if (!head) {
            rc = -ENOMEM;
            goto fail;
        }
        if (f) {
            n = fread(head, 1, DETECT_BYTES, f);
            if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
                rc = sq_errf(err, -EIO, "%s: cannot read the start of the file to detect its format "
                                        "(give --format)", name);
                goto out_free;
            }
        }
        head[n] = '\0';
        format = lg_traffic_detect(head, n, name);
        if (format == LG_TRAFFIC_AUTO) {
            rc = sq_errf(err, -EINVAL,
                         "%s: cannot tell the traffic format (expected squall JSON Lines, a combined "
                         "or common access log, a GoReplay .gor file or a HAR file); give --format",
                         name);
            goto out_free;
        }
    }
    t->format = format;
    switch (format) {
    case LG_TRAFFIC_JSONL:
        rc = lg_tsrc_jsonl(f, &t->src, err);
        break;
    case LG_TRAFFIC_COMBINED:
    case LG_TRAFFIC_COMMON:
        rc = lg_tsrc_clf(f, format == LG_TRAFFIC_COMBINED, &t->src, err);
        break;
    case LG_TRAFFIC_GOR:
        rc = lg_tsrc_gor(f, &t->src, err);
        break;
    case LG_TRAFFIC_HAR:
        rc = lg_tsrc_har(f, name, &t->src, err);
        break;
    default:
        rc = sq_errf(err, -EINVAL, "%s: unknown traffic format", name);
        break;
    }
    if (rc)
        goto fail;
    free(head);
    *out = t;
    return 0;
fail:
    if (rc == -ENOMEM)
        sq_errf(err, rc, "%s: out of memory", name);
out_free:
    clean_msg(err, rc);
    free(head);
    if (t) {
        t->f = NULL;
        free(t->name);
        free(t);
    }
    if (f)
        fclose(f);
    return rc;
}

/* Opens path and detects or uses format. See traffic.h. */
int lg_traffic_open(const char *path, enum lg_traffic_format format, const lg_traffic_opts *opts,
                    lg_traffic **out, sq_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return sq_errf(err, -e, "%s: cannot open: %s", path, strerror(e));
    }
    return open_file(f, path, format, opts, out, err);
}

/* Opens a reader over memory (fmemopen; empty data = empty input). */
int lg_traffic_open_mem(const void *data, size_t len, const char *name,
                        enum lg_traffic_format format, const lg_traffic_opts *opts,
                        lg_traffic **out, sq_err *err)
{
    FILE *f = NULL;
    if (len > 0) {
        f = fmemopen((void *)data, len, "rb");
        if (!f) {
            int e = errno;
            return sq_errf(err, -e, "%s: cannot open: %s", name, strerror(e));
        }
    }
    return open_file(f, name, format, opts, out, err);
}

/* Reads one record from the format into the heap. Returns 1 (pushed),
 * 0 (end of input), -EBADMSG (bad record, message in err) or fatal. */
static int pull(lg_traffic *t, sq_err *err)
{
    lg_tbuild_reset(&t->b);
    int rc = t->src.next(t->src.state, &t->b, err);
    if (rc == -EBADMSG)
        return clean_msg(err, sq_err_prefix(err, rc, "%s:%llu: ", t->name,
                                            (unsigned long long)t->b.line));
    if (rc == -ENOMEM)
        return sq_errf(err, rc, "%s:%llu: out of memory", t->name, (unsigned long long)t->b.line);
    if (rc < 0)
        return clean_msg(err, sq_err_prefix(err, rc, "%s: ", t->name));
    if (rc == 0)
        return 0;
    if (t->opts.user_key.kind != LG_USER_KEY_NONE && extract_user(&t->b, &t->opts.user_key))
        return sq_errf(err, -ENOMEM, "%s: out of memory", t->name);
    if (t->released_any && t->b.ts_ns < t->released_ts) {
        char a[40], b[40], w[32];
        sq_utc_format(t->b.ts_ns, a, sizeof a);
        sq_utc_format(t->released_ts, b, sizeof b);
        sq_format_duration(t->opts.window_ns, w, sizeof w);
        t->skipped_late += t->opts.skip_bad ? 1 : 0;
        return sq_errf(err, -EBADMSG,
                       "%s:%llu: timestamp %s is earlier than %s, a request already released: out "
                       "of order by more than the reorder window (%s or %zu requests)",
                       t->name, (unsigned long long)t->b.line, a, b, w, t->opts.window_max);
    }
    titem *it = pack(&t->b, t->seq++);
    if (!it || heap_push(t, it)) {
        free(it);
        return sq_errf(err, -ENOMEM, "%s: out of memory", t->name);
    }
    if (t->seq == 1 || t->b.ts_ns > t->newest_ts)
        t->newest_ts = t->b.ts_ns;
    return 1;
}

/* Yields the next request in timestamp order. See traffic.h. */
int lg_traffic_next(lg_traffic *t, lg_traffic_req *req, sq_err *err)
{
    free(t->cur);
    t->cur = NULL;
    /* read until the earliest held request can no longer be overtaken */
    while (!t->src_done) {
        if (t->n_heap > 0 && (t->n_heap > t->opts.window_max ||
                              t->heap[0]->req.ts_ns < t->newest_ts - t->opts.window_ns))
            break;
        int rc = pull(t, err);
        if (rc == 0) {
            t->src_done = 1;
        } else if (rc == -EBADMSG && t->opts.skip_bad) {
            t->skipped++;
        } else if (rc < 0) {
            return rc;
        }
    }
    if (t->n_heap == 0)
        return 0;
    t->cur = heap_pop(t);
    t->released_ts = t->cur->req.ts_ns;
    t->released_any = 1;
    *req = t->cur->req;
    return 1;
}

/* The format being read. */
enum lg_traffic_format lg_traffic_format_of(const lg_traffic *t)
{
    return t->format;
}

/* Bad records skipped so far. */
uint64_t lg_traffic_skipped(const lg_traffic *t)
{
    return t->skipped;
}

/* Records skipped for being older than the reorder window allows. */
uint64_t lg_traffic_skipped_late(const lg_traffic *t)
{
    return t->skipped_late;
}

/* Frees everything t owns and closes its file. */
void lg_traffic_close(lg_traffic *t)
{
    if (!t)
        return;
    if (t->src.free)
        t->src.free(t->src.state);
    for (size_t i = 0; i < t->n_heap; i++)
        free(t->heap[i]);
    free(t->heap);
    free(t->cur);
    lg_tbuild_free(&t->b);
    if (t->f)
        fclose(t->f);
    free(t->name);
    free(t);
}

/* ---- shared decoders ---------------------------------------------------- */

/* Reads exactly n digits at s into *v. Returns 1 on success. */
static int digits(const char *s, size_t avail, int n, int *v)
{
    if ((size_t)n > avail)
        return 0;
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* Parses an RFC 3339 timestamp ("YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)";
 * 't', ' ' also accepted as the separator, "+HHMM" as the offset). */
int lg_traffic_parse_rfc3339(const char *s, size_t n, int64_t *ns)
{
    int Y, M, D, h, m, sec;
    if (n < 20 || !digits(s, n, 4, &Y) || s[4] != '-' || !digits(s + 5, n - 5, 2, &M) ||
        s[7] != '-' || !digits(s + 8, n - 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, n - 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, n - 14, 2, &m) || s[16] != ':' ||
        !digits(s + 17, n - 17, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        int nd = 0;
        int64_t scale = 100000000;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (nd < 9) {
                frac += (s[i] - '0') * scale;
                scale /= 10;
            }
            nd++;
            i++;
        }
        if (nd == 0)
            return -EINVAL;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (!digits(s + i, n - i, 2, &oh))
            return -EINVAL;
        i += 2;
        if (i < n && s[i] == ':')
            i++;
        if (!digits(s + i, n - i, 2, &om))
            return -EINVAL;
        i += 2;
        if (oh > 23 || om > 59)
            return -EINVAL;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    int64_t secs = (int64_t)t - off;
    if (secs < 0 || secs > INT64_MAX / SQ_NS_PER_S - 1)
        return -EINVAL;
    *ns = secs * SQ_NS_PER_S + frac;
    return 0;
}

/* Value of a base64 character (standard or URL-safe alphabet), or -1. */
static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 from s[0..n) into out; see traffic.h. */
int lg_traffic_b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return -EINVAL; /* data after padding */
        int v = b64_val(c);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits >= 6 || pad > 2)
        return -EINVAL; /* a single dangling character */
    *outlen = o;
    return 0;
}
