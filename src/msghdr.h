/*
 * msghdr.h - the header lines popfetch may add at the top of a stored
 * message (add_headers), and what they need from the message itself.
 *
 * Input everywhere: a message's bytes as the server sent them, dot-
 * unstuffed, CRLF line ends (a bare LF also ends a line), handed over in
 * chunks of any size. Pure: no I/O; the only allocation is the head
 * buffer, at most MSGHDR_HEAD_MAX bytes. The text of the message and the
 * configured names are untrusted: what this module writes is printable
 * ASCII only (below).
 *
 * Three parts:
 *
 * 1. The head buffer (struct msghdr_head) collects the start of a message
 *    up to and including the line end of its first empty line (the end
 *    of the header section; a first line that is empty makes a head of
 *    that line alone), or MSGHDR_HEAD_MAX bytes, whichever comes first.
 *    A line is empty when nothing but an optional CR precedes its LF.
 *    msghdr_head_feed() says how many bytes of each chunk it took: the
 *    caller passes the rest of the chunk on itself. The head collected is
 *    the same however the message is cut into chunks.
 *
 * 2. msghdr_sender() reads the envelope sender out of a header section,
 *    for the one-word sender of an mbox From_ line.
 *
 * 3. msghdr_prefix() writes the added lines, each ending in CRLF.
 *
 * Escaping. A byte outside 0x21-0x7E (space, controls, CR, LF, NUL,
 * 8-bit bytes) of a server-host name, local host name, user, UIDL or
 * sender is written as "%XX" (two upper-case hex digits); in the
 * Received: field the characters that would change its structure,
 * " ( ) ; < > \ , are escaped that way too. '%' itself is left alone: the
 * aim is a header nobody can inject into, not a reversible encoding.
 * Each escaped value is cut to at most MSGHDR_VALUE_MAX bytes, never
 * inside an escape.
 */
#ifndef POPFETCH_MSGHDR_H
#define POPFETCH_MSGHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- 1. the head buffer ------------------------------------------------ */

#define MSGHDR_HEAD_MAX 65536

enum msghdr_head_end {
	MSGHDR_HEAD_MORE,	/* not complete: feed more */
	MSGHDR_HEAD_BLANK,	/* ends with the first empty line's line end */
	MSGHDR_HEAD_CAP,	/* MSGHDR_HEAD_MAX bytes and no empty line */
	MSGHDR_HEAD_EOF		/* msghdr_head_finish(): the message ended */
};

struct msghdr_head {
	/* Private; read it through the functions below. */
	char *buf;
	size_t len, cap;
	int line;		/* 0 at a line start, 1 after a lone CR
				   there, 2 inside a line with text */
	enum msghdr_head_end end;
};

void msghdr_head_init(struct msghdr_head *h);
/* Takes bytes of buf up to the end of the head; returns how many (the
 * rest of buf is the caller's to stream on). Once the head is complete
 * it takes nothing. Allocation failure aborts, as xmalloc does. */
size_t msghdr_head_feed(struct msghdr_head *h, const char *buf, size_t len);
/* The message ended: what was collected is the whole head. */
void msghdr_head_finish(struct msghdr_head *h);
bool msghdr_head_done(const struct msghdr_head *h);
enum msghdr_head_end msghdr_head_end(const struct msghdr_head *h);
/* The bytes collected so far (not NUL-terminated; NULL when none). */
const char *msghdr_head_data(const struct msghdr_head *h);
size_t msghdr_head_len(const struct msghdr_head *h);
/* Frees the buffer and starts over, as after msghdr_head_init(). */
void msghdr_head_reset(struct msghdr_head *h);

/* ---- 2. the envelope sender ------------------------------------------ */

/* A buffer of this size holds any sender msghdr_sender() writes. */
#define MSGHDR_ADDR_MAX 256
/* outsz must be at least this ("MAILER-DAEMON" and its NUL). */
#define MSGHDR_ADDR_MIN 14

/* msghdr_sender()'s result, bits: */
#define MSGHDR_HAS_RETURN_PATH 0x1u	/* the section has a Return-Path:
					   field, whatever it holds */
#define MSGHDR_FROM_RETURN_PATH 0x2u	/* out is the address of the first
					   Return-Path: field */
#define MSGHDR_FROM_FROM       0x4u	/* out is the first address of the
					   first From: field */
/* Neither of the last two: out is "MAILER-DAEMON". */

