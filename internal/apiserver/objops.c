/* objops: create, update and patch as a Kubernetes API server performs them: metadata
 * fill-in, namespace admission, the status split, pruning/defaulting/validation of custom
 * resources, generation, managedFields, no-op detection and the final commit to the store.
 * Deletion lives in objops_delete.c. */
#include "apiserver/objops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/crd_schema.h"
#include "apiserver/objmeta_validate.h"
#include "apiserver/objops_internal.h"
#include "base/jsonx.h"
#include "base/patch.h"

void objops_key(const restype_t *rt, const char *ns, const char *name, char *buf, size_t len)
{
    if (rt->namespaced)
        snprintf(buf, len, "%s/%s", ns ? ns : "", name);
    else
        snprintf(buf, len, "%s", name);
}

json_t *objops_get(apiserver_t *as, const restype_t *rt, const char *ns, const char *name)
{
    (void)as;
    char key[600];
    objops_key(rt, ns, name, key, sizeof key);
    return store_coll_get(rt->coll, key);
}

void objops_api_version(const restype_t *rt, const char *version, char *buf, size_t len)
{
    if (!version) version = restype_storage_version(rt)->name;
    if (rt->group[0])
        snprintf(buf, len, "%s/%s", rt->group, version);
    else
        snprintf(buf, len, "%s", version);
}

json_t *objops_present(const restype_t *rt, const char *version, json_t *obj)
{
    char av[300];
    objops_api_version(rt, version, av, sizeof av);
    const char *cur = jsonx_str(obj, "apiVersion", NULL);
    if (cur && strcmp(cur, av) == 0) return json_incref(obj);
    json_t *c = json_copy(obj);
    json_object_set_new(c, "apiVersion", json_string(av));
    return c;
}

/* ---- small pieces ---- */

static void uuid_v4(char out[37])
{
    unsigned char b[16];
    arc4random_buf(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

json_t *objops_now_time(void)
{
    char t[40];
    jsonx_time_format(time(NULL), t, sizeof t);
    return json_string(t);
}

static json_t *fields_v1(json_t *v, int depth)
{
    json_t *out = json_object();
    if (!json_is_object(v) || depth > 20) return out;
    const char *k;
    json_t *c;
    json_object_foreach(v, k, c)
    {
        char fk[300];
        snprintf(fk, sizeof fk, "f:%s", k);
        json_object_set_new(out, fk, fields_v1(c, depth + 1));
    }
    return out;
}

/* Records the write in metadata.managedFields: one entry per (manager, operation,
 * subresource), holding the fields this request set. */
static void managed_fields_record(json_t *obj, json_t *body, const restype_t *rt,
                                  const objops_opts_t *o, const char *operation)
{
    const char *mgr = o->field_manager && *o->field_manager ? o->field_manager : "unknown";
    json_t *md = jsonx_obj(obj, "metadata");
    json_t *mf = json_object_get(md, "managedFields");
    json_t *list = json_array();
    char av[300];
    objops_api_version(rt, o->version, av, sizeof av);
    const char *sub = o->status ? "status" : NULL;
    size_t i;
    json_t *ent;
    json_array_foreach(mf, i, ent)
    {
        if (!json_is_object(ent)) continue;
        const char *m = jsonx_str(ent, "manager", "");
        const char *op = jsonx_str(ent, "operation", "");
        const char *s = jsonx_str(ent, "subresource", NULL);
        bool same = strcmp(m, mgr) == 0 && strcmp(op, operation) == 0 &&
                    ((s == NULL && sub == NULL) || (s && sub && strcmp(s, sub) == 0));
        if (!same) json_array_append(list, ent);
    }
    json_t *fb = json_deep_copy(json_is_object(body) ? body : json_null());
    if (json_is_object(fb)) {
        json_object_del(fb, "apiVersion");
        json_object_del(fb, "kind");
        json_t *bmd = json_object_get(fb, "metadata");
        if (json_is_object(bmd)) {
            static const char *const drop[] = {
                "name",       "namespace",     "uid",      "resourceVersion",   "creationTimestamp",
                "generation", "managedFields", "selfLink", "deletionTimestamp", NULL};
            for (int d = 0; drop[d]; d++)
                json_object_del(bmd, drop[d]);
            if (json_object_size(bmd) == 0) json_object_del(fb, "metadata");
        }
    }
    json_t *e = json_pack("{s:s,s:s,s:s,s:o,s:s,s:o}", "manager", mgr, "operation", operation,
                          "apiVersion", av, "time", objops_now_time(), "fieldsType", "FieldsV1",
                          "fieldsV1", fields_v1(fb, 0));
    if (sub) json_object_set_new(e, "subresource", json_string(sub));
    json_decref(fb);
    json_array_append_new(list, e);
    json_object_set_new(md, "managedFields", list);
}

/* Equality that ignores managedFields and resourceVersion (the no-op test). */
static bool same_ignoring_bookkeeping(json_t *a, json_t *b)
{
    json_t *ca = json_copy(a), *cb = json_copy(b);
    json_t *ma = json_copy(json_object_get(ca, "metadata"));
    json_t *mb = json_copy(json_object_get(cb, "metadata"));
    json_object_del(ma, "managedFields");
    json_object_del(mb, "managedFields");
    json_object_del(ma, "resourceVersion");
    json_object_del(mb, "resourceVersion");
    json_object_set_new(ca, "metadata", ma ? ma : json_object());
    json_object_set_new(cb, "metadata", mb ? mb : json_object());
    bool eq = json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return eq;
}

/* Content that drives metadata.generation: everything but metadata (and status when the type
 * has a status subresource). */
static bool spec_changed(json_t *old, json_t *new, bool has_status)
{
    json_t *a = json_copy(old), *b = json_copy(new);
    json_object_del(a, "metadata");
    json_object_del(b, "metadata");
    if (has_status) {
        json_object_del(a, "status");
        json_object_del(b, "status");
    }
    bool changed = !json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return changed;
}

static void cause_add(json_t *causes, const char *reason, const char *field, const char *fmt,
                      const char *arg)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    json_array_append_new(
        causes, json_pack("{s:s,s:s,s:s}", "reason", reason, "message", msg, "field", field));
}

/* ObjectMeta fields a custom resource may carry; others are dropped (§2.8.4). */
static void metadata_trim(json_t *md)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(md, tmp, k, v)
    {
        if (!objmeta_is_field(k)) json_object_del(md, k);
    }
}

