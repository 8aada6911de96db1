/* workqueue: the controller's queue of keys ("namespace/name") and its workers, as client-go's
 * workqueue and controller-runtime's controller: a key waits at most once (dedup), is never held
 * by two workers at once (a key added while in flight is re-queued when done), can come back
 * after a delay or with per-key exponential back-off (5 ms doubling to 1000 s, max'ed with a
 * global 10 qps / burst 100 bucket). Thread-safe. */
#ifndef KUBE_WORKQUEUE_H
#define KUBE_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/metrics.h"

typedef struct kube_queue kube_queue_t;

/* name labels the metrics (workqueue_depth, workqueue_adds_total, workqueue_retries_total,
 * workqueue_queue_duration_seconds); metrics may be NULL. */
kube_queue_t *kube_queue_new(const char *name, metrics_registry_t *metrics);
/* Call after kube_queue_shutdown and after every worker returned. */
void kube_queue_free(kube_queue_t *q);

void kube_queue_add(kube_queue_t *q, const char *key);
void kube_queue_add_after(kube_queue_t *q, const char *key, double delay_s);
void kube_queue_add_rate_limited(kube_queue_t *q, const char *key);
/* Clears the key's back-off history (call after a successful reconcile). */
void kube_queue_forget(kube_queue_t *q, const char *key);
int kube_queue_num_requeues(kube_queue_t *q, const char *key);

/* Blocks until a key is ready; returns it malloc'd (caller frees after kube_queue_done), or NULL
 * once the queue is shut down. */
char *kube_queue_get(kube_queue_t *q);
void kube_queue_done(kube_queue_t *q, const char *key);
/* Keys ready now (not delayed, not in flight). */
size_t kube_queue_len(kube_queue_t *q);
/* Wakes every getter (they get NULL); later adds are ignored. */
void kube_queue_shutdown(kube_queue_t *q);

/* ---- workers ---- */
typedef struct kube_result {
    int err;                /* < 0: failed; re-queued with back-off */
    bool requeue;           /* re-queue with back-off although no error */
    double requeue_after_s; /* > 0: come back after this long (back-off forgotten) */
} kube_result_t;

typedef kube_result_t (*kube_reconcile_fn)(const char *key, void *ud);
typedef struct kube_workers kube_workers_t;

/* Starts n threads that take keys and call fn (never two at once for one key). Metrics (may be
 * NULL): controller_runtime_reconcile_total{controller,result="success|error|requeue|
 * requeue_after"}, controller_runtime_reconcile_errors_total{controller},
 * controller_runtime_reconcile_time_seconds{controller} (histogram). Returns 0 or -errno. When a
 * thread cannot be created after others were, the queue is shut down (the only way to stop the
 * ones started) before -errno is returned: the caller's queue is then unusable. */
int kube_workers_start(kube_queue_t *q, int n, kube_reconcile_fn fn, void *ud,
                       const char *controller, metrics_registry_t *metrics, kube_workers_t **out);
/* Shuts the queue down, lets each worker finish the key in hand, joins and frees. */
void kube_workers_stop(kube_workers_t *w);

#endif
