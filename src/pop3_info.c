/*
 * pop3_info.c - popfetch --server-info: what a server shows before login.
 *
 * libcurl with CONNECT_ONLY and no user name connects, does TLS or STLS,
 * reads the greeting and CAPA, and stops: no credential is ever sent.
 * The TLS version and cipher come from libcurl's own connection text
 * (there is no portable getter), the certificate from CURLINFO_CERTINFO,
 * and the pin is computed here from the certificate (certpin.c).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "certpin.h"
#include "log.h"
#include "pop3_int.h"

/* Print the certinfo field "Name:value" of the first certificate. */
static const char *
cert_field(const struct curl_certinfo *ci, const char *name)
{
	size_t n = strlen(name);

	if (ci == NULL || ci->num_of_certs < 1)
		return NULL;
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
		if (strncmp(l->data, name, n) == 0 && l->data[n] == ':')
			return l->data + n + 1;
	}
	return NULL;
}

static void
print_cert(struct pop3 *s, FILE *out)
{
	struct curl_certinfo *ci = NULL;
	const char *v;
	char pin[128], q[LINE_MAX_LEN];

	curl_easy_getinfo(s->h, CURLINFO_CERTINFO, &ci);
	if (ci == NULL || ci->num_of_certs < 1) {
		fprintf(out, "certificate: (not available)\n");
		return;
	}
	if ((v = cert_field(ci, "Subject")) != NULL)
		fprintf(out, "certificate subject: %s\n",
		    pop3i_quote(s, q, sizeof(q), v, strlen(v)));
	if ((v = cert_field(ci, "Issuer")) != NULL)
		fprintf(out, "certificate issuer: %s\n",
		    pop3i_quote(s, q, sizeof(q), v, strlen(v)));
	if ((v = cert_field(ci, "Start date")) != NULL)
		fprintf(out, "certificate valid from: %s\n",
		    pop3i_quote(s, q, sizeof(q), v, strlen(v)));
	if ((v = cert_field(ci, "Expire date")) != NULL)
		fprintf(out, "certificate valid until: %s\n",
		    pop3i_quote(s, q, sizeof(q), v, strlen(v)));
	if ((v = cert_field(ci, "Cert")) != NULL &&
	    certpin_from_pem(v, pin, sizeof(pin)) == 0)
		fprintf(out, "pinned_pubkey: %s\n", pin);
	else
		fprintf(out, "pinned_pubkey: (cannot compute)\n");
}

/* Connect without logging in. 0, or the error of the connection. */
static int
info_connect(struct pop3 *s, struct err *e)
{
	return pop3i_connect(s, "connect", e);
}

int
pop3_server_info(const struct pop3_params *p, FILE *out, struct err *e)
{
	struct pop3_params q = *p;
	struct pop3 *s;
	struct err verr;
	char buf[LINE_MAX_LEN];
	bool verified = true;
	int rc;

	/* Never any credential on this connection. */
	q.user = q.password = q.bearer = NULL;
	if ((s = pop3i_new(&q, true, e)) == NULL)
		return EX_SOFTWARE;
	rc = info_connect(s, e);
	if (rc != 0 && p->tls != TLS_NONE &&
	    (strstr(e->msg, "cannot verify") != NULL ||
	    strstr(e->msg, "does not match pinned_pubkey") != NULL)) {
		/* Describe the server anyway, so the user can decide to
		 * trust or pin it; nothing is sent but CAPA (and STLS). */
		/* Keep libcurl's own words, not our advice. */
		err_set(&verr, rc, "%s", s->errbuf[0] ? pop3i_quote(s, buf,
		    sizeof(buf), s->errbuf, strlen(s->errbuf)) : e->msg);
		verified = false;
		pop3_close(s);
		if ((s = pop3i_new(&q, true, e)) == NULL)
			return EX_SOFTWARE;
		curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(s->h, CURLOPT_PINNEDPUBLICKEY, NULL);
		rc = info_connect(s, e);
	}
	if (rc != 0)
		goto out;

	fprintf(out, "account: %s\n", p->account);
	fprintf(out, "server: %s port %d, tls: %s\n", p->host, p->port,
	    p->tls == TLS_IMPLICIT ? "implicit" :
	    p->tls == TLS_STARTTLS ? "starttls" : "none");
	fprintf(out, "greeting: %s\n", pop3i_quote(s, buf, sizeof(buf),
	    s->greeting, strlen(s->greeting)));
	fprintf(out, "capabilities: %s\n", s->capa_seen ? pop3i_quote(s, buf,
	    sizeof(buf), s->capa, strlen(s->capa)) :
	    "(none: the server does not answer CAPA)");
	fprintf(out, "uidl: %s\n", pop3_has_uidl(s) ? "yes" : "no");
	if (p->tls != TLS_NONE) {
		fprintf(out, "tls: %s\n", s->tls_desc[0] ? s->tls_desc :
		    "(version not reported)");
		if (verified && p->pinned_pubkey != NULL &&
		    p->ca_file == NULL && p->ca_path == NULL)
			fprintf(out, "certificate verified: its key matches "
			    "pinned_pubkey (pin-only trust: chain and name not "
			    "checked)\n");
		else if (verified)
			fprintf(out, "certificate verified: yes\n");
		else
			fprintf(out, "certificate verified: NO (%s)\n",
			    verr.msg);
		print_cert(s, out);
	}
out:
	pop3_close(s);
	return rc;
}
