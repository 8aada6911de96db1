/* fileio: whole-file writes: fileio_write_all and the atomic replace (temp, fsync, rename, fsync of
 * the directory) that the kubeconfig writer and the task-executor's store share. */
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fileio_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync of the directory holding name (dirfd itself, or dirname(name) for AT_FDCWD). */
static int sync_dir(int dirfd, const char *name)
{
    if (dirfd != AT_FDCWD) return fsync(dirfd) == 0 ? 0 : -errno;
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", name) >= (int)sizeof buf) return -ENAMETOOLONG;
    int dfd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    int rc = fsync(dfd) == 0 ? 0 : -errno;
    close(dfd);
    return rc;
}

int fileio_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      bool durable)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp) return -ENAMETOOLONG;
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return -errno;
    int rc = fchmod(fd, mode) == 0 ? 0 : -errno; /* O_CREAT keeps an old file's mode */
    if (!rc) rc = fileio_write_all(fd, data, len);
    if (!rc && durable && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && !rc) rc = -errno;
    if (!rc && renameat(dirfd, tmp, dirfd, name) != 0) rc = -errno;
    if (rc) {
        unlinkat(dirfd, tmp, 0);
        return rc;
    }
    return durable ? sync_dir(dirfd, name) : 0;
}
