/* objmeta_validate: apimachinery's ObjectMeta rules (names, generateName, generation, labels,
 * annotations, ownerReferences, finalizers) with its exact message wording, appended as causes.
 * Also owns the Go-%q quoting and the multi-message key/value checks that selector.c reuses. */
#include "apiserver/objmeta_validate.h"

#include "base/goquote.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not (yet) in objmeta_validate.h; selector.c declares them too. */

/* ---- messages (k8s.io/apimachinery/pkg/util/validation, v1.32 wording) ---- */

#define DNS1123_LABEL_FMT     "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define QNAME_FMT             "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_ERR                                                                                  \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '" QNAME_FMT "')"
#define SUBDOMAIN_ERR                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '" DNS1123_SUBDOMAIN_FMT "')"
#define LABEL_ERR                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '" DNS1123_LABEL_FMT "')"
#define LABEL_VALUE_ERR                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"

static const char MSG_SUBDOMAIN_LEN[] = "must be no more than 253 characters";
static const char MSG_LABEL_LEN[] = "must be no more than 63 characters";
static const char MSG_NO_DOTS[] = "must not contain dots";
static const char MSG_QNAME_MULTI[] =
    "a qualified name " QNAME_ERR
    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
static const char MSG_PREFIX_EMPTY[] = "prefix part must be non-empty";
static const char MSG_PREFIX_LEN[] = "prefix part must be no more than 253 characters";
static const char MSG_PREFIX_RE[] = "prefix part " SUBDOMAIN_ERR;
static const char MSG_NAME_EMPTY[] = "name part must be non-empty";
static const char MSG_NAME_LEN[] = "name part must be no more than 63 characters";
static const char MSG_NAME_RE[] = "name part " QNAME_ERR;

#define ANNOTATIONS_MAX 262144

/* ---- character checks (the regexes, by hand) ---- */

static bool is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(unsigned char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ */
static bool match_dns_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-') return false;
    return true;
}

/* ^label(\.label)*$ */
static bool match_dns_subdomain(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!match_dns_label(s + start, i - start)) return false;
            start = i + 1;
        }
    }
    return true;
}

/* ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$ */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
    }
    return true;
}

static size_t subdomain_errors(const char *s, size_t n, const char *msgs[2])
{
    size_t k = 0;
    if (n > 253) msgs[k++] = MSG_SUBDOMAIN_LEN;
    if (!match_dns_subdomain(s, n)) msgs[k++] = SUBDOMAIN_ERR;
    return k;
}

static size_t label_errors(const char *s, size_t n, const char *msgs[2])
{
    size_t k = 0;
    if (n > 63) msgs[k++] = MSG_LABEL_LEN;
    if (!match_dns_label(s, n)) msgs[k++] = match_dns_subdomain(s, n) ? MSG_NO_DOTS : LABEL_ERR;
    return k;
}

/* IsQualifiedName: up to 4 messages. */
size_t objmeta_qualified_name_errors(const char *s, size_t n, const char *msgs[4])
{
    size_t k = 0;
    const char *slash = memchr(s, '/', n);
    const char *name = s;
    size_t name_len = n;
    if (slash) {
        size_t plen = (size_t)(slash - s);
        if (memchr(slash + 1, '/', n - plen - 1)) {
            msgs[0] = MSG_QNAME_MULTI;
            return 1;
        }
        if (plen == 0) {
            msgs[k++] = MSG_PREFIX_EMPTY;
        } else {
            if (plen > 253) msgs[k++] = MSG_PREFIX_LEN;
            if (!match_dns_subdomain(s, plen)) msgs[k++] = MSG_PREFIX_RE;
        }
        name = slash + 1;
        name_len = n - plen - 1;
    }
    if (name_len == 0)
        msgs[k++] = MSG_NAME_EMPTY;
    else if (name_len > 63)
        msgs[k++] = MSG_NAME_LEN;
    if (!match_qname(name, name_len)) msgs[k++] = MSG_NAME_RE;
    return k;
}

size_t objmeta_label_value_errors(const char *s, size_t n, const char *msgs[2])
{
    size_t k = 0;
    if (n > 63) msgs[k++] = MSG_LABEL_LEN;
    if (n > 0 && !match_qname(s, n)) msgs[k++] = LABEL_VALUE_ERR;
    return k;
}

const char *objmeta_check_dns_subdomain(const char *s)
{
    const char *m[2];
    return subdomain_errors(s, strlen(s), m) ? m[0] : NULL;
}

const char *objmeta_check_dns_label(const char *s)
{
    const char *m[2];
    return label_errors(s, strlen(s), m) ? m[0] : NULL;
}

