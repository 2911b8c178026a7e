/* log.c — leveled logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum sq_log_level log_threshold = SQ_LOG_WARN;

/* Sets the threshold; call before threads start. */
void sq_log_set_level(enum sq_log_level level)
{
    log_threshold = level;
}

/* Returns the threshold. */
enum sq_log_level sq_log_get_level(void)
{
    return log_threshold;
}

/* Writes one formatted line to stderr in a single call. */
void sq_log(enum sq_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    if (level < log_threshold || level >= SQ_LOG_OFF)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "squall: %s: %s\n", names[level], line);
}
