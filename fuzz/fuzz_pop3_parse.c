/*
 * fuzz_pop3_parse.c - every parser of pop3_parse.h on the same input line,
 * each checked against a reference written here from the header's
 * description (differential), plus the bounds of what it returns.
 *
 * The references are deliberately naive (index loops, no shared helper
 * with the code under test). Where pop3_parse.c is stricter than the RFC
 * (a number has at most 19 digits, so it cannot overflow), the reference
 * says so explicitly.
 *
 * textclean_line (not a parser, but it sees the same lines) is checked
 * by undoing it: its output holds only printable ASCII, printable UTF-8
 * and escapes, and read back it is the input (CR/LF at the end aside),
 * or a prefix of it followed by "..." (just a prefix in a buffer too
 * small for "..."). With secrets to redact, the output must hold none
 * of them, as is or in base64 (seeds hold them, alone and in SASL
 * messages), and only printable text, escapes and "<redacted>".
 * textclean_cut, which places the cut of the reply lines popfetch keeps,
 * must not end inside an occurrence of a secret.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>
#include <sysexits.h>

#include "fuzz.h"
#include "pop3_parse.h"
#include "textclean.h"

const char fuzz_name[] = "pop3_parse";

#define FUZZ_PW "fuzz-Secret-1"
#define FUZZ_TOKEN "tok-fuzz-2"
static struct textclean *secrets;   /* for the whole run */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	secrets = textclean_for_login("alice", FUZZ_PW, FUZZ_TOKEN, "h", 110);
	return 0;
}

/* Digits at line[*i]: at least 1, at most 19. */
static bool
ref_number(const char *line, size_t len, size_t *i, unsigned long long *v)
{
	size_t start = *i;

	*v = 0;
	while (*i < len && line[*i] >= '0' && line[*i] <= '9') {
		*v = *v * 10 + (unsigned long long)(line[*i] - '0');
		(*i)++;
		if (*i - start > 19)
			return false;
	}
	return *i > start;
}

/* "N SIZE" or "N SIZE more...", N from 1 to ULONG_MAX. */
static bool
ref_list(const char *line, size_t len, unsigned long *num,
    unsigned long long *size)
{
	unsigned long long n;
	size_t i = 0;

	if (!ref_number(line, len, &i, &n) || n == 0 ||
	    n > (unsigned long)-1)
		return false;
	if (i >= len || line[i] != ' ')
		return false;
	i++;
	if (!ref_number(line, len, &i, size))
		return false;
	if (i < len && line[i] != ' ')
		return false;
	*num = (unsigned long)n;
	return true;
}

/* "N UIDL": everything after the first space, at least one byte. */
static bool
ref_uidl(const char *line, size_t len, unsigned long *num, size_t *off)
{
	unsigned long long n;
	size_t i = 0;

	if (!ref_number(line, len, &i, &n) || n == 0 ||
	    n > (unsigned long)-1)
		return false;
	if (i + 1 >= len || line[i] != ' ')
		return false;
	*num = (unsigned long)n;
	*off = i + 1;
	return true;
}

static bool
starts(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0;
}

/* "+OK COUNT OCTETS" and anything after the octets. */
static bool
ref_stat(const char *line, size_t len, unsigned long *count,
    unsigned long long *octets)
{
	unsigned long long c;
	size_t i = 4;

	if (!starts(line, len, "+OK "))
		return false;
	if (!ref_number(line, len, &i, &c) || c > (unsigned long)-1)
		return false;
	if (i >= len || line[i] != ' ')
		return false;
	i++;
	if (!ref_number(line, len, &i, octets))
		return false;
	*count = (unsigned long)c;
	return true;
}

/* "+OK N..." */
static bool
ref_octets(const char *line, size_t len, unsigned long long *n)
{
	size_t i = 4;

	return starts(line, len, "+OK ") && ref_number(line, len, &i, n);
}