/*
 * Reads the header section at the start of head (up to its first empty
 * line or len) and writes to out (NUL-terminated, at most outsz - 1
 * bytes, never empty, nothing outside 0x21-0x7E: escaped as above) the
 * envelope sender:
 *   - the address of the first Return-Path: field when it holds one;
 *     "Return-Path: <>" (a bounce) gives MAILER-DAEMON;
 *   - else the first address of the first From: field;
 *   - else MAILER-DAEMON.
 * Field names in any case (blanks before the colon allowed), folded lines
 * unfolded, comments and blanks between words dropped, the display name
 * dropped ("Name <a@b>", "\"q, n\" <a@b>"), groups looked into
 * ("g: a@b;"; "undisclosed:;" holds none), the route of "<@r,@s:a@b>"
 * dropped, a quoted local part kept with its quotes (and its blanks
 * escaped: "a b"@c gives "a%20b"@c). Lenient: blanks around '.' and
 * '@', dots anywhere in the local part, a '<' the field ends before its
 * '>'. An element of the list that is no usable address (two words with
 * nothing between them, two '@', an unclosed quoted string, "<>" in
 * From:, an address that would not fit in outsz - 1 bytes once escaped)
 * is passed over; a field with none counts as none. Only the first field
 * of each name is read. A field a head cut at MSGHDR_HEAD_MAX cuts is
 * read as it is.
 * Returns the MSGHDR_* bits above. outsz must be at least
 * MSGHDR_ADDR_MIN (a smaller one gets "" and 0).
 */
unsigned msghdr_sender(const char *head, size_t len, char *out,
    size_t outsz);

/* ---- 3. the added lines ---------------------------------------------- */

/* The bits of add_headers (config.h's ADD_HDR_*; msghdr.c checks they
 * agree). */
#define MSGHDR_ADD_RECEIVED     0x1u
#define MSGHDR_ADD_DELIVERED_TO 0x2u
#define MSGHDR_ADD_UIDL         0x4u
#define MSGHDR_ADD_RETURN_PATH  0x8u

/* Each escaped value (host, user, UIDL) is cut to this many bytes. */
#define MSGHDR_VALUE_MAX 255
/* The longest Received: line, its CRLF not counted (RFC 5322: 998). */
#define MSGHDR_LINE_MAX 998
/* A buffer of this size holds every line msghdr_prefix() can write. */
#define MSGHDR_PREFIX_MAX 2048

struct msghdr_add_in {
	unsigned flags;		/* MSGHDR_ADD_* (= ADD_HDR_*) */
	const char *server_host;	/* the POP3 server's name */
	const char *local_host;	/* this machine's name */
	const char *user;	/* the account's user name */
	const char *uidl;	/* the message's UIDL; NULL or "": none */
	bool tls;		/* the session used TLS: "with POP3S" */
	time_t when;		/* Received:'s date (local time) */
	/* MSGHDR_ADD_RETURN_PATH: the message's head (msghdr_head_data/
	 * _len), or any start of it holding the header section; NULL: not
	 * looked at, no Return-Path: line. */
	const char *head;
	size_t head_len;
};

/*
 * Writes to out, NUL-terminated, the lines for the bits set, in this
 * order, each ending in CRLF:
 *   Return-Path: <SENDER>   only when the head has no Return-Path: field;
 *                           SENDER is msghdr_sender()'s From: address,
 *                           empty ("<>") when there is none
 *   Received: from SERVER by LOCAL with POP3 (popfetch VERSION) for <USER>; DATE
 *                           POP3S with tls; DATE as RFC 5322 writes it, in
 *                           local time (TZ) with its offset, English names;
 *                           a NULL or empty name is written "unknown"; one
 *                           line of at most MSGHDR_LINE_MAX bytes
 *   Delivered-To: USER      (not written when user is NULL or empty)
 *   X-Popfetch-UIDL: UIDL   (not written when uidl is NULL or empty)
 * Returns the length written. With outsz >= MSGHDR_PREFIX_MAX everything
 * fits; a smaller buffer gets the lines that fit, up to the first that
 * does not (never a part of a line); outsz 0: nothing is written.
 */
size_t msghdr_prefix(const struct msghdr_add_in *in, char *out,
    size_t outsz);

/* The date of Received: ("Wed, 02 Dec 2026 10:20:59 +0100"), local time;
 * out holds at least MSGHDR_DATE_MAX bytes. Returns its length. */
#define MSGHDR_DATE_MAX 64
size_t msghdr_date(time_t when, char *out);

#endif
