/* openapi: the OpenAPI v3 index and per-group-version documents kubectl reads before apply,
 * create -f, replace and explain. Built from the registry and cached in the registry's cache
 * slot (registry_cache_get/set), rebuilt when the registry's epoch or visible types change. */
#include "apiserver/discovery.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether patch operations of built-ins list application/strategic-merge-patch+json. Off:
 * when it is listed, kubectl 1.32 apply (existing object) builds the strategic merge patch from
 * this document's schema, and our permissive built-in schemas make it print "warning: error
 * calculating patch from openapi v3 spec: unable to find api field ..." before falling back.
 * Unlisted, kubectl goes straight to its compiled-in types (correct merge keys), and still sends
 * a strategic merge patch for built-ins and a merge patch for CRs and CRDs. Turn it on only
 * together with full built-in schemas carrying x-kubernetes-patch-merge-key/strategy. */
static const bool openapi_advertise_smp = false;

#define META       "io.k8s.apimachinery.pkg.apis.meta.v1."
#define REF_PREFIX "#/components/schemas/"

/* ---- cache ------------------------------------------------------------------------------ */

typedef struct oa_doc {
    char *gvpath; /* "api/v1", "apis/g/v" */
    json_t *doc;
    char *text; /* compact serialization */
    size_t len;
    char hash[2 * 32 + 1]; /* SHA-256 of text, uppercase hex */
} oa_doc_t;

typedef struct oa_cache {
    uint64_t key;
    oa_doc_t *docs;
    size_t n;
} oa_cache_t;

static void oa_cache_free(void *p)
{
    oa_cache_t *c = p;
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->docs[i].gvpath);
        json_decref(c->docs[i].doc);
        free(c->docs[i].text);
    }
    free(c->docs);
    free(c);
}

static bool restype_visible(const restype_t *rt)
{
    return rt && rt->established;
}

/* The epoch plus what others may flip directly (established, served), so a direct field change
 * without registry_touch still invalidates the cache. FNV-1a. */
static uint64_t oa_cache_key(const registry_t *reg)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(v)                                                                                     \
    do {                                                                                           \
        h ^= (uint64_t)(v);                                                                        \
        h *= 1099511628211ULL;                                                                     \
    } while (0)
    MIX(registry_epoch(reg));
    for (size_t i = 0; i < registry_count(reg); i++) {
        const restype_t *rt = registry_at(reg, i);
        MIX((uintptr_t)rt);
        MIX(rt->established);
        MIX(rt->crd ? (uintptr_t)rt->crd : 0);
        for (size_t j = 0; j < rt->n_versions; j++)
            MIX(rt->versions[j].served);
    }
#undef MIX
    return h;
}

/* ---- names ------------------------------------------------------------------------------ */

/* "Core", "Apps", "RbacAuthorization" (built-ins drop ".k8s.io"), "SandboxOpensandboxIo". */
static void gv_op_prefix(const restype_t *rt, const char *version, char *buf, size_t len)
{
    char g[256];
    if (!rt->group[0]) {
        snprintf(g, sizeof g, "core");
    } else {
        snprintf(g, sizeof g, "%s", rt->group);
        size_t gl = strlen(g);
        const char *suffix = ".k8s.io";
        size_t sl = strlen(suffix);
        if (rt->builtin && gl > sl && !strcmp(g + gl - sl, suffix)) g[gl - sl] = '\0';
    }
    size_t o = 0;
    bool up = true;
    for (const char *p = g; *p && o + 1 < len; p++) {
        if (!isalnum((unsigned char)*p)) {
            up = true;
            continue;
        }
        buf[o++] = up ? (char)toupper((unsigned char)*p) : *p;
        up = false;
    }
    for (const char *p = version; *p && o + 1 < len; p++)
        buf[o++] = p == version ? (char)toupper((unsigned char)*p) : *p;
    buf[o] = '\0';
}

