/*
 * msgfilter.h - streaming transforms of a message body, chunk by chunk,
 * with state carried across chunk boundaries.
 *
 * Input: the body as the server sent it (CRLF line ends, any bytes).
 * Output: CRLF -> LF (a bare CR or bare LF passes through unchanged);
 * with MSGFILTER_MBOXRD, a line matching ^>*From  gets one more '>'
 * (mboxrd quoting).
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
	int pending_cr;      /* a CR seen at the end of the previous chunk */
	int at_line_start;   /* the next byte starts a line */
	size_t prefix_len;   /* bytes of a possible ">*From " held back */
	char prefix[64];
	int last_was_lf;     /* the last byte emitted was LF */
	unsigned long long out_bytes;
	msgfilter_out_fn out;
	void *arg;
};

void msgfilter_init(struct msgfilter *f, int flags, msgfilter_out_fn out,
    void *arg);
int msgfilter_write(struct msgfilter *f, const char *buf, size_t len);
/* Flush held-back bytes. */
int msgfilter_finish(struct msgfilter *f);
/* 1 when the output so far ends with LF (or is empty). */
int msgfilter_ends_with_lf(const struct msgfilter *f);

#endif
