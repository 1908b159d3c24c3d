/*
 * msghdr.c - the head of a message, its envelope sender and the header
 * lines popfetch adds. See msghdr.h.
 *
 * The sender is read with a small tokenizer over the unfolded field
 * (RFC 5322 3.2-3.4, with the obsolete forms of 4: blanks around '.' and
 * '@', routes, empty list elements) and a state machine over its tokens.
 * The address is escaped straight into the caller's buffer as it is read:
 * a display name read on the way is dropped at the '<' that follows it,
 * so one buffer is enough, and an address that overflows it is simply not
 * usable.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "msghdr.h"
#include "util.h"

_Static_assert(MSGHDR_ADD_RECEIVED == ADD_HDR_RECEIVED &&
    MSGHDR_ADD_DELIVERED_TO == ADD_HDR_DELIVERED_TO &&
    MSGHDR_ADD_UIDL == ADD_HDR_UIDL &&
    MSGHDR_ADD_RETURN_PATH == ADD_HDR_RETURN_PATH,
    "msghdr.h's MSGHDR_ADD_* differ from config.h's ADD_HDR_*");

/* ---- the head buffer --------------------------------------------------- */

#define HEAD_FIRST_ALLOC 4096

void
msghdr_head_init(struct msghdr_head *h)
{
	memset(h, 0, sizeof(*h));
	h->end = MSGHDR_HEAD_MORE;
}

size_t
msghdr_head_feed(struct msghdr_head *h, const char *buf, size_t len)
{
	size_t lim, i = 0;

	if (h->end != MSGHDR_HEAD_MORE || len == 0)
		return 0;
	lim = MSGHDR_HEAD_MAX - h->len;
	if (lim > len)
		lim = len;
	while (i < lim) {
		char c = buf[i++];

		if (c == '\n') {
			if (h->line < 2) {
				h->end = MSGHDR_HEAD_BLANK;
				break;
			}
			h->line = 0;
		} else if (c == '\r' && h->line == 0)
			h->line = 1;
		else
			h->line = 2;
	}
	if (h->len + i > h->cap) {
		size_t cap = h->cap ? h->cap : HEAD_FIRST_ALLOC;

		while (cap < h->len + i)
			cap *= 2;
		if (cap > MSGHDR_HEAD_MAX)
			cap = MSGHDR_HEAD_MAX;
		h->buf = xrealloc(h->buf, cap);
		h->cap = cap;
	}
	memcpy(h->buf + h->len, buf, i);
	h->len += i;
	if (h->end == MSGHDR_HEAD_MORE && h->len == MSGHDR_HEAD_MAX)
		h->end = MSGHDR_HEAD_CAP;
	return i;
}

void
msghdr_head_finish(struct msghdr_head *h)
{
	if (h->end == MSGHDR_HEAD_MORE)
		h->end = MSGHDR_HEAD_EOF;
}

bool
msghdr_head_done(const struct msghdr_head *h)
{
	return h->end != MSGHDR_HEAD_MORE;
}

enum msghdr_head_end
msghdr_head_end(const struct msghdr_head *h)
{
	return h->end;
}

const char *
msghdr_head_data(const struct msghdr_head *h)
{
	return h->buf;
}

size_t
msghdr_head_len(const struct msghdr_head *h)
{
	return h->len;
}

void
msghdr_head_reset(struct msghdr_head *h)
{
	free(h->buf);
	msghdr_head_init(h);
}

/* ---- escaping ---------------------------------------------------------- */

static const char hex[] = "0123456789ABCDEF";

/* Bytes a value may keep: printable ASCII, but for those in extra. */
static bool
keeps(unsigned char b, const char *extra)
{
	return b >= 0x21 && b <= 0x7e &&
	    (extra == NULL || strchr(extra, b) == NULL);
}

/* Escape the C string s into dst, at most max bytes (never part of an
 * escape); returns the length. No NUL is written. */
