/* rundir.c — the run directory writer.
 *
 * A sq_rundir holds a descriptor for the directory itself (every file is
 * opened relative to it, so the run's files stay together even if the path
 * is renamed) and a small table of append descriptors, opened lazily on the
 * first append to each name and kept open until sq_rundir_free.
 *
 * Appends: each line is built in one buffer (JSON + '\n') and handed to the
 * kernel in a single write() on an O_APPEND descriptor, with rd->lock held,
 * so lines from several threads of this process never interleave, and lines
 * from other processes appending to the same file (e.g. cleanup and loadgen
 * on ledger.jsonl) land whole as well. A write() interrupted before writing
 * anything (EINTR) is retried. A short write is never completed with a second
 * write() (which could split the line around another process's line):
 * the append fails with -EIO and the file is marked torn; the next append to
 * it starts with '\n', so the fragment stays on a line of its own that
 * readers skip as one bad line. A file whose last byte is not '\n' when it is
 * first opened (a previous process died mid-write) is treated as torn too.
 *
 * Documents: written pretty-printed to NAME.tmp, fsync'd, renamed over NAME
 * and the directory fsync'd, so a reader sees the old or the new document,
 * never a part. Document writers in this process are serialised by
 * rd->doc_lock (they share NAME.tmp); appends do not wait for them.
 */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock.h"

#define RUN_ID_MAX 64

/* Lines up to this size are encoded on the stack; larger ones on the heap. */
#define LINE_STACK 4096

/* One file opened for appending. */
struct append_file {
    char *name; /* owned */
    int fd;
    int torn; /* the file does not end with '\n': start the next line with one */
};

struct sq_rundir {
    char *path; /* owned, as given to sq_rundir_open */
    int dirfd;
    pthread_mutex_t lock;     /* guards files/nfiles/cap/torn and every append write() */
    pthread_mutex_t doc_lock; /* serialises sq_rundir_write_json (shared NAME.tmp) */
    struct append_file *files;
    size_t nfiles, cap;
};

/* Checks that name is a plain file name inside the run directory: not empty,
 * no '/', not "." or "..". Returns 0 or -EINVAL with a message. */
static int check_name(const char *name, sq_err *err)
{
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return sq_errf(err, -EINVAL,
                       "'%s' is not a file name for the run directory "
                       "(expected a plain name like series.jsonl, without '/')",
                       name ? name : "(null)");
    if (strlen(name) > 250)
        return sq_errf(err, -EINVAL, "file name '%.40s...' is too long for the run directory",
                       name);
    return 0;
}

/* Creates path and its missing parents (mode 0755), like mkdir -p. Returns 0
 * or a negative errno (EEXIST for an existing directory is not an error;
 * anything that is not a directory is found when it is opened). */
static int mkdir_p(const char *path)
{
    char *copy = strdup(path);
    int rc = 0;
    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
            rc = -errno;
            goto out;
        }
        *p = '/';
    }
    if (mkdir(copy, 0755) < 0 && errno != EEXIST)
        rc = -errno;
out:
    free(copy);
    return rc;
}

/* Opens the run directory at path, creating it (with parents) first when
 * create is set; the new sq_rundir is owned by the caller (sq_rundir_free).
 * Returns 0 or a negative errno with a message. */
static int open_dir(const char *path, int create, sq_rundir **out, sq_err *err)
{
    sq_rundir *rd = NULL;
    int rc;
    *out = NULL;
    if (!path || !*path)
        return sq_errf(err, -EINVAL, "the run directory path is empty");
    if (create && (rc = mkdir_p(path)) < 0)
        return sq_errf(err, rc, "cannot create run directory '%s': %s", path, strerror(-rc));
    rd = calloc(1, sizeof *rd);
    if (!rd || !(rd->path = strdup(path))) {
        rc = sq_errf(err, -ENOMEM, "out of memory opening run directory '%s'", path);
        goto fail;
    }
    rd->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rd->dirfd < 0) {
        rc = sq_errf(err, -errno, "cannot open run directory '%s': %s", path, strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&rd->lock, NULL);
    pthread_mutex_init(&rd->doc_lock, NULL);
    *out = rd;
    return 0;
fail:
    if (rd)
        free(rd->path);
    free(rd);
    return rc;
}

/* Opens (creating with parents) the run directory at path; the new
 * sq_rundir is owned by the caller (sq_rundir_free). */
