/* rest_resources: the verbs on a resource URL: get, list (selectors, pagination with
 * consistent snapshots, Tables), create, update, patch, delete, deletecollection; body decoding
 * (JSON and YAML) and query-parameter handling; watches are handed to watch.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "apiserver/objops.h"
#include "apiserver/rest_internal.h"
#include "apiserver/table.h"
#include "base/jsonx.h"
#include "base/yamljson.h"

static void reply_err(rest_req_t *r, kerr_t *e)
{
    rest_reply_err(r->http, e);
    kerr_clear(e);
}

static char *q(rest_req_t *r, const char *key)
{
    return http_request_query(r->http, key);
}

/* Decodes the request body as JSON or YAML by Content-Type. New reference or NULL with e. */
static json_t *decode_body(rest_req_t *r, bool allow_empty, kerr_t *e)
{
    const char *ct = http_request_header(r->http, "content-type");
    if (r->http->body_len == 0) {
        if (allow_empty) return json_null();
        kerr_bad_request(e, "the request body is empty: expected a %s object", r->rt->kind);
        return NULL;
    }
    /* POST, PUT and DELETE bodies: JSON or YAML (no Content-Type means JSON); PATCH types
     * are checked by objops_patch. */
    size_t ctn = ct ? strcspn(ct, "; \t") : 0;
    if ((ct && strstr(ct, "protobuf")) ||
        (ctn && strcmp(r->http->method, "PATCH") != 0 &&
         !(ctn == 16 && strncasecmp(ct, "application/json", 16) == 0) &&
         !(ctn == 16 && strncasecmp(ct, "application/yaml", 16) == 0))) {
        kerr_set(e, 415, "UnsupportedMediaType",
                 "the body of the request was in an unknown format - accepted media types "
                 "include: application/json, application/yaml");
        return NULL;
    }
    bool yaml = ct && (strstr(ct, "yaml") != NULL);
    json_t *v;
    char msg[512];
    if (yaml) {
        v = yamljson_parse(r->http->body, r->http->body_len, msg, sizeof msg);
    } else {
        json_error_t jerr;
        v = json_loadb(r->http->body, r->http->body_len, JSON_DECODE_ANY, &jerr);
        if (!v)
            snprintf(msg, sizeof msg, "%s at line %d, column %d", jerr.text, jerr.line,
                     jerr.column);
    }
    if (!v) {
        kerr_bad_request(e, "%s in version \"%s\" cannot be handled as a %s: %s", r->rt->kind,
                         r->version, r->rt->kind, msg);
        return NULL;
    }
    return v;
}

/* Options common to writes from the query string. Strings point into `hold`. */
typedef struct write_q {
    char *field_manager, *field_validation, *dry_run;
    bool manager_defaulted; /* no fieldManager in the query (apply patches need one) */
} write_q_t;

static int write_opts(rest_req_t *r, objops_opts_t *o, write_q_t *h, kerr_t *e)
{
    memset(o, 0, sizeof *o);
    h->field_manager = q(r, "fieldManager");
    h->field_validation = q(r, "fieldValidation");
    h->dry_run = q(r, "dryRun");
    if (h->dry_run && *h->dry_run && strcmp(h->dry_run, "All") != 0)
        return kerr_bad_request(e, "dryRun: Unsupported value: \"%s\": supported values: \"All\"",
                                h->dry_run);
    if (h->field_validation && *h->field_validation && strcmp(h->field_validation, "Strict") &&
        strcmp(h->field_validation, "Warn") && strcmp(h->field_validation, "Ignore"))
        return kerr_bad_request(e,
                                "fieldValidation: invalid fieldValidation directive \"%s\" - "
                                "must be one of \"Strict\", \"Warn\" or \"Ignore\"",
                                h->field_validation);
    o->dry_run = h->dry_run && strcmp(h->dry_run, "All") == 0;
    if (h->field_manager && strlen(h->field_manager) > 128)
        return kerr_bad_request(e, "fieldManager: Too long: must have at most 128 bytes");
    if (!h->field_manager || !*h->field_manager) {
        /* default manager: the User-Agent up to the first '/' */
        h->manager_defaulted = true;
        free(h->field_manager);
        const char *ua = http_request_header(r->http, "user-agent");
        h->field_manager = strndup(ua ? ua : "unknown", ua ? strcspn(ua, "/") : 7);
    }
    o->field_manager = h->field_manager;
    o->field_validation =
        h->field_validation && *h->field_validation ? h->field_validation : "Warn";
    o->version = r->version;
    o->warnings = json_array();
    return 0;
}

