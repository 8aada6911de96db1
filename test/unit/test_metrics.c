/* test_metrics: the Prometheus text exposition of counters, gauges and histograms compared
 * exactly: HELP/TYPE lines, label value escaping, cumulative buckets with +Inf, _sum/_count,
 * registration order and sorted series, float formatting as Go's, misuse ignored, and
 * concurrent updates adding up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"

static void assert_render(metrics_registry_t *reg, const char *want)
{
    char *got = metrics_render(reg);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_counter_gauge(void **state)
{
    metrics_registry_t *reg = metrics_registry_new();
    metric_t *req = metrics_counter(reg, "http_requests_total", "Requests served.", "code,method");
    metric_t *up = metrics_gauge(reg, "up", "Whether it is up.", NULL);
    metric_t *unused = metrics_counter(reg, "unused_total", "Never used.", "x");
    assert_non_null(req);
    assert_non_null(up);
    assert_non_null(unused);
    /* an unlabelled metric shows 0 at once; a labelled one only once it has a series */
    assert_render(reg, "# HELP up Whether it is up.\n# TYPE up gauge\nup 0\n");

    metrics_add(req, "500,POST", 1);
    metrics_add(req, "200,GET", 2);
    metrics_add(req, "200,GET", 3);
    metrics_add(req, "200,DELETE", 1);
    metrics_set(up, NULL, 1);
    assert_render(reg, "# HELP http_requests_total Requests served.\n"
                       "# TYPE http_requests_total counter\n"
                       "http_requests_total{code=\"200\",method=\"DELETE\"} 1\n"
                       "http_requests_total{code=\"200\",method=\"GET\"} 5\n"
                       "http_requests_total{code=\"500\",method=\"POST\"} 1\n"
                       "# HELP up Whether it is up.\n"
                       "# TYPE up gauge\n"
                       "up 1\n");

    /* registering again returns the same metric; another type under the name is refused */
    assert_ptr_equal(metrics_counter(reg, "http_requests_total", "x", "code,method"), req);
    int devnull = open("/dev/null", O_WRONLY);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, devnull); /* the refusal is logged */
    assert_null(metrics_gauge(reg, "http_requests_total", "x", NULL));
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    close(devnull);
    metrics_registry_free(reg);
}

static void test_escaping(void **state)
{
    metrics_registry_t *reg = metrics_registry_new();
    metric_t *g = metrics_gauge(reg, "odd", "Help with \\ and\nnewline and \"quotes\".", "path");
    metrics_set(g, "C:\\dir \"x\"\nnext", -2.5);
    metrics_set(g, "", 7);
    assert_render(reg, "# HELP odd Help with \\\\ and\\nnewline and \"quotes\".\n"
                       "# TYPE odd gauge\n"
                       "odd{path=\"\"} 7\n"
                       "odd{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} -2.5\n");
    metrics_registry_free(reg);
}

static void test_histogram(void **state)
{
    metrics_registry_t *reg = metrics_registry_new();
    const double b[] = {0.005, 0.1, 1, 10};
    metric_t *h = metrics_histogram(reg, "latency_seconds", "Latency.", "op", b, 4);
    assert_non_null(h);
    metrics_observe(h, "get", 0.005); /* on the bound: counts in le=0.005 */
    metrics_observe(h, "get", 0.05);
    metrics_observe(h, "get", 0.5);
    metrics_observe(h, "get", 100);
    metrics_observe(h, "list", 2);
    assert_render(reg, "# HELP latency_seconds Latency.\n"
                       "# TYPE latency_seconds histogram\n"
                       "latency_seconds_bucket{op=\"get\",le=\"0.005\"} 1\n"
                       "latency_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
                       "latency_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
                       "latency_seconds_bucket{op=\"get\",le=\"10\"} 3\n"
                       "latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
                       "latency_seconds_sum{op=\"get\"} 100.555\n"
                       "latency_seconds_count{op=\"get\"} 4\n"
                       "latency_seconds_bucket{op=\"list\",le=\"0.005\"} 0\n"
                       "latency_seconds_bucket{op=\"list\",le=\"0.1\"} 0\n"
                       "latency_seconds_bucket{op=\"list\",le=\"1\"} 0\n"
                       "latency_seconds_bucket{op=\"list\",le=\"10\"} 1\n"
                       "latency_seconds_bucket{op=\"list\",le=\"+Inf\"} 1\n"
                       "latency_seconds_sum{op=\"list\"} 2\n"
                       "latency_seconds_count{op=\"list\"} 1\n");
    metrics_registry_free(reg);

    reg = metrics_registry_new();
    const double one[] = {1};
    h = metrics_histogram(reg, "plain", "", NULL, one, 1);
    metrics_observe(h, NULL, 3);
    /* no labels: only le; empty help: no HELP line */
    assert_render(reg, "# TYPE plain histogram\n"
                       "plain_bucket{le=\"1\"} 0\n"
                       "plain_bucket{le=\"+Inf\"} 1\n"
                       "plain_sum 3\n"
                       "plain_count 1\n");
    metrics_registry_free(reg);
}

