/*
 * pop3.c - one POP3 session over one libcurl easy handle.
 *
 * libcurl drives the protocol; this file adds what libcurl does not do for
 * POP3 (see libcurl-pop3 notes in HACKING.md): it reads single-line replies
 * through the header callback, sets NOBODY right for every command, counts
 * every body's bytes against the server's octet count, refuses silent
 * reconnects, and turns curl codes plus the server's -ERR text into
 * sysexits codes and a message.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "log.h"
#include "pop3.h"

#define LINE_MAX_LEN 1024   /* RFC 1939 limits replies to 512 octets */

enum wmode { W_DISCARD, W_LINES, W_BODY };

struct pop3 {
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	char *base_url;
	const char *account;
	long timeout_s;
	bool established;    /* logged in: no further sockets allowed */
	bool lost;           /* libcurl tried to open another connection */

	/* Single-line replies of the current perform (header callback). */
	char last[LINE_MAX_LEN];
	bool in_login;       /* the first perform: greeting, CAPA, auth */
	bool capa_seen, capa_uidl;

	/* Body of the current perform (write callback). */
	enum wmode wmode;
	char line[LINE_MAX_LEN];
	size_t linelen;
	int (*line_fn)(struct pop3 *, char *, size_t, struct err *);
	struct pop3_msg *msgs;   /* LIST builds / UIDL fills */
	size_t nmsgs, capmsgs;
	const struct pop3_body *body;
	unsigned long long expect, got;
	bool started, passthrough;
	const struct pop3_msg *retr_msg;
	char hold[2];
	size_t nhold;
	int cb_rc;           /* error raised inside a callback */
	struct err *cb_err;
};

/* ---- callbacks ------------------------------------------------------------ */

static void body_start(struct pop3 *s, const struct pop3_msg *m);

/* Copy a server line for messages: printable ASCII only, no CR/LF. */
static void
clean_line(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t o = 0;

	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[o] = '\0';
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pop3 *s = arg;
	size_t len = size * n;

	clean_line(s->last, sizeof(s->last), buf, len);
	if (s->wmode == W_BODY && !s->started && s->last[0] == '+')
		body_start(s, s->retr_msg);
	if (s->in_login && s->last[0] != '+' && s->last[0] != '-' &&
	    s->last[0] != '\0') {
		/* A CAPA listing line (greeting and replies start with
		 * +OK/-ERR; SASL challenges with "+ "). */
		char word[16];
		size_t i = 0;
		s->capa_seen = true;
		while (i + 1 < sizeof(word) && s->last[i] && s->last[i] != ' ') {
			word[i] = (char)toupper((unsigned char)s->last[i]);
			i++;
		}
		word[i] = '\0';
		if (strcmp(word, "UIDL") == 0)
			s->capa_uidl = true;
	}
	return len;
}

/* Split a multi-line reply into lines (CRLF stripped). */
static size_t
lines_write(struct pop3 *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			size_t l = s->linelen;
			if (l > 0 && s->line[l - 1] == '\r')
				l--;
			s->line[l] = '\0';
			s->linelen = 0;
			if (l > 0 && s->line_fn(s, s->line, l, s->cb_err) != 0) {
				s->cb_rc = s->cb_err->code;
				return 0;
			}
			continue;
		}
		if (s->linelen + 1 >= sizeof(s->line)) {
			s->cb_rc = err_set(s->cb_err, EX_PROTOCOL, "listing "
			    "line longer than %zu bytes", sizeof(s->line));
			return 0;
		}
		s->line[s->linelen++] = buf[i];
	}
	return len;
}

static int
body_deliver(struct pop3 *s, const char *buf, size_t len)
{
	if (len == 0)
		return 0;
	return s->body->write(s->body->arg, buf, len, s->cb_err);
}

static void
body_start(struct pop3 *s, const struct pop3_msg *m)
{
	const char *p = s->last;

	/* "+OK 1234 octets" when the server says; else the LIST size. */
	s->started = true;
	s->expect = m->size;
	if (strncmp(p, "+OK ", 4) == 0 && isdigit((unsigned char)p[4]))
		s->expect = strtoull(p + 4, NULL, 10);
}

