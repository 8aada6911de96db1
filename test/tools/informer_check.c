/* informer_check: end-to-end proof of the informer against a live API server (localcluster with
 * fault injection): writer threads create, update and delete N ConfigMaps while an informer on a
 * loop thread feeds a work queue whose reconciles record the state they saw; at the end the
 * cache must equal the server's list and every key's last reconcile must have seen its final
 * state (or its absence). Exit 0 only if everything matches. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/ratelimit.h"
#include "kube/workqueue.h"

typedef struct check {
    kube_client_t *client;
    const char *ns;
    int n, threads, workers, updates, delete_pct;
    double timeout_s;
    /* loop thread */
    uv_loop_t loop;
    uv_async_t stop_async;
    kube_informer_t *inf;
    kube_queue_t *q;
    /* key -> rv string (reconcile saw the object) or null (saw it absent) */
    pthread_mutex_t mu;
    json_t *seen;
    int lag_ms; /* > 0: slow watch delivery this much for a while, so versions expire */
    atomic_long writes, write_failures, write_gaveup, reconciles, created;
} check_t;

static void usage(void)
{
    fprintf(stderr,
            "usage: informer_check [--kubeconfig FILE] [-n COUNT] [--threads T] [--workers W]\n"
            "       [--updates U] [--delete-pct P] [--namespace NS] [--timeout SECONDS]\n"
            "       [--lag-ms MS] [--crd-wait] [-v]\n"
            "Creates COUNT ConfigMaps in NS, updates each 1..U times and deletes P %% of them\n"
            "while an informer watches; exits 0 when the informer's cache equals the server's\n"
            "state and every key's last reconcile saw its final state. --lag-ms: once every\n"
            "object exists, set localcluster's watchDelayMs fault (PUT /admin/faults) until\n"
            "the informer saw an expired version (410), then back to 0. --crd-wait instead\n"
            "checks that an informer on a type whose CRD is missing waits, then syncs.\n");
}

/* ---------- informer side ---------- */

static void enqueue(check_t *c, json_t *obj)
{
    char *key = kube_object_key(obj);
    if (key) kube_queue_add(c->q, key);
    free(key);
}

static void on_add(json_t *obj, void *ud)
{
    enqueue(ud, obj);
}

static void on_update(json_t *o, json_t *n, void *ud)
{
    enqueue(ud, n);
}

static void on_delete(json_t *obj, void *ud)
{
    enqueue(ud, obj);
}

static kube_result_t reconcile(const char *key, void *ud)
{
    check_t *c = ud;
    json_t *obj = kube_informer_get(c->inf, key);
    json_t *v = obj ? json_string(jsonx_str(obj, "metadata.resourceVersion", "")) : json_null();
    pthread_mutex_lock(&c->mu);
    json_object_set_new(c->seen, key, v);
    pthread_mutex_unlock(&c->mu);
    json_decref(obj);
    c->reconciles++;
    return (kube_result_t){0};
}

static void on_informer_stopped(void *ud)
{
    (void)ud;
}

