/*
 * sink.h - where messages are delivered: one small interface, one
 * implementation per store (sink_maildir.c, sink_mbox.c,
 * sink_command.c), chosen in one place (sink_open() in sink.c). fetch.c
 * drives every store the same way and names none.
 *
 * Life cycle, driven by fetch.c:
 *
 *   sink_open()                             (Maildir: create the dirs;
 *                                           mbox: nothing locked yet)
 *   s->ops->recover()                       a batch a crash left open
 *   loop over batches (at most ops->batch_max messages each, 0: any):
 *     s->ops->batch_begin()                 (mbox: lock, remember the size)
 *     loop over messages:
 *       s->ops->msg_name()                  (Maildir: the file's name, for
 *                                           the journal, before the batch)
 *       s->ops->msg_begin()
 *       s->ops->msg_write() ...             raw wire bytes (CRLF line ends);
 *                                           the sink filters them itself
 *       s->ops->msg_commit() or msg_abort()  (not yet durable, except for
 *                                           a command: its exit 0 is final)
 *     s->ops->batch_sync()                  everything committed is durable
 *                                           (file data and directory entries)
 *     or s->ops->batch_abort()              undo the batch (mbox: truncate;
 *                                           Maildir: remove the tmp/ files)
 *     s->ops->batch_done()                  the batch is recorded in the
 *                                           journal, or given up: let go
 *                                           of what it held (mbox: unlock;
 *                                           an abort or failed sync has
 *                                           unlocked already)
 *   s->ops->idle() at any time                (mbox: refresh the dotlock)
 *   s->ops->close()
 *
 * msg_commit() makes nothing durable: batch_sync() does, for the whole
 * batch at once. After batch_sync() returns 0, every message committed in
 * the batch is on disk; only then may fetch.c record it as stored and
 * DELE it. Every function returns 0 or a sysexits code with e filled in;
 * msg_commit() may also return SINK_LATER: the store declined this one
 * message for now (a command's exit 75): not stored, not a failure, the
 * batch goes on; e says why.
 *
 * A command store cannot take a message back once the command has
 * accepted it (exit 0): batch_max is 1 for it, so that fetch.c records
 * each message as soon as it is delivered; a crash between the command's
 * exit and that record delivers the one message again next run.
 *
 * Errors clean up after themselves: when msg_write() or msg_commit() fails
 * the sink has already undone the message (Maildir: tmp file removed;
 * mbox: truncated back to before its From_ line), and a msg_abort() that
 * follows is harmless; the messages committed before it are still made
 * durable by batch_sync() (unless the failure was in syncing them: then
 * the batch is undone and batch_sync() fails too). A failed batch_sync()
 * has undone the batch as far as batch_abort() would: Maildir: no file of
 * the batch is left in tmp/ or new/ (one a mail reader already moved from
 * new/ to cur/ stays, whole; the next run's recovery finds it); mbox:
 * truncated to the mark (ops->undo_final: nothing of the batch is left,
 * so the journal's batch can be closed). A Maildir file is in new/ only
 * once its data is synced, so a crash at any moment leaves in new/ or
 * cur/ only whole messages (recovery trusts them) and in tmp/ only files
 * to remove. msg_begin() outside a batch is refused (EX_SOFTWARE). A
 * batch ends with batch_sync() or batch_abort(); a batch_abort() after a
 * successful batch_sync() does nothing, so synced data is never taken
 * back. close() with a message or batch still open aborts them first
 * (mbox: truncates to the batch mark; Maildir: removes the batch's tmp/
 * files).
 */
#ifndef POPFETCH_SINK_H
#define POPFETCH_SINK_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct sink;
struct account;

/* msg_commit(): the store declined the message for now (not stored, try
 * again next run); not a sysexits code. */
#define SINK_LATER 1

/* Where an mbox batch begins: what crash recovery needs to take the
 * batch out again, and only the batch (see sink_mbox_recover.h). */
struct sink_mark {
	int set;                   /* filled by batch_begin (mbox); 0: the
	                              store needs no mark */
	off_t size;                /* the file's size before the batch */
	unsigned long long dev, ino;   /* the file; 0 0: not known */
	long long stamp;           /* the time in the batch's From_ lines;
	                              0: not known */
};

/* One message, as fetch.c knows it when it begins. */
struct sink_msg {
	const char *name;          /* from msg_name(), or NULL */
	unsigned long num;         /* its number in this session */
	const char *uidl;          /* the server's UIDL (any bytes), or NULL */
	size_t uidl_len;
	unsigned long long size;   /* the size LIST announced */
};

