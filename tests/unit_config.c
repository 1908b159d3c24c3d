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
#include <sys/stat.h>
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

/* Write text to a new file with the given mode (umask aside). */
static char *
write_file_mode(const char *text, mode_t mode)
{
	char *path = xasprintf("%s/c%d.yaml", dir, ++nfiles);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0 ||
	    chmod(path, mode) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

/* Mode 600: most files here hold a literal password, and popfetch
 * refuses such a file when others can read it. */
static char *
write_file(const char *text)
{
	return write_file_mode(text, 0600);
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
load_ok_mode(const char *text, mode_t mode)
{
	struct config cfg;
	char *path = write_file_mode(text, mode), *errors = NULL;
	int rc = config_load(path, &cfg, &errors);

	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  unexpected errors (mode %o):\n%s\n",
		    (unsigned)mode, errors);
	free(errors);
	config_free(&cfg);
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
	    "     insecure_plaintext: true,\n"
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
	path = load_ok(ACCOUNTS_A "    tls: none\n    port: 1110\n"
	    "    insecure_plaintext: true\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].port == 1110);
	config_free(&cfg);
	free(path);
}

static void
test_durations(void)
{
	static const struct { const char *s; long long ms; } ok[] = {
		{ "30s", 30000 }, { "2m", 120000 }, { "1h", 3600000 },
		{ "500ms", 500 }, { "45", 45000 }, { "0", 0 }, { "007s", 7000 },
		{ "24h", 86400000 }, { "30d", 2592000000LL }, { "1d", 86400000 },
		{ "3660d", 316224000000LL },
	};
	static const char *const bad[] = {
		"", "s", "1.5s", "10 s", "-1", "+1", "1D", "1S", "1sec", " 1",
		"1s ", "ms", "1h30m",
	};
	char buf[32];
	long long ms;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = -1;
		CHECK(config_parse_duration(ok[i].s, &ms) == 0);
		CHECK(ms == ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_duration(bad[i], &ms) == -1);
	CHECK(config_parse_duration("99999999999999999999999h", &ms) == 0);
	CHECK(ms == LLONG_MAX);

	config_format_duration(60000, buf, sizeof(buf));
	CHECK_STR(buf, "60s");
	config_format_duration(1500, buf, sizeof(buf));
	CHECK_STR(buf, "1500ms");
	config_format_duration(2592000000LL, buf, sizeof(buf));
	CHECK_STR(buf, "30d");
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
	EXPECT_ERROR(ACCOUNTS_A "    keep:\n    tls: starttls\n", 7, 5,
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
	    "'password', 'password_command', 'password_env', "
	    "'password_file' or 'netrc'", 1);
	EXPECT_ERROR("defaults: {}\naccounts:\n  - {}\n", 3, 5,
	    "account #1: missing required key 'name'", 5);
}

/* The limits of a run and delete_after: exact values, and every bad one
 * refused where it is written. */
static void
test_limits(void)
{
	struct config cfg;
	char *path;
	unsigned long long n;

	CHECK(config_parse_size("10M", &n) == 0 && n == 10485760ULL);
	CHECK(config_parse_size("640k", &n) == 0 && n == 655360ULL);
	CHECK(config_parse_size("2G", &n) == 0 && n == 2147483648ULL);
	CHECK(config_parse_size("123", &n) == 0 && n == 123);
	CHECK(config_parse_size("99999999999999999999999", &n) == 0 &&
	    n == ULLONG_MAX);
	CHECK(config_parse_size("10Q", &n) == -1);
	CHECK(config_parse_size("-1", &n) == -1);
	CHECK(config_parse_size("1.5M", &n) == -1);
	CHECK(config_parse_size("M", &n) == -1);
	CHECK(config_parse_size("10MB", &n) == -1);
	CHECK(config_parse_size("", &n) == -1);

	path = load_ok(ACCOUNTS_A "    max_size: 10M\n    max_messages: 3\n"
	    "    max_bytes: 640K\n    delete_after: 30d\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].max_size == 10485760ULL &&
	    cfg.accounts[0].max_messages == 3 &&
	    cfg.accounts[0].max_bytes == 655360ULL &&
	    cfg.accounts[0].delete_after_s == 30LL * 86400);
	config_free(&cfg);
	free(path);
	/* Defaults: no limit, never. */
	path = load_ok(ACCOUNTS_A, &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].max_size == 0 &&
	    cfg.accounts[0].max_messages == 0 &&
	    cfg.accounts[0].max_bytes == 0 &&
	    cfg.accounts[0].delete_after_s == 0);
	config_free(&cfg);
	free(path);

	EXPECT_ERROR(ACCOUNTS_A "    max_size: 10Q\n", 7, 15,
	    "max_size: '10Q' is not a size; write a whole number of bytes, "
	    "at least 1, or one with K, M or G (640K, 10M, 2G; units of "
	    "1024)", 1);
	EXPECT_ERROR(ACCOUNTS_A "    max_size: -1\n", 7, 15,
	    "max_size: '-1' is not a size", 1);
	EXPECT_ERROR(ACCOUNTS_A "    max_bytes: 0\n", 7, 16,
	    "max_bytes: '0' is not a size", 1);
	EXPECT_ERROR(ACCOUNTS_A "    max_messages: -3\n", 7, 19,
	    "max_messages: '-3' is not a whole number from 1 to 1000000000",
	    1);
	EXPECT_ERROR(ACCOUNTS_A "    max_messages: 0\n", 7, 19,
	    "max_messages: '0' is not a whole number", 1);
	EXPECT_ERROR(ACCOUNTS_A "    max_messages: 3k\n", 7, 19,
	    "max_messages: '3k' is not a whole number", 1);
	EXPECT_ERROR(ACCOUNTS_A "    max_messages: [3]\n", 7, 19,
	    "max_messages", 1);
	EXPECT_ERROR(ACCOUNTS_A "    delete_after: 500ms\n", 7, 19,
	    "delete_after: '500ms' is out of range; it must be at least 1s",
	    1);
	EXPECT_ERROR(ACCOUNTS_A "    delete_after: -30d\n", 7, 19,
	    "delete_after: '-30d' is not a duration", 1);
	EXPECT_ERROR(ACCOUNTS_A "    keep: false\n    delete_after: 30d\n", 8,
	    5, "account 'a': delete_after is for keep: true (mail stays on "
	    "the server that long); with keep: false every message is "
	    "deleted once stored", 1);
	/* host is a name or an address: no port, scheme, brackets, path. */
	EXPECT_ERROR("accounts:\n  - {name: a, host: \"127.0.0.1:995\", user: u, "
	    "password: p, maildir: /m}\n", 2, 21, "host: '127.0.0.1:995' holds "
	    "a port; write 'host: 127.0.0.1' and 'port: 995'", 1);
	EXPECT_ERROR("accounts:\n  - {name: a, host: \"pop3s://h\", user: u, "
	    "password: p, maildir: /m}\n", 2, 21, "host: 'pop3s://h' holds a "
	    "scheme", 1);
	EXPECT_ERROR("accounts:\n  - {name: a, host: \"[::1]\", user: u, "
	    "password: p, maildir: /m}\n", 2, 21, "host: '[::1]': write an "
	    "IPv6 address without brackets", 1);
	EXPECT_ERROR("accounts:\n  - {name: a, host: \"h/x\", user: u, "
	    "password: p, maildir: /m}\n", 2, 21, "host: 'h/x' is not a host "
	    "name or address", 1);
	path = load_ok("accounts:\n  - {name: a, host: \"::1\", user: u, "
	    "password: p, maildir: /m, tls: none}\n", &cfg);
	CHECK(cfg.naccounts == 1 && strcmp(cfg.accounts[0].host, "::1") == 0);
	config_free(&cfg);
	free(path);
	/* log: syslog or stderr, under defaults only. */
	path = load_ok("defaults:\n  log: syslog\n" ACCOUNTS_A, &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].log_syslog);
	config_free(&cfg);
	free(path);
	EXPECT_ERROR("defaults:\n  log: syslogd\n" ACCOUNTS_A, 2, 8,
	    "log: 'syslogd' is not syslog or stderr", 1);
	EXPECT_ERROR(ACCOUNTS_A "    log: syslog\n", 7, 5, "account 'a': "
	    "'log' is for the whole run: set it under defaults", 1);
	/* keep: false from defaults counts too. */
	EXPECT_ERROR("defaults:\n  keep: false\n" ACCOUNTS_A
	    "    delete_after: 30d\n", 9, 5, "account 'a': delete_after is "
	    "for keep: true",
	    1);
}

