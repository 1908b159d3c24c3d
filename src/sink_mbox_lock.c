/*
 * sink_mbox_lock.c - the two locks on an mbox (see sink_mbox_lock.h): the
 * dotlock <path>.lock, made whole and then linked so that it is never
 * seen empty, and the fcntl write lock on the file.
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
#include "testhook.h"
#include "util.h"

#define LOCK_RETRY_MS 100
/* A dotlock this old is taken to be left over by a crashed process and is
 * removed. A live holder keeps its own lock fresh (mbox_lock_touch). */
#define DOTLOCK_STALE_SEC (5 * 60)
#define DOTLOCK_TEXT_MAX MBOX_LOCK_TEXT_MAX

static int
lock_busy(const char *path, long long start, struct err *e)
{
	double waited = (double)(util_now_ms() - start) / 1000.0;

	return err_set(e, EX_TEMPFAIL, "mbox %s is locked by another process "
	    "(waited %.1fs)", path, waited);
}

/* 1 when text is a dotlock of a popfetch on this host ("PID HOSTNAME\n",
 * see dotlock_text) whose process no longer exists: a run killed with -9
 * must not keep the mbox locked for minutes. Locks of other programs,
 * other hosts or a live process are never judged dead. */
static int
dotlock_owner_dead(const char *text)
{
	char host[256], *end;
	long pid;

	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != ' ' || pid <= 0)
		return 0;
	if (gethostname(host, sizeof(host)) != 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	if (strncmp(end + 1, host, strlen(host)) != 0 ||
	    end[1 + strlen(host)] != '\n')
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Remove a dotlock whose popfetch owner died, or that nobody has
 * refreshed for DOTLOCK_STALE_SEC: 1 when the name is free now (retry at
 * once). The file removed must still be the one judged (same inode and
 * mtime), not a lock its owner refreshed or another program made since;
 * a window of one lstat() to unlink() stays, as in every dotlocking
 * program. */
static int
dotlock_break_stale(const char *lockpath)
{
	char text[DOTLOCK_TEXT_MAX];
	struct stat st, again;
	ssize_t n = 0;
	int fd, dead;

	fd = open(lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY);
	if (fd >= 0) {
		if (fstat(fd, &st) != 0) {
			close(fd);
			return 0;
		}
		if ((n = pread(fd, text, sizeof(text) - 1, 0)) < 0)
			n = 0;
		close(fd);
	} else if (errno == ENOENT || lstat(lockpath, &st) != 0)
		return errno == ENOENT;	/* gone already */
	text[n] = '\0';		/* unreadable: judged by its age alone */
	dead = dotlock_owner_dead(text);
	if (!dead && time(NULL) - st.st_mtime < DOTLOCK_STALE_SEC)
		return 0;
	if (lstat(lockpath, &again) != 0)
		return errno == ENOENT;
	/* An inode number can be reused at once: the change time too. */
	if (again.st_dev != st.st_dev || again.st_ino != st.st_ino ||
	    again.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    again.st_mtim.tv_nsec != st.st_mtim.tv_nsec ||
	    again.st_ctim.tv_sec != st.st_ctim.tv_sec ||
	    again.st_ctim.tv_nsec != st.st_ctim.tv_nsec)
		return 0;
	if (unlink(lockpath) != 0)
		return 0;	/* a read-only directory: wait, then time out */
	if (dead)
		log_warn(NULL, "removing lock file %s left by a popfetch "
		    "that no longer runs", lockpath);
	else
		log_warn(NULL, "removing stale lock file %s", lockpath);
	return 1;
}

/* What our dotlock holds: "PID HOSTNAME\n". It lets a later run see that
 * we died (see dotlock_owner_dead), tells a curious human who holds it,
 * and tells our lock from one that reuses its inode (mbox_lock_touch).
 * Taken once per lock: a host name changed meanwhile does not make our
 * own lock look foreign. */
static void
dotlock_text(char *buf, size_t size)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, size, "%ld %s\n", (long)getpid(), host);
}

