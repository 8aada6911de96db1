/* test_kube_workqueue: the controller's queue and workers: dedup, a key in flight re-queued on
 * done and never held by two workers (4 workers, many keys and adds, no add lost), delayed adds
 * not delivered early and in due order, per-key back-off growing and forgotten, the global
 * bucket holding back a flood, requeue_after and errors handled as controller-runtime does,
 * shutdown waking getters, and the queue/worker metrics. Only "not before" timing checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "kube/ratelimit.h"
#include "kube/workqueue.h"

static void sleep_s(double s)
{
    usleep((useconds_t)(s * 1e6));
}

/* ---- get with a deadline: a helper thread blocks in get; NULL if nothing came in time ---- */

typedef struct {
    kube_queue_t *q;
    char *key;
    atomic_bool got;
} getter_t;

static void *getter_main(void *arg)
{
    getter_t *g = arg;
    g->key = kube_queue_get(g->q);
    atomic_store(&g->got, true);
    return NULL;
}

/* Waits up to limit_s for a key. On time-out the queue is shut down (so the test fails
 * instead of hanging) and NULL returned. */
static char *get_within(kube_queue_t *q, double limit_s)
{
    getter_t g = {.q = q};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, getter_main, &g), 0);
    double end = kube_now_s() + limit_s;
    while (!atomic_load(&g.got) && kube_now_s() < end)
        sleep_s(0.002);
    if (!atomic_load(&g.got)) kube_queue_shutdown(q);
    pthread_join(t, NULL);
    return g.key;
}

static void expect_get(kube_queue_t *q, const char *want)
{
    char *k = get_within(q, 10);
    if (!k) fail_msg("expected key %s, got nothing", want);
    assert_string_equal(k, want);
    free(k);
}

/* ---- queue ---- */

static void test_dedup(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    assert_non_null(q);
    kube_queue_add(q, "ns/a");
    kube_queue_add(q, "ns/a");
    kube_queue_add(q, "ns/b");
    kube_queue_add(q, "ns/a");
    assert_int_equal(kube_queue_len(q), 2);
    char *a = kube_queue_get(q), *b = kube_queue_get(q);
    assert_string_equal(a, "ns/a"); /* FIFO order */
    assert_string_equal(b, "ns/b");
    assert_int_equal(kube_queue_len(q), 0);
    kube_queue_done(q, a);
    kube_queue_done(q, b);
    assert_int_equal(kube_queue_len(q), 0); /* nothing came back */
    free(a);
    free(b);
    kube_queue_free(q);
}

static void test_in_flight_requeued_on_done(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    kube_queue_add(q, "k");
    char *k = kube_queue_get(q);
    kube_queue_add(q, "k"); /* while in flight: waits for done */
    kube_queue_add(q, "k");
    assert_int_equal(kube_queue_len(q), 0);
    kube_queue_add(q, "other");
    expect_get(q, "other");
    kube_queue_done(q, "other");
    assert_int_equal(kube_queue_len(q), 0);
    kube_queue_done(q, k);
    assert_int_equal(kube_queue_len(q), 1); /* once, however many adds */
    free(k);
    expect_get(q, "k");
    kube_queue_done(q, "k");
    assert_int_equal(kube_queue_len(q), 0);
    kube_queue_free(q);
}

static void test_done_unknown_key_is_harmless(void **state)
{
    int devnull = open("/dev/null", O_WRONLY);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, devnull);
    kube_queue_t *q = kube_queue_new("t", NULL);
    kube_queue_done(q, "never-got");
    kube_queue_add(q, "x");
    kube_queue_done(q, "x"); /* queued but not handed out: still queued */
    assert_int_equal(kube_queue_len(q), 1);
    expect_get(q, "x");
    kube_queue_done(q, "x");
    kube_queue_free(q);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    close(devnull);
}

static void test_add_after(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    double t0 = kube_now_s();
    kube_queue_add_after(q, "late", 0.4);
    kube_queue_add_after(q, "early", 0.2);
    kube_queue_add_after(q, "zero", 0); /* no delay: ready at once */
    kube_queue_add(q, "now");
    assert_int_equal(kube_queue_len(q), 2);
    expect_get(q, "zero");
    expect_get(q, "now");
    expect_get(q, "early");
    assert_true(kube_now_s() - t0 >= 0.2);
    expect_get(q, "late");
    assert_true(kube_now_s() - t0 >= 0.4);
    kube_queue_free(q);
}