static void write_q_free(write_q_t *h, objops_opts_t *o)
{
    free(h->field_manager);
    free(h->field_validation);
    free(h->dry_run);
    json_decref(o->warnings);
}

/* ---- selectors ---- */

static bool field_supported(const restype_t *rt, const char *version, const char *f)
{
    if (strcmp(f, "metadata.name") == 0) return true;
    if (strcmp(f, "metadata.namespace") == 0) return rt->namespaced || true;
    for (int i = 0; rt->field_selectors && rt->field_selectors[i]; i++)
        if (strcmp(rt->field_selectors[i], f) == 0) return true;
    restype_version_t *ver = restype_version(rt, version);
    size_t i;
    json_t *sf;
    json_array_foreach(ver ? ver->selectable_fields : NULL, i, sf)
    {
        const char *jp = jsonx_str(sf, "jsonPath", "");
        if (*jp == '.') jp++;
        if (strcmp(jp, f) == 0) return true;
    }
    return false;
}

int rest_parse_selectors(rest_req_t *r, label_selector_t **ls, field_selector_t **fs, kerr_t *e)
{
    *ls = NULL;
    *fs = NULL;
    char msg[512];
    char *l = q(r, "labelSelector"), *f = q(r, "fieldSelector");
    int rc = 0;
    if (l && *l && label_selector_parse(l, ls, msg, sizeof msg) != 0) {
        rc = kerr_bad_request(e, "%s", msg);
    } else if (f && *f) {
        if (field_selector_parse(f, fs, msg, sizeof msg) != 0) {
            rc = kerr_bad_request(e, "%s", msg);
        } else {
            for (size_t i = 0; i < field_selector_count(*fs); i++) {
                const char *name = field_selector_field(*fs, i);
                if (!field_supported(r->rt, r->version, name)) {
                    rc = kerr_bad_request(e, "field label not supported: %s", name);
                    break;
                }
            }
        }
    }
    free(l);
    free(f);
    if (rc) {
        label_selector_free(*ls);
        field_selector_free(*fs);
        *ls = NULL;
        *fs = NULL;
    }
    return rc;
}

bool rest_obj_matches(rest_req_t *r, json_t *obj, const label_selector_t *ls,
                      const field_selector_t *fs)
{
    if (r->ns[0] && strcmp(jsonx_str(obj, "metadata.namespace", ""), r->ns) != 0) return false;
    if (ls && !label_selector_matches(ls, jsonx_get(obj, "metadata.labels"))) return false;
    if (fs && !field_selector_matches(fs, obj)) return false;
    return true;
}

/* ---- output shaping ---- */

static json_t *item_for_list(rest_req_t *r, json_t *obj)
{
    if (r->rt->builtin) {
        /* built-in list items have no kind/apiVersion (typed encoding) */
        json_t *c = json_copy(obj);
        json_object_del(c, "kind");
        json_object_del(c, "apiVersion");
        return c;
    }
    return objops_present(r->rt, r->version, obj);
}

static table_include_t include_mode(rest_req_t *r)
{
    char *v = q(r, "includeObject");
    table_include_t m = TABLE_INCLUDE_METADATA;
    if (v && strcmp(v, "Object") == 0) m = TABLE_INCLUDE_OBJECT;
    if (v && strcmp(v, "None") == 0) m = TABLE_INCLUDE_NONE;
    free(v);
    return m;
}

