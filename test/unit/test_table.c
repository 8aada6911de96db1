/* test_table: meta.k8s.io/v1 Tables: CR printer columns (types, priority, missing paths, default
 * Age), pod status/ready/restarts rows, other built-in printers, include modes, column
 * definitions on/off, HumanDuration ages, client-go JSONPath semantics, 10,000-row speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/table.h"

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

static char *ts_ago(long long secs)
{
    static char bufs[8][32];
    static int k;
    char *b = bufs[k++ % 8];
    time_t t = NOW - secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

static json_t *J(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_error_t err;
    json_t *j = json_loads(buf, 0, &err);
    if (!j) fail_msg("bad test JSON: %s: %s", err.text, buf);
    return j;
}

static restype_t cr_type(restype_version_t *ver, json_t *columns)
{
    memset(ver, 0, sizeof *ver);
    ver->name = "v1";
    ver->served = ver->storage = true;
    ver->printer_columns = columns;
    restype_t rt = {0};
    rt.group = "example.com";
    rt.plural = "widgets";
    rt.singular = "widget";
    rt.kind = "Widget";
    rt.list_kind = "WidgetList";
    rt.namespaced = true;
    rt.builtin = false;
    rt.versions = ver;
    rt.n_versions = 1;
    rt.established = true;
    return rt;
}

static restype_t builtin_type(restype_version_t *ver, const char *group, const char *plural,
                              const char *kind)
{
    memset(ver, 0, sizeof *ver);
    ver->name = "v1";
    ver->served = ver->storage = true;
    restype_t rt = {0};
    rt.group = (char *)group;
    rt.plural = (char *)plural;
    rt.kind = (char *)kind;
    rt.builtin = true;
    rt.versions = ver;
    rt.n_versions = 1;
    rt.established = true;
    return rt;
}

/* Compares a JSON value against expected JSON text (jansson equality). */
static void assert_json(json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    if (!w) fail_msg("bad expected JSON: %s", want);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        print_error("got:  %s\nwant: %s\n", g ? g : "(null)", want);
        free(g);
        json_decref(w);
        fail();
    }
    json_decref(w);
}

static json_t *row_cells(json_t *table, size_t i)
{
    return json_object_get(json_array_get(json_object_get(table, "rows"), i), "cells");
}

static json_t *coldef(json_t *table, size_t i)
{
    return json_array_get(json_object_get(table, "columnDefinitions"), i);
}

#define D_NAME_PREFIX "Name must be unique within a namespace."

/* ---------------------------------------------------------------------------------------------
 */

