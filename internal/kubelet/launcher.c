/* launcher: the hidden "--internal-launch" mode: namespaces, mounts and exec of one container
 * (or a pod's pause process, or an exec probe) in a freshly exec'd single-threaded process, and
 * the small signal-forwarding parent/init that reports the program's exit status. */
#include "kubelet/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *err_file;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int fd = err_file ? open(err_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 2;
    if (fd >= 0) {
        ssize_t w = write(fd, msg, strlen(msg));
        (void)w;
        if (fd != 2) close(fd);
    }
    _exit(LAUNCHER_EXIT_STARTFAIL);
}

static const int fwd_sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void wait_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof fwd_sigs / sizeof fwd_sigs[0]; i++)
        sigaddset(set, fwd_sigs[i]);
    sigaddset(set, SIGCHLD);
    sigaddset(set, LAUNCHER_SIG_KILLTREE);
}

static int status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void do_mounts(json_t *mounts)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        fail("making mounts private: %s", strerror(errno));
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        const char *src = json_string_value(json_object_get(m, "src"));
        const char *dst = json_string_value(json_object_get(m, "dst"));
        if (!src || !dst) continue;
        struct stat st;
        if (stat(src, &st) != 0) fail("mount source %s: %s", src, strerror(errno));
        struct stat dt;
        if (stat(dst, &dt) != 0) {
            if (S_ISDIR(st.st_mode)) {
                if (mkdir_p(dst) != 0) fail("creating mount point %s: %s", dst, strerror(errno));
            } else {
                char parent[4096];
                snprintf(parent, sizeof parent, "%s", dst);
                char *slash = strrchr(parent, '/');
                if (slash && slash != parent) {
                    *slash = '\0';
                    mkdir_p(parent);
                }
                int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0) fail("creating mount point %s: %s", dst, strerror(errno));
                close(fd);
            }
        }
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
            fail("bind-mounting %s at %s: %s", src, dst, strerror(errno));
        if (json_is_true(json_object_get(m, "ro")) &&
            mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) != 0)
            fail("making %s read-only: %s", dst, strerror(errno));
    }
}

static void mount_proc(void)
{
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        fail("mounting /proc: %s", strerror(errno));
}

/* In the forked child: becomes the program. Never returns. */
static void exec_program(json_t *spec, const sigset_t *oldmask)
{
    setsid();
    if (json_is_true(json_object_get(spec, "stderrToStdout"))) dup2(1, 2);
    const char *cwd = json_string_value(json_object_get(spec, "cwd"));
    if (chdir(cwd && *cwd ? cwd : "/") != 0)
        fail("chdir to cwd (\"%s\") set in the container spec failed: %s", cwd ? cwd : "/",
             strerror(errno));
    json_t *gid = json_object_get(spec, "gid"), *uid = json_object_get(spec, "uid");
    json_t *groups = json_object_get(spec, "groups");
    if (json_is_integer(gid) || json_is_integer(uid) || json_array_size(groups)) {
        gid_t gl[64];
        size_t ng = 0, i;
        json_t *g;
        json_array_foreach(groups, i, g) if (json_is_integer(g) && ng < 64) gl[ng++] =
            (gid_t)json_integer_value(g);
        if (setgroups(ng, gl) != 0) fail("setgroups: %s", strerror(errno));
    }
    if (json_is_integer(gid) && setgid((gid_t)json_integer_value(gid)) != 0)
        fail("setgid %lld: %s", json_integer_value(gid), strerror(errno));
    if (json_is_integer(uid) && setuid((uid_t)json_integer_value(uid)) != 0)
        fail("setuid %lld: %s", json_integer_value(uid), strerror(errno));
    json_t *av = json_object_get(spec, "argv");
    size_t n = json_array_size(av);
    if (n == 0) fail("no command to run");
    char **argv = calloc(n + 1, sizeof *argv);
    for (size_t i = 0; i < n; i++)
        argv[i] = (char *)json_string_value(json_array_get(av, i));
    const char *path = json_string_value(json_object_get(spec, "path"));
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    if (path && *path)
        execve(path, argv, environ);
    else
        execvp(argv[0], argv);
    fail("exec: \"%s\": %s", path && *path ? path : argv[0], strerror(errno));
}

/* PID 1 of a container's own namespace: runs the program as PID 2, forwards signals to it,
 * reaps everything and exits with the program's status (the kernel then kills the rest). */
static void init_loop(json_t *spec, const sigset_t *oldmask)
{
    pid_t c = fork();
    if (c < 0) fail("fork: %s", strerror(errno));
    if (c == 0) exec_program(spec, oldmask);
    prctl(PR_SET_NAME, "lc-init");
    sigset_t set;
    wait_set(&set);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0) continue;
        if (sig == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == c) _exit(status_code(st));
        } else if (sig != LAUNCHER_SIG_KILLTREE) {
            kill(c, sig);
        }
    }
}

