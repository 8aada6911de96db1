/* test_kube_leader: the pure half of Lease leader election: the client-go decision table
 * (create, wait, acquire, renew; expiry measured by the local observation clock, not renewTime)
 * and the Lease bodies written for create, acquire, renew and release; and the elector against
 * a scripted API server whose renew PUTs hang: leadership ends by time while the renew is still
 * blocked, and on_stopped_leading runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdatomic.h>
#include <uv.h>

#include "base/http_server.h"
#include "base/jsonx.h"
#include "kube/leader.h"
#include "support/kubeconfig.h"

#define ME    "host-a_1111"
#define OTHER "host-b_2222"

static json_t *lease(const char *holder, int dur, int transitions, const char *renew)
{
    json_t *l = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:i, s:s, s:s}}", "apiVersion",
                          "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", "ctl",
                          "namespace", "kube-system", "resourceVersion", "41", "spec",
                          "holderIdentity", holder, "leaseTransitions", transitions, "acquireTime",
                          "2024-01-01T00:00:00.000000Z", "renewTime", renew);
    if (dur > 0)
        json_object_set_new(json_object_get(l, "spec"), "leaseDurationSeconds", json_integer(dur));
    return l;
}

typedef struct {
    const char *what;
    const char *holder; /* NULL = no Lease (404) */
    int dur;            /* 0 = field absent */
    const char *renew;
    /* what was observed before: */
    bool seen;              /* the same record was observed at seen_at */
    bool seen_other_record; /* a different record was observed at seen_at */
    double seen_at;
    double now;
    kube_leader_action_t want;
    double want_obs_time; /* obs->time_s afterwards (ignored for CREATE) */
} decide_case_t;

#define T0 "2024-01-01T00:00:10.000000Z"
#define T1 "2024-01-01T00:00:12.000000Z"

static const decide_case_t DECIDE[] = {
    {"no lease: create", NULL, 0, NULL, false, false, 0, 100, KUBE_LEADER_CREATE, 0},
    {"held by another, first look: wait", OTHER, 15, T0, false, false, 0, 100, KUBE_LEADER_WAIT,
     100},
    {"held, unchanged for 10 s of 15: wait", OTHER, 15, T0, true, false, 90, 100, KUBE_LEADER_WAIT,
     90},
    {"held, unchanged for 16 s of 15: acquire", OTHER, 15, T0, true, false, 84, 100,
     KUBE_LEADER_ACQUIRE, 84},
    {"held, unchanged for exactly 15 s: acquire", OTHER, 15, T0, true, false, 85, 100,
     KUBE_LEADER_ACQUIRE, 85},
    {"held, renewed since (record changed): clock restarts, wait", OTHER, 15, T1, false, true, 50,
     100, KUBE_LEADER_WAIT, 100},
    {"ancient renewTime but just observed: local clock wins, wait", OTHER, 15,
     "2000-01-01T00:00:00.000000Z", false, false, 0, 100, KUBE_LEADER_WAIT, 100},
    {"renewTime in the future (skew) but unchanged 20 s: acquire", OTHER, 15,
     "2099-01-01T00:00:00.000000Z", true, false, 80, 100, KUBE_LEADER_ACQUIRE, 80},
    {"released (holder empty): acquire at once", "", 1, T0, false, false, 0, 100,
     KUBE_LEADER_ACQUIRE, 100},
    {"record's duration 1 s, unchanged 2 s: acquire", OTHER, 1, T0, true, false, 98, 100,
     KUBE_LEADER_ACQUIRE, 98},
    {"record's duration 60 s, unchanged 20 s: wait", OTHER, 60, T0, true, false, 80, 100,
     KUBE_LEADER_WAIT, 80},
    {"no duration in record: default 15 s, unchanged 14 s: wait", OTHER, 0, T0, true, false, 86,
     100, KUBE_LEADER_WAIT, 86},
    {"no duration in record: default 15 s, unchanged 16 s: acquire", OTHER, 0, T0, true, false, 84,
     100, KUBE_LEADER_ACQUIRE, 84},
    {"held by us: renew", ME, 15, T0, true, false, 99, 100, KUBE_LEADER_RENEW, 99},
    {"held by us, first look (restart with same identity): renew", ME, 15, T0, false, false, 0, 100,
     KUBE_LEADER_RENEW, 100},
};

