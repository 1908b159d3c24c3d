/*
 * state.c - the per-mailbox journal of stored UIDLs: keys, open, lock,
 * the records written. The UIDL set is state_set.c, reading the journal
 * state_load.c, compaction state_compact.c.
 *
 * Journal format (text, one record per line, LF-terminated):
 *
 *   popfetch-state 1          first line, the format version
 *   B                         a Maildir batch begins
 *   M <size> <dev> <ino> <stamp>
 *                             an mbox batch begins: the file's size before
 *                             it, its device and inode, the time in the
 *                             batch's From_ lines (older journals: "M
 *                             <size>" alone)
 *   T <uidl> <name>           (Maildir) the message will be file <name>
 *   H <name>                  (Maildir) file <name> came shorter than
 *                             announced: if a crash leaves it stored, it
 *                             is held (see "hold")
 *   S <unixtime> <uidl> [hold] [a=<unixtime>]
 *                             the message is stored (at that time);
 *                             "hold": never delete it from the server (its
 *                             body was shorter than announced); "a=": the
 *                             server has not listed it since that time
 *   C                         the open batch is committed
 *   A                         the open batch is abandoned: its S records
 *                             do not count (recovery found what it
 *                             stored, or took it out, and says so after)
 *
 * <uidl> is the server's UIDL byte for byte, with every byte outside
 * 0x21..0x7e and '%' written as %XX. S records outside any batch (as
 * compaction writes them) are stored unconditionally; inside a batch they
 * count only when the batch's C follows. An unknown flag on an S record
 * makes the journal unreadable rather than silently dropping a promise
 * it carries.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state_int.h"
#include "testhook.h"

/* ---- escaping ------------------------------------------------------------ */

void
st_buf_add(struct state *st, const char *p, size_t n)
{
	if (st->buflen + n > st->bufcap) {
		st->bufcap = (st->buflen + n) * 2 + 256;
		st->buf = xrealloc(st->buf, st->bufcap);
	}
	memcpy(st->buf + st->buflen, p, n);
	st->buflen += n;
}

void
st_buf_add_escaped(struct state *st, const char *u, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= 0x20 || c >= 0x7f || c == '%') {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			st_buf_add(st, esc, 3);
		} else
			st_buf_add(st, (const char *)&u[i], 1);
	}
}

