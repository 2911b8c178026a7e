/* err.h — error reporting convention shared by every component.
 *
 * Functions return int: 0 on success or a negative errno-style code. Details
 * go into a caller-owned sq_err message buffer, written as one line that says
 * what was wrong (and, for files, FILE:LINE:COL first).
 */
#ifndef SQ_ERR_H
#define SQ_ERR_H

#include <stddef.h>

#define SQ_ERR_MAX 512

typedef struct sq_err {
    char msg[SQ_ERR_MAX];
} sq_err;

/* Formats a message into err (may be NULL) and returns code unchanged, so
 * callers can write `return sq_errf(err, -EINVAL, "bad %s", x);`. */
int sq_errf(sq_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message in err with a formatted context ("FILE: "),
 * returning code unchanged. */
int sq_err_prefix(sq_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Process exit codes (DESIGN.md). */
enum {
    SQ_EXIT_OK = 0,       /* every objective met */
    SQ_EXIT_FAIL = 1,     /* an objective failed */
    SQ_EXIT_USAGE = 2,    /* usage, config or input error */
    SQ_EXIT_RUNTIME = 3,  /* run-time failure */
    SQ_EXIT_ABORTED = 4,  /* aborted after rolling back */
};

#endif
