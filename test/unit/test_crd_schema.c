/* test_crd_schema: cmocka tests for the CRD schema engine (crd_schema.h; crd_schema_*.c and
 * crd_validate.c): per-keyword validation tables (reason, field and message wording), pruning,
 * defaulting and CRD object checks, with Pool- and BatchSandbox-like CRDs from the project's
 * API contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiserver/crd_schema.h"

void crd_schema_regex_cache_clear(void);

/* JSON with single quotes standing for double quotes (no literal ' in these fixtures). */
static json_t *J(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    for (char *p = d; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t e;
    json_t *j = json_loads(d, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j) fail_msg("bad fixture JSON: %s (%s)", d, e.text);
    free(d);
    return j;
}

typedef struct {
    const char *reason, *field, *message;
} exp_t;

static void dump_causes(json_t *causes)
{
    char *s = json_dumps(causes, JSON_INDENT(1));
    print_message("causes: %s\n", s);
    free(s);
}

static void check_causes(json_t *causes, const exp_t *exp, size_t n)
{
    if (json_array_size(causes) != n) {
        dump_causes(causes);
        fail_msg("expected %zu causes, got %zu", n, json_array_size(causes));
    }
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(causes, i);
        const char *r = json_string_value(json_object_get(c, "reason"));
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        if (!r || !f || !m || strcmp(r, exp[i].reason) || strcmp(f, exp[i].field) ||
            strcmp(m, exp[i].message)) {
            dump_causes(causes);
            fail_msg("cause %zu: want {%s, %s, %s}", i, exp[i].reason, exp[i].field,
                     exp[i].message);
        }
    }
}

#define MAXE 4
typedef struct {
    const char *schema; /* schema of spec.x */
    const char *value;  /* JSON value of spec.x */
    exp_t e[MAXE];
} vcase;

static size_t nexp(const vcase *c)
{
    size_t n = 0;
    while (n < MAXE && c->e[n].reason)
        n++;
    return n;
}

/* Validates {"spec":{"x":<value>}} against a root schema wrapping the case schema. */
static void run_vcases(const vcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[4096];
        snprintf(buf, sizeof(buf),
                 "{'type':'object','properties':{'spec':{'type':'object','properties':{'x':%s}}}}",
                 cases[i].schema);
        json_t *schema = J(buf);
        snprintf(buf, sizeof(buf), "{'spec':{'x':%s}}", cases[i].value);
        json_t *obj = J(buf);
        json_t *causes = json_array();
        crd_schema_validate(schema, obj, causes);
        print_message("case %zu: %s / %s\n", i, cases[i].schema, cases[i].value);
        check_causes(causes, cases[i].e, nexp(&cases[i]));
        json_decref(schema);
        json_decref(obj);
        json_decref(causes);
    }
}

#define RUN(tab) run_vcases(tab, sizeof(tab) / sizeof(tab[0]))
#define TI       "FieldValueTypeInvalid"
#define INV      "FieldValueInvalid"
#define REQ      "FieldValueRequired"
#define NS       "FieldValueNotSupported"
#define DUP      "FieldValueDuplicate"
#define LONG     "FieldValueTooLong"
#define MANY     "FieldValueTooMany"
#define FORB     "FieldValueForbidden"

/* ------------------------------------------------------------------ keyword tables */

static void test_type(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'integer'}", "3", {{0}}},
        {"{'type':'integer'}", "0", {{0}}},
        {"{'type':'integer'}", "2.0", {{0}}}, /* float64 with no fraction is an integer */
        {"{'type':'integer'}",
         "'string'",
         {{TI, "spec.x",
           "Invalid value: \"string\": spec.x in body must be of type integer: \"string\""}}},
        {"{'type':'integer'}",
         "1.5",
         {{TI, "spec.x",
           "Invalid value: \"number\": spec.x in body must be of type integer: \"number\""}}},
        {"{'type':'integer'}",
         "''",
         {{TI, "spec.x",
           "Invalid value: \"string\": spec.x in body must be of type integer: \"string\""}}},
        {"{'type':'integer'}",
         "null",
         {{TI, "spec.x",
           "Invalid value: \"null\": spec.x in body must be of type integer: \"null\""}}},
        {"{'type':'integer','nullable':true}", "null", {{0}}},
        {"{'type':'number'}", "3", {{0}}},
        {"{'type':'number'}", "3.25", {{0}}},
        {"{'type':'number'}",
         "true",
         {{TI, "spec.x",
           "Invalid value: \"boolean\": spec.x in body must be of type number: \"boolean\""}}},
        {"{'type':'string'}", "''", {{0}}},
        {"{'type':'string'}",
         "5",
         {{TI, "spec.x",
           "Invalid value: \"integer\": spec.x in body must be of type string: \"integer\""}}},
        {"{'type':'boolean'}", "false", {{0}}},
        {"{'type':'boolean'}",
         "'true'",
         {{TI, "spec.x",
           "Invalid value: \"string\": spec.x in body must be of type boolean: \"string\""}}},
        {"{'type':'object'}", "{}", {{0}}},
        {"{'type':'object'}",
         "[]",
         {{TI, "spec.x",
           "Invalid value: \"array\": spec.x in body must be of type object: \"array\""}}},
        {"{'type':'array','items':{'type':'string'}}", "['a']", {{0}}},
        {"{'type':'array','items':{'type':'string'}}",
         "{}",
         {{TI, "spec.x",
           "Invalid value: \"object\": spec.x in body must be of type array: \"object\""}}},
        {"{'type':'array','items':{'type':'integer'}}",
         "[1,'b']",
         {{TI, "spec.x[1]",
           "Invalid value: \"string\": spec.x[1] in body must be of type integer: \"string\""}}},
        {"{'x-kubernetes-int-or-string':true}", "5", {{0}}},
        {"{'x-kubernetes-int-or-string':true}", "'25%'", {{0}}},
        {"{'x-kubernetes-int-or-string':true}",
         "1.5",
         {{TI, "spec.x",
           "Invalid value: \"number\": spec.x in body must be of type integer,string: "
           "\"number\""}}},
        {"{'x-kubernetes-int-or-string':true,'anyOf':[{'type':'integer'},{'type':'string'}]}",
         "true",
         {{TI, "spec.x",
           "Invalid value: \"boolean\": spec.x in body must be of type integer,string: "
           "\"boolean\""},
          {INV, "<nil>",
           "Invalid value: \"\": \"spec.x\" must validate at least one schema (anyOf)"},
          {TI, "spec.x",
           "Invalid value: \"boolean\": spec.x in body must be of type integer: \"boolean\""}}},
        {"{'x-kubernetes-preserve-unknown-fields':true}", "{'a':[1,2]}", {{0}}},
        /* a supported format on a non-string value reports the format as the type */
        {"{'type':'string','format':'date-time'}",
         "5",
         {{TI, "spec.x",
           "Invalid value: \"int64\": spec.x in body must be of type date-time: \"int64\""}}},
    };
    RUN(cases);
}

static void test_required(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'object','required':['a','b'],'properties':{'a':{'type':'string'},'b':{'type':'"
         "string'}}}",
         "{'a':'x','b':'y'}",
         {{0}}},
        {"{'type':'object','required':['a','b'],'properties':{'a':{'type':'string'},'b':{'type':'"
         "string'}}}",
         "{'b':'y'}",
         {{REQ, "spec.x.a", "Required value"}}},
        {"{'type':'object','required':['a','b']}",
         "{}",
         {{REQ, "spec.x.a", "Required value"}, {REQ, "spec.x.b", "Required value"}}},
        /* present-but-null satisfies required (nullable fields) */
        {"{'type':'object','required':['a'],'properties':{'a':{'type':'string','nullable':true}}}",
         "{'a':null}",
         {{0}}},
        /* no required check inside a value of the wrong type */
        {"{'type':'object','required':['a']}",
         "'s'",
         {{TI, "spec.x",
           "Invalid value: \"string\": spec.x in body must be of type object: \"string\""}}},
    };
    RUN(cases);
}