static int
ref_respcode(const char *line, size_t len)
{
	static const char *const codes[] = {
		"AUTH]", "IN-USE]", "LOGIN-DELAY]", "SYS/TEMP]", "SYS/PERM]"
	};
	static const int ex[] = {
		EX_NOPERM, EX_TEMPFAIL, EX_TEMPFAIL, EX_TEMPFAIL,
		EX_UNAVAILABLE
	};

	if (!starts(line, len, "-ERR ["))
		return 0;
	for (size_t c = 0; c < 5; c++) {
		size_t n = strlen(codes[c]), j;

		if (len - 6 < n)
			continue;
		for (j = 0; j < n; j++) {
			char a = line[6 + j], b = codes[c][j];

			if (a >= 'a' && a <= 'z')
				a = (char)(a - 'a' + 'A');
			if (a != b)
				break;
		}
		if (j == n)
			return ex[c];
	}
	return 0;
}

/* Ends in '>' (CR/LF aside); the first '<' at index 3 or later and
 * before that '>'; an '@' between them. */
static bool
ref_apop(const char *line, size_t len)
{
	size_t n = len, i;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (n < 5 || line[n - 1] != '>')
		return false;
	for (i = 3; i < n - 1 && line[i] != '<'; i++)
		;
	if (i >= n - 1)
		return false;
	for (size_t k = i + 1; k < n - 1; k++)
		if (line[k] == '@')
			return true;
	return false;
}

/* Length of a UTF-8 sequence of a printable character at s (at least
 * U+00A0, no surrogate, no bidirectional override), or 0. */
