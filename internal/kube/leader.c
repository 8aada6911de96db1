/* leader: client-go's Lease-based leader election. The pure half decides (create, wait, acquire,
 * renew) and builds the Lease to write; the elector thread loops acquire -> renew -> release with
 * blocking client calls, handles 409 on renew by re-reading, and reports transitions. Leadership
 * is bounded by time: it lasts renewDeadline from the start of the last successful write. */
#include "kube/leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "kube/ratelimit.h"

/* ---- pure decision ---- */

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void kube_leader_record_from_lease(json_t *lease, kube_leader_record_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!lease) return;
    copy_str(out->holder, sizeof(out->holder), jsonx_str(lease, "spec.holderIdentity", ""));
    out->lease_duration_s = (int)jsonx_int(lease, "spec.leaseDurationSeconds", 0);
    out->transitions = (int)jsonx_int(lease, "spec.leaseTransitions", 0);
    copy_str(out->acquire_time, sizeof(out->acquire_time),
             jsonx_str(lease, "spec.acquireTime", ""));
    copy_str(out->renew_time, sizeof(out->renew_time), jsonx_str(lease, "spec.renewTime", ""));
}

bool kube_leader_record_equal(const kube_leader_record_t *a, const kube_leader_record_t *b)
{
    return strcmp(a->holder, b->holder) == 0 && a->lease_duration_s == b->lease_duration_s &&
           a->transitions == b->transitions && strcmp(a->acquire_time, b->acquire_time) == 0 &&
           strcmp(a->renew_time, b->renew_time) == 0;
}

kube_leader_action_t kube_leader_decide(json_t *lease, kube_leader_observed_t *obs,
                                        const char *identity, double now_s,
                                        double default_duration_s)
{
    if (!lease) return KUBE_LEADER_CREATE;
    kube_leader_record_t rec;
    kube_leader_record_from_lease(lease, &rec);
    if (!obs->valid || !kube_leader_record_equal(&rec, &obs->record)) {
        obs->record = rec;
        obs->time_s = now_s;
        obs->valid = true;
    }
    double dur = rec.lease_duration_s > 0 ? rec.lease_duration_s : default_duration_s;
    bool ours = strcmp(rec.holder, identity) == 0;
    if (rec.holder[0] && !ours && obs->time_s + dur > now_s) return KUBE_LEADER_WAIT;
    return ours ? KUBE_LEADER_RENEW : KUBE_LEADER_ACQUIRE;
}

json_t *kube_leader_lease_body(kube_leader_action_t action, json_t *lease, const char *ns,
                               const char *name, const char *identity, int duration_s,
                               const char *now_micro)
{
    if (action == KUBE_LEADER_WAIT) return NULL;
    json_t *out;
    kube_leader_record_t old;
    kube_leader_record_from_lease(lease, &old);
    if (lease && action != KUBE_LEADER_CREATE) {
        out = json_deep_copy(lease);
    } else {
        out = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1", "kind",
                        "Lease", "metadata", "name", name, "namespace", ns);
    }
    json_t *spec = json_object();
    json_object_set_new(spec, "holderIdentity", json_string(identity));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(duration_s));
    const char *acquire = now_micro;
    int transitions = 0;
    if (action == KUBE_LEADER_RENEW) {
        acquire = old.acquire_time[0] ? old.acquire_time : NULL;
        transitions = old.transitions;
    } else if (action == KUBE_LEADER_ACQUIRE) {
        transitions = old.transitions + 1;
    }
    if (acquire) json_object_set_new(spec, "acquireTime", json_string(acquire));
    json_object_set_new(spec, "renewTime", json_string(now_micro));
    json_object_set_new(spec, "leaseTransitions", json_integer(transitions));
    json_object_set_new(out, "spec", spec);
    return out;
}

json_t *kube_leader_release_body(json_t *lease, const char *now_micro)
{
    kube_leader_record_t old;
    kube_leader_record_from_lease(lease, &old);
    json_t *out = json_deep_copy(lease);
    json_t *spec = json_object();
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "acquireTime", json_string(now_micro));
    json_object_set_new(spec, "renewTime", json_string(now_micro));
    json_object_set_new(spec, "leaseTransitions", json_integer(old.transitions));
    json_object_set_new(out, "spec", spec);
    return out;
}

