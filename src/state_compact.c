/*
 * state_compact.c - rewriting a journal (format in state.c) after a
 * complete session: from marks set on the stored UIDLs, in one pass over
 * them, written through a small buffer.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state_int.h"
#include "strset.h"

/* Compaction writes through a buffer of this size: memory for the
 * records is the journal's table, not a second copy of the file. */
#define COMPACT_CHUNK (64 * 1024)

struct compact_out {
	struct state buf;   /* only its buffer is used (st_buf_add) */
	int fd;
	int err;            /* the first write error (errno) */
};

static void
compact_flush(struct compact_out *o, size_t above)
{
	if (o->buf.buflen <= above)
		return;
	if (o->err == 0)
		o->err = util_write_all(o->fd, o->buf.buf, o->buf.buflen);
	o->buf.buflen = 0;
}

/* `copies` S records of UIDL ref, with its flags; absent since `since`
 * (0: present). */
static void
compact_entry(struct compact_out *o, const struct state *st, uint32_t ref,
    const struct ent *v, unsigned copies, long long since)
{
	char head[40], tail[40];
	int hn = snprintf(head, sizeof(head), "S %lld ", v->when), tn = 0;
	size_t len;
	const char *u = strset_str(st->uidls, ref, &len);

	if (v->hold)
		tn = snprintf(tail, sizeof(tail), " hold");
	if (since != 0)
		tn += snprintf(tail + tn, sizeof(tail) - (size_t)tn, " a=%lld",
		    since);
	while (copies-- > 0) {
		st_buf_add(&o->buf, head, (size_t)hn);
		st_buf_add_escaped(&o->buf, u, len);
		st_buf_add(&o->buf, tail, (size_t)tn);
		st_buf_add(&o->buf, "\n", 1);
		compact_flush(o, COMPACT_CHUNK);
	}
}

void
state_mark_listed(struct state *st, const char *uidl, size_t len)
{
	state_mark_ref(st, strset_find(st->uidls, uidl, len), false);
}

void
state_mark_gone(struct state *st, const char *uidl, size_t len)
{
	state_mark_ref(st, strset_find(st->uidls, uidl, len), true);
}

static void
marks_clear(struct state *st)
{
	size_t n = strset_count(st->uidls);

	for (uint32_t ref = 1; ref <= n; ref++) {
		struct ent v;

		ent_get(st, ref, &v);
		if (v.listed != 0 || v.gone != 0) {
			v.listed = v.gone = 0;
			ent_put(st, ref, &v);
		}
	}
}

int
state_compact(struct state *st, char *const *listed,
    const size_t *listed_lens, size_t nlisted, char *const *gone,
    const size_t *gone_lens, size_t ngone, long long forget_after,
    struct err *e)
{
	marks_clear(st);
	for (size_t i = 0; i < nlisted; i++)
		state_mark_listed(st, listed[i], listed_lens[i]);
	for (size_t i = 0; i < ngone; i++)
		state_mark_gone(st, gone[i], gone_lens[i]);
	return state_compact_marked(st, forget_after, e);
}

int
state_compact_marked(struct state *st, long long forget_after,
    struct err *e)
{
	char *tmp = xasprintf("%s.tmp", st->path);
	long long now = (long long)time(NULL);
	struct compact_out o;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o.fd < 0) {
		rc = err_sys(e, EX_IOERR, errno, "%s", tmp);
		goto out;
	}
	st_buf_add(&o.buf, STATE_MAGIC, strlen(STATE_MAGIC));
	/* The UIDLs in the order they were first stored or listed: one
	 * pass, no lookup. */
	for (uint32_t ref = 1; ref <= strset_count(st->uidls); ref++) {
		struct ent v;
		unsigned present, rest;
		long long since;

		ent_get(st, ref, &v);
		if (v.stored == 0)
			continue;
		/* A UIDL listed k times keeps at most k stored copies as
		 * present. Copies beyond that were deleted by this session
		 * (QUIT confirmed: they go at once) or are hidden by the
		 * server: a server may hide a message for a while, or list
		 * nothing once, so those stay, absent since the first
		 * session that missed them, until forget_after. */
		present = v.listed < v.stored ? v.listed : v.stored;
		rest = v.stored - present;
		rest -= v.gone < rest ? v.gone : rest;
		compact_entry(&o, st, ref, &v, present, 0);
		since = v.nabsent > 0 && v.absent != 0 ? v.absent : now;
		if (rest > 0 && now - since < forget_after)
			compact_entry(&o, st, ref, &v, rest, since);
	}
	compact_flush(&o, 0);
	if (o.err != 0 || fsync(o.fd) != 0) {
		rc = err_sys(e, EX_IOERR, o.err ? o.err : errno,
		    "writing %s", tmp);
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
	st_pending_clear(&st->pending);
	st->buflen = 0;
out:
	marks_clear(st);
	if (o.fd >= 0)
		close(o.fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(o.buf.buf);
	return rc;
}
