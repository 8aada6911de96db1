/* envexpand: Kubernetes $(VAR) expansion and container environment assembly (envFrom, env,
 * valueFrom with the downward API, ConfigMap and Secret keys); see envexpand.h. */
#include "kubelet/envexpand.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"

void envlist_set(envlist_t *l, const char *name, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0) {
            free(l->values[i]);
            l->values[i] = strdup(value);
            return;
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->names = realloc(l->names, l->cap * sizeof *l->names);
        l->values = realloc(l->values, l->cap * sizeof *l->values);
    }
    l->names[l->n] = strdup(name);
    l->values[l->n] = strdup(value);
    l->n++;
}

const char *envlist_get(const envlist_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0) return l->values[i];
    return NULL;
}

static const char *envlist_getn(const envlist_t *l, const char *name, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->names[i], name, len) == 0 && l->names[i][len] == '\0') return l->values[i];
    return NULL;
}

char **envlist_environ(const envlist_t *l)
{
    char **env = calloc(l->n + 1, sizeof *env);
    for (size_t i = 0; i < l->n; i++) {
        size_t a = strlen(l->names[i]), b = strlen(l->values[i]);
        env[i] = malloc(a + b + 2);
        memcpy(env[i], l->names[i], a);
        env[i][a] = '=';
        memcpy(env[i] + a + 1, l->values[i], b + 1);
    }
    return env;
}

void envlist_environ_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

void envlist_free(envlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->names[i]);
        free(l->values[i]);
    }
    free(l->names);
    free(l->values);
    memset(l, 0, sizeof *l);
}

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 64;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* third_party/forked/golang/expansion.Expand, byte for byte */
char *envexpand(const char *in, const envlist_t *l)
{
    sbuf_t b = {0};
    sb_add(&b, "", 0);
    size_t len = strlen(in), checkpoint = 0;
    for (size_t cur = 0; cur < len; cur++) {
        if (in[cur] != '$' || cur + 1 >= len) continue;
        sb_add(&b, in + checkpoint, cur - checkpoint);
        const char *rest = in + cur + 1;
        size_t advance = 1;
        if (rest[0] == '$') {
            sb_add(&b, "$", 1);
        } else if (rest[0] == '(') {
            const char *close = strchr(rest + 1, ')');
            if (close) {
                size_t nlen = (size_t)(close - rest - 1);
                const char *v = envlist_getn(l, rest + 1, nlen);
                if (v)
                    sb_add(&b, v, strlen(v));
                else
                    sb_add(&b, rest - 1, nlen + 3); /* "$(NAME)" as written */
                advance = nlen + 2;
            } else {
                sb_add(&b, "$(", 2);
            }
        } else {
            sb_add(&b, rest - 1, 2);
        }
        cur += advance;
        checkpoint = cur + 1;
    }
    sb_add(&b, in + checkpoint, len - checkpoint);
    return b.s;
}

/* "metadata.labels['key']" -> key in buf; 0 if path has that form. */
static int subscript(const char *path, const char *prefix, char *buf, size_t len)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0 || path[pl] != '[') return -1;
    const char *s = path + pl + 1;
    char q = *s;
    if (q != '\'' && q != '"') return -1;
    const char *e = strchr(s + 1, q);
    if (!e || e[1] != ']' || e[2] != '\0') return -1;
    snprintf(buf, len, "%.*s", (int)(e - s - 1), s + 1);
    return 0;
}

char *envexpand_fieldref(json_t *pod, const char *path, const char *pod_ip, const char *host_ip)
{
    char key[512];
    if (strcmp(path, "metadata.name") == 0 || strcmp(path, "metadata.namespace") == 0 ||
        strcmp(path, "metadata.uid") == 0 || strcmp(path, "spec.nodeName") == 0 ||
        strcmp(path, "spec.serviceAccountName") == 0)
        return strdup(jsonx_str(pod, path, ""));
    if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0)
        return strdup(pod_ip ? pod_ip : jsonx_str(pod, "status.podIP", ""));
    if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0)
        return strdup(host_ip ? host_ip : jsonx_str(pod, "status.hostIP", ""));
    if (subscript(path, "metadata.labels", key, sizeof key) == 0) {
        json_t *v = json_object_get(jsonx_get(pod, "metadata.labels"), key);
        return strdup(json_is_string(v) ? json_string_value(v) : "");
    }
    if (subscript(path, "metadata.annotations", key, sizeof key) == 0) {
        json_t *v = json_object_get(jsonx_get(pod, "metadata.annotations"), key);
        return strdup(json_is_string(v) ? json_string_value(v) : "");
    }
    return NULL;
}

