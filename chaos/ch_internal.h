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
/* The nat chains of the delay proxy: SQUALL-NAT-PRE from PREROUTING
 * (connections arriving from other hosts or namespaces), SQUALL-NAT-OUT
 * from OUTPUT (connections opened on this host or in this namespace). */
#define CH_CHAIN_NAT_PRE "SQUALL-NAT-PRE"
#define CH_CHAIN_NAT_OUT "SQUALL-NAT-OUT"

/* The SO_MARK of the delay proxy's own upstream connections; the nat rules
 * skip packets carrying it, so that they are not redirected again. */
#define CH_PROXY_MARK 0x5157u
#define CH_PROXY_MARK_TEXT "0x5157"

struct ch_fault {
    ch_spec spec;
    char id[64];
    json_t *ops;          /* array of op objects */
    json_t *seen;         /* kill --for: object "pid:start" -> true */
    void *regex;          /* compiled --cmdline (regex_t *), or NULL */
    struct ch_proxy *proxy; /* delay --port: the running proxy, or NULL */
    json_t *stats;        /* what the proxy did, once stopped, or NULL */
    char note[512];       /* a dry run's note (a missing kernel feature), or "" */
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

/* Appends string tokens to the JSON array a (a NULL-terminated list):
 * how rules' args are built. */
void ch_ipt_push(json_t *a, ...);

/* One line about an iptables op (filter or nat) for status output. */
void ch_ipt_summary(const json_t *op, char *buf, size_t len);

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

/* The bandwidth fault (tbf) and delay --dev (netem): both put a qdisc of
 * squall's handle at the root of a device, journal the previous root
 * qdisc, and share apply (add + verify), revert (put back exactly + verify),
 * check and describe; only the qdisc's own parameters differ. */
int ch_tc_plan(ch_fault *f, sq_err *err);
int ch_tc_plan_netem(ch_fault *f, sq_err *err);
int ch_tc_apply(const json_t *op, sq_err *err);
int ch_tc_revert(const json_t *op, sq_err *err);
int ch_tc_check(const json_t *op, int *active, sq_err *err);
void ch_tc_describe(const json_t *op, FILE *out);
void ch_tc_summary(const json_t *op, char *buf, size_t len);

/* ---- fault_delay.c: the delay fault ------------------------------------------------ */

/* The placeholder for the proxy's port in planned rules; ch_delay_start
 * replaces it with the port the proxy got before anything is journaled. */
#define CH_PROXY_PORT_TOKEN "{proxy-port}"

/* Plans delay: --dev goes to ch_tc_plan_netem; --port builds one nat
 * iptables op that redirects new TCP connections to the port into the
 * proxy (port CH_PROXY_PORT_TOKEN until it starts). */
int ch_delay_plan(ch_fault *f, sq_err *err);

/* Builds the nat rules of delay --port (SQUALL-NAT-PRE, then
 * SQUALL-NAT-OUT) redirecting to to_port; used by the planner and by unit
 * tests. */
int ch_delay_rules(const ch_spec *spec, const char *id, const char *to_port, json_t *rules,
                   sq_err *err);

/* Starts the proxy of a delay --port fault in the namespace its op names
 * and writes its port into the op; nothing for other faults. */
int ch_delay_start(ch_fault *f, sq_err *err);

/* Stops a running proxy (closing the connections through it) and keeps its
 * stats in f->stats; nothing when none runs. */
void ch_delay_stop(ch_fault *f);

/* Prints the proxy's part of a dry run (the ops print themselves): what
 * starts before the rules, or, with after set, what a revert does to it. */
void ch_delay_describe(const ch_fault *f, int after, FILE *out);

/* ---- delayq.c: the proxy's delay queues and their timer heap ---------------------- */

/* The largest single read of the proxy, and the smallest it bothers with
 * (a queue with less room than that stops reading until it drains). */
#define CH_CHUNK_MAX 65536
#define CH_CHUNK_MIN 4096
/* Bytes one direction of one proxied connection may hold back (data plus
 * per-chunk overhead): the memory bound is max_conns * 2 * this. */
#define CH_PROXY_BUF (256 * 1024)

/* One chunk held back until due_ns; with eof set (and no data) it stands
 * for the end of the stream, which is forwarded in order too. */
typedef struct ch_chunk {
    struct ch_chunk *next;
    int64_t due_ns;
    size_t len, off; /* off: bytes of it already sent */
    int eof;
    unsigned char data[];
} ch_chunk;

/* A FIFO of chunks whose due times never decrease (order is kept). */
typedef struct ch_delayq {
    ch_chunk *head, *tail;
    size_t bytes;     /* charged: data plus sizeof(ch_chunk) per chunk */
    int64_t last_due;
} ch_delayq;

/* Appends a copy of data[0..len) (or, with eof, the end-of-stream mark)
 * due at max(due_ns, the previous chunk's due time). 0 or -ENOMEM. */
int ch_delayq_push(ch_delayq *q, const void *data, size_t len, int eof, int64_t due_ns);

/* Drops the head chunk (nothing when empty). */
void ch_delayq_pop(ch_delayq *q);

/* How many bytes the next read may take without passing cap: up to
 * CH_CHUNK_MAX, or 0 when less than CH_CHUNK_MIN would fit. */
size_t ch_delayq_room(const ch_delayq *q, size_t cap);

/* Frees every chunk. */
void ch_delayq_clear(ch_delayq *q);

/* A delay in latency ± jitter, uniform, from the xorshift state *rng
 * (never negative; jitter 0 gives latency). */
int64_t ch_delay_pick(int64_t latency_ns, int64_t jitter_ns, uint64_t *rng);

/* A node of the timer heap, embedded in what it schedules. */
typedef struct ch_heap_node {
    int64_t key;
    size_t idx; /* position in the heap, CH_HEAP_NONE when out of it */
} ch_heap_node;
#define CH_HEAP_NONE ((size_t)-1)

/* A binary min-heap of nodes by key, with room fixed at creation (so that
 * scheduling never allocates). */
typedef struct ch_heap {
    ch_heap_node **v;
    size_t n, cap;
} ch_heap;

int ch_heap_init(ch_heap *h, size_t cap);
void ch_heap_free(ch_heap *h);
/* Inserts x with key (or moves it there when it is in already). 0, or
 * -ENOSPC when full. */
int ch_heap_set(ch_heap *h, ch_heap_node *x, int64_t key);
/* Removes x (nothing when it is not in). */
void ch_heap_remove(ch_heap *h, ch_heap_node *x);
/* The node with the smallest key, or NULL. */
ch_heap_node *ch_heap_top(const ch_heap *h);

/* ---- proxy.c: squall's TCP delay proxy ------------------------------------------- */

/* What the proxy does. Direction 0 is data sent to the port (client to
 * server), 1 the data coming back. */
typedef struct ch_proxy_cfg {
    int64_t latency_ns[2], jitter_ns[2];
    int port;         /* original destinations must have this port */
    int max_conns;    /* concurrent proxied connections */
    size_t buf_cap;   /* per direction of a connection */
    uint32_t mark;    /* SO_MARK of the upstream sockets */
} ch_proxy_cfg;

typedef struct ch_proxy_stats {
    uint64_t conns;    /* connections proxied */
    uint64_t refused;  /* accepted but not redirected ones (closed) or upstream failures */
    uint64_t looped;   /* its own upstream connections that came back (reset) */
    uint64_t bytes[2]; /* relayed, per direction */
    int peak;          /* most connections at once */
} ch_proxy_stats;

typedef struct ch_proxy ch_proxy;

/* Descriptors the proxy always leaves to the rest of the agent (its
 * revert runs iptables programs through pipes, opens the lock file and
 * the namespace): the proxy takes two per connection from what remains. */
#define CH_PROXY_FD_RESERVE 64

/* The most connections --max-conns may ask for under this process's
 * open-files hard limit (the proxy raises the soft limit to it):
 * (hard - CH_PROXY_FD_RESERVE) / 2, at most CH_PROXY_MAX_CONNS_LIMIT; 0
 * when not even one fits. *hard receives the limit (may be NULL). */
int ch_proxy_conn_limit(long *hard);

/* Starts a proxy listening on 0.0.0.0 at a free port (never cfg->port),
 * with its thread, in the calling thread's network namespace (the thread
 * inherits it, so call this inside the fault's namespace). It proxies at
 * most max_conns connections, fewer when the open-files limit (soft,
 * raised to hard) minus the descriptors open now and CH_PROXY_FD_RESERVE
 * does not hold two per connection (-EMFILE when not one fits). Returns 0
 * and a proxy owned by the caller (ch_proxy_stop), or a negative errno
 * with err set. */
int ch_proxy_start(const ch_proxy_cfg *cfg, ch_proxy **out, sq_err *err);

/* The port the proxy listens on. */
int ch_proxy_port(const ch_proxy *p);

/* Stops the thread, closes the listener and every connection, copies the
 * stats into *st (may be NULL) and frees p. NULL is fine. A connection
 * still open has not forwarded both ends of stream (or still holds data,
 * which is dropped): both its sockets are closed with a reset (SO_LINGER
 * 0), never a FIN that would make a cut-off stream look complete. */
void ch_proxy_stop(ch_proxy *p, ch_proxy_stats *st);

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
