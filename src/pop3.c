/*
 * pop3.c - the session on the wire: every command after the login goes
 * out and its reply comes back here (pop3_wire.c underneath), whoever
 * opened the connection: libcurl (pop3_login.c) or a test's scripted
 * io. Replies are read in the order the commands went out; a
 * multi-line reply's bytes go to the listing reader (split into lines,
 * capped by STAT's count) or the body reader (counted against the
 * announced size, capped). STAT, UTF8, QUIT and the end of a session.
 */
#include "autoconf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_int.h"
#include "pop3_parse.h"
#include "textclean.h"

/* ---- server text ----------------------------------------------------------- */

void
pop3i_copy_line(const struct pop3 *s, char *dst, size_t dstlen,
    const char *src, size_t len)
{
	pop3w_copy_line(s->tc, dst, dstlen, src, len);
}

const char *
pop3_quote(const struct pop3 *s, char *buf, size_t buflen, const char *src,
    size_t len)
{
	return pop3i_quote(s, buf, buflen, src, len);
}

/* Every piece of server text popfetch prints goes through here. */
const char *
pop3i_quote(const struct pop3 *s, char *buf, size_t buflen, const char *src,
    size_t len)
{
	textclean_line(buf, buflen, src, len, s->tc);
	return buf;
}

/* Map a RESP-CODE in "-ERR [CODE] text" to an exit code; 0 when none. */
int
pop3i_respcode_exit(const char *line)
{
	return line == NULL ? 0 : pop3_parse_respcode(line, strlen(line));
}

/* ---- multi-line replies ---------------------------------------------------- */

/* A listing, split into lines (CRLF stripped) for s->line_fn. */
static int
lines_emit(struct pop3 *s, const char *buf, size_t len, struct err *e)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && s->max_lines > 0 &&
		    ++s->nlines > s->max_lines)
			/* Empty lines count too: they cost time all the same. */
			return err_set(e, EX_PROTOCOL, "%s: more than %lu "
			    "lines for the %lu messages STAT counted",
			    s->lines_what, s->max_lines, s->stat_count);
		if (buf[i] == '\n') {
			size_t l = s->linelen;
			int rc;

			if (l > 0 && s->line[l - 1] == '\r')
				l--;
			s->line[l] = '\0';
			s->linelen = 0;
			if (l > 0 && (rc = s->line_fn(s, s->line, l, e)) != 0)
				return rc;
			continue;
		}
		if (s->lines_cut && ++s->cut_bytes > TOP_MAX_BYTES)
			return err_set(e, EX_PROTOCOL, "%s: more than %d bytes "
			    "of header lines", s->lines_what, TOP_MAX_BYTES);
		if (s->linelen + 1 >= sizeof(s->line)) {
			if (s->lines_cut)
				continue;   /* the rest of it is dropped */
			return err_set(e, EX_PROTOCOL, "listing line longer "
			    "than %zu bytes", sizeof(s->line));
		}
		s->line[s->linelen++] = buf[i];
	}
	return 0;
}

int
pop3i_body_deliver(struct pop3 *s, const char *buf, size_t len,
    struct err *e)
{
	if (len == 0)
		return 0;
	return s->body->write(s->body->arg, buf, len, e);
}

void
pop3i_body_start(struct pop3 *s, const struct pop3_msg *m)
{
	const char *p = s->last;
	unsigned long long n;

	/* "+OK 1234 octets" when the server says; else the LIST size. */
	s->started = true;
	s->expect = m->size;
	if (pop3_parse_octets(p, strlen(p), &n) == 0)
		s->expect = n;
	/*
	 * The cap: a body longer than announced is passed on (a server may
	 * count another form of the message), but not without end. Sizes
	 * counted with LF line ends while CRLF is sent are short by one
	 * byte a line, at most the announced size itself; small messages
	 * get BODY_SLACK_MIN. So: the larger of the two announcements, plus
	 * as much again, at least BODY_SLACK_MIN more.
	 */
	n = s->expect > m->size ? s->expect : m->size;
	s->cap = n > ULLONG_MAX / 2 - BODY_SLACK_MIN ? ULLONG_MAX :
	    n + (n > BODY_SLACK_MIN ? n : BODY_SLACK_MIN);
}

