/* jsonpath: JSONPath as kubectl printer columns use it: a port of
 * k8s.io/client-go/util/jsonpath (parser.go, jsonpath.go) with AllowMissingKeys(true), over
 * jansson values. range/end are not supported (compile errors). */
#include "apiserver/jsonpath.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/goquote.h"
#include "base/strbuf.h"

/* ---------------------------------------------------------------------------------------------
 * A port of k8s.io/client-go/util/jsonpath (parser.go, jsonpath.go) with
 * AllowMissingKeys(true), over jansson values. range/end are not supported (errors).
 * ------------------------------------------------------------------------------------------- */

typedef enum jk {
    JK_TEXT,
    JK_FIELD,
    JK_ARRAY,
    JK_FILTER,
    JK_INT,
    JK_FLOAT,
    JK_BOOL,
    JK_WILDCARD,
    JK_RECURSIVE,
    JK_UNION,
    JK_IDENT,
} jk_t;

typedef struct jnode jnode_t;
typedef struct jlist {
    jnode_t **v;
    size_t n, cap;
} jlist_t;

typedef struct jparam {
    bool known, derived;
    long long value;
} jparam_t;

struct jnode {
    jk_t kind;
    char *str;     /* FIELD/IDENT name, FILTER operator */
    json_t *lit;   /* TEXT/INT/FLOAT/BOOL value */
    jparam_t p[3]; /* ARRAY start:end:step */
    jlist_t left;  /* FILTER */
    jlist_t right; /* FILTER */
    jlist_t *un;   /* UNION branches */
    size_t n_un;
};

static void jlist_free(jlist_t *l);

static void jnode_free(jnode_t *nd)
{
    if (!nd) return;
    free(nd->str);
    json_decref(nd->lit);
    jlist_free(&nd->left);
    jlist_free(&nd->right);
    for (size_t i = 0; i < nd->n_un; i++)
        jlist_free(&nd->un[i]);
    free(nd->un);
    free(nd);
}

static void jlist_free(jlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        jnode_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static void jlist_push(jlist_t *l, jnode_t *nd)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jnode_t **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) abort();
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = nd;
}

static jnode_t *jlist_add(jlist_t *l, jk_t kind)
{
    jnode_t *nd = calloc(1, sizeof *nd);
    if (!nd) abort();
    nd->kind = kind;
    jlist_push(l, nd);
    return nd;
}

#define JP_EOF (-1)

typedef struct jparser {
    const char *s;
    size_t len, pos, start;
    size_t width;
} jparser_t;

static int jp_next(jparser_t *p)
{
    if (p->pos >= p->len) {
        p->width = 0;
        return JP_EOF;
    }
    p->width = 1;
    return (unsigned char)p->s[p->pos++];
}

static void jp_backup(jparser_t *p)
{
    p->pos -= p->width;
}

static int jp_peek(jparser_t *p)
{
    int r = jp_next(p);
    jp_backup(p);
    return r;
}

static bool jp_prefix(const jparser_t *p, const char *pre)
{
    size_t k = strlen(pre);
    return p->len - p->pos >= k && memcmp(p->s + p->pos, pre, k) == 0;
}

static const char *jp_consume(jparser_t *p, size_t *n)
{
    const char *t = p->s + p->start;
    *n = p->pos - p->start;
    p->start = p->pos;
    return t;
}

static bool jp_is_term(int r)
{
    switch (r) {
    case JP_EOF:
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '.':
    case ',':
    case '[':
    case ']':
    case '$':
    case '@':
    case '{':
    case '}':
        return true;
    default:
        return false;
    }
}

static bool jp_is_digit(int r)
{
    return r >= '0' && r <= '9';
}

static bool jp_is_alnum(int r)
{
    return r == '_' || jp_is_digit(r) || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
           r >= 0x80;
}

