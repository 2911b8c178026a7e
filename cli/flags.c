/* flags.c — shared command-line helpers (see flags.h). */
#include "flags.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

/* Prints one usage error line plus a --help hint; returns SQ_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "squall %s: %s\nTry 'squall %s --help'.\n", cmd, msg, cmd);
    return SQ_EXIT_USAGE;
}

/* getopt_long with our own messages for unknown options and missing values. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char spec[128];
    snprintf(spec, sizeof spec, ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c == '?') {
        if (optopt)
            cli_usage_error(cmd, "unknown option '-%c'", optopt);
        else
            cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        return '?';
    }
    if (c == ':') {
        const char *name = argv[optind - 1];
        if (optopt && name[0] == '-' && name[1] != '-')
            cli_usage_error(cmd, "option '-%c' needs a value", optopt);
        else
            cli_usage_error(cmd, "option '%.*s' needs a value", (int)strcspn(name, "="), name);
        return '?';
    }
    return c;
}

/* Reports a parser's message for a flag; returns SQ_EXIT_USAGE. */
static int flag_error(const char *cmd, const char *flag, const sq_err *err)
{
    return cli_usage_error(cmd, "--%s: %s", flag, err->msg);
}

/* Parses a duration flag value. */
int cli_duration(const char *cmd, const char *flag, const char *val, int64_t *ns)
{
    sq_err err;
    return sq_parse_duration(val, ns, &err) ? flag_error(cmd, flag, &err) : 0;
}

/* Parses a rate flag value. */
int cli_rate(const char *cmd, const char *flag, const char *val, sq_rate *rate)
{
    sq_err err;
    return sq_parse_rate(val, rate, &err) ? flag_error(cmd, flag, &err) : 0;
}

/* Parses a percentage flag value (a fraction like 0.1 is accepted too). */
int cli_percent(const char *cmd, const char *flag, const char *val, double *fraction)
{
    sq_err err;
    return sq_parse_percent(val, 1, fraction, &err) ? flag_error(cmd, flag, &err) : 0;
}

/* Parses a bounded unsigned integer flag value. */
int cli_uint(const char *cmd, const char *flag, const char *val, uint64_t min, uint64_t max,
             uint64_t *out)
{
    sq_err err;
    return sq_parse_uint(val, min, max, out, &err) ? flag_error(cmd, flag, &err) : 0;
}

/* Parses a size flag value. */
int cli_size(const char *cmd, const char *flag, const char *val, uint64_t *bytes)
{
    sq_err err;
    return sq_parse_size(val, bytes, &err) ? flag_error(cmd, flag, &err) : 0;
}

/* Checks a request header flag value "Name: value": a name of visible
 * ASCII before the colon and no line break anywhere. */
int cli_header(const char *cmd, const char *flag, const char *val)
{
    const char *colon = strchr(val, ':');
    if (!colon || colon == val)
        return cli_usage_error(cmd, "--%s: '%s' is not a header (expected 'Name: value')", flag,
                               val);
    for (const char *p = val; p < colon; p++)
        if (*p <= ' ' || *p >= 127)
            return cli_usage_error(cmd, "--%s: '%s': the name may not contain spaces or "
                                        "control characters",
                                   flag, val);
    if (strpbrk(val, "\r\n"))
        return cli_usage_error(cmd, "--%s: '%s' contains a line break", flag, val);
    return 0;
}

/* Checks a header name flag value: not empty, visible ASCII, no colon. */
int cli_header_name(const char *cmd, const char *flag, const char *val)
{
    if (!*val)
        return cli_usage_error(cmd, "--%s: empty", flag);
    for (const char *p = val; *p; p++)
        if (*p <= ' ' || *p >= 127 || *p == ':')
            return cli_usage_error(cmd, "--%s: '%s' is not a header name", flag, val);
    return 0;
}

/* Blocks SIGINT/SIGTERM for good and returns a signalfd for them, or -1. */
int cli_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}
