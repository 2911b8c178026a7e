/* slo_parse.c — the SLO expression language (docs/slo.md).
 *
 *   expr      := objective modifier*
 *   objective := 'availability' PCT 'good' '=' cond
 *              | 'latency' PCT ('<' | '<=') DURATION
 *              | 'p' '(' NUMBER ')' CMP DURATION | ('max' | 'mean') CMP DURATION
 *              | 'rate' '(' cond ')' CMP FRACTION | 'error_rate' CMP FRACTION
 *              | 'achieved_rate' CMP (PCT 'of' 'intended' | RATE)
 *              | 'recovery' ('<' | '<=') DURATION          (needs 'after FAULT')
 *   cond      := 'status' ('<'|'<='|'>'|'>='|'=='|'!=') (CODE | 'Nxx')
 *   modifier  := 'route' '=' STRING | 'during' NAME | 'after' NAME
 *              | 'phase' NAME | 'for' DURATION
 *   CMP       := '<' | '<=' | '>' | '>='
 *
 * Keywords are lower case. Tokens are words (letters, digits, _ . % - / and
 * any byte >= 0x80, so "99.9%", "300ms", "5xx", "db-loss" and "250µs" are
 * one word each), quoted strings ("..." with \" and \\), and operators.
 * Every error names the 1-based byte column of the token at fault and says
 * what was expected; an unknown word that is close to a keyword gets a
 * "did you mean" hint.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"

#define TOK_MAX 64 /* tokens in one expression */

typedef enum tok_kind { T_WORD, T_STRING, T_OP, T_LPAREN, T_RPAREN, T_END } tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t at;       /* byte offset in the text */
    size_t len;      /* length in the text (with quotes for strings) */
    char val[RP_SLO_ROUTE_MAX]; /* word, unquoted string or operator */
} tok;

typedef struct parser {
    const char *text;
    tok toks[TOK_MAX];
    size_t n, pos;
    sq_err *err;
} parser;

static const char *const metric_words[] = {
    "availability", "latency", "p", "max", "mean", "rate", "error_rate", "achieved_rate",
    "recovery", NULL,
};
static const char *const modifier_words[] = {"route", "during", "after", "phase", "for", NULL};
static const char METRIC_HINT[] =
    "expected availability, latency, p(N), max, mean, rate(status...), error_rate, "
    "achieved_rate or recovery";

/* Formats "column N: ..." into the parser's err; returns -EINVAL. */
static int perr(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser *p, size_t at, const char *fmt, ...)
{
    char msg[SQ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sq_errf(p->err, -EINVAL, "column %zu: %s", at + 1, msg);
}

/* Writes a token's text for a message into buf: control bytes as \xNN,
 * long text cut. Returns buf (caller's). */
static const char *shown(const tok *t, char *buf, size_t cap)
{
    if (t->kind == T_END)
        return "the end";
    size_t o = 0;
    buf[o++] = '\'';
    for (const char *s = t->val; *s && o + 8 < cap; s++) {
        if (o > 40) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

/* Whether c may appear in a word. */
static int word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '%' || c == '-' || c == '/' || c == ':' ||
           c >= 0x80;
}

/* Splits p->text into tokens. Returns 0 or -EINVAL (bad character,
 * unterminated string, too many tokens, token too long). */
static int lex(parser *p)
{
    const char *s = p->text;
    size_t i = 0, len = strlen(s);
    while (1) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (p->n == TOK_MAX)
            return perr(p, i, "too many words (at most %d)", TOK_MAX - 1);
        tok *t = &p->toks[p->n];
        memset(t, 0, sizeof *t);
        t->at = i;
        if (i == len) {
            t->kind = T_END;
            p->n++;
            return 0;
        }
        unsigned char c = (unsigned char)s[i];
        size_t o = 0;
        if (c == '"') {
            t->kind = T_STRING;
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\'))
                    i++;
                if ((unsigned char)s[i] < 0x20)
                    return perr(p, i, "control character 0x%02x inside a string",
                                (unsigned char)s[i]);
                if (o + 1 >= sizeof t->val)
                    return perr(p, t->at, "string longer than %zu bytes", sizeof t->val - 1);
                t->val[o++] = s[i];
            }
            if (i == len)
                return perr(p, t->at, "unterminated string (missing the closing \")");
            i++;
        } else if (c == '(' || c == ')') {
            t->kind = c == '(' ? T_LPAREN : T_RPAREN;
            t->val[o++] = (char)c;
            i++;
        } else if (c == '<' || c == '>' || c == '=' || c == '!') {
            t->kind = T_OP;
            t->val[o++] = (char)c;
            i++;
            if (i < len && s[i] == '=')
                t->val[o++] = s[i++];
            if (strcmp(t->val, "!") == 0)
                return perr(p, t->at, "'!' must be followed by '=' (write !=)");
        } else if (word_char(c)) {
            t->kind = T_WORD;
            while (i < len && word_char((unsigned char)s[i])) {
                if (o + 1 >= sizeof t->val)
                    return perr(p, t->at, "word longer than %zu bytes", sizeof t->val - 1);
                t->val[o++] = s[i++];
            }
        } else if (c < 0x20 || c == 0x7f) {
            return perr(p, i, "control character 0x%02x", c);
        } else {
            return perr(p, i, "unexpected character '%c'", c);
        }
        t->val[o] = '\0';
        t->len = i - t->at;
        p->n++;
    }
}