/* strconv.Atoi */
static bool go_atoi(const char *s, size_t n, long long *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i++;
    }
    if (i == n) return false;
    unsigned long long v = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    for (; i < n; i++) {
        if (!jp_is_digit((unsigned char)s[i])) return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static int jp_parse_action(jparser_t *p, jlist_t *cur);

/* parseAction(name, text): Parse("{"+text+"}") and take the first action's list. */
static int jp_parse_sub(const char *text, size_t n, jlist_t *out)
{
    char *buf = malloc(n + 3);
    if (!buf) abort();
    buf[0] = '{';
    memcpy(buf + 1, text, n);
    buf[n + 1] = '}';
    buf[n + 2] = 0;
    jparser_t p = {.s = buf, .len = n + 2, .pos = 1, .start = 1};
    int rc = jp_parse_action(&p, out);
    while (rc == 0 && p.pos < p.len) { /* parseText: later actions must parse too */
        if (buf[p.pos] == '{') {
            p.pos++;
            p.start = p.pos;
            jlist_t scratch = {0};
            rc = jp_parse_action(&p, &scratch);
            jlist_free(&scratch);
        } else {
            p.pos++;
        }
    }
    free(buf);
    if (rc) jlist_free(out);
    return rc;
}

static int jp_parse_field(jparser_t *p, jlist_t *cur)
{
    size_t n;
    jp_consume(p, &n);
    for (;;) {
        int r = jp_next(p);
        if (r == '\\') {
            jp_next(p);
            continue;
        }
        if (jp_is_term(r)) {
            jp_backup(p);
            break;
        }
    }
    const char *t = jp_consume(p, &n);
    if (n == 1 && t[0] == '*') {
        jlist_add(cur, JK_WILDCARD);
        return 0;
    }
    jnode_t *nd = jlist_add(cur, JK_FIELD);
    nd->str = malloc(n + 1);
    if (!nd->str) abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] != '\\') nd->str[k++] = t[i];
    nd->str[k] = 0;
    return 0;
}

static int jp_parse_array(jparser_t *p, jlist_t *cur)
{
    for (;;) {
        int r = jp_next(p);
        if (r == JP_EOF || r == '\n') return -1;
        if (r == ']') break;
    }
    size_t n;
    const char *t = jp_consume(p, &n);
    t++;
    n -= 2;
    if (n == 1 && t[0] == '*') t = ":";

    if (memchr(t, ',', n)) { /* union */
        jnode_t *nd = jlist_add(cur, JK_UNION);
        size_t parts = 1;
        for (size_t i = 0; i < n; i++)
            parts += t[i] == ',';
        nd->un = calloc(parts, sizeof *nd->un);
        if (!nd->un) abort();
        size_t s = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && t[i] != ',') continue;
            size_t a = s, b = i;
            while (a < b && t[a] == ' ')
                a++;
            while (b > a && t[b - 1] == ' ')
                b--;
            strbuf_t part = {0};
            strbuf_putc(&part, '[');
            strbuf_putn(&part, t + a, b - a);
            strbuf_putc(&part, ']');
            int rc = jp_parse_sub(part.p, part.n, &nd->un[nd->n_un]);
            strbuf_free(&part);
            if (rc) return -1;
            nd->n_un++;
            s = i + 1;
        }
        return 0;
    }

    if (n >= 2 && t[0] == '\'' && t[n - 1] == '\'' && !memchr(t + 1, '\'', n - 2)) { /* dict key */
        strbuf_t key = {0};
        strbuf_putc(&key, '.');
        strbuf_putn(&key, t + 1, n - 2);
        jlist_t sub = {0};
        int rc = jp_parse_sub(key.p, key.n, &sub);
        strbuf_free(&key);
        if (rc) return -1;
        for (size_t i = 0; i < sub.n; i++)
            jlist_push(cur, sub.v[i]);
        free(sub.v);
        return 0;
    }

    /* slice: ^(-?\d*)(:-?\d*)?(:-?\d*)?$ */
    size_t gs[3], ge[3], i = 0;
    gs[0] = i;
    if (i < n && t[i] == '-') i++;
    while (i < n && jp_is_digit((unsigned char)t[i]))
        i++;
    ge[0] = i;
    for (int g = 1; g < 3; g++) {
        gs[g] = ge[g] = i;
        if (i < n && t[i] == ':') {
            i++;
            if (i < n && t[i] == '-') i++;
            while (i < n && jp_is_digit((unsigned char)t[i]))
                i++;
            ge[g] = i;
        }
    }
    if (i != n) return -1;
    jparam_t prm[3] = {{0}};
    for (int g = 0; g < 3; g++) {
        const char *v = t + gs[g];
        size_t vl = ge[g] - gs[g];
        if (vl) {
            if (g > 0) v++, vl--;
            if (g > 0 && vl == 0) {
                prm[g].known = false;
            } else {
                prm[g].known = true;
                if (!go_atoi(v, vl, &prm[g].value)) return -1;
            }
        } else if (g == 1) {
            prm[g].known = true;
            prm[g].value = prm[0].value + 1;
            prm[g].derived = true;
        }
    }
    jnode_t *nd = jlist_add(cur, JK_ARRAY);
    memcpy(nd->p, prm, sizeof prm);
    return 0;
}

