/* client: the project's one Kubernetes REST client, over libcurl. It owns connection reuse
 * (one easy handle per calling thread, kept alive until kube_client_free: meant for long-lived
 * threads; each short-lived thread that calls it leaves a handle and its connection behind until
 * then), TLS and authentication from a kube_config,
 * the client-side rate limit (QPS/burst), retries honouring Retry-After on 429/5xx, Status
 * decoding, and typed helpers for reads and writes. Blocking calls are safe from any thread. */
#ifndef KUBE_CLIENT_H
#define KUBE_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/metrics.h"
#include "kube/config.h"

typedef struct kube_client kube_client_t;

typedef struct kube_client_options {
    double qps;                  /* client-side requests per second; 0 = unlimited */
    int burst;                   /* bucket size (>= 1 when qps > 0) */
    const char *user_agent;      /* NULL = "sandbox-controller/0.1 (linux/amd64)" */
    long timeout_ms;             /* per ordinary request (not watches); 0 = 30000 */
    int max_retries;             /* retries of 429/5xx answers with Retry-After; 0 = 10. < 0 = no
                                  * retries at all: neither those nor the GET retries after a
                                  * transport error (3, 100-400 ms apart), so one call takes at most
                                  * about timeout_ms (a leader elector's renew) */
    metrics_registry_t *metrics; /* borrowed, may be NULL: rest_client_requests_total{code,method},
                                  * rest_client_request_duration_seconds */
} kube_client_options_t;

/* Creates a client. Steals cfg (freed by kube_client_free, also on error). opts may be NULL.
 * Returns 0, or a negative errno with a message in err (may be NULL). */
int kube_client_new(kube_config_t *cfg, const kube_client_options_t *opts, kube_client_t **out,
                    char *err, size_t errlen);
void kube_client_free(kube_client_t *c);
/* The configuration in use (borrowed). */
const kube_config_t *kube_client_config(const kube_client_t *c);

/* ---- resources and paths ---- */
typedef struct kube_resource {
    const char *group;   /* "" for the core group */
    const char *version; /* "v1" */
    const char *plural;  /* "pods" */
    const char *kind;    /* "Pod" */
    bool namespaced;
} kube_resource_t;

extern const kube_resource_t KUBE_RES_PODS, KUBE_RES_CONFIGMAPS, KUBE_RES_EVENTS, KUBE_RES_LEASES,
    KUBE_RES_NAMESPACES, KUBE_RES_CRDS, KUBE_RES_POOLS, KUBE_RES_BATCHSANDBOXES;

/* Writes "/api/v1/namespaces/NS/pods/NAME/SUB" (or "/apis/GROUP/VERSION/...") into buf. ns NULL
 * or "" = across all namespaces (or cluster-scoped); name and sub may be NULL. Names are
 * percent-escaped. Returns 0 or -ENOSPC. */
int kube_path(const kube_resource_t *r, const char *ns, const char *name, const char *sub,
              char *buf, size_t len);

/* ---- errors ---- */
#define KUBE_MAX_CAUSES 8
typedef struct kube_status {
    int code;          /* HTTP status; 0 = no response (transport error, see message) */
    char reason[64];   /* Status.reason ("NotFound", "Conflict", "Expired", ...); "" if none */
    char message[512]; /* Status.message, or a description of the transport error */
    char details_name[256];
    char details_group[128];
    char details_kind[128];
    int ncauses;
    struct {
        char reason[64];
        char field[128];
        char message[256];
    } causes[KUBE_MAX_CAUSES];
    double retry_after_s; /* Retry-After header or details.retryAfterSeconds; 0 if none */
    char audit_id[64];    /* Audit-Id response header */
} kube_status_t;

/* Pure: fills out from an HTTP code and a response body (a Status, another JSON value, or
 * anything). A body that is not a Status gets reason from the code (404 -> "NotFound", ...) and
 * the body's first 200 bytes as message. Never fails. */
void kube_status_decode(int http_code, const char *body, size_t len, kube_status_t *out);
bool kube_status_is_not_found(const kube_status_t *s);      /* object NotFound: 404, details.name */
bool kube_status_is_type_not_found(const kube_status_t *s); /* resource type not served: 404
                                                             * without details.name */
