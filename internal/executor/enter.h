/* enter: the task shim, the executor's hidden internal mode (argv[1] == ENTER_ARG), exec'd by
 * the executor for every task so that the event loop never forks into namespaces:
 *     task-executor --internal-enter <task-dir> [<main-container-name>]
 * It reads <task-dir>/task.json, and with a main container name finds that container's process
 * (finder), enters its mount, UTS, IPC, network and PID namespaces (setns), then forks the task:
 * chdir to workingDir (default: the target's working directory), the target's uid/gid/groups,
 * the target's environment plus the task's env, command + args exec'd directly (PATH lookup of
 * command[0], no shell). Without a name the task runs in the shim's own namespaces and
 * environment. The shim leads the task's process group (the executor spawns it in a new
 * session), ignores the group's SIGTERM, waits for the task and writes exit.json atomically
 * before it exits with the task's status (128+signal when killed), so a restarted executor
 * learns how a task it adopted ended. Start failures are exit.json with reason StartError. */
#ifndef EXECUTOR_ENTER_H
#define EXECUTOR_ENTER_H

#define ENTER_ARG "--internal-enter"

void enter_main(int argc, char **argv) __attribute__((noreturn));

#endif
