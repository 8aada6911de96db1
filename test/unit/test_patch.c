/* Unit tests for base/patch: RFC 7386 and RFC 6902 appendix examples, strategic merge patch
 * (lists by merge key, directives, ordering, Pod/Deployment/Node/Service rules), malformed
 * inputs, limits, and the merge-patch diff. Cases are tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/patch.h"

/* ---------------------------------------------------------------- helpers */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

static void assert_json_eq(json_t *got, const char *want, const char *name)
{
    json_t *w = J(want);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s:\n  got  %s\n  want %s", name, g ? g : "(null)", want);
    }
    json_decref(w);
}

typedef int (*apply_fn)(json_t *, json_t *, json_t **, char *, size_t);

typedef struct patch_case {
    const char *name;
    const char *doc;
    const char *patch;
    const char *want; /* expected result when rc == 0 */
    int rc;
} patch_case_t;

static void run_cases(const patch_case_t *cases, size_t n, apply_fn fn, const char *kind)
{
    for (size_t i = 0; i < n; i++) {
        const patch_case_t *c = &cases[i];
        json_t *doc = J(c->doc), *patch = J(c->patch), *out = NULL;
        json_t *before = json_deep_copy(doc);
        char err[256] = "";
        int rc;
        if (kind)
            rc = patch_smp_apply(doc, patch, patch_smp_rules_for_kind(kind), &out, err, sizeof err);
        else
            rc = fn(doc, patch, &out, err, sizeof err);
        if (rc != c->rc) fail_msg("%s: rc %d (%s), want %d", c->name, rc, err, c->rc);
        if (rc == 0) {
            assert_non_null(out);
            assert_true(out != doc);
            assert_json_eq(out, c->want, c->name);
        } else {
            assert_null(out);
            if (!err[0]) fail_msg("%s: no error message", c->name);
        }
        if (!json_equal(doc, before)) fail_msg("%s: input document modified", c->name);
        json_decref(out);
        json_decref(doc);
        json_decref(patch);
        json_decref(before);
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- RFC 7386 */

static const patch_case_t merge_cases[] = {
    /* RFC 7386 section 3 */
    {"rfc7386 s3",
     "{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\",\"familyName\":\"Doe\"},"
     "\"tags\":[\"example\",\"sample\"],\"content\":\"This will be unchanged\"}",
     "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\",\"author\":{\"familyName\":"
     "null},\"tags\":[\"example\"]}",
     "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},\"tags\":[\"example\"],"
     "\"content\":\"This will be unchanged\",\"phoneNumber\":\"+01-123-456-7890\"}",
     0},
    /* RFC 7386 appendix A */
    {"A1", "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0},
    {"A2", "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}", 0},
    {"A3", "{\"a\":\"b\"}", "{\"a\":null}", "{}", 0},
    {"A4", "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}", 0},
    {"A5", "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0},
    {"A6", "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}", 0},
    {"A7", "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}", 0},
    {"A8", "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}", 0},
    {"A9", "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]", 0},
    {"A10", "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]", 0},
    {"A11", "{\"a\":\"foo\"}", "null", "null", 0},
    {"A12", "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"", 0},
    {"A13", "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}", 0},
    {"A14", "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}", 0},
    {"A15", "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}", 0},
    /* arrays are atomic: two writers of finalizers overwrite each other */
    {"finalizers replaced", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
     "{\"metadata\":{\"finalizers\":[\"c\"]}}", "{\"metadata\":{\"finalizers\":[\"c\"]}}", 0},
    {"scalar doc", "3", "{\"a\":1}", "{\"a\":1}", 0},
};

static void test_merge_rfc7386(void **state)
{
    run_cases(merge_cases, N(merge_cases), patch_merge_apply, NULL);
}

static void test_merge_null_inputs(void **state)
{
    json_t *out = NULL, *p = J("{\"a\":{\"b\":null,\"c\":1}}");
    char err[128];
    assert_int_equal(patch_merge_apply(NULL, p, &out, err, sizeof err), 0);
    assert_json_eq(out, "{\"a\":{\"c\":1}}", "null doc");
    json_decref(out);
    assert_int_equal(patch_merge_apply(p, NULL, &out, err, sizeof err), -EINVAL);
    assert_null(out);
    json_decref(p);
}

/* ---------------------------------------------------------------- RFC 6902 */

static const patch_case_t json_cases[] = {
    /* RFC 6902 appendix A */
    {"A.1 add object member", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]", "{\"baz\":\"qux\",\"foo\":\"bar\"}",
     0},
    {"A.2 add array element", "{\"foo\":[\"bar\",\"baz\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
     "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", 0},
    {"A.3 remove object member", "{\"baz\":\"qux\",\"foo\":\"bar\"}",
     "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}", 0},
    {"A.4 remove array element", "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
     "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}", 0},
    {"A.5 replace", "{\"baz\":\"qux\",\"foo\":\"bar\"}",
     "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
     "{\"baz\":\"boo\",\"foo\":\"bar\"}", 0},
    {"A.6 move value",
     "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
     "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
     "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}", 0},
    {"A.7 move array element", "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
     "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
     "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", 0},
    {"A.8 test success", "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
     "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
     "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", 0},
    {"A.9 test error", "{\"baz\":\"qux\"}",
     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL, -EILSEQ},
    {"A.10 add nested member", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
     "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", 0},
    {"A.11 ignore unrecognized elements", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
     "{\"foo\":\"bar\",\"baz\":\"qux\"}", 0},
    {"A.12 add to nonexistent target", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL, -ENOENT},
    /* A.13 (duplicate "op" members) is rejected by the JSON loader: see test_json_rfc_a13 */
    {"A.14 ~ escape ordering", "{\"/\":9,\"~1\":10}",
     "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", "{\"/\":9,\"~1\":10}", 0},
    {"A.15 comparing strings and numbers", "{\"/\":9,\"~1\":10}",
     "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL, -EILSEQ},
    {"A.16 add array value", "{\"foo\":[\"bar\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
     "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", 0},

    /* more of the RFC's rules */
    {"escape ~1 is slash", "{\"a/b\":1}", "[{\"op\":\"remove\",\"path\":\"/a~1b\"}]", "{}", 0},
    {"empty key", "{\"\":1}", "[{\"op\":\"replace\",\"path\":\"/\",\"value\":2}]", "{\"\":2}", 0},
    {"root replace", "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]", 0},
    {"root add", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}",
     0},
    {"add replaces member", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]",
     "{\"a\":2}", 0},
    {"add at end index", "[1,2]", "[{\"op\":\"add\",\"path\":\"/2\",\"value\":3}]", "[1,2,3]", 0},
    {"add past end", "[1,2]", "[{\"op\":\"add\",\"path\":\"/3\",\"value\":3}]", NULL, -ENOENT},
    {"add null value", "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}",
     0},
    {"remove missing", "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL, -ENOENT},
    {"remove dash", "[1]", "[{\"op\":\"remove\",\"path\":\"/-\"}]", NULL, -ENOENT},
    {"remove root", "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL, -EINVAL},
    {"replace missing", "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", NULL,
     -ENOENT},
    {"replace array elem", "[1,2]", "[{\"op\":\"replace\",\"path\":\"/1\",\"value\":9}]", "[1,9]",
     0},
    {"move to same place", "{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
     "{\"a\":1}", 0},
    {"move into own child", "{\"a\":{\"b\":1}}",
     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]", NULL, -EINVAL},
    {"move missing from", "{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/b\"}]", NULL,
     -ENOENT},
    {"move sibling prefix is fine", "{\"a\":1,\"ab\":{}}",
     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab/a\"}]", "{\"ab\":{\"a\":1}}", 0},
    {"copy", "{\"a\":{\"b\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
     "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1]}}", 0},
    {"copy is deep", "{\"a\":{\"b\":1}}",
     "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
     "{\"op\":\"replace\",\"path\":\"/c/b\",\"value\":2}]",
     "{\"a\":{\"b\":1},\"c\":{\"b\":2}}", 0},
    {"test int equals real", "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]",
     "{\"a\":1}", 0},
    {"test deep object", "{\"a\":{\"x\":[1,{\"y\":true}],\"z\":null}}",
     "[{\"op\":\"test\",\"path\":\"/a\",\"value\":{\"z\":null,\"x\":[1.0,{\"y\":true}]}}]",
     "{\"a\":{\"x\":[1,{\"y\":true}],\"z\":null}}", 0},
    {"test array order matters", "{\"a\":[1,2]}",
     "[{\"op\":\"test\",\"path\":\"/a\",\"value\":[2,1]}]", NULL, -EILSEQ},
    {"test missing path", "{}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]", NULL,
     -ENOENT},
    {"test then remove (stale rv)",
     "{\"metadata\":{\"resourceVersion\":\"5\",\"finalizers\":[\"x\"]}}",
     "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"OLD\"},"
     "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/0\"}]",
     NULL, -EILSEQ},
    {"failed op leaves no partial result", "{\"a\":1}",
     "[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"remove\",\"path\":\"/a\"}]", NULL, -ENOENT},
    {"empty patch", "{\"a\":1}", "[]", "{\"a\":1}", 0},

    /* malformed */
    {"patch not array", "{}", "{\"op\":\"add\"}", NULL, -EINVAL},
    {"op not object", "{}", "[1]", NULL, -EINVAL},
    {"op missing", "{}", "[{\"path\":\"/a\"}]", NULL, -EINVAL},
    {"op not string", "{}", "[{\"op\":1,\"path\":\"/a\"}]", NULL, -EINVAL},
    {"op unknown", "{}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL, -EINVAL},
    {"op case matters", "{}", "[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]", NULL, -EINVAL},
    {"path missing", "{}", "[{\"op\":\"add\",\"value\":1}]", NULL, -EINVAL},
    {"path number", "{}", "[{\"op\":\"add\",\"path\":5,\"value\":1}]", NULL, -EINVAL},
    {"path without slash", "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"a\"}]", NULL, -EINVAL},
    {"bad escape", "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/~2\"}]", NULL, -EINVAL},
    {"trailing tilde", "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a~\"}]", NULL, -EINVAL},
    {"value missing", "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, -EINVAL},
    {"from missing", "{\"a\":1}", "[{\"op\":\"copy\",\"path\":\"/b\"}]", NULL, -EINVAL},
    {"from not string", "{\"a\":1}", "[{\"op\":\"move\",\"from\":[],\"path\":\"/b\"}]", NULL,
     -EINVAL},
    {"index leading zero", "[1,2]", "[{\"op\":\"remove\",\"path\":\"/01\"}]", NULL, -EINVAL},
    {"index negative", "[1,2]", "[{\"op\":\"remove\",\"path\":\"/-1\"}]", NULL, -EINVAL},
    {"index not a number", "[1,2]", "[{\"op\":\"remove\",\"path\":\"/x\"}]", NULL, -EINVAL},
    {"index empty", "[1,2]", "[{\"op\":\"add\",\"path\":\"/\",\"value\":1}]", NULL, -EINVAL},
    {"index huge", "[1,2]", "[{\"op\":\"remove\",\"path\":\"/99999999999999999999999999\"}]", NULL,
     -ENOENT},
    {"index huge add", "[1,2]", "[{\"op\":\"add\",\"path\":\"/18446744073709551616\",\"value\":0}]",
     NULL, -ENOENT},
    {"dash in the middle", "{\"a\":[{\"b\":1}]}",
     "[{\"op\":\"add\",\"path\":\"/a/-/b\",\"value\":1}]", NULL, -ENOENT},
    {"walk through scalar", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", NULL,
     -ENOENT},
};

static void test_json_rfc6902(void **state)
{
    run_cases(json_cases, N(json_cases), patch_json_apply, NULL);
}

static void test_json_rfc_a13(void **state)
{
    /* A.13: a patch with duplicate "op" members is invalid; jansson rejects it at load time with
     * JSON_REJECT_DUPLICATES, which is how callers must load patches. */
    json_error_t e;
    json_t *p =
        json_loads("[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]",
                   JSON_REJECT_DUPLICATES, &e);
    assert_null(p);
}

static void test_json_error_message(void **state)
{
    json_t *doc = J("{\"a\":{}}"), *p = J("[{\"op\":\"remove\",\"path\":\"/a/zz\"}]"), *out = NULL;
    char err[256] = "";
    assert_int_equal(patch_json_apply(doc, p, &out, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/a/zz"));
    assert_non_null(strstr(err, "remove"));
    /* a NULL errbuf is fine */
    assert_int_equal(patch_json_apply(doc, p, &out, NULL, 0), -ENOENT);
    json_decref(doc);
    json_decref(p);
}

/* ---------------------------------------------------------------- limits */

static json_t *nested(int depth)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < depth; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "a", v);
        v = o;
    }
    return v;
}

static void test_limits(void **state)
{
    char err[256];
    json_t *out = NULL;
    json_t *ok = nested(100), *deep = nested(101), *empty = J("{}");

    assert_int_equal(patch_merge_apply(ok, empty, &out, err, sizeof err), 0);
    json_decref(out);
    assert_int_equal(patch_merge_apply(deep, empty, &out, err, sizeof err), -E2BIG);
    assert_int_equal(patch_merge_apply(empty, deep, &out, err, sizeof err), -E2BIG);
    assert_int_equal(
        patch_smp_apply(deep, empty, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err),
        -E2BIG);
    assert_int_equal(
        patch_smp_apply(empty, deep, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err),
        -E2BIG);
    json_t *noop = J("[]");
    assert_int_equal(patch_json_apply(deep, noop, &out, err, sizeof err), -E2BIG);

    /* an add that would nest too deep */
    json_t *p = json_array(), *op = json_object();
    json_object_set_new(op, "op", json_string("add"));
    json_object_set_new(op, "path", json_string("/x/y"));
    json_object_set(op, "value", json_object_get(ok, "a")); /* depth 99 */
    json_array_append_new(p, op);
    json_t *doc = J("{\"x\":{}}");
    assert_int_equal(patch_json_apply(doc, p, &out, err, sizeof err), -E2BIG);
    json_decref(p);

    /* more than 10,000 operations */
    p = json_array();
    for (int i = 0; i < 10001; i++)
        json_array_append_new(p, J("{\"op\":\"test\",\"path\":\"\",\"value\":{\"x\":{}}}"));
    assert_int_equal(patch_json_apply(doc, p, &out, err, sizeof err), -E2BIG);
    json_array_remove(p, 0);
    assert_int_equal(patch_json_apply(doc, p, &out, err, sizeof err), 0);
    json_decref(out);
    json_decref(p);

    /* "copy" doubling the document */
    p = json_array();
    json_t *big = J("{\"a\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}");
    for (int i = 0; i < 60; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/-\"}");
        json_array_append_new(p, J(buf));
    }
    assert_int_equal(patch_json_apply(big, p, &out, err, sizeof err), -E2BIG);
    assert_null(out);
    json_decref(p);
    json_decref(big);

    json_decref(doc);
    json_decref(noop);
    json_decref(ok);
    json_decref(deep);
    json_decref(empty);
}

/* ---------------------------------------------------------------- strategic merge patch */

#define POD2                                                                                       \
    "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},"   \
    "{\"name\":\"b\",\"image\":\"y\"}]}}"

static const patch_case_t smp_pod_cases[] = {
    {"containers merged by name", POD2,
     "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"z\"}]}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},"
     "{\"name\":\"b\",\"image\":\"z\"}]}}",
     0},
    /* Kubernetes puts patch items not in the live list before the server's items */
    {"new container goes first (as kube-apiserver)", POD2,
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"w\"}]}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"w\"},"
     "{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}",
     0},
    {"patch order wins for patched items",
     "{\"spec\":{\"containers\":[{\"name\":\"1\"},{\"name\":\"2\",\"v\":\"b\"},{\"name\":\"3\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"3\",\"v\":\"c\"},{\"name\":\"1\",\"v\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"2\",\"v\":\"b\"},{\"name\":\"3\",\"v\":\"c\"},"
     "{\"name\":\"1\",\"v\":\"a\"}]}}",
     0},
    {"env merged by name",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"},"
     "{\"name\":\"Y\",\"value\":\"2\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"3\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"},"
     "{\"name\":\"Y\",\"value\":\"3\"}]}]}}",
     0},
    {"env var value removed by null",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":null,"
     "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"valueFrom\":"
     "{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}]}]}}",
     0},
    {"ports by containerPort, volumeMounts by mountPath",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"h\"}],"
     "\"volumeMounts\":[{\"mountPath\":\"/d\",\"name\":\"v\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"protocol\":"
     "\"TCP\"}],\"volumeMounts\":[{\"mountPath\":\"/d\",\"readOnly\":true}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"h\","
     "\"protocol\":\"TCP\"}],\"volumeMounts\":[{\"mountPath\":\"/d\",\"name\":\"v\",\"readOnly\":"
     "true}]}]}}",
     0},
    {"$patch delete of a container", POD2,
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"}]}}",
     0},
    {"$patch delete of every duplicate",
     "{\"spec\":{\"containers\":[{\"name\":\"1\"},{\"name\":\"1\"},{\"name\":\"2\",\"v\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"1\",\"$patch\":\"delete\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"2\",\"v\":\"a\"}]}}", 0},
    {"$patch replace on a list", POD2,
     "{\"spec\":{\"containers\":[{\"name\":\"z\",\"image\":\"q\"},{\"$patch\":\"replace\"}]}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"z\",\"image\":\"q\"}]}}",
     0},
    {"$patch replace empties a list", POD2,
     "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"}]}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[]}}", 0},
    {"$patch replace on a map", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
     "{\"metadata\":{\"labels\":{\"c\":\"3\",\"$patch\":\"replace\"}}}",
     "{\"metadata\":{\"labels\":{\"c\":\"3\"}}}", 0},
    {"$patch replace at the top", "{\"a\":1,\"b\":2}", "{\"$patch\":\"replace\",\"c\":3}",
     "{\"c\":3}", 0},
    {"$patch delete on a map", "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}",
     "{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}", "{\"metadata\":{\"name\":\"x\"}}", 0},
    {"$patch delete at the top", "{\"a\":1}", "{\"$patch\":\"delete\"}", "{}", 0},
    {"$patch merge is the default", "{\"metadata\":{\"labels\":{\"a\":\"1\"}}}",
     "{\"metadata\":{\"labels\":{\"$patch\":\"merge\",\"b\":\"2\"}}}",
     "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}", 0},
    {"$retainKeys on volumes",
     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"w\",\"hostPath\":"
     "{\"path\":\"/x\"}}]}}",
     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"$retainKeys\":[\"name\",\"configMap\"],"
     "\"configMap\":{\"name\":\"cm\"}}]}}",
     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"cm\"}},{\"name\":\"w\","
     "\"hostPath\":{\"path\":\"/x\"}}]}}",
     0},
    {"$retainKeys key missing from list",
     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}",
     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"$retainKeys\":[\"name\"],\"configMap\":{}}]}}",
     NULL, -EINVAL},
    {"$retainKeys not a list", "{\"spec\":{}}", "{\"spec\":{\"$retainKeys\":\"name\"}}", NULL,
     -EINVAL},
    {"$setElementOrder/containers reorders",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},"
     "{\"name\":\"b\"},{\"name\":\"c\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":"
     "\"b\"}],\"containers\":[{\"name\":\"a\",\"image\":\"new\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"name\":\"a\",\"image\":\"new\"},"
     "{\"name\":\"b\"}]}}",
     0},
    {"$setElementOrder places an added container",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"d\"},{\"name\":"
     "\"b\"},{\"name\":\"c\"}],\"containers\":[{\"name\":\"d\",\"image\":\"i\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"d\",\"image\":\"i\"},"
     "{\"name\":\"b\"},{\"name\":\"c\"}]}}",
     0},
    /* server-only elements keep their relative order and are interleaved by their live
     * position (mergeSortedSlice in k8s.io/apimachinery/pkg/util/strategicpatch) */
    {"$setElementOrder: server-only elements keep their order",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"x\"},{\"name\":\"b\"},"
     "{\"name\":\"y\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"x\"},{\"name\":\"b\"},{\"name\":\"a\"},"
     "{\"name\":\"y\"}]}}",
     0},
    {"$setElementOrder: kube test 'merge lists of maps'",
     "{\"spec\":{\"containers\":[{\"name\":\"1\",\"other\":\"a\"},{\"name\":\"2\",\"value\":"
     "\"2\",\"other\":\"b\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"4\"},{\"name\":\"1\"},"
     "{\"name\":\"2\"},{\"name\":\"3\"}],\"containers\":[{\"name\":\"4\",\"value\":\"4\"},"
     "{\"name\":\"3\",\"value\":\"3\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"4\",\"value\":\"4\"},{\"name\":\"1\",\"other\":"
     "\"a\"},{\"name\":\"2\",\"value\":\"2\",\"other\":\"b\"},{\"name\":\"3\",\"value\":\"3\"}]}}",
     0},
    {"$setElementOrder: kube test 'delete items in lists of scalars'",
     "{\"metadata\":{\"finalizers\":[\"1\",\"2\",\"3\",\"4\"]}}",
     "{\"metadata\":{\"$setElementOrder/finalizers\":[\"1\",\"2\"],"
     "\"$deleteFromPrimitiveList/finalizers\":[\"3\"]}}",
     "{\"metadata\":{\"finalizers\":[\"1\",\"2\",\"4\"]}}", 0},
    {"$setElementOrder with a deletion (kubectl apply)",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"c\"}],"
     "\"containers\":[{\"name\":\"b\",\"$patch\":\"delete\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"c\"}]}}", 0},
    {"$setElementOrder item missing from the list",
     "{\"spec\":{\"containers\":[{\"name\":\"1\"},{\"name\":\"3\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"3\"},{\"name\":\"2\"},{\"name\":"
     "\"1\"}],\"containers\":[{\"name\":\"3\",\"v\":3},{\"name\":\"1\",\"v\":1}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"3\",\"v\":3},{\"name\":\"1\",\"v\":1}]}}", 0},
    {"$setElementOrder disagrees with the patch list",
     "{\"spec\":{\"containers\":[{\"name\":\"1\"},{\"name\":\"3\"},{\"name\":\"2\"}]}}",
     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":"
     "\"3\"}],\"containers\":[{\"name\":\"3\",\"v\":3},{\"name\":\"1\",\"v\":1}]}}",
     NULL, -EINVAL},
    {"$setElementOrder on finalizers", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
     "{\"metadata\":{\"$setElementOrder/finalizers\":[\"c\",\"a\",\"b\"]}}",
     "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}", 0},
    {"$setElementOrder not a list", "{\"spec\":{\"containers\":[]}}",
     "{\"spec\":{\"$setElementOrder/containers\":{}}}", NULL, -EINVAL},
    {"$setElementOrder without a list name", "{\"spec\":{}}",
     "{\"spec\":{\"$setElementOrder\":[]}}", NULL, -EINVAL},
    {"$setElementOrder names a non-list", "{\"spec\":{\"containers\":{}}}",
     "{\"spec\":{\"$setElementOrder/containers\":[]}}", NULL, -EINVAL},
    {"$deleteFromPrimitiveList/finalizers", "{\"metadata\":{\"finalizers\":[\"x\",\"y\",\"z\"]}}",
     "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"y\"]}}",
     "{\"metadata\":{\"finalizers\":[\"x\",\"z\"]}}", 0},
    {"$deleteFromPrimitiveList with an addition", "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}",
     "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"x\"],\"$setElementOrder/"
     "finalizers\":[\"y\",\"w\"],\"finalizers\":[\"w\"]}}",
     "{\"metadata\":{\"finalizers\":[\"y\",\"w\"]}}", 0},
    {"$deleteFromPrimitiveList not a list", "{\"metadata\":{\"finalizers\":[\"x\"]}}",
     "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":\"x\"}}", NULL, -EINVAL},
    {"$deleteFromPrimitiveList without a name", "{\"metadata\":{}}",
     "{\"metadata\":{\"$deleteFromPrimitiveList/\":[\"x\"]}}", NULL, -EINVAL},
    {"finalizers union keeps order", "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}",
     "{\"metadata\":{\"finalizers\":[\"y\",\"z\"]}}",
     "{\"metadata\":{\"finalizers\":[\"x\",\"y\",\"z\"]}}", 0},
    {"finalizers: a new one goes first (as kube-apiserver)",
     "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}", "{\"metadata\":{\"finalizers\":[\"z\"]}}",
     "{\"metadata\":{\"finalizers\":[\"z\",\"x\",\"y\"]}}", 0},
    {"finalizers: two writers both survive", "{\"metadata\":{\"finalizers\":[\"a/one\"]}}",
     "{\"metadata\":{\"finalizers\":[\"a/one\",\"b/two\"]}}",
     "{\"metadata\":{\"finalizers\":[\"a/one\",\"b/two\"]}}", 0},
    {"finalizers dedup", "{\"metadata\":{\"finalizers\":[\"x\",\"x\"]}}",
     "{\"metadata\":{\"finalizers\":[\"x\"]}}", "{\"metadata\":{\"finalizers\":[\"x\"]}}", 0},
    {"ownerReferences by uid",
     "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"},{\"uid\":\"2\","
     "\"name\":\"b\"}]}}",
     "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"2\",\"controller\":true}]}}",
     "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"},{\"uid\":\"2\","
     "\"name\":\"b\",\"controller\":true}]}}",
     0},
    {"tolerations are atomic", "{\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"key\":\"b\"}]}}",
     "{\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}",
     "{\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}", 0},
    {"command is atomic",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"command\":[\"x\",\"y\"]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"command\":[\"z\"]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"command\":[\"z\"]}]}}", 0},
    {"unknown lists are atomic", "{\"spec\":{\"whatever\":[1,2]}}", "{\"spec\":{\"whatever\":[3]}}",
     "{\"spec\":{\"whatever\":[3]}}", 0},
    {"null deletes", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
     "{\"metadata\":{\"labels\":{\"a\":null,\"c\":null}}}",
     "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}", 0},
    {"null deletes a list", POD2, "{\"spec\":{\"containers\":null}}",
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{}}", 0},
    {"new map drops nulls and directives", "{}",
     "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":null},\"annotations\":{\"$patch\":\"delete\"}}}",
     "{\"metadata\":{\"labels\":{\"a\":\"1\"}}}", 0},
    {"new list drops directive elements", "{\"spec\":{}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"E\",\"value\":null}]},"
     "{\"name\":\"b\",\"$patch\":\"delete\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"E\"}]}]}}", 0},
    {"type change replaces", "{\"spec\":{\"containers\":{\"a\":1}}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", 0},
    {"status conditions by type",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":"
     "\"Initialized\",\"status\":\"True\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":"
     "\"Initialized\",\"status\":\"True\"}]}}",
     0},
    {"status podIPs by ip", "{\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"}]}}",
     "{\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\",\"x\":1}]}}",
     "{\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\",\"x\":1}]}}", 0},
    {"containerStatuses are atomic",
     "{\"status\":{\"containerStatuses\":[{\"name\":\"a\",\"ready\":true},{\"name\":\"b\"}]}}",
     "{\"status\":{\"containerStatuses\":[{\"name\":\"a\",\"ready\":false}]}}",
     "{\"status\":{\"containerStatuses\":[{\"name\":\"a\",\"ready\":false}]}}", 0},
    {"initContainers by name", "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"1\"}]}}",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"args\":[\"a\"]}]}}",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"1\",\"args\":[\"a\"]}]}}", 0},
    {"numeric merge keys compare by value",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"h\"}]}"
     "]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80.0,\"x\":1}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80.0,\"name\":"
     "\"h\",\"x\":1}]}]}}",
     0},

    /* malformed */
    {"patch element without merge key", POD2, "{\"spec\":{\"containers\":[{\"image\":\"z\"}]}}",
     NULL, -EINVAL},
    {"delete element without merge key", POD2,
     "{\"spec\":{\"containers\":[{\"$patch\":\"delete\"}]}}", NULL, -EINVAL},
    {"unknown $patch in a map", "{\"metadata\":{}}", "{\"metadata\":{\"$patch\":\"frob\"}}", NULL,
     -EINVAL},
    {"$patch not a string", "{\"metadata\":{}}", "{\"metadata\":{\"$patch\":1}}", NULL, -EINVAL},
    {"unknown $patch in a list", POD2,
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"frob\"}]}}", NULL, -EINVAL},
    {"mixed element types", "{\"metadata\":{\"finalizers\":[\"a\"]}}",
     "{\"metadata\":{\"finalizers\":[1]}}", NULL, -EINVAL},
    {"lists of lists", "{\"metadata\":{\"finalizers\":[[\"a\"]]}}",
     "{\"metadata\":{\"finalizers\":[[\"b\"]]}}", NULL, -EINVAL},
    {"primitives in a keyed list", "{\"spec\":{\"containers\":[\"a\"]}}",
     "{\"spec\":{\"containers\":[\"b\"]}}", NULL, -EINVAL},
    {"objects in a primitive merge list", "{\"metadata\":{\"finalizers\":[{\"a\":1}]}}",
     "{\"metadata\":{\"finalizers\":[{\"b\":1}]}}", NULL, -EINVAL},
    {"patch not an object", "{}", "[]", NULL, -EINVAL},
    {"doc not an object", "[]", "{}", NULL, -EINVAL},
};

