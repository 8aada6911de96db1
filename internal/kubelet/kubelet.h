/* kubelet: localcluster's process kubelet, on the API server's loop: registers one Node, binds
 * unscheduled pods to it, runs each pod's containers as local processes in their own
 * namespaces with a unique loopback pod IP, keeps pod status (phase, conditions, container
 * states, probes, restarts with back-off), deletes pods gracefully, serves pods/log and posts
 * Events. Writes go through objops like any controller; it reads pods through an in-process
 * store watch. Requires root (namespaces and mounts). */
#ifndef KUBELET_KUBELET_H
#define KUBELET_KUBELET_H

#include <stdbool.h>
#include <stddef.h>

#include "apiserver/apiserver.h"
#include "kubelet/imagemap.h"

typedef struct kubelet_config {
    const char *node_name; /* NULL: "localcluster" */
    const char *state_dir; /* logs and emptyDirs; NULL: $TMPDIR/localcluster-<pid>, removed at
                              exit (a given directory is kept) */
    imagemap_t *images;    /* borrowed; may be NULL */
} kubelet_config_t;

typedef struct kubelet kubelet_t;

/* Starts the kubelet on as's loop (after apiserver_start): creates the Node and takes over
 * the pods bound to it. Returns 0, or -1 with a message in err. */
int kubelet_start(apiserver_t *as, const kubelet_config_t *cfg, kubelet_t **out, char *err,
                  size_t errlen);
/* Stops: SIGKILLs every pod process (whole trees) and closes its handles; the loop then runs
 * until every process has been reaped. No API writes happen after it. */
void kubelet_stop(kubelet_t *kl);
/* Frees everything (after the loop has finished) and removes a default state directory. */
void kubelet_free(kubelet_t *kl);

#endif
