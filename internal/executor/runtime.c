/* runtime: the executor core (executor.h): the task set, spawning the shim for the one active
 * task (posix_spawn: vfork semantics, no copy of the loop's page tables), its exit (a pidfd on
 * the loop, reaped with waitid; the same for an adopted task), timeout and stop (SIGTERM to the
 * group, grace, SIGKILL to the group), persistence and restart recovery. */
#include "executor/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "executor/enter.h"
#include "executor/finder.h"
#include "executor/task_store.h"

enum { STOP_NONE = 0, STOP_TIMEOUT, STOP_DELETE };

typedef struct entry {
    task_t *t;
    int stop_reason;
} entry_t;

struct executor {
    uv_loop_t *loop;
    char *data_dir, *self_exe, *main;
    int grace_ms;
    entry_t **v;
    size_t n, cap;
    entry_t *active; /* the task whose process lives */
    uv_poll_t *poll; /* its pidfd (the shim we spawned, or the adopted process) */
    int pidfd;
    uv_timer_t timer; /* timeout, then the stop grace period */
    bool in_grace;
    uint64_t version;
    void (*cb)(void *);
    void *cb_ud;
    int open_handles;
    bool closing;
    /* directories of removed tasks, deleted by flush_removals once the operation that removed
     * them has started what it starts (keeps unlinks off the dispatch path) */
    char **gone;
    size_t ngone, gonecap;
};

static void schedule(executor_t *ex);

static void changed(executor_t *ex)
{
    ex->version++;
    if (ex->cb) ex->cb(ex->cb_ud);
}

static void persist(executor_t *ex, entry_t *e, bool durable)
{
    int rc = task_store_save(ex->data_dir, e->t, durable);
    if (rc) log_error("cannot write task state", "task", e->t->name, "error", strerror(-rc));
}

static ssize_t find(executor_t *ex, const char *name)
{
    for (size_t i = 0; i < ex->n; i++)
        if (!strcmp(ex->v[i]->t->name, name)) return (ssize_t)i;
    return -1;
}

static entry_t *add(executor_t *ex, task_t *t)
{
    if (ex->n == ex->cap) {
        ex->cap = ex->cap ? ex->cap * 2 : 4;
        ex->v = realloc(ex->v, ex->cap * sizeof *ex->v);
    }
    entry_t *e = calloc(1, sizeof *e);
    e->t = t;
    ex->v[ex->n++] = e;
    return e;
}

static void flush_removals(executor_t *ex)
{
    for (size_t i = 0; i < ex->ngone; i++) {
        int rc = task_store_remove(ex->data_dir, ex->gone[i]);
        if (rc && rc != -ENOENT)
            log_error("cannot remove a task's directory", "task", ex->gone[i], "error",
                      strerror(-rc));
        free(ex->gone[i]);
    }
    ex->ngone = 0;
}

/* Drops the task from the set. A finished task's directory goes at the next flush_removals
 * (every operation ends with one, after what it starts): if the executor dies before that, the
 * task reappears as finished, which is harmless. Any other task's directory goes now, so a
 * removed waiting task can never come back and run. A name cannot be reused before its flush:
 * names are unique in the set and each operation that frees one flushes before returning. */
static void remove_at(executor_t *ex, size_t i)
{
    entry_t *e = ex->v[i];
    if (e->t->state == TASK_TERMINATED && ex->ngone == ex->gonecap) {
        size_t cap = ex->gonecap ? ex->gonecap * 2 : 4;
        char **ng = realloc(ex->gone, cap * sizeof *ng);
        if (ng) {
            ex->gone = ng;
            ex->gonecap = cap;
        }
    }
    char *name =
        e->t->state == TASK_TERMINATED && ex->ngone < ex->gonecap ? strdup(e->t->name) : NULL;
    if (name) {
        ex->gone[ex->ngone++] = name;
    } else {
        int rc = task_store_remove(ex->data_dir, e->t->name);
        if (rc && rc != -ENOENT)
            log_error("cannot remove a task's directory", "task", e->t->name, "error",
                      strerror(-rc));
    }
    log_info("task removed", "task", e->t->name);
    task_free(e->t);
    free(e);
    memmove(ex->v + i, ex->v + i + 1, (ex->n - i - 1) * sizeof *ex->v);
    ex->n--;
}

static bool is_live(const entry_t *e)
{
    return e->t->state != TASK_TERMINATED && !e->t->deletion_timestamp;
}

static void terminate(task_t *t, int code, int sig, const char *reason, const char *msg)
{
    t->state = TASK_TERMINATED;
    t->exit_code = code;
    t->signal = sig;
    t->finished_at = time(NULL);
    task_set_reason(t, reason, msg && *msg ? msg : NULL);
}

