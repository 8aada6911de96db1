/* enter: the task shim (hidden --internal-enter mode): setns into the main container, fork and
 * exec the task with the target's credentials and environment, wait, write the exit record. */
#include "executor/enter.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "executor/finder.h"
#include "executor/task.h"
#include "executor/task_store.h"

extern char **environ;

static int dir_fd = -1;

static void finish(int code, int sig, const char *reason, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));
static void finish(int code, int sig, const char *reason, const char *fmt, ...)
{
    task_exit_t e = {.exit_code = code, .signal = sig, .finished_at = time(NULL)};
    snprintf(e.reason, sizeof e.reason, "%s", reason);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e.message, sizeof e.message, fmt, ap);
        va_end(ap);
    }
    if (dir_fd >= 0 && task_exit_write_at(dir_fd, &e) != 0)
        dprintf(2, "task-executor: cannot write the exit record: %s\n", strerror(errno));
    _exit(code);
}

/* Appends "k=v" to env, replacing an entry with the same name. */
static void env_put(char ***env, size_t *n, const char *kv)
{
    size_t klen = strcspn(kv, "=") + 1;
    for (size_t i = 0; i < *n; i++)
        if (!strncmp((*env)[i], kv, klen)) {
            (*env)[i] = (char *)kv;
            return;
        }
    *env = realloc(*env, (*n + 2) * sizeof **env);
    (*env)[(*n)++] = (char *)kv;
    (*env)[*n] = NULL;
}

static void enter_ns(pid_t pid)
{
    static const struct {
        const char *name;
        int type;
    } nss[] = {{"ipc", CLONE_NEWIPC},
               {"uts", CLONE_NEWUTS},
               {"net", CLONE_NEWNET},
               {"pid", CLONE_NEWPID},
               {"mnt", CLONE_NEWNS}};
    int fds[5];
    for (int i = 0; i < 5; i++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, nss[i].name);
        fds[i] = open(p, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
            finish(128, 0, "StartError", "opening %s: %s (the executor needs SYS_PTRACE)", p,
                   strerror(errno));
    }
    for (int i = 0; i < 5; i++) {
        if (setns(fds[i], nss[i].type) != 0)
            finish(128, 0, "StartError",
                   "entering the main container's %s namespace: %s (the executor needs "
                   "SYS_ADMIN and SYS_CHROOT)",
                   nss[i].name, strerror(errno));
        close(fds[i]);
    }
}

static const int shim_ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};

