/* test_kube_client: the REST client against a scripted server (base/http_server on a libuv loop in
 * a background thread, answering from a queue of canned responses and recording each request):
 * headers and auth, Retry-After retries, 401 token re-reads, Status -> return code mapping,
 * delete options, conflict retries, the QPS bucket, list pagination (and its 410 restart),
 * transport errors, TLS with client certificates, metrics, Warning headers and paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "apiserver/certs.h"
#include "base/http_server.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/client.h"
#include "kube/config.h"
#include "support/kubeconfig.h"
#include "support/server_thread.h"

/* ---------- scripted server ---------- */

#define MAXQ 64

typedef struct canned {
    int status;
    char *body;
    char *headers; /* extra header lines, CRLF-terminated, or NULL */
} canned_t;

typedef struct recorded {
    char method[16];
    char path[256];
    char query[512];
    char *body;
    char auth[256];
    char accept[128];
    char content_type[128];
    char user_agent[128];
    char peer_cn[128];
    bool peer_cert_valid;
} recorded_t;

static struct {
    pthread_mutex_t mu;
    canned_t q[MAXQ];
    int qhead, qtail;
    canned_t fallback; /* used when the queue is empty, if status != 0 */
    recorded_t rec[MAXQ];
    int nrec; /* total requests seen (rec keeps the first MAXQ) */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

typedef server_thread_t harness_t;

static void copy_hdr(char *dst, size_t cap, const http_request_t *req, const char *name)
{
    const char *v = http_request_header(req, name);
    snprintf(dst, cap, "%.*s", (int)cap - 1, v ? v : "");
}

static void on_gone(http_request_t *req, void *ud) {}

static void handler(http_request_t *req, void *ud)
{
    pthread_mutex_lock(&g.mu);
    if (g.nrec < MAXQ) {
        recorded_t *r = &g.rec[g.nrec];
        memset(r, 0, sizeof *r);
        snprintf(r->method, sizeof r->method, "%.15s", req->method);
        snprintf(r->path, sizeof r->path, "%.255s", req->path);
        snprintf(r->query, sizeof r->query, "%.511s", req->query);
        r->body = strdup(req->body);
        copy_hdr(r->auth, sizeof r->auth, req, "Authorization");
        copy_hdr(r->accept, sizeof r->accept, req, "Accept");
        copy_hdr(r->content_type, sizeof r->content_type, req, "Content-Type");
        copy_hdr(r->user_agent, sizeof r->user_agent, req, "User-Agent");
        snprintf(r->peer_cn, sizeof r->peer_cn, "%.127s", req->peer_cn);
        r->peer_cert_valid = req->peer_cert_valid;
    }
    g.nrec++;
    canned_t c = {500, "{\"kind\":\"Status\",\"message\":\"no canned response\"}", NULL};
    bool owned = false;
    if (g.qhead != g.qtail) {
        c = g.q[g.qhead % MAXQ];
        g.qhead++;
        owned = true;
    } else if (g.fallback.status) {
        c = g.fallback;
    }
    pthread_mutex_unlock(&g.mu);
    if (c.status < 0) { /* never answer; the request is freed when the client hangs up */
        free(c.body);
        free(c.headers);
        http_request_on_close(req, on_gone, NULL);
        return;
    }
    http_respond(req, c.status, "application/json", c.body, strlen(c.body), c.headers);
    if (owned) {
        free(c.body);
        free(c.headers);
    }
}

static void push(int status, const char *body, const char *headers)
{
    pthread_mutex_lock(&g.mu);
    assert_true(g.qtail - g.qhead < MAXQ);
    g.q[g.qtail % MAXQ] = (canned_t){status, strdup(body), headers ? strdup(headers) : NULL};
    g.qtail++;
    pthread_mutex_unlock(&g.mu);
}

static int nrequests(void)
{
    pthread_mutex_lock(&g.mu);
    int n = g.nrec;
    pthread_mutex_unlock(&g.mu);
    return n;
}

static void reset_script(void)
{
    pthread_mutex_lock(&g.mu);
    for (int i = g.qhead; i < g.qtail; i++) {
        free(g.q[i % MAXQ].body);
        free(g.q[i % MAXQ].headers);
    }
    g.qhead = g.qtail = 0;
    for (int i = 0; i < g.nrec && i < MAXQ; i++)
        free(g.rec[i].body);
    g.nrec = 0;
    g.fallback.status = 0;
    pthread_mutex_unlock(&g.mu);
}

static harness_t *harness_start_cfg(const http_server_config_t *cfg)
{
    reset_script();
    harness_t *h = calloc(1, sizeof *h);
    char err[256];
    int rc = server_thread_start(h, cfg, handler, NULL, err, sizeof err);
    if (rc) print_error("start: %s\n", err);
    assert_int_equal(rc, 0);
    return h;
}

static harness_t *harness_start(void)
{
    return harness_start_cfg(NULL); /* plain HTTP on 127.0.0.1, a free port */
}

static void harness_stop(harness_t *h)
{
    assert_int_equal(server_thread_stop(h), 0);
    free(h);
    pthread_mutex_lock(&g.mu);
    int left = g.qtail - g.qhead;
    pthread_mutex_unlock(&g.mu);
    reset_script();
    assert_int_equal(left, 0); /* every canned response was used */
}

/* ---------- helpers ---------- */

static kube_config_t *cfg_for(const char *server, const char *token)
{
    kube_config_t *cfg = test_kubeconfig(server, token);
    assert_non_null(cfg);
    return cfg;
}

static kube_client_t *client_for(harness_t *h, const kube_client_options_t *opts)
{
    kube_client_t *c = NULL;
    char err[256];
    assert_int_equal(kube_client_new(cfg_for(h->url, "tok"), opts, &c, err, sizeof err), 0);
    return c;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define STATUS(code, reason, details)                                                              \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"m\",\"reason\":\"" reason "\",\"details\":" details ",\"code\":" #code "}"

static const char POD[] = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
                          "\"namespace\":\"ns\",\"resourceVersion\":\"1\",\"uid\":\"u-1\"}}";

/* ---------- tests ---------- */

static void test_paths(void **state)
{
    static const struct {
        const kube_resource_t *r;
        const char *ns, *name, *sub, *want;
    } T[] = {
        {&KUBE_RES_PODS, "ns", "p1", NULL, "/api/v1/namespaces/ns/pods/p1"},
        {&KUBE_RES_PODS, "ns", "p1", "status", "/api/v1/namespaces/ns/pods/p1/status"},
        {&KUBE_RES_PODS, NULL, NULL, NULL, "/api/v1/pods"},
        {&KUBE_RES_PODS, "", NULL, NULL, "/api/v1/pods"},
        {&KUBE_RES_PODS, "ns", NULL, NULL, "/api/v1/namespaces/ns/pods"},
        {&KUBE_RES_CONFIGMAPS, "a", "b", NULL, "/api/v1/namespaces/a/configmaps/b"},
        {&KUBE_RES_EVENTS, "a", NULL, NULL, "/api/v1/namespaces/a/events"},
        {&KUBE_RES_LEASES, "kube-system", "ctl", NULL,
         "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ctl"},
        {&KUBE_RES_NAMESPACES, "ignored", "ns1", NULL, "/api/v1/namespaces/ns1"},
        {&KUBE_RES_NAMESPACES, NULL, "ns1", "finalize", "/api/v1/namespaces/ns1/finalize"},
        {&KUBE_RES_CRDS, NULL, "pools.sandbox.opensandbox.io", NULL,
         "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pools.sandbox.opensandbox.io"},
        {&KUBE_RES_POOLS, "x", "pool-1", "status",
         "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/x/pools/pool-1/status"},
        {&KUBE_RES_BATCHSANDBOXES, "x", NULL, NULL,
         "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/x/batchsandboxes"},
        {&KUBE_RES_PODS, "n s", "a/b?c%", NULL, "/api/v1/namespaces/n%20s/pods/a%2Fb%3Fc%25"},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        assert_int_equal(kube_path(T[i].r, T[i].ns, T[i].name, T[i].sub, buf, sizeof buf), 0);
        assert_string_equal(buf, T[i].want);
    }
    assert_string_equal(KUBE_RES_POOLS.kind, "Pool");
    assert_string_equal(KUBE_RES_BATCHSANDBOXES.kind, "BatchSandbox");
    assert_false(KUBE_RES_CRDS.namespaced);
    assert_true(KUBE_RES_LEASES.namespaced);
    /* exact fit and one byte short */
    const char *want = "/api/v1/namespaces/ns/pods/p1";
    assert_int_equal(kube_path(&KUBE_RES_PODS, "ns", "p1", NULL, buf, strlen(want) + 1), 0);
    assert_int_equal(kube_path(&KUBE_RES_PODS, "ns", "p1", NULL, buf, strlen(want)), -ENOSPC);
}

static void test_get_headers(void **state)
{
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    push(200, POD, "Audit-Id: abc-123\r\n");
    json_t *obj = NULL;
    kube_status_t st;
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", &obj, &st), 0);
    assert_string_equal(jsonx_str(obj, "metadata.uid", ""), "u-1");
    assert_int_equal(st.code, 200);
    assert_string_equal(st.audit_id, "abc-123");
    json_decref(obj);
    assert_int_equal(nrequests(), 1);
    assert_string_equal(g.rec[0].method, "GET");
    assert_string_equal(g.rec[0].path, "/api/v1/namespaces/ns/pods/p1");
    assert_string_equal(g.rec[0].auth, "Bearer tok");
    assert_string_equal(g.rec[0].accept, "application/json");
    assert_string_equal(g.rec[0].user_agent, "sandbox-controller/0.1 (linux/amd64)");

    /* empty 200 body: *out is NULL; a non-JSON 200 is a protocol error */
    push(200, "", NULL);
    assert_int_equal(kube_request(c, "GET", "/x", NULL, NULL, 0, &obj, &st), 0);
    assert_null(obj);
    push(200, "<html>", NULL);
    assert_int_equal(kube_request(c, "GET", "/x", NULL, NULL, 0, &obj, &st), -EPROTO);
    assert_null(obj);
    assert_non_null(strstr(st.message, "response is not JSON"));
    /* bad arguments never reach the server */
    assert_int_equal(kube_request(c, "GET", "no-slash", NULL, NULL, 0, &obj, &st), -EINVAL);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "", &obj, &st), -EINVAL);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, NULL, "p1", &obj, &st), -EINVAL);
    assert_int_equal(nrequests(), 3);
    kube_client_free(c);

    /* custom User-Agent */
    kube_client_options_t o = {.user_agent = "my-agent/1"};
    c = client_for(h, &o);
    push(200, "{}", NULL);
    assert_int_equal(kube_request(c, "GET", "/version", NULL, NULL, 0, NULL, NULL), 0);
    assert_string_equal(g.rec[3].user_agent, "my-agent/1");
    kube_client_free(c);
    harness_stop(h);
}

