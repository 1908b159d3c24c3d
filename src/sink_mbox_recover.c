/*
 * sink_mbox_recover.c - classify and remove what an interrupted mbox batch
 * left after its mark (see sink_mbox_recover.h).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "sink_mbox_recover.h"

#define CHUNK 65536
#define DAEMON_PREFIX "From MAILER-DAEMON "

bool
mbox_from_line_for(const char *sender, long long stamp, char *out,
    size_t outsize)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t t = (time_t)stamp;
	struct tm tm;

	/* asctime()'s layout in UTC, English names whatever the locale. */
	if ((long long)t != stamp || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
		snprintf(out, outsize, "From %s ?\n", sender);
		return false;
	}
	snprintf(out, outsize, "From %s %s %s %2d %02d:%02d:%02d %d\n", sender,
	    days[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	return true;
}

bool
mbox_from_line(long long stamp, char *out, size_t outsize)
{
	return mbox_from_line_for("MAILER-DAEMON", stamp, out, outsize);
}

static bool
digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "Fri Nov 27 07:00:00" or "Fri Nov  7 07:00:00" at p (19 bytes there). */
static bool
asctime_date(const char *p)
{
	return p[3] == ' ' && p[7] == ' ' && p[10] == ' ' && p[13] == ':' &&
	    p[16] == ':' && (p[8] == ' ' || digits(p + 8, 1)) &&
	    digits(p + 9, 1) && digits(p + 11, 2) && digits(p + 14, 2) &&
	    digits(p + 17, 2);
}

/* The layout of every From_ line popfetch writes, whatever its time:
 * "From MAILER-DAEMON Fri Nov 27 07:00:00 2026\n", single spaces. */
static bool
daemon_layout(const char *line, size_t len)
{
	size_t n = strlen(DAEMON_PREFIX);

	return len == n + 25 && memcmp(line, DAEMON_PREFIX, n) == 0 &&
	    asctime_date(line + n) && line[n + 19] == ' ' &&
	    digits(line + n + 20, 4) && line[n + 24] == '\n';
}

/* The sender token of a From_ line: bytes up to the first space, never
 * a tab, LF or NUL. Returns its length, 0 when there is none. */
static size_t
sender_len(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
	    p[i] != '\0')
		i++;
	return i;
}

/* Could popfetch have written this sender: an address with an '@', or
 * MAILER-DAEMON (sink_mbox.c writes nothing else)? */
static bool
sender_ours(const char *p, size_t k)
{
	return memchr(p, '@', k) != NULL ||
	    (k == 13 && memcmp(p, "MAILER-DAEMON", 13) == 0);
}

/* Is this whole line (ending with "\n") one of the batch's From_ lines:
 * "From ", any one-word sender, and the batch's date (what follows the
 * sender in `from`)? With stamp 0 (a journal from before stamps, when
 * popfetch wrote only MAILER-DAEMON), any line of that layout counts. */
static bool
ours(const char *line, size_t len, const char *from, size_t fromlen,
    long long stamp)
{
	size_t k, date = strlen(DAEMON_PREFIX) - 1;   /* " Www Mmm ..." */

	if (stamp == 0)
		return daemon_layout(line, len);
	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	k = sender_len(line + 5, len - 5);
	return k > 0 && sender_ours(line + 5, k) &&
	    len - 5 - k == fromlen - date &&
	    memcmp(line + 5 + k, from + date, fromlen - date) == 0;
}

/* May this incomplete last line be the start of one of the batch's From_
 * lines, cut by the crash? */
static bool
ours_prefix(const char *line, size_t len, const char *from, size_t fromlen,
    long long stamp)
{
	size_t k, rest, date = strlen(DAEMON_PREFIX) - 1;

	if (stamp == 0) {
		size_t n = strlen(DAEMON_PREFIX);

		return memcmp(line, DAEMON_PREFIX, len < n ? len : n) == 0;
	}
	if (memcmp(line, "From ", len < 5 ? len : 5) != 0)
		return false;
	if (len <= 5)
		return true;
	k = sender_len(line + 5, len - 5);
	if (5 + k == len)
		return true;   /* cut inside the sender */
	if (k == 0 || line[5 + k] != ' ' || !sender_ours(line + 5, k))
		return false;
	rest = len - 5 - k;
	return rest <= fromlen - date &&
	    memcmp(line + 5 + k, from + date, rest) == 0;
}

