/* chaos.h — the public header of squall's chaos component: fault kinds,
 * the write-ahead journal, the watchdog, revert and recovery.
 *
 * The rules (DESIGN.md, "Chaos — rules that are never broken"):
 *   - every fault has a TTL (a one-shot kill has nothing to revert);
 *   - before a fault is applied, the exact objects it changes are appended
 *     to the journal and fsync'd; a revert reads those objects, never looks
 *     anything up by name again;
 *   - reverts are idempotent and verified;
 *   - squall only touches what it owns (SQUALL-IN / SQUALL-OUT chains, and
 *     SQUALL-NAT-PRE / SQUALL-NAT-OUT for delay's proxy, its own qdisc
 *     handle, the processes it selected by pid + start time);
 *   - a watchdog process reverts the journal if the agent dies.
 *
 * A fault is planned first (ch_fault_plan: validation and lookups, nothing
 * changed), which yields a list of "ops": JSON objects naming one exact
 * object each. Dry runs print the plan; real runs journal it, then apply.
 */
#ifndef CH_CHAOS_H
#define CH_CHAOS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/err.h"

#define CH_DEFAULT_STATE_DIR "/run/squall"

/* Fault kinds that are implemented. An unknown name is a usage error. */
typedef enum ch_kind {
    CH_KILL = 0,
    CH_STOP,
    CH_LINK_DOWN,
    CH_DROP,
    CH_REJECT,
    CH_LOSS,
    CH_PARTITION,
    CH_BANDWIDTH,
    CH_DELAY,
    CH_KIND_COUNT,
} ch_kind;

/* Directions for network faults (bit set). */
enum { CH_DIR_IN = 1, CH_DIR_OUT = 2, CH_DIR_BOTH = 3 };

/* The kind called name ("link-down" or "link_down" alike); -1 if unknown. */
int ch_kind_from_name(const char *name);

/* The canonical name of a kind ("link-down"). Static string. */
const char *ch_kind_name(ch_kind kind);

/* 1 when the kind changes network state (needs CAP_NET_ADMIN, honours
 * --netns), 0 for process faults. */
int ch_kind_is_network(ch_kind kind);

/* Everything a fault needs, as the command line or a scenario gives it.
 * Strings are borrowed from the caller and must outlive the plan. */
typedef struct ch_spec {
    ch_kind kind;
    char id[64];         /* fault id, used in rule comments; generated if empty */
    int64_t ttl_ns;      /* time to live; 0 only for a one-shot kill */
    const char *netns;   /* named network namespace (/run/netns/NAME), or NULL */
    int force;           /* allow protected targets */

    /* kill / stop */
    pid_t pid;           /* 0 = not given */
    const char *name;    /* exact comm */
    const char *cmdline; /* POSIX extended regex over the NUL-joined-by-space cmdline */
    const char *pidfile;
    const char *cgroup;  /* cgroup v2 directory (absolute, or under /sys/fs/cgroup) */
    int signal;          /* kill: default SIGKILL */
    uint64_t count;      /* 0 = all matches */
    double percent;      /* 0 = not given; fraction 0..1 */
    int64_t interval_ns; /* kill --for: rescan period (default 1 s) */

    /* link-down, bandwidth */
    const char *dev;
    uint64_t rate_bps;   /* bandwidth: bits per second */

    /* drop / reject / loss / partition */
    int port;            /* 0 = any */
    const char *proto;   /* tcp, udp, icmp, all; NULL = tcp with a port, else all */
    const char *src;     /* CIDR or NULL */
    const char *dst;     /* CIDR or NULL */
    int direction;       /* CH_DIR_*; 0 = in */
    double probability;  /* loss: fraction 0..1 */
    const char *peers;   /* partition: "CIDR,CIDR,..." */
    const char *reject_with; /* reject: "tcp-reset" or "icmp"; NULL = by proto */

    /* delay: netem on --dev, or squall's TCP proxy for --port (which also
     * takes --src, --dst and --direction: in = data sent to the port, out =
     * data coming back from it) */
    int64_t latency_ns;  /* > 0, at most CH_DELAY_MAX_NS */
    int64_t jitter_ns;   /* 0 .. latency_ns: uniform in latency ± jitter */
    int max_conns;       /* proxy: concurrent connections; 0 = CH_PROXY_MAX_CONNS */

    /* Planning for --dry-run: a missing kernel feature (sch_netem) becomes a
     * note in the plan's description instead of an error, so that the
     * operations can still be printed. */
    int dry_run;
} ch_spec;

