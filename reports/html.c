/* html.c — report.html: one self-contained page (inline CSS and SVG, no
 * script, no external resource) that answers, top to bottom: did we meet
 * our objectives at this load (verdict banner, headline numbers, VALET
 * scorecard), what happened when (timeline charts on one time axis with
 * faults as shaded bands and events as markers), which fault hurt and how
 * fast the service recovered (fault table), what the latency distribution
 * looks like (HDR percentile spectrum), where (routes, status codes, error
 * classes), and can I trust these numbers (methodology).
 *
 * Every string that comes from the run directory goes through
 * rp_html_escape (via put/putf). Series are downsampled to at most
 * MAX_POINTS per line (max-preserving for latency and error rates), which
 * keeps a 1-hour report well under 2 MB.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_int.h"
#include "reports/svg.h"

#define MAX_POINTS 600
#define MAX_ROUTES 50
#define MAX_LABELLED_MARKERS 24
#define CHART_W 1000
#define CHART_H 170

static const char CSS[] =
    ":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;"
    "--ok:#1a7f37;--okbg:#dafbe1;--bad:#cf222e;--badbg:#ffebe9;--warn:#9a6700;--warnbg:#fff8c5;"
    "--none:#0969da;--nonebg:#ddf4ff;}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 -apple-system,"
    "BlinkMacSystemFont,'Segoe UI','Noto Sans',Helvetica,Arial,sans-serif;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "main{max-width:1100px;margin:0 auto;padding:0 24px 48px}"
    "h2{font-size:19px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}"
    "h3{font-size:15px;margin:18px 0 6px}"
    "p{margin:6px 0}"
    ".muted{color:var(--muted)}.num{font-variant-numeric:tabular-nums;text-align:right;"
    "white-space:nowrap}"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}"
    ".banner{padding:22px 24px;border-bottom:1px solid var(--line)}"
    ".banner .in{max-width:1052px;margin:0 auto;display:flex;gap:24px;align-items:center;"
    "flex-wrap:wrap}"
    ".verdict{font-size:34px;font-weight:800;letter-spacing:.04em;padding:4px 18px;"
    "border-radius:10px;color:#fff}"
    ".v-pass{background:var(--okbg)}.v-pass .verdict{background:var(--ok)}"
    ".v-fail{background:var(--badbg)}.v-fail .verdict{background:var(--bad)}"
    ".v-aborted{background:var(--warnbg)}.v-aborted .verdict{background:var(--warn)}"
    ".v-none{background:var(--nonebg)}.v-none .verdict{background:var(--none)}"
    ".banner .missed{font-size:14px;margin-top:2px}.banner .missed code{background:#fff;"
    "border:1px solid var(--line);border-radius:4px;padding:0 5px;margin-right:4px}"
    ".banner .what{font-size:18px;font-weight:600}.banner .meta{color:var(--muted);font-size:13px}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;"
    "margin:20px 0 0}"
    ".tile{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}"
    ".tile .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}"
    ".tile .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}"
    ".tile .s{font-size:12px;color:var(--muted)}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th,td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;"
    "letter-spacing:.04em}"
    "tr.group td{background:var(--soft);font-weight:650;font-size:13px;letter-spacing:.03em}"
    ".st{font-weight:700;white-space:nowrap}.st.ok{color:var(--ok)}.st.fail{color:var(--bad)}"
    ".st.warn{color:var(--warn)}"
    ".bar{width:110px;height:8px;background:#eaeef2;border-radius:4px;overflow:hidden;"
    "display:inline-block;vertical-align:middle;margin-right:6px}"
    ".bar i{display:block;height:100%}"
    ".valet{display:flex;gap:8px;flex-wrap:wrap;margin:6px 0 12px}"
    ".chip{border:1px solid var(--line);border-radius:16px;padding:2px 12px;font-size:13px}"
    ".chip b{font-weight:700}.chip.okc{border-color:var(--ok);color:var(--ok)}"
    ".chip.badc{border-color:var(--bad);color:var(--bad)}.chip.empty{color:var(--muted)}"
    ".note{font-size:12px;color:var(--muted)}"
    ".chartbox{margin:4px 0 14px;break-inside:avoid}"
    ".chartbox h3{margin:10px 0 0;display:flex;gap:14px;align-items:baseline;flex-wrap:wrap}"
    ".legend{font-size:12px;font-weight:400;color:var(--muted)}"
    ".legend span{margin-right:12px;white-space:nowrap}"
    ".legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg .grid line{stroke:#eaeef2;stroke-width:1}svg .grid .axis{stroke:#8c959f}"
    "svg text{font-size:11px;fill:#59636e;font-family:inherit}"
    "svg .yl{text-anchor:end}svg .xl{text-anchor:middle}svg .xe{text-anchor:end}svg .thl{text-anchor:end;font-weight:600}"
    "svg .band{fill:#cf222e;fill-opacity:.09}svg .bandl{fill:#a40e26;font-weight:600}"
    "svg .marker{stroke:#6e7781;stroke-dasharray:3 3}svg .markl{fill:#424a53}"
    "path{fill:none;stroke-width:1.6;stroke-linejoin:round}"
    ".intended{stroke:#8c959f;stroke-dasharray:5 4}.achieved{stroke:#0969da}"
    ".okarea{fill:#2da44e;fill-opacity:.55;stroke:none}.koarea{fill:#cf222e;fill-opacity:.7;"
    "stroke:none}"
    ".p50{stroke:#0969da}.p90{stroke:#8250df}.p99{stroke:#bf8700}.pmax{stroke:#cf222e;"
    "stroke-width:1}"
    ".err{stroke:#cf222e}.burn0{stroke:#bc4c00}.burn1{stroke:#8250df}.burn2{stroke:#1b7c83}"
    ".corr{stroke:#0969da;stroke-width:2}.uncorr{stroke:#8c959f;stroke-dasharray:5 4}"
    ".th{stroke:#cf222e;stroke-dasharray:6 3;stroke-width:1.3}.th2{stroke:#6e7781;"
    "stroke-dasharray:2 3}"
    ".sw-intended{background:#8c959f}.sw-achieved{background:#0969da}.sw-ok{background:#2da44e}"
    ".sw-ko{background:#cf222e}.sw-p50{background:#0969da}.sw-p90{background:#8250df}"
    ".sw-p99{background:#bf8700}.sw-max{background:#cf222e}.sw-err{background:#cf222e}"
    ".sw-burn0{background:#bc4c00}.sw-burn1{background:#8250df}.sw-burn2{background:#1b7c83}"
    ".sw-corr{background:#0969da}.sw-uncorr{background:#8c959f}.sw-band{background:#f5c6cb;"
    "height:10px!important}"
    ".faultgrid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:8px 28px}"
    "table.small{font-size:13px}table.small td,table.small th{padding:4px 6px}"
    "svg .thl,svg .bandl,svg .markl{paint-order:stroke;stroke:#fff;stroke-width:3px;"
    "stroke-linejoin:round}"
    ".method{background:var(--soft);border:1px solid var(--line);border-radius:8px;"
    "padding:12px 18px;font-size:14px}.method li{margin:4px 0}"
    ".code2{color:var(--ok)}.code3{color:var(--none)}.code4{color:var(--warn)}"
    ".code5{color:var(--bad)}"
    "footer{max-width:1100px;margin:0 auto;padding:0 24px 32px;font-size:12px;color:var(--muted)}"
    "@media print{body{font-size:12px}main{padding:0 8px}.banner{padding:12px}"
    "h2{break-after:avoid}tr,.tile,.chartbox,.method{break-inside:avoid}}";

/* Writes s escaped. */
static void put(FILE *f, const char *s)
{
    if (s)
        rp_html_escape(f, s, strlen(s));
}

