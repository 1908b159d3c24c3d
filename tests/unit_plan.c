/*
 * unit_plan.c - plan_inventory (fetch_plan.c): what a run does with each
 * listed message, against a real journal, rule by rule: stored or new,
 * keep and --no-keep, delete_after on both sides of its boundary, held
 * messages, max_size (also for stored ones), max_messages and max_bytes
 * (lowest numbers first, at least one message), --refetch, skipped
 * messages, a UIDL listed twice, no journal at all.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch_plan.h"
#include "unit.h"

static char dir[256];

static struct pop3_msg msgs[8];

/* Messages 1..n, UIDL "u<num>" (in st's set, as pop3_uidl puts them),
 * sizes given. */
static void
inventory(struct state *st, size_t n, const unsigned long long *sizes)
{
	char u[8];

	for (size_t i = 0; i < n; i++) {
		msgs[i].num = (unsigned)(i + 1);
		msgs[i].size = sizes[i];
		snprintf(u, sizeof(u), "u%zu", i + 1);
		msgs[i].uidl = strset_add(state_uidls(st), u, strlen(u), NULL);
	}
}

/* A journal in which "u1", "u2" (held) and "u3" are stored; u3's record
 * says it was stored age_s seconds ago. */
static struct state *
journal(const char *key, long long age_s)
{
	struct state *st = NULL;
	struct err e;
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.state", dir, key);
	f = fopen(path, "w");
	fprintf(f, "popfetch-state 1\nS %lld u1\nS %lld u2 hold\nS %lld u3\n",
	    (long long)time(NULL) - 10, (long long)time(NULL) - 10,
	    (long long)time(NULL) - age_s);
	fclose(f);
	err_clear(&e);
	CHECK(state_open(dir, key, NULL, false, &st, NULL, &e) == 0);
	return st;
}

static void
rules(struct plan_rules *r, bool keep)
{
	memset(r, 0, sizeof(*r));
	r->keep = keep;
	r->have_uidl = true;
	r->now = (long long)time(NULL);
}

/* acts as a string: F fetch, D delete, K keep, H held, B too big,
 * L later, S skip. */
static const char *
plan(const struct plan_rules *r, struct state *st, size_t n,
    bool (*skip)(void *, const struct pop3_msg *), struct plan_counts *pc)
{
	static char out[16];
	static const char letter[] = "FDKHBLS";
	unsigned char acts[8];

	if (st != NULL)
		state_claims_reset(st);
	plan_inventory(r, st, msgs, n, skip, NULL, acts, pc);
	for (size_t i = 0; i < n; i++)
		out[i] = letter[acts[i]];
	out[n] = '\0';
	return out;
}

static bool
skip_4(void *arg, const struct pop3_msg *m)
{
	(void)arg;
	return m->num == 4;
}

int
main(void)
{
	static const unsigned long long sizes[] = { 100, 200, 300, 400, 500,
	    600 };
	struct plan_rules r;
	struct plan_counts pc;
	struct state *st;
	char cmd[300];

	snprintf(dir, sizeof(dir), "/tmp/popfetch-unit-plan-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	st = journal("k1", 31LL * 86400);
	if (st == NULL)
		return unit_done("unit_plan");
	inventory(st, 6, sizes);
	rules(&r, true);
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFFF");
	CHECK(pc.n[PLAN_FETCH] == 3 && pc.fetch_bytes == 1500);
	CHECK(pc.n[PLAN_KEEP] == 2 && pc.n[PLAN_HELD] == 1);

	/* keep: false deletes what is stored, never a held one. */
	rules(&r, false);
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "DHDFFF");
	CHECK(pc.n[PLAN_DELETE] == 2);

	/* delete_after: u3 (31 days) is due at 30d, not at 32d; u1 (10 s)
	 * is not; u2 is held. */
	rules(&r, true);
	r.delete_after_s = 30LL * 86400;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHDFFF");
	r.delete_after_s = 32LL * 86400;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFFF");
	r.delete_after_s = 10;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "DHDFFF");

	/* max_size: bigger ones are left alone, stored or not. */
	rules(&r, false);
	r.max_size = 250;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "DHBBBB");
	CHECK(pc.n[PLAN_TOO_BIG] == 4 && pc.n[PLAN_FETCH] == 0);

	/* max_messages / max_bytes: the lowest numbers first, then the
	 * rest waits (even a later one that would fit). */
	rules(&r, true);
	r.max_messages = 2;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFFL");
	r.max_messages = 0;
	r.max_bytes = 999;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFFL");
	CHECK(pc.fetch_bytes == 900 && pc.n[PLAN_LATER] == 1);
	/* At least one, however small the limit. */
	r.max_bytes = 1;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFLL");
	/* max_size before the limits: a big one does not use them up. */
	r.max_bytes = 0;
	r.max_messages = 1;
	r.max_size = 450;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFBB");

	/* --refetch: all of them, whatever the journal says. */
	rules(&r, true);
	r.refetch = true;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "FFFFFF");
	/* Skipped messages are left alone. */
	r.refetch = false;
	CHECK_STR(plan(&r, st, 6, skip_4, &pc), "KHKSFF");
	CHECK(pc.n[PLAN_SKIP] == 1);
	/* No journal (a destination that is gone): all new. */
	CHECK_STR(plan(&r, NULL, 6, NULL, &pc), "FFFFFF");
	/* Without UIDL nothing can be matched: all new. */
	r.have_uidl = false;
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "FFFFFF");

	/* A UIDL listed twice with one stored copy: one is kept, the other
	 * fetched. */
	msgs[3].uidl = msgs[0].uidl;
	rules(&r, true);
	CHECK_STR(plan(&r, st, 6, NULL, &pc), "KHKFFF");
	CHECK(pc.n[PLAN_FETCH] == 3 && pc.n[PLAN_KEEP] == 2);
	state_close(st);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return unit_done("unit_plan");
}
