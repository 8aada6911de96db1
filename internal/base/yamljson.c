/* yamljson: the first YAML document of a buffer (libyaml events) as a jansson tree, with
 * scalars resolved as Kubernetes' sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) does, anchors and
 * aliases expanded under a budget; and jansson trees emitted as block YAML. */
#include "base/yamljson.h"

#include "base/jsonx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YJ_MAX_DEPTH       100
#define YJ_MAX_ALIAS_NODES 10000
#define YJ_DUMP_MAX_DEPTH  1000

#define YJ_TAG_PREFIX "tag:yaml.org,2002:"

/* ---- scalar resolution ------------------------------------------------------------------ */

typedef enum {
    YJ_NULL,
    YJ_BOOL,
    YJ_INT,   /* fits int64 */
    YJ_FLOAT, /* also integers beyond int64 */
    YJ_STR,
    YJ_MERGE, /* "<<" */
} yj_kind_t;

typedef struct yj_scalar {
    yj_kind_t kind;
    bool b;
    json_int_t i;
    double d;
} yj_scalar_t;

static bool yj_in(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0) return true;
    return false;
}

static const char *const yj_true[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yj_false[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                       "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const yj_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yj_nan[] = {".nan", ".NaN", ".NAN", NULL};
static const char *const yj_pinf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
static const char *const yj_ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};

/* Go's strconv.ParseInt/ParseUint with base 0 ("0x", "0o", "0b", a leading "0" for octal) on
 * s: 0 and the magnitude/sign, or -1 for a syntax error or a magnitude beyond uint64. */
static int yj_go_int(const char *s, size_t n, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        *neg = s[0] == '-';
        i = 1;
    }
    if (i >= n) return -1;
    unsigned base = 10;
    if (s[i] == '0') {
        if (n - i >= 3 && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            base = 16;
            i += 2;
        } else if (n - i >= 3 && (s[i + 1] == 'b' || s[i + 1] == 'B')) {
            base = 2;
            i += 2;
        } else if (n - i >= 3 && (s[i + 1] == 'o' || s[i + 1] == 'O')) {
            base = 8;
            i += 2;
        } else {
            base = 8;
            i += 1;
        }
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'Z')
            d = c - 'A' + 10;
        else
            return -1;
        if (d >= base) return -1;
        if (v > (UINT64_MAX - d) / base) return -1;
        v = v * base + d;
    }
    *mag = v;
    return 0;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yj_float_syntax(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i < n && s[i] == '.') {
        i++;
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st) return false;
    } else {
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st) return false;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st) return false;
    }
    return i == n;
}

/* strtod on a syntax-checked float; false when it overflows (Go's ErrRange). */
static bool yj_parse_float(const char *s, size_t n, double *out)
{
    char buf[128];
    char *heap = NULL, *p = buf;
    if (n >= sizeof buf) {
        heap = malloc(n + 1);
        if (!heap) return false;
        p = heap;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    double d = strtod(p, NULL);
    free(heap);
    if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308) return false;
    *out = d;
    return true;
}

/* Resolves an untagged plain scalar the way go-yaml v2 does. */
static void yj_resolve_plain(const char *s, size_t n, yj_scalar_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = YJ_STR;
    char c0 = n ? s[0] : 'N';
    bool hint = n == 0 || strchr("yYnNtTfFoO~.+-0123456789<", c0) != NULL;
    if (!hint) return;
    if (yj_in(s, n, yj_true) || yj_in(s, n, yj_false)) {
        out->kind = YJ_BOOL;
        out->b = yj_in(s, n, yj_true);
        return;
    }
    if (yj_in(s, n, yj_null)) {
        out->kind = YJ_NULL;
        return;
    }
    if (yj_in(s, n, yj_nan) || yj_in(s, n, yj_pinf) || yj_in(s, n, yj_ninf)) {
        out->kind = YJ_FLOAT;
        out->d = yj_in(s, n, yj_nan) ? __builtin_nan("") : __builtin_inf();
        if (yj_in(s, n, yj_ninf)) out->d = -out->d;
        return;
    }
    if (n == 2 && s[0] == '<' && s[1] == '<') {
        out->kind = YJ_MERGE;
        return;
    }
    if (c0 == '.') {
        if (yj_float_syntax(s, n) && yj_parse_float(s, n, &out->d)) out->kind = YJ_FLOAT;
        return;
    }
    if (!(c0 == '+' || c0 == '-' || (c0 >= '0' && c0 <= '9'))) return;
    /* ints and floats: go-yaml drops underscores first */
    char sbuf[128];
    char *plain = n < sizeof sbuf ? sbuf : malloc(n + 1);
    if (!plain) return;
    size_t pn = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_') plain[pn++] = s[i];
    bool neg;
    uint64_t mag;
    if (yj_go_int(plain, pn, &neg, &mag) == 0) {
        if (!neg && mag <= (uint64_t)INT64_MAX) {
            out->kind = YJ_INT;
            out->i = (json_int_t)mag;
        } else if (neg && mag <= (uint64_t)INT64_MAX + 1) {
            out->kind = YJ_INT;
            out->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag;
        } else if (!neg && plain[0] != '+') {
            out->kind = YJ_FLOAT; /* ParseUint: beyond int64 */
            out->d = (double)mag;
        }
    }
    if (out->kind == YJ_STR && yj_float_syntax(plain, pn) && yj_parse_float(plain, pn, &out->d))
        out->kind = YJ_FLOAT;
    if (plain != sbuf) free(plain);
}