/* Component schema name of a kind: io.k8s.api.core.v1.Pod, com.example.v1.Widget. */
static char *schema_name(const restype_t *rt, const char *version, const char *kind)
{
    char *out = NULL;
    if (rt->builtin) {
        if (!strcmp(rt->group, "apiextensions.k8s.io")) {
            if (asprintf(&out, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.%s.%s",
                         version, kind) < 0)
                abort();
            return out;
        }
        size_t first = strcspn(rt->group, ".");
        if (asprintf(&out, "io.k8s.api.%.*s.%s.%s", rt->group[0] ? (int)first : 4,
                     rt->group[0] ? rt->group : "core", version, kind) < 0)
            abort();
        return out;
    }
    /* reversed group labels */
    size_t gl = strlen(rt->group);
    char *rev = malloc(gl + 1);
    if (!rev) abort();
    size_t o = 0;
    const char *end = rt->group + gl;
    while (end > rt->group) {
        const char *start = end;
        while (start > rt->group && start[-1] != '.')
            start--;
        if (o) rev[o++] = '.';
        memcpy(rev + o, start, (size_t)(end - start));
        o += (size_t)(end - start);
        end = start > rt->group ? start - 1 : start;
    }
    rev[o] = '\0';
    if (asprintf(&out, "%s.%s.%s", rev, version, kind) < 0) abort();
    free(rev);
    return out;
}

static json_t *ref(const char *name)
{
    return json_pack("{s:s+}", "$ref", REF_PREFIX, name);
}

static json_t *gvk_obj(const restype_t *rt, const char *version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", rt->group, "kind", kind, "version", version);
}

/* ---- parameters, bodies, responses ------------------------------------------------------ */

static json_t *param(const char *name, const char *in, const char *type, bool required,
                     const char *desc)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "in", in, "description", desc,
                          "schema", "type", type);
    if (required) json_object_set_new(p, "required", json_true());
    if (!strcmp(in, "query"))
        json_object_set_new(json_object_get(p, "schema"), "uniqueItems", json_true());
    return p;
}

static void add_write_params(json_t *params, bool with_force)
{
    json_array_append_new(
        params, param("dryRun", "query", "string", false,
                      "When present, indicates that modifications should not be persisted. "
                      "Valid value: All."));
    json_array_append_new(params, param("fieldManager", "query", "string", false,
                                        "A name associated with the actor or entity that is "
                                        "making these changes."));
    json_array_append_new(params, param("fieldValidation", "query", "string", false,
                                        "How the server handles unknown or duplicate fields: "
                                        "Ignore, Warn or Strict."));
    if (with_force)
        json_array_append_new(params, param("force", "query", "boolean", false,
                                            "Force is going to \"force\" Apply requests."));
}

