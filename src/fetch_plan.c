/*
 * fetch_plan.c - what a run does with each listed message (fetch,
 * delete, keep, leave alone), and the opening of a session that a fetch,
 * --dry-run and --status share. See fetch_plan.h.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fetch_plan.h"

void
plan_rules_for(const struct account *a, int keep_override, bool refetch,
    bool have_uidl, struct plan_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->keep = keep_override < 0 ? a->keep : keep_override != 0;
	r->refetch = refetch;
	r->have_uidl = have_uidl;
	/* delete_after is for keep: true; --no-keep deletes everything. */
	r->delete_after_s = r->keep ? a->delete_after_s : 0;
	r->max_size = a->max_size;
	r->max_messages = a->max_messages;
	r->max_bytes = a->max_bytes;
	r->now = (long long)time(NULL);
}

/* A stored message: delete, keep or held. */
static enum plan_act
stored_act(const struct plan_rules *r, const struct state *st,
    const struct pop3_msg *m)
{
	long long when;

	if (state_held_ref(st, m->uidl))
		return PLAN_HELD;
	if (!r->keep)
		return PLAN_DELETE;
	if (r->delete_after_s > 0 && state_stored_at_ref(st, m->uidl, &when) &&
	    r->now - when >= r->delete_after_s)
		return PLAN_DELETE;
	return PLAN_KEEP;
}

void
plan_inventory(const struct plan_rules *r, struct state *st,
    const struct pop3_msg *msgs, size_t n,
    bool (*skip)(void *arg, const struct pop3_msg *m), void *arg,
    unsigned char *acts, struct plan_counts *counts)
{
	unsigned long nfetch = 0;
	unsigned long long bytes = 0;
	bool full = false;

	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; i < n; i++) {
		const struct pop3_msg *m = &msgs[i];
		bool stored = false;
		enum plan_act act;

		if (skip != NULL && skip(arg, m))
			act = PLAN_SKIP;
		else {
			/* Claimed first: a stored copy matches this
			 * occurrence whatever is then done with it. */
			stored = st != NULL && r->have_uidl && !r->refetch &&
			    state_claim_ref(st, m->uidl);
			if (r->max_size > 0 && m->size > r->max_size)
				act = PLAN_TOO_BIG;
			else if (stored)
				act = stored_act(r, st, m);
			else if (full || (nfetch > 0 &&
			    ((r->max_messages > 0 &&
			    nfetch >= r->max_messages) ||
			    (r->max_bytes > 0 &&
			    bytes + m->size > r->max_bytes)))) {
				/* The lowest numbers first: once the limit
				 * is reached, the rest waits its turn. */
				full = true;
				act = PLAN_LATER;
			} else {
				act = PLAN_FETCH;
				nfetch++;
				bytes += m->size;
			}
		}
		acts[i] = (unsigned char)act;
		if (counts != NULL) {
			counts->n[act]++;
			if (act == PLAN_FETCH)
				counts->fetch_bytes += m->size;
		}
	}
}

char *
fetch_state_key(const struct account *a)
{
	return state_key(a->host, a->port, a->user,
	    sink_kind_key(a), a->store_path);
}

void
fetch_pop3_params(const struct account *a, struct pop3_params *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->account = a->name;
	pp->host = a->host;
	pp->port = a->port;
	pp->tls = a->tls;
	pp->ca_file = a->ca_file;
	pp->ca_path = a->ca_path;
	pp->pinned_pubkey = a->pinned_pubkey;
	pp->client_cert = a->client_cert;
	pp->client_key = a->client_key;
	pp->tls_min_version = a->tls_min_version;
	pp->auth = a->auth;
	/* USER, PLAIN and LOGIN show the password to anyone on the path
	 * unless TLS hides it or the path is this machine. */
	pp->plaintext_ok = a->tls != TLS_NONE ||
	    (config_host_is_loopback(a->host) && (a->proxy_host == NULL ||
	    config_host_is_loopback(a->proxy_host)));
	pp->proxy = a->proxy;
	pp->user = a->user;
	pp->netrc = a->netrc;
	pp->timeout_ms = a->timeout_ms;
}

int
plan_session_open(const struct account *a, struct strset *uidls,
    struct pop3 **pop, struct pop3_msg **msgs, size_t *n, bool *have_uidl,
    unsigned long long *octets, struct err *e)
{
	struct pop3_params pp;
	unsigned long count = 0;
	char *secret = NULL;
	int rc;

	*pop = NULL;
	*msgs = NULL;
	*n = 0;
	*octets = 0;
	fetch_pop3_params(a, &pp);
	if (a->auth == AUTH_XOAUTH2 || a->auth == AUTH_OAUTHBEARER) {
		if ((rc = config_oauth2_token(a, &secret, e)) != 0)
			return rc;
		pp.bearer = secret;
	} else if (a->netrc != NULL) {
		/* libcurl reads the password at the login. */
		if ((rc = config_netrc_check(a, e)) != 0)
			return rc;
	} else {
		if ((rc = config_password(a, &secret, e)) != 0)
			return rc;
		pp.password = secret;
	}
	rc = pop3_open(&pp, pop, &count, octets, e);
	util_free_secret(secret);
	if (rc != 0)
		return rc;
	if ((rc = pop3_list(*pop, msgs, n, e)) != 0)
		return rc;
	*have_uidl = pop3_has_uidl(*pop);
	if (*have_uidl && *n > 0 &&
	    (rc = pop3_uidl(*pop, *msgs, *n, uidls, e)) != 0)
		return rc;
	return 0;
}

enum plan_store
plan_store_state(const struct account *a, long long since)
{
	struct stat sb;
	char *dir;
	enum plan_store r = STORE_UNREACHABLE;

	if (!sink_is_path(a))
		return STORE_THERE;   /* nothing there to go missing */
	if (lstat(a->store_path, &sb) == 0 || errno != ENOENT)
		return STORE_THERE;
	dir = xstrdup(a->store_path);
	for (;;) {
		char *slash = strrchr(dir, '/');

		if (slash == NULL)
			break;
		if (slash == dir)
			slash[1] = '\0';   /* "/" */
		else
			*slash = '\0';
		if (lstat(dir, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && (long long)sb.st_mtime >= since)
				r = STORE_REMOVED;
			break;
		}
		if (errno != ENOENT || slash == dir)
			break;
	}
	free(dir);
	return r;
}
