/* probes: startup, readiness and liveness probes of running containers: scheduling by
 * initialDelaySeconds/periodSeconds, success and failure thresholds, and the three handlers:
 * exec (the command inside the container's namespaces, through the launcher), tcpSocket (a
 * connect to the pod IP) and httpGet (an HTTP/1.0 GET; 2xx/3xx succeed), each bounded by
 * timeoutSeconds. Results set readiness or stop the container (liveness, startup). */
#include "kubelet/kubelet_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "kubelet/launcher.h"

enum { RUN_EXEC, RUN_TCP, RUN_HTTP };

struct probe_run {
    kubelet_t *kl;
    kl_ctr_t *c; /* NULL once cancelled */
    probe_kind_t kind;
    int type;
    probe_run_t *next, *prev;
    bool finished;
    int open_handles;
    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_process_t proc;
    uv_pipe_t out;
    bool proc_alive, out_open;
    char target[64]; /* "ip:port" */
    char url[600];
    char *request;
    char buf[1024];
    size_t len;
    int exit_code;
};

static const char *const kind_field[] = {"startupProbe", "readinessProbe", "livenessProbe"};
static const char *const kind_name[] = {"Startup", "Readiness", "Liveness"};

static void run_free_maybe(probe_run_t *r)
{
    if (r->open_handles > 0) return;
    if (r->prev)
        r->prev->next = r->next;
    else
        r->kl->runs = r->next;
    if (r->next) r->next->prev = r->prev;
    free(r->request);
    free(r);
}

static void on_run_closed(uv_handle_t *h)
{
    probe_run_t *r = h->data;
    r->open_handles--;
    run_free_maybe(r);
}

static void result(kl_ctr_t *c, probe_kind_t kind, bool ok, const char *msg);

/* Ends a run once: reports (unless cancelled) and closes its handles; an exec process is
 * killed and closed when it exits. */
static void finish(probe_run_t *r, bool ok, const char *msg)
{
    if (r->finished) return;
    r->finished = true;
    kl_ctr_t *c = r->c;
    r->c = NULL;
    if (c) {
        c->probes[r->kind].run = NULL;
        result(c, r->kind, ok, msg);
    }
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_run_closed);
    if (r->type != RUN_EXEC) {
        uv_close((uv_handle_t *)&r->tcp, on_run_closed);
    } else {
        if (r->proc_alive) uv_process_kill(&r->proc, LAUNCHER_SIG_KILLTREE);
        if (r->out_open) {
            r->out_open = false;
            uv_close((uv_handle_t *)&r->out, on_run_closed);
        }
    }
}

static void on_timeout(uv_timer_t *t)
{
    probe_run_t *r = t->data;
    char msg[700];
    if (r->type == RUN_EXEC)
        snprintf(msg, sizeof msg, "command timed out");
    else if (r->type == RUN_HTTP)
        snprintf(msg, sizeof msg,
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                 "headers)",
                 r->url);
    else
        snprintf(msg, sizeof msg, "dial tcp %s: i/o timeout", r->target);
    finish(r, false, msg);
}

/* ---- exec ---- */

static void on_exec_exit(uv_process_t *h, int64_t status, int sig)
{
    probe_run_t *r = h->data;
    r->proc_alive = false;
    r->exit_code = sig ? 128 + sig : (int)status;
    uv_close((uv_handle_t *)h, on_run_closed);
    if (r->out_open) return; /* finish when the output ends */
    char msg[1200];
    snprintf(msg, sizeof msg, "%.*s", (int)r->len, r->buf);
    if (!r->len) snprintf(msg, sizeof msg, "command exited with code %d", r->exit_code);
    finish(r, r->exit_code == 0, msg);
}

static void out_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    probe_run_t *r = h->data;
    static char sink[256];
    if (r->len < sizeof r->buf - 1)
        *b = uv_buf_init(r->buf + r->len, (unsigned)(sizeof r->buf - 1 - r->len));
    else
        *b = uv_buf_init(sink, sizeof sink);
}

