/* routes: the executor's HTTP API: route table, bearer token, JSON errors, the handlers of
 * api-contract.md §6.1 and the long-poll of GET /getTasks (parked requests woken on change). */
#include "executor/routes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "executor/task.h"

#define POLL_DEFAULT_S 30
#define POLL_MAX_S     300

typedef struct waiter {
    http_request_t *req;
    uv_timer_t timer;
    struct routes *r;
    struct waiter *prev, *next;
} waiter_t;

struct routes {
    uv_loop_t *loop;
    executor_t *ex;
    char *token;
    waiter_t *waiters;
};

int routes_match(const char *method, const char *path, route_id_t *id, const char **name)
{
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    bool post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
    *name = NULL;
    if (!strcmp(path, "/setTasks")) {
        if (!post) return 405;
        *id = ROUTE_SET_TASKS;
    } else if (!strcmp(path, "/getTasks")) {
        if (!get) return 405;
        *id = ROUTE_GET_TASKS;
    } else if (!strcmp(path, "/tasks")) {
        if (!post) return 405;
        *id = ROUTE_CREATE_TASK;
    } else if (!strcmp(path, "/health")) {
        if (!get) return 405;
        *id = ROUTE_HEALTH;
    } else if (!strncmp(path, "/tasks/", 7) && path[7]) {
        if (get)
            *id = ROUTE_GET_TASK;
        else if (del)
            *id = ROUTE_DELETE_TASK;
        else
            return 405;
        *name = path + 7;
    } else {
        return 404;
    }
    return 0;
}

bool routes_token_ok(const char *authorization, const char *token)
{
    if (!token || !*token) return true;
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0) return false;
    const unsigned char *a = (const unsigned char *)authorization + 7;
    const unsigned char *t = (const unsigned char *)token;
    size_t la = strlen((const char *)a), lt = strlen(token);
    unsigned diff = (unsigned)(la ^ lt);
    for (size_t i = 0; i < lt; i++)
        diff |= (unsigned)(t[i] ^ (i < la ? a[i] : 0));
    return diff == 0;
}

const char *routes_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Request Entity Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

static void respond_json(http_request_t *req, int status, json_t *body, const char *hdrs)
{
    char *text = jsonx_dump(body);
    json_decref(body);
    http_respond(req, status, "application/json", text ? text : "{}", text ? strlen(text) : 2,
                 hdrs);
    free(text);
}

static void respond_error(http_request_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void respond_error(http_request_t *req, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *hdrs = status == 401 ? "WWW-Authenticate: Bearer\r\n" : NULL;
    if (status == 405) hdrs = "Allow: GET, POST, DELETE\r\n";
    respond_json(req, status,
                 json_pack("{s:s,s:s}", "code", routes_status_text(status), "message", msg), hdrs);
}

static void respond_tasks(routes_t *r, http_request_t *req)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "X-Tasks-Version: %" PRIu64 "\r\n", executor_version(r->ex));
    respond_json(req, 200, executor_list_json(r->ex), hdr);
}

static int errno_status(int rc)
{
    return rc == -EEXIST || rc == -EBUSY ? 409 : rc == -ENOENT ? 404 : rc == -EINVAL ? 400 : 500;
}

/* ---- long-poll ---- */

static void waiter_closed(uv_handle_t *h)
{
    free(h->data);
}