static void test_add_after_keeps_earliest(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    kube_queue_add_after(q, "k", 1000);
    kube_queue_add_after(q, "k", 0.05); /* sooner: wins */
    kube_queue_add_after(q, "k", 500);  /* later: ignored */
    expect_get(q, "k");
    kube_queue_done(q, "k");
    sleep_s(0.2);
    assert_int_equal(kube_queue_len(q), 0); /* delivered once, not three times */
    /* a delayed add that comes due while the key is in flight waits for done */
    kube_queue_add(q, "d");
    kube_queue_add_after(q, "d", 0.3);
    char *d = kube_queue_get(q); /* ready at once: the plain add */
    assert_string_equal(d, "d");
    sleep_s(0.6);
    assert_int_equal(kube_queue_len(q), 0); /* came due, but "d" is in flight */
    kube_queue_done(q, d);
    free(d);
    expect_get(q, "d");
    kube_queue_done(q, "d");
    kube_queue_free(q);
}

static void test_rate_limited_backoff(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    assert_int_equal(kube_queue_num_requeues(q, "k"), 0);
    for (int i = 1; i <= 3; i++) {
        kube_queue_add_rate_limited(q, "k");
        assert_int_equal(kube_queue_num_requeues(q, "k"), i);
        expect_get(q, "k"); /* 5, 10, 20 ms: it does come */
        kube_queue_done(q, "k");
    }
    kube_queue_forget(q, "k");
    assert_int_equal(kube_queue_num_requeues(q, "k"), 0);

    /* after 10 failures the 11th waits 5 ms * 2^10 = 5.12 s: not delivered within 1 s */
    for (int i = 0; i < 10; i++)
        kube_queue_add_rate_limited(q, "slow");
    expect_get(q, "slow"); /* the first of those (5 ms); the rest collapse into it */
    /* should a later one still wait (the first came due mid-loop), a delayed add in 1 ms pulls
     * it in (earliest wins): afterwards nothing of "slow" is pending */
    kube_queue_add_after(q, "slow", 0.001);
    kube_queue_done(q, "slow");
    expect_get(q, "slow");
    kube_queue_done(q, "slow");
    kube_queue_add_rate_limited(q, "slow");
    assert_int_equal(kube_queue_num_requeues(q, "slow"), 11);
    sleep_s(1.0);
    assert_int_equal(kube_queue_len(q), 0);
    kube_queue_forget(q, "slow");
    /* forget clears the history, not the pending delayed add */
    assert_int_equal(kube_queue_num_requeues(q, "slow"), 0);
    kube_queue_free(q); /* frees the still-delayed entry */
}

static void test_global_bucket_holds_back_a_flood(void **state)
{
    /* 150 distinct keys failing once each: 5 ms per key, but the 10 qps / burst 100 bucket
     * spaces the ones after the hundredth 100 ms apart (the 150th about 5 s out) */
    kube_queue_t *q = kube_queue_new("t", NULL);
    double t0 = kube_now_s();
    for (int i = 0; i < 150; i++) {
        char key[32];
        snprintf(key, sizeof key, "ns/k%d", i);
        kube_queue_add_rate_limited(q, key);
    }
    sleep_s(1.0);
    size_t ready = kube_queue_len(q);
    double elapsed = kube_now_s() - t0;
    /* at most 100 + 10 per second so far (+1 for the edge) can be ready */
    assert_true((double)ready <= 100 + elapsed * 10 + 1);
    assert_true(ready < 150);
    kube_queue_free(q);
}

static void test_shutdown_wakes_getters(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    getter_t g[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        g[i] = (getter_t){.q = q};
        pthread_create(&t[i], NULL, getter_main, &g[i]);
    }
    sleep_s(0.05);
    for (int i = 0; i < 3; i++)
        assert_false(atomic_load(&g[i].got)); /* blocked */
    kube_queue_shutdown(q);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_null(g[i].key);
    }
    kube_queue_add(q, "ignored");
    kube_queue_add_after(q, "ignored2", 0.01);
    kube_queue_add_rate_limited(q, "ignored3");
    assert_int_equal(kube_queue_len(q), 0);
    assert_null(kube_queue_get(q)); /* does not block */
    kube_queue_free(q);
}

/* ---- workers ---- */

#define NKEYS   8
#define NROUNDS 100

typedef struct {
    kube_queue_t *q;
    atomic_int in_flight[NKEYS];
    atomic_int calls[NKEYS];
    atomic_int gen[NKEYS];  /* last round the producer added the key in */
    atomic_int seen[NKEYS]; /* the generation a reconcile started after */
    atomic_int overlaps;
    atomic_int max_parallel, parallel;
} conc_t;

static int key_index(const char *key)
{
    return atoi(key + 2); /* "k/<i>" */
}