static void test_decide_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(DECIDE) / sizeof(DECIDE[0]); i++) {
        const decide_case_t *c = &DECIDE[i];
        json_t *l = c->holder ? lease(c->holder, c->dur, 3, c->renew) : NULL;
        kube_leader_observed_t obs = {0};
        if (c->seen || c->seen_other_record) {
            json_t *prev = c->seen ? json_incref(l) : lease(c->holder, c->dur, 3, T0);
            kube_leader_record_from_lease(prev, &obs.record);
            json_decref(prev);
            obs.valid = true;
            obs.time_s = c->seen_at;
        }
        kube_leader_action_t got = kube_leader_decide(l, &obs, ME, c->now, 15.0);
        if (got != c->want)
            fail_msg("%s: got %s, want %s", c->what, kube_leader_action_name(got),
                     kube_leader_action_name(c->want));
        if (c->want != KUBE_LEADER_CREATE) {
            if (obs.time_s != c->want_obs_time)
                fail_msg("%s: observed time %.1f, want %.1f", c->what, obs.time_s,
                         c->want_obs_time);
            assert_string_equal(obs.record.holder, c->holder);
        }
        json_decref(l);
    }
}

/* Two candidates take turns on one Lease as the clock advances: B waits while A renews, takes
 * over once A stops renewing for a lease duration. */
static void test_decide_sequence(void **state)
{
    (void)state;
    kube_leader_observed_t b = {0};
    json_t *l = lease(OTHER, 15, 0, "2024-01-01T00:00:00.000000Z");
    assert_int_equal(kube_leader_decide(l, &b, ME, 0, 15), KUBE_LEADER_WAIT);
    for (int t = 2; t <= 20; t += 2) { /* A renews every 2 s: never expires for B */
        char renew[48];
        snprintf(renew, sizeof(renew), "2024-01-01T00:00:%02d.000000Z", t);
        json_decref(l);
        l = lease(OTHER, 15, 0, renew);
        assert_int_equal(kube_leader_decide(l, &b, ME, t, 15), KUBE_LEADER_WAIT);
    }
    /* A dies at t=20; B keeps seeing the same record */
    assert_int_equal(kube_leader_decide(l, &b, ME, 34, 15), KUBE_LEADER_WAIT);
    assert_int_equal(kube_leader_decide(l, &b, ME, 35.5, 15), KUBE_LEADER_ACQUIRE);
    json_decref(l);
}

