/* crd_schema: CustomResourceDefinition checks/defaults and the structural-schema pipeline every
 * custom-resource write goes through (prune -> default -> validate), with k8s.io/apiextensions-
 * apiserver and kube-openapi wording. Only global state: the bounded pattern-regex cache below. */
#include "apiserver/crd_schema.h"

#include "apiserver/objmeta_validate.h"
#include "base/goquote.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- string builder */

typedef struct {
    char *s;
    size_t n, cap;
    char inl[200];
} sb_t;

static void sb_init(sb_t *b)
{
    b->s = b->inl;
    b->n = 0;
    b->cap = sizeof(b->inl);
    b->s[0] = '\0';
}

static void sb_grow(sb_t *b, size_t add)
{
    if (b->n + add + 1 <= b->cap) return;
    size_t cap = b->cap * 2;
    while (cap < b->n + add + 1)
        cap *= 2;
    char *p;
    if (b->s == b->inl) {
        p = malloc(cap);
        if (!p) abort();
        memcpy(p, b->s, b->n + 1);
    } else {
        p = realloc(b->s, cap);
        if (!p) abort();
    }
    b->s = p;
    b->cap = cap;
}

static void sb_putn(sb_t *b, const char *p, size_t n)
{
    sb_grow(b, n);
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_puts(sb_t *b, const char *p)
{
    sb_putn(b, p, strlen(p));
}

static void sb_putc(sb_t *b, char c)
{
    sb_putn(b, &c, 1);
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof(tmp)) {
        sb_putn(b, tmp, (size_t)k);
        return;
    }
    sb_grow(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

static void sb_trunc(sb_t *b, size_t n)
{
    b->n = n;
    b->s[n] = '\0';
}

static void sb_free(sb_t *b)
{
    if (b->s != b->inl) free(b->s);
    sb_init(b);
}

/* Path helpers. Dotted style (kube-openapi names, pruning paths) and field.Path style
 * (Child/Key/Index) share the same buffer type; each push returns the length to restore. */
static size_t path_child(sb_t *p, const char *name)
{
    size_t old = p->n;
    if (p->n) sb_putc(p, '.');
    sb_puts(p, name);
    return old;
}

static size_t path_key(sb_t *p, const char *key)
{
    size_t old = p->n;
    sb_putc(p, '[');
    sb_puts(p, key);
    sb_putc(p, ']');
    return old;
}

static size_t path_index(sb_t *p, size_t i)
{
    size_t old = p->n;
    sb_printf(p, "[%zu]", i);
    return old;
}

/* ---------------------------------------------------------------- Go-style value formatting */

/* Decodes one UTF-8 sequence; returns its length, or 0 if s does not start a valid sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t w;
    uint32_t r = goquote_decode_rune(s, n, &w);
    if (r == 0xFFFD && w == 1) return 0;
    *cp = r;
    return w;
}

/* strconv.Quote */
static void go_quote_n(sb_t *b, const char *s, size_t n)
{
    char *q = goquote(s, n);
    if (!q) abort();
    sb_puts(b, q);
    free(q);
}

static void go_quote(sb_t *b, const char *s)
{
    go_quote_n(b, s, strlen(s));
}

/* fmt's %v for float64: strconv.FormatFloat(f, 'g', -1, 64) with the exponent threshold 6. */
static void go_float(sb_t *b, double f)
{
    if (f != f) {
        sb_puts(b, "NaN");
        return;
    }
    if (f > DBL_MAX || f < -DBL_MAX) {
        sb_puts(b, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (f == 0) {
        sb_puts(b, signbit(f) ? "-0" : "0");
        return;
    }
    char tmp[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digs[32];
    int nd = 0;
    while (*p && *p != 'e') {
        if (*p >= '0' && *p <= '9' && nd < 30) digs[nd++] = *p;
        p++;
    }
    int exp = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digs[nd - 1] == '0')
        nd--;
    if (neg) sb_putc(b, '-');
    if (exp < -4 || exp >= 6) {
        sb_putc(b, digs[0]);
        if (nd > 1) {
            sb_putc(b, '.');
            sb_putn(b, digs + 1, (size_t)nd - 1);
        }
        sb_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    int dp = exp + 1; /* digits before the decimal point */
    if (dp <= 0) {
        sb_puts(b, "0.");
        for (int i = 0; i < -dp; i++)
            sb_putc(b, '0');
        sb_putn(b, digs, (size_t)nd);
        return;
    }
    for (int i = 0; i < dp; i++)
        sb_putc(b, i < nd ? digs[i] : '0');
    if (nd > dp) {
        sb_putc(b, '.');
        sb_putn(b, digs + dp, (size_t)(nd - dp));
    }
}

static void go_sharp_v(sb_t *b, json_t *v);

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Element of an interface{} container under %#v. */
static void go_sharp_elem(sb_t *b, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        go_quote_n(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        go_float(b, json_real_value(v));
        break;
    case JSON_TRUE:
        sb_puts(b, "true");
        break;
    case JSON_FALSE:
        sb_puts(b, "false");
        break;
    case JSON_NULL:
        sb_puts(b, "interface {}(nil)");
        break;
    default:
        go_sharp_v(b, v);
        break;
    }
}

/* %#v of map[string]interface{} / []interface{} (map keys sorted, as fmt does). */
static void go_sharp_v(sb_t *b, json_t *v)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
        const char *k;
        json_t *x;
        if (n && !keys) abort();
        json_object_foreach(v, k, x) keys[i++] = k;
        if (n) qsort(keys, n, sizeof(*keys), cmp_cstr);
        sb_puts(b, "map[string]interface {}{");
        for (i = 0; i < n; i++) {
            if (i) sb_puts(b, ", ");
            go_quote(b, keys[i]);
            sb_putc(b, ':');
            go_sharp_elem(b, json_object_get(v, keys[i]));
        }
        sb_putc(b, '}');
        free(keys);
    } else if (json_is_array(v)) {
        sb_puts(b, "[]interface {}{");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) sb_puts(b, ", ");
            go_sharp_elem(b, json_array_get(v, i));
        }
        sb_putc(b, '}');
    } else {
        go_sharp_elem(b, v);
    }
}

/* The bad-value rendering of field.Error.ErrorBody. */
static void go_value(sb_t *b, json_t *v)
{
    if (!v || json_is_null(v)) {
        sb_puts(b, "\"null\"");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        go_quote_n(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        go_float(b, json_real_value(v));
        break;
    case JSON_TRUE:
        sb_puts(b, "true");
        break;
    case JSON_FALSE:
        sb_puts(b, "false");
        break;
    default:
        go_sharp_v(b, v);
        break;
    }
}

/* ---------------------------------------------------------------- causes */

static json_t *json_str_safe(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c) abort();
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k) {
            c[i++] = '?';
            continue;
        }
        memcpy(c + i, s + i, k);
        i += k;
    }
    c[n] = '\0';
    j = json_string(c);
    free(c);
    return j ? j : json_string("");
}

static void cause_add(json_t *out, const char *reason, const char *field, const char *msg)
{
    if (!out) return;
    json_t *o = json_object();
    json_object_set_new(o, "reason", json_string(reason));
    json_object_set_new(o, "message", json_str_safe(msg));
    json_object_set_new(o, "field", json_str_safe(field));
    json_array_append_new(out, o);
}

/* field.Invalid: "Invalid value: <value>[: detail]" with a preformatted value. */
static void err_invalid_raw(json_t *out, const char *field, const char *value, const char *detail)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Invalid value: ");
    sb_puts(&m, value);
    if (detail && *detail) {
        sb_puts(&m, ": ");
        sb_puts(&m, detail);
    }
    cause_add(out, "FieldValueInvalid", field, m.s);
    sb_free(&m);
}

static void err_invalid_json(json_t *out, const char *field, json_t *value, const char *detail)
{
    sb_t v;
    sb_init(&v);
    go_value(&v, value);
    err_invalid_raw(out, field, v.s, detail);
    sb_free(&v);
}

static void err_invalid_str(json_t *out, const char *field, const char *value, const char *detail)
{
    sb_t v;
    sb_init(&v);
    go_quote(&v, value);
    err_invalid_raw(out, field, v.s, detail);
    sb_free(&v);
}

static void err_required(json_t *out, const char *field, const char *detail)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Required value");
    if (detail && *detail) {
        sb_puts(&m, ": ");
        sb_puts(&m, detail);
    }
    cause_add(out, "FieldValueRequired", field, m.s);
    sb_free(&m);
}

static void err_forbidden(json_t *out, const char *field, const char *detail)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Forbidden: ");
    sb_puts(&m, detail);
    cause_add(out, "FieldValueForbidden", field, m.s);
    sb_free(&m);
}

/* field.NotSupported with string alternatives (already-unquoted). */
static void err_not_supported(json_t *out, const char *field, const char *value_fmt,
                              const char *const *vals, size_t nvals)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Unsupported value: ");
    sb_puts(&m, value_fmt);
    if (nvals) {
        sb_puts(&m, ": supported values: ");
        for (size_t i = 0; i < nvals; i++) {
            if (i) sb_puts(&m, ", ");
            go_quote(&m, vals[i]);
        }
    }
    cause_add(out, "FieldValueNotSupported", field, m.s);
    sb_free(&m);
}

static void err_not_supported_str(json_t *out, const char *field, const char *value,
                                  const char *const *vals, size_t nvals)
{
    sb_t v;
    sb_init(&v);
    go_quote(&v, value);
    err_not_supported(out, field, v.s, vals, nvals);
    sb_free(&v);
}

/* ---------------------------------------------------------------- schema accessors */

static json_t *sch_get(json_t *s, const char *k)
{
    return json_is_object(s) ? json_object_get(s, k) : NULL;
}

static bool sch_flag(json_t *s, const char *k)
{
    return json_is_true(sch_get(s, k));
}

static const char *sch_str(json_t *s, const char *k)
{
    json_t *v = sch_get(s, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *sch_obj(json_t *s, const char *k)
{
    json_t *v = sch_get(s, k);
    return json_is_object(v) ? v : NULL;
}

static json_t *sch_arr(json_t *s, const char *k)
{
    json_t *v = sch_get(s, k);
    return json_is_array(v) ? v : NULL;
}

static json_t *sch_props(json_t *s)
{
    return sch_obj(s, "properties");
}

static json_t *sch_items(json_t *s)
{
    return sch_obj(s, "items");
}

/* additionalProperties: returns true if present in a form that admits unknown keys (a schema or
 * `true`); *schema is the schema or NULL for `true` (nil Structural in apiextensions). */
static bool sch_addl(json_t *s, json_t **schema)
{
    json_t *a = sch_get(s, "additionalProperties");
    *schema = NULL;
    if (json_is_object(a)) {
        *schema = a;
        return true;
    }
    return json_is_true(a);
}

static bool sch_num(json_t *s, const char *k, double *out)
{
    json_t *v = sch_get(s, k);
    if (!json_is_number(v)) return false;
    *out = json_number_value(v);
    return true;
}

/* Go's int64(float64) on amd64: out-of-range values give math.MinInt64. */
static long long go_f2i(double f)
{
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) return LLONG_MIN;
    return (long long)f;
}

static bool sch_int(json_t *s, const char *k, long long *out)
{
    json_t *v = sch_get(s, k);
    if (json_is_integer(v)) {
        *out = (long long)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = go_f2i(json_real_value(v));
        return true;
    }
    return false;
}

static bool is_meta_field(const char *k)
{
    return !strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata");
}

/* ---------------------------------------------------------------- regex (ECMA/RE2 -> POSIX ERE) */

enum { RX_OK = 0, RX_UNSUPPORTED = 1, RX_INVALID = 2 };

typedef struct {
    const char *p;
    size_t i;
    sb_t *out;
    const char *why; /* RE2-style reason for RX_INVALID */
} rx_t;

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void utf8_encode(sb_t *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        t[0] = (char)cp;
        sb_putn(b, t, 1);
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3f));
        sb_putn(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        sb_putn(b, t, 3);
    } else {
        t[0] = (char)(0xf0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        sb_putn(b, t, 4);
    }
}

/* Emits a literal code point outside brackets (multi-byte runes grouped so that a following
 * quantifier applies to the whole rune). */
static int rx_emit_lit(rx_t *r, uint32_t cp)
{
    if (cp == 0) return RX_UNSUPPORTED;
    if (cp < 0x80) {
        if (strchr(".[\\()*+?{|^$", (int)cp)) sb_putc(r->out, '\\');
        sb_putc(r->out, (char)cp);
        return RX_OK;
    }
    sb_putc(r->out, '(');
    utf8_encode(r->out, cp);
    sb_putc(r->out, ')');
    return RX_OK;
}

