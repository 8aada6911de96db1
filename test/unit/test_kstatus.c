/* Unit tests for Status bodies (kstatus) and the fault-injection settings (faults): the
 * messages, reasons and details kubectl prints, and the admin endpoint's validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apiserver/faults.h"
#include "apiserver/kstatus.h"

static restype_t widgets = {.group = "example.com", .plural = "widgets", .kind = "Widget"};
static restype_t pods = {.group = "", .plural = "pods", .kind = "Pod"};

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_not_found_details(void **state)
{
    (void)state;
    kerr_t e = {0};
    kerr_not_found(&e, &widgets, "w1");
    json_t *s = kstatus_from_err(&e);
    assert_string_equal(str(s, "kind"), "Status");
    assert_string_equal(str(s, "status"), "Failure");
    assert_string_equal(str(s, "reason"), "NotFound");
    assert_string_equal(str(s, "message"), "widgets.example.com \"w1\" not found");
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 404);
    json_t *d = json_object_get(s, "details");
    assert_string_equal(str(d, "name"), "w1");
    assert_string_equal(str(d, "group"), "example.com");
    assert_string_equal(str(d, "kind"), "widgets");
    json_decref(s);
    /* the core group has no group in details; a missing type has empty details */
    kerr_not_found(&e, &pods, "p");
    s = kstatus_from_err(&e);
    assert_null(json_object_get(json_object_get(s, "details"), "group"));
    assert_string_equal(str(s, "message"), "pods \"p\" not found");
    json_decref(s);
    kerr_type_not_found(&e);
    s = kstatus_from_err(&e);
    assert_int_equal(json_object_size(json_object_get(s, "details")), 0);
    json_decref(s);
    kerr_clear(&e);
}

static void test_invalid_messages(void **state)
{
    (void)state;
    struct {
        const char *causes;
        const char *message;
    } cases[] = {
        {"[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\",\"field\":"
         "\"spec.replicas\"}]",
         "Widget.example.com \"w\" is invalid: spec.replicas: Required value"},
        {"[{\"reason\":\"FieldValueNotSupported\",\"message\":\"Unsupported value: \\\"m\\\"\","
         "\"field\":\"spec.mode\"},{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid "
         "value: -1\",\"field\":\"spec.replicas\"}]",
         "Widget.example.com \"w\" is invalid: [spec.mode: Unsupported value: \"m\", "
         "spec.replicas: Invalid value: -1]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kerr_t e = {0};
        kerr_invalid(&e, &widgets, "w", json_loads(cases[i].causes, 0, NULL));
        json_t *s = kstatus_from_err(&e);
        assert_int_equal(json_integer_value(json_object_get(s, "code")), 422);
        assert_string_equal(str(s, "reason"), "Invalid");
        assert_string_equal(str(s, "message"), cases[i].message);
        json_t *d = json_object_get(s, "details");
        assert_string_equal(str(d, "kind"), "Widget");
        assert_true(json_array_size(json_object_get(d, "causes")) >= 1);
        json_decref(s);
        kerr_clear(&e);
    }
}

static void test_conflict_and_success(void **state)
{
    (void)state;
    kerr_t e = {0};
    kerr_conflict(&e, &widgets, "w1", NULL);
    assert_int_equal(e.code, 409);
    assert_string_equal(e.reason, "Conflict");
    assert_non_null(strstr(e.message, "Operation cannot be fulfilled on widgets.example.com "
                                      "\"w1\": the object has been modified"));
    kerr_clear(&e);
    json_t *s = kstatus_success(&widgets, "w1", "u-1");
    assert_string_equal(str(s, "status"), "Success");
    assert_string_equal(str(json_object_get(s, "details"), "uid"), "u-1");
    json_decref(s);
}

static void test_faults_from_json(void **state)
{
    (void)state;
    struct {
        const char *in;
        int rc;
        const char *names; /* a word the error must contain */
    } cases[] = {
        {"{\"writeErrorRate\":0.5,\"watchCutAfter\":3}", 0, NULL},
        {"{\"expireAfter\":10,\"watchDelayMs\":20,\"emptyPages\":true}", 0, NULL},
        {"{\"writeErrorRate\":2}", -22, "writeErrorRate"},
        {"{\"watchCutAfter\":\"x\"}", -22, "watchCutAfter"},
        {"{\"bogus\":1}", -22, "bogus"},
        {"[1]", -22, "object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        faults_t f = {.watch_cut_after = 7};
        char err[512] = "";
        json_t *in = json_loads(cases[i].in, JSON_DECODE_ANY, NULL);
        assert_int_equal(faults_from_json(&f, in, err, sizeof err), cases[i].rc);
        if (cases[i].names) {
            assert_non_null(strstr(err, cases[i].names));
            assert_int_equal(f.watch_cut_after, 7); /* a rejected update changes nothing */
        }
        json_decref(in);
    }
}

static void test_faults_draw(void **state)
{
    (void)state;
    faults_t off = {0};
    for (int i = 0; i < 100; i++)
        assert_int_equal(faults_draw_write_error(&off), 0);
    faults_t on = {.write_error_rate = 1, .seed = 42};
    int seen429 = 0;
    for (int i = 0; i < 200; i++) {
        int c = faults_draw_write_error(&on);
        assert_true(c == 429 || c == 500 || c == 503 || c == 504 || c == -1);
        if (c == 429) seen429++;
    }
    assert_true(seen429 > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_found_details),    cmocka_unit_test(test_invalid_messages),
        cmocka_unit_test(test_conflict_and_success), cmocka_unit_test(test_faults_from_json),
        cmocka_unit_test(test_faults_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
