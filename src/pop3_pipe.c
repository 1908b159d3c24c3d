/*
 * pop3_pipe.c - RETR and DELE. With PIPELINING in CAPA (RFC 2449) the
 * RETRs of the planned messages go out ahead of their replies, within a
 * window of commands and announced bytes, and DELEs likewise; without
 * it one command is outstanding at a time. Replies are matched to
 * commands by order. Here too: a first line whose dots the server did
 * not stuff (read again), and a body shorter than announced (a count of
 * another form of the message, or a lone "." first line that put the
 * rest of the message where replies belong).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_int.h"

/*
 * Fewer bytes than announced, the reply ended by its "." line. Either the
 * server counts another form of the message (the body is whole), or it
 * sent the message's first line, a lone ".", unstuffed (Dovecot 2.3 and
 * Courier do not stuff a first line): the reply then ended at once, and
 * the rest of the message is where the next reply belongs. A NOOP tells:
 * its reply is a status line only in the first case.
 */
static int
retr_short(struct pop3 *s, const char *what, struct pop3_retr_info *info,
    struct err *e)
{
	struct err probe;
	int rc;

	if (s->q != NULL && s->qhead != s->qtail) {
		/* Pipelined: the next reply's status line is the probe. */
		rc = pop3i_raw_peek(s, what, &probe);
		if (rc == 0 && (s->last[0] == '+' || s->last[0] == '-'))
			return 0;
		if (rc == 0)
			rc = EX_PROTOCOL;
	} else {
		rc = pop3i_raw_command(s, "NOOP", false, W_DISCARD, "NOOP",
		    &probe);
		if (rc == 0 || (rc == EX_PROTOCOL && (s->last[0] == '+' ||
		    s->last[0] == '-')))
			return 0;
	}
	if (rc != EX_PROTOCOL) {
		*e = probe;
		return rc;
	}
	info->lone_dot = true;
	return err_set(e, EX_PROTOCOL, "%s: the server sent %llu of %llu "
	    "bytes, then lines that are not replies: the message's first "
	    "line is a lone \".\", which this server does not dot-stuff, so "
	    "the message cannot be retrieved over POP3; not stored, left on "
	    "the server", what, s->got, s->expect);
}

/* Up to PIPE_MAX RETRs and PIPE_BYTES announced octets in flight; one at a
 * time without PIPELINING. */
#define PIPE_MAX 64
#define PIPE_BYTES (16ULL * 1024 * 1024)

void
pop3_retr_plan(struct pop3 *s, struct pop3_msg *const *msgs, size_t n)
{
	free(s->plan);
	s->plan = NULL;
	s->nplan = s->pnext = 0;
	if (n == 0)
		return;
	s->plan = xcalloc(n, sizeof(*s->plan));
	for (size_t i = 0; i < n; i++)
		s->plan[i] = msgs[i];
	s->nplan = n;
	free(s->q);
	s->q = xcalloc(n, sizeof(*s->q));
	s->qhead = s->qtail = 0;
	s->qbytes = 0;
}

/* Send RETR for one more planned message. */
static int
retr_send(struct pop3 *s, const struct pop3_msg *m, struct err *e)
{
	char what[48];

	snprintf(what, sizeof(what), "RETR %lu", m->num);
	s->q[s->qtail++] = m;
	s->qbytes += m->size;
	return pop3i_raw_send(s, what, false, what, e);
}

/* Keep the window full. */
static int
retr_top_up(struct pop3 *s, struct err *e)
{
	int rc;

	while (s->pnext < s->nplan) {
		size_t out = s->qtail - s->qhead;

		if (out > 0 && (!s->capa_pipelining || out >= PIPE_MAX ||
		    s->qbytes >= PIPE_BYTES))
			break;
		if ((rc = retr_send(s, s->plan[s->pnext++], e)) != 0)
			return rc;
	}
	return 0;
}

/* Read the reply of the oldest RETR in flight, msg's, into s->body. */
static int
retr_read(struct pop3 *s, const struct pop3_msg *msg, const char *what,
    struct err *e)
{
	s->retr_msg = msg;
	s->got = 0;
	s->nhold = 0;
	s->passthrough = false;
	s->started = false;
	s->qbytes -= msg->size;
	s->qhead++;
	return pop3i_raw_reply(s, true, W_BODY, what, false, e);
}

/*
 * The reply for msg: sent ahead when it was planned (pop3_retr_plan),
 * else now. Nothing else may be in flight then: replies come in order.
 */
static int
retr_next(struct pop3 *s, const struct pop3_msg *msg, const char *what,
    struct err *e)
{
	int rc;

