/* fault_link.c — the link-down fault: clears IFF_UP through libnl
 * (rtnl_link_change) on the interface found by name at plan time, and
 * journals its ifindex and original flags; the revert finds the link by
 * ifindex and restores IFF_UP only if it was set (a link that was down
 * stays down). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "chaos/ch_internal.h"

/* Reads a link by ifindex (or name when ifindex is 0): 0, -ENODEV. */
static int link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out,
                    sq_err *err)
{
    int e = rtnl_link_get_kernel(sk, ifindex, ifindex ? NULL : name, out);
    if (e == -NLE_OBJ_NOTFOUND || e == -NLE_NODEV)
        return sq_errf(err, -ENODEV, "no link %s (ifindex %d)", name ? name : "?", ifindex);
    if (e < 0)
        return sq_errf(err, -EIO, "netlink: reading link %s: %s", name ? name : "?",
                       nl_geterror(e));
    return 0;
}

/* Plans link-down: finds the device (in --netns), refuses loopback and
 * the default-route interface unless forced, journals ifindex + flags. */
int ch_link_plan(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    struct nl_sock *sk = NULL;
    struct rtnl_link *link = NULL;
    int saved = -1, rc;
    if (!s->dev)
        return sq_errf(err, -EINVAL, "link-down needs --dev IF");
    if (s->pid || s->name || s->cmdline || s->pidfile || s->cgroup || s->port || s->src ||
        s->dst || s->peers || s->proto || s->direction || s->count || s->percent > 0 ||
        s->rate_bps)
        return sq_errf(err, -EINVAL, "link-down takes --dev (and --netns), nothing else");
    if (strlen(s->dev) >= IFNAMSIZ)
        return sq_errf(err, -EINVAL, "--dev: '%s' is longer than an interface name can be",
                       s->dev);
    if (s->ttl_ns <= 0)
        return sq_errf(err, -EINVAL, "link-down needs --for DUR: every fault has a time to live");
    if ((rc = ch_netns_enter(s->netns, &saved, err)))
        return rc;
    if ((rc = ch_route_sock(&sk, err)))
        goto out;
    rc = link_get(sk, 0, s->dev, &link, err);
    if (rc == -ENODEV) {
        rc = sq_errf(err, -ENOENT, "--dev: no interface '%s'%s%s", s->dev,
                     s->netns ? " in network namespace " : "", s->netns ? s->netns : "");
        goto out;
    }
    if (rc)
        goto out;
    unsigned flags = rtnl_link_get_flags(link);
    char why[128] = "";
    if (!s->force && (flags & IFF_LOOPBACK)) {
        rc = sq_errf(err, -EPERM, "--dev %s is the loopback interface, which is protected; add "
                                  "--force to take it down anyway",
                     s->dev);
        goto out;
    }
    int prot = s->force ? 0 : ch_protected_link(rtnl_link_get_ifindex(link), why, sizeof why);
    if (prot) {
        rc = prot < 0 ? sq_errf(err, -EIO, "--dev %s: cannot read the routing tables to check "
                                           "for a default route; add --force to skip the check",
                                s->dev)
                      : sq_errf(err, -EPERM, "--dev %s %s, which is protected (taking it down "
                                             "could cut this host off); add --force to do it "
                                             "anyway",
                                s->dev, why);
        goto out;
    }
    json_t *nsid = NULL;
    if ((rc = ch_netns_ident(NULL, &nsid, err))) /* inside --netns already */
        goto out;
    json_t *op = json_pack("{s:s, s:o, s:o, s:i, s:s, s:i, s:b}", "type", "link", "netns",
                           s->netns ? json_string(s->netns) : json_null(), "netns_id", nsid,
                           "ifindex", rtnl_link_get_ifindex(link), "name", s->dev, "flags",
                           (int)flags, "was_up", (flags & IFF_UP) != 0);
    if (!op || json_array_append_new(f->ops, op))
        rc = sq_errf(err, -ENOMEM, "out of memory");
out:
    if (link)
        rtnl_link_put(link);
    if (sk)
        nl_socket_free(sk);
    ch_netns_leave(saved);
    return rc;
}

/* Checks a link op as read back from a journal: a positive ifindex, an
 * interface name, flags, was_up, and the namespace identity. */
static int link_op_ok(const json_t *op, sq_err *err)
{
    const char *name = json_string_value(json_object_get(op, "name"));
    json_int_t ifindex = json_integer_value(json_object_get(op, "ifindex"));
    if (!json_is_integer(json_object_get(op, "ifindex")) || ifindex < 1 || ifindex > 0x7fffffff ||
        !name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') ||
        !json_is_integer(json_object_get(op, "flags")) ||
        !json_is_boolean(json_object_get(op, "was_up")) || !ch_netns_ident_ok(op))
        return sq_errf(err, -EINVAL, "journal: a link op that squall would not write; not "
                                     "touched");
    return 0;
}

/* Reads the link with op's ifindex and checks that it still has op's name
 * (an ifindex reused by another link is not ours): 0, -ENODEV. */
