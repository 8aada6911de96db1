/* controller: the operator's process. It owns flags, configuration and the
 * wiring: one client, informers for Pools, BatchSandboxes and pool Pods on a
 * libuv loop (this thread), a work queue and workers per kind, leader election,
 * events, /healthz /readyz /metrics, and shutdown. The reconcilers here only
 * read the cache and log what they see: the real Pool and BatchSandbox
 * reconcilers are later issues. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/health.h"
#include "kube/informer.h"
#include "kube/leader.h"
#include "kube/workqueue.h"

#define COMPONENT       "sandbox-controller"
#define LABEL_POOL_NAME "sandbox.opensandbox.io/pool-name"
#define SANDBOX_GROUP   "sandbox.opensandbox.io/"
#define EXIT_USAGE      2

/* ---- flags ---- */

typedef struct opts {
    const char *kubeconfig;
    bool leader_elect;
    const char *le_namespace; /* NULL = the configuration's namespace */
    const char *le_id;
    const char *probe_addr;
    const char *metrics_addr;
    int concurrency;
    double qps;
    int burst;
    log_format_t log_format;
    log_level_t log_level;
    const char *watch_ns; /* NULL = all namespaces */
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: controller [flags]\n"
               "\n"
               "The pooled-sandbox operator: watches Pools, BatchSandboxes and pool "
               "Pods and reconciles\n"
               "them (reconcilers: later issues; for now they log what they see at --v "
               "1).\n"
               "\n"
               "  --kubeconfig PATH                 kubeconfig file (default: "
               "$KUBECONFIG, ~/.kube/config,\n"
               "                                    then the in-cluster service "
               "account)\n"
               "  --leader-elect[=true|false]       elect a leader through a Lease "
               "before reconciling\n"
               "                                    (default false)\n"
               "  --leader-election-namespace NS    the Lease's namespace (default: the "
               "kubeconfig\n"
               "                                    context's or the pod's namespace)\n"
               "  --leader-election-id NAME         the Lease's name (default "
               "sandbox-controller.opensandbox.io)\n"
               "  --health-probe-bind-address ADDR  /healthz and /readyz (default "
               ":8081; 0 disables)\n"
               "  --metrics-bind-address ADDR       /metrics (default :8080; 0 "
               "disables)\n"
               "                                    ADDR is HOST:PORT, :PORT (all "
               "interfaces) or\n"
               "                                    127.0.0.1:0 (a free port, logged at "
               "start)\n"
               "  --concurrency N                   workers per controller (default 1, "
               "as controller-runtime)\n"
               "  --kube-client-qps QPS             client-side request rate limit "
               "(default 0 = unlimited;\n"
               "                                    the API server's priority and "
               "fairness throttles)\n"
               "  --kube-client-burst N             burst for --kube-client-qps "
               "(default: QPS rounded up)\n"
               "  --namespace NS                    watch only this namespace (default: "
               "all)\n"
               "  --log-format text|json            log line format (default text)\n"
               "  --log-level error|warn|info|debug|trace\n"
               "  --v N                             verbosity: 0 info, 1-3 debug, 4+ "
               "trace (default 0)\n"
               "  --help                            this text\n");
}

static int bad_flag(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "controller: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\nRun 'controller --help' for usage.\n");
    return EXIT_USAGE;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!s || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "t"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "f"))
        *out = false;
    else
        return false;
    return true;
}

enum {
    OPT_KUBECONFIG = 256,
    OPT_LEADER_ELECT,
    OPT_LE_NS,
    OPT_LE_ID,
    OPT_PROBE,
    OPT_METRICS,
    OPT_CONCURRENCY,
    OPT_QPS,
    OPT_BURST,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_NAMESPACE,
    OPT_HELP,
};