/* Formats, then writes the result escaped (for text mixing input). */
static void putf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(FILE *f, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(f, buf);
}

/* A latency in ms for tables ("2.29ms", "312ms", "1.52s"). */
static const char *ms(double v, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "–");
    else if (v >= 1000)
        snprintf(buf, len, "%.2fs", v / 1000);
    else if (v >= 100)
        snprintf(buf, len, "%.0fms", v);
    else
        snprintf(buf, len, "%.2fms", v);
    return buf;
}

/* A fraction as a percentage for tables. */
static const char *pct(double v, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "–");
    else if (v == 0)
        snprintf(buf, len, "0%%");
    else if (v < 0.0001)
        snprintf(buf, len, "%.4f%%", v * 100);
    else if (v < 0.1)
        snprintf(buf, len, "%.2f%%", v * 100);
    else
        snprintf(buf, len, "%.1f%%", v * 100);
    return buf;
}

/* A count with thousands separators. */
static const char *count(double v, char *buf, size_t len)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0 && raw[i - 1] != '-')
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Seconds as "1m05s" or "12.5s". */
static const char *secs(double s, char *buf, size_t len)
{
    if (!isfinite(s))
        snprintf(buf, len, "–");
    else if (s >= 3600)
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%.1fs", s);
    return buf;
}

/* ---- banner and headline numbers ---------------------------------------- */

/* The verdict banner with run metadata. */
static void banner(FILE *f, const rp_report *r)
{
    size_t met = 0;
    for (size_t k = 0; k < r->n_objs; k++)
        met += r->objs[k].status == RP_ST_OK;
    const char *word = strcmp(r->verdict, "pass") == 0      ? "PASS"
                       : strcmp(r->verdict, "fail") == 0    ? "FAIL"
                       : strcmp(r->verdict, "aborted") == 0 ? "ABORTED"
                                                            : "NO SLOs";
    char b1[64], b2[64];
    fprintf(f, "<header class=\"banner v-%s\"><div class=\"in\"><div class=\"verdict\">%s</div><div>",
            r->verdict, word);
    fprintf(f, "<div class=\"what\">");
    if (r->aborted)
        putf(f, "Run aborted: %s. ", r->abort_reason[0] ? r->abort_reason : "no reason given");
    if (r->n_objs)
        fprintf(f, "%zu of %zu objective%s met", met, r->n_objs, r->n_objs == 1 ? "" : "s");
    else
        fprintf(f, "No objectives were set: this report describes the run, it judges nothing");
    fprintf(f, "</div>");
    if (met < r->n_objs) {
        fprintf(f, "<div class=\"missed\">Missed: ");
        for (size_t k = 0; k < r->n_objs; k++) {
            if (r->objs[k].status == RP_ST_OK)
                continue;
            fprintf(f, "<code>");
            put(f, r->objs[k].slo.text);
            fprintf(f, "</code>");
        }
        fprintf(f, "</div>");
    }
    fprintf(f, "<div class=\"meta\">run <span class=\"mono\">");
    put(f, r->run_id);
    fprintf(f, "</span>");
    if (r->target) {
        fprintf(f, " · target <span class=\"mono\">");
        put(f, r->target);
        fprintf(f, "</span>");
    }
    fprintf(f, "<br>started %s UTC · %s · ",
            r->start_utc_ns ? sq_utc_format(r->start_utc_ns, b1, sizeof b1) : "?",
            secs(r->end_s, b2, sizeof b2));
    const json_t *load = json_object_get(r->run, "load");
    const char *model = json_string_value(json_object_get(load, "model"));
    if (model)
        putf(f, "%s model", model);
    const json_t *conn = json_object_get(load, "connections");
    if (json_is_integer(conn))
        fprintf(f, ", %lld connections", (long long)json_integer_value(conn));
    const char *tool = json_string_value(json_object_get(r->run, "tool"));
    if (tool) {
        fprintf(f, " · ");
        put(f, tool);
    }
    if (r->shards > 1)
        fprintf(f, " · %d shards merged", r->shards);
    fprintf(f, "</div></div></div></header>\n");
}

/* One headline tile. */
static void tile(FILE *f, const char *k, const char *v, const char *s)
{
    fprintf(f, "<div class=\"tile\"><div class=\"k\">%s</div><div class=\"v\">", k);
    put(f, v);
    fprintf(f, "</div><div class=\"s\">");
    put(f, s);
    fprintf(f, "</div></div>");
}

/* Headline numbers. */
static void tiles(FILE *f, const rp_report *r)
{
    char v[64], s[128], a[32], b[32];
    double load_s = r->load_end_s > 0 ? r->load_end_s : r->end_s;
    double intended = r->have_unsent ? r->tot_sent + r->tot_unsent : r->tot_intended;
    double valid = r->tot_completed + r->tot_errors;
    const sq_hist *h = r->corrected, *u = r->uncorrected;
    fprintf(f, "<div class=\"tiles\">");
    count(r->tot_sent, v, sizeof v);
    snprintf(s, sizeof s, "%s completed, %s late", count(r->tot_completed, a, sizeof a),
             count(r->tot_late, b, sizeof b));
    tile(f, "Requests sent", v, s);
    snprintf(v, sizeof v, "%.1f/s", load_s > 0 ? r->tot_sent / load_s : 0);
    snprintf(s, sizeof s, "%.1f/s intended (%s)", load_s > 0 ? intended / load_s : 0,
             pct(intended > 0 ? r->tot_sent / intended : NAN, a, sizeof a));
    tile(f, "Achieved rate", v, s);
    pct(valid > 0 ? (r->tot_errors + r->tot_5xx) / valid : NAN, v, sizeof v);
    snprintf(s, sizeof s, "%s 5xx, %s transport", count(r->tot_5xx, a, sizeof a),
             count(r->tot_errors, b, sizeof b));
    tile(f, "Error rate", v, s);
    static const struct {
        const char *k;
        double p;
    } q[] = {{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}, {"max", 100}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        double cv = h ? (double)sq_hist_percentile(h, q[i].p) / 1e3 : NAN;
        double uv = u ? (double)sq_hist_percentile(u, q[i].p) / 1e3 : NAN;
        ms(cv, v, sizeof v);
        snprintf(s, sizeof s, "%s uncorrected", ms(uv, a, sizeof a));
        char k[32];
        snprintf(k, sizeof k, "Latency %s", q[i].k);
        tile(f, k, v, s);
    }
    fprintf(f, "</div>\n");
}

