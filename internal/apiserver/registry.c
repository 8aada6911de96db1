/* registry: owns the table of resource types localcluster serves: the built-in kinds (built once
 * from a static descriptor table) and the custom-resource types made from CRDs. Knows nothing of
 * objects: collections (`coll`) belong to the store, which allocates and frees them. */
#include "apiserver/registry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registry {
    restype_t **types; /* stable pointers: other modules keep restype_t * */
    size_t n, cap;
    uint64_t epoch;
    void *cache; /* openapi's derived-document cache; see registry_cache_get */
    void (*cache_free)(void *);
};

/* ---- built-in descriptor table ---------------------------------------------------------- */

enum {
    BI_NS = 1 << 0,     /* namespaced */
    BI_STATUS = 1 << 1, /* status subresource */
    BI_GEN = 1 << 2,    /* tracks metadata.generation */
    BI_RDO = 1 << 3,    /* DELETE returns the deleted object */
    BI_DNS = 1 << 4,    /* names are DNS-1123 labels */
    BI_NOSMP = 1 << 5,  /* no strategic merge patch (CRDs) */
};

typedef struct builtin_desc {
    const char *group, *version, *plural, *singular, *kind;
    const char *short_names; /* comma-separated or NULL */
    const char *categories;  /* comma-separated or NULL */
    unsigned flags;
    const char *const *field_selectors;
} builtin_desc_t;

static const char *const fs_namespaces[] = {"status.phase", NULL};
static const char *const fs_pods[] = {"spec.nodeName",
                                      "spec.restartPolicy",
                                      "spec.schedulerName",
                                      "spec.serviceAccountName",
                                      "spec.hostNetwork",
                                      "status.phase",
                                      "status.podIP",
                                      "status.nominatedNodeName",
                                      NULL};
static const char *const fs_secrets[] = {"type", NULL};
static const char *const fs_events[] = {"involvedObject.kind",
                                        "involvedObject.namespace",
                                        "involvedObject.name",
                                        "involvedObject.uid",
                                        "involvedObject.apiVersion",
                                        "involvedObject.resourceVersion",
                                        "involvedObject.fieldPath",
                                        "reason",
                                        "reportingComponent",
                                        "source",
                                        "type",
                                        NULL};
static const char *const fs_nodes[] = {"spec.unschedulable", NULL};
static const char *const fs_replicasets[] = {"status.replicas", NULL};
static const char *const fs_jobs[] = {"status.successful", NULL};

/* Generation tracking follows the 1.32 strategies (PrepareForCreate sets generation 1): the
 * apps workloads, batch jobs and cronjobs, PodDisruptionBudgets, NetworkPolicies, Ingresses and
 * CRDs do; pods, configmaps, leases, namespaces, services, RBAC objects do not. */
static const builtin_desc_t builtins[] = {
    {"", "v1", "namespaces", "namespace", "Namespace", "ns", NULL, BI_STATUS | BI_RDO | BI_DNS,
     fs_namespaces},
    {"", "v1", "pods", "pod", "Pod", "po", "all", BI_NS | BI_STATUS | BI_RDO, fs_pods},
    {"", "v1", "services", "service", "Service", "svc", "all", BI_NS | BI_STATUS | BI_DNS, NULL},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "sa", NULL, BI_NS | BI_RDO,
     NULL},
    {"", "v1", "configmaps", "configmap", "ConfigMap", "cm", NULL, BI_NS, NULL},
    {"", "v1", "secrets", "secret", "Secret", NULL, NULL, BI_NS, fs_secrets},
    {"", "v1", "events", "event", "Event", "ev", NULL, BI_NS, fs_events},
    {"", "v1", "nodes", "node", "Node", "no", NULL, BI_STATUS, fs_nodes},
    {"", "v1", "endpoints", "endpoints", "Endpoints", "ep", NULL, BI_NS, NULL},
    {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", "pvc",
     NULL, BI_NS | BI_STATUS, NULL},
    {"apps", "v1", "deployments", "deployment", "Deployment", "deploy", "all",
     BI_NS | BI_STATUS | BI_GEN, NULL},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", "rs", "all",
     BI_NS | BI_STATUS | BI_GEN, fs_replicasets},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", "sts", "all",
     BI_NS | BI_STATUS | BI_GEN, NULL},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", "ds", "all", BI_NS | BI_STATUS | BI_GEN,
     NULL},
    {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", NULL, NULL,
     BI_NS, NULL},
    {"batch", "v1", "jobs", "job", "Job", NULL, "all", BI_NS | BI_STATUS | BI_GEN, fs_jobs},
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", "cj", "all", BI_NS | BI_STATUS | BI_GEN,
     NULL},
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", NULL, NULL, BI_NS, NULL},
    {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", "pdb",
     NULL, BI_NS | BI_STATUS | BI_GEN, NULL},
    {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", "netpol", NULL,
     BI_NS | BI_GEN, NULL},
    {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", "ing", NULL,
     BI_NS | BI_STATUS | BI_GEN, NULL},
    {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", NULL, NULL, BI_NS, NULL},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", NULL, NULL,
     BI_NS, NULL},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", NULL, NULL, 0,
     NULL},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", NULL, NULL, 0, NULL},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", "crd,crds", "api-extensions", BI_STATUS | BI_GEN | BI_NOSMP, NULL},
};