static void test_retry_after(void **state)
{
    harness_t *h = harness_start();
    metrics_registry_t *reg = metrics_registry_new();
    kube_client_options_t o = {.metrics = reg};
    kube_client_t *c = client_for(h, &o);
    push(429, STATUS(429, "TooManyRequests", "{}"), "Retry-After: 1\r\n");
    push(503, "", "Retry-After: 0\r\n");
    push(200, POD, NULL);
    double t0 = now_s();
    json_t *obj = NULL;
    kube_status_t st;
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", &obj, &st), 0);
    assert_true(now_s() - t0 >= 1.0); /* the Retry-After was honoured (lower bound only) */
    assert_int_equal(nrequests(), 3);
    json_decref(obj);

    /* 5xx without Retry-After: not retried */
    push(503, STATUS(503, "ServiceUnavailable", "{}"), NULL);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", &obj, &st), -EAGAIN);
    assert_int_equal(nrequests(), 4);
    assert_int_equal(st.code, 503);
    /* a write is retried on 429 + Retry-After too (the server did not act on it) */
    push(429, "", "Retry-After: 0\r\n");
    push(201, POD, NULL);
    json_t *pod = json_loads(POD, 0, NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, pod, NULL, &st), 0);
    assert_int_equal(nrequests(), 6);
    assert_string_equal(g.rec[5].method, "POST");
    assert_string_equal(g.rec[5].path, "/api/v1/namespaces/ns/pods");
    assert_string_equal(g.rec[5].content_type, "application/json");
    json_t *sent = json_loads(g.rec[5].body, 0, NULL);
    assert_true(json_equal(sent, pod));
    json_decref(sent);
    json_decref(pod);

    char *text = metrics_render(reg);
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"429\",method=\"GET\"} 1"));
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"503\",method=\"GET\"} 2"));
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"200\",method=\"GET\"} 1"));
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"201\",method=\"POST\"} 1"));
    assert_non_null(strstr(text, "rest_client_request_duration_seconds_count{verb=\"GET\"} 4"));
    free(text);
    kube_client_free(c);

    /* the retries run out: max_retries 2 -> 3 requests, then -EAGAIN */
    o.max_retries = 2;
    c = client_for(h, &o);
    for (int i = 0; i < 3; i++)
        push(429, STATUS(429, "TooManyRequests", "{}"), "Retry-After: 0\r\n");
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", &obj, &st), -EAGAIN);
    assert_int_equal(nrequests(), 9);
    assert_string_equal(st.reason, "TooManyRequests");
    assert_true(st.retry_after_s == 0);
    kube_client_free(c);
    /* max_retries < 0: none */
    o.max_retries = -1;
    c = client_for(h, &o);
    push(429, "", "Retry-After: 0\r\n");
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", &obj, &st), -EAGAIN);
    assert_int_equal(nrequests(), 10);
    kube_client_free(c);
    metrics_registry_free(reg);
    harness_stop(h);
}

