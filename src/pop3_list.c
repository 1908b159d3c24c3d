/*
 * pop3_list.c - LIST and UIDL: the inventory of the session, with every
 * line checked (pop3_parse.c) and the number of lines capped by STAT's
 * count.
 */
#include "autoconf.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_int.h"
#include "pop3_parse.h"

void
pop3_msgs_free(struct pop3_msg *msgs, size_t n)
{
	(void)n;
	free(msgs);
}

/* A listing's lines are capped by STAT's count (RFC 1939 locks the
 * maildrop for the session), with slack for servers that show a few more:
 * a server sending lines without end must not grow the message array (or
 * hold the account's lock) for as long as it likes. */
static void
lines_cap(struct pop3 *s, const char *what)
{
	s->nlines = 0;
	s->lines_what = what;
	s->max_lines = s->stat_count > ULONG_MAX - LIST_SLACK ? ULONG_MAX :
	    s->stat_count + LIST_SLACK;
}

static int
list_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	unsigned long num;
	unsigned long long size;
	char q[QUOTE_LEN];

	if (pop3_parse_list(line, len, &num, &size) != 0)
		return err_set(e, EX_PROTOCOL, "LIST: unexpected line \"%s\"",
		    pop3i_quote(s, q, sizeof(q), line, len));
	if (num > UINT_MAX)
		return err_set(e, EX_PROTOCOL, "LIST: message number too large "
		    "in \"%s\"", pop3i_quote(s, q, sizeof(q), line, len));
	if (s->nmsgs > 0 && num <= s->msgs[s->nmsgs - 1].num)
		return err_set(e, EX_PROTOCOL, "LIST: message numbers out of "
		    "order at \"%s\"", pop3i_quote(s, q, sizeof(q), line, len));
	if (s->nmsgs == s->capmsgs) {
		/* STAT's count first (bounded: it is the server's word), so
		 * a listing as long as STAT said is one allocation. */
		if (s->capmsgs == 0)
			s->capmsgs = s->stat_count < 64 ? 64 :
			    s->stat_count > (1UL << 20) ? (1UL << 20) :
			    s->stat_count;
		else
			s->capmsgs *= 2;
		/* Past what size_t can count (a 32-bit build): as out of
		 * memory, never a wrapped size. */
		if (s->capmsgs > SIZE_MAX / sizeof(*s->msgs))
			s->capmsgs = SIZE_MAX / sizeof(*s->msgs);
		s->msgs = xrealloc(s->msgs, s->capmsgs * sizeof(*s->msgs));
	}
	s->msgs[s->nmsgs].num = (unsigned)num;
	s->msgs[s->nmsgs].size = size;
	s->msgs[s->nmsgs].uidl = 0;
	s->nmsgs++;
	return 0;
}

int
pop3_list(struct pop3 *s, struct pop3_msg **msgs, size_t *n, struct err *e)
{
	int rc;

	s->msgs = NULL;
	s->nmsgs = s->capmsgs = 0;
	s->line_fn = list_line;
	lines_cap(s, "LIST");
	if (s->list_ahead) {
		s->list_ahead = false;
		rc = pop3i_raw_reply(s, true, W_LINES, "LIST", false, e);
	} else
		rc = pop3i_raw_command(s, "LIST", true, W_LINES, "LIST", e);
	s->max_lines = 0;
	if (rc == 0 && s->nmsgs == 0 && s->uidl_ahead)
		/* Nothing to match it with: no pop3_uidl will come. */
		rc = pop3_uidl(s, NULL, 0, NULL, e);
	if (rc != 0) {
		pop3_msgs_free(s->msgs, s->nmsgs);
		s->msgs = NULL;
		return rc;
	}
	*msgs = s->msgs;
	*n = s->nmsgs;
	s->msgs = NULL;
	return 0;
}

static struct pop3_msg *
find_msg(struct pop3_msg *msgs, size_t n, unsigned long num)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (msgs[mid].num == num)
			return &msgs[mid];
		if (msgs[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
uidl_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	const char *uidl;
	size_t ulen;
	unsigned long num;
	struct pop3_msg *m;
	char q[QUOTE_LEN];

	if (pop3_parse_uidl(line, len, &num, &uidl, &ulen) != 0)
		return err_set(e, EX_PROTOCOL, "UIDL: unexpected line "
		    "\"%s\"", pop3i_quote(s, q, sizeof(q), line, len));
	m = find_msg(s->msgs, s->nmsgs, num);
	if (m == NULL)
		return 0;   /* not in LIST: arrived since; ignore this run */
	if (m->uidl != 0)
		return err_set(e, EX_PROTOCOL, "UIDL: message %lu listed "
		    "twice", num);
	/* Byte for byte (RFC 1939 says 0x21-0x7e, but servers differ; the
	 * state file escapes whatever comes), kept once in the set. */
	m->uidl = strset_add(s->uidls, uidl, ulen, NULL);
	return 0;
}

int
pop3_uidl(struct pop3 *s, struct pop3_msg *msgs, size_t n,
    struct strset *uidls, struct err *e)
{
	int rc;

	s->msgs = msgs;
	s->uidls = uidls;
	s->nmsgs = n;
	s->line_fn = uidl_line;
	lines_cap(s, "UIDL");
	if (s->uidl_ahead) {
		s->uidl_ahead = false;
		rc = pop3i_raw_reply(s, true, W_LINES, "UIDL", false, e);
	} else
		rc = pop3i_raw_command(s, "UIDL", true, W_LINES, "UIDL", e);
	s->max_lines = 0;
	s->msgs = NULL;
	s->nmsgs = 0;
	s->uidls = NULL;
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].uidl == 0)
			return err_set(e, EX_PROTOCOL, "UIDL did not list "
			    "message %u that LIST showed", msgs[i].num);
	}
	return 0;
}


bool
pop3_has_top(const struct pop3 *s)
{
	return s->capa_top;
}

static int
top_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	(void)e;
	s->top_fn(s->top_arg, line, len);
	return 0;
}

int
pop3_top(struct pop3 *s, unsigned long num,
    void (*fn)(void *arg, const char *line, size_t len), void *arg,
    struct err *e)
{
	char cmd[48];
	int rc;

	snprintf(cmd, sizeof(cmd), "TOP %lu 0", num);
	s->line_fn = top_line;
	s->top_fn = fn;
	s->top_arg = arg;
	s->lines_cut = true;
	s->cut_bytes = 0;
	lines_cap(s, "TOP");
	/* Bounded by bytes (TOP_MAX_BYTES), not by STAT's count: a header
	 * section may have many lines. */
	s->max_lines = 0;
	rc = pop3i_raw_command(s, cmd, true, W_LINES, cmd, e);
	s->max_lines = 0;
	s->lines_cut = false;
	return rc;
}