static void test_enum(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','enum':['fast','slow']}", "'fast'", {{0}}},
        {"{'type':'string','enum':['fast','slow']}",
         "'medium'",
         {{NS, "spec.x", "Unsupported value: \"medium\": supported values: \"fast\", \"slow\""}}},
        {"{'type':'integer','enum':[1,2]}", "2", {{0}}},
        {"{'type':'integer','enum':[1,2]}",
         "3",
         {{NS, "spec.x", "Unsupported value: 3: supported values: \"1\", \"2\""}}},
        {"{'type':'number','enum':[1.5]}", "1.5", {{0}}},
        {"{'type':'boolean','enum':[true]}",
         "false",
         {{NS, "spec.x", "Unsupported value: false: supported values: \"true\""}}},
        {"{'type':'string','enum':['a']}",
         "'tab\\there'",
         {{NS, "spec.x", "Unsupported value: \"tab\\there\": supported values: \"a\""}}},
        {"{'type':'object','enum':[{'a':1}]}",
         "{'a':2}",
         {{NS, "spec.x",
           "Unsupported value: map[string]interface {}{\"a\":2}: supported values: "
           "\"{\\\"a\\\":1}\""}}},
    };
    RUN(cases);
}

static void test_minimum_maximum(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'integer','minimum':0}", "0", {{0}}},
        {"{'type':'integer','minimum':0}",
         "-1",
         {{INV, "spec.x",
           "Invalid value: -1: spec.x in body should be greater than or equal to 0"}}},
        {"{'type':'integer','maximum':10}", "10", {{0}}},
        {"{'type':'integer','maximum':10}",
         "11",
         {{INV, "spec.x", "Invalid value: 11: spec.x in body should be less than or equal to 10"}}},
        {"{'type':'integer','minimum':0,'exclusiveMinimum':true}",
         "0",
         {{INV, "spec.x", "Invalid value: 0: spec.x in body should be greater than 0"}}},
        {"{'type':'integer','maximum':10,'exclusiveMaximum':true}",
         "10",
         {{INV, "spec.x", "Invalid value: 10: spec.x in body should be less than 10"}}},
        {"{'type':'number','minimum':0.5}",
         "0.25",
         {{INV, "spec.x",
           "Invalid value: 0.25: spec.x in body should be greater than or equal to 0.5"}}},
        {"{'type':'number','maximum':1000000}",
         "1500000.5",
         {{INV, "spec.x",
           "Invalid value: 1.5000005e+06: spec.x in body should be less than or equal to 1e+06"}}},
        /* an integer datum is compared and reported with int64(limit) */
        {"{'type':'integer','maximum':1000000}",
         "1000001",
         {{INV, "spec.x",
           "Invalid value: 1000001: spec.x in body should be less than or equal to 1000000"}}},
        {"{'type':'integer','minimum':0,'maximum':10}",
         "'a'",
         {{TI, "spec.x",
           "Invalid value: \"string\": spec.x in body must be of type integer: \"string\""}}},
    };
    RUN(cases);
}

static void test_multiple_of(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'integer','multipleOf':5}", "10", {{0}}},
        {"{'type':'integer','multipleOf':5}",
         "7",
         {{INV, "spec.x", "Invalid value: 7: spec.x in body should be a multiple of 5"}}},
        {"{'type':'number','multipleOf':0.5}", "1.5", {{0}}},
        {"{'type':'number','multipleOf':0.5}",
         "1.25",
         {{INV, "spec.x", "Invalid value: 1.25: spec.x in body should be a multiple of 0.5"}}},
    };
    RUN(cases);
}

static void test_length(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','maxLength':5}", "'abcde'", {{0}}},
        {"{'type':'string','maxLength':5}",
         "'abcdef'",
         {{LONG, "spec.x", "Too long: may not be more than 5 bytes"}}},
        {"{'type':'string','maxLength':1}",
         "'ab'",
         {{LONG, "spec.x", "Too long: may not be more than 1 byte"}}},
        /* length counts runes, not bytes */
        {"{'type':'string','maxLength':3}", "'\xc3\xa9\xc3\xa9\xc3\xa9'", {{0}}},
        {"{'type':'string','minLength':1}",
         "''",
         {{INV, "spec.x", "Invalid value: \"\": spec.x in body should be at least 1 chars long"}}},
        /* only the first failing string check is reported */
        {"{'type':'string','maxLength':2,'pattern':'^[0-9]+$'}",
         "'abc'",
         {{LONG, "spec.x", "Too long: may not be more than 2 bytes"}}},
    };
    RUN(cases);
}

static void test_pattern(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','pattern':'^[0-9]+$'}", "'123'", {{0}}},
        {"{'type':'string','pattern':'^[0-9]+$'}",
         "'abc'",
         {{INV, "spec.x", "Invalid value: \"abc\": spec.x in body should match '^[0-9]+$'"}}},
        {"{'type':'string','pattern':'^\\\\d+$'}", "'42'", {{0}}},
        {"{'type':'string','pattern':'^\\\\d+$'}",
         "'4a'",
         {{INV, "spec.x", "Invalid value: \"4a\": spec.x in body should match '^\\d+$'"}}},
        {"{'type':'string','pattern':'^\\\\w[\\\\w.-]*$'}", "'my-pod.x_1'", {{0}}},
        {"{'type':'string','pattern':'^\\\\w[\\\\w.-]*$'}",
         "'-x'",
         {{INV, "spec.x", "Invalid value: \"-x\": spec.x in body should match '^\\w[\\w.-]*$'"}}},
        {"{'type':'string','pattern':'^\\\\S+\\\\s\\\\S+$'}", "'a b'", {{0}}},
        {"{'type':'string','pattern':'^(?:ab)+?c{1,2}$'}", "'ababcc'", {{0}}},
        {"{'type':'string','pattern':'^[0-9]+(\\\\.[0-9]+)?(m|Mi|Gi)?$'}", "'1.5Gi'", {{0}}},
        {"{'type':'string','pattern':'^[0-9]+(\\\\.[0-9]+)?(m|Mi|Gi)?$'}",
         "'1.5G'",
         {{INV, "spec.x",
           "Invalid value: \"1.5G\": spec.x in body should match "
           "'^[0-9]+(\\.[0-9]+)?(m|Mi|Gi)?$'"}}},
        {"{'type':'string','pattern':'(?i)^abc$'}", "'ABC'", {{0}}},
        {"{'type':'string','pattern':'^[^\\\\]]*$'}", "'a[b'", {{0}}},
        {"{'type':'string','pattern':'^[^\\\\]]*$'}",
         "'a]'",
         {{INV, "spec.x", "Invalid value: \"a]\": spec.x in body should match '^[^\\]]*$'"}}},
        {"{'type':'string','pattern':'^a{2}$'}", "'aa'", {{0}}},
        {"{'type':'string','pattern':'^x{$'}", "'x{'", {{0}}}, /* '{' not a repetition: literal */
        {"{'type':'string','pattern':'^[a-z]$'}",
         "'a\\u0000'",
         {{INV, "spec.x", "Invalid value: \"a\\x00\": spec.x in body should match '^[a-z]$'"}}},
        /* patterns that cannot be evaluated (lookahead, \\p classes) never reject */
        {"{'type':'string','pattern':'^(?=a)b$'}", "'zzz'", {{0}}},
        {"{'type':'string','pattern':'^\\\\p{L}+$'}", "'123'", {{0}}},
    };
    RUN(cases);
}

static void test_regex_cache_many_patterns(void **state)
{
    (void)state;
    /* more distinct patterns than cache slots, evaluated twice: answers stay right */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            char schema[256], ok[64], bad[64];
            snprintf(
                schema, sizeof(schema),
                "{'type':'object','properties':{'s':{'type':'string','pattern':'^p%d-[a-z]+$'}}}",
                i);
            snprintf(ok, sizeof(ok), "{'s':'p%d-abc'}", i);
            snprintf(bad, sizeof(bad), "{'s':'p%d-ABC'}", i);
            json_t *s = J(schema), *o1 = J(ok), *o2 = J(bad), *c1 = json_array(),
                   *c2 = json_array();
            crd_schema_validate(s, o1, c1);
            crd_schema_validate(s, o2, c2);
            assert_int_equal(json_array_size(c1), 0);
            assert_int_equal(json_array_size(c2), 1);
            json_decref(s);
            json_decref(o1);
            json_decref(o2);
            json_decref(c1);
            json_decref(c2);
        }
    }
    crd_schema_regex_cache_clear();
}

