/* patch: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge
 * patch (SMP) over jansson trees, the per-kind SMP list rules (static data) and the merge-patch
 * diff. Inputs are never modified; every result is a fresh tree. */
#include "base/patch.h"

#include "base/jsonx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATCH_MAX_DEPTH     100
#define PATCH_MAX_OPS       10000
#define PATCH_MAX_NEW_NODES 1000000 /* nodes a JSON patch may create by "copy" */

static int patch_err(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int patch_err(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- tree helpers ---------------------------------------------------------------------- */

/* A real that holds an integral value in the int64 range, as that integer. */
static bool real_as_int(double d, json_int_t *out)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
    json_int_t i = (json_int_t)d;
    if ((double)i != d) return false;
    *out = i;
    return true;
}

/* Deep equality where numbers compare by value (1 == 1.0). */
static bool tree_equal(json_t *a, json_t *b)
{
    if (a == b) return true;
    if (!a || !b) return false;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        if (json_is_real(a) && json_is_real(b)) return json_real_value(a) == json_real_value(b);
        json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
        json_int_t iv;
        return real_as_int(json_real_value(r), &iv) && iv == json_integer_value(i);
    }
    if (json_typeof(a) != json_typeof(b)) return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *k;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach(a, k, klen, v)
        {
            if (!tree_equal(v, json_object_getn(b, k, klen))) return false;
        }
        return true;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tree_equal(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default:
        return true; /* true, false, null: same type */
    }
}

/* A byte string that two values share when tree_equal holds for them (containers compare by
 * their sorted compact text). malloc'd; *len receives its length. NULL on allocation failure. */
static char *tree_key(json_t *v, size_t *len)
{
    char num[64];
    const char *body = NULL;
    size_t blen = 0;
    char *dumped = NULL;
    char tag;
    json_int_t iv;
    switch (json_typeof(v)) {
    case JSON_STRING:
        tag = 's';
        body = json_string_value(v);
        blen = json_string_length(v);
        break;
    case JSON_INTEGER:
        tag = 'n';
        blen = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        body = num;
        break;
    case JSON_REAL:
        tag = 'n';
        if (real_as_int(json_real_value(v), &iv))
            blen = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, iv);
        else
            blen = (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v));
        body = num;
        break;
    case JSON_TRUE:
        tag = 't';
        break;
    case JSON_FALSE:
        tag = 'f';
        break;
    case JSON_NULL:
        tag = 'z';
        break;
    default:
        tag = 'j';
        dumped = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!dumped) return NULL;
        body = dumped;
        blen = strlen(dumped);
        break;
    }
    char *out = malloc(blen + 2);
    if (out) {
        out[0] = tag;
        if (blen) memcpy(out + 1, body, blen);
        out[blen + 1] = '\0';
        *len = blen + 1;
    }
    free(dumped);
    return out;
}

/* Key maps: a jansson object used as a hash table from tree_key(value) to a position. */

/* Records pos for v unless v is already there. 0 or -ENOMEM. */
static int keymap_add(json_t *map, json_t *v, size_t pos)
{
    size_t len;
    char *k = tree_key(v, &len);
    if (!k) return -ENOMEM;
    int rc = 0;
    if (!json_object_getn(map, k, len) &&
        json_object_setn_new_nocheck(map, k, len, json_integer((json_int_t)pos)) != 0)
        rc = -ENOMEM;
    free(k);
    return rc;
}

/* The position recorded for v, or -1. */
static long keymap_get(json_t *map, json_t *v)
{
    if (!map || !v) return -1;
    size_t len;
    char *k = tree_key(v, &len);
    if (!k) return -1;
    json_t *p = json_object_getn(map, k, len);
    free(k);
    return p ? (long)json_integer_value(p) : -1;
}

static bool str_is(json_t *s, const char *lit)
{
    size_t n = strlen(lit);
    return json_is_string(s) && json_string_length(s) == n &&
           memcmp(json_string_value(s), lit, n) == 0;
}

static bool key_is(const char *k, size_t klen, const char *lit)
{
    size_t n = strlen(lit);
    return klen == n && memcmp(k, lit, n) == 0;
}

static bool key_has_prefix(const char *k, size_t klen, const char *prefix)
{
    size_t n = strlen(prefix);
    return klen >= n && memcmp(k, prefix, n) == 0;
}

/* ---- RFC 7386 merge patch ----------------------------------------------------------------- */

/* Consumes target (may be NULL); returns the merged tree or NULL on allocation failure. */
static json_t *merge_apply(json_t *target, json_t *patch)
{
    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        target = json_object();
        if (!target) return NULL;
    }
    const char *k;
    size_t klen;
    json_t *pv;
    json_object_keylen_foreach(patch, k, klen, pv)
    {
        if (json_is_null(pv)) {
            json_object_deln(target, k, klen);
            continue;
        }
        json_t *cur = json_incref(json_object_getn(target, k, klen));
        json_t *merged = merge_apply(cur, pv);
        if (!merged || json_object_setn_new_nocheck(target, k, klen, merged) != 0) {
            json_decref(target);
            return NULL;
        }
    }
    return target;
}

int patch_merge_apply(json_t *doc, json_t *patch, json_t **out, char *errbuf, size_t errlen)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (!patch) return patch_err(errbuf, errlen, -EINVAL, "merge patch: missing patch document");
    if (jsonx_depth(doc, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH ||
        jsonx_depth(patch, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH)
        return patch_err(errbuf, errlen, -E2BIG, "merge patch: nesting deeper than %d levels",
                         PATCH_MAX_DEPTH);
    json_t *target = NULL;
    if (doc && json_is_object(patch)) {
        target = json_deep_copy(doc);
        if (!target) return -ENOMEM;
    }
    json_t *res = merge_apply(target, patch);
    if (!res) return patch_err(errbuf, errlen, -ENOMEM, "merge patch: out of memory");
    *out = res;
    return 0;
}

/* ---- RFC 6902 JSON patch ---------------------------------------------------------------- */

typedef struct jptr {
    size_t n;    /* number of reference tokens; 0 is the whole document */
    char **tok;  /* unescaped tokens (may hold NUL bytes) */
    size_t *len; /* token lengths */
    char *buf;   /* storage for the tokens */
} jptr_t;

static void jptr_free(jptr_t *p)
{
    free(p->tok);
    free(p->len);
    free(p->buf);
    memset(p, 0, sizeof *p);
}

/* RFC 6901: "" or "/" followed by tokens with ~0 and ~1 escapes. -EINVAL on bad syntax. */
static int jptr_parse(const char *s, size_t slen, jptr_t *p)
{
    memset(p, 0, sizeof *p);
    if (slen == 0) return 0;
    if (s[0] != '/') return -EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < slen; i++)
        if (s[i] == '/') n++;
    p->tok = calloc(n, sizeof *p->tok);
    p->len = calloc(n, sizeof *p->len);
    p->buf = malloc(slen + 1);
    if (!p->tok || !p->len || !p->buf) {
        jptr_free(p);
        return -ENOMEM;
    }
    char *w = p->buf;
    size_t i = 1;
    for (size_t t = 0; t < n; t++) {
        p->tok[t] = w;
        char *start = w;
        while (i < slen && s[i] != '/') {
            if (s[i] == '~') {
                if (i + 1 >= slen || (s[i + 1] != '0' && s[i + 1] != '1')) {
                    jptr_free(p);
                    return -EINVAL;
                }
                *w++ = s[i + 1] == '0' ? '~' : '/';
                i += 2;
            } else {
                *w++ = s[i++];
            }
        }
        p->len[t] = (size_t)(w - start);
        *w++ = '\0';
        i++; /* skip the '/' */
    }
    p->n = n;
    return 0;
}