/* Does p[0..n), which ends with "\n", look like a From_ line as mail
 * delivery programs write it: "From ", an address, one or more spaces,
 * an asctime() date "Www Mmm dd hh:mm:ss", and a four-digit year before
 * the end of the line (zones and "remote from" may follow the time)? */
static bool
fromline_like(const char *p, size_t n)
{
	size_t i = 5;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	while (i < n && p[i] != ' ' && p[i] != '\n')
		i++;
	if (i == 5 || i >= n || p[i] != ' ')
		return false;
	while (i < n && p[i] == ' ')
		i++;
	if (n - i < 19 + 6 || !asctime_date(p + i))
		return false;
	for (i += 19; i + 5 < n; i++)
		if (p[i] == ' ' && digits(p + i + 1, 4) &&
		    (p[i + 5] == ' ' || p[i + 5] == '\n'))
			return true;
	return false;
}

/* The scanner's view of the line being read: its start, its first bytes,
 * and its last bytes (a ring), for lines of any length. */
struct line {
	off_t start;
	size_t len;                /* bytes so far */
	char head[512];             /* a From_ line with the longest sender fits */
	char ring[1024];
	size_t rpos;               /* next write position in ring */
};

/* Copy the last min(len, sizeof ring) bytes of the line to out. */
static size_t
line_tail(const struct line *l, char *out)
{
	size_t n = l->len < sizeof(l->ring) ? l->len : sizeof(l->ring);

	for (size_t i = 0; i < n; i++)
		out[i] = l->ring[(l->rpos + sizeof(l->ring) - n + i) %
		    sizeof(l->ring)];
	return n;
}

/*
 * Where in this whole line a From_ line glued onto it begins: data
 * appended right after a line the crash cut, with no "\n" first. -1 when
 * none. On the first line, or one that starts with "From ", what comes
 * before it must be the start of our From_ line (the crash cut that).
 * A line of ours such as ">From x Mon Sep 17 00:00:00 2001" is a
 * candidate too (it could be ">" cut by the crash with a From_ line glued
 * on): the caller drops it when a line of the batch's follows.
 */
static off_t
glued(const struct line *l, bool first, const char *from, size_t fromlen,
    long long stamp)
{
	char tail[sizeof(l->ring)];
	size_t n = line_tail(l, tail), skip = l->len - n;
	/* The first line, and a line that starts like a From_ line, can
	 * only be our From_ line cut by the crash. */
	bool must_be_ours = first ||
	    (l->len >= 5 && memcmp(l->head, "From ", 5) == 0);

	for (size_t i = skip == 0 ? 1 : 0; i + 5 <= n; i++) {
		size_t before = skip + i;   /* bytes of the line before it */

		if (tail[i] != 'F' || !fromline_like(tail + i, n - i))
			continue;
		if (must_be_ours && (before > sizeof(l->head) ||
		    !ours_prefix(l->head, before, from, fromlen, stamp)))
			continue;
		return l->start + (off_t)before;
	}
	return -1;
}

static bool
starts_from(const struct line *l)
{
	return l->len >= 5 && memcmp(l->head, "From ", 5) == 0;
}

int
mbox_tail_scan(int fd, off_t mark, off_t size, long long stamp,
    enum mbox_tail *kind, off_t *foreign, int *nl, struct err *e)
{
	char from[96], *buf = xmalloc(CHUNK);
	struct line *l = xcalloc(1, sizeof(*l));
	size_t fromlen;
	off_t pos = mark, cand = -1, g;
	bool first = true;
	int rc = 0;

	*kind = MBOX_TAIL_OURS;
	*foreign = size;
	*nl = 0;
	if (!mbox_from_line(stamp, from, sizeof(from)) && stamp != 0) {
		*kind = MBOX_TAIL_CHANGED;   /* a stamp no clock makes */
		goto out;
	}
	fromlen = strlen(from);