static kube_result_t conc_reconcile(const char *key, void *ud)
{
    conc_t *c = ud;
    int i = key_index(key);
    if (atomic_fetch_add(&c->in_flight[i], 1) != 0) atomic_fetch_add(&c->overlaps, 1);
    int p = atomic_fetch_add(&c->parallel, 1) + 1;
    int m = atomic_load(&c->max_parallel);
    while (p > m && !atomic_compare_exchange_weak(&c->max_parallel, &m, p)) {
    }
    atomic_store(&c->seen[i], atomic_load(&c->gen[i]));
    atomic_fetch_add(&c->calls[i], 1);
    usleep(500 + (unsigned)(i % 3) * 500); /* hold the key while it is added again */
    atomic_fetch_sub(&c->parallel, 1);
    atomic_fetch_sub(&c->in_flight[i], 1);
    return (kube_result_t){0};
}

static void test_workers_single_flight(void **state)
{
    static conc_t c;
    memset(&c, 0, sizeof c);
    c.q = kube_queue_new("conc", NULL);
    kube_workers_t *w;
    assert_int_equal(kube_workers_start(c.q, 4, conc_reconcile, &c, "conc", NULL, &w), 0);
    for (int r = 1; r <= NROUNDS; r++) {
        for (int i = 0; i < NKEYS; i++) {
            char key[16];
            snprintf(key, sizeof key, "k/%d", i);
            atomic_store(&c.gen[i], r);
            kube_queue_add(c.q, key);
            if (i % 7 == 0) kube_queue_add(c.q, key); /* duplicate adds */
        }
        sleep_s(0.0005);
    }
    /* every key's last add is followed by a reconcile that started after it */
    double end = kube_now_s() + 30;
    for (int i = 0; i < NKEYS; i++) {
        while (atomic_load(&c.seen[i]) != NROUNDS && kube_now_s() < end)
            sleep_s(0.005);
        if (atomic_load(&c.seen[i]) != NROUNDS)
            fail_msg("key %d: last reconcile saw round %d of %d", i, atomic_load(&c.seen[i]),
                     NROUNDS);
    }
    kube_workers_stop(w);
    assert_int_equal(atomic_load(&c.overlaps), 0);
    int total = 0;
    for (int i = 0; i < NKEYS; i++) {
        int n = atomic_load(&c.calls[i]);
        /* dedup: never more calls than adds */
        assert_true(n >= 1 && n <= (i % 7 == 0 ? 2 * NROUNDS : NROUNDS));
        total += n;
    }
    assert_true(total >= NKEYS);
    assert_true(atomic_load(&c.max_parallel) <= 4);
    kube_queue_free(c.q);
}

typedef struct {
    kube_queue_t *q;
    pthread_mutex_t mu;
    int calls;
    int requeues_seen[8];
    double at[8];
} script_t;

/* errors twice, then asks to be requeued (back-off), then requeue_after 0.3 s, then succeeds */
static kube_result_t script_reconcile(const char *key, void *ud)
{
    script_t *s = ud;
    pthread_mutex_lock(&s->mu);
    int n = s->calls++;
    if (n < 8) {
        s->requeues_seen[n] = kube_queue_num_requeues(s->q, key);
        s->at[n] = kube_now_s();
    }
    pthread_mutex_unlock(&s->mu);
    switch (n) {
    case 0:
    case 1:
        return (kube_result_t){.err = -EIO};
    case 2:
        return (kube_result_t){.requeue = true};
    case 3:
        return (kube_result_t){.requeue_after_s = 0.3, .requeue = true};
    default:
        return (kube_result_t){0};
    }
}