/* ---- scorecard ----------------------------------------------------------- */

/* An objective's target as people write it ("99.9%", "300ms"). */
static const char *target_text(const rp_obj *o, char *buf, size_t len)
{
    if (strcmp(o->unit, "ratio") == 0) {
        snprintf(buf, len, "%.6g%%", o->target * 100);
        return buf;
    }
    return rp_format_value(o, o->target, buf, len);
}

/* The status cell of an objective. */
static void status_cell(FILE *f, const rp_obj *o)
{
    switch (o->status) {
    case RP_ST_OK:
        fprintf(f, "<td class=\"st ok\">✓ met</td>");
        break;
    case RP_ST_FAIL:
        fprintf(f, "<td class=\"st fail\">✗ missed</td>");
        break;
    default:
        fprintf(f, "<td class=\"st warn\">✗ %s</td>", rp_status_text(o->status));
    }
}

/* The scorecard grouped by VALET. */
static void scorecard(FILE *f, const rp_report *r)
{
    static const char *const groups[] = {"Volume", "Availability", "Latency", "Errors", "Tickets"};
    static const char *const about[] = {
        "throughput delivered", "good responses", "how fast", "error and status rates",
        "recovery from faults"};
    char b1[64], b2[64], b3[64];
    fprintf(f, "<h2>Objectives</h2>\n");
    if (!r->n_objs) {
        fprintf(f, "<p class=\"muted\">No objectives. Add some with <code>--slo</code>, e.g. "
                   "<code>--slo 'p(99) &lt; 300ms' --slo 'availability 99.9%% good=status&lt;500'"
                   "</code>, and run <code>squall report RUN_DIR</code> again: objectives are "
                   "evaluated from the run directory alone.</p>\n");
        return;
    }
    fprintf(f, "<div class=\"valet\">");
    for (size_t g = 0; g < 5; g++) {
        size_t n = 0, ok = 0;
        for (size_t k = 0; k < r->n_objs; k++)
            if (strcmp(rp_slo_valet(&r->objs[k].slo), groups[g]) == 0) {
                n++;
                ok += r->objs[k].status == RP_ST_OK;
            }
        fprintf(f, "<span class=\"chip %s\" title=\"%s\"><b>%c</b> %s %s</span>",
                !n ? "empty" : ok == n ? "okc" : "badc", about[g], groups[g][0], groups[g],
                n ? (snprintf(b1, sizeof b1, "%zu/%zu", ok, n), b1) : "–");
    }
    fprintf(f, "</div>\n<table><thead><tr><th></th><th>Objective</th><th class=\"num\">Observed"
               "</th><th class=\"num\">Target</th><th class=\"num\">Margin</th><th>Error budget"
               " used</th><th class=\"num\">Peak burn</th><th class=\"num\">Samples</th></tr>"
               "</thead><tbody>\n");
    for (size_t g = 0; g < 5; g++) {
        int header = 0;
        for (size_t k = 0; k < r->n_objs; k++) {
            const rp_obj *o = &r->objs[k];
            if (strcmp(rp_slo_valet(&o->slo), groups[g]) != 0)
                continue;
            if (!header++)
                fprintf(f, "<tr class=\"group\"><td colspan=\"8\">%s <span class=\"muted\">— %s"
                           "</span></td></tr>\n",
                        groups[g], about[g]);
            fprintf(f, "<tr>");
            status_cell(f, o);
            fprintf(f, "<td><code>");
            put(f, o->slo.text);
            fprintf(f, "</code>");
            if (o->note[0]) {
                fprintf(f, "<div class=\"note\">");
                put(f, o->note);
                fprintf(f, "</div>");
            }
            fprintf(f, "</td><td class=\"num\">%s%s</td>", o->at_least ? "≥ " : "",
                    o->have_observed ? rp_format_value(o, o->observed, b1, sizeof b1) : "–");
            fprintf(f, "<td class=\"num\">%s %s</td>",
                    o->slo.is_ratio ? "≥" : strcmp(rp_cmp_text(o->slo.cmp), "<=") == 0 ? "≤"
                                         : strcmp(rp_cmp_text(o->slo.cmp), ">=") == 0   ? "≥"
                                         : strcmp(rp_cmp_text(o->slo.cmp), "<") == 0    ? "&lt;"
                                                                                        : "&gt;",
                    target_text(o, b2, sizeof b2));
            if (o->have_observed && isfinite(o->margin)) {
                rp_format_value(o, fabs(o->margin), b3, sizeof b3);
                fprintf(f, "<td class=\"num\">%s%s</td>", o->margin < 0 ? "−" : "+", b3);
            } else {
                fprintf(f, "<td class=\"num\">–</td>");
            }
            if (o->have_budget && isfinite(o->budget_consumed)) {
                double used = o->budget_consumed;
                const char *col = used >= 1 ? "#cf222e" : used >= 0.5 ? "#bf8700" : "#2da44e";
                fprintf(f, "<td><span class=\"bar\"><i style=\"width:%.0f%%;background:%s\"></i>"
                           "</span>%.0f%%</td>",
                        fmin(used, 1) * 100, col, used * 100);
            } else {
                fprintf(f, "<td class=\"muted\">–</td>");
            }
            if (o->have_budget && isfinite(o->peak_burn))
                fprintf(f, "<td class=\"num\" title=\"over %gs windows, peak at %s\">%.1f×</td>",
                        o->burn_window_s, secs(o->peak_burn_at_s, b1, sizeof b1), o->peak_burn);
            else
                fprintf(f, "<td class=\"num muted\">–</td>");
            fprintf(f, "<td class=\"num\">%s</td></tr>\n", count(o->samples, b1, sizeof b1));
        }
    }
    fprintf(f, "</tbody></table>\n<p class=\"note\">Margin is the distance to the target (+ is "
               "headroom). Error budget used: bad events over those the objective allows (100%% = "
               "all of it). Burn rate: how many times faster than allowed the budget was spent, "
               "over sliding windows of a twelfth of the run (5 s to 5 min)");
    for (size_t k = 0; k < r->n_objs; k++)
        if (r->objs[k].alert_fast >= 0) {
            fprintf(f, "; runs of an hour or more also check the 14.4× (1 h and 5 min) and 6× "
                       "(6 h and 30 min) multiwindow alerts, see summary.json");
            break;
        }
    fprintf(f, ".</p>\n");
}

/* ---- timeline ------------------------------------------------------------ */

/* Series arrays for the charts, downsampled. */
typedef struct series {
    size_t n;
    double *x, *y;
} series;

