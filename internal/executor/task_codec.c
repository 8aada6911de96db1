/* task_codec: JSON codecs of the task-executor's tasks: strict validation of API input (names,
 * process fields, unknown fields), the API encoding of api-contract.md §6.1 and the on-disk
 * record (task.json) with the executor's process identity. */
#include "executor/task.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

bool task_name_valid(const char *name)
{
    if (!name) return false;
    size_t n = strlen(name);
    if (n == 0 || n > TASK_NAME_MAX) return false;
    bool label_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (label_start || name[i - 1] == '-') return false;
            label_start = true;
            continue;
        }
        if (!alnum && c != '-') return false;
        if (label_start && !alnum) return false;
        label_start = false;
    }
    return !label_start && name[n - 1] != '-';
}

static bool is_string_array(json_t *v, bool need_nonempty)
{
    if (!json_is_array(v)) return false;
    if (need_nonempty && json_array_size(v) == 0) return false;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
    return true;
}

/* Validates and normalizes "process" into a fresh object. */
static int process_decode(json_t *p, json_t **out, char *err, size_t errlen)
{
    if (!json_is_object(p)) return fail(err, errlen, "process: must be an object");
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v)
    {
        if (strcmp(k, "command") && strcmp(k, "args") && strcmp(k, "env") &&
            strcmp(k, "workingDir") && strcmp(k, "timeoutSeconds"))
            return fail(err, errlen, "process: unknown field \"%s\"", k);
    }
    json_t *cmd = json_object_get(p, "command");
    if (!cmd || json_is_null(cmd) || (json_is_array(cmd) && json_array_size(cmd) == 0))
        return fail(err, errlen, "process.command: required (a non-empty array of strings)");
    if (!is_string_array(cmd, true))
        return fail(err, errlen, "process.command: must be a non-empty array of strings");
    if (json_string_length(json_array_get(cmd, 0)) == 0)
        return fail(err, errlen, "process.command[0]: must not be empty");
    json_t *args = json_object_get(p, "args");
    if (args && !json_is_null(args) && !is_string_array(args, false))
        return fail(err, errlen, "process.args: must be an array of strings");
    json_t *env = json_object_get(p, "env");
    json_t *envout = json_array();
    if (env && !json_is_null(env)) {
        if (!json_is_array(env)) {
            json_decref(envout);
            return fail(err, errlen, "process.env: must be an array of {name, value}");
        }
        size_t i;
        json_t *e;
        json_array_foreach(env, i, e)
        {
            const char *ek;
            json_t *ev;
            int bad = 0;
            if (!json_is_object(e))
                bad = fail(err, errlen, "process.env[%zu]: must be an object", i);
            else
                json_object_foreach(e, ek, ev)
                {
                    if (strcmp(ek, "name") && strcmp(ek, "value")) {
                        bad = fail(err, errlen, "process.env[%zu]: unknown field \"%s\"", i, ek);
                        break;
                    }
                }
            const char *name = bad ? NULL : json_string_value(json_object_get(e, "name"));
            json_t *val = bad ? NULL : json_object_get(e, "value");
            if (!bad && (!name || !*name || strchr(name, '=')))
                bad = fail(err, errlen,
                           "process.env[%zu].name: required, a non-empty string without '='", i);
            if (!bad && val && !json_is_null(val) && !json_is_string(val))
                bad = fail(err, errlen, "process.env[%zu].value: must be a string", i);
            if (bad) {
                json_decref(envout);
                return bad;
            }
            json_array_append_new(envout,
                                  json_pack("{s:s,s:s}", "name", name, "value",
                                            json_is_string(val) ? json_string_value(val) : ""));
        }
    }
    json_t *wd = json_object_get(p, "workingDir");
    if (wd && !json_is_null(wd) &&
        (!json_is_string(wd) || (json_string_length(wd) && json_string_value(wd)[0] != '/'))) {
        json_decref(envout);
        return fail(err, errlen, "process.workingDir: must be an absolute path");
    }
    json_t *to = json_object_get(p, "timeoutSeconds");
    long long tos = 0;
    if (to && !json_is_null(to)) {
        if (!json_is_integer(to) || json_integer_value(to) < 0 ||
            json_integer_value(to) > 100LL * 365 * 86400) {
            json_decref(envout);
            return fail(err, errlen, "process.timeoutSeconds: must be an integer >= 0");
        }
        tos = json_integer_value(to);
    }
    json_t *o = json_object();
    json_object_set(o, "command", cmd);
    if (args && json_is_array(args)) json_object_set(o, "args", args);
    if (json_array_size(envout)) json_object_set(o, "env", envout);
    json_decref(envout);
    if (json_is_string(wd) && json_string_length(wd)) json_object_set(o, "workingDir", wd);
    if (tos > 0) json_object_set_new(o, "timeoutSeconds", json_integer(tos));
    *out = o;
    return 0;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void task_set_reason(task_t *t, const char *reason, const char *message)
{
    free(t->reason);
    free(t->message);
    t->reason = xstrdup(reason);
    t->message = xstrdup(message);
}

