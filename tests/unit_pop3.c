/*
 * unit_pop3.c - the transaction engine (pop3.c, pop3_list.c,
 * pop3_pipe.c over pop3_wire.c) against scripted servers in memory,
 * through the same struct pop3_io seam libcurl's connection uses.
 *
 * A case is data: the dialogue the client must send (command lines, in
 * order) and the server's reply to each, the capabilities the login
 * showed, and what the client must get (the stored bytes of each message,
 * the error). Every case runs with the server's bytes handed over 1, 2,
 * 7 and 65536 at a time, so every split of a line, a dot, a CRLF is met.
 * The script server also checks pipelining: without PIPELINING a command
 * that arrives before the previous reply was read whole fails the case;
 * with it, the case can require several commands in flight at once.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "pop3_int.h"
#include "unit.h"

/* The inventory is what grows with the mailbox: 16 bytes a message. */
_Static_assert(sizeof(struct pop3_msg) == 16, "struct pop3_msg is 16 bytes");

#define MAXSTEPS 16
#define MAXMSGS 4

struct step {
	const char *cmd;     /* the line the client must send */
	const char *reply;   /* the server's bytes for it (NULL: made by
	                        main()) */
	bool loose;          /* the next command may come with bytes of
	                        this reply unread (the client cannot know
	                        they belong to it) */
};

struct scase {
	const char *name;
	bool pipelining, utf8;
	struct step steps[MAXSTEPS];
	/* Server behaviour after the last step: silence (AGAIN, a stall)
	 * unless closed. */
	bool close_at_end;
	/* The transaction: STAT, LIST, UIDL, then RETR of nretr messages
	 * (1..nretr, planned together), then DELE of ndele of them. */
	size_t nretr, ndele;
	bool dele_early;   /* DELE of message 1 right after its RETR, while
	                      the other RETRs are in flight */
	/* What must come out. */
	int want_rc;                     /* of the first failing call */
	const char *want_err;            /* a substring of its message */
	const char *want_body[MAXMSGS];  /* stored bytes, per message */
	bool want_shorter[MAXMSGS];
	bool want_lone_dot;              /* on the failing RETR */
	size_t want_inflight;            /* at least this many commands in
	                                    flight at once */
};

/* ---- the scripted server --------------------------------------------------- */

struct script {
	const struct scase *c;
	size_t nsteps;
	size_t chunk;
	char inbuf[4096];     /* client bytes not yet a whole line */
	size_t inlen;
	size_t cmds;          /* command lines received */
	char *out;            /* server bytes not yet read */
	size_t outlen, outpos;
	size_t replies_queued, replies_done;
	size_t max_inflight;
	char fail[512];
};

static void
script_fail(struct script *sc, const char *what, const char *line)
{
	if (sc->fail[0] == '\0')
		snprintf(sc->fail, sizeof(sc->fail), "%s \"%.200s\"", what,
		    line);
}

/* Bytes of queued replies already read count as replies done. */
static size_t
inflight(const struct script *sc)
{
	return sc->cmds - sc->replies_done;
}

static void
queue(struct script *sc, const char *bytes)
{
	size_t n = strlen(bytes);

	if (sc->outpos == sc->outlen)
		sc->outpos = sc->outlen = 0;
	sc->out = realloc(sc->out, sc->outlen + n + 1);
	memcpy(sc->out + sc->outlen, bytes, n);
	sc->outlen += n;
}

static int
sc_send(void *arg, const char *buf, size_t len, size_t *n)
{
	struct script *sc = arg;
	bool prev_loose;

	*n = len;
	for (size_t i = 0; i < len; i++) {
		if (sc->inlen + 1 >= sizeof(sc->inbuf)) {
			script_fail(sc, "command line too long", "");
			return POP3_IO_ERROR;
		}
		sc->inbuf[sc->inlen++] = buf[i];
		if (buf[i] != '\n')
			continue;
		if (sc->inlen < 2 || sc->inbuf[sc->inlen - 2] != '\r')
			script_fail(sc, "a command line without CRLF", "");
		sc->inbuf[sc->inlen > 1 ? sc->inlen - 2 : 0] = '\0';
		sc->inlen = 0;
		prev_loose = sc->cmds > 0 && sc->cmds <= sc->nsteps &&
		    sc->c->steps[sc->cmds - 1].loose;
		if (!sc->c->pipelining && sc->outpos < sc->outlen &&
		    !prev_loose)
			script_fail(sc, "sent before the previous reply was "
			    "read (no PIPELINING):", sc->inbuf);
		if (sc->cmds >= sc->nsteps) {
			script_fail(sc, "unexpected command", sc->inbuf);
			sc->cmds++;
			continue;
		}
		if (strcmp(sc->inbuf, sc->c->steps[sc->cmds].cmd) != 0) {
			char m[300];

			snprintf(m, sizeof(m), "want \"%.100s\", got",
			    sc->c->steps[sc->cmds].cmd);
			script_fail(sc, m, sc->inbuf);
		}
		queue(sc, sc->c->steps[sc->cmds].reply ?
		    sc->c->steps[sc->cmds].reply : "");
		sc->cmds++;
		if (!prev_loose && inflight(sc) > sc->max_inflight)
			sc->max_inflight = inflight(sc);
	}
	return POP3_IO_OK;
}

