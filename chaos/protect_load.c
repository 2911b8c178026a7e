/* protect_load.c — the load generator's own connections are protected
 * (DESIGN.md, chaos rule 6): a packet fault whose rules would match an
 * established TCP connection of a running `squall load` in the namespace the
 * fault applies to is refused unless --force. The flows are read from
 * /proc (the process's socket fds mapped to /proc/PID/net/tcp{,6}); the
 * matcher evaluates the fault's planned iptables rules against a flow and
 * is pure (unit-tested). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Whether the IPv4 address a (host order) is inside "A.B.C.D[/N]"; 0 when
 * the text does not parse (the planner has validated it already). */
static int cidr_has(const char *cidr, uint32_t a)
{
    uint32_t net;
    int plen;
    if (ch_cidr_decode(cidr, &net, &plen))
        return 0;
    uint32_t mask = plen ? 0xffffffffu << (32 - plen) : 0;
    return (net & mask) == (a & mask);
}

/* Whether one rule (its args, in chain dir) matches the packets of flow fl
 * travelling in that direction; *cuts receives 1 for DROP/REJECT and 0 for
 * RETURN. An option the matcher does not know counts as matching, so that
 * the protection errs on the side of refusing. */
static int rule_matches(const json_t *args, int dir, const ch_flow *fl, int *cuts)
{
    /* Packet view: arriving (in) packets come from the remote end. */
    uint32_t src = dir == CH_DIR_IN ? fl->remote : fl->local;
    uint32_t dst = dir == CH_DIR_IN ? fl->local : fl->remote;
    size_t n = json_array_size(args);
    *cuts = 1;
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(args, i));
        const char *v = i + 1 < n ? json_string_value(json_array_get(args, i + 1)) : NULL;
        if (!t)
            return 0;
        if (strcmp(t, "!") == 0 && v && (strcmp(v, "-i") == 0 || strcmp(v, "-o") == 0)) {
            /* "! -i lo": the rule skips loopback traffic. */
            if (fl->loopback)
                return 0;
            i += 2;
        } else if (strcmp(t, "-p") == 0 && v) {
            if (strcmp(v, "tcp") != 0 && strcmp(v, "all") != 0)
                return 0;
            i++;
        } else if (strcmp(t, "--ports") == 0 && v) {
            int port = atoi(v);
            if (fl->lport != port && fl->rport != port)
                return 0;
            i++;
        } else if (strcmp(t, "-s") == 0 && v) {
            if (!cidr_has(v, src))
                return 0;
            i++;
        } else if (strcmp(t, "-d") == 0 && v) {
            if (!cidr_has(v, dst))
                return 0;
            i++;
        } else if (strcmp(t, "--comment") == 0 && v) {
            i++;
        } else if (strcmp(t, "-j") == 0 && v) {
            *cuts = strcmp(v, "RETURN") != 0;
            i++;
        }
        /* -m NAME, statistic options, --reject-with ...: no effect on
         * whether the flow can be hit. */
    }
    return 1;
}

/* Whether the planned rules would cut fl (see ch_internal.h). */
int ch_rules_cut_flow(const json_t *rules, const ch_flow *fl)
{
    for (int dir = CH_DIR_IN; dir <= CH_DIR_OUT; dir <<= 1) {
        const char *chain = dir == CH_DIR_IN ? CH_CHAIN_IN : CH_CHAIN_OUT;
        size_t i;
        json_t *r;
        /* The first rule of the chain that matches decides (RETURN leaves). */
        json_array_foreach(rules, i, r)
        {
            const char *c = json_string_value(json_object_get(r, "chain"));
            int cuts;
            if (!c || strcmp(c, chain) != 0)
                continue;
            if (rule_matches(json_object_get(r, "args"), dir, fl, &cuts)) {
                if (cuts)
                    return 1;
                break;
            }
        }
    }
    return 0;
}

/* Parses one hex address of /proc/net/tcp ("0100007F" or, for tcp6, 32
 * hex digits) into *a (host order); IPv6 counts only when it is
 * IPv4-mapped (iptables rules never match IPv6). 0 or -EINVAL. */
static int parse_hex_addr(const char *s, size_t len, uint32_t *a)
{
    char buf[9];
    uint32_t w[4];
    if (len != 8 && len != 32)
        return -EINVAL;
    for (size_t k = 0; k < len / 8; k++) {
        memcpy(buf, s + 8 * k, 8);
        buf[8] = '\0';
        char *end;
        unsigned long v = strtoul(buf, &end, 16);
        if (*end)
            return -EINVAL;
        w[k] = (uint32_t)v; /* the kernel prints each 32-bit word in host order */
    }
    if (len == 8) {
        *a = ntohl(w[0]);
        return 0;
    }
    if (w[0] != 0 || w[1] != 0 || ntohl(w[2]) != 0xffffu)
        return -EINVAL;
    *a = ntohl(w[3]);
    return 0;
}

/* Parses one line of /proc/PID/net/tcp or tcp6 (see ch_internal.h). */
int ch_parse_tcp_line(const char *line, ch_flow *fl, unsigned long *inode, int *state)
{
    char la[64], ra[64];
    unsigned lp, rp, st;
    unsigned long ino;
    /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
    if (sscanf(line, " %*[0-9]: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u "
                     "%*u %lu",
               la, &lp, ra, &rp, &st, &ino) != 6)
        return -EINVAL;
    if (lp > 65535 || rp > 65535)
        return -EINVAL;
    memset(fl, 0, sizeof *fl);
    if (parse_hex_addr(la, strlen(la), &fl->local) || parse_hex_addr(ra, strlen(ra), &fl->remote))
        return -EAFNOSUPPORT;
    fl->lport = (int)lp;
    fl->rport = (int)rp;
    /* Traffic to an address of this host (or 127/8) goes over lo. */
    fl->loopback = (fl->remote >> 24) == 127 || fl->remote == fl->local;
    *inode = ino;
    *state = (int)st;
    return 0;
}

