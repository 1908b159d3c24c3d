/*
 * config_password.c - the secrets of an account (declared in config.h):
 * config_password() from the configuration, the environment, a file or a
 * command; config_oauth2_token() from a command; config_capture_env().
 *
 * A command runs without a shell, stdin from /dev/null and stderr
 * inherited (its complaints reach the user); its stdout is read through a
 * pipe against the account's timeout, after which it is killed with its
 * whole process group: it runs in a group of its own, so that what it
 * started (a shell's children) goes too rather than lingering. Every
 * buffer that held the secret is wiped before it is freed, and error
 * messages never quote the output or the file.
 *
 * A command runs as proc.h runs every configured command: its own
 * process group, killed as one, and with popfetch when popfetch dies of
 * SIGINT, SIGTERM or SIGHUP.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "proc.h"

#define PW_MAX	(64 * 1024)	/* output kept; the rest is drained */

/*
 * A secret goes into a POP3 command line: a CR or LF in it would end PASS
 * early and send the rest as a command of its own ("DELE 1"), and a NUL
 * would cut it. The first line of a file or of a command's output is the
 * bytes before the first LF, less one CR just before that LF; the line's
 * length is then passed here. What is refused is never quoted.
 * Returns what is wrong with s[0..n), NULL if nothing.
 */
