/*
 * unit_state.c - the state journal: keys, persistence, byte-exact UIDLs,
 * torn records, batches left open by a crash, compaction, the lock, and
 * the UIDL table against UIDLs chosen to collide.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "unit.h"

static char dir[256];

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char buf[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
append(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");
	fputs(text, f);
	fclose(f);
}

static struct state *
open_ok(void)
{
	struct state *st = NULL;
	struct err e;

	err_clear(&e);
	CHECK(state_open(dir, "me@pop.example.org", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		fprintf(stderr, "state_open: %s\n", e.msg);
	return st;
}

static void
test_key(void)
{
	/* The pair: mailbox (host without case, port, user) and store;
	 * 71eede2f3aaf1d26 is FNV-1a 64 of "/home/me/Mail". */
	char *k = state_key("Pop.Example.ORG", 995, "a b/c%d@x", "maildir",
	    "/home/me/Mail");

	CHECK_STR(k, "a%20b%2Fc%25d@x@pop.example.org,995,maildir-"
	    "71eede2f3aaf1d26");
	free(k);
	k = state_key("pop.example.org", 1995, "a b/c%d@x", "maildir",
	    "/home/me/Mail");
	CHECK_STR(k, "a%20b%2Fc%25d@x@pop.example.org,1995,maildir-"
	    "71eede2f3aaf1d26");
	free(k);
	k = state_key("h", 110, "u", "mbox", "/home/me/Mail/");
	CHECK(strstr(k, "71eede2f3aaf1d26") == NULL);
	CHECK(strncmp(k, "u@h,110,mbox-", 13) == 0);
	free(k);
	/* Older versions' key: user@host as written. */
	k = state_legacy_key("Pop.Example.org", "a b/c%d@x");
	CHECK_STR(k, "a%20b%2Fc%25d@x@Pop.Example.org");
	free(k);
}

static void
test_persist(void)
{
	/* A UIDL with every awkward byte: space, %, 8-bit, NUL-free. */
	const char odd[] = "a b%\xff/\x01z";
	struct state *st = open_ok();
	struct err e;
	char path[512];

	if (st == NULL)
		return;
	CHECK(state_count(st) == 0);
	state_begin_maildir(st);
	state_intent(st, "u1", 2, "name1");
	state_stored(st, "u1", 2, false);
	state_stored(st, odd, sizeof(odd) - 1, false);
	state_commit(st);
	CHECK(state_sync(st, &e) == 0);
	state_close(st);

	st = open_ok();
	CHECK(state_is_stored(st, "u1", 2));
	CHECK(state_is_stored(st, odd, sizeof(odd) - 1));
	CHECK(!state_is_stored(st, "u2", 2));
	CHECK(!state_is_stored(st, "u", 1));
	CHECK(state_count(st) == 2);
	CHECK(!state_pending(st)->open);
	state_close(st);

	snprintf(path, sizeof(path), "%s/me@pop.example.org.state", dir);
	CHECK(strstr(slurp(path), "a%20b%25%FF/%01z\n") != NULL);
}

