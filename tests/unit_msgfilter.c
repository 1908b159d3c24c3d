/*
 * unit_msgfilter.c - the body filter must give the same bytes however the
 * input is cut into chunks: every case runs whole, in 1-byte chunks, split
 * at every point (and at every pair of points for short inputs), and
 * random inputs are compared with a simple whole-buffer model.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "msgfilter.h"
#include "unit.h"

struct outbuf {
	char *p;
	size_t len, cap;
	size_t calls;
	size_t fail_after;	/* fail once this many bytes were seen; 0 never */
};

static int
collect(void *arg, const char *buf, size_t len)
{
	struct outbuf *o = arg;

	o->calls++;
	if (len == 0)
		return 99;	/* the filter must never emit empty runs */
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->p = realloc(o->p, o->cap);
		if (o->p == NULL)
			abort();
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	if (o->fail_after != 0 && o->len >= o->fail_after)
		return 7;
	return 0;
}

/* Starts with a buffer so comparisons never see a NULL pointer. */
static void
outbuf_init(struct outbuf *o)
{
	memset(o, 0, sizeof(*o));
	o->cap = 16;
	o->p = malloc(o->cap);
	if (o->p == NULL)
		abort();
}

struct tcase {
	const char *name;
	const char *in;
	size_t inlen;
	const char *plain;	/* expected without MBOXRD */
	size_t plainlen;
	const char *rd;		/* expected with MBOXRD */
	size_t rdlen;
};

#define S(x) x, sizeof(x) - 1

static const struct tcase cases[] = {
	{ "empty", S(""), S(""), S("") },
	{ "crlf", S("a\r\nb\r\n"), S("a\nb\n"), S("a\nb\n") },
	{ "bare cr", S("a\rb\r\n"), S("a\rb\n"), S("a\rb\n") },
	{ "bare lf", S("a\nb\n"), S("a\nb\n"), S("a\nb\n") },
	{ "cr cr lf", S("a\r\r\nb"), S("a\r\nb"), S("a\r\nb") },
	{ "cr at end", S("abc\r"), S("abc\r"), S("abc\r") },
	{ "only cr", S("\r"), S("\r"), S("\r") },
	{ "only crlf", S("\r\n"), S("\n"), S("\n") },
	{ "lf cr", S("\n\r"), S("\n\r"), S("\n\r") },
	{ "nul", S("a\0b\r\n\0\r\n"), S("a\0b\n\0\n"), S("a\0b\n\0\n") },
	{ "8bit", S("\xff\xe9\r\n\x80\r"), S("\xff\xe9\n\x80\r"),
	    S("\xff\xe9\n\x80\r") },
	{ "from at start", S("From x\r\n"), S("From x\n"), S(">From x\n") },
	{ "quoted from", S(">From x\r\n"), S(">From x\n"), S(">>From x\n") },
	{ "triple quoted", S(">>>From x\r\n"), S(">>>From x\n"),
	    S(">>>>From x\n") },
	{ "from no space", S("From\r\nFromx\r\n"), S("From\nFromx\n"),
	    S("From\nFromx\n") },
	{ "xfrom", S("XFrom y\r\n"), S("XFrom y\n"), S("XFrom y\n") },
	{ "from mid line", S("a From b\r\n"), S("a From b\n"),
	    S("a From b\n") },
	{ "from after crlf", S("a\r\nFrom b\r\n>From c\r\n"),
	    S("a\nFrom b\n>From c\n"), S("a\n>From b\n>>From c\n") },
	{ "from after bare lf", S("a\nFrom b"), S("a\nFrom b"),
	    S("a\n>From b") },
	{ "from after bare cr", S("a\rFrom b"), S("a\rFrom b"),
	    S("a\rFrom b") },
	{ "from at end", S("a\r\nFrom "), S("a\nFrom "), S("a\n>From ") },
	{ "partial from at end", S("a\r\n>>Fro"), S("a\n>>Fro"),
	    S("a\n>>Fro") },
	{ "only gts", S(">>>"), S(">>>"), S(">>>") },
	{ "gt then crlf", S(">>\r\nFrom \r\n"), S(">>\nFrom \n"),
	    S(">>\n>From \n") },
	{ "gt space from", S("> From x"), S("> From x"), S("> From x") },
	{ "lowercase", S("from x\r\n"), S("from x\n"), S("from x\n") },
	{ "fro then cr", S("Fro\rFrom "), S("Fro\rFrom "), S("Fro\rFrom ") },
	{ "f then crlf", S("F\r\nF\r\n"), S("F\nF\n"), S("F\nF\n") },
	{ "no final newline", S("a\r\nb"), S("a\nb"), S("a\nb") },
	{ "blank lines", S("\r\n\r\n\r\nFrom \r\n"), S("\n\n\nFrom \n"),
	    S("\n\n\n>From \n") },
	{ "from twice", S("From From \r\nFrom From "),
	    S("From From \nFrom From "), S(">From From \n>From From ") },
};

