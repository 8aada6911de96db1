/* test_kube_leader: the pure half of Lease leader election: the client-go decision table
 * (create, wait, acquire, renew; expiry measured by the local observation clock, not renewTime)
 * and the Lease bodies written for create, acquire, renew and release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "kube/leader.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table), cmocka_unit_test(test_decide_sequence),
        cmocka_unit_test(test_bodies),       cmocka_unit_test(test_microtime_and_identity),
        cmocka_unit_test(test_record_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
