/* health: /healthz, /readyz and /metrics on base/http_server, with named readiness checks and
 * controller-runtime's bind-address syntax (":8081" = all interfaces, "0" = off). */
#include "kube/health.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/http_server.h"
#include "base/strbuf.h"

#define MAX_SERVERS 4
#define MAX_CHECKS  16

typedef struct health_srv {
    kube_health_t *h;
    unsigned routes;
    http_server_t *srv;
} health_srv_t;

struct kube_health {
    uv_loop_t *loop;
    metrics_registry_t *metrics;
    atomic_bool running;
    struct {
        char *name;
        kube_health_check_fn fn;
        void *ud;
    } checks[MAX_CHECKS];
    int nchecks;
    health_srv_t servers[MAX_SERVERS];
    int nservers;
};

int kube_health_parse_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    if (!addr || !*addr) return -EINVAL;
    if (strcmp(addr, "0") == 0) return 1;
    const char *colon = strrchr(addr, ':');
    if (!colon) return -EINVAL;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    } else if (memchr(h, ':', hl)) {
        return -EINVAL; /* IPv6 without brackets */
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5) return -EINVAL;
    long v = 0;
    for (const char *q = p; *q; q++) {
        if (*q < '0' || *q > '9') return -EINVAL;
        v = v * 10 + (*q - '0');
    }
    if (v > 65535) return -EINVAL;
    if (hl == 0) {
        snprintf(host, hostlen, "0.0.0.0");
    } else if (hl == 9 && strncmp(h, "localhost", 9) == 0) {
        snprintf(host, hostlen, "127.0.0.1");
    } else {
        if (hl + 1 > hostlen) return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    *port = (int)v;
    return 0;
}

kube_health_t *kube_health_new(uv_loop_t *loop, metrics_registry_t *metrics)
{
    kube_health_t *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->loop = loop;
    h->metrics = metrics;
    atomic_init(&h->running, false);
    return h;
}

int kube_health_add_check(kube_health_t *h, const char *name, kube_health_check_fn fn, void *ud)
{
    if (h->nchecks >= MAX_CHECKS) return -ENOSPC;
    char *n = strdup(name);
    if (!n) return -ENOMEM;
    h->checks[h->nchecks].name = n;
    h->checks[h->nchecks].fn = fn;
    h->checks[h->nchecks].ud = ud;
    h->nchecks++;
    return 0;
}

void kube_health_set_running(kube_health_t *h, bool running)
{
    atomic_store(&h->running, running);
}

int kube_health_readyz(kube_health_t *h, char **body)
{
    strbuf_t sb = {0};
    bool ok = true;
    for (int i = 0; i < h->nchecks; i++) {
        bool r = h->checks[i].fn(h->checks[i].ud);
        ok = ok && r;
        strbuf_printf(&sb, "[%c]%s %s\n", r ? '+' : '-', h->checks[i].name, r ? "ok" : "not ready");
    }
    strbuf_puts(&sb, ok ? "readyz check passed\n" : "readyz check failed\n");
    *body = strdup(strbuf_str(&sb));
    strbuf_free(&sb);
    return ok ? 200 : 503;
}

static void respond_text(http_request_t *req, int code, const char *text)
{
    http_respond(req, code, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

static void handle(http_request_t *req, void *ud)
{
    health_srv_t *s = ud;
    kube_health_t *h = s->h;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if ((s->routes & KUBE_HEALTH_PROBES) && strcmp(req->path, "/healthz") == 0 && get) {
        if (atomic_load(&h->running))
            respond_text(req, 200, "ok");
        else
            respond_text(req, 503, "not running yet\n");
        return;
    }
    if ((s->routes & KUBE_HEALTH_PROBES) && strcmp(req->path, "/readyz") == 0 && get) {
        char *body = NULL;
        int code = kube_health_readyz(h, &body);
        respond_text(req, code, body ? body : "");
        free(body);
        return;
    }
    if ((s->routes & KUBE_HEALTH_METRICS) && strcmp(req->path, "/metrics") == 0 && get &&
        h->metrics) {
        char *text = metrics_render(h->metrics);
        if (!text) {
            respond_text(req, 500, "out of memory\n");
            return;
        }
        http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text),
                     NULL);
        free(text);
        return;
    }
    respond_text(req, 404, "404 page not found\n");
}

int kube_health_serve(kube_health_t *h, const char *addr, unsigned routes, char *bound,
                      size_t boundlen, char *err, size_t errlen)
{
    char host[128];
    int port = 0;
    int rc = kube_health_parse_addr(addr, host, sizeof(host), &port);
    if (rc == 1) return 1;
    if (rc < 0) {
        if (err)
            snprintf(err, errlen, "bad bind address %s (want HOST:PORT, :PORT or 0)",
                     addr ? addr : "");
        return rc;
    }
    if (h->nservers >= MAX_SERVERS) {
        if (err) snprintf(err, errlen, "too many servers");
        return -ENOSPC;
    }
    health_srv_t *s = &h->servers[h->nservers];
    s->h = h;
    s->routes = routes;
    http_server_config_t cfg = {.host = host, .port = port, .max_body = 64 * 1024};
    char e[256] = "";
    rc = http_server_start(h->loop, &cfg, handle, s, &s->srv, e, sizeof(e));
    if (rc < 0) {
        if (err) snprintf(err, errlen, "cannot listen on %s: %s", addr, e[0] ? e : uv_strerror(rc));
        s->srv = NULL;
        return rc;
    }
    h->nservers++;
    if (bound) {
        if (strchr(host, ':'))
            snprintf(bound, boundlen, "[%s]:%d", host, http_server_port(s->srv));
        else
            snprintf(bound, boundlen, "%s:%d", host, http_server_port(s->srv));
    }
    return 0;
}

void kube_health_free(kube_health_t *h)
{
    if (!h) return;
    for (int i = 0; i < h->nservers; i++)
        if (h->servers[i].srv) http_server_stop(h->servers[i].srv);
    for (int i = 0; i < h->nchecks; i++)
        free(h->checks[i].name);
    free(h);
}
