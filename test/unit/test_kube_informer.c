/* test_kube_informer: the reflector loop against a scripted HTTP server on the same loop: a
 * paginated list, a watch from the list's version with bookmarks, managedFields dropped, ERROR
 * 410 -> relist with synthetic deletes and a uid change as delete + add, a clean end -> re-watch
 * from the last version, a missing resource type (404) -> retry without syncing, and an ERROR
 * event or a garbage line -> back off and re-watch from the last version (no relist). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/http_server.h"
#include "base/jsonx.h"
#include "kube/curl_uv.h"
#include "kube/informer.h"
#include "support/kubeconfig.h"

#define CM(name, uid, rv)                                                                          \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\",\"uid\":\"" uid                     \
    "\",\"resourceVersion\":\"" rv "\",\"managedFields\":[{\"manager\":\"kubectl\"}]}}"
#define EV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define LIST(rv, cont, items)                                                                      \
    "{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":\"" rv "\"" cont                \
    "},\"items\":[" items "]}"

/* One scripted answer: code and body; a watch streams body then ends (or holds it open). */
typedef struct step {
    const char *expect; /* substring the request's query must contain */
    int code;
    const char *body;
    bool stream, hold;
    bool mark;       /* starts a MARK_MS timer on the loop when served */
    bool after_mark; /* must not be requested before that timer fired (a back-off ran) */
} step_t;

/* Below the reflector's first back-off (0.8 s and more): on the one loop the mark timer always
 * fires before a back-off timer started at the same time, and after an immediate request. */
#define MARK_MS 300

typedef struct harness {
    uv_loop_t loop;
    http_server_t *srv;
    const step_t *script;
    size_t nsteps, next;
    char requests[4096]; /* "query\n" per request */
    char log[4096];      /* handler calls */
    kube_informer_t *inf;
    http_request_t *held;
    uv_timer_t guard, mark;
    bool marked;
    bool stop_on_add; /* on_add stops the informer (instead of the last held step) */
    bool stop_asked;
    bool stopped;
} harness_t;

static void on_held_close(http_request_t *req, void *ud)
{
    harness_t *h = ud;
    h->held = NULL;
}

static void on_stopped(void *ud)
{
    harness_t *h = ud;
    h->stopped = true;
    if (h->held) {
        http_stream_end(h->held);
        h->held = NULL;
    }
    http_server_stop(h->srv);
    uv_close((uv_handle_t *)&h->guard, NULL);
    uv_close((uv_handle_t *)&h->mark, NULL);
}

static void on_mark(uv_timer_t *t)
{
    harness_t *h = t->data;
    h->marked = true;
}

static void handler(http_request_t *req, void *ud)
{
    harness_t *h = ud;
    strncat(h->requests, req->query, sizeof h->requests - strlen(h->requests) - 2);
    strcat(h->requests, "\n");
    if (h->next >= h->nsteps) {
        http_respond(req, 500, "application/json", "{}", 2, NULL);
        return;
    }
    const step_t *s = &h->script[h->next++];
    if (s->expect && !strstr(req->query, s->expect))
        fail_msg("request %zu: query \"%s\" lacks \"%s\"", h->next, req->query, s->expect);
    if (s->after_mark && !h->marked)
        fail_msg("request %zu (%s) came without a back-off", h->next, req->query);
    if (s->mark) {
        h->marked = false;
        uv_timer_start(&h->mark, on_mark, MARK_MS, 0);
    }
    if (!s->stream) {
        http_respond(req, s->code, "application/json", s->body, strlen(s->body), NULL);
        return;
    }
    http_stream_start(req, s->code, "application/json", NULL);
    http_stream_write(req, s->body, strlen(s->body));
    if (s->hold) {
        h->held = req;
        http_request_on_close(req, on_held_close, h);
        /* the script is done: stop the informer once it has applied what it got */
        if (!h->stop_on_add) kube_informer_stop(h->inf, on_stopped, h);
    } else {
        http_stream_end(req);
    }
}

static void logf_(harness_t *h, const char *fmt, json_t *o, json_t *n)
{
    char one[256];
    snprintf(one, sizeof one, fmt, jsonx_str(o ? o : n, "metadata.name", ""),
             jsonx_str(o, "metadata.resourceVersion", ""),
             jsonx_str(n, "metadata.resourceVersion", ""));
    strncat(h->log, one, sizeof h->log - strlen(h->log) - 1);
    assert_null(jsonx_get(n ? n : o, "metadata.managedFields")); /* the default transform */
}

