/* selector: label selectors (the k8s.io/apimachinery/pkg/labels lexer/parser, LabelSelector
 * objects) and field selectors (pkg/fields, with value escapes): parse, match, exact-value
 * lookups. Error texts follow apimachinery's; key/value checks come from objmeta_validate.c. */
#include "base/selector.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objmeta_validate.h"
#include "base/goquote.h"

/* ---------------------------------------------------------------------------------------------
 * Small string builder
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sb_t;

static void sb_append(sb_t *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    sb_append(b, s, (size_t)n);
    free(s);
}

static void sb_quoted(sb_t *b, const char *s, size_t n)
{
    char *q = objmeta_go_quote(s, n);
    if (!q) {
        b->oom = true;
        return;
    }
    sb_puts(b, q);
    free(q);
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* Go's strconv.ParseInt(s, 10, 64) == nil. */
static bool parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = (*p++ == '-');
    if (!*p) return false;
    uint64_t v = 0;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Label selectors: data
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    OP_IN,
    OP_NOTIN,
    OP_EQ,
    OP_DEQ,
    OP_NEQ,
    OP_GT,
    OP_LT,
    OP_EXISTS,
    OP_NOTEXISTS,
} lop_t;

typedef struct {
    char *key;
    lop_t op;
    size_t nvals;
    char **vals;
} lreq_t;

struct label_selector {
    bool nothing; /* labels.Nothing(): matches no object */
    size_t n, cap;
    lreq_t *reqs;
};

static void lreq_clear(lreq_t *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvals; i++)
        free(r->vals[i]);
    free(r->vals);
    memset(r, 0, sizeof *r);
}

void label_selector_free(label_selector_t *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++)
        lreq_clear(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static int sel_push(label_selector_t *sel, lreq_t *r)
{
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 4;
        lreq_t *p = realloc(sel->reqs, cap * sizeof *p);
        if (!p) return -ENOMEM;
        sel->reqs = p;
        sel->cap = cap;
    }
    sel->reqs[sel->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

/* A growing list of owned strings. */
typedef struct {
    char **v;
    size_t n, cap;
} strv_t;

static void strv_free(strv_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int strv_addn(strv_t *s, const char *str, size_t n)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        char **p = realloc(s->v, cap * sizeof *p);
        if (!p) return -ENOMEM;
        s->v = p;
        s->cap = cap;
    }
    char *c = strndup(str, n);
    if (!c) return -ENOMEM;
    s->v[s->n++] = c;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sets.String.List(): sorted, duplicates removed. */
static void strv_sort_unique(strv_t *s)
{
    if (s->n < 2) return;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    size_t o = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[o - 1]) == 0)
            free(s->v[i]);
        else
            s->v[o++] = s->v[i];
    }
    s->n = o;
}

/* field.ErrorList.ToAggregate().Error(): duplicates dropped, "[a, b]" when more than one.
 * errs_add takes msg's buffer and resets msg. */
static int errs_add(strv_t *errs, sb_t *msg)
{
    sb_t m = *msg;
    *msg = (sb_t){0};
    int rc = 0;
    if (m.oom || !m.p) {
        rc = -ENOMEM;
    } else {
        bool dup = false;
        for (size_t i = 0; i < errs->n && !dup; i++)
            dup = strcmp(errs->v[i], m.p) == 0;
        if (!dup) rc = strv_addn(errs, m.p, m.len);
    }
    free(m.p);
    return rc;
}

static void errs_format(const strv_t *errs, sb_t *out)
{
    if (errs->n == 1) {
        sb_puts(out, errs->v[0]);
        return;
    }
    sb_puts(out, "[");
    for (size_t i = 0; i < errs->n; i++) {
        if (i) sb_puts(out, ", ");
        sb_puts(out, errs->v[i]);
    }
    sb_puts(out, "]");
}

