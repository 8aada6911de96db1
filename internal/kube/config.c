/* config: the client's connection settings. Owns kubeconfig parsing (current-context -> context ->
 * cluster + user, inline -data fields decoded with OpenSSL, file fields relative to the
 * kubeconfig), the in-cluster service-account configuration, the load order, and token re-reads. */
#include "kube/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/strbuf.h"
#include "base/yamljson.h"

#define DEFAULT_SA_DIR      "/var/run/secrets/kubernetes.io/serviceaccount"
#define TOKEN_REREAD_S      60
#define MAX_REFERENCED_FILE (16u << 20)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Reads a whole regular file (at most MAX_REFERENCED_FILE bytes) into a NUL-terminated buffer.
 * Returns 0 or a negative errno. */
static int read_file(const char *path, char **out, size_t *outlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return -EISDIR;
    }
    strbuf_t b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.n + n > MAX_REFERENCED_FILE) {
            fclose(f);
            strbuf_free(&b);
            return -EFBIG;
        }
        strbuf_putn(&b, chunk, n);
    }
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc) {
        strbuf_free(&b);
        return rc;
    }
    *out = b.p ? b.p : strdup("");
    if (!*out) return -ENOMEM;
    if (outlen) *outlen = b.n;
    return 0;
}

/* A copy of s without leading and trailing whitespace. */
static char *dup_trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return strndup(s, n);
}

static kube_config_t *config_alloc(void)
{
    kube_config_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void kube_config_free(kube_config_t *cfg)
{
    if (!cfg) return;
    free(cfg->server);
    free(cfg->ca_pem);
    free(cfg->cert_pem);
    free(cfg->key_pem);
    free(cfg->token);
    free(cfg->token_file);
    free(cfg->namespace_);
    free(cfg->source);
    free(cfg->cached_token);
    pthread_mutex_destroy(&cfg->mu);
    free(cfg);
}

/* ---------- kubeconfig ---------- */

typedef struct parse_ctx {
    const char *path; /* for messages */
    char dir[PATH_MAX];
    char *err;
    size_t errlen;
} parse_ctx_t;

static void perr(const parse_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void perr(const parse_ctx_t *ctx, const char *fmt, ...)
{
    if (!ctx->err || !ctx->errlen) return;
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&m, fmt, ap);
    va_end(ap);
    set_err(ctx->err, ctx->errlen, "kubeconfig %s: %s", ctx->path, n >= 0 ? m : "out of memory");
    if (n >= 0) free(m);
}
#define PERR perr

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a map";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Optional string field: 0 with *out NULL when missing or null, -EINVAL for another type. */
static int opt_str(parse_ctx_t *ctx, json_t *obj, const char *key, const char *where,
                   const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) {
        PERR(ctx, "%s.%s: expected a string, got %s", where, key, json_type_name(v));
        return -EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

/* Finds the entry named name in the list top[key] ("clusters", "contexts", "users") and returns
 * its inner map (entry[inner]) and its index. Missing entry: -ENOENT (no message). */
static int find_named(parse_ctx_t *ctx, json_t *top, const char *key, const char *inner,
                      const char *name, json_t **out, size_t *index)
{
    *out = NULL;
    json_t *list = json_object_get(top, key);
    if (!list || json_is_null(list)) return -ENOENT;
    if (!json_is_array(list)) {
        PERR(ctx, "%s: expected a list, got %s", key, json_type_name(list));
        return -EINVAL;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_is_object(e)) {
            PERR(ctx, "%s[%zu]: expected a map, got %s", key, i, json_type_name(e));
            return -EINVAL;
        }
        json_t *n = json_object_get(e, "name");
        if (!json_is_string(n)) {
            PERR(ctx, "%s[%zu].name: expected a string", key, i);
            return -EINVAL;
        }
        if (strcmp(json_string_value(n), name) != 0) continue;
        json_t *in = json_object_get(e, inner);
        if (in && !json_is_null(in) && !json_is_object(in)) {
            PERR(ctx, "%s[%zu].%s: expected a map, got %s", key, i, inner, json_type_name(in));
            return -EINVAL;
        }
        *out = json_is_object(in) ? in : NULL;
        *index = i;
        if (!*out) {
            PERR(ctx, "%s[%zu].%s: missing", key, i, inner);
            return -EINVAL;
        }
        return 0;
    }
    return -ENOENT;
}

/* Base64 (standard alphabet, padding, line breaks allowed) to a NUL-terminated buffer, through
 * OpenSSL's EVP decoder. Returns 0 or -EINVAL. */
static int b64_decode(const char *in, char **out, size_t *outlen)
{
    size_t inlen = strlen(in);
    if (inlen > INT_MAX / 2) return -EINVAL;
    unsigned char *buf = malloc(inlen / 4 * 3 + 4 + 1);
    if (!buf) return -ENOMEM;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    if (!ctx) {
        free(buf);
        return -ENOMEM;
    }
    EVP_DecodeInit(ctx);
    int n = 0, fin = 0;
    int rc = EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)in, (int)inlen);
    if (rc < 0 || EVP_DecodeFinal(ctx, buf + n, &fin) < 0) {
        EVP_ENCODE_CTX_free(ctx);
        free(buf);
        return -EINVAL;
    }
    EVP_ENCODE_CTX_free(ctx);
    n += fin;
    buf[n] = 0;
    *out = (char *)buf;
    if (outlen) *outlen = (size_t)n;
    return 0;
}

