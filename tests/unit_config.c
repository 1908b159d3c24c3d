/*
 * unit_config.c - the configuration loader: a full valid file with its
 * defaults, every class of error with its exact position, and the three
 * password sources.
 */
#include "autoconf.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char dir[] = "/tmp/unit_config.XXXXXX";
static char home[PATH_MAX];
static int nfiles;

/* The smallest valid file: lines 1-6, the account's mapping at 2:5. */
#define ACCOUNTS_A \
	"accounts:\n" \
	"  - name: a\n" \
	"    host: h\n" \
	"    user: u\n" \
	"    password: p\n" \
	"    maildir: /m\n"

static char *
write_file(const char *text)
{
	char *path = xasprintf("%s/c%d.yaml", dir, ++nfiles);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static size_t
count_lines(const char *s)
{
	size_t n = 1;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/*
 * Load text; it must fail with EX_CONFIG, report "PATH:LINE:COL: msg" (msg
 * a prefix of the rest of some line) and, when nlines > 0, exactly that
 * many lines.
 */
static void
expect_error(int where, const char *text, int line, int col, const char *msg,
    size_t nlines)
{
	struct config cfg;
	char *path = write_file(text), *errors = NULL, *want;
	int rc;

	rc = config_load(path, &cfg, &errors);
	want = xasprintf("%s:%d:%d: %s", path, line, col, msg);
	CHECK(rc == EX_CONFIG);
	CHECK(errors != NULL && strstr(errors, want) != NULL);
	CHECK(cfg.naccounts == 0 && cfg.accounts == NULL);
	if (nlines > 0)
		CHECK(errors != NULL && count_lines(errors) == nlines);
	if (rc != EX_CONFIG || errors == NULL || strstr(errors, want) == NULL ||
	    (nlines > 0 && count_lines(errors) != nlines))
		fprintf(stderr, "  (from line %d) want \"%s\" in %zu line(s), "
		    "got rc %d:\n%s\n", where, want, nlines, rc,
		    errors ? errors : "(null)");
	free(want);
	free(errors);
	free(path);
}

#define EXPECT_ERROR(text, line, col, msg, n) \
	expect_error(__LINE__, text, line, col, msg, n)

/* The errors for text (kept until the next call; NULL frees them). */
static const char *
errors_of(const char *text)
{
	static char *errors;
	struct config cfg;
	char *path;

	free(errors);
	errors = NULL;
	if (text == NULL)
		return NULL;
	path = write_file(text);
	CHECK(config_load(path, &cfg, &errors) == EX_CONFIG);
	free(path);
	return errors ? errors : "";
}

static char *
load_ok(const char *text, struct config *cfg)
{
	char *path = write_file(text), *errors = NULL;
	int rc = config_load(path, cfg, &errors);

	CHECK(rc == 0);
	CHECK(errors == NULL);
	if (rc != 0)
		fprintf(stderr, "  unexpected errors:\n%s\n", errors);
	free(errors);
	return path;
}

static char *
in_home(const char *rest)
{
	return xasprintf("%s%s", home, rest);
}

static void
test_valid_full(void)
{
	static const char text[] =
	    "# a comment\n"					/* 1 */
	    "defaults:\n"
	    "  tls: starttls\n"
	    "  user: shared\n"
	    "  keep: no\n"					/* 5 */
	    "  timeout: 2m\n"
	    "  password_env: POPFETCH_TEST_PW\n"
	    "  state_dir: ~/state\n"
	    "accounts:\n"
	    "  - name: work\n"					/* 10 */
	    "    host: pop.example.org\n"
	    "    port: 1995\n"
	    "    tls: implicit\n"
	    "    ca_file: ~/certs/ca.pem\n"
	    "    user: me@example.org\n"			/* 15 */
	    "    password: \"hunter2\"\n"
	    "    maildir: ~/Mail/work\n"
	    "    keep: YES\n"
	    "    timeout: 30s\n"
	    "  - name: home\n"					/* 20 */
	    "    host: pop.home.example\n"
	    "    mbox: /var/mail/me\n"
	    "  - {name: plain, host: 192.0.2.1, tls: NONE, keep: True,\n"
	    "     password_command: [pass, show, mail/plain],\n"
	    "     maildir: /srv/mail, timeout: 500ms, state_dir: /var/lib/pf}\n"
	    "  - name: bare\n"
	    "    host: h\n"
	    "    timeout: 45\n"
	    "    maildir: /x\n";
	struct config cfg;
	struct account *a;
	char *path, *p;

	path = load_ok(text, &cfg);
	CHECK(cfg.naccounts == 4);
	CHECK_STR(cfg.path, path);
	if (cfg.naccounts != 4)
		goto out;

	a = &cfg.accounts[0];			/* everything its own */
	CHECK_STR(a->name, "work");
	CHECK_STR(a->host, "pop.example.org");
	CHECK(a->port == 1995);
	CHECK(a->tls == TLS_IMPLICIT);
	CHECK_STR(a->ca_file, p = in_home("/certs/ca.pem"));
	free(p);
	CHECK_STR(a->user, "me@example.org");
	CHECK_STR(a->password, "hunter2");
	/* The password source is replaced as a whole. */
	CHECK(a->password_env == NULL && a->password_command == NULL);
	CHECK(a->store == STORE_MAILDIR);
	CHECK_STR(a->store_path, p = in_home("/Mail/work"));
	free(p);
	CHECK(a->keep == true);
	CHECK(a->timeout_ms == 30000);
	CHECK_STR(a->state_dir, p = in_home("/state"));
	free(p);
	CHECK(a->line == 10 && a->column == 5);

	a = &cfg.accounts[1];			/* mostly defaults */
	CHECK_STR(a->name, "home");
	CHECK(a->tls == TLS_STARTTLS);
	CHECK(a->port == 110);
	CHECK(a->ca_file == NULL);
	CHECK_STR(a->user, "shared");
	CHECK(a->password == NULL && a->password_command == NULL);
	CHECK_STR(a->password_env, "POPFETCH_TEST_PW");
	CHECK(a->store == STORE_MBOX);
	CHECK_STR(a->store_path, "/var/mail/me");
	CHECK(a->keep == false);
	CHECK(a->timeout_ms == 120000);
	CHECK(a->line == 20 && a->column == 5);

	a = &cfg.accounts[2];			/* flow style */
	CHECK_STR(a->name, "plain");
	CHECK(a->tls == TLS_NONE);
	CHECK(a->port == 110);
	CHECK(a->keep == true);
	CHECK(a->password_env == NULL);
	CHECK(a->password_command != NULL);
	if (a->password_command != NULL) {
		CHECK_STR(a->password_command[0], "pass");
		CHECK_STR(a->password_command[1], "show");
		CHECK_STR(a->password_command[2], "mail/plain");
		CHECK(a->password_command[3] == NULL);
	}
	CHECK_STR(a->store_path, "/srv/mail");
	CHECK(a->timeout_ms == 500);
	CHECK_STR(a->state_dir, "/var/lib/pf");
	CHECK(a->line == 23 && a->column == 5);

	a = &cfg.accounts[3];
	CHECK(a->timeout_ms == 45000);

	CHECK(config_find(&cfg, "home") == &cfg.accounts[1]);
	CHECK(config_find(&cfg, "bare") == &cfg.accounts[3]);
	CHECK(config_find(&cfg, "nope") == NULL);
	CHECK(config_find(&cfg, "Home") == NULL);
out:
	config_free(&cfg);
	CHECK(cfg.accounts == NULL && cfg.naccounts == 0 && cfg.path == NULL);
	free(path);
}

static void
test_builtin_defaults(void)
{
	struct config cfg;
	char *path, *p;

	unsetenv("XDG_STATE_HOME");
	path = load_ok(ACCOUNTS_A, &cfg);
	if (cfg.naccounts == 1) {
		struct account *a = &cfg.accounts[0];
		CHECK(a->tls == TLS_IMPLICIT);
		CHECK(a->port == 995);
		CHECK(a->ca_file == NULL);
		CHECK(a->keep == true);
		CHECK(a->timeout_ms == 60000);
		CHECK_STR(a->state_dir, p = in_home("/.local/state/popfetch"));
		free(p);
	}
	config_free(&cfg);
	free(path);

	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	path = load_ok(ACCOUNTS_A, &cfg);
	if (cfg.naccounts == 1)
		CHECK_STR(cfg.accounts[0].state_dir, "/xdg/state/popfetch");
	config_free(&cfg);
	free(path);

	/* A relative XDG_STATE_HOME is invalid by the spec: ignored. */
	setenv("XDG_STATE_HOME", "relative/state", 1);
	path = load_ok(ACCOUNTS_A, &cfg);
	p = in_home("/.local/state/popfetch");
	if (cfg.naccounts == 1)
		CHECK_STR(cfg.accounts[0].state_dir, p);
	free(p);
	config_free(&cfg);
	free(path);
	unsetenv("XDG_STATE_HOME");

	/* Port follows tls when not given. */
	path = load_ok(ACCOUNTS_A "    tls: starttls\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].port == 110);
	config_free(&cfg);
	free(path);
	path = load_ok(ACCOUNTS_A "    tls: none\n    port: 1110\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].port == 1110);
	config_free(&cfg);
	free(path);
}

static void
test_durations(void)
{
	static const struct { const char *s; long ms; } ok[] = {
		{ "30s", 30000 }, { "2m", 120000 }, { "1h", 3600000 },
		{ "500ms", 500 }, { "45", 45000 }, { "0", 0 }, { "007s", 7000 },
		{ "24h", 86400000 },
	};
	static const char *const bad[] = {
		"", "s", "1.5s", "10 s", "-1", "+1", "1d", "1S", "1sec", " 1",
		"1s ", "ms", "1h30m",
	};
	char buf[32];
	long ms;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = -1;
		CHECK(config_parse_duration(ok[i].s, &ms) == 0);
		CHECK(ms == ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_duration(bad[i], &ms) == -1);
	CHECK(config_parse_duration("99999999999999999999999h", &ms) == 0);
	CHECK(ms == LONG_MAX);

	config_format_duration(60000, buf, sizeof(buf));
	CHECK_STR(buf, "60s");
	config_format_duration(1500, buf, sizeof(buf));
	CHECK_STR(buf, "1500ms");
}

static void
test_unknown_keys(void)
{
	EXPECT_ERROR(ACCOUNTS_A "    hots: x\n", 7, 5,
	    "unknown key 'hots'; did you mean 'host'?", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pasword: x\n", 7, 5,
	    "unknown key 'pasword'; did you mean 'password'?", 1);
	EXPECT_ERROR(ACCOUNTS_A "    maildri: x\n", 7, 5,
	    "unknown key 'maildri'; did you mean 'maildir'?", 1);
	EXPECT_ERROR(ACCOUNTS_A "    Keep: true\n", 7, 5,
	    "unknown key 'Keep'; did you mean 'keep'?", 1);
	/* Nothing close: no suggestion at all. */
	EXPECT_ERROR(ACCOUNTS_A "    colour: red\n", 7, 5,
	    "unknown key 'colour'", 1);
	EXPECT_ERROR(ACCOUNTS_A "    mailbox: x\n", 7, 5,
	    "unknown key 'mailbox'", 1);
	CHECK(strstr(errors_of(ACCOUNTS_A "    mailbox: x\n"), "did you") ==
	    NULL);
	/* The misspelt key was the required one: the suggestion says it
	 * all, so no "missing required key" line follows. */
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    hots: h\n"
	    "    user: u\n"
	    "    pasword: p\n"
	    "    maildri: /m\n", 3, 5, "unknown key 'hots'; did you mean "
	    "'host'?", 3);
	EXPECT_ERROR(ACCOUNTS_A "acounts: []\n", 7, 1,
	    "unknown top-level key 'acounts'; did you mean 'accounts'?", 1);
	EXPECT_ERROR("defaults:\n  kep: true\n" ACCOUNTS_A, 2, 3,
	    "unknown key 'kep'; did you mean 'keep'?", 1);
	EXPECT_ERROR("defaults:\n  name: x\n" ACCOUNTS_A, 2, 3,
	    "'name' cannot be set under defaults", 1);
}

static void
test_wrong_types(void)
{
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_command: pass show mail/a\n"
	    "    maildir: /m\n", 5, 23, "password_command: expected a list "
	    "such as [pass, show, mail/work], found a single string; no "
	    "shell is used", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: {name: h}\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 3, 11,
	    "host: expected a string, found a mapping", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user:\n"
	    "      - u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 5, 7,
	    "user: expected a string, found a list", 1);
	EXPECT_ERROR(ACCOUNTS_A "    port: abc\n", 7, 11,
	    "port: expected a port number from 1 to 65535, found 'abc'", 1);
	EXPECT_ERROR(ACCOUNTS_A "    port: 99.5\n", 7, 11,
	    "port: expected a port number from 1 to 65535, found '99.5'", 1);
	EXPECT_ERROR(ACCOUNTS_A "    port: 0\n", 7, 11,
	    "port: 0 is out of range (1 to 65535)", 1);
	EXPECT_ERROR(ACCOUNTS_A "    port: 65536\n", 7, 11,
	    "port: 65536 is out of range (1 to 65535)", 1);
	EXPECT_ERROR(ACCOUNTS_A "    port: 99999999999999999999\n", 7, 11,
	    "port: 99999999999999999999 is out of range", 1);
	EXPECT_ERROR(ACCOUNTS_A "    tls: ssl\n", 7, 10, "tls: unknown mode "
	    "'ssl'; expected one of: implicit, starttls, none", 1);
	EXPECT_ERROR(ACCOUNTS_A "    keep: maybe\n", 7, 11,
	    "keep: expected true or false, found 'maybe'", 1);
	/* An empty value points at its key, not at the next line. */
	EXPECT_ERROR(ACCOUNTS_A "    keep:\n    tls: none\n", 7, 5,
	    "keep: expected true or false, found nothing", 1);
	EXPECT_ERROR(ACCOUNTS_A "    keep: [true]\n", 7, 11,
	    "keep: expected true or false, found a list", 1);
	EXPECT_ERROR("accounts: 5\n", 1, 11,
	    "accounts: expected a list of accounts, found a single value", 1);
	EXPECT_ERROR("accounts:\n  name: a\n", 2, 3,
	    "accounts: expected a list of accounts, found a mapping", 1);
	EXPECT_ERROR(ACCOUNTS_A "  - just a string\n", 7, 5,
	    "accounts: item 2: expected a mapping", 1);
	EXPECT_ERROR("defaults: [keep]\n" ACCOUNTS_A, 1, 11,
	    "defaults: expected a mapping of account settings, found a list",
	    1);
	EXPECT_ERROR("- a\n- b\n", 1, 1,
	    "expected a mapping with 'accounts:' at the top, found a list", 1);
	EXPECT_ERROR(ACCOUNTS_A "    [x]: y\n", 7, 5,
	    "a key must be a plain word, not a list", 1);
}

static void
test_bad_values(void)
{
	EXPECT_ERROR("accounts:\n"
	    "  - name: a/b\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 11,
	    "name: 'a/b' cannot be an account name", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: \"\"\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 11, "name: must not be empty", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: \"a\\tb\"\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 11,
	    "name: 'a?b' cannot be an account name", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: \"a\\0b\"\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 11, "name: contains a NUL byte", 0);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: pop example\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 3, 11,
	    "host: must not contain spaces or control characters", 1);
	/* A line break would end the POP3 command early; the password is
	 * never quoted back. */
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: \"sec\\r\\nret\"\n"
	    "    maildir: /m\n", 5, 15,
	    "password: must not contain control characters or line breaks",
	    1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_command: []\n"
	    "    maildir: /m\n", 5, 23, "password_command: the list is empty",
	    1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_command: [pass, {a: b}]\n"
	    "    maildir: /m\n", 5, 30,
	    "password_command: item 2: expected a string, found a mapping", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_env: $POP_PW\n"
	    "    maildir: /m\n", 5, 19, "password_env: '$POP_PW' is not an "
	    "environment variable name", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: Mail/a\n", 6, 14,
	    "maildir: 'Mail/a' is a relative path", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    mbox: ~bob/mbox\n", 6, 11,
	    "mbox: '~bob/mbox': only '~/' is understood", 1);
	EXPECT_ERROR(ACCOUNTS_A "    ca_file: certs/ca.pem\n", 7, 14,
	    "ca_file: 'certs/ca.pem' is a relative path", 1);
}

static void
test_missing_keys(void)
{
	EXPECT_ERROR("accounts:\n"
	    "  - name: work\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 5,
	    "account 'work': missing required key 'host'", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n", 2, 5,
	    "account #1: missing required key 'name'", 1);
	EXPECT_ERROR(ACCOUNTS_A
	    "  - name: b\n"
	    "    host: h\n"
	    "    password: p\n"
	    "    maildir: /m\n", 7, 5,
	    "account 'b': missing required key 'user'", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    maildir: /m\n", 2, 5, "account 'a': no password source: set "
	    "'password', 'password_command' or 'password_env'", 1);
	EXPECT_ERROR("defaults: {}\naccounts:\n  - {}\n", 3, 5,
	    "account #1: missing required key 'name'", 5);
}

static void
test_duplicates(void)
{
	EXPECT_ERROR(ACCOUNTS_A
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n"
	    "  - name: a\n"
	    "    host: h2\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m2\n", 12, 11,
	    "duplicate account name 'a' (first defined on line 2)", 1);
	EXPECT_ERROR(ACCOUNTS_A "    host: again\n", 7, 5,
	    "duplicate key 'host' (first set on line 3)", 1);
	EXPECT_ERROR("defaults:\n  keep: true\n  keep: false\n" ACCOUNTS_A,
	    3, 3, "duplicate key 'keep' (first set on line 2)", 1);
	EXPECT_ERROR(ACCOUNTS_A "accounts: []\n", 7, 1,
	    "duplicate key 'accounts' (first set on line 1)", 1);
	/* Two sources in one mapping is a conflict... */
	EXPECT_ERROR(ACCOUNTS_A "    password_env: PW\n", 7, 5,
	    "'password_env' conflicts with 'password' on line 5: set one "
	    "password source", 1);
}

static void
test_destinations(void)
{
	struct config cfg;
	char *path;

	EXPECT_ERROR(ACCOUNTS_A "    mbox: /var/mail/u\n", 7, 5, "'mbox' "
	    "conflicts with 'maildir' on line 6: set one destination", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n", 2, 5,
	    "account 'a': no destination: set 'maildir' or 'mbox'", 1);
	/* ...but an account's own destination replaces the default one. */
	path = load_ok("defaults:\n  maildir: /d\n" ACCOUNTS_A
	    "  - name: b\n    host: h\n    user: u\n    password: p\n"
	    "    mbox: /b\n"
	    "  - name: c\n    host: h\n    user: u\n    password: p\n",
	    &cfg);
	CHECK(cfg.naccounts == 3);
	if (cfg.naccounts == 3) {
		CHECK(cfg.accounts[1].store == STORE_MBOX);
		CHECK_STR(cfg.accounts[1].store_path, "/b");
		CHECK(cfg.accounts[2].store == STORE_MAILDIR);
		CHECK_STR(cfg.accounts[2].store_path, "/d");
	}
	config_free(&cfg);
	free(path);
}

static void
test_timeouts(void)
{
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 5 minutes\n", 7, 14,
	    "timeout: '5 minutes' is not a duration; write a whole number "
	    "with a unit (500ms, 30s, 2m, 1h) or a bare number of seconds", 1);
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 1.5s\n", 7, 14,
	    "timeout: '1.5s' is not a duration", 1);
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 0\n", 7, 14, "timeout: '0' is "
	    "out of range; it must be more than 0 and at most 24h", 1);
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 0ms\n", 7, 14,
	    "timeout: '0ms' is out of range", 1);
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 25h\n", 7, 14,
	    "timeout: '25h' is out of range", 1);
	EXPECT_ERROR(ACCOUNTS_A "    timeout: 86401\n", 7, 14,
	    "timeout: '86401' is out of range", 1);
}

