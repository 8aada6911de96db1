/* backoff: the kubelet's container restart rules as pure arithmetic: whether restartPolicy
 * restarts an exited container, and the crash-loop back-off (immediate first restart, then
 * 10 s doubling to 300 s; reset after a run of 10 minutes). */
#ifndef KUBELET_BACKOFF_H
#define KUBELET_BACKOFF_H

#include <stdbool.h>

#define BACKOFF_INITIAL_S 10
#define BACKOFF_MAX_S     300
#define BACKOFF_RESET_S   600

typedef struct backoff {
    unsigned next_s; /* delay the next restart will wait (0: none yet) */
} backoff_t;

/* restartPolicy "Always", "OnFailure" or "Never" (anything else counts as Always). */
bool backoff_should_restart(const char *restart_policy, int exit_code);
/* A container that ran for ran_s seconds exited and will be restarted: returns the delay in
 * seconds before the restart, and advances b. */
unsigned backoff_on_exit(backoff_t *b, double ran_s);

#endif
