/* pod: one pod's life on the node, as a level-based sync: set-up (directory, pod IP, volumes,
 * the pause process of a shared PID namespace), init containers in order, then the containers
 * with restarts per restartPolicy and back-off, probes, the terminal phase, and graceful
 * deletion (SIGTERM, grace period, kill) ending with the API delete and the release of the IP
 * and directory. */
#include "kubelet/kubelet_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apiserver/objops.h"
#include "base/jsonx.h"
#include "kubelet/launcher.h"

const char *pod_restart_policy(kl_pod_t *p)
{
    return jsonx_str(p->spec_obj, "spec.restartPolicy", "Always");
}

kl_pod_t *pod_new(kubelet_t *kl, json_t *obj)
{
    kl_pod_t *p = calloc(1, sizeof *p);
    p->kl = kl;
    p->uid = strdup(jsonx_str(obj, "metadata.uid", ""));
    p->ns = strdup(jsonx_str(obj, "metadata.namespace", ""));
    p->name = strdup(jsonx_str(obj, "metadata.name", ""));
    p->obj = json_incref(obj);
    p->spec_obj = json_incref(obj);
    p->events = json_object();
    json_t *ic = jsonx_get(obj, "spec.initContainers"), *cc = jsonx_get(obj, "spec.containers");
    p->n_init = json_array_size(ic);
    p->n_ctrs = json_array_size(cc);
    p->init = calloc(p->n_init + 1, sizeof *p->init);
    p->ctrs = calloc(p->n_ctrs + 1, sizeof *p->ctrs);
    for (size_t i = 0; i < p->n_init; i++)
        ctr_init(&p->init[i], p, json_array_get(ic, i), true);
    for (size_t i = 0; i < p->n_ctrs; i++)
        ctr_init(&p->ctrs[i], p, json_array_get(cc, i), false);
    p->shared_pid = jsonx_bool(obj, "spec.shareProcessNamespace");
    char buf[4300];
    snprintf(buf, sizeof buf, "%s/pods/%s", kl->state_dir, p->uid);
    p->dir = strdup(buf);
    kl_now_time(p->start_time, sizeof p->start_time);
    uv_timer_init(kl->loop, &p->timer);
    p->timer.data = p;
    p->open_handles = 1;
    return p;
}

void pod_free(kl_pod_t *p)
{
    for (size_t i = 0; i < p->n_init; i++)
        ctr_clear(&p->init[i]);
    for (size_t i = 0; i < p->n_ctrs; i++)
        ctr_clear(&p->ctrs[i]);
    free(p->init);
    free(p->ctrs);
    json_decref(p->obj);
    json_decref(p->spec_obj);
    json_decref(p->events);
    free(p->config_error);
    free(p->uid);
    free(p->ns);
    free(p->name);
    free(p->dir);
    free(p);
}

static void on_pod_timer(uv_timer_t *t)
{
    kl_pod_kick(t->data);
}

static void pod_schedule(kl_pod_t *p, uint64_t now, uint64_t next)
{
    if (next == UINT64_MAX) {
        uv_timer_stop(&p->timer);
        return;
    }
    uv_timer_start(&p->timer, on_pod_timer, next > now ? next - now : 0, 0);
}

static void queue_remove(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    if (!p->queued) return;
    kl_pod_t *prev = NULL;
    for (kl_pod_t *q = kl->q_head; q; prev = q, q = q->next_queued) {
        if (q != p) continue;
        if (prev)
            prev->next_queued = q->next_queued;
        else
            kl->q_head = q->next_queued;
        if (kl->q_tail == q) kl->q_tail = prev;
        break;
    }
    p->queued = false;
}

/* ---- the pause process (shareProcessNamespace) ---- */

static void on_pause_exit(uv_process_t *h, int64_t status, int sig)
{
    (void)status;
    (void)sig;
    kl_pod_t *p = h->data;
    p->pause_alive = false;
    p->pause_ready = false;
    p->pause_started = false;
    uv_close((uv_handle_t *)h, kl_pod_handle_closed);
    if (p->pause_out_open) {
        p->pause_out_open = false;
        uv_close((uv_handle_t *)&p->pause_out, kl_pod_handle_closed);
    }
    kl_pod_kick(p);
}

static void pause_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h;
    (void)sz;
    static char buf[64];
    *b = uv_buf_init(buf, sizeof buf);
}

static void on_pause_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    kl_pod_t *p = s->data;
    if (n == 0) return;
    if (n > 0) p->pause_ready = true;
    if (p->pause_out_open) {
        p->pause_out_open = false;
        uv_close((uv_handle_t *)s, kl_pod_handle_closed);
    }
    kl_pod_kick(p);
}

