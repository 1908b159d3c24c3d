/*
 * fuzz.h - what every fuzz target in fuzz/ defines.
 *
 * A target is built two ways from the same source:
 *   - with "configure CC=clang --enable-fuzzing" it is a libFuzzer program
 *     (libFuzzer supplies main);
 *   - otherwise fuzz/replay.c supplies a main that runs every file of the
 *     target's seed corpus (or the files named on the command line)
 *     through it once: a unit test in "make check", and the way to replay
 *     a crash under gdb or valgrind.
 * A target reports a wrong result with fuzz_fail(), which aborts: to
 * libFuzzer that is a crash like any other.
 */
#ifndef POPFETCH_FUZZ_H
#define POPFETCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The target's name: its seed corpus is fuzz/corpus/NAME. */
extern const char fuzz_name[];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "fuzz_NAME: MESSAGE" and abort. */
#define fuzz_fail(...) do { \
	fprintf(stderr, "fuzz_%s: %s:%d: ", fuzz_name, __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

#define fuzz_check(cond) do { \
	if (!(cond)) \
		fuzz_fail("check failed: %s", #cond); \
} while (0)

#endif
