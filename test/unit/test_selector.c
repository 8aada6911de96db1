/* test_selector: label selectors (string and LabelSelector forms) against five labelled
 * objects, their parse errors in apimachinery's wording, and field selectors (escapes, !=,
 * missing/numeric/boolean fields, exact-value lookups). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/selector.h"

#define QNAME_RE                                                                                   \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_RE                                                                                   \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/* Five objects' labels; bit i of a mask stands for object i. */
static const char *const LABELS[5] = {
    "{\"app\":\"web\",\"tier\":\"frontend\",\"env\":\"prod\"}",
    "{\"app\":\"web\",\"tier\":\"backend\",\"env\":\"dev\"}",
    "{\"app\":\"db\",\"env\":\"prod\",\"num\":\"5\"}",
    "{\"app\":\"cache\",\"example.com/role\":\"x\"}",
    NULL, /* no labels at all */
};

static unsigned match_mask(const label_selector_t *sel)
{
    unsigned mask = 0;
    for (int i = 0; i < 5; i++) {
        json_t *l = LABELS[i] ? json_loads(LABELS[i], 0, NULL) : NULL;
        if (label_selector_matches(sel, l)) mask |= 1u << i;
        json_decref(l);
    }
    return mask;
}

static const struct {
    const char *sel;
    unsigned mask;
} LABEL_MATCH[] = {
    {"", 0x1f},
    {"   ", 0x1f},
    {"app=web", 0x03},
    {"app==web", 0x03},
    {"app!=web", 0x1c},
    {" app = web ", 0x03},
    {"app in (web,db)", 0x07},
    {"app in (web, db)", 0x07},
    {"app notin (web,db)", 0x18},
    {"app in ()", 0x00},
    {"env notin ()", 0x1f},
    {"env", 0x07},
    {"!env", 0x18},
    {"! env", 0x18},
    {"app=web,env=prod", 0x01},
    {"app in (web),tier notin (backend)", 0x01},
    {"tier notin (backend)", 0x1d},
    {"tier=", 0x00},
    {"tier!=", 0x1f},
    {"num>3", 0x04},
    {"num<3", 0x00},
    {"num>5", 0x00},
    {"num<6", 0x04},
    {"example.com/role", 0x08},
    {"example.com/role in (x,y)", 0x08},
    {"in in (in)", 0x00},
    {"notin notin (a)", 0x1f},
    {"app in (web,,db)", 0x07},
    {"app in (,cache)", 0x08},
    {"app\tin\t(db)\n", 0x04},
    {"env,!tier", 0x04},
};

static void test_label_match(void **state)
{
    for (size_t i = 0; i < sizeof LABEL_MATCH / sizeof *LABEL_MATCH; i++) {
        label_selector_t *sel = NULL;
        char err[512] = "";
        int rc = label_selector_parse(LABEL_MATCH[i].sel, &sel, err, sizeof err);
        if (rc) fail_msg("'%s': rc=%d err=%s", LABEL_MATCH[i].sel, rc, err);
        unsigned got = match_mask(sel);
        if (got != LABEL_MATCH[i].mask)
            fail_msg("'%s': mask 0x%x, want 0x%x", LABEL_MATCH[i].sel, got, LABEL_MATCH[i].mask);
        label_selector_free(sel);
    }
}

