/* kubelet: the kubelet's lifecycle and sync loop: the Node object, the in-process watch on
 * pods, binding of unscheduled pods (the scheduler's job on a one-node cluster), and the work
 * queue that runs each changed pod's sync on the next loop turn (never inside a store
 * callback). Per-pod logic lives in pod.c. */
#include "kubelet/kubelet_internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/objops.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"

#define SYNC_BUDGET 64 /* pods synced per loop turn, so HTTP stays responsive */

void kl_now_time(char *buf, size_t len)
{
    jsonx_time_format(time(NULL), buf, len);
}

uint64_t kl_now_ms(kubelet_t *kl)
{
    uv_update_time(kl->loop);
    return uv_now(kl->loop);
}

void kl_container_id(char *buf, size_t len)
{
    unsigned char b[32];
    arc4random_buf(b, sizeof b);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    snprintf(buf, len, "localcluster://%s", hex);
}

kl_pod_t *kl_pod_find(kubelet_t *kl, const char *uid)
{
    json_t *v = json_object_get(kl->pods, uid);
    return v ? (kl_pod_t *)(intptr_t)json_integer_value(v) : NULL;
}

static void on_idle(uv_idle_t *h);

void kl_pod_kick(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    if (kl->stopping || p->queued || p->released) return;
    p->queued = true;
    p->next_queued = NULL;
    if (kl->q_tail)
        kl->q_tail->next_queued = p;
    else
        kl->q_head = p;
    kl->q_tail = p;
    uv_idle_start(&kl->idle, on_idle);
}

void kl_pod_handle_closed(uv_handle_t *h)
{
    kl_pod_handle_released(h->data);
}

void kl_pod_handle_released(kl_pod_t *p)
{
    p->open_handles--;
    if (p->released && p->open_handles == 0) {
        json_object_del(p->kl->pods, p->uid);
        pod_free(p);
    }
}

/* ---- node ---- */

static const char *node_arch(void)
{
    struct utsname u;
    if (uname(&u) != 0) return "amd64";
    if (strcmp(u.machine, "x86_64") == 0) return "amd64";
    if (strcmp(u.machine, "aarch64") == 0) return "arm64";
    return "amd64";
}

static json_t *node_labels(kubelet_t *kl)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kubernetes.io/hostname", kl->node,
                     "kubernetes.io/os", "linux", "kubernetes.io/arch", node_arch(),
                     "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", node_arch(),
                     "node-role.kubernetes.io/control-plane", "");
}