static void reply_object(rest_req_t *r, int code, json_t *obj, json_t *warnings)
{
    json_t *pres = objops_present(r->rt, r->version, obj);
    if (rest_wants_table(r->http)) {
        json_t *t = table_build(r->rt, restype_version(r->rt, r->version), &pres, 1,
                                include_mode(r), true, time(NULL));
        jsonx_set_new(t, "metadata.resourceVersion",
                      json_string(jsonx_str(obj, "metadata.resourceVersion", "")));
        json_decref(pres);
        rest_reply_json(r, code, t, warnings);
        return;
    }
    if (pres == obj && json_array_size(warnings) == 0) {
        size_t len;
        const char *text = store_obj_text(r->as->store, obj, &len);
        char *body = malloc(len + 2);
        memcpy(body, text, len);
        body[len] = '\n';
        body[len + 1] = '\0';
        http_respond(r->http, code, "application/json", body, len + 1, NULL);
        free(body);
        json_decref(pres);
        return;
    }
    rest_reply_json(r, code, pres, warnings);
}

/* ---- continue tokens: base64 of {"rv":N,"start":"key"} ---- */

static char *continue_encode(uint64_t rv, const char *start)
{
    json_t *t = json_pack("{s:I,s:s}", "rv", (json_int_t)rv, "start", start);
    char *raw = jsonx_dump(t);
    json_decref(t);
    size_t n = strlen(raw);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (unsigned char *)raw, (int)n);
    free(raw);
    return out;
}

