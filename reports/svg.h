/* svg.h — inline SVG charts, written by hand (private to reports/).
 *
 * A chart maps data (x: seconds or any linear quantity, y: linear or log10)
 * into a viewBox of w x h with margins; every drawing call writes SVG
 * elements to the chart's FILE. Labels pass through rp_html_escape. Lines
 * break at NaN values. Coordinates are written with one decimal, which keeps
 * a 1-hour report small.
 */
#ifndef RP_SVG_H
#define RP_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef enum rp_fmt {
    RP_FMT_NUM,  /* 1.2k */
    RP_FMT_MS,   /* 250ms, 1.5s */
    RP_FMT_PCT,  /* fraction shown as 0.5% */
    RP_FMT_X,    /* burn rate 14x */
    RP_FMT_TIME, /* seconds as m:ss / h:mm:ss */
    RP_FMT_PCTL, /* log10(1/(1-q)) shown as 99.9% */
} rp_fmt;

typedef struct rp_chart {
    FILE *f;
    double w, h;             /* viewBox size */
    double ml, mr, mt, mb;   /* margins */
    double x0, x1, y0, y1;   /* data ranges (y in log10 when log_y) */
    int log_y;
    rp_fmt xfmt, yfmt;
    double lab_y[32];        /* threshold labels placed so far (to avoid overlap) */
    int n_lab;
} rp_chart;

/* Opens <svg> with a viewBox, role=img and an escaped aria-label. */
void rp_chart_begin(rp_chart *c, const char *label);

/* Sets the y range from data min/max (log: from positive values), padded
 * to nice round ticks; y_floor/y_ceil force bounds when finite. */
void rp_chart_fit_y(rp_chart *c, double lo, double hi);

/* Grid lines and tick labels on both axes. */
void rp_chart_axes(rp_chart *c);

/* A shaded band from xa to xb with an optional label at the top. */
void rp_chart_band(rp_chart *c, double xa, double xb, const char *label);

/* A vertical dashed marker at x with an optional label. */
void rp_chart_marker(rp_chart *c, double x, const char *label);

/* A polyline through (x[i], y[i]); NaN y breaks it. cls is a CSS class. */
void rp_chart_line(rp_chart *c, const double *x, const double *y, size_t n, const char *cls);

/* A filled area between base[i] (NULL = the x axis) and y[i]. */
void rp_chart_area(rp_chart *c, const double *x, const double *y, const double *base, size_t n,
                   const char *cls);

/* A horizontal threshold line at data value y with a label at the right. */
void rp_chart_hline(rp_chart *c, double y, const char *label, const char *cls);

/* A vertical line at data value x with a label (for the spectrum). */
void rp_chart_vline(rp_chart *c, double x, const char *label, const char *cls);

/* Closes </svg>. */
void rp_chart_end(rp_chart *c);

/* Formats v per fmt into buf; returns buf. */
char *rp_fmt_value(rp_fmt fmt, double v, char *buf, size_t len);

/* Reduces n points to at most max_out by buckets of equal size: each bucket
 * keeps its mean x and the max (use_max) or mean of y, NaNs ignored. Writes
 * into ox/oy (max_out entries each) and returns the count. */
size_t rp_downsample(const double *x, const double *y, size_t n, size_t max_out, int use_max,
                     double *ox, double *oy);

#endif
