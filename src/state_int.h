/*
 * state_int.h - what state.c, state_set.c and state_load.c share: the
 * in-memory form of a journal. Nothing outside those files includes it.
 */
#ifndef POPFETCH_STATE_INT_H
#define POPFETCH_STATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"
#include "strset.h"

#define STATE_MAGIC "popfetch-state 1\n"

/* A UIDL's values (st->uidls holds every UIDL stored or listed; one
 * only listed has stored == 0). */
struct ent {
	long long when;     /* when the first stored copy was stored */
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

/* The same, packed as each UIDL's record in st->uidls: 8 bytes. The
 * usual values fit (counts up to 63, a time from 1970 to 2106, no absent
 * copy); a UIDL with others keeps them whole in st->ext, and `when`
 * holds their index there. */
struct entry {
	uint32_t when;
	unsigned stored : 6, claimed : 6, listed : 6, gone : 6, hold : 1,
	    ext : 1;
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
	/* Every UIDL stored or listed, once (strset.h), each with its
	 * struct entry; values that do not fit one in ext. nstored: the
	 * UIDLs with a stored copy. */
	struct strset *uidls;
	struct ent *ext;
	size_t next, extcap;
	size_t nstored;
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

/* state_set.c: the values of a UIDL (ref: its reference in st->uidls). */
void ent_get(const struct state *st, uint32_t ref, struct ent *v);
void ent_put(struct state *st, uint32_t ref, const struct ent *v);
/* One more stored copy of u (added to st->uidls when new); the values
 * are left in *v, the reference returned. */
uint32_t stset_add(struct state *st, const char *u, size_t len,
    long long when, struct ent *v);
/* u's reference when it has a stored copy, else 0. */
uint32_t stset_find(const struct state *st, const char *u, size_t len);
/* Forget every UIDL. */
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