/* raw with every byte outside [A-Za-z0-9._@+-] written as %XX. */
static char *
key_escape(const char *raw)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(raw) * 3 + 1), *o = out;

	for (const char *p = raw; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("._@+-", c) != NULL)
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
state_key(const char *host, int port, const char *user,
    const char *store_kind, const char *store_path)
{
	uint64_t h = util_fnv1a64(store_path, strlen(store_path));
	char *raw, *esc, *out;

	/* Host names are case-insensitive: one mailbox, one journal. */
	raw = xasprintf("%s@%s", user, host);
	for (char *p = raw + strlen(user) + 1; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	esc = key_escape(raw);
	out = xasprintf("%s,%d,%s-%016llx", esc, port, store_kind,
	    (unsigned long long)h);
	free(esc);
	free(raw);
	return out;
}

char *
state_legacy_key(const char *host, const char *user)
{
	char *raw = xasprintf("%s@%s", user, host);
	char *out = key_escape(raw);

	free(raw);
	return out;
}

/*
 * Take dir/key.lock without waiting: an fcntl write lock on the whole
 * file, the lock NFS carries between machines (flock is only emulated
 * over NFS, and not by every client). It belongs to this process and
 * goes when any descriptor of the file is closed here: the lock file is
 * opened nowhere else (state_peek does not touch it), and once per
 * journal in a process.
 */
static int
lock_take(const char *path, int *fd, struct err *e)
{
	struct flock fl;

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_sys(e, EX_CANTCREAT, errno, "%s", path);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;		/* to the end, however far it grows */
	if (fcntl(*fd, F_SETLK, &fl) == 0)
		return 0;
	/* POSIX allows either for a lock held elsewhere. */
	if (errno == EAGAIN || errno == EACCES)
		return err_set(e, EX_TEMPFAIL, "skipped: another popfetch run "
		    "is working on this account (it holds %s)", path);
	return err_sys(e, EX_IOERR, errno, "locking %s", path);
}

/*
 * The journal popfetch kept per user@host before it was kept per
 * (mailbox, store): adopt it (rename, under its own lock too, in case an
 * older popfetch runs), or set it aside when several accounts shared it.
 */
static int
legacy_take(struct state *st, const char *legacy_key, bool adopt,
    struct err *e)
{
	char *old = xasprintf("%s/%s.state", st->dir, legacy_key);
	char *oldlock = xasprintf("%s/%s.lock", st->dir, legacy_key);
	char *dest = adopt ? xstrdup(st->path) : xasprintf("%s.unused", old);
	struct stat sb;
	int fd = -1, rc = 0;

	if (lstat(st->path, &sb) == 0 || errno != ENOENT ||
	    lstat(old, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	if ((rc = lock_take(oldlock, &fd, e)) != 0)
		goto out;
	/* Another account's run may have taken it meanwhile. */
	if (lstat(st->path, &sb) == 0 || errno != ENOENT ||
	    lstat(old, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	if (rename(old, dest) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "renaming %s", old);
		goto out;
	}
	if ((rc = util_fsync_dir(st->dir)) != 0) {
		rc = err_sys(e, EX_IOERR, rc, "syncing %s", st->dir);
		goto out;
	}
	st->legacy = dest;
	st->legacy_adopted = adopt;
	dest = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(oldlock);
	free(dest);
	return rc;
}

int
state_open(const char *dir, const char *key, const char *legacy_key,
    bool legacy_adopt, struct state **out, bool *locked, struct err *e)
{
	struct state *st = xcalloc(1, sizeof(*st));
	int rc;

	st->uidls = strset_new(sizeof(struct entry));

	if (locked != NULL)
		*locked = false;
	st->fd = st->lockfd = -1;
	st->dir = xstrdup(dir);
	st->path = xasprintf("%s/%s.state", dir, key);
	st->lockpath = xasprintf("%s/%s.lock", dir, key);

	if ((rc = util_mkdirs_durable(dir, 0700)) != 0) {
		rc = err_sys(e, EX_CANTCREAT, rc, "state directory %s", dir);
		goto fail;
	}
	if ((rc = lock_take(st->lockpath, &st->lockfd, e)) != 0) {
		if (locked != NULL)
			*locked = rc == EX_TEMPFAIL;
		goto fail;
	}
	if (legacy_key != NULL &&
	    (rc = legacy_take(st, legacy_key, legacy_adopt, e)) != 0)
		goto fail;
	st->fd = open(st->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		rc = err_sys(e, EX_CANTCREAT, errno, "%s", st->path);
		goto fail;
	}
	if ((rc = st_load_journal(st, e)) != 0)
		goto fail;
	/* The journal's entry, and the state directory's own: a crash may
	 * have come between an earlier run's create and its sync, and a
	 * journal that vanishes with its records would let everything be
	 * fetched again. Once per run, whatever this run created. */
	if ((rc = util_fsync_dir(dir)) != 0 ||
	    (rc = util_fsync_parent(dir)) != 0) {
		rc = err_sys(e, EX_IOERR, rc, "syncing the state directory %s",
		    dir);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	state_close(st);
	return rc;
}

int
state_peek(const char *dir, const char *key, const char *legacy_key,
    bool legacy_adopt, struct state **out, struct err *e)
{
	struct state *st = xcalloc(1, sizeof(*st));
	int rc;

	st->uidls = strset_new(sizeof(struct entry));

	st->fd = st->lockfd = -1;
	st->readonly = true;
	st->dir = xstrdup(dir);
	st->path = xasprintf("%s/%s.state", dir, key);
	st->lockpath = xasprintf("%s/%s.lock", dir, key);
	st->fd = open(st->path, O_RDONLY | O_CLOEXEC);
	if (st->fd < 0 && errno == ENOENT && legacy_key != NULL &&
	    legacy_adopt) {
		/* What state_open would adopt. */
		char *old = xasprintf("%s/%s.state", dir, legacy_key);

		st->fd = open(old, O_RDONLY | O_CLOEXEC);
		if (st->fd >= 0) {
			free(st->path);
			st->path = old;
		} else
			free(old);
	}
	if (st->fd < 0 && errno != ENOENT) {
		rc = err_sys(e, EX_IOERR, errno, "%s", st->path);
		goto fail;
	}
	if (st->fd >= 0 && (rc = st_load_journal(st, e)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	state_close(st);
	return rc;
}

const char *
state_path(const struct state *st)
{
	return st->path;
}

const char *
state_legacy(const struct state *st, bool *adopted)
{
	*adopted = st->legacy_adopted;
	return st->legacy;
}

const struct state_pending *
state_pending(const struct state *st)
{
	return &st->pending;
}

/* ---- writing ------------------------------------------------------------- */

void
state_begin_maildir(struct state *st)
{
	st_buf_add(st, "B\n", 2);
}

void
state_begin_mbox(struct state *st, const struct sink_mark *mark)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "M %lld %llu %llu %lld\n",
	    (long long)mark->size, mark->dev, mark->ino, mark->stamp);

	st_buf_add(st, line, (size_t)n);
}

void
state_begin(struct state *st, const struct sink_mark *mark)
{
	if (mark != NULL && mark->set)
		state_begin_mbox(st, mark);
	else
		state_begin_maildir(st);
}

void
state_intent(struct state *st, const char *uidl, size_t len,
    const char *name)
{
	st_buf_add(st, "T ", 2);
	st_buf_add_escaped(st, uidl, len);
	st_buf_add(st, " ", 1);
	st_buf_add(st, name, strlen(name));
	st_buf_add(st, "\n", 1);
}

static void
record_stored(struct state *st, const char *uidl, size_t len, bool claim,
    bool hold)
{
	char head[40];
	long long now = (long long)time(NULL);
	int n = snprintf(head, sizeof(head), "S %lld ", now);
	struct ent v;
	uint32_t ref;

	st_buf_add(st, head, (size_t)n);
	st_buf_add_escaped(st, uidl, len);
	if (hold)
		st_buf_add(st, " hold", 5);
	st_buf_add(st, "\n", 1);
	/* Visible to state_claim at once: the caller syncs before it acts
	 * on it (DELE). */
	ref = stset_add(st, uidl, len, now, &v);
	v.hold = v.hold || hold;
	if (claim)
		v.claimed++;
	ent_put(st, ref, &v);
}

void
state_stored(struct state *st, const char *uidl, size_t len, bool hold)
{
	/* Stored now, for the occurrence being fetched: accounted for. */
	record_stored(st, uidl, len, true, hold);
}

void
state_recovered(struct state *st, const char *uidl, size_t len, bool hold)
{
	/* Found stored by crash recovery: still to be matched to one of
	 * the server's occurrences by state_claim(). */
	record_stored(st, uidl, len, false, hold);
}

void
state_hold_intent(struct state *st, const char *name)
{
	st_buf_add(st, "H ", 2);
	st_buf_add(st, name, strlen(name));
	st_buf_add(st, "\n", 1);
}

void
state_abandon(struct state *st)
{
	st_buf_add(st, "A\n", 2);
	/* The intents stay readable for the caller (recovery) until the
	 * state is closed or compacted. */
	st->pending.open = false;
}

void
state_commit(struct state *st)
{
	st_buf_add(st, "C\n", 2);
	st_pending_clear(&st->pending);
}

int
state_sync(struct state *st, struct err *e)
{
	int rc;

	if (st->readonly)
		return err_set(e, EX_SOFTWARE, "%s: opened to look only",
		    st->path);

	if (st->buflen > 0) {
		if ((rc = TESTHOOK_FAIL("state-write")) == 0)
			rc = util_write_all(st->fd, st->buf, st->buflen);
		st->buflen = 0;
		if (rc != 0)
			return err_sys(e, EX_IOERR, rc, "writing %s", st->path);
	}
	if (fsync(st->fd) != 0)
		return err_sys(e, EX_IOERR, errno, "syncing %s", st->path);
	return 0;
}

long long
state_mtime(const struct state *st)
{
	struct stat sb;

	if (st->fd < 0 || fstat(st->fd, &sb) != 0)
		return 0;
	return (long long)sb.st_mtime;
}

int
state_forget_all(struct state *st, struct err *e)
{
	int rc;

	/* Nothing listed, nothing kept absent for a moment: all goes, on
	 * disk and then here. */
	if ((rc = state_compact(st, NULL, NULL, 0, NULL, NULL, 0, 0, e)) != 0)
		return rc;
	stset_clear(st);
	return 0;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	if (st->lockfd >= 0)
		close(st->lockfd);   /* releases the lock */
	stset_clear(st);
	strset_free(st->uidls);
	st_prov_clear(st);
	free(st->prov);
	st_pending_clear(&st->pending);
	free(st->buf);
	free(st->dir);
	free(st->path);
	free(st->lockpath);
	free(st->legacy);
	free(st);
}

