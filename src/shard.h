/*
 * shard.h - which accounts of the configuration a run takes: those named
 * (-a NAME, or names as arguments; all when none is named) and, with
 * --shard K/N, only those whose name falls in shard K of N. N machines
 * (a Kubernetes Indexed Job, a Slurm job array) each run one shard of one
 * file and together run every account exactly once.
 *
 * The shard of an account (popfetch(1) documents it, to be computed
 * elsewhere): the 64-bit FNV-1a hash of the name's bytes (UTF-8, as
 * popfetch reads the name from the file: what --check-config prints) -
 * offset basis 14695981039346656037, prime 1099511628211, each byte XORed
 * in and then multiplied, modulo 2^64 - taken modulo N. It depends on the
 * name and N alone: the same on every machine and in every version.
 * Renaming an account may move it to another shard; its journal does not
 * depend on the name.
 */
#ifndef POPFETCH_SHARD_H
#define POPFETCH_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

#define SHARD_N_MAX 1000000UL   /* more machines than that: a typo */

/* n == 0: no --shard (every account). */
struct shard {
	unsigned long k, n;
};

/*
 * Parse --shard's argument: "K/N", K and N decimal digits only (no sign,
 * blank or other character; leading zeros allowed), 0 <= K < N <=
 * SHARD_N_MAX. 0 and *out set; or EX_USAGE, *out untouched, e->msg
 * "--shard \"ARG\": WHY; expected K/N, whole numbers with 0 <= K < N <=
 * 1000000 (e.g. --shard 0/4)" where WHY is one of "no '/' between K and
 * N", "K is not a whole number", "N is not a whole number", "N must be at
 * least 1", "N is too large", "K must be less than N". Pure.
 */
int shard_parse(const char *arg, struct shard *out, struct err *e);

/* The 64-bit FNV-1a hash of name's bytes (up to its NUL). Pure. */
uint64_t shard_hash(const char *name);

/* shard_hash(name) mod n: name's shard of n (n >= 1). Pure. */
unsigned long shard_of(const char *name, unsigned long n);

/*
 * The accounts of cfg the run takes: named in names[0..nnames) (every
 * account when nnames is 0; a name given twice counts once) and in shard
 * sh (every account when sh->n is 0), in configuration order. *view gets
 * cfg's path and an array of copies of the selected accounts' structs,
 * which share cfg's strings: use it while cfg lives, free it with
 * shard_view_free() (never config_free). O((accounts + names) log
 * accounts). EX_USAGE when a name is no account's, with e->msg "PATH: no
 * account named \"NAME\"; the accounts are: A, B, ..." (cut, ending
 * "... and N more (popfetch --check-config lists them)", when too long);
 * *view is then empty.
 */
int shard_select(const struct config *cfg, char *const *names,
    size_t nnames, const struct shard *sh, struct config *view,
    struct err *e);

/* Free what shard_select allocated; *view is empty after. */
void shard_view_free(struct config *view);

#endif
