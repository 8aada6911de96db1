/* workqueue: the key queue (client-go's workqueue: a FIFO of ready keys, a dirty set and a
 * processing set, so a key waits once and is never handed out twice at a time), its delaying
 * part (a min-heap drained by one timer thread) and its rate limiter (per-key exponential
 * back-off max'ed with a global token bucket). Every key's state lives in one hash entry. */
#include "kube/workqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "base/log.h"
#include "kube/ratelimit.h"

#define BACKOFF_BASE_S 0.005
#define BACKOFF_MAX_S  1000.0
#define BUCKET_QPS     10
#define BUCKET_BURST   100

typedef struct qentry {
    char *key;
    struct qentry *next; /* hash chain */
    uint64_t hash;
    bool dirty;      /* wants processing: in the FIFO, or to be re-queued on done */
    bool processing; /* handed out by get, done not yet called */
    int failures;    /* rate-limited adds since the last forget */
    double added_s;  /* when it entered the FIFO (queue duration metric) */
    double when_s;   /* delayed: when it becomes ready */
    uint64_t seq;    /* delayed: order among equal when_s */
    ssize_t heap_i;  /* index in the delay heap, -1 when not waiting */
} qentry_t;

struct kube_queue {
    pthread_mutex_t mu;
    pthread_cond_t ready;   /* getters wait here */
    pthread_cond_t delayed; /* the timer thread waits here */
    pthread_t timer;
    bool timer_started, shutting_down;

    qentry_t **table; /* hash chains */
    size_t nbuckets, nentries;

    qentry_t **fifo; /* ring of ready keys */
    size_t head, count, cap;

    qentry_t **heap;
    size_t nheap, capheap;
    uint64_t seq;

    kube_bucket_t bucket;

    char *name;
    metric_t *m_depth, *m_adds, *m_retries, *m_duration;
};

/* ---- key entries ---- */

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static qentry_t *entry_find(kube_queue_t *q, const char *key, uint64_t h)
{
    for (qentry_t *e = q->table[h % q->nbuckets]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void table_grow(kube_queue_t *q)
{
    size_t nb = q->nbuckets * 2;
    qentry_t **t = calloc(nb, sizeof *t);
    if (!t) return; /* longer chains, still correct */
    for (size_t i = 0; i < q->nbuckets; i++) {
        qentry_t *e = q->table[i];
        while (e) {
            qentry_t *next = e->next;
            e->next = t[e->hash % nb];
            t[e->hash % nb] = e;
            e = next;
        }
    }
    free(q->table);
    q->table = t;
    q->nbuckets = nb;
}

/* Aborts on allocation failure, as strbuf does: losing a key silently is worse. */
static void *xalloc(void *p)
{
    if (!p) {
        log_error("workqueue: out of memory");
        abort();
    }
    return p;
}

static qentry_t *entry_get(kube_queue_t *q, const char *key)
{
    uint64_t h = hash_key(key);
    qentry_t *e = entry_find(q, key, h);
    if (e) return e;
    if (q->nentries >= q->nbuckets) table_grow(q);
    e = xalloc(calloc(1, sizeof *e));
    e->key = xalloc(strdup(key));
    e->hash = h;
    e->heap_i = -1;
    e->next = q->table[h % q->nbuckets];
    q->table[h % q->nbuckets] = e;
    q->nentries++;
    return e;
}

/* Drops the entry once nothing refers to it any more. */
static void entry_maybe_free(kube_queue_t *q, qentry_t *e)
{
    if (e->dirty || e->processing || e->failures > 0 || e->heap_i >= 0) return;
    qentry_t **pp = &q->table[e->hash % q->nbuckets];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    q->nentries--;
    free(e->key);
    free(e);
}

/* ---- ready FIFO ---- */

static void metric_name_set(kube_queue_t *q, metric_t *m, double v)
{
    if (m) metrics_set(m, q->name, v);
}

static void fifo_push(kube_queue_t *q, qentry_t *e)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        qentry_t **f = xalloc(malloc(cap * sizeof *f));
        for (size_t i = 0; i < q->count; i++)
            f[i] = q->fifo[(q->head + i) % q->cap];
        free(q->fifo);
        q->fifo = f;
        q->head = 0;
        q->cap = cap;
    }
    q->fifo[(q->head + q->count) % q->cap] = e;
    q->count++;
    e->added_s = kube_now_s();
    metric_name_set(q, q->m_depth, (double)q->count);
    pthread_cond_signal(&q->ready);
}