static size_t
body_write(struct pop3 *s, const char *buf, size_t len)
{
	unsigned long long room;
	size_t now;
	int rc;

	if (!s->started)
		body_start(s, s->retr_msg);

	/* Up to the announced size, bytes go straight through. Beyond it we
	 * hold back at most two bytes: a server that ends a message lacking
	 * a final newline with an extra CRLF sends exactly n+2. */
	room = s->got < s->expect ? s->expect - s->got : 0;
	now = s->passthrough || room >= len ? len : (size_t)room;
	s->got += len;
	if ((rc = body_deliver(s, buf, now)) != 0)
		goto fail;
	buf += now;
	len -= now;
	if (len == 0)
		return now;
	if (s->nhold + len <= sizeof(s->hold)) {
		memcpy(s->hold + s->nhold, buf, len);
		s->nhold += len;
		return now + len;
	}
	/* More than that: the size was a lie; pass everything on. */
	s->passthrough = true;
	if ((rc = body_deliver(s, s->hold, s->nhold)) != 0 ||
	    (rc = body_deliver(s, buf, len)) != 0)
		goto fail;
	s->nhold = 0;
	return now + len;
fail:
	s->cb_rc = rc;
	return 0;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pop3 *s = arg;
	size_t len = size * n;

	switch (s->wmode) {
	case W_LINES:
		return lines_write(s, buf, len);
	case W_BODY:
		return body_write(s, buf, len) == len ? len : 0;
	default:
		return len;
	}
}

static curl_socket_t
opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct pop3 *s = arg;

	(void)purpose;
	/* Once logged in, a new socket would be a new POP3 session in which
	 * our message numbers may name other messages: refuse it. */
	if (s->established) {
		s->lost = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* -vv: the dialogue with every secret-bearing line redacted. Only
 * commands we know carry no secret are shown as sent. */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	static const char *const safe[] = { "CAPA", "STLS", "USER", "STAT",
	    "LIST", "UIDL", "RETR", "DELE", "QUIT", "NOOP", "RSET", "TOP",
	    NULL };
	struct pop3 *s = arg;
	char line[LINE_MAX_LEN];
	size_t i;

	(void)h;
	switch (type) {
	case CURLINFO_TEXT:
	case CURLINFO_HEADER_IN:
		clean_line(line, sizeof(line), data, size);
		log_debug(s->account, "%s %s",
		    type == CURLINFO_TEXT ? "*" : "S:", line);
		break;
	case CURLINFO_HEADER_OUT:
		clean_line(line, sizeof(line), data, size);
		for (i = 0; safe[i]; i++) {
			size_t l = strlen(safe[i]);
			if (strncasecmp(line, safe[i], l) == 0 &&
			    (line[l] == ' ' || line[l] == '\0'))
				break;
		}
		if (safe[i] != NULL)
			log_debug(s->account, "C: %s", line);
		else if (strncasecmp(line, "AUTH ", 5) == 0) {
			/* Keep the mechanism, drop any initial response. */
			char *sp = strchr(line + 5, ' ');
			if (sp)
				*sp = '\0';
			log_debug(s->account, "C: %s%s", line,
			    sp ? " <redacted>" : "");
		} else
			log_debug(s->account, "C: <redacted>");
		break;
	default:
		break;
	}
	return 0;
}

/* ---- requests -------------------------------------------------------------- */

static const char *
quote_reply(struct pop3 *s)
{
	return s->last[0] == '-' ? s->last : NULL;
}

/* Map a RESP-CODE in "-ERR [CODE] text" to an exit code; 0 when none. */
static int
respcode_exit(const char *line)
{
	static const struct { const char *code; int ex; } map[] = {
		{ "[AUTH]", EX_NOPERM },
		{ "[IN-USE]", EX_TEMPFAIL },
		{ "[LOGIN-DELAY]", EX_TEMPFAIL },
		{ "[SYS/TEMP]", EX_TEMPFAIL },
		{ "[SYS/PERM]", EX_UNAVAILABLE },
	};

	if (line == NULL || strncmp(line, "-ERR [", 6) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t l = strlen(map[i].code);
		if (strncasecmp(line + 5, map[i].code, l) == 0)
			return map[i].ex;
	}
	return 0;
}

