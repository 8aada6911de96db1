/* kubeconfig: the unit tests' one-cluster kubeconfig for a test server, so that each test does
 * not spell out (and parse) the same YAML. */
#ifndef TEST_SUPPORT_KUBECONFIG_H
#define TEST_SUPPORT_KUBECONFIG_H

#include "kube/config.h"

/* A parsed kubeconfig with one context "t" whose cluster's server is server_url
 * ("http://127.0.0.1:PORT") and whose user has the bearer token token (NULL or "": none).
 * Returns a config the caller owns (kube_config_free, or hand it to kube_client_new, which
 * steals it), or NULL with the parse error printed to stderr. */
kube_config_t *test_kubeconfig(const char *server_url, const char *token);

#endif
