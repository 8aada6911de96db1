/* config: where the client connects and how it authenticates: kubeconfig files (current-context,
 * inline -data fields and file variants, tokens, insecure-skip-tls-verify, http:// servers) and
 * the in-cluster service-account configuration, whose token file is re-read as it rotates. */
#ifndef KUBE_CONFIG_H
#define KUBE_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct kube_config {
    char *server;     /* "https://127.0.0.1:6443" (no trailing slash) */
    char *ca_pem;     /* CA bundle PEM text, NULL = system roots */
    char *cert_pem;   /* client certificate PEM text, or NULL */
    char *key_pem;    /* client key PEM text, or NULL */
    char *token;      /* static bearer token, or NULL */
    char *token_file; /* re-read at most every 60 s (and on demand after a 401), or NULL */
    bool insecure;    /* insecure-skip-tls-verify */
    char *namespace_; /* context namespace or in-cluster namespace; "default" if none */
    char *source;     /* "/path/to/kubeconfig" or "in-cluster", for messages */
    /* token cache for token_file (guarded by mu) */
    pthread_mutex_t mu;
    char *cached_token;
    time_t token_read_at;
} kube_config_t;

/* Loads the configuration the way controllers do: explicit_path (the --kubeconfig flag) if not
 * NULL/empty, else $KUBECONFIG (first existing file of a ':' list), else ~/.kube/config if it
 * exists, else in-cluster. Errors name the file and the field ("kubeconfig /x: context \"a\":
 * cluster \"b\" not found"). Returns 0 or a negative errno; *out is caller-owned. */
int kube_config_load(const char *explicit_path, kube_config_t **out, char *err, size_t errlen);
/* Parses kubeconfig YAML/JSON text (path is for messages and for resolving relative file
 * references). Pure apart from reading referenced files. */
int kube_config_parse(const char *text, size_t len, const char *path, kube_config_t **out,
                      char *err, size_t errlen);
/* In-cluster: KUBERNETES_SERVICE_HOST/PORT (IPv6 hosts get brackets) and sa_dir (NULL =
 * /var/run/secrets/kubernetes.io/serviceaccount) with token, ca.crt, namespace. */
int kube_config_in_cluster(const char *sa_dir, kube_config_t **out, char *err, size_t errlen);
/* The bearer token to send now (static or from token_file, re-read when older than 60 s or when
 * force_reread), as a malloc'd string the caller frees; NULL if none. Thread-safe. */
char *kube_config_token(kube_config_t *cfg, bool force_reread);
void kube_config_free(kube_config_t *cfg);

#endif