static void test_401_rereads_token(void **state)
{
    harness_t *h = harness_start();
    char dir[] = "/tmp/test_kube_client.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char tf[128], text[512];
    snprintf(tf, sizeof tf, "%s/token", dir);
    FILE *f = fopen(tf, "w");
    fputs("old-token\n", f);
    fclose(f);
    snprintf(text, sizeof text,
             "current-context: t\ncontexts: [{name: t, context: {cluster: t, user: t}}]\n"
             "clusters: [{name: t, cluster: {server: '%s'}}]\n"
             "users: [{name: t, user: {tokenFile: token}}]\n",
             h->url);
    char kc[160];
    snprintf(kc, sizeof kc, "%s/kubeconfig", dir);
    kube_config_t *cfg = NULL;
    assert_int_equal(kube_config_parse(text, strlen(text), kc, &cfg, NULL, 0), 0);
    kube_client_t *c = NULL;
    assert_int_equal(kube_client_new(cfg, NULL, &c, NULL, 0), 0);

    /* the token rotates; the cached one is still fresh, so the first request sends the old one */
    f = fopen(tf, "w");
    fputs("new-token\n", f);
    fclose(f);
    push(401, STATUS(401, "Unauthorized", "{}"), NULL);
    push(200, POD, NULL);
    kube_status_t st;
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", NULL, &st), 0);
    assert_int_equal(nrequests(), 2);
    assert_string_equal(g.rec[0].auth, "Bearer old-token");
    assert_string_equal(g.rec[1].auth, "Bearer new-token");

    /* a second 401 in the same call is final */
    push(401, STATUS(401, "Unauthorized", "{}"), NULL);
    push(401, STATUS(401, "Unauthorized", "{}"), NULL);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", NULL, &st), -EACCES);
    assert_int_equal(nrequests(), 4);
    assert_int_equal(st.code, 401);
    kube_client_free(c);

    /* a static token is not re-read: one request */
    c = client_for(h, NULL);
    push(401, STATUS(401, "Unauthorized", "{}"), NULL);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", NULL, &st), -EACCES);
    assert_int_equal(nrequests(), 5);
    kube_client_free(c);
    unlink(tf);
    rmdir(dir);
    harness_stop(h);
}