static void test_smp_pod(void **state)
{
    run_cases(smp_pod_cases, N(smp_pod_cases), NULL, "Pod");
}

static const patch_case_t smp_workload_cases[] = {
    {"deployment template containers by name",
     "{\"spec\":{\"replicas\":1,\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":"
     "{\"containers\":[{\"name\":\"a\",\"image\":\"1\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]},"
     "{\"name\":\"b\",\"image\":\"2\"}]}}}}",
     "{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":"
     "[{\"name\":\"F\",\"value\":\"2\"}]}]}}}}",
     "{\"spec\":{\"replicas\":3,\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":"
     "{\"containers\":[{\"name\":\"a\",\"image\":\"1\",\"env\":[{\"name\":\"F\",\"value\":\"2\"},"
     "{\"name\":\"E\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"2\"}]}}}}",
     0},
    {"deployment status conditions by type",
     "{\"status\":{\"conditions\":[{\"type\":\"Available\",\"status\":\"False\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\"},{\"type\":"
     "\"Available\",\"status\":\"True\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\"},{\"type\":"
     "\"Available\",\"status\":\"True\"}]}}",
     0},
    {"pod-level lists are atomic on a deployment", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}", 0},
};

static void test_smp_workloads(void **state)
{
    run_cases(smp_workload_cases, N(smp_workload_cases), NULL, "Deployment");
    run_cases(smp_workload_cases, N(smp_workload_cases), NULL, "StatefulSet");
    run_cases(smp_workload_cases, N(smp_workload_cases), NULL, "Job");
}

