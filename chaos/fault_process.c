/* fault_process.c — kill and stop faults: selecting processes by pid, comm,
 * cmdline regex, pidfile or cgroup, choosing --count/--percent of them at
 * random, and journaling each as pid + start time so that a revert (SIGCONT)
 * or a repeated kill never hits a reused pid. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* One candidate process. */
typedef struct proc_ref {
    pid_t pid;
    unsigned long long start;
    char comm[64];
} proc_ref;

typedef struct proc_list {
    proc_ref *v;
    size_t n, cap;
} proc_list;

/* Appends r to l; 0 or -ENOMEM. */
static int list_push(proc_list *l, const proc_ref *r)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        proc_ref *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = *r;
    return 0;
}

/* Parent pid of pid (field 4 of /proc/PID/stat), or -1. */
static pid_t proc_ppid(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    int ppid;
    char st;
    if (!p || sscanf(p + 1, " %c %d", &st, &ppid) != 2)
        return -1;
    return ppid;
}

/* Frees the compiled --cmdline regex of f. */
void ch_proc_free_regex(ch_fault *f)
{
    if (f->regex) {
        regfree(f->regex);
        free(f->regex);
        f->regex = NULL;
    }
}

/* Reads a pid from a pidfile; 0 or -EINVAL/-ENOENT with err set. */
static int read_pidfile(const char *path, pid_t *pid, sq_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return sq_errf(err, -ENOENT, "--pidfile: cannot open '%s': %s", path, strerror(errno));
    char buf[64] = "";
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    char *end;
    long v = strtol(buf, &end, 10);
    while (*end == '\n' || *end == ' ' || *end == '\r')
        end++;
    if (end == buf || *end || v < 1 || v > INT_MAX)
        return sq_errf(err, -EINVAL, "--pidfile: '%s' does not hold a process id", path);
    *pid = (pid_t)v;
    return 0;
}

/* Collects the candidate pids named by --pid, --pidfile or --cgroup into
 * pids (or every pid in /proc when none is given). */
static int candidate_pids(const ch_spec *s, pid_t **pids, size_t *n, sq_err *err)
{
    size_t cap = 64, k = 0;
    pid_t *v = malloc(cap * sizeof *v);
    int rc = 0;
    if (!v)
        return sq_errf(err, -ENOMEM, "out of memory");
    if (s->pid > 0 || s->pidfile) {
        pid_t p = s->pid;
        if (s->pidfile && (rc = read_pidfile(s->pidfile, &p, err)))
            goto fail;
        if (s->pid > 0 && s->pidfile && p != s->pid) {
            k = 0; /* both given and they disagree: nothing matches */
        } else {
            v[k++] = p;
        }
    } else if (s->cgroup) {
        char path[PATH_MAX];
        if (s->cgroup[0] == '/' && strncmp(s->cgroup, "/sys/fs/cgroup", 14) == 0)
            snprintf(path, sizeof path, "%s/cgroup.procs", s->cgroup);
        else
            snprintf(path, sizeof path, "/sys/fs/cgroup/%s/cgroup.procs",
                     s->cgroup + (s->cgroup[0] == '/'));
        FILE *f = fopen(path, "re");
        if (!f) {
            rc = sq_errf(err, -ENOENT, "--cgroup: cannot read '%s': %s", path, strerror(errno));
            goto fail;
        }
        long p;
        while (fscanf(f, "%ld", &p) == 1) {
            if (k == cap) {
                pid_t *nv = realloc(v, (cap *= 2) * sizeof *nv);
                if (!nv) {
                    fclose(f);
                    rc = sq_errf(err, -ENOMEM, "out of memory");
                    goto fail;
                }
                v = nv;
            }
            v[k++] = (pid_t)p;
        }
        fclose(f);
    } else {
        DIR *d = opendir("/proc");
        if (!d) {
            rc = sq_errf(err, -errno, "cannot list /proc: %s", strerror(errno));
            goto fail;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!isdigit((unsigned char)e->d_name[0]))
                continue;
            if (k == cap) {
                pid_t *nv = realloc(v, (cap *= 2) * sizeof *nv);
                if (!nv) {
                    closedir(d);
                    rc = sq_errf(err, -ENOMEM, "out of memory");
                    goto fail;
                }
                v = nv;
            }
            v[k++] = (pid_t)atol(e->d_name);
        }
        closedir(d);
    }
    *pids = v;
    *n = k;
    return 0;
fail:
    free(v);
    return rc;
}

/* 1 when /proc/PID/exe is the same file (st_dev + st_ino) as this
 * process's own executable and the process is not `squall target` (the demo
 * service, a fair target for drills): another chaos agent or its watchdog,
 * or a load generator. cmdline is /proc/PID/cmdline with spaces. */
