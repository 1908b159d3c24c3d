/*
 * pop3_login.c - libcurl's part of a session: it connects, does TLS or
 * STLS, reads the greeting and CAPA and logs in (CURLOPT_CONNECT_ONLY,
 * one perform; the replies arrive through the header callback), and
 * stops. From there on the connection is a struct pop3_io over
 * curl_easy_send()/curl_easy_recv() and the session is pop3.c's: every
 * command after the login is popfetch's own. Here too: USER/PASS where
 * libcurl cannot be told to use them, the refusal of silent reconnects,
 * and libcurl's codes and the server's -ERR text turned into sysexits
 * codes and a message.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>

#include "log.h"
#include "pop3_int.h"
#include "pop3_parse.h"
#include "textclean.h"

/* ---- callbacks ------------------------------------------------------------ */

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
		s->capa_utf8 = s->capa_top = false;
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
	if (strcmp(word, "TOP") == 0)
		s->capa_top = true;
	n = strlen(s->capa);
	if (n + strlen(l) + 2 < sizeof(s->capa))
		snprintf(s->capa + n, sizeof(s->capa) - n, "%s%s",
		    n ? " " : "", l);
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pop3 *s = arg;
	size_t len = size * n;

	pop3w_rx(&s->w, len);
	pop3i_copy_line(s, s->last, sizeof(s->last), buf, len);
	/* After an -ERR libcurl sends QUIT itself, and that reply would
	 * overwrite the line the user needs to see; the last -ERR of the
	 * login counts (a server without CAPA says -ERR to it first). */
	if (s->last[0] == '-')
		memcpy(s->err_line, s->last, sizeof(s->err_line));
	login_line(s, buf, len);
	return len;
}

/* A CONNECT_ONLY perform delivers no body; never let libcurl's default
 * (stdout) have one. */
static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf, (void)arg;
	return size * n;
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

/* The libcurl text lines -vv shows: connecting, TLS, the certificate,
 * proxies. */
