/* phase: the pod phase from its containers' states, as the kubelet computes it (getPhase in
 * kubelet_pods.go): Pending until initialized and every container started, Running while one
 * runs (or all restart), Succeeded/Failed once all ended for good. Pure. */
#ifndef KUBELET_PHASE_H
#define KUBELET_PHASE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum phase_cstate {
    PHASE_C_UNKNOWN, /* no status yet */
    PHASE_C_WAITING,
    PHASE_C_RUNNING,
    PHASE_C_TERMINATED,
} phase_cstate_t;

typedef struct phase_ctr {
    phase_cstate_t state;
    int exit_code;      /* of the terminated state */
    bool has_last_term; /* lastState.terminated is set (waiting to restart) */
    int last_exit_code; /* its exit code */
} phase_ctr_t;

/* "Pending", "Running", "Succeeded" or "Failed". */
const char *phase_compute(const char *restart_policy, const phase_ctr_t *init, size_t n_init,
                          const phase_ctr_t *ctrs, size_t n);
/* Whether every init container completed successfully. */
bool phase_initialized(const phase_ctr_t *init, size_t n_init);

#endif
