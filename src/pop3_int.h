/*
 * pop3_int.h - what the files of the pop3 module share; not for use
 * outside it. The module, top to bottom (calls go down only):
 *
 *   pop3_login.c  libcurl: the handle, TLS, the login and the transport
 *                 over its connection; pop3_open
 *   pop3_login_err.c  what a failed login perform means
 *   pop3_info.c   --server-info (uses pop3_login.c)
 *   pop3_list.c   LIST and UIDL: the inventory
 *   pop3_pipe.c   RETR and DELE, pipelined when CAPA lists PIPELINING
 *   pop3.c        the session: commands and replies on the wire, byte
 *                 counts and line caps of multi-line replies, STAT, QUIT
 *   pop3_wire.c   lines and dots over a struct pop3_io (pop3_wire.h)
 */
#ifndef POPFETCH_POP3_INT_H
#define POPFETCH_POP3_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "pop3.h"
#include "pop3_wire.h"

#define LINE_MAX_LEN POP3W_LINE_MAX
#define QUOTE_LEN 200       /* a listing line quoted in an error */
/* Caps that hold however fast a server sends (the stall window only
 * catches slow ones): a RETR body may run BODY_SLACK_MIN bytes, or its
 * announced size if that is more, past the announced size (see
 * pop3i_body_start); a LIST or UIDL listing may have LIST_SLACK lines
 * more than STAT counted messages. */
#define BODY_SLACK_MIN (64 * 1024)
#define LIST_SLACK 1000
/* TOP n 0 (a header section) may run to this many bytes. */
#define TOP_MAX_BYTES (1024 * 1024)

enum wmode { W_DISCARD, W_LINES, W_BODY };

/* A command in flight: RETR msg, or (msg NULL) DELE dele. */
struct pop3_sent {
	const struct pop3_msg *msg;
	unsigned long dele;
};

struct pop3 {
	/* pop3_login.c: the libcurl handle and what its login showed. */
	CURL *h;             /* NULL for a session over a scripted io */
	char errbuf[CURL_ERROR_SIZE];
	char *base_url;
	const char *host;
	int port;
	enum tls_mode tls;
	enum auth_mech auth;
	bool plaintext_ok, client_cert;
	bool established;    /* logged in: no further sockets allowed */
	bool lost;           /* libcurl tried to open another connection */
	bool stalled;        /* progress_cb gave up waiting for the server */
	CURLcode io_rc;      /* the curl transport's last failure */
	char err_line[LINE_MAX_LEN];   /* the first -ERR of the login */
	bool capa_seen, capa_uidl, capa_sasl;
	bool capa_new;       /* a reply came: a listing now starts afresh */
	bool capa_pipelining; /* CAPA lists PIPELINING (RFC 2449) */
	bool capa_utf8;      /* CAPA lists UTF8 (RFC 6856) */
	bool capa_top;       /* CAPA lists TOP */
	bool greet_apop;     /* the greeting carries an APOP timestamp */
	char greeting[LINE_MAX_LEN];
	char capa[LINE_MAX_LEN];   /* the last CAPA listing, space-separated */
	char tls_desc[256];  /* "TLSv1.3 / TLS_AES_..." from libcurl's text */

	/* pop3.c: the session on the wire. */
	const char *account;
	struct textclean *tc;   /* the secrets pop3i_quote redacts, or NULL */
	struct pop3_wire w;
	bool broken;         /* a command failed: the session is over */
	/* The last status line, as received: print it only through
	 * pop3i_quote. */
	char last[LINE_MAX_LEN];
	bool peeked;         /* s->last holds the next reply's status */
	enum wmode wmode;    /* where a multi-line reply's bytes go */
	unsigned long stat_count;   /* messages STAT counted */
	bool list_ahead, uidl_ahead;   /* sent with STAT, replies unread */
	/* W_LINES: a listing, split into lines for line_fn. */
	char line[LINE_MAX_LEN];
	size_t linelen;
	int (*line_fn)(struct pop3 *, char *, size_t, struct err *);
	unsigned long nlines, max_lines;   /* of this listing; 0: no cap */
	const char *lines_what;     /* "LIST" or "UIDL", for the error */
	bool lines_cut;      /* a line too long is cut, not an error (TOP) */
	unsigned long cut_bytes;   /* of such a reply: capped, TOP_MAX_BYTES */
	void (*top_fn)(void *, const char *, size_t);
	void *top_arg;
	struct pop3_msg *msgs;   /* LIST builds / UIDL fills */
	struct strset *uidls;    /* where UIDL puts the UIDLs */
	size_t nmsgs, capmsgs;
	/* W_BODY: a RETR body, counted against its announced size. */
	const struct pop3_body *body;
	const struct pop3_msg *retr_msg;
	unsigned long long expect, got;
	unsigned long long cap;   /* more than this many bytes: refused */
	bool started, passthrough;
	bool first_dotdot;    /* the first line started ".." and lost a dot */
	bool first_dot_data;  /* keep every dot of the first line */
	char hold[2];
	size_t nhold;