/* forget_after: days, at least a second; default state_dir cleaned like
 * a configured path (accounts sharing an older journal are found by
 * comparing them). */
static void
test_forget_after(void)
{
	struct config cfg;
	char *path, *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *want;

	EXPECT_ERROR(ACCOUNTS_A "    forget_after: 500ms\n", 7, 19,
	    "forget_after: '500ms' is out of range; it must be at least 1s "
	    "and at most 3660d", 1);
	EXPECT_ERROR(ACCOUNTS_A "    forget_after: 3661d\n", 7, 19,
	    "forget_after: '3661d' is out of range", 1);
	path = load_ok(ACCOUNTS_A "    forget_after: 3660d\n"
	    "    state_dir: /.\n", &cfg);
	CHECK(cfg.naccounts == 1 &&
	    cfg.accounts[0].forget_after_s == 3660LL * 86400);
	CHECK(cfg.naccounts == 1 && strcmp(cfg.accounts[0].state_dir, "/") == 0);
	config_free(&cfg);
	free(path);

	/* HOME with a trailing slash: the same spelling as ~/.local/... */
	want = xasprintf("%s/.local/state/popfetch", old ? old : "/");
	util_path_clean(want);
	if (old != NULL) {
		char *h = xasprintf("%s//", old);

		setenv("HOME", h, 1);
		free(h);
	}
	unsetenv("XDG_STATE_HOME");
	path = load_ok(ACCOUNTS_A "  - {name: b, host: h, user: u, password: p,"
	    " maildir: /m2, state_dir: ~/.local/state/popfetch}\n", &cfg);
	CHECK(cfg.naccounts == 2);
	if (cfg.naccounts == 2) {
		CHECK_STR(cfg.accounts[0].state_dir, want);
		CHECK_STR(cfg.accounts[1].state_dir, want);
		CHECK(cfg.accounts[0].legacy_state_shared);
	}
	config_free(&cfg);
	free(path);
	if (old != NULL)
		setenv("HOME", old, 1);
	free(old);
	free(want);
}

/* Another port, user or store is another journal; accounts sharing the
 * older per-user@host journal are marked. */
static void
test_pairs(void)
{
	struct config cfg;
	char *path;

	path = load_ok(ACCOUNTS_A
	    "  - {name: b, host: h, port: 1995, user: u, password: p, "
	    "maildir: /m}\n"
	    "  - {name: c, host: h, user: v, password: p, maildir: /m}\n"
	    "  - {name: d, host: h, user: u, password: p, mbox: /m}\n"
	    "  - {name: e, host: h, user: u, password: p, maildir: /e, "
	    "state_dir: /other}\n", &cfg);
	CHECK(cfg.naccounts == 5);
	if (cfg.naccounts == 5) {
		CHECK(cfg.accounts[0].legacy_state_shared);
		CHECK(cfg.accounts[1].legacy_state_shared);
		CHECK(!cfg.accounts[2].legacy_state_shared);
		CHECK(cfg.accounts[3].legacy_state_shared);
		CHECK(!cfg.accounts[4].legacy_state_shared);
		CHECK(cfg.accounts[0].forget_after_s == 30LL * 86400);
	}
	config_free(&cfg);
	free(path);
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
	/* One mailbox (host without case, port, user) into one store,
	 * however spelt: one journal, so refused at the second account. */
	EXPECT_ERROR(ACCOUNTS_A
	    "  - name: b\n"
	    "    host: H\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: //m/./\n", 7, 5,
	    "account 'b' reads the same mailbox (user u on H port 995) into "
	    "the same maildir /m as account 'a' (line 2): they would share "
	    "one journal; give each its own destination or remove one", 1);
	EXPECT_ERROR(ACCOUNTS_A
	    "  - {name: b, host: h, user: u, password: p, mbox: /x}\n"
	    "  - {name: c, host: h, user: u, password: p, mbox: /x}\n", 8, 5,
	    "account 'c' reads the same mailbox (user u on h port 995) into "
	    "the same mbox /x as account 'b' (line 7)", 1);
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
	    "account 'a': no destination: set 'maildir', 'mbox' or "
	    "'deliver_command'", 1);
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
	    "with a unit (500ms, 30s, 2m, 1h, 30d) or a bare number of seconds", 1);
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

#define PIN1	"sha256//dpLDrTVAu4A8Ags67mbNiIcSMjTqDG5xQ8Ct1z/0Me0="
#define PIN2	"sha256//P8TM/nRYcOLA2Z9x8w/wZWyN7dQcwdfT03aw2+aF4vM="

/* ACCOUNTS_A without its password: lines 1-5, the mapping at 2:5. */
#define ACCOUNTS_NOPW \
	"accounts:\n" \
	"  - name: a\n" \
	"    host: h\n" \
	"    user: u\n" \
	"    maildir: /m\n"