static int script_calls(script_t *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->calls;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void test_workers_results(void **state)
{
    int devnull = open("/dev/null", O_WRONLY);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, devnull); /* "Reconciler error" lines */
    metrics_registry_t *reg = metrics_registry_new();
    static script_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.q = kube_queue_new("scripted", reg);
    kube_workers_t *w;
    assert_int_equal(kube_workers_start(s.q, 2, script_reconcile, &s, "scripted", reg, &w), 0);
    kube_queue_add(s.q, "ns/obj");
    double end = kube_now_s() + 20;
    while (script_calls(&s) < 5 && kube_now_s() < end)
        sleep_s(0.01);
    sleep_s(0.1);
    kube_workers_stop(w);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    close(devnull);

    assert_int_equal(s.calls, 5); /* and no more after success */
    /* back-off history seen by each call: errors and requeue count, requeue_after forgets */
    assert_int_equal(s.requeues_seen[0], 0);
    assert_int_equal(s.requeues_seen[1], 1);
    assert_int_equal(s.requeues_seen[2], 2);
    assert_int_equal(s.requeues_seen[3], 3);
    assert_int_equal(s.requeues_seen[4], 0);
    assert_int_equal(kube_queue_num_requeues(s.q, "ns/obj"), 0); /* success forgets */
    /* not before the back-off: 5 ms, 10 ms, 20 ms; and not before requeue_after */
    assert_true(s.at[1] - s.at[0] >= 0.005);
    assert_true(s.at[2] - s.at[1] >= 0.010);
    assert_true(s.at[3] - s.at[2] >= 0.020);
    assert_true(s.at[4] - s.at[3] >= 0.3);

    char *text = metrics_render(reg);
    assert_non_null(strstr(
        text,
        "controller_runtime_reconcile_total{controller=\"scripted\",result=\"error\"} 2\n"
        "controller_runtime_reconcile_total{controller=\"scripted\",result=\"requeue\"} 1\n"
        "controller_runtime_reconcile_total{controller=\"scripted\",result=\"requeue_after\"} 1\n"
        "controller_runtime_reconcile_total{controller=\"scripted\",result=\"success\"} 1\n"));
    assert_non_null(
        strstr(text, "controller_runtime_reconcile_errors_total{controller=\"scripted\"} 2\n"));
    assert_non_null(strstr(
        text, "controller_runtime_reconcile_time_seconds_count{controller=\"scripted\"} 5\n"));
    assert_non_null(strstr(text, "workqueue_retries_total{name=\"scripted\"} 3\n"));
    assert_non_null(strstr(text, "workqueue_adds_total{name=\"scripted\"} 5\n"));
    assert_non_null(strstr(text, "workqueue_queue_duration_seconds_count{name=\"scripted\"} 5\n"));
    free(text);
    kube_queue_free(s.q);
    metrics_registry_free(reg);
    pthread_mutex_destroy(&s.mu);
}

static void test_depth_metric(void **state)
{
    metrics_registry_t *reg = metrics_registry_new();
    kube_queue_t *q = kube_queue_new("pods", reg);
    char *text = metrics_render(reg);
    assert_non_null(
        strstr(text, "# TYPE workqueue_depth gauge\nworkqueue_depth{name=\"pods\"} 0\n"));
    free(text);
    kube_queue_add(q, "a");
    kube_queue_add(q, "b");
    kube_queue_add(q, "b");
    kube_queue_add(q, "c");
    text = metrics_render(reg);
    assert_non_null(strstr(text, "workqueue_depth{name=\"pods\"} 3\n"));
    assert_non_null(strstr(text, "workqueue_adds_total{name=\"pods\"} 3\n"));
    free(text);
    char *k = kube_queue_get(q);
    text = metrics_render(reg);
    assert_non_null(strstr(text, "workqueue_depth{name=\"pods\"} 2\n"));
    assert_non_null(strstr(text, "workqueue_queue_duration_seconds_count{name=\"pods\"} 1\n"));
    free(text);
    kube_queue_done(q, k);
    free(k);
    kube_queue_free(q);
    metrics_registry_free(reg);
}

static kube_result_t noop_reconcile(const char *key, void *ud)
{
    return (kube_result_t){0};
}

static void test_workers_bad_args_and_idle_stop(void **state)
{
    kube_queue_t *q = kube_queue_new("t", NULL);
    kube_workers_t *w = (kube_workers_t *)1;
    assert_int_equal(kube_workers_start(q, 0, noop_reconcile, NULL, "c", NULL, &w), -EINVAL);
    assert_null(w);
    assert_int_equal(kube_workers_start(q, 2, NULL, NULL, "c", NULL, &w), -EINVAL);
    /* workers blocked in get are woken by stop and joined */
    assert_int_equal(kube_workers_start(q, 3, noop_reconcile, NULL, "c", NULL, &w), 0);
    sleep_s(0.02);
    kube_workers_stop(w);
    kube_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_in_flight_requeued_on_done),
        cmocka_unit_test(test_done_unknown_key_is_harmless),
        cmocka_unit_test(test_add_after),
        cmocka_unit_test(test_add_after_keeps_earliest),
        cmocka_unit_test(test_rate_limited_backoff),
        cmocka_unit_test(test_global_bucket_holds_back_a_flood),
        cmocka_unit_test(test_shutdown_wakes_getters),
        cmocka_unit_test(test_workers_single_flight),
        cmocka_unit_test(test_workers_results),
        cmocka_unit_test(test_depth_metric),
        cmocka_unit_test(test_workers_bad_args_and_idle_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
