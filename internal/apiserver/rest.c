/* rest: request routing for localcluster: health and version endpoints, discovery and OpenAPI,
 * the fault-injection admin endpoint, authentication, and the parsing of resource URLs
 * (/api/v1/..., /apis/{g}/{v}/...) handed to rest_resources.c. */
#include "apiserver/rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/discovery.h"
#include "apiserver/rest_internal.h"
#include "base/jsonx.h"

static void reply_raw_json(http_request_t *req, int code, json_t *body, const char *ctype,
                           const char *extra)
{
    char *text = jsonx_dump(body);
    size_t n = strlen(text);
    /* a trailing newline, as the real server writes */
    text = realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    http_respond(req, code, ctype ? ctype : "application/json", text, n + 1, extra);
    free(text);
    json_decref(body);
}

void rest_reply_err(http_request_t *req, const kerr_t *e)
{
    char extra[64] = "";
    if (e->retry_after) snprintf(extra, sizeof extra, "Retry-After: %s\r\n", e->retry_after);
    reply_raw_json(req, e->code ? e->code : 500, kstatus_from_err(e), NULL,
                   extra[0] ? extra : NULL);
}

void rest_reply_json(rest_req_t *r, int code, json_t *body, json_t *warnings)
{
    char *extra = NULL;
    size_t len = 0;
    FILE *f = NULL;
    if (json_array_size(warnings) > 0) {
        f = open_memstream(&extra, &len);
        size_t i;
        json_t *w;
        json_array_foreach(warnings, i, w)
        {
            fputs("Warning: 299 - \"", f);
            for (const char *p = json_string_value(w); p && *p; p++) {
                if (*p == '"' || *p == '\\') fputc('\\', f);
                if (*p != '\r' && *p != '\n') fputc(*p, f);
            }
            fputs("\"\r\n", f);
        }
        fclose(f);
    }
    reply_raw_json(r->http, code, body, NULL, extra);
    free(extra);
}

bool rest_wants_table(http_request_t *req)
{
    const char *a = http_request_header(req, "accept");
    return a && strstr(a, "as=Table") != NULL;
}

/* The aggregated discovery version the client asks for first ("v2" or "v2beta1", which
 * kubectl 1.27 speaks), or NULL for legacy discovery. Media ranges are tried in order. */
static const char *aggregated_version(http_request_t *req)
{
    const char *a = http_request_header(req, "accept");
    while (a && *a) {
        size_t n = strcspn(a, ",");
        char range[256];
        snprintf(range, sizeof range, "%.*s", (int)(n < 255 ? n : 255), a);
        if (strstr(range, "as=APIGroupDiscoveryList") && strstr(range, "g=apidiscovery.k8s.io")) {
            if (strstr(range, "v=v2beta1")) return "v2beta1";
            const char *v = strstr(range, "v=v2");
            if (v && (v[4] == ';' || v[4] == '\0')) return "v2";
        }
        a += n;
        if (*a == ',') a++;
        while (*a == ' ')
            a++;
    }
    return NULL;
}

static json_t *aggregated_doc(apiserver_t *as, http_request_t *req, bool core, char *ctype,
                              size_t len)
{
    const char *v = aggregated_version(req);
    if (!v) return NULL;
    json_t *doc = discovery_aggregated(as->reg, core);
    char av[64];
    snprintf(av, sizeof av, "apidiscovery.k8s.io/%s", v);
    json_object_set_new(doc, "apiVersion", json_string(av));
    snprintf(ctype, len, "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList", v);
    return doc;
}

static void reply_not_found_type(http_request_t *req)
{
    kerr_t e = {0};
    kerr_type_not_found(&e);
    rest_reply_err(req, &e);
    kerr_clear(&e);
}

static bool authorized(apiserver_t *as, http_request_t *req)
{
    if (!as->cfg.tls && !as->cfg.token) return true;
    if (req->peer_cert_valid) return true;
    const char *auth = http_request_header(req, "authorization");
    if (as->cfg.token && auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        size_t a = strlen(t), b = strlen(as->cfg.token);
        /* constant-time compare */
        unsigned char diff = (unsigned char)(a != b);
        for (size_t i = 0; i < a && i < b; i++)
            diff |= (unsigned char)(t[i] ^ as->cfg.token[i]);
        if (!diff) return true;
    }
    return false;
}

