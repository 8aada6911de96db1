/* ctl_crd: the CRD controllers of apiextensions-apiserver in one pass: establish (register the
 * type, set NamesAccepted/Established, acceptedNames, storedVersions), finalize (delete every
 * custom resource of a terminating CRD, then remove customresourcecleanup), and drop types whose
 * CRD is gone. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/controllers.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"

#define CRD_FINALIZER "customresourcecleanup.apiextensions.k8s.io"

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message, json_t *old_conds)
{
    /* keep lastTransitionTime when the status did not change */
    size_t i;
    json_t *c;
    json_array_foreach(old_conds, i, c)
    {
        if (strcmp(jsonx_str(c, "type", ""), type) == 0 &&
            strcmp(jsonx_str(c, "status", ""), status) == 0 &&
            strcmp(jsonx_str(c, "reason", ""), reason) == 0)
            return json_incref(c);
    }
    return json_pack("{s:s,s:s,s:o,s:s,s:s}", "type", type, "status", status, "lastTransitionTime",
                     objops_now_time(), "reason", reason, "message", message);
}

static void establish(apiserver_t *as, restype_t *crdrt, json_t *crd)
{
    const char *group = jsonx_str(crd, "spec.group", "");
    const char *plural = jsonx_str(crd, "spec.names.plural", "");
    restype_t *rt = registry_find(as->reg, group, plural);
    if (rt && rt->builtin) return; /* cannot shadow a built-in type */
    long long gen = jsonx_int(crd, "metadata.generation", 1);
    if (!rt || jsonx_int(rt->crd, "metadata.generation", 0) != gen ||
        strcmp(jsonx_str(rt->crd, "metadata.uid", ""), jsonx_str(crd, "metadata.uid", "")) != 0) {
        rt = registry_apply_crd(as->reg, crd);
        if (!rt) return;
        if (!rt->coll) rt->coll = store_coll_new(as->store);
    }
    rt->established = true;
    rt->terminating = false;

    /* status: acceptedNames, storedVersions, conditions */
    json_t *next = json_deep_copy(crd);
    json_t *old_conds = jsonx_get(crd, "status.conditions");
    json_t *conds = json_array();
    json_array_append_new(
        conds, condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", old_conds));
    json_array_append_new(conds, condition("Established", "True", "InitialNamesAccepted",
                                           "the initial names have been accepted", old_conds));
    json_t *names = json_deep_copy(jsonx_get(crd, "spec.names"));
    json_t *stored = json_deep_copy(jsonx_get(crd, "status.storedVersions"));
    if (!json_is_array(stored)) stored = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(jsonx_get(crd, "spec.versions"), i, v)
    {
        if (!jsonx_bool(v, "storage")) continue;
        bool have = false;
        size_t j;
        json_t *s;
        json_array_foreach(stored, j, s) if (json_equal(s, json_object_get(v, "name"))) have = true;
        if (!have) json_array_append(stored, json_object_get(v, "name"));
    }
    json_t *st = json_pack("{s:o,s:o,s:o}", "conditions", conds, "acceptedNames",
                           names ? names : json_object(), "storedVersions", stored);
    json_object_set_new(next, "status", st);
    objops_opts_t o = {.status = true, .field_manager = "kube-apiserver"};
    json_t *out = NULL;
    kerr_t e = {0};
    objops_commit_update(as, crdrt, NULL, crd, next, NULL, &o, "Update", &out, &e);
    json_decref(out);
    kerr_clear(&e);
}

void ctl_crd_run(apiserver_t *as)
{
    restype_t *crdrt = registry_find(as->reg, "apiextensions.k8s.io", "customresourcedefinitions");
    size_t n;
    const char **keys = store_coll_keys(crdrt->coll, NULL, &n);
    json_t **crds = malloc((n + 1) * sizeof *crds);
    for (size_t i = 0; i < n; i++)
        crds[i] = json_incref(store_coll_get(crdrt->coll, keys[i]));
    free(keys);
    for (size_t i = 0; i < n; i++) {
        json_t *crd = crds[i];
        if (!jsonx_get(crd, "metadata.deletionTimestamp")) {
            establish(as, crdrt, crd);
        } else {
            restype_t *rt = registry_find(as->reg, jsonx_str(crd, "spec.group", ""),
                                          jsonx_str(crd, "spec.names.plural", ""));
            size_t left = 0;
            if (rt && !rt->builtin) {
                rt->terminating = true;
                left = ctl_delete_all(as, rt, NULL);
            }
            if (left == 0) {
                json_t *cur = store_coll_get(crdrt->coll, jsonx_str(crd, "metadata.name", ""));
                if (cur) ctl_remove_finalizer(as, crdrt, cur, CRD_FINALIZER);
            }
        }
        json_decref(crd);
    }
    free(crds);
    /* drop the types whose CRD is gone */
    for (size_t i = 0; i < registry_count(as->reg);) {
        restype_t *rt = registry_at(as->reg, i);
        if (rt->builtin) {
            i++;
            continue;
        }
        json_t *cur = store_coll_get(crdrt->coll, jsonx_str(rt->crd, "metadata.name", ""));
        bool gone = !cur || strcmp(jsonx_str(cur, "metadata.uid", ""),
                                   jsonx_str(rt->crd, "metadata.uid", "")) != 0;
        if (!gone) {
            i++;
            continue;
        }
        if (rt->coll) store_coll_drop(as->store, rt->coll);
        rt->coll = NULL;
        registry_remove_type(as->reg, rt);
        if (cur) apiserver_kick_controllers(as); /* recreated with a new uid: establish anew */
    }
}

size_t ctl_delete_all(apiserver_t *as, restype_t *rt, const char *prefix)
{
    size_t n;
    const char **keys = store_coll_keys(rt->coll, prefix, &n);
    json_t **objs = malloc((n + 1) * sizeof *objs);
    for (size_t i = 0; i < n; i++)
        objs[i] = json_incref(store_coll_get(rt->coll, keys[i]));
    free(keys);
    for (size_t i = 0; i < n; i++) {
        if (!jsonx_get(objs[i], "metadata.deletionTimestamp")) {
            objops_opts_t o = {0};
            json_t *out = NULL;
            bool removed;
            kerr_t e = {0};
            objops_delete(as, rt, jsonx_str(objs[i], "metadata.namespace", ""),
                          jsonx_str(objs[i], "metadata.name", ""), NULL, &o, &out, &removed, &e);
            json_decref(out);
            kerr_clear(&e);
        }
        json_decref(objs[i]);
    }
    free(objs);
    size_t left;
    free(store_coll_keys(rt->coll, prefix, &left));
    return left;
}

int ctl_remove_finalizer(apiserver_t *as, restype_t *rt, json_t *obj, const char *finalizer)
{
    json_t *fl = jsonx_get(obj, "metadata.finalizers");
    json_t *nfl = json_array();
    size_t i;
    json_t *f;
    bool found = false;
    json_array_foreach(fl, i, f)
    {
        if (json_is_string(f) && strcmp(json_string_value(f), finalizer) == 0)
            found = true;
        else
            json_array_append(nfl, f);
    }
    if (!found) {
        json_decref(nfl);
        return 0;
    }
    json_t *next = json_deep_copy(obj);
    jsonx_set_new(next, "metadata.finalizers", nfl);
    objops_opts_t o = {.field_manager = "kube-controller-manager"};
    json_t *out = NULL;
    kerr_t e = {0};
    int rc = objops_commit_update(as, rt, jsonx_str(obj, "metadata.namespace", ""), obj, next, NULL,
                                  &o, "Update", &out, &e);
    json_decref(out);
    kerr_clear(&e);
    return rc;
}
