/* proc: the kubelet's container processes without fork(): posix_spawn (glibc: clone with
 * CLONE_VM|CLONE_VFORK, so nothing of the large parent is copied and the child only execs),
 * and reaping through one SIGCHLD watcher on the loop. uv_spawn forks, which copies the page
 * tables of localcluster for every container; this is the hot path of pod start-up. */
#ifndef KUBELET_PROC_H
#define KUBELET_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

typedef struct kl_procs kl_procs_t;
typedef struct kl_proc kl_proc_t;

/* exit_status: the exit code (0 if killed); term_signal: the signal that killed it, or 0. */
typedef void (*kl_proc_exit_fn)(kl_proc_t *p, int64_t exit_status, int term_signal);

struct kl_proc {
    pid_t pid;
    bool alive; /* spawned and not yet reaped */
    kl_proc_exit_fn exit_cb;
    void *data;
};

/* The SIGCHLD watcher on loop. */
kl_procs_t *kl_procs_new(uv_loop_t *loop);
/* Spawns file with argv/envp; stdio fds (-1 = /dev/null) become 0, 1, 2 in the child, every
 * signal disposition is reset and the mask emptied. 0, or a negative errno. exit_cb runs on
 * the loop once the process is reaped. */
int kl_proc_spawn(kl_procs_t *ps, kl_proc_t *p, const char *file, char *const argv[],
                  char *const envp[], const int fds[3], kl_proc_exit_fn exit_cb);
/* kill(2) on a live process: 0 or a negative errno (-ESRCH once reaped). */
int kl_proc_kill(kl_proc_t *p, int sig);
size_t kl_procs_alive(const kl_procs_t *ps);
/* Closes the watcher once no process is left (now, or after the last exit). */
void kl_procs_close(kl_procs_t *ps);
/* Frees it (after the loop has run out). */
void kl_procs_free(kl_procs_t *ps);

#endif
