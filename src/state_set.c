/*
 * state_set.c - the values of the journal's UIDLs (stored copies, when,
 * held, claims, compaction marks), packed beside each UIDL in the
 * state's string set, and the questions fetch.c asks of them.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "state_int.h"
#include "strset.h"

/* ---- UIDL values ----------------------------------------------------------- */

_Static_assert(sizeof(struct entry) == 8, "struct entry is 8 bytes");

#define SMALL 63u   /* the largest count an entry holds itself */

void
ent_get(const struct state *st, uint32_t ref, struct ent *v)
{
	const struct entry *en = strset_rec(st->uidls, ref);

	if (en->ext) {
		*v = st->ext[en->when];
		return;
	}
	memset(v, 0, sizeof(*v));
	v->when = en->when;
	v->stored = en->stored;
	v->claimed = en->claimed;
	v->listed = en->listed;
	v->gone = en->gone;
	v->hold = en->hold;
}

void
ent_put(struct state *st, uint32_t ref, const struct ent *v)
{
	struct entry *en = strset_rec(st->uidls, ref);

	if (en->ext) {
		st->ext[en->when] = *v;
		return;
	}
	if (v->when >= 0 && v->when <= (long long)UINT32_MAX &&
	    v->stored <= SMALL && v->claimed <= SMALL &&
	    v->listed <= SMALL && v->gone <= SMALL && v->nabsent == 0 &&
	    v->absent == 0) {
		en->when = (uint32_t)v->when;
		en->stored = v->stored;
		en->claimed = v->claimed;
		en->listed = v->listed;
		en->gone = v->gone;
		en->hold = v->hold;
		return;
	}
	/* Kept whole from now on: a few UIDLs of a mailbox at most (those
	 * absent for a while, or listed many times by a strange server). */
	if (st->next == UINT32_MAX)
		abort();
	if (st->next == st->extcap) {
		st->extcap = st->extcap ? st->extcap * 2 : 16;
		st->ext = xrealloc(st->ext, st->extcap * sizeof(*st->ext));
	}
	st->ext[st->next] = *v;
	en->when = (uint32_t)st->next++;
	en->ext = 1;
}

uint32_t
stset_add(struct state *st, const char *u, size_t len, long long when,
    struct ent *v)
{
	uint32_t ref = strset_add(st->uidls, u, len, NULL);

	ent_get(st, ref, v);
	if (v->stored == 0) {
		v->when = when;
		st->nstored++;
	}
	v->stored++;
	ent_put(st, ref, v);
	return ref;
}

uint32_t
stset_find(const struct state *st, const char *u, size_t len)
{
	uint32_t ref = strset_find(st->uidls, u, len);
	struct ent v;

	if (ref == 0)
		return 0;
	ent_get(st, ref, &v);
	return v.stored > 0 ? ref : 0;
}

void
stset_clear(struct state *st)
{
	strset_clear(st->uidls);
	free(st->ext);
	st->ext = NULL;
	st->next = st->extcap = 0;
	st->nstored = 0;
}

struct strset *
state_uidls(struct state *st)
{
	return st->uidls;
}

const char *
state_uidl(const struct state *st, uint32_t ref, size_t *len)
{
	if (ref == 0) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	return strset_str(st->uidls, ref, len);
}

int
state_is_stored(const struct state *st, const char *uidl, size_t len)
{
	return stset_find(st, uidl, len) != 0;
}

/* ref's values when it has a stored copy. */
static bool
stored_ref(const struct state *st, uint32_t ref, struct ent *v)
{
	if (ref == 0)
		return false;
	ent_get(st, ref, v);
	return v->stored > 0;
}

int
state_stored_at_ref(const struct state *st, uint32_t ref, long long *when)
{
	struct ent v;

	if (!stored_ref(st, ref, &v))
		return 0;
	*when = v.when;
	return 1;
}

int
state_stored_at(const struct state *st, const char *uidl, size_t len,
    long long *when)
{
	return state_stored_at_ref(st, strset_find(st->uidls, uidl, len),
	    when);
}

int
state_held_ref(const struct state *st, uint32_t ref)
{
	struct ent v;

	return stored_ref(st, ref, &v) && v.hold;
}

int
state_held(const struct state *st, const char *uidl, size_t len)
{
	return state_held_ref(st, strset_find(st->uidls, uidl, len));
}

int
state_claim_ref(struct state *st, uint32_t ref)
{
	struct ent v;

	if (!stored_ref(st, ref, &v) || v.claimed >= v.stored)
		return 0;
	v.claimed++;
	ent_put(st, ref, &v);
	return 1;
}

int
state_claim(struct state *st, const char *uidl, size_t len)
{
	return state_claim_ref(st, strset_find(st->uidls, uidl, len));
}

void
state_mark_ref(struct state *st, uint32_t ref, bool gone)
{
	struct ent v;

	if (!stored_ref(st, ref, &v))
		return;
	if (gone)
		v.gone++;
	else
		v.listed++;
	ent_put(st, ref, &v);
}

unsigned long long
state_probes(const struct state *st)
{
	return strset_probes(st->uidls);
}

size_t
state_count(const struct state *st)
{
	return st->nstored;
}

void
state_claims_reset(struct state *st)
{
	size_t n = strset_count(st->uidls);

	for (uint32_t ref = 1; ref <= n; ref++) {
		struct ent v;

		ent_get(st, ref, &v);
		if (v.claimed != 0) {
			v.claimed = 0;
			ent_put(st, ref, &v);
		}
	}
}