static void test_items_count(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'array','maxItems':3,'items':{'type':'string'}}", "['a','b','c']", {{0}}},
        {"{'type':'array','maxItems':3,'items':{'type':'string'}}",
         "['a','b','c','d']",
         {{MANY, "spec.x", "Too many: 4: must have at most 3 items"}}},
        {"{'type':'array','maxItems':1,'items':{'type':'string'}}",
         "['a','b']",
         {{MANY, "spec.x", "Too many: 2: must have at most 1 item"}}},
        {"{'type':'array','minItems':2,'items':{'type':'string'}}",
         "['a']",
         {{INV, "spec.x", "Invalid value: 1: spec.x in body should have at least 2 items"}}},
        /* item errors come before the count errors */
        {"{'type':'array','minItems':2,'items':{'type':'string'}}",
         "[1]",
         {{TI, "spec.x[0]",
           "Invalid value: \"integer\": spec.x[0] in body must be of type string: \"integer\""},
          {INV, "spec.x", "Invalid value: 1: spec.x in body should have at least 2 items"}}},
        {"{'type':'object','maxProperties':1}",
         "{'a':1,'b':2}",
         {{MANY, "spec.x", "Too many: 2: must have at most 1 item"}}},
        {"{'type':'object','minProperties':2,'required':['z']}",
         "{'a':1}",
         {{INV, "spec.x", "Invalid value: 1: spec.x in body should have at least 2 properties"}}},
    };
    RUN(cases);
}

static void test_list_types(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'array','x-kubernetes-list-type':'set','items':{'type':'string'}}",
         "['a','b']",
         {{0}}},
        {"{'type':'array','x-kubernetes-list-type':'set','items':{'type':'string'}}",
         "['a','a']",
         {{DUP, "spec.x[1]", "Duplicate value: \"a\""}}},
        /* only the second occurrence of each repeated value is reported */
        {"{'type':'array','x-kubernetes-list-type':'set','items':{'type':'integer'}}",
         "[3,1,3,3,1]",
         {{DUP, "spec.x[2]", "Duplicate value: 3"}, {DUP, "spec.x[4]", "Duplicate value: 1"}}},
        {"{'type':'array','x-kubernetes-list-type':'atomic','items':{'type':'string'}}",
         "['a','a']",
         {{0}}},
        {"{'type':'array','x-kubernetes-list-type':'map','x-kubernetes-list-map-keys':['name'],"
         "'items':{'type':'object','properties':{'name':{'type':'string'},'v':{'type':'string'}}}}",
         "[{'name':'a','v':'1'},{'name':'b'},{'name':'a','v':'2'}]",
         {{DUP, "spec.x[2]", "Duplicate value: map[string]interface {}{\"name\":\"a\"}"}}},
        {"{'type':'array','x-kubernetes-list-type':'map','x-kubernetes-list-map-keys':['port','"
         "protocol'],"
         "'items':{'type':'object','properties':{'port':{'type':'integer'},'protocol':{'type':'"
         "string'}}}}",
         "[{'port':80,'protocol':'TCP'},{'port':80,'protocol':'UDP'},{'protocol':'TCP','port':80}]",
         {{DUP, "spec.x[2]",
           "Duplicate value: map[string]interface {}{\"port\":80, \"protocol\":\"TCP\"}"}}},
        {"{'type':'array','x-kubernetes-list-type':'map','x-kubernetes-list-map-keys':['name'],"
         "'items':{'type':'object','properties':{'name':{'type':'string'}}}}",
         "[{'name':'a'},'oops']",
         {{TI, "spec.x[1]",
           "Invalid value: \"string\": spec.x[1] in body must be of type object: \"string\""},
          {INV, "spec.x[1]",
           "Invalid value: \"oops\": must be an object for an array of list-type map"}}},
    };
    RUN(cases);
}

static void test_formats(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','format':'date-time'}", "'2024-02-29T10:00:00Z'", {{0}}},
        {"{'type':'string','format':'date-time'}", "'2024-02-29T10:00:00.123+02:00'", {{0}}},
        {"{'type':'string','format':'date-time'}",
         "'2023-02-29T10:00:00Z'",
         {{TI, "spec.x",
           "Invalid value: \"2023-02-29T10:00:00Z\": spec.x in body must be of type date-time: "
           "\"2023-02-29T10:00:00Z\""}}},
        {"{'type':'string','format':'date-time'}",
         "'tomorrow'",
         {{TI, "spec.x",
           "Invalid value: \"tomorrow\": spec.x in body must be of type date-time: \"tomorrow\""}}},
        {"{'type':'string','format':'date'}", "'2024-01-31'", {{0}}},
        {"{'type':'string','format':'uuid'}", "'0b9a3f4e-6a1f-4c55-9a39-2b2c7e3e8a10'", {{0}}},
        {"{'type':'string','format':'uuid'}",
         "'x'",
         {{TI, "spec.x", "Invalid value: \"x\": spec.x in body must be of type uuid: \"x\""}}},
        {"{'type':'string','format':'ipv4'}", "'10.244.1.5'", {{0}}},
        {"{'type':'string','format':'ipv4'}",
         "'10.244.1.256'",
         {{TI, "spec.x",
           "Invalid value: \"10.244.1.256\": spec.x in body must be of type ipv4: "
           "\"10.244.1.256\""}}},
        {"{'type':'string','format':'ipv6'}", "'fd00::1'", {{0}}},
        {"{'type':'string','format':'cidr'}", "'10.0.0.0/8'", {{0}}},
        {"{'type':'string','format':'byte'}", "'aGVsbG8='", {{0}}},
        {"{'type':'string','format':'duration'}", "'1h30m'", {{0}}},
        /* formats apiextensions strips (int32, int-or-string, ...) are ignored */
        {"{'type':'string','format':'int32'}", "'abc'", {{0}}},
        {"{'type':'integer','format':'int32'}", "5000000000", {{0}}},
    };
    RUN(cases);
}

static void test_additional_properties(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'object','additionalProperties':{'type':'integer','minimum':0}}",
         "{'a':1,'b':2}",
         {{0}}},
        {"{'type':'object','additionalProperties':{'type':'integer','minimum':0}}",
         "{'a':1,'b':-2}",
         {{INV, "spec.x.b",
           "Invalid value: -2: spec.x.b in body should be greater than or equal to 0"}}},
        {"{'type':'object','additionalProperties':{'type':'array','x-kubernetes-list-type':'set','"
         "items':{'type':'string'}}}",
         "{'k':['a','a']}",
         {{DUP, "spec.x[k][1]", "Duplicate value: \"a\""}}},
    };
    RUN(cases);
}

static void test_junctors(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','anyOf':[{'pattern':'^a'},{'pattern':'^b'}]}", "'bz'", {{0}}},
        {"{'type':'string','anyOf':[{'pattern':'^a'},{'pattern':'^b'}]}",
         "'cz'",
         {{INV, "<nil>",
           "Invalid value: \"\": \"spec.x\" must validate at least one schema (anyOf)"},
          {INV, "spec.x", "Invalid value: \"cz\": spec.x in body should match '^a'"}}},
        {"{'type':'integer','oneOf':[{'minimum':0},{'maximum':10}]}",
         "5",
         {{INV, "<nil>",
           "Invalid value: \"\": \"spec.x\" must validate one and only one schema (oneOf). Found 2 "
           "valid alternatives"}}},
        {"{'type':'integer','oneOf':[{'minimum':0},{'maximum':10}]}", "20", {{0}}},
        {"{'type':'integer','allOf':[{'minimum':0},{'maximum':10}]}",
         "20",
         {{INV, "spec.x", "Invalid value: 20: spec.x in body should be less than or equal to 10"},
          {INV, "<nil>", "Invalid value: \"\": \"spec.x\" must validate all the schemas (allOf)"}}},
        {"{'type':'string','not':{'enum':['x']}}",
         "'x'",
         {{INV, "<nil>", "Invalid value: \"\": \"spec.x\" must not validate the schema (not)"}}},
    };
    RUN(cases);
}