static void test_bodies(void **state)
{
    (void)state;
    const char *now = "2024-05-06T07:08:09.123456Z";
    /* create */
    json_t *b = kube_leader_lease_body(KUBE_LEADER_CREATE, NULL, "ns1", "lock", ME, 15, now);
    assert_string_equal(jsonx_str(b, "apiVersion", ""), "coordination.k8s.io/v1");
    assert_string_equal(jsonx_str(b, "kind", ""), "Lease");
    assert_string_equal(jsonx_str(b, "metadata.name", ""), "lock");
    assert_string_equal(jsonx_str(b, "metadata.namespace", ""), "ns1");
    assert_string_equal(jsonx_str(b, "spec.holderIdentity", ""), ME);
    assert_int_equal(jsonx_int(b, "spec.leaseDurationSeconds", -1), 15);
    assert_int_equal(jsonx_int(b, "spec.leaseTransitions", -1), 0);
    assert_string_equal(jsonx_str(b, "spec.acquireTime", ""), now);
    assert_string_equal(jsonx_str(b, "spec.renewTime", ""), now);
    json_decref(b);

    /* acquire from another holder: transitions + 1, keeps metadata (the RV precondition) */
    json_t *old = lease(OTHER, 30, 4, T0);
    json_object_set_new(jsonx_obj(old, "metadata.annotations"), "x", json_string("y"));
    b = kube_leader_lease_body(KUBE_LEADER_ACQUIRE, old, "ns1", "lock", ME, 15, now);
    assert_string_equal(jsonx_str(b, "metadata.resourceVersion", ""), "41");
    assert_string_equal(jsonx_str(b, "metadata.annotations.x", ""), "y");
    assert_string_equal(jsonx_str(b, "spec.holderIdentity", ""), ME);
    assert_int_equal(jsonx_int(b, "spec.leaseTransitions", -1), 5);
    assert_int_equal(jsonx_int(b, "spec.leaseDurationSeconds", -1), 15);
    assert_string_equal(jsonx_str(b, "spec.acquireTime", ""), now);
    assert_string_equal(jsonx_str(b, "spec.renewTime", ""), now);
    /* the input is not modified */
    assert_string_equal(jsonx_str(old, "spec.holderIdentity", ""), OTHER);
    json_decref(b);
    json_decref(old);

    /* renew: acquireTime and transitions kept */
    old = lease(ME, 15, 7, T0);
    b = kube_leader_lease_body(KUBE_LEADER_RENEW, old, "ns1", "lock", ME, 15, now);
    assert_string_equal(jsonx_str(b, "spec.acquireTime", ""), "2024-01-01T00:00:00.000000Z");
    assert_string_equal(jsonx_str(b, "spec.renewTime", ""), now);
    assert_int_equal(jsonx_int(b, "spec.leaseTransitions", -1), 7);
    assert_string_equal(jsonx_str(b, "metadata.resourceVersion", ""), "41");
    json_decref(b);

    /* wait writes nothing */
    assert_null(kube_leader_lease_body(KUBE_LEADER_WAIT, old, "ns1", "lock", ME, 15, now));

    /* release */
    b = kube_leader_release_body(old, now);
    assert_string_equal(jsonx_str(b, "spec.holderIdentity", "x"), "");
    assert_int_equal(jsonx_int(b, "spec.leaseDurationSeconds", -1), 1);
    assert_int_equal(jsonx_int(b, "spec.leaseTransitions", -1), 7);
    assert_string_equal(jsonx_str(b, "spec.renewTime", ""), now);
    assert_string_equal(jsonx_str(b, "metadata.resourceVersion", ""), "41");
    json_decref(b);
    json_decref(old);
}

static void test_microtime_and_identity(void **state)
{
    (void)state;
    char now[48];
    jsonx_microtime_now(now, sizeof(now));
    /* 2024-01-02T03:04:05.123456Z: 27 characters, six fractional digits */
    assert_int_equal(strlen(now), 27);
    assert_int_equal(now[19], '.');
    assert_int_equal(now[26], 'Z');

    char a[300], b[300], host[256] = "";
    gethostname(host, sizeof(host) - 1);
    kube_leader_identity_new(a, sizeof(a));
    kube_leader_identity_new(b, sizeof(b));
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, host, strlen(host)), 0);
    assert_int_equal(a[strlen(host)], '_');
    assert_int_equal(strlen(a), strlen(host) + 1 + 36); /* a UUID */
}

static void test_record_equal(void **state)
{
    (void)state;
    kube_leader_record_t r1, r2, r3;
    json_t *l1 = lease(OTHER, 15, 1, T0), *l2 = lease(OTHER, 15, 1, T0),
           *l3 = lease(OTHER, 15, 1, T1);
    json_object_set_new(jsonx_obj(l2, "metadata"), "resourceVersion", json_string("99"));
    kube_leader_record_from_lease(l1, &r1);
    kube_leader_record_from_lease(l2, &r2);
    kube_leader_record_from_lease(l3, &r3);
    assert_true(kube_leader_record_equal(&r1, &r2)); /* metadata changes are not record changes */
    assert_false(kube_leader_record_equal(&r1, &r3));
    kube_leader_record_from_lease(NULL, &r3);
    assert_string_equal(r3.holder, "");
    json_decref(l1);
    json_decref(l2);
    json_decref(l3);
}

