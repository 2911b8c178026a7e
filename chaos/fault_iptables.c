/* fault_iptables.c — drop, reject, loss and partition faults as iptables
 * rules in squall's own chains (SQUALL-IN from INPUT, SQUALL-OUT from
 * OUTPUT), and the nat rules of delay --port (SQUALL-NAT-PRE from
 * PREROUTING, SQUALL-NAT-OUT from OUTPUT), jumped to at position 1 so that
 * they take effect above any existing rule. Rules are added in one
 * `iptables-restore --noflush` transaction and removed by their exact
 * journaled text; each carries the comment "squall:<fault id>". Programs
 * run with an argv, never a shell. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

#define IPT_LOCK "/run/squall-iptables.lock"

/* A table squall writes to, and its two chains with their parents. */
typedef struct ipt_table {
    const char *name;
    const char *chains[2][2]; /* {our chain, built-in chain that jumps to it} */
} ipt_table;

static const ipt_table ipt_tables[] = {
    {"filter", {{CH_CHAIN_IN, "INPUT"}, {CH_CHAIN_OUT, "OUTPUT"}}},
    {"nat", {{CH_CHAIN_NAT_PRE, "PREROUTING"}, {CH_CHAIN_NAT_OUT, "OUTPUT"}}},
};

/* The table an op names ("table"; absent = filter, as journals had it
 * before nat), or NULL for any other. */
static const ipt_table *op_table(const json_t *op)
{
    const json_t *t = json_object_get(op, "table");
    if (!t)
        return &ipt_tables[0];
    const char *v = json_string_value(t);
    for (size_t i = 0; v && i < sizeof ipt_tables / sizeof ipt_tables[0]; i++)
        if (strcmp(v, ipt_tables[i].name) == 0)
            return &ipt_tables[i];
    return NULL;
}

/* Appends string tokens to the JSON array a (NULL-terminated list). */
void ch_ipt_push(json_t *a, ...)
{
    va_list ap;
    va_start(ap, a);
    const char *t;
    while ((t = va_arg(ap, const char *)))
        json_array_append_new(a, json_string(t));
    va_end(ap);
}

/* Makes one rule object {"chain","parent","args":[]} and appends it. */
static json_t *new_rule(json_t *rules, int dir)
{
    json_t *r = json_pack("{s:s, s:s, s:[]}", "chain",
                          dir == CH_DIR_IN ? CH_CHAIN_IN : CH_CHAIN_OUT, "parent",
                          dir == CH_DIR_IN ? "INPUT" : "OUTPUT", "args");
    json_array_append_new(rules, r);
    return json_object_get(r, "args");
}

/* Adds the leading "! -i lo" / "! -o lo" guard unless forced. */
static void push_guard(json_t *a, const ch_spec *s, int dir)
{
    if (!s->force)
        ch_ipt_push(a, "!", dir == CH_DIR_IN ? "-i" : "-o", "lo", NULL);
}

/* Adds the fault's comment and target. */
static void push_tail(json_t *a, const ch_spec *s, const char *id, const char *reject_with)
{
    char comment[96];
    snprintf(comment, sizeof comment, "squall:%s", id);
    if (s->kind == CH_LOSS) {
        char p[32];
        snprintf(p, sizeof p, "%.6f", s->probability);
        ch_ipt_push(a, "-m", "statistic", "--mode", "random", "--probability", p, NULL);
    }
    ch_ipt_push(a, "-m", "comment", "--comment", comment, NULL);
    if (s->kind == CH_REJECT)
        ch_ipt_push(a, "-j", "REJECT", "--reject-with", reject_with, NULL);
    else
        ch_ipt_push(a, "-j", "DROP", NULL);
}

