/* cmd_chaos.c — `squall chaos <fault> ... --for DUR`, `squall chaos status`
 * and `squall chaos recover`: parses flags, recovers stale journals, plans,
 * journals and applies one fault, waits for its TTL or SIGINT/SIGTERM, and
 * reverts it. Signals are taken through a signalfd (no handlers). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/chaos.h"
#include "cli/commands.h"
#include "cli/flags.h"

#define CMD "chaos"

static const char usage[] =
    "usage: squall chaos FAULT [options] --for DUR\n"
    "       squall chaos status  [--state-dir DIR]\n"
    "       squall chaos recover [--state-dir DIR]\n"
    "\n"
    "Applies one fault, keeps it for its time to live in the foreground, then\n"
    "reverts it (also on SIGINT/SIGTERM). The exact objects changed are journaled\n"
    "(fsync'd) before they are changed; a watchdog process reverts them if this\n"
    "process dies; `recover` reverts everything journaled; every new fault first\n"
    "recovers journals whose owner is dead.\n"
    "\n"
    "Faults:\n"
    "  kill       signal processes (default KILL); with --for, keep killing matches\n"
    "             that reappear, every --interval\n"
    "  stop       SIGSTOP processes, SIGCONT at the end\n"
    "  link-down  take an interface down (--dev); original flags restored\n"
    "  drop       drop packets          (iptables, chains SQUALL-IN / SQUALL-OUT)\n"
    "  reject     reject packets (--with tcp-reset|icmp)\n"
    "  loss       drop packets at random (--probability P)\n"
    "  partition  cut all traffic to and from --peers CIDR,... (both directions)\n"
    "  bandwidth  limit what leaves --dev to --rate (tbf qdisc, handle 5157:)\n"
    "  delay      add --latency (± --jitter): on --dev, a netem qdisc (handle 5157:;\n"
    "             needs the kernel's sch_netem); on --port, squall's own TCP proxy,\n"
    "             into which iptables nat rules redirect new connections to the port\n"
    "\n"
    "Common options:\n"
    "      --for DUR          time to live (required; a kill without it is one-shot)\n"
    "      --id ID            fault id (default KIND-xxxxxx); in rule comments and events\n"
    "      --netns NAME       apply a network fault inside /run/netns/NAME\n"
    "      --force            allow protected targets (loopback, the default-route\n"
    "                         interface, port 22, pid 1, sshd, other squall agents,\n"
    "                         a running squall load's connections)\n"
    "  -n, --dry-run          print every operation (netlink, iptables, signals) and\n"
    "                         change nothing\n"
    "      --state-dir DIR    journal directory (default " CH_DEFAULT_STATE_DIR ")\n"
    "  -o, --out RUN_DIR      append fault_applied / fault_reverted to RUN_DIR/events.jsonl\n"
    "  -q, --quiet            no progress lines on stdout\n"
    "  -h, --help             this help\n"
    "\n"
    "Processes (kill, stop):\n"
    "      --pid PID | --name COMM | --cmdline REGEX | --pidfile FILE | --cgroup PATH\n"
    "                         selectors (several narrow the match)\n"
    "      --signal SIG       kill's signal (KILL, TERM, INT, HUP, USR1, 9, ...); not a\n"
    "                         stopping one (STOP, TSTP, TTIN, TTOU): use stop --for\n"
    "      --count N          N matches at random    --percent P  P% of matches\n"
    "      --interval DUR     kill --for: rescan period (default 1s)\n"
    "\n"
    "Links:  --dev IF      (link-down, bandwidth, delay)\n"
    "        --rate RATE   bandwidth: 1mbit, 500kbit, 10gbit, 100kbps\n"
    "Delay:  --latency DUR  added delay (e.g. 100ms; at most 60s)\n"
    "        --jitter DUR   each delay is uniform in latency ± jitter (default 0)\n"
    "        --dev IF       netem on what leaves IF (the kernel needs sch_netem; whole\n"
    "                       microseconds), or\n"
    "        --port N       the proxy: new TCP connections to port N (from this host or\n"
    "                       namespace, and arriving from others) go through it; also\n"
    "                       --src/--dst CIDR, --direction in (data sent to the port,\n"
    "                       default), out (data coming back) or both\n"
    "        --max-conns N  proxy: connections at once (default 1024; more wait); at\n"
    "                       most (ulimit -Hn - 64) / 2: two open files each\n"
    "Packets (drop, reject, loss, partition):\n"
    "      --port N           packets from or to port N (tcp unless --proto udp)\n"
    "      --proto P          tcp, udp, icmp, all\n"
    "      --src CIDR --dst CIDR   addresses (IPv4)\n"
    "      --direction D      in (default), out, both\n"
    "      --probability P    loss: 30% or 0.3\n"
    "      --peers CIDR,...   partition: the other side\n"
    "      --with W           reject: tcp-reset (default for tcp) or icmp\n"
    "\n"
    "Exit codes: 0 reverted at the end of the TTL, 2 bad usage, 3 run-time failure\n"
    "(no privilege, missing device or kernel feature, revert failed: see `status`),\n"
    "4 interrupted by a signal (after reverting).\n";

enum {
    OPT_FOR = 256, OPT_ID, OPT_NETNS, OPT_FORCE, OPT_STATE_DIR, OPT_PID, OPT_NAME, OPT_CMDLINE,
    OPT_PIDFILE, OPT_CGROUP, OPT_SIGNAL, OPT_COUNT, OPT_PERCENT, OPT_INTERVAL, OPT_DEV, OPT_PORT,
    OPT_PROTO, OPT_SRC, OPT_DST, OPT_DIRECTION, OPT_PROBABILITY, OPT_PEERS, OPT_WITH, OPT_RATE,
    OPT_LATENCY, OPT_JITTER, OPT_MAX_CONNS,
};

static const struct option long_opts[] = {
    {"for", required_argument, NULL, OPT_FOR},
    {"id", required_argument, NULL, OPT_ID},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"force", no_argument, NULL, OPT_FORCE},
    {"dry-run", no_argument, NULL, 'n'},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"out", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"pid", required_argument, NULL, OPT_PID},
    {"name", required_argument, NULL, OPT_NAME},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"signal", required_argument, NULL, OPT_SIGNAL},
    {"count", required_argument, NULL, OPT_COUNT},
    {"percent", required_argument, NULL, OPT_PERCENT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"dev", required_argument, NULL, OPT_DEV},
    {"port", required_argument, NULL, OPT_PORT},
    {"proto", required_argument, NULL, OPT_PROTO},
    {"src", required_argument, NULL, OPT_SRC},
    {"dst", required_argument, NULL, OPT_DST},
    {"direction", required_argument, NULL, OPT_DIRECTION},
    {"probability", required_argument, NULL, OPT_PROBABILITY},
    {"peers", required_argument, NULL, OPT_PEERS},
    {"with", required_argument, NULL, OPT_WITH},
    {"rate", required_argument, NULL, OPT_RATE},
    {"latency", required_argument, NULL, OPT_LATENCY},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {NULL, 0, NULL, 0},
};

/* What the flags say besides the fault spec. */
typedef struct chaos_opts {
    ch_spec spec;
    const char *state_dir;
    const char *out;
    int dry_run, quiet, have_signal, have_interval, have_delay;
} chaos_opts;