int sq_rundir_open(const char *path, sq_rundir **out, sq_err *err)
{
    return open_dir(path, 1, out, err);
}

/* Opens the existing run directory at path without creating anything; the
 * new sq_rundir is owned by the caller (sq_rundir_free). */
int sq_rundir_open_existing(const char *path, sq_rundir **out, sq_err *err)
{
    return open_dir(path, 0, out, err);
}

/* Closes every append file and the directory, and frees rd (NULL is fine). */
void sq_rundir_free(sq_rundir *rd)
{
    if (!rd)
        return;
    for (size_t i = 0; i < rd->nfiles; i++) {
        close(rd->files[i].fd);
        free(rd->files[i].name);
    }
    free(rd->files);
    close(rd->dirfd);
    pthread_mutex_destroy(&rd->lock);
    pthread_mutex_destroy(&rd->doc_lock);
    free(rd->path);
    free(rd);
}

/* Returns the directory's path as given to sq_rundir_open (owned by rd). */
const char *sq_rundir_path(const sq_rundir *rd)
{
    return rd->path;
}

/* Finds the append file `name`, or NULL when it is not open yet. Call with
 * rd->lock held; the entry is owned by rd. */
static struct append_file *find_file(sq_rundir *rd, const char *name)
{
    for (size_t i = 0; i < rd->nfiles; i++)
        if (strcmp(rd->files[i].name, name) == 0)
            return &rd->files[i];
    return NULL;
}

/* Returns the last byte of the file `name` in the run directory, or '\n'
 * when it is empty or cannot be read (the append descriptor is write-only,
 * so this uses a short-lived read-only one). */