/* Decode-level checks every object gets (what Go's typed decoding would reject with 400). */
int objops_check_decode(const restype_t *rt, const char *version, json_t *obj, kerr_t *e)
{
    char av[300];
    objops_api_version(rt, version, av, sizeof av);
    if (!json_is_object(obj))
        return kerr_bad_request(e, "the body of the request must be a JSON or YAML object");
    json_t *kind = json_object_get(obj, "kind");
    json_t *api = json_object_get(obj, "apiVersion");
    if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), rt->kind) != 0))
        return kerr_bad_request(
            e,
            "%s in version \"%s\" cannot be handled as a %s: the kind in the data (%s) does "
            "not match the kind of the URL (%s)",
            json_is_string(kind) ? json_string_value(kind) : "<invalid>", version, rt->kind,
            json_is_string(kind) ? json_string_value(kind) : "<invalid>", rt->kind);
    if (api && (!json_is_string(api) || strcmp(json_string_value(api), av) != 0)) {
        /* another served version of the same group is fine (conversion None) */
        const char *s = json_is_string(api) ? json_string_value(api) : "";
        const char *slash = strrchr(s, '/');
        size_t glen = slash ? (size_t)(slash - s) : 0;
        bool same_group = glen == strlen(rt->group) && strncmp(s, rt->group, glen) == 0 &&
                          restype_version(rt, slash ? slash + 1 : s);
        if (!same_group)
            return kerr_bad_request(e,
                                    "the API version in the data (%s) does not match the "
                                    "expected API version (%s)",
                                    s, av);
    }
    json_t *md = json_object_get(obj, "metadata");
    if (md && !json_is_object(md) && !json_is_null(md))
        return kerr_bad_request(e,
                                "%s in version \"%s\" cannot be handled as a %s: json: cannot "
                                "unmarshal into Go struct field %s.metadata of type "
                                "v1.ObjectMeta",
                                rt->kind, version, rt->kind, rt->kind);
    static const char *const strmaps[] = {"labels", "annotations", NULL};
    for (int i = 0; json_is_object(md) && strmaps[i]; i++) {
        json_t *m = json_object_get(md, strmaps[i]);
        if (!m || json_is_null(m)) continue;
        const char *k;
        json_t *v;
        bool bad = !json_is_object(m);
        if (!bad) json_object_foreach(m, k, v) if (!json_is_string(v)) bad = true;
        if (bad)
            return kerr_bad_request(e,
                                    "%s in version \"%s\" cannot be handled as a %s: json: cannot "
                                    "unmarshal into Go struct field ObjectMeta.metadata.%s of "
                                    "type map[string]string",
                                    rt->kind, version, rt->kind, strmaps[i]);
    }
    static const char *const strs[] = {"name", "namespace", "generateName", "resourceVersion",
                                       "uid",  NULL};
    for (int i = 0; json_is_object(md) && strs[i]; i++) {
        json_t *v = json_object_get(md, strs[i]);
        if (v && !json_is_string(v) && !json_is_null(v))
            return kerr_bad_request(e,
                                    "%s in version \"%s\" cannot be handled as a %s: json: cannot "
                                    "unmarshal into Go struct field ObjectMeta.metadata.%s of "
                                    "type string",
                                    rt->kind, version, rt->kind, strs[i]);
    }
    json_t *fin = json_is_object(md) ? json_object_get(md, "finalizers") : NULL;
    if (fin && !json_is_null(fin)) {
        bool bad = !json_is_array(fin);
        size_t i;
        json_t *v;
        if (!bad) json_array_foreach(fin, i, v) if (!json_is_string(v)) bad = true;
        if (bad)
            return kerr_bad_request(e,
                                    "%s in version \"%s\" cannot be handled as a %s: json: cannot "
                                    "unmarshal into Go struct field ObjectMeta.metadata.finalizers "
                                    "of type []string",
                                    rt->kind, version, rt->kind);
    }
    /* Leases carry MicroTime: exactly six fractional digits (§2.10.1). */
    if (strcmp(rt->kind, "Lease") == 0) {
        static const char *const tf[] = {"spec.acquireTime", "spec.renewTime", NULL};
        for (int i = 0; tf[i]; i++) {
            json_t *t = jsonx_get(obj, tf[i]);
            if (!t || json_is_null(t)) continue;
            const char *s = json_string_value(t);
            const char *dot = s ? strchr(s, '.') : NULL;
            time_t parsed;
            bool ok = s && dot && strlen(dot) >= 8 && dot[7] != '\0' &&
                      (dot[7] == 'Z' || dot[7] == '+' || dot[7] == '-') &&
                      jsonx_time_parse(s, &parsed) == 0;
            for (int d = 1; ok && d <= 6; d++)
                if (dot[d] < '0' || dot[d] > '9') ok = false;
            if (!ok)
                return kerr_bad_request(
                    e,
                    "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"%s\" as "
                    "\"2006-01-02T15:04:05.000000Z07:00\": cannot parse as MicroTime",
                    s ? s : "<non-string>");
        }
        json_t *lds = jsonx_get(obj, "spec.leaseDurationSeconds");
        if (lds && !json_is_null(lds) && !json_is_integer(lds))
            return kerr_bad_request(e,
                                    "Lease in version \"v1\" cannot be handled as a Lease: json: "
                                    "cannot unmarshal into Go struct field "
                                    "LeaseSpec.spec.leaseDurationSeconds of type int32");
    }
    return 0;
}

