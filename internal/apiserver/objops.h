/* objops: the write paths of the API server, shared by the REST handlers and the built-in
 * controllers: create, update (PUT), patch, delete, with every rule a real API server applies
 * (metadata fill-in, status split, generation, pruning/defaulting/validation, no-op writes,
 * finalizers and graceful deletion, namespace admission). Objects are jansson trees; stored
 * objects are immutable. All functions run on the loop thread. */
#ifndef APISERVER_OBJOPS_H
#define APISERVER_OBJOPS_H

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/apiserver.h"
#include "apiserver/kstatus.h"

typedef struct objops_opts {
    bool dry_run;
    const char *field_manager;    /* NULL: derived from the User-Agent by the REST layer */
    const char *field_validation; /* "Strict", "Warn" (default) or "Ignore" */
    const char *version;          /* API version of the request (NULL = storage version) */
    bool status;                  /* the /status subresource */
    bool finalize;                /* namespaces/{n}/finalize */
    bool apply;                   /* set by objops_patch for an SSA create: operation "Apply" */
    json_t *warnings;             /* array of warning strings to append to, or NULL */
} objops_opts_t;

/* Store key of an object: "ns/name" for namespaced types, "name" otherwise. buf >= 512. */
void objops_key(const restype_t *rt, const char *ns, const char *name, char *buf, size_t len);
/* Borrowed stored object or NULL. */
json_t *objops_get(apiserver_t *as, const restype_t *rt, const char *ns, const char *name);
/* The object as a client of `version` sees it (apiVersion rewritten; conversion None). New
 * reference. */
json_t *objops_present(const restype_t *rt, const char *version, json_t *obj);

/* Each returns 0 with *out a new reference to the resulting object, or -1 with e set. body and
 * patch are borrowed. */
int objops_create(apiserver_t *as, restype_t *rt, const char *ns, json_t *body, objops_opts_t *o,
                  json_t **out, kerr_t *e);
int objops_update(apiserver_t *as, restype_t *rt, const char *ns, const char *name, json_t *body,
                  objops_opts_t *o, json_t **out, kerr_t *e);
/* content_type: application/merge-patch+json, application/json-patch+json,
 * application/strategic-merge-patch+json or application/apply-patch+yaml. *created is set when
 * an apply created the object. */
int objops_patch(apiserver_t *as, restype_t *rt, const char *ns, const char *name,
                 const char *content_type, json_t *patch, objops_opts_t *o, json_t **out,
                 bool *created, kerr_t *e);
/* delete_options: a DeleteOptions object or NULL. *out: the object as it now is (with
 * deletionTimestamp) or as it was when removed; *removed tells which. */
int objops_delete(apiserver_t *as, restype_t *rt, const char *ns, const char *name,
                  json_t *delete_options, objops_opts_t *o, json_t **out, bool *removed, kerr_t *e);

#endif