/* "<field>: Invalid value: "<key>": m1; m2" if key is not a qualified name; else nothing. */
static int key_error(const char *field, const char *key, size_t n, sb_t *out)
{
    const char *msgs[4];
    size_t c = objmeta_qualified_name_errors(key, n, msgs);
    if (!c) return 0;
    sb_printf(out, "%s: Invalid value: ", field);
    sb_quoted(out, key, n);
    sb_puts(out, ": ");
    for (size_t i = 0; i < c; i++) {
        if (i) sb_puts(out, "; ");
        sb_puts(out, msgs[i]);
    }
    return 1;
}

/* Renders a []string as Go's %#v. */
static void render_strv(sb_t *b, char **vals, size_t n, bool nil)
{
    if (nil) {
        sb_puts(b, "[]string(nil)");
        return;
    }
    sb_puts(b, "[]string{");
    for (size_t i = 0; i < n; i++) {
        if (i) sb_puts(b, ", ");
        sb_quoted(b, vals[i], strlen(vals[i]));
    }
    sb_puts(b, "}");
}

/* labels.NewRequirement with a nil path: validates and, on success, fills *r (taking the key
 * and the values). from_json selects whether the key is checked here (field "key"): the string
 * parser checks it before, with field "<nil>". vals_nil: the Go slice is nil (for messages). On
 * error writes the aggregate message to err and returns -EINVAL. */
static int new_requirement(char *key, lop_t op, strv_t *vals, bool vals_nil, bool check_key,
                           lreq_t *r, sb_t *err)
{
    strv_t errs = {0};
    int rc = 0;
    sb_t m = {0};
    if (check_key && key_error("key", key, strlen(key), &m)) {
        if ((rc = errs_add(&errs, &m))) goto out;
    }
    const char *detail = NULL;
    switch (op) {
    case OP_IN:
    case OP_NOTIN:
        if (vals->n == 0) detail = "for 'in', 'notin' operators, values set can't be empty";
        break;
    case OP_EQ:
    case OP_DEQ:
    case OP_NEQ:
        if (vals->n != 1) detail = "exact-match compatibility requires one single value";
        break;
    case OP_EXISTS:
    case OP_NOTEXISTS:
        if (vals->n != 0) detail = "values set must be empty for exists and does not exist";
        break;
    case OP_GT:
    case OP_LT:
        if (vals->n != 1) detail = "for 'Gt', 'Lt' operators, exactly one value is required";
        break;
    }
    if (detail) {
        sb_puts(&m, "values: Invalid value: ");
        render_strv(&m, vals->v, vals->n, vals_nil);
        sb_printf(&m, ": %s", detail);
        if ((rc = errs_add(&errs, &m))) goto out;
    }
    if (op == OP_GT || op == OP_LT) {
        for (size_t i = 0; i < vals->n; i++) {
            int64_t dummy;
            if (parse_int64(vals->v[i], &dummy)) continue;
            sb_printf(&m, "values[%zu]: Invalid value: ", i);
            sb_quoted(&m, vals->v[i], strlen(vals->v[i]));
            sb_puts(&m, ": for 'Gt', 'Lt' operators, the value must be an integer");
            if ((rc = errs_add(&errs, &m))) goto out;
        }
    }
    for (size_t i = 0; i < vals->n; i++) {
        const char *msgs[2];
        size_t vn = strlen(vals->v[i]);
        size_t c = objmeta_label_value_errors(vals->v[i], vn, msgs);
        if (!c) continue;
        sb_printf(&m, "values[%zu][%s]: Invalid value: ", i, key);
        sb_quoted(&m, vals->v[i], vn);
        sb_puts(&m, ": ");
        for (size_t j = 0; j < c; j++) {
            if (j) sb_puts(&m, "; ");
            sb_puts(&m, msgs[j]);
        }
        if ((rc = errs_add(&errs, &m))) goto out;
    }
    if (errs.n) {
        errs_format(&errs, err);
        rc = err->oom ? -ENOMEM : -EINVAL;
        goto out;
    }
    r->key = key;
    r->op = op;
    r->vals = vals->v;
    r->nvals = vals->n;
    *vals = (strv_t){0};
    key = NULL;
out:
    free(m.p);
    strv_free(&errs);
    free(key);
    strv_free(vals);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Label selectors: lexer (labels.Lexer)
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    T_ERROR,
    T_EOS,
    T_CPAR,
    T_COMMA,
    T_NOT,
    T_DEQ,
    T_EQ,
    T_GT,
    T_ID,
    T_IN,
    T_LT,
    T_NEQ,
    T_NOTIN,
    T_OPAR,
} tok_t;