static void add_list_params(json_t *params)
{
    static const struct {
        const char *name, *type, *desc;
    } ps[] = {
        {"allowWatchBookmarks", "boolean", "Requests watch events with type BOOKMARK."},
        {"continue", "string", "Continue token of a paginated list."},
        {"fieldSelector", "string", "A selector to restrict the list by fields."},
        {"labelSelector", "string", "A selector to restrict the list by labels."},
        {"limit", "integer", "Maximum number of items to return."},
        {"resourceVersion", "string", "Resource version constraint of the request."},
        {"resourceVersionMatch", "string", "How resourceVersion is applied to list calls."},
        {"sendInitialEvents", "boolean", "Send synthetic ADDED events first (watch)."},
        {"timeoutSeconds", "integer", "Timeout of the list/watch call."},
        {"watch", "boolean", "Watch for changes and return them as a stream."},
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        json_array_append_new(params, param(ps[i].name, "query", ps[i].type, false, ps[i].desc));
}

static json_t *json_content(json_t *schema)
{
    json_t *c = json_object();
    json_object_set(c, "application/json", json_pack("{s:O}", "schema", schema));
    json_object_set_new(c, "application/yaml", json_pack("{s:O}", "schema", schema));
    json_decref(json_object_get(c, "application/json"));
    json_decref(schema);
    return c;
}

static json_t *response(const char *desc, json_t *schema_or_null)
{
    json_t *r = json_pack("{s:s}", "description", desc);
    if (schema_or_null) json_object_set_new(r, "content", json_content(schema_or_null));
    return r;
}

static json_t *body_required(json_t *content)
{
    return json_pack("{s:o, s:b}", "content", content, "required", 1);
}

static json_t *patch_request_body(const restype_t *rt)
{
    json_t *c = json_object();
    json_object_set_new(c, "application/apply-patch+yaml",
                        json_pack("{s:o}", "schema", ref(META "Patch")));
    json_object_set_new(c, "application/json-patch+json",
                        json_pack("{s:o}", "schema", ref(META "Patch")));
    json_object_set_new(c, "application/merge-patch+json",
                        json_pack("{s:o}", "schema", ref(META "Patch")));
    /* see openapi_advertise_smp */
    if (rt->smp_allowed && openapi_advertise_smp)
        json_object_set_new(c, "application/strategic-merge-patch+json",
                            json_pack("{s:o}", "schema", ref(META "Patch")));
    return body_required(c);
}

/* ---- operations ------------------------------------------------------------------------- */

typedef struct op_ctx {
    const restype_t *rt;
    const char *version;
    const char *kind_schema; /* component name of the kind */
    const char *list_schema;
    char prefix[128]; /* operationId group-version part */
} op_ctx_t;

static json_t *op_new(const op_ctx_t *c, const char *verb, const char *action, const char *scope,
                      const char *suffix, const char *desc)
{
    json_t *op = json_object();
    json_object_set_new(op, "tags", json_pack("[s]", c->prefix));
    json_object_set_new(op, "description", json_string(desc));
    json_object_set_new(
        op, "operationId",
        json_sprintf("%s%s%s%s%s", verb, c->prefix, scope, c->rt->kind, suffix ? suffix : ""));
    json_object_set_new(op, "parameters", json_array());
    json_object_set_new(op, "responses", json_object());
    json_object_set_new(op, "x-kubernetes-action", json_string(action));
    json_object_set_new(op, "x-kubernetes-group-version-kind",
                        gvk_obj(c->rt, c->version, c->rt->kind));
    return op;
}

static void op_response(json_t *op, const char *code, const char *desc, json_t *schema)
{
    json_object_set_new(json_object_get(op, "responses"), code, response(desc, schema));
}

static void op_std_errors(json_t *op)
{
    op_response(op, "401", "Unauthorized", NULL);
}

static json_t *path_params(bool with_namespace, bool with_name)
{
    json_t *ps = json_array();
    if (with_name)
        json_array_append_new(ps, param("name", "path", "string", true, "name of the object"));
    if (with_namespace)
        json_array_append_new(ps, param("namespace", "path", "string", true,
                                        "object name and auth scope, such as for teams and "
                                        "projects"));
    json_array_append_new(ps, param("pretty", "query", "string", false,
                                    "If 'true', then the output is pretty printed."));
    return ps;
}

/* Collection path: list, create, deletecollection. */
static json_t *path_collection(const op_ctx_t *c, const char *scope)
{
    const restype_t *rt = c->rt;
    json_t *item = json_object();
    json_t *get = op_new(c, "list", "list", scope, NULL, "list or watch objects");
    add_list_params(json_object_get(get, "parameters"));
    op_response(get, "200", "OK", ref(c->list_schema));
    op_std_errors(get);
    json_object_set_new(item, "get", get);

    json_t *post = op_new(c, "create", "post", scope, NULL, "create an object");
    add_write_params(json_object_get(post, "parameters"), false);
    json_object_set_new(post, "requestBody", body_required(json_content(ref(c->kind_schema))));
    op_response(post, "200", "OK", ref(c->kind_schema));
    op_response(post, "201", "Created", ref(c->kind_schema));
    op_response(post, "202", "Accepted", ref(c->kind_schema));
    op_std_errors(post);
    json_object_set_new(item, "post", post);

    json_t *del =
        op_new(c, "delete", "deletecollection", scope, NULL, "delete a collection of objects");
    /* real operationIds read deleteCoreV1CollectionNamespacedPod */
    json_object_set_new(del, "operationId",
                        json_sprintf("delete%sCollection%s%s", c->prefix, scope, rt->kind));
    json_t *dp = json_object_get(del, "parameters");
    add_list_params(dp);
    json_array_append_new(dp, param("dryRun", "query", "string", false,
                                    "When present, modifications are not persisted."));
    json_array_append_new(dp, param("gracePeriodSeconds", "query", "integer", false,
                                    "Duration in seconds before the object should be deleted."));
    json_array_append_new(dp, param("propagationPolicy", "query", "string", false,
                                    "Orphan, Background or Foreground."));
    json_object_set_new(del, "requestBody",
                        json_pack("{s:o}", "content", json_content(ref(META "DeleteOptions"))));
    op_response(del, "200", "OK", ref(META "Status"));
    op_std_errors(del);
    json_object_set_new(item, "delete", del);

    json_object_set_new(item, "parameters", path_params(rt->namespaced, false));
    return item;
}

/* Item path: read, replace, patch, delete. */
static json_t *path_item(const op_ctx_t *c, const char *scope)
{
    const restype_t *rt = c->rt;
    json_t *item = json_object();
    json_t *get = op_new(c, "read", "get", scope, NULL, "read the specified object");
    op_response(get, "200", "OK", ref(c->kind_schema));
    op_std_errors(get);
    json_object_set_new(item, "get", get);

    json_t *put = op_new(c, "replace", "put", scope, NULL, "replace the specified object");
    add_write_params(json_object_get(put, "parameters"), false);
    json_object_set_new(put, "requestBody", body_required(json_content(ref(c->kind_schema))));
    op_response(put, "200", "OK", ref(c->kind_schema));
    op_response(put, "201", "Created", ref(c->kind_schema));
    op_std_errors(put);
    json_object_set_new(item, "put", put);

    json_t *patch = op_new(c, "patch", "patch", scope, NULL, "partially update the object");
    add_write_params(json_object_get(patch, "parameters"), true);
    json_object_set_new(patch, "requestBody", patch_request_body(rt));
    op_response(patch, "200", "OK", ref(c->kind_schema));
    op_response(patch, "201", "Created", ref(c->kind_schema));
    op_std_errors(patch);
    json_object_set_new(item, "patch", patch);

    json_t *del = op_new(c, "delete", "delete", scope, NULL, "delete the specified object");
    json_t *dp = json_object_get(del, "parameters");
    json_array_append_new(dp, param("dryRun", "query", "string", false,
                                    "When present, modifications are not persisted."));
    json_array_append_new(dp, param("gracePeriodSeconds", "query", "integer", false,
                                    "Duration in seconds before the object should be deleted."));
    json_array_append_new(dp, param("propagationPolicy", "query", "string", false,
                                    "Orphan, Background or Foreground."));
    json_object_set_new(del, "requestBody",
                        json_pack("{s:o}", "content", json_content(ref(META "DeleteOptions"))));
    const char *del_schema = rt->return_deleted_object ? c->kind_schema : META "Status";
    op_response(del, "200", "OK", ref(del_schema));
    op_response(del, "202", "Accepted", ref(del_schema));
    op_std_errors(del);
    json_object_set_new(item, "delete", del);

    json_object_set_new(item, "parameters", path_params(rt->namespaced, true));
    return item;
}

/* /status: read, replace, patch of the status subresource. */
static json_t *path_status(const op_ctx_t *c, const char *scope)
{
    json_t *item = json_object();
    json_t *get = op_new(c, "read", "get", scope, "Status", "read status of the object");
    op_response(get, "200", "OK", ref(c->kind_schema));
    op_std_errors(get);
    json_object_set_new(item, "get", get);

    json_t *put = op_new(c, "replace", "put", scope, "Status", "replace status of the object");
    add_write_params(json_object_get(put, "parameters"), false);
    json_object_set_new(put, "requestBody", body_required(json_content(ref(c->kind_schema))));
    op_response(put, "200", "OK", ref(c->kind_schema));
    op_response(put, "201", "Created", ref(c->kind_schema));
    op_std_errors(put);
    json_object_set_new(item, "put", put);

    json_t *patch = op_new(c, "patch", "patch", scope, "Status", "partially update status");
    add_write_params(json_object_get(patch, "parameters"), true);
    json_object_set_new(patch, "requestBody", patch_request_body(c->rt));
    op_response(patch, "200", "OK", ref(c->kind_schema));
    op_response(patch, "201", "Created", ref(c->kind_schema));
    op_std_errors(patch);
    json_object_set_new(item, "patch", patch);

    json_object_set_new(item, "parameters", path_params(c->rt->namespaced, true));
    return item;
}

/* /api/v1/namespaces/{name}/finalize (put) and pods/{name}/log (get). */
static json_t *path_special(const op_ctx_t *c, const char *scope, const char *which)
{
    json_t *item = json_object();
    if (!strcmp(which, "finalize")) {
        json_t *put = op_new(c, "replace", "put", scope, "Finalize", "replace finalize");
        add_write_params(json_object_get(put, "parameters"), false);
        json_object_set_new(put, "requestBody", body_required(json_content(ref(c->kind_schema))));
        op_response(put, "200", "OK", ref(c->kind_schema));
        op_response(put, "201", "Created", ref(c->kind_schema));
        op_std_errors(put);
        json_object_set_new(item, "put", put);
    } else {
        json_t *get = op_new(c, "read", "get", scope, "Log", "read log of the specified Pod");
        json_t *ps = json_object_get(get, "parameters");
        json_array_append_new(ps, param("container", "query", "string", false,
                                        "The container for which to stream logs."));
        json_array_append_new(
            ps, param("follow", "query", "boolean", false, "Follow the log stream of the pod."));
        json_array_append_new(ps, param("tailLines", "query", "integer", false,
                                        "Number of lines from the end of the logs to show."));
        json_object_set_new(json_object_get(get, "responses"), "200",
                            json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "OK", "content",
                                      "text/plain", "schema", "type", "string"));
        op_std_errors(get);
        json_object_set_new(item, "get", get);
    }
    json_object_set_new(item, "parameters", path_params(c->rt->namespaced, true));
    return item;
}

