/*
 * proc.h - running a command popfetch was configured with
 * (password_command, oauth2_token_command, deliver_command): no shell,
 * a process group of its own, killed as a group, and never outliving
 * popfetch's death by SIGINT, SIGTERM or SIGHUP.
 *
 * The command's group is out of reach of Ctrl-C at the terminal (SIGINT
 * goes to the foreground group: popfetch's) and of a signal sent to
 * popfetch. So while a command runs (proc_guard_begin to proc_guard_end),
 * SIGINT, SIGTERM and SIGHUP (unless ignored) are caught: the handler
 * kills the command's group, restores the default action and raises the
 * signal again, so popfetch still dies of it. The signals are blocked
 * from fork until proc_guard_set records the group, so none slips
 * through in between. One command at a time per process.
 *
 * Use:
 *   proc_guard_begin(&g);   fork();
 *   child:  proc_child_exec(argv, envp, in, out, err, errfd)
 *   parent: proc_guard_set(&g, pid); ... proc_reaped() once waitpid
 *           returned it; proc_kill_group(pid) only before that;
 *           proc_guard_end(&g).
 */
#ifndef POPFETCH_PROC_H
#define POPFETCH_PROC_H

#include <signal.h>
#include <sys/types.h>

struct proc_guard {
	struct sigaction old[3];
	sigset_t mask;
};

void proc_guard_begin(struct proc_guard *g);
/* pid: the command's group (0: none, fork failed); then the signals go
 * through. */
void proc_guard_set(struct proc_guard *g, pid_t pid);
/* The command was reaped: its group id may be anyone's now. */
void proc_reaped(void);
void proc_guard_end(struct proc_guard *g);

/*
 * In the child, between fork and exec (async-signal-safe calls only):
 * default signal mask and SIGPIPE, a process group of its own, in on
 * stdin, out on stdout, err on stderr (-1: inherited), envp as the
 * environment (NULL: popfetch's), then execvp. When exec fails, errno is
 * written to errfd (close-on-exec: the parent reads EOF on success) and
 * the child exits 127. Never returns.
 */
void proc_child_exec(char *const argv[], char *const envp[], int in,
    int out, int err, int errfd);

/* After fork in the parent: read errfd (the child's end closed). 0 when
 * the command is running, else the errno of its failed exec. */
int proc_exec_result(int errfd);

/* SIGKILL the command and everything left in its process group. Only
 * while pid is not yet reaped. */
void proc_kill_group(pid_t pid);

/* waitpid(pid) through EINTR. */
pid_t proc_reap(pid_t pid, int *status);

#endif