static const struct {
    const char *sel, *err;
} LABEL_ERRS[] = {
    {"a in (b", "unable to parse requirement: found '', expected: ',' or ')'"},
    {"a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"},
    {"a in x", "unable to parse requirement: found 'x' expected: '('"},
    {"a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
    {"a in (,", "unable to parse requirement: found '', expected: ',', or identifier"},
    {"=x", "found '=', expected: !, identifier, or 'end of string'"},
    {"a=b=c", "found '=', expected: ',' or 'end of string'"},
    {"a=b c", "found 'c', expected: ',' or 'end of string'"},
    {"!a=b", "found '=', expected: ',' or 'end of string'"},
    {"a,", "found '', expected: identifier after ','"},
    {"a,,b", "found ',', expected: identifier after ','"},
    {"a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
    {"a=(b)", "unable to parse requirement: found '(', expected: identifier"},
    {"!", "unable to parse requirement: found '', expected: identifier"},
    {"!=a", "found '!=', expected: !, identifier, or 'end of string'"},
    {"!!a", "unable to parse requirement: found '!', expected: identifier"},
    {"-a=x", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part " QNAME_RE},
    {"a/b/c",
     "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name " QNAME_RE
     " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
    {"x/", "unable to parse requirement: <nil>: Invalid value: \"x/\": name part must be "
           "non-empty; name part " QNAME_RE},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "unable to parse requirement: <nil>: Invalid value: "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part must be "
     "no more than 63 characters"},
    {"a=-b", "unable to parse requirement: values[0][a]: Invalid value: \"-b\": " VALUE_RE},
    {"a in (_y,-x)", "unable to parse requirement: [values[0][a]: Invalid value: \"-x\": " VALUE_RE
                     ", values[1][a]: Invalid value: \"_y\": " VALUE_RE "]"},
    {"a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
            "operators, the value must be an integer"},
    {"a\"b=c",
     "unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": name part " QNAME_RE},
};

static void test_label_errors(void **state)
{
    for (size_t i = 0; i < sizeof LABEL_ERRS / sizeof *LABEL_ERRS; i++) {
        label_selector_t *sel = (label_selector_t *)1;
        char err[2048] = "";
        int rc = label_selector_parse(LABEL_ERRS[i].sel, &sel, err, sizeof err);
        if (rc != -EINVAL) fail_msg("'%s': rc=%d, want -EINVAL", LABEL_ERRS[i].sel, rc);
        assert_null(sel);
        if (strcmp(err, LABEL_ERRS[i].err) != 0)
            fail_msg("'%s':\n got: %s\nwant: %s", LABEL_ERRS[i].sel, err, LABEL_ERRS[i].err);
    }
}

static void test_label_errbuf_truncation(void **state)
{
    label_selector_t *sel = NULL;
    char err[8];
    assert_int_equal(label_selector_parse("a in (b", &sel, err, sizeof err), -EINVAL);
    assert_string_equal(err, "unable ");
    assert_int_equal(label_selector_parse("a in (b", &sel, NULL, 0), -EINVAL);
}

static const struct {
    const char *json;
    unsigned mask;
} FROM_JSON[] = {
    {"{}", 0x1f},
    {"null", 0x00},
    {"{\"matchLabels\":{\"app\":\"web\"}}", 0x03},
    {"{\"matchLabels\":{\"app\":\"web\",\"env\":\"prod\"}}", 0x01},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\"]}]}", 0x05},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}",
     0x1a},
    {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}", 0x03},
    {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}", 0x1c},
    {"{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"
     "\"In\",\"values\":[\"backend\",\"other\"]}]}",
     0x02},
};

static void test_label_from_json(void **state)
{
    for (size_t i = 0; i < sizeof FROM_JSON / sizeof *FROM_JSON; i++) {
        json_t *j = json_loads(FROM_JSON[i].json, JSON_DECODE_ANY, NULL);
        label_selector_t *sel = NULL;
        char err[512] = "";
        int rc = label_selector_from_json(j, &sel, err, sizeof err);
        if (rc) fail_msg("%s: rc=%d err=%s", FROM_JSON[i].json, rc, err);
        unsigned got = match_mask(sel);
        if (got != FROM_JSON[i].mask)
            fail_msg("%s: mask 0x%x, want 0x%x", FROM_JSON[i].json, got, FROM_JSON[i].mask);
        label_selector_free(sel);
        json_decref(j);
    }
    /* A NULL pointer behaves like JSON null: nothing. */
    label_selector_t *sel = NULL;
    assert_int_equal(label_selector_from_json(NULL, &sel, NULL, 0), 0);
    assert_int_equal(match_mask(sel), 0);
    label_selector_free(sel);
}

static const struct {
    const char *json, *err;
} FROM_JSON_ERRS[] = {
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\",\"values\":[\"x\"]}]}",
     "\"Foo\" is not a valid label selector operator"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"in\",\"values\":[\"x\"]}]}",
     "\"in\" is not a valid label selector operator"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
     "empty"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
     "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not "
     "exist"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"ok\",\"b d\"]}]}",
     "values[1][a]: Invalid value: \"b d\": " VALUE_RE},
    {"{\"matchLabels\":{\"bad key\":\"x\"}}",
     "key: Invalid value: \"bad key\": name part " QNAME_RE},
    {"{\"matchLabels\":{\"a\":\"x y\"}}", "values[0][a]: Invalid value: \"x y\": " VALUE_RE},
    {"{\"matchLabels\":{\"a\":1}}", "matchLabels[a]: must be a string"},
    {"{\"matchLabels\":[]}", "matchLabels: must be an object"},
    {"{\"matchExpressions\":{}}", "matchExpressions: must be an array"},
    {"[]", "label selector must be an object"},
};