static int is_squall(pid_t pid, const char *cmdline)
{
    struct stat self, st;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    if (stat("/proc/self/exe", &self) != 0 || stat(path, &st) != 0 || st.st_dev != self.st_dev ||
        st.st_ino != self.st_ino)
        return 0;
    const char *sub = strchr(cmdline, ' ');
    if (sub && strncmp(sub + 1, "target", 6) == 0 && (sub[7] == ' ' || sub[7] == '\0'))
        return 0;
    return 1;
}

/* Whether pid is protected: pid 1, this process, its children (the
 * watchdog), kernel threads, sshd and its helpers (sshd-session,
 * sshd-auth, ...), and any other squall process but `squall target` (agents,
 * watchdogs, load generators). */
static const char *protected_reason(pid_t pid, const char *comm, const char *cmdline)
{
    if (pid == 1)
        return "pid 1 (init)";
    if (pid == getpid())
        return "squall itself";
    if (proc_ppid(pid) == getpid())
        return "squall's own watchdog";
    if (!cmdline[0])
        return "a kernel thread";
    if (strncmp(comm, "sshd", 4) == 0)
        return "sshd (SSH access)";
    if (is_squall(pid, cmdline))
        return "a squall process (a chaos agent, its watchdog, or a load generator)";
    return NULL;
}

/* Finds the processes the spec selects (not yet in `seen`, when given),
 * honouring the protections. Fills l. */
static int select_procs(ch_fault *f, json_t *seen, int strict, proc_list *l, sq_err *err)
{
    const ch_spec *s = &f->spec;
    pid_t *pids = NULL;
    size_t n = 0;
    int rc = candidate_pids(s, &pids, &n, err);
    if (rc)
        return rc;
    char cmdline[8192];
    for (size_t i = 0; i < n; i++) {
        proc_ref r = {.pid = pids[i]};
        if (ch_proc_start_time(r.pid, &r.start) || ch_proc_comm(r.pid, r.comm, sizeof r.comm) ||
            ch_proc_cmdline(r.pid, cmdline, sizeof cmdline)) {
            if (strict && s->pid > 0)
                rc = sq_errf(err, -ENOENT, "--pid: no process %d", (int)r.pid);
            continue;
        }
        if (s->name && strcmp(s->name, r.comm) != 0)
            continue;
        if (f->regex && regexec(f->regex, cmdline, 0, NULL, 0) != 0)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%d:%llu", (int)r.pid, r.start);
        if (seen && json_object_get(seen, key))
            continue;
        const char *why = protected_reason(r.pid, r.comm, cmdline);
        if (why && (r.pid == getpid() || proc_ppid(r.pid) == getpid()))
            continue; /* never, not even with --force */
        if (why && !s->force) {
            if (strict && (s->pid > 0 || s->pidfile)) {
                rc = sq_errf(err, -EPERM, "process %d is protected: %s; add --force to target it",
                             (int)r.pid, why);
                goto out;
            }
            continue;
        }
        if ((rc = list_push(l, &r))) {
            sq_errf(err, rc, "out of memory");
            goto out;
        }
    }
out:
    free(pids);
    return rc;
}

/* Keeps a random --count / --percent subset of l (all when neither). */
static void choose_subset(const ch_spec *s, proc_list *l)
{
    size_t keep = l->n;
    if (s->count > 0 && s->count < keep)
        keep = (size_t)s->count;
    if (s->percent > 0) {
        size_t p = (size_t)((double)l->n * s->percent + 0.999999);
        if (p < 1)
            p = 1;
        if (p < keep)
            keep = p;
    }
    for (size_t i = 0; i < keep; i++) {
        size_t j = i + (size_t)ch_random_below(l->n - i);
        proc_ref t = l->v[i];
        l->v[i] = l->v[j];
        l->v[j] = t;
    }
    l->n = keep;
}

/* Makes the op object for one selected process. */
static json_t *proc_op(const ch_fault *f, const proc_ref *r)
{
    if (f->spec.kind == CH_STOP) {
        char st = 0;
        ch_proc_state(r->pid, &st);
        return json_pack("{s:s, s:i, s:I, s:s, s:b}", "type", "stop", "pid", (int)r->pid, "start",
                         (json_int_t)r->start, "comm", r->comm, "was_stopped",
                         st == 'T' || st == 't');
    }
    return json_pack("{s:s, s:i, s:I, s:s, s:i}", "type", "signal", "pid", (int)r->pid, "start",
                     (json_int_t)r->start, "comm", r->comm, "signal", f->spec.signal);
}

/* Plans a kill or stop fault: validates selectors, selects processes and
 * checks that we may signal them. */