/* Array index token: 0 with *idx (SIZE_MAX when too large), 1 for "-", -EINVAL for anything
 * else ("01", "-1", "", "1a"). */
static int jptr_index(const char *t, size_t len, size_t *idx)
{
    if (len == 1 && t[0] == '-') return 1;
    if (len == 0 || (len > 1 && t[0] == '0')) return -EINVAL;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] < '0' || t[i] > '9') return -EINVAL;
        unsigned d = (unsigned)(t[i] - '0');
        v = (v > (SIZE_MAX - d) / 10) ? SIZE_MAX : v * 10 + d;
    }
    *idx = v;
    return 0;
}

/* Follows the first n tokens from root; *out is borrowed. */
static int jptr_walk(json_t *root, const jptr_t *p, size_t n, json_t **out)
{
    json_t *cur = root;
    for (size_t i = 0; i < n; i++) {
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, p->tok[i], p->len[i]);
            if (!cur) return -ENOENT;
        } else if (json_is_array(cur)) {
            size_t idx;
            int r = jptr_index(p->tok[i], p->len[i], &idx);
            if (r < 0) return r;
            if (r == 1 || idx >= json_array_size(cur)) return -ENOENT;
            cur = json_array_get(cur, idx);
        } else {
            return -ENOENT;
        }
    }
    *out = cur;
    return 0;
}

/* Adds value (consumed) at p. */
static int jptr_add(json_t **root, const jptr_t *p, json_t *value)
{
    if (p->n == 0) {
        json_decref(*root);
        *root = value;
        return 0;
    }
    json_t *parent;
    int rc = jptr_walk(*root, p, p->n - 1, &parent);
    if (rc < 0) goto fail;
    const char *t = p->tok[p->n - 1];
    size_t tl = p->len[p->n - 1];
    if (json_is_object(parent))
        return json_object_setn_new_nocheck(parent, t, tl, value) == 0 ? 0 : -ENOMEM;
    if (json_is_array(parent)) {
        size_t idx;
        int r = jptr_index(t, tl, &idx);
        if (r < 0) {
            rc = r;
            goto fail;
        }
        if (r == 1) return json_array_append_new(parent, value) == 0 ? 0 : -ENOMEM;
        if (idx > json_array_size(parent)) {
            rc = -ENOENT;
            goto fail;
        }
        return json_array_insert_new(parent, idx, value) == 0 ? 0 : -ENOMEM;
    }
    rc = -ENOENT;
fail:
    json_decref(value);
    return rc;
}

/* Removes the value at p; *removed (if not NULL) receives it. */
static int jptr_remove(json_t *root, const jptr_t *p, json_t **removed)
{
    if (p->n == 0) return -EINVAL;
    json_t *parent;
    int rc = jptr_walk(root, p, p->n - 1, &parent);
    if (rc < 0) return rc;
    const char *t = p->tok[p->n - 1];
    size_t tl = p->len[p->n - 1];
    if (json_is_object(parent)) {
        json_t *v = json_object_getn(parent, t, tl);
        if (!v) return -ENOENT;
        if (removed) *removed = json_incref(v);
        json_object_deln(parent, t, tl);
        return 0;
    }
    if (json_is_array(parent)) {
        size_t idx;
        int r = jptr_index(t, tl, &idx);
        if (r < 0) return r;
        if (r == 1 || idx >= json_array_size(parent)) return -ENOENT;
        if (removed) *removed = json_incref(json_array_get(parent, idx));
        json_array_remove(parent, idx);
        return 0;
    }
    return -ENOENT;
}

/* Replaces the existing value at p with value (consumed). */
static int jptr_replace(json_t **root, const jptr_t *p, json_t *value)
{
    if (p->n == 0) {
        json_decref(*root);
        *root = value;
        return 0;
    }
    json_t *parent;
    int rc = jptr_walk(*root, p, p->n - 1, &parent);
    if (rc < 0) goto fail;
    const char *t = p->tok[p->n - 1];
    size_t tl = p->len[p->n - 1];
    if (json_is_object(parent)) {
        if (!json_object_getn(parent, t, tl)) {
            rc = -ENOENT;
            goto fail;
        }
        return json_object_setn_new_nocheck(parent, t, tl, value) == 0 ? 0 : -ENOMEM;
    }
    if (json_is_array(parent)) {
        size_t idx;
        int r = jptr_index(t, tl, &idx);
        if (r < 0) {
            rc = r;
            goto fail;
        }
        if (r == 1 || idx >= json_array_size(parent)) {
            rc = -ENOENT;
            goto fail;
        }
        return json_array_set_new(parent, idx, value) == 0 ? 0 : -ENOMEM;
    }
    rc = -ENOENT;
fail:
    json_decref(value);
    return rc;
}

static bool jptr_is_proper_prefix(const jptr_t *a, const jptr_t *b)
{
    if (a->n >= b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->len[i] != b->len[i] || memcmp(a->tok[i], b->tok[i], a->len[i]) != 0) return false;
    return true;
}

static bool jptr_equal(const jptr_t *a, const jptr_t *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->len[i] != b->len[i] || memcmp(a->tok[i], b->tok[i], a->len[i]) != 0) return false;
    return true;
}

enum jop { JOP_ADD, JOP_REMOVE, JOP_REPLACE, JOP_MOVE, JOP_COPY, JOP_TEST };

static const char *const jop_names[] = {"add", "remove", "replace", "move", "copy", "test"};

/* A value that would sit at depth beyond the limit once placed at p. */
static bool jop_too_deep(const jptr_t *p, json_t *v)
{
    if (p->n > PATCH_MAX_DEPTH) return true;
    int cap = PATCH_MAX_DEPTH - (int)p->n;
    return jsonx_depth(v, cap) > cap;
}