static void on_stop_async(uv_async_t *a)
{
    check_t *c = a->data;
    kube_informer_stop(c->inf, on_informer_stopped, c);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *ud)
{
    check_t *c = ud;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---------- writers ---------- */

static bool retryable(int rc)
{
    return rc == -EAGAIN || rc == -EIO || rc == -EPROTO;
}

/* Runs one write with retries of injected failures; returns the final code. */
#define WRITE_RETRY(c, call)                                                                       \
    ({                                                                                             \
        int rc_, tries_ = 0;                                                                       \
        for (;;) {                                                                                 \
            (c)->writes++;                                                                         \
            rc_ = (call);                                                                          \
            if (!retryable(rc_)) break;                                                            \
            (c)->write_failures++;                                                                 \
            if (++tries_ > 50) {                                                                   \
                (c)->write_gaveup++;                                                               \
                break;                                                                             \
            }                                                                                      \
            usleep(5000);                                                                          \
        }                                                                                          \
        rc_;                                                                                       \
    })

typedef struct writer {
    check_t *c;
    int id;
    pthread_t th;
    int errors;
    atomic_bool done;
} writer_t;

static void name_of(int i, char *buf, size_t len)
{
    snprintf(buf, len, "cm-%05d", i);
}

static int set_v2(json_t *obj, void *ud)
{
    jsonx_set_new(obj, "data.v", json_string("2"));
    return 0;
}

static void report(writer_t *w, const char *what, const char *name, int rc, const kube_status_t *st)
{
    w->errors++;
    if (w->errors <= 5)
        fprintf(stderr, "writer %d: %s %s: %d %s\n", w->id, what, name, rc, st->message);
}

static void *writer_main(void *ud)
{
    writer_t *w = ud;
    check_t *c = w->c;
    char name[64];
    kube_status_t st;
    for (int i = w->id; i < c->n; i += c->threads) { /* create */
        name_of(i, name, sizeof name);
        json_t *obj = json_pack("{s:{s:s,s:{s:s}},s:{s:s,s:s}}", "metadata", "name", name, "labels",
                                "app", "informer-check", "data", "i", name, "v", "0");
        int rc =
            WRITE_RETRY(c, kube_create(c->client, &KUBE_RES_CONFIGMAPS, c->ns, obj, NULL, &st));
        json_decref(obj);
        if (rc && rc != -EEXIST) report(w, "create", name, rc, &st); /* EEXIST: a retried create */
        c->created++;
    }
    for (int i = w->id; i < c->n; i += c->threads) { /* merge patch */
        name_of(i, name, sizeof name);
        json_t *patch = json_pack("{s:{s:s}}", "data", "v", "1");
        int rc = WRITE_RETRY(c, kube_patch(c->client, &KUBE_RES_CONFIGMAPS, c->ns, name, NULL,
                                           KUBE_PATCH_MERGE, patch, NULL, &st));
        json_decref(patch);
        if (rc) report(w, "patch", name, rc, &st);
    }
    for (int u = 2; u <= c->updates; u++) /* read-modify-write with conflict retry */
        for (int i = w->id; i < c->n; i += c->threads) {
            if (i % c->updates < u - 1) continue;
            name_of(i, name, sizeof name);
            int rc = WRITE_RETRY(c, kube_update_retry(c->client, &KUBE_RES_CONFIGMAPS, c->ns, name,
                                                      NULL, set_v2, NULL, NULL, &st));
            if (rc) report(w, "update", name, rc, &st);
        }
    for (int i = w->id; i < c->n; i += c->threads) { /* delete */
        if (i % 100 >= c->delete_pct) continue;
        name_of(i, name, sizeof name);
        int rc = WRITE_RETRY(
            c, kube_delete(c->client, &KUBE_RES_CONFIGMAPS, c->ns, name, NULL, NULL, &st));
        if (rc && rc != -ENOENT) report(w, "delete", name, rc, &st);
    }
    atomic_store(&w->done, true);
    return NULL;
}

/* ---------- comparison ---------- */

/* key -> rv of the server's list. */
static json_t *server_state(check_t *c)
{
    for (int tries = 0; tries < 20; tries++) {
        json_t *list = NULL;
        kube_status_t st;
        int rc = kube_list(c->client, &KUBE_RES_CONFIGMAPS, c->ns, NULL, &list, &st);
        if (rc == 0) {
            json_t *m = json_object();
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(list, "items"), i, it)
            {
                char *key = kube_object_key(it);
                json_object_set_new(m, key,
                                    json_string(jsonx_str(it, "metadata.resourceVersion", "")));
                free(key);
            }
            json_decref(list);
            return m;
        }
        fprintf(stderr, "list failed: %d %s; retrying\n", rc, st.message);
        usleep(200000);
    }
    return NULL;
}

