/* test_kube_cache: the informer's store: add/update/delete deltas, a uid change delivered as
 * delete + add, replace with synthetic deletes (and nothing for unchanged objects), the owner-uid
 * and label indexes kept right through every change, object keys and the default transform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "kube/cache.h"
#include "kube/informer.h"

/* A ConfigMap-like object; owner and label may be NULL. */
static json_t *obj(const char *ns, const char *name, const char *uid, const char *rv,
                   const char *owner, const char *app)
{
    json_t *o =
        json_pack("{s:{s:s,s:s,s:s}}", "metadata", "name", name, "uid", uid, "resourceVersion", rv);
    if (ns) jsonx_set_new(o, "metadata.namespace", json_string(ns));
    if (owner)
        jsonx_set_new(o, "metadata.ownerReferences",
                      json_pack("[{s:s,s:s,s:s}]", "kind", "Pool", "name", "p", "uid", owner));
    if (app) jsonx_set_new(o, "metadata.labels", json_pack("{s:s,s:s}", "app", app, "x", "y"));
    return o;
}

/* Deltas as "A:key@rv", "U:key@rv>rv", "D:key@rv" joined by spaces. */
typedef struct rec {
    char out[2048];
} rec_t;

static void on_delta(kube_delta_t k, json_t *o, json_t *n, void *ud)
{
    rec_t *r = ud;
    char one[256];
    json_t *x = n ? n : o;
    char *key = kube_object_key(x);
    switch (k) {
    case KUBE_DELTA_ADD:
        assert_null(o);
        snprintf(one, sizeof one, "A:%s@%s ", key, jsonx_str(n, "metadata.resourceVersion", ""));
        break;
    case KUBE_DELTA_UPDATE:
        snprintf(one, sizeof one, "U:%s@%s>%s ", key, jsonx_str(o, "metadata.resourceVersion", ""),
                 jsonx_str(n, "metadata.resourceVersion", ""));
        break;
    case KUBE_DELTA_DELETE:
        assert_null(n);
        snprintf(one, sizeof one, "D:%s@%s ", key, jsonx_str(o, "metadata.resourceVersion", ""));
        break;
    }
    free(key);
    strncat(r->out, one, sizeof r->out - strlen(r->out) - 1);
}

/* Names of the objects in an array, sorted, joined by spaces; consumes the array. */
static char *names(json_t *arr)
{
    static char buf[1024];
    buf[0] = 0;
    size_t n = json_array_size(arr);
    const char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = jsonx_str(json_array_get(arr, i), "metadata.name", "");
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(v[j], v[i]) < 0) {
                const char *t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        strcat(buf, v[i]);
        if (i + 1 < n) strcat(buf, " ");
    }
    free(v);
    json_decref(arr);
    return buf;
}

static void test_object_key(void **state)
{
    json_t *o = obj("ns", "a", "u", "1", NULL, NULL);
    char *k = kube_object_key(o);
    assert_string_equal(k, "ns/a");
    free(k);
    json_decref(o);
    o = obj(NULL, "node1", "u", "1", NULL, NULL);
    k = kube_object_key(o);
    assert_string_equal(k, "node1");
    free(k);
    json_decref(o);
    o = json_pack("{s:{s:s}}", "metadata", "namespace", "ns");
    assert_null(kube_object_key(o));
    json_decref(o);
    o = json_pack("{s:{s:s}}", "metadata", "name", "");
    assert_null(kube_object_key(o));
    json_decref(o);
}

static void test_add_update_delete(void **state)
{
    kube_cache_t *c = kube_cache_new(NULL);
    rec_t r = {0};
    assert_int_equal(kube_cache_upsert(c, obj("ns", "a", "u1", "1", NULL, NULL), on_delta, &r), 0);
    assert_int_equal(kube_cache_upsert(c, obj("ns", "b", "u2", "2", NULL, NULL), on_delta, &r), 0);
    assert_int_equal(kube_cache_upsert(c, obj("ns", "a", "u1", "3", NULL, NULL), on_delta, &r), 0);
    assert_string_equal(r.out, "A:ns/a@1 A:ns/b@2 U:ns/a@1>3 ");
    assert_int_equal(kube_cache_count(c), 2);
    json_t *g = kube_cache_get(c, "ns/a");
    assert_string_equal(jsonx_str(g, "metadata.resourceVersion", ""), "3");
    json_decref(g);
    assert_null(kube_cache_get(c, "ns/zz"));

    /* delete reports the event's object (the newest state) */
    r.out[0] = 0;
    json_t *del = obj("ns", "a", "u1", "4", NULL, NULL);
    assert_int_equal(kube_cache_remove(c, del, on_delta, &r), 0);
    assert_string_equal(r.out, "D:ns/a@4 ");
    /* deleting an unknown key reports nothing */
    r.out[0] = 0;
    assert_int_equal(kube_cache_remove(c, del, on_delta, &r), -ENOENT);
    assert_string_equal(r.out, "");
    json_decref(del);
    assert_int_equal(kube_cache_count(c), 1);
    assert_string_equal(names(kube_cache_list(c)), "b");

    /* no name: rejected, no delta */
    assert_int_equal(kube_cache_upsert(c, json_pack("{s:{}}", "metadata"), on_delta, &r), -EINVAL);
    assert_string_equal(r.out, "");
    kube_cache_free(c);
}