/* Shortened, printable copy of a path for messages. */
static void jop_path_text(json_t *s, char *buf, size_t len)
{
    size_t n = json_is_string(s) ? json_string_length(s) : 0;
    const char *v = json_is_string(s) ? json_string_value(s) : "";
    size_t w = 0;
    for (size_t i = 0; i < n && w + 4 < len; i++)
        buf[w++] = (v[i] >= 0x20 && v[i] != 0x7f) || (v[i] & 0x80) ? v[i] : '?';
    if (n && w < n && w + 4 >= len) {
        memcpy(buf + w, "...", 3);
        w += 3;
    }
    buf[w] = '\0';
}

/* Applies one operation to *root. budget: nodes "copy" may still create. */
static int jop_apply(json_t **root, json_t *op, size_t i, size_t *budget, char *errbuf,
                     size_t errlen)
{
    if (!json_is_object(op))
        return patch_err(errbuf, errlen, -EINVAL, "json patch: operation %zu is not an object", i);
    json_t *opv = json_object_get(op, "op");
    int kind = -1;
    for (int k = 0; k <= JOP_TEST; k++)
        if (str_is(opv, jop_names[k])) kind = k;
    if (kind < 0)
        return patch_err(errbuf, errlen, -EINVAL,
                         json_is_string(opv) ? "json patch: operation %zu: unknown op"
                                             : "json patch: operation %zu: missing \"op\"",
                         i);
    const char *name = jop_names[kind];
    json_t *pathv = json_object_get(op, "path");
    char ptext[160];
    jop_path_text(pathv, ptext, sizeof ptext);
    if (!json_is_string(pathv))
        return patch_err(errbuf, errlen, -EINVAL,
                         "json patch: operation %zu (%s): \"path\" must be a string", i, name);
    jptr_t path, from;
    memset(&from, 0, sizeof from);
    if (jptr_parse(json_string_value(pathv), json_string_length(pathv), &path) < 0)
        return patch_err(errbuf, errlen, -EINVAL,
                         "json patch: operation %zu (%s): invalid JSON pointer \"%s\"", i, name,
                         ptext);
    json_t *value = json_object_get(op, "value");
    json_t *fromv = json_object_get(op, "from");
    char ftext[160];
    jop_path_text(fromv, ftext, sizeof ftext);
    int rc = 0;
    const char *what = NULL;

    if ((kind == JOP_ADD || kind == JOP_REPLACE || kind == JOP_TEST) && !value) {
        rc = -EINVAL;
        what = "missing \"value\"";
        goto out;
    }
    if (kind == JOP_MOVE || kind == JOP_COPY) {
        if (!json_is_string(fromv)) {
            rc = -EINVAL;
            what = "\"from\" must be a string";
            goto out;
        }
        if (jptr_parse(json_string_value(fromv), json_string_length(fromv), &from) < 0) {
            rc = -EINVAL;
            what = "invalid JSON pointer in \"from\"";
            goto out;
        }
    }

    switch (kind) {
    case JOP_ADD:
    case JOP_REPLACE: {
        if (jop_too_deep(&path, value)) {
            rc = -E2BIG;
            what = "result nests too deep";
            break;
        }
        json_t *copy = json_deep_copy(value);
        if (!copy) {
            rc = -ENOMEM;
            break;
        }
        rc = kind == JOP_ADD ? jptr_add(root, &path, copy) : jptr_replace(root, &path, copy);
        break;
    }
    case JOP_REMOVE:
        if (path.n == 0) {
            rc = -EINVAL;
            what = "cannot remove the whole document";
            break;
        }
        rc = jptr_remove(*root, &path, NULL);
        break;
    case JOP_MOVE: {
        json_t *v;
        rc = jptr_walk(*root, &from, from.n, &v);
        if (rc < 0) {
            what = "\"from\" path does not exist";
            break;
        }
        if (jptr_equal(&from, &path)) break;
        if (jptr_is_proper_prefix(&from, &path)) {
            rc = -EINVAL;
            what = "cannot move a value into one of its children";
            break;
        }
        if (jop_too_deep(&path, v)) {
            rc = -E2BIG;
            what = "result nests too deep";
            break;
        }
        json_t *moved = NULL;
        rc = jptr_remove(*root, &from, &moved);
        if (rc < 0) break;
        rc = jptr_add(root, &path, moved);
        break;
    }
    case JOP_COPY: {
        json_t *v;
        rc = jptr_walk(*root, &from, from.n, &v);
        if (rc < 0) {
            what = "\"from\" path does not exist";
            break;
        }
        if (jop_too_deep(&path, v)) {
            rc = -E2BIG;
            what = "result nests too deep";
            break;
        }
        size_t n = jsonx_count(v, *budget);
        if (n > *budget) {
            rc = -E2BIG;
            what = "result too large";
            break;
        }
        *budget -= n;
        json_t *copy = json_deep_copy(v);
        if (!copy) {
            rc = -ENOMEM;
            break;
        }
        rc = jptr_add(root, &path, copy);
        break;
    }
    case JOP_TEST: {
        json_t *v;
        rc = jptr_walk(*root, &path, path.n, &v);
        if (rc == 0 && !tree_equal(v, value)) {
            rc = -EILSEQ;
            what = "test failed: value differs";
        }
        break;
    }
    }
out:
    jptr_free(&path);
    jptr_free(&from);
    if (rc == 0) return 0;
    if (!what) {
        switch (rc) {
        case -ENOENT:
            what = "path does not exist";
            break;
        case -EINVAL:
            what = "invalid array index";
            break;
        case -ENOMEM:
            what = "out of memory";
            break;
        default:
            what = "failed";
            break;
        }
    }
    if (kind == JOP_MOVE || kind == JOP_COPY)
        return patch_err(errbuf, errlen, rc,
                         "json patch: operation %zu (%s from \"%s\" to \"%s\"): %s", i, name, ftext,
                         ptext, what);
    return patch_err(errbuf, errlen, rc, "json patch: operation %zu (%s \"%s\"): %s", i, name,
                     ptext, what);
}

