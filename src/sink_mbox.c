/*
 * sink_mbox.c - the mbox sink (mboxrd flavour): messages are appended to one
 * file, each after a "From " line and followed by a blank line, with body
 * lines matching ^>*From  quoted by one more '>'.
 *
 * An append cannot be atomic, so every change is undoable instead: the
 * size before a batch (the mark) and before each message is remembered,
 * and any failure truncates back to it before it is reported. While a
 * batch is written (batch_begin to its sync or abort) and while a crashed
 * batch is taken out (recover), the sink holds both locks mail readers
 * and delivery agents use on mboxes: a dotlock file <path>.lock and an
 * fcntl write lock. Between batches, and while popfetch connects, logs
 * in, lists, deletes and quits, it holds neither: the local MTA delivers
 * to a shared mbox meanwhile.
 *
 * The file is opened with O_APPEND. Every write then lands at the current
 * end of the file, including right after an ftruncate() rollback; without
 * it, the file offset would still point past the truncated end and the
 * next write would leave a hole of NUL bytes unless every rollback also
 * remembered to lseek(). ftruncate() works the same with or without it.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sink_mbox_lock.h"
#include "sink_mbox_recover.h"
#include "msgfilter.h"
#include "msghdr.h"
#include "sink.h"
#include "testhook.h"
#include "util.h"

#define MB_BUFSIZE (64 * 1024)

struct mbox {
	struct sink sink;
	char *path;
	struct mbox_lock lk;    /* held from batch_begin to the batch's end */
	long lock_timeout_ms;
	long touch_interval_ms; /* MBOX_LOCK_TOUCH_MS; tests lower it */
	off_t size;		/* bytes in the file (written out) */
	off_t mark;		/* size at batch_begin */
	long long stamp;	/* the batch's From_ line time */
	off_t our_end;		/* size after our last batch; -1: none */
	struct timespec our_mtime;	/* its mtime then */
	off_t msg_start;	/* size at msg_begin */
	int in_batch, in_msg;
	int ends_lf;		/* the file is empty or ends with LF */
	struct msgfilter filter;
	/* The From_ line names the message's envelope sender (msghdr_sender:
	 * Return-Path, else From:, else MAILER-DAEMON): the header section
	 * is held back until it is complete (at most MSGHDR_HEAD_MAX). */
	struct msghdr_head head;
	int from_written;
	char *buf;
	size_t used;
	int werr;		/* errno of a write failed inside the filter */
};

/* Does the file end with LF? Decides whether the next From_ line needs a
 * newline in front to start a line of its own. */
static int
mb_read_ends_lf(struct mbox *mb)
{
	char c;

	if (mb->size == 0)
		return 1;
	if (pread(mb->lk.fd, &c, 1, mb->size - 1) != 1)
		return 1;	/* unreadable: assume the usual */
	return c == '\n';
}

/* Roll the file back to `to` bytes. 0 or errno. */
static int
mb_truncate(struct mbox *mb, off_t to)
{
	mb->used = 0;
	if (ftruncate(mb->lk.fd, to) != 0)
		return errno;
	mb->size = to;
	mb->ends_lf = mb_read_ends_lf(mb);
	return 0;
}

/* Roll back and make the rollback durable (a batch that may have
 * reached the disk in part). 0 or errno. */
static int
mb_rollback(struct mbox *mb, off_t to)
{
	int rc;

	if ((rc = mb_truncate(mb, to)) != 0)
		return rc;
	return fsync(mb->lk.fd) != 0 ? errno : 0;
}

static int
mb_flush(struct mbox *mb)
{
	int rc;

	if (mb->used == 0)
		return 0;
	/* A crash between two flushes leaves part of a message in the
	 * file: exactly what recovery must undo. */
	TESTHOOK("mbox-flush");
	if ((rc = util_write_all(mb->lk.fd, mb->buf, mb->used)) != 0)
		return rc;
	mb->size += (off_t)mb->used;
	mb->used = 0;
	return 0;
}

/* Output of the filter (and of our own From_ and blank lines). */
static int
mb_out(void *arg, const char *p, size_t n)
{
	struct mbox *mb = arg;
	int rc;

	if (mb->used + n > MB_BUFSIZE && (rc = mb_flush(mb)) != 0)
		goto fail;
	if (n >= MB_BUFSIZE) {
		if ((rc = util_write_all(mb->lk.fd, p, n)) != 0)
			goto fail;
		mb->size += (off_t)n;
		return 0;
	}
	memcpy(mb->buf + mb->used, p, n);
	mb->used += n;
	return 0;
fail:
	mb->werr = rc;
	return -1;
}