typedef struct {
    tok_t tok;
    const char *lit;
    size_t len;
} item_t;

typedef struct {
    const char *s;
    size_t n, pos;
} lexer_t;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '>':
    case '<':
        return true;
    default:
        return false;
    }
}

static char lex_read(lexer_t *l)
{
    return l->pos < l->n ? l->s[l->pos++] : '\0';
}

static tok_t special_token(const char *b, size_t n)
{
    if (n == 1) {
        switch (b[0]) {
        case ')':
            return T_CPAR;
        case ',':
            return T_COMMA;
        case '!':
            return T_NOT;
        case '=':
            return T_EQ;
        case '>':
            return T_GT;
        case '<':
            return T_LT;
        case '(':
            return T_OPAR;
        default:
            return T_ERROR;
        }
    }
    if (n == 2 && b[1] == '=') {
        if (b[0] == '=') return T_DEQ;
        if (b[0] == '!') return T_NEQ;
    }
    return T_ERROR;
}

static item_t lex_next(lexer_t *l)
{
    char ch;
    do
        ch = lex_read(l);
    while (is_ws(ch));
    if (ch == '\0') return (item_t){T_EOS, "", 0};
    l->pos--;
    size_t start = l->pos;
    if (is_special(ch)) {
        /* scanSpecialSymbol: the longest operator prefix. */
        item_t last = {T_ERROR, NULL, 0};
        size_t blen = 0;
        for (;;) {
            char c = lex_read(l);
            if (c == '\0') break;
            if (!is_special(c)) {
                l->pos--;
                break;
            }
            blen++;
            tok_t t = special_token(l->s + start, blen);
            if (t != T_ERROR) {
                last = (item_t){t, l->s + start, blen};
            } else if (last.tok != T_ERROR) {
                l->pos--;
                break;
            }
        }
        return last; /* a single special symbol is always a token */
    }
    for (;;) {
        char c = lex_read(l);
        if (c == '\0') break;
        if (is_special(c) || is_ws(c)) {
            l->pos--;
            break;
        }
    }
    item_t it = {T_ID, l->s + start, l->pos - start};
    if (it.len == 2 && memcmp(it.lit, "in", 2) == 0) it.tok = T_IN;
    if (it.len == 5 && memcmp(it.lit, "notin", 5) == 0) it.tok = T_NOTIN;
    return it;
}

/* ---------------------------------------------------------------------------------------------
 * Label selectors: parser (labels.Parser)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    item_t *items;
    size_t n, pos;
} parser_t;

enum { CTX_KEY_OP, CTX_VALUES };

static item_t p_look(const parser_t *p, int ctx)
{
    item_t it = p->items[p->pos < p->n ? p->pos : p->n - 1];
    if (ctx == CTX_VALUES && (it.tok == T_IN || it.tok == T_NOTIN)) it.tok = T_ID;
    return it;
}

static item_t p_consume(parser_t *p, int ctx)
{
    item_t it = p_look(p, ctx);
    p->pos++;
    return it;
}

#define LIT(it) (int)(it).len, (it).lit

/* parseIdentifiersList, after '(' */
static int parse_ident_list(parser_t *p, strv_t *vals, sb_t *err)
{
    for (;;) {
        item_t it = p_consume(p, CTX_VALUES);
        if (it.tok == T_ID) {
            if (strv_addn(vals, it.lit, it.len)) return -ENOMEM;
            item_t n2 = p_look(p, CTX_VALUES);
            if (n2.tok == T_COMMA) continue;
            if (n2.tok == T_CPAR) return 0;
            sb_printf(err, "found '%.*s', expected: ',' or ')'", LIT(n2));
            return -EINVAL;
        } else if (it.tok == T_COMMA) {
            if (vals->n == 0 && strv_addn(vals, "", 0)) return -ENOMEM; /* "(," */
            item_t n2 = p_look(p, CTX_VALUES);
            if (n2.tok == T_CPAR) { /* ",)" */
                return strv_addn(vals, "", 0) ? -ENOMEM : 0;
            }
            if (n2.tok == T_COMMA && strv_addn(vals, "", 0)) return -ENOMEM; /* ",," */
        } else {
            sb_printf(err, "found '%.*s', expected: ',', or identifier", LIT(it));
            return -EINVAL;
        }
    }
}

