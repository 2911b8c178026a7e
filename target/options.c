/* options.c — server options: defaults and validation. */
#include "tg_internal.h"

#include <errno.h>
#include <string.h>

#include "core/addr.h"

/* Fills opts with the defaults documented in target.h. */
void tg_options_init(tg_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->listen = TG_DEFAULT_LISTEN;
    opts->tag_header = TG_DEFAULT_TAG_HEADER;
    opts->max_items = TG_DEFAULT_MAX_ITEMS;
    opts->max_body = TG_DEFAULT_MAX_BODY;
    opts->max_connections = TG_DEFAULT_MAX_CONNECTIONS;
    opts->drain_ns = TG_DEFAULT_DRAIN_NS;
}

/* Says whether c may appear in an HTTP header name (an RFC 9110 token). */
static int is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Checks opts (see target.h). Messages name the command-line flag. */
int tg_options_validate(const tg_options *opts, sq_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc;

    if (!opts->listen)
        return sq_errf(err, -EINVAL, "--listen: no address given");
    if ((rc = sq_parse_listen_addr(opts->listen, &ss, &len, err)))
        return sq_err_prefix(err, rc, "--listen: ");
    if (opts->threads > 1024)
        return sq_errf(err, -EINVAL, "--threads: %u is above 1024", opts->threads);
    if (!(opts->error_rate >= 0.0 && opts->error_rate <= 1.0))
        return sq_errf(err, -EINVAL, "--error-rate: must be between 0%% and 100%%");
    if (opts->stall_every_ns < 0 || opts->stall_for_ns < 0)
        return sq_errf(err, -EINVAL, "--stall-every/--stall-for: must not be negative");
    if (opts->stall_every_ns == 0 && opts->stall_for_ns > 0)
        return sq_errf(err, -EINVAL, "--stall-for: needs --stall-every (how often to stall)");
    if (opts->stall_every_ns > 0 && opts->stall_for_ns == 0)
        return sq_errf(err, -EINVAL,
                       "--stall-every: needs --stall-for (how long each stall lasts)");
    if (opts->stall_every_ns > 0 && opts->stall_for_ns >= opts->stall_every_ns)
        return sq_errf(err, -EINVAL,
                       "--stall-for: must be shorter than --stall-every, "
                       "or the server never answers");
    if (!opts->tag_header || !*opts->tag_header)
        return sq_errf(err, -EINVAL, "--tag-header: the header name is empty");
    for (const char *p = opts->tag_header; *p; p++)
        if (!is_tchar(*p))
            return sq_errf(err, -EINVAL, "--tag-header: '%s' is not a valid header name",
                           opts->tag_header);
    if (opts->max_items == 0)
        return sq_errf(err, -EINVAL, "--max-items: must be at least 1");
    if (opts->max_connections == 0)
        return sq_errf(err, -EINVAL, "--max-connections: must be at least 1");
    if (opts->drain_ns < 0)
        return sq_errf(err, -EINVAL, "--drain: must not be negative");
    switch (opts->latency.kind) {
    case TG_LATENCY_NONE:
    case TG_LATENCY_FIXED:
    case TG_LATENCY_UNIFORM:
    case TG_LATENCY_EXP:
    case TG_LATENCY_NORMAL:
        break;
    default:
        return sq_errf(err, -EINVAL, "--latency: unknown distribution");
    }
    if (opts->latency.a_ns < 0 || opts->latency.b_ns < 0 ||
        (opts->latency.kind == TG_LATENCY_UNIFORM && opts->latency.a_ns > opts->latency.b_ns))
        return sq_errf(err, -EINVAL, "--latency: bounds out of order or negative");
    return 0;
}