/* Parses the options after the fault (or status/recover) word. Returns 0,
 * -1 after --help, or an exit code. */
static int parse_args(int argc, char **argv, chaos_opts *o, int fault_opts)
{
    ch_spec *s = &o->spec;
    uint64_t n;
    int c, rc;
    optind = 1;
    while ((c = cli_getopt(CMD, argc, argv, "no:qh", long_opts)) != -1) {
        if (!fault_opts && c != OPT_STATE_DIR && c != 'h' && c != 'q' && c != '?')
            return cli_usage_error(CMD, "%s takes only --state-dir and --quiet", argv[0]);
        switch (c) {
        case OPT_FOR:
            if ((rc = cli_duration(CMD, "for", optarg, &s->ttl_ns)))
                return rc;
            if (s->ttl_ns <= 0)
                return cli_usage_error(CMD, "--for: must be positive");
            break;
        case OPT_ID:
            snprintf(s->id, sizeof s->id, "%s", optarg);
            if (strlen(optarg) >= sizeof s->id)
                return cli_usage_error(CMD, "--id: too long (at most 40 characters)");
            break;
        case OPT_NETNS:
            s->netns = optarg;
            break;
        case OPT_FORCE:
            s->force = 1;
            break;
        case 'n':
            o->dry_run = 1;
            break;
        case OPT_STATE_DIR:
            if (!*optarg)
                return cli_usage_error(CMD, "--state-dir: empty");
            o->state_dir = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        case OPT_PID:
            if ((rc = cli_uint(CMD, "pid", optarg, 1, 0x7fffffff, &n)))
                return rc;
            s->pid = (pid_t)n;
            break;
        case OPT_NAME:
            if (!*optarg || strlen(optarg) > 15)
                return cli_usage_error(CMD, "--name: '%s' is not a process name (1..15 "
                                            "characters, as in /proc/PID/comm)",
                                       optarg);
            s->name = optarg;
            break;
        case OPT_CMDLINE:
            s->cmdline = optarg;
            break;
        case OPT_PIDFILE:
            s->pidfile = optarg;
            break;
        case OPT_CGROUP:
            s->cgroup = optarg;
            break;
        case OPT_SIGNAL:
            if ((s->signal = ch_signal_from_name(optarg)) < 0)
                return cli_usage_error(CMD, "--signal: '%s' is not a signal (e.g. KILL, TERM, "
                                            "INT, HUP, USR1, or a number)",
                                       optarg);
            o->have_signal = 1;
            break;
        case OPT_COUNT:
            if ((rc = cli_uint(CMD, "count", optarg, 1, 1000000, &n)))
                return rc;
            s->count = n;
            break;
        case OPT_PERCENT:
            if ((rc = cli_percent(CMD, "percent", optarg, &s->percent)))
                return rc;
            if (s->percent <= 0)
                return cli_usage_error(CMD, "--percent: must be above 0");
            break;
        case OPT_INTERVAL:
            if ((rc = cli_duration(CMD, "interval", optarg, &s->interval_ns)))
                return rc;
            if (s->interval_ns < 10 * 1000000LL)
                return cli_usage_error(CMD, "--interval: must be at least 10ms");
            o->have_interval = 1;
            break;
        case OPT_DEV:
            s->dev = optarg;
            break;
        case OPT_PORT:
            if ((rc = cli_uint(CMD, "port", optarg, 1, 65535, &n)))
                return rc;
            s->port = (int)n;
            break;
        case OPT_PROTO:
            s->proto = optarg;
            break;
        case OPT_SRC:
            s->src = optarg;
            break;
        case OPT_DST:
            s->dst = optarg;
            break;
        case OPT_DIRECTION:
            if (strcmp(optarg, "in") == 0)
                s->direction = CH_DIR_IN;
            else if (strcmp(optarg, "out") == 0)
                s->direction = CH_DIR_OUT;
            else if (strcmp(optarg, "both") == 0)
                s->direction = CH_DIR_BOTH;
            else
                return cli_usage_error(CMD, "--direction: '%s' is not in, out or both", optarg);
            break;
        case OPT_PROBABILITY:
            if ((rc = cli_percent(CMD, "probability", optarg, &s->probability)))
                return rc;
            if (s->probability <= 0)
                return cli_usage_error(CMD, "--probability: must be above 0");
            break;
        case OPT_PEERS:
            s->peers = optarg;
            break;
        case OPT_WITH:
            s->reject_with = optarg;
            break;
        case OPT_RATE: {
            sq_err err;
            if (sq_parse_bitrate(optarg, &s->rate_bps, &err))
                return cli_usage_error(CMD, "--rate: %s", err.msg);
            if (s->rate_bps == 0)
                return cli_usage_error(CMD, "--rate: must be above 0");
            break;
        }
        case OPT_LATENCY:
            if ((rc = cli_duration(CMD, "latency", optarg, &s->latency_ns)))
                return rc;
            if (s->latency_ns <= 0)
                return cli_usage_error(CMD, "--latency: must be above 0");
            o->have_delay = 1;
            break;
        case OPT_JITTER:
            if ((rc = cli_duration(CMD, "jitter", optarg, &s->jitter_ns)))
                return rc;
            o->have_delay = 1;
            break;
        case OPT_MAX_CONNS:
            if ((rc = cli_uint(CMD, "max-conns", optarg, 1, CH_PROXY_MAX_CONNS_LIMIT, &n)))
                return rc;
            s->max_conns = (int)n;
            o->have_delay = 1;
            break;
        default:
            return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (o->have_signal && s->kind != CH_KILL)
        return cli_usage_error(CMD, "--signal applies to kill only (stop always sends SIGSTOP)");
    if (o->have_interval && s->kind != CH_KILL)
        return cli_usage_error(CMD, "--interval applies to kill --for only");
    if (o->have_delay && s->kind != CH_DELAY)
        return cli_usage_error(CMD, "--latency, --jitter and --max-conns apply to delay only");
    s->dry_run = o->dry_run;
    int narrowed = s->port || s->src || s->dst || (s->proto && strcmp(s->proto, "all") != 0);
    if ((s->kind == CH_DROP || s->kind == CH_REJECT || s->kind == CH_LOSS) && !narrowed &&
        !s->force)
        return cli_usage_error(CMD, "%s without --port, --src, --dst or --proto would hit every "
                                    "packet of the host or namespace; narrow it, or add --force",
                               ch_kind_name(s->kind));
    return 0;
}

/* Maps a chaos error code to an exit code and prints the message. */
static int fail(int rc, const sq_err *err)
{
    if (rc == -EINVAL)
        return cli_usage_error(CMD, "%s", err->msg);
    fprintf(stderr, "squall chaos: %s\n", err->msg);
    return SQ_EXIT_RUNTIME;
}

/* Prints one line per fault a recovery reverted. */
static void recover_report(const json_t *fault, int ok, const char *msg, void *arg)
{
    const char *what = arg;
    const char *id = json_string_value(json_object_get(fault, "id"));
    const char *kind = json_string_value(json_object_get(fault, "kind"));
    if (ok)
        fprintf(stderr, "squall chaos: %s: reverted %s (%s)\n", what, id ? id : "?",
                kind ? kind : "?");
    else
        fprintf(stderr, "squall chaos: %s: could not revert %s: %s\n", what, id ? id : "?", msg);
}

/* Waits for the TTL (killing reappearing matches for kill --for) or a
 * signal on sfd. Returns 1 when interrupted, 0 at the TTL. */
static int wait_ttl(ch_agent *a, ch_fault *f, int sfd, int64_t deadline, int quiet)
{
    const ch_spec *s = ch_fault_spec(f);
    int64_t next = sq_mono_ns() + s->interval_ns;
    for (;;) {
        int64_t now = sq_mono_ns();
        if (now >= deadline)
            return 0;
        int64_t until = deadline;
        if (s->kind == CH_KILL && next < until)
            until = next;
        int ms = ch_wait_ms(now, until); /* capped: a huge TTL is waited in pieces */
        struct pollfd p = {sfd, POLLIN, 0};
        if (poll(&p, 1, ms) > 0) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (!quiet)
                    printf("squall chaos: SIG%s received, reverting %s\n",
                           sigabbrev_np((int)si.ssi_signo), ch_fault_id(f));
                return 1;
            }
        }
        if (s->kind == CH_KILL && sq_mono_ns() >= next) {
            sq_err err;
            int n = ch_agent_rekill(a, f, &err);
            if (n < 0)
                fprintf(stderr, "squall chaos: %s\n", err.msg);
            else if (n > 0 && !quiet)
                printf("squall chaos: %s killed %d reappearing process(es)\n", ch_fault_id(f), n);
            fflush(stdout);
            next = sq_mono_ns() + s->interval_ns;
        }
    }
}