static const char *
secret_flaw(const char *s, size_t n)
{
	if (memchr(s, '\0', n) != NULL)
		return "a NUL byte";
	if (memchr(s, '\r', n) != NULL)
		return "a CR (only a final CRLF may end the line)";
	return NULL;
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

/* Run argv (the account's key `what`) and return its first line. A
 * token command that prints nothing "printed no token". */
static int
secret_run(const struct account *a, char *const *argv, const char *what,
    char **out, struct err *e)
{
	const char *prog = argv[0];
	bool token = strcmp(what, "oauth2_token_command") == 0;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, nul = -1, status = 0;
	int rc, r, xerr;
	bool eof = false, overflow = false, timed_out = false;
	char *buf = NULL, *nl, t[32];
	const char *flaw;
	size_t len = 0, line;
	long long deadline;
	pid_t pid = -1;
	struct proc_guard guard;
	bool guarded = false;

	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = err_sys(e, EX_OSERR, errno, "cannot open /dev/null");
		goto fail;
	}
	/* Close-on-exec, so commands run by other threads at the same time
	 * do not inherit them and hold them open. */
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		rc = err_sys(e, EX_OSERR, errno, "%s (%s): pipe",
		    what, prog);
		goto fail;
	}
	proc_guard_begin(&guard);
	guarded = true;
	if ((pid = fork()) < 0) {
		proc_guard_set(&guard, 0);
		rc = err_sys(e, EX_OSERR, errno, "%s (%s): fork",
		    what, prog);
		goto fail;
	}
	if (pid == 0)
		proc_child_exec(argv, NULL, nul, po[1], -1, pe[1]);
	/* Also here, so a kill of the group right away cannot miss; fails
	 * harmlessly once the child has done it and exec'd. */
	(void)setpgid(pid, pid);
	proc_guard_set(&guard, pid);
	close(nul);
	close(po[1]);
	close(pe[1]);
	nul = po[1] = pe[1] = -1;

	/* The error pipe closes at a successful exec, or brings errno. */
	if ((xerr = proc_exec_result(pe[0])) != 0) {
		proc_reaped();
		proc_reap(pid, &status);
		pid = -1;
		rc = err_set(e, EX_CONFIG, "%s (%s): cannot run: "
		    "%s", what, prog, strerror(xerr));
		goto fail;
	}

	buf = xmalloc(PW_MAX);
	deadline = util_now_ms() + a->timeout_ms;
	for (;;) {
		long long left = deadline - util_now_ms();
		struct pollfd pfd = { .fd = po[0], .events = POLLIN };

		if (left <= 0) {
			timed_out = true;
			proc_kill_group(pid);
			proc_reaped();
			proc_reap(pid, &status);
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
				    "%s (%s): read", what, prog);
				goto fail;
			}
			eof = r == 0 && (pfd.revents & (POLLIN | POLLHUP));
		} else
			poll(NULL, 0, left < 10 ? (int)left : 10);
		/* WUNTRACED: a command stopped by SIGTTIN/SIGTTOU (it tried
		 * the terminal from its background group) is reported now
		 * rather than as a timeout. */
		r = (int)waitpid(pid, &status, WNOHANG | WUNTRACED);
		if (r == pid && !WIFSTOPPED(status))
			proc_reaped();   /* reaped */
		if (r == pid && WIFSTOPPED(status)) {
			rc = err_set(e, EX_NOPERM, "%s (%s) stopped by signal "
			    "%d (it tried to use the terminal, which a command "
			    "popfetch runs cannot)", what, prog,
			    WSTOPSIG(status));
			goto fail;
		}
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			rc = err_sys(e, EX_OSERR, errno,
			    "%s (%s): waitpid", what, prog);
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
			rc = err_set(e, EX_NOPERM, "%s (%s) killed after %s",
			    what, prog, t);
		else
			rc = err_set(e, EX_NOPERM, "%s (%s) killed by signal "
			    "%d", what, prog, WTERMSIG(status));
		goto fail;
	}
	if (WEXITSTATUS(status) != 0) {
		rc = err_set(e, EX_NOPERM, "%s (%s) exited with status %d",
		    what, prog, WEXITSTATUS(status));
		goto fail;
	}
	nl = memchr(buf, '\n', len);
	line = nl != NULL ? (size_t)(nl - buf) : len;
	if (nl != NULL && line > 0 && buf[line - 1] == '\r')
		line--;
	if (nl == NULL && overflow)
		rc = err_set(e, EX_NOPERM, "%s (%s): first line longer than "
		    "%d KiB", what, prog, PW_MAX / 1024);
	else if (token && line == 0)
		rc = err_set(e, EX_NOPERM, "%s (%s) printed no token", what,
		    prog);
	else if (len == 0)
		rc = err_set(e, EX_NOPERM, "%s (%s) printed nothing", what,
		    prog);
	else if (line == 0)
		rc = err_set(e, EX_NOPERM, "%s (%s) printed an empty first "
		    "line", what, prog);
	else if ((flaw = secret_flaw(buf, line)) != NULL)
		rc = err_set(e, EX_NOPERM, "%s (%s): the first line it printed "
		    "holds %s", what, prog, flaw);
	else {
		*out = xstrndup(buf, line);
		rc = 0;
	}
fail:
	if (pid > 0) {
		proc_kill_group(pid);
		proc_reaped();
		proc_reap(pid, &status);
	}
	if (guarded)
		proc_guard_end(&guard);
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
config_secret_file(const char *what, const char *path, size_t max,
    bool first_line, char **out, size_t *outlen, struct err *e)
{
	char *buf = NULL, *q;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return err_sys(e, EX_CONFIG, errno, "%s %s: cannot open", what,
		    path);
	if (fstat(fd, &st) != 0) {
		rc = err_sys(e, EX_CONFIG, errno, "%s %s: cannot read", what,
		    path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(e, EX_CONFIG, "%s %s: not a regular file", what,
		    path);
		goto out;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		q = config_shell_quote(path);
		rc = err_set(e, EX_CONFIG, "%s %s is readable by others; run: "
		    "chmod 600 %s", what, path, q);
		free(q);
		goto out;
	}
	/* One byte more than kept tells a file (or line) too long from a
	 * full one. */
	buf = xmalloc(max + 1);
	while (len <= max) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, EX_CONFIG, errno, "%s %s: cannot read",
			    what, path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (first_line &&
		    memchr(buf + len - (size_t)n, '\n', (size_t)n) != NULL)
			break;
	}
out:
	if (rc != 0 && buf != NULL) {
		util_wipe(buf, len);
		free(buf);
	} else if (rc == 0) {
		*out = buf;
		*outlen = len;
	}
	close(fd);
	return rc;
}