static void test_error_mapping(void **state)
{
    static const struct {
        int status;
        const char *body;
        int rc;
        bool obj_nf, type_nf;
    } T[] = {
        {404, STATUS(404, "NotFound", "{\"name\":\"p1\",\"kind\":\"pods\"}"), -ENOENT, true, false},
        {404, STATUS(404, "NotFound", "{}"), -ENOTSUP, false, true},
        {404, "404 page not found", -ENOTSUP, false, true},
        {409, STATUS(409, "AlreadyExists", "{\"name\":\"p1\"}"), -EEXIST, false, false},
        {409, STATUS(409, "Conflict", "{\"name\":\"p1\"}"), -ESTALE, false, false},
        {409,
         STATUS(409, "Conflict",
                "{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"field\":\".spec.x\"}]}"),
         -EBUSY, false, false},
        {410, STATUS(410, "Expired", "{}"), -ETIME, false, false},
        {410, "", -ETIME, false, false},
        {400, STATUS(400, "BadRequest", "{}"), -EINVAL, false, false},
        {422, STATUS(422, "Invalid", "{\"causes\":[{\"reason\":\"FieldValueInvalid\"}]}"), -EINVAL,
         false, false},
        {401, "", -EACCES, false, false},
        {403, STATUS(403, "Forbidden", "{}"), -EACCES, false, false},
        {500, STATUS(500, "InternalError", "{}"), -EAGAIN, false, false},
        {415, STATUS(415, "UnsupportedMediaType", "{}"), -EPROTO, false, false},
        {405, STATUS(405, "MethodNotAllowed", "{}"), -EPROTO, false, false},
    };
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        push(T[i].status, T[i].body, "Audit-Id: a-1\r\n");
        kube_status_t st;
        json_t *out = (json_t *)0x1;
        int rc = kube_get(c, &KUBE_RES_PODS, "ns", "p1", &out, &st);
        print_message("case %zu: %d -> %d\n", i, T[i].status, rc);
        assert_int_equal(rc, T[i].rc);
        assert_null(out);
        assert_int_equal(st.code, T[i].status);
        assert_string_equal(st.audit_id, "a-1");
        assert_int_equal(kube_status_is_not_found(&st), T[i].obj_nf);
        assert_int_equal(kube_status_is_type_not_found(&st), T[i].type_nf);
    }
    assert_int_equal(nrequests(), (int)(sizeof T / sizeof *T));
    kube_client_free(c);
    harness_stop(h);
}