static void
test_yaml_errors(void)
{
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "   host: h\n", 3, 4, "did not find expected '-' indicator "
	    "(while parsing a block collection at line 2, column 3)", 1);
	EXPECT_ERROR("accounts:\n"
	    "  - name: a\n"
	    "    password_command: [pass, show\n", 4, 1,
	    "did not find expected ',' or ']'", 1);
	EXPECT_ERROR("accounts:\n"
	    "\t- name: a\n", 2, 1, "found character that cannot start any "
	    "token", 1);
	CHECK(strstr(errors_of("accounts:\n\t- name: a\n"), "; YAML "
	    "indentation must use spaces, not tabs") != NULL);
	/* Bad UTF-8: the position is computed from libyaml's byte offset,
	 * counting characters. */
	EXPECT_ERROR("accounts:\n  - name: \xc3\xa9\xff\n", 2, 12,
	    "invalid leading UTF-8 octet", 1);
	EXPECT_ERROR(ACCOUNTS_A "---\n" ACCOUNTS_A, 7, 1,
	    "a second YAML document starts here", 1);
	/* Aliases and merge keys are refused where they are written. */
	EXPECT_ERROR("defaults: &d\n"
	    "  keep: true\n"
	    ACCOUNTS_A
	    "    timeout: &t 30s\n"
	    "  - name: b\n"
	    "    <<: *d\n"
	    "    timeout: *t\n", 11, 5, "merge keys ('<<') are not supported",
	    3);
	/* (the 3 lines: the merge key, its alias, the other alias; no
	 * "missing key" lines for what the merge might have brought) */
	EXPECT_ERROR("defaults: &d\n"
	    "  keep: true\n"
	    ACCOUNTS_A
	    "    timeout: &t 30s\n"
	    "  - name: b\n"
	    "    <<: *d\n"
	    "    timeout: *t\n", 12, 14, "aliases ('*t') are not supported; "
	    "put shared settings under 'defaults:'", 3);
}

