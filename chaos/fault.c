/* fault.c — fault kinds, planning (validation + lookups, nothing changed),
 * and dispatch of op handlers by the op's "type". */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaos/ch_internal.h"
#include "core/clock.h"

static const char *const kind_names[CH_KIND_COUNT] = {
    [CH_KILL] = "kill",   [CH_STOP] = "stop",     [CH_LINK_DOWN] = "link-down",
    [CH_DROP] = "drop",   [CH_REJECT] = "reject", [CH_LOSS] = "loss",
    [CH_PARTITION] = "partition", [CH_BANDWIDTH] = "bandwidth", [CH_DELAY] = "delay",
};

/* Looks a kind up by name; '_' and '-' are interchangeable. */
int ch_kind_from_name(const char *name)
{
    char norm[32];
    size_t n = strlen(name);
    if (n >= sizeof norm)
        return -1;
    for (size_t i = 0; i <= n; i++)
        norm[i] = name[i] == '_' ? '-' : name[i];
    for (int k = 0; k < CH_KIND_COUNT; k++)
        if (strcmp(norm, kind_names[k]) == 0)
            return k;
    return -1;
}

/* Canonical name of kind. */
const char *ch_kind_name(ch_kind kind)
{
    return kind >= 0 && kind < CH_KIND_COUNT ? kind_names[kind] : "?";
}

/* Network kinds need CAP_NET_ADMIN and honour --netns. */
int ch_kind_is_network(ch_kind kind)
{
    return kind != CH_KILL && kind != CH_STOP;
}

/* Defaults: SIGKILL for kill, a 1 s rescan interval, direction in. */
void ch_spec_init(ch_spec *spec, ch_kind kind)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->signal = SIGKILL;
    spec->interval_ns = SQ_NS_PER_S;
}

/* Checks a user-given fault id: 1..40 of [A-Za-z0-9._-]. */
static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 40)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Plans a fault (see chaos.h). */
int ch_fault_plan(const ch_spec *spec, ch_fault **out, sq_err *err)
{
    int rc;
    ch_fault *f = calloc(1, sizeof *f);
    if (!f)
        return sq_errf(err, -ENOMEM, "out of memory");
    f->spec = *spec;
    f->ops = json_array();
    if (spec->id[0]) {
        if (!id_ok(spec->id)) {
            rc = sq_errf(err, -EINVAL, "--id: '%s' must be 1..40 characters of A-Z a-z 0-9 . _ -",
                         spec->id);
            goto fail;
        }
        snprintf(f->id, sizeof f->id, "%s", spec->id);
    } else {
        snprintf(f->id, sizeof f->id, "%s-%06llx", ch_kind_name(spec->kind),
                 (unsigned long long)ch_random_below(0x1000000));
    }
    snprintf(f->spec.id, sizeof f->spec.id, "%s", f->id);
    if (spec->ttl_ns < 0) {
        rc = sq_errf(err, -EINVAL, "--for: must be positive");
        goto fail;
    }
    if (spec->ttl_ns == 0 && spec->kind != CH_KILL) {
        rc = sq_errf(err, -EINVAL, "%s needs --for DUR: every fault has a time to live",
                     ch_kind_name(spec->kind));
        goto fail;
    }
    if (spec->netns && !ch_kind_is_network(spec->kind)) {
        rc = sq_errf(err, -EINVAL, "--netns applies to network faults, not %s",
                     ch_kind_name(spec->kind));
        goto fail;
    }
    if (spec->netns && (rc = ch_netns_name_ok(spec->netns, err)))
        goto fail;
    if (spec->netns) {
        char path[128];
        snprintf(path, sizeof path, "/run/netns/%s", spec->netns);
        if (access(path, F_OK) != 0) {
            rc = sq_errf(err, -ENOENT, "--netns: no network namespace '%s' (see 'ip netns list')",
                         spec->netns);
            goto fail;
        }
    }
    switch (spec->kind) {
    case CH_KILL:
    case CH_STOP:
        rc = ch_proc_plan(f, err);
        break;
    case CH_LINK_DOWN:
        rc = ch_link_plan(f, err);
        break;
    case CH_DROP:
    case CH_REJECT:
    case CH_LOSS:
    case CH_PARTITION:
        rc = ch_ipt_plan(f, err);
        break;
    case CH_BANDWIDTH:
        rc = ch_tc_plan(f, err);
        break;
    case CH_DELAY:
        rc = ch_delay_plan(f, err);
        break;
    default:
        rc = sq_errf(err, -EINVAL, "unknown fault kind");
    }
    if (rc)
        goto fail;
    *out = f;
    return 0;
fail:
    ch_fault_free(f);
    return rc;
}

/* Frees f and what it owns. */
void ch_fault_free(ch_fault *f)
{
    if (!f)
        return;
    ch_delay_stop(f);
    json_decref(f->stats);
    json_decref(f->ops);
    json_decref(f->seen);
    ch_proc_free_regex(f);
    free(f);
}

/* The fault id (owned by f). */
const char *ch_fault_id(const ch_fault *f)
{
    return f->id;
}

/* The fault kind. */
ch_kind ch_fault_kind(const ch_fault *f)
{
    return f->spec.kind;
}

/* The spec f was planned from, with its id filled in (owned by f). */
const ch_spec *ch_fault_spec(const ch_fault *f)
{
    return &f->spec;
}

/* What the proxy did once stopped, or NULL; borrowed from f. */
const json_t *ch_fault_stats(const ch_fault *f)
{
    return f->stats;
}

/* The planned ops, a JSON array borrowed from f. */
json_t *ch_fault_ops(const ch_fault *f)
{
    return f->ops;
}