/*
 * A write failed (ENOSPC, EDQUOT, EFBIG: SIGXFSZ is ignored, so a file
 * size limit arrives as an errno): take the message back out, then report
 * both what went wrong and, if it came to that, that the rollback failed
 * too.
 */
static int
mb_write_failed(struct mbox *mb, int errnum, const char *what,
    struct err *e)
{
	int rc;

	mb->in_msg = 0;
	if ((rc = mb_truncate(mb, mb->msg_start)) != 0)
		return err_set(e, EX_IOERR, "cannot %s %s: %s; truncating it "
		    "back to %lld bytes failed too: %s", what, mb->path,
		    strerror(errnum), (long long)mb->msg_start, strerror(rc));
	return err_sys(e, EX_IOERR, errnum, "cannot %s %s", what, mb->path);
}

static int mb_lock(struct mbox *mb, struct err *e);

static int
mb_batch_begin(struct sink *s, struct sink_mark *mark, struct err *e)
{
	struct mbox *mb = s->priv;
	struct stat st;

	int rc;

	if (mb->in_msg || mb->in_batch)
		return err_set(e, EX_SOFTWARE, "mbox %s: batch begun inside "
		    "a batch", mb->path);
	mbox_lock_release(&mb->lk);   /* a batch_done that never came */
	if ((rc = mb_lock(mb, e)) != 0)
		return rc;
	if (fstat(mb->lk.fd, &st) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "cannot stat %s", mb->path);
		mbox_lock_release(&mb->lk);
		return rc;
	}
	/* Every From_ line of the batch has one date, the stamp: recovery
	 * tells the batch's bytes from anything after them by it, whatever
	 * the sender. No From_ line written after the mark by anyone else
	 * may have it:
	 * - the stamp is one second before the second the batch holds the
	 *   lock in: whatever is appended after the mark is written after
	 *   that (the lock is held until the batch is recorded), and dated
	 *   when written;
	 * - the file is marked changed now (under the lock), and unless it
	 *   is exactly as our last batch left it (size and mtime) we first
	 *   wait until the clock is past its last change (under a second,
	 *   only right after somebody else wrote): a batch another popfetch
	 *   left unfinished here marked the file no earlier than its own
	 *   stamp + 1, so ours is later than that stamp. */
	if (st.st_size != mb->our_end ||
	    st.st_mtim.tv_sec != mb->our_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != mb->our_mtime.tv_nsec) {
		for (int i = 0; i < 24 && (long long)time(NULL) <=
		    (long long)st.st_mtime; i++)
			util_sleep_ms(50);
	}
	(void)futimens(mb->lk.fd, NULL);
	mb->stamp = (long long)time(NULL) - 1;
	mb->size = st.st_size;
	mb->mark = st.st_size;
	mb->ends_lf = mb_read_ends_lf(mb);
	mb->in_batch = 1;
	mbox_lock_touch(&mb->lk);
	mark->set = 1;
	mark->size = mb->mark;
	mark->dev = (unsigned long long)st.st_dev;
	mark->ino = (unsigned long long)st.st_ino;
	mark->stamp = mb->stamp;
	return 0;
}

static int
mb_msg_begin(struct sink *s, const struct sink_msg *m, struct err *e)
{
	struct mbox *mb = s->priv;

	(void)m;
	if (!mb->in_batch)
		return err_set(e, EX_SOFTWARE, "mbox %s: message outside a "
		    "batch", mb->path);
	if (mb->in_msg)
		return err_set(e, EX_SOFTWARE, "mbox %s: message begun "
		    "inside a message", mb->path);
	mb->msg_start = mb->size;
	mb->used = 0;
	mb->in_msg = 1;
	msgfilter_init(&mb->filter, MSGFILTER_MBOXRD, mb_out, mb);

	/* A file not ending in LF (written by something else) would glue
	 * our From_ line to its last line. */
	if (!mb->ends_lf && mb_out(mb, "\n", 1) != 0)
		return mb_write_failed(mb, mb->werr, "write to", e);
	msghdr_head_reset(&mb->head);
	mb->from_written = 0;
	return 0;
}