/* Parses \x41 or \x{41}; r->i is on the 'x'. */
static int rx_hex_escape(rx_t *r, uint32_t *cp)
{
    const char *p = r->p;
    size_t i = r->i + 1;
    uint32_t v = 0;
    if (p[i] == '{') {
        i++;
        int nd = 0;
        while (hexval(p[i]) >= 0) {
            v = v * 16 + (uint32_t)hexval(p[i++]);
            if (++nd > 8 || v > 0x10ffff) {
                r->why = "invalid escape sequence";
                return RX_INVALID;
            }
        }
        if (p[i] != '}' || nd == 0) {
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
        i++;
    } else {
        if (hexval(p[i]) < 0 || hexval(p[i + 1]) < 0) {
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
        v = (uint32_t)(hexval(p[i]) * 16 + hexval(p[i + 1]));
        i += 2;
    }
    r->i = i;
    *cp = v;
    return RX_OK;
}

typedef struct {
    bool set[128];
    const char *cls[16];
    int ncls;
} rx_class_t;

static void cls_range(rx_class_t *c, int lo, int hi)
{
    for (int x = lo; x <= hi; x++)
        c->set[x] = true;
}

static int cls_named(rx_class_t *c, const char *name)
{
    if (c->ncls >= 16) return RX_UNSUPPORTED;
    c->cls[c->ncls++] = name;
    return RX_OK;
}

/* One bracket element. Returns RX_OK with *single >= 0 for a single character (range endpoint),
 * -1 for a class escape. */
static int rx_class_atom(rx_t *r, rx_class_t *c, int *single)
{
    const char *p = r->p;
    unsigned char ch = (unsigned char)p[r->i];
    *single = -1;
    if (ch == '[' && p[r->i + 1] == ':') {
        const char *end = strstr(p + r->i + 2, ":]");
        if (!end) {
            *single = '[';
            r->i++;
            return RX_OK;
        }
        size_t n = (size_t)(end - (p + r->i + 2));
        char name[16];
        if (n == 0 || n >= sizeof(name)) {
            r->why = "invalid character class range";
            return RX_INVALID;
        }
        memcpy(name, p + r->i + 2, n);
        name[n] = '\0';
        r->i += n + 4;
        static const char *const names[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                            "lower", "print", "punct", "space", "upper", "xdigit"};
        static const char *const brk[] = {"[:alnum:]", "[:alpha:]", "[:blank:]", "[:cntrl:]",
                                          "[:digit:]", "[:graph:]", "[:lower:]", "[:print:]",
                                          "[:punct:]", "[:space:]", "[:upper:]", "[:xdigit:]"};
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (!strcmp(name, names[k])) return cls_named(c, brk[k]);
        if (!strcmp(name, "word")) {
            cls_range(c, 'a', 'z');
            cls_range(c, 'A', 'Z');
            cls_range(c, '0', '9');
            c->set['_'] = true;
            return RX_OK;
        }
        if (!strcmp(name, "ascii")) {
            cls_range(c, 1, 127);
            return RX_OK;
        }
        if (name[0] == '^') return RX_UNSUPPORTED;
        r->why = "invalid character class range";
        return RX_INVALID;
    }
    if (ch == '\\') {
        unsigned char e = (unsigned char)p[r->i + 1];
        if (!e) {
            r->why = "trailing backslash at end of expression";
            return RX_INVALID;
        }
        r->i += 2;
        switch (e) {
        case 'd':
            cls_range(c, '0', '9');
            return RX_OK;
        case 'w':
            cls_range(c, 'a', 'z');
            cls_range(c, 'A', 'Z');
            cls_range(c, '0', '9');
            c->set['_'] = true;
            return RX_OK;
        case 's':
            return cls_named(c, "[:space:]");
        case 'D':
        case 'W':
        case 'S':
        case 'p':
        case 'P':
            return RX_UNSUPPORTED;
        case 'n':
            *single = '\n';
            return RX_OK;
        case 't':
            *single = '\t';
            return RX_OK;
        case 'r':
            *single = '\r';
            return RX_OK;
        case 'f':
            *single = '\f';
            return RX_OK;
        case 'v':
            *single = '\v';
            return RX_OK;
        case 'a':
            *single = '\a';
            return RX_OK;
        case 'x': {
            uint32_t cp;
            r->i--;
            int rc = rx_hex_escape(r, &cp);
            if (rc) return rc;
            if (cp == 0 || cp >= 0x80) return RX_UNSUPPORTED;
            *single = (int)cp;
            return RX_OK;
        }
        default:
            if (e < 0x80 && ispunct(e)) {
                *single = e;
                return RX_OK;
            }
            if (e >= '0' && e <= '9') return RX_UNSUPPORTED;
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
    }
    if (ch >= 0x80) return RX_UNSUPPORTED;
    *single = ch;
    r->i++;
    return RX_OK;
}

static int rx_class(rx_t *r)
{
    const char *p = r->p;
    rx_class_t c;
    memset(&c, 0, sizeof(c));
    bool neg = false;
    r->i++; /* '[' */
    if (p[r->i] == '^') {
        neg = true;
        r->i++;
    }
    bool first = true;
    for (;;) {
        if (!p[r->i]) {
            r->why = "missing closing ]";
            return RX_INVALID;
        }
        if (p[r->i] == ']' && !first) {
            r->i++;
            break;
        }
        int lo;
        int rc;
        if (p[r->i] == ']') { /* leading ']' is literal */
            lo = ']';
            r->i++;
        } else if ((rc = rx_class_atom(r, &c, &lo)) != RX_OK) {
            return rc;
        }
        first = false;
        if (lo < 0) continue;
        if (p[r->i] == '-' && p[r->i + 1] && p[r->i + 1] != ']') {
            r->i++;
            int hi;
            if ((rc = rx_class_atom(r, &c, &hi)) != RX_OK) return rc;
            if (hi < 0 || hi < lo) {
                r->why = "invalid character class range";
                return RX_INVALID;
            }
            cls_range(&c, lo, hi);
        } else {
            c.set[lo] = true;
        }
    }
    bool any = c.ncls > 0;
    for (int x = 1; x < 128; x++)
        any = any || c.set[x];
    if (!any) return RX_UNSUPPORTED;
    if (!neg && c.ncls == 0) { /* a lone '^' cannot be first in a POSIX bracket */
        int cnt = 0;
        for (int x = 1; x < 128; x++)
            cnt += c.set[x];
        if (cnt == 1 && c.set['^']) {
            sb_puts(r->out, "\\^");
            return RX_OK;
        }
    }
    sb_t *o = r->out;
    sb_putc(o, '[');
    if (neg) sb_putc(o, '^');
    if (c.set[']']) sb_putc(o, ']');
    for (int k = 0; k < c.ncls; k++)
        sb_puts(o, c.cls[k]);
    for (int x = 1; x < 128;) {
        if (!c.set[x] || x == ']' || x == '^' || x == '-' || x == '[') {
            x++;
            continue;
        }
        int y = x;
        while (y + 1 < 128 && c.set[y + 1] && y + 1 != ']' && y + 1 != '^' && y + 1 != '-' &&
               y + 1 != '[')
            y++;
        if (y - x >= 2) {
            sb_putc(o, (char)x);
            sb_putc(o, '-');
            sb_putc(o, (char)y);
        } else {
            for (int z = x; z <= y; z++)
                sb_putc(o, (char)z);
        }
        x = y + 1;
    }
    if (c.set['[']) sb_putc(o, '[');
    if (c.set['^']) sb_putc(o, '^');
    if (c.set['-']) sb_putc(o, '-');
    sb_putc(o, ']');
    return RX_OK;
}

/* Parses a {n}, {n,} or {n,m} repetition at r->i; returns false if it is not one (literal '{'). */
static bool rx_repeat(rx_t *r, size_t *end, long *lo, long *hi)
{
    const char *p = r->p;
    size_t i = r->i + 1;
    long a = 0, b = -1;
    if (!isdigit((unsigned char)p[i])) return false;
    while (isdigit((unsigned char)p[i])) {
        a = a * 10 + (p[i++] - '0');
        if (a > 100000) a = 100000;
    }
    if (p[i] == ',') {
        i++;
        if (isdigit((unsigned char)p[i])) {
            b = 0;
            while (isdigit((unsigned char)p[i])) {
                b = b * 10 + (p[i++] - '0');
                if (b > 100000) b = 100000;
            }
        }
    } else {
        b = a;
    }
    if (p[i] != '}') return false;
    *end = i + 1;
    *lo = a;
    *hi = b;
    return true;
}

/* Translates an ECMA/RE2-style pattern to POSIX ERE. Returns RX_OK, RX_UNSUPPORTED (feature with
 * no ERE equivalent) or RX_INVALID (RE2 would reject it too; r->why says why). */
static int rx_translate(const char *pat, sb_t *out, int *cflags, const char **why)
{
    rx_t r = {.p = pat, .i = 0, .out = out, .why = NULL};
    int depth = 0;
    bool atom = false;  /* a quantifier may follow */
    bool quant = false; /* previous token was a quantifier */
    *cflags = REG_EXTENDED | REG_NOSUB;
    if (!strncmp(pat, "(?i)", 4)) {
        *cflags |= REG_ICASE;
        r.i = 4;
    }
    int rc = RX_OK;
    while (pat[r.i]) {
        unsigned char c = (unsigned char)pat[r.i];
        switch (c) {
        case '\\': {
            unsigned char e = (unsigned char)pat[r.i + 1];
            if (!e) {
                r.why = "trailing backslash at end of expression";
                rc = RX_INVALID;
                goto done;
            }
            const char *rep = NULL;
            uint32_t lit = 0;
            bool is_atom = true;
            switch (e) {
            case 'd':
                rep = "[0-9]";
                break;
            case 'D':
                rep = "[^0-9]";
                break;
            case 'w':
                rep = "[A-Za-z0-9_]";
                break;
            case 'W':
                rep = "[^A-Za-z0-9_]";
                break;
            case 's':
                rep = "[[:space:]]";
                break;
            case 'S':
                rep = "[^[:space:]]";
                break;
            case 'b':
                rep = "\\b";
                is_atom = false;
                break;
            case 'B':
                rep = "\\B";
                is_atom = false;
                break;
            case 'A':
                rep = "^";
                is_atom = false;
                break;
            case 'z':
                rep = "$";
                is_atom = false;
                break;
            case 'n':
                lit = '\n';
                break;
            case 't':
                lit = '\t';
                break;
            case 'r':
                lit = '\r';
                break;
            case 'f':
                lit = '\f';
                break;
            case 'v':
                lit = '\v';
                break;
            case 'a':
                lit = '\a';
                break;
            case 'x':
                r.i++;
                if ((rc = rx_hex_escape(&r, &lit)) != RX_OK) goto done;
                if ((rc = rx_emit_lit(&r, lit)) != RX_OK) goto done;
                atom = true;
                quant = false;
                continue;
            case 'p':
            case 'P':
            case 'Q':
            case 'C':
                rc = RX_UNSUPPORTED;
                goto done;
            default:
                if (e < 0x80 && ispunct(e)) {
                    lit = e;
                } else if (e >= '0' && e <= '9') {
                    rc = RX_UNSUPPORTED;
                    goto done;
                } else {
                    r.why = "invalid escape sequence";
                    rc = RX_INVALID;
                    goto done;
                }
            }
            r.i += 2;
            if (rep)
                sb_puts(out, rep);
            else if ((rc = rx_emit_lit(&r, lit)) != RX_OK)
                goto done;
            atom = is_atom;
            quant = false;
            break;
        }
        case '[':
            if ((rc = rx_class(&r)) != RX_OK) goto done;
            atom = true;
            quant = false;
            break;
        case '(':
            if (pat[r.i + 1] == '?') {
                const char *q = pat + r.i + 2;
                if (*q == ':') {
                    r.i += 3;
                } else if ((*q == 'P' && q[1] == '<') ||
                           (*q == '<' && q[1] != '=' && q[1] != '!')) {
                    const char *gt = strchr(q, '>');
                    if (!gt) {
                        r.why = "invalid named capture";
                        rc = RX_INVALID;
                        goto done;
                    }
                    r.i = (size_t)(gt + 1 - pat);
                } else if (*q == '=' || *q == '!' || (*q == '<' && (q[1] == '=' || q[1] == '!'))) {
                    r.why = "invalid or unsupported Perl syntax";
                    rc = RX_INVALID;
                    goto done;
                } else {
                    rc = RX_UNSUPPORTED;
                    goto done;
                }
            } else {
                r.i++;
            }
            if (pat[r.i] == ')') { /* empty group: ERE rejects "()" */
                r.i++;
                sb_puts(out, "()");
                rc = RX_UNSUPPORTED;
                goto done;
            }
            depth++;
            sb_putc(out, '(');
            atom = false;
            quant = false;
            break;
        case ')':
            if (depth == 0) {
                r.why = "unexpected )";
                rc = RX_INVALID;
                goto done;
            }
            depth--;
            sb_putc(out, ')');
            r.i++;
            atom = true;
            quant = false;
            break;
        case '*':
        case '+':
        case '?':
            if (quant) {
                if (c == '?') { /* lazy: same match set */
                    r.i++;
                    quant = false;
                    break;
                }
                r.why = "invalid nested repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (!atom) {
                r.why = "missing argument to repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            sb_putc(out, (char)c);
            r.i++;
            atom = false;
            quant = true;
            break;
        case '{': {
            size_t end;
            long lo, hi;
            if (!rx_repeat(&r, &end, &lo, &hi)) {
                sb_puts(out, "\\{");
                r.i++;
                atom = true;
                quant = false;
                break;
            }
            if (quant) {
                r.why = "invalid nested repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (!atom) {
                r.why = "missing argument to repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) {
                r.why = "invalid repeat count";
                rc = RX_INVALID;
                goto done;
            }
            sb_putn(out, pat + r.i, end - r.i);
            r.i = end;
            atom = false;
            quant = true;
            break;
        }
        case '|':
        case '^':
        case '$':
            sb_putc(out, (char)c);
            r.i++;
            atom = false;
            quant = false;
            break;
        default:
            if (c >= 0x80) {
                uint32_t cp;
                size_t k = utf8_decode((const unsigned char *)pat + r.i, strlen(pat + r.i), &cp);
                if (!k) {
                    r.why = "invalid UTF-8";
                    rc = RX_INVALID;
                    goto done;
                }
                r.i += k;
                rx_emit_lit(&r, cp);
            } else {
                sb_putc(out, (char)c);
                r.i++;
            }
            atom = true;
            quant = false;
            break;
        }
    }
    if (depth) {
        r.why = "missing closing )";
        rc = RX_INVALID;
    }
done:
    *why = r.why;
    return rc;
}

/* Bounded direct-mapped cache of compiled patterns, keyed by the pattern string (FNV-1a slot).
 * Single-threaded use only; a collision evicts the previous entry. */
#define RX_CACHE_SLOTS 128
static struct rx_slot {
    char *pattern;
    regex_t re;
    int status;
} rx_cache[RX_CACHE_SLOTS];

static struct rx_slot *rx_lookup(const char *pattern)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)pattern; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct rx_slot *s = &rx_cache[h % RX_CACHE_SLOTS];
    if (s->pattern && !strcmp(s->pattern, pattern)) return s;
    if (s->pattern) {
        if (s->status == RX_OK) regfree(&s->re);
        free(s->pattern);
        s->pattern = NULL;
    }
    sb_t ere;
    sb_init(&ere);
    int cflags;
    const char *why;
    s->status = rx_translate(pattern, &ere, &cflags, &why);
    if (s->status == RX_OK && regcomp(&s->re, ere.s, cflags) != 0) s->status = RX_UNSUPPORTED;
    sb_free(&ere);
    s->pattern = strdup(pattern);
    if (!s->pattern) abort();
    return s;
}

void crd_schema_regex_cache_clear(void)
{
    for (size_t i = 0; i < RX_CACHE_SLOTS; i++) {
        struct rx_slot *s = &rx_cache[i];
        if (!s->pattern) continue;
        if (s->status == RX_OK) regfree(&s->re);
        free(s->pattern);
        s->pattern = NULL;
    }
}

/* 1 match, 0 no match, -1 pattern cannot be evaluated (treated as passing). */
static int rx_match(const char *pattern, const char *s, size_t n)
{
    struct rx_slot *slot = rx_lookup(pattern);
    if (slot->status != RX_OK) return -1;
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    return regexec(&slot->re, s, 1, m, REG_STARTEND) == 0;
}

/* ---------------------------------------------------------------- string formats */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return n > 0;
}

static int num_n(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool fmt_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2)) return false;
    int y = num_n(s, 4), m = num_n(s + 5, 2), d = num_n(s + 8, 2);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    int md = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) md = 29;
    return d <= md;
}

/* strfmt IsDateTime: <date>T<HH:MM:SS>(.frac)?(z|+hh:mm), case-insensitive T and Z. */
static bool fmt_datetime(const char *s, size_t n)
{
    if (n < 4) return false;
    size_t t = 0;
    while (t < n && s[t] != 't' && s[t] != 'T')
        t++;
    if (t == n || !fmt_date(s, t)) return false;
    const char *p = s + t + 1;
    size_t m = n - t - 1;
    for (size_t i = 0; i < m; i++)
        if (p[i] == 't' || p[i] == 'T') return false;
    if (m < 9 || p[2] != ':' || p[5] != ':') return false;
    if (!all_digits(p, 2) || !all_digits(p + 3, 2) || !all_digits(p + 6, 2)) return false;
    if (num_n(p, 2) > 23 || num_n(p + 3, 2) > 59 || num_n(p + 6, 2) > 59) return false;
    size_t i = 8;
    if (i < m && p[i] != 'z' && p[i] != 'Z' && p[i] != '+' && p[i] != '-') {
        i++; /* any separator, as in the upstream regex */
        size_t st = i;
        while (i < m && isdigit((unsigned char)p[i]))
            i++;
        if (i == st) return false;
    }
    if (i < m && (p[i] == 'z' || p[i] == 'Z')) return i + 1 == m;
    if (i < m && (p[i] == '+' || p[i] == '-'))
        return m - i == 6 && all_digits(p + i + 1, 2) && p[i + 3] == ':' &&
               all_digits(p + i + 4, 2);
    return false;
}

static bool fmt_ipv4(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        int v = 0;
        while (i < n && isdigit((unsigned char)s[i]) && i - st < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0')) return false;
        parts++;
        if (parts < 4) {
            if (i >= n || s[i] != '.') return false;
            i++;
        }
    }
    return i == n;
}

static bool fmt_ipv6(const char *s, size_t n)
{
    if (n < 2 || n > 45) return false;
    int groups = 0;
    bool dbl = false;
    size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        dbl = true;
        i = 2;
        if (i == n) return true;
    }
    while (i < n) {
        size_t st = i;
        while (i < n && hexval(s[i]) >= 0 && i - st < 5)
            i++;
        if (i < n && s[i] == '.') { /* embedded IPv4 tail */
            if (!fmt_ipv4(s + st, n - st)) return false;
            groups += 2;
            i = n;
            break;
        }
        if (i == st || i - st > 4) return false;
        groups++;
        if (i == n) break;
        if (s[i] != ':') return false;
        i++;
        if (i < n && s[i] == ':') {
            if (dbl) return false;
            dbl = true;
            i++;
            if (i == n) break;
        } else if (i == n) {
            return false;
        }
    }
    return dbl ? groups < 8 : groups == 8;
}

