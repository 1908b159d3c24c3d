/*
 * log.h - everything popfetch says to the user goes through here.
 *
 * Errors always reach stderr, one line each, prefixed "popfetch: " and the
 * account name when there is one. Informational lines (stdout, or stderr
 * under --summary json) appear at -v,
 * protocol traces at -vv. Nothing here ever receives a secret: callers pass
 * text that is already redacted.
 */
#ifndef POPFETCH_LOG_H
#define POPFETCH_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_QUIET = -1,   /* -q: errors only, no warnings */
	LOG_NORMAL = 0,   /* errors and warnings */
	LOG_VERBOSE = 1,  /* -v: a line per account and per message */
	LOG_DEBUG = 2     /* -vv: the POP3 dialogue, redacted */
};

void log_set_level(int level);
/* Send the -v lines to stderr instead of stdout (--summary json: stdout
 * holds nothing but the JSON). */
void log_info_to_stderr(bool on);
/* The effective level: LOG_DEBUG when a trace file is open. */
int log_level(void);

/* Append the -vv dialogue (already redacted) to path as well, whatever
 * the verbosity: set from $POPFETCH_TRACE, for debugging cron runs.
 * A new file is created 0600 whatever the umask; an existing one is
 * appended to with its mode unchanged; a symlink is not followed (-1,
 * errno ELOOP). Returns 0, -1 with errno, or (nothing written to path)
 * LOG_TRACE_NOT_OURS when path is a regular file another user owns,
 * LOG_TRACE_NOT_FILE when it is not a regular file (a FIFO, a device),
 * LOG_TRACE_LINKED when it has more than one hard link. */
#define LOG_TRACE_NOT_OURS	(-2)
#define LOG_TRACE_NOT_FILE	(-3)
#define LOG_TRACE_LINKED	(-4)
int log_open_trace(const char *path);
void log_close_trace(void);

/* The progress line on stderr (a terminal; see progress.h): drawn in
 * place, "\r" and the text and a clear to the end of the line; NULL
 * clears it. Any other line printed clears it first. */
void log_progress(const char *text);

/* --syslog: from now on errors, warnings and (at -v) the -v lines go to
 * syslog too (facility mail, ident popfetch, with the pid), without the
 * "popfetch: " prefix. */
void log_open_syslog(void);
void log_close_syslog(void);

/* account may be NULL. Errors, warnings and -v lines also go to the
 * trace file when one is open. */
void log_error(const char *account, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const char *account, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_info(const char *account, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_debug(const char *account, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
