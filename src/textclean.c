/*
 * textclean.c - server text made fit to print: terminal controls escaped,
 * the session's secrets redacted. See textclean.h.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpin.h"
#include "textclean.h"
#include "util.h"

/* A base64 pattern shorter than this would hit ordinary words. */
#define MIN_B64 4

struct pattern {
	char *bytes;
	size_t len;
	bool b64;   /* a hit takes the whole run of base64 characters */
};

struct textclean {
	struct pattern *p;
	size_t n, cap;
};

struct textclean *
textclean_new(void)
{
	return xcalloc(1, sizeof(struct textclean));
}

void
textclean_free(struct textclean *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		util_wipe(t->p[i].bytes, t->p[i].len);
		free(t->p[i].bytes);
	}
	free(t->p);
	free(t);
}

static void
add(struct textclean *t, const char *bytes, size_t len, bool b64)
{
	/* textclean_line finds patterns up to half its window long. */
	if (len == 0 || len > TEXTCLEAN_WINDOW / 2)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->p[i].len == len && t->p[i].b64 == b64 &&
		    memcmp(t->p[i].bytes, bytes, len) == 0)
			return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->p = xrealloc(t->p, t->cap * sizeof(*t->p));
	}
	t->p[t->n].bytes = xmalloc(len);
	memcpy(t->p[t->n].bytes, bytes, len);
	t->p[t->n].len = len;
	t->p[t->n].b64 = b64;
	t->n++;
}

/* A base64 pattern, and its URL-alphabet twin when that differs. */
static void
add_b64(struct textclean *t, char *enc, size_t len)
{
	bool url = false;

	if (len < MIN_B64)
		return;
	add(t, enc, len, true);
	for (size_t i = 0; i < len; i++) {
		if (enc[i] == '+' || enc[i] == '/') {
			enc[i] = enc[i] == '+' ? '-' : '_';
			url = true;
		}
	}
	if (url)
		add(t, enc, len, true);
}

/* Base64 of k zero bytes and then len bytes of data, into a new buffer
 * (the caller wipes and frees it); *outlen without the padding. */
static char *
encode(size_t k, const void *data, size_t len, size_t *outlen)
{
	size_t inlen = k + len, cap = (inlen + 2) / 3 * 4 + 1;
	uint8_t *in = xcalloc(1, inlen);
	char *out = xmalloc(cap);

	memcpy(in + k, data, len);
	*outlen = certpin_base64(in, inlen, out, cap);
	util_wipe(in, inlen);
	free(in);
	while (*outlen > 0 && out[*outlen - 1] == '=')
		(*outlen)--;
	return out;
}

/*
 * Inside a longer base64 message (a SASL response) the secret's encoding
 * depends on where it starts: base64 works in groups of 3 bytes, so a
 * secret at offset k (mod 3) is encoded as if k bytes came before it.
 * For each k in 0, 1, 2 we take the characters made of the secret's bits
 * alone: character i carries bits 6i..6i+5, the secret bits 8k..8(k+n)-1,
 * so from (8k+5)/6 (rounded up) to 8(k+n)/6 (rounded down). Whatever
 * surrounds the secret in a message, one of the three is in its
 * encoding, and the hit then takes the whole base64 run, so the few
 * characters mixing its bits with the neighbours' go too. Decoding every
 * run of the text at three offsets and looking for the secret would find
 * the same; fixed patterns keep textclean_line simple and bounded.
 */
void
textclean_add_secret(struct textclean *t, const void *secret, size_t len)
{
	static const char *const hex[] = { "0123456789abcdef",
	    "0123456789ABCDEF" };
	const unsigned char *s = secret;
	char *h;

	if (len == 0 || len > TEXTCLEAN_WINDOW)
		return;
	add(t, secret, len, false);
	h = xmalloc(2 * len);
	for (size_t c = 0; c < 2; c++) {
		for (size_t i = 0; i < len; i++) {
			h[2 * i] = hex[c][s[i] >> 4];
			h[2 * i + 1] = hex[c][s[i] & 15];
		}
		add(t, h, 2 * len, false);
	}
	util_wipe(h, 2 * len);
	free(h);
	for (size_t k = 0; k < 3; k++) {
		size_t elen, from = (8 * k + 5) / 6, to = 8 * (k + len) / 6;
		char *e = encode(k, secret, len, &elen);

		if (to > elen)
			to = elen;
		if (to > from)
			add_b64(t, e + from, to - from);
		util_wipe(e, elen);
		free(e);
	}
}

void
textclean_add_message(struct textclean *t, const void *msg, size_t len)
{
	size_t elen;
	char *e;

	if (len == 0 || len > TEXTCLEAN_WINDOW)
		return;
	e = encode(0, msg, len, &elen);
	add_b64(t, e, elen);
	util_wipe(e, elen);
	free(e);
}

/* Add the message built by fmt (which may hold NUL bytes as "%c", 0). */
static void __attribute__((format(printf, 2, 3)))
add_messagef(struct textclean *t, const char *fmt, ...)
{
	char buf[TEXTCLEAN_WINDOW / 2 + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(buf))
		textclean_add_message(t, buf, (size_t)n);
	util_wipe(buf, sizeof(buf));
}

