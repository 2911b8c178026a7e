/* cleanup_host.c — which hosts cleanup may send to. A request goes out only
 * when its URL's origin (scheme, host, port) is run.json's target's, or its
 * host and port were allowed with --allow-host: a ledger's Location may point
 * anywhere, and cleanup requests carry the user's -H headers (Authorization).
 *
 * URLs are taken apart with libcurl's own URL parser, the one the transfer
 * uses, so that the host checked is the host connected to (userinfo such as
 * http://target@evil/, percent-encoded or shortened IPv4 hosts). Hosts are
 * compared in lower case, IPv6 literals in their canonical inet_ntop form,
 * ports with the scheme's default (80, 443) filled in. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "loadgen/cleanup_int.h"

/* The default port of a lower-case scheme (80 for http, 443 for https). */
static unsigned default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* Writes host (as libcurl gives it: an IPv6 literal in brackets) and zone
 * (NULL: none) into buf as the comparison key: lower case, an IPv6 literal
 * canonical and in brackets with its zone as "%25zone". Returns 0 or -EINVAL
 * when it does not fit or is not an IPv6 address in brackets. */
static int host_key(const char *host, const char *zone, char *buf, size_t len, sq_err *err)
{
    char lower[LG_HOST_MAX];
    size_t n = strlen(host);
    if (n == 0 || n >= sizeof lower)
        return sq_errf(err, -EINVAL, "the host '%.80s' is empty or too long", host);
    for (size_t i = 0; i <= n; i++)
        lower[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] - 'A' + 'a') : host[i];
    if (lower[0] != '[') {
        if ((size_t)snprintf(buf, len, "%s", lower) >= len)
            return sq_errf(err, -EINVAL, "the host '%.80s' is too long", host);
        return 0;
    }
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    if (n < 3 || lower[n - 1] != ']')
        return sq_errf(err, -EINVAL, "'%.80s' is not an IPv6 address in brackets", host);
    lower[n - 1] = '\0';
    if (inet_pton(AF_INET6, lower + 1, addr) != 1 || !inet_ntop(AF_INET6, addr, text, sizeof text))
        return sq_errf(err, -EINVAL, "'%.80s' is not an IPv6 address", host);
    if ((size_t)snprintf(buf, len, "[%s%s%s]", text, zone ? "%25" : "", zone ? zone : "") >= len)
        return sq_errf(err, -EINVAL, "the host '%.80s' is too long", host);
    return 0;
}

/* Takes url apart with libcurl into scheme, host key and port; without
 * with_default_port, a URL without a port gets 0 and *has_port 0. Returns 0
 * or -EINVAL with why. */
