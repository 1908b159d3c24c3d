/*
 * state.c - the per-mailbox journal of stored UIDLs.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

#define STATE_MAGIC "popfetch-state 1\n"

struct entry {
	char *uidl;      /* NULL: free slot */
	size_t len;
	long long when;
	long long absent;   /* the earliest "not listed since" of the
	                       nabsent copies that are absent; 0: none */
	unsigned nabsent;
	bool hold;          /* never DELE: stored from a short body */
	/* A server may list one UIDL for several messages: count the
	 * stored copies, and how many occurrences this run has accounted
	 * for (stored now, or matched to a stored copy). */
	unsigned stored;
	unsigned claimed;
	unsigned listed, gone;   /* scratch for state_compact */
};

struct state {
	char *dir;
	char *path;       /* KEY.state */
	char *lockpath;   /* KEY.lock */
	int lockfd;
	int fd;           /* journal, open for append */
	/* Stored UIDLs: open addressing, linear probing, power-of-2 size. */
	struct entry *tab;
	size_t tabsize, count;
	uint64_t hkey[2];	/* SipHash key, random, set with the table */
	unsigned long long probes;	/* see state_probes */
	/* Records written by state_*() and not yet synced. */
	char *buf;
	size_t buflen, bufcap;
	struct state_pending pending;
	/* Provisional S records of the open batch while loading. */
	struct entry *prov;
	size_t nprov, provcap;
	/* The user@host journal taken over (or set aside) by this open. */
	char *legacy;
	bool legacy_adopted;
};

/* ---- UIDL set ------------------------------------------------------------ */

/* The server chooses the UIDLs. With an unkeyed hash it could pick ones
 * that all land in one run of slots and make every insertion and lookup
 * walk all the earlier ones (50,000 such UIDLs: 13 s). So the table is
 * hashed with SipHash under a random key per table (set_grow), which the
 * server cannot know. *probes counts the slots stepped past
 * (state_probes). */
static struct entry *
set_slot(const uint64_t key[2], unsigned long long *probes,
    struct entry *tab, size_t size, const char *u, size_t len)
{
	size_t i = (size_t)util_siphash(key, u, len) & (size - 1);

	while (tab[i].uidl != NULL &&
	    (tab[i].len != len || memcmp(tab[i].uidl, u, len) != 0)) {
		i = (i + 1) & (size - 1);
		(*probes)++;
	}
	return &tab[i];
}

static void
set_grow(struct state *st)
{
	size_t nsize = st->tabsize ? st->tabsize * 2 : 256;
	struct entry *ntab = xcalloc(nsize, sizeof(*ntab));

	if (st->tabsize == 0)
		util_random_key(st->hkey);
	for (size_t i = 0; i < st->tabsize; i++) {
		if (st->tab[i].uidl != NULL)
			*set_slot(st->hkey, &st->probes, ntab, nsize,
			    st->tab[i].uidl, st->tab[i].len) = st->tab[i];
	}
	free(st->tab);
	st->tab = ntab;
	st->tabsize = nsize;
}

static struct entry *
set_add(struct state *st, const char *u, size_t len, long long when)
{
	struct entry *slot;

	if ((st->count + 1) * 2 > st->tabsize)
		set_grow(st);
	slot = set_slot(st->hkey, &st->probes, st->tab, st->tabsize, u,
	    len);
	if (slot->uidl != NULL) {
		slot->stored++;
		return slot;
	}
	slot->uidl = xstrndup(u, len);
	slot->len = len;
	slot->when = when;
	slot->stored = 1;
	st->count++;
	return slot;
}

static struct entry *
set_find(const struct state *st, const char *u, size_t len)
{
	/* The counter is a statistic, not part of the set: lookups on a
	 * const state may bump it (st is never a const object). */
	unsigned long long *probes = &((struct state *)st)->probes;
	struct entry *en;

	if (st->tabsize == 0)
		return NULL;
	en = set_slot(st->hkey, probes, st->tab, st->tabsize, u, len);
	return en->uidl != NULL ? en : NULL;
}

int
state_is_stored(const struct state *st, const char *uidl, size_t len)
{
	return set_find(st, uidl, len) != NULL;
}

int
state_claim(struct state *st, const char *uidl, size_t len)
{
	struct entry *en = set_find(st, uidl, len);

	if (en == NULL || en->claimed >= en->stored)
		return 0;
	en->claimed++;
	return 1;
}

unsigned long long
state_probes(const struct state *st)
{
	return st->probes;
}