static void
test_open_batch(void)
{
	char path[512];
	struct state *st;
	const struct state_pending *p;
	struct err e;

	snprintf(path, sizeof(path), "%s/me@pop.example.org.state", dir);
	/* A Maildir batch whose commit never reached the disk, then a torn
	 * half record. */
	append(path, "B\nT u3 n3\nT u4 n4\nS 1 u3\nS 2 u");
	st = open_ok();
	if (st == NULL)
		return;
	p = state_pending(st);
	CHECK(p->open);
	CHECK(!p->has_mark);
	CHECK(p->nintents == 2);
	if (p->nintents == 2) {
		CHECK_STR(p->intent_name[0], "n3");
		CHECK_MEM(p->intent_uidl[1], p->intent_uidl_len[1], "u4", 2);
	}
	/* Provisional: not stored until the batch commits. */
	CHECK(!state_is_stored(st, "u3", 2));
	CHECK(state_count(st) == 2);
	/* The torn record was cut off. */
	{
		const char *t = slurp(path);
		size_t l = strlen(t);
		CHECK(l > 0 && t[l - 1] == '\n');
		CHECK(strstr(t, "S 2 u") == NULL);
	}
	/* Resolve it as fetch.c does. */
	state_stored(st, "u3", 2, false);
	state_commit(st);
	CHECK(state_sync(st, &e) == 0);
	state_close(st);

	st = open_ok();
	CHECK(!state_pending(st)->open);
	CHECK(state_is_stored(st, "u3", 2));
	CHECK(!state_is_stored(st, "u4", 2));
	state_close(st);

	/* mbox batch left open: the mark comes back. */
	append(path, "M 12345\nS 3 u9\n");
	st = open_ok();
	p = state_pending(st);
	CHECK(p->open && p->has_mark && p->mark.size == 12345 &&
	    p->mark.dev == 0 && p->mark.ino == 0 && p->mark.stamp == 0);
	CHECK(!state_is_stored(st, "u9", 2));
	state_close(st);

	/* With the file's identity and the From_ time. */
	append(path, "M 777 2049 123456 1795762608\nS 3 u8\n");
	st = open_ok();
	p = state_pending(st);
	CHECK(p->open && p->has_mark && p->mark.size == 777 &&
	    p->mark.dev == 2049 && p->mark.ino == 123456 &&
	    p->mark.stamp == 1795762608);
	CHECK(!state_is_stored(st, "u8", 2));
	state_close(st);

	/* A clock before 1970 writes a negative stamp. */
	append(path, "M 5 1 2 -86400\nS 3 u7\n");
	st = open_ok();
	p = state_pending(st);
	CHECK(p->open && p->has_mark && p->mark.size == 5 &&
	    p->mark.stamp == -86400);
	state_close(st);
}

