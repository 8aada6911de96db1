/* Unit tests for base/fileio: fileio_write_all and the atomic replace (content, mode, no temp file
 * left behind, errors). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fileio.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_fileio.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_replace_at_dirfd(void **state)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    char path[128], tmp[128];
    snprintf(path, sizeof path, "%s/task.json", dir);
    snprintf(tmp, sizeof tmp, "%s/task.json.tmp", dir);
    for (int durable = 0; durable < 2; durable++) {
        assert_int_equal(fileio_replace_at(dfd, "task.json", "{\"a\":1}", 7, 0644, durable), 0);
        assert_string_equal(slurp(path), "{\"a\":1}");
        /* a shorter replacement leaves no tail of the old content */
        assert_int_equal(fileio_replace_at(dfd, "task.json", "{}", 2, 0644, durable), 0);
        assert_string_equal(slurp(path), "{}");
        assert_int_equal(access(tmp, F_OK), -1);
    }
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    close(dfd);
}

static void test_replace_path_mode(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/kubeconfig", dir);
    assert_int_equal(fileio_replace_at(AT_FDCWD, path, "x", 1, 0644, true), 0);
    /* the new mode applies even over an existing file (secrets: 0600) */
    assert_int_equal(fileio_replace_at(AT_FDCWD, path, "secret", 6, 0600, true), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(slurp(path), "secret");
}

static void test_replace_errors(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/missing/file", dir);
    assert_int_equal(fileio_replace_at(AT_FDCWD, path, "x", 1, 0644, true), -ENOENT);
    char *longname = malloc(PATH_MAX + 10);
    memset(longname, 'a', PATH_MAX + 9);
    longname[PATH_MAX + 9] = 0;
    assert_int_equal(fileio_replace_at(AT_FDCWD, longname, "x", 1, 0644, false), -ENAMETOOLONG);
    free(longname);
    /* a directory in the way of the rename: an error, and the temp file is gone */
    char sub[128], tmp[128];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char inner[128];
    snprintf(inner, sizeof inner, "%s/adir/f", dir);
    int fd = open(inner, O_WRONLY | O_CREAT, 0644);
    close(fd);
    assert_true(fileio_replace_at(AT_FDCWD, sub, "x", 1, 0644, false) < 0);
    snprintf(tmp, sizeof tmp, "%s/adir.tmp", dir);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_write_all_pipe(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fileio_write_all(p[1], "hello", 5), 0);
    char buf[8] = {0};
    assert_int_equal(read(p[0], buf, sizeof buf), 5);
    assert_string_equal(buf, "hello");
    close(p[0]);
    assert_int_equal(fileio_write_all(p[1], "x", 1), -EPIPE);
    close(p[1]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_at_dirfd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_path_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_errors, setup, teardown),
        cmocka_unit_test(test_write_all_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
