/* Unit tests for base/yamljson: scalar resolution as sigs.k8s.io/yaml (YAML 1.1), keys, nested
 * documents, anchors and merge keys, limits (billion laughs, depth), error positions, and the
 * dump -> parse round trip. Cases are tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/yamljson.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

static void expect_yaml(const char *yaml, const char *want_json, const char *name)
{
    char err[256] = "";
    json_t *got = yamljson_parse(yaml, strlen(yaml), err, sizeof err);
    if (!got) fail_msg("%s: parse failed: %s", name, err);
    json_t *want = J(want_json);
    /* json_equal does not tell 1 from 1.0 apart from type: check the dump too */
    char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!json_equal(got, want) || strcmp(g, w) != 0)
        fail_msg("%s:\n  got  %s\n  want %s", name, g, w);
    free(g);
    free(w);
    json_decref(got);
    json_decref(want);
}

static void expect_error(const char *yaml, const char *needle, const char *name)
{
    char err[256] = "";
    json_t *got = yamljson_parse(yaml, strlen(yaml), err, sizeof err);
    if (got) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s: parsed (%s), want an error", name, g);
    }
    if (needle && !strstr(err, needle))
        fail_msg("%s: error \"%s\" lacks \"%s\"", name, err, needle);
}

/* ---------------------------------------------------------------- scalars */

