/* Unit tests for the store: the global resourceVersion, history seek and expiry, consistent
 * snapshots and watcher fan-out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apiserver/store.h"

static json_t *obj(const char *name, uint64_t rv)
{
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)rv);
    return json_pack("{s:{s:s,s:s}}", "metadata", "name", name, "resourceVersion", rvs);
}

static uint64_t put(store_t *s, store_coll_t *c, const char *key, store_ev_type_t t)
{
    uint64_t rv = store_next_rv(s);
    store_commit(s, c, key, t, rv, t == STORE_DELETED ? NULL : obj(key, rv),
                 t == STORE_DELETED ? obj(key, rv) : NULL);
    return rv;
}

static void test_rv_large_with_gaps(void **state)
{
    (void)state;
    store_t *s = store_new(0, 0);
    uint64_t prev = store_rv(s);
    assert_true(prev >= 1000000);
    int gaps = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t rv = store_next_rv(s);
        assert_true(rv > prev);
        if (rv - prev > 1) gaps++;
        prev = rv;
    }
    assert_true(gaps > 0);
    store_free(s);
}

static void test_history_seek_and_expiry(void **state)
{
    (void)state;
    store_t *s = store_new(5, 0);
    store_coll_t *c = store_coll_new(s);
    uint64_t rvs[10];
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "ns/o%d", i);
        rvs[i] = put(s, c, key, STORE_ADDED);
    }
    assert_int_equal(store_history_len(s), 5);
    size_t idx;
    /* the five newest are kept: watching from rvs[4] replays rvs[5..9] */
    assert_int_equal(store_history_seek(s, rvs[4], &idx), 0);
    assert_int_equal(store_history_at(s, idx)->rv, rvs[5]);
    assert_int_equal(store_history_seek(s, rvs[2], &idx), -ESTALE);
    assert_int_equal(store_history_seek(s, rvs[9], &idx), 0);
    assert_int_equal(idx, 5);
    store_set_retention(s, 2);
    assert_int_equal(store_history_seek(s, rvs[6], &idx), -ESTALE);
    store_coll_drop(s, c);
    store_free(s);
}

static void test_snapshot_sees_the_past(void **state)
{
    (void)state;
    store_t *s = store_new(0, 0);
    store_coll_t *c = store_coll_new(s);
    put(s, c, "ns/a", STORE_ADDED);
    uint64_t at = put(s, c, "ns/b", STORE_ADDED);
    put(s, c, "ns/a", STORE_MODIFIED);
    put(s, c, "ns/b", STORE_DELETED);
    put(s, c, "ns/c", STORE_ADDED);
    json_t *snap;
    assert_int_equal(store_coll_snapshot(s, c, at, &snap), 0);
    assert_int_equal(json_object_size(snap), 2);
    assert_non_null(json_object_get(snap, "ns/b"));
    assert_null(json_object_get(snap, "ns/c"));
    /* ns/a as it was at `at`, not its later modification */
    char want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)(at));
    assert_true(
        strcmp(json_string_value(json_object_get(
                   json_object_get(json_object_get(snap, "ns/a"), "metadata"), "resourceVersion")),
               want) < 0);
    json_decref(snap);
    assert_int_equal(store_coll_count(c), 2);
    size_t n;
    const char **keys = store_coll_keys(c, "ns/", &n);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "ns/a");
    assert_string_equal(keys[1], "ns/c");
    free(keys);
    store_coll_drop(s, c);
    store_free(s);
}

static int events_seen;
static int drops_seen;
static void count_events(const store_event_t *ev, void *ud)
{
    (void)ud;
    if (ev)
        events_seen++;
    else
        drops_seen++;
}

static void test_watch_fanout_and_drop(void **state)
{
    (void)state;
    store_t *s = store_new(0, 0);
    store_coll_t *c = store_coll_new(s), *other = store_coll_new(s);
    events_seen = drops_seen = 0;
    store_watch_t *w1 = store_watch_add(c, count_events, NULL);
    store_watch_add(c, count_events, NULL);
    put(s, c, "x", STORE_ADDED);
    put(s, other, "y", STORE_ADDED);
    assert_int_equal(events_seen, 2);
    store_watch_remove(w1);
    put(s, c, "x", STORE_MODIFIED);
    assert_int_equal(events_seen, 3);
    store_coll_drop(s, c);
    assert_int_equal(drops_seen, 1);
    store_coll_drop(s, other);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rv_large_with_gaps),
        cmocka_unit_test(test_history_seek_and_expiry),
        cmocka_unit_test(test_snapshot_sees_the_past),
        cmocka_unit_test(test_watch_fanout_and_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