/* ---- helpers ---------------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) abort();
    return p;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Splits "a,b,c" into a new string vector. */
static char **strv_from_csv(const char *csv, size_t *n_out)
{
    *n_out = 0;
    if (!csv || !*csv) return NULL;
    size_t n = 1;
    for (const char *p = csv; *p; p++)
        n += *p == ',';
    char **v = xcalloc(n, sizeof *v);
    const char *s = csv;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        v[i] = strndup(s, len);
        if (!v[i]) abort();
        s = e ? e + 1 : s + len;
    }
    *n_out = n;
    return v;
}

/* Copies the strings of a JSON array (non-strings skipped). */
static char **strv_from_json(json_t *arr, size_t *n_out)
{
    *n_out = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0) return NULL;
    char **v = xcalloc(json_array_size(arr), sizeof *v);
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e)) v[n++] = xstrdup(json_string_value(e));
    }
    if (n == 0) {
        free(v);
        return NULL;
    }
    *n_out = n;
    return v;
}

static void versions_free(restype_version_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

static void restype_free(restype_t *rt)
{
    if (!rt) return;
    free(rt->group);
    free(rt->plural);
    free(rt->singular);
    free(rt->kind);
    free(rt->list_kind);
    strv_free(rt->short_names, rt->n_short_names);
    strv_free(rt->categories, rt->n_categories);
    versions_free(rt->versions, rt->n_versions);
    json_decref(rt->crd);
    free(rt);
}

static void registry_push(registry_t *reg, restype_t *rt)
{
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 32;
        restype_t **t = realloc(reg->types, cap * sizeof *t);
        if (!t) abort();
        reg->types = t;
        reg->cap = cap;
    }
    reg->types[reg->n++] = rt;
}

static void registry_changed(registry_t *reg)
{
    reg->epoch++;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

registry_t *registry_new(void)
{
    registry_t *reg = xcalloc(1, sizeof *reg);
    reg->epoch = 1;
    return reg;
}

void registry_free(registry_t *reg)
{
    if (!reg) return;
    for (size_t i = 0; i < reg->n; i++)
        restype_free(reg->types[i]);
    free(reg->types);
    if (reg->cache && reg->cache_free) reg->cache_free(reg->cache);
    free(reg);
}

static restype_t *restype_from_builtin(const builtin_desc_t *d)
{
    restype_t *rt = xcalloc(1, sizeof *rt);
    rt->group = xstrdup(d->group);
    rt->plural = xstrdup(d->plural);
    rt->singular = xstrdup(d->singular);
    rt->kind = xstrdup(d->kind);
    size_t klen = strlen(d->kind);
    rt->list_kind = xcalloc(klen + 5, 1);
    memcpy(rt->list_kind, d->kind, klen);
    memcpy(rt->list_kind + klen, "List", 5);
    rt->short_names = strv_from_csv(d->short_names, &rt->n_short_names);
    rt->categories = strv_from_csv(d->categories, &rt->n_categories);
    rt->namespaced = d->flags & BI_NS;
    rt->builtin = true;
    rt->tracks_generation = d->flags & BI_GEN;
    rt->return_deleted_object = d->flags & BI_RDO;
    rt->name_is_dns_label = d->flags & BI_DNS;
    rt->smp_allowed = !(d->flags & BI_NOSMP);
    rt->field_selectors = d->field_selectors;
    rt->versions = xcalloc(1, sizeof *rt->versions);
    rt->n_versions = 1;
    rt->versions[0].name = xstrdup(d->version);
    rt->versions[0].served = true;
    rt->versions[0].storage = true;
    rt->versions[0].has_status = d->flags & BI_STATUS;
    rt->established = true;
    return rt;
}

void registry_add_builtins(registry_t *reg)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (registry_find(reg, builtins[i].group, builtins[i].plural)) continue;
        registry_push(reg, restype_from_builtin(&builtins[i]));
    }
    registry_changed(reg);
}

