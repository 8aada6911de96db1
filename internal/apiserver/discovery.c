/* discovery: builds the API discovery documents from the registry: legacy APIVersions,
 * APIGroupList, APIGroup and APIResourceList, and aggregated apidiscovery.k8s.io/v2 lists. Only
 * established types and served versions appear. (OpenAPI v3 lives in openapi.c.) */
#include "apiserver/discovery.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char *const verbs_full[] = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_status[] = {"get", "patch", "update", NULL};
static const char *const verbs_get[] = {"get", NULL};
static const char *const verbs_update[] = {"update", NULL};

typedef struct subres {
    const char *name;
    const char *const *verbs;
} subres_t;

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *strv_json_n(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static bool restype_visible(const restype_t *rt)
{
    return rt && rt->established;
}

/* Subresources of rt at served version ver, in name order; returns their count (<= 4). */
static size_t restype_subresources(const restype_t *rt, const restype_version_t *ver,
                                   subres_t out[4])
{
    size_t n = 0;
    bool core = rt->builtin && rt->group[0] == '\0';
    if (core && !strcmp(rt->plural, "namespaces")) out[n++] = (subres_t){"finalize", verbs_update};
    if (core && !strcmp(rt->plural, "pods")) out[n++] = (subres_t){"log", verbs_get};
    if (ver->has_status) out[n++] = (subres_t){"status", verbs_status};
    return n;
}

/* ---- versions and groups ---------------------------------------------------------------- */

/* Parses "v<major>[(alpha|beta)<minor>]"; rank 2 = GA, 1 = beta, 0 = alpha. */
static bool version_parse(const char *v, long *major, int *rank, long *minor)
{
    if (v[0] != 'v' || v[1] < '1' || v[1] > '9') return false;
    char *end;
    *major = strtol(v + 1, &end, 10);
    *minor = 0;
    if (*end == '\0') {
        *rank = 2;
        return true;
    }
    const char *rest;
    if (!strncmp(end, "beta", 4)) {
        *rank = 1;
        rest = end + 4;
    } else if (!strncmp(end, "alpha", 5)) {
        *rank = 0;
        rest = end + 5;
    } else {
        return false;
    }
    if (*rest < '1' || *rest > '9') return false;
    *minor = strtol(rest, &end, 10);
    return *end == '\0';
}

/* Kube-aware version order (apimachinery CompareKubeAwareVersionStrings): negative when a has
 * the higher priority. v2 > v1 > v2beta1 > v1beta2 > v1alpha1 > other strings (alphabetical). */
static int version_cmp(const char *a, const char *b)
{
    long amaj, amin, bmaj, bmin;
    int arank, brank;
    bool ak = version_parse(a, &amaj, &arank, &amin);
    bool bk = version_parse(b, &bmaj, &brank, &bmin);
    if (!ak && !bk) return strcmp(a, b);
    if (ak != bk) return ak ? -1 : 1;
    if (arank != brank) return brank - arank;
    if (amaj != bmaj) return amaj > bmaj ? -1 : 1;
    if (amin != bmin) return amin > bmin ? -1 : 1;
    return 0;
}

typedef struct gv_group {
    const char *name;      /* borrowed from a restype */
    const char **versions; /* borrowed names, priority order */
    size_t n_versions;
} gv_group_t;

typedef struct gv_groups {
    gv_group_t *g;
    size_t n;
} gv_groups_t;

static void gv_groups_free(gv_groups_t *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].versions);
    free(gs->g);
}

