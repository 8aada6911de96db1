/* logs: container logs: one file per run under the pod's directory (stdout and stderr
 * appended by the process itself), and the pods/{name}/log endpoint: container, previous,
 * tailLines, limitBytes and follow (a chunked stream fed by a 100 ms timer until the run ends
 * or the client leaves). */
#include "kubelet/kubelet_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jsonx.h"

#define FOLLOW_TICK_MS   100
#define FOLLOW_MAX_QUEUE (1u << 20)

struct log_follow {
    kubelet_t *kl;
    kl_pod_t *p; /* NULL once the pod is released */
    kl_ctr_t *c;
    int run;
    bool run_over; /* the run ended: drain, then end the stream */
    http_request_t *req;
    int fd;
    uv_timer_t timer;
    bool ended;
    log_follow_t *next, *prev;
};

void logs_path(kl_pod_t *p, const char *ctr, int run, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%d.log", p->dir, ctr, run);
}

static void on_follow_closed(uv_handle_t *h)
{
    log_follow_t *f = h->data;
    kubelet_t *kl = f->kl;
    if (f->prev)
        f->prev->next = f->next;
    else
        kl->follows = f->next;
    if (f->next) f->next->prev = f->prev;
    free(f);
}

static void follow_end(log_follow_t *f, bool send_end)
{
    if (f->ended) return;
    f->ended = true;
    if (send_end && f->req) http_stream_end(f->req);
    f->req = NULL;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, on_follow_closed);
}

/* Sends what the file has gained. Returns false if the client is gone. */
static bool follow_pump(log_follow_t *f)
{
    char buf[65536];
    while (f->req && f->fd >= 0 && http_stream_pending(f->req) < FOLLOW_MAX_QUEUE) {
        ssize_t n = read(f->fd, buf, sizeof buf);
        if (n <= 0) break;
        if (http_stream_write(f->req, buf, (size_t)n) != 0) return false;
    }
    return f->req != NULL;
}

static void on_follow_tick(uv_timer_t *t)
{
    log_follow_t *f = t->data;
    if (!follow_pump(f)) return; /* the close callback ends it */
    if (f->run_over && http_stream_pending(f->req) < FOLLOW_MAX_QUEUE) follow_end(f, true);
}

static void on_follow_gone(http_request_t *req, void *ud)
{
    (void)req;
    log_follow_t *f = ud;
    f->req = NULL;
    follow_end(f, false);
}

void logs_run_ended(kl_pod_t *p, kl_ctr_t *c)
{
    for (log_follow_t *f = p->kl->follows; f; f = f->next) {
        if (f->ended || f->p != p || (c && f->c != c)) continue;
        f->run_over = true;
        if (!c) { /* the pod is going away: drain now and detach */
            follow_pump(f);
            f->p = NULL;
            f->c = NULL;
            follow_end(f, true);
        }
    }
}

void logs_stop_all(kubelet_t *kl)
{
    for (log_follow_t *f = kl->follows; f; f = f->next)
        follow_end(f, true);
}

/* The last n lines of buf[0..len). */
static size_t tail_start(const char *buf, size_t len, long n)
{
    if (n < 0) return 0;
    if (n == 0) return len;
    size_t i = len;
    if (i > 0 && buf[i - 1] == '\n') i--;
    long seen = 0;
    while (i > 0) {
        if (buf[i - 1] == '\n' && ++seen == n) return i;
        i--;
    }
    return 0;
}

static char *read_all(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (n == cap) b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    *len = n;
    return b;
}

static kl_ctr_t *find_ctr(kl_pod_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_ctrs; i++)
        if (strcmp(p->ctrs[i].name, name) == 0) return &p->ctrs[i];
    for (size_t i = 0; i < p->n_init; i++)
        if (strcmp(p->init[i].name, name) == 0) return &p->init[i];
    return NULL;
}

static void names(json_t *arr, char *buf, size_t len)
{
    size_t o = 0, i;
    json_t *c;
    buf[0] = '\0';
    json_array_foreach(arr, i, c)
    {
        const char *n = jsonx_str(c, "name", "");
        if (o + strlen(n) + 2 < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", n);
    }
}

static bool spec_has(json_t *pod, const char *name)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(jsonx_get(pod, lists[l]), i,
                           c) if (strcmp(jsonx_str(c, "name", ""), name) == 0) return true;
    }
    return false;
}

