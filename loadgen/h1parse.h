/* h1parse.h — a streaming, allocation-free parser of HTTP/1.1 responses
 * (private to loadgen/), for the native HTTP/1.1 transport.
 *
 * It reads the status line and headers (keeping only what framing needs:
 * Content-Length, Transfer-Encoding: chunked, Connection), skips 1xx
 * interim responses, and consumes and discards the body: by Content-Length,
 * chunked encoding (with trailers), or until the connection closes. HEAD
 * responses and 204/304 have no body. Anything malformed is an error, never
 * a guess.
 */
#ifndef LG_H1PARSE_H
#define LG_H1PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define LG_H1_MAX_HEADER_BYTES 65536 /* status line + headers of one response */
#define LG_H1_MAX_LINE 8192          /* one header or chunk-size line */

/* What the caller wants kept of a response (for the ledger): one header's
 * value and the start of the body. Buffers belong to the caller. */
typedef struct lg_h1_capture {
    const char *header; /* name to keep (case-insensitive), or NULL */
    char *value;        /* its value, NUL-terminated, cut at value_cap - 1 */
    size_t value_cap, value_len;
    int found;
    int truncated;      /* the value was longer than value_cap - 1 */
    char *body;         /* the first body_cap bytes of the body, or NULL */
    size_t body_cap, body_len;
} lg_h1_capture;

/* Empties c's results for the next response (keeps its buffers). */
void lg_h1_capture_reset(lg_h1_capture *c);

/* Keeps header value v[0..n) when name[0..nlen) is the one c wants. */
void lg_h1_capture_header(lg_h1_capture *c, const char *name, size_t nlen, const char *v,
                          size_t n);

/* Keeps body bytes p[0..n) (as many as fit). */
void lg_h1_capture_body(lg_h1_capture *c, const char *p, size_t n);

typedef struct lg_h1_resp {
    lg_h1_capture *capture; /* set by the caller after init, or NULL */
    /* results, valid once `done` is set (status also once headers are in) */
    int status;             /* final status code, 100..599 */
    int done;               /* the whole response has been consumed */
    int keep_alive;         /* the connection may carry the next request */
    int64_t content_length; /* -1 when none was given */
    uint64_t body_bytes;    /* body bytes seen (chunked: payload only) */

    /* parser state: private */
    int head_request;
    int state;
    int http_minor;
    int chunked;
    int conn_close, conn_keep_alive;
    uint64_t remaining;  /* body or chunk bytes left */
    size_t header_bytes; /* bytes of the current header section */
    size_t line_len;
    char line[LG_H1_MAX_LINE];
} lg_h1_resp;

/* Prepares r for the response to a request; head_request = 1 for HEAD
 * (no body follows whatever the headers say). */
void lg_h1_resp_init(lg_h1_resp *r, int head_request);

/* Feeds n bytes received. Returns the number of bytes consumed (all of them
 * unless the response ended inside buf: then the bytes up to its end), or
 * -EBADMSG with a precise message in err ("malformed status line", "header
 * section larger than 64 KiB", "bad chunk size 'zz'", ...). Once r->done is
 * set, further feeds consume nothing. */
ssize_t lg_h1_resp_feed(lg_h1_resp *r, const char *buf, size_t n, sq_err *err);

/* 1 once the final (non-1xx) response's headers have been read, so that
 * r->status is its status even if the body is then cut short. */
int lg_h1_resp_headers_done(const lg_h1_resp *r);

/* The peer closed the connection. Returns 0 when that ends the response
 * (a body delimited by the close; r->done is then set), or -EPIPE when the
 * response was cut short (before or inside the headers, or short of its
 * Content-Length or last chunk), with a message. */
int lg_h1_resp_eof(lg_h1_resp *r, sq_err *err);

#endif