/* The current token (T_END at the end). */
static const tok *cur(parser *p)
{
    return &p->toks[p->pos < p->n ? p->pos : p->n - 1];
}

/* Consumes and returns the current token. */
static const tok *take(parser *p)
{
    const tok *t = cur(p);
    if (t->kind != T_END)
        p->pos++;
    return t;
}

/* Levenshtein distance between a and b, capped at 9 (both short). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 30 || lb > 30)
        return 9;
    int d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* The word of `words` closest to w (distance <= 2, or w a prefix of at
 * least 3 letters), or NULL. Static strings. */
static const char *suggest(const char *w, const char *const *words)
{
    const char *best = NULL;
    int best_d = 3;
    for (size_t i = 0; words[i]; i++) {
        if (strlen(words[i]) < 3)
            continue;
        int d = edit_distance(w, words[i]);
        if (strlen(w) >= 3 && strncmp(words[i], w, strlen(w)) == 0)
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    return best;
}

/* Whether the current token is the word w. */
static int at_word(parser *p, const char *w)
{
    return cur(p)->kind == T_WORD && strcmp(cur(p)->val, w) == 0;
}

/* Consumes the operator `op` or fails with "expected 'op' after WHAT". */
static int expect_op(parser *p, const char *op, const char *after)
{
    char b[96];
    const tok *t = cur(p);
    if (t->kind != T_OP || strcmp(t->val, op) != 0)
        return perr(p, t->at, "expected '%s' after %s, found %s", op, after, shown(t, b, sizeof b));
    take(p);
    return 0;
}

/* Consumes an operator into *cmp. `allowed` lists the accepted ones as
 * text ("< <= > >="). */
static int parse_cmp(parser *p, const char *allowed, const char *after, rp_cmp *cmp)
{
    static const struct {
        const char *text;
        rp_cmp cmp;
    } ops[] = {{"<", RP_LT}, {"<=", RP_LE}, {">", RP_GT}, {">=", RP_GE}, {"==", RP_EQ}, {"!=", RP_NE}};
    char b[96];
    const tok *t = cur(p);
    if (t->kind == T_OP) {
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            if (strcmp(ops[i].text, t->val) != 0)
                continue;
            char padded[32];
            snprintf(padded, sizeof padded, " %s ", t->val);
            char list[64];
            snprintf(list, sizeof list, " %s ", allowed);
            if (!strstr(list, padded))
                return perr(p, t->at, "'%s' cannot be used after %s (use %s)", t->val, after,
                            allowed);
            *cmp = ops[i].cmp;
            take(p);
            return 0;
        }
        if (strcmp(t->val, "=") == 0)
            return perr(p, t->at, "'=' is not a comparison after %s (use %s)", after, allowed);
    }
    return perr(p, t->at, "expected a comparison (%s) after %s, found %s", allowed, after,
                shown(t, b, sizeof b));
}

/* Parses the current word as a duration (ns). `what` names it. */
static int parse_dur(parser *p, const char *what, int64_t *ns)
{
    char b[96];
    const tok *t = cur(p);
    if (t->kind != T_WORD)
        return perr(p, t->at, "expected %s (a duration like 300ms or 2s), found %s", what,
                    shown(t, b, sizeof b));
    sq_err e;
    if (sq_parse_duration(t->val, ns, &e) < 0)
        return perr(p, t->at, "%s", e.msg);
    take(p);
    return 0;
}