static int continue_decode(const char *tok, uint64_t *rv, char **start)
{
    size_t n = strlen(tok);
    if (n == 0 || n % 4 != 0 || n > 4096) return -EINVAL;
    unsigned char *raw = malloc(n);
    int len = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)n);
    if (len < 0) {
        free(raw);
        return -EINVAL;
    }
    while (len > 0 && raw[len - 1] == '\0')
        len--;
    json_t *t = json_loadb((char *)raw, (size_t)len, 0, NULL);
    free(raw);
    json_t *jrv = json_object_get(t, "rv");
    json_t *js = json_object_get(t, "start");
    if (!json_is_integer(jrv) || !json_is_string(js)) {
        json_decref(t);
        return -EINVAL;
    }
    *rv = (uint64_t)json_integer_value(jrv);
    *start = strdup(json_string_value(js));
    json_decref(t);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void do_list(rest_req_t *r)
{
    apiserver_t *as = r->as;
    kerr_t e = {0};
    label_selector_t *ls;
    field_selector_t *fs;
    if (rest_parse_selectors(r, &ls, &fs, &e)) return reply_err(r, &e);
    char *rvq = q(r, "resourceVersion"), *match = q(r, "resourceVersionMatch");
    char *limq = q(r, "limit"), *cont = q(r, "continue");
    char *sie = q(r, "sendInitialEvents");
    long long limit = limq && *limq ? atoll(limq) : 0;
    uint64_t snap_rv = 0;
    char *start = NULL;
    json_t *snap = NULL;
    const char **keys = NULL;
    size_t nkeys = 0;
    json_t *items = NULL;

    if (sie && *sie) {
        kerr_set(&e, 422, "Invalid",
                 "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: "
                 "sendInitialEvents is forbidden for list");
        goto fail;
    }
    if (match && *match) {
        if (!rvq || !*rvq) {
            kerr_set(&e, 422, "Invalid",
                     "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                     "resourceVersionMatch is forbidden unless resourceVersion is provided");
            goto fail;
        }
        if (strcmp(match, "Exact") && strcmp(match, "NotOlderThan")) {
            kerr_set(&e, 422, "Invalid",
                     "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported "
                     "value: \"%s\": supported values: \"Exact\", \"NotOlderThan\"",
                     match);
            goto fail;
        }
        if (strcmp(match, "Exact") == 0 && strcmp(rvq, "0") == 0) {
            kerr_set(&e, 422, "Invalid",
                     "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                     "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            goto fail;
        }
    }
    if (limq && *limq && limit < 0) limit = 0;
    if (cont && *cont) {
        if (rvq && *rvq) {
            kerr_bad_request(&e, "specifying resource version is not allowed when using continue");
            goto fail;
        }
        if (continue_decode(cont, &snap_rv, &start) != 0) {
            kerr_bad_request(&e, "continue key is not valid: invalid continue token");
            goto fail;
        }
        if (store_coll_snapshot(as->store, r->rt->coll, snap_rv, &snap) != 0) {
            kerr_set(&e, 410, "Expired",
                     "The provided continue parameter is too old to display a consistent list "
                     "result. You can start a new list without the continue parameter, or use the "
                     "continue token in this response to retrieve the remainder of the results. "
                     "Continuing with the provided token results in an inconsistent list - "
                     "objects that were created, modified, or deleted between the time the first "
                     "chunk was returned and now may show up in the list.");
            goto fail;
        }
    } else if (rvq && *rvq && strcmp(rvq, "0") != 0) {
        char *endp;
        unsigned long long want = strtoull(rvq, &endp, 10);
        if (*endp || endp == rvq) {
            kerr_bad_request(&e, "invalid resource version: %s", rvq);
            goto fail;
        }
        if (want > store_rv(as->store)) {
            kerr_set(&e, 504, "Timeout", "Too large resource version: %llu, current: %llu", want,
                     (unsigned long long)store_rv(as->store));
            e.details =
                json_pack("{s:[{s:s,s:s}],s:i}", "causes", "reason", "ResourceVersionTooLarge",
                          "message", "Too large resource version", "retryAfterSeconds", 1);
            goto fail;
        }
        if (match && strcmp(match, "Exact") == 0) {
            snap_rv = want;
            if (store_coll_snapshot(as->store, r->rt->coll, snap_rv, &snap) != 0) {
                kerr_set(&e, 410, "Expired", "too old resource version: %llu (%llu)", want,
                         (unsigned long long)store_history_floor(as->store));
                goto fail;
            }
        }
    }
    if (rvq && strcmp(rvq, "0") == 0) limit = 0; /* the watch cache ignores limit for RV 0 */
    if (!snap) snap_rv = store_rv(as->store);

    char prefix[300] = "";
    if (r->rt->namespaced && r->ns[0]) snprintf(prefix, sizeof prefix, "%s/", r->ns);
    if (snap) {
        size_t cap = json_object_size(snap), i = 0;
        keys = malloc((cap + 1) * sizeof *keys);
        const char *k;
        json_t *v;
        json_object_foreach(snap, k, v) if (!prefix[0] || strncmp(k, prefix, strlen(prefix)) == 0)
            keys[i++] = k;
        nkeys = i;
        qsort(keys, nkeys, sizeof *keys, cmp_str);
    } else {
        keys = store_coll_keys(r->rt->coll, prefix[0] ? prefix : NULL, &nkeys);
    }
    size_t pos = 0;
    if (start) {
        /* first key >= start */
        size_t a = 0, b = nkeys;
        while (a < b) {
            size_t m = (a + b) / 2;
            if (strcmp(keys[m], start) < 0)
                a = m + 1;
            else
                b = m;
        }
        pos = a;
    }
    bool table = rest_wants_table(r->http);
    items = json_array();
    size_t n_objs = 0, cap_objs = 64;
    json_t **objs = table ? malloc(cap_objs * sizeof *objs) : NULL;
    char *next_token = NULL;
    long long remaining = -1;
    /* fault injection: an empty page with a token before the last page (§2.6.4) */
    bool empty_page = as->faults.empty_pages && limit > 0 && !start && nkeys > 0;
    if (!empty_page) {
        for (; pos < nkeys; pos++) {
            json_t *obj =
                snap ? json_object_get(snap, keys[pos]) : store_coll_get(r->rt->coll, keys[pos]);
            if (!rest_obj_matches(r, obj, ls, fs)) continue;
            if (limit > 0 && (long long)json_array_size(items) + (long long)n_objs >= limit) {
                next_token = continue_encode(snap_rv, keys[pos]);
                if (!ls && !fs) remaining = (long long)(nkeys - pos);
                break;
            }
            if (table) {
                if (n_objs == cap_objs) objs = realloc(objs, (cap_objs *= 2) * sizeof *objs);
                objs[n_objs++] = objops_present(r->rt, r->version, obj);
            } else {
                json_array_append_new(items, item_for_list(r, obj));
            }
        }
    } else {
        next_token = continue_encode(snap_rv, pos < nkeys ? keys[pos] : "");
    }
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)snap_rv);
    json_t *md = json_pack("{s:s}", "resourceVersion", rvs);
    if (next_token) json_object_set_new(md, "continue", json_string(next_token));
    if (remaining > 0) json_object_set_new(md, "remainingItemCount", json_integer(remaining));
    json_t *body;
    if (table) {
        body = table_build(r->rt, restype_version(r->rt, r->version), objs, n_objs, include_mode(r),
                           true, time(NULL));
        for (size_t i = 0; i < n_objs; i++)
            json_decref(objs[i]);
        json_object_set_new(body, "metadata", md);
        json_decref(items);
    } else {
        char av[300];
        if (r->rt->group[0])
            snprintf(av, sizeof av, "%s/%s", r->rt->group, r->version);
        else
            snprintf(av, sizeof av, "%s", r->version);
        body = json_pack("{s:s,s:s,s:o,s:o}", "kind", r->rt->list_kind, "apiVersion", av,
                         "metadata", md, "items", items);
    }
    free(objs);
    free(next_token);
    items = NULL;
    rest_reply_json(r, 200, body, NULL);
    goto out;
fail:
    reply_err(r, &e);
out:
    json_decref(items);
    json_decref(snap);
    free(keys);
    free(start);
    free(rvq);
    free(match);
    free(limq);
    free(cont);
    free(sie);
    label_selector_free(ls);
    field_selector_free(fs);
}

