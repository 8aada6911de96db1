/* test_kubelet_envexpand: Kubernetes $(VAR) expansion as a table (escapes, undefined and
 * incomplete references, the end of the string), the downward API fieldRef paths, env
 * assembly with valueFrom/envFrom and its errors, and base64 decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet/envexpand.h"

static void test_expand_table(void **state)
{
    (void)state;
    envlist_t l = {0};
    envlist_set(&l, "VAR_A", "A");
    envlist_set(&l, "VAR_B", "B");
    envlist_set(&l, "VAR_C", "C");
    envlist_set(&l, "EMPTY", "");
    envlist_set(&l, "POD_IP", "127.0.0.7");
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"$(VAR_A)", "A"},
        {"___$(VAR_B)___", "___B___"},
        {"$(VAR_A)-$(VAR_B)-$(VAR_C)", "A-B-C"},
        {"$(EMPTY)", ""},
        {"$(UNDEFINED)", "$(UNDEFINED)"},
        {"x$(UNDEFINED)y", "x$(UNDEFINED)y"},
        {"$$(VAR_A)", "$(VAR_A)"},
        {"$$$(VAR_A)", "$A"},
        {"$$$$(VAR_A)", "$$(VAR_A)"},
        {"$$", "$"},
        {"$", "$"},
        {"abc$", "abc$"},
        {"$VAR_A", "$VAR_A"},
        {"${VAR_A}", "${VAR_A}"},
        {"$(VAR_A", "$(VAR_A"},
        {"$(", "$("},
        {"$()", "$()"},
        {"$(VAR_A)$(VAR_A", "A$(VAR_A"},
        {"--bind $(POD_IP) 8080", "--bind 127.0.0.7 8080"},
        {"$(VAR_A)$$(VAR_B)$(VAR_C)", "A$(VAR_B)C"},
        {"$(VAR_A)$", "A$"},
        {"$x$(VAR_B)", "$xB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = envexpand(cases[i].in, &l);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("expand(\"%s\") = \"%s\", want \"%s\"", cases[i].in, got, cases[i].want);
        free(got);
    }
    envlist_free(&l);
}

static void test_envlist(void **state)
{
    (void)state;
    envlist_t l = {0};
    envlist_set(&l, "A", "1");
    envlist_set(&l, "B", "2");
    envlist_set(&l, "A", "3"); /* replaced in place */
    assert_string_equal(envlist_get(&l, "A"), "3");
    assert_null(envlist_get(&l, "C"));
    char **env = envlist_environ(&l);
    assert_string_equal(env[0], "A=3");
    assert_string_equal(env[1], "B=2");
    assert_null(env[2]);
    envlist_environ_free(env);
    envlist_free(&l);
}

static json_t *POD;

static json_t *get_obj(void *ud, const char *kind, const char *name)
{
    json_t *objs = ud;
    char key[300];
    snprintf(key, sizeof key, "%s/%s", kind, name);
    return json_object_get(objs, key);
}

