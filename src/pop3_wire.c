/*
 * pop3_wire.c - the POP3 wire over a struct pop3_io: command lines out,
 * bounded status lines and dot-decoded multi-line replies in, every wait
 * bounded by the stall window. See pop3_wire.h for the contract.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_wire.h"
#include "textclean.h"

#define RBUF_SIZE (64 * 1024)

void
pop3w_init(struct pop3_wire *w, const struct pop3_io *io,
    const char *account, const struct textclean *tc, long timeout_ms)
{
	w->io = *io;
	w->account = account;
	w->tc = tc;
	w->timeout_ms = timeout_ms;
	w->timeout_s = (timeout_ms + 999) / 1000;
	w->rbuf = xmalloc(RBUF_SIZE);
	w->rpos = w->rlen = 0;
	pop3w_window_start(w);
}

void
pop3w_free(struct pop3_wire *w)
{
	free(w->rbuf);
	w->rbuf = NULL;
	w->rpos = w->rlen = 0;
	free(w->obuf);
	w->obuf = NULL;
	w->olen = w->ocap = 0;
}

void
pop3w_window_start(struct pop3_wire *w)
{
	w->win_start_ms = util_now_ms();
	w->win_bytes = 0;
}

void
pop3w_rx(struct pop3_wire *w, size_t n)
{
	w->win_bytes += n;
	if (w->win_bytes >= POP3W_STALL_BYTES) {
		w->win_start_ms = util_now_ms();
		w->win_bytes = 0;
	}
}

long long
pop3w_window_left(const struct pop3_wire *w)
{
	return w->win_start_ms + w->timeout_ms - util_now_ms();
}

void
pop3w_pause(struct pop3_wire *w, long long ms)
{
	if (ms > 0)
		w->win_start_ms += ms;
}

int
pop3w_stall_error(const struct pop3_wire *w, const char *what,
    struct err *e)
{
	if (w->win_bytes == 0)
		return err_set(e, EX_TEMPFAIL, "%s: timed out (timeout %lds)",
		    what, w->timeout_s);
	return err_set(e, EX_TEMPFAIL, "%s: server too slow: fewer than %d "
	    "bytes in %ld s (timeout %lds)", what, POP3W_STALL_BYTES,
	    w->timeout_s, w->timeout_s);
}

/* Wait until the connection is ready, at most until the stall window
 * ends: a byte now and then does not restart it, only
 * POP3W_STALL_BYTES do (pop3w_rx). */
static int
wait_ready(struct pop3_wire *w, bool out, const char *what, struct err *e)
{
	long long left, slice;
	int n;

	for (;;) {
		if ((left = pop3w_window_left(w)) <= 0)
			return pop3w_stall_error(w, what, e);
		/* With a tick (a progress line), wake up twice a second. */
		slice = w->tick != NULL && left > POP3W_TICK_MS ?
		    POP3W_TICK_MS : left;
		n = w->io.wait(w->io.arg, out, slice);
		if (n < 0 && n != -2 && errno == EINTR)
			continue;
		if (n == 0 && slice < left) {
			w->tick(w->tick_arg);
			continue;
		}
		break;
	}
	if (n == 0)
		return pop3w_stall_error(w, what, e);
	if (n == -2)
		return err_set(e, EX_TEMPFAIL, "%s: connection lost", what);
	if (n < 0)
		return err_sys(e, EX_OSERR, errno, "%s: poll", what);
	return 0;
}

static int
io_failed(struct pop3_wire *w, const char *what, struct err *e)
{
	const char *why = w->io.error ? w->io.error(w->io.arg) : NULL;

	return err_set(e, EX_TEMPFAIL, "%s: connection lost: %s", what,
	    why ? why : "error");
}

static int
send_all(struct pop3_wire *w, const char *buf, size_t len, const char *what,
    struct err *e)
{
	while (len > 0) {
		size_t n = 0;
		int rc = w->io.send(w->io.arg, buf, len, &n), r;

		if (rc == POP3_IO_AGAIN) {
			if ((r = wait_ready(w, true, what, e)) != 0)
				return r;
			continue;
		}
		if (rc != POP3_IO_OK)
			return io_failed(w, what, e);
		if (n > len)
			n = len;
		buf += n;
		len -= n;
	}
	return 0;
}

void
pop3w_cork(struct pop3_wire *w)
{
	w->corked = true;
}

int
pop3w_flush(struct pop3_wire *w, const char *what, struct err *e)
{
	int rc = 0;

	w->corked = false;
	if (w->olen > 0) {
		rc = send_all(w, w->obuf, w->olen, what, e);
		w->olen = 0;
	}
	return rc;
}

/* Read more bytes into the buffer, after what is unread. Commands still
 * corked go out first: their replies may be what is awaited. */
static int
fill(struct pop3_wire *w, const char *what, struct err *e)
{
	int frc;

	if (w->olen > 0 && (frc = pop3w_flush(w, what, e)) != 0)
		return frc;
	if (w->rpos > 0) {
		memmove(w->rbuf, w->rbuf + w->rpos, w->rlen - w->rpos);
		w->rlen -= w->rpos;
		w->rpos = 0;
	}
	if (w->rlen == RBUF_SIZE)
		return 0;
	for (;;) {
		size_t n = 0;
		int rc = w->io.recv(w->io.arg, w->rbuf + w->rlen,
		    RBUF_SIZE - w->rlen, &n), r;

		/* Ask the transport first: TLS may hold decrypted bytes
		 * while the socket itself has nothing to read. */
		if (rc == POP3_IO_AGAIN) {
			if ((r = wait_ready(w, false, what, e)) != 0)
				return r;
			continue;
		}
		if (rc == POP3_IO_CLOSED || (rc == POP3_IO_OK && n == 0))
			return err_set(e, EX_TEMPFAIL, "%s: connection lost: "
			    "the server closed the connection", what);
		if (rc != POP3_IO_OK)
			return io_failed(w, what, e);
		if (n > RBUF_SIZE - w->rlen)
			n = RBUF_SIZE - w->rlen;
		w->rlen += n;
		pop3w_rx(w, n);
		return 0;
	}
}