static void kill_group(pid_t pgid, int sig)
{
    if (pgid <= 1) return;
    if (kill(-pgid, sig) != 0 && errno == ESRCH) kill(pgid, sig);
}

/* ---- end of the active task ---- */

static void on_handle_closed(uv_handle_t *h)
{
    executor_t *ex = h->data;
    free(h);
    if (--ex->open_handles == 0 && ex->closing) {
        free(ex->v);
        free(ex->gone);
        free(ex->data_dir);
        free(ex->self_exe);
        free(ex->main);
        free(ex);
    }
}

static void finish_active(executor_t *ex, bool have_status, int64_t status, int term_sig)
{
    entry_t *e = ex->active;
    if (!e) return;
    task_t *t = e->t;
    ex->active = NULL;
    uv_timer_stop(&ex->timer);
    ex->in_grace = false;
    kill_group((pid_t)t->pid, SIGKILL); /* what the task left behind in its group */
    task_exit_t x;
    char msg[600];
    if (task_exit_read(ex->data_dir, t->name, &x) == 0) {
        terminate(t, x.exit_code, x.signal, x.reason[0] ? x.reason : "Failed", x.message);
        if (x.finished_at) t->finished_at = x.finished_at;
    } else if (have_status) {
        int code = term_sig ? 128 + term_sig : (int)status;
        snprintf(msg, sizeof msg, term_sig ? "killed by signal %d" : "exited with code %d",
                 term_sig ? term_sig : code);
        terminate(t, code, term_sig, code == 0 ? "Succeeded" : "Failed", code ? msg : NULL);
    } else if (e->stop_reason) {
        terminate(t, 137, SIGKILL, "Failed", "killed");
    } else {
        terminate(t, 137, 0, "ProcessCrashed", "the task's process ended without an exit record");
    }
    if (e->stop_reason == STOP_TIMEOUT) {
        long long to = jsonx_int(t->process, "timeoutSeconds", 0);
        snprintf(msg, sizeof msg,
                 "the task ran longer than its timeoutSeconds (%lld) and was "
                 "stopped",
                 to);
        t->exit_code = 137;
        task_set_reason(t, "TaskTimeout", msg);
    } else if (e->stop_reason == STOP_DELETE) {
        task_set_reason(t, "TaskStopped", "the task was stopped because it was deleted");
    }
    char code[16];
    snprintf(code, sizeof code, "%d", t->exit_code);
    log_info("task finished", "task", t->name, "exitCode", code, "reason", t->reason);
    if (t->deletion_timestamp) {
        ssize_t i = find(ex, t->name);
        if (i >= 0) remove_at(ex, (size_t)i);
    } else {
        persist(ex, e, true);
    }
    changed(ex);
    schedule(ex);
    flush_removals(ex);
}

static void on_pidfd(uv_poll_t *p, int status, int events)
{
    executor_t *ex = p->data;
    /* our child (the shim we spawned): reap it and take its status; an adopted process is not
     * our child (ECHILD) and its exit record says how it ended */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc;
    while ((rc = waitid((idtype_t)P_PIDFD, (id_t)ex->pidfd, &si, WEXITED | WNOHANG)) != 0 &&
           errno == EINTR) {
    }
    if (rc == 0 && si.si_pid == 0) return; /* readable but not exited yet: keep watching */
    bool have = rc == 0;
    int code = have && si.si_code == CLD_EXITED ? si.si_status : 0;
    int sig = have && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) ? si.si_status : 0;
    uv_poll_stop(p);
    uv_close((uv_handle_t *)p, on_handle_closed);
    close(ex->pidfd);
    ex->pidfd = -1;
    ex->poll = NULL;
    finish_active(ex, have, code, sig);
}

/* Watches the active task's process through a pidfd. 0 or a negative errno. */
static int watch_pid(executor_t *ex, entry_t *e, pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return -errno;
    uv_poll_t *p = calloc(1, sizeof *p);
    int rc = p ? uv_poll_init(ex->loop, p, fd) : UV_ENOMEM;
    if (rc) {
        free(p);
        close(fd);
        return rc;
    }
    p->data = ex;
    ex->open_handles++;
    ex->poll = p;
    ex->pidfd = fd;
    ex->active = e;
    uv_poll_start(p, UV_READABLE, on_pidfd);
    return 0;
}

/* ---- timeout and stop ---- */