static void
test_tls_keys(void)
{
	static const char text[] =
	    "accounts:\n"
	    "  - name: a\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    maildir: /m\n"
	    "    ca_path: ~/certs\n"
	    "    pinned_pubkey: " PIN1 "\n"
	    "    client_cert: ~/c.pem\n"
	    "    client_key: /k.pem\n"
	    "    tls_min_version: 1.3\n"
	    "    auth: CRAM-MD5\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password_file: ~/pw\n"
	    "    maildir: /m2\n"
	    "    pinned_pubkey: [" PIN1 ", " PIN2 "]\n"
	    "    tls_min_version: \"1.2\"\n"
	    "    auth: apop\n"
	    "  - name: c\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    auth: oauthbearer\n"
	    "    oauth2_token_command: [tok, --for, c]\n"
	    "    maildir: /m3\n";
	struct config cfg;
	struct account *a;
	char *path, *p;

	path = load_ok(text, &cfg);
	CHECK(cfg.naccounts == 3);
	if (cfg.naccounts == 3) {
		a = &cfg.accounts[0];
		CHECK_STR(a->ca_path, p = in_home("/certs"));
		free(p);
		CHECK_STR(a->pinned_pubkey, PIN1);
		CHECK_STR(a->client_cert, p = in_home("/c.pem"));
		free(p);
		CHECK_STR(a->client_key, "/k.pem");
		CHECK(a->tls_min_version == 13);
		CHECK(a->auth == AUTH_CRAM_MD5);
		CHECK(a->insecure_plaintext == false);
		CHECK(a->oauth2_token_command == NULL);

		a = &cfg.accounts[1];
		CHECK(a->ca_path == NULL && a->client_cert == NULL &&
		    a->client_key == NULL);
		CHECK_STR(a->password_file, p = in_home("/pw"));
		free(p);
		CHECK(a->password == NULL);
		CHECK_STR(a->pinned_pubkey, PIN1 ";" PIN2);
		CHECK(a->tls_min_version == 12);
		CHECK(a->auth == AUTH_APOP);

		a = &cfg.accounts[2];
		CHECK(a->auth == AUTH_OAUTHBEARER);
		CHECK(a->password == NULL && a->password_command == NULL &&
		    a->password_env == NULL && a->password_file == NULL);
		CHECK(a->oauth2_token_command != NULL);
		if (a->oauth2_token_command != NULL) {
			CHECK_STR(a->oauth2_token_command[0], "tok");
			CHECK_STR(a->oauth2_token_command[2], "c");
			CHECK(a->oauth2_token_command[3] == NULL);
		}
		CHECK(a->pinned_pubkey == NULL);
	}
	config_free(&cfg);
	free(path);

	/* Built-in defaults. */
	path = load_ok(ACCOUNTS_A, &cfg);
	if (cfg.naccounts == 1) {
		a = &cfg.accounts[0];
		CHECK(a->tls_min_version == 12);
		CHECK(a->auth == AUTH_AUTO);
		CHECK(!a->insecure_plaintext);
		CHECK(a->ca_path == NULL && a->pinned_pubkey == NULL);
	}
	config_free(&cfg);
	free(path);

	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey: sha256//abc\n", 7, 20,
	    "pinned_pubkey: 'sha256//abc' is not a public-key pin; expected "
	    "'sha256//' followed by the base64 of 32 bytes (44 characters "
	    "ending in '='), as popfetch --server-info prints it", 1);
	/* Right length, but bits set that no 32-byte key leaves set. */
	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey:\n"
	    "      - " PIN1 "\n"
	    "      - sha256//dpLDrTVAu4A8Ags67mbNiIcSMjTqDG5xQ8Ct1z/0Me1=\n",
	    9, 9, "pinned_pubkey: item 2: 'sha256//dpLDrTVAu4A8Ags67mbNiIcS"
	    "MjTqDG5xQ8Ct1z/0Me1=' is not a public-key pin", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey: md5//" "AAAA\n", 7, 20,
	    "pinned_pubkey: 'md5//AAAA' is not a public-key pin", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey: []\n", 7, 20,
	    "pinned_pubkey: the list is empty", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey: [{a: b}]\n", 7, 21,
	    "pinned_pubkey: item 1: expected a pin (sha256//...), found a "
	    "mapping", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pinned_pubkey: {a: b}\n", 7, 20,
	    "pinned_pubkey: expected a pin (sha256//...) or a list of them, "
	    "found a mapping", 1);

	EXPECT_ERROR(ACCOUNTS_A "    client_cert: /c.pem\n", 7, 5,
	    "client_cert: set 'client_key' too: a client certificate needs "
	    "its key (both or neither)", 1);
	EXPECT_ERROR(ACCOUNTS_A "    client_key: /k.pem\n", 7, 5,
	    "client_key: set 'client_cert' too", 1);
	EXPECT_ERROR(ACCOUNTS_A "    client_cert: /c\n    client_key: k.pem\n",
	    8, 17, "client_key: 'k.pem' is a relative path", 1);
	EXPECT_ERROR(ACCOUNTS_A "    ca_path: certs\n", 7, 14,
	    "ca_path: 'certs' is a relative path", 1);

	EXPECT_ERROR(ACCOUNTS_A "    tls_min_version: 1.1\n", 7, 22,
	    "tls_min_version: expected 1.2 or 1.3, found '1.1'; TLS 1.2 is "
	    "the minimum popfetch accepts", 1);
	EXPECT_ERROR(ACCOUNTS_A "    tls_min_version: 1.0\n", 7, 22,
	    "tls_min_version: expected 1.2 or 1.3, found '1.0'; TLS 1.2", 1);
	EXPECT_ERROR(ACCOUNTS_A "    tls_min_version: 2\n", 7, 22,
	    "tls_min_version: expected 1.2 or 1.3, found '2'; TLS 1.2", 1);
	EXPECT_ERROR(ACCOUNTS_A "    tls_min_version:\n", 7, 5,
	    "tls_min_version: expected 1.2 or 1.3, found nothing", 1);

	EXPECT_ERROR(ACCOUNTS_A "    auth: kerberos\n", 7, 11,
	    "auth: unknown mechanism 'kerberos'; expected one of: auto, user, "
	    "apop, plain, login, cram-md5, xoauth2, oauthbearer", 1);
	EXPECT_ERROR(ACCOUNTS_A "    insecure_plaintext: sure\n", 7, 25,
	    "insecure_plaintext: expected true or false, found 'sure'", 1);
	EXPECT_ERROR(ACCOUNTS_A "    auth_mech: user\n", 7, 5,
	    "unknown key 'auth_mech'", 1);
	EXPECT_ERROR(ACCOUNTS_A "    pasword_file: /p\n", 7, 5,
	    "unknown key 'pasword_file'; did you mean 'password_file'?", 1);

	for (int m = AUTH_AUTO; m <= AUTH_OAUTHBEARER; m++) {
		static const char *const names[] = { "auto", "user", "apop",
		    "plain", "login", "cram-md5", "xoauth2", "oauthbearer" };
		CHECK_STR(config_auth_name((enum auth_mech)m), names[m]);
	}
}

static void
test_auth_credentials(void)
{
	struct config cfg;
	char *path;

	EXPECT_ERROR(ACCOUNTS_A "    auth: xoauth2\n", 5, 5, "account 'a': "
	    "'password' is not used with auth: xoauth2, which logs in with "
	    "the token 'oauth2_token_command' prints; remove it and set "
	    "'oauth2_token_command'", 1);
	EXPECT_ERROR(ACCOUNTS_NOPW "    auth: OAuthBearer\n", 2, 5,
	    "account 'a': auth: oauthbearer needs 'oauth2_token_command', a "
	    "command that prints an access token", 1);
	EXPECT_ERROR(ACCOUNTS_A "    oauth2_token_command: [t]\n", 7, 5,
	    "'oauth2_token_command' conflicts with 'password' on line 5: an "
	    "account logs in with a password or with an OAuth2 token, not "
	    "both", 1);
	EXPECT_ERROR(ACCOUNTS_NOPW "    oauth2_token_command: [t]\n", 6, 5,
	    "account 'a': oauth2_token_command is set but auth is auto; say "
	    "'auth: xoauth2' or 'auth: oauthbearer' (whichever the server "
	    "offers)", 1);
	EXPECT_ERROR(ACCOUNTS_NOPW "    auth: user\n"
	    "    oauth2_token_command: [t]\n", 7, 5, "account 'a': "
	    "oauth2_token_command is only used with auth: xoauth2 or "
	    "oauthbearer, not with auth: user; set a password source instead",
	    1);
	EXPECT_ERROR(ACCOUNTS_NOPW "    auth: xoauth2\n"
	    "    oauth2_token_command: oauth2-helper --me\n", 7, 27,
	    "oauth2_token_command: expected a list such as [oauth2-helper, "
	    "--account, me@example.org], found a single string", 1);
	/* A misspelt token command: the hint says it, nothing more. */
	EXPECT_ERROR(ACCOUNTS_NOPW "    auth: xoauth2\n"
	    "    oauth2_token_comand: [t]\n", 7, 5, "unknown key "
	    "'oauth2_token_comand'; did you mean 'oauth2_token_command'?", 1);
	/* An unknown mechanism says nothing about the credentials. */
	EXPECT_ERROR(ACCOUNTS_NOPW "    auth: oauth\n"
	    "    oauth2_token_command: [t]\n", 6, 11,
	    "auth: unknown mechanism 'oauth'", 1);

	/* The token command replaces the password source of defaults as a
	 * whole, like the password sources replace each other. */
	path = load_ok("defaults:\n"
	    "  password_command: [pass, mail]\n"
	    ACCOUNTS_NOPW
	    "    auth: xoauth2\n"
	    "    oauth2_token_command: [tok]\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    maildir: /m2\n", &cfg);
	CHECK(cfg.naccounts == 2);
	if (cfg.naccounts == 2) {
		CHECK(cfg.accounts[0].password_command == NULL);
		CHECK(cfg.accounts[0].auth == AUTH_XOAUTH2);
		CHECK(cfg.accounts[1].password_command != NULL);
		CHECK(cfg.accounts[1].oauth2_token_command == NULL);
	}
	config_free(&cfg);
	free(path);
	/* ...and the other way round. */
	path = load_ok("defaults:\n"
	    "  auth: xoauth2\n"
	    "  oauth2_token_command: [tok]\n"
	    ACCOUNTS_A
	    "    auth: plain\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].auth == AUTH_PLAIN &&
	    cfg.accounts[0].oauth2_token_command == NULL);
	config_free(&cfg);
	free(path);
}

