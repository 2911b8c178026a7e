/* json.h — small helpers around jansson used by every component. */
#ifndef SQ_JSON_H
#define SQ_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Decodes the UTF-8 sequence at s (at most n bytes, n >= 1): returns its
 * length (1..4) and the code point in *cp, or 0 when it is not valid UTF-8
 * (overlong, surrogate, above U+10FFFF, truncated). */
size_t sq_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);

/* A new JSON string from bytes that may not be valid UTF-8 (taken from
 * input: URLs, headers): invalid sequences become U+FFFD. Caller owns the
 * reference; NULL only on out of memory. */
json_t *sq_json_text(const char *s);
json_t *sq_json_textn(const char *s, size_t n);

#endif