int logs_serve(void *ud, http_request_t *req, json_t *pod, kerr_t *e)
{
    kubelet_t *kl = ud;
    const char *pname = jsonx_str(pod, "metadata.name", "");
    char *container = http_request_query(req, "container");
    char *prev_s = http_request_query(req, "previous");
    char *follow_s = http_request_query(req, "follow");
    char *tail_s = http_request_query(req, "tailLines");
    char *limit_s = http_request_query(req, "limitBytes");
    bool previous = prev_s && jsonx_query_bool(prev_s);
    bool follow = follow_s && jsonx_query_bool(follow_s);
    long tail = tail_s && *tail_s ? strtol(tail_s, NULL, 10) : -1;
    long long limit = limit_s && *limit_s ? strtoll(limit_s, NULL, 10) : -1;
    free(prev_s);
    free(follow_s);
    free(tail_s);
    free(limit_s);
    int rc = -1;
    json_t *cs = jsonx_get(pod, "spec.containers");
    if (!container || !*container) {
        free(container);
        container = NULL;
        if (json_array_size(cs) == 1) {
            container = strdup(jsonx_str(json_array_get(cs, 0), "name", ""));
        } else {
            char a[1024], b[1024];
            names(cs, a, sizeof a);
            names(jsonx_get(pod, "spec.initContainers"), b, sizeof b);
            if (*b)
                kerr_bad_request(e,
                                 "a container name must be specified for pod %s, choose one of: "
                                 "[%s] or one of the init containers: [%s]",
                                 pname, a, b);
            else
                kerr_bad_request(e,
                                 "a container name must be specified for pod %s, choose one of: "
                                 "[%s]",
                                 pname, a);
            return -1;
        }
    }
    if (!spec_has(pod, container)) {
        kerr_bad_request(e, "container %s is not valid for pod %s", container, pname);
        goto out;
    }
    kl_pod_t *p = kl_pod_find(kl, jsonx_str(pod, "metadata.uid", ""));
    kl_ctr_t *c = p && !p->released ? find_ctr(p, container) : NULL;
    if (!c || c->runs == 0) {
        const char *why = c && c->wait_reason[0] ? c->wait_reason : "ContainerCreating";
        if (previous)
            kerr_bad_request(e, "previous terminated container \"%s\" in pod \"%s\" not found",
                             container, pname);
        else
            kerr_bad_request(e, "container \"%s\" in pod \"%s\" is waiting to start: %s", container,
                             pname, why);
        goto out;
    }
    int run = c->runs - 1 - (previous ? 1 : 0);
    if (run < 0) {
        kerr_bad_request(e, "previous terminated container \"%s\" in pod \"%s\" not found",
                         container, pname);
        goto out;
    }
    char path[4400];
    logs_path(p, c->name, run, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    char *data = fd >= 0 ? read_all(fd, &len) : strdup("");
    size_t start = tail_start(data, len, tail);
    size_t n = len - start;
    if (limit >= 0 && (size_t)limit < n) n = (size_t)limit;
    bool live = follow && !previous && run == c->runs - 1 && c->proc_alive;
    if (!live) {
        http_respond(req, 200, "text/plain", data + start, n, NULL);
        free(data);
        if (fd >= 0) close(fd);
        rc = 0;
        goto out;
    }
    http_stream_start(req, 200, "text/plain", NULL);
    if (n && http_stream_write(req, data + start, n) != 0) {
        free(data);
        if (fd >= 0) close(fd);
        rc = 0; /* the close callback has run; nothing more to do */
        goto out;
    }
    free(data);
    log_follow_t *f = calloc(1, sizeof *f);
    f->kl = kl;
    f->p = p;
    f->c = c;
    f->run = run;
    f->req = req;
    f->fd = fd;
    if (fd >= 0) lseek(fd, (off_t)len, SEEK_SET);
    f->next = kl->follows;
    if (kl->follows) kl->follows->prev = f;
    kl->follows = f;
    uv_timer_init(kl->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_follow_tick, FOLLOW_TICK_MS, FOLLOW_TICK_MS);
    http_request_on_close(req, on_follow_gone, f);
    rc = 0;
out:
    free(container);
    return rc;
}