static size_t
ref_utf8(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	unsigned long cp = s[0] & (0x7f >> len);

	if (len == 0 || len > n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x61c ||
	    (cp >= 0x200b && cp <= 0x200f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff)
		return 0;
	return len;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

static void
check_clean(const char *line, size_t size, size_t dstlen,
    const struct textclean *t)
{
	char out[300], back[300];
	const unsigned char *o = (const unsigned char *)out;
	size_t n, b = 0, len = size;

	n = textclean_line(out, dstlen, line, size, t);
	fuzz_check(n == strlen(out) && n < dstlen);
	for (size_t i = 0; i < n;) {
		size_t u;

		if (t != NULL && strncmp(out + i, TEXTCLEAN_MARK,
		    sizeof(TEXTCLEAN_MARK) - 1) == 0) {
			back[b++] = '\0';   /* no secret holds a NUL */
			i += sizeof(TEXTCLEAN_MARK) - 1;
		} else if (out[i] == '\\' && i + 1 < n && out[i + 1] == '\\') {
			back[b++] = '\\';
			i += 2;
		} else if (out[i] == '\\') {
			fuzz_check(i + 3 < n && out[i + 1] == 'x' &&
			    hexval(out[i + 2]) >= 0 && hexval(out[i + 3]) >= 0);
			back[b] = (char)(hexval(out[i + 2]) * 16 +
			    hexval(out[i + 3]));
			/* Only what may not be printed is escaped. */
			fuzz_check((unsigned char)back[b] < 0x20 ||
			    (unsigned char)back[b] >= 0x7f);
			b++;
			i += 4;
		} else if (o[i] >= 0x80) {
			fuzz_check((u = ref_utf8(o + i, n - i)) > 0);
			memcpy(back + b, out + i, u);
			b += u;
			i += u;
		} else {
			fuzz_check(o[i] >= 0x20 && o[i] < 0x7f);
			back[b++] = out[i++];
		}
	}
	if (t != NULL) {
		/* The output read back holds no secret, as is or in base64
		 * (k = 0 cores, and the SASL PLAIN message "\0alice\0"
		 * FUZZ_PW); "<redacted>" stands for some bytes, so it is not
		 * compared with the input. */
		static const char *const no[] = { FUZZ_PW, FUZZ_TOKEN,
		    "ZnV6ei1TZWNyZXQtM", "dG9rLWZ1enotM",
		    "AGFsaWNlAGZ1enotU2VjcmV0LTE", NULL };

		for (size_t i = 0; no[i] != NULL; i++)
			fuzz_check(memmem(back, b, no[i], strlen(no[i])) == NULL);
		return;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (b == len && memcmp(back, line, len) == 0)
		return;
	if (b >= 3 && memcmp(back + b - 3, "...", 3) == 0 && b - 3 <= len &&
	    memcmp(back, line, b - 3) == 0)
		return;
	/* Cut without "...": only where a buffer had no room for it. */
	fuzz_check(dstlen < 5 && b <= len && memcmp(back, line, b) == 0);
}

/* textclean_cut keeps at most max bytes, all when they fit, and never
 * ends inside a secret: no occurrence of one straddles the cut. */
static void
check_cut(const char *line, size_t size, size_t max)
{
	static const char *const sec[] = { FUZZ_PW, FUZZ_TOKEN, NULL };
	size_t n = textclean_cut(secrets, line, size, max);

	fuzz_check(size <= max ? n == size : n <= max);
	for (size_t i = 0; sec[i] != NULL; i++) {
		size_t l = strlen(sec[i]);

		for (size_t p = 0; p + l <= size; p++) {
			if (memcmp(line + p, sec[i], l) == 0)
				fuzz_check(!(p < n && n < p + l));
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	unsigned long num = 0, rnum = 0;
	unsigned long long size_ = 0, rsize = 0;
	const char *uidl = NULL;
	size_t ulen = 0, roff = 0;
	bool ok, rok;
	int rc;

	ok = pop3_parse_list(line, size, &num, &size_) == 0;
	rok = ref_list(line, size, &rnum, &rsize);
	if (ok != rok)
		fuzz_fail("LIST: parser says %d, reference %d", ok, rok);
	if (ok && (num != rnum || size_ != rsize))
		fuzz_fail("LIST: parser %lu %llu, reference %lu %llu", num,
		    size_, rnum, rsize);

	ok = pop3_parse_uidl(line, size, &num, &uidl, &ulen) == 0;
	rok = ref_uidl(line, size, &rnum, &roff);
	if (ok != rok)
		fuzz_fail("UIDL: parser says %d, reference %d", ok, rok);
	if (ok) {
		fuzz_check(num == rnum);
		fuzz_check(uidl == line + roff);
		fuzz_check(ulen == size - roff && ulen > 0);
	}

	ok = pop3_parse_stat(line, size, &num, &size_) == 0;
	rok = ref_stat(line, size, &rnum, &rsize);
	if (ok != rok)
		fuzz_fail("STAT: parser says %d, reference %d", ok, rok);
	if (ok && (num != rnum || size_ != rsize))
		fuzz_fail("STAT: parser %lu %llu, reference %lu %llu", num,
		    size_, rnum, rsize);

	ok = pop3_parse_octets(line, size, &size_) == 0;
	rok = ref_octets(line, size, &rsize);
	if (ok != rok)
		fuzz_fail("RETR: parser says %d, reference %d", ok, rok);
	if (ok && size_ != rsize)
		fuzz_fail("RETR: parser %llu, reference %llu", size_, rsize);

	rc = pop3_parse_respcode(line, size);
	if (rc != ref_respcode(line, size))
		fuzz_fail("RESP-CODE: parser %d, reference %d", rc,
		    ref_respcode(line, size));

	ok = pop3_parse_apop_greeting(line, size);
	if (ok != ref_apop(line, size))
		fuzz_fail("APOP greeting: parser %d, reference %d", ok, !ok);

	check_clean(line, size, 300, NULL);
	check_clean(line, size, 1 + size % 64, NULL);
	check_clean(line, size, 300, secrets);
	check_cut(line, size, size / 2);
	check_cut(line, size, size % 64);
	return 0;
}
