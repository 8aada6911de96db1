/* events: writes core/v1 Events about objects and folds repeats within 10 minutes into the
 * existing Event's count (a bounded LRU map of recent events: a hash table plus a recency
 * list). The pure parts build keys, names and bodies; kube_event_record does the API calls. */
#include "kube/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "kube/ratelimit.h"

#define NBUCKETS 8192 /* power of two, about twice KUBE_EVENT_LRU_SIZE */

typedef struct ev_entry {
    char *key;
    char *ns;
    char *name; /* the Event object's name */
    long long count;
    double last_s; /* monotonic time of the last write */
    struct ev_entry *hnext;
    struct ev_entry *prev, *next; /* recency list: head = most recent */
} ev_entry_t;

struct kube_events {
    kube_client_t *client;
    char *component;
    char *host;
    pthread_mutex_t mu;
    ev_entry_t *buckets[NBUCKETS];
    ev_entry_t *head, *tail;
    size_t n;
    unsigned long created, patched;
};

/* ---- pure parts ---- */

char *kube_event_key(json_t *obj, const char *type, const char *reason, const char *message)
{
    const char *uid = jsonx_str(obj, "metadata.uid", "");
    char *out = NULL;
    int rc;
    if (*uid)
        rc = asprintf(&out, "%s\n%s\n%s\n%s", uid, type ? type : "", reason ? reason : "",
                      message ? message : "");
    else
        rc = asprintf(&out, "%s/%s/%s\n%s\n%s\n%s", jsonx_str(obj, "kind", ""),
                      jsonx_str(obj, "metadata.namespace", ""), jsonx_str(obj, "metadata.name", ""),
                      type ? type : "", reason ? reason : "", message ? message : "");
    return rc < 0 ? NULL : out;
}

const char *kube_event_namespace(json_t *obj)
{
    const char *ns = jsonx_str(obj, "metadata.namespace", "");
    return *ns ? ns : "default";
}

void kube_event_name(json_t *obj, long long sec, long nsec, char *buf, size_t len)
{
    unsigned long long nanos = (unsigned long long)sec * 1000000000ULL + (unsigned long long)nsec;
    snprintf(buf, len, "%s.%llx", jsonx_str(obj, "metadata.name", "unknown"), nanos);
}

static void set_str_if(json_t *o, const char *k, const char *v)
{
    if (v && *v) json_object_set_new(o, k, json_string(v));
}

json_t *kube_event_body(json_t *obj, const char *name, const char *type, const char *reason,
                        const char *message, const char *component, const char *host,
                        const char *now_rfc3339)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "apiVersion", json_string("v1"));
    json_object_set_new(ev, "kind", json_string("Event"));
    json_t *md = json_object();
    json_object_set_new(md, "name", json_string(name));
    json_object_set_new(md, "namespace", json_string(kube_event_namespace(obj)));
    json_object_set_new(ev, "metadata", md);

    json_t *io = json_object();
    set_str_if(io, "kind", jsonx_str(obj, "kind", NULL));
    set_str_if(io, "namespace", jsonx_str(obj, "metadata.namespace", NULL));
    set_str_if(io, "name", jsonx_str(obj, "metadata.name", NULL));
    set_str_if(io, "uid", jsonx_str(obj, "metadata.uid", NULL));
    set_str_if(io, "apiVersion", jsonx_str(obj, "apiVersion", NULL));
    set_str_if(io, "resourceVersion", jsonx_str(obj, "metadata.resourceVersion", NULL));
    json_object_set_new(ev, "involvedObject", io);

    json_object_set_new(ev, "type", json_string(type ? type : KUBE_EVENT_NORMAL));
    json_object_set_new(ev, "reason", json_string(reason ? reason : ""));
    json_object_set_new(ev, "message", json_string(message ? message : ""));
    json_t *src = json_object();
    set_str_if(src, "component", component);
    set_str_if(src, "host", host);
    json_object_set_new(ev, "source", src);
    set_str_if(ev, "reportingComponent", component);
    set_str_if(ev, "reportingInstance", host);
    json_object_set_new(ev, "firstTimestamp", json_string(now_rfc3339));
    json_object_set_new(ev, "lastTimestamp", json_string(now_rfc3339));
    json_object_set_new(ev, "count", json_integer(1));
    return ev;
}

/* ---- the LRU map (callers hold mu) ---- */

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)(h & (NBUCKETS - 1));
}

