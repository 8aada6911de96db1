/* test_kube_ratelimit: the token bucket at given times (a burst, then one token per 1/qps,
 * reservations queueing into the future, unlimited qps=0) and exponential back-off (initial,
 * doubling, the cap, jitter bounds, reset after a healthy spell, explicit reset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "kube/ratelimit.h"

#define EPS 1e-9

typedef struct {
    double now_s, wait_s;
} step_t;

static const struct {
    const char *name;
    double qps;
    int burst;
    size_t n;
    step_t steps[12];
} BUCKET[] = {
    /* burst of 3 at t=100, then each further reservation queues 0.5 s behind the last */
    {"burst then spacing",
     2,
     3,
     6,
     {{100, 0}, {100, 0}, {100, 0}, {100, 0.5}, {100, 1.0}, {100, 1.5}}},
    /* waiting out the debt: 0.5 s later one more token has come and is owed again; after a
     * whole second of refill one is free; a long pause refills to burst */
    {"refill after waiting",
     2,
     3,
     8,
     {{100, 0},
      {100, 0},
      {100, 0},
      {100, 0.5},
      {100.5, 0.5},
      {101.5, 0},
      {101.5, 0.5},
      {103.5, 0}}},
    /* refill never exceeds burst: after a long idle spell only 2 are free */
    {"refill capped at burst", 10, 2, 5, {{0, 0}, {0, 0}, {1000, 0}, {1000, 0}, {1000, 0.1}}},
    /* steady callers at exactly qps never wait */
    {"steady at qps", 5, 1, 5, {{10, 0}, {10.2, 0}, {10.4, 0}, {10.6, 0}, {10.8, 0}}},
    /* slightly faster than qps: the deficit accumulates */
    {"faster than qps", 1, 1, 4, {{0, 0}, {0.5, 0.5}, {1.0, 1.0}, {1.5, 1.5}}},
    /* a time before the last counts as no time passed */
    {"clock going back", 1, 1, 3, {{50, 0}, {40, 1}, {40, 2}}},
    {"unlimited", 0, 1, 5, {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}}},
    /* burst 0 is treated as 1 */
    {"burst zero", 1, 0, 2, {{0, 0}, {0, 1}}},
};

static void test_bucket_table(void **state)
{
    for (size_t i = 0; i < sizeof BUCKET / sizeof BUCKET[0]; i++) {
        kube_bucket_t b;
        kube_bucket_init(&b, BUCKET[i].qps, BUCKET[i].burst);
        for (size_t j = 0; j < BUCKET[i].n; j++) {
            double w = kube_bucket_reserve_at(&b, BUCKET[i].steps[j].now_s);
            if (fabs(w - BUCKET[i].steps[j].wait_s) > EPS) {
                fail_msg("%s step %zu: wait %.9f, want %.9f", BUCKET[i].name, j, w,
                         BUCKET[i].steps[j].wait_s);
            }
        }
        kube_bucket_destroy(&b);
    }
}

static void test_bucket_wait_unlimited_and_burst(void **state)
{
    /* kube_bucket_wait returns at once while tokens last (no timing: just that it returns) */
    kube_bucket_t b;
    kube_bucket_init(&b, 1000, 5);
    for (int i = 0; i < 5; i++)
        kube_bucket_wait(&b);
    assert_true(b.tokens < 1);
    kube_bucket_destroy(&b);
    kube_bucket_init(&b, 0, 1);
    for (int i = 0; i < 1000; i++)
        kube_bucket_wait(&b);
    kube_bucket_destroy(&b);
}

typedef struct {
    double now_s, rand01, delay_s;
} fail_t;

static const struct {
    const char *name;
    double initial, max, factor, jitter, reset_after;
    size_t n;
    fail_t fails[12];
} BACKOFF[] = {
    {"doubling to the cap",
     1,
     10,
     2,
     0,
     0,
     7,
     {{0, 0, 1}, {1, 0, 2}, {2, 0, 4}, {3, 0, 8}, {4, 0, 10}, {5, 0, 10}, {1e6, 0, 10}}},
    {"jitter bounds",
     1,
     60,
     2,
     0.5,
     0,
     4,
     {{0, 0, 1}, {0, 0.999, 2 * 1.4995}, {0, 0.5, 4 * 1.25}, {0, 0, 8}}},
    {"jitter on the capped base", 5, 5, 2, 0.2, 0, 2, {{0, 0.999, 5 * 1.1998}, {0, 0, 5}}},
    /* reset after 30 s without failures: strictly more than 30 s since the last one */
    {"reset after health",
     1,
     100,
     2,
     0,
     30,
     7,
     {{0, 0, 1}, {10, 0, 2}, {40, 0, 4}, {70.5, 0, 1}, {71, 0, 2}, {100, 0, 4}, {200, 0, 1}}},
    {"client-go reflector", 0.8, 30, 2, 1.0, 120, 3, {{0, 0, 0.8}, {1, 0.5, 2.4}, {2, 0, 3.2}}},
    {"factor 1.5",
     0.1,
     1,
     1.5,
     0,
     0,
     4,
     {{0, 0, 0.1}, {0, 0, 0.15}, {0, 0, 0.225}, {0, 0, 0.3375}}},
};

static void test_backoff_table(void **state)
{
    for (size_t i = 0; i < sizeof BACKOFF / sizeof BACKOFF[0]; i++) {
        kube_backoff_t b;
        kube_backoff_init(&b, BACKOFF[i].initial, BACKOFF[i].max, BACKOFF[i].factor,
                          BACKOFF[i].jitter, BACKOFF[i].reset_after);
        for (size_t j = 0; j < BACKOFF[i].n; j++) {
            const fail_t *f = &BACKOFF[i].fails[j];
            double d = kube_backoff_next_at(&b, f->now_s, f->rand01);
            if (fabs(d - f->delay_s) > 1e-9)
                fail_msg("%s failure %zu: delay %.9f, want %.9f", BACKOFF[i].name, j, d,
                         f->delay_s);
        }
    }
}

static void test_backoff_reset(void **state)
{
    kube_backoff_t b;
    kube_backoff_init(&b, 2, 100, 2, 0, 0);
    assert_true(fabs(kube_backoff_next_at(&b, 0, 0) - 2) < EPS);
    assert_true(fabs(kube_backoff_next_at(&b, 0, 0) - 4) < EPS);
    kube_backoff_reset(&b);
    assert_true(fabs(b.current_s) < EPS);
    assert_true(fabs(kube_backoff_next_at(&b, 0, 0) - 2) < EPS);
}

static void test_backoff_clock_jitter_bounds(void **state)
{
    /* the clocked variant: every delay stays within base .. base * (1 + jitter) */
    kube_backoff_t b;
    kube_backoff_init(&b, 1, 8, 2, 0.25, 0);
    const double base[] = {1, 2, 4, 8, 8, 8};
    for (size_t i = 0; i < 6; i++) {
        double d = kube_backoff_next(&b);
        assert_true(d >= base[i] - EPS);
        assert_true(d < base[i] * 1.25 + EPS);
    }
    double t1 = kube_now_s(), t2 = kube_now_s();
    assert_true(t2 >= t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_table),
        cmocka_unit_test(test_bucket_wait_unlimited_and_burst),
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_backoff_reset),
        cmocka_unit_test(test_backoff_clock_jitter_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