static void test_human_age(void **state)
{
    static const struct {
        long long s;
        const char *want;
    } cases[] = {
        {-100, "<invalid>"},
        {-2, "<invalid>"},
        {-1, "0s"},
        {0, "0s"},
        {1, "1s"},
        {59, "59s"},
        {119, "119s"},
        {120, "2m"},
        {150, "2m30s"},
        {599, "9m59s"},
        {600, "10m"},
        {659, "10m"},
        {3 * 3600 - 1, "179m"},
        {3 * 3600, "3h"},
        {3 * 3600 + 30 * 60 + 59, "3h30m"},
        {7 * 3600 + 59 * 60, "7h59m"},
        {8 * 3600, "8h"},
        {47 * 3600 + 3599, "47h"},
        {48 * 3600, "2d"},
        {50 * 3600, "2d2h"},
        {7 * 86400 + 23 * 3600, "7d23h"},
        {8 * 86400, "8d"},
        {729 * 86400, "729d"},
        {730 * 86400, "2y"},
        {731 * 86400, "2y1d"},
        {(365 * 8 - 1) * 86400LL, "7y364d"},
        {365 * 8 * 86400LL, "8y"},
        {365 * 20 * 86400LL, "20y"},
        {400LL * 365 * 86400, "292y"}, /* time.Duration saturates at ~292 years */
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        table_human_age(cases[i].s, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%lld: got %s want %s", cases[i].s, buf, cases[i].want);
    }
}

static void test_cr_columns(void **state)
{
    json_t *cols =
        J("[{\"name\":\"Replicas\",\"type\":\"integer\",\"jsonPath\":\".spec.replicas\"},"
          "{\"name\":\"Mode\",\"type\":\"string\",\"jsonPath\":\".spec.mode\","
          "\"description\":\"The mode\"},"
          "{\"name\":\"Ready\",\"type\":\"boolean\",\"jsonPath\":\".status.ready\","
          "\"priority\":1},"
          "{\"name\":\"Updated\",\"type\":\"date\",\"jsonPath\":\".status.updated\"},"
          "{\"name\":\"Score\",\"type\":\"number\",\"jsonPath\":\".status.score\"},"
          "{\"name\":\"Count\",\"type\":\"string\",\"jsonPath\":\".status.count\"},"
          "{\"name\":\"Cond\",\"type\":\"string\",\"format\":\"x\",\"jsonPath\":"
          "\".status.conditions[?(@.type==\\\"Ready\\\")].status\"}]");
    restype_version_t ver;
    restype_t rt = cr_type(&ver, cols);
    json_t *objs[4];
    objs[0] = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":"
                "\"w1\",\"creationTimestamp\":\"%s\"},\"spec\":{\"replicas\":3,\"mode\":\"fast\"},"
                "\"status\":{\"ready\":true,\"updated\":\"%s\",\"score\":1.5,\"count\":7,"
                "\"conditions\":[{\"type\":\"Synced\",\"status\":\"False\"},{\"type\":\"Ready\","
                "\"status\":\"True\"}]}}",
                ts_ago(60), ts_ago(300));
    objs[1] = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":"
                "\"w2\"}}");
    /* wrong types: integer from a string, boolean from a string, date from a number */
    objs[2] = J("{\"metadata\":{\"name\":\"w3\"},\"spec\":{\"replicas\":\"x\",\"mode\":5},"
                "\"status\":{\"ready\":\"yes\",\"updated\":12,\"score\":2,\"count\":null,"
                "\"conditions\":[]}}");
    /* real → integer truncates; bad date → <invalid>; empty date → <unknown>; maps as JSON */
    objs[3] = J("{\"metadata\":{\"name\":\"w4\"},\"spec\":{\"replicas\":2.9,\"mode\":{\"b\":1,"
                "\"a\":\"<x>\"}},\"status\":{\"updated\":\"yesterday\",\"score\":0.25,"
                "\"count\":1234567.0}}");
    json_t *t = table_build(&rt, &ver, objs, 4, TABLE_INCLUDE_METADATA, true, NOW);

    assert_string_equal(json_string_value(json_object_get(t, "kind")), "Table");
    assert_string_equal(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1");
    assert_json(json_object_get(t, "metadata"), "{}");
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 8);
    json_t *d0 = coldef(t, 0);
    assert_string_equal(json_string_value(json_object_get(d0, "name")), "Name");
    assert_string_equal(json_string_value(json_object_get(d0, "type")), "string");
    assert_string_equal(json_string_value(json_object_get(d0, "format")), "name");
    assert_int_equal(json_integer_value(json_object_get(d0, "priority")), 0);
    assert_true(strncmp(json_string_value(json_object_get(d0, "description")), D_NAME_PREFIX,
                        strlen(D_NAME_PREFIX)) == 0);
    assert_json(coldef(t, 1), "{\"name\":\"Replicas\",\"type\":\"integer\",\"format\":\"\","
                              "\"description\":\"Custom resource definition column (in JSONPath "
                              "format): .spec.replicas\",\"priority\":0}");
    assert_json(coldef(t, 2), "{\"name\":\"Mode\",\"type\":\"string\",\"format\":\"\","
                              "\"description\":\"The mode\",\"priority\":0}");
    assert_int_equal(json_integer_value(json_object_get(coldef(t, 3), "priority")), 1);
    assert_string_equal(json_string_value(json_object_get(coldef(t, 4), "type")), "date");
    assert_string_equal(json_string_value(json_object_get(coldef(t, 7), "format")), "x");

    assert_json(row_cells(t, 0), "[\"w1\",3,\"fast\",true,\"5m\",1.5,\"7\",\"True\"]");
    assert_json(row_cells(t, 1), "[\"w2\",null,null,null,null,null,null,null]");
    assert_json(row_cells(t, 2), "[\"w3\",null,\"5\",null,null,2,\"<no value>\",null]");
    assert_json(row_cells(t, 3),
                "[\"w4\",2,\"{\\\"a\\\":\\\"\\\\u003cx\\\\u003e\\\",\\\"b\\\":1}\","
                "null,\"<invalid>\",0.25,\"1.234567e+06\",null]");

    json_t *obj = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    assert_json(obj,
                "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                "\"metadata\":{\"name\":\"w1\",\"creationTimestamp\":\"2023-11-14T22:12:20Z\"}}");
    json_decref(t);
    for (int i = 0; i < 4; i++)
        json_decref(objs[i]);
    json_decref(cols);
}

