/*
 * pop3.c - one POP3 session over one libcurl easy handle.
 *
 * libcurl connects, does TLS or STLS, reads the greeting and CAPA and
 * logs in (CURLOPT_CONNECT_ONLY, one perform; its replies arrive through
 * the header callback). Every command after that is ours, over that
 * connection (pop3_raw.c): LIST, UIDL, RETRs pipelined when CAPA lists
 * PIPELINING, DELEs likewise, NOOP, QUIT. This file counts every body's
 * bytes against the server's octet count, handles the dots servers do not
 * stuff, refuses silent reconnects, and turns curl codes plus the
 * server's -ERR text into sysexits codes and a message.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "pop3_int.h"
#include "pop3_parse.h"
#include "textclean.h"

/* ---- callbacks ------------------------------------------------------------ */


/* Copy a server line as received for parsing: CR/LF dropped; a line
 * that does not fit is cut and ends in "...". Never printed as is: see
 * pop3i_quote. The cut is placed with the whole line in view
 * (textclean_cut): a secret the server quoted across it would be only
 * partly kept, where pop3i_quote could no longer recognise it. */
void
pop3i_copy_line(const struct pop3 *s, char *dst, size_t dstlen,
    const char *src, size_t len)
{
	bool cut = false;

	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	if (len >= dstlen) {
		cut = dstlen > 4;
		len = textclean_cut(s->tc, src, len, cut ? dstlen - 4 :
		    dstlen - 1);
	}
	memcpy(dst, src, len);
	if (cut) {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
}

const char *
pop3_quote(const struct pop3 *s, char *buf, size_t buflen, const char *src,
    size_t len)
{
	return pop3i_quote(s, buf, buflen, src, len);
}

/* Every piece of server text popfetch prints goes through here. */
const char *
pop3i_quote(const struct pop3 *s, char *buf, size_t buflen, const char *src,
    size_t len)
{
	textclean_line(buf, buflen, src, len, s->tc);
	return buf;
}

/* Track what the login phase tells us: the greeting (APOP timestamp?)
 * and the CAPA listing (UIDL? SASL?). raw/rawlen: the line as libcurl
 * read it, whole (libcurl bounds its reply lines itself), where s->last
 * is cut to LINE_MAX_LEN. */
static void
login_line(struct pop3 *s, const char *raw, size_t rawlen)
{
	const char *l = s->last;
	char word[16];
	size_t i = 0, n;

	if (s->greeting[0] == '\0') {
		memcpy(s->greeting, l, sizeof(s->greeting));
		/* A greeting ending in a "<...@...>" timestamp makes libcurl
		 * try APOP (RFC 1939, 7) under auth: auto. libcurl looks at
		 * the whole line, so we must too: a long greeting puts the
		 * timestamp past what s->last keeps. */
		s->greet_apop = pop3_parse_apop_greeting(raw, rawlen);
		return;
	}
	if (l[0] == '+' || l[0] == '-') {
		/* A new reply: a CAPA listing may follow (again after STLS)
		 * and then replaces the one kept. Any other reply (AUTH's
		 * +OK) leaves that for the error messages. */
		s->capa_new = true;
		return;
	}
	if (l[0] == '\0' || strcmp(l, ".") == 0)
		return;
	if (s->capa_new) {
		s->capa[0] = '\0';
		s->capa_uidl = s->capa_sasl = s->capa_pipelining = false;
		s->capa_utf8 = false;
		s->capa_new = false;
	}
	s->capa_seen = true;
	while (i + 1 < sizeof(word) && l[i] && l[i] != ' ') {
		word[i] = (char)toupper((unsigned char)l[i]);
		i++;
	}
	word[i] = '\0';
	if (strcmp(word, "UIDL") == 0)
		s->capa_uidl = true;
	if (strcmp(word, "SASL") == 0 && l[4] == ' ')
		s->capa_sasl = true;
	if (strcmp(word, "PIPELINING") == 0)
		s->capa_pipelining = true;
	if (strcmp(word, "UTF8") == 0)
		s->capa_utf8 = true;
	n = strlen(s->capa);
	if (n + strlen(l) + 2 < sizeof(s->capa))
		snprintf(s->capa + n, sizeof(s->capa) - n, "%s%s",
		    n ? " " : "", l);
}

void
pop3i_window_start(struct pop3 *s)
{
	s->last_rx_ms = s->win_start_ms = util_now_ms();
	s->win_bytes = 0;
}

void
pop3i_rx(struct pop3 *s, size_t n)
{
	s->last_rx_ms = util_now_ms();
	s->win_bytes += n;
	if (s->win_bytes >= STALL_BYTES) {
		s->win_start_ms = s->last_rx_ms;
		s->win_bytes = 0;
	}
}

long long
pop3i_window_left(const struct pop3 *s)
{
	return s->win_start_ms + s->timeout_ms - util_now_ms();
}

int
pop3i_stall_error(const struct pop3 *s, const char *what, struct err *e)
{
	if (s->win_bytes == 0)
		return err_set(e, EX_TEMPFAIL, "%s: timed out (timeout %lds)",
		    what, s->timeout_s);
	return err_set(e, EX_TEMPFAIL, "%s: server too slow: fewer than %d "
	    "bytes in %ld s (timeout %lds)", what, STALL_BYTES, s->timeout_s,
	    s->timeout_s);
}

size_t
pop3i_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pop3 *s = arg;
	size_t len = size * n;

	pop3i_rx(s, len);
	pop3i_copy_line(s, s->last, sizeof(s->last), buf, len);
	/* After an -ERR libcurl sends QUIT itself, and that reply would
	 * overwrite the line the user needs to see. (While logging in, the
	 * last -ERR counts: a server without CAPA says -ERR to it first.) */
	if (s->last[0] == '-' && (s->err_line[0] == '\0' || s->in_login))
		memcpy(s->err_line, s->last, sizeof(s->err_line));
	if (s->wmode == W_BODY && !s->started && s->last[0] == '+' &&
	    s->err_line[0] == '\0')
		pop3i_body_start(s, s->retr_msg);
	if (s->in_login)
		login_line(s, buf, len);
	return len;
}