static void
test_loopback(void)
{
	static const char *const yes[] = {
		"localhost", "LocalHost", "localhost.", "localhost.localdomain",
		"LOCALHOST.LOCALDOMAIN.", "127.0.0.1", "127.255.0.9", "::1",
		"[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1",
	};
	static const char *const no[] = {
		"", "h", "pop.example.org", "localhost.example.org",
		"mylocalhost", "localhost..", "128.0.0.1", "10.0.0.1",
		"127.1", "::2", "[::1", "::ffff:10.0.0.1", "0.0.0.0", "::",
		"[127.0.0.1]",
	};
	struct config cfg;
	char *path;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!config_host_is_loopback(yes[i])) {
			CHECK(!"loopback not recognised");
			fprintf(stderr, "  (%s)\n", yes[i]);
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (config_host_is_loopback(no[i])) {
			CHECK(!"taken for loopback");
			fprintf(stderr, "  (%s)\n", no[i]);
		}

	EXPECT_ERROR(ACCOUNTS_A "    tls: none\n", 7, 10, "account 'a': "
	    "tls: none to h would send the password and the mail across the "
	    "network readable by anyone on the path; use tls: implicit or "
	    "tls: starttls, or set insecure_plaintext: true if you really "
	    "mean it", 1);
	/* From defaults: at the account that would use it. */
	EXPECT_ERROR("defaults:\n  tls: NONE\n" ACCOUNTS_A, 4, 5,
	    "account 'a': tls: none to h would send the password", 1);
	EXPECT_ERROR(ACCOUNTS_A "    tls: none\n    insecure_plaintext: no\n",
	    7, 10, "account 'a': tls: none to h would send", 1);

	path = load_ok("defaults:\n  insecure_plaintext: true\n" ACCOUNTS_A
	    "    tls: none\n", &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].insecure_plaintext);
	config_free(&cfg);
	free(path);
	path = load_ok("defaults:\n  tls: none\n"
	    "accounts:\n"
	    "  - {name: a, host: 127.0.0.1, user: u, password: p, maildir: /m}\n"
	    "  - {name: b, host: localhost, user: u, password: p, maildir: /m}\n"
	    "  - {name: c, host: '::1', user: u, password: p, maildir: /m}\n",
	    &cfg);
	CHECK(cfg.naccounts == 3);
	config_free(&cfg);
	free(path);
}

static void
test_proxy(void)
{
	static const char *const bad[][2] = {
		{ "ftp://p:1", "'ftp://p:1' has a scheme popfetch cannot use "
		    "for POP3; use socks4, socks4a, socks5, socks5h, http or "
		    "https" },
		{ "p.example:1080", "'p.example:1080' is not a proxy URL; "
		    "expected SCHEME://HOST or SCHEME://HOST:PORT with SCHEME "
		    "one of socks4, socks4a, socks5, socks5h, http, https" },
		{ "socks5://u:pw@p:1", "'socks5://u:pw@p:1' holds credentials; "
		    "popfetch takes no proxy user or password" },
		{ "socks5://p:0", "'socks5://p:0' has a bad port" },
		{ "socks5://p:65536", "'socks5://p:65536' has a bad port" },
		{ "socks5://p:", "'socks5://p:' has a bad port" },
		{ "socks5://p:1x", "'socks5://p:1x' has a bad port" },
		{ "socks5://p:1/x", "'socks5://p:1/x' has a path" },
		{ "socks5://", "'socks5://' is not a proxy URL" },
		{ "socks5://:1", "'socks5://:1' is not a proxy URL" },
		{ "socks5://[::1", "'socks5://[::1' is not a proxy URL" },
		{ "socks5://[::1]x", "'socks5://[::1]x' is not a proxy URL" },
		{ "http://p q:1", "'http://p q:1' is not a proxy URL" },
	};
	struct config cfg;
	char *path, *text, *host;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = xasprintf("proxy: %s", bad[i][1]);

		text = xasprintf(ACCOUNTS_A "    proxy: \"%s\"\n", bad[i][0]);
		expect_error(__LINE__ * 1000 + (int)i, text, 7, 12, msg, 1);
		free(text);
		free(msg);
	}
	EXPECT_ERROR(ACCOUNTS_A "    proxy: [a]\n", 7, 12, "proxy: expected "
	    "a proxy URL (socks5h://HOST:PORT), found a list", 1);

	/* The host kept for the plaintext rule. */
	CHECK(config_proxy_parse("SOCKS5H://p.example:1080", &host) == NULL &&
	    host != NULL && strcmp(host, "p.example") == 0);
	free(host);
	CHECK(config_proxy_parse("http://[::1]:3128/", &host) == NULL &&
	    host != NULL && strcmp(host, "[::1]") == 0);
	free(host);
	CHECK(config_proxy_parse("socks4a://127.0.0.1", &host) == NULL &&
	    host != NULL && strcmp(host, "127.0.0.1") == 0);
	free(host);
	CHECK(config_proxy_parse("gopher://h", &host) != NULL && host == NULL);

	path = load_ok(ACCOUNTS_A "    proxy: socks5h://p.example:1080\n",
	    &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].proxy != NULL &&
	    strcmp(cfg.accounts[0].proxy, "socks5h://p.example:1080") == 0 &&
	    strcmp(cfg.accounts[0].proxy_host, "p.example") == 0);
	config_free(&cfg);
	free(path);
	/* No proxy key: none, whatever the environment says. */
	setenv("all_proxy", "socks5://192.0.2.1:1080", 1);
	path = load_ok(ACCOUNTS_A, &cfg);
	CHECK(cfg.naccounts == 1 && cfg.accounts[0].proxy == NULL &&
	    cfg.accounts[0].proxy_host == NULL);
	config_free(&cfg);
	free(path);
	unsetenv("all_proxy");

#define LOOP_A \
	"accounts:\n" \
	"  - name: a\n" \
	"    host: 127.0.0.1\n" \
	"    user: u\n" \
	"    password: p\n" \
	"    maildir: /m\n" \
	"    tls: none\n"
	/* Plaintext to a loopback server through a proxy elsewhere crosses
	 * the network all the same. */
	EXPECT_ERROR(LOOP_A "    proxy: socks5://p.example:1080\n", 8, 12,
	    "account 'a': tls: none through the proxy at p.example would send "
	    "the password and the mail across the network readable by anyone "
	    "on the path; use tls: implicit or tls: starttls, or set "
	    "insecure_plaintext: true if you really mean it", 1);
	EXPECT_ERROR("defaults:\n  proxy: http://10.0.0.1:3128\n" LOOP_A, 4, 5,
	    "account 'a': tls: none through the proxy at 10.0.0.1 would", 1);
	path = load_ok(LOOP_A "    proxy: socks5://p.example:1080\n"
	    "    insecure_plaintext: true\n", &cfg);
	CHECK(cfg.naccounts == 1);
	config_free(&cfg);
	free(path);
	path = load_ok(LOOP_A "    proxy: socks5h://[::1]:1080\n", &cfg);
	CHECK(cfg.naccounts == 1 &&
	    strcmp(cfg.accounts[0].proxy_host, "[::1]") == 0);
	config_free(&cfg);
	free(path);
	/* With TLS the proxy sees only ciphertext. */
	path = load_ok(ACCOUNTS_A "    proxy: https://p.example:3128\n",
	    &cfg);
	CHECK(cfg.naccounts == 1);
	config_free(&cfg);
	free(path);
