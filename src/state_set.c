/*
 * state_set.c - the stored UIDLs of a journal, and the questions fetch.c
 * asks of them.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "state_int.h"

/* ---- UIDL set ------------------------------------------------------------ */

/* Past 2^31 entries or 4 GiB of UIDL bytes (the index and offsets are
 * 32 bits, to keep an entry small): as out of memory. */
static void
too_many(void)
{
	static const char m[] = "popfetch: out of memory (UIDL table)\n";
	(void)!write(STDERR_FILENO, m, sizeof(m) - 1);
	_exit(EX_OSERR);
}

/* The server chooses the UIDLs. With an unkeyed hash it could pick ones
 * that all land in one run of slots and make every insertion and lookup
 * walk all the earlier ones (50,000 such UIDLs: 13 s). So the index is
 * hashed with SipHash under a random key per table (set_grow), which the
 * server cannot know. *probes counts the slots stepped past
 * (state_probes). Returns the slot of u in idx: free, or u's. */
static uint32_t *
set_slot(const struct state *st, unsigned long long *probes,
    uint32_t *idx, size_t size, const char *u, size_t len)
{
	size_t i = (size_t)util_siphash(st->hkey, u, len) & (size - 1);

	for (;;) {
		const struct entry *en;

		if (idx[i] == 0)
			return &idx[i];
		en = &st->ents[idx[i] - 1];
		if (en->len == len &&
		    memcmp(st->arena + en->off, u, len) == 0)
			return &idx[i];
		i = (i + 1) & (size - 1);
		(*probes)++;
	}
}

static void
set_grow(struct state *st)
{
	size_t nsize = st->tabsize ? st->tabsize * 2 : 256;
	uint32_t *nidx = xcalloc(nsize, sizeof(*nidx));

	if (st->tabsize == 0)
		util_random_key(st->hkey);
	/* Every entry once, in order: no slot of the old index is read. */
	for (size_t k = 0; k < st->count; k++) {
		const struct entry *en = &st->ents[k];

		*set_slot(st, &st->probes, nidx, nsize, st->arena + en->off,
		    en->len) = (uint32_t)(k + 1);
	}
	free(st->idx);
	st->idx = nidx;
	st->tabsize = nsize;
}

struct entry *
stset_add(struct state *st, const char *u, size_t len, long long when)
{
	uint32_t *slot;
	struct entry *en;

	if ((st->count + 1) * 2 > st->tabsize) {
		if (st->tabsize > (size_t)UINT32_MAX / 2)
			too_many();
		set_grow(st);
	}
	slot = set_slot(st, &st->probes, st->idx, st->tabsize, u, len);
	if (*slot != 0) {
		en = &st->ents[*slot - 1];
		en->stored++;
		return en;
	}
	if (len > UINT32_MAX - 1 || st->arenalen + len + 1 > UINT32_MAX)
		too_many();
	if (st->arenalen + len + 1 > st->arenacap) {
		st->arenacap = (st->arenalen + len + 1) * 3 / 2 + 4096;
		if (st->arenacap > UINT32_MAX)
			st->arenacap = UINT32_MAX;
		st->arena = xrealloc(st->arena, st->arenacap);
	}
	if (st->count == st->entcap) {
		st->entcap = st->entcap ? st->entcap * 3 / 2 : 64;
		st->ents = xrealloc(st->ents, st->entcap * sizeof(*st->ents));
	}
	en = &st->ents[st->count];
	memset(en, 0, sizeof(*en));
	en->off = (uint32_t)st->arenalen;
	en->len = (uint32_t)len;
	memcpy(st->arena + st->arenalen, u, len);
	st->arena[st->arenalen + len] = '\0';
	st->arenalen += len + 1;
	en->when = when;
	en->stored = 1;
	*slot = (uint32_t)++st->count;
	return en;
}

struct entry *
stset_find(const struct state *st, const char *u, size_t len)
{
	/* The counter is a statistic, not part of the set: lookups on a
	 * const state may bump it (st is never a const object). */
	unsigned long long *probes = &((struct state *)st)->probes;
	uint32_t *slot;

	if (st->tabsize == 0)
		return NULL;
	slot = set_slot(st, probes, st->idx, st->tabsize, u, len);
	return *slot != 0 ? &st->ents[*slot - 1] : NULL;
}

const char *
stset_uidl(const struct state *st, const struct entry *en)
{
	return st->arena + en->off;
}

void
stset_clear(struct state *st)
{
	free(st->ents);
	free(st->arena);
	free(st->idx);
	st->ents = NULL;
	st->arena = NULL;
	st->idx = NULL;
	st->count = st->entcap = st->arenalen = st->arenacap = 0;
	st->tabsize = 0;
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
	for (size_t i = 0; i < st->count; i++)
		st->ents[i].claimed = 0;
}
