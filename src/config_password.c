/*
 * config_password.c - config_password() (declared in config.h): an
 * account's password from the file, the environment or a command.
 *
 * The command runs without a shell, stdin from /dev/null and stderr
 * inherited (its complaints reach the user); its stdout is read through a
 * pipe against the account's timeout, after which it is killed. Every
 * buffer that held the secret is wiped before it is freed, and error
 * messages never quote the output.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#define PW_MAX	(64 * 1024)	/* output kept; the rest is drained */

/* In the child, between fork and exec: async-signal-safe calls only. */
static void
child_exec(char *const argv[], int in, int out, int errfd)
{
	sigset_t none;
	int saved;

	/* A blocked signal mask and an ignored SIGPIPE survive exec; the
	 * command should start as if from a shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* With stdin closed in the parent, the pipe may have landed on fd 0
	 * and would be overwritten by the first dup2. */
	if (out == STDIN_FILENO && (out = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	/* dup2 onto itself would keep close-on-exec: clear it by hand. */
	if ((in == STDIN_FILENO ? fcntl(in, F_SETFD, 0) :
	    dup2(in, STDIN_FILENO)) < 0)
		goto fail;
	if ((out == STDOUT_FILENO ? fcntl(out, F_SETFD, 0) :
	    dup2(out, STDOUT_FILENO)) < 0)
		goto fail;
	execvp(argv[0], argv);
fail:
	saved = errno;
	(void)!write(errfd, &saved, sizeof(saved));
	_exit(127);
}

/* Read what is there into buf (at most PW_MAX bytes kept; the rest is
 * read and dropped so the command never blocks on a full pipe).
 * 1: read something or try again, 0: end of file, -1: error. */
static int
pipe_read(int fd, char *buf, size_t *len, bool *overflow)
{
	char junk[4096];
	ssize_t n;

	if (*len < PW_MAX)
		n = read(fd, buf + *len, PW_MAX - *len);
	else
		n = read(fd, junk, sizeof(junk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	if (*len < PW_MAX)
		*len += (size_t)n;
	else {
		util_wipe(junk, (size_t)n);
		*overflow = true;
	}
	return 1;
}

static pid_t
reap(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}

static int
password_run(const struct account *a, char **out, struct err *e)
{
	char *const *argv = a->password_command;
	const char *prog = argv[0];
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, nul = -1, status = 0;
	int rc, r, xerr;
	bool eof = false, overflow = false, timed_out = false;
	char *buf = NULL, *nl, t[32];
	size_t len = 0, line;
	long long deadline;
	pid_t pid = -1;
	ssize_t n;

	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = err_sys(e, EX_OSERR, errno, "cannot open /dev/null");
		goto fail;
	}
	/* Close-on-exec, so commands run by other threads at the same time
	 * do not inherit them and hold them open. */
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		rc = err_sys(e, EX_OSERR, errno, "password_command (%s): pipe",
		    prog);
		goto fail;
	}
	if ((pid = fork()) < 0) {
		rc = err_sys(e, EX_OSERR, errno, "password_command (%s): fork",
		    prog);
		goto fail;
	}
	if (pid == 0)
		child_exec(argv, nul, po[1], pe[1]);
	close(nul);
	close(po[1]);
	close(pe[1]);
	nul = po[1] = pe[1] = -1;

	/* The error pipe closes at a successful exec, or brings errno. */
	while ((n = read(pe[0], &xerr, sizeof(xerr))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(xerr)) {
		reap(pid, &status);
		pid = -1;
		rc = err_set(e, EX_CONFIG, "password_command (%s): cannot run: "
		    "%s", prog, strerror(xerr));
		goto fail;
	}

	buf = xmalloc(PW_MAX);
	deadline = util_now_ms() + a->timeout_ms;
	for (;;) {
		long long left = deadline - util_now_ms();
		struct pollfd pfd = { .fd = po[0], .events = POLLIN };

		if (left <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			reap(pid, &status);
			break;
		}
		/* Wake up now and then to notice the command's exit even
		 * when something it started keeps the pipe open. */
		if (!eof) {
			r = poll(&pfd, 1, left < 50 ? (int)left : 50);
			if (r > 0)
				r = pipe_read(po[0], buf, &len, &overflow);
			if (r < 0 && errno != EINTR) {
				rc = err_sys(e, EX_OSERR, errno,
				    "password_command (%s): read", prog);
				goto fail;
			}
			eof = r == 0 && (pfd.revents & (POLLIN | POLLHUP));
		} else
			poll(NULL, 0, left < 10 ? (int)left : 10);
		r = (int)waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			rc = err_sys(e, EX_OSERR, errno,
			    "password_command (%s): waitpid", prog);
			goto fail;
		}
	}
	/* Output still in the pipe after the exit; bounded, since a child
	 * left running in the background may go on writing. */
	while (!eof && !overflow && poll(&(struct pollfd){ .fd = po[0],
	    .events = POLLIN }, 1, 0) > 0 &&
	    pipe_read(po[0], buf, &len, &overflow) > 0)
		;
	pid = -1;

	if (WIFSIGNALED(status)) {
		config_format_duration(a->timeout_ms, t, sizeof(t));
		if (timed_out && WTERMSIG(status) == SIGKILL)
			rc = err_set(e, EX_NOPERM, "password_command (%s) "
			    "killed after %s", prog, t);
		else
			rc = err_set(e, EX_NOPERM, "password_command (%s) "
			    "killed by signal %d", prog, WTERMSIG(status));
		goto fail;
	}
	if (WEXITSTATUS(status) != 0) {
		rc = err_set(e, EX_NOPERM, "password_command (%s) exited with "
		    "status %d", prog, WEXITSTATUS(status));
		goto fail;
	}
	nl = memchr(buf, '\n', len);
	line = nl != NULL ? (size_t)(nl - buf) : len;
	while (line > 0 && buf[line - 1] == '\r')
		line--;
	if (nl == NULL && overflow)
		rc = err_set(e, EX_NOPERM, "password_command (%s): first line "
		    "longer than %d KiB", prog, PW_MAX / 1024);
	else if (len == 0)
		rc = err_set(e, EX_NOPERM, "password_command (%s) printed "
		    "nothing", prog);
	else if (line == 0)
		rc = err_set(e, EX_NOPERM, "password_command (%s) printed an "
		    "empty first line", prog);
	else if (memchr(buf, '\0', line) != NULL)
		rc = err_set(e, EX_NOPERM, "password_command (%s) printed a "
		    "NUL byte", prog);
	else {
		*out = xstrndup(buf, line);
		rc = 0;
	}
fail:
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid, &status);
	}
	if (buf != NULL) {
		util_wipe(buf, len);
		free(buf);
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (nul >= 0)
		close(nul);
	return rc;
}

int
config_password(const struct account *a, char **out, struct err *e)
{
	const char *v;

	*out = NULL;
	if (a->password != NULL) {
		*out = xstrdup(a->password);
		return 0;
	}
	if (a->password_env != NULL) {
		v = getenv(a->password_env);
		if (v == NULL || v[0] == '\0')
			return err_set(e, EX_CONFIG, "password_env: variable "
			    "%s is not set%s", a->password_env,
			    v == NULL ? "" : " (it is empty)");
		*out = xstrdup(v);
		return 0;
	}
	if (a->password_command != NULL)
		return password_run(a, out, e);
	return err_set(e, EX_CONFIG, "no password source");
}