/* Prints what was applied. */
static void print_applied(const ch_fault *f)
{
    const ch_spec *s = ch_fault_spec(f);
    json_t *ops = ch_fault_ops(f);
    char line[256];
    printf("squall chaos: applied %s (%s) in %.1f ms", ch_fault_id(f), ch_kind_name(s->kind),
           (double)ch_fault_apply_ns(f) / 1e6);
    if (s->ttl_ns > 0)
        printf(" for %.3gs", (double)s->ttl_ns / 1e9);
    printf("\n");
    for (size_t i = 0; i < json_array_size(ops); i++)
        printf("  %s\n", ch_op_summary(json_array_get(ops, i), line, sizeof line));
    fflush(stdout);
}

/* Whether the agent that owns jf still runs (pid + start time). Read
 * without taking the journal's lock: a status or dry run holding the lock
 * of a stale journal would make a concurrent recovery take it for live. */
static int owner_alive(const ch_jfile *jf)
{
    unsigned long long st = 0;
    return jf->pid > 0 && ch_proc_start_time(jf->pid, &st) == 0 && st == jf->start;
}

/* Dry run: lists the stale journals a real run would recover first. */
static void print_stale(const char *state_dir)
{
    char **paths = NULL;
    sq_err err;
    if (ch_journal_list(state_dir, &paths, &err))
        return;
    for (char **p = paths; *p; p++) {
        ch_jfile jf;
        if (ch_jfile_read(*p, 0, &jf, &err))
            continue;
        int n = 0;
        for (size_t i = 0; i < jf.n_entries; i++)
            n += !jf.entries[i].reverted;
        if (!owner_alive(&jf) && n)
            printf("would first recover the stale journal %s (%d fault(s) of dead agent %d)\n",
                   *p, n, (int)jf.pid);
        ch_jfile_release(&jf);
    }
    ch_paths_free(paths);
}