bool kube_status_is_conflict(const kube_status_t *s);       /* 409 Conflict: re-read and retry */
bool kube_status_is_field_manager_conflict(const kube_status_t *s); /* 409: do not retry */
bool kube_status_is_already_exists(const kube_status_t *s);
bool kube_status_is_expired(const kube_status_t *s);   /* 410 Expired or Gone: relist */
bool kube_status_is_invalid(const kube_status_t *s);   /* 422 */
bool kube_status_is_retryable(const kube_status_t *s); /* transport error, 429, 500, 502-504 */

/* Return codes of every request function below:
 *   0            2xx
 *   -ENOENT      object NotFound           -ENOTSUP  resource type NotFound (CRD missing)
 *   -EEXIST      AlreadyExists             -ESTALE   Conflict (stale resourceVersion)
 *   -EBUSY       FieldManagerConflict      -ETIME    Expired / Gone (410)
 *   -EINVAL      400 / 422                 -EACCES   401 / 403
 *   -EAGAIN      429 / 5xx after the retries ran out
 *   -EIO         no response (connection refused, reset, timeout, TLS); st->code is 0
 *   -EPROTO      any other status
 * st (may be NULL) always holds the details when the result is not 0. */

/* One blocking request. path is "/api/..." with an optional query. body may be NULL. On 2xx,
 * *out (may be NULL) gets the decoded JSON body (new reference; NULL for an empty body). */
int kube_request(kube_client_t *c, const char *method, const char *path, const char *content_type,
                 const char *body, size_t len, json_t **out, kube_status_t *st);

/* ---- typed helpers; obj/patch arguments are borrowed, *out is a new reference ---- */
int kube_get(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
             json_t **out, kube_status_t *st);
/* Paginated list (limit=500, follows continue, relists from scratch once on 410). *out is the
 * List object with all items; its metadata.resourceVersion is the list's version. */
int kube_list(kube_client_t *c, const kube_resource_t *r, const char *ns,
              const char *label_selector, json_t **out, kube_status_t *st);
int kube_create(kube_client_t *c, const kube_resource_t *r, const char *ns, json_t *obj,
                json_t **out, kube_status_t *st);
/* PUT of obj (carrying metadata.name and metadata.resourceVersion); sub NULL or "status". */
int kube_update(kube_client_t *c, const kube_resource_t *r, const char *ns, json_t *obj,
                const char *sub, json_t **out, kube_status_t *st);

typedef enum kube_patch_type {
    KUBE_PATCH_MERGE,     /* application/merge-patch+json */
    KUBE_PATCH_JSON,      /* application/json-patch+json (use "test" ops as preconditions) */
    KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json (built-in kinds only) */
} kube_patch_type_t;
int kube_patch(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
               const char *sub, kube_patch_type_t type, json_t *patch, json_t **out,
               kube_status_t *st);
/* DELETE with propagationPolicy (NULL = "Background") and an optional uid precondition.
 * Object NotFound returns -ENOENT (callers usually treat it as done). */
int kube_delete(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
                const char *propagation, const char *uid_precondition, kube_status_t *st);

/* Read-modify-write with conflict retry (client-go retry.RetryOnConflict: 5 attempts, 10 ms
 * apart, 10 % jitter): GET, mutate(obj) edits the fresh copy in place, PUT (to sub if set).
 * mutate returns 0 to write, 1 for "nothing to change" (no write; returns 0 and *out = the
 * object read), or a negative code to abort with it. */
typedef int (*kube_mutate_fn)(json_t *obj, void *ud);
int kube_update_retry(kube_client_t *c, const kube_resource_t *r, const char *ns, const char *name,
                      const char *sub, kube_mutate_fn mutate, void *ud, json_t **out,
                      kube_status_t *st);

/* ---- for asynchronous users (the informer's watches on a curl multi) ---- */
/* Prepares easy for GET base+path_and_query: URL, TLS material, User-Agent, Accept JSON, and the
 * Authorization header (current token). Appends headers to *headers (caller frees with
 * curl_slist_free_all after the transfer and sets nothing else auth-related). No timeout is set.
 * Returns 0 or -ENOMEM. */
int kube_client_setup_easy(kube_client_t *c, CURL *easy, const char *path_and_query,
                           struct curl_slist **headers);
/* Counts one API answer in the metrics (method "GET", code 0 = transport error). */
void kube_client_note_response(kube_client_t *c, const char *method, int code);

#endif