static void test_scalars(void **state)
{
    static const struct {
        const char *yaml, *json;
    } cases[] = {
        /* null */
        {"~", "null"},
        {"null", "null"},
        {"Null", "null"},
        {"NULL", "null"},
        {"", "null"},
        {"nULL", "\"nULL\""},
        /* bool, YAML 1.1 as go-yaml v2 */
        {"true", "true"},
        {"True", "true"},
        {"TRUE", "true"},
        {"false", "false"},
        {"False", "false"},
        {"FALSE", "false"},
        {"yes", "true"},
        {"Yes", "true"},
        {"no", "false"},
        {"NO", "false"},
        {"on", "true"},
        {"off", "false"},
        {"y", "true"},
        {"n", "false"},
        {"tRUE", "\"tRUE\""},
        /* integers */
        {"0", "0"},
        {"123", "123"},
        {"-17", "-17"},
        {"+5", "5"},
        {"0x1F", "31"},
        {"-0x10", "-16"},
        {"0o17", "15"},
        {"017", "15"},
        {"0b101", "5"},
        {"1_000", "1000"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9223372036854775808", "9.2233720368547758e18"},
        /* floats */
        {"1.5", "1.5"},
        {"-2.25", "-2.25"},
        {"1e3", "1000.0"},
        {"1.0", "1.0"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"6.02e+23", "6.02e23"},
        {"09", "9.0"},
        /* strings */
        {"abc", "\"abc\""},
        {"'123'", "\"123\""},
        {"\"true\"", "\"true\""},
        {"'~'", "\"~\""},
        {"\"\"", "\"\""},
        {"1e999", "\"1e999\""},
        {"0x", "\"0x\""},
        {"1.2.3", "\"1.2.3\""},
        {"2024-01-02T03:04:05Z", "\"2024-01-02T03:04:05Z\""},
        {"10.0.0.1", "\"10.0.0.1\""},
        {"1Gi", "\"1Gi\""},
        {"500m", "\"500m\""},
        {"-x", "\"-x\""},
        {"'-'", "\"-\""},
        {"a b  c", "\"a b  c\""},
        {"\"esc\\tapes\\u00e9\"", "\"esc\\tapes\\u00e9\""},
        {"|\n  line1\n  line2\n", "\"line1\\nline2\\n\""},
        {">-\n  folded\n  text\n", "\"folded text\""},
        {"<<", "\"<<\""},
        /* tags */
        {"!!str 123", "\"123\""},
        {"!!str true", "\"true\""},
        {"!!int '42'", "42"},
        {"!!float 1", "1.0"},
        {"!!bool yes", "true"},
        {"!!null ''", "null"},
        {"!custom 12", "\"12\""},
        {"! 12", "\"12\""},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char doc[256];
        snprintf(doc, sizeof doc, "v: %s\n", cases[i].yaml);
        if (strchr(cases[i].yaml, '\n')) snprintf(doc, sizeof doc, "v: %s", cases[i].yaml);
        char want[256];
        snprintf(want, sizeof want, "{\"v\":%s}", cases[i].json);
        expect_yaml(doc, want, doc);
        /* the same scalar as a list item and as a whole document */
        if (!strchr(cases[i].yaml, '\n')) {
            snprintf(doc, sizeof doc, "- %s\n", cases[i].yaml);
            snprintf(want, sizeof want, "[%s]", cases[i].json);
            expect_yaml(doc, want, doc);
        }
    }
    expect_yaml("42", "42", "bare int document");
    expect_yaml("hello", "\"hello\"", "bare string document");
    expect_yaml("", "null", "empty input");
    expect_yaml("# only a comment\n", "null", "comment only");
    expect_yaml("---\n", "null", "empty document");
}

static void test_scalar_errors(void **state)
{
    static const struct {
        const char *yaml, *needle;
    } cases[] = {
        {"v: .inf\n", "cannot be represented in JSON"},
        {"v: -.Inf\n", "cannot be represented in JSON"},
        {"v: .nan\n", "cannot be represented in JSON"},
        {"v: !!int abc\n", "cannot decode"},
        {"v: !!bool 3\n", "cannot decode"},
    };
    for (size_t i = 0; i < N(cases); i++)
        expect_error(cases[i].yaml, cases[i].needle, cases[i].yaml);
}

static void test_keys(void **state)
{
    static const struct {
        const char *yaml, *json;
    } cases[] = {
        {"yes: 1\n", "{\"true\":1}"},
        {"off: 1\n", "{\"false\":1}"},
        {"1: a\n", "{\"1\":\"a\"}"},
        {"0x10: a\n", "{\"16\":\"a\"}"},
        {"1.5: a\n", "{\"1.5\":\"a\"}"},
        {"100.0: a\n", "{\"100\":\"a\"}"},
        {"1e6: a\n", "{\"1e+06\":\"a\"}"},
        {"~: a\n", "{\"null\":\"a\"}"},
        {"'yes': 1\n", "{\"yes\":1}"},
        {"\"1\": 1\n", "{\"1\":1}"},
        {"a: 1\na: 2\n", "{\"a\":2}"},
        {"? complex\n: v\n", "{\"complex\":\"v\"}"},
        {"k: &x key\n*x : v\n", "{\"k\":\"key\",\"key\":\"v\"}"},
    };
    for (size_t i = 0; i < N(cases); i++)
        expect_yaml(cases[i].yaml, cases[i].json, cases[i].yaml);
    expect_error("? [a, b]\n: v\n", "mapping keys must be scalars", "sequence key");
    expect_error("? {a: b}\n: v\n", "mapping keys must be scalars", "mapping key");
}

/* ---------------------------------------------------------------- documents */

static void test_nested_documents(void **state)
{
    expect_yaml("apiVersion: v1\n"
                "kind: Pod\n"
                "metadata:\n"
                "  name: web\n"
                "  labels:\n"
                "    app: web\n"
                "    tier: \"1\"\n"
                "  annotations: {a: b, c: 'd'}\n"
                "spec:\n"
                "  containers:\n"
                "  - name: nginx\n"
                "    image: nginx:1.25\n"
                "    ports:\n"
                "    - containerPort: 80\n"
                "      protocol: TCP\n"
                "    env:\n"
                "    - {name: DEBUG, value: \"true\"}\n"
                "    command: [sh, -c, 'echo hi']\n"
                "    resources:\n"
                "      limits: {cpu: 500m, memory: 1Gi}\n"
                "  restartPolicy: Never\n"
                "  terminationGracePeriodSeconds: 30\n",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":"
                "{\"app\":\"web\",\"tier\":\"1\"},\"annotations\":{\"a\":\"b\",\"c\":\"d\"}},"
                "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"ports\":"
                "[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"DEBUG\","
                "\"value\":\"true\"}],\"command\":[\"sh\",\"-c\",\"echo hi\"],\"resources\":"
                "{\"limits\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}],\"restartPolicy\":\"Never\","
                "\"terminationGracePeriodSeconds\":30}}",
                "pod manifest");
    expect_yaml("a: 1\n---\nb: 2\n", "{\"a\":1}", "first of several documents");
    expect_yaml("---\na: 1\n...\n---\n[\n", "{\"a\":1}", "later documents are not parsed");
    expect_yaml("{\"a\": [1, 2.5, \"x\", null, true], \"b\": {}}",
                "{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}", "JSON input");
    expect_yaml("{\"big\": 18446744073709551615}", "{\"big\":1.8446744073709552e19}",
                "JSON beyond int64");
    expect_yaml("[]", "[]", "empty flow sequence");
    expect_yaml("a: []\nb: {}\nc:\n", "{\"a\":[],\"b\":{},\"c\":null}", "empty containers");
    expect_yaml("- - - x\n", "[[[\"x\"]]]", "nested sequences");
}

static void test_anchors(void **state)
{
    expect_yaml(
        "base: &b {a: 1, b: [x, w]}\nderived: *b\n",
        "{\"base\":{\"a\":1,\"b\":[\"x\",\"w\"]},\"derived\":{\"a\":1,\"b\":[\"x\",\"w\"]}}",
        "alias of a map");
    expect_yaml("- &s hello\n- *s\n- *s\n", "[\"hello\",\"hello\",\"hello\"]", "alias of a scalar");
    expect_yaml("defaults: &d\n  a: 1\n  b: 2\nthing:\n  <<: *d\n  b: 3\n",
                "{\"defaults\":{\"a\":1,\"b\":2},\"thing\":{\"b\":3,\"a\":1}}", "merge key");
    /* (a key "y" would read as true: YAML 1.1) */
    expect_yaml("x: &x {a: 1}\nw: &w {a: 2, b: 2}\nz:\n  <<: [*x, *w]\n  c: 3\n",
                "{\"x\":{\"a\":1},\"w\":{\"a\":2,\"b\":2},\"z\":{\"c\":3,\"a\":1,\"b\":2}}",
                "merge of several maps, first wins");
    expect_yaml("a: &a 1\na2: &a 2\nb: *a\n", "{\"a\":1,\"a2\":2,\"b\":2}", "redefined anchor");
    expect_yaml("\"<<\": 1\n", "{\"<<\":1}", "quoted << is a plain key");
    expect_error("a: *nope\n", "unknown anchor", "unknown anchor");
    expect_error("a: &a [*a]\n", "unknown anchor", "self reference");
    expect_error("a: &a 1\nb:\n  <<: *a\n", "map merge", "merge of a scalar");
    /* aliased values are copies: changing one leaves the other */
    const char *ab = "a: &x {k: 1}\nb: *x\n";
    json_t *v = yamljson_parse(ab, strlen(ab), NULL, 0);
    assert_non_null(v);
    json_object_set_new(json_object_get(v, "b"), "k", json_integer(2));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "a"), "k")), 1);
    json_decref(v);
}

