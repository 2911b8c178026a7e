/* journal.c — the write-ahead journal: one JSON Lines file per agent under
 * the state directory, every line written in one write() and synced before
 * the change it describes is made; reading journals back; listing them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaos/ch_internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/rundir.h"

struct ch_journal {
    char path[PATH_MAX];
    char dir[PATH_MAX];
    int fd;
    int next_seq;
};

/* Creates dir and its parents with mode 0700 (existing ones are kept). */
static int mkdir_p(const char *dir, sq_err *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:;
    int e = errno;
    return sq_errf(err, -e, "cannot create the state directory %s: %s%s", dir, strerror(e),
                   e == EACCES || e == EPERM ? " (run as root, or pick --state-dir)" : "");
}

/* Checks that the state directory can be trusted: a directory (not a
 * symlink) owned by the effective uid and not writable by group or others,
 * since journals in it decide what squall changes. 0, or -EACCES with a
 * precise message (exit 3). */
static int state_dir_ok(const char *dir, sq_err *err)
{
    struct stat st;
    if (lstat(dir, &st) < 0)
        return sq_errf(err, -errno, "state directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sq_errf(err, -EACCES, "state directory %s is not a directory (a symlink or a "
                                     "file); refusing to use it",
                       dir);
    if (st.st_uid != geteuid())
        return sq_errf(err, -EACCES, "state directory %s is owned by uid %d, not by this user "
                                     "(uid %d); refusing to trust its journals (pick "
                                     "--state-dir)",
                       dir, (int)st.st_uid, (int)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return sq_errf(err, -EACCES, "state directory %s is writable by group or others (mode "
                                     "%04o); refusing to trust its journals (chmod go-w it, or "
                                     "pick --state-dir)",
                       dir, (unsigned)(st.st_mode & 07777));
    return 0;
}

/* Syncs the directory so a new file's entry survives a crash. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Writes obj as one line in one write() and syncs the data. */
static int append_line(int fd, const json_t *obj, const char *path, sq_err *err)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s)
        return sq_errf(err, -ENOMEM, "out of memory");
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return sq_errf(err, -ENOMEM, "out of memory");
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    ssize_t w;
    do
        w = write(fd, line, n + 1);
    while (w < 0 && errno == EINTR);
    int e = errno;
    free(line);
    if (w != (ssize_t)(n + 1))
        return sq_errf(err, w < 0 ? -e : -EIO, "journal %s: write failed: %s", path,
                       w < 0 ? strerror(e) : "short write");
    if (fdatasync(fd) < 0)
        return sq_errf(err, -errno, "journal %s: fdatasync: %s", path, strerror(errno));
    return 0;
}

/* Creates this agent's journal (see chaos.h). */
int ch_journal_create(const char *state_dir, const char *run_dir, ch_journal **out,
                      sq_err *err)
{
    int rc;
    if ((rc = mkdir_p(state_dir, err)) || (rc = state_dir_ok(state_dir, err)))
        return rc;
    ch_journal *j = calloc(1, sizeof *j);
    if (!j)
        return sq_errf(err, -ENOMEM, "out of memory");
    j->fd = -1;
    j->next_seq = 1;
    snprintf(j->dir, sizeof j->dir, "%s", state_dir);
    snprintf(j->path, sizeof j->path, "%s/agent-%d.jsonl", state_dir, (int)getpid());
    /* Created under a name ch_journal_list never returns, locked and
     * written, and only then linked into place: recovery by a concurrent
     * command can never find it unlocked (and take it for stale). */
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/.agent-%d.%llx.tmp", state_dir, (int)getpid(),
             (unsigned long long)ch_random_below(UINT64_MAX));
    j->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (j->fd < 0) {
        int e = errno;
        rc = sq_errf(err, -e, "cannot create the journal %s: %s", tmp, strerror(e));
        goto fail;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
        rc = sq_errf(err, -errno, "cannot lock the journal %s: %s", tmp, strerror(errno));
        goto fail;
    }
    /* An absolute run directory, so that recover run from elsewhere
     * appends to the same events.jsonl. */
    char abs_rd[PATH_MAX];
    if (run_dir && realpath(run_dir, abs_rd))
        run_dir = abs_rd;
    unsigned long long start = 0;
    ch_proc_start_time(getpid(), &start);
    json_t *hdr = json_pack("{s:s, s:i, s:I, s:I, s:i, s:s?}", "type", "agent", "pid",
                            (int)getpid(), "start", (json_int_t)start, "utc_ns",
                            (json_int_t)sq_utc_ns(), "version", 1, "run_dir", run_dir);
    rc = hdr ? append_line(j->fd, hdr, tmp, err) : sq_errf(err, -ENOMEM, "out of memory");
    json_decref(hdr);
    if (rc)
        goto fail;
    if (link(tmp, j->path) < 0) {
        int e = errno;
        rc = sq_errf(err, -e, "cannot create the journal %s: %s", j->path, strerror(e));
        goto fail;
    }
    unlink(tmp);
    sync_dir(state_dir);
    *out = j;
    return 0;
