/*
 * log.c - the one place that writes to stderr. Holds the only mutable
 * global outside main.c: the verbosity.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_syslog.h"

static int level = LOG_NORMAL;
static bool info_stderr;   /* --summary json: stdout is the JSON's */
static FILE *trace;   /* $POPFETCH_TRACE: the -vv dialogue, appended */
static bool to_syslog;   /* --syslog */
static int progress_rows;   /* rows of progress on stderr (0: none) */
static const struct log_relay *relay;   /* -j N: this process's lines
                                           go to its parent */

void
log_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;   /* nowhere to say it */
		buf += n;
		len -= (size_t)n;
	}
}

void
log_set_relay(const struct log_relay *r)
{
	relay = r;
}

/* Append the sequence that clears what progress shows (the cursor ends
 * at the start of its first row). */
static size_t
progress_clear(char *buf, size_t at, size_t size)
{
	static const char up[] = "\033[A\033[K", first[] = "\r\033[K";

	if (progress_rows > 0 && at + sizeof(first) <= size) {
		memcpy(buf + at, first, sizeof(first) - 1);
		at += sizeof(first) - 1;
	}
	for (int i = 1; i < progress_rows && at + sizeof(up) <= size; i++) {
		memcpy(buf + at, up, sizeof(up) - 1);
		at += sizeof(up) - 1;
	}
	progress_rows = 0;
	return at;
}

void
log_progress(const char *text)
{
	char buf[512];
	size_t n;
	int k;

	if (relay != NULL) {
		relay->progress(relay->arg, text);
		return;
	}
	if (text == NULL) {
		n = progress_clear(buf, 0, sizeof(buf));
	} else if (progress_rows > 1) {
		log_progress_block(&text, 1);
		return;
	} else {
		k = snprintf(buf, sizeof(buf), "\r%s", text);
		n = k < 0 ? 0 : (size_t)k >= sizeof(buf) - 3 ?
		    sizeof(buf) - 4 : (size_t)k;
		memcpy(buf + n, "\033[K", 3);
		n += 3;
		progress_rows = 1;
	}
	if (n > 0)
		log_write_all(STDERR_FILENO, buf, n);
}

/* The width of the terminal on stderr (80 when it does not say). */
static size_t
term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void
log_progress_block(const char *const *lines, size_t n)
{
	size_t cols = term_cols(), size = 64 + n * (cols + 8) +
	    (size_t)progress_rows * 8, at;
	char *buf = malloc(size);

	if (buf == NULL)
		return;   /* progress is not worth failing for */
	at = progress_clear(buf, 0, size);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);

		/* A row that wrapped would take two: cut it to the width,
		 * not inside a UTF-8 character. */
		if (len > cols - 1) {
			len = cols - 1;
			while (len > 0 && ((unsigned char)lines[i][len] &
			    0xc0) == 0x80)
				len--;
		}
		memcpy(buf + at, lines[i], len);
		at += len;
		memcpy(buf + at, "\033[K", 3);
		at += 3;
		if (i + 1 < n)
			buf[at++] = '\n';
	}
	progress_rows = (int)n;
	if (at > 0)
		log_write_all(STDERR_FILENO, buf, at);
	free(buf);
}

void
log_relayed_line(int fd, const char *line, size_t len)
{
	if (progress_rows > 0)
		log_progress(NULL);
	log_write_all(fd, line, len);
}

void
log_open_syslog(void)
{
	logsys_open();
	to_syslog = true;
}

void
log_close_syslog(void)
{
	if (to_syslog)
		logsys_close();
	to_syslog = false;
}

void
log_set_level(int l)
{
	level = l;
}

void
log_info_to_stderr(bool on)
{
	info_stderr = on;
}

int
log_level(void)
{
	/* A trace file needs the dialogue whatever the terminal gets. */
	return trace != NULL && level < LOG_DEBUG ? LOG_DEBUG : level;
}

int
log_open_trace(const char *path)
{
	struct stat st;
	int fd, flags, saved;

	/* 0600 whatever the umask, like every file popfetch writes: the
	 * dialogue is redacted but still names mailboxes and messages.
	 * O_NOFOLLOW: a planted symlink must not make us append to the
	 * file it points to. O_NONBLOCK: opening a FIFO (without a reader
	 * it fails with ENXIO) or a device must not hang the run; cleared
	 * once we know it is a regular file. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return errno == ENXIO ? LOG_TRACE_NOT_FILE : -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	/* An existing file of ours is used as it is: its mode is its
	 * owner's choice. One that another user made (in a shared
	 * directory, before us) is theirs to read: not written to; nor a
	 * FIFO, a device, or a file with a second name (a hard link made
	 * by someone who can read it under that name). */
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return LOG_TRACE_NOT_FILE;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return LOG_TRACE_NOT_OURS;
	}
	if (st.st_nlink != 1) {
		close(fd);
		return LOG_TRACE_LINKED;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		goto fail;
	if ((trace = fdopen(fd, "a")) == NULL)
		goto fail;
	/* Each run headed by when it began: the file collects many. */
	{
		time_t now = time(NULL);
		struct tm tm;
		char when[40];

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime_r(&now, &tm));
		fprintf(trace, "=== popfetch %s: a run at %s, pid %ld ===\n",
		    PACKAGE_VERSION, when, (long)getpid());
		fflush(trace);
	}
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

void
log_close_trace(void)
{
	if (trace != NULL)
		fclose(trace);
	trace = NULL;
}

/* clang's -Wformat-nonliteral wants the va_list form marked too.
 * sys: the line goes to syslog too (--syslog) as that kind; -1: not. */
static void __attribute__((format(printf, 5, 0)))
vlog(FILE *out, int sys, const char *account, const char *kind,
    const char *fmt, va_list ap)
{
	/* Built whole first (room kept for the "\n") and written with one
	 * write(2), so lines from parallel accounts never interleave. */
	char line[LOG_LINE_MAX];
	size_t len;
	int n;

	if (account != NULL)
		n = snprintf(line, sizeof(line) - 1, "popfetch: %s: %s",
		    account, kind);
	else
		n = snprintf(line, sizeof(line) - 1, "popfetch: %s", kind);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = 0;
	vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	len = strlen(line);
	line[len] = '\n';
	if (out == stderr || out == stdout) {
		/* What stdio holds for the stream goes first. */
		fflush(out);
		if (relay != NULL)
			relay->line(relay->arg, fileno(out), line, len + 1);
		else
			/* A line goes above the progress line: clear it
			 * (the next tick draws it again). */
			log_relayed_line(fileno(out), line, len + 1);
	} else if (out != NULL) {
		fflush(out);
		log_write_all(fileno(out), line, len + 1);
	}
	/* The trace has popfetch's own lines too, not only the dialogue. */
	if (trace != NULL && out != trace && sys >= 0) {
		fflush(trace);
		log_write_all(fileno(trace), line, len + 1);
	}
	line[len] = '\0';
	if (to_syslog && sys >= 0)
		logsys_line((enum logsys_kind)sys, line + 10);  /* "popfetch: " */
}

void
log_error(const char *account, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stderr, LOGSYS_ERROR, account, "", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vlog(stderr, LOGSYS_WARNING, account, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog(info_stderr ? stderr : stdout, LOGSYS_INFO, account, "", fmt,
	    ap);
	va_end(ap);
}

void
log_debug(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_DEBUG) {
		va_start(ap, fmt);
		vlog(stderr, -1, account, "", fmt, ap);
		va_end(ap);
	}
	if (trace != NULL) {
		va_start(ap, fmt);
		vlog(trace, -1, account, "", fmt, ap);
		va_end(ap);
	}
}
