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

/* A status line, "+OK" or "-ERR" as a word: a line of a message body
 * ("--boundary", "+1 555") must not pass for one. */
static bool
is_status(const char *l)
{
	return (strncmp(l, "+OK", 3) == 0 && (l[3] == ' ' || l[3] == '\0')) ||
	    (strncmp(l, "-ERR", 4) == 0 && (l[4] == ' ' || l[4] == '\0'));
}

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

	if (s->qhead != s->qtail) {
		/* Pipelined: the next reply's status line is the probe. */
		rc = pop3i_raw_peek(s, what, &probe);
		if (rc == 0 && is_status(s->last))
			return 0;
		if (rc == 0)
			rc = EX_PROTOCOL;
	} else {
		rc = pop3i_raw_command(s, "NOOP", false, W_DISCARD, "NOOP",
		    &probe);
		if ((rc == 0 || rc == EX_PROTOCOL) && is_status(s->last))
			return 0;
		if (rc == 0)
			rc = EX_PROTOCOL;
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

/* Up to PIPE_MAX RETRs and PIPE_BYTES announced octets in flight, and up
 * to PIPE_MAX DELEs; one command at a time without PIPELINING. */
#define PIPE_MAX 64
#define PIPE_BYTES (16ULL * 1024 * 1024)

static bool
in_flight(const struct pop3 *s)
{
	return s->qhead != s->qtail;
}

/* Note a command sent: its reply comes after those already in q. */
static void
q_push(struct pop3 *s, const struct pop3_msg *m, unsigned long dele)
{
	if (s->qhead == s->qtail)
		s->qhead = s->qtail = 0;
	if (s->qtail == s->qcap && s->qhead > 0) {
		memmove(s->q, s->q + s->qhead,
		    (s->qtail - s->qhead) * sizeof(*s->q));
		s->qtail -= s->qhead;
		s->qhead = 0;
	}
	if (s->qtail == s->qcap) {
		s->qcap = s->qcap == 0 ? 2 * PIPE_MAX : 2 * s->qcap;
		s->q = xrealloc(s->q, s->qcap * sizeof(*s->q));
	}
	s->q[s->qtail].msg = m;
	s->q[s->qtail++].dele = dele;
	if (m != NULL) {
		s->qretr++;
		s->qbytes += m->size;
	} else
		s->qdele++;
}

/* pnext at the next planned message (or nplan). */
static void
plan_skip(struct pop3 *s)
{
	while (s->pnext < s->nplan && s->take != NULL && !s->take[s->pnext])
		s->pnext++;
}

void
pop3_retr_plan(struct pop3 *s, const struct pop3_msg *msgs,
    const unsigned char *take, size_t n)
{
	s->plan = n > 0 ? msgs : NULL;
	s->take = n > 0 ? take : NULL;
	s->nplan = n;
	s->pnext = 0;
	plan_skip(s);
}

/* Send RETR for one more planned message. */
static int
retr_send(struct pop3 *s, const struct pop3_msg *m, struct err *e)
{
	char what[48];

	snprintf(what, sizeof(what), "RETR %u", m->num);
	q_push(s, m, 0);
	return pop3i_raw_send(s, what, false, what, e);
}

/* Keep the window full. */
static int
retr_top_up(struct pop3 *s, struct err *e)
{
	int rc = 0;

	/* The RETRs of one top-up go out in one write. */
	if (s->capa_pipelining)
		pop3w_cork(&s->w);
	while (s->pnext < s->nplan) {
		if (in_flight(s) && (!s->capa_pipelining ||
		    s->qretr >= PIPE_MAX || s->qbytes >= PIPE_BYTES))
			break;
		rc = retr_send(s, &s->plan[s->pnext++], e);
		plan_skip(s);
		if (rc != 0)
			break;
	}
	if (s->capa_pipelining) {
		struct err fe;

		if (pop3w_flush(&s->w, "RETR", rc == 0 ? e : &fe) != 0 &&
		    rc == 0) {
			s->broken = true;
			rc = e->code;
		}
	}
	return rc;
}

int
pop3_retr_ahead(struct pop3 *s, struct err *e)
{
	if (!s->capa_pipelining)
		return 0;
	return retr_top_up(s, e);
}

/* Read the replies of the DELEs at the head of q: the first -ERR ends
 * it (the session is over, as for any failed command). */
static int
dele_read(struct pop3 *s, struct err *e)
{
	char what[40];
	int rc;

	while (in_flight(s) && s->q[s->qhead].msg == NULL) {
		snprintf(what, sizeof(what), "DELE %lu", s->q[s->qhead].dele);
		s->qhead++;
		s->qdele--;
		rc = pop3i_raw_reply(s, false, W_DISCARD, what, false, e);
		if (rc != 0)
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
	s->qretr--;
	s->qhead++;
	return pop3i_raw_reply(s, true, W_BODY, what, false, e);
}

/* The first RETR in flight, or NULL. */
static const struct pop3_msg *
retr_oldest(const struct pop3 *s)
{
	for (size_t i = s->qhead; s->qretr > 0 && i < s->qtail; i++)
		if (s->q[i].msg != NULL)
			return s->q[i].msg;
	return NULL;
}

/*
 * The reply for msg: sent ahead when it was planned (pop3_retr_plan),
 * else now. Replies come in order: those of DELEs sent before it are
 * read first (a failure sets *dele_failed); a message asked for out of
 * plan goes alone, once nothing else is in flight.
 */
static int
retr_next(struct pop3 *s, const struct pop3_msg *msg, const char *what,
    bool *dele_failed, struct err *e)
{
	const struct pop3_msg *oldest = retr_oldest(s);
	bool planned = oldest != NULL ? oldest == msg :
	    s->pnext < s->nplan && &s->plan[s->pnext] == msg;
	int rc;

	if (planned && (rc = retr_top_up(s, e)) != 0)
		return rc;
	if ((rc = dele_read(s, e)) != 0) {
		*dele_failed = true;
		return rc;
	}
	if (!planned) {
		/* Not planned (or a second reading): alone on the wire. */
		if (in_flight(s))
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
	if (!in_flight(s) || s->q[s->qhead].msg != msg)
		return err_set(e, EX_SOFTWARE, "%s: not the next reply", what);
	return retr_read(s, msg, what, e);
}

int
pop3_retr(struct pop3 *s, const struct pop3_msg *msg,
    const struct pop3_body *body, struct pop3_retr_info *info,
    struct err *e)
{
	char what[48];
	int rc;

	memset(info, 0, sizeof(*info));
	snprintf(what, sizeof(what), "RETR %u", msg->num);
	s->body = body;
	/* A failure before this message's reply is read must not report
	 * the previous message's counts. */
	s->started = false;
	s->got = s->expect = 0;
	/* A second reading asked for after info->again: its first line's
	 * dots are data. */
	for (size_t i = 0; i < s->nredo; i++) {
		if (s->redo[i] == msg->num) {
			s->redo[i] = s->redo[--s->nredo];
			s->first_dot_data = true;
			break;
		}
	}
	rc = retr_next(s, msg, what, &info->dele_failed, e);
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
		rc = retr_next(s, msg, what, &info->dele_failed, e);
		s->first_dot_data = false;
	}
	if (rc == EX_TEMPFAIL && !info->dele_failed && s->started &&
	    s->got < s->expect) {
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
	int rc;

	for (size_t i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "DELE %lu", nums[i]);
		if (!s->capa_pipelining) {
			/* One at a time: nothing else is ever in flight. */
			if (in_flight(s))
				return err_set(e, EX_SOFTWARE, "%s: replies "
				    "pending", cmd);
			rc = pop3i_raw_command(s, cmd, false, W_DISCARD, cmd,
			    e);
			if (rc != 0)
				return rc;
			continue;
		}
		/* The replies are read later (before the next RETR's, or at
		 * QUIT); past the window, those that lead the queue now
		 * (reading flushes what is corked first). */
		if (s->qdele >= PIPE_MAX && (rc = dele_read(s, e)) != 0)
			return rc;
		q_push(s, NULL, nums[i]);
		pop3w_cork(&s->w);
		if ((rc = pop3i_raw_send(s, cmd, false, cmd, e)) != 0)
			return rc;
	}
	if (s->capa_pipelining && (rc = pop3w_flush(&s->w, "DELE", e)) != 0) {
		s->broken = true;
		return rc;
	}
	return 0;
}

int
pop3_quit(struct pop3 *s, struct err *e)
{
	int rc;

	/* Every DELE's reply first: QUIT's +OK confirms accepted ones. */
	if ((rc = dele_read(s, e)) != 0)
		return rc;
	if (in_flight(s))
		return err_set(e, EX_SOFTWARE, "QUIT: a RETR reply is pending");
	return pop3i_raw_command(s, "QUIT", false, W_DISCARD, "QUIT", e);
}

