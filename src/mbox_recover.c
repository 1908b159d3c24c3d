/*
 * mbox_recover.c - classify and remove what an interrupted mbox batch
 * left after its mark (see mbox_recover.h).
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

#include "mbox_recover.h"

#define CHUNK 65536
#define DAEMON_PREFIX "From MAILER-DAEMON "

void
mbox_from_line(long long stamp, char *out, size_t outsize)
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
	gmtime_r(&t, &tm);
	snprintf(out, outsize, "From MAILER-DAEMON %s %s %2d %02d:%02d:%02d "
	    "%d\n", days[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

/* Is this line (its first len bytes; complete when it ends with "\n") one
 * of the batch's From_ lines? An incomplete one at the end of the file
 * counts when it is a prefix of ours: the crash came while writing it. */
static bool
ours(const char *line, size_t len, bool complete, const char *from,
    size_t fromlen, long long stamp)
{
	if (stamp == 0) {
		size_t n = strlen(DAEMON_PREFIX);

		return len >= n ? memcmp(line, DAEMON_PREFIX, n) == 0 :
		    !complete && memcmp(line, DAEMON_PREFIX, len) == 0;
	}
	if (complete)
		return len == fromlen && memcmp(line, from, fromlen) == 0;
	return len <= fromlen && memcmp(line, from, len) == 0;
}

static bool
digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Does p[0..n), which ends with "\n", look like a From_ line: "From ",
 * an address, then an asctime() date "Www Mmm dd hh:mm:ss" and a line
 * that ends with a four-digit year (a zone may come between)? */
static bool
fromline_like(const char *p, size_t n)
{
	size_t i = 5;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	while (i < n && p[i] != ' ' && p[i] != '\n')
		i++;
	if (i == 5 || i + 1 + 25 > n || p[i] != ' ')
		return false;
	p += i + 1;
	n -= i + 1;
	/* "Fri Nov 27 07:00:00 ... 2026\n", or "Nov  7" */
	if (p[3] != ' ' || p[7] != ' ' || p[10] != ' ' || p[13] != ':' ||
	    p[16] != ':' || !(p[8] == ' ' || digits(p + 8, 1)) ||
	    !digits(p + 9, 1) || !digits(p + 11, 2) || !digits(p + 14, 2) ||
	    !digits(p + 17, 2))
		return false;
	return p[n - 6] == ' ' && digits(p + n - 5, 4);
}

/* Where in the line that ends at the end of the ring (its last `len`
 * bytes, at most sizeof ring) a glued-on From_ line begins: data
 * appended right after a line the crash cut, without a "\n" first.
 * Returns its distance from the end of the line, or 0. */
static size_t
glued_from(const char *ring, size_t ringsize, size_t end, size_t len)
{
	char tmp[160];

	if (len > sizeof(tmp))
		len = sizeof(tmp);
	if (len > ringsize)
		len = ringsize;
	for (size_t i = 0; i < len; i++)
		tmp[i] = ring[(end + ringsize - len + i) % ringsize];
	for (size_t i = 1; i + 5 <= len; i++)
		if (tmp[i] == 'F' && fromline_like(tmp + i, len - i))
			return len - i;
	return 0;
}

int
mbox_tail_scan(int fd, off_t mark, off_t size, long long stamp,
    enum mbox_tail *kind, off_t *foreign, int *nl, struct err *e)
{
	char from[96], line[128], ring[160], *buf = xmalloc(CHUNK);
	size_t fromlen, llen = 0, rpos = 0, d;
	off_t pos = mark, lstart;
	bool first = true;
	int rc = 0;

	mbox_from_line(stamp, from, sizeof(from));
	fromlen = strlen(from);
	*kind = MBOX_TAIL_OURS;
	*foreign = size;
	*nl = 0;

	/* A file that did not end with "\n" got one before the From_ line. */
	if (mark > 0) {
		char c;

		if (pread(fd, &c, 1, mark) != 1)
			goto ioerr;
		if (c == '\n')
			*nl = 1;
	}
	pos = lstart = mark + *nl;
	while (pos < size) {
		size_t want = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
		ssize_t got = pread(fd, buf, want, pos);

		if (got <= 0)
			goto ioerr;
		for (ssize_t i = 0; i < got; i++) {
			if (llen < sizeof(line))
				line[llen] = buf[i];
			llen++;
			ring[rpos] = buf[i];
			rpos = (rpos + 1) % sizeof(ring);
			if (buf[i] != '\n')
				continue;
			/* A whole line: only one that starts with "From "
			 * matters, and only the first must be ours. */
			if ((first || (llen >= 5 &&
			    memcmp(line, "From ", 5) == 0)) &&
			    !(llen <= sizeof(line) && ours(line, llen, true,
			    from, fromlen, stamp))) {
				*kind = first ? MBOX_TAIL_CHANGED :
				    MBOX_TAIL_FOREIGN;
				*foreign = lstart;
				goto out;
			}
			/* Appended right after a line the crash cut. */
			if (!first && (d = glued_from(ring, sizeof(ring), rpos,
			    llen)) > 0) {
				*kind = MBOX_TAIL_FOREIGN;
				*foreign = pos + i + 1 - (off_t)d;
				goto out;
			}
			first = false;
			lstart = pos + i + 1;
			llen = 0;
		}
		pos += got;
	}
	/* The last line, cut by the crash. */
	if (llen > 0) {
		size_t n = llen < sizeof(line) ? llen : sizeof(line);

		if (first ? !ours(line, n, false, from, fromlen, stamp) :
		    (n >= 5 && memcmp(line, "From ", 5) == 0 &&
		    !ours(line, n, false, from, fromlen, stamp))) {
			*kind = first ? MBOX_TAIL_CHANGED : MBOX_TAIL_FOREIGN;
			*foreign = lstart;
		}
	}
	goto out;
ioerr:
	rc = err_sys(e, EX_IOERR, errno ? errno : EIO, "cannot read the "
	    "mbox after %lld bytes", (long long)pos);
out:
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