const char *kube_leader_action_name(kube_leader_action_t a)
{
    switch (a) {
    case KUBE_LEADER_CREATE:
        return "create";
    case KUBE_LEADER_WAIT:
        return "wait";
    case KUBE_LEADER_ACQUIRE:
        return "acquire";
    case KUBE_LEADER_RENEW:
        return "renew";
    }
    return "?";
}

void kube_leader_identity_new(char *buf, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
        snprintf(host, sizeof(host), "unknown");
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x =
            (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)(x >> ((i % 8) * 8)) ^ (unsigned char)i;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* a version-4 UUID, as controller-runtime */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(buf, len, "%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             host, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
}

/* ---- the elector ---- */

struct kube_leader {
    kube_client_t *client;
    char *ns, *name, *identity;
    double lease_duration_s, renew_deadline_s, retry_period_s;
    kube_leader_config_t cb; /* callbacks, ud, events, metrics (strings not used) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    atomic_bool leading;
    double last_renew_s; /* (mu) monotonic start of our last successful Lease write */
    /* the "became leader" Event, written on its own thread off the renew path */
    pthread_t event_thread;
    bool event_started;
    json_t *event_obj;
    char event_msg[320];
    atomic_ulong conflicts;
    json_t *cached; /* the Lease as last read or written by us (elector thread
                       only) */
    kube_leader_observed_t obs;
    char reported[256];    /* last holder reported to on_new_leader */
    char waiting_for[256]; /* holder we logged "waiting" for */
    uint64_t rng;          /* xorshift state for the acquire jitter (seeded per elector) */
    metric_t *m_status, *m_conflicts;
};

/* Waits up to s seconds or until stop; returns true if stopping. */
static bool leader_sleep(kube_leader_t *le, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + s;
    ts.tv_sec = (time_t)end;
    ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&le->mu);
    while (!le->stopping) {
        if (pthread_cond_timedwait(&le->cond, &le->mu, &ts) == ETIMEDOUT) break;
    }
    bool stop = le->stopping;
    pthread_mutex_unlock(&le->mu);
    return stop;
}

static bool leader_stopping(kube_leader_t *le)
{
    pthread_mutex_lock(&le->mu);
    bool s = le->stopping;
    pthread_mutex_unlock(&le->mu);
    return s;
}

static void set_cached(kube_leader_t *le, json_t *lease)
{
    json_decref(le->cached);
    le->cached = lease;
    if (lease) {
        /* answers of writes carry apiVersion/kind, but keep them for events either
         * way */
        if (!json_object_get(lease, "apiVersion"))
            json_object_set_new(lease, "apiVersion", json_string("coordination.k8s.io/v1"));
        if (!json_object_get(lease, "kind"))
            json_object_set_new(lease, "kind", json_string("Lease"));
    }
}

/* After our successful write: the record we wrote is the one observed, now. */
static void observe_written(kube_leader_t *le)
{
    kube_leader_record_from_lease(le->cached, &le->obs.record);
    le->obs.time_s = kube_now_s();
    le->obs.valid = true;
}

static void report_transition(kube_leader_t *le)
{
    if (!le->obs.valid) return;
    const char *holder = le->obs.record.holder;
    if (strcmp(holder, le->reported) == 0) return;
    copy_str(le->reported, sizeof(le->reported), holder);
    if (holder[0]) log_info("new leader observed", "lease", le->name, "holder", holder);
    if (le->cb.on_new_leader && holder[0]) le->cb.on_new_leader(holder, le->cb.ud);
}

/* A write that started at t0 succeeded: the lease is ours until at least t0 + duration. */
static void note_written(kube_leader_t *le, double t0)
{
    pthread_mutex_lock(&le->mu);
    le->last_renew_s = t0;
    pthread_mutex_unlock(&le->mu);
}

/* The last successful write started less than renewDeadline ago. */
static bool written_recently(kube_leader_t *le)
{
    pthread_mutex_lock(&le->mu);
    double last = le->last_renew_s;
    pthread_mutex_unlock(&le->mu);
    return kube_now_s() - last < le->renew_deadline_s;
}

