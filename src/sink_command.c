/*
 * sink_command.c - the command store (deliver_command): each message is
 * handed to a program (procmail, maildrop, dovecot-lda, a spam filter),
 * a new process per message, run as proc.h runs configured commands (no
 * shell, its own process group, killed with popfetch).
 *
 * The message is first written whole to a spool file (unlinked at once,
 * in $TMPDIR or /tmp, reused from message to message), LF line ends and
 * no From_ line; only at msg_commit, with the message complete, is the
 * command started, with that file as its standard input. So a command
 * never sees part of a message as if it were all of it, whatever happens
 * to popfetch meanwhile (a lost connection, a kill -9), and its time
 * limit is its own, not the download's. Its environment is popfetch's
 * plus POPFETCH_ACCOUNT, POPFETCH_UIDL (bytes outside 0x21..0x7e and '%'
 * written %XX) and POPFETCH_SIZE (the size the server announced). Its
 * standard output and standard error are read by popfetch; the last
 * line is quoted when the command fails.
 *
 * Exit 0 after reading the whole file (the file offset it shares with
 * popfetch says how far it read): stored (nothing to sync: the command
 * made it durable before exiting, or it never will). Exit 75
 * (EX_TEMPFAIL): SINK_LATER. Exit 0 with part of the file unread, any
 * other status, a signal: EX_UNAVAILABLE; still running after the
 * account's deliver_timeout: killed with its group, EX_TEMPFAIL.
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
	int spool;               /* the message, whole; -1 until needed */
	bool in_msg;
	unsigned long long spooled;   /* bytes in the spool */
	int werr;                /* errno of a failed write in the filter */
	struct msgfilter filter;
	char *buf;
	size_t used;
	/* Of the message in progress, for the command's environment. */
	char *uidl;              /* escaped */
	unsigned long long size;
	/* The running command (pid > 0). */
	pid_t pid;
	int out;                 /* its stdout+stderr (ours: read end), -1 */
	bool out_eof;
	struct proc_guard guard;
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
env_make(const struct cmd *c)
{
	size_t n = 0, k = 0;
	char **envp;

	for (char **p = environ; p != NULL && *p != NULL; p++)
		n++;
	envp = xcalloc(n + 4, sizeof(*envp));
	for (char **p = environ; p != NULL && *p != NULL; p++)
		if (strncmp(*p, "POPFETCH_", 9) != 0)
			envp[k++] = *p;
	envp[k++] = xasprintf("POPFETCH_ACCOUNT=%s", c->account);
	envp[k++] = xasprintf("POPFETCH_UIDL=%s", c->uidl);
	envp[k++] = xasprintf("POPFETCH_SIZE=%llu", c->size);
	return envp;
}

/* uidl escaped as the environment shows it (malloc'd). */
static char *
uidl_escape(const char *uidl, size_t len)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; uidl != NULL && i < len; i++) {
		unsigned char b = (unsigned char)uidl[i];

		if (b < 0x21 || b > 0x7e || b == '%')
			o += (size_t)snprintf(out + o, 4, "%%%02X", b);
		else
			out[o++] = (char)b;
	}
	out[o] = '\0';
	return out;
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

/* Read some of what the command wrote, if anything: at most 16 reads,
 * so a command that writes without end cannot keep popfetch here past
 * its time limit. */