int patch_json_apply(json_t *doc, json_t *patch, json_t **out, char *errbuf, size_t errlen)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (!json_is_array(patch))
        return patch_err(errbuf, errlen, -EINVAL,
                         "json patch: the patch must be an array of operations");
    if (json_array_size(patch) > PATCH_MAX_OPS)
        return patch_err(errbuf, errlen, -E2BIG, "json patch: more than %d operations",
                         PATCH_MAX_OPS);
    if (jsonx_depth(doc, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH ||
        jsonx_depth(patch, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH)
        return patch_err(errbuf, errlen, -E2BIG, "json patch: nesting deeper than %d levels",
                         PATCH_MAX_DEPTH);
    json_t *root = doc ? json_deep_copy(doc) : json_null();
    if (!root) return -ENOMEM;
    size_t budget = PATCH_MAX_NEW_NODES;
    for (size_t i = 0; i < json_array_size(patch); i++) {
        int rc = jop_apply(&root, json_array_get(patch, i), i, &budget, errbuf, errlen);
        if (rc < 0) {
            json_decref(root);
            return rc;
        }
    }
    *out = root;
    return 0;
}

/* ---- strategic merge patch: rules --------------------------------------------------------- */

#define SMP_META(P)                                                                                \
    {P "metadata.finalizers", NULL},                                                               \
    {                                                                                              \
        P "metadata.ownerReferences", "uid"                                                        \
    }

#define SMP_CONTAINERS(P)                                                                          \
    {P, "name"}, {P "[].env", "name"}, {P "[].ports", "containerPort"},                            \
        {P "[].volumeMounts", "mountPath"}, {P "[].volumeDevices", "devicePath"},                  \
        {P "[].command", ""}, {P "[].args", ""},                                                   \
    {                                                                                              \
        P "[].envFrom", ""                                                                         \
    }

#define SMP_POD_SPEC(P)                                                                            \
    SMP_CONTAINERS(P "containers"), SMP_CONTAINERS(P "initContainers"),                            \
        SMP_CONTAINERS(P "ephemeralContainers"), {P "volumes", "name"},                            \
        {P "imagePullSecrets", "name"}, {P "hostAliases", "ip"}, {P "resourceClaims", "name"},     \
        {P "schedulingGates", "name"}, {P "topologySpreadConstraints", "topologyKey"},             \
        {P "tolerations", ""},                                                                     \
    {                                                                                              \
        P "readinessGates", ""                                                                     \
    }

#define SMP_END                                                                                    \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

static const smp_list_rule_t smp_rules_meta[] = {SMP_META(""), SMP_END};

static const smp_list_rule_t smp_rules_pod[] = {
    SMP_META(""),
    SMP_POD_SPEC("spec."),
    {"status.conditions", "type"},
    {"status.podIPs", "ip"},
    {"status.hostIPs", "ip"},
    {"status.resourceClaimStatuses", "name"},
    {"status.containerStatuses", ""},
    {"status.initContainerStatuses", ""},
    {"status.ephemeralContainerStatuses", ""},
    SMP_END,
};

static const smp_list_rule_t smp_rules_podtemplate[] = {
    SMP_META(""),
    SMP_META("template."),
    SMP_POD_SPEC("template.spec."),
    SMP_END,
};

/* Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController */
static const smp_list_rule_t smp_rules_workload[] = {
    SMP_META(""),
    SMP_META("spec.template."),
    SMP_POD_SPEC("spec.template.spec."),
    {"status.conditions", "type"},
    SMP_END,
};

static const smp_list_rule_t smp_rules_cronjob[] = {
    SMP_META(""),
    SMP_META("spec.jobTemplate."),
    SMP_META("spec.jobTemplate.spec.template."),
    SMP_POD_SPEC("spec.jobTemplate.spec.template.spec."),
    SMP_END,
};

static const smp_list_rule_t smp_rules_service[] = {
    SMP_META(""),
    {"spec.ports", "port"},
    {"status.conditions", "type"},
    SMP_END,
};

static const smp_list_rule_t smp_rules_node[] = {
    SMP_META(""),
    {"spec.podCIDRs", NULL},
    {"status.conditions", "type"},
    {"status.addresses", "type"},
    SMP_END,
};

static const smp_list_rule_t smp_rules_conditions[] = {
    SMP_META(""),
    {"status.conditions", "type"},
    SMP_END,
};

static const smp_list_rule_t smp_rules_serviceaccount[] = {
    SMP_META(""),
    {"secrets", "name"},
    SMP_END,
};

static const struct {
    const char *kind;
    const smp_list_rule_t *rules;
} smp_kinds[] = {
    {"Pod", smp_rules_pod},
    {"PodTemplate", smp_rules_podtemplate},
    {"Deployment", smp_rules_workload},
    {"ReplicaSet", smp_rules_workload},
    {"DaemonSet", smp_rules_workload},
    {"StatefulSet", smp_rules_workload},
    {"Job", smp_rules_workload},
    {"ReplicationController", smp_rules_workload},
    {"CronJob", smp_rules_cronjob},
    {"Service", smp_rules_service},
    {"Node", smp_rules_node},
    {"Namespace", smp_rules_conditions},
    {"PersistentVolumeClaim", smp_rules_conditions},
    {"ServiceAccount", smp_rules_serviceaccount},
};

const smp_list_rule_t *patch_smp_rules_for_kind(const char *kind)
{
    if (kind)
        for (size_t i = 0; i < sizeof smp_kinds / sizeof smp_kinds[0]; i++)
            if (strcmp(smp_kinds[i].kind, kind) == 0) return smp_kinds[i].rules;
    return smp_rules_meta;
}

/* ---- strategic merge patch: engine -------------------------------------------------------- */

#define SMP_DIRECTIVE    "$patch"
#define SMP_RETAIN_KEYS  "$retainKeys"
#define SMP_SET_ORDER    "$setElementOrder"
#define SMP_DELETE_PRIMS "$deleteFromPrimitiveList"
#define SMP_UNMATCHABLE  '\x01' /* path byte for keys that cannot appear in a rule path */

typedef enum { SMP_ATOMIC, SMP_SET, SMP_KEYED } smp_list_kind_t;

typedef struct smp_ctx {
    const smp_list_rule_t *rules;
    char *errbuf;
    size_t errlen;
    char *path; /* dotted path of the current position, "[]" for list elements */
    size_t plen, pcap;
    int depth;
    bool lost; /* the path could not be grown: no rule matches any more */
} smp_ctx_t;

/* Appends ".key" (or "[]" when key is NULL); returns the previous length for smp_pop. */
static size_t smp_push(smp_ctx_t *c, const char *key, size_t klen)
{
    size_t old = c->plen;
    bool plain = key && memchr(key, '.', klen) == NULL && memchr(key, '[', klen) == NULL &&
                 memchr(key, '\0', klen) == NULL;
    size_t need = c->plen + (key ? (plain ? klen + 1 : 2) : 2) + 1;
    if (need > c->pcap) {
        size_t cap = c->pcap ? c->pcap : 128;
        while (cap < need)
            cap *= 2;
        char *np = realloc(c->path, cap);
        if (!np) {
            c->lost = true;
            c->depth++;
            return old;
        }
        c->path = np;
        c->pcap = cap;
    }
    if (!key) {
        memcpy(c->path + c->plen, "[]", 2);
        c->plen += 2;
    } else {
        if (c->plen) c->path[c->plen++] = '.';
        if (plain) {
            memcpy(c->path + c->plen, key, klen);
            c->plen += klen;
        } else {
            c->path[c->plen++] = SMP_UNMATCHABLE;
        }
    }
    c->path[c->plen] = '\0';
    c->depth++;
    return old;
}

static void smp_pop(smp_ctx_t *c, size_t old)
{
    c->plen = old;
    if (c->path) c->path[old] = '\0';
    c->depth--;
}

static const char *smp_where(smp_ctx_t *c)
{
    return c->plen ? c->path : "<root>";
}

static int smp_fail(smp_ctx_t *c, int rc, const char *what)
{
    return patch_err(c->errbuf, c->errlen, rc, "strategic merge patch: %s: %s", smp_where(c), what);
}

/* The list rule for the current path: kind and merge key. */
static smp_list_kind_t smp_rule(smp_ctx_t *c, const char **mk)
{
    *mk = NULL;
    if (!c->path || !c->rules || c->lost) return SMP_ATOMIC;
    for (const smp_list_rule_t *r = c->rules; r->path; r++) {
        if (strcmp(r->path, c->path) != 0) continue;
        if (!r->merge_key) return SMP_SET;
        if (!r->merge_key[0]) return SMP_ATOMIC;
        *mk = r->merge_key;
        return SMP_KEYED;
    }
    return SMP_ATOMIC;
}

static int smp_map(smp_ctx_t *c, json_t *orig, json_t *patch, json_t **out);
static int smp_list(smp_ctx_t *c, json_t *orig, json_t *patch, smp_list_kind_t kind, const char *mk,
                    json_t **out);

/* A patch value placed where the original has nothing (or a value of another type): directives
 * are resolved and nulls dropped. *out NULL means "nothing" (a map with $patch: delete). */
static int smp_clean(smp_ctx_t *c, json_t *pv, json_t **out)
{
    *out = NULL;
    if (json_is_object(pv)) {
        json_t *empty = json_object();
        if (!empty) return -ENOMEM;
        return smp_map(c, empty, pv, out);
    }
    if (!json_is_array(pv)) {
        *out = json_deep_copy(pv);
        return *out ? 0 : -ENOMEM;
    }
    const char *mk;
    smp_list_kind_t kind = smp_rule(c, &mk);
    if (kind == SMP_ATOMIC) {
        *out = json_deep_copy(pv);
        return *out ? 0 : -ENOMEM;
    }
    json_t *res = json_array();
    if (!res) return -ENOMEM;
    for (size_t i = 0; i < json_array_size(pv); i++) {
        json_t *e = json_array_get(pv, i), *ce = NULL;
        int rc = 0;
        if (json_is_object(e)) {
            json_t *d = json_object_get(e, SMP_DIRECTIVE);
            if (d && (str_is(d, "delete") || str_is(d, "replace"))) continue;
            size_t old = smp_push(c, NULL, 0);
            rc = smp_clean(c, e, &ce);
            smp_pop(c, old);
        } else {
            ce = json_deep_copy(e);
            if (!ce) rc = -ENOMEM;
        }
        if (rc < 0) {
            json_decref(res);
            return rc;
        }
        if (ce && json_array_append_new(res, ce) != 0) {
            json_decref(res);
            return -ENOMEM;
        }
    }
    *out = res;
    return 0;
}

/* The identity of a list element: its merge-key value for keyed lists, else the element. */
static json_t *smp_elem_id(json_t *e, const char *mk)
{
    if (!mk) return e;
    return json_is_object(e) ? json_object_get(e, mk) : NULL;
}

typedef struct smp_item {
    json_t *v; /* borrowed */
    long sort; /* primary sort key */
    long pos;  /* original position, for stability */
    long srv;  /* position of the element's identity in the server's list, or -1 */
} smp_item_t;

static int smp_item_cmp(const void *a, const void *b)
{
    const smp_item_t *x = a, *y = b;
    if (x->sort != y->sort) return x->sort < y->sort ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Kubernetes' normalizeElementOrder/mergeSortedSlice: patch items (sorted by the patch or
 * $setElementOrder order) interleaved with server-only items (sorted by the server order); a
 * server-only item goes first only when both are in the server list and it came earlier. */
static json_t *smp_merge_sorted(smp_item_t *srv, size_t ns, smp_item_t *pat, size_t np)
{
    qsort(srv, ns, sizeof *srv, smp_item_cmp);
    qsort(pat, np, sizeof *pat, smp_item_cmp);
    json_t *res = json_array();
    if (!res) return NULL;
    size_t i = 0, j = 0;
    while (i < ns || j < np) {
        json_t *v;
        if (i >= ns)
            v = pat[j++].v;
        else if (j >= np)
            v = srv[i++].v;
        else if (srv[i].srv >= 0 && pat[j].srv >= 0 && srv[i].srv < pat[j].srv)
            v = srv[i++].v;
        else
            v = pat[j++].v;
        if (json_array_append(res, v) != 0) {
            json_decref(res);
            return NULL;
        }
    }
    return res;
}

/* Orders merged: items whose identity appears in order (a key map of identities) first sorted
 * by it, the others by server (a key map of the server list's identities). */
static int smp_order(smp_ctx_t *c, json_t *merged, const char *mk, json_t *order, json_t *server,
                     json_t **out)
{
    size_t n = json_array_size(merged);
    smp_item_t *srv = calloc(n ? n : 1, sizeof *srv), *pat = calloc(n ? n : 1, sizeof *pat);
    size_t ns = 0, np = 0;
    int rc = 0;
    if (!srv || !pat) {
        rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(merged, i);
        json_t *id = smp_elem_id(e, mk);
        long oi = keymap_get(order, id);
        long si = keymap_get(server, id);
        if (oi >= 0)
            pat[np++] = (smp_item_t){e, oi, (long)i, si};
        else
            srv[ns++] = (smp_item_t){e, si >= 0 ? si : (long)i, (long)i, si};
    }
    *out = smp_merge_sorted(srv, ns, pat, np);
    if (!*out) rc = -ENOMEM;
done:
    free(srv);
    free(pat);
    return rc < 0 ? smp_fail(c, rc, "out of memory") : 0;
}

/* Key map of the identities of list's elements (first occurrence wins). */
static int smp_keymap(json_t *list, const char *mk, json_t **out)
{
    json_t *map = json_object();
    if (!map) return -ENOMEM;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *id = smp_elem_id(json_array_get(list, i), mk);
        if (id && keymap_add(map, id, i) < 0) {
            json_decref(map);
            return -ENOMEM;
        }
    }
    *out = map;
    return 0;
}