static const patch_case_t smp_node_cases[] = {
    {"node conditions and addresses by type",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],\"addresses\":"
     "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},{\"type\":\"Hostname\",\"address\":"
     "\"n\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":"
     "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}",
     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":"
     "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"},{\"type\":\"Hostname\",\"address\":"
     "\"n\"}]}}",
     0},
};

static const patch_case_t smp_service_cases[] = {
    {"service ports by port",
     "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080},{\"port\":443}]}}",
     "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
     "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}]}}", 0},
};

static const patch_case_t smp_meta_only_cases[] = {
    {"configmap data merges, finalizers union",
     "{\"metadata\":{\"finalizers\":[\"a\"]},\"data\":{\"k\":\"v\",\"x\":\"y\"}}",
     "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"data\":{\"k\":null,\"n\":\"m\"}}",
     "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"data\":{\"x\":\"y\",\"n\":\"m\"}}", 0},
    {"spec.containers is atomic for a ConfigMap", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}", 0},
};

static void test_smp_other_kinds(void **state)
{
    run_cases(smp_node_cases, N(smp_node_cases), NULL, "Node");
    run_cases(smp_service_cases, N(smp_service_cases), NULL, "Service");
    run_cases(smp_meta_only_cases, N(smp_meta_only_cases), NULL, "ConfigMap");
    run_cases(smp_meta_only_cases, N(smp_meta_only_cases), NULL, "Secret");
}

