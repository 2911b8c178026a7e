/* svg.c — the chart primitives behind report.html (see svg.h). */
#include "reports/svg.h"

#include <math.h>
#include <string.h>

#include "reports/reports.h"

/* Data x -> viewBox x. */
static double px(const rp_chart *c, double x)
{
    double span = c->x1 - c->x0;
    return c->ml + (span > 0 ? (x - c->x0) / span : 0) * (c->w - c->ml - c->mr);
}

/* Data y -> viewBox y (log10 when log_y; non-positive values sit on the
 * floor). */
static double py(const rp_chart *c, double y)
{
    if (c->log_y)
        y = y > 0 ? log10(y) : c->y0;
    double span = c->y1 - c->y0;
    double f = span > 0 ? (y - c->y0) / span : 0;
    if (f < 0)
        f = 0;
    if (f > 1.04)
        f = 1.04; /* beyond the top: pinned just above it */
    return c->h - c->mb - f * (c->h - c->mt - c->mb);
}

/* Writes a label escaped. */
static void esc(FILE *f, const char *s)
{
    rp_html_escape(f, s, strlen(s));
}

/* Formats a value for tick labels and legends. */
char *rp_fmt_value(rp_fmt fmt, double v, char *buf, size_t len)
{
    switch (fmt) {
    case RP_FMT_MS:
        if (v >= 1000)
            snprintf(buf, len, "%gs", round(v / 100) / 10);
        else if (v >= 1 || v == 0)
            snprintf(buf, len, "%gms", round(v * 10) / 10);
        else
            snprintf(buf, len, "%gµs", round(v * 1000));
        break;
    case RP_FMT_PCT:
        snprintf(buf, len, "%g%%", round(v * 1e6) / 1e4);
        break;
    case RP_FMT_X:
        snprintf(buf, len, "%g×", round(v * 10) / 10);
        break;
    case RP_FMT_TIME: {
        long s = lround(v);
        if (s >= 3600)
            snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        else
            snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
        break;
    }
    case RP_FMT_PCTL: {
        double q = 1 - pow(10, -v);
        snprintf(buf, len, "%g%%", round(q * 1e6) / 1e4);
        break;
    }
    default:
        if (fabs(v) >= 1e6)
            snprintf(buf, len, "%gM", round(v / 1e5) / 10);
        else if (fabs(v) >= 1e3)
            snprintf(buf, len, "%gk", round(v / 100) / 10);
        else
            snprintf(buf, len, "%g", round(v * 100) / 100);
    }
    return buf;
}

/* A "nice" tick step (1, 2, 5 x 10^k; times use minutes and hours) for
 * range split in about n ticks. */
static double nice_step(double range, int n, int is_time)
{
    if (range <= 0)
        return 1;
    double raw = range / n;
    if (is_time) {
        static const double t[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                                   14400, 21600, 43200, 86400};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
            if (t[i] >= raw)
                return t[i];
        return 86400;
    }
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Opens the chart. */
void rp_chart_begin(rp_chart *c, const char *label)
{
    fprintf(c->f, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", c->w,
            c->h);
    esc(c->f, label);
    fprintf(c->f, "\">\n");
}

/* Fits the y range to [lo, hi] with nice bounds. */
void rp_chart_fit_y(rp_chart *c, double lo, double hi)
{
    if (!isfinite(lo))
        lo = 0;
    if (!isfinite(hi) || hi <= lo)
        hi = lo + 1;
    if (c->log_y) {
        if (lo <= 0)
            lo = hi / 1000;
        c->y0 = floor(log10(lo));
        c->y1 = ceil(log10(hi));
        if (c->y1 <= c->y0)
            c->y1 = c->y0 + 1;
        return;
    }
    double step = nice_step(hi - lo, 4, 0);
    c->y0 = floor(lo / step) * step;
    c->y1 = ceil(hi / step) * step;
    if (c->y1 <= c->y0)
        c->y1 = c->y0 + step;
}

/* Grid and tick labels. */
void rp_chart_axes(rp_chart *c)
{
    char buf[48];
    FILE *f = c->f;
    fprintf(f, "<g class=\"grid\">");
    if (c->log_y) {
        for (double e = c->y0; e <= c->y1 + 1e-9; e += 1) {
            double y = py(c, pow(10, e));
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", c->ml,
                    c->w - c->mr, y, y);
            fprintf(f, "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%s</text>", c->ml - 6, y + 4,
                    rp_fmt_value(c->yfmt, pow(10, e), buf, sizeof buf));
        }
    } else {
        double step = nice_step(c->y1 - c->y0, 4, 0);
        for (double v = c->y0; v <= c->y1 + step * 1e-6; v += step) {
            double y = py(c, v);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", c->ml,
                    c->w - c->mr, y, y);
            fprintf(f, "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%s</text>", c->ml - 6, y + 4,
                    rp_fmt_value(c->yfmt, fabs(v) < step * 1e-9 ? 0 : v, buf, sizeof buf));
        }
    }
    if (c->xfmt == RP_FMT_PCTL) {
        for (double v = 0; v <= c->x1 + 1e-9; v += 1) {
            double x = px(c, v);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, c->mt,
                    c->h - c->mb);
            fprintf(f, "<text class=\"xl%s\" x=\"%.1f\" y=\"%.1f\">%s</text>",
                    x > c->w - c->mr - 30 ? " xe" : "", x, c->h - c->mb + 15,
                    rp_fmt_value(RP_FMT_PCTL, v, buf, sizeof buf));
        }
    } else {
        double step = nice_step(c->x1 - c->x0, 10, c->xfmt == RP_FMT_TIME);
        for (double v = ceil(c->x0 / step) * step; v <= c->x1 + 1e-9; v += step) {
            double x = px(c, v);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, c->mt,
                    c->h - c->mb);
            fprintf(f, "<text class=\"xl%s\" x=\"%.1f\" y=\"%.1f\">%s</text>",
                    x > c->w - c->mr - 20 ? " xe" : "", x, c->h - c->mb + 15,
                    rp_fmt_value(c->xfmt, v, buf, sizeof buf));
        }
    }
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", c->ml,
            c->w - c->mr, c->h - c->mb, c->h - c->mb);
    fprintf(f, "</g>\n");
}

