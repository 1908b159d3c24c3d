/*
 * sink_maildir.c - the Maildir sink: each message is written to tmp/; at the
 * batch's end every file is synced, then each is given its name in new/
 * in one step, then new/ is synced once, so a reader (or a crash) sees
 * either the whole message or nothing, and a file in new/ is always one
 * whose data is on disk.
 *
 * A message enters new/ through link() + unlink() rather than rename():
 * link() fails when the target exists, so a name clash can never replace
 * a message already delivered. rename() is only the fallback for file
 * systems without hard links.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msgfilter.h"
#include "sink.h"
#include "testhook.h"
#include "util.h"

#define MD_BUFSIZE (64 * 1024)
/* Committed files whose descriptors stay open until the batch's data
 * sync. fetch.c's batches have at most 64 messages; a longer batch syncs
 * its open files early instead of holding more descriptors. */
#define MD_MAX_OPEN 64

/* A committed message: written and closed to writes, not yet in new/. */
struct md_pending {
	int fd;			/* open until its data is synced, then -1 */
	char *tmpname;
	char *newname;
};

struct maildir {
	struct sink sink;
	char *path;
	char *newdir;
	int in_batch;
	int fd;			/* the message being written, or -1 */
	char *tmpname;		/* path/tmp/<name> */
	char *newname;		/* path/new/<name> */
	struct msgfilter filter;
	char *buf;
	size_t used;
	int werr;		/* errno of a write failed inside the filter */
	struct md_pending *pend;	/* the batch's committed messages */
	size_t npend, nopen, pendcap;
	struct err failed;	/* an early sync failed: the batch is undone */
};

/* ENOSPC and friends are I/O trouble of the store; anything else (EACCES,
 * ENOENT, ...) means the destination cannot be created at all. */
static int
md_code(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case EIO:
		return EX_IOERR;
	default:
		return EX_CANTCREAT;
	}
}

/* Output of the filter: fill the buffer, write it out when full. */
static int
md_out(void *arg, const char *p, size_t n)
{
	struct maildir *md = arg;
	int rc;

	if (md->used + n > MD_BUFSIZE && md->used > 0) {
		if ((rc = util_write_all(md->fd, md->buf, md->used)) != 0)
			goto fail;
		md->used = 0;
	}
	if (n >= MD_BUFSIZE) {
		if ((rc = util_write_all(md->fd, p, n)) != 0)
			goto fail;
		return 0;
	}
	memcpy(md->buf + md->used, p, n);
	md->used += n;
	return 0;
fail:
	md->werr = rc;
	return -1;
}

/* Forget the message in progress and remove its tmp file. */
static void
md_drop(struct maildir *md)
{
	if (md->fd >= 0) {
		close(md->fd);
		md->fd = -1;
		(void)unlink(md->tmpname);
	}
	free(md->tmpname);
	free(md->newname);
	md->tmpname = md->newname = NULL;
	md->used = 0;
}

static int
md_batch_begin(struct sink *s, struct sink_mark *mark, struct err *e)
{
	struct maildir *md = s->priv;

	(void)e;
	memset(mark, 0, sizeof(*mark));
	md->in_batch = 1;
	return 0;
}

