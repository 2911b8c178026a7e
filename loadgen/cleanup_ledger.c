/* cleanup_ledger.c — reading RUN_DIR/ledger.jsonl for cleanup: one line at
 * a time (a ledger may hold millions of entries), parsed into records; an
 * index of entry names with their latest outcome (the first pass); and the
 * second pass that yields the entries still to delete.
 *
 * Line rules (docs/cleanup.md): blank lines and unknown types are skipped; a
 * line that is the start of a JSON object cut short (a writer killed
 * mid-line; core/rundir.c then starts the next line after it) is a warning;
 * so is a last line without '\n' that is not whole; anything else that is
 * not a ledger line is an error naming FILE:LINE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "loadgen/cleanup_int.h"

#define LINE_MAX_BYTES (1u << 20) /* a longer line is not a ledger line */

/* The name of an outcome as written in the ledger. Static. */
const char *lg_outcome_name(enum lg_outcome o)
{
    switch (o) {
    case LG_OUTCOME_DELETED: return "deleted";
    case LG_OUTCOME_GONE: return "gone";
    case LG_OUTCOME_FAILED: return "failed";
    default: return "none";
    }
}

/* Parses an outcome name; unknown names are LG_OUTCOME_NONE (not done). */
static enum lg_outcome outcome_parse(const char *s)
{
    if (!s)
        return LG_OUTCOME_NONE;
    if (strcmp(s, "deleted") == 0)
        return LG_OUTCOME_DELETED;
    if (strcmp(s, "gone") == 0)
        return LG_OUTCOME_GONE;
    if (strcmp(s, "failed") == 0)
        return LG_OUTCOME_FAILED;
    return LG_OUTCOME_NONE;
}

/* Releases rec's document and zeroes it. */
void lg_cledger_rec_clear(lg_cledger_rec *rec)
{
    json_decref(rec->doc);
    memset(rec, 0, sizeof *rec);
}

/* Reads the optional string key of obj into *out (NULL when absent or
 * null). Returns 0, or -EBADMSG with a message when it has another type. */
static int opt_string(json_t *obj, const char *key, const char **out, sq_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return sq_errf(err, -EBADMSG, "\"%s\" must be a string or null", key);
    *out = json_string_value(v);
    return 0;
}