static const struct {
    double v;
    const char *text;
} FLOATS[] = {
    {0, "0"},
    {1, "1"},
    {-1, "-1"},
    {0.1, "0.1"},
    {1.5, "1.5"},
    {123456, "123456"},
    {1e6, "1e+06"},
    {1234567, "1.234567e+06"},
    {0.0001, "0.0001"},
    {0.00001, "1e-05"},
    {1.0 / 3, "0.3333333333333333"},
    {INFINITY, "+Inf"},
    {-INFINITY, "-Inf"},
    {NAN, "NaN"},
};

static void test_float_format(void **state)
{
    for (size_t i = 0; i < sizeof FLOATS / sizeof FLOATS[0]; i++) {
        metrics_registry_t *reg = metrics_registry_new();
        metrics_set(metrics_gauge(reg, "g", NULL, NULL), NULL, FLOATS[i].v);
        char want[128];
        snprintf(want, sizeof want, "# TYPE g gauge\ng %s\n", FLOATS[i].text);
        assert_render(reg, want);
        metrics_registry_free(reg);
    }
}

static void test_misuse_ignored(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, p[1]); /* warnings go here, not to the test output */
    metrics_registry_t *reg = metrics_registry_new();
    assert_null(metrics_counter(reg, "bad-name", "x", NULL));
    assert_null(metrics_counter(reg, "", "x", NULL));
    assert_null(metrics_counter(reg, "c", "x", "ok,bad-label"));
    assert_null(metrics_counter(reg, "c", "x", "__reserved"));
    assert_null(metrics_counter(reg, "c", "x", "a,a"));
    assert_null(metrics_histogram(reg, "h", "x", "le", (const double[]){1}, 1));
    assert_null(metrics_histogram(reg, "h", "x", NULL, (const double[]){2, 1}, 2));
    assert_null(metrics_histogram(reg, "h", "x", NULL, (const double[]){1, INFINITY}, 2));
    metric_t *c = metrics_counter(reg, "c_total", "C.", "a,b");
    metrics_add(c, "only-one", 1); /* wrong label count */
    metrics_add(c, "x,y,z", 1);    /* wrong label count */
    metrics_add(c, "x,y", -1);     /* counters do not go down */
    metrics_set(c, "x,y", 10);     /* set is for gauges */
    metrics_observe(c, "x,y", 10); /* observe is for histograms */
    metrics_add(c, "x,y", 2);
    metric_t *g = metrics_gauge(reg, "g", "G.", NULL);
    metrics_add(g, "extra", 1); /* values for a metric without labels */
    metrics_add(g, NULL, -3);   /* gauges may go down */
    metrics_add(NULL, "x", 1);  /* NULL metric: no-op */
    metrics_set(NULL, "x", 1);
    metrics_observe(NULL, "x", 1);
    assert_render(reg, "# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"x\",b=\"y\"} 2\n"
                       "# HELP g G.\n# TYPE g gauge\ng -3\n");
    metrics_registry_free(reg);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "invalid metric name"));
    assert_non_null(strstr(buf, "wrong number of label values"));
    close(p[0]);
    close(p[1]);
    assert_null(metrics_counter(NULL, "x", "x", NULL));
    char *empty = metrics_render(NULL);
    assert_string_equal(empty, "");
    free(empty);
}

static metric_t *g_conc_counter, *g_conc_hist;

static void *conc_thread(void *arg)
{
    const char *lv = arg;
    for (int i = 0; i < 10000; i++) {
        metrics_add(g_conc_counter, lv, 1);
        metrics_observe(g_conc_hist, NULL, 1);
    }
    return NULL;
}

static void test_concurrent_updates(void **state)
{
    metrics_registry_t *reg = metrics_registry_new();
    g_conc_counter = metrics_counter(reg, "n_total", "N.", "t");
    g_conc_hist = metrics_histogram(reg, "h", "H.", NULL, (const double[]){0.5}, 1);
    pthread_t t[4];
    const char *lv[4] = {"a", "b", "a", "b"};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, conc_thread, (void *)lv[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_render(reg, "# HELP n_total N.\n# TYPE n_total counter\n"
                       "n_total{t=\"a\"} 20000\nn_total{t=\"b\"} 20000\n"
                       "# HELP h H.\n# TYPE h histogram\n"
                       "h_bucket{le=\"0.5\"} 0\nh_bucket{le=\"+Inf\"} 40000\n"
                       "h_sum 40000\nh_count 40000\n");
    metrics_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge),  cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),      cmocka_unit_test(test_float_format),
        cmocka_unit_test(test_misuse_ignored), cmocka_unit_test(test_concurrent_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