static bool is_filter_op(char c)
{
    return c == '!' || c == '<' || c == '>' || c == '=';
}

static int jp_parse_filter(jparser_t *p, jlist_t *cur)
{
    size_t n;
    p->pos += 3;
    jp_consume(p, &n);
    bool begin = false, end = false;
    int pair = 0;
    for (;;) {
        int r = jp_next(p);
        if (r == JP_EOF || r == '\n') return -1;
        if (r == '"' || r == '\'') {
            if (!begin) {
                begin = true;
                pair = r;
                continue;
            }
            if (p->s[p->pos - 2] != '\\' && r == pair) end = true;
        } else if (r == ')') {
            if (begin == end) break;
        }
    }
    if (jp_next(p) != ']') return -1;
    const char *t = jp_consume(p, &n);
    n -= 2;

    /* ^([^!<>=]+)([!<>=]+)(.+?)$ */
    size_t a = 0;
    while (a < n && !is_filter_op(t[a]))
        a++;
    size_t b = a;
    while (b < n && is_filter_op(t[b]))
        b++;
    bool match = a > 0 && a < n;
    if (match && b == n) {
        if (b - a >= 2)
            b--;
        else
            match = false;
    }
    jnode_t *nd = jlist_add(cur, JK_FILTER);
    if (!match) {
        nd->str = strdup("exists");
        return jp_parse_sub(t, n, &nd->left);
    }
    nd->str = strndup(t + a, b - a);
    if (!nd->str) abort();
    if (jp_parse_sub(t, a, &nd->left)) return -1;
    return jp_parse_sub(t + b, n - b, &nd->right);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(strbuf_t *b, uint32_t cp)
{
    char o[4];
    if (cp < 0x80) {
        strbuf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, o, 3);
    } else {
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, o, 4);
    }
}

