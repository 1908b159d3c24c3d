/*
 * fuzz_msghdr.c - the head buffer, the envelope sender and the added
 * lines (msghdr.h) on a message and names the fuzzer chooses.
 *
 * Input layout:
 *   byte 0      bits 0-3: the MSGHDR_ADD_* flags; bit 4: tls;
 *               bits 5-7: unused
 *   byte 1      bits 0-3: k, the number of chunk-size bytes that follow;
 *               bits 4-7: with the byte after the chunk sizes, a smaller
 *               buffer for msghdr_sender and msghdr_prefix (below)
 *   bytes 2..   k chunk sizes, used in turn and round again (0: an empty
 *               feed); no sizes: one chunk
 *   then        1 byte: the small buffers' size; 4 bytes: the time
 *               (big-endian, signed 32 bits); 4 bytes: the lengths of the
 *               server host, local host, user and UIDL, whose bytes follow
 *               (a NUL among them ends that string early)
 *   the rest    the message as the server sent it
 * A short input gives what is there and empty names.
 *
 * Checked: the head is the same for every split and equals a whole-
 * buffer reference written here from msghdr.h (the bytes up to the first
 * empty line's LF or MSGHDR_HEAD_MAX, a prefix of the input), and each
 * feed took exactly its share; the sender is non-empty, printable ASCII
 * without blanks, fits, with consistent bits, and the same from the head
 * as from the whole message when the head ended at the empty line; the
 * added lines are the known names in order, each ending in CRLF, no other
 * CR or LF, nothing outside 0x20-0x7E, no line over MSGHDR_LINE_MAX, and
 * a smaller buffer gets whole lines of the same output.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "msghdr.h"

const char fuzz_name[] = "msghdr";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A fixed zone with summer time and a half-hour-free offset, read
	 * once. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	return 0;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static size_t
take(struct input *in, size_t n, const uint8_t **out)
{
	if (n > in->left)
		n = in->left;
	*out = in->p;
	in->p += n;
	in->left -= n;
	return n;
}

static unsigned
take_byte(struct input *in)
{
	const uint8_t *b;

	return take(in, 1, &b) == 1 ? b[0] : 0;
}

/* A name: up to n bytes of the input, cut at a NUL. */
static void
take_name(struct input *in, size_t n, char *dst)
{
	const uint8_t *b;

	n = take(in, n, &b);
	memcpy(dst, b, n);
	dst[n] = '\0';
}

/* The head by its definition, over the whole message at once. */
static size_t
reference_head(const uint8_t *m, size_t n, enum msghdr_head_end *end)
{
	size_t start = 0;	/* where the current line began */

	for (size_t i = 0; i < n; i++) {
		if (m[i] != '\n')
			continue;
		if (i == start || (i == start + 1 && m[start] == '\r')) {
			if (i + 1 <= MSGHDR_HEAD_MAX) {
				*end = MSGHDR_HEAD_BLANK;
				return i + 1;
			}
			break;
		}
		start = i + 1;
	}
	if (n >= MSGHDR_HEAD_MAX) {
		*end = MSGHDR_HEAD_CAP;
		return MSGHDR_HEAD_MAX;
	}
	*end = MSGHDR_HEAD_EOF;
	return n;
}

static void
check_sender(const char *head, size_t len, size_t outsz, char *out)
{
	unsigned bits = msghdr_sender(head, len, out, outsz);
	size_t n = strlen(out);

	fuzz_check(n > 0 && n < outsz);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x21 || (unsigned char)out[i] > 0x7e)
			fuzz_fail("sender byte %zu is 0x%02x", i,
			    (unsigned char)out[i]);
	fuzz_check((bits & ~(MSGHDR_HAS_RETURN_PATH | MSGHDR_FROM_RETURN_PATH |
	    MSGHDR_FROM_FROM)) == 0);
	fuzz_check(!(bits & MSGHDR_FROM_RETURN_PATH) ||
	    (bits & MSGHDR_HAS_RETURN_PATH));
	fuzz_check(!((bits & MSGHDR_FROM_RETURN_PATH) &&
	    (bits & MSGHDR_FROM_FROM)));
	if (!(bits & (MSGHDR_FROM_RETURN_PATH | MSGHDR_FROM_FROM)))
		fuzz_check(strcmp(out, "MAILER-DAEMON") == 0);
}

