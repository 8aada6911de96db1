/* dispatch_bench: the task-executor's dispatch latency: POST /setTasks with a one-task set whose
 * command is this program in --stamp mode (it prints CLOCK_REALTIME in ns first thing in main),
 * then the time from just before the request to that stamp. One task at a time (each set
 * replaces the finished previous task); prints p50/p99/max over N tasks.
 * Then the floor on this machine, in the same run: the same two exec's a dispatch needs (the
 * shim, then the task) without the executor: posix_spawn of this program in --chain mode, which
 * posix_spawns it in --stamp mode and waits; p50/p99 over N.
 * usage: dispatch_bench HOST PORT DATA_DIR N */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* One HTTP/1.1 request on a fresh connection; returns the body (static buffer). */
static const char *request(const char *host, int port, const char *method, const char *path,
                           const char *body)
{
    static char resp[1 << 16];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    char req[4096];
    int n =
        snprintf(req, sizeof req,
                 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                 method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) exit(1);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : resp;
}

extern char **environ;

/* Spawns path with argv {path, mode}, stdout to out_fd (or inherited if < 0); returns its pid. */
static pid_t spawn_mode(const char *path, const char *mode, int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    char *av[] = {(char *)path, (char *)mode, NULL};
    pid_t pid = -1;
    if (posix_spawn(&pid, path, &fa, NULL, av, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--stamp")) {
        printf("%lld\n", now_ns());
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--chain")) { /* the floor's "shim" */
        pid_t pid = spawn_mode("/proc/self/exe", "--stamp", -1);
        int st;
        return pid > 0 && waitpid(pid, &st, 0) == pid ? 0 : 1;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: dispatch_bench HOST PORT DATA_DIR N\n");
        return 2;
    }
    const char *host = argv[1], *dir = argv[3];
    int port = atoi(argv[2]), n = atoi(argv[4]);
    char self[4096];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    self[l > 0 ? l : 0] = '\0';
    long long *lat = calloc((size_t)n, sizeof *lat);
    for (int i = 0; i < n; i++) {
        char body[8192], path[4096], name[64];
        snprintf(name, sizeof name, "d-%d", i);
        snprintf(body, sizeof body,
                 "[{\"name\":\"%s\",\"process\":{\"command\":[\"%s\",\"--stamp\"]}}]", name, self);
        long long t0 = now_ns();
        const char *r = request(host, port, "POST", "/setTasks", body);
        if (!strstr(r, name)) {
            fprintf(stderr, "unexpected answer: %s\n", r);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s/stdout.log", dir, name);
        long long stamp = 0;
        for (int spin = 0; spin < 200000 && !stamp; spin++) {
            FILE *f = fopen(path, "r");
            if (f) {
                if (fscanf(f, "%lld", &stamp) != 1) stamp = 0;
                fclose(f);
            }
            if (!stamp) usleep(50);
        }
        if (!stamp) {
            fprintf(stderr, "task %s never ran\n", name);
            return 1;
        }
        lat[i] = stamp - t0;
        snprintf(path, sizeof path, "/tasks/%s", name);
        while (!strstr(request(host, port, "GET", path, NULL), "terminated"))
            usleep(100);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    printf("dispatch_p50_ms %.3f\ndispatch_p99_ms %.3f\ndispatch_max_ms %.3f\n", lat[n / 2] / 1e6,
           lat[(n * 99) / 100 - (n >= 100)] / 1e6, lat[n - 1] / 1e6);
    request(host, port, "POST", "/setTasks", "[]");
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) != 0) return 1;
        long long t0 = now_ns();
        pid_t pid = spawn_mode(self, "--chain", p[1]);
        close(p[1]);
        char b[64] = "";
        ssize_t got = pid > 0 ? read(p[0], b, sizeof b - 1) : -1;
        close(p[0]);
        int st;
        if (pid > 0) waitpid(pid, &st, 0);
        if (got <= 0) {
            fprintf(stderr, "floor: the chained spawn printed nothing\n");
            return 1;
        }
        lat[i] = atoll(b) - t0;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    printf("floor_p50_ms %.3f\nfloor_p99_ms %.3f\n", lat[n / 2] / 1e6,
           lat[(n * 99) / 100 - (n >= 100)] / 1e6);
    return 0;
}
