/* fault_tc.c — queueing-discipline faults: bandwidth (a tbf qdisc) and
 * delay --dev (a netem qdisc), each on squall's own handle at the root of a
 * device, via libnl, with the device's previous root qdisc journaled and
 * put back exactly; and the probe for netem. The two faults share
 * everything but the qdisc's own parameters. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>

#include "chaos/ch_internal.h"

/* In a throwaway network namespace (a forked child that unshares one),
 * tries to add a netem qdisc to the loopback device. Exit status 0 = the
 * kernel has netem, 2 = it has not, 1 = the probe itself failed. */
static int probe_child(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return 1;
    struct nl_sock *sk = nl_socket_alloc();
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    int rc = 1;
    if (!sk || !q || nl_connect(sk, NETLINK_ROUTE) < 0)
        goto out;
    rtnl_tc_set_ifindex(TC_CAST(q), 1); /* lo is always ifindex 1 in a new namespace */
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    if (rtnl_tc_set_kind(TC_CAST(q), "netem") < 0)
        goto out;
    rtnl_netem_set_delay(q, 1000);
    int e = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
    /* Any refusal to create netem (ENOENT for an unknown kind, EOPNOTSUPP,
     * EINVAL) means it cannot be used here. */
    rc = e == 0 ? 0 : e == -NLE_PERM ? 1 : 2;
out:
    if (q)
        rtnl_qdisc_put(q);
    if (sk)
        nl_socket_free(sk);
    return rc;
}

/* Checks whether this kernel can run netem (the delay fault). Returns 0,
 * -ENOTSUP with a message naming sch_netem, or another negative errno when
 * the probe could not run (e.g. no privilege). */
int ch_probe_netem(sq_err *err)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return sq_errf(err, -errno, "fork: %s", strerror(errno));
    if (pid == 0)
        _exit(probe_child());
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    if (code == 0)
        return 0;
    if (code == 2)
        return sq_errf(err, -ENOTSUP,
                       "delay --dev needs the kernel's netem queueing discipline (module "
                       "sch_netem), which this kernel does not have; use delay --port PORT "
                       "instead (squall's own TCP delay proxy), or a kernel with "
                       "CONFIG_NET_SCH_NETEM");
    return sq_errf(err, -EPERM, "cannot probe the kernel for sch_netem (needs root or "
                                "CAP_SYS_ADMIN + CAP_NET_ADMIN)");
}

/* ---- bandwidth: a tbf qdisc on squall's own handle ---------------------------------- */

/* What the root qdisc of one device looks like, read with a raw dump so
 * that its kind and options can be journaled byte for byte. */
typedef struct root_qdisc {
    int ifindex;
    int found;
    uint32_t handle;
    char kind[32];
    unsigned char opts[4096];
    int opts_len; /* -1 when the qdisc had no TCA_OPTIONS */
    int too_big;  /* its TCA_OPTIONS did not fit in opts */
    int count;    /* dump_count(): matching messages */
} root_qdisc;

/* NL_CB_VALID callback for a qdisc dump: keeps the root qdisc of ifindex. */
static int root_cb(struct nl_msg *msg, void *arg)
{
    root_qdisc *r = arg;
    struct nlmsghdr *nlh = nlmsg_hdr(msg);
    struct tcmsg *tcm = nlmsg_data(nlh);
    struct nlattr *tb[TCA_MAX + 1];
    if (nlmsg_parse(nlh, sizeof *tcm, tb, TCA_MAX, NULL) < 0)
        return NL_SKIP;
    if (tcm->tcm_ifindex != r->ifindex || tcm->tcm_parent != TC_H_ROOT)
        return NL_OK;
    r->found = 1;
    r->handle = tcm->tcm_handle;
    snprintf(r->kind, sizeof r->kind, "%s", tb[TCA_KIND] ? nla_get_string(tb[TCA_KIND]) : "");
    r->opts_len = -1;
    r->too_big = 0;
    if (tb[TCA_OPTIONS] && nla_len(tb[TCA_OPTIONS]) <= (int)sizeof r->opts) {
        r->opts_len = nla_len(tb[TCA_OPTIONS]);
        memcpy(r->opts, nla_data(tb[TCA_OPTIONS]), (size_t)r->opts_len);
    } else if (tb[TCA_OPTIONS]) {
        r->too_big = 1; /* never journaled as "no options": the plan refuses */
    }
    return NL_OK;
}

