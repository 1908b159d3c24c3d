/*
 * unit_pop3_parse.c - exact answers of the POP3 line parsers on the lines
 * real servers send and on the malformed ones they must refuse. The fuzz
 * target compares the parsers against a reference; this says what the
 * reference itself must answer.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "pop3_parse.h"
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

int
main(void)
{
	test_apop();
	test_octets();
	test_listings();
	test_respcode();
	return unit_done("unit_pop3_parse");
}