/* Parses the current word as a percentage "99.9%" (fraction in *f); when
 * allow_fraction, a bare fraction "0.01" is accepted too. */
static int parse_pct(parser *p, int allow_fraction, const char *what, double *f)
{
    char b[96];
    const tok *t = cur(p);
    if (t->kind != T_WORD)
        return perr(p, t->at, "expected %s, found %s", what, shown(t, b, sizeof b));
    sq_err e;
    if (sq_parse_percent(t->val, allow_fraction, f, &e) < 0)
        return perr(p, t->at, "%s", e.msg);
    take(p);
    return 0;
}

/* Parses a plain decimal number word ("99", "99.9") into *v. */
static int parse_number(parser *p, const char *what, double *v)
{
    char b[96];
    const tok *t = cur(p);
    const char *s = t->val;
    size_t i = 0, digits = 0, frac = 0;
    while (isdigit((unsigned char)s[i]))
        i++, digits++;
    if (s[i] == '.')
        for (i++; isdigit((unsigned char)s[i]); i++)
            frac++;
    if (t->kind != T_WORD || digits == 0 || s[i] != '\0' || (strchr(s, '.') && frac == 0) ||
        i > 20)
        return perr(p, t->at, "expected %s (a number like 99 or 99.9), found %s", what,
                    shown(t, b, sizeof b));
    *v = strtod(s, NULL);
    take(p);
    return 0;
}

/* cond := 'status' CMP (CODE | Nxx) */
static int parse_cond(parser *p, rp_cond *c)
{
    char b[96];
    const tok *t = cur(p);
    if (!at_word(p, "status")) {
        if (t->kind == T_WORD && edit_distance(t->val, "status") <= 2)
            return perr(p, t->at, "unknown condition %s (did you mean status?)",
                        shown(t, b, sizeof b));
        return perr(p, t->at, "expected a condition on the status, like status<500 or "
                              "status==5xx, found %s",
                    shown(t, b, sizeof b));
    }
    take(p);
    memset(c, 0, sizeof *c);
    int rc = parse_cmp(p, "< <= > >= == !=", "status", &c->cmp);
    if (rc)
        return rc;
    t = cur(p);
    const char *s = t->val;
    if (t->kind == T_WORD && strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
        (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
        if (c->cmp != RP_EQ && c->cmp != RP_NE)
            return perr(p, t->at, "a status class like %s takes == or != only", s);
        c->is_class = 1;
        c->code = s[0] - '0';
        take(p);
        return 0;
    }
    if (t->kind != T_WORD || strlen(s) != 3 || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) || s[0] < '1' || s[0] > '5')
        return perr(p, t->at, "expected a status code 100..599 or a class like 5xx, found %s",
                    shown(t, b, sizeof b));
    c->code = atoi(s);
    take(p);
    return 0;
}

