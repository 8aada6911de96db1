/* jsonpath: JSONPath expressions as printer columns and kubectl use them (client-go's
 * util/jsonpath with missing keys allowed), compiled once and evaluated on jansson trees. */
#ifndef APISERVER_JSONPATH_H
#define APISERVER_JSONPATH_H

#include <jansson.h>
#include <stdbool.h>

typedef struct jsonpath jsonpath_t;

/* Compiles path (".spec.replicas", "{.a[0].b}", filters, unions, ..). Returns 0 and *out
 * (free with jsonpath_free), or a negative errno (-EINVAL for a syntax error) and *out NULL. */
int jsonpath_compile(const char *path, jsonpath_t **out);
/* The first value the path selects in obj (borrowed from obj, or from the path itself when the
 * path is a literal: see jsonpath_owns), or NULL when nothing matches. */
json_t *jsonpath_first(const jsonpath_t *p, json_t *obj);
/* Whether v is a literal owned by the compiled path rather than part of the object. */
bool jsonpath_owns(const jsonpath_t *p, json_t *v);
/* Frees a compiled path; NULL is fine. */
void jsonpath_free(jsonpath_t *p);

#endif
