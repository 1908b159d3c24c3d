/*
 * strset.c - a set of byte strings named by 32-bit references (see
 * strset.h).
 *
 * Bytes: one item per string, in blocks of ARENA_BLK bytes (an item that
 * does not fit one gets a block of its own): a length byte (255: four
 * bytes of length follow), the bytes, a NUL. An item is placed by a
 * 32-bit offset: its block's number << 16 | its position in the block.
 * Records: per string, that offset and the owner's record, REC_BLK of
 * them per block. Index: the references, open addressing.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "strset.h"
#include "util.h"

#define ARENA_BLK (64 * 1024)
#define REC_BLK 4096
#define MAX_BLOCKS 65536

struct strset {
	size_t stride;       /* bytes per record: the offset + the owner's */
	size_t count;
	unsigned char **recs;
	size_t nrecs;        /* record blocks */
	char **blks;
	size_t nblks, blkcap;
	size_t cur, pos;     /* the block being filled, its next free byte
	                        (pos == ARENA_BLK: none) */
	uint32_t *idx;       /* references (0: free) */
	size_t size;         /* slots */
	uint64_t key[2];
	unsigned long long probes;
};

/* Past what 32-bit offsets and references can name: as out of memory. */
static void
too_many(void)
{
	static const char m[] = "popfetch: out of memory (string set)\n";
	(void)!write(STDERR_FILENO, m, sizeof(m) - 1);
	_exit(EX_OSERR);
}

struct strset *
strset_new(size_t recsize)
{
	struct strset *set = xcalloc(1, sizeof(*set));

	if (recsize % 4 != 0 || recsize > 64)
		abort();
	set->stride = 4 + recsize;
	set->pos = ARENA_BLK;
	util_random_key(set->key);
	return set;
}

static unsigned char *
rec_at(const struct strset *set, uint32_t ref)
{
	size_t i = (size_t)ref - 1;

	return set->recs[i / REC_BLK] + (i % REC_BLK) * set->stride;
}

const char *
strset_str(const struct strset *set, uint32_t ref, size_t *len)
{
	uint32_t off;
	const unsigned char *p;
	size_t n;

	memcpy(&off, rec_at(set, ref), sizeof(off));
	p = (const unsigned char *)set->blks[off >> 16] + (off & 0xffff);
	if (p[0] < 255) {
		n = p[0];
		p += 1;
	} else {
		uint32_t l;

		memcpy(&l, p + 1, sizeof(l));
		n = l;
		p += 5;
	}
	if (len != NULL)
		*len = n;
	return (const char *)p;
}

void *
strset_rec(const struct strset *set, uint32_t ref)
{
	return set->stride > 4 ? rec_at(set, ref) + 4 : NULL;
}

size_t
strset_count(const struct strset *set)
{
	return set->count;
}

unsigned long long
strset_probes(const struct strset *set)
{
	return set->probes;
}

/* The slot for hash h among size: the high half scaled (any size). */
static size_t
slot_of(uint64_t h, size_t size)
{
	return (size_t)(((h >> 32) * (uint64_t)size) >> 32);
}

/* The slot of s in idx: free, or s's. */
static uint32_t *
find_slot(const struct strset *set, unsigned long long *probes,
    uint32_t *idx, size_t size, const char *s, size_t len)
{
	size_t i = slot_of(util_siphash(set->key, s, len), size);

	for (;;) {
		const char *p;
		size_t n;

		if (idx[i] == 0)
			return &idx[i];
		p = strset_str(set, idx[i], &n);
		if (n == len && memcmp(p, s, len) == 0)
			return &idx[i];
		if (++i == size)
			i = 0;
		(*probes)++;
	}
}

uint32_t
strset_find(const struct strset *set, const char *s, size_t len)
{
	/* The counter is a statistic: lookups on a const set bump it (a
	 * set is never a const object). */
	unsigned long long *probes = &((struct strset *)set)->probes;

	if (set->size == 0)
		return 0;
	return *find_slot(set, probes, set->idx, set->size, s, len);
}