static void test_value_formatting(void **state)
{
    (void)state;
    static const vcase cases[] = {
        {"{'type':'string','minLength':9}",
         "'q\\\"\\\\\\n\xe2\x82\xac'",
         {{INV, "spec.x",
           "Invalid value: \"q\\\"\\\\\\n\xe2\x82\xac\": spec.x in body should be at least 9 chars "
           "long"}}},
        {"{'type':'string','minLength':3}",
         "'\\u00a0'",
         {{INV, "spec.x",
           "Invalid value: \"\\u00a0\": spec.x in body should be at least 3 chars long"}}},
        {"{'type':'number','maximum':0}",
         "0.0001",
         {{INV, "spec.x",
           "Invalid value: 0.0001: spec.x in body should be less than or equal to 0"}}},
        {"{'type':'number','maximum':0}",
         "0.00001",
         {{INV, "spec.x",
           "Invalid value: 1e-05: spec.x in body should be less than or equal to 0"}}},
        {"{'type':'number','maximum':0}",
         "123456.5",
         {{INV, "spec.x",
           "Invalid value: 123456.5: spec.x in body should be less than or equal to 0"}}},
    };
    RUN(cases);
}

static void test_root_metadata_skipped(void **state)
{
    (void)state;
    json_t *s = J("{'type':'object','properties':{'metadata':{'type':'object','properties':{'name':"
                  "{'type':'string','maxLength':3}}},"
                  "'spec':{'type':'object'}}}");
    json_t *o = J("{'apiVersion':'a/"
                  "v1','kind':'K','metadata':{'name':'toolong','labels':{'a':'b'}},'spec':{}}");
    json_t *c = json_array();
    crd_schema_validate(s, o, c);
    check_causes(c, NULL, 0);
    json_decref(s);
    json_decref(o);
    json_decref(c);
}

static void test_embedded_resource_validation(void **state)
{
    (void)state;
    json_t *s = J("{'type':'object','properties':{'spec':{'type':'object','properties':{"
                  "'tmpl':{'type':'object','x-kubernetes-embedded-resource':true,'x-kubernetes-"
                  "preserve-unknown-fields':true}}}}}");
    json_t *o = J("{'spec':{'tmpl':{'metadata':{'name':'x'}}}}");
    json_t *c = json_array();
    crd_schema_validate(s, o, c);
    const exp_t e[] = {{REQ, "spec.tmpl.apiVersion", "Required value"},
                       {REQ, "spec.tmpl.kind", "Required value"}};
    check_causes(c, e, 2);
    json_decref(o);
    json_decref(c);
    o = J("{'spec':{'tmpl':{'apiVersion':'a/b/c','kind':''}}}");
    c = json_array();
    crd_schema_validate(s, o, c);
    const exp_t e2[] = {{INV, "spec.tmpl.apiVersion",
                         "Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c"},
                        {INV, "spec.tmpl.kind", "Invalid value: \"\": must not be empty"}};
    check_causes(c, e2, 2);
    json_decref(s);
    json_decref(o);
    json_decref(c);
}

/* ------------------------------------------------------------------ pruning */

static void prune_case(const char *schema, const char *in, const char *want_obj,
                       const char *want_paths)
{
    json_t *s = J(schema), *o = J(in), *w = J(want_obj), *wp = J(want_paths), *p = json_array();
    crd_schema_prune(s, o, p);
    if (!json_equal(o, w) || !json_equal(p, wp)) {
        char *a = json_dumps(o, JSON_COMPACT), *b = json_dumps(p, JSON_COMPACT);
        fail_msg("prune: got %s paths %s; want %s paths %s", a, b, want_obj, want_paths);
    }
    json_decref(s);
    json_decref(o);
    json_decref(w);
    json_decref(wp);
    json_decref(p);
}

static void test_prune(void **state)
{
    (void)state;
    const char *S =
        "{'type':'object','properties':{'spec':{'type':'object','properties':{"
        "'a':{'type':'string'},"
        "'nested':{'type':'object','properties':{'b':{'type':'integer'}}},"
        "'items':{'type':'array','items':{'type':'object','properties':{'n':{'type':'string'}}}},"
        "'free':{'type':'object','x-kubernetes-preserve-unknown-fields':true,'properties':{'k':{'"
        "type':'object','properties':{'z':{'type':'string'}}}}},"
        "'labels':{'type':'object','additionalProperties':{'type':'string'}},"
        "'maps':{'type':'object','additionalProperties':{'type':'object','properties':{'q':{'type':"
        "'string'}}}},"
        "'emb':{'type':'object','x-kubernetes-embedded-resource':true,'properties':{'spec':{'type':"
        "'object'}}},"
        "'opaque':{'type':'object'}}},"
        "'status':{'type':'object','properties':{'ready':{'type':'integer'}}}}}";
    /* unknown fields at every level (embedded metadata cut to ObjectMeta, root metadata untouched);
     * paths sorted like PruneWithOptions */
    prune_case(
        S,
        "{'apiVersion':'g/v1','kind':'K','metadata':{'name':'n','bogusMeta':1},"
        "'spec':{'bogus':1,'a':'x','nested':{'b':1,'c':2},"
        "'items':[{'n':'1','x':1},{'y':2}],"
        "'free':{'anything':{'deep':[1]},'k':{'z':'1','drop':true}},"
        "'labels':{'x':'y'},'maps':{'m1':{'q':'a','r':'b'}},"
        "'emb':{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','extra':1},'spec':{},'junk':"
        "1},"
        "'opaque':{'gone':1}},"
        "'status':{'ready':1,'unknownField':true},'top':1}",
        "{'apiVersion':'g/v1','kind':'K','metadata':{'name':'n','bogusMeta':1},"
        "'spec':{'a':'x','nested':{'b':1},'items':[{'n':'1'},{}],"
        "'free':{'anything':{'deep':[1]},'k':{'z':'1'}},"
        "'labels':{'x':'y'},'maps':{'m1':{'q':'a'}},"
        "'emb':{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},'spec':{}},"
        "'opaque':{}},"
        "'status':{'ready':1}}",
        "['spec.bogus','spec.emb.junk','spec.emb.metadata.extra','spec.free.k.drop','spec.items[0]."
        "x','spec.items[1].y',"
        "'spec.maps.m1.r','spec.nested.c','spec.opaque.gone','status.unknownField','top']");
    /* non-nullable nulls are dropped silently; nullable nulls stay */
    prune_case("{'type':'object','properties':{'spec':{'type':'object','properties':{"
               "'a':{'type':'string'},'b':{'type':'string','nullable':true},'c':{'type':'string','"
               "default':'d'}}}}}",
               "{'spec':{'a':null,'b':null,'c':null}}", "{'spec':{'b':null}}", "[]");
    /* array items without an items schema lose all their fields */
    prune_case("{'type':'object','properties':{'l':{'type':'array'}}}", "{'l':[{'a':1},2]}",
               "{'l':[{},2]}", "['l[0].a']");
    /* root-level preserve-unknown-fields keeps everything */
    prune_case("{'type':'object','x-kubernetes-preserve-unknown-fields':true}", "{'x':{'y':1}}",
               "{'x':{'y':1}}", "[]");
    /* nil schema: everything except TypeMeta/ObjectMeta */
    json_t *o = J("{'apiVersion':'a/v1','kind':'K','metadata':{},'spec':{}}");
    crd_schema_prune(NULL, o, NULL);
    json_t *w = J("{'apiVersion':'a/v1','kind':'K','metadata':{}}");
    assert_true(json_equal(o, w));
    json_decref(o);
    json_decref(w);
}

/* ------------------------------------------------------------------ defaulting */

static void default_case(const char *schema, const char *in, const char *want)
{
    json_t *s = J(schema), *o = J(in), *w = J(want);
    crd_schema_prune(s, o, NULL);
    crd_schema_default(s, o);
    if (!json_equal(o, w)) {
        char *a = json_dumps(o, JSON_COMPACT);
        fail_msg("default: got %s want %s", a, want);
    }
    json_decref(s);
    json_decref(o);
    json_decref(w);
}