static void serve_version(http_request_t *req)
{
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor", "32",
                          "gitVersion", "v1.32.0-localcluster", "gitCommit",
                          "0000000000000000000000000000000000000000", "gitTreeState", "clean",
                          "buildDate", "2024-12-11T18:04:20Z", "goVersion", "go1.23.3", "compiler",
                          "gc", "platform", "linux/amd64");
    reply_raw_json(req, 200, v, NULL, NULL);
}

static void serve_admin_faults(apiserver_t *as, http_request_t *req)
{
    if (strcmp(req->method, "GET") == 0) {
        reply_raw_json(req, 200, faults_to_json(&as->faults), NULL, NULL);
        return;
    }
    if (strcmp(req->method, "PUT") != 0 && strcmp(req->method, "POST") != 0) {
        kerr_t e = {0};
        kerr_set(&e, 405, "MethodNotAllowed", "use GET or PUT on /admin/faults");
        rest_reply_err(req, &e);
        kerr_clear(&e);
        return;
    }
    json_error_t jerr;
    json_t *in = json_loadb(req->body, req->body_len, 0, &jerr);
    char msg[512] = "";
    if (!in || faults_from_json(&as->faults, in, msg, sizeof msg) != 0) {
        kerr_t e = {0};
        kerr_bad_request(&e, "%s", in ? msg : jerr.text);
        rest_reply_err(req, &e);
        kerr_clear(&e);
        json_decref(in);
        return;
    }
    json_decref(in);
    store_set_retention(as->store, (size_t)as->faults.expire_after);
    reply_raw_json(req, 200, faults_to_json(&as->faults), NULL, NULL);
}

/* /openapi/v2: an empty Swagger 2.0 document. kubectl 1.27 validates only against v2 (in
 * protobuf) and skips validation for kinds the document does not describe; kubectl 1.32 uses v3
 * and falls back to its compiled-in types for patches. The protobuf form is the gnostic
 * openapi_v2.Document {swagger: "2.0", info: {title, version}}, encoded by hand because Debian
 * packages no protobuf runtime for C that knows this schema (it is 41 fixed bytes). */
static void serve_openapi_v2(http_request_t *req)
{
    const char *accept = http_request_header(req, "accept");
    if (accept && strstr(accept, "protobuf")) {
        static const char title[] = "Kubernetes", version[] = "v1.32.0";
        char buf[64];
        size_t n = 0;
        buf[n++] = 0x0a; /* field 1 (swagger), length-delimited */
        buf[n++] = 3;
        memcpy(buf + n, "2.0", 3);
        n += 3;
        buf[n++] = 0x12; /* field 2 (info) */
        buf[n++] = (char)(2 + sizeof title - 1 + 2 + sizeof version - 1);
        buf[n++] = 0x0a; /* info.title */
        buf[n++] = sizeof title - 1;
        memcpy(buf + n, title, sizeof title - 1);
        n += sizeof title - 1;
        buf[n++] = 0x12; /* info.version */
        buf[n++] = sizeof version - 1;
        memcpy(buf + n, version, sizeof version - 1);
        n += sizeof version - 1;
        http_respond(req, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", buf, n,
                     NULL);
        return;
    }
    reply_raw_json(req, 200,
                   json_pack("{s:s,s:{s:s,s:s},s:{}}", "swagger", "2.0", "info", "title",
                             "Kubernetes", "version", "v1.32.0", "paths"),
                   NULL, NULL);
}

#define MAX_SEGS 10

static int split_path(char *path, char **segs)
{
    int n = 0;
    for (char *tok = strtok(path, "/"); tok; tok = strtok(NULL, "/")) {
        if (n == MAX_SEGS) return -1;
        segs[n++] = tok;
    }
    return n;
}

/* /api/v1/... or /apis/{g}/{v}/... past the group-version:
 * [namespaces/{ns}/]{plural}[/{name}[/{sub}]] */