static bool fmt_cidr(const char *s, size_t n)
{
    const char *sl = memchr(s, '/', n);
    if (!sl) return false;
    size_t a = (size_t)(sl - s), b = n - a - 1;
    if (!all_digits(sl + 1, b) || b > 3) return false;
    int bits = num_n(sl + 1, b);
    if (fmt_ipv4(s, a)) return bits <= 32;
    if (fmt_ipv6(s, a)) return bits <= 128;
    return false;
}

static bool fmt_uuid(const char *s, size_t n, char ver)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        if (g && i < n && s[i] == '-') i++;
        for (int k = 0; k < groups[g]; k++, i++) {
            if (i >= n || hexval(s[i]) < 0) return false;
            if (ver && g == 2 && k == 0 && s[i] != ver) return false;
            if (ver && ver != '3' && g == 3 && k == 0 && !strchr("89abAB", s[i])) return false;
        }
    }
    return i == n;
}

static bool fmt_mac(const char *s, size_t n)
{
    /* net.ParseMAC: 6, 8 or 20 octets separated by ':' or '-', or dotted 4-hex groups */
    if (n >= 14 && s[4] == '.') {
        if ((n + 1) % 5 != 0) return false;
        size_t groups = (n + 1) / 5;
        if (groups != 3 && groups != 4 && groups != 10) return false;
        for (size_t i = 0; i < n; i++) {
            if (i % 5 == 4 ? s[i] != '.' : hexval(s[i]) < 0) return false;
        }
        return true;
    }
    if (n < 14 || (n + 1) % 3 != 0) return false;
    size_t octets = (n + 1) / 3;
    if (octets != 6 && octets != 8 && octets != 20) return false;
    char sep = s[2];
    if (sep != ':' && sep != '-') return false;
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 2 ? s[i] != sep : hexval(s[i]) < 0) return false;
    }
    return true;
}

static bool fmt_byte(const char *s, size_t n)
{
    /* govalidator.IsBase64: standard alphabet, padded, length multiple of 4 */
    if (n % 4) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            if (i < n - 2) return false;
            if (i == n - 2 && s[n - 1] != '=') return false;
            continue;
        }
        if (!isalnum(c) && c != '+' && c != '/') return false;
    }
    return true;
}

static bool fmt_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 255) return false;
    size_t st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            unsigned char c = (unsigned char)s[i];
            if (!isalnum(c) && c != '-' && c < 0x80) return false;
            continue;
        }
        size_t len = i - st;
        if (len == 0 || len > 63 || s[st] == '-' || s[i - 1] == '-') return false;
        st = i + 1;
    }
    return true;
}

static bool fmt_hexcolor(const char *s, size_t n)
{
    if (n && s[0] == '#') s++, n--;
    if (n != 3 && n != 6) return false;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0) return false;
    return true;
}

static bool fmt_duration(const char *s, size_t n)
{
    /* time.ParseDuration-compatible: [-+]?(digits(.digits)?unit)+ or "0" */
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (n - i == 1 && s[i] == '0') return true;
    if (i == n) return false;
    while (i < n) {
        size_t st = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        bool digits = i > st;
        if (i < n && s[i] == '.') {
            i++;
            size_t f = i;
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
            digits = digits || i > f;
        }
        if (!digits) return false;
        static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs",
                                            "ms", "s",  "m",         "h"};
        bool ok = false;
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            size_t ul = strlen(units[u]);
            if (n - i >= ul && !memcmp(s + i, units[u], ul)) {
                i += ul;
                ok = true;
                break;
            }
        }
        if (!ok) return false;
    }
    return true;
}

/* Formats validated by apiextensions (after '-' normalization); 0 = unsupported (stripped). */
enum {
    F_NONE,
    F_LENIENT,
    F_DATE,
    F_DATETIME,
    F_UUID,
    F_UUID3,
    F_UUID4,
    F_UUID5,
    F_IPV4,
    F_IPV6,
    F_CIDR,
    F_MAC,
    F_BYTE,
    F_HOSTNAME,
    F_HEXCOLOR,
    F_DURATION
};