static void test_default(void **state)
{
    (void)state;
    const char *S =
        "{'type':'object','properties':{'spec':{'type':'object','properties':{"
        "'replicas':{'type':'integer','default':1},"
        "'strategy':{'type':'object','default':{},'properties':{'type':{'type':'string','default':'"
        "Delete'},"
        "'opts':{'type':'object','properties':{'n':{'type':'integer','default':3}}}}},"
        "'list':{'type':'array','items':{'type':'object','properties':{'p':{'type':'string','"
        "default':'x'}}}},"
        "'ints':{'type':'array','items':{'type':'integer','default':7}},"
        "'m':{'type':'object','additionalProperties':{'type':'object','properties':{'v':{'type':'"
        "integer','default':9}}}}}},"
        "'status':{'type':'object','properties':{'phase':{'type':'string','default':'Pending'}}}}}";
    /* only inside objects that exist: no status, no spec.strategy.opts */
    default_case(S, "{'spec':{}}", "{'spec':{'replicas':1,'strategy':{'type':'Delete'}}}");
    default_case(S, "{}", "{}");
    /* explicit values win; nested defaults inside existing objects; items and map values */
    default_case(S,
                 "{'spec':{'replicas':0,'strategy':{'opts':{}},'list':[{},{'p':'y'}],'m':{'a':{},'"
                 "b':{'v':1}}},'status':{}}",
                 "{'spec':{'replicas':0,'strategy':{'type':'Delete','opts':{'n':3}},'list':[{'p':'"
                 "x'},{'p':'y'}],"
                 "'m':{'a':{'v':9},'b':{'v':1}}},'status':{'phase':'Pending'}}");
    /* null on a non-nullable defaulted field: pruned then defaulted; null array items replaced */
    default_case(S, "{'spec':{'replicas':null,'ints':[1,null]}}",
                 "{'spec':{'replicas':1,'strategy':{'type':'Delete'},'ints':[1,7]}}");

    /* defaults are deep copies */
    json_t *s = J(S), *a = J("{'spec':{}}"), *b = J("{'spec':{}}");
    crd_schema_default(s, a);
    json_object_set_new(json_object_get(json_object_get(a, "spec"), "strategy"), "type",
                        json_string("Changed"));
    crd_schema_default(s, b);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(b, "spec"), "strategy"), "type")),
                        "Delete");
    json_decref(s);
    json_decref(a);
    json_decref(b);
}

/* ------------------------------------------------------------------ project CRDs */

static const char POOL_CRD[] =
    "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
    "'metadata':{'name':'pools.sandbox.opensandbox.io'},"
    "'spec':{'group':'sandbox.opensandbox.io','scope':'Namespaced',"
    "'names':{'kind':'Pool','listKind':'PoolList','plural':'pools','singular':'pool'},"
    "'versions':[{'name':'v1alpha1','served':true,'storage':true,'subresources':{'status':{}},"
    "'additionalPrinterColumns':["
    "{'name':'TOTAL','type':'integer','jsonPath':'.status.total'},"
    "{'name':'ALLOCATED','type':'integer','jsonPath':'.status.allocated'},"
    "{'name':'AVAILABLE','type':'integer','jsonPath':'.status.available'},"
    "{'name':'UPDATED','type':'integer','jsonPath':'.status.updated'},"
    "{'name':'AGE','type':'date','jsonPath':'.metadata.creationTimestamp'}],"
    "'schema':{'openAPIV3Schema':{'type':'object','description':'Pool keeps warm "
    "pods.','properties':{"
    "'apiVersion':{'type':'string'},'kind':{'type':'string'},'metadata':{'type':'object'},"
    "'spec':{'type':'object','required':['capacitySpec'],'properties':{"
    "'template':{'type':'object','x-kubernetes-preserve-unknown-fields':true},"
    "'capacitySpec':{'type':'object','required':['bufferMax','bufferMin','poolMax','poolMin'],'"
    "properties':{"
    "'bufferMax':{'type':'integer','format':'int32','minimum':0},"
    "'bufferMin':{'type':'integer','format':'int32','minimum':0},"
    "'poolMax':{'type':'integer','format':'int32','minimum':0},"
    "'poolMin':{'type':'integer','format':'int32','minimum':0}}},"
    "'scaleStrategy':{'type':'object','properties':{'maxUnavailable':{'anyOf':[{'type':'integer'},{"
    "'type':'string'}],'x-kubernetes-int-or-string':true}}},"
    "'updateStrategy':{'type':'object','properties':{'maxUnavailable':{'anyOf':[{'type':'integer'},"
    "{'type':'string'}],'x-kubernetes-int-or-string':true}}},"
    "'recycleStrategy':{'type':'object','properties':{'type':{'type':'string','enum':['Delete','"
    "Restart','Noop'],'default':'Delete'}}}}},"
    "'status':{'type':'object','properties':{"
    "'observedGeneration':{'type':'integer','format':'int64'},'revision':{'type':'string'},"
    "'total':{'type':'integer','format':'int32'},'allocated':{'type':'integer','format':'int32'},"
    "'available':{'type':'integer','format':'int32'},'updated':{'type':'integer','format':'int32'}}"
    "}}}}}]}}";

static const char BSBX_CRD[] =
    "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
    "'metadata':{'name':'batchsandboxes.sandbox.opensandbox.io'},"
    "'spec':{'group':'sandbox.opensandbox.io','scope':'Namespaced',"
    "'names':{'kind':'BatchSandbox','listKind':'BatchSandboxList','plural':'batchsandboxes','"
    "singular':'batchsandbox','shortNames':['bsbx']},"
    "'versions':[{'name':'v1alpha1','served':true,'storage':true,'subresources':{'status':{}},"
    "'additionalPrinterColumns':["
    "{'name':'DESIRED','type':'integer','jsonPath':'.spec.replicas'},"
    "{'name':'TASK_RUNNING','type':'integer','jsonPath':'.status.taskRunning','priority':1},"
    "{'name':'EXPIRE','type':'string','jsonPath':'.spec.expireTime'},"
    "{'name':'AGE','type':'date','jsonPath':'.metadata.creationTimestamp'}],"
    "'schema':{'openAPIV3Schema':{'type':'object','properties':{"
    "'apiVersion':{'type':'string'},'kind':{'type':'string'},'metadata':{'type':'object'},"
    "'spec':{'type':'object','required':['replicas'],'properties':{"
    "'replicas':{'type':'integer','format':'int32','minimum':0,'default':1},"
    "'poolRef':{'type':'string'},"
    "'template':{'type':'object','x-kubernetes-preserve-unknown-fields':true},"
    "'shardPatches':{'type':'array','items':{'type':'object','x-kubernetes-preserve-unknown-fields'"
    ":true}},"
    "'expireTime':{'type':'string','format':'date-time'},"
    "'taskTemplate':{'type':'object','properties':{'spec':{'type':'object','properties':{"
    "'process':{'type':'object','properties':{'command':{'type':'array','items':{'type':'string'}},"
    "'args':{'type':'array','items':{'type':'string'}},"
    "'env':{'type':'array','x-kubernetes-list-type':'map','x-kubernetes-list-map-keys':['name'],"
    "'items':{'type':'object','required':['name'],'properties':{'name':{'type':'string'},'value':{'"
    "type':'string'}}}},"
    "'workingDir':{'type':'string'}}},"
    "'timeoutSeconds':{'type':'integer','format':'int64'}}}}},"
    "'taskResourcePolicyWhenCompleted':{'type':'string','enum':['Retain','Release'],'default':'"
    "Retain'},"
    "'pause':{'type':'boolean'}}},"
    "'status':{'type':'object','properties':{"
    "'observedGeneration':{'type':'integer','format':'int64'},'replicas':{'type':'integer'},"
    "'allocated':{'type':'integer'},'ready':{'type':'integer'},'taskPending':{'type':'integer'},"
    "'taskRunning':{'type':'integer'},'taskSucceed':{'type':'integer'},'taskFailed':{'type':'"
    "integer'},"
    "'taskUnknown':{'type':'integer'},"
    "'phase':{'type':'string','enum':['Pending','Succeed','Failed','Pausing','Paused','Resuming']},"
    "'conditions':{'type':'array','x-kubernetes-list-type':'map','x-kubernetes-list-map-keys':['"
    "type'],"
    "'items':{'type':'object','required':['status','type'],'properties':{"
    "'type':{'type':'string'},'status':{'type':'string','enum':['True','False','Unknown']},"
    "'reason':{'type':'string'},'message':{'type':'string'},"
    "'lastTransitionTime':{'type':'string','format':'date-time'},"
    "'observedGeneration':{'type':'integer','format':'int64','minimum':0}}}}}}}}}}]}}";

static json_t *crd_schema_of(json_t *crd)
{
    return json_object_get(
        json_object_get(
            json_array_get(json_object_get(json_object_get(crd, "spec"), "versions"), 0), "schema"),
        "openAPIV3Schema");
}

/* prune -> default -> validate, as the REST layer runs it */
static json_t *pipeline(json_t *schema, json_t *obj, json_t *pruned)
{
    json_t *causes = json_array();
    crd_schema_prune(schema, obj, pruned);
    crd_schema_default(schema, obj);
    crd_schema_validate(schema, obj, causes);
    return causes;
}