/* jsonpath.UnquoteExtend: strconv.Unquote that also takes single quotes. */
static bool unquote_extend(const char *s, size_t n, strbuf_t *out)
{
    if (n < 2) return false;
    char q = s[0];
    if ((q != '"' && q != '\'') || s[n - 1] != q) return false;
    s++;
    n -= 2;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q) return false;
        if (c >= 0x80) {
            uint32_t cp;
            size_t len;
            if (goquote_next_rune((const unsigned char *)s + i, n - i, &cp, &len)) {
                strbuf_putn(out, s + i, len);
                i += len;
            } else {
                strbuf_puts(out, "\xef\xbf\xbd");
                i++;
            }
            continue;
        }
        if (c != '\\') {
            strbuf_putc(out, (char)c);
            i++;
            continue;
        }
        if (++i >= n) return false;
        char e = s[i++];
        switch (e) {
        case 'a':
            strbuf_putc(out, '\a');
            break;
        case 'b':
            strbuf_putc(out, '\b');
            break;
        case 'f':
            strbuf_putc(out, '\f');
            break;
        case 'n':
            strbuf_putc(out, '\n');
            break;
        case 'r':
            strbuf_putc(out, '\r');
            break;
        case 't':
            strbuf_putc(out, '\t');
            break;
        case 'v':
            strbuf_putc(out, '\v');
            break;
        case '\\':
            strbuf_putc(out, '\\');
            break;
        case '\'':
        case '"':
            if (e != q) return false;
            strbuf_putc(out, e);
            break;
        case 'x':
        case 'u':
        case 'U': {
            int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t v = 0;
            if (i + (size_t)nd > n) return false;
            for (int k = 0; k < nd; k++) {
                int h = hexval(s[i + (size_t)k]);
                if (h < 0) return false;
                v = v * 16 + (uint32_t)h;
            }
            i += (size_t)nd;
            if (e == 'x') {
                strbuf_putc(out, (char)v);
            } else {
                if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return false;
                put_utf8(out, v);
            }
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                uint32_t v = (uint32_t)(e - '0');
                if (i + 2 > n) return false;
                for (int k = 0; k < 2; k++) {
                    char o = s[i++];
                    if (o < '0' || o > '7') return false;
                    v = v * 8 + (uint32_t)(o - '0');
                }
                if (v > 255) return false;
                strbuf_putc(out, (char)v);
                break;
            }
            return false;
        }
    }
    return true;
}

static int jp_parse_quote(jparser_t *p, jlist_t *cur, int endq)
{
    for (;;) {
        int r = jp_next(p);
        if (r == JP_EOF || r == '\n') return -1;
        if (r == endq && p->s[p->pos - 2] != '\\') break;
    }
    size_t n;
    const char *t = jp_consume(p, &n);
    strbuf_t u = {0};
    if (!unquote_extend(t, n, &u)) {
        strbuf_free(&u);
        return -1;
    }
    jnode_t *nd = jlist_add(cur, JK_TEXT);
    nd->lit = json_stringn(strbuf_str(&u), u.n);
    if (!nd->lit) nd->lit = json_stringn_nocheck(strbuf_str(&u), u.n);
    strbuf_free(&u);
    return 0;
}

static int jp_parse_number(jparser_t *p, jlist_t *cur)
{
    int r = jp_peek(p);
    if (r == '+' || r == '-') jp_next(p);
    for (;;) {
        r = jp_next(p);
        if (r != '.' && !jp_is_digit(r)) {
            jp_backup(p);
            break;
        }
    }
    size_t n;
    const char *t = jp_consume(p, &n);
    long long iv;
    if (go_atoi(t, n, &iv)) {
        jlist_add(cur, JK_INT)->lit = json_integer(iv);
        return 0;
    }
    char buf[64];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, t, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || end == buf) return -1;
    jlist_add(cur, JK_FLOAT)->lit = json_real(d);
    return 0;
}

static int jp_parse_identifier(jparser_t *p, jlist_t *cur)
{
    for (;;) {
        int r = jp_next(p);
        if (jp_is_term(r)) {
            jp_backup(p);
            break;
        }
    }
    size_t n;
    const char *t = jp_consume(p, &n);
    if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0)) {
        jlist_add(cur, JK_BOOL)->lit = json_boolean(n == 4);
        return 0;
    }
    jnode_t *nd = jlist_add(cur, JK_IDENT);
    nd->str = strndup(t, n);
    if (!nd->str) abort();
    return 0;
}

static int jp_parse_recursive(jparser_t *p, jlist_t *cur)
{
    if (cur->n && cur->v[cur->n - 1]->kind == JK_RECURSIVE) return -1;
    size_t n;
    p->pos += 2;
    jp_consume(p, &n);
    jlist_add(cur, JK_RECURSIVE);
    if (jp_is_alnum(jp_peek(p))) return jp_parse_field(p, cur);
    return 0;
}

