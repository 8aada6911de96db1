/* podstatus: the status the kubelet reports for a pod: phase, conditions (PodScheduled,
 * PodReadyToStartContainers, Initialized, ContainersReady, Ready) with stable transition times,
 * pod and host IPs, init/container statuses; written through the status subresource only when
 * it changed. */
#include "kubelet/kubelet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objops_internal.h"
#include "base/jsonx.h"
#include "kubelet/phase.h"

static void phase_of(kl_ctr_t *c, phase_ctr_t *out)
{
    memset(out, 0, sizeof *out);
    switch (c->state) {
    case C_RUNNING:
        out->state = PHASE_C_RUNNING;
        break;
    case C_TERMINATED:
        out->state = PHASE_C_TERMINATED;
        out->exit_code = c->term.exit_code;
        break;
    default:
        out->state = PHASE_C_WAITING;
        out->has_last_term = c->last.set;
        out->last_exit_code = c->last.exit_code;
        break;
    }
}

const char *podstatus_phase(kl_pod_t *p)
{
    phase_ctr_t *pi = calloc(p->n_init + 1, sizeof *pi), *pc = calloc(p->n_ctrs + 1, sizeof *pc);
    for (size_t i = 0; i < p->n_init; i++)
        phase_of(&p->init[i], &pi[i]);
    for (size_t i = 0; i < p->n_ctrs; i++)
        phase_of(&p->ctrs[i], &pc[i]);
    const char *ph = phase_compute(pod_restart_policy(p), pi, p->n_init, pc, p->n_ctrs);
    free(pi);
    free(pc);
    return ph;
}

static json_t *term_json(const kl_term_t *t)
{
    json_t *j = json_pack("{s:i,s:s,s:s,s:s,s:s}", "exitCode", t->exit_code, "reason", t->reason,
                          "startedAt", t->started_at, "finishedAt", t->finished_at, "containerID",
                          t->container_id);
    if (t->signal) json_object_set_new(j, "signal", json_integer(t->signal));
    if (t->message) json_object_set_new(j, "message", json_string(t->message));
    return j;
}

static json_t *ctr_status(kl_ctr_t *c)
{
    json_t *state;
    if (c->state == C_RUNNING) {
        state = json_pack("{s:{s:s}}", "running", "startedAt", c->started_at);
    } else if (c->state == C_TERMINATED && c->term.set) {
        state = json_pack("{s:o}", "terminated", term_json(&c->term));
    } else {
        json_t *w =
            json_pack("{s:s}", "reason", c->wait_reason[0] ? c->wait_reason : "ContainerCreating");
        if (c->wait_message) json_object_set_new(w, "message", json_string(c->wait_message));
        state = json_pack("{s:o}", "waiting", w);
    }
    json_t *last =
        c->last.set ? json_pack("{s:o}", "terminated", term_json(&c->last)) : json_object();
    json_t *j = json_pack("{s:s,s:o,s:o,s:b,s:i,s:s,s:s,s:b}", "name", c->name, "state", state,
                          "lastState", last, "ready", c->ready, "restartCount",
                          c->runs > 0 ? c->runs - 1 : 0, "image", jsonx_str(c->spec, "image", ""),
                          "imageID", "", "started", c->state == C_RUNNING && c->started);
    if (c->runs > 0) json_object_set_new(j, "containerID", json_string(c->container_id));
    return j;
}

/* A condition keeping its lastTransitionTime when its status did not change. */
static json_t *cond(json_t *old_conds, const char *type, bool status, const char *reason,
                    const char *message, const char *now)
{
    const char *st = status ? "True" : "False";
    const char *ltt = now;
    size_t i;
    json_t *c;
    json_array_foreach(old_conds, i, c) if (strcmp(jsonx_str(c, "type", ""), type) == 0 &&
                                            strcmp(jsonx_str(c, "status", ""), st) == 0) ltt =
        jsonx_str(c, "lastTransitionTime", now);
    json_t *j = json_pack("{s:s,s:s,s:n,s:s}", "type", type, "status", st, "lastProbeTime",
                          "lastTransitionTime", ltt);
    if (reason) json_object_set_new(j, "reason", json_string(reason));
    if (message) json_object_set_new(j, "message", json_string(message));
    return j;
}