/* NL_CB_VALID callback counting class/filter messages of ifindex. */
static int count_cb(struct nl_msg *msg, void *arg)
{
    root_qdisc *r = arg;
    struct tcmsg *tcm = nlmsg_data(nlmsg_hdr(msg));
    if (tcm->tcm_ifindex == r->ifindex)
        r->count++;
    return NL_OK;
}

/* Runs one rtnetlink dump (type RTM_GETQDISC/GETTCLASS/GETTFILTER) for
 * ifindex/parent with cb on a fresh socket. */
static int tc_dump(int type, int ifindex, uint32_t parent, nl_recvmsg_msg_cb_t cb, root_qdisc *r,
                   sq_err *err)
{
    struct nl_sock *sk;
    int e = ch_route_sock(&sk, err);
    if (e)
        return e;
    nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, r);
    struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent};
    e = nl_send_simple(sk, type, NLM_F_DUMP, &t, sizeof t);
    if (e >= 0)
        e = nl_recvmsgs_default(sk);
    nl_socket_free(sk);
    if (e < 0)
        return sq_errf(err, -EIO, "netlink: dumping traffic control objects: %s",
                       nl_geterror(e));
    return 0;
}

/* Reads the root qdisc of ifindex into r. */
static int read_root(int ifindex, root_qdisc *r, sq_err *err)
{
    memset(r, 0, sizeof *r);
    r->ifindex = ifindex;
    r->opts_len = -1;
    return tc_dump(RTM_GETQDISC, ifindex, 0, root_cb, r, err);
}

