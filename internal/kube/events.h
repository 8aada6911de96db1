/* events: the controller's event recorder (core/v1 Event), as client-go's record package:
 * an event names the object it is about (involvedObject), a type, a reason and a message; a
 * repeat of the same (object uid, type, reason, message) within 10 minutes bumps the count and
 * lastTimestamp of the event already written (a merge PATCH) instead of creating another (the
 * event correlator, simplified: no aggregation of similar messages, no spam filter). The
 * repeats are remembered in a bounded LRU map. Thread-safe; writes are blocking API calls. The
 * repeat is known once the first Event is written: two threads recording the same new event at
 * the same moment may both create one (later repeats patch the one remembered last). */
#ifndef KUBE_EVENTS_H
#define KUBE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/client.h"

#define KUBE_EVENT_NORMAL  "Normal"
#define KUBE_EVENT_WARNING "Warning"

/* How long a repeat is folded into the existing event (client-go: 10 minutes). */
#define KUBE_EVENT_DEDUP_WINDOW_S 600.0
/* Entries kept in the repeat map (client-go's maxLruCacheEntries). */
#define KUBE_EVENT_LRU_SIZE 4096

typedef struct kube_events kube_events_t;

/* client is borrowed (must outlive the recorder); component is source.component and
 * reportingComponent ("sandbox-controller"); host is source.host and reportingInstance (may be
 * NULL). Returns NULL only on allocation failure. */
kube_events_t *kube_events_new(kube_client_t *client, const char *component, const char *host);
void kube_events_free(kube_events_t *ev);

/* Records an event about obj (borrowed; any Kubernetes object with apiVersion, kind and
 * metadata). type is KUBE_EVENT_NORMAL or KUBE_EVENT_WARNING; reason is CamelCase. Creates the
 * Event, or PATCHes the count of a repeat (and creates a fresh Event if that one is gone).
 * Returns 0 or the client's negative code (the failure is also logged at debug level: an event
 * that cannot be written never fails the caller's work). ev NULL is a no-op returning 0. */
int kube_event_record(kube_events_t *ev, json_t *obj, const char *type, const char *reason,
                      const char *message);
/* Events created and repeats patched so far (for tests and metrics). */
void kube_events_counts(kube_events_t *ev, unsigned long *created, unsigned long *patched);

/* ---- pure parts (exposed for tests) ---- */

/* The repeat key: "uid\ntype\nreason\nmessage" (uid falls back to namespace/name for objects
 * without one), malloc'd. NULL on allocation failure. */
char *kube_event_key(json_t *obj, const char *type, const char *reason, const char *message);

/* The namespace the event lives in: the object's, or "default" for cluster-scoped objects
 * (borrowed from obj or static). */
const char *kube_event_namespace(json_t *obj);

/* A new Event body: metadata {name, namespace}, involvedObject {kind, namespace, name, uid,
 * apiVersion, resourceVersion}, type, reason, message, source {component, host},
 * reportingComponent, reportingInstance, firstTimestamp = lastTimestamp = now_rfc3339,
 * count 1. name is the Event's name (client-go: "<object name>.<unix nanos in hex>"). New
 * reference. */
json_t *kube_event_body(json_t *obj, const char *name, const char *type, const char *reason,
                        const char *message, const char *component, const char *host,
                        const char *now_rfc3339);

/* The Event name for obj at wall time (seconds, nanoseconds): "<name>.<hex nanos>" in buf. */
void kube_event_name(json_t *obj, long long sec, long nsec, char *buf, size_t len);

#endif