fail:
    if (j->fd >= 0) {
        unlink(tmp);
        close(j->fd);
    }
    free(j);
    return rc;
}

/* Appends the fault entry (the exact objects) and syncs it. */
int ch_journal_fault(ch_journal *j, const ch_fault *f, int *seq, sq_err *err)
{
    json_t *fj = ch_fault_json(f);
    json_t *line = fj ? json_pack("{s:s, s:i, s:I, s:o}", "type", "fault", "seq", j->next_seq,
                                  "utc_ns", (json_int_t)sq_utc_ns(), "fault", fj)
                      : NULL;
    if (!line)
        return sq_errf(err, -ENOMEM, "out of memory");
    int rc = append_line(j->fd, line, j->path, err);
    json_decref(line);
    if (rc == 0)
        *seq = j->next_seq++;
    return rc;
}

/* Appends {"type":type,"seq":seq,"utc_ns":..} to the file at path (opened
 * for this one line) and syncs it. */
static int mark_path(const char *path, int seq, const char *type, sq_err *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sq_errf(err, -errno, "journal %s: %s", path, strerror(errno));
    json_t *line = json_pack("{s:s, s:i, s:I}", "type", type, "seq", seq, "utc_ns",
                             (json_int_t)sq_utc_ns());
    int rc = line ? append_line(fd, line, path, err) : sq_errf(err, -ENOMEM, "out of memory");
    json_decref(line);
    close(fd);
    return rc;
}

/* Appends a state line for seq. */
int ch_journal_mark(ch_journal *j, int seq, const char *type, sq_err *err)
{
    json_t *line = json_pack("{s:s, s:i, s:I}", "type", type, "seq", seq, "utc_ns",
                             (json_int_t)sq_utc_ns());
    if (!line)
        return sq_errf(err, -ENOMEM, "out of memory");
    int rc = append_line(j->fd, line, j->path, err);
    json_decref(line);
    return rc;
}

/* The journal's path (owned by j). */
const char *ch_journal_path(const ch_journal *j)
{
    return j->path;
}

/* The journal's descriptor, which carries its lock (owned by j). */
int ch_journal_fd(const ch_journal *j)
{
    return j->fd;
}

/* Closes (and, when remove, first unlinks) the journal. */
void ch_journal_close(ch_journal *j, int remove)
{
    if (!j)
        return;
    if (remove) {
        unlink(j->path);
        sync_dir(j->dir);
    }
    if (j->fd >= 0)
        close(j->fd);
    free(j);
}

/* Whether a run directory named by a journal may receive events: an
 * absolute path to an existing directory (never created from a journal)
 * owned by the effective uid that holds run.json or events.jsonl. */