static void test_cr_default_age(void **state)
{
    restype_version_t ver;
    restype_t rt = cr_type(&ver, NULL);
    json_t *objs[3] = {
        J("{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"%s\"}}", ts_ago(3 * 3600 + 60)),
        J("{\"metadata\":{\"name\":\"b\"}}"),
        J("{\"metadata\":{\"name\":\"c\",\"creationTimestamp\":\"2023-11-14T23:13:20+01:00\"}}"),
    };
    json_t *t = table_build(&rt, &ver, objs, 3, TABLE_INCLUDE_METADATA, true, NOW);
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 2);
    json_t *age = coldef(t, 1);
    assert_string_equal(json_string_value(json_object_get(age, "name")), "Age");
    assert_string_equal(json_string_value(json_object_get(age, "type")), "date");
    assert_string_equal(json_string_value(json_object_get(age, "format")), "");
    assert_true(strncmp(json_string_value(json_object_get(age, "description")),
                        "CreationTimestamp is a timestamp", 32) == 0);
    assert_json(row_cells(t, 0), "[\"a\",\"3h1m\"]");
    assert_json(row_cells(t, 1), "[\"b\",null]"); /* the Age path finds nothing */
    assert_json(row_cells(t, 2), "[\"c\",\"0s\"]");
    json_decref(t);

    /* an empty printer column list also gets Age */
    json_t *empty = json_array();
    rt = cr_type(&ver, empty);
    t = table_build(&rt, &ver, objs, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 2);
    json_decref(t);
    json_decref(empty);
    for (int i = 0; i < 3; i++)
        json_decref(objs[i]);
}

static json_t *pod_table(json_t *pod)
{
    restype_version_t ver;
    restype_t rt = builtin_type(&ver, "", "pods", "Pod");
    return table_build(&rt, &ver, &pod, 1, TABLE_INCLUDE_METADATA, true, NOW);
}

static void check_pod(const char *pod_json, const char *want_cells)
{
    json_t *pod = json_loads(pod_json, 0, NULL);
    if (!pod) fail_msg("bad pod JSON: %s", pod_json);
    json_t *t = pod_table(pod);
    assert_json(row_cells(t, 0), want_cells);
    json_decref(t);
    json_decref(pod);
}