/* ---- lookups ---------------------------------------------------------------------------- */

size_t registry_count(const registry_t *reg)
{
    return reg->n;
}

restype_t *registry_at(const registry_t *reg, size_t i)
{
    return i < reg->n ? reg->types[i] : NULL;
}

restype_t *registry_find(const registry_t *reg, const char *group, const char *plural)
{
    if (!group || !plural) return NULL;
    for (size_t i = 0; i < reg->n; i++) {
        restype_t *rt = reg->types[i];
        if (!strcmp(rt->group, group) && !strcmp(rt->plural, plural)) return rt;
    }
    return NULL;
}

restype_t *registry_find_kind(const registry_t *reg, const char *group, const char *kind)
{
    if (!group || !kind) return NULL;
    for (size_t i = 0; i < reg->n; i++) {
        restype_t *rt = reg->types[i];
        if (!strcmp(rt->group, group) && !strcmp(rt->kind, kind)) return rt;
    }
    return NULL;
}

static bool restype_matches_name(const restype_t *rt, const char *name)
{
    if (!strcmp(rt->plural, name) || !strcmp(rt->singular, name) || !strcasecmp(rt->kind, name))
        return true;
    for (size_t i = 0; i < rt->n_short_names; i++)
        if (!strcmp(rt->short_names[i], name)) return true;
    return false;
}

restype_t *registry_resolve(const registry_t *reg, const char *group, const char *name)
{
    if (!name) return NULL;
    /* Plurals win over other names, as in kubectl's RESTMapper. */
    for (size_t i = 0; i < reg->n; i++) {
        restype_t *rt = reg->types[i];
        if ((!group || !strcmp(rt->group, group)) && !strcmp(rt->plural, name)) return rt;
    }
    for (size_t i = 0; i < reg->n; i++) {
        restype_t *rt = reg->types[i];
        if ((!group || !strcmp(rt->group, group)) && restype_matches_name(rt, name)) return rt;
    }
    return NULL;
}

restype_version_t *restype_version(const restype_t *rt, const char *version)
{
    if (!rt || !version) return NULL;
    for (size_t i = 0; i < rt->n_versions; i++)
        if (rt->versions[i].served && !strcmp(rt->versions[i].name, version))
            return &rt->versions[i];
    return NULL;
}

restype_version_t *restype_storage_version(const restype_t *rt)
{
    if (!rt) return NULL;
    for (size_t i = 0; i < rt->n_versions; i++)
        if (rt->versions[i].storage) return &rt->versions[i];
    return rt->n_versions ? &rt->versions[0] : NULL;
}

uint64_t registry_epoch(const registry_t *reg)
{
    return reg->epoch;
}

void registry_touch(registry_t *reg)
{
    registry_changed(reg);
}

void *registry_cache_get(const registry_t *reg)
{
    return reg->cache;
}

void registry_cache_set(const registry_t *reg, void *cache, void (*free_fn)(void *))
{
    /* The cache is derived state, not part of what the registry describes: the registry object
     * is never const itself (registry_new allocates it), so this cast is well-defined. */
    registry_t *r = (registry_t *)reg;
    if (r->cache && r->cache_free && r->cache != cache) r->cache_free(r->cache);
    r->cache = cache;
    r->cache_free = free_fn;
}

/* ---- CRD types -------------------------------------------------------------------------- */

static const char *jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* Established unless the CRD says otherwise: an Established condition whose status is not
 * "True" marks the type as not serving; no such condition keeps `dflt`. */
