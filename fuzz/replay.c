/*
 * replay.c - main() for a fuzz target built without libFuzzer (see
 * fuzz.h): run each input once.
 *
 *   fuzz/fuzz_NAME             every file in $TOP_SRCDIR/fuzz/corpus/NAME
 *                              (TOP_SRCDIR: set by make check; default .)
 *   fuzz/fuzz_NAME FILE...     those files (e.g. a crash libFuzzer saved)
 *
 * Each input is copied into a buffer of exactly its size, as libFuzzer
 * does, so that a read past its end is caught by ASan or valgrind.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *copy;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "fuzz_%s: %s: %s\n", fuzz_name, path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "fuzz_%s: %s: read error\n", fuzz_name, path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* Exactly len bytes (malloc(0) may return NULL: keep one byte). */
	if ((copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(copy, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("TOP_SRCDIR");
	char dir[4096], path[8192];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int bad = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad |= run_file(argv[i]) != 0;
		return bad;
	}
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top ? top : ".",
	    fuzz_name);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "fuzz_%s: %s: %s\n", fuzz_name, dir,
		    strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((names = realloc(names, cap * sizeof(*names))) == NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		bad |= run_file(path) != 0;
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		fprintf(stderr, "fuzz_%s: %s is empty\n", fuzz_name, dir);
		return 1;
	}
	printf("fuzz_%s: %zu input(s) from %s\n", fuzz_name, n, dir);
	return bad;
}