static int run_dir_ok(const char *rd)
{
    struct stat st;
    char p[PATH_MAX];
    if (rd[0] != '/' || strlen(rd) >= PATH_MAX - 16 || lstat(rd, &st) < 0 ||
        !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return 0;
    snprintf(p, sizeof p, "%s/run.json", rd);
    if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
        return 1;
    snprintf(p, sizeof p, "%s/events.jsonl", rd);
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds the entry with seq in jf, or NULL. */
static ch_jentry *find_entry(ch_jfile *jf, int seq)
{
    for (size_t i = 0; i < jf->n_entries; i++)
        if (jf->entries[i].seq == seq)
            return &jf->entries[i];
    return NULL;
}

/* Parses the journal open on fd (read from its start) into jf, whose
 * path, lock and identity the caller has set. */
static int parse_fd(int fd, ch_jfile *jf, sq_err *err)
{
    const char *path = jf->path;
    int dfd = dup(fd);
    FILE *f = dfd >= 0 ? fdopen(dfd, "re") : NULL;
    int fe = errno;
    if (!f && dfd >= 0)
        close(dfd);
    if (!f)
        return sq_errf(err, -fe, "journal %s: %s", path, strerror(fe));
    if (fseeko(f, 0, SEEK_SET) < 0) {
        fe = errno;
        fclose(f);
        return sq_errf(err, -fe, "journal %s: seek: %s", path, strerror(fe));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0, lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] != '\n')
            break; /* torn last line: the write it belongs to never finished */
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o) {
            sq_errf(err, -EINVAL, "journal %s:%d: not JSON: %s", path, lineno, je.text);
            continue; /* keep what can be read: reverting matters more */
        }
        const char *type = json_string_value(json_object_get(o, "type"));
        int seq = (int)json_integer_value(json_object_get(o, "seq"));
        if (type && strcmp(type, "agent") == 0) {
            jf->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
            jf->start = (unsigned long long)json_integer_value(json_object_get(o, "start"));
            jf->utc_ns = json_integer_value(json_object_get(o, "utc_ns"));
            const char *rd = json_string_value(json_object_get(o, "run_dir"));
            snprintf(jf->run_dir, sizeof jf->run_dir, "%s", rd && run_dir_ok(rd) ? rd : "");
        } else if (type && strcmp(type, "fault") == 0 && json_object_get(o, "fault")) {
            ch_jentry *ne = realloc(jf->entries, (jf->n_entries + 1) * sizeof *ne);
            if (!ne) {
                json_decref(o);
                rc = sq_errf(err, -ENOMEM, "out of memory");
                break;
            }
            jf->entries = ne;
            ch_jentry *e = &jf->entries[jf->n_entries++];
            memset(e, 0, sizeof *e);
            e->seq = seq;
            e->fault = json_incref(json_object_get(o, "fault"));
        } else if (type && (strcmp(type, "applied") == 0 || strcmp(type, "reverted") == 0)) {
            ch_jentry *e = find_entry(jf, seq);
            if (e && type[0] == 'a')
                e->applied = 1;
            else if (e)
                e->reverted = 1;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Checks that fd is a regular file owned by the effective uid and records
 * its identity in jf. 0 or -EPERM. */
static int trust_fd(int fd, ch_jfile *jf, sq_err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return sq_errf(err, -EPERM, "journal %s is not a regular file owned by uid %d; not "
                                    "trusted, skipped",
                       jf->path, (int)geteuid());
    jf->dev = st.st_dev;
    jf->ino = st.st_ino;
    return 0;
}

/* Reads a journal back (see chaos.h). */
int ch_jfile_read(const char *path, int take_lock, ch_jfile *jf, sq_err *err)
{
    memset(jf, 0, sizeof *jf);
    jf->lock_fd = -1;
    snprintf(jf->path, sizeof jf->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return sq_errf(err, e == ELOOP ? -EPERM : -e, "journal %s: %s", path,
                       e == ELOOP ? "is a symlink; not trusted" : strerror(e));
    }
    int rc = trust_fd(fd, jf, err);
    if (rc) {
        close(fd);
        return rc;
    }
    if (take_lock && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        jf->stale = 1;
        jf->lock_fd = fd;
    }
    rc = parse_fd(fd, jf, err);
    if (jf->lock_fd < 0)
        close(fd);
    if (rc)
        ch_jfile_release(jf);
    return rc;
}

/* Reads a journal back through an open descriptor (see chaos.h). */
int ch_jfile_read_fd(int fd, const char *path, ch_jfile *jf, sq_err *err)
{
    memset(jf, 0, sizeof *jf);
    jf->lock_fd = -1;
    snprintf(jf->path, sizeof jf->path, "%s", path);
    int rc = trust_fd(fd, jf, err);
    if (rc == 0)
        rc = parse_fd(fd, jf, err);
    if (rc)
        ch_jfile_release(jf);
    return rc;
}

/* 1 when path still names the file jf was read from (a dead agent's pid,
 * and so its journal name, may have been reused by a new agent). */
static int same_file(const ch_jfile *jf)
{
    struct stat st;
    return lstat(jf->path, &st) == 0 && st.st_dev == jf->dev && st.st_ino == jf->ino;
}

/* Frees jf's entries and releases its lock. */
void ch_jfile_release(ch_jfile *jf)
{
    for (size_t i = 0; i < jf->n_entries; i++)
        json_decref(jf->entries[i].fault);
    free(jf->entries);
    jf->entries = NULL;
    jf->n_entries = 0;
    if (jf->lock_fd >= 0)
        close(jf->lock_fd);
    jf->lock_fd = -1;
}

/* Compares two C strings for qsort. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists agent-*.jsonl in state_dir, sorted. */
int ch_journal_list(const char *state_dir, char ***paths, sq_err *err)
{
    size_t n = 0, cap = 8;
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return sq_errf(err, -ENOMEM, "out of memory");
    DIR *d = opendir(state_dir);
    if (!d) {
        if (errno == ENOENT) {
            *paths = v;
            return 0;
        }
        int e = errno;
        free(v);
        return sq_errf(err, -e, "cannot read the state directory %s: %s", state_dir,
                       strerror(e));
    }
    int rc = state_dir_ok(state_dir, err);
    if (rc) {
        closedir(d);
        free(v);
        return rc;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, "agent-", 6) != 0 || l < 7 ||
            strcmp(de->d_name + l - 6, ".jsonl") != 0)
            continue;
        if (n + 2 > cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        size_t plen = strlen(state_dir) + l + 2;
        v[n] = malloc(plen);
        if (!v[n])
            break;
        snprintf(v[n], plen, "%s/%s", state_dir, de->d_name);
        n++;
        v[n] = NULL;
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    *paths = v;
    return 0;
}

/* Frees a list from ch_journal_list. */
void ch_paths_free(char **paths)
{
    if (!paths)
        return;
    for (char **p = paths; *p; p++)
        free(*p);
    free(paths);
}

/* Reverts what jf holds that is not yet reverted (see chaos.h). */
int ch_jfile_revert(ch_jfile *jf, int unlink_when_done, const char *by, ch_revert_cb cb,
                    void *arg, sq_err *err)
{
    int first = 0;
    sq_rundir *rd = NULL;
    sq_err re;
    if (jf->run_dir[0] && sq_rundir_open(jf->run_dir, &rd, &re))
        rd = NULL;
    for (size_t k = jf->n_entries; k-- > 0;) {
        ch_jentry *e = &jf->entries[k];
        if (e->reverted)
            continue;
        json_t *ops = json_object_get(e->fault, "ops");
        int ok = 1;
        sq_err oe = {{0}};
        for (size_t i = json_array_size(ops); i-- > 0;) {
            sq_err one;
            if (ch_op_revert(json_array_get(ops, i), &one)) {
                if (ok)
                    oe = one;
                ok = 0;
            }
        }
        if (ok) {
            /* Reverted on the system; the mark may fail when the owner has
             * removed the file meanwhile, which changes nothing. */
            sq_err me;
            if (same_file(jf))
                mark_path(jf->path, e->seq, "reverted", &me);
            e->reverted = 1;
        } else if (!first) {
            first = sq_errf(err, -EIO, "%s", oe.msg);
        }
        if (rd && ok) {
            json_t *extra = json_pack("{s:s}", "by", by);
            json_t *ev = ch_event_new("fault_reverted", e->fault, extra);
            if (ev)
                sq_rundir_append(rd, "events.jsonl", ev, &re);
            json_decref(ev);
            json_decref(extra);
        }
        if (cb)
            cb(e->fault, ok, ok ? "" : oe.msg, arg);
    }
    sq_rundir_free(rd);
    if (!first && unlink_when_done && same_file(jf)) {
        if (unlink(jf->path) < 0 && errno != ENOENT)
            return sq_errf(err, -errno, "cannot remove %s: %s", jf->path, strerror(errno));
    }
    return first;
}

/* Recovers every stale journal of state_dir. */
int ch_recover_stale(const char *state_dir, const char *by, int *n_faults, ch_revert_cb cb,
                     void *arg, sq_err *err)
{
    char **paths = NULL;
    int rc = ch_journal_list(state_dir, &paths, err), first = 0;
    *n_faults = 0;
    if (rc)
        return rc;
    for (char **p = paths; *p; p++) {
        ch_jfile jf;
        sq_err one;
        int r = ch_jfile_read(*p, 1, &jf, &one);
        if (r == -EPERM || r == -ENOENT) {
            /* Not ours (skipped, never trusted), or removed meanwhile. */
            if (r == -EPERM)
                sq_warn("%s", one.msg);
            continue;
        }
        if (r) {
            if (!first)
                first = sq_errf(err, -EIO, "%s", one.msg);
            continue;
        }
        if (jf.stale) {
            for (size_t i = 0; i < jf.n_entries; i++)
                *n_faults += !jf.entries[i].reverted;
            if (ch_jfile_revert(&jf, 1, by, cb, arg, &one) && !first)
                first = sq_errf(err, -EIO, "%s", one.msg);
        }
        ch_jfile_release(&jf);
    }
    ch_paths_free(paths);
    return first;
}