static void test_delete_and_writes(void **state)
{
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    kube_status_t st;
    push(200, STATUS(200, "", "{}"), NULL);
    assert_int_equal(kube_delete(c, &KUBE_RES_PODS, "ns", "p1", "Foreground", "u-1", &st), 0);
    push(404, STATUS(404, "NotFound", "{\"name\":\"p1\",\"kind\":\"pods\"}"), NULL);
    assert_int_equal(kube_delete(c, &KUBE_RES_PODS, "ns", "p1", NULL, NULL, &st), -ENOENT);
    assert_int_equal(nrequests(), 2);
    assert_string_equal(g.rec[0].method, "DELETE");
    assert_string_equal(g.rec[0].path, "/api/v1/namespaces/ns/pods/p1");
    assert_string_equal(g.rec[0].content_type, "application/json");
    json_t *b0 = json_loads(g.rec[0].body, 0, NULL);
    json_t *want0 = json_loads("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                               "\"propagationPolicy\":\"Foreground\","
                               "\"preconditions\":{\"uid\":\"u-1\"}}",
                               0, NULL);
    assert_true(json_equal(b0, want0));
    json_t *b1 = json_loads(g.rec[1].body, 0, NULL);
    json_t *want1 = json_loads("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                               "\"propagationPolicy\":\"Background\"}",
                               0, NULL);
    assert_true(json_equal(b1, want1));
    json_decref(b0);
    json_decref(b1);
    json_decref(want0);
    json_decref(want1);

    /* PUT to status, PATCH content types, cluster-scoped create */
    json_t *pod = json_loads(POD, 0, NULL);
    push(200, POD, NULL);
    assert_int_equal(kube_update(c, &KUBE_RES_PODS, NULL, pod, "status", NULL, &st), 0);
    assert_string_equal(g.rec[2].method, "PUT");
    assert_string_equal(g.rec[2].path, "/api/v1/namespaces/ns/pods/p1/status");
    json_t *patch = json_loads("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", 0, NULL);
    static const struct {
        kube_patch_type_t t;
        const char *ct;
    } P[] = {{KUBE_PATCH_MERGE, "application/merge-patch+json"},
             {KUBE_PATCH_JSON, "application/json-patch+json"},
             {KUBE_PATCH_STRATEGIC, "application/strategic-merge-patch+json"}};
    for (int i = 0; i < 3; i++) {
        push(200, POD, NULL);
        json_t *out = NULL;
        assert_int_equal(
            kube_patch(c, &KUBE_RES_POOLS, "x", "pool-1", NULL, P[i].t, patch, &out, &st), 0);
        assert_non_null(out);
        json_decref(out);
        assert_string_equal(g.rec[3 + i].method, "PATCH");
        assert_string_equal(g.rec[3 + i].content_type, P[i].ct);
        assert_string_equal(g.rec[3 + i].path,
                            "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/x/pools/pool-1");
        assert_string_equal(g.rec[3 + i].body, "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
    }
    json_t *ns = json_loads("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"zz\"}}", 0, NULL);
    push(201, "{}", NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_NAMESPACES, NULL, ns, NULL, &st), 0);
    assert_string_equal(g.rec[6].path, "/api/v1/namespaces");
    /* a namespaced create takes metadata.namespace when ns is NULL */
    push(201, "{}", NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, ns, NULL, &st), 0);
    assert_string_equal(g.rec[7].path, "/api/v1/namespaces/zz/pods");
    /* ... and is refused before sending when there is none */
    json_t *nons = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, nons, NULL, &st), -EINVAL);
    assert_int_equal(kube_update(c, &KUBE_RES_PODS, "ns", patch, NULL, NULL, &st), -EINVAL);
    assert_non_null(strstr(st.message, "metadata.name"));
    assert_int_equal(nrequests(), 8);
    json_decref(nons);
    json_decref(ns);
    json_decref(patch);
    json_decref(pod);
    kube_client_free(c);
    harness_stop(h);
}

typedef struct mut {
    int calls;
    int ret;
} mut_t;

static int set_label(json_t *obj, void *ud)
{
    mut_t *m = ud;
    m->calls++;
    jsonx_set_new(obj, "metadata.labels.touched", json_sprintf("%d", m->calls));
    return m->ret;
}

