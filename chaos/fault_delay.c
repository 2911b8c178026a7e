/* fault_delay.c — the delay fault, in one of two ways:
 *   --dev IF    a netem root qdisc on squall's handle (fault_tc.c shares the
 *               journaling, apply, exact put-back and checks with bandwidth);
 *   --port N    squall's own TCP delay proxy (proxy.c), run by the agent,
 *               and iptables nat rules in squall's chains SQUALL-NAT-PRE /
 *               SQUALL-NAT-OUT (fault_iptables.c) that REDIRECT new TCP
 *               connections to port N into it. The rules are journaled
 *               and reverted like every other rule; the proxy lives and
 *               dies with the agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos/ch_internal.h"

/* Builds the nat rules of delay --port (see ch_internal.h). */
int ch_delay_rules(const ch_spec *s, const char *id, const char *to_port, json_t *rules,
                   sq_err *err)
{
    static const char *const chains[][2] = {{CH_CHAIN_NAT_PRE, "PREROUTING"},
                                            {CH_CHAIN_NAT_OUT, "OUTPUT"}};
    int rc;
    if (s->port < 1 || s->port > 65535)
        return sq_errf(err, -EINVAL, "--port: must be 1..65535");
    if (s->src && ((rc = ch_parse_cidr("--src", s->src, err)) ||
                   (rc = ch_protect_cidr("--src", s->src, s->force, err))))
        return rc;
    if (s->dst && ((rc = ch_parse_cidr("--dst", s->dst, err)) ||
                   (rc = ch_protect_cidr("--dst", s->dst, s->force, err))))
        return rc;
    if (s->port == 22 && !s->force)
        return sq_errf(err, -EPERM, "--port 22 is SSH, which is protected; add --force to "
                                    "delay it anyway");
    char port[16], comment[96];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(comment, sizeof comment, "squall:%s", id);
    for (size_t c = 0; c < 2; c++) {
        json_t *r = json_pack("{s:s, s:s, s:[]}", "chain", chains[c][0], "parent",
                              chains[c][1], "args");
        if (!r || json_array_append_new(rules, r))
            return sq_errf(err, -ENOMEM, "out of memory");
        json_t *a = json_object_get(r, "args");
        ch_ipt_push(a, "-p", "tcp", "--dport", port, NULL);
        if (s->src)
            ch_ipt_push(a, "-s", s->src, NULL);
        if (s->dst)
            ch_ipt_push(a, "-d", s->dst, NULL);
        else if (c == 1 && !s->force)
            ch_ipt_push(a, "!", "-d", "127.0.0.0/8", NULL); /* loopback is protected */
        if (c == 1) /* the proxy's own upstream connections are left alone */
            ch_ipt_push(a, "-m", "mark", "!", "--mark", CH_PROXY_MARK_TEXT, NULL);
        ch_ipt_push(a, "-m", "comment", "--comment", comment, "-j", "REDIRECT", "--to-ports",
                    to_port, NULL);
    }
    return 0;
}

/* Refuses options that delay does not take, and checks the delay itself.
 * 0 or -EINVAL with err set. */
static int delay_flags_ok(const ch_spec *s, sq_err *err)
{
    if (s->pid || s->name || s->cmdline || s->pidfile || s->cgroup || s->rate_bps || s->peers ||
        s->probability > 0 || s->reject_with || s->count || s->percent > 0)
        return sq_errf(err, -EINVAL, "delay takes --latency, --jitter and --dev IF or --port "
                                     "PORT (with --src, --dst, --direction, --max-conns), not "
                                     "process selectors, --rate, --peers, --probability or "
                                     "--with");
    if (s->latency_ns <= 0)
        return sq_errf(err, -EINVAL, "delay needs --latency DUR (e.g. 100ms)");
    if (s->latency_ns > CH_DELAY_MAX_NS)
        return sq_errf(err, -EINVAL, "--latency: at most 60s");
    if (s->jitter_ns < 0)
        return sq_errf(err, -EINVAL, "--jitter: must not be negative");
    if (s->jitter_ns > s->latency_ns)
        return sq_errf(err, -EINVAL, "--jitter: must not exceed --latency (each delay is "
                                     "latency ± jitter, never below 0)");
    if (s->dev && s->port)
        return sq_errf(err, -EINVAL, "delay takes --dev IF (netem on a device) or --port PORT "
                                     "(squall's TCP delay proxy), not both");
    if (!s->dev && !s->port)
        return sq_errf(err, -EINVAL, "delay needs --dev IF (netem on a device) or --port PORT "
                                     "(squall's TCP delay proxy)");
    if (s->dev && (s->src || s->dst || s->direction || s->proto || s->max_conns))
        return sq_errf(err, -EINVAL, "--src, --dst, --direction, --proto and --max-conns "
                                     "apply to delay --port (the proxy), not --dev");
    if (s->proto && strcmp(s->proto, "tcp") != 0)
        return sq_errf(err, -EINVAL, "--proto: the delay proxy relays tcp only");
    if (s->max_conns < 0 || s->max_conns > CH_PROXY_MAX_CONNS_LIMIT)
        return sq_errf(err, -EINVAL, "--max-conns: must be 1..%d", CH_PROXY_MAX_CONNS_LIMIT);
    /* netem counts in microseconds: anything finer would be journaled as
     * a value that apply and revert both refuse. */
    if (s->dev && s->latency_ns % 1000)
        return sq_errf(err, -EINVAL, "--latency: delay --dev (netem) takes a whole number of "
                                     "microseconds, at least 1us (got %lld ns)",
                       (long long)s->latency_ns);
    if (s->dev && s->jitter_ns % 1000)
        return sq_errf(err, -EINVAL, "--jitter: delay --dev (netem) takes 0 or a whole number of "
                                     "microseconds, at least 1us (got %lld ns)",
                       (long long)s->jitter_ns);
    return 0;
}