static void test_pool_crd_and_resources(void **state)
{
    (void)state;
    json_t *crd = J(POOL_CRD), *causes = json_array();
    crd_default(crd);
    crd_validate(crd, causes);
    check_causes(causes, NULL, 0);
    json_decref(causes);
    json_t *schema = crd_schema_of(crd);

    /* a valid Pool: template keeps unknown fields, status unknown field pruned, default applied */
    json_t *pool = J("{'apiVersion':'sandbox.opensandbox.io/"
                     "v1alpha1','kind':'Pool','metadata':{'name':'p','namespace':'default'},"
                     "'spec':{'template':{'metadata':{'labels':{'a':'b'}},'spec':{'containers':[{'"
                     "name':'c','image':'busybox'}]}},"
                     "'capacitySpec':{'bufferMin':1,'bufferMax':3,'poolMin':0,'poolMax':10},"
                     "'scaleStrategy':{'maxUnavailable':'25%'},'updateStrategy':{'maxUnavailable':"
                     "1},'recycleStrategy':{}},"
                     "'status':{'total':3,'unknownField':1}}");
    json_t *pruned = json_array();
    causes = pipeline(schema, pool, pruned);
    check_causes(causes, NULL, 0);
    json_t *wp = J("['status.unknownField']");
    assert_true(json_equal(pruned, wp));
    json_t *spec = json_object_get(pool, "spec");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(spec, "recycleStrategy"), "type")),
        "Delete");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(spec, "template"), "spec"), "containers"));
    json_decref(wp);
    json_decref(pruned);
    json_decref(causes);
    json_decref(pool);

    /* invalid Pool: negative/missing capacity, bad enum, bad int-or-string, unknown spec field */
    pool =
        J("{'apiVersion':'sandbox.opensandbox.io/v1alpha1','kind':'Pool','metadata':{'name':'p'},"
          "'spec':{'bogus':1,'capacitySpec':{'bufferMin':-1,'bufferMax':'3','poolMax':10},"
          "'scaleStrategy':{'maxUnavailable':true},'recycleStrategy':{'type':'Explode'}}}");
    pruned = json_array();
    causes = pipeline(schema, pool, pruned);
    wp = J("['spec.bogus']");
    assert_true(json_equal(pruned, wp));
    /* properties are validated in schema order, then required */
    const exp_t e[] = {
        {TI, "spec.capacitySpec.bufferMax",
         "Invalid value: \"string\": spec.capacitySpec.bufferMax in body must be of type integer: "
         "\"string\""},
        {INV, "spec.capacitySpec.bufferMin",
         "Invalid value: -1: spec.capacitySpec.bufferMin in body should be greater than or equal "
         "to 0"},
        {REQ, "spec.capacitySpec.poolMin", "Required value"},
        {TI, "spec.scaleStrategy.maxUnavailable",
         "Invalid value: \"boolean\": spec.scaleStrategy.maxUnavailable in body must be of type "
         "integer,string: \"boolean\""},
    };
    size_t n = json_array_size(causes);
    assert_int_equal(n, 7);
    json_t *first = json_array();
    for (size_t i = 0; i < 4; i++)
        json_array_append(first, json_array_get(causes, i));
    check_causes(first, e, 4);
    json_decref(first);
    json_t *last = json_array_get(causes, 6);
    assert_string_equal(json_string_value(json_object_get(last, "field")),
                        "spec.recycleStrategy.type");
    assert_string_equal(
        json_string_value(json_object_get(last, "message")),
        "Unsupported value: \"Explode\": supported values: \"Delete\", \"Restart\", \"Noop\"");
    json_decref(wp);
    json_decref(pruned);
    json_decref(causes);
    json_decref(pool);

    /* missing capacitySpec */
    pool = J("{'spec':{}}");
    causes = pipeline(schema, pool, NULL);
    const exp_t e2[] = {{REQ, "spec.capacitySpec", "Required value"}};
    check_causes(causes, e2, 1);
    json_decref(causes);
    json_decref(pool);
    json_decref(crd);
}

static void test_batchsandbox_crd_and_resources(void **state)
{
    (void)state;
    json_t *crd = J(BSBX_CRD), *causes = json_array();
    crd_default(crd);
    crd_validate(crd, causes);
    check_causes(causes, NULL, 0);
    json_decref(causes);
    json_t *schema = crd_schema_of(crd);

    json_t *bs = J("{'apiVersion':'sandbox.opensandbox.io/"
                   "v1alpha1','kind':'BatchSandbox','metadata':{'name':'b'},"
                   "'spec':{'poolRef':'p','expireTime':'2030-01-01T00:00:00Z',"
                   "'taskTemplate':{'spec':{'process':{'command':['sh'],'env':[{'name':'A','value':"
                   "'1'},{'name':'B'}]},'timeoutSeconds':60}}},"
                   "'status':{'phase':'Pending','conditions':[{'type':'Ready','status':'True','"
                   "lastTransitionTime':'2024-01-01T00:00:00Z'}]}}");
    causes = pipeline(schema, bs, NULL);
    check_causes(causes, NULL, 0);
    json_t *spec = json_object_get(bs, "spec");
    assert_int_equal(json_integer_value(json_object_get(spec, "replicas")), 1);
    assert_string_equal(json_string_value(json_object_get(spec, "taskResourcePolicyWhenCompleted")),
                        "Retain");
    json_decref(causes);
    json_decref(bs);

    bs = J("{'spec':{'replicas':-2,'expireTime':'soon',"
           "'taskTemplate':{'spec':{'process':{'env':[{'name':'A'},{'name':'A'}]}}}},"
           "'status':{'conditions':[{'type':'Ready','status':'Maybe'},{'type':'Ready','status':'"
           "True'}]}}");
    causes = pipeline(schema, bs, NULL);
    const exp_t e[] = {
        {INV, "spec.replicas",
         "Invalid value: -2: spec.replicas in body should be greater than or equal to 0"},
        {TI, "spec.expireTime",
         "Invalid value: \"soon\": spec.expireTime in body must be of type date-time: \"soon\""},
        {NS, "status.conditions[0].status",
         "Unsupported value: \"Maybe\": supported values: \"True\", \"False\", \"Unknown\""},
        {DUP, "spec.taskTemplate.spec.process.env[1]",
         "Duplicate value: map[string]interface {}{\"name\":\"A\"}"},
    };
    /* list-type errors come after schema errors; the two list duplicates may come in any order */
    assert_int_equal(json_array_size(causes), 5);
    json_t *first = json_array();
    for (size_t i = 0; i < 3; i++)
        json_array_append(first, json_array_get(causes, i));
    check_causes(first, e, 3);
    json_decref(first);
    bool saw_env = false, saw_cond = false;
    for (size_t i = 3; i < 5; i++) {
        const char *f = json_string_value(json_object_get(json_array_get(causes, i), "field"));
        saw_env = saw_env || !strcmp(f, e[3].field);
        saw_cond = saw_cond || !strcmp(f, "status.conditions[1]");
    }
    assert_true(saw_env && saw_cond);
    json_decref(causes);
    json_decref(bs);
    json_decref(crd);
}

/* ------------------------------------------------------------------ CRD validation */

typedef struct {
    const char *name;
    const char *patch; /* JSON merge patch applied to a fresh Pool CRD; "" = none */
    void (*mutate)(json_t *crd);
    exp_t e[MAXE];
} crdcase;

static json_t *version0(json_t *crd)
{
    return json_array_get(json_object_get(json_object_get(crd, "spec"), "versions"), 0);
}

static void m_no_storage(json_t *crd)
{
    json_object_set_new(version0(crd), "storage", json_false());
}

static void m_two_storage(json_t *crd)
{
    json_t *v2 = json_deep_copy(version0(crd));
    json_object_set_new(v2, "name", json_string("v1beta1"));
    json_array_append_new(json_object_get(json_object_get(crd, "spec"), "versions"), v2);
}

static void m_dup_versions(json_t *crd)
{
    json_t *v2 = json_deep_copy(version0(crd));
    json_object_set_new(v2, "storage", json_false());
    json_array_append_new(json_object_get(json_object_get(crd, "spec"), "versions"), v2);
}

static void m_no_schema(json_t *crd)
{
    json_object_del(version0(crd), "schema");
}