static int parse_values(parser_t *p, strv_t *vals, sb_t *err)
{
    item_t it = p_consume(p, CTX_VALUES);
    if (it.tok != T_OPAR) {
        sb_printf(err, "found '%.*s' expected: '('", LIT(it));
        return -EINVAL;
    }
    it = p_look(p, CTX_VALUES);
    switch (it.tok) {
    case T_ID:
    case T_COMMA: {
        int rc = parse_ident_list(p, vals, err);
        if (rc) return rc;
        if (p_consume(p, CTX_VALUES).tok != T_CPAR) {
            sb_printf(err, "found '%.*s', expected: ')'", LIT(it));
            return -EINVAL;
        }
        return 0;
    }
    case T_CPAR: /* "()" */
        p_consume(p, CTX_VALUES);
        return strv_addn(vals, "", 0) ? -ENOMEM : 0;
    default:
        sb_printf(err, "found '%.*s', expected: ',', ')' or identifier", LIT(it));
        return -EINVAL;
    }
}

static int parse_exact_value(parser_t *p, strv_t *vals, sb_t *err)
{
    item_t it = p_look(p, CTX_VALUES);
    if (it.tok == T_EOS || it.tok == T_COMMA) return strv_addn(vals, "", 0) ? -ENOMEM : 0;
    it = p_consume(p, CTX_VALUES);
    if (it.tok == T_ID) return strv_addn(vals, it.lit, it.len) ? -ENOMEM : 0;
    sb_printf(err, "found '%.*s', expected: identifier", LIT(it));
    return -EINVAL;
}

static int parse_requirement(parser_t *p, lreq_t *r, sb_t *err)
{
    /* parseKeyAndInferOperator */
    bool has_op = false;
    lop_t op = OP_EXISTS;
    item_t it = p_consume(p, CTX_VALUES);
    if (it.tok == T_NOT) {
        op = OP_NOTEXISTS;
        has_op = true;
        it = p_consume(p, CTX_VALUES);
    }
    if (it.tok != T_ID) {
        sb_printf(err, "found '%.*s', expected: identifier", LIT(it));
        return -EINVAL;
    }
    if (key_error("<nil>", it.lit, it.len, err)) return err->oom ? -ENOMEM : -EINVAL;
    char *key = strndup(it.lit, it.len);
    if (!key) return -ENOMEM;
    tok_t next = p_look(p, CTX_VALUES).tok;
    if ((next == T_EOS || next == T_COMMA) && !has_op) {
        op = OP_EXISTS;
        has_op = true;
    }
    strv_t vals = {0};
    if (has_op) return new_requirement(key, op, &vals, false, false, r, err);

    /* parseOperator */
    it = p_consume(p, CTX_KEY_OP);
    switch (it.tok) {
    case T_IN:
        op = OP_IN;
        break;
    case T_EQ:
        op = OP_EQ;
        break;
    case T_DEQ:
        op = OP_DEQ;
        break;
    case T_GT:
        op = OP_GT;
        break;
    case T_LT:
        op = OP_LT;
        break;
    case T_NOTIN:
        op = OP_NOTIN;
        break;
    case T_NEQ:
        op = OP_NEQ;
        break;
    default:
        free(key);
        sb_printf(err, "found '%.*s', expected: in, notin, =, ==, !=, gt, lt", LIT(it));
        return -EINVAL;
    }
    int rc = (op == OP_IN || op == OP_NOTIN) ? parse_values(p, &vals, err)
                                             : parse_exact_value(p, &vals, err);
    if (rc) {
        free(key);
        strv_free(&vals);
        return rc;
    }
    strv_sort_unique(&vals);
    return new_requirement(key, op, &vals, false, false, r, err);
}

