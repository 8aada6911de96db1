/* client: the blocking Kubernetes REST client over libcurl easy handles (one per calling thread,
 * kept for keep-alive): TLS and bearer tokens from kube_config, the QPS bucket, Retry-After
 * retries, 401 token re-reads, metrics, Warning headers, paths and the typed helpers. */
#include "kube/client.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "kube/ratelimit.h"

#define DEFAULT_UA          "sandbox-controller/0.1 (linux/amd64)"
#define DEFAULT_TIMEOUT_MS  30000L
#define DEFAULT_MAX_RETRIES 10
#define MAX_RETRY_AFTER_S   10.0
#define CONNECT_TIMEOUT_MS  10000L
#define GET_TRANSPORT_TRIES 3 /* extra attempts of a GET after a transport error */
#define LIST_PAGE_LIMIT     500
#define MAX_LIST_PAGES      100000

/* ---------- resources ---------- */

const kube_resource_t KUBE_RES_PODS = {"", "v1", "pods", "Pod", true};
const kube_resource_t KUBE_RES_CONFIGMAPS = {"", "v1", "configmaps", "ConfigMap", true};
const kube_resource_t KUBE_RES_EVENTS = {"", "v1", "events", "Event", true};
const kube_resource_t KUBE_RES_LEASES = {"coordination.k8s.io", "v1", "leases", "Lease", true};
const kube_resource_t KUBE_RES_NAMESPACES = {"", "v1", "namespaces", "Namespace", false};
const kube_resource_t KUBE_RES_CRDS = {"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                       "CustomResourceDefinition", false};
const kube_resource_t KUBE_RES_POOLS = {"sandbox.opensandbox.io", "v1alpha1", "pools", "Pool",
                                        true};
const kube_resource_t KUBE_RES_BATCHSANDBOXES = {"sandbox.opensandbox.io", "v1alpha1",
                                                 "batchsandboxes", "BatchSandbox", true};

/* Appends s percent-escaped (everything but RFC 3986 unreserved characters). */
static void put_escaped(strbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            strbuf_putc(b, (char)*p);
        } else {
            strbuf_putc(b, '%');
            strbuf_putc(b, hex[*p >> 4]);
            strbuf_putc(b, hex[*p & 15]);
        }
    }
}

int kube_path(const kube_resource_t *r, const char *ns, const char *name, const char *sub,
              char *buf, size_t len)
{
    strbuf_t b = {0};
    if (r->group && *r->group)
        strbuf_printf(&b, "/apis/%s/%s", r->group, r->version);
    else
        strbuf_printf(&b, "/api/%s", r->version);
    if (r->namespaced && ns && *ns) {
        strbuf_puts(&b, "/namespaces/");
        put_escaped(&b, ns);
    }
    strbuf_putc(&b, '/');
    strbuf_puts(&b, r->plural);
    if (name && *name) {
        strbuf_putc(&b, '/');
        put_escaped(&b, name);
        if (sub && *sub) {
            strbuf_putc(&b, '/');
            strbuf_puts(&b, sub);
        }
    }
    int rc = 0;
    if (b.n + 1 > len)
        rc = -ENOSPC;
    else
        memcpy(buf, b.p, b.n + 1);
    strbuf_free(&b);
    return rc;
}

/* ---------- client ---------- */

typedef struct thread_handle {
    pthread_t tid;
    CURL *easy;
} thread_handle_t;