/* Prune, default and validate a custom resource for the version written (§2.8.3), and run the
 * ObjectMeta validation every type gets. Returns 0, or -1 with e set (400 Strict / 422). */
static int admit_object(apiserver_t *as, restype_t *rt, json_t *obj, objops_opts_t *o,
                        json_t *causes, kerr_t *e)
{
    (void)as;
    json_t *md = jsonx_obj(obj, "metadata");
    /* ObjectMeta omits empty maps and lists (omitempty), so the stored object has no
     * "finalizers":[] or "labels":{} (e.g. after a JSON patch removed the last entry). */
    static const char *const omit_empty[] = {"labels", "annotations", "finalizers",
                                             "ownerReferences", NULL};
    for (int i = 0; json_is_object(md) && omit_empty[i]; i++) {
        json_t *v = json_object_get(md, omit_empty[i]);
        if (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
            (json_is_array(v) && json_array_size(v) == 0))
            json_object_del(md, omit_empty[i]);
    }
    if (!rt->builtin) {
        metadata_trim(md);
        restype_version_t *ver = o->version ? restype_version(rt, o->version) : NULL;
        if (!ver) ver = restype_storage_version(rt);
        if (ver && ver->schema) {
            json_t *pruned = json_array();
            crd_schema_prune(ver->schema, obj, pruned);
            const char *fv = o->field_validation ? o->field_validation : "Warn";
            if (json_array_size(pruned) > 0 && strcmp(fv, "Ignore") != 0) {
                if (strcmp(fv, "Strict") == 0) {
                    size_t cap = 256, len = 0;
                    char *list = malloc(cap);
                    list[0] = '\0';
                    size_t i;
                    json_t *p;
                    json_array_foreach(pruned, i, p)
                    {
                        const char *ps = json_string_value(p);
                        size_t need = strlen(ps) + 32;
                        while (len + need >= cap)
                            list = realloc(list, cap *= 2);
                        len += (size_t)snprintf(list + len, cap - len, "%sunknown field \"%s\"",
                                                i ? ", " : "", ps);
                    }
                    kerr_bad_request(e,
                                     "%s in version \"%s\" cannot be handled as a %s: strict "
                                     "decoding error: %s",
                                     rt->kind, ver->name, rt->kind, list);
                    free(list);
                    json_decref(pruned);
                    return -1;
                }
                if (o->warnings) {
                    size_t i;
                    json_t *p;
                    json_array_foreach(pruned, i, p)
                    {
                        char w[1024];
                        snprintf(w, sizeof w, "unknown field \"%s\"", json_string_value(p));
                        json_array_append_new(o->warnings, json_string(w));
                    }
                }
            }
            json_decref(pruned);
            crd_schema_default(ver->schema, obj);
            crd_schema_validate(ver->schema, obj, causes);
        }
        /* stored in the storage version (conversion None rewrites apiVersion only) */
        char av[300];
        objops_api_version(rt, NULL, av, sizeof av);
        json_object_set_new(obj, "apiVersion", json_string(av));
    } else {
        char av[300];
        objops_api_version(rt, NULL, av, sizeof av);
        json_object_set_new(obj, "apiVersion", json_string(av));
    }
    json_object_set_new(obj, "kind", json_string(rt->kind));
    objmeta_validate(md, rt->name_is_dns_label, causes);
    if (strcmp(rt->kind, "CustomResourceDefinition") == 0) {
        crd_default(obj);
        crd_validate(obj, causes);
    }
    if (strcmp(rt->kind, "Event") == 0) {
        const char *ins = jsonx_str(obj, "involvedObject.namespace", NULL);
        const char *ns = jsonx_str(md, "namespace", "");
        if (ins && *ins && strcmp(ins, ns) != 0)
            cause_add(causes, "FieldValueInvalid", "involvedObject.namespace",
                      "Invalid value: \"%s\": does not match event.namespace", ins);
    }
    if (json_array_size(causes) > 0) {
        kerr_invalid(e, rt, jsonx_str(md, "name", ""), json_incref(causes));
        return -1;
    }
    return 0;
}

