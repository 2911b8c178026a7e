/* ch_internal.h — private declarations shared by the files of chaos/. Not
 * included by anything outside chaos/ (tests/unit/chaos may, to test the
 * pieces). */
#ifndef CH_INTERNAL_H
#define CH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "chaos/chaos.h"

/* The chains squall owns and where they are jumped to from. */
#define CH_CHAIN_IN "SQUALL-IN"
#define CH_CHAIN_OUT "SQUALL-OUT"
#define CH_JUMP_COMMENT "squall"

struct ch_fault {
    ch_spec spec;
    char id[64];
    json_t *ops;          /* array of op objects */
    json_t *seen;         /* kill --for: object "pid:start" -> true */
    void *regex;          /* compiled --cmdline (regex_t *), or NULL */
    /* Set by the agent (agent.c). */
    int seq;              /* journal entry, 0 = not journaled */
    int applied, reverted;
    int64_t apply_ns, revert_ns;
};

/* The byte an agent writes to its watchdog's pipe just before closing it
 * after a normal end with nothing left to revert. */
#define CH_WD_CLEAN_END 'E'

/* ---- exec.c: programs run with an argv, never a shell --------------------------------- */

/* Runs argv (argv[0] is looked up in /usr/sbin, /sbin, /usr/bin, /bin) inside
 * the named network namespace (setns in the child before exec; NULL = the
 * current one), feeding `input` (may be NULL) on stdin and collecting stdout
 * and stderr together into *output (malloc'd, NUL-terminated, owned by the
 * caller; pass NULL to discard). *status receives the exit status (or 128 +
 * signal). Returns 0 when the program ran, or a negative errno when it could
 * not be started (err set). */
int ch_exec(const char *const *argv, const char *netns, const char *input, char **output,
            int *status, sq_err *err);

/* Finds program name in the usual sbin/bin directories; 0 and the path in
 * buf, or -ENOENT. */
int ch_find_program(const char *name, char *buf, size_t len);

/* ---- netns.c ------------------------------------------------------------------------ */

/* Checks that the name is a usable namespace name (no '/', not '.'/'..'). */
int ch_netns_name_ok(const char *name, sq_err *err);

/* Moves the calling thread into /run/netns/NAME (nothing when name is NULL).
 * *saved receives a descriptor of the namespace to come back to (-1 when
 * nothing was done). Returns 0, -ENOENT (no such namespace), -EPERM. */
int ch_netns_enter(const char *name, int *saved, sq_err *err);

/* Returns the calling thread to the saved namespace and closes it. */
void ch_netns_leave(int saved);

/* The identity (st_dev, st_ino) of /run/netns/NAME, or of this thread's
 * network namespace when name is NULL, as a new {"dev","ino"} object that
 * plans journal as an op's "netns_id". 0, -ENOENT, or a negative errno. */
int ch_netns_ident(const char *name, json_t **out, sq_err *err);

/* 1 when op carries a well-formed "netns_id" (and "netns" is a string or
 * null). */
int ch_netns_ident_ok(const json_t *op);

/* Enters the namespace op names ("netns", NULL = this thread's) after
 * opening it and checking with fstat that it is the journaled "netns_id".
 * Returns 0 (*saved as for ch_netns_enter), -ESTALE when a named namespace
 * is gone or was replaced by another of the same name (its objects are
 * gone), -EXDEV when op has no name and this thread is in another
 * namespace than the journaled one, -EINVAL for a bad op, or another
 * negative errno; err set. */
int ch_netns_enter_op(const json_t *op, int *saved, sq_err *err);

/* Warns that op's object is gone (what: "link veth0"; why: the reason). */
void ch_report_gone(const json_t *op, const char *what, const char *why);

/* ---- per-kind planners and op handlers -------------------------------------------- */

int ch_ipt_plan(ch_fault *f, sq_err *err);
int ch_ipt_apply(const json_t *op, sq_err *err);
int ch_ipt_revert(const json_t *op, sq_err *err);
int ch_ipt_check(const json_t *op, int *active, sq_err *err);
void ch_ipt_describe(const json_t *op, FILE *out);

/* Builds the iptables argument list (without the chain) for one rule of a
 * fault: used by the planner and by unit tests. Tokens never hold spaces. */
int ch_ipt_rules(const ch_spec *spec, const char *id, json_t *rules, sq_err *err);

int ch_link_plan(ch_fault *f, sq_err *err);
int ch_link_apply(const json_t *op, sq_err *err);
int ch_link_revert(const json_t *op, sq_err *err);
int ch_link_check(const json_t *op, int *active, sq_err *err);
void ch_link_describe(const json_t *op, FILE *out);

/* squall's own qdisc handle, "5157:" (major 0x5157, minor 0). */
#define CH_QDISC_HANDLE 0x51570000u