static int version_qsort_cmp(const void *a, const void *b)
{
    return version_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* Groups with at least one served version of a visible type, in registry order (built-ins
 * first). only_group: restrict to that group (NULL: all non-core groups). */
static gv_groups_t gv_groups_collect(const registry_t *reg, const char *only_group)
{
    gv_groups_t gs = {0};
    size_t cnt = registry_count(reg);
    gs.g = calloc(cnt ? cnt : 1, sizeof *gs.g);
    if (!gs.g) abort();
    for (size_t i = 0; i < cnt; i++) {
        const restype_t *rt = registry_at(reg, i);
        if (!restype_visible(rt)) continue;
        if (only_group ? strcmp(rt->group, only_group) != 0 : rt->group[0] == '\0') continue;
        for (size_t j = 0; j < rt->n_versions; j++) {
            const restype_version_t *v = &rt->versions[j];
            if (!v->served) continue;
            gv_group_t *g = NULL;
            for (size_t k = 0; k < gs.n && !g; k++)
                if (!strcmp(gs.g[k].name, rt->group)) g = &gs.g[k];
            if (!g) {
                g = &gs.g[gs.n++];
                g->name = rt->group;
            }
            bool dup = false;
            for (size_t k = 0; k < g->n_versions && !dup; k++)
                dup = !strcmp(g->versions[k], v->name);
            if (dup) continue;
            const char **nv = realloc(g->versions, (g->n_versions + 1) * sizeof *nv);
            if (!nv) abort();
            g->versions = nv;
            g->versions[g->n_versions++] = v->name;
        }
    }
    for (size_t k = 0; k < gs.n; k++)
        qsort(gs.g[k].versions, gs.g[k].n_versions, sizeof(const char *), version_qsort_cmp);
    return gs;
}

static json_t *group_version_json(const char *group, const char *version)
{
    json_t *o = json_object();
    json_object_set_new(o, "groupVersion", json_sprintf("%s/%s", group, version));
    json_object_set_new(o, "version", json_string(version));
    return o;
}

static json_t *api_group_json(const gv_group_t *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(g->name));
    json_t *vs = json_array();
    for (size_t i = 0; i < g->n_versions; i++)
        json_array_append_new(vs, group_version_json(g->name, g->versions[i]));
    json_object_set_new(o, "versions", vs);
    json_object_set_new(o, "preferredVersion", group_version_json(g->name, g->versions[0]));
    return o;
}

/* ---- legacy discovery ------------------------------------------------------------------- */

json_t *discovery_api_versions(const char *server_address)
{
    return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     server_address ? server_address : "");
}

json_t *discovery_group_list(const registry_t *reg)
{
    gv_groups_t gs = gv_groups_collect(reg, NULL);
    json_t *groups = json_array();
    for (size_t i = 0; i < gs.n; i++)
        json_array_append_new(groups, api_group_json(&gs.g[i]));
    gv_groups_free(&gs);
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                     groups);
}

json_t *discovery_group(const registry_t *reg, const char *group)
{
    if (!group || !*group) return NULL;
    gv_groups_t gs = gv_groups_collect(reg, group);
    json_t *out = NULL;
    if (gs.n == 1) {
        out = api_group_json(&gs.g[0]);
        json_object_set_new(out, "kind", json_string("APIGroup"));
        json_object_set_new(out, "apiVersion", json_string("v1"));
    }
    gv_groups_free(&gs);
    return out;
}

/* base64(sha256("group/version/kind")[:8]), as the real server's storageVersionHash. */
static json_t *storage_version_hash(const restype_t *rt)
{
    const restype_version_t *sv = restype_storage_version(rt);
    char buf[512];
    int len = snprintf(buf, sizeof buf, "%s/%s/%s", rt->group, sv ? sv->name : "", rt->kind);
    if (len < 0 || (size_t)len >= sizeof buf) len = (int)sizeof buf - 1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(buf, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
    unsigned char b64[16];
    EVP_EncodeBlock(b64, md, 8);
    return json_string((const char *)b64);
}

static json_t *legacy_resource_json(const restype_t *rt)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(rt->plural));
    json_object_set_new(o, "singularName", json_string(rt->singular));
    json_object_set_new(o, "namespaced", json_boolean(rt->namespaced));
    json_object_set_new(o, "kind", json_string(rt->kind));
    json_object_set_new(o, "verbs", strv_json(verbs_full));
    if (rt->n_short_names)
        json_object_set_new(o, "shortNames", strv_json_n(rt->short_names, rt->n_short_names));
    if (rt->n_categories)
        json_object_set_new(o, "categories", strv_json_n(rt->categories, rt->n_categories));
    json_object_set_new(o, "storageVersionHash", storage_version_hash(rt));
    return o;
}

static json_t *legacy_subresource_json(const restype_t *rt, const subres_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_sprintf("%s/%s", rt->plural, s->name));
    json_object_set_new(o, "singularName", json_string(""));
    json_object_set_new(o, "namespaced", json_boolean(rt->namespaced));
    json_object_set_new(o, "kind", json_string(rt->kind));
    json_object_set_new(o, "verbs", strv_json(s->verbs));
    return o;
}