static void resolve_path(parse_ctx_t *ctx, const char *file, char *buf, size_t len)
{
    if (file[0] == '/' || !ctx->dir[0])
        snprintf(buf, len, "%s", file);
    else
        snprintf(buf, len, "%s/%s", ctx->dir, file);
}

/* Reads PEM material from "<field>-data" (base64) or "<field>" (a file path) of obj.
 * where is "users[0].user" for messages. *out stays NULL when neither is set. */
static int load_pem(parse_ctx_t *ctx, json_t *obj, const char *where, const char *field, char **out)
{
    *out = NULL;
    char datakey[96];
    snprintf(datakey, sizeof datakey, "%s-data", field);
    const char *data, *file;
    if (opt_str(ctx, obj, datakey, where, &data) || opt_str(ctx, obj, field, where, &file))
        return -EINVAL;
    if (data && *data) {
        size_t n;
        if (b64_decode(data, out, &n) != 0) {
            PERR(ctx, "%s.%s: not valid base64", where, datakey);
            return -EINVAL;
        }
        if (n == 0 || memchr(*out, 0, n) || !strstr(*out, "-----BEGIN ")) {
            free(*out);
            *out = NULL;
            PERR(ctx, "%s.%s: not PEM data after base64 decoding", where, datakey);
            return -EINVAL;
        }
        return 0;
    }
    if (file && *file) {
        char full[PATH_MAX + 64];
        resolve_path(ctx, file, full, sizeof full);
        size_t n;
        int rc = read_file(full, out, &n);
        if (rc) {
            PERR(ctx, "%s.%s: cannot read %s: %s", where, field, full, strerror(-rc));
            return rc;
        }
        if (n == 0 || memchr(*out, 0, n) || !strstr(*out, "-----BEGIN ")) {
            free(*out);
            *out = NULL;
            PERR(ctx, "%s.%s: %s holds no PEM data", where, field, full);
            return -EINVAL;
        }
    }
    return 0;
}

static int parse_cluster(parse_ctx_t *ctx, json_t *cl, size_t idx, kube_config_t *c)
{
    char where[64];
    snprintf(where, sizeof where, "clusters[%zu].cluster", idx);
    const char *server;
    if (opt_str(ctx, cl, "server", where, &server)) return -EINVAL;
    if (!server || !*server) {
        PERR(ctx, "%s.server: missing", where);
        return -EINVAL;
    }
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0) {
        PERR(ctx, "%s.server: \"%s\" is not an http:// or https:// URL", where, server);
        return -EINVAL;
    }
    c->server = strdup(server);
    if (!c->server) {
        PERR(ctx, "%s.server: out of memory", where);
        return -ENOMEM;
    }
    size_t n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = 0;
    json_t *ins = json_object_get(cl, "insecure-skip-tls-verify");
    if (ins && !json_is_null(ins)) {
        if (!json_is_boolean(ins)) {
            PERR(ctx, "%s.insecure-skip-tls-verify: expected a boolean, got %s", where,
                 json_type_name(ins));
            return -EINVAL;
        }
        c->insecure = json_is_true(ins);
    }
    return load_pem(ctx, cl, where, "certificate-authority", &c->ca_pem);
}

