/*
 * msgfilter.h - streaming transforms of a message body, chunk by chunk,
 * with state carried across chunk boundaries.
 *
 * Input: the body as the server sent it (CRLF line ends, any bytes).
 * Output: CRLF -> LF (a bare CR or bare LF passes through unchanged);
 * with MSGFILTER_MBOXRD, a line matching ^>*From  gets one more '>'
 * (mboxrd quoting).
 *
 * The filter holds back at most a trailing CR and the counts of a
 * possible ">*From " prefix, never a copy of the bytes, so its memory does
 * not grow with the input. Output comes in runs: one callback per line or
 * less, not one per byte.
 */
#ifndef POPFETCH_MSGFILTER_H
#define POPFETCH_MSGFILTER_H

#include <stddef.h>

#define MSGFILTER_MBOXRD 0x1

/* Receives filtered bytes; returns 0 or nonzero to stop (the nonzero value
 * is returned by msgfilter_write/msgfilter_finish). */
typedef int (*msgfilter_out_fn)(void *arg, const char *buf, size_t len);

struct msgfilter {
	int flags;
	msgfilter_out_fn out;
	void *arg;
	unsigned long long out_bytes;	/* bytes passed to out so far */

	/* Private: the state carried from one chunk to the next. */
	int pending_cr;		/* the previous chunk ended with a CR */
	int at_line_start;	/* MBOXRD: the next chunk starts a line */
	int matching;		/* MBOXRD: inside a possible ">*From " */
	size_t gt;		/* '>' seen in that prefix */
	size_t from_len;	/* bytes of "From " matched after them */
	size_t held_gt;		/* of those, not yet emitted and no longer */
	size_t held_from;	/* in the caller's buffer */
	int last_was_lf;	/* the last byte emitted was LF */
};

void msgfilter_init(struct msgfilter *f, int flags, msgfilter_out_fn out,
    void *arg);
int msgfilter_write(struct msgfilter *f, const char *buf, size_t len);
/* Flush held-back bytes. */
int msgfilter_finish(struct msgfilter *f);
/* 1 when the output so far ends with LF (or is empty). */
int msgfilter_ends_with_lf(const struct msgfilter *f);

#endif