static void test_label_from_json_errors(void **state)
{
    for (size_t i = 0; i < sizeof FROM_JSON_ERRS / sizeof *FROM_JSON_ERRS; i++) {
        json_t *j = json_loads(FROM_JSON_ERRS[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        label_selector_t *sel = (label_selector_t *)1;
        char err[1024] = "";
        int rc = label_selector_from_json(j, &sel, err, sizeof err);
        if (rc != -EINVAL) fail_msg("%s: rc=%d", FROM_JSON_ERRS[i].json, rc);
        assert_null(sel);
        if (strcmp(err, FROM_JSON_ERRS[i].err) != 0)
            fail_msg("%s:\n got: %s\nwant: %s", FROM_JSON_ERRS[i].json, err, FROM_JSON_ERRS[i].err);
        json_decref(j);
    }
}

static const char OBJ[] =
    "{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\"},"
    "\"spec\":{\"nodeName\":\"node,1\",\"replicas\":3,\"paused\":false,\"ready\":true,"
    "\"weird\":\"a=b\\\\c\",\"ratio\":0.5,\"empty\":null},"
    "\"status\":{\"phase\":\"Running\"}}";

static const struct {
    const char *sel;
    bool match;
} FIELD_MATCH[] = {
    {"", true},
    {",", true},
    {"metadata.name=n1", true},
    {"metadata.name==n1", true},
    {"metadata.name!=n1", false},
    {"metadata.name=n2", false},
    {"metadata.name!=n2", true},
    {"metadata.name=n1,status.phase=Running", true},
    {"metadata.name=n1,status.phase=Pending", false},
    {"metadata.name=n1,,metadata.namespace=default", true},
    {"spec.nodeName=node\\,1", true},
    {"spec.nodeName=node", false},
    {"spec.weird=a\\=b\\\\c", true},
    {"spec.missing=", true},
    {"spec.missing==", true},
    {"spec.missing!=", false},
    {"spec.missing=x", false},
    {"spec.missing!=x", true},
    {"nope.deeper.still=", true},
    {"spec.empty=", true},
    {"spec.replicas=3", true},
    {"spec.replicas!=3", false},
    {"spec.replicas=03", false},
    {"spec.paused=false", true},
    {"spec.paused=true", false},
    {"spec.ready=true", true},
    {"spec.ratio=0.5", true},
    {"metadata=", true},
    {"metadata.name.x=", true},
};

static void test_field_match(void **state)
{
    json_t *obj = json_loads(OBJ, 0, NULL);
    assert_non_null(obj);
    for (size_t i = 0; i < sizeof FIELD_MATCH / sizeof *FIELD_MATCH; i++) {
        field_selector_t *sel = NULL;
        char err[512] = "";
        int rc = field_selector_parse(FIELD_MATCH[i].sel, &sel, err, sizeof err);
        if (rc) fail_msg("'%s': rc=%d err=%s", FIELD_MATCH[i].sel, rc, err);
        if (field_selector_matches(sel, obj) != FIELD_MATCH[i].match)
            fail_msg("'%s': want %s", FIELD_MATCH[i].sel, FIELD_MATCH[i].match ? "match" : "no");
        field_selector_free(sel);
    }
    json_decref(obj);
}

static const struct {
    const char *sel, *err;
} FIELD_ERRS[] = {
    {"foo", "invalid selector: 'foo'; can't understand 'foo'"},
    {"a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
    {"z,a=b=c", "invalid field selector: unescaped character in value: 61"},
    {"a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
    {"a=x,b", "invalid selector: 'a=x,b'; can't understand 'b'"},
    {"a=b=c", "invalid field selector: unescaped character in value: 61"},
    {"a==b=c", "invalid field selector: unescaped character in value: 61"},
    {"a=b\\x", "invalid field selector: invalid escape sequence: \\x"},
    {"a=b\\", "invalid field selector: invalid escape sequence: \\"},
    {"a!b", "invalid selector: 'a!b'; can't understand 'a!b'"},
};

static void test_field_errors(void **state)
{
    for (size_t i = 0; i < sizeof FIELD_ERRS / sizeof *FIELD_ERRS; i++) {
        field_selector_t *sel = (field_selector_t *)1;
        char err[512] = "";
        int rc = field_selector_parse(FIELD_ERRS[i].sel, &sel, err, sizeof err);
        if (rc != -EINVAL) fail_msg("'%s': rc=%d", FIELD_ERRS[i].sel, rc);
        assert_null(sel);
        if (strcmp(err, FIELD_ERRS[i].err) != 0)
            fail_msg("'%s':\n got: %s\nwant: %s", FIELD_ERRS[i].sel, err, FIELD_ERRS[i].err);
    }
}

static void test_field_exact_and_fields(void **state)
{
    field_selector_t *sel = NULL;
    assert_int_equal(
        field_selector_parse("spec.nodeName!=y,metadata.name=x,a==v,b=x\\,y", &sel, NULL, 0), 0);
    assert_int_equal(field_selector_count(sel), 4);
    /* Terms are kept in apimachinery's sorted order. */
    assert_string_equal(field_selector_field(sel, 0), "a");
    assert_string_equal(field_selector_field(sel, 1), "b");
    assert_string_equal(field_selector_field(sel, 2), "metadata.name");
    assert_string_equal(field_selector_field(sel, 3), "spec.nodeName");
    assert_null(field_selector_field(sel, 4));
    assert_string_equal(field_selector_exact(sel, "metadata.name"), "x");
    assert_string_equal(field_selector_exact(sel, "a"), "v");
    assert_string_equal(field_selector_exact(sel, "b"), "x,y");
    assert_null(field_selector_exact(sel, "spec.nodeName"));
    assert_null(field_selector_exact(sel, "other"));
    field_selector_free(sel);

    assert_int_equal(field_selector_parse("", &sel, NULL, 0), 0);
    assert_int_equal(field_selector_count(sel), 0);
    assert_null(field_selector_exact(sel, "metadata.name"));
    field_selector_free(sel);

    /* An empty value is an exact match too. */
    assert_int_equal(field_selector_parse("spec.nodeName=", &sel, NULL, 0), 0);
    assert_string_equal(field_selector_exact(sel, "spec.nodeName"), "");
    field_selector_free(sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_match),
        cmocka_unit_test(test_label_errors),
        cmocka_unit_test(test_label_errbuf_truncation),
        cmocka_unit_test(test_label_from_json),
        cmocka_unit_test(test_label_from_json_errors),
        cmocka_unit_test(test_field_match),
        cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_field_exact_and_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
