/*
 * pop3.h - one POP3 session over one libcurl easy handle.
 *
 * The session is one TCP connection and one login. libcurl opens it (TLS,
 * STLS, SASL, proxies) and stops; every command after the login is
 * popfetch's own, RETRs and DELEs pipelined when the server allows
 * (pop3_retr_plan, pop3_dele_many). libcurl would silently
 * open a new connection (a new POP3 session, where message numbers and
 * pending DELEs differ) if the old one dropped; pop3.c refuses to let it
 * and reports the session as lost instead, so a message number always
 * means what the inventory said.
 *
 * Every function returns 0 or a sysexits code with e filled in: the
 * server's -ERR text quoted, RESP-CODES mapped ([AUTH] -> EX_NOPERM,
 * [IN-USE]/[LOGIN-DELAY]/[SYS/TEMP] -> EX_TEMPFAIL, [SYS/PERM] ->
 * EX_UNAVAILABLE). After any error the session is unusable: call
 * pop3_close().
 */
#ifndef POPFETCH_POP3_H
#define POPFETCH_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "strset.h"
#include "util.h"

struct pop3;

struct pop3_params {
	const char *account;      /* for -vv traces */
	const char *host;
	int port;
	enum tls_mode tls;
	const char *ca_file;      /* each TLS option NULL when unset */
	const char *ca_path;
	const char *pinned_pubkey;
	const char *client_cert;
	const char *client_key;
	int tls_min_version;      /* 12 or 13 */
	enum auth_mech auth;
	bool plaintext_ok;        /* encrypted or loopback: auth: auto may
	                             choose USER, PLAIN or LOGIN */
	const char *user;
	const char *password;     /* copied; the caller may wipe its own */
	const char *bearer;       /* OAuth2 token for xoauth2/oauthbearer */
	const char *netrc;        /* the netrc file libcurl takes the password
	                             from (password NULL), or NULL */
	long timeout_ms;
	const char *proxy;        /* proxy URL, or NULL: a direct connection
	                             (libcurl's proxy variables in the
	                             environment are ignored either way) */
};

/* One message in the server's inventory: 16 bytes, so that a mailbox of
 * 100,000 messages lists in 1.6 MB. */
struct pop3_msg {
	unsigned long long size;  /* LIST size */
	unsigned num;             /* message number (LIST refuses one past
	                             UINT_MAX) */
	uint32_t uidl;            /* the UIDL: its reference in the set
	                             pop3_uidl interned it into (strset.h;
	                             any bytes); 0 until then */
};

/* Connect, TLS, authenticate, STAT. Fills *count and *octets. */
int pop3_open(const struct pop3_params *p, struct pop3 **out,
    unsigned long *count, unsigned long long *octets, struct err *e);

/*
 * --server-info: connect (TLS/STLS as configured), read the greeting and
 * CAPA, and print them with the TLS version, cipher, certificate subject,
 * issuer, validity and sha256// public-key pin to out, without logging in.
 * A certificate that fails verification is still described (and said to
 * be unverified): no credential is ever sent on this connection.
 */
int pop3_server_info(const struct pop3_params *p, FILE *out, struct err *e);

/* True when the server's CAPA listed UIDL; false when CAPA was answered
 * without it. When the server answered no CAPA at all, true (try it). */
bool pop3_has_uidl(const struct pop3 *s);

/* LIST: the inventory, sorted by message number. */
int pop3_list(struct pop3 *s, struct pop3_msg **msgs, size_t *n,
    struct err *e);

/* UIDL: fill the uidl of every message in msgs, an array pop3_list
 * returned (matched by number): each UIDL is added to `uidls` (the
 * journal's set, state_uidls(), so a UIDL already stored is not kept
 * twice), and the message holds its reference.
 * A message LIST showed that UIDL does not is an error (EX_PROTOCOL).
 * Call it right after pop3_list, when pop3_has_uidl() and the listing is
 * not empty (with PIPELINING both went out with STAT; an empty
 * listing's pop3_list reads UIDL's reply itself). */
int pop3_uidl(struct pop3 *s, struct pop3_msg *msgs, size_t n,
    struct strset *uidls, struct err *e);

/* Free what pop3_list returned (the UIDLs stay in their set). NULL is
 * fine. */
void pop3_msgs_free(struct pop3_msg *msgs, size_t n);

/* True when the server's CAPA listed TOP. */
bool pop3_has_top(const struct pop3 *s);

/* TOP num 0: the message's header lines (CRLF stripped, empty lines
 * left out, a line longer than 1023 bytes cut) to fn, in order. Not with
 * RETRs or DELEs in flight. */
int pop3_top(struct pop3 *s, unsigned long num,
    void (*fn)(void *arg, const char *line, size_t len), void *arg,
    struct err *e);

