/* task-executor: the sandbox's task runner, as a sidecar (--enable-sidecar-mode: tasks run in
 * the main container's namespaces) or as a pod's main command. Flags, the token, signals and the
 * loop; the API is executor/routes.h, the runtime executor/executor.h, the shim executor/enter.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "base/http_server.h"
#include "base/log.h"
#include "executor/enter.h"
#include "executor/executor.h"
#include "executor/routes.h"

#define DEFAULT_PORT     5758
#define DEFAULT_DATA_DIR "/var/lib/task-executor"
#define DEFAULT_MAX_BODY (1024 * 1024)

static const char usage[] =
    "usage: task-executor [flags]\n"
    "  --listen-addr HOST:PORT      default $POD_IP:5758, or 0.0.0.0:5758 without POD_IP\n"
    "  --data-dir DIR               task state and logs (default " DEFAULT_DATA_DIR ")\n"
    "  --enable-sidecar-mode        run tasks inside the main container (setns)\n"
    "  --main-container-name NAME   the process with SANDBOX_MAIN_CONTAINER=NAME (default main)\n"
    "  --token-file FILE            require Authorization: Bearer <token> (or "
    "TASK_EXECUTOR_TOKEN)\n"
    "  --max-body-bytes N           request body limit (default 1048576)\n"
    "  --stop-grace-seconds N       SIGTERM to SIGKILL on timeout and stop (default 10)\n"
    "  --log-level LEVEL            error|warn|info|debug|trace (default info)\n"
    "  --log-format FORMAT          text|json (default text)\n";

static uv_signal_t sigterm, sigint;
static http_server_t *server;
static routes_t *routes;
static executor_t *exec_core;

static void on_signal(uv_signal_t *s, int signum)
{
    log_info("shutting down; a running task keeps running and is adopted on restart");
    uv_signal_stop(&sigterm);
    uv_signal_stop(&sigint);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    routes_free(routes);
    routes = NULL;
    http_server_stop(server);
    executor_close(exec_core);
}

static int read_token(const char *file, char **out)
{
    FILE *f = fopen(file, "re");
    if (!f) return -errno;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (!n) return -EINVAL;
    *out = strdup(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], ENTER_ARG)) enter_main(argc, argv);
    const char *listen = NULL, *data_dir = DEFAULT_DATA_DIR, *main_name = "main";
    const char *token_file = NULL;
    bool sidecar = false;
    long max_body = DEFAULT_MAX_BODY, grace = 10;
    log_level_t level = LOG_INFO;
    log_format_t fmt = LOG_FORMAT_TEXT;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (a[0] == '-' && a[1] == '-') a++; /* -flag and --flag */
        char *val = NULL, *eq = strchr(a, '=');
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
#define ARG() (val ? val : (i + 1 < argc ? argv[++i] : NULL))
        if (!strcmp(a, "-h") || !strcmp(a, "-help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "-enable-sidecar-mode")) {
            sidecar = !val || !strcmp(val, "true") || !strcmp(val, "1");
            continue;
        }
        const char *v = ARG();
        if (!v) {
            fprintf(stderr, "task-executor: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        char *end;
        if (!strcmp(a, "-listen-addr"))
            listen = v;
        else if (!strcmp(a, "-data-dir"))
            data_dir = v;
        else if (!strcmp(a, "-main-container-name"))
            main_name = v;
        else if (!strcmp(a, "-token-file"))
            token_file = v;
        else if (!strcmp(a, "-max-body-bytes") || !strcmp(a, "-stop-grace-seconds")) {
            long n = strtol(v, &end, 10);
            if (!*v || *end || n <= 0) {
                fprintf(stderr, "task-executor: %s: \"%s\" is not a positive integer\n", a, v);
                return 2;
            }
            if (!strcmp(a, "-max-body-bytes"))
                max_body = n;
            else
                grace = n;
        } else if (!strcmp(a, "-log-level")) {
            if (log_level_parse(v, &level)) {
                fprintf(stderr, "task-executor: --log-level: unknown level \"%s\"\n", v);
                return 2;
            }
        } else if (!strcmp(a, "-log-format")) {
            if (log_format_parse(v, &fmt)) {
                fprintf(stderr, "task-executor: --log-format: unknown format \"%s\"\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "task-executor: unknown flag %s\n%s", argv[i], usage);
            return 2;
        }
    }
    log_setup(level, fmt, 2);

    char *token = NULL;
    const char *envtok = getenv("TASK_EXECUTOR_TOKEN");
    if (token_file) {
        int rc = read_token(token_file, &token);
        if (rc) {
            fprintf(stderr, "task-executor: --token-file %s: %s\n", token_file,
                    rc == -EINVAL ? "empty" : strerror(-rc));
            return 2;
        }
    } else if (envtok && *envtok) {
        token = strdup(envtok);
    }
    unsetenv("TASK_EXECUTOR_TOKEN"); /* never handed to tasks */

    char host[256];
    int port = DEFAULT_PORT;
    if (listen) {
        const char *colon = strrchr(listen, ':');
        char *end;
        long p = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || !colon[1] || *end || p < 0 || p > 65535 ||
            (size_t)(colon - listen) >= sizeof host) {
            fprintf(stderr, "task-executor: --listen-addr \"%s\": want HOST:PORT\n", listen);
            return 2;
        }
        const char *h = listen;
        size_t hl = (size_t)(colon - listen);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        snprintf(host, sizeof host, "%.*s", (int)hl, hl ? h : "0.0.0.0");
        port = (int)p;
    } else {
        const char *ip = getenv("POD_IP");
        snprintf(host, sizeof host, "%s", ip && *ip ? ip : "0.0.0.0");
    }

    uv_loop_t *loop = uv_default_loop();
    executor_config_t cfg = {.data_dir = data_dir,
                             .self_exe = "/proc/self/exe",
                             .main_container = sidecar ? main_name : NULL,
                             .grace_ms = (int)(grace * 1000)};
    char err[512];
    if (executor_new(loop, &cfg, &exec_core, err, sizeof err) != 0) {
        log_error("cannot start", "error", err);
        return 1;
    }
    routes = routes_new(loop, exec_core, token);
    http_server_config_t scfg = {.host = host, .port = port, .max_body = (size_t)max_body};
    if (http_server_start_plain(loop, &scfg, routes_handle, routes, &server, err, sizeof err) !=
        0) {
        log_error("cannot listen", "addr", host, "error", err);
        return 1;
    }
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%d", host, http_server_port(server));
    log_info("task-executor listening", "addr", addr, "dataDir", data_dir, "sidecar",
             sidecar ? main_name : "off", "auth", token ? "bearer" : "none");
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(token);
    return 0;
}
