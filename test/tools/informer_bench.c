/* informer_bench: what the informer costs on 10,000 pods (bench/informer_bench.sh runs it against
 * the release build): time to list + sync, memory per cached pod (RSS and malloc'd bytes), CPU
 * seconds for the list and for watching one update of every pod. A forked child creates and
 * updates the pods so its allocations never count against the informer's. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/ratelimit.h"

static const char *g_kubeconfig;
static const char *g_ns = "informer-bench";
static int g_n = 10000, g_threads = 8;
static atomic_long g_updates;
static char g_state[32]; /* the label value this run's updates set */

static kube_client_t *client_new(void)
{
    char err[512];
    kube_config_t *cfg;
    kube_client_t *c;
    if (kube_config_load(g_kubeconfig, &cfg, err, sizeof err) != 0 ||
        kube_client_new(cfg, NULL, &c, err, sizeof err) != 0) {
        fprintf(stderr, "informer_bench: %s\n", err);
        exit(2);
    }
    return c;
}

/* ---------- the child: writes ---------- */

typedef struct wr {
    kube_client_t *c;
    int id;
    bool update;
} wr_t;

static json_t *pod(int i)
{
    char name[64];
    snprintf(name, sizeof name, "bench-%05d", i);
    return json_pack(
        "{s:{s:s,s:{s:s,s:s,s:s}},s:{s:[{s:s,s:s,s:[s,s,s],s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:s,s:s},"
        "s:{s:s,s:s}}}]}}",
        "metadata", "name", name, "labels", "app", "sandbox", "pool", "pool-a",
        "sandbox.opensandbox.io/pool", "pool-a", "spec", "containers", "name", "main", "image",
        "registry.example.com/sandbox/runtime:1.2.3", "command", "/bin/sh", "-c", "sleep infinity",
        "env", "name", "POOL", "value", "pool-a", "name", "MODE", "value", "warm", "resources",
        "requests", "cpu", "100m", "memory", "128Mi", "limits", "cpu", "1", "memory", "512Mi");
}

static void *writer(void *ud)
{
    wr_t *w = ud;
    for (int i = w->id; i < g_n; i += g_threads) {
        kube_status_t st;
        int rc;
        if (w->update) {
            char name[64];
            snprintf(name, sizeof name, "bench-%05d", i);
            json_t *p = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "state", g_state);
            rc = kube_patch(w->c, &KUBE_RES_PODS, g_ns, name, NULL, KUBE_PATCH_MERGE, p, NULL, &st);
            json_decref(p);
        } else {
            json_t *p = pod(i);
            /* a new namespace's default service account appears a moment later (403 first) */
            for (int tries = 0;; tries++) {
                rc = kube_create(w->c, &KUBE_RES_PODS, g_ns, p, NULL, &st);
                if (rc != -EACCES || tries > 100) break;
                usleep(50000);
            }
            json_decref(p);
            if (rc == -EEXIST) rc = 0;
        }
        if (rc) {
            fprintf(stderr, "informer_bench: write %d: %s\n", i, st.message);
            exit(1);
        }
    }
    return NULL;
}

/* Runs the writes in a child process; returns when it has finished. */
static void child_writes(bool update)
{
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
        kube_client_t *c = client_new();
        if (!update) {
            json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", g_ns);
            kube_create(c, &KUBE_RES_NAMESPACES, NULL, ns, NULL, NULL);
            json_decref(ns);
        }
        pthread_t th[64];
        wr_t w[64];
        for (int i = 0; i < g_threads; i++) {
            w[i] = (wr_t){c, i, update};
            pthread_create(&th[i], NULL, writer, &w[i]);
        }
        for (int i = 0; i < g_threads; i++)
            pthread_join(th[i], NULL);
        kube_client_free(c);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) exit(1);
}

/* ---------- the informer ---------- */

/* What a sandbox controller needs of a pod. */
static json_t *minimal(json_t *obj, void *ud)
{
    json_t *md = json_object_get(obj, "metadata");
    json_t *out = json_object();
    json_t *m = json_object();
    static const char *const keep_md[] = {"name",
                                          "namespace",
                                          "uid",
                                          "resourceVersion",
                                          "labels",
                                          "ownerReferences",
                                          "deletionTimestamp",
                                          "finalizers",
                                          "annotations",
                                          NULL};
    for (const char *const *k = keep_md; *k; k++) {
        json_t *v = json_object_get(md, *k);
        if (v) json_object_set(m, *k, v);
    }
    json_object_set_new(out, "metadata", m);
    json_t *node = jsonx_get(obj, "spec.nodeName");
    if (node) jsonx_set_new(out, "spec.nodeName", json_incref(node));
    static const char *const keep_st[] = {"phase", "podIP", "conditions", NULL};
    for (const char *const *k = keep_st; *k; k++) {
        json_t *v = json_object_get(json_object_get(obj, "status"), *k);
        if (v) json_object_set(jsonx_obj(out, "status"), *k, v);
    }
    json_decref(obj);
    return out;
}

static void on_update(json_t *o, json_t *n, void *ud)
{
    if (strcmp(jsonx_str(n, "metadata.labels.state", ""), g_state) == 0 &&
        strcmp(jsonx_str(o, "metadata.labels.state", ""), g_state) != 0)
        g_updates++;
}

static uv_loop_t g_loop;
static uv_async_t g_stop;
static kube_informer_t *g_inf;

static void on_stopped(void *ud) {}