/* Make sure at least n (<= RBUF_SIZE) unread bytes are buffered. */
static int
need(struct pop3_wire *w, size_t n, const char *what, struct err *e)
{
	int rc;

	while (w->rlen - w->rpos < n) {
		if ((rc = fill(w, what, e)) != 0)
			return rc;
	}
	return 0;
}

int
pop3w_send(struct pop3_wire *w, const char *cmd, bool secret,
    const char *what, struct err *e)
{
	char *line = xasprintf("%s\r\n", cmd);
	int rc;

	if (secret) {
		/* "PASS <redacted>": the verb, never the argument. */
		log_debug(w->account, "C: %.*s <redacted>",
		    (int)strcspn(cmd, " "), cmd);
	} else
		log_debug(w->account, "C: %s", cmd);
	pop3w_window_start(w);
	if (w->corked && !secret) {
		size_t n = strlen(line);

		if (w->olen + n > w->ocap) {
			w->ocap = (w->olen + n) * 2 + 256;
			w->obuf = xrealloc(w->obuf, w->ocap);
		}
		memcpy(w->obuf + w->olen, line, n);
		w->olen += n;
		free(line);
		return 0;
	}
	if (w->olen > 0 && (rc = pop3w_flush(w, what, e)) != 0) {
		free(line);
		return rc;
	}
	rc = send_all(w, line, strlen(line), what, e);
	util_wipe(line, strlen(line));
	free(line);
	return rc;
}

void
pop3w_copy_line(const struct textclean *tc, char *dst, size_t dstlen,
    const char *src, size_t len)
{
	bool cut = false;

	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	if (len >= dstlen) {
		cut = dstlen > 4;
		len = textclean_cut(tc, src, len, cut ? dstlen - 4 :
		    dstlen - 1);
	}
	memcpy(dst, src, len);
	if (cut) {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
}

int
pop3w_line(struct pop3_wire *w, char *dst, size_t dstlen, const char *what,
    struct err *e)
{
	size_t scanned = 0;
	int rc;

	for (;;) {
		char *start = w->rbuf + w->rpos;
		char *nl = memchr(start + scanned, '\n',
		    w->rlen - w->rpos - scanned);

		if (nl != NULL && nl - start >= POP3W_LINE_READ_MAX)
			break;   /* however the bytes were split */
		if (nl != NULL) {
			size_t len = (size_t)(nl - start) + 1;

			pop3w_copy_line(w->tc, dst, dstlen, start, len);
			w->rpos += len;
			return 0;
		}
		scanned = w->rlen - w->rpos;
		if (scanned >= POP3W_LINE_READ_MAX)
			break;
		if ((rc = fill(w, what, e)) != 0)
			return rc;
	}
	return err_set(e, EX_PROTOCOL, "%s: reply line longer than %d bytes",
	    what, POP3W_LINE_READ_MAX);
}

static int
emit_run(struct pop3_wire *w, pop3w_emit emit, void *arg, const char *buf,
    size_t len, struct err *e)
{
	long long t0;
	int rc;

	if (len == 0)
		return 0;
	t0 = util_now_ms();
	rc = emit(arg, buf, len, e);
	/* Time spent in the store (a slow disk) is not the server being
	 * slow: it does not count against the stall window. */
	pop3w_pause(w, util_now_ms() - t0);
	return rc;
}

int
pop3w_multiline(struct pop3_wire *w, bool first_dot_data,
    bool *first_dotdot, pop3w_emit emit, void *arg, const char *what,
    struct err *e)
{
	bool bol = true, first = true;
	int rc;

	*first_dotdot = false;
	for (;;) {
		if ((rc = need(w, 1, what, e)) != 0)
			return rc;
		if (bol && w->rbuf[w->rpos] == '.') {
			if ((rc = need(w, 2, what, e)) != 0)
				return rc;
			if (w->rbuf[w->rpos + 1] == '\r') {
				if ((rc = need(w, 3, what, e)) != 0)
					return rc;
				if (w->rbuf[w->rpos + 2] == '\n') {
					w->rpos += 3;
					return 0;
				}
			} else if (w->rbuf[w->rpos + 1] == '.' &&
			    !(first && first_dot_data)) {
				*first_dotdot = *first_dotdot || first;
				w->rpos++;
			}
		}
		/* One run for as many lines as the buffer holds, up to a
		 * line that starts with "." (the top of the loop looks at
		 * it) or one whose next byte is not here yet. */
		char *start = w->rbuf + w->rpos, *end = w->rbuf + w->rlen;
		char *p = start, *nl;
		bool saw_nl = false;

		bol = false;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			saw_nl = bol = true;
			p = nl + 1;
			if (p == end || *p == '.')
				break;
		}
		if (nl == NULL) {
			p = end;       /* in the middle of a line */
			bol = false;
		}
		first = first && !saw_nl;
		w->rpos += (size_t)(p - start);
		if ((rc = emit_run(w, emit, arg, start, (size_t)(p - start),
		    e)) != 0)
			return rc;
	}
}