/* Leading, and the lease renewed within renewDeadline. */
static bool leader_valid(kube_leader_t *le)
{
    return atomic_load(&le->leading) && written_recently(le);
}

static int put_lease(kube_leader_t *le, json_t *body, kube_status_t *st)
{
    json_t *out = NULL;
    double t0 = kube_now_s();
    int rc = kube_update(le->client, &KUBE_RES_LEASES, le->ns, body, NULL, &out, st);
    if (rc == 0) {
        set_cached(le, out);
        observe_written(le);
        note_written(le, t0);
    }
    return rc;
}

/* client-go's tryAcquireOrRenew: true when we hold the lease after this call.
 */
static bool try_acquire_or_renew(kube_leader_t *le)
{
    char now[48];
    kube_status_t st;
    int dur = (int)(le->lease_duration_s + 0.5);

    /* fast path: we lead and hold the lease as we last wrote it; PUT with its
     * resourceVersion */
    if (atomic_load(&le->leading) && le->cached) {
        jsonx_microtime_now(now, sizeof(now));
        json_t *body = kube_leader_lease_body(KUBE_LEADER_RENEW, le->cached, le->ns, le->name,
                                              le->identity, dur, now);
        int rc = put_lease(le, body, &st);
        json_decref(body);
        if (rc == 0) return true;
        if (rc == -ESTALE) {
            atomic_fetch_add(&le->conflicts, 1);
            metrics_add(le->m_conflicts, le->name, 1);
            log_warn("lease renew conflict (409): the lease changed since we wrote "
                     "it; re-reading",
                     "lease", le->name, "status", st.message);
        } else {
            log_warn("lease renew failed", "lease", le->name, "error", st.message);
        }
    }

    /* slow path: read, decide, write */
    json_t *lease = NULL;
    int rc = kube_get(le->client, &KUBE_RES_LEASES, le->ns, le->name, &lease, &st);
    if (rc < 0 && rc != -ENOENT) {
        log_warn("error retrieving lease", "lease", le->name, "namespace", le->ns, "error",
                 st.message);
        return false;
    }
    kube_leader_action_t act = kube_leader_decide(rc == -ENOENT ? NULL : lease, &le->obs,
                                                  le->identity, kube_now_s(), le->lease_duration_s);
    report_transition(le);
    bool ok = false;
    jsonx_microtime_now(now, sizeof(now));
    switch (act) {
    case KUBE_LEADER_WAIT:
        if (strcmp(le->waiting_for, le->obs.record.holder) != 0) {
            copy_str(le->waiting_for, sizeof(le->waiting_for), le->obs.record.holder);
            log_info("lease is held by another candidate and has not expired; waiting", "lease",
                     le->name, "holder", le->obs.record.holder);
        }
        break;
    case KUBE_LEADER_CREATE: {
        json_t *body = kube_leader_lease_body(act, NULL, le->ns, le->name, le->identity, dur, now);
        json_t *out = NULL;
        double t0 = kube_now_s();
        rc = kube_create(le->client, &KUBE_RES_LEASES, le->ns, body, &out, &st);
        json_decref(body);
        if (rc == 0) {
            set_cached(le, out);
            observe_written(le);
            note_written(le, t0);
            ok = true;
        } else {
            log_warn("error creating lease", "lease", le->name, "error", st.message);
        }
        break;
    }
    case KUBE_LEADER_ACQUIRE:
    case KUBE_LEADER_RENEW: {
        json_t *body = kube_leader_lease_body(act, lease, le->ns, le->name, le->identity, dur, now);
        rc = put_lease(le, body, &st);
        json_decref(body);
        if (rc == 0)
            ok = true;
        else if (rc == -ESTALE) {
            atomic_fetch_add(&le->conflicts, 1);
            metrics_add(le->m_conflicts, le->name, 1);
            log_info("lease write conflict (409): another candidate wrote it first", "lease",
                     le->name, "action", kube_leader_action_name(act));
        } else {
            log_warn("error updating lease", "lease", le->name, "error", st.message);
        }
        break;
    }
    }
    json_decref(lease);
    if (ok) report_transition(le);
    return ok;
}