/* Formats fl as "L.L.L.L:P -> R.R.R.R:Q" into buf. */
static void flow_text(const ch_flow *fl, char *buf, size_t len)
{
    struct in_addr l = {htonl(fl->local)}, r = {htonl(fl->remote)};
    char ls[INET_ADDRSTRLEN], rs[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &l, ls, sizeof ls);
    inet_ntop(AF_INET, &r, rs, sizeof rs);
    snprintf(buf, len, "%s:%d -> %s:%d", ls, fl->lport, rs, fl->rport);
}

/* Describes the fault as the user would write it ("drop --port 8080"). */
static void spec_text(const ch_spec *s, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s", ch_kind_name(s->kind));
    if (s->port && n < len)
        n += (size_t)snprintf(buf + n, len - n, " --port %d", s->port);
    if (s->proto && n < len)
        n += (size_t)snprintf(buf + n, len - n, " --proto %s", s->proto);
    if (s->src && n < len)
        n += (size_t)snprintf(buf + n, len - n, " --src %s", s->src);
    if (s->dst && n < len)
        n += (size_t)snprintf(buf + n, len - n, " --dst %s", s->dst);
    if (s->peers && n < len)
        n += (size_t)snprintf(buf + n, len - n, " --peers %s", s->peers);
    if (s->direction && s->kind != CH_PARTITION && n < len)
        snprintf(buf + n, len - n, " --direction %s",
                 s->direction == CH_DIR_IN ? "in" : s->direction == CH_DIR_OUT ? "out" : "both");
}

/* Whether pid runs squall's own executable with argv[1] "load". */
static int is_squall_load(pid_t pid, const struct stat *self)
{
    char path[64], cmd[256];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    if (stat(path, &st) != 0 || st.st_dev != self->st_dev || st.st_ino != self->st_ino)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return 0;
    size_t n = fread(cmd, 1, sizeof cmd - 1, fp);
    fclose(fp);
    cmd[n] = '\0';
    size_t a0 = strnlen(cmd, n);
    return a0 + 1 < n && strcmp(cmd + a0 + 1, "load") == 0;
}

/* The socket inodes among pid's open fds, as a malloc'd array in *out.
 * Returns the count, or a negative errno (the process went away, or its
 * fds cannot be read). */
static int socket_inodes(pid_t pid, unsigned long **out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    unsigned long *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char lp[320], target[64];
        if (de->d_name[0] == '.')
            continue;
        snprintf(lp, sizeof lp, "%s/%s", path, de->d_name);
        ssize_t k = readlink(lp, target, sizeof target - 1);
        if (k <= 0)
            continue;
        target[k] = '\0';
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) != 1)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            unsigned long *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = ino;
    }
    closedir(d);
    *out = v;
    return (int)n;
}

/* Checks the established flows of one load process against the rules;
 * -EPERM with the message when one would be cut, else 0. */
static int check_load(pid_t pid, const ch_spec *s, const json_t *rules, sq_err *err)
{
    unsigned long *inodes = NULL;
    int ni = socket_inodes(pid, &inodes);
    if (ni <= 0)
        return 0; /* gone, or no sockets (unreadable fds need privilege) */
    int rc = 0;
    static const char *const files[] = {"tcp", "tcp6"};
    for (size_t f = 0; f < 2 && !rc; f++) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, files[f]);
        FILE *fp = fopen(path, "re");
        if (!fp)
            continue;
        while (!rc && fgets(line, sizeof line, fp)) {
            ch_flow fl;
            unsigned long ino;
            int st, hit = 0;
            if (ch_parse_tcp_line(line, &fl, &ino, &st) || st != 1 /* ESTABLISHED */)
                continue;
            for (int i = 0; i < ni && !hit; i++)
                hit = inodes[i] == ino;
            if (!hit || !ch_rules_cut_flow(rules, &fl))
                continue;
            char what[512], conn[64];
            spec_text(s, what, sizeof what);
            flow_text(&fl, conn, sizeof conn);
            rc = sq_errf(err, -EPERM, "%s would cut squall load (pid %d)'s connection %s; add "
                                      "--force to do it anyway",
                         what, (int)pid, conn);
        }
        fclose(fp);
    }
    free(inodes);
    return rc;
}

/* Refuses rules that would cut a running load generator's connections
 * (see ch_internal.h). */
int ch_protect_load(const ch_spec *s, const json_t *rules, sq_err *err)
{
    if (s->force)
        return 0;
    char nspath[128];
    struct stat self, ns;
    if (s->netns)
        snprintf(nspath, sizeof nspath, "/run/netns/%s", s->netns);
    else
        snprintf(nspath, sizeof nspath, "/proc/thread-self/ns/net");
    if (stat("/proc/self/exe", &self) != 0)
        return sq_errf(err, -errno, "cannot stat /proc/self/exe: %s", strerror(errno));
    if (stat(nspath, &ns) != 0)
        return sq_errf(err, -errno, "network namespace %s: %s", nspath, strerror(errno));
    DIR *d = opendir("/proc");
    if (!d)
        return sq_errf(err, -errno, "cannot read /proc: %s", strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() || !is_squall_load((pid_t)pid, &self))
            continue;
        char path[64];
        struct stat pns;
        snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
        if (stat(path, &pns) != 0 || pns.st_dev != ns.st_dev || pns.st_ino != ns.st_ino)
            continue;
        rc = check_load((pid_t)pid, s, rules, err);
    }
    closedir(d);
    return rc;
}
