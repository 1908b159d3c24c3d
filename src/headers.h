/*
 * headers.h - From and Subject of a message, for -v and --dry-run -v:
 * fed the message's bytes in chunks of any size (CRLF or LF line ends),
 * it keeps the first From: and Subject: of the header section, unfolded
 * (a line break and the indent become one space), each cut to
 * HEADERS_MAX - 1 bytes, and ignores everything after the first empty
 * line. Pure: no I/O, no allocation. The text is the server's, raw:
 * print it only quoted (pop3_quote).
 */
#ifndef POPFETCH_HEADERS_H
#define POPFETCH_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#define HEADERS_MAX 200
#define HEADERS_LINE_MAX 1000

struct headers {
	char from[HEADERS_MAX], subject[HEADERS_MAX];
	/* Scanner state. */
	char line[HEADERS_LINE_MAX];
	size_t len;        /* bytes of line kept (the rest of a long line is
	                      dropped) */
	bool done;         /* the empty line was seen */
	char *cur;         /* the header a continuation line extends */
};

void headers_init(struct headers *h);
void headers_feed(struct headers *h, const char *buf, size_t len);
/* One header line (no line end), as TOP gives them. */
void headers_line(struct headers *h, const char *line, size_t len);

#endif