/* Returns -1 to go on, or an exit code. */
static int parse_flags(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
        {"leader-elect", optional_argument, NULL, OPT_LEADER_ELECT},
        {"leader-election-namespace", required_argument, NULL, OPT_LE_NS},
        {"leader-election-id", required_argument, NULL, OPT_LE_ID},
        {"health-probe-bind-address", required_argument, NULL, OPT_PROBE},
        {"metrics-bind-address", required_argument, NULL, OPT_METRICS},
        {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
        {"kube-client-qps", required_argument, NULL, OPT_QPS},
        {"kube-client-burst", required_argument, NULL, OPT_BURST},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"v", required_argument, NULL, 'v'},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    *o = (opts_t){
        .le_id = "sandbox-controller.opensandbox.io",
        .probe_addr = ":8081",
        .metrics_addr = ":8080",
        .concurrency = 1,
        .log_format = LOG_FORMAT_TEXT,
        .log_level = LOG_INFO,
    };
    opterr = 0;
    int c;
    long v;
    char host[128];
    int port;
    while ((c = getopt_long(argc, argv, ":hv:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KUBECONFIG:
            o->kubeconfig = optarg;
            break;
        case OPT_LEADER_ELECT:
            if (!parse_bool(optarg, &o->leader_elect))
                return bad_flag("invalid value %s for --leader-elect%s (want true or false)",
                                optarg, "");
            break;
        case OPT_LE_NS:
            if (!*optarg)
                return bad_flag("--leader-election-namespace must not be empty%s%s", "", "");
            o->le_namespace = optarg;
            break;
        case OPT_LE_ID:
            if (!*optarg) return bad_flag("--leader-election-id must not be empty%s%s", "", "");
            o->le_id = optarg;
            break;
        case OPT_PROBE:
        case OPT_METRICS:
            if (kube_health_parse_addr(optarg, host, sizeof(host), &port) < 0)
                return bad_flag(
                    "invalid bind address \"%s\" for %s (want HOST:PORT, :PORT or 0)", optarg,
                    c == OPT_PROBE ? "--health-probe-bind-address" : "--metrics-bind-address");
            if (c == OPT_PROBE)
                o->probe_addr = optarg;
            else
                o->metrics_addr = optarg;
            break;
        case OPT_CONCURRENCY:
            if (!parse_int(optarg, 1, 1024, &v))
                return bad_flag("invalid value \"%s\" for --concurrency%s (want an "
                                "integer 1..1024)",
                                optarg, "");
            o->concurrency = (int)v;
            break;
        case OPT_QPS: {
            char *end;
            errno = 0;
            double d = strtod(optarg, &end);
            if (errno || end == optarg || *end || d < 0 || d > 1e6)
                return bad_flag("invalid value \"%s\" for --kube-client-qps%s (want a number >= 0)",
                                optarg, "");
            o->qps = d;
            break;
        }
        case OPT_BURST:
            if (!parse_int(optarg, 0, 1000000, &v))
                return bad_flag("invalid value \"%s\" for --kube-client-burst%s (want "
                                "an integer >= 0)",
                                optarg, "");
            o->burst = (int)v;
            break;
        case OPT_LOG_FORMAT:
            if (log_format_parse(optarg, &o->log_format) < 0)
                return bad_flag("invalid value \"%s\" for --log-format%s (want text or json)",
                                optarg, "");
            break;
        case OPT_LOG_LEVEL:
            if (log_level_parse(optarg, &o->log_level) < 0)
                return bad_flag("invalid value \"%s\" for --log-level%s (want error, "
                                "warn, info, debug or trace)",
                                optarg, "");
            break;
        case 'v':
            if (!parse_int(optarg, 0, 10, &v))
                return bad_flag("invalid value \"%s\" for --v%s (want an integer 0..10)", optarg,
                                "");
            o->log_level = log_level_from_v((int)v);
            break;
        case OPT_NAMESPACE:
            o->watch_ns = *optarg ? optarg : NULL;
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return 0;
        case ':':
            return bad_flag("flag needs an argument: %s%s", argv[optind - 1], "");
        default:
            return bad_flag("unknown flag: %s%s", argv[optind - 1], "");
        }
    }
    if (optind < argc) return bad_flag("unexpected argument: %s%s", argv[optind], "");
    return -1;
}

/* ---- the process ---- */

typedef struct app {
    opts_t o;
    uv_loop_t loop;
    kube_client_t *client;
    metrics_registry_t *metrics;
    kube_events_t *events;
    kube_health_t *health;
    kube_informer_t *inf_pools, *inf_bsbx, *inf_pods;
    kube_queue_t *q_pools, *q_bsbx;
    kube_workers_t *w_pools, *w_bsbx;
    kube_leader_t *leader;
    kube_client_t *le_client; /* the elector's own: short timeout, no retries */
    char identity[320];
    uv_signal_t sigterm, sigint;
    uv_timer_t tick;
    uv_async_t wake;
    atomic_bool leading, lost;
    bool synced, workers_started, shutting_down;
    int informers_running;
    int exit_code;
} app_t;

static app_t A;

/* ---- informer handlers: keys into the queues ---- */

static void enqueue_key(kube_queue_t *q, json_t *obj)
{
    char *key = kube_object_key(obj);
    if (key) kube_queue_add(q, key);
    free(key);
}

static void enqueue_ns_name(kube_queue_t *q, const char *ns, const char *name)
{
    if (!name || !*name) return;
    char key[600];
    if (ns && *ns)
        snprintf(key, sizeof(key), "%s/%s", ns, name);
    else
        snprintf(key, sizeof(key), "%s", name);
    kube_queue_add(q, key);
}

static void pool_event(json_t *obj, void *ud)
{
    enqueue_key(A.q_pools, obj);
}
static void pool_update(json_t *old_obj, json_t *obj, void *ud)
{
    enqueue_key(A.q_pools, obj);
}

/* A BatchSandbox change concerns the batch, and the Pool it draws from
 * (supply). */
static void bsbx_event(json_t *obj, void *ud)
{
    enqueue_key(A.q_bsbx, obj);
    const char *pool = jsonx_str(obj, "spec.poolRef", "");
    if (*pool && strcmp(pool, "*") != 0)
        enqueue_ns_name(A.q_pools, jsonx_str(obj, "metadata.namespace", ""), pool);
}
static void bsbx_update(json_t *old_obj, json_t *obj, void *ud)
{
    bsbx_event(obj, ud);
    const char *old_pool = jsonx_str(old_obj, "spec.poolRef", "");
    if (strcmp(old_pool, jsonx_str(obj, "spec.poolRef", "")) != 0 && *old_pool &&
        strcmp(old_pool, "*"))
        enqueue_ns_name(A.q_pools, jsonx_str(old_obj, "metadata.namespace", ""), old_pool);
}

/* A pool pod's change goes to its Pool: the controller owner reference, else
 * the pool label. */
static void pod_event(json_t *pod, void *ud)
{
    const char *ns = jsonx_str(pod, "metadata.namespace", "");
    json_t *refs = jsonx_get(pod, "metadata.ownerReferences");
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        if (strcmp(jsonx_str(ref, "kind", ""), "Pool") == 0 &&
            strncmp(jsonx_str(ref, "apiVersion", ""), SANDBOX_GROUP, strlen(SANDBOX_GROUP)) == 0) {
            enqueue_ns_name(A.q_pools, ns, jsonx_str(ref, "name", ""));
            return;
        }
    }
    json_t *labels = jsonx_get(pod, "metadata.labels");
    enqueue_ns_name(A.q_pools, ns, json_string_value(json_object_get(labels, LABEL_POOL_NAME)));
}
static void pod_update(json_t *old_obj, json_t *obj, void *ud)
{
    pod_event(obj, ud);
}