static int fmt_kind(const char *f)
{
    if (!f || !*f) return F_NONE;
    char norm[32];
    size_t n = 0;
    for (const char *p = f; *p; p++) {
        if (*p == '-') continue;
        if (n + 1 >= sizeof(norm)) return F_NONE;
        norm[n++] = *p;
    }
    norm[n] = '\0';
    static const struct {
        const char *name;
        int kind;
    } tab[] = {{"date", F_DATE},         {"datetime", F_DATETIME},
               {"uuid", F_UUID},         {"uuid3", F_UUID3},
               {"uuid4", F_UUID4},       {"uuid5", F_UUID5},
               {"ipv4", F_IPV4},         {"ipv6", F_IPV6},
               {"cidr", F_CIDR},         {"mac", F_MAC},
               {"byte", F_BYTE},         {"hostname", F_HOSTNAME},
               {"hexcolor", F_HEXCOLOR}, {"duration", F_DURATION},
               {"password", F_LENIENT},  {"uri", F_LENIENT},
               {"email", F_LENIENT},     {"bsonobjectid", F_LENIENT},
               {"isbn", F_LENIENT},      {"isbn10", F_LENIENT},
               {"isbn13", F_LENIENT},    {"creditcard", F_LENIENT},
               {"ssn", F_LENIENT},       {"rgbcolor", F_LENIENT}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (!strcmp(norm, tab[i].name)) return tab[i].kind;
    return F_NONE;
}

static bool fmt_check(int kind, const char *s, size_t n)
{
    switch (kind) {
    case F_DATE:
        return fmt_date(s, n);
    case F_DATETIME:
        return fmt_datetime(s, n);
    case F_UUID:
        return fmt_uuid(s, n, 0);
    case F_UUID3:
        return fmt_uuid(s, n, '3');
    case F_UUID4:
        return fmt_uuid(s, n, '4');
    case F_UUID5:
        return fmt_uuid(s, n, '5');
    case F_IPV4:
        return fmt_ipv4(s, n);
    case F_IPV6:
        return fmt_ipv6(s, n);
    case F_CIDR:
        return fmt_cidr(s, n);
    case F_MAC:
        return fmt_mac(s, n);
    case F_BYTE:
        return fmt_byte(s, n);
    case F_HOSTNAME:
        return fmt_hostname(s, n);
    case F_HEXCOLOR:
        return fmt_hexcolor(s, n);
    case F_DURATION:
        return fmt_duration(s, n);
    default:
        return true;
    }
}

/* ---------------------------------------------------------------- pruning */

typedef struct {
    json_t *pruned;
    sb_t path;
} pctx;

static void prune_value(pctx *p, json_t *x, json_t *s, bool force_embedded);

static void prune_record(pctx *p, const char *key)
{
    if (!p->pruned) return;
    size_t old = path_child(&p->path, key);
    json_array_append_new(p->pruned, json_str_safe(p->path.s));
    sb_trunc(&p->path, old);
}

/* ObjectMeta coercion of an embedded resource's metadata keeps only ObjectMeta fields. */
static void prune_embedded_meta(pctx *p, json_t *meta)
{
    const char *k;
    json_t *v;
    void *it;
    size_t old = path_child(&p->path, "metadata");
    json_object_foreach_safe(meta, it, k, v)
    {
        if (objmeta_is_field(k)) continue;
        prune_record(p, k);
        json_object_del(meta, k);
    }
    sb_trunc(&p->path, old);
}

static bool nonnullable_null(json_t *v, json_t *fs)
{
    return json_is_null(v) && fs && !sch_flag(fs, "nullable");
}

static void skip_prune(pctx *p, json_t *x, json_t *s, bool force_embedded)
{
    if (!s) return;
    if (json_is_object(x)) {
        bool emb = force_embedded || sch_flag(s, "x-kubernetes-embedded-resource");
        json_t *props = sch_props(s), *addl;
        bool has_addl = sch_addl(s, &addl);
        const char *k;
        json_t *v;
        void *it;
        json_object_foreach_safe(x, it, k, v)
        {
            if (emb && is_meta_field(k)) {
                if (!force_embedded && !strcmp(k, "metadata") && json_is_object(v))
                    prune_embedded_meta(p, v);
                continue;
            }
            json_t *prop = props ? json_object_get(props, k) : NULL;
            json_t *fs = prop ? prop : (has_addl ? addl : NULL);
            if (!prop && !has_addl) continue;
            if (nonnullable_null(v, fs)) {
                json_object_del(x, k);
                continue;
            }
            size_t old = path_child(&p->path, k);
            prune_value(p, v, fs, false);
            sb_trunc(&p->path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = sch_items(s);
        for (size_t i = 0; i < json_array_size(x); i++) {
            size_t old = path_index(&p->path, i);
            skip_prune(p, json_array_get(x, i), items, false);
            sb_trunc(&p->path, old);
        }
    }
}

static void prune_value(pctx *p, json_t *x, json_t *s, bool force_embedded)
{
    if (s && sch_flag(s, "x-kubernetes-preserve-unknown-fields")) {
        skip_prune(p, x, s, force_embedded);
        return;
    }
    if (json_is_object(x)) {
        const char *k;
        json_t *v;
        void *it;
        if (!s) {
            json_object_foreach_safe(x, it, k, v)
            {
                prune_record(p, k);
                json_object_del(x, k);
            }
            return;
        }
        bool emb = force_embedded || sch_flag(s, "x-kubernetes-embedded-resource");
        json_t *props = sch_props(s), *addl;
        bool has_addl = sch_addl(s, &addl);
        json_object_foreach_safe(x, it, k, v)
        {
            if (emb && is_meta_field(k)) {
                if (!force_embedded && !strcmp(k, "metadata") && json_is_object(v))
                    prune_embedded_meta(p, v);
                continue;
            }
            json_t *prop = props ? json_object_get(props, k) : NULL;
            if (!prop && !has_addl) {
                prune_record(p, k);
                json_object_del(x, k);
                continue;
            }
            json_t *fs = prop ? prop : addl;
            if (nonnullable_null(v, fs)) {
                json_object_del(x, k);
                continue;
            }
            size_t old = path_child(&p->path, k);
            prune_value(p, v, fs, false);
            sb_trunc(&p->path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = s ? sch_items(s) : NULL;
        for (size_t i = 0; i < json_array_size(x); i++) {
            size_t old = path_index(&p->path, i);
            prune_value(p, json_array_get(x, i), items, false);
            sb_trunc(&p->path, old);
        }
    }
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

void crd_schema_prune(json_t *schema, json_t *obj, json_t *pruned)
{
    if (!json_is_object(obj)) return;
    pctx p = {.pruned = json_is_array(pruned) ? pruned : NULL};
    sb_init(&p.path);
    size_t start = p.pruned ? json_array_size(p.pruned) : 0;
    json_t *s = json_is_object(schema) ? schema : NULL;
    if (!s) {
        /* nil schema at the resource root: everything but TypeMeta/ObjectMeta is unknown */
        const char *k;
        json_t *v;
        void *it;
        json_object_foreach_safe(obj, it, k, v)
        {
            if (is_meta_field(k)) continue;
            prune_record(&p, k);
            json_object_del(obj, k);
        }
    } else {
        prune_value(&p, obj, s, true);
    }
    sb_free(&p.path);
    /* PruneWithOptions sorts the unknown-field paths */
    if (p.pruned) {
        size_t n = json_array_size(p.pruned) - start;
        if (n > 1) {
            json_t **tmp = malloc(n * sizeof(*tmp));
            if (!tmp) abort();
            for (size_t i = 0; i < n; i++)
                tmp[i] = json_incref(json_array_get(p.pruned, start + i));
            qsort(tmp, n, sizeof(*tmp), cmp_json_str);
            for (size_t i = 0; i < n; i++)
                json_array_set_new(p.pruned, start + i, tmp[i]);
            free(tmp);
        }
    }
}

/* ---------------------------------------------------------------- defaulting */

static void default_value(json_t *x, json_t *s, bool root)
{
    if (!json_is_object(s)) return;
    if (json_is_object(x)) {
        json_t *props = sch_props(s);
        const char *k;
        json_t *prop, *v;
        if (props) {
            json_object_foreach(props, k, prop)
            {
                json_t *def = sch_get(prop, "default");
                if (!def || (root && is_meta_field(k))) continue;
                json_t *cur = json_object_get(x, k);
                if (!cur || nonnullable_null(cur, prop))
                    json_object_set_new(x, k, json_deep_copy(def));
            }
        }
        json_t *addl;
        sch_addl(s, &addl);
        json_object_foreach(x, k, v)
        {
            if (root && is_meta_field(k)) continue;
            prop = props ? json_object_get(props, k) : NULL;
            if (prop) {
                default_value(v, prop, false);
            } else if (addl) {
                json_t *def = sch_get(addl, "default");
                if (def && nonnullable_null(v, addl)) {
                    json_object_set_new(x, k, json_deep_copy(def));
                    continue;
                }
                default_value(v, addl, false);
            }
        }
    } else if (json_is_array(x)) {
        json_t *items = sch_items(s);
        if (!items) return;
        json_t *def = sch_get(items, "default");
        for (size_t i = 0; i < json_array_size(x); i++) {
            json_t *v = json_array_get(x, i);
            if (def && nonnullable_null(v, items)) {
                json_array_set_new(x, i, json_deep_copy(def));
                continue;
            }
            default_value(v, items, false);
        }
    }
}

void crd_schema_default(json_t *schema, json_t *obj)
{
    if (!json_is_object(obj)) return;
    default_value(obj, schema, true);
}

/* ---------------------------------------------------------------- validation (kube-openapi) */

/* Node visits allowed per validation call: nested anyOf/oneOf/allOf re-validate the same value
 * per alternative (exponential in nesting depth); past the budget the rest is not checked. */
#define V_BUDGET 2000000L

typedef struct {
    const char *prefix; /* field path of the validated value; "" = nil (custom resource root) */
    sb_t path;          /* kube-openapi name of the current value */
    long budget;
} vctx;

static void v_field(const vctx *c, const char *name, sb_t *f)
{
    if (*name) {
        if (*c->prefix) {
            sb_puts(f, c->prefix);
            sb_putc(f, '.');
        }
        sb_puts(f, name);
    } else {
        sb_puts(f, *c->prefix ? c->prefix : "<nil>");
    }
}

static void v_cause(const vctx *c, json_t *out, const char *reason, const char *name,
                    const char *msg)
{
    sb_t f;
    sb_init(&f);
    v_field(c, name, &f);
    cause_add(out, reason, f.s, msg);
    sb_free(&f);
}

/* Invalid with a preformatted value and a "<name> in body ..." detail built by the caller. */
static void v_invalid(const vctx *c, json_t *out, const char *value, const sb_t *detail)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Invalid value: ");
    sb_puts(&m, value);
    sb_puts(&m, ": ");
    sb_puts(&m, detail->s);
    v_cause(c, out, "FieldValueInvalid", c->path.s, m.s);
    sb_free(&m);
}

static void v_invalid_json(const vctx *c, json_t *out, json_t *value, const sb_t *detail)
{
    sb_t v;
    sb_init(&v);
    go_value(&v, value);
    v_invalid(c, out, v.s, detail);
    sb_free(&v);
}

static void v_invalid_int(const vctx *c, json_t *out, long long value, const sb_t *detail)
{
    char v[32];
    snprintf(v, sizeof(v), "%lld", value);
    v_invalid(c, out, v, detail);
}

/* errors.InvalidType with string data -> field.TypeInvalid(value, message). */
static void v_type_err(const vctx *c, json_t *out, const char *want, const char *got, size_t gotn)
{
    sb_t q, m;
    sb_init(&q);
    sb_init(&m);
    go_quote_n(&q, got, gotn);
    sb_printf(&m, "Invalid value: %s: %s in body must be of type %s: %s", q.s, c->path.s, want,
              q.s);
    v_cause(c, out, "FieldValueTypeInvalid", c->path.s, m.s);
    sb_free(&q);
    sb_free(&m);
}

/* A non-Validation (composite) error: field.Invalid(fldPath, "", err.Error()). */
static void v_composite(const vctx *c, json_t *out, const char *msg)
{
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Invalid value: \"\": ");
    sb_puts(&m, msg);
    cause_add(out, "FieldValueInvalid", *c->prefix ? c->prefix : "<nil>", m.s);
    sb_free(&m);
}

static const char *data_type(json_t *d)
{
    switch (json_typeof(d)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* swag.IsFloat64AJSONInteger */
static bool go_is_json_integer(double f)
{
    const double maxj = 9007199254740991.0;
    if (f != f || f < -maxj || f > maxj) return false;
    double t = (double)(long long)f;
    if (f == t) return true;
    if (f < 0) return false;
    double g = (double)(unsigned long long)f;
    if (g == 0) return false;
    return (f - g) / (f + g) < 1e-9;
}

static void v_node(vctx *c, json_t *out, json_t *s, json_t *d, bool root);

static bool types_contain(const char *const *types, int nt, const char *t)
{
    for (int i = 0; i < nt; i++)
        if (!strcmp(types[i], t)) return true;
    return false;
}

/* reflect-based enum comparison of basicCommonValidator (value converted to the enum's type). */
static bool enum_equal(json_t *d, json_t *e)
{
    if (json_is_null(e)) return false;
    if (json_is_integer(e)) {
        if (json_is_integer(d)) return json_integer_value(d) == json_integer_value(e);
        if (json_is_real(d)) return go_f2i(json_real_value(d)) == (long long)json_integer_value(e);
        return false;
    }
    if (json_is_real(e)) {
        if (json_is_number(d)) return json_number_value(d) == json_real_value(e);
        return false;
    }
    if (json_is_string(e)) {
        if (json_is_string(d))
            return json_string_length(d) == json_string_length(e) &&
                   !memcmp(json_string_value(d), json_string_value(e), json_string_length(d));
        if (json_is_integer(d)) { /* Go converts an int to a string as a rune */
            long long r = (long long)json_integer_value(d);
            sb_t t;
            sb_init(&t);
            utf8_encode(&t, (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) ? 0xfffd
                                                                                    : (uint32_t)r);
            bool eq = t.n == json_string_length(e) && !memcmp(t.s, json_string_value(e), t.n);
            sb_free(&t);
            return eq;
        }
        return false;
    }
    if (json_is_boolean(e)) return json_is_boolean(d) && json_is_true(d) == json_is_true(e);
    return json_equal(d, e);
}

static void v_enum(vctx *c, json_t *out, json_t *s, json_t *d)
{
    json_t *en = sch_arr(s, "enum");
    if (!en || !json_array_size(en)) return;
    for (size_t i = 0; i < json_array_size(en); i++)
        if (d && enum_equal(d, json_array_get(en, i))) return;
    size_t n = json_array_size(en);
    char **vals = calloc(n + 1, sizeof(*vals));
    if (!vals) abort();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(en, i);
        vals[i] = json_is_string(e)
                      ? strdup(json_string_value(e))
                      : json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (!vals[i]) vals[i] = strdup("");
    }
    sb_t v, f;
    sb_init(&v);
    sb_init(&f);
    go_value(&v, d);
    v_field(c, c->path.s, &f);
    err_not_supported(out, f.s, v.s, (const char *const *)vals, n);
    sb_free(&v);
    sb_free(&f);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
}

static void v_string(vctx *c, json_t *out, json_t *s, json_t *d)
{
    const char *str = json_string_value(d);
    size_t n = json_string_length(d);
    long long lim;
    sb_t m;
    sb_init(&m);
    size_t runes = 0;
    bool want_runes = sch_get(s, "maxLength") || sch_get(s, "minLength");
    if (want_runes) {
        for (size_t i = 0; i < n; runes++) {
            uint32_t cp;
            size_t k = utf8_decode((const unsigned char *)str + i, n - i, &cp);
            i += k ? k : 1;
        }
    }
    if (sch_int(s, "maxLength", &lim) && (long long)runes > lim) {
        if (lim >= 0)
            sb_printf(&m, "Too long: may not be more than %lld %s", lim,
                      lim == 1 ? "byte" : "bytes");
        else
            sb_puts(&m, "Too long: value is too long");
        v_cause(c, out, "FieldValueTooLong", c->path.s, m.s);
        goto done;
    }
    if (sch_int(s, "minLength", &lim) && (long long)runes < lim) {
        sb_printf(&m, "%s in body should be at least %lld chars long", c->path.s, lim);
        v_invalid_json(c, out, d, &m);
        goto done;
    }
    const char *pat = sch_str(s, "pattern");
    if (pat && *pat && rx_match(pat, str, n) == 0) {
        sb_printf(&m, "%s in body should match '%s'", c->path.s, pat);
        v_invalid_json(c, out, d, &m);
    }
done:
    sb_free(&m);
}

static void v_number(vctx *c, json_t *out, json_t *s, json_t *d)
{
    bool is_int = json_is_integer(d);
    long long iv = is_int ? (long long)json_integer_value(d) : 0;
    double fv = json_number_value(d);
    double lim;
    sb_t m;
    sb_init(&m);
    if (sch_num(s, "multipleOf", &lim)) {
        if (is_int && go_is_json_integer(lim)) {
            long long f = go_f2i(lim);
            if (f < 0) {
                sb_printf(&m, "factor MultipleOf declared for %s must be positive: %lld", c->path.s,
                          f);
                v_invalid_int(c, out, f, &m);
            } else if (f > 0 && iv % f != 0) {
                sb_printf(&m, "%s in body should be a multiple of %lld", c->path.s, f);
                v_invalid_int(c, out, iv, &m);
            }
        } else if (lim < 0) {
            sb_printf(&m, "factor MultipleOf declared for %s must be positive: ", c->path.s);
            go_float(&m, lim);
            sb_t v;
            sb_init(&v);
            go_float(&v, lim);
            v_invalid(c, out, v.s, &m);
            sb_free(&v);
        } else if (lim > 0) {
            double mult = lim < 1 ? 1 / lim * fv : fv / lim;
            if (!go_is_json_integer(mult)) {
                sb_printf(&m, "%s in body should be a multiple of ", c->path.s);
                go_float(&m, lim);
                v_invalid_json(c, out, d, &m);
            }
        }
        sb_trunc(&m, 0);
    }
    if (sch_num(s, "minimum", &lim)) {
        bool excl = sch_flag(s, "exclusiveMinimum");
        const char *rel = excl ? "greater than" : "greater than or equal to";
        if (is_int) {
            long long mi = go_f2i(lim);
            if ((!excl && iv < mi) || (excl && iv <= mi)) {
                sb_printf(&m, "%s in body should be %s %lld", c->path.s, rel, mi);
                v_invalid_json(c, out, d, &m);
            }
        } else if ((!excl && fv < lim) || (excl && fv <= lim)) {
            sb_printf(&m, "%s in body should be %s ", c->path.s, rel);
            go_float(&m, lim);
            v_invalid_json(c, out, d, &m);
        }
        sb_trunc(&m, 0);
    }
    if (sch_num(s, "maximum", &lim)) {
        bool excl = sch_flag(s, "exclusiveMaximum");
        const char *rel = excl ? "less than" : "less than or equal to";
        if (is_int) {
            long long ma = go_f2i(lim);
            if ((!excl && iv > ma) || (excl && iv >= ma)) {
                sb_printf(&m, "%s in body should be %s %lld", c->path.s, rel, ma);
                v_invalid_json(c, out, d, &m);
            }
        } else if ((!excl && fv > lim) || (excl && fv >= lim)) {
            sb_printf(&m, "%s in body should be %s ", c->path.s, rel);
            go_float(&m, lim);
            v_invalid_json(c, out, d, &m);
        }
    }
    sb_free(&m);
}

static void v_array(vctx *c, json_t *out, json_t *s, json_t *d)
{
    json_t *items = sch_items(s);
    size_t n = json_array_size(d);
    if (items) {
        for (size_t i = 0; i < n; i++) {
            size_t old = path_index(&c->path, i);
            v_node(c, out, items, json_array_get(d, i), false);
            sb_trunc(&c->path, old);
        }
    }
    long long lim;
    sb_t m;
    sb_init(&m);
    if (sch_int(s, "minItems", &lim) && (long long)n < lim) {
        sb_printf(&m, "%s in body should have at least %lld items", c->path.s, lim);
        v_invalid_int(c, out, (long long)n, &m);
        sb_trunc(&m, 0);
    }
    if (sch_int(s, "maxItems", &lim) && (long long)n > lim) {
        if (lim >= 0)
            sb_printf(&m, "Too many: %zu: must have at most %lld %s", n, lim,
                      lim == 1 ? "item" : "items");
        else
            sb_printf(&m, "Too many: %zu: has too many items", n);
        v_cause(c, out, "FieldValueTooMany", c->path.s, m.s);
    }
    sb_free(&m);
}

static void v_object(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    long long lim;
    size_t nkeys = json_object_size(d);
    sb_t m;
    sb_init(&m);
    if (sch_int(s, "minProperties", &lim) && (long long)nkeys < lim) {
        sb_printf(&m, "%s in body should have at least %lld properties", c->path.s, lim);
        v_invalid_int(c, out, (long long)nkeys, &m);
        sb_free(&m);
        return;
    }
    if (sch_int(s, "maxProperties", &lim) && (long long)nkeys > lim) {
        if (lim >= 0)
            sb_printf(&m, "Too many: %zu: must have at most %lld %s", nkeys, lim,
                      lim == 1 ? "item" : "items");
        else
            sb_printf(&m, "Too many: %zu: has too many items", nkeys);
        v_cause(c, out, "FieldValueTooMany", c->path.s, m.s);
        sb_free(&m);
        return;
    }
    sb_free(&m);
    json_t *props = sch_props(s);
    json_t *addl = sch_obj(s, "additionalProperties");
    const char *k;
    json_t *v;
    if (addl) {
        json_object_foreach(d, k, v)
        {
            if ((root && !strcmp(k, "metadata")) || (props && json_object_get(props, k))) continue;
            size_t old = path_child(&c->path, k);
            v_node(c, out, addl, v, false);
            sb_trunc(&c->path, old);
        }
    }
    if (props) {
        json_t *ps;
        json_object_foreach(props, k, ps)
        {
            if (root && !strcmp(k, "metadata")) continue;
            json_t *dv = json_object_get(d, k);
            if (!dv) continue;
            size_t old = path_child(&c->path, k);
            v_node(c, out, ps, dv, false);
            sb_trunc(&c->path, old);
        }
    }
    json_t *req = sch_arr(s, "required");
    for (size_t i = 0; req && i < json_array_size(req); i++) {
        const char *rk = json_string_value(json_array_get(req, i));
        if (!rk || json_object_get(d, rk)) continue;
        size_t old = path_child(&c->path, rk);
        v_cause(c, out, "FieldValueRequired", c->path.s, "Required value");
        sb_trunc(&c->path, old);
    }
}

static void merge_into(json_t *out, json_t *from)
{
    if (from) json_array_extend(out, from);
}

static void v_junctors(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    json_t *arr;
    sb_t m;
    sb_init(&m);
    if ((arr = sch_arr(s, "anyOf")) && json_array_size(arr)) {
        json_t *best = NULL;
        bool ok = false;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *tmp = json_array();
            v_node(c, tmp, json_array_get(arr, i), d, root);
            if (!json_array_size(tmp)) {
                ok = true;
                json_decref(tmp);
                json_decref(best);
                best = NULL;
                break;
            }
            if (!best || json_array_size(tmp) < json_array_size(best)) {
                json_decref(best);
                best = tmp;
            } else {
                json_decref(tmp);
            }
        }
        if (!ok) {
            go_quote(&m, c->path.s);
            sb_puts(&m, " must validate at least one schema (anyOf)");
            v_composite(c, out, m.s);
            sb_trunc(&m, 0);
        }
        merge_into(out, best);
        json_decref(best);
    }
    if ((arr = sch_arr(s, "oneOf")) && json_array_size(arr)) {
        json_t *best = NULL;
        size_t valid = 0;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *tmp = json_array();
            v_node(c, tmp, json_array_get(arr, i), d, root);
            if (!json_array_size(tmp)) {
                valid++;
                json_decref(best);
                best = NULL;
                json_decref(tmp);
                continue;
            }
            if (valid == 0 && (!best || json_array_size(tmp) < json_array_size(best))) {
                json_decref(best);
                best = tmp;
            } else {
                json_decref(tmp);
            }
        }
        if (valid != 1) {
            go_quote(&m, c->path.s);
            sb_puts(&m, " must validate one and only one schema (oneOf). ");
            if (valid == 0)
                sb_puts(&m, "Found none valid");
            else
                sb_printf(&m, "Found %zu valid alternatives", valid);
            v_composite(c, out, m.s);
            sb_trunc(&m, 0);
            merge_into(out, best);
        }
        json_decref(best);
    }
    if ((arr = sch_arr(s, "allOf")) && json_array_size(arr)) {
        size_t valid = 0;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *tmp = json_array();
            v_node(c, tmp, json_array_get(arr, i), d, root);
            if (!json_array_size(tmp)) valid++;
            merge_into(out, tmp);
            json_decref(tmp);
        }
        if (valid != json_array_size(arr)) {
            go_quote(&m, c->path.s);
            sb_puts(&m, " must validate all the schemas (allOf)");
            if (valid == 0) sb_puts(&m, ". None validated");
            v_composite(c, out, m.s);
            sb_trunc(&m, 0);
        }
    }
    json_t *not = sch_obj(s, "not");
    if (not ) {
        json_t *tmp = json_array();
        v_node(c, tmp, not, d, root);
        if (!json_array_size(tmp)) {
            go_quote(&m, c->path.s);
            sb_puts(&m, " must not validate the schema (not)");
            v_composite(c, out, m.s);
        }
        json_decref(tmp);
    }
    sb_free(&m);
}

static void v_node(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    if (!json_is_object(s) || !d || --c->budget < 0) return;
    const char *types[2];
    int nt = 0;
    if (sch_flag(s, "x-kubernetes-int-or-string")) {
        types[0] = "integer";
        types[1] = "string";
        nt = 2;
    } else {
        const char *t = sch_str(s, "type");
        if (t && *t) types[nt++] = t;
    }
    bool nullable = sch_flag(s, "nullable");
    const char *format = sch_str(s, "format");
    int fkind = fmt_kind(format);
    if (fkind == F_NONE) format = NULL;

    if (json_is_null(d)) {
        if (nt > 0 && !nullable) {
            v_type_err(c, out, nt > 1 ? "integer,string" : types[0], "null", 4);
        }
        if (!nullable) v_enum(c, out, s, d);
        return;
    }

    /* type validator */
    if (nt > 0 || format) {
        const char *st = data_type(d);
        const char *dfmt = json_is_integer(d) ? "int64" : json_is_real(d) ? "float64" : "";
        bool float_int = json_is_real(d) && go_is_json_integer(json_real_value(d)) &&
                         types_contain(types, nt, "integer");
        bool int_float = json_is_integer(d) && types_contain(types, nt, "number");
        bool str_or_arr = json_is_string(d) || json_is_array(d);
        if (!str_or_arr && format &&
            !(types_contain(types, nt, st) || !strcmp(dfmt, format) || float_int || int_float)) {
            v_type_err(c, out, format, dfmt, strlen(dfmt));
        } else if (!(types_contain(types, nt, "number") || types_contain(types, nt, "integer")) &&
                   format && str_or_arr) {
            /* formatted string/array on a non-numeric type: no type check */
        } else if (!(types_contain(types, nt, st) || float_int || int_float)) {
            v_type_err(c, out, nt > 1 ? "integer,string" : nt ? types[0] : "", st, strlen(st));
        }
    }

    v_junctors(c, out, s, d, root);

    if (json_is_string(d)) {
        v_string(c, out, s, d);
        if (format && !fmt_check(fkind, json_string_value(d), json_string_length(d)))
            v_type_err(c, out, format, json_string_value(d), json_string_length(d));
    } else if (json_is_number(d)) {
        v_number(c, out, s, d);
    } else if (json_is_array(d)) {
        v_array(c, out, s, d);
    }
    v_enum(c, out, s, d);
    if (json_is_object(d)) v_object(c, out, s, d, root);
}

/* x-kubernetes-embedded-resource invariants (schema/objectmeta validation). Paths: field.Path. */
static void emb_validate(json_t *out, sb_t *path, json_t *x, json_t *s, bool root);

static void emb_field(sb_t *path, const char *child, sb_t *f)
{
    sb_puts(f, path->s);
    if (path->n) sb_putc(f, '.');
    sb_puts(f, child);
}

static void emb_resource(json_t *out, sb_t *path, json_t *x)
{
    sb_t f;
    sb_init(&f);
    if (!json_object_get(x, "apiVersion")) {
        emb_field(path, "apiVersion", &f);
        err_required(out, f.s, "");
        sb_trunc(&f, 0);
    }
    if (!json_object_get(x, "kind")) {
        emb_field(path, "kind", &f);
        err_required(out, f.s, "");
        sb_trunc(&f, 0);
    }
    const char *k;
    json_t *v;
    json_object_foreach(x, k, v)
    {
        bool is_av = !strcmp(k, "apiVersion"), is_kind = !strcmp(k, "kind");
        if (!is_av && !is_kind) continue;
        sb_trunc(&f, 0);
        emb_field(path, k, &f);
        if (!json_is_string(v)) {
            err_invalid_json(out, f.s, v, "must be a string");
        } else if (!json_string_length(v)) {
            err_invalid_str(out, f.s, "", "must not be empty");
        } else if (is_av) {
            const char *av = json_string_value(v);
            const char *sl = strchr(av, '/');
            if (sl && strchr(sl + 1, '/')) {
                sb_t d;
                sb_init(&d);
                sb_puts(&d, "unexpected GroupVersion string: ");
                sb_puts(&d, av);
                err_invalid_str(out, f.s, av, d.s);
                sb_free(&d);
            }
        }
    }
    sb_free(&f);
}

static void emb_validate(json_t *out, sb_t *path, json_t *x, json_t *s, bool root)
{
    if (!json_is_object(s)) return;
    if (json_is_object(x)) {
        if (sch_flag(s, "x-kubernetes-embedded-resource")) emb_resource(out, path, x);
        json_t *props = sch_props(s), *addl;
        sch_addl(s, &addl);
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v)
        {
            if (root && !strcmp(k, "metadata")) continue;
            json_t *prop = props ? json_object_get(props, k) : NULL;
            size_t old;
            if (prop) {
                old = path_child(path, k);
                emb_validate(out, path, v, prop, false);
            } else if (addl) {
                old = path_key(path, k);
                emb_validate(out, path, v, addl, false);
            } else {
                continue;
            }
            sb_trunc(path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = sch_items(s);
        for (size_t i = 0; items && i < json_array_size(x); i++) {
            size_t old = path_index(path, i);
            emb_validate(out, path, json_array_get(x, i), items, false);
            sb_trunc(path, old);
        }
    }
}

/* x-kubernetes-list-type set/map uniqueness (schema/listtype validation). */
enum { LT_NULL, LT_UNSPEC, LT_BOOL, LT_INT, LT_REAL, LT_STRING, LT_COMPOUND };

typedef struct {
    int tag;
    json_t *v;
    char *ser;
    size_t idx;
} lt_key;

static int lt_cmp_val(const lt_key *a, const lt_key *b)
{
    if (a->tag != b->tag) return a->tag < b->tag ? -1 : 1;
    switch (a->tag) {
    case LT_BOOL:
        return (int)json_is_true(a->v) - (int)json_is_true(b->v);
    case LT_INT: {
        json_int_t x = json_integer_value(a->v), y = json_integer_value(b->v);
        return x < y ? -1 : x > y;
    }
    case LT_REAL: {
        double x = json_real_value(a->v), y = json_real_value(b->v);
        return x < y ? -1 : x > y;
    }
    case LT_STRING: {
        size_t la = json_string_length(a->v), lb = json_string_length(b->v);
        int r = memcmp(json_string_value(a->v), json_string_value(b->v), la < lb ? la : lb);
        return r ? r : (la < lb ? -1 : la > lb);
    }
    case LT_COMPOUND:
        return strcmp(a->ser, b->ser);
    default:
        return 0;
    }
}

static int lt_cmp(const void *pa, const void *pb)
{
    const lt_key *a = pa, *b = pb;
    int r = lt_cmp_val(a, b);
    if (r) return r;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void lt_make(lt_key *k, json_t *v, size_t idx)
{
    k->v = v;
    k->idx = idx;
    k->ser = NULL;
    if (!v) {
        k->tag = LT_UNSPEC;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        k->tag = LT_NULL;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        k->tag = LT_BOOL;
        break;
    case JSON_INTEGER:
        k->tag = LT_INT;
        break;
    case JSON_REAL:
        k->tag = LT_REAL;
        break;
    case JSON_STRING:
        k->tag = LT_STRING;
        break;
    default:
        k->tag = LT_COMPOUND;
        k->ser = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!k->ser) k->ser = strdup("");
        break;
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Indices of the second occurrence of each repeated key, ascending. Frees the keys' buffers. */
static size_t lt_dups(lt_key *keys, size_t n, size_t *dups)
{
    qsort(keys, n, sizeof(*keys), lt_cmp);
    size_t nd = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !lt_cmp_val(&keys[i], &keys[j]))
            j++;
        if (j - i >= 2) dups[nd++] = keys[i + 1].idx;
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i].ser);
    qsort(dups, nd, sizeof(*dups), cmp_size);
    return nd;
}

static void lt_dup_err(json_t *out, sb_t *path, size_t idx, const char *value)
{
    size_t old = path_index(path, idx);
    sb_t m;
    sb_init(&m);
    sb_puts(&m, "Duplicate value: ");
    sb_puts(&m, value);
    cause_add(out, "FieldValueDuplicate", path->s, m.s);
    sb_free(&m);
    sb_trunc(path, old);
}

static void lt_validate(json_t *out, sb_t *path, json_t *x, json_t *s, bool root);

static void lt_array(json_t *out, sb_t *path, json_t *arr, json_t *s)
{
    const char *lt = sch_str(s, "x-kubernetes-list-type");
    size_t n = json_array_size(arr);
    if (lt && !strcmp(lt, "set") && n > 1) {
        lt_key *keys = malloc(n * sizeof(*keys));
        size_t *dups = malloc(n * sizeof(*dups));
        if (!keys || !dups) abort();
        for (size_t i = 0; i < n; i++)
            lt_make(&keys[i], json_array_get(arr, i), i);
        size_t nd = lt_dups(keys, n, dups);
        for (size_t i = 0; i < nd; i++) {
            sb_t v;
            sb_init(&v);
            go_value(&v, json_array_get(arr, dups[i]));
            lt_dup_err(out, path, dups[i], v.s);
            sb_free(&v);
        }
        free(keys);
        free(dups);
    } else if (lt && !strcmp(lt, "map")) {
        bool bad = false;
        for (size_t i = 0; i < n && !bad; i++) {
            json_t *it = json_array_get(arr, i);
            if (!json_is_null(it) && !json_is_object(it)) {
                size_t old = path_index(path, i);
                err_invalid_json(out, path->s, it,
                                 "must be an object for an array of list-type map");
                sb_trunc(path, old);
                bad = true;
            }
        }
        json_t *mk = sch_arr(s, "x-kubernetes-list-map-keys");
        size_t nk = mk ? json_array_size(mk) : 0;
        if (!bad && n > 1) {
            lt_key *keys = malloc(n * sizeof(*keys));
            size_t *dups = malloc(n * sizeof(*dups));
            json_t **kobj = calloc(n, sizeof(*kobj));
            if (!keys || !dups || !kobj) abort();
            for (size_t i = 0; i < n; i++) {
                json_t *it = json_array_get(arr, i);
                if (nk == 1) {
                    const char *kf = json_string_value(json_array_get(mk, 0));
                    json_t *kv = json_is_object(it) && kf ? json_object_get(it, kf) : NULL;
                    lt_make(&keys[i], kv, i);
                } else {
                    kobj[i] = json_object();
                    for (size_t j = 0; j < nk && json_is_object(it); j++) {
                        const char *kf = json_string_value(json_array_get(mk, j));
                        json_t *kv = kf ? json_object_get(it, kf) : NULL;
                        if (kv) json_object_set(kobj[i], kf, kv);
                    }
                    lt_make(&keys[i], kobj[i], i);
                }
            }
            size_t nd = lt_dups(keys, n, dups);
            for (size_t i = 0; i < nd; i++) {
                sb_t v;
                sb_init(&v);
                json_t *it = json_array_get(arr, dups[i]);
                if (nk == 1) {
                    const char *kf = json_string_value(json_array_get(mk, 0));
                    json_t *kv = json_is_object(it) && kf ? json_object_get(it, kf) : NULL;
                    json_t *tmp = json_object();
                    if (kv) json_object_set(tmp, kf, kv);
                    go_sharp_v(&v, tmp);
                    json_decref(tmp);
                } else {
                    go_sharp_v(&v, kobj[dups[i]]);
                }
                lt_dup_err(out, path, dups[i], v.s);
                sb_free(&v);
            }
            for (size_t i = 0; i < n; i++)
                json_decref(kobj[i]);
            free(kobj);
            free(keys);
            free(dups);
        }
    }
    json_t *items = sch_items(s);
    for (size_t i = 0; items && i < n; i++) {
        size_t old = path_index(path, i);
        lt_validate(out, path, json_array_get(arr, i), items, false);
        sb_trunc(path, old);
    }
}

static void lt_validate(json_t *out, sb_t *path, json_t *x, json_t *s, bool root)
{
    if (!json_is_object(s)) return;
    if (json_is_array(x)) {
        lt_array(out, path, x, s);
        return;
    }
    if (!json_is_object(x)) return;
    json_t *props = sch_props(s), *addl = sch_obj(s, "additionalProperties");
    const char *k;
    json_t *v;
    if (addl) {
        json_object_foreach(x, k, v)
        {
            size_t old = path_key(path, k);
            lt_validate(out, path, v, addl, false);
            sb_trunc(path, old);
        }
    }
    if (props) {
        json_object_foreach(x, k, v)
        {
            json_t *sub = json_object_get(props, k);
            if (!sub || (root && !strcmp(k, "metadata"))) continue;
            size_t old = path_child(path, k);
            lt_validate(out, path, v, sub, false);
            sb_trunc(path, old);
        }
    }
}

/* Schema validation of a value (no list-type/embedded checks), fields under `prefix`. */
static void validate_value(json_t *schema, json_t *value, const char *prefix, bool root,
                           json_t *causes)
{
    vctx c = {.prefix = prefix, .budget = V_BUDGET};
    sb_init(&c.path);
    v_node(&c, causes, schema, value, root);
    sb_free(&c.path);
}

void crd_schema_validate(json_t *schema, json_t *obj, json_t *causes)
{
    if (!json_is_object(schema) || !obj || !json_is_array(causes)) return;
    validate_value(schema, obj, "", true, causes);
    sb_t path;
    sb_init(&path);
    emb_validate(causes, &path, obj, schema, true);
    sb_trunc(&path, 0);
    lt_validate(causes, &path, obj, schema, true);
    sb_free(&path);
}

/* ---------------------------------------------------------------- CRD validation */

static const char DNS1035_MSG[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char DNS1123_SUB_MSG[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* IsDNS1035Label errors joined with ","; empty if valid. */
static void dns1035_errs(const char *s, sb_t *e)
{
    size_t n = strlen(s);
    if (n > 63) sb_puts(e, "must be no more than 63 characters");
    bool ok = n > 0 && s[0] >= 'a' && s[0] <= 'z' && lower_alnum(s[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok = lower_alnum(s[i]) || s[i] == '-';
    if (!ok) {
        if (e->n) sb_putc(e, ',');
        sb_puts(e, DNS1035_MSG);
    }
}

static void dns1123_subdomain_errs(const char *s, sb_t *e)
{
    size_t n = strlen(s);
    if (n > 253) sb_puts(e, "must be no more than 253 characters");
    bool ok = n > 0;
    size_t st = 0;
    for (size_t i = 0; ok && i <= n; i++) {
        if (i < n && s[i] != '.') {
            ok = lower_alnum(s[i]) || s[i] == '-';
            continue;
        }
        ok = i > st && lower_alnum(s[st]) && lower_alnum(s[i - 1]);
        st = i + 1;
    }
    if (!ok) {
        if (e->n) sb_putc(e, ',');
        sb_puts(e, DNS1123_SUB_MSG);
    }
}

static const char *obj_str(json_t *o, const char *k)
{
    json_t *v = json_is_object(o) ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

typedef struct {
    json_t *out;        /* OpenAPI-level errors */
    json_t *structural; /* structural-schema errors (sorted before being appended) */
    sb_t path;          /* field.Path of the current schema node */
} cctx;

static void c_at(cctx *c, const char *child, sb_t *f)
{
    sb_puts(f, c->path.s);
    if (child) {
        sb_putc(f, '.');
        sb_puts(f, child);
    }
}

static void c_forbidden(cctx *c, json_t *out, const char *child, const char *detail)
{
    sb_t f;
    sb_init(&f);
    c_at(c, child, &f);
    err_forbidden(out, f.s, detail);
    sb_free(&f);
}

static void c_required(cctx *c, json_t *out, const char *child, const char *detail)
{
    sb_t f;
    sb_init(&f);
    c_at(c, child, &f);
    err_required(out, f.s, detail);
    sb_free(&f);
}

static void c_invalid_json(cctx *c, json_t *out, const char *child, json_t *v, const char *detail)
{
    sb_t f;
    sb_init(&f);
    c_at(c, child, &f);
    err_invalid_json(out, f.s, v, detail);
    sb_free(&f);
}

static void c_invalid_str(cctx *c, json_t *out, const char *child, const char *v,
                          const char *detail)
{
    sb_t f;
    sb_init(&f);
    c_at(c, child, &f);
    err_invalid_str(out, f.s, v, detail);
    sb_free(&f);
}

typedef struct {
    bool root;
    bool inside_meta;
    bool allow_defaults;
    const char *no_default_reason;
} oas_opts;

static bool json_nonempty(json_t *v)
{
    if (!v || json_is_null(v)) return false;
    if (json_is_object(v)) return json_object_size(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    return true;
}

static void oas_validate(cctx *c, json_t *s, oas_opts o);

static void oas_child(cctx *c, json_t *s, const char *child, oas_opts o)
{
    if (!s) return;
    size_t old = path_child(&c->path, child);
    oas_validate(c, s, o);
    sb_trunc(&c->path, old);
}

/* ValidateCustomResourceDefinitionOpenAPISchema + specStandardValidatorV3 */
static void oas_validate(cctx *c, json_t *s, oas_opts o)
{
    json_t *out = c->out;
    if (!json_is_object(s)) {
        c_invalid_json(c, out, NULL, s, "must be an object");
        return;
    }
    json_t *tv = json_object_get(s, "type");
    const char *type = json_is_string(tv) ? json_string_value(tv) : "";
    static const char *const v3types[] = {"array",  "boolean", "integer",
                                          "number", "object",  "string"};
    if (tv && !json_is_string(tv)) {
        c_invalid_json(c, out, "type", tv, "must be a string");
    } else if (*type) {
        bool ok = false;
        for (size_t i = 0; i < 6; i++)
            ok = ok || !strcmp(type, v3types[i]);
        if (!ok) {
            sb_t f;
            sb_init(&f);
            c_at(c, "type", &f);
            err_not_supported_str(out, f.s, type, v3types, 6);
            sb_free(&f);
        }
    }
    if (json_object_get(s, "default") && !o.allow_defaults) {
        sb_t d;
        sb_init(&d);
        sb_puts(&d, "must not be set");
        if (o.no_default_reason) {
            sb_putc(&d, ' ');
            sb_puts(&d, o.no_default_reason);
        }
        c_forbidden(c, out, "default", d.s);
        sb_free(&d);
    }
    if (json_nonempty(json_object_get(s, "id"))) c_forbidden(c, out, "id", "id is not supported");
    if (json_object_get(s, "additionalItems"))
        c_forbidden(c, out, "additionalItems", "additionalItems is not supported");
    if (json_nonempty(json_object_get(s, "patternProperties")))
        c_forbidden(c, out, "patternProperties", "patternProperties is not supported");
    if (json_nonempty(json_object_get(s, "definitions")))
        c_forbidden(c, out, "definitions", "definitions is not supported");
    if (json_object_get(s, "dependencies"))
        c_forbidden(c, out, "dependencies", "dependencies is not supported");
    if (json_object_get(s, "$ref")) c_forbidden(c, out, "$ref", "$ref is not supported");
    if (!strcmp(type, "null"))
        c_forbidden(c, out, "type", "type cannot be set to null, use nullable as an alternative");
    json_t *items = json_object_get(s, "items");
    if (json_is_array(items) && json_array_size(items))
        c_forbidden(c, out, "items", "items must be a schema object and not an array");
    if (o.inside_meta && sch_flag(s, "x-kubernetes-embedded-resource"))
        c_forbidden(c, out, "x-kubernetes-embedded-resource",
                    "must not be used inside of resource meta");

    if (sch_flag(s, "uniqueItems"))
        c_forbidden(
            c, out, "uniqueItems",
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
    json_t *props = sch_props(s);
    json_t *addl = json_object_get(s, "additionalProperties");
    if (addl && !json_is_null(addl)) {
        if (props && json_object_size(props) && (json_is_false(addl) || json_is_object(addl)))
            c_forbidden(c, out, "additionalProperties",
                        "additionalProperties and properties are mutual exclusive");
        if (json_is_object(addl)) {
            oas_opts so = o;
            so.root = false;
            if (o.inside_meta) {
                so.allow_defaults = false;
                so.no_default_reason = "inside additionalProperties applying to object metadata";
            }
            oas_child(c, addl, "additionalProperties", so);
        }
    }
    if (props) {
        const char *k;
        json_t *ps;
        json_object_foreach(props, k, ps)
        {
            oas_opts so = o;
            so.root = false;
            char reason[64];
            if ((o.root || sch_flag(s, "x-kubernetes-embedded-resource")) && is_meta_field(k)) {
                so.inside_meta = true;
                if (o.root) {
                    snprintf(reason, sizeof(reason), "in top-level %s", k);
                    so.allow_defaults = false;
                    so.no_default_reason = reason;
                }
            }
            size_t old = path_child(&c->path, "properties");
            path_key(&c->path, k);
            oas_validate(c, ps, so);
            sb_trunc(&c->path, old);
        }
    }
    oas_opts sub = o;
    sub.root = false;
    oas_child(c, sch_get(s, "not"), "not", sub);
    static const char *const junctors[] = {"allOf", "oneOf", "anyOf"};
    for (size_t j = 0; j < 3; j++) {
        json_t *arr = sch_arr(s, junctors[j]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            size_t old = path_child(&c->path, junctors[j]);
            path_index(&c->path, i);
            oas_validate(c, json_array_get(arr, i), sub);
            sb_trunc(&c->path, old);
        }
    }
    if (json_is_object(items)) {
        oas_child(c, items, "items", sub);
    } else if (json_is_array(items)) {
        for (size_t i = 0; i < json_array_size(items); i++) {
            size_t old = path_child(&c->path, "items");
            path_index(&c->path, i);
            oas_validate(c, json_array_get(items, i), sub);
            sb_trunc(&c->path, old);
        }
    }
    json_t *puf = json_object_get(s, "x-kubernetes-preserve-unknown-fields");
    if (json_is_false(puf))
        c_invalid_json(c, out, "x-kubernetes-preserve-unknown-fields", puf,
                       "must be true or undefined");

    const char *map_type = sch_str(s, "x-kubernetes-map-type");
    if (map_type && strcmp(type, "object")) {
        if (!*type)
            c_required(c, out, "type", "must be object if x-kubernetes-map-type is specified");
        else
            c_invalid_str(c, out, "type", type,
                          "must be object if x-kubernetes-map-type is specified");
    }
    if (map_type && strcmp(map_type, "atomic") && strcmp(map_type, "granular")) {
        static const char *const mt[] = {"atomic", "granular"};
        sb_t f;
        sb_init(&f);
        c_at(c, "x-kubernetes-map-type", &f);
        err_not_supported_str(out, f.s, map_type, mt, 2);
        sb_free(&f);
    }
    const char *list_type = sch_str(s, "x-kubernetes-list-type");
    json_t *it_s = json_is_object(items) ? items : NULL;
    if (list_type && strcmp(type, "array")) {
        if (!*type)
            c_required(c, out, "type", "must be array if x-kubernetes-list-type is specified");
        else
            c_invalid_str(c, out, "type", type,
                          "must be array if x-kubernetes-list-type is specified");
    } else if (list_type && !strcmp(list_type, "set") && it_s) {
        const char *is_type = obj_str(it_s, "type");
        if (!strcmp(is_type, "array")) {
            const char *ilt = sch_str(it_s, "x-kubernetes-list-type");
            if (ilt && strcmp(ilt, "atomic"))
                c_invalid_str(c, out, "items.x-kubernetes-list-type", ilt,
                              "must be atomic as item of a list with x-kubernetes-list-type=set");
        } else if (!strcmp(is_type, "object")) {
            const char *imt = sch_str(it_s, "x-kubernetes-map-type");
            if (!imt || strcmp(imt, "atomic")) {
                sb_t f;
                sb_init(&f);
                c_at(c, "items.x-kubernetes-map-type", &f);
                err_invalid_raw(out, f.s, "\"set\"",
                                "must be atomic as item of a list with x-kubernetes-list-type=set");
                sb_free(&f);
            }
        }
    }
    if (list_type && strcmp(list_type, "atomic") && strcmp(list_type, "set") &&
        strcmp(list_type, "map")) {
        static const char *const lts[] = {"atomic", "set", "map"};
        sb_t f;
        sb_init(&f);
        c_at(c, "x-kubernetes-list-type", &f);
        err_not_supported_str(out, f.s, list_type, lts, 3);
        sb_free(&f);
    }
    json_t *mkeys = sch_arr(s, "x-kubernetes-list-map-keys");
    size_t nmk = mkeys ? json_array_size(mkeys) : 0;
    if (nmk) {
        if (!list_type)
            c_required(c, out, "x-kubernetes-list-type",
                       "must be map if x-kubernetes-list-map-keys is non-empty");
        else if (strcmp(list_type, "map"))
            c_invalid_str(c, out, "x-kubernetes-list-type", list_type,
                          "must be map if x-kubernetes-list-map-keys is non-empty");
    }
    if (list_type && !strcmp(list_type, "map")) {
        if (!nmk)
            c_required(c, out, "x-kubernetes-list-map-keys",
                       "must not be empty if x-kubernetes-list-type is map");
        if (!items)
            c_required(c, out, "items", "must have a schema if x-kubernetes-list-type is map");
        if (items && !it_s)
            c_invalid_json(c, out, "items", items,
                           "must only have a single schema if x-kubernetes-list-type is map");
        const char *is_type = it_s ? obj_str(it_s, "type") : "";
        if (it_s && strcmp(is_type, "object"))
            c_invalid_str(c, out, "items.type", is_type,
                          "must be object if parent array's x-kubernetes-list-type is map");
        if (it_s && !strcmp(is_type, "object")) {
            json_t *iprops = sch_props(it_s);
            for (size_t i = 0; i < nmk; i++) {
                const char *k = json_string_value(json_array_get(mkeys, i));
                json_t *kp = k && iprops ? json_object_get(iprops, k) : NULL;
                if (kp) {
                    const char *kt = obj_str(kp, "type");
                    if (!strcmp(kt, "array") || !strcmp(kt, "object")) {
                        sb_t f;
                        sb_init(&f);
                        c_at(c, "items.properties", &f);
                        path_key(&f, k);
                        sb_puts(&f, ".type");
                        err_invalid_str(out, f.s, is_type,
                                        "must be a scalar type if parent array's "
                                        "x-kubernetes-list-type is map");
                        sb_free(&f);
                    }
                } else {
                    c_invalid_json(c, out, "x-kubernetes-list-map-keys", mkeys,
                                   "entries must all be names of item properties");
                }
                for (size_t j = 0; k && j < i; j++) {
                    const char *pk = json_string_value(json_array_get(mkeys, j));
                    if (pk && !strcmp(pk, k)) {
                        c_invalid_json(c, out, "x-kubernetes-list-map-keys", mkeys,
                                       "must not contain duplicate entries");
                        break;
                    }
                }
            }
        }
    }
    json_t *xv = sch_arr(s, "x-kubernetes-validations");
    for (size_t i = 0; xv && i < json_array_size(xv); i++) {
        json_t *rule = json_array_get(xv, i);
        const char *r = obj_str(rule, "rule"), *msg = obj_str(rule, "message");
        bool rule_blank = true, msg_blank = true, rule_nl = false, msg_nl = false;
        for (const char *p = r; *p; p++) {
            if (!isspace((unsigned char)*p)) rule_blank = false;
        }
        for (const char *p = msg; *p; p++) {
            if (!isspace((unsigned char)*p)) msg_blank = false;
        }
        /* newline inside the trimmed text */
        const char *a = r, *z = r + strlen(r);
        while (a < z && isspace((unsigned char)*a))
            a++;
        while (z > a && isspace((unsigned char)z[-1]))
            z--;
        for (const char *p = a; p < z; p++)
            rule_nl = rule_nl || *p == '\n' || *p == '\r';
        a = msg, z = msg + strlen(msg);
        while (a < z && isspace((unsigned char)*a))
            a++;
        while (z > a && isspace((unsigned char)z[-1]))
            z--;
        for (const char *p = a; p < z; p++)
            msg_nl = msg_nl || *p == '\n' || *p == '\r';
        sb_t f;
        sb_init(&f);
        c_at(c, "x-kubernetes-validations", &f);
        path_index(&f, i);
        if (rule_blank) {
            sb_puts(&f, ".rule");
            err_required(out, f.s, "rule is not specified");
        } else if (*msg && msg_blank) {
            sb_puts(&f, ".message");
            err_invalid_str(out, f.s, msg, "message must be non-empty if specified");
        } else if (msg_nl) {
            sb_puts(&f, ".message");
            err_invalid_str(out, f.s, msg, "message must not contain line breaks");
        } else if (rule_nl && msg_blank) {
            sb_puts(&f, ".message");
            err_required(out, f.s, "message must be specified if rule contains line breaks");
        }
        sb_free(&f);
    }
    /* validateMapListKeysMapSet */
    if (it_s && list_type && (!strcmp(list_type, "set") || !strcmp(list_type, "map"))) {
        if (sch_flag(it_s, "nullable")) {
            char d[64];
            snprintf(d, sizeof(d), "cannot be nullable when x-kubernetes-list-type is %s",
                     list_type);
            c_forbidden(c, out, "items.nullable", d);
        }
        if (!strcmp(list_type, "map")) {
            json_t *req = sch_arr(it_s, "required"), *iprops = sch_props(it_s);
            for (size_t i = 0; i < nmk; i++) {
                const char *k = json_string_value(json_array_get(mkeys, i));
                json_t *kp = k && iprops ? json_object_get(iprops, k) : NULL;
                if (!kp) continue;
                bool is_req = false;
                for (size_t j = 0; req && j < json_array_size(req); j++) {
                    const char *rk = json_string_value(json_array_get(req, j));
                    if (rk && !strcmp(rk, k)) is_req = true;
                }
                sb_t f;
                sb_init(&f);
                c_at(c, "items.properties", &f);
                path_key(&f, k);
                size_t base = f.n;
                if (!is_req && !sch_get(kp, "default")) {
                    sb_puts(&f, ".default");
                    err_required(out, f.s,
                                 "this property is in x-kubernetes-list-map-keys, so it must have "
                                 "a default or be a required property");
                }
                if (sch_flag(kp, "nullable")) {
                    sb_trunc(&f, base);
                    sb_puts(&f, ".nullable");
                    err_forbidden(
                        out, f.s,
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable");
                }
                sb_free(&f);
            }
        }
    }
}

/* ---- structural schema invariants (pkg/apiserver/schema/validation.go) */

enum { LVL_ROOT, LVL_ITEM, LVL_FIELD };

static bool is_exact_type_only(json_t *s, const char *type)
{
    return json_is_object(s) && json_object_size(s) == 1 && !strcmp(obj_str(s, "type"), type);
}

static bool int_or_string_anyof(json_t *s)
{
    json_t *a = sch_arr(s, "anyOf");
    return a && json_array_size(a) == 2 && is_exact_type_only(json_array_get(a, 0), "integer") &&
           is_exact_type_only(json_array_get(a, 1), "string");
}

static void st_nested(cctx *c, json_t *v, bool skip_anyof, bool skip_allof_anyof);

static void st_value_validation(cctx *c, json_t *s, bool skip_anyof, bool skip_first_allof_anyof)
{
    json_t *out = c->structural;
    static const char *const junctors[] = {"anyOf", "allOf", "oneOf"};
    for (size_t j = 0; j < 3; j++) {
        if (j == 0 && skip_anyof) continue;
        json_t *arr = sch_arr(s, junctors[j]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            size_t old = path_child(&c->path, junctors[j]);
            path_index(&c->path, i);
            st_nested(c, json_array_get(arr, i), false, j == 1 && i == 0 && skip_first_allof_anyof);
            sb_trunc(&c->path, old);
        }
    }
    json_t *not = sch_obj(s, "not");
    if (not ) {
        size_t old = path_child(&c->path, "not");
        st_nested(c, not, false, false);
        sb_trunc(&c->path, old);
    }
    const char *pat = sch_str(s, "pattern");
    if (pat && *pat) {
        sb_t ere;
        sb_init(&ere);
        int fl;
        const char *why = NULL;
        if (rx_translate(pat, &ere, &fl, &why) == RX_INVALID) {
            sb_t d;
            sb_init(&d);
            sb_printf(
                &d, "must be a valid regular expression, but isn't: error parsing regexp: %s: `%s`",
                why ? why : "invalid", pat);
            c_invalid_str(c, out, "pattern", pat, d.s);
            sb_free(&d);
        }
        sb_free(&ere);
    }
}

static void st_nested(cctx *c, json_t *v, bool skip_anyof, bool skip_allof_anyof)
{
    if (!json_is_object(v)) return;
    json_t *out = c->structural;
    st_value_validation(c, v, skip_anyof || (skip_allof_anyof && int_or_string_anyof(v)), false);
    json_t *items = sch_obj(v, "items");
    if (items) {
        size_t old = path_child(&c->path, "items");
        st_nested(c, items, false, false);
        sb_trunc(&c->path, old);
    }
    json_t *props = sch_props(v);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = path_child(&c->path, "properties");
            path_key(&c->path, k);
            st_nested(c, ps, false, false);
            sb_trunc(&c->path, old);
        }
    }
    if (json_nonempty(json_object_get(v, "type")))
        c_forbidden(c, out, "type", "must be empty to be structural");
    if (json_object_get(v, "additionalProperties"))
        c_forbidden(c, out, "additionalProperties", "must be undefined to be structural");
    if (json_object_get(v, "default"))
        c_forbidden(c, out, "default", "must be undefined to be structural");
    if (json_nonempty(json_object_get(v, "title")))
        c_forbidden(c, out, "title", "must be empty to be structural");
    if (json_nonempty(json_object_get(v, "description")))
        c_forbidden(c, out, "description", "must be empty to be structural");
    if (sch_flag(v, "nullable")) c_forbidden(c, out, "nullable", "must be false to be structural");
    if (sch_flag(v, "x-kubernetes-preserve-unknown-fields"))
        c_forbidden(c, out, "x-kubernetes-preserve-unknown-fields",
                    "must be false to be structural");
    if (sch_flag(v, "x-kubernetes-embedded-resource"))
        c_forbidden(c, out, "x-kubernetes-embedded-resource", "must be false to be structural");
    if (sch_flag(v, "x-kubernetes-int-or-string"))
        c_forbidden(c, out, "x-kubernetes-int-or-string", "must be false to be structural");
    if (json_nonempty(json_object_get(v, "x-kubernetes-list-map-keys")))
        c_forbidden(c, out, "x-kubernetes-list-map-keys", "must be empty to be structural");
    if (json_object_get(v, "x-kubernetes-list-type"))
        c_forbidden(c, out, "x-kubernetes-list-type", "must be undefined to be structural");
    if (props && json_object_get(props, "metadata")) {
        sb_t f;
        sb_init(&f);
        c_at(c, "properties", &f);
        path_key(&f, "metadata");
        err_forbidden(out, f.s, "must not be specified in a nested context");
        sb_free(&f);
    }
}

static bool root_metadata_ok(json_t *m)
{
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (!strcmp(k, "type") || !strcmp(k, "default")) continue;
        if (!strcmp(k, "properties") && json_is_object(v)) {
            size_t n = json_object_size(v);
            bool name = json_object_get(v, "name"), gen = json_object_get(v, "generateName");
            if ((name && gen && n == 2) || ((name || gen) && n == 1) || n == 0) continue;
        }
        return false;
    }
    return true;
}

static void st_validate(cctx *c, json_t *s, int lvl)
{
    if (!json_is_object(s)) return;
    json_t *out = c->structural;
    const char *type = obj_str(s, "type");
    json_t *items = sch_obj(s, "items");
    if (!strcmp(type, "array") && !items) c_required(c, out, "items", "must be specified");
    if (items) {
        size_t old = path_child(&c->path, "items");
        st_validate(c, items, LVL_ITEM);
        sb_trunc(&c->path, old);
    }
    json_t *props = sch_props(s);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = path_child(&c->path, "properties");
            path_key(&c->path, k);
            st_validate(c, ps, LVL_FIELD);
            sb_trunc(&c->path, old);
        }
    }
    json_t *addl = json_object_get(s, "additionalProperties");
    bool has_addl = addl && !json_is_null(addl);
    if (has_addl) {
        if (lvl == LVL_ROOT)
            c_forbidden(c, out, "additionalProperties", "must not be used at the root");
        if (json_is_object(addl)) {
            size_t old = path_child(&c->path, "additionalProperties");
            st_validate(c, addl, LVL_FIELD);
            sb_trunc(&c->path, old);
        }
    }
    bool ios = sch_flag(s, "x-kubernetes-int-or-string");
    bool puf = sch_flag(s, "x-kubernetes-preserve-unknown-fields");
    bool emb = sch_flag(s, "x-kubernetes-embedded-resource");
    if (ios && puf) {
        sb_t f;
        sb_init(&f);
        c_at(c, "x-kubernetes-preserve-unknown-fields", &f);
        err_invalid_raw(out, f.s, "true", "must be false if x-kubernetes-int-or-string is true");
        sb_free(&f);
    }
    if (ios && emb) {
        sb_t f;
        sb_init(&f);
        c_at(c, "x-kubernetes-embedded-resource", &f);
        err_invalid_raw(out, f.s, "true", "must be false if x-kubernetes-int-or-string is true");
        sb_free(&f);
    }
    json_t *allof = sch_arr(s, "allOf");
    bool skip_first_allof_anyof =
        allof && json_array_size(allof) >= 1 && int_or_string_anyof(json_array_get(allof, 0));
    st_value_validation(c, s, int_or_string_anyof(s), skip_first_allof_anyof);

    bool check_meta = lvl == LVL_ROOT || emb;
    if (emb && strcmp(type, "object")) {
        if (!*type)
            c_required(c, out, "type", "must be object if x-kubernetes-embedded-resource is true");
        else
            c_invalid_str(c, out, "type", type,
                          "must be object if x-kubernetes-embedded-resource is true");
    } else if (!*type && !ios && !puf) {
        c_required(c, out, "type",
                   lvl == LVL_ROOT   ? "must not be empty at the root"
                   : lvl == LVL_ITEM ? "must not be empty for specified array items"
                                     : "must not be empty for specified object fields");
    }
    if (emb && has_addl)
        c_forbidden(c, out, "additionalProperties",
                    "must not be used if x-kubernetes-embedded-resource is set");
    if (lvl == LVL_ROOT && *type && strcmp(type, "object"))
        c_invalid_str(c, out, "type", type, "must be object at the root");
    static const struct {
        const char *name, *type, *msg;
    } metas[] = {{"kind", "string", "must be string"},
                 {"apiVersion", "string", "must be string"},
                 {"metadata", "object", "must be object"}};
    for (size_t i = 0; props && check_meta && i < 3; i++) {
        json_t *mp = json_object_get(props, metas[i].name);
        if (!mp) continue;
        const char *mt = obj_str(mp, "type");
        if (strcmp(mt, metas[i].type)) {
            sb_t f;
            sb_init(&f);
            c_at(c, "properties", &f);
            path_key(&f, metas[i].name);
            sb_puts(&f, ".type");
            err_invalid_str(out, f.s, mt, metas[i].msg);
            sb_free(&f);
        }
    }
    json_t *md = props ? json_object_get(props, "metadata") : NULL;
    if (md && lvl == LVL_ROOT && (!json_is_object(md) || !root_metadata_ok(md))) {
        sb_t f;
        sb_init(&f);
        c_at(c, "properties", &f);
        path_key(&f, "metadata");
        err_forbidden(out, f.s,
                      "must not specify anything other than name and generateName, but metadata is "
                      "implicitly specified");
        sb_free(&f);
    }
    if (emb && !puf && !(props && json_object_size(props)))
        c_required(c, out, "properties",
                   "must not be empty if x-kubernetes-embedded-resource is true without "
                   "x-kubernetes-preserve-unknown-fields");
}

static int cmp_cause(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *fx = obj_str(x, "field"), *fy = obj_str(y, "field");
    const char *mx = obj_str(x, "message"), *my = obj_str(y, "message");
    /* field.Error.Error() = "<field>: <message>" */
    size_t lx = strlen(fx), ly = strlen(fy);
    size_t n = lx < ly ? lx : ly;
    int r = memcmp(fx, fy, n);
    if (r) return r;
    if (lx != ly) {
        /* compare the remainder of the longer field against ": " + message of the shorter */
        sb_t sx, sy;
        sb_init(&sx);
        sb_init(&sy);
        sb_printf(&sx, "%s: %s", fx, mx);
        sb_printf(&sy, "%s: %s", fy, my);
        r = strcmp(sx.s, sy.s);
        sb_free(&sx);
        sb_free(&sy);
        return r;
    }
    return strcmp(mx, my);
}

static void append_sorted(json_t *out, json_t *errs)
{
    size_t n = json_array_size(errs);
    if (!n) return;
    json_t **tmp = malloc(n * sizeof(*tmp));
    if (!tmp) abort();
    for (size_t i = 0; i < n; i++)
        tmp[i] = json_array_get(errs, i);
    qsort(tmp, n, sizeof(*tmp), cmp_cause);
    for (size_t i = 0; i < n; i++)
        json_array_append(out, tmp[i]);
    free(tmp);
}

/* ---- defaults (pkg/apiserver/schema/defaulting/validation.go) */

static void dv_validate(cctx *c, json_t *s, bool inside_meta)
{
    if (!json_is_object(s)) return;
    bool emb = sch_flag(s, "x-kubernetes-embedded-resource");
    if (emb) inside_meta = false;
    json_t *def = json_object_get(s, "default");
    if (def && !inside_meta) {
        sb_t f;
        sb_init(&f);
        c_at(c, "default", &f);
        json_t *pruned = json_deep_copy(def);
        if (json_is_object(pruned)) {
            pctx p = {.pruned = NULL};
            sb_init(&p.path);
            prune_value(&p, pruned, s, emb);
            sb_free(&p.path);
        } else if (json_is_array(pruned)) {
            pctx p = {.pruned = NULL};
            sb_init(&p.path);
            prune_value(&p, pruned, s, false);
            sb_free(&p.path);
        }
        if (!json_equal(pruned, def))
            err_invalid_json(c->out, f.s, def, "must not have unknown fields");
        json_decref(pruned);
        json_t *errs = json_array();
        sb_t path;
        sb_init(&path);
        sb_puts(&path, f.s);
        emb_validate(errs, &path, def, s, false);
        sb_free(&path);
        if (!json_array_size(errs)) validate_value(s, def, f.s, false, errs);
        json_array_extend(c->out, errs);
        json_decref(errs);
        sb_free(&f);
    }
    json_t *items = sch_obj(s, "items");
    if (items) {
        size_t old = path_child(&c->path, "items");
        dv_validate(c, items, inside_meta);
        sb_trunc(&c->path, old);
    }
    json_t *props = sch_props(s);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = path_child(&c->path, "properties");
            path_key(&c->path, k);
            dv_validate(c, ps, inside_meta || (emb && is_meta_field(k)));
            sb_trunc(&c->path, old);
        }
    }
}

static bool schema_has_defaults(json_t *s)
{
    if (!json_is_object(s)) return false;
    if (json_object_get(s, "default")) return true;
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v)
    {
        if (!strcmp(k, "default") || !strcmp(k, "enum") || !strcmp(k, "example")) continue;
        if (json_is_object(v)) {
            if (!strcmp(k, "properties") || !strcmp(k, "patternProperties") ||
                !strcmp(k, "definitions") || !strcmp(k, "dependencies")) {
                const char *k2;
                json_t *v2;
                json_object_foreach(v, k2, v2) if (schema_has_defaults(v2)) return true;
            } else if (schema_has_defaults(v)) {
                return true;
            }
        } else if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++)
                if (schema_has_defaults(json_array_get(v, i))) return true;
        }
    }
    return false;
}