static void test_smp_rules_table(void **state)
{
    const char *kinds[] = {"Pod",       "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet",
                           "Job",       "CronJob",    "Service",    "Node",      "Namespace",
                           "ConfigMap", "Secret",     "Whatever",   NULL};
    for (int i = 0; kinds[i]; i++) {
        const smp_list_rule_t *r = patch_smp_rules_for_kind(kinds[i]);
        assert_non_null(r);
        bool fin = false, own = false;
        for (; r->path; r++) {
            if (strcmp(r->path, "metadata.finalizers") == 0) fin = r->merge_key == NULL;
            if (strcmp(r->path, "metadata.ownerReferences") == 0)
                own = r->merge_key && strcmp(r->merge_key, "uid") == 0;
        }
        assert_true(fin);
        assert_true(own);
    }
    assert_non_null(patch_smp_rules_for_kind(NULL));
    /* NULL rules: everything atomic, maps still merge */
    json_t *doc = J("{\"metadata\":{\"finalizers\":[\"a\"],\"labels\":{\"x\":\"1\"}}}");
    json_t *p = J("{\"metadata\":{\"finalizers\":[\"b\"],\"labels\":{\"y\":\"2\"}}}"), *out;
    assert_int_equal(patch_smp_apply(doc, p, NULL, &out, NULL, 0), 0);
    assert_json_eq(out,
                   "{\"metadata\":{\"finalizers\":[\"b\"],\"labels\":{\"x\":\"1\",\"y\":\"2\"}}}",
                   "null rules");
    json_decref(out);
    json_decref(doc);
    json_decref(p);
}