/* ---- reconcilers (observe only; the real ones are later issues) ---- */

static void split_key(const char *key, char *ns, size_t nslen, const char **name)
{
    const char *slash = strchr(key, '/');
    if (slash) {
        snprintf(ns, nslen, "%.*s", (int)(slash - key), key);
        *name = slash + 1;
    } else {
        ns[0] = '\0';
        *name = key;
    }
}

typedef struct ns_count {
    const char *ns;
    size_t n;
} ns_count_t;

static int count_in_ns(json_t *obj, void *ud)
{
    ns_count_t *c = ud;
    if (strcmp(jsonx_str(obj, "metadata.namespace", ""), c->ns) == 0) c->n++;
    return 0;
}

static kube_result_t reconcile_pool(const char *key, void *ud)
{
    json_t *pool = kube_informer_get(A.inf_pools, key);
    if (!pool) {
        log_debug("reconcile", "controller", "pool", "key", key, "present", "false");
        return (kube_result_t){0};
    }
    char ns[256], gen[32], npods[32];
    const char *name;
    split_key(key, ns, sizeof(ns), &name);
    ns_count_t cnt = {.ns = ns};
    kube_informer_foreach_by_label(A.inf_pods, LABEL_POOL_NAME, name, count_in_ns, &cnt);
    snprintf(gen, sizeof(gen), "%lld", jsonx_int(pool, "metadata.generation", 0));
    snprintf(npods, sizeof(npods), "%zu", cnt.n);
    log_debug("reconcile", "controller", "pool", "key", key, "present", "true", "generation", gen,
              "pods", npods);
    json_decref(pool);
    return (kube_result_t){0};
}

