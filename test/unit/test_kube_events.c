/* test_kube_events: the pure parts of the event recorder: the repeat key (same object, type,
 * reason and message fold together; any difference does not), the Event's namespace and name,
 * and the core/v1 Event body; then the recorder against a small scripted API server: create,
 * repeats PATCHed with a growing count, a vanished event re-created, LRU eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/http_server.h"
#include "base/jsonx.h"
#include "kube/config.h"
#include "kube/events.h"
#include "support/kubeconfig.h"
#include "support/server_thread.h"

static json_t *obj(const char *kind, const char *ns, const char *name, const char *uid)
{
    json_t *o =
        json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "sandbox.opensandbox.io/v1alpha1",
                  "kind", kind, "metadata", "name", name, "resourceVersion", "17");
    if (ns) json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string(ns));
    if (uid) json_object_set_new(json_object_get(o, "metadata"), "uid", json_string(uid));
    return o;
}

typedef struct {
    const char *what;
    const char *uid2, *type2, *reason2, *msg2; /* the second event; the first is u1/Normal/R/m */
    bool same;
} key_case_t;

static const key_case_t KEYS[] = {
    {"identical repeat", "u1", "Normal", "R", "m", true},
    {"other object", "u2", "Normal", "R", "m", false},
    {"other type", "u1", "Warning", "R", "m", false},
    {"other reason", "u1", "Normal", "R2", "m", false},
    {"other message", "u1", "Normal", "R", "m2", false},
    /* fields must not run into each other */
    {"reason/message boundary", "u1", "Normal", "Rm", "", false},
};

static void test_keys(void **state)
{
    (void)state;
    json_t *a = obj("Pool", "ns", "p", "u1");
    char *k1 = kube_event_key(a, "Normal", "R", "m");
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        json_t *b = obj("Pool", "ns", "p", KEYS[i].uid2);
        char *k2 = kube_event_key(b, KEYS[i].type2, KEYS[i].reason2, KEYS[i].msg2);
        if ((strcmp(k1, k2) == 0) != KEYS[i].same)
            fail_msg("%s: keys %s", KEYS[i].what, KEYS[i].same ? "differ" : "equal");
        free(k2);
        json_decref(b);
    }
    free(k1);
    json_decref(a);

    /* without a uid, namespace/name identify the object */
    json_t *x = obj("Pool", "ns", "p", NULL), *y = obj("Pool", "ns2", "p", NULL);
    char *kx = kube_event_key(x, "Normal", "R", "m"), *ky = kube_event_key(y, "Normal", "R", "m");
    assert_string_not_equal(kx, ky);
    free(kx);
    free(ky);
    json_decref(x);
    json_decref(y);
}

static void test_namespace_and_name(void **state)
{
    (void)state;
    json_t *a = obj("Pool", "team-a", "pool-1", "u1");
    json_t *c = obj("Namespace", NULL, "team-a", "u2");
    assert_string_equal(kube_event_namespace(a), "team-a");
    assert_string_equal(kube_event_namespace(c), "default"); /* cluster-scoped objects */
    char name[128];
    kube_event_name(a, 1700000000, 5, name, sizeof(name));
    /* client-go: fmt.Sprintf("%v.%x", name, t.UnixNano()) */
    assert_string_equal(name, "pool-1.17979cfe362a0005");
    json_decref(a);
    json_decref(c);
}