static void unready_list(kl_ctr_t *cs, size_t n, bool init, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        bool bad =
            init ? !(cs[i].state == C_TERMINATED && cs[i].term.exit_code == 0) : !cs[i].ready;
        if (bad && o + strlen(cs[i].name) + 2 < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", cs[i].name);
    }
}

static json_t *build(kl_pod_t *p, json_t *old)
{
    char now[32];
    kl_now_time(now, sizeof now);
    json_t *oc = jsonx_get(old, "conditions");
    const char *phase = podstatus_phase(p);
    bool terminal = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
    bool initialized = true;
    for (size_t i = 0; i < p->n_init; i++)
        if (!(p->init[i].state == C_TERMINATED && p->init[i].term.exit_code == 0))
            initialized = false;
    bool ready = !terminal && p->n_ctrs > 0;
    for (size_t i = 0; i < p->n_ctrs; i++)
        if (!p->ctrs[i].ready) ready = false;
    char list[1024], msg[1100];
    json_t *conds = json_array();
    bool sandbox = p->set_up && !p->config_error && (!p->shared_pid || p->pause_ready);
    json_array_append_new(conds, cond(oc, "PodReadyToStartContainers", sandbox, NULL, NULL, now));
    if (initialized) {
        json_array_append_new(conds, cond(oc, "Initialized", true, NULL, NULL, now));
    } else {
        unready_list(p->init, p->n_init, true, list, sizeof list);
        snprintf(msg, sizeof msg, "containers with incomplete status: [%s]", list);
        json_array_append_new(conds,
                              cond(oc, "Initialized", false, "ContainersNotInitialized", msg, now));
    }
    const char *why = terminal ? "PodCompleted" : "ContainersNotReady";
    unready_list(p->ctrs, p->n_ctrs, false, list, sizeof list);
    snprintf(msg, sizeof msg, "containers with unready status: [%s]", list);
    json_array_append_new(
        conds, cond(oc, "Ready", ready, ready ? NULL : why, ready || terminal ? NULL : msg, now));
    json_array_append_new(conds, cond(oc, "ContainersReady", ready, ready ? NULL : why,
                                      ready || terminal ? NULL : msg, now));
    json_array_append_new(conds, cond(oc, "PodScheduled", true, NULL, NULL, now));
    json_t *st =
        json_pack("{s:s,s:o,s:s,s:[{s:s}],s:s}", "phase", phase, "conditions", conds, "hostIP",
                  "127.0.0.1", "hostIPs", "ip", "127.0.0.1", "startTime", p->start_time);
    if (p->ip[0]) {
        json_object_set_new(st, "podIP", json_string(p->ip));
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", p->ip));
    }
    if (p->n_init) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_init; i++)
            json_array_append_new(a, ctr_status(&p->init[i]));
        json_object_set_new(st, "initContainerStatuses", a);
    }
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_ctrs; i++)
        json_array_append_new(a, ctr_status(&p->ctrs[i]));
    json_object_set_new(st, "containerStatuses", a);
    json_t *qos = jsonx_get(old, "qosClass");
    json_object_set_new(st, "qosClass", qos ? json_incref(qos) : json_string("BestEffort"));
    return st;
}

void podstatus_write(kl_pod_t *p)
{
    kubelet_t *kl = p->kl;
    if (kl->stopping || p->deleting || p->released || !p->obj) return;
    char key[600];
    snprintf(key, sizeof key, "%s/%s", p->ns, p->name);
    json_t *old = store_coll_get(kl->pods_rt->coll, key);
    if (!old || strcmp(jsonx_str(old, "metadata.uid", ""), p->uid) != 0) return;
    json_t *ost = json_object_get(old, "status");
    json_t *st = build(p, ost);
    if (json_equal(st, ost)) {
        json_decref(st);
        return;
    }
    json_incref(old);
    json_t *next = json_copy(old);
    json_object_set(next, "status", st);
    json_t *body = json_pack("{s:o}", "status", st);
    objops_opts_t o = {.field_manager = "kubelet", .status = true};
    json_t *out = NULL;
    kerr_t e = {0};
    kl->self_write = true;
    objops_commit_update(kl->as, kl->pods_rt, p->ns, old, next, body, &o, "Update", &out, &e);
    kl->self_write = false;
    json_decref(body);
    json_decref(out);
    json_decref(old);
    kerr_clear(&e);
}