static size_t
escape_value(char *dst, size_t max, const char *s, const char *extra)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char b = (unsigned char)*s;

		if (keeps(b, extra)) {
			if (n + 1 > max)
				break;
			dst[n++] = (char)b;
		} else {
			if (n + 3 > max)
				break;
			dst[n++] = '%';
			dst[n++] = hex[b >> 4];
			dst[n++] = hex[b & 15];
		}
	}
	return n;
}

/* ---- the envelope sender ----------------------------------------------- */

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_special(unsigned char c)
{
	return strchr("()<>[]:;@,.\"", c) != NULL && c != '\0';
}

enum tok { T_END, T_WORD, T_BAD, T_CHAR };

struct lexer {
	const unsigned char *p, *end;
	const unsigned char *ws, *we;	/* T_WORD: its bytes */
	unsigned char c;		/* T_CHAR: the special */
};

/* Up to the byte that closes a quoted string or a domain literal, a
 * backslash quoting the byte after it; false when the field ends first. */
static bool
lex_closed(struct lexer *lx, unsigned char close)
{
	while (lx->p < lx->end) {
		unsigned char c = *lx->p++;

		if (c == close)
			return true;
		if (c == '\\' && lx->p < lx->end)
			lx->p++;
	}
	return false;
}

static enum tok
lex_next(struct lexer *lx)
{
	for (;;) {
		unsigned char c;

		while (lx->p < lx->end && is_blank(*lx->p))
			lx->p++;
		if (lx->p == lx->end)
			return T_END;
		c = *lx->p;
		if (c == '(') {
			/* A comment, nested, to its end (or the field's). */
			int depth = 0;

			while (lx->p < lx->end) {
				c = *lx->p++;
				if (c == '\\' && lx->p < lx->end)
					lx->p++;
				else if (c == '(')
					depth++;
				else if (c == ')' && --depth == 0)
					break;
			}
			continue;
		}
		lx->ws = lx->p;
		if (c == '"' || c == '[') {
			lx->p++;
			if (!lex_closed(lx, c == '"' ? '"' : ']'))
				return T_BAD;
			lx->we = lx->p;
			return T_WORD;
		}
		if (is_special(c)) {
			lx->p++;
			lx->c = c;
			return T_CHAR;
		}
		while (lx->p < lx->end && !is_blank(*lx->p) &&
		    !is_special(*lx->p))
			lx->p++;
		lx->we = lx->p;
		return T_WORD;
	}
}

/* An address being read, escaped into the caller's buffer. */
struct coll {
	char *out;
	size_t max;		/* bytes out may take (outsz - 1) */
	size_t len;
	bool over;		/* did not fit */
	bool bad;		/* two words with nothing between, two '@' */
	bool any;		/* a token was read */
	bool last_word;
	int before_at, after_at, ats;	/* words, '@'s */
};

static void
coll_reset(struct coll *c)
{
	c->len = 0;
	c->over = c->bad = c->any = c->last_word = false;
	c->before_at = c->after_at = c->ats = 0;
}

static void
coll_byte(struct coll *c, unsigned char b)
{
	size_t n = keeps(b, NULL) ? 1 : 3;

	if (c->over || c->len + n > c->max) {
		c->over = true;
		return;
	}
	if (n == 1)
		c->out[c->len++] = (char)b;
	else {
		c->out[c->len++] = '%';
		c->out[c->len++] = hex[b >> 4];
		c->out[c->len++] = hex[b & 15];
	}
}

static void
coll_word(struct coll *c, const unsigned char *s, const unsigned char *e)
{
	if (c->last_word)
		c->bad = true;
	c->any = c->last_word = true;
	if (c->ats > 0)
		c->after_at++;
	else
		c->before_at++;
	/* A quoted string or literal may be folded: the line break goes,
	 * the blank after it stays (unfolding). */
	for (; s < e; s++) {
		if (*s == '\n' || (*s == '\r' && s + 1 < e && s[1] == '\n'))
			continue;
		coll_byte(c, *s);
	}
}