/* ---- schemas ---------------------------------------------------------------------------- */

static json_t *prop_string(const char *desc)
{
    return json_pack("{s:s, s:s}", "description", desc, "type", "string");
}

static json_t *meta_ref_prop(const char *schema, const char *desc)
{
    return json_pack("{s:[o], s:{}, s:s}", "allOf", ref(schema), "default", "description", desc);
}

/* ObjectMeta as kubectl explain and strategic merge need it (merge keys of finalizers and
 * ownerReferences); the other meta/v1 schemas are permissive. */
static const char object_meta_json[] =
    "{\"description\":\"ObjectMeta is metadata that all persisted resources must have.\","
    "\"type\":\"object\",\"properties\":{"
    "\"annotations\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\","
    "\"default\":\"\"}},"
    "\"creationTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"deletionGracePeriodSeconds\":{\"type\":\"integer\",\"format\":\"int64\"},"
    "\"deletionTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"finalizers\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"default\":\"\"},"
    "\"x-kubernetes-list-type\":\"set\",\"x-kubernetes-patch-strategy\":\"merge\"},"
    "\"generateName\":{\"type\":\"string\"},"
    "\"generation\":{\"type\":\"integer\",\"format\":\"int64\"},"
    "\"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\","
    "\"default\":\"\"}},"
    "\"managedFields\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true},\"x-kubernetes-list-type\":\"atomic\"},"
    "\"name\":{\"type\":\"string\"},"
    "\"namespace\":{\"type\":\"string\"},"
    "\"ownerReferences\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"apiVersion\",\"kind\",\"name\",\"uid\"],\"properties\":{"
    "\"apiVersion\":{\"type\":\"string\",\"default\":\"\"},"
    "\"blockOwnerDeletion\":{\"type\":\"boolean\"},"
    "\"controller\":{\"type\":\"boolean\"},"
    "\"kind\":{\"type\":\"string\",\"default\":\"\"},"
    "\"name\":{\"type\":\"string\",\"default\":\"\"},"
    "\"uid\":{\"type\":\"string\",\"default\":\"\"}},"
    "\"x-kubernetes-map-type\":\"atomic\"},"
    "\"x-kubernetes-list-map-keys\":[\"uid\"],\"x-kubernetes-list-type\":\"map\","
    "\"x-kubernetes-patch-merge-key\":\"uid\",\"x-kubernetes-patch-strategy\":\"merge\"},"
    "\"resourceVersion\":{\"type\":\"string\"},"
    "\"selfLink\":{\"type\":\"string\"},"
    "\"uid\":{\"type\":\"string\"}}}";