static void on_add(json_t *o, void *ud)
{
    harness_t *h = ud;
    logf_(ud, "A:%s%s@%s ", NULL, o);
    if (h->stop_on_add && h->stopped) fail_msg("a handler ran after the informer stopped");
    if (h->stop_on_add && !h->stop_asked) {
        h->stop_asked = true;
        kube_informer_stop(h->inf, on_stopped, h);
    }
}

static void on_update(json_t *o, json_t *n, void *ud)
{
    logf_(ud, "U:%s@%s>%s ", o, n);
}

static void on_delete(json_t *o, void *ud)
{
    logf_(ud, "D:%s@%s%s ", o, NULL);
}

static void on_guard(uv_timer_t *t)
{
    harness_t *h = t->data;
    fail_msg("timed out after %zu of %zu requests:\n%s", h->next, h->nsteps, h->requests);
}

/* Runs an informer on configmaps in ns against the script until the last (held) step, or until
 * the first add when stop_on_add. */
static void run_opts(harness_t *h, const step_t *script, size_t n, bool stop_on_add)
{
    memset(h, 0, sizeof *h);
    h->stop_on_add = stop_on_add;
    h->script = script;
    h->nsteps = n;
    uv_loop_init(&h->loop);
    http_server_config_t sc = {.host = "127.0.0.1"};
    assert_int_equal(http_server_start_plain(&h->loop, &sc, handler, h, &h->srv, NULL, 0), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", http_server_port(h->srv));
    kube_config_t *cfg = test_kubeconfig(url, "tok");
    assert_non_null(cfg);
    kube_client_t *c;
    assert_int_equal(kube_client_new(cfg, NULL, &c, NULL, 0), 0);
    kube_informer_options_t o = {.resource = &KUBE_RES_CONFIGMAPS, .ns = "ns", .page_size = 2};
    kube_informer_handlers_t hd = {on_add, on_update, on_delete, h};
    assert_int_equal(kube_informer_new(&h->loop, c, &o, &hd, &h->inf), 0);
    uv_timer_init(&h->loop, &h->guard);
    h->guard.data = h;
    uv_timer_start(&h->guard, on_guard, 20000, 0);
    uv_timer_init(&h->loop, &h->mark);
    h->mark.data = h;
    assert_int_equal(kube_informer_start(h->inf), 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_true(h->stopped);
    assert_int_equal(h->next, h->nsteps);
    uv_loop_close(&h->loop);
    kube_client_free(c);
}

static void run(harness_t *h, const step_t *script, size_t n)
{
    run_opts(h, script, n, false);
}

static void test_list_watch_relist(void **state)
{
    static const step_t script[] = {
        {"limit=2", 200, LIST("10", ",\"continue\":\"tok1\"", CM("a", "u1", "1")), false, false,
         false, false},
        {"continue=tok1", 200, LIST("10", "", CM("b", "u2", "2")), false, false, false, false},
        {"watch=1&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=", 200,
         EV("MODIFIED", CM("a", "u1", "11")) EV(
             "ADDED",
             CM("c", "u3",
                "12")) "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
                       "\"15\"}}}\n"
                       "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\","
                       "\"reason\":\"Expired\",\"code\":410,\"message\":\"too old\"}}\n",
         true, false, true, false},
        /* relist after a back-off: b is gone, c was recreated with another uid, a unchanged */
        {"limit=2", 200, LIST("20", "", CM("a", "u1", "11") "," CM("c", "u9", "20")), false, false,
         false, true},
        {"resourceVersion=20&", 200, EV("DELETED", CM("a", "u1", "21")), true, false, false, false},
        /* a clean end: re-watch at once from the last version */
        {"resourceVersion=21&", 200, "", true, true, false, false},
    };
    harness_t h;
    run(&h, script, sizeof script / sizeof script[0]);
    assert_string_equal(h.log, "A:a@1 A:b@2 U:a@1>11 A:c@12 D:b@2 D:c@12 A:c@20 D:a@21 ");
    assert_true(kube_informer_has_synced(h.inf));
    char rv[64];
    kube_informer_last_rv(h.inf, rv, sizeof rv);
    assert_string_equal(rv, "21");
    assert_int_equal(kube_informer_count(h.inf), 1);
    json_t *cobj = kube_informer_get(h.inf, "ns/c");
    assert_string_equal(jsonx_str(cobj, "metadata.uid", ""), "u9");
    json_decref(cobj);
    /* timeoutSeconds is drawn from 300..600 */
    const char *t = strstr(h.requests, "timeoutSeconds=");
    int secs = atoi(t + 15);
    assert_true(secs >= 300 && secs <= 600);
    kube_informer_stats_t s;
    kube_informer_stats(h.inf, &s);
    assert_int_equal(s.lists, 2);
    assert_int_equal(s.relists, 1);
    assert_int_equal(s.expired, 1);
    kube_informer_free(h.inf);
}

static void test_type_missing_then_errors(void **state)
{
    static const step_t script[] = {
        /* the CRD is not installed: a 404 without details.name */
        {"limit=", 404,
         "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\","
         "\"code\":404,\"message\":\"the server could not find the requested "
         "resource\"}",
         false, false, false, false},
        {"limit=", 200, LIST("5", "", CM("a", "u1", "5")), false, false, false, false},
        /* an ERROR other than 410: back off, then watch again from the last version */
        {"resourceVersion=5&", 200,
         EV("MODIFIED", CM("a", "u1", "6")) "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
                                            "\"code\":500,\"message\":\"boom\"}}\n",
         true, false, false, false},
        /* a garbage line: same */
        {"resourceVersion=6&", 200, EV("MODIFIED", CM("a", "u1", "7")) "not json\n", true, false,
         false, false},
        /* HTTP 410 on the watch request itself: relist */
        {"resourceVersion=7&", 410, "{\"kind\":\"Status\",\"reason\":\"Expired\",\"code\":410}",
         false, false, true, false},
        /* the relist comes after a back-off (client-go's BackoffUntil), not at once */
        {"limit=", 200, LIST("9", "", CM("a", "u1", "9")), false, false, false, true},
        {"resourceVersion=9&", 200, "", true, true, false, false},
    };
    harness_t h;
    run(&h, script, sizeof script / sizeof script[0]);
    assert_string_equal(h.log, "A:a@5 U:a@5>6 U:a@6>7 U:a@7>9 ");
    kube_informer_stats_t s;
    kube_informer_stats(h.inf, &s);
    assert_int_equal(s.lists, 2); /* the failed list does not count */
    assert_int_equal(s.relists, 1);
    kube_informer_free(h.inf);
}

/* A handler stops the informer while more events of the same transfer are buffered (three in
 * one write): no handler runs after the stop, and tearing the finished transfer down later does
 * not touch freed memory (ASan build). */
static void test_stop_from_handler_mid_transfer(void **state)
{
    static const step_t script[] = {
        {"limit=2", 200, LIST("1", "", ""), false, false, false, false},
        {"resourceVersion=1&", 200,
         EV("ADDED", CM("a", "u1", "2")) EV("ADDED", CM("b", "u2", "3"))
             EV("ADDED", CM("c", "u3", "4")),
         true, true, false, false},
    };
    harness_t h;
    run_opts(&h, script, sizeof script / sizeof script[0], true);
    assert_string_equal(h.log, "A:a@2 ");
    kube_informer_free(h.inf);
}

/* curl_uv (the informer's engine): a done callback that adds its transfer again while
 * kube_curl_uv_close cancels it gets -EIO, so close ends. */
static int readds;
static bool cm_closed;

static void readd_done(CURL *easy, CURLcode res, void *ud)
{
    kube_curl_uv_t *m = ud;
    assert_int_equal(res, CURLE_ABORTED_BY_CALLBACK);
    if (++readds > 3) fail_msg("kube_curl_uv_close keeps running done callbacks");
    if (kube_curl_uv_add(m, easy, readd_done, m) == 0) return;
    curl_easy_cleanup(easy);
}

static void on_cm_closed(void *ud)
{
    cm_closed = true;
}

static void test_curl_uv_close_with_readding_done(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kube_curl_uv_t *m;
    assert_int_equal(kube_curl_uv_new(&loop, &m), 0);
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, "http://127.0.0.1:9/");
    assert_int_equal(kube_curl_uv_add(m, easy, readd_done, m), 0);
    kube_curl_uv_close(m, on_cm_closed, NULL);
    assert_int_equal(readds, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(cm_closed);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_watch_relist),
        cmocka_unit_test(test_type_missing_then_errors),
        cmocka_unit_test(test_stop_from_handler_mid_transfer),
        cmocka_unit_test(test_curl_uv_close_with_readding_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