static void test_body(void **state)
{
    (void)state;
    json_t *a = obj("BatchSandbox", "ns1", "bs", "uid-9");
    json_t *e = kube_event_body(a, "bs.abc", "Warning", "AllocFailed", "no pods",
                                "sandbox-controller", "node-1", "2024-01-02T03:04:05Z");
    assert_string_equal(jsonx_str(e, "apiVersion", ""), "v1");
    assert_string_equal(jsonx_str(e, "kind", ""), "Event");
    assert_string_equal(jsonx_str(e, "metadata.name", ""), "bs.abc");
    assert_string_equal(jsonx_str(e, "metadata.namespace", ""), "ns1");
    assert_string_equal(jsonx_str(e, "involvedObject.kind", ""), "BatchSandbox");
    assert_string_equal(jsonx_str(e, "involvedObject.namespace", ""), "ns1");
    assert_string_equal(jsonx_str(e, "involvedObject.name", ""), "bs");
    assert_string_equal(jsonx_str(e, "involvedObject.uid", ""), "uid-9");
    assert_string_equal(jsonx_str(e, "involvedObject.apiVersion", ""),
                        "sandbox.opensandbox.io/v1alpha1");
    assert_string_equal(jsonx_str(e, "involvedObject.resourceVersion", ""), "17");
    assert_string_equal(jsonx_str(e, "type", ""), "Warning");
    assert_string_equal(jsonx_str(e, "reason", ""), "AllocFailed");
    assert_string_equal(jsonx_str(e, "message", ""), "no pods");
    assert_string_equal(jsonx_str(e, "source.component", ""), "sandbox-controller");
    assert_string_equal(jsonx_str(e, "source.host", ""), "node-1");
    assert_string_equal(jsonx_str(e, "reportingComponent", ""), "sandbox-controller");
    assert_string_equal(jsonx_str(e, "firstTimestamp", ""), "2024-01-02T03:04:05Z");
    assert_string_equal(jsonx_str(e, "lastTimestamp", ""), "2024-01-02T03:04:05Z");
    assert_int_equal(jsonx_int(e, "count", 0), 1);
    json_decref(e);

    /* a cluster-scoped object: the event lives in "default", involvedObject has no namespace */
    json_t *c = obj("Namespace", NULL, "team-a", "u2");
    e = kube_event_body(c, "team-a.1", "Normal", "R", "m", "c", NULL, "2024-01-02T03:04:05Z");
    assert_string_equal(jsonx_str(e, "metadata.namespace", ""), "default");
    assert_null(jsonx_get(e, "involvedObject.namespace"));
    assert_null(jsonx_get(e, "source.host"));
    json_decref(e);
    json_decref(c);
    json_decref(a);
}

static void test_null_recorder(void **state)
{
    (void)state;
    json_t *a = obj("Pool", "ns", "p", "u1");
    assert_int_equal(kube_event_record(NULL, a, "Normal", "R", "m"), 0); /* events disabled */
    json_decref(a);
}

/* ---- the recorder against a scripted server ---- */

#define MAXREQ 16
static struct {
    pthread_mutex_t mu;
    int n; /* requests seen */
    char method[MAXREQ][8];
    char path[MAXREQ][256];
    char *body[MAXREQ];
    int patch_status; /* answer to PATCH (200 or 404) */
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .patch_status = 200};

static void handler(http_request_t *req, void *ud)
{
    pthread_mutex_lock(&srv.mu);
    int i = srv.n++ % MAXREQ;
    snprintf(srv.method[i], sizeof(srv.method[i]), "%.7s", req->method);
    snprintf(srv.path[i], sizeof(srv.path[i]), "%.255s", req->path);
    free(srv.body[i]);
    srv.body[i] = strdup(req->body);
    int code = strcmp(req->method, "PATCH") == 0 ? srv.patch_status : 201;
    pthread_mutex_unlock(&srv.mu);
    const char *body = code == 404 ? "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\","
                                     "\"details\":{\"name\":\"x\",\"kind\":\"events\"}}"
                                   : req->body;
    http_respond(req, code, "application/json", body, strlen(body), NULL);
}

/* The last request's method, path and body (body borrowed until the next request). */
static void last(const char **method, const char **path, json_t **body)
{
    pthread_mutex_lock(&srv.mu);
    int i = (srv.n - 1) % MAXREQ;
    *method = srv.method[i];
    *path = srv.path[i];
    *body = json_loads(srv.body[i], 0, NULL);
    pthread_mutex_unlock(&srv.mu);
}

