/*
 * pop3_parse.c - POP3 reply lines to numbers and strings. No allocation,
 * no locale, no reading past len: these see whatever a server sends.
 */
#include "autoconf.h"

#include <string.h>
#include <sysexits.h>

#include "pop3_parse.h"

/* Read a decimal number at *p (at most 19 digits: no overflow). */
static int
number(const char **p, const char *end, unsigned long long *out)
{
	unsigned long long v = 0;
	int digits = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (++digits > 19)
			return -1;
		v = v * 10 + (unsigned long long)(**p - '0');
		(*p)++;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

static int
ulong_number(const char **p, const char *end, unsigned long *out)
{
	unsigned long long v;

	if (number(p, end, &v) != 0 || v > (unsigned long)-1)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

int
pop3_parse_list(const char *line, size_t len, unsigned long *num,
    unsigned long long *size)
{
	const char *p = line, *end = line + len;

	if (ulong_number(&p, end, num) != 0 || *num == 0)
		return -1;
	if (p == end || *p != ' ')
		return -1;
	p++;
	if (number(&p, end, size) != 0)
		return -1;
	/* RFC 1939 allows more after the size; it means nothing to us. */
	return p == end || *p == ' ' ? 0 : -1;
}

int
pop3_parse_uidl(const char *line, size_t len, unsigned long *num,
    const char **uidl, size_t *uidl_len)
{
	const char *p = line, *end = line + len;

	if (ulong_number(&p, end, num) != 0 || *num == 0)
		return -1;
	if (p == end || *p != ' ' || p + 1 == end)
		return -1;
	*uidl = p + 1;
	*uidl_len = (size_t)(end - (p + 1));
	return 0;
}

int
pop3_parse_stat(const char *line, size_t len, unsigned long *count,
    unsigned long long *octets)
{
	const char *p = line, *end = line + len;

	if (len < 4 || memcmp(line, "+OK ", 4) != 0)
		return -1;
	p += 4;
	if (ulong_number(&p, end, count) != 0 || p == end || *p != ' ')
		return -1;
	p++;
	return number(&p, end, octets);
}

int
pop3_parse_octets(const char *line, size_t len, unsigned long long *n)
{
	const char *p, *end = line + len;

	if (len < 5 || memcmp(line, "+OK ", 4) != 0)
		return -1;
	p = line + 4;
	return number(&p, end, n);
}

int
pop3_parse_respcode(const char *line, size_t len)
{
	static const struct { const char *code; int ex; } map[] = {
		{ "[AUTH]", EX_NOPERM },
		{ "[IN-USE]", EX_TEMPFAIL },
		{ "[LOGIN-DELAY]", EX_TEMPFAIL },
		{ "[SYS/TEMP]", EX_TEMPFAIL },
		{ "[SYS/PERM]", EX_UNAVAILABLE },
	};

	if (len < 6 || memcmp(line, "-ERR [", 6) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t l = strlen(map[i].code);
		if (len - 5 >= l && strncasecmp(line + 5, map[i].code, l) == 0)
			return map[i].ex;
	}
	return 0;
}

bool
pop3_parse_apop_greeting(const char *line, size_t len)
{
	const char *lt, *gt;

	/* libcurl's rule, so that we agree with it on when it tried APOP:
	 * the greeting ends in '>', the first '<' from the fourth byte on
	 * opens the timestamp, and the timestamp holds an '@'. */
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len < 5 || line[len - 1] != '>')
		return false;
	gt = line + len - 1;
	lt = memchr(line + 3, '<', (size_t)(gt - (line + 3)));
	return lt != NULL && memchr(lt, '@', (size_t)(gt - lt)) != NULL;
}
