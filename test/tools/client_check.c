/* client_check: end-to-end checks of the REST client against a live API server (localcluster):
 *   conflict     T threads each add 1 to a counter in one ConfigMap N times with
 *                kube_update_retry; the final count must be T*N (no lost update) and the server
 *                must have answered 409 Conflict along the way (the retries really ran).
 *   retry-after  K creates with the client's default retries while the server injects 429/5xx
 *                answers carrying Retry-After (localcluster --fault-write-error-rate): every create
 *                must land, and the client must have seen injected answers.
 * Prints a summary; exits 0 only if the check holds. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/client.h"
#include "kube/ratelimit.h"

static kube_client_t *client;
static metrics_registry_t *reg;
static const char *ns = "default";
static int threads = 4, count = 50;
static atomic_long exhausted, failed, caller_retries;

static void usage(void)
{
    fprintf(stderr,
            "usage: client_check conflict|retry-after [--kubeconfig FILE] [--namespace NS]\n"
            "       [--threads T] [-n COUNT]\n");
}

/* Sum of rest_client_requests_total samples whose code label is code (e.g. "409"). */
static long requests_with_code(const char *code)
{
    char *text = metrics_render(reg);
    char needle[32];
    snprintf(needle, sizeof needle, "code=\"%s\"", code);
    long sum = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "rest_client_requests_total{", 27) && strstr(line, needle))
            sum += atol(strrchr(line, ' ') + 1);
    free(text);
    return sum;
}

static int increment(json_t *obj, void *ud)
{
    json_t *data = jsonx_obj(obj, "data");
    if (!data) return -EINVAL;
    long n = atol(jsonx_str(obj, "data.n", "0"));
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", n + 1);
    json_object_set_new(data, "n", json_string(buf));
    return 0;
}

static void *conflict_worker(void *arg)
{
    for (int i = 0; i < count; i++) {
        kube_status_t st;
        int rc;
        /* a caller whose five attempts all met a conflict tries again, as controllers requeue */
        while ((rc = kube_update_retry(client, &KUBE_RES_CONFIGMAPS, ns, "counter", NULL, increment,
                                       NULL, NULL, &st)) == -ESTALE)
            exhausted++;
        if (rc) {
            fprintf(stderr, "client_check: increment: %s\n", st.message);
            failed++;
        }
    }
    return NULL;
}

static int check_conflict(void)
{
    kube_status_t st;
    json_t *cm = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                           "metadata", "name", "counter", "data", "n", "0");
    int rc = kube_create(client, &KUBE_RES_CONFIGMAPS, ns, cm, NULL, &st);
    json_decref(cm);
    if (rc) {
        fprintf(stderr, "client_check: create counter: %s\n", st.message);
        return 1;
    }
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, conflict_worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    json_t *got = NULL;
    if (kube_get(client, &KUBE_RES_CONFIGMAPS, ns, "counter", &got, &st) != 0) {
        fprintf(stderr, "client_check: get counter: %s\n", st.message);
        return 1;
    }
    long n = atol(jsonx_str(got, "data.n", "-1")), want = (long)threads * count;
    json_decref(got);
    long conflicts = requests_with_code("409");
    printf("increments: %ld of %ld counted; 409 answers: %ld; five-attempt retries exhausted: %ld; "
           "errors: %ld\n",
           n, want, conflicts, (long)exhausted, (long)failed);
    bool ok = n == want && failed == 0 && (threads < 2 || conflicts > 0);
    printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

static int check_retry_after(void)
{
    double t0 = kube_now_s();
    int landed = 0;
    for (int i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "ra-%d", i);
        json_t *cm = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                               "metadata", "name", name);
        kube_status_t st;
        int rc;
        /* The client retries 429/5xx answers that carry Retry-After by itself. What it hands
         * back the caller retries, as a controller requeues: a closed connection (a POST is not
         * resent blindly: AlreadyExists then means it landed) and a 5xx without Retry-After. */
        for (int tries = 0;; tries++) {
            rc = kube_create(client, &KUBE_RES_CONFIGMAPS, ns, cm, NULL, &st);
            if ((rc != -EIO && rc != -EAGAIN) || tries == 50) break;
            caller_retries++;
            usleep(10000);
        }
        json_decref(cm);
        if (rc == 0 || rc == -EEXIST)
            landed++;
        else
            fprintf(stderr, "client_check: create %s: %d %s\n", name, rc, st.message);
    }
    long injected = 0;
    static const char *codes[] = {"429", "500", "503", "504"};
    for (size_t i = 0; i < 4; i++)
        injected += requests_with_code(codes[i]);
    printf("creates: %d of %d landed; 429/5xx answers: %ld; retried by the caller: %ld; %.1f s\n",
           landed, count, injected, (long)caller_retries, kube_now_s() - t0);
    bool ok = landed == count && injected > 0;
    printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *mode = argv[1];
    const char *kubeconfig = NULL;
    static const struct option longopts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                             {"namespace", required_argument, NULL, 's'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            kubeconfig = optarg;
            break;
        case 's':
            ns = optarg;
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 'n':
            count = atoi(optarg);
            break;
        default:
            usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (threads < 1 || threads > 64 || count < 1 || count > 100000 || optind != argc ||
        (strcmp(mode, "conflict") && strcmp(mode, "retry-after"))) {
        usage();
        return 2;
    }
    log_setup(LOG_WARN, LOG_FORMAT_TEXT, 2);
    char err[512];
    kube_config_t *cfg;
    if (kube_config_load(kubeconfig, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "client_check: %s\n", err);
        return 2;
    }
    reg = metrics_registry_new();
    kube_client_options_t copts = {.metrics = reg};
    if (kube_client_new(cfg, &copts, &client, err, sizeof err) != 0) {
        fprintf(stderr, "client_check: %s\n", err);
        return 2;
    }
    int rc = !strcmp(mode, "conflict") ? check_conflict() : check_retry_after();
    kube_client_free(client);
    metrics_registry_free(reg);
    return rc;
}