static void do_get(rest_req_t *r)
{
    kerr_t e = {0};
    json_t *obj = objops_get(r->as, r->rt, r->ns, r->name);
    if (r->sub[0] && strcmp(r->sub, "status") != 0) {
        if (strcmp(r->rt->kind, "Pod") == 0 && strcmp(r->sub, "log") == 0) {
            if (!obj) return (void)(kerr_not_found(&e, r->rt, r->name), reply_err(r, &e));
            if (r->as->pod_log) {
                if (r->as->pod_log(r->as->pod_log_ud, r->http, obj, &e) != 0) reply_err(r, &e);
                return;
            }
            json_t *c = json_array_get(jsonx_get(obj, "spec.containers"), 0);
            kerr_bad_request(&e,
                             "container \"%s\" in pod \"%s\" is waiting to start: "
                             "ContainerCreating",
                             jsonx_str(c, "name", ""), r->name);
            return reply_err(r, &e);
        }
        kerr_type_not_found(&e);
        return reply_err(r, &e);
    }
    restype_version_t *ver = restype_version(r->rt, r->version);
    if (strcmp(r->sub, "status") == 0 && !ver->has_status) {
        kerr_type_not_found(&e);
        return reply_err(r, &e);
    }
    if (!obj) {
        kerr_not_found(&e, r->rt, r->name);
        return reply_err(r, &e);
    }
    reply_object(r, 200, obj, NULL);
}

/* Injected write failures (fault injection). Returns true if the request was answered. */
static bool inject_write_fault(rest_req_t *r)
{
    int code = faults_draw_write_error(&r->as->faults);
    if (!code) return false;
    kerr_t e = {0};
    switch (code) {
    case 429:
        kerr_set(&e, 429, "TooManyRequests",
                 "injected fault: too many requests, please try again "
                 "later");
        e.retry_after = strdup("1");
        e.details = json_pack("{s:i}", "retryAfterSeconds", 1);
        break;
    case 500:
        kerr_set(&e, 500, "InternalError", "Internal error occurred: injected fault");
        break;
    case 504:
        kerr_set(&e, 504, "Timeout",
                 "Timeout: request did not complete within the allowed "
                 "duration (injected fault)");
        break;
    default:
        kerr_set(&e, 503, "ServiceUnavailable",
                 "injected fault: the server is currently unable "
                 "to handle the request");
        e.retry_after = strdup("1");
        break;
    }
    reply_err(r, &e);
    return true;
}

