/* envexpand: a container's environment as Kubernetes builds it: the $(VAR) expansion of
 * env values, command and args (`$$` escapes, unknown references stay as written), env
 * entries with valueFrom (downward API fieldRef, resourceFieldRef, configMapKeyRef,
 * secretKeyRef) and envFrom. Pure: ConfigMaps and Secrets come through a lookup callback. */
#ifndef KUBELET_ENVEXPAND_H
#define KUBELET_ENVEXPAND_H

#include <jansson.h>
#include <stddef.h>

/* An ordered environment; setting an existing name replaces its value in place. */
typedef struct envlist {
    size_t n, cap;
    char **names, **values;
} envlist_t;

void envlist_set(envlist_t *l, const char *name, const char *value);
/* Borrowed value or NULL. */
const char *envlist_get(const envlist_t *l, const char *name);
/* NULL-terminated "NAME=value" array (malloc'd, free with envlist_environ_free). */
char **envlist_environ(const envlist_t *l);
void envlist_environ_free(char **env);
void envlist_free(envlist_t *l);

/* Kubernetes expansion of in: "$(NAME)" becomes l's value of NAME (left as "$(NAME)" when
 * undefined), "$$" becomes "$", anything else is copied. Malloc'd result. */
char *envexpand(const char *in, const envlist_t *l);

/* The value of a downward-API fieldRef path for env (metadata.name, metadata.namespace,
 * metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName,
 * spec.serviceAccountName, status.podIP(s), status.hostIP(s)); pod_ip and host_ip are the
 * kubelet's (the stored status may not have them yet). Malloc'd, or NULL if unsupported. */
char *envexpand_fieldref(json_t *pod, const char *path, const char *pod_ip, const char *host_ip);

typedef struct env_lookup {
    /* Borrowed ConfigMap (kind "configmap") or Secret ("secret") named, in the pod's
     * namespace, or NULL if absent. */
    json_t *(*get)(void *ud, const char *kind, const char *name);
    void *ud;
    const char *pod_ip, *host_ip;
    long node_cpus; /* resourceFieldRef limits default to the node's allocatable */
    long long node_mem_bytes;
} env_lookup_t;

/* Adds container's envFrom and env (in that order) to l, expanding values against what l
 * holds so far. Returns 0, or -1 with a message for the user (the kubelet's
 * CreateContainerConfigError), e.g. `configmap "x" not found`. */
int envexpand_container_env(json_t *pod, json_t *container, const env_lookup_t *lk, envlist_t *l,
                            char *err, size_t errlen);

/* Decodes standard base64 (whitespace ignored). Malloc'd NUL-terminated buffer, *len the
 * decoded length; NULL on invalid input. */
char *envexpand_base64(const char *in, size_t *len);

#endif