static void waiter_unlink(waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        w->r->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_finish(waiter_t *w)
{
    http_request_t *req = w->req;
    routes_t *r = w->r;
    waiter_unlink(w);
    respond_tasks(r, req);
}

static void on_waiter_timeout(uv_timer_t *t)
{
    waiter_finish(t->data);
}

static void on_waiter_gone(http_request_t *req, void *ud)
{
    waiter_unlink(ud);
}

static void on_change(void *ud)
{
    routes_t *r = ud;
    while (r->waiters)
        waiter_finish(r->waiters);
}

static void get_tasks(routes_t *r, http_request_t *req)
{
    char *ver = http_request_query(req, "version");
    char *wait = http_request_query(req, "watch");
    char *tos = http_request_query(req, "timeoutSeconds");
    bool poll = ver || (wait && jsonx_query_bool(wait));
    char *end = NULL;
    unsigned long long want = 0, tosv = POLL_DEFAULT_S;
    bool bad = false;
    if (ver) {
        want = strtoull(ver, &end, 10);
        bad = !*ver || *end;
    }
    if (tos && !bad) {
        tosv = strtoull(tos, &end, 10);
        bad = !*tos || *end;
        if (tosv > POLL_MAX_S) tosv = POLL_MAX_S;
    }
    free(ver);
    free(wait);
    free(tos);
    if (bad) {
        respond_error(req, 400, "version and timeoutSeconds must be non-negative integers");
        return;
    }
    if (!poll || want != executor_version(r->ex) || tosv == 0) {
        respond_tasks(r, req);
        return;
    }
    waiter_t *w = calloc(1, sizeof *w);
    w->req = req;
    w->r = r;
    uv_timer_init(r->loop, &w->timer);
    w->timer.data = w;
    w->next = r->waiters;
    if (r->waiters) r->waiters->prev = w;
    r->waiters = w;
    uv_timer_start(&w->timer, on_waiter_timeout, tosv * 1000, 0);
    http_request_on_close(req, on_waiter_gone, w);
}

/* ---- handlers ---- */

static void set_tasks(routes_t *r, http_request_t *req)
{
    char err[1024];
    task_t **v;
    size_t n;
    if (task_list_decode(req->body, req->body_len, &v, &n, err, sizeof err) != 0) {
        respond_error(req, 400, "%s", err);
        return;
    }
    int rc = executor_set_tasks(r->ex, v, n, err, sizeof err);
    if (rc) {
        respond_error(req, errno_status(rc), "%s", err);
        return;
    }
    respond_json(req, 200, executor_list_json(r->ex), NULL);
}

static void create_task(routes_t *r, http_request_t *req)
{
    char err[1024];
    json_t *v = task_json_parse(req->body, req->body_len, err, sizeof err);
    task_t *t = NULL;
    if (!v || task_decode(v, &t, err, sizeof err) != 0) {
        json_decref(v);
        respond_error(req, 400, "%s", err);
        return;
    }
    json_decref(v);
    char name[TASK_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", t->name);
    int rc = executor_create(r->ex, t, err, sizeof err);
    if (rc) {
        respond_error(req, errno_status(rc), "%s", err);
        return;
    }
    respond_json(req, 201, executor_get_json(r->ex, name), NULL);
}

void routes_handle(http_request_t *req, void *ud)
{
    routes_t *r = ud;
    route_id_t id = 0;
    const char *name = NULL;
    int m = routes_match(req->method, req->path, &id, &name);
    if (m == 404) {
        respond_error(req, 404, "no route %s %.200s", req->method, req->path);
        return;
    }
    if (m == 405) {
        respond_error(req, 405, "method %s is not allowed on %.200s", req->method, req->path);
        return;
    }
    if (id != ROUTE_HEALTH &&
        !routes_token_ok(http_request_header(req, "Authorization"), r->token)) {
        respond_error(req, 401, "a valid bearer token is required (Authorization: Bearer <token>)");
        return;
    }
    if (req->body_too_large) {
        respond_error(req, 413, "the request body is too large");
        return;
    }
    if (name && !task_name_valid(name)) {
        respond_error(req, 400,
                      "\"%.100s\" is not a valid task name (lowercase letters, digits, '-' and "
                      "'.', starting and ending with a letter or digit)",
                      name);
        return;
    }
    json_t *t;
    switch (id) {
    case ROUTE_HEALTH:
        respond_json(req, 200, json_pack("{s:s}", "status", "healthy"), NULL);
        break;
    case ROUTE_SET_TASKS:
        set_tasks(r, req);
        break;
    case ROUTE_GET_TASKS:
        get_tasks(r, req);
        break;
    case ROUTE_CREATE_TASK:
        create_task(r, req);
        break;
    case ROUTE_GET_TASK:
        t = executor_get_json(r->ex, name);
        if (!t)
            respond_error(req, 404, "task \"%s\" not found", name);
        else
            respond_json(req, 200, t, NULL);
        break;
    case ROUTE_DELETE_TASK:
        if (executor_delete(r->ex, name) != 0)
            respond_error(req, 404, "task \"%s\" not found", name);
        else
            http_respond(req, 204, NULL, "", 0, NULL);
        break;
    }
}

routes_t *routes_new(uv_loop_t *loop, executor_t *ex, const char *token)
{
    routes_t *r = calloc(1, sizeof *r);
    r->loop = loop;
    r->ex = ex;
    r->token = token && *token ? strdup(token) : NULL;
    executor_on_change(ex, on_change, r);
    return r;
}

void routes_free(routes_t *r)
{
    if (!r) return;
    on_change(r);
    executor_on_change(r->ex, NULL, NULL);
    free(r->token);
    free(r);
}
