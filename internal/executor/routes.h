/* routes: the task-executor's HTTP API (api-contract.md §6.1) over http_server: the route
 * table, the optional bearer token (constant-time compare), JSON error bodies
 * {"code": "<HTTP status text>", "message": ...}, and the long-poll form of GET /getTasks:
 *     GET /getTasks?version=N[&timeoutSeconds=T]
 * answers at once when the task set's version differs from N, else as soon as any task changes
 * or after T seconds (default 30, at most 300). Every /getTasks answer carries the version in
 * the header X-Tasks-Version; the body stays the plain array of tasks. */
#ifndef EXECUTOR_ROUTES_H
#define EXECUTOR_ROUTES_H

#include <stdbool.h>

#include "base/http_server.h"
#include "executor/executor.h"

typedef enum route_id {
    ROUTE_SET_TASKS = 1, /* POST /setTasks */
    ROUTE_GET_TASKS,     /* GET /getTasks */
    ROUTE_CREATE_TASK,   /* POST /tasks */
    ROUTE_GET_TASK,      /* GET /tasks/{name} */
    ROUTE_DELETE_TASK,   /* DELETE /tasks/{name} */
    ROUTE_HEALTH,        /* GET /health */
} route_id_t;

/* The route table: 0 and *id (and *name, pointing into path, for /tasks/{name}; it is not
 * validated here), 404 for an unknown path, 405 for a known path with another method. HEAD is
 * GET. */
int routes_match(const char *method, const char *path, route_id_t *id, const char **name);
/* True if token is NULL/"" (no token configured) or authorization is "Bearer <token>"; the
 * comparison takes the same time wherever the first difference is. */
bool routes_token_ok(const char *authorization, const char *token);
/* Go's http.StatusText for the codes the executor answers ("Not Found"). */
const char *routes_status_text(int status);

typedef struct routes routes_t;
/* token: borrowed, NULL or "" for an open API. */
routes_t *routes_new(uv_loop_t *loop, executor_t *ex, const char *token);
/* The http_server handler; ud is the routes_t. */
void routes_handle(http_request_t *req, void *ud);
/* Answers every parked long-poll and frees r (call before http_server_stop). */
void routes_free(routes_t *r);

#endif