int ch_proc_plan(ch_fault *f, sq_err *err)
{
    ch_spec *s = &f->spec;
    proc_list l = {0};
    int rc = 0;
    if (!s->pid && !s->name && !s->cmdline && !s->pidfile && !s->cgroup)
        return sq_errf(err, -EINVAL, "%s needs a target: --pid, --name, --cmdline, --pidfile "
                                     "or --cgroup",
                       ch_kind_name(s->kind));
    if (s->dev || s->port || s->src || s->dst || s->peers || s->netns || s->rate_bps ||
        s->proto || s->direction || s->probability > 0 || s->reject_with)
        return sq_errf(err, -EINVAL, "%s takes process selectors, not network options",
                       ch_kind_name(s->kind));
    if (s->count && s->percent > 0)
        return sq_errf(err, -EINVAL, "give --count or --percent, not both");
    if (s->kind == CH_KILL && ch_signal_is_stopping(s->signal))
        return sq_errf(err, -EINVAL, "--signal %s would leave the process stopped with no time "
                                     "to live and nothing to resume it; use `squall chaos stop "
                                     "--for DUR`",
                       sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
    if (s->cmdline) {
        f->regex = calloc(1, sizeof(regex_t));
        if (!f->regex)
            return sq_errf(err, -ENOMEM, "out of memory");
        int r = regcomp(f->regex, s->cmdline, REG_EXTENDED | REG_NOSUB);
        if (r) {
            char msg[128];
            regerror(r, f->regex, msg, sizeof msg);
            free(f->regex);
            f->regex = NULL;
            return sq_errf(err, -EINVAL, "--cmdline: '%s' is not a regular expression: %s",
                           s->cmdline, msg);
        }
    }
    if (s->kind == CH_STOP && s->ttl_ns <= 0)
        return sq_errf(err, -EINVAL, "stop needs --for DUR: every fault has a time to live");
    if ((rc = select_procs(f, NULL, 1, &l, err)))
        goto out;
    if (l.n == 0) {
        rc = sq_errf(err, -ENOENT, "no process matches the selectors (protected processes — "
                                   "pid 1, sshd, kernel threads, squall processes — are never "
                                   "chosen without --force)");
        goto out;
    }
    /* Every match seen now is "old": kill --for later goes only after pids
     * (pid + start time) that appear during the fault, not after the
     * matches --count/--percent spared. */
    f->seen = json_object();
    for (size_t i = 0; i < l.n; i++) {
        char key[64];
        snprintf(key, sizeof key, "%d:%llu", (int)l.v[i].pid, l.v[i].start);
        json_object_set_new(f->seen, key, json_true());
    }
    choose_subset(s, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (kill(l.v[i].pid, 0) < 0 && errno == EPERM) {
            rc = sq_errf(err, -EPERM, "no permission to signal process %d (%s): run as root or "
                                      "as its owner",
                         (int)l.v[i].pid, l.v[i].comm);
            goto out;
        }
        json_t *op = proc_op(f, &l.v[i]);
        if (!op || json_array_append_new(f->ops, op)) {
            rc = sq_errf(err, -ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    free(l.v);
    return rc;
}

/* Rescans for matches that appeared since the plan and kills them. */
int ch_fault_rekill(ch_fault *f, json_t **killed, sq_err *err)
{
    proc_list l = {0};
    int rc, n = 0;
    if (f->spec.kind != CH_KILL || (f->spec.pid > 0 && !f->spec.pidfile))
        return 0;
    sq_err tmp;
    if ((rc = select_procs(f, f->seen, 0, &l, &tmp))) {
        free(l.v);
        return rc == -ENOENT || rc == -EINVAL ? 0 : sq_errf(err, rc, "%s", tmp.msg);
    }
    for (size_t i = 0; i < l.n; i++) {
        char key[64];
        snprintf(key, sizeof key, "%d:%llu", (int)l.v[i].pid, l.v[i].start);
        json_object_set_new(f->seen, key, json_true());
    }
    choose_subset(&f->spec, &l);
    for (size_t i = 0; i < l.n; i++) {
        json_t *op = proc_op(f, &l.v[i]);
        if (!op)
            continue;
        if (ch_proc_signal(l.v[i].pid, l.v[i].start, f->spec.signal) == 0) {
            if (!*killed)
                *killed = json_array();
            json_array_append(*killed, op);
            json_array_append(f->ops, op);
            n++;
        }
        json_decref(op);
    }
    free(l.v);
    return n;
}

/* Checks a process op as read back from a journal: type stop or signal,
 * a pid in 1..INT_MAX, a start time of 0 or more, a signal in 1..64 that is not
 * a stopping one (for "signal"), and, for a stop, a boolean
 * "was_stopped" when present. 0 or -EINVAL with err set. */
static int proc_op_ok(const json_t *op, sq_err *err)
{
    const char *type = json_string_value(json_object_get(op, "type"));
    const json_t *pid = json_object_get(op, "pid"), *start = json_object_get(op, "start");
    const json_t *sig = json_object_get(op, "signal"), *was = json_object_get(op, "was_stopped");
    int ok = type && (strcmp(type, "stop") == 0 || strcmp(type, "signal") == 0) &&
             json_is_integer(pid) && json_integer_value(pid) >= 1 &&
             json_integer_value(pid) <= INT_MAX && json_is_integer(start) &&
             json_integer_value(start) > -1 && (!was || json_is_boolean(was));
    if (ok && strcmp(type, "signal") == 0)
        ok = json_is_integer(sig) && json_integer_value(sig) >= 1 &&
             json_integer_value(sig) <= 64 && !ch_signal_is_stopping((int)json_integer_value(sig));
    if (!ok)
        return sq_errf(err, -EINVAL, "journal: a process op that squall would not write; not "
                                     "touched");
    return 0;
}

/* Applies a process op: the signal (kill) or SIGSTOP (stop). A kill target
 * that is already gone counts as done. */
int ch_proc_apply(const json_t *op, sq_err *err)
{
    int rc0 = proc_op_ok(op, err);
    if (rc0)
        return rc0;
    const char *type = json_string_value(json_object_get(op, "type"));
    pid_t pid = (pid_t)json_integer_value(json_object_get(op, "pid"));
    unsigned long long start = (unsigned long long)json_integer_value(json_object_get(op, "start"));
    int is_stop = type && strcmp(type, "stop") == 0;
    int sig = is_stop ? SIGSTOP : (int)json_integer_value(json_object_get(op, "signal"));
    int rc = ch_proc_signal(pid, start, sig);
    if (rc == -ESRCH && !is_stop)
        return 0;
    if (rc)
        return sq_errf(err, rc, "cannot signal process %d: %s", (int)pid, strerror(-rc));
    return 0;
}

/* Reverts a stop (SIGCONT to the same pid + start time, then waits up to
 * 1 s for it to leave the stopped state); a kill has nothing to revert. */
int ch_proc_revert(const json_t *op, sq_err *err)
{
    int rc0 = proc_op_ok(op, err);
    if (rc0)
        return rc0;
    const char *type = json_string_value(json_object_get(op, "type"));
    if (strcmp(type, "stop") != 0)
        return 0;
    if (json_is_true(json_object_get(op, "was_stopped")))
        return 0; /* stopped before squall came: not ours to resume */
    pid_t pid = (pid_t)json_integer_value(json_object_get(op, "pid"));
    unsigned long long start = (unsigned long long)json_integer_value(json_object_get(op, "start"));
    int rc = ch_proc_signal(pid, start, SIGCONT);
    if (rc == -ESRCH)
        return 0; /* gone, or the pid now belongs to someone else: not ours */
    if (rc)
        return sq_errf(err, rc, "cannot resume process %d: %s", (int)pid, strerror(-rc));
    for (int i = 0; i < 100; i++) {
        int active = 0;
        if (ch_proc_check(op, &active, NULL) || !active)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return sq_errf(err, -EAGAIN, "process %d is still stopped after SIGCONT", (int)pid);
}

/* A stop is active while the same process is in state T; a kill while the
 * killed process still exists. */
int ch_proc_check(const json_t *op, int *active, sq_err *err)
{
    *active = 0;
    int rc0 = proc_op_ok(op, err);
    if (rc0)
        return rc0;
    const char *type = json_string_value(json_object_get(op, "type"));
    pid_t pid = (pid_t)json_integer_value(json_object_get(op, "pid"));
    unsigned long long start = (unsigned long long)json_integer_value(json_object_get(op, "start"));
    unsigned long long now;
    char state = 0;
    *active = 0;
    if (ch_proc_start_time(pid, &now) || now != start || ch_proc_state(pid, &state))
        return 0;
    if (type && strcmp(type, "stop") == 0)
        *active = state == 'T' && !json_is_true(json_object_get(op, "was_stopped"));
    return 0;
}

/* Prints the signal a process op sends, and its revert. */
void ch_proc_describe(const json_t *op, FILE *out)
{
    const char *type = json_string_value(json_object_get(op, "type"));
    int pid = (int)json_integer_value(json_object_get(op, "pid"));
    long long start = (long long)json_integer_value(json_object_get(op, "start"));
    const char *comm = json_string_value(json_object_get(op, "comm"));
    if (type && strcmp(type, "stop") == 0) {
        fprintf(out, "  pidfd_send_signal SIGSTOP -> pid %d (%s, start time %lld)\n", pid, comm,
                start);
        fprintf(out, "  revert: pidfd_send_signal SIGCONT -> pid %d if its start time is still "
                     "%lld\n",
                pid, start);
    } else {
        int sig = (int)json_integer_value(json_object_get(op, "signal"));
        fprintf(out, "  pidfd_send_signal %s -> pid %d (%s, start time %lld)\n",
                sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", pid, comm, start);
    }
}