/* Builds the rules of a network fault (see ch_internal.h). */
int ch_ipt_rules(const ch_spec *s, const char *id, json_t *rules, sq_err *err)
{
    const char *proto = s->proto;
    int rc;
    if (proto && strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "icmp") &&
        strcmp(proto, "all"))
        return sq_errf(err, -EINVAL, "--proto: '%s' is not one of tcp, udp, icmp, all", proto);
    if (!proto)
        proto = s->port ? "tcp" : "all";
    if (s->port && (strcmp(proto, "icmp") == 0 || strcmp(proto, "all") == 0))
        return sq_errf(err, -EINVAL, "--port needs --proto tcp or udp, not %s", proto);
    if (s->src && (rc = ch_parse_cidr("--src", s->src, err)))
        return rc;
    if (s->dst && (rc = ch_parse_cidr("--dst", s->dst, err)))
        return rc;
    if (s->src && (rc = ch_protect_cidr("--src", s->src, s->force, err)))
        return rc;
    if (s->dst && (rc = ch_protect_cidr("--dst", s->dst, s->force, err)))
        return rc;
    if (s->port == 22 && !s->force)
        return sq_errf(err, -EPERM, "--port 22 is SSH, which is protected; add --force to "
                                    "fault it anyway");
    const char *reject_with = NULL;
    if (s->kind == CH_REJECT) {
        const char *w = s->reject_with ? s->reject_with
                                       : strcmp(proto, "tcp") == 0 ? "tcp-reset" : "icmp";
        if (strcmp(w, "tcp-reset") == 0) {
            if (strcmp(proto, "tcp") != 0)
                return sq_errf(err, -EINVAL, "--with tcp-reset needs --proto tcp");
            reject_with = "tcp-reset";
        } else if (strcmp(w, "icmp") == 0) {
            reject_with = "icmp-port-unreachable";
        } else {
            return sq_errf(err, -EINVAL, "--with: '%s' is not tcp-reset or icmp", w);
        }
    } else if (s->reject_with) {
        return sq_errf(err, -EINVAL, "--with applies to reject only");
    }
    if (s->kind == CH_LOSS && !(s->probability > 0 && s->probability <= 1))
        return sq_errf(err, -EINVAL, "loss needs --probability P with 0 < P <= 100%%");
    if (s->kind != CH_LOSS && s->probability > 0)
        return sq_errf(err, -EINVAL, "--probability applies to loss only");

    int dirs = s->direction ? s->direction : CH_DIR_IN;
    char peers[1024] = "";
    if (s->kind == CH_PARTITION) {
        if (!s->peers || !*s->peers)
            return sq_errf(err, -EINVAL, "partition needs --peers CIDR[,CIDR...]");
        if (s->direction && s->direction != CH_DIR_BOTH)
            return sq_errf(err, -EINVAL, "a partition cuts both directions; drop --direction or "
                                         "use drop for one direction");
        if (s->src || s->dst)
            return sq_errf(err, -EINVAL, "partition takes --peers, not --src/--dst");
        if (strlen(s->peers) >= sizeof peers)
            return sq_errf(err, -EINVAL, "--peers: list too long");
        snprintf(peers, sizeof peers, "%s", s->peers);
        for (char *save = NULL, *p = strtok_r(peers, ",", &save); p;
             p = strtok_r(NULL, ",", &save)) {
            if ((rc = ch_parse_cidr("--peers", p, err)) ||
                (rc = ch_protect_cidr("--peers", p, s->force, err)))
                return rc;
        }
        snprintf(peers, sizeof peers, "%s", s->peers);
        dirs = CH_DIR_BOTH;
    } else if (s->peers) {
        return sq_errf(err, -EINVAL, "--peers applies to partition only");
    }

    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    for (int dir = CH_DIR_IN; dir <= CH_DIR_OUT; dir <<= 1) {
        if (!(dirs & dir))
            continue;
        /* A rule that matches every TCP port would cut SSH: exempt port 22
         * first (RETURN leaves our chain for the rest of the ruleset). */
        if (!s->port && (strcmp(proto, "all") == 0 || strcmp(proto, "tcp") == 0) && !s->force) {
            json_t *a = new_rule(rules, dir);
            char comment[96];
            snprintf(comment, sizeof comment, "squall:%s", id);
            ch_ipt_push(a, "-p", "tcp", "-m", "multiport", "--ports", "22", "-m", "comment",
                        "--comment", comment, "-j", "RETURN", NULL);
        }
        if (s->kind == CH_PARTITION) {
            char tmp[1024];
            snprintf(tmp, sizeof tmp, "%s", peers);
            for (char *save = NULL, *p = strtok_r(tmp, ",", &save); p;
                 p = strtok_r(NULL, ",", &save)) {
                json_t *a = new_rule(rules, dir);
                push_guard(a, s, dir);
                if (strcmp(proto, "all") != 0)
                    ch_ipt_push(a, "-p", proto, NULL);
                if (s->port)
                    ch_ipt_push(a, "-m", "multiport", "--ports", port, NULL);
                ch_ipt_push(a, dir == CH_DIR_IN ? "-s" : "-d", p, NULL);
                push_tail(a, s, id, reject_with);
            }
            continue;
        }
        json_t *a = new_rule(rules, dir);
        push_guard(a, s, dir);
        if (strcmp(proto, "all") != 0)
            ch_ipt_push(a, "-p", proto, NULL);
        if (s->port)
            ch_ipt_push(a, "-m", "multiport", "--ports", port, NULL);
        if (s->src)
            ch_ipt_push(a, "-s", s->src, NULL);
        if (s->dst)
            ch_ipt_push(a, "-d", s->dst, NULL);
        push_tail(a, s, id, reject_with);
    }
    return 0;
}

