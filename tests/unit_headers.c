/*
 * unit_headers.c - From and Subject out of a header section (headers.c),
 * fed at every split of the bytes: CRLF and LF, folded lines, case,
 * the first of two, a long line cut, nothing from the body.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "headers.h"
#include "unit.h"

static void
check_all_splits(const char *msg, const char *from, const char *subject)
{
	size_t n = strlen(msg);

	for (size_t cut = 0; cut <= n; cut++) {
		struct headers h;

		headers_init(&h);
		headers_feed(&h, msg, cut);
		headers_feed(&h, msg + cut, n - cut);
		CHECK_STR(h.from, from);
		CHECK_STR(h.subject, subject);
	}
}

int
main(void)
{
	char big[3000];

	check_all_splits("From: A <a@x>\r\nTo: b\r\nSubject: hi\r\n\r\n"
	    "From: body <no@x>\r\nSubject: no\r\n", "A <a@x>", "hi");
	check_all_splits("subject:  folded\n\tsecond line\n  third\nFROM:B\n\n",
	    "B", "folded second line third");
	check_all_splits("From: first\nFrom: second\nSubject: s\n\n", "first",
	    "s");
	check_all_splits("X-A: 1\n\nSubject: in the body\n", "", "");
	check_all_splits("", "", "");
	check_all_splits("Subject: no end", "", "");
	/* A line longer than the scanner keeps: cut, the next line read. */
	memset(big, 'z', sizeof(big));
	memcpy(big, "Subject: ", 9);
	strcpy(big + 2900, "\nFrom: after\n\n");
	{
		struct headers h;

		headers_init(&h);
		headers_feed(&h, big, strlen(big));
		CHECK(strlen(h.subject) == HEADERS_MAX - 1);
		CHECK_STR(h.from, "after");
	}
	return unit_done("unit_headers");
}
