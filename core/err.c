/* err.c — the sq_err message buffer helpers. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Formats the message into err->msg; returns code. */
int sq_errf(sq_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

/* Prepends a formatted context to the current message; returns code. */
int sq_err_prefix(sq_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char prefix[SQ_ERR_MAX];
    char old[SQ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, n);
    size_t rest = strnlen(old, sizeof old);
    if (rest > sizeof err->msg - 1 - n)
        rest = sizeof err->msg - 1 - n;
    memcpy(err->msg + n, old, rest);
    err->msg[n + rest] = '\0';
    return code;
}