#undef LOOP_A
}

static void
test_permissions(void)
{
	struct config cfg;
	char *path, *errors, *want, *q, *spaced;
	FILE *f;

	/* Group or others can read a file holding a literal password. */
	static const mode_t modes[] = { 0644, 0640, 0604, 0664 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		errors = NULL;
		path = write_file_mode(ACCOUNTS_A, modes[i]);
		CHECK(config_load(path, &cfg, &errors) == EX_CONFIG);
		want = xasprintf("%s: contains a password but is readable by "
		    "others; run: chmod 600 %s", path, path);
		CHECK_STR(errors, want);
		CHECK(cfg.naccounts == 0);
		free(want);
		free(errors);
		free(path);
	}
	/* In defaults only, and with other problems: all reported, this
	 * one first. */
	errors = NULL;
	path = write_file_mode("defaults:\n  password: p\n"
	    "accounts:\n"
	    "  - {name: a, host: h, user: u, password_env: PW, maildir: /m,"
	    " port: 0}\n", 0644);
	CHECK(config_load(path, &cfg, &errors) == EX_CONFIG);
	want = xasprintf("%s: contains a password but is readable by others; "
	    "run: chmod 600 %s\n%s:4:70: port: 0 is out of range (1 to 65535)",
	    path, path, path);
	CHECK_STR(errors, want);
	free(want);
	free(errors);
	free(path);

	/* Without a literal password, or not readable by others: fine. */
	path = load_ok_mode(ACCOUNTS_NOPW "    password_env: PW\n", 0644);
	free(path);
	path = load_ok_mode(ACCOUNTS_A, 0600);
	free(path);
	path = load_ok_mode(ACCOUNTS_A, 0400);
	free(path);
	path = load_ok_mode(ACCOUNTS_A, 0700);
	free(path);

	/* The command is quoted for the shell when it must be. */
	spaced = xasprintf("%s/my config's.yaml", dir);
	f = fopen(spaced, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(ACCOUNTS_A, f);
		fclose(f);
		chmod(spaced, 0644);
		errors = NULL;
		CHECK(config_load(spaced, &cfg, &errors) == EX_CONFIG);
		want = xasprintf("%s: contains a password but is readable by "
		    "others; run: chmod 600 '%s/my config'\\''s.yaml'", spaced,
		    dir);
		CHECK_STR(errors, want);
		free(want);
		free(errors);
		remove(spaced);
	}
	free(spaced);

	CHECK_STR(q = config_shell_quote("/a/b-c_d.yaml"), "/a/b-c_d.yaml");
	free(q);
	CHECK_STR(q = config_shell_quote("a b"), "'a b'");
	free(q);
	CHECK_STR(q = config_shell_quote(""), "''");
	free(q);
	CHECK_STR(q = config_shell_quote("$x"), "'$x'");
	free(q);
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
	    "    insecure_plaintext: true\n"
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
	config_print(&cfg, f, NULL, NULL);
	fclose(f);
	want = xasprintf(
	    "account work (%s:4:5)\n"
	    "  host: pop.example.org\n"
	    "  port: 995\n"
	    "  tls: implicit\n"
	    "  ca_file: /etc/ca.pem\n"
	    "  tls_min_version: 1.2\n"
	    "  auth: auto\n"
	    "  user: me\n"
	    "  password: ********\n"
	    "  maildir: %s/Mail/work\n"
	    "  keep: true\n"
	    "  timeout: 90s\n"
	    "  lock_timeout: 30s\n"
	    "  state_dir: %s/.local/state/popfetch\n"
	    "  forget_after: 30d\n"
	    "\n"
	    "account home (%s:10:5)\n"
	    "  host: h\n"
	    "  port: 110\n"
	    "  tls: none\n"
	    "  insecure_plaintext: true\n"
	    "  tls_min_version: 1.2\n"
	    "  auth: auto\n"
	    "  user: u\n"
	    "  password_command: [pass, show, \"a, b\"]\n"
	    "  mbox: /var/mail/u\n"
	    "  keep: false\n"
	    "  timeout: 1500ms\n"
	    "  lock_timeout: 30s\n"
	    "  state_dir: /s\n"
	    "  forget_after: 30d\n"
	    "\n"
	    "account env (%s:20:5)\n"
	    "  host: h\n"
	    "  port: 995\n"
	    "  tls: implicit\n"
	    "  tls_min_version: 1.2\n"
	    "  auth: auto\n"
	    "  user: u\n"
	    "  password_env: PW\n"
	    "  maildir: /m\n"
	    "  keep: true\n"
	    "  timeout: 90s\n"
	    "  lock_timeout: 30s\n"
	    "  state_dir: /s\n"
	    "  forget_after: 30d\n", path, home, home, path, path);
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
	/* A line break anywhere in the variable: refused, not cut. */
	{
		static const char *const bad[] = { "s3cret\r\nDELE 1",
		    "s3cret\nDELE 1", "s3cret\rDELE 1", "s3cret\n",
		    "\ns3cret" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			setenv("POPFETCH_TEST_PW", bad[i], 1);
			pw = NULL;
			CHECK(password_of("password_env: POPFETCH_TEST_PW",
			    "5s", &pw, &e) == EX_CONFIG);
			CHECK_STR(e.msg, "password_env: variable "
			    "POPFETCH_TEST_PW holds a line break (CR or LF)");
			CHECK(pw == NULL);
		}
		unsetenv("POPFETCH_TEST_PW");
	}

	CHECK(password_of("password_command: [printf, 's3cret\\nsecond']",
	    "5s", &pw, &e) == 0);
	CHECK_STR(pw, "s3cret");
	util_free_secret(pw);
	CHECK(password_of("password_command: [printf, \"crlf\\r\\n\"]", "5s",
	    &pw, &e) == 0);
	CHECK_STR(pw, "crlf");
	util_free_secret(pw);
	CHECK(password_of("password_command: [printf, 's3cret\\rDELE 1']",
	    "5s", &pw, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "password_command (printf): the first line it "
	    "printed holds a CR (only a final CRLF may end the line)");
	CHECK(pw == NULL);
	CHECK(password_of("password_command: [printf, 's3\\0cret\\n']",
	    "5s", &pw, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "password_command (printf): the first line it "
	    "printed holds a NUL byte");
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

/* A file for password_file: text written with the given mode. */
static char *
secret_file(const char *text, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/pw%d", dir, ++nfiles);
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0 ||
	    chmod(path, mode) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

/* The password from password_file: PATH, or the error. */
static int
password_from_file(const char *path, char **pw, struct err *e)
{
	char *source = xasprintf("password_file: '%s'", path);
	int rc = password_of(source, "5s", pw, e);

	free(source);
	return rc;
}

static void
test_password_file(void)
{
	struct err e;
	char *pw, *path, *want, *big;

	path = secret_file("file pw\r\nsecond line\n", 21, 0600);
	CHECK(password_from_file(path, &pw, &e) == 0);
	CHECK_STR(pw, "file pw");
	util_free_secret(pw);
	free(path);
	path = secret_file("no newline", 10, 0400);
	CHECK(password_from_file(path, &pw, &e) == 0);
	CHECK_STR(pw, "no newline");
	util_free_secret(pw);
	free(path);

	/* Readable by others: refused with the fix, the secret unread. */
	path = secret_file("hunter2\n", 8, 0640);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s is readable by others; run: "
	    "chmod 600 %s", path, path);
	CHECK_STR(e.msg, want);
	CHECK(pw == NULL);
	free(want);
	free(path);
	path = secret_file("hunter2\n", 8, 0604);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	CHECK(strstr(e.msg, "is readable by others; run: chmod 600") != NULL);
	free(path);

	path = secret_file("", 0, 0600);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s is empty", path);
	CHECK_STR(e.msg, want);
	free(want);
	free(path);
	path = secret_file("\r\nhunter2\n", 10, 0600);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s: the first line is empty", path);
	CHECK_STR(e.msg, want);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	free(want);
	free(path);
	path = secret_file("a\0b\n", 4, 0600);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	CHECK(strstr(e.msg, "the first line holds a NUL byte") != NULL);
	free(path);
	/* One CR before the first LF ends the line; any other CR would end
	 * PASS early on the wire and is refused, the secret unquoted. */
	{
		static const struct { const char *text; size_t len; } bad[] = {
			{ "hunter2\rDELE 1\n", 15 },
			{ "hunter2\r\r\n", 10 },
			{ "hunter2\r", 8 },
			{ "\rhunter2\n", 9 },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			path = secret_file(bad[i].text, bad[i].len, 0600);
			pw = NULL;
			CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
			CHECK(pw == NULL);
			want = xasprintf("password_file %s: the first line "
			    "holds a CR (only a final CRLF may end the line)",
			    path);
			CHECK_STR(e.msg, want);
			CHECK(strstr(e.msg, "hunter2") == NULL);
			free(want);
			free(path);
		}
	}

	/* 64 KiB is the longest first line. */
	big = xmalloc(64 * 1024 + 2);
	memset(big, 'x', 64 * 1024 + 2);
	big[64 * 1024] = '\n';
	path = secret_file(big, 64 * 1024 + 1, 0600);
	CHECK(password_from_file(path, &pw, &e) == 0);
	CHECK(pw != NULL && strlen(pw) == 64 * 1024);
	util_free_secret(pw);
	free(path);
	big[64 * 1024] = 'x';
	path = secret_file(big, 64 * 1024 + 2, 0600);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s: first line longer than 64 KiB",
	    path);
	CHECK_STR(e.msg, want);
	free(want);
	free(path);
	free(big);

	path = xasprintf("%s/no-such-file", dir);
	CHECK(password_from_file(path, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s: cannot open: No such file or "
	    "directory", path);
	CHECK_STR(e.msg, want);
	free(want);
	free(path);
	CHECK(password_from_file(dir, &pw, &e) == EX_CONFIG);
	want = xasprintf("password_file %s: not a regular file", dir);
	CHECK_STR(e.msg, want);
	free(want);
}

/* The token from oauth2_token_command: ARGV, or the error. */
static int
token_of(const char *argv, const char *timeout, char **tok, struct err *e)
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
	    "    auth: xoauth2\n"
	    "    oauth2_token_command: %s\n", timeout, argv);
	path = load_ok(text, &cfg);
	*tok = NULL;
	err_clear(e);
	rc = cfg.naccounts == 1 ? config_oauth2_token(&cfg.accounts[0], tok,
	    e) : -1;
	config_free(&cfg);
	free(path);
	free(text);
	return rc;
}

static void
test_oauth2_token(void)
{
	struct err e;
	char *tok;
	long long t0, ms;

	CHECK(token_of("[printf, 'ya29.token\\nignored\\n']", "5s", &tok, &e)
	    == 0);
	CHECK_STR(tok, "ya29.token");
	util_free_secret(tok);
	CHECK(token_of("[sh, -c, 'echo ya29.leak; exit 4']", "5s", &tok, &e)
	    == EX_NOPERM);
	CHECK_STR(e.msg, "oauth2_token_command (sh) exited with status 4");
	CHECK(tok == NULL);
	CHECK(token_of("['true']", "5s", &tok, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "oauth2_token_command (true) printed no token");
	CHECK(token_of("[printf, '\\n']", "5s", &tok, &e) == EX_NOPERM);
	CHECK_STR(e.msg, "oauth2_token_command (printf) printed no token");
	CHECK(token_of("[/nonexistent/helper]", "5s", &tok, &e) == EX_CONFIG);
	CHECK_STR(e.msg, "oauth2_token_command (/nonexistent/helper): cannot "
	    "run: No such file or directory");
	t0 = util_now_ms();
	CHECK(token_of("[sleep, '10']", "1s", &tok, &e) == EX_NOPERM);
	ms = util_now_ms() - t0;
	CHECK_STR(e.msg, "oauth2_token_command (sleep) killed after 1s");
	CHECK(ms >= 900 && ms < 3000);

	/* An account without a token command. */
	{
		struct account a;
		memset(&a, 0, sizeof(a));
		CHECK(config_oauth2_token(&a, &tok, &e) == EX_CONFIG);
		CHECK(tok == NULL);
	}
}

static void
test_capture_env(void)
{
	static const char text[] =
	    "defaults:\n"
	    "  host: h\n"
	    "  user: u\n"
	    "  maildir: /m\n"
	    "accounts:\n"
	    "  - {name: a, user: a, password_env: POPFETCH_CAP}\n"
	    "  - {name: b, user: b, password_env: POPFETCH_CAP}\n"
	    "  - {name: c, user: c, password_env: POPFETCH_CAP_EMPTY}\n"
	    "  - {name: d, user: d, password_env: POPFETCH_CAP_UNSET}\n"
	    "  - {name: e, user: e, password_command: [sh, -c,\n"
	    "     'printf %s \"${POPFETCH_CAP-gone}\"']}\n";
	struct config cfg;
	struct err e;
	char *path, *pw;

	setenv("POPFETCH_CAP", "env secret", 1);
	setenv("POPFETCH_CAP_EMPTY", "", 1);
	unsetenv("POPFETCH_CAP_UNSET");
	path = load_ok(text, &cfg);
	CHECK(cfg.naccounts == 5);
	if (cfg.naccounts != 5)
		goto out;
	config_capture_env(&cfg);
	CHECK(getenv("POPFETCH_CAP") == NULL);
	CHECK(getenv("POPFETCH_CAP_EMPTY") == NULL);
	/* Set again later: the captured value stays what counts. */
	setenv("POPFETCH_CAP_UNSET", "too late", 1);

	for (int i = 0; i < 2; i++) {
		CHECK(config_password(&cfg.accounts[i], &pw, &e) == 0);
		CHECK_STR(pw, "env secret");
		util_free_secret(pw);
	}
	CHECK(config_password(&cfg.accounts[2], &pw, &e) == EX_CONFIG);
	CHECK_STR(e.msg, "password_env: variable POPFETCH_CAP_EMPTY is not set "
	    "(it is empty)");
	CHECK(config_password(&cfg.accounts[3], &pw, &e) == EX_CONFIG);
	CHECK_STR(e.msg, "password_env: variable POPFETCH_CAP_UNSET is not "
	    "set");
	CHECK(pw == NULL);
	/* A command popfetch runs does not inherit the secret. */
	CHECK(config_password(&cfg.accounts[4], &pw, &e) == 0);
	CHECK_STR(pw, "gone");
	util_free_secret(pw);
out:
	unsetenv("POPFETCH_CAP_UNSET");
	config_free(&cfg);
	free(path);
}

static void
test_print_tls(void)
{
	static const char text[] =
	    "accounts:\n"
	    "  - name: t\n"
	    "    host: pop.example.org\n"
	    "    ca_path: /etc/ssl/certs\n"
	    "    pinned_pubkey: [" PIN1 ", " PIN2 "]\n"
	    "    client_cert: /c.pem\n"
	    "    client_key: /k.pem\n"
	    "    tls_min_version: 1.3\n"
	    "    auth: LOGIN\n"
	    "    user: u\n"
	    "    password_file: /pw\n"
	    "    maildir: /m\n"
	    "    state_dir: /s\n"
	    "  - name: o\n"
	    "    host: localhost\n"
	    "    tls: none\n"
	    "    pinned_pubkey: " PIN2 "\n"
	    "    auth: xoauth2\n"
	    "    user: u\n"
	    "    oauth2_token_command: [helper, \"--a b\", x]\n"
	    "    maildir: /m\n"
	    "    state_dir: /s\n";
	struct config cfg;
	char *path, *out = NULL, *want;
	size_t outlen = 0;
	FILE *f;

	path = load_ok(text, &cfg);
	f = open_memstream(&out, &outlen);
	config_print(&cfg, f, NULL, NULL);
	fclose(f);
	want = xasprintf(
	    "account t (%s:2:5)\n"
	    "  host: pop.example.org\n"
	    "  port: 995\n"
	    "  tls: implicit\n"
	    "  ca_path: /etc/ssl/certs\n"
	    "  pinned_pubkey: [" PIN1 ", " PIN2 "]\n"
	    "  client_cert: /c.pem\n"
	    "  client_key: /k.pem\n"
	    "  tls_min_version: 1.3\n"
	    "  auth: login\n"
	    "  user: u\n"
	    "  password_file: /pw\n"
	    "  maildir: /m\n"
	    "  keep: true\n"
	    "  timeout: 60s\n"
	    "  lock_timeout: 30s\n"
	    "  state_dir: /s\n"
	    "  forget_after: 30d\n"
	    "\n"
	    "account o (%s:14:5)\n"
	    "  host: localhost\n"
	    "  port: 110\n"
	    "  tls: none\n"
	    "  pinned_pubkey: " PIN2 "\n"
	    "  tls_min_version: 1.2\n"
	    "  auth: xoauth2\n"
	    "  user: u\n"
	    "  oauth2_token_command: [helper, --a b, x]\n"
	    "  maildir: /m\n"
	    "  keep: true\n"
	    "  timeout: 60s\n"
	    "  lock_timeout: 30s\n"
	    "  state_dir: /s\n"
	    "  forget_after: 30d\n", path, path);
	CHECK_STR(out, want);
	free(want);
	free(out);
	config_free(&cfg);
	free(path);
}

/* Lines 1-4 of a file whose account (2:5) still needs a credential and
 * a destination. */
#define ACCOUNT_HU \
	"accounts:\n" \
	"  - name: a\n" \
	"    host: h\n" \
	"    user: u\n"

/* config_print's text for cfg (malloc'd). */
static char *
printed(const struct config *cfg)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	config_print(cfg, f, NULL, NULL);
	fclose(f);
	return out;
}

static void
test_deliver_command(void)
{
	struct config cfg;
	char *path, *out;

	path = load_ok(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, \"a b\", \"it's\"]\n", &cfg);
	CHECK(cfg.naccounts == 1);
	if (cfg.naccounts == 1) {
		const struct account *a = &cfg.accounts[0];

		CHECK(a->store == STORE_COMMAND);
		CHECK(a->deliver_command != NULL);
		if (a->deliver_command != NULL) {
			CHECK_STR(a->deliver_command[0], "procmail");
			CHECK_STR(a->deliver_command[1], "-d");
			CHECK_STR(a->deliver_command[2], "a b");
			CHECK_STR(a->deliver_command[3], "it's");
			CHECK(a->deliver_command[4] == NULL);
		}
		/* Each word through config_shell_quote, which quotes a
		 * leading '-' too. */
		CHECK_STR(a->store_path, "procmail '-d' 'a b' 'it'\\''s'");
		CHECK(a->deliver_timeout_ms == 300000);
		CHECK(a->add_headers == 0);
		out = printed(&cfg);
		CHECK(strstr(out, "\n  deliver_command: [procmail, -d, a b, "
		    "it's]\n  deliver_timeout: 300s\n  keep: true\n") != NULL);
		CHECK(strstr(out, "maildir") == NULL);
		free(out);
	}
	config_free(&cfg);
	free(path);

	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: procmail -d me\n", 6, 22,
	    "deliver_command: expected a list such as [procmail, -d, me], "
	    "found a single string; no shell is used, so give the program "
	    "and each argument as separate items", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: []\n", 6, 22,
	    "deliver_command: the list is empty; give the program and its "
	    "arguments", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [\"\", x]\n", 6, 23,
	    "deliver_command: the program name is empty", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    maildir: /m\n"
	    "    deliver_command: [procmail]\n", 7, 5,
	    "'deliver_command' conflicts with 'maildir' on line 6: set one "
	    "destination: maildir, mbox or deliver_command", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [procmail]\n"
	    "    mbox: /var/mail/u\n", 7, 5,
	    "'mbox' conflicts with 'deliver_command' on line 6: set one "
	    "destination: maildir, mbox or deliver_command", 1);
	/* The same command string is the same store: one journal. */
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, me]\n"
	    "  - name: b\n"
	    "    host: H\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, me]\n", 7, 5,
	    "account 'b' reads the same mailbox (user u on H port 995) into "
	    "the same deliver_command procmail '-d' me as account 'a' (line "
	    "2): they would share one journal", 1);
	/* Another command, or the same one for another user: fine. */
	path = load_ok(ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, me]\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: u\n"
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, you]\n"
	    "  - name: c\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    password: p\n"
	    "    deliver_command: [procmail, -d, me]\n", &cfg);
	CHECK(cfg.naccounts == 3);
	config_free(&cfg);
	free(path);
	/* Under defaults like maildir and mbox; an account's own
	 * destination replaces it as a whole. */
	path = load_ok("defaults:\n"
	    "  deliver_command: [procmail]\n"
	    ACCOUNTS_A
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    password: p\n", &cfg);
	CHECK(cfg.naccounts == 2);
	if (cfg.naccounts == 2) {
		CHECK(cfg.accounts[0].store == STORE_MAILDIR);
		CHECK_STR(cfg.accounts[0].store_path, "/m");
		CHECK(cfg.accounts[0].deliver_command == NULL);
		CHECK(cfg.accounts[1].store == STORE_COMMAND);
		CHECK_STR(cfg.accounts[1].store_path, "procmail");
	}
	config_free(&cfg);
	free(path);
}