static int parse_selector(parser_t *p, label_selector_t *sel, sb_t *err)
{
    for (;;) {
        item_t it = p_look(p, CTX_VALUES);
        if (it.tok == T_EOS) return 0;
        if (it.tok != T_ID && it.tok != T_NOT) {
            sb_printf(err, "found '%.*s', expected: !, identifier, or 'end of string'", LIT(it));
            return -EINVAL;
        }
        lreq_t r = {0};
        sb_t rerr = {0};
        int rc = parse_requirement(p, &r, &rerr);
        if (rc) {
            if (rc == -EINVAL)
                sb_printf(err, "unable to parse requirement: %s", rerr.p ? rerr.p : "");
            free(rerr.p);
            return rc;
        }
        free(rerr.p);
        if ((rc = sel_push(sel, &r))) {
            lreq_clear(&r);
            return rc;
        }
        item_t t = p_consume(p, CTX_VALUES);
        if (t.tok == T_EOS) return 0;
        if (t.tok != T_COMMA) {
            sb_printf(err, "found '%.*s', expected: ',' or 'end of string'", LIT(t));
            return -EINVAL;
        }
        item_t t2 = p_look(p, CTX_VALUES);
        if (t2.tok != T_ID && t2.tok != T_NOT) {
            sb_printf(err, "found '%.*s', expected: identifier after ','", LIT(t2));
            return -EINVAL;
        }
    }
}

