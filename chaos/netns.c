/* netns.c — entering a named network namespace (/run/netns/NAME, as made by
 * `ip netns add`) for netlink work, and coming back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

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

/* The namespace file of name: /run/netns/NAME, or this thread's own when
 * name is NULL. */
static void ns_path(const char *name, char *path, size_t len)
{
    if (name)
        snprintf(path, len, "/run/netns/%s", name);
    else
        snprintf(path, len, "/proc/thread-self/ns/net");
}

/* Moves the calling thread into the namespace open at fd (closed here,
 * called name in messages); *saved is the namespace to return to (owned by
 * the caller: ch_netns_leave). Returns 0 or -errno. */
static int switch_to(int fd, const char *name, int *saved, sq_err *err)
{
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
    ns_path(name, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sq_errf(err, -e, "network namespace '%s': %s%s", name, strerror(e),
                       e == ENOENT ? " (see 'ip netns list')" : "");
    }
    return switch_to(fd, name, saved, err);
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

/* The identity of the namespace file at path (/run/netns/NAME, or this
 * thread's /proc/thread-self/ns/net) as {"dev":D,"ino":I}. */
int ch_netns_ident(const char *name, json_t **out, sq_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    int rc;
    if (name && (rc = ch_netns_name_ok(name, err)))
        return rc;
    ns_path(name, path, sizeof path);
    if (stat(path, &st) < 0) {
        int e = errno;
        return sq_errf(err, e == ENOENT ? -ENOENT : -e, "network namespace %s: %s", path,
                       strerror(e));
    }
    *out = json_pack("{s:I, s:I}", "dev", (json_int_t)st.st_dev, "ino", (json_int_t)st.st_ino);
    return *out ? 0 : sq_errf(err, -ENOMEM, "out of memory");
}

/* Checks an op's journaled namespace identity: an object with integer
 * "dev" and "ino". 1 when well formed. */
int ch_netns_ident_ok(const json_t *op)
{
    const json_t *id = json_object_get(op, "netns_id");
    const json_t *ns = json_object_get(op, "netns");
    return json_is_object(id) && json_is_integer(json_object_get(id, "dev")) &&
           json_is_integer(json_object_get(id, "ino")) && (json_is_null(ns) || !ns ||
                                                            json_is_string(ns));
}

/* Enters the namespace op names after checking that it is still the one
 * journaled (see ch_internal.h). */
int ch_netns_enter_op(const json_t *op, int *saved, sq_err *err)
{
    const char *name = json_string_value(json_object_get(op, "netns"));
    const json_t *id = json_object_get(op, "netns_id");
    char path[PATH_MAX];
    struct stat st;
    int rc, fd;
    *saved = -1;
    if (!ch_netns_ident_ok(op))
        return sq_errf(err, -EINVAL, "journal: op without a valid network namespace identity; "
                                     "not touched");
    if (name && (rc = ch_netns_name_ok(name, err)))
        return rc;
    ns_path(name, path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (name && e == ENOENT)
            return sq_errf(err, -ESTALE, "network namespace '%s' is gone", name);
        return sq_errf(err, -e, "network namespace %s: %s", path, strerror(e));
    }
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return sq_errf(err, -e, "network namespace %s: fstat: %s", path, strerror(e));
    }
    if ((json_int_t)st.st_dev != json_integer_value(json_object_get(id, "dev")) ||
        (json_int_t)st.st_ino != json_integer_value(json_object_get(id, "ino"))) {
        close(fd);
        if (name)
            return sq_errf(err, -ESTALE, "network namespace '%s' is gone (the one by that name "
                                         "now is a different namespace)",
                           name);
        return sq_errf(err, -EXDEV, "this process runs in a different network namespace than "
                                    "the one the fault was applied in; nothing touched (run "
                                    "`squall chaos recover` from that namespace)");
    }
    if (!name) {
        close(fd);
        return 0; /* already there */
    }
    return switch_to(fd, name, saved, err);
}

/* Reports that a journaled object is gone with its namespace: counted as
 * reverted, never applied to whatever now has the same name. */
void ch_report_gone(const json_t *op, const char *what, const char *why)
{
    const char *name = json_string_value(json_object_get(op, "netns"));
    sq_warn("%s%s%s: %s; counted as reverted, nothing else touched", what,
            name ? " in netns " : "", name ? name : "", why);
}

/* Opens a connected NETLINK_ROUTE socket in the calling thread's network
 * namespace; see ch_internal.h. */
int ch_route_sock(struct nl_sock **out, sq_err *err)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return sq_errf(err, -ENOMEM, "out of memory");
    int e = nl_connect(sk, NETLINK_ROUTE);
    if (e < 0) {
        nl_socket_free(sk);
        return sq_errf(err, -EIO, "netlink: %s", nl_geterror(e));
    }
    *out = sk;
    return 0;
}
