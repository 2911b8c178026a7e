/* agent.c — the sequence every fault follows: journal (synced) → apply →
 * verify → event; revert → verify → journal → event. One agent holds one
 * journal and one watchdog, for any number of faults. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/ch_internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/rundir.h"

struct ch_agent {
    ch_journal *journal;
    sq_rundir *rd;
    pid_t wpid;
    int wfd;
    int pending; /* journaled faults not yet reverted */
};

/* Creates the journal, the run directory handle and the watchdog. */
int ch_agent_new(const char *state_dir, const char *run_dir, int watchdog, ch_agent **out,
                 sq_err *err)
{
    int rc;
    ch_agent *a = calloc(1, sizeof *a);
    if (!a)
        return sq_errf(err, -ENOMEM, "out of memory");
    a->wpid = -1;
    a->wfd = -1;
    if (run_dir && (rc = sq_rundir_open(run_dir, &a->rd, err)))
        goto fail;
    if ((rc = ch_journal_create(state_dir, a->rd ? sq_rundir_path(a->rd) : NULL, &a->journal,
                                err)))
        goto fail;
    if (watchdog && (rc = ch_watchdog_start(a->journal, &a->wpid, &a->wfd, err)))
        goto fail;
    *out = a;
    return 0;
fail:
    ch_agent_free(a);
    return rc;
}

/* Appends an event for f to events.jsonl (when there is a run directory);
 * takes the reference to extra. */
static void emit(ch_agent *a, const char *type, const json_t *fault, json_t *extra)
{
    if (a->rd && fault) {
        sq_err err;
        json_t *ev = ch_event_new(type, fault, extra);
        if (!ev || sq_rundir_append(a->rd, "events.jsonl", ev, &err))
            sq_warn("events.jsonl: %s", ev ? err.msg : "out of memory");
        json_decref(ev);
    }
    json_decref(extra);
}

/* Reverts every op of f, newest first; the first error wins. */
static int revert_ops(const ch_fault *f, sq_err *err)
{
    int first = 0;
    for (size_t i = json_array_size(f->ops); i-- > 0;) {
        sq_err one;
        int rc = ch_op_revert(json_array_get(f->ops, i), &one);
        if (rc && !first) {
            first = rc;
            if (err)
                *err = one;
        }
    }
    return first;
}

/* Starts f's in-process part (the delay proxy, whose port goes into the
 * ops), then journals, applies and records f. */
int ch_agent_apply(ch_agent *a, ch_fault *f, sq_err *err)
{
    int64_t t0 = sq_mono_ns(), utc0 = sq_utc_ns();
    int rc = ch_delay_start(f, err);
    if (rc == 0 && (rc = ch_journal_fault(a->journal, f, &f->seq, err)))
        ch_delay_stop(f);
    if (rc) {
        f->reverted = 1; /* nothing of it was applied */
        return rc;
    }
    a->pending++;
    for (size_t i = 0; i < json_array_size(f->ops); i++) {
        if ((rc = ch_op_apply(json_array_get(f->ops, i), err))) {
            sq_err rerr;
            if (revert_ops(f, &rerr)) {
                /* The undo failed too: say so, never "(reverted)". The
                 * journal keeps the fault for the watchdog and recover. */
                char first[SQ_ERR_MAX];
                snprintf(first, sizeof first, "%s", err ? err->msg : "");
                return sq_errf(err, rc, "%s; revert FAILED: %s", first, rerr.msg);
            }
            f->reverted = 1;
            ch_delay_stop(f);
            if (ch_journal_mark(a->journal, f->seq, "reverted", &rerr) == 0)
                a->pending--;
            return rc;
        }
    }
    f->applied = 1;
    f->apply_ns = sq_mono_ns() - t0;
    sq_err merr;
    if (ch_journal_mark(a->journal, f->seq, "applied", &merr))
        sq_warn("%s", merr.msg);
    json_t *fj = ch_fault_json(f);
    emit(a, "fault_applied", fj,
         json_pack("{s:I, s:I}", "scheduled_utc_ns", (json_int_t)utc0, "apply_ns",
                   (json_int_t)f->apply_ns));
    json_decref(fj);
    return 0;
}

/* Kills reappearing matches of a kill fault and records them. */
int ch_agent_rekill(ch_agent *a, ch_fault *f, sq_err *err)
{
    json_t *killed = NULL;
    int n = ch_fault_rekill(f, &killed, err);
    if (n > 0) {
        json_t *fj = ch_fault_json(f);
        json_object_set(fj, "ops", killed);
        emit(a, "fault_applied", fj, json_pack("{s:b}", "repeat", 1));
        json_decref(fj);
    }
    json_decref(killed);
    return n;
}

/* Reverts, verifies, journals and records f. */
int ch_agent_revert(ch_agent *a, ch_fault *f, const char *by, sq_err *err)
{
    if (!f->seq || f->reverted)
        return 0;
    int64_t t0 = sq_mono_ns();
    int rc = revert_ops(f, err);
    if (rc)
        return rc;
    ch_delay_stop(f); /* after the rules: new connections already go direct */
    f->revert_ns = sq_mono_ns() - t0;
    f->reverted = 1;
    a->pending--;
    sq_err merr;
    if (ch_journal_mark(a->journal, f->seq, "reverted", &merr))
        sq_warn("%s", merr.msg);
    /* A one-shot kill has nothing to revert and no window to close. */
    if (f->applied && (f->spec.kind != CH_KILL || f->spec.ttl_ns > 0)) {
        json_t *fj = ch_fault_json(f);
        emit(a, "fault_reverted", fj,
             json_pack("{s:s, s:I, s:O?}", "by", by, "revert_ns", (json_int_t)f->revert_ns,
                       "proxy", f->stats));
        json_decref(fj);
    }
    return 0;
}

/* How long the last apply of f took, in ns (journal sync included). */
int64_t ch_fault_apply_ns(const ch_fault *f)
{
    return f->apply_ns;
}

/* How long the last revert of f took, in ns (verification included). */
int64_t ch_fault_revert_ns(const ch_fault *f)
{
    return f->revert_ns;
}

/* Whether f is reverted on the system (see chaos.h). */
int ch_fault_is_reverted(const ch_fault *f)
{
    return f->reverted;
}

/* The poll timeout for a wait until until_ns, capped (see chaos.h). */
int ch_wait_ms(int64_t now_ns, int64_t until_ns)
{
    if (until_ns <= now_ns)
        return 0;
    int64_t left = until_ns - now_ns;
    if (left >= (int64_t)CH_MAX_WAIT_MS * 1000000)
        return CH_MAX_WAIT_MS;
    return (int)((left + 999999) / 1000000);
}

/* The agent's journal path; owned by the agent. */
const char *ch_agent_journal_path(const ch_agent *a)
{
    return ch_journal_path(a->journal);
}

/* Closes the journal (removed when nothing is pending), ends the watchdog
 * by closing its pipe, and reaps it. */
void ch_agent_free(ch_agent *a)
{
    if (!a)
        return;
    int clean = a->pending == 0;
    ch_journal_close(a->journal, clean);
    if (a->wfd >= 0) {
        /* Tell the watchdog this is a normal end; without the byte it
         * reads the journal and reverts what is left. */
        char c = CH_WD_CLEAN_END;
        if (clean)
            while (write(a->wfd, &c, 1) < 0 && errno == EINTR)
                ;
        close(a->wfd);
    }
    if (a->wpid > 0)
        while (waitpid(a->wpid, NULL, 0) < 0 && errno == EINTR)
            ;
    sq_rundir_free(a->rd);
    free(a);
}