/* Creation defaults of built-in kinds that clients observe. */
static void builtin_create_defaults(restype_t *rt, json_t *obj)
{
    if (!rt->builtin || rt->group[0]) return;
    if (strcmp(rt->kind, "Namespace") == 0) {
        json_t *md = jsonx_obj(obj, "metadata");
        json_t *labels = jsonx_obj(md, "labels");
        json_object_set_new(labels, "kubernetes.io/metadata.name",
                            json_string(jsonx_str(md, "name", "")));
        jsonx_set_new(obj, "spec.finalizers", json_pack("[s]", "kubernetes"));
        jsonx_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
    } else if (strcmp(rt->kind, "Pod") == 0) {
        json_t *spec = jsonx_obj(obj, "spec");
        if (spec) {
            if (!json_object_get(spec, "restartPolicy"))
                json_object_set_new(spec, "restartPolicy", json_string("Always"));
            if (!json_object_get(spec, "terminationGracePeriodSeconds"))
                json_object_set_new(spec, "terminationGracePeriodSeconds", json_integer(30));
            if (!json_object_get(spec, "dnsPolicy"))
                json_object_set_new(spec, "dnsPolicy", json_string("ClusterFirst"));
            if (!json_object_get(spec, "schedulerName"))
                json_object_set_new(spec, "schedulerName", json_string("default-scheduler"));
            if (!json_object_get(spec, "serviceAccountName"))
                json_object_set_new(spec, "serviceAccountName", json_string("default"));
            if (!json_object_get(spec, "serviceAccount"))
                json_object_set(spec, "serviceAccount",
                                json_object_get(spec, "serviceAccountName"));
            if (!json_object_get(spec, "securityContext"))
                json_object_set_new(spec, "securityContext", json_object());
            if (!json_object_get(spec, "enableServiceLinks"))
                json_object_set_new(spec, "enableServiceLinks", json_true());
        }
        jsonx_set_new(obj, "status",
                      json_pack("{s:s,s:s}", "phase", "Pending", "qosClass", "BestEffort"));
    }
}

static int namespace_admit(apiserver_t *as, restype_t *rt, const char *ns, kerr_t *e)
{
    if (!rt->namespaced) return 0;
    restype_t *nsrt = registry_find(as->reg, "", "namespaces");
    json_t *nso = objops_get(as, nsrt, NULL, ns);
    if (!nso) return kerr_not_found(e, nsrt, ns);
    if (jsonx_get(nso, "metadata.deletionTimestamp")) {
        char q[300];
        kstatus_qualified(rt, q, sizeof q);
        kerr_set(e, 403, "Forbidden",
                 "%s is forbidden: unable to create new content in namespace %s because it is "
                 "being terminated",
                 q, ns);
        e->details = json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "kind", rt->plural, "causes", "reason",
                               "NamespaceTerminating", "message", "namespace is being terminated",
                               "field", "metadata.namespace");
        return -1;
    }
    return 0;
}

