/* container: one container's processes: building its environment, command line, mounts and
 * identity from the spec, spawning it through the launcher with its output appended to the
 * log of the run, recording its exit (StartError from the launcher's error file), and
 * deciding restarts (restartPolicy, back-off, CrashLoopBackOff). */
#include "kubelet/kubelet_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "kubelet/envexpand.h"
#include "kubelet/launcher.h"

void ctr_init(kl_ctr_t *c, kl_pod_t *p, json_t *spec, bool is_init)
{
    memset(c, 0, sizeof *c);
    c->pod = p;
    c->spec = spec;
    c->name = jsonx_str(spec, "name", "");
    c->is_init = is_init;
    c->state = C_WAITING;
    snprintf(c->wait_reason, sizeof c->wait_reason, "%s",
             is_init || p->n_init == 0 ? "ContainerCreating" : "PodInitializing");
}

static void term_clear(kl_term_t *t)
{
    free(t->message);
    memset(t, 0, sizeof *t);
}

void ctr_clear(kl_ctr_t *c)
{
    term_clear(&c->term);
    term_clear(&c->last);
    free(c->wait_message);
    c->wait_message = NULL;
    envlist_environ_free(c->env);
    c->env = NULL;
}

void ctr_set_waiting(kl_ctr_t *c, const char *reason, const char *fmt, ...)
{
    c->state = C_WAITING;
    snprintf(c->wait_reason, sizeof c->wait_reason, "%s", reason);
    free(c->wait_message);
    c->wait_message = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&c->wait_message, fmt, ap) < 0) c->wait_message = NULL;
        va_end(ap);
    }
}

void kl_ctr_field_path(kl_ctr_t *c, char *buf, size_t len)
{
    snprintf(buf, len, "spec.%s{%s}", c->is_init ? "initContainers" : "containers", c->name);
}

void ctr_signal(kl_ctr_t *c, bool kill)
{
    if (!c->proc_alive) return;
    if (kill) {
        c->kill_sent = true;
        kl_proc_kill(&c->proc, LAUNCHER_SIG_KILLTREE);
    } else {
        c->term_sent = true;
        kl_proc_kill(&c->proc, SIGTERM);
    }
}

void ctr_stop(kl_ctr_t *c)
{
    if (!c->proc_alive || c->term_sent) return;
    long long grace = jsonx_int(c->pod->spec_obj, "spec.terminationGracePeriodSeconds", 30);
    ctr_signal(c, false);
    c->kill_at_ms = kl_now_ms(c->pod->kl) + (uint64_t)(grace > 0 ? grace : 0) * 1000;
    if (grace <= 0) ctr_signal(c, true);
}

/* ---- exit and restart ---- */

static void ctr_exited(kl_ctr_t *c, int code, int sig, const char *reason, char *message)
{
    kl_pod_t *p = c->pod;
    kubelet_t *kl = p->kl;
    uint64_t now = kl_now_ms(kl);
    probes_cancel(c);
    c->ready = false;
    c->started = false;
    term_clear(&c->term);
    c->term.set = true;
    c->term.exit_code = code;
    c->term.signal = sig;
    snprintf(c->term.reason, sizeof c->term.reason, "%s", reason);
    c->term.message = message;
    snprintf(c->term.started_at, sizeof c->term.started_at, "%s", c->started_at);
    kl_now_time(c->term.finished_at, sizeof c->term.finished_at);
    snprintf(c->term.container_id, sizeof c->term.container_id, "%s", c->container_id);
    c->state = C_TERMINATED;
    c->kill_at_ms = 0;
    if (kl->stopping) return;
    logs_run_ended(p, c);
    kl_pod_kick(p);
    if (p->deleting || p->finished) {
        c->done = true;
        return;
    }
    const char *policy = pod_restart_policy(p);
    bool restart = c->is_init ? (code != 0 && strcmp(policy, "Never") != 0)
                              : backoff_should_restart(policy, code);
    if (!restart) {
        c->done = true;
        return;
    }
    unsigned delay = backoff_on_exit(&c->backoff, (double)(now - c->started_ms) / 1000.0);
    c->restart_at_ms = now + (uint64_t)delay * 1000;
    if (delay > 0) {
        term_clear(&c->last);
        c->last = c->term;
        memset(&c->term, 0, sizeof c->term);
        ctr_set_waiting(c, "CrashLoopBackOff",
                        "back-off %us restarting failed container=%s pod=%s_%s(%s)", delay, c->name,
                        p->name, p->ns, p->uid);
        char fp[300];
        kl_ctr_field_path(c, fp, sizeof fp);
        kl_event(p, fp, "Warning", "BackOff", "kubelet",
                 "Back-off restarting failed container %s in pod %s_%s(%s)", c->name, p->name,
                 p->ns, p->uid);
    }
}

static char *read_small_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    char buf[2048];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    return strdup(buf);
}

static void err_path(kl_ctr_t *c, int run, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%d.err", c->pod->dir, c->name, run);
}