static int
map_error(struct pop3 *s, CURLcode rc, const char *what, struct err *e)
{
	const char *reply = quote_reply(s);
	const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	int code;

	if (rc == CURLE_WRITE_ERROR && s->cb_rc != 0)
		return s->cb_rc;   /* e already filled by the callback */
	if (s->lost || (s->established && rc == CURLE_COULDNT_CONNECT))
		return err_set(e, EX_TEMPFAIL, "%s: connection to the server "
		    "was lost; not reconnecting in the same run (message "
		    "numbers could change)", what);
	if ((code = respcode_exit(reply)) != 0)
		return err_set(e, code, "%s: server said \"%s\"", what, reply);

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(e, EX_NOHOST, "%s: %s", what, detail);
	case CURLE_COULDNT_CONNECT:
		return err_set(e, EX_TEMPFAIL, "%s: %s", what, detail);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(e, EX_TEMPFAIL, "%s: timed out (timeout %lds)",
		    what, s->timeout_s);
	case CURLE_LOGIN_DENIED:
		if (reply)
			return err_set(e, EX_NOPERM, "%s: login refused: "
			    "server said \"%s\"", what, reply);
		return err_set(e, EX_NOPERM, "%s: login refused", what);
	case CURLE_USE_SSL_FAILED:
		return err_set(e, EX_UNAVAILABLE, "%s: the server does not "
		    "offer STLS; not sending credentials in clear", what);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return err_set(e, EX_UNAVAILABLE, "%s: TLS failed: %s (check "
		    "ca_file, or the server's certificate)", what, detail);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return err_set(e, EX_TEMPFAIL, "%s: connection lost: %s",
		    what, detail);
	case CURLE_WEIRD_SERVER_REPLY:
		if (reply)
			return err_set(e, EX_PROTOCOL, "%s: server said \"%s\"",
			    what, reply);
		return err_set(e, EX_PROTOCOL, "%s: unexpected server reply: "
		    "%s", what, detail);
	default:
		if (reply)
			return err_set(e, EX_PROTOCOL, "%s: %s; server said "
			    "\"%s\"", what, detail, reply);
		return err_set(e, EX_UNAVAILABLE, "%s: %s", what, detail);
	}
}

/*
 * Run one command: path is "" or "/N" (RETR N), custom a command line for
 * CURLOPT_CUSTOMREQUEST or NULL (LIST/RETR by URL). NOBODY must be set
 * for single-line commands (else libcurl waits for a "." line) and
 * cleared for multi-line ones (else the body corrupts the next reply).
 */
static int
perform(struct pop3 *s, const char *path, const char *custom, bool multiline,
    enum wmode wmode, const char *what, struct err *e)
{
	char *url = xasprintf("%s/%s", s->base_url, path);
	long connects = 0;
	CURLcode rc;

	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(s->h, CURLOPT_NOBODY, multiline ? 0L : 1L);
	s->wmode = wmode;
	s->last[0] = '\0';
	s->errbuf[0] = '\0';
	s->cb_rc = 0;
	s->cb_err = e;
	s->linelen = 0;
	rc = curl_easy_perform(s->h);
	free(url);
	s->wmode = W_DISCARD;

	curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
	if (s->established && connects > 0)
		s->lost = true;
	if (rc != CURLE_OK)
		return map_error(s, rc, what, e);
	if (s->lost)
		return map_error(s, CURLE_COULDNT_CONNECT, what, e);
	if (!multiline && strncmp(s->last, "+OK", 3) != 0)
		return err_set(e, EX_PROTOCOL, "%s: unexpected reply \"%s\"",
		    what, s->last);
	return 0;
}