/* The proxy's connection cap for s: --max-conns, refused when the
 * open-files hard limit cannot hold it (two descriptors per connection
 * beside CH_PROXY_FD_RESERVE), or the default lowered to what fits. 0 and
 * *out; -EINVAL (usage) or -EMFILE (the limit is too low for any) with err
 * set. */
static int delay_max_conns(const ch_spec *s, int *out, sq_err *err)
{
    long hard;
    int lim = ch_proxy_conn_limit(&hard);
    if (lim < 1)
        return sq_errf(err, -EMFILE, "delay --port: the open-files hard limit (%ld, ulimit -Hn) "
                                     "is too low for the proxy: it keeps %d open files for the "
                                     "revert and needs 2 per connection",
                       hard, CH_PROXY_FD_RESERVE);
    if (s->max_conns > lim)
        return sq_errf(err, -EINVAL, "--max-conns %d: the proxy needs 2 open files per "
                                     "connection and keeps %d for the revert, and this process "
                                     "may open at most %ld (ulimit -Hn): at most %d here",
                       s->max_conns, CH_PROXY_FD_RESERVE, hard, lim);
    *out = s->max_conns ? s->max_conns : CH_PROXY_MAX_CONNS < lim ? CH_PROXY_MAX_CONNS : lim;
    return 0;
}

/* Plans delay (see ch_internal.h). */
int ch_delay_plan(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    int rc = delay_flags_ok(s, err);
    if (rc)
        return rc;
    if (s->dev)
        return ch_tc_plan_netem(f, err);
    int max_conns;
    if ((rc = delay_max_conns(s, &max_conns, err)))
        return rc;
    json_t *rules = json_array(), *nsid = NULL;
    if (!rules)
        return sq_errf(err, -ENOMEM, "out of memory");
    if ((rc = ch_delay_rules(s, f->id, CH_PROXY_PORT_TOKEN, rules, err))) {
        json_decref(rules);
        return rc;
    }
    if ((rc = ch_netns_ident(s->netns, &nsid, err))) {
        json_decref(rules);
        return rc == -ENOENT ? sq_errf(err, -ENOENT, "--netns: no network namespace '%s'",
                                       s->netns ? s->netns : "?")
                             : rc;
    }
    int dir = s->direction ? s->direction : CH_DIR_IN;
    json_t *op = json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:i, s:n, s:I, s:I, s:s, s:i}, s:o}",
                           "type", "iptables", "table", "nat", "fault", f->id, "netns",
                           s->netns ? json_string(s->netns) : json_null(), "netns_id", nsid,
                           "proxy", "port", s->port, "listen_port", "latency_ns",
                           (json_int_t)s->latency_ns, "jitter_ns", (json_int_t)s->jitter_ns,
                           "direction",
                           dir == CH_DIR_BOTH ? "both" : dir == CH_DIR_OUT ? "out" : "in",
                           "max_conns", max_conns, "rules", rules);
    if (!op || json_array_append_new(f->ops, op))
        return sq_errf(err, -ENOMEM, "out of memory");
    return 0;
}

/* The proxy's configuration for f: its spec, and the connection cap its
 * plan settled on. */
