/*
 * unit_sink.c - the Maildir and mbox stores, on a real file system in a
 * fresh temporary directory: layout, exact bytes, rollback on abort and
 * on write errors, locking against another process, crash recovery.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sink_mbox_recover.h"
#include "sink.h"
#include "unit.h"
#include "util.h"

static char topdir[] = "/tmp/unit_sink.XXXXXX";

static char *
tpath(const char *rel)
{
	return xasprintf("%s/%s", topdir, rel);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	long n;

	*len = 0;
	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		p = xmalloc((size_t)n + 1);
		*len = fread(p, 1, (size_t)n, fp);
		p[*len] = '\0';
	}
	fclose(fp);
	return p;
}

static void
spew(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(util_write_all(fd, buf, len) == 0);
	close(fd);
}

static off_t
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Entries of a directory other than . and ..; the first one's name is
 * copied to first (when not NULL). */
static int
count_entries(const char *dir, char *first, size_t firstsize)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, firstsize, "%s", d->d_name);
	}
	closedir(dp);
	return n;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Begin a message known only by its name (what Maildir uses). */
static int
begin_msg(struct sink *s, const char *name, struct err *e)
{
	struct sink_msg m;

	memset(&m, 0, sizeof(m));
	m.name = name;
	return s->ops->msg_begin(s, &m, e);
}

/* Deliver one message, written in chunks of `step` bytes. */
static int
deliver(struct sink *s, const char *name, const char *body, size_t len,
    size_t step, struct err *e)
{
	int rc;

	if ((rc = begin_msg(s, name, e)) != 0)
		return rc;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		if ((rc = s->ops->msg_write(s, body + off, n, e)) != 0) {
			s->ops->msg_abort(s);
			return rc;
		}
	}
	return s->ops->msg_commit(s, e);
}

/* ---- Maildir --------------------------------------------------------- */

static void
test_maildir_create(void)
{
	char *md = tpath("deep/er/Maildir");
	char *sub[3] = { tpath("deep/er/Maildir/cur"),
	    tpath("deep/er/Maildir/new"), tpath("deep/er/Maildir/tmp") };
	struct sink *s = NULL;
	struct err e;
	struct stat st;

	err_clear(&e);
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	CHECK(s != NULL);
	for (int i = 0; i < 3; i++) {
		CHECK(stat(sub[i], &st) == 0 && S_ISDIR(st.st_mode));
		CHECK((st.st_mode & 0777) == 0700);
		free(sub[i]);
	}
	if (s != NULL)
		s->ops->close(s);
	/* Opening an existing Maildir again is fine. */
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	if (s != NULL)
		s->ops->close(s);
	free(md);

	/* A file where the Maildir should be. */
	md = tpath("notadir");
	spew(md, "x", 1);
	CHECK(sink_open_maildir(md, &s, &e) == EX_CANTCREAT);
	CHECK(s == NULL);
	CHECK(strstr(e.msg, md) != NULL);
	free(md);

	/* A directory we may not write to (root may write anywhere). */
	if (geteuid() != 0) {
		char *ro = tpath("readonly");

		md = tpath("readonly/Maildir");
		CHECK(mkdir(ro, 0500) == 0);
		CHECK(sink_open_maildir(md, &s, &e) == EX_CANTCREAT);
		CHECK(sink_open_mbox(md, 100, &s, &e) == EX_CANTCREAT);
		CHECK(chmod(ro, 0700) == 0);
		free(ro);
		free(md);
	}
}

#define S(x) x, sizeof(x) - 1

static const struct {
	const char *in;
	size_t inlen;
	const char *out;
	size_t outlen;
} md_msgs[3] = {
	{ S("From: a\r\nSubject: one\r\n\r\nbody\r\nFrom here\r\n"),
	  S("From: a\nSubject: one\n\nbody\nFrom here\n") },
	{ S("Subject: two\r\n\r\nbare\rcr and \0nul\r\n\xff\r\n"),
	  S("Subject: two\n\nbare\rcr and \0nul\n\xff\n") },
	{ S("Subject: three\r\n\r\nno final newline"),
	  S("Subject: three\n\nno final newline") },
};

static void
test_maildir_deliver(void)
{
	char *md = tpath("Maildir"), *newdir = tpath("Maildir/new");
	char *tmpdir = tpath("Maildir/tmp");
	char *names[3];
	struct sink *s;
	struct err e;
	struct sink_mark mark = { 9, -1, 9, 9, 9 };

	err_clear(&e);
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	if (s == NULL)
		goto out;
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(mark.set == 0 && mark.size == 0 && mark.dev == 0 &&
	    mark.ino == 0 && mark.stamp == 0);
	for (int i = 0; i < 3; i++) {
		names[i] = sink_maildir_name();
		/* Odd chunk sizes split CRLF pairs. */
		CHECK(deliver(s, names[i], md_msgs[i].in, md_msgs[i].inlen,
		    (size_t)(i + 2), &e) == 0);
	}
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->close(s);

	CHECK(count_entries(newdir, NULL, 0) == 3);
	CHECK(count_entries(tmpdir, NULL, 0) == 0);
	for (int i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", newdir, names[i]);
		size_t len;
		char *got = slurp(p, &len);
		struct stat st;

		CHECK_MEM(got, len, md_msgs[i].out, md_msgs[i].outlen);
		CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
		free(got);
		free(p);
		free(names[i]);
	}
out:
	free(md);
	free(newdir);
	free(tmpdir);
}