static void add_meta_schemas(json_t *schemas)
{
    json_t *om = json_loads(object_meta_json, 0, NULL);
    if (!om) abort();
    json_object_set_new(schemas, META "ObjectMeta", om);

    json_object_set_new(
        schemas, META "ListMeta",
        json_pack("{s:s, s:s, s:{s:{s:s}, s:{s:s, s:s}, s:{s:s}, s:{s:s}}}", "description",
                  "ListMeta describes metadata that synthetic resources must have.", "type",
                  "object", "properties", "continue", "type", "string", "remainingItemCount",
                  "type", "integer", "format", "int64", "resourceVersion", "type", "string",
                  "selfLink", "type", "string"));
    json_object_set_new(schemas, META "Patch",
                        json_pack("{s:s, s:s}", "description",
                                  "Patch is provided to give a concrete name and type to the "
                                  "Kubernetes PATCH request body.",
                                  "type", "object"));
    json_object_set_new(schemas, META "DeleteOptions",
                        json_pack("{s:s, s:s, s:b}", "description",
                                  "DeleteOptions may be provided when deleting an API object.",
                                  "type", "object", "x-kubernetes-preserve-unknown-fields", 1));
    json_object_set_new(
        schemas, META "Status",
        json_pack("{s:s, s:s, s:b, s:[{s:s, s:s, s:s}]}", "description",
                  "Status is a return value for calls that don't return other objects.", "type",
                  "object", "x-kubernetes-preserve-unknown-fields", 1,
                  "x-kubernetes-group-version-kind", "group", "", "kind", "Status", "version",
                  "v1"));
}