/*
 * The ways of making the lock file, best first. The first two write the
 * text into a file and then give it the lock's name with link(), which
 * fails when the name is taken: the lock is never seen empty or
 * half-written, so a kill at any moment leaves no lock or one whose text
 * names a popfetch the next run finds dead - never one that everybody
 * waits DOTLOCK_STALE_SEC for. Linking is also how dotlocks are taken
 * safely on NFS.
 *   DL_TMPFILE  a file without a name (O_TMPFILE) in the lock's
 *               directory, linked through /proc/self/fd;
 *   DL_NAMED    <lock>.PID.HASH (HASH: 8 hex digits of the host name's
 *               FNV-1a), link()ed; left behind only by a kill between
 *               its creation and its removal;
 *   DL_DIRECT   open(O_CREAT | O_EXCL), then the text: the last resort,
 *               for file systems without hard links (vfat, some CIFS and
 *               FUSE) or a named file that cannot be made (too long), where
 *               a kill between the two leaves an empty lock again.
 * A way that fails for another reason than a taken name gives way to the
 * next; DL_DIRECT's failure is the error.
 */
enum dl_how { DL_TMPFILE, DL_NAMED, DL_DIRECT };

struct dl {
	enum dl_how how;
	int fd;			/* the prepared file, then the lock; or -1 */
	char *tmpname;		/* DL_NAMED's file, to remove; or NULL */
};

static int
dl_prepare(struct dl *t, const char *lockpath, const char *text)
{
	char host[256], *dir, *slash;
	int rc, tries;

	if (t->how == DL_TMPFILE) {
#ifdef O_TMPFILE
		if ((rc = TESTHOOK_FAIL("mbox-tmpfile")) != 0)
			return rc;
		dir = xstrdup(lockpath);
		if ((slash = strrchr(dir, '/')) != NULL)
			slash[slash == dir] = '\0';	/* "/x.lock": "/" */
		t->fd = open(slash != NULL ? dir : ".",
		    O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		rc = errno;
		free(dir);
		if (t->fd < 0)
			return rc;
#else
		(void)dir;
		(void)slash;
		return EOPNOTSUPP;
#endif
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		t->tmpname = xasprintf("%s.%ld.%08x", lockpath,
		    (long)getpid(), (unsigned)(util_fnv1a64(host,
		    strlen(host)) & 0xffffffffu));
		/* A file of that name is a leftover of a dead process that
		 * had our PID, or somebody's link to a file of theirs:
		 * never written into, its name taken away. */
		for (tries = 0; tries < 2; tries++) {
			t->fd = open(t->tmpname, O_WRONLY | O_CREAT | O_EXCL |
			    O_CLOEXEC | O_NOFOLLOW, 0600);
			if (t->fd >= 0 || errno != EEXIST ||
			    unlink(t->tmpname) != 0)
				break;
		}
		if (t->fd < 0) {
			/* Still there: not the lock taken, this way failed
			 * (EEXIST would have the caller wait for the lock). */
			rc = errno == EEXIST ? EBUSY : errno;
			free(t->tmpname);
			t->tmpname = NULL;
			return rc;
		}
	}
	return util_write_all(t->fd, text, strlen(text));
}

/* Drop what the current way made, for the next way or at the end. */
static void
dl_drop(struct dl *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmpname != NULL)
		(void)unlink(t->tmpname);
	free(t->tmpname);
	t->tmpname = NULL;
}

/* One try: 0 the lock is ours (t->fd is it), EEXIST the name is taken,
 * else an errno: this way does not work here. */
