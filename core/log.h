/* log.h — leveled logging to stderr.
 *
 * The threshold is the one piece of process-wide mutable state outside cli/:
 * cli/ sets it once from --verbose/--quiet before any worker starts.
 */
#ifndef SQ_LOG_H
#define SQ_LOG_H

enum sq_log_level { SQ_LOG_DEBUG = 0, SQ_LOG_INFO, SQ_LOG_WARN, SQ_LOG_ERROR, SQ_LOG_OFF };

/* Sets the lowest level that is printed (default SQ_LOG_WARN). */
void sq_log_set_level(enum sq_log_level level);

/* Returns the current threshold. */
enum sq_log_level sq_log_get_level(void);

/* Prints "squall: <level>: message\n" to stderr when level passes the threshold. */
void sq_log(enum sq_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define sq_debug(...) sq_log(SQ_LOG_DEBUG, __VA_ARGS__)
#define sq_info(...) sq_log(SQ_LOG_INFO, __VA_ARGS__)
#define sq_warn(...) sq_log(SQ_LOG_WARN, __VA_ARGS__)
#define sq_error(...) sq_log(SQ_LOG_ERROR, __VA_ARGS__)

#endif