static void
test_deliver_timeout(void)
{
	struct config cfg;
	char *path;

	path = load_ok("defaults:\n"
	    "  deliver_timeout: 10m\n"
	    ACCOUNT_HU
	    "    password: p\n"
	    "    deliver_command: [procmail]\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    password: p\n"
	    "    deliver_command: [procmail]\n"
	    "    deliver_timeout: 1500ms\n"
	    "  - name: c\n"
	    "    host: h\n"
	    "    user: w\n"
	    "    password: p\n"
	    "    maildir: /m\n", &cfg);
	CHECK(cfg.naccounts == 3);
	if (cfg.naccounts == 3) {
		CHECK(cfg.accounts[0].deliver_timeout_ms == 600000);
		CHECK(cfg.accounts[1].deliver_timeout_ms == 1500);
		/* Accepted without a deliver_command, as lock_timeout is
		 * without an mbox: it applies to none of its stores. */
		CHECK(cfg.accounts[2].deliver_timeout_ms == 600000);
	}
	config_free(&cfg);
	free(path);
	EXPECT_ERROR(ACCOUNTS_A "    deliver_timeout: 0\n", 7, 22,
	    "deliver_timeout: '0' is out of range; it must be more than 0 "
	    "and at most 24h", 1);
	EXPECT_ERROR(ACCOUNTS_A "    deliver_timeout: 25h\n", 7, 22,
	    "deliver_timeout: '25h' is out of range; it must be more than 0 "
	    "and at most 24h", 1);
	EXPECT_ERROR("defaults:\n  deliver_timeout: soon\n" ACCOUNTS_A, 2, 20,
	    "deliver_timeout: 'soon' is not a duration; write a whole number "
	    "with a unit (500ms, 30s, 2m, 1h, 30d) or a bare number of "
	    "seconds", 1);
	EXPECT_ERROR(ACCOUNTS_A "    deliver_timeout: [1s]\n", 7, 22,
	    "deliver_timeout: expected a duration such as 30s, found a list",
	    1);
}

