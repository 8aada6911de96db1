/* leader: leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
 * (LeaseLock): acquire by create or by an optimistic-concurrency PUT once the holder's record
 * has not changed for leaseDurationSeconds by the LOCAL clock, renew by PUT every retryPeriod,
 * give up leadership when not renewed within renewDeadline, release on shutdown. The decision
 * is a pure function (kube_leader_decide) over the Lease read and what was observed before; the
 * elector runs it on its own thread with blocking client calls. */
#ifndef KUBE_LEADER_H
#define KUBE_LEADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/client.h"
#include "kube/events.h"

/* client-go defaults (controller-runtime uses the same). */
#define KUBE_LEADER_LEASE_DURATION_S 15.0
#define KUBE_LEADER_RENEW_DEADLINE_S 10.0
#define KUBE_LEADER_RETRY_PERIOD_S   2.0
#define KUBE_LEADER_JITTER           1.2

/* ---- pure decision ---- */

/* The election record held in a Lease's spec. */
typedef struct kube_leader_record {
    char holder[256];      /* spec.holderIdentity ("" = free) */
    int lease_duration_s;  /* spec.leaseDurationSeconds (0 if absent) */
    int transitions;       /* spec.leaseTransitions */
    char acquire_time[48]; /* spec.acquireTime (MicroTime text) */
    char renew_time[48];   /* spec.renewTime */
} kube_leader_record_t;

/* What this candidate saw last: the record and the local (monotonic) time it first saw it. A
 * record that differs from the one observed restarts the clock, whatever its renewTime says, so
 * clock skew between candidates does not matter. */
typedef struct kube_leader_observed {
    bool valid;
    kube_leader_record_t record;
    double time_s;
} kube_leader_observed_t;

typedef enum kube_leader_action {
    KUBE_LEADER_CREATE,  /* no Lease: POST one naming us */
    KUBE_LEADER_WAIT,    /* another candidate holds a live lease */
    KUBE_LEADER_ACQUIRE, /* take it over: PUT, leaseTransitions + 1, acquireTime = now */
    KUBE_LEADER_RENEW,   /* we hold it: PUT renewTime = now, keep acquireTime/transitions */
} kube_leader_action_t;

/* Reads the record from a Lease object (NULL or missing fields give zeros/""). */
void kube_leader_record_from_lease(json_t *lease, kube_leader_record_t *out);
bool kube_leader_record_equal(const kube_leader_record_t *a, const kube_leader_record_t *b);

/* The decision of client-go's tryAcquireOrRenew. lease is the Lease read (NULL = NotFound);
 * obs is updated in place (a changed record restarts its clock at now_s); default_duration_s is
 * used when the record has no leaseDurationSeconds. */
kube_leader_action_t kube_leader_decide(json_t *lease, kube_leader_observed_t *obs,
                                        const char *identity, double now_s,
                                        double default_duration_s);

/* The Lease to write for action (CREATE, ACQUIRE or RENEW; WAIT returns NULL): a copy of lease
 * (keeping metadata, so its resourceVersion is the precondition) or a new Lease ns/name, with
 * spec {holderIdentity: identity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions}
 * as client-go writes it. now_micro is a MicroTime ("...T..:..:..123456Z"). New reference. */
json_t *kube_leader_lease_body(kube_leader_action_t action, json_t *lease, const char *ns,
                               const char *name, const char *identity, int duration_s,
                               const char *now_micro);
/* The release write: holderIdentity "", leaseDurationSeconds 1, acquireTime = renewTime = now,
 * transitions kept (client-go leaderelection.go release). New reference. */
json_t *kube_leader_release_body(json_t *lease, const char *now_micro);

const char *kube_leader_action_name(kube_leader_action_t a);

/* ---- the elector ---- */

typedef struct kube_leader_config {
    const char *ns;       /* Lease namespace */
    const char *name;     /* Lease name */
    const char *identity; /* this candidate (kube_leader_identity_new) */
    double lease_duration_s, renew_deadline_s, retry_period_s; /* 0 = defaults above */
    /* Callbacks run on the elector's thread. started: we lead now. stopped: we led and lost it
     * (not renewed within renewDeadline); never called after a clean kube_leader_stop.
     * new_leader: the holder we observe changed (including to ourselves). Any may be NULL. */
    void (*on_started_leading)(void *ud);
    void (*on_stopped_leading)(void *ud);
    void (*on_new_leader)(const char *identity, void *ud);
    void *ud;
    kube_events_t *events;       /* borrowed, may be NULL: "<identity> became leader" on the Lease,
                                  * written on a thread of its own (joined by kube_leader_stop) so a
                                  * slow events API never delays a renew */
    metrics_registry_t *metrics; /* may be NULL: leader_election_master_status{name},
                                  * leader_election_conflicts_total{name} */
} kube_leader_config_t;

typedef struct kube_leader kube_leader_t;

/* Starts the elector thread (strings are copied). client is borrowed and should be the
 * elector's own: one call on it must end well within the renew deadline, so give it
 * timeout_ms <= renewDeadline / 2 and max_retries < 0 (no retries), and no rate limit shared
 * with the reconcilers. A renew still in flight at the deadline does not extend leadership (see
 * kube_leader_is_leader); the deadline counts from the start of the last successful write.
 * Returns 0 or -errno. */
int kube_leader_start(kube_client_t *client, const kube_leader_config_t *cfg, kube_leader_t **out);
/* Stops the elector: interrupts its waits, waits for a call in flight, releases the Lease if we
 * hold it, joins the thread and frees. on_started_leading does not run once stop was called
 * (an acquisition that completes meanwhile is released). Takes up to about two calls of the
 * client's timeout. Call from any thread but a callback. */
void kube_leader_stop(kube_leader_t *le);
/* True while we lead and the last successful Lease write started less than renewDeadline ago:
 * it turns false by time, while a renew is still blocked, before on_stopped_leading runs.
 * Callers that act only as leader check it (and should exit once it turns false). */
bool kube_leader_is_leader(kube_leader_t *le);
/* Renew PUTs answered 409 Conflict (and then re-read and retried). */
unsigned long kube_leader_conflicts(kube_leader_t *le);

/* "<hostname>_<random hex>" (controller-runtime's identity), into buf. */
void kube_leader_identity_new(char *buf, size_t len);

#endif