static void child_fail(int pipefd, int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void child_fail(int pipefd, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
    ssize_t w = write(pipefd, msg, (size_t)n);
    (void)w;
    _exit(code);
}

void enter_main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "task-executor: %s is started by the executor, not by hand\n", ENTER_ARG);
        _exit(2);
    }
    const char *main_name = argc > 3 && argv[3][0] ? argv[3] : NULL;
    prctl(PR_SET_NAME, "te-shim");
    /* the whole group gets the executor's SIGTERM: the task handles it, the shim waits. The shim
     * starts with every disposition at its default (the executor's spawn resets them) and changes
     * only these, which the task's child restores. */
    for (size_t k = 0; k < sizeof shim_ignored / sizeof shim_ignored[0]; k++)
        signal(shim_ignored[k], SIG_IGN);
    dir_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        fprintf(stderr, "task-executor: %s: %s\n", argv[2], strerror(errno));
        _exit(128);
    }
    /* jansson would read /dev/urandom for its hash seed; the shim only parses our own record */
    json_object_seed(((size_t)getpid() << 16) ^ (size_t)time(NULL) ^ 1);
    char err[512];
    task_t *t = NULL;
    if (task_store_load_at(dir_fd, &t, err, sizeof err) != 0)
        finish(128, 0, "StartError", "%s", err);

    /* argv of the task */
    json_t *cmd = json_object_get(t->process, "command"),
           *args = json_object_get(t->process, "args");
    size_t nc = json_array_size(cmd), na = json_array_size(args);
    char **av = calloc(nc + na + 1, sizeof *av);
    for (size_t i = 0; i < nc; i++)
        av[i] = (char *)json_string_value(json_array_get(cmd, i));
    for (size_t i = 0; i < na; i++)
        av[nc + i] = (char *)json_string_value(json_array_get(args, i));

    /* environment and credentials */
    char **env = NULL;
    size_t nenv = 0;
    finder_target_t tg = {0};
    const char *cwd = json_string_value(json_object_get(t->process, "workingDir"));
    if (main_name) {
        if (finder_find_main(main_name, getpid(), &tg, err, sizeof err) != 0)
            finish(128, 0, "StartError", "main container \"%s\" not found: %s", main_name, err);
        for (size_t i = 0; i < tg.nenv; i++)
            env_put(&env, &nenv, tg.env[i]);
        if (!cwd) cwd = tg.cwd[0] ? tg.cwd : "/";
    } else {
        for (size_t i = 0; environ[i]; i++)
            env_put(&env, &nenv, environ[i]);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(t->process, "env"), i, e)
    {
        const char *k = json_string_value(json_object_get(e, "name"));
        const char *v = json_string_value(json_object_get(e, "value"));
        size_t l = strlen(k) + strlen(v ? v : "") + 2;
        char *kv = malloc(l);
        snprintf(kv, l, "%s=%s", k, v ? v : "");
        env_put(&env, &nenv, kv);
    }
    if (!env) env = calloc(1, sizeof *env);
    if (main_name) enter_ns(tg.pid);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) finish(128, 0, "StartError", "pipe: %s", strerror(errno));
    /* vfork: the shim is suspended until the task's exec (or failure), which is what it would wait
     * for anyway, and no page tables are copied. The child touches only its own locals, environ
     * (the shim never reads it again) and per-process state (dispositions, mask, cwd, ids), then
     * execs or _exits; pfd is close-on-exec. */
    pid_t child = vfork();
    if (child < 0) finish(128, 0, "StartError", "fork: %s", strerror(errno));
    if (child == 0) {
        for (size_t k = 0; k < sizeof shim_ignored / sizeof shim_ignored[0]; k++)
            signal(shim_ignored[k], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (cwd && chdir(cwd) != 0)
            child_fail(pfd[1], 128, "chdir to workingDir \"%s\": %s", cwd, strerror(errno));
        if (main_name) {
            if (setgroups((size_t)tg.ngroups, tg.groups) != 0)
                child_fail(pfd[1], 128, "setgroups: %s", strerror(errno));
            if (setgid(tg.gid) != 0)
                child_fail(pfd[1], 128, "setgid %u: %s", (unsigned)tg.gid, strerror(errno));
            if (setuid(tg.uid) != 0)
                child_fail(pfd[1], 128, "setuid %u: %s", (unsigned)tg.uid, strerror(errno));
        }
        environ = env;
        execvp(av[0], av);
        int en = errno;
        child_fail(pfd[1], en == ENOENT ? 127 : 126, "exec \"%s\": %s", av[0], strerror(en));
    }
    close(pfd[1]);
    char msg[512];
    ssize_t n, got = 0;
    while ((n = read(pfd[0], msg + got, sizeof msg - 1 - (size_t)got)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        got += n;
        if ((size_t)got >= sizeof msg - 1) break;
    }
    close(pfd[0]);
    msg[got > 0 ? got : 0] = '\0';
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    if (got > 0) finish(WIFEXITED(st) ? WEXITSTATUS(st) : 128, 0, "StartError", "%s", msg);
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        finish(128 + sig, sig, "Failed", "killed by signal %d (%s)", sig, strsignal(sig));
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    if (code == 0) finish(0, 0, "Succeeded", NULL);
    finish(code, 0, "Failed", "exited with code %d", code);
}