static void m_root_string(json_t *crd)
{
    json_t *v = version0(crd);
    json_object_del(v, "subresources");
    json_object_set_new(v, "schema", J("{'openAPIV3Schema':{'type':'string'}}"));
}

static void m_root_string_status(json_t *crd)
{
    json_object_set_new(version0(crd), "schema", J("{'openAPIV3Schema':{'type':'string'}}"));
}

static void m_root_untyped(json_t *crd)
{
    json_t *v = version0(crd);
    json_object_del(v, "subresources");
    json_object_set_new(v, "schema",
                        J("{'openAPIV3Schema':{'properties':{'spec':{'type':'object'}}}}"));
}

static void m_prop_untyped(json_t *crd)
{
    json_object_set_new(version0(crd), "schema",
                        J("{'openAPIV3Schema':{'type':'object','properties':{'spec':{'properties':{"
                          "'a':{'type':'string'}}}}}}"));
}

static void m_bad_column(json_t *crd)
{
    json_t *col = json_array_get(json_object_get(version0(crd), "additionalPrinterColumns"), 0);
    json_object_set_new(col, "type", json_string("int"));
}

static void m_column_path(json_t *crd)
{
    json_t *col = json_array_get(json_object_get(version0(crd), "additionalPrinterColumns"), 1);
    json_object_set_new(col, "jsonPath", json_string("status.allocated"));
    json_object_set_new(col, "format", json_string("percent"));
    json_object_del(col, "name");
}

static void m_metadata_props(json_t *crd)
{
    json_object_set_new(version0(crd), "schema",
                        J("{'openAPIV3Schema':{'type':'object','properties':{'metadata':{'type':'"
                          "object','properties':{'labels':{'type':'object'}}}}}}"));
}

static void m_bad_default(json_t *crd)
{
    json_object_set_new(
        version0(crd), "schema",
        J("{'openAPIV3Schema':{'type':'object','properties':{'spec':{'type':'object','properties':{"
          "'replicas':{'type':'integer','default':'one'},"
          "'mode':{'type':'string','enum':['a','b'],'default':'c'},"
          "'obj':{'type':'object','properties':{'x':{'type':'string'}},'default':{'x':'1','y':2}}}}"
          "}}}"));
}

static void m_list_map_no_keys(json_t *crd)
{
    json_object_set_new(version0(crd), "schema",
                        J("{'openAPIV3Schema':{'type':'object','properties':{'l':{'type':'array','"
                          "x-kubernetes-list-type':'map',"
                          "'items':{'type':'object','properties':{'n':{'type':'string'}}}}}}}"));
}

static void m_bad_names(json_t *crd)
{
    json_t *names = json_object_get(json_object_get(crd, "spec"), "names");
    json_object_set_new(names, "plural", json_string("Pools"));
    json_object_set_new(names, "listKind", json_string("Pool"));
    json_object_set_new(json_object_get(crd, "metadata"), "name",
                        json_string("Pools.sandbox.opensandbox.io"));
}

static void m_invalid_pattern(json_t *crd)
{
    json_object_set_new(version0(crd), "schema",
                        J("{'openAPIV3Schema':{'type':'object','properties':{'s':{'type':'string','"
                          "pattern':'^(a'}}}}"));
}

static void m_array_no_items(json_t *crd)
{
    json_object_set_new(version0(crd), "schema",
                        J("{'openAPIV3Schema':{'type':'object','properties':{'l':{'type':'array','"
                          "uniqueItems':true}}}}"));
}

#define V0  "spec.versions[0]"
#define SCH V0 ".schema.openAPIV3Schema"
#define VERSIONS_POOL                                                                              \
    "[]apiextensions.CustomResourceDefinitionVersion{apiextensions."                               \
    "CustomResourceDefinitionVersion{Name:\"v1alpha1\", "                                          \
    "Served:true, Storage:false, Deprecated:false, DeprecationWarning:(*string)(nil), "            \
    "Schema:(*apiextensions.CustomResourceValidation)(0xc000010010), "                             \
    "Subresources:(*apiextensions.CustomResourceSubresources)(0xc000010020), "                     \
    "AdditionalPrinterColumns:"

