/* objops_internal: what the objops_*.c files and the built-in controllers share beyond the
 * public objops.h contract. */
#ifndef APISERVER_OBJOPS_INTERNAL_H
#define APISERVER_OBJOPS_INTERNAL_H

#include "apiserver/objops.h"

/* "group/version" or "version" for rt (version NULL = storage version). */
void objops_api_version(const restype_t *rt, const char *version, char *buf, size_t len);
/* The current time as a Kubernetes Time string (new reference). */
json_t *objops_now_time(void);
/* 400 checks of a body before any rule: object, kind/apiVersion of the URL, typed metadata. */
int objops_check_decode(const restype_t *rt, const char *version, json_t *obj, kerr_t *e);
/* Update tail shared by PUT, PATCH and controllers; next is stolen, old borrowed. */
int objops_commit_update(apiserver_t *as, restype_t *rt, const char *ns, json_t *old, json_t *next,
                         json_t *body_for_fields, objops_opts_t *o, const char *operation,
                         json_t **out, kerr_t *e);
/* Commits a change under a fresh resourceVersion. ADDED/MODIFIED: obj (stolen) is the new stored
 * state and gets the RV. DELETED: obj (borrowed) is the last stored state; watchers get a copy
 * carrying the deletion RV. Returns a new reference to what was committed (the object, or that
 * copy). */
json_t *objops_commit(apiserver_t *as, restype_t *rt, const char *key, store_ev_type_t type,
                      json_t *obj);
/* ServiceAccount admission for pods (§2.10.4): 403 when the pod's service account is missing. */
int objops_pod_admit_sa(apiserver_t *as, const char *ns, json_t *pod, kerr_t *e);
/* Hooks after a committed write or removal (wake controllers that care). */
void objops_after_write(apiserver_t *as, restype_t *rt, json_t *obj);
void objops_after_delete(apiserver_t *as, restype_t *rt, json_t *obj);

#endif
