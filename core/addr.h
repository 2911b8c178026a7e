/* addr.h — listen/connect addresses as users type them. */
#ifndef SQ_ADDR_H
#define SQ_ADDR_H

#include <sys/socket.h>

#include "err.h"

/* Parses "HOST:PORT", "[IPv6]:PORT" or ":PORT" (meaning 127.0.0.1) with a
 * numeric IPv4/IPv6 host and port 0..65535 into *ss / *len. Port 0 means
 * "any free port". Returns 0 or -EINVAL with a message naming the value. */
int sq_parse_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, sq_err *err);

/* Formats ss as "HOST:PORT" ("[::1]:8080" for IPv6) into buf. Returns buf. */
char *sq_format_addr(const struct sockaddr *sa, char *buf, unsigned long buflen);

#endif
