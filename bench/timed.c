/*
 * bench/timed.c - timed RESULT CMD [ARG...]: run CMD, write one line to
 * RESULT: "WALL CPU RSS RC".
 *
 * WALL: seconds from just before the fork to the child's exit
 * (CLOCK_MONOTONIC). CPU: user + system seconds of the child and of every
 * descendant it waited for (wait4's rusage). RSS: the largest peak
 * resident set among them in KiB (ru_maxrss). RC: the exit status, 128 + N
 * for signal N. Exits with RC.
 *
 * A C program rather than a script: ru_maxrss survives execve, so a child
 * forked from a Python wrapper would report the interpreter's memory as
 * its own peak; forked from this one it starts at about a megabyte.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status, rc;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: timed RESULT CMD [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("timed: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "timed: %s: cannot run\n", argv[2]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("timed: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%.4f %.4f %ld %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss, rc) < 0 ||
	    fclose(f) != 0) {
		perror("timed: result file");
		return 2;
	}
	return rc;
}