/* Builds a downsampled series from per-point values. */
static int make_series(const double *x, const double *y, size_t n, int use_max, series *s)
{
    s->x = malloc((MAX_POINTS + 1) * sizeof *s->x);
    s->y = malloc((MAX_POINTS + 1) * sizeof *s->y);
    if (!s->x || !s->y)
        return -ENOMEM;
    s->n = rp_downsample(x, y, n, MAX_POINTS, use_max, s->x, s->y);
    return 0;
}

/* Frees a series' arrays. */
static void free_series(series *s)
{
    free(s->x);
    free(s->y);
    s->x = s->y = NULL;
}

/* A new chart spanning the run. */
static rp_chart timeline_chart(FILE *f, const rp_report *r)
{
    rp_chart c = {.f = f, .w = CHART_W, .h = CHART_H, .ml = 62, .mr = 14, .mt = 14, .mb = 24,
                  .x0 = 0, .x1 = r->end_s > 0 ? r->end_s : 1, .xfmt = RP_FMT_TIME};
    return c;
}

/* Fault bands and event markers (labels on the first chart only). Events
 * outside the run are left out, and so are passing probes when there are
 * many events (a probe every few seconds would hide everything else). */
static void overlays(rp_chart *c, const rp_report *r, int labels)
{
    for (size_t i = 0; i < r->n_faults; i++) {
        if (r->faults[i].reverted_s < c->x0 || r->faults[i].applied_s > c->x1)
            continue;
        rp_chart_band(c, r->faults[i].applied_s, r->faults[i].reverted_s,
                      labels ? r->faults[i].name : NULL);
    }
    for (size_t i = 0; i < r->n_events; i++) {
        const rp_event *e = &r->events[i];
        if (e->t_s < c->x0 || e->t_s > c->x1 || (r->n_events > MAX_LABELLED_MARKERS && e->ok == 1))
            continue;
        char label[RP_NAME_MAX + 40];
        snprintf(label, sizeof label, "%s%s%s", e->type, e->label[0] ? ": " : "", e->label);
        rp_chart_marker(c, e->t_s, labels && i < MAX_LABELLED_MARKERS ? label : NULL);
    }
    /* phase boundaries from the series when no event marks them */
    int phase_events = 0;
    for (size_t i = 0; i < r->n_events; i++)
        phase_events |= strncmp(r->events[i].type, "phase", 5) == 0;
    if (phase_events || r->n_phases < 2)
        return;
    for (size_t i = 1; i < r->n; i++)
        if (r->pts[i].phase != r->pts[i - 1].phase && r->pts[i].phase >= 0) {
            char label[RP_NAME_MAX + 8];
            snprintf(label, sizeof label, "phase %s", r->phases[r->pts[i].phase]);
            rp_chart_marker(c, r->pts[i].t_s, labels ? label : NULL);
        }
}

/* Chart title with a legend of (swatch class, label) pairs. */
static void chart_title(FILE *f, const char *title, const char *const *legend)
{
    fprintf(f, "<div class=\"chartbox\"><h3>%s<span class=\"legend\">", title);
    for (size_t i = 0; legend[i]; i += 2)
        fprintf(f, "<span><i class=\"sw-%s\"></i>%s</span>", legend[i], legend[i + 1]);
    fprintf(f, "</span></h3>\n");
}

/* Max of finite values (or fallback). */
static double max_of(const double *y, size_t n, double fallback)
{
    double m = NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && (isnan(m) || y[i] > m))
            m = y[i];
    return isnan(m) ? fallback : m;
}

/* Min of finite positive values (or fallback). */
static double min_pos(const double *y, size_t n, double fallback)
{
    double m = NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && y[i] > 0 && (isnan(m) || y[i] < m))
            m = y[i];
    return isnan(m) ? fallback : m;
}

/* Threshold label of an objective: its text, shortened. */
static const char *th_label(const rp_obj *o, char *buf, size_t len)
{
    snprintf(buf, len, "%.70s", o->slo.text);
    return buf;
}