size_t
state_count(const struct state *st)
{
	return st->count;
}

/* ---- escaping ------------------------------------------------------------ */

static void
buf_add(struct state *st, const char *p, size_t n)
{
	if (st->buflen + n > st->bufcap) {
		st->bufcap = (st->buflen + n) * 2 + 256;
		st->buf = xrealloc(st->buf, st->bufcap);
	}
	memcpy(st->buf + st->buflen, p, n);
	st->buflen += n;
}

static void
buf_add_escaped(struct state *st, const char *u, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= 0x20 || c >= 0x7f || c == '%') {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(st, esc, 3);
		} else
			buf_add(st, (const char *)&u[i], 1);
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode an escaped token in place; returns its length or -1. */
static long
unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0)
				return -1;
			*o++ = (char)(hi << 4 | lo);
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return o - s;
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
	uint64_t h = 14695981039346656037ULL;   /* FNV-1a 64 */
	char *raw, *esc, *out;

	for (const char *p = store_path; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
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

/* ---- loading ------------------------------------------------------------- */

static void
pending_clear(struct state_pending *p)
{
	for (size_t i = 0; i < p->nintents; i++) {
		free(p->intent_uidl[i]);
		free(p->intent_name[i]);
	}
	free(p->intent_uidl);
	free(p->intent_uidl_len);
	free(p->intent_name);
	free(p->intent_hold);
	memset(p, 0, sizeof(*p));
}

static void
prov_clear(struct state *st)
{
	for (size_t i = 0; i < st->nprov; i++)
		free(st->prov[i].uidl);
	st->nprov = 0;
}

static void
load_begin(struct state *st, bool mbox, const struct sink_mark *mark)
{
	/* A batch left open before a later begin was abandoned by a run
	 * that then went on (it could not have): resolve conservatively by
	 * keeping the first batch's recovery data only if nothing else. */
	pending_clear(&st->pending);
	prov_clear(st);
	st->pending.open = true;
	st->pending.has_mark = mbox;
	if (mbox)
		st->pending.mark = *mark;
}

static void
load_intent(struct state *st, char *u, size_t len, const char *name)
{
	struct state_pending *p = &st->pending;

	p->intent_uidl = xrealloc(p->intent_uidl,
	    (p->nintents + 1) * sizeof(char *));
	p->intent_uidl_len = xrealloc(p->intent_uidl_len,
	    (p->nintents + 1) * sizeof(size_t));
	p->intent_name = xrealloc(p->intent_name,
	    (p->nintents + 1) * sizeof(char *));
	p->intent_hold = xrealloc(p->intent_hold,
	    (p->nintents + 1) * sizeof(bool));
	p->intent_hold[p->nintents] = false;
	p->intent_uidl[p->nintents] = xstrndup(u, len);
	p->intent_uidl_len[p->nintents] = len;
	p->intent_name[p->nintents] = xstrdup(name);
	p->nintents++;
}

/* Merge a loaded S record into the set: one more stored copy; a flag on
 * any copy holds for the UIDL. */
static void
add_loaded(struct state *st, const struct entry *r)
{
	struct entry *en = set_add(st, r->uidl, r->len, r->when);

	en->hold = en->hold || r->hold;
	if (r->absent != 0) {
		en->nabsent++;
		if (en->absent == 0 || r->absent < en->absent)
			en->absent = r->absent;
	}
}

/* "H <name>": the intent for file <name> is held. */
static void
load_hold(struct state *st, const char *name)
{
	struct state_pending *p = &st->pending;

	for (size_t i = 0; i < p->nintents; i++)
		if (strcmp(p->intent_name[i], name) == 0)
			p->intent_hold[i] = true;
}

/* "A": what the open batch recorded does not count. */
static void
load_abandon(struct state *st)
{
	prov_clear(st);
	pending_clear(&st->pending);
}

static void
load_stored(struct state *st, const struct entry *r)
{
	if (!st->pending.open) {
		add_loaded(st, r);
		return;
	}
	if (st->nprov == st->provcap) {
		st->provcap = st->provcap ? st->provcap * 2 : 64;
		st->prov = xrealloc(st->prov, st->provcap * sizeof(*st->prov));
	}
	st->prov[st->nprov] = *r;
	st->prov[st->nprov].uidl = xstrndup(r->uidl, r->len);
	st->nprov++;
}

static void
load_commit(struct state *st)
{
	for (size_t i = 0; i < st->nprov; i++)
		add_loaded(st, &st->prov[i]);
	prov_clear(st);
	pending_clear(&st->pending);
}

/* A decimal number, optionally negative, the whole token. */
static int
parse_time(const char *t, long long *out)
{
	char *end;

	if (!(*t >= '0' && *t <= '9') && !(*t == '-' && t[1] >= '0' &&
	    t[1] <= '9'))
		return -1;
	errno = 0;
	*out = strtoll(t, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* "S <time> <uidl> [hold] [a=<time>]" after the "S". */
static int
load_s(struct state *st, char *rest)
{
	struct entry r;
	char *t, *save = NULL;
	long n;

	memset(&r, 0, sizeof(r));
	t = strtok_r(rest, " ", &save);
	if (t == NULL || parse_time(t, &r.when) != 0)
		return -1;
	t = strtok_r(NULL, " ", &save);
	if (t == NULL || (n = unescape(t)) < 0)
		return -1;
	r.uidl = t;
	r.len = (size_t)n;
	while ((t = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(t, "hold") == 0)
			r.hold = true;
		else if (strncmp(t, "a=", 2) == 0 &&
		    parse_time(t + 2, &r.absent) == 0 && r.absent > 0)
			;
		else
			return -1;
	}
	load_stored(st, &r);
	return 0;
}

/* Parse one record (NUL-terminated, no LF). 0 or -1 for garbage. */
static int
load_record(struct state *st, char *line)
{
	char *a, *b, *save = NULL;
	long n;

	switch (line[0]) {
	case 'B':
		load_begin(st, false, NULL);
		return 0;
	case 'M': {
		/* "M <size> <dev> <ino> <stamp>", or "M <size>" from before
		 * the file's identity and the From_ time were recorded (those
		 * stay 0: not known). Decimal numbers, nothing else. */
		struct sink_mark m = { 0, 0, 0, 0 };
		unsigned long long v[4];
		int k = 0;

		bool neg = false;

		a = line + 1;
		while (*a == ' ' && k < 4) {
			a++;
			/* The stamp may be negative (a clock before 1970). */
			neg = k == 3 && *a == '-';
			a += neg;
			if (*a < '0' || *a > '9')
				return -1;
			errno = 0;
			v[k++] = strtoull(a, &b, 10);
			if (errno != 0)
				return -1;
			a = b;
		}
		if (*a != '\0' || (k != 1 && k != 4) || v[0] > INT64_MAX ||
		    (k == 4 && v[3] > INT64_MAX))
			return -1;
		m.size = (off_t)v[0];
		if (k == 4) {
			m.dev = v[1];
			m.ino = v[2];
			m.stamp = neg ? -(long long)v[3] : (long long)v[3];
		}
		load_begin(st, true, &m);
		return 0;
	}
	case 'C':
		load_commit(st);
		return 0;
	case 'A':
		if (line[1] != '\0')
			return -1;
		load_abandon(st);
		return 0;
	case 'H':
		if (line[1] != ' ' || line[2] == '\0' ||
		    strchr(line + 2, ' ') != NULL)
			return -1;
		if (st->pending.open)
			load_hold(st, line + 2);
		return 0;
	case 'T':
		a = strtok_r(line + 1, " ", &save);
		b = strtok_r(NULL, " ", &save);
		if (a == NULL || b == NULL || (n = unescape(a)) < 0)
			return -1;
		if (st->pending.open)
			load_intent(st, a, (size_t)n, b);
		return 0;
	case 'S':
		return load_s(st, line + 1);
	default:
		return -1;
	}
}

static int
load_journal(struct state *st, struct err *e)
{
	struct stat sb;
	char *data = NULL;
	size_t len = 0, lineno = 1;
	int rc = 0;

	if (fstat(st->fd, &sb) != 0)
		return err_sys(e, EX_IOERR, errno, "%s", st->path);
	if (sb.st_size == 0) {
		/* New journal (or one a crash left empty): write the format
		 * line durably (state_open syncs its directory entry). */
		if ((rc = util_write_all(st->fd, STATE_MAGIC,
		    strlen(STATE_MAGIC))) != 0 || fsync(st->fd) != 0)
			return err_sys(e, EX_IOERR, rc ? rc : errno, "%s",
			    st->path);
		return 0;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		ssize_t r = pread(st->fd, data + len, (size_t)sb.st_size - len,
		    (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = err_sys(e, EX_IOERR, r < 0 ? errno : EIO,
			    "reading %s", st->path);
			goto out;
		}
		len += (size_t)r;
	}
	data[len] = '\0';
	if (strncmp(data, STATE_MAGIC, strlen(STATE_MAGIC)) != 0) {
		rc = err_set(e, EX_DATAERR, "%s: not a popfetch state file "
		    "(first line is not \"popfetch-state 1\")", st->path);
		goto out;
	}
	/* A crash can leave a torn last record: cut it off so the next
	 * append starts on a fresh line. Its batch was never committed. */
	size_t end = len;
	while (end > 0 && data[end - 1] != '\n')
		end--;
	if (end < len && ftruncate(st->fd, (off_t)end) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "truncating %s", st->path);
		goto out;
	}
	data[end] = '\0';
	char *p = data + strlen(STATE_MAGIC);
	while (*p) {
		char *nl = strchr(p, '\n');
		*nl = '\0';
		lineno++;
		if (*p != '\0' && load_record(st, p) != 0) {
			rc = err_set(e, EX_DATAERR, "%s:%zu: unreadable record",
			    st->path, lineno);
			goto out;
		}
		p = nl + 1;
	}
	/* Provisional records of a batch never committed do not count. */
	prov_clear(st);
out:
	free(data);
	return rc;
}

/* Take dir/key.lock without waiting. */
static int
lock_take(const char *path, int *fd, struct err *e)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_sys(e, EX_CANTCREAT, errno, "%s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return err_set(e, EX_TEMPFAIL, "the mailbox's journal is locked "
		    "by another popfetch run (%s); skipped", path);
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
    bool legacy_adopt, struct state **out, struct err *e)
{
	struct state *st = xcalloc(1, sizeof(*st));
	int rc;

	st->fd = st->lockfd = -1;
	st->dir = xstrdup(dir);
	st->path = xasprintf("%s/%s.state", dir, key);
	st->lockpath = xasprintf("%s/%s.lock", dir, key);

	if ((rc = util_mkdirs_durable(dir, 0700)) != 0) {
		rc = err_sys(e, EX_CANTCREAT, rc, "state directory %s", dir);
		goto fail;
	}
	if ((rc = lock_take(st->lockpath, &st->lockfd, e)) != 0)
		goto fail;
	if (legacy_key != NULL &&
	    (rc = legacy_take(st, legacy_key, legacy_adopt, e)) != 0)
		goto fail;
	st->fd = open(st->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		rc = err_sys(e, EX_CANTCREAT, errno, "%s", st->path);
		goto fail;
	}
	if ((rc = load_journal(st, e)) != 0)
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
	buf_add(st, "B\n", 2);
}

void
state_begin_mbox(struct state *st, const struct sink_mark *mark)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "M %lld %llu %llu %lld\n",
	    (long long)mark->size, mark->dev, mark->ino, mark->stamp);

	buf_add(st, line, (size_t)n);
}

