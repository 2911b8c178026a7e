/* watchdog.c — the process that reverts an agent's faults when the agent
 * dies without doing it (SIGKILL, crash, OOM kill). It is forked before any
 * fault is applied, holds the journal lock with the agent, and waits for
 * end-of-file on a pipe whose write end only the agent holds. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Prints one line per fault the watchdog reverted (or failed to). */
static void wd_report(const json_t *fault, int ok, const char *msg, void *arg)
{
    pid_t agent = *(pid_t *)arg;
    const char *id = json_string_value(json_object_get(fault, "id"));
    if (ok)
        fprintf(stderr, "squall chaos watchdog: agent %d died; reverted %s\n", (int)agent,
                id ? id : "?");
    else
        fprintf(stderr, "squall chaos watchdog: agent %d died; could not revert %s: %s (run "
                        "'squall chaos recover')\n",
                (int)agent, id ? id : "?", msg);
}

/* The watchdog's body: wait for the agent to go, then revert. Never
 * returns. */
static void wd_main(const char *path, int rfd, int jfd, pid_t agent)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        close(null);
    }
    /* Close everything inherited except stderr, the pipe and the journal
     * (whose open file carries the lock). */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != rfd && fd != jfd)
            close(fd);
    /* The agent writes CH_WD_CLEAN_END just before closing the pipe after
     * a normal end with everything reverted; end-of-file without it means
     * the agent died (or ended with faults left), so the journal is read. */
    char c;
    int clean = 0;
    for (;;) {
        ssize_t r = read(rfd, &c, 1);
        if (r == 1 && c == CH_WD_CLEAN_END)
            clean = 1;
        if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
    if (clean)
        _exit(0);
    ch_jfile jf;
    sq_err err;
    /* Through the inherited descriptor, never by path: the path may be
     * gone, or name another agent's journal by now. */
    if (ch_jfile_read_fd(jfd, path, &jf, &err)) {
        fprintf(stderr, "squall chaos watchdog: agent %d died and its journal could not be "
                        "read: %s; run 'squall chaos recover'\n",
                (int)agent, err.msg);
        _exit(1);
    }
    int rc = ch_jfile_revert(&jf, 1, "watchdog", wd_report, &agent, &err);
    ch_jfile_release(&jf);
    _exit(rc ? 1 : 0);
}

/* Forks the watchdog (see chaos.h). */
int ch_watchdog_start(ch_journal *j, pid_t *wpid, int *wfd, sq_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return sq_errf(err, -errno, "pipe: %s", strerror(errno));
    pid_t agent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return sq_errf(err, -e, "cannot start the watchdog: fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(p[1]);
        wd_main(ch_journal_path(j), p[0], ch_journal_fd(j), agent);
    }
    close(p[0]);
    *wpid = pid;
    *wfd = p[1];
    return 0;
}
