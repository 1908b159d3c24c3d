/*
 * pop3_wire.h - the POP3 wire: command lines out, status lines and
 * multi-line replies in, over a transport seam.
 *
 * The wire knows nothing of libcurl or of sessions: a struct pop3_io
 * gives it send, receive and wait. pop3_login.c's io is the connection
 * libcurl opened and authenticated (curl_easy_send/recv, poll on its
 * socket); the unit tests' and the fuzzer's ios are scripted replies in
 * memory. So everything that reads what a server sends (line bounds, dot
 * handling, the stall window) runs the same code in tests and in use.
 *
 * Life cycle: pop3w_init() on a zeroed struct, any calls, pop3w_free()
 * (accepts a zeroed or freed struct). The io and the textclean are the
 * caller's and must outlive the wire.
 *
 * Errors: every int function returns 0 or a sysexits code with e filled:
 * EX_TEMPFAIL for a connection that ends, fails or stalls (the message
 * says which), EX_PROTOCOL for a status line longer than
 * POP3W_LINE_READ_MAX,
 * EX_OSERR for a failed wait; an emit callback's code is passed on as is.
 * After an error the wire is out of step with the server: stop using it.
 */
#ifndef POPFETCH_POP3_WIRE_H
#define POPFETCH_POP3_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct textclean;

/* A status line is kept up to this many bytes (RFC 1939 allows 512);
 * a longer one is cut (pop3w_copy_line). One longer than
 * POP3W_LINE_READ_MAX is refused. */
#define POP3W_LINE_MAX 1024
#define POP3W_LINE_READ_MAX (64 * 1024 - 1)
/* A reply still incomplete after fewer than this many bytes in a whole
 * timeout window is a stalled server (a byte now and then must not hold
 * a run forever). */
#define POP3W_STALL_BYTES 1024
#define POP3W_TICK_MS 500

enum pop3_io_rc {
	POP3_IO_OK,       /* *n bytes moved (recv: at least one) */
	POP3_IO_AGAIN,    /* nothing now: wait, then try again */
	POP3_IO_CLOSED,   /* recv: the peer closed the connection */
	POP3_IO_ERROR,    /* the connection failed: io->error() says how */
};

/* The transport. Calls never block for long: a call that cannot go on
 * says POP3_IO_AGAIN, and the wire waits (wait) within the stall window. */
struct pop3_io {
	int (*send)(void *arg, const char *buf, size_t len, size_t *n);
	int (*recv)(void *arg, char *buf, size_t len, size_t *n);
	/* Until sending (out) or receiving may go on, at most ms
	 * milliseconds: 1 ready, 0 not within ms, -1 failed (errno set),
	 * -2 the connection is gone. */
	int (*wait)(void *arg, bool out, long long ms);
	/* The text of the last POP3_IO_ERROR (for "connection lost: ..."). */
	const char *(*error)(void *arg);
	void *arg;
};

struct pop3_wire {
	struct pop3_io io;
	const char *account;           /* -vv lines */
	const struct textclean *tc;    /* secrets redacted in -vv lines */
	long timeout_ms, timeout_s;
	/* The stall window: it starts with each command and again after
	 * every POP3W_STALL_BYTES received. */
	long long win_start_ms;
	unsigned long win_bytes;
	char *rbuf;                    /* unread bytes: rbuf[rpos..rlen) */
	size_t rpos, rlen;
	/* Called about every POP3W_TICK_MS while waiting (may be NULL). */
	void (*tick)(void *arg);
	void *tick_arg;
	bool corked;                   /* commands wait in obuf */
	char *obuf;
	size_t olen, ocap;
};

void pop3w_init(struct pop3_wire *w, const struct pop3_io *io,
    const char *account, const struct textclean *tc, long timeout_ms);
void pop3w_free(struct pop3_wire *w);

/* The stall window. start: a command went out; rx: n bytes came (also
 * for bytes a login reader outside the wire received); left: the
 * milliseconds before the reply counts as stalled (<= 0: now); pause:
 * ms spent elsewhere (a slow store) that is not the server's; error:
 * EX_TEMPFAIL, "WHAT: timed out" when nothing came in the window, else
 * "WHAT: server too slow: fewer than 1024 bytes in N s". */
void pop3w_window_start(struct pop3_wire *w);
void pop3w_rx(struct pop3_wire *w, size_t n);
long long pop3w_window_left(const struct pop3_wire *w);
void pop3w_pause(struct pop3_wire *w, long long ms);
int pop3w_stall_error(const struct pop3_wire *w, const char *what,
    struct err *e);

/* Send the command line cmd + CRLF (all of it, within the stall
 * window, which it starts). -vv shows it; secret: only its verb
 * ("PASS <redacted>"). */
int pop3w_send(struct pop3_wire *w, const char *cmd, bool secret,
    const char *what, struct err *e);

/* Cork: the commands sent from now on wait in a buffer and go out
 * together (one system call for a window of pipelined commands) at
 * pop3w_flush, or before the wire next waits for a reply. Not for
 * secrets. */
void pop3w_cork(struct pop3_wire *w);
int pop3w_flush(struct pop3_wire *w, const char *what, struct err *e);

/* Read one line into dst as received, CR LF stripped, cut to fit
 * (pop3w_copy_line). More than POP3W_LINE_READ_MAX bytes without a line
 * end: EX_PROTOCOL, however the bytes arrive. */
int pop3w_line(struct pop3_wire *w, char *dst, size_t dstlen,
    const char *what, struct err *e);

/* Copy a line for parsing: CR/LF dropped; a line that does not fit is
 * cut and ends in "...", the cut placed where no secret of tc straddles
 * it (textclean_cut). Never print the result as is. */
void pop3w_copy_line(const struct textclean *tc, char *dst, size_t dstlen,
    const char *src, size_t len);

/* Receives a multi-line reply's bytes in runs, dots unstuffed, CRLF
 * kept. Returns 0 or a sysexits code with e filled (which ends the read). */
typedef int (*pop3w_emit)(void *arg, const char *buf, size_t len,
    struct err *e);

/*
 * The body of a multi-line reply, up to and without its "." line, to
 * emit. Dots (RFC 1939, 3): a line that starts with "." and is not the
 * terminator is unstuffed only when the next byte is "." too; otherwise
 * the dot is data (servers that do not stuff a message's first line send
 * ".x" for ".x"). Only a first line starting ".." is then ambiguous:
 * *first_dotdot says it lost a dot; first_dot_data keeps every dot of the
 * first line (a second reading, once the count showed the server had not
 * stuffed it). Time spent in emit does not count against the stall
 * window.
 */
int pop3w_multiline(struct pop3_wire *w, bool first_dot_data,
    bool *first_dotdot, pop3w_emit emit, void *arg, const char *what,
    struct err *e);

#endif