/* ---- the elector against a scripted server (on this thread's loop; the elector has its own) */

#define MAX_HELD 16

typedef struct lh {
    uv_loop_t loop;
    http_server_t *srv;
    kube_client_t *client;
    kube_leader_t *le;
    uv_timer_t poll, guard;
    json_t *lease;  /* what the server holds (NULL = none) */
    int rv;         /* its resourceVersion */
    bool hang_puts; /* PUTs get no answer (held until answered or closed) */
    bool fail_all;  /* every request gets a 500 */
    http_request_t *held[MAX_HELD];
    int puts_seen;
    atomic_bool started, stopped;
    bool was_leader;         /* is_leader was true once after on_started_leading */
    bool lost_while_blocked; /* is_leader turned false while a renew PUT was held */
    bool answered;           /* the held PUTs were answered (test A) */
    bool done;
} lh_t;

static void lh_started(void *ud)
{
    atomic_store(&((lh_t *)ud)->started, true);
}

static void lh_stopped(void *ud)
{
    atomic_store(&((lh_t *)ud)->stopped, true);
}

static void lh_held_closed(http_request_t *req, void *ud)
{
    lh_t *h = ud;
    for (int i = 0; i < MAX_HELD; i++)
        if (h->held[i] == req) h->held[i] = NULL;
}

static int lh_nheld(lh_t *h)
{
    int n = 0;
    for (int i = 0; i < MAX_HELD; i++)
        n += h->held[i] != NULL;
    return n;
}

static void lh_answer_held(lh_t *h, int code)
{
    for (int i = 0; i < MAX_HELD; i++) {
        http_request_t *r = h->held[i];
        if (!r) continue;
        h->held[i] = NULL;
        http_respond(r, code, "application/json", "{}", 2, NULL);
    }
}

static void lh_send(http_request_t *req, int code, json_t *o)
{
    char *t = json_dumps(o, JSON_COMPACT);
    http_respond(req, code, "application/json", t, strlen(t), NULL);
    free(t);
}

static void lh_handler(http_request_t *req, void *ud)
{
    lh_t *h = ud;
    if (!strstr(req->path, "/apis/coordination.k8s.io/v1/namespaces/ns/leases")) {
        http_respond(req, 404, "application/json", "{}", 2, NULL);
        return;
    }
    if (h->fail_all) {
        http_respond(req, 500, "application/json", "{\"kind\":\"Status\",\"code\":500}", 28, NULL);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        if (!h->lease) {
            const char *nf = "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\","
                             "\"details\":{\"name\":\"lock\",\"kind\":\"leases\"}}";
            http_respond(req, 404, "application/json", nf, strlen(nf), NULL);
        } else {
            lh_send(req, 200, h->lease);
        }
        return;
    }
    if (strcmp(req->method, "PUT") == 0) {
        h->puts_seen++;
        if (h->hang_puts) {
            for (int i = 0; i < MAX_HELD; i++)
                if (!h->held[i]) {
                    h->held[i] = req;
                    http_request_on_close(req, lh_held_closed, h);
                    return;
                }
            fail_msg("too many held requests");
        }
    }
    json_t *o = json_loads(req->body, 0, NULL);
    assert_non_null(o);
    char rv[16];
    snprintf(rv, sizeof rv, "%d", ++h->rv);
    json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
    json_decref(h->lease);
    h->lease = o;
    lh_send(req, strcmp(req->method, "POST") == 0 ? 201 : 200, o);
}

static void lh_finish(lh_t *h)
{
    h->done = true;
    kube_leader_stop(h->le); /* the elector has returned: on_stopped_leading ran */
    h->le = NULL;
    uv_timer_stop(&h->poll);
    uv_close((uv_handle_t *)&h->poll, NULL);
    uv_close((uv_handle_t *)&h->guard, NULL);
    http_server_stop(h->srv);
}

