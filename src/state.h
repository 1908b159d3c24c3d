/*
 * state.h - what popfetch remembers about one server mailbox (host+user):
 * which UIDLs it has stored, and enough about unfinished work to undo or
 * complete it after a crash.
 *
 * On disk, in the account's state_dir:
 *   KEY.state   append-only journal, one record per line (see state.c)
 *   KEY.lock    flock()ed for the whole run: one popfetch per mailbox
 * KEY is "<user>@<host>" with every byte outside [A-Za-z0-9._@+-] written
 * as %XX, so renaming an account keeps its state.
 *
 * A batch of deliveries is journalled as
 *   begin (Maildir: the file names it will use; mbox: the size to roll back
 *   to) -> the store is written and synced -> "stored" records + commit.
 * Records between a begin and its commit count only once the commit is on
 * disk; a batch left open by a crash is handed back by state_pending() for
 * the caller to resolve against the store.
 */
#ifndef POPFETCH_STATE_H
#define POPFETCH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sink.h"
#include "util.h"

struct state;

/* Work from a batch a crash left open. */
struct state_pending {
	bool open;            /* a batch was begun and never committed */
	bool has_mark;        /* mbox batch: mark is valid */
	struct sink_mark mark;   /* where the mbox batch began */
	size_t nintents;      /* Maildir batch: uidl -> file name */
	char **intent_uidl;
	size_t *intent_uidl_len;
	char **intent_name;
};

/* The state key for host+user (see above). Returns a new string. */
char *state_key(const char *host, const char *user);

/*
 * Create dir if needed, take KEY.lock without waiting (EX_TEMPFAIL with a
 * message naming the lock file when another run holds it), and load the
 * journal (a torn last line from a crash is cut off). EX_CANTCREAT or
 * EX_IOERR when the directory or files cannot be used, EX_DATAERR when
 * the journal is unreadable garbage.
 */
int state_open(const char *dir, const char *host, const char *user,
    struct state **out, struct err *e);

/* 1 when uidl (len bytes, any bytes allowed) is recorded as stored. */
int state_is_stored(const struct state *st, const char *uidl, size_t len);

/*
 * For one occurrence of uidl in the server's inventory, in order: 1 when
 * a stored copy is left to match it (and take that copy), 0 when this
 * occurrence must be fetched. A server may give several messages one
 * UIDL; each stored copy covers one of them, so a run cut short between
 * two such messages neither refetches the first nor skips the second.
 */
int state_claim(struct state *st, const char *uidl, size_t len);

/* The batch a crash left open (pending->open false when none). */
const struct state_pending *state_pending(const struct state *st);

/* Journal records; they are buffered until state_sync(). */
void state_begin_maildir(struct state *st);
void state_begin_mbox(struct state *st, const struct sink_mark *mark);
void state_intent(struct state *st, const char *uidl, size_t len,
    const char *name);
/* The message fetched for this occurrence of uidl is stored. */
void state_stored(struct state *st, const char *uidl, size_t len);
/* Crash recovery found a stored copy of uidl (not yet matched). */
void state_recovered(struct state *st, const char *uidl, size_t len);
void state_commit(struct state *st);

/* Write the buffered records and fsync the journal. */
int state_sync(struct state *st, struct err *e);

/*
 * Rewrite the journal atomically with only the stored UIDLs that are in
 * `keep_uidls` (the server's current inventory minus what was deleted;
 * a UIDL listed k times keeps at most k of its stored copies).
 * Called after a complete session; clears any pending batch.
 */
int state_compact(struct state *st, char *const *keep_uidls,
    const size_t *keep_lens, size_t n, struct err *e);

/* Number of stored UIDLs known. */
size_t state_count(const struct state *st);

/* Slots stepped past in the UIDL table since state_open (collisions, in
 * lookups, insertions and growth): for tests, which bound the work per
 * UIDL. */
unsigned long long state_probes(const struct state *st);

/* Release the lock and free. Unsynced records are discarded. */
void state_close(struct state *st);

#endif