static void do_write(rest_req_t *r, const char *verb)
{
    kerr_t e = {0};
    objops_opts_t o;
    write_q_t h = {0};
    json_t *body = NULL, *out = NULL;
    int code = 200;
    if (write_opts(r, &o, &h, &e)) goto fail;
    o.status = strcmp(r->sub, "status") == 0;
    o.finalize = strcmp(r->sub, "finalize") == 0;
    if (r->sub[0]) {
        restype_version_t *ver = restype_version(r->rt, r->version);
        bool ok = (o.status && ver->has_status) ||
                  (o.finalize && strcmp(r->rt->kind, "Namespace") == 0 && strcmp(verb, "PUT") == 0);
        if (!ok || strcmp(verb, "DELETE") == 0 || strcmp(verb, "POST") == 0) {
            kerr_type_not_found(&e);
            goto fail;
        }
    }
    if (strcmp(verb, "POST") == 0) {
        if (!(body = decode_body(r, false, &e))) goto fail;
        const char *ns = r->ns;
        if (r->rt->namespaced && !ns[0]) {
            /* POST to the all-namespaces path: the object must name its namespace */
            ns = jsonx_str(body, "metadata.namespace", "");
            if (!*ns) {
                kerr_bad_request(&e, "the namespace of the object must be set in the URL or the "
                                     "body");
                goto fail;
            }
            snprintf(r->ns, sizeof r->ns, "%s", ns);
        }
        if (objops_create(r->as, r->rt, r->ns, body, &o, &out, &e)) goto fail;
        code = 201;
    } else if (strcmp(verb, "PUT") == 0) {
        if (!(body = decode_body(r, false, &e))) goto fail;
        if (objops_update(r->as, r->rt, r->ns, r->name, body, &o, &out, &e)) goto fail;
    } else if (strcmp(verb, "PATCH") == 0) {
        const char *ct = http_request_header(r->http, "content-type");
        char ctype[80] = "";
        if (ct) snprintf(ctype, sizeof ctype, "%.*s", (int)strcspn(ct, ";"), ct);
        if (!ctype[0]) {
            kerr_set(&e, 415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json-patch+json, application/merge-patch+json, "
                     "application/apply-patch+yaml");
            goto fail;
        }
        if (strncmp(ctype, "application/apply-patch", 23) == 0 && h.manager_defaulted) {
            /* ValidatePatchOptions: an apply must name its manager */
            kerr_set(&e, 422, "Invalid",
                     "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
                     "required for apply patch");
            e.details =
                json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "group", "meta.k8s.io", "kind",
                          "PatchOptions", "causes", "reason", "FieldValueRequired", "message",
                          "Required value: is required for apply patch", "field", "fieldManager");
            goto fail;
        }
        if (!(body = decode_body(r, false, &e))) goto fail;
        bool created = false;
        if (objops_patch(r->as, r->rt, r->ns, r->name, ctype, body, &o, &out, &created, &e))
            goto fail;
        if (created) code = 201;
    } else { /* DELETE */
        if (!(body = decode_body(r, true, &e))) goto fail;
        if (json_is_null(body)) {
            json_decref(body);
            body = json_object();
        }
        if (json_is_object(body)) {
            char *pp = q(r, "propagationPolicy"), *gp = q(r, "gracePeriodSeconds");
            char *oc = q(r, "orphanDependents");
            if (pp && *pp) json_object_set_new(body, "propagationPolicy", json_string(pp));
            if (gp && *gp) json_object_set_new(body, "gracePeriodSeconds", json_integer(atoll(gp)));
            if (oc && *oc)
                json_object_set_new(body, "orphanDependents", json_boolean(jsonx_query_bool(oc)));
            free(pp);
            free(gp);
            free(oc);
            json_t *dr = json_object_get(body, "dryRun");
            if (json_is_array(dr) && json_array_size(dr) > 0) o.dry_run = true;
        }
        bool removed = false;
        if (objops_delete(r->as, r->rt, r->ns, r->name, body, &o, &out, &removed, &e)) goto fail;
        if (removed && !r->rt->return_deleted_object) {
            json_t *st = kstatus_success(r->rt, r->name, jsonx_str(out, "metadata.uid", NULL));
            rest_reply_json(r, 200, st, o.warnings);
            goto done;
        }
    }
    reply_object(r, code, out, o.warnings);
    goto done;