/* ---- per-version schema, columns, subresources */

static const char *const ROOT_FIELD_ORDER[][2] = {
    /* JSONSchemaProps field order (json name, Go field name); allowed at a status-enabled root? */
    {"id", "ID"},
    {"$schema", "Schema"},
    {"$ref", "Ref"},
    {"description", "Description"},
    {"type", "Type"},
    {"nullable", "Nullable"},
    {"format", "Format"},
    {"title", "Title"},
    {"default", "Default"},
    {"maximum", "Maximum"},
    {"exclusiveMaximum", "ExclusiveMaximum"},
    {"minimum", "Minimum"},
    {"exclusiveMinimum", "ExclusiveMinimum"},
    {"maxLength", "MaxLength"},
    {"minLength", "MinLength"},
    {"pattern", "Pattern"},
    {"maxItems", "MaxItems"},
    {"minItems", "MinItems"},
    {"uniqueItems", "UniqueItems"},
    {"multipleOf", "MultipleOf"},
    {"enum", "Enum"},
    {"maxProperties", "MaxProperties"},
    {"minProperties", "MinProperties"},
    {"required", "Required"},
    {"items", "Items"},
    {"allOf", "AllOf"},
    {"oneOf", "OneOf"},
    {"anyOf", "AnyOf"},
    {"not", "Not"},
    {"properties", "Properties"},
    {"additionalProperties", "AdditionalProperties"},
    {"patternProperties", "PatternProperties"},
    {"dependencies", "Dependencies"},
    {"additionalItems", "AdditionalItems"},
    {"definitions", "Definitions"},
    {"externalDocs", "ExternalDocs"},
    {"example", "Example"},
    {"x-kubernetes-preserve-unknown-fields", "XPreserveUnknownFields"},
    {"x-kubernetes-embedded-resource", "XEmbeddedResource"},
    {"x-kubernetes-int-or-string", "XIntOrString"},
    {"x-kubernetes-list-map-keys", "XListMapKeys"},
    {"x-kubernetes-list-type", "XListType"},
    {"x-kubernetes-map-type", "XMapType"},
    {"x-kubernetes-validations", "XValidations"},
};

