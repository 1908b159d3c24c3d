/*
 * state_load.c - reading a journal (format in state.c): the stored UIDLs,
 * and the batch a crash left open.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_int.h"

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


/* ---- loading ------------------------------------------------------------- */

void
st_pending_clear(struct state_pending *p)
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

void
st_prov_clear(struct state *st)
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
	st_pending_clear(&st->pending);
	st_prov_clear(st);
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
add_loaded(struct state *st, const struct rec *r)
{
	struct ent v;
	uint32_t ref = stset_add(st, r->uidl, r->len, r->when, &v);

	v.hold = v.hold || r->hold;
	if (r->absent != 0) {
		v.nabsent++;
		if (v.absent == 0 || r->absent < v.absent)
			v.absent = r->absent;
	}
	ent_put(st, ref, &v);
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
	st_prov_clear(st);
	st_pending_clear(&st->pending);
}

static void
load_stored(struct state *st, const struct rec *r)
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
	st_prov_clear(st);
	st_pending_clear(&st->pending);
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
	struct rec r;
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
		struct sink_mark m = { 1, 0, 0, 0, 0 };
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

/* The journal is read in pieces of this size (a line longer than
 * that grows the buffer): memory for the records, not for the file. */
#define LOAD_CHUNK (64 * 1024)

int
st_load_journal(struct state *st, struct err *e)
{
	struct stat sb;
	char *buf = NULL;
	size_t cap = LOAD_CHUNK, have = 0, lineno = 0;
	off_t pos = 0, size;
	bool magic_ok = false;
	int rc = 0;

	if (fstat(st->fd, &sb) != 0)
		return err_sys(e, EX_IOERR, errno, "%s", st->path);
	if (sb.st_size == 0 && st->readonly)
		return 0;
	if (sb.st_size == 0) {
		/* New journal (or one a crash left empty): write the format
		 * line durably (state_open syncs its directory entry). */
		if ((rc = util_write_all(st->fd, STATE_MAGIC,
		    strlen(STATE_MAGIC))) != 0 || fsync(st->fd) != 0)
			return err_sys(e, EX_IOERR, rc ? rc : errno, "%s",
			    st->path);
		return 0;
	}
	size = sb.st_size;
	buf = xmalloc(cap + 1);
	/* buf[0..have) holds bytes from the file not yet parsed, starting
	 * at a line's start. */
	while (pos < size) {
		size_t want = (size_t)(size - pos) < cap - have ?
		    (size_t)(size - pos) : cap - have;
		ssize_t r = pread(st->fd, buf + have, want, pos);
		char *p, *nl, *end;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = err_sys(e, EX_IOERR, r < 0 ? errno : EIO,
			    "reading %s", st->path);
			goto out;
		}
		pos += r;
		have += (size_t)r;
		end = buf + have;
		p = buf;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			*nl = '\0';
			lineno++;
			if (lineno == 1) {
				if (strcmp(p, "popfetch-state 1") != 0 ||
				    strlen(p) != (size_t)(nl - p))
					break;
				magic_ok = true;
			} else if (nl > p && (memchr(p, '\0',
			    (size_t)(nl - p)) != NULL ||
			    load_record(st, p) != 0)) {
				rc = err_set(e, EX_DATAERR, "%s:%zu: "
				    "unreadable record", st->path, lineno);
				goto out;
			}
			p = nl + 1;
		}
		if (lineno >= 1 && !magic_ok)
			break;
		/* Keep the partial line; grow when one line fills it. */
		have = (size_t)(end - p);
		memmove(buf, p, have);
		if (have == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	if (!magic_ok) {
		rc = err_set(e, EX_DATAERR, "%s: not a popfetch state file "
		    "(first line is not \"popfetch-state 1\")", st->path);
		goto out;
	}
	/* A crash can leave a torn last record: cut it off so the next
	 * append starts on a fresh line. Its batch was never committed. */
	if (have > 0 && !st->readonly &&
	    ftruncate(st->fd, size - (off_t)have) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "truncating %s", st->path);
		goto out;
	}
	/* Provisional records of a batch never committed do not count. */
	st_prov_clear(st);
out:
	free(buf);
	return rc;
}