static void on_timer(uv_timer_t *h)
{
    executor_t *ex = h->data;
    entry_t *e = ex->active;
    if (!e) return;
    if (ex->in_grace) {
        log_warn("task did not stop within the grace period: SIGKILL to its process group", "task",
                 e->t->name);
        kill_group((pid_t)e->t->pid, SIGKILL);
        return;
    }
    log_info("task timed out: SIGTERM to its process group", "task", e->t->name);
    e->stop_reason = STOP_TIMEOUT;
    kill_group((pid_t)e->t->pid, SIGTERM);
    ex->in_grace = true;
    uv_timer_start(&ex->timer, on_timer, (uint64_t)ex->grace_ms, 0);
}

static void stop_active(executor_t *ex, int reason)
{
    entry_t *e = ex->active;
    if (!e) return;
    if (!e->stop_reason || reason == STOP_DELETE) e->stop_reason = reason;
    if (ex->in_grace) return; /* already stopping */
    kill_group((pid_t)e->t->pid, SIGTERM);
    ex->in_grace = true;
    uv_timer_start(&ex->timer, on_timer, (uint64_t)ex->grace_ms, 0);
}

static void arm_timeout(executor_t *ex, entry_t *e, bool adopted)
{
    long long to = jsonx_int(e->t->process, "timeoutSeconds", 0);
    if (to <= 0) return;
    long long left_ms = to * 1000;
    if (adopted && e->t->started_at) {
        long long el = ((long long)time(NULL) - (long long)e->t->started_at) * 1000;
        left_ms = to * 1000 - el;
        if (left_ms < 0) left_ms = 0;
        if (left_ms > to * 1000) left_ms = to * 1000;
    }
    ex->in_grace = false;
    uv_timer_start(&ex->timer, on_timer, (uint64_t)left_ms, 0);
}

/* ---- start ---- */

