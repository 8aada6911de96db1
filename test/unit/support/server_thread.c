/* server_thread: base/http_server on a private libuv loop in a background thread for unit
 * tests: start (loop, server, stop async, thread), port and url, and stop (async stop on the loop
 * thread, join, loop close). The scripting of responses stays with each test's handler. */
#include "server_thread.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void on_stop(uv_async_t *a)
{
    server_thread_t *st = a->data;
    http_server_stop(st->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    server_thread_t *st = arg;
    uv_run(&st->loop, UV_RUN_DEFAULT);
    return NULL;
}

int server_thread_start(server_thread_t *st, const http_server_config_t *cfg,
                        http_handler_fn handler, void *ud, char *errbuf, size_t errlen)
{
    const http_server_config_t dflt = {.host = "127.0.0.1", .port = 0};
    if (!cfg) cfg = &dflt;
    memset(st, 0, sizeof *st);
    int rc = uv_loop_init(&st->loop);
    if (rc) {
        if (errbuf && errlen) snprintf(errbuf, errlen, "uv_loop_init: %s", uv_strerror(rc));
        return rc;
    }
    rc = http_server_start(&st->loop, cfg, handler, ud, &st->srv, errbuf, errlen);
    if (rc) {
        uv_run(&st->loop, UV_RUN_DEFAULT); /* let a failed start close what it opened */
        uv_loop_close(&st->loop);
        return rc;
    }
    st->port = http_server_port(st->srv);
    snprintf(st->url, sizeof st->url, "%s://127.0.0.1:%d", cfg->cert_pem ? "https" : "http",
             st->port);
    uv_async_init(&st->loop, &st->stop_async, on_stop);
    st->stop_async.data = st;
    rc = pthread_create(&st->thread, NULL, loop_main, st);
    if (rc) {
        if (errbuf && errlen) snprintf(errbuf, errlen, "pthread_create: %s", strerror(rc));
        on_stop(&st->stop_async);
        uv_run(&st->loop, UV_RUN_DEFAULT);
        uv_loop_close(&st->loop);
        return -rc;
    }
    return 0;
}

int server_thread_stop(server_thread_t *st)
{
    uv_async_send(&st->stop_async);
    pthread_join(st->thread, NULL);
    return uv_loop_close(&st->loop);
}