/* parseInsideAction, iteratively: until the closing '}' of the action. */
static int jp_parse_action(jparser_t *p, jlist_t *cur)
{
    for (;;) {
        size_t n;
        if (jp_prefix(p, "}")) {
            p->pos++;
            jp_consume(p, &n);
            return 0;
        }
        if (jp_prefix(p, "[?(")) {
            if (jp_parse_filter(p, cur)) return -1;
            continue;
        }
        if (jp_prefix(p, "..")) {
            if (jp_parse_recursive(p, cur)) return -1;
            continue;
        }
        int r = jp_next(p), rc;
        if (r == JP_EOF || r == '\r' || r == '\n') return -1;
        if (r == ' ' || r == '@' || r == '$') {
            jp_consume(p, &n);
            continue;
        }
        if (r == '[') {
            rc = jp_parse_array(p, cur);
        } else if (r == '"' || r == '\'') {
            rc = jp_parse_quote(p, cur, r);
        } else if (r == '.') {
            rc = jp_parse_field(p, cur);
        } else if (r == '+' || r == '-' || jp_is_digit(r)) {
            jp_backup(p);
            rc = jp_parse_number(p, cur);
        } else if (jp_is_alnum(r)) {
            jp_backup(p);
            rc = jp_parse_identifier(p, cur);
        } else {
            return -1;
        }
        if (rc) return -1;
    }
}

/* Compiles a printer-column path (".spec.x") or a template whose first action is used
 * ("{.spec.x}"). */
static int jp_compile(const char *path, jlist_t *out)
{
    size_t n = strlen(path);
    if (n && path[0] == '{') {
        jparser_t p = {.s = path, .len = n, .pos = 1, .start = 1};
        int rc = jp_parse_action(&p, out);
        if (rc) jlist_free(out);
        return rc;
    }
    return jp_parse_sub(path, n, out);
}

/* Evaluation: lists of borrowed values. */
typedef struct vals {
    json_t **v;
    size_t n, cap;
} vals_t;

static void vals_push(vals_t *a, json_t *x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        json_t **nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) abort();
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = x;
}

static void vals_free(vals_t *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

static void vals_copy(vals_t *dst, const vals_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        vals_push(dst, src->v[i]);
}

/* Error return of an eval step: Go returns its input alongside the error. */
static int fail_with_input(vals_t *out, const vals_t *in)
{
    out->n = 0;
    vals_copy(out, in);
    return -1;
}

typedef enum gk { GK_INVALID, GK_BOOL, GK_INT, GK_FLOAT, GK_STRING } gk_t;

static gk_t gkind(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return GK_STRING;
    case JSON_INTEGER:
        return GK_INT;
    case JSON_REAL:
        return GK_FLOAT;
    case JSON_TRUE:
    case JSON_FALSE:
        return GK_BOOL;
    default:
        return GK_INVALID;
    }
}