/* Split a multi-line reply into lines (CRLF stripped). */
static size_t
lines_write(struct pop3 *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && s->max_lines > 0 &&
		    ++s->nlines > s->max_lines) {
			/* Empty lines count too: they cost time all the same. */
			s->cb_rc = err_set(s->cb_err, EX_PROTOCOL, "%s: more "
			    "than %lu lines for the %lu messages STAT counted",
			    s->lines_what, s->max_lines, s->stat_count);
			return 0;
		}
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

void
pop3i_body_start(struct pop3 *s, const struct pop3_msg *m)
{
	const char *p = s->last;

	/* "+OK 1234 octets" when the server says; else the LIST size. */
	s->started = true;
	s->expect = m->size;
	unsigned long long n;

	if (pop3_parse_octets(p, strlen(p), &n) == 0)
		s->expect = n;
	/*
	 * The cap: a body longer than announced is passed on (a server may
	 * count another form of the message), but not without end. Sizes
	 * counted with LF line ends while CRLF is sent are short by one
	 * byte a line, at most the announced size itself; small messages
	 * get BODY_SLACK_MIN. So: the larger of the two announcements, plus
	 * as much again, at least BODY_SLACK_MIN more.
	 */
	n = s->expect > m->size ? s->expect : m->size;
	s->cap = n > ULLONG_MAX / 2 - BODY_SLACK_MIN ? ULLONG_MAX :
	    n + (n > BODY_SLACK_MIN ? n : BODY_SLACK_MIN);
}

