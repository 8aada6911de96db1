/* apiserver: assembles localcluster's API server: registry and store, default namespaces, the
 * HTTP(S) listener with its generated certificates, the kubeconfig, and the timer that runs the
 * background controllers (soon after a write that needs them, and once a second anyway). */
#include "apiserver/apiserver.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/controllers.h"
#include "apiserver/objops.h"
#include "apiserver/rest.h"

#define CTL_MIN_GAP_MS 50

static void run_controllers(apiserver_t *as)
{
    as->ctl_pending = false;
    ctl_crd_run(as);
    ctl_namespace_run(as);
    ctl_gc_run(as);
}

static void on_ctl_tick(uv_timer_t *t)
{
    run_controllers(t->data);
    /* large list responses leave freed heap behind; give it back to the system */
    malloc_trim(0);
}

static void on_kick(uv_timer_t *t)
{
    apiserver_t *as = t->data;
    if (as->ctl_pending) run_controllers(as);
}

void apiserver_kick_controllers(apiserver_t *as)
{
    if (as->stopping || as->ctl_pending) return;
    as->ctl_pending = true;
    /* coalesce bursts: at most one extra pass every CTL_MIN_GAP_MS */
    uv_timer_start(&as->kick_timer, on_kick, CTL_MIN_GAP_MS / 5, 0);
}

static void create_namespace(apiserver_t *as, const char *name)
{
    restype_t *rt = registry_find(as->reg, "", "namespaces");
    json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                           "name", name);
    objops_opts_t o = {.field_manager = "kube-apiserver"};
    json_t *out = NULL;
    kerr_t e = {0};
    objops_create(as, rt, NULL, ns, &o, &out, &e);
    json_decref(ns);
    json_decref(out);
    kerr_clear(&e);
}

void apiserver_init(apiserver_t *as, uv_loop_t *loop, const apiserver_config_t *cfg)
{
    memset(as, 0, sizeof *as);
    as->loop = loop;
    as->cfg = *cfg;
    if (!as->cfg.host) as->cfg.host = "127.0.0.1";
    as->faults = cfg->faults;
    if (!as->faults.seed) as->faults.seed = arc4random();
    as->reg = registry_new();
    registry_add_builtins(as->reg);
    as->store = store_new(0, 0);
    if (as->faults.expire_after > 0)
        store_set_retention(as->store, (size_t)as->faults.expire_after);
    for (size_t i = 0; i < registry_count(as->reg); i++)
        registry_at(as->reg, i)->coll = store_coll_new(as->store);
    uv_timer_init(loop, &as->ctl_timer);
    uv_timer_init(loop, &as->kick_timer);
    as->ctl_timer.data = as->kick_timer.data = as;
    static const char *const defaults[] = {"default", "kube-system", "kube-public",
                                           "kube-node-lease", NULL};
    for (int i = 0; defaults[i]; i++)
        create_namespace(as, defaults[i]);
    ctl_namespace_run(as);
}

int apiserver_start(apiserver_t *as, uv_loop_t *loop, const apiserver_config_t *cfg, char *errbuf,
                    size_t errlen)
{
    apiserver_init(as, loop, cfg);

    http_server_config_t hc = {.host = as->cfg.host, .port = cfg->port, .max_body = 3u << 20};
    if (cfg->tls) {
        if (certs_generate(as->cfg.host, &as->certs, errbuf, errlen) != 0) return -EIO;
        hc.cert_pem = as->certs.server_cert_pem;
        hc.key_pem = as->certs.server_key_pem;
        hc.ca_pem = as->certs.ca_cert_pem;
    }
    int rc = http_server_start(loop, &hc, rest_handle, as, &as->http, errbuf, errlen);
    if (rc != 0) return rc;
    snprintf(as->address, sizeof as->address, "%s:%d", as->cfg.host, http_server_port(as->http));
    if (cfg->kubeconfig_out) {
        char server[128];
        snprintf(server, sizeof server, "%s://%s", cfg->tls ? "https" : "http", as->address);
        rc = certs_write_kubeconfig(cfg->kubeconfig_out, server, cfg->tls ? &as->certs : NULL,
                                    cfg->token);
        if (rc != 0) {
            snprintf(errbuf, errlen, "cannot write kubeconfig %s: %s", cfg->kubeconfig_out,
                     strerror(-rc));
            return rc;
        }
    }
    unsigned period = cfg->gc_interval_ms ? cfg->gc_interval_ms : 1000;
    uv_timer_start(&as->ctl_timer, on_ctl_tick, period, period);
    return 0;
}

void apiserver_stop(apiserver_t *as)
{
    if (as->stopping) return;
    as->stopping = true;
    if (!as->loop) return;
    uv_timer_stop(&as->ctl_timer);
    uv_timer_stop(&as->kick_timer);
    uv_close((uv_handle_t *)&as->ctl_timer, NULL);
    uv_close((uv_handle_t *)&as->kick_timer, NULL);
    if (as->http) http_server_stop(as->http);
    as->http = NULL;
}

void apiserver_free(apiserver_t *as)
{
    for (size_t i = 0; as->reg && i < registry_count(as->reg); i++) {
        restype_t *rt = registry_at(as->reg, i);
        if (rt->coll) store_coll_drop(as->store, rt->coll);
        rt->coll = NULL;
    }
    store_free(as->store);
    registry_free(as->reg);
    certs_free(&as->certs);
    as->store = NULL;
    as->reg = NULL;
}
