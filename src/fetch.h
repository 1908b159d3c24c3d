/*
 * fetch.h - the per-account algorithm: lock, recover, inventory, plan,
 * fetch in batches, commit, delete, quit, compact.
 */
#ifndef POPFETCH_FETCH_H
#define POPFETCH_FETCH_H

#include <stdio.h>

#include "config.h"
#include "fetch_plan.h"
#include "pop3.h"
#include "util.h"

/* How a run goes (the command line). */
struct fetch_opts {
	int keep;          /* -1: the account's keep; 0: --no-keep;
	                      1: --keep */
	bool refetch;      /* fetch what the journal holds too */
	bool verbose;      /* -v (--dry-run: From and Subject too) */
	bool quiet;        /* -q */
	bool progress;     /* a progress line (stderr is a terminal) */
};

struct fetch_stats {
	bool locked;               /* skipped: another popfetch run holds
	                              the account's journal (returns 0, the
	                              notice in e) */
	bool inventory;            /* the listing was read: the counts
	                              below were learned, not defaults */
	unsigned long on_server;   /* messages in the inventory */
	unsigned long long server_bytes;   /* STAT's octets */
	unsigned long too_big;     /* over max_size: left on the server */
	unsigned long later;       /* beyond max_messages/max_bytes */
	unsigned long stored;      /* stored by this run */
	unsigned long deleted;     /* DELEs confirmed by QUIT */
	unsigned long long bytes;  /* LIST sizes of the messages stored */
	unsigned long held;        /* came shorter than announced: left on
	                              the server for good */
	unsigned long broken;      /* cannot be retrieved (a lone "." first
	                              line unstuffed): skipped, left there */
};

/*
 * Fetch one account. Returns 0, or a sysexits code with e filled (the
 * message does not repeat the account name). An account another popfetch
 * run holds is skipped: 0, stats->locked, and the notice in e. Whatever happens, messages
 * whose storing was recorded stay recorded, and no message is deleted
 * that is not durably stored.
 */
int fetch_account(const struct account *a, const struct fetch_opts *o,
    struct fetch_stats *stats, struct err *e);

/*
 * --dry-run (status false) or --status (true) for one account: log in,
 * read the inventory, plan as a run would, print to out, QUIT. Nothing
 * is created, written, retrieved or deleted (the journal is read with
 * state_peek). Errors as fetch_account.
 */
int fetch_look(const struct account *a, const struct fetch_opts *o,
    bool status, FILE *out, struct err *e);

#endif
