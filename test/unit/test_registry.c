/* Unit tests for apiserver/registry: the built-in kind table (flags, names, field selectors),
 * lookups by plural, kind and short name, and CR types from CRDs: create, update (coll kept,
 * references swapped), establishment, removal and the epoch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/registry.h"

/* ---------------------------------------------------------------- helpers */

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j) fprintf(stderr, "bad test json: %s\n", err.text);
    assert_non_null(j);
    return j;
}

static json_t *widget_crd(void)
{
    return load(
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"widgets.example.com\"},"
        "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
        "\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\","
        "\"listKind\":\"WidgetList\",\"shortNames\":[\"wg\"],\"categories\":[\"all\"]},"
        "\"versions\":["
        "{\"name\":\"v1alpha1\",\"served\":true,\"storage\":false,"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\"}}},"
        "{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}},"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":"
        "{\"type\":\"object\",\"properties\":{\"replicas\":{\"type\":\"integer\"}}}}}},"
        "\"additionalPrinterColumns\":[{\"name\":\"Replicas\",\"type\":\"integer\","
        "\"jsonPath\":\".spec.replicas\"}],"
        "\"selectableFields\":[{\"jsonPath\":\".spec.color\"}]}]}}");
}

static bool has_str(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return true;
    return false;
}

static bool has_fs(const restype_t *rt, const char *path)
{
    for (const char *const *p = rt->field_selectors; p && *p; p++)
        if (!strcmp(*p, path)) return true;
    return false;
}

static registry_t *builtins(void)
{
    registry_t *reg = registry_new();
    assert_non_null(reg);
    registry_add_builtins(reg);
    return reg;
}

/* ---------------------------------------------------------------- built-ins */