/* Test A: a hung renew (the client would wait 30 s) must not keep us leader past the deadline */
static void lh_poll_by_time(uv_timer_t *t)
{
    lh_t *h = t->data;
    if (!atomic_load(&h->started)) return;
    bool leader = kube_leader_is_leader(h->le);
    if (leader) h->was_leader = true;
    if (!h->answered) {
        if (leader || !lh_nheld(h)) return;
        /* no longer leader by time while the elector is still blocked in its renew */
        h->lost_while_blocked = !atomic_load(&h->stopped);
        h->fail_all = true; /* from now on the API server fails everything */
        lh_answer_held(h, 500);
        h->answered = true;
        return;
    }
    if (atomic_load(&h->stopped)) lh_finish(h);
}

/* Test B: the elector's own client (timeout renewDeadline/2, no retries): renews that never get
 * an answer still end in on_stopped_leading */
static void lh_poll_own_client(uv_timer_t *t)
{
    lh_t *h = t->data;
    if (!atomic_load(&h->started)) return;
    if (kube_leader_is_leader(h->le)) h->was_leader = true;
    if (atomic_load(&h->stopped)) {
        assert_false(kube_leader_is_leader(h->le));
        lh_finish(h);
    }
}

static void lh_guard(uv_timer_t *t)
{
    lh_t *h = t->data;
    fail_msg("timed out: started %d stopped %d puts %d held %d", atomic_load(&h->started),
             atomic_load(&h->stopped), h->puts_seen, lh_nheld(h));
}

static void lh_run(lh_t *h, long timeout_ms, uv_timer_cb poll)
{
    uv_loop_init(&h->loop);
    http_server_config_t sc = {.host = "127.0.0.1"};
    assert_int_equal(http_server_start_plain(&h->loop, &sc, lh_handler, h, &h->srv, NULL, 0), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", http_server_port(h->srv));
    kube_config_t *cfg = test_kubeconfig(url, NULL);
    assert_non_null(cfg);
    kube_client_options_t co = {.timeout_ms = timeout_ms, .max_retries = -1};
    assert_int_equal(kube_client_new(cfg, &co, &h->client, NULL, 0), 0);
    h->hang_puts = true; /* the lease is created by POST; every renew PUT hangs */
    kube_leader_config_t lc = {
        .ns = "ns",
        .name = "lock",
        .identity = ME,
        .lease_duration_s = 3,
        .renew_deadline_s = 1,
        .retry_period_s = 0.2,
        .on_started_leading = lh_started,
        .on_stopped_leading = lh_stopped,
        .ud = h,
    };
    assert_int_equal(kube_leader_start(h->client, &lc, &h->le), 0);
    uv_timer_init(&h->loop, &h->poll);
    uv_timer_init(&h->loop, &h->guard);
    h->poll.data = h->guard.data = h;
    uv_timer_start(&h->poll, poll, 10, 10);
    uv_timer_start(&h->guard, lh_guard, 20000, 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_true(h->done);
    uv_loop_close(&h->loop);
    kube_client_free(h->client);
    json_decref(h->lease);
}

static void test_elector_loses_by_time_while_renew_hangs(void **state)
{
    (void)state;
    lh_t *h = calloc(1, sizeof *h);
    lh_run(h, 30000, lh_poll_by_time);
    assert_true(h->was_leader);
    assert_true(h->lost_while_blocked);
    assert_true(atomic_load(&h->stopped));
    free(h);
}

static void test_elector_own_client_unanswered_renews(void **state)
{
    (void)state;
    lh_t *h = calloc(1, sizeof *h);
    lh_run(h, 500, lh_poll_own_client); /* renewDeadline / 2 */
    assert_true(h->was_leader);
    assert_true(h->puts_seen >= 1);
    assert_true(atomic_load(&h->stopped));
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_decide_sequence),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_microtime_and_identity),
        cmocka_unit_test(test_record_equal),
        cmocka_unit_test(test_elector_loses_by_time_while_renew_hangs),
        cmocka_unit_test(test_elector_own_client_unanswered_renews),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