static int
sc_recv(void *arg, char *buf, size_t len, size_t *n)
{
	struct script *sc = arg;
	size_t k = sc->outlen - sc->outpos;

	*n = 0;
	if (k == 0) {
		if (sc->cmds >= sc->nsteps && sc->c->close_at_end)
			return POP3_IO_CLOSED;
		return POP3_IO_AGAIN;
	}
	if (k > sc->chunk)
		k = sc->chunk;
	if (k > len)
		k = len;
	memcpy(buf, sc->out + sc->outpos, k);
	sc->outpos += k;
	*n = k;
	if (sc->outpos == sc->outlen)
		sc->replies_done = sc->cmds;
	return POP3_IO_OK;
}

/* Nothing more will come unless the client sends: the wait "times out"
 * at once, which the wire reports as a stall. */
static int
sc_wait(void *arg, bool out, long long ms)
{
	struct script *sc = arg;

	(void)ms;
	return out || sc->outpos < sc->outlen ? 1 : 0;
}

static const char *
sc_error(void *arg)
{
	(void)arg;
	return "scripted failure";
}

/* ---- the client ------------------------------------------------------------ */

struct got {
	char *buf;
	size_t len;
	size_t restarts;
};

static int
got_write(void *arg, const char *buf, size_t len, struct err *e)
{
	struct got *g = arg;

	(void)e;
	g->buf = realloc(g->buf, g->len + len + 1);
	memcpy(g->buf + g->len, buf, len);
	g->len += len;
	g->buf[g->len] = '\0';
	return 0;
}

static int
got_restart(void *arg, struct err *e)
{
	struct got *g = arg;

	(void)e;
	g->len = 0;
	g->restarts++;
	return 0;
}

