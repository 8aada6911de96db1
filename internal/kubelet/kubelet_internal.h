/* kubelet_internal: the kubelet's shared state (kubelet, pods, containers, probe state) and the
 * functions its files call on each other. Everything runs on the loop thread. */
#ifndef KUBELET_KUBELET_INTERNAL_H
#define KUBELET_KUBELET_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "apiserver/apiserver.h"
#include "apiserver/kstatus.h"
#include "kubelet/backoff.h"
#include "kubelet/imagemap.h"
#include "kubelet/kubelet.h"
#include "kubelet/podip.h"
#include "kubelet/proc.h"

typedef struct kl_pod kl_pod_t;
typedef struct kl_ctr kl_ctr_t;
typedef struct probe_run probe_run_t;
typedef struct log_follow log_follow_t;

typedef enum { PROBE_STARTUP, PROBE_READINESS, PROBE_LIVENESS, PROBE_KINDS } probe_kind_t;

typedef struct kl_probe {
    json_t *spec; /* borrowed probe object, NULL if the container has none */
    int initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
    uint64_t next_ms;        /* loop time the next probe is due */
    int successes, failures; /* consecutive */
    bool ok;                 /* the settled result */
    probe_run_t *run;        /* in flight, or NULL */
} kl_probe_t;

typedef struct kl_term {
    bool set;
    int exit_code, signal;
    char reason[32];
    char *message; /* malloc'd or NULL */
    char started_at[32], finished_at[32];
    char container_id[80];
} kl_term_t;

typedef enum { C_WAITING, C_RUNNING, C_TERMINATED } kl_cstate_t;

struct kl_ctr {
    kl_pod_t *pod;
    json_t *spec; /* borrowed from pod->spec_obj */
    const char *name;
    bool is_init;
    kl_cstate_t state;
    char wait_reason[40];
    char *wait_message;
    kl_term_t term; /* state.terminated (state == C_TERMINATED) */
    kl_term_t last; /* lastState.terminated */
    char started_at[32];
    uint64_t started_ms;
    char container_id[80];
    char **env; /* the environment of the current run (exec probes use it) */
    int runs;   /* starts so far; the log of run r is <dir>/<name>/<r>.log */
    bool ready, started;
    backoff_t backoff;
    uint64_t restart_at_ms; /* a restart is due then (0: none pending) */
    bool done;              /* never runs again */
    /* the launcher process */
    kl_proc_t proc;
    bool proc_alive;
    int pid;
    bool term_sent, kill_sent;
    uint64_t kill_at_ms; /* a graceful stop (liveness) turns into a kill then */
    kl_probe_t probes[PROBE_KINDS];
};

struct kl_pod {
    kubelet_t *kl;
    char *uid, *ns, *name;
    json_t *obj;      /* latest stored object (own reference) */
    json_t *spec_obj; /* the object when first seen (own reference); specs borrow from it */
    char ip[16];
    bool ip_held;
    char start_time[32];
    kl_ctr_t *init, *ctrs;
    size_t n_init, n_ctrs;
    bool shared_pid;
    char *dir; /* <state>/pods/<uid> */
    /* the pause process (shareProcessNamespace) */
    uv_process_t pause;
    uv_pipe_t pause_out;
    bool pause_alive, pause_ready, pause_started, pause_out_open, pause_kill_sent;
    bool set_up;
    char *config_error; /* pod-level problem (e.g. a bad volume): nothing starts */
    bool deleting, gone, delete_sent, finished, released;
    uint64_t kill_at_ms;
    bool queued;
    kl_pod_t *next_queued;
    uv_timer_t timer;
    int open_handles; /* freed once 0 after release */
    json_t *events;   /* "reason\x1fmessage" -> event name */
    log_follow_t *follows;
};

struct kubelet {
    apiserver_t *as;
    uv_loop_t *loop;
    char node[64];
    char *state_dir;
    bool own_state_dir;
    imagemap_t *images;
    podip_pool_t *ips;
    restype_t *pods_rt, *events_rt, *nodes_rt, *cm_rt, *secrets_rt;
    store_watch_t *watch;
    kl_procs_t *procs; /* container processes */
    json_t *pods;      /* uid -> kl_pod_t* (as an integer) */
    json_t *bind_keys; /* store keys of unscheduled pods to bind */
    kl_pod_t *q_head, *q_tail;
    uv_idle_t idle;
    bool stopping, self_write;
    long self_pid;
    long ncpu;
    long long mem_bytes;
    char launcher[4096]; /* localcluster-launch beside the binary, or /proc/self/exe */
    char host_path[4096];
    char home[1024];
    int api_port;
    uint64_t seq;
    probe_run_t *runs; /* probes in flight */
    log_follow_t *follows;
    int open_handles; /* kubelet-level handles (idle) */
};