struct kube_client {
    kube_config_t *cfg;
    char *user_agent;
    long timeout_ms;
    int max_retries;
    bool no_retries; /* max_retries < 0: not even the GET transport retries */
    bool limited;
    kube_bucket_t bucket;
    metric_t *m_requests, *m_duration;
    pthread_mutex_t mu; /* guards handles */
    thread_handle_t *handles;
    size_t nhandles, cap;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Copies src into dst[cap], truncating. */
static void scopy(char *dst, size_t cap, const char *src)
{
    if (!dst || !cap) return;
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void set_msg(char *err, size_t errlen, const char *msg)
{
    scopy(err, errlen, msg);
}

int kube_client_new(kube_config_t *cfg, const kube_client_options_t *opts, kube_client_t **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg || !cfg->server || !*cfg->server) {
        set_msg(err, errlen, "kube client: configuration without a server");
        kube_config_free(cfg);
        return -EINVAL;
    }
    kube_client_options_t o = {0};
    if (opts) o = *opts;
    if (o.qps < 0 || (o.qps > 0 && o.burst < 1)) {
        set_msg(err, errlen, "kube client: qps must be >= 0 and burst >= 1 when qps > 0");
        kube_config_free(cfg);
        return -EINVAL;
    }
    pthread_once(&curl_once, curl_init_once);
    kube_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        kube_config_free(cfg);
        return -ENOMEM;
    }
    c->cfg = cfg;
    c->user_agent = strdup(o.user_agent && *o.user_agent ? o.user_agent : DEFAULT_UA);
    c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_retries = o.max_retries == 0  ? DEFAULT_MAX_RETRIES
                     : o.max_retries < 0 ? 0
                                         : o.max_retries;
    c->no_retries = o.max_retries < 0;
    c->limited = o.qps > 0;
    if (c->limited) kube_bucket_init(&c->bucket, o.qps, o.burst);
    if (o.metrics) {
        static const double buckets[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
        c->m_requests = metrics_counter(o.metrics, "rest_client_requests_total",
                                        "Number of HTTP requests, partitioned by status code and "
                                        "method.",
                                        "code,method");
        c->m_duration = metrics_histogram(o.metrics, "rest_client_request_duration_seconds",
                                          "Request latency in seconds, by verb.", "verb", buckets,
                                          sizeof buckets / sizeof *buckets);
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void kube_client_free(kube_client_t *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nhandles; i++)
        curl_easy_cleanup(c->handles[i].easy);
    free(c->handles);
    pthread_mutex_destroy(&c->mu);
    if (c->limited) kube_bucket_destroy(&c->bucket);
    free(c->user_agent);
    kube_config_free(c->cfg);
    free(c);
}

const kube_config_t *kube_client_config(const kube_client_t *c)
{
    return c->cfg;
}

/* The calling thread's easy handle (created on first use). */
static CURL *thread_easy(kube_client_t *c)
{
    pthread_t self = pthread_self();
    CURL *e = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nhandles; i++)
        if (pthread_equal(c->handles[i].tid, self)) {
            e = c->handles[i].easy;
            break;
        }
    if (!e) {
        if (c->nhandles == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 8;
            thread_handle_t *n = realloc(c->handles, ncap * sizeof *n);
            if (!n) goto out;
            c->handles = n;
            c->cap = ncap;
        }
        e = curl_easy_init();
        if (e) c->handles[c->nhandles++] = (thread_handle_t){self, e};
    }
out:
    pthread_mutex_unlock(&c->mu);
    return e;
}

void kube_client_note_response(kube_client_t *c, const char *method, int code)
{
    if (!c->m_requests) return;
    char lv[64];
    if (code > 0)
        snprintf(lv, sizeof lv, "%d,%s", code, method);
    else
        snprintf(lv, sizeof lv, "<error>,%s", method);
    metrics_add(c->m_requests, lv, 1);
}

/* URL, TLS, User-Agent, Accept and Authorization (token) on easy. */
static int setup_common(kube_client_t *c, CURL *easy, const char *path, const char *token,
                        struct curl_slist **headers)
{
    strbuf_t url = {0};
    strbuf_puts(&url, c->cfg->server);
    strbuf_puts(&url, path);
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, url.p);
    strbuf_free(&url);
    if (rc != CURLE_OK) return -ENOMEM;
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
    const kube_config_t *cfg = c->cfg;
    if (cfg->ca_pem) {
        struct curl_blob b = {cfg->ca_pem, strlen(cfg->ca_pem), CURL_BLOB_COPY};
        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &b);
    }
    if (cfg->cert_pem && cfg->key_pem) {
        struct curl_blob cb = {cfg->cert_pem, strlen(cfg->cert_pem), CURL_BLOB_COPY};
        struct curl_blob kb = {cfg->key_pem, strlen(cfg->key_pem), CURL_BLOB_COPY};
        curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &kb);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (cfg->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    struct curl_slist *h = *headers, *n;
    if (!(n = curl_slist_append(h, "Accept: application/json"))) return -ENOMEM;
    h = n;
    if (token && *token) {
        strbuf_t a = {0};
        strbuf_printf(&a, "Authorization: Bearer %s", token);
        n = curl_slist_append(h, a.p);
        strbuf_free(&a);
        if (!n) {
            *headers = h;
            return -ENOMEM;
        }
        h = n;
    }
    *headers = h;
    return 0;
}