static int parse_user(parse_ctx_t *ctx, json_t *u, size_t idx, kube_config_t *c)
{
    char where[64];
    snprintf(where, sizeof where, "users[%zu].user", idx);
    static const char *const unsupported[] = {"exec", "auth-provider", "username"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        json_t *v = json_object_get(u, unsupported[i]);
        if (v && !json_is_null(v)) {
            PERR(ctx, "%s.%s: not supported (use a token, a token file or a client certificate)",
                 where, unsupported[i]);
            return -ENOTSUP;
        }
    }
    if (load_pem(ctx, u, where, "client-certificate", &c->cert_pem) ||
        load_pem(ctx, u, where, "client-key", &c->key_pem))
        return -EINVAL;
    if (!c->cert_pem != !c->key_pem) {
        PERR(ctx, "%s: %s without %s", where, c->cert_pem ? "client-certificate" : "client-key",
             c->cert_pem ? "client-key" : "client-certificate");
        return -EINVAL;
    }
    const char *token, *token_file;
    if (opt_str(ctx, u, "token", where, &token) || opt_str(ctx, u, "tokenFile", where, &token_file))
        return -EINVAL;
    if (token && *token && !(c->token = strdup(token))) return -ENOMEM;
    if (token_file && *token_file) {
        char full[PATH_MAX + 64];
        resolve_path(ctx, token_file, full, sizeof full);
        char *text;
        int rc = read_file(full, &text, NULL);
        if (rc) {
            PERR(ctx, "%s.tokenFile: cannot read %s: %s", where, full, strerror(-rc));
            return rc;
        }
        c->token_file = strdup(full);
        c->cached_token = dup_trimmed(text);
        c->token_read_at = mono_s();
        free(text);
        if (!c->token_file || !c->cached_token) return -ENOMEM;
    }
    return 0;
}

int kube_config_parse(const char *text, size_t len, const char *path, kube_config_t **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    parse_ctx_t ctx = {.path = path && *path ? path : "(inline)", .err = err, .errlen = errlen};
    if (path && *path) {
        const char *slash = strrchr(path, '/');
        if (slash) {
            size_t n = (size_t)(slash - path);
            if (n == 0) n = 1; /* "/kubeconfig" -> "/" */
            if (n < sizeof ctx.dir) snprintf(ctx.dir, sizeof ctx.dir, "%.*s", (int)n, path);
        }
    }
    char yerr[256] = "";
    json_t *root = yamljson_parse(text ? text : "", text ? len : 0, yerr, sizeof yerr);
    if (!root) {
        PERR(&ctx, "not valid YAML: %s", yerr);
        return -EINVAL;
    }
    int rc = -EINVAL;
    kube_config_t *c = NULL;
    if (json_is_null(root)) {
        PERR(&ctx, "empty file");
        goto out;
    }
    if (!json_is_object(root)) {
        PERR(&ctx, "expected a map at the top, got %s", json_type_name(root));
        goto out;
    }
    const char *cur;
    if (opt_str(&ctx, root, "current-context", "(top)", &cur)) goto out;
    if (!cur || !*cur) {
        PERR(&ctx, "current-context: not set");
        goto out;
    }
    json_t *cx, *cl, *us = NULL;
    size_t cx_i, cl_i, us_i = 0;
    rc = find_named(&ctx, root, "contexts", "context", cur, &cx, &cx_i);
    if (rc == -ENOENT) {
        PERR(&ctx, "current-context: context \"%s\" not found", cur);
        rc = -EINVAL;
    }
    if (rc) goto out;
    rc = -EINVAL;
    char where[64];
    snprintf(where, sizeof where, "contexts[%zu].context", cx_i);
    const char *cluster_name, *user_name, *ns;
    if (opt_str(&ctx, cx, "cluster", where, &cluster_name) ||
        opt_str(&ctx, cx, "user", where, &user_name) || opt_str(&ctx, cx, "namespace", where, &ns))
        goto out;
    if (!cluster_name || !*cluster_name) {
        PERR(&ctx, "%s.cluster: missing", where);
        goto out;
    }
    rc = find_named(&ctx, root, "clusters", "cluster", cluster_name, &cl, &cl_i);
    if (rc == -ENOENT) {
        PERR(&ctx, "context \"%s\": cluster \"%s\" not found", cur, cluster_name);
        rc = -EINVAL;
    }
    if (rc) goto out;
    if (user_name && *user_name) {
        rc = find_named(&ctx, root, "users", "user", user_name, &us, &us_i);
        if (rc == -ENOENT) {
            PERR(&ctx, "context \"%s\": user \"%s\" not found", cur, user_name);
            rc = -EINVAL;
        }
        if (rc) goto out;
    }
    rc = -ENOMEM;
    c = config_alloc();
    if (!c) goto out;
    if ((rc = parse_cluster(&ctx, cl, cl_i, c)) != 0) goto out;
    if (us && (rc = parse_user(&ctx, us, us_i, c)) != 0) goto out;
    c->namespace_ = strdup(ns && *ns ? ns : "default");
    c->source = strdup(ctx.path);
    rc = !c->namespace_ || !c->source ? -ENOMEM : 0;
    if (rc) goto out;
    *out = c;
    c = NULL;
out:
    kube_config_free(c);
    json_decref(root);
    return rc;
}