/* The header section is complete (or the message ended): the From_ line,
 * then the section through the filter. 0 or -1 (mb->werr). */
static int
mb_write_head(struct mbox *mb)
{
	char sender[MSGHDR_ADDR_MAX], line[MSGHDR_ADDR_MAX + 64];
	const char *h = msghdr_head_data(&mb->head);
	size_t hl = msghdr_head_len(&mb->head);

	msghdr_sender(h != NULL ? h : "", hl, sender, sizeof(sender));
	/* An address without a domain ("root") is written MAILER-DAEMON:
	 * recovery knows our From_ lines by an '@' or that word. */
	if (strchr(sender, '@') == NULL)
		snprintf(sender, sizeof(sender), "MAILER-DAEMON");
	mbox_from_line_for(sender, mb->stamp, line, sizeof(line));
	mb->from_written = 1;
	if (mb_out(mb, line, strlen(line)) != 0)
		return -1;
	if (hl > 0 && msgfilter_write(&mb->filter, h, hl) != 0)
		return -1;
	msghdr_head_reset(&mb->head);
	return 0;
}

static int
mb_no_message(struct mbox *mb, struct err *e)
{
	return err_set(e, EX_SOFTWARE, "mbox %s: no message in progress",
	    mb->path);
}

static int
mb_msg_write(struct sink *s, const char *buf, size_t len, struct err *e)
{
	struct mbox *mb = s->priv;

	if (!mb->in_msg)
		return mb_no_message(mb, e);
	mbox_lock_touch(&mb->lk);
	if (!mb->from_written) {
		size_t took = msghdr_head_feed(&mb->head, buf, len);

		buf += took;
		len -= took;
		if (!msghdr_head_done(&mb->head))
			return 0;
		if (mb_write_head(mb) != 0)
			return mb_write_failed(mb, mb->werr, "write to", e);
	}
	if (len > 0 && msgfilter_write(&mb->filter, buf, len) != 0)
		return mb_write_failed(mb, mb->werr, "write to", e);
	return 0;
}

/* End the message with its own LF (added when the server's copy had
 * none) and the blank line that separates it from the next From_. */
static int
mb_msg_commit(struct sink *s, struct err *e)
{
	struct mbox *mb = s->priv;
	int rc;

	if (!mb->in_msg)
		return mb_no_message(mb, e);
	if (!mb->from_written) {
		msghdr_head_finish(&mb->head);
		if (mb_write_head(mb) != 0)
			return mb_write_failed(mb, mb->werr, "write to", e);
	}
	if (msgfilter_finish(&mb->filter) != 0)
		return mb_write_failed(mb, mb->werr, "write to", e);
	if (!msgfilter_ends_with_lf(&mb->filter) && mb_out(mb, "\n", 1) != 0)
		return mb_write_failed(mb, mb->werr, "write to", e);
	if (mb_out(mb, "\n", 1) != 0)
		return mb_write_failed(mb, mb->werr, "write to", e);
	if ((rc = mb_flush(mb)) != 0)
		return mb_write_failed(mb, rc, "write to", e);
	mb->in_msg = 0;
	mb->ends_lf = 1;
	mbox_lock_touch(&mb->lk);
	return 0;
}

static void
mb_msg_abort(struct sink *s)
{
	struct mbox *mb = s->priv;
	int rc;

	if (!mb->in_msg)
		return;
	mb->in_msg = 0;
	if ((rc = mb_truncate(mb, mb->msg_start)) != 0)
		log_error(NULL, "cannot truncate %s back to %lld bytes: %s",
		    mb->path, (long long)mb->msg_start, strerror(rc));
}