/* Runs one fault from plan to revert. */
static int run_fault(chaos_opts *o)
{
    ch_spec *s = &o->spec;
    ch_fault *f = NULL;
    ch_agent *a = NULL;
    sq_err err;
    int rc, code = SQ_EXIT_OK, sfd = -1;
    sigset_t set, old;

    /* Validate first, so that bad flags change nothing at all. */
    if ((rc = ch_fault_plan(s, &f, &err)))
        return fail(rc, &err);
    if (ch_kind_is_network(s->kind) && !o->dry_run && !ch_have_net_admin()) {
        fprintf(stderr, "squall chaos: %s needs CAP_NET_ADMIN: run as root (or grant the "
                        "capability); nothing was changed\n",
                ch_kind_name(s->kind));
        ch_fault_free(f);
        return SQ_EXIT_RUNTIME;
    }
    if (o->dry_run) {
        printf("dry run: nothing is changed; journal would be %s/agent-%d.jsonl\n", o->state_dir,
               (int)getpid());
        print_stale(o->state_dir);
        ch_fault_describe(f, stdout);
        ch_fault_free(f);
        return SQ_EXIT_OK;
    }
    /* Recover stale journals, then plan again against the recovered state
     * (original link flags etc. must be read after a stale revert). */
    int n_stale = 0;
    if ((rc = ch_recover_stale(o->state_dir, "recover", &n_stale, recover_report,
                               "stale journal", &err))) {
        ch_fault_free(f);
        return fail(rc == -EINVAL ? -EIO : rc, &err);
    }
    if (n_stale > 0) {
        ch_fault_free(f);
        f = NULL;
        if ((rc = ch_fault_plan(s, &f, &err)))
            return fail(rc, &err);
    }
    /* SIGINT/SIGTERM through a signalfd; blocked before the watchdog is
     * forked (it resets its own mask) and inherited by iptables children,
     * so a Ctrl-C never cuts an iptables-restore transaction in half. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        code = fail(-EIO, &err);
        goto out;
    }
    if ((rc = ch_agent_new(o->state_dir, o->out, s->ttl_ns > 0, &a, &err))) {
        code = fail(rc == -EINVAL ? -EIO : rc, &err);
        goto out;
    }
    int64_t t_sched = sq_mono_ns();
    if ((rc = ch_agent_apply(a, f, &err))) {
        if (ch_fault_is_reverted(f))
            fprintf(stderr, "squall chaos: applying %s failed (reverted): %s\n", ch_fault_id(f),
                    err.msg);
        else
            fprintf(stderr, "squall chaos: applying %s failed: %s; revert FAILED, see `squall "
                            "chaos status` (journal %s)\n",
                    ch_fault_id(f), err.msg, ch_agent_journal_path(a));
        code = SQ_EXIT_RUNTIME;
        goto out;
    }
    if (!o->quiet)
        print_applied(f);
    if (s->ttl_ns > 0 && wait_ttl(a, f, sfd, t_sched + s->ttl_ns, o->quiet))
        code = SQ_EXIT_ABORTED;
    if ((rc = ch_agent_revert(a, f, code == SQ_EXIT_ABORTED ? "signal" : "ttl", &err))) {
        fprintf(stderr, "squall chaos: reverting %s failed: %s; the watchdog retries, and "
                        "'squall chaos recover' can too (journal %s)\n",
                ch_fault_id(f), err.msg, ch_agent_journal_path(a));
        code = SQ_EXIT_RUNTIME;
        goto out;
    }
    if (!o->quiet) {
        const json_t *st = ch_fault_stats(f);
        if (s->kind == CH_KILL)
            printf("squall chaos: %s ended\n", ch_fault_id(f));
        else
            printf("squall chaos: reverted %s in %.1f ms\n", ch_fault_id(f),
                   (double)ch_fault_revert_ns(f) / 1e6);
        if (st)
            printf("  proxied %lld connection(s): %lld bytes to the port, %lld back; %lld not "
                   "redirected or not connected\n",
                   (long long)json_integer_value(json_object_get(st, "connections")),
                   (long long)json_integer_value(json_object_get(st, "bytes_in")),
                   (long long)json_integer_value(json_object_get(st, "bytes_out")),
                   (long long)json_integer_value(json_object_get(st, "refused")));
        if (st && json_integer_value(json_object_get(st, "looped")) > 0)
            printf("  %lld of its own connections looped back into it and were reset: another "
                   "rule rewrites packet marks\n",
                   (long long)json_integer_value(json_object_get(st, "looped")));
        fflush(stdout);
    }
out:
    ch_agent_free(a);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    ch_fault_free(f);
    return code;
}

/* s, or "?" when NULL (journals are read back from disk). */
static const char *or_q(const char *s)
{
    return s ? s : "?";
}

/* `squall chaos status`: every journal, its owner and what is in effect. */
static int run_status(const chaos_opts *o)
{
    char **paths = NULL;
    sq_err err;
    int rc = ch_journal_list(o->state_dir, &paths, &err), n = 0;
    if (rc)
        return fail(rc == -EINVAL ? -EIO : rc, &err);
    for (char **p = paths; *p; p++) {
        ch_jfile jf;
        if (ch_jfile_read(*p, 0, &jf, &err)) {
            fprintf(stderr, "squall chaos: %s\n", err.msg);
            continue;
        }
        printf("journal %s: agent %d %s\n", *p, (int)jf.pid,
               !owner_alive(&jf)
                   ? "is dead (stale: the next chaos command or `recover` reverts it)"
                   : "is running");
        for (size_t i = 0; i < jf.n_entries; i++) {
            const ch_jentry *e = &jf.entries[i];
            if (e->reverted)
                continue;
            json_t *ops = json_object_get(e->fault, "ops");
            printf("  fault %s (%s): %s\n",
                   or_q(json_string_value(json_object_get(e->fault, "id"))),
                   or_q(json_string_value(json_object_get(e->fault, "kind"))),
                   e->applied ? "applied" : "journaled (apply may be partial)");
            for (size_t k = 0; k < json_array_size(ops); k++) {
                char line[256];
                int active = 0;
                sq_err ce;
                const json_t *op = json_array_get(ops, k);
                int crc = ch_op_check(op, &active, &ce);
                printf("    %s: %s\n", ch_op_summary(op, line, sizeof line),
                       crc ? ce.msg : active ? "in effect" : "not in effect");
            }
            n++;
        }
        ch_jfile_release(&jf); /* status never locks nor reverts */
    }
    if (!paths[0] || n == 0)
        printf("no fault is applied (state dir %s)\n", o->state_dir);
    ch_paths_free(paths);
    return SQ_EXIT_OK;
}

/* `squall chaos recover`: reverts everything journaled. A journal whose
 * agent is alive is reverted too, and its agent is sent SIGTERM (checked
 * by pid + start time) so that it ends. */
static int run_recover(const chaos_opts *o)
{
    char **paths = NULL;
    sq_err err;
    int rc = ch_journal_list(o->state_dir, &paths, &err), code = SQ_EXIT_OK, n = 0;
    if (rc)
        return fail(rc == -EINVAL ? -EIO : rc, &err);
    for (char **p = paths; *p; p++) {
        ch_jfile jf;
        if (ch_jfile_read(*p, 1, &jf, &err)) {
            fprintf(stderr, "squall chaos: %s\n", err.msg);
            code = SQ_EXIT_RUNTIME;
            continue;
        }
        for (size_t i = 0; i < jf.n_entries; i++)
            n += !jf.entries[i].reverted;
        if (ch_jfile_revert(&jf, jf.stale, "recover", recover_report, "recover", &err)) {
            fprintf(stderr, "squall chaos: %s\n", err.msg);
            code = SQ_EXIT_RUNTIME;
        }
        if (!jf.stale && jf.pid > 0 && ch_proc_signal(jf.pid, jf.start, SIGTERM) == 0)
            fprintf(stderr, "squall chaos: recover: asked agent %d to stop\n", (int)jf.pid);
        ch_jfile_release(&jf);
    }
    ch_paths_free(paths);
    if (!o->quiet)
        printf(n ? "squall chaos: recover: %d fault(s) reverted\n"
                 : "squall chaos: recover: nothing to recover\n",
               n);
    return code;
}

/* `squall chaos ...`: dispatches to a fault, status or recover; returns
 * the exit code. */
int cmd_chaos(int argc, char **argv)
{
    chaos_opts o;
    memset(&o, 0, sizeof o);
    o.state_dir = CH_DEFAULT_STATE_DIR;
    if (argc < 2)
        return cli_usage_error(CMD, "missing the fault (kill, stop, link-down, drop, reject, "
                                    "loss, partition, bandwidth, delay) or status / recover");
    const char *what = argv[1];
    if (strcmp(what, "--help") == 0 || strcmp(what, "-h") == 0) {
        fputs(usage, stdout);
        return SQ_EXIT_OK;
    }
    int rc;
    if (strcmp(what, "status") == 0 || strcmp(what, "recover") == 0) {
        ch_spec_init(&o.spec, CH_KILL);
        if ((rc = parse_args(argc - 1, argv + 1, &o, 0)))
            return rc < 0 ? SQ_EXIT_OK : rc;
        return what[0] == 's' ? run_status(&o) : run_recover(&o);
    }
    int kind = ch_kind_from_name(what);
    if (kind < 0)
        return cli_usage_error(CMD, "unknown fault '%s' (kill, stop, link-down, drop, reject, "
                                    "loss, partition, bandwidth, delay; or status, recover)",
                               what);
    ch_spec_init(&o.spec, (ch_kind)kind);
    if ((rc = parse_args(argc - 1, argv + 1, &o, 1)))
        return rc < 0 ? SQ_EXIT_OK : rc;
    return run_fault(&o);
}
