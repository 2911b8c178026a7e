/* exec.c — runs helper programs (iptables, iptables-restore) with an argv,
 * never through a shell, optionally inside a named network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Looks name up in the system directories; fills buf. 0 or -ENOENT. */
int ch_find_program(const char *name, char *buf, size_t len)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(buf, len, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

/* The child's half of ch_exec: enters the namespace, wires the pipes and
 * execs. Never returns. */
static void child_exec(const char *path, const char *const *argv, int nsfd, int in_rd,
                       int out_wr)
{
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
        dprintf(out_wr, "setns: %s\n", strerror(errno));
        _exit(126);
    }
    if (dup2(in_rd, 0) < 0 || dup2(out_wr, 1) < 0 || dup2(out_wr, 2) < 0)
        _exit(126);
    signal(SIGPIPE, SIG_DFL);
    execv(path, (char *const *)argv);
    dprintf(2, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* Runs argv as described in ch_internal.h; the caller owns *output. */
int ch_exec(const char *const *argv, const char *netns, const char *input, char **output,
            int *status, sq_err *err)
{
    char path[PATH_MAX];
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, nsfd = -1, rc = 0;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int nomem = 0;
    if (output)
        *output = NULL;
    if (ch_find_program(argv[0], path, sizeof path))
        return sq_errf(err, -ENOENT, "'%s' is not installed (looked in /usr/sbin, /sbin, "
                                     "/usr/bin, /bin); install the iptables package",
                       argv[0]);
    if (netns && (rc = ch_netns_name_ok(netns, err)))
        return rc;
    if (netns) {
        char nspath[PATH_MAX];
        snprintf(nspath, sizeof nspath, "/run/netns/%s", netns);
        nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
            return sq_errf(err, -errno, "network namespace '%s': %s", netns, strerror(errno));
    }
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
        rc = sq_errf(err, -errno, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = sq_errf(err, -errno, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        child_exec(path, argv, nsfd, in_pipe[0], out_pipe[1]);
    close(in_pipe[0]);
    close(out_pipe[1]);
    in_pipe[0] = out_pipe[1] = -1;

    /* Feed stdin and drain the output together so neither side blocks. */
    const char *in = input ? input : "";
    size_t in_left = strlen(in);
    if (in_left == 0) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    for (;;) {
        struct pollfd p[2] = {{out_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
        int np = in_pipe[1] >= 0 ? 2 : 1;
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (np == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(in_pipe[1], in, in_left);
            if (w > 0) {
                in += w;
                in_left -= (size_t)w;
            }
            if (w < 0 || in_left == 0) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!nomem && n + 4096 + 1 > cap) {
                size_t ncap = cap ? cap * 2 : 8192;
                char *nb = realloc(buf, ncap);
                if (nb) {
                    buf = nb;
                    cap = ncap;
                } else {
                    nomem = 1; /* keep draining, or the child blocks on a full pipe */
                }
            }
            char scratch[4096];
            ssize_t r = nomem ? read(out_pipe[0], scratch, sizeof scratch)
                              : read(out_pipe[0], buf + n, cap - n - 1);
            if (r > 0 && !nomem)
                n += (size_t)r;
            else if (r == 0 || (r < 0 && errno != EINTR))
                break;
        }
    }
    signal(SIGPIPE, old_pipe);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    if (nomem) {
        rc = sq_errf(err, -ENOMEM, "out of memory reading the output of %s", argv[0]);
        goto out;
    }
    if (output) {
        if (!buf)
            buf = calloc(1, 1);
        else
            buf[n] = '\0';
        *output = buf;
        buf = NULL;
    }
out:
    free(buf);
    for (int i = 0; i < 2; i++) {
        if (in_pipe[i] >= 0)
            close(in_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
    }
    if (nsfd >= 0)
        close(nsfd);
    return rc;
}