/* Lowercase hex of n bytes into a new string owned by the caller. */
static char *to_hex(const unsigned char *p, int n)
{
    char *s = malloc((size_t)n * 2 + 1);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

/* Decodes hex into buf; returns the length or -1. */
static int from_hex(const char *s, unsigned char *buf, int cap)
{
    int n = (int)strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (int i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        buf[i] = (unsigned char)v;
    }
    return n / 2;
}

/* Plans a root qdisc of squall's handle on --dev: finds the device,
 * journals its current root qdisc (default, or kind + handle + raw options
 * to put back), refuses loopback, the default-route interface, a device
 * that already carries squall's qdisc, and a classful root with classes or
 * filters (which could not be put back exactly). params (the qdisc's own
 * keys, reference taken) are merged into the op. verb names the fault in
 * messages ("shape", "delay"). */
static int plan_root(ch_fault *f, json_t *params, const char *verb, sq_err *err)
{
    const ch_spec *s = &f->spec;
    int saved = -1, rc, ifindex;
    unsigned flags;
    root_qdisc r;
    char *hex = NULL;
    json_t *op = NULL;
    if (!params)
        return sq_errf(err, -ENOMEM, "out of memory");
    if ((rc = ch_netns_enter(s->netns, &saved, err)))
        goto out;
    ifindex = (int)if_nametoindex(s->dev);
    if (!ifindex) {
        rc = sq_errf(err, -ENOENT, "--dev: no interface '%s'%s%s", s->dev,
                     s->netns ? " in network namespace " : "", s->netns ? s->netns : "");
        goto out;
    }
    char why[128] = "";
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", s->dev);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    flags = sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 ? (unsigned)ifr.ifr_flags : 0;
    if (sock >= 0)
        close(sock);
    if (!s->force && (flags & IFF_LOOPBACK)) {
        rc = sq_errf(err, -EPERM, "--dev %s is the loopback interface, which is protected; add "
                                  "--force to %s it anyway",
                     s->dev, verb);
        goto out;
    }
    int prot = s->force ? 0 : ch_protected_link(ifindex, why, sizeof why);
    if (prot) {
        rc = prot < 0 ? sq_errf(err, -EIO, "--dev %s: cannot read the routing tables to check "
                                           "for a default route; add --force to skip the check",
                                s->dev)
                      : sq_errf(err, -EPERM, "--dev %s %s, which is protected; add --force to "
                                             "%s it anyway",
                                s->dev, why, verb);
        goto out;
    }
    if ((rc = read_root(ifindex, &r, err)))
        goto out;
    json_t *before;
    if (!r.found || r.handle == 0) {
        before = json_pack("{s:b, s:s}", "default", 1, "kind", r.found ? r.kind : "");
    } else if (r.handle == CH_QDISC_HANDLE) {
        rc = sq_errf(err, -EBUSY, "%s already carries squall's qdisc 5157: (another bandwidth "
                                  "or delay fault is running; see 'squall chaos status')",
                     s->dev);
        goto out;
    } else {
        root_qdisc c = {.ifindex = ifindex};
        if ((rc = tc_dump(RTM_GETTCLASS, ifindex, 0, count_cb, &c, err)) ||
            (rc = tc_dump(RTM_GETTFILTER, ifindex, r.handle, count_cb, &c, err)))
            goto out;
        if (c.count > 0) {
            rc = sq_errf(err, -EBUSY, "%s has a root qdisc %s %x: with classes or filters; squall "
                                      "will not replace it, because it could not put them back "
                                      "exactly",
                         s->dev, r.kind, r.handle >> 16);
            goto out;
        }
        if (r.too_big) {
            rc = sq_errf(err, -EBUSY, "%s has a root qdisc %s %x: whose options exceed %zu "
                                      "bytes; squall will not replace it, because it could not "
                                      "put it back exactly",
                         s->dev, r.kind, r.handle >> 16, sizeof r.opts);
            goto out;
        }
        hex = r.opts_len >= 0 ? to_hex(r.opts, r.opts_len) : NULL;
        before = json_pack("{s:b, s:s, s:I, s:s?}", "default", 0, "kind", r.kind, "handle",
                           (json_int_t)r.handle, "options", hex);
    }
    json_t *nsid = NULL;
    if ((rc = ch_netns_ident(NULL, &nsid, err))) { /* inside --netns already */
        json_decref(before);
        goto out;
    }
    op = json_pack("{s:s, s:o, s:o, s:i, s:s, s:I, s:o}", "type", "qdisc", "netns",
                   s->netns ? json_string(s->netns) : json_null(), "netns_id", nsid, "ifindex",
                   ifindex, "name", s->dev, "handle", (json_int_t)CH_QDISC_HANDLE, "before",
                   before);
    if (!op || json_object_update(op, params) || json_array_append(f->ops, op))
        rc = sq_errf(err, -ENOMEM, "out of memory");
out:
    json_decref(op);
    json_decref(params);
    free(hex);
    ch_netns_leave(saved);
    return rc;
}

/* Plans a bandwidth fault: a tbf with --rate on --dev (see plan_root). */
int ch_tc_plan(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    if (!s->dev || !s->rate_bps)
        return sq_errf(err, -EINVAL, "bandwidth needs --dev IF and --rate RATE (e.g. 1mbit)");
    if (s->pid || s->name || s->cmdline || s->pidfile || s->cgroup || s->port || s->src ||
        s->dst || s->peers || s->proto || s->direction || s->count || s->percent > 0 ||
        s->latency_ns || s->jitter_ns || s->max_conns)
        return sq_errf(err, -EINVAL, "bandwidth takes --dev and --rate (and --netns), nothing "
                                     "else");
    if (s->rate_bps / 8 > 0x7fffffffULL || s->rate_bps < 8000)
        return sq_errf(err, -EINVAL, "--rate: must be between 8kbit and 17gbit");
    uint64_t rate = s->rate_bps / 8;
    uint64_t burst = rate / 250 > 15140 ? rate / 250 : 15140;
    uint64_t limit = burst + rate / 20; /* about 50 ms of queue */
    return plan_root(f,
                     json_pack("{s:s, s:I, s:I, s:I}", "qdisc", "tbf", "rate_bytes",
                               (json_int_t)rate, "burst", (json_int_t)burst, "limit",
                               (json_int_t)limit),
                     "shape", err);
}

/* Packets netem may hold (iproute2's default). */
#define NETEM_LIMIT 1000

/* Plans delay --dev: a netem with --latency and --jitter (in µs) on --dev
 * (see plan_root), after checking that the kernel has netem. The caller
 * (ch_delay_plan) has validated the flags. For a dry run a missing netem
 * becomes a note, so that the operations can still be shown. */
int ch_tc_plan_netem(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    sq_err perr;
    int rc = ch_probe_netem(&perr);
    if (rc && !(s->dry_run && rc == -ENOTSUP))
        return sq_errf(err, rc, "%s", perr.msg);
    if (rc) {
        /* The note keeps the start of the probe's message (it names
         * sch_netem first) and what a real run would do. */
        const char *tail = "; a real run stops here (exit 3)";
        size_t room = sizeof f->note - strlen(tail) - 1;
        snprintf(f->note, sizeof f->note, "%.*s%s", (int)room, perr.msg, tail);
    }
    return plan_root(f,
                     json_pack("{s:s, s:I, s:I, s:i}", "qdisc", "netem", "latency_us",
                               (json_int_t)(s->latency_ns / 1000), "jitter_us",
                               (json_int_t)(s->jitter_ns / 1000), "limit", NETEM_LIMIT),
                     "delay", err);
}

/* The op's qdisc kind: "tbf" (also when absent, as bandwidth journaled it
 * before delay existed) or "netem"; NULL for anything else. */
static const char *op_qdisc(const json_t *op)
{
    const json_t *k = json_object_get(op, "qdisc");
    if (!k)
        return "tbf";
    const char *v = json_string_value(k);
    return v && (strcmp(v, "tbf") == 0 || strcmp(v, "netem") == 0) ? v : NULL;
}

/* 1 when the integer member key of o is within lo..hi. */
static int int_in(const json_t *o, const char *key, json_int_t lo, json_int_t hi)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* Checks a qdisc op as read back from a journal: squall's handle, a
 * positive ifindex, an interface name, sane tbf or netem numbers, the namespace
 * identity, and a "before" that is either a default or a kind + handle +
 * hex options that fit. 0 or -EINVAL with err set. */
static int tc_op_ok(const json_t *op, sq_err *err)
{
    const char *name = json_string_value(json_object_get(op, "name"));
    const json_t *before = json_object_get(op, "before");
    const char *kind = json_string_value(json_object_get(before, "kind"));
    const json_t *hexj = json_object_get(before, "options");
    const char *q = op_qdisc(op);
    int params = q && strcmp(q, "netem") == 0
                     ? int_in(op, "latency_us", 1, CH_DELAY_MAX_NS / 1000) &&
                           int_in(op, "jitter_us", 0,
                                  json_integer_value(json_object_get(op, "latency_us"))) &&
                           int_in(op, "limit", 1, 0x7fffffff)
                     : q && int_in(op, "rate_bytes", 1, 0x7fffffff) &&
                           int_in(op, "burst", 1, 0x7fffffff) && int_in(op, "limit", 1, 0x7fffffff);
    int ok = name && *name && strlen(name) < IFNAMSIZ && int_in(op, "ifindex", 1, 0x7fffffff) &&
             int_in(op, "handle", CH_QDISC_HANDLE, CH_QDISC_HANDLE) && params &&
             ch_netns_ident_ok(op) &&
             json_is_object(before) && json_is_boolean(json_object_get(before, "default")) &&
             kind && strlen(kind) < 32;
    if (ok && !json_is_true(json_object_get(before, "default"))) {
        const char *hex = json_string_value(hexj);
        ok = *kind && int_in(before, "handle", 1, 0xffffffffLL) &&
             json_integer_value(json_object_get(before, "handle")) != CH_QDISC_HANDLE &&
             (!hexj || json_is_null(hexj) ||
              (hex && strlen(hex) % 2 == 0 && strlen(hex) <= 2 * 4096 &&
               strspn(hex, "0123456789abcdef") == strlen(hex)));
    }
    if (!ok)
        return sq_errf(err, -EINVAL, "journal: a qdisc op that squall would not write; not "
                                     "touched");
    return 0;
}

/* Sets the qdisc's kind and its own parameters from the op: tbf (rate,
 * burst, limit) or netem (delay and jitter in µs, limit in packets). */
static int set_params(struct rtnl_qdisc *q, const json_t *op, const char *kind, sq_err *err)
{
    if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0)
        return sq_errf(err, -ENOTSUP, "libnl does not know the %s qdisc", kind);
    int limit = (int)json_integer_value(json_object_get(op, "limit"));
    if (strcmp(kind, "netem") == 0) {
        rtnl_netem_set_delay(q, (int)json_integer_value(json_object_get(op, "latency_us")));
        rtnl_netem_set_jitter(q, (int)json_integer_value(json_object_get(op, "jitter_us")));
        rtnl_netem_set_limit(q, limit);
    } else {
        rtnl_qdisc_tbf_set_rate(q, (int)json_integer_value(json_object_get(op, "rate_bytes")),
                                (int)json_integer_value(json_object_get(op, "burst")), 0);
        rtnl_qdisc_tbf_set_limit(q, limit);
    }
    return 0;
}

