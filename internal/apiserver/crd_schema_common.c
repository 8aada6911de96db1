/* crd_schema_common: the helpers every CRD/structural-schema file shares: field paths built in a
 * strbuf, Go-style (%q, %v, %#v) value formatting, k8s field-error causes and schema-node
 * accessors. Pure functions, no global state. */
#include "apiserver/crd_schema_internal.h"

#include "base/goquote.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- string builder helpers */

void crds_sb_trunc(strbuf_t *b, size_t n)
{
    b->n = n;
    if (b->p) b->p[n] = '\0';
}

/* Path helpers. Dotted style (kube-openapi names, pruning paths) and field.Path style
 * (Child/Key/Index) share the same buffer type; each push returns the length to restore. */
size_t crds_path_child(strbuf_t *p, const char *name)
{
    size_t old = p->n;
    if (p->n) strbuf_putc(p, '.');
    strbuf_puts(p, name);
    return old;
}

size_t crds_path_key(strbuf_t *p, const char *key)
{
    size_t old = p->n;
    strbuf_putc(p, '[');
    strbuf_puts(p, key);
    strbuf_putc(p, ']');
    return old;
}

size_t crds_path_index(strbuf_t *p, size_t i)
{
    size_t old = p->n;
    strbuf_printf(p, "[%zu]", i);
    return old;
}

/* ---------------------------------------------------------------- Go-style value formatting */

/* Decodes one UTF-8 sequence; returns its length, or 0 if s does not start a valid sequence. */
size_t crds_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t w;
    uint32_t r = goquote_decode_rune(s, n, &w);
    if (r == 0xFFFD && w == 1) return 0;
    *cp = r;
    return w;
}

/* strconv.Quote */
void crds_go_quote_n(strbuf_t *b, const char *s, size_t n)
{
    char *q = goquote(s, n);
    if (!q) abort();
    strbuf_puts(b, q);
    free(q);
}

void crds_go_quote(strbuf_t *b, const char *s)
{
    crds_go_quote_n(b, s, strlen(s));
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Element of an interface{} container under %#v. */
static void go_sharp_elem(strbuf_t *b, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        crds_go_quote_n(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        strbuf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        gofloat_g(b, json_real_value(v));
        break;
    case JSON_TRUE:
        strbuf_puts(b, "true");
        break;
    case JSON_FALSE:
        strbuf_puts(b, "false");
        break;
    case JSON_NULL:
        strbuf_puts(b, "interface {}(nil)");
        break;
    default:
        crds_go_sharp_v(b, v);
        break;
    }
}

/* %#v of map[string]interface{} / []interface{} (map keys sorted, as fmt does). */
void crds_go_sharp_v(strbuf_t *b, json_t *v)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
        const char *k;
        json_t *x;
        if (n && !keys) abort();
        json_object_foreach(v, k, x) keys[i++] = k;
        if (n) qsort(keys, n, sizeof(*keys), cmp_cstr);
        strbuf_puts(b, "map[string]interface {}{");
        for (i = 0; i < n; i++) {
            if (i) strbuf_puts(b, ", ");
            crds_go_quote(b, keys[i]);
            strbuf_putc(b, ':');
            go_sharp_elem(b, json_object_get(v, keys[i]));
        }
        strbuf_putc(b, '}');
        free(keys);
    } else if (json_is_array(v)) {
        strbuf_puts(b, "[]interface {}{");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) strbuf_puts(b, ", ");
            go_sharp_elem(b, json_array_get(v, i));
        }
        strbuf_putc(b, '}');
    } else {
        go_sharp_elem(b, v);
    }
}

/* The bad-value rendering of field.Error.ErrorBody: null as "null", anything else as an
 * element of an interface{} container. */
void crds_go_value(strbuf_t *b, json_t *v)
{
    if (!v || json_is_null(v))
        strbuf_puts(b, "\"null\"");
    else
        go_sharp_elem(b, v);
}

/* ---------------------------------------------------------------- causes */

json_t *crds_json_str_safe(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c) abort();
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = crds_utf8_decode((const unsigned char *)s + i, n - i, &cp);
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

void crds_cause_add(json_t *out, const char *reason, const char *field, const char *msg)
{
    if (!out) return;
    json_t *o = json_object();
    json_object_set_new(o, "reason", json_string(reason));
    json_object_set_new(o, "message", crds_json_str_safe(msg));
    json_object_set_new(o, "field", crds_json_str_safe(field));
    json_array_append_new(out, o);
}