/* The objective part; fills metric, targets and comparison. */
static int parse_objective(parser *p, rp_slo *o)
{
    char b[96];
    const tok *t = cur(p);
    int64_t ns = 0;
    int rc;
    if (t->kind != T_WORD) {
        if (t->kind == T_END)
            return perr(p, t->at, "empty objective (%s)", METRIC_HINT);
        return perr(p, t->at, "expected a metric, found %s (%s)", shown(t, b, sizeof b),
                    METRIC_HINT);
    }
    const char *w = t->val;
    size_t w_at = t->at;
    if (strcmp(w, "availability") == 0) {
        take(p);
        o->metric = RP_M_AVAILABILITY;
        o->is_ratio = 1;
        if ((rc = parse_pct(p, 0, "the objective after availability (like 99.9%)", &o->objective)))
            return rc;
        if (!at_word(p, "good"))
            return perr(p, cur(p)->at, "expected good=CONDITION after the percentage "
                                       "(like good=status<500), found %s",
                        shown(cur(p), b, sizeof b));
        take(p);
        if ((rc = expect_op(p, "=", "good")) || (rc = parse_cond(p, &o->good)))
            return rc;
    } else if (strcmp(w, "latency") == 0) {
        take(p);
        o->metric = RP_M_LATENCY;
        o->is_ratio = 1;
        if ((rc = parse_pct(p, 0, "the objective after latency (like 99%)", &o->objective)) ||
            (rc = parse_cmp(p, "< <=", "latency 99%", &o->cmp)) ||
            (rc = parse_dur(p, "the latency threshold", &ns)))
            return rc;
        o->target = (double)ns / 1e6;
    } else if (strcmp(w, "p") == 0 || strcmp(w, "max") == 0 || strcmp(w, "mean") == 0) {
        take(p);
        if (w[0] == 'p') {
            o->metric = RP_M_PERCENTILE;
            if (cur(p)->kind != T_LPAREN)
                return perr(p, cur(p)->at, "expected '(' after p, as in p(99)");
            take(p);
            size_t num_at = cur(p)->at;
            if ((rc = parse_number(p, "a percentile", &o->percentile)))
                return rc;
            if (o->percentile > 100)
                return perr(p, num_at, "percentile %g is outside 0..100", o->percentile);
            if (cur(p)->kind != T_RPAREN)
                return perr(p, cur(p)->at, "expected ')' after the percentile");
            take(p);
        } else {
            o->metric = w[1] == 'a' ? RP_M_MAX : RP_M_MEAN;
        }
        if ((rc = parse_cmp(p, "< <= > >=", "a latency metric", &o->cmp)) ||
            (rc = parse_dur(p, "a latency", &ns)))
            return rc;
        o->target = (double)ns / 1e6;
    } else if (strcmp(w, "rate") == 0) {
        take(p);
        o->metric = RP_M_RATE;
        if (cur(p)->kind != T_LPAREN)
            return perr(p, cur(p)->at, "expected '(' after rate, as in rate(status==429)");
        take(p);
        if ((rc = parse_cond(p, &o->good)))
            return rc;
        if (cur(p)->kind != T_RPAREN)
            return perr(p, cur(p)->at, "expected ')' after the condition");
        take(p);
        if ((rc = parse_cmp(p, "< <= > >=", "rate(...)", &o->cmp)) ||
            (rc = parse_pct(p, 1, "a percentage like 0.5%", &o->target)))
            return rc;
    } else if (strcmp(w, "error_rate") == 0) {
        take(p);
        o->metric = RP_M_ERROR_RATE;
        if ((rc = parse_cmp(p, "< <= > >=", "error_rate", &o->cmp)) ||
            (rc = parse_pct(p, 1, "a percentage like 1%", &o->target)))
            return rc;
    } else if (strcmp(w, "achieved_rate") == 0) {
        take(p);
        o->metric = RP_M_ACHIEVED_RATE;
        if ((rc = parse_cmp(p, "< <= > >=", "achieved_rate", &o->cmp)))
            return rc;
        t = cur(p);
        size_t len = strlen(t->val);
        if (t->kind == T_WORD && len > 0 && t->val[len - 1] == '%') {
            if ((rc = parse_pct(p, 0, "a percentage", &o->target)))
                return rc;
            if (!at_word(p, "of"))
                return perr(p, cur(p)->at, "expected 'of intended' after the percentage");
            take(p);
            if (!at_word(p, "intended"))
                return perr(p, cur(p)->at, "expected 'intended' after 'of', found %s",
                            shown(cur(p), b, sizeof b));
            take(p);
            o->of_intended = 1;
        } else {
            sq_rate r;
            sq_err e;
            if (t->kind != T_WORD)
                return perr(p, t->at, "expected a rate (450 req/s) or a share of the "
                                      "intended rate (99%% of intended), found %s",
                            shown(t, b, sizeof b));
            if (sq_parse_rate(t->val, &r, &e) < 0)
                return perr(p, t->at, "%s", e.msg);
            if (r.relative_to_peak)
                return perr(p, t->at, "achieved_rate compares with the intended rate; write "
                                      "'99%% of intended' instead of a multiple of the peak");
            o->target = r.value;
            take(p);
        }
    } else if (strcmp(w, "recovery") == 0) {
        take(p);
        o->metric = RP_M_RECOVERY;
        if ((rc = parse_cmp(p, "< <=", "recovery", &o->cmp)) ||
            (rc = parse_dur(p, "the recovery time", &ns)))
            return rc;
        o->target = (double)ns / 1e9;
    } else {
        const char *s = suggest(w, metric_words);
        if (w[0] == 'p' && isdigit((unsigned char)w[1]))
            return perr(p, w_at, "unknown metric %s (did you mean p(%.*s)?)",
                        shown(t, b, sizeof b), (int)(strlen(w) > 6 ? 6 : strlen(w) - 1), w + 1);
        if (s)
            return perr(p, w_at, "unknown metric %s (did you mean %s?)", shown(t, b, sizeof b), s);
        return perr(p, w_at, "unknown metric %s (%s)", shown(t, b, sizeof b), METRIC_HINT);
    }
    return 0;
}