/* Puts squall's qdisc (tbf or netem) at the root of the op's device and
 * verifies it. */
int ch_tc_apply(const json_t *op, sq_err *err)
{
    const char *name = json_string_value(json_object_get(op, "name"));
    const char *kind = op_qdisc(op);
    int ifindex = (int)json_integer_value(json_object_get(op, "ifindex"));
    struct nl_sock *sk = NULL;
    struct rtnl_qdisc *q = NULL;
    int saved = -1, rc;
    root_qdisc r;
    if ((rc = tc_op_ok(op, err)) || (rc = ch_netns_enter_op(op, &saved, err)))
        return rc;
    if ((rc = ch_route_sock(&sk, err)))
        goto out;
    q = rtnl_qdisc_alloc();
    if (!q) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    rtnl_tc_set_handle(TC_CAST(q), CH_QDISC_HANDLE);
    if ((rc = set_params(q, op, kind, err)))
        goto out;
    int e = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
    if (e < 0) {
        rc = sq_errf(err, e == -NLE_PERM ? -EPERM : -EIO, "netlink: adding %s on %s: %s%s", kind,
                     name, nl_geterror(e),
                     e == -NLE_OBJ_NOTFOUND || e == -NLE_OPNOTSUPP
                         ? strcmp(kind, "netem") == 0 ? " (the kernel may lack sch_netem)"
                                                      : " (the kernel may lack sch_tbf)"
                         : "");
        goto out;
    }
    if ((rc = read_root(ifindex, &r, err)))
        goto out;
    if (!r.found || r.handle != CH_QDISC_HANDLE || strcmp(r.kind, kind) != 0)
        rc = sq_errf(err, -EIO, "%s: squall's %s is not the root qdisc after adding it", name,
                     kind);
out:
    if (q)
        rtnl_qdisc_put(q);
    if (sk)
        nl_socket_free(sk);
    ch_netns_leave(saved);
    return rc;
}