static void release(kube_leader_t *le)
{
    if (!le->cached) return;
    char now[48];
    kube_status_t st;
    for (int attempt = 0; attempt < 2; attempt++) {
        jsonx_microtime_now(now, sizeof(now));
        json_t *body = kube_leader_release_body(le->cached, now);
        json_t *out = NULL;
        int rc = kube_update(le->client, &KUBE_RES_LEASES, le->ns, body, NULL, &out, &st);
        json_decref(body);
        json_decref(out);
        if (rc == 0) {
            log_info("released leader lease", "lease", le->name, "namespace", le->ns);
            return;
        }
        if (rc != -ESTALE) break;
        /* someone touched the lease: release the fresh copy if it still names us */
        json_t *fresh = NULL;
        if (kube_get(le->client, &KUBE_RES_LEASES, le->ns, le->name, &fresh, &st) != 0) break;
        if (strcmp(jsonx_str(fresh, "spec.holderIdentity", ""), le->identity) != 0) {
            json_decref(fresh);
            return; /* not ours any more: nothing to release */
        }
        set_cached(le, fresh);
    }
    log_warn("failed to release leader lease", "lease", le->name, "error", st.message);
}

static void *event_main(void *arg)
{
    kube_leader_t *le = arg;
    kube_event_record(le->cb.events, le->event_obj, KUBE_EVENT_NORMAL, "LeaderElection",
                      le->event_msg);
    return NULL;
}

/* Records "<identity> became leader" on another thread: the write is a blocking call on the
 * events' client and must not delay the first renew. */
static void record_became_leader(kube_leader_t *le)
{
    if (!le->cb.events || !le->cached) return;
    le->event_obj = json_deep_copy(le->cached);
    if (!le->event_obj) return;
    snprintf(le->event_msg, sizeof(le->event_msg), "%s became leader", le->identity);
    if (pthread_create(&le->event_thread, NULL, event_main, le) == 0)
        le->event_started = true;
    else
        log_warn("cannot start the leader event thread", "lease", le->name);
}

static void lost_leadership(kube_leader_t *le, const char *why)
{
    atomic_store(&le->leading, false);
    metrics_set(le->m_status, le->name, 0);
    log_error(why, "lease", le->name, "namespace", le->ns);
    if (le->cb.on_stopped_leading) le->cb.on_stopped_leading(le->cb.ud);
}

static void *leader_main(void *arg)
{
    kube_leader_t *le = arg;
    log_info("attempting to acquire leader lease", "lease", le->name, "namespace", le->ns,
             "identity", le->identity);
    for (;;) {
        if (leader_stopping(le)) return NULL;
        /* an acquiring write so slow that it is already past the renew deadline does not
         * make us leader: the next attempt renews it */
        if (try_acquire_or_renew(le) && written_recently(le)) break;
        /* wait.JitterUntil(retryPeriod, 1.2): period + rand * 1.2 * period */
        le->rng ^= le->rng << 13;
        le->rng ^= le->rng >> 7;
        le->rng ^= le->rng << 17;
        double jitter = (double)(le->rng >> 11) / 9007199254740992.0; /* [0,1) */
        double delay = le->retry_period_s * (1.0 + KUBE_LEADER_JITTER * jitter);
        /* Unlike client-go, wake up when the observed record expires by our clock rather than
         * at the next jittered retry after it: a failover then takes at most the lease
         * duration plus one retry period of observation lag (about 19 s), not up to 24 s. */
        if (le->obs.valid && le->obs.record.holder[0] &&
            strcmp(le->obs.record.holder, le->identity) != 0) {
            double dur = le->obs.record.lease_duration_s > 0
                             ? (double)le->obs.record.lease_duration_s
                             : le->lease_duration_s;
            double expire_in = le->obs.time_s + dur - kube_now_s() + 0.05;
            if (expire_in < 0.05) expire_in = 0.05;
            if (expire_in < delay) delay = expire_in;
        }
        if (leader_sleep(le, delay)) return NULL;
    }
    /* stopped while the acquiring write was in flight: no callback, give the lease back */
    if (leader_stopping(le)) goto out;
    atomic_store(&le->leading, true);
    metrics_set(le->m_status, le->name, 1);
    log_info("successfully acquired lease", "lease", le->name, "namespace", le->ns, "identity",
             le->identity);
    record_became_leader(le);
    if (le->cb.on_started_leading) le->cb.on_started_leading(le->cb.ud);

    for (;;) {
        if (leader_sleep(le, le->retry_period_s)) break;
        /* client-go's renew loop: retry every retryPeriod until renewDeadline has passed since
         * the last successful write (not since this round began: a slow attempt counts) */
        bool renewed = false;
        for (;;) {
            if (try_acquire_or_renew(le)) {
                renewed = true;
                break;
            }
            if (!leader_valid(le)) break;
            pthread_mutex_lock(&le->mu);
            double left = le->last_renew_s + le->renew_deadline_s - kube_now_s();
            pthread_mutex_unlock(&le->mu);
            if (left <= 0) break;
            if (leader_sleep(le, left < le->retry_period_s ? left : le->retry_period_s)) break;
        }
        if (leader_stopping(le)) break;
        if (!renewed || !leader_valid(le)) {
            lost_leadership(le, "failed to renew lease within the renew deadline: leadership lost");
            return NULL;
        }
    }
out:
    /* stopping while leading */
    release(le);
    atomic_store(&le->leading, false);
    metrics_set(le->m_status, le->name, 0);
    return NULL;
}