/* Longest --latency (netem keeps its delay in 32-bit scheduler ticks). */
#define CH_DELAY_MAX_NS (60LL * 1000000000LL)
/* Default and largest --max-conns of the delay proxy. */
#define CH_PROXY_MAX_CONNS 1024
#define CH_PROXY_MAX_CONNS_LIMIT 65536

/* Initialises spec with defaults for kind. */
void ch_spec_init(ch_spec *spec, ch_kind kind);

/* ---- plans and ops -------------------------------------------------------------- */

/* A planned fault: the spec, its id and the ops (a JSON array) it applies. */
typedef struct ch_fault ch_fault;

/* Validates spec and looks up the exact objects the fault would change,
 * changing nothing. Returns 0 and a new ch_fault owned by the caller (free
 * with ch_fault_free), or:
 *   -EINVAL  bad or contradictory options (usage error, exit 2);
 *   -EPERM   a protected target without force, or no privilege (exit 3);
 *   -ENOENT  no such device / namespace / process (exit 3);
 *   -ENOTSUP the kernel lacks a feature (exit 3);
 *   -EBUSY   the device carries squall's qdisc already, or a root qdisc
 *            with classes/filters that could not be put back (exit 3);
 * with one precise line in err. */
int ch_fault_plan(const ch_spec *spec, ch_fault **out, sq_err *err);

/* Frees a fault (NULL is fine). */
void ch_fault_free(ch_fault *f);

/* Accessors. The returned pointers are owned by f. */
const char *ch_fault_id(const ch_fault *f);
ch_kind ch_fault_kind(const ch_fault *f);
const ch_spec *ch_fault_spec(const ch_fault *f);
json_t *ch_fault_ops(const ch_fault *f);

/* Prints every operation the fault would perform (netlink messages,
 * iptables-restore input, signals) to out, for --dry-run; then the ops that
 * a revert would perform. */
void ch_fault_describe(const ch_fault *f, FILE *out);

/* What the in-process part of a fault did, once it ended (the delay
 * proxy: {"connections","refused","bytes_in","bytes_out","peak_conns"}),
 * or NULL. Borrowed from f. */
const json_t *ch_fault_stats(const ch_fault *f);

/* Applies one op. Returns 0 or a negative errno with err set. */
int ch_op_apply(const json_t *op, sq_err *err);

/* Reverts one op, idempotently, and verifies the result (link flags back,
 * rules gone, process resumed). An object that no longer exists counts as
 * reverted. Returns 0 or a negative errno with err set. */
int ch_op_revert(const json_t *op, sq_err *err);

/* Checks whether op is still in effect: *active = 1 or 0. */
int ch_op_check(const json_t *op, int *active, sq_err *err);

/* One line describing op for people ("iptables SQUALL-IN: -p tcp ..."),
 * written into buf. Returns buf. */
char *ch_op_summary(const json_t *op, char *buf, size_t len);

/* Kill faults with a TTL: rescans the selectors and kills matches that
 * appeared since (new pid + start time). New kill ops are appended to
 * *killed (a JSON array the caller owns, created when NULL). Returns the
 * number killed, or a negative errno. */
int ch_fault_rekill(ch_fault *f, json_t **killed, sq_err *err);

/* ---- the journal ----------------------------------------------------------------- */

/* One agent's write-ahead journal: STATE_DIR/agent-PID.jsonl, JSON Lines:
 *   {"type":"agent","pid":P,"start":T,"utc_ns":N,"version":1}
 *   {"type":"fault","seq":S,"id":..,"kind":..,"ttl_ns":..,"utc_ns":..,"ops":[..]}
 *   {"type":"applied","seq":S,"utc_ns":N}
 *   {"type":"reverted","seq":S,"utc_ns":N}
 * Each line is one write() followed by fdatasync(). The file is locked
 * (flock) by the agent and its watchdog for as long as either lives, so a
 * journal whose lock can be taken is stale. */
typedef struct ch_journal ch_journal;

/* Creates the state directory (0700) if needed and this process's journal,
 * locked. run_dir (may be NULL) is recorded in the journal's first line so
 * that whoever reverts it later appends fault_reverted events there.
 * Returns 0 and a journal owned by the caller (ch_journal_close), or
 * -EACCES/-EPERM (exit 3) etc. with err set. */
int ch_journal_create(const char *state_dir, const char *run_dir, ch_journal **out,
                      sq_err *err);