/* The op's type string ("" when missing). */
static const char *op_type(const json_t *op)
{
    const char *t = json_string_value(json_object_get(op, "type"));
    return t ? t : "";
}

/* Applies one op by type. */
int ch_op_apply(const json_t *op, sq_err *err)
{
    const char *t = op_type(op);
    if (strcmp(t, "iptables") == 0)
        return ch_ipt_apply(op, err);
    if (strcmp(t, "link") == 0)
        return ch_link_apply(op, err);
    if (strcmp(t, "qdisc") == 0)
        return ch_tc_apply(op, err);
    if (strcmp(t, "stop") == 0 || strcmp(t, "signal") == 0)
        return ch_proc_apply(op, err);
    return sq_errf(err, -EINVAL, "unknown op type '%s'", t);
}

/* Reverts one op by type (idempotent, verified). */
int ch_op_revert(const json_t *op, sq_err *err)
{
    const char *t = op_type(op);
    if (strcmp(t, "iptables") == 0)
        return ch_ipt_revert(op, err);
    if (strcmp(t, "link") == 0)
        return ch_link_revert(op, err);
    if (strcmp(t, "qdisc") == 0)
        return ch_tc_revert(op, err);
    if (strcmp(t, "stop") == 0 || strcmp(t, "signal") == 0)
        return ch_proc_revert(op, err);
    return sq_errf(err, -EINVAL, "unknown op type '%s' in the journal", t);
}

/* Checks whether one op is still in effect. */
int ch_op_check(const json_t *op, int *active, sq_err *err)
{
    const char *t = op_type(op);
    if (strcmp(t, "iptables") == 0)
        return ch_ipt_check(op, active, err);
    if (strcmp(t, "link") == 0)
        return ch_link_check(op, active, err);
    if (strcmp(t, "qdisc") == 0)
        return ch_tc_check(op, active, err);
    if (strcmp(t, "stop") == 0 || strcmp(t, "signal") == 0)
        return ch_proc_check(op, active, err);
    *active = 0;
    return sq_errf(err, -EINVAL, "unknown op type '%s'", t);
}

/* The string member key of o, or "?" (journals are read back from disk). */
static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "?";
}

/* One line about op for status output. */
char *ch_op_summary(const json_t *op, char *buf, size_t len)
{
    const char *t = op_type(op);
    const char *netns = json_string_value(json_object_get(op, "netns"));
    if (strcmp(t, "iptables") == 0) {
        ch_ipt_summary(op, buf, len);
    } else if (strcmp(t, "link") == 0) {
        snprintf(buf, len, "link %s (ifindex %d) down%s%s",
                 str(op, "name"),
                 (int)json_integer_value(json_object_get(op, "ifindex")),
                 netns ? " in netns " : "", netns ? netns : "");
    } else if (strcmp(t, "qdisc") == 0) {
        ch_tc_summary(op, buf, len);
    } else if (strcmp(t, "stop") == 0 || strcmp(t, "signal") == 0) {
        snprintf(buf, len, "%s pid %d (%s, start %lld)",
                 strcmp(t, "stop") == 0 ? "stopped" : "killed",
                 (int)json_integer_value(json_object_get(op, "pid")),
                 str(op, "comm"),
                 (long long)json_integer_value(json_object_get(op, "start")));
    } else {
        snprintf(buf, len, "unknown op '%s'", t);
    }
    return buf;
}

/* Prints every operation of f (dry run). */
void ch_fault_describe(const ch_fault *f, FILE *out)
{
    char ttl[32] = "none (one-shot)";
    if (f->spec.ttl_ns > 0)
        snprintf(ttl, sizeof ttl, "%.3fs", (double)f->spec.ttl_ns / 1e9);
    fprintf(out, "fault %s (%s), ttl %s:\n", f->id, ch_kind_name(f->spec.kind), ttl);
    if (f->note[0])
        fprintf(out, "  note: %s\n", f->note);
    ch_delay_describe(f, 0, out);
    size_t i;
    json_t *op;
    json_array_foreach(f->ops, i, op)
    {
        const char *t = op_type(op);
        if (strcmp(t, "iptables") == 0)
            ch_ipt_describe(op, out);
        else if (strcmp(t, "link") == 0)
            ch_link_describe(op, out);
        else if (strcmp(t, "qdisc") == 0)
            ch_tc_describe(op, out);
        else
            ch_proc_describe(op, out);
    }
    if (f->spec.kind == CH_KILL && f->spec.ttl_ns > 0)
        fprintf(out, "  then every %.3fs until the ttl: kill new matches (new pid + start time)\n",
                (double)f->spec.interval_ns / 1e9);
    ch_delay_describe(f, 1, out);
}

/* The fault as journaled and reported. */
json_t *ch_fault_json(const ch_fault *f)
{
    return json_pack("{s:s, s:s, s:I, s:O}", "id", f->id, "kind", ch_kind_name(f->spec.kind),
                     "ttl_ns", (json_int_t)f->spec.ttl_ns, "ops", f->ops);
}

/* An events.jsonl object for a fault being applied or reverted. */
json_t *ch_event_new(const char *type, const json_t *fault, const json_t *extra)
{
    json_t *ev = json_pack("{s:s, s:I, s:{s:O?, s:O?, s:O?}, s:O?}", "type", type, "utc_ns",
                           (json_int_t)sq_utc_ns(), "fault", "id", json_object_get(fault, "id"),
                           "name", json_object_get(fault, "id"), "kind",
                           json_object_get(fault, "kind"), "objects",
                           json_object_get(fault, "ops"));
    if (ev && extra)
        json_object_update(ev, (json_t *)extra);
    return ev;
}