static void on_exec_out(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    probe_run_t *r = s->data;
    if (n > 0 && b->base >= r->buf && b->base < r->buf + sizeof r->buf) r->len += (size_t)n;
    if (n >= 0) return;
    if (r->out_open) {
        r->out_open = false;
        uv_close((uv_handle_t *)s, on_run_closed);
    }
    if (!r->proc_alive && !r->finished) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%.*s", (int)r->len, r->buf);
        if (!r->len) snprintf(msg, sizeof msg, "command exited with code %d", r->exit_code);
        finish(r, r->exit_code == 0, msg);
    }
}

static int start_exec(probe_run_t *r, kl_ctr_t *c, json_t *h, char *err, size_t errlen)
{
    kubelet_t *kl = r->kl;
    json_t *cmd = json_object_get(h, "command");
    if (json_array_size(cmd) == 0) {
        snprintf(err, errlen, "exec probe without a command");
        return -1;
    }
    json_t *spec = json_pack("{s:s,s:I,s:I,s:O,s:s,s:s+++++}", "mode", "exec", "parent",
                             (json_int_t)kl->self_pid, "nsPid", (json_int_t)c->pid, "argv", cmd,
                             "cwd", jsonx_str(c->spec, "workingDir", ""), "label", "probe ",
                             c->pod->ns, "/", c->pod->name, "/", c->name);
    json_object_set_new(spec, "stderrToStdout", json_true());
    json_t *uid = ctr_security_int(c, "runAsUser"), *gid = ctr_security_int(c, "runAsGroup");
    if (uid) json_object_set(spec, "uid", uid);
    if (gid) json_object_set(spec, "gid", gid);
    char *text = json_dumps(spec, JSON_COMPACT);
    json_decref(spec);
    char *args[] = {"localcluster", LAUNCHER_ARG, text, NULL};
    uv_pipe_init(kl->loop, &r->out, 0);
    r->out.data = r;
    r->open_handles++;
    r->out_open = true;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
        {.flags = UV_IGNORE}, /* the launcher sends stderr to stdout ("stderrToStdout") */
    };
    char *noenv[] = {NULL};
    uv_process_options_t o = {.exit_cb = on_exec_exit,
                              .file = kl->launcher,
                              .args = args,
                              .env = c->env ? c->env : noenv,
                              .stdio_count = 3,
                              .stdio = stdio};
    r->proc.data = r;
    int rc = uv_spawn(kl->loop, &r->proc, &o);
    free(text);
    r->open_handles++;
    if (rc != 0) {
        uv_close((uv_handle_t *)&r->proc, on_run_closed);
        snprintf(err, errlen, "starting the probe command: %s", uv_strerror(rc));
        return -1;
    }
    r->proc_alive = true;
    uv_read_start((uv_stream_t *)&r->out, out_alloc, on_exec_out);
    return 0;
}

/* ---- tcpSocket / httpGet ---- */

static void on_http_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    probe_run_t *r = h->data;
    static char sink[512];
    if (r->len < sizeof r->buf - 1)
        *b = uv_buf_init(r->buf + r->len, (unsigned)(sizeof r->buf - 1 - r->len));
    else
        *b = uv_buf_init(sink, sizeof sink);
}

static void http_check(probe_run_t *r, bool eof)
{
    r->buf[r->len] = '\0';
    char *nl = strstr(r->buf, "\r\n");
    if (!nl && !eof && r->len < sizeof r->buf - 1) return;
    int code = 0;
    if (sscanf(r->buf, "HTTP/%*d.%*d %d", &code) != 1) {
        char msg[800];
        snprintf(msg, sizeof msg, "Get \"%s\": malformed HTTP response", r->url);
        finish(r, false, msg);
        return;
    }
    char msg[100];
    snprintf(msg, sizeof msg, "HTTP probe failed with statuscode: %d", code);
    finish(r, code >= 200 && code < 400, msg);
}