static void
test_maildir_abort_and_errors(void)
{
	char *md = tpath("Maildir2"), *newdir = tpath("Maildir2/new");
	char *tmpdir = tpath("Maildir2/tmp"), *name, *p;
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	size_t len;
	char *got;

	err_clear(&e);
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	if (s == NULL)
		goto out;
	name = sink_maildir_name();
	/* A message outside a batch is a caller bug. */
	CHECK(begin_msg(s, name, &e) == EX_SOFTWARE);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);

	CHECK(begin_msg(s, name, &e) == 0);
	CHECK(s->ops->msg_write(s, "abc\r\n", 5, &e) == 0);
	CHECK(count_entries(tmpdir, NULL, 0) == 1);
	s->ops->msg_abort(s);
	s->ops->msg_abort(s);	/* harmless twice */
	CHECK(count_entries(tmpdir, NULL, 0) == 0);
	CHECK(count_entries(newdir, NULL, 0) == 0);

	/* Commit without begin, bad names. */
	CHECK(s->ops->msg_commit(s, &e) == EX_SOFTWARE);
	CHECK(begin_msg(s, "a/b", &e) == EX_SOFTWARE);
	CHECK(begin_msg(s, "", &e) == EX_SOFTWARE);

	/* Someone else's file in tmp/ is neither overwritten nor removed. */
	p = xasprintf("%s/%s", tmpdir, name);
	spew(p, "theirs", 6);
	CHECK(begin_msg(s, name, &e) == EX_CANTCREAT);
	CHECK(strstr(e.msg, p) != NULL);
	got = slurp(p, &len);
	CHECK_MEM(got, len, "theirs", 6);
	free(got);
	unlink(p);
	free(p);

	/* A name already in new/ is never replaced. */
	p = xasprintf("%s/%s", newdir, name);
	spew(p, "first", 5);
	CHECK(deliver(s, name, "second\r\n", 8, 100, &e) == EX_CANTCREAT);
	got = slurp(p, &len);
	CHECK_MEM(got, len, "first", 5);
	CHECK(count_entries(tmpdir, NULL, 0) == 0);
	free(got);
	unlink(p);
	free(p);

	/* An empty message is a valid, empty file. */
	CHECK(deliver(s, name, "", 0, 1, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	p = xasprintf("%s/%s", newdir, name);
	CHECK(fsize(p) == 0);
	free(p);
	s->ops->batch_abort(s);
	s->ops->close(s);
	free(name);
out:
	free(md);
	free(newdir);
	free(tmpdir);
}

/* Descriptors this process has open. */
static int
open_fds(void)
{
	return count_entries("/proc/self/fd", NULL, 0);
}

/* Committed is not yet delivered: batch_sync syncs the batch's files and
 * only then moves them into new/; batch_abort before it takes them back.
 * A batch longer than the sink keeps descriptors for (64) syncs early
 * instead of holding more. */
static void
test_maildir_batch(void)
{
	enum { LONG = 70 };
	char *md = tpath("Maildir5"), *newdir = tpath("Maildir5/new");
	char *tmpdir = tpath("Maildir5/tmp"), *names[LONG];
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	int fds0, peak = 0;

	err_clear(&e);
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	if (s == NULL)
		goto out;
	fds0 = open_fds();
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	for (int i = 0; i < 3; i++) {
		char *n = sink_maildir_name();

		CHECK(deliver(s, n, "abc\r\n", 5, 5, &e) == 0);
		free(n);
	}
	CHECK(count_entries(tmpdir, NULL, 0) == 3);
	CHECK(count_entries(newdir, NULL, 0) == 0);
	s->ops->batch_abort(s);
	CHECK(count_entries(tmpdir, NULL, 0) == 0);
	CHECK(count_entries(newdir, NULL, 0) == 0);
	CHECK(open_fds() == fds0);

	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	for (int i = 0; i < LONG; i++) {
		char body[32];
		int n = snprintf(body, sizeof(body), "message %d\r\n", i);

		names[i] = sink_maildir_name();
		CHECK(deliver(s, names[i], body, (size_t)n, 3, &e) == 0);
		if (open_fds() - fds0 > peak)
			peak = open_fds() - fds0;
	}
	CHECK(peak >= 60 && peak <= 64);
	CHECK(count_entries(newdir, NULL, 0) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	CHECK(open_fds() == fds0);
	CHECK(count_entries(tmpdir, NULL, 0) == 0);
	CHECK(count_entries(newdir, NULL, 0) == LONG);
	for (int i = 0; i < LONG; i++) {
		char want[32], *p = xasprintf("%s/%s", newdir, names[i]), *got;
		int n = snprintf(want, sizeof(want), "message %d\n", i);
		size_t len;

		got = slurp(p, &len);
		CHECK_MEM(got, len, want, (size_t)n);
		free(got);
		free(p);
		free(names[i]);
	}
	/* Synced data is never taken back. */
	s->ops->batch_abort(s);
	CHECK(count_entries(newdir, NULL, 0) == LONG);
	s->ops->close(s);
out:
	free(md);
	free(newdir);
	free(tmpdir);
}

static void
test_maildir_recover(void)
{
	char *md = tpath("Maildir3");
	char *n1 = sink_maildir_name(), *n2 = sink_maildir_name();
	char *n3 = sink_maildir_name(), *p, *q;
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	unsigned where;

	err_clear(&e);
	CHECK(sink_open_maildir(md, &s, &e) == 0);
	if (s == NULL)
		goto out;
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(deliver(s, n1, "one\r\n", 5, 5, &e) == 0);
	CHECK(deliver(s, n2, "two\r\n", 5, 5, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->close(s);

	/* n2 read by a mail reader: moved to cur/ with flags. */
	p = xasprintf("%s/new/%s", md, n2);
	q = xasprintf("%s/cur/%s:2,S", md, n2);
	CHECK(rename(p, q) == 0);
	free(p);
	free(q);

	CHECK(sink_maildir_recover(md, n1, &where, &e) == 0);
	CHECK(where == SINK_MD_NEW);
	CHECK(sink_maildir_recover(md, n2, &where, &e) == 0);
	CHECK(where == SINK_MD_CUR);
	CHECK(sink_maildir_recover(md, n3, &where, &e) == 0);
	CHECK(where == 0);
	CHECK(sink_maildir_sync_dirs(md, SINK_MD_NEW | SINK_MD_CUR, &e) == 0);
	CHECK(sink_maildir_sync_dirs(md, 0, &e) == 0);

	/* A cur/ name that merely starts with the name is another one. */
	p = xasprintf("%s/cur/%sx", md, n3);
	spew(p, "", 0);
	CHECK(sink_maildir_recover(md, n3, &where, &e) == 0);
	CHECK(where == 0);
	free(p);

	/* An unfinished tmp/ file is removed and does not count. */
	p = xasprintf("%s/tmp/%s", md, n3);
	spew(p, "partial", 7);
	CHECK(sink_maildir_recover(md, n3, &where, &e) == 0);
	CHECK(where == 0);
	CHECK(!exists(p));
	free(p);

	/* A crash between link() and unlink(): both copies exist. */
	p = xasprintf("%s/tmp/%s", md, n1);
	spew(p, "one\n", 4);
	CHECK(sink_maildir_recover(md, n1, &where, &e) == 0);
	CHECK(where == SINK_MD_NEW);
	CHECK(!exists(p));
	free(p);

	/* A new/ directory that cannot be synced is an error, not a
	 * message recorded as stored without being durable. */
	p = xasprintf("%s/nomd", md);
	CHECK(sink_maildir_sync_dirs(p, SINK_MD_NEW, &e) == EX_IOERR);
	free(p);
out:
	free(n1);
	free(n2);
	free(n3);
	free(md);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_maildir_names(void)
{
	enum { N = 10000 };
	char **names = xcalloc(N, sizeof(*names));
	char pidpart[32];
	int dups = 0, bad = 0;

	snprintf(pidpart, sizeof(pidpart), "P%ld", (long)getpid());
	for (int i = 0; i < N; i++) {
		char *n = names[i] = sink_maildir_name();
		char *dot = strchr(n, '.');

		/* sec.M<usec>P<pid>Q<seq>.<host>, nothing a path or a
		 * flag suffix would misread. */
		if (dot == NULL || dot == n || dot[1] != 'M' ||
		    strstr(n, pidpart) == NULL || strchr(n, 'Q') == NULL ||
		    strchr(n, '/') != NULL || strchr(n, ':') != NULL ||
		    strchr(dot + 1, '.') == NULL)
			bad++;
		for (char *c = n; c < dot; c++)
			if (*c < '0' || *c > '9')
				bad++;
	}
	qsort(names, N, sizeof(*names), cmp_str);
	for (int i = 1; i < N; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dups++;
	CHECK(bad == 0);
	CHECK(dups == 0);
	if (bad)
		fprintf(stderr, "  e.g. %s\n", names[0]);
	for (int i = 0; i < N; i++)
		free(names[i]);
	free(names);
}

/* A file size limit makes the write fail with EFBIG (SIGXFSZ ignored, as
 * main does). Runs in a child so the limit does not stay. Exit status:
 * the number of failed checks. */
static int
child_fsize_maildir(const char *md)
{
	char *tmpdir = xasprintf("%s/tmp", md), *newdir;
	size_t big = 200000;
	char *body = xmalloc(big);
	struct rlimit rl = { 50000, 50000 };
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	int fails = 0;
	char *name;

	signal(SIGXFSZ, SIG_IGN);
	if (sink_open_maildir(md, &s, &e) != 0)
		return 1;
	newdir = xasprintf("%s/new", md);
	memset(body, 'x', big);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 1;
	name = sink_maildir_name();
	fails += s->ops->batch_begin(s, &mark, &e) != 0;
	fails += deliver(s, name, body, big, 4096, &e) != EX_IOERR;
	fails += strstr(e.msg, tmpdir) == NULL;
	fails += strstr(e.msg, strerror(EFBIG)) == NULL;
	fails += count_entries(tmpdir, NULL, 0) != 0;
	fails += count_entries(newdir, NULL, 0) != 0;
	s->ops->close(s);
	free(name);
	free(tmpdir);
	free(newdir);
	free(body);
	return fails;
}

static void
run_child(int (*fn)(const char *), const char *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "  child failed: status %d\n", status);
}

static void
test_maildir_write_error(void)
{
	char *md = tpath("Maildir4");

	run_child(child_fsize_maildir, md);
	free(md);
}

/* ---- mbox ------------------------------------------------------------ */

/* "From SENDER Fri Nov 27 03:21:19 2026\n" (SENDER one word, not
 * empty), checked by hand. Returns the length of the line, or 0 when it
 * is malformed. */
static size_t
from_line_len(const char *p, size_t len)
{
	const char *d, *nl;
	size_t k = 5;

	if (len < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	while (k < len && p[k] != ' ' && p[k] != '\n' && p[k] != '\t')
		k++;
	if (k == 5 || k >= len || p[k] != ' ')
		return 0;
	d = p + k + 1;
	nl = memchr(d, '\n', len - (size_t)(d - p));
	if (nl == NULL || nl - d != 24)
		return 0;
	/* "Www Mmm dd hh:mm:ss yyyy" */
	if (d[3] != ' ' || d[7] != ' ' || d[10] != ' ' || d[13] != ':' ||
	    d[16] != ':' || d[19] != ' ')
		return 0;
	if (strchr("MTWFS", d[0]) == NULL || d[8] == '0')
		return 0;
	for (int i = 11; i < 24; i++)
		if (i != 13 && i != 16 && i != 19 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return (size_t)(nl - p) + 1;
}

/* Compare an mbox with the expected bodies, From_ lines checked apart. */
static void
check_mbox(const char *path, const char *prefix, const char *const *bodies,
    int n)
{
	size_t len, off = 0, plen = strlen(prefix);
	char *got = slurp(path, &len);

	CHECK(got != NULL);
	if (got == NULL)
		return;
	CHECK(len >= plen && memcmp(got, prefix, plen) == 0);
	off = plen;
	for (int i = 0; i < n; i++) {
		size_t fl = from_line_len(got + off, len - off);
		size_t bl = strlen(bodies[i]);

		CHECK(fl > 0);
		if (fl == 0)
			break;
		off += fl;
		CHECK(len - off >= bl);
		if (len - off < bl)
			break;
		CHECK_MEM(got + off, bl, bodies[i], bl);
		off += bl;
	}
	CHECK(off == len);
	free(got);
}

/* The From_ line names the message's envelope sender: Return-Path, else
 * the first From: address, else MAILER-DAEMON; the date is the batch's.
 * The header section may come in pieces of any size. */
static void
test_mbox_envelope(void)
{
	static const struct {
		const char *msg, *sender;
	} cases[] = {
		{ "Return-Path: <bounce@lists.example>\r\nFrom: A <a@b.example>"
		  "\r\nSubject: x\r\n\r\nbody\r\n", "bounce@lists.example" },
		{ "From: \"Doe, J\" <jd@example.org>\r\nSubject: y\r\n\r\n"
		  "From the start\r\n", "jd@example.org" },
		{ "from: plain@example.net (Plain)\r\n\r\nz\r\n",
		  "plain@example.net" },
		{ "Subject: none\r\n\r\nFrom: not@a.header\r\n",
		  "MAILER-DAEMON" },
		{ "Return-Path: <>\r\nFrom: daemon@example.org\r\n\r\nq\r\n",
		  "MAILER-DAEMON" },
		{ "From: folded\r\n <fold@example.org>\r\n\r\n", "fold@example.org" },
		{ "From: root (Cron Daemon)\r\n\r\nz\r\n", "MAILER-DAEMON" },
		{ "", "MAILER-DAEMON" },
	};
	char *path = tpath("envelope");
	struct sink_mark mark;
	struct sink *s = NULL;
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].msg);

		for (size_t step = 1; step <= len + 1; step += step < 8 ? 1 : 13) {
			char want[400], *got;
			size_t glen, wl;

			unlink(path);
			err_clear(&e);
			CHECK(sink_open_mbox(path, 1000, &s, &e) == 0);
			if (s == NULL)
				goto out;
			CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
			CHECK(deliver(s, NULL, cases[i].msg, len, step, &e) == 0);
			CHECK(s->ops->batch_sync(s, &e) == 0);
			s->ops->close(s);
			s = NULL;
			CHECK(mbox_from_line_for(cases[i].sender, mark.stamp, want,
			    sizeof(want)));
			wl = strlen(want);
			got = slurp(path, &glen);
			CHECK(got != NULL && glen > wl);
			if (got != NULL && glen > wl)
				CHECK_MEM(got, wl, want, wl);
			free(got);
		}
	}
out:
	free(path);
}

static void
test_mbox_deliver(void)
{
	char *path = tpath("mail/sub/box"), *lock = tpath("mail/sub/box.lock");
	static const char m1[] = "From: a\r\nSubject: x\r\n\r\nFrom me\r\n"
	    ">From you\r\n>>>From them\r\nFrom\r\nhello\r\n";
	static const char m2[] = "Subject: y\r\n\r\nno newline";
	const char *want[2] = {
		"From: a\nSubject: x\n\n>From me\n>>From you\n"
		    ">>>>From them\nFrom\nhello\n\n",
		"Subject: y\n\nno newline\n\n",
	};
	struct sink *s;
	struct err e;
	struct stat st;
	struct sink_mark mark = { 9, -1, 9, 9, 9 };

	err_clear(&e);
	CHECK(sink_open_mbox(path, 1000, &s, &e) == 0);
	if (s == NULL)
		goto out;
	/* Made at open, but not locked until a batch begins. */
	CHECK(!exists(lock));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(exists(lock));
	CHECK(mark.set == 1);
	CHECK(mark.size == 0);
	/* The identity recovery checks, and the batch's From_ time. */
	CHECK(stat(path, &st) == 0 && mark.dev == (unsigned long long)st.st_dev
	    && mark.ino == (unsigned long long)st.st_ino);
	CHECK(mark.stamp > 0 && mark.stamp <= (long long)time(NULL) &&
	    mark.stamp >= (long long)time(NULL) - 60);
	CHECK(deliver(s, NULL, m1, sizeof(m1) - 1, 3, &e) == 0);
	CHECK(deliver(s, NULL, m2, sizeof(m2) - 1, 1, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->close(s);
	CHECK(!exists(lock));
	check_mbox(path, "", want, 2);

	/* Appending later keeps what is there; an empty message is a From_
	 * line and the separator. */
	CHECK(sink_open_mbox(path, 1000, &s, &e) == 0);
	if (s == NULL)
		goto out;
	/* The file changed within this second (our first batch, but another
	 * sink: it could have been another popfetch): the new batch's From_
	 * time must be later than that change. */
	CHECK(stat(path, &st) == 0);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(mark.size == fsize(path));
	/* Dated one second before the batch holds the lock (anything
	 * appended after it is dated later), not before the file's last
	 * change (a dead batch of another popfetch is older), and the file
	 * marked changed now. */
	CHECK(mark.stamp >= (long long)st.st_mtime);
	CHECK(mark.stamp < (long long)time(NULL));
	{
		struct stat now;

		CHECK(stat(path, &now) == 0 && (long long)now.st_mtime >
		    mark.stamp);
	}
	CHECK(deliver(s, NULL, "", 0, 1, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->close(s);
	{
		const char *want3[3] = { want[0], want[1], "\n" };

		check_mbox(path, "", want3, 3);
	}
out:
	free(path);
	free(lock);
}

/* A file left without a final newline by someone else: our From_ line
 * still starts a line of its own. */
static void
test_mbox_foreign_tail(void)
{
	char *path = tpath("foreign");
	const char *want[1] = { "hi\n\n" };
	struct sink *s;
	struct err e;
	struct sink_mark mark;

	spew(path, "old", 3);
	err_clear(&e);
	CHECK(sink_open_mbox(path, 1000, &s, &e) == 0);
	if (s == NULL)
		goto out;
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(mark.size == 3);
	CHECK(deliver(s, NULL, "hi\r\n", 4, 4, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->close(s);
	check_mbox(path, "old\n", want, 1);
out:
	free(path);
}

static void
test_mbox_rollback(void)
{
	char *path = tpath("rollback");
	const char *want[2] = { "one\n\n", "two\n\n" };
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	off_t before;

	err_clear(&e);
	CHECK(sink_open_mbox(path, 1000, &s, &e) == 0);
	if (s == NULL)
		goto out;
	CHECK(begin_msg(s, NULL, &e) == EX_SOFTWARE);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(deliver(s, NULL, "one\r\n", 5, 5, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->batch_abort(s);		/* after a sync: keeps the data */
	before = fsize(path);
	CHECK(before > 0);

	/* msg_abort: exactly back to the size before the From_ line, even
	 * after more than a buffer's worth went out. */
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(mark.size == before);
	CHECK(begin_msg(s, NULL, &e) == 0);
	for (int i = 0; i < 3000; i++)
		CHECK(s->ops->msg_write(s, "0123456789012345678901234567890"
		    "12345678901234567890123456789\r\n", 62, &e) == 0);
	CHECK(fsize(path) > before);
	s->ops->msg_abort(s);
	CHECK(fsize(path) == before);
	CHECK(deliver(s, NULL, "two\r\n", 5, 2, &e) == 0);
	/* Aborts in a row each go back to the right place. */
	before = fsize(path);
	for (int j = 0; j < 2; j++) {
		CHECK(begin_msg(s, NULL, &e) == 0);
		for (int i = 0; i < 2000; i++)
			CHECK(s->ops->msg_write(s, "0123456789012345678901"
			    "234567890123456789\r\n", 42, &e) == 0);
		s->ops->msg_abort(s);
		CHECK(fsize(path) == before);
	}
	CHECK(s->ops->batch_sync(s, &e) == 0);
	check_mbox(path, "", want, 2);

	/* batch_abort: back to the mark, committed messages included. */
	before = fsize(path);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(mark.size == before);
	CHECK(deliver(s, NULL, "three\r\n", 7, 7, &e) == 0);
	CHECK(deliver(s, NULL, "four\r\n", 6, 7, &e) == 0);
	CHECK(begin_msg(s, NULL, &e) == 0);
	CHECK(s->ops->msg_write(s, "five", 4, &e) == 0);
	s->ops->batch_abort(s);
	CHECK(fsize(path) == before);

	/* close with a batch neither synced nor aborted undoes it. */
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(deliver(s, NULL, "six\r\n", 5, 7, &e) == 0);
	s->ops->close(s);
	CHECK(fsize(path) == before);
	check_mbox(path, "", want, 2);
out:
	free(path);
}

/* Holds an fcntl lock on the file until the parent closes the pipe. */
static pid_t
hold_fcntl_lock(const char *path, int *release_fd)
{
	int ready[2], hold[2];
	pid_t pid;
	char c;

	if (pipe(ready) != 0 || pipe(hold) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct flock fl;
		int fd = open(path, O_RDWR | O_CREAT, 0600);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		close(ready[0]);
		close(hold[1]);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(hold[1]);
		return -1;
	}
	close(ready[0]);
	*release_fd = hold[1];
	return pid;
}

/* Set path's mtime (and atime) to ten minutes ago: what another
 * program takes for a stale dotlock. Returns that mtime. */
static time_t
age_10min(const char *path)
{
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 600;
	tv[1] = tv[0];
	CHECK(utimes(path, tv) == 0);
	return tv[0].tv_sec;
}

static time_t
mtime_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mtime : 0;
}

/* The dotlock is kept fresh while held: in the middle of one message's
 * bytes (a long download), not only between messages. The refresh
 * interval (60 s) is set to 0 here so that every chance to refresh is
 * taken. */
static void
test_mbox_lock_refresh(void)
{
	char *path = tpath("fresh"), *lock = tpath("fresh.lock");
	struct sink_mark mark;
	struct sink *s = NULL;
	struct err e;
	time_t old;

	err_clear(&e);
	CHECK(sink_open_mbox(path, 300, &s, &e) == 0);
	if (s == NULL)
		goto out;
	sink_mbox_set_lock_refresh(s, 0);
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(begin_msg(s, NULL, &e) == 0);
	CHECK(s->ops->msg_write(s, "Subject: a\r\n\r\n", 15, &e) == 0);
	old = age_10min(lock);
	CHECK(s->ops->msg_write(s, "body\r\n", 6, &e) == 0);
	CHECK(mtime_of(lock) > old);
	CHECK(mtime_of(lock) >= time(NULL) - 60);
	CHECK(s->ops->msg_commit(s, &e) == 0);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	/* Held until the batch is recorded (batch_done), so nobody appends
	 * after bytes recovery might still take out. */
	CHECK(exists(lock));
	CHECK(s->ops->batch_done != NULL);
	if (s->ops->batch_done != NULL)
		s->ops->batch_done(s);
	/* Between batches (while DELEs go out, while the server is waited
	 * for) neither lock is held; idle makes none. */
	CHECK(!exists(lock));
	CHECK(s->ops->idle != NULL);
	if (s->ops->idle != NULL)
		s->ops->idle(s);
	CHECK(!exists(lock));
	/* Another program removed ours and took its own during a batch:
	 * not ours to refresh (a warning), nor to remove at its end. */
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	CHECK(exists(lock));
	CHECK(unlink(lock) == 0);
	spew(lock, "999\n", 4);
	old = age_10min(lock);
	if (s->ops->idle != NULL)
		s->ops->idle(s);
	CHECK(mtime_of(lock) == old);
	CHECK(s->ops->batch_sync(s, &e) == 0);
	s->ops->batch_done(s);
	CHECK(exists(lock));
	CHECK(unlink(lock) == 0);
	s->ops->close(s);
	CHECK(!exists(lock));
	/* With the default interval, a lock just taken is left alone. */
	CHECK(sink_open_mbox(path, 300, &s, &e) == 0);
	if (s == NULL)
		goto out;
	CHECK(s->ops->batch_begin(s, &mark, &e) == 0);
	old = age_10min(lock);
	if (s->ops->idle != NULL)
		s->ops->idle(s);
	CHECK(mtime_of(lock) == old);
	s->ops->batch_abort(s);
	CHECK(!exists(lock));
	s->ops->close(s);
	CHECK(!exists(lock));
out:
	free(path);
	free(lock);
}

/* Open the mbox at path (no lock needed for that: another program's
 * lock does not stop it) and begin a batch, which takes both locks,
 * waiting up to timeout_ms; the batch is undone and the sink closed. The
 * batch's result. */
static int
lock_batch(const char *path, long timeout_ms, struct err *e)
{
	struct sink_mark mark;
	struct sink *s = NULL;
	int rc;

	if ((rc = sink_open_mbox(path, timeout_ms, &s, e)) != 0)
		return rc == EX_TEMPFAIL ? -1 : rc;
	rc = s->ops->batch_begin(s, &mark, e);
	s->ops->batch_abort(s);
	s->ops->close(s);
	return rc;
}

static void
test_mbox_locks(void)
{
	char *path = tpath("locked"), *lock = tpath("locked.lock");
	struct err e;
	long long t0, waited;
	int release = -1, status;
	pid_t pid;

	/* Another process holds the fcntl lock. */
	pid = hold_fcntl_lock(path, &release);
	CHECK(pid > 0);
	if (pid > 0) {
		err_clear(&e);
		t0 = util_now_ms();
		CHECK(lock_batch(path, 300, &e) == EX_TEMPFAIL);
		waited = util_now_ms() - t0;
		CHECK(waited >= 300);
		CHECK(waited < 3000);
		CHECK(strstr(e.msg, "is locked by another process") != NULL);
		CHECK(strstr(e.msg, path) != NULL);
		CHECK(!exists(lock));	/* our dotlock was given back */
		close(release);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* A fresh dotlock. */
	spew(lock, "12345\n", 6);
	err_clear(&e);
	t0 = util_now_ms();
	CHECK(lock_batch(path, 300, &e) == EX_TEMPFAIL);
	waited = util_now_ms() - t0;
	CHECK(waited >= 300);
	CHECK(exists(lock));	/* not ours: left alone */
	{
		struct sink_mark m0 = { 1, 0, 0, 0, 0 };
		struct err w;

		CHECK(sink_mbox_recover(path, &m0, 200, &w, &e) ==
		    EX_TEMPFAIL);
	}

	/* The same dotlock ten minutes old is stale and broken. */
	{
		struct timeval tv[2];

		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= 600;
		tv[1] = tv[0];
		CHECK(utimes(lock, tv) == 0);
	}
	CHECK(lock_batch(path, 300, &e) == 0);
	CHECK(!exists(lock));

	/* A fresh dotlock in popfetch's "PID HOST" form: a live owner (us)
	 * is respected, a dead one (a reaped child) is broken at once. */
	{
		char host[256], text[320];
		pid_t dead = fork();
		int n;

		if (dead == 0)
			_exit(0);
		CHECK(dead > 0 && waitpid(dead, &status, 0) == dead);
		CHECK(gethostname(host, sizeof(host)) == 0);
		host[sizeof(host) - 1] = '\0';
		n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(),
		    host);
		spew(lock, text, (size_t)n);
		CHECK(lock_batch(path, 200, &e) == EX_TEMPFAIL);
		CHECK(exists(lock));
		n = snprintf(text, sizeof(text), "%ld %s\n", (long)dead, host);
		spew(lock, text, (size_t)n);
		t0 = util_now_ms();
		CHECK(lock_batch(path, 5000, &e) == 0);
		CHECK(util_now_ms() - t0 < 1000);
		CHECK(!exists(lock));
		/* The same dead pid "on another host": left alone. */
		n = snprintf(text, sizeof(text), "%ld other.%s\n", (long)dead,
		    host);
		spew(lock, text, (size_t)n);
		CHECK(lock_batch(path, 200, &e) == EX_TEMPFAIL);
		unlink(lock);
	}
	free(path);
	free(lock);
}

static int
child_fsize_mbox(const char *path)
{
	size_t big = 300000;
	char *body = xmalloc(big);
	struct rlimit rl;
	struct sink *s;
	struct err e;
	struct sink_mark mark;
	off_t before;
	int fails = 0;

	signal(SIGXFSZ, SIG_IGN);
	if (sink_open_mbox(path, 1000, &s, &e) != 0)
		return 1;
	fails += s->ops->batch_begin(s, &mark, &e) != 0;
	fails += deliver(s, NULL, "small\r\n", 7, 7, &e) != 0;
	before = fsize(path);
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 100000;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 1;
	memset(body, 'x', big);
	for (size_t i = 99; i < big; i += 100)
		body[i] = '\n';
	fails += deliver(s, NULL, body, big, 1000, &e) != EX_IOERR;
	fails += strstr(e.msg, path) == NULL;
	fails += strstr(e.msg, strerror(EFBIG)) == NULL;
	fails += fsize(path) != before;
	/* The sink still works for what fits. */
	fails += deliver(s, NULL, "after\r\n", 7, 7, &e) != 0;
	fails += s->ops->batch_sync(s, &e) != 0;
	s->ops->close(s);
	free(body);
	return fails;
}

static void
test_mbox_write_error(void)
{
	char *path = tpath("fsize");
	const char *want[2] = { "small\n\n", "after\n\n" };

	run_child(child_fsize_mbox, path);
	check_mbox(path, "", want, 2);
	free(path);
}

/* Write `parts` (NULL-terminated) one after another as the file at path. */
static void
spew_parts(const char *path, const char *const *parts)
{
	size_t len = 0, off = 0;
	char *buf;

	for (int i = 0; parts[i] != NULL; i++)
		len += strlen(parts[i]);
	buf = xmalloc(len + 1);
	for (int i = 0; parts[i] != NULL; i++) {
		memcpy(buf + off, parts[i], strlen(parts[i]));
		off += strlen(parts[i]);
	}
	spew(path, buf, len);
	free(buf);
}

/* The file at path holds exactly the concatenation of `parts`. */
#define check_parts(path, parts) check_parts_at(path, parts, __LINE__)
static void
check_parts_at(const char *path, const char *const *parts, int line)
{
	size_t len = 0, got_len = 0, off = 0;
	char *got = slurp(path, &got_len), *want;

	for (int i = 0; parts[i] != NULL; i++)
		len += strlen(parts[i]);
	want = xmalloc(len + 1);
	for (int i = 0; parts[i] != NULL; i++) {
		memcpy(want + off, parts[i], strlen(parts[i]));
		off += strlen(parts[i]);
	}
	CHECK(got != NULL);
	if (got != NULL && (got_len != len || memcmp(got, want, len) != 0))
		fprintf(stderr, "tests/unit_sink.c:%d: the mbox differs\n",
		    line);
	if (got != NULL)
		CHECK_MEM(got, got_len, want, len);
	free(got);
	free(want);
}

/* Recovery after a crash in the middle of an mbox batch: what the batch
 * wrote goes; what was there before, and what another program appended
 * after the crash, stays byte for byte. */
static void
test_mbox_recover(void)
{
	char *path = tpath("recover"), *lock = tpath("recover.lock");
	char *missing = tpath("nothere"), *other = tpath("recover.new");
	static const char old[] = "From a@b.example Thu Jan  1 00:00:00 2026\n"
	    "Subject: old\n\nold\n\n";
	static const char old_nolf[] = "From a@b.example Thu Jan  1 00:00:00 "
	    "2026\nSubject: old\n\nno final newline";
	static const char foreign[] = "From c@d.example Fri Nov 27 07:00:00 "
	    "2026\nSubject: delivered later\n\n>From quoted\nforeign\n\n";
	const long long stamp = 1795762608;  /* Fri Nov 27 06:56:48 2026 UTC */
	char from[96], mine[512], part[256], late_buf[96];
	struct sink_mark m = { 1, (off_t)(sizeof(old) - 1), 0, 0, stamp };
	struct stat st;
	struct err e, w;

	mbox_from_line(stamp, from, sizeof(from));
	CHECK_STR(from, "From MAILER-DAEMON Fri Nov 27 06:56:48 2026\n");
	/* Two whole messages of the batch and a third cut mid-line. */
	snprintf(mine, sizeof(mine), "%sSubject: 1\n\n>From x\none\n\n"
	    "%sSubject: 2\n\ntwo\n\n", from, from);
	snprintf(part, sizeof(part), "%sSubject: 3\n\nthree, cut he", from);

	/* Only the batch's bytes after the mark: cut back to the mark. */
	{
		const char *const f[] = { old, mine, part, NULL };
		const char *const want[] = { old, NULL };

		spew_parts(path, f);
		CHECK(stat(path, &st) == 0);
		m.dev = (unsigned long long)st.st_dev;
		m.ino = (unsigned long long)st.st_ino;
		err_clear(&e);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, want);
		CHECK(!exists(lock));
		/* Again: nothing more to do. */
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, want);
	}
	/* Mail appended after the crash, at a line start: kept, moved to
	 * the mark. */
	{
		const char *const f[] = { old, mine, part, "\n", foreign,
		    foreign, NULL };
		const char *const want[] = { old, foreign, foreign, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "kept the") != NULL);
		check_parts(path, want);
	}
	/* Glued to the line the crash cut, without a newline first. */
	{
		const char *const f[] = { old, mine, part, foreign, NULL };
		const char *const want[] = { old, foreign, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "kept the") != NULL);
		check_parts(path, want);
	}
	/* Right after the batch's last whole message. */
	{
		const char *const f[] = { old, mine, foreign, NULL };
		const char *const want[] = { old, foreign, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* Each message of a batch names its own sender, one as long as an
	 * envelope sender can be (255 bytes): all of them are the batch's.
	 * A From_ line dated a second later (anyone appending after the
	 * batch took its lock) is not, whatever its sender. */
	{
		char longs[256], l1[400], l2[96], l3[96], batch[1024], cut[512];
		char later[128];

		memset(longs, 'x', 249);
		memcpy(longs + 249, "@e.org", 7);
		CHECK(strlen(longs) == 255);
		CHECK(mbox_from_line_for(longs, stamp, l1, sizeof(l1)));
		CHECK(mbox_from_line_for("bob@example.org", stamp, l2,
		    sizeof(l2)));
		CHECK(mbox_from_line_for("c@d.example", stamp + 1, l3,
		    sizeof(l3)));
		snprintf(batch, sizeof(batch), "%sSubject: 1\n\none\n\n"
		    "%sSubject: 2\n\ntwo\n\n", l2, l1);
		snprintf(cut, sizeof(cut), "%sSubject: 3\n\nthree, c", l1);
		snprintf(later, sizeof(later), "%sSubject: later\n\nx\n\n",
		    l3);
		const char *const f[] = { old, batch, cut, NULL };
		const char *const want[] = { old, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, want);
		/* The long sender first, cut inside it. */
		l1[100] = '\0';
		const char *const f2[] = { old, l1, NULL };

		spew_parts(path, f2);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
		/* Appended a second later, by another sender: kept. */
		const char *const f3[] = { old, batch, cut, "\n", later,
		    NULL };
		const char *const want3[] = { old, later, NULL };

		spew_parts(path, f3);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "kept the") != NULL);
		check_parts(path, want3);
	}
	/* A file that did not end with a newline got one before the batch;
	 * it stays, so the foreign From_ line starts a line. */
	{
		const char *const f[] = { old_nolf, "\n", mine, part, "\n",
		    foreign, NULL };
		const char *const want[] = { old_nolf, "\n", foreign, NULL };
		struct sink_mark m2 = m;

		m2.size = (off_t)(sizeof(old_nolf) - 1);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m2, 1000, &w, &e) == 0);
		check_parts(path, want);
		/* ... and without foreign data it goes with the batch. */
		const char *const f2[] = { old_nolf, "\n", mine, part, NULL };
		const char *const want2[] = { old_nolf, NULL };

		spew_parts(path, f2);
		CHECK(sink_mbox_recover(path, &m2, 1000, &w, &e) == 0);
		check_parts(path, want2);
	}
	/* A From_ line of another time is not the batch's. */
	{
		char late[96];
		const char *const f[] = { old, mine, NULL };
		const char *const want[] = { old, NULL };
		struct sink_mark m3 = m;

		m3.stamp = stamp + 1;
		mbox_from_line(stamp + 1, late, sizeof(late));
		CHECK(strcmp(late, from) != 0);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m3, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "was changed after") != NULL);
		const char *const unchanged[] = { old, mine, NULL };
		check_parts(path, unchanged);
		/* A journal from before stamps (0): any MAILER-DAEMON From_
		 * line is taken for the batch's. */
		m3.stamp = 0;
		CHECK(sink_mbox_recover(path, &m3, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, want);
	}
	/* Postfix local(8) writes two spaces before the date. */
	{
		static const char pf[] = "From joe@example.com  Fri Nov 27 "
		    "08:00:00 2026\nSubject: postfix\n\nhi\n\n";
		const char *const f[] = { old, mine, part, pf, NULL };
		const char *const want[] = { old, pf, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "kept the") != NULL);
		check_parts(path, want);
	}
	/* A long glued From_ line (a VERP bounce address), with a zone. */
	{
		char lf[600];
		const char *const f[] = { old, mine, part, lf, NULL };
		const char *const want[] = { old, lf, NULL };

		snprintf(lf, sizeof(lf), "From bounce-%0300d=user=example.org@"
		    "lists.example.net Fri Nov 27 08:00:00 2026 +0000\n"
		    "Subject: long\n\nx\n\n", 7);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* Lines of our own messages that look like From_ lines: quoted ones
	 * (a git patch in a body) and one inside a line, in a message that
	 * our next From_ line follows. All the batch's: cut. */
	{
		char body[512];
		const char *const f[] = { old, body, part, NULL };
		const char *const want[] = { old, NULL };

		snprintf(body, sizeof(body), "%sSubject: patch\n\n"
		    ">From 0123abc Mon Sep 17 00:00:00 2001\n"
		    ">>From x Mon Sep 17 00:00:00 2001\n"
		    "-- forwarded From joe@x Fri Nov 27 07:00:00 2026\n\n",
		    from);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, want);
	}
	/* The crash cut our second From_ line; a foreign one is glued on. */
	{
		char cut[64];
		const char *const f[] = { old, mine, cut, foreign, NULL };
		const char *const want[] = { old, foreign, NULL };

		memcpy(cut, from, 25);
		cut[25] = '\0';
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
		/* ... and the first one. */
		const char *const f2[] = { old, cut, foreign, NULL };

		spew_parts(path, f2);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* A journal without a stamp takes only popfetch's own layout for the
	 * batch's: a Postfix bounce appended is kept. */
	{
		static const char bounce[] = "From MAILER-DAEMON  Fri Nov 27 "
		    "08:00:00 2026\nSubject: bounce\n\nx\n\n";
		const char *const f[] = { old, mine, bounce, NULL };
		const char *const want[] = { old, bounce, NULL };
		struct sink_mark m4 = m;

		m4.stamp = 0;
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m4, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* Our line cut right after its '>' quoting, a From_ line glued on:
	 * the same bytes as a quoted line of ours, but no line of the
	 * batch's follows, so it is kept. */
	{
		char q[256];
		static const char pf[] = "From a@b  Fri Nov 27 07:00:00 2026\n"
		    "Subject: f\n\nforeign\n\n";
		const char *const f[] = { old, q, pf, NULL };
		const char *const want[] = { old, pf, NULL };

		snprintf(q, sizeof(q), "%sSubject: a\n\nhello\n>", from);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* A rewritten file whose first line after the mark holds From_-like
	 * text: changed, not "glued", left alone. */
	{
		static const char rw[] = "> From 0123abc Mon Sep 17 00:00:00 "
		    "2001\nSubject: [PATCH]\n\n";
		const char *const f[] = { old, rw, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "was changed after") != NULL);
		check_parts(path, f);
	}
	/* A foreign line starting "From " with From_-like text far into it:
	 * foreign from its start. */
	{
		char fl[512];
		const char *const f[] = { old, mine, fl, NULL };
		const char *const want[] = { old, fl, NULL };

		snprintf(fl, sizeof(fl), "From x%0200d From y Fri Nov 27 "
		    "07:00:00 2026\nSubject: z\n\nz\n\n", 0);
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		check_parts(path, want);
	}
	/* A stamp no clock makes (a damaged journal): left alone. */
	{
		const char *const f[] = { old, mine, NULL };
		struct sink_mark m5 = m;

		m5.stamp = 9223372036854775807LL;
		CHECK(!mbox_from_line(m5.stamp, late_buf, sizeof(late_buf)));
		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m5, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "was changed after") != NULL);
		check_parts(path, f);
	}
	/* Rewritten by a mail reader (a new inode): left alone. */
	{
		const char *const f[] = { old, mine, part, NULL };

		spew_parts(other, f);
		CHECK(rename(other, path) == 0);
		CHECK(stat(path, &st) == 0);
		if ((unsigned long long)st.st_ino != m.ino) {
			CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
			CHECK(strstr(w.msg, "another file") != NULL);
			check_parts(path, f);
		}
	}
	/* Bytes at the mark that are not the batch's: left alone. */
	{
		const char *const f[] = { old, foreign, mine, NULL };

		spew_parts(path, f);
		CHECK(stat(path, &st) == 0);
		m.ino = (unsigned long long)st.st_ino;
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK(strstr(w.msg, "was changed after") != NULL);
		check_parts(path, f);
	}
	/* Not longer than the mark, or missing: nothing to do. */
	{
		const char *const f[] = { old, NULL };

		spew_parts(path, f);
		CHECK(sink_mbox_recover(path, &m, 1000, &w, &e) == 0);
		CHECK_STR(w.msg, "");
		check_parts(path, f);
	}
	CHECK(sink_mbox_recover(missing, &m, 1000, &w, &e) == 0);
	CHECK(!exists(missing));
	CHECK(!exists(lock));
	free(path);
	free(lock);
	free(missing);
	free(other);
}

int
main(void)
{
	if (mkdtemp(topdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_maildir_create();
	test_maildir_deliver();
	test_maildir_abort_and_errors();
	test_maildir_batch();
	test_maildir_recover();
	test_maildir_names();
	test_maildir_write_error();
	test_mbox_deliver();
	test_mbox_envelope();
	test_mbox_foreign_tail();
	test_mbox_rollback();
	test_mbox_locks();
	test_mbox_lock_refresh();
	test_mbox_write_error();
	test_mbox_recover();
	if (unit_failures == 0)
		nftw(topdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "unit_sink: files kept in %s\n", topdir);
	return unit_done("unit_sink");
}
