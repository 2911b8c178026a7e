/* curl_opts.c — shared libcurl easy-handle options (curl_opts.h). */
#include <errno.h>
#include <string.h>

#include "loadgen/curl_opts.h"

/* Sets method and body; see curl_opts.h. */
int lg_curl_set_method(CURL *e, const char *method, const char *body, size_t len)
{
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) != CURLE_OK;
    int post_like = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0;
    if (body || post_like) {
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0)) !=
               CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "") != CURLE_OK;
        if (strcmp(method, "POST") != 0)
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    } else if (strcmp(method, "HEAD") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else if (strcmp(method, "GET") != 0) {
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    }
    return bad ? -EINVAL : 0;
}

/* Sets the TLS options; see curl_opts.h. */
int lg_curl_set_tls(CURL *e, int insecure, const char *cacert, const char *cert, const char *key)
{
    int bad = 0;
    if (insecure) {
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    if (cacert)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, cacert) != CURLE_OK;
    if (cert)
        bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, cert) != CURLE_OK;
    if (key)
        bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, key) != CURLE_OK;
    return bad ? -EINVAL : 0;
}