/* Restores the root qdisc the op journaled: deletes squall's tbf when the
 * root was the kernel's default, or replaces it with the journaled kind,
 * handle and options. Only acts while the root is squall's own handle;
 * verifies the result. Idempotent. */
int ch_tc_revert(const json_t *op, sq_err *err)
{
    const char *name = json_string_value(json_object_get(op, "name"));
    int ifindex = (int)json_integer_value(json_object_get(op, "ifindex"));
    const json_t *before = json_object_get(op, "before");
    int is_default = json_is_true(json_object_get(before, "default"));
    struct nl_sock *sk = NULL;
    struct nl_msg *msg = NULL;
    int saved = -1, rc, e;
    root_qdisc r;
    if ((rc = tc_op_ok(op, err)))
        return rc;
    if ((rc = ch_netns_enter_op(op, &saved, err))) {
        if (rc != -ESTALE)
            return rc;
        /* The namespace and its devices are gone (or it was replaced). */
        ch_report_gone(op, "qdisc", err ? err->msg : "gone");
        return 0;
    }
    if ((rc = read_root(ifindex, &r, err)))
        goto out;
    if (!r.found || r.handle != CH_QDISC_HANDLE)
        goto out; /* not ours (any more): nothing to do */
    if ((rc = ch_route_sock(&sk, err)))
        goto out;
    struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = TC_H_ROOT};
    if (is_default) {
        t.tcm_handle = CH_QDISC_HANDLE;
        msg = nlmsg_alloc_simple(RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK);
    } else {
        t.tcm_handle = (uint32_t)json_integer_value(json_object_get(before, "handle"));
        msg = nlmsg_alloc_simple(RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                                                   NLM_F_REPLACE);
    }
    if (!msg || nlmsg_append(msg, &t, sizeof t, NLMSG_ALIGNTO) < 0) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (!is_default) {
        const char *kind = json_string_value(json_object_get(before, "kind"));
        const char *hex = json_string_value(json_object_get(before, "options"));
        unsigned char *opts = malloc(4096);
        int n = hex && opts ? from_hex(hex, opts, 4096) : -1;
        int bad = !kind || nla_put_string(msg, TCA_KIND, kind) < 0 ||
                  (n >= 0 && nla_put(msg, TCA_OPTIONS, n, opts) < 0) || (hex && n < 0);
        free(opts);
        if (bad) {
            rc = sq_errf(err, -EINVAL, "journal: bad qdisc to restore on %s", name);
            goto out;
        }
    }
    if ((e = nl_send_auto(sk, msg)) < 0 || (e = nl_wait_for_ack(sk)) < 0) {
        rc = sq_errf(err, -EIO, "netlink: restoring the root qdisc of %s: %s", name,
                     nl_geterror(e));
        goto out;
    }
    if ((rc = read_root(ifindex, &r, err)))
        goto out;
    if (is_default) {
        if (r.found && r.handle == CH_QDISC_HANDLE)
            rc = sq_errf(err, -EIO, "%s: the original root qdisc is not back", name);
    } else {
        /* Handle, kind and the exact option bytes must all be back. */
        const char *kind = json_string_value(json_object_get(before, "kind"));
        const char *hex = json_string_value(json_object_get(before, "options"));
        char *now = r.opts_len >= 0 ? to_hex(r.opts, r.opts_len) : NULL;
        if (!r.found ||
            r.handle != (uint32_t)json_integer_value(json_object_get(before, "handle")) ||
            strcmp(r.kind, kind) != 0 || (hex == NULL) != (now == NULL) ||
            (hex && strcmp(hex, now) != 0))
            rc = sq_errf(err, -EIO, "%s: the original root qdisc (%s %x:) is not back exactly",
                         name, kind, (unsigned)(json_integer_value(json_object_get(before,
                                                                                    "handle")) >>
                                                16));
        free(now);
    }
