/* reports.h — the public header of squall's reporter: everything here works
 * from a run directory alone (DESIGN.md), so it serves finished, merged and
 * partial (crashed) runs alike. */
#ifndef RP_REPORTS_H
#define RP_REPORTS_H

#include <jansson.h>
#include <stdio.h>

#include "core/core.h"

#define RP_SUMMARY_SCHEMA "squall.summary/1"

/* Reads run.json and series.jsonl in run_dir and builds summary.json version
 * 1 (every key of DESIGN.md's summary, histograms merged exactly). Returns 0
 * and a new reference owned by the caller in *out, or a negative errno with
 * FILE:LINE: message in err for unreadable or malformed files. */
int rp_summary_build(const char *run_dir, json_t **out, sq_err *err);

/* Prints the terminal summary of a summary.json document: the headline
 * numbers, one line per objective with ✓/✗. */
void rp_summary_print(const json_t *summary, FILE *out);

/* The exit code a summary implies: 0 pass or none, 1 fail, 4 aborted. */
int rp_summary_exit_code(const json_t *summary);

#endif