/* Decodes name + process; other keys must be in extra (NULL-terminated) or an error. */
static int decode_common(json_t *in, const char *const *extra, task_t **out, char *err,
                         size_t errlen)
{
    if (!json_is_object(in)) return fail(err, errlen, "a task must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        bool ok = !strcmp(k, "name") || !strcmp(k, "process") || !strcmp(k, "processStatus") ||
                  !strcmp(k, "deletionTimestamp");
        for (size_t i = 0; !ok && extra && extra[i]; i++)
            ok = !strcmp(k, extra[i]);
        if (!ok) return fail(err, errlen, "unknown field \"%s\"", k);
    }
    json_t *name = json_object_get(in, "name");
    if (!name || json_is_null(name) || (json_is_string(name) && !json_string_length(name)))
        return fail(err, errlen, "name: required");
    if (!json_is_string(name)) return fail(err, errlen, "name: must be a string");
    if (!task_name_valid(json_string_value(name)))
        return fail(err, errlen,
                    "name: \"%.64s\" is not a valid task name (lowercase letters, digits, '-' and "
                    "'.', starting and ending with a letter or digit, at most 253 characters)",
                    json_string_value(name));
    json_t *proc = json_object_get(in, "process");
    if (!proc || json_is_null(proc)) return fail(err, errlen, "process: required");
    json_t *p = NULL;
    int rc = process_decode(proc, &p, err, errlen);
    if (rc) return rc;
    task_t *t = calloc(1, sizeof *t);
    t->name = strdup(json_string_value(name));
    t->process = p;
    *out = t;
    return 0;
}

int task_decode(json_t *in, task_t **out, char *err, size_t errlen)
{
    *out = NULL;
    return decode_common(in, NULL, out, err, errlen);
}

json_t *task_json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v)
        fail(err, errlen, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
    return v;
}

void task_list_free(task_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        task_free(v[i]);
    free(v);
}

int task_list_decode(const char *body, size_t len, task_t ***out, size_t *n, char *err,
                     size_t errlen)
{
    *out = NULL;
    *n = 0;
    json_t *arr = task_json_parse(body, len, err, errlen);
    if (!arr) return -EINVAL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return fail(err, errlen, "the body must be a JSON array of tasks");
    }
    size_t cnt = json_array_size(arr);
    task_t **v = calloc(cnt ? cnt : 1, sizeof *v);
    for (size_t i = 0; i < cnt; i++) {
        char e[400];
        int rc = task_decode(json_array_get(arr, i), &v[i], e, sizeof e);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (!strcmp(v[j]->name, v[i]->name))
                rc = fail(e, sizeof e, "duplicate task name \"%s\"", v[i]->name);
        if (rc) {
            fail(err, errlen, "task [%zu]: %s", i, e);
            task_list_free(v, i + 1);
            json_decref(arr);
            return rc;
        }
    }
    json_decref(arr);
    *out = v;
    *n = cnt;
    return 0;
}