static void test_fieldref(void **state)
{
    (void)state;
    static const struct {
        const char *path, *want;
    } cases[] = {
        {"metadata.name", "web-1"},
        {"metadata.namespace", "team"},
        {"metadata.uid", "u-1"},
        {"metadata.labels['app']", "web"},
        {"metadata.labels['missing']", ""},
        {"metadata.annotations[\"note\"]", "x=y"},
        {"spec.nodeName", "localcluster"},
        {"spec.serviceAccountName", "robot"},
        {"status.podIP", "127.0.0.9"},
        {"status.podIPs", "127.0.0.9"},
        {"status.hostIP", "127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = envexpand_fieldref(POD, cases[i].path, "127.0.0.9", "127.0.0.1");
        assert_non_null(got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("fieldRef %s = \"%s\", want \"%s\"", cases[i].path, got, cases[i].want);
        free(got);
    }
    assert_null(envexpand_fieldref(POD, "spec.containers", "1", "2"));
    assert_null(envexpand_fieldref(POD, "metadata.labels['app'", "1", "2"));
}

static void test_container_env(void **state)
{
    (void)state;
    json_t *objs = json_loads(
        "{\"configmap/cfg\":{\"data\":{\"MODE\":\"fast\",\"bad key\":\"x\",\"LEVEL\":\"3\"}},"
        "\"secret/sec\":{\"data\":{\"TOKEN\":\"czNjcmV0\"}}}",
        0, NULL);
    json_t *ctr = json_loads(
        "{\"name\":\"c\",\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"},\"prefix\":\"CFG_\"}],"
        "\"env\":[{\"name\":\"WHO\",\"value\":\"$(MY_NAME)\"},"
        "{\"name\":\"MY_NAME\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
        "{\"name\":\"HELLO\",\"value\":\"hi $(MY_NAME) at $(POD_IP) in $(CFG_MODE)\"},"
        "{\"name\":\"TOKEN\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"TOKEN\"}}}"
        ","
        "{\"name\":\"LVL\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"LEVEL\"}}"
        "},"
        "{\"name\":\"OPT\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"k\","
        "\"optional\":true}}},"
        "{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}},"
        "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"requests.memory\","
        "\"divisor\":\"1Mi\"}}}],"
        "\"resources\":{\"requests\":{\"memory\":\"64Mi\"}}}",
        0, NULL);
    assert_non_null(ctr);
    env_lookup_t lk = {.get = get_obj,
                       .ud = objs,
                       .pod_ip = "127.0.0.9",
                       .host_ip = "127.0.0.1",
                       .node_cpus = 4,
                       .node_mem_bytes = 1LL << 30};
    envlist_t l = {0};
    envlist_set(&l, "POD_IP", "127.0.0.9");
    char err[256] = "";
    assert_int_equal(envexpand_container_env(POD, ctr, &lk, &l, err, sizeof err), 0);
    assert_string_equal(envlist_get(&l, "CFG_MODE"), "fast");
    assert_null(envlist_get(&l, "CFG_bad key"));
    assert_string_equal(envlist_get(&l, "WHO"), "$(MY_NAME)"); /* defined later: kept */
    assert_string_equal(envlist_get(&l, "HELLO"), "hi web-1 at 127.0.0.9 in fast");
    assert_string_equal(envlist_get(&l, "TOKEN"), "s3cret");
    assert_string_equal(envlist_get(&l, "LVL"), "3");
    assert_null(envlist_get(&l, "OPT"));
    assert_string_equal(envlist_get(&l, "CPU"), "4");
    assert_string_equal(envlist_get(&l, "MEM"), "64");
    envlist_free(&l);
    json_decref(ctr);

    static const struct {
        const char *ctr, *err;
    } bad[] = {
        {"{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\","
         "\"key\":\"k\"}}}]}",
         "configmap \"nope\" not found"},
        {"{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\","
         "\"key\":\"k\"}}}]}",
         "couldn't find key k in ConfigMap team/cfg"},
        {"{\"envFrom\":[{\"secretRef\":{\"name\":\"gone\"}}]}", "secret \"gone\" not found"},
        {"{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.x\"}}}]}",
         "env X: unsupported fieldRef fieldPath \"spec.x\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *c = json_loads(bad[i].ctr, 0, NULL);
        envlist_t l2 = {0};
        assert_int_equal(envexpand_container_env(POD, c, &lk, &l2, err, sizeof err), -1);
        assert_string_equal(err, bad[i].err);
        envlist_free(&l2);
        json_decref(c);
    }
    json_decref(objs);
}

static void test_base64(void **state)
{
    (void)state;
    size_t n;
    char *s = envexpand_base64("aGVsbG8gd29ybGQ=", &n);
    assert_string_equal(s, "hello world");
    assert_int_equal(n, 11);
    free(s);
    s = envexpand_base64("YQ==\n", &n);
    assert_string_equal(s, "a");
    free(s);
    assert_null(envexpand_base64("not base64!", &n));
}

int main(void)
{
    POD = json_loads("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"team\",\"uid\":\"u-1\","
                     "\"labels\":{\"app\":\"web\"},\"annotations\":{\"note\":\"x=y\"}},"
                     "\"spec\":{\"nodeName\":\"localcluster\",\"serviceAccountName\":\"robot\"}}",
                     0, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_table), cmocka_unit_test(test_envlist),
        cmocka_unit_test(test_fieldref),     cmocka_unit_test(test_container_env),
        cmocka_unit_test(test_base64),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(POD);
    return rc;
}