/* Shaded band. */
void rp_chart_band(rp_chart *c, double xa, double xb, const char *label)
{
    double a = px(c, xa < c->x0 ? c->x0 : xa), b = px(c, xb > c->x1 ? c->x1 : xb);
    if (b < a + 1.5)
        b = a + 1.5;
    fprintf(c->f, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", a,
            c->mt, b - a, c->h - c->mt - c->mb);
    if (label && *label) {
        fprintf(c->f, "<text class=\"bandl\" x=\"%.1f\" y=\"%.1f\">", a + 3, c->mt + 11);
        esc(c->f, label);
        fprintf(c->f, "</text>");
    }
    fputc('\n', c->f);
}

/* Dashed vertical marker. */
void rp_chart_marker(rp_chart *c, double x, const char *label)
{
    double a = px(c, x);
    fprintf(c->f, "<line class=\"marker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", a, a,
            c->mt, c->h - c->mb);
    if (label && *label) {
        fprintf(c->f, "<text class=\"markl\" x=\"%.1f\" y=\"%.1f\">", a + 3, c->h - c->mb - 4);
        esc(c->f, label);
        fprintf(c->f, "</text>");
    }
    fputc('\n', c->f);
}

/* Polyline with breaks at NaN. */
void rp_chart_line(rp_chart *c, const double *x, const double *y, size_t n, const char *cls)
{
    int pen = 0;
    fprintf(c->f, "<path class=\"%s\" d=\"", cls);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(x[i])) {
            pen = 0;
            continue;
        }
        fprintf(c->f, "%c%.1f %.1f", pen ? 'L' : 'M', px(c, x[i]), py(c, y[i]));
        pen = 1;
    }
    fprintf(c->f, "\"/>\n");
}

/* Area between base and y. */
void rp_chart_area(rp_chart *c, const double *x, const double *y, const double *base, size_t n,
                   const char *cls)
{
    if (n == 0)
        return;
    fprintf(c->f, "<path class=\"%s\" d=\"", cls);
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(y[i]) ? y[i] : 0;
        double b = base && isfinite(base[i]) ? base[i] : 0;
        fprintf(c->f, "%c%.1f %.1f", i ? 'L' : 'M', px(c, x[i]), py(c, v + b));
    }
    for (size_t i = n; i-- > 0;) {
        double b = base && isfinite(base[i]) ? base[i] : 0;
        fprintf(c->f, "L%.1f %.1f", px(c, x[i]), base ? py(c, b) : c->h - c->mb);
    }
    fprintf(c->f, "Z\"/>\n");
}

/* Horizontal threshold. */
void rp_chart_hline(rp_chart *c, double y, const char *label, const char *cls)
{
    double v = py(c, y);
    fprintf(c->f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", cls, c->ml,
            c->w - c->mr, v, v);
    if (label && *label) {
        int near = 0;
        for (int i = 0; i < c->n_lab; i++)
            near += fabs(c->lab_y[i] - v) < 12;
        if (c->n_lab < (int)(sizeof c->lab_y / sizeof c->lab_y[0]))
            c->lab_y[c->n_lab++] = v;
        fprintf(c->f, "<text class=\"thl\" x=\"%.1f\" y=\"%.1f\">", c->w - c->mr - 4 - near * 270.0,
                v - 4);
        esc(c->f, label);
        fprintf(c->f, "</text>");
    }
    fputc('\n', c->f);
}

/* Vertical threshold. */
void rp_chart_vline(rp_chart *c, double x, const char *label, const char *cls)
{
    double v = px(c, x);
    fprintf(c->f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", cls, v, v,
            c->mt, c->h - c->mb);
    if (label && *label) {
        fprintf(c->f, "<text class=\"thl\" x=\"%.1f\" y=\"%.1f\">", v - 4, c->mt + 11);
        esc(c->f, label);
        fprintf(c->f, "</text>");
    }
    fputc('\n', c->f);
}

/* Closes the chart. */
void rp_chart_end(rp_chart *c)
{
    fprintf(c->f, "</svg>\n");
}

/* Bucketed downsampling; see svg.h. */
size_t rp_downsample(const double *x, const double *y, size_t n, size_t max_out, int use_max,
                     double *ox, double *oy)
{
    if (max_out == 0)
        return 0;
    size_t per = (n + max_out - 1) / max_out;
    if (per < 1)
        per = 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i += per) {
        size_t end = i + per < n ? i + per : n;
        double sx = 0, sy = 0, best = NAN;
        size_t cy = 0;
        for (size_t j = i; j < end; j++) {
            sx += x[j];
            if (!isfinite(y[j]))
                continue;
            sy += y[j];
            cy++;
            best = isnan(best) || y[j] > best ? y[j] : best;
        }
        ox[m] = sx / (double)(end - i);
        oy[m] = cy == 0 ? NAN : use_max ? best : sy / (double)cy;
        m++;
    }
    return m;
}
