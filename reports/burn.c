/* burn.c — error-budget burn rates over sliding windows.
 *
 * The burn rate of a window is its bad fraction divided by the budget
 * fraction (1 - objective): 1 spends the budget exactly as fast as the
 * objective allows, 14.4 spends 2% of a 30-day budget in one hour (the SRE
 * workbook's paging threshold). Sums are running prefix sums, so every
 * window costs O(1).
 */
#include <stdlib.h>

#include "reports/reports.h"

/* Burn rate of the window [from, to) given prefix sums; -1 when the window
 * holds no valid event. */
static double window_burn(const double *cbad, const double *cvalid, size_t from, size_t to,
                          double budget)
{
    double valid = cvalid[to] - cvalid[from];
    if (valid <= 0)
        return -1;
    return (cbad[to] - cbad[from]) / valid / budget;
}

/* Fills prefix sums cb/cv (n + 1 entries each) of bad/valid. */
static void prefix(const double *bad, const double *valid, size_t n, double *cb, double *cv)
{
    cb[0] = cv[0] = 0;
    for (size_t i = 0; i < n; i++) {
        cb[i + 1] = cb[i] + bad[i];
        cv[i + 1] = cv[i] + valid[i];
    }
}

/* Peak burn over every window of win intervals; see reports.h. */
double rp_burn_peak(const double *bad, const double *valid, size_t n, size_t win,
                    double objective, size_t *at)
{
    double budget = 1.0 - objective;
    double peak = 0;
    if (at)
        *at = 0;
    if (n == 0 || budget <= 0)
        return 0;
    if (win == 0)
        win = 1;
    if (win > n)
        win = n;
    double *cb = malloc((n + 1) * sizeof *cb), *cv = malloc((n + 1) * sizeof *cv);
    if (!cb || !cv)
        goto out;
    prefix(bad, valid, n, cb, cv);
    for (size_t i = 0; i + win <= n; i++) {
        double b = window_burn(cb, cv, i, i + win, budget);
        if (b > peak) {
            peak = b;
            if (at)
                *at = i;
        }
    }
out:
    free(cb);
    free(cv);
    return peak;
}

/* Multiwindow alert; see reports.h. */
int rp_burn_alert(const double *bad, const double *valid, size_t n, size_t long_win,
                  size_t short_win, double objective, double factor)
{
    double budget = 1.0 - objective;
    int fired = 0;
    if (n < long_win || long_win == 0 || short_win == 0 || short_win > long_win || budget <= 0)
        return 0;
    double *cb = malloc((n + 1) * sizeof *cb), *cv = malloc((n + 1) * sizeof *cv);
    if (!cb || !cv)
        goto out;
    prefix(bad, valid, n, cb, cv);
    for (size_t end = short_win; end <= n && !fired; end++) {
        double lb = window_burn(cb, cv, end > long_win ? end - long_win : 0, end, budget);
        double sb = window_burn(cb, cv, end - short_win, end, budget);
        fired = lb >= factor * (1 - 1e-9) && sb >= factor * (1 - 1e-9);
    }
out:
    free(cb);
    free(cv);
    return fired;
}