/* Every timeline chart. Returns 0 or -ENOMEM. */
static int timeline(FILE *f, const rp_report *r)
{
    size_t n = r->n;
    int rc = -ENOMEM;
    double *x = calloc(n + 1, sizeof *x), *v[6];
    series s[6];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 6; i++)
        v[i] = calloc(n + 1, sizeof *v[i]);
    for (int i = 0; i < 6; i++)
        if (!v[i])
            goto out;
    if (!x)
        goto out;
    char lab[128];
    fprintf(f, "<h2>Timeline</h2>\n");
    if (n == 0) {
        fprintf(f, "<p class=\"muted\">series.jsonl holds no interval: the run stopped before "
                   "its first interval ended.</p>\n");
        rc = 0;
        goto out;
    }
    if (r->n_faults)
        fprintf(f, "<p class=\"note\"><span class=\"legend\"><span><i class=\"sw-band\"></i>"
                   "</span></span>Shaded bands: faults (from applied to reverted). Dashed lines: "
                   "events.</p>\n");
    for (size_t i = 0; i < n; i++)
        x[i] = r->pts[i].t_s + r->pts[i].dur_s / 2;

    /* 1. intended vs achieved rate */
    for (size_t i = 0; i < n; i++) {
        v[0][i] = r->pts[i].intended / r->pts[i].dur_s;
        v[1][i] = r->pts[i].sent / r->pts[i].dur_s;
    }
    if (make_series(x, v[0], n, 0, &s[0]) || make_series(x, v[1], n, 0, &s[1]))
        goto out;
    static const char *const l1[] = {"intended", "intended", "achieved", "achieved (sent)", NULL};
    chart_title(f, "Request rate (per second)", l1);
    rp_chart c = timeline_chart(f, r);
    c.yfmt = RP_FMT_NUM;
    double top = fmax(max_of(s[0].y, s[0].n, 1), max_of(s[1].y, s[1].n, 1));
    for (size_t k = 0; k < r->n_objs; k++)
        if (r->objs[k].slo.metric == RP_M_ACHIEVED_RATE && !r->objs[k].slo.of_intended)
            top = fmax(top, r->objs[k].slo.target);
    rp_chart_fit_y(&c, 0, top * 1.05);
    rp_chart_begin(&c, "request rate, intended and achieved, per second");
    rp_chart_axes(&c);
    overlays(&c, r, 1);
    rp_chart_line(&c, s[0].x, s[0].y, s[0].n, "intended");
    rp_chart_line(&c, s[1].x, s[1].y, s[1].n, "achieved");
    for (size_t k = 0; k < r->n_objs; k++)
        if (r->objs[k].slo.metric == RP_M_ACHIEVED_RATE && !r->objs[k].slo.of_intended)
            rp_chart_hline(&c, r->objs[k].slo.target, th_label(&r->objs[k], lab, sizeof lab), "th");
    rp_chart_end(&c);
    fprintf(f, "</div>\n");
    for (int i = 0; i < 2; i++)
        free_series(&s[i]);

    /* 2. OK / KO per second */
    for (size_t i = 0; i < n; i++) {
        const rp_point *p = &r->pts[i];
        v[0][i] = (p->completed - p->s5xx) / p->dur_s;
        v[1][i] = (p->errors + p->s5xx) / p->dur_s;
    }
    if (make_series(x, v[0], n, 0, &s[0]) || make_series(x, v[1], n, 0, &s[1]))
        goto out;
    static const char *const l2[] = {"ok", "OK (answered, not 5xx)", "ko",
                                     "KO (5xx or transport error)", NULL};
    chart_title(f, "Responses per second", l2);
    c = timeline_chart(f, r);
    c.yfmt = RP_FMT_NUM;
    top = 1;
    for (size_t i = 0; i < s[0].n; i++)
        top = fmax(top, (isfinite(s[0].y[i]) ? s[0].y[i] : 0) + (isfinite(s[1].y[i]) ? s[1].y[i] : 0));
    rp_chart_fit_y(&c, 0, top * 1.05);
    rp_chart_begin(&c, "responses per second, OK and KO, stacked");
    rp_chart_axes(&c);
    overlays(&c, r, 0);
    rp_chart_area(&c, s[0].x, s[0].y, NULL, s[0].n, "okarea");
    rp_chart_area(&c, s[1].x, s[1].y, s[0].y, s[1].n, "koarea");
    rp_chart_end(&c);
    fprintf(f, "</div>\n");
    for (int i = 0; i < 2; i++)
        free_series(&s[i]);

    /* 3. latency p50/p90/p99/max, log scale */
    for (size_t i = 0; i < n; i++) {
        const rp_point *p = &r->pts[i];
        int have = p->completed > 0;
        v[0][i] = have ? p->p50 : NAN;
        v[1][i] = have ? p->p90 : NAN;
        v[2][i] = have ? p->p99 : NAN;
        v[3][i] = have ? p->max : NAN;
    }
    for (int i = 0; i < 4; i++)
        if (make_series(x, v[i], n, i > 0, &s[i]))
            goto out;
    static const char *const l3[] = {"p50", "p50", "p90", "p90", "p99", "p99", "max", "max", NULL};
    chart_title(f, "Latency per interval (corrected, log scale)", l3);
    c = timeline_chart(f, r);
    c.log_y = 1;
    c.yfmt = RP_FMT_MS;
    double lo = min_pos(s[0].y, s[0].n, 0.1), hi = max_of(s[3].y, s[3].n, 1);
    for (size_t k = 0; k < r->n_objs; k++) {
        rp_metric m = r->objs[k].slo.metric;
        if (m == RP_M_PERCENTILE || m == RP_M_LATENCY || m == RP_M_MAX || m == RP_M_MEAN)
            hi = fmax(hi, r->objs[k].slo.target), lo = fmin(lo, r->objs[k].slo.target);
    }
    rp_chart_fit_y(&c, lo, hi);
    rp_chart_begin(&c, "latency per interval: p50, p90, p99 and max");
    rp_chart_axes(&c);
    overlays(&c, r, 0);
    static const char *const lc[] = {"p50", "p90", "p99", "pmax"};
    for (int i = 3; i >= 0; i--)
        rp_chart_line(&c, s[i].x, s[i].y, s[i].n, lc[i]);
    for (size_t k = 0; k < r->n_objs; k++) {
        rp_metric m = r->objs[k].slo.metric;
        if (m == RP_M_PERCENTILE || m == RP_M_LATENCY || m == RP_M_MAX || m == RP_M_MEAN)
            rp_chart_hline(&c, r->objs[k].slo.target, th_label(&r->objs[k], lab, sizeof lab), "th");
    }
    rp_chart_end(&c);
    fprintf(f, "</div>\n");
    for (int i = 0; i < 4; i++)
        free_series(&s[i]);

    /* 4. error rate */
    for (size_t i = 0; i < n; i++) {
        const rp_point *p = &r->pts[i];
        double valid = p->completed + p->errors;
        v[0][i] = valid > 0 ? (p->errors + p->s5xx) / valid : NAN;
    }
    if (make_series(x, v[0], n, 1, &s[0]))
        goto out;
    static const char *const l4[] = {"err", "5xx + transport errors / responses", NULL};
    chart_title(f, "Error rate per interval", l4);
    c = timeline_chart(f, r);
    c.yfmt = RP_FMT_PCT;
    top = fmax(max_of(s[0].y, s[0].n, 0), 0.001);
    for (size_t k = 0; k < r->n_objs; k++) {
        const rp_slo *sl = &r->objs[k].slo;
        if (sl->metric == RP_M_ERROR_RATE)
            top = fmax(top, sl->target);
        if (sl->metric == RP_M_AVAILABILITY)
            top = fmax(top, 1 - sl->objective);
    }
    rp_chart_fit_y(&c, 0, fmin(top * 1.1, 1));
    rp_chart_begin(&c, "error rate per interval");
    rp_chart_axes(&c);
    overlays(&c, r, 0);
    rp_chart_line(&c, s[0].x, s[0].y, s[0].n, "err");
    for (size_t k = 0; k < r->n_objs; k++) {
        const rp_slo *sl = &r->objs[k].slo;
        if (sl->metric == RP_M_ERROR_RATE)
            rp_chart_hline(&c, sl->target, th_label(&r->objs[k], lab, sizeof lab), "th");
        if (sl->metric == RP_M_AVAILABILITY) {
            snprintf(lab, sizeof lab, "budget of %.60s", sl->text);
            rp_chart_hline(&c, 1 - sl->objective, lab, "th2");
        }
    }
    rp_chart_end(&c);
    fprintf(f, "</div>\n");
    free_series(&s[0]);

    /* 5. burn rate of up to three budgeted objectives */
    size_t nb = 0;
    const char *leg[8] = {NULL};
    static const char *const bcls[] = {"burn0", "burn1", "burn2"};
    for (size_t k = 0; k < r->n_objs && nb < 3; k++) {
        const rp_obj *o = &r->objs[k];
        if (!o->have_budget || !isfinite(o->peak_burn))
            continue;
        double budget = o->slo.is_ratio ? 1 - o->slo.objective : o->slo.target;
        for (size_t i = 0; i < n; i++) {
            double bad = o->slo.is_ratio ? o->valid[i] - o->good[i] : o->good[i];
            v[nb][i] = o->valid[i] > 0 && o->in_scope[i] ? bad / o->valid[i] / budget : NAN;
        }
        if (make_series(x, v[nb], n, 1, &s[nb]))
            goto out;
        leg[2 * nb] = bcls[nb];
        leg[2 * nb + 1] = o->slo.name; /* from input: escaped when written */
        nb++;
    }
    if (nb) {
        fprintf(f, "<div class=\"chartbox\"><h3>Error-budget burn rate per interval"
                   "<span class=\"legend\">");
        for (size_t i = 0; i < nb; i++) {
            fprintf(f, "<span><i class=\"sw-%s\"></i>", leg[2 * i]);
            put(f, leg[2 * i + 1]);
            fprintf(f, "</span>");
        }
        fprintf(f, "</span></h3>\n");
        c = timeline_chart(f, r);
        c.yfmt = RP_FMT_X;
        top = 2;
        for (size_t i = 0; i < nb; i++)
            top = fmax(top, max_of(s[i].y, s[i].n, 0));
        rp_chart_fit_y(&c, 0, fmin(top * 1.1, 1e6));
        rp_chart_begin(&c, "error budget burn rate per interval");
        rp_chart_axes(&c);
        overlays(&c, r, 0);
        rp_chart_hline(&c, 1, "1× = spending exactly the budget", "th2");
        if (top >= 14.4)
            rp_chart_hline(&c, 14.4, "14.4× = page (SRE workbook)", "th");
        for (size_t i = 0; i < nb; i++)
            rp_chart_line(&c, s[i].x, s[i].y, s[i].n, bcls[i]);
        rp_chart_end(&c);
        fprintf(f, "</div>\n");
    }
    rc = 0;
