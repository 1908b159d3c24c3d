/*
 * sink_command.c - the command store (deliver_command): each message is
 * piped to a program (procmail, maildrop, dovecot-lda, a spam filter),
 * a new process per message, run as proc.h runs configured commands (no
 * shell, its own process group, killed with popfetch).
 *
 * The message goes to the command's standard input with LF line ends and
 * no From_ line. Its environment is popfetch's plus POPFETCH_ACCOUNT,
 * POPFETCH_UIDL (bytes outside 0x21..0x7e and '%' written %XX) and
 * POPFETCH_SIZE (the size the server announced). Its standard output and
 * standard error are read by popfetch (drained while the message is
 * written, so neither side blocks the other); the last line is quoted
 * when the command fails.
 *
 * Exit 0 after reading the whole message: stored (nothing to sync: the
 * command made it durable before exiting, or it never will). Exit 75
 * (EX_TEMPFAIL): SINK_LATER. A command that stopped reading before the
 * end of the message (EPIPE), any other status, a signal: EX_UNAVAILABLE;
 * still running after the account's deliver_timeout: killed with its
 * group, EX_TEMPFAIL. An aborted message kills the command before its
 * standard input is closed, so it never sees an end of input.
 *
 * What cannot be undone: a command that accepted a message has delivered
 * it. batch_max is 1 so that fetch.c journals each message as soon as its
 * command exits; a crash between the two delivers that message again.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgfilter.h"
#include "proc.h"
#include "sink.h"
#include "util.h"

extern char **environ;

#define CMD_BUFSIZE (64 * 1024)
#define CMD_TAIL 2048        /* output kept for the error message */
#define CMD_LINE_MAX 200     /* of it quoted */

struct cmd {
	struct sink sink;
	char **argv;
	char *account;
	long timeout_ms;
	int in_batch;
	/* The message in progress (pid > 0). */
	pid_t pid;
	int in;                  /* its stdin (ours: write end), -1 */
	int out;                 /* its stdout+stderr (ours: read end), -1 */
	bool out_eof;
	bool epipe;              /* it stopped reading */
	int werr;                /* errno of a failed write in the filter */
	bool timed_out;
	long long deadline;
	struct proc_guard guard;
	struct msgfilter filter;
	char *buf;
	size_t used;
	char tail[CMD_TAIL];
	size_t tlen;
	char **envp;
};

static void
env_free(char **envp)
{
	if (envp == NULL)
		return;
	for (char **p = envp; *p != NULL; p++)
		if (strncmp(*p, "POPFETCH_", 9) == 0)
			free(*p);
	free(envp);
}

/* popfetch's environment without any POPFETCH_ variable, plus ours. The
 * strings of environ are shared, ours are freed by env_free. */
static char **
env_make(const struct cmd *c, const struct sink_msg *m)
{
	size_t n = 0, k = 0;
	char **envp;
	char *uidl;

	for (char **p = environ; p != NULL && *p != NULL; p++)
		n++;
	envp = xcalloc(n + 4, sizeof(*envp));
	for (char **p = environ; p != NULL && *p != NULL; p++)
		if (strncmp(*p, "POPFETCH_", 9) != 0)
			envp[k++] = *p;
	uidl = xmalloc(m->uidl_len * 3 + 1);
	{
		size_t o = 0;

		for (size_t i = 0; m->uidl != NULL && i < m->uidl_len; i++) {
			unsigned char b = (unsigned char)m->uidl[i];

			if (b < 0x21 || b > 0x7e || b == '%')
				o += (size_t)sprintf(uidl + o, "%%%02X", b);
			else
				uidl[o++] = (char)b;
		}
		uidl[o] = '\0';
	}
	envp[k++] = xasprintf("POPFETCH_ACCOUNT=%s", c->account);
	envp[k++] = xasprintf("POPFETCH_UIDL=%s", uidl);
	envp[k++] = xasprintf("POPFETCH_SIZE=%llu", m->size);
	free(uidl);
	return envp;
}