static void
test_empty(void)
{
	EXPECT_ERROR("", 1, 1, "the file is empty; it needs an 'accounts:' "
	    "list", 1);
	EXPECT_ERROR("# nothing here\n\n", 1, 1, "the file is empty", 1);
	EXPECT_ERROR("---\n", 1, 1, "the file is empty", 1);
	EXPECT_ERROR("accounts: []\n", 1, 11, "accounts: the list is empty; "
	    "define at least one account", 1);
	EXPECT_ERROR("accounts:\n", 1, 1, "accounts: the list is empty", 1);
	EXPECT_ERROR("defaults:\n  keep: true\n", 1, 1,
	    "missing required key 'accounts'", 1);
}

static void
test_all_errors(void)
{
	static const char text[] =
	    "accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    port: 70000\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n"
	    "    colour: red\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    tls: ssl\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    mbox: /b\n";
	struct config cfg;
	char *path = write_file(text), *errors = NULL, *want;
	int rc;

	rc = config_load(path, &cfg, &errors);
	CHECK(rc == EX_CONFIG);
	/* All three, one per line, in file order, and nothing else. */
	want = xasprintf(
	    "%s:4:11: port: 70000 is out of range (1 to 65535)\n"
	    "%s:8:5: unknown key 'colour'\n"
	    "%s:11:10: tls: unknown mode 'ssl'; expected one of: implicit, "
	    "starttls, none", path, path, path);
	CHECK_STR(errors, want);
	free(want);
	free(errors);
	free(path);

	/* A bad default is one problem, not one per account. */
	EXPECT_ERROR("defaults:\n  port: 0\n" ACCOUNTS_A
	    "  - name: b\n    host: h\n    user: u\n    password: p\n"
	    "    maildir: /m\n", 2, 9, "port: 0 is out of range", 1);
}

