/* crd_schema_apply: the structural-schema pipeline a custom resource goes through on every
 * write: prune unknown fields -> apply defaults -> validate (kube-openapi wording, one cause per
 * problem, including embedded-resource and x-kubernetes-list-type checks). */
#include "apiserver/crd_schema_internal.h"

#include "apiserver/objmeta_validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- pruning */

static void prune_record(pctx *p, const char *key)
{
    if (!p->pruned) return;
    size_t old = crds_path_child(&p->path, key);
    json_array_append_new(p->pruned, crds_json_str_safe(strbuf_str(&p->path)));
    crds_sb_trunc(&p->path, old);
}

/* ObjectMeta coercion of an embedded resource's metadata keeps only ObjectMeta fields. */
static void prune_embedded_meta(pctx *p, json_t *meta)
{
    const char *k;
    json_t *v;
    void *it;
    size_t old = crds_path_child(&p->path, "metadata");
    json_object_foreach_safe(meta, it, k, v)
    {
        if (objmeta_is_field(k)) continue;
        prune_record(p, k);
        json_object_del(meta, k);
    }
    crds_sb_trunc(&p->path, old);
}

static bool nonnullable_null(json_t *v, json_t *fs)
{
    return json_is_null(v) && fs && !crds_sch_flag(fs, "nullable");
}

