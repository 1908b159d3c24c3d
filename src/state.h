/*
 * state.h - what popfetch remembers about one server mailbox (host, port,
 * user) read into one store: which UIDLs it has stored (and when, and
 * since when the server stopped listing them), and enough about
 * unfinished work to undo or complete it after a crash.
 *
 * On disk, in the account's state_dir:
 *   KEY.state   append-only journal, one record per line (see state.c)
 *   KEY.lock    locked for the whole run: one popfetch per journal
 * KEY (state_key) names the pair, not the account, so renaming an account
 * keeps its state, and two accounts reading one mailbox into two stores
 * (or two mailboxes into one store) never share a journal.
 *
 * The lock is an fcntl (POSIX) write lock on the whole of KEY.lock, taken
 * with F_SETLK (never waiting), so it holds between machines that share
 * state_dir over NFS, where flock is at best emulated. It relies on:
 * - the file server honouring fcntl locks: NLM (lockd, statd) for NFSv3,
 *   built into the protocol for NFSv4. A mount with "nolock" or
 *   "local_lock=posix"/"local_lock=all" keeps locks on the client, and
 *   two machines then both run the account: do not share state_dir so.
 * - no clock: the lock is not a file's age or contents. A machine that
 *   dies holding it loses it through the server's recovery (NFSv4: its
 *   lease expires, 90 s by default; NFSv3: statd's reboot notice, or an
 *   administrator clearing it), not through popfetch.
 * - one descriptor of KEY.lock per process: an fcntl lock belongs to the
 *   process (a second state_open of the same key in one process would
 *   not be refused) and goes when the process closes ANY descriptor of
 *   that file. So nothing but state_open/state_close opens KEY.lock
 *   (state_peek does not), a process opens a journal at most once at a
 *   time (the accounts of one configuration never share a key:
 *   config.c's pairs_check), and a forked child does not inherit the
 *   lock (a child that works on an account takes its own).
 * The older per-user@host journal is adopted under LEGACY.lock, the same
 * kind of lock, another file.
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
#include <stdint.h>
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
	bool *intent_hold;    /* the file came short: held if stored */
};

/*
 * The journal's key: "<user>@<host>,<port>,<kind>-<hash>" where host is
 * lowercased, user@host has every byte outside [A-Za-z0-9._@+-] written
 * as %XX, kind is "maildir" or "mbox" and hash is the 64-bit FNV-1a of
 * the store's path (as configured, ~ expanded), 16 lowercase hex digits.
 * Stable across machines and versions. Returns a new string.
 */
char *state_key(const char *host, int port, const char *user,
    const char *store_kind, const char *store_path);

/* The key of the journal older versions kept per user@host (escaped as
 * above, host as written). Returns a new string. */
char *state_legacy_key(const char *host, const char *user);

/*
 * Create dir if needed, take KEY.lock without waiting (EX_TEMPFAIL with a
 * message naming the lock file when another process holds it, and
 * *locked set true when locked is not NULL), and load the
 * journal (a torn last line from a crash is cut off). EX_CANTCREAT or
 * EX_IOERR when the directory or files cannot be used, EX_DATAERR when
 * the journal is unreadable garbage.
 *
 * legacy_key (may be NULL): when KEY.state does not exist yet and
 * LEGACY.state does, it is renamed to KEY.state when legacy_adopt (the
 * account is the only one the old journal can belong to), else to
 * LEGACY.state.unused, under LEGACY.lock (EX_TEMPFAIL when held);
 * state_legacy() tells which happened.
 */
int state_open(const char *dir, const char *key, const char *legacy_key,
    bool legacy_adopt, struct state **out, bool *locked, struct err *e);

/*
 * Load the journal to look at it (--dry-run, --status): no directory or
 * file is created, no lock taken, nothing is written (state_sync fails);
 * a torn last record is ignored, not cut; an older per-user@host journal
 * is read where state_open would adopt it. A journal that does not exist
 * is an empty state. A concurrent run may be changing the journal: what
 * this shows can be a moment old. EX_IOERR, EX_DATAERR.
 */
int state_peek(const char *dir, const char *key, const char *legacy_key,
    bool legacy_adopt, struct state **out, struct err *e);

/* The journal's path (for messages). */
const char *state_path(const struct state *st);

/* What state_open did with an older per-user@host journal: NULL when
 * nothing, else the path it now has; *adopted true when it became this
 * journal. */
const char *state_legacy(const struct state *st, bool *adopted);

/*
 * The set of UIDLs (strset.h) the journal's stored ones are in. The
 * inventory interns the server's UIDLs into it (pop3_uidl), so a UIDL is
 * kept once however often it is listed and stored; one that is listed
 * only counts as stored for nothing below. Valid until state_close.
 */
struct strset *state_uidls(struct state *st);

/* The bytes of reference ref of state_uidls (a NUL follows them), *len
 * (may be NULL) their count; NULL (and 0) for ref 0, a message without a UIDL. */