/* ---------- in-cluster ---------- */

int kube_config_in_cluster(const char *sa_dir, kube_config_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!sa_dir || !*sa_dir) sa_dir = DEFAULT_SA_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port) {
        set_err(err, errlen,
                "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
        return -ENOENT;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/token", sa_dir);
    char *token;
    int rc = read_file(path, &token, NULL);
    if (rc) {
        set_err(err, errlen, "in-cluster: cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    kube_config_t *c = config_alloc();
    if (!c) {
        free(token);
        return -ENOMEM;
    }
    c->token_file = strdup(path);
    c->cached_token = dup_trimmed(token);
    c->token_read_at = mono_s();
    free(token);
    if (!c->token_file || !c->cached_token) {
        kube_config_free(c);
        return -ENOMEM;
    }

    strbuf_t s = {0};
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    strbuf_printf(&s, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    c->server = s.p;
    if (!c->server) {
        kube_config_free(c);
        return -ENOMEM;
    }

    /* As client-go: a missing or unreadable CA bundle leaves the system roots in place. */
    snprintf(path, sizeof path, "%s/ca.crt", sa_dir);
    if (read_file(path, &c->ca_pem, NULL) == 0 && !strstr(c->ca_pem, "-----BEGIN ")) {
        free(c->ca_pem);
        c->ca_pem = NULL;
    }
    snprintf(path, sizeof path, "%s/namespace", sa_dir);
    char *ns;
    if (read_file(path, &ns, NULL) == 0) {
        c->namespace_ = dup_trimmed(ns);
        free(ns);
        if (c->namespace_ && !*c->namespace_) {
            free(c->namespace_);
            c->namespace_ = NULL;
        }
    }
    if (!c->namespace_) c->namespace_ = strdup("default");
    c->source = strdup("in-cluster");
    if (!c->namespace_ || !c->source) {
        kube_config_free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

/* ---------- load order ---------- */

static int load_file(const char *path, kube_config_t **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rc = read_file(path, &text, &len);
    if (rc) {
        set_err(err, errlen, "kubeconfig %s: cannot read: %s", path, strerror(-rc));
        return rc;
    }
    rc = kube_config_parse(text, len, path, out, err, errlen);
    free(text);
    return rc;
}

int kube_config_load(const char *explicit_path, kube_config_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (explicit_path && *explicit_path) return load_file(explicit_path, out, err, errlen);

    strbuf_t tried = {0};
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
        char *list = strdup(env), *save = NULL;
        for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
            if (access(p, F_OK) == 0) {
                int rc = load_file(p, out, err, errlen);
                free(list);
                strbuf_free(&tried);
                return rc;
            }
        }
        free(list);
        strbuf_printf(&tried, "$KUBECONFIG=%s (no such file); ", env);
    }
    const char *home = getenv("HOME");
    if (home && *home) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/.kube/config", home);
        if (access(path, F_OK) == 0) {
            strbuf_free(&tried);
            return load_file(path, out, err, errlen);
        }
        strbuf_printf(&tried, "%s (no such file); ", path);
    }
    char icerr[512] = "";
    int rc = kube_config_in_cluster(NULL, out, icerr, sizeof icerr);
    if (rc == 0) {
        strbuf_free(&tried);
        return 0;
    }
    set_err(err, errlen, "no Kubernetes configuration found: tried %s%s", strbuf_str(&tried),
            icerr);
    strbuf_free(&tried);
    return rc == -ENOMEM ? rc : -ENOENT;
}

/* ---------- tokens ---------- */

char *kube_config_token(kube_config_t *cfg, bool force_reread)
{
    if (!cfg) return NULL;
    if (!cfg->token_file) return cfg->token ? strdup(cfg->token) : NULL;
    pthread_mutex_lock(&cfg->mu);
    time_t now = mono_s();
    if (force_reread || !cfg->cached_token || now - cfg->token_read_at >= TOKEN_REREAD_S) {
        char *text;
        if (read_file(cfg->token_file, &text, NULL) == 0) {
            char *t = dup_trimmed(text);
            free(text);
            if (t && *t) {
                free(cfg->cached_token);
                cfg->cached_token = t;
            } else {
                free(t); /* a file being rewritten: keep the last good token */
            }
        }
        cfg->token_read_at = now;
    }
    const char *tok = cfg->cached_token && *cfg->cached_token ? cfg->cached_token : cfg->token;
    char *ret = tok ? strdup(tok) : NULL;
    pthread_mutex_unlock(&cfg->mu);
    return ret;
}
