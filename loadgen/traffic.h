/* traffic.h — streaming readers of recorded traffic (private to loadgen/).
 *
 * lg_traffic_open() opens a traffic file in one of the supported formats
 * (squall JSON Lines, nginx/Apache combined or common log, GoReplay .gor,
 * HAR 1.2), lg_traffic_next() yields one request at a time in timestamp
 * order, lg_traffic_close() frees everything. Memory stays flat: files are
 * read line by line (HAR, one JSON document, is the exception: it is loaded
 * whole, up to LG_TRAFFIC_HAR_MAX bytes).
 *
 * Out-of-order timestamps are sorted within a bounded reorder window (by
 * default 10 s of recorded time and at most 100000 requests held); a request
 * older than a request already released is an error (or skipped and counted
 * with skip_bad).
 *
 * Errors are one line "FILE:LINE: what was expected". Bad records are
 * -EBADMSG (skippable with skip_bad); I/O errors and an unreadable HAR
 * document are fatal whatever skip_bad says.
 */
#ifndef LG_TRAFFIC_H
#define LG_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

#define LG_TRAFFIC_WINDOW_NS (10 * SQ_NS_PER_S)      /* default reorder window */
#define LG_TRAFFIC_WINDOW_MAX 100000                  /* requests held at most */
#define LG_TRAFFIC_LINE_MAX (16u << 20)               /* longest line / gor record */
#define LG_TRAFFIC_HAR_MAX ((size_t)256 << 20)        /* largest HAR document */

enum lg_traffic_format {
    LG_TRAFFIC_AUTO = 0,
    LG_TRAFFIC_JSONL,
    LG_TRAFFIC_COMBINED,
    LG_TRAFFIC_COMMON,
    LG_TRAFFIC_GOR,
    LG_TRAFFIC_HAR,
};

/* The format's name ("jsonl", "combined", ...; "auto"). Static. */
const char *lg_traffic_format_name(enum lg_traffic_format f);

/* Parses a --format value; returns 0 or -EINVAL with a message. */
int lg_traffic_format_parse(const char *s, enum lg_traffic_format *f, sq_err *err);

/* Where the user id of a request is found. */
enum lg_user_key_kind {
    LG_USER_KEY_NONE = 0,
    LG_USER_KEY_HEADER, /* header:NAME (case-insensitive) */
    LG_USER_KEY_QUERY,  /* query:NAME (the raw, undecoded value) */
    LG_USER_KEY_COOKIE, /* cookie:NAME */
    LG_USER_KEY_JSON,   /* json:/pointer into a JSON request body (RFC 6901) */
};

typedef struct lg_user_key {
    enum lg_user_key_kind kind;
    char name[256]; /* header/query/cookie name, or the JSON pointer */
} lg_user_key;

/* Parses "header:X", "query:x", "cookie:x" or "json:/ptr". Returns 0 or
 * -EINVAL with a message. */
int lg_user_key_parse(const char *s, lg_user_key *key, sq_err *err);

typedef struct lg_traffic_opts {
    lg_user_key user_key;  /* kind NONE: the format's own user, if any */
    int skip_bad;          /* count and skip bad records instead of failing */
    int64_t window_ns;     /* reorder window; 0 = LG_TRAFFIC_WINDOW_NS */
    size_t window_max;     /* requests held; 0 = LG_TRAFFIC_WINDOW_MAX */
} lg_traffic_opts;

/* Fills opts with the defaults. */
void lg_traffic_opts_init(lg_traffic_opts *opts);

typedef struct lg_traffic_header {
    const char *name, *value;
} lg_traffic_header;

/* One request. Every pointer is owned by the reader and stays valid until
 * the next lg_traffic_next or lg_traffic_close. */
typedef struct lg_traffic_req {
    int64_t ts_ns;      /* UTC, ns since the epoch */
    const char *method; /* "GET", ... */
    const char *url;    /* absolute URL, or a path with its query */
    const lg_traffic_header *headers;
    size_t n_headers;
    const char *body; /* NUL-terminated copy too; body_len bytes (may hold NULs) */
    size_t body_len;
    const char *user; /* NULL when none */
    uint64_t line;    /* 1-based source line of the record */
} lg_traffic_req;

typedef struct lg_traffic lg_traffic;

/* Opens path. format AUTO detects from the content (and the extension as a
 * hint); opts may be NULL for the defaults. On success *out is a new reader
 * the caller frees with lg_traffic_close. Returns 0, or -errno with a
 * message (cannot open, unknown format, unreadable HAR). */
int lg_traffic_open(const char *path, enum lg_traffic_format format, const lg_traffic_opts *opts,
                    lg_traffic **out, sq_err *err);

/* Like lg_traffic_open over data[0..len) (not copied: it must outlive the
 * reader); name is used in messages. For tests and fuzzing. */
int lg_traffic_open_mem(const void *data, size_t len, const char *name,
                        enum lg_traffic_format format, const lg_traffic_opts *opts,
                        lg_traffic **out, sq_err *err);

/* Yields the next request in timestamp order into *req. Returns 1 (a
 * request), 0 (end of input) or a negative errno with "FILE:LINE: ..." in
 * err: -EBADMSG for a bad record or one beyond the reorder window, -EIO
 * and others for fatal errors. After an error the reader may be closed or
 * (for -EBADMSG) read on. */
int lg_traffic_next(lg_traffic *t, lg_traffic_req *req, sq_err *err);

/* The format being read (never AUTO once open). */
enum lg_traffic_format lg_traffic_format_of(const lg_traffic *t);

/* Bad records skipped so far with skip_bad (malformed + too old). */
uint64_t lg_traffic_skipped(const lg_traffic *t);