int label_selector_parse(const char *text, label_selector_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!text) text = "";
    label_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) return -ENOMEM;
    lexer_t l = {text, strlen(text), 0};
    parser_t p = {0};
    size_t cap = 0;
    int rc = 0;
    for (;;) { /* scan: every token up to and including end of string */
        if (p.n == cap) {
            cap = cap ? cap * 2 : 16;
            item_t *items = realloc(p.items, cap * sizeof *items);
            if (!items) {
                rc = -ENOMEM;
                break;
            }
            p.items = items;
        }
        p.items[p.n] = lex_next(&l);
        if (p.items[p.n++].tok == T_EOS) break;
    }
    sb_t err = {0};
    if (!rc) rc = parse_selector(&p, sel, &err);
    if (rc == -EINVAL && err.oom) rc = -ENOMEM;
    if (rc == -EINVAL)
        set_err(errbuf, errlen, "%s", err.p ? err.p : "");
    else if (rc)
        set_err(errbuf, errlen, "%s", strerror(-rc));
    free(err.p);
    free(p.items);
    if (rc) {
        label_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Label selectors: LabelSelector objects (metav1.LabelSelectorAsSelector)
 * ------------------------------------------------------------------------------------------- */

static int from_json_fail(label_selector_t *sel, sb_t *err, int rc, char *errbuf, size_t errlen)
{
    if (rc == -EINVAL && err->oom) rc = -ENOMEM;
    if (rc == -EINVAL)
        set_err(errbuf, errlen, "%s", err->p ? err->p : "");
    else
        set_err(errbuf, errlen, "%s", strerror(-rc));
    free(err->p);
    label_selector_free(sel);
    return rc;
}

int label_selector_from_json(json_t *ls, label_selector_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    label_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) return -ENOMEM;
    sb_t err = {0};
    if (!ls || json_is_null(ls)) { /* a nil LabelSelector selects nothing */
        sel->nothing = true;
        *out = sel;
        return 0;
    }
    if (!json_is_object(ls)) {
        sb_puts(&err, "label selector must be an object");
        return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
    }
    json_t *ml = json_object_get(ls, "matchLabels");
    json_t *me = json_object_get(ls, "matchExpressions");
    if (ml && !json_is_null(ml) && !json_is_object(ml)) {
        sb_puts(&err, "matchLabels: must be an object");
        return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
    }
    if (me && !json_is_null(me) && !json_is_array(me)) {
        sb_puts(&err, "matchExpressions: must be an array");
        return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
    }
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v)
    {
        if (!json_is_string(v)) {
            sb_printf(&err, "matchLabels[%s]: must be a string", k);
            return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
        }
        char *key = strdup(k);
        strv_t vals = {0};
        if (!key || strv_addn(&vals, json_string_value(v), json_string_length(v))) {
            free(key);
            strv_free(&vals);
            return from_json_fail(sel, &err, -ENOMEM, errbuf, errlen);
        }
        lreq_t r = {0};
        int rc = new_requirement(key, OP_EQ, &vals, false, true, &r, &err);
        if (!rc && (rc = sel_push(sel, &r))) lreq_clear(&r);
        if (rc) return from_json_fail(sel, &err, rc, errbuf, errlen);
    }
    size_t i;
    json_array_foreach(me, i, v)
    {
        json_t *jkey = json_object_get(v, "key");
        json_t *jop = json_object_get(v, "operator");
        json_t *jvals = json_object_get(v, "values");
        if (!json_is_object(v) || (jkey && !json_is_string(jkey)) ||
            (jop && !json_is_string(jop)) ||
            (jvals && !json_is_null(jvals) && !json_is_array(jvals))) {
            sb_printf(&err,
                      "matchExpressions[%zu]: must be an object with string key and "
                      "operator and an array of string values",
                      i);
            return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
        }
        const char *opname = jop ? json_string_value(jop) : "";
        lop_t op;
        if (strcmp(opname, "In") == 0)
            op = OP_IN;
        else if (strcmp(opname, "NotIn") == 0)
            op = OP_NOTIN;
        else if (strcmp(opname, "Exists") == 0)
            op = OP_EXISTS;
        else if (strcmp(opname, "DoesNotExist") == 0)
            op = OP_NOTEXISTS;
        else {
            sb_quoted(&err, opname, jop ? json_string_length(jop) : 0);
            sb_puts(&err, " is not a valid label selector operator");
            return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
        }
        strv_t vals = {0};
        size_t j;
        json_t *jv;
        json_array_foreach(jvals, j, jv)
        {
            if (!json_is_string(jv)) {
                strv_free(&vals);
                sb_printf(&err, "matchExpressions[%zu].values[%zu]: must be a string", i, j);
                return from_json_fail(sel, &err, -EINVAL, errbuf, errlen);
            }
            if (strv_addn(&vals, json_string_value(jv), json_string_length(jv))) {
                strv_free(&vals);
                return from_json_fail(sel, &err, -ENOMEM, errbuf, errlen);
            }
        }
        char *key =
            strndup(jkey ? json_string_value(jkey) : "", jkey ? json_string_length(jkey) : 0);
        if (!key) {
            strv_free(&vals);
            return from_json_fail(sel, &err, -ENOMEM, errbuf, errlen);
        }
        lreq_t r = {0};
        int rc = new_requirement(key, op, &vals, vals.n == 0, true, &r, &err);
        if (!rc && (rc = sel_push(sel, &r))) lreq_clear(&r);
        if (rc) return from_json_fail(sel, &err, rc, errbuf, errlen);
    }
    free(err.p);
    *out = sel;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Label selectors: matching
 * ------------------------------------------------------------------------------------------- */

static bool lreq_has_value(const lreq_t *r, const char *v)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (strcmp(r->vals[i], v) == 0) return true;
    return false;
}