static qentry_t *fifo_pop(kube_queue_t *q)
{
    qentry_t *e = q->fifo[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    metric_name_set(q, q->m_depth, (double)q->count);
    return e;
}

/* ---- delay heap ---- */

static bool heap_less(const qentry_t *a, const qentry_t *b)
{
    return a->when_s < b->when_s || (a->when_s == b->when_s && a->seq < b->seq);
}

static void heap_set(kube_queue_t *q, size_t i, qentry_t *e)
{
    q->heap[i] = e;
    e->heap_i = (ssize_t)i;
}

static void heap_up(kube_queue_t *q, size_t i)
{
    qentry_t *e = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(e, q->heap[parent])) break;
        heap_set(q, i, q->heap[parent]);
        i = parent;
    }
    heap_set(q, i, e);
}

static void heap_down(kube_queue_t *q, size_t i)
{
    qentry_t *e = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const qentry_t *best = e;
        if (l < q->nheap && heap_less(q->heap[l], best)) m = l, best = q->heap[l];
        if (r < q->nheap && heap_less(q->heap[r], best)) m = r;
        if (m == i) break;
        heap_set(q, i, q->heap[m]);
        i = m;
    }
    heap_set(q, i, e);
}

static qentry_t *heap_pop(kube_queue_t *q)
{
    qentry_t *top = q->heap[0];
    top->heap_i = -1;
    q->nheap--;
    if (q->nheap > 0) {
        q->heap[0] = q->heap[q->nheap];
        heap_down(q, 0);
    }
    return top;
}

/* ---- queue operations (q->mu held) ---- */

static void add_locked(kube_queue_t *q, qentry_t *e)
{
    if (e->dirty) return; /* already waiting */
    if (q->m_adds) metrics_add(q->m_adds, q->name, 1);
    e->dirty = true;
    if (e->processing) return; /* re-queued by done */
    fifo_push(q, e);
}

static void add_after_locked(kube_queue_t *q, qentry_t *e, double delay_s)
{
    if (!(delay_s > 0)) {
        add_locked(q, e);
        return;
    }
    double when = kube_now_s() + delay_s;
    if (e->heap_i >= 0) { /* already waiting: keep the earlier time */
        if (when < e->when_s) {
            e->when_s = when;
            heap_up(q, (size_t)e->heap_i);
            if (e->heap_i == 0) pthread_cond_signal(&q->delayed);
        }
        return;
    }
    if (q->nheap == q->capheap) {
        size_t cap = q->capheap ? q->capheap * 2 : 64;
        q->heap = xalloc(realloc(q->heap, cap * sizeof *q->heap));
        q->capheap = cap;
    }
    e->when_s = when;
    e->seq = q->seq++;
    heap_set(q, q->nheap, e);
    q->nheap++;
    heap_up(q, q->nheap - 1);
    if (e->heap_i == 0) pthread_cond_signal(&q->delayed);
}