static int
md_msg_begin(struct sink *s, const struct sink_msg *m, struct err *e)
{
	struct maildir *md = s->priv;
	const char *name = m->name;
	int errnum, code;

	if (!md->in_batch)
		return err_set(e, EX_SOFTWARE, "Maildir %s: message "
		    "outside a batch", md->path);
	if (md->fd >= 0)
		return err_set(e, EX_SOFTWARE, "Maildir %s: message begun "
		    "while %s is open", md->path, md->tmpname);
	if (name == NULL || name[0] == '\0' || name[0] == '.' ||
	    strchr(name, '/') != NULL)
		return err_set(e, EX_SOFTWARE, "Maildir %s: bad message "
		    "name \"%s\"", md->path, name ? name : "");

	md->tmpname = xasprintf("%s/tmp/%s", md->path, name);
	md->newname = xasprintf("%s/new/%s", md->path, name);
	md->fd = open(md->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (md->fd < 0) {
		/* Not ours to unlink (EEXIST): md_drop() leaves it. */
		errnum = errno;
		code = err_sys(e, md_code(errnum), errnum, "cannot create %s",
		    md->tmpname);
		md_drop(md);
		return code;
	}
	md->used = 0;
	msgfilter_init(&md->filter, 0, md_out, md);
	return 0;
}

static int
md_no_message(struct maildir *md, struct err *e)
{
	return err_set(e, EX_SOFTWARE, "Maildir %s: no message in progress",
	    md->path);
}

/* A write failed: name the file, then undo the message. */
static int
md_write_failed(struct maildir *md, int errnum, const char *what,
    struct err *e)
{
	int code = err_sys(e, EX_IOERR, errnum, "%s %s", what, md->tmpname);

	md_drop(md);
	return code;
}

static int
md_msg_write(struct sink *s, const char *buf, size_t len, struct err *e)
{
	struct maildir *md = s->priv;

	if (md->fd < 0)
		return md_no_message(md, e);
	if (msgfilter_write(&md->filter, buf, len) != 0)
		return md_write_failed(md, md->werr, "cannot write", e);
	return 0;
}

/* link() reports these when the file system has no hard links (vfat,
 * some FUSE and network file systems). */
static int
link_unsupported(int errnum)
{
	return errnum == EPERM || errnum == ENOSYS || errnum == EXDEV ||
	    errnum == EOPNOTSUPP;
}

/* Give the synced tmp file its name in new/, never replacing a file. */
static int
md_publish(const char *tmpname, const char *newname, struct err *e)
{
	struct stat st;
	int errnum;

	if ((errnum = TESTHOOK_FAIL("maildir-link")) != 0)
		return err_sys(e, md_code(errnum), errnum,
		    "cannot move %s to %s", tmpname, newname);
	if (link(tmpname, newname) == 0) {
		/* A tmp/ leftover after a crash here is harmless: the
		 * message is whole in new/, and recover() removes it. */
		TESTHOOK("maildir-linked");
		(void)unlink(tmpname);
		return 0;
	}
	errnum = errno;
	if (errnum == EEXIST)
		goto exists;
	if (!link_unsupported(errnum))
		return err_sys(e, md_code(errnum), errnum,
		    "cannot move %s to %s", tmpname, newname);
	/* Without link() there is no atomic "create unless it exists";
	 * the names are unique by construction, the check only guards
	 * against a bug that would reuse one. */
	if (lstat(newname, &st) == 0)
		goto exists;
	if (errno != ENOENT)
		return err_sys(e, EX_IOERR, errno, "cannot check %s", newname);
	if (rename(tmpname, newname) != 0)
		return err_sys(e, md_code(errno), errno,
		    "cannot move %s to %s", tmpname, newname);
	return 0;
exists:
	return err_set(e, EX_CANTCREAT, "%s already exists; not replacing it",
	    newname);
}

/* Forget the batch's committed messages, closing what is open; `undo`:
 * also remove their tmp/ files (the batch failed or is aborted). */
static void
md_unpend(struct maildir *md, int undo)
{
	for (size_t i = 0; i < md->npend; i++) {
		struct md_pending *p = &md->pend[i];

		if (p->fd >= 0)
			close(p->fd);
		if (undo)
			(void)unlink(p->tmpname);
		free(p->tmpname);
		free(p->newname);
	}
	md->npend = md->nopen = 0;
}

/*
 * Make the data of every committed file still open durable, and close it.
 * bench/syncs.sh (2000 x 4 KB, batches of 64, moves + one fsync of new/
 * per batch; ext4 on a virtio disk; median of 15; HACKING.md
 * "Durability in batches"):
 *   fsync after each write (before)              1.15 s
 *   fsync each at the batch's end, in order      1.00 s
 *   sync_file_range(WRITE) on each, then fsync   0.76 s
 *   one syncfs() of the file system              0.44 s
 * syncfs() is out: it writes out every program's dirty data on the file
 * system, and before Linux 5.8 it reports no write error. Starting the
 * write-back of all files first lets the first fsync's journal commit
 * carry them all; it is only a hint: each file's fsync() still waits for
 * that file and reports its errors, so durability does not rest on
 * ext4's ordered mode. The descriptors that wrote the files are the ones
 * synced: a write-back error reaches every descriptor open when it
 * happened, one opened again by name only if nobody has seen it yet.
 */
static int
md_sync_data(struct maildir *md, struct err *e)
{
	int fd, rc;

#ifdef HAVE_SYNC_FILE_RANGE
	for (size_t i = 0; i < md->npend; i++) {
		fd = md->pend[i].fd;
		if (fd >= 0 && sync_file_range(fd, 0, 0,
		    SYNC_FILE_RANGE_WRITE) != 0 && errno != EINVAL &&
		    errno != ENOSYS && errno != ESPIPE)
			return err_sys(e, md_code(errno), errno,
			    "cannot write %s", md->pend[i].tmpname);
	}
#endif
	for (size_t i = 0; i < md->npend; i++) {
		struct md_pending *p = &md->pend[i];

		if ((fd = p->fd) < 0)
			continue;
		rc = TESTHOOK_FAIL("maildir-fsync");
		if (rc == 0 && fsync(fd) != 0)
			rc = errno;
		if (rc != 0)
			return err_sys(e, md_code(rc), rc, "cannot fsync %s",
			    p->tmpname);
		/* close() can report a write error late (NFS, quotas). */
		p->fd = -1;
		md->nopen--;
		if (close(fd) != 0) {
			rc = errno;
			return err_sys(e, md_code(rc), rc, "cannot close %s",
			    p->tmpname);
		}
	}
	return 0;
}

/* Finish the file (no sync: batch_sync does that for the whole batch)
 * and keep it for batch_sync. */
static int
md_msg_commit(struct sink *s, struct err *e)
{
	struct maildir *md = s->priv;
	struct md_pending *p;
	struct stat st;
	int rc;

	if (md->fd < 0)
		return md_no_message(md, e);
	if (msgfilter_finish(&md->filter) != 0)
		return md_write_failed(md, md->werr, "cannot write", e);
	if ((rc = util_write_all(md->fd, md->buf, md->used)) != 0)
		return md_write_failed(md, rc, "cannot write", e);
	md->used = 0;
	/* link() in batch_sync is what never replaces a file; failing here
	 * already keeps a clash from failing the batch's other messages. */
	if (lstat(md->newname, &st) == 0) {
		rc = err_set(e, EX_CANTCREAT, "%s already exists; not "
		    "replacing it", md->newname);
		md_drop(md);
		return rc;
	}
	if (md->nopen == MD_MAX_OPEN && (rc = md_sync_data(md, e)) != 0) {
		/* The batch's earlier messages cannot be made durable:
		 * undo them all, and make batch_sync say so. */
		md->failed = *e;
		md_unpend(md, 1);
		md_drop(md);
		return rc;
	}
	if (md->npend == md->pendcap) {
		md->pendcap = md->pendcap ? 2 * md->pendcap : 16;
		md->pend = xrealloc(md->pend, md->pendcap * sizeof(*md->pend));
	}
	p = &md->pend[md->npend++];
	p->fd = md->fd;
	p->tmpname = md->tmpname;
	p->newname = md->newname;
	md->nopen++;
	md->fd = -1;
	md->tmpname = md->newname = NULL;
	return 0;
}

static void
md_msg_abort(struct sink *s)
{
	md_drop(s->priv);
}

/*
 * The batch's committed files: data synced (all of them, before any gets
 * its name in new/: recovery trusts a file it finds there to be whole),
 * then each moved into new/, then one fsync of new/ for all the entries.
 * A failure undoes the batch: the tmp/ files are removed, and so are the
 * ones already moved into new/ (nothing recorded them; fetch.c leaves the
 * journal's batch open, so one a mail reader has already moved to cur/
 * is found there by the next run's recovery, its data on disk).
 */
static int
md_batch_sync(struct sink *s, struct err *e)
{
	struct maildir *md = s->priv;
	size_t moved = 0;
	int rc, errnum;

	if (md->fd >= 0)
		return err_set(e, EX_SOFTWARE, "Maildir %s: batch synced "
		    "with %s still open", md->path, md->tmpname);
	md->in_batch = 0;
	if (md->failed.code != 0) {
		*e = md->failed;
		err_clear(&md->failed);
		return e->code;
	}
	if ((rc = md_sync_data(md, e)) != 0)
		goto out;
	TESTHOOK("maildir-batch-synced");
	for (; moved < md->npend; moved++) {
		if ((rc = md_publish(md->pend[moved].tmpname,
		    md->pend[moved].newname, e)) != 0)
			goto out;
		TESTHOOK("maildir-renamed");
	}
	if ((errnum = util_fsync_dir(md->newdir)) != 0)
		rc = err_sys(e, EX_IOERR, errnum, "cannot fsync %s",
		    md->newdir);
	else
		TESTHOOK("maildir-dir-synced");
out:
	for (size_t i = 0; i < moved && rc != 0; i++)
		(void)unlink(md->pend[i].newname);
	md_unpend(md, rc != 0);
	return rc;
}

/* Messages committed but not yet synced are taken back (their tmp/ files
 * removed); once batch_sync has run there are none. Files in new/ are
 * whole messages; fetch.c finds them again with sink_maildir_recover(). */
static void
md_batch_abort(struct sink *s)
{
	struct maildir *md = s->priv;

	md_drop(md);
	md_unpend(md, 1);
	err_clear(&md->failed);
	md->in_batch = 0;
}

static void
md_close(struct sink *s)
{
	struct maildir *md;

	if (s == NULL)
		return;
	md = s->priv;
	md_drop(md);
	md_unpend(md, 1);
	free(md->pend);
	free(md->buf);
	free(md->path);
	free(md->newdir);
	free(md);
}

/* The batch's messages that reached new/ or cur/ are made durable and
 * found; the rest of it (tmp/) removed. */
static int
md_recover(struct sink *s, const struct sink_mark *mark, char *const *names,
    size_t nnames, int *found, struct err *warn, struct err *e)
{
	struct maildir *md = s->priv;
	unsigned dirs = 0, where;
	int rc;

	(void)mark;
	err_clear(warn);
	for (size_t i = 0; i < nnames; i++) {
		if ((rc = sink_maildir_recover(md->path, names[i], &where,
		    e)) != 0)
			return rc;
		found[i] = where != 0;
		dirs |= where;
	}
	/* Each file is synced; one sync per directory for all the entries,
	 * before the journal says they are stored. */
	return sink_maildir_sync_dirs(md->path, dirs, e);
}

static char *
md_msg_name(struct sink *s)
{
	(void)s;
	return sink_maildir_name();
}

static const struct sink_ops maildir_ops = {
	.kind = "Maildir",
	.recover = md_recover,
	.msg_name = md_msg_name,
	.batch_begin = md_batch_begin,
	.msg_begin = md_msg_begin,
	.msg_write = md_msg_write,
	.msg_commit = md_msg_commit,
	.msg_abort = md_msg_abort,
	.batch_sync = md_batch_sync,
	.batch_abort = md_batch_abort,
	.close = md_close,
};

/* Create path/sub if missing; *created tells the caller to sync path. */
static int
md_subdir(const char *path, const char *sub, int *created, struct err *e)
{
	char *dir = xasprintf("%s/%s", path, sub);
	int errnum = 0, rc = 0;

	if (mkdir(dir, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		errnum = errno;
	else
		errnum = util_is_dir(dir);
	if (errnum != 0)
		rc = err_sys(e, EX_CANTCREAT, errnum, "cannot create Maildir "
		    "directory %s", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		/* Fail now rather than at the first message. */
		rc = err_sys(e, EX_CANTCREAT, errno, "cannot write to %s",
		    dir);
	free(dir);
	return rc;
}

int
sink_open_maildir(const char *path, struct sink **out, struct err *e)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct maildir *md;
	int rc, created = 0;

	*out = NULL;
	if ((rc = util_mkdirs_durable(path, 0700)) != 0)
		return err_sys(e, EX_CANTCREAT, rc, "cannot create Maildir %s",
		    path);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if ((rc = md_subdir(path, subs[i], &created, e)) != 0)
			return rc;
	if (created && (rc = util_fsync_dir(path)) != 0)
		return err_sys(e, EX_IOERR, rc, "cannot fsync %s", path);

	md = xcalloc(1, sizeof(*md));
	md->sink.ops = &maildir_ops;
	md->sink.priv = md;
	md->path = xstrdup(path);
	md->newdir = xasprintf("%s/new", path);
	md->fd = -1;
	md->buf = xmalloc(MD_BUFSIZE);
	*out = &md->sink;
	return 0;
}

/* Host names may contain the two characters that mean something in a
 * Maildir name; the convention is to write them as octal escapes. */
static void
md_host(char *out, size_t outsize)
{
	char host[256];
	size_t o = 0;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *h = host; *h != '\0' && o + 5 < outsize; h++) {
		if (*h == '/' || *h == ':') {
			memcpy(out + o, *h == '/' ? "\\057" : "\\072", 4);
			o += 4;
		} else
			out[o++] = *h;
	}
	out[o] = '\0';
}

/* The host part and the pid of every name, looked up once per process
 * (two system calls per message saved). */
static char name_host[256 * 4 + 1];
static long name_pid;

static void
name_init(void)
{
	md_host(name_host, sizeof(name_host));
	name_pid = (long)getpid();
}

char *
sink_maildir_name(void)
{
	/* The one piece of process-wide state in the sinks: names must
	 * differ between threads delivering in the same microsecond. */
	static atomic_ulong seq;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	unsigned long q = atomic_fetch_add(&seq, 1) + 1;
	struct timespec ts;

	pthread_once(&once, name_init);
	clock_gettime(CLOCK_REALTIME, &ts);
	return xasprintf("%lld.M%ldP%ldQ%lu.%s", (long long)ts.tv_sec,
	    (long)(ts.tv_nsec / 1000), name_pid, q, name_host);
}