static void
coll_sep(struct coll *c, unsigned char sep)
{
	c->any = true;
	c->last_word = false;
	if (sep == '@' && ++c->ats > 1)
		c->bad = true;
	coll_byte(c, sep);
}

static bool
coll_ok(const struct coll *c)
{
	return !c->bad && !c->over && c->before_at > 0 &&
	    (c->ats == 0 || c->after_at > 0);
}

enum found { F_NONE, F_ADDR, F_NULL };

/*
 * The first address of the address list in [p, end): F_ADDR (in c->out,
 * c->len bytes), F_NULL for a "<>" met first (when allow_null; else it is
 * passed over like any element that holds no address), or F_NONE.
 */
static enum found
first_address(const unsigned char *p, const unsigned char *end,
    struct coll *c, bool allow_null)
{
	enum { PLAIN, ANGLE, ROUTE, SKIP } st = PLAIN;
	struct lexer lx = { p, end, NULL, NULL, 0 };
	bool angle_first = false;
	enum tok t;

	coll_reset(c);
	while ((t = lex_next(&lx)) != T_END) {
		unsigned char ch = t == T_CHAR ? lx.c : 0;

		switch (st) {
		case PLAIN:
			if (t == T_WORD)
				coll_word(c, lx.ws, lx.we);
			else if (ch == '.' || ch == '@')
				coll_sep(c, ch);
			else if (ch == ',' || ch == ';') {
				if (c->any && coll_ok(c))
					return F_ADDR;
				coll_reset(c);
			} else if (ch == ':')
				coll_reset(c);	/* a group's name */
			else if (ch == '<') {
				coll_reset(c);	/* a display name */
				st = ANGLE;
				angle_first = true;
			} else
				st = SKIP;
			break;
		case ROUTE:
			if (ch == ':')
				st = ANGLE;
			else if (t == T_BAD || ch == '>' || ch == '<' ||
			    ch == ';')
				st = SKIP;
			break;
		case ANGLE:
			if (angle_first && ch == '@') {
				st = ROUTE;
				break;
			}
			angle_first = false;
			if (t == T_WORD)
				coll_word(c, lx.ws, lx.we);
			else if (ch == '.' || ch == '@')
				coll_sep(c, ch);
			else if (ch == '>') {
				if (!c->any && allow_null)
					return F_NULL;
				if (c->any && coll_ok(c))
					return F_ADDR;
				st = SKIP;
			} else if (ch == ',' || ch == ';') {
				coll_reset(c);
				st = PLAIN;
			} else
				st = SKIP;
			break;
		case SKIP:
			if (ch == ',' || ch == ';') {
				coll_reset(c);
				st = PLAIN;
			}
			break;
		}
	}
	/* The field ended: an element left open counts as ended, an angle
	 * address without its '>' too. */
	if (st == ANGLE && !c->any && allow_null)
		return F_NULL;
	if ((st == PLAIN || st == ANGLE) && c->any && coll_ok(c))
		return F_ADDR;
	return F_NONE;
}

struct span {
	const unsigned char *p, *end;
	bool seen;
};

/* Whether the line [p, e) is a field named name (any case, blanks allowed
 * before the colon); *val: where its value starts. */
static bool
field_is(const unsigned char *p, const unsigned char *e, const char *name,
    const unsigned char **val)
{
	size_t n = strlen(name);

	if ((size_t)(e - p) < n || strncasecmp((const char *)p, name, n) != 0)
		return false;
	p += n;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e || *p != ':')
		return false;
	*val = p + 1;
	return true;
}

/* The first Return-Path: and From: fields of the header section. */
static void
find_fields(const unsigned char *head, size_t len, struct span *rp,
    struct span *from)
{
	const unsigned char *p = head, *end = head + len;
	struct span *cur = NULL;

