/*
 * unit_shard: --shard K/N's parse (every refusal EX_USAGE with the reason
 * and the form), the hash (FNV-1a 64 of the name's bytes; the vectors
 * were computed apart from this code, by Python, and the first three are
 * FNV's published ones), the shard of a name, and the selection of
 * accounts (names and shard together, configuration order, an unknown
 * name, a selection among many names that stays fast).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "shard.h"
#include "unit.h"

static void
test_parse_good(void)
{
	static const struct {
		const char *arg;
		unsigned long k, n;
	} ok[] = {
		{ "0/1", 0, 1 }, { "0/2", 0, 2 }, { "1/2", 1, 2 },
		{ "6/7", 6, 7 }, { "00/3", 0, 3 }, { "999999/1000000", 999999,
		1000000 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct shard sh = { 99, 99 };
		struct err e;

		err_clear(&e);
		CHECK(shard_parse(ok[i].arg, &sh, &e) == 0);
		CHECK(sh.k == ok[i].k && sh.n == ok[i].n);
	}
}

static void
test_parse_bad(void)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "3/3", "K must be less than N" },
		{ "5/3", "K must be less than N" },
		{ "-1/2", "K is not a whole number" },
		{ "+1/2", "K is not a whole number" },
		{ " 1/2", "K is not a whole number" },
		{ "a/b", "K is not a whole number" },
		{ "1/0", "N must be at least 1" },
		{ "0/0", "N must be at least 1" },
		{ "1/", "N is not a whole number" },
		{ "/2", "K is not a whole number" },
		{ "1/2/3", "N is not a whole number" },
		{ "1/2x", "N is not a whole number" },
		{ "1/2 ", "N is not a whole number" },
		{ "1x/2", "K is not a whole number" },
		{ "1", "no '/'" },
		{ "", "no '/'" },
		{ "0/1000001", "N is too large" },
		{ "0/99999999999999999999999", "N is too large" },
		{ "99999999999999999999999/2", "K must be less than N" },
		{ "1/-2", "N is not a whole number" },
		{ "0x1/2", "K is not a whole number" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct shard sh = { 7, 9 };
		struct err e;
		char want[128];

		err_clear(&e);
		CHECK(shard_parse(bad[i].arg, &sh, &e) == EX_USAGE);
		CHECK(sh.k == 7 && sh.n == 9);
		snprintf(want, sizeof(want), "--shard \"%s\": %s", bad[i].arg,
		    bad[i].why);
		if (strncmp(e.msg, want, strlen(want)) != 0) {
			fprintf(stderr, "%s: got \"%s\"\n", bad[i].arg, e.msg);
			CHECK(!"the message says why");
		}
		CHECK(strstr(e.msg, "K/N, whole numbers with 0 <= K < N <= "
		    "1000000") != NULL);
	}
}

static void
test_hash(void)
{
	/* Python: h = 0xcbf29ce484222325; for b in name.encode():
	 * h = ((h ^ b) * 0x100000001b3) % 2**64 */
	static const struct {
		const char *name;
		uint64_t h;
		unsigned long mod2, mod3, mod7, mod1m;
	} v[] = {
		{ "", 0xcbf29ce484222325ULL, 1, 2, 2, 656037 },
		{ "a", 0xaf63dc4c8601ec8cULL, 0, 1, 5, 641996 },
		{ "foobar", 0x85944171f73967e8ULL, 0, 0, 6, 436968 },
		{ "work", 0x7058edf6366825c0ULL, 0, 2, 6, 999360 },
		{ "home", 0x402d1bcc7e6f9d6eULL, 0, 1, 3, 889774 },
		{ "Z\xc3\xbcrich mail", 0xf76660fb61be8de7ULL, 1, 2, 2,
		    623015 },
		{ "user00042-mail", 0x97bfd9a7c6b0416cULL, 0, 1, 1, 59308 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(shard_hash(v[i].name) == v[i].h);
		CHECK(shard_of(v[i].name, 1) == 0);
		CHECK(shard_of(v[i].name, 2) == v[i].mod2);
		CHECK(shard_of(v[i].name, 3) == v[i].mod3);
		CHECK(shard_of(v[i].name, 7) == v[i].mod7);
		CHECK(shard_of(v[i].name, 1000000) == v[i].mod1m);
	}
}