static void on_http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    probe_run_t *r = s->data;
    if (r->finished) return;
    if (n > 0 && b->base >= r->buf && b->base < r->buf + sizeof r->buf) r->len += (size_t)n;
    if (n < 0) {
        if (r->len == 0) {
            char msg[800];
            snprintf(msg, sizeof msg, "Get \"%s\": EOF", r->url);
            finish(r, false, msg);
        } else {
            http_check(r, true);
        }
        return;
    }
    http_check(r, false);
}

static void on_written(uv_write_t *w, int status)
{
    probe_run_t *r = w->data;
    if (r->finished) return;
    if (status < 0) {
        char msg[800];
        snprintf(msg, sizeof msg, "Get \"%s\": %s", r->url, uv_strerror(status));
        finish(r, false, msg);
    }
}

static void on_connect(uv_connect_t *cr, int status)
{
    probe_run_t *r = cr->data;
    if (r->finished) return;
    if (status < 0) {
        char msg[800];
        const char *why =
            status == UV_ECONNREFUSED ? "connect: connection refused" : uv_strerror(status);
        if (r->type == RUN_HTTP)
            snprintf(msg, sizeof msg, "Get \"%s\": dial tcp %s: %s", r->url, r->target, why);
        else
            snprintf(msg, sizeof msg, "dial tcp %s: %s", r->target, why);
        finish(r, false, msg);
        return;
    }
    if (r->type == RUN_TCP) {
        finish(r, true, NULL);
        return;
    }
    uv_buf_t b = uv_buf_init(r->request, (unsigned)strlen(r->request));
    r->wr.data = r;
    uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, on_written);
    uv_read_start((uv_stream_t *)&r->tcp, on_http_alloc, on_http_read);
}

/* A probe port: a number, a numeric string, or a container port name. -1 if unknown. */
static int probe_port(kl_ctr_t *c, json_t *port)
{
    if (json_is_integer(port)) return (int)json_integer_value(port);
    const char *s = json_string_value(port);
    if (!s) return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end) return (int)v;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c->spec, "ports"), i,
                       p) if (strcmp(jsonx_str(p, "name", ""), s) ==
                              0) return (int)jsonx_int(p, "containerPort", -1);
    return -1;
}

