/*
 * fuzz_config.c - config_load() on arbitrary bytes, then the promises of
 * config.h checked on whatever it accepts or refuses.
 *
 * config_load() takes a path, so the input goes into a memfd and is read
 * back through /proc/self/fd/N (a fresh open, as for a real file). The
 * memfd is mode 600; an input that starts with "#644\n" is loaded with
 * mode 644 instead, to reach the "readable by others" refusal. HOME is a
 * fixed absolute path and XDG_STATE_HOME unset, so every run sees the
 * same environment.
 *
 * Accepted: every account has a name, host, user, a destination (a
 * deliver_command with its argv, or an absolute path) and a state_dir;
 * absolute paths; a port in 1..65535; exactly one credential of the
 * right kind for its auth (netrc is a password source, never with auth:
 * user); cert and key both or neither; plaintext only to loopback
 * (server and proxy) unless insecure_plaintext; a proxy with its host;
 * timeout, lock_timeout and deliver_timeout in (0, 24h]; add_headers
 * only known bits; names unique and found by config_find(); no two
 * accounts on one (host, port, user, store) pair.
 * config_print() runs too (into /dev/null). Refused: EX_CONFIG and a
 * non-empty error text whose every line starts with the path.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

const char fuzz_name[] = "config";

#define FUZZ_HOME "/nonexistent/fuzz-home"

static int memfd = -1;
static char path[64];
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (setenv("HOME", FUZZ_HOME, 1) != 0 || unsetenv("XDG_STATE_HOME") != 0)
		fuzz_fail("cannot set the environment");
	if ((memfd = memfd_create("popfetch-fuzz-config", MFD_CLOEXEC)) < 0)
		fuzz_fail("memfd_create failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		fuzz_fail("cannot open /dev/null");
	return 0;
}

static void
put_input(const uint8_t *data, size_t size)
{
	mode_t mode = 0600;
	size_t off = 0;
	ssize_t n;

	if (size >= 5 && memcmp(data, "#644\n", 5) == 0)
		mode = 0644;
	if (fchmod(memfd, mode) != 0 || ftruncate(memfd, 0) != 0)
		fuzz_fail("cannot reset the memfd");
	while (off < size) {
		if ((n = pwrite(memfd, data + off, size - off, (off_t)off)) <= 0)
			fuzz_fail("cannot write the memfd");
		off += (size_t)n;
	}
}

static bool
abs_path(const char *p)
{
	return p == NULL || p[0] == '/';
}

static bool
has_ctl(const char *s, bool space)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || (space && *s == ' '))
			return true;
	return false;
}

static void
check_account(const struct config *cfg, const struct account *a)
{
	int sources = (a->password != NULL) + (a->password_command != NULL) +
	    (a->password_env != NULL) + (a->password_file != NULL) +
	    (a->netrc != NULL);
	bool oauth = a->auth == AUTH_XOAUTH2 || a->auth == AUTH_OAUTHBEARER;

	fuzz_check(a->name != NULL && a->name[0] != '\0');
	fuzz_check(strchr(a->name, '/') == NULL && !has_ctl(a->name, false));
	fuzz_check(strcmp(a->name, ".") != 0 && strcmp(a->name, "..") != 0);
	fuzz_check(config_find(cfg, a->name) == a);
	fuzz_check(a->host != NULL && a->host[0] != '\0' &&
	    !has_ctl(a->host, true));
	fuzz_check(a->user != NULL && !has_ctl(a->user, false));
	fuzz_check(a->password == NULL || !has_ctl(a->password, false));
	fuzz_check(a->port >= 1 && a->port <= 65535);
	fuzz_check(a->tls == TLS_IMPLICIT || a->tls == TLS_STARTTLS ||
	    a->tls == TLS_NONE);
	fuzz_check(a->tls != TLS_NONE || a->insecure_plaintext ||
	    config_host_is_loopback(a->host));
	fuzz_check((a->proxy == NULL) == (a->proxy_host == NULL));
	fuzz_check(a->tls != TLS_NONE || a->insecure_plaintext ||
	    a->proxy_host == NULL || config_host_is_loopback(a->proxy_host));
	fuzz_check(a->tls_min_version == 12 || a->tls_min_version == 13);
	fuzz_check((a->client_cert == NULL) == (a->client_key == NULL));
	fuzz_check(strcmp(config_auth_name(a->auth), "?") != 0);
	if (oauth) {
		fuzz_check(sources == 0);
		fuzz_check(a->oauth2_token_command != NULL);
	} else {
		fuzz_check(sources == 1);
		fuzz_check(a->oauth2_token_command == NULL);
	}
	if (a->password_command != NULL)
		fuzz_check(a->password_command[0] != NULL &&
		    a->password_command[0][0] != '\0');
	if (a->oauth2_token_command != NULL)
		fuzz_check(a->oauth2_token_command[0] != NULL &&
		    a->oauth2_token_command[0][0] != '\0');
	if (a->password_env != NULL)
		fuzz_check(a->password_env[0] != '\0' &&
		    !(a->password_env[0] >= '0' && a->password_env[0] <= '9'));
	fuzz_check(a->store == STORE_MAILDIR || a->store == STORE_MBOX ||
	    a->store == STORE_COMMAND);
	fuzz_check((a->store == STORE_COMMAND) ==
	    (a->deliver_command != NULL));
	if (a->store == STORE_COMMAND)
		fuzz_check(a->deliver_command[0] != NULL &&
		    a->deliver_command[0][0] != '\0' && a->store_path != NULL);
	else
		fuzz_check(a->store_path != NULL && abs_path(a->store_path));
	fuzz_check(a->netrc == NULL || a->auth != AUTH_USER);
	fuzz_check(a->deliver_timeout_ms > 0 &&
	    a->deliver_timeout_ms <= 24L * 3600 * 1000);
	fuzz_check((a->add_headers & ~0xfu) == 0);
	fuzz_check(a->state_dir != NULL && abs_path(a->state_dir));
	fuzz_check(abs_path(a->ca_file) && abs_path(a->ca_path) &&
	    abs_path(a->client_cert) && abs_path(a->client_key) &&
	    abs_path(a->password_file) && abs_path(a->netrc));
	fuzz_check(a->timeout_ms > 0 && a->timeout_ms <= 24L * 3600 * 1000);
	fuzz_check(a->lock_timeout_ms > 0 &&
	    a->lock_timeout_ms <= 24L * 3600 * 1000);
	if (a->pinned_pubkey != NULL) {
		/* "sha256//" + 44 base64 characters, ';'-separated. */
		const char *p = a->pinned_pubkey;

		for (;;) {
			fuzz_check(strncmp(p, "sha256//", 8) == 0);
			fuzz_check(strlen(p) >= 52 && p[51] == '=');
			p += 52;
			if (*p == '\0')
				break;
			fuzz_check(*p == ';');
			p++;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *errors = NULL;
	int rc;

	put_input(data, size);
	rc = config_load(path, &cfg, &errors);
	if (rc == 0) {
		fuzz_check(errors == NULL);
		fuzz_check(cfg.naccounts > 0 && cfg.accounts != NULL);
		fuzz_check(cfg.path != NULL && strcmp(cfg.path, path) == 0);
		for (size_t i = 0; i < cfg.naccounts; i++)
			check_account(&cfg, &cfg.accounts[i]);
		/* No two accounts on one journal: one server mailbox read
		 * into one store. */
		for (size_t i = 0; i < cfg.naccounts; i++)
			for (size_t j = i + 1; j < cfg.naccounts; j++) {
				const struct account *a = &cfg.accounts[i];
				const struct account *b = &cfg.accounts[j];

				fuzz_check(strcasecmp(a->host, b->host) != 0 ||
				    a->port != b->port ||
				    strcmp(a->user, b->user) != 0 ||
				    a->store != b->store ||
				    strcmp(a->store_path, b->store_path) != 0);
			}
		config_print(&cfg, devnull, NULL, NULL);
		fuzz_check(config_find(&cfg, "") == NULL);
		config_free(&cfg);
		fuzz_check(cfg.naccounts == 0 && cfg.accounts == NULL);
	} else {
		const char *line = errors;
		size_t plen = strlen(path);

		if (rc != EX_CONFIG)
			fuzz_fail("config_load returned %d, not EX_CONFIG", rc);
		fuzz_check(errors != NULL && errors[0] != '\0');
		fuzz_check(cfg.naccounts == 0 && cfg.accounts == NULL);
		/* Every line "PATH:LINE:COL: ..." or "PATH: ...". */
		while (*line != '\0') {
			const char *nl = strchr(line, '\n');

			if (strncmp(line, path, plen) != 0 || line[plen] != ':')
				fuzz_fail("error line without the path: %.*s",
				    (int)(nl ? nl - line : (long)strlen(line)),
				    line);
			if (nl == NULL)
				break;
			line = nl + 1;
		}
		free(errors);
	}
	return 0;
}