/* Compares; prints at most max differences when max > 0. Returns the number of differences. */
static size_t compare(check_t *c, json_t *server, int max, size_t *never_seen)
{
    size_t diffs = 0, unseen = 0;
    json_t *cache = json_object();
    json_t *all = kube_informer_list(c->inf);
    size_t i;
    json_t *it;
    json_array_foreach(all, i, it)
    {
        char *key = kube_object_key(it);
        json_object_set_new(cache, key, json_string(jsonx_str(it, "metadata.resourceVersion", "")));
        free(key);
    }
    json_decref(all);
    const char *key;
    json_t *v;
#define DIFF(...)                                                                                  \
    do {                                                                                           \
        if ((int)diffs < max) printf(__VA_ARGS__);                                                 \
        diffs++;                                                                                   \
    } while (0)
    json_object_foreach(server, key, v)
    {
        const char *cv = json_string_value(json_object_get(cache, key));
        if (!cv)
            DIFF("  %s: on the server (rv %s), not in the cache\n", key, json_string_value(v));
        else if (strcmp(cv, json_string_value(v)) != 0)
            DIFF("  %s: server rv %s, cache rv %s\n", key, json_string_value(v), cv);
    }
    json_object_foreach(cache, key, v)
    {
        if (!json_object_get(server, key))
            DIFF("  %s: in the cache (rv %s), not on the server\n", key, json_string_value(v));
    }
    /* every key ever written: its last reconcile saw the final state */
    pthread_mutex_lock(&c->mu);
    char name[300];
    for (int n = 0; n < c->n; n++) {
        char nm[64];
        name_of(n, nm, sizeof nm);
        snprintf(name, sizeof name, "%s/%s", c->ns, nm);
        json_t *want = json_object_get(server, name);
        json_t *seen = json_object_get(c->seen, name);
        if (!seen) {
            if (want)
                DIFF("  %s: never reconciled (server rv %s)\n", name, json_string_value(want));
            else
                unseen++; /* created and deleted between two lists: nothing to reconcile */
        } else if (!want && !json_is_null(seen)) {
            DIFF("  %s: deleted, last reconcile saw rv %s\n", name, json_string_value(seen));
        } else if (want && (json_is_null(seen) ||
                            strcmp(json_string_value(seen), json_string_value(want)) != 0)) {
            DIFF("  %s: server rv %s, last reconcile saw %s\n", name, json_string_value(want),
                 json_is_null(seen) ? "absent" : json_string_value(seen));
        }
    }
    pthread_mutex_unlock(&c->mu);
    json_decref(cache);
    if (never_seen) *never_seen = unseen;
    return diffs;
}

/* ---------- --crd-wait: an informer started before its CRD exists ---------- */

static const kube_resource_t WIDGETS = {"example.com", "v1", "widgets", "Widget", true};