/* Plans an iptables fault: one op holding every rule. */
int ch_ipt_plan(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    if (s->pid || s->name || s->cmdline || s->pidfile || s->cgroup || s->dev || s->rate_bps)
        return sq_errf(err, -EINVAL, "%s takes network options (--port, --proto, --src, --dst, "
                                     "--direction%s), not process or device selectors",
                       ch_kind_name(s->kind), s->kind == CH_PARTITION ? ", --peers" : "");
    if (s->count || s->percent > 0)
        return sq_errf(err, -EINVAL, "--count/--percent apply to kill and stop only");
    json_t *rules = json_array();
    int rc = ch_ipt_rules(s, f->id, rules, err);
    if (rc) {
        json_decref(rules);
        return rc;
    }
    json_t *nsid = NULL;
    if ((rc = ch_netns_ident(s->netns, &nsid, err))) {
        json_decref(rules);
        return rc == -ENOENT ? sq_errf(err, -ENOENT, "--netns: no network namespace '%s'",
                                       s->netns ? s->netns : "?")
                             : rc;
    }
    if ((rc = ch_protect_load(s, rules, err))) {
        json_decref(nsid);
        json_decref(rules);
        return rc;
    }
    json_t *op = json_pack("{s:s, s:s, s:o, s:o, s:o}", "type", "iptables", "fault", f->id,
                           "netns", s->netns ? json_string(s->netns) : json_null(), "netns_id",
                           nsid, "rules", rules);
    if (!op || json_array_append_new(f->ops, op))
        return sq_errf(err, -ENOMEM, "out of memory");
    return 0;
}

/* 1 when the nat rule's args end with "-j REDIRECT --to-ports N" (N a
 * port) and name no other target: the only nat rule squall writes. */
static int nat_target_ok(const json_t *args)
{
    size_t n = json_array_size(args), jumps = 0;
    for (size_t i = 0; i < n; i++)
        jumps += strcmp(json_string_value(json_array_get(args, i)), "-j") == 0 ||
                 strcmp(json_string_value(json_array_get(args, i)), "-g") == 0;
    if (jumps != 1 || n < 4 || strcmp(json_string_value(json_array_get(args, n - 4)), "-j") ||
        strcmp(json_string_value(json_array_get(args, n - 3)), "REDIRECT") ||
        strcmp(json_string_value(json_array_get(args, n - 2)), "--to-ports"))
        return 0;
    const char *port = json_string_value(json_array_get(args, n - 1));
    char *end;
    long v = strtol(port, &end, 10);
    return *port >= '1' && *port <= '9' && !*end && v >= 1 && v <= 65535;
}

/* Checks one rule object as read back from a journal: one of the table's
 * chains, and tokens that cannot break out of an iptables-restore line (no
 * blanks, quotes or control characters); in nat, only a REDIRECT. 1 when
 * fine. */
