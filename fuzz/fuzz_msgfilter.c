/*
 * fuzz_msgfilter.c - the streaming filter (msgfilter.h) fed in chunks the
 * fuzzer chooses, compared byte for byte with a whole-buffer reference
 * written here from the header's description (differential).
 *
 * Input layout:
 *   byte 0      bit 0: MSGFILTER_MBOXRD; bit 1: stop test (below);
 *               bits 2-5: k, the number of chunk-size bytes that follow
 *   bytes 1..k  chunk sizes, used in turn and round again (0: an empty
 *               write); no bytes: one chunk
 *   byte k+1    with the stop test: the output callback returns nonzero
 *               once this many bytes have come out
 *   the rest    the message body as the server sent it
 */
#include "autoconf.h"

#include <string.h>

#include "fuzz.h"
#include "msgfilter.h"

const char fuzz_name[] = "msgfilter";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

struct sink {
	char *buf;
	size_t len, cap;
	size_t calls;
	size_t stop_after;	/* refuse once this much came out; or 0 */
};

#define STOP_RC 42

static int
sink_out(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;

	if (n == 0)
		fuzz_fail("output callback called with 0 bytes");
	s->calls++;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		if ((s->buf = realloc(s->buf, s->cap)) == NULL)
			abort();
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	if (s->stop_after > 0 && s->len >= s->stop_after)
		return STOP_RC;
	return 0;
}

/*
 * The reference, in two plain passes over the whole body:
 * 1. CRLF -> LF: a CR directly followed by LF is dropped; every other
 *    byte stays (a bare CR, a bare LF, NUL...).
 * 2. mboxrd: at the start of every line of that result (offset 0 and
 *    after each LF), if the line matches ^>*From  (zero or more '>' then
 *    "From "), one more '>' goes in front of it.
 * Returns a malloc'd buffer, length in *olen.
 */
static char *
reference(const char *in, size_t n, int mboxrd, size_t *olen)
{
	char *lf = malloc(n + 1), *out;
	size_t m = 0, o = 0;

	if (lf == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			continue;
		lf[m++] = in[i];
	}
	/* At most one '>' per line: at most m + 1 lines. */
	if ((out = malloc(2 * m + 1)) == NULL)
		abort();
	for (size_t i = 0; i < m; i++) {
		if (mboxrd && (i == 0 || lf[i - 1] == '\n')) {
			size_t j = i;

			while (j < m && lf[j] == '>')
				j++;
			if (m - j >= 5 && memcmp(lf + j, "From ", 5) == 0)
				out[o++] = '>';
		}
		out[o++] = lf[i];
	}
	free(lf);
	*olen = o;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgfilter f;
	struct sink s = { NULL, 0, 0, 0, 0 };
	const uint8_t *chunks, *body;
	size_t k, nbody, pos = 0, ci = 0, rlen;
	int mboxrd, stop, rc = 0;
	char *ref;

	if (size < 1)
		return 0;
	mboxrd = data[0] & 1;
	stop = (data[0] >> 1) & 1;
	k = (data[0] >> 2) & 15;
	if (size < 1 + k + (size_t)stop)
		return 0;
	chunks = data + 1;
	if (stop)
		s.stop_after = (size_t)data[1 + k] + 1;
	body = data + 1 + k + stop;
	nbody = size - 1 - k - (size_t)stop;

	msgfilter_init(&f, mboxrd ? MSGFILTER_MBOXRD : 0, sink_out, &s);
	while (pos < nbody) {
		size_t n = k > 0 ? chunks[ci++ % k] : nbody;

		if (n > nbody - pos)
			n = nbody - pos;
		/* Every chunk in a buffer of its own exact size, as curl's
		 * callback would get it: a read past it is caught. */
		char *c = malloc(n ? n : 1);
		if (c == NULL)
			abort();
		memcpy(c, body + pos, n);
		rc = msgfilter_write(&f, c, n);
		free(c);
		pos += n;
		if (rc != 0)
			break;
		/* Zero-sized chunks only: nothing moves. Stop after a
		 * round of them. */
		if (n == 0 && ci >= k && pos == 0 && ci > 64)
			break;
	}
	if (rc == 0 && pos >= nbody)
		rc = msgfilter_finish(&f);

	ref = reference((const char *)body, nbody, mboxrd, &rlen);
	if (rc != 0) {
		/* The callback refused: its code comes back, and what came
		 * out so far is the start of the full output. */
		if (rc != STOP_RC)
			fuzz_fail("write/finish returned %d, not the "
			    "callback's %d", rc, STOP_RC);
		fuzz_check(s.stop_after > 0 && s.len >= s.stop_after);
		fuzz_check(s.len <= rlen);
		fuzz_check(memcmp(s.buf, ref, s.len) == 0);
	} else if (pos < nbody) {
		/* Only empty chunks (all k sizes 0): nothing may come out. */
		fuzz_check(s.len == 0);
	} else {
		/* A refusal must not be swallowed. */
		fuzz_check(s.stop_after == 0 || s.len < s.stop_after);
		if (s.len != rlen || (rlen > 0 && memcmp(s.buf, ref, rlen) != 0)) {
			size_t d = 0;

			while (d < s.len && d < rlen && s.buf[d] == ref[d])
				d++;
			fuzz_fail("output differs from the reference at byte "
			    "%zu (filter %zu bytes, reference %zu; mboxrd %d, "
			    "%zu chunk size(s))", d, s.len, rlen, mboxrd, k);
		}
		fuzz_check(f.out_bytes == s.len);
		fuzz_check(msgfilter_ends_with_lf(&f) ==
		    (s.len == 0 || s.buf[s.len - 1] == '\n'));
		/* One callback per line or less, never one per byte: at
		 * most a few per input line (runs are cut at CRLF and at a
		 * quoted line's '>') plus a few per chunk. */
		size_t lines = 1, gts = 0, nchunks = k > 0 ? ci : 1;
		for (size_t i = 0; i < nbody; i++) {
			lines += body[i] == '\n' || body[i] == '\r';
			gts += body[i] == '>';
		}
		/* (A '>' prefix held across chunks is regenerated from its
		 * count in blocks of 64.) */
		if (s.calls > 4 * lines + 4 * nchunks + gts / 32 + 4)
			fuzz_fail("%zu output calls for %zu lines in %zu "
			    "chunks", s.calls, lines, nchunks);
	}
	free(ref);
	free(s.buf);
	return 0;
}