static ch_proxy_cfg proxy_cfg(const ch_fault *f)
{
    const ch_spec *s = &f->spec;
    int dir = s->direction ? s->direction : CH_DIR_IN;
    json_t *px = json_object_get(json_array_get(f->ops, 0), "proxy");
    int max_conns = (int)json_integer_value(json_object_get(px, "max_conns"));
    ch_proxy_cfg cfg = {.port = s->port,
                        .max_conns = max_conns > 0 ? max_conns : CH_PROXY_MAX_CONNS,
                        .buf_cap = CH_PROXY_BUF,
                        .mark = CH_PROXY_MARK};
    /* Direction 0 is data sent to the port (--direction in), 1 the data
     * coming back from it (out). */
    if (dir & CH_DIR_IN) {
        cfg.latency_ns[0] = s->latency_ns;
        cfg.jitter_ns[0] = s->jitter_ns;
    }
    if (dir & CH_DIR_OUT) {
        cfg.latency_ns[1] = s->latency_ns;
        cfg.jitter_ns[1] = s->jitter_ns;
    }
    return cfg;
}

/* Starts the proxy and puts its port into the rules (see ch_internal.h). */
int ch_delay_start(ch_fault *f, sq_err *err)
{
    const ch_spec *s = &f->spec;
    if (s->kind != CH_DELAY || !s->port || f->proxy)
        return 0;
    json_t *op = json_array_get(f->ops, 0);
    int saved = -1;
    int rc = ch_netns_enter_op(op, &saved, err); /* the planned namespace, by identity */
    if (rc)
        return rc;
    ch_proxy_cfg cfg = proxy_cfg(f);
    rc = ch_proxy_start(&cfg, &f->proxy, err);
    ch_netns_leave(saved);
    if (rc)
        return rc;
    char port[16];
    snprintf(port, sizeof port, "%d", ch_proxy_port(f->proxy));
    size_t i, k;
    json_t *r, *t;
    json_array_foreach(json_object_get(op, "rules"), i, r)
    {
        json_array_foreach(json_object_get(r, "args"), k, t)
        {
            if (strcmp(json_string_value(t), CH_PROXY_PORT_TOKEN) == 0)
                json_string_set(t, port);
        }
    }
    json_object_set_new(json_object_get(op, "proxy"), "listen_port",
                        json_integer(ch_proxy_port(f->proxy)));
    return 0;
}

/* Stops the proxy and keeps what it did (see ch_internal.h). */
void ch_delay_stop(ch_fault *f)
{
    if (!f->proxy)
        return;
    ch_proxy_stats st;
    ch_proxy_stop(f->proxy, &st);
    f->proxy = NULL;
    json_decref(f->stats);
    f->stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:i}", "connections", (json_int_t)st.conns,
                         "refused", (json_int_t)st.refused, "looped", (json_int_t)st.looped,
                         "bytes_in", (json_int_t)st.bytes[0], "bytes_out",
                         (json_int_t)st.bytes[1], "peak_conns", st.peak);
    if (f->stats && st.looped)
        json_object_set_new(f->stats, "warning",
                            json_string("the proxy's own connections were redirected back into "
                                        "it: another rule rewrites packet marks (e.g. CONNMARK "
                                        "--restore-mark in mangle OUTPUT); they were reset"));
}

/* Prints the proxy's part of a dry run: what starts before the rules are
 * applied, or (after) what happens to it once they are reverted. */
void ch_delay_describe(const ch_fault *f, int after, FILE *out)
{
    const ch_spec *s = &f->spec;
    if (s->kind != CH_DELAY || !s->port)
        return;
    if (after) {
        fprintf(out, "  revert: then the proxy stops: new connections go direct again; those "
                     "still going through it are reset on both sides (data it held is "
                     "dropped)\n");
        return;
    }
    ch_proxy_cfg cfg = proxy_cfg(f);
    fprintf(out, "  proxy: a thread of this process%s%s listens on 0.0.0.0:%s (a free port, "
                 "chosen when it starts), at most %d connections at once;\n",
            s->netns ? " in network namespace " : "", s->netns ? s->netns : "",
            CH_PROXY_PORT_TOKEN, cfg.max_conns);
    fprintf(out, "    each connection goes on to its original destination (SO_ORIGINAL_DST, "
                 "port %d) with SO_MARK %s;\n",
            s->port, CH_PROXY_MARK_TEXT);
    for (int d = 0; d < 2; d++) {
        if (cfg.latency_ns[d])
            fprintf(out, "    data %s port %d: each chunk held %.3f ms ± %.3f ms, in order, at "
                         "most %d KiB per connection\n",
                    d ? "from" : "to", s->port, (double)cfg.latency_ns[d] / 1e6,
                    (double)cfg.jitter_ns[d] / 1e6, (int)(cfg.buf_cap / 1024));
        else
            fprintf(out, "    data %s port %d: relayed at once (--direction %s)\n",
                    d ? "from" : "to", s->port, d ? "in" : "out");
    }
    fprintf(out, "  then, once its port is known, journal (fsync) and apply:\n");
}
