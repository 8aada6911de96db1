/* ratelimit: the client side's rate arithmetic: a token bucket (QPS + burst, as client-go's
 * flowcontrol) and exponential back-off with jitter (reflector, work queue, retries). The
 * *_at functions are pure given the time passed in; the others read the monotonic clock. */
#ifndef KUBE_RATELIMIT_H
#define KUBE_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>

/* Monotonic seconds. */
double kube_now_s(void);

typedef struct kube_bucket {
    double qps; /* 0 = unlimited */
    double burst;
    double tokens; /* may go negative: reservations in the future */
    double last_s;
    pthread_mutex_t mu;
} kube_bucket_t;

void kube_bucket_init(kube_bucket_t *b, double qps, int burst);
void kube_bucket_destroy(kube_bucket_t *b);
/* Takes one token at time now_s and returns how long the caller must wait before acting (0 if a
 * token was available). Thread-safe. */
double kube_bucket_reserve_at(kube_bucket_t *b, double now_s);
/* Reserves and sleeps. */
void kube_bucket_wait(kube_bucket_t *b);

typedef struct kube_backoff {
    double initial_s, max_s, factor, jitter; /* jitter 0.2 = up to +20 % */
    double reset_after_s;                    /* 0 = never reset by health */
    double current_s;                        /* next base delay (0 before the first failure) */
    double last_failure_s;
} kube_backoff_t;

void kube_backoff_init(kube_backoff_t *b, double initial_s, double max_s, double factor,
                       double jitter, double reset_after_s);
/* A failure at now_s: returns the delay to wait, base * (1 + jitter * rand01), and doubles the
 * base up to max. If the previous failure was more than reset_after_s ago, starts over from
 * initial. rand01 in [0,1) is passed in so tests are deterministic. */
double kube_backoff_next_at(kube_backoff_t *b, double now_s, double rand01);
double kube_backoff_next(kube_backoff_t *b); /* with the clock and random() */
void kube_backoff_reset(kube_backoff_t *b);

#endif
