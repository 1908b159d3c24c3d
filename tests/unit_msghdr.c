/*
 * unit_msghdr.c - the added header lines and what they read (msghdr.c):
 * the head buffer at every split of each message (and every pair of
 * splits of the short ones), the envelope sender out of each address
 * form, and the lines byte for byte at a fixed time in fixed time zones,
 * hostile names included.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msghdr.h"
#include "unit.h"

/* ---- the head buffer ---------------------------------------------------- */

/* Feed msg in the chunks [0,a) [a,b) [b,n), then finish if the head is
 * not complete; check what each feed took and the head that results. */
static void
head_at(const char *msg, size_t n, size_t a, size_t b, size_t want_len,
    enum msghdr_head_end want_end)
{
	struct msghdr_head h;
	size_t cuts[3] = { a, b, n }, pos = 0, taken = 0;
	bool ok = true;

	msghdr_head_init(&h);
	for (int i = 0; i < 3; i++) {
		size_t clen = cuts[i] - pos;
		size_t left = want_len > taken ? want_len - taken : 0;
		size_t want = clen < left ? clen : left;
		size_t got;

		/* A complete head takes nothing, however much follows. */
		if (want_end != MSGHDR_HEAD_EOF && taken == want_len)
			want = 0;
		got = msghdr_head_feed(&h, msg + pos, clen);
		ok &= got == want;
		taken += got;
		pos = cuts[i];
	}
	if (!msghdr_head_done(&h))
		msghdr_head_finish(&h);
	ok &= msghdr_head_done(&h);
	ok &= msghdr_head_end(&h) == want_end;
	ok &= msghdr_head_len(&h) == want_len;
	ok &= want_len == 0 ||
	    memcmp(msghdr_head_data(&h), msg, want_len) == 0;
	/* Done: nothing more is taken. */
	ok &= msghdr_head_feed(&h, "x\r\n\r\n", 5) == 0;
	ok &= msghdr_head_len(&h) == want_len;
	if (!ok)
		fprintf(stderr, "head of %zu-byte message cut at %zu, %zu: "
		    "len %zu end %d, want %zu %d\n", n, a, b,
		    msghdr_head_len(&h), (int)msghdr_head_end(&h), want_len,
		    (int)want_end);
	CHECK(ok);
	msghdr_head_reset(&h);
	CHECK(msghdr_head_len(&h) == 0 && !msghdr_head_done(&h));
	msghdr_head_reset(&h);
}

static void
head_case(const char *msg, size_t n, size_t want_len,
    enum msghdr_head_end want_end)
{
	if (n <= 80) {
		for (size_t a = 0; a <= n; a++)
			for (size_t b = a; b <= n; b++)
				head_at(msg, n, a, b, want_len, want_end);
		/* One byte at a time. */
		struct msghdr_head h;
		size_t taken = 0;

		msghdr_head_init(&h);
		for (size_t i = 0; i < n; i++)
			taken += msghdr_head_feed(&h, msg + i, 1);
		if (!msghdr_head_done(&h))
			msghdr_head_finish(&h);
		CHECK(taken == want_len);
		CHECK(msghdr_head_end(&h) == want_end);
		msghdr_head_reset(&h);
		return;
	}
	/* Long messages: every split near the cap and the ends, and a
	 * sample of the others. */
	for (size_t a = 0; a <= n; a++) {
		bool near = a < 8 || n - a < 8 ||
		    (a + 8 > MSGHDR_HEAD_MAX && a < MSGHDR_HEAD_MAX + 8) ||
		    (a + 8 > want_len && a < want_len + 8);

		if (near || a % 4099 == 0)
			head_at(msg, n, a, a, want_len, want_end);
		if (a % 9973 == 0)
			head_at(msg, n, a / 2, a, want_len, want_end);
	}
}

#define HEAD(lit, want, end) \
	head_case(lit, sizeof(lit) - 1, sizeof(want) - 1, end); \
	CHECK(memcmp(lit, want, sizeof(want) - 1) == 0)

/* Header lines "X: 12345" CRLF from the start of p to n. */
static void
fill_lines(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = "X: 12345\r\n"[i % 10];
}

