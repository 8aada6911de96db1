/* test_kube_status: the API server's Status bodies (shapes from apimachinery's errors.go, as the
 * real server sends them) decoded into kube_status_t, the predicates callers branch on, and
 * answers that are not a Status at all (HTML from a proxy, plain text, empty bodies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client.h"

enum {
    P_NOTFOUND = 1 << 0,
    P_TYPE_NOTFOUND = 1 << 1,
    P_CONFLICT = 1 << 2,
    P_FMC = 1 << 3,
    P_EXISTS = 1 << 4,
    P_EXPIRED = 1 << 5,
    P_INVALID = 1 << 6,
    P_RETRY = 1 << 7,
};

static unsigned predicates(const kube_status_t *s)
{
    return (kube_status_is_not_found(s) ? P_NOTFOUND : 0) |
           (kube_status_is_type_not_found(s) ? P_TYPE_NOTFOUND : 0) |
           (kube_status_is_conflict(s) ? P_CONFLICT : 0) |
           (kube_status_is_field_manager_conflict(s) ? P_FMC : 0) |
           (kube_status_is_already_exists(s) ? P_EXISTS : 0) |
           (kube_status_is_expired(s) ? P_EXPIRED : 0) |
           (kube_status_is_invalid(s) ? P_INVALID : 0) |
           (kube_status_is_retryable(s) ? P_RETRY : 0);
}

#define ST(code, reason, msg, details)                                                             \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":" msg ",\"reason\":\"" reason "\",\"details\":" details ",\"code\":" #code "}"

static const struct {
    const char *label;
    int http;
    const char *body;
    int code;
    const char *reason;
    const char *message;
    const char *dname, *dgroup, *dkind;
    int ncauses;
    const char *cause0_reason, *cause0_field;
    double retry_after;
    unsigned preds;
} CASES[] = {
    {"object NotFound", 404,
     ST(404, "NotFound", "\"widgets.example.com \\\"w1\\\" not found\"",
        "{\"name\":\"w1\",\"group\":\"example.com\",\"kind\":\"widgets\"}"),
     404, "NotFound", "widgets.example.com \"w1\" not found", "w1", "example.com", "widgets", 0,
     NULL, NULL, 0, P_NOTFOUND},
    {"core object NotFound", 404,
     ST(404, "NotFound", "\"pods \\\"p1\\\" not found\"", "{\"name\":\"p1\",\"kind\":\"pods\"}"),
     404, "NotFound", "pods \"p1\" not found", "p1", "", "pods", 0, NULL, NULL, 0, P_NOTFOUND},
    {"type NotFound", 404,
     ST(404, "NotFound", "\"the server could not find the requested resource\"", "{}"), 404,
     "NotFound", "the server could not find the requested resource", "", "", "", 0, NULL, NULL, 0,
     P_TYPE_NOTFOUND},
    {"missing namespace", 404,
     ST(404, "NotFound", "\"namespaces \\\"X\\\" not found\"",
        "{\"name\":\"X\",\"kind\":\"namespaces\"}"),
     404, "NotFound", "namespaces \"X\" not found", "X", "", "namespaces", 0, NULL, NULL, 0,
     P_NOTFOUND},
    {"AlreadyExists", 409,
     ST(409, "AlreadyExists", "\"pods \\\"p1\\\" already exists\"",
        "{\"name\":\"p1\",\"kind\":\"pods\"}"),
     409, "AlreadyExists", "pods \"p1\" already exists", "p1", "", "pods", 0, NULL, NULL, 0,
     P_EXISTS},
    {"Conflict", 409,
     ST(409, "Conflict",
        "\"Operation cannot be fulfilled on widgets.example.com \\\"w1\\\": the object has been "
        "modified; please apply your changes to the latest version and try again\"",
        "{\"name\":\"w1\",\"group\":\"example.com\",\"kind\":\"widgets\"}"),
     409, "Conflict",
     "Operation cannot be fulfilled on widgets.example.com \"w1\": the object has been modified; "
     "please apply your changes to the latest version and try again",
     "w1", "example.com", "widgets", 0, NULL, NULL, 0, P_CONFLICT},
    {"FieldManagerConflict", 409,
     ST(409, "Conflict",
        "\"Apply failed with 1 conflict: conflict with \\\"mgr\\\" using v1: .spec.replicas\"",
        "{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with "
        "\\\"mgr\\\" using v1\",\"field\":\".spec.replicas\"}]}"),
     409, "Conflict",
     "Apply failed with 1 conflict: conflict with \"mgr\" using v1: .spec.replicas", "", "", "", 1,
     "FieldManagerConflict", ".spec.replicas", 0, P_FMC},
    {"Invalid with causes", 422,
     ST(422, "Invalid",
        "\"Widget.example.com \\\"bad\\\" is invalid: [spec.mode: Unsupported value: "
        "\\\"medium\\\"]\"",
        "{\"name\":\"bad\",\"group\":\"example.com\",\"kind\":\"Widget\",\"causes\":["
        "{\"reason\":\"FieldValueNotSupported\",\"message\":\"Unsupported value\",\"field\":"
        "\"spec.mode\"},{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: -1\","
        "\"field\":\"spec.replicas\"}]}"),
     422, "Invalid",
     "Widget.example.com \"bad\" is invalid: [spec.mode: Unsupported value: \"medium\"]", "bad",
     "example.com", "Widget", 2, "FieldValueNotSupported", "spec.mode", 0, P_INVALID},
    {"expired continue", 410,
     ST(410, "Expired",
        "\"The provided continue parameter is too old to display a consistent list result.\"",
        "{}"),
     410, "Expired",
     "The provided continue parameter is too old to display a consistent list result.", "", "", "",
     0, NULL, NULL, 0, P_EXPIRED},
    {"watch ERROR Status in a 200", 200,
     ST(410, "Expired", "\"too old resource version: 5 (10)\"", "{}"), 410, "Expired",
     "too old resource version: 5 (10)", "", "", "", 0, NULL, NULL, 0, P_EXPIRED},
    {"Gone", 410, ST(410, "Gone", "\"gone\"", "{}"), 410, "Gone", "gone", "", "", "", 0, NULL, NULL,
     0, P_EXPIRED},
    {"TooManyRequests", 429,
     ST(429, "TooManyRequests", "\"Too many requests, please try again later.\"",
        "{\"retryAfterSeconds\":3}"),
     429, "TooManyRequests", "Too many requests, please try again later.", "", "", "", 0, NULL,
     NULL, 3, P_RETRY},
    {"Unauthorized", 401, ST(401, "Unauthorized", "\"Unauthorized\"", "{}"), 401, "Unauthorized",
     "Unauthorized", "", "", "", 0, NULL, NULL, 0, 0},
    {"Forbidden terminating", 403,
     ST(403, "Forbidden",
        "\"pods \\\"p\\\" is forbidden: unable to create new content in namespace x because it "
        "is being terminated\"",
        "{\"name\":\"p\",\"kind\":\"pods\",\"causes\":[{\"reason\":\"NamespaceTerminating\","
        "\"message\":\"namespace x is being terminated\",\"field\":\"metadata.namespace\"}]}"),
     403, "Forbidden",
     "pods \"p\" is forbidden: unable to create new content in namespace x because it is being "
     "terminated",
     "p", "", "pods", 1, "NamespaceTerminating", "metadata.namespace", 0, 0},
    {"InternalError with empty reason", 500,
     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
     "\"message\":\"resourceVersion should not be set on objects to be created\",\"code\":500}",
     500, "InternalError", "resourceVersion should not be set on objects to be created", "", "", "",
     0, NULL, NULL, 0, P_RETRY},
    {"MethodNotAllowed", 405,
     ST(405, "MethodNotAllowed",
        "\"create not allowed while custom resource definition is terminating\"", "{}"),
     405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating",
     "", "", "", 0, NULL, NULL, 0, 0},
    /* not a Status */
    {"HTML from a proxy", 502, "<html><body>Bad Gateway</body></html>\r\n", 502, "InternalError",
     "<html><body>Bad Gateway</body></html>  ", "", "", "", 0, NULL, NULL, 0, P_RETRY},
    {"plain text 404", 404, "404 page not found\n", 404, "NotFound", "404 page not found ", "", "",
     "", 0, NULL, NULL, 0, P_TYPE_NOTFOUND},
    {"empty 404", 404, "", 404, "NotFound", "the server could not find the requested resource", "",
     "", "", 0, NULL, NULL, 0, P_TYPE_NOTFOUND},
    {"empty 409", 409, "", 409, "Conflict", "the server reported a conflict", "", "", "", 0, NULL,
     NULL, 0, P_CONFLICT},
    {"empty 503", 503, "", 503, "ServiceUnavailable",
     "an error on the server has prevented the request from succeeding", "", "", "", 0, NULL, NULL,
     0, P_RETRY},
    {"empty 504", 504, "", 504, "Timeout",
     "an error on the server has prevented the request from succeeding", "", "", "", 0, NULL, NULL,
     0, P_RETRY},
    {"empty 501 is not retryable", 501, "", 501, "InternalError",
     "an error on the server has prevented the request from succeeding", "", "", "", 0, NULL, NULL,
     0, 0},
    {"JSON that is not a Status", 422, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}", 422,
     "Invalid", "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}", "", "", "", 0, NULL, NULL, 0,
     P_INVALID},
    {"JSON array", 400, "[1,2]", 400, "BadRequest", "[1,2]", "", "", "", 0, NULL, NULL, 0, 0},
    {"truncated JSON", 409, "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\"", 409, "Conflict",
     "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\"", "", "", "", 0, NULL, NULL, 0, P_CONFLICT},
    {"transport error", 0, NULL, 0, "", "the server returned an unexpected answer", "", "", "", 0,
     NULL, NULL, 0, P_RETRY},
    {"wrong types in a Status", 404,
     "{\"kind\":\"Status\",\"reason\":7,\"message\":[],\"details\":{\"name\":5,\"causes\":"
     "{\"a\":1}},\"code\":\"x\"}",
     404, "NotFound", "the server could not find the requested resource", "", "", "", 0, NULL, NULL,
     0, P_TYPE_NOTFOUND},
};

