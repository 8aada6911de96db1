/* task: the task-executor's task record (spec + status + the executor's private process record)
 * and its JSON codecs: the strict decoder for API input, the API encoder (api-contract.md §6.1)
 * and the on-disk record (task.json) that adds the process identity used for adoption. */
#ifndef EXECUTOR_TASK_H
#define EXECUTOR_TASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef enum task_state { TASK_WAITING = 0, TASK_RUNNING, TASK_TERMINATED } task_state_t;

typedef struct task {
    char *name;
    json_t *process;          /* the validated "process" object (owned; never NULL) */
    char *deletion_timestamp; /* RFC 3339, NULL unless the task is being deleted */
    task_state_t state;
    char *reason, *message;         /* waiting/terminated reason and message, NULL if none */
    int exit_code, signal;          /* terminated only */
    time_t started_at, finished_at; /* 0 = unset */
    /* the executor's record, in task.json only (never in the API) */
    long pid;                     /* the task's process group leader (shim), 0 if never started */
    unsigned long long pid_start; /* its start time in clock ticks after boot */
} task_t;

/* Maximum length of a task name (a DNS-1123 subdomain). */
#define TASK_NAME_MAX 253

/* True if name is a DNS-1123 subdomain: 1..253 of [a-z0-9-.], labels non-empty and starting
 * and ending with [a-z0-9]. So never "", ".", "..", "/" or an escape of the data directory. */
bool task_name_valid(const char *name);

/* Strict decode of one task from API input: unknown fields, wrong types, a missing name or
 * command are errors (err gets a message naming the field). processStatus and
 * deletionTimestamp are accepted and ignored (the executor owns them). Returns 0 and a new
 * task (caller frees with task_free), or -EINVAL. */
int task_decode(json_t *in, task_t **out, char *err, size_t errlen);
/* Decodes a JSON array of tasks (POST /setTasks): every element as task_decode, names unique.
 * On success *out is a malloc'd array of *n new tasks (free with task_list_free). */
int task_list_decode(const char *body, size_t len, task_t ***out, size_t *n, char *err,
                     size_t errlen);
void task_list_free(task_t **v, size_t n);
/* Parses a request body as one JSON value (duplicate keys rejected); NULL with err set. */
json_t *task_json_parse(const char *body, size_t len, char *err, size_t errlen);

/* The API form (§6.1). New reference. */
json_t *task_encode(const task_t *t);
/* The on-disk record: the API form plus "executor":{"pid","pidStartTime"}. New reference. */
json_t *task_record_encode(const task_t *t);
/* Decodes a record written by task_record_encode (status included). 0 or -EINVAL. */
int task_record_decode(json_t *in, task_t **out, char *err, size_t errlen);

/* Replaces reason/message (copies; NULL clears). */
void task_set_reason(task_t *t, const char *reason, const char *message);
void task_free(task_t *t);

#endif
