/* ledger.h — the run directory's ledger.jsonl as the load generator writes
 * it (private to loadgen/; the CLI includes it to parse --ledger).
 *
 * For every successful write (POST, PUT or PATCH answered 2xx) one
 * "created" line names the object the response created, so that `squall
 * cleanup` can delete exactly the test data:
 *   {"type":"created","entry":"S-W-N","run_id":..,"clone":..,"method":..,
 *    "url":..,"status":..,"location":..|null,"id":..|null,"utc_ns":..}
 * plus "missing": why, when the object could not be identified. Each line
 * is one write() as soon as the response is in; the engine fsyncs the file
 * at least every 100 ms while it grows.
 */
#ifndef LG_LEDGER_H
#define LG_LEDGER_H

#include <stdint.h>

#include "core/core.h"
#include "loadgen/h1parse.h"

enum lg_ledger_kind {
    LG_LEDGER_LOCATION = 0, /* the Location header (default) */
    LG_LEDGER_JSON,         /* json:/pointer into the response body */
    LG_LEDGER_HEADER,       /* header:NAME */
    LG_LEDGER_OFF,          /* --ledger off: nothing is recorded */
};

typedef struct lg_ledger_spec {
    enum lg_ledger_kind kind;
    char name[256]; /* the JSON pointer or the header name */
} lg_ledger_spec;

#define LG_LEDGER_VALUE_MAX 4096  /* header value kept */
#define LG_LEDGER_BODY_MAX 65536  /* body bytes kept for json:/pointer */

/* Parses "location", "json:/ptr", "header:NAME" or "off". Returns 0 or
 * -EINVAL with a message. */
int lg_ledger_spec_parse(const char *s, lg_ledger_spec *spec, sq_err *err);

/* The spec as text ("location", "json:/id", ...) into buf. Returns buf. */
const char *lg_ledger_spec_text(const lg_ledger_spec *spec, char *buf, size_t len);

/* 1 when method creates or changes data (POST, PUT, PATCH). */
int lg_ledger_is_write(const char *method);

/* The header a response capture must keep for spec ("Location" or the
 * named header), or NULL for json:. */
const char *lg_ledger_capture_header(const lg_ledger_spec *spec);

/* What the ledger records of one created object. */
typedef struct lg_ledger_item {
    const char *entry;  /* unique in the run directory */
    const char *run_id;
    uint32_t clone;
    const char *method;
    const char *url;    /* the absolute request URL */
    long status;
    int cut;            /* the response was cut short after its headers */
} lg_ledger_item;

/* Builds the "created" line for item from the response capture c, as a new
 * malloc'd NUL-terminated string (*line, without the newline), or sets
 * *line to NULL when the response did not create anything. A creation is
 * a 201 (any method; a PUT without Location created its own URL), or a
 * POST answered 2xx that names its object (Location, or the json:/header:
 * id); other writes (a PUT or PATCH answered 200/204, a POST answered 200
 * with nothing to identify, e.g. a search) are updates or reads, never
 * recorded, so cleanup never deletes what existed before the run. A 201
 * whose object cannot be identified is still recorded, with "id": null and
 * "missing". Returns 0 or -ENOMEM. */
int lg_ledger_line(const lg_ledger_spec *spec, const lg_ledger_item *item, const lg_h1_capture *c,
                   char **line);

#endif
