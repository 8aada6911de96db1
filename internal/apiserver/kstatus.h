/* kstatus: Kubernetes Status bodies (metav1.Status) for every error the API server returns,
 * with the codes, reasons, messages and details of k8s.io/apimachinery/pkg/api/errors. */
#ifndef APISERVER_KSTATUS_H
#define APISERVER_KSTATUS_H

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/registry.h"

/* An error on its way to the client. Owned by whoever holds it; kstatus_clear frees. */
typedef struct kerr {
    int code;          /* HTTP status; 0 = no error */
    char reason[32];   /* "NotFound", "Conflict", ... ("" for a 500 without a reason) */
    char *message;     /* malloc'd */
    json_t *details;   /* object or NULL (own reference) */
    char *retry_after; /* Retry-After seconds for 429/503, or NULL */
} kerr_t;

/* Sets e (freeing what it held) to code/reason and a printf-formatted message. Returns -1 so
 * callers can `return kerr_set(...)`. */
int kerr_set(kerr_t *e, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kerr_clear(kerr_t *e);

/* "widgets.example.com" or "pods" (the group-qualified resource Kubernetes prints). */
void kstatus_qualified(const restype_t *rt, char *buf, size_t len);

/* Common errors, with details as apimachinery fills them. */
int kerr_not_found(kerr_t *e, const restype_t *rt, const char *name);
int kerr_type_not_found(kerr_t *e);
int kerr_already_exists(kerr_t *e, const restype_t *rt, const char *name);
int kerr_conflict(kerr_t *e, const restype_t *rt, const char *name, const char *why);
int kerr_bad_request(kerr_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 422 Invalid: causes (stolen) is an array of {reason,message,field}; the message is
 * `<Kind>.<group> "<name>" is invalid: <field>: <msg>` or `[...]` for several causes.
 * kind_for_details is the Kind (schema errors) or the plural (metadata.resourceVersion). */
int kerr_invalid(kerr_t *e, const restype_t *rt, const char *name, json_t *causes);

/* The Status JSON for an error (new reference). */
json_t *kstatus_from_err(const kerr_t *e);
/* A Success Status for a delete: {"status":"Success","details":{name,group,kind,uid}}. */
json_t *kstatus_success(const restype_t *rt, const char *name, const char *uid);

#endif