const char *state_uidl(const struct state *st, uint32_t ref, size_t *len);

/* 1 when uidl (len bytes, any bytes allowed) is recorded as stored. */
int state_is_stored(const struct state *st, const char *uidl, size_t len);

/* 1 when uidl is stored, with *when the time it was first stored (a
 * UIDL stored more than once keeps the first copy's time). */
int state_stored_at(const struct state *st, const char *uidl, size_t len,
    long long *when);

/* 1 when a stored copy of uidl is held: never to be deleted. */
int state_held(const struct state *st, const char *uidl, size_t len);

/*
 * For one occurrence of uidl in the server's inventory, in order: 1 when
 * a stored copy is left to match it (and take that copy), 0 when this
 * occurrence must be fetched. A server may give several messages one
 * UIDL; each stored copy covers one of them, so a run cut short between
 * two such messages neither refetches the first nor skips the second.
 */
int state_claim(struct state *st, const char *uidl, size_t len);

/*
 * The same questions and marks by reference (a UIDL of state_uidls, as
 * the inventory holds it; 0, none, is never stored): no lookup, which is
 * most of a large mailbox's incremental run otherwise.
 */
int state_claim_ref(struct state *st, uint32_t ref);
int state_held_ref(const struct state *st, uint32_t ref);
int state_stored_at_ref(const struct state *st, uint32_t ref,
    long long *when);
void state_mark_ref(struct state *st, uint32_t ref, bool gone);

/* A new session's inventory: every stored copy is unmatched again. */
void state_claims_reset(struct state *st);

/* The batch a crash left open (pending->open false when none). */
const struct state_pending *state_pending(const struct state *st);

/* Journal records; they are buffered until state_sync(). */
/* A batch begins: "M" with the mark when mark->set (mbox), else "B". */
void state_begin(struct state *st, const struct sink_mark *mark);
void state_begin_maildir(struct state *st);
void state_begin_mbox(struct state *st, const struct sink_mark *mark);
void state_intent(struct state *st, const char *uidl, size_t len,
    const char *name);
/* The message fetched for this occurrence of uidl is stored. hold: it
 * must never be deleted from the server (its body came short). */
void state_stored(struct state *st, const char *uidl, size_t len,
    bool hold);
/* Crash recovery found a stored copy of uidl (not yet matched); hold as
 * its intent said. Write these after state_abandon(). */
void state_recovered(struct state *st, const char *uidl, size_t len,
    bool hold);
/* The message of intent <name> came shorter than announced: journal it
 * (and sync) before its file can be found by a recovery, so that a
 * recovered copy is held too. */
void state_hold_intent(struct state *st, const char *name);
void state_commit(struct state *st);
/* Close the open batch without counting its stored records: after a
 * crash (recovery then records what it found), or after a rolled-back
 * batch. state_pending() stays readable until close or compaction. */
void state_abandon(struct state *st);

/* Write the buffered records and fsync the journal. */
int state_sync(struct state *st, struct err *e);

/*
 * Rewrite the journal atomically after a complete session. `listed`: the
 * server's inventory minus what this session deleted (a UIDL listed k
 * times keeps at most k of its stored copies, and is marked present).
 * `gone`: the UIDLs this session deleted (QUIT confirmed); their records
 * go unless still listed. Every other record stays, marked absent since
 * now unless already marked, and goes once absent for forget_after
 * seconds: a server that hides a message once (or lists nothing once)
 * must not make popfetch fetch it again. Clears any pending batch.
 */
int state_compact(struct state *st, char *const *listed,
    const size_t *listed_lens, size_t nlisted, char *const *gone,
    const size_t *gone_lens, size_t ngone, long long forget_after,
    struct err *e);

/*
 * The same in steps, without arrays of the inventory: mark each listed
 * occurrence and each deleted one (any order; UIDLs not stored are
 * ignored), then compact. The marks are cleared by state_compact_marked,
 * whatever it returns. O(n) in the listed messages and the records.
 */
void state_mark_listed(struct state *st, const char *uidl, size_t len);
void state_mark_gone(struct state *st, const char *uidl, size_t len);
int state_compact_marked(struct state *st, long long forget_after,
    struct err *e);

/* Forget every record (a destination that no longer exists): the
 * journal is rewritten empty, durably, as by state_compact. The set of
 * UIDLs is emptied too: no reference from it may be held (call it
 * before an inventory is made). */
int state_forget_all(struct state *st, struct err *e);

/* When the journal was last written (its mtime, seconds); 0 when there
 * is no journal file (a peek at one that does not exist). */
long long state_mtime(const struct state *st);

/* Number of stored UIDLs known. */
size_t state_count(const struct state *st);

/* Slots stepped past in the UIDL table since state_open (collisions, in
 * lookups, insertions and growth): for tests, which bound the work per
 * UIDL. */
unsigned long long state_probes(const struct state *st);

/* Release the lock and free. Unsynced records are discarded. */
void state_close(struct state *st);

#endif