static void create_node(kubelet_t *kl)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    uname(&u);
    char now[32], cpu[32], mem[48];
    kl_now_time(now, sizeof now);
    snprintf(cpu, sizeof cpu, "%ld", kl->ncpu);
    snprintf(mem, sizeof mem, "%lldKi", kl->mem_bytes / 1024);
    json_t *conds = json_array();
    static const char *const c[][4] = {
        {"MemoryPressure", "False", "KubeletHasSufficientMemory",
         "kubelet has sufficient memory available"},
        {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
        {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
        {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
    };
    for (int i = 0; i < 4; i++)
        json_array_append_new(conds,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", c[i][0], "status",
                                        c[i][1], "reason", c[i][2], "message", c[i][3],
                                        "lastHeartbeatTime", now, "lastTransitionTime", now));
    json_t *res = json_pack("{s:s,s:s,s:s,s:s}", "cpu", cpu, "memory", mem, "pods", "10000",
                            "ephemeral-storage", "100Gi");
    json_t *node = json_pack(
        "{s:s,s:s,s:{s:s,s:o},s:{},s:{s:o,s:[{s:s,s:s},{s:s,s:s}],s:O,s:o,s:{s:{s:i}},s:{s:s,s:s,"
        "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}}",
        "apiVersion", "v1", "kind", "Node", "metadata", "name", kl->node, "labels", node_labels(kl),
        "spec", "status", "conditions", conds, "addresses", "type", "InternalIP", "address",
        "127.0.0.1", "type", "Hostname", "address", kl->node, "capacity", res, "allocatable", res,
        "daemonEndpoints", "kubeletEndpoint", "Port", 10250, "nodeInfo", "architecture",
        node_arch(), "bootID", "", "containerRuntimeVersion", "localcluster://1.0", "kernelVersion",
        u.release, "kubeProxyVersion", "v1.32.0", "kubeletVersion", "v1.32.0", "machineID", "",
        "operatingSystem", "linux", "osImage", "localcluster (processes on the host)", "systemUUID",
        "");
    objops_opts_t o = {.field_manager = "kubelet"};
    json_t *out = NULL;
    kerr_t e = {0};
    if (objops_create(kl->as, kl->nodes_rt, NULL, node, &o, &out, &e) != 0 && e.code != 409)
        fprintf(stderr, "localcluster: kubelet: cannot register node: %s\n",
                e.message ? e.message : "?");
    json_decref(node);
    json_decref(out);
    kerr_clear(&e);
}

/* ---- binding ---- */

static bool node_selector_matches(kubelet_t *kl, json_t *pod)
{
    json_t *sel = jsonx_get(pod, "spec.nodeSelector");
    if (!json_is_object(sel) || json_object_size(sel) == 0) return true;
    json_t *labels = node_labels(kl);
    bool ok = true;
    const char *k;
    json_t *v;
    json_object_foreach(sel, k, v)
    {
        json_t *have = json_object_get(labels, k);
        if (!have || !json_is_string(v) ||
            strcmp(json_string_value(have), json_string_value(v)) != 0)
            ok = false;
    }
    json_decref(labels);
    return ok;
}

static void status_write_raw(kubelet_t *kl, json_t *old, json_t *status)
{
    json_t *next = json_copy(old);
    json_object_set(next, "status", status);
    json_t *body = json_pack("{s:O}", "status", status);
    objops_opts_t o = {.field_manager = "kubelet", .status = true};
    json_t *out = NULL;
    kerr_t e = {0};
    kl->self_write = true;
    objops_commit_update(kl->as, kl->pods_rt, jsonx_str(old, "metadata.namespace", ""), old, next,
                         body, &o, "Update", &out, &e);
    kl->self_write = false;
    json_decref(body);
    json_decref(out);
    kerr_clear(&e);
}

static void mark_unschedulable(kubelet_t *kl, json_t *pod)
{
    json_t *st = json_deep_copy(json_object_get(pod, "status"));
    if (!json_is_object(st)) {
        json_decref(st);
        st = json_object();
    }
    json_t *conds = json_object_get(st, "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) if (strcmp(jsonx_str(c, "type", ""), "PodScheduled") == 0 &&
                                        strcmp(jsonx_str(c, "reason", ""), "Unschedulable") == 0)
    {
        json_decref(st);
        return;
    }
    char now[32];
    kl_now_time(now, sizeof now);
    json_object_set_new(
        st, "conditions",
        json_pack("[{s:s,s:s,s:s,s:s,s:n,s:s}]", "type", "PodScheduled", "status", "False",
                  "reason", "Unschedulable", "message",
                  "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                  "preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                  "scheduling.",
                  "lastProbeTime", "lastTransitionTime", now));
    status_write_raw(kl, pod, st);
    json_decref(st);
}

static void bind_pod(kubelet_t *kl, const char *key)
{
    json_t *old = store_coll_get(kl->pods_rt->coll, key);
    if (!old || *jsonx_str(old, "spec.nodeName", "") ||
        jsonx_get(old, "metadata.deletionTimestamp"))
        return;
    const char *sched = jsonx_str(old, "spec.schedulerName", "default-scheduler");
    if (*sched && strcmp(sched, "default-scheduler") != 0) return;
    if (!node_selector_matches(kl, old)) {
        mark_unschedulable(kl, old);
        return;
    }
    json_incref(old);
    json_t *next = json_deep_copy(old);
    jsonx_set_new(next, "spec.nodeName", json_string(kl->node));
    json_t *body = json_pack("{s:{s:s}}", "spec", "nodeName", kl->node);
    objops_opts_t o = {.field_manager = "kube-scheduler"};
    json_t *out = NULL;
    kerr_t e = {0};
    int rc = objops_commit_update(kl->as, kl->pods_rt, jsonx_str(old, "metadata.namespace", ""),
                                  old, next, body, &o, "Update", &out, &e);
    if (rc == 0) {
        kl_pod_t *p = kl_pod_find(kl, jsonx_str(old, "metadata.uid", ""));
        if (p)
            kl_event(p, NULL, "Normal", "Scheduled", "default-scheduler",
                     "Successfully assigned %s/%s to %s", p->ns, p->name, kl->node);
    }
    json_decref(body);
    json_decref(out);
    json_decref(old);
    kerr_clear(&e);
}

/* ---- the watch and the queue ---- */

static void pod_event(kubelet_t *kl, store_ev_type_t type, json_t *obj)
{
    const char *uid = jsonx_str(obj, "metadata.uid", "");
    kl_pod_t *p = kl_pod_find(kl, uid);
    if (type == STORE_DELETED) {
        if (p && !p->gone) {
            p->gone = true;
            p->deleting = true;
            json_decref(p->obj);
            p->obj = json_incref(obj);
            kl_pod_kick(p);
        }
        return;
    }
    const char *node = jsonx_str(obj, "spec.nodeName", "");
    if (!*node) {
        if (!jsonx_get(obj, "metadata.deletionTimestamp")) {
            char key[600];
            snprintf(key, sizeof key, "%s/%s", jsonx_str(obj, "metadata.namespace", ""),
                     jsonx_str(obj, "metadata.name", ""));
            json_object_set_new(kl->bind_keys, key, json_true());
            uv_idle_start(&kl->idle, on_idle);
        }
        return;
    }
    if (strcmp(node, kl->node) != 0) return;
    if (!p) {
        const char *phase = jsonx_str(obj, "status.phase", "");
        if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0) return;
        p = pod_new(kl, obj);
        if (!p) return;
        json_object_set_new(kl->pods, uid, json_integer((json_int_t)(intptr_t)p));
    } else if (p->obj != obj) {
        json_decref(p->obj);
        p->obj = json_incref(obj);
    }
    if (jsonx_get(obj, "metadata.deletionTimestamp") && !p->deleting) p->deleting = true;
    if (!kl->self_write) kl_pod_kick(p);
}

