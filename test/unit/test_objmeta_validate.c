/* test_objmeta_validate: ObjectMeta checks against apimachinery's rules and wording: names at
 * the 253/63 limits, generateName, label keys/values, the 256 KiB annotation total, finalizers,
 * ownerReferences. Each case is a metadata document and the exact causes expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objmeta_validate.h"

#define SUBDOMAIN_ERR                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
/* The same inside a JSON string literal (its backslash escaped). */
#define SUBDOMAIN_ERR_J                                                                            \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_ERR                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_RE                                                                                   \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_RE                                                                                   \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Runs objmeta_validate and compares the causes with want (a JSON array). */
static void check(json_t *meta, bool is_label, const char *want_json)
{
    json_t *causes = json_array();
    objmeta_validate(meta, is_label, causes);
    json_t *want = json_loads(want_json, 0, NULL);
    if (!want) fail_msg("bad expectation JSON: %s", want_json);
    if (!json_equal(causes, want)) {
        char *got = json_dumps(causes, JSON_INDENT(1));
        char *m = json_dumps(meta, 0);
        fail_msg("metadata %.300s\n got: %s\nwant: %s", m, got, want_json);
    }
    json_decref(want);
    json_decref(causes);
}

static void check_str(const char *meta_json, bool is_label, const char *want_json)
{
    json_t *meta = json_loads(meta_json, 0, NULL);
    if (!meta) fail_msg("bad metadata JSON: %s", meta_json);
    check(meta, is_label, want_json);
    json_decref(meta);
}

static const struct {
    const char *meta;
    bool is_label;
    const char *causes;
} CASES[] = {
    {"{\"name\":\"ok-name.example\"}", false, "[]"},
    {"{}", false, "[]"},
    {"{\"name\":\"\"}", false, "[]"},
    {"{\"name\":\"Bad_Name\"}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Bad_Name\\\": a "
     "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
     "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
     "for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\",\"field\":"
     "\"metadata.name\"}]"},
    {"{\"name\":\"a.b\"}", true,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"a.b\\\": must not "
     "contain dots\",\"field\":\"metadata.name\"}]"},
    {"{\"name\":\"-ab\"}", true,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"-ab\\\": " LABEL_ERR
     "\",\"field\":\"metadata.name\"}]"},
    {"{\"generateName\":\"web-\"}", false, "[]"},
    {"{\"generateName\":\"web-\"}", true, "[]"},
    {"{\"generateName\":\"Web-\"}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: "
     "\\\"Web-\\\": " SUBDOMAIN_ERR_J "\",\"field\":\"metadata.generateName\"}]"},
    {"{\"generateName\":\"-\"}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"-\\\": " SUBDOMAIN_ERR_J
     "\",\"field\":\"metadata.generateName\"}]"},
    {"{\"name\":\"x\",\"generation\":-1}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: -1: must be greater than "
     "or equal to 0\",\"field\":\"metadata.generation\"}]"},
    {"{\"labels\":{\"app\":\"web\",\"example.com/tier\":\"front_end.1\",\"e\":\"\"}}", false, "[]"},
    {"{\"labels\":{\"Example.com/app\":\"x\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Example.com/app\\\": "
     "prefix part " SUBDOMAIN_ERR_J "\",\"field\":\"metadata.labels\"}]"},
    {"{\"labels\":{\"/app\":\"x\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"/app\\\": prefix part "
     "must be non-empty\",\"field\":\"metadata.labels\"}]"},
    {"{\"labels\":{\"example.com/\":\"x\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"example.com/\\\": name "
     "part must be non-empty\",\"field\":\"metadata.labels\"},"
     "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"example.com/\\\": name "
     "part " QNAME_RE "\",\"field\":\"metadata.labels\"}]"},
    {"{\"labels\":{\"a/b/c\":\"x\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"a/b/c\\\": a qualified "
     "name " QNAME_RE " with an optional DNS subdomain prefix and '/' (e.g. "
     "'example.com/MyName')\",\"field\":\"metadata.labels\"}]"},
    {"{\"labels\":{\"app\":\"-web\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"-web\\\": " VALUE_RE
     "\",\"field\":\"metadata.labels\"}]"},
    {"{\"labels\":{\"app\":\"a b\\n\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"a b\\\\n\\\": " VALUE_RE
     "\",\"field\":\"metadata.labels\"}]"},
    {"{\"annotations\":{\"Example.com/Some-Key\":\"anything at all\",\"k\":\"\"}}", false, "[]"},
    {"{\"annotations\":{\"bad key\":\"v\"}}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"bad key\\\": name "
     "part " QNAME_RE "\",\"field\":\"metadata.annotations\"}]"},
    {"{\"finalizers\":[\"kubernetes.io/pv-protection\",\"foregroundDeletion\"]}", false, "[]"},
    {"{\"finalizers\":[\"bad finalizer\"]}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"bad finalizer\\\": name "
     "part " QNAME_RE "\",\"field\":\"metadata.finalizers\"}]"},
    {"{\"finalizers\":[\"orphan\",\"foregroundDeletion\"]}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: []string{\\\"orphan\\\", "
     "\\\"foregroundDeletion\\\"}: finalizer orphan and foregroundDeletion cannot be both "
     "set\",\"field\":\"metadata.finalizers\"}]"},
    {"{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"a\","
     "\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":"
     "\"b\",\"uid\":\"2\"}]}",
     false, "[]"},
    {"{\"ownerReferences\":[{\"apiVersion\":\"apps/\",\"kind\":\"\",\"name\":\"a\"}]}", false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"apps/\\\": version must "
     "not be empty\",\"field\":\"metadata.ownerReferences.apiVersion\"},"
     "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"\\\": must not be "
     "empty\",\"field\":\"metadata.ownerReferences.kind\"},"
     "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"\\\": must not be "
     "empty\",\"field\":\"metadata.ownerReferences.uid\"}]"},
    {"{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":"
     "\"u\"}]}",
     false,
     "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: "
     "&OwnerReference{APIVersion:v1,Kind:Event,Name:e,UID:u,Controller:nil,BlockOwnerDeletion:"
     "nil,}: /v1, Kind=Event is disallowed from being an owner\",\"field\":"
     "\"metadata.ownerReferences\"}]"},
};