static void on_stop(uv_async_t *a)
{
    kube_informer_stop(g_inf, on_stopped, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *ud)
{
    uv_run(&g_loop, UV_RUN_DEFAULT);
    return NULL;
}

typedef struct tally {
    long objects, arrays, strings, numbers, other, keys;
} tally_t;

static void count_nodes(json_t *v, tally_t *t)
{
    const char *k;
    json_t *x;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        t->objects++;
        json_object_foreach(v, k, x)
        {
            t->keys++;
            count_nodes(x, t);
        }
        break;
    case JSON_ARRAY:
        t->arrays++;
        json_array_foreach(v, i, x) count_nodes(x, t);
        break;
    case JSON_STRING:
        t->strings++;
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        t->numbers++;
        break;
    default:
        t->other++;
        break;
    }
}

/* What the compact store costs on reads: the cache keeps compact JSON text and decodes on every
 * read, so time a full list and a get of every key; also the shape of the decoded pods. */
static void breakdown(size_t count, double heap_kib)
{
    double t0 = kube_now_s();
    json_t *all = kube_informer_list(g_inf);
    double list_s = kube_now_s() - t0;
    tally_t t = {0};
    size_t i, n = json_array_size(all);
    json_t *o;
    json_array_foreach(all, i, o) count_nodes(o, &t);
    double t1 = kube_now_s();
    json_array_foreach(all, i, o)
    {
        char *key = kube_object_key(o);
        json_decref(kube_informer_get(g_inf, key));
        free(key);
    }
    double get_s = kube_now_s() - t1;
    json_decref(all);
    double nodes = (double)(t.objects + t.arrays + t.strings + t.numbers + t.other) / (double)n;
    printf("| jansson nodes per decoded pod (objects/arrays/strings/numbers/other, keys) | %.1f "
           "(%.1f/%.1f/%.1f/%.1f/%.1f, %.1f) | - |\n",
           nodes, (double)t.objects / n, (double)t.arrays / n, (double)t.strings / n,
           (double)t.numbers / n, (double)t.other / n, (double)t.keys / n);
    printf("| read cost: list of all %zu pods (decoded) | %.0f ms | - |\n", n, list_s * 1e3);
    printf("| read cost: get of one pod (decoded) | %.1f us | - |\n",
           n ? get_s * 1e6 / (double)n : 0.0);
    (void)count;
    (void)heap_kib;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
    const char *transform = "default";
    static const struct option longopts[] = {{"kubeconfig", required_argument, 0, 'k'},
                                             {"transform", required_argument, 0, 't'},
                                             {"skip-create", no_argument, 0, 's'},
                                             {0, 0, 0, 0}};
    int opt;
    bool skip_create = false;
    while ((opt = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            g_kubeconfig = optarg;
            break;
        case 'n':
            g_n = atoi(optarg);
            break;
        case 't':
            transform = optarg;
            break;
        case 's':
            skip_create = true;
            break;
        default:
            fprintf(stderr, "usage: informer_bench [--kubeconfig F] [-n N] [--transform "
                            "default|minimal] [--skip-create]\n");
            return 2;
        }
    }
    bool min = strcmp(transform, "minimal") == 0;
    if (!min && strcmp(transform, "default") != 0) return 2;
    log_setup(LOG_WARN, LOG_FORMAT_TEXT, 2);
    snprintf(g_state, sizeof g_state, "allocated-%d", (int)getpid());
    if (!skip_create) child_writes(false);

    kube_client_t *c = client_new();
    uv_loop_init(&g_loop);
    uv_async_init(&g_loop, &g_stop, on_stop);
    kube_informer_options_t o = {
        .resource = &KUBE_RES_PODS, .ns = g_ns, .transform = min ? minimal : NULL};
    kube_informer_handlers_t h = {.on_update = on_update};
    kube_informer_new(&g_loop, c, &o, &h, &g_inf);
    malloc_trim(0);
    struct mallinfo2 mi0 = mallinfo2();
    long rss0 = rss_kib();
    double cpu0 = cpu_s(), t0 = kube_now_s();
    kube_informer_start(g_inf);
    pthread_t th;
    pthread_create(&th, NULL, loop_main, NULL);
    while (!kube_informer_has_synced(g_inf))
        usleep(1000);
    double t_sync = kube_now_s() - t0, cpu_list = cpu_s() - cpu0;
    size_t count = kube_informer_count(g_inf);
    usleep(200000); /* let the watch settle */
    malloc_trim(0);
    struct mallinfo2 mi1 = mallinfo2();
    long rss1 = rss_kib();

    double cpu1 = cpu_s(), t1 = kube_now_s();
    child_writes(true);
    while (g_updates < g_n && kube_now_s() - t1 < 120)
        usleep(1000);
    double t_watch = kube_now_s() - t1, cpu_watch = cpu_s() - cpu1;

    double per_rss = (double)(rss1 - rss0) / (double)count;
    double per_heap = (double)(mi1.uordblks - mi0.uordblks) / 1024.0 / (double)count;
    printf("informer on %zu pods, transform %s\n", count, transform);
    printf("| figure | measured | target |\n|---|---|---|\n");
    printf("| list + sync time | %.2f s | - |\n", t_sync);
    printf("| CPU for list + sync | %.2f s | - |\n", cpu_list);
    printf("| RSS per cached pod | %.2f KiB | <= 2 KiB |\n", per_rss);
    printf("| malloc'd bytes per cached pod | %.2f KiB | <= 2 KiB |\n", per_heap);
    printf("| watch: %ld updates seen in | %.2f s | - |\n", (long)g_updates, t_watch);
    printf("| CPU for watching %d updates | %.2f s (%.1f us/event) | - |\n", g_n, cpu_watch,
           cpu_watch / g_n * 1e6);

    breakdown(count, per_heap);
    uv_async_send(&g_stop);
    pthread_join(th, NULL);
    uv_loop_close(&g_loop);
    kube_informer_free(g_inf);
    kube_client_free(c);
    return g_updates >= g_n ? 0 : 1;
}
