/* Unit tests for apiserver/discovery and openapi: legacy and aggregated discovery documents
 * for the core group and a sample CRD (kinds, verbs, subresources, preferred version first,
 * hidden types), and the OpenAPI v3 index and documents (hashes follow content, GVK
 * extensions, fieldValidation, patch media types, component schemas). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/discovery.h"

/* ---------------------------------------------------------------- helpers */

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j) fprintf(stderr, "bad test json: %s\n", err.text);
    assert_non_null(j);
    return j;
}

/* widgets.example.com: v1 (storage, status subresource) and v1alpha1 (served, no status),
 * listed alpha first so the preferred-version order must come from sorting. */
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
        "{\"type\":\"object\",\"properties\":{\"replicas\":{\"type\":\"integer\"}}},"
        "\"metadata\":{\"type\":\"object\"}}}}},"
        "{\"name\":\"v0\",\"served\":false,\"storage\":false,"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\"}}}]}}");
}

typedef struct fixture {
    registry_t *reg;
    json_t *crd;
    restype_t *widgets;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->reg = registry_new();
    registry_add_builtins(f->reg);
    f->crd = widget_crd();
    f->widgets = registry_apply_crd(f->reg, f->crd);
    assert_non_null(f->widgets);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    registry_free(f->reg);
    json_decref(f->crd);
    free(f);
    return 0;
}

static const char *sget(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *s = sget(e, key);
        if (s && !strcmp(s, value)) return e;
    }
    return NULL;
}

static bool arr_has(json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e) && !strcmp(json_string_value(e), s)) return true;
    }
    return false;
}

static void assert_verbs(json_t *verbs, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++)
        assert_true(arr_has(verbs, want[n]));
    assert_int_equal(json_array_size(verbs), n);
}

static const char *const full_verbs[] = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
static const char *const status_verbs[] = {"get", "patch", "update", NULL};

/* ---------------------------------------------------------------- legacy */

static void test_api_versions(void **state)
{
    json_t *v = discovery_api_versions("127.0.0.1:6443");
    assert_string_equal(sget(v, "kind"), "APIVersions");
    assert_true(arr_has(json_object_get(v, "versions"), "v1"));
    json_t *addr = json_array_get(json_object_get(v, "serverAddressByClientCIDRs"), 0);
    assert_string_equal(sget(addr, "clientCIDR"), "0.0.0.0/0");
    assert_string_equal(sget(addr, "serverAddress"), "127.0.0.1:6443");
    json_decref(v);
}