static int open_log(executor_t *ex, const char *name, const char *file)
{
    char p[4096];
    if (task_store_path(ex->data_dir, name, file, p, sizeof p)) return -1;
    return open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void start(executor_t *ex, entry_t *e)
{
    task_t *t = e->t;
    t->state = TASK_RUNNING;
    t->started_at = time(NULL);
    t->pid = 0;
    t->pid_start = 0;
    task_set_reason(t, NULL, NULL);
    char err[600];
    int rc = task_store_save(ex->data_dir, t, false);
    if (rc) {
        snprintf(err, sizeof err, "cannot write the task's state under %s: %s", ex->data_dir,
                 strerror(-rc));
        terminate(t, 128, 0, "StartError", err);
        log_error("task not started", "task", t->name, "error", err);
        return;
    }
    char dir[4096];
    task_store_path(ex->data_dir, t->name, NULL, dir, sizeof dir);
    int ofd = open_log(ex, t->name, STDOUT_FILE), efd = open_log(ex, t->name, STDERR_FILE);
    char *args[] = {ex->self_exe, ENTER_ARG, dir, ex->main, NULL};
    /* posix_spawn (vfork semantics): the shim in a new session (it leads the task's process
     * group), stdin /dev/null, stdout/stderr the log files, every signal at its default and none
     * blocked. Every other descriptor of the executor is close-on-exec. */
    pid_t pid = 0;
    const char *what = "log files";
    if (ofd < 0 || efd < 0) {
        rc = errno;
    } else {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t all, none;
        sigfillset(&all);
        sigemptyset(&none);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, ofd, 1);
        posix_spawn_file_actions_adddup2(&fa, efd, 2);
        posix_spawnattr_init(&at);
        posix_spawnattr_setsigdefault(&at, &all);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                          POSIX_SPAWN_SETSIGMASK);
        what = "spawn";
        rc = posix_spawn(&pid, ex->self_exe, &fa, &at, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (rc == 0 && (rc = -watch_pid(ex, e, pid)) != 0) {
            /* cannot watch it: stop it rather than run a task nobody reports */
            what = "watching the process";
            kill_group(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    if (ofd >= 0) close(ofd);
    if (efd >= 0) close(efd);
    if (rc) {
        snprintf(err, sizeof err, "cannot start the task: %s: %s", what, strerror(rc));
        terminate(t, 128, 0, "StartError", err);
        persist(ex, e, true);
        log_error("task not started", "task", t->name, "error", err);
        return;
    }
    t->pid = pid;
    finder_start_time(pid, &t->pid_start);
    /* Durable only now, while the shim starts (the dispatch path has no fsync). Crash windows:
     * if the executor dies between the spawn and this write, the record written above (page
     * cache, survives a process crash) says "running, pid unknown": a restart reports the task
     * ProcessCrashed (or its exit record), never starts it again, and cannot adopt it (it may
     * still run, unwatched, as it could before between spawn and persist). A machine crash in
     * that window may lose the unsynced record, but takes the task's processes with it. */
    persist(ex, e, true);
    arm_timeout(ex, e, false);
    char pids[24];
    snprintf(pids, sizeof pids, "%d", (int)pid);
    log_info("task started", "task", t->name, "pid", pids);
}

static void schedule(executor_t *ex)
{
    if (ex->active || ex->closing) return;
    for (size_t i = 0; i < ex->n; i++) {
        entry_t *e = ex->v[i];
        if (e->t->state == TASK_WAITING && !e->t->deletion_timestamp) {
            start(ex, e);
            changed(ex);
            if (ex->active) return;
        }
    }
}

/* ---- recovery ---- */

static void on_scanned(const char *name, task_t *t, const char *err, void *ud)
{
    executor_t *ex = ud;
    if (!t) {
        log_error("task state is corrupt; the task is reported as StateCorrupt", "task", name,
                  "error", err);
        t = calloc(1, sizeof *t);
        t->name = strdup(name);
        t->process = json_pack("{s:[]}", "command");
        terminate(t, 128, 0, "StateCorrupt", err);
    }
    add(ex, t);
}

static int adopt(executor_t *ex, entry_t *e)
{
    int rc = watch_pid(ex, e, (pid_t)e->t->pid);
    if (rc) return rc;
    arm_timeout(ex, e, true);
    if (e->t->deletion_timestamp) stop_active(ex, STOP_DELETE);
    log_info("adopted a running task", "task", e->t->name);
    return 0;
}

static void recover(executor_t *ex)
{
    for (size_t i = 0; i < ex->n; i++) {
        entry_t *e = ex->v[i];
        task_t *t = e->t;
        if (t->state != TASK_RUNNING) continue;
        unsigned long long st = 0;
        bool alive = t->pid > 1 && finder_start_time((pid_t)t->pid, &st) == 0 && st == t->pid_start;
        if (alive && !ex->active && adopt(ex, e) == 0) continue;
        task_exit_t x;
        if (task_exit_read(ex->data_dir, t->name, &x) == 0) {
            terminate(t, x.exit_code, x.signal, x.reason, x.message);
            if (x.finished_at) t->finished_at = x.finished_at;
        } else {
            terminate(t, 137, 0, "ProcessCrashed",
                      alive ? "a second running task was found at start-up; it is not watched"
                            : "the task's process is gone and left no exit record (the executor "
                              "was down)");
        }
        log_info("recovered a finished task", "task", t->name, "reason", t->reason);
        persist(ex, e, true);
    }
    for (size_t i = ex->n; i-- > 0;)
        if (ex->v[i]->t->deletion_timestamp && ex->v[i] != ex->active) remove_at(ex, i);
}

int executor_new(uv_loop_t *loop, const executor_config_t *cfg, executor_t **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    if (mkdir(cfg->data_dir, 0755) != 0 && errno != EEXIST) {
        int rc = -errno;
        snprintf(err, errlen, "cannot create the data directory %s: %s", cfg->data_dir,
                 strerror(errno));
        return rc;
    }
    executor_t *ex = calloc(1, sizeof *ex);
    ex->loop = loop;
    ex->data_dir = strdup(cfg->data_dir);
    ex->self_exe = strdup(cfg->self_exe);
    ex->main = cfg->main_container ? strdup(cfg->main_container) : NULL;
    ex->grace_ms = cfg->grace_ms > 0 ? cfg->grace_ms : 10000;
    ex->pidfd = -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ex->version = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    int rc = task_store_scan(ex->data_dir, on_scanned, ex);
    if (rc) {
        snprintf(err, errlen, "cannot read the data directory %s: %s", cfg->data_dir,
                 strerror(-rc));
        for (size_t i = 0; i < ex->n; i++) {
            task_free(ex->v[i]->t);
            free(ex->v[i]);
        }
        free(ex->v);
        free(ex->gone);
        free(ex->data_dir);
        free(ex->self_exe);
        free(ex->main);
        free(ex);
        return rc;
    }
    uv_timer_init(loop, &ex->timer);
    ex->timer.data = ex;
    recover(ex);
    schedule(ex);
    flush_removals(ex);
    *out = ex;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    executor_t *ex = h->data;
    if (--ex->open_handles == 0) {
        free(ex->v);
        free(ex->gone);
        free(ex->data_dir);
        free(ex->self_exe);
        free(ex->main);
        free(ex);
    }
}

void executor_close(executor_t *ex)
{
    if (!ex || ex->closing) return;
    ex->closing = true;
    flush_removals(ex);
    for (size_t i = 0; i < ex->n; i++) {
        task_free(ex->v[i]->t);
        free(ex->v[i]);
    }
    ex->n = 0;
    ex->active = NULL;
    if (ex->poll) {
        uv_poll_stop(ex->poll);
        uv_close((uv_handle_t *)ex->poll, on_handle_closed);
        close(ex->pidfd);
        ex->poll = NULL;
    }
    ex->open_handles++;
    uv_close((uv_handle_t *)&ex->timer, on_timer_closed);
}

/* ---- operations ---- */

static void delete_at(executor_t *ex, size_t i)
{
    entry_t *e = ex->v[i];
    if (e != ex->active) {
        remove_at(ex, i);
        return;
    }
    if (!e->t->deletion_timestamp) {
        char ts[40];
        jsonx_time_format(time(NULL), ts, sizeof ts);
        e->t->deletion_timestamp = strdup(ts);
        persist(ex, e, true);
    }
    log_info("stopping task", "task", e->t->name);
    stop_active(ex, STOP_DELETE);
}

int executor_set_tasks(executor_t *ex, task_t **tasks, size_t n, char *err, size_t errlen)
{
    int rc = 0;
    size_t live = 0;
    char names[512] = "";
    for (size_t i = 0; i < n && !rc; i++) {
        ssize_t j = find(ex, tasks[i]->name);
        if (j >= 0 && ex->v[j]->t->deletion_timestamp) {
            snprintf(err, errlen, "task \"%s\" is being deleted; send it again once it is gone",
                     tasks[i]->name);
            rc = -EBUSY;
        }
        if (j < 0 || is_live(ex->v[j])) {
            live++;
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s\"%s\"", l ? ", " : "", tasks[i]->name);
        }
    }
    if (!rc && live > 1) {
        snprintf(err, errlen,
                 "an executor runs one task at a time; this set would have %zu "
                 "active tasks: %s",
                 live, names);
        rc = -EBUSY;
    }
    if (rc) {
        task_list_free(tasks, n);
        return rc;
    }
    bool any = false;
    for (size_t i = ex->n; i-- > 0;) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = !strcmp(ex->v[i]->t->name, tasks[k]->name);
        if (!keep && !ex->v[i]->t->deletion_timestamp) {
            delete_at(ex, i);
            any = true;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (find(ex, tasks[k]->name) >= 0) {
            task_free(tasks[k]);
            continue;
        }
        entry_t *e = add(ex, tasks[k]);
        log_info("task accepted", "task", e->t->name);
        any = true;
        if (ex->active) {
            task_set_reason(e->t, "Pending", "waiting for the previous task to stop");
            persist(ex, e, true);
        }
    }
    free(tasks);
    schedule(ex);
    flush_removals(ex);
    if (any) changed(ex);
    return 0;
}

int executor_create(executor_t *ex, task_t *t, char *err, size_t errlen)
{
    if (find(ex, t->name) >= 0) {
        snprintf(err, errlen, "task \"%s\" already exists", t->name);
        task_free(t);
        return -EEXIST;
    }
    for (size_t i = 0; i < ex->n; i++)
        if (is_live(ex->v[i])) {
            snprintf(err, errlen,
                     "task \"%s\" is still active; an executor runs one task at a "
                     "time",
                     ex->v[i]->t->name);
            task_free(t);
            return -EBUSY;
        }
    entry_t *e = add(ex, t);
    log_info("task accepted", "task", e->t->name);
    if (ex->active) {
        task_set_reason(e->t, "Pending", "waiting for the previous task to stop");
        persist(ex, e, true);
    }
    schedule(ex);
    flush_removals(ex);
    changed(ex);
    return 0;
}

int executor_delete(executor_t *ex, const char *name)
{
    ssize_t i = find(ex, name);
    if (i < 0) return -ENOENT;
    delete_at(ex, (size_t)i);
    flush_removals(ex);
    changed(ex);
    return 0;
}

json_t *executor_get_json(executor_t *ex, const char *name)
{
    ssize_t i = find(ex, name);
    return i < 0 ? NULL : task_encode(ex->v[i]->t);
}

json_t *executor_list_json(executor_t *ex)
{
    json_t *a = json_array();
    for (size_t i = 0; i < ex->n; i++)
        json_array_append_new(a, task_encode(ex->v[i]->t));
    return a;
}

uint64_t executor_version(const executor_t *ex)
{
    return ex->version;
}

void executor_on_change(executor_t *ex, void (*cb)(void *ud), void *ud)
{
    ex->cb = cb;
    ex->cb_ud = ud;
}
