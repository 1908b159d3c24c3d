/*
 * log.h - everything popfetch says to the user goes through here.
 *
 * Errors always reach stderr, one line each, prefixed "popfetch: " and the
 * account name when there is one. Every line (stdout, stderr, the trace
 * file) is built whole and written with one write(2) call of at most
 * LOG_LINE_MAX bytes, "\n" included (longer text is cut), which is below
 * PIPE_BUF: lines of the processes of -j N, which share the descriptors,
 * never interleave inside a line, on a pipe, a terminal or an O_APPEND
 * file. Whatever stdio holds for stdout is flushed before. Informational lines (stdout, or stderr
 * under --summary json) appear at -v,
 * protocol traces at -vv. Nothing here ever receives a secret: callers pass
 * text that is already redacted.
 */
#ifndef POPFETCH_LOG_H
#define POPFETCH_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_LINE_MAX 2048

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
 * clears it (or the block below). Any other line printed clears it
 * first. One write(2) each. */
void log_progress(const char *text);

/* -j N on a terminal, in the parent: n progress rows, one per running
 * account, drawn in place of what progress shows (a line or a block;
 * the cursor is left at the end of the last row), each row cut to the
 * terminal's width so that none wraps; n == 0 clears. One write(2). */
void log_progress_block(const char *const *lines, size_t n);

/* A whole line (ending with "\n", at most LOG_LINE_MAX bytes) to fd,
 * with one write(2), after clearing what progress shows: how the parent
 * of -j N prints a line an account's process relayed to it. */
void log_relayed_line(int fd, const char *line, size_t len);

/* write(2) all of buf to fd through EINTR (one call unless the system
 * writes less); errors are dropped: there is nowhere to report them. */
void log_write_all(int fd, const char *buf, size_t len);

/* -j N on a terminal, in an account's process: the lines bound for
 * stdout or stderr (fd 1 or 2, whole, "\n" included) and the progress
 * text (NULL: cleared) go to these instead, for the parent to draw
 * (run_parallel.h). The trace file and syslog are still written here.
 * NULL: back to writing them. r must outlive its use. */
struct log_relay {
	void (*line)(void *arg, int fd, const char *line, size_t len);
	void (*progress)(void *arg, const char *text);
	void *arg;
};
void log_set_relay(const struct log_relay *r);

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