/* Reads a created line's fields from rec->doc. */
static int parse_created(lg_cledger_rec *rec, sq_err *err)
{
    json_t *doc = rec->doc, *id;
    int rc;
    json_t *entry = json_object_get(doc, "entry");
    if (!json_is_string(entry) || !*json_string_value(entry))
        return sq_errf(err, -EBADMSG, "a created line needs \"entry\" (a non-empty string "
                                      "naming the object within the run)");
    rec->entry = json_string_value(entry);
    if ((rc = opt_string(doc, "location", &rec->location, err)) < 0)
        return rc;
    id = json_object_get(doc, "id");
    if (json_is_integer(id)) {
        snprintf(rec->id_buf, sizeof rec->id_buf, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
        rec->id = rec->id_buf;
    } else if ((rc = opt_string(doc, "id", &rec->id, err)) < 0) {
        return sq_errf(err, -EBADMSG, "\"id\" must be a string, an integer or null");
    }
    /* informative fields: a wrong type is ignored rather than fatal */
    json_t *v;
    if (json_is_string(v = json_object_get(doc, "missing")))
        rec->missing = json_string_value(v);
    if (json_is_string(v = json_object_get(doc, "method")))
        rec->method = json_string_value(v);
    if (json_is_string(v = json_object_get(doc, "url")))
        rec->url = json_string_value(v);
    return 0;
}

/* Parses one ledger line into rec (see cleanup_int.h). */
int lg_cledger_parse(const char *line, size_t len, lg_cledger_rec *rec, sq_err *err)
{
    json_error_t jerr;
    size_t i = 0;
    memset(rec, 0, sizeof *rec);
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return 0;
    rec->doc = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
    if (!rec->doc) {
        if (line[i] == '{' && jerr.position >= (int)len &&
            json_error_code(&jerr) != json_error_end_of_input_expected)
            return sq_errf(err, -ENODATA, "the line is cut short (a writer stopped mid-line)");
        return sq_errf(err, -EBADMSG, "not JSON at column %d: %s (expected one JSON object "
                                      "per line)",
                       jerr.column > 0 ? jerr.column : 1, jerr.text);
    }
    if (!json_is_object(rec->doc))
        return sq_errf(err, -EBADMSG, "expected a JSON object (a ledger line), got %s",
                       json_is_array(rec->doc)    ? "an array"
                       : json_is_string(rec->doc) ? "a string"
                                                  : "a number, true, false or null");
    json_t *type = json_object_get(rec->doc, "type");
    if (!json_is_string(type))
        return sq_errf(err, -EBADMSG, "expected \"type\" (a string: created, cleanup or "
                                      "cleanup_bulk)");
    const char *t = json_string_value(type);
    if (strcmp(t, "created") == 0) {
        rec->type = LG_CLEDGER_CREATED;
        return parse_created(rec, err);
    }
    if (strcmp(t, "cleanup") == 0) {
        json_t *entry = json_object_get(rec->doc, "entry");
        if (!json_is_string(entry) || !*json_string_value(entry))
            return sq_errf(err, -EBADMSG, "a cleanup line needs \"entry\" (a non-empty "
                                          "string)");
        rec->type = LG_CLEDGER_CLEANUP;
        rec->entry = json_string_value(entry);
        rec->outcome = outcome_parse(json_string_value(json_object_get(rec->doc, "outcome")));
        return 0;
    }
    if (strcmp(t, "cleanup_bulk") == 0) {
        rec->type = LG_CLEDGER_BULK;
        rec->request = json_string_value(json_object_get(rec->doc, "request"));
        rec->outcome = outcome_parse(json_string_value(json_object_get(rec->doc, "outcome")));
        return 0;
    }
    return 0; /* another type: for someone else */
}

/* ---- the entry index ------------------------------------------------------ */

/* One slot: off is 1 + the name's offset in the arena (0 = empty). */
typedef struct ix_slot {
    uint64_t hash;
    size_t off;
    unsigned flags;
} ix_slot;

struct lg_cledger_index {
    ix_slot *slots; /* cap slots, a power of two */
    size_t cap, n;
    char *arena; /* NUL-terminated names back to back */
    size_t alen, acap;
};

/* FNV-1a of a NUL-terminated name. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

/* Creates an empty index (caller owns it). */
lg_cledger_index *lg_cledger_index_new(void)
{
    lg_cledger_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->cap = 1024;
    ix->slots = calloc(ix->cap, sizeof *ix->slots);
    if (!ix->slots) {
        free(ix);
        return NULL;
    }
    return ix;
}

/* Frees the index and its names. */
void lg_cledger_index_free(lg_cledger_index *ix)
{
    if (!ix)
        return;
    free(ix->slots);
    free(ix->arena);
    free(ix);
}

/* Number of entries. */
size_t lg_cledger_index_size(const lg_cledger_index *ix)
{
    return ix->n;
}

/* Doubles the slot table. Returns 0 or -ENOMEM. */
static int ix_grow(lg_cledger_index *ix)
{
    size_t cap = ix->cap * 2, mask = cap - 1;
    ix_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i].off)
            continue;
        size_t j = ix->slots[i].hash & mask;
        while (slots[j].off)
            j = (j + 1) & mask;
        slots[j] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

/* Copies name into the arena; returns 1 + its offset, or 0 on out of
 * memory. */
static size_t ix_store(lg_cledger_index *ix, const char *name)
{
    size_t len = strlen(name) + 1;
    if (ix->alen + len > ix->acap) {
        size_t cap = ix->acap ? ix->acap : 65536;
        while (cap < ix->alen + len)
            cap *= 2;
        char *a = realloc(ix->arena, cap);
        if (!a)
            return 0;
        ix->arena = a;
        ix->acap = cap;
    }
    memcpy(ix->arena + ix->alen, name, len);
    ix->alen += len;
    return ix->alen - len + 1;
}