static void test_update_retry(void **state)
{
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    kube_status_t st;
    const char *pod1 = "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\","
                       "\"resourceVersion\":\"1\"}}";
    const char *pod2 = "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\","
                       "\"resourceVersion\":\"2\"}}";
    push(200, pod1, NULL);
    push(409, STATUS(409, "Conflict", "{\"name\":\"p1\",\"kind\":\"pods\"}"), NULL);
    push(200, pod2, NULL);
    push(200, "{\"metadata\":{\"name\":\"p1\",\"resourceVersion\":\"3\"}}", NULL);
    mut_t m = {0, 0};
    json_t *out = NULL;
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", NULL, set_label, &m, &out, &st), 0);
    assert_int_equal(m.calls, 2);
    assert_string_equal(jsonx_str(out, "metadata.resourceVersion", ""), "3");
    json_decref(out);
    assert_int_equal(nrequests(), 4);
    static const char *const methods[] = {"GET", "PUT", "GET", "PUT"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(g.rec[i].method, methods[i]);
        assert_string_equal(g.rec[i].path, "/api/v1/namespaces/ns/pods/p1");
    }
    json_t *put2 = json_loads(g.rec[3].body, 0, NULL);
    assert_string_equal(jsonx_str(put2, "metadata.resourceVersion", ""), "2");
    assert_string_equal(jsonx_str(put2, "metadata.labels.touched", ""), "2");
    json_decref(put2);

    /* nothing to change: one GET, no PUT, *out is the object read */
    push(200, pod1, NULL);
    m = (mut_t){0, 1};
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", "status", set_label, &m, &out, &st), 0);
    assert_string_equal(jsonx_str(out, "metadata.resourceVersion", ""), "1");
    json_decref(out);
    assert_int_equal(nrequests(), 5);
    /* mutate aborts */
    push(200, pod1, NULL);
    m = (mut_t){0, -ECANCELED};
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", NULL, set_label, &m, &out, &st),
        -ECANCELED);
    assert_null(out);
    /* a field manager conflict is not retried */
    push(200, pod1, NULL);
    push(409, STATUS(409, "Conflict", "{\"causes\":[{\"reason\":\"FieldManagerConflict\"}]}"),
         NULL);
    m = (mut_t){0, 0};
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", NULL, set_label, &m, &out, &st), -EBUSY);
    assert_int_equal(m.calls, 1);
    /* five conflicts in a row: give up with -ESTALE after 5 attempts */
    for (int i = 0; i < 5; i++) {
        push(200, pod1, NULL);
        push(409, STATUS(409, "Conflict", "{\"name\":\"p1\"}"), NULL);
    }
    m = (mut_t){0, 0};
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", NULL, set_label, &m, &out, &st), -ESTALE);
    assert_int_equal(m.calls, 5);
    assert_true(kube_status_is_conflict(&st));
    /* the object is gone: -ENOENT from the GET */
    push(404, STATUS(404, "NotFound", "{\"name\":\"p1\"}"), NULL);
    assert_int_equal(
        kube_update_retry(c, &KUBE_RES_PODS, "ns", "p1", NULL, set_label, &m, &out, &st), -ENOENT);
    kube_client_free(c);
    harness_stop(h);
}

static void test_qps(void **state)
{
    harness_t *h = harness_start();
    kube_client_options_t o = {.qps = 20, .burst = 1};
    kube_client_t *c = client_for(h, &o);
    for (int i = 0; i < 5; i++)
        push(200, "{}", NULL);
    double t0 = now_s();
    for (int i = 0; i < 5; i++)
        assert_int_equal(kube_request(c, "GET", "/version", NULL, NULL, 0, NULL, NULL), 0);
    /* 5 requests at 20/s with burst 1: at least 4 gaps of 50 ms (lower bound only) */
    assert_true(now_s() - t0 >= 0.19);
    kube_client_free(c);
    /* bad options */
    kube_client_options_t bad = {.qps = 5, .burst = 0};
    char err[128];
    assert_int_equal(kube_client_new(cfg_for(h->url, NULL), &bad, &c, err, sizeof err), -EINVAL);
    assert_null(c);
    assert_int_equal(kube_client_new(NULL, NULL, &c, err, sizeof err), -EINVAL);
    harness_stop(h);
}

