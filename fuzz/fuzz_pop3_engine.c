/*
 * fuzz_pop3_engine.c - the transaction engine (pop3.c, pop3_list.c,
 * pop3_pipe.c over pop3_wire.c) talking to a server that says whatever
 * the fuzzer likes: the input is the server's byte stream after the
 * login, whatever the client sends. The engine runs a whole transaction
 * (STAT, LIST, UIDL, RETR of every listed message with a plan, a second
 * reading where asked, DELE, QUIT) and must end (the stream ends with
 * the connection closed), without a crash, a leak or a hang, and:
 *   - come to the same result, byte for byte, whether the server's bytes
 *     arrive in the chunks the first byte picks or in 64 KB reads
 *     (differential);
 *   - never pass on a byte the server did not send: every run of bytes
 *     the body writer gets occurs in the input;
 *   - never more body bytes in all than the input holds;
 *   - a message reported whole (0, not shorter) came with at least its
 *     announced byte count.
 *
 * Input layout:
 *   byte 0   bit 0: CAPA listed PIPELINING; bit 1: UTF8; bits 2-7: the
 *            largest read the transport hands over, 1 + (bits * 7)
 *   the rest the server's bytes
 */
#include "autoconf.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <string.h>

#include "fuzz.h"
#include "pop3_int.h"

const char fuzz_name[] = "pop3_engine";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

struct stream {
	const char *in;
	size_t len, pos, chunk;
};

static int
f_send(void *arg, const char *buf, size_t len, size_t *n)
{
	(void)arg, (void)buf;
	*n = len;
	return POP3_IO_OK;
}

static int
f_recv(void *arg, char *buf, size_t len, size_t *n)
{
	struct stream *st = arg;
	size_t k = st->len - st->pos;

	*n = 0;
	if (k == 0)
		return POP3_IO_CLOSED;
	if (k > st->chunk)
		k = st->chunk;
	if (k > len)
		k = len;
	memcpy(buf, st->in + st->pos, k);
	st->pos += k;
	*n = k;
	return POP3_IO_OK;
}

static int
f_wait(void *arg, bool out, long long ms)
{
	(void)arg, (void)out, (void)ms;
	fuzz_fail("the engine waited although the stream never says AGAIN");
}

static const char *
f_error(void *arg)
{
	(void)arg;
	return "fuzz";
}

struct body {
	const struct stream *st;
	size_t total, msg;
	char *log;          /* every body byte, and a mark per message */
	size_t loglen, logcap;
};

static void
log_add(struct body *b, const char *p, size_t n)
{
	if (b->loglen + n > b->logcap) {
		b->logcap = (b->loglen + n) * 2 + 64;
		b->log = realloc(b->log, b->logcap);
		if (b->log == NULL)
			fuzz_fail("out of memory");
	}
	memcpy(b->log + b->loglen, p, n);
	b->loglen += n;
}

static int
b_write(void *arg, const char *buf, size_t len, struct err *e)
{
	struct body *b = arg;

	(void)e;
	if (len == 0)
		fuzz_fail("body write of 0 bytes");
	if (memmem(b->st->in, b->st->len, buf, len) == NULL)
		fuzz_fail("%zu body bytes the server did not send", len);
	b->total += len;
	b->msg += len;
	log_add(b, buf, len);
	if (b->total > b->st->len)
		fuzz_fail("more body bytes (%zu) than the input (%zu)",
		    b->total, b->st->len);
	return 0;
}

static int
b_restart(void *arg, struct err *e)
{
	struct body *b = arg;

	(void)e;
	b->msg = 0;
	log_add(b, "\0restart\0", 9);
	return 0;
}

#define MAXPLAN 32

/* One whole transaction over the input handed out chunk bytes at a
 * time; the transcript (bodies, marks, the result) in *log. */
static void
run(const uint8_t *data, size_t size, size_t chunk, char **log,
    size_t *loglen)
{
	struct stream st;
	struct pop3_io io = { f_send, f_recv, f_wait, f_error, &st };
	struct body b = { &st, 0, 0, NULL, 0, 0 };
	struct pop3_body body = { b_write, b_restart, &b };
	struct pop3_msg *msgs = NULL;
	struct strset *uidls = strset_new(0);
	unsigned char take[MAXPLAN];
	struct pop3_retr_info info;
	bool again[MAXPLAN] = { false };
	unsigned long count, nums[MAXPLAN];
	unsigned long long octets;
	size_t n = 0, np, i;
	struct err e;
	struct pop3 *s;
	int rc;

	st.in = (const char *)data + 1;
	st.len = size - 1;
	st.pos = 0;
	st.chunk = chunk;
	err_clear(&e);
	s = pop3i_session_new(&io, "fuzz", NULL, 60000);
	s->capa_pipelining = data[0] & 1;
	s->capa_utf8 = (data[0] & 2) != 0;
	rc = pop3i_start(s, &count, &octets, &e);
	if (rc == 0)
		rc = pop3_list(s, &msgs, &n, &e);
	if (rc == 0 && n > 0 && pop3_has_uidl(s))
		rc = pop3_uidl(s, msgs, n, uidls, &e);
	np = n < MAXPLAN ? n : MAXPLAN;
	for (i = 0; i < np; i++)
		take[i] = 1;
	if (rc == 0)
		pop3_retr_plan(s, msgs, take, np);
	for (i = 0; rc == 0 && i < np; i++) {
		b.msg = 0;
		log_add(&b, "\0msg\0", 5);
		rc = pop3_retr(s, &msgs[i], &body, &info, &e);
		again[i] = rc == 0 && info.again;
		if (rc == 0 && !info.again && !info.shorter &&
		    b.msg < s->expect)
			fuzz_fail("message %zu whole with %zu of %llu bytes", i,
			    b.msg, s->expect);
	}
	for (i = 0; rc == 0 && i < np; i++) {
		if (!again[i])
			continue;
		b.msg = 0;
		rc = pop3_retr(s, &msgs[i], &body, &info, &e);
		if (rc == 0 && info.again)
			fuzz_fail("message %zu asked for a third reading", i);
	}
	if (rc == 0)
		pop3_retr_plan(s, NULL, NULL, 0);
	for (i = 0; i < np; i++)
		nums[i] = msgs[i].num;
	if (rc == 0 && np > 0)
		rc = pop3_dele_many(s, nums, np, &e);
	if (rc == 0)
		rc = pop3_quit(s, &e);
	if (rc != 0 && e.msg[0] == '\0')
		fuzz_fail("error %d without a message", rc);
	{
		char tail[64];
		int k = snprintf(tail, sizeof(tail), "|rc %d n %zu", rc, n);

		log_add(&b, "", 1);
		log_add(&b, tail, (size_t)k);
	}
	pop3_msgs_free(msgs, n);
	strset_free(uidls);
	pop3_close(s);
	*log = b.log;
	*loglen = b.loglen;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	if (size < 1)
		return 0;
	/* How the server's bytes are split must change nothing: the run
	 * in the chunks byte 0 picks and one in 64 KB reads agree on every
	 * body byte and on the result. */
	run(data, size, 1 + (size_t)(data[0] >> 2) * 7, &a, &alen);
	run(data, size, 65536, &b, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fuzz_fail("the split of the server's bytes changed the result "
		    "(%zu vs %zu transcript bytes)", alen, blen);
	free(a);
	free(b);
	return 0;
}
