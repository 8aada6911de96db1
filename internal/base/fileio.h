/* fileio: whole-file writes shared by localcluster (kubeconfig) and the task-executor (task.json,
 * exit records): writes that survive short writes and EINTR, and atomic replacement of a file
 * (temp file in the same directory, optional fsync, rename, optional directory fsync). */
#ifndef BASE_FILEIO_H
#define BASE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all n bytes to fd. Returns 0 or -errno. */
int fileio_write_all(int fd, const void *p, size_t n);

/* Atomically replaces name (relative to dirfd, or a path with dirfd = AT_FDCWD) with data: writes
 * "<name>.tmp" with mode, fsyncs it if durable, renames it over name, then fsyncs the directory if
 * durable. Readers see the old content or the new, never a torn file; after a crash a stale
 * "<name>.tmp" may be left (callers that scan directories remove it). Two writers of one name at
 * once must be serialized by the caller. On error the temp file is removed. Returns 0 or -errno
 * (-ENAMETOOLONG if the temp name does not fit). */
int fileio_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      bool durable);

#endif