	while (p < end) {
		const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *e = lf != NULL ? lf : end;
		const unsigned char *val;

		/* Without its line end (a CR before the LF). */
		if (lf != NULL && e > p && e[-1] == '\r')
			e--;
		if (e == p && lf != NULL)
			return;	/* the empty line */
		if (*p == ' ' || *p == '\t') {
			if (cur != NULL)
				cur->end = e;	/* folded */
		} else if (!rp->seen && field_is(p, e, "Return-Path", &val)) {
			cur = rp;
			*rp = (struct span){ val, e, true };
		} else if (!from->seen && field_is(p, e, "From", &val)) {
			cur = from;
			*from = (struct span){ val, e, true };
		} else
			cur = NULL;
		if (lf == NULL)
			return;
		p = lf + 1;
	}
}

static const char mailer_daemon[] = "MAILER-DAEMON";

unsigned
msghdr_sender(const char *head, size_t len, char *out, size_t outsz)
{
	struct span rp = { NULL, NULL, false }, from = { NULL, NULL, false };
	struct coll c = { .out = out };
	unsigned bits = 0;

	if (outsz < MSGHDR_ADDR_MIN) {
		/* The caller's mistake: nothing sensible fits. */
		if (outsz > 0)
			out[0] = '\0';
		return 0;
	}
	c.max = outsz - 1;
	if (head != NULL)
		find_fields((const unsigned char *)head, len, &rp, &from);
	if (rp.seen) {
		bits |= MSGHDR_HAS_RETURN_PATH;
		switch (first_address(rp.p, rp.end, &c, true)) {
		case F_ADDR:
			out[c.len] = '\0';
			return bits | MSGHDR_FROM_RETURN_PATH;
		case F_NULL:
			memcpy(out, mailer_daemon, sizeof(mailer_daemon));
			return bits;
		case F_NONE:
			break;
		}
	}
	if (from.seen && first_address(from.p, from.end, &c, false) == F_ADDR) {
		out[c.len] = '\0';
		return bits | MSGHDR_FROM_FROM;
	}
	memcpy(out, mailer_daemon, sizeof(mailer_daemon));
	return bits;
}

/* ---- the date ---------------------------------------------------------- */

size_t
msghdr_date(time_t when, char *out)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm lt, ut;
	long long off;
	int n;

	if (localtime_r(&when, &lt) == NULL || gmtime_r(&when, &ut) == NULL ||
	    lt.tm_wday < 0 || lt.tm_wday > 6 || lt.tm_mon < 0 ||
	    lt.tm_mon > 11) {
		/* A time the C library cannot show: the epoch, honestly
		 * marked as no zone (RFC 5322 3.3, "-0000"). */
		memcpy(out, "Thu, 01 Jan 1970 00:00:00 -0000", 32);
		return 31;
	}
	/* The offset, from the two broken-down times (tm_gmtoff is not
	 * C11): they are at most a day apart. */
	if (lt.tm_year != ut.tm_year)
		off = lt.tm_year < ut.tm_year ? -1 : 1;
	else
		off = lt.tm_yday - ut.tm_yday;
	off = ((off * 24 + lt.tm_hour - ut.tm_hour) * 60 +
	    lt.tm_min - ut.tm_min) * 60 + lt.tm_sec - ut.tm_sec;
	n = snprintf(out, MSGHDR_DATE_MAX,
	    "%s, %02d %s %04d %02d:%02d:%02d %c%02lld%02lld",
	    days[lt.tm_wday], lt.tm_mday, months[lt.tm_mon],
	    lt.tm_year + 1900, lt.tm_hour, lt.tm_min, lt.tm_sec,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 3600,
	    (off < 0 ? -off : off) / 60 % 60);
	if (n < 0 || n >= MSGHDR_DATE_MAX) {
		memcpy(out, "Thu, 01 Jan 1970 00:00:00 -0000", 32);
		return 31;
	}
	return (size_t)n;
}

/* ---- the added lines --------------------------------------------------- */

#define RCVD_FIXED "Received: from  by  with POP3S (popfetch " VERSION \
	") for <>; "
