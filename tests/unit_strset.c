/*
 * unit_strset.c - the set of byte strings (strset.c): one reference per
 * distinct string, its bytes back exactly (any bytes, any length, the
 * length byte's edges, strings longer than a block), pointers and
 * records that never move, a bounded number of probes, clear.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strset.h"
#include "unit.h"
#include "util.h"

#define MANY 100000

/* The bytes of ref are s[0..len), a NUL after them. */
static void
check_str(const struct strset *set, uint32_t ref, const char *s, size_t len)
{
	size_t n = 0;
	const char *p = strset_str(set, ref, &n);

	CHECK(n == len);
	if (n == len)
		CHECK(memcmp(p, s, len) == 0 && p[len] == '\0');
}

static void
test_basic(void)
{
	struct strset *set = strset_new(8);
	static const char nul[] = "a\0b";
	uint32_t a, b, c, e;
	int added = -1;
	uint32_t *rec;

	CHECK(strset_find(set, "x", 1) == 0);   /* empty: no index yet */
	a = strset_add(set, "alpha", 5, &added);
	CHECK(a == 1 && added == 1);
	b = strset_add(set, "alph", 4, &added);
	CHECK(b == 2 && added == 1);
	CHECK(strset_add(set, "alpha", 5, &added) == a && added == 0);
	c = strset_add(set, nul, 3, NULL);
	CHECK(c == 3 && strset_find(set, "a", 1) == 0);
	CHECK(strset_find(set, nul, 3) == c);
	e = strset_add(set, "", 0, NULL);
	CHECK(e == 4 && strset_find(set, "", 0) == e);
	check_str(set, a, "alpha", 5);
	check_str(set, b, "alph", 4);
	check_str(set, c, nul, 3);
	check_str(set, e, "", 0);
	CHECK(strset_count(set) == 4);
	/* Records: zeroed, 4-aligned, the owner's to write. */
	rec = strset_rec(set, b);
	CHECK(((uintptr_t)rec & 3) == 0 && rec[0] == 0 && rec[1] == 0);
	rec[0] = 0xdeadbeef;
	rec[1] = 7;
	rec = strset_rec(set, a);
	CHECK(rec[0] == 0 && rec[1] == 0);
	check_str(set, b, "alph", 4);   /* the record is not the bytes */
	rec = strset_rec(set, b);
	CHECK(rec[0] == 0xdeadbeef && rec[1] == 7);
	strset_clear(set);
	CHECK(strset_count(set) == 0 && strset_find(set, "alpha", 5) == 0);
	CHECK(strset_add(set, "beta", 4, NULL) == 1);
	check_str(set, 1, "beta", 4);
	strset_free(set);
	strset_free(NULL);
	/* No record at all. */
	set = strset_new(0);
	CHECK(strset_add(set, "z", 1, NULL) == 1 && strset_rec(set, 1) == NULL);
	check_str(set, 1, "z", 1);
	strset_free(set);
}

/* Lengths around the one-byte length's end and the block's size, and
 * far past it; bytes of every value. */
static void
test_lengths(void)
{
	static const size_t lens[] = { 1, 253, 254, 255, 256, 1023, 65530,
	    65535, 65536, 65537, 150 * 1024, 3 };
	enum { NL = sizeof(lens) / sizeof(lens[0]) };
	struct strset *set = strset_new(4);
	char *buf[NL];
	uint32_t ref[NL];

	for (size_t i = 0; i < NL; i++) {
		buf[i] = xmalloc(lens[i]);
		for (size_t k = 0; k < lens[i]; k++)
			buf[i][k] = (char)(k * 7 + i);
		ref[i] = strset_add(set, buf[i], lens[i], NULL);
		CHECK(ref[i] == (i == 0 ? 1 : i + 2));   /* "s" is 2 */
		/* Short ones between the long ones share blocks. */
		strset_add(set, "s", 1, NULL);
	}
	for (size_t i = 0; i < NL; i++) {
		check_str(set, ref[i], buf[i], lens[i]);
		CHECK(strset_find(set, buf[i], lens[i]) == ref[i]);
		if (lens[i] > 1)
			CHECK(strset_find(set, buf[i], lens[i] - 1) == 0);
		free(buf[i]);
	}
	strset_free(set);
}

/* MANY strings: each found again with its own reference, the first
 * one's bytes and record where they were, and about two probes per
 * string in all (lookups, insertions and growth); a bound of 8 leaves
 * room, while a set that probed one slot per string already there would
 * take billions. */
static void
test_many(void)
{
	struct strset *set = strset_new(8);
	char u[32];
	const char *first;
	uint32_t *rec;
	size_t bad = 0;

	first = strset_str(set, strset_add(set, "first", 5, NULL), NULL);
	rec = strset_rec(set, 1);
	rec[1] = 42;
	for (int i = 0; i < MANY; i++) {
		int n = snprintf(u, sizeof(u), "%08x%08x",
		    (unsigned)i * 2654435761U, (unsigned)i);

		bad += strset_add(set, u, (size_t)n, NULL) != (uint32_t)i + 2;
	}
	CHECK(bad == 0);
	for (int i = 0; i < MANY; i++) {
		int n = snprintf(u, sizeof(u), "%08x%08x",
		    (unsigned)i * 2654435761U, (unsigned)i);

		bad += strset_find(set, u, (size_t)n) != (uint32_t)i + 2;
	}
	CHECK(bad == 0);
	CHECK(strset_count(set) == MANY + 1);
	CHECK(strset_str(set, 1, NULL) == first && strcmp(first, "first") == 0);
	CHECK(strset_rec(set, 1) == (void *)rec && rec[1] == 42);
	if (strset_probes(set) >= 8ULL * MANY)
		fprintf(stderr, "unit_strset: %llu probes for %d strings\n",
		    strset_probes(set), MANY);
	CHECK(strset_probes(set) < 8ULL * MANY);
	strset_free(set);
}

int
main(void)
{
	test_basic();
	test_lengths();
	test_many();
	return unit_done("unit_strset");
}
