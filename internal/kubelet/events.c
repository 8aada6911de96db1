/* events: the core/v1 Events the kubelet (and, for binding, the scheduler) posts about pods
 * (Scheduled, Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed, FailedMount), so
 * `kubectl describe pod` shows them; a repeated event bumps count and lastTimestamp. */
#include "kubelet/kubelet_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/objops.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"

static bool bump(kl_pod_t *p, const char *name, const char *now)
{
    kubelet_t *kl = p->kl;
    json_t *old = objops_get(kl->as, kl->events_rt, p->ns, name);
    if (!old) return false;
    json_incref(old);
    json_t *next = json_deep_copy(old);
    json_object_set_new(next, "count", json_integer(jsonx_int(old, "count", 1) + 1));
    json_object_set_new(next, "lastTimestamp", json_string(now));
    json_t *body = json_pack("{s:s,s:I}", "lastTimestamp", now, "count", (json_int_t)0);
    objops_opts_t o = {.field_manager = "kubelet"};
    json_t *out = NULL;
    kerr_t e = {0};
    int rc =
        objops_commit_update(kl->as, kl->events_rt, p->ns, old, next, body, &o, "Update", &out, &e);
    json_decref(body);
    json_decref(out);
    json_decref(old);
    kerr_clear(&e);
    return rc == 0;
}

void kl_event(kl_pod_t *p, const char *field_path, const char *type, const char *reason,
              const char *component, const char *fmt, ...)
{
    kubelet_t *kl = p->kl;
    if (kl->stopping || !kl->events_rt) return;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    if (!msg) return;
    char now[32];
    kl_now_time(now, sizeof now);
    char *dkey = NULL;
    if (asprintf(&dkey, "%s\x1f%s\x1f%s", reason, field_path ? field_path : "", msg) < 0)
        dkey = NULL;
    const char *prev = dkey ? json_string_value(json_object_get(p->events, dkey)) : NULL;
    if (prev && bump(p, prev, now)) {
        free(dkey);
        free(msg);
        return;
    }
    char name[300];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof name, "%.200s.%llx", p->name,
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec +
                 kl->seq++);
    json_t *involved = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace", p->ns, "name",
                                 p->name, "uid", p->uid, "apiVersion", "v1");
    if (field_path) json_object_set_new(involved, "fieldPath", json_string(field_path));
    json_t *ev = json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:i,s:s,s:s,s:n}", "apiVersion",
        "v1", "kind", "Event", "metadata", "name", name, "namespace", p->ns, "involvedObject",
        involved, "reason", reason, "message", msg, "type", type, "source", "component", component,
        "host", kl->node, "firstTimestamp", now, "lastTimestamp", now, "count", 1,
        "reportingComponent", component, "reportingInstance", kl->node, "eventTime");
    objops_opts_t o = {.field_manager = component};
    json_t *out = NULL;
    kerr_t e = {0};
    if (objops_create(kl->as, kl->events_rt, p->ns, ev, &o, &out, &e) == 0 && dkey)
        json_object_set_new(p->events, dkey, json_string(name));
    json_decref(ev);
    json_decref(out);
    kerr_clear(&e);
    free(dkey);
    free(msg);
}
