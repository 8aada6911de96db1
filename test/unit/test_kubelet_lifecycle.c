/* test_kubelet_lifecycle: the kubelet's pure rules: restartPolicy decisions, crash-loop
 * back-off arithmetic (immediate first restart, 10 s doubling to 300 s, reset after 10 min),
 * pod phase computation from container states (init containers, waiting with a last
 * termination, each restartPolicy), and image map parsing and lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubelet/backoff.h"
#include "kubelet/imagemap.h"
#include "kubelet/phase.h"

static void test_should_restart(void **state)
{
    (void)state;
    assert_true(backoff_should_restart("Always", 0));
    assert_true(backoff_should_restart("Always", 1));
    assert_true(backoff_should_restart(NULL, 0));
    assert_false(backoff_should_restart("OnFailure", 0));
    assert_true(backoff_should_restart("OnFailure", 137));
    assert_false(backoff_should_restart("Never", 1));
    assert_false(backoff_should_restart("Never", 0));
}

static void test_backoff_sequence(void **state)
{
    (void)state;
    backoff_t b = {0};
    static const unsigned want[] = {0, 10, 20, 40, 80, 160, 300, 300, 300};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(backoff_on_exit(&b, 1.0), want[i]);
    /* a run of 10 minutes resets it */
    assert_int_equal(backoff_on_exit(&b, 600.0), 0);
    assert_int_equal(backoff_on_exit(&b, 5.0), 10);
    assert_int_equal(backoff_on_exit(&b, 599.0), 20);
}

#define R                                                                                          \
    {                                                                                              \
        PHASE_C_RUNNING, 0, false, 0                                                               \
    }
#define W                                                                                          \
    {                                                                                              \
        PHASE_C_WAITING, 0, false, 0                                                               \
    }
#define U                                                                                          \
    {                                                                                              \
        PHASE_C_UNKNOWN, 0, false, 0                                                               \
    }
#define T0                                                                                         \
    {                                                                                              \
        PHASE_C_TERMINATED, 0, false, 0                                                            \
    }
#define T1                                                                                         \
    {                                                                                              \
        PHASE_C_TERMINATED, 1, false, 0                                                            \
    }
#define WL1                                                                                        \
    {                                                                                              \
        PHASE_C_WAITING, 0, true, 1                                                                \
    } /* CrashLoopBackOff after exit 1 */
#define WL0                                                                                        \
    {                                                                                              \
        PHASE_C_WAITING, 0, true, 0                                                                \
    }

static void test_phase_table(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        phase_ctr_t init[2];
        size_t n_init;
        phase_ctr_t c[2];
        size_t n;
        const char *want;
    } cases[] = {
        {"Always", {{0}}, 0, {W}, 1, "Pending"},
        {"Always", {{0}}, 0, {U}, 1, "Pending"},
        {"Always", {{0}}, 0, {R}, 1, "Running"},
        {"Always", {{0}}, 0, {R, W}, 2, "Pending"},
        {"Always", {{0}}, 0, {R, R}, 2, "Running"},
        {"Always", {{0}}, 0, {R, U}, 2, "Pending"},
        {"Always", {{0}}, 0, {WL1}, 1, "Running"}, /* restarting */
        {"Always", {{0}}, 0, {T0}, 1, "Running"},
        {"Always", {{0}}, 0, {R, T1}, 2, "Running"},
        {"OnFailure", {{0}}, 0, {T0}, 1, "Succeeded"},
        {"OnFailure", {{0}}, 0, {T0, T0}, 2, "Succeeded"},
        {"OnFailure", {{0}}, 0, {WL1}, 1, "Running"},
        {"OnFailure", {{0}}, 0, {T0, R}, 2, "Running"},
        {"Never", {{0}}, 0, {T0}, 1, "Succeeded"},
        {"Never", {{0}}, 0, {T1}, 1, "Failed"},
        {"Never", {{0}}, 0, {T0, T1}, 2, "Failed"},
        {"Never", {{0}}, 0, {T0, R}, 2, "Running"},
        /* init containers */
        {"Always", {W}, 1, {W}, 1, "Pending"},
        {"Always", {R}, 1, {W}, 1, "Pending"},
        {"Always", {T0, R}, 2, {W}, 1, "Pending"},
        {"Always", {T0, T0}, 2, {R}, 1, "Running"},
        {"Always", {WL1}, 1, {W}, 1, "Pending"}, /* failed init, will retry */
        {"OnFailure", {T1}, 1, {W}, 1, "Pending"},
        {"Never", {T1}, 1, {W}, 1, "Failed"},
        {"Never", {T0, T1}, 2, {W}, 1, "Failed"},
        {"Never", {T0}, 1, {T0}, 1, "Succeeded"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got =
            phase_compute(cases[i].policy, cases[i].init, cases[i].n_init, cases[i].c, cases[i].n);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu (%s): got %s, want %s", i, cases[i].policy, got, cases[i].want);
    }
    phase_ctr_t ok[2] = {T0, T0}, bad[2] = {T0, R};
    assert_true(phase_initialized(ok, 2));
    assert_true(phase_initialized(NULL, 0));
    assert_false(phase_initialized(bad, 2));
    phase_ctr_t wl0[1] = {WL0};
    assert_false(phase_initialized(wl0, 1));
}