static kube_result_t reconcile_bsbx(const char *key, void *ud)
{
    json_t *bs = kube_informer_get(A.inf_bsbx, key);
    if (!bs) {
        log_debug("reconcile", "controller", "batchsandbox", "key", key, "present", "false");
        return (kube_result_t){0};
    }
    char gen[32], replicas[32], npods[32];
    ns_count_t cnt = {.ns = jsonx_str(bs, "metadata.namespace", "")};
    kube_informer_foreach_by_owner(A.inf_pods, jsonx_str(bs, "metadata.uid", ""), count_in_ns,
                                   &cnt);
    snprintf(gen, sizeof(gen), "%lld", jsonx_int(bs, "metadata.generation", 0));
    snprintf(replicas, sizeof(replicas), "%lld", jsonx_int(bs, "spec.replicas", 0));
    snprintf(npods, sizeof(npods), "%zu", cnt.n);
    log_debug("reconcile", "controller", "batchsandbox", "key", key, "present", "true",
              "generation", gen, "replicas", replicas, "poolRef", jsonx_str(bs, "spec.poolRef", ""),
              "ownedPods", npods);
    json_decref(bs);
    return (kube_result_t){0};
}

/* ---- readiness, leadership, workers ---- */

static bool informer_synced(void *ud)
{
    return kube_informer_has_synced(*(kube_informer_t **)ud);
}

static bool all_synced(void)
{
    return kube_informer_has_synced(A.inf_pools) && kube_informer_has_synced(A.inf_bsbx) &&
           kube_informer_has_synced(A.inf_pods);
}

static void shutdown_app(int code);

static void start_workers(void)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", A.o.concurrency);
    int rc = kube_workers_start(A.q_pools, A.o.concurrency, reconcile_pool, NULL, "pool", A.metrics,
                                &A.w_pools);
    if (rc == 0)
        rc = kube_workers_start(A.q_bsbx, A.o.concurrency, reconcile_bsbx, NULL, "batchsandbox",
                                A.metrics, &A.w_bsbx);
    if (rc < 0) {
        log_error("cannot start workers", "error", strerror(-rc));
        shutdown_app(1);
        return;
    }
    A.workers_started = true;
    log_info("starting workers", "controllers", "pool,batchsandbox", "workers", n);
}

/* Leadership lost (by time, or reported by the elector): exit at once, without waiting for the
 * reconciles in flight, as controller-runtime does; another instance may be leading already. */
static void exit_lost_leadership(void)
{
    log_error("leader election lost: not renewed within the renew deadline, leadership lost; "
              "exiting",
              "lease", A.o.le_id);
    _exit(1);
}

static void on_tick(uv_timer_t *t)
{
    if (A.shutting_down) return;
    /* is_leader turns false by time, even while a renew is still blocked in the elector */
    if (A.leader && atomic_load(&A.leading) && !kube_leader_is_leader(A.leader))
        exit_lost_leadership();
    if (!A.synced && all_synced()) {
        A.synced = true;
        log_info("caches synced", "informers", "pools,batchsandboxes,pods");
    }
    if (A.synced && atomic_load(&A.leading) && !A.workers_started) start_workers();
}

static void on_wake(uv_async_t *h)
{
    if (atomic_load(&A.lost) && !A.shutting_down) exit_lost_leadership();
    on_tick(&A.tick);
}

static void le_started(void *ud)
{
    atomic_store(&A.leading, true);
    uv_async_send(&A.wake);
}

static void le_stopped(void *ud)
{
    atomic_store(&A.leading, false);
    atomic_store(&A.lost, true);
    uv_async_send(&A.wake);
}

/* ---- shutdown ---- */

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

static void informer_stopped(void *ud)
{
    if (--A.informers_running > 0) return;
    kube_informer_free(A.inf_pools);
    kube_informer_free(A.inf_bsbx);
    kube_informer_free(A.inf_pods);
    A.inf_pools = A.inf_bsbx = A.inf_pods = NULL;
    kube_health_free(A.health);
    A.health = NULL;
    uv_close((uv_handle_t *)&A.sigterm, close_cb);
    uv_close((uv_handle_t *)&A.sigint, close_cb);
    uv_close((uv_handle_t *)&A.tick, close_cb);
    uv_close((uv_handle_t *)&A.wake, close_cb);
}

