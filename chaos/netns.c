/* netns.c — entering a named network namespace (/run/netns/NAME, as made by
 * `ip netns add`) for netlink work, and coming back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chaos/ch_internal.h"
#include "core/log.h"

/* Checks a namespace name: 1..64 chars, no '/', not "." or "..". */
int ch_netns_name_ok(const char *name, sq_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return sq_errf(err, -EINVAL, "--netns: '%s' is not a namespace name (as listed by "
                                     "'ip netns list')",
                       name);
    return 0;
}

/* Enters /run/netns/NAME; *saved is the namespace to return to. */
int ch_netns_enter(const char *name, int *saved, sq_err *err)
{
    *saved = -1;
    if (!name)
        return 0;
    int rc = ch_netns_name_ok(name, err);
    if (rc)
        return rc;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sq_errf(err, -e, "network namespace '%s': %s%s", name, strerror(e),
                       e == ENOENT ? " (see 'ip netns list')" : "");
    }
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        int e = errno;
        close(fd);
        return sq_errf(err, -e, "cannot open this thread's network namespace: %s", strerror(e));
    }
    if (setns(fd, CLONE_NEWNET) < 0) {
        int e = errno;
        close(fd);
        close(self);
        return sq_errf(err, e == EPERM ? -EPERM : -e,
                       "cannot enter network namespace '%s': %s%s", name, strerror(e),
                       e == EPERM ? " (needs root or CAP_SYS_ADMIN)" : "");
    }
    close(fd);
    *saved = self;
    return 0;
}

/* Returns to the saved namespace (nothing when saved < 0). */
void ch_netns_leave(int saved)
{
    if (saved < 0)
        return;
    if (setns(saved, CLONE_NEWNET) < 0)
        sq_error("cannot return to the original network namespace: %s", strerror(errno));
    close(saved);
}