static bool root_allowed(const char *go)
{
    static const char *const allowed[] = {"Description",
                                          "Type",
                                          "Format",
                                          "Title",
                                          "Maximum",
                                          "ExclusiveMaximum",
                                          "Minimum",
                                          "ExclusiveMinimum",
                                          "MaxLength",
                                          "MinLength",
                                          "Pattern",
                                          "MaxItems",
                                          "MinItems",
                                          "UniqueItems",
                                          "MultipleOf",
                                          "Required",
                                          "Items",
                                          "Properties",
                                          "ExternalDocs",
                                          "Example",
                                          "XPreserveUnknownFields",
                                          "XValidations"};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!strcmp(go, allowed[i])) return true;
    return false;
}

/* Go zero value of the JSONSchemaProps field a JSON key decodes into (pointers are non-zero). */
static bool json_zero(json_t *v)
{
    return !v || json_is_null(v) || json_is_false(v) ||
           (json_is_string(v) && !json_string_length(v));
}

static void validate_version_schema(json_t *causes, sb_t *vpath, json_t *schema_wrap,
                                    bool status_enabled)
{
    json_t *s = sch_get(schema_wrap, "openAPIV3Schema");
    if (!s) return;
    cctx c = {.out = causes, .structural = json_array()};
    sb_init(&c.path);
    sb_puts(&c.path, vpath->s);
    sb_puts(&c.path, ".schema");
    if (status_enabled && json_is_object(s)) {
        for (size_t i = 0; i < sizeof(ROOT_FIELD_ORDER) / sizeof(ROOT_FIELD_ORDER[0]); i++) {
            json_t *v = json_object_get(s, ROOT_FIELD_ORDER[i][0]);
            if (json_zero(v)) continue;
            if (!strcmp(ROOT_FIELD_ORDER[i][1], "Type")) {
                const char *t = json_is_string(v) ? json_string_value(v) : "";
                if (strcmp(t, "object")) {
                    c_invalid_str(&c, causes, "openAPIV3Schema.type", t,
                                  "only \"object\" is allowed as the type at the root of the "
                                  "schema if the status subresource is enabled");
                    break;
                }
                continue;
            }
            if (!root_allowed(ROOT_FIELD_ORDER[i][1])) {
                char *dump = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
                c_invalid_str(
                    &c, causes, "openAPIV3Schema", dump ? dump : "",
                    "only [Description Type Format Title Maximum ExclusiveMaximum Minimum "
                    "ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems "
                    "MultipleOf Required Items Properties ExternalDocs Example "
                    "XPreserveUnknownFields XValidations] fields are allowed at the root of the "
                    "schema if the status subresource is enabled");
                free(dump);
                break;
            }
        }
    }
    if (sch_flag(s, "nullable"))
        c_forbidden(&c, causes, "openAPIV3Schema.nullable", "nullable cannot be true at the root");
    path_child(&c.path, "openAPIV3Schema");
    oas_opts o = {
        .root = true, .inside_meta = false, .allow_defaults = true, .no_default_reason = NULL};
    oas_validate(&c, s, o);
    if (json_is_object(s)) {
        st_validate(&c, s, LVL_ROOT);
        append_sorted(causes, c.structural);
        if (!json_array_size(c.structural)) dv_validate(&c, s, false);
    }
    json_decref(c.structural);
    sb_free(&c.path);
}

