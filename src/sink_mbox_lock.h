/*
 * sink_mbox_lock.h - the locks mail readers and delivery agents use on an
 * mbox, held by the mbox sink only while it appends a batch or takes out
 * what an interrupted one left.
 *
 * Two locks, taken in this order and let go in the reverse one:
 *  - the dotlock <path>.lock, holding "PID HOST\n". It is written whole
 *    before it gets its name (an O_TMPFILE file linked through
 *    /proc/self/fd, else <path>.lock.PID.HASH link()ed; link() fails when
 *    the name is taken), so a popfetch killed at any moment never leaves
 *    an empty lock (except on file systems without hard links, where it
 *    is created, then written). A lock whose PID no longer runs on this
 *    host is removed at once, any lock older than 5 minutes too (as
 *    procmail, lockfile and mutt do);
 *  - an fcntl write lock on the whole file (it vanishes with the process).
 *
 * Life cycle: mbox_lock_take, any number of mbox_lock_touch, then
 * mbox_lock_release (which accepts a lock never taken or already let go,
 * once lk->fd is -1 and lk->lockpath NULL, as after a failed take).
 */
#ifndef POPFETCH_SINK_MBOX_LOCK_H
#define POPFETCH_SINK_MBOX_LOCK_H

#include <sys/types.h>

#include "util.h"

/* How often a held dotlock's mtime is refreshed by default. */
#define MBOX_LOCK_TOUCH_MS (60 * 1000L)
/* Room for the dotlock's text, "PID HOSTNAME\n". */
#define MBOX_LOCK_TEXT_MAX 320

struct mbox_lock {
	char *lockpath;		/* <path>.lock, NULL when not held */
	dev_t dev;		/* identity of our dotlock, so we only */
	ino_t ino;		/* ever remove our own */
	int fd;			/* the mbox, fcntl-locked; -1 when closed */
	long long touched_ms;
	long touch_interval_ms;	/* set by the caller after the take */
	int lost;		/* our dotlock was removed (warned) */
	char text[MBOX_LOCK_TEXT_MAX];	/* what our dotlock holds */
};

/*
 * Take the dotlock, open the mbox (O_RDWR | O_APPEND), take the fcntl
 * lock, waiting up to timeout_ms for each. With create the file is made
 * (0600, its directory entry synced) when missing; without it a missing
 * file is not an error and lk->fd stays -1 (the dotlock is held).
 * 0, or EX_TEMPFAIL (locked by another process: "is locked by another
 * process (waited Ns)"), EX_CANTCREAT or EX_IOERR with nothing held.
 */
int mbox_lock_take(struct mbox_lock *lk, const char *path, int create,
    long timeout_ms, struct err *e);

/*
 * Keep the held dotlock younger than 5 minutes: at most every
 * lk->touch_interval_ms its mtime is set to now, after checking that the
 * file is still ours (inode and text); if another program replaced or
 * removed it, one warning and no touch. Cheap when not due (one clock
 * read): call it from every write.
 */
void mbox_lock_touch(struct mbox_lock *lk);

/* Drop the fcntl lock and close the file, then remove the dotlock if the
 * file at <path>.lock is still ours. */
void mbox_lock_release(struct mbox_lock *lk);

#endif