static bool lreq_matches(const lreq_t *r, json_t *labels)
{
    json_t *jv = json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
    const char *val = jv ? json_string_value(jv) : NULL;
    if (jv && !val) val = "";
    switch (r->op) {
    case OP_IN:
    case OP_EQ:
    case OP_DEQ:
        return val && lreq_has_value(r, val);
    case OP_NOTIN:
    case OP_NEQ:
        return !val || !lreq_has_value(r, val);
    case OP_EXISTS:
        return jv != NULL;
    case OP_NOTEXISTS:
        return jv == NULL;
    case OP_GT:
    case OP_LT: {
        int64_t have, want;
        if (!val || r->nvals != 1 || !parse_int64(val, &have) || !parse_int64(r->vals[0], &want))
            return false;
        return r->op == OP_GT ? have > want : have < want;
    }
    }
    return false;
}

bool label_selector_matches(const label_selector_t *sel, json_t *labels)
{
    if (!sel) return true;
    if (sel->nothing) return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!lreq_matches(&sel->reqs[i], labels)) return false;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Field selectors (fields.ParseSelector)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    char *field;
    char *value;
    bool neq;
} fterm_t;

struct field_selector {
    size_t n;
    fterm_t *terms;
};

void field_selector_free(field_selector_t *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->terms[i].field);
        free(sel->terms[i].value);
    }
    free(sel->terms);
    free(sel);
}

typedef struct {
    const char *p;
    size_t n;
} slice_t;

static int cmp_slice(const void *a, const void *b)
{
    const slice_t *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c) return c;
    return (x->n > y->n) - (x->n < y->n);
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

/* fields.UnescapeValue. Returns a malloc'd string, or NULL with *rc set (and err filled). */
static char *unescape_value(const char *s, size_t n, int *rc, sb_t *err)
{
    *rc = 0;
    bool special = false;
    for (size_t i = 0; i < n && !special; i++)
        special = s[i] == '\\' || s[i] == ',' || s[i] == '=';
    if (!special) {
        char *c = strndup(s, n);
        if (!c) *rc = -ENOMEM;
        return c;
    }
    sb_t v = {0};
    sb_append(&v, "", 0);
    bool in_slash = false;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t w;
        uint32_t r = goquote_decode_rune(u + i, n - i, &w);
        const char *bytes = (r == 0xFFFD && w == 1) ? REPLACEMENT : s + i;
        size_t blen = (r == 0xFFFD && w == 1) ? 3 : w;
        i += w;
        if (in_slash) {
            if (r == '\\' || r == ',' || r == '=') {
                sb_append(&v, bytes, blen);
            } else {
                sb_puts(err, "invalid field selector: invalid escape sequence: \\");
                sb_append(err, bytes, blen);
                free(v.p);
                *rc = -EINVAL;
                return NULL;
            }
            in_slash = false;
            continue;
        }
        if (r == '\\') {
            in_slash = true;
        } else if (r == ',' || r == '=') {
            sb_printf(err, "invalid field selector: unescaped character in value: %u", (unsigned)r);
            free(v.p);
            *rc = -EINVAL;
            return NULL;
        } else {
            sb_append(&v, bytes, blen);
        }
    }
    if (in_slash) {
        sb_puts(err, "invalid field selector: invalid escape sequence: \\");
        free(v.p);
        *rc = -EINVAL;
        return NULL;
    }
    if (v.oom) {
        free(v.p);
        *rc = -ENOMEM;
        return NULL;
    }
    return v.p;
}