out:
    for (int i = 0; i < 6; i++) {
        free(v[i]);
        free_series(&s[i]);
    }
    free(x);
    return rc;
}

/* ---- faults -------------------------------------------------------------- */

/* One row of a fault's window comparison; d marks "during" style. */
static void window_row(FILE *f, const char *name, const rp_window *w, const rp_window *base)
{
    char b[5][48];
    fprintf(f, "<tr><td>%s</td>", name);
    if (!w->intervals) {
        fprintf(f, "<td class=\"num muted\" colspan=\"5\">no interval</td></tr>\n");
        return;
    }
    double p50 = w->hist ? (double)sq_hist_percentile(w->hist, 50) / 1e3 : NAN;
    double p99 = w->hist ? (double)sq_hist_percentile(w->hist, 99) / 1e3 : NAN;
    double err = w->valid > 0 ? w->bad / w->valid : NAN;
    double thr = w->seconds > 0 ? w->completed / w->seconds : NAN;
    double bp99 = base && base->hist ? (double)sq_hist_percentile(base->hist, 99) / 1e3 : NAN;
    double berr = base && base->valid > 0 ? base->bad / base->valid : NAN;
    double bthr = base && base->seconds > 0 ? base->completed / base->seconds : NAN;
    char win[112];
    snprintf(win, sizeof win, "%s – %s", secs(w->start_s, b[3], sizeof b[3]),
             secs(w->end_s, b[4], sizeof b[4]));
    fprintf(f, "<td class=\"num\">%s</td><td class=\"num\">%s</td>", win, ms(p50, b[1], sizeof b[1]));
    /* worse than baseline by more than half again: red */
    fprintf(f, "<td class=\"num%s\">%s</td>",
            base && isfinite(bp99) && p99 > 1.5 * bp99 ? " st fail" : "", ms(p99, b[2], sizeof b[2]));
    fprintf(f, "<td class=\"num%s\">%s</td>",
            base && isfinite(err) && err > (isfinite(berr) ? berr : 0) + 0.01 ? " st fail" : "",
            pct(err, b[3], sizeof b[3]));
    if (isfinite(thr))
        fprintf(f, "<td class=\"num%s\">%.0f/s</td></tr>\n",
                base && isfinite(bthr) && thr < 0.9 * bthr ? " st fail" : "", thr);
    else
        fprintf(f, "<td class=\"num\">–</td></tr>\n");
}

/* The per-fault summary and, for each fault, baseline / during / recovery. */
static void faults(FILE *f, const rp_report *r)
{
    char b1[32], b2[32];
    fprintf(f, "<h2>Faults</h2>\n");
    if (!r->n_faults) {
        fprintf(f, "<p class=\"muted\">No fault was applied during this run (events.jsonl holds "
                   "no fault_applied event).</p>\n");
        return;
    }
    fprintf(f, "<table><thead><tr><th>Fault</th><th>Kind</th><th class=\"num\">Applied</th>"
               "<th class=\"num\">Reverted</th><th class=\"num\">Impact after</th><th "
               "class=\"num\">Recovered after</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < r->n_faults; i++) {
        const rp_fault *ft = &r->faults[i];
        fprintf(f, "<tr><td><b>");
        put(f, ft->name);
        fprintf(f, "</b></td><td>");
        put(f, ft->kind);
        fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>",
                secs(ft->applied_s, b1, sizeof b1),
                ft->reverted_ns ? secs(ft->reverted_s, b2, sizeof b2) : "never");
        if (ft->impact)
            fprintf(f, "<td class=\"num st fail\">%s</td>", secs(ft->tti_s, b1, sizeof b1));
        else
            fprintf(f, "<td class=\"num st ok\">no impact</td>");
        if (!ft->impact)
            fprintf(f, "<td class=\"num muted\">–</td>");
        else if (ft->recovered)
            fprintf(f, "<td class=\"num\">%s</td>", secs(ft->ttr_s, b1, sizeof b1));
        else
            fprintf(f, "<td class=\"num st fail\">not recovered</td>");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</tbody></table>\n<div class=\"faultgrid\">");
    for (size_t i = 0; i < r->n_faults; i++) {
        const rp_fault *ft = &r->faults[i];
        fprintf(f, "<div><h3>");
        put(f, ft->name);
        fprintf(f, "</h3><table class=\"small\"><thead><tr><th></th><th class=\"num\">Window</th>"
                   "<th class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">"
                   "Errors</th><th class=\"num\">Throughput</th></tr></thead><tbody>\n");
        window_row(f, "baseline", &ft->base, NULL);
        window_row(f, "during", &ft->during, &ft->base);
        window_row(f, "recovery", &ft->recov, &ft->base);
        fprintf(f, "</tbody></table></div>\n");
    }
    fprintf(f, "</div>\n<p class=\"note\">Baseline: up to 60 s before the fault (never "
               "overlapping an earlier one); recovery: as long after it ended (never reaching the "
               "next one). Red: p99 more than 1.5× the baseline's, errors 1 point above it, or "
               "throughput 10%% below it. Impact: the first interval in which an objective (or, "
               "without objectives, the baseline error rate +1 point or twice the baseline p99) "
               "was breached. Recovered: %d healthy intervals in a row after the fault ended."
               "</p>\n",
            RP_RECOVER_RUN);
}

/* ---- latency spectrum ---------------------------------------------------- */

/* Percentile spectrum points of h: x = log10(1/(1-q)), y = ms. Returns the
 * count written into x/y (cap entries). */
static size_t spectrum(const sq_hist *h, double *x, double *y, size_t cap, double xmax)
{
    uint64_t total = sq_hist_count(h), cum = 0, c;
    size_t cur = 0, m = 0;
    double last_x = 0, last_y = 0;
    int64_t lo, hi;
    if (!total || cap < 2)
        return 0;
    x[m] = 0;
    y[m++] = (double)sq_hist_min(h) / 1e3;
    while (m + 1 < cap && sq_hist_next_bucket(h, &cur, &lo, &hi, &c)) {
        cum += c;
        double q = (double)cum / (double)total;
        double xv = q >= 1 ? xmax : -log10(1 - q);
        if (xv > xmax)
            xv = xmax;
        double v = (double)(hi > sq_hist_max(h) ? sq_hist_max(h) : hi) / 1e3;
        last_x = xv, last_y = v;
        if (m > 1 && xv - x[m - 1] < 0.002) {
            y[m - 1] = v; /* same pixel as the last point: keep the higher value */
            continue;
        }
        x[m] = xv;
        y[m++] = v;
    }
    if (last_x > x[m - 1] && m < cap) {
        x[m] = last_x;
        y[m++] = last_y;
    }
    return m;
}