/* Run the transaction of c; check what came out. */
static void
run_case(const struct scase *c, size_t chunk)
{
	struct script sc = { 0 };
	struct pop3_io io = { sc_send, sc_recv, sc_wait, sc_error, &sc };
	struct got got[MAXMSGS] = { { 0 } };
	struct pop3_retr_info info[MAXMSGS];
	struct pop3_msg *msgs = NULL;
	struct strset *uidls = strset_new(0);
	size_t n = 0, i;
	unsigned long count = 0, nums[MAXMSGS];
	unsigned long long octets = 0;
	struct err e;
	struct pop3 *s;
	int rc;
	bool lone = false;

	sc.c = c;
	sc.chunk = chunk;
	while (sc.nsteps < MAXSTEPS && c->steps[sc.nsteps].cmd != NULL)
		sc.nsteps++;
	memset(info, 0, sizeof(info));
	err_clear(&e);
	s = pop3i_session_new(&io, "unit", NULL, 1000);
	s->capa_pipelining = c->pipelining;
	s->capa_utf8 = c->utf8;
	rc = pop3i_start(s, &count, &octets, &e);
	if (rc == 0)
		rc = pop3_list(s, &msgs, &n, &e);
	if (rc == 0 && n > 0)
		rc = pop3_uidl(s, msgs, n, uidls, &e);
	if (rc == 0 && n < c->nretr)
		rc = err_set(&e, EX_SOFTWARE, "case lists %zu messages", n);
	if (rc == 0)
		pop3_retr_plan(s, msgs, NULL, c->nretr);
	for (i = 0; rc == 0 && i < c->nretr; i++) {
		struct pop3_body body = { got_write, got_restart, &got[i] };

		rc = pop3_retr(s, &msgs[i], &body, &info[i], &e);
		if (rc == 0 && i == 0 && c->dele_early) {
			nums[0] = msgs[0].num;
			rc = pop3_dele_many(s, nums, 1, &e);
		}
		/* Read again alone, after the rest of the plan. */
		if (rc == 0 && info[i].again)
			got[i].len = 0;
		lone = lone || info[i].lone_dot;
	}
	for (i = 0; rc == 0 && i < c->nretr; i++) {
		struct pop3_body body = { got_write, got_restart, &got[i] };

		if (info[i].again)
			rc = pop3_retr(s, &msgs[i], &body, &info[i], &e);
	}
	if (rc == 0)
		pop3_retr_plan(s, NULL, NULL, 0);
	for (i = 0; i < c->ndele; i++)
		nums[i] = msgs[i].num;
	if (rc == 0 && c->ndele > 0 && !c->dele_early)
		rc = pop3_dele_many(s, nums, c->ndele, &e);
	if (rc == 0)
		rc = pop3_quit(s, &e);

	if (rc != c->want_rc || (c->want_err != NULL &&
	    strstr(e.msg, c->want_err) == NULL) || sc.fail[0] != '\0' ||
	    (c->want_rc == 0 && sc.cmds != sc.nsteps)) {
		unit_failures++;
		fprintf(stderr, "%s (chunk %zu): rc %d (want %d), \"%s\"%s%s;"
		    " %zu of %zu commands\n", c->name, chunk, rc, c->want_rc,
		    e.msg, sc.fail[0] ? "; server: " : "", sc.fail, sc.cmds,
		    sc.nsteps);
	}
	unit_checks++;
	for (i = 0; i < MAXMSGS; i++) {
		if (c->want_body[i] == NULL)
			continue;
		CHECK_MEM(got[i].buf ? got[i].buf : "", got[i].len,
		    c->want_body[i], strlen(c->want_body[i]));
		if (got[i].len != strlen(c->want_body[i]))
			fprintf(stderr, "  %s (chunk %zu) message %zu: \"%.*s\"\n",
			    c->name, chunk, i + 1, (int)got[i].len,
			    got[i].buf ? got[i].buf : "");
		CHECK(info[i].shorter == c->want_shorter[i]);
	}
	CHECK(lone == c->want_lone_dot);
	CHECK(sc.max_inflight >= c->want_inflight);
	if (!c->pipelining)
		CHECK(sc.max_inflight <= 1);
	pop3_msgs_free(msgs, n);
	strset_free(uidls);
	pop3_close(s);
	for (i = 0; i < MAXMSGS; i++)
		free(got[i].buf);
	free(sc.out);
}

/* ---- the cases ------------------------------------------------------------- */

/* Lines with "..", or a "." before the line end, in their middle, at
 * every offset from 1 to 8: a split of the reply just before such a dot
 * must not make it a line's first byte. */
#define MIDDOTS "x..z\r\ny.\r\nxx..z\r\nyy.\r\nxxx..z\r\nyyy.\r\nxxxx..z\r\nyyyy.\r\nxxxxx..z\r\nyyyyy.\r\nxxxxxx..z\r\nyyyyyy.\r\nxxxxxxx..z\r\nyyyyyyy.\r\nxxxxxxxx..z\r\nyyyyyyyy.\r\n"
#define STAT2 { "STAT", "+OK 2 20\r\n" }
#define LIST2 { "LIST", "+OK\r\n1 10\r\n2 10\r\n.\r\n" }
#define UIDL2 { "UIDL", "+OK\r\n1 a\r\n2 b\r\n.\r\n" }
#define QUIT { "QUIT", "+OK bye\r\n" }

