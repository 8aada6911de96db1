/* test_executor_codec: the task-executor's pure parts: the route table, the bearer token check,
 * task name validation (no escape from the data directory), the strict task decoder and the API
 * and record encodings, the on-disk store (atomic writes, a torn write, a corrupt task.json),
 * exit records and /proc/<pid>/stat parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/finder.h"
#include "executor/routes.h"
#include "executor/task.h"
#include "executor/task_store.h"

static void test_routes(void **state)
{
    static const struct {
        const char *method, *path;
        int rc;
        route_id_t id;
        const char *name;
    } cases[] = {
        {"POST", "/setTasks", 0, ROUTE_SET_TASKS, NULL},
        {"GET", "/setTasks", 405, 0, NULL},
        {"GET", "/getTasks", 0, ROUTE_GET_TASKS, NULL},
        {"HEAD", "/getTasks", 0, ROUTE_GET_TASKS, NULL},
        {"POST", "/getTasks", 405, 0, NULL},
        {"POST", "/tasks", 0, ROUTE_CREATE_TASK, NULL},
        {"GET", "/tasks", 405, 0, NULL},
        {"GET", "/tasks/a-1", 0, ROUTE_GET_TASK, "a-1"},
        {"DELETE", "/tasks/a-1", 0, ROUTE_DELETE_TASK, "a-1"},
        {"PUT", "/tasks/a-1", 405, 0, NULL},
        {"GET", "/tasks/", 404, 0, NULL},
        {"GET", "/health", 0, ROUTE_HEALTH, NULL},
        {"GET", "/", 404, 0, NULL},
        {"GET", "/settasks", 404, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        route_id_t id = 0;
        const char *name = NULL;
        int rc = routes_match(cases[i].method, cases[i].path, &id, &name);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) assert_int_equal(id, cases[i].id);
        if (cases[i].name) assert_string_equal(name, cases[i].name);
    }
    assert_string_equal(routes_status_text(404), "Not Found");
    assert_string_equal(routes_status_text(413), "Request Entity Too Large");
}

static void test_token(void **state)
{
    assert_true(routes_token_ok(NULL, NULL));
    assert_true(routes_token_ok(NULL, ""));
    assert_true(routes_token_ok("Bearer s3cret", "s3cret"));
    assert_false(routes_token_ok(NULL, "s3cret"));
    assert_false(routes_token_ok("Bearer s3cre", "s3cret"));
    assert_false(routes_token_ok("Bearer s3cretX", "s3cret"));
    assert_false(routes_token_ok("Basic s3cret", "s3cret"));
    assert_false(routes_token_ok("Bearer ", "s3cret"));
}

static void test_names(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"bs-0", true},  {"a", true},   {"a.b-c.9", true}, {"", false},
        {".", false},    {"..", false}, {"../x", false},   {"a/b", false},
        {"a..b", false}, {"-a", false}, {"a-", false},     {"A", false},
        {"a_b", false},  {"a.", false}, {".a", false},     {"a%2f", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(task_name_valid(cases[i].name), cases[i].ok);
    char long_name[300];
    memset(long_name, 'a', 253);
    long_name[253] = '\0';
    assert_true(task_name_valid(long_name));
    long_name[253] = 'a';
    long_name[254] = '\0';
    assert_false(task_name_valid(long_name));
    char buf[64];
    assert_int_equal(task_store_path("/d", "..", "task.json", buf, sizeof buf), -EINVAL);
    assert_int_equal(task_store_path("/d", "t", "../x", buf, sizeof buf), -EINVAL);
    assert_int_equal(task_store_path("/d", "t", "task.json", buf, sizeof buf), 0);
    assert_string_equal(buf, "/d/t/task.json");
    assert_int_equal(task_store_path("/d", "t", "task.json", buf, 8), -ENAMETOOLONG);
}

static void test_decode(void **state)
{
    static const struct {
        const char *body;
        const char *err; /* NULL: accepted */
    } cases[] = {
        {"[]", NULL},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"]}}]", NULL},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"args\":[\"-l\"],\"env\":[{\"name\":"
         "\"A\",\"value\":\"1\"}],\"workingDir\":\"/w\",\"timeoutSeconds\":5}}]",
         NULL},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"]},\"processStatus\":{\"running\":{}}}]",
         NULL},
        {"", "malformed JSON"},
        {"{", "malformed JSON"},
        {"{}", "must be a JSON array"},
        {"[1]", "must be a JSON object"},
        {"[{\"process\":{\"command\":[\"ls\"]}}]", "name: required"},
        {"[{\"name\":5,\"process\":{\"command\":[\"ls\"]}}]", "name: must be a string"},
        {"[{\"name\":\"../x\",\"process\":{\"command\":[\"ls\"]}}]", "not a valid task name"},
        {"[{\"name\":\"t\"}]", "process: required"},
        {"[{\"name\":\"t\",\"process\":{}}]", "process.command: required"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[]}}]", "process.command: required"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[1]}}]", "non-empty array of strings"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"\"]}}]", "must not be empty"},
        {"[{\"name\":\"t\",\"x\":1,\"process\":{\"command\":[\"ls\"]}}]", "unknown field \"x\""},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"shell\":1}}]",
         "process: unknown field \"shell\""},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"env\":[{\"name\":\"A=B\"}]}}]",
         "without '='"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"env\":[{\"name\":\"A\",\"v\":1}]}}]",
         "unknown field \"v\""},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"timeoutSeconds\":-1}}]",
         "timeoutSeconds"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"timeoutSeconds\":1.5}}]",
         "timeoutSeconds"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"workingDir\":\"rel\"}}]",
         "absolute path"},
        {"[{\"name\":\"t\",\"process\":{\"command\":[\"ls\"]}},{\"name\":\"t\",\"process\":{"
         "\"command\":[\"ls\"]}}]",
         "duplicate task name"},
        {"[{\"name\":\"t\",\"name\":\"u\",\"process\":{\"command\":[\"ls\"]}}]", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        task_t **v = NULL;
        size_t n = 0;
        int rc = task_list_decode(cases[i].body, strlen(cases[i].body), &v, &n, err, sizeof err);
        if (!cases[i].err) {
            if (rc) fail_msg("case %zu: %s", i, err);
            task_list_free(v, n);
        } else {
            assert_int_equal(rc, -EINVAL);
            if (!strstr(err, cases[i].err))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].err);
        }
    }
}

