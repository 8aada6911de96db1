/* cache: the informer's store: objects keyed by "namespace/name" with uid
 * checks, an index by owner uid (metadata.ownerReferences[].uid) and by chosen
 * label keys, guarded by a rwlock so reads are safe from any thread. Objects are
 * stored as compact JSON text (memory: about a tenth of a jansson tree) and
 * every read decodes a private copy. Writers (the informer's loop thread) get
 * the deltas back and call handlers outside the lock. Running out of memory while storing or
 * decoding an object aborts the process (like strbuf): a lost object would otherwise be a
 * silent drop, or look deleted. */
#ifndef KUBE_CACHE_H
#define KUBE_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/informer.h" /* kube_visit_fn */

typedef struct kube_cache kube_cache_t;

typedef enum kube_delta {
    KUBE_DELTA_ADD,    /* new: the object stored; old NULL */
    KUBE_DELTA_UPDATE, /* old -> new, same uid */
    KUBE_DELTA_DELETE, /* old: the last state known; new NULL */
} kube_delta_t;

/* Receives borrowed objects (incref to keep). */
typedef void (*kube_delta_fn)(kube_delta_t kind, json_t *old_obj, json_t *new_obj, void *ud);

/* index_labels: NULL-terminated label keys to index (copied); may be NULL. NULL
 * on OOM. */
kube_cache_t *kube_cache_new(const char *const *index_labels);
void kube_cache_free(kube_cache_t *c);

/* The default transform: drops metadata.managedFields (edits obj in place;
 * steals and returns it). */
json_t *kube_cache_default_transform(json_t *obj, void *ud);

/* The stored form of obj (borrowed): its compact JSON text as a jansson string (new reference).
 * Aborts on OOM, as every function here: a lost object would be a silent drop. */
json_t *kube_cache_pack(json_t *obj);

/* Stores obj (steals it) under its key. Deltas go to fn (may be NULL) after the
 * lock is released: ADD for a new key; UPDATE when the uid is the same (or
 * either has none); DELETE(old) then ADD(new) when the uid changed. Returns 0,
 * or -EINVAL when obj has no name (obj is released). */
int kube_cache_upsert(kube_cache_t *c, json_t *obj, kube_delta_fn fn, void *ud);
/* Removes obj's key (obj borrowed; it is the final state reported). Emits
 * DELETE(obj) if the key was cached, nothing otherwise. Returns 0, -ENOENT if
 * absent, -EINVAL without a name. */
int kube_cache_remove(kube_cache_t *c, json_t *obj, kube_delta_fn fn, void *ud);
/* Replaces the whole content with items (an array, stolen, of objects or of their packed forms
 * from kube_cache_pack; handled one decoded tree at a time, so a big list never exists as trees
 * all at once): keys absent from items get DELETE, new keys ADD, keys whose uid changed
 * DELETE+ADD, keys whose resourceVersion changed UPDATE; unchanged objects (same uid and
 * resourceVersion) emit nothing. Items without a name are skipped. Deletes are emitted first;
 * each delta's objects are decoded just before its call. Returns 0. */
int kube_cache_replace(kube_cache_t *c, json_t *items, kube_delta_fn fn, void *ud);

/* Reads (thread-safe): each returns a freshly decoded object (or an array of
 * them) that the caller owns and may edit; decref when done. */
json_t *kube_cache_get(kube_cache_t *c, const char *key);
/* Visit the selected objects one decoded copy at a time (fn may keep it with json_incref); the
 * selection is taken under the lock, the decoding and the calls happen without it. fn returning
 * nonzero stops the walk. Return the number of objects visited. */
size_t kube_cache_foreach(kube_cache_t *c, kube_visit_fn fn, void *ud);
size_t kube_cache_foreach_by_owner(kube_cache_t *c, const char *owner_uid, kube_visit_fn fn,
                                   void *ud);
size_t kube_cache_foreach_by_label(kube_cache_t *c, const char *key, const char *value,
                                   kube_visit_fn fn, void *ud);
json_t *kube_cache_list(kube_cache_t *c);
size_t kube_cache_count(kube_cache_t *c);
json_t *kube_cache_by_owner(kube_cache_t *c, const char *owner_uid);
/* Uses the index when key is one of index_labels, otherwise scans. */
json_t *kube_cache_by_label(kube_cache_t *c, const char *key, const char *value);

#endif