static size_t
body_write(struct pop3 *s, const char *buf, size_t len)
{
	unsigned long long room;
	size_t now;
	int rc;

	if (!s->started)
		pop3i_body_start(s, s->retr_msg);

	/* Up to the announced size, bytes go straight through. Beyond it we
	 * hold back at most two bytes: a server that ends a message lacking
	 * a final newline with an extra CRLF sends exactly n+2. */
	room = s->got < s->expect ? s->expect - s->got : 0;
	now = s->passthrough || room >= len ? len : (size_t)room;
	s->got += len;
	if (s->got > s->cap) {
		/* Nothing of this message is kept (the store drops it when
		 * the body fails), and it is not deleted. The caller names
		 * the message. */
		rc = err_set(s->cb_err, EX_PROTOCOL, "the server sent more "
		    "than %llu bytes for a message it announced as %llu "
		    "bytes; not stored", s->cap,
		    s->expect > s->retr_msg->size ? s->expect :
		    s->retr_msg->size);
		goto fail;
	}
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

size_t
pop3i_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pop3 *s = arg;
	size_t len = size * n, r;
	long long t0 = util_now_ms(), t1;

	/* pop3_raw.c counts its bytes as it reads them. */
	switch (s->wmode) {
	case W_LINES:
		r = lines_write(s, buf, len);
		break;
	case W_BODY:
		r = body_write(s, buf, len) == len ? len : 0;
		break;
	default:
		r = len;
		break;
	}
	/* Time spent writing (a slow disk) is not the server being slow:
	 * it does not count against the stall window. */
	t1 = util_now_ms();
	s->win_start_ms += t1 - t0;
	s->last_rx_ms = t1;
	return r;
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
		pop3i_quote(s, line, sizeof(line), data, size);
		if (type == CURLINFO_TEXT &&
		    strncmp(line, "SSL connection using ", 21) == 0)
			snprintf(s->tls_desc, sizeof(s->tls_desc), "%.200s",
			    line + 21);
		log_debug(s->account, "%s %s",
		    type == CURLINFO_TEXT ? "*" : "S:", line);
		break;
	case CURLINFO_HEADER_OUT:
		pop3i_quote(s, line, sizeof(line), data, size);
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

/* The -ERR line of this perform, as received; NULL if none. */
static const char *
reply_line(struct pop3 *s)
{
	if (s->err_line[0] != '\0')
		return s->err_line;
	return s->last[0] == '-' ? s->last : NULL;
}

/* Map a RESP-CODE in "-ERR [CODE] text" to an exit code; 0 when none. */
int
pop3i_respcode_exit(const char *line)
{
	return line == NULL ? 0 : pop3_parse_respcode(line, strlen(line));
}

static int
map_error(struct pop3 *s, CURLcode rc, const char *what, struct err *e)
{
	char rbuf[LINE_MAX_LEN], dbuf[LINE_MAX_LEN], cbuf[LINE_MAX_LEN];
	const char *raw = reply_line(s);
	const char *reply = raw ? pop3i_quote(s, rbuf, sizeof(rbuf), raw,
	    strlen(raw)) : NULL;
	/* libcurl's text can quote the server (a certificate's names). */
	const char *detail = s->errbuf[0] ? pop3i_quote(s, dbuf, sizeof(dbuf),
	    s->errbuf, strlen(s->errbuf)) : curl_easy_strerror(rc);
	int code;

	if (rc == CURLE_WRITE_ERROR && s->cb_rc != 0)
		return s->cb_rc;   /* e already filled by the callback */
	if (s->lost || (s->established && rc == CURLE_COULDNT_CONNECT))
		return err_set(e, EX_TEMPFAIL, "%s: connection to the server "
		    "was lost; not reconnecting in the same run (message "
		    "numbers could change)", what);
	if ((code = pop3i_respcode_exit(raw)) != 0)
		return err_set(e, code, "%s: server said \"%s\"", what, reply);
	if (rc == CURLE_ABORTED_BY_CALLBACK && s->stalled)
		rc = CURLE_OPERATION_TIMEDOUT;   /* progress_cb's verdict */

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(e, EX_NOHOST, "%s: %s", what, detail);
	case CURLE_COULDNT_CONNECT:
		return err_set(e, EX_TEMPFAIL, "%s: %s", what, detail);
	case CURLE_OPERATION_TIMEDOUT:
		return pop3i_stall_error(s, what, e);
	case CURLE_LOGIN_DENIED:
		if (reply)
			return err_set(e, EX_NOPERM, "%s: login refused: "
			    "server said \"%s\"", what, reply);
		if ((s->auth == AUTH_XOAUTH2 || s->auth == AUTH_OAUTHBEARER) &&
		    strncmp(s->last, "+ ", 2) == 0)
			/* The server answers a bad token with a challenge
			 * (RFC 7628, 3.2.2) and libcurl gives up there. */
			return err_set(e, EX_NOPERM, "%s: login refused: the "
			    "server rejected the OAuth2 token (check that "
			    "oauth2_token_command prints a fresh access token "
			    "with the right scope)", what);
		/* No -ERR at all: libcurl found nothing it may use. */
		if (s->auth == AUTH_AUTO && !s->plaintext_ok)
			return err_set(e, EX_UNAVAILABLE, "%s: %s offers only "
			    "mechanisms that would send the password readable "
			    "on this unencrypted connection; use tls: starttls "
			    "or implicit, or name a mechanism with auth:", what,
			    s->host);
		{
			char mech[16];
			size_t i;
			const char *name = config_auth_name(s->auth);

			for (i = 0; name[i] && i + 1 < sizeof(mech); i++)
				mech[i] = (char)toupper((unsigned char)name[i]);
			mech[i] = '\0';
			return err_set(e, EX_UNAVAILABLE, "%s: %s does not "
			    "offer %s (auth: %s); its capabilities: %s", what,
			    s->host, mech, name, s->capa[0] ? pop3i_quote(s,
			    cbuf, sizeof(cbuf), s->capa, strlen(s->capa)) :
			    "(none listed)");
		}
	case CURLE_USE_SSL_FAILED:
		return err_set(e, EX_UNAVAILABLE, "%s: %s does not offer STLS; "
		    "no credentials were sent (use tls: implicit, or check the "
		    "server)", what, s->host);
	case CURLE_PEER_FAILED_VERIFICATION:
		return err_set(e, EX_UNAVAILABLE, "%s: cannot verify the "
		    "certificate of %s: %s; for a private or self-signed "
		    "certificate set ca_file or ca_path, or pin its key with "
		    "pinned_pubkey (popfetch --server-info shows it)", what,
		    s->host, detail);
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return err_set(e, EX_UNAVAILABLE, "%s: the public key of %s "
		    "does not match pinned_pubkey (popfetch --server-info "
		    "shows the server's pin)", what, s->host);
	case CURLE_SSL_CERTPROBLEM:
		return err_set(e, EX_CONFIG, "%s: client_cert/client_key "
		    "cannot be used: %s", what, detail);
	case CURLE_SSL_CACERT_BADFILE:
		return err_set(e, EX_CONFIG, "%s: ca_file/ca_path cannot be "
		    "used: %s", what, detail);
	case CURLE_SSL_CONNECT_ERROR:
		return err_set(e, EX_UNAVAILABLE, "%s: TLS with %s failed: %s "
		    "(check tls, port and tls_min_version%s)", what, s->host,
		    detail, s->client_cert ? ", and that the server accepts "
		    "client_cert" : "");
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
int
pop3i_perform(struct pop3 *s, const char *path, const char *custom, bool multiline,
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
	s->err_line[0] = '\0';
	s->errbuf[0] = '\0';
	s->cb_rc = 0;
	s->cb_err = e;
	s->linelen = 0;
	pop3i_window_start(s);
	s->stalled = false;
	rc = curl_easy_perform(s->h);
	free(url);
	s->wmode = W_DISCARD;

	curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
	if (s->established && connects > 0)
		s->lost = true;
	if (rc != CURLE_OK) {
		s->broken = true;
		return map_error(s, rc, what, e);
	}
	if (s->lost)
		return map_error(s, CURLE_COULDNT_CONNECT, what, e);
	/* A CONNECT_ONLY perform ends after CAPA: no reply of its own. */
	if (!multiline && !s->connect_only && strncmp(s->last, "+OK", 3) != 0) {
		char q[LINE_MAX_LEN];

		return err_set(e, EX_PROTOCOL, "%s: unexpected reply \"%s\"",
		    what, pop3i_quote(s, q, sizeof(q), s->last,
		    strlen(s->last)));
	}
	return 0;
}

/*
 * When a server stalls, libcurl's timeouts end the command, but libcurl
 * then sends QUIT on its way out and waits the whole response timeout a
 * second time for the reply, so a run took twice its timeout. libcurl
 * calls this about once a second, also while it waits for that QUIT's
 * reply: once the server has sent fewer than STALL_BYTES in a whole
 * timeout (silence, or a trickle that would hold the run for as long as
 * the server likes), give up, so a stalled run ends within the timeout
 * plus about a second. A reply that completes within the window is not
 * affected, however short.
 */
static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct pop3 *s = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (pop3i_window_left(s) > 0)
		return 0;
	s->stalled = true;
	return 1;
}

static char *
make_base_url(const struct pop3_params *p)
{
	const char *scheme = p->tls == TLS_IMPLICIT ? "pop3s" : "pop3";

	if (strchr(p->host, ':') != NULL)
		return xasprintf("%s://[%s]:%d", scheme, p->host, p->port);
	return xasprintf("%s://%s:%d", scheme, p->host, p->port);
}

/* LOGIN_OPTIONS for a mechanism (NULL: libcurl's default choice). */
static const char *
login_options(const struct pop3_params *p)
{
	switch (p->auth) {
	case AUTH_APOP:
		return "AUTH=+APOP";
	case AUTH_PLAIN:
		return "AUTH=PLAIN";
	case AUTH_LOGIN:
		return "AUTH=LOGIN";
	case AUTH_CRAM_MD5:
		return "AUTH=CRAM-MD5";
	case AUTH_XOAUTH2:
		return "AUTH=XOAUTH2";
	case AUTH_OAUTHBEARER:
		return "AUTH=OAUTHBEARER";
	case AUTH_AUTO:
		/* Strongest offered: libcurl tries SASL (DIGEST-MD5,
		 * CRAM-MD5, ..., LOGIN, PLAIN), then APOP, then USER/PASS.
		 * Where those could be read on the wire, only the challenge-
		 * response mechanisms are allowed. */
		return p->plaintext_ok ? NULL :
		    "AUTH=DIGEST-MD5;AUTH=CRAM-MD5";
	default:
		return NULL;
	}
}

/*
 * A handle with every option but the command: TLS as configured,
 * timeouts, the reconnect guard, -vv tracing. connect_only: libcurl stops
 * after the greeting and CAPA (and STLS), without logging in, and we talk
 * over the connection ourselves (pop3_raw.c).
 */
struct pop3 *
pop3i_new(const struct pop3_params *p, bool connect_only, bool certinfo,
    struct err *e)
{
	struct pop3 *s = xcalloc(1, sizeof(*s));
	CURL *h;

	s->account = p->account;
	s->host = p->host;
	s->auth = p->auth;
	s->plaintext_ok = p->plaintext_ok;
	s->client_cert = p->client_cert != NULL;
	s->timeout_ms = p->timeout_ms;
	s->timeout_s = (p->timeout_ms + 999) / 1000;
	s->base_url = make_base_url(p);
	/* A server may quote what it got (the password, a SASL message)
	 * in its -ERR line: pop3i_quote redacts every form of it. */
	s->tc = textclean_for_login(p->user, p->password, p->bearer, p->host,
	    p->port);
	s->h = h = curl_easy_init();
	if (h == NULL) {
		err_set(e, EX_SOFTWARE, "cannot create a libcurl handle");
		pop3_close(s);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "pop3,pop3s");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, pop3i_header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pop3i_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout_s);
	/* Only a backstop for silence: progress_cb applies the STALL_BYTES
	 * window. libcurl's limit is an average rate that counts the time
	 * our write callback spends in the store (a slow disk would end a
	 * prompt server's transfer), so it stays at one byte a second. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout_s);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	/* libcurl drops a connection idle for 118 s by default, and with it
	 * the session and its pending DELEs: a slow store must not cause
	 * that. */
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 24L * 3600);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* A proxy only when the account names one. Unset, libcurl would
	 * take all_proxy or pop3_proxy from the environment and send even a
	 * loopback-only plaintext login across the network; "" turns that
	 * off, and NOPROXY "" keeps no_proxy from bypassing a configured
	 * proxy. An HTTP proxy must tunnel (CONNECT): POP3 is not HTTP. */
	curl_easy_setopt(h, CURLOPT_PROXY, p->proxy != NULL ? p->proxy : "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "");
	if (p->proxy != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
		/* Else the proxy's "HTTP/1.1 200 ..." reply and its headers
		 * reach pop3i_header_cb and pass for the greeting (and for
		 * CAPA lines). */
		curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	}

	/* TLS: verification stays on (libcurl's default); these only say
	 * what to trust and how much to ask for. */
	curl_easy_setopt(h, CURLOPT_SSLVERSION, p->tls_min_version >= 13 ?
	    (long)CURL_SSLVERSION_TLSv1_3 : (long)CURL_SSLVERSION_TLSv1_2);
	if (p->tls == TLS_STARTTLS)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (p->ca_file != NULL || p->ca_path != NULL) {
		/* Instead of the system's trust store, not in addition: a
		 * private CA should not widen what else is trusted. */
		curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, p->ca_path);
	}
	if (p->pinned_pubkey != NULL)
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, p->pinned_pubkey);
	if (p->client_cert != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, p->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, p->client_key);
	}
	if (certinfo)
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);

	s->connect_only = connect_only;
	if (connect_only)
		curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	if (log_level() >= LOG_DEBUG || certinfo) {
		/* VERBOSE only together with the redacting callback. */
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, s);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	return s;
}