/* A name after during/after/phase: a word or a quoted string. */
static int parse_name(parser *p, const char *after, char *out, size_t cap)
{
    char b[96];
    const tok *t = cur(p);
    if ((t->kind != T_WORD && t->kind != T_STRING) || !t->val[0])
        return perr(p, t->at, "expected a name after '%s', found %s", after, shown(t, b, sizeof b));
    if (strlen(t->val) >= cap)
        return perr(p, t->at, "name longer than %zu bytes", cap - 1);
    snprintf(out, cap, "%s", t->val);
    take(p);
    return 0;
}

/* modifier*: route=, during/after/phase, for. Each at most once; one scope. */
static int parse_modifiers(parser *p, rp_slo *o)
{
    char b[96];
    int have_route = 0, have_for = 0;
    size_t scope_at = 0, route_at = 0, for_at = 0;
    int rc;
    while (cur(p)->kind != T_END) {
        const tok *t = cur(p);
        if (at_word(p, "route")) {
            if (have_route)
                return perr(p, t->at, "route= given twice");
            route_at = t->at;
            take(p);
            if ((rc = expect_op(p, "=", "route")))
                return rc;
            if (cur(p)->kind != T_STRING || !cur(p)->val[0])
                return perr(p, cur(p)->at, "expected a quoted route after route=, like "
                                           "route=\"POST /api/orders\"");
            snprintf(o->route, sizeof o->route, "%s", take(p)->val);
            have_route = 1;
        } else if (at_word(p, "during") || at_word(p, "after") || at_word(p, "phase")) {
            if (o->scope != RP_SCOPE_RUN)
                return perr(p, t->at, "only one of during, after or phase may be given");
            scope_at = t->at;
            o->scope = t->val[0] == 'd' ? RP_SCOPE_DURING
                       : t->val[0] == 'a' ? RP_SCOPE_AFTER
                                          : RP_SCOPE_PHASE;
            char kw[16];
            snprintf(kw, sizeof kw, "%s", t->val);
            take(p);
            if ((rc = parse_name(p, kw, o->scope_name, sizeof o->scope_name)))
                return rc;
        } else if (at_word(p, "for")) {
            if (have_for)
                return perr(p, t->at, "'for' given twice");
            for_at = t->at;
            take(p);
            if ((rc = parse_dur(p, "the sustained window after 'for'", &o->for_ns)))
                return rc;
            if (o->for_ns <= 0)
                return perr(p, for_at, "the window after 'for' must be longer than 0");
            have_for = 1;
        } else {
            const char *s = t->kind == T_WORD ? suggest(t->val, modifier_words) : NULL;
            if (s)
                return perr(p, t->at, "unexpected %s (did you mean %s?)", shown(t, b, sizeof b), s);
            return perr(p, t->at, "unexpected %s; after the objective expected route=\"...\", "
                                  "during FAULT, after FAULT, phase NAME or for DURATION",
                        shown(t, b, sizeof b));
        }
    }
    if (o->metric == RP_M_RECOVERY && o->scope != RP_SCOPE_AFTER)
        return perr(p, scope_at ? scope_at : 0,
                    "recovery is measured after a fault: add 'after FAULT'");
    if (have_route && (o->scope != RP_SCOPE_RUN || have_for))
        return perr(p, route_at, "a route filter works on whole-run totals (routes.json has no "
                                 "time series); it cannot be combined with during/after/phase/for");
    if (have_route && (o->metric == RP_M_ACHIEVED_RATE || o->metric == RP_M_RECOVERY))
        return perr(p, route_at, "%s has no per-route value",
                    o->metric == RP_M_RECOVERY ? "recovery" : "achieved_rate");
    if (have_for && (o->is_ratio || o->metric == RP_M_RECOVERY))
        return perr(p, for_at, "'for' applies to thresholds (p(N), error_rate, ...); a ratio "
                               "objective is judged by its error budget");
    return 0;
}

