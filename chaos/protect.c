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

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "chaos/ch_internal.h"

/* The ifindexes of every default route (0.0.0.0/0 and ::/0, in every
 * routing table, unicast, with or without a gateway, every nexthop of a
 * multipath route) in the calling thread's network namespace, read with a
 * libnl route dump. Appends to v (cap entries); returns the count or a
 * negative errno. */
static int default_route_ifindexes(struct nl_sock *sk, int *v, int cap)
{
    struct nl_cache *cache = NULL;
    int n = 0;
    int e = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
    if (e < 0)
        return -EIO;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        int fam = rtnl_route_get_family(r);
        if ((fam != AF_INET && fam != AF_INET6) || (dst && nl_addr_get_prefixlen(dst) != 0) ||
            rtnl_route_get_type(r) != RTN_UNICAST)
            continue;
        int nh = rtnl_route_get_nnexthops(r);
        for (int i = 0; i < nh && n < cap; i++) {
            int ifi = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i));
            if (ifi > 0)
                v[n++] = ifi;
        }
    }
    nl_cache_free(cache);
    return n;
}

/* 1 when x is among the n ints of v. */
static int in_set(const int *v, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Whether the link ifindex is protected as a default-route interface (see
 * ch_internal.h). */
int ch_protected_link(int ifindex, char *why, size_t len)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct nl_cache *links = NULL;
    int defs[256], rc = 0;
    if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
        rc = -EIO;
        goto out;
    }
    int n = default_route_ifindexes(sk, defs, (int)(sizeof defs / sizeof defs[0]));
    if (n < 0) {
        rc = n;
        goto out;
    }
    if (n == 0)
        goto out;
    if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0) {
        rc = -EIO;
        goto out;
    }
    struct rtnl_link *self = rtnl_link_get(links, ifindex);
    int my_master = self ? rtnl_link_get_master(self) : 0;
    if (in_set(defs, n, ifindex)) {
        snprintf(why, len, "carries a default route");
        rc = 1;
    } else if (my_master > 0 && in_set(defs, n, my_master)) {
        snprintf(why, len, "is a port of a bridge or bond that carries a default route");
        rc = 1;
    } else {
        /* The master (bridge, bond) or the lower device (the link under a
         * vlan, macvlan, ...) of a default-route interface. */
        for (int i = 0; i < n && !rc; i++) {
            struct rtnl_link *d = rtnl_link_get(links, defs[i]);
            if (!d)
                continue;
            if (rtnl_link_get_master(d) == ifindex) {
                snprintf(why, len, "is the master (bridge or bond) of a default-route interface");
                rc = 1;
            } else if (rtnl_link_get_link(d) == ifindex && defs[i] != ifindex) {
                snprintf(why, len, "is the lower device of a default-route interface");
                rc = 1;
            }
            rtnl_link_put(d);
        }
    }
    if (self)
        rtnl_link_put(self);
out:
    if (links)
        nl_cache_free(links);
    if (sk)
        nl_socket_free(sk);
    return rc;
}

/* Decodes "A.B.C.D" or "A.B.C.D/N" (N 0..32) into a host-order address and a
 * prefix length; see ch_internal.h. */
int ch_cidr_decode(const char *s, uint32_t *addr, int *plen)
{
    char text[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    struct in_addr a;
    if (n == 0 || n >= sizeof text)
        return -EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';
    if (inet_pton(AF_INET, text, &a) != 1)
        return -EINVAL;
    long p = 32;
    if (slash) {
        char *end;
        p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > 32)
            return -EINVAL;
    }
    *addr = ntohl(a.s_addr);
    *plen = (int)p;
    return 0;
}

/* Parses an IPv4 address with an optional /0..32 prefix. */
int ch_parse_cidr(const char *flag, const char *s, sq_err *err)
{
    uint32_t addr;
    int plen;
    if (ch_cidr_decode(s, &addr, &plen) == 0)
        return 0;
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
    uint32_t v;
    int plen;
    if (ch_cidr_decode(cidr, &v, &plen))
        return 0; /* not ours to judge: ch_parse_cidr reports it */
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
