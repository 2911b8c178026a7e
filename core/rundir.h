/* rundir.h — the run directory writer (DESIGN.md, "the one contract between
 * components").
 *
 * Each component appends its own JSON Lines files; every line goes out in a
 * single write() to an O_APPEND descriptor, so a killed process leaves whole
 * lines. Whole-file documents (run.json, routes.json, summary.json) are
 * written to a temporary file and renamed into place.
 */
#ifndef SQ_RUNDIR_H
#define SQ_RUNDIR_H

#include <jansson.h>

#include "err.h"

#define SQ_RUN_SCHEMA "squall.run/1"

typedef struct sq_rundir sq_rundir;

/* Opens (creating, with parents) the run directory at path. Returns 0 and a
 * new sq_rundir owned by the caller (free with sq_rundir_free), or a negative
 * errno with the message in err. */
int sq_rundir_open(const char *path, sq_rundir **out, sq_err *err);

/* Opens the run directory at path, which must exist (nothing is created:
 * for readers and for appending to a finished run, e.g. cleanup). Returns 0
 * and a new sq_rundir owned by the caller, or -ENOENT (no such directory),
 * -ENOTDIR (not a directory) or another negative errno, with the message in
 * err. */
int sq_rundir_open_existing(const char *path, sq_rundir **out, sq_err *err);

/* Closes every file and frees rd (NULL is fine). */
void sq_rundir_free(sq_rundir *rd);

/* The directory's path (owned by rd). */
const char *sq_rundir_path(const sq_rundir *rd);

/* Appends obj as one compact JSON line to the file `name` inside the run
 * directory (e.g. "series.jsonl"), in one write(). Thread-safe per call.
 * Does not steal the reference. Returns 0 or a negative errno. */
int sq_rundir_append(sq_rundir *rd, const char *name, const json_t *obj, sq_err *err);

/* Appends an already-encoded line (without the trailing newline; one is
 * added) in one write(). */
int sq_rundir_append_raw(sq_rundir *rd, const char *name, const char *line, size_t len,
                         sq_err *err);

/* fsyncs the file `name` if it is open. */
int sq_rundir_sync(sq_rundir *rd, const char *name, sq_err *err);

/* Writes obj (pretty-printed) as the whole file `name`, atomically
 * (temporary file, fsync, rename). Does not steal the reference. */
int sq_rundir_write_json(sq_rundir *rd, const char *name, const json_t *obj, sq_err *err);

/* Reads the whole JSON document dir/name into a new reference owned by the
 * caller; errors name the file, line and column. */
int sq_json_load_file(const char *dir, const char *name, json_t **out, sq_err *err);

/* Generates a run id: "YYYYMMDD-HHMMSS-xxxxxx" (UTC time + 6 random hex
 * digits) into buf (at least 32 bytes). Returns buf. */
char *sq_run_id_generate(char *buf, unsigned long len);

/* Checks that a user-given tag is usable as a run id (1..64 chars of
 * [A-Za-z0-9._-]); returns 0 or -EINVAL with a message. */
int sq_run_id_validate(const char *id, sq_err *err);

#endif
