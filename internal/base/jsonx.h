/* jsonx: small helpers over jansson trees used across the project: dotted-path reads and
 * writes, typed getters with defaults, compact encoding, and the Kubernetes time formats.
 * Getters borrow; setters steal the value they are given (like json_object_set_new). */
#ifndef BASE_JSONX_H
#define BASE_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Borrowed node at a dotted path of object keys ("metadata.name"), or NULL. */
json_t *jsonx_get(json_t *obj, const char *path);
/* String at path, or dflt if missing or not a string. Borrowed. */
const char *jsonx_str(json_t *obj, const char *path, const char *dflt);
/* Integer at path (JSON integer, or a real with no fraction), or dflt. */
long long jsonx_int(json_t *obj, const char *path, long long dflt);
/* true only for JSON true at path. */
bool jsonx_bool(json_t *obj, const char *path);
/* Sets obj[path] = value, creating intermediate objects; steals value. Returns 0 or -EINVAL
 * if an intermediate node exists and is not an object (value is then released). */
int jsonx_set_new(json_t *obj, const char *path, json_t *value);
/* Removes obj[path] if present. */
void jsonx_del(json_t *obj, const char *path);
/* The object at path, created (empty) if missing; NULL if a non-object is in the way. */
json_t *jsonx_obj(json_t *obj, const char *path);

/* Nesting depth of v ({} is 1, a scalar 0); the result exceeds cap exactly when the depth
 * does, and the walk never goes deeper than cap + 1 (safe on hostile input). */
int jsonx_depth(json_t *v, int cap);
/* Number of nodes in v, counting no further than cap + 1. */
size_t jsonx_count(json_t *v, size_t cap);

/* Compact JSON text (json_dumps with JSON_COMPACT), malloc'd; NULL only on allocation failure. */
char *jsonx_dump(json_t *v);

/* RFC 3339 UTC with second precision ("2024-01-02T03:04:05Z"); buf >= 32. */
void jsonx_time_format(time_t t, char *buf, size_t len);
/* MicroTime with exactly six fractional digits ("2024-01-02T03:04:05.123456Z"); buf >= 40. */
void jsonx_microtime_now(char *buf, size_t len);
/* Parses RFC 3339 (with optional fraction and Z or +hh:mm); returns 0 and *out, or -EINVAL. */
int jsonx_time_parse(const char *s, time_t *out);

/* Boolean query parameter as Kubernetes reads it: true unless "0" or "false" (any case). */
bool jsonx_query_bool(const char *value);

#endif
