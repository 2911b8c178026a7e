/* fuzz_slo.c — libFuzzer harness for reports/slo_parse.c.
 *
 * The input, NUL-terminated at its first NUL, is parsed as an SLO
 * expression. Nothing may crash, and abort() marks a broken invariant:
 *   - failure: -EINVAL (or -ENOMEM), the output untouched, and the message
 *     one line starting "column N: " with N within the text (+1 for the end);
 *     rp_slo_caret draws its caret line without crashing;
 *   - success: the fields are in their domains (percentile 0..100, ratio
 *     objective in 0..1, recovery only after a fault, no route with a scope),
 *     the name is non-empty, and re-parsing the stored text gives exactly the
 *     same objective (parsing is a function of the text alone).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_slo: invariant failed at line %d: %s\n", __LINE__, \
                    #cond);                                                          \
            abort();                                                                 \
        }                                                                            \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);

    rp_slo o, again;
    memset(&o, 0x5a, sizeof o);
    sq_err err = {{0}};
    int rc = rp_slo_parse(s, &o, &err);
    if (rc != 0) {
        CHECK(rc == -EINVAL || rc == -ENOMEM);
        CHECK(((unsigned char *)&o)[sizeof o - 1] == 0x5a);
        CHECK(strncmp(err.msg, "column ", 7) == 0);
        CHECK(strchr(err.msg, '\n') == NULL);
        unsigned long col = strtoul(err.msg + 7, NULL, 10);
        CHECK(col >= 1 && col <= len + 1);
        char *caret = NULL;
        size_t caret_len = 0;
        FILE *f = open_memstream(&caret, &caret_len);
        if (f) {
            rp_slo_caret(f, s, &err);
            fclose(f);
            CHECK(len >= RP_SLO_TEXT_MAX || caret_len == 0 || caret[caret_len - 1] == '\n');
            free(caret);
        }
        free(s);
        return 0;
    }
    CHECK(o.text[0] != '\0' && o.name[0] != '\0');
    CHECK(strlen(o.text) <= len);
    CHECK(o.percentile >= 0 && o.percentile <= 100);
    CHECK(!o.is_ratio || (o.objective >= 0 && o.objective <= 1));
    CHECK(o.is_ratio == (o.metric == RP_M_AVAILABILITY || o.metric == RP_M_LATENCY));
    CHECK(o.metric != RP_M_RECOVERY || o.scope == RP_SCOPE_AFTER);
    CHECK(!o.route[0] || (o.scope == RP_SCOPE_RUN && o.for_ns == 0));
    CHECK(o.for_ns >= 0);
    CHECK(o.scope == RP_SCOPE_RUN || o.scope_name[0] != '\0');
    CHECK(rp_slo_valet(&o) != NULL);
    memset(&again, 0, sizeof again);
    CHECK(rp_slo_parse(o.text, &again, &err) == 0);
    CHECK(strcmp(again.text, o.text) == 0 && strcmp(again.name, o.name) == 0);
    CHECK(again.metric == o.metric && again.cmp == o.cmp && again.target == o.target);
    CHECK(again.objective == o.objective && again.percentile == o.percentile);
    CHECK(again.scope == o.scope && strcmp(again.scope_name, o.scope_name) == 0);
    CHECK(strcmp(again.route, o.route) == 0 && again.for_ns == o.for_ns);
    CHECK(memcmp(&again.good, &o.good, sizeof o.good) == 0);
    free(s);
    return 0;
}