static int link_get_op(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out,
                       sq_err *err)
{
    int rc = link_get(sk, ifindex, name, out, err);
    if (rc)
        return rc;
    const char *now = rtnl_link_get_name(*out);
    if (!now || strcmp(now, name) != 0) {
        rtnl_link_put(*out);
        *out = NULL;
        sq_errf(err, -ENODEV, "ifindex %d is now '%s', not '%s'", ifindex, now ? now : "?",
                name);
        return -ENODEV;
    }
    return 0;
}

/* Sets (up = 1) or clears IFF_UP on the link with op's ifindex (and name),
 * in op's namespace checked by identity; then reads it back into *now_up.
 * -ENODEV when the link is gone, -ESTALE when its namespace is. */
static int link_set(const json_t *op, int up, int *now_up, sq_err *err)
{
    int ifindex = (int)json_integer_value(json_object_get(op, "ifindex"));
    const char *name = json_string_value(json_object_get(op, "name"));
    struct nl_sock *sk = NULL;
    struct rtnl_link *link = NULL, *change = NULL;
    int saved = -1, rc;
    if ((rc = link_op_ok(op, err)))
        return rc;
    if ((rc = ch_netns_enter_op(op, &saved, err)))
        return rc;
    if ((rc = ch_route_sock(&sk, err)) || (rc = link_get_op(sk, ifindex, name, &link, err)))
        goto out;
    if (up >= 0 && (((rtnl_link_get_flags(link) & IFF_UP) != 0) != up)) {
        change = rtnl_link_alloc();
        if (!change) {
            rc = sq_errf(err, -ENOMEM, "out of memory");
            goto out;
        }
        if (up)
            rtnl_link_set_flags(change, IFF_UP);
        else
            rtnl_link_unset_flags(change, IFF_UP);
        int e = rtnl_link_change(sk, link, change, 0);
        if (e < 0) {
            rc = sq_errf(err, e == -NLE_PERM ? -EPERM : -EIO, "netlink: setting %s %s: %s", name,
                         up ? "up" : "down", nl_geterror(e));
            goto out;
        }
        rtnl_link_put(link);
        link = NULL;
        if ((rc = link_get_op(sk, ifindex, name, &link, err)))
            goto out;
    }
    *now_up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
out:
    if (change)
        rtnl_link_put(change);
    if (link)
        rtnl_link_put(link);
    if (sk)
        nl_socket_free(sk);
    ch_netns_leave(saved);
    return rc;
}

/* Takes the link down and verifies it. */
int ch_link_apply(const json_t *op, sq_err *err)
{
    int up = 1, rc = link_set(op, 0, &up, err);
    if (rc == -ENODEV)
        return sq_errf(err, -ENOENT, "interface %s (ifindex %d) disappeared",
                       json_string_value(json_object_get(op, "name")),
                       (int)json_integer_value(json_object_get(op, "ifindex")));
    if (rc == 0 && up)
        return sq_errf(err, -EIO, "interface %s is still up after clearing IFF_UP",
                       json_string_value(json_object_get(op, "name")));
    return rc;
}

/* Restores IFF_UP when the link was up before, and verifies it. A link
 * that is gone (or whose namespace is gone or was replaced, or whose
 * ifindex now has another name) counts as reverted and is reported; only
 * ENOENT means gone, any other error is an error. */
int ch_link_revert(const json_t *op, sq_err *err)
{
    int was_up = json_is_true(json_object_get(op, "was_up"));
    char what[64];
    snprintf(what, sizeof what, "link %s (ifindex %d)",
             json_string_value(json_object_get(op, "name")) ? json_string_value(
                                                                 json_object_get(op, "name"))
                                                           : "?",
             (int)json_integer_value(json_object_get(op, "ifindex")));
    int up = 0, rc = link_set(op, was_up ? 1 : -1, &up, err);
    if (rc == -ENODEV || rc == -ESTALE) {
        ch_report_gone(op, what, err ? err->msg : "gone");
        return 0;
    }
    if (rc == 0 && up != was_up)
        return sq_errf(err, -EIO, "interface %s: flags not restored (up=%d, expected %d)",
                       json_string_value(json_object_get(op, "name")), up, was_up);
    return rc;
}

/* Active while the link exists and is down although it was up. */
int ch_link_check(const json_t *op, int *active, sq_err *err)
{
    int was_up = json_is_true(json_object_get(op, "was_up"));
    int up = 0, rc = link_set(op, -1, &up, err);
    *active = 0;
    if (rc == -ENODEV || rc == -ESTALE)
        return 0;
    if (rc == 0)
        *active = was_up && !up;
    return rc;
}

/* Prints the netlink messages link-down sends. */
void ch_link_describe(const json_t *op, FILE *out)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    int ifindex = (int)json_integer_value(json_object_get(op, "ifindex"));
    const char *name = json_string_value(json_object_get(op, "name"));
    unsigned flags = (unsigned)json_integer_value(json_object_get(op, "flags"));
    int was_up = json_is_true(json_object_get(op, "was_up"));
    fprintf(out, "  netlink RTM_NEWLINK ifindex %d (%s%s%s): clear IFF_UP (original flags 0x%x)\n",
            ifindex, name, netns ? ", netns " : "", netns ? netns : "", flags);
    if (was_up)
        fprintf(out, "  revert: netlink RTM_NEWLINK ifindex %d: set IFF_UP\n", ifindex);
    else
        fprintf(out, "  revert: nothing (the link was already down and stays down)\n");
}