static int str_cmp(json_t *a, json_t *b)
{
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

/* text/template eq and lt as the forked client-go template implements them. */
static int g_eq(json_t *a, json_t *b, bool *res)
{
    gk_t ka = gkind(a), kb = gkind(b);
    if (ka == GK_INVALID || kb == GK_INVALID || ka != kb) return -1;
    switch (ka) {
    case GK_BOOL:
        *res = json_is_true(a) == json_is_true(b);
        break;
    case GK_INT:
        *res = json_integer_value(a) == json_integer_value(b);
        break;
    case GK_FLOAT:
        *res = json_real_value(a) == json_real_value(b);
        break;
    default:
        *res = str_cmp(a, b) == 0;
        break;
    }
    return 0;
}

static int g_lt(json_t *a, json_t *b, bool *res)
{
    gk_t ka = gkind(a), kb = gkind(b);
    if (ka == GK_INVALID || kb == GK_INVALID || ka != kb || ka == GK_BOOL) return -1;
    switch (ka) {
    case GK_INT:
        *res = json_integer_value(a) < json_integer_value(b);
        break;
    case GK_FLOAT:
        *res = json_real_value(a) < json_real_value(b);
        break;
    default:
        *res = str_cmp(a, b) < 0;
        break;
    }
    return 0;
}

/* 1 pass, 0 no, -1 error */
static int g_compare(const char *op, json_t *a, json_t *b)
{
    bool lt = false, eq = false;
    if (strcmp(op, "==") == 0 || strcmp(op, "!=") == 0) {
        if (g_eq(a, b, &eq)) return -1;
        return op[0] == '=' ? eq : !eq;
    }
    if (strcmp(op, "<") == 0 || strcmp(op, ">=") == 0) {
        if (g_lt(a, b, &lt)) return -1;
        return op[0] == '<' ? lt : !lt;
    }
    if (strcmp(op, "<=") == 0 || strcmp(op, ">") == 0) {
        if (g_lt(a, b, &lt)) return -1;
        if (!lt && g_eq(a, b, &eq)) return -1;
        bool le = lt || eq;
        return op[0] == '<' ? le : !le;
    }
    return -1;
}

static int jp_eval_list(const jlist_t *l, const vals_t *in, vals_t *out);

static void jp_recursive(const vals_t *in, vals_t *out)
{
    for (size_t i = 0; i < in->n; i++) {
        json_t *v = in->v[i];
        vals_t kids = {0};
        if (json_is_object(v)) {
            const char *k;
            json_t *x;
            json_object_foreach(v, k, x) vals_push(&kids, x);
        } else if (json_is_array(v)) {
            size_t j;
            json_t *x;
            json_array_foreach(v, j, x) vals_push(&kids, x);
        } else if (json_is_string(v) && json_string_length(v) > 0) {
            vals_push(out, v); /* Go walks a string's bytes, which have no children */
            continue;
        }
        if (kids.n) {
            vals_push(out, v);
            jp_recursive(&kids, out);
        }
        vals_free(&kids);
    }
}

static int jp_eval_array(const jnode_t *nd, const vals_t *in, vals_t *out)
{
    for (size_t k = 0; k < in->n; k++) {
        json_t *v = in->v[k];
        if (json_is_null(v)) continue;
        if (!json_is_array(v)) return fail_with_input(out, in);
        long long len = (long long)json_array_size(v);
        jparam_t p[3];
        memcpy(p, nd->p, sizeof p);
        if (!p[0].known) p[0].value = 0;
        if (p[0].value < 0) p[0].value += len;
        if (!p[1].known) p[1].value = len;
        if (p[1].value < 0 || (p[1].value == 0 && p[1].derived)) p[1].value += len;
        if (p[1].value == p[0].value) return 0;
        if (p[0].value >= len || p[0].value < 0 || p[1].value > len || p[1].value < 0 ||
            p[0].value > p[1].value)
            return fail_with_input(out, in);
        long long step = 1;
        if (p[2].known) {
            if (p[2].value <= 0) return fail_with_input(out, in);
            step = p[2].value;
        }
        for (long long i = p[0].value; i < p[1].value;) {
            vals_push(out, json_array_get(v, (size_t)i));
            if (p[1].value - i <= step) break;
            i += step;
        }
    }
    return 0;
}

static int jp_eval_filter(const jnode_t *nd, const vals_t *in, vals_t *out)
{
    bool exists = strcmp(nd->str, "exists") == 0;
    for (size_t k = 0; k < in->n; k++) {
        json_t *v = in->v[k];
        if (!json_is_array(v)) return fail_with_input(out, in);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            vals_t one = {.v = &e, .n = 1, .cap = 1}, lefts = {0}, rights = {0};
            int err = jp_eval_list(&nd->left, &one, &lefts);
            if (exists) {
                if (lefts.n) vals_push(out, e);
                vals_free(&lefts);
                continue;
            }
            if (err || lefts.n > 1) {
                vals_free(&lefts);
                return fail_with_input(out, in);
            }
            if (lefts.n == 0) continue;
            json_t *left = lefts.v[0];
            vals_free(&lefts);
            err = jp_eval_list(&nd->right, &one, &rights);
            if (err || rights.n > 1) {
                vals_free(&rights);
                return fail_with_input(out, in);
            }
            if (rights.n == 0) continue;
            json_t *right = rights.v[0];
            vals_free(&rights);
            int pass = g_compare(nd->str, left, right);
            if (pass < 0) return -1;
            if (pass) vals_push(out, e);
        }
    }
    return 0;
}

