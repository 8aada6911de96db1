/* store: localcluster's in-memory storage: one global resourceVersion counter (large, with
 * random gaps), one collection of objects per resource type, a bounded history of changes for
 * watches and consistent paging, and watcher fan-out. Stored objects are immutable: a write
 * replaces the tree, never edits it. Single-threaded (the loop thread). */
#ifndef APISERVER_STORE_H
#define APISERVER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_coll store_coll_t;
typedef struct store_watch store_watch_t;

typedef enum store_ev_type { STORE_ADDED, STORE_MODIFIED, STORE_DELETED } store_ev_type_t;

typedef struct store_event {
    uint64_t rv;
    store_ev_type_t type;
    store_coll_t *coll;
    char *key;   /* "ns/name" or "name" */
    json_t *obj; /* the new state; for DELETED the last state carrying the deletion RV */
    json_t *old; /* the previous state, or NULL for ADDED */
} store_event_t;

/* max_events/max_age_s bound the history (0 = defaults: 100,000 events, 150 s). */
store_t *store_new(size_t max_events, unsigned max_age_s);
void store_free(store_t *s);

uint64_t store_rv(const store_t *s);
/* Advances the global counter by a random gap and returns the new value. */
uint64_t store_next_rv(store_t *s);
/* Events with rv <= floor are no longer in the history: a watch or snapshot from an RV below
 * it is Expired. */
uint64_t store_history_floor(const store_t *s);
/* Retention knobs (fault injection): keep at most n events (0 = default). */
void store_set_retention(store_t *s, size_t max_events);

store_coll_t *store_coll_new(store_t *s);
/* Ends every watch on coll (their callbacks get ev == NULL) and releases it. */
void store_coll_drop(store_t *s, store_coll_t *coll);
size_t store_coll_count(const store_coll_t *c);
/* Borrowed stored object, or NULL. */
json_t *store_coll_get(const store_coll_t *c, const char *key);
/* Sorted keys (malloc'd array of borrowed strings valid until the next write), optionally only
 * those starting with prefix ("ns/"). *n receives the count. */
const char **store_coll_keys(const store_coll_t *c, const char *prefix, size_t *n);

/* Commits a change. obj (stolen) is the new stored state for ADDED/MODIFIED and NULL for
 * DELETED; ev_obj (stolen, may be NULL = obj) is what watchers see (for DELETED, the last state
 * with the deletion RV). The caller has already put `rv` (from store_next_rv) into the objects. */
void store_commit(store_t *s, store_coll_t *c, const char *key, store_ev_type_t type, uint64_t rv,
                  json_t *obj, json_t *ev_obj);

/* History access: index of the first event with rv > after (0..store_history_len), or -ESTALE
 * if after < floor. Events are valid until the next commit. */
int store_history_seek(const store_t *s, uint64_t after, size_t *idx);
size_t store_history_len(const store_t *s);
const store_event_t *store_history_at(const store_t *s, size_t idx);

/* The collection as it was at rv: a new object map key -> object (new reference). -ESTALE if
 * the history no longer reaches back to rv. */
int store_coll_snapshot(const store_t *s, const store_coll_t *c, uint64_t rv, json_t **out);

/* The compact JSON text of an object, from a one-entry cache: a create's watch events and its
 * response (and every watcher of one event) serialize the object once. The text is valid until
 * the next call; *len receives its length. obj is borrowed. */
const char *store_obj_text(store_t *s, json_t *obj, size_t *len);

typedef void (*store_watch_fn)(const store_event_t *ev, void *ud);
/* Calls fn for every event of coll committed from now on; fn(NULL, ud) when coll is dropped
 * (the watch is then already removed). */
store_watch_t *store_watch_add(store_coll_t *c, store_watch_fn fn, void *ud);
void store_watch_remove(store_watch_t *w);

#endif
