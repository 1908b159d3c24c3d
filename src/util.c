/*
 * util.c - error records, checked allocation, small file-system helpers.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
err_sys(struct err *e, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(errnum));
	return code;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char buf[sizeof(e->msg)];
	va_list ap;
	size_t n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* head, ": ", then as much of the old text as fits */
	n = strlen(buf);
	if (n + 2 < sizeof(buf)) {
		memcpy(buf + n, ": ", 3);
		n += 2;
		size_t old = strlen(e->msg), room = sizeof(buf) - n - 1;
		if (old > room)
			old = room;
		memcpy(buf + n, e->msg, old);
		buf[n + old] = '\0';
	}
	memcpy(e->msg, buf, sizeof(buf));
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

static void
oom(void)
{
	/* No allocation, no stdio buffering: just say it and stop. */
	static const char m[] = "popfetch: out of memory\n";
	(void)!write(STDERR_FILENO, m, sizeof(m) - 1);
	_exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

char *
util_expand_tilde(const char *path)
{
	const char *home;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
		return xstrdup(path);
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		return xstrdup(path);
	return xasprintf("%s%s", home, path + 1);
}

void
util_path_clean(char *path)
{
	char *o = path;

	for (const char *p = path; *p; ) {
		if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0')))) {
			p += p[1] == '/' ? 1 : 2;
			continue;
		}
		*o++ = *p++;
	}
	while (o > path + 1 && o[-1] == '/')
		o--;
	if (o == path && *path == '/')   /* "/." was all there was */
		o++;
	*o = '\0';
}

int
util_fsync_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash;
	int rc;

	slash = strrchr(dir, '/');
	if (slash == NULL)
		rc = util_fsync_dir(".");
	else {
		slash[slash == dir ? 1 : 0] = '\0';
		rc = util_fsync_dir(dir);
	}
	free(dir);
	return rc;
}

int
util_is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/*
 * Each created directory's entry lives in its parent, which must be
 * synced for the directory to survive a crash, so only this function
 * knows which parents need it: create from the top down by recursion on
 * the parent, syncing the parent after each mkdir that succeeds.
 */
int
util_mkdirs_durable(const char *path, int mode)
{
	char *parent, *slash;
	int rc;

	if (mkdir(path, (mode_t)mode) == 0)
		return util_fsync_parent(path);
	if (errno == EEXIST)
		return util_is_dir(path);
	if (errno != ENOENT)
		return errno;

	parent = xstrdup(path);
	slash = parent + strlen(parent);
	while (slash > parent && slash[-1] == '/')	/* "a/b/" */
		*--slash = '\0';
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent) {
		/* The parent is "." or "/", which exist: the ENOENT came
		 * from elsewhere (a dangling symlink, a removed cwd). */
		free(parent);
		return ENOENT;
	}
	*slash = '\0';
	rc = util_mkdirs_durable(parent, mode);
	free(parent);
	if (rc != 0)
		return rc;
	if (mkdir(path, (mode_t)mode) == 0)
		return util_fsync_parent(path);
	if (errno == EEXIST)
		return util_is_dir(path);
	return errno;
}

/* Open path read-only (with extra open flags), fsync, close. 0 or errno. */
static int
fsync_path(const char *path, int flags)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return errno;
	if (fsync(fd) != 0)
		rc = errno;
	close(fd);
	return rc;
}

int
util_fsync_dir(const char *path)
{
	return fsync_path(path, O_DIRECTORY);
}

int
util_fsync_file(const char *path)
{
	return fsync_path(path, 0);
}

int
util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
util_wipe(void *p, size_t n)
{
	/* A volatile pointer keeps the stores from being optimised away. */
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void
util_free_secret(char *s)
{
	if (s == NULL)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

long long
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* SipHash-2-4 (Aumasson and Bernstein), 64-bit output. */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
	v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
} while (0)

uint64_t
util_fnv1a64(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
util_siphash(const uint64_t key[2], const void *p, size_t n)
{
	const unsigned char *q = p;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t m, last = (uint64_t)n << 56;
	size_t i, tail = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)	/* little-endian */
			m = m << 8 | q[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < tail; j++)
		last |= (uint64_t)q[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Where getrandom() fails (an old kernel, entropy not yet ready), a key
 * from the clocks, the pid and addresses (ASLR) still differs from run to
 * run and is not in the peer's hands the way a fixed key would be. */
void
util_random_key(uint64_t key[2])
{
	struct timespec rt, mt;
	const uint64_t k0[2] = { 0, 0 };
	uint64_t mix[4];

	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) ==
	    (ssize_t)(2 * sizeof(key[0])))
		return;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	mix[0] = (uint64_t)rt.tv_sec << 30 ^ (uint64_t)rt.tv_nsec;
	mix[1] = (uint64_t)mt.tv_sec << 30 ^ (uint64_t)mt.tv_nsec;
	mix[2] = (uint64_t)getpid();
	mix[3] = (uint64_t)(uintptr_t)key ^ (uint64_t)(uintptr_t)&rt;
	key[0] = util_siphash(k0, mix, sizeof(mix));
	mix[0] ^= key[0];
	key[1] = util_siphash(k0, mix, sizeof(mix));
}