/*
 * Logged in: UTF8 (RFC 6856) when offered, so the server sends messages
 * with 8-bit headers as they are rather than a substitute it made; a
 * refusal changes nothing. Then STAT.
 */
static int
after_login(struct pop3 *s, struct err *e)
{
	struct err ue;

	if (s->capa_utf8 && pop3i_raw_command(s, "UTF8", false, W_DISCARD,
	    "UTF8", &ue) != 0) {
		if (s->broken && ue.code != EX_PROTOCOL) {
			*e = ue;
			return ue.code;
		}
		s->broken = false;
		log_debug(s->account, "%s (going on without it)", ue.msg);
	}
	return pop3i_raw_command(s, "STAT", false, W_DISCARD, "STAT", e);
}

/* Log in with libcurl doing the authentication, then STAT. */
static int
login_curl(struct pop3 *s, const struct pop3_params *p, struct err *e)
{
	const char *opts = login_options(p);
	int rc;

	curl_easy_setopt(s->h, CURLOPT_USERNAME, p->user);
	if (p->bearer != NULL)
		curl_easy_setopt(s->h, CURLOPT_XOAUTH2_BEARER, p->bearer);
	else
		curl_easy_setopt(s->h, CURLOPT_PASSWORD, p->password);
	if (opts != NULL)
		curl_easy_setopt(s->h, CURLOPT_LOGIN_OPTIONS, opts);
	/* CONNECT_ONLY: libcurl connects, does TLS or STLS, reads the
	 * greeting and CAPA and authenticates, then stops; every command
	 * after that is ours (pop3_raw.c). */
	s->in_login = true;
	rc = pop3i_perform(s, "", NULL, false, W_DISCARD, "login", e);
	s->in_login = false;
	if (rc != 0)
		return rc;
	s->established = true;
	return after_login(s, e);
}

