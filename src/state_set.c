/*
 * state_set.c - the stored UIDLs of a journal, and the questions fetch.c
 * asks of them.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/* ---- UIDL set ------------------------------------------------------------ */

/* The server chooses the UIDLs. With an unkeyed hash it could pick ones
 * that all land in one run of slots and make every insertion and lookup
 * walk all the earlier ones (50,000 such UIDLs: 13 s). So the table is
 * hashed with SipHash under a random key per table (set_grow), which the
 * server cannot know. *probes counts the slots stepped past
 * (state_probes). */
static struct entry *
set_slot(const uint64_t key[2], unsigned long long *probes,
    struct entry *tab, size_t size, const char *u, size_t len)
{
	size_t i = (size_t)util_siphash(key, u, len) & (size - 1);

	while (tab[i].uidl != NULL &&
	    (tab[i].len != len || memcmp(tab[i].uidl, u, len) != 0)) {
		i = (i + 1) & (size - 1);
		(*probes)++;
	}
	return &tab[i];
}

static void
set_grow(struct state *st)
{
	size_t nsize = st->tabsize ? st->tabsize * 2 : 256;
	struct entry *ntab = xcalloc(nsize, sizeof(*ntab));

	if (st->tabsize == 0)
		util_random_key(st->hkey);
	for (size_t i = 0; i < st->tabsize; i++) {
		if (st->tab[i].uidl != NULL)
			*set_slot(st->hkey, &st->probes, ntab, nsize,
			    st->tab[i].uidl, st->tab[i].len) = st->tab[i];
	}
	free(st->tab);
	st->tab = ntab;
	st->tabsize = nsize;
}

struct entry *
stset_add(struct state *st, const char *u, size_t len, long long when)
{
	struct entry *slot;

	if ((st->count + 1) * 2 > st->tabsize)
		set_grow(st);
	slot = set_slot(st->hkey, &st->probes, st->tab, st->tabsize, u,
	    len);
	if (slot->uidl != NULL) {
		slot->stored++;
		return slot;
	}
	slot->uidl = xstrndup(u, len);
	slot->len = len;
	slot->when = when;
	slot->stored = 1;
	st->count++;
	return slot;
}

struct entry *
stset_find(const struct state *st, const char *u, size_t len)
{
	/* The counter is a statistic, not part of the set: lookups on a
	 * const state may bump it (st is never a const object). */
	unsigned long long *probes = &((struct state *)st)->probes;
	struct entry *en;

	if (st->tabsize == 0)
		return NULL;
	en = set_slot(st->hkey, probes, st->tab, st->tabsize, u, len);
	return en->uidl != NULL ? en : NULL;
}

int
state_is_stored(const struct state *st, const char *uidl, size_t len)
{
	return stset_find(st, uidl, len) != NULL;
}

int
state_stored_at(const struct state *st, const char *uidl, size_t len,
    long long *when)
{
	struct entry *en = stset_find(st, uidl, len);

	if (en == NULL)
		return 0;
	*when = en->when;
	return 1;
}

int
state_claim(struct state *st, const char *uidl, size_t len)
{
	struct entry *en = stset_find(st, uidl, len);

	if (en == NULL || en->claimed >= en->stored)
		return 0;
	en->claimed++;
	return 1;
}

unsigned long long
state_probes(const struct state *st)
{
	return st->probes;
}

size_t
state_count(const struct state *st)
{
	return st->count;
}

void
state_claims_reset(struct state *st)
{
	for (size_t i = 0; i < st->tabsize; i++)
		st->tab[i].claimed = 0;
}
