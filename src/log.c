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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_syslog.h"

static int level = LOG_NORMAL;
static bool info_stderr;   /* --summary json: stdout is the JSON's */
static FILE *trace;   /* $POPFETCH_TRACE: the -vv dialogue, appended */
static bool to_syslog;   /* --syslog */
static bool progress_shown;   /* a progress line is on stderr */

void
log_progress(const char *text)
{
	if (text == NULL) {
		if (progress_shown)
			fputs("\r\033[K", stderr);
		progress_shown = false;
	} else {
		fprintf(stderr, "\r%s\033[K", text);
		progress_shown = true;
	}
	fflush(stderr);
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
	/* Build the line first and write it with one call, so lines from
	 * parallel accounts never interleave. */
	char line[2048];
	int n;

	if (account != NULL)
		n = snprintf(line, sizeof(line), "popfetch: %s: %s", account,
		    kind);
	else
		n = snprintf(line, sizeof(line), "popfetch: %s", kind);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* A line goes above the progress line: clear it (the next tick
	 * draws it again). */
	if (progress_shown && (out == stderr || out == stdout))
		log_progress(NULL);
	if (out != NULL) {
		fprintf(out, "%s\n", line);
		fflush(out);
	}
	/* The trace has popfetch's own lines too, not only the dialogue. */
	if (trace != NULL && out != trace && sys >= 0) {
		fprintf(trace, "%s\n", line);
		fflush(trace);
	}
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
