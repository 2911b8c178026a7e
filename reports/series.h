/* series.h — reading series.jsonl (private to reports/). */
#ifndef RP_SERIES_H
#define RP_SERIES_H

#include <jansson.h>

#include "core/core.h"

/* Calls fn(line_object, line_number, ctx) for each line of dir/series.jsonl.
 * A line that is not a JSON object is an error "PATH:LINE:COL: ..."; a
 * truncated last line (a killed writer) is skipped with a warning. A
 * non-zero return from fn stops reading and is returned. A missing file is
 * -ENOENT with a message. */
int rp_series_each(const char *dir, int (*fn)(json_t *line, size_t lineno, void *ctx), void *ctx,
                   sq_err *err);

#endif
