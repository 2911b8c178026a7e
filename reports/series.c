/* series.c — streaming reader of series.jsonl. */
#include "series.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the file line by line; see series.h. */
int rp_series_each(const char *dir, int (*fn)(json_t *line, size_t lineno, void *ctx), void *ctx,
                   sq_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/series.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return sq_errf(err, -errno, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lineno = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        int complete = line[n - 1] == '\n';
        json_error_t jerr;
        json_t *obj = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            if (!complete) {
                sq_warn("%s:%zu: ignoring a truncated last line", path, lineno);
                break;
            }
            rc = obj ? sq_errf(err, -EINVAL, "%s:%zu:1: expected a JSON object", path, lineno)
                     : sq_errf(err, -EINVAL, "%s:%zu:%d: %s", path, lineno, jerr.column, jerr.text);
            break;
        }
        rc = fn(obj, lineno, ctx);
        json_decref(obj);
    }
    free(line);
    fclose(f);
    return rc;
}