static void test_decode_table(void **state)
{
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        kube_status_t s;
        memset(&s, 0x5a, sizeof s);
        kube_status_decode(CASES[i].http, CASES[i].body, CASES[i].body ? strlen(CASES[i].body) : 0,
                           &s);
        print_message("case: %s\n", CASES[i].label);
        assert_int_equal(s.code, CASES[i].code);
        assert_string_equal(s.reason, CASES[i].reason);
        assert_string_equal(s.message, CASES[i].message);
        assert_string_equal(s.details_name, CASES[i].dname);
        assert_string_equal(s.details_group, CASES[i].dgroup);
        assert_string_equal(s.details_kind, CASES[i].dkind);
        assert_int_equal(s.ncauses, CASES[i].ncauses);
        if (CASES[i].ncauses) {
            assert_string_equal(s.causes[0].reason, CASES[i].cause0_reason);
            assert_string_equal(s.causes[0].field, CASES[i].cause0_field);
        }
        assert_true(s.retry_after_s == CASES[i].retry_after);
        assert_string_equal(s.audit_id, "");
        assert_int_equal(predicates(&s), CASES[i].preds);
    }
}

/* Long bodies are cut to 200 bytes; long Status fields are truncated, never overflowed; more
 * causes than KUBE_MAX_CAUSES keep the first ones. */