static void on_ctr_exit(kl_proc_t *h, int64_t status, int sig)
{
    kl_ctr_t *c = h->data;
    kl_pod_t *p = c->pod;
    c->proc_alive = false;
    int code = sig ? 128 + sig : (int)status;
    char *msg = NULL;
    const char *reason = code == 0 ? "Completed" : "Error";
    if (code == LAUNCHER_EXIT_STARTFAIL) {
        char ep[4400];
        err_path(c, c->runs - 1, ep, sizeof ep);
        msg = read_small_file(ep);
        if (msg) {
            reason = "StartError";
            unlink(ep);
        }
    }
    ctr_exited(c, code, sig, reason, msg);
    if (msg && !p->kl->stopping) {
        char fp[300];
        kl_ctr_field_path(c, fp, sizeof fp);
        kl_event(p, fp, "Warning", "Failed", "kubelet", "Error: %s", msg);
    }
    kl_pod_handle_released(p); /* last: it may free the pod */
}

/* A start that failed before any process ran: recorded as a run that ended at once. */
static void start_failed(kl_ctr_t *c, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    c->runs++;
    kl_container_id(c->container_id, sizeof c->container_id);
    kl_now_time(c->started_at, sizeof c->started_at);
    c->started_ms = kl_now_ms(c->pod->kl);
    char fp[300];
    kl_ctr_field_path(c, fp, sizeof fp);
    kl_event(c->pod, fp, "Warning", "Failed", "kubelet", "Error: %s", msg ? msg : "start failed");
    ctr_exited(c, LAUNCHER_EXIT_STARTFAIL, 0, "StartError", msg);
}

/* ---- start ---- */

static json_t *lookup_obj(void *ud, const char *kind, const char *name)
{
    kl_pod_t *p = ud;
    restype_t *rt = strcmp(kind, "secret") == 0 ? p->kl->secrets_rt : p->kl->cm_rt;
    char key[600];
    snprintf(key, sizeof key, "%s/%s", p->ns, name);
    return rt ? store_coll_get(rt->coll, key) : NULL;
}

/* PATH lookup of a command without a '/', as the runtime does. 0 with the path in out. */
static int resolve(const char *cmd, const char *path_env, char *out, size_t len)
{
    if (strchr(cmd, '/')) {
        snprintf(out, len, "%s", cmd);
        return 0;
    }
    const char *s = path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    while (*s) {
        size_t n = strcspn(s, ":");
        snprintf(out, len, "%.*s/%s", (int)(n ? n : 1), n ? s : ".", cmd);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
        s += n;
        if (*s == ':') s++;
    }
    return -1;
}

json_t *ctr_security_int(kl_ctr_t *c, const char *field)
{
    json_t *v = jsonx_get(json_object_get(c->spec, "securityContext"), field);
    if (json_is_integer(v)) return v;
    v = jsonx_get(jsonx_get(c->pod->spec_obj, "spec.securityContext"), field);
    return json_is_integer(v) ? v : NULL;
}

