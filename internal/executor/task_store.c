/* task_store: task directories under --data-dir: safe paths, atomic writes of task.json and
 * exit.json (temp, fsync, rename, directory fsync), the start-up scan that tolerates torn and
 * corrupt records, and removal of a task's directory. */
#include "executor/task_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/jsonx.h"

int task_store_path(const char *data_dir, const char *name, const char *file, char *buf, size_t len)
{
    if (!task_name_valid(name)) return -EINVAL;
    if (file && (!*file || strchr(file, '/') || !strcmp(file, "..") || !strcmp(file, ".")))
        return -EINVAL;
    int n = file ? snprintf(buf, len, "%s/%s/%s", data_dir, name, file)
                 : snprintf(buf, len, "%s/%s", data_dir, name);
    if (n < 0 || (size_t)n >= len) return -ENAMETOOLONG;
    return 0;
}

int task_store_save(const char *data_dir, const task_t *t, bool durable)
{
    char dir[4096];
    int rc = task_store_path(data_dir, t->name, NULL, dir, sizeof dir);
    if (rc) return rc;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -errno;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    json_t *rec = task_record_encode(t);
    char *text = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    rc = text ? fileio_replace_at(dfd, TASK_FILE, text, strlen(text), 0644, durable) : -ENOMEM;
    free(text);
    close(dfd);
    return rc;
}

static json_t *load_json_at(int dirfd, const char *file, int *rc, char *err, size_t errlen)
{
    int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *rc = -errno;
        if (err && errlen) snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    /* One read for the usual small record (json_loadfd reads a byte per syscall; the shim
     * reads task.json on every dispatch). */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rerr = buf ? 0 : ENOMEM;
    while (!rerr) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r == 0) break;
        if (r < 0) {
            if (errno != EINTR) rerr = errno;
            continue;
        }
        len += (size_t)r;
        if (len == cap) {
            char *nb = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                rerr = cap < ((size_t)64 << 20) ? ENOMEM : EFBIG;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (rerr) {
        free(buf);
        *rc = -rerr;
        if (err && errlen) snprintf(err, errlen, "%s: %s", file, strerror(rerr));
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!v) {
        *rc = -EINVAL;
        if (err && errlen)
            snprintf(err, errlen, "%s is corrupt (line %d column %d: %s)", file, je.line, je.column,
                     je.text);
    }
    return v;
}

int task_store_load_at(int dirfd, task_t **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = 0;
    json_t *v = load_json_at(dirfd, TASK_FILE, &rc, err, errlen);
    if (!v) return rc;
    char e[400];
    rc = task_record_decode(v, out, e, sizeof e);
    json_decref(v);
    if (rc && err && errlen) snprintf(err, errlen, "%s is corrupt: %s", TASK_FILE, e);
    return rc;
}

int task_store_scan(const char *data_dir, task_store_visit_fn fn, void *ud)
{
    DIR *d = opendir(data_dir);
    if (!d) return -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!task_name_valid(de->d_name)) continue;
        int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0) continue;              /* not a directory */
        unlinkat(dfd, TASK_FILE ".tmp", 0); /* a torn write: the rename never happened */
        unlinkat(dfd, EXIT_FILE ".tmp", 0);
        char err[512] = "";
        task_t *t = NULL;
        int rc = task_store_load_at(dfd, &t, err, sizeof err);
        close(dfd);
        if (rc == 0 && strcmp(t->name, de->d_name) != 0) {
            snprintf(err, sizeof err, "%s names task \"%.200s\", not its directory's", TASK_FILE,
                     t->name);
            task_free(t);
            t = NULL;
        }
        fn(de->d_name, t, t ? NULL : err, ud);
    }
    closedir(d);
    return 0;
}

static int remove_tree_at(int pfd, const char *name)
{
    int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT) return 0;
        return -errno;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        remove_tree_at(dirfd(d), de->d_name);
    }
    closedir(d);
    if (unlinkat(pfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int task_store_remove(const char *data_dir, const char *name)
{
    if (!task_name_valid(name)) return -EINVAL;
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    int rc = remove_tree_at(dfd, name); /* not fsync'd: a removal that is lost reappears as a
                                            finished task, which the next set removes again */
    close(dfd);
    return rc;
}

int task_exit_write_at(int dirfd, const task_exit_t *e)
{
    char ts[40];
    jsonx_time_format(e->finished_at, ts, sizeof ts);
    json_t *o = json_pack("{s:i,s:i,s:s,s:s,s:s}", "exitCode", e->exit_code, "signal", e->signal,
                          "reason", e->reason, "message", e->message, "finishedAt", ts);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = text ? fileio_replace_at(dirfd, EXIT_FILE, text, strlen(text), 0644, true) : -ENOMEM;
    free(text);
    return rc;
}

int task_exit_read(const char *data_dir, const char *name, task_exit_t *out)
{
    char dir[4096];
    int rc = task_store_path(data_dir, name, NULL, dir, sizeof dir);
    if (rc) return rc;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    json_t *v = load_json_at(dfd, EXIT_FILE, &rc, NULL, 0);
    close(dfd);
    if (!v) return rc;
    memset(out, 0, sizeof *out);
    if (!json_is_integer(json_object_get(v, "exitCode"))) {
        json_decref(v);
        return -EINVAL;
    }
    out->exit_code = (int)jsonx_int(v, "exitCode", 0);
    out->signal = (int)jsonx_int(v, "signal", 0);
    snprintf(out->reason, sizeof out->reason, "%s", jsonx_str(v, "reason", ""));
    snprintf(out->message, sizeof out->message, "%s", jsonx_str(v, "message", ""));
    const char *f = jsonx_str(v, "finishedAt", NULL);
    if (!f || jsonx_time_parse(f, &out->finished_at) != 0) out->finished_at = 0;
    json_decref(v);
    return 0;
}