/* field.Invalid: "Invalid value: <value>[: detail]" with a preformatted value. */
void crds_err_invalid_raw(json_t *out, const char *field, const char *value, const char *detail)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Invalid value: ");
    strbuf_puts(&m, value);
    if (detail && *detail) {
        strbuf_puts(&m, ": ");
        strbuf_puts(&m, detail);
    }
    crds_cause_add(out, "FieldValueInvalid", field, strbuf_str(&m));
    strbuf_free(&m);
}

void crds_err_invalid_json(json_t *out, const char *field, json_t *value, const char *detail)
{
    strbuf_t v = {0};
    crds_go_value(&v, value);
    crds_err_invalid_raw(out, field, strbuf_str(&v), detail);
    strbuf_free(&v);
}

void crds_err_invalid_str(json_t *out, const char *field, const char *value, const char *detail)
{
    strbuf_t v = {0};
    crds_go_quote(&v, value);
    crds_err_invalid_raw(out, field, strbuf_str(&v), detail);
    strbuf_free(&v);
}

void crds_err_required(json_t *out, const char *field, const char *detail)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Required value");
    if (detail && *detail) {
        strbuf_puts(&m, ": ");
        strbuf_puts(&m, detail);
    }
    crds_cause_add(out, "FieldValueRequired", field, strbuf_str(&m));
    strbuf_free(&m);
}

void crds_err_forbidden(json_t *out, const char *field, const char *detail)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Forbidden: ");
    strbuf_puts(&m, detail);
    crds_cause_add(out, "FieldValueForbidden", field, strbuf_str(&m));
    strbuf_free(&m);
}

/* field.NotSupported with string alternatives (already-unquoted). */
void crds_err_not_supported(json_t *out, const char *field, const char *value_fmt,
                            const char *const *vals, size_t nvals)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Unsupported value: ");
    strbuf_puts(&m, value_fmt);
    if (nvals) {
        strbuf_puts(&m, ": supported values: ");
        for (size_t i = 0; i < nvals; i++) {
            if (i) strbuf_puts(&m, ", ");
            crds_go_quote(&m, vals[i]);
        }
    }
    crds_cause_add(out, "FieldValueNotSupported", field, strbuf_str(&m));
    strbuf_free(&m);
}

void crds_err_not_supported_str(json_t *out, const char *field, const char *value,
                                const char *const *vals, size_t nvals)
{
    strbuf_t v = {0};
    crds_go_quote(&v, value);
    crds_err_not_supported(out, field, strbuf_str(&v), vals, nvals);
    strbuf_free(&v);
}

/* ---------------------------------------------------------------- schema accessors */

json_t *crds_sch_get(json_t *s, const char *k)
{
    return json_is_object(s) ? json_object_get(s, k) : NULL;
}

bool crds_sch_flag(json_t *s, const char *k)
{
    return json_is_true(crds_sch_get(s, k));
}

const char *crds_sch_str(json_t *s, const char *k)
{
    json_t *v = crds_sch_get(s, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *crds_sch_obj(json_t *s, const char *k)
{
    json_t *v = crds_sch_get(s, k);
    return json_is_object(v) ? v : NULL;
}

json_t *crds_sch_arr(json_t *s, const char *k)
{
    json_t *v = crds_sch_get(s, k);
    return json_is_array(v) ? v : NULL;
}

json_t *crds_sch_props(json_t *s)
{
    return crds_sch_obj(s, "properties");
}

json_t *crds_sch_items(json_t *s)
{
    return crds_sch_obj(s, "items");
}

/* additionalProperties: returns true if present in a form that admits unknown keys (a schema or
 * `true`); *schema is the schema or NULL for `true` (nil Structural in apiextensions). */
bool crds_sch_addl(json_t *s, json_t **schema)
{
    json_t *a = crds_sch_get(s, "additionalProperties");
    *schema = NULL;
    if (json_is_object(a)) {
        *schema = a;
        return true;
    }
    return json_is_true(a);
}

bool crds_sch_num(json_t *s, const char *k, double *out)
{
    json_t *v = crds_sch_get(s, k);
    if (!json_is_number(v)) return false;
    *out = json_number_value(v);
    return true;
}

/* Go's int64(float64) on amd64: out-of-range values give math.MinInt64. */
long long crds_go_f2i(double f)
{
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) return LLONG_MIN;
    return (long long)f;
}

bool crds_sch_int(json_t *s, const char *k, long long *out)
{
    json_t *v = crds_sch_get(s, k);
    if (json_is_integer(v)) {
        *out = (long long)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = crds_go_f2i(json_real_value(v));
        return true;
    }
    return false;
}

bool crds_is_meta_field(const char *k)
{
    return !strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata");
}