static void
drain(struct cmd *c)
{
	char b[4096];
	ssize_t n;

	for (int i = 0; i < 16 && !c->out_eof && c->out >= 0; i++) {
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

/* The command is over (reaped, or killed and reaped): close its output. */
static void
cmd_reaped(struct cmd *c)
{
	c->pid = -1;
	proc_guard_end(&c->guard);
	if (c->out >= 0)
		close(c->out);
	c->out = -1;
	env_free(c->envp);
	c->envp = NULL;
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
	cmd_reaped(c);
}

/* Forget the message in progress. */
static void
cmd_drop(struct cmd *c)
{
	cmd_kill(c);
	c->in_msg = false;
	c->used = 0;
	c->spooled = 0;
	free(c->uidl);
	c->uidl = NULL;
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

/* An unlinked file for the message: O_TMPFILE where the file system has
 * it, else a named one removed at once. -1 with errno. */
static int
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char *tmpl;
	int fd;

	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	tmpl = xasprintf("%s/popfetch-msg.XXXXXX", dir);
	fd = mkstemp(tmpl);
	if (fd >= 0) {
		(void)unlink(tmpl);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	free(tmpl);
	return fd;
}

static int
cmd_flush(struct cmd *c)
{
	int rc;

	if (c->used == 0)
		return 0;
	if ((rc = util_write_all(c->spool, c->buf, c->used)) != 0)
		return rc;
	c->spooled += c->used;
	c->used = 0;
	return 0;
}

/* Output of the filter: buffered, then to the spool. */
static int
cmd_out(void *arg, const char *p, size_t n)
{
	struct cmd *c = arg;
	int rc;

	if (c->used + n > CMD_BUFSIZE && (rc = cmd_flush(c)) != 0)
		goto fail;
	if (n >= CMD_BUFSIZE) {
		if ((rc = util_write_all(c->spool, p, n)) != 0)
			goto fail;
		c->spooled += n;
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
	cmd_drop(c);
	return err_sys(e, EX_IOERR, errnum, "deliver_command (%s): cannot "
	    "write the message to a temporary file", c->argv[0]);
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

	if (!c->in_batch)
		return err_set(e, EX_SOFTWARE, "deliver_command: message "
		    "outside a batch");
	if (c->in_msg)
		return err_set(e, EX_SOFTWARE, "deliver_command: message "
		    "begun inside a message");
	if (c->spool < 0 && (c->spool = spool_open()) < 0)
		return err_sys(e, EX_CANTCREAT, errno, "deliver_command (%s): "
		    "cannot create a temporary file", c->argv[0]);
	if (ftruncate(c->spool, 0) != 0 || lseek(c->spool, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, errno, "deliver_command (%s): "
		    "cannot empty its temporary file", c->argv[0]);
	c->in_msg = true;
	c->spooled = 0;
	c->used = 0;
	c->werr = 0;
	free(c->uidl);
	c->uidl = uidl_escape(m->uidl, m->uidl_len);
	c->size = m->size;
	msgfilter_init(&c->filter, 0, cmd_out, c);
	return 0;
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

	if (!c->in_msg)
		return cmd_no_message(e);
	if (msgfilter_write(&c->filter, buf, len) != 0)
		return cmd_write_failed(c, c->werr, e);
	return 0;
}

/* Start the command on the spooled message. */
static int
cmd_start(struct cmd *c, struct err *e)
{
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int rc = 0, xerr, status;

	c->envp = env_make(c);
	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0) {
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
		proc_child_exec(c->argv, c->envp, c->spool, pout[1], pout[1],
		    perr[1]);
	(void)setpgid(c->pid, c->pid);
	proc_guard_set(&c->guard, c->pid);
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	c->out = pout[0];
	pout[0] = -1;
	c->out_eof = false;
	c->tlen = 0;
	if ((xerr = proc_exec_result(perr[0])) != 0) {
		proc_reaped();
		proc_reap(c->pid, &status);
		cmd_reaped(c);
		rc = err_set(e, EX_CONFIG, "deliver_command (%s): cannot run: "
		    "%s", c->argv[0], strerror(xerr));
		goto out;
	}
	(void)fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
out:
	for (int i = 0; i < 2; i++) {
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	if (rc != 0 && c->pid <= 0) {
		env_free(c->envp);
		c->envp = NULL;
	}
	return rc;
}

/* The message is whole in the spool: run the command on it and wait for
 * its exit (reading its output meanwhile). */
static int
cmd_msg_commit(struct sink *s, struct err *e)
{
	struct cmd *c = s->priv;
	char line[CMD_LINE_MAX + 1];
	const char *prog = c->argv[0];
	int status = 0, rc = 0;
	long long deadline;
	unsigned long long spooled;
	off_t read_to;
	pid_t r;

	if (!c->in_msg)
		return cmd_no_message(e);
	if (msgfilter_finish(&c->filter) != 0 || (rc = cmd_flush(c)) != 0)
		return cmd_write_failed(c, c->werr != 0 ? c->werr : rc, e);
	if (lseek(c->spool, 0, SEEK_SET) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "deliver_command (%s): "
		    "cannot rewind its temporary file", prog);
		cmd_drop(c);
		return rc;
	}
	if ((rc = cmd_start(c, e)) != 0) {
		cmd_drop(c);
		return rc;
	}
	deadline = util_now_ms() + c->timeout_ms;
	for (;;) {
		long long left = deadline - util_now_ms();
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
	drain(c);
	cmd_reaped(c);
	last_line(c, line, sizeof(line));
	/* Where the command left the file offset it shares with us. */
	read_to = lseek(c->spool, 0, SEEK_CUR);
	spooled = c->spooled;
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
	if (read_to >= 0 && (unsigned long long)read_to < spooled)
		return err_set(e, EX_UNAVAILABLE, "deliver_command (%s) exited "
		    "with status 0 after reading %lld of the message's %llu "
		    "bytes: taken as not delivered", prog, (long long)read_to,
		    spooled);
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

	if (c->in_msg)
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
	if (c->spool >= 0)
		close(c->spool);
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
	c->out = -1;
	c->spool = -1;
	c->buf = xmalloc(CMD_BUFSIZE);
	c->sink.ops = &command_ops;
	c->sink.priv = c;
	*out = &c->sink;
	return 0;
}