	/* pop3_pipe.c. Pipelining (RFC 2449) when CAPA lists PIPELINING:
	 * RETRs of the planned messages (those of plan[pnext..nplan) whose
	 * take[] is set, or all when take is NULL: the caller's arrays) are sent
	 * ahead, within a window, and DELEs go out without waiting;
	 * q[qhead..qtail) holds the commands sent and not yet read, in the
	 * order their replies come. */
	const struct pop3_msg *plan;
	const unsigned char *take;
	size_t nplan, pnext;
	struct pop3_sent *q;
	size_t qhead, qtail, qcap;
	size_t qretr, qdele;       /* RETRs and DELEs among them */
	unsigned long long qbytes; /* the RETRs' announced octets */
	unsigned long *redo;  /* read again with first-line dots as data */
	size_t nredo;
};

/* pop3.c */
/* A session over io (logged in already; io->arg stays the caller's), or
 * NULL with e. tc (may be NULL) is the session's from now on. */
struct pop3 *pop3i_session_new(const struct pop3_io *io,
    const char *account, struct textclean *tc, long timeout_ms);
/* UTF8 when CAPA offered it (a refusal changes nothing), then STAT;
 * with PIPELINING, LIST and UIDL (if pop3_has_uidl) sent with them. */
int pop3i_start(struct pop3 *s, unsigned long *count,
    unsigned long long *octets, struct err *e);
void pop3i_copy_line(const struct pop3 *s, char *dst, size_t dstlen,
    const char *src, size_t len);
/* Server text made fit to print into buf (textclean_line with the
 * session's secrets): the one way server text reaches the user. */
const char *pop3i_quote(const struct pop3 *s, char *buf, size_t buflen,
    const char *src, size_t len);
int pop3i_respcode_exit(const char *line);
/* RETR bodies: start counting msg's (its "+OK n octets" in s->last);
 * pass bytes on to s->body. */
void pop3i_body_start(struct pop3 *s, const struct pop3_msg *m);
int pop3i_body_deliver(struct pop3 *s, const char *buf, size_t len,
    struct err *e);
/*
 * Commands on the wire. send: one command line (secret: traced as
 * "VERB <redacted>"); reply: read the reply of the oldest command sent
 * and not yet read (its status line may already be in s->last: peek),
 * and for a multi-line one its body into wmode's reader; peek: read the
 * next status line into s->last, for pop3i_raw_reply to take; command:
 * send, then reply. login: an -ERR is a refused login (EX_NOPERM unless
 * a RESP-CODE says otherwise). Any failure marks the session broken.
 */
int pop3i_raw_send(struct pop3 *s, const char *cmd, bool secret,
    const char *what, struct err *e);
int pop3i_raw_reply(struct pop3 *s, bool multiline, enum wmode wmode,
    const char *what, bool login, struct err *e);
int pop3i_raw_peek(struct pop3 *s, const char *what, struct err *e);
int pop3i_raw_command(struct pop3 *s, const char *cmd, bool multiline,
    enum wmode wmode, const char *what, struct err *e);

/* pop3_login.c */
struct pop3 *pop3i_new(const struct pop3_params *p, bool certinfo,
    struct err *e);
/* pop3_login_err.c: a failed perform's error: the step named, the
 * code, what to do. */
int pop3i_map_error(struct pop3 *s, CURLcode rc, const char *what,
    struct err *e);

/* libcurl's perform with CONNECT_ONLY: TCP, TLS or STLS, greeting, CAPA
 * and (with a user name set) the login. */
int pop3i_connect(struct pop3 *s, const char *what, struct err *e);

#endif
