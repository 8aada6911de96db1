/* health: the controller's probe and metrics endpoints, as controller-runtime's manager serves
 * them: /healthz (200 "ok" once running), /readyz (200 once every readiness check passes, 503
 * listing the failing ones before), /metrics (the registry in Prometheus text). Served with
 * base/http_server on the caller's libuv loop; every function runs on that loop's thread except
 * kube_health_set_running. */
#ifndef KUBE_HEALTH_H
#define KUBE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/metrics.h"

typedef struct kube_health kube_health_t;

/* Routes a server answers (others get 404). */
#define KUBE_HEALTH_PROBES  1u /* /healthz, /readyz */
#define KUBE_HEALTH_METRICS 2u /* /metrics */

/* A readiness check: true = ready. Runs on the loop thread at every /readyz request. */
typedef bool (*kube_health_check_fn)(void *ud);

/* Parses a bind address as controller-runtime's flags take it: "HOST:PORT", ":PORT" (all IPv4
 * interfaces, 0.0.0.0), "[IPV6]:PORT", "localhost:PORT" (127.0.0.1); port 0 picks a free one.
 * "0" means disabled. Returns 0 (host and port set), 1 (disabled) or -EINVAL. Pure. */
int kube_health_parse_addr(const char *addr, char *host, size_t hostlen, int *port);

/* metrics may be NULL (then /metrics answers 404). Returns NULL only on allocation failure. */
kube_health_t *kube_health_new(uv_loop_t *loop, metrics_registry_t *metrics);
/* Adds a named readiness check (name copied). */
int kube_health_add_check(kube_health_t *h, const char *name, kube_health_check_fn fn, void *ud);
/* /healthz answers 200 once running is set (thread-safe). */
void kube_health_set_running(kube_health_t *h, bool running);

/* Starts a server on addr for the given routes (a KUBE_HEALTH_* mask). addr "0" does nothing
 * and returns 1. On success returns 0 and writes the bound "host:port" into bound (may be NULL).
 * Errors (bad address, bind failure) return a negative code with a message in err. */
int kube_health_serve(kube_health_t *h, const char *addr, unsigned routes, char *bound,
                      size_t boundlen, char *err, size_t errlen);

/* The /readyz answer now: 200 or 503 and a body listing each check ("[+]name ok" or
 * "[-]name not ready"), malloc'd into *body. */
int kube_health_readyz(kube_health_t *h, char **body);

/* Stops the servers (their handles close on the loop) and frees h. */
void kube_health_free(kube_health_t *h);

#endif