int kube_leader_start(kube_client_t *client, const kube_leader_config_t *cfg, kube_leader_t **out)
{
    *out = NULL;
    if (!cfg->ns || !cfg->name || !cfg->identity || !*cfg->name || !*cfg->identity) return -EINVAL;
    kube_leader_t *le = calloc(1, sizeof(*le));
    if (!le) return -ENOMEM;
    le->client = client;
    le->ns = strdup(cfg->ns);
    le->name = strdup(cfg->name);
    le->identity = strdup(cfg->identity);
    le->cb = *cfg;
    le->cb.ns = le->cb.name = le->cb.identity = NULL;
    le->lease_duration_s =
        cfg->lease_duration_s > 0 ? cfg->lease_duration_s : KUBE_LEADER_LEASE_DURATION_S;
    le->renew_deadline_s =
        cfg->renew_deadline_s > 0 ? cfg->renew_deadline_s : KUBE_LEADER_RENEW_DEADLINE_S;
    le->retry_period_s = cfg->retry_period_s > 0 ? cfg->retry_period_s : KUBE_LEADER_RETRY_PERIOD_S;
    if (!le->ns || !le->name || !le->identity) {
        free(le->ns);
        free(le->name);
        free(le->identity);
        free(le);
        return -ENOMEM;
    }
    if (cfg->metrics) {
        le->m_status = metrics_gauge(cfg->metrics, "leader_election_master_status",
                                     "1 while this instance holds the leader lease", "name");
        le->m_conflicts = metrics_counter(cfg->metrics, "leader_election_conflicts_total",
                                          "Lease writes answered 409 Conflict", "name");
        metrics_set(le->m_status, le->name, 0);
    }
    if (getrandom(&le->rng, sizeof(le->rng), 0) != (ssize_t)sizeof(le->rng) || !le->rng)
        le->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    pthread_mutex_init(&le->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&le->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&le->thread, NULL, leader_main, le);
    if (rc != 0) {
        pthread_cond_destroy(&le->cond);
        pthread_mutex_destroy(&le->mu);
        free(le->ns);
        free(le->name);
        free(le->identity);
        free(le);
        return -rc;
    }
    *out = le;
    return 0;
}

void kube_leader_stop(kube_leader_t *le)
{
    if (!le) return;
    pthread_mutex_lock(&le->mu);
    le->stopping = true;
    pthread_cond_broadcast(&le->cond);
    pthread_mutex_unlock(&le->mu);
    pthread_join(le->thread, NULL);
    if (le->event_started) pthread_join(le->event_thread, NULL);
    json_decref(le->event_obj);
    json_decref(le->cached);
    pthread_cond_destroy(&le->cond);
    pthread_mutex_destroy(&le->mu);
    free(le->ns);
    free(le->name);
    free(le->identity);
    free(le);
}

bool kube_leader_is_leader(kube_leader_t *le)
{
    return le && leader_valid(le);
}

unsigned long kube_leader_conflicts(kube_leader_t *le)
{
    return le ? atomic_load(&le->conflicts) : 0;
}
