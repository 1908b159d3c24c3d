/*
 * headers.c - From and Subject out of a message's header section. See
 * headers.h.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include "headers.h"

void
headers_init(struct headers *h)
{
	memset(h, 0, sizeof(*h));
}

static void
add_text(char *dst, const char *src, size_t len)
{
	size_t have = strlen(dst);

	if (have + 1 >= HEADERS_MAX)
		return;
	if (len > HEADERS_MAX - 1 - have)
		len = HEADERS_MAX - 1 - have;
	memcpy(dst + have, src, len);
	dst[have + len] = '\0';
}

void
headers_line(struct headers *h, const char *line, size_t len)
{
	if (h->done)
		return;
	if (len == 0) {
		h->done = true;
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		/* Folded: one space for the line break. */
		while (len > 0 && (line[0] == ' ' || line[0] == '\t'))
			line++, len--;
		if (h->cur != NULL) {
			add_text(h->cur, " ", 1);
			add_text(h->cur, line, len);
		}
		return;
	}
	h->cur = NULL;
	if (len >= 5 && strncasecmp(line, "From:", 5) == 0 &&
	    h->from[0] == '\0')
		h->cur = h->from, line += 5, len -= 5;
	else if (len >= 8 && strncasecmp(line, "Subject:", 8) == 0 &&
	    h->subject[0] == '\0')
		h->cur = h->subject, line += 8, len -= 8;
	if (h->cur == NULL)
		return;
	while (len > 0 && (line[0] == ' ' || line[0] == '\t'))
		line++, len--;
	add_text(h->cur, line, len);
}

void
headers_feed(struct headers *h, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && !h->done; i++) {
		if (buf[i] == '\n') {
			size_t l = h->len;

			if (l > 0 && h->line[l - 1] == '\r')
				l--;
			headers_line(h, h->line, l);
			h->len = 0;
			continue;
		}
		if (h->len < sizeof(h->line))
			h->line[h->len++] = buf[i];
	}
}
