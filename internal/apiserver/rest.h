/* rest: the HTTP face of the API server: routing of Kubernetes URLs, authentication,
 * content negotiation (JSON, YAML bodies; Table and aggregated-discovery responses), and the
 * translation of requests to objops/store calls and of errors to Status bodies. */
#ifndef APISERVER_REST_H
#define APISERVER_REST_H

#include "base/http_server.h"

/* The http_server handler; ud is the apiserver_t. */
void rest_handle(http_request_t *req, void *ud);

#endif
