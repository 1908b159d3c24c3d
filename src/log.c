/*
 * log.c - the one place that writes to stderr. Holds the only mutable
 * global outside main.c: the verbosity.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static int level = LOG_NORMAL;
static FILE *trace;   /* $POPFETCH_TRACE: the -vv dialogue, appended */

void
log_set_level(int l)
{
	level = l;
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
	trace = fopen(path, "ae");
	return trace != NULL ? 0 : -1;
}

void
log_close_trace(void)
{
	if (trace != NULL)
		fclose(trace);
	trace = NULL;
}

/* clang's -Wformat-nonliteral wants the va_list form marked too. */
static void __attribute__((format(printf, 4, 0)))
vlog(FILE *out, const char *account, const char *kind, const char *fmt,
    va_list ap)
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
	fprintf(out, "%s\n", line);
	fflush(out);
}

void
log_error(const char *account, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stderr, account, "", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vlog(stderr, account, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog(stdout, account, "", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *account, const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_DEBUG) {
		va_start(ap, fmt);
		vlog(stderr, account, "", fmt, ap);
		va_end(ap);
	}
	if (trace != NULL) {
		va_start(ap, fmt);
		vlog(trace, account, "", fmt, ap);
		va_end(ap);
	}
}
