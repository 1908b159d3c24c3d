/*
 * shard.c - the accounts a run takes: names (-a) and --shard K/N.
 *
 * Names are looked up in a sorted copy of the accounts' names, so a file
 * of 10,000 accounts and a command line naming thousands of them cost
 * O((accounts + names) log accounts), not their product.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

#define FORM "expected K/N, whole numbers with 0 <= K < N <= 1000000 " \
    "(e.g. --shard 0/4)"

/* Decimal digits s[0..len) (len >= 1) into *v, saturating above max.
 * False when empty or anything but a digit is there. */
static bool
digits(const char *s, size_t len, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (x <= max)
			x = x * 10 + (unsigned long)(s[i] - '0');
	}
	*v = x;
	return true;
}

int
shard_parse(const char *arg, struct shard *out, struct err *e)
{
	const char *slash = strchr(arg, '/');
	unsigned long k, n;
	const char *why = NULL;

	/* Saturating above SHARD_N_MAX keeps the values in range: "too
	 * large" whatever the number of digits. */
	if (slash == NULL)
		why = "no '/' between K and N";
	else if (!digits(arg, (size_t)(slash - arg), SHARD_N_MAX, &k))
		why = "K is not a whole number";
	else if (!digits(slash + 1, strlen(slash + 1), SHARD_N_MAX, &n))
		why = "N is not a whole number";
	else if (n == 0)
		why = "N must be at least 1";
	else if (n > SHARD_N_MAX)
		why = "N is too large";
	else if (k >= n)
		why = "K must be less than N";
	if (why != NULL)
		return err_set(e, EX_USAGE, "--shard \"%s\": %s; " FORM, arg,
		    why);
	out->k = k;
	out->n = n;
	return 0;
}

uint64_t
shard_hash(const char *name)
{
	return util_fnv1a64(name, strlen(name));
}

unsigned long
shard_of(const char *name, unsigned long n)
{
	return (unsigned long)(shard_hash(name) % n);
}

/* An account's name and index, ordered by name. */
struct byname {
	const char *name;
	size_t i;
};

static int
cmp_byname(const void *x, const void *y)
{
	const struct byname *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* "PATH: no account named ..." with as many names as fit. */
static int
unknown(const struct config *cfg, const char *name, struct err *e)
{
	size_t len, i;

	err_set(e, EX_USAGE, "%s: no account named \"%s\"; the accounts are: ",
	    cfg->path, name);
	len = strlen(e->msg);
	for (i = 0; i < cfg->naccounts; i++) {
		const char *n = cfg->accounts[i].name;
		size_t need = strlen(n) + (i > 0 ? 2 : 0);

		/* Room for this name and for the tail below. */
		if (len + need + 64 >= sizeof(e->msg))
			break;
		snprintf(e->msg + len, sizeof(e->msg) - len, "%s%s",
		    i > 0 ? ", " : "", n);
		len += need;
	}
	if (i < cfg->naccounts)
		snprintf(e->msg + len, sizeof(e->msg) - len, ", ... and %zu "
		    "more (popfetch --check-config lists them)",
		    cfg->naccounts - i);
	return EX_USAGE;
}

int
shard_select(const struct config *cfg, char *const *names, size_t nnames,
    const struct shard *sh, struct config *view, struct err *e)
{
	bool *want = NULL;
	struct byname *sorted = NULL;
	int rc = 0;

	memset(view, 0, sizeof(*view));
	if (nnames > 0) {
		want = xcalloc(cfg->naccounts + 1, sizeof(*want));
		sorted = xcalloc(cfg->naccounts + 1, sizeof(*sorted));
		for (size_t i = 0; i < cfg->naccounts; i++)
			sorted[i] = (struct byname){ cfg->accounts[i].name, i };
		qsort(sorted, cfg->naccounts, sizeof(*sorted), cmp_byname);
		for (size_t j = 0; j < nnames; j++) {
			struct byname key = { names[j], 0 }, *hit;

			hit = bsearch(&key, sorted, cfg->naccounts,
			    sizeof(*sorted), cmp_byname);
			if (hit == NULL) {
				rc = unknown(cfg, names[j], e);
				goto out;
			}
			want[hit->i] = true;
		}
	}
	view->path = cfg->path;
	view->accounts = xcalloc(cfg->naccounts + 1, sizeof(*view->accounts));
	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];

		if (want != NULL && !want[i])
			continue;
		if (sh->n > 0 && shard_of(a->name, sh->n) != sh->k)
			continue;
		view->accounts[view->naccounts++] = *a;
	}
out:
	free(want);
	free(sorted);
	return rc;
}

void
shard_view_free(struct config *view)
{
	free(view->accounts);
	memset(view, 0, sizeof(*view));
}