static void test_recorder(void **state)
{
    (void)state;
    server_thread_t st;
    assert_int_equal(server_thread_start(&st, NULL, handler, NULL, NULL, 0), 0);
    kube_config_t *kcfg = test_kubeconfig(st.url, NULL);
    assert_non_null(kcfg);
    kube_client_t *client = NULL;
    assert_int_equal(kube_client_new(kcfg, NULL, &client, NULL, 0), 0);

    kube_events_t *ev = kube_events_new(client, "sandbox-controller", "node-1");
    json_t *pool = obj("Pool", "ns1", "p", "u1");
    const char *method, *path;
    json_t *body;
    unsigned long created, patched;

    /* first: a new Event */
    assert_int_equal(kube_event_record(ev, pool, "Normal", "Scaled", "to 3"), 0);
    last(&method, &path, &body);
    assert_string_equal(method, "POST");
    assert_string_equal(path, "/api/v1/namespaces/ns1/events");
    assert_int_equal(jsonx_int(body, "count", 0), 1);
    char name[256];
    snprintf(name, sizeof(name), "%s", jsonx_str(body, "metadata.name", ""));
    assert_int_equal(strncmp(name, "p.", 2), 0);
    json_decref(body);

    /* repeats: PATCH that event's count */
    for (int want = 2; want <= 3; want++) {
        assert_int_equal(kube_event_record(ev, pool, "Normal", "Scaled", "to 3"), 0);
        last(&method, &path, &body);
        assert_string_equal(method, "PATCH");
        char want_path[400];
        snprintf(want_path, sizeof(want_path), "/api/v1/namespaces/ns1/events/%s", name);
        assert_string_equal(path, want_path);
        assert_int_equal(jsonx_int(body, "count", 0), want);
        assert_non_null(jsonx_get(body, "lastTimestamp"));
        json_decref(body);
    }
    /* another message: another Event */
    assert_int_equal(kube_event_record(ev, pool, "Normal", "Scaled", "to 4"), 0);
    last(&method, &path, &body);
    assert_string_equal(method, "POST");
    json_decref(body);
    kube_events_counts(ev, &created, &patched);
    assert_int_equal(created, 2);
    assert_int_equal(patched, 2);

    /* the event was deleted (TTL): the PATCH gets 404 and a fresh Event is created */
    pthread_mutex_lock(&srv.mu);
    srv.patch_status = 404;
    int before = srv.n;
    pthread_mutex_unlock(&srv.mu);
    assert_int_equal(kube_event_record(ev, pool, "Normal", "Scaled", "to 3"), 0);
    last(&method, &path, &body);
    assert_string_equal(method, "POST");
    assert_int_equal(jsonx_int(body, "count", 0), 1);
    json_decref(body);
    pthread_mutex_lock(&srv.mu);
    assert_int_equal(srv.n - before, 2); /* PATCH, then POST */
    srv.patch_status = 200;
    pthread_mutex_unlock(&srv.mu);

    /* the map is bounded: after KUBE_EVENT_LRU_SIZE other events, the first is forgotten */
    for (int i = 0; i < KUBE_EVENT_LRU_SIZE; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "m%d", i);
        assert_int_equal(kube_event_record(ev, pool, "Normal", "Other", msg), 0);
    }
    assert_int_equal(kube_event_record(ev, pool, "Normal", "Scaled", "to 3"), 0);
    last(&method, &path, &body);
    assert_string_equal(method, "POST");
    json_decref(body);
    /* ...while a recent one is still folded */
    assert_int_equal(kube_event_record(ev, pool, "Normal", "Other", "m4095"), 0);
    last(&method, &path, &body);
    assert_string_equal(method, "PATCH");
    json_decref(body);

    json_decref(pool);
    kube_events_free(ev);
    assert_int_equal(server_thread_stop(&st), 0);
    kube_client_free(client);
    for (int i = 0; i < MAXREQ; i++)
        free(srv.body[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),     cmocka_unit_test(test_namespace_and_name),
        cmocka_unit_test(test_body),     cmocka_unit_test(test_null_recorder),
        cmocka_unit_test(test_recorder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