static json_t *time_json(time_t t)
{
    char buf[40];
    jsonx_time_format(t, buf, sizeof buf);
    return json_string(buf);
}

json_t *task_encode(const task_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    if (t->deletion_timestamp)
        json_object_set_new(o, "deletionTimestamp", json_string(t->deletion_timestamp));
    json_object_set(o, "process", t->process);
    json_t *st = json_object(), *s = json_object();
    switch (t->state) {
    case TASK_WAITING:
        if (t->reason) json_object_set_new(s, "reason", json_string(t->reason));
        if (t->message) json_object_set_new(s, "message", json_string(t->message));
        json_object_set_new(st, "waiting", s);
        break;
    case TASK_RUNNING:
        if (t->started_at) json_object_set_new(s, "startedAt", time_json(t->started_at));
        json_object_set_new(st, "running", s);
        break;
    case TASK_TERMINATED:
        json_object_set_new(s, "exitCode", json_integer(t->exit_code));
        if (t->signal) json_object_set_new(s, "signal", json_integer(t->signal));
        if (t->reason) json_object_set_new(s, "reason", json_string(t->reason));
        if (t->message) json_object_set_new(s, "message", json_string(t->message));
        if (t->started_at) json_object_set_new(s, "startedAt", time_json(t->started_at));
        if (t->finished_at) json_object_set_new(s, "finishedAt", time_json(t->finished_at));
        json_object_set_new(st, "terminated", s);
        break;
    }
    json_object_set_new(o, "processStatus", st);
    return o;
}

json_t *task_record_encode(const task_t *t)
{
    json_t *o = task_encode(t);
    json_object_set_new(o, "executor",
                        json_pack("{s:I,s:I}", "pid", (json_int_t)t->pid, "pidStartTime",
                                  (json_int_t)t->pid_start));
    return o;
}

static time_t time_field(json_t *s, const char *key)
{
    time_t t = 0;
    const char *v = json_string_value(json_object_get(s, key));
    if (v && jsonx_time_parse(v, &t) != 0) t = 0;
    return t;
}

int task_record_decode(json_t *in, task_t **out, char *err, size_t errlen)
{
    static const char *const extra[] = {"executor", NULL};
    *out = NULL;
    task_t *t = NULL;
    int rc = decode_common(in, extra, &t, err, errlen);
    if (rc) return rc;
    const char *del = json_string_value(json_object_get(in, "deletionTimestamp"));
    if (del) t->deletion_timestamp = strdup(del);
    json_t *ps = json_object_get(in, "processStatus"), *s;
    if ((s = json_object_get(ps, "terminated"))) {
        t->state = TASK_TERMINATED;
        t->exit_code = (int)jsonx_int(s, "exitCode", 0);
        t->signal = (int)jsonx_int(s, "signal", 0);
        t->finished_at = time_field(s, "finishedAt");
    } else if ((s = json_object_get(ps, "running"))) {
        t->state = TASK_RUNNING;
    } else {
        s = json_object_get(ps, "waiting");
        t->state = TASK_WAITING;
    }
    t->started_at = time_field(s, "startedAt");
    task_set_reason(t, json_string_value(json_object_get(s, "reason")),
                    json_string_value(json_object_get(s, "message")));
    json_t *ex = json_object_get(in, "executor");
    t->pid = (long)jsonx_int(ex, "pid", 0);
    t->pid_start = (unsigned long long)jsonx_int(ex, "pidStartTime", 0);
    if (t->pid < 0) t->pid = 0;
    *out = t;
    return 0;
}

void task_free(task_t *t)
{
    if (!t) return;
    free(t->name);
    json_decref(t->process);
    free(t->deletion_timestamp);
    free(t->reason);
    free(t->message);
    free(t);
}