static void test_list_pagination(void **state)
{
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    push(200,
         "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\","
         "\"continue\":\"tok/1\",\"remainingItemCount\":1},\"items\":[{\"metadata\":{\"name\":"
         "\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}",
         NULL);
    push(200,
         "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\",\"continue\":\"t2\"},"
         "\"items\":[]}",
         NULL);
    push(200,
         "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},"
         "\"items\":[{\"metadata\":{\"name\":\"c\"}}]}",
         NULL);
    json_t *list = NULL;
    kube_status_t st;
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, "ns", "app=web", &list, &st), 0);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 3);
    assert_string_equal(jsonx_str(list, "items.2", "x"), "x"); /* items is an array */
    assert_string_equal(
        jsonx_str(json_array_get(json_object_get(list, "items"), 2), "metadata.name", ""), "c");
    assert_string_equal(jsonx_str(list, "metadata.resourceVersion", ""), "10");
    assert_null(jsonx_get(list, "metadata.continue"));
    assert_null(jsonx_get(list, "metadata.remainingItemCount"));
    assert_string_equal(jsonx_str(list, "kind", ""), "PodList");
    json_decref(list);
    assert_int_equal(nrequests(), 3);
    assert_string_equal(g.rec[0].path, "/api/v1/namespaces/ns/pods");
    assert_string_equal(g.rec[0].query, "limit=500&labelSelector=app%3Dweb");
    assert_string_equal(g.rec[1].query, "limit=500&labelSelector=app%3Dweb&continue=tok%2F1");
    assert_string_equal(g.rec[2].query, "limit=500&labelSelector=app%3Dweb&continue=t2");

    /* 410 in the middle: list again from the start, once */
    push(200, "{\"metadata\":{\"resourceVersion\":\"10\",\"continue\":\"c1\"},\"items\":[{}]}",
         NULL);
    push(410, STATUS(410, "Expired", "{}"), NULL);
    push(200, "{\"metadata\":{\"resourceVersion\":\"20\",\"continue\":\"c2\"},\"items\":[{},{}]}",
         NULL);
    push(200, "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[{}]}", NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, NULL, NULL, &list, &st), 0);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 3);
    assert_string_equal(jsonx_str(list, "metadata.resourceVersion", ""), "20");
    json_decref(list);
    assert_int_equal(nrequests(), 7);
    assert_string_equal(g.rec[3].path, "/api/v1/pods");
    assert_string_equal(g.rec[5].query, "limit=500");

    /* 410 twice: -ETIME; a 410 on the first page is not retried */
    push(200, "{\"metadata\":{\"continue\":\"c1\"},\"items\":[]}", NULL);
    push(410, STATUS(410, "Expired", "{}"), NULL);
    push(200, "{\"metadata\":{\"continue\":\"c1\"},\"items\":[]}", NULL);
    push(410, STATUS(410, "Expired", "{}"), NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, NULL, NULL, &list, &st), -ETIME);
    assert_null(list);
    push(410, STATUS(410, "Expired", "{}"), NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, NULL, NULL, &list, &st), -ETIME);
    assert_int_equal(nrequests(), 12);
    /* a server that repeats its continue token is an error, not a loop */
    push(200, "{\"metadata\":{\"continue\":\"same\"},\"items\":[]}", NULL);
    push(200, "{\"metadata\":{\"continue\":\"same\"},\"items\":[]}", NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, NULL, NULL, &list, &st), -EPROTO);
    /* not a list */
    push(200, "[1]", NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_PODS, NULL, NULL, &list, &st), -EPROTO);
    /* items missing or null: an empty list */
    push(200, "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":null}", NULL);
    assert_int_equal(kube_list(c, &KUBE_RES_CRDS, NULL, NULL, &list, &st), 0);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    kube_client_free(c);
    harness_stop(h);
}

static void test_transport_errors(void **state)
{
    /* a port nobody listens on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    close(fd);
    metrics_registry_t *reg = metrics_registry_new();
    kube_client_options_t o = {.metrics = reg};
    kube_client_t *c = NULL;
    assert_int_equal(kube_client_new(cfg_for(url, NULL), &o, &c, NULL, 0), 0);
    kube_status_t st;
    json_t *out = NULL;
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p", &out, &st), -EIO);
    assert_int_equal(st.code, 0);
    assert_non_null(strstr(st.message, url));
    assert_true(kube_status_is_retryable(&st));
    json_t *pod = json_loads(POD, 0, NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, "ns", pod, NULL, &st), -EIO);
    json_decref(pod);
    char *text = metrics_render(reg);
    /* the GET was tried 1 + 3 times, the POST once */
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"<error>\",method=\"GET\"} 4"));
    assert_non_null(strstr(text, "rest_client_requests_total{code=\"<error>\",method=\"POST\"} 1"));
    free(text);
    kube_client_free(c);
    metrics_registry_free(reg);
}

/* A server that accepts the request and never answers: the per-request timeout ends it. */
static void test_timeout(void **state)
{
    harness_t *h = harness_start();
    kube_client_options_t o = {.timeout_ms = 300};
    kube_client_t *c = client_for(h, &o);
    push(-1, "", NULL);
    json_t *pod = json_loads(POD, 0, NULL);
    kube_status_t st;
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, pod, NULL, &st), -EIO);
    assert_int_equal(st.code, 0);
    assert_non_null(strstr(st.message, "POST "));
    assert_non_null(strstr(st.message, "timed out"));
    assert_int_equal(nrequests(), 1); /* a write is not retried after a transport error */
    json_decref(pod);
    kube_client_free(c);
    harness_stop(h);
}