void
state_intent(struct state *st, const char *uidl, size_t len,
    const char *name)
{
	buf_add(st, "T ", 2);
	buf_add_escaped(st, uidl, len);
	buf_add(st, " ", 1);
	buf_add(st, name, strlen(name));
	buf_add(st, "\n", 1);
}

static void
record_stored(struct state *st, const char *uidl, size_t len, bool claim,
    bool hold)
{
	char head[40];
	long long now = (long long)time(NULL);
	int n = snprintf(head, sizeof(head), "S %lld ", now);
	struct entry *en;

	buf_add(st, head, (size_t)n);
	buf_add_escaped(st, uidl, len);
	if (hold)
		buf_add(st, " hold", 5);
	buf_add(st, "\n", 1);
	/* Visible to state_claim at once: the caller syncs before it acts
	 * on it (DELE). */
	en = set_add(st, uidl, len, now);
	en->hold = en->hold || hold;
	if (claim)
		en->claimed++;
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
	buf_add(st, "H ", 2);
	buf_add(st, name, strlen(name));
	buf_add(st, "\n", 1);
}

void
state_abandon(struct state *st)
{
	buf_add(st, "A\n", 2);
	/* The intents stay readable for the caller (recovery) until the
	 * state is closed or compacted. */
	st->pending.open = false;
}