static void validate_json_path(json_t *causes, const char *field, const char *s)
{
    if (!*s)
        err_invalid_str(causes, field, s, "must not be empty");
    else if (s[0] != '.')
        err_invalid_str(causes, field, s, "must be a simple json path starting with .");
}

static void validate_columns(json_t *causes, sb_t *vpath, json_t *cols)
{
    for (size_t i = 0; i < json_array_size(cols); i++) {
        json_t *col = json_array_get(cols, i);
        sb_t p;
        sb_init(&p);
        sb_puts(&p, vpath->s);
        sb_puts(&p, ".additionalPrinterColumns");
        path_index(&p, i);
        size_t base = p.n;
        if (!*obj_str(col, "name")) {
            sb_puts(&p, ".name");
            err_required(causes, p.s, "");
            sb_trunc(&p, base);
        }
        const char *type = obj_str(col, "type");
        static const char *const types[] = {"integer", "number", "string", "boolean", "date"};
        bool ok = false;
        for (size_t k = 0; k < 5; k++)
            ok = ok || !strcmp(type, types[k]);
        sb_puts(&p, ".type");
        if (!*type)
            err_required(causes, p.s, "must be one of boolean,date,integer,number,string");
        else if (!ok)
            err_invalid_str(causes, p.s, type, "must be one of boolean,date,integer,number,string");
        sb_trunc(&p, base);
        const char *format = obj_str(col, "format");
        static const char *const formats[] = {"int32", "int64", "float",     "double",
                                              "byte",  "date",  "date-time", "password"};
        ok = false;
        for (size_t k = 0; k < 8; k++)
            ok = ok || !strcmp(format, formats[k]);
        if (*format && !ok) {
            sb_puts(&p, ".format");
            err_invalid_str(causes, p.s, format,
                            "must be one of byte,date,date-time,double,float,int32,int64,password");
            sb_trunc(&p, base);
        }
        const char *jp = obj_str(col, "jsonPath");
        sb_puts(&p, ".JSONPath");
        if (!*jp)
            err_required(causes, p.s, "");
        else
            validate_json_path(causes, p.s, jp);
        sb_free(&p);
    }
}