out:
    if (msg)
        nlmsg_free(msg);
    if (sk)
        nl_socket_free(sk);
    ch_netns_leave(saved);
    return rc;
}

/* Active while squall's handle is the device's root qdisc. */
int ch_tc_check(const json_t *op, int *active, sq_err *err)
{
    int ifindex = (int)json_integer_value(json_object_get(op, "ifindex"));
    int saved = -1, rc;
    root_qdisc r;
    *active = 0;
    if ((rc = tc_op_ok(op, err)))
        return rc;
    if ((rc = ch_netns_enter_op(op, &saved, err)))
        return rc == -ESTALE ? 0 : rc;
    rc = read_root(ifindex, &r, err);
    ch_netns_leave(saved);
    if (rc == 0)
        *active = r.found && r.handle == CH_QDISC_HANDLE;
    return rc;
}

/* Prints the netlink messages of a bandwidth or delay --dev fault and its
 * revert. */
void ch_tc_describe(const json_t *op, FILE *out)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    const json_t *before = json_object_get(op, "before");
    const char *kind = json_string_value(json_object_get(before, "kind"));
    const char *q = op_qdisc(op);
    fprintf(out, "  netlink RTM_NEWQDISC ifindex %d (%s%s%s) parent root handle %x: ",
            (int)json_integer_value(json_object_get(op, "ifindex")),
            json_string_value(json_object_get(op, "name")), netns ? ", netns " : "",
            netns ? netns : "", CH_QDISC_HANDLE >> 16);
    if (q && strcmp(q, "netem") == 0)
        fprintf(out, "netem delay %lld us jitter %lld us limit %lld (create, replace; libnl "
                     "rtnl_netem_set_delay/jitter/limit)\n",
                (long long)json_integer_value(json_object_get(op, "latency_us")),
                (long long)json_integer_value(json_object_get(op, "jitter_us")),
                (long long)json_integer_value(json_object_get(op, "limit")));
    else
        fprintf(out, "tbf rate %lld bytes/s burst %lld limit %lld (create, replace)\n",
                (long long)json_integer_value(json_object_get(op, "rate_bytes")),
                (long long)json_integer_value(json_object_get(op, "burst")),
                (long long)json_integer_value(json_object_get(op, "limit")));
    fprintf(out, "  then: netlink RTM_GETQDISC dump, verify the root is %x: %s\n",
            CH_QDISC_HANDLE >> 16, q ? q : "?");
    if (json_is_true(json_object_get(before, "default")))
        fprintf(out, "  revert: netlink RTM_DELQDISC handle %x: (the kernel's default %s comes "
                     "back)\n",
                CH_QDISC_HANDLE >> 16, kind && *kind ? kind : "qdisc");
    else
        fprintf(out, "  revert: netlink RTM_NEWQDISC root handle %llx: %s with its journaled "
                     "options (replace)\n",
                (unsigned long long)json_integer_value(json_object_get(before, "handle")) >> 16,
                kind);
}

/* One line about a qdisc op for status output. */
void ch_tc_summary(const json_t *op, char *buf, size_t len)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    const char *name = json_string_value(json_object_get(op, "name"));
    const char *q = op_qdisc(op);
    char what[96];
    if (q && strcmp(q, "netem") == 0)
        snprintf(what, sizeof what, "netem delay %.3f ms ± %.3f ms",
                 (double)json_integer_value(json_object_get(op, "latency_us")) / 1e3,
                 (double)json_integer_value(json_object_get(op, "jitter_us")) / 1e3);
    else
        snprintf(what, sizeof what, "tbf %lld bytes/s",
                 (long long)json_integer_value(json_object_get(op, "rate_bytes")));
    snprintf(buf, len, "%s on %s (ifindex %d)%s%s", what, name ? name : "?",
             (int)json_integer_value(json_object_get(op, "ifindex")), netns ? " in netns " : "",
             netns ? netns : "");
}