const char *objmeta_check_qualified_name(const char *s)
{
    const char *m[4];
    return objmeta_qualified_name_errors(s, strlen(s), m) ? m[0] : NULL;
}

const char *objmeta_check_label_value(const char *s)
{
    const char *m[2];
    return objmeta_label_value_errors(s, strlen(s), m) ? m[0] : NULL;
}

/* ---- Go strconv.Quote ---- */

char *objmeta_go_quote(const char *s, size_t n)
{
    return goquote(s, n);
}

/* ---- causes ---- */

static void cause_add(json_t *causes, const char *reason, const char *field, const char *msg)
{
    json_t *c = json_object();
    if (!c) return;
    json_object_set_new(c, "reason", json_string(reason));
    json_object_set_new(c, "message", json_string(msg));
    json_object_set_new(c, "field", json_string(field));
    json_array_append_new(causes, c);
}

/* "Invalid value: <rendered>: <detail>" */
static void cause_invalid_raw(json_t *causes, const char *field, const char *rendered,
                              const char *detail)
{
    char *msg = NULL;
    if (asprintf(&msg, "Invalid value: %s: %s", rendered, detail) < 0) return;
    cause_add(causes, "FieldValueInvalid", field, msg);
    free(msg);
}

static void cause_invalid_str(json_t *causes, const char *field, const char *value, size_t n,
                              const char *detail)
{
    char *q = objmeta_go_quote(value, n);
    if (!q) return;
    cause_invalid_raw(causes, field, q, detail);
    free(q);
}

static void cause_type(json_t *causes, const char *field, json_t *v, const char *want)
{
    static const char *names[] = {"object", "array",   "string",  "integer",
                                  "number", "boolean", "boolean", "null"};
    int t = (int)json_typeof(v);
    char msg[128];
    snprintf(msg, sizeof msg, "Invalid value: \"%s\": must be of type %s",
             (t >= 0 && t < 8) ? names[t] : "unknown", want);
    cause_add(causes, "FieldValueTypeInvalid", field, msg);
}

/* ---- ObjectMeta ---- */

static void validate_name(json_t *causes, const char *field, const char *name, bool is_label,
                          bool prefix)
{
    size_t n = strlen(name);
    char *masked = NULL;
    const char *check = name;
    if (prefix && n > 1 && name[n - 1] == '-') { /* maskTrailingDash */
        masked = strdup(name);
        if (!masked) return;
        masked[n - 1] = 'a';
        check = masked;
    }
    const char *msgs[2];
    size_t k = is_label ? label_errors(check, n, msgs) : subdomain_errors(check, n, msgs);
    for (size_t i = 0; i < k; i++)
        cause_invalid_str(causes, field, name, n, msgs[i]);
    free(masked);
}

static void validate_labels(json_t *labels, json_t *causes)
{
    const char *F = "metadata.labels";
    if (json_is_null(labels)) return;
    if (!json_is_object(labels)) {
        cause_type(causes, F, labels, "object");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        const char *msgs[4];
        size_t kn = strlen(k);
        size_t c = objmeta_qualified_name_errors(k, kn, msgs);
        for (size_t i = 0; i < c; i++)
            cause_invalid_str(causes, F, k, kn, msgs[i]);
        if (!json_is_string(v)) {
            cause_type(causes, F, v, "string");
            continue;
        }
        const char *s = json_string_value(v);
        size_t sn = json_string_length(v);
        c = objmeta_label_value_errors(s, sn, msgs);
        for (size_t i = 0; i < c; i++)
            cause_invalid_str(causes, F, s, sn, msgs[i]);
    }
}

static void validate_annotations(json_t *ann, json_t *causes)
{
    const char *F = "metadata.annotations";
    if (json_is_null(ann)) return;
    if (!json_is_object(ann)) {
        cause_type(causes, F, ann, "object");
        return;
    }
    const char *k;
    json_t *v;
    uint64_t total = 0;
    char small[256];
    json_object_foreach(ann, k, v)
    {
        size_t kn = strlen(k);
        /* The rule is QualifiedName except that case doesn't matter. */
        char *lower = kn < sizeof small ? small : malloc(kn + 1);
        if (!lower) return;
        for (size_t i = 0; i < kn; i++)
            lower[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] - 'A' + 'a') : k[i];
        lower[kn] = '\0';
        const char *msgs[4];
        size_t c = objmeta_qualified_name_errors(lower, kn, msgs);
        if (lower != small) free(lower);
        for (size_t i = 0; i < c; i++)
            cause_invalid_str(causes, F, k, kn, msgs[i]);
        total += kn;
        if (json_is_string(v))
            total += json_string_length(v);
        else
            cause_type(causes, F, v, "string");
    }
    if (total > ANNOTATIONS_MAX) {
        char msg[64];
        snprintf(msg, sizeof msg, "Too long: must have at most %d bytes", ANNOTATIONS_MAX);
        cause_add(causes, "FieldValueTooLong", F, msg);
    }
}