void ctr_start(kl_ctr_t *c)
{
    kl_pod_t *p = c->pod;
    kubelet_t *kl = p->kl;
    char fp[300];
    kl_ctr_field_path(c, fp, sizeof fp);
    const char *image = jsonx_str(c->spec, "image", "");
    json_t *cmd = json_object_get(c->spec, "command"), *args = json_object_get(c->spec, "args");
    const char *mapped = imagemap_lookup(kl->images, image);
    c->restart_at_ms = 0;
    if (json_array_size(cmd) == 0 && !mapped) {
        ctr_set_waiting(c, "ErrImagePull",
                        "image \"%s\" is not in localcluster's image map and the container has no "
                        "command: start localcluster with --image-map %s=/path/to/binary (or "
                        "--image-map-file), or give the container a command",
                        image, *image ? image : "IMAGE");
        c->done = true;
        kl_event(p, fp, "Warning", "Failed", "kubelet", "Failed to pull image \"%s\": %s", image,
                 c->wait_message);
        return;
    }
    if (c->term.set) { /* the previous run becomes lastState */
        term_clear(&c->last);
        c->last = c->term;
        memset(&c->term, 0, sizeof c->term);
    }
    json_t *uid = ctr_security_int(c, "runAsUser"), *gid = ctr_security_int(c, "runAsGroup");
    envlist_t env = {0};
    envlist_set(&env, "PATH", kl->host_path);
    envlist_set(&env, "HOME", uid && json_integer_value(uid) != 0 ? "/" : kl->home);
    envlist_set(&env, "HOSTNAME", p->name);
    envlist_set(&env, "POD_IP", p->ip);
    char port[16];
    snprintf(port, sizeof port, "%d", kl->api_port);
    envlist_set(&env, "KUBERNETES_SERVICE_HOST", "127.0.0.1");
    envlist_set(&env, "KUBERNETES_SERVICE_PORT", port);
    env_lookup_t lk = {.get = lookup_obj,
                       .ud = p,
                       .pod_ip = p->ip,
                       .host_ip = "127.0.0.1",
                       .node_cpus = kl->ncpu,
                       .node_mem_bytes = kl->mem_bytes};
    char err[1024];
    if (envexpand_container_env(p->obj, c->spec, &lk, &env, err, sizeof err) != 0) {
        ctr_set_waiting(c, "CreateContainerConfigError", "%s", err);
        c->restart_at_ms = kl_now_ms(kl) + 10000; /* retried: the ConfigMap may appear */
        kl_event(p, fp, "Warning", "Failed", "kubelet", "Error: %s", err);
        envlist_free(&env);
        return;
    }
    char *verr = NULL;
    json_t *mounts = volumes_mounts(p, c, &verr);
    if (!mounts) {
        ctr_set_waiting(c, "CreateContainerConfigError", "%s", verr ? verr : "bad volume mount");
        c->done = true;
        kl_event(p, fp, "Warning", "Failed", "kubelet", "Error: %s", c->wait_message);
        free(verr);
        envlist_free(&env);
        return;
    }
    json_t *argv = json_array();
    if (json_array_size(cmd) == 0) json_array_append_new(argv, json_string(mapped));
    size_t i;
    json_t *a;
    for (int pass = 0; pass < 2; pass++) {
        json_array_foreach(pass ? args : cmd, i, a)
        {
            char *x = envexpand(json_is_string(a) ? json_string_value(a) : "", &env);
            json_array_append_new(argv, json_string(x));
            free(x);
        }
    }
    if (c->runs == 0)
        kl_event(p, fp, "Normal", "Pulled", "kubelet",
                 "Container image \"%s\" already present on machine", image);
    char path[4096];
    const char *argv0 = json_string_value(json_array_get(argv, 0));
    if (!argv0 || !*argv0 || resolve(argv0, envlist_get(&env, "PATH"), path, sizeof path) != 0) {
        start_failed(c,
                     "failed to start container \"%s\": exec: \"%s\": executable file not "
                     "found in $PATH",
                     c->name, argv0 ? argv0 : "");
        json_decref(argv);
        json_decref(mounts);
        envlist_free(&env);
        return;
    }

    char dir[4400], logp[4400], errp[4400];
    snprintf(dir, sizeof dir, "%s/%s", p->dir, c->name);
    if (c->runs == 0) mkdir(dir, 0755);
    logs_path(p, c->name, c->runs, logp, sizeof logp);
    err_path(c, c->runs, errp, sizeof errp);
    int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    json_t *spec = json_pack("{s:s,s:I,s:b,s:I,s:s,s:o,s:s,s:o,s:s,s:s}", "mode", "container",
                             "parent", (json_int_t)kl->self_pid, "ownPid", !p->shared_pid, "nsPid",
                             (json_int_t)(p->shared_pid ? p->pause.pid : 0), "hostname", p->name,
                             "mounts", mounts, "path", path, "argv", argv, "cwd",
                             jsonx_str(c->spec, "workingDir", ""), "errFile", errp);
    char label[700];
    snprintf(label, sizeof label, "%s/%s/%s", p->ns, p->name, c->name);
    json_object_set_new(spec, "label", json_string(label));
    if (uid) json_object_set(spec, "uid", uid);
    if (gid) json_object_set(spec, "gid", gid);
    json_t *groups = json_array();
    json_array_foreach(jsonx_get(p->spec_obj, "spec.securityContext.supplementalGroups"), i, a)
        json_array_append(groups, a);
    json_t *fsg = jsonx_get(p->spec_obj, "spec.securityContext.fsGroup");
    if (json_is_integer(fsg)) json_array_append(groups, fsg);
    if (json_array_size(groups)) json_object_set(spec, "groups", groups);
    json_decref(groups);
    char *spec_text = json_dumps(spec, JSON_COMPACT);
    json_decref(spec);
    char *args_v[] = {"localcluster", LAUNCHER_ARG, spec_text, NULL};
    char **environ_v = envlist_environ(&env);
    envlist_free(&env);
    int fds[3] = {-1, logfd, logfd};
    c->proc.data = c;
    int rc = kl_proc_spawn(kl->procs, &c->proc, kl->launcher, args_v, environ_v, fds, on_ctr_exit);
    if (logfd >= 0) close(logfd);
    free(spec_text);
    envlist_environ_free(c->env);
    c->env = environ_v;
    if (rc != 0) {
        start_failed(c, "failed to start container \"%s\": %s", c->name, strerror(-rc));
        return;
    }
    p->open_handles++; /* released when the process is reaped */
    c->runs++;
    c->proc_alive = true;
    c->pid = c->proc.pid;
    c->term_sent = c->kill_sent = false;
    c->kill_at_ms = 0;
    c->state = C_RUNNING;
    free(c->wait_message);
    c->wait_message = NULL;
    c->wait_reason[0] = '\0';
    kl_container_id(c->container_id, sizeof c->container_id);
    kl_now_time(c->started_at, sizeof c->started_at);
    c->started_ms = kl_now_ms(kl);
    probes_reset(c);
    kl_event(p, fp, "Normal", "Created", "kubelet", "Created container %s", c->name);
    kl_event(p, fp, "Normal", "Started", "kubelet", "Started container %s", c->name);
}