/* ---- parser ------------------------------------------------------------------------------ */

typedef struct yj {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    const char *buf;
    size_t len;
    json_t *anchors; /* anchor name -> value */
    size_t alias_nodes;
    char *errbuf;
    size_t errlen;
} yj_t;

static int yj_fail_at(yj_t *y, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int yj_fail_at(yj_t *y, const yaml_mark_t *m, const char *fmt, ...)
{
    if (y->errbuf && y->errlen) {
        int w = snprintf(y->errbuf, y->errlen, "yaml: line %zu, column %zu: ", m->line + 1,
                         m->column + 1);
        if (w >= 0 && (size_t)w < y->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(y->errbuf + w, y->errlen - (size_t)w, fmt, ap);
            va_end(ap);
        }
    }
    return -EINVAL;
}

static int yj_fail_parser(yj_t *y)
{
    yaml_parser_t *p = &y->parser;
    const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m = {0, 0, 0};
        for (size_t i = 0; i < p->problem_offset && i < y->len; i++) {
            if (y->buf[i] == '\n') {
                m.line++;
                m.column = 0;
            } else {
                m.column++;
            }
        }
        return yj_fail_at(y, &m, "%s", problem);
    }
    if (p->error == YAML_MEMORY_ERROR) {
        if (y->errbuf && y->errlen) snprintf(y->errbuf, y->errlen, "yaml: out of memory");
        return -ENOMEM;
    }
    if (p->context)
        return yj_fail_at(y, &p->problem_mark, "%s (%s at line %zu, column %zu)", problem,
                          p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    return yj_fail_at(y, &p->problem_mark, "%s", problem);
}

/* Replaces the current event with the next one. */
static int yj_next(yj_t *y)
{
    if (y->have_ev) yaml_event_delete(&y->ev);
    y->have_ev = false;
    if (!yaml_parser_parse(&y->parser, &y->ev)) return yj_fail_parser(y);
    y->have_ev = true;
    return 0;
}

static bool yj_tag_is(const yaml_char_t *tag, const char *name)
{
    if (!tag) return false;
    size_t pl = strlen(YJ_TAG_PREFIX);
    return strncmp((const char *)tag, YJ_TAG_PREFIX, pl) == 0 &&
           strcmp((const char *)tag + pl, name) == 0;
}

/* Resolves the current scalar event. Untagged plain scalars follow YAML 1.1; quoted and block
 * scalars are strings; core tags (!!int, !!bool, ...) force resolution; other tags give
 * strings, as go-yaml v2 does. */
static int yj_scalar(yj_t *y, yj_scalar_t *sc)
{
    const yaml_event_t *e = &y->ev;
    const char *s = (const char *)e->data.scalar.value;
    size_t n = e->data.scalar.length;
    const yaml_char_t *tag = e->data.scalar.tag;
    memset(sc, 0, sizeof *sc);
    sc->kind = YJ_STR;
    if (tag && strcmp((const char *)tag, "!") != 0) {
        if (yj_tag_is(tag, "int") || yj_tag_is(tag, "float") || yj_tag_is(tag, "bool") ||
            yj_tag_is(tag, "null")) {
            yj_resolve_plain(s, n, sc);
            bool ok = (yj_tag_is(tag, "int") && sc->kind == YJ_INT) ||
                      (yj_tag_is(tag, "float") && (sc->kind == YJ_FLOAT || sc->kind == YJ_INT)) ||
                      (yj_tag_is(tag, "bool") && sc->kind == YJ_BOOL) ||
                      (yj_tag_is(tag, "null") && sc->kind == YJ_NULL);
            if (!ok)
                return yj_fail_at(y, &e->start_mark, "cannot decode %s `%.*s`",
                                  (const char *)tag + strlen(YJ_TAG_PREFIX), (int)(n > 64 ? 64 : n),
                                  s);
            if (yj_tag_is(tag, "float") && sc->kind == YJ_INT) {
                sc->kind = YJ_FLOAT;
                sc->d = (double)sc->i;
            }
        } else if (yj_tag_is(tag, "merge")) {
            sc->kind = YJ_MERGE;
        }
        return 0;
    }
    if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag) yj_resolve_plain(s, n, sc);
    return 0;
}

