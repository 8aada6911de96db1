/* localcluster: a single-process Kubernetes for development and tests: the API server (HTTP
 * or TLS), its controllers, and the process kubelet. Flags, signals and the loop; also the
 * kubelet's hidden container launcher mode (see kubelet/launcher.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "apiserver/apiserver.h"
#include "kubelet/imagemap.h"
#include "kubelet/kubelet.h"
#include "kubelet/launcher.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: localcluster [--listen HOST:PORT] [--kubeconfig-out FILE] [--tls]\n"
            "                    [--token TOKEN] [--bookmark-interval SECONDS]\n"
            "                    [--fault-write-error-rate R] [--fault-watch-cut-after K]\n"
            "                    [--fault-expire-after N] [--fault-watch-delay-ms D]\n"
            "                    [--fault-empty-pages] [--no-kubelet] [--image-map IMAGE=PATH]\n"
            "                    [--image-map-file FILE] [--state-dir DIR]\n"
            "  --listen            address to serve on (default 127.0.0.1:6443; port 0 picks one)\n"
            "  --kubeconfig-out    write a kubeconfig for kubectl with the real address\n"
            "  --tls               serve HTTPS with a generated CA; clients need the kubeconfig's\n"
            "                      client certificate or the bearer token\n"
            "  --token             accept this bearer token (and write it to the kubeconfig)\n"
            "  --no-kubelet        no node: pods stay Pending (the kubelet needs root)\n"
            "  --image-map         run PATH for containers of IMAGE (repeatable); images are\n"
            "                      never pulled: a container needs a mapped image or a command\n"
            "  --image-map-file    read image=path lines from FILE\n"
            "  --state-dir         keep container logs and emptyDir volumes in DIR (default a\n"
            "                      temporary directory removed at exit)\n"
            "Fault injection is also settable at runtime: PUT /admin/faults with JSON\n"
            "{\"writeErrorRate\":0.05,\"watchCutAfter\":50,\"expireAfter\":100,\n"
            " \"watchDelayMs\":20,\"emptyPages\":true}.\n");
}

static apiserver_t server;
static kubelet_t *kubelet;
static uv_signal_t sigterm, sigint;

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    (void)s;
    fprintf(stderr, "localcluster: shutting down\n");
    uv_signal_stop(&sigterm);
    uv_signal_stop(&sigint);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    kubelet_stop(kubelet); /* kills every pod process; the loop runs until they are reaped */
    apiserver_stop(&server);
}

static int parse_num(const char *flag, const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || *end || end == v || d < lo || d > hi) {
        fprintf(stderr, "localcluster: %s: invalid value \"%s\" (expected %g..%g)\n", flag, v, lo,
                hi);
        return -1;
    }
    *out = d;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"kubeconfig-out", required_argument, NULL, 'k'},
        {"tls", no_argument, NULL, 't'},
        {"token", required_argument, NULL, 'T'},
        {"bookmark-interval", required_argument, NULL, 'b'},
        {"fault-write-error-rate", required_argument, NULL, 'E'},
        {"fault-watch-cut-after", required_argument, NULL, 'C'},
        {"fault-expire-after", required_argument, NULL, 'X'},
        {"fault-watch-delay-ms", required_argument, NULL, 'D'},
        {"fault-empty-pages", no_argument, NULL, 'P'},
        {"no-kubelet", no_argument, NULL, 'N'},
        {"image-map", required_argument, NULL, 'I'},
        {"image-map-file", required_argument, NULL, 'F'},
        {"state-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc > 1 && strcmp(argv[1], LAUNCHER_ARG) == 0) launcher_main(argc, argv);
    apiserver_config_t cfg = {.host = "127.0.0.1", .port = 6443};
    kubelet_config_t kcfg = {0};
    bool run_kubelet = true;
    imagemap_t *images = imagemap_new();
    char ierr[512];
    static char host[256];
    int c;
    double d;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || colon == optarg) {
                fprintf(stderr, "localcluster: --listen: expected HOST:PORT, got \"%s\"\n", optarg);
                return 2;
            }
            snprintf(host, sizeof host, "%.*s", (int)(colon - optarg), optarg);
            if (parse_num("--listen port", colon + 1, 0, 65535, &d)) return 2;
            cfg.host = host;
            cfg.port = (int)d;
            break;
        }
        case 'k':
            cfg.kubeconfig_out = optarg;
            break;
        case 't':
            cfg.tls = true;
            break;
        case 'T':
            cfg.token = optarg;
            break;
        case 'b':
            if (parse_num("--bookmark-interval", optarg, 1, 3600, &d)) return 2;
            cfg.bookmark_interval_s = (unsigned)d;
            break;
        case 'E':
            if (parse_num("--fault-write-error-rate", optarg, 0, 1, &d)) return 2;
            cfg.faults.write_error_rate = d;
            break;
        case 'C':
            if (parse_num("--fault-watch-cut-after", optarg, 0, 1e9, &d)) return 2;
            cfg.faults.watch_cut_after = (int)d;
            break;
        case 'X':
            if (parse_num("--fault-expire-after", optarg, 0, 1e9, &d)) return 2;
            cfg.faults.expire_after = (int)d;
            break;
        case 'D':
            if (parse_num("--fault-watch-delay-ms", optarg, 0, 60000, &d)) return 2;
            cfg.faults.watch_delay_ms = (int)d;
            break;
        case 'P':
            cfg.faults.empty_pages = true;
            break;
        case 'N':
            run_kubelet = false;
            break;
        case 'I':
        case 'F':
            if ((c == 'I' ? imagemap_add(images, optarg, ierr, sizeof ierr)
                          : imagemap_load_file(images, optarg, ierr, sizeof ierr)) != 0) {
                fprintf(stderr, "localcluster: %s\n", ierr);
                imagemap_free(images);
                return 2;
            }
            break;
        case 'S':
            kcfg.state_dir = optarg;
            break;
        case 'h':
            imagemap_free(images);
            usage(stdout);
            return 0;
        default:
            imagemap_free(images);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "localcluster: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        imagemap_free(images);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    char err[512] = "";
    int rc = apiserver_start(&server, loop, &cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "localcluster: %s\n", err[0] ? err : uv_strerror(rc));
        apiserver_free(&server);
        imagemap_free(images);
        return 1;
    }
    if (run_kubelet) {
        kcfg.images = images;
        if (kubelet_start(&server, &kcfg, &kubelet, err, sizeof err) != 0) {
            fprintf(stderr, "localcluster: %s\n", err);
            apiserver_stop(&server);
            uv_run(loop, UV_RUN_DEFAULT);
            apiserver_free(&server);
            uv_loop_close(loop);
            imagemap_free(images);
            return 1;
        }
    }
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    fprintf(stderr, "localcluster: serving on %s://%s\n", cfg.tls ? "https" : "http",
            server.address);
    uv_run(loop, UV_RUN_DEFAULT);
    kubelet_free(kubelet);
    apiserver_free(&server);
    uv_loop_close(loop);
    imagemap_free(images);
    return 0;
}