static void test_builtin_table(void **state)
{
    registry_t *reg = builtins();
    static const struct {
        const char *group, *plural, *kind;
    } want[] = {
        {"", "namespaces", "Namespace"},
        {"", "pods", "Pod"},
        {"", "services", "Service"},
        {"", "serviceaccounts", "ServiceAccount"},
        {"", "configmaps", "ConfigMap"},
        {"", "secrets", "Secret"},
        {"", "events", "Event"},
        {"", "nodes", "Node"},
        {"", "endpoints", "Endpoints"},
        {"apps", "deployments", "Deployment"},
        {"apps", "replicasets", "ReplicaSet"},
        {"coordination.k8s.io", "leases", "Lease"},
        {"rbac.authorization.k8s.io", "roles", "Role"},
        {"rbac.authorization.k8s.io", "rolebindings", "RoleBinding"},
        {"rbac.authorization.k8s.io", "clusterroles", "ClusterRole"},
        {"rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding"},
        {"apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        restype_t *rt = registry_find(reg, want[i].group, want[i].plural);
        assert_non_null(rt);
        assert_string_equal(rt->kind, want[i].kind);
        char lk[128];
        snprintf(lk, sizeof lk, "%sList", want[i].kind);
        assert_string_equal(rt->list_kind, lk);
        assert_true(rt->builtin);
        assert_true(rt->established);
        assert_false(rt->terminating);
        assert_null(rt->crd);
        assert_null(rt->coll);
        assert_int_equal(rt->n_versions, 1);
        assert_string_equal(rt->versions[0].name, "v1");
        assert_true(rt->versions[0].served && rt->versions[0].storage);
        assert_null(rt->versions[0].schema);
        assert_ptr_equal(restype_storage_version(rt), &rt->versions[0]);
        assert_ptr_equal(restype_version(rt, "v1"), &rt->versions[0]);
        assert_null(restype_version(rt, "v2"));
        bool is_crd = !strcmp(want[i].plural, "customresourcedefinitions");
        assert_int_equal(rt->smp_allowed, !is_crd);
    }
    /* adding twice does not duplicate */
    size_t n = registry_count(reg);
    registry_add_builtins(reg);
    assert_int_equal(registry_count(reg), n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(registry_at(reg, i));
    assert_null(registry_at(reg, n));
    registry_free(reg);
}

static void test_builtin_flags(void **state)
{
    registry_t *reg = builtins();
    restype_t *ns = registry_find(reg, "", "namespaces");
    assert_false(ns->namespaced);
    assert_true(ns->name_is_dns_label);
    assert_true(ns->return_deleted_object);
    assert_true(ns->versions[0].has_status);
    assert_false(ns->tracks_generation);
    assert_true(has_fs(ns, "status.phase"));
    assert_true(has_str(ns->short_names, ns->n_short_names, "ns"));

    restype_t *po = registry_find(reg, "", "pods");
    assert_true(po->namespaced);
    assert_true(po->return_deleted_object);
    assert_true(po->versions[0].has_status);
    assert_false(po->tracks_generation);
    assert_false(po->name_is_dns_label);
    assert_true(has_str(po->short_names, po->n_short_names, "po"));
    assert_true(has_str(po->categories, po->n_categories, "all"));
    static const char *const pod_fs[] = {
        "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
    for (size_t i = 0; i < sizeof pod_fs / sizeof pod_fs[0]; i++)
        assert_true(has_fs(po, pod_fs[i]));
    assert_false(has_fs(po, "spec.bogus"));

    restype_t *svc = registry_find(reg, "", "services");
    assert_true(svc->name_is_dns_label && svc->versions[0].has_status);
    assert_true(has_str(svc->categories, svc->n_categories, "all"));
    assert_true(registry_find(reg, "", "serviceaccounts")->return_deleted_object);
    assert_false(registry_find(reg, "", "configmaps")->return_deleted_object);
    assert_false(registry_find(reg, "", "configmaps")->tracks_generation);
    assert_true(has_fs(registry_find(reg, "", "secrets"), "type"));
    restype_t *ev = registry_find(reg, "", "events");
    assert_true(has_fs(ev, "involvedObject.uid"));
    assert_true(has_fs(ev, "reportingComponent"));
    assert_true(has_fs(ev, "source"));
    restype_t *no = registry_find(reg, "", "nodes");
    assert_false(no->namespaced);
    assert_true(no->versions[0].has_status);

    restype_t *dep = registry_find(reg, "apps", "deployments");
    assert_true(dep->tracks_generation && dep->versions[0].has_status && dep->namespaced);
    assert_true(has_str(dep->short_names, dep->n_short_names, "deploy"));
    assert_true(registry_find(reg, "apps", "replicasets")->tracks_generation);
    assert_false(registry_find(reg, "coordination.k8s.io", "leases")->tracks_generation);
    assert_true(registry_find(reg, "coordination.k8s.io", "leases")->namespaced);
    assert_true(registry_find(reg, "rbac.authorization.k8s.io", "roles")->namespaced);
    assert_false(registry_find(reg, "rbac.authorization.k8s.io", "clusterroles")->namespaced);
    assert_false(
        registry_find(reg, "rbac.authorization.k8s.io", "clusterrolebindings")->namespaced);

    restype_t *crd = registry_find(reg, "apiextensions.k8s.io", "customresourcedefinitions");
    assert_false(crd->namespaced);
    assert_true(crd->tracks_generation && crd->versions[0].has_status);
    assert_false(crd->smp_allowed);
    assert_true(has_str(crd->short_names, crd->n_short_names, "crd"));
    assert_true(has_str(crd->short_names, crd->n_short_names, "crds"));
    registry_free(reg);
}

static void test_lookups(void **state)
{
    registry_t *reg = builtins();
    assert_ptr_equal(registry_find_kind(reg, "apps", "Deployment"),
                     registry_find(reg, "apps", "deployments"));
    assert_ptr_equal(registry_find_kind(reg, "", "Pod"), registry_find(reg, "", "pods"));
    assert_null(registry_find_kind(reg, "apps", "Pod"));
    assert_null(registry_find_kind(reg, "", "pods"));
    assert_null(registry_find(reg, "apps", "pods"));
    assert_null(registry_find(reg, "", "Pod"));
    assert_null(registry_find(reg, NULL, "pods"));

    assert_ptr_equal(registry_resolve(reg, NULL, "po"), registry_find(reg, "", "pods"));
    assert_ptr_equal(registry_resolve(reg, NULL, "pod"), registry_find(reg, "", "pods"));
    assert_ptr_equal(registry_resolve(reg, NULL, "Pod"), registry_find(reg, "", "pods"));
    assert_ptr_equal(registry_resolve(reg, NULL, "deploy"),
                     registry_find(reg, "apps", "deployments"));
    assert_ptr_equal(registry_resolve(reg, "apps", "deploy"),
                     registry_find(reg, "apps", "deployments"));
    assert_null(registry_resolve(reg, "", "deploy"));
    assert_ptr_equal(registry_resolve(reg, NULL, "crds"),
                     registry_find(reg, "apiextensions.k8s.io", "customresourcedefinitions"));
    assert_ptr_equal(registry_resolve(reg, NULL, "crd"),
                     registry_find(reg, "apiextensions.k8s.io", "customresourcedefinitions"));
    assert_ptr_equal(registry_resolve(reg, NULL, "ns"), registry_find(reg, "", "namespaces"));
    assert_null(registry_resolve(reg, NULL, "nosuch"));
    registry_free(reg);
}

/* ---------------------------------------------------------------- CRDs */

static void test_apply_crd_create(void **state)
{
    registry_t *reg = builtins();
    size_t n0 = registry_count(reg);
    uint64_t e0 = registry_epoch(reg);
    json_t *crd = widget_crd();
    restype_t *rt = registry_apply_crd(reg, crd);
    assert_non_null(rt);
    assert_int_equal(crd->refcount, 2); /* the type keeps its own reference */
    assert_true(registry_epoch(reg) > e0);
    assert_int_equal(registry_count(reg), n0 + 1);
    assert_ptr_equal(registry_find(reg, "example.com", "widgets"), rt);
    assert_ptr_equal(registry_find_kind(reg, "example.com", "Widget"), rt);
    assert_ptr_equal(registry_resolve(reg, NULL, "wg"), rt);
    assert_ptr_equal(rt->crd, crd);
    assert_string_equal(rt->group, "example.com");
    assert_string_equal(rt->singular, "widget");
    assert_string_equal(rt->list_kind, "WidgetList");
    assert_true(has_str(rt->short_names, rt->n_short_names, "wg"));
    assert_true(has_str(rt->categories, rt->n_categories, "all"));
    assert_true(rt->namespaced);
    assert_false(rt->builtin);
    assert_true(rt->tracks_generation);
    assert_false(rt->smp_allowed);
    assert_false(rt->return_deleted_object);
    assert_true(rt->established);
    assert_false(rt->terminating);
    assert_int_equal(rt->n_versions, 2);
    restype_version_t *v1 = restype_version(rt, "v1");
    restype_version_t *va = restype_version(rt, "v1alpha1");
    assert_non_null(v1);
    assert_non_null(va);
    assert_ptr_equal(restype_storage_version(rt), v1);
    assert_true(v1->has_status);
    assert_false(va->has_status);
    json_t *jv1 = json_array_get(json_object_get(json_object_get(crd, "spec"), "versions"), 1);
    assert_ptr_equal(v1->schema,
                     json_object_get(json_object_get(jv1, "schema"), "openAPIV3Schema"));
    assert_ptr_equal(v1->printer_columns, json_object_get(jv1, "additionalPrinterColumns"));
    assert_ptr_equal(v1->selectable_fields, json_object_get(jv1, "selectableFields"));
    assert_null(va->printer_columns);
    assert_null(va->selectable_fields);
    json_decref(crd);
    /* the type's reference keeps the borrowed schema alive */
    assert_string_equal(json_string_value(json_object_get(v1->schema, "type")), "object");
    registry_free(reg);
}

static void test_apply_crd_update(void **state)
{
    registry_t *reg = builtins();
    json_t *crd = widget_crd();
    restype_t *rt = registry_apply_crd(reg, crd);
    assert_non_null(rt);
    store_coll_t *fake = (store_coll_t *)&fake; /* the store's; the registry must not touch it */
    rt->coll = fake;
    size_t n = registry_count(reg);
    uint64_t e = registry_epoch(reg);

    json_t *crd2 = widget_crd();
    json_t *spec = json_object_get(crd2, "spec");
    json_object_set_new(json_object_get(spec, "names"), "shortNames",
                        json_pack("[s,s]", "wg", "wgt"));
    json_array_append_new(json_object_get(spec, "versions"),
                          json_pack("{s:s, s:b, s:b, s:{s:{s:s}}}", "name", "v2", "served", 1,
                                    "storage", 0, "schema", "openAPIV3Schema", "type", "object"));
    json_object_set_new(json_array_get(json_object_get(spec, "versions"), 0), "served",
                        json_false());
    restype_t *rt2 = registry_apply_crd(reg, crd2);
    assert_ptr_equal(rt2, rt);
    assert_ptr_equal(rt->coll, fake);
    assert_ptr_equal(rt->crd, crd2);
    assert_int_equal(crd->refcount, 1);  /* old reference dropped */
    assert_int_equal(crd2->refcount, 2); /* new one held */
    assert_int_equal(registry_count(reg), n);
    assert_true(registry_epoch(reg) > e);
    assert_int_equal(rt->n_versions, 3);
    assert_null(restype_version(rt, "v1alpha1")); /* no longer served */
    assert_non_null(restype_version(rt, "v2"));
    assert_ptr_equal(registry_resolve(reg, "example.com", "wgt"), rt);
    assert_ptr_equal(restype_storage_version(rt), restype_version(rt, "v1"));

    /* applying the same object again is fine (same reference swapped for itself) */
    assert_ptr_equal(registry_apply_crd(reg, crd2), rt);
    assert_int_equal(crd2->refcount, 2);
    rt->coll = NULL;
    json_decref(crd);
    json_decref(crd2);
    registry_free(reg);
}

static void test_apply_crd_defaults_and_scope(void **state)
{
    registry_t *reg = registry_new();
    json_t *crd = load("{\"metadata\":{\"name\":\"gadgets.example.org\"},"
                       "\"spec\":{\"group\":\"example.org\",\"scope\":\"Cluster\","
                       "\"names\":{\"plural\":\"gadgets\",\"kind\":\"Gadget\"},"
                       "\"versions\":[{\"name\":\"v1beta1\",\"served\":true}]}}");
    restype_t *rt = registry_apply_crd(reg, crd);
    assert_non_null(rt);
    assert_false(rt->namespaced);
    assert_string_equal(rt->singular, "gadget");
    assert_string_equal(rt->list_kind, "GadgetList");
    assert_int_equal(rt->n_short_names, 0);
    assert_int_equal(rt->n_categories, 0);
    assert_non_null(restype_storage_version(rt)); /* no storage flag: the first one */
    assert_string_equal(restype_storage_version(rt)->name, "v1beta1");
    assert_null(restype_version(rt, "v1beta1")->schema);
    json_decref(crd);
    registry_free(reg);
}

static void test_apply_crd_established_and_terminating(void **state)
{
    registry_t *reg = builtins();
    json_t *crd = widget_crd();
    json_object_set_new(
        crd, "status",
        json_pack("{s:[{s:s, s:s}]}", "conditions", "type", "Established", "status", "False"));
    restype_t *rt = registry_apply_crd(reg, crd);
    assert_non_null(rt);
    assert_false(rt->established);
    json_decref(crd);

    crd = widget_crd();
    json_object_set_new(crd, "status",
                        json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "conditions", "type",
                                  "NamesAccepted", "status", "True", "type", "Established",
                                  "status", "True"));
    assert_ptr_equal(registry_apply_crd(reg, crd), rt);
    assert_true(rt->established);
    json_decref(crd);

    /* no condition on update: established unchanged */
    crd = widget_crd();
    json_object_set_new(json_object_get(crd, "metadata"), "deletionTimestamp",
                        json_string("2024-01-01T00:00:00Z"));
    assert_ptr_equal(registry_apply_crd(reg, crd), rt);
    assert_true(rt->established);
    assert_true(rt->terminating);
    json_decref(crd);
    registry_free(reg);
}

static void test_apply_crd_rejects(void **state)
{
    registry_t *reg = builtins();
    uint64_t e = registry_epoch(reg);
    size_t n = registry_count(reg);
    static const char *const bad[] = {
        "{}",
        "{\"spec\":{\"names\":{\"plural\":\"xs\",\"kind\":\"X\"},\"versions\":[{\"name\":\"v1\"}]}"
        "}",
        "{\"spec\":{\"group\":\"a.b\",\"names\":{\"kind\":\"X\"},\"versions\":[{\"name\":\"v1\"}]}"
        "}",
        "{\"spec\":{\"group\":\"a.b\",\"names\":{\"plural\":\"xs\"},\"versions\":[{\"name\":\"v1\"}"
        "]}}",
        "{\"spec\":{\"group\":\"a.b\",\"names\":{\"plural\":\"xs\",\"kind\":\"X\"},\"versions\":[]}"
        "}",
        "{\"spec\":{\"group\":\"a.b\",\"names\":{\"plural\":\"xs\",\"kind\":\"X\"},"
        "\"versions\":[{\"served\":true}]}}",
        /* collides with a built-in */
        "{\"spec\":{\"group\":\"apps\",\"names\":{\"plural\":\"deployments\",\"kind\":\"D\"},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *crd = load(bad[i]);
        assert_null(registry_apply_crd(reg, crd));
        assert_int_equal(crd->refcount, 1);
        json_decref(crd);
    }
    assert_int_equal(registry_epoch(reg), e);
    assert_int_equal(registry_count(reg), n);
    assert_string_equal(registry_find(reg, "apps", "deployments")->kind, "Deployment");
    registry_free(reg);
}

static void test_remove_type(void **state)
{
    registry_t *reg = builtins();
    size_t n = registry_count(reg);
    json_t *crd = widget_crd();
    restype_t *rt = registry_apply_crd(reg, crd);
    assert_non_null(rt);
    json_t *crd2 = load("{\"spec\":{\"group\":\"example.org\",\"names\":{\"plural\":\"gadgets\","
                        "\"kind\":\"Gadget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,"
                        "\"storage\":true}]}}");
    restype_t *rt2 = registry_apply_crd(reg, crd2);
    assert_non_null(rt2);
    uint64_t e = registry_epoch(reg);
    registry_remove_type(reg, rt);
    assert_true(registry_epoch(reg) > e);
    assert_int_equal(registry_count(reg), n + 1);
    assert_null(registry_find(reg, "example.com", "widgets"));
    assert_ptr_equal(registry_find(reg, "example.org", "gadgets"), rt2); /* others stay put */
    assert_int_equal(crd->refcount, 1);
    /* removing something not in the registry is a no-op */
    e = registry_epoch(reg);
    registry_remove_type(reg, (restype_t *)&e);
    assert_int_equal(registry_epoch(reg), e);
    /* re-creating after removal gives a fresh type */
    restype_t *again = registry_apply_crd(reg, crd);
    assert_non_null(again);
    assert_null(again->coll);
    json_decref(crd);
    json_decref(crd2);
    registry_free(reg);
}

static void test_epoch_and_cache_slot(void **state)
{
    registry_t *reg = registry_new();
    uint64_t e = registry_epoch(reg);
    registry_add_builtins(reg);
    assert_true(registry_epoch(reg) > e);
    e = registry_epoch(reg);
    registry_touch(reg);
    assert_int_equal(registry_epoch(reg), e + 1);

    assert_null(registry_cache_get(reg));
    char *a = strdup("a"), *b = strdup("b");
    registry_cache_set(reg, a, free);
    assert_ptr_equal(registry_cache_get(reg), a);
    registry_cache_set(reg, b, free); /* frees a */
    assert_ptr_equal(registry_cache_get(reg), b);
    registry_free(reg); /* frees b */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_builtin_flags),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_apply_crd_create),
        cmocka_unit_test(test_apply_crd_update),
        cmocka_unit_test(test_apply_crd_defaults_and_scope),
        cmocka_unit_test(test_apply_crd_established_and_terminating),
        cmocka_unit_test(test_apply_crd_rejects),
        cmocka_unit_test(test_remove_type),
        cmocka_unit_test(test_epoch_and_cache_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