static void test_limits(void **state)
{
    const char *laughs =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    expect_error(laughs, "excessive aliasing", "billion laughs");

    /* nesting: 100 levels parse, 101 do not */
    char deep[512];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    json_t *v = yamljson_parse(deep, 200, NULL, 0);
    assert_non_null(v);
    json_decref(v);
    memset(deep, '[', 101);
    memset(deep + 101, ']', 101);
    deep[202] = '\0';
    expect_error(deep, "max depth", "101 levels (JSON)");
    char ydeep[4096] = "";
    for (int i = 0; i < 101; i++)
        strcat(ydeep, "- ");
    strcat(ydeep, "x\n");
    expect_error(ydeep, "max depth", "101 levels (YAML)");
    /* an anchored value of depth 99 under two more levels */
    char adeep[512] = "a: &a ";
    for (int i = 0; i < 99; i++)
        strcat(adeep, "[");
    strcat(adeep, "x");
    for (int i = 0; i < 99; i++)
        strcat(adeep, "]");
    strcat(adeep, "\nb: [[*a]]\n");
    expect_error(adeep, "max depth", "alias pushes past the depth limit");
    adeep[strlen(adeep) - 7] = '\0';
    strcat(adeep, "*a\n");
    v = yamljson_parse(adeep, strlen(adeep), NULL, 0);
    assert_non_null(v);
    json_decref(v);
}

static void test_errors(void **state)
{
    expect_error("a: b: c\n", "line 1", "mapping values on line 1");
    expect_error("a: 1\nb: 2\nc: d: e\n", "line 3", "mapping values on line 3");
    expect_error("a: 1\nb: 2\nc: d: e\n", "mapping values are not allowed in this context",
                 "mapping values message");
    expect_error("a:\n  - 1\n - 2\n", "line 3", "bad indentation");
    expect_error("a: [1, 2\n", "line", "unterminated flow sequence");
    expect_error("a: \"unterminated\n", "line", "unterminated quote");
    expect_error("a: 1\n\tb: 2\n", "line 2", "tab indentation");
    expect_error("a: 1\n]\n", "line 2", "garbage after the document");
    expect_error("a: \x01\n", "line 1", "control character");
    expect_error("a: \xff\xfe\n", "line 1", "invalid UTF-8");
    /* the column is there too */
    char err[256] = "";
    assert_null(yamljson_parse("key: value: x\n", 14, err, sizeof err));
    assert_non_null(strstr(err, "column"));
    assert_non_null(strstr(err, "yaml: "));
    /* NULL errbuf and NULL buffer are fine */
    assert_null(yamljson_parse("a: b: c", 7, NULL, 0));
    json_t *v = yamljson_parse(NULL, 0, NULL, 0);
    assert_true(json_is_null(v));
    json_decref(v);
}