static const char gen_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

int objops_create(apiserver_t *as, restype_t *rt, const char *ns, json_t *body, objops_opts_t *o,
                  json_t **out, kerr_t *e)
{
    const char *version = o->version ? o->version : restype_storage_version(rt)->name;
    if (objops_check_decode(rt, version, body, e)) return -1;
    if (rt->terminating)
        return kerr_set(e, 405, "MethodNotAllowed",
                        "create not allowed while custom resource definition is terminating");
    json_t *obj = json_deep_copy(body);
    json_t *md = jsonx_obj(obj, "metadata");
    if (!md) {
        json_decref(obj);
        return kerr_bad_request(e, "metadata must be an object");
    }
    const char *rv = jsonx_str(md, "resourceVersion", "");
    if (*rv) {
        json_decref(obj);
        return kerr_set(e, 500, "", "resourceVersion should not be set on objects to be created");
    }
    /* namespace: from the URL; a different one in the body is an error */
    if (rt->namespaced) {
        const char *bns = jsonx_str(md, "namespace", "");
        if (*bns && strcmp(bns, ns) != 0) {
            json_decref(obj);
            return kerr_bad_request(e, "the namespace of the provided object does not match the "
                                       "namespace sent on the request");
        }
        json_object_set_new(md, "namespace", json_string(ns));
    } else {
        json_object_del(md, "namespace");
    }
    /* name or generateName */
    const char *name = jsonx_str(md, "name", "");
    const char *gen = jsonx_str(md, "generateName", "");
    char key[600];
    if (!*name && *gen) {
        char nm[300];
        int tries = 0;
        for (; tries < 8; tries++) {
            char suffix[6];
            for (int i = 0; i < 5; i++)
                suffix[i] = gen_alphabet[arc4random_uniform(sizeof gen_alphabet - 1)];
            suffix[5] = '\0';
            snprintf(nm, sizeof nm, "%.58s%s", gen, suffix);
            objops_key(rt, ns, nm, key, sizeof key);
            if (!store_coll_get(rt->coll, key)) break;
        }
        json_object_set_new(md, "name", json_string(nm));
        name = jsonx_str(md, "name", "");
    }
    if (!*name) {
        json_t *causes = json_array();
        cause_add(causes, "FieldValueRequired", "metadata.name",
                  "Required value: name or generateName is required%s", "");
        json_decref(obj);
        return kerr_invalid(e, rt, "", causes);
    }
    /* server-owned fields */
    char uid[37];
    uuid_v4(uid);
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "creationTimestamp", objops_now_time());
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "deletionGracePeriodSeconds");
    json_object_del(md, "selfLink");
    json_object_del(md, "managedFields");
    if (rt->tracks_generation)
        json_object_set_new(md, "generation", json_integer(1));
    else
        json_object_del(md, "generation");
    restype_version_t *ver = restype_version(rt, version);
    if (ver && ver->has_status && !rt->builtin) json_object_del(obj, "status");
    builtin_create_defaults(rt, obj);
    if (strcmp(rt->kind, "CustomResourceDefinition") == 0)
        json_object_set_new(
            obj, "status",
            json_pack("{s:[],s:{},s:[]}", "conditions", "acceptedNames", "storedVersions"));

    json_t *causes = json_array();
    int rc = admit_object(as, rt, obj, o, causes, e);
    json_decref(causes);
    if (rc) {
        json_decref(obj);
        return -1;
    }
    name = jsonx_str(md, "name", "");
    if (namespace_admit(as, rt, ns, e)) {
        json_decref(obj);
        return -1;
    }
    if (strcmp(rt->kind, "Pod") == 0 && objops_pod_admit_sa(as, ns, obj, e)) {
        json_decref(obj);
        return -1;
    }
    objops_key(rt, ns, name, key, sizeof key);
    if (store_coll_get(rt->coll, key)) {
        int err = kerr_already_exists(e, rt, name); /* name points into obj: decref after */
        json_decref(obj);
        return err;
    }
    managed_fields_record(obj, body, rt, o, o->apply ? "Apply" : "Update");
    if (o->dry_run) {
        *out = obj;
        return 0;
    }
    *out = objops_commit(as, rt, key, STORE_ADDED, obj);
    objops_after_write(as, rt, *out);
    return 0;
}

json_t *objops_commit(apiserver_t *as, restype_t *rt, const char *key, store_ev_type_t type,
                      json_t *obj)
{
    uint64_t nrv = store_next_rv(as->store);
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)nrv);
    if (type == STORE_DELETED) {
        json_t *ev = json_deep_copy(obj);
        jsonx_set_new(ev, "metadata.resourceVersion", json_string(rvs));
        store_commit(as->store, rt->coll, key, STORE_DELETED, nrv, NULL, json_incref(ev));
        return ev;
    }
    jsonx_set_new(obj, "metadata.resourceVersion", json_string(rvs));
    json_incref(obj);
    store_commit(as->store, rt->coll, key, type, nrv, obj, NULL);
    return obj;
}

