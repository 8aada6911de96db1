/* finder: finds the sandbox's main container process with libproc2 (the first process, by pid,
 * whose environment holds SANDBOX_MAIN_CONTAINER=<name>) and reads what a task needs from it:
 * environment, uid/gid, supplementary groups, working directory. Also reads a process's start
 * time, which identifies it across executor restarts (pid + start time). */
#ifndef EXECUTOR_FINDER_H
#define EXECUTOR_FINDER_H

#include <stddef.h>
#include <sys/types.h>

#define FINDER_ENV_KEY    "SANDBOX_MAIN_CONTAINER"
#define FINDER_MAX_GROUPS 64

typedef struct finder_target {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    gid_t groups[FINDER_MAX_GROUPS];
    int ngroups;
    char **env; /* NULL-terminated, owned */
    size_t nenv;
    char cwd[4096]; /* its working directory as seen inside its mount namespace; "" unknown */
} finder_target_t;

/* Finds the main container's process (skipping self). 0, -ESRCH with a message if none, or
 * another negative errno. Free with finder_target_free. */
int finder_find_main(const char *name, pid_t self, finder_target_t *out, char *err, size_t errlen);
void finder_target_free(finder_target_t *t);

/* The process's start time (clock ticks after boot, /proc/<pid>/stat field 22): 0, or -ESRCH
 * when there is no such process (a zombie still has its start time). */
int finder_start_time(pid_t pid, unsigned long long *out);

/* Parses a /proc/<pid>/stat line: start time and state character. 0 or -EINVAL. */
int finder_parse_stat(const char *line, unsigned long long *start, char *state);

#endif