static json_t *yj_scalar_value(yj_t *y, const yj_scalar_t *sc, int *rc)
{
    const yaml_event_t *e = &y->ev;
    json_t *v = NULL;
    *rc = 0;
    switch (sc->kind) {
    case YJ_NULL:
        v = json_null();
        break;
    case YJ_BOOL:
        v = json_boolean(sc->b);
        break;
    case YJ_INT:
        v = json_integer(sc->i);
        break;
    case YJ_FLOAT:
        if (sc->d != sc->d || sc->d > 1.7976931348623157e308 || sc->d < -1.7976931348623157e308) {
            *rc = yj_fail_at(y, &e->start_mark, "%.*s cannot be represented in JSON",
                             (int)(e->data.scalar.length > 32 ? 32 : e->data.scalar.length),
                             (const char *)e->data.scalar.value);
            return NULL;
        }
        v = json_real(sc->d);
        break;
    case YJ_STR:
    case YJ_MERGE:
        v = json_stringn((const char *)e->data.scalar.value, e->data.scalar.length);
        break;
    }
    if (!v) *rc = yj_fail_at(y, &e->start_mark, "invalid scalar");
    return v;
}

/* Go's strconv.FormatFloat(v, 'g', -1, 32), which sigs.k8s.io/yaml uses for float keys. */
static void yj_format_float32(double v, char *buf, size_t len)
{
    float f = (float)v;
    if (f != f) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (f > 3.4028235e38f || f < -3.4028235e38f) {
        snprintf(buf, len, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[64];
    int p;
    for (p = 1; p < 9; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, (double)f);
        if ((float)strtod(tmp, NULL) == f) break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, (double)f);
    const char *ep = strchr(tmp, 'e');
    int x = ep ? atoi(ep + 1) : 0;
    int eprec = 6;
    if (eprec > p && p >= x + 1) eprec = p;
    if (x < -4 || x >= eprec)
        snprintf(buf, len, "%s", tmp);
    else
        snprintf(buf, len, "%.*f", p - (x + 1) > 0 ? p - (x + 1) : 0, (double)f);
}

/* The JSON object key for a scalar key, as sigs.k8s.io/yaml converts non-string keys. */
static int yj_key_text(yj_t *y, const yj_scalar_t *sc, char **key, size_t *klen, char *tmp,
                       size_t tmplen)
{
    const yaml_event_t *e = &y->ev;
    switch (sc->kind) {
    case YJ_NULL:
        snprintf(tmp, tmplen, "null");
        break;
    case YJ_BOOL:
        snprintf(tmp, tmplen, "%s", sc->b ? "true" : "false");
        break;
    case YJ_INT:
        snprintf(tmp, tmplen, "%" JSON_INTEGER_FORMAT, sc->i);
        break;
    case YJ_FLOAT:
        yj_format_float32(sc->d, tmp, tmplen);
        break;
    default:
        *key = (char *)e->data.scalar.value;
        *klen = e->data.scalar.length;
        return 0;
    }
    *key = tmp;
    *klen = strlen(tmp);
    return 0;
}

static int yj_node(yj_t *y, int depth, json_t **out);

/* Registers the node just built under the anchor, if any. */
static int yj_anchor(yj_t *y, const char *anchor, json_t *v)
{
    if (!anchor) return 0;
    return json_object_set_nocheck(y->anchors, anchor, v) == 0 ? 0 : -ENOMEM;
}

static char *yj_strdup(const yaml_char_t *s)
{
    return s ? strdup((const char *)s) : NULL;
}

/* Copies the maps of a merge key ("<<: *base" or "<<: [*a, *b]") into merges, keeping the
 * keys merges already has. */
static int yj_merge_into(yj_t *y, const yaml_mark_t *m, json_t *merges, json_t *src)
{
    if (json_is_object(src)) return json_object_update_missing(merges, src) == 0 ? 0 : -ENOMEM;
    if (json_is_array(src)) {
        for (size_t i = 0; i < json_array_size(src); i++) {
            json_t *e = json_array_get(src, i);
            if (!json_is_object(e))
                return yj_fail_at(y, m, "map merge requires map or sequence of maps as the value");
            if (json_object_update_missing(merges, e) != 0) return -ENOMEM;
        }
        return 0;
    }
    return yj_fail_at(y, m, "map merge requires map or sequence of maps as the value");
}

static int yj_mapping(yj_t *y, int depth, json_t **out)
{
    char *anchor = yj_strdup(y->ev.data.mapping_start.anchor);
    json_t *obj = json_object(), *merges = NULL;
    int rc = obj ? 0 : -ENOMEM;
    while (rc == 0) {
        if ((rc = yj_next(y)) < 0) break;
        if (y->ev.type == YAML_MAPPING_END_EVENT) break;
        yaml_mark_t km = y->ev.start_mark;
        char *key = NULL;
        size_t klen = 0;
        char tmp[64];
        bool merge = false;
        json_t *aliased = NULL;
        if (y->ev.type == YAML_SCALAR_EVENT) {
            yj_scalar_t sc;
            if ((rc = yj_scalar(y, &sc)) < 0) break;
            merge = sc.kind == YJ_MERGE;
            char *kt;
            yj_key_text(y, &sc, &kt, &klen, tmp, sizeof tmp);
            key = malloc(klen + 1);
            if (key) {
                memcpy(key, kt, klen);
                key[klen] = '\0';
            }
            if (y->ev.data.scalar.anchor) {
                json_t *kv = json_stringn(key ? key : "", klen);
                rc = kv ? yj_anchor(y, (const char *)y->ev.data.scalar.anchor, kv) : -EINVAL;
                json_decref(kv);
            }
        } else if (y->ev.type == YAML_ALIAS_EVENT) {
            if ((rc = yj_node(y, depth + 1, &aliased)) < 0) break;
            if (json_is_string(aliased)) {
                klen = json_string_length(aliased);
                key = malloc(klen + 1);
                if (key) memcpy(key, json_string_value(aliased), klen + 1);
            } else if (json_is_integer(aliased) || json_is_real(aliased) ||
                       json_is_boolean(aliased) || json_is_null(aliased)) {
                yj_scalar_t sc = {.kind = YJ_NULL};
                if (json_is_integer(aliased))
                    sc = (yj_scalar_t){.kind = YJ_INT, .i = json_integer_value(aliased)};
                if (json_is_real(aliased))
                    sc = (yj_scalar_t){.kind = YJ_FLOAT, .d = json_real_value(aliased)};
                if (json_is_boolean(aliased))
                    sc = (yj_scalar_t){.kind = YJ_BOOL, .b = json_is_true(aliased)};
                char *kt;
                yj_key_text(y, &sc, &kt, &klen, tmp, sizeof tmp);
                key = strdup(kt);
            } else {
                rc = yj_fail_at(y, &km, "mapping keys must be scalars");
            }
            json_decref(aliased);
            if (rc < 0) break;
        } else {
            rc = yj_fail_at(y, &km, "mapping keys must be scalars");
            break;
        }
        if (!key) {
            rc = -ENOMEM;
            break;
        }
        if ((rc = yj_next(y)) < 0) {
            free(key);
            break;
        }
        json_t *val = NULL;
        yaml_mark_t vm = y->ev.start_mark;
        rc = yj_node(y, depth + 1, &val);
        if (rc == 0) {
            if (merge) {
                if (!merges && !(merges = json_object())) rc = -ENOMEM;
                if (rc == 0) rc = yj_merge_into(y, &vm, merges, val);
                json_decref(val);
            } else if (json_object_setn_new_nocheck(obj, key, klen, val) != 0) {
                rc = -ENOMEM;
            }
        }
        free(key);
    }
    if (rc == 0 && merges && json_object_update_missing(obj, merges) != 0) rc = -ENOMEM;
    json_decref(merges);
    if (rc == 0 && anchor) rc = yj_anchor(y, anchor, obj);
    free(anchor);
    if (rc < 0) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

static int yj_sequence(yj_t *y, int depth, json_t **out)
{
    char *anchor = yj_strdup(y->ev.data.sequence_start.anchor);
    json_t *arr = json_array();
    int rc = arr ? 0 : -ENOMEM;
    while (rc == 0) {
        if ((rc = yj_next(y)) < 0) break;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT) break;
        json_t *v = NULL;
        if ((rc = yj_node(y, depth + 1, &v)) < 0) break;
        if (json_array_append_new(arr, v) != 0) rc = -ENOMEM;
    }
    if (rc == 0 && anchor) rc = yj_anchor(y, anchor, arr);
    free(anchor);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* Builds the node that starts at the current event; depth counts the enclosing containers. */
static int yj_node(yj_t *y, int depth, json_t **out)
{
    *out = NULL;
    yaml_event_t *e = &y->ev;
    switch (e->type) {
    case YAML_SCALAR_EVENT: {
        yj_scalar_t sc;
        int rc = yj_scalar(y, &sc);
        if (rc < 0) return rc;
        json_t *v = yj_scalar_value(y, &sc, &rc);
        if (!v) return rc;
        if (e->data.scalar.anchor && yj_anchor(y, (const char *)e->data.scalar.anchor, v) < 0) {
            json_decref(v);
            return -ENOMEM;
        }
        *out = v;
        return 0;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (depth + 1 > YJ_MAX_DEPTH)
            return yj_fail_at(y, &e->start_mark, "exceeded max depth of %d", YJ_MAX_DEPTH);
        return e->type == YAML_SEQUENCE_START_EVENT ? yj_sequence(y, depth, out)
                                                    : yj_mapping(y, depth, out);
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)e->data.alias.anchor;
        json_t *v = name ? json_object_get(y->anchors, name) : NULL;
        if (!v)
            return yj_fail_at(y, &e->start_mark, "unknown anchor '%s' referenced",
                              name ? name : "");
        size_t left = YJ_MAX_ALIAS_NODES - y->alias_nodes;
        size_t n = jsonx_count(v, left);
        if (n > left)
            return yj_fail_at(y, &e->start_mark,
                              "document contains excessive aliasing (more than %d nodes)",
                              YJ_MAX_ALIAS_NODES);
        y->alias_nodes += n;
        int cap = YJ_MAX_DEPTH - depth;
        if (jsonx_depth(v, cap) > cap)
            return yj_fail_at(y, &e->start_mark, "exceeded max depth of %d", YJ_MAX_DEPTH);
        *out = json_deep_copy(v);
        return *out ? 0 : -ENOMEM;
    }
    default:
        return yj_fail_at(y, &e->start_mark, "unexpected event");
    }
}

/* JSON input (an object or array) parses with jansson directly. */
static json_t *yj_try_json(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i >= len || (buf[i] != '{' && buf[i] != '[')) return NULL;
    json_t *v = json_loadb(buf, len, 0, NULL);
    if (v && jsonx_depth(v, YJ_MAX_DEPTH) > YJ_MAX_DEPTH) {
        json_decref(v);
        return NULL; /* the YAML path reports the depth error with its position */
    }
    return v;
}