static int pause_start(kl_pod_t *p, char **err)
{
    kubelet_t *kl = p->kl;
    json_t *sj = json_pack("{s:s,s:I,s:s++}", "mode", "pause", "parent", (json_int_t)kl->self_pid,
                           "label", p->ns, "/", p->name);
    char *spec = json_dumps(sj, JSON_COMPACT);
    json_decref(sj);
    char *args[] = {"localcluster", LAUNCHER_ARG, spec, NULL};
    uv_pipe_init(kl->loop, &p->pause_out, 0);
    p->pause_out.data = p;
    p->open_handles++;
    p->pause_out_open = true;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->pause_out},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    char *env[] = {NULL};
    uv_process_options_t o = {.exit_cb = on_pause_exit,
                              .file = kl->launcher,
                              .args = args,
                              .env = env,
                              .stdio_count = 3,
                              .stdio = stdio};
    p->pause.data = p;
    int rc = uv_spawn(kl->loop, &p->pause, &o);
    free(spec);
    if (rc != 0) {
        if (asprintf(err, "starting the pod's pause process: %s", uv_strerror(rc)) < 0) *err = NULL;
        p->pause_out_open = false;
        uv_close((uv_handle_t *)&p->pause_out, kl_pod_handle_closed);
        uv_close((uv_handle_t *)&p->pause, kl_pod_handle_closed);
        p->open_handles++;
        return -1;
    }
    p->open_handles++;
    p->pause_alive = true;
    p->pause_started = true;
    p->pause_kill_sent = false;
    uv_read_start((uv_stream_t *)&p->pause_out, pause_alloc, on_pause_read);
    return 0;
}

/* ---- set-up ---- */

static void config_failed(kl_pod_t *p, const char *reason, char *msg)
{
    free(p->config_error);
    p->config_error = msg ? msg : strdup("pod set-up failed");
    for (size_t i = 0; i < p->n_init; i++)
        ctr_set_waiting(&p->init[i], "CreateContainerConfigError", "%s", p->config_error);
    for (size_t i = 0; i < p->n_ctrs; i++)
        ctr_set_waiting(&p->ctrs[i], "CreateContainerConfigError", "%s", p->config_error);
    kl_event(p, NULL, "Warning", reason, "kubelet", "%s", p->config_error);
}

static void pod_setup(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    p->set_up = true;
    if (mkdir(p->dir, 0755) != 0 && errno != EEXIST) {
        char *m = NULL;
        if (asprintf(&m, "creating %s: %s", p->dir, strerror(errno)) < 0) m = NULL;
        config_failed(p, "FailedCreatePodSandBox", m);
        return;
    }
    if (jsonx_bool(p->spec_obj, "spec.hostNetwork")) {
        snprintf(p->ip, sizeof p->ip, "127.0.0.1");
    } else if (podip_alloc(kl->ips, p->ip, sizeof p->ip) == 0) {
        p->ip_held = true;
    } else {
        config_failed(p, "FailedCreatePodSandBox", strdup("no free pod IP in 127.0.0.0/8"));
        return;
    }
    char *msg = volumes_check(p);
    if (msg) {
        config_failed(p, "FailedMount", msg);
        return;
    }
    if (volumes_prepare(p, &msg) != 0) {
        config_failed(p, "FailedMount", msg);
        return;
    }
}

/* ---- running ---- */

static bool due(kl_ctr_t *c, uint64_t now, uint64_t *next)
{
    if (c->restart_at_ms == 0) return c->runs == 0;
    if (now >= c->restart_at_ms) return true;
    if (c->restart_at_ms < *next) *next = c->restart_at_ms;
    return false;
}

static void run_containers(kl_pod_t *p, uint64_t now, uint64_t *next)
{
    for (size_t i = 0; i < p->n_init; i++) {
        kl_ctr_t *c = &p->init[i];
        if (c->done && c->state == C_TERMINATED && c->term.exit_code == 0) continue;
        if (c->state == C_RUNNING || c->done) return;
        if (due(c, now, next)) ctr_start(c);
        if (c->restart_at_ms && c->restart_at_ms < *next) *next = c->restart_at_ms;
        return;
    }
    for (size_t i = 0; i < p->n_ctrs; i++) {
        kl_ctr_t *c = &p->ctrs[i];
        if (c->state != C_RUNNING && !c->done && due(c, now, next)) ctr_start(c);
        if (c->state == C_RUNNING) probes_tick(c, now, next);
        if (c->restart_at_ms && c->restart_at_ms < *next) *next = c->restart_at_ms;
    }
}