static void schema_std_props(json_t *props)
{
    json_object_set_new(props, "apiVersion",
                        prop_string("APIVersion defines the versioned schema of this "
                                    "representation of an object."));
    json_object_set_new(props, "kind",
                        prop_string("Kind is a string value representing the REST resource this "
                                    "object represents."));
    json_object_set_new(props, "metadata",
                        meta_ref_prop(META "ObjectMeta", "Standard object's metadata."));
}

static json_t *kind_schema(const restype_t *rt, const restype_version_t *ver)
{
    json_t *s;
    if (!rt->builtin && ver->schema) {
        s = json_deep_copy(ver->schema);
    } else {
        s = json_pack("{s:s, s:s}", "type", "object", "description",
                      rt->builtin ? "" : "A custom resource without a schema.");
        if (rt->builtin)
            json_object_set_new(s, "description",
                                json_sprintf("%s (localcluster serves a permissive schema for "
                                             "built-in kinds).",
                                             rt->kind));
        json_object_set_new(s, "x-kubernetes-preserve-unknown-fields", json_true());
    }
    json_t *props = json_object_get(s, "properties");
    if (!json_is_object(props)) {
        props = json_object();
        json_object_set_new(s, "properties", props);
    }
    if (rt->builtin && ver->has_status) {
        json_object_set_new(props, "spec",
                            json_pack("{s:s, s:s, s:b}", "description",
                                      "Desired state of the object.", "type", "object",
                                      "x-kubernetes-preserve-unknown-fields", 1));
        json_object_set_new(props, "status",
                            json_pack("{s:s, s:s, s:b}", "description",
                                      "Observed state of the object.", "type", "object",
                                      "x-kubernetes-preserve-unknown-fields", 1));
    }
    schema_std_props(props);
    json_object_set_new(s, "x-kubernetes-group-version-kind",
                        json_pack("[o]", gvk_obj(rt, ver->name, rt->kind)));
    return s;
}

static json_t *list_schema(const restype_t *rt, const restype_version_t *ver,
                           const char *kind_schema_name)
{
    json_t *props = json_object();
    json_object_set_new(props, "apiVersion", prop_string("APIVersion of the list."));
    json_object_set_new(props, "items",
                        json_pack("{s:s, s:s, s:{s:[o], s:{}}}", "description", "List of objects.",
                                  "type", "array", "items", "allOf", ref(kind_schema_name),
                                  "default"));
    json_object_set_new(props, "kind", prop_string("Kind of the list."));
    json_object_set_new(props, "metadata",
                        meta_ref_prop(META "ListMeta", "Standard list metadata."));
    return json_pack("{s:s, s:s, s:[s], s:o, s:[o]}", "description",
                     "A list of objects of one kind.", "type", "object", "required", "items",
                     "properties", props, "x-kubernetes-group-version-kind",
                     gvk_obj(rt, ver->name, rt->list_kind));
}