/* Appends a "fault" entry for f and syncs it; *seq receives its number. */
int ch_journal_fault(ch_journal *j, const ch_fault *f, int *seq, sq_err *err);

/* Appends a state line ("applied", "reverted") for seq and syncs it. */
int ch_journal_mark(ch_journal *j, int seq, const char *type, sq_err *err);

/* The journal's path (owned by j) and descriptor (for the watchdog). */
const char *ch_journal_path(const ch_journal *j);
int ch_journal_fd(const ch_journal *j);

/* Closes j; when remove is set, first unlinks the file (everything in it
 * is reverted). NULL is fine. */
void ch_journal_close(ch_journal *j, int remove);

/* A journal as read back from disk. */
typedef struct ch_jentry {
    int seq;
    json_t *fault;   /* the "fault" line (owned by the entry) */
    int applied, reverted;
} ch_jentry;

typedef struct ch_jfile {
    char path[4096];
    pid_t pid;             /* owner */
    unsigned long long start; /* owner's start time (clock ticks since boot) */
    int64_t utc_ns;
    char run_dir[4096];    /* "" when the agent had no --out */
    int stale;             /* the lock could be taken: no agent or watchdog lives */
    int lock_fd;           /* held lock when stale and taken, else -1 */
    dev_t dev;             /* the file read (marks and the unlink go only to it) */
    ino_t ino;
    ch_jentry *entries;
    size_t n_entries;
} ch_jfile;

/* Reads the journal at path. When take_lock is set and the lock is free,
 * keeps it (jf->lock_fd) and sets jf->stale. A torn last line (crash during
 * a write) is ignored. Returns 0 and fills *jf (free with
 * ch_jfile_release), or a negative errno. */
int ch_jfile_read(const char *path, int take_lock, ch_jfile *jf, sq_err *err);

/* Reads the journal open on fd (the watchdog's inherited descriptor) from
 * its start, whether or not path still names it; path is for messages and
 * for marks and the final unlink, which happen only while path still names
 * the same file. Returns 0 and fills *jf, or a negative errno. */
int ch_jfile_read_fd(int fd, const char *path, ch_jfile *jf, sq_err *err);

/* Frees what jf holds and releases its lock. */
void ch_jfile_release(ch_jfile *jf);

/* Lists journal paths in state_dir: *paths is a NULL-terminated array the
 * caller frees with ch_paths_free. A missing directory gives an empty list. */
int ch_journal_list(const char *state_dir, char ***paths, sq_err *err);
void ch_paths_free(char **paths);

/* ---- recovery ---------------------------------------------------------------------- */

/* Called once per fault reverted by recovery (for events and messages). */
typedef void (*ch_revert_cb)(const json_t *fault, int ok, const char *msg, void *arg);

/* Reverts every fault in jf that is not marked reverted, newest first,
 * appending "reverted" lines to the journal file and, when the journal
 * names a run directory, "fault_reverted" events (with "by": by) to its
 * events.jsonl; unlinks the file when all of it is reverted and
 * unlink_when_done is set. Returns 0 when everything reverted, else the
 * first error (the rest are still attempted). */
int ch_jfile_revert(ch_jfile *jf, int unlink_when_done, const char *by, ch_revert_cb cb,
                    void *arg, sq_err *err);

/* Recovers every stale journal in state_dir (owner and watchdog dead).
 * *n_faults receives the number of faults reverted. Returns 0 or the first
 * error. */
int ch_recover_stale(const char *state_dir, const char *by, int *n_faults, ch_revert_cb cb,
                     void *arg, sq_err *err);

/* ---- the watchdog ------------------------------------------------------------------- */

/* Forks the watchdog for journal j. The watchdog starts its own session,
 * ignores SIGINT/SIGHUP/SIGTERM, and blocks reading a pipe whose write end
 * only the agent holds (*wfd, close-on-exec). When the agent dies in any
 * way, it reads the journal back and reverts whatever is not marked
 * reverted, then exits. Returns 0 and the watchdog's pid, or a negative
 * errno. */
int ch_watchdog_start(ch_journal *j, pid_t *wpid, int *wfd, sq_err *err);

/* ---- processes ----------------------------------------------------------------------- */

/* Start time of pid in clock ticks since boot (/proc/PID/stat field 22).
 * Returns 0, -ESRCH when there is no such process. */
int ch_proc_start_time(pid_t pid, unsigned long long *start);

/* Sends sig to the process pid only if it is still the one that started at
 * start: opens a pidfd, checks the start time, signals through the pidfd.
 * Returns 0, -ESRCH when that process is gone (or the pid was reused). */
