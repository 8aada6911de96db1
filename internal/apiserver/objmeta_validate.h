/* objmeta_validate: the ObjectMeta rules of k8s.io/apimachinery validation: names
 * (DNS-1123 subdomain / label), generateName, label keys and values, annotation keys and the
 * 256 KiB annotation total, finalizer names, ownerReferences. Pure; appends causes in the
 * format described in crd_schema.h. */
#ifndef APISERVER_OBJMETA_VALIDATE_H
#define APISERVER_OBJMETA_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

/* DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', starts and ends alphanumeric, at
 * most 253 characters. Returns NULL if valid, else a static message in the apimachinery wording
 * ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or
 * '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used
 * for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"). */
const char *objmeta_check_dns_subdomain(const char *s);
/* DNS-1123 label: at most 63 characters, no dots. */
const char *objmeta_check_dns_label(const char *s);
/* Qualified names (label and annotation keys): [prefix/]name, prefix a DNS subdomain,
 * name <= 63 characters of [A-Za-z0-9._-] starting and ending alphanumeric. */
const char *objmeta_check_qualified_name(const char *s);
/* Label values: empty, or <= 63 characters like a qualified name without prefix. */
const char *objmeta_check_label_value(const char *s);

/* Validates metadata (borrowed) of an object being written. name_is_label selects the DNS
 * label rule for names (namespaces, services) instead of the subdomain rule. Checks name (if
 * present; its absence is the caller's matter because generateName may fill it), generateName,
 * labels, annotations (keys, total size of keys+values <= 262144 bytes: "metadata.annotations:
 * Too long: must have at most 262144 bytes"), finalizers (qualified names), ownerReferences
 * (apiVersion, kind, name, uid non-empty; at most one controller: true). Appends causes with
 * fields "metadata.name", "metadata.labels", "metadata.annotations", ... */
void objmeta_validate(json_t *metadata, bool name_is_label, json_t *causes);

/* Whether key is a field of ObjectMeta (custom resources and embedded resources keep only
 * these in metadata). */
bool objmeta_is_field(const char *key);

/* All the messages for a qualified name / label value of length n (not NUL-terminated);
 * returns how many were written to msgs (static strings). Used by the label selector parser,
 * which reports every problem as apimachinery does. */
size_t objmeta_qualified_name_errors(const char *s, size_t n, const char *msgs[4]);
size_t objmeta_label_value_errors(const char *s, size_t n, const char *msgs[2]);
/* s quoted as Go's %q prints it; malloc'd. */
char *objmeta_go_quote(const char *s, size_t n);

#endif