static void test_group_list(void **state)
{
    fixture_t *f = *state;
    json_t *gl = discovery_group_list(f->reg);
    assert_string_equal(sget(gl, "kind"), "APIGroupList");
    assert_string_equal(sget(gl, "apiVersion"), "v1");
    json_t *groups = json_object_get(gl, "groups");
    assert_null(find_by(groups, "name", "")); /* the core group lives at /api */
    static const char *const want[] = {"apps", "coordination.k8s.io", "rbac.authorization.k8s.io",
                                       "apiextensions.k8s.io", "example.com"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(find_by(groups, "name", want[i]));
    json_t *ex = find_by(groups, "name", "example.com");
    json_t *vs = json_object_get(ex, "versions");
    assert_int_equal(json_array_size(vs), 2); /* v0 is not served */
    assert_string_equal(sget(json_array_get(vs, 0), "version"), "v1");
    assert_string_equal(sget(json_array_get(vs, 0), "groupVersion"), "example.com/v1");
    assert_string_equal(sget(json_array_get(vs, 1), "version"), "v1alpha1");
    json_t *pref = json_object_get(ex, "preferredVersion");
    assert_string_equal(sget(pref, "groupVersion"), "example.com/v1");
    assert_string_equal(sget(pref, "version"), "v1");
    json_decref(gl);

    json_t *g = discovery_group(f->reg, "example.com");
    assert_non_null(g);
    assert_string_equal(sget(g, "kind"), "APIGroup");
    assert_string_equal(sget(g, "apiVersion"), "v1");
    assert_string_equal(sget(g, "name"), "example.com");
    assert_string_equal(sget(json_object_get(g, "preferredVersion"), "version"), "v1");
    json_decref(g);
    assert_null(discovery_group(f->reg, "nosuch.io"));
    assert_null(discovery_group(f->reg, ""));
}

static void test_version_priority(void **state)
{
    registry_t *reg = registry_new();
    json_t *crd = load("{\"spec\":{\"group\":\"v.io\",\"names\":{\"plural\":\"xs\",\"kind\":\"X\"},"
                       "\"versions\":[{\"name\":\"foo\",\"served\":true},"
                       "{\"name\":\"v1alpha1\",\"served\":true},"
                       "{\"name\":\"v10beta3\",\"served\":true},"
                       "{\"name\":\"v2\",\"served\":true,\"storage\":true},"
                       "{\"name\":\"v11beta2\",\"served\":true},"
                       "{\"name\":\"v10\",\"served\":true},"
                       "{\"name\":\"v12alpha1\",\"served\":true}]}}");
    assert_non_null(registry_apply_crd(reg, crd));
    json_t *g = discovery_group(reg, "v.io");
    static const char *const order[] = {"v10",       "v2",       "v11beta2", "v10beta3",
                                        "v12alpha1", "v1alpha1", "foo"};
    json_t *vs = json_object_get(g, "versions");
    assert_int_equal(json_array_size(vs), 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(sget(json_array_get(vs, i), "version"), order[i]);
    json_decref(g);
    json_decref(crd);
    registry_free(reg);
}

static void test_core_resource_list(void **state)
{
    fixture_t *f = *state;
    json_t *rl = discovery_resource_list(f->reg, "", "v1");
    assert_non_null(rl);
    assert_string_equal(sget(rl, "kind"), "APIResourceList");
    assert_string_equal(sget(rl, "apiVersion"), "v1");
    assert_string_equal(sget(rl, "groupVersion"), "v1");
    json_t *res = json_object_get(rl, "resources");

    json_t *pods = find_by(res, "name", "pods");
    assert_non_null(pods);
    assert_string_equal(sget(pods, "singularName"), "pod");
    assert_string_equal(sget(pods, "kind"), "Pod");
    assert_true(json_is_true(json_object_get(pods, "namespaced")));
    assert_verbs(json_object_get(pods, "verbs"), full_verbs);
    assert_true(arr_has(json_object_get(pods, "shortNames"), "po"));
    assert_true(arr_has(json_object_get(pods, "categories"), "all"));
    assert_non_null(sget(pods, "storageVersionHash"));

    json_t *log = find_by(res, "name", "pods/log");
    assert_non_null(log);
    assert_string_equal(sget(log, "kind"), "Pod");
    assert_string_equal(sget(log, "singularName"), "");
    static const char *const get_only[] = {"get", NULL};
    assert_verbs(json_object_get(log, "verbs"), get_only);
    assert_verbs(json_object_get(find_by(res, "name", "pods/status"), "verbs"), status_verbs);

    json_t *ns = find_by(res, "name", "namespaces");
    assert_true(json_is_false(json_object_get(ns, "namespaced")));
    assert_true(arr_has(json_object_get(ns, "shortNames"), "ns"));
    json_t *fin = find_by(res, "name", "namespaces/finalize");
    static const char *const update_only[] = {"update", NULL};
    assert_verbs(json_object_get(fin, "verbs"), update_only);
    assert_true(json_is_false(json_object_get(fin, "namespaced")));
    assert_verbs(json_object_get(find_by(res, "name", "namespaces/status"), "verbs"), status_verbs);

    json_t *ev = find_by(res, "name", "events");
    assert_verbs(json_object_get(ev, "verbs"), full_verbs);
    assert_non_null(find_by(res, "name", "configmaps"));
    assert_null(find_by(res, "name", "configmaps/status"));
    assert_null(json_object_get(find_by(res, "name", "configmaps"), "categories"));
    assert_non_null(find_by(res, "name", "services/status"));
    assert_null(find_by(res, "name", "deployments")); /* other group */
    json_decref(rl);

    json_t *apps = discovery_resource_list(f->reg, "apps", "v1");
    assert_string_equal(sget(apps, "groupVersion"), "apps/v1");
    json_t *ares = json_object_get(apps, "resources");
    assert_non_null(find_by(ares, "name", "deployments"));
    assert_non_null(find_by(ares, "name", "deployments/status"));
    assert_true(
        arr_has(json_object_get(find_by(ares, "name", "deployments"), "shortNames"), "deploy"));
    json_decref(apps);
    assert_null(discovery_resource_list(f->reg, "", "v2"));
    assert_null(discovery_resource_list(f->reg, "apps", "v1beta1"));
    assert_null(discovery_resource_list(f->reg, "nosuch.io", "v1"));
}

static void test_crd_resource_list(void **state)
{
    fixture_t *f = *state;
    json_t *rl = discovery_resource_list(f->reg, "example.com", "v1");
    assert_non_null(rl);
    assert_string_equal(sget(rl, "groupVersion"), "example.com/v1");
    json_t *res = json_object_get(rl, "resources");
    assert_int_equal(json_array_size(res), 2);
    json_t *w = find_by(res, "name", "widgets");
    assert_string_equal(sget(w, "singularName"), "widget");
    assert_string_equal(sget(w, "kind"), "Widget");
    assert_true(json_is_true(json_object_get(w, "namespaced")));
    assert_verbs(json_object_get(w, "verbs"), full_verbs);
    assert_true(arr_has(json_object_get(w, "shortNames"), "wg"));
    assert_true(arr_has(json_object_get(w, "categories"), "all"));
    json_t *st = find_by(res, "name", "widgets/status");
    assert_string_equal(sget(st, "kind"), "Widget");
    assert_verbs(json_object_get(st, "verbs"), status_verbs);
    json_decref(rl);

    rl = discovery_resource_list(f->reg, "example.com", "v1alpha1");
    assert_non_null(rl);
    assert_int_equal(json_array_size(json_object_get(rl, "resources")), 1); /* no status there */
    json_decref(rl);
    assert_null(discovery_resource_list(f->reg, "example.com", "v0")); /* not served */

    /* not established: hidden everywhere */
    f->widgets->established = false;
    assert_null(discovery_resource_list(f->reg, "example.com", "v1"));
    assert_null(discovery_group(f->reg, "example.com"));
    json_t *gl = discovery_group_list(f->reg);
    assert_null(find_by(json_object_get(gl, "groups"), "name", "example.com"));
    json_decref(gl);
    f->widgets->established = true;
}

/* ---------------------------------------------------------------- aggregated */

static void test_aggregated(void **state)
{
    fixture_t *f = *state;
    json_t *core = discovery_aggregated(f->reg, true);
    assert_string_equal(sget(core, "kind"), "APIGroupDiscoveryList");
    assert_string_equal(sget(core, "apiVersion"), "apidiscovery.k8s.io/v2");
    assert_true(json_is_object(json_object_get(core, "metadata")));
    json_t *items = json_object_get(core, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *cg = json_array_get(items, 0);
    assert_string_equal(sget(json_object_get(cg, "metadata"), "name"), "");
    json_t *v1 = json_array_get(json_object_get(cg, "versions"), 0);
    assert_string_equal(sget(v1, "version"), "v1");
    assert_string_equal(sget(v1, "freshness"), "Current");
    json_t *res = json_object_get(v1, "resources");
    json_t *pods = find_by(res, "resource", "pods");
    assert_non_null(pods);
    assert_string_equal(sget(pods, "scope"), "Namespaced");
    assert_string_equal(sget(pods, "singularResource"), "pod");
    json_t *rk = json_object_get(pods, "responseKind");
    assert_string_equal(sget(rk, "group"), "");
    assert_string_equal(sget(rk, "version"), "v1");
    assert_string_equal(sget(rk, "kind"), "Pod");
    assert_verbs(json_object_get(pods, "verbs"), full_verbs);
    json_t *subs = json_object_get(pods, "subresources");
    assert_non_null(find_by(subs, "subresource", "log"));
    json_t *pst = find_by(subs, "subresource", "status");
    assert_verbs(json_object_get(pst, "verbs"), status_verbs);
    assert_string_equal(sget(json_object_get(pst, "responseKind"), "kind"), "Pod");
    json_t *ns = find_by(res, "resource", "namespaces");
    assert_string_equal(sget(ns, "scope"), "Cluster");
    assert_non_null(find_by(json_object_get(ns, "subresources"), "subresource", "finalize"));
    assert_null(json_object_get(find_by(res, "resource", "configmaps"), "subresources"));
    json_decref(core);

    json_t *all = discovery_aggregated(f->reg, false);
    items = json_object_get(all, "items");
    size_t i;
    json_t *it, *ex = NULL;
    json_array_foreach(items, i, it)
    {
        const char *name = sget(json_object_get(it, "metadata"), "name");
        assert_string_not_equal(name, "");
        if (!strcmp(name, "example.com")) ex = it;
    }
    assert_non_null(ex);
    json_t *vs = json_object_get(ex, "versions");
    assert_int_equal(json_array_size(vs), 2);
    assert_string_equal(sget(json_array_get(vs, 0), "version"), "v1"); /* preferred first */
    assert_string_equal(sget(json_array_get(vs, 1), "version"), "v1alpha1");
    json_t *w = find_by(json_object_get(json_array_get(vs, 0), "resources"), "resource", "widgets");
    assert_string_equal(sget(json_object_get(w, "responseKind"), "group"), "example.com");
    assert_string_equal(sget(json_object_get(w, "responseKind"), "version"), "v1");
    assert_true(arr_has(json_object_get(w, "shortNames"), "wg"));
    assert_non_null(find_by(json_object_get(w, "subresources"), "subresource", "status"));
    json_t *wa =
        find_by(json_object_get(json_array_get(vs, 1), "resources"), "resource", "widgets");
    assert_null(json_object_get(wa, "subresources"));
    json_decref(all);
}

/* ---------------------------------------------------------------- openapi */

static const char *index_url(json_t *idx, const char *gv)
{
    return sget(json_object_get(json_object_get(idx, "paths"), gv), "serverRelativeURL");
}

static void test_openapi_index(void **state)
{
    fixture_t *f = *state;
    json_t *idx = openapi_v3_index(f->reg);
    static const char *const gvs[] = {"api/v1",
                                      "apis/apps/v1",
                                      "apis/coordination.k8s.io/v1",
                                      "apis/rbac.authorization.k8s.io/v1",
                                      "apis/apiextensions.k8s.io/v1",
                                      "apis/example.com/v1",
                                      "apis/example.com/v1alpha1"};
    for (size_t i = 0; i < sizeof gvs / sizeof gvs[0]; i++) {
        const char *url = index_url(idx, gvs[i]);
        assert_non_null(url);
        char prefix[256];
        snprintf(prefix, sizeof prefix, "/openapi/v3/%s?hash=", gvs[i]);
        assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
        assert_true(strlen(url) > strlen(prefix) + 15);
        const char *hash = NULL;
        size_t len = 0;
        const char *text = openapi_v3_document_text(f->reg, gvs[i], &len, &hash);
        assert_non_null(text);
        assert_int_equal(len, strlen(text));
        assert_string_equal(hash, url + strlen(prefix));
    }
    assert_null(index_url(idx, "apis/example.com/v0"));
    /* stable while nothing changes */
    json_t *idx2 = openapi_v3_index(f->reg);
    assert_true(json_equal(idx, idx2));
    json_decref(idx2);
    json_decref(idx);
}

static void test_openapi_hash_follows_content(void **state)
{
    fixture_t *f = *state;
    json_t *idx = openapi_v3_index(f->reg);
    char *h_core = strdup(index_url(idx, "api/v1"));
    char *h_ex = strdup(index_url(idx, "apis/example.com/v1"));
    char *h_exa = strdup(index_url(idx, "apis/example.com/v1alpha1"));
    json_decref(idx);

    /* change the v1 schema of the CRD */
    json_t *crd2 = widget_crd();
    json_t *v1 = json_array_get(json_object_get(json_object_get(crd2, "spec"), "versions"), 1);
    json_t *props = json_object_get(
        json_object_get(json_object_get(json_object_get(v1, "schema"), "openAPIV3Schema"),
                        "properties"),
        "spec");
    json_object_set_new(json_object_get(props, "properties"), "color",
                        json_pack("{s:s}", "type", "string"));
    assert_ptr_equal(registry_apply_crd(f->reg, crd2), f->widgets);
    idx = openapi_v3_index(f->reg);
    assert_string_not_equal(index_url(idx, "apis/example.com/v1"), h_ex);
    assert_string_equal(index_url(idx, "apis/example.com/v1alpha1"), h_exa);
    assert_string_equal(index_url(idx, "api/v1"), h_core);
    json_t *doc = openapi_v3_document(f->reg, "apis/example.com/v1");
    json_t *schema = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                     "com.example.v1.Widget");
    assert_non_null(json_object_get(
        json_object_get(json_object_get(json_object_get(schema, "properties"), "spec"),
                        "properties"),
        "color"));
    json_decref(doc);
    json_decref(idx);

    /* re-applying identical content gives the same hash again (content, not epoch) */
    json_t *crd3 = json_deep_copy(crd2);
    registry_apply_crd(f->reg, crd3);
    idx = openapi_v3_index(f->reg);
    char *h_ex2 = strdup(index_url(idx, "apis/example.com/v1"));
    json_decref(idx);
    registry_apply_crd(f->reg, crd2);
    idx = openapi_v3_index(f->reg);
    assert_string_equal(index_url(idx, "apis/example.com/v1"), h_ex2);
    json_decref(idx);

    /* flipping `established` directly (no registry call) still refreshes the cache */
    f->widgets->established = false;
    idx = openapi_v3_index(f->reg);
    assert_null(index_url(idx, "apis/example.com/v1"));
    assert_null(openapi_v3_document(f->reg, "apis/example.com/v1"));
    json_decref(idx);
    f->widgets->established = true;

    /* removal drops the group-version */
    json_t *crd_ref = f->crd;
    registry_remove_type(f->reg, f->widgets);
    f->widgets = NULL;
    idx = openapi_v3_index(f->reg);
    assert_null(index_url(idx, "apis/example.com/v1"));
    assert_string_equal(index_url(idx, "api/v1"), h_core);
    json_decref(idx);
    /* put it back for teardown symmetry */
    f->widgets = registry_apply_crd(f->reg, crd_ref);
    assert_non_null(f->widgets);

    json_decref(crd2);
    json_decref(crd3);
    free(h_core);
    free(h_ex);
    free(h_exa);
    free(h_ex2);
}

static bool op_has_query_param(json_t *op, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p)
    {
        if (!strcmp(sget(p, "name"), name) && !strcmp(sget(p, "in"), "query")) return true;
    }
    return false;
}

static bool gvk_obj_matches(json_t *gvk, const char *group, const char *version, const char *kind)
{
    return json_is_object(gvk) && !strcmp(sget(gvk, "group"), group) &&
           !strcmp(sget(gvk, "version"), version) && !strcmp(sget(gvk, "kind"), kind);
}

/* Checks every kind of one group-version the way kubectl does: a path whose patch operation
 * has the GVK object and the fieldValidation parameter, and a component schema with the GVK
 * array. */
static void check_doc_kinds(const registry_t *reg, const char *group, const char *version)
{
    char gvpath[256];
    if (group[0])
        snprintf(gvpath, sizeof gvpath, "apis/%s/%s", group, version);
    else
        snprintf(gvpath, sizeof gvpath, "api/%s", version);
    json_t *doc = openapi_v3_document(reg, gvpath);
    assert_non_null(doc);
    assert_string_equal(sget(doc, "openapi"), "3.0.0");
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    assert_non_null(json_object_get(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    size_t kinds = 0;
    for (size_t i = 0; i < registry_count(reg); i++) {
        const restype_t *rt = registry_at(reg, i);
        if (strcmp(rt->group, group) || !rt->established || !restype_version(rt, version)) continue;
        kinds++;
        size_t patch_ops = 0, verbs_seen = 0;
        const char *path;
        json_t *item;
        json_object_foreach(paths, path, item)
        {
            const char *methods[] = {"get", "put", "post", "patch", "delete"};
            for (size_t m = 0; m < 5; m++) {
                json_t *op = json_object_get(item, methods[m]);
                if (!op) continue;
                json_t *gvk = json_object_get(op, "x-kubernetes-group-version-kind");
                assert_true(json_is_object(gvk));
                assert_non_null(sget(op, "operationId"));
                assert_non_null(sget(op, "x-kubernetes-action"));
                if (!gvk_obj_matches(gvk, group, version, rt->kind)) continue;
                verbs_seen |= 1u << m;
                if (m == 1 || m == 2 || m == 3) {
                    assert_true(op_has_query_param(op, "fieldValidation"));
                    assert_true(op_has_query_param(op, "dryRun"));
                    assert_true(op_has_query_param(op, "fieldManager"));
                }
                if (m != 3) continue;
                patch_ops++;
                assert_string_equal(sget(op, "x-kubernetes-action"), "patch");
                json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");
                assert_non_null(json_object_get(content, "application/json-patch+json"));
                assert_non_null(json_object_get(content, "application/merge-patch+json"));
                assert_non_null(json_object_get(content, "application/apply-patch+yaml"));
                if (!rt->smp_allowed)
                    assert_null(json_object_get(content, "application/strategic-merge-patch+json"));
            }
        }
        assert_true(patch_ops >= 1);
        assert_int_equal(verbs_seen, 0x1f);
        /* the component schema with the GVK array */
        const char *name;
        json_t *s, *found = NULL;
        json_object_foreach(schemas, name, s)
        {
            json_t *arr = json_object_get(s, "x-kubernetes-group-version-kind");
            if (json_is_array(arr) &&
                gvk_obj_matches(json_array_get(arr, 0), group, version, rt->kind))
                found = s;
        }
        assert_non_null(found);
        json_t *props = json_object_get(found, "properties");
        assert_non_null(json_object_get(props, "apiVersion"));
        assert_non_null(json_object_get(props, "kind"));
        assert_non_null(json_object_get(props, "metadata"));
    }
    assert_true(kinds > 0);
    json_decref(doc);
}

static void test_openapi_documents(void **state)
{
    fixture_t *f = *state;
    check_doc_kinds(f->reg, "", "v1");
    check_doc_kinds(f->reg, "apps", "v1");
    check_doc_kinds(f->reg, "coordination.k8s.io", "v1");
    check_doc_kinds(f->reg, "rbac.authorization.k8s.io", "v1");
    check_doc_kinds(f->reg, "apiextensions.k8s.io", "v1");
    check_doc_kinds(f->reg, "example.com", "v1");
    check_doc_kinds(f->reg, "example.com", "v1alpha1");

    json_t *doc = openapi_v3_document(f->reg, "apis/example.com/v1");
    json_t *paths = json_object_get(doc, "paths");
    assert_non_null(json_object_get(paths, "/apis/example.com/v1/namespaces/{namespace}/widgets"));
    json_t *item =
        json_object_get(paths, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}");
    assert_non_null(item);
    assert_string_equal(sget(json_object_get(item, "patch"), "operationId"),
                        "patchExampleComV1NamespacedWidget");
    assert_non_null(json_object_get(
        paths, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status"));
    assert_non_null(json_object_get(paths, "/apis/example.com/v1/widgets"));
    json_t *schema = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                     "com.example.v1.Widget");
    assert_non_null(schema);
    json_t *props = json_object_get(schema, "properties");
    json_t *spec_props = json_object_get(json_object_get(props, "spec"), "properties");
    assert_string_equal(sget(json_object_get(spec_props, "replicas"), "type"), "integer");
    /* metadata is the ObjectMeta reference, not the CRD's {type: object} */
    json_t *md = json_object_get(props, "metadata");
    assert_string_equal(sget(json_array_get(json_object_get(md, "allOf"), 0), "$ref"),
                        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    /* the CRD's own schema is not modified by the copy */
    json_t *crd_v1 =
        json_array_get(json_object_get(json_object_get(f->crd, "spec"), "versions"), 1);
    json_t *orig = json_object_get(json_object_get(crd_v1, "schema"), "openAPIV3Schema");
    assert_null(json_object_get(orig, "x-kubernetes-group-version-kind"));
    assert_null(json_object_get(json_object_get(orig, "properties"), "apiVersion"));
    json_decref(doc);

    /* cluster-scoped built-in: no namespace segment; namespaces have finalize, pods log */
    doc = openapi_v3_document(f->reg, "api/v1");
    paths = json_object_get(doc, "paths");
    assert_non_null(json_object_get(paths, "/api/v1/namespaces/{name}"));
    assert_non_null(json_object_get(paths, "/api/v1/namespaces/{name}/status"));
    assert_non_null(json_object_get(paths, "/api/v1/namespaces/{name}/finalize"));
    assert_non_null(json_object_get(paths, "/api/v1/namespaces/{namespace}/pods/{name}/log"));
    assert_string_equal(
        sget(json_object_get(json_object_get(paths, "/api/v1/namespaces/{namespace}/pods/{name}"),
                             "patch"),
             "operationId"),
        "patchCoreV1NamespacedPod");
    assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                    "io.k8s.api.core.v1.Pod"));
    json_decref(doc);
    doc = openapi_v3_document(f->reg, "/apis/apiextensions.k8s.io/v1"); /* leading '/' ok */
    assert_non_null(doc);
    assert_non_null(json_object_get(
        json_object_get(json_object_get(doc, "components"), "schemas"),
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"));
    json_decref(doc);

    /* the returned document is the caller's: changing it does not touch the cache */
    doc = openapi_v3_document(f->reg, "apis/apps/v1");
    json_object_clear(doc);
    json_decref(doc);
    doc = openapi_v3_document(f->reg, "apis/apps/v1");
    assert_non_null(json_object_get(doc, "paths"));
    json_decref(doc);

    static const char *const bad[] = {"api/v2",   "apis/apps", "apis/apps/v1/x",
                                      "apis//v1", "nosuch",    "apis/example.com/v0",
                                      "",         "api/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(openapi_v3_document(f->reg, bad[i]));
        assert_null(openapi_v3_document_text(f->reg, bad[i], NULL, NULL));
    }
    assert_null(openapi_v3_document(f->reg, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_versions),
        cmocka_unit_test_setup_teardown(test_group_list, setup, teardown),
        cmocka_unit_test(test_version_priority),
        cmocka_unit_test_setup_teardown(test_core_resource_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crd_resource_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_hash_follows_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_documents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