static void
test_head(void)
{
	char *big;

	HEAD("From: a\r\nSubject: b\r\n\r\nbody\r\n\r\n",
	    "From: a\r\nSubject: b\r\n\r\n", MSGHDR_HEAD_BLANK);
	HEAD("From: a\nSubject: b\n\nbody\n",
	    "From: a\nSubject: b\n\n", MSGHDR_HEAD_BLANK);
	HEAD("A: 1\r\n\nbody", "A: 1\r\n\n", MSGHDR_HEAD_BLANK);
	HEAD("A: 1\n\r\nbody", "A: 1\n\r\n", MSGHDR_HEAD_BLANK);
	/* A first line that is empty is the whole head. */
	HEAD("\r\nFrom: in the body\r\n\r\n", "\r\n", MSGHDR_HEAD_BLANK);
	HEAD("\nbody\n", "\n", MSGHDR_HEAD_BLANK);
	/* No empty line: all of it, at the end. */
	HEAD("", "", MSGHDR_HEAD_EOF);
	HEAD("From: a\r\nno empty line", "From: a\r\nno empty line",
	    MSGHDR_HEAD_EOF);
	HEAD("A: 1\r\n\r", "A: 1\r\n\r", MSGHDR_HEAD_EOF);
	HEAD("A: 1\r\n", "A: 1\r\n", MSGHDR_HEAD_EOF);
	/* Lines that are not empty: a CR before the CRLF, a blank, a
	 * bare CR. */
	HEAD("A: 1\r\n\r\r\nB: 2\r\n \r\n\rC\r\n\r\nbody",
	    "A: 1\r\n\r\r\nB: 2\r\n \r\n\rC\r\n\r\n", MSGHDR_HEAD_BLANK);
	HEAD("A\r\r\n\r\n", "A\r\r\n\r\n", MSGHDR_HEAD_BLANK);
	HEAD("\r\r\n\r\nx", "\r\r\n\r\n", MSGHDR_HEAD_BLANK);
	HEAD("A\0B: 1\r\n\r\n\0", "A\0B: 1\r\n\r\n", MSGHDR_HEAD_BLANK);

	big = malloc(3 * MSGHDR_HEAD_MAX);
	if (big == NULL)
		abort();
	/* No line end at all, longer than the cap. */
	memset(big, 'x', 70000);
	head_case(big, 70000, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	/* Exactly the cap, no empty line: complete at the cap. */
	head_case(big, MSGHDR_HEAD_MAX, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	head_case(big, MSGHDR_HEAD_MAX - 1, MSGHDR_HEAD_MAX - 1,
	    MSGHDR_HEAD_EOF);
	/* Short lines, no empty line. */
	fill_lines(big, 70000);
	head_case(big, 70000, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	/* A header section that ends exactly at the cap (CRLF, LF)... */
	fill_lines(big, MSGHDR_HEAD_MAX + 16);
	memcpy(big + MSGHDR_HEAD_MAX - 4, "\r\n\r\nbody", 8);
	head_case(big, MSGHDR_HEAD_MAX + 4, MSGHDR_HEAD_MAX,
	    MSGHDR_HEAD_BLANK);
	fill_lines(big, MSGHDR_HEAD_MAX + 16);
	memcpy(big + MSGHDR_HEAD_MAX - 2, "\n\nbody", 6);
	head_case(big, MSGHDR_HEAD_MAX + 4, MSGHDR_HEAD_MAX,
	    MSGHDR_HEAD_BLANK);
	/* ... its last byte one past the cap (CRLF, LF)... */
	fill_lines(big, MSGHDR_HEAD_MAX + 16);
	memcpy(big + MSGHDR_HEAD_MAX - 3, "\r\n\r\nbody", 8);
	head_case(big, MSGHDR_HEAD_MAX + 5, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	fill_lines(big, MSGHDR_HEAD_MAX + 16);
	memcpy(big + MSGHDR_HEAD_MAX - 1, "\n\nbody", 6);
	head_case(big, MSGHDR_HEAD_MAX + 5, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	/* ... or starting past it. */
	fill_lines(big, MSGHDR_HEAD_MAX + 16);
	memcpy(big + MSGHDR_HEAD_MAX - 4, "X:\r\n\r\nbody", 10);
	head_case(big, MSGHDR_HEAD_MAX + 6, MSGHDR_HEAD_MAX, MSGHDR_HEAD_CAP);
	/* A much longer section, and a body after it. */
	fill_lines(big, 2 * MSGHDR_HEAD_MAX);
	memcpy(big + 2 * MSGHDR_HEAD_MAX - 2, "\r\nbody", 6);
	head_case(big, 2 * MSGHDR_HEAD_MAX + 4, MSGHDR_HEAD_MAX,
	    MSGHDR_HEAD_CAP);
	free(big);

	/* A reset buffer collects again. */
	{
		struct msghdr_head h;

		msghdr_head_init(&h);
		CHECK(msghdr_head_data(&h) == NULL);
		CHECK(msghdr_head_end(&h) == MSGHDR_HEAD_MORE);
		CHECK(msghdr_head_feed(&h, "A: 1\r\n\r\nB", 9) == 8);
		msghdr_head_reset(&h);
		CHECK(msghdr_head_feed(&h, "C: 2\n\nD", 7) == 6);
		CHECK_MEM(msghdr_head_data(&h), msghdr_head_len(&h),
		    "C: 2\n\n", 6);
		/* An empty chunk is fine, and takes nothing. */
		msghdr_head_reset(&h);
		CHECK(msghdr_head_feed(&h, "", 0) == 0);
		CHECK(!msghdr_head_done(&h));
		msghdr_head_reset(&h);
	}
}

/* ---- the envelope sender ---------------------------------------------- */

static bool
clean_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void
sender_n(int line, const char *head, size_t len, size_t outsz,
    const char *want, unsigned want_bits)
{
	char out[1024];
	unsigned bits;

	memset(out, '#', sizeof(out));
	bits = msghdr_sender(head, len, out, outsz);
	unit_checks++;
	if (strcmp(out, want) != 0 || bits != want_bits ||
	    strlen(out) >= outsz || !clean_word(out)) {
		unit_failures++;
		fprintf(stderr, "%s:%d: sender \"%s\" bits %u, want \"%s\" "
		    "%u\n", __FILE__, line, out, bits, want, want_bits);
	}
}

#define SENDER(head, want, bits) \
	sender_n(__LINE__, head, sizeof(head) - 1, MSGHDR_ADDR_MAX, want, bits)
#define SENDER_SZ(head, sz, want, bits) \
	sender_n(__LINE__, head, sizeof(head) - 1, sz, want, bits)

#define RP (MSGHDR_HAS_RETURN_PATH | MSGHDR_FROM_RETURN_PATH)
#define HRP MSGHDR_HAS_RETURN_PATH
#define FR MSGHDR_FROM_FROM
#define MD "MAILER-DAEMON"

static void
test_sender(void)
{
	char buf[2048];

	/* The forms. */
	SENDER("Return-Path: <a@b.org>\r\nFrom: c@d.org\r\n\r\n", "a@b.org",
	    RP);
	SENDER("From: Name <a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: a@b.org (a comment)\r\n\r\n", "a@b.org", FR);
	SENDER("From: (a (nested) one) a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: (x\\) y) a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: \"quoted, name\" <a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: \"q \\\" <x@y>\" <a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: undisclosed:;\r\n\r\n", MD, 0);
	SENDER("From: undisclosed-recipients: ;\r\n\r\n", MD, 0);
	SENDER("From: team: Ann <a@b.org>, c@d.org;\r\n\r\n", "a@b.org", FR);
	SENDER("From: empty:;, c@d.org\r\n\r\n", "c@d.org", FR);
	SENDER("From: a@b.org, c@d.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: , ,a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: <@r1.org,@r2.org:a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: Name <@r1.org:a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: a@[192.0.2.1]\r\n\r\n", "a@[192.0.2.1]", FR);
	SENDER("From: first . last @ b . org\r\n\r\n", "first.last@b.org",
	    FR);
	SENDER("From: root\r\n\r\n", "root", FR);
	SENDER("From: Name <a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From:a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From : a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: \t a@b.org \t\r\n\r\n", "a@b.org", FR);
	SENDER("From: a@b.org", "a@b.org", FR);
	/* Return-Path. */
	SENDER("Return-Path: <>\r\nFrom: a@b.org\r\n\r\n", MD, HRP);
	SENDER("Return-Path: <MAILER-DAEMON>\r\n\r\n", MD, RP);
	SENDER("Return-Path: a@b.org\r\n\r\n", "a@b.org", RP);
	SENDER("Return-Path: <@r.org:a@b.org>\r\n\r\n", "a@b.org", RP);
	SENDER("Return-Path: two words\r\nFrom: c@d.org\r\n\r\n", "c@d.org",
	    HRP | FR);
	SENDER("Return-Path:\r\nFrom: c@d.org\r\n\r\n", "c@d.org", HRP | FR);
	SENDER("From: c@d.org\r\nReturn-Path: <a@b.org>\r\n\r\n", "a@b.org",
	    RP);
	SENDER("Return-Path: <a@b.org>\r\nReturn-Path: <c@d.org>\r\n\r\n",
	    "a@b.org", RP);
	SENDER("Return-Path: <>\r\nReturn-Path: <c@d.org>\r\n\r\n", MD, HRP);
	/* Case, folding. */
	SENDER("return-PATH:   <a@b.org>\r\n\r\n", "a@b.org", RP);
	SENDER("FROM: a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: Name\r\n <a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: Name\n\t<a@b.org>\n\n", "a@b.org", FR);
	SENDER("Return-Path:\r\n\t<a@b.org>\r\n\r\n", "a@b.org", RP);
	SENDER("From: <a\r\n @b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("From: \"a\r\n b\" <a@b.org>\r\n\r\n", "a@b.org", FR);
	SENDER("Subject: x\r\n From: a@b.org\r\nFrom: c@d.org\r\n\r\n",
	    "c@d.org", FR);
	/* Only the first From:, and only in the header section. */
	SENDER("From: undisclosed:;\r\nFrom: a@b.org\r\n\r\n", MD, 0);
	SENDER("X: 1\r\n\r\nFrom: a@b.org\r\n", MD, 0);
	SENDER("\r\nFrom: a@b.org\r\n", MD, 0);
	SENDER("X: 1\n\nReturn-Path: <a@b.org>\n", MD, 0);
	/* Not From: */
	SENDER("X-From: a@b.org\r\nFromage: c@d.org\r\n\r\n", MD, 0);
	SENDER("From a@b.org Mon Jan  1 00:00:00 2024\r\nFrom: c@d.org\r\n\r\n",
	    "c@d.org", FR);
	SENDER(" From: a@b.org\r\n\r\n", MD, 0);
	SENDER("", MD, 0);
	/* Garbage. */
	SENDER("From: John Smith\r\n\r\n", MD, 0);
	SENDER("From: John Smith, a@b.org\r\n\r\n", "a@b.org", FR);
	SENDER("From: <>\r\n\r\n", MD, 0);
	SENDER("From: @@@\r\n\r\n", MD, 0);
	SENDER("From: a@\r\n\r\n", MD, 0);
	/* (Dots are not checked: "a..b" is seen in the wild.) */
	SENDER("From: .a@b\r\n\r\n", ".a@b", FR);
	SENDER("From: a..b@c\r\n\r\n", "a..b@c", FR);
	SENDER("From: a@b@c\r\n\r\n", MD, 0);
	SENDER("From: <<a@b>>\r\n\r\n", MD, 0);
	SENDER("From: <a b@c>\r\n\r\n", MD, 0);
	SENDER("From: \"unterminated <a@b>\r\n\r\n", MD, 0);
	SENDER("From: (unterminated a@b\r\n\r\n", MD, 0);
	SENDER("From: >\r\n\r\n", MD, 0);
	SENDER("From: :\r\n\r\n", MD, 0);
	SENDER("From: <@r:>\r\n\r\n", MD, 0);
	/* Hostile bytes: escaped, never passed on. */
	SENDER("From: <a\x01z@b.org>\r\n\r\n", "a%01z@b.org", FR);
	SENDER("From: \"john smith\"@b.org\r\n\r\n", "\"john%20smith\"@b.org",
	    FR);
	SENDER("From: \"a\tb\"@b.org\r\n\r\n", "\"a%09b\"@b.org", FR);
	SENDER("From: a\0z@b.org\r\n\r\n", "a%00z@b.org", FR);
	SENDER("From: j\xc3\xb6rg@b.org\r\n\r\n", "j%C3%B6rg@b.org", FR);
	SENDER("From: a\x7f@b.org\r\n\r\n", "a%7F@b.org", FR);
	SENDER("From: a\rz@b.org\r\n\r\n", MD, 0);
	SENDER("From: \"a\rz\"@b.org\r\n\r\n", "\"a%0Dz\"@b.org", FR);
	SENDER("Return-Path: <\"a\r\n b\"@b.org>\r\n\r\n", "\"a%20b\"@b.org",
	    RP);
	/* Long addresses: an address that does not fit counts as none. */
	{
		char want[300];

		memset(buf, 'a', sizeof(buf));
		memcpy(buf, "From: ", 6);
		strcpy(buf + 6 + 250, "@b.org\r\n\r\n");
		sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX, MD, 0);
		memcpy(want, buf + 6, 256);
		want[256] = '\0';
		sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX + 1,
		    want, FR);
		strcpy(buf + 6 + 249, "@b.org\r\n\r\n");
		memcpy(want, buf + 6, 255);
		want[255] = '\0';
		sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX, want,
		    FR);
	}
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "Return-Path: <", 14);
	strcpy(buf + 14 + 1500, "@b.org>\r\nFrom: c@d.org\r\n\r\n");
	sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX, "c@d.org",
	    HRP | FR);
	/* Escaped, the address must still fit. */
	memset(buf, '\x80', sizeof(buf));
	memcpy(buf, "From: ", 6);
	strcpy(buf + 6 + 85, "@b\r\n\r\n");
	sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX, MD, 0);
	strcpy(buf + 6 + 84, "@bcd\r\n\r\n");
	sender_n(__LINE__, buf, strlen(buf), MSGHDR_ADDR_MAX, MD, 0);
	strcpy(buf + 6 + 84, "@bc\r\n\r\n");
	{
		char out[MSGHDR_ADDR_MAX];

		CHECK(msghdr_sender(buf, strlen(buf), out, sizeof(out)) ==
		    FR);
		CHECK(strlen(out) == 84 * 3 + 3);
		CHECK(strncmp(out, "%80%80", 6) == 0);
		CHECK_STR(out + 84 * 3, "@bc");
	}
	/* A small buffer. */
	SENDER_SZ("From: abcdefghij@example.org\r\n\r\n", 22, MD, 0);
	SENDER_SZ("From: abcdefghij@example.org\r\n\r\n", 23,
	    "abcdefghij@example.org", FR);
	SENDER_SZ("From: a@b\r\n\r\n", MSGHDR_ADDR_MIN, "a@b", FR);
	SENDER_SZ("From: <>\r\n\r\n", MSGHDR_ADDR_MIN, MD, 0);
	/* Length given, not the NUL: bytes past len are not read. */
	sender_n(__LINE__, "From: a@b.orgXYZ", 13, MSGHDR_ADDR_MAX, "a@b.org",
	    FR);
	sender_n(__LINE__, "Return-Path: <a@b>", 11, MSGHDR_ADDR_MAX, MD, 0);
	/* A long header section, the field at its end. */
	{
		size_t n = 0;
		char *h = malloc(MSGHDR_HEAD_MAX);

		if (h == NULL)
			abort();
		while (n + 100 < MSGHDR_HEAD_MAX - 100) {
			memcpy(h + n, "Received: (x)\r\n", 15);
			n += 15;
		}
		memcpy(h + n, "From: Z <z@y.org>\r\n\r\n", 21);
		sender_n(__LINE__, h, n + 21, MSGHDR_ADDR_MAX, "z@y.org", FR);
		/* A field folded a thousand times. */
		n = 0;
		memcpy(h, "From:", 5);
		n = 5;
		for (int i = 0; i < 1000; i++) {
			memcpy(h + n, "\r\n (c)", 6);
			n += 6;
		}
		memcpy(h + n, " <z@y.org>\r\n\r\n", 14);
		sender_n(__LINE__, h, n + 14, MSGHDR_ADDR_MAX, "z@y.org", FR);
		free(h);
	}
}