static void test_pods(void **state)
{
    char buf[4096];
    /* columns */
    json_t *pod = J("{\"metadata\":{\"name\":\"p\"}}");
    json_t *t = pod_table(pod);
    const char *names[] = {"Name", "Ready", "Status",         "Restarts",       "Age",
                           "IP",   "Node",  "Nominated Node", "Readiness Gates"};
    const int prio[] = {0, 0, 0, 0, 0, 1, 1, 1, 1};
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(json_string_value(json_object_get(coldef(t, i), "name")), names[i]);
        assert_string_equal(json_string_value(json_object_get(coldef(t, i), "type")), "string");
        assert_int_equal(json_integer_value(json_object_get(coldef(t, i), "priority")), prio[i]);
    }
    json_decref(t);
    json_decref(pod);

    /* Pending, no statuses yet */
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p0\",\"creationTimestamp\":\"%s\"},\"spec\":"
             "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},\"status\":{\"phase\":"
             "\"Pending\"}}",
             ts_ago(10));
    check_pod(buf, "[\"p0\",\"0/1\",\"Pending\",\"0\",\"10s\",\"<none>\",\"<none>\",\"<none>\","
                   "\"<none>\"]");

    /* Pending, container being created */
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p0\",\"creationTimestamp\":\"%s\"},\"spec\":"
             "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":"
             "\"Pending\",\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,"
             "\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
             ts_ago(10));
    check_pod(buf, "[\"p0\",\"0/1\",\"ContainerCreating\",\"0\",\"10s\",\"<none>\",\"n1\","
                   "\"<none>\",\"<none>\"]");

    /* Running 1/1 */
    const char *running = "{\"metadata\":{\"name\":\"p1\",\"creationTimestamp\":\"%s\"%s},"
                          "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"c\"}]},"
                          "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\","
                          "\"podIPs\":[{\"ip\":\"10.0.0.5\"}],\"conditions\":[{\"type\":\"Ready\","
                          "\"status\":\"True\"}],\"containerStatuses\":[{\"name\":\"c\","
                          "\"ready\":true,\"restartCount\":0,\"state\":{\"running\":"
                          "{\"startedAt\":\"%s\"}}}]}}";
    snprintf(buf, sizeof buf, running, ts_ago(150), "", ts_ago(140));
    check_pod(buf, "[\"p1\",\"1/1\",\"Running\",\"0\",\"2m30s\",\"10.0.0.5\",\"node-1\","
                   "\"<none>\",\"<none>\"]");

    /* Terminating: deletionTimestamp set on a running pod */
    char extra[128];
    snprintf(extra, sizeof extra, ",\"deletionTimestamp\":\"%s\"", ts_ago(1));
    snprintf(buf, sizeof buf, running, ts_ago(150), extra, ts_ago(140));
    check_pod(buf, "[\"p1\",\"1/1\",\"Terminating\",\"0\",\"2m30s\",\"10.0.0.5\",\"node-1\","
                   "\"<none>\",\"<none>\"]");

    /* CrashLoopBackOff with restarts "3 (5s ago)" */
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p2\",\"creationTimestamp\":\"%s\"},\"spec\":"
             "{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},\"status\":{\"phase\":"
             "\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
             "\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},"
             "\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\",\"finishedAt\":"
             "\"%s\"}}},{\"name\":\"b\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":"
             "{}}}]}}",
             ts_ago(3600), ts_ago(5));
    check_pod(buf, "[\"p2\",\"1/2\",\"CrashLoopBackOff\",\"3 (5s ago)\",\"60m\",\"<none>\","
                   "\"<none>\",\"<none>\",\"<none>\"]");

    /* ErrImagePull */
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p3\",\"creationTimestamp\":\"%s\"},\"spec\":"
             "{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
             "\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":0,"
             "\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\",\"message\":\"x\"}}}]}}",
             ts_ago(30));
    check_pod(buf, "[\"p3\",\"0/1\",\"ErrImagePull\",\"0\",\"30s\",\"<none>\",\"<none>\","
                   "\"<none>\",\"<none>\"]");

    /* Completed: Succeeded pods keep "Completed" even while deleting; row conditions */
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p4\",\"creationTimestamp\":\"%s\",\"deletionTimestamp\":"
             "\"%s\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":"
             "\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
             "\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
             "\"Completed\"}}}]}}",
             ts_ago(90000), ts_ago(3));
    pod = json_loads(buf, 0, NULL);
    t = pod_table(pod);
    assert_json(row_cells(t, 0), "[\"p4\",\"0/1\",\"Completed\",\"0\",\"25h\",\"<none>\","
                                 "\"<none>\",\"<none>\",\"<none>\"]");
    assert_json(json_object_get(json_array_get(json_object_get(t, "rows"), 0), "conditions"),
                "[{\"type\":\"Completed\",\"status\":\"True\",\"reason\":\"Succeeded\","
                "\"message\":\"The pod has completed successfully.\"}]");
    json_decref(t);
    json_decref(pod);

    /* terminated without a reason: ExitCode / Signal */
    check_pod("{\"metadata\":{\"name\":\"p5\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
              "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\","
              "\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
              "[\"p5\",\"0/1\",\"Signal:9\",\"0\",\"<unknown>\",\"<none>\",\"<none>\","
              "\"<none>\",\"<none>\"]");
    check_pod("{\"metadata\":{\"name\":\"p5\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
              "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\","
              "\"state\":{\"terminated\":{\"exitCode\":2}}}]}}",
              "[\"p5\",\"0/1\",\"ExitCode:2\",\"0\",\"<unknown>\",\"<none>\",\"<none>\","
              "\"<none>\",\"<none>\"]");

    /* init containers: Init:0/2, Init:CrashLoopBackOff, sidecar counted in total */
    check_pod("{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"},"
              "{\"name\":\"i2\"}],\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":"
              "\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\",\"state\":{\"running\":{}}},"
              "{\"name\":\"i2\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
              "[\"i\",\"0/1\",\"Init:0/2\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\","
              "\"<none>\"]");
    check_pod("{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],"
              "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
              "\"initContainerStatuses\":[{\"name\":\"i1\",\"restartCount\":2,\"state\":"
              "{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
              "[\"i\",\"0/1\",\"Init:CrashLoopBackOff\",\"2\",\"<unknown>\",\"<none>\",\"<none>\","
              "\"<none>\",\"<none>\"]");
    check_pod("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"initContainers\":[{\"name\":\"side\","
              "\"restartPolicy\":\"Always\"}],\"containers\":[{\"name\":\"a\"}]},\"status\":"
              "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":"
              "\"True\"}],\"initContainerStatuses\":[{\"name\":\"side\",\"started\":true,"
              "\"ready\":true,\"state\":{\"running\":{}}}],\"containerStatuses\":[{\"name\":\"a\","
              "\"ready\":true,\"state\":{\"running\":{}}}]}}",
              "[\"s\",\"2/2\",\"Running\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\","
              "\"<none>\"]");

    /* readiness gates and nominated node */
    check_pod("{\"metadata\":{\"name\":\"g\"},\"spec\":{\"containers\":[],\"readinessGates\":"
              "[{\"conditionType\":\"x/a\"},{\"conditionType\":\"x/b\"}]},\"status\":{\"phase\":"
              "\"Pending\",\"nominatedNodeName\":\"n9\",\"conditions\":[{\"type\":\"x/a\","
              "\"status\":\"True\"},{\"type\":\"x/b\",\"status\":\"False\"}]}}",
              "[\"g\",\"0/0\",\"Pending\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"n9\","
              "\"1/2\"]");

    /* NodeLost while deleting → Unknown; SchedulingGated */
    check_pod("{\"metadata\":{\"name\":\"u\",\"deletionTimestamp\":\"2023-01-01T00:00:00Z\"},"
              "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
              "\"reason\":\"NodeLost\"}}",
              "[\"u\",\"0/1\",\"Unknown\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\","
              "\"<none>\"]");
    check_pod("{\"metadata\":{\"name\":\"sg\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
              "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","
              "\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}",
              "[\"sg\",\"0/1\",\"SchedulingGated\",\"0\",\"<unknown>\",\"<none>\",\"<none>\","
              "\"<none>\",\"<none>\"]");
}