	/* A file that did not end with "\n" got one before the From_ line. */
	if (mark > 0) {
		char c;

		if (pread(fd, &c, 1, mark) != 1)
			goto ioerr;
		if (c == '\n')
			*nl = 1;
	}
	pos = l->start = mark + *nl;
	while (pos < size) {
		size_t want = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
		ssize_t got = pread(fd, buf, want, pos);

		if (got <= 0)
			goto ioerr;
		for (ssize_t i = 0; i < got; i++) {
			if (l->len < sizeof(l->head))
				l->head[l->len] = buf[i];
			l->len++;
			l->ring[l->rpos] = buf[i];
			l->rpos = (l->rpos + 1) % sizeof(l->ring);
			if (buf[i] != '\n')
				continue;

			bool mine = l->len <= sizeof(l->head) && ours(l->head,
			    l->len, from, fromlen, stamp);

			if (first && !mine) {
				/* The mark does not start the batch, unless
				 * the crash cut our first From_ line and
				 * another one was glued on. */
				g = glued(l, true, from, fromlen, stamp);
				*kind = g >= 0 ? MBOX_TAIL_FOREIGN :
				    MBOX_TAIL_CHANGED;
				*foreign = g >= 0 ? g : size;
				goto out;
			}
			if (mine) {
				/* Our data goes on: an earlier "glued" From_
				 * line was a line of one of our messages. */
				cand = -1;
			} else if ((g = glued(l, false, from, fromlen,
			    stamp)) >= 0) {
				if (cand < 0)
					cand = g;
			} else if (starts_from(l)) {
				/* Not ours: mboxrd quotes such lines inside
				 * our messages. Foreign from here, or from a
				 * glued From_ line before. */
				*kind = MBOX_TAIL_FOREIGN;
				*foreign = cand >= 0 ? cand : l->start;
				goto out;
			}
			first = false;
			l->start = pos + i + 1;
			l->len = 0;
		}
		pos += got;
	}
	/* The last line, if the crash cut it, is ours only as a prefix of our
	 * From_ line; as the first line it must be one. */
	if (l->len > 0) {
		size_t n = l->len < sizeof(l->head) ? l->len : sizeof(l->head);

		if (first && !ours_prefix(l->head, n, from, fromlen, stamp)) {
			*kind = MBOX_TAIL_CHANGED;
			goto out;
		}
		if (!first && starts_from(l) &&
		    !ours_prefix(l->head, n, from, fromlen, stamp)) {
			*kind = MBOX_TAIL_FOREIGN;
			*foreign = cand >= 0 ? cand : l->start;
			goto out;
		}
	}
	if (cand >= 0) {
		*kind = MBOX_TAIL_FOREIGN;
		*foreign = cand;
	}
	goto out;
ioerr:
	rc = err_sys(e, EX_IOERR, errno ? errno : EIO, "cannot read the "
	    "mbox after %lld bytes", (long long)pos);
out:
	free(l);
	free(buf);
	return rc;
}

int
mbox_tail_move(int fd, off_t from, off_t to, off_t size, int nl,
    struct err *e)
{
	char *buf = NULL;
	off_t src = from, dst = to;
	int flags, rc = 0;

	/* pwrite() ignores its offset on an O_APPEND descriptor (Linux). */
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_APPEND) != 0)
		return err_sys(e, EX_IOERR, errno, "cannot reopen the mbox "
		    "for rewriting");
	if (nl) {
		if (pwrite(fd, "\n", 1, dst) != 1)
			goto ioerr;
		dst++;
	}
	/* Forward, through a buffer: a chunk is read whole before the write
	 * that may cover where it was (dst < src). */
	buf = xmalloc(CHUNK);
	while (src < size) {
		size_t want = size - src < CHUNK ? (size_t)(size - src) : CHUNK;
		ssize_t got = pread(fd, buf, want, src);

		if (got <= 0)
			goto ioerr;
		for (ssize_t done = 0; done < got; ) {
			ssize_t w = pwrite(fd, buf + done, (size_t)(got - done),
			    dst);

			if (w <= 0)
				goto ioerr;
			done += w;
			dst += w;
		}
		src += got;
	}
	if (fsync(fd) != 0 || ftruncate(fd, dst) != 0 || fsync(fd) != 0)
		goto ioerr;
	goto out;
ioerr:
	rc = err_sys(e, EX_IOERR, errno ? errno : EIO, "cannot move %lld "
	    "bytes of the mbox back to offset %lld", (long long)(size - from),
	    (long long)to);
out:
	free(buf);
	(void)fcntl(fd, F_SETFL, flags);
	return rc;
}