int kube_client_setup_easy(kube_client_t *c, CURL *easy, const char *path_and_query,
                           struct curl_slist **headers)
{
    char *token = kube_config_token(c->cfg, false);
    int rc = setup_common(c, easy, path_and_query, token, headers);
    free(token);
    if (rc == 0) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers);
    return rc;
}

/* ---------- one exchange ---------- */

typedef struct exchange {
    strbuf_t body;
    double retry_after_s; /* < 0: no Retry-After header */
    char audit_id[64];
    const char *method, *path;
} exchange_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    exchange_t *x = ud;
    strbuf_putn(&x->body, ptr, size * nmemb);
    return size * nmemb;
}

/* Header value with trailing CR/LF and surrounding blanks removed, into buf. */
static bool header_value(const char *line, size_t n, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return false;
    const char *v = line + nl + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= cap) len = cap - 1;
    memcpy(buf, v, len);
    buf[len] = 0;
    return true;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    exchange_t *x = ud;
    size_t n = size * nmemb;
    char v[1024];
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* a new response (e.g. after 100 Continue or a redirect): forget the previous one */
        x->retry_after_s = -1;
        x->audit_id[0] = 0;
    } else if (header_value(ptr, n, "Retry-After", v, sizeof v)) {
        /* client-go accepts whole seconds only (strconv.Atoi) */
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && *end == 0 && s >= 0) x->retry_after_s = (double)s;
    } else if (header_value(ptr, n, "Audit-Id", v, sizeof v)) {
        scopy(x->audit_id, sizeof x->audit_id, v);
    } else if (header_value(ptr, n, "Warning", v, sizeof v)) {
        log_warn("warning from the API server", "method", x->method, "path", x->path, "warning", v);
    }
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Performs one HTTP exchange. Returns the HTTP code, or 0 with a transport error in errmsg. */
static int perform(kube_client_t *c, CURL *e, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len, const char *token,
                   exchange_t *x, char *errmsg, size_t errlen)
{
    curl_easy_reset(e); /* keeps the connection cache */
    struct curl_slist *h = NULL;
    int code = 0;
    if (setup_common(c, e, path, token, &h) != 0) {
        snprintf(errmsg, errlen, "out of memory");
        goto out;
    }
    struct curl_slist *n = curl_slist_append(h, "Expect:");
    if (n) h = n;
    if (content_type) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        if ((n = curl_slist_append(h, ct))) h = n;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     c->timeout_ms < CONNECT_TIMEOUT_MS ? c->timeout_ms : CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        snprintf(errmsg, errlen, "%s %s%s: %s", method, c->cfg->server, path,
                 ebuf[0] ? ebuf : curl_easy_strerror(cc));
    } else {
        long rc = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &rc);
        code = (int)rc;
    }
out:
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
    return code;
}

/* The return code of the request functions for a final non-2xx status. */
static int status_errno(const kube_status_t *s)
{
    if (s->code == 0) return -EIO;
    if (s->code == 404) return kube_status_is_not_found(s) ? -ENOENT : -ENOTSUP;
    if (s->code == 409) {
        if (kube_status_is_already_exists(s)) return -EEXIST;
        if (kube_status_is_field_manager_conflict(s)) return -EBUSY;
        return -ESTALE;
    }
    if (s->code == 410) return -ETIME;
    if (s->code == 400 || s->code == 422) return -EINVAL;
    if (s->code == 401 || s->code == 403) return -EACCES;
    if (s->code == 429 || s->code >= 500) return -EAGAIN;
    return -EPROTO;
}