	if (s->q == NULL || (s->qhead == s->qtail && (s->pnext >= s->nplan ||
	    s->plan[s->pnext] != msg))) {
		/* Not planned (or a second reading): alone on the wire. */
		if (s->q != NULL && s->qhead != s->qtail)
			return err_set(e, EX_SOFTWARE, "%s: replies pending",
			    what);
		if ((rc = pop3i_raw_send(s, what, false, what, e)) != 0)
			return rc;
		s->retr_msg = msg;
		s->got = 0;
		s->nhold = 0;
		s->passthrough = false;
		s->started = false;
		return pop3i_raw_reply(s, true, W_BODY, what, false, e);
	}
	if ((rc = retr_top_up(s, e)) != 0)
		return rc;
	if (s->qhead == s->qtail || s->q[s->qhead] != msg)
		return err_set(e, EX_SOFTWARE, "%s: not the next reply", what);
	return retr_read(s, msg, what, e);
}

static bool
in_flight(const struct pop3 *s)
{
	return s->q != NULL && s->qhead != s->qtail;
}

int
pop3_retr(struct pop3 *s, const struct pop3_msg *msg,
    const struct pop3_body *body, struct pop3_retr_info *info,
    struct err *e)
{
	char what[48];
	int rc;

	memset(info, 0, sizeof(*info));
	snprintf(what, sizeof(what), "RETR %lu", msg->num);
	s->body = body;
	/* A second reading asked for after info->again: its first line's
	 * dots are data. */
	for (size_t i = 0; i < s->nredo; i++) {
		if (s->redo[i] == msg->num) {
			s->redo[i] = s->redo[--s->nredo];
			s->first_dot_data = true;
			break;
		}
	}
	rc = retr_next(s, msg, what, e);
	s->first_dot_data = false;
	if (rc == 0 && s->first_dotdot && s->got + 1 == s->expect) {
		/* The first line's ".." lost a dot it should not have: this
		 * server does not stuff first lines. Read it again keeping
		 * them, now if nothing else is in flight, else later. */
		if (in_flight(s) || body->restart == NULL) {
			info->again = true;
			s->redo = xrealloc(s->redo, (s->nredo + 1) *
			    sizeof(*s->redo));
			s->redo[s->nredo++] = msg->num;
			goto out;
		}
		if ((rc = body->restart(body->arg, e)) != 0)
			goto out;
		s->first_dot_data = true;
		rc = retr_next(s, msg, what, e);
		s->first_dot_data = false;
	}
	if (rc == EX_TEMPFAIL && s->started && s->got < s->expect) {
		char why[sizeof(e->msg)];

		memcpy(why, e->msg, sizeof(why));
		rc = err_set(e, EX_TEMPFAIL, "%s: connection lost after "
		    "%llu of %llu bytes; message not stored (%s)", what,
		    s->got, s->expect, why);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (!s->started)
		pop3i_body_start(s, msg);
	if (s->got < s->expect) {
		if ((rc = retr_short(s, what, info, e)) != 0)
			goto out;
		info->shorter = true;
		info->announced = s->expect;
		info->received = s->got;
	}
	/* Held-back bytes beyond the announced size: a lone CRLF is the
	 * server's own line end for a message without one; anything else
	 * belongs to the message (s->body is still set for that). */
	if (s->nhold > 0 && !(s->nhold == 2 && s->hold[0] == '\r' &&
	    s->hold[1] == '\n')) {
		rc = pop3i_body_deliver(s, s->hold, s->nhold, e);
	}
out:
	s->body = NULL;
	return rc;
}

int
pop3_dele(struct pop3 *s, unsigned long num, struct err *e)
{
	return pop3_dele_many(s, &num, 1, e);
}

int
pop3_dele_many(struct pop3 *s, const unsigned long *nums, size_t n,
    struct err *e)
{
	char cmd[40];
	size_t sent = 0, read = 0;
	int rc = 0;

	/* With PIPELINING all go out, then the replies are read; else one
	 * at a time. */
	while (read < n && rc == 0) {
		while (sent < n && rc == 0 && (sent == read ||
		    (s->capa_pipelining && sent - read < PIPE_MAX))) {
			snprintf(cmd, sizeof(cmd), "DELE %lu", nums[sent++]);
			rc = pop3i_raw_send(s, cmd, false, cmd, e);
		}
		if (rc == 0) {
			snprintf(cmd, sizeof(cmd), "DELE %lu", nums[read++]);
			rc = pop3i_raw_reply(s, false, W_DISCARD, cmd, false, e);
		}
	}
	return rc;
}

