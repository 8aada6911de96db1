/* patch: the project's one patch engine: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
 * and Kubernetes strategic merge patch (SMP), shared by localcluster and the controller.
 * All functions are pure: they read their inputs and return a new tree. */
#ifndef BASE_PATCH_H
#define BASE_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* Result codes (negative errno-style):
 *   -EINVAL      the patch document is malformed (wrong JSON type, bad op, bad pointer syntax)
 *   -ENOENT      JSON patch: a path does not exist (remove/replace/move/copy/test source)
 *   -EILSEQ      JSON patch: a "test" operation failed
 *   -E2BIG       the result exceeds internal limits (depth > 100, more than 10,000 operations)
 * errbuf (may be NULL) receives a one-line message for the user naming the operation/path. */

/* RFC 7386. doc and patch are borrowed; *out receives a new reference (never aliasing doc).
 * A patch that is not an object replaces the whole document (RFC 7386), so callers that need an
 * object (the API server) check the result's type. */
int patch_merge_apply(json_t *doc, json_t *patch, json_t **out, char *errbuf, size_t errlen);

/* RFC 6902. patch must be an array of operation objects. doc borrowed; *out new reference. */
int patch_json_apply(json_t *doc, json_t *patch, json_t **out, char *errbuf, size_t errlen);

/* How lists of one kind of object merge. Pure data: a table per Kubernetes type. */
typedef struct smp_list_rule {
    const char *path;      /* dotted path of the list from the object root, with "[]" for "every
                            * element of a list", e.g. "spec.containers", "spec.containers[].env",
                            * "metadata.finalizers" */
    const char *merge_key; /* element key for lists of objects ("name"), NULL for primitive lists
                            * merged as sets, or "" for atomic (replaced whole) */
} smp_list_rule_t;

/* The rules for a kind of the core/apps groups ("Pod", "Deployment", "Service", ...); kinds
 * with no special lists get the metadata rules only. Never NULL; terminated by {NULL, NULL}.
 * Static storage. */
const smp_list_rule_t *patch_smp_rules_for_kind(const char *kind);

/* Strategic merge patch. Lists named in rules merge by key (or as primitive sets); other lists
 * are atomic. Directives: "$patch": "replace"|"delete"|"merge", "$retainKeys",
 * "$setElementOrder/<list>", "$deleteFromPrimitiveList/<list>"; null deletes a key. doc, patch,
 * rules borrowed; *out new reference. patch must be an object (-EINVAL otherwise). */
int patch_smp_apply(json_t *doc, json_t *patch, const smp_list_rule_t *rules, json_t **out,
                    char *errbuf, size_t errlen);

/* Merge-patch diff: the smallest merge patch that turns from into to (NULL if equal). New ref. */
json_t *patch_merge_diff(json_t *from, json_t *to);

#endif
