/* flags.h — shared command-line helpers: getopt with squall's own one-line
 * error messages, and value parsing that reports "squall CMD: --flag: ..."
 * and yields exit code 2 on bad input. */
#ifndef SQ_CLI_FLAGS_H
#define SQ_CLI_FLAGS_H

#include <getopt.h>
#include <stdint.h>

#include "core/core.h"

/* Prints "squall CMD: <message>" and a hint to run --help on stderr;
 * returns SQ_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* getopt_long without getopt's own messages. Returns the option value, -1
 * at the end of options, or '?' after printing a precise error (unknown
 * option, missing value). Call with optind = 0 before the first use. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Value parsers: on failure print "squall CMD: --FLAG: <why>" and return
 * SQ_EXIT_USAGE; 0 on success. */
int cli_duration(const char *cmd, const char *flag, const char *val, int64_t *ns);
int cli_rate(const char *cmd, const char *flag, const char *val, sq_rate *rate);
int cli_percent(const char *cmd, const char *flag, const char *val, double *fraction);
int cli_uint(const char *cmd, const char *flag, const char *val, uint64_t min, uint64_t max,
             uint64_t *out);
int cli_size(const char *cmd, const char *flag, const char *val, uint64_t *bytes);

/* Request header checks: "Name: value" without line breaks, and a bare
 * header name (for --tag-header). On failure print "squall CMD: --FLAG:
 * <why>" and return SQ_EXIT_USAGE; 0 on success. */
int cli_header(const char *cmd, const char *flag, const char *val);
int cli_header_name(const char *cmd, const char *flag, const char *val);

/* Blocks SIGINT and SIGTERM in every thread from now until exit and
 * returns a non-blocking signalfd that becomes readable when one arrives
 * (a component's stop_fd), or -1. */
int cli_stop_signals(void);

#endif