static int rule_ok(const json_t *r, const ipt_table *tb)
{
    const char *chain = json_string_value(json_object_get(r, "chain"));
    const json_t *args = json_object_get(r, "args");
    size_t i;
    json_t *t;
    if (!chain || (strcmp(chain, tb->chains[0][0]) && strcmp(chain, tb->chains[1][0])) ||
        !json_is_array(args) || json_array_size(args) == 0 || json_array_size(args) > 64)
        return 0;
    json_array_foreach(args, i, t)
    {
        const char *v = json_string_value(t);
        if (!v || !*v || strlen(v) > 200)
            return 0;
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\'' || *p == '\\' || *p == 127)
                return 0;
    }
    return strcmp(tb->name, "nat") != 0 || nat_target_ok(args);
}

/* Checks every rule of op; 0 or -EINVAL with err set. */
static int op_ok(const json_t *op, sq_err *err)
{
    const json_t *rules = json_object_get(op, "rules");
    size_t i;
    json_t *r;
    const char *netns = json_string_value(json_object_get(op, "netns"));
    int rc;
    if (netns && (rc = ch_netns_name_ok(netns, err)))
        return rc;
    const ipt_table *tb = op_table(op);
    if (!tb)
        return sq_errf(err, -EINVAL, "journal: an iptables op for a table squall does not "
                                     "write; not touched");
    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return sq_errf(err, -EINVAL, "journal: an iptables op without rules");
    if (!ch_netns_ident_ok(op))
        return sq_errf(err, -EINVAL, "journal: an iptables op without a network namespace "
                                     "identity; not touched");
    json_array_foreach(rules, i, r)
    {
        if (!rule_ok(r, tb))
            return sq_errf(err, -EINVAL,
                           "journal: iptables rule %zu is not one squall would write; not touched",
                           i);
    }
    return 0;
}

/* Joins a rule's args with spaces into buf (tokens never hold spaces). */
static char *join_args(const json_t *args, char *buf, size_t len)
{
    size_t n = 0, i;
    json_t *t;
    buf[0] = '\0';
    json_array_foreach(args, i, t)
    {
        int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "", json_string_value(t));
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    return buf;
}

/* Takes the squall iptables lock (serialises our save/restore pairs across
 * agents); returns the fd, or a negative errno with err set when it cannot
 * be had (then nothing may run: an unserialised read-modify-write could
 * undo another agent's transaction). The descriptor is deliberately
 * inherited by the iptables programs we run, so that the lock stays held
 * until an iptables-restore started by an agent that was killed meanwhile
 * has finished: the watchdog's revert then sees its rules. */
static int ipt_lock(sq_err *err)
{
    int fd = open(IPT_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0)
        return sq_errf(err, -errno, "cannot open the iptables lock %s: %s", IPT_LOCK,
                       strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return sq_errf(err, -e, "cannot lock %s: %s", IPT_LOCK, strerror(e));
    }
    return fd;
}

/* Releases the lock from ipt_lock (nothing for -1). */
static void ipt_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Runs iptables-save -t TABLE in netns into *out (caller frees). */
static int ipt_save(const char *netns, const ipt_table *tb, char **out, sq_err *err)
{
    const char *argv[] = {"iptables-save", "-t", tb->name, NULL};
    int status, rc = ch_exec(argv, netns, NULL, out, &status, err);
    if (rc)
        return rc;
    if (status != 0) {
        rc = sq_errf(err, -EIO, "iptables-save failed (exit %d): %.200s", status, *out);
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* Whether the save text has the line (exact, whole line); counts copies. */
static int count_lines(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l == len && memcmp(p, line, len) == 0)
            n++;
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

/* The first "-A PARENT " line of the save text equals jump? */
static int jump_is_first(const char *text, const char *parent, const char *jump)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "-A %s ", parent);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            return l == strlen(jump) && memcmp(p, jump, l) == 0;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Whether chain has any rule in the save text. */
static int chain_has_rules(const char *text, const char *chain)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n-A %s ", chain);
    return strstr(text, prefix) != NULL;
}

