/*
 * unit_pop3_parse.c - exact answers of the POP3 line parsers on the lines
 * real servers send and on the malformed ones they must refuse. The fuzz
 * target compares the parsers against a reference; this says what the
 * reference itself must answer. Also textclean_line, which every piece
 * of server text goes through before it is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "certpin.h"
#include "pop3_parse.h"
#include "textclean.h"
#include "unit.h"

#define L(s) (s), (sizeof(s) - 1)

static void
test_apop(void)
{
	/* RFC 1939's example and Dovecot's form. */
	CHECK(pop3_parse_apop_greeting(
	    L("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")));
	CHECK(pop3_parse_apop_greeting(L("+OK Dovecot ready. <1a.2b@host>\r\n")));
	CHECK(pop3_parse_apop_greeting(L("+OK <@>")));
	/* libcurl offers APOP only when the greeting ends in the timestamp. */
	CHECK(!pop3_parse_apop_greeting(L("+OK <1.2@host> ready")));
	CHECK(!pop3_parse_apop_greeting(L("+OK <1.2@host")));
	/* No '@' in the timestamp: not RFC 822 msg-id syntax, no APOP. */
	CHECK(!pop3_parse_apop_greeting(L("+OK ready <1896.697170952>")));
	/* The first '<' opens the timestamp; an '@' before it does not count. */
	CHECK(!pop3_parse_apop_greeting(L("+OK a@b <1.2>")));
	CHECK(pop3_parse_apop_greeting(L("+OK <a> b@c>")));
	/* A '<' in the first three bytes is not looked at. */
	CHECK(!pop3_parse_apop_greeting(L("<@>")));
	CHECK(!pop3_parse_apop_greeting(L("+O<@>")));
	CHECK(!pop3_parse_apop_greeting(L("")));
	CHECK(!pop3_parse_apop_greeting(L("\r\n")));

	/* A greeting longer than a reply line buffer (LINE_MAX_LEN, 1024):
	 * the whole line decides, as it does for libcurl. */
	{
		static char g[1600];
		size_t n = 0;

		n += (size_t)snprintf(g, sizeof(g), "+OK ");
		memset(g + n, 'x', 1500);
		n += 1500;
		n += (size_t)snprintf(g + n, sizeof(g) - n, " <1.2@host>\r\n");
		CHECK(pop3_parse_apop_greeting(g, n));
		/* The timestamp's '<' within the first 1,023 bytes, its end
		 * beyond. */
		g[10] = '<';
		g[11] = '@';
		CHECK(pop3_parse_apop_greeting(g, n));
		g[10] = g[11] = 'x';
		g[n - 3] = ' ';   /* no longer ends in '>' */
		CHECK(!pop3_parse_apop_greeting(g, n));
	}
}

static void
test_octets(void)
{
	unsigned long long n = 7;

	CHECK(pop3_parse_octets(L("+OK 1234 octets"), &n) == 0 && n == 1234);
	CHECK(pop3_parse_octets(L("+OK 0 octets"), &n) == 0 && n == 0);
	n = 7;
	CHECK(pop3_parse_octets(L("+OK message follows"), &n) == -1 && n == 7);
	CHECK(pop3_parse_octets(L("+OK "), &n) == -1);
	CHECK(pop3_parse_octets(L("+OK"), &n) == -1);
	CHECK(pop3_parse_octets(L("+"), &n) == -1);
	CHECK(pop3_parse_octets(L(""), &n) == -1);
	CHECK(pop3_parse_octets(L("-ERR 12 octets"), &n) == -1);
	CHECK(pop3_parse_octets(L("+OK 99999999999999999999999 octets"),
	    &n) == -1);
}

static void
test_listings(void)
{
	unsigned long num = 0, count = 0;
	unsigned long long size = 0, octets = 0;
	const char *u = NULL;
	size_t ulen = 0;

	CHECK(pop3_parse_list(L("3 120"), &num, &size) == 0 && num == 3 &&
	    size == 120);
	CHECK(pop3_parse_list(L("0 120"), &num, &size) == -1);
	CHECK(pop3_parse_list(L("3"), &num, &size) == -1);
	CHECK(pop3_parse_list(L("x 1"), &num, &size) == -1);

	CHECK(pop3_parse_uidl(L("2 a b/%\xe9"), &num, &u, &ulen) == 0 &&
	    num == 2 && ulen == 6);
	if (u != NULL)
		CHECK_MEM(u, ulen, "a b/%\xe9", 6);
	CHECK(pop3_parse_uidl(L("2 "), &num, &u, &ulen) == -1);
	CHECK(pop3_parse_uidl(L("2"), &num, &u, &ulen) == -1);

	CHECK(pop3_parse_stat(L("+OK 2 320"), &count, &octets) == 0 &&
	    count == 2 && octets == 320);
	CHECK(pop3_parse_stat(L("+OK 2"), &count, &octets) == -1);
	CHECK(pop3_parse_stat(L("-ERR 2 320"), &count, &octets) == -1);
}