static void
test_add_headers(void)
{
	struct config cfg;
	char *path, *out;

	path = load_ok("defaults:\n"
	    "  add_headers: [received, x-popfetch-uidl]\n"
	    ACCOUNTS_A
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    password: p\n"
	    "    maildir: /b\n"
	    "    add_headers: [return-path, delivered-to, received, "
	    "received]\n"
	    "  - name: c\n"
	    "    host: h\n"
	    "    user: w\n"
	    "    password: p\n"
	    "    maildir: /c\n"
	    "    add_headers: []\n"
	    "  - name: d\n"
	    "    host: h\n"
	    "    user: x\n"
	    "    password: p\n"
	    "    maildir: /d\n"
	    "    add_headers: delivered-to\n", &cfg);
	CHECK(cfg.naccounts == 4);
	if (cfg.naccounts == 4) {
		CHECK(cfg.accounts[0].add_headers ==
		    (ADD_HDR_RECEIVED | ADD_HDR_UIDL));
		CHECK(cfg.accounts[1].add_headers == (ADD_HDR_RETURN_PATH |
		    ADD_HDR_DELIVERED_TO | ADD_HDR_RECEIVED));
		CHECK(cfg.accounts[2].add_headers == 0);
		CHECK(cfg.accounts[3].add_headers == ADD_HDR_DELIVERED_TO);
		out = printed(&cfg);
		CHECK(strstr(out, "  maildir: /m\n  add_headers: [received, "
		    "x-popfetch-uidl]\n  keep: true\n") != NULL);
		CHECK(strstr(out, "  maildir: /b\n  add_headers: [received, "
		    "delivered-to, return-path]\n  keep: true\n") != NULL);
		CHECK(strstr(out, "  maildir: /c\n  keep: true\n") != NULL);
		free(out);
	}
	config_free(&cfg);
	free(path);
	/* Exact lower case, as written in the manual. */
	EXPECT_ERROR(ACCOUNTS_A "    add_headers: [received, Received]\n",
	    7, 29, "add_headers: unknown header 'Received'; expected one of "
	    "(lower case): received, delivered-to, x-popfetch-uidl, "
	    "return-path", 1);
	EXPECT_ERROR(ACCOUNTS_A "    add_headers: [x-uidl, from]\n",
	    7, 19, "add_headers: unknown header 'x-uidl'; expected one of "
	    "(lower case): received, delivered-to, x-popfetch-uidl, "
	    "return-path", 2);
	EXPECT_ERROR("defaults:\n  add_headers: [[received]]\n" ACCOUNTS_A,
	    2, 17, "add_headers: item 1: expected one of: received, "
	    "delivered-to, x-popfetch-uidl, return-path; found a list", 1);
	EXPECT_ERROR(ACCOUNTS_A "    add_headers: {received: true}\n", 7, 18,
	    "add_headers: expected a list such as [received, delivered-to], "
	    "found a mapping", 1);
}

