/* fuzz_ledger.c — libFuzzer harness for the cleanup ledger reader
 * (loadgen/cleanup_ledger.c) and the request templates
 * (loadgen/cleanup_template.c): a ledger.jsonl may be torn by a killed
 * writer or edited by hand, and templates are typed by people. The input's
 * first line is a template spec; the whole input is also a ledger. Nothing
 * may crash, and abort() marks a broken invariant:
 *   - lg_cledger_parse of each line returns 0, -ENODATA (torn) or -EBADMSG
 *     (with a message); a created or cleanup record names a non-empty entry;
 *   - the two passes agree: the second yields exactly entries - done
 *     records, each a created one, each entry once, and never fails when
 *     the first pass did not;
 *   - a template either fails with -EINVAL and "column N: ..." or expands
 *     to an http(s) URL without spaces, or fails with a reason;
 *   - the host check (loadgen/cleanup_host.c) takes such a URL apart or
 *     says why not; an origin equals itself, and the "host:port" a refusal
 *     names is accepted by --allow-host and allows that URL; the first line
 *     as an --allow-host value is accepted or refused with a message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loadgen/cleanup_int.h"

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_ledger: invariant failed at line %d: %s\n", __LINE__,   \
                    #cond);                                                               \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* Parses every line of data on its own. */
static void parse_lines(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lg_cledger_rec rec;
        sq_err err = {{0}};
        int rc = lg_cledger_parse(p, len, &rec, &err);
        CHECK(rc == 0 || rc == -ENODATA || rc == -EBADMSG);
        if (rc < 0)
            CHECK(err.msg[0] != '\0');
        if (rc == 0 && (rec.type == LG_CLEDGER_CREATED || rec.type == LG_CLEDGER_CLEANUP))
            CHECK(rec.entry && rec.entry[0]);
        lg_cledger_rec_clear(&rec);
        p += len + 1;
    }
}

/* Runs both passes over the input as a file. */
static void two_passes(const uint8_t *data, size_t size)
{
    char path[64];
    lg_cledger_scan scan;
    lg_cledger_reader r;
    lg_cledger_rec rec;
    sq_err err = {{0}};
    int fd = memfd_create("ledger", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (lg_cledger_scan_file(path, "DELETE http://h/x", NULL, &scan, &err) == 0) {
        CHECK(scan.done <= scan.entries);
        CHECK(scan.bytes == (int64_t)size);
        uint64_t todo = 0;
        int rc;
        CHECK(lg_cledger_reader_open(&r, path, scan.bytes, NULL, &err) == 0);
        while ((rc = lg_cledger_next_todo(&r, scan.ix, &rec, &err)) == 1) {
            CHECK(rec.type == LG_CLEDGER_CREATED);
            todo++;
            lg_cledger_rec_clear(&rec);
        }
        CHECK(rc == 0);
        CHECK(todo == scan.entries - scan.done);
        lg_cledger_reader_close(&r);
        lg_cledger_scan_free(&scan);
    } else {
        CHECK(err.msg[0] != '\0');
    }
    close(fd);
}

/* Checks the host-check invariants on an expanded URL. */
static void host_check(const char *url)
{
    lg_origin o;
    lg_allow_host a;
    char hp[LG_HOST_MAX + 8];
    sq_err err = {{0}};
    int rc = lg_origin_parse(url, &o, &err);
    if (rc < 0) {
        CHECK((rc == -EINVAL || rc == -ENOMEM) && err.msg[0] != '\0');
        return;
    }
    CHECK(strcmp(o.scheme, "http") == 0 || strcmp(o.scheme, "https") == 0);
    CHECK(o.host[0] != '\0' && o.port >= 1 && o.port <= 65535);
    CHECK(lg_origin_same(&o, &o));
    lg_origin_hostport(&o, hp, sizeof hp);
    rc = lg_allow_host_parse(hp, &a, &err);
    CHECK(rc == 0 && lg_allow_host_match(&a, &o));
}

/* Parses the first line as a template and expands it. */
static void template(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t len = nl ? (size_t)(nl - (const char *)data) : size;
    char *spec = malloc(len + 1);
    lg_tpl tpl;
    sq_err err = {{0}};
    if (!spec)
        return;
    memcpy(spec, data, len);
    spec[len] = '\0';
    int rc = lg_tpl_parse(spec, &tpl, &err);
    if (rc < 0) {
        CHECK(rc == -EINVAL || rc == -ENOMEM);
        CHECK(rc == -ENOMEM || strncmp(err.msg, "column ", 7) == 0);
    } else {
        static const lg_tpl_vars vars[] = {
            {.location = "http://h:1/items/1", .id = "a b/\xc3\xa9", .tag = "T-1",
             .base = "https://h:2"},
            {.location = "/rel", .id = NULL, .tag = "t", .base = NULL},
            {0},
        };
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            char *url = NULL;
            rc = lg_tpl_expand(&tpl, &vars[i], &url, &err);
            if (rc == 0) {
                CHECK(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
                CHECK(!strchr(url, ' '));
                host_check(url);
                free(url);
            } else {
                CHECK(url == NULL && err.msg[0] != '\0');
            }
        }
        lg_tpl_free(&tpl);
    }
    lg_allow_host a;
    rc = lg_allow_host_parse(spec, &a, &err);
    CHECK(rc == 0 || (rc == -EINVAL && strstr(err.msg, "expected HOST or HOST:PORT")));
    free(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_lines(data, size);
    two_passes(data, size);
    template(data, size);
    return 0;
}