/* Visible types serving group/version, in plural order. Caller frees the array. */
static const restype_t **types_for_gv(const registry_t *reg, const char *group, const char *version,
                                      size_t *n_out)
{
    size_t cnt = registry_count(reg), n = 0;
    const restype_t **v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) abort();
    for (size_t i = 0; i < cnt; i++) {
        const restype_t *rt = registry_at(reg, i);
        if (restype_visible(rt) && !strcmp(rt->group, group) && restype_version(rt, version))
            v[n++] = rt;
    }
    /* insertion sort by plural: small n */
    for (size_t i = 1; i < n; i++) {
        const restype_t *x = v[i];
        size_t j = i;
        for (; j > 0 && strcmp(v[j - 1]->plural, x->plural) > 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    *n_out = n;
    return v;
}

json_t *discovery_resource_list(const registry_t *reg, const char *group, const char *version)
{
    if (!group || !version) return NULL;
    size_t n;
    const restype_t **types = types_for_gv(reg, group, version, &n);
    if (n == 0) {
        free(types);
        return NULL;
    }
    json_t *resources = json_array();
    for (size_t i = 0; i < n; i++) {
        const restype_t *rt = types[i];
        json_array_append_new(resources, legacy_resource_json(rt));
        subres_t subs[4];
        size_t ns = restype_subresources(rt, restype_version(rt, version), subs);
        for (size_t k = 0; k < ns; k++)
            json_array_append_new(resources, legacy_subresource_json(rt, &subs[k]));
    }
    free(types);
    json_t *gv = group[0] ? json_sprintf("%s/%s", group, version) : json_string(version);
    return json_pack("{s:s, s:s, s:o, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", resources);
}

/* ---- aggregated discovery (apidiscovery.k8s.io/v2) -------------------------------------- */

static json_t *response_kind_json(const restype_t *rt, const char *version)
{
    return json_pack("{s:s, s:s, s:s}", "group", rt->group, "version", version, "kind", rt->kind);
}

static json_t *agg_resource_json(const restype_t *rt, const char *version)
{
    json_t *o = json_object();
    json_object_set_new(o, "resource", json_string(rt->plural));
    json_object_set_new(o, "responseKind", response_kind_json(rt, version));
    json_object_set_new(o, "scope", json_string(rt->namespaced ? "Namespaced" : "Cluster"));
    json_object_set_new(o, "singularResource", json_string(rt->singular));
    json_object_set_new(o, "verbs", strv_json(verbs_full));
    if (rt->n_short_names)
        json_object_set_new(o, "shortNames", strv_json_n(rt->short_names, rt->n_short_names));
    if (rt->n_categories)
        json_object_set_new(o, "categories", strv_json_n(rt->categories, rt->n_categories));
    subres_t subs[4];
    size_t ns = restype_subresources(rt, restype_version(rt, version), subs);
    if (ns) {
        json_t *arr = json_array();
        for (size_t k = 0; k < ns; k++)
            json_array_append_new(arr, json_pack("{s:s, s:o, s:o}", "subresource", subs[k].name,
                                                 "responseKind", response_kind_json(rt, version),
                                                 "verbs", strv_json(subs[k].verbs)));
        json_object_set_new(o, "subresources", arr);
    }
    return o;
}

static json_t *agg_group_json(const registry_t *reg, const gv_group_t *g)
{
    json_t *versions = json_array();
    for (size_t i = 0; i < g->n_versions; i++) {
        size_t n;
        const restype_t **types = types_for_gv(reg, g->name, g->versions[i], &n);
        json_t *resources = json_array();
        for (size_t k = 0; k < n; k++)
            json_array_append_new(resources, agg_resource_json(types[k], g->versions[i]));
        free(types);
        json_array_append_new(versions, json_pack("{s:s, s:o, s:s}", "version", g->versions[i],
                                                  "resources", resources, "freshness", "Current"));
    }
    return json_pack("{s:{s:s, s:n}, s:o}", "metadata", "name", g->name, "creationTimestamp",
                     "versions", versions);
}

json_t *discovery_aggregated(const registry_t *reg, bool core)
{
    gv_groups_t gs = gv_groups_collect(reg, core ? "" : NULL);
    json_t *items = json_array();
    for (size_t i = 0; i < gs.n; i++)
        json_array_append_new(items, agg_group_json(reg, &gs.g[i]));
    gv_groups_free(&gs);
    return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                     "apidiscovery.k8s.io/v2", "metadata", "items", items);
}