int field_selector_parse(const char *text, field_selector_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!text) text = "";
    size_t n = strlen(text);
    field_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) return -ENOMEM;
    int rc = 0;
    sb_t err = {0};
    /* splitTerms: commas not preceded by an escaping backslash. */
    size_t nparts = 0;
    slice_t *parts = NULL;
    if (n) {
        size_t count = 1;
        for (size_t i = 0; i < n; i++)
            if (text[i] == ',') count++;
        parts = calloc(count, sizeof *parts);
        if (!parts) {
            free(sel);
            return -ENOMEM;
        }
        size_t start = 0;
        bool in_slash = false;
        for (size_t i = 0; i < n; i++) {
            if (in_slash)
                in_slash = false;
            else if (text[i] == '\\')
                in_slash = true;
            else if (text[i] == ',') {
                parts[nparts++] = (slice_t){text + start, i - start};
                start = i + 1;
            }
        }
        parts[nparts++] = (slice_t){text + start, n - start};
        qsort(parts, nparts, sizeof *parts, cmp_slice);
        sel->terms = calloc(nparts, sizeof *sel->terms);
        if (!sel->terms) rc = -ENOMEM;
    }
    for (size_t i = 0; i < nparts && !rc; i++) {
        slice_t part = parts[i];
        if (part.n == 0) continue;
        /* splitTerm: the first "!=", "==" or "=" */
        size_t at = 0, oplen = 0;
        bool neq = false;
        for (size_t j = 0; j < part.n; j++) {
            if (part.p[j] == '!' && j + 1 < part.n && part.p[j + 1] == '=') {
                at = j, oplen = 2, neq = true;
                break;
            }
            if (part.p[j] == '=') {
                at = j, oplen = (j + 1 < part.n && part.p[j + 1] == '=') ? 2 : 1;
                break;
            }
        }
        if (!oplen) {
            sb_printf(&err, "invalid selector: '%s'; can't understand '%.*s'", text, (int)part.n,
                      part.p);
            rc = -EINVAL;
            break;
        }
        char *value = unescape_value(part.p + at + oplen, part.n - at - oplen, &rc, &err);
        if (!value) break;
        char *field = strndup(part.p, at);
        if (!field) {
            free(value);
            rc = -ENOMEM;
            break;
        }
        sel->terms[sel->n++] = (fterm_t){field, value, neq};
    }
    free(parts);
    if (rc == -EINVAL && err.oom) rc = -ENOMEM;
    if (rc == -EINVAL)
        set_err(errbuf, errlen, "%s", err.p ? err.p : "");
    else if (rc)
        set_err(errbuf, errlen, "%s", strerror(-rc));
    free(err.p);
    if (rc) {
        field_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

size_t field_selector_count(const field_selector_t *sel)
{
    return sel ? sel->n : 0;
}

const char *field_selector_field(const field_selector_t *sel, size_t i)
{
    return sel && i < sel->n ? sel->terms[i].field : NULL;
}

const char *field_selector_exact(const field_selector_t *sel, const char *field)
{
    if (!sel || !field) return NULL;
    for (size_t i = 0; i < sel->n; i++)
        if (!sel->terms[i].neq && strcmp(sel->terms[i].field, field) == 0)
            return sel->terms[i].value;
    return NULL;
}

/* Looks up "a.b.c" as nested keys; NULL if any step is missing or not an object. */
static json_t *lookup_path(json_t *obj, const char *path)
{
    json_t *cur = obj;
    const char *p = path;
    for (;;) {
        if (!json_is_object(cur)) return NULL;
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        cur = json_object_getn(cur, p, n);
        if (!cur || !dot) return cur;
        p = dot + 1;
    }
}

/* The field's string form in buf (or a borrowed pointer); "" when missing or composite. */
static const char *field_string(json_t *v, char *buf, size_t len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) { /* shortest round-trip form */
            snprintf(buf, len, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
        return buf;
    }
    default:
        return "";
    }
}

bool field_selector_matches(const field_selector_t *sel, json_t *obj)
{
    if (!sel) return true;
    for (size_t i = 0; i < sel->n; i++) {
        const fterm_t *t = &sel->terms[i];
        char buf[64];
        json_t *v = lookup_path(obj, t->field);
        const char *s = v ? field_string(v, buf, sizeof buf) : "";
        bool eq = strcmp(s, t->value) == 0;
        if (eq == t->neq) return false;
    }
    return true;
}