/* The shared tail of update, patch and internal writes: `next` (stolen) is the proposed object,
 * `old` the stored one (borrowed). */
int objops_commit_update(apiserver_t *as, restype_t *rt, const char *ns, json_t *old, json_t *next,
                         json_t *body_for_fields, objops_opts_t *o, const char *operation,
                         json_t **out, kerr_t *e)
{
    json_t *omd = json_object_get(old, "metadata");
    const char *name = jsonx_str(omd, "name", "");
    restype_version_t *ver = o->version ? restype_version(rt, o->version) : NULL;
    if (!ver) ver = restype_storage_version(rt);
    bool has_status = ver && ver->has_status;

    if (!json_is_object(json_object_get(next, "metadata")))
        json_object_set_new(next, "metadata", json_object());
    json_t *md = json_object_get(next, "metadata");

    /* name / namespace / uid */
    const char *nname = jsonx_str(md, "name", NULL);
    if (nname && strcmp(nname, name) != 0) {
        /* nname lives in next: format the error before releasing it */
        kerr_bad_request(e, "the name of the object (%s) does not match the name on the URL (%s)",
                         nname, name);
        json_decref(next);
        return -1;
    }
    if (rt->namespaced) {
        const char *nns = jsonx_str(md, "namespace", NULL);
        if (nns && *nns && strcmp(nns, ns) != 0) {
            json_decref(next);
            return kerr_bad_request(e, "the namespace of the provided object does not match the "
                                       "namespace sent on the request");
        }
    }
    const char *nuid = jsonx_str(md, "uid", "");
    const char *ouid = jsonx_str(omd, "uid", "");
    if (*nuid && strcmp(nuid, ouid) != 0) {
        json_t *causes = json_array();
        cause_add(causes, "FieldValueInvalid", "metadata.uid",
                  "Invalid value: \"%s\": field is immutable", nuid);
        json_decref(next);
        return kerr_invalid(e, rt, name, causes);
    }

    /* the status split (§2.4.1) */
    json_t *result;
    if (o->status && has_status) {
        result = json_deep_copy(old);
        json_t *st = json_object_get(next, "status");
        if (st)
            json_object_set(result, "status", st);
        else
            json_object_del(result, "status");
        /* pods/status may also carry labels and annotations; other metadata stays */
        json_t *rmd = json_object_get(result, "metadata");
        json_object_set(rmd, "managedFields", json_object_get(md, "managedFields"));
        for (int i = 0; rt->builtin && strcmp(rt->kind, "Pod") == 0 && i < 2; i++) {
            const char *k = i ? "annotations" : "labels";
            json_t *v = json_object_get(md, k);
            if (v)
                json_object_set(rmd, k, v);
            else
                json_object_del(rmd, k);
        }
        json_decref(next);
        next = result;
        md = json_object_get(next, "metadata");
    } else if (o->finalize) {
        result = json_deep_copy(old);
        json_t *f = jsonx_get(next, "spec.finalizers");
        jsonx_set_new(result, "spec.finalizers", f ? json_incref(f) : json_array());
        json_decref(next);
        next = result;
        md = json_object_get(next, "metadata");
    } else if (has_status) {
        json_t *st = json_object_get(old, "status");
        if (st)
            json_object_set(next, "status", st);
        else
            json_object_del(next, "status");
    }
    if (strcmp(rt->kind, "Namespace") == 0 && !o->finalize) {
        /* spec.finalizers change only through /finalize */
        json_t *f = jsonx_get(old, "spec.finalizers");
        if (f)
            jsonx_set_new(next, "spec.finalizers", json_incref(f));
        else
            jsonx_del(next, "spec.finalizers");
        json_t *labels = jsonx_obj(md, "labels");
        if (labels) json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
    }

    /* server-owned metadata kept from the old object */
    static const char *const keep[] = {
        "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
        NULL};
    for (int i = 0; keep[i]; i++) {
        json_t *v = json_object_get(omd, keep[i]);
        if (v)
            json_object_set(md, keep[i], v);
        else
            json_object_del(md, keep[i]);
    }
    json_object_set_new(md, "name", json_string(name));
    if (rt->namespaced)
        json_object_set_new(md, "namespace", json_string(ns));
    else
        json_object_del(md, "namespace");
    json_object_del(md, "selfLink");
    json_object_set(md, "resourceVersion", json_object_get(omd, "resourceVersion"));

    json_t *causes = json_array();
    int rc = admit_object(as, rt, next, o, causes, e);
    md = json_object_get(next, "metadata");
    if (rc == 0 && jsonx_get(omd, "deletionTimestamp")) {
        /* no new finalizers once deletion started (§2.2.6) */
        json_t *of = json_object_get(omd, "finalizers"), *nf = json_object_get(md, "finalizers");
        size_t i, j;
        json_t *f, *g;
        json_array_foreach(nf, i, f)
        {
            bool found = false;
            json_array_foreach(of, j, g) if (json_equal(f, g)) found = true;
            if (!found) {
                cause_add(causes, "FieldValueForbidden", "metadata.finalizers",
                          "Forbidden: no new finalizers can be added if the object is being "
                          "deleted, found new finalizers []string{\"%s\"}",
                          json_string_value(f));
                kerr_invalid(e, rt, name, json_incref(causes));
                rc = -1;
                break;
            }
        }
    }
    json_decref(causes);
    if (rc) {
        json_decref(next);
        return -1;
    }
    if (rt->tracks_generation && spec_changed(old, next, has_status))
        json_object_set_new(md, "generation", json_integer(jsonx_int(omd, "generation", 1) + 1));

    /* a no-op write stores nothing and sends nothing (§2.2.4) */
    json_object_set(md, "managedFields", json_object_get(omd, "managedFields"));
    if (!json_object_get(omd, "managedFields")) json_object_del(md, "managedFields");
    if (same_ignoring_bookkeeping(old, next)) {
        json_decref(next);
        *out = json_incref(old);
        return 0;
    }
    managed_fields_record(next, body_for_fields, rt, o, operation);
    if (o->dry_run) {
        *out = next;
        return 0;
    }
    char key[600];
    objops_key(rt, ns, name, key, sizeof key);
    bool finished = json_object_get(md, "deletionTimestamp") &&
                    json_array_size(json_object_get(md, "finalizers")) == 0 &&
                    !(strcmp(rt->kind, "Namespace") == 0 &&
                      json_array_size(jsonx_get(next, "spec.finalizers")) > 0);
    if (finished) {
        /* the last finalizer is gone: the object is deleted by this update (§2.5.2); watchers
         * see DELETED carrying the last stored state with the deletion RV */
        json_t *ev = objops_commit(as, rt, key, STORE_DELETED, old);
        json_object_set(md, "resourceVersion", jsonx_get(ev, "metadata.resourceVersion"));
        json_decref(ev);
        *out = next;
        objops_after_delete(as, rt, *out);
        return 0;
    }
    *out = objops_commit(as, rt, key, STORE_MODIFIED, next);
    objops_after_write(as, rt, *out);
    return 0;
}