/* Run one input through a fresh filter, cut at the given points. */
static void
run_cuts(const char *in, size_t inlen, int flags, const size_t *cuts,
    size_t ncuts, struct outbuf *o)
{
	struct msgfilter f;
	size_t pos = 0;

	outbuf_init(o);
	msgfilter_init(&f, flags, collect, o);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t next = i < ncuts ? cuts[i] : inlen;

		CHECK(msgfilter_write(&f, in + pos, next - pos) == 0);
		/* Empty writes are allowed anywhere and change nothing. */
		CHECK(msgfilter_write(&f, in + next, 0) == 0);
		pos = next;
	}
	CHECK(msgfilter_finish(&f) == 0);
	CHECK(f.out_bytes == o->len);
	CHECK(msgfilter_ends_with_lf(&f) ==
	    (o->len == 0 || o->p[o->len - 1] == '\n'));
}

static void
check_chunkings(const char *name, const char *in, size_t inlen, int flags,
    const char *want, size_t wantlen)
{
	struct outbuf o;
	size_t cuts[2];
	int bad = unit_failures;

	run_cuts(in, inlen, flags, NULL, 0, &o);
	CHECK_MEM(o.p, o.len, want, wantlen);
	free(o.p);

	/* 1-byte chunks. */
	{
		struct msgfilter f;

		outbuf_init(&o);
		msgfilter_init(&f, flags, collect, &o);
		for (size_t i = 0; i < inlen; i++)
			CHECK(msgfilter_write(&f, in + i, 1) == 0);
		CHECK(msgfilter_finish(&f) == 0);
		CHECK_MEM(o.p, o.len, want, wantlen);
		free(o.p);
	}

	if (inlen <= 64) {
		for (cuts[0] = 0; cuts[0] <= inlen; cuts[0]++) {
			run_cuts(in, inlen, flags, cuts, 1, &o);
			CHECK_MEM(o.p, o.len, want, wantlen);
			free(o.p);
		}
	}
	if (inlen <= 32) {
		for (cuts[0] = 0; cuts[0] <= inlen; cuts[0]++)
			for (cuts[1] = cuts[0]; cuts[1] <= inlen; cuts[1]++) {
				run_cuts(in, inlen, flags, cuts, 2, &o);
				CHECK_MEM(o.p, o.len, want, wantlen);
				free(o.p);
			}
	}
	if (unit_failures != bad)
		fprintf(stderr, "  in case \"%s\" (flags %d)\n", name, flags);
}

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];

		check_chunkings(c->name, c->in, c->inlen, 0, c->plain,
		    c->plainlen);
		check_chunkings(c->name, c->in, c->inlen, MSGFILTER_MBOXRD,
		    c->rd, c->rdlen);
	}
}

/* Ten thousand '>' then "From ": quoted, without the filter holding a
 * copy of the line. */
static void
test_many_gts(void)
{
	const size_t n = 10000;
	char *in = malloc(n + 16), *want = malloc(n + 16);
	size_t inlen, wantlen;

	if (in == NULL || want == NULL)
		abort();
	memset(in, '>', n);
	memcpy(in + n, "From x\r\n", 8);
	inlen = n + 8;
	want[0] = '>';
	memset(want + 1, '>', n);
	memcpy(want + 1 + n, "From x\n", 7);
	wantlen = n + 8;
	check_chunkings("10000 gts", in, inlen, MSGFILTER_MBOXRD, want,
	    wantlen);
	check_chunkings("10000 gts plain", in, inlen, 0, want + 1,
	    wantlen - 1);

	/* The same prefix failing at the very end stays unquoted. */
	memcpy(in + n, "Frox", 4);
	check_chunkings("10000 gts no from", in, n + 4, MSGFILTER_MBOXRD, in,
	    n + 4);
	free(in);
	free(want);
}

/* The whole-buffer model: CRLF -> LF, then quote lines. */
static size_t
model(const char *in, size_t inlen, int rd, char *out)
{
	char *tmp = malloc(inlen + 1);
	size_t t = 0, o = 0;

	if (tmp == NULL)
		abort();
	for (size_t i = 0; i < inlen; i++) {
		if (in[i] == '\r' && i + 1 < inlen && in[i + 1] == '\n')
			continue;
		tmp[t++] = in[i];
	}
	for (size_t i = 0; i < t; i++) {
		if (rd && (i == 0 || tmp[i - 1] == '\n')) {
			size_t j = i;

			while (j < t && tmp[j] == '>')
				j++;
			if (t - j >= 5 && memcmp(tmp + j, "From ", 5) == 0)
				out[o++] = '>';
		}
		out[o++] = tmp[i];
	}
	free(tmp);
	return o;
}