/* A RETR body, counted: up to the announced size bytes go straight
 * through; beyond it at most two are held back (a server that ends a
 * message lacking a final newline with an extra CRLF sends exactly
 * n+2); more than that means the size was a lie, and all is passed on,
 * up to the cap. */
static int
body_emit(struct pop3 *s, const char *buf, size_t len, struct err *e)
{
	unsigned long long room;
	size_t now;
	int rc;

	if (!s->started)
		pop3i_body_start(s, s->retr_msg);
	room = s->got < s->expect ? s->expect - s->got : 0;
	now = s->passthrough || room >= len ? len : (size_t)room;
	s->got += len;
	if (s->got > s->cap)
		/* Nothing of this message is kept (the store drops it when
		 * the body fails), and it is not deleted. The caller names
		 * the message. */
		return err_set(e, EX_PROTOCOL, "the server sent more than "
		    "%llu bytes for a message it announced as %llu bytes; "
		    "not stored", s->cap, s->expect > s->retr_msg->size ?
		    s->expect : s->retr_msg->size);
	if ((rc = pop3i_body_deliver(s, buf, now, e)) != 0)
		return rc;
	buf += now;
	len -= now;
	if (len == 0)
		return 0;
	if (s->nhold + len <= sizeof(s->hold)) {
		memcpy(s->hold + s->nhold, buf, len);
		s->nhold += len;
		return 0;
	}
	s->passthrough = true;
	if ((rc = pop3i_body_deliver(s, s->hold, s->nhold, e)) != 0 ||
	    (rc = pop3i_body_deliver(s, buf, len, e)) != 0)
		return rc;
	s->nhold = 0;
	return 0;
}

static int
emit(void *arg, const char *buf, size_t len, struct err *e)
{
	struct pop3 *s = arg;

	switch (s->wmode) {
	case W_LINES:
		return lines_emit(s, buf, len, e);
	case W_BODY:
		return body_emit(s, buf, len, e);
	default:
		return 0;
	}
}

/* ---- commands and replies -------------------------------------------------- */

static int
reply_error(struct pop3 *s, const char *what, bool login, struct err *e)
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
	int rc = pop3w_send(&s->w, cmd, secret, what, e);

	if (rc != 0)
		s->broken = true;
	return rc;
}