static const struct scase cases[] = {
	{
		.name = "one at a time",
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 11 octets\r\nA: 1\r\n\r\nx\r\n.\r\n" },
		    { "RETR 2", "+OK\r\nB: 2\r\n\r\n.\r\n" },
		    { "NOOP", "+OK\r\n" },
		    { "DELE 1", "+OK\r\n" }, { "DELE 2", "+OK\r\n" }, QUIT },
		.nretr = 2, .ndele = 2,
		.want_body = { "A: 1\r\n\r\nx\r\n", "B: 2\r\n\r\n" },
		/* The second announced 10 (LIST), sent 8, reply ended: */
		.want_shorter = { false, true },
	},
	{
		.name = "pipelined window",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK\r\n12345678\r\n.\r\n" },
		    { "RETR 2", "+OK\r\nabcdefgh\r\n.\r\n" },
		    { "DELE 1", "+OK\r\n" }, { "DELE 2", "+OK\r\n" }, QUIT },
		.nretr = 2, .ndele = 2,
		.want_body = { "12345678\r\n", "abcdefgh\r\n" },
		.want_inflight = 2,
	},
	{
		.name = "a DELE behind RETRs in flight",
		.pipelining = true, .dele_early = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK\r\n12345678\r\n.\r\n" },
		    { "RETR 2", "+OK\r\nabcdefgh\r\n.\r\n" },
		    { "DELE 1", "+OK\r\n" }, QUIT },
		.nretr = 2,
		.want_body = { "12345678\r\n", "abcdefgh\r\n" },
		.want_inflight = 2,
	},
	{
		.name = "a DELE refused behind RETRs: found at QUIT",
		.pipelining = true, .dele_early = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK\r\n12345678\r\n.\r\n" },
		    { "RETR 2", "+OK\r\nabcdefgh\r\n.\r\n" },
		    { "DELE 1", "-ERR no\r\n" } },
		.nretr = 2,
		.want_rc = EX_PROTOCOL, .want_err = "DELE 1: server said",
		.want_body = { "12345678\r\n", "abcdefgh\r\n" },
	},
	{
		.name = "dots: stuffed, unstuffed first line, terminator",
		.steps = { STAT2, LIST2, UIDL2,
		    /* A server that stuffs: "..a" is ".a"; a middle "..." is
		     * ".."; ".b" mid-body is data as sent. */
		    { "RETR 1", "+OK 15 octets\r\n..a\r\n...\r\n.b\r\nc\r\n.\r\n" },
		    /* Dovecot 2.3: the first line ".x" not stuffed. */
		    { "RETR 2", "+OK 10 octets\r\n.xyzabcd\r\n.\r\n" },
		    QUIT },
		.nretr = 2,
		.want_body = { ".a\r\n..\r\n.b\r\nc\r\n", ".xyzabcd\r\n" },
		.want_shorter = { false, false },
	},
	{
		.name = "dots in the middle of lines, across every split",
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 170 octets\r\nx.x.x.x\r\n.y.y.y\r\n...w.w\r\n"
		    MIDDOTS "z.z.z.z.\r\n.\r\n" },
		    QUIT },
		.nretr = 1,
		.want_body = { "x.x.x.x\r\n.y.y.y\r\n..w.w\r\n" MIDDOTS
		    "z.z.z.z.\r\n" },
	},
	{
		.name = "dots: first line \"..\" the server did not stuff",
		.steps = { STAT2, LIST2, UIDL2,
		    /* 10 announced: "..abcdef\r\n" is 10 bytes as stored;
		     * unstuffed it counts 9, so it is read again. */
		    { "RETR 1", "+OK 10 octets\r\n..abcdef\r\n.\r\n" },
		    { "RETR 1", "+OK 10 octets\r\n..abcdef\r\n.\r\n" },
		    QUIT },
		.nretr = 1,
		.want_body = { "..abcdef\r\n" },
	},
	{
		.name = "dots: first line \"..\", pipelined: read again last",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 10 octets\r\n..abcdef\r\n.\r\n" },
		    { "RETR 2", "+OK\r\n12345678\r\n.\r\n" },
		    { "RETR 1", "+OK 10 octets\r\n..abcdef\r\n.\r\n" },
		    QUIT },
		.nretr = 2,
		.want_body = { "..abcdef\r\n", "12345678\r\n" },
	},
	{
		.name = "lone dot first line",
		.steps = { STAT2, LIST2, UIDL2,
		    /* ".\r\n" unstuffed ends the reply; the rest of the
		     * message comes where NOOP's reply belongs. */
		    { "RETR 1", "+OK 10 octets\r\n.\r\nrest12\r\n.\r\n",
		    true },
		    { "NOOP", "" } },
		.nretr = 1,
		.want_rc = EX_PROTOCOL, .want_err = "lone \".\"",
		.want_lone_dot = true,
	},
	{
		/* The line after the lone "." looks like a status to a
		 * careless eye: "-" and "+" starting body lines are not. */
		.name = "lone dot first line, then a MIME boundary",
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 10 octets\r\n.\r\n--b1\r\n.\r\n",
		    true },
		    { "NOOP", "" } },
		.nretr = 1,
		.want_rc = EX_PROTOCOL, .want_err = "lone \".\"",
		.want_lone_dot = true,
	},
	{
		.name = "lone dot first line, pipelined, then \"+1 555\"",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 10 octets\r\n.\r\n+1 555 0100\r\n.\r\n" },
		    { "RETR 2", "+OK\r\n12345678\r\n.\r\n" } },
		.nretr = 2,
		.want_rc = EX_PROTOCOL, .want_err = "lone \".\"",
		.want_lone_dot = true,
	},
	{
		.name = "lone dot first line, pipelined",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 10 octets\r\n.\r\nrest12\r\n.\r\n" },
		    { "RETR 2", "+OK\r\n12345678\r\n.\r\n" } },
		.nretr = 2,
		.want_rc = EX_PROTOCOL, .want_err = "lone \".\"",
		.want_lone_dot = true,
	},
	{
		.name = "extra CRLF beyond the count is the server's",
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 3 octets\r\nabc\r\n.\r\n" },
		    QUIT },
		.nretr = 1,
		.want_body = { "abc" },
	},
	{
		.name = "-ERR in the middle of a window",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK\r\n12345678\r\n.\r\n" },
		    { "RETR 2", "-ERR [SYS/TEMP] busy\r\n" } },
		.nretr = 2,
		.want_rc = EX_TEMPFAIL, .want_err = "RETR 2: server said",
		.want_body = { "12345678\r\n" },
	},
	{
		.name = "connection closed inside a body",
		.close_at_end = true,
		.steps = { STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK 10 octets\r\n1234" } },
		.nretr = 1,
		.want_rc = EX_TEMPFAIL,
		.want_err = "connection lost after 4 of 10 bytes",
	},
	{
		.name = "a stall",
		.steps = { STAT2, LIST2, UIDL2, { "RETR 1", "+OK\r\n12" } },
		.nretr = 1,
		.want_rc = EX_TEMPFAIL, .want_err = "after 2 of 10 bytes; message "
		    "not stored (RETR 1: server too slow",
	},
	{
		.name = "a status line without end",
		.steps = { { "STAT", NULL } },
		.want_rc = EX_PROTOCOL, .want_err = "longer than 65535 bytes",
	},
	{
		/* Kept cut to 1023 bytes and "...", whether it arrives in
		 * pieces or in one read. */
		.name = "a long status line",
		.steps = { { "STAT", NULL } },
		.want_rc = EX_PROTOCOL,
		.want_err = "STAT: server said \"-ERR zzzzzzzzzz",
	},
	{
		.name = "a listing longer than STAT allows",
		.steps = { { "STAT", "+OK 0 0\r\n" },
		    /* 0 + LIST_SLACK lines allowed: filled in by main(). */
		    { "LIST", NULL } },
		.want_rc = EX_PROTOCOL, .want_err = "more than 1000 lines",
	},
	{
		.name = "a body beyond its cap",
		.steps = { STAT2, LIST2, UIDL2, { "RETR 1", NULL } },
		.nretr = 1,
		.want_rc = EX_PROTOCOL, .want_err = "more than 65546 bytes",
	},
	{
		.name = "UTF8 when offered",
		.utf8 = true,
		.steps = { { "UTF8", "+OK\r\n" }, STAT2, LIST2, UIDL2, QUIT },
	},
	{
		.name = "pipelined: the inventory in one round trip",
		.pipelining = true, .utf8 = true,
		.steps = { { "UTF8", "+OK\r\n" }, STAT2, LIST2, UIDL2,
		    { "RETR 1", "+OK\r\n12345678\r\n.\r\n" }, QUIT },
		.nretr = 1,
		.want_body = { "12345678\r\n" },
		.want_inflight = 4,
	},
	{
		.name = "pipelined: an empty mailbox",
		.pipelining = true,
		.steps = { { "STAT", "+OK 0 0\r\n" },
		    { "LIST", "+OK\r\n.\r\n" },
		    { "UIDL", "+OK\r\n.\r\n" }, QUIT },
		.want_inflight = 3,
	},
	{
		.name = "pipelined: UTF8 refused, the rest goes on",
		.pipelining = true, .utf8 = true,
		.steps = { { "UTF8", "-ERR no\r\n" }, STAT2, LIST2, UIDL2,
		    QUIT },
		.want_inflight = 4,
	},
	{
		.name = "UTF8 refused changes nothing",
		.utf8 = true,
		.steps = { { "UTF8", "-ERR no\r\n" }, STAT2, LIST2, UIDL2, QUIT },
	},
	{
		.name = "a DELE refused",
		.pipelining = true,
		.steps = { STAT2, LIST2, UIDL2, { "DELE 1", "+OK\r\n" },
		    { "DELE 2", "-ERR [IN-USE] no\r\n" } },
		.ndele = 2,
		.want_rc = EX_TEMPFAIL, .want_err = "DELE 2: server said",
	},
};

