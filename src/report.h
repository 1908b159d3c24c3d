/*
 * report.h - what a run did, for programs: the JSON summary (--summary
 * json, --summary-file) and the Prometheus textfile-collector metrics
 * (--metrics-file), and writing either file atomically.
 *
 * Contract:
 * - The formatters are pure: they return a new string (free it) and
 *   touch no file; the same input gives the same bytes.
 * - Every string that comes from outside (account names, error messages)
 *   is written valid: JSON strings are UTF-8 with '"', '\\' and every
 *   control character (U+0000-U+001F, U+007F) escaped as \u00XX (no short
 *   forms), and each byte that is not part of a well-formed UTF-8
 *   sequence (overlong, surrogate, above U+10FFFF, cut short) replaced by
 *   \ufffd. Prometheus label values escape '\\', '"' and newline as the
 *   text format says; other control bytes and malformed UTF-8 become
 *   U+FFFD (the format allows neither).
 * - Counts a run never learned are null in JSON and absent in the
 *   metrics, never 0.
 * - report_write_atomic replaces a file so that a reader sees the old
 *   content or the new, never a part: a temporary file in the same
 *   directory, fsync, rename, fsync of the directory.
 */
#ifndef POPFETCH_REPORT_H
#define POPFETCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "fetch.h"
#include "util.h"

struct report_account {
	char *name;
	int exit_code;                 /* 0 or a sysexits code */
	char *error;                   /* NULL, or the message printed
	                                  after "popfetch: NAME: " */
	bool known;                    /* the inventory was read: the
	                                  counts below were learned */
	unsigned long server_messages;
	unsigned long long server_bytes;
	unsigned long fetched;         /* stored by this run */
	unsigned long long fetched_bytes;
	unsigned long skipped;         /* over max_size, beyond max_messages
	                                  or max_bytes, unretrievable */
	unsigned long deleted;         /* DELEs confirmed by QUIT */
	double seconds;                /* wall time of this account */
	time_t finished;               /* when its run ended (wall clock) */
};

struct report_run {
	time_t started;                /* wall clock, when the run began */
	double seconds;                /* wall time of the whole run */
	int exit_code;                 /* popfetch's exit status */
	struct report_account *accounts;
	size_t naccounts;
};

/* Append one account's outcome (copies name and error; error NULL when
 * rc is 0). s->inventory says whether the counts were learned. */
void report_add(struct report_run *r, const char *name, int rc,
    const char *error, const struct fetch_stats *s, double seconds,
    time_t finished);
void report_free(struct report_run *r);

/* The JSON summary: one object, no newline inside, "\n" at the end. */
char *report_json(const struct report_run *r);

/*
 * The metrics file. prev is the previous file's content (NULL: none);
 * names are the configured accounts, in order. Accounts of r get this
 * run's samples, popfetch_last_success_timestamp_seconds carried from
 * prev when they failed (absent if prev has none); configured accounts
 * not in r keep their samples of prev; samples in prev of accounts no
 * longer configured, of other metrics or with other labels are dropped.
 * Lines of prev that do not parse are ignored. Metrics in a fixed order,
 * each with its # HELP and # TYPE lines once, accounts in names' order.
 */
char *report_metrics(const struct report_run *r, const char *prev,
    char *const *names, size_t nnames);

/* JSON and Prometheus string escaping, appended to *buf (malloc'd, may
 * be NULL) of length *len; exposed for the unit tests. */
void report_json_str(char **buf, size_t *len, const char *s);
void report_prom_label(char **buf, size_t *len, const char *s);

/*
 * Replace path with data[0..len) atomically (see above). The file keeps
 * the mode of the file it replaces (a symlink at path is replaced, not
 * followed); a new one is 0644. Returns 0, or EX_CANTCREAT (the
 * temporary file cannot be created) or EX_IOERR (write, fsync, rename)
 * with e naming path; no temporary file is left behind.
 */
int report_write_atomic(const char *path, const char *data, size_t len,
    struct err *e);

/* --summary-file and --metrics-file: format and write atomically; the
 * metrics carry over from the file's previous content (report_metrics)
 * for the accounts of cfg. Errors as report_write_atomic. */
int report_summary_file(const struct report_run *r, const char *path,
    struct err *e);
int report_metrics_file(const struct report_run *r, const char *path,
    const struct config *cfg, struct err *e);

/* Read a whole file into a new NUL-terminated string (a NUL inside ends
 * it). NULL when it cannot be read (missing, unreadable, over 16 MB). */
char *report_read_file(const char *path);

#endif
