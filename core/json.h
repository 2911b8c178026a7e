/* json.h — small helpers around jansson used by every component. */
#ifndef SQ_JSON_H
#define SQ_JSON_H

#include <jansson.h>
#include <stddef.h>

/* A new JSON string from bytes that may not be valid UTF-8 (taken from
 * input: URLs, headers): invalid sequences become U+FFFD. Caller owns the
 * reference; NULL only on out of memory. */
json_t *sq_json_text(const char *s);
json_t *sq_json_textn(const char *s, size_t n);

#endif