static void status_transport(kube_status_t *st, const char *msg)
{
    memset(st, 0, sizeof *st);
    scopy(st->message, sizeof st->message, msg);
}

int kube_request(kube_client_t *c, const char *method, const char *path, const char *content_type,
                 const char *body, size_t len, json_t **out, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    memset(st, 0, sizeof *st);
    if (!c || !method || !path || path[0] != '/') {
        status_transport(st, "kube_request: bad arguments");
        return -EINVAL;
    }
    CURL *e = thread_easy(c);
    if (!e) {
        status_transport(st, "kube_request: cannot create a curl handle");
        return -ENOMEM;
    }
    bool is_get = strcmp(method, "GET") == 0;
    bool reread_done = false;
    int retries = 0, transport_tries = 0;
    for (;;) {
        if (c->limited) kube_bucket_wait(&c->bucket);
        char *token = kube_config_token(c->cfg, false);
        exchange_t x = {.retry_after_s = -1, .method = method, .path = path};
        char errmsg[512] = "";
        double t0 = now_s();
        int code =
            perform(c, e, method, path, content_type, body, len, token, &x, errmsg, sizeof errmsg);
        free(token);
        if (c->m_duration) metrics_observe(c->m_duration, method, now_s() - t0);
        kube_client_note_response(c, method, code);

        if (code == 0) {
            strbuf_free(&x.body);
            status_transport(st, errmsg);
            if (is_get && !c->no_retries && transport_tries < GET_TRANSPORT_TRIES) {
                /* 100, 200, 400 ms */
                sleep_s(0.1 * (double)(1 << transport_tries));
                transport_tries++;
                log_debug("retrying GET after a transport error", "path", path, "error", errmsg);
                continue;
            }
            return -EIO;
        }
        if (code >= 200 && code < 300) {
            st->code = code;
            scopy(st->audit_id, sizeof st->audit_id, x.audit_id);
            int rc = 0;
            if (out && x.body.n > 0) {
                json_error_t jerr;
                *out = json_loadb(x.body.p, x.body.n, JSON_DECODE_ANY, &jerr);
                if (!*out) {
                    snprintf(st->message, sizeof st->message,
                             "%s %s: response is not JSON: %s (line %d)", method, path, jerr.text,
                             jerr.line);
                    rc = -EPROTO;
                }
            }
            strbuf_free(&x.body);
            return rc;
        }
        kube_status_decode(code, x.body.p, x.body.n, st);
        strbuf_free(&x.body);
        scopy(st->audit_id, sizeof st->audit_id, x.audit_id);
        if (x.retry_after_s >= 0) st->retry_after_s = x.retry_after_s;

        if (code == 401 && !reread_done && c->cfg->token_file) {
            reread_done = true;
            free(kube_config_token(c->cfg, true));
            log_debug("401 from the API server: re-read the token and retry", "path", path);
            continue;
        }
        /* client-go checkWait: 429 or 5xx with a Retry-After header */
        if ((code == 429 || code >= 500) && x.retry_after_s >= 0 && retries < c->max_retries) {
            retries++;
            double wait = x.retry_after_s < MAX_RETRY_AFTER_S ? x.retry_after_s : MAX_RETRY_AFTER_S;
            char ws[32], cs[16];
            snprintf(ws, sizeof ws, "%.0f", wait);
            snprintf(cs, sizeof cs, "%d", code);
            log_debug("retrying after Retry-After", "method", method, "path", path, "code", cs,
                      "wait_s", ws);
            sleep_s(wait);
            continue;
        }
        return status_errno(st);
    }
}

/* ---------- typed helpers ---------- */