static bool crd_established(json_t *crd, bool dflt)
{
    json_t *conds = json_object_get(json_object_get(crd, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *type = jstr(c, "type");
        if (type && !strcmp(type, "Established")) {
            const char *st = jstr(c, "status");
            return st && !strcmp(st, "True");
        }
    }
    return dflt;
}

static bool crd_terminating(json_t *crd)
{
    json_t *md = json_object_get(crd, "metadata");
    json_t *dt = json_object_get(md, "deletionTimestamp");
    if (dt && !json_is_null(dt)) return true;
    json_t *conds = json_object_get(json_object_get(crd, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *type = jstr(c, "type");
        const char *st = jstr(c, "status");
        if (type && st && !strcmp(type, "Terminating") && !strcmp(st, "True")) return true;
    }
    return false;
}

/* Builds the version array of a CRD; fields borrow from `crd`. NULL if it has no named version. */
static restype_version_t *crd_versions(json_t *crd, size_t *n_out)
{
    json_t *vers = json_object_get(json_object_get(crd, "spec"), "versions");
    *n_out = 0;
    if (!json_is_array(vers) || json_array_size(vers) == 0) return NULL;
    restype_version_t *v = xcalloc(json_array_size(vers), sizeof *v);
    size_t i, n = 0;
    bool have_storage = false;
    json_t *e;
    json_array_foreach(vers, i, e)
    {
        const char *name = jstr(e, "name");
        if (!name) continue;
        restype_version_t *rv = &v[n++];
        rv->name = xstrdup(name);
        rv->served = json_is_true(json_object_get(e, "served"));
        rv->storage = !have_storage && json_is_true(json_object_get(e, "storage"));
        have_storage |= rv->storage;
        json_t *sub = json_object_get(e, "subresources");
        rv->has_status = json_is_object(json_object_get(sub, "status"));
        json_t *schema = json_object_get(json_object_get(e, "schema"), "openAPIV3Schema");
        rv->schema = json_is_object(schema) ? schema : NULL;
        json_t *cols = json_object_get(e, "additionalPrinterColumns");
        rv->printer_columns = json_is_array(cols) ? cols : NULL;
        json_t *sel = json_object_get(e, "selectableFields");
        rv->selectable_fields = json_is_array(sel) ? sel : NULL;
    }
    if (n == 0) {
        free(v);
        return NULL;
    }
    if (!have_storage) v[0].storage = true;
    *n_out = n;
    return v;
}

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

restype_t *registry_apply_crd(registry_t *reg, json_t *crd)
{
    json_t *spec = json_object_get(crd, "spec");
    json_t *names = json_object_get(spec, "names");
    const char *group = jstr(spec, "group");
    const char *plural = jstr(names, "plural");
    const char *kind = jstr(names, "kind");
    if (!group || !plural || !kind) return NULL;
    size_t n_versions;
    restype_version_t *versions = crd_versions(crd, &n_versions);
    if (!versions) return NULL;

    restype_t *rt = registry_find(reg, group, plural);
    if (rt && rt->builtin) {
        versions_free(versions, n_versions);
        return NULL;
    }
    bool created = !rt;
    if (created) {
        rt = xcalloc(1, sizeof *rt);
    } else {
        free(rt->group);
        free(rt->plural);
        free(rt->singular);
        free(rt->kind);
        free(rt->list_kind);
        strv_free(rt->short_names, rt->n_short_names);
        strv_free(rt->categories, rt->n_categories);
        versions_free(rt->versions, rt->n_versions);
    }
    /* Take the new reference before dropping the old one: they may be the same object. */
    json_incref(crd);
    json_decref(rt->crd);
    rt->crd = crd;

    rt->group = xstrdup(group);
    rt->plural = xstrdup(plural);
    rt->kind = xstrdup(kind);
    const char *singular = jstr(names, "singular");
    rt->singular = singular ? xstrdup(singular) : lower_dup(kind);
    const char *list_kind = jstr(names, "listKind");
    if (list_kind) {
        rt->list_kind = xstrdup(list_kind);
    } else {
        size_t klen = strlen(kind);
        rt->list_kind = xcalloc(klen + 5, 1);
        memcpy(rt->list_kind, kind, klen);
        memcpy(rt->list_kind + klen, "List", 5);
    }
    rt->short_names = strv_from_json(json_object_get(names, "shortNames"), &rt->n_short_names);
    rt->categories = strv_from_json(json_object_get(names, "categories"), &rt->n_categories);
    const char *scope = jstr(spec, "scope");
    rt->namespaced = !(scope && !strcmp(scope, "Cluster"));
    rt->builtin = false;
    rt->tracks_generation = true;
    rt->return_deleted_object = false;
    rt->name_is_dns_label = false;
    rt->smp_allowed = false;
    rt->field_selectors = NULL;
    rt->versions = versions;
    rt->n_versions = n_versions;
    rt->established = crd_established(crd, created ? true : rt->established);
    rt->terminating = crd_terminating(crd);
    if (created) registry_push(reg, rt);
    registry_changed(reg);
    return rt;
}

void registry_remove_type(registry_t *reg, restype_t *rt)
{
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->types[i] != rt) continue;
        memmove(&reg->types[i], &reg->types[i + 1], (reg->n - i - 1) * sizeof *reg->types);
        reg->n--;
        restype_free(rt);
        registry_changed(reg);
        return;
    }
}