int objops_update(apiserver_t *as, restype_t *rt, const char *ns, const char *name, json_t *body,
                  objops_opts_t *o, json_t **out, kerr_t *e)
{
    const char *version = o->version ? o->version : restype_storage_version(rt)->name;
    if (objops_check_decode(rt, version, body, e)) return -1;
    json_t *old = objops_get(as, rt, ns, name);
    if (!old) return kerr_not_found(e, rt, name);
    const char *rv = jsonx_str(body, "metadata.resourceVersion", "");
    if (!*rv && !rt->builtin) {
        json_t *causes = json_array();
        cause_add(causes, "FieldValueInvalid", "metadata.resourceVersion",
                  "Invalid value: 0x0: must be specified for an update%s", "");
        kerr_invalid(e, rt, name, causes);
        /* this one names the plural in details.kind (§1.9) */
        json_object_set_new(e->details, "kind", json_string(rt->plural));
        char q[300];
        kstatus_qualified(rt, q, sizeof q);
        free(e->message);
        if (asprintf(&e->message,
                     "%s \"%s\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be "
                     "specified for an update",
                     q, name) < 0)
            e->message = NULL;
        return -1;
    }
    if (*rv && strcmp(rv, jsonx_str(old, "metadata.resourceVersion", "")) != 0)
        return kerr_conflict(e, rt, name, NULL);
    json_t *next = json_deep_copy(body);
    return objops_commit_update(as, rt, ns, old, next, body, o, "Update", out, e);
}