/* ---- the added lines --------------------------------------------------- */

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

#define CET "CET-1CEST,M3.5.0,M10.5.0/3"

static void
date_is(int line, time_t t, const char *want)
{
	char out[MSGHDR_DATE_MAX];
	size_t n;

	memset(out, '#', sizeof(out));
	n = msghdr_date(t, out);
	unit_checks++;
	if (strcmp(out, want) != 0 || n != strlen(want)) {
		unit_failures++;
		fprintf(stderr, "%s:%d: date \"%s\" (%zu), want \"%s\"\n",
		    __FILE__, line, out, n, want);
	}
}

static void
test_date(void)
{
	set_tz(CET);
	date_is(__LINE__, 1796203259, "Wed, 02 Dec 2026 10:20:59 +0100");
	date_is(__LINE__, 1782945000, "Thu, 02 Jul 2026 00:30:00 +0200");
	date_is(__LINE__, 0, "Thu, 01 Jan 1970 01:00:00 +0100");
	date_is(__LINE__, 1709251199, "Fri, 01 Mar 2024 00:59:59 +0100");
	date_is(__LINE__, 1774745999, "Sun, 29 Mar 2026 01:59:59 +0100");
	date_is(__LINE__, 1774746000, "Sun, 29 Mar 2026 03:00:00 +0200");
	set_tz("EST5EDT,M3.2.0,M11.1.0");
	date_is(__LINE__, 1796203259, "Wed, 02 Dec 2026 04:20:59 -0500");
	date_is(__LINE__, 1782945000, "Wed, 01 Jul 2026 18:30:00 -0400");
	date_is(__LINE__, 0, "Wed, 31 Dec 1969 19:00:00 -0500");
	date_is(__LINE__, 1709251199, "Thu, 29 Feb 2024 18:59:59 -0500");
	set_tz("IST-5:30");
	date_is(__LINE__, 1796203259, "Wed, 02 Dec 2026 14:50:59 +0530");
	set_tz("NST3:30");
	date_is(__LINE__, 1796203259, "Wed, 02 Dec 2026 05:50:59 -0330");
	date_is(__LINE__, 1774745999, "Sat, 28 Mar 2026 21:29:59 -0330");
	set_tz("UTC0");
	date_is(__LINE__, 1796203259, "Wed, 02 Dec 2026 09:20:59 +0000");
	date_is(__LINE__, 1782945000, "Wed, 01 Jul 2026 22:30:00 +0000");
	/* Every day and month name, in English whatever the locale. */
	{
		static const char *days[] = { "Thu", "Fri", "Sat", "Sun",
		    "Mon", "Tue", "Wed" };
		static const char *mons[] = { "Jan", "Feb", "Mar", "Apr",
		    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
		char out[MSGHDR_DATE_MAX];

		for (int d = 0; d < 7; d++) {
			msghdr_date((time_t)d * 86400, out);
			CHECK(strncmp(out, days[d], 3) == 0);
		}
		for (int m = 0; m < 12; m++) {
			/* The 15th of month m of 2025. */
			static const int yday[] = { 0, 31, 59, 90, 120, 151,
			    181, 212, 243, 273, 304, 334 };
			time_t t = (time_t)(20089 + yday[m] + 14) * 86400;

			msghdr_date(t, out);
			CHECK(strncmp(out + 8, mons[m], 3) == 0);
			CHECK(strncmp(out + 5, "15", 2) == 0);
		}
	}
	set_tz(CET);
}

static void
prefix_is(int line, const struct msghdr_add_in *in, size_t outsz,
    const char *want)
{
	char out[MSGHDR_PREFIX_MAX + 16];
	size_t n;

	memset(out, '#', sizeof(out));
	n = msghdr_prefix(in, out, outsz);
	unit_checks++;
	if (n != strlen(want) || (outsz > 0 && strcmp(out, want) != 0) ||
	    (outsz == 0 && out[0] != '#') || out[n + (outsz > 0)] != '#') {
		unit_failures++;
		fprintf(stderr, "%s:%d: prefix (%zu)\n\"%.*s\"\nwant (%zu)\n"
		    "\"%s\"\n", __FILE__, line, n, (int)n, out,
		    strlen(want), want);
	}
}

#define ALL (MSGHDR_ADD_RECEIVED | MSGHDR_ADD_DELIVERED_TO | \
	MSGHDR_ADD_UIDL | MSGHDR_ADD_RETURN_PATH)
