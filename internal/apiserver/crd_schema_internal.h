/* crd_schema_internal: what the crd_schema_*.c files and crd_validate.c share beyond the public
 * crd_schema.h contract: path and Go-style message builders, field-error causes, schema-node
 * accessors, the pattern/format checks, and the pruning/validation walkers the CRD checks reuse.
 * All names carry the crds_ prefix. */
#ifndef APISERVER_CRD_SCHEMA_INTERNAL_H
#define APISERVER_CRD_SCHEMA_INTERNAL_H

#include "apiserver/crd_schema.h"
#include "base/gofloat.h" /* gofloat_g: fmt's %v of float64 in messages */
#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- crd_schema_common.c: field paths, Go-style formatting, causes, schema-node accessors */

/* Truncates b back to n bytes (a length saved from a path push). */
void crds_sb_trunc(strbuf_t *b, size_t n);
/* Path pushes: child ".name" (no dot when p is empty), key "[key]", index "[i]". Each returns
 * the previous length, to restore with crds_sb_trunc. */
size_t crds_path_child(strbuf_t *p, const char *name);
size_t crds_path_key(strbuf_t *p, const char *key);
size_t crds_path_index(strbuf_t *p, size_t i);

/* Decodes one UTF-8 sequence; returns its length, or 0 if s does not start a valid sequence. */
size_t crds_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Appends Go's strconv.Quote of s[0..n) / of the NUL-terminated s. */
void crds_go_quote_n(strbuf_t *b, const char *s, size_t n);
void crds_go_quote(strbuf_t *b, const char *s);
/* %#v of map[string]interface{} / []interface{} (map keys sorted, as fmt does). */
void crds_go_sharp_v(strbuf_t *b, json_t *v);
/* The bad-value rendering of field.Error.ErrorBody. */
void crds_go_value(strbuf_t *b, json_t *v);
/* json_string(s), with invalid UTF-8 bytes replaced by '?' (never NULL; new reference). */
json_t *crds_json_str_safe(const char *s);

/* Appends {"reason", "message", "field"} to the array out (no-op when out is NULL). */
void crds_cause_add(json_t *out, const char *reason, const char *field, const char *msg);
/* field.Invalid: "Invalid value: <value>[: detail]" with a preformatted value / a JSON value
 * rendered as Go does / a string value quoted. */
void crds_err_invalid_raw(json_t *out, const char *field, const char *value, const char *detail);
void crds_err_invalid_json(json_t *out, const char *field, json_t *value, const char *detail);
void crds_err_invalid_str(json_t *out, const char *field, const char *value, const char *detail);
/* field.Required ("Required value[: detail]") and field.Forbidden ("Forbidden: detail"). */
void crds_err_required(json_t *out, const char *field, const char *detail);
void crds_err_forbidden(json_t *out, const char *field, const char *detail);
/* field.NotSupported with string alternatives (already-unquoted): value_fmt is the rendered bad
 * value; the _str form quotes a string value. */
void crds_err_not_supported(json_t *out, const char *field, const char *value_fmt,
                            const char *const *vals, size_t nvals);
void crds_err_not_supported_str(json_t *out, const char *field, const char *value,
                                const char *const *vals, size_t nvals);

/* Schema-node accessors; all borrow, and tolerate a NULL or non-object node (NULL / false). */
json_t *crds_sch_get(json_t *s, const char *k);
bool crds_sch_flag(json_t *s, const char *k);
const char *crds_sch_str(json_t *s, const char *k);
json_t *crds_sch_obj(json_t *s, const char *k);
json_t *crds_sch_arr(json_t *s, const char *k);
json_t *crds_sch_props(json_t *s);
json_t *crds_sch_items(json_t *s);
/* additionalProperties: returns true if present in a form that admits unknown keys (a schema or
 * `true`); *schema is the schema or NULL for `true`. */
bool crds_sch_addl(json_t *s, json_t **schema);
/* A numeric keyword as double / as Go's int64 (reals truncated); false when absent. */
bool crds_sch_num(json_t *s, const char *k, double *out);
bool crds_sch_int(json_t *s, const char *k, long long *out);
/* Go's int64(float64) on amd64: out-of-range values give math.MinInt64. */
long long crds_go_f2i(double f);
/* apiVersion, kind or metadata. */
bool crds_is_meta_field(const char *k);

/* ---- crd_schema_pattern.c: pattern regexes (ECMA/RE2 -> POSIX ERE) and string formats */

enum { RX_OK = 0, RX_UNSUPPORTED = 1, RX_INVALID = 2 };

/* Appends cp as UTF-8. */
void crds_utf8_encode(strbuf_t *b, uint32_t cp);
/* Translates an ECMA/RE2-style pattern to POSIX ERE into out (regcomp flags in *cflags).
 * Returns RX_OK, RX_UNSUPPORTED (feature with no ERE equivalent) or RX_INVALID (RE2 would
 * reject it; *why says why). */
int crds_rx_translate(const char *pat, strbuf_t *out, int *cflags, const char **why);
/* 1 match, 0 no match, -1 pattern cannot be evaluated (treated as passing). Uses the cache. */
int crds_rx_match(const char *pattern, const char *s, size_t n);

/* Format kinds: crds_fmt_kind maps a `format` value to one (F_NONE: not checked); crds_fmt_check
 * says whether s[0..n) is valid for it. */
enum {
    F_NONE,
    F_LENIENT,
    F_DATE,
    F_DATETIME,
    F_UUID,
    F_UUID3,
    F_UUID4,
    F_UUID5,
    F_IPV4,
    F_IPV6,
    F_CIDR,
    F_MAC,
    F_BYTE,
    F_HOSTNAME,
    F_HEXCOLOR,
    F_DURATION
};
int crds_fmt_kind(const char *f);
bool crds_fmt_check(int kind, const char *s, size_t n);

/* ---- crd_schema_apply.c: the prune / validate walkers (also run on CRD default values) */

/* Pruning state: pruned (borrowed array or NULL) collects removed paths; path is the current
 * dotted path. */
typedef struct {
    json_t *pruned;
    strbuf_t path;
} pctx;

/* Prunes x in place against schema s (force_embedded: treat s as an embedded resource). */
void crds_prune_value(pctx *p, json_t *x, json_t *s, bool force_embedded);
/* x-kubernetes-embedded-resource checks (apiVersion/kind/metadata) of x and, recursively, of
 * its fields, with field paths under path (restored on return). */
void crds_emb_validate(json_t *out, strbuf_t *path, json_t *x, json_t *s, bool root);
/* Schema validation of a value (no list-type/embedded checks), fields under `prefix`. */
void crds_validate_value(json_t *schema, json_t *value, const char *prefix, bool root,
                         json_t *causes);

#endif