static void
test_netrc(void)
{
	struct config cfg;
	char *path, *out, *want;

	path = load_ok(ACCOUNT_HU
	    "    netrc: true\n"
	    "    maildir: /m\n"
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    netrc: ~/my/netrc\n"
	    "    auth: plain\n"
	    "    maildir: /m\n"
	    "  - name: c\n"
	    "    host: h\n"
	    "    user: w\n"
	    "    netrc: /etc/netrc\n"
	    "    maildir: /m\n"
	    "  - name: d\n"
	    "    host: h\n"
	    "    user: x\n"
	    "    netrc: false\n"
	    "    password_env: PW\n"
	    "    maildir: /m\n", &cfg);
	CHECK(cfg.naccounts == 4);
	if (cfg.naccounts == 4) {
		want = in_home("/.netrc");
		CHECK_STR(cfg.accounts[0].netrc, want);
		free(want);
		want = in_home("/my/netrc");
		CHECK_STR(cfg.accounts[1].netrc, want);
		free(want);
		CHECK_STR(cfg.accounts[2].netrc, "/etc/netrc");
		CHECK(cfg.accounts[3].netrc == NULL);
		CHECK_STR(cfg.accounts[3].password_env, "PW");
		CHECK(cfg.accounts[0].password == NULL &&
		    cfg.accounts[0].password_command == NULL &&
		    cfg.accounts[0].password_env == NULL &&
		    cfg.accounts[0].password_file == NULL);
		out = printed(&cfg);
		CHECK(strstr(out, "  user: w\n  netrc: /etc/netrc\n  maildir: "
		    "/m\n") != NULL);
		free(out);
	}
	config_free(&cfg);
	free(path);
	/* A password source like the others: one per account, a group
	 * under defaults. */
	path = load_ok("defaults:\n"
	    "  netrc: true\n"
	    ACCOUNTS_A
	    "  - name: b\n"
	    "    host: h\n"
	    "    user: v\n"
	    "    maildir: /m\n", &cfg);
	CHECK(cfg.naccounts == 2);
	if (cfg.naccounts == 2) {
		CHECK(cfg.accounts[0].netrc == NULL);
		CHECK_STR(cfg.accounts[0].password, "p");
		CHECK(cfg.accounts[1].netrc != NULL);
	}
	config_free(&cfg);
	free(path);
	EXPECT_ERROR(ACCOUNT_HU
	    "    password: p\n"
	    "    netrc: true\n"
	    "    maildir: /m\n", 6, 5,
	    "'netrc' conflicts with 'password' on line 5: set one password "
	    "source", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: false\n"
	    "    maildir: /m\n", 2, 5,
	    "account 'a': no password source: set 'password', "
	    "'password_command', 'password_env', 'password_file' or 'netrc'",
	    1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: .netrc\n"
	    "    maildir: /m\n", 5, 12,
	    "netrc: '.netrc' is a relative path; write it from '/' or '~/'",
	    1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: \"\"\n"
	    "    maildir: /m\n", 5, 12, "netrc: must not be empty", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: true\n"
	    "    auth: user\n"
	    "    maildir: /m\n", 5, 5,
	    "account 'a': netrc is read by libcurl's login, and auth: user is "
	    "popfetch's own USER/PASS; use another auth (auto, plain, login, "
	    "...) or another password source", 1);
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: true\n"
	    "    auth: xoauth2\n"
	    "    maildir: /m\n", 5, 5,
	    "account 'a': 'netrc' is not used with auth: xoauth2", 1);
	unsetenv("HOME");
	EXPECT_ERROR(ACCOUNT_HU
	    "    netrc: true\n"
	    "    maildir: /m\n"
	    "    state_dir: /s\n", 5, 12,
	    "netrc: cannot find ~/.netrc: HOME is not set to an absolute "
	    "path", 1);
	setenv("HOME", home, 1);
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
	test_pairs();
	test_forget_after();
	test_limits();
	test_destinations();
	test_timeouts();
	test_yaml_errors();
	test_empty();
	test_all_errors();
	test_tls_keys();
	test_auth_credentials();
	test_loopback();
	test_proxy();
	test_permissions();
	test_unreadable();
	test_print();
	test_passwords();
	test_password_file();
	test_oauth2_token();
	test_capture_env();
	test_print_tls();
	test_deliver_command();
	test_deliver_timeout();
	test_add_headers();
	test_netrc();
	test_example();
	errors_of(NULL);

	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return unit_done("unit_config");
}