static bool
curl_text_shown(const char *line)
{
	static const char *const shown[] = { "Trying ", "Connected to ",
	    "SSL connection using ", "Server certificate:", " subject:",
	    " issuer:", " start date:", " expire date:", "SSL certificate ",
	    " SSL certificate", "ALPN", "SOCKS", "Establish HTTP proxy",
	    "CONNECT tunnel", "Proxy replied", "public key hash", NULL };

	for (size_t i = 0; shown[i] != NULL; i++)
		if (strncmp(line, shown[i], strlen(shown[i])) == 0)
			return true;
	return false;
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
		/* libcurl's own bookkeeping (connection cache, bundles,
		 * reuse) says nothing to a user: only where it connects and
		 * what TLS it got. */
		if (type == CURLINFO_TEXT && !curl_text_shown(line))
			break;
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

/* ---- the perform ---------------------------------------------------------- */

/*
 * libcurl's one perform (CONNECT_ONLY): TCP, TLS or STLS, the greeting,
 * CAPA and, with a user name set, the login. Then it stops, with no
 * reply of its own.
 */
int
pop3i_connect(struct pop3 *s, const char *what, struct err *e)
{
	char *url = xasprintf("%s/", s->base_url);
	long connects = 0;
	CURLcode rc;

	curl_easy_setopt(s->h, CURLOPT_URL, url);
	s->last[0] = '\0';
	s->err_line[0] = '\0';
	s->errbuf[0] = '\0';
	pop3w_window_start(&s->w);
	s->stalled = false;
	rc = curl_easy_perform(s->h);
	free(url);

	curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
	if (s->established && connects > 0)
		s->lost = true;
	if (rc != CURLE_OK) {
		s->broken = true;
		return pop3i_map_error(s, rc, what, e);
	}
	if (s->lost)
		return pop3i_map_error(s, CURLE_COULDNT_CONNECT, what, e);
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
	if (pop3w_window_left(&s->w) > 0)
		return 0;
	s->stalled = true;
	return 1;
}

/* SCHEME://[USER@]HOST:PORT; user: URL-escaped, or NULL for none. */
static char *
make_base_url(const struct pop3_params *p, const char *user)
{
	const char *scheme = p->tls == TLS_IMPLICIT ? "pop3s" : "pop3";
	const char *at = user != NULL ? "@" : "";

	if (user == NULL)
		user = "";
	if (strchr(p->host, ':') != NULL)
		return xasprintf("%s://%s%s[%s]:%d", scheme, user, at,
		    p->host, p->port);
	return xasprintf("%s://%s%s%s:%d", scheme, user, at, p->host,
	    p->port);
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

/* ---- the transport: libcurl's connection after the login ------------------ */

static int
io_result(struct pop3 *s, CURLcode rc)
{
	if (rc == CURLE_AGAIN)
		return POP3_IO_AGAIN;
	if (rc != CURLE_OK) {
		s->io_rc = rc;
		return POP3_IO_ERROR;
	}
	return POP3_IO_OK;
}

static int
io_send(void *arg, const char *buf, size_t len, size_t *n)
{
	struct pop3 *s = arg;

	return io_result(s, curl_easy_send(s->h, buf, len, n));
}

static int
io_recv(void *arg, char *buf, size_t len, size_t *n)
{
	struct pop3 *s = arg;
	int rc = io_result(s, curl_easy_recv(s->h, buf, len, n));

	return rc == POP3_IO_OK && *n == 0 ? POP3_IO_CLOSED : rc;
}

static int
io_wait(void *arg, bool out, long long ms)
{
	struct pop3 *s = arg;
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct pollfd pfd;
	int n;

	if (curl_easy_getinfo(s->h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return -2;
	pfd.fd = fd;
	pfd.events = out ? POLLOUT : POLLIN;
	n = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
	return n > 0 ? 1 : n;
}

static const char *
io_error(void *arg)
{
	struct pop3 *s = arg;

	return curl_easy_strerror(s->io_rc);
}

/*
 * A session on a new handle with every option set: TLS as configured,
 * timeouts, the reconnect guard, -vv tracing, CONNECT_ONLY (libcurl
 * stops after the login, or with no user name set after the greeting
 * and CAPA (and STLS), and the session talks over the connection
 * itself). certinfo: keep the server's certificate (--server-info).
 */
struct pop3 *
pop3i_new(const struct pop3_params *p, bool certinfo, struct err *e)
{
	static const struct pop3_io curl_io = { io_send, io_recv, io_wait,
	    io_error, NULL };
	/* A server may quote what it got (the password, a SASL message)
	 * in its -ERR line: pop3i_quote redacts every form of it. */
	struct pop3 *s = pop3i_session_new(&curl_io, p->account,
	    textclean_for_login(p->user, p->password, p->bearer, p->host,
	    p->port), p->timeout_ms);
	long timeout_s = s->w.timeout_s;
	CURL *h;

	s->w.io.arg = s;
	s->host = p->host;
	s->port = p->port;
	s->tls = p->tls;
	s->auth = p->auth;
	s->plaintext_ok = p->plaintext_ok;
	s->client_cert = p->client_cert != NULL;
	s->base_url = make_base_url(p, NULL);
	s->h = h = curl_easy_init();
	if (h == NULL) {
		err_set(e, EX_SOFTWARE, "cannot create a libcurl handle");
		pop3_close(s);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "pop3,pop3s");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout_s);
	/* Only a backstop for silence: progress_cb applies the STALL_BYTES
	 * window. libcurl's limit is an average rate that counts the time
	 * our write callback spends in the store (a slow disk would end a
	 * prompt server's transfer), so it stays at one byte a second. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout_s);
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
		 * reach header_cb and pass for the greeting (and for
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
	if (p->pinned_pubkey != NULL && p->ca_file == NULL &&
	    p->ca_path == NULL) {
		/* Pin-only trust: exactly the pinned key, as mpop's
		 * fingerprint does for a self-signed server. The chain and
		 * the name are not checked; libcurl still checks the pin with
		 * verification off (CURLOPT_PINNEDPUBLICKEY is independent of
		 * CURLOPT_SSL_VERIFYPEER; t-tls checks a wrong pin fails). */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (p->client_cert != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, p->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, p->client_key);
	}
	if (certinfo)
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);

	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	if (log_level() >= LOG_DEBUG || certinfo) {
		/* VERBOSE only together with the redacting callback. */
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, s);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	return s;
}

/* Log in with libcurl doing the authentication. */
static int
login_curl(struct pop3 *s, const struct pop3_params *p, struct err *e)
{
	const char *opts = login_options(p);

	if (p->netrc != NULL) {
		/* libcurl (7.88) reads the netrc only when no
		 * CURLOPT_USERNAME is set: the user goes into the URL, where
		 * it also picks the entry ("machine HOST login USER"). */
		char *u = curl_easy_escape(s->h, p->user, 0);

		free(s->base_url);
		s->base_url = make_base_url(p, u);
		curl_free(u);
		curl_easy_setopt(s->h, CURLOPT_NETRC, (long)CURL_NETRC_REQUIRED);
		curl_easy_setopt(s->h, CURLOPT_NETRC_FILE, p->netrc);
		if (opts != NULL)
			curl_easy_setopt(s->h, CURLOPT_LOGIN_OPTIONS, opts);
		return pop3i_connect(s, "login", e);
	}
	curl_easy_setopt(s->h, CURLOPT_USERNAME, p->user);
	if (p->bearer != NULL)
		curl_easy_setopt(s->h, CURLOPT_XOAUTH2_BEARER, p->bearer);
	else
		curl_easy_setopt(s->h, CURLOPT_PASSWORD, p->password);
	if (opts != NULL)
		curl_easy_setopt(s->h, CURLOPT_LOGIN_OPTIONS, opts);
	return pop3i_connect(s, "login", e);
}

/* Log in with USER/PASS ourselves: libcurl cannot be told to use them
 * when the greeting offers APOP, and falls back to nothing. With no user
 * name libcurl stops after TLS/STLS, the greeting and CAPA. */
static int
login_user(struct pop3 *s, const struct pop3_params *p, struct err *e)
{
	char *cmd;
	int rc;

	if ((rc = pop3i_connect(s, "connect", e)) != 0)
		return rc;
	if (p->password == NULL)
		return err_set(e, EX_SOFTWARE, "login: no password");
	s->established = true;
	cmd = xasprintf("USER %s", p->user);
	rc = pop3i_raw_send(s, cmd, false, "login", e);
	free(cmd);
	if (rc == 0)
		rc = pop3i_raw_reply(s, false, W_DISCARD, "login", true, e);
	if (rc != 0)
		return rc;
	cmd = xasprintf("PASS %s", p->password);
	rc = pop3i_raw_send(s, cmd, true, "login", e);
	util_free_secret(cmd);
	if (rc == 0)
		rc = pop3i_raw_reply(s, false, W_DISCARD, "login", true, e);
	return rc;
}

int
pop3_open(const struct pop3_params *p, struct pop3 **out,
    unsigned long *count, unsigned long long *octets, struct err *e)
{
	bool user = p->auth == AUTH_USER;
	struct pop3 *s;
	int rc;

	if ((s = pop3i_new(p, false, e)) == NULL)
		return EX_SOFTWARE;
	rc = user ? login_user(s, p, e) : login_curl(s, p, e);
	if (rc == EX_NOPERM && p->auth == AUTH_AUTO && s->greet_apop &&
	    !s->capa_sasl && p->plaintext_ok && p->password != NULL) {
		/* The greeting offered APOP and libcurl used it, with no way
		 * to fall back: many servers print a timestamp but refuse
		 * APOP. Try USER/PASS on a new connection. */
		log_debug(p->account, "APOP refused (%s); trying USER/PASS",
		    e->msg);
		pop3_close(s);
		if ((s = pop3i_new(p, false, e)) == NULL)
			return EX_SOFTWARE;
		rc = login_user(s, p, e);
	}
	if (rc != 0)
		goto fail;
	s->established = true;
	if ((rc = pop3i_start(s, count, octets, e)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	pop3_close(s);
	return rc;
}