static void test_include_modes(void **state)
{
    restype_version_t ver;
    restype_t rt = builtin_type(&ver, "", "configmaps", "ConfigMap");
    json_t *cm = J("{\"metadata\":{\"name\":\"c\",\"namespace\":\"ns\",\"uid\":\"u1\","
                   "\"creationTimestamp\":\"%s\",\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\","
                   "\"k2\":\"v\"},\"binaryData\":{\"b\":\"AA==\"}}",
                   ts_ago(700));

    json_t *t = table_build(&rt, &ver, &cm, 1, TABLE_INCLUDE_METADATA, true, NOW);
    json_t *row = json_array_get(json_object_get(t, "rows"), 0);
    assert_json(json_object_get(row, "cells"), "[\"c\",3,\"11m\"]");
    json_t *o = json_object_get(row, "object");
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "PartialObjectMetadata");
    assert_string_equal(json_string_value(json_object_get(o, "apiVersion")), "meta.k8s.io/v1");
    assert_true(json_equal(json_object_get(o, "metadata"), json_object_get(cm, "metadata")));
    assert_null(json_object_get(o, "data"));
    json_decref(t);

    t = table_build(&rt, &ver, &cm, 1, TABLE_INCLUDE_OBJECT, true, NOW);
    o = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "ConfigMap");
    assert_string_equal(json_string_value(json_object_get(o, "apiVersion")), "v1");
    assert_true(json_equal(json_object_get(o, "data"), json_object_get(cm, "data")));
    assert_null(json_object_get(cm, "kind")); /* the input is not modified */
    json_decref(t);

    t = table_build(&rt, &ver, &cm, 1, TABLE_INCLUDE_NONE, true, NOW);
    row = json_array_get(json_object_get(t, "rows"), 0);
    assert_null(json_object_get(row, "object"));
    assert_non_null(json_object_get(row, "cells"));
    json_decref(t);

    /* an apps/v1 object gets group/version */
    restype_t rt2 = builtin_type(&ver, "apps", "deployments", "Deployment");
    t = table_build(&rt2, &ver, &cm, 1, TABLE_INCLUDE_OBJECT, true, NOW);
    o = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    assert_string_equal(json_string_value(json_object_get(o, "apiVersion")), "apps/v1");
    json_decref(t);
    json_decref(cm);
}