static void test_smp_error_message(void **state)
{
    json_t *doc = J(POD2), *p = J("{\"spec\":{\"containers\":[{\"image\":\"z\"}]}}"), *out = NULL;
    char err[256] = "";
    assert_int_equal(
        patch_smp_apply(doc, p, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "spec.containers"));
    assert_non_null(strstr(err, "name"));
    json_decref(doc);
    json_decref(p);
}

/* Wrong types everywhere: every call must return cleanly. */
static void test_smp_garbage(void **state)
{
    const char *docs[] = {
        "{}",
        POD2,
        "{\"spec\":{\"containers\":[1,\"a\",null]},\"metadata\":{\"finalizers\":{}}}",
        "{\"spec\":{\"containers\":[{\"name\":{\"x\":1}},{\"name\":[1]},{}]}}",
        "{\"metadata\":{\"finalizers\":[null,true,1.5,\"x\"]}}",
    };
    const char *patches[] = {
        "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":5}]}}",
        ("{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"},"
         "{\"$patch\":\"replace\"}]}}"),
        "{\"spec\":{\"containers\":[{\"name\":{\"x\":1},\"y\":2}]}}",
        "{\"spec\":{\"$setElementOrder/containers\":[1,2],\"containers\":[{\"name\":\"a\"}]}}",
        "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],\"containers\":null}}",
        "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],\"containers\":[7]}}",
        "{\"spec\":{\"$setElementOrder/nothing\":[\"a\"]}}",
        "{\"metadata\":{\"$setElementOrder/finalizers\":[{\"a\":1},null],\"finalizers\":[null]}}",
        "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[{},[]]}}",
        "{\"$retainKeys\":[1,null,{}],\"spec\":null}",
        "{\"$retainKeys\":[],\"$patch\":\"merge\"}",
        "{\"spec\":{\"containers\":[[1]]}}",
        "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":null}]}]}}",
        "{\"$setElementOrder/\":[]}",
        "{\"$deleteFromPrimitiveListX\":[]}",
        "{\"metadata\":{\"finalizers\":[{\"$patch\":\"replace\"}]}}",
    };
    for (size_t i = 0; i < N(docs); i++) {
        for (size_t j = 0; j < N(patches); j++) {
            json_t *d = J(docs[i]), *p = J(patches[j]), *out = NULL;
            char err[256];
            int rc = patch_smp_apply(d, p, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err);
            assert_true(rc == 0 || rc == -EINVAL);
            if (rc == 0)
                assert_non_null(out);
            else
                assert_null(out);
            json_decref(out);
            rc = patch_merge_apply(d, p, &out, err, sizeof err);
            assert_int_equal(rc, 0);
            json_decref(out);
            json_decref(d);
            json_decref(p);
        }
    }
}

