/* addr.c — parsing and formatting of socket addresses. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a decimal port 0..65535 from the whole of s. */
static int parse_port(const char *s, unsigned *port)
{
    if (!*s || strlen(s) > 5)
        return -1;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

/* Parses a listen address; see addr.h. */
int sq_parse_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, sq_err *err)
{
    char host[64];
    const char *colon;
    unsigned port;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            goto bad;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        if (!host[0])
            strcpy(host, "127.0.0.1");
    }
    if (parse_port(colon + 1, &port))
        return sq_errf(err, -EINVAL, "'%s': '%s' is not a port (expected 0..65535)", s, colon + 1);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return sq_errf(err, -EINVAL, "'%s': '%s' is not a numeric IPv4 or IPv6 address", s, host);
bad:
    return sq_errf(err, -EINVAL,
                   "'%s' is not an address (expected HOST:PORT, [IPv6]:PORT or :PORT)", s);
}

/* Formats an IPv4/IPv6 socket address as HOST:PORT. */
char *sq_format_addr(const struct sockaddr *sa, char *buf, unsigned long buflen)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
        port = ntohs(in4->sin_port);
        snprintf(buf, buflen, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(buf, buflen, "[%s]:%u", host, port);
    } else {
        snprintf(buf, buflen, "?");
    }
    return buf;
}