int
state_held(const struct state *st, const char *uidl, size_t len)
{
	const struct entry *en = set_find(st, uidl, len);

	return en != NULL && en->hold;
}

void
state_commit(struct state *st)
{
	buf_add(st, "C\n", 2);
	pending_clear(&st->pending);
}

int
state_sync(struct state *st, struct err *e)
{
	int rc;

	if (st->buflen > 0) {
		rc = util_write_all(st->fd, st->buf, st->buflen);
		st->buflen = 0;
		if (rc != 0)
			return err_sys(e, EX_IOERR, rc, "writing %s", st->path);
	}
	if (fsync(st->fd) != 0)
		return err_sys(e, EX_IOERR, errno, "syncing %s", st->path);
	return 0;
}

/* `copies` S records of en, with its flags; absent since `since` (0:
 * present). */
static void
compact_entry(struct state *fresh, const struct entry *en, unsigned copies,
    long long since)
{
	char head[40], tail[40];
	int hn = snprintf(head, sizeof(head), "S %lld ", en->when), tn = 0;

	if (en->hold)
		tn = snprintf(tail, sizeof(tail), " hold");
	if (since != 0)
		tn += snprintf(tail + tn, sizeof(tail) - (size_t)tn, " a=%lld",
		    since);
	while (copies-- > 0) {
		buf_add(fresh, head, (size_t)hn);
		buf_add_escaped(fresh, en->uidl, en->len);
		buf_add(fresh, tail, (size_t)tn);
		buf_add(fresh, "\n", 1);
	}
}