static const char *str_or_empty(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Appends s to the growing buffer *buf (NULL-safe on ENOMEM: leaves *buf NULL). */
static void buf_cat(char **buf, size_t *len, const char *s)
{
    if (!*buf) return;
    size_t n = strlen(s);
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb) {
        free(*buf);
        *buf = NULL;
        return;
    }
    memcpy(nb + *len, s, n + 1);
    *buf = nb;
    *len += n;
}

static void buf_cat_quoted(char **buf, size_t *len, const char *s)
{
    char *q = objmeta_go_quote(s, strlen(s));
    if (!q) {
        free(*buf);
        *buf = NULL;
        return;
    }
    buf_cat(buf, len, q);
    free(q);
}

static const char *bool_ptr(json_t *v)
{
    if (json_is_true(v)) return "(*bool)(true)";
    if (json_is_false(v)) return "(*bool)(false)";
    return "(*bool)(nil)";
}

/* A Go-%#v-like rendering of []metav1.OwnerReference (pointer fields shown by value). */
static char *render_owner_refs(json_t *refs)
{
    char *buf = strdup("[]v1.OwnerReference{");
    size_t len = buf ? strlen(buf) : 0;
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        if (i) buf_cat(&buf, &len, ", ");
        buf_cat(&buf, &len, "v1.OwnerReference{APIVersion:");
        buf_cat_quoted(&buf, &len, str_or_empty(r, "apiVersion"));
        buf_cat(&buf, &len, ", Kind:");
        buf_cat_quoted(&buf, &len, str_or_empty(r, "kind"));
        buf_cat(&buf, &len, ", Name:");
        buf_cat_quoted(&buf, &len, str_or_empty(r, "name"));
        buf_cat(&buf, &len, ", UID:");
        buf_cat_quoted(&buf, &len, str_or_empty(r, "uid"));
        buf_cat(&buf, &len, ", Controller:");
        buf_cat(&buf, &len, bool_ptr(json_object_get(r, "controller")));
        buf_cat(&buf, &len, ", BlockOwnerDeletion:");
        buf_cat(&buf, &len, bool_ptr(json_object_get(r, "blockOwnerDeletion")));
        buf_cat(&buf, &len, "}");
    }
    buf_cat(&buf, &len, "}");
    return buf;
}

static const char *gogo_bool(json_t *v)
{
    return json_is_true(v) ? "*true" : json_is_false(v) ? "*false" : "nil";
}

static void validate_owner_ref(json_t *ref, json_t *causes)
{
    const char *api = str_or_empty(ref, "apiVersion");
    const char *kind = str_or_empty(ref, "kind");
    const char *name = str_or_empty(ref, "name");
    const char *uid = str_or_empty(ref, "uid");
    /* schema.FromAPIVersionAndKind: "g/v" or "v"; more than one '/' parses to nothing. */
    const char *slash = strchr(api, '/');
    const char *version = api;
    size_t glen = 0;
    bool bad = false;
    if (slash) {
        if (strchr(slash + 1, '/')) {
            bad = true;
        } else {
            version = slash + 1;
            glen = (size_t)(slash - api);
        }
    }
    if (bad || version[0] == '\0')
        cause_invalid_str(causes, "metadata.ownerReferences.apiVersion", api, strlen(api),
                          "version must not be empty");
    if (!kind[0])
        cause_invalid_str(causes, "metadata.ownerReferences.kind", kind, 0, "must not be empty");
    if (!name[0])
        cause_invalid_str(causes, "metadata.ownerReferences.name", name, 0, "must not be empty");
    if (!uid[0])
        cause_invalid_str(causes, "metadata.ownerReferences.uid", uid, 0, "must not be empty");
    if (!bad && glen == 0 && strcmp(version, "v1") == 0 && strcmp(kind, "Event") == 0) {
        char *rendered = NULL;
        if (asprintf(&rendered,
                     "&OwnerReference{APIVersion:%s,Kind:%s,Name:%s,UID:%s,Controller:%s,"
                     "BlockOwnerDeletion:%s,}",
                     api, kind, name, uid, gogo_bool(json_object_get(ref, "controller")),
                     gogo_bool(json_object_get(ref, "blockOwnerDeletion"))) < 0)
            return;
        cause_invalid_raw(causes, "metadata.ownerReferences", rendered,
                          "/v1, Kind=Event is disallowed from being an owner");
        free(rendered);
    }
}