static void
test_unreadable(void)
{
	struct config cfg;
	char *errors = NULL, *path = xasprintf("%s/missing.yaml", dir), *want;

	CHECK(config_load(path, &cfg, &errors) == EX_NOINPUT);
	want = xasprintf("%s: cannot open: No such file or directory", path);
	CHECK_STR(errors, want);
	free(want);
	free(errors);
	CHECK(config_load(dir, &cfg, &errors) == EX_NOINPUT);
	want = xasprintf("%s: cannot read: Is a directory", dir);
	CHECK_STR(errors, want);
	free(want);
	free(errors);
	free(path);
}

static void
test_print(void)
{
	static const char text[] =
	    "defaults:\n"
	    "  timeout: 90s\n"
	    "accounts:\n"
	    "  - name: work\n"
	    "    host: pop.example.org\n"
	    "    ca_file: /etc/ca.pem\n"
	    "    user: me\n"
	    "    password: hunter2\n"
	    "    maildir: ~/Mail/work\n"
	    "  - name: home\n"
	    "    host: h\n"
	    "    tls: none\n"
	    "    keep: false\n"
	    "    user: u\n"
	    "    password_command: [pass, show, \"a, b\"]\n"
	    "    mbox: /var/mail/u\n"
	    "    timeout: 1500ms\n"
	    "    state_dir: /s\n"
	    "  - name: env\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_env: PW\n"
	    "    maildir: /m\n"
	    "    state_dir: /s\n";
	struct config cfg;
	char *path, *out = NULL, *want;
	size_t outlen = 0;
	FILE *f;

	unsetenv("XDG_STATE_HOME");
	path = load_ok(text, &cfg);
	f = open_memstream(&out, &outlen);
	config_print(&cfg, f);
	fclose(f);
	want = xasprintf(
	    "account work (%s:4:5)\n"
	    "  host: pop.example.org\n"
	    "  port: 995\n"
	    "  tls: implicit\n"
	    "  ca_file: /etc/ca.pem\n"
	    "  user: me\n"
	    "  password: ********\n"
	    "  maildir: %s/Mail/work\n"
	    "  keep: true\n"
	    "  timeout: 90s\n"
	    "  state_dir: %s/.local/state/popfetch\n"
	    "\n"
	    "account home (%s:10:5)\n"
	    "  host: h\n"
	    "  port: 110\n"
	    "  tls: none\n"
	    "  user: u\n"
	    "  password_command: [pass, show, \"a, b\"]\n"
	    "  mbox: /var/mail/u\n"
	    "  keep: false\n"
	    "  timeout: 1500ms\n"
	    "  state_dir: /s\n"
	    "\n"
	    "account env (%s:19:5)\n"
	    "  host: h\n"
	    "  port: 995\n"
	    "  tls: implicit\n"
	    "  user: u\n"
	    "  password_env: PW\n"
	    "  maildir: /m\n"
	    "  keep: true\n"
	    "  timeout: 90s\n"
	    "  state_dir: /s\n", path, home, home, path, path);
	CHECK_STR(out, want);
	CHECK(out != NULL && strstr(out, "hunter2") == NULL);
	free(want);
	free(out);
	config_free(&cfg);
	free(path);
}