/* Whether the chain is declared in the save text. */
static int chain_exists(const char *text, const char *chain)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n:%s ", chain);
    return strstr(text, prefix) != NULL;
}

/* A growing text buffer for iptables-restore input. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends formatted text to b (silently truncates on out of memory). */
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[2048];
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if (b->n + (size_t)w + 1 > b->cap) {
        size_t ncap = (b->cap + (size_t)w + 1) * 2;
        char *ns = realloc(b->s, ncap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->n, tmp, (size_t)w + 1);
    b->n += (size_t)w;
}

/* Builds the restore input that adds op's rules given the current save
 * text of its table (NULL for a dry run: assume nothing of ours exists). */
static void build_apply_input(const json_t *op, const char *save, sbuf *b)
{
    const ipt_table *tb = op_table(op);
    const char *const(*chains)[2] = tb->chains;
    const json_t *rules = json_object_get(op, "rules");
    size_t i;
    json_t *r;
    char line[2048];
    sb_add(b, "*%s\n", tb->name);
    for (size_t c = 0; c < 2; c++) {
        int used = 0;
        json_array_foreach(rules, i, r)
        {
            const char *ch = json_string_value(json_object_get(r, "chain"));
            used |= ch && strcmp(ch, chains[c][0]) == 0;
        }
        if (!used)
            continue;
        if (!save || !chain_exists(save, chains[c][0]))
            sb_add(b, ":%s - [0:0]\n", chains[c][0]);
        char jump[256];
        snprintf(jump, sizeof jump, "-A %s -m comment --comment %s -j %s", chains[c][1],
                 CH_JUMP_COMMENT, chains[c][0]);
        if (!save || !jump_is_first(save, chains[c][1], jump)) {
            int copies = save ? count_lines(save, jump) : 0;
            for (int k = 0; k < copies; k++)
                sb_add(b, "-D %s -m comment --comment %s -j %s\n", chains[c][1], CH_JUMP_COMMENT,
                       chains[c][0]);
            sb_add(b, "-I %s 1 -m comment --comment %s -j %s\n", chains[c][1], CH_JUMP_COMMENT,
                   chains[c][0]);
        }
    }
    json_array_foreach(rules, i, r)
    {
        sb_add(b, "-A %s %s\n", json_string_value(json_object_get(r, "chain")),
               join_args(json_object_get(r, "args"), line, sizeof line));
    }
    sb_add(b, "COMMIT\n");
}

/* Runs iptables-restore --noflush with input in netns. */
static int ipt_restore(const char *netns, const char *input, sq_err *err)
{
    const char *argv[] = {"iptables-restore", "--noflush", "-w", "5", NULL};
    char *out = NULL;
    int status, rc = ch_exec(argv, netns, input, &out, &status, err);
    if (rc)
        return rc;
    if (status != 0) {
        size_t l = strlen(out);
        while (l && out[l - 1] == '\n')
            out[--l] = '\0';
        rc = sq_errf(err, -EIO, "iptables-restore failed (exit %d): %.300s", status, out);
    }
    free(out);
    return rc;
}

/* Applies an iptables op: chains and jumps as needed, then every rule, in
 * one iptables-restore --noflush transaction. */
int ch_ipt_apply(const json_t *op, sq_err *err)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    char *save = NULL;
    sbuf b = {0};
    int rc = op_ok(op, err), saved = -1;
    if (rc)
        return rc;
    int lock = ipt_lock(err);
    if (lock < 0)
        return lock;
    /* Into the journaled namespace, checked by identity; the iptables
     * programs inherit it (netns NULL below). */
    if ((rc = ch_netns_enter_op(op, &saved, err)))
        goto out;
    netns = NULL;
    if ((rc = ipt_save(netns, op_table(op), &save, err)))
        goto out;
    build_apply_input(op, save, &b);
    if (!b.s) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    rc = ipt_restore(netns, b.s, err);
out:
    ch_netns_leave(saved);
    ipt_unlock(lock);
    free(save);
    free(b.s);
    return rc;
}