static void validate_owner_refs(json_t *refs, json_t *causes)
{
    const char *F = "metadata.ownerReferences";
    if (json_is_null(refs)) return;
    if (!json_is_array(refs)) {
        cause_type(causes, F, refs, "array");
        return;
    }
    size_t i;
    json_t *ref;
    json_t *first = NULL;
    json_array_foreach(refs, i, ref)
    {
        if (!json_is_object(ref)) {
            cause_type(causes, F, ref, "object");
            continue;
        }
        validate_owner_ref(ref, causes);
        if (!json_is_true(json_object_get(ref, "controller"))) continue;
        if (!first) {
            first = ref;
            continue;
        }
        char *rendered = render_owner_refs(refs);
        char *detail = NULL;
        if (rendered &&
            asprintf(&detail,
                     "Only one reference can have Controller set to true. Found \"true\" in "
                     "references for %s/%s and %s/%s",
                     str_or_empty(first, "kind"), str_or_empty(first, "name"),
                     str_or_empty(ref, "kind"), str_or_empty(ref, "name")) >= 0) {
            cause_invalid_raw(causes, F, rendered, detail);
            free(detail);
        }
        free(rendered);
    }
}

static void validate_finalizers(json_t *fins, json_t *causes)
{
    const char *F = "metadata.finalizers";
    if (json_is_null(fins)) return;
    if (!json_is_array(fins)) {
        cause_type(causes, F, fins, "array");
        return;
    }
    bool orphan = false, foreground = false;
    size_t i;
    json_t *f;
    json_array_foreach(fins, i, f)
    {
        if (!json_is_string(f)) {
            cause_type(causes, F, f, "string");
            continue;
        }
        const char *s = json_string_value(f);
        size_t n = json_string_length(f);
        const char *msgs[4];
        size_t c = objmeta_qualified_name_errors(s, n, msgs);
        for (size_t j = 0; j < c; j++)
            cause_invalid_str(causes, F, s, n, msgs[j]);
        if (strcmp(s, "orphan") == 0) orphan = true;
        if (strcmp(s, "foregroundDeletion") == 0) foreground = true;
    }
    if (orphan && foreground) {
        char *buf = strdup("[]string{");
        size_t len = buf ? strlen(buf) : 0;
        json_array_foreach(fins, i, f)
        {
            if (i) buf_cat(&buf, &len, ", ");
            buf_cat_quoted(&buf, &len, json_is_string(f) ? json_string_value(f) : "");
        }
        buf_cat(&buf, &len, "}");
        if (buf)
            cause_invalid_raw(causes, F, buf,
                              "finalizer orphan and foregroundDeletion cannot be both set");
        free(buf);
    }
}

void objmeta_validate(json_t *metadata, bool name_is_label, json_t *causes)
{
    if (!json_is_object(metadata) || !json_is_array(causes)) return;
    const char *gen = json_string_value(json_object_get(metadata, "generateName"));
    if (gen && gen[0]) validate_name(causes, "metadata.generateName", gen, name_is_label, true);
    const char *name = json_string_value(json_object_get(metadata, "name"));
    if (name && name[0]) validate_name(causes, "metadata.name", name, name_is_label, false);
    json_t *g = json_object_get(metadata, "generation");
    if (json_is_integer(g) && json_integer_value(g) < 0) {
        char v[32];
        snprintf(v, sizeof v, "%" JSON_INTEGER_FORMAT, json_integer_value(g));
        cause_invalid_raw(causes, "metadata.generation", v, "must be greater than or equal to 0");
    }
    json_t *v;
    if ((v = json_object_get(metadata, "labels"))) validate_labels(v, causes);
    if ((v = json_object_get(metadata, "annotations"))) validate_annotations(v, causes);
    if ((v = json_object_get(metadata, "ownerReferences"))) validate_owner_refs(v, causes);
    if ((v = json_object_get(metadata, "finalizers"))) validate_finalizers(v, causes);
}

bool objmeta_is_field(const char *key)
{
    static const char *const fields[] = {"name",
                                         "generateName",
                                         "namespace",
                                         "selfLink",
                                         "uid",
                                         "resourceVersion",
                                         "generation",
                                         "creationTimestamp",
                                         "deletionTimestamp",
                                         "deletionGracePeriodSeconds",
                                         "labels",
                                         "annotations",
                                         "ownerReferences",
                                         "finalizers",
                                         "managedFields",
                                         NULL};
    for (int i = 0; fields[i]; i++)
        if (strcmp(key, fields[i]) == 0) return true;
    return false;
}