/*
 * Receives one message body in wire form (dot-unstuffed, CRLF line ends)
 * in chunks. Return 0, or a sysexits code (with e filled) to abort.
 */
struct pop3_body {
	int (*write)(void *arg, const char *buf, size_t len, struct err *e);
	/* Forget what write() received of this message: it is read again
	 * (a first line starting ".." that the server did not stuff). */
	int (*restart)(void *arg, struct err *e);
	void *arg;
};

/* What pop3_retr saw of a body. */
struct pop3_retr_info {
	bool again;                    /* (with 0) not received: its first
	                                  line needs a second reading, once
	                                  nothing else is in flight; the
	                                  caller drops what it got and asks
	                                  again after the rest of the plan */
	bool lone_dot;                 /* (with an error) the server sent the
	                                  message's first line, a lone ".",
	                                  unstuffed: the reply ended there and
	                                  the rest of the message came where
	                                  replies belong; the session is
	                                  unusable, the message can never be
	                                  retrieved over POP3 */
	bool shorter;                  /* fewer bytes than announced, but
	                                  the reply ended properly */
	bool dele_failed;              /* (with an error) the error is the
	                                  reply of a DELE sent earlier
	                                  (pop3_dele_many, pipelined), read
	                                  before this message's: nothing of
	                                  the message was received */
	unsigned long long announced;  /* "+OK n octets", else LIST size */
	unsigned long long received;
};

/*
 * RETR msg->num into body. Checks the byte count against the server's
 * "+OK n octets" (else the LIST size): a body cut short (the connection
 * gone) is EX_TEMPFAIL, and the caller must discard what it received. A
 * body shorter than announced whose reply ended properly on a connection
 * that still answers returns 0 with info->shorter set: the caller decides
 * (it may store it, but must not delete the message: it cannot tell a
 * server that reports the size of another form of the message from a
 * loss). When the server appends CRLF beyond the announced count (it
 * does for a message without a final newline), that CRLF is not passed
 * on, so the stored message has exactly the server's octets.
 */
int pop3_retr(struct pop3 *s, const struct pop3_msg *msg,
    const struct pop3_body *body, struct pop3_retr_info *info,
    struct err *e);

/* Server text (a UIDL, say) made fit to print into buf: control bytes
 * escaped, the session's secrets redacted. Returns buf. */
const char *pop3_quote(const struct pop3 *s, char *buf, size_t buflen,
    const char *src, size_t len);

/*
 * The messages pop3_retr() will be asked for next, in that order: each
 * msgs[i] of msgs[0..n) with take[i] != 0 (take NULL: all of them). The
 * plan is the caller's arrays, not a copy (nothing per message here):
 * both must stay as they are until the plan is replaced or dropped, or
 * the session closed. Their RETRs go out ahead of the replies (RFC 2449
 * pipelining, when CAPA lists PIPELINING; else one at a time), up to 64
 * RETRs and 16 MB announced in flight. A new plan replaces the messages
 * of the old one whose RETR was not sent yet; n == 0 drops them. A
 * message asked for out of plan is sent alone, once nothing is in
 * flight.
 */
void pop3_retr_plan(struct pop3 *s, const struct pop3_msg *msgs,
    const unsigned char *take, size_t n);

/*
 * With PIPELINING: send now the planned RETRs that fit the window, so
 * the server sends while the caller does other work (syncs a batch);
 * pop3_retr reads the replies as usual. Without it, nothing (the next
 * pop3_retr sends its RETR).
 */
int pop3_retr_ahead(struct pop3 *s, struct err *e);

/* DELE one message (takes effect at a good QUIT). */
int pop3_dele(struct pop3 *s, unsigned long num, struct err *e);

/*
 * DELE these. Without PIPELINING one at a time, each reply read before
 * the next command (nothing else may be in flight); the first -ERR ends
 * it (the ones before it were accepted). With PIPELINING they go out
 * behind whatever is in flight and their replies are read later, in
 * order: before the reply of the next pop3_retr (a -ERR fails that call,
 * with info->dele_failed), by pop3_quit, or here once 64 DELEs are
 * unread. Either way a -ERR ends the session, as any failed command.
 */
int pop3_dele_many(struct pop3 *s, const unsigned long *nums, size_t n,
    struct err *e);

/* Read the replies of the DELEs still in flight (the first -ERR is the
 * error), then QUIT and check its reply: only 0 (every DELE accepted,
 * and QUIT's +OK) means the DELEs happened. */
int pop3_quit(struct pop3 *s, struct err *e);

/* fn(arg) is called about twice a second while the session waits for
 * the server (a progress line to redraw); NULL: not. */
void pop3_set_tick(struct pop3 *s, void (*fn)(void *arg), void *arg);

/* Free the handle (libcurl sends its own QUIT if the connection is still
 * up and pop3_quit was not called: pending DELEs may be committed). */
void pop3_close(struct pop3 *s);

#endif