/* At most 3/4 full: grow by half. Every string once, in order (its
 * bytes read one after another); they are all different, so each goes
 * in the first free slot from its own, no bytes compared. */
static void
grow(struct strset *set)
{
	size_t nsize = set->size ? set->size + set->size / 2 : 256;
	uint32_t *nidx;

	if (nsize > UINT32_MAX)
		too_many();
	nidx = xcalloc(nsize, sizeof(*nidx));
	for (size_t r = 1; r <= set->count; r++) {
		size_t n;
		const char *p = strset_str(set, (uint32_t)r, &n);
		size_t i = slot_of(util_siphash(set->key, p, n), nsize);

		while (nidx[i] != 0) {
			if (++i == nsize)
				i = 0;
			set->probes++;
		}
		nidx[i] = (uint32_t)r;
	}
	free(set->idx);
	set->idx = nidx;
	set->size = nsize;
}

/* Room for an item of n bytes: its offset. */
static uint32_t
place(struct strset *set, size_t n)
{
	size_t b;

	if (n <= ARENA_BLK - set->pos) {
		b = set->cur;
		set->pos += n;
		return (uint32_t)(b << 16 | (set->pos - n));
	}
	if (set->nblks == MAX_BLOCKS)
		too_many();
	if (set->nblks == set->blkcap) {
		set->blkcap = set->blkcap ? set->blkcap * 2 : 64;
		set->blks = xrealloc(set->blks,
		    set->blkcap * sizeof(*set->blks));
	}
	b = set->nblks++;
	if (n > ARENA_BLK) {
		/* A block of its own; the one being filled goes on. */
		set->blks[b] = xmalloc(n);
		return (uint32_t)(b << 16);
	}
	set->blks[b] = xmalloc(ARENA_BLK);
	set->cur = b;
	set->pos = n;
	return (uint32_t)(b << 16);
}

uint32_t
strset_add(struct strset *set, const char *s, size_t len, int *added)
{
	uint32_t *slot, off, ref;
	unsigned char *item;
	size_t head = len < 255 ? 1 : 5;

	if (added != NULL)
		*added = 0;
	if ((set->count + 1) * 4 > set->size * 3)
		grow(set);
	slot = find_slot(set, &set->probes, set->idx, set->size, s, len);
	if (*slot != 0)
		return *slot;
	if (set->count >= UINT32_MAX - 1 || len > UINT32_MAX - 6)
		too_many();
	if (set->count % REC_BLK == 0) {
		set->recs = xrealloc(set->recs,
		    (set->nrecs + 1) * sizeof(*set->recs));
		set->recs[set->nrecs++] = xmalloc(REC_BLK * set->stride);
	}
	off = place(set, head + len + 1);
	item = (unsigned char *)set->blks[off >> 16] + (off & 0xffff);
	if (head == 1)
		item[0] = (unsigned char)len;
	else {
		uint32_t l = (uint32_t)len;

		item[0] = 255;
		memcpy(item + 1, &l, sizeof(l));
	}
	memcpy(item + head, s, len);
	item[head + len] = '\0';
	ref = (uint32_t)++set->count;
	memcpy(rec_at(set, ref), &off, sizeof(off));
	memset(rec_at(set, ref) + 4, 0, set->stride - 4);
	*slot = ref;
	if (added != NULL)
		*added = 1;
	return ref;
}

void
strset_clear(struct strset *set)
{
	for (size_t i = 0; i < set->nrecs; i++)
		free(set->recs[i]);
	for (size_t i = 0; i < set->nblks; i++)
		free(set->blks[i]);
	free(set->recs);
	free(set->blks);
	free(set->idx);
	set->recs = NULL;
	set->blks = NULL;
	set->idx = NULL;
	set->nrecs = set->nblks = set->blkcap = set->count = set->size = 0;
	set->cur = 0;
	set->pos = ARENA_BLK;
}

void
strset_free(struct strset *set)
{
	if (set == NULL)
		return;
	strset_clear(set);
	free(set);
}