/* Log in with USER/PASS ourselves: libcurl cannot be told to use them
 * when the greeting offers APOP, and falls back to nothing. */
static int
login_raw(struct pop3 *s, const struct pop3_params *p, struct err *e)
{
	int rc;

	s->in_login = true;
	rc = pop3i_perform(s, "", NULL, false, W_DISCARD, "connect", e);
	s->in_login = false;
	if (rc != 0)
		return rc;
	s->established = true;
	if ((rc = pop3i_raw_login(s, p->user, p->password, e)) != 0)
		return rc;
	return after_login(s, e);
}

int
pop3_open(const struct pop3_params *p, struct pop3 **out,
    unsigned long *count, unsigned long long *octets, struct err *e)
{
	bool raw = p->auth == AUTH_USER;
	struct pop3 *s;
	int rc;

	if ((s = pop3i_new(p, true, false, e)) == NULL)
		return EX_SOFTWARE;
	rc = raw ? login_raw(s, p, e) : login_curl(s, p, e);
	if (rc == EX_NOPERM && p->auth == AUTH_AUTO && s->greet_apop &&
	    !s->capa_sasl && p->plaintext_ok && p->password != NULL) {
		/* The greeting offered APOP and libcurl used it, with no way
		 * to fall back: many servers print a timestamp but refuse
		 * APOP. Try USER/PASS on a new connection. */
		log_debug(p->account, "APOP refused (%s); trying USER/PASS",
		    e->msg);
		pop3_close(s);
		if ((s = pop3i_new(p, true, false, e)) == NULL)
			return EX_SOFTWARE;
		rc = login_raw(s, p, e);
	}
	if (rc != 0)
		goto fail;
	s->established = true;
	if (pop3_parse_stat(s->last, strlen(s->last), count, octets) != 0) {
		char q[LINE_MAX_LEN];

		rc = err_set(e, EX_PROTOCOL, "STAT: unexpected reply \"%s\"",
		    pop3i_quote(s, q, sizeof(q), s->last, strlen(s->last)));
		goto fail;
	}
	s->stat_count = *count;
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

/* A listing's lines are capped by STAT's count (RFC 1939 locks the
 * maildrop for the session), with slack for servers that show a few more:
 * a server sending lines without end must not grow the message array (or
 * hold the account's lock) for as long as it likes. */
static void
lines_cap(struct pop3 *s, const char *what)
{
	s->nlines = 0;
	s->lines_what = what;
	s->max_lines = s->stat_count > ULONG_MAX - LIST_SLACK ? ULONG_MAX :
	    s->stat_count + LIST_SLACK;
}

static int
list_line(struct pop3 *s, char *line, size_t len, struct err *e)
{
	unsigned long num;
	unsigned long long size;
	char q[QUOTE_LEN];

	if (pop3_parse_list(line, len, &num, &size) != 0)
		return err_set(e, EX_PROTOCOL, "LIST: unexpected line \"%s\"",
		    pop3i_quote(s, q, sizeof(q), line, len));
	if (s->nmsgs > 0 && num <= s->msgs[s->nmsgs - 1].num)
		return err_set(e, EX_PROTOCOL, "LIST: message numbers out of "
		    "order at \"%s\"", pop3i_quote(s, q, sizeof(q), line, len));
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
	lines_cap(s, "LIST");
	rc = pop3i_raw_command(s, "LIST", true, W_LINES, "LIST", e);
	s->max_lines = 0;
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
	const char *uidl;
	size_t ulen;
	unsigned long num;
	struct pop3_msg *m;
	char q[QUOTE_LEN];

	if (pop3_parse_uidl(line, len, &num, &uidl, &ulen) != 0)
		return err_set(e, EX_PROTOCOL, "UIDL: unexpected line "
		    "\"%s\"", pop3i_quote(s, q, sizeof(q), line, len));
	m = find_msg(s->msgs, s->nmsgs, num);
	if (m == NULL)
		return 0;   /* not in LIST: arrived since; ignore this run */
	if (m->uidl != NULL)
		return err_set(e, EX_PROTOCOL, "UIDL: message %lu listed "
		    "twice", num);
	/* Byte for byte (RFC 1939 says 0x21-0x7e, but servers differ; the
	 * state file escapes whatever comes). */
	m->uidl_len = ulen;
	m->uidl = xstrndup(uidl, ulen);
	return 0;
}

int
pop3_uidl(struct pop3 *s, struct pop3_msg *msgs, size_t n, struct err *e)
{
	int rc;

	s->msgs = msgs;
	s->nmsgs = n;
	s->line_fn = uidl_line;
	lines_cap(s, "UIDL");
	rc = pop3i_raw_command(s, "UIDL", true, W_LINES, "UIDL", e);
	s->max_lines = 0;
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

/*
 * Fewer bytes than announced, the reply ended by its "." line. Either the
 * server counts another form of the message (the body is whole), or it
 * sent the message's first line, a lone ".", unstuffed (Dovecot 2.3 and
 * Courier do not stuff a first line): the reply then ended at once, and
 * the rest of the message is where the next reply belongs. A NOOP tells:
 * its reply is a status line only in the first case.
 */
static int
retr_short(struct pop3 *s, const char *what, struct pop3_retr_info *info,
    struct err *e)
{
	struct err probe;
	int rc;

	if (s->qhead != s->qtail) {
		/* Pipelined: the next reply's status line is the probe. */
		rc = pop3i_raw_peek(s, what, &probe);
		if (rc == 0 && (s->last[0] == '+' || s->last[0] == '-'))
			return 0;
		if (rc == 0)
			rc = EX_PROTOCOL;
	} else {
		rc = pop3i_raw_command(s, "NOOP", false, W_DISCARD, "NOOP",
		    &probe);
		if (rc == 0 || (rc == EX_PROTOCOL && (s->last[0] == '+' ||
		    s->last[0] == '-')))
			return 0;
	}
	if (rc != EX_PROTOCOL) {
		*e = probe;
		return rc;
	}
	info->lone_dot = true;
	return err_set(e, EX_PROTOCOL, "%s: the server sent %llu of %llu "
	    "bytes, then lines that are not replies: the message's first "
	    "line is a lone \".\", which this server does not dot-stuff, so "
	    "the message cannot be retrieved over POP3; not stored, left on "
	    "the server", what, s->got, s->expect);
}

/* Up to PIPE_MAX RETRs and PIPE_BYTES announced octets in flight, and up
 * to PIPE_MAX DELEs; one command at a time without PIPELINING. */
#define PIPE_MAX 64
#define PIPE_BYTES (16ULL * 1024 * 1024)

static bool
in_flight(const struct pop3 *s)
{
	return s->qhead != s->qtail;
}

/* Note a command sent: its reply comes after those already in q. */
static void
q_push(struct pop3 *s, const struct pop3_msg *m, unsigned long dele)
{
	if (s->qhead == s->qtail)
		s->qhead = s->qtail = 0;
	if (s->qtail == s->qcap && s->qhead > 0) {
		memmove(s->q, s->q + s->qhead,
		    (s->qtail - s->qhead) * sizeof(*s->q));
		s->qtail -= s->qhead;
		s->qhead = 0;
	}
	if (s->qtail == s->qcap) {
		s->qcap = s->qcap == 0 ? 2 * PIPE_MAX : 2 * s->qcap;
		s->q = xrealloc(s->q, s->qcap * sizeof(*s->q));
	}
	s->q[s->qtail].msg = m;
	s->q[s->qtail++].dele = dele;
	if (m != NULL) {
		s->qretr++;
		s->qbytes += m->size;
	} else
		s->qdele++;
}

void
pop3_retr_plan(struct pop3 *s, struct pop3_msg *const *msgs, size_t n)
{
	if (n == 0 || s->pnext == s->nplan)
		s->nplan = s->pnext = 0;   /* drop what was sent */
	if (n == 0)
		return;
	if (s->nplan + n > s->plancap) {
		s->plancap = s->nplan + n;
		s->plan = xrealloc(s->plan, s->plancap * sizeof(*s->plan));
	}
	for (size_t i = 0; i < n; i++)
		s->plan[s->nplan++] = msgs[i];
}

/* Send RETR for one more planned message. */
static int
retr_send(struct pop3 *s, const struct pop3_msg *m, struct err *e)
{
	char what[48];

	snprintf(what, sizeof(what), "RETR %lu", m->num);
	q_push(s, m, 0);
	return pop3i_raw_send(s, what, false, what, e);
}

/* Keep the window full. */
static int
retr_top_up(struct pop3 *s, struct err *e)
{
	int rc;

	while (s->pnext < s->nplan) {
		if (in_flight(s) && (!s->capa_pipelining ||
		    s->qretr >= PIPE_MAX || s->qbytes >= PIPE_BYTES))
			break;
		if ((rc = retr_send(s, s->plan[s->pnext++], e)) != 0)
			return rc;
	}
	return 0;
}

int
pop3_retr_ahead(struct pop3 *s, struct err *e)
{
	if (!s->capa_pipelining)
		return 0;
	return retr_top_up(s, e);
}

/* Read the replies of the DELEs at the head of q: the first -ERR ends
 * it (the session is over, as for any failed command). */
static int
dele_read(struct pop3 *s, struct err *e)
{
	char what[40];
	int rc;

	while (in_flight(s) && s->q[s->qhead].msg == NULL) {
		snprintf(what, sizeof(what), "DELE %lu", s->q[s->qhead].dele);
		s->qhead++;
		s->qdele--;
		rc = pop3i_raw_reply(s, false, W_DISCARD, what, false, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Read the reply of the oldest RETR in flight, msg's, into s->body. */
static int
retr_read(struct pop3 *s, const struct pop3_msg *msg, const char *what,
    struct err *e)
{
	s->retr_msg = msg;
	s->got = 0;
	s->nhold = 0;
	s->passthrough = false;
	s->started = false;
	s->qbytes -= msg->size;
	s->qretr--;
	s->qhead++;
	return pop3i_raw_reply(s, true, W_BODY, what, false, e);
}

/* The first RETR in flight, or NULL. */
static const struct pop3_msg *
retr_oldest(const struct pop3 *s)
{
	for (size_t i = s->qhead; s->qretr > 0 && i < s->qtail; i++)
		if (s->q[i].msg != NULL)
			return s->q[i].msg;
	return NULL;
}

/*
 * The reply for msg: sent ahead when it was planned (pop3_retr_plan),
 * else now. Replies come in order: those of DELEs sent before it are
 * read first (a failure sets *dele_failed); a message asked for out of
 * plan goes alone, once nothing else is in flight.
 */
static int
retr_next(struct pop3 *s, const struct pop3_msg *msg, const char *what,
    bool *dele_failed, struct err *e)
{
	const struct pop3_msg *oldest = retr_oldest(s);
	bool planned = oldest != NULL ? oldest == msg :
	    s->pnext < s->nplan && s->plan[s->pnext] == msg;
	int rc;

	if (planned && (rc = retr_top_up(s, e)) != 0)
		return rc;
	if ((rc = dele_read(s, e)) != 0) {
		*dele_failed = true;
		return rc;
	}
	if (!planned) {
		/* Not planned (or a second reading): alone on the wire. */
		if (in_flight(s))
			return err_set(e, EX_SOFTWARE, "%s: replies pending",
			    what);
		if ((rc = pop3i_raw_send(s, what, false, what, e)) != 0)
			return rc;
		s->retr_msg = msg;
		s->got = 0;
		s->nhold = 0;
		s->passthrough = false;
		s->started = false;
		return pop3i_raw_reply(s, true, W_BODY, what, false, e);
	}
	if (!in_flight(s) || s->q[s->qhead].msg != msg)
		return err_set(e, EX_SOFTWARE, "%s: not the next reply", what);
	return retr_read(s, msg, what, e);
}

int
pop3_retr(struct pop3 *s, const struct pop3_msg *msg,
    const struct pop3_body *body, struct pop3_retr_info *info,
    struct err *e)
{
	char what[48];
	int rc;

	memset(info, 0, sizeof(*info));
	snprintf(what, sizeof(what), "RETR %lu", msg->num);
	s->body = body;
	rc = retr_next(s, msg, what, &info->dele_failed, e);
	if (rc == 0 && s->first_dotdot && s->got + 1 == s->expect) {
		/* The first line's ".." lost a dot it should not have: this
		 * server does not stuff first lines. Read it again keeping
		 * them, now if nothing else is in flight, else later. */
		if (in_flight(s) || body->restart == NULL) {
			info->again = true;
			goto out;
		}
		if ((rc = body->restart(body->arg, e)) != 0)
			goto out;
		s->first_dot_data = true;
		rc = retr_next(s, msg, what, &info->dele_failed, e);
		s->first_dot_data = false;
	}
	if (rc == EX_TEMPFAIL && !info->dele_failed && s->started &&
	    s->got < s->expect && s->err_line[0] == '\0') {
		char why[sizeof(e->msg)];

		memcpy(why, e->msg, sizeof(why));
		rc = err_set(e, EX_TEMPFAIL, "%s: connection lost after "
		    "%llu of %llu bytes; message not stored (%s)", what,
		    s->got, s->expect, why);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (!s->started)
		pop3i_body_start(s, msg);
	if (s->got < s->expect) {
		if ((rc = retr_short(s, what, info, e)) != 0)
			goto out;
		info->shorter = true;
		info->announced = s->expect;
		info->received = s->got;
	}
	/* Held-back bytes beyond the announced size: a lone CRLF is the
	 * server's own line end for a message without one; anything else
	 * belongs to the message (s->body is still set for that). */
	if (s->nhold > 0 && !(s->nhold == 2 && s->hold[0] == '\r' &&
	    s->hold[1] == '\n')) {
		s->cb_err = e;
		rc = body_deliver(s, s->hold, s->nhold);
	}
out:
	s->body = NULL;
	s->cb_err = NULL;
	return rc;
}

int
pop3_dele(struct pop3 *s, unsigned long num, struct err *e)
{
	return pop3_dele_many(s, &num, 1, e);
}

int
pop3_dele_many(struct pop3 *s, const unsigned long *nums, size_t n,
    struct err *e)
{
	char cmd[40];
	int rc;

	for (size_t i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "DELE %lu", nums[i]);
		if (!s->capa_pipelining) {
			/* One at a time: nothing else is ever in flight. */
			if (in_flight(s))
				return err_set(e, EX_SOFTWARE, "%s: replies "
				    "pending", cmd);
			rc = pop3i_raw_command(s, cmd, false, W_DISCARD, cmd,
			    e);
			if (rc != 0)
				return rc;
			continue;
		}
		/* The replies are read later (before the next RETR's, or at
		 * QUIT); past the window, those that lead the queue now. */
		if (s->qdele >= PIPE_MAX && (rc = dele_read(s, e)) != 0)
			return rc;
		q_push(s, NULL, nums[i]);
		if ((rc = pop3i_raw_send(s, cmd, false, cmd, e)) != 0)
			return rc;
	}
	return 0;
}

int
pop3_quit(struct pop3 *s, struct err *e)
{
	int rc;

	/* Every DELE's reply first: QUIT's +OK confirms accepted ones. */
	if ((rc = dele_read(s, e)) != 0)
		return rc;
	if (in_flight(s))
		return err_set(e, EX_SOFTWARE, "QUIT: a RETR reply is pending");
	return pop3i_raw_command(s, "QUIT", false, W_DISCARD, "QUIT", e);
}

void
pop3_close(struct pop3 *s)
{
	if (s == NULL)
		return;
	if (s->h != NULL) {
		/* Cleanup sends QUIT when the connection looks alive; after
		 * a timeout or a stalled server, do not wait the whole
		 * response timeout a second time for its reply. */
		if (s->broken)
			curl_easy_setopt(s->h, CURLOPT_SERVER_RESPONSE_TIMEOUT,
			    1L);
		curl_easy_cleanup(s->h);
	}
	pop3_msgs_free(s->msgs, s->nmsgs);
	free(s->base_url);
	free(s->rbuf);
	free(s->plan);
	free(s->q);
	textclean_free(s->tc);
	free(s);
}
