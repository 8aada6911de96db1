/* server_thread: the unit tests' way to run base/http_server on its own libuv loop in a
 * background thread, so that a blocking client on the test thread can talk to it.
 *
 * Ownership: the caller owns the server_thread_t storage (stack, static or heap); the harness
 * owns everything inside it (the loop, the server, the thread) from a successful
 * server_thread_start until server_thread_stop returns.
 *
 * Threads: the handler (and everything it starts: timers, streams, close callbacks) runs on the
 * loop thread, never on the test thread. State the handler shares with the test thread needs a
 * mutex or atomics. cmocka asserts must not be called from the handler (they long-jump on the
 * wrong thread): record failures and assert on the test thread. The loop may only be touched
 * from the loop thread (pass &st->loop as ud to use it in the handler); the test thread only
 * reads port and url. */
#ifndef TEST_SUPPORT_SERVER_THREAD_H
#define TEST_SUPPORT_SERVER_THREAD_H

#include <pthread.h>
#include <uv.h>

#include "base/http_server.h"

typedef struct server_thread {
    uv_loop_t loop;     /* the server's loop; only the loop thread touches it */
    http_server_t *srv; /* the server, freed by server_thread_stop */
    int port;           /* the bound port */
    char url[64];       /* "http://127.0.0.1:PORT", or "https://..." when cfg carries a cert */
    /* private */
    uv_async_t stop_async;
    pthread_t thread;
} server_thread_t;

/* Initialises st->loop, starts an http_server on it with cfg (NULL: plain HTTP on 127.0.0.1,
 * a free port) and handler(req, ud), then runs the loop in a new thread. cfg and its PEM strings
 * are borrowed for the call only. Returns 0, or a negative errno-style code with errbuf (may be
 * NULL) holding a message; on error nothing is left running and st must not be stopped. */
int server_thread_start(server_thread_t *st, const http_server_config_t *cfg,
                        http_handler_fn handler, void *ud, char *errbuf, size_t errlen);

/* Stops the server from its loop thread (open streams get their close callbacks there), joins
 * the thread and closes the loop. Call once per successful start, from the test thread. Returns
 * 0, or uv_loop_close's error (-EBUSY: the handler left a handle open). */
int server_thread_stop(server_thread_t *st);

#endif