/* Finds (or with add, inserts) entry; returns its flags (see cleanup_int.h). */
unsigned *lg_cledger_index_get(lg_cledger_index *ix, const char *entry, int add)
{
    uint64_t h = name_hash(entry);
    size_t mask = ix->cap - 1, i;
    for (i = h & mask; ix->slots[i].off; i = (i + 1) & mask)
        if (ix->slots[i].hash == h && strcmp(ix->arena + ix->slots[i].off - 1, entry) == 0)
            return &ix->slots[i].flags;
    if (!add)
        return NULL;
    if ((ix->n + 1) * 10 > ix->cap * 7) {
        if (ix_grow(ix) < 0)
            return NULL;
        mask = ix->cap - 1;
        for (i = h & mask; ix->slots[i].off; i = (i + 1) & mask)
            ;
    }
    size_t off = ix_store(ix, entry);
    if (!off)
        return NULL;
    ix->slots[i] = (ix_slot){.hash = h, .off = off, .flags = 0};
    ix->n++;
    return &ix->slots[i].flags;
}

/* Counts the entries whose flags include every bit of mask. */
static uint64_t ix_count(const lg_cledger_index *ix, unsigned mask)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->slots[i].off && (ix->slots[i].flags & mask) == mask)
            n++;
    return n;
}

/* ---- the line reader --------------------------------------------------------- */

/* Opens the ledger for reading (see cleanup_int.h). */
int lg_cledger_reader_open(lg_cledger_reader *r, const char *path, int64_t limit, FILE *warn,
                          sq_err *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->limit = limit;
    r->warn = warn;
    r->f = fopen(path, "re");
    if (!r->f)
        return sq_errf(err, -errno, "cannot open %s: %s", path, strerror(errno));
    return 0;
}

/* Closes the file and frees the line buffer. */
void lg_cledger_reader_close(lg_cledger_reader *r)
{
    if (r->f)
        fclose(r->f);
    free(r->line);
    r->f = NULL;
    r->line = NULL;
    r->cap = 0;
}

/* Reads the next record (see cleanup_int.h). */
int lg_cledger_reader_next(lg_cledger_reader *r, lg_cledger_rec *rec, sq_err *err)
{
    sq_err perr;
    memset(rec, 0, sizeof *rec);
    for (;;) {
        if (r->limit >= 0 && r->pos >= r->limit)
            return 0;
        errno = 0;
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0) {
            if (ferror(r->f) || errno == ENOMEM)
                return sq_errf(err, errno == ENOMEM ? -ENOMEM : -EIO, "cannot read %s: %s",
                               r->path, strerror(errno ? errno : EIO));
            return 0;
        }
        int64_t start = r->pos;
        r->pos += n;
        r->lineno++;
        int whole = r->line[n - 1] == '\n';
        size_t len = whole ? (size_t)n - 1 : (size_t)n;
        if (r->limit >= 0 && r->pos > r->limit) {
            /* the line was not whole when the first pass read the file */
            len = (size_t)(r->limit - start);
            whole = 0;
        }
        if (len > LINE_MAX_BYTES)
            return sq_errf(err, -EBADMSG, "%s:%llu: the line is longer than %u bytes (expected "
                                          "one ledger object per line)",
                           r->path, (unsigned long long)r->lineno, LINE_MAX_BYTES);
        int rc = lg_cledger_parse(r->line, len, rec, &perr);
        if (rc == 0 && rec->type != LG_CLEDGER_OTHER)
            return 1;
        lg_cledger_rec_clear(rec);
        if (rc == 0)
            continue;
        if (rc == -ENODATA || !whole) {
            r->torn++;
            if (r->warn)
                fprintf(r->warn, "%s:%llu: warning: ignoring a line cut short (a writer "
                                 "stopped mid-line)\n",
                        r->path, (unsigned long long)r->lineno);
            continue;
        }
        return sq_errf(err, rc, "%s:%llu: %s", r->path, (unsigned long long)r->lineno,
                       perr.msg);
    }
}

