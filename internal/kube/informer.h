/* informer: list + watch of one resource type into a cache, modelled on client-go's reflector
 * and shared informer. All network work runs on a libuv loop with a libcurl multi handle: a
 * paginated list, then a watch from the list's resourceVersion with bookmarks, resuming from the
 * last version seen; relist on 410 (ERROR event or HTTP 410); exponential back-off with jitter
 * (0.8 s doubling to 30 s, reset after 2 min of health). The cache is keyed by "namespace/name"
 * (or "name" for cluster-scoped types) and checks uids, so a delete + recreate between two
 * observations is delivered as delete then add. Cache reads are thread-safe. */
#ifndef KUBE_INFORMER_H
#define KUBE_INFORMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/metrics.h"
#include "kube/client.h"

typedef struct kube_informer kube_informer_t;

/* Handlers run on the loop thread with borrowed, immutable objects (never edit them; incref to
 * keep). Typical use: compute a key and kube_queue_add it. Any may be NULL. */
typedef struct kube_informer_handlers {
    void (*on_add)(json_t *obj, void *ud);
    void (*on_update)(json_t *old_obj, json_t *new_obj, void *ud);
    void (*on_delete)(json_t *obj, void *ud); /* the last state known */
    void *ud;
} kube_informer_handlers_t;

typedef struct kube_informer_options {
    const kube_resource_t *resource; /* borrowed; must outlive the informer */
    const char *ns;                  /* NULL/"" = all namespaces */
    const char *label_selector;      /* NULL = everything (keeps memory bounded when set) */
    const char *field_selector;
    int page_size; /* 0 = 500 */
    /* Called on each object before it is cached (steals obj, returns the object to keep, may be
     * obj itself). NULL = the default transform, which drops metadata.managedFields. */
    json_t *(*transform)(json_t *obj, void *ud);
    void *transform_ud;
    double resync_s;                 /* > 0: call on_update(obj, obj) for every object this often */
    const char *const *index_labels; /* NULL-terminated label keys to index for by_label (copied);
                                      * by_label on another key scans the cache */
    metrics_registry_t *metrics;     /* may be NULL: informer_watch_restarts_total{resource,reason},
                                      * informer_relists_total{resource}, informer_objects{resource} */
} kube_informer_options_t;

/* Creates an informer on loop (the loop must be run by the caller, on one thread). Copies the
 * option strings. Returns 0 or -errno. */
int kube_informer_new(uv_loop_t *loop, kube_client_t *client, const kube_informer_options_t *opts,
                      const kube_informer_handlers_t *handlers, kube_informer_t **out);
/* Call on the loop thread. start begins the first list; stop cancels transfers and timers, and
 * calls done(ud) on the loop thread once every handle is closed (then free is allowed). */
int kube_informer_start(kube_informer_t *inf);
void kube_informer_stop(kube_informer_t *inf, void (*done)(void *ud), void *ud);
void kube_informer_free(kube_informer_t *inf);

/* True once the first complete list has been applied to the cache. Thread-safe. */
bool kube_informer_has_synced(kube_informer_t *inf);
/* The resourceVersion of the last event or list applied ("" before the first list). Copies it
 * into buf. Thread-safe. */
void kube_informer_last_rv(kube_informer_t *inf, char *buf, size_t len);

/* Counters since kube_informer_new (thread-safe): lists applied (the first included), relists
 * (lists after the first), watch requests started, watch restarts (every end of a stream:
 * expired, error, short, closed), of which expired (410), and watch events received. */
typedef struct kube_informer_stats {
    unsigned long lists, relists, watches, watch_restarts, expired, events;
} kube_informer_stats_t;
void kube_informer_stats(kube_informer_t *inf, kube_informer_stats_t *out);

/* Cache reads (thread-safe). The cache keeps objects as compact JSON text (about 1 KiB per pod
 * instead of about 9 KiB as jansson trees), so every read decodes a private copy: the caller owns
 * it, may edit it, and decrefs it when done. A read costs a JSON decode (microseconds per
 * object): prefer get and the indexes to listing everything. */
json_t *kube_informer_get(kube_informer_t *inf, const char *key); /* NULL if absent */
json_t *kube_informer_list(kube_informer_t *inf);                 /* array */
size_t kube_informer_count(kube_informer_t *inf);
/* Index lookups: objects whose metadata.ownerReferences hold uid; objects with label key=value.
 * Return arrays (possibly empty). */
json_t *kube_informer_by_owner(kube_informer_t *inf, const char *owner_uid);
json_t *kube_informer_by_label(kube_informer_t *inf, const char *key, const char *value);

/* The same selections without materializing them all: fn gets one decoded private copy at a time
 * (borrowed for the call; json_incref to keep it) and stops the walk by returning nonzero.
 * Memory stays at one object whatever the selection's size. Return the number visited. */
typedef int (*kube_visit_fn)(json_t *obj, void *ud);
size_t kube_informer_foreach(kube_informer_t *inf, kube_visit_fn fn, void *ud);
size_t kube_informer_foreach_by_owner(kube_informer_t *inf, const char *owner_uid, kube_visit_fn fn,
                                      void *ud);
size_t kube_informer_foreach_by_label(kube_informer_t *inf, const char *key, const char *value,
                                      kube_visit_fn fn, void *ud);

/* The cache key of obj ("ns/name", or "name" without a namespace), malloc'd; NULL if obj has no
 * name. */
char *kube_object_key(json_t *obj);

#endif
