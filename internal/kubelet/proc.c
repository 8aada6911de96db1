/* proc: container processes spawned with posix_spawn and reaped through a SIGCHLD watcher
 * (see proc.h). Zombies that are not ours (uv_spawn'd probes and pause processes) are left to
 * libuv: we only ever reap the pids we spawned. */
#include "kubelet/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct kl_procs {
    uv_signal_t sig;
    json_t *live; /* "pid" -> kl_proc_t* (as an integer) */
    bool closing, closed;
};

static void reap(kl_procs_t *ps, kl_proc_t *p);

static void reap_all_ours(kl_procs_t *ps)
{
    /* copy the pids first: exit callbacks may spawn or reap */
    size_t n = json_object_size(ps->live), i = 0;
    kl_proc_t **list = calloc(n + 1, sizeof *list);
    const char *k;
    json_t *v;
    json_object_foreach(ps->live, k, v) list[i++] = (kl_proc_t *)(intptr_t)json_integer_value(v);
    for (i = 0; i < n; i++)
        reap(ps, list[i]);
    free(list);
}

static void maybe_close(kl_procs_t *ps)
{
    if (ps->closing && !ps->closed && json_object_size(ps->live) == 0) {
        ps->closed = true;
        uv_close((uv_handle_t *)&ps->sig, NULL);
    }
}

static void reap(kl_procs_t *ps, kl_proc_t *p)
{
    int st;
    if (!p->alive || waitpid(p->pid, &st, WNOHANG) != p->pid) return;
    char key[24];
    snprintf(key, sizeof key, "%d", (int)p->pid);
    json_object_del(ps->live, key);
    if (json_object_size(ps->live) == 0 && !ps->closed) uv_unref((uv_handle_t *)&ps->sig);
    p->alive = false;
    p->exit_cb(p, WIFEXITED(st) ? WEXITSTATUS(st) : 0, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void on_sigchld(uv_signal_t *h, int signum)
{
    (void)signum;
    kl_procs_t *ps = h->data;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) break;
        char key[24];
        snprintf(key, sizeof key, "%d", (int)si.si_pid);
        json_t *v = json_object_get(ps->live, key);
        if (!v) { /* someone else's zombie is first in line: check each of ours */
            reap_all_ours(ps);
            break;
        }
        reap(ps, (kl_proc_t *)(intptr_t)json_integer_value(v));
    }
    maybe_close(ps);
}

kl_procs_t *kl_procs_new(uv_loop_t *loop)
{
    kl_procs_t *ps = calloc(1, sizeof *ps);
    ps->live = json_object();
    uv_signal_init(loop, &ps->sig);
    ps->sig.data = ps;
    uv_signal_start(&ps->sig, on_sigchld, SIGCHLD);
    uv_unref((uv_handle_t *)&ps->sig); /* live processes keep the loop alive, not the watcher */
    return ps;
}

int kl_proc_spawn(kl_procs_t *ps, kl_proc_t *p, const char *file, char *const argv[],
                  char *const envp[], const int fds[3], kl_proc_exit_fn exit_cb)
{
    if (ps->closing) return -ESHUTDOWN;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, fds[i], i);
        else
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
    }
    sigset_t all, none;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawn(&pid, file, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) return -rc;
    p->pid = pid;
    p->alive = true;
    p->exit_cb = exit_cb;
    char key[24];
    snprintf(key, sizeof key, "%d", (int)pid);
    json_object_set_new(ps->live, key, json_integer((json_int_t)(intptr_t)p));
    if (json_object_size(ps->live) == 1) uv_ref((uv_handle_t *)&ps->sig);
    return 0;
}

int kl_proc_kill(kl_proc_t *p, int sig)
{
    if (!p->alive) return -ESRCH;
    return kill(p->pid, sig) == 0 ? 0 : -errno;
}

size_t kl_procs_alive(const kl_procs_t *ps)
{
    return json_object_size(ps->live);
}

void kl_procs_close(kl_procs_t *ps)
{
    ps->closing = true;
    maybe_close(ps);
}

void kl_procs_free(kl_procs_t *ps)
{
    if (!ps) return;
    json_decref(ps->live);
    free(ps);
}
