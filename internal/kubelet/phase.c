/* phase: pod phase computation from container states (see phase.h). */
#include "kubelet/phase.h"

#include <string.h>

bool phase_initialized(const phase_ctr_t *init, size_t n_init)
{
    for (size_t i = 0; i < n_init; i++)
        if (init[i].state != PHASE_C_TERMINATED || init[i].exit_code != 0) return false;
    return true;
}

const char *phase_compute(const char *restart_policy, const phase_ctr_t *init, size_t n_init,
                          const phase_ctr_t *ctrs, size_t n)
{
    bool never = restart_policy && strcmp(restart_policy, "Never") == 0;
    bool always = !restart_policy || (strcmp(restart_policy, "Never") != 0 &&
                                      strcmp(restart_policy, "OnFailure") != 0);
    size_t pending_init = 0, failed_init = 0;
    for (size_t i = 0; i < n_init; i++) {
        const phase_ctr_t *c = &init[i];
        switch (c->state) {
        case PHASE_C_TERMINATED:
            if (c->exit_code != 0) failed_init++;
            break;
        case PHASE_C_WAITING:
            if (c->has_last_term) {
                if (c->last_exit_code != 0) failed_init++;
            } else {
                pending_init++;
            }
            break;
        default:
            pending_init++;
            break;
        }
    }
    if (failed_init > 0 && never) return "Failed";
    if (pending_init > 0 || failed_init > 0) return "Pending";

    size_t running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
    for (size_t i = 0; i < n; i++) {
        const phase_ctr_t *c = &ctrs[i];
        switch (c->state) {
        case PHASE_C_RUNNING:
            running++;
            break;
        case PHASE_C_TERMINATED:
            stopped++;
            if (c->exit_code == 0) succeeded++;
            break;
        case PHASE_C_WAITING:
            if (c->has_last_term)
                stopped++;
            else
                waiting++;
            break;
        default:
            unknown++;
            break;
        }
    }
    if (waiting > 0) return "Pending";
    if (running > 0 && unknown == 0) return "Running";
    if (running == 0 && stopped > 0 && unknown == 0) {
        if (always) return "Running";
        if (stopped == succeeded) return "Succeeded";
        if (never) return "Failed";
        return "Running";
    }
    return "Pending";
}
