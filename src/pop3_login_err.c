/*
 * pop3_login_err.c - what a failed libcurl perform (the connect, TLS,
 * greeting and login of a session) means: the step that failed, the
 * sysexits code, the server's -ERR text quoted, and what to do about it
 * (a tls setting that does not fit the port, a certificate to trust, a
 * mechanism the server does not offer).
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pop3_int.h"

/* The -ERR line of this perform, as received; NULL if none. */
static const char *
reply_line(struct pop3 *s)
{
	if (s->err_line[0] != '\0')
		return s->err_line;
	return s->last[0] == '-' ? s->last : NULL;
}

static int
map_error_text(struct pop3 *s, CURLcode rc, const char *what, struct err *e)
{
	char rbuf[LINE_MAX_LEN], dbuf[LINE_MAX_LEN], cbuf[LINE_MAX_LEN];
	const char *raw = reply_line(s);
	const char *reply = raw ? pop3i_quote(s, rbuf, sizeof(rbuf), raw,
	    strlen(raw)) : NULL;
	/* libcurl's text can quote the server (a certificate's names). */
	const char *detail = s->errbuf[0] ? pop3i_quote(s, dbuf, sizeof(dbuf),
	    s->errbuf, strlen(s->errbuf)) : curl_easy_strerror(rc);
	int code;

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
		return pop3w_stall_error(&s->w, what, e);
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
		return err_set(e, EX_UNAVAILABLE, "%s: the handshake with %s failed: %s "
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

/* Whether the perform got a TCP connection, a TLS session. */
static bool
tcp_connected(const struct pop3 *s)
{
	curl_off_t t = 0;

	return s->h != NULL && curl_easy_getinfo(s->h,
	    CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK && t > 0;
}

static bool
tls_connected(const struct pop3 *s)
{
	curl_off_t t = 0;

	return s->h != NULL && curl_easy_getinfo(s->h,
	    CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK && t > 0;
}

/* The step libcurl's one perform failed in: it covers them all. */
static const char *
step_name(const struct pop3 *s, CURLcode rc, const char *what)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return s->established ? what : "connect";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return "TLS";
	case CURLE_OPERATION_TIMEDOUT:
		if (!s->established && !tcp_connected(s))
			return "connect";
		if (!s->established && s->tls == TLS_IMPLICIT &&
		    !tls_connected(s))
			return "TLS";
		/* FALLTHROUGH */
	default:
		return s->greeting[0] == '\0' && !s->established ? "greeting" :
		    what;
	}
}

/* The error, with the step named, and what to do when the tls setting
 * does not fit the port: a POP3S port sends no greeting until TLS is
 * under way; a plain port answers TLS with a greeting. */
int
pop3i_map_error(struct pop3 *s, CURLcode rc, const char *what, struct err *e)
{
	const char *d = s->errbuf;
	int code = map_error_text(s, rc, step_name(s, rc, what), e);
	size_t n = strlen(e->msg);

	if (s->established || n >= sizeof(e->msg) - 1)
		return code;
	if (s->tls != TLS_IMPLICIT && s->greeting[0] == '\0' &&
	    (code == EX_TEMPFAIL || code == EX_PROTOCOL) &&
	    rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST &&
	    tcp_connected(s))
		snprintf(e->msg + n, sizeof(e->msg) - n, "; no greeting came: "
		    "if port %d expects TLS at once (POP3S, usually 995), set "
		    "tls: implicit", s->port);
	else if (s->tls == TLS_IMPLICIT && rc == CURLE_SSL_CONNECT_ERROR &&
	    (strstr(d, "wrong version number") != NULL ||
	    strstr(d, "packet length too long") != NULL ||
	    strstr(d, "record layer failure") != NULL))
		snprintf(e->msg + n, sizeof(e->msg) - n, "; the server at port "
		    "%d answered without TLS: use tls: starttls there (or the "
		    "POP3S port, usually 995)", s->port);
	return code;
}