static void skip_prune(pctx *p, json_t *x, json_t *s, bool force_embedded)
{
    if (!s) return;
    if (json_is_object(x)) {
        bool emb = force_embedded || crds_sch_flag(s, "x-kubernetes-embedded-resource");
        json_t *props = crds_sch_props(s), *addl;
        bool has_addl = crds_sch_addl(s, &addl);
        const char *k;
        json_t *v;
        void *it;
        json_object_foreach_safe(x, it, k, v)
        {
            if (emb && crds_is_meta_field(k)) {
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
            size_t old = crds_path_child(&p->path, k);
            crds_prune_value(p, v, fs, false);
            crds_sb_trunc(&p->path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = crds_sch_items(s);
        for (size_t i = 0; i < json_array_size(x); i++) {
            size_t old = crds_path_index(&p->path, i);
            skip_prune(p, json_array_get(x, i), items, false);
            crds_sb_trunc(&p->path, old);
        }
    }
}

void crds_prune_value(pctx *p, json_t *x, json_t *s, bool force_embedded)
{
    if (s && crds_sch_flag(s, "x-kubernetes-preserve-unknown-fields")) {
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
        bool emb = force_embedded || crds_sch_flag(s, "x-kubernetes-embedded-resource");
        json_t *props = crds_sch_props(s), *addl;
        bool has_addl = crds_sch_addl(s, &addl);
        json_object_foreach_safe(x, it, k, v)
        {
            if (emb && crds_is_meta_field(k)) {
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
            size_t old = crds_path_child(&p->path, k);
            crds_prune_value(p, v, fs, false);
            crds_sb_trunc(&p->path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = s ? crds_sch_items(s) : NULL;
        for (size_t i = 0; i < json_array_size(x); i++) {
            size_t old = crds_path_index(&p->path, i);
            crds_prune_value(p, json_array_get(x, i), items, false);
            crds_sb_trunc(&p->path, old);
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
    size_t start = p.pruned ? json_array_size(p.pruned) : 0;
    json_t *s = json_is_object(schema) ? schema : NULL;
    if (!s) {
        /* nil schema at the resource root: everything but TypeMeta/ObjectMeta is unknown */
        const char *k;
        json_t *v;
        void *it;
        json_object_foreach_safe(obj, it, k, v)
        {
            if (crds_is_meta_field(k)) continue;
            prune_record(&p, k);
            json_object_del(obj, k);
        }
    } else {
        crds_prune_value(&p, obj, s, true);
    }
    strbuf_free(&p.path);
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
        json_t *props = crds_sch_props(s);
        const char *k;
        json_t *prop, *v;
        if (props) {
            json_object_foreach(props, k, prop)
            {
                json_t *def = crds_sch_get(prop, "default");
                if (!def || (root && crds_is_meta_field(k))) continue;
                json_t *cur = json_object_get(x, k);
                if (!cur || nonnullable_null(cur, prop))
                    json_object_set_new(x, k, json_deep_copy(def));
            }
        }
        json_t *addl;
        crds_sch_addl(s, &addl);
        json_object_foreach(x, k, v)
        {
            if (root && crds_is_meta_field(k)) continue;
            prop = props ? json_object_get(props, k) : NULL;
            if (prop) {
                default_value(v, prop, false);
            } else if (addl) {
                json_t *def = crds_sch_get(addl, "default");
                if (def && nonnullable_null(v, addl)) {
                    json_object_set_new(x, k, json_deep_copy(def));
                    continue;
                }
                default_value(v, addl, false);
            }
        }
    } else if (json_is_array(x)) {
        json_t *items = crds_sch_items(s);
        if (!items) return;
        json_t *def = crds_sch_get(items, "default");
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
    strbuf_t path;      /* kube-openapi name of the current value */
    long budget;
} vctx;

static void v_field(const vctx *c, const char *name, strbuf_t *f)
{
    if (*name) {
        if (*c->prefix) {
            strbuf_puts(f, c->prefix);
            strbuf_putc(f, '.');
        }
        strbuf_puts(f, name);
    } else {
        strbuf_puts(f, *c->prefix ? c->prefix : "<nil>");
    }
}

static void v_cause(const vctx *c, json_t *out, const char *reason, const char *name,
                    const char *msg)
{
    strbuf_t f = {0};
    v_field(c, name, &f);
    crds_cause_add(out, reason, strbuf_str(&f), msg);
    strbuf_free(&f);
}

/* Invalid with a preformatted value and a "<name> in body ..." detail built by the caller. */
static void v_invalid(const vctx *c, json_t *out, const char *value, const strbuf_t *detail)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Invalid value: ");
    strbuf_puts(&m, value);
    strbuf_puts(&m, ": ");
    strbuf_puts(&m, strbuf_str(detail));
    v_cause(c, out, "FieldValueInvalid", strbuf_str(&c->path), strbuf_str(&m));
    strbuf_free(&m);
}

static void v_invalid_json(const vctx *c, json_t *out, json_t *value, const strbuf_t *detail)
{
    strbuf_t v = {0};
    crds_go_value(&v, value);
    v_invalid(c, out, strbuf_str(&v), detail);
    strbuf_free(&v);
}

static void v_invalid_int(const vctx *c, json_t *out, long long value, const strbuf_t *detail)
{
    char v[32];
    snprintf(v, sizeof(v), "%lld", value);
    v_invalid(c, out, v, detail);
}

/* errors.InvalidType with string data -> field.TypeInvalid(value, message). */
static void v_type_err(const vctx *c, json_t *out, const char *want, const char *got, size_t gotn)
{
    strbuf_t q = {0}, m = {0};
    crds_go_quote_n(&q, got, gotn);
    strbuf_printf(&m, "Invalid value: %s: %s in body must be of type %s: %s", strbuf_str(&q),
                  strbuf_str(&c->path), want, strbuf_str(&q));
    v_cause(c, out, "FieldValueTypeInvalid", strbuf_str(&c->path), strbuf_str(&m));
    strbuf_free(&q);
    strbuf_free(&m);
}

/* A non-Validation (composite) error: field.Invalid(fldPath, "", err.Error()). */
static void v_composite(const vctx *c, json_t *out, const char *msg)
{
    strbuf_t m = {0};
    strbuf_puts(&m, "Invalid value: \"\": ");
    strbuf_puts(&m, msg);
    crds_cause_add(out, "FieldValueInvalid", *c->prefix ? c->prefix : "<nil>", strbuf_str(&m));
    strbuf_free(&m);
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
        if (json_is_real(d))
            return crds_go_f2i(json_real_value(d)) == (long long)json_integer_value(e);
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
            strbuf_t t = {0};
            crds_utf8_encode(
                &t, (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) ? 0xfffd : (uint32_t)r);
            bool eq =
                t.n == json_string_length(e) && !memcmp(strbuf_str(&t), json_string_value(e), t.n);
            strbuf_free(&t);
            return eq;
        }
        return false;
    }
    if (json_is_boolean(e)) return json_is_boolean(d) && json_is_true(d) == json_is_true(e);
    return json_equal(d, e);
}

static void v_enum(vctx *c, json_t *out, json_t *s, json_t *d)
{
    json_t *en = crds_sch_arr(s, "enum");
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
    strbuf_t v = {0}, f = {0};
    crds_go_value(&v, d);
    v_field(c, strbuf_str(&c->path), &f);
    crds_err_not_supported(out, strbuf_str(&f), strbuf_str(&v), (const char *const *)vals, n);
    strbuf_free(&v);
    strbuf_free(&f);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
}

static void v_string(vctx *c, json_t *out, json_t *s, json_t *d)
{
    const char *str = json_string_value(d);
    size_t n = json_string_length(d);
    long long lim;
    strbuf_t m = {0};
    size_t runes = 0;
    bool want_runes = crds_sch_get(s, "maxLength") || crds_sch_get(s, "minLength");
    if (want_runes) {
        for (size_t i = 0; i < n; runes++) {
            uint32_t cp;
            size_t k = crds_utf8_decode((const unsigned char *)str + i, n - i, &cp);
            i += k ? k : 1;
        }
    }
    if (crds_sch_int(s, "maxLength", &lim) && (long long)runes > lim) {
        if (lim >= 0)
            strbuf_printf(&m, "Too long: may not be more than %lld %s", lim,
                          lim == 1 ? "byte" : "bytes");
        else
            strbuf_puts(&m, "Too long: value is too long");
        v_cause(c, out, "FieldValueTooLong", strbuf_str(&c->path), strbuf_str(&m));
        goto done;
    }
    if (crds_sch_int(s, "minLength", &lim) && (long long)runes < lim) {
        strbuf_printf(&m, "%s in body should be at least %lld chars long", strbuf_str(&c->path),
                      lim);
        v_invalid_json(c, out, d, &m);
        goto done;
    }
    const char *pat = crds_sch_str(s, "pattern");
    if (pat && *pat && crds_rx_match(pat, str, n) == 0) {
        strbuf_printf(&m, "%s in body should match '%s'", strbuf_str(&c->path), pat);
        v_invalid_json(c, out, d, &m);
    }
done:
    strbuf_free(&m);
}

/* minimum (lower) or maximum with its exclusive flag, in kube-openapi's wording; m is scratch. */
static void v_bound(vctx *c, json_t *out, json_t *s, json_t *d, bool lower, strbuf_t *m)
{
    double lim;
    if (!crds_sch_num(s, lower ? "minimum" : "maximum", &lim)) return;
    bool excl = crds_sch_flag(s, lower ? "exclusiveMinimum" : "exclusiveMaximum");
    const char *rel = lower ? (excl ? "greater than" : "greater than or equal to")
                            : (excl ? "less than" : "less than or equal to");
    if (json_is_integer(d)) {
        long long iv = (long long)json_integer_value(d), l = crds_go_f2i(lim);
        if (!(lower ? (excl ? iv <= l : iv < l) : (excl ? iv >= l : iv > l))) return;
        strbuf_printf(m, "%s in body should be %s %lld", strbuf_str(&c->path), rel, l);
    } else {
        double fv = json_number_value(d);
        if (!(lower ? (excl ? fv <= lim : fv < lim) : (excl ? fv >= lim : fv > lim))) return;
        strbuf_printf(m, "%s in body should be %s ", strbuf_str(&c->path), rel);
        gofloat_g(m, lim);
    }
    v_invalid_json(c, out, d, m);
    crds_sb_trunc(m, 0);
}

static void v_number(vctx *c, json_t *out, json_t *s, json_t *d)
{
    bool is_int = json_is_integer(d);
    long long iv = is_int ? (long long)json_integer_value(d) : 0;
    double fv = json_number_value(d);
    double lim;
    strbuf_t m = {0};
    if (crds_sch_num(s, "multipleOf", &lim)) {
        if (is_int && go_is_json_integer(lim)) {
            long long f = crds_go_f2i(lim);
            if (f < 0) {
                strbuf_printf(&m, "factor MultipleOf declared for %s must be positive: %lld",
                              strbuf_str(&c->path), f);
                v_invalid_int(c, out, f, &m);
            } else if (f > 0 && iv % f != 0) {
                strbuf_printf(&m, "%s in body should be a multiple of %lld", strbuf_str(&c->path),
                              f);
                v_invalid_int(c, out, iv, &m);
            }
        } else if (lim < 0) {
            strbuf_printf(
                &m, "factor MultipleOf declared for %s must be positive: ", strbuf_str(&c->path));
            gofloat_g(&m, lim);
            strbuf_t v = {0};
            gofloat_g(&v, lim);
            v_invalid(c, out, strbuf_str(&v), &m);
            strbuf_free(&v);
        } else if (lim > 0) {
            double mult = lim < 1 ? 1 / lim * fv : fv / lim;
            if (!go_is_json_integer(mult)) {
                strbuf_printf(&m, "%s in body should be a multiple of ", strbuf_str(&c->path));
                gofloat_g(&m, lim);
                v_invalid_json(c, out, d, &m);
            }
        }
        crds_sb_trunc(&m, 0);
    }
    v_bound(c, out, s, d, true, &m);
    v_bound(c, out, s, d, false, &m);
    strbuf_free(&m);
}

static void v_array(vctx *c, json_t *out, json_t *s, json_t *d)
{
    json_t *items = crds_sch_items(s);
    size_t n = json_array_size(d);
    if (items) {
        for (size_t i = 0; i < n; i++) {
            size_t old = crds_path_index(&c->path, i);
            v_node(c, out, items, json_array_get(d, i), false);
            crds_sb_trunc(&c->path, old);
        }
    }
    long long lim;
    strbuf_t m = {0};
    if (crds_sch_int(s, "minItems", &lim) && (long long)n < lim) {
        strbuf_printf(&m, "%s in body should have at least %lld items", strbuf_str(&c->path), lim);
        v_invalid_int(c, out, (long long)n, &m);
        crds_sb_trunc(&m, 0);
    }
    if (crds_sch_int(s, "maxItems", &lim) && (long long)n > lim) {
        if (lim >= 0)
            strbuf_printf(&m, "Too many: %zu: must have at most %lld %s", n, lim,
                          lim == 1 ? "item" : "items");
        else
            strbuf_printf(&m, "Too many: %zu: has too many items", n);
        v_cause(c, out, "FieldValueTooMany", strbuf_str(&c->path), strbuf_str(&m));
    }
    strbuf_free(&m);
}

static void v_object(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    long long lim;
    size_t nkeys = json_object_size(d);
    strbuf_t m = {0};
    if (crds_sch_int(s, "minProperties", &lim) && (long long)nkeys < lim) {
        strbuf_printf(&m, "%s in body should have at least %lld properties", strbuf_str(&c->path),
                      lim);
        v_invalid_int(c, out, (long long)nkeys, &m);
        strbuf_free(&m);
        return;
    }
    if (crds_sch_int(s, "maxProperties", &lim) && (long long)nkeys > lim) {
        if (lim >= 0)
            strbuf_printf(&m, "Too many: %zu: must have at most %lld %s", nkeys, lim,
                          lim == 1 ? "item" : "items");
        else
            strbuf_printf(&m, "Too many: %zu: has too many items", nkeys);
        v_cause(c, out, "FieldValueTooMany", strbuf_str(&c->path), strbuf_str(&m));
        strbuf_free(&m);
        return;
    }
    strbuf_free(&m);
    json_t *props = crds_sch_props(s);
    json_t *addl = crds_sch_obj(s, "additionalProperties");
    const char *k;
    json_t *v;
    if (addl) {
        json_object_foreach(d, k, v)
        {
            if ((root && !strcmp(k, "metadata")) || (props && json_object_get(props, k))) continue;
            size_t old = crds_path_child(&c->path, k);
            v_node(c, out, addl, v, false);
            crds_sb_trunc(&c->path, old);
        }
    }
    if (props) {
        json_t *ps;
        json_object_foreach(props, k, ps)
        {
            if (root && !strcmp(k, "metadata")) continue;
            json_t *dv = json_object_get(d, k);
            if (!dv) continue;
            size_t old = crds_path_child(&c->path, k);
            v_node(c, out, ps, dv, false);
            crds_sb_trunc(&c->path, old);
        }
    }
    json_t *req = crds_sch_arr(s, "required");
    for (size_t i = 0; req && i < json_array_size(req); i++) {
        const char *rk = json_string_value(json_array_get(req, i));
        if (!rk || json_object_get(d, rk)) continue;
        size_t old = crds_path_child(&c->path, rk);
        v_cause(c, out, "FieldValueRequired", strbuf_str(&c->path), "Required value");
        crds_sb_trunc(&c->path, old);
    }
}

static void merge_into(json_t *out, json_t *from)
{
    if (from) json_array_extend(out, from);
}

static void v_junctors(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    json_t *arr;
    strbuf_t m = {0};
    if ((arr = crds_sch_arr(s, "anyOf")) && json_array_size(arr)) {
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
            crds_go_quote(&m, strbuf_str(&c->path));
            strbuf_puts(&m, " must validate at least one schema (anyOf)");
            v_composite(c, out, strbuf_str(&m));
            crds_sb_trunc(&m, 0);
        }
        merge_into(out, best);
        json_decref(best);
    }
    if ((arr = crds_sch_arr(s, "oneOf")) && json_array_size(arr)) {
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
            crds_go_quote(&m, strbuf_str(&c->path));
            strbuf_puts(&m, " must validate one and only one schema (oneOf). ");
            if (valid == 0)
                strbuf_puts(&m, "Found none valid");
            else
                strbuf_printf(&m, "Found %zu valid alternatives", valid);
            v_composite(c, out, strbuf_str(&m));
            crds_sb_trunc(&m, 0);
            merge_into(out, best);
        }
        json_decref(best);
    }
    if ((arr = crds_sch_arr(s, "allOf")) && json_array_size(arr)) {
        size_t valid = 0;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *tmp = json_array();
            v_node(c, tmp, json_array_get(arr, i), d, root);
            if (!json_array_size(tmp)) valid++;
            merge_into(out, tmp);
            json_decref(tmp);
        }
        if (valid != json_array_size(arr)) {
            crds_go_quote(&m, strbuf_str(&c->path));
            strbuf_puts(&m, " must validate all the schemas (allOf)");
            if (valid == 0) strbuf_puts(&m, ". None validated");
            v_composite(c, out, strbuf_str(&m));
            crds_sb_trunc(&m, 0);
        }
    }
    json_t *not = crds_sch_obj(s, "not");
    if (not ) {
        json_t *tmp = json_array();
        v_node(c, tmp, not, d, root);
        if (!json_array_size(tmp)) {
            crds_go_quote(&m, strbuf_str(&c->path));
            strbuf_puts(&m, " must not validate the schema (not)");
            v_composite(c, out, strbuf_str(&m));
        }
        json_decref(tmp);
    }
    strbuf_free(&m);
}

static void v_node(vctx *c, json_t *out, json_t *s, json_t *d, bool root)
{
    if (!json_is_object(s) || !d || --c->budget < 0) return;
    const char *types[2];
    int nt = 0;
    if (crds_sch_flag(s, "x-kubernetes-int-or-string")) {
        types[0] = "integer";
        types[1] = "string";
        nt = 2;
    } else {
        const char *t = crds_sch_str(s, "type");
        if (t && *t) types[nt++] = t;
    }
    bool nullable = crds_sch_flag(s, "nullable");
    const char *format = crds_sch_str(s, "format");
    int fkind = crds_fmt_kind(format);
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
        if (format && !crds_fmt_check(fkind, json_string_value(d), json_string_length(d)))
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

static void emb_field(strbuf_t *path, const char *child, strbuf_t *f)
{
    strbuf_puts(f, strbuf_str(path));
    if (path->n) strbuf_putc(f, '.');
    strbuf_puts(f, child);
}

static void emb_resource(json_t *out, strbuf_t *path, json_t *x)
{
    strbuf_t f = {0};
    if (!json_object_get(x, "apiVersion")) {
        emb_field(path, "apiVersion", &f);
        crds_err_required(out, strbuf_str(&f), "");
        crds_sb_trunc(&f, 0);
    }
    if (!json_object_get(x, "kind")) {
        emb_field(path, "kind", &f);
        crds_err_required(out, strbuf_str(&f), "");
        crds_sb_trunc(&f, 0);
    }
    const char *k;
    json_t *v;
    json_object_foreach(x, k, v)
    {
        bool is_av = !strcmp(k, "apiVersion"), is_kind = !strcmp(k, "kind");
        if (!is_av && !is_kind) continue;
        crds_sb_trunc(&f, 0);
        emb_field(path, k, &f);
        if (!json_is_string(v)) {
            crds_err_invalid_json(out, strbuf_str(&f), v, "must be a string");
        } else if (!json_string_length(v)) {
            crds_err_invalid_str(out, strbuf_str(&f), "", "must not be empty");
        } else if (is_av) {
            const char *av = json_string_value(v);
            const char *sl = strchr(av, '/');
            if (sl && strchr(sl + 1, '/')) {
                strbuf_t d = {0};
                strbuf_puts(&d, "unexpected GroupVersion string: ");
                strbuf_puts(&d, av);
                crds_err_invalid_str(out, strbuf_str(&f), av, strbuf_str(&d));
                strbuf_free(&d);
            }
        }
    }
    strbuf_free(&f);
}

void crds_emb_validate(json_t *out, strbuf_t *path, json_t *x, json_t *s, bool root)
{
    if (!json_is_object(s)) return;
    if (json_is_object(x)) {
        if (crds_sch_flag(s, "x-kubernetes-embedded-resource")) emb_resource(out, path, x);
        json_t *props = crds_sch_props(s), *addl;
        crds_sch_addl(s, &addl);
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v)
        {
            if (root && !strcmp(k, "metadata")) continue;
            json_t *prop = props ? json_object_get(props, k) : NULL;
            size_t old;
            if (prop) {
                old = crds_path_child(path, k);
                crds_emb_validate(out, path, v, prop, false);
            } else if (addl) {
                old = crds_path_key(path, k);
                crds_emb_validate(out, path, v, addl, false);
            } else {
                continue;
            }
            crds_sb_trunc(path, old);
        }
    } else if (json_is_array(x)) {
        json_t *items = crds_sch_items(s);
        for (size_t i = 0; items && i < json_array_size(x); i++) {
            size_t old = crds_path_index(path, i);
            crds_emb_validate(out, path, json_array_get(x, i), items, false);
            crds_sb_trunc(path, old);
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

static void lt_dup_err(json_t *out, strbuf_t *path, size_t idx, const char *value)
{
    size_t old = crds_path_index(path, idx);
    strbuf_t m = {0};
    strbuf_puts(&m, "Duplicate value: ");
    strbuf_puts(&m, value);
    crds_cause_add(out, "FieldValueDuplicate", strbuf_str(path), strbuf_str(&m));
    strbuf_free(&m);
    crds_sb_trunc(path, old);
}

static void lt_validate(json_t *out, strbuf_t *path, json_t *x, json_t *s, bool root);

static void lt_array(json_t *out, strbuf_t *path, json_t *arr, json_t *s)
{
    const char *lt = crds_sch_str(s, "x-kubernetes-list-type");
    size_t n = json_array_size(arr);
    if (lt && !strcmp(lt, "set") && n > 1) {
        lt_key *keys = malloc(n * sizeof(*keys));
        size_t *dups = malloc(n * sizeof(*dups));
        if (!keys || !dups) abort();
        for (size_t i = 0; i < n; i++)
            lt_make(&keys[i], json_array_get(arr, i), i);
        size_t nd = lt_dups(keys, n, dups);
        for (size_t i = 0; i < nd; i++) {
            strbuf_t v = {0};
            crds_go_value(&v, json_array_get(arr, dups[i]));
            lt_dup_err(out, path, dups[i], strbuf_str(&v));
            strbuf_free(&v);
        }
        free(keys);
        free(dups);
    } else if (lt && !strcmp(lt, "map")) {
        bool bad = false;
        for (size_t i = 0; i < n && !bad; i++) {
            json_t *it = json_array_get(arr, i);
            if (!json_is_null(it) && !json_is_object(it)) {
                size_t old = crds_path_index(path, i);
                crds_err_invalid_json(out, strbuf_str(path), it,
                                      "must be an object for an array of list-type map");
                crds_sb_trunc(path, old);
                bad = true;
            }
        }
        json_t *mk = crds_sch_arr(s, "x-kubernetes-list-map-keys");
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
                strbuf_t v = {0};
                json_t *it = json_array_get(arr, dups[i]);
                if (nk == 1) {
                    const char *kf = json_string_value(json_array_get(mk, 0));
                    json_t *kv = json_is_object(it) && kf ? json_object_get(it, kf) : NULL;
                    json_t *tmp = json_object();
                    if (kv) json_object_set(tmp, kf, kv);
                    crds_go_sharp_v(&v, tmp);
                    json_decref(tmp);
                } else {
                    crds_go_sharp_v(&v, kobj[dups[i]]);
                }
                lt_dup_err(out, path, dups[i], strbuf_str(&v));
                strbuf_free(&v);
            }
            for (size_t i = 0; i < n; i++)
                json_decref(kobj[i]);
            free(kobj);
            free(keys);
            free(dups);
        }
    }
    json_t *items = crds_sch_items(s);
    for (size_t i = 0; items && i < n; i++) {
        size_t old = crds_path_index(path, i);
        lt_validate(out, path, json_array_get(arr, i), items, false);
        crds_sb_trunc(path, old);
    }
}

static void lt_validate(json_t *out, strbuf_t *path, json_t *x, json_t *s, bool root)
{
    if (!json_is_object(s)) return;
    if (json_is_array(x)) {
        lt_array(out, path, x, s);
        return;
    }
    if (!json_is_object(x)) return;
    json_t *props = crds_sch_props(s), *addl = crds_sch_obj(s, "additionalProperties");
    const char *k;
    json_t *v;
    if (addl) {
        json_object_foreach(x, k, v)
        {
            size_t old = crds_path_key(path, k);
            lt_validate(out, path, v, addl, false);
            crds_sb_trunc(path, old);
        }
    }
    if (props) {
        json_object_foreach(x, k, v)
        {
            json_t *sub = json_object_get(props, k);
            if (!sub || (root && !strcmp(k, "metadata"))) continue;
            size_t old = crds_path_child(path, k);
            lt_validate(out, path, v, sub, false);
            crds_sb_trunc(path, old);
        }
    }
}

/* Schema validation of a value (no list-type/embedded checks), fields under `prefix`. */
void crds_validate_value(json_t *schema, json_t *value, const char *prefix, bool root,
                         json_t *causes)
{
    vctx c = {.prefix = prefix, .budget = V_BUDGET};
    v_node(&c, causes, schema, value, root);
    strbuf_free(&c.path);
}

void crd_schema_validate(json_t *schema, json_t *obj, json_t *causes)
{
    if (!json_is_object(schema) || !obj || !json_is_array(causes)) return;
    crds_validate_value(schema, obj, "", true, causes);
    strbuf_t path = {0};
    crds_emb_validate(causes, &path, obj, schema, true);
    crds_sb_trunc(&path, 0);
    lt_validate(causes, &path, obj, schema, true);
    strbuf_free(&path);
}