static void test_crd_validate(void **state)
{
    (void)state;
    static const crdcase cases[] = {
        {"valid", "", NULL, {{0}}},
        {"name mismatch",
         "{'metadata':{'name':'pool.sandbox.opensandbox.io'}}",
         NULL,
         {{INV, "metadata.name",
           "Invalid value: \"pool.sandbox.opensandbox.io\": must be "
           "spec.names.plural+\".\"+spec.group"}}},
        {"group without dot",
         "{'metadata':{'name':'pools.sandbox'},'spec':{'group':'sandbox'}}",
         NULL,
         {{INV, "spec.group",
           "Invalid value: \"sandbox\": should be a domain with at least one dot"}}},
        {"group not a subdomain",
         "{'metadata':{'name':'pools.Sandbox.io'},'spec':{'group':'Sandbox.io'}}",
         NULL,
         {{INV, "spec.group",
           "Invalid value: \"Sandbox.io\": a lowercase RFC 1123 subdomain must consist of lower "
           "case alphanumeric characters, "
           "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
           "regex used for validation "
           "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}}},
        {"bad scope",
         "{'spec':{'scope':'Global'}}",
         NULL,
         {{NS, "spec.scope",
           "Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""}}},
        {"missing scope", "{'spec':{'scope':null}}", NULL, {{REQ, "spec.scope", "Required value"}}},
        {"no storage version",
         "",
         m_no_storage,
         {{INV, "spec.versions",
           "Invalid value: " VERSIONS_POOL
           "[]apiextensions.CustomResourceColumnDefinition{apiextensions."
           "CustomResourceColumnDefinition{Name:\"TOTAL\", "
           "Type:\"integer\", Format:\"\", Description:\"\", Priority:0, "
           "JSONPath:\".status.total\"}, "
           "apiextensions.CustomResourceColumnDefinition{Name:\"ALLOCATED\", Type:\"integer\", "
           "Format:\"\", Description:\"\", "
           "Priority:0, JSONPath:\".status.allocated\"}, "
           "apiextensions.CustomResourceColumnDefinition{Name:\"AVAILABLE\", "
           "Type:\"integer\", Format:\"\", Description:\"\", Priority:0, "
           "JSONPath:\".status.available\"}, "
           "apiextensions.CustomResourceColumnDefinition{Name:\"UPDATED\", Type:\"integer\", "
           "Format:\"\", Description:\"\", "
           "Priority:0, JSONPath:\".status.updated\"}, "
           "apiextensions.CustomResourceColumnDefinition{Name:\"AGE\", "
           "Type:\"date\", Format:\"\", Description:\"\", Priority:0, "
           "JSONPath:\".metadata.creationTimestamp\"}}, "
           "SelectableFields:[]apiextensions.SelectableField(nil)}}: must have exactly one version "
           "marked as storage version"}}},
        {"no versions",
         "{'spec':{'versions':[]}}",
         NULL,
         {{INV, "spec.versions",
           "Invalid value: []apiextensions.CustomResourceDefinitionVersion(nil): must have exactly "
           "one version marked as storage version"}}},
        {"missing schema", "", m_no_schema, {{REQ, SCH, "Required value: schemas are required"}}},
        {"root not object",
         "",
         m_root_string,
         {{INV, SCH ".type", "Invalid value: \"string\": must be object at the root"}}},
        {"root not object with status subresource",
         "",
         m_root_string_status,
         {{INV, V0 ".schema.openAPIV3Schema.type",
           "Invalid value: \"string\": only \"object\" is allowed as the type at the root of the "
           "schema if the status subresource is enabled"},
          {INV, SCH ".type", "Invalid value: \"string\": must be object at the root"}}},
        {"root without type",
         "",
         m_root_untyped,
         {{REQ, SCH ".type", "Required value: must not be empty at the root"}}},
        {"property without type",
         "",
         m_prop_untyped,
         {{REQ, SCH ".properties[spec].type",
           "Required value: must not be empty for specified object fields"}}},
        {"bad printer column type",
         "",
         m_bad_column,
         {{INV, V0 ".additionalPrinterColumns[0].type",
           "Invalid value: \"int\": must be one of boolean,date,integer,number,string"}}},
        {"bad printer column path, format and name",
         "",
         m_column_path,
         {{REQ, V0 ".additionalPrinterColumns[1].name", "Required value"},
          {INV, V0 ".additionalPrinterColumns[1].format",
           "Invalid value: \"percent\": must be one of "
           "byte,date,date-time,double,float,int32,int64,password"},
          {INV, V0 ".additionalPrinterColumns[1].JSONPath",
           "Invalid value: \"status.allocated\": must be a simple json path starting with ."}}},
        {"metadata restricted",
         "",
         m_metadata_props,
         {{FORB, SCH ".properties[metadata]",
           "Forbidden: must not specify anything other than name and generateName, but metadata is "
           "implicitly specified"}}},
        {"invalid defaults",
         "",
         m_bad_default,
         {{TI, SCH ".properties[spec].properties[replicas].default",
           "Invalid value: \"string\":  in body must be of type integer: \"string\""},
          {NS, SCH ".properties[spec].properties[mode].default",
           "Unsupported value: \"c\": supported values: \"a\", \"b\""},
          {INV, SCH ".properties[spec].properties[obj].default",
           "Invalid value: map[string]interface {}{\"x\":\"1\", \"y\":2}: must not have unknown "
           "fields"}}},
        {"list-type map without keys",
         "",
         m_list_map_no_keys,
         {{REQ, SCH ".properties[l].x-kubernetes-list-map-keys",
           "Required value: must not be empty if x-kubernetes-list-type is map"}}},
        {"bad names",
         "",
         m_bad_names,
         {{INV, "spec.names.plural",
           "Invalid value: \"Pools\": a DNS-1035 label must consist of lower case alphanumeric "
           "characters or '-', start with "
           "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
           "'abc-123', regex used for "
           "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"},
          {INV, "spec.names.listKind",
           "Invalid value: \"Pool\": kind and listKind may not be the same"}}},
        {"invalid pattern",
         "",
         m_invalid_pattern,
         {{INV, SCH ".properties[s].pattern",
           "Invalid value: \"^(a\": must be a valid regular expression, but isn't: error parsing "
           "regexp: missing closing ): `^(a`"}}},
        {"array without items, uniqueItems",
         "",
         m_array_no_items,
         {{FORB, SCH ".properties[l].uniqueItems",
           "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes "
           "quadratic"},
          {REQ, SCH ".properties[l].items", "Required value: must be specified"}}},
        {"preserveUnknownFields true (the Pool schema has defaults)",
         "{'spec':{'preserveUnknownFields':true}}",
         NULL,
         {{INV, "spec.preserveUnknownFields",
           "Invalid value: true: must be false in order to use defaults in the schema"},
          {INV, "spec.preserveUnknownFields",
           "Invalid value: true: cannot set to true, set x-preserve-unknown-fields to true in "
           "spec.versions[*].schema instead"}}},
        {"conversion strategy",
         "{'spec':{'conversion':{'strategy':'Magic'}}}",
         NULL,
         {{NS, "spec.conversion.strategy",
           "Unsupported value: \"Magic\": supported values: \"None\", \"Webhook\""}}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("crd case: %s\n", cases[i].name);
        json_t *crd = J(POOL_CRD);
        if (*cases[i].patch) {
            json_t *p = J(cases[i].patch);
            /* shallow two-level merge is enough for these fixtures */
            const char *k;
            json_t *v;
            json_object_foreach(p, k, v)
            {
                json_t *dst = json_object_get(crd, k);
                if (json_is_object(v) && json_is_object(dst)) {
                    const char *k2;
                    json_t *v2;
                    json_object_foreach(v, k2, v2)
                    {
                        if (json_is_null(v2))
                            json_object_del(dst, k2);
                        else
                            json_object_set(dst, k2, v2);
                    }
                } else {
                    json_object_set(crd, k, v);
                }
            }
            json_decref(p);
        }
        if (cases[i].mutate) cases[i].mutate(crd);
        json_t *causes = json_array();
        crd_default(crd);
        crd_validate(crd, causes);
        size_t n = 0;
        while (n < MAXE && cases[i].e[n].reason)
            n++;
        check_causes(causes, cases[i].e, n);
        json_decref(causes);
        json_decref(crd);
    }
}

static void test_crd_versions_storage_and_unique(void **state)
{
    (void)state;
    json_t *crd = J(POOL_CRD), *causes = json_array();
    m_two_storage(crd);
    crd_validate(crd, causes);
    assert_int_equal(json_array_size(causes), 1);
    const char *msg = json_string_value(json_object_get(json_array_get(causes, 0), "message"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "field")),
                        "spec.versions");
    assert_true(strstr(msg, "Name:\"v1beta1\"") != NULL);
    assert_true(strstr(msg, ": must have exactly one version marked as storage version") != NULL);
    json_decref(causes);
    json_decref(crd);

    crd = J(POOL_CRD);
    causes = json_array();
    m_dup_versions(crd);
    crd_validate(crd, causes);
    assert_int_equal(json_array_size(causes), 1);
    msg = json_string_value(json_object_get(json_array_get(causes, 0), "message"));
    assert_true(strstr(msg, ": must contain unique version names") != NULL);
    json_decref(causes);
    json_decref(crd);
}

static void test_crd_default(void **state)
{
    (void)state;
    json_t *crd = J("{'metadata':{'name':'widgets.example.com'},'spec':{'group':'example.com','"
                    "scope':'Cluster',"
                    "'names':{'kind':'Widget','plural':'widgets'},"
                    "'versions':[{'name':'v1','served':true,'storage':true,'schema':{'"
                    "openAPIV3Schema':{'type':'object'}}}]}}");
    crd_default(crd);
    json_t *spec = json_object_get(crd, "spec");
    json_t *names = json_object_get(spec, "names");
    assert_string_equal(json_string_value(json_object_get(names, "singular")), "widget");
    assert_string_equal(json_string_value(json_object_get(names, "listKind")), "WidgetList");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(spec, "conversion"), "strategy")),
        "None");
    json_t *causes = json_array();
    crd_validate(crd, causes);
    check_causes(causes, NULL, 0);
    json_decref(causes);
    /* existing values are kept; webhook service port defaults to 443 */
    json_object_set_new(names, "singular", json_string("wdgt"));
    json_object_set_new(spec, "conversion",
                        J("{'strategy':'Webhook','webhook':{'clientConfig':{'service':{'name':'s','"
                          "namespace':'n'}},"
                          "'conversionReviewVersions':['v1']}}"));
    crd_default(crd);
    assert_string_equal(json_string_value(json_object_get(names, "singular")), "wdgt");
    json_t *svc = json_object_get(
        json_object_get(json_object_get(json_object_get(spec, "conversion"), "webhook"),
                        "clientConfig"),
        "service");
    assert_int_equal(json_integer_value(json_object_get(svc, "port")), 443);
    json_decref(crd);
}

static void test_degenerate_inputs(void **state)
{
    (void)state;
    /* nothing crashes on non-objects and wrong types */
    json_t *causes = json_array();
    json_t *junk[] = {json_null(),      json_integer(1),
                      json_string("x"), J("[1,2]"),
                      J("{'spec':5}"),  J("{'spec':{'versions':[5,{'schema':7}],'names':[]}}")};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        crd_default(junk[i]);
        crd_validate(junk[i], causes);
        json_t *copy = json_deep_copy(junk[i]);
        crd_schema_prune(junk[i], copy, causes);
        crd_schema_default(junk[i], copy);
        crd_schema_validate(junk[i], copy, causes);
        json_decref(copy);
        json_decref(junk[i]);
    }
    crd_validate(NULL, causes);
    crd_schema_validate(NULL, NULL, causes);
    json_decref(causes);
}

static int teardown_all(void **state)
{
    (void)state;
    crd_schema_regex_cache_clear();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_minimum_maximum),
        cmocka_unit_test(test_multiple_of),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_regex_cache_many_patterns),
        cmocka_unit_test(test_items_count),
        cmocka_unit_test(test_list_types),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_additional_properties),
        cmocka_unit_test(test_junctors),
        cmocka_unit_test(test_value_formatting),
        cmocka_unit_test(test_root_metadata_skipped),
        cmocka_unit_test(test_embedded_resource_validation),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_pool_crd_and_resources),
        cmocka_unit_test(test_batchsandbox_crd_and_resources),
        cmocka_unit_test(test_crd_validate),
        cmocka_unit_test(test_crd_versions_storage_and_unique),
        cmocka_unit_test(test_crd_default),
        cmocka_unit_test(test_degenerate_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