/* Of those, records skipped for being older than the reorder window allows. */
uint64_t lg_traffic_skipped_late(const lg_traffic *t);

/* Closes the file and frees the reader; NULL is a no-op. */
void lg_traffic_close(lg_traffic *t);

/* Follows the RFC 6901 pointer ptr ("/a/0/b", "~0" and "~1" escaped) into
 * doc. Returns the value (borrowed from doc) or NULL when it names nothing. */
json_t *lg_json_pointer(json_t *doc, const char *ptr);

/* The text of an id-like JSON value: a string as is, an integer in decimal;
 * a new string (free()), or NULL for other values or out of memory. */
char *lg_json_id_text(const json_t *v);

/* Parses an RFC 3339 / ISO 8601 UTC or offset timestamp
 * ("2026-11-21T08:54:53.123456789Z", "...+02:00") into ns since the epoch.
 * Returns 0 or -EINVAL. */
int lg_traffic_parse_rfc3339(const char *s, size_t n, int64_t *ns);

/* ---- internals shared by the format files ------------------------------ */

/* A streaming line reader over a FILE (NULL = empty input). */
typedef struct lg_tlines {
    void *f;          /* FILE * */
    char *buf;        /* buffered input */
    size_t start, end, cap;
    int eof, error;
    int keep_cr;      /* 1: return "\r" before "\n" as part of the line */
    uint64_t line;    /* number of the line last returned */
} lg_tlines;

/* Initialises r over f (may be NULL); r does not own f. Returns 0 or -ENOMEM. */
int lg_tlines_init(lg_tlines *r, void *f);

/* Frees r's buffer. */
void lg_tlines_free(lg_tlines *r);

/* Returns the next line in *line and *len (without "\n" or "\r\n"; valid until
 * the next call, NUL-terminated) and 1, 0 at EOF, -EMSGSIZE for a line
 * longer than LG_TRAFFIC_LINE_MAX (skipped; r->line is its number) or -EIO. */
int lg_tlines_next(lg_tlines *r, char **line, size_t *len);

/* A request being built by a format reader: strings appended to an arena. */
typedef struct lg_tbuild {
    char *buf;
    size_t len, cap;
    size_t method, url, body, body_len, user;
    int has_body, has_user;
    size_t *hdr; /* offsets: name0, value0, name1, value1, ... */
    size_t n_hdr, cap_hdr;
    int64_t ts_ns;
    uint64_t line;
} lg_tbuild;

/* Empties b for the next request (keeps its memory). */
void lg_tbuild_reset(lg_tbuild *b);

/* Appends s[0..n) and a NUL to b's arena, storing its offset in *off.
 * Returns 0 or -ENOMEM. */
int lg_tbuild_str(lg_tbuild *b, const char *s, size_t n, size_t *off);

/* Adds a header (copies both). Returns 0 or -ENOMEM. */
int lg_tbuild_header(lg_tbuild *b, const char *name, size_t nlen, const char *value, size_t vlen);

/* Setters for the string fields (copies). Return 0 or -ENOMEM. */
int lg_tbuild_method(lg_tbuild *b, const char *s, size_t n);
int lg_tbuild_url(lg_tbuild *b, const char *s, size_t n);
int lg_tbuild_body(lg_tbuild *b, const char *s, size_t n);
int lg_tbuild_user(lg_tbuild *b, const char *s, size_t n);

/* The value of the first header called name (case-insensitive) in b, or
 * NULL. Points into b's arena: valid until the next append. */
const char *lg_tbuild_get_header(const lg_tbuild *b, const char *name);

/* Frees b's memory. */
void lg_tbuild_free(lg_tbuild *b);

/* Checks that a URL (or request target) s[0..n) can be sent as is: no
 * spaces, control characters or NUL. Returns NULL when it can, else why
 * not (static text). */
const char *lg_traffic_check_url(const char *s, size_t n);

/* Checks a header: the name a token (no spaces, ':' or control
 * characters), the value without CR, LF or NUL (which would inject
 * headers on replay). Returns NULL or why not (static text). */
const char *lg_traffic_check_header(const char *name, size_t nlen, const char *value, size_t vlen);

/* A format reader. next() fills b (reset by the caller) and returns 1, 0
 * at EOF, -EBADMSG with "what was expected" in err (the record is skipped;
 * b->line says where) or another negative errno (fatal). */
typedef struct lg_tsrc {
    void *state;
    int (*next)(void *state, lg_tbuild *b, sq_err *err);
    void (*free)(void *state);
} lg_tsrc;

/* The format constructors: read from f (not owned; may be NULL = empty). */
int lg_tsrc_jsonl(void *f, lg_tsrc *src, sq_err *err);
int lg_tsrc_clf(void *f, int combined, lg_tsrc *src, sq_err *err);
int lg_tsrc_gor(void *f, lg_tsrc *src, sq_err *err);
int lg_tsrc_har(void *f, const char *name, lg_tsrc *src, sq_err *err); /* name: for messages */

/* Detects the format of the first len bytes of a file called name (the
 * extension is a hint). Returns the format, or AUTO when unknown. */
enum lg_traffic_format lg_traffic_detect(const char *head, size_t len, const char *name);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int lg_hexval(char c);

/* Parses the raw HTTP/1.x request text[0..n) (request line, headers, blank
 * line, body) into b. Returns 0, -EBADMSG (message in err) or -ENOMEM. */
int lg_traffic_parse_http(lg_tbuild *b, const char *text, size_t n, sq_err *err);

/* Decodes standard or URL-safe base64 (padding optional, whitespace
 * ignored) from s[0..n) into out (at least n*3/4+3 bytes); *outlen is set.
 * Returns 0 or -EINVAL. */
int lg_traffic_b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen);

#endif