static void test_cases(void **state)
{
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        check_str(CASES[i].meta, CASES[i].is_label, CASES[i].causes);
}

static void test_two_controllers(void **state)
{
    json_t *meta = json_loads(
        "{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"a\","
        "\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
        "\"name\":\"b\",\"uid\":\"2\",\"controller\":true}]}",
        0, NULL);
    json_t *causes = json_array();
    objmeta_validate(meta, false, causes);
    assert_int_equal(json_array_size(causes), 1);
    json_t *c = json_array_get(causes, 0);
    assert_string_equal(json_string_value(json_object_get(c, "reason")), "FieldValueInvalid");
    assert_string_equal(json_string_value(json_object_get(c, "field")), "metadata.ownerReferences");
    const char *msg = json_string_value(json_object_get(c, "message"));
    assert_non_null(strstr(msg, "Invalid value: []v1.OwnerReference{v1.OwnerReference{"));
    const char *tail = ": Only one reference can have Controller set to true. Found \"true\" in "
                       "references for ReplicaSet/a and ReplicaSet/b";
    size_t ml = strlen(msg), tl = strlen(tail);
    assert_true(ml > tl);
    assert_string_equal(msg + ml - tl, tail);
    json_decref(causes);
    json_decref(meta);
}

static void test_name_limits(void **state)
{
    char *s253 = repeat('a', 253), *s254 = repeat('a', 254);
    char *s63 = repeat('b', 63), *s64 = repeat('b', 64);
    assert_null(objmeta_check_dns_subdomain(s253));
    assert_string_equal(objmeta_check_dns_subdomain(s254), "must be no more than 253 characters");
    assert_null(objmeta_check_dns_label(s63));
    assert_string_equal(objmeta_check_dns_label(s64), "must be no more than 63 characters");
    assert_null(objmeta_check_dns_subdomain(s64)); /* labels inside a subdomain are unbounded */
    assert_string_equal(objmeta_check_dns_subdomain("Bad_Name"), SUBDOMAIN_ERR);
    assert_string_equal(objmeta_check_dns_label("a.b"), "must not contain dots");
    assert_string_equal(objmeta_check_dns_label("A"), LABEL_ERR);
    assert_null(objmeta_check_dns_label("0"));
    assert_null(objmeta_check_dns_subdomain("a-1.b-2.c"));
    assert_non_null(objmeta_check_dns_subdomain("a..b"));
    assert_non_null(objmeta_check_dns_subdomain("a."));
    assert_non_null(objmeta_check_dns_subdomain(""));

    json_t *meta = json_pack("{s:s}", "name", s254);
    char want[1024];
    snprintf(want, sizeof want,
             "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"%s\\\": must "
             "be no more than 253 characters\",\"field\":\"metadata.name\"}]",
             s254);
    check(meta, false, want);
    json_decref(meta);

    /* 254 characters and a bad one: both messages, as two causes. */
    s254[100] = '_';
    meta = json_pack("{s:s}", "name", s254);
    json_t *causes = json_array();
    objmeta_validate(meta, false, causes);
    assert_int_equal(json_array_size(causes), 2);
    json_decref(causes);
    json_decref(meta);

    meta = json_pack("{s:s}", "name", s63);
    check(meta, true, "[]");
    json_decref(meta);
    meta = json_pack("{s:s}", "name", s64);
    causes = json_array();
    objmeta_validate(meta, true, causes);
    assert_int_equal(json_array_size(causes), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(causes, 0), "message")),
                           ": must be no more than 63 characters"));
    json_decref(causes);
    json_decref(meta);
    free(s253);
    free(s254);
    free(s63);
    free(s64);
}