/* JSON type class for "all elements of a list have one type". */
static int smp_type_class(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        return JSON_REAL;
    case JSON_TRUE:
    case JSON_FALSE:
        return JSON_TRUE;
    default:
        return (int)json_typeof(v);
    }
}

/* Merges the patch list into orig (consumed) for a list with merge semantics. */
static int smp_list(smp_ctx_t *c, json_t *orig, json_t *patch, smp_list_kind_t kind, const char *mk,
                    json_t **out)
{
    *out = NULL;
    size_t no = json_array_size(orig), np = json_array_size(patch);
    if (no == 0 && np == 0) {
        *out = orig;
        return 0;
    }
    int cls = -1;
    for (size_t i = 0; i < no + np; i++) {
        json_t *e = i < no ? json_array_get(orig, i) : json_array_get(patch, i - no);
        int ec = smp_type_class(e);
        if (ec == JSON_ARRAY) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "lists of lists are not supported");
        }
        if (cls >= 0 && ec != cls) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "list element types are not identical");
        }
        cls = ec;
    }
    json_t *pmap = NULL, *smap = NULL, *merged = NULL;
    int rc = 0;

    if (cls != JSON_OBJECT) {
        if (kind == SMP_KEYED) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "list elements must be objects with a merge key");
        }
        /* ordered set union: unique values of both lists */
        merged = json_array();
        if (!merged || (rc = smp_keymap(patch, NULL, &pmap)) < 0 ||
            (rc = smp_keymap(orig, NULL, &smap)) < 0)
            goto nomem;
        json_t *seen = json_object();
        if (!seen) goto nomem;
        for (size_t i = 0; i < no + np && rc == 0; i++) {
            json_t *e = i < no ? json_array_get(orig, i) : json_array_get(patch, i - no);
            if (keymap_get(seen, e) >= 0) continue;
            if (keymap_add(seen, e, i) < 0 || json_array_append(merged, e) != 0) rc = -ENOMEM;
        }
        json_decref(seen);
        if (rc < 0) goto nomem;
        rc = smp_order(c, merged, NULL, pmap, smap, out);
        goto done;
    }

    if (kind != SMP_KEYED) {
        json_decref(orig);
        return smp_fail(c, -EINVAL, "cannot merge lists of objects without a merge key");
    }

    /* special elements: $patch delete / replace */
    json_t *plain = json_array(), *dels = json_object();
    if (!plain || !dels) {
        json_decref(plain);
        json_decref(dels);
        goto nomem;
    }
    bool replace = false;
    for (size_t i = 0; i < np; i++) {
        json_t *e = json_array_get(patch, i);
        json_t *d = json_object_get(e, SMP_DIRECTIVE);
        if (!d || str_is(d, "merge")) {
            if (json_array_append(plain, e) != 0) rc = -ENOMEM;
        } else if (str_is(d, "replace")) {
            replace = true;
        } else if (str_is(d, "delete")) {
            json_t *kv = json_object_get(e, mk);
            if (!kv) {
                json_decref(plain);
                json_decref(dels);
                json_decref(orig);
                return smp_fail(c, -EINVAL, "$patch: delete element has no merge key");
            }
            rc = keymap_add(dels, kv, i);
        } else {
            json_decref(plain);
            json_decref(dels);
            json_decref(orig);
            return smp_fail(c, -EINVAL, "unknown $patch directive in list element");
        }
        if (rc < 0) {
            json_decref(plain);
            json_decref(dels);
            goto nomem;
        }
    }
    /* every element whose key a deletion names goes, duplicates too */
    if (json_object_size(dels) > 0) {
        json_t *kept = json_array();
        for (size_t j = 0; kept && j < json_array_size(orig); j++) {
            json_t *e = json_array_get(orig, j);
            if (keymap_get(dels, json_object_get(e, mk)) < 0 && json_array_append(kept, e) != 0) {
                json_decref(kept);
                kept = NULL;
            }
        }
        if (!kept) {
            json_decref(plain);
            json_decref(dels);
            goto nomem;
        }
        json_decref(orig);
        orig = kept;
    }
    json_decref(dels);
    if (replace) {
        json_decref(orig);
        rc = smp_clean(c, plain, out);
        json_decref(plain);
        return rc;
    }

    /* merge each element into the one with the same key, or add it */
    if ((rc = smp_keymap(orig, mk, &smap)) < 0 || (rc = smp_keymap(plain, mk, &pmap)) < 0) {
        json_decref(plain);
        goto nomem;
    }
    json_t *where = json_deep_copy(smap); /* key -> position in the working list */
    if (!where) {
        json_decref(plain);
        goto nomem;
    }
    for (size_t i = 0; i < json_array_size(plain) && rc == 0; i++) {
        json_t *e = json_array_get(plain, i);
        json_t *kv = json_object_get(e, mk);
        if (!kv) {
            char msg[256];
            snprintf(msg, sizeof msg, "list element %zu has no merge key \"%s\"", i, mk);
            rc = smp_fail(c, -EINVAL, msg);
            break;
        }
        long at = keymap_get(where, kv);
        size_t old = smp_push(c, NULL, 0);
        json_t *r = NULL;
        if (at >= 0) {
            rc = smp_map(c, json_incref(json_array_get(orig, (size_t)at)), e, &r);
            if (rc == 0 && r && json_array_set_new(orig, (size_t)at, r) != 0) rc = -ENOMEM;
        } else {
            rc = smp_clean(c, e, &r);
            if (rc == 0 && r) {
                if (keymap_add(where, kv, json_array_size(orig)) < 0 ||
                    json_array_append_new(orig, r) != 0)
                    rc = -ENOMEM;
            }
        }
        smp_pop(c, old);
    }
    json_decref(where);
    json_decref(plain);
    if (rc < 0) {
        json_decref(pmap);
        json_decref(smap);
        json_decref(orig);
        return rc == -ENOMEM ? smp_fail(c, rc, "out of memory") : rc;
    }
    merged = json_incref(orig);
    rc = smp_order(c, merged, mk, pmap, smap, out);
    goto done;

