/* selector: Kubernetes label selectors and field selectors: parse the query-string forms and
 * match them against objects. Pure; no I/O. */
#ifndef BASE_SELECTOR_H
#define BASE_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct label_selector label_selector_t;
typedef struct field_selector field_selector_t;

/* Label selector grammar (k8s.io/apimachinery/pkg/labels): comma-separated requirements
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; keys and values validated as
 * label keys/values. "" selects everything. Returns 0 and *out (caller frees with
 * label_selector_free), or -EINVAL with a message such as
 * `unable to parse requirement: found 'x', expected: ',' or ')'` in errbuf. */
int label_selector_parse(const char *text, label_selector_t **out, char *errbuf, size_t errlen);
/* labels: the object's metadata.labels (object or NULL). */
bool label_selector_matches(const label_selector_t *sel, json_t *labels);
/* Builds a selector from a LabelSelector object {matchLabels, matchExpressions}. */
int label_selector_from_json(json_t *ls, label_selector_t **out, char *errbuf, size_t errlen);
void label_selector_free(label_selector_t *sel);

/* Field selector: comma-separated `field=value`, `field==value`, `field!=value` (values may
 * escape `\,` `\=` `\\`). Returns 0, or -EINVAL for a syntax error. Field names are not checked
 * here: use field_selector_fields to check them against the type's supported fields. */
int field_selector_parse(const char *text, field_selector_t **out, char *errbuf, size_t errlen);
/* Number of requirements and the i-th field name (borrowed). */
size_t field_selector_count(const field_selector_t *sel);
const char *field_selector_field(const field_selector_t *sel, size_t i);
/* Matches an object: a field path "a.b.c" is looked up as nested keys of obj; a missing field
 * is "" ; booleans are "true"/"false"; integers print in decimal. */
bool field_selector_matches(const field_selector_t *sel, json_t *obj);
/* If the selector pins field to one value with = or ==, returns it (borrowed), else NULL. */
const char *field_selector_exact(const field_selector_t *sel, const char *field);
void field_selector_free(field_selector_t *sel);

#endif
