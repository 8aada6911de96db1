/* test_executor_runtime: the task-executor's core on a real libuv loop with the real shim (the
 * task-executor binary built beside this test, in ../bin): exit codes and reasons, timeouts
 * (SIGTERM to the process group, then SIGKILL after the grace period, reported as TaskTimeout 137
 * with nothing of the group left), and stop by deletion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "executor/executor.h"
#include "executor/task.h"

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t tick;
    executor_t *ex;
    char dir[64];
    char exe[PATH_MAX];
} fixture_t;

static void on_tick(uv_timer_t *t) {}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    snprintf(f->exe, sizeof f->exe, "%s/../bin/task-executor", dirname(self));
    if (access(f->exe, X_OK) != 0) {
        fprintf(stderr, "the shim binary %s is missing: build it first (make unit-bins all)\n",
                f->exe);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/test_executor_runtime.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, on_tick, 20, 20); /* wakes uv_run(ONCE) regularly */
    executor_config_t cfg = {.data_dir = f->dir, .self_exe = f->exe, .grace_ms = 300};
    char err[256];
    if (executor_new(&f->loop, &cfg, &f->ex, err, sizeof err) != 0) {
        fprintf(stderr, "executor_new: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    executor_close(f->ex);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) rc = -1;
    free(f);
    return rc == 0 ? 0 : -1;
}

static void start_task(fixture_t *f, const char *json)
{
    char err[256];
    task_t **v = NULL;
    size_t n = 0;
    assert_int_equal(task_list_decode(json, strlen(json), &v, &n, err, sizeof err), 0);
    assert_int_equal(executor_set_tasks(f->ex, v, n, err, sizeof err), 0);
}

/* Runs the loop until the task is terminated (or 20 s pass); returns its API JSON. */
static json_t *wait_terminated(fixture_t *f, const char *name)
{
    double end = uv_now(&f->loop) + 20000.0;
    for (;;) {
        json_t *t = executor_get_json(f->ex, name);
        if (t && jsonx_get(t, "processStatus.terminated")) return t;
        json_decref(t);
        if (uv_now(&f->loop) > end) fail_msg("task %s did not terminate within 20 s", name);
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

/* The pid of the task's process group (the shim leads it), from the on-disk record. */
static long task_pgid(fixture_t *f, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s/task.json", f->dir, name);
    json_t *rec = json_load_file(path, 0, NULL);
    assert_non_null(rec);
    long pid = (long)jsonx_int(rec, "executor.pid", 0);
    json_decref(rec);
    assert_true(pid > 0);
    return pid;
}

/* Nothing of the task's process group is left: SIGKILL'ed members vanish once their new parent
 * (init) has reaped them, so allow that a moment (5 s at most). */
static void assert_group_gone(long pgid)
{
    for (int i = 0; i < 500 && kill(-(pid_t)pgid, 0) == 0; i++)
        usleep(10000);
    errno = 0;
    assert_int_equal(kill(-(pid_t)pgid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_exit_codes(void **state)
{
    fixture_t *f = *state;
    start_task(f, "[{\"name\":\"ok\",\"process\":{\"command\":[\"true\"]}}]");
    json_t *t = wait_terminated(f, "ok");
    assert_int_equal(jsonx_int(t, "processStatus.terminated.exitCode", -1), 0);
    assert_string_equal(jsonx_str(t, "processStatus.terminated.reason", ""), "Succeeded");
    json_decref(t);
    start_task(f, "[{\"name\":\"three\",\"process\":{\"command\":[\"sh\",\"-c\",\"exit 3\"]}}]");
    t = wait_terminated(f, "three");
    assert_int_equal(jsonx_int(t, "processStatus.terminated.exitCode", -1), 3);
    assert_string_equal(jsonx_str(t, "processStatus.terminated.reason", ""), "Failed");
    json_decref(t);
}

/* A task that ignores SIGTERM (and so do the children it forked): SIGKILL to the whole group
 * after the grace period. */
static void test_timeout_kills_the_group(void **state)
{
    fixture_t *f = *state;
    start_task(f, "[{\"name\":\"stubborn\",\"process\":{\"command\":[\"sh\",\"-c\","
                  "\"trap '' TERM; sleep 100 & sleep 100\"],\"timeoutSeconds\":1}}]");
    json_t *t = wait_terminated(f, "stubborn");
    assert_int_equal(jsonx_int(t, "processStatus.terminated.exitCode", -1), 137);
    assert_string_equal(jsonx_str(t, "processStatus.terminated.reason", ""), "TaskTimeout");
    json_decref(t);
    assert_group_gone(task_pgid(f, "stubborn"));
}

/* A task that dies on SIGTERM is still reported as a timeout (137), at once. */
static void test_timeout_cooperative(void **state)
{
    fixture_t *f = *state;
    start_task(f, "[{\"name\":\"polite\",\"process\":{\"command\":[\"sh\",\"-c\","
                  "\"sleep 100 & sleep 100\"],\"timeoutSeconds\":1}}]");
    json_t *t = wait_terminated(f, "polite");
    assert_int_equal(jsonx_int(t, "processStatus.terminated.exitCode", -1), 137);
    assert_string_equal(jsonx_str(t, "processStatus.terminated.reason", ""), "TaskTimeout");
    json_decref(t);
    assert_group_gone(task_pgid(f, "polite"));
}

/* Deleting a running task stops its group, then removes it. */
static void test_delete_stops(void **state)
{
    fixture_t *f = *state;
    start_task(f, "[{\"name\":\"victim\",\"process\":{\"command\":[\"sh\",\"-c\","
                  "\"sleep 100 & sleep 100\"]}}]");
    json_t *t = NULL;
    for (int i = 0; i < 1000; i++) { /* until it runs */
        t = executor_get_json(f->ex, "victim");
        if (jsonx_get(t, "processStatus.running")) break;
        json_decref(t);
        t = NULL;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_non_null(t);
    json_decref(t);
    long pgid = task_pgid(f, "victim");
    assert_int_equal(executor_delete(f->ex, "victim"), 0);
    double end = uv_now(&f->loop) + 20000.0;
    while ((t = executor_get_json(f->ex, "victim")) != NULL) {
        json_decref(t);
        if (uv_now(&f->loop) > end) fail_msg("the deleted task is still listed after 20 s");
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_group_gone(pgid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_cooperative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_stops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
