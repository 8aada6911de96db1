/* backoff: restartPolicy decisions and crash-loop back-off arithmetic (see backoff.h). */
#include "kubelet/backoff.h"

#include <string.h>

bool backoff_should_restart(const char *policy, int exit_code)
{
    if (policy && strcmp(policy, "Never") == 0) return false;
    if (policy && strcmp(policy, "OnFailure") == 0) return exit_code != 0;
    return true;
}

unsigned backoff_on_exit(backoff_t *b, double ran_s)
{
    if (ran_s >= BACKOFF_RESET_S) b->next_s = 0;
    unsigned delay = b->next_s;
    if (b->next_s == 0)
        b->next_s = BACKOFF_INITIAL_S;
    else
        b->next_s = b->next_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : b->next_s * 2;
    return delay;
}
