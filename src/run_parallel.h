/*
 * run_parallel.h - -j N: up to N accounts fetched at once, each in a
 * process of its own.
 *
 * Contract:
 * - One process per running account (fork, no exec): it runs
 *   fetch_account exactly as the one-process loop does (its own
 *   connection, journal lock, journal, store; the process-wide state of
 *   proc.c and log.c is its own), sends its outcome (rc, struct err,
 *   struct fetch_stats, wall time) to the parent through a pipe, and
 *   exits. The parent never fetches.
 * - At most jobs processes run. Accounts start in configuration order,
 *   each as soon as a slot is free, except that two accounts with the
 *   same store (run_store_id) never run at once: the first waiting
 *   account whose store is not in use starts.
 * - done(a, result, arg) is called in the parent as each account ends, in
 *   the order they end; res[i] holds account i's outcome afterwards (for
 *   every i with want[i]). An account whose process ended without an
 *   outcome (killed by a signal, or exited early) failed with EX_SOFTWARE
 *   and a message naming the signal or the status; one that ended with
 *   a status other than 0 after its outcome (a checker's report) failed
 *   the same way when it had succeeded. fork or pipe failing fails the
 *   account with EX_OSERR.
 * - With o->progress (a terminal), each process sends its progress text
 *   and its stdout/stderr lines to the parent (log_set_relay), which
 *   draws one progress row per running account below the lines
 *   (log_progress_block); otherwise the processes write their lines
 *   themselves, each line one write(2) (log.h).
 * - SIGINT, SIGTERM and SIGHUP (those not ignored) reaching the parent
 *   are sent on to every running process, no other account starts, and
 *   once every process has ended the parent raises the signal again: it
 *   dies of it as a one-process run would, after its children, and
 *   run_parallel does not return. (Ctrl-C at a terminal reaches the
 *   children directly too: they share the foreground process group.)
 */
#ifndef POPFETCH_RUN_PARALLEL_H
#define POPFETCH_RUN_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "fetch.h"
#include "util.h"

struct run_result {
	bool ran;                  /* the account was run */
	int rc;                    /* fetch_account's return */
	struct fetch_stats stats;
	struct err e;              /* rc != 0, or stats.locked: the text */
	double seconds;            /* wall time of the account */
	time_t finished;           /* when it ended (wall clock) */
};

typedef void run_done_fn(const struct account *a,
    const struct run_result *r, void *arg);

void run_parallel(const struct config *cfg, const bool *want,
    unsigned jobs, const struct fetch_opts *o, struct run_result *res,
    run_done_fn *done, void *arg);

/* -j's argument: a decimal count, 0 meaning one per processor online
 * (at least 1). Returns 0 with *jobs >= 1, or -1 for anything else
 * (negative, not a number, trailing characters, above 100000). */
int run_jobs_parse(const char *text, unsigned *jobs);

/* What identifies a's store, so that two accounts writing to one are
 * never run at once: the real path of the Maildir or mbox (symbolic
 * links, "..", "." resolved), or, when it does not exist yet, the real
 * path of its nearest existing ancestor followed by the rest as written.
 * NULL for a deliver_command: delivery programs lock for themselves
 * (procmail, maildrop, an LMTP client), so accounts with the same command
 * may run at once. A new string. */
char *run_store_id(const struct account *a);

#endif
