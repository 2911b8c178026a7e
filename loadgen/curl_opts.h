/* curl_opts.h — libcurl easy-handle options that the load transport and
 * cleanup set the same way (private to loadgen/). */
#ifndef LG_CURL_OPTS_H
#define LG_CURL_OPTS_H

#include <curl/curl.h>
#include <stddef.h>

/* Sets e up to send `method` with body[0..len) (NULL: none; POST, PUT and
 * PATCH without one send an empty body with Content-Length: 0), resetting
 * whatever method and body the handle had. Returns 0 or -EINVAL. */
int lg_curl_set_method(CURL *e, const char *method, const char *body, size_t len);

/* Sets e's TLS options: no verification when insecure, a CA bundle, a
 * client certificate and key (each may be NULL). Returns 0 or -EINVAL. */
int lg_curl_set_tls(CURL *e, int insecure, const char *cacert, const char *cert, const char *key);

#endif
