/* table: server-side Table rendering (meta.k8s.io/v1 Table), as kubectl get asks for it:
 * printer columns of a CRD version, fixed columns for the built-in kinds, ages. Pure. */
#ifndef APISERVER_TABLE_H
#define APISERVER_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "apiserver/registry.h"

typedef enum table_include {
    TABLE_INCLUDE_METADATA,
    TABLE_INCLUDE_OBJECT,
    TABLE_INCLUDE_NONE
} table_include_t;

/* Builds a Table for objs[0..n) (borrowed) of rt at version ver. Columns: for CRs "Name" then
 * additionalPrinterColumns in order (a single "Age" column when there are none); for built-ins
 * the columns kubectl shows (pods: Name, Ready, Status, Restarts, Age, IP(wide), Node(wide);
 * namespaces: Name, Status, Age; CRDs: Name, Created At; other kinds: Name, Age, ...).
 * with_column_definitions=false omits "columnDefinitions" (watch events after the first).
 * Each row: {"cells":[...], "object": PartialObjectMetadata | the object | absent}. now is the
 * reference time for ages. metadata (resourceVersion, continue) is left to the caller: the
 * returned Table has "metadata":{}. New reference. */
json_t *table_build(const restype_t *rt, const restype_version_t *ver, json_t *const *objs,
                    size_t n, table_include_t include, bool with_column_definitions, time_t now);

/* Human age as kubectl prints it ("5s", "3m", "2m30s" below 10 minutes rule etc., "5h", "3d",
 * "2y"): k8s.io/apimachinery duration.HumanDuration. buf >= 16 bytes. */
void table_human_age(long long seconds, char *buf, size_t len);

/* Evaluates a simple JSONPath as printer columns use it (".spec.replicas",
 * ".status.conditions[0].type",
 * ".metadata.labels.app", ".status.conditions[?(@.type==\"Ready\")].status"). Returns a borrowed
 * node or NULL. */
json_t *table_jsonpath_get(json_t *obj, const char *path);

#endif
