/* controllers: the background control loops localcluster runs beside its API server, as
 * kube-apiserver and kube-controller-manager do on a real cluster: CRD establishment and
 * cleanup, namespace termination and default service accounts, and the ownerReference garbage
 * collector. Each pass is level-based: it reads the store and writes the difference through
 * objops, so watchers see exactly what a real cluster shows. */
#ifndef APISERVER_CONTROLLERS_H
#define APISERVER_CONTROLLERS_H

#include "apiserver/apiserver.h"

/* Establishes new or changed CRDs (registry type, status conditions), deletes the custom
 * resources of a terminating CRD then releases its finalizer, and drops the types of CRDs
 * that are gone. */
void ctl_crd_run(apiserver_t *as);
/* Creates each namespace's "default" ServiceAccount; empties terminating namespaces (honouring
 * finalizers) and finalizes them once empty. */
void ctl_namespace_run(apiserver_t *as);
/* Deletes dependents whose owners are all gone (background), handles foregroundDeletion and
 * orphan finalizers. */
void ctl_gc_run(apiserver_t *as);

/* Deletes (background, finalizers honoured) every object of rt whose key starts with prefix
 * (NULL = all) and is not already being deleted; returns how many objects remain. */
size_t ctl_delete_all(apiserver_t *as, restype_t *rt, const char *prefix);

/* Internal write helper for the controllers: removes one finalizer (metadata.finalizers). */
int ctl_remove_finalizer(apiserver_t *as, restype_t *rt, json_t *obj, const char *finalizer);

#endif