static void
count_line(void *arg, const char *line, size_t len)
{
	(void)line, (void)len;
	(*(size_t *)arg)++;
}

/* TOP n 0: many header lines are fine (no cap by STAT's count), an
 * endless line is not (a byte cap). */
static void
test_top(void)
{
	struct scase c = { .name = "TOP" };
	struct script sc = { 0 };
	struct pop3_io io = { sc_send, sc_recv, sc_wait, sc_error, &sc };
	char *many = malloc(1500 * 12 + 64), *endless = malloc(1100 * 1024);
	unsigned long count;
	unsigned long long octets;
	size_t lines = 0;
	struct err e;
	struct pop3 *s;

	strcpy(many, "+OK\r\n");
	for (int i = 0; i < 1500; i++)
		strcat(many, "X-Long: a\r\n");
	strcat(many, "\r\n.\r\n");
	strcpy(endless, "+OK\r\n");
	memset(endless + 5, 'z', 1100 * 1024 - 6);
	endless[1100 * 1024 - 1] = '\0';
	c.steps[0] = (struct step){ "STAT", "+OK 1 10\r\n", false };
	c.steps[1] = (struct step){ "TOP 1 0", many, false };
	c.steps[2] = (struct step){ "TOP 1 0", endless, false };
	c.close_at_end = true;
	sc.c = &c;
	sc.nsteps = 3;
	sc.chunk = 65536;
	err_clear(&e);
	s = pop3i_session_new(&io, "unit", NULL, 1000);
	CHECK(pop3i_start(s, &count, &octets, &e) == 0);
	CHECK(pop3_top(s, 1, count_line, &lines, &e) == 0);
	CHECK(lines == 1500);
	CHECK(pop3_top(s, 1, count_line, &lines, &e) == EX_PROTOCOL);
	CHECK(strstr(e.msg, "more than 1048576 bytes of header lines") !=
	    NULL);
	pop3_close(s);
	free(sc.out);
	free(many);
	free(endless);
}