/* The HDR percentile spectrum with the latency objectives. */
static int spectrum_chart(FILE *f, const rp_report *r)
{
    char lab[128];
    fprintf(f, "<h2>Latency distribution</h2>\n");
    if (!r->corrected || sq_hist_count(r->corrected) == 0) {
        fprintf(f, "<p class=\"muted\">No response was recorded.</p>\n");
        return 0;
    }
    size_t cap = 4096;
    double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
    double *ux = malloc(cap * sizeof *ux), *uy = malloc(cap * sizeof *uy);
    if (!x || !y || !ux || !uy) {
        free(x), free(y), free(ux), free(uy);
        return -ENOMEM;
    }
    double xmax = ceil(log10((double)sq_hist_count(r->corrected)));
    if (xmax < 1)
        xmax = 1;
    if (xmax > 6)
        xmax = 6;
    size_t n = spectrum(r->corrected, x, y, cap, xmax);
    size_t un = r->uncorrected ? spectrum(r->uncorrected, ux, uy, cap, xmax) : 0;
    static const char *const l[] = {"corr", "corrected (from the intended send time)", "uncorr",
                                    "uncorrected (from the actual send)", NULL};
    chart_title(f, "Percentile spectrum (x: log scale of 1/(1 − percentile))", l);
    rp_chart c = {.f = f, .w = CHART_W, .h = 260, .ml = 62, .mr = 14, .mt = 14, .mb = 24,
                  .x0 = 0, .x1 = xmax, .xfmt = RP_FMT_PCTL, .yfmt = RP_FMT_MS};
    double top = max_of(y, n, 1);
    double p50 = (double)sq_hist_percentile(r->corrected, 50) / 1e3;
    c.log_y = p50 > 0 && top > 50 * p50; /* a long tail: log scale keeps the body visible */
    for (size_t k = 0; k < r->n_objs; k++) {
        rp_metric m = r->objs[k].slo.metric;
        if ((m == RP_M_PERCENTILE || m == RP_M_LATENCY || m == RP_M_MAX) && !r->objs[k].slo.route[0])
            top = fmax(top, r->objs[k].slo.target);
    }
    rp_chart_fit_y(&c, c.log_y ? min_pos(y, n, p50) : 0, top * 1.05);
    rp_chart_begin(&c, "latency by percentile, log scale of 1/(1-q)");
    rp_chart_axes(&c);
    for (size_t k = 0; k < r->n_objs; k++) {
        const rp_slo *s = &r->objs[k].slo;
        if (s->route[0])
            continue;
        double q = s->metric == RP_M_PERCENTILE ? s->percentile / 100
                   : s->metric == RP_M_LATENCY  ? s->objective
                   : s->metric == RP_M_MAX      ? 1
                                                : -1;
        if (q < 0)
            continue;
        rp_chart_hline(&c, s->target, th_label(&r->objs[k], lab, sizeof lab), "th");
        if (q < 1 && q > 0)
            rp_chart_vline(&c, fmin(-log10(1 - q), xmax), NULL, "th2");
    }
    rp_chart_line(&c, ux, uy, un, "uncorr");
    rp_chart_line(&c, x, y, n, "corr");
    rp_chart_end(&c);
    fprintf(f, "<p class=\"note\">Each point: the latency below which that share of all "
               "requests finished. The gap between the two lines is coordinated omission: the "
               "time requests waited for a turn to be sent.</p></div>\n");
    free(x), free(y), free(ux), free(uy);
    return 0;
}

/* ---- routes, status codes, errors ---------------------------------------- */

/* Compares routes by "sent", descending (qsort). */
static int by_sent(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "sent"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "sent"));
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The per-route table from routes.json. */
static int routes(FILE *f, const rp_report *r)
{
    const json_t *arr = json_object_get(r->routes, "routes");
    size_t n = json_array_size(arr), i;
    char b[5][48];
    fprintf(f, "<h2>Routes</h2>\n");
    if (!n) {
        fprintf(f, "<p class=\"muted\">routes.json is missing or empty.</p>\n");
        return 0;
    }
    json_t **v = malloc(n * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof *v, by_sent);
    fprintf(f, "<table><thead><tr><th>Route</th><th class=\"num\">Requests</th><th class=\"num\">"
               "Errors</th><th class=\"num\">5xx</th><th class=\"num\">Error rate</th><th "
               "class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">max</th></tr>"
               "</thead><tbody>\n");
    for (i = 0; i < n && i < MAX_ROUTES; i++) {
        const json_t *e = v[i];
        sq_err he;
        sq_hist *h = sq_hist_from_json(json_object_get(json_object_get(e, "latency_us"), "corrected"),
                                       &he);
        double fivexx = 0, completed = (double)json_integer_value(json_object_get(e, "completed"));
        double errors = (double)json_integer_value(json_object_get(e, "errors_total"));
        const char *key;
        json_t *c;
        json_object_foreach(json_object_get(e, "status"), key, c)
        {
            if (key[0] == '5')
                fivexx += (double)json_integer_value(c);
        }
        fprintf(f, "<tr><td><code>");
        put(f, json_string_value(json_object_get(e, "route")));
        fprintf(f, "</code></td><td class=\"num\">%s</td><td class=\"num\">%s</td><td "
                   "class=\"num\">%s</td><td class=\"num\">%s</td>",
                count((double)json_integer_value(json_object_get(e, "sent")), b[0], sizeof b[0]),
                count(errors, b[1], sizeof b[1]), count(fivexx, b[2], sizeof b[2]),
                pct(completed + errors > 0 ? (errors + fivexx) / (completed + errors) : NAN, b[3],
                    sizeof b[3]));
        double p50 = h && sq_hist_count(h) ? (double)sq_hist_percentile(h, 50) / 1e3 : NAN;
        double p99 = h && sq_hist_count(h) ? (double)sq_hist_percentile(h, 99) / 1e3 : NAN;
        double mx = h && sq_hist_count(h) ? (double)sq_hist_max(h) / 1e3 : NAN;
        fprintf(f, "<td class=\"num\">%s</td>", ms(p50, b[0], sizeof b[0]));
        fprintf(f, "<td class=\"num\">%s</td>", ms(p99, b[1], sizeof b[1]));
        fprintf(f, "<td class=\"num\">%s</td></tr>\n", ms(mx, b[2], sizeof b[2]));
        sq_hist_free(h);
    }
    fprintf(f, "</tbody></table>\n");
    if (n > MAX_ROUTES)
        fprintf(f, "<p class=\"note\">%zu more routes in routes.json.</p>\n", n - MAX_ROUTES);
    if (r->digits != 2)
        fprintf(f, "<p class=\"note\">Per-route percentiles come from histograms with 2 "
                   "significant digits (within 1%%).</p>\n");
    free(v);
    return 0;
}

