/* task_store: the task-executor's state on disk: <data-dir>/<task-name>/{task.json, stdout.log,
 * stderr.log, exit.json}. task.json and exit.json are written atomically (temp file, fsync,
 * rename, fsync of the directory). Names are validated before any path is built, so no name
 * reaches outside the data directory. */
#ifndef EXECUTOR_TASK_STORE_H
#define EXECUTOR_TASK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "executor/task.h"

#define TASK_FILE   "task.json"
#define EXIT_FILE   "exit.json"
#define STDOUT_FILE "stdout.log"
#define STDERR_FILE "stderr.log"

/* <data_dir>/<name>[/<file>] into buf (file may be NULL). -EINVAL for an invalid task name or
 * a file name with '/', -ENAMETOOLONG if it does not fit. */
int task_store_path(const char *data_dir, const char *name, const char *file, char *buf,
                    size_t len);
/* Creates the task's directory if needed and writes its record (task.json). */
int task_store_save(const char *data_dir, const task_t *t, bool durable);
/* Reads <dir>/task.json (dirfd an open task directory). 0 and a new task, -ENOENT, or -EINVAL
 * with a message for a record that does not parse. */
int task_store_load_at(int dirfd, task_t **out, char *err, size_t errlen);

/* Calls fn for every entry of data_dir that is a directory with a valid task name: with the
 * loaded task (the callee owns it) or NULL and a message when task.json is missing or corrupt.
 * Leftover temp files of torn writes are removed. 0 or a negative errno (data_dir unreadable). */
typedef void (*task_store_visit_fn)(const char *name, task_t *t, const char *err, void *ud);
int task_store_scan(const char *data_dir, task_store_visit_fn fn, void *ud);
/* Removes the task's directory and everything in it. 0, or a negative errno. */
int task_store_remove(const char *data_dir, const char *name);

/* The exit record the task's shim writes when the process ends (exit.json). */
typedef struct task_exit {
    int exit_code, signal;
    char reason[64];
    char message[512];
    time_t finished_at;
} task_exit_t;
int task_exit_write_at(int dirfd, const task_exit_t *e);
/* 0 and *out, -ENOENT if there is none, -EINVAL if it does not parse. */
int task_exit_read(const char *data_dir, const char *name, task_exit_t *out);

#endif