/* ---- the two passes ---------------------------------------------------------- */

/* Frees what scan owns. */
void lg_cledger_scan_free(lg_cledger_scan *scan)
{
    lg_cledger_index_free(scan->ix);
    scan->ix = NULL;
}

/* Notes one record of the first pass in out. Returns 0 or -ENOMEM. */
static int scan_record(lg_cledger_scan *out, const lg_cledger_rec *rec, uint64_t lineno,
                       const char *bulk_request)
{
    unsigned *flags;
    switch (rec->type) {
    case LG_CLEDGER_CREATED:
        if (!(flags = lg_cledger_index_get(out->ix, rec->entry, 1)))
            return -ENOMEM;
        if (!(*flags & LG_IX_CREATED))
            out->entries++;
        *flags |= LG_IX_CREATED;
        out->last_created_line = lineno;
        return 0;
    case LG_CLEDGER_CLEANUP:
        if (!(flags = lg_cledger_index_get(out->ix, rec->entry, 1)))
            return -ENOMEM;
        if (rec->outcome == LG_OUTCOME_DELETED || rec->outcome == LG_OUTCOME_GONE)
            *flags |= LG_IX_DONE;
        else
            *flags &= ~(unsigned)LG_IX_DONE;
        return 0;
    case LG_CLEDGER_BULK:
        if (bulk_request && rec->request && rec->outcome == LG_OUTCOME_DELETED &&
            strcmp(rec->request, bulk_request) == 0)
            out->bulk_done_line = lineno;
        return 0;
    default:
        return 0;
    }
}

/* First pass over the ledger (see cleanup_int.h). */
int lg_cledger_scan_file(const char *path, const char *bulk_request, FILE *warn,
                        lg_cledger_scan *out, sq_err *err)
{
    lg_cledger_reader r;
    lg_cledger_rec rec;
    int rc;
    memset(out, 0, sizeof *out);
    if (!(out->ix = lg_cledger_index_new()))
        return sq_errf(err, -ENOMEM, "out of memory");
    rc = lg_cledger_reader_open(&r, path, -1, warn, err);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        goto fail;
    while ((rc = lg_cledger_reader_next(&r, &rec, err)) == 1) {
        rc = scan_record(out, &rec, r.lineno, bulk_request);
        lg_cledger_rec_clear(&rec);
        if (rc < 0) {
            sq_errf(err, rc, "out of memory indexing %s (%zu entries)", path,
                    lg_cledger_index_size(out->ix));
            break;
        }
    }
    out->bytes = r.pos;
    out->torn = r.torn;
    lg_cledger_reader_close(&r);
    if (rc < 0)
        goto fail;
    out->done = ix_count(out->ix, LG_IX_CREATED | LG_IX_DONE);
    return 0;
fail:
    lg_cledger_scan_free(out);
    return rc;
}

/* Second pass: the next created record still to delete (see
 * cleanup_int.h). */
int lg_cledger_next_todo(lg_cledger_reader *r, lg_cledger_index *ix, lg_cledger_rec *rec,
                        sq_err *err)
{
    int rc;
    while ((rc = lg_cledger_reader_next(r, rec, err)) == 1) {
        if (rec->type == LG_CLEDGER_CREATED) {
            unsigned *flags = lg_cledger_index_get(ix, rec->entry, 1);
            if (!flags) {
                lg_cledger_rec_clear(rec);
                return sq_errf(err, -ENOMEM, "out of memory");
            }
            if (!(*flags & (LG_IX_DONE | LG_IX_QUEUED))) {
                *flags |= LG_IX_QUEUED;
                return 1;
            }
        }
        lg_cledger_rec_clear(rec);
    }
    return rc;
}