static int path_or_fail(const kube_resource_t *r, const char *ns, const char *name, const char *sub,
                        char *buf, size_t len, kube_status_t *st)
{
    if (!r || (r->namespaced && name && *name && (!ns || !*ns))) {
        status_transport(st, "kube: a namespaced object needs a namespace");
        return -EINVAL;
    }
    if (kube_path(r, ns, name, sub, buf, len) != 0) {
        status_transport(st, "kube: path too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

int kube_get(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
             json_t **out, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    char path[1024];
    if (!name || !*name) {
        status_transport(st, "kube_get: no name");
        return -EINVAL;
    }
    int rc = path_or_fail(r, ns, name, NULL, path, sizeof path, st);
    if (rc) return rc;
    return kube_request(c, "GET", path, NULL, NULL, 0, out, st);
}

/* One paginated pass; -ETIME from a page after the first is reported in *expired_midway. */
static int list_pass(kube_client_t *c, const char *base, const char *label_selector, json_t **out,
                     kube_status_t *st, bool *expired_midway)
{
    *out = NULL;
    *expired_midway = false;
    json_t *result = NULL;
    char *cont = NULL;
    int rc = 0;
    for (int page = 0;; page++) {
        if (page >= MAX_LIST_PAGES) {
            status_transport(st, "kube_list: too many pages");
            rc = -EPROTO;
            break;
        }
        strbuf_t p = {0};
        strbuf_printf(&p, "%s?limit=%d", base, LIST_PAGE_LIMIT);
        if (label_selector && *label_selector) {
            strbuf_puts(&p, "&labelSelector=");
            put_escaped(&p, label_selector);
        }
        if (cont) {
            strbuf_puts(&p, "&continue=");
            put_escaped(&p, cont);
        }
        json_t *pg = NULL;
        rc = kube_request(c, "GET", p.p, NULL, NULL, 0, &pg, st);
        strbuf_free(&p);
        if (rc) {
            if (rc == -ETIME && cont) *expired_midway = true;
            break;
        }
        json_t *items = json_object_get(pg, "items");
        if (!json_is_object(pg) || (items && !json_is_array(items) && !json_is_null(items))) {
            json_decref(pg);
            status_transport(st, "kube_list: the answer is not a list");
            st->code = 200;
            rc = -EPROTO;
            break;
        }
        const char *next = jsonx_str(pg, "metadata.continue", "");
        char *next_dup = *next ? strdup(next) : NULL;
        if (!result) {
            result = pg;
            if (!json_is_array(items)) json_object_set_new(result, "items", json_array());
        } else {
            if (json_is_array(items)) json_array_extend(json_object_get(result, "items"), items);
            json_decref(pg);
        }
        if (next_dup && cont && strcmp(next_dup, cont) == 0) {
            free(next_dup);
            status_transport(st, "kube_list: the server repeated a continue token");
            st->code = 200;
            rc = -EPROTO;
            break;
        }
        free(cont);
        cont = next_dup;
        if (!cont) break;
    }
    free(cont);
    if (rc) {
        json_decref(result);
        return rc;
    }
    json_t *md = json_object_get(result, "metadata");
    if (json_is_object(md)) {
        json_object_del(md, "continue");
        json_object_del(md, "remainingItemCount");
    }
    *out = result;
    return 0;
}

int kube_list(kube_client_t *c, const kube_resource_t *r, const char *ns,
              const char *label_selector, json_t **out, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    *out = NULL;
    char base[1024];
    int rc = path_or_fail(r, ns, NULL, NULL, base, sizeof base, st);
    if (rc) return rc;
    bool expired;
    rc = list_pass(c, base, label_selector, out, st, &expired);
    if (rc == -ETIME && expired) {
        log_debug("continue token expired during a list: listing again", "path", base);
        rc = list_pass(c, base, label_selector, out, st, &expired);
    }
    return rc;
}

/* The namespace to use: the argument, or the object's metadata.namespace. */
static const char *obj_ns(const kube_resource_t *r, const char *ns, json_t *obj)
{
    if (!r || !r->namespaced) return NULL;
    if (ns && *ns) return ns;
    const char *o = jsonx_str(obj, "metadata.namespace", NULL);
    return o && *o ? o : NULL;
}

static int send_obj(kube_client_t *c, const char *method, const char *path,
                    const char *content_type, json_t *obj, json_t **out, kube_status_t *st)
{
    char *text = jsonx_dump(obj);
    if (!text) {
        status_transport(st, "kube: cannot encode the object");
        return -ENOMEM;
    }
    int rc = kube_request(c, method, path, content_type, text, strlen(text), out, st);
    free(text);
    return rc;
}

int kube_create(kube_client_t *c, const kube_resource_t *r, const char *ns, json_t *obj,
                json_t **out, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    if (!json_is_object(obj)) {
        status_transport(st, "kube_create: the object is not a JSON object");
        return -EINVAL;
    }
    ns = obj_ns(r, ns, obj);
    if (r && r->namespaced && !ns) {
        status_transport(st, "kube_create: a namespaced object needs a namespace");
        return -EINVAL;
    }
    char path[1024];
    int rc = path_or_fail(r, ns, NULL, NULL, path, sizeof path, st);
    if (rc) return rc;
    return send_obj(c, "POST", path, "application/json", obj, out, st);
}

int kube_update(kube_client_t *c, const kube_resource_t *r, const char *ns, json_t *obj,
                const char *sub, json_t **out, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    const char *name = jsonx_str(obj, "metadata.name", NULL);
    if (!name || !*name) {
        status_transport(st, "kube_update: the object has no metadata.name");
        return -EINVAL;
    }
    ns = obj_ns(r, ns, obj);
    char path[1024];
    int rc = path_or_fail(r, ns, name, sub, path, sizeof path, st);
    if (rc) return rc;
    return send_obj(c, "PUT", path, "application/json", obj, out, st);
}

int kube_patch(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
               const char *sub, kube_patch_type_t type, json_t *patch, json_t **out,
               kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    const char *ct;
    switch (type) {
    case KUBE_PATCH_MERGE:
        ct = "application/merge-patch+json";
        break;
    case KUBE_PATCH_JSON:
        ct = "application/json-patch+json";
        break;
    case KUBE_PATCH_STRATEGIC:
        ct = "application/strategic-merge-patch+json";
        break;
    default:
        status_transport(st, "kube_patch: unknown patch type");
        return -EINVAL;
    }
    if (!name || !*name || !patch) {
        status_transport(st, "kube_patch: no name or no patch");
        return -EINVAL;
    }
    char path[1024];
    int rc = path_or_fail(r, ns, name, sub, path, sizeof path, st);
    if (rc) return rc;
    return send_obj(c, "PATCH", path, ct, patch, out, st);
}

int kube_delete(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
                const char *propagation, const char *uid_precondition, kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (!name || !*name) {
        status_transport(st, "kube_delete: no name");
        return -EINVAL;
    }
    char path[1024];
    int rc = path_or_fail(r, ns, name, NULL, path, sizeof path, st);
    if (rc) return rc;
    json_t *opts =
        json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1",
                  "propagationPolicy", propagation && *propagation ? propagation : "Background");
    if (!opts) return -ENOMEM;
    if (uid_precondition && *uid_precondition)
        json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid_precondition));
    rc = send_obj(c, "DELETE", path, "application/json", opts, NULL, st);
    json_decref(opts);
    return rc;
}

int kube_update_retry(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
                      const char *sub, kube_mutate_fn mutate, void *ud, json_t **out,
                      kube_status_t *st)
{
    kube_status_t local;
    if (!st) st = &local;
    if (out) *out = NULL;
    if (!mutate) {
        status_transport(st, "kube_update_retry: no mutate function");
        return -EINVAL;
    }
    /* client-go retry.DefaultRetry: Steps 5, Duration 10 ms, Factor 1.0, Jitter 0.1 */
    enum { STEPS = 5 };
    int rc = 0;
    for (int attempt = 0; attempt < STEPS; attempt++) {
        if (attempt > 0) sleep_s(0.010 * (1.0 + 0.1 * ((double)random() / ((double)RAND_MAX + 1))));
        json_t *obj = NULL;
        rc = kube_get(c, r, ns, name, &obj, st);
        if (rc) return rc;
        int m = mutate(obj, ud);
        if (m < 0) {
            json_decref(obj);
            return m;
        }
        if (m == 1) {
            if (out)
                *out = obj;
            else
                json_decref(obj);
            return 0;
        }
        rc = kube_update(c, r, ns, obj, sub, out, st);
        json_decref(obj);
        if (rc != -ESTALE) return rc;
    }
    return rc;
}