static char *
make_base_url(const struct pop3_params *p)
{
	const char *scheme = p->tls == TLS_IMPLICIT ? "pop3s" : "pop3";

	if (strchr(p->host, ':') != NULL)
		return xasprintf("%s://[%s]:%d", scheme, p->host, p->port);
	return xasprintf("%s://%s:%d", scheme, p->host, p->port);
}

int
pop3_open(const struct pop3_params *p, struct pop3 **out,
    unsigned long *count, unsigned long long *octets, struct err *e)
{
	struct pop3 *s = xcalloc(1, sizeof(*s));
	int rc;

	s->account = p->account;
	s->timeout_s = (p->timeout_ms + 999) / 1000;
	s->base_url = make_base_url(p);
	s->h = curl_easy_init();
	if (s->h == NULL) {
		rc = err_set(e, EX_SOFTWARE, "cannot create a libcurl handle");
		goto fail;
	}
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "pop3,pop3s");
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->h, CURLOPT_USERNAME, p->user);
	curl_easy_setopt(s->h, CURLOPT_PASSWORD, p->password);
	curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(s->h, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(s->h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout_s);
	curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_TIME, s->timeout_s);
	/* libcurl drops a connection idle for 118 s by default, and with it
	 * the session and its pending DELEs: a slow store must not cause
	 * that. */
	curl_easy_setopt(s->h, CURLOPT_MAXAGE_CONN, 24L * 3600);
	curl_easy_setopt(s->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(s->h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (p->tls == TLS_STARTTLS)
		curl_easy_setopt(s->h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (p->ca_file != NULL)
		curl_easy_setopt(s->h, CURLOPT_CAINFO, p->ca_file);
	if (log_level() >= LOG_DEBUG) {
		/* VERBOSE only together with the redacting callback. */
		curl_easy_setopt(s->h, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(s->h, CURLOPT_DEBUGDATA, s);
		curl_easy_setopt(s->h, CURLOPT_VERBOSE, 1L);
	}

	s->in_login = true;
	rc = perform(s, "", "STAT", false, W_DISCARD, "login", e);
	s->in_login = false;
	/* The password must stay set on the handle: libcurl reuses the
	 * connection only for requests with the same credentials. */
	if (rc != 0)
		goto fail;
	s->established = true;
	if (sscanf(s->last, "+OK %lu %llu", count, octets) != 2) {
		rc = err_set(e, EX_PROTOCOL, "STAT: unexpected reply \"%s\"",
		    s->last);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	pop3_close(s);
	return rc;
}

bool
pop3_has_uidl(const struct pop3 *s)
{
	return s->capa_seen ? s->capa_uidl : true;
}

static int
list_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	unsigned long num;
	unsigned long long size;
	char extra;

	(void)len;
	if (sscanf(line, "%lu %llu %c", &num, &size, &extra) < 2 || num == 0)
		return err_set(e, EX_PROTOCOL, "LIST: unexpected line \"%.80s\"",
		    line);
	if (s->nmsgs > 0 && num <= s->msgs[s->nmsgs - 1].num)
		return err_set(e, EX_PROTOCOL, "LIST: message numbers out of "
		    "order at \"%.80s\"", line);
	if (s->nmsgs == s->capmsgs) {
		s->capmsgs = s->capmsgs ? s->capmsgs * 2 : 64;
		s->msgs = xrealloc(s->msgs, s->capmsgs * sizeof(*s->msgs));
	}
	s->msgs[s->nmsgs].num = num;
	s->msgs[s->nmsgs].size = size;
	s->msgs[s->nmsgs].uidl = NULL;
	s->msgs[s->nmsgs].uidl_len = 0;
	s->nmsgs++;
	return 0;
}

int
pop3_list(struct pop3 *s, struct pop3_msg **msgs, size_t *n, struct err *e)
{
	int rc;

	s->msgs = NULL;
	s->nmsgs = s->capmsgs = 0;
	s->line_fn = list_line;
	rc = perform(s, "", NULL, true, W_LINES, "LIST", e);
	if (rc != 0) {
		pop3_msgs_free(s->msgs, s->nmsgs);
		s->msgs = NULL;
		return rc;
	}
	*msgs = s->msgs;
	*n = s->nmsgs;
	s->msgs = NULL;
	return 0;
}

static struct pop3_msg *
find_msg(struct pop3_msg *msgs, size_t n, unsigned long num)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (msgs[mid].num == num)
			return &msgs[mid];
		if (msgs[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
uidl_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	char *end;
	unsigned long num;
	struct pop3_msg *m;

	errno = 0;
	num = strtoul(line, &end, 10);
	if (errno || end == line || *end != ' ' || end[1] == '\0')
		return err_set(e, EX_PROTOCOL, "UIDL: unexpected line "
		    "\"%.80s\"", line);
	m = find_msg(s->msgs, s->nmsgs, num);
	if (m == NULL)
		return 0;   /* not in LIST: arrived since; ignore this run */
	if (m->uidl != NULL)
		return err_set(e, EX_PROTOCOL, "UIDL: message %lu listed "
		    "twice", num);
	/* The rest of the line, byte for byte (RFC 1939 says 0x21-0x7e, but
	 * servers differ; the state file escapes whatever comes). */
	end++;
	m->uidl_len = len - (size_t)(end - line);
	m->uidl = xstrndup(end, m->uidl_len);
	return 0;
}

int
pop3_uidl(struct pop3 *s, struct pop3_msg *msgs, size_t n, struct err *e)
{
	int rc;

	s->msgs = msgs;
	s->nmsgs = n;
	s->line_fn = uidl_line;
	rc = perform(s, "", "UIDL", true, W_LINES, "UIDL", e);
	s->msgs = NULL;
	s->nmsgs = 0;
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].uidl == NULL)
			return err_set(e, EX_PROTOCOL, "UIDL did not list "
			    "message %lu that LIST showed", msgs[i].num);
	}
	return 0;
}

void
pop3_msgs_free(struct pop3_msg *msgs, size_t n)
{
	for (size_t i = 0; msgs != NULL && i < n; i++)
		free(msgs[i].uidl);
	free(msgs);
}

int
pop3_retr(struct pop3 *s, const struct pop3_msg *msg,
    const struct pop3_body *body, struct err *e)
{
	char path[32], what[48];
	int rc;

	snprintf(path, sizeof(path), "%lu", msg->num);
	snprintf(what, sizeof(what), "RETR %lu", msg->num);
	s->body = body;
	s->retr_msg = msg;
	s->got = 0;
	s->nhold = 0;
	s->passthrough = false;
	s->started = false;
	rc = perform(s, path, NULL, true, W_BODY, what, e);
	s->body = NULL;
	if (rc != 0)
		return rc;
	if (!s->started)
		body_start(s, msg);
	if (s->got < s->expect)
		return err_set(e, EX_TEMPFAIL, "%s: connection closed after "
		    "%llu of %llu bytes; message not stored", what, s->got,
		    s->expect);
	/* Held-back bytes beyond the announced size: a lone CRLF is the
	 * server's own line end for a message without one; anything else
	 * belongs to the message. */
	if (s->nhold > 0 && !(s->nhold == 2 && s->hold[0] == '\r' &&
	    s->hold[1] == '\n'))
		return body_deliver(s, s->hold, s->nhold) == 0 ? 0 :
		    s->cb_err->code;
	return 0;
}

int
pop3_dele(struct pop3 *s, unsigned long num, struct err *e)
{
	char cmd[40];

	snprintf(cmd, sizeof(cmd), "DELE %lu", num);
	return perform(s, "", cmd, false, W_DISCARD, cmd, e);
}

int
pop3_quit(struct pop3 *s, struct err *e)
{
	return perform(s, "", "QUIT", false, W_DISCARD, "QUIT", e);
}

void
pop3_close(struct pop3 *s)
{
	if (s == NULL)
		return;
	if (s->h != NULL)
		curl_easy_cleanup(s->h);
	pop3_msgs_free(s->msgs, s->nmsgs);
	free(s->base_url);
	free(s);
}