static int
mb_batch_sync(struct sink *s, struct err *e)
{
	struct mbox *mb = s->priv;
	int errnum, rc;

	if (mb->in_msg)
		return err_set(e, EX_SOFTWARE, "mbox %s: batch synced inside "
		    "a message", mb->path);
	if (!mb->in_batch)
		return 0;   /* ended already (synced or undone) */
	if (fsync(mb->lk.fd) == 0) {
		struct stat st;

		mb->in_batch = 0;
		mb->our_end = mb->size;
		if (fstat(mb->lk.fd, &st) == 0)
			mb->our_mtime = st.st_mtim;
		/* The locks stay until batch_done: until the batch is
		 * recorded, recovery may still have to take it out. */
		return 0;
	}
	errnum = errno;
	/* Whatever of the batch did reach the disk must not stay: it will
	 * not be recorded as stored, and the next run fetches it again. */
	mb->in_batch = 0;
	rc = mb_rollback(mb, mb->mark);
	mbox_lock_release(&mb->lk);
	if (rc != 0)
		return err_set(e, EX_IOERR, "cannot fsync %s: %s; truncating "
		    "it back to %lld bytes failed too: %s", mb->path,
		    strerror(errnum), (long long)mb->mark, strerror(rc));
	return err_sys(e, EX_IOERR, errnum, "cannot fsync %s", mb->path);
}

static void
mb_batch_abort(struct sink *s)
{
	struct mbox *mb = s->priv;
	int rc;

	mb_msg_abort(s);
	if (!mb->in_batch)
		return;
	mb->in_batch = 0;
	if ((rc = mb_rollback(mb, mb->mark)) != 0)
		log_error(NULL, "cannot truncate %s back to %lld bytes: %s",
		    mb->path, (long long)mb->mark, strerror(rc));
	mbox_lock_release(&mb->lk);
}

static void
mb_close(struct sink *s)
{
	struct mbox *mb;

	if (s == NULL)
		return;
	mb = s->priv;
	/* Committed messages are flushed at commit; anything still open
	 * was never synced, so it is not recorded anywhere: undo it. */
	mb_batch_abort(s);
	mbox_lock_release(&mb->lk);
	msghdr_head_reset(&mb->head);
	free(mb->buf);
	free(mb->path);
	free(mb);
}

static void
mb_idle(struct sink *s)
{
	mbox_lock_touch(&((struct mbox *)s->priv)->lk);
}

static void
mb_batch_done(struct sink *s)
{
	struct mbox *mb = s->priv;

	if (!mb->in_batch)
		mbox_lock_release(&mb->lk);
}

static int
mb_recover(struct sink *s, const struct sink_mark *mark, char *const *names,
    size_t nnames, int *found, struct err *warn, struct err *e)
{
	struct mbox *mb = s->priv;

	(void)names;
	for (size_t i = 0; i < nnames; i++)
		found[i] = 0;
	err_clear(warn);
	if (mark == NULL)
		return 0;
	return sink_mbox_recover(mb->path, mark, mb->lock_timeout_ms, warn,
	    e);
}

static const struct sink_ops mbox_ops = {
	.kind = "mbox",
	.undo_final = 1,
	.recover = mb_recover,
	.batch_begin = mb_batch_begin,
	.msg_begin = mb_msg_begin,
	.msg_write = mb_msg_write,
	.msg_commit = mb_msg_commit,
	.msg_abort = mb_msg_abort,
	.batch_sync = mb_batch_sync,
	.batch_abort = mb_batch_abort,
	.batch_done = mb_batch_done,
	.close = mb_close,
	.idle = mb_idle,
};

/* Create the directory an mbox will live in. */
static int
mbox_mkparent(const char *path, struct err *e)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = util_mkdirs_durable(dir, 0700)) != 0)
			rc = err_sys(e, EX_CANTCREAT, rc, "cannot create "
			    "directory %s", dir);
	}
	free(dir);
	return rc;
}

/* Take both locks on the file (creating it when missing) and check it is
 * a regular file. */
static int
mb_lock(struct mbox *mb, struct err *e)
{
	struct stat st;
	int rc;

	if ((rc = mbox_lock_take(&mb->lk, mb->path, 1, mb->lock_timeout_ms,
	    e)) != 0)
		return rc;
	mb->lk.touch_interval_ms = mb->touch_interval_ms;
	if (fstat(mb->lk.fd, &st) != 0)
		rc = err_sys(e, EX_IOERR, errno, "cannot stat %s", mb->path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, EX_CANTCREAT, "mbox %s is not a regular file",
		    mb->path);
	if (rc != 0)
		mbox_lock_release(&mb->lk);
	return rc;
}

/* Create the file when missing (0600; its directory entry made durable)
 * and check it is a regular file popfetch can write. No lock: creating
 * an empty file, or opening one, changes nothing for anyone. */
