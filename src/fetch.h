/*
 * fetch.h - the per-account algorithm: lock, recover, inventory, plan,
 * fetch in batches, commit, delete, quit, compact.
 */
#ifndef POPFETCH_FETCH_H
#define POPFETCH_FETCH_H

#include "config.h"
#include "pop3.h"
#include "util.h"

struct fetch_stats {
	unsigned long on_server;   /* messages in the inventory */
	unsigned long stored;      /* stored by this run */
	unsigned long deleted;     /* DELEs confirmed by QUIT */
	unsigned long long bytes;  /* octets received for stored messages */
	unsigned long held;        /* came shorter than announced: left on
	                              the server for good */
	unsigned long broken;      /* cannot be retrieved (a lone "." first
	                              line unstuffed): skipped, left there */
};

/*
 * Fetch one account. Returns 0, or a sysexits code with e filled (the
 * message does not repeat the account name). Whatever happens, messages
 * whose storing was recorded stay recorded, and no message is deleted
 * that is not durably stored.
 */
int fetch_account(const struct account *a, struct fetch_stats *stats,
    struct err *e);

/* The key of the account's journal (state_key of its mailbox and
 * store). Returns a new string. */
char *fetch_state_key(const struct account *a);

/* The connection parameters of an account, without its secret. */
void fetch_pop3_params(const struct account *a, struct pop3_params *pp);

#endif
