/* apiserver: localcluster's API server as one object on a libuv loop: configuration, the
 * registry of types, the store, the HTTP(S) listener, fault injection, and the background
 * controllers (CRD establishment/cleanup, namespace termination, garbage collection). */
#ifndef APISERVER_APISERVER_H
#define APISERVER_APISERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "apiserver/certs.h"
#include "apiserver/faults.h"
#include "apiserver/registry.h"
#include "apiserver/store.h"
#include "base/http_server.h"

struct kerr; /* kstatus.h */

typedef struct apiserver_config {
    const char *host;             /* "127.0.0.1" */
    int port;                     /* 0 = any free port */
    const char *kubeconfig_out;   /* written once serving, with the real port; may be NULL */
    bool tls;                     /* HTTPS with a generated CA and client certificate */
    const char *token;            /* bearer token accepted (and written to the kubeconfig) */
    unsigned bookmark_interval_s; /* watch bookmarks (default 60) */
    unsigned gc_interval_ms;      /* controllers' period (default 200) */
    faults_t faults;
} apiserver_config_t;

typedef struct apiserver {
    uv_loop_t *loop;
    apiserver_config_t cfg;
    registry_t *reg;
    store_t *store;
    http_server_t *http;
    certs_bundle_t certs;
    faults_t faults;
    char address[80]; /* "127.0.0.1:PORT" */
    uv_timer_t ctl_timer;
    bool ctl_pending; /* controllers should run at the next tick */
    uv_timer_t kick_timer;
    uint64_t watch_count;
    bool stopping;
    /* GET pods/{name}/log, served by the kubelet when one runs (NULL: no logs). pod is the
     * stored pod (borrowed). Returns 0 if it answered (or took over) the request, or -1 with e
     * set for the REST layer to answer. */
    int (*pod_log)(void *ud, http_request_t *req, json_t *pod, struct kerr *e);
    void *pod_log_ud;
} apiserver_t;

/* Starts serving on loop: registry with built-ins, default namespaces, HTTP(S), controllers,
 * kubeconfig. Returns 0 or a negative errno with a message in errbuf. */
int apiserver_start(apiserver_t *as, uv_loop_t *loop, const apiserver_config_t *cfg, char *errbuf,
                    size_t errlen);
/* The core without a listener: registry, store, default namespaces and their service accounts.
 * apiserver_start calls it; unit tests and fuzz targets use it alone (then apiserver_stop and
 * apiserver_free; the loop's timers are initialised but never started). */
void apiserver_init(apiserver_t *as, uv_loop_t *loop, const apiserver_config_t *cfg);
/* Stops listening, ends watches, closes timers; the loop then runs out. */
void apiserver_stop(apiserver_t *as);
/* Frees what apiserver_start allocated (after the loop has finished). */
void apiserver_free(apiserver_t *as);

/* Asks the background controllers to run soon (after a write that may need them). */
void apiserver_kick_controllers(apiserver_t *as);

#endif
