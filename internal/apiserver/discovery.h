/* discovery: the documents of API discovery (legacy APIVersions / APIGroupList /
 * APIResourceList / APIGroup, and the aggregated apidiscovery.k8s.io/v2 lists) and the
 * OpenAPI v3 index and per-group-version documents kubectl apply needs. Built from the
 * registry on request. Pure; returns new references. */
#ifndef APISERVER_DISCOVERY_H
#define APISERVER_DISCOVERY_H

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/registry.h"

/* GET /api: {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[...]}. */
json_t *discovery_api_versions(const char *server_address);
/* GET /apis: APIGroupList of every non-core group with a served version (established types
 * only); preferred version first. */
json_t *discovery_group_list(const registry_t *reg);
/* GET /apis/{group}: APIGroup, or NULL if no such group. */
json_t *discovery_group(const registry_t *reg, const char *group);
/* GET /api/v1 or /apis/{g}/{v}: APIResourceList (status subresources as "plural/status"
 * entries; namespaces also get "namespaces/finalize" and "namespaces/status"; pods "pods/log"
 * and "pods/status"), or NULL if the group-version is not served. */
json_t *discovery_resource_list(const registry_t *reg, const char *group, const char *version);
/* Aggregated discovery: core=true for /api (the core group only), false for /apis. */
json_t *discovery_aggregated(const registry_t *reg, bool core);

/* GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=H"},...}}.
 * H changes whenever the document changes (derived from the document's content). */
json_t *openapi_v3_index(const registry_t *reg);
/* GET /openapi/v3/{gvpath} (gvpath "api/v1" or "apis/g/v"): an OpenAPI 3.0 document with, per
 * kind, a path item whose get/put/patch/delete operations carry
 * "x-kubernetes-group-version-kind" (an object) and the fieldValidation query parameter; patch
 * lists the request body media types the kind accepts (strategic-merge only for built-ins), and
 * components.schemas holds the kind's schema (CRD schema for CRs, permissive object for
 * built-ins) with x-kubernetes-group-version-kind (an array). NULL if not served. */
/* Note: localcluster's built-in schemas are permissive, and kubectl 1.32 builds apply's
 * strategic merge patch from them when the media type is listed ("warning: error calculating
 * patch from openapi v3 spec: unable to find api field"). So strategic-merge is listed for no
 * kind (openapi.c openapi_advertise_smp); kubectl then uses its compiled-in types. */
json_t *openapi_v3_document(const registry_t *reg, const char *gvpath);
/* The same document as cached compact JSON text (borrowed: valid until the next openapi call
 * after a registry change, so copy it before handing control back to the loop) with its length
 * and the hash the index advertises; NULL if not served. Documents are built once per registry
 * change and kept in the registry's cache slot (registry_cache_get). */
const char *openapi_v3_document_text(const registry_t *reg, const char *gvpath, size_t *len,
                                     const char **hash);

#endif