/* state_peek: looks without creating, locking or writing anything. */
static void
test_peek(void)
{
	struct state *st = NULL, *pk = NULL;
	struct err e;
	char path[600], sub[600];
	struct stat sb;
	off_t size;
	long long when = 0, t0 = (long long)time(NULL);

	/* Nothing there: an empty state, and still nothing there. */
	snprintf(sub, sizeof(sub), "%s/peek-none", dir);
	err_clear(&e);
	CHECK(state_peek(sub, "me@peek", NULL, false, &pk, &e) == 0);
	CHECK(pk != NULL && state_count(pk) == 0);
	CHECK(stat(sub, &sb) != 0 && errno == ENOENT);
	state_close(pk);
	pk = NULL;

	/* A journal held by a run: seen, times and all. */
	CHECK(state_open(dir, "me@peek", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	state_begin_maildir(st);
	state_stored(st, "p1", 2, false);
	state_stored(st, "p2", 2, true);
	state_commit(st);
	CHECK(state_sync(st, &e) == 0);
	CHECK(state_peek(dir, "me@peek", NULL, false, &pk, &e) == 0);
	CHECK(pk != NULL && state_count(pk) == 2);
	CHECK(state_stored_at(pk, "p1", 2, &when) == 1 && when >= t0 &&
	    when <= (long long)time(NULL));
	CHECK(state_stored_at(pk, "p3", 2, &when) == 0);
	CHECK(state_held(pk, "p2", 2) == 1);
	/* It cannot write. */
	state_stored(pk, "p3", 2, false);
	CHECK(state_sync(pk, &e) == EX_SOFTWARE);
	state_close(pk);
	pk = NULL;
	state_close(st);

	/* A torn last record is not cut, and the lock file is untouched. */
	snprintf(path, sizeof(path), "%s/me@peek.state", dir);
	append(path, "S 12 torn");
	CHECK(stat(path, &sb) == 0);
	size = sb.st_size;
	snprintf(sub, sizeof(sub), "%s/me@peek.lock", dir);
	unlink(sub);
	CHECK(state_peek(dir, "me@peek", NULL, false, &pk, &e) == 0);
	CHECK(pk != NULL && state_count(pk) == 2);
	state_close(pk);
	CHECK(stat(path, &sb) == 0 && sb.st_size == size);
	CHECK(stat(sub, &sb) != 0 && errno == ENOENT);

	/* Garbage is an error, as for state_open. */
	snprintf(path, sizeof(path), "%s/me@peek-bad.state", dir);
	append(path, "not a journal\n");
	pk = NULL;
	CHECK(state_peek(dir, "me@peek-bad", NULL, false, &pk, &e) ==
	    EX_DATAERR && pk == NULL);
}

/* In a child: F_GETLK sees a whole-file write lock of this process on
 * the journal's lock file, and state_open is refused as locked with the
 * message naming it. 0 when all holds, else the number of the first
 * check that failed. */
static int
lock_seen_from_child(struct state **st2)
{
	char path[512];
	pid_t pid, parent = getpid();
	int status = -1;

	snprintf(path, sizeof(path), "%s/me@pop.example.org.lock", dir);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct flock fl;
		struct err e;
		bool locked = false;
		int fd = open(path, O_RDWR | O_CLOEXEC);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0)
			_exit(1);
		if (fl.l_type != F_WRLCK || fl.l_pid != parent ||
		    fl.l_start != 0 || fl.l_len != 0)
			_exit(2);
		fl.l_type = F_WRLCK;
		if (fcntl(fd, F_SETLK, &fl) == 0 || (errno != EAGAIN &&
		    errno != EACCES))
			_exit(3);
		close(fd);
		err_clear(&e);
		if (state_open(dir, "me@pop.example.org", NULL, false, st2,
		    &locked, &e) != EX_TEMPFAIL || !locked)
			_exit(4);
		if (strstr(e.msg, "another popfetch run is working on this "
		    "account") == NULL || strstr(e.msg,
		    "me@pop.example.org.lock") == NULL)
			_exit(5);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "lock_seen_from_child: check %d failed\n",
		    WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

/* A lock some other program holds with fcntl (as over NFS, where that is
 * the lock every client sees): state_open is refused as locked. */
static void
test_lock_held_by_other(void)
{
	char path[512], ok;
	int fds[2], back[2], status;
	struct state *st = NULL;
	struct err e;
	bool locked = false;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/held@pop.example.org.lock", dir);
	CHECK(pipe(fds) == 0 && pipe(back) == 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct flock fl;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		ok = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
		(void)!write(fds[1], &ok, 1);
		(void)!read(back[0], &ok, 1);   /* until the parent is done */
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK(read(fds[0], &ok, 1) == 1 && ok == 'y');
	err_clear(&e);
	CHECK(state_open(dir, "held@pop.example.org", NULL, false, &st,
	    &locked, &e) == EX_TEMPFAIL);
	CHECK(locked && st == NULL);
	CHECK(strstr(e.msg, "held@pop.example.org.lock") != NULL);
	(void)!write(back[1], "x", 1);
	CHECK(waitpid(pid, &status, 0) == pid);
	close(fds[0]);
	close(fds[1]);
	close(back[0]);
	close(back[1]);
	/* Released with its holder: taken now. */
	CHECK(state_open(dir, "held@pop.example.org", NULL, false, &st,
	    &locked, &e) == 0 && !locked);
	state_close(st);
}

static void
test_compact_and_lock(void)
{
	struct state *st = open_ok(), *st2 = NULL;
	char *keep[] = { "u1", "u3", "new" };
	size_t lens[] = { 2, 2, 3 };
	struct err e;
	char path[512];

	if (st == NULL)
		return;
	/* A second run on the same mailbox (another process: an fcntl
	 * lock does not exclude its own process) is refused while we hold
	 * it, and sees our lock as an fcntl write lock on the whole file. */
	CHECK(lock_seen_from_child(&st2) == 0);

	/* The odd UIDL is not listed: kept, marked absent since now. */
	CHECK(state_compact(st, keep, lens, 3, NULL, NULL, 0, 86400, &e) == 0);
	state_close(st);
	snprintf(path, sizeof(path), "%s/me@pop.example.org.state", dir);
	{
		const char *t = slurp(path);
		CHECK(strncmp(t, "popfetch-state 1\nS ", 19) == 0);
		CHECK(strstr(t, " u1\n") != NULL);
		CHECK(strstr(t, " u3\n") != NULL);
		CHECK(strstr(t, "new") == NULL);     /* never stored */
		CHECK(strstr(t, "%FF/%01z a=") != NULL);  /* not listed */
		CHECK(strchr(t, 'M') == NULL && strchr(t, 'B') == NULL);
	}
	st = open_ok();
	CHECK(state_count(st) == 3);
	CHECK(!state_pending(st)->open);
	state_close(st);
}

static void
test_duplicates(void)
{
	struct state *st = NULL;
	struct err e;
	char *inv[] = { "dup", "dup", "one" };
	size_t lens[] = { 3, 3, 3 };

	err_clear(&e);
	CHECK(state_open(dir, "me@dups", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	/* Two messages share "dup"; a first run stored only one of them. */
	state_stored(st, "dup", 3, false);
	CHECK(state_sync(st, &e) == 0);
	state_close(st);

	CHECK(state_open(dir, "me@dups", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	/* The inventory lists dup twice: one is covered, one to fetch. */
	CHECK(state_claim(st, "dup", 3) == 1);
	CHECK(state_claim(st, "dup", 3) == 0);
	CHECK(state_claim(st, "one", 3) == 0);
	/* Fetching the second copy accounts for it. */
	state_stored(st, "dup", 3, false);
	CHECK(state_claim(st, "dup", 3) == 0);
	/* Crash recovery finds a copy without matching it. */
	state_recovered(st, "one", 3, false);
	CHECK(state_claim(st, "one", 3) == 1);
	CHECK(state_sync(st, &e) == 0);
	/* Compaction keeps one record per stored copy still listed. */
	CHECK(state_compact(st, inv, lens, 2, NULL, NULL, 0, 86400, &e) == 0);
	state_close(st);

	CHECK(state_open(dir, "me@dups", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_claim(st, "dup", 3) == 1);
	CHECK(state_claim(st, "dup", 3) == 1);
	CHECK(state_claim(st, "dup", 3) == 0);
	/* Not in the inventory: kept (absent), until forget_after. */
	CHECK(state_is_stored(st, "one", 3));
	state_close(st);
}

/* Records outlive a server that hides messages; forget_after ends them;
 * what this session deleted goes at once; "hold" survives everything. */
static void
test_forget(void)
{
	struct state *st = NULL;
	struct err e;
	char path[512];
	char *none[] = { NULL };
	size_t nolen[] = { 0 };
	char *inv[] = { "b" };
	size_t invlen[] = { 1 };
	char *gone[] = { "c" };
	size_t gonelen[] = { 1 };

	snprintf(path, sizeof(path), "%s/me@forget.state", dir);
	CHECK(state_open(dir, "me@forget", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	state_stored(st, "a", 1, false);
	state_stored(st, "b", 1, false);
	state_stored(st, "c", 1, false);
	state_stored(st, "h", 1, true);
	CHECK(state_sync(st, &e) == 0);
	CHECK(state_held(st, "h", 1) && !state_held(st, "a", 1));
	/* An empty listing once (a glitch) forgets nothing. */
	CHECK(state_compact(st, none, nolen, 0, NULL, NULL, 0, 30 * 86400,
	    &e) == 0);
	state_close(st);
	CHECK(state_open(dir, "me@forget", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_count(st) == 4);
	CHECK(state_is_stored(st, "a", 1) && state_is_stored(st, "b", 1));
	CHECK(state_held(st, "h", 1));
	CHECK(strstr(slurp(path), " h hold a=") != NULL);
	/* b listed again: present; c deleted by this session: gone; a and
	 * h absent since long ago: forgotten. */
	state_close(st);
	append(path, "S 7 a a=1000\n");
	CHECK(state_open(dir, "me@forget", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_compact(st, inv, invlen, 1, gone, gonelen, 1, 30 * 86400,
	    &e) == 0);
	state_close(st);
	{
		const char *t = slurp(path);
		CHECK(strstr(t, " b\n") != NULL);     /* present: no a= */
		CHECK(strstr(t, " c") == NULL);        /* deleted by us */
		CHECK(strstr(t, " a a=") == NULL && strstr(t, " a\n") == NULL);
		CHECK(strstr(t, " h hold a=") != NULL);  /* absent < 30 d */
	}
	/* An unknown flag is refused, not ignored. */
	append(path, "S 8 z frobnicate\n");
	st = NULL;
	CHECK(state_open(dir, "me@forget", NULL, false, &st, NULL, &e) ==
	    EX_DATAERR);
	CHECK(st == NULL);
}

/* An older per-user@host journal: taken over by its only account, set
 * aside when several shared it. */
static void
test_legacy(void)
{
	struct state *st = NULL;
	struct err e;
	char old[512], path[600];
	const char *moved;
	bool adopted = false;

	snprintf(old, sizeof(old), "%s/me@legacy.state", dir);
	append(old, "popfetch-state 1\nS 1 u1\n");
	CHECK(state_open(dir, "me@legacy,110,maildir-1", "me@legacy", true,
	    &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_is_stored(st, "u1", 2));
	moved = state_legacy(st, &adopted);
	snprintf(path, sizeof(path), "%s/me@legacy,110,maildir-1.state", dir);
	CHECK(moved != NULL && adopted && strcmp(moved, path) == 0);
	CHECK(access(old, F_OK) != 0);
	state_close(st);
	/* Reopened: nothing more to take over. */
	CHECK(state_open(dir, "me@legacy,110,maildir-1", "me@legacy", true,
	    &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_legacy(st, &adopted) == NULL);
	CHECK(state_is_stored(st, "u1", 2));
	state_close(st);

	/* Shared: no account takes it. */
	append(old, "popfetch-state 1\nS 1 u2\n");
	CHECK(state_open(dir, "me@legacy,995,mbox-2", "me@legacy", false,
	    &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(!state_is_stored(st, "u2", 2));
	moved = state_legacy(st, &adopted);
	CHECK(moved != NULL && !adopted && strstr(moved, ".unused") != NULL);
	CHECK(access(old, F_OK) != 0);
	snprintf(path, sizeof(path), "%s.unused", old);
	CHECK(access(path, F_OK) == 0);
	state_close(st);
}

/*
 * UIDLs chosen to collide in an unkeyed table: their FNV-1a hashes share
 * the low 17 bits (a table of 131072 slots, where 50,000 UIDLs end up).
 * The low k bits of FNV-1a after a byte depend only on the low k bits
 * before it, so: for a prefix (a counter written in printable bytes) and
 * each printable middle byte m, the state s after m is known; the last
 * byte b can only change bits 0..7 of s, so bits 8..16 of s must already
 * be 0, and b = s & 0xff then clears the rest (a multiplication by the
 * odd FNV prime keeps 0 at 0). b must be printable too: about one
 * candidate in 1400 fits.
 */
#define FLOOD_N 50000
#define FLOOD_LEN 10
#define FNV_PRIME 1099511628211ULL
#define LOW17 ((1ULL << 17) - 1)

static uint64_t
fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= FNV_PRIME;
	}
	return h;
}

static void
flood_uidls(char (*out)[FLOOD_LEN + 1], size_t n)
{
	size_t got = 0;

	for (unsigned long long ctr = 0; got < n; ctr++) {
		char u[FLOOD_LEN + 1];
		unsigned long long c = ctr;
		uint64_t h, sm;

		for (int i = 0; i < FLOOD_LEN - 2; i++) {
			u[i] = (char)('!' + c % 94);
			c /= 94;
		}
		h = fnv1a(u, FLOOD_LEN - 2);
		for (int m = '!'; m <= '~' && got < n; m++) {
			sm = (h ^ (uint64_t)m) * FNV_PRIME;
			if (((sm >> 8) & 0x1ff) != 0 || (sm & 0xff) < '!' ||
			    (sm & 0xff) > '~')
				continue;
			u[FLOOD_LEN - 2] = (char)m;
			u[FLOOD_LEN - 1] = (char)(sm & 0xff);
			u[FLOOD_LEN] = '\0';
			memcpy(out[got++], u, sizeof(u));
		}
	}
}

/* util_siphash is SipHash-2-4: the reference vectors (key 00..0f, message
 * 00 01 02 ... of length 0, 15 and 63). */
static void
test_siphash(void)
{
	const uint64_t key[2] = { 0x0706050403020100ULL,
	    0x0f0e0d0c0b0a0908ULL };
	unsigned char m[64];
	uint64_t k1[2], k2[2];

	for (int i = 0; i < 64; i++)
		m[i] = (unsigned char)i;
	CHECK(util_siphash(key, m, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(util_siphash(key, m, 15) == 0xa129ca6149be45e5ULL);
	CHECK(util_siphash(key, m, 63) == 0x958a324ceb064572ULL);
	util_random_key(k1);
	util_random_key(k2);
	CHECK(k1[0] != k2[0] || k1[1] != k2[1]);
}

/* A server cannot make the table of stored UIDLs slow by choosing them:
 * storing and looking up UIDLs built to collide costs a few probes each
 * (about 2n in all with a keyed hash; 8n is the bound), not one per UIDL
 * already stored (4.5e9 for these with the unkeyed FNV-1a). */
static void
test_hash_flood(void)
{
	char (*u)[FLOOD_LEN + 1] = xcalloc(FLOOD_N, sizeof(*u));
	struct state *st = open_ok();
	unsigned long long probes;
	size_t found = 0, bad = 0, before;

	flood_uidls(u, FLOOD_N);
	/* The generator does what it says. */
	for (size_t i = 0; i < FLOOD_N; i++)
		bad += (fnv1a(u[i], FLOOD_LEN) & LOW17) != 0;
	CHECK(bad == 0);
	CHECK(strcmp(u[0], u[FLOOD_N - 1]) != 0);
	if (st == NULL)
		goto out;
	before = state_count(st);	/* what earlier tests stored */
	for (size_t i = 0; i < FLOOD_N; i++)
		state_stored(st, u[i], FLOOD_LEN, false);
	for (size_t i = 0; i < FLOOD_N; i++)
		found += state_is_stored(st, u[i], FLOOD_LEN) != 0;
	CHECK(found == FLOOD_N);
	CHECK(state_count(st) == before + FLOOD_N);
	CHECK(!state_is_stored(st, "not-stored", 10));
	probes = state_probes(st);
	if (probes >= 8ULL * FLOOD_N)
		fprintf(stderr, "unit_state: %llu probes for %d UIDLs\n",
		    probes, FLOOD_N);
	CHECK(probes < 8ULL * FLOOD_N);
	state_close(st);
out:
	free(u);
}

/* A crash can leave a batch's S records without their C (a short write):
 * recovery abandons the batch, so they never count; an H record makes a
 * recovered intent held. */
static void
test_abandon_hold(void)
{
	struct state *st = NULL;
	const struct state_pending *p;
	struct err e;
	char path[512];

	snprintf(path, sizeof(path), "%s/me@abandon.state", dir);
	append(path, "popfetch-state 1\nB\nT m1 n1\nT m2 n2\nH n2\nS 5 m1\n");
	CHECK(state_open(dir, "me@abandon", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	p = state_pending(st);
	CHECK(p->open && p->nintents == 2);
	if (p->nintents == 2)
		CHECK(!p->intent_hold[0] && p->intent_hold[1]);
	/* As recover() does: abandon, then what was found (m2 only). */
	state_abandon(st);
	CHECK(p->nintents == 2);   /* still readable */
	if (p->nintents == 2)
		state_recovered(st, p->intent_uidl[1], p->intent_uidl_len[1],
		    p->intent_hold[1]);
	CHECK(state_sync(st, &e) == 0);
	state_close(st);
	CHECK(state_open(dir, "me@abandon", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(!state_pending(st)->open);
	CHECK(!state_is_stored(st, "m1", 2));   /* its S had no C */
	CHECK(state_is_stored(st, "m2", 2) && state_held(st, "m2", 2));
	state_close(st);
	/* A negative or zero absence time is refused. */
	append(path, "S 5 m3 a=-9223372036854775808\n");
	st = NULL;
	CHECK(state_open(dir, "me@abandon", NULL, false, &st, NULL, &e) ==
	    EX_DATAERR);
}

/* A UIDL stored three times and listed twice: the third copy is hidden,
 * not gone, unless this session deleted it. */
static void
test_forget_dups(void)
{
	struct state *st = NULL;
	struct err e;
	char path[512];
	char *inv[] = { "d", "d" };
	size_t lens[] = { 1, 1 };
	char *gone[] = { "d" };

	snprintf(path, sizeof(path), "%s/me@fdups.state", dir);
	append(path, "popfetch-state 1\nS 1 d\nS 2 d\nS 3 d\n");
	CHECK(state_open(dir, "me@fdups", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_compact(st, inv, lens, 2, NULL, NULL, 0, 86400, &e) == 0);
	state_close(st);
	{
		const char *t = slurp(path);
		const char *a = strstr(t, " d a=");
		CHECK(a != NULL && strstr(a + 1, " d a=") == NULL);
		CHECK(strstr(t, "S 1 d\nS 1 d\nS 1 d a=") != NULL);
	}
	CHECK(state_open(dir, "me@fdups", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_claim(st, "d", 1) && state_claim(st, "d", 1) &&
	    state_claim(st, "d", 1));
	/* Listed twice again, one deleted by this session: 1 present, 1
	 * deleted (gone), the hidden one stays absent. */
	CHECK(state_compact(st, inv, lens, 1, gone, lens, 1, 86400, &e) == 0);
	state_close(st);
	{
		const char *t = slurp(path);
		CHECK(strstr(t, "S 1 d\nS 1 d a=") != NULL);
		CHECK(strstr(strstr(t, " d a=") + 1, " d") == NULL);
	}
}

static void
test_garbage(void)
{
	char path[512];
	struct state *st = NULL;
	struct err e;

	snprintf(path, sizeof(path), "%s/me@other.state", dir);
	append(path, "this is not a state file\n");
	CHECK(state_open(dir, "me@other", NULL, false, &st, NULL, &e) == EX_DATAERR);
	CHECK(strstr(e.msg, "not a popfetch state file") != NULL);
	CHECK(st == NULL);
}

/* A journal of many records: read in pieces (records across the
 * pieces' ends, a line longer than a piece, a torn last record after
 * them), and compacted from marks with a bounded number of probes per
 * UIDL (no lookup per record of another's), in the order stored. */
#define SCALE_N 30000
#define LONG_UIDL (150 * 1024)

static void
test_scale(void)
{
	struct state *st = NULL;
	struct err e;
	char path[512], u[32], *lu = xmalloc(LONG_UIDL);
	unsigned long long probes;
	size_t kept = 0;
	FILE *f;
	int c, prev = '\n', lines = 0, ok;
	struct stat sb;

	for (size_t i = 0; i < LONG_UIDL; i++)
		lu[i] = (char)(i % 7 == 0 ? ' ' : 'a' + (int)(i % 26));
	snprintf(path, sizeof(path), "%s/me@scale.state", dir);
	CHECK(state_open(dir, "me@scale", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		goto out;
	for (int i = 0; i < SCALE_N; i++) {
		snprintf(u, sizeof(u), "u%06d", i);
		state_stored(st, u, strlen(u), i == 7);
		if (i == SCALE_N / 2)
			state_stored(st, lu, LONG_UIDL, false);
	}
	CHECK(state_sync(st, &e) == 0);
	state_close(st);
	/* A torn record after everything: cut at open. */
	append(path, "S 12 torn-record");
	CHECK(stat(path, &sb) == 0 && sb.st_size > 4 * 64 * 1024);
	st = NULL;
	CHECK(state_open(dir, "me@scale", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		goto out;
	CHECK(state_count(st) == SCALE_N + 1);
	CHECK(state_is_stored(st, lu, LONG_UIDL));
	CHECK(!state_is_stored(st, lu, LONG_UIDL - 1));
	CHECK(!state_is_stored(st, "torn-record", 11));
	CHECK(state_held(st, "u000007", 7) && !state_held(st, "u000008", 7));
	/* The server lists all but the first 1000; this session deleted
	 * 500 of those. */
	probes = state_probes(st);
	for (int i = 1000; i < SCALE_N; i++) {
		snprintf(u, sizeof(u), "u%06d", i);
		state_mark_listed(st, u, strlen(u));
	}
	for (int i = 0; i < 500; i++) {
		snprintf(u, sizeof(u), "u%06d", i);
		state_mark_gone(st, u, strlen(u));
	}
	state_mark_listed(st, lu, LONG_UIDL);
	state_mark_listed(st, "not-stored", 10);
	CHECK(state_compact_marked(st, 86400, &e) == 0);
	probes = state_probes(st) - probes;
	if (probes >= 4ULL * SCALE_N)
		fprintf(stderr, "unit_state: %llu probes compacting %d\n",
		    probes, SCALE_N);
	CHECK(probes < 4ULL * SCALE_N);
	state_close(st);
	/* One line per record left, in the order stored: present, absent
	 * (a=), gone. */
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f != NULL) {
		while ((c = getc(f)) != EOF) {
			lines += c == '\n';
			prev = c;
		}
		fclose(f);
	}
	CHECK(prev == '\n');
	CHECK(lines == 1 + SCALE_N - 500 + 1);
	st = NULL;
	CHECK(state_open(dir, "me@scale", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		goto out;
	CHECK(state_count(st) == SCALE_N - 500 + 1);
	ok = 1;
	for (int i = 0; i < SCALE_N; i++) {
		snprintf(u, sizeof(u), "u%06d", i);
		if (state_is_stored(st, u, strlen(u)) != (i >= 500))
			ok = 0;
		kept += i >= 500;
	}
	CHECK(ok && kept == SCALE_N - 500);
	CHECK(state_is_stored(st, lu, LONG_UIDL));
	CHECK(state_held(st, "u000007", 7) == 0);   /* gone: forgotten */
	state_close(st);
out:
	free(lu);
}

/* Memory per stored UIDL (what bounds a run over a large mailbox): a
 * journal of MEM_N stored 16-byte UIDLs (Dovecot's form) is loaded into
 * at most MEM_PER_UIDL bytes of heap each, counted by malloc itself
 * (mallinfo2: bytes in use, mmapped blocks included). Skipped, and said
 * so, where malloc cannot be counted so (valgrind, sanitizers). */
#define MEM_N 100000
#define MEM_PER_UIDL 40

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void
test_memory(void)
{
	struct state *st = NULL;
	struct err e;
	char u[32];
	size_t before, per;
	void *probe;

	/* Does mallinfo2 see an allocation at all here? */
	before = heap_in_use();
	probe = xmalloc(1 << 20);
	memset(probe, 1, 1 << 20);
	per = heap_in_use() - before;
	free(probe);
	if (per < (1 << 20)) {
		fprintf(stderr, "unit_state: memory per UIDL not measured "
		    "(malloc not counted by mallinfo2 here)\n");
		return;
	}
	CHECK(state_open(dir, "me@memory", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	for (int i = 0; i < MEM_N; i++) {
		snprintf(u, sizeof(u), "%08x%08x", (unsigned)i * 2654435761U,
		    (unsigned)i);
		state_stored(st, u, 16, false);
	}
	CHECK(state_sync(st, &e) == 0);
	state_close(st);
	st = NULL;
	malloc_trim(0);
	before = heap_in_use();
	CHECK(state_open(dir, "me@memory", NULL, false, &st, NULL, &e) == 0);
	if (st == NULL)
		return;
	CHECK(state_count(st) == MEM_N);
	per = (heap_in_use() - before) / MEM_N;
	if (per > MEM_PER_UIDL)
		fprintf(stderr, "unit_state: %zu bytes per stored UIDL "
		    "(at most %d)\n", per, MEM_PER_UIDL);
	CHECK(per <= MEM_PER_UIDL);
	state_close(st);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof(dir), "/tmp/popfetch-unit-state-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	strcat(dir, "/sub/dir");   /* created on demand */
	test_key();
	test_persist();
	test_open_batch();
	test_compact_and_lock();
	test_lock_held_by_other();
	test_peek();
	test_duplicates();
	test_siphash();
	test_hash_flood();
	test_garbage();
	test_forget();
	test_legacy();
	test_abandon_hold();
	test_forget_dups();
	test_scale();
	test_memory();
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 8), dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return unit_done("unit_state");
}
