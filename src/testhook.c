/*
 * testhook.c - see testhook.h. Only built into tests/popfetch_hooks.
 */
#include "autoconf.h"

#ifdef POPFETCH_TEST_HOOKS

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

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