static void test_uid_change(void **state)
{
    kube_cache_t *c = kube_cache_new(NULL);
    rec_t r = {0};
    kube_cache_upsert(c, obj("ns", "a", "old", "1", NULL, NULL), on_delta, &r);
    /* recreated between two observations: delete(old) then add(new) */
    kube_cache_upsert(c, obj("ns", "a", "new", "5", NULL, NULL), on_delta, &r);
    assert_string_equal(r.out, "A:ns/a@1 D:ns/a@1 A:ns/a@5 ");
    /* a stale DELETED for the old uid reports the cached (new) object */
    r.out[0] = 0;
    json_t *stale = obj("ns", "a", "old", "2", NULL, NULL);
    kube_cache_remove(c, stale, on_delta, &r);
    json_decref(stale);
    assert_string_equal(r.out, "D:ns/a@5 ");
    kube_cache_free(c);
}

static void test_replace(void **state)
{
    kube_cache_t *c = kube_cache_new(NULL);
    rec_t r = {0};
    kube_cache_upsert(c, obj("ns", "keep", "u1", "1", NULL, NULL), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "changed", "u2", "2", NULL, NULL), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "gone", "u3", "3", NULL, NULL), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "recreated", "u4", "4", NULL, NULL), NULL, NULL);
    json_t *keep_before = kube_cache_get(c, "ns/keep");
    json_t *items = json_pack("[o,o,o,o,{s:{}}]", obj("ns", "keep", "u1", "1", NULL, NULL),
                              obj("ns", "changed", "u2", "7", NULL, NULL),
                              obj("ns", "recreated", "u5", "8", NULL, NULL),
                              obj("ns", "new", "u6", "9", NULL, NULL), "metadata");
    assert_int_equal(kube_cache_replace(c, items, on_delta, &r), 0);
    /* deletes first; unchanged objects emit nothing and keep their content */
    assert_string_equal(r.out, "D:ns/gone@3 D:ns/recreated@4 U:ns/changed@2>7 A:ns/recreated@8 "
                               "A:ns/new@9 ");
    assert_string_equal(names(kube_cache_list(c)), "changed keep new recreated");
    json_t *keep_after = kube_cache_get(c, "ns/keep");
    assert_true(json_equal(keep_before, keep_after));
    /* reads are private copies: editing one changes neither the cache nor other reads */
    assert_ptr_not_equal(keep_before, keep_after);
    json_object_set_new(json_object_get(keep_before, "metadata"), "name", json_string("edited"));
    json_t *again = kube_cache_get(c, "ns/keep");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(again, "metadata"), "name")), "keep");
    json_decref(again);
    json_decref(keep_before);
    json_decref(keep_after);
    /* replace with nothing deletes everything */
    r.out[0] = 0;
    kube_cache_replace(c, json_array(), on_delta, &r);
    assert_int_equal(kube_cache_count(c), 0);
    assert_non_null(strstr(r.out, "D:ns/keep@1"));
    kube_cache_free(c);
}

static void test_indexes(void **state)
{
    const char *const idx[] = {"app", NULL};
    kube_cache_t *c = kube_cache_new(idx);
    kube_cache_upsert(c, obj("ns", "a", "u1", "1", "pool1", "web"), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "b", "u2", "2", "pool1", "db"), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "c", "u3", "3", "pool2", "web"), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "d", "u4", "4", NULL, NULL), NULL, NULL);
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "a b");
    assert_string_equal(names(kube_cache_by_owner(c, "pool2")), "c");
    assert_string_equal(names(kube_cache_by_owner(c, "nope")), "");
    assert_string_equal(names(kube_cache_by_label(c, "app", "web")), "a c");
    assert_string_equal(names(kube_cache_by_label(c, "app", "db")), "b");
    /* a label that is not indexed is found by scanning */
    assert_string_equal(names(kube_cache_by_label(c, "x", "y")), "a b c");
    assert_string_equal(names(kube_cache_by_label(c, "x", "z")), "");

    /* an update moves the object between index entries */
    kube_cache_upsert(c, obj("ns", "a", "u1", "5", "pool2", "db"), NULL, NULL);
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "b");
    assert_string_equal(names(kube_cache_by_owner(c, "pool2")), "a c");
    assert_string_equal(names(kube_cache_by_label(c, "app", "web")), "c");
    assert_string_equal(names(kube_cache_by_label(c, "app", "db")), "a b");
    /* delete removes it */
    json_t *del = obj("ns", "b", "u2", "6", NULL, NULL);
    kube_cache_remove(c, del, NULL, NULL);
    json_decref(del);
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "");
    assert_string_equal(names(kube_cache_by_label(c, "app", "db")), "a");
    /* replace rebuilds them */
    kube_cache_replace(c, json_pack("[o]", obj("ns", "e", "u9", "7", "pool1", "web")), NULL, NULL);
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "e");
    assert_string_equal(names(kube_cache_by_owner(c, "pool2")), "");
    assert_string_equal(names(kube_cache_by_label(c, "app", "web")), "e");
    assert_string_equal(names(kube_cache_by_label(c, "app", "db")), "");
    kube_cache_free(c);
}