/* ---------------------------------------------------------------- dump */

static void test_round_trip(void **state)
{
    static const char *docs[] = {
        ("{\"s\":\"plain\",\"t\":\"true\",\"y\":\"yes\",\"n\":\"null\",\"tilde\":\"~\",\"e\":\"\","
         "\"i\":\"123\",\"f\":\"1.5\",\"hex\":\"0x10\",\"exp\":\"1e3\",\"oct\":\"017\","
         "\"u\":\"1_000\",\"merge\":\"<<\",\"dot\":\".5\",\"inf\":\".inf\",\"dash\":\"-\","
         "\"colon\":\"a: b\",\"hash\":\"#c\",\"lead\":\" lead\",\"trail\":\"trail \","
         "\"multi\":\"line1\\nline2\\n\",\"multi2\":\"a\\n  b\",\"crlf\":\"x\\r\\ny\","
         "\"unicode\":\"h\\u00e9llo \\u2603\",\"tab\":\"a\\tb\",\"quote\":\"it's \\\"q\\\"\","
         "\"brackets\":\"[x]\",\"brace\":\"{y}\",\"amp\":\"&a\",\"star\":\"*a\",\"bang\":\"!t\","
         "\"pct\":\"%p\",\"at\":\"@x\",\"back\":\"`x\",\"q\":\"?\",\"long\":\""
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}"),
        ("{\"int\":42,\"neg\":-7,\"big\":9223372036854775807,\"min\":-9223372036854775808,"
         "\"real\":1.5,\"whole\":2.0,\"tiny\":1e-300,\"huge\":1.5e300,\"negz\":-0.0,\"third\":"
         "0.3333333333333333,\"t\":true,\"f\":false,\"z\":null}"),
        ("{\"list\":[1,\"two\",[3,[4]],{\"five\":5},[],{}],\"empty\":{},\"none\":[],"
         "\"nested\":{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}}"),
        "{\"yes\":1,\"true\":2,\"1\":3,\"\":4,\"~\":5,\"<<\":6,\"a b\":7,\"k: v\":8,\"-\":9}",
        "[1,2,3]",
        "\"just a string\"",
        "\"true\"",
        "12",
        "null",
        "[]",
        "{}",
    };
    for (size_t i = 0; i < N(docs); i++) {
        json_t *v = J(docs[i]);
        char *y = yamljson_dump(v);
        if (!y) fail_msg("dump failed for %s", docs[i]);
        char err[256] = "";
        json_t *back = yamljson_parse(y, strlen(y), err, sizeof err);
        if (!back) fail_msg("re-parse failed (%s) for:\n%s", err, y);
        char *a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY);
        if (strcmp(a, b) != 0)
            fail_msg("round trip differs:\n  in   %s\n  yaml %s\n  out  %s", a, y, b);
        free(a);
        free(b);
        free(y);
        json_decref(v);
        json_decref(back);
    }
}

static void test_dump_style(void **state)
{
    json_t *v = J("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\",\"labels\":{\"on\":\"true\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80}]}]},"
                  "\"e\":{},\"l\":[]}");
    char *y = yamljson_dump(v);
    assert_non_null(y);
    assert_string_equal(y, "kind: Pod\n"
                           "metadata:\n"
                           "  name: x\n"
                           "  labels:\n"
                           "    \"on\": \"true\"\n"
                           "spec:\n"
                           "  containers:\n"
                           "  - name: a\n"
                           "    ports:\n"
                           "    - containerPort: 80\n"
                           "e: {}\n"
                           "l: []\n");
    free(y);
    json_decref(v);
    assert_null(yamljson_dump(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),    cmocka_unit_test(test_scalar_errors),
        cmocka_unit_test(test_keys),       cmocka_unit_test(test_nested_documents),
        cmocka_unit_test(test_anchors),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_dump_style),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