static task_t *decode_one(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    task_t *t = NULL;
    char err[256];
    assert_int_equal(task_decode(v, &t, err, sizeof err), 0);
    json_decref(v);
    return t;
}

static void test_encode(void **state)
{
    task_t *t = decode_one("{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"args\":null,"
                           "\"env\":[{\"name\":\"A\"}],\"workingDir\":\"\",\"timeoutSeconds\":0}}");
    json_t *o = task_encode(t);
    char *s = json_dumps(o, JSON_COMPACT);
    assert_string_equal(s, "{\"name\":\"t\",\"process\":{\"command\":[\"ls\"],\"env\":[{\"name\":"
                           "\"A\",\"value\":\"\"}]},\"processStatus\":{\"waiting\":{}}}");
    free(s);
    json_decref(o);
    t->state = TASK_TERMINATED;
    t->exit_code = 137;
    t->signal = 15;
    t->started_at = 1700000000;
    t->finished_at = 1700000002;
    t->pid = 42;
    t->pid_start = 777;
    task_set_reason(t, "TaskTimeout", "too slow");
    o = task_encode(t);
    json_t *term = json_object_get(json_object_get(o, "processStatus"), "terminated");
    assert_int_equal(json_integer_value(json_object_get(term, "exitCode")), 137);
    assert_string_equal(json_string_value(json_object_get(term, "reason")), "TaskTimeout");
    assert_string_equal(json_string_value(json_object_get(term, "finishedAt")),
                        "2023-11-14T22:13:22Z");
    assert_null(json_object_get(o, "executor")); /* private fields never in the API */
    json_decref(o);
    /* the record round-trips */
    o = task_record_encode(t);
    task_t *back = NULL;
    char err[256];
    assert_int_equal(task_record_decode(o, &back, err, sizeof err), 0);
    assert_int_equal(back->state, TASK_TERMINATED);
    assert_int_equal(back->exit_code, 137);
    assert_int_equal(back->signal, 15);
    assert_int_equal(back->pid, 42);
    assert_int_equal(back->pid_start, 777);
    assert_int_equal(back->finished_at, 1700000002);
    assert_string_equal(back->message, "too slow");
    json_decref(o);
    task_free(back);
    task_free(t);
}