static void shutdown_app(int code)
{
    if (A.shutting_down) return;
    A.shutting_down = true;
    A.exit_code = code;
    uv_timer_stop(&A.tick);
    /* 1. workers finish the item in hand */
    if (A.w_pools) kube_workers_stop(A.w_pools);
    if (A.w_bsbx) kube_workers_stop(A.w_bsbx);
    A.w_pools = A.w_bsbx = NULL;
    kube_queue_shutdown(A.q_pools);
    kube_queue_shutdown(A.q_bsbx);
    /* 2. give the lease back (if we hold it) */
    if (A.leader) {
        kube_leader_stop(A.leader);
        A.leader = NULL;
    }
    /* 3. informers, then the servers and our handles */
    A.informers_running = 3;
    kube_informer_stop(A.inf_pools, informer_stopped, NULL);
    kube_informer_stop(A.inf_bsbx, informer_stopped, NULL);
    kube_informer_stop(A.inf_pods, informer_stopped, NULL);
}

/* The second SIGINT/SIGTERM: shutdown_app blocks the loop (joining workers, releasing the
 * lease), so this runs as a raw handler; write(2) and _exit are async-signal-safe. */
static void on_second_signal(int signum)
{
    static const char msg[] = "controller: second signal: exiting now\n";
    (void)signum;
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w;
    _exit(1);
}

static void on_signal(uv_signal_t *s, int signum)
{
    if (A.shutting_down) {
        log_warn("second signal: exiting now", "signal", strsignal(signum));
        _exit(1);
    }
    log_info("shutting down", "signal", strsignal(signum));
    uv_signal_stop(&A.sigterm);
    uv_signal_stop(&A.sigint);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_second_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    shutdown_app(0);
}

/* ---- start ---- */

static int new_informer(const kube_resource_t *res, const char *selector,
                        const char *const *index_labels, void (*on_add)(json_t *, void *),
                        void (*on_update)(json_t *, json_t *, void *), kube_informer_t **out)
{
    kube_informer_options_t io = {
        .resource = res,
        .ns = A.o.watch_ns,
        .label_selector = selector,
        .index_labels = index_labels,
        .metrics = A.metrics,
    };
    kube_informer_handlers_t ih = {.on_add = on_add, .on_update = on_update, .on_delete = on_add};
    return kube_informer_new(&A.loop, A.client, &io, &ih, out);
}

