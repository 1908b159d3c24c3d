/*
 * strset.h - a set of byte strings, each kept once, named by a 32-bit
 * reference, with a small fixed-size record per string for its owner.
 *
 * What it is for: the UIDLs of a mailbox. The journal's stored UIDLs and
 * the server's listing are interned into one set (state.c owns it), so a
 * UIDL's bytes and its index slot exist once however many times it is
 * listed or stored, and the inventory names a message's UIDL by a 4-byte
 * reference instead of a copy. At 100,000 Dovecot UIDLs (16 bytes) a
 * string costs about 37 bytes: 18 for its bytes (a length byte and a NUL
 * after them), 4 for where they are, the owner's record (8 in state.c),
 * and 5 to 8 for the index.
 *
 * Life cycle: strset_new -> strset_add / strset_find / strset_str /
 * strset_rec ... -> strset_clear (forget all, keep the set) ->
 * strset_free (NULL is fine). Strings are never removed one by one.
 *
 * References: 1, 2, ... in the order the strings were first added; 0 is
 * "none" (strset_find of an absent string). A reference stays valid, and
 * the pointers strset_str and strset_rec return stay valid and keep
 * their place, until strset_clear or strset_free: the bytes and records
 * live in fixed blocks that are never moved.
 *
 * The index is open addressing with linear probing, hashed with SipHash
 * under a random key per set: whoever chooses the strings (a server)
 * cannot make them collide on purpose. strset_probes counts the slots
 * stepped past, for tests that bound the work per string.
 *
 * Any bytes, any length. Past 2^32 - 1 strings or 4 GiB of bytes, the
 * process exits (EX_OSERR, "out of memory"), as on any failed malloc.
 */
#ifndef POPFETCH_STRSET_H
#define POPFETCH_STRSET_H

#include <stddef.h>
#include <stdint.h>

struct strset;

/* A new, empty set whose strings each carry recsize bytes for the owner
 * (a multiple of 4, at most 64; zeroed when the string is added). */
struct strset *strset_new(size_t recsize);

/* The reference of s[0..len): the existing one, or a new one (its
 * record zeroed). *added (may be NULL) says which. */
uint32_t strset_add(struct strset *set, const char *s, size_t len,
    int *added);

/* The reference of s[0..len), or 0 when it is not in the set. */
uint32_t strset_find(const struct strset *set, const char *s, size_t len);

/* The bytes of ref (a NUL follows them), *len (may be NULL) their count.
 * ref must be a reference of this set. */
const char *strset_str(const struct strset *set, uint32_t ref,
    size_t *len);

/* The owner's record of ref (recsize bytes, 4-byte aligned); NULL when
 * recsize is 0. */
void *strset_rec(const struct strset *set, uint32_t ref);

/* The number of strings (the highest reference). */
size_t strset_count(const struct strset *set);

/* Slots stepped past since strset_new (lookups, insertions, growth). */
unsigned long long strset_probes(const struct strset *set);

/* Forget every string (references start at 1 again). */
void strset_clear(struct strset *set);

void strset_free(struct strset *set);

#endif
