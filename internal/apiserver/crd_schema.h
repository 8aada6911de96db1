/* crd_schema: CustomResourceDefinition checks and the structural-schema pipeline a custom
 * resource goes through on every write: prune -> default -> validate (as apiextensions does).
 * Pure functions over jansson trees.
 *
 * Causes: functions that find problems append objects to a caller-owned json array `causes`:
 *   {"reason": "FieldValueInvalid"|"FieldValueRequired"|"FieldValueNotSupported"|
 *              "FieldValueTypeInvalid"|"FieldValueDuplicate"|"FieldValueForbidden"|
 *              "FieldValueTooLong"|"FieldValueTooMany",
 *    "message": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
 *    "field": "spec.replicas"}
 * in the wording of k8s.io/apimachinery field errors, so the REST layer can build a 422 Status
 * whose message is `<Kind>.<group> "<name>" is invalid: [<field>: <message>, ...]`. */
#ifndef APISERVER_CRD_SCHEMA_H
#define APISERVER_CRD_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

/* Validates a CRD (apiextensions.k8s.io/v1): metadata.name == spec.names.plural + "." +
 * spec.group, names (plural/singular/kind/listKind, lowercase where required), scope
 * Namespaced|Cluster, at least one version, exactly one storage version, unique version names,
 * each version with a structural openAPIV3Schema whose root has type: object, valid
 * additionalPrinterColumns (name, type in integer|number|string|boolean|date, jsonPath starting
 * with '.'). Appends causes with fields like "spec.versions[0].schema.openAPIV3Schema.type". */
void crd_validate(json_t *crd, json_t *causes);

/* Fills the CRD's defaults in place: spec.names.singular (= lowercase kind), listKind
 * (kind + "List"), spec.conversion {strategy: None}. */
void crd_default(json_t *crd);

/* Removes from obj (in place) every field the schema does not declare, unless the schema node
 * has x-kubernetes-preserve-unknown-fields: true. Honors x-kubernetes-embedded-resource (keeps
 * apiVersion, kind, metadata) and x-kubernetes-int-or-string. The root's apiVersion, kind and
 * metadata are never pruned (metadata is handled by the REST layer). If pruned is non-NULL, the
 * dotted path of each removed field is appended ("spec.bogus"), sorted as apiextensions sorts them.
 * A null value on a field that is not nullable is removed too (it then may get its default). */
void crd_schema_prune(json_t *schema, json_t *obj, json_t *pruned);

/* Applies `default` values in place, only inside objects that exist (a default under spec
 * needs spec present), recursively, including into array items. Defaults are deep-copied. */
void crd_schema_default(json_t *schema, json_t *obj);

/* Validates obj against the schema: type (integer accepts only JSON integers; number accepts
 * both), required, enum, minimum/maximum (+exclusive), minLength/maxLength, pattern (ECMA-ish,
 * via POSIX extended regex), minItems/maxItems, minProperties/maxProperties, format (int32,
 * int64, date-time, ...: best effort), nullable, x-kubernetes-int-or-string,
 * x-kubernetes-list-type set|map (duplicates -> FieldValueDuplicate) with
 * x-kubernetes-list-map-keys, additionalProperties (schema form). The root's metadata is
 * skipped. Appends one cause per problem. */
void crd_schema_validate(json_t *schema, json_t *obj, json_t *causes);

/* Frees the compiled-pattern cache (at most 128 patterns; single-threaded use). */
void crd_schema_regex_cache_clear(void);

#endif