int
state_compact(struct state *st, char *const *listed,
    const size_t *listed_lens, size_t nlisted, char *const *gone,
    const size_t *gone_lens, size_t ngone, long long forget_after,
    struct err *e)
{
	char *tmp = xasprintf("%s.tmp", st->path);
	long long now = (long long)time(NULL);
	struct state fresh;
	int fd = -1, rc = 0;

	/* Build the new content in a scratch buffer using the same writer. */
	memset(&fresh, 0, sizeof(fresh));
	buf_add(&fresh, STATE_MAGIC, strlen(STATE_MAGIC));
	for (size_t i = 0; i < st->tabsize; i++)
		st->tab[i].listed = st->tab[i].gone = 0;
	for (size_t i = 0; i < nlisted; i++) {
		struct entry *en = set_find(st, listed[i], listed_lens[i]);

		if (en != NULL)
			en->listed++;
	}
	for (size_t i = 0; i < ngone; i++) {
		struct entry *en = set_find(st, gone[i], gone_lens[i]);

		if (en != NULL)
			en->gone++;
	}
	for (size_t i = 0; i < st->tabsize; i++) {
		struct entry *en = &st->tab[i];
		unsigned present, rest;
		long long since;

		if (en->uidl == NULL || en->stored == 0)
			continue;
		/* A UIDL listed k times keeps at most k stored copies as
		 * present. Copies beyond that were deleted by this session
		 * (QUIT confirmed: they go at once) or are hidden by the
		 * server: a server may hide a message for a while, or list
		 * nothing once, so those stay, absent since the first
		 * session that missed them, until forget_after. */
		present = en->listed < en->stored ? en->listed : en->stored;
		rest = en->stored - present;
		rest -= en->gone < rest ? en->gone : rest;
		compact_entry(&fresh, en, present, 0);
		since = en->nabsent > 0 && en->absent != 0 ? en->absent : now;
		if (rest > 0 && now - since < forget_after)
			compact_entry(&fresh, en, rest, since);
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_sys(e, EX_IOERR, errno, "%s", tmp);
		goto out;
	}
	if ((rc = util_write_all(fd, fresh.buf, fresh.buflen)) != 0 ||
	    fsync(fd) != 0) {
		rc = err_sys(e, EX_IOERR, rc ? rc : errno, "writing %s", tmp);
		goto out;
	}
	if (rename(tmp, st->path) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "renaming %s", tmp);
		goto out;
	}
	if ((rc = util_fsync_dir(st->dir)) != 0) {
		rc = err_sys(e, EX_IOERR, rc, "syncing %s", st->dir);
		goto out;
	}
	/* Append from now on to the new file. */
	close(st->fd);
	st->fd = open(st->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (st->fd < 0)
		rc = err_sys(e, EX_IOERR, errno, "%s", st->path);
	pending_clear(&st->pending);
	st->buflen = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(fresh.buf);
	return rc;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	if (st->lockfd >= 0)
		close(st->lockfd);   /* releases the flock */
	for (size_t i = 0; i < st->tabsize; i++)
		free(st->tab[i].uidl);
	free(st->tab);
	prov_clear(st);
	free(st->prov);
	pending_clear(&st->pending);
	free(st->buf);
	free(st->dir);
	free(st->path);
	free(st->lockpath);
	free(st->legacy);
	free(st);
}
