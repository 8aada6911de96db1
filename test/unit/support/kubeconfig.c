/* kubeconfig: builds and parses the one-cluster kubeconfig the unit tests point their clients
 * at (server URL and optional bearer token). */
#include "kubeconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kube_config_t *test_kubeconfig(const char *server_url, const char *token)
{
    char *text = NULL;
    if (asprintf(&text,
                 "current-context: t\n"
                 "contexts: [{name: t, context: {cluster: t, user: t}}]\n"
                 "clusters: [{name: t, cluster: {server: '%s'}}]\n"
                 "users: [{name: t, user: {token: '%s'}}]\n",
                 server_url, token ? token : "") < 0)
        return NULL;
    kube_config_t *cfg = NULL;
    char err[256];
    int rc = kube_config_parse(text, strlen(text), "/test", &cfg, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "test_kubeconfig: %s\n", err);
        return NULL;
    }
    return cfg;
}