/* One first/last-seen table. */
static void seen_table(FILE *f, const char *what, const rp_seen *tab, size_t n, double total,
                       int codes)
{
    char b[4][32];
    fprintf(f, "<div><h3>%s</h3>", what);
    if (!n) {
        fprintf(f, "<p class=\"muted\">none</p></div>\n");
        return;
    }
    fprintf(f, "<table><thead><tr><th>%s</th><th class=\"num\">Count</th><th class=\"num\">"
               "Share</th><th class=\"num\">First seen</th><th class=\"num\">Last seen</th>%s"
               "</tr></thead><tbody>",
            codes ? "Status" : "Class", codes ? "" : "<th>First message</th>");
    for (size_t i = 0; i < n; i++) {
        if (codes && tab[i].key[0] >= '1' && tab[i].key[0] <= '5')
            fprintf(f, "<tr><td class=\"code%c\"><b>", tab[i].key[0]);
        else
            fprintf(f, "<tr><td><b>");
        put(f, tab[i].key);
        fprintf(f, "</b></td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">"
                   "%s</td><td class=\"num\">%s</td>",
                count((double)tab[i].count, b[0], sizeof b[0]),
                pct(total > 0 ? (double)tab[i].count / total : NAN, b[1], sizeof b[1]),
                secs(tab[i].first_s, b[2], sizeof b[2]), secs(tab[i].last_s, b[3], sizeof b[3]));
        if (!codes) {
            fprintf(f, "<td class=\"note\">");
            put(f, tab[i].sample);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>");
    }
    fprintf(f, "</tbody></table></div>\n");
}

/* Status codes and error classes side by side. */
static void codes(FILE *f, const rp_report *r)
{
    fprintf(f, "<h2>Status codes and errors</h2>\n<div class=\"tiles\" style=\"grid-template-"
               "columns:repeat(auto-fit,minmax(320px,1fr));gap:28px;margin:0\">");
    seen_table(f, "Responses by status", r->codes, r->n_codes, r->tot_completed, 1);
    seen_table(f, "Transport errors by class", r->classes, r->n_classes,
               r->tot_errors + r->tot_cancelled, 0);
    fprintf(f, "</div>\n");
}

/* ---- methodology --------------------------------------------------------- */

/* How the numbers were made, and how far to trust them. */
static void methodology(FILE *f, const rp_report *r)
{
    char b1[32], b2[32];
    double late_share = r->tot_sent > 0 ? r->tot_late / r->tot_sent : 0;
    uint64_t clamped = r->corrected ? sq_hist_clamped(r->corrected) : 0;
    const json_t *load = json_object_get(r->run, "load");
    const char *model = json_string_value(json_object_get(load, "model"));
    fprintf(f, "<h2>Methodology</h2>\n<div class=\"method\"><ul>\n");
    if (model && strcmp(model, "closed") == 0)
        fprintf(f, "<li><b>Closed model</b>: each connection sent its next request when the "
                   "previous one answered, so the target set the pace; latency is measured from "
                   "the actual send.</li>\n");
    else
        fprintf(f, "<li><b>Open model</b>: requests were sent on a fixed schedule whether or not "
                   "earlier ones had answered. <b>Latency is measured from each request's "
                   "intended send time</b> (corrected for coordinated omission); the uncorrected "
                   "latency, from the actual send, is shown beside it.</li>\n");
    fprintf(f, "<li><b>Late sends</b>: %s of %s requests (%s) started after their intended time; "
               "their wait is included in the corrected latency.%s</li>\n",
            count(r->tot_late, b1, sizeof b1), count(r->tot_sent, b2, sizeof b2),
            pct(late_share, (char[32]){0}, 32),
            late_share > 0.05 ? " <b>More than 5% were late: the load generator or its network "
                                "may have been the bottleneck.</b>"
                              : "");
    fprintf(f, "<li><b>Histograms</b> keep %d significant digits (any value within %g%%), and "
               "are stored losslessly per interval, so percentiles over any window or across "
               "shards are exact merges, never averages.",
            r->digits, 100.0 / pow(10, r->digits));
    if (clamped)
        fprintf(f, " %llu values exceeded the histogram's range and were clamped to it.",
                (unsigned long long)clamped);
    fprintf(f, "</li>\n<li><b>Errors</b>: the error rate counts 5xx responses and transport "
               "errors (connect, timeout, reset, TLS, DNS) over responses plus errors. Requests "
               "still in flight when the run stopped (%s) are left out.</li>\n",
            count(r->tot_cancelled, b1, sizeof b1));
    fprintf(f, "<li><b>Intervals</b>: %zu of %gs. Objectives, burn rates and fault windows are "
               "computed from the run directory alone (series.jsonl, routes.json, events.jsonl), "
               "so <code>squall report</code> gives the same answer later, elsewhere, or on a "
               "merged or crashed run.</li>\n",
            r->n, r->interval_s);
    fprintf(f, "<li><b>Shards</b>: %d%s.</li>\n", r->shards,
            r->shards > 1 ? " load generators, merged by UTC time" : " load generator");
    fprintf(f, "</ul></div>\n");
}

/* Writes the whole page to f. */
static int page(FILE *f, const rp_report *r)
{
    int rc;
    char when[40];
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
               "<title>squall · ");
    put(f, r->run_id);
    fprintf(f, " · %s</title>\n<style>%s</style></head><body>\n", r->verdict, CSS);
    banner(f, r);
    fprintf(f, "<main>\n");
    tiles(f, r);
    scorecard(f, r);
    if ((rc = timeline(f, r)))
        return rc;
    faults(f, r);
    if ((rc = spectrum_chart(f, r)) || (rc = routes(f, r)))
        return rc;
    codes(f, r);
    methodology(f, r);
    fprintf(f, "</main>\n<footer>Generated by squall %s at %s UTC from <span class=\"mono\">",
            SQUALL_VERSION, sq_utc_format(sq_utc_ns(), when, sizeof when));
    put(f, r->dir);
    fprintf(f, "</span>. Machine-readable: summary.json (schema %s).</footer>\n</body></html>\n",
            RP_SUMMARY_SCHEMA);
    return 0;
}

/* Writes report.html; see reports.h. */
int rp_report_write_html(const rp_report *r, const char *path, sq_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return sq_errf(err, -ENOMEM, "out of memory writing %s", path);
    int rc = page(f, r);
    if (fclose(f) != 0 && !rc)
        rc = -ENOMEM;
    if (rc) {
        free(buf);
        return sq_errf(err, rc, "out of memory writing %s", path);
    }
    rc = rp_write_file(path, buf, len, err);
    free(buf);
    return rc;
}