int
main(void)
{
	static const size_t chunks[] = { 1, 2, 7, 65536 };
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	struct scase *cs = calloc(ncases, sizeof(*cs));
	char *lines = malloc(1002 * 5 + 16), *big = malloc(80 * 1024);
	char *longline = malloc(1200), *endless = malloc(70010);

	/* The generated replies. */
	memcpy(cs, cases, ncases * sizeof(*cs));
	strcpy(lines, "+OK\r\n");
	for (int i = 1; i <= 1001; i++)
		strcat(lines, "\r\n");
	strcat(lines, ".\r\n");
	strcpy(big, "+OK 10 octets\r\n");
	memset(big + strlen(big), 'y', 70 * 1024);
	big[15 + 70 * 1024] = '\0';
	strcat(big, "\r\n.\r\n");
	strcpy(longline, "-ERR ");
	memset(longline + 5, 'z', 1100);
	strcpy(longline + 1105, "\r\n");
	strcpy(endless, "+OK ");
	memset(endless + 4, 'x', 70000);
	endless[70004] = '\0';
	for (size_t k = 0; k < ncases; k++) {
		for (size_t j = 0; j < MAXSTEPS && cs[k].steps[j].cmd; j++) {
			if (cs[k].steps[j].reply != NULL)
				continue;
			cs[k].steps[j].reply =
			    strcmp(cs[k].steps[j].cmd, "LIST") == 0 ? lines :
			    strstr(cs[k].name, "without end") ? endless :
			    strcmp(cs[k].steps[j].cmd, "STAT") == 0 ? longline :
			    big;
		}
	}
	for (size_t k = 0; k < ncases; k++)
		for (size_t j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++)
			run_case(&cs[k], chunks[j]);
	test_top();
	free(cs);
	free(lines);
	free(big);
	free(longline);
	free(endless);
	return unit_done("unit_pop3");
}