struct sink_ops {
	const char *kind;          /* for messages: "Maildir", "mbox",
	                              "deliver_command" */
	size_t batch_max;          /* messages per batch at most; 0: any */
	int undo_final;            /* see above (mbox) */
	/* Finish or undo what a batch a crash left open did: `mark` (NULL:
	 * none journalled) and the names its messages were to have. Sets
	 * found[i] for each name whose message is stored, whole and durable
	 * now; the rest were taken out. *warn (cleared first) may say
	 * something the user should know. NULL: nothing to do. */
	int (*recover)(struct sink *s, const struct sink_mark *mark,
	    char *const *names, size_t nnames, int *found, struct err *warn,
	    struct err *e);
	/* A new unique name for a message, journalled before the batch so
	 * that recover() can find it (Maildir); NULL op: the store needs
	 * none. Returns a new string. */
	char *(*msg_name)(struct sink *s);
	/* Start a batch. For mbox this takes the locks and fills *mark (the
	 * caller journals it before any byte is written); for the other
	 * stores *mark is left all 0. */
	int (*batch_begin)(struct sink *s, struct sink_mark *mark,
	    struct err *e);
	/* Start one message (Maildir: m->name is the file name it will have
	 * in new/; a command: its environment says the UIDL and size). */
	int (*msg_begin)(struct sink *s, const struct sink_msg *m,
	    struct err *e);
	/* Raw bytes as the server sent them (dot-unstuffed, CRLF line ends),
	 * in chunks of any size; filtering state carries across calls. */
	int (*msg_write)(struct sink *s, const char *buf, size_t len,
	    struct err *e);
	/* The message is complete: finish it, not yet durable (Maildir:
	 * the file written out in tmp/, its descriptor kept for batch_sync;
	 * mbox: end it with a blank line). */
	int (*msg_commit)(struct sink *s, struct err *e);
	/* The message failed: make it as if msg_begin never happened. */
	void (*msg_abort)(struct sink *s);
	/* Make every committed message of the batch durable (Maildir: sync
	 * every file's data, then move each into new/, then one fsync of
	 * new/; mbox: one fsync). */
	int (*batch_sync)(struct sink *s, struct err *e);
	/* Undo the batch as far as the format allows (mbox: ftruncate to the
	 * mark; Maildir: remove the committed files still in tmp/). */
	void (*batch_abort)(struct sink *s);
	/* After batch_sync and the journal's records of the batch (synced
	 * or not): what the batch held until now is let go (mbox: the
	 * locks, so nobody appends after a batch recovery might still have
	 * to take out). NULL: nothing held. Harmless when nothing is. */
	void (*batch_done)(struct sink *s);
	/* Unlock and free. */
	void (*close)(struct sink *s);
	/* Called now and then while nothing is written (between DELEs), so
	 * the store can keep its locks fresh (mbox: the dotlock's mtime,
	 * see sink_mbox_set_lock_refresh). NULL when there is nothing to
	 * do; cheap when not due. */
	void (*idle)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	void *priv;
};

/* Open the store the account names (its maildir, mbox or
 * deliver_command), as the functions below do. */
int sink_open(const struct account *a, struct sink **out, struct err *e);

/* The store's kind, for the journal's key: "maildir", "mbox", "command". */
const char *sink_kind_key(const struct account *a);

/* The store's kind, for messages: "Maildir", "mbox", "deliver_command". */
const char *sink_kind_label(const struct account *a);

/* 1 when the store is a path that can go missing (Maildir, mbox). */
int sink_is_path(const struct account *a);

/* Open a Maildir at path (creating path, cur/, new/, tmp/ as needed,
 * mode 0700). */
int sink_open_maildir(const char *path, struct sink **out, struct err *e);

/* Open an mbox at path: the parent directories are made; the file
 * (created 0600 when missing) is locked, with an fcntl lock and a
 * dotlock, waiting up to lock_timeout_ms for each, only from
 * batch_begin() to the batch's end and in recover(): never while
 * popfetch waits for the server outside a batch. */
int sink_open_mbox(const char *path, long lock_timeout_ms, struct sink **out,
    struct err *e);

/* How often (ms) an mbox sink refreshes its dotlock's mtime while it
 * holds it, so other programs never take it for stale (default 60 s).
 * For tests; s must be an mbox sink. */
void sink_mbox_set_lock_refresh(struct sink *s, long interval_ms);

/* Open a command store: each message is piped to argv (no shell; argv
 * is copied), with POPFETCH_ACCOUNT=account, POPFETCH_UIDL and
 * POPFETCH_SIZE in its environment, killed after timeout_ms. Exit 0:
 * stored; 75: SINK_LATER; anything else: EX_UNAVAILABLE (a signal too)
 * with the status and the last line the command wrote to stderr. */
int sink_open_command(char *const *argv, const char *account,
    long timeout_ms, struct sink **out, struct err *e);

/* A fresh unique Maildir file name for one message
 * (sec.M<usec>P<pid>Q<seq>.<host>; no ",S=" because the stored size is
 * only known after filtering). Q is a process-wide counter, so names are
 * unique across threads too; '/' and ':' in the host name are written
 * "\057" and "\072". Returns a new string. */
char *sink_maildir_name(void);

/* Crash recovery helpers, used by the stores' recover() (and tests) when the journal shows work that
 * was started but not recorded as finished. */

/* Where sink_maildir_recover() found a message: bits for
 * sink_maildir_sync_dirs(). */
#define SINK_MD_NEW 1u
#define SINK_MD_CUR 2u

/* Look for a message named `name` in path/new or path/cur (where a mail
 * reader may have moved it, with ":2,FLAGS" appended). Found: fsync the
 * file (the crashed run may have died before it could make its work
 * durable) and set *where to SINK_MD_NEW or SINK_MD_CUR; else *where = 0.
 * Also removes a leftover path/tmp/name. The directory entries found are
 * durable only after sink_maildir_sync_dirs() with the OR of every *where.
 * 0, or EX_IOERR when a found file cannot be synced. */
int sink_maildir_recover(const char *path, const char *name,
    unsigned *where, struct err *e);

/* fsync path/new and/or path/cur as `where` (SINK_MD_* bits) says: once
 * per directory for a whole batch of sink_maildir_recover() finds. 0 or
 * EX_IOERR. */
int sink_maildir_sync_dirs(const char *path, unsigned where, struct err *e);

/* Take out of the mbox at path what a batch begun at mark wrote and never
 * recorded, under the locks: truncate to mark.size when all after it is
 * the batch's; move data another program appended since back to the mark
 * and keep it. A missing file, or one not longer than the mark, is left
 * alone. When the file is another one now, or the bytes at the mark are
 * not the batch's, it is left as it is and *warn says so (the batch's
 * messages may then be there twice; nothing is lost). 0 or a sysexits
 * code. */
int sink_mbox_recover(const char *path, const struct sink_mark *mark,
    long lock_timeout_ms, struct err *warn, struct err *e);

#endif