nomem:
    rc = smp_fail(c, -ENOMEM, "out of memory");
done:
    json_decref(merged);
    json_decref(pmap);
    json_decref(smap);
    json_decref(orig);
    return rc;
}

/* Kubernetes' validatePatchWithSetOrderList: the patch list's elements (but deletions) appear in
 * the $setElementOrder list in the same relative order. */
static int smp_check_order(smp_ctx_t *c, json_t *plist, json_t *order, const char *mk)
{
    size_t np = json_array_size(plist), no = json_array_size(order);
    if (!np || !no) return 0;
    size_t pi = 0, oi = 0;
    while (pi < np && oi < no) {
        json_t *e = json_array_get(plist, pi), *o = json_array_get(order, oi);
        if (mk) {
            if (!json_is_object(e) || !json_is_object(o))
                return smp_fail(c, -EINVAL, "$setElementOrder and list elements must be objects");
            if (json_object_get(e, SMP_DIRECTIVE)) { /* deletions and markers */
                pi++;
                continue;
            }
            json_t *a = json_object_get(e, mk), *b = json_object_get(o, mk);
            if (!a || !b) return smp_fail(c, -EINVAL, "$setElementOrder element has no merge key");
            if (tree_equal(a, b)) pi++;
        } else if (tree_equal(e, o)) {
            pi++;
        }
        oi++;
    }
    while (pi < np && mk && json_is_object(json_array_get(plist, pi)) &&
           json_object_get(json_array_get(plist, pi), SMP_DIRECTIVE))
        pi++;
    if (pi < np)
        return smp_fail(c, -EINVAL,
                        "the order in the patch list doesn't match the "
                        "$setElementOrder list");
    return 0;
}