/* One account using the given password source line (at line 7). */
static int
password_of(const char *source, const char *timeout, char **pw,
    struct err *e)
{
	struct config cfg;
	char *text, *path;
	int rc;

	text = xasprintf(
	    "accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    maildir: /m\n"
	    "    timeout: %s\n"
	    "    %s\n", timeout, source);
	path = load_ok(text, &cfg);
	*pw = NULL;
	err_clear(e);
	rc = cfg.naccounts == 1 ? config_password(&cfg.accounts[0], pw, e) :
	    -1;
	config_free(&cfg);
	free(path);
	free(text);
	return rc;
}

static void
test_passwords(void)
{
	struct err e;
	char *pw;
	long long t0, ms;

	CHECK(password_of("password: 'lit eral'", "5s", &pw, &e) == 0);
	CHECK_STR(pw, "lit eral");
	util_free_secret(pw);

	setenv("POPFETCH_TEST_PW", "from env", 1);
	CHECK(password_of("password_env: POPFETCH_TEST_PW", "5s", &pw, &e)
	    == 0);
	CHECK_STR(pw, "from env");
	util_free_secret(pw);
	setenv("POPFETCH_TEST_PW", "", 1);
	CHECK(password_of("password_env: POPFETCH_TEST_PW", "5s", &pw, &e)
	    == EX_CONFIG);
	CHECK(strstr(e.msg, "password_env: variable POPFETCH_TEST_PW is not "
	    "set") != NULL);
	CHECK(pw == NULL);
	unsetenv("POPFETCH_TEST_PW");
	CHECK(password_of("password_env: POPFETCH_TEST_PW", "5s", &pw, &e)
	    == EX_CONFIG);
	CHECK_STR(e.msg, "password_env: variable POPFETCH_TEST_PW is not set");

	CHECK(password_of("password_command: [printf, 's3cret\\nsecond']",
	    "5s", &pw, &e) == 0);
	CHECK_STR(pw, "s3cret");
	util_free_secret(pw);
	CHECK(password_of("password_command: [printf, \"crlf\\r\\n\"]", "5s",
	    &pw, &e) == 0);
	CHECK_STR(pw, "crlf");
	util_free_secret(pw);
	/* No trailing newline at all is fine too. */
	CHECK(password_of("password_command: [printf, '%s', 'a b']", "5s",
	    &pw, &e) == 0);
	CHECK_STR(pw, "a b");
	util_free_secret(pw);

	CHECK(password_of("password_command: ['false']", "5s", &pw, &e) ==
	    EX_NOPERM);
	CHECK_STR(e.msg, "password_command (false) exited with status 1");
	CHECK(pw == NULL);
	/* The output of a failed command is never quoted. */
	CHECK(password_of("password_command: [sh, -c, 'echo hunter2; exit 3']",
	    "5s", &pw, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "password_command (sh) exited with status 3");
	CHECK(password_of("password_command: ['true']", "5s", &pw, &e) ==
	    EX_NOPERM);
	CHECK_STR(e.msg, "password_command (true) printed nothing");
	CHECK(password_of("password_command: [printf, '\\nx']", "5s", &pw, &e)
	    == EX_NOPERM);
	CHECK_STR(e.msg, "password_command (printf) printed an empty first "
	    "line");
	CHECK(password_of("password_command: [/nonexistent/prog]", "5s", &pw,
	    &e) == EX_CONFIG);
	CHECK_STR(e.msg, "password_command (/nonexistent/prog): cannot run: "
	    "No such file or directory");

	/* Killed at the deadline, and not a moment much later. */
	t0 = util_now_ms();
	CHECK(password_of("password_command: [sleep, '10']", "1s", &pw, &e) ==
	    EX_NOPERM);
	ms = util_now_ms() - t0;
	CHECK_STR(e.msg, "password_command (sleep) killed after 1s");
	CHECK(ms >= 900 && ms < 3000);
	/* A background child holding the pipe open does not delay us past
	 * the command's own exit. */
	t0 = util_now_ms();
	CHECK(password_of("password_command: [sh, -c, 'echo pw; sleep 5 &']",
	    "10s", &pw, &e) == 0);
	ms = util_now_ms() - t0;
	CHECK_STR(pw, "pw");
	util_free_secret(pw);
	CHECK(ms < 3000);
	/* Output beyond 64 KiB is drained and dropped. */
	CHECK(password_of("password_command: [sh, -c, 'echo pw; head -c "
	    "300000 /dev/zero']", "10s", &pw, &e) == 0);
	CHECK_STR(pw, "pw");
	util_free_secret(pw);
	CHECK(password_of("password_command: [sh, -c, 'head -c 70000 "
	    "/dev/zero | tr \"\\0\" x']", "10s", &pw, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "password_command (sh): first line longer than 64 "
	    "KiB");
}

static void
test_example(void)
{
	const char *top = getenv("TOP_SRCDIR");
	struct config cfg;
	char *path, *errors = NULL;

	if (top == NULL) {
		printf("unit_config: TOP_SRCDIR not set, example not "
		    "checked\n");
		return;
	}
	path = xasprintf("%s/config-examples/popfetch.yaml", top);
	CHECK(config_load(path, &cfg, &errors) == 0);
	if (errors != NULL)
		fprintf(stderr, "%s\n", errors);
	CHECK(cfg.naccounts == 2);
	if (cfg.naccounts == 2) {
		CHECK(cfg.accounts[0].store == STORE_MAILDIR);
		CHECK(cfg.accounts[0].password_command != NULL);
		CHECK(cfg.accounts[1].store == STORE_MBOX);
		CHECK(cfg.accounts[1].password_env != NULL);
		CHECK(cfg.accounts[1].keep == false);
	}
	config_free(&cfg);
	free(errors);
	free(path);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	/* ~ expands against this HOME, so paths are checkable. */
	snprintf(home, sizeof(home), "%s/home", dir);
	setenv("HOME", home, 1);
	unsetenv("XDG_STATE_HOME");

	test_valid_full();
	test_builtin_defaults();
	test_durations();
	test_unknown_keys();
	test_wrong_types();
	test_bad_values();
	test_missing_keys();
	test_duplicates();
	test_destinations();
	test_timeouts();
	test_yaml_errors();
	test_empty();
	test_all_errors();
	test_unreadable();
	test_print();
	test_passwords();
	test_example();
	errors_of(NULL);

	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return unit_done("unit_config");
}
