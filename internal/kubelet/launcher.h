/* launcher: the container launcher (argv[1] == "--internal-launch", argv[2] a JSON spec) that
 * the kubelet spawns to do the namespace work of a container in a freshly exec'd
 * single-threaded process, never in a fork of the loop. It is the small localcluster-launch
 * binary beside localcluster (cheap to exec), or localcluster's own hidden mode:
 *   container: unshare a mount + UTS namespace (and a PID namespace, or join the pod's with
 *              setns), make mounts private, bind-mount volumes (creating missing mount points on
 *              the host), fork; the child mounts a fresh /proc, chdirs, drops to runAsUser and
 *              execs. With its own PID namespace a small init (PID 1) runs the program as PID 2,
 *              forwards signals to it, reaps zombies and exits with its status.
 *   pause:     the PID 1 of a pod with shareProcessNamespace; writes "ready\n" to stdout once the
 *              namespace exists.
 *   exec:      runs a command inside a running container's mount and PID namespaces (exec
 *              probes).
 * The spawned process forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the program,
 * kills the whole tree on LAUNCHER_SIG_KILLTREE, and exits with the program's exit status
 * (128+signal when killed; 128 when the program could not be started, with the reason written to
 * spec.errFile). All of it dies with localcluster (PR_SET_PDEATHSIG). */
#ifndef KUBELET_LAUNCHER_H
#define KUBELET_LAUNCHER_H

#include <signal.h>

#define LAUNCHER_ARG            "--internal-launch"
#define LAUNCHER_SIG_KILLTREE   (SIGRTMIN + 2)
#define LAUNCHER_EXIT_STARTFAIL 128

/* Runs the internal mode (argv[1] == LAUNCHER_ARG) and never returns. */
void launcher_main(int argc, char **argv) __attribute__((noreturn));

#endif