static void *timer_main(void *arg)
{
    kube_queue_t *q = arg;
    pthread_mutex_lock(&q->mu);
    while (!q->shutting_down) {
        if (q->nheap == 0) {
            pthread_cond_wait(&q->delayed, &q->mu);
            continue;
        }
        double now = kube_now_s();
        qentry_t *top = q->heap[0];
        if (top->when_s <= now) {
            heap_pop(q);
            add_locked(q, top);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double wait = top->when_s - now;
        if (wait > 3600) wait = 3600; /* then look again */
        time_t sec = (time_t)wait;
        long nsec = ts.tv_nsec + (long)((wait - (double)sec) * 1e9);
        ts.tv_sec += sec + nsec / 1000000000L;
        ts.tv_nsec = nsec % 1000000000L;
        pthread_cond_timedwait(&q->delayed, &q->mu, &ts);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- public queue API ---- */

static const double DURATION_BUCKETS[] = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};

kube_queue_t *kube_queue_new(const char *name, metrics_registry_t *metrics)
{
    kube_queue_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->name = strdup(name ? name : "");
    q->nbuckets = 64;
    q->table = calloc(q->nbuckets, sizeof *q->table);
    if (!q->name || !q->table) {
        free(q->name);
        free(q->table);
        free(q);
        return NULL;
    }
    if (strchr(q->name, ','))
        log_warn("workqueue: a comma in the queue name splits its metric label", "name", name);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->ready, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->delayed, &ca);
    pthread_condattr_destroy(&ca);
    kube_bucket_init(&q->bucket, BUCKET_QPS, BUCKET_BURST);
    if (metrics) {
        q->m_depth =
            metrics_gauge(metrics, "workqueue_depth", "Current depth of workqueue", "name");
        q->m_adds = metrics_counter(metrics, "workqueue_adds_total",
                                    "Total number of adds handled by workqueue", "name");
        q->m_retries = metrics_counter(metrics, "workqueue_retries_total",
                                       "Total number of retries handled by workqueue", "name");
        q->m_duration = metrics_histogram(
            metrics, "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested", "name",
            DURATION_BUCKETS, sizeof DURATION_BUCKETS / sizeof DURATION_BUCKETS[0]);
        metric_name_set(q, q->m_depth, 0);
    }
    int rc = pthread_create(&q->timer, NULL, timer_main, q);
    if (rc != 0) {
        log_error("workqueue: cannot start the delay timer thread", "name", q->name, "error",
                  strerror(rc));
        kube_queue_free(q);
        return NULL;
    }
    q->timer_started = true;
    return q;
}

void kube_queue_free(kube_queue_t *q)
{
    if (!q) return;
    kube_queue_shutdown(q);
    if (q->timer_started) pthread_join(q->timer, NULL);
    for (size_t i = 0; i < q->nbuckets; i++) {
        qentry_t *e = q->table[i];
        while (e) {
            qentry_t *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(q->table);
    free(q->fifo);
    free(q->heap);
    kube_bucket_destroy(&q->bucket);
    pthread_cond_destroy(&q->ready);
    pthread_cond_destroy(&q->delayed);
    pthread_mutex_destroy(&q->mu);
    free(q->name);
    free(q);
}

void kube_queue_add(kube_queue_t *q, const char *key)
{
    if (!key) return;
    pthread_mutex_lock(&q->mu);
    if (!q->shutting_down) add_locked(q, entry_get(q, key));
    pthread_mutex_unlock(&q->mu);
}

void kube_queue_add_after(kube_queue_t *q, const char *key, double delay_s)
{
    if (!key) return;
    pthread_mutex_lock(&q->mu);
    if (!q->shutting_down) add_after_locked(q, entry_get(q, key), delay_s);
    pthread_mutex_unlock(&q->mu);
}

void kube_queue_add_rate_limited(kube_queue_t *q, const char *key)
{
    if (!key) return;
    pthread_mutex_lock(&q->mu);
    if (!q->shutting_down) {
        qentry_t *e = entry_get(q, key);
        /* client-go's ItemExponentialFailureRateLimiter max'ed with the BucketRateLimiter */
        double per_key = BACKOFF_BASE_S;
        for (int i = 0; i < e->failures && per_key < BACKOFF_MAX_S; i++)
            per_key *= 2;
        if (per_key > BACKOFF_MAX_S) per_key = BACKOFF_MAX_S;
        if (e->failures < INT32_MAX) e->failures++;
        double global = kube_bucket_reserve_at(&q->bucket, kube_now_s());
        if (q->m_retries) metrics_add(q->m_retries, q->name, 1);
        add_after_locked(q, e, per_key > global ? per_key : global);
    }
    pthread_mutex_unlock(&q->mu);
}

void kube_queue_forget(kube_queue_t *q, const char *key)
{
    if (!key) return;
    pthread_mutex_lock(&q->mu);
    qentry_t *e = entry_find(q, key, hash_key(key));
    if (e) {
        e->failures = 0;
        entry_maybe_free(q, e);
    }
    pthread_mutex_unlock(&q->mu);
}

int kube_queue_num_requeues(kube_queue_t *q, const char *key)
{
    if (!key) return 0;
    pthread_mutex_lock(&q->mu);
    qentry_t *e = entry_find(q, key, hash_key(key));
    int n = e ? e->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

char *kube_queue_get(kube_queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->shutting_down)
        pthread_cond_wait(&q->ready, &q->mu);
    if (q->shutting_down) {
        pthread_mutex_unlock(&q->mu);
        return NULL;
    }
    qentry_t *e = fifo_pop(q);
    e->dirty = false;
    e->processing = true;
    if (q->m_duration) metrics_observe(q->m_duration, q->name, kube_now_s() - e->added_s);
    char *key = xalloc(strdup(e->key));
    pthread_mutex_unlock(&q->mu);
    return key;
}

void kube_queue_done(kube_queue_t *q, const char *key)
{
    if (!key) return;
    pthread_mutex_lock(&q->mu);
    qentry_t *e = entry_find(q, key, hash_key(key));
    if (!e || !e->processing) {
        pthread_mutex_unlock(&q->mu);
        log_warn("workqueue: done for a key that is not being processed", "name", q->name, "key",
                 key);
        return;
    }
    e->processing = false;
    if (e->dirty && !q->shutting_down)
        fifo_push(q, e);
    else
        entry_maybe_free(q, e);
    pthread_mutex_unlock(&q->mu);
}

size_t kube_queue_len(kube_queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void kube_queue_shutdown(kube_queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutting_down = true;
    pthread_cond_broadcast(&q->ready);
    pthread_cond_broadcast(&q->delayed);
    pthread_mutex_unlock(&q->mu);
}

/* ---- workers ---- */

struct kube_workers {
    kube_queue_t *q;
    kube_reconcile_fn fn;
    void *ud;
    char *controller;
    pthread_t *threads;
    int n;
    metric_t *m_total, *m_errors, *m_time;
};

static const double RECONCILE_BUCKETS[] = {
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.6,   0.7,  0.8,   0.9,  1.0,   1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5,
    5,     6,    7,     8,    9,     10,   15,   20,   25,   30,  40,   50,  60};

static void count_result(kube_workers_t *w, const char *result)
{
    if (!w->m_total) return;
    char lv[256];
    snprintf(lv, sizeof lv, "%s,%s", w->controller, result);
    metrics_add(w->m_total, lv, 1);
}

static void *worker_main(void *arg)
{
    kube_workers_t *w = arg;
    char *key;
    while ((key = kube_queue_get(w->q)) != NULL) {
        double t0 = kube_now_s();
        kube_result_t r = w->fn(key, w->ud);
        double dt = kube_now_s() - t0;
        /* controller-runtime's reconcileHandler: an error wins, then RequeueAfter, then Requeue */
        if (r.err < 0) {
            kube_queue_add_rate_limited(w->q, key);
            count_result(w, "error");
            if (w->m_errors) metrics_add(w->m_errors, w->controller, 1);
            const char *desc = strerrordesc_np(-r.err);
            log_error("Reconciler error", "controller", w->controller, "key", key, "error",
                      desc ? desc : "unknown error");
        } else if (r.requeue_after_s > 0) {
            kube_queue_forget(w->q, key);
            kube_queue_add_after(w->q, key, r.requeue_after_s);
            count_result(w, "requeue_after");
        } else if (r.requeue) {
            kube_queue_add_rate_limited(w->q, key);
            count_result(w, "requeue");
        } else {
            kube_queue_forget(w->q, key);
            count_result(w, "success");
        }
        if (w->m_time) metrics_observe(w->m_time, w->controller, dt);
        kube_queue_done(w->q, key);
        free(key);
    }
    return NULL;
}

static void workers_free(kube_workers_t *w)
{
    free(w->threads);
    free(w->controller);
    free(w);
}

int kube_workers_start(kube_queue_t *q, int n, kube_reconcile_fn fn, void *ud,
                       const char *controller, metrics_registry_t *metrics, kube_workers_t **out)
{
    *out = NULL;
    if (!q || !fn || n <= 0) return -EINVAL;
    kube_workers_t *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    w->q = q;
    w->fn = fn;
    w->ud = ud;
    w->controller = strdup(controller ? controller : "");
    w->threads = calloc((size_t)n, sizeof *w->threads);
    if (!w->controller || !w->threads) {
        workers_free(w);
        return -ENOMEM;
    }
    if (metrics) {
        w->m_total =
            metrics_counter(metrics, "controller_runtime_reconcile_total",
                            "Total number of reconciliations per controller", "controller,result");
        w->m_errors =
            metrics_counter(metrics, "controller_runtime_reconcile_errors_total",
                            "Total number of reconciliation errors per controller", "controller");
        w->m_time = metrics_histogram(metrics, "controller_runtime_reconcile_time_seconds",
                                      "Length of time per reconciliation per controller",
                                      "controller", RECONCILE_BUCKETS,
                                      sizeof RECONCILE_BUCKETS / sizeof RECONCILE_BUCKETS[0]);
    }
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&w->threads[i], NULL, worker_main, w);
        if (rc != 0) {
            /* the ones started cannot be stopped but by shutting the queue down */
            log_error("workqueue: cannot start a worker thread", "controller", w->controller,
                      "error", strerror(rc));
            w->n = i;
            kube_workers_stop(w);
            return -rc;
        }
    }
    w->n = n;
    *out = w;
    return 0;
}

void kube_workers_stop(kube_workers_t *w)
{
    if (!w) return;
    kube_queue_shutdown(w->q);
    for (int i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    workers_free(w);
}