static void on_store_event(const store_event_t *ev, void *ud)
{
    kubelet_t *kl = ud;
    if (!ev) {
        kl->watch = NULL;
        return;
    }
    if (kl->stopping) return;
    pod_event(kl, ev->type, ev->obj);
}

static void on_idle(uv_idle_t *h)
{
    kubelet_t *kl = h->data;
    if (kl->stopping) {
        uv_idle_stop(h);
        return;
    }
    if (json_object_size(kl->bind_keys) > 0) {
        json_t *keys = kl->bind_keys;
        kl->bind_keys = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(keys, k, v) bind_pod(kl, k);
        json_decref(keys);
    }
    for (int n = 0; n < SYNC_BUDGET && kl->q_head && !kl->stopping; n++) {
        kl_pod_t *p = kl->q_head;
        kl->q_head = p->next_queued;
        if (!kl->q_head) kl->q_tail = NULL;
        p->queued = false;
        p->next_queued = NULL;
        pod_sync(p);
    }
    if (!kl->q_head && json_object_size(kl->bind_keys) == 0) uv_idle_stop(h);
}

/* ---- lifecycle ---- */

/* The small launcher binary next to ours (cheaper to exec), else our own hidden mode. */
static void find_launcher(kubelet_t *kl)
{
    char self[4000];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(kl->launcher, sizeof kl->launcher, "/proc/self/exe");
    if (n <= 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return;
    *slash = '\0';
    char cand[4096];
    snprintf(cand, sizeof cand, "%s/localcluster-launch", self);
    if (access(cand, X_OK) == 0) snprintf(kl->launcher, sizeof kl->launcher, "%s", cand);
}

int kubelet_start(apiserver_t *as, const kubelet_config_t *cfg, kubelet_t **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (geteuid() != 0) {
        snprintf(err, errlen,
                 "the kubelet needs root (PID and mount namespaces); run as root or pass "
                 "--no-kubelet");
        return -1;
    }
    kubelet_t *kl = calloc(1, sizeof *kl);
    kl->as = as;
    kl->loop = as->loop;
    snprintf(kl->node, sizeof kl->node, "%s", cfg->node_name ? cfg->node_name : "localcluster");
    kl->images = cfg->images;
    kl->self_pid = (long)getpid();
    if (cfg->state_dir) {
        kl->state_dir = strdup(cfg->state_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/localcluster-%ld", tmp && *tmp ? tmp : "/tmp", kl->self_pid);
        kl->state_dir = strdup(buf);
        kl->own_state_dir = true;
    }
    char pods_dir[4200];
    snprintf(pods_dir, sizeof pods_dir, "%s/pods", kl->state_dir);
    if ((mkdir(kl->state_dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(pods_dir, 0755) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "kubelet state directory %s: %s", kl->state_dir, strerror(errno));
        free(kl->state_dir);
        free(kl);
        return -1;
    }
    kl->ips = podip_new();
    kl->pods_rt = registry_find(as->reg, "", "pods");
    kl->events_rt = registry_find(as->reg, "", "events");
    kl->nodes_rt = registry_find(as->reg, "", "nodes");
    kl->cm_rt = registry_find(as->reg, "", "configmaps");
    kl->secrets_rt = registry_find(as->reg, "", "secrets");
    kl->pods = json_object();
    kl->bind_keys = json_object();
    kl->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct sysinfo si;
    kl->mem_bytes = sysinfo(&si) == 0 ? (long long)si.totalram * si.mem_unit : (1LL << 33);
    const char *path = getenv("PATH");
    snprintf(kl->host_path, sizeof kl->host_path, "%s",
             path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    const char *home = getenv("HOME");
    snprintf(kl->home, sizeof kl->home, "%s", home && *home ? home : "/root");
    const char *colon = strrchr(as->address, ':');
    kl->api_port = colon ? atoi(colon + 1) : 0;
    find_launcher(kl);
    kl->procs = kl_procs_new(kl->loop);
    uv_idle_init(kl->loop, &kl->idle);
    kl->idle.data = kl;
    as->pod_log = logs_serve;
    as->pod_log_ud = kl;

    create_node(kl);
    kl->watch = store_watch_add(kl->pods_rt->coll, on_store_event, kl);
    size_t n;
    const char **keys = store_coll_keys(kl->pods_rt->coll, NULL, &n);
    json_t *objs = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(objs, store_coll_get(kl->pods_rt->coll, keys[i]));
    free(keys);
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) pod_event(kl, STORE_ADDED, o);
    json_decref(objs);
    *out = kl;
    return 0;
}

void kubelet_stop(kubelet_t *kl)
{
    if (!kl || kl->stopping) return;
    kl->stopping = true;
    kl->as->pod_log = NULL;
    if (kl->watch) store_watch_remove(kl->watch);
    kl->watch = NULL;
    uv_idle_stop(&kl->idle);
    uv_close((uv_handle_t *)&kl->idle, NULL);
    logs_stop_all(kl);
    probes_stop_all(kl);
    const char *k;
    json_t *v;
    json_object_foreach(kl->pods, k, v) pod_stop_all((kl_pod_t *)(intptr_t)json_integer_value(v));
    kl_procs_close(kl->procs); /* once the last container process is reaped */
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void kl_rm_rf(const char *path)
{
    nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void kubelet_free(kubelet_t *kl)
{
    if (!kl) return;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(kl->pods, tmp, k, v)
    {
        pod_free((kl_pod_t *)(intptr_t)json_integer_value(v));
        json_object_del(kl->pods, k);
    }
    json_decref(kl->pods);
    json_decref(kl->bind_keys);
    podip_free(kl->ips);
    kl_procs_free(kl->procs);
    if (kl->own_state_dir) kl_rm_rf(kl->state_dir);
    free(kl->state_dir);
    free(kl);
}
