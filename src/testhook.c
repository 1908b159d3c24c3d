/*
 * testhook.c - see testhook.h. Only built into tests/popfetch_hooks.
 */
#include "autoconf.h"

#ifdef POPFETCH_TEST_HOOKS

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"
#include "util.h"

/* POPFETCH_HOOK_SLEEP=NAME:MS:N: sleep MS milliseconds at the Nth time
 * NAME is reached (a slow disk, say). */
static void
testhook_sleep(const char *name)
{
	static long seen;
	const char *c = getenv("POPFETCH_HOOK_SLEEP");
	size_t n = c ? strcspn(c, ":") : 0;
	long ms, at;
	char *end;

	if (c == NULL || c[n] != ':' || strlen(name) != n ||
	    strncmp(c, name, n) != 0)
		return;
	ms = strtol(c + n + 1, &end, 10);
	at = *end == ':' ? atol(end + 1) : 0;
	if (++seen != at || ms <= 0 || ms > 60000)
		return;
	util_sleep_ms(ms);
}

void
testhook_hit(const char *name)
{
	static char crash_name[64];
	static long crash_at = -1, seen;
	static int init;
	const char *log = getenv("POPFETCH_HOOK_LOG");

	if (!init) {
		const char *c = getenv("POPFETCH_CRASH");
		const char *colon = c ? strrchr(c, ':') : NULL;

		init = 1;
		if (colon != NULL && (size_t)(colon - c) < sizeof(crash_name)) {
			memcpy(crash_name, c, (size_t)(colon - c));
			crash_at = atol(colon + 1);
		}
	}
	if (log != NULL) {
		FILE *f = fopen(log, "a");
		if (f != NULL) {
			fprintf(f, "%s\n", name);
			fclose(f);
		}
	}
	if (crash_at > 0 && strcmp(name, crash_name) == 0 &&
	    ++seen == crash_at)
		raise(SIGKILL);
	testhook_sleep(name);
}

int
testhook_fail(const char *name)
{
	static long seen[8];
	const char *c = getenv("POPFETCH_FAIL");
	size_t n, len = strlen(name);
	long at;

	/* NAME:N[,NAME:N]...: each entry counts its own hits. */
	for (int i = 0; c != NULL && *c != '\0' && i < 8; i++) {
		n = strcspn(c, ":,");
		at = c[n] == ':' ? atol(c + n + 1) : -1;
		if (at >= 0 && n == len && strncmp(c, name, n) == 0) {
			++seen[i];
			return at == 0 || seen[i] == at ? EIO : 0;
		}
		c += strcspn(c, ",");
		c += *c == ',';
	}
	return 0;
}

int
testhook_batch(int dflt)
{
	const char *b = getenv("POPFETCH_BATCH");
	int n = b ? atoi(b) : 0;

	return n > 0 ? n : dflt;
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int testhook_unused;
#endif
