/*
 * syncs.c - how to make a batch of Maildir files durable: the candidates
 * measured on the file system of DIR (bench/syncs.sh builds and runs it).
 *
 *   syncs MODE DIR N SIZE BATCH
 *
 * Writes N files of SIZE bytes into DIR/tmp in batches of BATCH, makes
 * each batch durable by MODE, renames its files into DIR/new and fsyncs
 * DIR/new once per batch, as popfetch does. Prints the wall seconds.
 *   each      fsync right after each file is written (popfetch before)
 *   end       write the batch, then fsync each file, in order
 *   syncfs    write the batch, then one syncfs() of the file system
 *   sfr       write the batch, sync_file_range(WRITE) on each file, then
 *             fsync each
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *mode, *dir;
	int n, size, batch, *fds;
	char *buf, path[4096], to[4096];
	struct timespec t0, t1;

	if (argc != 6)
		return fprintf(stderr, "usage: syncs MODE DIR N SIZE BATCH\n"), 2;
	mode = argv[1];
	dir = argv[2];
	n = atoi(argv[3]);
	size = atoi(argv[4]);
	batch = atoi(argv[5]);
	buf = malloc((size_t)size);
	fds = calloc((size_t)batch, sizeof(int));
	memset(buf, 'x', (size_t)size);
	snprintf(path, sizeof(path), "%s/new", dir);
	int dfd = open(path, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die(path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int b = 0; b < n; b += batch) {
		int k = n - b < batch ? n - b : batch;

		for (int i = 0; i < k; i++) {
			snprintf(path, sizeof(path), "%s/tmp/m%d", dir, b + i);
			fds[i] = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fds[i] < 0 || write(fds[i], buf, (size_t)size) != size)
				die(path);
			if (strcmp(mode, "each") == 0 && fsync(fds[i]) != 0)
				die("fsync");
		}
		if (strcmp(mode, "sfr") == 0)
			for (int i = 0; i < k; i++)
				if (sync_file_range(fds[i], 0, 0,
				    SYNC_FILE_RANGE_WRITE) != 0)
					die("sync_file_range");
		if (strcmp(mode, "syncfs") == 0 && syncfs(fds[0]) != 0)
			die("syncfs");
		for (int i = 0; i < k; i++) {
			if ((strcmp(mode, "end") == 0 ||
			    strcmp(mode, "sfr") == 0) && fsync(fds[i]) != 0)
				die("fsync");
			if (close(fds[i]) != 0)
				die("close");
			snprintf(path, sizeof(path), "%s/tmp/m%d", dir, b + i);
			snprintf(to, sizeof(to), "%s/new/m%d", dir, b + i);
			if (rename(path, to) != 0)
				die("rename");
		}
		if (fsync(dfd) != 0)
			die("fsync new/");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(buf);
	free(fds);
	return 0;
}
