/* proc.c — reading /proc: process identity (pid + start time), comm,
 * cmdline, state; signalling a process only if it is still the same one. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

/* Reads the whole small file path into buf (NUL-terminated); returns the
 * length or a negative errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Parses field 22 (starttime) and field 3 (state) from /proc/PID/stat text.
 * The comm (field 2) is in parentheses and may contain anything, so parsing
 * starts after the last ')'. */
int ch_parse_stat_start(const char *stat, unsigned long long *start, char *state)
{
    const char *p = strrchr(stat, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -EINVAL;
    p += 2;
    if (state)
        *state = *p;
    /* p is at field 3; skip to field 22 (19 more separators). */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -EINVAL;
        p++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p || (*end != ' ' && *end != '\0' && *end != '\n'))
        return -EINVAL;
    *start = v;
    return 0;
}

/* Start time of pid (clock ticks since boot). */
int ch_proc_start_time(pid_t pid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_small(path, buf, sizeof buf) < 0)
        return -ESRCH;
    return ch_parse_stat_start(buf, start, NULL) ? -ESRCH : 0;
}

/* The state letter of pid. */
int ch_proc_state(pid_t pid, char *state)
{
    char path[64], buf[1024];
    unsigned long long start;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_small(path, buf, sizeof buf) < 0)
        return -ESRCH;
    return ch_parse_stat_start(buf, &start, state) ? -ESRCH : 0;
}

/* /proc/PID/comm without the newline. */
int ch_proc_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    ssize_t n = read_small(path, buf, len);
    if (n < 0)
        return -ESRCH;
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

/* /proc/PID/cmdline with the NUL separators as spaces (empty for kernel
 * threads). */
int ch_proc_cmdline(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    ssize_t n = read_small(path, buf, len);
    if (n < 0)
        return -ESRCH;
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return 0;
}

/* Signals pid through a pidfd after checking its start time, so that a pid
 * reused by another process is never hit. */
int ch_proc_signal(pid_t pid, unsigned long long start, int sig)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return -errno;
    unsigned long long now;
    int rc = 0;
    /* The pidfd pins the process: if the start time read after opening it
     * matches, the pidfd refers to the process we journaled. */
    if (ch_proc_start_time(pid, &now) || now != start) {
        rc = -ESRCH;
        goto out;
    }
    if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
        rc = -errno;
out:
    close(fd);
    return rc;
}

/* Signal names as users type them. */
static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
};

/* Whether sig stops the process it is sent to. */
int ch_signal_is_stopping(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* "KILL", "SIGKILL", "kill" or "9" → SIGKILL; -1 when unknown. */
int ch_signal_from_name(const char *name)
{
    if (!name || !*name)
        return -1;
    char *end;
    long v = strtol(name, &end, 10);
    if (*end == '\0')
        return v >= 1 && v <= 64 ? (int)v : -1;
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcasecmp(name, signals[i].name) == 0)
            return signals[i].sig;
    return -1;
}

/* Uniform random integer below n (n > 0), from the kernel's generator. */
uint64_t ch_random_below(uint64_t n)
{
    uint64_t v = 0;
    if (n <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    do {
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
            v = (uint64_t)rand();
    } while (v >= limit);
    return v % n;
}
