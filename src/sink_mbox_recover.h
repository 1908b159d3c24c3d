/*
 * sink_mbox_recover.h - what an interrupted mbox batch left behind, and taking
 * it out again without taking anything else with it.
 *
 * A batch appends messages after a mark (the file's size when it began),
 * each after the batch's own From_ line. If popfetch dies before the batch
 * is recorded, the next run must remove those bytes, or the messages would
 * be stored twice (they are fetched again) and a half-written one would
 * stay visible. But between the crash and that run another program may
 * have appended mail (a local delivery agent, once popfetch's locks were
 * gone), or rewritten the file (a mail reader). Only bytes that are
 * provably the batch's are removed.
 */
#ifndef POPFETCH_MBOX_RECOVER_H
#define POPFETCH_MBOX_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

enum mbox_tail {
	MBOX_TAIL_OURS,		/* everything after the mark is the batch's */
	MBOX_TAIL_FOREIGN,	/* the batch's bytes, then another From_ line */
	MBOX_TAIL_CHANGED	/* the mark does not start the batch's bytes */
};

/* The batch's From_ line for stamp (seconds since the epoch, UTC):
 * "From MAILER-DAEMON Fri Nov 27 03:21:19 2026\n". False (and a line
 * that matches nothing) for a stamp outside years 1000-9999. */
bool mbox_from_line(long long stamp, char *out, size_t outsize);

/* The same with another one-word sender (no space, tab, LF or NUL): the
 * From_ line of one message of the batch. Every From_ line of a batch
 * has its date; recovery (below) takes any sender with it. */
bool mbox_from_line_for(const char *sender, long long stamp, char *out,
    size_t outsize);

/*
 * Classify the bytes of fd from mark to size (size > mark). They must
 * start with the batch's From_ line, after a "\n" when the file did not
 * end with one (*nl = 1 then): else MBOX_TAIL_CHANGED. The first later
 * line that starts with "From " and is not the batch's From_ line (mboxrd
 * quotes every such line inside a message) begins foreign data; so does
 * a From_ line glued to the end of a line the crash cut ("From ", an
 * address, spaces, an asctime() date, a year before the line's end), if
 * no line of the batch's follows it. Its offset goes to *foreign. stamp
 * 0 (a journal without it): any From_ line of popfetch's own layout
 * counts as the batch's. A stamp no clock makes: MBOX_TAIL_CHANGED.
 * 0 or EX_IOERR.
 */
int mbox_tail_scan(int fd, off_t mark, off_t size, long long stamp,
    enum mbox_tail *kind, off_t *foreign, int *nl, struct err *e);

/*
 * Move the bytes [from, size) of fd down to `to` (after a "\n" when nl),
 * cut the file after them and fsync it: the batch's bytes between go,
 * the foreign ones stay. fd may be O_APPEND (cleared here). A crash in
 * the middle leaves foreign bytes twice, never fewer. 0 or EX_IOERR.
 */
int mbox_tail_move(int fd, off_t from, off_t to, off_t size, int nl,
    struct err *e);

#endif