static int
mb_check(const char *path, struct err *e)
{
	struct stat st;
	int fd, rc = 0, created = 0;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd >= 0)
		created = 1;
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK);
	if (fd < 0)
		return err_sys(e, EX_CANTCREAT, errno, "cannot open mbox %s",
		    path);
	if (fstat(fd, &st) != 0)
		rc = err_sys(e, EX_IOERR, errno, "cannot stat %s", path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, EX_CANTCREAT, "mbox %s is not a regular file",
		    path);
	else if (created && (rc = util_fsync_parent(path)) != 0)
		rc = err_sys(e, EX_IOERR, rc, "cannot fsync the directory of "
		    "%s", path);
	close(fd);
	return rc;
}

int
sink_open_mbox(const char *path, long lock_timeout_ms, struct sink **out,
    struct err *e)
{
	struct mbox *mb;
	int rc;

	*out = NULL;
	if ((rc = mbox_mkparent(path, e)) != 0)
		return rc;
	mb = xcalloc(1, sizeof(*mb));
	msghdr_head_init(&mb->head);
	mb->lk.fd = -1;
	mb->path = xstrdup(path);
	mb->lock_timeout_ms = lock_timeout_ms;
	mb->touch_interval_ms = MBOX_LOCK_TOUCH_MS;
	/* The file is made (and checked) now, without the locks, so a
	 * store popfetch cannot write fails before the server is
	 * contacted. */
	if ((rc = mb_check(mb->path, e)) != 0) {
		free(mb->path);
		free(mb);
		return rc;
	}
	mb->sink.ops = &mbox_ops;
	mb->sink.priv = mb;
	mb->our_end = -1;
	mb->buf = xmalloc(MB_BUFSIZE);
	*out = &mb->sink;
	return 0;
}

void
sink_mbox_set_lock_refresh(struct sink *s, long interval_ms)
{
	struct mbox *mb = s->priv;

	mb->touch_interval_ms = interval_ms;
	mb->lk.touch_interval_ms = interval_ms;
}

int
sink_mbox_recover(const char *path, const struct sink_mark *mark,
    long lock_timeout_ms, struct err *warn, struct err *e)
{
	struct mbox_lock lk;
	struct stat st;
	enum mbox_tail kind;
	off_t foreign;
	int nl, rc = 0;

	err_clear(warn);
	if (stat(path, &st) != 0 && errno == ENOENT)
		return 0;
	if ((rc = mbox_lock_take(&lk, path, 0, lock_timeout_ms, e)) != 0)
		return rc;
	if (lk.fd < 0)
		goto done;	/* removed meanwhile */
	if (fstat(lk.fd, &st) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "cannot stat %s", path);
		goto done;
	}
	if (st.st_size <= mark->size)
		goto done;
	if ((mark->dev != 0 || mark->ino != 0) &&
	    ((unsigned long long)st.st_dev != mark->dev ||
	    (unsigned long long)st.st_ino != mark->ino)) {
		err_set(warn, EX_OK, "%s is another file than when the "
		    "interrupted run wrote to it; left as it is (messages of "
		    "that run may be in it twice)", path);
		goto done;
	}
	if ((rc = mbox_tail_scan(lk.fd, mark->size, st.st_size, mark->stamp,
	    &kind, &foreign, &nl, e)) != 0) {
		err_prefix(e, "%s", path);
		goto done;
	}
	switch (kind) {
	case MBOX_TAIL_CHANGED:
		err_set(warn, EX_OK, "%s was changed after the interrupted run "
		    "wrote to it; left as it is (messages of that run may be "
		    "in it twice, the last one cut short)", path);
		break;
	case MBOX_TAIL_FOREIGN:
		if ((rc = mbox_tail_move(lk.fd, foreign, mark->size,
		    st.st_size, nl, e)) != 0) {
			err_prefix(e, "%s", path);
			break;
		}
		err_set(warn, EX_OK, "%s: kept the %lld bytes another program "
		    "appended after the interrupted run", path,
		    (long long)(st.st_size - foreign));
		break;
	case MBOX_TAIL_OURS:
		if (ftruncate(lk.fd, mark->size) != 0 || fsync(lk.fd) != 0)
			rc = err_sys(e, EX_IOERR, errno, "cannot truncate %s "
			    "to %lld bytes", path, (long long)mark->size);
		break;
	}
done:
	mbox_lock_release(&lk);
	return rc;
}
