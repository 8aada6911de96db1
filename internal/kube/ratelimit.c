/* ratelimit: the monotonic clock, the token bucket (golang.org/x/time/rate's reservation
 * arithmetic: refill at qps up to burst, take one token, a deficit is a wait) and exponential
 * back-off with jitter and reset-after-health. */
#include "kube/ratelimit.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

double kube_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kube_bucket_init(kube_bucket_t *b, double qps, int burst)
{
    b->qps = qps > 0 ? qps : 0;
    b->burst = burst >= 1 ? burst : 1; /* a bucket that never holds a token would block forever */
    b->tokens = b->burst;
    b->last_s = 0;
    pthread_mutex_init(&b->mu, NULL);
}

void kube_bucket_destroy(kube_bucket_t *b)
{
    pthread_mutex_destroy(&b->mu);
}

double kube_bucket_reserve_at(kube_bucket_t *b, double now_s)
{
    if (b->qps <= 0) return 0; /* unlimited */
    pthread_mutex_lock(&b->mu);
    /* As x/time/rate: a time before the last one counts as no time passed. */
    double elapsed = now_s > b->last_s ? now_s - b->last_s : 0;
    double tokens = b->tokens + elapsed * b->qps;
    if (tokens > b->burst) tokens = b->burst;
    tokens -= 1;
    b->tokens = tokens;
    b->last_s = now_s;
    pthread_mutex_unlock(&b->mu);
    return tokens < 0 ? -tokens / b->qps : 0;
}

static void sleep_s(double s)
{
    if (!(s > 0)) return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void kube_bucket_wait(kube_bucket_t *b)
{
    sleep_s(kube_bucket_reserve_at(b, kube_now_s()));
}

void kube_backoff_init(kube_backoff_t *b, double initial_s, double max_s, double factor,
                       double jitter, double reset_after_s)
{
    b->initial_s = initial_s;
    b->max_s = max_s;
    b->factor = factor;
    b->jitter = jitter;
    b->reset_after_s = reset_after_s;
    b->current_s = 0;
    b->last_failure_s = 0;
}

double kube_backoff_next_at(kube_backoff_t *b, double now_s, double rand01)
{
    bool healthy_long =
        b->reset_after_s > 0 && b->current_s > 0 && now_s - b->last_failure_s > b->reset_after_s;
    if (b->current_s <= 0 || healthy_long) b->current_s = b->initial_s;
    double base = b->current_s < b->max_s ? b->current_s : b->max_s;
    if (rand01 < 0) rand01 = 0;
    if (rand01 >= 1) rand01 = 1;
    double delay = base * (1 + b->jitter * rand01);
    double next = base * b->factor;
    b->current_s = next < b->max_s ? next : b->max_s;
    b->last_failure_s = now_s;
    return delay;
}

double kube_backoff_next(kube_backoff_t *b)
{
    return kube_backoff_next_at(b, kube_now_s(), (double)random() / ((double)RAND_MAX + 1.0));
}

void kube_backoff_reset(kube_backoff_t *b)
{
    b->current_s = 0;
    b->last_failure_s = 0;
}