int ch_proc_signal(pid_t pid, unsigned long long start, int sig);

/* The signal called name ("KILL", "SIGTERM", "9"); -1 if unknown. */
int ch_signal_from_name(const char *name);

/* ---- the agent ------------------------------------------------------------------------ */

/* One agent: a journal (and its watchdog) plus, optionally, a run
 * directory for events. It applies and reverts faults in the order the
 * rules demand: journal and sync, apply, verify; revert, verify, journal. */
typedef struct ch_agent ch_agent;

/* Creates this process's journal under state_dir (recording run_dir, which
 * may be NULL, and opening it for events), and forks the watchdog when
 * watchdog is set. Call ch_recover_stale first. Returns 0 and an agent owned
 * by the caller (ch_agent_free), or a negative errno with err set. */
int ch_agent_new(const char *state_dir, const char *run_dir, int watchdog, ch_agent **out,
                 sq_err *err);

/* Starts f's in-process part first (delay --port: the proxy, whose port
 * then goes into the rules), journals f's ops (fsync'd), applies them, and
 * appends a fault_applied event (with scheduled_utc_ns and apply_ns). When
 * an op fails, whatever was applied is reverted (and the proxy stopped)
 * before returning the error. */
int ch_agent_apply(ch_agent *a, ch_fault *f, sq_err *err);

/* Kill faults with a TTL: kills matches that reappeared and appends a
 * fault_applied event ("repeat": true) for them. Returns the number. */
int ch_agent_rekill(ch_agent *a, ch_fault *f, sq_err *err);

/* Reverts f (idempotent, verified), then stops its in-process part (the
 * delay proxy closes the connections going through it), journals it, and
 * appends a fault_reverted event with "by" (ttl, signal, ...), revert_ns
 * and, for the proxy, "proxy" stats. On failure the journal keeps the
 * fault for the watchdog and `recover` (and the proxy keeps running). */
int ch_agent_revert(ch_agent *a, ch_fault *f, const char *by, sq_err *err);

/* Nanoseconds the last apply / revert of f took (journal write included). */
int64_t ch_fault_apply_ns(const ch_fault *f);
int64_t ch_fault_revert_ns(const ch_fault *f);

/* The journal's path (owned by a). */
const char *ch_agent_journal_path(const ch_agent *a);

/* 1 when f is reverted, or nothing of it was applied (a failed apply that
 * changed nothing, or whose undo succeeded); 0 when something of it may
 * still be in effect. */
int ch_fault_is_reverted(const ch_fault *f);

/* Longest single wait, in ms, of a TTL loop: waits are cut into pieces of
 * at most this so that a huge TTL never overflows a poll() timeout. */
#define CH_MAX_WAIT_MS 60000

/* The poll() timeout in ms for waiting from now_ns until until_ns
 * (monotonic): 0 when due, rounded up, never above CH_MAX_WAIT_MS. */
int ch_wait_ms(int64_t now_ns, int64_t until_ns);

/* 1 when sig stops a process (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): such a
 * signal is refused for kill, which has no revert (use stop --for). */
int ch_signal_is_stopping(int sig);

/* Closes the agent: removes the journal when every fault in it is
 * reverted (else leaves it for the watchdog, which then reverts it), ends
 * the watchdog and waits for it. NULL is fine. */
void ch_agent_free(ch_agent *a);

/* ---- kernel features ------------------------------------------------------------------ */

/* Checks, in a throwaway network namespace, whether this kernel can create
 * a netem qdisc (needed by delay --dev). Returns 0, -ENOTSUP with a
 * message naming the missing module sch_netem and the alternative (delay
 * --port, squall's proxy), or -EPERM when the probe cannot run without
 * privilege. */
int ch_probe_netem(sq_err *err);

/* ---- privileges and events ----------------------------------------------------------- */

/* 1 when this process has CAP_NET_ADMIN in its effective set. */
int ch_have_net_admin(void);

/* A run-directory event: {"type":type,"utc_ns":..,"fault":{"id","kind"},
 * "objects":ops} plus extra keys from `extra` (borrowed, may be NULL).
 * Returns a new reference owned by the caller. */
json_t *ch_event_new(const char *type, const json_t *fault, const json_t *extra);

/* The fault object as journaled ({"id","kind","ttl_ns","ops",...}); new
 * reference owned by the caller. */
json_t *ch_fault_json(const ch_fault *f);

#endif
