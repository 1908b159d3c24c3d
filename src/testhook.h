/*
 * testhook.h - crash points for the kill -9 tests. Compiled in only with
 * -DPOPFETCH_TEST_HOOKS (the tests/popfetch_hooks binary that make check
 * builds); in popfetch itself TESTHOOK() is nothing.
 *
 * With hooks compiled in:
 *   POPFETCH_HOOK_LOG=FILE   append the name of every point reached
 *   POPFETCH_CRASH=NAME:N    SIGKILL ourselves at the Nth time NAME is
 *                            reached (as a power cut or kill -9 would)
 *   POPFETCH_BATCH=N         messages per batch (default 64), so small
 *                            mailboxes still have several batches
 *   POPFETCH_HOOK_SLEEP=NAME:MS:N  sleep MS ms the Nth time NAME is
 *                            reached (a slow disk under the store)
 *   POPFETCH_FAIL=NAME:N[,NAME:N]...  TESTHOOK_FAIL(NAME) returns EIO
 *                            the Nth time it is reached (every time for
 *                            N 0), else 0: the system call after it is
 *                            taken as failed (a disk error where no test
 *                            can make a real one); up to 8 entries
 */
#ifndef POPFETCH_TESTHOOK_H
#define POPFETCH_TESTHOOK_H

#ifdef POPFETCH_TEST_HOOKS
void testhook_hit(const char *name);
int testhook_batch(int dflt);
int testhook_fail(const char *name);
#define TESTHOOK(name) testhook_hit(name)
#define TESTHOOK_BATCH(dflt) testhook_batch(dflt)
#define TESTHOOK_FAIL(name) testhook_fail(name)
#else
#define TESTHOOK(name) ((void)0)
#define TESTHOOK_BATCH(dflt) (dflt)
#define TESTHOOK_FAIL(name) 0
#endif

#endif