static void test_imagemap(void **state)
{
    (void)state;
    imagemap_t *m = imagemap_new();
    char err[256];
    assert_int_equal(imagemap_add(m, "task-executor=/opt/bin/task-executor", err, sizeof err), 0);
    assert_int_equal(imagemap_add(m, " registry.io/team/tool:v1 = /bin/tool ", err, sizeof err), 0);
    assert_int_equal(imagemap_add(m, "nope", err, sizeof err), -1);
    assert_string_equal(err, "image map entry \"nope\": expected IMAGE=PATH");
    assert_int_equal(imagemap_add(m, "=x", err, sizeof err), -1);
    assert_int_equal(imagemap_add(m, "x=", err, sizeof err), -1);
    assert_string_equal(imagemap_lookup(m, "task-executor"), "/opt/bin/task-executor");
    assert_string_equal(imagemap_lookup(m, "task-executor:latest"), "/opt/bin/task-executor");
    assert_string_equal(imagemap_lookup(m, "task-executor@sha256:abcd"), "/opt/bin/task-executor");
    assert_string_equal(imagemap_lookup(m, "registry.io/team/tool:v1"), "/bin/tool");
    assert_null(imagemap_lookup(m, "registry.io/team/tool:v2")); /* the entry names a tag */
    assert_null(imagemap_lookup(m, "other/task-executor"));
    assert_null(imagemap_lookup(m, ""));
    assert_int_equal(imagemap_add(m, "task-executor=/new", err, sizeof err), 0);
    assert_string_equal(imagemap_lookup(m, "task-executor"), "/new");
    assert_int_equal(imagemap_count(m), 2);

    char path[] = "/tmp/test_imagemap_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text =
        "# comment\n\nlocalhost:5000/app:dev=/usr/bin/app\n  busybox = /bin/busybox\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(imagemap_load_file(m, path, err, sizeof err), 0);
    assert_string_equal(imagemap_lookup(m, "localhost:5000/app:dev"), "/usr/bin/app");
    assert_string_equal(imagemap_lookup(m, "busybox:1.36"), "/bin/busybox");
    FILE *f = fopen(path, "w");
    fputs("ok=/x\nbroken line\n", f);
    fclose(f);
    assert_int_equal(imagemap_load_file(m, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2: image map entry \"broken line\""));
    unlink(path);
    assert_int_equal(imagemap_load_file(m, "/nonexistent/map", err, sizeof err), -1);
    imagemap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_should_restart),
        cmocka_unit_test(test_backoff_sequence),
        cmocka_unit_test(test_phase_table),
        cmocka_unit_test(test_imagemap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