static void test_no_column_definitions(void **state)
{
    restype_version_t ver;
    restype_t rt = cr_type(&ver, NULL);
    json_t *w = J("{\"metadata\":{\"name\":\"w\",\"creationTimestamp\":\"%s\"}}", ts_ago(5));
    json_t *t = table_build(&rt, &ver, &w, 1, TABLE_INCLUDE_METADATA, false, NOW);
    assert_null(json_object_get(t, "columnDefinitions"));
    assert_json(row_cells(t, 0), "[\"w\",\"5s\"]");
    json_decref(t);

    /* no objects: rows is an empty array */
    t = table_build(&rt, &ver, NULL, 0, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(json_object_get(t, "rows"), "[]");
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 2);
    const char *key;
    json_t *v;
    const char *order[] = {"kind", "apiVersion", "metadata", "columnDefinitions", "rows"};
    size_t i = 0;
    json_object_foreach(t, key, v) assert_string_equal(key, order[i++]);
    json_decref(t);
    json_decref(w);
}

static void check_path(json_t *obj, const char *path, const char *want)
{
    json_t *got = table_jsonpath_get(obj, path);
    if (!want) {
        if (got) {
            char *g = json_dumps(got, JSON_ENCODE_ANY);
            fail_msg("%s: want NULL, got %s", path, g);
        }
        return;
    }
    if (!got) fail_msg("%s: got NULL, want %s", path, want);
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY);
        fail_msg("%s: got %s want %s", path, g, want);
    }
    json_decref(w);
}

static void test_jsonpath(void **state)
{
    json_t *o =
        J("{\"metadata\":{\"name\":\"n\",\"labels\":{\"app.kubernetes.io/name\":\"web\","
          "\"app\":\"plain\"}},\"m\":{\"app\":{\"kubernetes\":{\"io/name\":\"nested\"}}},"
          "\"spec\":{\"replicas\":3,\"nil\":null},\"status\":{\"conditions\":["
          "{\"type\":\"A\",\"status\":\"x\",\"n\":1},{\"status\":\"y\"},{\"type\":\"Ready\","
          "\"status\":\"True\",\"n\":5}]},\"x\":{\"arr\":[10,20,30,40,50],\"s\":\"str\"}}");
    check_path(o, ".spec.replicas", "3");
    check_path(o, "{.spec.replicas}", "3");
    check_path(o, "$.spec.replicas", "3");
    check_path(o, ".spec.missing", NULL);
    check_path(o, ".nope.deeper.still", NULL);
    check_path(o, ".spec.nil", "null");
    check_path(o, ".status.conditions[0].type", "\"A\"");
    check_path(o, ".status.conditions[-1].type", "\"Ready\"");
    check_path(o, ".status.conditions[5].type", NULL); /* out of bounds: an error */
    check_path(o, ".status.conditions[?(@.type==\"Ready\")].status", "\"True\"");
    check_path(o, ".status.conditions[?(@.type=='Ready')].status", "\"True\"");
    check_path(o, ".status.conditions[?(@.type!=\"A\")].status", "\"True\"");
    check_path(o, ".status.conditions[?(@.type==\"Nope\")].status", NULL);
    check_path(o, ".status.conditions[?(@.n>2)].type", "\"Ready\"");
    check_path(o, ".status.conditions[?(@.n==\"1\")].type", NULL); /* int vs string: error */
    check_path(o, ".status.conditions[?(@.status)].status", "\"x\"");
    check_path(o, ".metadata.labels['app\\.kubernetes\\.io/name']", "\"web\"");
    check_path(o, ".metadata.labels.app\\.kubernetes\\.io/name", "\"web\"");
    check_path(o, ".m['app.kubernetes.io/name']", "\"nested\""); /* dots split, as kube does */
    check_path(o, ".metadata.labels['app']", "\"plain\"");
    check_path(o, ".x.arr[1:3]", "20");
    check_path(o, ".x.arr[-2:]", "40");
    check_path(o, ".x.arr[::2]", "10");
    check_path(o, ".x.arr[3,0]", "40");
    check_path(o, ".x.arr[*]", "10");
    check_path(o, ".x.arr[2:2]", NULL);
    check_path(o, ".x.s[0]", NULL); /* not an array: an error */
    check_path(o, "..replicas", "3");
    check_path(o, ".status.conditions[*].type", "\"A\"");
    check_path(o, ".x.arr[ 0 ]", NULL); /* parse error */
    check_path(o, ".x.arr[", NULL);     /* parse error */
    check_path(o, "\"literal\"", NULL); /* a literal of the path cannot be borrowed */
    json_decref(o);
}