static void
test_respcode(void)
{
	CHECK(pop3_parse_respcode(L("-ERR [AUTH] bad password")) == EX_NOPERM);
	CHECK(pop3_parse_respcode(L("-ERR [IN-USE] locked")) == EX_TEMPFAIL);
	CHECK(pop3_parse_respcode(L("-ERR [LOGIN-DELAY] wait")) ==
	    EX_TEMPFAIL);
	CHECK(pop3_parse_respcode(L("-ERR [SYS/TEMP] later")) == EX_TEMPFAIL);
	CHECK(pop3_parse_respcode(L("-ERR [SYS/PERM] no")) == EX_UNAVAILABLE);
	CHECK(pop3_parse_respcode(L("-ERR [sys/temp] later")) == EX_TEMPFAIL);
	CHECK(pop3_parse_respcode(L("-ERR no such message")) == 0);
	CHECK(pop3_parse_respcode(L("-ERR [")) == 0);
	CHECK(pop3_parse_respcode(L("+OK [AUTH]")) == 0);
}

/* textclean_line of the literal s into a buffer of dstlen. */
static const char *
clean(const char *s, size_t len, size_t dstlen, const struct textclean *t)
{
	static char out[TEXTCLEAN_WINDOW + 16];

	CHECK(textclean_line(out, dstlen, s, len, t) == strlen(out));
	return out;
}
#define CLEAN(s) clean((s), sizeof(s) - 1, 1024, NULL)
#define CLEANT(s, t) clean((s), sizeof(s) - 1, 1024, (t))