int
pop3i_raw_peek(struct pop3 *s, const char *what, struct err *e)
{
	int rc;

	pop3w_window_start(&s->w);
	if ((rc = pop3w_line(&s->w, s->last, sizeof(s->last), what, e)) != 0) {
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

	s->linelen = 0;
	pop3w_window_start(&s->w);
	if (s->peeked)
		s->peeked = false;   /* the status line is in s->last */
	else
		rc = pop3w_line(&s->w, s->last, sizeof(s->last), what, e);
	if (rc == 0) {
		char q[LINE_MAX_LEN];

		if (log_level() >= LOG_DEBUG)
			log_debug(s->account, "S: %s", pop3i_quote(s, q,
			    sizeof(q), s->last, strlen(s->last)));
		if (strncmp(s->last, "+OK", 3) != 0)
			rc = reply_error(s, what, login, e);
	}
	if (rc == 0 && wmode == W_BODY && !s->started)
		pop3i_body_start(s, s->retr_msg);
	if (rc == 0 && multiline) {
		s->wmode = wmode;
		rc = pop3w_multiline(&s->w, s->first_dot_data,
		    &s->first_dotdot, emit, s, what, e);
		s->wmode = W_DISCARD;
	}
	if (rc != 0)
		s->broken = true;
	return rc;
}

int
pop3i_raw_command(struct pop3 *s, const char *cmd, bool multiline,
    enum wmode wmode, const char *what, struct err *e)
{
	int rc = pop3i_raw_send(s, cmd, false, what, e);

	return rc != 0 ? rc : pop3i_raw_reply(s, multiline, wmode, what,
	    false, e);
}

/* ---- the session ----------------------------------------------------------- */

struct pop3 *
pop3i_session_new(const struct pop3_io *io, const char *account,
    struct textclean *tc, long timeout_ms)
{
	struct pop3 *s = xcalloc(1, sizeof(*s));

	s->account = account;
	s->tc = tc;
	pop3w_init(&s->w, io, account, tc, timeout_ms);
	return s;
}

/* UTF8's reply: a refusal changes nothing. */
static int
utf8_reply(struct pop3 *s, struct err *e)
{
	struct err ue;

	if (pop3i_raw_reply(s, false, W_DISCARD, "UTF8", false, &ue) == 0)
		return 0;
	if (s->broken && ue.code != EX_PROTOCOL) {
		*e = ue;
		return ue.code;
	}
	s->broken = false;
	log_debug(s->account, "%s (going on without it)", ue.msg);
	return 0;
}

/*
 * Logged in: UTF8 (RFC 6856) when offered, so the server sends messages
 * with 8-bit headers as they are rather than a substitute it made. Then
 * STAT. With PIPELINING, LIST and UIDL go out with them (their replies
 * wait for pop3_list and pop3_uidl): the inventory costs one round trip.
 */
int
pop3i_start(struct pop3 *s, unsigned long *count, unsigned long long *octets,
    struct err *e)
{
	bool ahead = s->capa_pipelining;
	int rc;

	if (ahead)
		pop3w_cork(&s->w);   /* flushed by the first read */
	if (s->capa_utf8 && ((rc = pop3i_raw_send(s, "UTF8", false, "UTF8",
	    e)) != 0 || (!ahead && (rc = utf8_reply(s, e)) != 0)))
		return rc;
	if ((rc = pop3i_raw_send(s, "STAT", false, "STAT", e)) != 0)
		return rc;
	if (ahead) {
		if ((rc = pop3i_raw_send(s, "LIST", false, "LIST", e)) != 0)
			return rc;
		s->list_ahead = true;
		if (pop3_has_uidl(s)) {
			if ((rc = pop3i_raw_send(s, "UIDL", false, "UIDL",
			    e)) != 0)
				return rc;
			s->uidl_ahead = true;
		}
		if (s->capa_utf8 && (rc = utf8_reply(s, e)) != 0)
			return rc;
	}
	if ((rc = pop3i_raw_reply(s, false, W_DISCARD, "STAT", false, e)) != 0)
		return rc;
	if (pop3_parse_stat(s->last, strlen(s->last), count, octets) != 0) {
		char q[LINE_MAX_LEN];

		s->broken = true;
		return err_set(e, EX_PROTOCOL, "STAT: unexpected reply \"%s\"",
		    pop3i_quote(s, q, sizeof(q), s->last, strlen(s->last)));
	}
	s->stat_count = *count;
	return 0;
}

bool
pop3_has_uidl(const struct pop3 *s)
{
	return s->capa_seen ? s->capa_uidl : true;
}

void
pop3_close(struct pop3 *s)
{
	if (s == NULL)
		return;
	if (s->h != NULL) {
		/* Cleanup sends QUIT when the connection looks alive; after
		 * a timeout or a stalled server, do not wait the whole
		 * response timeout a second time for its reply. */
		if (s->broken)
			curl_easy_setopt(s->h, CURLOPT_SERVER_RESPONSE_TIMEOUT,
			    1L);
		curl_easy_cleanup(s->h);
	}
	pop3w_free(&s->w);
	pop3_msgs_free(s->msgs, s->nmsgs);
	free(s->base_url);
	free(s->q);
	free(s->redo);
	textclean_free(s->tc);
	free(s);
}


void
pop3_set_tick(struct pop3 *s, void (*fn)(void *arg), void *arg)
{
	s->w.tick = fn;
	s->w.tick_arg = arg;
}