int main(int argc, char **argv)
{
    int rc = parse_flags(argc, argv, &A.o);
    if (rc >= 0) return rc;
    log_setup(A.o.log_level, A.o.log_format, 2);
    signal(SIGPIPE, SIG_IGN);

    char err[1024] = "";
    kube_config_t *cfg = NULL;
    rc = kube_config_load(A.o.kubeconfig, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "controller: cannot load the client configuration: %s\n", err);
        return EXIT_USAGE;
    }
    const char *le_ns = A.o.le_namespace ? A.o.le_namespace : cfg->namespace_;
    char le_ns_buf[256];
    snprintf(le_ns_buf, sizeof(le_ns_buf), "%s", le_ns && *le_ns ? le_ns : "default");
    log_info("starting controller", "server", cfg->server, "config", cfg->source, "namespace",
             A.o.watch_ns ? A.o.watch_ns : "(all)");

    A.metrics = metrics_registry_new();
    int burst = A.o.burst;
    if (A.o.qps > 0 && burst < 1) burst = (int)(A.o.qps + 0.999);
    kube_client_options_t co = {
        .qps = A.o.qps, .burst = burst, .user_agent = COMPONENT "/0.1", .metrics = A.metrics};
    rc = kube_client_new(cfg, &co, &A.client, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "controller: cannot create the client: %s\n", err);
        metrics_registry_free(A.metrics);
        return EXIT_USAGE;
    }

    if (A.o.leader_elect) {
        /* the elector's own client: a renew must fail well within the renew deadline rather
         * than wait out the 30 s timeout, retries and the rate limit of the reconcilers' client */
        kube_config_t *lcfg = NULL;
        rc = kube_config_load(A.o.kubeconfig, &lcfg, err, sizeof(err));
        kube_client_options_t lco = {
            .user_agent = COMPONENT "/0.1 leader-election",
            .timeout_ms = (long)(KUBE_LEADER_RENEW_DEADLINE_S * 1000 / 2),
            .max_retries = -1,
            .metrics = A.metrics,
        };
        if (rc == 0) rc = kube_client_new(lcfg, &lco, &A.le_client, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "controller: cannot create the leader election client: %s\n", err);
            return EXIT_USAGE;
        }
    }

    uv_loop_init(&A.loop);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    A.events = kube_events_new(A.client, COMPONENT, host);
    A.q_pools = kube_queue_new("pool", A.metrics);
    A.q_bsbx = kube_queue_new("batchsandbox", A.metrics);

    static const char *const pod_index[] = {LABEL_POOL_NAME, NULL};
    rc = new_informer(&KUBE_RES_POOLS, NULL, NULL, pool_event, pool_update, &A.inf_pools);
    if (rc == 0)
        rc = new_informer(&KUBE_RES_BATCHSANDBOXES, NULL, NULL, bsbx_event, bsbx_update,
                          &A.inf_bsbx);
    if (rc == 0)
        rc = new_informer(&KUBE_RES_PODS, LABEL_POOL_NAME, pod_index, pod_event, pod_update,
                          &A.inf_pods);
    if (rc < 0) {
        log_error("cannot create informers", "error", strerror(-rc));
        return 1;
    }

    A.health = kube_health_new(&A.loop, A.metrics);
    kube_health_add_check(A.health, "informer-pools", informer_synced, &A.inf_pools);
    kube_health_add_check(A.health, "informer-batchsandboxes", informer_synced, &A.inf_bsbx);
    kube_health_add_check(A.health, "informer-pods", informer_synced, &A.inf_pods);
    char bound[160];
    rc = kube_health_serve(A.health, A.o.probe_addr, KUBE_HEALTH_PROBES, bound, sizeof(bound), err,
                           sizeof(err));
    if (rc < 0) {
        log_error("cannot serve health probes", "error", err);
        return 1;
    }
    if (rc == 0) log_info("serving health probes", "addr", bound, "paths", "/healthz,/readyz");
    rc = kube_health_serve(A.health, A.o.metrics_addr, KUBE_HEALTH_METRICS, bound, sizeof(bound),
                           err, sizeof(err));
    if (rc < 0) {
        log_error("cannot serve metrics", "error", err);
        return 1;
    }
    if (rc == 0) log_info("serving metrics", "addr", bound, "path", "/metrics");

    uv_signal_init(&A.loop, &A.sigterm);
    uv_signal_init(&A.loop, &A.sigint);
    uv_signal_start(&A.sigterm, on_signal, SIGTERM);
    uv_signal_start(&A.sigint, on_signal, SIGINT);
    uv_async_init(&A.loop, &A.wake, on_wake);
    uv_timer_init(&A.loop, &A.tick);
    uv_timer_start(&A.tick, on_tick, 100, 100);

    kube_informer_start(A.inf_pools);
    kube_informer_start(A.inf_bsbx);
    kube_informer_start(A.inf_pods);
    log_info("waiting for informer caches to sync", "informers", "pools,batchsandboxes,pods");

    if (A.o.leader_elect) {
        kube_leader_identity_new(A.identity, sizeof(A.identity));
        kube_leader_config_t lc = {
            .ns = le_ns_buf,
            .name = A.o.le_id,
            .identity = A.identity,
            .on_started_leading = le_started,
            .on_stopped_leading = le_stopped,
            .events = A.events,
            .metrics = A.metrics,
        };
        rc = kube_leader_start(A.le_client, &lc, &A.leader);
        if (rc < 0) {
            log_error("cannot start leader election", "error", strerror(-rc));
            return 1;
        }
    } else {
        atomic_store(&A.leading, true);
    }
    kube_health_set_running(A.health, true);

    uv_run(&A.loop, UV_RUN_DEFAULT);

    uv_loop_close(&A.loop);
    kube_queue_free(A.q_pools);
    kube_queue_free(A.q_bsbx);
    kube_events_free(A.events);
    kube_client_free(A.client);
    kube_client_free(A.le_client);
    metrics_registry_free(A.metrics);
    log_info("controller stopped", "exit", A.exit_code ? "1" : "0");
    return A.exit_code;
}
