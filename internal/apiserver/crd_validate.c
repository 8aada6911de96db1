/* crd_validate: checks and defaults of a CustomResourceDefinition object itself: names,
 * versions, conversion, printer columns, subresources and the structural-schema / OpenAPI rules
 * on each version's openAPIV3Schema (apiextensions-apiserver wording). */
#include "apiserver/crd_schema_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static void dns1035_errs(const char *s, strbuf_t *e)
{
    size_t n = strlen(s);
    if (n > 63) strbuf_puts(e, "must be no more than 63 characters");
    bool ok = n > 0 && s[0] >= 'a' && s[0] <= 'z' && lower_alnum(s[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok = lower_alnum(s[i]) || s[i] == '-';
    if (!ok) {
        if (e->n) strbuf_putc(e, ',');
        strbuf_puts(e, DNS1035_MSG);
    }
}

static void dns1123_subdomain_errs(const char *s, strbuf_t *e)
{
    size_t n = strlen(s);
    if (n > 253) strbuf_puts(e, "must be no more than 253 characters");
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
        if (e->n) strbuf_putc(e, ',');
        strbuf_puts(e, DNS1123_SUB_MSG);
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
    strbuf_t path;      /* field.Path of the current schema node */
} cctx;

static void c_at(cctx *c, const char *child, strbuf_t *f)
{
    strbuf_puts(f, strbuf_str(&c->path));
    if (child) {
        strbuf_putc(f, '.');
        strbuf_puts(f, child);
    }
}

static void c_forbidden(cctx *c, json_t *out, const char *child, const char *detail)
{
    strbuf_t f = {0};
    c_at(c, child, &f);
    crds_err_forbidden(out, strbuf_str(&f), detail);
    strbuf_free(&f);
}

static void c_required(cctx *c, json_t *out, const char *child, const char *detail)
{
    strbuf_t f = {0};
    c_at(c, child, &f);
    crds_err_required(out, strbuf_str(&f), detail);
    strbuf_free(&f);
}

static void c_invalid_json(cctx *c, json_t *out, const char *child, json_t *v, const char *detail)
{
    strbuf_t f = {0};
    c_at(c, child, &f);
    crds_err_invalid_json(out, strbuf_str(&f), v, detail);
    strbuf_free(&f);
}

static void c_invalid_str(cctx *c, json_t *out, const char *child, const char *v,
                          const char *detail)
{
    strbuf_t f = {0};
    c_at(c, child, &f);
    crds_err_invalid_str(out, strbuf_str(&f), v, detail);
    strbuf_free(&f);
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
    size_t old = crds_path_child(&c->path, child);
    oas_validate(c, s, o);
    crds_sb_trunc(&c->path, old);
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
            strbuf_t f = {0};
            c_at(c, "type", &f);
            crds_err_not_supported_str(out, strbuf_str(&f), type, v3types, 6);
            strbuf_free(&f);
        }
    }
    if (json_object_get(s, "default") && !o.allow_defaults) {
        strbuf_t d = {0};
        strbuf_puts(&d, "must not be set");
        if (o.no_default_reason) {
            strbuf_putc(&d, ' ');
            strbuf_puts(&d, o.no_default_reason);
        }
        c_forbidden(c, out, "default", strbuf_str(&d));
        strbuf_free(&d);
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
    if (o.inside_meta && crds_sch_flag(s, "x-kubernetes-embedded-resource"))
        c_forbidden(c, out, "x-kubernetes-embedded-resource",
                    "must not be used inside of resource meta");

    if (crds_sch_flag(s, "uniqueItems"))
        c_forbidden(
            c, out, "uniqueItems",
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
    json_t *props = crds_sch_props(s);
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
            if ((o.root || crds_sch_flag(s, "x-kubernetes-embedded-resource")) &&
                crds_is_meta_field(k)) {
                so.inside_meta = true;
                if (o.root) {
                    snprintf(reason, sizeof(reason), "in top-level %s", k);
                    so.allow_defaults = false;
                    so.no_default_reason = reason;
                }
            }
            size_t old = crds_path_child(&c->path, "properties");
            crds_path_key(&c->path, k);
            oas_validate(c, ps, so);
            crds_sb_trunc(&c->path, old);
        }
    }
    oas_opts sub = o;
    sub.root = false;
    oas_child(c, crds_sch_get(s, "not"), "not", sub);
    static const char *const junctors[] = {"allOf", "oneOf", "anyOf"};
    for (size_t j = 0; j < 3; j++) {
        json_t *arr = crds_sch_arr(s, junctors[j]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            size_t old = crds_path_child(&c->path, junctors[j]);
            crds_path_index(&c->path, i);
            oas_validate(c, json_array_get(arr, i), sub);
            crds_sb_trunc(&c->path, old);
        }
    }
    if (json_is_object(items)) {
        oas_child(c, items, "items", sub);
    } else if (json_is_array(items)) {
        for (size_t i = 0; i < json_array_size(items); i++) {
            size_t old = crds_path_child(&c->path, "items");
            crds_path_index(&c->path, i);
            oas_validate(c, json_array_get(items, i), sub);
            crds_sb_trunc(&c->path, old);
        }
    }
    json_t *puf = json_object_get(s, "x-kubernetes-preserve-unknown-fields");
    if (json_is_false(puf))
        c_invalid_json(c, out, "x-kubernetes-preserve-unknown-fields", puf,
                       "must be true or undefined");

    const char *map_type = crds_sch_str(s, "x-kubernetes-map-type");
    if (map_type && strcmp(type, "object")) {
        if (!*type)
            c_required(c, out, "type", "must be object if x-kubernetes-map-type is specified");
        else
            c_invalid_str(c, out, "type", type,
                          "must be object if x-kubernetes-map-type is specified");
    }
    if (map_type && strcmp(map_type, "atomic") && strcmp(map_type, "granular")) {
        static const char *const mt[] = {"atomic", "granular"};
        strbuf_t f = {0};
        c_at(c, "x-kubernetes-map-type", &f);
        crds_err_not_supported_str(out, strbuf_str(&f), map_type, mt, 2);
        strbuf_free(&f);
    }
    const char *list_type = crds_sch_str(s, "x-kubernetes-list-type");
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
            const char *ilt = crds_sch_str(it_s, "x-kubernetes-list-type");
            if (ilt && strcmp(ilt, "atomic"))
                c_invalid_str(c, out, "items.x-kubernetes-list-type", ilt,
                              "must be atomic as item of a list with x-kubernetes-list-type=set");
        } else if (!strcmp(is_type, "object")) {
            const char *imt = crds_sch_str(it_s, "x-kubernetes-map-type");
            if (!imt || strcmp(imt, "atomic")) {
                strbuf_t f = {0};
                c_at(c, "items.x-kubernetes-map-type", &f);
                crds_err_invalid_raw(
                    out, strbuf_str(&f), "\"set\"",
                    "must be atomic as item of a list with x-kubernetes-list-type=set");
                strbuf_free(&f);
            }
        }
    }
    if (list_type && strcmp(list_type, "atomic") && strcmp(list_type, "set") &&
        strcmp(list_type, "map")) {
        static const char *const lts[] = {"atomic", "set", "map"};
        strbuf_t f = {0};
        c_at(c, "x-kubernetes-list-type", &f);
        crds_err_not_supported_str(out, strbuf_str(&f), list_type, lts, 3);
        strbuf_free(&f);
    }
    json_t *mkeys = crds_sch_arr(s, "x-kubernetes-list-map-keys");
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
            json_t *iprops = crds_sch_props(it_s);
            for (size_t i = 0; i < nmk; i++) {
                const char *k = json_string_value(json_array_get(mkeys, i));
                json_t *kp = k && iprops ? json_object_get(iprops, k) : NULL;
                if (kp) {
                    const char *kt = obj_str(kp, "type");
                    if (!strcmp(kt, "array") || !strcmp(kt, "object")) {
                        strbuf_t f = {0};
                        c_at(c, "items.properties", &f);
                        crds_path_key(&f, k);
                        strbuf_puts(&f, ".type");
                        crds_err_invalid_str(out, strbuf_str(&f), is_type,
                                             "must be a scalar type if parent array's "
                                             "x-kubernetes-list-type is map");
                        strbuf_free(&f);
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
    json_t *xv = crds_sch_arr(s, "x-kubernetes-validations");
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
        strbuf_t f = {0};
        c_at(c, "x-kubernetes-validations", &f);
        crds_path_index(&f, i);
        if (rule_blank) {
            strbuf_puts(&f, ".rule");
            crds_err_required(out, strbuf_str(&f), "rule is not specified");
        } else if (*msg && msg_blank) {
            strbuf_puts(&f, ".message");
            crds_err_invalid_str(out, strbuf_str(&f), msg,
                                 "message must be non-empty if specified");
        } else if (msg_nl) {
            strbuf_puts(&f, ".message");
            crds_err_invalid_str(out, strbuf_str(&f), msg, "message must not contain line breaks");
        } else if (rule_nl && msg_blank) {
            strbuf_puts(&f, ".message");
            crds_err_required(out, strbuf_str(&f),
                              "message must be specified if rule contains line breaks");
        }
        strbuf_free(&f);
    }
    /* validateMapListKeysMapSet */
    if (it_s && list_type && (!strcmp(list_type, "set") || !strcmp(list_type, "map"))) {
        if (crds_sch_flag(it_s, "nullable")) {
            char d[64];
            snprintf(d, sizeof(d), "cannot be nullable when x-kubernetes-list-type is %s",
                     list_type);
            c_forbidden(c, out, "items.nullable", d);
        }
        if (!strcmp(list_type, "map")) {
            json_t *req = crds_sch_arr(it_s, "required"), *iprops = crds_sch_props(it_s);
            for (size_t i = 0; i < nmk; i++) {
                const char *k = json_string_value(json_array_get(mkeys, i));
                json_t *kp = k && iprops ? json_object_get(iprops, k) : NULL;
                if (!kp) continue;
                bool is_req = false;
                for (size_t j = 0; req && j < json_array_size(req); j++) {
                    const char *rk = json_string_value(json_array_get(req, j));
                    if (rk && !strcmp(rk, k)) is_req = true;
                }
                strbuf_t f = {0};
                c_at(c, "items.properties", &f);
                crds_path_key(&f, k);
                size_t base = f.n;
                if (!is_req && !crds_sch_get(kp, "default")) {
                    strbuf_puts(&f, ".default");
                    crds_err_required(
                        out, strbuf_str(&f),
                        "this property is in x-kubernetes-list-map-keys, so it must have "
                        "a default or be a required property");
                }
                if (crds_sch_flag(kp, "nullable")) {
                    crds_sb_trunc(&f, base);
                    strbuf_puts(&f, ".nullable");
                    crds_err_forbidden(
                        out, strbuf_str(&f),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable");
                }
                strbuf_free(&f);
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
    json_t *a = crds_sch_arr(s, "anyOf");
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
        json_t *arr = crds_sch_arr(s, junctors[j]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            size_t old = crds_path_child(&c->path, junctors[j]);
            crds_path_index(&c->path, i);
            st_nested(c, json_array_get(arr, i), false, j == 1 && i == 0 && skip_first_allof_anyof);
            crds_sb_trunc(&c->path, old);
        }
    }
    json_t *not = crds_sch_obj(s, "not");
    if (not ) {
        size_t old = crds_path_child(&c->path, "not");
        st_nested(c, not, false, false);
        crds_sb_trunc(&c->path, old);
    }
    const char *pat = crds_sch_str(s, "pattern");
    if (pat && *pat) {
        strbuf_t ere = {0};
        int fl;
        const char *why = NULL;
        if (crds_rx_translate(pat, &ere, &fl, &why) == RX_INVALID) {
            strbuf_t d = {0};
            strbuf_printf(
                &d, "must be a valid regular expression, but isn't: error parsing regexp: %s: `%s`",
                why ? why : "invalid", pat);
            c_invalid_str(c, out, "pattern", pat, strbuf_str(&d));
            strbuf_free(&d);
        }
        strbuf_free(&ere);
    }
}

static void st_nested(cctx *c, json_t *v, bool skip_anyof, bool skip_allof_anyof)
{
    if (!json_is_object(v)) return;
    json_t *out = c->structural;
    st_value_validation(c, v, skip_anyof || (skip_allof_anyof && int_or_string_anyof(v)), false);
    json_t *items = crds_sch_obj(v, "items");
    if (items) {
        size_t old = crds_path_child(&c->path, "items");
        st_nested(c, items, false, false);
        crds_sb_trunc(&c->path, old);
    }
    json_t *props = crds_sch_props(v);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = crds_path_child(&c->path, "properties");
            crds_path_key(&c->path, k);
            st_nested(c, ps, false, false);
            crds_sb_trunc(&c->path, old);
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
    if (crds_sch_flag(v, "nullable"))
        c_forbidden(c, out, "nullable", "must be false to be structural");
    if (crds_sch_flag(v, "x-kubernetes-preserve-unknown-fields"))
        c_forbidden(c, out, "x-kubernetes-preserve-unknown-fields",
                    "must be false to be structural");
    if (crds_sch_flag(v, "x-kubernetes-embedded-resource"))
        c_forbidden(c, out, "x-kubernetes-embedded-resource", "must be false to be structural");
    if (crds_sch_flag(v, "x-kubernetes-int-or-string"))
        c_forbidden(c, out, "x-kubernetes-int-or-string", "must be false to be structural");
    if (json_nonempty(json_object_get(v, "x-kubernetes-list-map-keys")))
        c_forbidden(c, out, "x-kubernetes-list-map-keys", "must be empty to be structural");
    if (json_object_get(v, "x-kubernetes-list-type"))
        c_forbidden(c, out, "x-kubernetes-list-type", "must be undefined to be structural");
    if (props && json_object_get(props, "metadata")) {
        strbuf_t f = {0};
        c_at(c, "properties", &f);
        crds_path_key(&f, "metadata");
        crds_err_forbidden(out, strbuf_str(&f), "must not be specified in a nested context");
        strbuf_free(&f);
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
    json_t *items = crds_sch_obj(s, "items");
    if (!strcmp(type, "array") && !items) c_required(c, out, "items", "must be specified");
    if (items) {
        size_t old = crds_path_child(&c->path, "items");
        st_validate(c, items, LVL_ITEM);
        crds_sb_trunc(&c->path, old);
    }
    json_t *props = crds_sch_props(s);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = crds_path_child(&c->path, "properties");
            crds_path_key(&c->path, k);
            st_validate(c, ps, LVL_FIELD);
            crds_sb_trunc(&c->path, old);
        }
    }
    json_t *addl = json_object_get(s, "additionalProperties");
    bool has_addl = addl && !json_is_null(addl);
    if (has_addl) {
        if (lvl == LVL_ROOT)
            c_forbidden(c, out, "additionalProperties", "must not be used at the root");
        if (json_is_object(addl)) {
            size_t old = crds_path_child(&c->path, "additionalProperties");
            st_validate(c, addl, LVL_FIELD);
            crds_sb_trunc(&c->path, old);
        }
    }
    bool ios = crds_sch_flag(s, "x-kubernetes-int-or-string");
    bool puf = crds_sch_flag(s, "x-kubernetes-preserve-unknown-fields");
    bool emb = crds_sch_flag(s, "x-kubernetes-embedded-resource");
    if (ios && puf) {
        strbuf_t f = {0};
        c_at(c, "x-kubernetes-preserve-unknown-fields", &f);
        crds_err_invalid_raw(out, strbuf_str(&f), "true",
                             "must be false if x-kubernetes-int-or-string is true");
        strbuf_free(&f);
    }
    if (ios && emb) {
        strbuf_t f = {0};
        c_at(c, "x-kubernetes-embedded-resource", &f);
        crds_err_invalid_raw(out, strbuf_str(&f), "true",
                             "must be false if x-kubernetes-int-or-string is true");
        strbuf_free(&f);
    }
    json_t *allof = crds_sch_arr(s, "allOf");
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
            strbuf_t f = {0};
            c_at(c, "properties", &f);
            crds_path_key(&f, metas[i].name);
            strbuf_puts(&f, ".type");
            crds_err_invalid_str(out, strbuf_str(&f), mt, metas[i].msg);
            strbuf_free(&f);
        }
    }
    json_t *md = props ? json_object_get(props, "metadata") : NULL;
    if (md && lvl == LVL_ROOT && (!json_is_object(md) || !root_metadata_ok(md))) {
        strbuf_t f = {0};
        c_at(c, "properties", &f);
        crds_path_key(&f, "metadata");
        crds_err_forbidden(
            out, strbuf_str(&f),
            "must not specify anything other than name and generateName, but metadata is "
            "implicitly specified");
        strbuf_free(&f);
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
        strbuf_t sx = {0}, sy = {0};
        strbuf_printf(&sx, "%s: %s", fx, mx);
        strbuf_printf(&sy, "%s: %s", fy, my);
        r = strcmp(strbuf_str(&sx), strbuf_str(&sy));
        strbuf_free(&sx);
        strbuf_free(&sy);
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
    bool emb = crds_sch_flag(s, "x-kubernetes-embedded-resource");
    if (emb) inside_meta = false;
    json_t *def = json_object_get(s, "default");
    if (def && !inside_meta) {
        strbuf_t f = {0};
        c_at(c, "default", &f);
        json_t *pruned = json_deep_copy(def);
        if (json_is_object(pruned)) {
            pctx p = {.pruned = NULL};
            crds_prune_value(&p, pruned, s, emb);
            strbuf_free(&p.path);
        } else if (json_is_array(pruned)) {
            pctx p = {.pruned = NULL};
            crds_prune_value(&p, pruned, s, false);
            strbuf_free(&p.path);
        }
        if (!json_equal(pruned, def))
            crds_err_invalid_json(c->out, strbuf_str(&f), def, "must not have unknown fields");
        json_decref(pruned);
        json_t *errs = json_array();
        strbuf_t path = {0};
        strbuf_puts(&path, strbuf_str(&f));
        crds_emb_validate(errs, &path, def, s, false);
        strbuf_free(&path);
        if (!json_array_size(errs)) crds_validate_value(s, def, strbuf_str(&f), false, errs);
        json_array_extend(c->out, errs);
        json_decref(errs);
        strbuf_free(&f);
    }
    json_t *items = crds_sch_obj(s, "items");
    if (items) {
        size_t old = crds_path_child(&c->path, "items");
        dv_validate(c, items, inside_meta);
        crds_sb_trunc(&c->path, old);
    }
    json_t *props = crds_sch_props(s);
    const char *k;
    json_t *ps;
    if (props) {
        json_object_foreach(props, k, ps)
        {
            size_t old = crds_path_child(&c->path, "properties");
            crds_path_key(&c->path, k);
            dv_validate(c, ps, inside_meta || (emb && crds_is_meta_field(k)));
            crds_sb_trunc(&c->path, old);
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

static void validate_version_schema(json_t *causes, strbuf_t *vpath, json_t *schema_wrap,
                                    bool status_enabled)
{
    json_t *s = crds_sch_get(schema_wrap, "openAPIV3Schema");
    if (!s) return;
    cctx c = {.out = causes, .structural = json_array()};
    strbuf_puts(&c.path, strbuf_str(vpath));
    strbuf_puts(&c.path, ".schema");
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
    if (crds_sch_flag(s, "nullable"))
        c_forbidden(&c, causes, "openAPIV3Schema.nullable", "nullable cannot be true at the root");
    crds_path_child(&c.path, "openAPIV3Schema");
    oas_opts o = {
        .root = true, .inside_meta = false, .allow_defaults = true, .no_default_reason = NULL};
    oas_validate(&c, s, o);
    if (json_is_object(s)) {
        st_validate(&c, s, LVL_ROOT);
        append_sorted(causes, c.structural);
        if (!json_array_size(c.structural)) dv_validate(&c, s, false);
    }
    json_decref(c.structural);
    strbuf_free(&c.path);
}

static void validate_json_path(json_t *causes, const char *field, const char *s)
{
    if (!*s)
        crds_err_invalid_str(causes, field, s, "must not be empty");
    else if (s[0] != '.')
        crds_err_invalid_str(causes, field, s, "must be a simple json path starting with .");
}

static void validate_columns(json_t *causes, strbuf_t *vpath, json_t *cols)
{
    for (size_t i = 0; i < json_array_size(cols); i++) {
        json_t *col = json_array_get(cols, i);
        strbuf_t p = {0};
        strbuf_puts(&p, strbuf_str(vpath));
        strbuf_puts(&p, ".additionalPrinterColumns");
        crds_path_index(&p, i);
        size_t base = p.n;
        if (!*obj_str(col, "name")) {
            strbuf_puts(&p, ".name");
            crds_err_required(causes, strbuf_str(&p), "");
            crds_sb_trunc(&p, base);
        }
        const char *type = obj_str(col, "type");
        static const char *const types[] = {"integer", "number", "string", "boolean", "date"};
        bool ok = false;
        for (size_t k = 0; k < 5; k++)
            ok = ok || !strcmp(type, types[k]);
        strbuf_puts(&p, ".type");
        if (!*type)
            crds_err_required(causes, strbuf_str(&p),
                              "must be one of boolean,date,integer,number,string");
        else if (!ok)
            crds_err_invalid_str(causes, strbuf_str(&p), type,
                                 "must be one of boolean,date,integer,number,string");
        crds_sb_trunc(&p, base);
        const char *format = obj_str(col, "format");
        static const char *const formats[] = {"int32", "int64", "float",     "double",
                                              "byte",  "date",  "date-time", "password"};
        ok = false;
        for (size_t k = 0; k < 8; k++)
            ok = ok || !strcmp(format, formats[k]);
        if (*format && !ok) {
            strbuf_puts(&p, ".format");
            crds_err_invalid_str(
                causes, strbuf_str(&p), format,
                "must be one of byte,date,date-time,double,float,int32,int64,password");
            crds_sb_trunc(&p, base);
        }
        const char *jp = obj_str(col, "jsonPath");
        strbuf_puts(&p, ".JSONPath");
        if (!*jp)
            crds_err_required(causes, strbuf_str(&p), "");
        else
            validate_json_path(causes, strbuf_str(&p), jp);
        strbuf_free(&p);
    }
}

static void validate_subresources(json_t *causes, strbuf_t *vpath, json_t *sub)
{
    json_t *scale = crds_sch_obj(sub, "scale");
    if (!scale) return;
    static const struct {
        const char *json, *field, *prefix, *msg;
    } paths[] = {{"specReplicasPath", "scale.specReplicasPath", ".spec.",
                  "should be a json path under .spec"},
                 {"statusReplicasPath", "scale.statusReplicasPath", ".status.",
                  "should be a json path under .status"}};
    for (size_t i = 0; i < 2; i++) {
        strbuf_t f = {0};
        strbuf_printf(&f, "%s.subresources.%s", strbuf_str(vpath), paths[i].field);
        const char *v = obj_str(scale, paths[i].json);
        if (!*v)
            crds_err_required(causes, strbuf_str(&f), "");
        else if (v[0] != '.')
            crds_err_invalid_str(causes, strbuf_str(&f), v,
                                 "must be a simple json path starting with .");
        else if (strncmp(v, paths[i].prefix, strlen(paths[i].prefix)))
            crds_err_invalid_str(causes, strbuf_str(&f), v, paths[i].msg);
        strbuf_free(&f);
    }
    const char *ls = obj_str(scale, "labelSelectorPath");
    if (*ls) {
        strbuf_t f = {0};
        strbuf_printf(&f, "%s.subresources.scale.labelSelectorPath", strbuf_str(vpath));
        if (ls[0] != '.')
            crds_err_invalid_str(causes, strbuf_str(&f), ls,
                                 "must be a simple json path starting with .");
        else if (strncmp(ls, ".spec.", 6) && strncmp(ls, ".status.", 8))
            crds_err_invalid_str(causes, strbuf_str(&f), ls,
                                 "should be a json path under either .spec or .status");
        strbuf_free(&f);
    }
}

/* %#v of []apiextensions.CustomResourceDefinitionVersion (pointers rendered symbolically). */
static void go_versions(strbuf_t *b, json_t *versions)
{
    size_t n = json_array_size(versions);
    if (!n) {
        strbuf_puts(b, "[]apiextensions.CustomResourceDefinitionVersion(nil)");
        return;
    }
    strbuf_puts(b, "[]apiextensions.CustomResourceDefinitionVersion{");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(versions, i);
        if (i) strbuf_puts(b, ", ");
        strbuf_puts(b, "apiextensions.CustomResourceDefinitionVersion{Name:");
        crds_go_quote(b, obj_str(v, "name"));
        strbuf_printf(b, ", Served:%s, Storage:%s, Deprecated:%s, DeprecationWarning:",
                      crds_sch_flag(v, "served") ? "true" : "false",
                      crds_sch_flag(v, "storage") ? "true" : "false",
                      crds_sch_flag(v, "deprecated") ? "true" : "false");
        strbuf_puts(b, crds_sch_get(v, "deprecationWarning") ? "(*string)(0xc000010000)"
                                                             : "(*string)(nil)");
        strbuf_puts(b, ", Schema:");
        strbuf_puts(b, crds_sch_get(v, "schema")
                           ? "(*apiextensions.CustomResourceValidation)(0xc000010010)"
                           : "(*apiextensions.CustomResourceValidation)(nil)");
        strbuf_puts(b, ", Subresources:");
        strbuf_puts(b, crds_sch_get(v, "subresources")
                           ? "(*apiextensions.CustomResourceSubresources)(0xc000010020)"
                           : "(*apiextensions.CustomResourceSubresources)(nil)");
        strbuf_puts(b, ", AdditionalPrinterColumns:");
        json_t *cols = crds_sch_arr(v, "additionalPrinterColumns");
        if (!cols || !json_array_size(cols)) {
            strbuf_puts(b, "[]apiextensions.CustomResourceColumnDefinition(nil)");
        } else {
            strbuf_puts(b, "[]apiextensions.CustomResourceColumnDefinition{");
            for (size_t k = 0; k < json_array_size(cols); k++) {
                json_t *col = json_array_get(cols, k);
                long long prio = 0;
                crds_sch_int(col, "priority", &prio);
                if (k) strbuf_puts(b, ", ");
                strbuf_puts(b, "apiextensions.CustomResourceColumnDefinition{Name:");
                crds_go_quote(b, obj_str(col, "name"));
                strbuf_puts(b, ", Type:");
                crds_go_quote(b, obj_str(col, "type"));
                strbuf_puts(b, ", Format:");
                crds_go_quote(b, obj_str(col, "format"));
                strbuf_puts(b, ", Description:");
                crds_go_quote(b, obj_str(col, "description"));
                strbuf_printf(b, ", Priority:%lld, JSONPath:", prio);
                crds_go_quote(b, obj_str(col, "jsonPath"));
                strbuf_putc(b, '}');
            }
            strbuf_putc(b, '}');
        }
        strbuf_puts(b, ", SelectableFields:[]apiextensions.SelectableField(nil)}");
    }
    strbuf_putc(b, '}');
}

static void validate_names(json_t *causes, json_t *names)
{
    static const char *const plain[] = {"plural", "singular"};
    strbuf_t e = {0};
    for (size_t i = 0; i < 2; i++) {
        const char *v = obj_str(names, plain[i]);
        crds_sb_trunc(&e, 0);
        dns1035_errs(v, &e);
        if (*v && e.n) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", plain[i]);
            crds_err_invalid_str(causes, f, v, strbuf_str(&e));
        }
    }
    static const char *const mixed[] = {"kind", "listKind"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = obj_str(names, mixed[i]);
        char *low = strdup(v);
        if (!low) abort();
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        crds_sb_trunc(&e, 0);
        dns1035_errs(low, &e);
        free(low);
        if (*v && e.n) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", mixed[i]);
            strbuf_t d = {0};
            strbuf_puts(&d, "may have mixed case, but should otherwise match: ");
            strbuf_puts(&d, strbuf_str(&e));
            crds_err_invalid_str(causes, f, v, strbuf_str(&d));
            strbuf_free(&d);
        }
    }
    static const char *const lists[] = {"shortNames", "categories"};
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = crds_sch_arr(names, lists[l]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            json_t *x = json_array_get(arr, i);
            const char *v = json_is_string(x) ? json_string_value(x) : "";
            crds_sb_trunc(&e, 0);
            dns1035_errs(v, &e);
            if (e.n) {
                char f[64];
                snprintf(f, sizeof(f), "spec.names.%s[%zu]", lists[l], i);
                crds_err_invalid_str(causes, f, v, strbuf_str(&e));
            }
        }
    }
    const char *kind = obj_str(names, "kind"), *lk = obj_str(names, "listKind");
    if (*kind && !strcmp(kind, lk))
        crds_err_invalid_str(causes, "spec.names.listKind", lk,
                             "kind and listKind may not be the same");
    strbuf_free(&e);
}

static void validate_conversion(json_t *causes, json_t *conv)
{
    if (!json_is_object(conv)) return;
    const char *strategy = obj_str(conv, "strategy");
    static const char *const strategies[] = {"None", "Webhook"};
    if (!*strategy)
        crds_err_required(causes, "spec.conversion.strategy", "");
    else if (strcmp(strategy, "None") && strcmp(strategy, "Webhook"))
        crds_err_not_supported_str(causes, "spec.conversion.strategy", strategy, strategies, 2);
    json_t *wh = crds_sch_obj(conv, "webhook");
    json_t *cc = crds_sch_obj(wh, "clientConfig");
    if (!strcmp(strategy, "Webhook")) {
        if (!cc) {
            crds_err_required(causes, "spec.conversion.webhookClientConfig",
                              "required when strategy is set to Webhook");
        } else if (!crds_sch_get(cc, "url") == !crds_sch_get(cc, "service")) {
            crds_err_required(causes, "spec.conversion.webhookClientConfig",
                              "exactly one of url or service is required");
        }
        json_t *crv = crds_sch_arr(wh, "conversionReviewVersions");
        if (!crv || !json_array_size(crv)) {
            crds_err_required(causes, "spec.conversion.conversionReviewVersions", "");
        } else {
            bool accepted = false;
            for (size_t i = 0; i < json_array_size(crv); i++) {
                const char *v = json_string_value(json_array_get(crv, i));
                if (v && (!strcmp(v, "v1") || !strcmp(v, "v1beta1"))) accepted = true;
            }
            if (!accepted) {
                strbuf_t v = {0};
                strbuf_puts(&v, "[]string{");
                for (size_t i = 0; i < json_array_size(crv); i++) {
                    const char *x = json_string_value(json_array_get(crv, i));
                    if (i) strbuf_puts(&v, ", ");
                    crds_go_quote(&v, x ? x : "");
                }
                strbuf_putc(&v, '}');
                crds_err_invalid_raw(causes, "spec.conversion.conversionReviewVersions",
                                     strbuf_str(&v), "must include at least one of v1, v1beta1");
                strbuf_free(&v);
            }
        }
    } else {
        if (cc)
            crds_err_forbidden(causes, "spec.conversion.webhookClientConfig",
                               "should not be set when strategy is not set to Webhook");
        if (json_nonempty(crds_sch_get(wh, "conversionReviewVersions")))
            crds_err_forbidden(causes, "spec.conversion.conversionReviewVersions",
                               "should not be set when strategy is not set to Webhook");
    }
}

void crd_validate(json_t *crd, json_t *causes)
{
    if (!json_is_array(causes)) return;
    json_t *meta = crds_sch_obj(crd, "metadata");
    json_t *spec = crds_sch_obj(crd, "spec");
    json_t *names = crds_sch_obj(spec, "names");
    const char *name = obj_str(meta, "name");
    const char *group = obj_str(spec, "group");
    const char *plural = obj_str(names, "plural");

    /* metadata: the CRD-specific name rule (generic ObjectMeta rules belong to objmeta) */
    {
        strbuf_t want = {0};
        strbuf_printf(&want, "%s.%s", plural, group);
        if (strcmp(name, strbuf_str(&want)))
            crds_err_invalid_str(causes, "metadata.name", name,
                                 "must be spec.names.plural+\".\"+spec.group");
        strbuf_free(&want);
    }
    /* spec.group */
    if (!*group) {
        crds_err_required(causes, "spec.group", "");
    } else {
        strbuf_t e = {0};
        dns1123_subdomain_errs(group, &e);
        if (e.n)
            crds_err_invalid_str(causes, "spec.group", group, strbuf_str(&e));
        else if (!strchr(group, '.'))
            crds_err_invalid_str(causes, "spec.group", group,
                                 "should be a domain with at least one dot");
        strbuf_free(&e);
    }
    /* spec.scope */
    const char *scope = obj_str(spec, "scope");
    static const char *const scopes[] = {"Cluster", "Namespaced"};
    if (!*scope)
        crds_err_required(causes, "spec.scope", "");
    else if (strcmp(scope, "Cluster") && strcmp(scope, "Namespaced"))
        crds_err_not_supported_str(causes, "spec.scope", scope, scopes, 2);

    json_t *versions = crds_sch_arr(spec, "versions");
    size_t nv = versions ? json_array_size(versions) : 0;
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_array_get(versions, i);
        if (!crds_sch_get(crds_sch_obj(v, "schema"), "openAPIV3Schema")) {
            char f[80];
            snprintf(f, sizeof(f), "spec.versions[%zu].schema.openAPIV3Schema", i);
            crds_err_required(causes, f, "schemas are required");
        }
    }
    bool puf = crds_sch_flag(spec, "preserveUnknownFields");
    if (puf) {
        bool defaults = false;
        for (size_t i = 0; i < nv && !defaults; i++)
            defaults = schema_has_defaults(crds_sch_get(
                crds_sch_obj(json_array_get(versions, i), "schema"), "openAPIV3Schema"));
        if (defaults)
            crds_err_invalid_raw(causes, "spec.preserveUnknownFields", "true",
                                 "must be false in order to use defaults in the schema");
    }
    size_t storage = 0;
    bool unique = true;
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_array_get(versions, i);
        const char *vname = obj_str(v, "name");
        if (crds_sch_flag(v, "storage")) storage++;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(vname, obj_str(json_array_get(versions, j), "name"))) unique = false;
        strbuf_t vpath = {0};
        strbuf_printf(&vpath, "spec.versions[%zu]", i);
        strbuf_t e = {0};
        dns1035_errs(vname, &e);
        if (e.n) {
            strbuf_t f = {0};
            strbuf_printf(&f, "%s.name", strbuf_str(&vpath));
            crds_err_invalid_str(causes, strbuf_str(&f), vname, strbuf_str(&e));
            strbuf_free(&f);
        }
        strbuf_free(&e);
        /* deprecationWarning */
        json_t *dw = crds_sch_get(v, "deprecationWarning");
        if (json_is_string(dw)) {
            strbuf_t f = {0};
            strbuf_printf(&f, "%s.deprecationWarning", strbuf_str(&vpath));
            const char *w = json_string_value(dw);
            if (!crds_sch_flag(v, "deprecated"))
                crds_err_invalid_str(causes, strbuf_str(&f), w,
                                     "can only be set for deprecated versions");
            else if (strlen(w) > 256)
                crds_err_invalid_str(causes, strbuf_str(&f), w, "must be <= 256 characters long");
            else if (!*w)
                crds_err_invalid_str(causes, strbuf_str(&f), w, "must not be an empty string");
            strbuf_free(&f);
        }
        json_t *sub = crds_sch_obj(v, "subresources");
        validate_version_schema(causes, &vpath, crds_sch_obj(v, "schema"),
                                crds_sch_obj(sub, "status") != NULL);
        validate_subresources(causes, &vpath, sub);
        json_t *cols = crds_sch_arr(v, "additionalPrinterColumns");
        if (cols) validate_columns(causes, &vpath, cols);
        strbuf_free(&vpath);
    }
    if (!unique || storage != 1) {
        strbuf_t vr = {0};
        go_versions(&vr, versions);
        if (!unique)
            crds_err_invalid_raw(causes, "spec.versions", strbuf_str(&vr),
                                 "must contain unique version names");
        if (storage != 1)
            crds_err_invalid_raw(causes, "spec.versions", strbuf_str(&vr),
                                 "must have exactly one version marked as storage version");
        strbuf_free(&vr);
    }
    static const char *const req_names[] = {"plural", "singular", "kind", "listKind"};
    for (size_t i = 0; i < 4; i++) {
        if (!*obj_str(names, req_names[i])) {
            char f[64];
            snprintf(f, sizeof(f), "spec.names.%s", req_names[i]);
            crds_err_required(causes, f, "");
        }
    }
    validate_names(causes, names);
    json_t *conv = crds_sch_obj(spec, "conversion");
    if (conv && strcmp(obj_str(conv, "strategy"), "None") && puf)
        crds_err_invalid_str(causes, "spec.conversion.strategy", obj_str(conv, "strategy"),
                             "must be None if spec.preserveUnknownFields is true");
    validate_conversion(causes, conv);
    if (puf)
        crds_err_invalid_raw(causes, "spec.preserveUnknownFields", "true",
                             "cannot set to true, set x-preserve-unknown-fields to true in "
                             "spec.versions[*].schema instead");
}

void crd_default(json_t *crd)
{
    json_t *spec = crds_sch_obj(crd, "spec");
    if (!spec) return;
    json_t *names = crds_sch_obj(spec, "names");
    if (names) {
        const char *kind = obj_str(names, "kind");
        if (!*obj_str(names, "singular")) {
            char *low = strdup(kind);
            if (!low) abort();
            for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            json_object_set_new(names, "singular", crds_json_str_safe(low));
            free(low);
        }
        if (!*obj_str(names, "listKind") && *kind) {
            strbuf_t lk = {0};
            strbuf_puts(&lk, kind);
            strbuf_puts(&lk, "List");
            json_object_set_new(names, "listKind", crds_json_str_safe(strbuf_str(&lk)));
            strbuf_free(&lk);
        }
    }
    json_t *conv = json_object_get(spec, "conversion");
    if (!conv || json_is_null(conv)) {
        json_object_set_new(spec, "conversion", json_pack("{s:s}", "strategy", "None"));
    } else {
        json_t *svc =
            crds_sch_obj(crds_sch_obj(crds_sch_obj(conv, "webhook"), "clientConfig"), "service");
        if (svc && !json_is_integer(json_object_get(svc, "port")))
            json_object_set_new(svc, "port", json_integer(443));
    }
}