typedef struct seen {
    int ok, bad;
    char bad_err[512];
    task_t *t;
} seen_t;

static void visit(const char *name, task_t *t, const char *err, void *ud)
{
    seen_t *s = ud;
    if (t) {
        s->ok++;
        task_free(s->t);
        s->t = t;
    } else {
        s->bad++;
        snprintf(s->bad_err, sizeof s->bad_err, "%s: %s", name, err);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_store(void **state)
{
    char dir[] = "/tmp/test_executor_XXXXXX";
    assert_non_null(mkdtemp(dir));
    task_t *t = decode_one("{\"name\":\"job-1\",\"process\":{\"command\":[\"true\"]}}");
    t->state = TASK_RUNNING;
    t->pid = 123;
    assert_int_equal(task_store_save(dir, t, true), 0);
    char p[512];
    /* a torn write: a half-written temp file next to the good record */
    snprintf(p, sizeof p, "%s/job-1/task.json.tmp", dir);
    write_file(p, "{\"name\":\"job-1\",\"proc");
    /* a corrupt record in another task, and entries that are not tasks */
    snprintf(p, sizeof p, "%s/job-2", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/job-2/task.json", dir);
    write_file(p, "{\"name\":");
    snprintf(p, sizeof p, "%s/Not_A_Task", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/plainfile", dir);
    write_file(p, "x");
    seen_t s = {0};
    assert_int_equal(task_store_scan(dir, visit, &s), 0);
    assert_int_equal(s.ok, 1);
    assert_int_equal(s.bad, 1);
    assert_non_null(strstr(s.bad_err, "job-2: task.json is corrupt"));
    assert_string_equal(s.t->name, "job-1");
    assert_int_equal(s.t->state, TASK_RUNNING);
    assert_int_equal(s.t->pid, 123);
    snprintf(p, sizeof p, "%s/job-1/task.json.tmp", dir);
    assert_int_equal(access(p, F_OK), -1); /* the torn temp file is gone */
    task_free(s.t);

    /* exit records */
    task_exit_t x = {.exit_code = 3, .finished_at = 1700000000};
    snprintf(x.reason, sizeof x.reason, "Failed");
    snprintf(p, sizeof p, "%s/job-1", dir);
    int dfd = open(p, O_RDONLY | O_DIRECTORY);
    assert_int_equal(task_exit_write_at(dfd, &x), 0);
    close(dfd);
    task_exit_t y;
    assert_int_equal(task_exit_read(dir, "job-1", &y), 0);
    assert_int_equal(y.exit_code, 3);
    assert_string_equal(y.reason, "Failed");
    assert_int_equal(y.finished_at, 1700000000);
    assert_int_equal(task_exit_read(dir, "job-2", &y), -ENOENT);
    assert_int_equal(task_exit_read(dir, "../etc", &y), -EINVAL);

    /* removal, and names that would escape */
    assert_int_equal(task_store_remove(dir, ".."), -EINVAL);
    assert_int_equal(task_store_remove(dir, "job-1"), 0);
    assert_int_equal(task_store_remove(dir, "job-2"), 0);
    snprintf(p, sizeof p, "%s/job-1", dir);
    assert_int_equal(access(p, F_OK), -1);
    task_free(t);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

static void test_stat(void **state)
{
    unsigned long long st = 0;
    char s = 0;
    const char *line = "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                       "987654 1000 100";
    assert_int_equal(finder_parse_stat(line, &st, &s), 0);
    assert_int_equal(st, 987654);
    assert_int_equal(s, 'S');
    assert_int_equal(finder_parse_stat("42 (x) S 1 2", &st, &s), -EINVAL);
    assert_int_equal(finder_parse_stat("garbage", &st, &s), -EINVAL);
    assert_int_equal(finder_start_time(getpid(), &st), 0);
    assert_true(st > 0);
    assert_int_equal(finder_start_time(0x7ffffff0, &st), -ESRCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes), cmocka_unit_test(test_token),  cmocka_unit_test(test_names),
        cmocka_unit_test(test_decode), cmocka_unit_test(test_encode), cmocka_unit_test(test_store),
        cmocka_unit_test(test_stat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
