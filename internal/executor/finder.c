/* finder: the libproc2 lookup of the main container's process (environment marker) and of its
 * credentials, environment and working directory; process start times for adoption. */
#include "executor/finder.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int env_has(char **env, const char *want)
{
    for (size_t i = 0; env && env[i]; i++)
        if (!strcmp(env[i], want)) return 1;
    return 0;
}

/* libproc2 is loaded when a task needs it (in the shim), not linked: it pulls in libsystemd,
 * libgcrypt and compressors, which would otherwise be mapped into the idle executor and into
 * every shim start. */
static struct {
    int (*pids_new)(struct pids_info **, enum pids_item *, int);
    struct pids_fetch *(*pids_reap)(struct pids_info *, enum pids_fetch_type);
    int (*pids_unref)(struct pids_info **);
} lp;

static int load_libproc2(char *err, size_t errlen)
{
    if (lp.pids_new) return 0;
    void *h = dlopen("libproc2.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "loading libproc2: %s", dlerror());
        return -ENOENT;
    }
    *(void **)&lp.pids_reap = dlsym(h, "procps_pids_reap");
    *(void **)&lp.pids_unref = dlsym(h, "procps_pids_unref");
    *(void **)&lp.pids_new = dlsym(h, "procps_pids_new");
    if (!lp.pids_new || !lp.pids_reap || !lp.pids_unref) {
        lp.pids_new = NULL;
        snprintf(err, errlen, "libproc2 lacks the procps_pids_* functions");
        return -ENOENT;
    }
    return 0;
}

int finder_find_main(const char *name, pid_t self, finder_target_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int lrc = load_libproc2(err, errlen);
    if (lrc) return lrc;
    enum pids_item items[] = {PIDS_ID_PID, PIDS_ENVIRON_V, PIDS_ID_EUID, PIDS_ID_EGID,
                              PIDS_SUPGIDS};
    enum { I_PID, I_ENV, I_UID, I_GID, I_GROUPS };
    struct pids_info *info = NULL;
    int rc = lp.pids_new(&info, items, (int)(sizeof items / sizeof items[0]));
    if (rc < 0) {
        snprintf(err, errlen, "reading /proc: %s", strerror(-rc));
        return rc;
    }
    char want[512];
    snprintf(want, sizeof want, "%s=%s", FINDER_ENV_KEY, name);
    struct pids_fetch *f = lp.pids_reap(info, PIDS_FETCH_TASKS_ONLY);
    struct pids_stack *best = NULL;
    for (int i = 0; f && i < f->counts->total; i++) {
        struct pids_stack *s = f->stacks[i];
        int pid = PIDS_VAL(I_PID, s_int, s, info);
        if (pid == self || (best && pid > PIDS_VAL(I_PID, s_int, best, info))) continue;
        if (env_has(PIDS_VAL(I_ENV, strv, s, info), want)) best = s;
    }
    if (!best) {
        lp.pids_unref(&info);
        snprintf(err, errlen,
                 "no process with %s in its environment (is the main container running, and does "
                 "the pod set shareProcessNamespace: true?)",
                 want);
        return -ESRCH;
    }
    out->pid = PIDS_VAL(I_PID, s_int, best, info);
    out->uid = PIDS_VAL(I_UID, u_int, best, info);
    out->gid = PIDS_VAL(I_GID, u_int, best, info);
    const char *groups = PIDS_VAL(I_GROUPS, str, best, info);
    for (const char *p = groups; p && *p && out->ngroups < FINDER_MAX_GROUPS;) {
        char *end;
        unsigned long g = strtoul(p, &end, 10);
        if (end == p) break;
        out->groups[out->ngroups++] = (gid_t)g;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    char **env = PIDS_VAL(I_ENV, strv, best, info);
    size_t n = 0;
    while (env && env[n])
        n++;
    out->env = calloc(n + 1, sizeof *out->env);
    for (size_t i = 0; i < n; i++)
        out->env[i] = strdup(env[i]);
    out->nenv = n;
    lp.pids_unref(&info);
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)out->pid);
    ssize_t l = readlink(link, out->cwd, sizeof out->cwd - 1);
    out->cwd[l > 0 ? l : 0] = '\0';
    return 0;
}

void finder_target_free(finder_target_t *t)
{
    for (size_t i = 0; t->env && i < t->nenv; i++)
        free(t->env[i]);
    free(t->env);
    t->env = NULL;
    t->nenv = 0;
}

int finder_parse_stat(const char *line, unsigned long long *start, char *state)
{
    const char *p = strrchr(line, ')');
    if (!p || p[1] != ' ') return -EINVAL;
    p += 2;
    /* field 3 is the state; start time is field 22 */
    char st = *p;
    int field = 3;
    while (*p && field < 22) {
        if (*p == ' ') field++;
        p++;
    }
    if (field != 22 || !*p) return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || errno) return -EINVAL;
    *start = v;
    if (state) *state = st;
    return 0;
}

int finder_start_time(pid_t pid, unsigned long long *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -ESRCH;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -ESRCH;
    buf[n] = '\0';
    char st;
    if (finder_parse_stat(buf, out, &st) != 0) return -EINVAL;
    if (st == 'X') return -ESRCH;
    return 0;
}