/* A replace fed packed forms (as the informer stages a list) gives the same deltas as trees;
 * the same text twice is "unchanged" without any delta. */
static void test_replace_packed(void **state)
{
    const char *const idx[] = {"app", NULL};
    kube_cache_t *c = kube_cache_new(idx);
    rec_t r = {0};
    json_t *a = obj("ns", "a", "u1", "1", "pool1", "web"),
           *b = obj("ns", "b", "u2", "2", NULL, NULL);
    json_t *items = json_array();
    json_array_append_new(items, kube_cache_pack(a));
    json_array_append_new(items, kube_cache_pack(b));
    kube_cache_replace(c, items, on_delta, &r);
    assert_string_equal(r.out, "A:ns/a@1 A:ns/b@2 ");
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "a");
    /* the same texts again: nothing; a changed one: an update; a new uid: delete + add */
    r.out[0] = 0;
    json_t *b3 = obj("ns", "b", "u2", "3", NULL, NULL), *a9 = obj("ns", "a", "u9", "9", NULL, "db");
    items = json_pack("[o,o]", kube_cache_pack(a), kube_cache_pack(b));
    kube_cache_replace(c, items, on_delta, &r);
    assert_string_equal(r.out, "");
    items = json_pack("[o,o]", kube_cache_pack(a9), kube_cache_pack(b3));
    kube_cache_replace(c, items, on_delta, &r);
    assert_string_equal(r.out, "D:ns/a@1 A:ns/a@9 U:ns/b@2>3 ");
    assert_string_equal(names(kube_cache_by_owner(c, "pool1")), "");
    assert_string_equal(names(kube_cache_by_label(c, "app", "db")), "a");
    json_decref(a);
    json_decref(b);
    json_decref(b3);
    json_decref(a9);
    kube_cache_free(c);
}

typedef struct visits {
    int n, stop_after;
    char seen[256];
} visits_t;

static int visit_fn(json_t *o, void *ud)
{
    visits_t *v = ud;
    strcat(v->seen, jsonx_str(o, "metadata.name", "?"));
    /* each call gets a private copy: editing it changes nothing in the cache */
    json_object_set_new(json_object_get(o, "metadata"), "name", json_string("edited"));
    return ++v->n == v->stop_after;
}

static void test_foreach(void **state)
{
    const char *const idx[] = {"app", NULL};
    kube_cache_t *c = kube_cache_new(idx);
    kube_cache_upsert(c, obj("ns", "a", "u1", "1", "pool1", "web"), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "b", "u2", "2", "pool1", "db"), NULL, NULL);
    kube_cache_upsert(c, obj("ns", "c", "u3", "3", "pool2", "web"), NULL, NULL);
    visits_t v = {0};
    assert_int_equal(kube_cache_foreach(c, visit_fn, &v), 3);
    assert_int_equal(strlen(v.seen), 3);
    v = (visits_t){0};
    assert_int_equal(kube_cache_foreach_by_owner(c, "pool1", visit_fn, &v), 2);
    v = (visits_t){0};
    assert_int_equal(kube_cache_foreach_by_label(c, "app", "web", visit_fn, &v), 2);
    v = (visits_t){0};
    assert_int_equal(kube_cache_foreach_by_label(c, "x", "y", visit_fn, &v), 3); /* a scan */
    v = (visits_t){.stop_after = 1};
    assert_int_equal(kube_cache_foreach(c, visit_fn, &v), 1); /* stopped */
    assert_string_equal(names(kube_cache_list(c)), "a b c");
    kube_cache_free(c);
}

static void test_default_transform(void **state)
{
    json_t *o =
        json_pack("{s:{s:s,s:[{s:s}],s:{s:s}},s:{s:i}}", "metadata", "name", "a", "managedFields",
                  "manager", "kubectl", "labels", "app", "web", "spec", "replicas", 3);
    json_t *t = kube_cache_default_transform(o, NULL);
    assert_ptr_equal(t, o);
    assert_null(jsonx_get(t, "metadata.managedFields"));
    assert_string_equal(jsonx_str(t, "metadata.labels.app", ""), "web");
    assert_int_equal(jsonx_int(t, "spec.replicas", 0), 3);
    json_decref(t);
    /* objects without metadata pass through */
    t = kube_cache_default_transform(json_pack("{s:i}", "a", 1), NULL);
    assert_int_equal(jsonx_int(t, "a", 0), 1);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_key), cmocka_unit_test(test_add_update_delete),
        cmocka_unit_test(test_uid_change), cmocka_unit_test(test_replace),
        cmocka_unit_test(test_indexes),    cmocka_unit_test(test_replace_packed),
        cmocka_unit_test(test_foreach),    cmocka_unit_test(test_default_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
