/* registry: the resource types localcluster serves: the built-in kinds (a static table) and the
 * custom resources that established CRDs define. Discovery, OpenAPI, tables and the REST layer
 * read it; the CRD controller adds and removes types. Single-threaded (the loop thread). */
#ifndef APISERVER_REGISTRY_H
#define APISERVER_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store_coll store_coll_t; /* objects of one type; see store.h */

typedef struct restype_version {
    char *name;                /* "v1", "v1alpha1" */
    bool served;               /* false: not in discovery, 404 */
    bool storage;              /* the storage version */
    bool has_status;           /* status subresource */
    json_t *schema;            /* CRs: openAPIV3Schema of this version (borrowed from crd); NULL
                                * for built-ins */
    json_t *printer_columns;   /* CRs: additionalPrinterColumns array or NULL (borrowed) */
    json_t *selectable_fields; /* CRs: selectableFields array or NULL (borrowed) */
} restype_version_t;

typedef struct restype {
    char *group; /* "" for the core group */
    char *plural, *singular, *kind, *list_kind;
    char **short_names;
    size_t n_short_names;
    char **categories;
    size_t n_categories;
    bool namespaced;
    bool builtin;
    bool tracks_generation;             /* generation set to 1 and bumped on non-metadata changes */
    bool return_deleted_object;         /* DELETE answers with the object (pods, namespaces, SAs) */
    bool name_is_dns_label;             /* names must be DNS-1123 labels (namespaces, services) */
    bool smp_allowed;                   /* strategic merge patch accepted (built-ins) */
    const char *const *field_selectors; /* extra supported field selector paths, NULL-ended */
    restype_version_t *versions;
    size_t n_versions;
    json_t *crd;      /* CR types: the CRD object as stored (own reference), else NULL */
    bool established; /* CR types: serving; built-ins always true */
    bool terminating; /* CR types: CRD being deleted: creates answer 405 */
    store_coll_t *coll;
} restype_t;

typedef struct registry registry_t;

registry_t *registry_new(void);
void registry_free(registry_t *reg);
/* Adds the built-in kinds (core/v1, apps/v1, coordination.k8s.io/v1, rbac..., apiextensions). */
void registry_add_builtins(registry_t *reg);

size_t registry_count(const registry_t *reg);
restype_t *registry_at(const registry_t *reg, size_t i);
/* Finds by group and plural (any version) or returns NULL. */
restype_t *registry_find(const registry_t *reg, const char *group, const char *plural);
/* Finds by group and kind. */
restype_t *registry_find_kind(const registry_t *reg, const char *group, const char *kind);
/* The served version named, or NULL. */
restype_version_t *restype_version(const restype_t *rt, const char *version);
/* The storage version (never NULL for a valid type). */
restype_version_t *restype_storage_version(const restype_t *rt);

/* Bumped whenever the set of types or their schemas changes (OpenAPI hashes use it). */
uint64_t registry_epoch(const registry_t *reg);
/* Bumps the epoch: call it after changing a type's fields directly (e.g. `established`). */
void registry_touch(registry_t *reg);

/* Finds a type by any of its names (plural, singular, short name, kind case-insensitively),
 * plurals first; group NULL searches every group. */
restype_t *registry_resolve(const registry_t *reg, const char *group, const char *name);

/* One slot of derived state (openapi.c keeps its document cache there), freed by free_fn when
 * replaced or with the registry. Not part of what the registry describes, hence const. */
void *registry_cache_get(const registry_t *reg);
void registry_cache_set(const registry_t *reg, void *cache, void (*free_fn)(void *));

/* CR types. registry_apply_crd creates or updates the type a CRD defines (the CRD is
 * borrowed; the type keeps its own reference). registry_remove_type drops a type and its
 * collection. */
/* apply_crd details: names come from spec.names (singular defaults to lowercase kind, listKind
 * to kind+"List"); a version without storage:true makes the first one storage. `established`
 * follows the CRD's Established condition when it has one, else is true for a new type and
 * unchanged on update; `terminating` is set while metadata.deletionTimestamp is. `coll` is never
 * touched. Returns NULL (no change) for a CRD without group/plural/kind/versions or one naming
 * a built-in. registry_remove_type frees the restype only: the caller frees `coll` first. */
restype_t *registry_apply_crd(registry_t *reg, json_t *crd);
void registry_remove_type(registry_t *reg, restype_t *rt);

#endif