static const char CRD[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\","
    "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\","
    "\"kind\":\"Widget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true}}}]}}";

/* Starts an informer on widgets.example.com before the CRD exists: it must not sync while the
 * type is missing; after the CRD is created it syncs and sees a new widget. Returns 0 if so. */
static int crd_wait(check_t *c)
{
    uv_loop_init(&c->loop);
    c->q = kube_queue_new("informer_check", NULL);
    kube_informer_options_t io = {.resource = &WIDGETS, .ns = c->ns};
    kube_informer_handlers_t h = {on_add, on_update, on_delete, c};
    if (kube_informer_new(&c->loop, c->client, &io, &h, &c->inf) != 0) return 1;
    uv_async_init(&c->loop, &c->stop_async, on_stop_async);
    c->stop_async.data = c;
    kube_informer_start(c->inf);
    pthread_t loop_th;
    pthread_create(&loop_th, NULL, loop_main, c);
    int fails = 0;
    sleep(2);
    bool early = kube_informer_has_synced(c->inf);
    printf("crd wait: synced before the CRD existed: %s\n", early ? "YES (wrong)" : "no");
    fails += early;
    kube_status_t st;
    int rc = WRITE_RETRY(c, kube_request(c->client, "POST",
                                         "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                         "application/json", CRD, strlen(CRD), NULL, &st));
    if (rc && rc != -EEXIST) {
        printf("crd wait: create CRD: %d %s\n", rc, st.message);
        fails++;
    }
    double t0 = kube_now_s();
    while (!kube_informer_has_synced(c->inf) && kube_now_s() - t0 < 90)
        usleep(10000);
    bool synced = kube_informer_has_synced(c->inf);
    printf("crd wait: synced %s %.1f s after the CRD was created\n", synced ? "yes" : "NO",
           kube_now_s() - t0);
    fails += !synced;
    json_t *w = json_pack("{s:s,s:s,s:{s:s},s:{s:i}}", "apiVersion", "example.com/v1", "kind",
                          "Widget", "metadata", "name", "w1", "spec", "size", 3);
    /* the type is served once the CRD is established: retry its NotFound briefly */
    for (int i = 0; i < 100; i++) {
        rc = WRITE_RETRY(c, kube_create(c->client, &WIDGETS, c->ns, w, NULL, &st));
        if (rc != -ENOTSUP) break;
        usleep(100000);
    }
    json_decref(w);
    char key[300];
    snprintf(key, sizeof key, "%s/w1", c->ns);
    json_t *got = NULL;
    for (int i = 0; i < 1000 && rc == 0 && !(got = kube_informer_get(c->inf, key)); i++)
        usleep(10000);
    printf("crd wait: new widget in the cache: %s\n", got ? "yes" : "NO");
    fails += !got;
    json_decref(got);
    uv_async_send(&c->stop_async);
    pthread_join(loop_th, NULL);
    uv_loop_close(&c->loop);
    kube_informer_free(c->inf);
    kube_queue_free(c->q);
    printf("%s\n", fails ? "FAIL" : "PASS");
    return fails ? 1 : 0;
}

/* PUT /admin/faults {"watchDelayMs":ms} on the API server (localcluster's fault knobs). */
static int set_watch_delay(check_t *c, int ms)
{
    char body[64];
    snprintf(body, sizeof body, "{\"watchDelayMs\":%d}", ms);
    kube_status_t st;
    int rc = WRITE_RETRY(c, kube_request(c->client, "PUT", "/admin/faults", "application/json",
                                         body, strlen(body), NULL, &st));
    if (rc) fprintf(stderr, "informer_check: PUT /admin/faults: %d %s\n", rc, st.message);
    return rc;
}

/* Sums rest_client_requests_total samples whose code is one of the fault codes. */
static long failed_requests(metrics_registry_t *reg)
{
    char *text = metrics_render(reg);
    long total = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "rest_client_requests_total{", 27) != 0) continue;
        char *code = strstr(line, "code=\"");
        if (!code) continue;
        int cv = atoi(code + 6);
        if (cv == 0 || cv == 429 || cv >= 500) total += atol(strrchr(line, ' ') + 1);
    }
    free(text);
    return total;
}

