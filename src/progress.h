/*
 * progress.h - the progress line of a fetch on a terminal: messages and
 * bytes done of those planned, the rate and the time left, redrawn in
 * place (log_progress) at most every PROGRESS_MS and at least every
 * half second while a message comes in or the server is waited for
 * (progress_tick from pop3_set_tick). Nothing at all unless started with
 * on (stderr is a terminal, not -q): never in a pipe, a file or cron.
 *
 * Life cycle: progress_start, then any calls, then progress_end (which
 * clears the line). A struct progress that was never started, or was
 * started off, ignores every call.
 */
#ifndef POPFETCH_PROGRESS_H
#define POPFETCH_PROGRESS_H

#include <stdbool.h>

#define PROGRESS_MS 200

struct progress {
	bool on;
	const char *account;
	unsigned long total_msgs, done_msgs;
	unsigned long long total_bytes, done_bytes;
	long long start_ms, drawn_ms;
};

void progress_start(struct progress *p, const char *account, bool on,
    unsigned long msgs, unsigned long long bytes);
/* n more bytes of the message being received. */
void progress_bytes(struct progress *p, unsigned long long n);
/* A message is done (stored, or not: it is no longer to come). */
void progress_msg(struct progress *p);
/* Redraw if due (for pop3_set_tick: arg is the struct progress). */
void progress_tick(void *arg);
void progress_end(struct progress *p);

/* The line itself, for tests: "NAME: 3/10 messages, 1.2/5.0 MB,
 * 512 KB/s, 0:08 left" (rate and time left once a second has passed). */
void progress_format(const struct progress *p, long long now_ms, char *buf,
    size_t size);

#endif