static void test_builtins(void **state)
{
    restype_version_t ver;
    restype_t rt;
    json_t *t, *o;

    rt = builtin_type(&ver, "", "namespaces", "Namespace");
    o = J("{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":\"%s\"},\"status\":"
          "{\"phase\":\"Active\"}}",
          ts_ago(86400 * 3));
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 3);
    assert_json(row_cells(t, 0), "[\"default\",\"Active\",\"3d\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "apiextensions.k8s.io", "customresourcedefinitions",
                      "CustomResourceDefinition");
    o = J("{\"metadata\":{\"name\":\"widgets.example.com\",\"creationTimestamp\":"
          "\"2024-02-29T10:11:12+02:00\"}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_string_equal(json_string_value(json_object_get(coldef(t, 1), "name")), "Created At");
    assert_string_equal(json_string_value(json_object_get(coldef(t, 1), "type")), "date");
    assert_json(row_cells(t, 0), "[\"widgets.example.com\",\"2024-02-29T08:11:12Z\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "apps", "deployments", "Deployment");
    o = J("{\"metadata\":{\"name\":\"d\",\"creationTimestamp\":\"%s\"},\"spec\":{\"replicas\":3,"
          "\"selector\":{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":"
          "\"tier\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]},{\"key\":\"gone\",\"operator\":"
          "\"DoesNotExist\"}]},\"template\":{\"spec\":{\"containers\":[{\"name\":\"c1\","
          "\"image\":\"i1\"},{\"name\":\"c2\",\"image\":\"i2\"}]}}},\"status\":{\"readyReplicas\":"
          "2,\"updatedReplicas\":3,\"availableReplicas\":2}}",
          ts_ago(45));
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"d\",\"2/3\",3,2,\"45s\",\"c1,c2\",\"i1,i2\","
                                 "\"app=web,!gone,tier in (a,b)\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "", "nodes", "Node");
    o = J("{\"metadata\":{\"name\":\"n1\",\"labels\":{\"node-role.kubernetes.io/worker\":\"\","
          "\"node-role.kubernetes.io/control-plane\":\"\",\"kubernetes.io/role\":\"worker\"}},"
          "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\","
          "\"status\":\"True\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
          "\"172.18.0.2\"}],\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\"}}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"n1\",\"Ready,SchedulingDisabled\",\"control-plane,worker\","
                                 "\"<unknown>\",\"v1.32.0\",\"172.18.0.2\",\"<none>\","
                                 "\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "", "services", "Service");
    o = J("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":"
          "\"10.96.0.10\",\"clusterIPs\":[\"10.96.0.10\"],\"ports\":[{\"port\":80,\"protocol\":"
          "\"TCP\",\"nodePort\":30080},{\"port\":53,\"protocol\":\"UDP\"}],\"selector\":{\"b\":"
          "\"2\",\"a\":\"1\"}}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"s\",\"NodePort\",\"10.96.0.10\",\"<none>\","
                                 "\"80:30080/TCP,53/UDP\",\"<unknown>\",\"a=1,b=2\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "", "events", "Event");
    o = J("{\"metadata\":{\"name\":\"e1\"},\"involvedObject\":{\"kind\":\"Widget\",\"name\":"
          "\"w1\"},\"reason\":\"Synced\",\"type\":\"Normal\",\"message\":\"  ok \\n\","
          "\"source\":{\"component\":\"ctl\"},\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\","
          "\"count\":4}",
          ts_ago(600), ts_ago(30));
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_string_equal(json_string_value(json_object_get(coldef(t, 0), "name")), "Last Seen");
    assert_json(row_cells(t, 0), "[\"30s\",\"Normal\",\"Synced\",\"widget/w1\",\"\",\"ctl\","
                                 "\"ok\",\"10m\",4,\"e1\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "coordination.k8s.io", "leases", "Lease");
    o = J("{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"me\"}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"l\",\"me\",\"<unknown>\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "", "secrets", "Secret");
    o = J("{\"metadata\":{\"name\":\"sec\"},\"type\":\"Opaque\",\"data\":{\"a\":\"YQ==\"}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"sec\",\"Opaque\",1,\"<unknown>\"]");
    json_decref(t);
    json_decref(o);

    rt = builtin_type(&ver, "", "serviceaccounts", "ServiceAccount");
    o = J("{\"metadata\":{\"name\":\"default\"}}");
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_json(row_cells(t, 0), "[\"default\",0,\"<unknown>\"]");
    json_decref(t);
    json_decref(o);

    /* a built-in kind without a printer here: Name, Age */
    rt = builtin_type(&ver, "scheduling.k8s.io", "somethings", "Something");
    o = J("{\"metadata\":{\"name\":\"x\",\"creationTimestamp\":\"%s\"}}", ts_ago(7200));
    t = table_build(&rt, &ver, &o, 1, TABLE_INCLUDE_METADATA, true, NOW);
    assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 2);
    assert_json(row_cells(t, 0), "[\"x\",\"120m\"]");
    json_decref(t);
    json_decref(o);
}

static void test_many_rows_fast(void **state)
{
    enum { N = 10000 };
    json_t **pods = malloc(N * sizeof *pods);
    for (int i = 0; i < N; i++)
        pods[i] =
            J("{\"metadata\":{\"name\":\"pod-%d\",\"namespace\":\"default\","
              "\"creationTimestamp\":\"%s\",\"labels\":{\"app\":\"x\"}},\"spec\":"
              "{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]},"
              "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"containerStatuses\":"
              "[{\"name\":\"c\",\"ready\":true,\"restartCount\":1,\"state\":{\"running\":{}},"
              "\"lastState\":{\"terminated\":{\"finishedAt\":\"%s\"}}}]}}",
              i, ts_ago(i), ts_ago(1));
    restype_version_t ver;
    restype_t rt = builtin_type(&ver, "", "pods", "Pod");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    json_t *t = table_build(&rt, &ver, pods, N, TABLE_INCLUDE_METADATA, true, NOW);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double pod_secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_int_equal(json_array_size(json_object_get(t, "rows")), N);
    assert_json(row_cells(t, N - 1), "[\"pod-9999\",\"1/1\",\"Running\",\"1 (1s ago)\",\"166m\","
                                     "\"10.0.0.1\",\"n\",\"<none>\",\"<none>\"]");
    json_decref(t);

    json_t *cols = J("[{\"name\":\"Phase\",\"type\":\"string\",\"jsonPath\":\".status.phase\"},"
                     "{\"name\":\"Ready\",\"type\":\"string\",\"jsonPath\":"
                     "\".status.containerStatuses[?(@.name==\\\"c\\\")].ready\"},"
                     "{\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":"
                     "\".metadata.creationTimestamp\"}]");
    restype_t crt = cr_type(&ver, cols);
    clock_gettime(CLOCK_MONOTONIC, &a);
    t = table_build(&crt, &ver, pods, N, TABLE_INCLUDE_OBJECT, true, NOW);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double cr_secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_json(row_cells(t, 0), "[\"pod-0\",\"Running\",\"true\",\"0s\"]");
    json_decref(t);
    json_decref(cols);
    print_message("10,000 rows: pods %.3fs, CR columns %.3fs\n", pod_secs, cr_secs);
    assert_true(pod_secs < 5.0 && cr_secs < 5.0); /* generous: sanitizer builds are slow */
    for (int i = 0; i < N; i++)
        json_decref(pods[i]);
    free(pods);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_age),      cmocka_unit_test(test_cr_columns),
        cmocka_unit_test(test_cr_default_age), cmocka_unit_test(test_pods),
        cmocka_unit_test(test_include_modes),  cmocka_unit_test(test_no_column_definitions),
        cmocka_unit_test(test_jsonpath),       cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_many_rows_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