/* ---- documents -------------------------------------------------------------------------- */

static bool gvpath_parse(const char *gvpath, char *group, size_t glen, char *version, size_t vlen)
{
    if (!strncmp(gvpath, "api/", 4)) {
        if (strchr(gvpath + 4, '/') || !gvpath[4]) return false;
        group[0] = '\0';
        snprintf(version, vlen, "%s", gvpath + 4);
        return true;
    }
    if (strncmp(gvpath, "apis/", 5)) return false;
    const char *g = gvpath + 5, *slash = strchr(g, '/');
    if (!slash || slash == g || !slash[1] || strchr(slash + 1, '/') || (size_t)(slash - g) >= glen)
        return false;
    snprintf(group, glen, "%.*s", (int)(slash - g), g);
    snprintf(version, vlen, "%s", slash + 1);
    return true;
}

static json_t *document_build(const registry_t *reg, const char *group, const char *version)
{
    json_t *paths = json_object();
    json_t *schemas = json_object();
    size_t n_kinds = 0;
    char base[512];
    if (group[0])
        snprintf(base, sizeof base, "/apis/%s/%s", group, version);
    else
        snprintf(base, sizeof base, "/api/%s", version);

    for (size_t i = 0; i < registry_count(reg); i++) {
        const restype_t *rt = registry_at(reg, i);
        if (!restype_visible(rt) || strcmp(rt->group, group)) continue;
        const restype_version_t *ver = restype_version(rt, version);
        if (!ver) continue;
        n_kinds++;
        char *ks = schema_name(rt, version, rt->kind);
        char *ls = schema_name(rt, version, rt->list_kind);
        op_ctx_t c = {.rt = rt, .version = version, .kind_schema = ks, .list_schema = ls};
        gv_op_prefix(rt, version, c.prefix, sizeof c.prefix);
        json_object_set_new(schemas, ks, kind_schema(rt, ver));
        json_object_set_new(schemas, ls, list_schema(rt, ver, ks));

        const char *scope = rt->namespaced ? "Namespaced" : "";
        char *coll, *item;
        if (rt->namespaced) {
            if (asprintf(&coll, "%s/namespaces/{namespace}/%s", base, rt->plural) < 0) abort();
        } else if (asprintf(&coll, "%s/%s", base, rt->plural) < 0) {
            abort();
        }
        if (asprintf(&item, "%s/{name}", coll) < 0) abort();
        json_object_set_new(paths, coll, path_collection(&c, scope));
        json_object_set_new(paths, item, path_item(&c, scope));
        char sub[1024];
        if (ver->has_status) {
            snprintf(sub, sizeof sub, "%s/status", item);
            json_object_set_new(paths, sub, path_status(&c, scope));
        }
        bool core = rt->builtin && !rt->group[0];
        if (core && !strcmp(rt->plural, "namespaces")) {
            snprintf(sub, sizeof sub, "%s/finalize", item);
            json_object_set_new(paths, sub, path_special(&c, scope, "finalize"));
        }
        if (core && !strcmp(rt->plural, "pods")) {
            snprintf(sub, sizeof sub, "%s/log", item);
            json_object_set_new(paths, sub, path_special(&c, scope, "log"));
        }
        if (rt->namespaced) {
            /* GET /{prefix}/{plural}: list across all namespaces */
            snprintf(sub, sizeof sub, "%s/%s", base, rt->plural);
            json_t *all = json_object();
            json_t *get = op_new(&c, "list", "list", "", "ForAllNamespaces",
                                 "list or watch objects of every namespace");
            add_list_params(json_object_get(get, "parameters"));
            op_response(get, "200", "OK", ref(ls));
            op_std_errors(get);
            json_object_set_new(all, "get", get);
            json_object_set_new(all, "parameters", path_params(false, false));
            json_object_set_new(paths, sub, all);
        }
        free(coll);
        free(item);
        free(ks);
        free(ls);
    }
    if (n_kinds == 0) {
        json_decref(paths);
        json_decref(schemas);
        return NULL;
    }
    add_meta_schemas(schemas);
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s, s:s, s:s}}}}", "openapi",
                     "3.0.0", "info", "title", "Kubernetes", "version", "v1.32.0", "paths", paths,
                     "components", "schemas", schemas, "securitySchemes", "BearerToken", "type",
                     "apiKey", "description", "Bearer Token authentication", "name",
                     "authorization", "in", "header");
}