/* Keep the last CMD_TAIL bytes of the command's output. */
static void
tail_add(struct cmd *c, const char *p, size_t n)
{
	if (n >= CMD_TAIL) {
		memcpy(c->tail, p + n - CMD_TAIL, CMD_TAIL);
		c->tlen = CMD_TAIL;
		return;
	}
	if (c->tlen + n > CMD_TAIL) {
		size_t drop = c->tlen + n - CMD_TAIL;

		memmove(c->tail, c->tail + drop, c->tlen - drop);
		c->tlen -= drop;
	}
	memcpy(c->tail + c->tlen, p, n);
	c->tlen += n;
}

/* Read what the command wrote, if anything. */
static void
drain(struct cmd *c)
{
	char b[4096];
	ssize_t n;

	while (!c->out_eof && c->out >= 0) {
		n = read(c->out, b, sizeof(b));
		if (n > 0)
			tail_add(c, b, (size_t)n);
		else if (n == 0)
			c->out_eof = true;
		else if (errno != EINTR)
			break;   /* EAGAIN: nothing more now */
	}
}

/* The last non-empty line of the output, printable, in out. */
static void
last_line(const struct cmd *c, char *out, size_t size)
{
	size_t end = c->tlen, start, o = 0;

	while (end > 0 && (c->tail[end - 1] == '\n' ||
	    c->tail[end - 1] == '\r' || c->tail[end - 1] == ' ' ||
	    c->tail[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && c->tail[start - 1] != '\n')
		start--;
	if (end - start > CMD_LINE_MAX)
		end = start + CMD_LINE_MAX;
	for (size_t i = start; i < end && o + 1 < size; i++) {
		unsigned char b = (unsigned char)c->tail[i];

		out[o++] = b >= 0x20 && b != 0x7f ? (char)b : '?';
	}
	out[o] = '\0';
}

static void
cmd_kill(struct cmd *c)
{
	int status;

	if (c->pid <= 0)
		return;
	proc_kill_group(c->pid);
	proc_reaped();
	proc_reap(c->pid, &status);
	c->pid = -1;
	proc_guard_end(&c->guard);
}

/* Forget the message in progress (the command killed if running). */
static void
cmd_drop(struct cmd *c)
{
	cmd_kill(c);
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	c->in = c->out = -1;
	env_free(c->envp);
	c->envp = NULL;
	c->used = 0;
}

static int
cmd_timeout(struct cmd *c, struct err *e)
{
	long long ms = c->timeout_ms;

	cmd_drop(c);
	if (ms % 1000 == 0)
		return err_set(e, EX_TEMPFAIL, "deliver_command (%s) killed "
		    "after %llds", c->argv[0], ms / 1000);
	return err_set(e, EX_TEMPFAIL, "deliver_command (%s) killed after "
	    "%lldms", c->argv[0], ms);
}

/* Write p[0..n) to the command's stdin, reading its output meanwhile.
 * 0, or an errno (ETIMEDOUT: the deadline passed); EPIPE is not an
 * error here: the rest is dropped and commit says so. */
static int
pipe_write(struct cmd *c, const char *p, size_t n)
{
	while (n > 0 && !c->epipe) {
		long long left = c->deadline - util_now_ms();
		struct pollfd pfd[2] = {
			{ .fd = c->in, .events = POLLOUT },
			{ .fd = c->out_eof ? -1 : c->out, .events = POLLIN },
		};
		ssize_t w;

		if (left <= 0)
			return ETIMEDOUT;
		if (poll(pfd, 2, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (pfd[1].revents != 0)
			drain(c);
		if (pfd[0].revents == 0)
			continue;
		w = write(c->in, p, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EPIPE) {
				c->epipe = true;
				break;
			}
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
cmd_flush(struct cmd *c)
{
	int rc = pipe_write(c, c->buf, c->used);

	c->used = 0;
	return rc;
}

/* Output of the filter: buffered, then to the command. */
static int
cmd_out(void *arg, const char *p, size_t n)
{
	struct cmd *c = arg;
	int rc;

	if (c->used + n > CMD_BUFSIZE && (rc = cmd_flush(c)) != 0)
		goto fail;
	if (n >= CMD_BUFSIZE) {
		if ((rc = pipe_write(c, p, n)) != 0)
			goto fail;
		return 0;
	}
	memcpy(c->buf + c->used, p, n);
	c->used += n;
	return 0;
fail:
	c->werr = rc;
	return -1;
}

static int
cmd_write_failed(struct cmd *c, int errnum, struct err *e)
{
	if (errnum == ETIMEDOUT)
		return cmd_timeout(c, e);
	cmd_drop(c);
	return err_sys(e, EX_IOERR, errnum, "deliver_command (%s): cannot "
	    "write to its standard input", c->argv[0]);
}

static int
cmd_batch_begin(struct sink *s, struct sink_mark *mark, struct err *e)
{
	struct cmd *c = s->priv;

	(void)e;
	memset(mark, 0, sizeof(*mark));
	c->in_batch = 1;
	return 0;
}

static int
cmd_msg_begin(struct sink *s, const struct sink_msg *m, struct err *e)
{
	struct cmd *c = s->priv;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int rc = 0, xerr;

	if (!c->in_batch)
		return err_set(e, EX_SOFTWARE, "deliver_command: message "
		    "outside a batch");
	if (c->pid > 0)
		return err_set(e, EX_SOFTWARE, "deliver_command: message "
		    "begun inside a message");
	c->envp = env_make(c, m);
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0) {
		rc = err_sys(e, EX_OSERR, errno, "deliver_command (%s): pipe",
		    c->argv[0]);
		goto out;
	}
	proc_guard_begin(&c->guard);
	if ((c->pid = fork()) < 0) {
		proc_guard_set(&c->guard, 0);
		proc_guard_end(&c->guard);
		rc = err_sys(e, EX_OSERR, errno, "deliver_command (%s): fork",
		    c->argv[0]);
		goto out;
	}
	if (c->pid == 0)
		proc_child_exec(c->argv, c->envp, pin[0], pout[1], pout[1],
		    perr[1]);
	(void)setpgid(c->pid, c->pid);
	proc_guard_set(&c->guard, c->pid);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	c->in = pin[1];
	c->out = pout[0];
	pin[1] = pout[0] = -1;
	c->out_eof = c->epipe = c->timed_out = false;
	c->tlen = 0;
	c->used = 0;
	if ((xerr = proc_exec_result(perr[0])) != 0) {
		int status;

		proc_reaped();
		proc_reap(c->pid, &status);
		c->pid = -1;
		proc_guard_end(&c->guard);
		cmd_drop(c);
		rc = err_set(e, EX_CONFIG, "deliver_command (%s): cannot run: "
		    "%s", c->argv[0], strerror(xerr));
		goto out;
	}
	(void)fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
	(void)fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
	c->deadline = util_now_ms() + c->timeout_ms;
	msgfilter_init(&c->filter, 0, cmd_out, c);
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	if (rc != 0)
		cmd_drop(c);
	return rc;
}

static int
cmd_no_message(struct err *e)
{
	return err_set(e, EX_SOFTWARE, "deliver_command: no message in "
	    "progress");
}

static int
cmd_msg_write(struct sink *s, const char *buf, size_t len, struct err *e)
{
	struct cmd *c = s->priv;

	if (c->pid <= 0)
		return cmd_no_message(e);
	if (msgfilter_write(&c->filter, buf, len) != 0)
		return cmd_write_failed(c, c->werr, e);
	return 0;
}

/* End of input; wait for the exit (reading the output meanwhile). */
static int
cmd_msg_commit(struct sink *s, struct err *e)
{
	struct cmd *c = s->priv;
	char line[CMD_LINE_MAX + 1];
	const char *prog = c->argv[0];
	int status = 0, rc = 0;
	pid_t r;

	if (c->pid <= 0)
		return cmd_no_message(e);
	if (msgfilter_finish(&c->filter) != 0 || (rc = cmd_flush(c)) != 0)
		return cmd_write_failed(c, c->werr != 0 ? c->werr : rc, e);
	close(c->in);
	c->in = -1;
	for (;;) {
		long long left = c->deadline - util_now_ms();
		struct pollfd pfd = { .fd = c->out_eof ? -1 : c->out,
		    .events = POLLIN };

		if (left <= 0)
			return cmd_timeout(c, e);
		/* Wake up now and then to notice the exit even when
		 * something it started keeps the output open. */
		if (poll(&pfd, 1, left < 50 ? (int)left : 50) > 0)
			drain(c);
		r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid)
			break;
		if (r < 0 && errno != EINTR) {
			rc = err_sys(e, EX_OSERR, errno, "deliver_command "
			    "(%s): waitpid", prog);
			cmd_drop(c);
			return rc;
		}
	}
	proc_reaped();
	c->pid = -1;
	proc_guard_end(&c->guard);
	drain(c);
	last_line(c, line, sizeof(line));
	cmd_drop(c);

	if (WIFSIGNALED(status))
		return err_set(e, EX_UNAVAILABLE, "deliver_command (%s) killed "
		    "by signal %d%s%s", prog, WTERMSIG(status),
		    line[0] != '\0' ? ": " : "", line);
	if (WEXITSTATUS(status) == EX_TEMPFAIL) {
		err_set(e, EX_TEMPFAIL, "deliver_command (%s) exited with "
		    "status 75 (try again later)%s%s", prog,
		    line[0] != '\0' ? ": " : "", line);
		return SINK_LATER;
	}
	if (WEXITSTATUS(status) != 0)
		return err_set(e, EX_UNAVAILABLE, "deliver_command (%s) exited "
		    "with status %d%s%s", prog, WEXITSTATUS(status),
		    line[0] != '\0' ? ": " : "", line);
	if (c->epipe)
		return err_set(e, EX_UNAVAILABLE, "deliver_command (%s) exited "
		    "with status 0 without reading the whole message: taken "
		    "as not delivered", prog);
	return 0;
}

static void
cmd_msg_abort(struct sink *s)
{
	cmd_drop(s->priv);
}

static int
cmd_batch_sync(struct sink *s, struct err *e)
{
	struct cmd *c = s->priv;

	if (c->pid > 0)
		return err_set(e, EX_SOFTWARE, "deliver_command: batch synced "
		    "inside a message");
	c->in_batch = 0;
	return 0;
}

static void
cmd_batch_abort(struct sink *s)
{
	struct cmd *c = s->priv;

	cmd_drop(c);
	c->in_batch = 0;
}

static void
cmd_close(struct sink *s)
{
	struct cmd *c;

	if (s == NULL)
		return;
	c = s->priv;
	cmd_drop(c);
	for (char **p = c->argv; *p != NULL; p++)
		free(*p);
	free(c->argv);
	free(c->account);
	free(c->buf);
	free(c);
}

static const struct sink_ops command_ops = {
	.kind = "deliver_command",
	.batch_max = 1,
	.undo_final = 1,
	.batch_begin = cmd_batch_begin,
	.msg_begin = cmd_msg_begin,
	.msg_write = cmd_msg_write,
	.msg_commit = cmd_msg_commit,
	.msg_abort = cmd_msg_abort,
	.batch_sync = cmd_batch_sync,
	.batch_abort = cmd_batch_abort,
	.close = cmd_close,
};

int
sink_open_command(char *const *argv, const char *account, long timeout_ms,
    struct sink **out, struct err *e)
{
	struct cmd *c;
	size_t n = 0;

	*out = NULL;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
		return err_set(e, EX_CONFIG, "deliver_command: no command");
	while (argv[n] != NULL)
		n++;
	c = xcalloc(1, sizeof(*c));
	c->argv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		c->argv[i] = xstrdup(argv[i]);
	c->account = xstrdup(account != NULL ? account : "");
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 300000;
	c->pid = -1;
	c->in = c->out = -1;
	c->buf = xmalloc(CMD_BUFSIZE);
	c->sink.ops = &command_ops;
	c->sink.priv = c;
	*out = &c->sink;
	return 0;
}
