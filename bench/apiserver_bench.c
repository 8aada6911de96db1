/* apiserver_bench: creates N pods over one keep-alive connection while a watch on pods counts
 * the ADDED events, then prints creates/s, watch lag and the server's RSS. Not a test: figures
 * only. Usage: apiserver_bench URL PID [N] */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *base;
static volatile long watched;
static volatile int stop_watch;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t on_watch_data(char *p, size_t sz, size_t n, void *ud)
{
    (void)ud;
    for (size_t i = 0; i + 7 < sz * n; i++)
        if (memcmp(p + i, "\"ADDED\"", 7) == 0) __atomic_add_fetch(&watched, 1, __ATOMIC_RELAXED);
    return stop_watch ? 0 : sz * n;
}

static void *watch_thread(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods?watch=1&resourceVersion=0", base);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_watch_data);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    return NULL;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static long rss_kib(const char *pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static int post(CURL *c, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) != CURLE_OK) return -1;
    long code;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return (int)code;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: apiserver_bench URL PID [N]\n");
        return 2;
    }
    base = argv[1];
    int n = argc > 3 ? atoi(argv[3]) : 10000;
    curl_global_init(CURL_GLOBAL_ALL);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/namespaces", base);
    post(c, url,
         "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}");
    /* the namespace's default ServiceAccount is created by a controller right after */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    long rss0 = rss_kib(argv[2]);
    pthread_t wt;
    int with_watch = getenv("BENCH_NO_WATCH") == NULL;
    if (with_watch) pthread_create(&wt, NULL, watch_thread, NULL);
    nanosleep(&pause, NULL);
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods", base);
    char body[1024];
    int fails = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%06d\","
                 "\"labels\":{\"app\":\"bench\",\"shard\":\"%d\"}},\"spec\":{\"containers\":[{"
                 "\"name\":\"main\",\"image\":\"busybox\",\"command\":[\"sleep\",\"infinity\"]}]}}",
                 i, i % 16);
        if (post(c, url, body) != 201) fails++;
    }
    double t1 = now_s();
    while (with_watch && watched < n && now_s() - t1 < 30) {
        struct timespec s = {0, 1000 * 1000};
        nanosleep(&s, NULL);
    }
    double t2 = now_s();
    long rss1 = rss_kib(argv[2]);
    /* a full list, as an informer's first page would do */
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods", base);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_URL, url);
    double l0 = now_s();
    curl_easy_perform(c);
    double l1 = now_s();
    stop_watch = 1;
    /* poke the watch so its write callback runs and aborts */
    curl_easy_setopt(c, CURLOPT_URL, "");
    snprintf(url, sizeof url, "%s/api/v1/namespaces/bench/pods", base);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"last\"},"
                     "\"spec\":{\"containers\":[{\"name\":\"m\",\"image\":\"x\"}]}}");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_perform(c);
    if (with_watch) pthread_join(wt, NULL);
    printf("| figure | measured | target |\n|---|---|---|\n");
    printf("| creates over one keep-alive connection | %d in %.2f s = %.0f/s | >= 5000/s |\n", n,
           t1 - t0, n / (t1 - t0));
    printf("| failed creates | %d | 0 |\n", fails);
    printf("| watch ADDED events seen | %ld (all seen %.3f s after the last create) | %d |\n",
           (long)watched, t2 - t1, n);
    printf("| list of %d pods | %.3f s | - |\n", n, l1 - l0);
    printf("| server RSS before / after | %.1f MiB / %.1f MiB | <= 100 MiB at 10,000 pods |\n",
           rss0 / 1024.0, rss1 / 1024.0);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return fails ? 1 : 0;
}