static int jp_eval_node(const jnode_t *nd, const vals_t *in, vals_t *out)
{
    switch (nd->kind) {
    case JK_TEXT:
        vals_push(out, nd->lit);
        return 0;
    case JK_INT:
    case JK_FLOAT:
    case JK_BOOL:
        for (size_t i = 0; i < in->n; i++)
            vals_push(out, nd->lit);
        return 0;
    case JK_FIELD:
        for (size_t i = 0; i < in->n; i++) {
            json_t *x = json_is_object(in->v[i]) ? json_object_get(in->v[i], nd->str) : NULL;
            if (x) vals_push(out, x);
        }
        return 0;
    case JK_WILDCARD:
        for (size_t i = 0; i < in->n; i++) {
            json_t *v = in->v[i], *x;
            if (json_is_object(v)) {
                const char *k;
                json_object_foreach(v, k, x) vals_push(out, x);
            } else if (json_is_array(v)) {
                size_t j;
                json_array_foreach(v, j, x) vals_push(out, x);
            }
        }
        return 0;
    case JK_RECURSIVE:
        jp_recursive(in, out);
        return 0;
    case JK_ARRAY:
        return jp_eval_array(nd, in, out);
    case JK_FILTER:
        return jp_eval_filter(nd, in, out);
    case JK_UNION:
        for (size_t u = 0; u < nd->n_un; u++) {
            vals_t tmp = {0};
            int rc = jp_eval_list(&nd->un[u], in, &tmp);
            if (rc) {
                vals_free(&tmp);
                return fail_with_input(out, in);
            }
            vals_copy(out, &tmp);
            vals_free(&tmp);
        }
        return 0;
    case JK_IDENT:
    default:
        return fail_with_input(out, in);
    }
}

static int jp_eval_list(const jlist_t *l, const vals_t *in, vals_t *out)
{
    vals_t cur = {0};
    vals_copy(&cur, in);
    for (size_t i = 0; i < l->n; i++) {
        vals_t next = {0};
        int rc = jp_eval_node(l->v[i], &cur, &next);
        vals_free(&cur);
        cur = next;
        if (rc) {
            *out = cur;
            return -1;
        }
    }
    *out = cur;
    return 0;
}

/* The first result of a compiled path on obj (borrowed from obj or the path), or NULL. */
static json_t *jp_first(const jlist_t *path, json_t *obj)
{
    vals_t in = {.v = &obj, .n = 1, .cap = 1}, out = {0};
    json_t *r = NULL;
    if (jp_eval_list(path, &in, &out) == 0 && out.n > 0) r = out.v[0];
    vals_free(&out);
    return r;
}

static bool jlist_owns(const jlist_t *l, json_t *v)
{
    for (size_t i = 0; i < l->n; i++) {
        const jnode_t *nd = l->v[i];
        if (nd->lit == v && nd->kind != JK_BOOL) return true;
        if (jlist_owns(&nd->left, v) || jlist_owns(&nd->right, v)) return true;
        for (size_t u = 0; u < nd->n_un; u++)
            if (jlist_owns(&nd->un[u], v)) return true;
    }
    return false;
}

struct jsonpath {
    jlist_t list;
};

int jsonpath_compile(const char *path, jsonpath_t **out)
{
    jsonpath_t *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    int rc = jp_compile(path, &p->list);
    if (rc) {
        jlist_free(&p->list);
        free(p);
        *out = NULL;
        return rc < 0 ? rc : -EINVAL;
    }
    *out = p;
    return 0;
}

json_t *jsonpath_first(const jsonpath_t *p, json_t *obj)
{
    return p ? jp_first(&p->list, obj) : NULL;
}

bool jsonpath_owns(const jsonpath_t *p, json_t *v)
{
    return p && jlist_owns(&p->list, v);
}

void jsonpath_free(jsonpath_t *p)
{
    if (!p) return;
    jlist_free(&p->list);
    free(p);
}