static void validate_subresources(json_t *causes, sb_t *vpath, json_t *sub)
{
    json_t *scale = sch_obj(sub, "scale");
    if (!scale) return;
    static const struct {
        const char *json, *field, *prefix, *msg;
    } paths[] = {{"specReplicasPath", "scale.specReplicasPath", ".spec.",
                  "should be a json path under .spec"},
                 {"statusReplicasPath", "scale.statusReplicasPath", ".status.",
                  "should be a json path under .status"}};
    for (size_t i = 0; i < 2; i++) {
        sb_t f;
        sb_init(&f);
        sb_printf(&f, "%s.subresources.%s", vpath->s, paths[i].field);
        const char *v = obj_str(scale, paths[i].json);
        if (!*v)
            err_required(causes, f.s, "");
        else if (v[0] != '.')
            err_invalid_str(causes, f.s, v, "must be a simple json path starting with .");
        else if (strncmp(v, paths[i].prefix, strlen(paths[i].prefix)))
            err_invalid_str(causes, f.s, v, paths[i].msg);
        sb_free(&f);
    }
    const char *ls = obj_str(scale, "labelSelectorPath");
    if (*ls) {
        sb_t f;
        sb_init(&f);
        sb_printf(&f, "%s.subresources.scale.labelSelectorPath", vpath->s);
        if (ls[0] != '.')
            err_invalid_str(causes, f.s, ls, "must be a simple json path starting with .");
        else if (strncmp(ls, ".spec.", 6) && strncmp(ls, ".status.", 8))
            err_invalid_str(causes, f.s, ls, "should be a json path under either .spec or .status");
        sb_free(&f);
    }
}

/* %#v of []apiextensions.CustomResourceDefinitionVersion (pointers rendered symbolically). */
static void go_versions(sb_t *b, json_t *versions)
{
    size_t n = json_array_size(versions);
    if (!n) {
        sb_puts(b, "[]apiextensions.CustomResourceDefinitionVersion(nil)");
        return;
    }
    sb_puts(b, "[]apiextensions.CustomResourceDefinitionVersion{");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(versions, i);
        if (i) sb_puts(b, ", ");
        sb_puts(b, "apiextensions.CustomResourceDefinitionVersion{Name:");
        go_quote(b, obj_str(v, "name"));
        sb_printf(b, ", Served:%s, Storage:%s, Deprecated:%s, DeprecationWarning:",
                  sch_flag(v, "served") ? "true" : "false",
                  sch_flag(v, "storage") ? "true" : "false",
                  sch_flag(v, "deprecated") ? "true" : "false");
        sb_puts(b, sch_get(v, "deprecationWarning") ? "(*string)(0xc000010000)" : "(*string)(nil)");
        sb_puts(b, ", Schema:");
        sb_puts(b, sch_get(v, "schema") ? "(*apiextensions.CustomResourceValidation)(0xc000010010)"
                                        : "(*apiextensions.CustomResourceValidation)(nil)");
        sb_puts(b, ", Subresources:");
        sb_puts(b, sch_get(v, "subresources")
                       ? "(*apiextensions.CustomResourceSubresources)(0xc000010020)"
                       : "(*apiextensions.CustomResourceSubresources)(nil)");
        sb_puts(b, ", AdditionalPrinterColumns:");
        json_t *cols = sch_arr(v, "additionalPrinterColumns");
        if (!cols || !json_array_size(cols)) {
            sb_puts(b, "[]apiextensions.CustomResourceColumnDefinition(nil)");
        } else {
            sb_puts(b, "[]apiextensions.CustomResourceColumnDefinition{");
            for (size_t k = 0; k < json_array_size(cols); k++) {
                json_t *col = json_array_get(cols, k);
                long long prio = 0;
                sch_int(col, "priority", &prio);
                if (k) sb_puts(b, ", ");
                sb_puts(b, "apiextensions.CustomResourceColumnDefinition{Name:");
                go_quote(b, obj_str(col, "name"));
                sb_puts(b, ", Type:");
                go_quote(b, obj_str(col, "type"));
                sb_puts(b, ", Format:");
                go_quote(b, obj_str(col, "format"));
                sb_puts(b, ", Description:");
                go_quote(b, obj_str(col, "description"));
                sb_printf(b, ", Priority:%lld, JSONPath:", prio);
                go_quote(b, obj_str(col, "jsonPath"));
                sb_putc(b, '}');
            }
            sb_putc(b, '}');
        }
        sb_puts(b, ", SelectableFields:[]apiextensions.SelectableField(nil)}");
    }
    sb_putc(b, '}');
}

static void validate_names(json_t *causes, json_t *names)
{
    static const char *const plain[] = {"plural", "singular"};
    sb_t e;
    sb_init(&e);
    for (size_t i = 0; i < 2; i++) {
        const char *v = obj_str(names, plain[i]);
        sb_trunc(&e, 0);
        dns1035_errs(v, &e);
        if (*v && e.n) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", plain[i]);
            err_invalid_str(causes, f, v, e.s);
        }
    }
    static const char *const mixed[] = {"kind", "listKind"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = obj_str(names, mixed[i]);
        char *low = strdup(v);
        if (!low) abort();
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        sb_trunc(&e, 0);
        dns1035_errs(low, &e);
        free(low);
        if (*v && e.n) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", mixed[i]);
            sb_t d;
            sb_init(&d);
            sb_puts(&d, "may have mixed case, but should otherwise match: ");
            sb_puts(&d, e.s);
            err_invalid_str(causes, f, v, d.s);
            sb_free(&d);
        }
    }
    static const char *const lists[] = {"shortNames", "categories"};
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = sch_arr(names, lists[l]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            json_t *x = json_array_get(arr, i);
            const char *v = json_is_string(x) ? json_string_value(x) : "";
            sb_trunc(&e, 0);
            dns1035_errs(v, &e);
            if (e.n) {
                char f[64];
                snprintf(f, sizeof(f), "spec.names.%s[%zu]", lists[l], i);
                err_invalid_str(causes, f, v, e.s);
            }
        }
    }
    const char *kind = obj_str(names, "kind"), *lk = obj_str(names, "listKind");
    if (*kind && !strcmp(kind, lk))
        err_invalid_str(causes, "spec.names.listKind", lk, "kind and listKind may not be the same");
    sb_free(&e);
}

static void validate_conversion(json_t *causes, json_t *conv)
{
    if (!json_is_object(conv)) return;
    const char *strategy = obj_str(conv, "strategy");
    static const char *const strategies[] = {"None", "Webhook"};
    if (!*strategy)
        err_required(causes, "spec.conversion.strategy", "");
    else if (strcmp(strategy, "None") && strcmp(strategy, "Webhook"))
        err_not_supported_str(causes, "spec.conversion.strategy", strategy, strategies, 2);
    json_t *wh = sch_obj(conv, "webhook");
    json_t *cc = sch_obj(wh, "clientConfig");
    if (!strcmp(strategy, "Webhook")) {
        if (!cc) {
            err_required(causes, "spec.conversion.webhookClientConfig",
                         "required when strategy is set to Webhook");
        } else if (!sch_get(cc, "url") == !sch_get(cc, "service")) {
            err_required(causes, "spec.conversion.webhookClientConfig",
                         "exactly one of url or service is required");
        }
        json_t *crv = sch_arr(wh, "conversionReviewVersions");
        if (!crv || !json_array_size(crv)) {
            err_required(causes, "spec.conversion.conversionReviewVersions", "");
        } else {
            bool accepted = false;
            for (size_t i = 0; i < json_array_size(crv); i++) {
                const char *v = json_string_value(json_array_get(crv, i));
                if (v && (!strcmp(v, "v1") || !strcmp(v, "v1beta1"))) accepted = true;
            }
            if (!accepted) {
                sb_t v;
                sb_init(&v);
                sb_puts(&v, "[]string{");
                for (size_t i = 0; i < json_array_size(crv); i++) {
                    const char *x = json_string_value(json_array_get(crv, i));
                    if (i) sb_puts(&v, ", ");
                    go_quote(&v, x ? x : "");
                }
                sb_putc(&v, '}');
                err_invalid_raw(causes, "spec.conversion.conversionReviewVersions", v.s,
                                "must include at least one of v1, v1beta1");
                sb_free(&v);
            }
        }
    } else {
        if (cc)
            err_forbidden(causes, "spec.conversion.webhookClientConfig",
                          "should not be set when strategy is not set to Webhook");
        if (json_nonempty(sch_get(wh, "conversionReviewVersions")))
            err_forbidden(causes, "spec.conversion.conversionReviewVersions",
                          "should not be set when strategy is not set to Webhook");
    }
}

void crd_validate(json_t *crd, json_t *causes)
{
    if (!json_is_array(causes)) return;
    json_t *meta = sch_obj(crd, "metadata");
    json_t *spec = sch_obj(crd, "spec");
    json_t *names = sch_obj(spec, "names");
    const char *name = obj_str(meta, "name");
    const char *group = obj_str(spec, "group");
    const char *plural = obj_str(names, "plural");

    /* metadata: the CRD-specific name rule (generic ObjectMeta rules belong to objmeta) */
    {
        sb_t want;
        sb_init(&want);
        sb_printf(&want, "%s.%s", plural, group);
        if (strcmp(name, want.s))
            err_invalid_str(causes, "metadata.name", name,
                            "must be spec.names.plural+\".\"+spec.group");
        sb_free(&want);
    }
    /* spec.group */
    if (!*group) {
        err_required(causes, "spec.group", "");
    } else {
        sb_t e;
        sb_init(&e);
        dns1123_subdomain_errs(group, &e);
        if (e.n)
            err_invalid_str(causes, "spec.group", group, e.s);
        else if (!strchr(group, '.'))
            err_invalid_str(causes, "spec.group", group,
                            "should be a domain with at least one dot");
        sb_free(&e);
    }
    /* spec.scope */
    const char *scope = obj_str(spec, "scope");
    static const char *const scopes[] = {"Cluster", "Namespaced"};
    if (!*scope)
        err_required(causes, "spec.scope", "");
    else if (strcmp(scope, "Cluster") && strcmp(scope, "Namespaced"))
        err_not_supported_str(causes, "spec.scope", scope, scopes, 2);

    json_t *versions = sch_arr(spec, "versions");
    size_t nv = versions ? json_array_size(versions) : 0;
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_array_get(versions, i);
        if (!sch_get(sch_obj(v, "schema"), "openAPIV3Schema")) {
            char f[80];
            snprintf(f, sizeof(f), "spec.versions[%zu].schema.openAPIV3Schema", i);
            err_required(causes, f, "schemas are required");
        }
    }
    bool puf = sch_flag(spec, "preserveUnknownFields");
    if (puf) {
        bool defaults = false;
        for (size_t i = 0; i < nv && !defaults; i++)
            defaults = schema_has_defaults(
                sch_get(sch_obj(json_array_get(versions, i), "schema"), "openAPIV3Schema"));
        if (defaults)
            err_invalid_raw(causes, "spec.preserveUnknownFields", "true",
                            "must be false in order to use defaults in the schema");
    }
    size_t storage = 0;
    bool unique = true;
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_array_get(versions, i);
        const char *vname = obj_str(v, "name");
        if (sch_flag(v, "storage")) storage++;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(vname, obj_str(json_array_get(versions, j), "name"))) unique = false;
        sb_t vpath;
        sb_init(&vpath);
        sb_printf(&vpath, "spec.versions[%zu]", i);
        sb_t e;
        sb_init(&e);
        dns1035_errs(vname, &e);
        if (e.n) {
            sb_t f;
            sb_init(&f);
            sb_printf(&f, "%s.name", vpath.s);
            err_invalid_str(causes, f.s, vname, e.s);
            sb_free(&f);
        }
        sb_free(&e);
        /* deprecationWarning */
        json_t *dw = sch_get(v, "deprecationWarning");
        if (json_is_string(dw)) {
            sb_t f;
            sb_init(&f);
            sb_printf(&f, "%s.deprecationWarning", vpath.s);
            const char *w = json_string_value(dw);
            if (!sch_flag(v, "deprecated"))
                err_invalid_str(causes, f.s, w, "can only be set for deprecated versions");
            else if (strlen(w) > 256)
                err_invalid_str(causes, f.s, w, "must be <= 256 characters long");
            else if (!*w)
                err_invalid_str(causes, f.s, w, "must not be an empty string");
            sb_free(&f);
        }
        json_t *sub = sch_obj(v, "subresources");
        validate_version_schema(causes, &vpath, sch_obj(v, "schema"),
                                sch_obj(sub, "status") != NULL);
        validate_subresources(causes, &vpath, sub);
        json_t *cols = sch_arr(v, "additionalPrinterColumns");
        if (cols) validate_columns(causes, &vpath, cols);
        sb_free(&vpath);
    }
    if (!unique || storage != 1) {
        sb_t vr;
        sb_init(&vr);
        go_versions(&vr, versions);
        if (!unique)
            err_invalid_raw(causes, "spec.versions", vr.s, "must contain unique version names");
        if (storage != 1)
            err_invalid_raw(causes, "spec.versions", vr.s,
                            "must have exactly one version marked as storage version");
        sb_free(&vr);
    }
    static const char *const req_names[] = {"plural", "singular", "kind", "listKind"};
    for (size_t i = 0; i < 4; i++) {
        if (!*obj_str(names, req_names[i])) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", req_names[i]);
            err_required(causes, f, "");
        }
    }
    validate_names(causes, names);
    json_t *conv = sch_obj(spec, "conversion");
    if (conv && strcmp(obj_str(conv, "strategy"), "None") && puf)
        err_invalid_str(causes, "spec.conversion.strategy", obj_str(conv, "strategy"),
                        "must be None if spec.preserveUnknownFields is true");
    validate_conversion(causes, conv);
    if (puf)
        err_invalid_raw(causes, "spec.preserveUnknownFields", "true",
                        "cannot set to true, set x-preserve-unknown-fields to true in "
                        "spec.versions[*].schema instead");
}

void crd_default(json_t *crd)
{
    json_t *spec = sch_obj(crd, "spec");
    if (!spec) return;
    json_t *names = sch_obj(spec, "names");
    if (names) {
        const char *kind = obj_str(names, "kind");
        if (!*obj_str(names, "singular")) {
            char *low = strdup(kind);
            if (!low) abort();
            for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            json_object_set_new(names, "singular", json_str_safe(low));
            free(low);
        }
        if (!*obj_str(names, "listKind") && *kind) {
            sb_t lk;
            sb_init(&lk);
            sb_puts(&lk, kind);
            sb_puts(&lk, "List");
            json_object_set_new(names, "listKind", json_str_safe(lk.s));
            sb_free(&lk);
        }
    }
    json_t *conv = json_object_get(spec, "conversion");
    if (!conv || json_is_null(conv)) {
        json_object_set_new(spec, "conversion", json_pack("{s:s}", "strategy", "None"));
    } else {
        json_t *svc = sch_obj(sch_obj(sch_obj(conv, "webhook"), "clientConfig"), "service");
        if (svc && !json_is_integer(json_object_get(svc, "port")))
            json_object_set_new(svc, "port", json_integer(443));
    }
}