/* Runs `iptables -w -t TABLE -C CHAIN ARGS...`: 1 when the rule exists, 0
 * when not (or the chain is gone), negative errno when iptables cannot run. */
static int rule_exists(const char *netns, const ipt_table *tb, const json_t *rule, sq_err *err)
{
    const json_t *args = json_object_get(rule, "args");
    size_t n = json_array_size(args), i;
    const char **argv = calloc(n + 8, sizeof *argv);
    if (!argv)
        return sq_errf(err, -ENOMEM, "out of memory");
    size_t k = 0;
    argv[k++] = "iptables";
    argv[k++] = "-w";
    argv[k++] = "5";
    argv[k++] = "-t";
    argv[k++] = tb->name;
    argv[k++] = "-C";
    argv[k++] = json_string_value(json_object_get(rule, "chain"));
    json_t *t;
    json_array_foreach(args, i, t) argv[k++] = json_string_value(t);
    argv[k] = NULL;
    char *out = NULL;
    int status, rc = ch_exec(argv, netns, NULL, &out, &status, err);
    free(argv);
    if (rc == 0) {
        if (status == 0)
            rc = 1;
        else if (status == 1)
            rc = 0;
        else
            rc = sq_errf(err, -EIO, "iptables -C failed (exit %d): %.200s", status, out);
    }
    free(out);
    return rc;
}

/* Reverts an iptables op: deletes exactly the journaled rules that are
 * still there (one transaction), verifies they are gone, then removes our
 * chains and their jumps when no rule is left in them. Idempotent. */
int ch_ipt_revert(const json_t *op, sq_err *err)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    const json_t *rules = json_object_get(op, "rules");
    char *save = NULL, line[2048];
    sbuf b = {0};
    size_t i;
    json_t *r;
    int rc = op_ok(op, err), lock = -1, any = 0, saved = -1;
    if (rc)
        return rc;
    const ipt_table *tb = op_table(op);
    lock = ipt_lock(err);
    if (lock < 0)
        return lock;
    if ((rc = ch_netns_enter_op(op, &saved, err))) {
        if (rc == -ESTALE) {
            /* The namespace is gone (or replaced), and every rule with it. */
            ch_report_gone(op, "iptables rules", err ? err->msg : "gone");
            rc = 0;
        }
        goto out;
    }
    netns = NULL; /* inherited by the programs from this thread */
    for (int round = 0; round < 4; round++) {
        free(b.s);
        b = (sbuf){0};
        any = 0;
        sb_add(&b, "*%s\n", tb->name);
        json_array_foreach(rules, i, r)
        {
            int ex = rule_exists(netns, tb, r, err);
            if (ex < 0) {
                rc = ex;
                goto out;
            }
            if (ex) {
                any = 1;
                sb_add(&b, "-D %s %s\n", json_string_value(json_object_get(r, "chain")),
                       join_args(json_object_get(r, "args"), line, sizeof line));
            }
        }
        sb_add(&b, "COMMIT\n");
        if (!any)
            break;
        if ((rc = ipt_restore(netns, b.s, err)))
            goto out;
    }
    if (any) {
        rc = sq_errf(err, -EIO, "iptables rules of %s are still present after deleting them",
                     json_string_value(json_object_get(op, "fault")));
        goto out;
    }
    /* Remove our chains (and the jumps to them) once empty. */
    if ((rc = ipt_save(netns, tb, &save, err)))
        goto out;
    free(b.s);
    b = (sbuf){0};
    any = 0;
    sb_add(&b, "*%s\n", tb->name);
    const char *const(*chains)[2] = tb->chains;
    for (size_t c = 0; c < 2; c++) {
        if (!chain_exists(save, chains[c][0]) || chain_has_rules(save, chains[c][0]))
            continue;
        char jump[256];
        snprintf(jump, sizeof jump, "-A %s -m comment --comment %s -j %s", chains[c][1],
                 CH_JUMP_COMMENT, chains[c][0]);
        int copies = count_lines(save, jump);
        for (int k = 0; k < copies; k++)
            sb_add(&b, "-D %s -m comment --comment %s -j %s\n", chains[c][1], CH_JUMP_COMMENT,
                   chains[c][0]);
        sb_add(&b, "-X %s\n", chains[c][0]);
        any = 1;
    }
    sb_add(&b, "COMMIT\n");
    if (any && (rc = ipt_restore(netns, b.s, err))) {
        /* Another rule may have arrived in the chain meanwhile (another
         * agent); the fault's own rules are gone, which is what matters. */
        sq_errf(err, 0, "%s", "");
        rc = 0;
    }
