/*
 * pop3_int.h - what pop3.c (the session: login through libcurl, the
 * commands), pop3_raw.c (the wire: commands and replies over the
 * CONNECT_ONLY connection) and pop3_info.c (--server-info) share. Not for
 * use outside the pop3 module.
 */
#ifndef POPFETCH_POP3_INT_H
#define POPFETCH_POP3_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "pop3.h"

#define LINE_MAX_LEN 1024   /* RFC 1939 limits replies to 512 octets */
#define QUOTE_LEN 200       /* a listing line quoted in an error */
/* A reply still incomplete after receiving fewer than this many bytes in
 * a whole timeout window is a stalled server (one byte now and then must
 * not hold a run forever). */
#define STALL_BYTES 1024
/* Caps that hold however fast a server sends (the stall window only
 * catches slow ones): a RETR body may run BODY_SLACK_MIN bytes, or its
 * announced size if that is more, past the announced size (see
 * pop3i_body_start); a LIST or UIDL listing may have LIST_SLACK lines
 * more than STAT counted messages. */
#define BODY_SLACK_MIN (64 * 1024)
#define LIST_SLACK 1000

enum wmode { W_DISCARD, W_LINES, W_BODY };

/* A command in flight: RETR msg, or (msg NULL) DELE dele. */
struct pop3_sent {
	const struct pop3_msg *msg;
	unsigned long dele;
};

struct pop3 {
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	char *base_url;
	const char *account;
	const char *host;
	enum auth_mech auth;
	bool plaintext_ok, client_cert;
	long timeout_ms, timeout_s;
	bool established;    /* logged in: no further sockets allowed */
	bool lost;           /* libcurl tried to open another connection */
	bool broken;         /* a command failed: the session is over */
	long long last_rx_ms;   /* when the server last sent us a byte */
	long long win_start_ms; /* the current stall window began (the
	                           command, or the last STALL_BYTES) */
	unsigned long win_bytes;   /* bytes received in it */
	bool stalled;        /* progress_cb gave up waiting for the server */

	/* Single-line replies of the current perform (header callback),
	 * as received: print them only through pop3i_quote. */
	char last[LINE_MAX_LEN];
	char err_line[LINE_MAX_LEN];   /* the first -ERR of this perform */
	bool in_login;       /* the first perform: greeting, CAPA, auth */
	bool capa_seen, capa_uidl, capa_sasl;
	bool capa_new;       /* a reply came: a listing now starts afresh */
	bool greet_apop;     /* the greeting carries an APOP timestamp */
	char greeting[LINE_MAX_LEN];
	char capa[LINE_MAX_LEN];   /* the last CAPA listing, space-separated */
	char tls_desc[256];  /* "TLSv1.3 / TLS_AES_..." from libcurl's text */
	struct textclean *tc;   /* the secrets pop3i_quote redacts, or NULL */

	/* Every command after login goes over the CONNECT_ONLY
	 * connection through pop3_raw.c's reader and writer. */
	bool connect_only;
	char *rbuf;
	size_t rpos, rlen;

	/* Body of the current perform (write callback). */
	enum wmode wmode;
	char line[LINE_MAX_LEN];
	size_t linelen;
	int (*line_fn)(struct pop3 *, char *, size_t, struct err *);
	unsigned long stat_count;   /* messages STAT counted */
	unsigned long nlines, max_lines;   /* of this listing; 0: no cap */
	const char *lines_what;     /* "LIST" or "UIDL", for the error */
	struct pop3_msg *msgs;   /* LIST builds / UIDL fills */
	size_t nmsgs, capmsgs;
	const struct pop3_body *body;
	unsigned long long expect, got;
	unsigned long long cap;   /* more than this many bytes: refused */
	bool started, passthrough;
	bool first_dotdot;    /* the first line started ".." and lost a dot */
	bool peeked;          /* s->last holds the next reply's status */
	/* Pipelining (RFC 2449) when CAPA lists PIPELINING: RETRs of the
	 * planned messages (plan[pnext..nplan)) are sent ahead, within a
	 * window, and DELEs go out without waiting; q[qhead..qtail) holds
	 * the commands sent and not yet read, in the order their replies
	 * come. */
	bool capa_pipelining;
	bool capa_utf8;       /* CAPA lists UTF8 (RFC 6856) */
	const struct pop3_msg **plan;
	size_t nplan, pnext, plancap;
	struct pop3_sent *q;
	size_t qhead, qtail, qcap;
	size_t qretr, qdele;       /* RETRs and DELEs among them */
	unsigned long long qbytes; /* the RETRs' announced octets */
	bool first_dot_data;  /* keep every dot of the first line */
	const struct pop3_msg *retr_msg;
	char hold[2];
	size_t nhold;
	int cb_rc;           /* error raised inside a callback */
	struct err *cb_err;
};


/* pop3.c */
void pop3i_copy_line(const struct pop3 *s, char *dst, size_t dstlen,
    const char *src, size_t len);
/* Server text made fit to print into buf (textclean_line with the
 * session's secrets): the one way server text reaches the user. */
const char *pop3i_quote(const struct pop3 *s, char *buf, size_t buflen,
    const char *src, size_t len);
size_t pop3i_header_cb(char *buf, size_t size, size_t n, void *arg);
size_t pop3i_write_cb(char *buf, size_t size, size_t n, void *arg);
void pop3i_body_start(struct pop3 *s, const struct pop3_msg *m);
int pop3i_respcode_exit(const char *line);
/* The stall window: start it with each command; count received bytes;
 * the milliseconds left before the reply counts as stalled (<= 0: now);
 * the error for a stall ("timed out" when nothing came in the window,
 * else "server too slow: fewer than 1024 bytes in N s"), EX_TEMPFAIL. */
void pop3i_window_start(struct pop3 *s);
void pop3i_rx(struct pop3 *s, size_t n);
long long pop3i_window_left(const struct pop3 *s);
int pop3i_stall_error(const struct pop3 *s, const char *what,
    struct err *e);
struct pop3 *pop3i_new(const struct pop3_params *p, bool connect_only,
    bool certinfo, struct err *e);
int pop3i_perform(struct pop3 *s, const char *path, const char *custom,
    bool multiline, enum wmode wmode, const char *what, struct err *e);

/* pop3_raw.c: commands over the CONNECT_ONLY connection. send: one
 * command line (secret: traced as "VERB <redacted>"); reply: read the
 * reply of the oldest command sent and not yet read (its status line may
 * already be in s->last: peek); peek: read the next status line into
 * s->last, for pop3i_raw_reply to take. */
int pop3i_raw_send(struct pop3 *s, const char *cmd, bool secret,
    const char *what, struct err *e);
int pop3i_raw_reply(struct pop3 *s, bool multiline, enum wmode wmode,
    const char *what, bool login, struct err *e);
int pop3i_raw_peek(struct pop3 *s, const char *what, struct err *e);
int pop3i_raw_command(struct pop3 *s, const char *cmd, bool multiline,
    enum wmode wmode, const char *what, struct err *e);
int pop3i_raw_login(struct pop3 *s, const char *user, const char *password,
    struct err *e);

#endif
