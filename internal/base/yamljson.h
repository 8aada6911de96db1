/* yamljson: YAML documents (libyaml) to jansson trees, as Kubernetes reads them (YAML 1.1 core
 * scalars: null/~, true/false, integers, floats; quoted scalars stay strings). */
#ifndef BASE_YAMLJSON_H
#define BASE_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

/* Parses the first YAML document in buf. Returns a new reference, or NULL with a message naming
 * the line and column in errbuf. Anchors/aliases are resolved; more than 10,000 alias expansions
 * or nesting deeper than 100 is an error ("billion laughs"). JSON input parses too. */
json_t *yamljson_parse(const char *buf, size_t len, char *errbuf, size_t errlen);

/* Emits a tree as YAML (block style, keys in the tree's order). Returns malloc'd text. */
char *yamljson_dump(json_t *v);

#endif