static ev_entry_t *map_find(kube_events_t *ev, const char *key)
{
    for (ev_entry_t *e = ev->buckets[hash_str(key)]; e; e = e->hnext)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void list_unlink(kube_events_t *ev, ev_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        ev->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        ev->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(kube_events_t *ev, ev_entry_t *e)
{
    e->prev = NULL;
    e->next = ev->head;
    if (ev->head) ev->head->prev = e;
    ev->head = e;
    if (!ev->tail) ev->tail = e;
}

static void entry_free(ev_entry_t *e)
{
    free(e->key);
    free(e->ns);
    free(e->name);
    free(e);
}

static void map_remove(kube_events_t *ev, ev_entry_t *e)
{
    ev_entry_t **pp = &ev->buckets[hash_str(e->key)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    list_unlink(ev, e);
    ev->n--;
    entry_free(e);
}

/* Inserts or refreshes key -> (ns, name, count) as the most recent entry. */
static void map_put(kube_events_t *ev, const char *key, const char *ns, const char *name,
                    long long count, double now_s)
{
    ev_entry_t *e = map_find(ev, key);
    if (!e) {
        if (ev->n >= KUBE_EVENT_LRU_SIZE && ev->tail) map_remove(ev, ev->tail);
        e = calloc(1, sizeof(*e));
        if (!e || !(e->key = strdup(key))) {
            free(e);
            return;
        }
        size_t b = hash_str(key);
        e->hnext = ev->buckets[b];
        ev->buckets[b] = e;
        ev->n++;
    } else {
        list_unlink(ev, e);
    }
    free(e->ns);
    free(e->name);
    e->ns = strdup(ns);
    e->name = strdup(name);
    e->count = count;
    e->last_s = now_s;
    list_push_front(ev, e);
    if (!e->ns || !e->name) map_remove(ev, e); /* OOM: forget it rather than keep a half entry */
}

/* ---- recorder ---- */

kube_events_t *kube_events_new(kube_client_t *client, const char *component, const char *host)
{
    kube_events_t *ev = calloc(1, sizeof(*ev));
    if (!ev) return NULL;
    ev->client = client;
    ev->component = strdup(component ? component : "sandbox-controller");
    ev->host = host ? strdup(host) : NULL;
    if (!ev->component || (host && !ev->host)) {
        kube_events_free(ev);
        return NULL;
    }
    pthread_mutex_init(&ev->mu, NULL);
    return ev;
}

void kube_events_free(kube_events_t *ev)
{
    if (!ev) return;
    while (ev->head)
        map_remove(ev, ev->head);
    pthread_mutex_destroy(&ev->mu);
    free(ev->component);
    free(ev->host);
    free(ev);
}

void kube_events_counts(kube_events_t *ev, unsigned long *created, unsigned long *patched)
{
    pthread_mutex_lock(&ev->mu);
    if (created) *created = ev->created;
    if (patched) *patched = ev->patched;
    pthread_mutex_unlock(&ev->mu);
}

static int event_create(kube_events_t *ev, json_t *obj, const char *key, const char *type,
                        const char *reason, const char *message)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char name[320], now[40];
    kube_event_name(obj, (long long)ts.tv_sec, ts.tv_nsec, name, sizeof(name));
    jsonx_time_format(ts.tv_sec, now, sizeof(now));
    const char *ns = kube_event_namespace(obj);
    json_t *body = kube_event_body(obj, name, type, reason, message, ev->component, ev->host, now);
    kube_status_t st;
    int rc = kube_create(ev->client, &KUBE_RES_EVENTS, ns, body, NULL, &st);
    json_decref(body);
    if (rc < 0) {
        log_debug("event not written", "reason", reason, "object",
                  jsonx_str(obj, "metadata.name", ""), "error", st.message);
        return rc;
    }
    pthread_mutex_lock(&ev->mu);
    map_put(ev, key, ns, name, 1, kube_now_s());
    ev->created++;
    pthread_mutex_unlock(&ev->mu);
    return 0;
}

int kube_event_record(kube_events_t *ev, json_t *obj, const char *type, const char *reason,
                      const char *message)
{
    if (!ev || !obj) return 0;
    char *key = kube_event_key(obj, type, reason, message);
    if (!key) return -ENOMEM;
    double now_s = kube_now_s();
    char *ns = NULL, *name = NULL;
    long long count = 0;

    pthread_mutex_lock(&ev->mu);
    ev_entry_t *e = map_find(ev, key);
    if (e && now_s - e->last_s <= KUBE_EVENT_DEDUP_WINDOW_S) {
        count = ++e->count;
        e->last_s = now_s;
        list_unlink(ev, e);
        list_push_front(ev, e);
        ns = strdup(e->ns);
        name = strdup(e->name);
        if (!ns || !name) {
            pthread_mutex_unlock(&ev->mu);
            free(ns);
            free(name);
            free(key);
            return -ENOMEM;
        }
    }
    pthread_mutex_unlock(&ev->mu);

    int rc;
    if (ns && name) {
        char now[40];
        jsonx_time_format(time(NULL), now, sizeof(now));
        json_t *patch = json_pack("{s:I, s:s}", "count", (json_int_t)count, "lastTimestamp", now);
        kube_status_t st;
        rc = kube_patch(ev->client, &KUBE_RES_EVENTS, ns, name, NULL, KUBE_PATCH_MERGE, patch, NULL,
                        &st);
        json_decref(patch);
        if (rc == 0) {
            pthread_mutex_lock(&ev->mu);
            ev->patched++;
            pthread_mutex_unlock(&ev->mu);
        } else if (rc == -ENOENT) {
            rc = event_create(ev, obj, key, type, reason, message); /* the old one is gone */
        } else {
            log_debug("event count not updated", "event", name, "error", st.message);
        }
    } else {
        rc = event_create(ev, obj, key, type, reason, message);
    }
    free(ns);
    free(name);
    free(key);
    return rc;
}