static int
dl_try(struct dl *t, const char *lockpath, const char *text)
{
	char procpath[64];
	struct stat st, now;
	int rc;

	if (t->how == DL_DIRECT) {
		t->fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (t->fd < 0)
			return errno;
		TESTHOOK("mbox-dotlock");
		if ((rc = util_write_all(t->fd, text, strlen(text))) != 0) {
			(void)unlink(lockpath);
			dl_drop(t);
		}
		return rc;
	}
	if (t->fd < 0 && (rc = dl_prepare(t, lockpath, text)) != 0)
		return rc;
	TESTHOOK("mbox-dotlock");
	if (t->how == DL_TMPFILE) {
		snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", t->fd);
		return linkat(AT_FDCWD, procpath, AT_FDCWD, lockpath,
		    AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
	}
	if ((rc = TESTHOOK_FAIL("mbox-link")) == 0)
		rc = link(t->tmpname, lockpath) == 0 ? 0 : errno;
	/* The lock is ours only if the file now named lockpath is the one
	 * we wrote: the name tmpname may have been given to another file
	 * meanwhile (by whoever can write the directory), and NFS may
	 * answer a retried LINK whose first try was done with an error
	 * (EEXIST, say). */
	if (lstat(lockpath, &now) != 0)
		return rc == 0 ? EBUSY : rc;
	if (fstat(t->fd, &st) == 0 && st.st_dev == now.st_dev &&
	    st.st_ino == now.st_ino)
		return 0;
	/* We linked a file that is not ours: take that name back. */
	if (rc == 0 && lstat(t->tmpname, &st) == 0 &&
	    st.st_dev == now.st_dev && st.st_ino == now.st_ino)
		(void)unlink(lockpath);
	return rc == 0 ? EBUSY : rc;
}

static int
dotlock_take(struct mbox_lock *lk, const char *path, long timeout_ms,
    struct err *e)
{
	char *lockpath = xasprintf("%s.lock", path);
	long long start = util_now_ms();
	struct dl t = { DL_TMPFILE, -1, NULL };
	struct stat st;
	int rc, broke = 0;

	dotlock_text(lk->text, sizeof(lk->text));
	for (;;) {
		rc = dl_try(&t, lockpath, lk->text);
		if (rc == 0)
			break;
		if (rc != EEXIST) {
			dl_drop(&t);
			if (t.how != DL_DIRECT) {
				t.how++;
				continue;
			}
			rc = err_sys(e, EX_CANTCREAT, rc,
			    "cannot create lock file %s", lockpath);
			goto out;
		}
		if (t.how == DL_DIRECT)
			dl_drop(&t);
		/* At once after the first lock broken; a lock that keeps
		 * coming back is waited for like a live one. */
		if (dotlock_break_stale(lockpath) && !broke++ &&
		    util_now_ms() - start < timeout_ms)
			continue;
		if (util_now_ms() - start >= timeout_ms) {
			rc = lock_busy(path, start, e);
			goto out;
		}
		util_sleep_ms(LOCK_RETRY_MS);
	}
	if (fstat(t.fd, &st) != 0) {
		rc = err_sys(e, EX_CANTCREAT, errno, "cannot stat %s",
		    lockpath);
		(void)unlink(lockpath);
		goto out;
	}
	lk->lockpath = lockpath;
	lockpath = NULL;
	lk->dev = st.st_dev;
	lk->ino = st.st_ino;
	lk->touched_ms = util_now_ms();
	rc = 0;
out:
	dl_drop(&t);
	free(lockpath);
	return rc;
}

/* Does the lock file hold our text ("PID HOST")? */
static int
dotlock_is_ours(const struct mbox_lock *lk, int fd)
{
	char got[MBOX_LOCK_TEXT_MAX];
	size_t len = strlen(lk->text);

	return pread(fd, got, sizeof(got), 0) == (ssize_t)len &&
	    memcmp(got, lk->text, len) == 0;
}

static void
dotlock_release(struct mbox_lock *lk)
{
	struct stat st;
	int fd;

	if (lk->lockpath == NULL)
		return;
	/* Had it been broken as stale and retaken by someone else, the
	 * file there now is theirs: its identity (an inode number can be
	 * reused at once) and its text must be ours. */
	fd = open(lk->lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_dev == lk->dev &&
		    st.st_ino == lk->ino && dotlock_is_ours(lk, fd))
			(void)unlink(lk->lockpath);
		close(fd);
	}
	free(lk->lockpath);
	lk->lockpath = NULL;
}