_Static_assert(sizeof(RCVD_FIXED) - 1 + 3 * MSGHDR_VALUE_MAX +
    MSGHDR_DATE_MAX - 1 <= MSGHDR_LINE_MAX,
    "a Received: line could be longer than MSGHDR_LINE_MAX");
_Static_assert(MSGHDR_ADDR_MAX - 1 <= MSGHDR_VALUE_MAX,
    "a sender could be longer than MSGHDR_VALUE_MAX");
_Static_assert(sizeof("Return-Path: <>\r\n") - 1 + MSGHDR_VALUE_MAX +
    MSGHDR_LINE_MAX + 2 +
    sizeof("Delivered-To: \r\n") - 1 + MSGHDR_VALUE_MAX +
    sizeof("X-Popfetch-UIDL: \r\n") - 1 + MSGHDR_VALUE_MAX + 1 <=
    MSGHDR_PREFIX_MAX, "MSGHDR_PREFIX_MAX is too small");

/* Characters that would change a Received: field's structure. */
static const char rcvd_specials[] = "\"();<>\\";

struct line {
	char buf[MSGHDR_LINE_MAX + 3];
	size_t len;
};

static void
line_add(struct line *l, const char *s)
{
	size_t n = strlen(s);

	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
line_value(struct line *l, const char *s, const char *extra)
{
	if (s == NULL || *s == '\0')
		s = "unknown";
	l->len += escape_value(l->buf + l->len, MSGHDR_VALUE_MAX, s, extra);
}

/* Appends the line to out unless it does not fit (with the NUL). */
static bool
put_line(char *out, size_t outsz, size_t *total, const struct line *l)
{
	if (*total + l->len + 1 > outsz)
		return false;
	memcpy(out + *total, l->buf, l->len);
	*total += l->len;
	out[*total] = '\0';
	return true;
}

size_t
msghdr_prefix(const struct msghdr_add_in *in, char *out, size_t outsz)
{
	struct line l;
	size_t total = 0;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if ((in->flags & MSGHDR_ADD_RETURN_PATH) && in->head != NULL) {
		char sender[MSGHDR_ADDR_MAX];
		unsigned bits = msghdr_sender(in->head, in->head_len, sender,
		    sizeof(sender));

		if (!(bits & MSGHDR_HAS_RETURN_PATH)) {
			l.len = 0;
			line_add(&l, "Return-Path: <");
			if (bits & MSGHDR_FROM_FROM)
				line_add(&l, sender);
			line_add(&l, ">\r\n");
			if (!put_line(out, outsz, &total, &l))
				return total;
		}
	}
	if (in->flags & MSGHDR_ADD_RECEIVED) {
		char date[MSGHDR_DATE_MAX];

		msghdr_date(in->when, date);
		l.len = 0;
		line_add(&l, "Received: from ");
		line_value(&l, in->server_host, rcvd_specials);
		line_add(&l, " by ");
		line_value(&l, in->local_host, rcvd_specials);
		line_add(&l, in->tls ? " with POP3S" : " with POP3");
		line_add(&l, " (popfetch " VERSION ") for <");
		line_value(&l, in->user, rcvd_specials);
		line_add(&l, ">; ");
		line_add(&l, date);
		line_add(&l, "\r\n");
		if (!put_line(out, outsz, &total, &l))
			return total;
	}
	if ((in->flags & MSGHDR_ADD_DELIVERED_TO) && in->user != NULL &&
	    in->user[0] != '\0') {
		l.len = 0;
		line_add(&l, "Delivered-To: ");
		line_value(&l, in->user, NULL);
		line_add(&l, "\r\n");
		if (!put_line(out, outsz, &total, &l))
			return total;
	}
	if ((in->flags & MSGHDR_ADD_UIDL) && in->uidl != NULL &&
	    in->uidl[0] != '\0') {
		l.len = 0;
		line_add(&l, "X-Popfetch-UIDL: ");
		line_value(&l, in->uidl, NULL);
		line_add(&l, "\r\n");
		if (!put_line(out, outsz, &total, &l))
			return total;
	}
	return total;
}
