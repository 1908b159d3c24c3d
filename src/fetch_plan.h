/*
 * fetch_plan.h - what a run does with each message the server lists, and
 * the session's opening (log in, LIST, UIDL) that every kind of run
 * shares: a fetch (fetch.c), --dry-run and --status (fetch_look.c).
 *
 * The plan is a pure decision over the inventory, the journal and the
 * account's rules; it changes nothing but the journal's claims (which
 * stored copy matches which listed message, see state_claim).
 */
#ifndef POPFETCH_FETCH_PLAN_H
#define POPFETCH_FETCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pop3.h"
#include "state.h"
#include "util.h"

enum plan_act {
	PLAN_FETCH,    /* new (or --refetch): retrieve and store */
	PLAN_DELETE,   /* stored: delete without retrieving (keep: false,
	                  or stored at least delete_after ago) */
	PLAN_KEEP,     /* stored: stays on the server */
	PLAN_HELD,     /* stored from a body shorter than announced: never
	                  deleted */
	PLAN_TOO_BIG,  /* bigger than max_size: neither fetched nor deleted */
	PLAN_LATER,    /* new, beyond max_messages or max_bytes: next run */
	PLAN_SKIP,     /* cannot be retrieved (see fetch.c): left alone */
};

struct plan_rules {
	bool keep;                       /* the run's keep (--keep, --no-keep) */
	bool refetch;                    /* --refetch */
	bool have_uidl;                  /* without: every message is new */
	long long delete_after_s;        /* 0: never */
	unsigned long long max_size;     /* 0: no limit */
	unsigned long max_messages;      /* 0: no limit */
	unsigned long long max_bytes;    /* 0: no limit */
	long long now;                   /* time(NULL) */
};

struct plan_counts {
	unsigned long n[PLAN_SKIP + 1];  /* messages per act */
	unsigned long long fetch_bytes;  /* LIST sizes of PLAN_FETCH */
};

/* The rules of account a for one run: keep_override -1 (the account's),
 * 0 (--no-keep) or 1 (--keep). */
void plan_rules_for(const struct account *a, int keep_override,
    bool refetch, bool have_uidl, struct plan_rules *r);

/*
 * acts[i] (an enum plan_act in a byte: a byte a message) for msgs[i],
 * i < n, in the inventory's order (ascending message
 * numbers: the limits take the lowest first). A run fetches at least one
 * message however big (within max_size), so a limit never stalls an
 * account. st may be NULL (nothing stored: a new destination); a stored
 * copy is claimed for each listed occurrence it matches. skip (may be
 * NULL) names messages to leave alone. counts (may be NULL) is filled.
 * The messages' UIDLs are references into st's set (state_uidls).
 */
void plan_inventory(const struct plan_rules *r, struct state *st,
    const struct pop3_msg *msgs, size_t n,
    bool (*skip)(void *arg, const struct pop3_msg *m), void *arg,
    unsigned char *acts, struct plan_counts *counts);

/* The key of the account's journal (state_key of its mailbox and
 * store). Returns a new string. */
char *fetch_state_key(const struct account *a);

/* The connection parameters of an account, without its secret. */
void fetch_pop3_params(const struct account *a, struct pop3_params *pp);

/*
 * Resolve the account's password or token, log in (pop3_open), LIST, and
 * UIDL when the server has it (the UIDLs interned into uidls, the
 * journal's set): *pop, *msgs and *n (free with pop3_close,
 * pop3_msgs_free), *have_uidl, *octets (STAT's). 0 or a sysexits code
 * with e (*pop and *msgs then NULL or for the caller to free).
 */
int plan_session_open(const struct account *a, struct strset *uidls,
    struct pop3 **pop, struct pop3_msg **msgs, size_t *n, bool *have_uidl,
    unsigned long long *octets, struct err *e);

/* Whether account a's destination is there. A destination that does
 * not exist was removed when the nearest directory above it that exists
 * changed at or after since (the journal's last write: removing an entry
 * changes its directory); else it is unreachable (a disk not mounted, a
 * home directory not there yet), and its journal must not be forgotten.
 * A dangling symbolic link is "there" (the store reports it). */
enum plan_store { STORE_THERE, STORE_REMOVED, STORE_UNREACHABLE };
enum plan_store plan_store_state(const struct account *a, long long since);

#endif