/* Writes the objective's short label into o->name. */
static void make_name(rp_slo *o)
{
    char m[128];
    switch (o->metric) {
    case RP_M_PERCENTILE:
        snprintf(m, sizeof m, "p(%g)", o->percentile);
        break;
    case RP_M_RATE:
        if (o->good.is_class)
            snprintf(m, sizeof m, "rate(status%s%dxx)", rp_cmp_text(o->good.cmp), o->good.code);
        else
            snprintf(m, sizeof m, "rate(status%s%d)", rp_cmp_text(o->good.cmp), o->good.code);
        break;
    default:
        snprintf(m, sizeof m, "%s", metric_words[o->metric]);
    }
    static const char *const scope_words[] = {"", "during", "after", "phase"};
    int n = snprintf(o->name, sizeof o->name, "%s", m);
    if (o->route[0])
        n += snprintf(o->name + n, sizeof o->name - (size_t)n, " %s", o->route);
    if (o->scope != RP_SCOPE_RUN)
        snprintf(o->name + n, sizeof o->name - (size_t)n, " %s %s", scope_words[o->scope],
                 o->scope_name);
}

/* Parses text into *out (see reports.h). On failure *out is untouched. */
int rp_slo_parse(const char *text, rp_slo *out, sq_err *err)
{
    parser *p = calloc(1, sizeof *p);
    rp_slo *o = calloc(1, sizeof *o);
    int rc = -ENOMEM;
    if (!p || !o) {
        sq_errf(err, -ENOMEM, "out of memory");
        goto out;
    }
    p->err = err;
    size_t len = strlen(text);
    size_t lead = 0;
    while (lead < len && (text[lead] == ' ' || text[lead] == '\t'))
        lead++;
    while (len > lead && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len - lead >= sizeof o->text) {
        rc = sq_errf(err, -EINVAL, "column %zu: expression longer than %zu bytes",
                     sizeof o->text + lead, sizeof o->text - 1);
        goto out;
    }
    p->text = text;
    if ((rc = lex(p)) || (rc = parse_objective(p, o)) || (rc = parse_modifiers(p, o)))
        goto out;
    memcpy(o->text, text + lead, len - lead);
    o->text[len - lead] = '\0';
    make_name(o);
    *out = *o;
out:
    free(p);
    free(o);
    return rc;
}

/* Prints text and a caret under the column named in err; see reports.h.
 * Control bytes in text print as '?', keeping the caret aligned. */
void rp_slo_caret(FILE *f, const char *text, const sq_err *err)
{
    if (strncmp(err->msg, "column ", 7) != 0)
        return;
    long col = strtol(err->msg + 7, NULL, 10);
    size_t len = strlen(text);
    if (col < 1 || (size_t)col > len + 1 || len > RP_SLO_TEXT_MAX)
        return;
    fputs("    ", f);
    for (size_t i = 0; i < len; i++)
        fputc((unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i], f);
    fprintf(f, "\n    %*s^\n", (int)(col - 1), "");
}

/* VALET category: Volume, Availability, Latency, Errors, Tickets. */
const char *rp_slo_valet(const rp_slo *s)
{
    switch (s->metric) {
    case RP_M_ACHIEVED_RATE:
        return "Volume";
    case RP_M_AVAILABILITY:
        return "Availability";
    case RP_M_LATENCY:
    case RP_M_PERCENTILE:
    case RP_M_MAX:
    case RP_M_MEAN:
        return "Latency";
    case RP_M_RATE:
    case RP_M_ERROR_RATE:
        return "Errors";
    case RP_M_RECOVERY:
        return "Tickets";
    }
    return "Errors";
}

/* value cmp target. */
int rp_cmp_holds(rp_cmp cmp, double value, double target)
{
    switch (cmp) {
    case RP_LT:
        return value < target;
    case RP_LE:
        return value <= target;
    case RP_GT:
        return value > target;
    case RP_GE:
        return value >= target;
    case RP_EQ:
        return value == target;
    case RP_NE:
        return value != target;
    }
    return 0;
}

/* Operator text (static). */
const char *rp_cmp_text(rp_cmp cmp)
{
    static const char *const t[] = {"<", "<=", ">", ">=", "==", "!="};
    return (unsigned)cmp < 6 ? t[cmp] : "?";
}

/* status satisfies c: exact codes compare numerically, classes by the
 * hundreds digit. */
int rp_cond_holds(const rp_cond *c, int status)
{
    if (c->is_class)
        return rp_cmp_holds(c->cmp, status / 100, c->code);
    return rp_cmp_holds(c->cmp, status, c->code);
}