json_t *yamljson_parse(const char *buf, size_t len, char *errbuf, size_t errlen)
{
    if (errbuf && errlen) errbuf[0] = '\0';
    if (!buf) len = 0;
    json_t *j = len ? yj_try_json(buf, len) : NULL;
    if (j) return j;

    yj_t y;
    memset(&y, 0, sizeof y);
    y.buf = buf;
    y.len = len;
    y.errbuf = errbuf;
    y.errlen = errlen;
    y.anchors = json_object();
    if (!y.anchors || !yaml_parser_initialize(&y.parser)) {
        json_decref(y.anchors);
        if (errbuf && errlen) snprintf(errbuf, errlen, "yaml: out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)(buf ? buf : ""), len);
    json_t *root = NULL;
    int rc = yj_next(&y); /* stream start */
    if (rc == 0) rc = yj_next(&y);
    if (rc == 0 && y.ev.type == YAML_STREAM_END_EVENT) {
        root = json_null(); /* no document at all */
    } else if (rc == 0 && y.ev.type == YAML_DOCUMENT_START_EVENT) {
        if ((rc = yj_next(&y)) == 0) rc = yj_node(&y, 0, &root);
        if (rc == 0) rc = yj_next(&y); /* document end: reports trailing garbage */
        if (rc == 0 && y.ev.type != YAML_DOCUMENT_END_EVENT)
            rc = yj_fail_at(&y, &y.ev.start_mark, "expected the end of the document");
    } else if (rc == 0) {
        rc = yj_fail_at(&y, &y.ev.start_mark, "expected a document");
    }
    if (y.have_ev) yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.parser);
    json_decref(y.anchors);
    if (rc < 0) {
        json_decref(root);
        if (rc == -ENOMEM && errbuf && errlen && !errbuf[0])
            snprintf(errbuf, errlen, "yaml: out of memory");
        return NULL;
    }
    return root;
}

/* ---- emitter ----------------------------------------------------------------------------- */

typedef struct yj_out {
    char *buf;
    size_t len, cap;
    bool failed;
} yj_out_t;

static int yj_write(void *data, unsigned char *buffer, size_t size)
{
    yj_out_t *o = data;
    if (o->len + size + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + size + 1)
            cap *= 2;
        char *nb = realloc(o->buf, cap);
        if (!nb) {
            o->failed = true;
            return 0;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, buffer, size);
    o->len += size;
    o->buf[o->len] = '\0';
    return 1;
}

static int yj_emit(yaml_emitter_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(em, ev) ? 0 : -EINVAL;
}

static int yj_emit_scalar(yaml_emitter_t *em, const char *s, size_t n, yaml_scalar_style_t st)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, st))
        return -ENOMEM;
    return yj_emit(em, &ev);
}

