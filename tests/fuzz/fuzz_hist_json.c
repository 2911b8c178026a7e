/* fuzz_hist_json.c — libFuzzer harness for sq_hist_from_json.
 *
 * Parses the input as JSON and decodes it as a histogram. Whatever decodes
 * must survive a round trip: encode, decode again, and compare everything
 * observable (configuration, count, min, max, mean, clamped, every bucket and
 * a spread of percentiles). Any difference aborts. Rejections must carry a
 * message. Leaks and memory errors are caught by the sanitizers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

static const double fuzz_ps[] = {0.0, 0.1, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.999, 100.0};

/* Aborts unless a and b hold exactly the same data. */
static void fuzz_compare(const sq_hist *a, const sq_hist *b)
{
    if (sq_hist_digits(a) != sq_hist_digits(b) || sq_hist_highest(a) != sq_hist_highest(b) ||
        sq_hist_count(a) != sq_hist_count(b) || sq_hist_min(a) != sq_hist_min(b) ||
        sq_hist_max(a) != sq_hist_max(b) || sq_hist_clamped(a) != sq_hist_clamped(b) ||
        memcmp(&(double){sq_hist_mean(a)}, &(double){sq_hist_mean(b)}, sizeof(double)) != 0)
        abort();
    for (size_t i = 0; i < sizeof fuzz_ps / sizeof fuzz_ps[0]; i++)
        if (sq_hist_percentile(a, fuzz_ps[i]) != sq_hist_percentile(b, fuzz_ps[i]))
            abort();
    size_t ca = 0, cb = 0;
    int64_t la, ha, lb, hb;
    uint64_t na, nb, total = 0;
    for (;;) {
        int ra = sq_hist_next_bucket(a, &ca, &la, &ha, &na);
        int rb = sq_hist_next_bucket(b, &cb, &lb, &hb, &nb);
        if (ra != rb)
            abort();
        if (!ra)
            break;
        if (la != lb || ha != hb || na != nb || na == 0 || la > ha)
            abort();
        total += na;
    }
    if (total != sq_hist_count(a))
        abort();
}

/* libFuzzer entry point: one input = one JSON document. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!in)
        return 0;
    sq_err err = {{0}};
    sq_hist *h = sq_hist_from_json(in, &err);
    json_decref(in);
    if (!h) {
        if (err.msg[0] == '\0')
            abort(); /* a rejection must say why */
        return 0;
    }
    json_t *out = sq_hist_to_json(h);
    if (!out)
        abort();
    sq_hist *back = sq_hist_from_json(out, &err);
    if (!back)
        abort(); /* our own encoding must decode */
    fuzz_compare(h, back);
    json_decref(out);
    sq_hist_free(back);
    sq_hist_free(h);
    return 0;
}