static void hash_text(const char *text, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned int i = 0; i < 32 && i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* Builds every served group-version document (the index needs all hashes anyway). */
static oa_cache_t *oa_cache_build(const registry_t *reg, uint64_t key)
{
    oa_cache_t *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->key = key;
    size_t cap = 0;
    for (size_t i = 0; i < registry_count(reg); i++) {
        const restype_t *rt = registry_at(reg, i);
        if (!restype_visible(rt)) continue;
        for (size_t j = 0; j < rt->n_versions; j++) {
            const restype_version_t *v = &rt->versions[j];
            if (!v->served) continue;
            char *gvpath;
            if (rt->group[0] ? asprintf(&gvpath, "apis/%s/%s", rt->group, v->name) < 0
                             : asprintf(&gvpath, "api/%s", v->name) < 0)
                abort();
            bool dup = false;
            for (size_t k = 0; k < c->n && !dup; k++)
                dup = !strcmp(c->docs[k].gvpath, gvpath);
            if (dup) {
                free(gvpath);
                continue;
            }
            json_t *doc = document_build(reg, rt->group, v->name);
            if (!doc) {
                free(gvpath);
                continue;
            }
            if (c->n == cap) {
                cap = cap ? cap * 2 : 16;
                oa_doc_t *nd = realloc(c->docs, cap * sizeof *nd);
                if (!nd) abort();
                c->docs = nd;
            }
            oa_doc_t *d = &c->docs[c->n++];
            memset(d, 0, sizeof *d);
            d->gvpath = gvpath;
            d->doc = doc;
            d->text = json_dumps(doc, JSON_COMPACT);
            if (!d->text) abort();
            d->len = strlen(d->text);
            hash_text(d->text, d->len, d->hash);
        }
    }
    return c;
}

static oa_cache_t *oa_cache(const registry_t *reg)
{
    uint64_t key = oa_cache_key(reg);
    oa_cache_t *c = registry_cache_get(reg);
    if (c && c->key == key) return c;
    c = oa_cache_build(reg, key);
    registry_cache_set(reg, c, oa_cache_free);
    return c;
}

static const oa_doc_t *oa_find(const registry_t *reg, const char *gvpath)
{
    if (!gvpath) return NULL;
    while (*gvpath == '/')
        gvpath++;
    char group[256], version[64];
    if (!gvpath_parse(gvpath, group, sizeof group, version, sizeof version)) return NULL;
    oa_cache_t *c = oa_cache(reg);
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->docs[i].gvpath, gvpath)) return &c->docs[i];
    return NULL;
}

json_t *openapi_v3_index(const registry_t *reg)
{
    oa_cache_t *c = oa_cache(reg);
    json_t *paths = json_object();
    for (size_t i = 0; i < c->n; i++)
        json_object_set_new(paths, c->docs[i].gvpath,
                            json_pack("{s:s+++}", "serverRelativeURL", "/openapi/v3/",
                                      c->docs[i].gvpath, "?hash=", c->docs[i].hash));
    return json_pack("{s:o}", "paths", paths);
}

json_t *openapi_v3_document(const registry_t *reg, const char *gvpath)
{
    const oa_doc_t *d = oa_find(reg, gvpath);
    return d ? json_deep_copy(d->doc) : NULL;
}

const char *openapi_v3_document_text(const registry_t *reg, const char *gvpath, size_t *len,
                                     const char **hash)
{
    const oa_doc_t *d = oa_find(reg, gvpath);
    if (!d) return NULL;
    if (len) *len = d->len;
    if (hash) *hash = d->hash;
    return d->text;
}