int main(int argc, char **argv)
{
    check_t c = {
        .n = 10000, .threads = 8, .workers = 4, .updates = 2, .delete_pct = 30, .timeout_s = 120};
    const char *kubeconfig = NULL;
    char nsbuf[64];
    snprintf(nsbuf, sizeof nsbuf, "informer-check-%d", (int)getpid());
    c.ns = nsbuf;
    int verbose = 0;
    bool crd_mode = false;
    static const struct option longopts[] = {{"kubeconfig", required_argument, 0, 'k'},
                                             {"threads", required_argument, 0, 't'},
                                             {"workers", required_argument, 0, 'w'},
                                             {"updates", required_argument, 0, 'u'},
                                             {"delete-pct", required_argument, 0, 'd'},
                                             {"namespace", required_argument, 0, 's'},
                                             {"timeout", required_argument, 0, 'T'},
                                             {"help", no_argument, 0, 'h'},
                                             {"lag-ms", required_argument, 0, 'L'},
                                             {"crd-wait", no_argument, 0, 'C'},
                                             {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "n:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            kubeconfig = optarg;
            break;
        case 'n':
            c.n = atoi(optarg);
            break;
        case 't':
            c.threads = atoi(optarg);
            break;
        case 'w':
            c.workers = atoi(optarg);
            break;
        case 'u':
            c.updates = atoi(optarg);
            break;
        case 'd':
            c.delete_pct = atoi(optarg);
            break;
        case 's':
            c.ns = optarg;
            break;
        case 'T':
            c.timeout_s = atof(optarg);
            break;
        case 'L':
            c.lag_ms = atoi(optarg);
            break;
        case 'C':
            crd_mode = true;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (c.n <= 0 || c.n > 1000000 || c.threads <= 0 || c.threads > 256 || c.workers <= 0 ||
        c.updates < 1 || c.delete_pct < 0 || c.delete_pct > 100 || optind != argc) {
        usage();
        return 2;
    }
    log_setup(verbose ? LOG_DEBUG : crd_mode ? LOG_INFO : LOG_WARN, LOG_FORMAT_TEXT, 2);

    char err[512];
    kube_config_t *cfg;
    if (kube_config_load(kubeconfig, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "informer_check: %s\n", err);
        return 2;
    }
    metrics_registry_t *reg = metrics_registry_new();
    kube_client_options_t copts = {.max_retries = -1, .metrics = reg}; /* we count retries */
    if (kube_client_new(cfg, &copts, &c.client, err, sizeof err) != 0) {
        fprintf(stderr, "informer_check: %s\n", err);
        return 2;
    }
    pthread_mutex_init(&c.mu, NULL);
    c.seen = json_object();

    kube_status_t st;
    json_t *nsobj = json_pack("{s:{s:s}}", "metadata", "name", c.ns);
    int rc = WRITE_RETRY(&c, kube_create(c.client, &KUBE_RES_NAMESPACES, NULL, nsobj, NULL, &st));
    json_decref(nsobj);
    if (rc && rc != -EEXIST) {
        fprintf(stderr, "informer_check: create namespace %s: %s\n", c.ns, st.message);
        return 1;
    }
    if (crd_mode) {
        int r = crd_wait(&c);
        json_decref(c.seen);
        kube_client_free(c.client);
        metrics_registry_free(reg);
        return r;
    }

    /* the informer on its loop thread, reconciles on workers */
    uv_loop_init(&c.loop);
    c.q = kube_queue_new("informer_check", NULL);
    kube_informer_options_t io = {.resource = &KUBE_RES_CONFIGMAPS, .ns = c.ns, .metrics = reg};
    kube_informer_handlers_t h = {on_add, on_update, on_delete, &c};
    if (kube_informer_new(&c.loop, c.client, &io, &h, &c.inf) != 0) return 1;
    uv_async_init(&c.loop, &c.stop_async, on_stop_async);
    c.stop_async.data = &c;
    kube_informer_start(c.inf);
    pthread_t loop_th;
    pthread_create(&loop_th, NULL, loop_main, &c);
    kube_workers_t *workers;
    kube_workers_start(c.q, c.workers, reconcile, &c, "informer_check", NULL, &workers);

    double t0 = kube_now_s();
    while (!kube_informer_has_synced(c.inf) && kube_now_s() - t0 < 30)
        usleep(10000);
    if (!kube_informer_has_synced(c.inf)) {
        fprintf(stderr, "informer_check: the informer did not sync within 30 s\n");
        return 1;
    }
    writer_t *ws = calloc((size_t)c.threads, sizeof *ws);
    for (int i = 0; i < c.threads; i++) {
        ws[i] = (writer_t){.c = &c, .id = i};
        pthread_create(&ws[i].th, NULL, writer_main, &ws[i]);
    }
    int lag_phase = 0; /* 1: lag set, 2: the informer saw an expired version under it */
    if (c.lag_ms > 0) {
        while (c.created < c.n && kube_now_s() - t0 < 600)
            usleep(10000);
        lag_phase = set_watch_delay(&c, c.lag_ms) == 0;
        kube_informer_stats_t s0;
        kube_informer_stats(c.inf, &s0);
        double tl = kube_now_s();
        /* Versions expire only if enough writes happen while the watch lags: once the writers
         * are done (a small N), keep writing one extra object ("lag-driver"; an ordinary key
         * for the final comparison) until the informer has met an expired version. */
        kube_status_t st;
        json_t *drv = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind",
                                "ConfigMap", "metadata", "name", "lag-driver", "data", "n", "0");
        int drv_rc = -1;
        for (long n = 1;; n++) {
            kube_informer_stats_t s1;
            kube_informer_stats(c.inf, &s1);
            if (s1.expired > s0.expired) {
                lag_phase = 2;
                break;
            }
            if (kube_now_s() - tl > 60) break;
            bool writers_done = true;
            for (int i = 0; i < c.threads; i++)
                writers_done = writers_done && atomic_load(&ws[i].done);
            if (!writers_done) {
                usleep(10000);
                continue;
            }
            if (drv_rc != 0 && drv_rc != -EEXIST) {
                drv_rc = kube_create(c.client, &KUBE_RES_CONFIGMAPS, c.ns, drv, NULL, &st);
                continue;
            }
            char v[32];
            snprintf(v, sizeof v, "%ld", n);
            json_t *patch = json_pack("{s:{s:s}}", "data", "n", v);
            (void)kube_patch(c.client, &KUBE_RES_CONFIGMAPS, c.ns, "lag-driver", NULL,
                             KUBE_PATCH_MERGE, patch, NULL, &st); /* injected failures: next */
            json_decref(patch);
        }
        json_decref(drv);
        set_watch_delay(&c, 0);
    }
    int write_errors = 0;
    for (int i = 0; i < c.threads; i++) {
        pthread_join(ws[i].th, NULL);
        write_errors += ws[i].errors;
    }
    free(ws);
    double t_writes = kube_now_s() - t0;

    /* the truth after every write is done; then wait for the informer to converge on it */
    json_t *server = server_state(&c);
    if (!server) return 1;
    size_t diffs = 1, unseen = 0;
    double t1 = kube_now_s();
    while (kube_now_s() - t1 < c.timeout_s) {
        diffs = compare(&c, server, 0, &unseen);
        if (diffs == 0) break;
        usleep(100000);
    }
    double t_converge = kube_now_s() - t1;
    kube_informer_stats_t s;
    kube_informer_stats(c.inf, &s);
    long failed = failed_requests(reg);

    printf("informer_check: namespace %s\n", c.ns);
    printf("objects:            %d created, %zu on the server at the end, %zu in the cache\n", c.n,
           json_object_size(server), kube_informer_count(c.inf));
    printf("writes:             %ld requests (%ld failed and retried, %d gave up/errors), %.1f s\n",
           (long)c.writes, (long)c.write_failures, write_errors, t_writes);
    printf("injected failures:  %ld failed API responses seen by the client\n", failed);
    printf("informer:           %lu lists, %lu relists, %lu watches, %lu watch restarts "
           "(%lu expired), %lu events\n",
           s.lists, s.relists, s.watches, s.watch_restarts, s.expired, s.events);
    if (c.lag_ms > 0)
        printf("lag phase:          watchDelayMs %d %s\n", c.lag_ms,
               lag_phase == 2 ? "until a version expired" : "FAILED to make versions expire");
    printf("reconciles:         %ld (%zu keys created and deleted unseen)\n", (long)c.reconciles,
           unseen);
    printf("converged:          %s after %.1f s\n", diffs == 0 ? "yes" : "NO", t_converge);
    if (diffs) {
        printf("differences (%zu):\n", diffs);
        compare(&c, server, 20, NULL);
    }
    json_decref(server);

    kube_workers_stop(workers);
    uv_async_send(&c.stop_async);
    pthread_join(loop_th, NULL);
    uv_loop_close(&c.loop);
    kube_informer_free(c.inf);
    kube_queue_free(c.q);
    json_decref(c.seen);
    kube_client_free(c.client);
    metrics_registry_free(reg);
    pthread_mutex_destroy(&c.mu);
    int ok =
        diffs == 0 && write_errors == 0 && c.write_gaveup == 0 && (c.lag_ms <= 0 || lag_phase == 2);
    printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