static void pod_release(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    if (p->released) return;
    p->released = true;
    queue_remove(p);
    logs_run_ended(p, NULL);
    if (p->ip_held) podip_release(kl->ips, p->ip);
    p->ip_held = false;
    kl_rm_rf(p->dir);
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, kl_pod_handle_closed);
}

static void api_delete(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    p->delete_sent = true;
    json_t *opts =
        json_pack("{s:i,s:{s:s}}", "gracePeriodSeconds", 0, "preconditions", "uid", p->uid);
    objops_opts_t o = {.field_manager = "kubelet"};
    json_t *out = NULL;
    bool removed = false;
    kerr_t e = {0};
    int rc = objops_delete(kl->as, kl->pods_rt, p->ns, p->name, opts, &o, &out, &removed, &e);
    if ((rc == 0 && removed) || (rc != 0 && (e.code == 404 || e.code == 409))) p->gone = true;
    json_decref(opts);
    json_decref(out);
    kerr_clear(&e);
}

static void pod_teardown(kl_pod_t *p, uint64_t now)
{
    long long grace =
        p->gone ? 0
                : jsonx_int(p->obj, "metadata.deletionGracePeriodSeconds",
                            jsonx_int(p->spec_obj, "spec.terminationGracePeriodSeconds", 30));
    if (grace < 0) grace = 0;
    uint64_t cand = now + (uint64_t)grace * 1000;
    if (p->kill_at_ms == 0 || cand < p->kill_at_ms) p->kill_at_ms = cand;
    bool alive = false;
    for (size_t k = 0; k < p->n_init + p->n_ctrs; k++) {
        kl_ctr_t *c = k < p->n_init ? &p->init[k] : &p->ctrs[k - p->n_init];
        c->done = true;
        c->restart_at_ms = 0;
        probes_cancel(c);
        if (!c->proc_alive) continue;
        alive = true;
        if (!c->term_sent) {
            char fp[300];
            kl_ctr_field_path(c, fp, sizeof fp);
            kl_event(p, fp, "Normal", "Killing", "kubelet", "Stopping container %s", c->name);
            ctr_signal(c, false);
        }
        if (now >= p->kill_at_ms && !c->kill_sent) ctr_signal(c, true);
    }
    if (alive) {
        pod_schedule(p, now, p->kill_at_ms > now ? p->kill_at_ms : UINT64_MAX);
        return;
    }
    uv_timer_stop(&p->timer);
    if (p->pause_alive) {
        if (!p->pause_kill_sent) {
            p->pause_kill_sent = true;
            uv_process_kill(&p->pause, LAUNCHER_SIG_KILLTREE);
        }
        return;
    }
    if (!p->gone && !p->delete_sent) api_delete(p);
    if (p->gone) pod_release(p);
}

void pod_sync(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    if (kl->stopping || p->released) return;
    uint64_t now = kl_now_ms(kl);
    if (p->deleting) {
        pod_teardown(p, now);
        return;
    }
    if (!p->set_up) pod_setup(p);
    uint64_t next = UINT64_MAX;
    if (!p->config_error && !p->finished) {
        if (p->shared_pid && !p->pause_started) {
            char *err = NULL;
            if (pause_start(p, &err) != 0) config_failed(p, "FailedCreatePodSandBox", err);
        }
        if (!p->config_error && (!p->shared_pid || p->pause_ready)) run_containers(p, now, &next);
    }
    if (!p->finished && !p->config_error) {
        const char *phase = podstatus_phase(p);
        if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0) {
            p->finished = true;
            for (size_t i = 0; i < p->n_ctrs; i++)
                probes_cancel(&p->ctrs[i]);
            if (p->pause_alive && !p->pause_kill_sent) {
                p->pause_kill_sent = true;
                uv_process_kill(&p->pause, LAUNCHER_SIG_KILLTREE);
            }
            next = UINT64_MAX;
        }
    }
    podstatus_write(p);
    pod_schedule(p, now, next);
}

void pod_stop_all(kl_pod_t *p)
{
    for (size_t k = 0; k < p->n_init + p->n_ctrs; k++) {
        kl_ctr_t *c = k < p->n_init ? &p->init[k] : &p->ctrs[k - p->n_init];
        if (c->proc_alive) ctr_signal(c, true);
    }
    if (p->pause_alive) uv_process_kill(&p->pause, LAUNCHER_SIG_KILLTREE);
    if (p->pause_out_open) {
        p->pause_out_open = false;
        uv_close((uv_handle_t *)&p->pause_out, kl_pod_handle_closed);
    }
    if (!p->released) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, kl_pod_handle_closed);
    }
}
