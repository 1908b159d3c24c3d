/*
 * proc.c - running a configured command (see proc.h).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

static const int fatal_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define NFATAL (sizeof(fatal_sigs) / sizeof(fatal_sigs[0]))
/* The running command's process group, 0 when none: set only while its
 * leader is not reaped, so the id cannot be anyone else's. */
static volatile sig_atomic_t guard_pgid;

/* Async-signal-safe calls only. */
static void
on_fatal_signal(int sig)
{
	pid_t g = (pid_t)guard_pgid;

	if (g > 0)
		kill(-g, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);   /* delivered once the handler returns */
}

void
proc_guard_begin(struct proc_guard *g)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < NFATAL; i++) {
		sigaction(fatal_sigs[i], NULL, &g->old[i]);
		if (g->old[i].sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_sigs[i], &sa, NULL);
		sigaddset(&block, fatal_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &g->mask);
}

void
proc_guard_set(struct proc_guard *g, pid_t pid)
{
	guard_pgid = pid;
	sigprocmask(SIG_SETMASK, &g->mask, NULL);
}

void
proc_reaped(void)
{
	guard_pgid = 0;
}

void
proc_guard_end(struct proc_guard *g)
{
	guard_pgid = 0;
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_sigs[i], &g->old[i], NULL);
}

/* fd onto target, with close-on-exec cleared (dup2 onto itself would
 * keep it). */
static int
move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target);
}

void
proc_child_exec(char *const argv[], char *const envp[], int in, int out,
    int err, int errfd)
{
	sigset_t none;
	int saved;

	/* A blocked signal mask and an ignored SIGPIPE survive exec; the
	 * command should start as if from a shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Its own process group, which the parent kills as one. */
	if (setpgid(0, 0) != 0)
		goto fail;
	/* With stdin (or stdout) closed in the parent, a pipe may have
	 * landed on fd 0..2 and would be overwritten by an earlier dup2:
	 * move every source above 2 first. */
	if (out >= 0 && out <= 2 && out != STDOUT_FILENO &&
	    (out = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	if (err >= 0 && err <= 2 && err != STDERR_FILENO &&
	    (err = fcntl(err, F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	if (move_fd(in, STDIN_FILENO) < 0 || move_fd(out, STDOUT_FILENO) < 0)
		goto fail;
	if (err >= 0 && move_fd(err, STDERR_FILENO) < 0)
		goto fail;
	if (envp != NULL)
		environ = (char **)envp;
	execvp(argv[0], argv);
fail:
	saved = errno;
	(void)!write(errfd, &saved, sizeof(saved));
	_exit(127);
}

int
proc_exec_result(int errfd)
{
	int xerr;
	ssize_t n;

	while ((n = read(errfd, &xerr, sizeof(xerr))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(xerr) ? xerr : 0;
}

void
proc_kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

pid_t
proc_reap(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}