#define RCVD_TAIL "; Wed, 02 Dec 2026 10:20:59 +0100\r\n"

static const char HEAD_FROM[] = "Subject: s\r\nFrom: Ann <ann@x.org>\r\n\r\n";

static void
test_prefix(void)
{
	struct msghdr_add_in in = {
		.flags = ALL,
		.server_host = "pop.example.org",
		.local_host = "mybox",
		.user = "me@example.org",
		.uidl = "UID123",
		.tls = false,
		.when = 1796203259,
		.head = HEAD_FROM,
		.head_len = sizeof(HEAD_FROM) - 1,
	};
	const char *all =
	    "Return-Path: <ann@x.org>\r\n"
	    "Received: from pop.example.org by mybox with POP3 (popfetch "
	    VERSION ") for <me@example.org>" RCVD_TAIL
	    "Delivered-To: me@example.org\r\n"
	    "X-Popfetch-UIDL: UID123\r\n";
	char big[3000], want[4000];

	set_tz(CET);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, all);
	/* Each bit alone. */
	in.flags = MSGHDR_ADD_RETURN_PATH;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <ann@x.org>\r\n");
	in.flags = MSGHDR_ADD_RECEIVED;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Received: from pop.example.org by mybox with POP3 (popfetch "
	    VERSION ") for <me@example.org>" RCVD_TAIL);
	in.tls = true;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Received: from pop.example.org by mybox with POP3S (popfetch "
	    VERSION ") for <me@example.org>" RCVD_TAIL);
	in.tls = false;
	in.flags = MSGHDR_ADD_DELIVERED_TO;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Delivered-To: me@example.org\r\n");
	in.flags = MSGHDR_ADD_UIDL;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "X-Popfetch-UIDL: UID123\r\n");
	in.flags = 0;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, "");
	in.flags = 0x10 | 0x100;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, "");

	/* Return-Path: only when the message has none; <> when there is
	 * no From: address; nothing when the head was not looked at. */
	in.flags = MSGHDR_ADD_RETURN_PATH | MSGHDR_ADD_UIDL;
	in.head = "Return-Path: <x@y>\r\nFrom: a@b\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "X-Popfetch-UIDL: UID123\r\n");
	in.head = "Return-Path: <>\r\nFrom: a@b\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "X-Popfetch-UIDL: UID123\r\n");
	in.head = "Return-path: garbage here\r\nFrom: a@b\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "X-Popfetch-UIDL: UID123\r\n");
	in.head = "From: undisclosed:;\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <>\r\nX-Popfetch-UIDL: UID123\r\n");
	in.head = "From: <MAILER-DAEMON@x.org>\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <MAILER-DAEMON@x.org>\r\nX-Popfetch-UIDL: UID123\r\n");
	in.head = "From: MAILER-DAEMON\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <MAILER-DAEMON>\r\nX-Popfetch-UIDL: UID123\r\n");
	in.head = "";
	in.head_len = 0;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <>\r\nX-Popfetch-UIDL: UID123\r\n");
	in.head = NULL;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "X-Popfetch-UIDL: UID123\r\n");
	in.head = "From: \"a b\"@c\r\n\r\n";
	in.head_len = strlen(in.head);
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <\"a%20b\"@c>\r\nX-Popfetch-UIDL: UID123\r\n");

	/* No UIDL, no user: those lines are left out; names "unknown". */
	in.flags = ALL;
	in.uidl = "";
	in.user = NULL;
	in.server_host = "";
	in.local_host = NULL;
	in.head = HEAD_FROM;
	in.head_len = sizeof(HEAD_FROM) - 1;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Return-Path: <ann@x.org>\r\n"
	    "Received: from unknown by unknown with POP3 (popfetch "
	    VERSION ") for <unknown>" RCVD_TAIL);
	in.uidl = NULL;
	in.user = "";
	in.flags = MSGHDR_ADD_UIDL | MSGHDR_ADD_DELIVERED_TO;
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, "");

	/* Hostile names: no line break, no control, no 8-bit byte gets
	 * through; Received:'s structure kept. */
	in.flags = ALL & ~MSGHDR_ADD_RETURN_PATH;
	in.server_host = "evil\r\nBcc: x@y";
	in.local_host = "my box(1)";
	in.user = "a b;c<d>\"e\\\x01\xff%";
	in.uidl = "u\r\nX-Evil: 1\x7f\x80 ";
	prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX,
	    "Received: from evil%0D%0ABcc:%20x@y by my%20box%281%29 with POP3 "
	    "(popfetch " VERSION ") for <a%20b%3Bc%3Cd%3E%22e%5C%01%FF%>"
	    RCVD_TAIL
	    "Delivered-To: a%20b;c<d>\"e\\%01%FF%\r\n"
	    "X-Popfetch-UIDL: u%0D%0AX-Evil:%201%7F%80%20\r\n");

	/* Long names: each cut to MSGHDR_VALUE_MAX, never inside an
	 * escape; the Received: line under 998 bytes. */
	memset(big, 'h', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	in.server_host = big;
	in.local_host = big;
	in.user = big;
	in.uidl = big;
	in.flags = ALL & ~MSGHDR_ADD_RETURN_PATH;
	{
		char h[MSGHDR_VALUE_MAX + 1];

		memset(h, 'h', MSGHDR_VALUE_MAX);
		h[MSGHDR_VALUE_MAX] = '\0';
		snprintf(want, sizeof(want),
		    "Received: from %s by %s with POP3 (popfetch " VERSION
		    ") for <%s>" RCVD_TAIL "Delivered-To: %s\r\n"
		    "X-Popfetch-UIDL: %s\r\n", h, h, h, h, h);
		prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, want);
		CHECK(strchr(want, '\n') - want + 1 <= MSGHDR_LINE_MAX + 2);
	}
	memset(big, '\x01', 200);
	big[0] = 'a';
	in.flags = MSGHDR_ADD_UIDL;
	{
		char w[400] = "X-Popfetch-UIDL: a";

		for (int i = 0; i < 84; i++)
			strcat(w, "%01");
		strcat(w, "\r\n");
		prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, w);
	}
	in.uidl = big + 1;
	{
		char w[400] = "X-Popfetch-UIDL: ";

		for (int i = 0; i < 85; i++)
			strcat(w, "%01");
		strcat(w, "\r\n");
		prefix_is(__LINE__, &in, MSGHDR_PREFIX_MAX, w);
	}

	/* Everything at its longest fits in MSGHDR_PREFIX_MAX. */
	memset(big, '\x01', sizeof(big) - 1);
	in.flags = ALL;
	in.server_host = in.local_host = in.user = in.uidl = big;
	{
		static char head[2048];
		char out[MSGHDR_PREFIX_MAX];
		size_t n, len;
		const char *p, *e;

		/* The longest sender: 253 bytes. */
		memset(head, 'a', sizeof(head));
		memcpy(head, "From: <", 7);
		strcpy(head + 7 + 253 - 2, "@b>\r\n\r\n");
		in.head = head;
		in.head_len = strlen(head);
		n = msghdr_prefix(&in, out, sizeof(out));
		len = strlen(out);
		CHECK(n == len);
		CHECK(strncmp(out, "Return-Path: <aaa", 17) == 0);
		CHECK(strstr(out, "X-Popfetch-UIDL: ") != NULL);
		/* Four lines, each ending in CRLF, under the limit. */
		int lines = 0;
		for (p = out; p < out + len; p = e + 2, lines++) {
			e = strstr(p, "\r\n");
			CHECK(e != NULL);
			if (e == NULL)
				break;
			CHECK(e - p <= MSGHDR_LINE_MAX);
			for (const char *q = p; q < e; q++)
				CHECK(*q >= 0x20 && *q <= 0x7e);
		}
		CHECK(lines == 4);
	}

	/* A buffer too small: whole lines left out, never a part. */
	in.server_host = "pop.example.org";
	in.local_host = "mybox";
	in.user = "me@example.org";
	in.uidl = "UID123";
	in.head = HEAD_FROM;
	in.head_len = sizeof(HEAD_FROM) - 1;
	in.flags = ALL;
	prefix_is(__LINE__, &in, strlen(all) + 1, all);
	prefix_is(__LINE__, &in, strlen(all), "Return-Path: <ann@x.org>\r\n"
	    "Received: from pop.example.org by mybox with POP3 (popfetch "
	    VERSION ") for <me@example.org>" RCVD_TAIL
	    "Delivered-To: me@example.org\r\n");
	prefix_is(__LINE__, &in, 27, "Return-Path: <ann@x.org>\r\n");
	/* (not the UIDL line alone, although it would fit) */
	prefix_is(__LINE__, &in, 26, "");
	prefix_is(__LINE__, &in, 1, "");
	prefix_is(__LINE__, &in, 0, "");
}

int
main(void)
{
	test_head();
	test_sender();
	test_date();
	test_prefix();
	return unit_done("unit_msghdr");
}