static char last_byte(sq_rundir *rd, const char *name)
{
    struct stat st;
    char last = '\n';
    int fd = openat(rd->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return last;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    close(fd);
    return last;
}

/* Returns the append file `name`, opening it (O_APPEND, created 0644) on
 * first use and noting whether it ends with a torn line. Call with rd->lock
 * held; *out is owned by rd. Returns 0 or a negative errno with a message. */
static int get_file(sq_rundir *rd, const char *name, struct append_file **out, sq_err *err)
{
    struct append_file *f = find_file(rd, name);
    char last;
    int fd;
    if (f) {
        *out = f;
        return 0;
    }
    if (rd->nfiles == rd->cap) {
        size_t cap = rd->cap ? rd->cap * 2 : 8;
        struct append_file *files = realloc(rd->files, cap * sizeof *files);
        if (!files)
            return sq_errf(err, -ENOMEM, "out of memory opening %s/%s", rd->path, name);
        rd->files = files;
        rd->cap = cap;
    }
    fd = openat(rd->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return sq_errf(err, -errno, "cannot open %s/%s: %s", rd->path, name, strerror(errno));
    last = last_byte(rd, name);
    f = &rd->files[rd->nfiles];
    f->name = strdup(name);
    if (!f->name) {
        close(fd);
        return sq_errf(err, -ENOMEM, "out of memory opening %s/%s", rd->path, name);
    }
    f->fd = fd;
    f->torn = last != '\n';
    rd->nfiles++;
    *out = f;
    return 0;
}

/* Appends one line to `name` in a single write(). buf[0] is spare room for
 * a leading '\n' (used when the file is torn); the line, ending in '\n', is
 * buf[1..1+len). buf stays owned by the caller. Returns 0 or a negative
 * errno with a message. */
static int append_line(sq_rundir *rd, const char *name, char *buf, size_t len, sq_err *err)
{
    struct append_file *f = NULL;
    char *start = buf + 1;
    ssize_t n;
    int rc;
    pthread_mutex_lock(&rd->lock);
    if ((rc = get_file(rd, name, &f, err)) < 0)
        goto out;
    if (f->torn) {
        buf[0] = '\n';
        start = buf;
        len++;
    }
    do
        n = write(f->fd, start, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        rc = sq_errf(err, -errno, "cannot append to %s/%s: %s", rd->path, name, strerror(errno));
        goto out;
    }
    if ((size_t)n < len) {
        f->torn = 1;
        rc = sq_errf(err, -EIO, "short write appending to %s/%s: %zd of %zu bytes (disk full?)",
                     rd->path, name, n, len);
        goto out;
    }
    f->torn = 0;
    rc = 0;
out:
    pthread_mutex_unlock(&rd->lock);
    return rc;
}

/* Appends obj as one compact JSON line; the reference stays the caller's. */
int sq_rundir_append(sq_rundir *rd, const char *name, const json_t *obj, sq_err *err)
{
    char stack[LINE_STACK];
    char *buf = stack;
    size_t cap = sizeof stack - 2; /* the spare leading byte and the '\n' */
    size_t need;
    int rc;
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    if ((rc = check_name(name, err)) < 0)
        return rc;
    need = json_dumpb(obj, buf + 1, cap, flags);
    if (need == 0)
        return sq_errf(err, -EINVAL, "cannot encode a line for %s/%s as JSON", rd->path, name);
    if (need > cap) {
        buf = malloc(need + 2);
        if (!buf)
            return sq_errf(err, -ENOMEM, "out of memory encoding a line for %s/%s", rd->path,
                           name);
        if (json_dumpb(obj, buf + 1, need, flags) != need) {
            rc = sq_errf(err, -EINVAL, "cannot encode a line for %s/%s as JSON", rd->path, name);
            goto out;
        }
    }
    buf[1 + need] = '\n';
    rc = append_line(rd, name, buf, need + 1, err);
out:
    if (buf != stack)
        free(buf);
    return rc;
}

/* Appends line[0..len) plus '\n' in one write(). The line must not contain
 * a newline (it would become two lines). */
int sq_rundir_append_raw(sq_rundir *rd, const char *name, const char *line, size_t len,
                         sq_err *err)
{
    char stack[LINE_STACK];
    char *buf = stack;
    int rc;
    if ((rc = check_name(name, err)) < 0)
        return rc;
    if (memchr(line, '\n', len))
        return sq_errf(err, -EINVAL, "a line for %s/%s contains a newline", rd->path, name);
    if (len + 2 > sizeof stack && !(buf = malloc(len + 2)))
        return sq_errf(err, -ENOMEM, "out of memory appending to %s/%s", rd->path, name);
    memcpy(buf + 1, line, len);
    buf[1 + len] = '\n';
    rc = append_line(rd, name, buf, len + 1, err);
    if (buf != stack)
        free(buf);
    return rc;
}

/* fsyncs the append file `name` if this rd has it open; 0 otherwise. The
 * fsync runs outside rd->lock (descriptors stay open until sq_rundir_free),
 * so appends to other files are not held up by it. */
int sq_rundir_sync(sq_rundir *rd, const char *name, sq_err *err)
{
    struct append_file *f = NULL;
    int fd = -1, rc;
    if ((rc = check_name(name, err)) < 0)
        return rc;
    pthread_mutex_lock(&rd->lock);
    if ((f = find_file(rd, name)))
        fd = f->fd;
    pthread_mutex_unlock(&rd->lock);
    if (fd >= 0 && fsync(fd) < 0)
        return sq_errf(err, -errno, "cannot sync %s/%s: %s", rd->path, name, strerror(errno));
    return 0;
}

/* Writes all of buf[0..len) to fd, continuing after short writes (fine for
 * a private temporary file). Returns 0 or a negative errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes obj pretty-printed (keys in insertion order) as the whole file
 * `name`: NAME.tmp, fsync, rename, fsync of the directory. The reference
 * stays the caller's. */
int sq_rundir_write_json(sq_rundir *rd, const char *name, const json_t *obj, sq_err *err)
{
    char tmp[300];
    char *text = NULL;
    int fd = -1, rc;
    if ((rc = check_name(name, err)) < 0)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    text = json_dumps(obj, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (!text)
        return sq_errf(err, -EINVAL, "cannot encode %s/%s as JSON", rd->path, name);
    pthread_mutex_lock(&rd->doc_lock);
    fd = openat(rd->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = sq_errf(err, -errno, "cannot create %s/%s: %s", rd->path, tmp, strerror(errno));
        goto out;
    }
    if ((rc = write_all(fd, text, strlen(text))) < 0 || (rc = write_all(fd, "\n", 1)) < 0) {
        sq_errf(err, rc, "cannot write %s/%s: %s", rd->path, tmp, strerror(-rc));
        goto out_unlink;
    }
    if (fsync(fd) < 0) {
        rc = sq_errf(err, -errno, "cannot sync %s/%s: %s", rd->path, tmp, strerror(errno));
        goto out_unlink;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = sq_errf(err, -errno, "cannot write %s/%s: %s", rd->path, tmp, strerror(errno));
        goto out_unlink;
    }
    fd = -1;
    if (renameat(rd->dirfd, tmp, rd->dirfd, name) < 0) {
        rc = sq_errf(err, -errno, "cannot rename %s/%s to %s: %s", rd->path, tmp, name,
                     strerror(errno));
        goto out_unlink;
    }
    if (fsync(rd->dirfd) < 0) {
        rc = sq_errf(err, -errno, "cannot sync run directory '%s': %s", rd->path,
                     strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;
out_unlink:
    unlinkat(rd->dirfd, tmp, 0);
out:
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&rd->doc_lock);
    free(text);
    return rc;
}

/* Loads the JSON document dir/name (name alone when dir is NULL or empty)
 * into a new reference owned by the caller. Parse errors read
 * "DIR/NAME:LINE:COL: <jansson's text>". Returns 0, -ENOENT/-EACCES/...
 * when the file cannot be opened, or -EINVAL for bad JSON. */
int sq_json_load_file(const char *dir, const char *name, json_t **out, sq_err *err)
{
    char path[PATH_MAX];
    json_error_t jerr;
    FILE *f;
    json_t *doc;
    int n;
    *out = NULL;
    if (dir && *dir)
        n = snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        n = snprintf(path, sizeof path, "%s", name);
    if (n < 0 || (size_t)n >= sizeof path)
        return sq_errf(err, -ENAMETOOLONG, "cannot open %.100s...: the path is too long", path);
    f = fopen(path, "re");
    if (!f)
        return sq_errf(err, -errno, "cannot open %s: %s", path, strerror(errno));
    doc = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!doc) {
        if (jerr.line > 0)
            return sq_errf(err, -EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                           jerr.text);
        return sq_errf(err, -EINVAL, "%s: %s", path, jerr.text);
    }
    *out = doc;
    return 0;
}

/* Generates "YYYYMMDD-HHMMSS-xxxxxx" (UTC now + 6 random hex digits from
 * getrandom, or OpenSSL's RAND_bytes if getrandom fails) into the caller's
 * buf (at least 23 bytes; truncated otherwise). Returns buf. */
char *sq_run_id_generate(char *buf, unsigned long len)
{
    unsigned char r[3] = {0, 0, 0};
    int64_t now = sq_utc_ns();
    time_t secs = (time_t)(now / SQ_NS_PER_S);
    struct tm tm;
    if (!buf || len == 0)
        return buf;
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r && RAND_bytes(r, sizeof r) != 1) {
        uint64_t x = (uint64_t)now ^ ((uint64_t)getpid() << 24); /* last resort */
        r[0] = (unsigned char)x;
        r[1] = (unsigned char)(x >> 8);
        r[2] = (unsigned char)(x >> 16);
    }
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d%02d%02d-%02d%02d%02d-%02x%02x%02x", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, r[0], r[1], r[2]);
    return buf;
}

/* True for the bytes a run id may contain: [A-Za-z0-9._-]. */
static int id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Checks a user-given run id: 1..64 bytes of [A-Za-z0-9._-], not starting
 * with '.' or '-'. Returns 0 or -EINVAL with a message quoting the id (its
 * first 64 bytes, with other bytes shown as '?'). */
int sq_run_id_validate(const char *id, sq_err *err)
{
    static const char expect[] = "expected 1 to 64 characters of A-Z a-z 0-9 . _ -, "
                                 "not starting with '.' or '-'";
    char shown[RUN_ID_MAX + 4];
    size_t len = strlen(id), i;
    for (i = 0; i < len && i < RUN_ID_MAX; i++)
        shown[i] = id_char((unsigned char)id[i]) ? id[i] : '?';
    strcpy(shown + i, len > RUN_ID_MAX ? "..." : "");
    if (len == 0)
        return sq_errf(err, -EINVAL, "the run id is empty (%s)", expect);
    if (len > RUN_ID_MAX)
        return sq_errf(err, -EINVAL, "run id '%s' is too long: %zu characters (%s)", shown, len,
                       expect);
    if (id[0] == '.' || id[0] == '-')
        return sq_errf(err, -EINVAL, "run id '%s' starts with '%c' (%s)", shown, id[0], expect);
    for (i = 0; i < len; i++)
        if (!id_char((unsigned char)id[i]))
            return sq_errf(err, -EINVAL,
                           "run id '%s' has a character that is not allowed at position %zu (%s)",
                           shown, i + 1, expect);
    return 0;
}