static void
test_clean_escapes(void)
{
	char *big;
	const char *out;

	CHECK_STR(CLEAN("+OK hi\r\n"), "+OK hi");
	CHECK_STR(CLEAN("-ERR \x1b]0;PWNED\x07\x1b[2J"),
	    "-ERR \\x1b]0;PWNED\\x07\\x1b[2J");
	/* Controls inside the line, CR, LF, TAB and NUL too; DEL. */
	CHECK_STR(CLEAN("a\rb\nc\td\0e\x7f"),
	    "a\\x0db\\x0ac\\x09d\\x00e\\x7f");
	/* A backslash is doubled, so an escape cannot be faked. */
	CHECK_STR(CLEAN("a\\x1b"), "a\\\\x1b");
	/* Printable UTF-8 stays: 2, 3 and 4 bytes. */
	CHECK_STR(CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
	/* C1 controls (U+009B CSI as UTF-8, a lone 0x9B), overlong forms,
	 * surrogates, beyond U+10FFFF, a cut sequence, stray continuation
	 * bytes, bidirectional overrides: every byte escaped. */
	CHECK_STR(CLEAN("\xc2\x9b\x9b"), "\\xc2\\x9b\\x9b");
	CHECK_STR(CLEAN("\xc0\xaf\xe0\x80\xaf"),
	    "\\xc0\\xaf\\xe0\\x80\\xaf");
	CHECK_STR(CLEAN("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CHECK_STR(CLEAN("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	CHECK_STR(CLEAN("x\xe2\x82"), "x\\xe2\\x82");
	CHECK_STR(CLEAN("\xa9\xff"), "\\xa9\\xff");
	CHECK_STR(CLEAN("\xe2\x80\xae\xe2\x81\xa6"),
	    "\\xe2\\x80\\xae\\xe2\\x81\\xa6");
	/* The Arabic letter mark U+061C, zero-width and invisible format
	 * characters (U+200B-U+200D, U+2060-U+206F, U+FEFF) and the line and
	 * paragraph separators U+2028, U+2029: escaped the same way. */
	CHECK_STR(CLEAN("a\xd8\x9c"), "a\\xd8\\x9c");
	CHECK_STR(CLEAN("\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d"),
	    "\\xe2\\x80\\x8b\\xe2\\x80\\x8c\\xe2\\x80\\x8d");
	CHECK_STR(CLEAN("\xe2\x81\xa0\xe2\x81\xa4\xe2\x81\xaf"),
	    "\\xe2\\x81\\xa0\\xe2\\x81\\xa4\\xe2\\x81\\xaf");
	CHECK_STR(CLEAN("\xef\xbb\xbf"), "\\xef\\xbb\\xbf");
	CHECK_STR(CLEAN("x\xe2\x80\xa8y\xe2\x80\xa9z"),
	    "x\\xe2\\x80\\xa8y\\xe2\\x80\\xa9z");
	/* Their neighbours are printable and stay. */
	CHECK_STR(CLEAN("\xd8\x9b\xe2\x80\x8a\xe2\x80\xa7\xe2\x81\x9f\xef\xbb\xbe"),
	    "\xd8\x9b\xe2\x80\x8a\xe2\x80\xa7\xe2\x81\x9f\xef\xbb\xbe");
	CHECK_STR(CLEAN(""), "");
	CHECK_STR(CLEAN("\r\n"), "");

	/* Cut to fit, with "...", never inside an escape or a character. */
	CHECK_STR(clean("0123456789abcdef", 16, 12, NULL), "01234567...");
	CHECK_STR(clean("abc\x1b", 4, 10, NULL), "abc...");
	CHECK_STR(clean("ab\x1b", 3, 10, NULL), "ab\\x1b");
	CHECK_STR(clean("abcd\xe2\x82\xac", 7, 8, NULL), "abcd...");
	CHECK_STR(clean("abc", 3, 1, NULL), "");
	CHECK_STR(clean("abc", 3, 3, NULL), "ab");

	/* Beyond the window: its first half, not ending inside a word that
	 * runs on (it could be base64 reaching past the window). */
	big = malloc(20000);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	for (size_t i = 0; i < 20000; i++)
		big[i] = "word "[i % 5];
	out = clean(big, 20000, TEXTCLEAN_WINDOW + 16, NULL);
	CHECK(strlen(out) == 8190 + 3);
	CHECK(memcmp(out, big, 8190) == 0);
	CHECK_STR(out + 8190 - 2, "d ...");
	free(big);
}

#define H(s) (s), (sizeof(s) - 1)

/* "PREFIX'" base64(head + secret + tail) "' SUFFIX", cleaned with t. */
static const char *
clean_b64(const struct textclean *t, const char *head, size_t hlen,
    const char *secret, const char *tail)
{
	uint8_t in[256];
	char line[512];
	size_t n = 0, o;

	memcpy(in, head, hlen);
	n = hlen;
	memcpy(in + n, secret, strlen(secret));
	n += strlen(secret);
	memcpy(in + n, tail, strlen(tail));
	n += strlen(tail);
	o = (size_t)snprintf(line, sizeof(line), "-ERR [AUTH] bad '");
	o += certpin_base64(in, n, line + o, sizeof(line) - o);
	o += (size_t)snprintf(line + o, sizeof(line) - o, "' here");
	return clean(line, o, 1024, t);
}

static void
test_clean_secrets(void)
{
	const char *pw = "sekrit-PW-1234";
	struct textclean *t = textclean_for_login("alice", pw, NULL,
	    "pop.example", 995);
	struct textclean *b = textclean_for_login("alice", NULL,
	    "tok-Vb83!Kq_oauth-x1", "pop.example", 995);
	struct textclean *one = textclean_for_login("alice", "1", NULL, "h", 1);
	struct textclean *ctl = textclean_new();
	char head[8];

	CHECK(textclean_for_login("alice", NULL, NULL, "h", 1) == NULL);
	CHECK(textclean_for_login("alice", "", "", "h", 1) == NULL);
	textclean_free(NULL);
	if (t == NULL || b == NULL || one == NULL)
		return;

	/* The literal, also next to other text; the rest stays. */
	CHECK_STR(CLEANT("-ERR [AUTH] wrong password 'sekrit-PW-1234'", t),
	    "-ERR [AUTH] wrong password '<redacted>'");
	CHECK_STR(CLEANT("x sekrit-PW-1234sekrit-PW-1234y", t),
	    "x <redacted>y");
	CHECK_STR(CLEANT("-ERR [AUTH] Authentication failed.", t),
	    "-ERR [AUTH] Authentication failed.");
	/* Its hex. */
	CHECK_STR(CLEANT("pw 73656b7269742d50572d31323334.", t),
	    "pw <redacted>.");
	CHECK_STR(CLEANT("pw 73656B7269742D50572D31323334.", t),
	    "pw <redacted>.");
	/* Base64: alone (LOGIN), as SASL PLAIN (both forms), with padding. */
	CHECK_STR(clean_b64(t, H(""), pw, ""),
	    "-ERR [AUTH] bad '<redacted>' here");
	CHECK_STR(clean_b64(t, H("\0alice\0"), pw, ""),
	    "-ERR [AUTH] bad '<redacted>' here");
	CHECK_STR(clean_b64(t, H("alice\0alice\0"), pw, ""),
	    "-ERR [AUTH] bad '<redacted>' here");
	/* Inside any longer message, at each of the three alignments, with
	 * anything after it. */
	for (size_t k = 0; k < 6; k++) {
		memcpy(head, "zq\x01\xff#7", 6);
		CHECK_STR(clean_b64(t, head, k, pw, ""),
		    "-ERR [AUTH] bad '<redacted>' here");
		CHECK_STR(clean_b64(t, head, k, pw, "\x01tail\x01\x01"),
		    "-ERR [AUTH] bad '<redacted>' here");
	}
	/* The URL alphabet (this secret's base64 is all '+' and '/'). */
	{
		struct textclean *u = textclean_new();
		const char *s = "\xfb\xef\xbe\xfb\xef\xbe-url-secret";

		textclean_add_secret(u, s, strlen(s));
		CHECK_STR(CLEANT("'--------LXVybC1zZWNyZXQ=' x", u),
		    "'<redacted>' x");
		CHECK_STR(CLEANT("'++++++++LXVybC1zZWNyZXQ=' x", u),
		    "'<redacted>' x");
		textclean_free(u);
	}
	/* A token, alone and in XOAUTH2 and OAUTHBEARER messages. */
	CHECK_STR(CLEANT("-ERR tok-Vb83!Kq_oauth-x1", b),
	    "-ERR <redacted>");
	CHECK_STR(clean_b64(b, H("user=alice\1auth=Bearer "),
	    "tok-Vb83!Kq_oauth-x1", "\1\1"), "-ERR [AUTH] bad '<redacted>' here");
	CHECK_STR(clean_b64(b, H("n,a=alice,\1host=pop.example\1port=995\1"
	    "auth=Bearer "), "tok-Vb83!Kq_oauth-x1", "\1\1"),
	    "-ERR [AUTH] bad '<redacted>' here");
	/* A one-byte password: its SASL messages are still found whole;
	 * the literal goes wherever it is (the parsers see the raw line). */
	CHECK_STR(clean_b64(one, H("\0alice\0"), "1", ""),
	    "-ERR [AUTH] bad '<redacted>' here");
	CHECK_STR(CLEANT("+OK 2 100", one), "+OK 2 <redacted>00");
	/* A secret with control bytes is redacted before escaping. */
	textclean_add_secret(ctl, "pw\x1b[x", 5);
	CHECK_STR(CLEANT("a pw\x1b[x b\x1b", ctl),
	    "a <redacted> b\\x1b");
	/* A secret cut by the end of the buffer is not printed in part. */
	CHECK_STR(clean("-ERR 'sekrit-PW-1234'", 21, 12, t), "-ERR '...");
	textclean_free(ctl);
	textclean_free(one);
	textclean_free(b);
	textclean_free(t);
}

/* textclean_cut: a kept copy never ends inside a secret's form. */
static void
test_clean_cut(void)
{
	struct textclean *t = textclean_for_login("alice", "sekrit-PW-1234",
	    NULL, "pop.example", 995);
	const char *lit = "-ERR x sekrit-PW-1234 y";
	const char *hex = "-ERR 73656b7269742d50572d31323334 y";
	const char *b64 = "-ERR c2Vrcml0LVBXLTEyMzQAAAAAAA y";

	if (t == NULL)
		return;
	/* A cut inside the literal, its hex, its base64 run (anywhere in
	 * the run, even past the secret's own characters): back to the
	 * start of the form. */
	for (size_t max = 8; max < 21; max++)
		CHECK(textclean_cut(t, lit, strlen(lit), max) == 7);
	for (size_t max = 6; max < 33; max++)
		CHECK(textclean_cut(t, hex, strlen(hex), max) == 5);
	for (size_t max = 6; max < 31; max++)
		CHECK(textclean_cut(t, b64, strlen(b64), max) == 5);
	/* Elsewhere, or when it all fits, or without secrets: as asked. */
	CHECK(textclean_cut(t, lit, strlen(lit), 7) == 7);
	CHECK(textclean_cut(t, lit, strlen(lit), 22) == 22);
	CHECK(textclean_cut(t, lit, strlen(lit), 23) == 23);
	CHECK(textclean_cut(t, lit, strlen(lit), 99) == 23);
	CHECK(textclean_cut(NULL, lit, strlen(lit), 12) == 12);
	/* What is kept then prints with nothing of the secret. */
	CHECK_STR(clean(lit, textclean_cut(t, lit, strlen(lit), 12), 64, t),
	    "-ERR x ");
	textclean_free(t);
}

int
main(void)
{
	test_apop();
	test_octets();
	test_listings();
	test_respcode();
	test_clean_escapes();
	test_clean_secrets();
	test_clean_cut();
	return unit_done("unit_pop3_parse");
}