static int curl_origin(const char *url, int with_default_port, lg_origin *o, int *has_port,
                       sq_err *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    CURLU *u = curl_url();
    int rc = 0;
    memset(o, 0, sizeof *o);
    if (!u)
        return sq_errf(err, -ENOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK && (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK) {
        rc = sq_errf(err, -EINVAL, "'%.200s' is not a URL libcurl accepts: %s", url,
                     curl_url_strerror(uc));
        goto out;
    }
    uc = curl_url_get(u, CURLUPART_PORT, &port, with_default_port ? CURLU_DEFAULT_PORT : 0);
    if (uc != CURLUE_OK && uc != CURLUE_NO_PORT) {
        rc = sq_errf(err, -EINVAL, "'%.200s': %s", url, curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_OK)
        zone = NULL;
    for (size_t i = 0; scheme[i] && i + 1 < sizeof o->scheme; i++)
        o->scheme[i] = scheme[i] >= 'A' && scheme[i] <= 'Z' ? (char)(scheme[i] - 'A' + 'a')
                                                              : scheme[i];
    if (strcmp(o->scheme, "http") != 0 && strcmp(o->scheme, "https") != 0) {
        rc = sq_errf(err, -EINVAL, "'%.200s' is not an http:// or https:// URL", url);
        goto out;
    }
    if ((rc = host_key(host, zone, o->host, sizeof o->host, err)) < 0)
        goto out;
    o->port = port ? (unsigned)strtoul(port, NULL, 10) : 0;
    *has_port = port != NULL;
    if (*has_port && o->port == 0)
        rc = sq_errf(err, -EINVAL, "'%.200s': port 0", url);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

/* Takes an http(s) URL apart (see cleanup_int.h). */
int lg_origin_parse(const char *url, lg_origin *o, sq_err *err)
{
    if (!url)
        return sq_errf(err, -EINVAL, "no URL");
    int has_port;
    return curl_origin(url, 1, o, &has_port, err);
}

/* True when a and b are the same scheme, host and port. */
int lg_origin_same(const lg_origin *a, const lg_origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
           a->port == b->port;
}

/* Writes "host:port" of o into buf, as --allow-host takes it. */
void lg_origin_hostport(const lg_origin *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%u", o->host, o->port);
}

/* Parses an --allow-host value HOST[:PORT] (see cleanup_int.h). */
int lg_allow_host_parse(const char *spec, lg_allow_host *a, sq_err *err)
{
    char url[LG_HOST_MAX + 32];
    lg_origin o;
    size_t colons = 0;
    int has_port = 0;
    memset(a, 0, sizeof *a);
    if (!spec || !*spec || strlen(spec) >= LG_HOST_MAX + 8) /* "host:port" */
        goto bad;
    for (const char *p = spec; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("/?#@\\", *p))
            goto bad;
        colons += *p == ':';
    }
    /* a bare IPv6 address (two colons or more, no brackets) has no port */
    snprintf(url, sizeof url, colons > 1 && spec[0] != '[' ? "http://[%s]/" : "http://%s/",
             spec);
    if (spec[strlen(spec) - 1] == ':' || curl_origin(url, 0, &o, &has_port, NULL) < 0)
        goto bad;
    snprintf(a->host, sizeof a->host, "%s", o.host);
    a->port = o.port;
    return 0;
bad:
    return sq_errf(err, -EINVAL, "'%.200s': expected HOST or HOST:PORT (a name or an address; "
                                 "an IPv6 address in brackets, e.g. [::1]:8080)",
                   spec ? spec : "");
}

/* True when o's host and port are what a allows (no port: the scheme's
 * default). */
int lg_allow_host_match(const lg_allow_host *a, const lg_origin *o)
{
    unsigned port = a->port ? a->port : default_port(o->scheme);
    return strcmp(a->host, o->host) == 0 && port == o->port;
}

/* Decides whether a request to url may be sent (see cleanup_int.h). */
int lg_host_check(const lg_host_policy *p, const char *url, const char *what, char *refusal,
                  size_t len, sq_err *err)
{
    lg_origin o;
    char hp[LG_HOST_MAX + 8];
    int rc = lg_origin_parse(url, &o, err);
    if (rc < 0)
        return rc;
    if (p->have_target && lg_origin_same(&p->target, &o))
        return 1;
    for (size_t i = 0; i < p->n_allow; i++)
        if (lg_allow_host_match(&p->allow[i], &o))
            return 1;
    lg_origin_hostport(&o, hp, sizeof hp);
    if (p->have_target && strcmp(p->target.host, o.host) == 0 && p->target.port == o.port)
        snprintf(refusal, len, "%s uses %s, not the target's %s (%s); rerun with "
                               "--allow-host %s to delete there",
                 what, o.scheme, p->target.scheme, hp, hp);
    else if (p->have_target)
        snprintf(refusal, len, "%s points at another host (%s); rerun with --allow-host %s to "
                               "delete there",
                 what, hp, hp);
    else
        snprintf(refusal, len, "%s points at %s and run.json has no target to compare it with "
                               "(%.160s); rerun with --allow-host %s to delete there",
                 what, hp, p->no_target, hp);
    return 0;
}