/* ---------------------------------------------------------------- diff */

static void test_merge_diff(void **state)
{
    static const struct {
        const char *from, *to, *want; /* want NULL: no patch */
    } cases[] = {
        {"{\"a\":1}", "{\"a\":1}", NULL},
        {"{\"a\":1}", "{\"a\":1.0}", NULL},
        {"{\"a\":1}", "{\"a\":2}", "{\"a\":2}"},
        {"{\"a\":1,\"b\":2}", "{\"a\":1}", "{\"b\":null}"},
        {"{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"x\":1,\"y\":3,\"z\":4}}",
         "{\"a\":{\"y\":3,\"z\":4}}"},
        {"{\"a\":[1,2]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"{\"a\":{\"b\":1}}", "{\"a\":\"s\"}", "{\"a\":\"s\"}"},
        {"{\"a\":1}", "[1]", "[1]"},
        {"{\"metadata\":{\"labels\":{\"app\":\"x\"},\"name\":\"n\"},\"spec\":{\"r\":1}}",
         "{\"metadata\":{\"labels\":{\"app\":\"y\"},\"name\":\"n\"},\"spec\":{\"r\":1}}",
         "{\"metadata\":{\"labels\":{\"app\":\"y\"}}}"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        json_t *from = J(cases[i].from), *to = J(cases[i].to);
        json_t *d = patch_merge_diff(from, to);
        if (!cases[i].want) {
            assert_null(d);
        } else {
            assert_non_null(d);
            assert_json_eq(d, cases[i].want, cases[i].to);
            json_t *back = NULL;
            assert_int_equal(patch_merge_apply(from, d, &back, NULL, 0), 0);
            assert_true(json_equal(back, to));
            json_decref(back);
        }
        json_decref(d);
        json_decref(from);
        json_decref(to);
    }
    /* deep trees do not recurse without bound */
    json_t *a = nested(300), *b = nested(301);
    json_t *d = patch_merge_diff(a, b);
    assert_non_null(d);
    json_decref(d);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_rfc7386),
        cmocka_unit_test(test_merge_null_inputs),
        cmocka_unit_test(test_json_rfc6902),
        cmocka_unit_test(test_json_rfc_a13),
        cmocka_unit_test(test_json_error_message),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_smp_pod),
        cmocka_unit_test(test_smp_workloads),
        cmocka_unit_test(test_smp_other_kinds),
        cmocka_unit_test(test_smp_rules_table),
        cmocka_unit_test(test_smp_error_message),
        cmocka_unit_test(test_smp_garbage),
        cmocka_unit_test(test_merge_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
