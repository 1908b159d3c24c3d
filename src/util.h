/*
 * util.h - small helpers shared by every module: the error record each
 * function fills in for its caller, checked allocation, path helpers.
 */
#ifndef POPFETCH_UTIL_H
#define POPFETCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

/*
 * An error travelling up the call chain: a sysexits.h code and one line of
 * text (no trailing newline, no account name: the caller adds context).
 * code == 0 means no error.
 */
struct err {
	int code;
	char msg[1024];
};

/* Fill e (when not NULL) and return code, so callers can
 * `return err_set(e, EX_IOERR, "...")`. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set, appending ": strerror(errnum)". */
int err_sys(struct err *e, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix the existing message of e with "prefix: ". */
void err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

/* Allocation that aborts the program on exhaustion (nothing sensible can be
 * done; the journal and stores are consistent at every step). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Expand a leading "~/" or "~" using $HOME. Returns a new string. */
char *util_expand_tilde(const char *path);

/* Write an absolute path in one spelling, in place: no "//", no "/./",
 * no trailing "/" (except "/" itself). ".." and symbolic links are left
 * as they are. */
void util_path_clean(char *path);

/*
 * Durable file-system helpers, for the stores and the state alike: a new
 * directory entry survives a crash only once the directory holding it is
 * synced.
 */
/* mkdir -p with the given mode for missing components, fsyncing the
 * parent of every directory it creates. 0 or errno (ENOTDIR when path
 * exists and is not a directory). */
int util_mkdirs_durable(const char *path, int mode);

/* 0 when path is a directory (following symlinks), else ENOTDIR or the
 * errno of stat(). */
int util_is_dir(const char *path);

/* fsync the directory at path. 0 or errno. */
int util_fsync_dir(const char *path);

/* fsync the directory holding path ("." for a name without '/'), after
 * creating, renaming or removing path. 0 or errno. */
int util_fsync_parent(const char *path);

/* fsync the file at path (opened read-only).
 * 0 or errno. */
int util_fsync_file(const char *path);

/* Write all of buf to fd, retrying on EINTR and short writes. 0 or errno. */
int util_write_all(int fd, const void *buf, size_t len);

/* Overwrite a secret in memory in a way the compiler cannot drop. */
void util_wipe(void *p, size_t n);

/* Free a secret string after wiping it. */
void util_free_secret(char *s);

/* Monotonic clock in milliseconds. */
long long util_now_ms(void);

/* Sleep ms milliseconds, resumed after a signal handler ran. */
void util_sleep_ms(long ms);

/* The 64-bit FNV-1a hash of p[0..n) (offset basis 14695981039346656037,
 * prime 1099511628211): the same everywhere, for names that must not
 * change (journal keys, shards); never for tables keyed from outside. */
uint64_t util_fnv1a64(const void *p, size_t n);

/* SipHash-2-4 of p[0..n) under key: a hash for tables whose keys come
 * from outside (UIDLs), which a peer cannot aim at one bucket without
 * the key. */
uint64_t util_siphash(const uint64_t key[2], const void *p, size_t n);

/* A random key for util_siphash, from getrandom(); without it (old
 * kernel, no entropy yet), one from clocks, pid and addresses. */
void util_random_key(uint64_t key[2]);

#endif