/* A config of n accounts named "acct-I" (only names matter here). */
static void
fake_config(struct config *cfg, size_t n)
{
	cfg->path = "test.yaml";
	cfg->naccounts = n;
	cfg->accounts = calloc(n, sizeof(*cfg->accounts));
	for (size_t i = 0; i < n; i++) {
		cfg->accounts[i].name = malloc(32);
		snprintf(cfg->accounts[i].name, 32, "acct-%zu", i);
		cfg->accounts[i].line = (int)i + 2;
	}
}

static void
fake_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		free(cfg->accounts[i].name);
	free(cfg->accounts);
}

static void
test_select(void)
{
	struct config cfg, view;
	struct shard none = { 0, 0 }, sh;
	struct err e;
	char *names[] = { "acct-9", "acct-2", "acct-2", "acct-5" };
	size_t total;

	fake_config(&cfg, 10);
	/* Everything. */
	CHECK(shard_select(&cfg, NULL, 0, &none, &view, &e) == 0);
	CHECK(view.naccounts == 10 && view.path == cfg.path);
	for (size_t i = 0; i < view.naccounts; i++)
		CHECK(strcmp(view.accounts[i].name, cfg.accounts[i].name) == 0);
	shard_view_free(&view);

	/* Names: in configuration order, each once. */
	CHECK(shard_select(&cfg, names, 4, &none, &view, &e) == 0);
	CHECK(view.naccounts == 3);
	if (view.naccounts == 3) {
		CHECK_STR(view.accounts[0].name, "acct-2");
		CHECK_STR(view.accounts[1].name, "acct-5");
		CHECK_STR(view.accounts[2].name, "acct-9");
	}
	shard_view_free(&view);

	/* Shards: disjoint, covering, each by its formula. */
	for (unsigned long n = 1; n <= 7; n++) {
		total = 0;
		for (unsigned long k = 0; k < n; k++) {
			sh.k = k;
			sh.n = n;
			CHECK(shard_select(&cfg, NULL, 0, &sh, &view, &e) == 0);
			for (size_t i = 0; i < view.naccounts; i++)
				CHECK(shard_hash(view.accounts[i].name) % n ==
				    k);
			total += view.naccounts;
			shard_view_free(&view);
		}
		CHECK(total == 10);
	}

	/* Names and a shard: the intersection. */
	sh.n = 2;
	sh.k = shard_of("acct-5", 2);
	CHECK(shard_select(&cfg, names, 4, &sh, &view, &e) == 0);
	for (size_t i = 0; i < view.naccounts; i++)
		CHECK(shard_of(view.accounts[i].name, 2) == sh.k);
	CHECK(view.naccounts == (size_t)(shard_of("acct-2", 2) == sh.k) +
	    1 + (shard_of("acct-9", 2) == sh.k));
	shard_view_free(&view);

	/* An unknown name: a usage error that lists the accounts. */
	{
		char *bad[] = { "acct-1", "nope" };

		err_clear(&e);
		CHECK(shard_select(&cfg, bad, 2, &none, &view, &e) ==
		    EX_USAGE);
		CHECK_STR(e.msg, "test.yaml: no account named \"nope\"; the "
		    "accounts are: acct-0, acct-1, acct-2, acct-3, acct-4, "
		    "acct-5, acct-6, acct-7, acct-8, acct-9");
		CHECK(view.accounts == NULL && view.naccounts == 0);
	}
	fake_free(&cfg);

	/* Many accounts, many names: the list in the message is cut. */
	fake_config(&cfg, 50000);
	{
		char **many = calloc(50001, sizeof(*many));

		for (size_t i = 0; i < 50000; i++)
			many[i] = cfg.accounts[49999 - i].name;
		CHECK(shard_select(&cfg, many, 50000, &none, &view, &e) == 0);
		CHECK(view.naccounts == 50000);
		shard_view_free(&view);
		many[50000] = "acct-50000";
		CHECK(shard_select(&cfg, many, 50001, &none, &view, &e) ==
		    EX_USAGE);
		CHECK(strncmp(e.msg, "test.yaml: no account named "
		    "\"acct-50000\"; the accounts are: acct-0, acct-1, ", 66) ==
		    0);
		CHECK(strstr(e.msg, " more (popfetch --check-config lists "
		    "them)") != NULL);
		free(many);
	}
	fake_free(&cfg);
}

int
main(void)
{
	test_parse_good();
	test_parse_bad();
	test_hash();
	test_select();
	return unit_done("unit_shard");
}