int objops_patch(apiserver_t *as, restype_t *rt, const char *ns, const char *name,
                 const char *content_type, json_t *patch, objops_opts_t *o, json_t **out,
                 bool *created, kerr_t *e)
{
    *created = false;
    json_t *old = objops_get(as, rt, ns, name);
    char err[512] = "";
    json_t *next = NULL;
    int rc;
    if (strncmp(content_type, "application/apply-patch", 23) == 0) {
        if (!o->field_manager || !*o->field_manager)
            return kerr_bad_request(e, "PATCH, application/apply-patch+yaml requires fieldManager "
                                       "to be set");
        if (!json_is_object(patch))
            return kerr_bad_request(e, "the body of the request must be an object");
        const char *pname = jsonx_str(patch, "metadata.name", "");
        if (*pname && strcmp(pname, name) != 0)
            return kerr_bad_request(e,
                                    "the name of the object (%s) does not match the name on the "
                                    "URL (%s)",
                                    pname, name);
        if (!json_object_get(patch, "apiVersion") || !json_object_get(patch, "kind"))
            return kerr_bad_request(e, "invalid object type: apiVersion and kind are required");
        if (!old) {
            json_t *body = json_deep_copy(patch);
            jsonx_set_new(body, "metadata.name", json_string(name));
            objops_opts_t ao = *o;
            ao.apply = true;
            rc = objops_create(as, rt, ns, body, &ao, out, e);
            json_decref(body);
            if (rc == 0) *created = true;
            return rc;
        }
        const char *prv = jsonx_str(patch, "metadata.resourceVersion", "");
        if (*prv && strcmp(prv, jsonx_str(old, "metadata.resourceVersion", "")) != 0)
            return kerr_conflict(e, rt, name, NULL);
        /* Minimal server-side apply: the applied configuration is merged into the object
         * (maps merge, lists are replaced); field ownership is recorded, not enforced. */
        json_t *p = json_deep_copy(patch);
        json_t *pmd = json_object_get(p, "metadata");
        if (json_is_object(pmd)) json_object_del(pmd, "managedFields");
        rc = patch_merge_apply(old, p, &next, err, sizeof err);
        json_decref(p);
        if (rc) return kerr_bad_request(e, "%s", err);
        if (objops_check_decode(rt, o->version ? o->version : restype_storage_version(rt)->name,
                                next, e)) {
            json_decref(next);
            return -1;
        }
        return objops_commit_update(as, rt, ns, old, next, patch, o, "Apply", out, e);
    }
    if (!old) return kerr_not_found(e, rt, name);
    if (strcmp(content_type, "application/merge-patch+json") == 0) {
        if (!json_is_object(patch))
            return kerr_bad_request(e, "the body of the request was in an unknown format: a JSON "
                                       "merge patch must be a JSON object");
        const char *prv = jsonx_str(patch, "metadata.resourceVersion", "");
        if (*prv && strcmp(prv, jsonx_str(old, "metadata.resourceVersion", "")) != 0)
            return kerr_conflict(e, rt, name, NULL);
        rc = patch_merge_apply(old, patch, &next, err, sizeof err);
    } else if (strcmp(content_type, "application/json-patch+json") == 0) {
        if (!json_is_array(patch))
            return kerr_bad_request(e, "the body of the request was in an unknown format: a JSON "
                                       "patch must be a JSON array of operations");
        rc = patch_json_apply(old, patch, &next, err, sizeof err);
        if (rc == -EILSEQ || rc == -ENOENT)
            return kerr_set(e, 422, "Invalid",
                            "the server rejected our request due to an error in our request");
        if (rc == 0) {
            const char *prv = jsonx_str(next, "metadata.resourceVersion", "");
            if (*prv && strcmp(prv, jsonx_str(old, "metadata.resourceVersion", "")) != 0) {
                json_decref(next);
                return kerr_conflict(e, rt, name, NULL);
            }
        }
    } else if (strcmp(content_type, "application/strategic-merge-patch+json") == 0) {
        if (!rt->smp_allowed)
            return kerr_set(e, 415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media "
                            "types include: application/json-patch+json, "
                            "application/merge-patch+json, application/apply-patch+yaml");
        if (!json_is_object(patch))
            return kerr_bad_request(e, "the body of the request was in an unknown format: a "
                                       "strategic merge patch must be a JSON object");
        const char *prv = jsonx_str(patch, "metadata.resourceVersion", "");
        if (*prv && strcmp(prv, jsonx_str(old, "metadata.resourceVersion", "")) != 0)
            return kerr_conflict(e, rt, name, NULL);
        rc =
            patch_smp_apply(old, patch, patch_smp_rules_for_kind(rt->kind), &next, err, sizeof err);
    } else {
        return kerr_set(e, 415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml%s",
                        rt->smp_allowed ? ", application/strategic-merge-patch+json" : "");
    }
    if (rc == -E2BIG) return kerr_set(e, 413, "RequestEntityTooLarge", "%s", err);
    if (rc) return kerr_bad_request(e, "%s", err[0] ? err : "invalid patch");
    if (objops_check_decode(rt, o->version ? o->version : restype_storage_version(rt)->name, next,
                            e)) {
        json_decref(next);
        return -1;
    }
    return objops_commit_update(as, rt, ns, old, next, patch, o, "Update", out, e);
}