fail:
    reply_err(r, &e);
done:
    json_decref(body);
    json_decref(out);
    write_q_free(&h, &o);
}

static void do_delete_collection(rest_req_t *r)
{
    kerr_t e = {0};
    label_selector_t *ls;
    field_selector_t *fs;
    if (rest_parse_selectors(r, &ls, &fs, &e)) return reply_err(r, &e);
    char prefix[300] = "";
    if (r->rt->namespaced && r->ns[0]) snprintf(prefix, sizeof prefix, "%s/", r->ns);
    size_t n;
    const char **keys = store_coll_keys(r->rt->coll, prefix[0] ? prefix : NULL, &n);
    /* copy the names first: deleting changes the key cache */
    char **names = calloc(n + 1, sizeof *names), **nss = calloc(n + 1, sizeof *nss);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = store_coll_get(r->rt->coll, keys[i]);
        if (!rest_obj_matches(r, obj, ls, fs)) continue;
        names[m] = strdup(jsonx_str(obj, "metadata.name", ""));
        nss[m++] = strdup(jsonx_str(obj, "metadata.namespace", ""));
    }
    free(keys);
    objops_opts_t o = {.version = r->version};
    json_t *items = json_array();
    for (size_t i = 0; i < m; i++) {
        json_t *out = NULL;
        bool removed;
        kerr_t de = {0};
        if (objops_delete(r->as, r->rt, nss[i], names[i], NULL, &o, &out, &removed, &de) == 0)
            json_array_append_new(items, item_for_list(r, out));
        kerr_clear(&de);
        json_decref(out);
        free(names[i]);
        free(nss[i]);
    }
    free(names);
    free(nss);
    label_selector_free(ls);
    field_selector_free(fs);
    char av[300];
    if (r->rt->group[0])
        snprintf(av, sizeof av, "%s/%s", r->rt->group, r->version);
    else
        snprintf(av, sizeof av, "%s", r->version);
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)store_rv(r->as->store));
    rest_reply_json(r, 200,
                    json_pack("{s:s,s:s,s:{s:s},s:o}", "kind", r->rt->list_kind, "apiVersion", av,
                              "metadata", "resourceVersion", rvs, "items", items),
                    NULL);
}

void rest_resource(rest_req_t *r)
{
    const char *m = r->http->method;
    kerr_t e = {0};
    bool is_write = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
    if (is_write && inject_write_fault(r)) return;
    if (strcmp(m, "GET") == 0) {
        if (r->name[0]) return do_get(r);
        char *w = q(r, "watch");
        bool watch = w && jsonx_query_bool(w);
        free(w);
        if (watch) return watch_serve(r);
        return do_list(r);
    }
    if (strcmp(m, "POST") == 0) {
        if (r->name[0]) {
            kerr_set(&e, 405, "MethodNotAllowed",
                     "the server does not allow this method on the requested resource");
            return reply_err(r, &e);
        }
        return do_write(r, "POST");
    }
    if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0) {
        if (!r->name[0]) {
            if (strcmp(m, "DELETE") == 0) return do_delete_collection(r);
            kerr_set(&e, 405, "MethodNotAllowed",
                     "the server does not allow this method on the requested resource");
            return reply_err(r, &e);
        }
        return do_write(r, m);
    }
    kerr_set(&e, 405, "MethodNotAllowed",
             "the server does not allow this method on the requested resource");
    reply_err(r, &e);
}