/* PID 1 of a pod namespace (shareProcessNamespace): reaps zombies; ends on SIGTERM/SIGINT. */
static void pause_loop(void)
{
    prctl(PR_SET_NAME, "lc-pause");
    sigset_t set;
    wait_set(&set);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig == SIGCHLD) {
            int st;
            while (waitpid(-1, &st, WNOHANG) > 0) {
            }
        } else if (sig == SIGTERM || sig == SIGINT) {
            _exit(0);
        }
    }
}

/* The spawned process after the fork: forwards signals to the child (and, for a child that
 * leads its own process group, kills the group on KILLTREE) and exits with its status. */
static void parent_loop(pid_t child, bool group) __attribute__((noreturn));
static void parent_loop(pid_t child, bool group)
{
    sigset_t set;
    wait_set(&set);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0) continue;
        if (sig == SIGCHLD) {
            int st;
            pid_t p = waitpid(child, &st, WNOHANG);
            if (p == child) _exit(status_code(st));
        } else if (sig == LAUNCHER_SIG_KILLTREE) {
            if (group) kill(-child, SIGKILL);
            kill(child, SIGKILL);
        } else {
            kill(child, sig);
        }
    }
}

static int open_ns(long pid, const char *which)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%ld/ns/%s", pid, which);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("opening %s: %s", p, strerror(errno));
    return fd;
}

void launcher_main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "localcluster: %s needs a JSON spec\n", LAUNCHER_ARG);
        _exit(2);
    }
    json_error_t jerr;
    json_t *spec = json_loads(argv[2], 0, &jerr);
    if (!json_is_object(spec)) {
        fprintf(stderr, "localcluster: %s: bad spec: %s\n", LAUNCHER_ARG, jerr.text);
        _exit(2);
    }
    /* ps shows the label ("ns/pod/container") instead of the spec */
    const char *label = json_string_value(json_object_get(spec, "label"));
    size_t alen = strlen(argv[2]);
    memset(argv[2], 0, alen);
    if (label) snprintf(argv[2], alen + 1, "%s", label);
    err_file = json_string_value(json_object_get(spec, "errFile"));
    const char *mode = json_string_value(json_object_get(spec, "mode"));
    if (!mode) mode = "container";
    long parent = (long)json_integer_value(json_object_get(spec, "parent"));
    long ns_pid = (long)json_integer_value(json_object_get(spec, "nsPid"));

    sigset_t set, oldmask;
    wait_set(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, &oldmask);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent > 0 && getppid() != parent) _exit(LAUNCHER_EXIT_STARTFAIL);

    bool pause = strcmp(mode, "pause") == 0, exec = strcmp(mode, "exec") == 0;
    bool own_pid = pause || (!exec && json_is_true(json_object_get(spec, "ownPid")));
    if (exec) {
        int mfd = open_ns(ns_pid, "mnt"), pfd = open_ns(ns_pid, "pid_for_children");
        if (setns(mfd, CLONE_NEWNS) != 0) fail("entering the mount namespace: %s", strerror(errno));
        if (setns(pfd, CLONE_NEWPID) != 0) fail("entering the PID namespace: %s", strerror(errno));
        close(mfd);
        close(pfd);
    } else {
        int flags =
            pause ? CLONE_NEWPID : CLONE_NEWNS | CLONE_NEWUTS | (own_pid ? CLONE_NEWPID : 0);
        if (unshare(flags) != 0) fail("creating namespaces: %s", strerror(errno));
        if (!pause && !own_pid && ns_pid > 0) {
            int pfd = open_ns(ns_pid, "pid_for_children");
            if (setns(pfd, CLONE_NEWPID) != 0)
                fail("joining the pod's PID namespace: %s", strerror(errno));
            close(pfd);
        }
        if (!pause) {
            const char *hn = json_string_value(json_object_get(spec, "hostname"));
            if (hn && *hn) sethostname(hn, strlen(hn) > 63 ? 63 : strlen(hn));
            do_mounts(json_object_get(spec, "mounts"));
        }
    }

    int life[2];
    if (pipe2(life, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) fail("fork: %s", strerror(errno));
    if (child == 0) {
        close(life[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct pollfd pf = {.fd = life[0], .events = POLLIN};
        if (poll(&pf, 1, 0) > 0) _exit(LAUNCHER_EXIT_STARTFAIL); /* the parent is gone */
        if (pause) pause_loop();
        if (!exec) mount_proc();
        if (own_pid) init_loop(spec, &oldmask);
        exec_program(spec, &oldmask);
    }
    close(life[0]);
    prctl(PR_SET_NAME, pause ? "lc-pod" : "lc-shim");
    if (pause) {
        ssize_t w = write(1, "ready\n", 6);
        (void)w;
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 1);
    }
    parent_loop(child, !own_pid);
}
