/* ctl_gc: the ownerReference garbage collector of kube-controller-manager, simplified to full
 * passes over the store: a dependent whose owners are all absent (no live object with that uid,
 * or an owner in another namespace) is deleted in the background; owners being deleted with
 * foregroundDeletion wait for their blocking dependents, those with orphan release theirs. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/controllers.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"

typedef struct gc_obj {
    restype_t *rt;
    json_t *obj; /* own reference */
} gc_obj_t;

typedef enum { ACT_DELETE, ACT_DROP_OWNER, ACT_DROP_FINALIZER } act_kind_t;

typedef struct gc_act {
    act_kind_t kind;
    restype_t *rt;
    char *ns, *name, *arg; /* arg: owner uid or finalizer */
} gc_act_t;

static bool has_finalizer(json_t *obj, const char *f)
{
    size_t i;
    json_t *v;
    json_array_foreach(jsonx_get(obj, "metadata.finalizers"), i,
                       v) if (json_is_string(v) &&
                              strcmp(json_string_value(v), f) == 0) return true;
    return false;
}

static void act_add(gc_act_t **acts, size_t *n, size_t *cap, act_kind_t k, gc_obj_t *o,
                    const char *arg)
{
    if (*n == *cap) *acts = realloc(*acts, (*cap = *cap ? *cap * 2 : 16) * sizeof **acts);
    gc_act_t *a = &(*acts)[(*n)++];
    a->kind = k;
    a->rt = o->rt;
    a->ns = strdup(jsonx_str(o->obj, "metadata.namespace", ""));
    a->name = strdup(jsonx_str(o->obj, "metadata.name", ""));
    a->arg = arg ? strdup(arg) : NULL;
}

/* The group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
static void group_of(const char *api_version, char *buf, size_t len)
{
    const char *slash = strchr(api_version, '/');
    size_t n = slash ? (size_t)(slash - api_version) : 0;
    if (n >= len) n = len - 1;
    memcpy(buf, api_version, n);
    buf[n] = '\0';
}

void ctl_gc_run(apiserver_t *as)
{
    /* 1. every object, and uid -> index */
    size_t nobj = 0, cap = 256;
    gc_obj_t *objs = malloc(cap * sizeof *objs);
    json_t *by_uid = json_object();
    for (size_t t = 0; t < registry_count(as->reg); t++) {
        restype_t *rt = registry_at(as->reg, t);
        if (!rt->coll) continue;
        size_t n;
        const char **keys = store_coll_keys(rt->coll, NULL, &n);
        for (size_t i = 0; i < n; i++) {
            if (nobj == cap) objs = realloc(objs, (cap *= 2) * sizeof *objs);
            json_t *o = store_coll_get(rt->coll, keys[i]);
            objs[nobj].rt = rt;
            objs[nobj].obj = json_incref(o);
            json_object_set_new(by_uid, jsonx_str(o, "metadata.uid", ""),
                                json_integer((json_int_t)nobj));
            nobj++;
        }
        free(keys);
    }
    /* 2. decide */
    gc_act_t *acts = NULL;
    size_t nacts = 0, capacts = 0;
    size_t *blocking = calloc(nobj + 1, sizeof *blocking); /* dependents blocking each owner */
    size_t *refs = calloc(nobj + 1, sizeof *refs);         /* dependents naming each owner */
    for (size_t i = 0; i < nobj; i++) {
        json_t *owners = jsonx_get(objs[i].obj, "metadata.ownerReferences");
        if (json_array_size(owners) == 0) continue;
        const char *dns = jsonx_str(objs[i].obj, "metadata.namespace", "");
        bool any_live = false;
        bool deleting = jsonx_get(objs[i].obj, "metadata.deletionTimestamp") != NULL;
        size_t k;
        json_t *ref;
        json_array_foreach(owners, k, ref)
        {
            json_t *idx = json_object_get(by_uid, jsonx_str(ref, "uid", ""));
            gc_obj_t *owner = idx ? &objs[json_integer_value(idx)] : NULL;
            if (owner) {
                char g[256];
                group_of(jsonx_str(ref, "apiVersion", ""), g, sizeof g);
                bool same_kind = strcmp(owner->rt->kind, jsonx_str(ref, "kind", "")) == 0 &&
                                 strcmp(owner->rt->group, g) == 0;
                bool ns_ok = !owner->rt->namespaced ||
                             strcmp(jsonx_str(owner->obj, "metadata.namespace", ""), dns) == 0;
                if (!same_kind || !ns_ok) owner = NULL;
            }
            if (!owner) continue;
            any_live = true;
            size_t oi = (size_t)(owner - objs);
            refs[oi]++;
            if (jsonx_bool(ref, "blockOwnerDeletion")) blocking[oi]++;
            if (jsonx_get(owner->obj, "metadata.deletionTimestamp")) {
                if (has_finalizer(owner->obj, "orphan"))
                    act_add(&acts, &nacts, &capacts, ACT_DROP_OWNER, &objs[i],
                            jsonx_str(ref, "uid", ""));
                else if (has_finalizer(owner->obj, "foregroundDeletion") && !deleting)
                    act_add(&acts, &nacts, &capacts, ACT_DELETE, &objs[i], NULL);
            }
        }
        if (!any_live && !deleting) act_add(&acts, &nacts, &capacts, ACT_DELETE, &objs[i], NULL);
    }
    for (size_t i = 0; i < nobj; i++) {
        if (!jsonx_get(objs[i].obj, "metadata.deletionTimestamp")) continue;
        if (has_finalizer(objs[i].obj, "foregroundDeletion") && blocking[i] == 0)
            act_add(&acts, &nacts, &capacts, ACT_DROP_FINALIZER, &objs[i], "foregroundDeletion");
        if (has_finalizer(objs[i].obj, "orphan") && refs[i] == 0)
            act_add(&acts, &nacts, &capacts, ACT_DROP_FINALIZER, &objs[i], "orphan");
    }
    free(blocking);
    free(refs);
    for (size_t i = 0; i < nobj; i++)
        json_decref(objs[i].obj);
    free(objs);
    json_decref(by_uid);

    /* 3. act, re-reading each object (earlier actions may have changed it) */
    for (size_t i = 0; i < nacts; i++) {
        gc_act_t *a = &acts[i];
        json_t *cur = objops_get(as, a->rt, a->ns, a->name);
        if (cur) {
            json_incref(cur);
            json_t *out = NULL;
            kerr_t e = {0};
            objops_opts_t o = {.field_manager = "kube-controller-manager"};
            if (a->kind == ACT_DELETE) {
                bool removed;
                json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
                objops_delete(as, a->rt, a->ns, a->name, opts, &o, &out, &removed, &e);
                json_decref(opts);
            } else if (a->kind == ACT_DROP_FINALIZER) {
                ctl_remove_finalizer(as, a->rt, cur, a->arg);
            } else {
                json_t *next = json_deep_copy(cur);
                json_t *owners = jsonx_get(next, "metadata.ownerReferences");
                for (size_t k = json_array_size(owners); k-- > 0;)
                    if (strcmp(jsonx_str(json_array_get(owners, k), "uid", ""), a->arg) == 0)
                        json_array_remove(owners, k);
                if (json_array_size(owners) == 0) jsonx_del(next, "metadata.ownerReferences");
                objops_commit_update(as, a->rt, a->ns, cur, next, NULL, &o, "Update", &out, &e);
            }
            json_decref(out);
            kerr_clear(&e);
            json_decref(cur);
        }
        free(a->ns);
        free(a->name);
        free(a->arg);
    }
    free(acts);
}