/* "$setElementOrder/<key>": merges the list (if the patch has it) and fixes the order. */
static int smp_set_order(smp_ctx_t *c, json_t *orig, json_t *patch, const char *key, size_t klen,
                         json_t *order)
{
    size_t old = smp_push(c, key, klen);
    int rc = 0;
    json_t *merged = NULL, *omap = NULL, *smap = NULL, *res = NULL;
    json_t *ov = json_object_getn(orig, key, klen), *pv = json_object_getn(patch, key, klen);
    const char *mk;
    smp_list_kind_t kind = smp_rule(c, &mk);
    if (!json_is_array(order)) {
        rc = smp_fail(c, -EINVAL, "$setElementOrder must be a list");
        goto out;
    }
    if ((ov && !json_is_array(ov)) || (pv && !json_is_array(pv))) {
        rc = smp_fail(c, -EINVAL, "$setElementOrder names a field that is not a list");
        goto out;
    }
    if ((rc = smp_check_order(c, pv, order, mk)) < 0) goto out;
    if (!ov && !pv) goto out;
    /* the server order is the list as it was, before the merge changes it in place */
    if (smp_keymap(ov, mk, &smap) < 0) {
        rc = smp_fail(c, -ENOMEM, "out of memory");
        goto out;
    }
    if (ov && !pv) {
        merged = json_incref(ov);
    } else if (!ov) {
        rc = smp_clean(c, pv, &merged);
    } else if (kind == SMP_ATOMIC) {
        merged = json_deep_copy(pv);
        if (!merged) rc = -ENOMEM;
    } else {
        rc = smp_list(c, json_incref(ov), pv, kind, mk, &merged);
    }
    if (rc < 0) goto out;
    if (json_array_size(merged) > 0) {
        for (size_t i = 0; i < json_array_size(order); i++) {
            json_t *o = json_array_get(order, i);
            if (mk && (!json_is_object(o) || !json_object_get(o, mk))) {
                rc = smp_fail(c, -EINVAL, "$setElementOrder element has no merge key");
                goto out;
            }
        }
        if (smp_keymap(order, mk, &omap) < 0) {
            rc = smp_fail(c, -ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = smp_order(c, merged, mk, omap, smap, &res)) < 0) goto out;
    } else {
        res = json_incref(merged);
    }
    if (json_object_setn_new_nocheck(orig, key, klen, res) != 0) rc = -ENOMEM;
out:
    json_decref(merged);
    json_decref(omap);
    json_decref(smap);
    smp_pop(c, old);
    return rc;
}

/* "$deleteFromPrimitiveList/<key>": drops the listed values from the original list. */
static int smp_delete_prims(smp_ctx_t *c, json_t *orig, const char *key, size_t klen, json_t *del)
{
    json_t *ov = json_object_getn(orig, key, klen);
    if (!json_is_array(ov) || json_array_size(del) == 0) return 0;
    json_t *dmap;
    if (smp_keymap(del, NULL, &dmap) < 0) return smp_fail(c, -ENOMEM, "out of memory");
    json_t *res = json_array();
    int rc = res ? 0 : -ENOMEM;
    for (size_t i = 0; i < json_array_size(ov) && rc == 0; i++) {
        json_t *e = json_array_get(ov, i);
        if (keymap_get(dmap, e) < 0 && json_array_append(res, e) != 0) rc = -ENOMEM;
    }
    json_decref(dmap);
    if (rc == 0 && json_object_setn_new_nocheck(orig, key, klen, res) != 0)
        rc = -ENOMEM;
    else if (rc < 0)
        json_decref(res);
    return rc < 0 ? smp_fail(c, rc, "out of memory") : 0;
}

/* Splits "<prefix>/<key>"; -EINVAL if the key is missing or the prefix is followed by
 * something else. */
static int smp_directive_key(const char *k, size_t klen, const char *prefix, const char **key,
                             size_t *keylen)
{
    size_t n = strlen(prefix);
    if (klen < n + 2 || k[n] != '/') return -EINVAL;
    *key = k + n + 1;
    *keylen = klen - n - 1;
    return 0;
}

/* Merges patch (an object, borrowed) into orig (an object, consumed). *out is the result, or
 * NULL when the patch deletes the map ($patch: delete). */