struct textclean *
textclean_for_login(const char *user, const char *password,
    const char *bearer, const char *host, int port)
{
	struct textclean *t;

	if ((password == NULL || *password == '\0') &&
	    (bearer == NULL || *bearer == '\0'))
		return NULL;
	t = textclean_new();
	if (user == NULL)
		user = "";
	if (password != NULL && *password != '\0') {
		textclean_add_secret(t, password, strlen(password));
		textclean_add_message(t, password, strlen(password));
		add_messagef(t, "%c%s%c%s", 0, user, 0, password);
		add_messagef(t, "%s%c%s%c%s", user, 0, user, 0, password);
	}
	if (bearer != NULL && *bearer != '\0') {
		textclean_add_secret(t, bearer, strlen(bearer));
		add_messagef(t, "user=%s\1auth=Bearer %s\1\1", user, bearer);
		add_messagef(t, "n,a=%s,\1host=%s\1port=%d\1auth=Bearer %s\1\1",
		    user, host ? host : "", port, bearer);
		add_messagef(t, "n,a=%s,\1host=%s\1auth=Bearer %s\1\1", user,
		    host ? host : "", bearer);
	}
	return t;
}

/* ---- the line ------------------------------------------------------------ */

static bool
b64char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
	    c == '-' || c == '_';
}

/* Mark in mask[0..w) every byte that belongs to a secret's form. */
static void
redact_mask(const char *src, size_t w, const struct textclean *t,
    unsigned char *mask)
{
	for (size_t i = 0; t != NULL && i < t->n; i++) {
		const struct pattern *p = &t->p[i];
		size_t at = 0;
		const char *hit;

		while (at + p->len <= w &&
		    (hit = memmem(src + at, w - at, p->bytes, p->len)) != NULL) {
			size_t a = (size_t)(hit - src), b = a + p->len;

			if (p->b64) {
				while (a > 0 && b64char((unsigned char)src[a - 1]))
					a--;
				while (b < w && b64char((unsigned char)src[b]))
					b++;
			}
			memset(mask + a, 1, b - a);
			at = (size_t)(hit - src) + 1;
		}
	}
}

size_t
textclean_cut(const struct textclean *t, const char *src, size_t len,
    size_t max)
{
	unsigned char *mask;
	size_t w, n = max;

	if (len <= max)
		return len;
	if (t == NULL || t->n == 0)
		return max;
	/* A form starting before max (at most half a window long, and
	 * max is far below that) ends inside the window: it is found. */
	w = len < TEXTCLEAN_WINDOW ? len : TEXTCLEAN_WINDOW;
	mask = xcalloc(1, w + 1);
	redact_mask(src, w, t, mask);
	while (n > 0 && n < w && mask[n - 1] && mask[n])
		n--;
	free(mask);
	return n;
}

/* Length of a valid UTF-8 sequence of a printable character at s[0..n),
 * or 0 (invalid, overlong, a surrogate, a C1, bidi, zero-width or
 * invisible format character, a line or paragraph separator). */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls; what can hide or reorder text: the Arabic letter
	 * mark, zero-width characters and marks (U+200B-U+200F), the line
	 * and paragraph separators, the embeddings and overrides, the
	 * invisible operators, isolates and deprecated format characters
	 * (U+2060-U+206F), the zero-width no-break space. */
	if (cp <= 0x9f || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff)
		return 0;
	return len;
}

size_t
textclean_line(char *dst, size_t dstlen, const char *src, size_t len,
    const struct textclean *t)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *mask;
	const unsigned char *u = (const unsigned char *)src;
	/* Room for pieces; "..." when cut must still fit after them. */
	size_t room = dstlen > 4 ? dstlen - 4 : dstlen - 1;
	size_t o = 0, i = 0, w, end;
	bool cut = false;

	if (dstlen == 0)
		return 0;
	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	w = len < TEXTCLEAN_WINDOW ? len : TEXTCLEAN_WINDOW;
	mask = xcalloc(1, w + 1);
	redact_mask(src, w, t, mask);
	end = w;
	if (w < len) {
		/* Text beyond the window is not looked at. Print only its
		 * first half: a pattern (at most half a window long) that
		 * starts there ends inside the window and was found. And no
		 * base64 run reaching the cut: it may go on past the window
		 * to a hit there. */
		cut = true;
		end = w / 2;
		while (end > 0 && !mask[end - 1] &&
		    b64char(u[end - 1]) && b64char(u[end]))
			end--;
	}
	while (i < end) {
		char piece[16];
		size_t plen, step;

		if (mask[i]) {
			plen = sizeof(TEXTCLEAN_MARK) - 1;
			memcpy(piece, TEXTCLEAN_MARK, plen);
			for (step = 0; i + step < end && mask[i + step]; step++)
				;
		} else if (u[i] >= 0x20 && u[i] < 0x7f) {
			plen = 0;
			if (u[i] == '\\')
				piece[plen++] = '\\';
			piece[plen++] = (char)u[i];
			step = 1;
		} else {
			size_t ok = 0;

			/* A character may not run into redacted bytes. */
			while (u[i] >= 0x80 && i + ok < end && !mask[i + ok] &&
			    ok < 4)
				ok++;
			step = u[i] >= 0x80 ? utf8_printable(u + i, ok) : 0;
			if (step > 0) {
				memcpy(piece, u + i, step);
				plen = step;
			} else {
				piece[0] = '\\';
				piece[1] = 'x';
				piece[2] = hex[u[i] >> 4];
				piece[3] = hex[u[i] & 15];
				plen = 4;
				step = 1;
			}
		}
		if (o + plen > room) {
			cut = true;
			break;
		}
		memcpy(dst + o, piece, plen);
		o += plen;
		i += step;
	}
	if (cut && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	free(mask);
	return o;
}