static int
fcntl_take(int fd, const char *path, long timeout_ms, struct err *e)
{
	long long start = util_now_ms();
	struct flock fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;	/* l_start 0, l_len 0: whole file */
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return err_sys(e, EX_IOERR, errno, "cannot lock %s",
			    path);
		if (util_now_ms() - start >= timeout_ms)
			return lock_busy(path, start, e);
		util_sleep_ms(LOCK_RETRY_MS);
	}
}

/*
 * Take the dotlock, open the mbox, take the fcntl lock, in that order.
 * fcntl locks belong to the process and vanish when it closes ANY
 * descriptor of the file; taking the dotlock first means another thread
 * of ours heading for the same mbox waits before it opens the file, so it
 * cannot close a descriptor under our lock.
 *
 * With create == 0 a missing file is not an error: lk->fd stays -1.
 */
int
mbox_lock_take(struct mbox_lock *lk, const char *path, int create,
    long timeout_ms, struct err *e)
{
	int rc, created = 0;

	memset(lk, 0, sizeof(*lk));
	lk->fd = -1;
	if ((rc = dotlock_take(lk, path, timeout_ms, e)) != 0)
		return rc;
	lk->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (lk->fd < 0 && errno == ENOENT && create) {
		lk->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600);
		created = lk->fd >= 0;
	}
	if (lk->fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		rc = err_sys(e, EX_CANTCREAT, errno, "cannot open mbox %s",
		    path);
		goto fail;
	}
	/* The new file's directory entry must be as durable as the
	 * messages that will be put in it. */
	if (created && (rc = util_fsync_parent(path)) != 0) {
		rc = err_sys(e, EX_IOERR, rc, "cannot fsync the directory "
		    "of %s", path);
		goto fail;
	}
	if ((rc = fcntl_take(lk->fd, path, timeout_ms, e)) != 0)
		goto fail;
	return 0;
fail:
	if (lk->fd >= 0)
		close(lk->fd);
	lk->fd = -1;
	dotlock_release(lk);
	return rc;
}

/* Closing the descriptor drops the fcntl lock; the dotlock goes last so
 * nobody opens the file while ours is still open. */
void
mbox_lock_release(struct mbox_lock *lk)
{
	struct flock fl;

	if (lk->fd >= 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_UNLCK;
		fl.l_whence = SEEK_SET;
		(void)fcntl(lk->fd, F_SETLK, &fl);
		close(lk->fd);
		lk->fd = -1;
	}
	dotlock_release(lk);
}

/*
 * Keep our dotlock younger than DOTLOCK_STALE_SEC while we hold it, so
 * that nobody (procmail, lockfile, mutt: 300 s) mistakes it for a
 * leftover and removes it. Called from every write, however small (one
 * clock read when not due), and from mb_idle between DELEs, so a long
 * download of one message or a long run of DELEs keeps it fresh.
 * Through a descriptor, after checking the file is still ours: a lock
 * another program took after removing ours is not refreshed; we warn
 * once (the fcntl lock still excludes programs that use it).
 */
void
mbox_lock_touch(struct mbox_lock *lk)
{
	long long now = util_now_ms();
	struct stat st;
	int fd, ours = 0;

	if (lk->lockpath == NULL ||
	    now - lk->touched_ms < lk->touch_interval_ms)
		return;
	lk->touched_ms = now;
	fd = open(lk->lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == lk->dev &&
	    st.st_ino == lk->ino && dotlock_is_ours(lk, fd))
		ours = 1;
	if (ours)
		(void)futimens(fd, NULL);
	else if (!lk->lost) {
		lk->lost = 1;
		log_warn(NULL, "lock file %s was removed or replaced by "
		    "another program while popfetch held it",
		    lk->lockpath);
	}
	if (fd >= 0)
		close(fd);
}
