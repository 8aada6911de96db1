/* executor: the task-executor's core on one libuv loop: the task set (at most one task runs at a
 * time), process lifecycle (spawn of the shim, exit, timeout and stop: SIGTERM to the process
 * group, a grace period, SIGKILL to the group), state on disk, restart recovery (adopts a live
 * task by pid + start time, reports finished ones, never runs a task twice) and a version
 * counter that moves on every change (long-poll). Routes call the operations below. */
#ifndef EXECUTOR_EXECUTOR_H
#define EXECUTOR_EXECUTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "executor/task.h"

typedef struct executor_config {
    const char *data_dir;       /* created if missing */
    const char *self_exe;       /* the binary exec'd in the shim mode (enter.h) */
    const char *main_container; /* sidecar mode: the main container's name; NULL: own container */
    int grace_ms;               /* stop/timeout grace before SIGKILL (0 = 10000) */
} executor_config_t;

typedef struct executor executor_t;

/* Creates the executor and recovers the tasks under data_dir (corrupt records are reported in
 * the log and listed as terminated with reason StateCorrupt; never fatal). 0, or a negative
 * errno with a message (data_dir unusable). */
int executor_new(uv_loop_t *loop, const executor_config_t *cfg, executor_t **out, char *err,
                 size_t errlen);
/* Stops watching processes (tasks keep running; a restarted executor adopts them) and frees
 * everything once the loop has closed the handles. */
void executor_close(executor_t *ex);

/* Errors of the operations: -EEXIST (name taken), -EBUSY (another task active: one at a time),
 * -ENOENT, -EIO (disk); err gets a message. */
/* The desired set (POST /setTasks): steals tasks[] elements (and frees the array). Tasks not in
 * it are stopped and removed; new ones are started (or wait for the active one to stop). */
int executor_set_tasks(executor_t *ex, task_t **tasks, size_t n, char *err, size_t errlen);
/* POST /tasks: steals t on success and on error. */
int executor_create(executor_t *ex, task_t *t, char *err, size_t errlen);
/* DELETE /tasks/{name}: stops the task (if running), then removes it. */
int executor_delete(executor_t *ex, const char *name);
/* The task's API JSON (new reference) or NULL. */
json_t *executor_get_json(executor_t *ex, const char *name);
/* Every task, API JSON array (new reference). */
json_t *executor_list_json(executor_t *ex);
/* Moves on every change of any task; starts at the start-up time in ms, so it grows across
 * restarts too. */
uint64_t executor_version(const executor_t *ex);
/* cb runs (on the loop) after every change. One subscriber. */
void executor_on_change(executor_t *ex, void (*cb)(void *ud), void *ud);

#endif
