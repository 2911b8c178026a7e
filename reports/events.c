/* events.c — reads events.jsonl: fault_applied / fault_reverted pairs become
 * faults (with time windows), "abort" marks the run aborted, and every other
 * event (phase start/end, probe results, instant faults) becomes a marker on
 * the timeline. The file is optional; a truncated last line (a killed
 * writer) is ignored, any other malformed line is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"

/* Appends a fault applied at utc_ns. Returns 0 or -ENOMEM. */
static int add_fault(rp_report *r, const char *name, const char *kind, int64_t utc_ns)
{
    rp_fault *f = realloc(r->faults, (r->n_faults + 1) * sizeof *f);
    if (!f)
        return -ENOMEM;
    r->faults = f;
    f = &r->faults[r->n_faults++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->applied_ns = utc_ns;
    return 0;
}

/* Appends an instant event (ok: probe outcome or -1). Returns 0 or -ENOMEM. */
static int add_event(rp_report *r, const char *type, const char *label, int64_t utc_ns, int ok)
{
    rp_event *e = realloc(r->events, (r->n_events + 1) * sizeof *e);
    if (!e)
        return -ENOMEM;
    r->events = e;
    e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->label, sizeof e->label, "%s", label);
    e->utc_ns = utc_ns;
    e->ok = ok;
    return 0;
}

/* The most telling string of an event for its marker label. */
static const char *event_label(const json_t *ev)
{
    static const char *const keys[] = {"name", "phase", "probe", "reason", "class", "message",
                                       NULL};
    const json_t *fault = json_object_get(ev, "fault");
    const char *s = json_string_value(json_object_get(fault, "name"));
    if (s)
        return s;
    for (size_t i = 0; keys[i]; i++) {
        const json_t *v = json_object_get(ev, keys[i]);
        if (json_is_string(v))
            return json_string_value(v);
        if (json_is_object(v) && json_is_string(json_object_get(v, "name")))
            return json_string_value(json_object_get(v, "name"));
    }
    return "";
}

/* Handles one event object. */
static int fold_event(rp_report *r, const json_t *ev, const char *path, size_t lineno,
                      sq_err *err)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    const json_t *u = json_object_get(ev, "utc_ns");
    if (!type || !json_is_integer(u))
        return sq_errf(err, -EINVAL, "%s:%zu: an event needs \"type\" (string) and \"utc_ns\" "
                                     "(integer)",
                       path, lineno);
    int64_t utc = (int64_t)json_integer_value(u);
    if (utc < 0 || utc >= RP_MAX_UTC_NS)
        return sq_errf(err, -EINVAL, "%s:%zu: \"utc_ns\" must be a UTC time in ns", path,
                       lineno);
    const json_t *fault = json_object_get(ev, "fault");
    const char *fname = json_string_value(json_object_get(fault, "name"));
    const char *fkind = json_string_value(json_object_get(fault, "kind"));
    if (strcmp(type, "fault_applied") == 0 || strcmp(type, "fault_reverted") == 0) {
        if (!fname)
            return sq_errf(err, -EINVAL, "%s:%zu: %s needs \"fault\": {\"name\": ...}", path,
                           lineno, type);
        if (type[6] == 'a')
            return add_fault(r, fname, fkind ? fkind : "", utc) ? sq_errf(err, -ENOMEM, "out of "
                                                                                         "memory")
                                                                 : 0;
        /* the latest application of that fault without a revert */
        for (size_t i = r->n_faults; i-- > 0;) {
            if (strcmp(r->faults[i].name, fname) == 0 && r->faults[i].reverted_ns == 0) {
                r->faults[i].reverted_ns = utc > r->faults[i].applied_ns ? utc
                                                                         : r->faults[i].applied_ns;
                return 0;
            }
        }
        return add_event(r, "fault_reverted", fname, utc, -1) ? sq_errf(err, -ENOMEM, "out of memory")
                                                          : 0;
    }
    if (strcmp(type, "error_sample") == 0) {
        /* the first message of an error class: shown with the class, not as a marker */
        const char *cls = json_string_value(json_object_get(ev, "class"));
        const char *msg = json_string_value(json_object_get(ev, "message"));
        if (cls && msg && r->n_samples < RP_MAX_CODES) {
            rp_seen *x = &r->samples[r->n_samples++];
            snprintf(x->key, sizeof x->key, "%s", cls);
            snprintf(x->sample, sizeof x->sample, "%s", msg);
        }
        return 0;
    }
    if (strcmp(type, "abort") == 0) {
        r->aborted = 1;
        const char *why = json_string_value(json_object_get(ev, "reason"));
        if (why && !r->abort_reason[0])
            snprintf(r->abort_reason, sizeof r->abort_reason, "%s", why);
    }
    const json_t *okv = json_object_get(ev, "ok");
    if (!okv)
        okv = json_object_get(ev, "passed");
    int ok = json_is_boolean(okv) ? json_is_true(okv) : -1;
    if (strncmp(type, "probe", 5) != 0)
        ok = -1;
    return add_event(r, type, event_label(ev), utc, ok) ? sq_errf(err, -ENOMEM, "out of memory")
                                                        : 0;
}

/* Reads run_dir/events.jsonl into r; see report_int.h. */
int rp_load_events(rp_report *r, sq_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/events.jsonl", r->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : sq_errf(err, -errno, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n == 1 && line[0] == '\n')
            continue;
        json_error_t jerr;
        json_t *ev = json_loadb(line, (size_t)n, 0, &jerr);
        if (!json_is_object(ev)) {
            int last = line[n - 1] != '\n';
            json_decref(ev);
            if (last)
                break; /* torn last line of a killed writer */
            rc = ev ? sq_errf(err, -EINVAL, "%s:%zu:1: expected a JSON object", path, lineno)
                    : sq_errf(err, -EINVAL, "%s:%zu:%d: %s", path, lineno, jerr.column, jerr.text);
            break;
        }
        rc = fold_event(r, ev, path, lineno, err);
        json_decref(ev);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Copies each error_sample message to its class in r->classes. */
void rp_attach_samples(rp_report *r)
{
    for (size_t i = 0; i < r->n_samples; i++)
        for (size_t k = 0; k < r->n_classes; k++)
            if (strcmp(r->classes[k].key, r->samples[i].key) == 0 && !r->classes[k].sample[0])
                memcpy(r->classes[k].sample, r->samples[i].sample, sizeof r->classes[k].sample);
}