static void
check_lines(const char *out, size_t n, unsigned flags)
{
	static const char *const names[] = { "Return-Path: <", "Received: from ",
	    "Delivered-To: ", "X-Popfetch-UIDL: " };
	static const unsigned bit[] = { MSGHDR_ADD_RETURN_PATH,
	    MSGHDR_ADD_RECEIVED, MSGHDR_ADD_DELIVERED_TO, MSGHDR_ADD_UIDL };
	size_t pos = 0;
	int next = 0;

	fuzz_check(strlen(out) == n);
	while (pos < n) {
		const char *lf = memchr(out + pos, '\n', n - pos);
		size_t len;
		int which;

		if (lf == NULL)
			fuzz_fail("the added lines end without a line end");
		len = (size_t)(lf - (out + pos));
		fuzz_check(len >= 1 && out[pos + len - 1] == '\r');
		len--;
		fuzz_check(len <= MSGHDR_LINE_MAX);
		for (size_t i = pos; i < pos + len; i++)
			if ((unsigned char)out[i] < 0x20 ||
			    (unsigned char)out[i] > 0x7e)
				fuzz_fail("byte 0x%02x in an added line",
				    (unsigned char)out[i]);
		for (which = next; which < 4; which++)
			if (strncmp(out + pos, names[which],
			    strlen(names[which])) == 0)
				break;
		if (which == 4)
			fuzz_fail("an unknown or misplaced line: %.*s",
			    (int)len, out + pos);
		fuzz_check(flags & bit[which]);
		next = which + 1;
		pos += len + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	const uint8_t *chunks, *msg, *tb;
	char host[256], local[256], user[256], uidl[256];
	static char out[MSGHDR_PREFIX_MAX], small_out[MSGHDR_PREFIX_MAX];
	char sender[MSGHDR_ADDR_MAX], sender2[MSGHDR_ADDR_MAX];
	unsigned b0, b1, small;
	size_t k, nmsg, pos = 0, ci = 0, taken = 0, want_len, n;
	enum msghdr_head_end want_end;
	struct msghdr_head h;
	struct msghdr_add_in add;
	uint32_t t;

	b0 = take_byte(&in);
	b1 = take_byte(&in);
	k = take(&in, b1 & 15, &chunks);
	small = take_byte(&in) | (b1 >> 4 << 8);
	t = 0;
	n = take(&in, 4, &tb);
	for (size_t i = 0; i < n; i++)
		t = t << 8 | tb[i];
	{
		unsigned lh = take_byte(&in), ll = take_byte(&in);
		unsigned lu = take_byte(&in), lq = take_byte(&in);

		take_name(&in, lh, host);
		take_name(&in, ll, local);
		take_name(&in, lu, user);
		take_name(&in, lq, uidl);
	}
	nmsg = take(&in, in.left, &msg);

	/* The head, fed in the fuzzer's chunks. */
	want_len = reference_head(msg, nmsg, &want_end);
	msghdr_head_init(&h);
	while (pos < nmsg) {
		size_t c = k > 0 ? chunks[ci++ % k] : nmsg, got, share;

		if (c > nmsg - pos)
			c = nmsg - pos;
		/* Each chunk in a buffer of its own exact size: a read past
		 * it is caught. */
		char *buf = malloc(c ? c : 1);
		if (buf == NULL)
			abort();
		memcpy(buf, msg + pos, c);
		got = msghdr_head_feed(&h, buf, c);
		free(buf);
		share = want_len - taken < c ? want_len - taken : c;
		if (got != share)
			fuzz_fail("a feed of %zu bytes at %zu took %zu, not %zu",
			    c, pos, got, share);
		taken += got;
		pos += c;
		if (k > 0 && ci >= k && pos == 0 && ci > 64)
			break;	/* only empty chunks */
	}
	if (pos < nmsg) {
		fuzz_check(msghdr_head_len(&h) == 0);
		msghdr_head_reset(&h);
		return 0;
	}
	if (!msghdr_head_done(&h))
		msghdr_head_finish(&h);
	fuzz_check(msghdr_head_feed(&h, "\r\n\r\n", 4) == 0);
	if (msghdr_head_len(&h) != want_len || msghdr_head_end(&h) != want_end)
		fuzz_fail("head of %zu bytes ending %d, the reference's %zu "
		    "ending %d", msghdr_head_len(&h), (int)msghdr_head_end(&h),
		    want_len, (int)want_end);
	fuzz_check(want_len == 0 ||
	    memcmp(msghdr_head_data(&h), msg, want_len) == 0);

	/* The sender, from the head and from all of the message. */
	check_sender(msghdr_head_data(&h), msghdr_head_len(&h),
	    sizeof(sender), sender);
	check_sender((const char *)msg, nmsg, sizeof(sender2), sender2);
	if (want_end == MSGHDR_HEAD_BLANK)
		fuzz_check(strcmp(sender, sender2) == 0);
	n = MSGHDR_ADDR_MIN + small % (MSGHDR_ADDR_MAX - MSGHDR_ADDR_MIN);
	check_sender(msghdr_head_data(&h), msghdr_head_len(&h), n, sender2);

	/* The added lines. */
	add = (struct msghdr_add_in){
		.flags = b0 & 15,
		.server_host = host,
		.local_host = local,
		.user = user,
		.uidl = uidl,
		.tls = (b0 >> 4) & 1,
		.when = (time_t)(int32_t)t,
		.head = msghdr_head_data(&h) != NULL ? msghdr_head_data(&h) :
		    "",
		.head_len = msghdr_head_len(&h),
	};
	n = msghdr_prefix(&add, out, sizeof(out));
	check_lines(out, n, add.flags);
	/* A smaller buffer: whole lines of the same output. */
	{
		size_t sz = small % (n + 2), m;

		memset(small_out, '#', sizeof(small_out));
		m = msghdr_prefix(&add, small_out, sz);
		fuzz_check(m <= n && (sz == 0 ? m == 0 : m < sz));
		fuzz_check(memcmp(small_out, out, m) == 0);
		fuzz_check(m == 0 || small_out[m - 1] == '\n');
		fuzz_check(sz == 0 ? small_out[0] == '#' :
		    small_out[m] == '\0');
		fuzz_check(m == n || m + (size_t)(strchr(out + m, '\n') -
		    (out + m)) + 2 > sz);
	}
	msghdr_head_reset(&h);
	return 0;
}