out:
    ch_netns_leave(saved);
    ipt_unlock(lock);
    free(save);
    free(b.s);
    return rc;
}

/* Active while any of the op's rules is present. */
int ch_ipt_check(const json_t *op, int *active, sq_err *err)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    size_t i;
    json_t *r;
    *active = 0;
    int rc = op_ok(op, err), saved = -1;
    if (rc)
        return rc;
    if ((rc = ch_netns_enter_op(op, &saved, err)))
        return rc == -ESTALE ? 0 : rc; /* a namespace that is gone holds no rules */
    (void)netns;
    json_array_foreach(json_object_get(op, "rules"), i, r)
    {
        int ex = rule_exists(NULL, op_table(op), r, err);
        if (ex < 0) {
            rc = ex;
            break;
        }
        if (ex)
            *active = 1;
    }
    ch_netns_leave(saved);
    return rc;
}

/* Prints the iptables-restore input that applies op and the deletions that
 * revert it. */
void ch_ipt_describe(const json_t *op, FILE *out)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    sbuf b = {0};
    build_apply_input(op, NULL, &b);
    fprintf(out, "  iptables-restore --noflush -w 5 <<EOF  (chain and jump lines only when "
                 "missing)\n");
    if (netns)
        fprintf(out, "    (run in network namespace '%s')\n", netns);
    for (char *p = b.s, *save = NULL, *l = p ? strtok_r(p, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        fprintf(out, "    %s\n", l);
    fprintf(out, "  EOF\n");
    free(b.s);
    size_t i;
    json_t *r;
    char line[2048];
    const ipt_table *tb = op_table(op);
    fprintf(out, "  revert: iptables-restore --noflush <<EOF\n    *%s\n", tb->name);
    json_array_foreach(json_object_get(op, "rules"), i, r)
    {
        fprintf(out, "    -D %s %s\n", json_string_value(json_object_get(r, "chain")),
                join_args(json_object_get(r, "args"), line, sizeof line));
    }
    fprintf(out, "    COMMIT\n  EOF\n  revert: then -D the jump and -X %s / %s when empty\n",
            tb->chains[0][0], tb->chains[1][0]);
}

/* One line about an iptables op for status output: the rule count and
 * chains, and for delay's nat rules where they send connections. */
void ch_ipt_summary(const json_t *op, char *buf, size_t len)
{
    const char *netns = json_string_value(json_object_get(op, "netns"));
    const ipt_table *tb = op_table(op);
    const json_t *px = json_object_get(op, "proxy");
    size_t n = json_array_size(json_object_get(op, "rules"));
    if (!tb) {
        snprintf(buf, len, "iptables: a table squall does not write");
        return;
    }
    if (px)
        snprintf(buf, len, "iptables nat: %zu rule(s) in %s/%s redirecting new tcp connections "
                           "to port %lld into the delay proxy (port %lld)%s%s",
                 n, tb->chains[0][0], tb->chains[1][0],
                 (long long)json_integer_value(json_object_get(px, "port")),
                 (long long)json_integer_value(json_object_get(px, "listen_port")),
                 netns ? " in netns " : "", netns ? netns : "");
    else
        snprintf(buf, len, "iptables%s%s: %zu rule(s) in %s/%s%s%s",
                 strcmp(tb->name, "filter") ? " " : "", strcmp(tb->name, "filter") ? tb->name : "",
                 n, tb->chains[0][0], tb->chains[1][0], netns ? " in netns " : "",
                 netns ? netns : "");
}
