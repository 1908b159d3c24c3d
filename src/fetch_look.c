/*
 * fetch_look.c - --dry-run and --status: a session that only looks. It
 * logs in, reads the inventory, plans exactly as a run would
 * (fetch_plan.c) against the journal read with state_peek, prints, and
 * quits. No store is opened, no journal or lock file is created or
 * written, nothing is retrieved (TOP n 0 for headers at most) or
 * deleted.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetch.h"
#include "headers.h"
#include "log.h"

static void
header_line(void *arg, const char *line, size_t len)
{
	headers_line(arg, line, len);
}

/* " (UIDL x)" for a message, quoted; "" without UIDL. */
static const char *
uidl_text(const struct state *st, struct pop3 *pop, const struct pop3_msg *m,
    char *buf, size_t n)
{
	char q[160];
	size_t ul;
	const char *u = state_uidl(st, m->uidl, &ul);

	if (u == NULL) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, n, ", UIDL %s", pop3_quote(pop, q, sizeof(q), u, ul));
	return buf;
}

static void
print_dry(const struct account *a, const struct plan_rules *r,
    struct state *st, const struct state *names, struct pop3 *pop,
    const struct pop3_msg *msgs, size_t n, const unsigned char *acts,
    bool verbose, FILE *out)
{
	bool headers = verbose && pop3_has_top(pop);
	char u[200], q[HEADERS_MAX * 4 + 8], when[40];

	for (size_t i = 0; i < n; i++) {
		const struct pop3_msg *m = &msgs[i];
		long long t;

		uidl_text(names, pop, m, u, sizeof(u));
		switch (acts[i]) {
		case PLAN_FETCH:
			fprintf(out, "%s: would fetch message %u (%llu "
			    "octets%s)\n", a->name, m->num, m->size, u);
			if (headers) {
				struct headers h;
				struct err e;

				headers_init(&h);
				if (pop3_top(pop, m->num, header_line, &h,
				    &e) != 0) {
					log_warn(a->name, "%s (no more From and "
					    "Subject lines)", e.msg);
					headers = false;
					break;
				}
				fprintf(out, "%s:   From: %s\n", a->name,
				    pop3_quote(pop, q, sizeof(q), h.from,
				    strlen(h.from)));
				fprintf(out, "%s:   Subject: %s\n", a->name,
				    pop3_quote(pop, q, sizeof(q), h.subject,
				    strlen(h.subject)));
			}
			break;
		case PLAN_DELETE:
			when[0] = '\0';
			if (st != NULL && state_stored_at_ref(st, m->uidl, &t)) {
				time_t tt = (time_t)t;
				struct tm tm;

				strftime(when, sizeof(when), ", stored "
				    "%Y-%m-%d %H:%M", localtime_r(&tt, &tm));
			}
			fprintf(out, "%s: would delete message %u (%llu "
			    "octets%s%s)\n", a->name, m->num, m->size, u, when);
			break;
		case PLAN_HELD:
			if (r->keep && r->delete_after_s == 0)
				break;
			fprintf(out, "%s: would keep message %u (%llu "
			    "octets%s): it once came shorter than announced, "
			    "so popfetch never deletes it\n", a->name, m->num,
			    m->size, u);
			break;
		case PLAN_TOO_BIG:
			fprintf(out, "%s: would skip message %u (%llu "
			    "octets%s): bigger than max_size (%llu)\n",
			    a->name, m->num, m->size, u, r->max_size);
			break;
		case PLAN_LATER:
			fprintf(out, "%s: would skip message %u (%llu "
			    "octets%s): beyond max_messages or max_bytes, "
			    "for a later run\n", a->name, m->num, m->size, u);
			break;
		default:
			break;
		}
	}
}

int
fetch_look(const struct account *a, const struct fetch_opts *o,
    bool status, FILE *out, struct err *e)
{
	char *key = fetch_state_key(a);
	char *legacy = state_legacy_key(a->host, a->user);
	struct state *st = NULL;
	struct pop3 *pop = NULL;
	struct pop3_msg *msgs = NULL;
	unsigned char *acts = NULL;
	struct plan_rules r;
	struct plan_counts pc;
	size_t n = 0;
	unsigned long long octets = 0;
	bool have_uidl = true, missing = false, pending = false;
	enum plan_store where = STORE_THERE;
	struct err qe;
	int rc;

	rc = state_peek(a->state_dir, key, legacy, !a->legacy_state_shared,
	    &st, e);
	free(key);
	free(legacy);
	if (rc != 0)
		goto out;
	if (state_count(st) > 0)
		where = plan_store_state(a, state_mtime(st));
	missing = where == STORE_REMOVED;
	pending = state_pending(st)->open;
	if ((rc = plan_session_open(a, state_uidls(st), &pop, &msgs, &n,
	    &have_uidl, &octets, e)) != 0)
		goto out;
	plan_rules_for(a, o->keep, o->refetch, have_uidl, &r);
	if (!have_uidl && r.keep) {
		rc = err_set(e, EX_UNAVAILABLE, "the server does not support "
		    "UIDL, so popfetch cannot tell new messages from old ones; "
		    "set \"keep: false\" to fetch and delete every message");
		goto out;
	}
	acts = xcalloc(n + 1, sizeof(*acts));
	/* A missing destination: a run forgets the journal first. */
	plan_inventory(&r, missing ? NULL : st, msgs, n, NULL, NULL, acts,
	    &pc);
	if (status) {
		fprintf(out, "%s: %zu message%s (%llu octets) on the server: "
		    "%lu new, %lu stored and kept, %lu to delete", a->name, n,
		    n == 1 ? "" : "s", octets, pc.n[PLAN_FETCH] +
		    pc.n[PLAN_LATER], pc.n[PLAN_KEEP] + pc.n[PLAN_HELD],
		    pc.n[PLAN_DELETE]);
		if (pc.n[PLAN_TOO_BIG] > 0)
			fprintf(out, ", %lu over max_size", pc.n[PLAN_TOO_BIG]);
		fputc('\n', out);
	} else {
		if (missing)
			fprintf(out, "%s: the %s %s no longer exists: a run "
			    "would forget the journal's %zu records and fetch "
			    "the messages on the server again\n", a->name,
			    sink_kind_label(a),
			    a->store_path, state_count(st));
		if (where == STORE_UNREACHABLE && !o->refetch)
			fprintf(out, "%s: the %s %s does not exist, and nothing "
			    "shows it was removed since the last run (a disk "
			    "not mounted?): a run would fetch nothing\n",
			    a->name, sink_kind_label(a),
			    a->store_path);
		if (pending)
			fprintf(out, "%s: an interrupted run left a batch "
			    "open: a run would first recover it\n", a->name);
		print_dry(a, &r, missing ? NULL : st, st, pop, msgs, n, acts,
		    o->verbose, out);
		fprintf(out, "%s: %zu message%s (%llu octets) on the server: "
		    "would fetch %lu (%llu octets), delete %lu, keep %lu, "
		    "skip %lu\n", a->name, n, n == 1 ? "" : "s", octets,
		    pc.n[PLAN_FETCH], pc.fetch_bytes, pc.n[PLAN_DELETE],
		    pc.n[PLAN_KEEP] + pc.n[PLAN_HELD], pc.n[PLAN_TOO_BIG] +
		    pc.n[PLAN_LATER]);
	}
	fflush(out);
	/* Only looked: a refused QUIT changes nothing. */
	if (pop3_quit(pop, &qe) != 0)
		log_warn(a->name, "%s", qe.msg);
out:
	free(acts);
	pop3_close(pop);
	pop3_msgs_free(msgs, n);
	state_close(st);
	return rc;
}