static void route_resource(apiserver_t *as, http_request_t *req, const char *group,
                           const char *version, char **segs, int n)
{
    rest_req_t r = {.as = as, .http = req};
    const char *plural = NULL;
    if (n >= 3 && strcmp(segs[0], "namespaces") == 0 &&
        !(n == 3 && (strcmp(segs[2], "status") == 0 || strcmp(segs[2], "finalize") == 0))) {
        snprintf(r.ns, sizeof r.ns, "%s", segs[1]);
        plural = segs[2];
        if (n >= 4) snprintf(r.name, sizeof r.name, "%s", segs[3]);
        if (n >= 5) snprintf(r.sub, sizeof r.sub, "%s", segs[4]);
        if (n > 5) return reply_not_found_type(req);
    } else {
        plural = segs[0];
        if (n >= 2) snprintf(r.name, sizeof r.name, "%s", segs[1]);
        if (n >= 3) snprintf(r.sub, sizeof r.sub, "%s", segs[2]);
        if (n > 3) return reply_not_found_type(req);
    }
    restype_t *rt = registry_find(as->reg, group, plural);
    restype_version_t *ver = rt ? restype_version(rt, version) : NULL;
    if (!rt || !ver || !ver->served || !rt->established) return reply_not_found_type(req);
    if (r.ns[0] && !rt->namespaced) return reply_not_found_type(req);
    r.rt = rt;
    r.version = ver->name;
    rest_resource(&r);
}

void rest_handle(http_request_t *req, void *ud)
{
    apiserver_t *as = ud;
    const char *p = req->path;
    if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 || strcmp(p, "/livez") == 0) {
        http_respond(req, 200, "text/plain; charset=utf-8", "ok", 2, NULL);
        return;
    }
    if (strcmp(p, "/version") == 0 || strcmp(p, "/version/") == 0) return serve_version(req);
    if (!authorized(as, req)) {
        kerr_t e = {0};
        kerr_set(&e, 401, "Unauthorized", "Unauthorized");
        rest_reply_err(req, &e);
        kerr_clear(&e);
        return;
    }
    if (req->body_too_large) {
        kerr_t e = {0};
        kerr_set(&e, 413, "RequestEntityTooLarge",
                 "the server has received a request that is too large: limit is 3145728 bytes");
        rest_reply_err(req, &e);
        kerr_clear(&e);
        return;
    }
    if (strcmp(p, "/admin/faults") == 0) return serve_admin_faults(as, req);

    char *path = strdup(p);
    char *segs[MAX_SEGS];
    int n = split_path(path, segs);
    json_t *doc = NULL;
    const char *ctype = NULL;
    char ctbuf[128];
    if (n < 0) {
        reply_not_found_type(req);
    } else if (n >= 1 && strcmp(segs[0], "api") == 0) {
        if (n == 1) {
            doc = aggregated_doc(as, req, true, ctbuf, sizeof ctbuf);
            if (doc)
                ctype = ctbuf;
            else
                doc = discovery_api_versions(as->address);
        } else if (strcmp(segs[1], "v1") != 0) {
            reply_not_found_type(req);
        } else if (n == 2) {
            doc = discovery_resource_list(as->reg, "", "v1");
        } else {
            route_resource(as, req, "", "v1", segs + 2, n - 2);
        }
    } else if (n >= 1 && strcmp(segs[0], "apis") == 0) {
        if (n == 1) {
            doc = aggregated_doc(as, req, false, ctbuf, sizeof ctbuf);
            if (doc)
                ctype = ctbuf;
            else
                doc = discovery_group_list(as->reg);
        } else if (n == 2) {
            doc = discovery_group(as->reg, segs[1]);
            if (!doc) reply_not_found_type(req);
        } else if (n == 3) {
            doc = discovery_resource_list(as->reg, segs[1], segs[2]);
            if (!doc) reply_not_found_type(req);
        } else {
            route_resource(as, req, segs[1], segs[2], segs + 3, n - 3);
        }
    } else if (n == 2 && strcmp(segs[0], "openapi") == 0 && strcmp(segs[1], "v2") == 0) {
        serve_openapi_v2(req);
    } else if (n >= 2 && strcmp(segs[0], "openapi") == 0 && strcmp(segs[1], "v3") == 0) {
        if (n == 2) {
            doc = openapi_v3_index(as->reg);
        } else {
            const char *rest = p + strlen("/openapi/v3/");
            doc = openapi_v3_document(as->reg, rest);
            if (!doc) reply_not_found_type(req);
        }
    } else {
        reply_not_found_type(req);
    }
    if (doc) reply_raw_json(req, 200, doc, ctype, NULL);
    free(path);
}
