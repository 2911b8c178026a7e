/* text.c — the terminal summary: verdict, headline numbers, one line per
 * objective with ✓/✗, one line per fault. Reads summary.json only, so it
 * prints the same for a fresh run and a stored summary. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/reports.h"

/* Number member or 0. */
static double num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

/* Formats v in unit into buf ("312ms", "99.93%", ...). Returns buf. */
static const char *fmt_unit(const char *unit, const json_t *v, char *buf, size_t len)
{
    if (!json_is_number(v)) {
        snprintf(buf, len, "n/a");
        return buf;
    }
    double x = json_number_value(v);
    if (strcmp(unit, "ratio") == 0)
        snprintf(buf, len, fabs(x * 100) >= 99 && fabs(x * 100) < 100 ? "%.3f%%" : "%.2f%%",
                 x * 100);
    else if (strcmp(unit, "ms") == 0)
        snprintf(buf, len, fabs(x) >= 1000 ? "%.2fs" : "%.2fms", fabs(x) >= 1000 ? x / 1000 : x);
    else if (strcmp(unit, "req/s") == 0)
        snprintf(buf, len, "%.1f req/s", x);
    else
        snprintf(buf, len, "%.1fs", x);
    return buf;
}

/* Prints one objective line. */
static void print_objective(const json_t *o, FILE *out)
{
    const char *unit = json_string_value(json_object_get(o, "unit"));
    const char *status = json_string_value(json_object_get(o, "status"));
    char obs[48], tgt[48];
    unit = unit ? unit : "";
    fprintf(out, "  %s %-40s observed %s%s, target %s %s",
            json_is_true(json_object_get(o, "ok")) ? "\u2713" : "\u2717",
            json_string_value(json_object_get(o, "expr")),
            json_is_true(json_object_get(o, "observed_is_lower_bound")) ? ">= " : "",
            fmt_unit(unit, json_object_get(o, "observed"), obs, sizeof obs),
            json_string_value(json_object_get(o, "comparison")),
            fmt_unit(unit, json_object_get(o, "target"), tgt, sizeof tgt));
    const json_t *b = json_object_get(o, "budget_consumed");
    if (json_is_number(b))
        fprintf(out, ", budget %.0f%% used", json_number_value(b) * 100);
    const json_t *burn = json_object_get(o, "peak_burn_rate");
    if (json_is_number(burn))
        fprintf(out, ", peak burn %.1fx", json_number_value(burn));
    if (status && strcmp(status, "ok") != 0 && strcmp(status, "fail") != 0)
        fprintf(out, " [%s]", status);
    const char *note = json_string_value(json_object_get(o, "note"));
    if (note && status && strcmp(status, "ok") != 0)
        fprintf(out, " (%s)", note);
    fputc('\n', out);
}

/* Prints one latency line: "p50 2.29ms ... (label)", n/a when null. */
static void print_latency(FILE *out, const json_t *lat, const char *label, int first)
{
    static const char *const keys[] = {"p50", "p90", "p99", "p999", "max"};
    static const char *const names[] = {"p50", "p90", "p99", "p99.9", "max"};
    fprintf(out, "  %-9s", first ? "latency" : "");
    for (int i = 0; i < 5; i++) {
        const json_t *v = json_object_get(lat, keys[i]);
        if (json_is_number(v))
            fprintf(out, " %s %.2fms ", names[i], json_number_value(v));
        else
            fprintf(out, " %s n/a ", names[i]);
    }
    fprintf(out, "(%s)\n", label);
}

/* Prints the terminal summary; see reports.h. */
void rp_summary_print(const json_t *s, FILE *out)
{
    const json_t *req = json_object_get(s, "requests");
    const json_t *rate = json_object_get(s, "rate");
    const json_t *lat = json_object_get(json_object_get(s, "latency_ms"), "corrected");
    const json_t *unc = json_object_get(json_object_get(s, "latency_ms"), "uncorrected");
    const char *verdict = json_string_value(json_object_get(s, "verdict"));
    const char *shown = !verdict                          ? "?"
                        : strcmp(verdict, "pass") == 0    ? "PASS"
                        : strcmp(verdict, "fail") == 0    ? "FAIL"
                        : strcmp(verdict, "aborted") == 0 ? "ABORTED"
                                                          : "done (no objectives)";
    double sent = num(req, "sent"), errors = num(req, "errors");
    fprintf(out, "run %s: %s in %.1fs\n", json_string_value(json_object_get(s, "run_id")), shown,
            num(s, "duration_s"));
    fprintf(out, "  requests  %.0f intended, %.0f sent, %.0f completed, %.0f errors (%.2f%%), "
                 "%.0f late, %.0f never sent\n",
            num(req, "intended"), sent, num(req, "completed"), errors,
            sent > 0 ? 100.0 * errors / sent : 0.0, num(req, "late"), num(req, "unsent"));
    fprintf(out, "  rate      %.1f req/s intended, %.1f req/s achieved\n", num(rate, "intended_rps"),
            num(rate, "achieved_rps"));
    print_latency(out, lat, "corrected", 1);
    print_latency(out, unc, "uncorrected", 0);
    const json_t *by_status = json_object_get(req, "by_status");
    const char *key;
    json_t *v;
    if (json_object_size(by_status)) {
        fprintf(out, "  status   ");
        json_object_foreach((json_t *)by_status, key, v)
            fprintf(out, " %s %lld", key, (long long)json_integer_value(v));
        fputc('\n', out);
    }
    const json_t *by_error = json_object_get(req, "by_error");
    if (json_object_size(by_error)) {
        fprintf(out, "  errors   ");
        json_object_foreach((json_t *)by_error, key, v)
            fprintf(out, " %s %lld", key, (long long)json_integer_value(v));
        fputc('\n', out);
    }
    size_t i;
    json_t *o;
    if (json_array_size(json_object_get(s, "objectives")))
        fprintf(out, "  objectives\n");
    json_array_foreach(json_object_get(s, "objectives"), i, o) print_objective(o, out);
    json_array_foreach(json_object_get(s, "faults"), i, o)
    {
        const json_t *tti = json_object_get(o, "time_to_impact_s");
        const json_t *ttr = json_object_get(o, "time_to_recover_s");
        fprintf(out, "  fault %s (%s) at %.1fs: ", json_string_value(json_object_get(o, "name")),
                json_string_value(json_object_get(o, "kind")), num(o, "applied_at_s"));
        if (!json_is_number(tti))
            fprintf(out, "no impact\n");
        else if (json_is_number(ttr))
            fprintf(out, "impact after %.1fs, recovered %.1fs after it ended\n",
                    json_number_value(tti), json_number_value(ttr));
        else
            fprintf(out, "impact after %.1fs, did not recover\n", json_number_value(tti));
    }
    const char *why = json_string_value(json_object_get(s, "abort_reason"));
    if (why && *why)
        fprintf(out, "  aborted: %s\n", why);
}