static void test_limits(void **state)
{
    char body[4096];
    memset(body, 'x', sizeof body);
    kube_status_t s;
    kube_status_decode(500, body, sizeof body, &s);
    assert_int_equal(strlen(s.message), 200);

    char longname[1000];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    json_t *causes = json_array();
    for (int i = 0; i < 20; i++) {
        char r[32];
        snprintf(r, sizeof r, "R%d", i);
        json_array_append_new(causes, json_pack("{s:s,s:s}", "reason", r, "field", longname));
    }
    json_t *st =
        json_pack("{s:s,s:s,s:s,s:{s:s,s:o},s:i}", "kind", "Status", "reason", "Invalid", "message",
                  longname, "details", "name", longname, "causes", causes, "code", 422);
    char *text = json_dumps(st, 0);
    kube_status_decode(422, text, strlen(text), &s);
    assert_int_equal(strlen(s.message), sizeof s.message - 1);
    assert_int_equal(strlen(s.details_name), sizeof s.details_name - 1);
    assert_int_equal(s.ncauses, KUBE_MAX_CAUSES);
    assert_string_equal(s.causes[0].reason, "R0");
    assert_string_equal(s.causes[KUBE_MAX_CAUSES - 1].reason, "R7");
    assert_int_equal(strlen(s.causes[0].field), sizeof s.causes[0].field - 1);
    assert_true(kube_status_is_invalid(&s));
    free(text);
    json_decref(st);

    /* a body with a NUL and control characters stays one printable line */
    static const char bin[] = "a\0b\nc\x01";
    kube_status_decode(400, bin, sizeof bin - 1, &s);
    assert_string_equal(s.message, "a b c ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
