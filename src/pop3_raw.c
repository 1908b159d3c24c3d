/*
 * pop3_raw.c - the wire: every POP3 command after login, over the
 * connection libcurl opened with CURLOPT_CONNECT_ONLY (TCP, TLS or STLS,
 * greeting, CAPA and, but for auth: user, the login), through
 * curl_easy_send()/curl_easy_recv(). Also USER/PASS, where libcurl cannot
 * be told to use them (a greeting with an APOP timestamp).
 *
 * Commands and replies are apart (pop3i_raw_send, pop3i_raw_reply), so
 * pop3.c can keep several commands in flight; replies are read in order.
 * The reader bounds every status line (LINE_MAX_LEN), applies the stall
 * window to every wait, and hands listing and body bytes to pop3.c's
 * callbacks (which count them against the announced size).
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_int.h"

#define RBUF_SIZE (64 * 1024)

/* Wait until the socket is ready for events, at most until the stall
 * window of this command ends: a byte now and then does not restart it,
 * only STALL_BYTES do (pop3i_rx). */
static int
raw_wait(struct pop3 *s, short events, const char *what, struct err *e)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct pollfd pfd;
	long long left;
	int n;

	if (curl_easy_getinfo(s->h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return err_set(e, EX_TEMPFAIL, "%s: connection lost", what);
	pfd.fd = fd;
	pfd.events = events;
	do {
		if ((left = pop3i_window_left(s)) <= 0)
			return pop3i_stall_error(s, what, e);
		n = poll(&pfd, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return pop3i_stall_error(s, what, e);
	if (n < 0)
		return err_sys(e, EX_OSERR, errno, "%s: poll", what);
	return 0;
}

static int
raw_send(struct pop3 *s, const char *buf, size_t len, const char *what,
    struct err *e)
{
	while (len > 0) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->h, buf, len, &n);
		int w;

		if (rc == CURLE_AGAIN) {
			if ((w = raw_wait(s, POLLOUT, what, e)) != 0)
				return w;
			continue;
		}
		if (rc != CURLE_OK)
			return err_set(e, EX_TEMPFAIL, "%s: connection lost: %s",
			    what, curl_easy_strerror(rc));
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read more bytes into the buffer (after what is unread). */
static int
raw_fill(struct pop3 *s, const char *what, struct err *e)
{
	if (s->rbuf == NULL)
		s->rbuf = xmalloc(RBUF_SIZE);
	if (s->rpos > 0) {
		memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	if (s->rlen == RBUF_SIZE)
		return 0;
	for (;;) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(s->h, s->rbuf + s->rlen,
		    RBUF_SIZE - s->rlen, &n);
		int w;

		/* Ask libcurl first: TLS may hold decrypted bytes while the
		 * socket itself has nothing to read. */
		if (rc == CURLE_AGAIN) {
			if ((w = raw_wait(s, POLLIN, what, e)) != 0)
				return w;
			continue;
		}
		if (rc != CURLE_OK)
			return err_set(e, EX_TEMPFAIL, "%s: connection lost: %s",
			    what, curl_easy_strerror(rc));
		if (n == 0)
			return err_set(e, EX_TEMPFAIL, "%s: connection lost: "
			    "the server closed the connection", what);
		s->rlen += n;
		pop3i_rx(s, n);
		return 0;
	}
}

/* One reply line into s->last (CRLF stripped, as received). */
static int
raw_line(struct pop3 *s, const char *what, struct err *e)
{
	for (;;) {
		char *nl = s->rbuf == NULL ? NULL :
		    memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);
		int rc;

		if (s->rbuf != NULL && nl != NULL) {
			size_t len = (size_t)(nl - (s->rbuf + s->rpos)) + 1;
			pop3i_copy_line(s, s->last, sizeof(s->last),
			    s->rbuf + s->rpos, len);
			s->rpos += len;
			return 0;
		}
		if (s->rbuf != NULL && s->rlen - s->rpos >= LINE_MAX_LEN)
			return err_set(e, EX_PROTOCOL, "%s: reply line longer "
			    "than %d bytes", what, LINE_MAX_LEN);
		if ((rc = raw_fill(s, what, e)) != 0)
			return rc;
	}
}

/* Make sure at least n unread bytes are buffered. */
static int
raw_need(struct pop3 *s, size_t n, const char *what, struct err *e)
{
	int rc;

	while (s->rbuf == NULL || s->rlen - s->rpos < n) {
		if ((rc = raw_fill(s, what, e)) != 0)
			return rc;
	}
	return 0;
}

/* Hand bytes to the listing or body callbacks, like libcurl would. */
static int
raw_emit(struct pop3 *s, const char *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (pop3i_write_cb((char *)buf, 1, len, s) != len)
		return s->cb_rc ? s->cb_rc : EX_SOFTWARE;
	return 0;
}

/*
 * The body of a multi-line reply up to the "." line, streamed to
 * raw_emit() in runs. Dots (RFC 1939, 3): a line that starts with "." and
 * is not the terminator is unstuffed only when the next byte is "." too;
 * otherwise the dot is data, for servers that do not stuff the first
 * line of a message (Dovecot 2.3, Courier send ".first" for ".first").
 * Only a first line starting ".." is ambiguous: s->first_dotdot records
 * that it was unstuffed, and pop3_retr() reads it again with
 * s->first_dot_data set (every dot of the first line kept) when the
 * count says the server had not stuffed it.
 */
static int
raw_multiline(struct pop3 *s, const char *what, struct err *e)
{
	bool bol = true, first = true;
	int rc;

	s->first_dotdot = false;
	for (;;) {
		if ((rc = raw_need(s, 1, what, e)) != 0)
			return rc;
		if (bol && s->rbuf[s->rpos] == '.') {
			if ((rc = raw_need(s, 2, what, e)) != 0)
				return rc;
			if (s->rbuf[s->rpos + 1] == '\r') {
				if ((rc = raw_need(s, 3, what, e)) != 0)
					return rc;
				if (s->rbuf[s->rpos + 2] == '\n') {
					s->rpos += 3;
					return 0;
				}
			} else if (s->rbuf[s->rpos + 1] == '.' &&
			    !(first && s->first_dot_data)) {
				s->first_dotdot = s->first_dotdot || first;
				s->rpos++;
			}
		}
		char *start = s->rbuf + s->rpos;
		char *nl = memchr(start, '\n', s->rlen - s->rpos);
		size_t len = nl ? (size_t)(nl - start) + 1 : s->rlen - s->rpos;

		bol = nl != NULL;
		first = first && !bol;
		s->rpos += len;
		if ((rc = raw_emit(s, start, len)) != 0)
			return rc;
	}
}

static int
raw_reply_error(struct pop3 *s, const char *what, bool login, struct err *e)
{
	int code = pop3i_respcode_exit(s->last);
	char q[LINE_MAX_LEN];

	pop3i_quote(s, q, sizeof(q), s->last, strlen(s->last));
	if (code == 0)
		code = login ? EX_NOPERM : EX_PROTOCOL;
	if (login && code == EX_NOPERM)
		return err_set(e, code, "%s: login refused: server said \"%s\"",
		    what, q);
	return err_set(e, code, "%s: server said \"%s\"", what, q);
}

int
pop3i_raw_send(struct pop3 *s, const char *cmd, bool secret,
    const char *what, struct err *e)
{
	char *line = xasprintf("%s\r\n", cmd);
	int rc;

	if (secret) {
		/* "PASS <redacted>": the verb, never the argument. */
		log_debug(s->account, "C: %.*s <redacted>",
		    (int)strcspn(cmd, " "), cmd);
	} else
		log_debug(s->account, "C: %s", cmd);
	pop3i_window_start(s);
	rc = raw_send(s, line, strlen(line), what, e);
	util_wipe(line, strlen(line));
	free(line);
	if (rc != 0)
		s->broken = true;
	return rc;
}

int
pop3i_raw_peek(struct pop3 *s, const char *what, struct err *e)
{
	int rc;

	pop3i_window_start(s);
	if ((rc = raw_line(s, what, e)) != 0) {
		s->broken = true;
		return rc;
	}
	s->peeked = true;
	return 0;
}

int
pop3i_raw_reply(struct pop3 *s, bool multiline, enum wmode wmode,
    const char *what, bool login, struct err *e)
{
	int rc = 0;

	s->wmode = wmode;
	s->cb_rc = 0;
	s->cb_err = e;
	s->linelen = 0;
	pop3i_window_start(s);
	if (s->peeked)
		s->peeked = false;   /* the status line is in s->last */
	else
		rc = raw_line(s, what, e);
	if (rc == 0) {
		char q[LINE_MAX_LEN];

		log_debug(s->account, "S: %s", pop3i_quote(s, q, sizeof(q),
		    s->last, strlen(s->last)));
		if (strncmp(s->last, "+OK", 3) != 0)
			rc = raw_reply_error(s, what, login, e);
	}
	if (rc == 0 && wmode == W_BODY && !s->started)
		pop3i_body_start(s, s->retr_msg);
	if (rc == 0 && multiline)
		rc = raw_multiline(s, what, e);
	s->wmode = W_DISCARD;
	if (rc != 0)
		s->broken = true;
	return rc;
}

static int
raw_exchange(struct pop3 *s, const char *cmd, bool secret, bool multiline,
    enum wmode wmode, const char *what, bool login, struct err *e)
{
	int rc = pop3i_raw_send(s, cmd, secret, what, e);

	return rc != 0 ? rc : pop3i_raw_reply(s, multiline, wmode, what,
	    login, e);
}

int
pop3i_raw_command(struct pop3 *s, const char *cmd, bool multiline,
    enum wmode wmode, const char *what, struct err *e)
{
	return raw_exchange(s, cmd, false, multiline, wmode, what, false, e);
}

int
pop3i_raw_login(struct pop3 *s, const char *user, const char *password,
    struct err *e)
{
	char *cmd;
	int rc;

	if (password == NULL)
		return err_set(e, EX_SOFTWARE, "login: no password");
	cmd = xasprintf("USER %s", user);
	rc = raw_exchange(s, cmd, false, false, W_DISCARD, "login", true, e);
	free(cmd);
	if (rc != 0)
		return rc;
	cmd = xasprintf("PASS %s", password);
	rc = raw_exchange(s, cmd, true, false, W_DISCARD, "login", true, e);
	util_free_secret(cmd);
	return rc;
}
