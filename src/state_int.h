/*
 * state_int.h - what state.c, state_set.c and state_load.c share: the
 * in-memory form of a journal. Nothing outside those files includes it.
 */
#ifndef POPFETCH_STATE_INT_H
#define POPFETCH_STATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

#define STATE_MAGIC "popfetch-state 1\n"

/* One stored UIDL: 48 bytes, its bytes in the state's arena (no
 * allocation per UIDL; 100,000 UIDLs of 16 bytes: about 7 MB with the
 * index, against 19 MB as an open-addressed table of pointers). */
struct entry {
	uint32_t off;       /* the UIDL's bytes: st->arena + off */
	uint32_t len;
	long long when;
	long long absent;   /* the earliest "not listed since" of the
	                       nabsent copies that are absent; 0: none */
	unsigned nabsent;
	/* A server may list one UIDL for several messages: count the
	 * stored copies, and how many occurrences this run has accounted
	 * for (stored now, or matched to a stored copy). */
	unsigned stored;
	unsigned claimed;
	unsigned listed, gone;   /* marks for state_compact_marked */
	bool hold;          /* never DELE: stored from a short body */
};

/* A record as read from the journal, before it joins the set. */
struct rec {
	char *uidl;
	size_t len;
	long long when, absent;
	bool hold;
};

struct state {
	char *dir;
	char *path;       /* KEY.state */
	char *lockpath;   /* KEY.lock */
	int lockfd;
	int fd;           /* journal, open for append */
	bool readonly;    /* state_peek: nothing written, no lock */
	/* Stored UIDLs: the entries in the order they came (dense), their
	 * bytes one after another in the arena, and an index of entry
	 * numbers + 1 (0: free) by SipHash, open addressing, linear
	 * probing, a power of 2 at least twice the count. */
	struct entry *ents;
	size_t count, entcap;
	char *arena;
	size_t arenalen, arenacap;
	uint32_t *idx;
	size_t tabsize;
	uint64_t hkey[2];	/* SipHash key, random, set with the table */
	unsigned long long probes;	/* see state_probes */
	/* Records written by state_*() and not yet synced. */
	char *buf;
	size_t buflen, bufcap;
	struct state_pending pending;
	/* Provisional S records of the open batch while loading. */
	struct rec *prov;
	size_t nprov, provcap;
	/* The user@host journal taken over (or set aside) by this open. */
	char *legacy;
	bool legacy_adopted;
};

/* state_set.c: the stored UIDLs (SipHash-keyed open addressing). */
/* One more stored copy of u (a new entry when u is new). */
struct entry *stset_add(struct state *st, const char *u, size_t len,
    long long when);
/* The entry of u, or NULL. The pointers stay valid until the next
 * stset_add. */
struct entry *stset_find(const struct state *st, const char *u, size_t len);
/* The bytes of en's UIDL (NUL follows them). */
const char *stset_uidl(const struct state *st, const struct entry *en);
/* Forget every entry. */
void stset_clear(struct state *st);

/* state.c: the buffer of records not yet written. */
void st_buf_add(struct state *st, const char *p, size_t n);
/* u with every byte outside 0x21..0x7e and '%' as %XX. */
void st_buf_add_escaped(struct state *st, const char *u, size_t len);

/* state_load.c: reading the journal at open. */
void st_pending_clear(struct state_pending *p);
void st_prov_clear(struct state *st);
/* Load st->fd (a new, empty journal gets its format line, synced), cut
 * a torn last record. EX_IOERR, EX_DATAERR. */
int st_load_journal(struct state *st, struct err *e);

#endif
