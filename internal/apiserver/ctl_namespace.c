/* ctl_namespace: the namespace lifecycle controllers: every active namespace gets its "default"
 * ServiceAccount; a terminating namespace has its contents deleted (their finalizers honoured)
 * and, once empty, its "kubernetes" finalizer removed through /finalize, which deletes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/controllers.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"

static void ensure_default_sa(apiserver_t *as, const char *ns)
{
    restype_t *sart = registry_find(as->reg, "", "serviceaccounts");
    if (objops_get(as, sart, ns, "default")) return;
    json_t *sa = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                           "metadata", "name", "default");
    objops_opts_t o = {.field_manager = "kube-controller-manager"};
    json_t *out = NULL;
    kerr_t e = {0};
    objops_create(as, sart, ns, sa, &o, &out, &e);
    json_decref(out);
    json_decref(sa);
    kerr_clear(&e);
}

/* Deletes what is left in ns; returns the number of objects still there. */
static size_t empty_namespace(apiserver_t *as, const char *ns)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/", ns);
    size_t left = 0;
    for (size_t t = 0; t < registry_count(as->reg); t++) {
        restype_t *rt = registry_at(as->reg, t);
        if (rt->namespaced && rt->coll) left += ctl_delete_all(as, rt, prefix);
    }
    return left;
}

void ctl_namespace_run(apiserver_t *as)
{
    restype_t *nsrt = registry_find(as->reg, "", "namespaces");
    size_t n;
    const char **keys = store_coll_keys(nsrt->coll, NULL, &n);
    json_t **all = malloc((n + 1) * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = json_incref(store_coll_get(nsrt->coll, keys[i]));
    free(keys);
    for (size_t i = 0; i < n; i++) {
        json_t *nso = all[i];
        const char *name = jsonx_str(nso, "metadata.name", "");
        if (!jsonx_get(nso, "metadata.deletionTimestamp")) {
            ensure_default_sa(as, name);
        } else if (empty_namespace(as, name) == 0) {
            json_t *cur = objops_get(as, nsrt, NULL, name);
            if (cur && json_array_size(jsonx_get(cur, "spec.finalizers")) > 0) {
                json_t *next = json_deep_copy(cur);
                jsonx_set_new(next, "spec.finalizers", json_array());
                objops_opts_t o = {.finalize = true, .field_manager = "kube-controller-manager"};
                json_t *out = NULL;
                kerr_t e = {0};
                objops_commit_update(as, nsrt, NULL, cur, next, NULL, &o, "Update", &out, &e);
                json_decref(out);
                kerr_clear(&e);
            }
        }
        json_decref(nso);
    }
    free(all);
}