/* Strings that would read back as something else (true, 1, null, "", ~, <<) are quoted. */
static int yj_emit_string(yaml_emitter_t *em, const char *s, size_t n)
{
    if (n > INT32_MAX) return -E2BIG;
    yj_scalar_t sc;
    yj_resolve_plain(s, n, &sc);
    yaml_scalar_style_t st = YAML_ANY_SCALAR_STYLE;
    if (sc.kind != YJ_STR)
        st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (memchr(s, '\n', n))
        st = YAML_LITERAL_SCALAR_STYLE;
    return yj_emit_scalar(em, s, n, st);
}

static int yj_emit_node(yaml_emitter_t *em, json_t *v, int depth)
{
    yaml_event_t ev;
    char num[64];
    int rc = 0;
    if (depth > YJ_DUMP_MAX_DEPTH) return -E2BIG;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
            return -ENOMEM;
        if ((rc = yj_emit(em, &ev)) < 0) return rc;
        const char *k;
        size_t klen;
        json_t *c;
        json_object_keylen_foreach(v, k, klen, c)
        {
            if ((rc = yj_emit_string(em, k, klen)) < 0) return rc;
            if ((rc = yj_emit_node(em, c, depth + 1)) < 0) return rc;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yj_emit(em, &ev);
    }
    case JSON_ARRAY:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
            return -ENOMEM;
        if ((rc = yj_emit(em, &ev)) < 0) return rc;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((rc = yj_emit_node(em, json_array_get(v, i), depth + 1)) < 0) return rc;
        yaml_sequence_end_event_initialize(&ev);
        return yj_emit(em, &ev);
    case JSON_STRING:
        return yj_emit_string(em, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return yj_emit_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int p = 15; p <= 17; p++) {
            snprintf(num, sizeof num, "%.*g", p, d);
            if (strtod(num, NULL) == d) break;
        }
        if (!strpbrk(num, ".eEni")) strcat(num, ".0");
        return yj_emit_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    }
    case JSON_TRUE:
        return yj_emit_scalar(em, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return yj_emit_scalar(em, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    default:
        return yj_emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
}

char *yamljson_dump(json_t *v)
{
    if (!v) return NULL;
    yaml_emitter_t em;
    yj_out_t o = {0};
    if (!yaml_emitter_initialize(&em)) return NULL;
    yaml_emitter_set_output(&em, yj_write, &o);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    yaml_event_t ev;
    int rc = 0;
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || yj_emit(&em, &ev) < 0 ||
        !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || yj_emit(&em, &ev) < 0)
        rc = -EINVAL;
    if (rc == 0) rc = yj_emit_node(&em, v, 0);
    if (rc == 0 && (!yaml_document_end_event_initialize(&ev, 1) || yj_emit(&em, &ev) < 0 ||
                    !yaml_stream_end_event_initialize(&ev) || yj_emit(&em, &ev) < 0))
        rc = -EINVAL;
    if (rc == 0 && !yaml_emitter_flush(&em)) rc = -EINVAL;
    yaml_emitter_delete(&em);
    if (rc < 0 || o.failed || !o.buf) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
