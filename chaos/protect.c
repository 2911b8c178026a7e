/* protect.c — what squall refuses to fault without --force (loopback, the
 * default-route interface, SSH), address validation, and the privilege
 * check. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Finds the interface of a default route in /proc/thread-self/net/route
 * (IPv4, destination 0 with mask 0) or .../ipv6_route (::/0). */
int ch_default_route_dev(char *buf, size_t len)
{
    char line[512], dev[64];
    unsigned long dest, gw, flags, mask;
    FILE *f = fopen("/proc/thread-self/net/route", "re");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "%63s %lx %lx %lx %*s %*s %*s %lx", dev, &dest, &gw, &flags, &mask) ==
                    5 &&
                dest == 0 && mask == 0 && (flags & 1)) {
                snprintf(buf, len, "%s", dev);
                fclose(f);
                return 0;
            }
        }
        fclose(f);
    }
    f = fopen("/proc/thread-self/net/ipv6_route", "re");
    if (f) {
        char d[64], plen[8], src[64], splen[8], next[64], metric[16], ref[16], use[16], fl[16];
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "%63s %7s %63s %7s %63s %15s %15s %15s %15s %63s", d, plen, src,
                       splen, next, metric, ref, use, fl, dev) == 10 &&
                strspn(d, "0") == 32 && strcmp(plen, "00") == 0 && strcmp(dev, "lo") != 0 &&
                (strtoul(fl, NULL, 16) & 0x0002)) {
                snprintf(buf, len, "%s", dev);
                fclose(f);
                return 0;
            }
        }
        fclose(f);
    }
    return -ENOENT;
}

/* Parses an IPv4 address with an optional /0..32 prefix. */
int ch_parse_cidr(const char *flag, const char *s, sq_err *err)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    struct in_addr a;
    if (n == 0 || n >= sizeof addr)
        goto bad;
    memcpy(addr, s, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET, addr, &a) != 1)
        goto bad;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > 32)
            goto bad;
    }
    return 0;
bad:
    if (strchr(s, ':'))
        return sq_errf(err, -EINVAL, "%s: '%s': IPv6 is not supported by iptables faults yet "
                                     "(IPv4 only)",
                       flag, s);
    return sq_errf(err, -EINVAL, "%s: '%s' is not an IPv4 address or CIDR (e.g. 10.1.2.0/24)",
                   flag, s);
}

/* Refuses loopback addresses (127.0.0.0/8, or a prefix that covers it). */
int ch_protect_cidr(const char *flag, const char *cidr, int force, sq_err *err)
{
    if (force)
        return 0;
    char addr[64];
    snprintf(addr, sizeof addr, "%s", cidr);
    char *slash = strchr(addr, '/');
    int plen = 32;
    if (slash) {
        plen = atoi(slash + 1);
        *slash = '\0';
    }
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) != 1)
        return 0;
    uint32_t v = ntohl(a.s_addr);
    uint32_t mask = plen ? 0xffffffffu << (32 - plen) : 0;
    uint32_t lo = 0x7f000000u;
    /* Overlap: the two prefixes agree on the shorter one's bits. */
    uint32_t m = plen < 8 ? mask : 0xff000000u;
    if ((v & m) == (lo & m))
        return sq_errf(err, -EPERM, "%s %s covers loopback (127.0.0.0/8), which is protected; add "
                                    "--force to fault it anyway",
                       flag, cidr);
    return 0;
}

/* Whether CAP_NET_ADMIN is in this process's effective set. */
int ch_have_net_admin(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) < 0)
        return geteuid() == 0;
    return (d[CAP_NET_ADMIN / 32].effective >> (CAP_NET_ADMIN % 32)) & 1;
}