static int start_net(probe_run_t *r, kl_ctr_t *c, json_t *h, bool http, char *err, size_t errlen)
{
    const char *host = jsonx_str(h, "host", "");
    if (!*host) host = c->pod->ip;
    int port = probe_port(c, json_object_get(h, "port"));
    if (port <= 0 || port > 65535) {
        snprintf(err, errlen, "probe port %s not found in the container's ports",
                 json_is_string(json_object_get(h, "port"))
                     ? json_string_value(json_object_get(h, "port"))
                     : "?");
        return -1;
    }
    struct sockaddr_in sa;
    if (uv_ip4_addr(host, port, &sa) != 0) {
        snprintf(err, errlen, "probe host \"%s\" is not an IPv4 address", host);
        return -1;
    }
    snprintf(r->target, sizeof r->target, "%s:%d", host, port);
    if (http) {
        const char *scheme = jsonx_str(h, "scheme", "HTTP");
        const char *path = jsonx_str(h, "path", "/");
        snprintf(r->url, sizeof r->url, "%s://%s%s%s", strcmp(scheme, "HTTPS") ? "http" : "https",
                 r->target, *path == '/' ? "" : "/", path);
        if (strcmp(scheme, "HTTPS") == 0) {
            snprintf(err, errlen, "Get \"%s\": HTTPS probes are not supported by localcluster",
                     r->url);
            return -1;
        }
        size_t cap = 1024, n = 0;
        char *req = malloc(cap);
        n += (size_t)snprintf(req, cap,
                              "GET %s%s HTTP/1.0\r\nHost: %s\r\nUser-Agent: kube-probe/1.32\r\n"
                              "Accept: */*\r\n",
                              *path == '/' ? "" : "/", path, r->target);
        size_t i;
        json_t *hh;
        json_array_foreach(json_object_get(h, "httpHeaders"), i, hh)
        {
            const char *k = jsonx_str(hh, "name", ""), *v = jsonx_str(hh, "value", "");
            size_t need = strlen(k) + strlen(v) + 8;
            while (n + need + 4 > cap)
                req = realloc(req, cap *= 2);
            n += (size_t)snprintf(req + n, cap - n, "%s: %s\r\n", k, v);
        }
        while (n + 4 > cap)
            req = realloc(req, cap *= 2);
        snprintf(req + n, cap - n, "\r\n");
        r->request = req;
    }
    uv_tcp_init(r->kl->loop, &r->tcp);
    r->tcp.data = r;
    r->open_handles++;
    r->conn.data = r;
    int rc = uv_tcp_connect(&r->conn, &r->tcp, (const struct sockaddr *)&sa, on_connect);
    if (rc != 0) {
        snprintf(err, errlen, "dial tcp %s: %s", r->target, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void probe_start(kl_ctr_t *c, probe_kind_t kind)
{
    kubelet_t *kl = c->pod->kl;
    kl_probe_t *pr = &c->probes[kind];
    probe_run_t *r = calloc(1, sizeof *r);
    r->kl = kl;
    r->c = c;
    r->kind = kind;
    r->next = kl->runs;
    if (kl->runs) kl->runs->prev = r;
    kl->runs = r;
    pr->run = r;
    uv_timer_init(kl->loop, &r->timer);
    r->timer.data = r;
    r->open_handles = 1;
    json_t *h;
    char err[800] = "";
    int rc;
    if ((h = json_object_get(pr->spec, "exec"))) {
        r->type = RUN_EXEC;
        rc = start_exec(r, c, h, err, sizeof err);
    } else if ((h = json_object_get(pr->spec, "httpGet"))) {
        r->type = RUN_HTTP;
        rc = start_net(r, c, h, true, err, sizeof err);
    } else if ((h = json_object_get(pr->spec, "tcpSocket"))) {
        r->type = RUN_TCP;
        rc = start_net(r, c, h, false, err, sizeof err);
    } else {
        r->type = RUN_TCP;
        uv_tcp_init(kl->loop, &r->tcp);
        r->tcp.data = r;
        r->open_handles++;
        snprintf(err, sizeof err,
                 "unsupported probe handler (localcluster runs exec, tcpSocket "
                 "and httpGet)");
        rc = -1;
    }
    if (rc != 0) {
        if (r->type != RUN_EXEC && r->open_handles < 2) {
            uv_tcp_init(kl->loop, &r->tcp);
            r->tcp.data = r;
            r->open_handles++;
        }
        finish(r, false, err);
        return;
    }
    uv_timer_start(&r->timer, on_timeout, (uint64_t)pr->timeout_s * 1000, 0);
}

/* ---- results ---- */

static void result(kl_ctr_t *c, probe_kind_t kind, bool ok, const char *msg)
{
    kl_probe_t *pr = &c->probes[kind];
    kl_pod_t *p = c->pod;
    if (ok) {
        pr->successes++;
        pr->failures = 0;
        if (pr->successes >= pr->success_threshold) pr->ok = true;
    } else {
        pr->failures++;
        pr->successes = 0;
        if (pr->failures >= pr->failure_threshold) pr->ok = false;
        char fp[300];
        kl_ctr_field_path(c, fp, sizeof fp);
        kl_event(p, fp, "Warning", "Unhealthy", "kubelet", "%s probe failed: %s", kind_name[kind],
                 msg && *msg ? msg : "failed");
    }
    if (kind == PROBE_STARTUP) {
        if (pr->ok) {
            c->started = true;
            if (!c->probes[PROBE_READINESS].spec) c->ready = true;
        } else if (pr->failures >= pr->failure_threshold) {
            char fp[300];
            kl_ctr_field_path(c, fp, sizeof fp);
            kl_event(p, fp, "Normal", "Killing", "kubelet",
                     "Container %s failed startup probe, will be restarted", c->name);
            ctr_stop(c);
        }
    } else if (kind == PROBE_READINESS) {
        c->ready = c->started && pr->ok;
    } else if (!pr->ok) {
        char fp[300];
        kl_ctr_field_path(c, fp, sizeof fp);
        kl_event(p, fp, "Normal", "Killing", "kubelet",
                 "Container %s failed liveness probe, will be restarted", c->name);
        ctr_stop(c);
    }
    kl_pod_kick(p);
}

void probes_reset(kl_ctr_t *c)
{
    uint64_t now = kl_now_ms(c->pod->kl);
    for (int k = 0; k < PROBE_KINDS; k++) {
        kl_probe_t *pr = &c->probes[k];
        pr->spec = c->is_init ? NULL : json_object_get(c->spec, kind_field[k]);
        if (!json_is_object(pr->spec)) pr->spec = NULL;
        pr->initial_delay_s = (int)jsonx_int(pr->spec, "initialDelaySeconds", 0);
        pr->period_s = (int)jsonx_int(pr->spec, "periodSeconds", 10);
        pr->timeout_s = (int)jsonx_int(pr->spec, "timeoutSeconds", 1);
        pr->success_threshold = (int)jsonx_int(pr->spec, "successThreshold", 1);
        pr->failure_threshold = (int)jsonx_int(pr->spec, "failureThreshold", 3);
        if (pr->period_s < 1) pr->period_s = 1;
        if (pr->timeout_s < 1) pr->timeout_s = 1;
        if (pr->success_threshold < 1 || k != PROBE_READINESS) pr->success_threshold = 1;
        if (pr->failure_threshold < 1) pr->failure_threshold = 1;
        if (pr->initial_delay_s < 0) pr->initial_delay_s = 0;
        pr->next_ms = now + (uint64_t)pr->initial_delay_s * 1000;
        pr->successes = pr->failures = 0;
        pr->ok = k == PROBE_LIVENESS;
        pr->run = NULL;
    }
    c->started = !c->probes[PROBE_STARTUP].spec;
    c->ready = c->started && !c->probes[PROBE_READINESS].spec;
}

void probes_cancel(kl_ctr_t *c)
{
    for (int k = 0; k < PROBE_KINDS; k++) {
        probe_run_t *r = c->probes[k].run;
        c->probes[k].run = NULL;
        if (r) {
            r->c = NULL;
            finish(r, false, NULL);
        }
    }
}

void probes_tick(kl_ctr_t *c, uint64_t now, uint64_t *next)
{
    if (c->kill_at_ms) {
        if (now >= c->kill_at_ms && !c->kill_sent) ctr_signal(c, true);
        if (c->kill_at_ms > now && c->kill_at_ms < *next) *next = c->kill_at_ms;
    }
    if (c->term_sent) return;
    for (int k = 0; k < PROBE_KINDS; k++) {
        kl_probe_t *pr = &c->probes[k];
        if (!pr->spec) continue;
        if ((k == PROBE_STARTUP) == c->started) continue;
        if (!pr->run && now >= pr->next_ms) {
            pr->next_ms = now + (uint64_t)pr->period_s * 1000;
            probe_start(c, (probe_kind_t)k);
            if (!c->proc_alive || c->term_sent) return;
        }
        if (pr->next_ms < *next) *next = pr->next_ms;
    }
}

void probes_stop_all(kubelet_t *kl)
{
    for (probe_run_t *r = kl->runs; r; r = r->next) {
        if (r->c) r->c->probes[r->kind].run = NULL;
        r->c = NULL;
        finish(r, false, NULL);
    }
}