char *envexpand_base64(const char *in, size_t *len)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in);
    char *out = malloc(n / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (isspace((unsigned char)c)) continue;
        if (c == '=') {
            pad++;
            continue;
        }
        const char *p = strchr(alpha, c);
        if (!p || !c || pad) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(p - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* A resource.Quantity as a double in base units ("500m" -> 0.5, "1Gi" -> 1073741824). */
static int parse_quantity(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    static const struct {
        const char *suf;
        double mul;
    } sufs[] = {{"m", 1e-3},
                {"k", 1e3},
                {"M", 1e6},
                {"G", 1e9},
                {"T", 1e12},
                {"P", 1e15},
                {"E", 1e18},
                {"Ki", 1024.0},
                {"Mi", 1048576.0},
                {"Gi", 1073741824.0},
                {"Ti", 1099511627776.0},
                {"Pi", 1125899906842624.0},
                {"Ei", 1152921504606846976.0},
                {"", 1}};
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
        if (strcmp(end, sufs[i].suf) == 0) {
            *out = v * sufs[i].mul;
            return 0;
        }
    return -1;
}

static char *resource_field(json_t *pod, json_t *container, json_t *ref, const env_lookup_t *lk,
                            char *err, size_t errlen)
{
    const char *res = jsonx_str(ref, "resource", "");
    const char *cname = jsonx_str(ref, "containerName", "");
    json_t *c = container;
    if (*cname) {
        c = NULL;
        size_t i;
        json_t *x;
        json_array_foreach(jsonx_get(pod, "spec.containers"), i,
                           x) if (strcmp(jsonx_str(x, "name", ""), cname) == 0) c = x;
        if (!c) {
            snprintf(err, errlen, "resourceFieldRef: container \"%s\" not found", cname);
            return NULL;
        }
    }
    const char *dot = strchr(res, '.');
    if (!dot) {
        snprintf(err, errlen, "resourceFieldRef: unsupported resource \"%s\"", res);
        return NULL;
    }
    char kind[16];
    snprintf(kind, sizeof kind, "%.*s", (int)(dot - res), res);
    const char *what = dot + 1;
    bool cpu = strcmp(what, "cpu") == 0;
    bool mem = strcmp(what, "memory") == 0 || strcmp(what, "ephemeral-storage") == 0;
    if ((strcmp(kind, "limits") && strcmp(kind, "requests")) || (!cpu && !mem)) {
        snprintf(err, errlen, "resourceFieldRef: unsupported resource \"%s\"", res);
        return NULL;
    }
    double v = 0, div = 1;
    json_t *q = jsonx_get(json_object_get(json_object_get(c, "resources"), kind), what);
    const char *qs = json_is_string(q) ? json_string_value(q) : NULL;
    char num[64];
    if (json_is_number(q)) {
        snprintf(num, sizeof num, "%g", json_number_value(q));
        qs = num;
    }
    if (qs) {
        if (parse_quantity(qs, &v)) {
            snprintf(err, errlen, "resourceFieldRef: invalid quantity \"%s\"", qs);
            return NULL;
        }
    } else if (strcmp(kind, "limits") == 0) {
        v = cpu ? (double)lk->node_cpus : (double)lk->node_mem_bytes;
    }
    json_t *d = json_object_get(ref, "divisor");
    if (json_is_string(d) && parse_quantity(json_string_value(d), &div)) div = 1;
    if (json_is_number(d)) div = json_number_value(d);
    if (div <= 0) div = 1;
    char buf[64];
    snprintf(buf, sizeof buf, "%.0f", ceil(v / div - 1e-9));
    return strdup(buf);
}

/* The string value of key in a ConfigMap (data, then binaryData decoded) or a Secret (data
 * decoded, then stringData). Malloc'd or NULL. */
static char *obj_key(json_t *obj, const char *kind, const char *key)
{
    bool secret = strcmp(kind, "secret") == 0;
    json_t *v = jsonx_get(json_object_get(obj, "data"), key);
    if (json_is_string(v)) {
        if (!secret) return strdup(json_string_value(v));
        size_t n;
        return envexpand_base64(json_string_value(v), &n);
    }
    v = jsonx_get(json_object_get(obj, secret ? "stringData" : "binaryData"), key);
    if (!json_is_string(v)) return NULL;
    if (secret) return strdup(json_string_value(v));
    size_t n;
    return envexpand_base64(json_string_value(v), &n);
}

static bool valid_env_name(const char *s)
{
    if (!*s || isdigit((unsigned char)*s)) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return false;
    return true;
}

static int add_env_from(json_t *src, const env_lookup_t *lk, envlist_t *l, char *err, size_t errlen)
{
    const char *prefix = jsonx_str(src, "prefix", "");
    for (int s = 0; s < 2; s++) {
        const char *kind = s ? "secret" : "configmap";
        json_t *ref = json_object_get(src, s ? "secretRef" : "configMapRef");
        if (!json_is_object(ref)) continue;
        const char *name = jsonx_str(ref, "name", "");
        json_t *obj = lk->get ? lk->get(lk->ud, kind, name) : NULL;
        if (!obj) {
            if (jsonx_bool(ref, "optional")) continue;
            snprintf(err, errlen, "%s \"%s\" not found", kind, name);
            return -1;
        }
        for (int f = 0; f < 2; f++) {
            const char *field = f ? (s ? "stringData" : "binaryData") : "data";
            const char *k;
            json_t *v;
            json_object_foreach(json_object_get(obj, field), k, v)
            {
                char full[600];
                snprintf(full, sizeof full, "%s%s", prefix, k);
                if (!valid_env_name(full)) continue;
                char *val = obj_key(obj, kind, k);
                if (val) envlist_set(l, full, val);
                free(val);
            }
        }
    }
    return 0;
}

int envexpand_container_env(json_t *pod, json_t *container, const env_lookup_t *lk, envlist_t *l,
                            char *err, size_t errlen)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(container, "envFrom"), i, e)
    {
        if (add_env_from(e, lk, l, err, errlen)) return -1;
    }
    json_array_foreach(json_object_get(container, "env"), i, e)
    {
        const char *name = jsonx_str(e, "name", "");
        if (!*name) continue;
        json_t *vf = json_object_get(e, "valueFrom");
        char *val = NULL;
        if (!json_is_object(vf)) {
            val = envexpand(jsonx_str(e, "value", ""), l);
        } else if (json_is_object(json_object_get(vf, "fieldRef"))) {
            const char *path = jsonx_str(vf, "fieldRef.fieldPath", "");
            val = envexpand_fieldref(pod, path, lk->pod_ip, lk->host_ip);
            if (!val) {
                snprintf(err, errlen, "env %s: unsupported fieldRef fieldPath \"%s\"", name, path);
                return -1;
            }
        } else if (json_is_object(json_object_get(vf, "resourceFieldRef"))) {
            val = resource_field(pod, container, json_object_get(vf, "resourceFieldRef"), lk, err,
                                 errlen);
            if (!val) return -1;
        } else {
            bool secret = json_is_object(json_object_get(vf, "secretKeyRef"));
            json_t *ref = json_object_get(vf, secret ? "secretKeyRef" : "configMapKeyRef");
            if (!json_is_object(ref)) {
                snprintf(err, errlen, "env %s: unsupported valueFrom", name);
                return -1;
            }
            const char *kind = secret ? "secret" : "configmap";
            const char *oname = jsonx_str(ref, "name", ""), *key = jsonx_str(ref, "key", "");
            json_t *obj = lk->get ? lk->get(lk->ud, kind, oname) : NULL;
            bool optional = jsonx_bool(ref, "optional");
            if (!obj) {
                if (optional) continue;
                snprintf(err, errlen, "%s \"%s\" not found", kind, oname);
                return -1;
            }
            val = obj_key(obj, kind, key);
            if (!val) {
                if (optional) continue;
                snprintf(err, errlen, "couldn't find key %s in %s %s/%s", key,
                         secret ? "Secret" : "ConfigMap", jsonx_str(pod, "metadata.namespace", ""),
                         oname);
                return -1;
            }
        }
        envlist_set(l, name, val);
        free(val);
    }
    return 0;
}