/*
 * The first line of password_file. The file must be a regular file that
 * neither group nor others can read (as ssh insists for keys): a secret
 * others can read is no secret, and refusing says so while it can be
 * fixed.
 */
static int
password_read_file(const struct account *a, char **out, struct err *e)
{
	const char *path = a->password_file;
	char *buf, *nl;
	const char *flaw;
	size_t len, line;
	int rc;

	if ((rc = config_secret_file("password_file", path, PW_MAX, true,
	    &buf, &len, e)) != 0)
		return rc;
	nl = memchr(buf, '\n', len);
	line = nl != NULL ? (size_t)(nl - buf) : len;
	if (line > PW_MAX) {
		rc = err_set(e, EX_CONFIG, "password_file %s: first line longer "
		    "than %d KiB", path, PW_MAX / 1024);
		goto out;
	}
	if (nl != NULL && line > 0 && buf[line - 1] == '\r')
		line--;
	if (len == 0)
		rc = err_set(e, EX_CONFIG, "password_file %s is empty", path);
	else if (line == 0)
		rc = err_set(e, EX_CONFIG, "password_file %s: the first line is "
		    "empty", path);
	else if ((flaw = secret_flaw(buf, line)) != NULL)
		rc = err_set(e, EX_CONFIG, "password_file %s: the first line "
		    "holds %s", path, flaw);
	else
		*out = xstrndup(buf, line);
out:
	util_wipe(buf, len);
	free(buf);
	return rc;
}

/* Overwrite the value of every NAME=value in the environment, so that it
 * is gone from memory (and from /proc/PID/environ when it was there from
 * the start), not only from the list that unsetenv() edits. */
static void
env_wipe(const char *name)
{
	size_t n = strlen(name);

	for (char **p = environ; p != NULL && *p != NULL; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			util_wipe(*p + n + 1, strlen(*p + n + 1));
}

void
config_capture_env(struct config *cfg)
{
	struct account *a;
	const char *v;

	/* All values first: accounts may share a variable. */
	for (size_t i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->password_env == NULL || a->env_captured)
			continue;
		v = getenv(a->password_env);
		a->env_secret = v != NULL ? xstrdup(v) : NULL;
		a->env_captured = true;
	}
	for (size_t i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->password_env == NULL || getenv(a->password_env) == NULL)
			continue;
		env_wipe(a->password_env);
		unsetenv(a->password_env);
	}
}

int
config_oauth2_token(const struct account *a, char **out, struct err *e)
{
	*out = NULL;
	if (a->oauth2_token_command == NULL)
		return err_set(e, EX_CONFIG, "no oauth2_token_command");
	return secret_run(a, a->oauth2_token_command, "oauth2_token_command",
	    out, e);
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
		v = a->env_captured ? a->env_secret : getenv(a->password_env);
		if (v == NULL || v[0] == '\0')
			return err_set(e, EX_CONFIG, "password_env: variable "
			    "%s is not set%s", a->password_env,
			    v == NULL ? "" : " (it is empty)");
		/* The whole value is the secret: no "first line" here, so a
		 * line break anywhere is refused rather than cut off. */
		if (strpbrk(v, "\r\n") != NULL)
			return err_set(e, EX_CONFIG, "password_env: variable "
			    "%s holds a line break (CR or LF)",
			    a->password_env);
		*out = xstrdup(v);
		return 0;
	}
	if (a->password_command != NULL)
		return secret_run(a, a->password_command, "password_command",
		    out, e);
	if (a->password_file != NULL)
		return password_read_file(a, out, e);
	return err_set(e, EX_CONFIG, "no password source");
}