static int smp_map(smp_ctx_t *c, json_t *orig, json_t *patch, json_t **out)
{
    *out = NULL;
    int rc = 0;
    if (c->depth > PATCH_MAX_DEPTH + 2) {
        json_decref(orig);
        return smp_fail(c, -E2BIG, "nesting too deep");
    }
    json_t *d = json_object_get(patch, SMP_DIRECTIVE);
    if (d) {
        if (str_is(d, "delete")) {
            json_decref(orig);
            return 0;
        }
        if (str_is(d, "replace")) {
            json_decref(orig);
            orig = json_object();
            if (!orig) return smp_fail(c, -ENOMEM, "out of memory");
        } else if (!str_is(d, "merge")) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "unknown $patch directive (want replace, delete or merge)");
        }
    }

    const char *k;
    size_t klen;
    json_t *pv;

    json_t *retain = json_object_get(patch, SMP_RETAIN_KEYS);
    if (retain) {
        if (!json_is_array(retain)) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "$retainKeys must be a list");
        }
        json_t *keep = json_object(); /* the retained names, as a set */
        for (size_t i = 0; keep && i < json_array_size(retain); i++) {
            json_t *r = json_array_get(retain, i);
            if (json_is_string(r) &&
                json_object_setn_new_nocheck(keep, json_string_value(r), json_string_length(r),
                                             json_true()) != 0) {
                json_decref(keep);
                keep = NULL;
            }
        }
        if (!keep) {
            json_decref(orig);
            return smp_fail(c, -ENOMEM, "out of memory");
        }
        json_object_keylen_foreach(patch, k, klen, pv)
        {
            if (json_is_null(pv) || key_is(k, klen, SMP_DIRECTIVE) ||
                key_is(k, klen, SMP_RETAIN_KEYS) || key_has_prefix(k, klen, SMP_SET_ORDER) ||
                key_has_prefix(k, klen, SMP_DELETE_PRIMS))
                continue;
            if (!json_object_getn(keep, k, klen)) {
                json_decref(keep);
                json_decref(orig);
                return smp_fail(c, -EINVAL, "a field in the patch is missing from $retainKeys");
            }
        }
        void *n;
        json_object_keylen_foreach_safe(orig, n, k, klen, pv)
        {
            if (!json_object_getn(keep, k, klen)) json_object_deln(orig, k, klen);
        }
        json_decref(keep);
    }

    /* $setElementOrder lists first: they consume the list they name */
    json_object_keylen_foreach(patch, k, klen, pv)
    {
        if (!key_has_prefix(k, klen, SMP_SET_ORDER)) continue;
        const char *lk;
        size_t lklen;
        if (smp_directive_key(k, klen, SMP_SET_ORDER, &lk, &lklen) < 0) {
            json_decref(orig);
            return smp_fail(c, -EINVAL, "bad $setElementOrder key (want $setElementOrder/<list>)");
        }
        if ((rc = smp_set_order(c, orig, patch, lk, lklen, pv)) < 0) {
            json_decref(orig);
            return rc;
        }
    }

    json_object_keylen_foreach(patch, k, klen, pv)
    {
        if (key_is(k, klen, SMP_DIRECTIVE) || key_is(k, klen, SMP_RETAIN_KEYS) ||
            key_has_prefix(k, klen, SMP_SET_ORDER))
            continue;
        if (key_has_prefix(k, klen, SMP_DELETE_PRIMS)) {
            const char *lk;
            size_t lklen;
            if (smp_directive_key(k, klen, SMP_DELETE_PRIMS, &lk, &lklen) < 0) {
                rc = smp_fail(c, -EINVAL,
                              "bad $deleteFromPrimitiveList key (want "
                              "$deleteFromPrimitiveList/<list>)");
                break;
            }
            if (!json_is_array(pv)) {
                rc = smp_fail(c, -EINVAL, "$deleteFromPrimitiveList value must be a list");
                break;
            }
            if ((rc = smp_delete_prims(c, orig, lk, lklen, pv)) < 0) break;
            continue;
        }
        /* a list named by $setElementOrder was merged already */
        if (json_is_array(pv)) {
            size_t n = strlen(SMP_SET_ORDER) + 1;
            char *ok = malloc(n + klen + 1);
            if (!ok) {
                rc = smp_fail(c, -ENOMEM, "out of memory");
                break;
            }
            memcpy(ok, SMP_SET_ORDER "/", n);
            memcpy(ok + n, k, klen);
            bool handled = json_object_getn(patch, ok, n + klen) != NULL;
            free(ok);
            if (handled) continue;
        }

        size_t old = smp_push(c, k, klen);
        json_t *ov = json_object_getn(orig, k, klen), *r = NULL;
        if (json_is_null(pv)) {
            json_object_deln(orig, k, klen);
        } else if (json_is_object(ov) && json_is_object(pv)) {
            rc = smp_map(c, json_incref(ov), pv, &r);
        } else if (json_is_array(ov) && json_is_array(pv)) {
            const char *mk;
            smp_list_kind_t kind = smp_rule(c, &mk);
            if (kind == SMP_ATOMIC) {
                r = json_deep_copy(pv);
                if (!r) rc = smp_fail(c, -ENOMEM, "out of memory");
            } else {
                rc = smp_list(c, json_incref(ov), pv, kind, mk, &r);
            }
        } else {
            rc = smp_clean(c, pv, &r);
        }
        if (rc == 0 && !json_is_null(pv)) {
            if (r) {
                if (json_object_setn_new_nocheck(orig, k, klen, r) != 0)
                    rc = smp_fail(c, -ENOMEM, "out of memory");
            } else {
                json_object_deln(orig, k, klen);
            }
        }
        smp_pop(c, old);
        if (rc < 0) break;
    }
    if (rc < 0) {
        json_decref(orig);
        return rc;
    }
    *out = orig;
    return 0;
}

int patch_smp_apply(json_t *doc, json_t *patch, const smp_list_rule_t *rules, json_t **out,
                    char *errbuf, size_t errlen)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (!json_is_object(patch))
        return patch_err(errbuf, errlen, -EINVAL,
                         "strategic merge patch: the patch must be a JSON object");
    if (doc && !json_is_object(doc))
        return patch_err(errbuf, errlen, -EINVAL,
                         "strategic merge patch: the document must be a JSON object");
    if (jsonx_depth(doc, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH ||
        jsonx_depth(patch, PATCH_MAX_DEPTH) > PATCH_MAX_DEPTH)
        return patch_err(errbuf, errlen, -E2BIG,
                         "strategic merge patch: nesting deeper than %d levels", PATCH_MAX_DEPTH);
    json_t *orig = doc ? json_deep_copy(doc) : json_object();
    if (!orig) return -ENOMEM;
    smp_ctx_t c = {.rules = rules, .errbuf = errbuf, .errlen = errlen};
    json_t *res = NULL;
    int rc = smp_map(&c, orig, patch, &res);
    free(c.path);
    if (rc < 0) return rc;
    if (!res) res = json_object(); /* "$patch": "delete" at the top: nothing is left */
    if (!res) return -ENOMEM;
    *out = res;
    return 0;
}

/* ---- merge-patch diff ------------------------------------------------------------------ */

static json_t *merge_diff(json_t *from, json_t *to, int depth)
{
    if (tree_equal(from, to)) return NULL;
    if (!json_is_object(from) || !json_is_object(to) || depth >= PATCH_MAX_DEPTH)
        return to ? json_deep_copy(to) : json_null();
    json_t *p = json_object();
    if (!p) return NULL;
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(from, k, klen, v)
    {
        if (!json_object_getn(to, k, klen)) json_object_setn_new_nocheck(p, k, klen, json_null());
    }
    json_object_keylen_foreach(to, k, klen, v)
    {
        json_t *fv = json_object_getn(from, k, klen);
        json_t *d = fv ? merge_diff(fv, v, depth + 1) : json_deep_copy(v);
        if (d) json_object_setn_new_nocheck(p, k, klen, d);
    }
    if (json_object_size(p) == 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

json_t *patch_merge_diff(json_t *from, json_t *to)
{
    return merge_diff(from, to, 0);
}