/* kubelet.c */
void kl_pod_kick(kl_pod_t *p);
kl_pod_t *kl_pod_find(kubelet_t *kl, const char *uid);
void kl_now_time(char *buf, size_t len);
uint64_t kl_now_ms(kubelet_t *kl);
/* A new random container ID ("localcluster://<64 hex>"). */
void kl_container_id(char *buf, size_t len);
/* A handle of pod p was closed; frees p once released and none is left. */
void kl_pod_handle_closed(uv_handle_t *h); /* h->data is the pod */
void kl_ctr_handle_closed(uv_handle_t *h); /* h->data is a container of the pod */
void kl_pod_handle_released(kl_pod_t *p);
/* rm -rf that never crosses a mount point. */
void kl_rm_rf(const char *path);

/* pod.c: the per-pod state machine */
kl_pod_t *pod_new(kubelet_t *kl, json_t *obj);
void pod_sync(kl_pod_t *p);
void pod_stop_all(kl_pod_t *p); /* kubelet stopping: kill everything now */
void pod_free(kl_pod_t *p);
const char *pod_restart_policy(kl_pod_t *p);

/* container.c */
void ctr_init(kl_ctr_t *c, kl_pod_t *p, json_t *spec, bool is_init);
void ctr_clear(kl_ctr_t *c);
/* Starts (or restarts) c; on failure c is left waiting or terminated with the reason. */
void ctr_start(kl_ctr_t *c);
/* Sends SIGTERM (graceful) or kills the whole tree. */
void ctr_signal(kl_ctr_t *c, bool kill);
/* Stops c gracefully (SIGTERM now, kill after the pod's grace period), e.g. after a failed
 * liveness probe; it restarts per restartPolicy. */
void ctr_stop(kl_ctr_t *c);
/* securityContext integer field of the container, else of the pod (borrowed), or NULL. */
json_t *ctr_security_int(kl_ctr_t *c, const char *field);
void ctr_set_waiting(kl_ctr_t *c, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* volumes.c */
/* Checks the pod's volumes; NULL if fine, else a malloc'd message. */
char *volumes_check(kl_pod_t *p);
/* Creates the per-pod volume directories (emptyDir, configMap/secret files). 0 or -1 with a
 * malloc'd message in *err. */
int volumes_prepare(kl_pod_t *p, char **err);
/* The launcher mounts for container c: [{src,dst,ro}] (new reference), or NULL with *err. */
json_t *volumes_mounts(kl_pod_t *p, kl_ctr_t *c, char **err);

/* podstatus.c */
void podstatus_write(kl_pod_t *p);
/* The phase the pod's containers give now. */
const char *podstatus_phase(kl_pod_t *p);

/* probes.c */
void probes_reset(kl_ctr_t *c); /* the container (re)started */
void probes_cancel(kl_ctr_t *c);
/* Starts due probes of a running container; lowers *next to its next deadline. */
void probes_tick(kl_ctr_t *c, uint64_t now, uint64_t *next);
void probes_stop_all(kubelet_t *kl);

/* events.c: a core/v1 Event about pod p (field_path: "spec.containers{x}" or NULL). */
void kl_event(kl_pod_t *p, const char *field_path, const char *type, const char *reason,
              const char *component, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The field path of a container for events. */
void kl_ctr_field_path(kl_ctr_t *c, char *buf, size_t len);

/* logs.c */
/* The log file of run r of container c (buf >= PATH_MAX). */
void logs_path(kl_pod_t *p, const char *ctr, int run, char *buf, size_t len);
/* The pods/{name}/log handler the API server calls (see apiserver.h). */
int logs_serve(void *ud, http_request_t *req, json_t *pod, kerr_t *e);
/* The container's run ended (or the pod went away): follow streams on it finish. */
void logs_run_ended(kl_pod_t *p, kl_ctr_t *c);
void logs_stop_all(kubelet_t *kl);

#endif
