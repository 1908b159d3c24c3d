/*
 * unit.h - the smallest test harness that can fail: CHECK records a failure
 * with file:line and keeps going; unit_done() prints the tally and returns
 * the exit status automake expects (0 pass, 1 fail).
 */
#ifndef POPFETCH_UNIT_H
#define POPFETCH_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	unit_checks++; \
	if (!g_ || !w_ || strcmp(g_, w_) != 0) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, \
		    __LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} \
} while (0)

#define CHECK_MEM(got, glen, want, wlen) do { \
	unit_checks++; \
	if ((glen) != (wlen) || memcmp((got), (want), (wlen)) != 0) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: bytes differ (got %zu, want %zu)\n", \
		    __FILE__, __LINE__, (size_t)(glen), (size_t)(wlen)); \
	} \
} while (0)

static inline int unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