static void test_label_limits(void **state)
{
    char *v63 = repeat('v', 63), *v64 = repeat('v', 64);
    char *p253 = repeat('p', 253), *p254 = repeat('p', 254);
    char key[512];
    assert_null(objmeta_check_label_value(v63));
    assert_null(objmeta_check_label_value(""));
    assert_string_equal(objmeta_check_label_value(v64), "must be no more than 63 characters");
    assert_null(objmeta_check_qualified_name(v63));
    assert_string_equal(objmeta_check_qualified_name(v64),
                        "name part must be no more than 63 characters");
    snprintf(key, sizeof key, "%s/%s", p253, v63);
    assert_null(objmeta_check_qualified_name(key));
    snprintf(key, sizeof key, "%s/%s", p254, v63);
    assert_string_equal(objmeta_check_qualified_name(key),
                        "prefix part must be no more than 253 characters");
    assert_string_equal(objmeta_check_qualified_name(""), "name part must be non-empty");

    json_t *meta = json_pack("{s:{s:s,s:s}}", "labels", "k63", v63, v64, "x");
    json_t *causes = json_array();
    objmeta_validate(meta, false, causes);
    assert_int_equal(json_array_size(causes), 1);
    json_t *c = json_array_get(causes, 0);
    assert_string_equal(json_string_value(json_object_get(c, "field")), "metadata.labels");
    assert_non_null(strstr(json_string_value(json_object_get(c, "message")),
                           "\": name part must be no more than 63 characters"));
    json_decref(causes);
    json_decref(meta);

    meta = json_pack("{s:{s:s}}", "labels", "k64", v64);
    check(
        meta, false,
        "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: "
        "\\\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\\\": must be no more "
        "than 63 characters\",\"field\":\"metadata.labels\"}]");
    json_decref(meta);
    free(v63);
    free(v64);
    free(p253);
    free(p254);
}

static void test_annotation_size(void **state)
{
    /* key "k" (1 byte) + value: 262144 in total is fine, one more byte is not. */
    char *v = repeat('x', 262143);
    json_t *meta = json_pack("{s:{s:s}}", "annotations", "k", v);
    check(meta, false, "[]");
    json_decref(meta);
    free(v);

    v = repeat('x', 262144);
    meta = json_pack("{s:{s:s}}", "annotations", "k", v);
    check(meta, false,
          "[{\"reason\":\"FieldValueTooLong\",\"message\":\"Too long: must have at most 262144 "
          "bytes\",\"field\":\"metadata.annotations\"}]");
    json_decref(meta);
    free(v);

    /* Sizes add up across keys and values: 2 + 131072 + 2 + 131068 = 262144. */
    char *a = repeat('a', 131072), *b = repeat('b', 131068), *b1 = repeat('b', 131069);
    meta = json_pack("{s:{s:s,s:s}}", "annotations", "k1", a, "k2", b);
    check(meta, false, "[]");
    json_decref(meta);
    meta = json_pack("{s:{s:s,s:s}}", "annotations", "k1", a, "k2", b1);
    check(meta, false,
          "[{\"reason\":\"FieldValueTooLong\",\"message\":\"Too long: must have at most 262144 "
          "bytes\",\"field\":\"metadata.annotations\"}]");
    json_decref(meta);
    free(a);
    free(b);
    free(b1);
}

static void test_quoting(void **state)
{
    /* Go %q: control bytes, invalid UTF-8 and printable non-ASCII. */
    json_t *meta = json_pack("{s:s}", "name", "caf\xc3\xa9\t\x01");
    check(meta, false,
          "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: "
          "\\\"caf\xc3\xa9\\\\t\\\\x01\\\": " SUBDOMAIN_ERR_J "\",\"field\":\"metadata.name\"}]");
    json_decref(meta);
}

static void test_bad_types(void **state)
{
    json_t *causes = json_array();
    objmeta_validate(NULL, false, causes);
    assert_int_equal(json_array_size(causes), 0);
    json_t *meta =
        json_loads("{\"labels\":[],\"annotations\":{\"a\":1},\"finalizers\":\"x\"}", 0, NULL);
    objmeta_validate(meta, false, causes);
    assert_int_equal(json_array_size(causes), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "reason")),
                        "FieldValueTypeInvalid");
    json_decref(meta);
    json_decref(causes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),           cmocka_unit_test(test_two_controllers),
        cmocka_unit_test(test_name_limits),     cmocka_unit_test(test_label_limits),
        cmocka_unit_test(test_annotation_size), cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_bad_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