static void test_tls_client_cert(void **state)
{
    certs_bundle_t b;
    char err[256];
    assert_int_equal(certs_generate("127.0.0.1", &b, err, sizeof err), 0);
    http_server_config_t scfg = {.host = "127.0.0.1",
                                 .cert_pem = b.server_cert_pem,
                                 .key_pem = b.server_key_pem,
                                 .ca_pem = b.ca_cert_pem};
    harness_t *h = harness_start_cfg(&scfg);
    char dir[] = "/tmp/test_kube_client.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/kc", dir);
    assert_int_equal(certs_write_kubeconfig(path, h->url, &b, NULL), 0);
    kube_config_t *cfg = NULL;
    assert_int_equal(kube_config_load(path, &cfg, err, sizeof err), 0);
    unlink(path);
    rmdir(dir);
    kube_client_t *c = NULL;
    assert_int_equal(kube_client_new(cfg, NULL, &c, err, sizeof err), 0);
    push(200, POD, NULL);
    push(200, POD, NULL);
    kube_status_t st;
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", NULL, &st), 0);
    assert_int_equal(kube_get(c, &KUBE_RES_PODS, "ns", "p1", NULL, &st), 0);
    assert_true(g.rec[0].peer_cert_valid);
    assert_string_equal(g.rec[0].peer_cn, "kubernetes-admin");
    assert_string_equal(g.rec[0].auth, "");
    kube_client_free(c);

    /* without the CA the server certificate does not verify: a transport error (POST: once) */
    cfg = cfg_for(h->url, "t");
    assert_int_equal(kube_client_new(cfg, NULL, &c, err, sizeof err), 0);
    json_t *pod = json_loads(POD, 0, NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, pod, NULL, &st), -EIO);
    assert_int_equal(st.code, 0);
    kube_client_free(c);
    /* insecure-skip-tls-verify: accepted without a CA */
    cfg = cfg_for(h->url, "t");
    cfg->insecure = true;
    assert_int_equal(kube_client_new(cfg, NULL, &c, err, sizeof err), 0);
    push(201, POD, NULL);
    assert_int_equal(kube_create(c, &KUBE_RES_PODS, NULL, pod, NULL, &st), 0);
    assert_int_equal(nrequests(), 3);
    assert_false(g.rec[2].peer_cert_valid);
    assert_string_equal(g.rec[2].auth, "Bearer t");
    json_decref(pod);
    kube_client_free(c);
    harness_stop(h);
    certs_free(&b);
}

static void test_warning_logged(void **state)
{
    harness_t *h = harness_start();
    kube_client_t *c = client_for(h, NULL);
    char path[] = "/tmp/test_kube_client_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, fd);
    push(200, "{}", "Warning: 299 - \"v1 Widget is deprecated\"\r\n");
    assert_int_equal(kube_request(c, "GET", "/apis/x/v1/widgets", NULL, NULL, 0, NULL, NULL), 0);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    char buf[2048] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = 0;
    close(fd);
    unlink(path);
    assert_non_null(strstr(buf, "v1 Widget is deprecated"));
    assert_non_null(strstr(buf, "level=warn"));
    kube_client_free(c);
    harness_stop(h);
}

/* Several threads share one client: each gets its own handle; every request is answered. */
typedef struct worker {
    kube_client_t *c;
    int ok;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 10; i++) {
        json_t *out = NULL;
        if (kube_get(w->c, &KUBE_RES_PODS, "ns", "p1", &out, NULL) == 0 && out) w->ok++;
        json_decref(out);
    }
    return NULL;
}

static void test_threads_and_setup_easy(void **state)
{
    harness_t *h = harness_start();
    pthread_mutex_lock(&g.mu);
    g.fallback = (canned_t){200, (char *)POD, NULL};
    pthread_mutex_unlock(&g.mu);
    kube_client_t *c = client_for(h, NULL);
    pthread_t th[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){c, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 10);
    }
    assert_int_equal(nrequests(), 40);

    /* an easy handle prepared for an asynchronous user */
    CURL *e = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    assert_int_equal(kube_client_setup_easy(c, e, "/api/v1/pods?watch=1", &hdrs), 0);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    fclose(devnull);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdrs);
    assert_string_equal(g.rec[40].path, "/api/v1/pods");
    assert_string_equal(g.rec[40].query, "watch=1");
    assert_string_equal(g.rec[40].auth, "Bearer tok");
    assert_string_equal(g.rec[40].accept, "application/json");
    kube_client_free(c);
    harness_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),           cmocka_unit_test(test_get_headers),
        cmocka_unit_test(test_retry_after),     cmocka_unit_test(test_401_rereads_token),
        cmocka_unit_test(test_error_mapping),   cmocka_unit_test(test_delete_and_writes),
        cmocka_unit_test(test_update_retry),    cmocka_unit_test(test_qps),
        cmocka_unit_test(test_list_pagination), cmocka_unit_test(test_transport_errors),
        cmocka_unit_test(test_timeout),         cmocka_unit_test(test_tls_client_cert),
        cmocka_unit_test(test_warning_logged),  cmocka_unit_test(test_threads_and_setup_easy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