int ch_tc_plan(ch_fault *f, sq_err *err);
int ch_tc_apply(const json_t *op, sq_err *err);
int ch_tc_revert(const json_t *op, sq_err *err);
int ch_tc_check(const json_t *op, int *active, sq_err *err);
void ch_tc_describe(const json_t *op, FILE *out);

int ch_proc_plan(ch_fault *f, sq_err *err);
int ch_proc_apply(const json_t *op, sq_err *err);
int ch_proc_revert(const json_t *op, sq_err *err);
int ch_proc_check(const json_t *op, int *active, sq_err *err);
void ch_proc_describe(const json_t *op, FILE *out);
void ch_proc_free_regex(ch_fault *f);

/* ---- protect.c ---------------------------------------------------------------------- */

/* Whether the link ifindex of the calling thread's network namespace is
 * protected: it carries a default route (IPv4 or IPv6, any routing table,
 * with or without a gateway), is a port of a bridge/bond that does, or is
 * the master or lower device of such an interface. Returns 1 with the
 * reason in why, 0, or a negative errno when routes cannot be read (the
 * caller then refuses: protection must not fail open). */
int ch_protected_link(int ifindex, char *why, size_t len);

/* Refuses a CIDR inside loopback (127.0.0.0/8) unless force. */
int ch_protect_cidr(const char *flag, const char *cidr, int force, sq_err *err);

/* Decodes "A.B.C.D" or "A.B.C.D/N" (N 0..32; 32 when absent) into a
 * host-order address and prefix length. Returns 0 or -EINVAL (no message). */
int ch_cidr_decode(const char *s, uint32_t *addr, int *plen);

/* Parses "A.B.C.D" or "A.B.C.D/N" (IPv4); 0 or -EINVAL naming flag. */
int ch_parse_cidr(const char *flag, const char *s, sq_err *err);

/* ---- protect_load.c: the load generator's own connections ----------------------------- */

/* One IPv4 TCP flow as seen by the host that owns the socket (addresses in
 * host byte order). loopback: its packets go over lo (the remote end is
 * 127/8 or this host's own address), so rules guarded by "! -i lo" skip it. */
typedef struct ch_flow {
    uint32_t local, remote;
    int lport, rport;
    int loopback;
} ch_flow;

/* 1 when the planned iptables rules (the array ch_ipt_rules builds) would
 * drop or reject packets of flow fl in either direction: in SQUALL-IN the
 * packets arrive (source = remote end), in SQUALL-OUT they leave
 * (destination = remote end); --ports matches either end; -p must be tcp
 * or absent; the first matching rule of a chain decides (RETURN spares the
 * flow). Pure. */
int ch_rules_cut_flow(const json_t *rules, const ch_flow *fl);

/* Parses one line of /proc/PID/net/tcp or tcp6 into fl, the socket inode
 * and the TCP state (1 = ESTABLISHED). 0; -EINVAL for a header or bad
 * line; -EAFNOSUPPORT for an IPv6 flow that is not IPv4-mapped (iptables
 * never matches it). */
int ch_parse_tcp_line(const char *line, ch_flow *fl, unsigned long *inode, int *state);

/* Unless spec->force: finds running `squall load` processes (squall's own
 * executable, argv[1] "load") in the network namespace the fault applies
 * to (spec->netns, or this thread's), and refuses (-EPERM, exit 3, naming
 * the pid and the connection) when the rules would cut one of their
 * established TCP connections. 0 otherwise. */
int ch_protect_load(const ch_spec *spec, const json_t *rules, sq_err *err);

/* ---- proc.c ------------------------------------------------------------------------- */

/* Reads /proc/PID/comm into buf (newline stripped). 0 or -ESRCH. */
int ch_proc_comm(pid_t pid, char *buf, size_t len);

/* Reads /proc/PID/cmdline with NULs turned into spaces. 0 or -ESRCH. */
int ch_proc_cmdline(pid_t pid, char *buf, size_t len);

/* Reads the state letter (R, S, T, Z, ...) of pid; 0 or -ESRCH. */
int ch_proc_state(pid_t pid, char *state);

/* Parses the start time (field 22) out of the text of /proc/PID/stat;
 * the comm field may hold spaces and parentheses. 0 or -EINVAL. */
int ch_parse_stat_start(const char *stat, unsigned long long *start, char *state);

/* Random integer in [0, n) from getrandom(). */
uint64_t ch_random_below(uint64_t n);

/* Opens a connected NETLINK_ROUTE socket in the calling thread's network
 * namespace. Caller frees it with nl_socket_free. Returns 0, -ENOMEM or -EIO
 * with a message. */
struct nl_sock;
int ch_route_sock(struct nl_sock **out, sq_err *err);

#endif