static void
test_random(void)
{
	static const char alphabet[] = "\r\n>From x\0\xff";
	char in[200], want[400];
	struct outbuf o;
	unsigned seed = 12345;
	int bad = unit_failures;

	for (int iter = 0; iter < 3000; iter++) {
		size_t inlen, wantlen, cuts[8], ncuts;
		int flags = iter & 1 ? MSGFILTER_MBOXRD : 0;

		seed = seed * 1103515245u + 12345u;
		inlen = (seed >> 16) % sizeof(in);
		for (size_t i = 0; i < inlen; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) %
			    (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		ncuts = (seed >> 16) % 8;
		for (size_t i = 0; i < ncuts; i++) {
			seed = seed * 1103515245u + 12345u;
			cuts[i] = inlen ? (seed >> 16) % (inlen + 1) : 0;
		}
		/* Sort the cut points (insertion sort, tiny). */
		for (size_t i = 1; i < ncuts; i++)
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t x = cuts[j];
				cuts[j] = cuts[j - 1];
				cuts[j - 1] = x;
			}
		wantlen = model(in, inlen, flags != 0, want);
		run_cuts(in, inlen, flags, cuts, ncuts, &o);
		CHECK_MEM(o.p, o.len, want, wantlen);
		free(o.p);
		if (unit_failures != bad) {
			fprintf(stderr, "  random iteration %d\n", iter);
			break;
		}
	}
}

/* A failing output callback stops the filter and its code comes back. */
static void
test_out_failure(void)
{
	struct msgfilter f;
	struct outbuf o;
	const char in[] = "line one\r\nline two\r\n";

	outbuf_init(&o);
	o.fail_after = 1;
	msgfilter_init(&f, MSGFILTER_MBOXRD, collect, &o);
	CHECK(msgfilter_write(&f, in, sizeof(in) - 1) == 7);
	free(o.p);

	/* Failure while flushing held bytes in finish. */
	outbuf_init(&o);
	o.fail_after = 1;
	msgfilter_init(&f, MSGFILTER_MBOXRD, collect, &o);
	CHECK(msgfilter_write(&f, ">>Fr", 4) == 0);
	CHECK(o.len == 0);
	CHECK(msgfilter_finish(&f) == 7);
	free(o.p);

	outbuf_init(&o);
	o.fail_after = 1;
	msgfilter_init(&f, 0, collect, &o);
	CHECK(msgfilter_write(&f, "\r", 1) == 0);
	CHECK(msgfilter_finish(&f) == 7);
	free(o.p);
}

/* Runs, not bytes: a whole chunk of plain lines costs one callback per
 * line at most. */
static void
test_runs(void)
{
	struct msgfilter f;
	struct outbuf o;
	const char in[] = "abc\ndef\nghi\n";
	const char crlf[] = "abc\r\ndef\r\nghi\r\n";

	outbuf_init(&o);
	msgfilter_init(&f, 0, collect, &o);
	CHECK(msgfilter_write(&f, in, sizeof(in) - 1) == 0);
	CHECK(o.calls == 1);
	free(o.p);

	outbuf_init(&o);
	msgfilter_init(&f, MSGFILTER_MBOXRD, collect, &o);
	CHECK(msgfilter_write(&f, crlf, sizeof(crlf) - 1) == 0);
	CHECK(o.calls <= 4);	/* "abc", "\ndef", "\nghi", "\n" */
	free(o.p);
}

static void
test_ends_with_lf(void)
{
	struct msgfilter f;
	struct outbuf o;

	outbuf_init(&o);
	msgfilter_init(&f, 0, collect, &o);
	CHECK(msgfilter_ends_with_lf(&f));	/* empty */
	CHECK(msgfilter_write(&f, "a\r", 2) == 0);
	CHECK(msgfilter_write(&f, "\n", 1) == 0);
	CHECK(msgfilter_finish(&f) == 0);
	CHECK(msgfilter_ends_with_lf(&f));
	CHECK(msgfilter_write(&f, "b", 1) == 0);
	CHECK(msgfilter_finish(&f) == 0);
	CHECK(!msgfilter_ends_with_lf(&f));
	free(o.p);
}

int
main(void)
{
	test_table();
	test_many_gts();
	test_random();
	test_out_failure();
	test_runs();
	test_ends_with_lf();
	return unit_done("unit_msgfilter");
}
