/*
 * config.c - the YAML configuration file turned into checked accounts.
 *
 * yamltree.c turns the file into positioned nodes; here they are checked
 * against the schema. Every problem is recorded, not returned, so one run
 * of --check-config shows all of them, in file order.
 *
 * Aliases and merge keys ("<<") are refused: shared settings belong under
 * "defaults:", which says the same without YAML tricks. Anchors alone are
 * harmless and tags are ignored: a value's meaning comes from its key.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "yamltree.h"

#define TIMEOUT_MAX	(24L * 3600 * 1000)
#define TIMEOUT_DEFAULT	60000L
#define LOCK_TIMEOUT_DEFAULT 30000L
#define FORGET_AFTER_DEFAULT (30LL * 86400)          /* seconds */
#define FORGET_AFTER_MAX (3660LL * 86400 * 1000)     /* ten years, ms */
#define COUNT_MAX 1000000000UL                       /* max_messages */

/* At most 64 keys: struct slots keeps sets of them in a keyset. The
 * credential keys, K_PASSWORD to K_OAUTH2_TOKEN_COMMAND, stay together,
 * and so do the destination keys, K_MAILDIR to K_DELIVER_COMMAND:
 * group_of() takes them as ranges. */
enum key {
	K_NAME, K_HOST, K_PORT, K_TLS, K_INSECURE_PLAINTEXT, K_CA_FILE,
	K_CA_PATH, K_PINNED_PUBKEY, K_CLIENT_CERT, K_CLIENT_KEY,
	K_TLS_MIN_VERSION, K_AUTH, K_USER,
	K_PASSWORD, K_PASSWORD_COMMAND, K_PASSWORD_ENV, K_PASSWORD_FILE,
	K_NETRC, K_OAUTH2_TOKEN_COMMAND,
	K_MAILDIR, K_MBOX, K_DELIVER_COMMAND, K_KEEP, K_TIMEOUT,
	K_LOCK_TIMEOUT, K_STATE_DIR,
	K_FORGET_AFTER, K_PROXY, K_MAX_SIZE, K_MAX_MESSAGES, K_MAX_BYTES,
	K_DELETE_AFTER, K_LOG, K_DELIVER_TIMEOUT, K_ADD_HEADERS, NKEYS
};

static const char *const key_names[NKEYS] = {
	"name", "host", "port", "tls", "insecure_plaintext", "ca_file",
	"ca_path", "pinned_pubkey", "client_cert", "client_key",
	"tls_min_version", "auth", "user",
	"password", "password_command", "password_env", "password_file",
	"netrc", "oauth2_token_command",
	"maildir", "mbox", "deliver_command", "keep", "timeout", "lock_timeout", "state_dir",
	"forget_after", "proxy", "max_size", "max_messages", "max_bytes",
	"delete_after", "log", "deliver_timeout", "add_headers"
};

typedef unsigned long long keyset;	/* a set of keys, BIT(id) each */
#define BIT(id)		(1ull << (id))
#define PASSWORD_KEYS	(BIT(K_PASSWORD) | BIT(K_PASSWORD_COMMAND) | \
			 BIT(K_PASSWORD_ENV) | BIT(K_PASSWORD_FILE) | \
			 BIT(K_NETRC))
#define STORE_KEYS	(BIT(K_MAILDIR) | BIT(K_MBOX) | BIT(K_DELIVER_COMMAND))
#define DELIVER_TIMEOUT_DEFAULT 300000L

static const char *const tls_names[] = { "implicit", "starttls", "none" };
static const char *const auth_names[] = {
	"auto", "user", "apop", "plain", "login", "cram-md5", "xoauth2",
	"oauthbearer"
};
#define NAUTH	(sizeof(auth_names) / sizeof(auth_names[0]))
static const char *const top_names[] = { "defaults", "accounts" };

/* The keys of one mapping: the key node and the value node of each. */
struct slots {
	const struct ynode *k[NKEYS];
	const struct ynode *v[NKEYS];
	keyset hinted;		/* keys offered by "did you mean" */
	bool merge;		/* had a (refused) merge key */
};

static void report(struct yamltree *, const struct ynode *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a problem at node n (a short name for a much used call). */
static void
report(struct yamltree *yt, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yamltree_vreport(yt, n->line, n->col, fmt, ap);
	va_end(ap);
}

/* A user's value, safe to quote in one line of error text. */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < size; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	buf[i] = '\0';
	return buf;
}

/* ---- checking values ------------------------------------------------ */

static bool
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s))
			return true;
	return false;
}

/*
 * A non-null scalar, or a report "KEY: expected WHAT, found ...". An empty
 * value points at its key: libyaml places an empty scalar at whatever
 * token follows, often on the next line.
 */
static bool
want_scalar(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    const char *what)
{
	if (v->kind == YN_BAD)
		return false;
	if (v->kind == YN_SCALAR && !ynode_is_null(v))
		return true;
	report(yt, ynode_is_null(v) ? k : v, "%s: expected %s, found %s",
	    k->text, what, ynode_kind(v));
	return false;
}

/* A non-empty string without NUL bytes. Secrets are never quoted back. */
static bool
get_text(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    const char *what)
{
	if (!want_scalar(yt, k, v, what))
		return false;
	if (strlen(v->text) != v->len) {
		report(yt, v, "%s: contains a NUL byte", k->text);
		return false;
	}
	if (v->len == 0) {
		report(yt, v, "%s: must not be empty", k->text);
		return false;
	}
	return true;
}

/*
 * An absolute path, or one starting with "~/". Relative paths are refused:
 * popfetch mostly runs from cron, where the working directory is nobody's
 * choice, and resolving against the file's directory surprises as often.
 */
static bool
get_path(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	const char *s, *home = getenv("HOME");
	char b[64];

	if (!get_text(yt, k, v, "a path"))
		return false;
	s = v->text;
	if (s[0] == '~' && s[1] != '/' && s[1] != '\0') {
		report(yt, v, "%s: '%s': only '~/' is understood, not '~user'",
		    k->text, show(s, b, sizeof(b)));
		return false;
	}
	if (s[0] == '~' && (home == NULL || home[0] != '/')) {
		report(yt, v, "%s: cannot expand '~': HOME is not set to an "
		    "absolute path", k->text);
		return false;
	}
	if (s[0] != '~' && s[0] != '/') {
		report(yt, v, "%s: '%s' is a relative path; write it from '/' "
		    "or '~/'", k->text, show(s, b, sizeof(b)));
		return false;
	}
	*out = util_expand_tilde(s);
	util_path_clean(*out);
	return true;
}

static bool
get_port(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    int *out)
{
	const char *s;
	long n = 0;
	char b[64];

	if (!want_scalar(yt, k, v, "a port number from 1 to 65535"))
		return false;
	for (s = v->text; isdigit((unsigned char)*s) && n <= 65535; s++)
		n = n * 10 + (*s - '0');
	if (s == v->text || (*s != '\0' && !isdigit((unsigned char)*s))) {
		report(yt, v, "%s: expected a port number from 1 to 65535, "
		    "found '%s'", k->text, show(v->text, b, sizeof(b)));
		return false;
	}
	if (n < 1 || n > 65535) {
		report(yt, v, "%s: %s is out of range (1 to 65535)", k->text,
		    show(v->text, b, sizeof(b)));
		return false;
	}
	*out = (int)n;
	return true;
}

static bool
get_bool(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    bool *out)
{
	char b[64];

	if (!want_scalar(yt, k, v, "true or false"))
		return false;
	if (strcasecmp(v->text, "true") == 0 || strcasecmp(v->text, "yes") == 0)
		*out = true;
	else if (strcasecmp(v->text, "false") == 0 ||
	    strcasecmp(v->text, "no") == 0)
		*out = false;
	else {
		report(yt, v, "%s: expected true or false, found '%s'", k->text,
		    show(v->text, b, sizeof(b)));
		return false;
	}
	return true;
}

static bool
get_tls(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    enum tls_mode *out)
{
	char b[64];

	if (!want_scalar(yt, k, v, "implicit, starttls or none"))
		return false;
	for (int i = 0; i < 3; i++)
		if (strcasecmp(v->text, tls_names[i]) == 0) {
			*out = (enum tls_mode)i;
			return true;
		}
	report(yt, v, "%s: unknown mode '%s'; expected one of: implicit, "
	    "starttls, none", k->text, show(v->text, b, sizeof(b)));
	return false;
}

static bool
get_auth(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    enum auth_mech *out)
{
	char b[64];

	if (!want_scalar(yt, k, v, "an authentication mechanism"))
		return false;
	for (size_t i = 0; i < NAUTH; i++)
		if (strcasecmp(v->text, auth_names[i]) == 0) {
			*out = (enum auth_mech)i;
			return true;
		}
	report(yt, v, "%s: unknown mechanism '%s'; expected one of: auto, "
	    "user, apop, plain, login, cram-md5, xoauth2, oauthbearer",
	    k->text, show(v->text, b, sizeof(b)));
	return false;
}

/* "1.2" or "1.3", quoted or not (unquoted, YAML would call it a float,
 * but the text is what counts). */
static bool
get_tls_version(struct yamltree *yt, const struct ynode *k,
    const struct ynode *v, int *out)
{
	char b[64];

	if (!want_scalar(yt, k, v, "1.2 or 1.3"))
		return false;
	if (strcmp(v->text, "1.2") == 0)
		*out = 12;
	else if (strcmp(v->text, "1.3") == 0)
		*out = 13;
	else {
		report(yt, v, "%s: expected 1.2 or 1.3, found '%s'; TLS 1.2 is "
		    "the minimum popfetch accepts", k->text,
		    show(v->text, b, sizeof(b)));
		return false;
	}
	return true;
}

/* proxy: "SCHEME://HOST[:PORT][/]" with a scheme libcurl can tunnel
 * POP3 through; no credentials (they would be a password outside the
 * password keys). The host is kept for the plaintext rule. */
static bool
get_proxy(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out, char **host)
{
	char b[64];
	const char *why;

	if (!get_text(yt, k, v, "a proxy URL (socks5h://HOST:PORT)"))
		return false;
	if ((why = config_proxy_parse(v->text, host)) != NULL) {
		report(yt, v, "%s: '%s' %s", k->text, show(v->text, b,
		    sizeof(b)), why);
		return false;
	}
	*out = xstrdup(v->text);
	return true;
}

/* "sha256//" and the base64 of 32 bytes: 43 characters and one '='. The
 * last character before '=' carries only 4 bits of the key and its low
 * 2 bits are zero: only then can the pin equal what libcurl computes. */
static bool
pin_ok(const char *s, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *c;

	if (len != 8 + 44 || strlen(s) != len || strncmp(s, "sha256//", 8) != 0)
		return false;
	s += 8;
	for (int i = 0; i < 43; i++)
		if ((c = strchr(b64, s[i])) == NULL)
			return false;
	return s[43] == '=' && (c - b64) % 4 == 0;
}

static bool
get_pins(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	static const char shape[] = "is not a public-key pin; expected "
	    "'sha256//' followed by the base64 of 32 bytes (44 characters "
	    "ending in '='), as popfetch --server-info prints it";
	const struct ynode *const *items = &v;
	size_t n = 1, len = 0;
	bool ok = true;
	char b[64], *p;

	if (v->kind == YN_SEQ) {
		if (v->nkid == 0) {
			report(yt, v, "%s: the list is empty; give one or more "
			    "pins (sha256//...)", k->text);
			return false;
		}
		items = (const struct ynode *const *)v->kid;
		n = v->nkid;
	} else if (!want_scalar(yt, k, v, "a pin (sha256//...) or a list of "
	    "them"))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->kind == YN_BAD) {
			ok = false;
		} else if (it->kind != YN_SCALAR || ynode_is_null(it)) {
			report(yt, it, "%s: item %zu: expected a pin "
			    "(sha256//...), found %s", k->text, i + 1,
			    ynode_kind(it));
			ok = false;
		} else if (!pin_ok(it->text, it->len)) {
			if (v->kind == YN_SEQ)
				report(yt, it, "%s: item %zu: '%s' %s", k->text,
				    i + 1, show(it->text, b, sizeof(b)), shape);
			else
				report(yt, it, "%s: '%s' %s", k->text,
				    show(it->text, b, sizeof(b)), shape);
			ok = false;
		} else
			len += it->len + 1;
	}
	if (!ok)
		return false;
	p = *out = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ';';
		p = stpcpy(p, items[i]->text);
	}
	return true;
}

int
config_parse_duration(const char *text, long long *ms)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *s = text;
	long long n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	/* Too many digits saturate; the caller's range check says no. */
	for (; isdigit((unsigned char)*s); s++)
		n = n > (LLONG_MAX - 9) / 10 ? LLONG_MAX : n * 10 + (*s - '0');
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		*ms = n > LLONG_MAX / units[i].ms ? LLONG_MAX :
		    n * units[i].ms;
		return 0;
	}
	return -1;
}

static bool
get_duration(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    long long min, const char *mintext, long long max, const char *maxtext,
    long long *out)
{
	char b[64];
	long long ms;

	if (!want_scalar(yt, k, v, "a duration such as 30s"))
		return false;
	if (config_parse_duration(v->text, &ms) != 0) {
		report(yt, v, "%s: '%s' is not a duration; write a whole "
		    "number with a unit (500ms, 30s, 2m, 1h, 30d) or a bare "
		    "number of seconds", k->text, show(v->text, b, sizeof(b)));
		return false;
	}
	if (ms < min || ms > max) {
		report(yt, v, "%s: '%s' is out of range; it must be %s and "
		    "at most %s", k->text, show(v->text, b, sizeof(b)),
		    mintext, maxtext);
		return false;
	}
	*out = ms;
	return true;
}

static bool
get_timeout(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    long *out)
{
	long long ms;

	if (!get_duration(yt, k, v, 1, "more than 0", TIMEOUT_MAX, "24h", &ms))
		return false;
	*out = (long)ms;
	return true;
}

int
config_parse_size(const char *text, unsigned long long *bytes)
{
	static const struct { const char *unit; unsigned long long n; }
	    units[] = {
		{ "", 1 }, { "k", 1024 }, { "K", 1024 },
		{ "m", 1024 * 1024 }, { "M", 1024 * 1024 },
		{ "g", 1024ULL * 1024 * 1024 }, { "G", 1024ULL * 1024 * 1024 },
	};
	const char *s = text;
	unsigned long long n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++)
		n = n > (ULLONG_MAX - 9) / 10 ? ULLONG_MAX : n * 10 +
		    (unsigned)(*s - '0');
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		*bytes = n > ULLONG_MAX / units[i].n ? ULLONG_MAX :
		    n * units[i].n;
		return 0;
	}
	return -1;
}

/* A size in bytes, at least 1: "500000", "640K", "10M", "2G". */
static bool
get_size(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    unsigned long long *out)
{
	char b[64];
	unsigned long long n;

	if (!want_scalar(yt, k, v, "a size such as 10M"))
		return false;
	if (config_parse_size(v->text, &n) != 0 || n == 0 ||
	    n == ULLONG_MAX) {
		report(yt, v, "%s: '%s' is not a size; write a whole number "
		    "of bytes, at least 1, or one with K, M or G (640K, 10M, "
		    "2G; units of 1024)", k->text, show(v->text, b,
		    sizeof(b)));
		return false;
	}
	*out = n;
	return true;
}

/* A whole number from 1 to COUNT_MAX. */
static bool
get_count(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    unsigned long *out)
{
	char b[64];
	unsigned long long n;

	if (!want_scalar(yt, k, v, "a number such as 100"))
		return false;
	if (config_parse_size(v->text, &n) != 0 ||
	    !isdigit((unsigned char)v->text[strlen(v->text) - 1]) || n < 1 ||
	    n > COUNT_MAX) {
		report(yt, v, "%s: '%s' is not a whole number from 1 to %lu",
		    k->text, show(v->text, b, sizeof(b)), COUNT_MAX);
		return false;
	}
	*out = (unsigned long)n;
	return true;
}

static bool
get_argv(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char ***out)
{
	const char *eg = strcmp(k->text, "oauth2_token_command") == 0 ?
	    "[oauth2-helper, --account, me@example.org]" :
	    strcmp(k->text, "deliver_command") == 0 ?
	    "[procmail, -d, me]" : "[pass, show, mail/work]";
	char **argv, what[80];
	bool ok = true;

	if (v->kind == YN_SCALAR && !ynode_is_null(v)) {
		report(yt, v, "%s: expected a list such as %s, found a single "
		    "string; no shell is used, so give the program and each "
		    "argument as separate items", k->text, eg);
		return false;
	}
	if (v->kind != YN_SEQ) {
		snprintf(what, sizeof(what), "a list such as %s", eg);
		want_scalar(yt, k, v, what);
		return false;
	}
	if (v->nkid == 0) {
		report(yt, v, "%s: the list is empty; give the program and its "
		    "arguments", k->text);
		return false;
	}
	for (size_t i = 0; i < v->nkid; i++) {
		const struct ynode *it = v->kid[i];
		if (it->kind == YN_BAD) {
			ok = false;
		} else if (it->kind != YN_SCALAR || ynode_is_null(it)) {
			report(yt, it, "%s: item %zu: expected a string, "
			    "found %s", k->text, i + 1, ynode_kind(it));
			ok = false;
		} else if (strlen(it->text) != it->len) {
			report(yt, it, "%s: item %zu contains a NUL byte",
			    k->text, i + 1);
			ok = false;
		} else if (i == 0 && it->len == 0) {
			report(yt, it, "%s: the program name is empty",
			    k->text);
			ok = false;
		}
	}
	if (!ok)
		return false;
	argv = xcalloc(v->nkid + 1, sizeof(*argv));
	for (size_t i = 0; i < v->nkid; i++)
		argv[i] = xstrdup(v->kid[i]->text);
	*out = argv;
	return true;
}

/* deliver_command's store_path: the words as a shell would read them. */
static char *
argv_quoted(char *const *argv)
{
	char *out = xstrdup(""), *q, *t;

	for (size_t i = 0; argv[i] != NULL; i++) {
		q = config_shell_quote(argv[i]);
		t = xasprintf("%s%s%s", out, i > 0 ? " " : "", q);
		free(q);
		free(out);
		out = t;
	}
	return out;
}

/* add_headers: the words, exactly as written (lower case), each one bit. */
static const struct { const char *word; unsigned bit; } add_header_words[] = {
	{ "received", ADD_HDR_RECEIVED },
	{ "delivered-to", ADD_HDR_DELIVERED_TO },
	{ "x-popfetch-uidl", ADD_HDR_UIDL },
	{ "return-path", ADD_HDR_RETURN_PATH },
};
#define ADD_HEADER_LIST "received, delivered-to, x-popfetch-uidl, return-path"

/* A list of add_headers words (one word alone is a list of one; [] is
 * none). */
static bool
get_add_headers(struct yamltree *yt, const struct ynode *k,
    const struct ynode *v, unsigned *out)
{
	const struct ynode *const *items = &v;
	size_t n = 1, j;
	unsigned bits = 0;
	bool ok = true;
	char b[64];

	if (v->kind == YN_SEQ) {
		items = (const struct ynode *const *)v->kid;
		n = v->nkid;
	} else if (!want_scalar(yt, k, v, "a list such as [received, "
	    "delivered-to]"))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->kind == YN_BAD) {
			ok = false;
			continue;
		}
		if (it->kind != YN_SCALAR || ynode_is_null(it)) {
			report(yt, it, "%s: item %zu: expected one of: %s; "
			    "found %s", k->text, i + 1, ADD_HEADER_LIST,
			    ynode_kind(it));
			ok = false;
			continue;
		}
		for (j = 0; j < sizeof(add_header_words) /
		    sizeof(add_header_words[0]); j++)
			if (strcmp(it->text, add_header_words[j].word) == 0)
				break;
		if (j == sizeof(add_header_words) /
		    sizeof(add_header_words[0])) {
			report(yt, it, "%s: unknown header '%s'; expected one "
			    "of (lower case): %s", k->text,
			    show(it->text, b, sizeof(b)), ADD_HEADER_LIST);
			ok = false;
			continue;
		}
		bits |= add_header_words[j].bit;
	}
	if (ok)
		*out = bits;
	return ok;
}

/* "netrc: false" (or "no"): no netrc, so not a password source either. */
static bool
netrc_off(const struct ynode *v)
{
	return v != NULL && v->kind == YN_SCALAR &&
	    (strcasecmp(v->text, "false") == 0 ||
	    strcasecmp(v->text, "no") == 0);
}

/* netrc: true (~/.netrc), false (none) or a path. */
static bool
get_netrc(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	const char *home = getenv("HOME");

	if (v->kind == YN_SCALAR && (strcasecmp(v->text, "true") == 0 ||
	    strcasecmp(v->text, "yes") == 0)) {
		if (home == NULL || home[0] != '/') {
			report(yt, v, "%s: cannot find ~/.netrc: HOME is not "
			    "set to an absolute path", k->text);
			return false;
		}
		*out = util_expand_tilde("~/.netrc");
		util_path_clean(*out);
		return true;
	}
	if (netrc_off(v))
		return true;
	return get_path(yt, k, v, out);
}

static bool
get_envname(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	const char *s;
	char b[64];

	if (!get_text(yt, k, v, "an environment variable name"))
		return false;
	for (s = v->text; *s == '_' || isalnum((unsigned char)*s); s++)
		;
	if (*s != '\0' || isdigit((unsigned char)v->text[0])) {
		report(yt, v, "%s: '%s' is not an environment variable name "
		    "(letters, digits and '_'; no '$')", k->text,
		    show(v->text, b, sizeof(b)));
		return false;
	}
	*out = xstrdup(v->text);
	return true;
}

static bool
get_name(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	char b[64];

	if (!get_text(yt, k, v, "a string"))
		return false;
	/* The name becomes a file name in state_dir. */
	if (strchr(v->text, '/') != NULL || has_ctl(v->text) ||
	    strcmp(v->text, ".") == 0 || strcmp(v->text, "..") == 0) {
		report(yt, v, "%s: '%s' cannot be an account name (no '/', no "
		    "control characters, not '.' or '..')", k->text,
		    show(v->text, b, sizeof(b)));
		return false;
	}
	*out = xstrdup(v->text);
	return true;
}

/* host, user, password: these go into POP3 commands and URLs, where a
 * line break would end the command early. */
static bool
get_word(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out, bool nospace)
{
	const char *s;

	if (!get_text(yt, k, v, "a string"))
		return false;
	for (s = v->text; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s) || (nospace && *s == ' '))
			break;
	if (*s != '\0') {
		report(yt, v, "%s: must not contain %s", k->text,
		    nospace ? "spaces or control characters" :
		    "control characters or line breaks");
		return false;
	}
	*out = xstrdup(v->text);
	return true;
}

/* A host name or address, nothing more: a port, a scheme, brackets or
 * a path in it would only fail at connect time, as a bad URL. An IPv6
 * address has two colons or more; one colon is a port. */
static bool
get_host(struct yamltree *yt, const struct ynode *k, const struct ynode *v,
    char **out)
{
	const char *t, *colon;
	char b[64];

	if (!get_word(yt, k, v, out, true))
		return false;
	t = v->text;
	colon = strchr(t, ':');
	if (strstr(t, "://") != NULL)
		report(yt, v, "host: '%s' holds a scheme; write the host name "
		    "alone and say how to connect with tls: (implicit for "
		    "pop3s, starttls or none for pop3)", show(t, b, sizeof(b)));
	else if (t[0] == '[' || strchr(t, ']') != NULL)
		report(yt, v, "host: '%s': write an IPv6 address without "
		    "brackets, and the port as 'port:'", show(t, b, sizeof(b)));
	else if (colon != NULL && strchr(colon + 1, ':') == NULL)
		report(yt, v, "host: '%s' holds a port; write 'host: %.*s' and "
		    "'port: %s'", show(t, b, sizeof(b)), (int)(colon - t), t,
		    colon + 1);
	else if (strchr(t, '/') != NULL || strchr(t, '@') != NULL)
		report(yt, v, "host: '%s' is not a host name or address",
		    show(t, b, sizeof(b)));
	else if (t[0] == '\0')
		report(yt, v, "host: must not be empty");
	else
		return true;
	free(*out);
	*out = NULL;
	return false;
}

/* Fill a from the keys present in s; absent keys are left alone.
 * Returns the set of keys whose values were refused. */
static keyset
convert(struct yamltree *yt, const struct slots *s, struct account *a)
{
	keyset bad = 0;
	bool ok = true;
	long long ms = 0;

	for (int id = 0; id < NKEYS; id++) {
		const struct ynode *k = s->k[id], *v = s->v[id];

		if (k == NULL)
			continue;
		switch (id) {
		case K_NAME:
			ok = get_name(yt, k, v, &a->name);
			break;
		case K_HOST:
			ok = get_host(yt, k, v, &a->host);
			break;
		case K_PORT:
			ok = get_port(yt, k, v, &a->port);
			break;
		case K_TLS:
			ok = get_tls(yt, k, v, &a->tls);
			break;
		case K_CA_FILE:
			ok = get_path(yt, k, v, &a->ca_file);
			break;
		case K_INSECURE_PLAINTEXT:
			ok = get_bool(yt, k, v, &a->insecure_plaintext);
			break;
		case K_CA_PATH:
			ok = get_path(yt, k, v, &a->ca_path);
			break;
		case K_PINNED_PUBKEY:
			ok = get_pins(yt, k, v, &a->pinned_pubkey);
			break;
		case K_CLIENT_CERT:
			ok = get_path(yt, k, v, &a->client_cert);
			break;
		case K_CLIENT_KEY:
			ok = get_path(yt, k, v, &a->client_key);
			break;
		case K_TLS_MIN_VERSION:
			ok = get_tls_version(yt, k, v, &a->tls_min_version);
			break;
		case K_AUTH:
			ok = get_auth(yt, k, v, &a->auth);
			break;
		case K_USER:
			ok = get_word(yt, k, v, &a->user, false);
			break;
		case K_PASSWORD:
			ok = get_word(yt, k, v, &a->password, false);
			break;
		case K_PASSWORD_COMMAND:
			ok = get_argv(yt, k, v, &a->password_command);
			break;
		case K_PASSWORD_ENV:
			ok = get_envname(yt, k, v, &a->password_env);
			break;
		case K_PASSWORD_FILE:
			ok = get_path(yt, k, v, &a->password_file);
			break;
		case K_NETRC:
			ok = get_netrc(yt, k, v, &a->netrc);
			break;
		case K_OAUTH2_TOKEN_COMMAND:
			ok = get_argv(yt, k, v, &a->oauth2_token_command);
			break;
		case K_MAILDIR:
		case K_MBOX:
			a->store = id == K_MAILDIR ? STORE_MAILDIR : STORE_MBOX;
			ok = get_path(yt, k, v, &a->store_path);
			break;
		case K_DELIVER_COMMAND:
			a->store = STORE_COMMAND;
			ok = get_argv(yt, k, v, &a->deliver_command);
			if (ok)
				a->store_path = argv_quoted(a->deliver_command);
			break;
		case K_DELIVER_TIMEOUT:
			ok = get_timeout(yt, k, v, &a->deliver_timeout_ms);
			break;
		case K_ADD_HEADERS:
			ok = get_add_headers(yt, k, v, &a->add_headers);
			break;
		case K_KEEP:
			ok = get_bool(yt, k, v, &a->keep);
			break;
		case K_TIMEOUT:
			ok = get_timeout(yt, k, v, &a->timeout_ms);
			break;
		case K_LOCK_TIMEOUT:
			ok = get_timeout(yt, k, v, &a->lock_timeout_ms);
			break;
		case K_STATE_DIR:
			ok = get_path(yt, k, v, &a->state_dir);
			break;
		case K_FORGET_AFTER:
			ok = get_duration(yt, k, v, 1000, "at least 1s",
			    FORGET_AFTER_MAX, "3660d", &ms);
			if (ok)
				a->forget_after_s = ms / 1000;
			break;
		case K_PROXY:
			ok = get_proxy(yt, k, v, &a->proxy, &a->proxy_host);
			break;
		case K_MAX_SIZE:
			ok = get_size(yt, k, v, &a->max_size);
			break;
		case K_MAX_BYTES:
			ok = get_size(yt, k, v, &a->max_bytes);
			break;
		case K_MAX_MESSAGES:
			ok = get_count(yt, k, v, &a->max_messages);
			break;
		case K_LOG:
			if (!want_scalar(yt, k, v, "syslog or stderr"))
				ok = false;
			else if (strcmp(v->text, "syslog") == 0 ||
			    strcmp(v->text, "stderr") == 0)
				a->log_syslog = strcmp(v->text, "syslog") == 0;
			else {
				char b[64];

				report(yt, v, "log: '%s' is not syslog or "
				    "stderr", show(v->text, b, sizeof(b)));
				ok = false;
			}
			break;
		case K_DELETE_AFTER:
			ok = get_duration(yt, k, v, 1000, "at least 1s",
			    FORGET_AFTER_MAX, "3660d", &ms);
			if (ok)
				a->delete_after_s = ms / 1000;
			break;
		}
		if (!ok)
			bad |= BIT(id);
	}
	return bad;
}

static void
argv_free(char **argv)
{
	if (argv != NULL)
		for (char **p = argv; *p != NULL; p++)
			free(*p);
	free(argv);
}

static void
account_clear(struct account *a)
{
	free(a->name);
	free(a->host);
	free(a->ca_file);
	free(a->ca_path);
	free(a->pinned_pubkey);
	free(a->client_cert);
	free(a->client_key);
	free(a->user);
	util_free_secret(a->password);
	argv_free(a->password_command);
	free(a->password_env);
	free(a->password_file);
	argv_free(a->oauth2_token_command);
	util_free_secret(a->env_secret);
	free(a->netrc);
	free(a->store_path);
	argv_free(a->deliver_command);
	free(a->state_dir);
	free(a->proxy);
	free(a->proxy_host);
	memset(a, 0, sizeof(*a));
}

/* ---- checking mappings ---------------------------------------------- */

/* Edit distance counting a swap of neighbours as one edit, ignoring case;
 * a large number for strings too long to be a misspelt key. */
#define LC(c)	tolower((unsigned char)(c))

static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33], i, j, c;

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = LC(a[i - 1]) != LC(b[j - 1]);
			d[i][j] = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < d[i][j])
				d[i][j] = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < d[i][j])
				d[i][j] = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && LC(a[i - 1]) == LC(b[j - 2]) &&
			    LC(a[i - 2]) == LC(b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

/* Report k as unknown; returns the index of the suggested key or -1. */
static int
unknown_key(struct yamltree *yt, const struct ynode *k,
    const char *const *known, size_t n, const char *where)
{
	size_t best = SIZE_MAX, d, len = strlen(k->text);
	int hint = -1;
	char b[64];

	if (strcmp(k->text, "<<") == 0) {
		report(yt, k, "merge keys ('<<') are not supported; put shared "
		    "settings under 'defaults:'");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		d = distance(k->text, known[i]);
		/* A suggestion must keep at least one character of the key. */
		if (d <= 2 && d < len && d < best) {
			best = d;
			hint = (int)i;
		}
	}
	if (hint >= 0)
		report(yt, k, "unknown %skey '%s'; did you mean '%s'?", where,
		    show(k->text, b, sizeof(b)), known[hint]);
	else
		report(yt, k, "unknown %skey '%s'", where,
		    show(k->text, b, sizeof(b)));
	return hint;
}

/* The keys [lo, hi] that exclude each other, id among them; a key
 * outside any such group is a group of its own. */
static void
group_of(int id, int *lo, int *hi)
{
	*lo = *hi = id;
	if (id >= K_PASSWORD && id <= K_OAUTH2_TOKEN_COMMAND) {
		*lo = K_PASSWORD;
		*hi = K_OAUTH2_TOKEN_COMMAND;
	} else if (id >= K_MAILDIR && id <= K_DELIVER_COMMAND) {
		*lo = K_MAILDIR;
		*hi = K_DELIVER_COMMAND;
	}
}

/* Sort the keys of an account (or defaults) mapping into s. */
static void
collect(struct yamltree *yt, const struct ynode *map, struct slots *s,
    bool defaults)
{
	char b[64];
	int id, lo, hi, j;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i + 1 < map->nkid; i += 2) {
		const struct ynode *k = map->kid[i], *v = map->kid[i + 1];

		if (k->kind == YN_BAD)
			continue;
		if (k->kind != YN_SCALAR) {
			report(yt, k, "a key must be a plain word, not %s",
			    ynode_kind(k));
			continue;
		}
		for (id = 0; id < NKEYS; id++)
			if (strcmp(k->text, key_names[id]) == 0)
				break;
		if (id == NKEYS) {
			s->merge |= strcmp(k->text, "<<") == 0;
			/* Remember the suggestion: "missing 'host'" after
			 * "did you mean 'host'?" would say the same twice. */
			if ((j = unknown_key(yt, k, key_names, NKEYS, "")) >= 0)
				s->hinted |= BIT(j);
			continue;
		}
		if (defaults && id == K_NAME) {
			report(yt, k, "'name' cannot be set under defaults: "
			    "each account needs its own");
			continue;
		}
		if (s->k[id] != NULL) {
			report(yt, k, "duplicate key '%s' (first set on line "
			    "%d)", show(k->text, b, sizeof(b)), s->k[id]->line);
			continue;
		}
		group_of(id, &lo, &hi);
		/* "netrc: false" names no source: it conflicts with none. */
		for (j = lo; j <= hi; j++)
			if (j != id && s->k[j] != NULL &&
			    !(id == K_NETRC && netrc_off(v)) &&
			    !(j == K_NETRC && netrc_off(s->v[j])))
				break;
		if (j <= hi) {
			report(yt, k, "'%s' conflicts with '%s' on line %d: %s",
			    key_names[id], key_names[j], s->k[j]->line,
			    lo == K_MAILDIR ? "set one destination: maildir, "
			    "mbox or deliver_command" : id == K_OAUTH2_TOKEN_COMMAND ||
			    j == K_OAUTH2_TOKEN_COMMAND ? "an account logs in "
			    "with a password or with an OAuth2 token, not both" :
			    "set one password source");
			continue;
		}
		s->k[id] = k;
		s->v[id] = v;
	}
}

/*
 * With auth xoauth2 or oauthbearer the account logs in with the token
 * oauth2_token_command prints, and no password; with any other auth it
 * needs exactly one password source and no token command. "auto" does
 * not stretch to OAuth2: a token command without an explicit mechanism is
 * more likely a mistake than a wish. (Two sources in one mapping, or a
 * source and a token command, were refused by collect().)
 */
static void
credentials_check(struct yamltree *yt, const struct ynode *map,
    const struct slots *s, const struct account *a, const char *label,
    keyset hinted, keyset bad)
{
	const struct ynode *tok = s->k[K_OAUTH2_TOKEN_COMMAND];
	bool oauth = a->auth == AUTH_XOAUTH2 || a->auth == AUTH_OAUTHBEARER;
	int pw;

	for (pw = K_PASSWORD; pw <= K_NETRC; pw++)
		if (s->k[pw] != NULL &&
		    !(pw == K_NETRC && netrc_off(s->v[pw])))
			break;
	if (pw > K_NETRC)
		pw = -1;
	if (bad & BIT(K_AUTH)) {
		/* The mechanism is unknown: nothing to say about the rest. */
	} else if (oauth && pw >= 0) {
		report(yt, s->k[pw], "%s: '%s' is not used with auth: %s, which "
		    "logs in with the token 'oauth2_token_command' prints; "
		    "remove it and set 'oauth2_token_command'", label,
		    key_names[pw], auth_names[a->auth]);
	} else if (oauth && tok == NULL) {
		if (!(hinted & BIT(K_OAUTH2_TOKEN_COMMAND)))
			report(yt, map, "%s: auth: %s needs "
			    "'oauth2_token_command', a command that prints an "
			    "access token", label, auth_names[a->auth]);
	} else if (!oauth && tok != NULL) {
		if (a->auth == AUTH_AUTO)
			report(yt, tok, "%s: oauth2_token_command is set but "
			    "auth is auto; say 'auth: xoauth2' or "
			    "'auth: oauthbearer' (whichever the server "
			    "offers)", label);
		else
			report(yt, tok, "%s: oauth2_token_command is only used "
			    "with auth: xoauth2 or oauthbearer, not with "
			    "auth: %s; set a password source instead", label,
			    auth_names[a->auth]);
	} else if (!oauth && pw < 0 &&
	    !(hinted & (PASSWORD_KEYS | BIT(K_OAUTH2_TOKEN_COMMAND)))) {
		report(yt, map, "%s: no password source: set 'password', "
		    "'password_command', 'password_env', 'password_file' or "
		    "'netrc'", label);
	} else if (pw == K_NETRC && a->auth == AUTH_USER) {
		/* libcurl reads the netrc and logs in; auth: user is
		 * popfetch's own USER/PASS, which never sees the password. */
		report(yt, s->k[pw], "%s: netrc is read by libcurl's login, "
		    "and auth: user is popfetch's own USER/PASS; use another "
		    "auth (auto, plain, login, ...) or another password "
		    "source", label);
	}
}

/*
 * TLS settings that only make sense together: plaintext only to loopback
 * unless the user insists, a client certificate with its key.
 */
static void
tls_check(struct yamltree *yt, const struct ynode *map,
    const struct slots *own, const struct slots *s, const struct account *a,
    const char *label, keyset hinted, keyset bad)
{
	char b[64];
	int have, need;

	if (a->tls == TLS_NONE && a->host != NULL && !a->insecure_plaintext &&
	    !(bad & (BIT(K_TLS) | BIT(K_HOST) | BIT(K_INSECURE_PLAINTEXT))) &&
	    !(hinted & BIT(K_INSECURE_PLAINTEXT)) &&
	    !config_host_is_loopback(a->host))
		report(yt, own->k[K_TLS] != NULL ? own->v[K_TLS] : map, "%s: "
		    "tls: none to %s would send the password and the mail "
		    "across the network readable by anyone on the path; use "
		    "tls: implicit or tls: starttls, or set "
		    "insecure_plaintext: true if you really mean it", label,
		    show(a->host, b, sizeof(b)));
	else if (a->tls == TLS_NONE && a->proxy_host != NULL &&
	    !a->insecure_plaintext &&
	    !(bad & (BIT(K_TLS) | BIT(K_INSECURE_PLAINTEXT))) &&
	    !(hinted & BIT(K_INSECURE_PLAINTEXT)) &&
	    !config_host_is_loopback(a->proxy_host))
		/* The proxy hop carries the same bytes across the network. */
		report(yt, own->k[K_PROXY] != NULL ? own->v[K_PROXY] : map,
		    "%s: tls: none through the proxy at %s would send the "
		    "password and the mail across the network readable by "
		    "anyone on the path; use tls: implicit or tls: starttls, "
		    "or set insecure_plaintext: true if you really mean it",
		    label, show(a->proxy_host, b, sizeof(b)));
	if ((s->k[K_CLIENT_CERT] == NULL) != (s->k[K_CLIENT_KEY] == NULL)) {
		have = s->k[K_CLIENT_CERT] != NULL ? K_CLIENT_CERT :
		    K_CLIENT_KEY;
		need = have == K_CLIENT_CERT ? K_CLIENT_KEY : K_CLIENT_CERT;
		if (!(hinted & BIT(need)))
			report(yt, s->k[have], "%s: set '%s' too: a client "
			    "certificate needs its key (both or neither)",
			    key_names[have], key_names[need]);
	}
}

static char *
default_state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	char *d = NULL;

	/* Cleaned like a configured path: accounts that share the older
	 * per-user@host journal are found by comparing these strings. */
	if (x != NULL && x[0] == '/')
		d = xasprintf("%s/popfetch", x);
	else if (home != NULL && home[0] == '/')
		d = xasprintf("%s/.local/state/popfetch", home);
	if (d != NULL)
		util_path_clean(d);
	return d;
}

/*
 * One account: its own keys over the defaults. The password source and
 * the destination are each taken as a whole: an account that names any
 * key of the group replaces what defaults say about it, so defaults can
 * offer password_command while one account uses password_env.
 */
static void
account_build(struct yamltree *yt, const struct ynode *map, size_t index,
    const struct slots *defs, struct account *a, const struct ynode **namev)
{
	struct slots own, s;
	char label[96], b[64];
	keyset hinted, bad;
	int id, lo, hi;

	collect(yt, map, &own, false);
	*namev = own.v[K_NAME];
	hinted = own.hinted | defs->hinted;
	/* Who knows what the refused merge would have brought. */
	if (own.merge || defs->merge)
		hinted = ~0ull;
	s = *defs;
	for (id = 0; id < NKEYS; id++) {
		if (own.k[id] == NULL)
			continue;
		group_of(id, &lo, &hi);
		for (int j = lo; j <= hi; j++)
			s.k[j] = s.v[j] = NULL;
	}
	for (id = 0; id < NKEYS; id++)
		if (own.k[id] != NULL) {
			s.k[id] = own.k[id];
			s.v[id] = own.v[id];
		}

	memset(a, 0, sizeof(*a));
	a->line = map->line;
	a->column = map->col;
	a->keep = true;
	a->timeout_ms = TIMEOUT_DEFAULT;
	a->lock_timeout_ms = LOCK_TIMEOUT_DEFAULT;
	a->deliver_timeout_ms = DELIVER_TIMEOUT_DEFAULT;
	a->forget_after_s = FORGET_AFTER_DEFAULT;
	a->tls_min_version = 12;
	a->auth = AUTH_AUTO;
	bad = convert(yt, &s, a);

	if (a->name != NULL)
		snprintf(label, sizeof(label), "account '%s'",
		    show(a->name, b, sizeof(b)));
	else
		snprintf(label, sizeof(label), "account #%zu", index + 1);
	for (id = 0; id < NKEYS; id++)
		if ((id == K_NAME || id == K_HOST || id == K_USER) &&
		    s.k[id] == NULL && !(hinted & BIT(id)))
			report(yt, map, "%s: missing required key '%s'", label,
			    key_names[id]);
	credentials_check(yt, map, &s, a, label, hinted, bad);
	tls_check(yt, map, &own, &s, a, label, hinted, bad);
	if (!s.k[K_MAILDIR] && !s.k[K_MBOX] && !s.k[K_DELIVER_COMMAND] &&
	    !(hinted & STORE_KEYS))
		report(yt, map, "%s: no destination: set 'maildir', 'mbox' or "
		    "'deliver_command'", label);
	if (own.k[K_LOG] != NULL)
		report(yt, own.k[K_LOG], "%s: 'log' is for the whole run: set it "
		    "under defaults", label);
	if (s.k[K_DELETE_AFTER] != NULL && !a->keep &&
	    !(bad & (BIT(K_KEEP) | BIT(K_DELETE_AFTER))))
		report(yt, s.k[K_DELETE_AFTER], "%s: delete_after is for keep: "
		    "true (mail stays on the server that long); with keep: "
		    "false every message is deleted once stored", label);
	if (s.k[K_PORT] == NULL)
		a->port = a->tls == TLS_IMPLICIT ? 995 : 110;
	if (s.k[K_STATE_DIR] == NULL &&
	    (a->state_dir = default_state_dir()) == NULL)
		report(yt, map, "%s: no state_dir, and neither XDG_STATE_HOME "
		    "nor HOME is set to an absolute path", label);
}

/* An account's name and index, ordered by name, then by position. */
struct named {
	const char *name;
	size_t i;
};

static int
cmp_named(const void *x, const void *y)
{
	const struct named *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c != 0 ? c : a->i < b->i ? -1 : a->i > b->i;
}

static void
load_accounts(struct yamltree *yt, const struct ynode *seq,
    const struct slots *defs, struct config *cfg)
{
	const struct ynode **namev = xcalloc(seq->nkid + 1, sizeof(*namev));
	struct named *byname = xcalloc(seq->nkid + 1, sizeof(*byname));
	size_t n = 0;
	char b[64];

	cfg->accounts = xcalloc(seq->nkid, sizeof(*cfg->accounts));
	for (size_t i = 0; i < seq->nkid; i++) {
		const struct ynode *item = seq->kid[i];
		struct account *a = &cfg->accounts[cfg->naccounts];

		if (item->kind == YN_BAD)
			continue;
		if (item->kind != YN_MAP) {
			report(yt, item, "accounts: item %zu: expected a "
			    "mapping (name: ..., host: ...), found %s", i + 1,
			    ynode_kind(item));
			continue;
		}
		account_build(yt, item, i, defs, a, &namev[cfg->naccounts]);
		if (a->name != NULL)
			byname[n++] = (struct named){ a->name, cfg->naccounts };
		cfg->naccounts++;
	}
	/* Duplicate names, sorted rather than compared in pairs: a file of
	 * 10,000 accounts stays fast. Each later one names the first. */
	qsort(byname, n, sizeof(*byname), cmp_named);
	for (size_t i = 1, first = 0; i < n; i++) {
		const struct account *a = &cfg->accounts[byname[i].i];
		const struct account *f = &cfg->accounts[byname[first].i];

		if (strcmp(f->name, a->name) != 0) {
			first = i;
			continue;
		}
		report(yt, namev[byname[i].i], "duplicate account name '%s' "
		    "(first defined on line %d)", show(a->name, b, sizeof(b)),
		    f->line);
	}
	free(byname);
	free(namev);
}

/* Order accounts by the journal they would use: the server mailbox
 * (host without case, port, user) and the store (kind, path). */
static int
cmp_pair(const void *x, const void *y)
{
	const struct account *a = *(const struct account *const *)x;
	const struct account *b = *(const struct account *const *)y;
	int c;

	if ((c = strcasecmp(a->host, b->host)) != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if ((c = strcmp(a->user, b->user)) != 0)
		return c;
	if (a->store != b->store)
		return a->store < b->store ? -1 : 1;
	if ((c = strcmp(a->store_path, b->store_path)) != 0)
		return c;
	return a < b ? -1 : a > b;   /* config order within equals */
}

/* Order by the journal older versions used: state_dir + user@host. */
static int
cmp_legacy(const void *x, const void *y)
{
	const struct account *a = *(const struct account *const *)x;
	const struct account *b = *(const struct account *const *)y;
	int c;

	if ((c = strcmp(a->state_dir, b->state_dir)) != 0)
		return c;
	if ((c = strcmp(a->user, b->user)) != 0)
		return c;
	return strcmp(a->host, b->host);
}

/*
 * Two accounts that read one server mailbox into one store would share a
 * journal: one's deletions would pass for the other's downloads. Refuse
 * them, naming both. Sorted, so a file of many accounts stays fast. Also
 * marks the accounts that shared an older per-user@host journal.
 */
static void
pairs_check(struct yamltree *yt, struct config *cfg)
{
	struct account **v = xcalloc(cfg->naccounts + 1, sizeof(*v));
	size_t n = 0;
	char b1[64], b2[64], b3[64], b4[256], b5[64];

	for (size_t i = 0; i < cfg->naccounts; i++) {
		struct account *a = &cfg->accounts[i];

		if (a->host != NULL && a->user != NULL &&
		    a->store_path != NULL && a->state_dir != NULL)
			v[n++] = a;
	}
	qsort(v, n, sizeof(*v), cmp_pair);
	for (size_t i = 1; i < n; i++) {
		const struct account *first = v[i - 1], *a = v[i];

		if (strcasecmp(first->host, a->host) != 0 ||
		    first->port != a->port || strcmp(first->user,
		    a->user) != 0 || first->store != a->store ||
		    strcmp(first->store_path, a->store_path) != 0)
			continue;
		yamltree_report_at(yt, a->line, a->column, "account '%s' "
		    "reads the same mailbox (user %s on %s port %d) into the "
		    "same %s %s as account '%s' (line %d): they would share "
		    "one journal; give each its own destination or remove "
		    "one", show(a->name ? a->name : "?", b1, sizeof(b1)),
		    show(a->user, b2, sizeof(b2)), show(a->host, b3,
		    sizeof(b3)), a->port, a->store == STORE_MAILDIR ?
		    "maildir" : a->store == STORE_MBOX ? "mbox" :
		    "deliver_command", show(a->store_path, b4, sizeof(b4)),
		    show(first->name ? first->name : "?", b5, sizeof(b5)),
		    first->line);
		v[i] = (struct account *)first;   /* report each once */
	}
	qsort(v, n, sizeof(*v), cmp_legacy);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && cmp_legacy(&v[i], &v[j]) == 0; j++)
			;
		for (size_t k = i; j - i > 1 && k < j; k++)
			v[k]->legacy_state_shared = true;
	}
	free(v);
}

static void
load_root(struct yamltree *yt, const struct ynode *root, struct config *cfg)
{
	const struct ynode *k, *v, *keys[2] = { NULL, NULL }, *vals[2];
	struct slots defs;
	struct account scratch;
	char b[64];
	size_t i;
	int t;

	if (root == NULL || ynode_is_null(root)) {
		/* A null root sits at the end of the file: say 1:1. */
		yamltree_report_at(yt, 1, 1, "the file is empty; it needs an "
		    "'accounts:' list");
		return;
	}
	if (root->kind != YN_MAP) {
		if (root->kind != YN_BAD)
			report(yt, root, "expected a mapping with 'accounts:' "
			    "at the top, found %s", ynode_kind(root));
		return;
	}
	for (i = 0; i + 1 < root->nkid; i += 2) {
		k = root->kid[i];
		if (k->kind != YN_SCALAR) {
			if (k->kind != YN_BAD)
				report(yt, k, "a key must be a plain word, not "
				    "%s", ynode_kind(k));
			continue;
		}
		for (t = 0; t < 2; t++)
			if (strcmp(k->text, top_names[t]) == 0)
				break;
		if (t == 2)
			(void)unknown_key(yt, k, top_names, 2, "top-level ");
		else if (keys[t] != NULL)
			report(yt, k, "duplicate key '%s' (first set on line "
			    "%d)", show(k->text, b, sizeof(b)), keys[t]->line);
		else {
			keys[t] = k;
			vals[t] = root->kid[i + 1];
		}
	}

	memset(&defs, 0, sizeof(defs));
	if (keys[0] != NULL && !ynode_is_null(v = vals[0]) &&
	    v->kind != YN_BAD) {
		if (v->kind != YN_MAP)
			report(yt, v, "defaults: expected a mapping of account "
			    "settings, found %s", ynode_kind(v));
		else {
			/* Checked on their own too, so their mistakes show
			 * even when no account is usable. */
			collect(yt, v, &defs, true);
			memset(&scratch, 0, sizeof(scratch));
			convert(yt, &defs, &scratch);
			account_clear(&scratch);
		}
	}

	if (keys[1] == NULL) {
		report(yt, root, "missing required key 'accounts'");
		return;
	}
	v = vals[1];
	if (v->kind == YN_BAD)
		return;
	if (ynode_is_null(v) || (v->kind == YN_SEQ && v->nkid == 0))
		report(yt, ynode_is_null(v) ? keys[1] : v, "accounts: the list "
		    "is empty; define at least one account");
	else if (v->kind != YN_SEQ)
		report(yt, v, "accounts: expected a list of accounts, found %s",
		    ynode_kind(v));
	else {
		load_accounts(yt, v, &defs, cfg);
		/* Accounts with wrong values may look alike for no reason. */
		if (yt->nprob == 0)
			pairs_check(yt, cfg);
	}
}

/* Does the mapping m have the key? */
static bool
map_has(const struct ynode *m, const char *key)
{
	if (m == NULL || m->kind != YN_MAP)
		return false;
	for (size_t i = 0; i + 1 < m->nkid; i += 2)
		if (m->kid[i]->kind == YN_SCALAR &&
		    strcmp(m->kid[i]->text, key) == 0)
			return true;
	return false;
}

/* A literal password under defaults: or in any account (valid or not). */
static bool
has_password(const struct ynode *root)
{
	const struct ynode *k, *v;

	if (root == NULL || root->kind != YN_MAP)
		return false;
	for (size_t i = 0; i + 1 < root->nkid; i += 2) {
		k = root->kid[i];
		v = root->kid[i + 1];
		if (k->kind != YN_SCALAR)
			continue;
		if (strcmp(k->text, "defaults") == 0 && map_has(v, "password"))
			return true;
		if (strcmp(k->text, "accounts") == 0 && v->kind == YN_SEQ)
			for (size_t j = 0; j < v->nkid; j++)
				if (map_has(v->kid[j], "password"))
					return true;
	}
	return false;
}

char *
config_shell_quote(const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@%+=:,-";
	size_t n = 3;
	char *out, *p;

	if (s[0] != '\0' && s[0] != '-' && s[strspn(s, safe)] == '\0')
		return xstrdup(s);
	for (const char *c = s; *c != '\0'; c++)
		n += *c == '\'' ? 4 : 1;
	p = out = xmalloc(n);
	*p++ = '\'';
	for (; *s != '\0'; s++)
		if (*s == '\'')
			p = stpcpy(p, "'\\''");
		else
			*p++ = *s;
	*p++ = '\'';
	*p = '\0';
	return out;
}

/* A parsed file or text (t) turned into cfg: config_load's contract. */
static int
load_tree(struct yamltree *t, const char *path, struct config *cfg,
    char **errors);

int
config_load(const char *path, struct config *cfg, char **errors)
{
	struct yamltree t;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if ((rc = yamltree_load(&t, path, errors)) != 0) {
		yamltree_free(&t);
		return rc;
	}
	return load_tree(&t, path, cfg, errors);
}

int
config_load_text(const char *label, const char *text, struct config *cfg,
    char **errors)
{
	struct yamltree t;

	memset(cfg, 0, sizeof(*cfg));
	yamltree_load_text(&t, label, text, strlen(text));
	return load_tree(&t, label, cfg, errors);
}

static int
load_tree(struct yamltree *tp, const char *path, struct config *cfg,
    char **errors)
{
	struct yamltree t = *tp;
	char *perm = NULL, *rest, *q;
	int rc;

	if (!t.fatal)
		load_root(&t, t.root, cfg);
	/* As ssh does for keys: a secret others can read is no secret, and
	 * saying so now is kinder than a leak found later. */
	if ((t.mode & (S_IRGRP | S_IROTH)) != 0 && has_password(t.root)) {
		q = config_shell_quote(path);
		perm = xasprintf("%s: contains a password but is readable by "
		    "others; run: chmod 600 %s", path, q);
		free(q);
	}
	*errors = yamltree_errors(&t);
	if (perm != NULL) {
		if (*errors != NULL) {
			rest = *errors;
			*errors = xasprintf("%s\n%s", perm, rest);
			free(rest);
			free(perm);
		} else
			*errors = perm;
	}
	if (*errors != NULL) {
		rc = EX_CONFIG;
		goto fail;
	}
	yamltree_free(&t);
	cfg->path = xstrdup(path);
	return 0;
fail:
	yamltree_free(&t);
	config_free(cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		account_clear(&cfg->accounts[i]);
	free(cfg->accounts);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_auth_name(enum auth_mech m)
{
	return (size_t)m < NAUTH ? auth_names[m] : "?";
}

bool
config_host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[256];
	size_t len = strlen(host);

	if (len >= sizeof(buf) || len == 0)
		return false;
	/* "[::1]" as in URLs, and "localhost." (a fully qualified name). */
	if (host[0] == '[' && host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if (host[len - 1] == '.')
		len--;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (strcasecmp(buf, "localhost") == 0 ||
	    strcasecmp(buf, "localhost.localdomain") == 0)
		return true;
	/* inet_pton takes only the dotted quad: "127.1" is not recognised,
	 * which errs on the safe side. */
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

const char *
config_proxy_parse(const char *url, char **host)
{
	static const char *const schemes[] = { "socks4", "socks4a",
	    "socks5", "socks5h", "http", "https" };
	static const char *const shape = "is not a proxy URL; expected "
	    "SCHEME://HOST or SCHEME://HOST:PORT with SCHEME one of socks4, "
	    "socks4a, socks5, socks5h, http, https";
	const char *sep = strstr(url, "://"), *h, *end, *port = NULL;
	size_t i, hlen;

	*host = NULL;
	if (sep == NULL)
		return shape;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i]) == (size_t)(sep - url) &&
		    strncasecmp(url, schemes[i], (size_t)(sep - url)) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return "has a scheme popfetch cannot use for POP3; use socks4, "
		    "socks4a, socks5, socks5h, http or https";
	h = sep + 3;
	end = h + strcspn(h, "/");
	if (end[0] == '/' && end[1] != '\0')
		return "has a path; expected SCHEME://HOST or SCHEME://HOST:PORT";
	for (const char *c = h; c < end; c++)
		if (*c == '@')
			return "holds credentials; popfetch takes no proxy "
			    "user or password";
		else if (iscntrl((unsigned char)*c) || *c == ' ' ||
		    *c == '?' || *c == '#' || *c == '%')
			return shape;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (rb == NULL || rb == h + 1)
			return shape;
		hlen = (size_t)(rb + 1 - h);
		if (rb + 1 < end && rb[1] != ':')
			return shape;
		if (rb + 1 < end)
			port = rb + 2;
	} else {
		const char *colon = memchr(h, ':', (size_t)(end - h));
		hlen = (size_t)((colon != NULL ? colon : end) - h);
		if (colon != NULL)
			port = colon + 1;
	}
	if (hlen == 0 || (h[0] != '[' && memchr(h, '[', hlen) != NULL) ||
	    memchr(h, ']', h[0] == '[' ? 0 : hlen) != NULL)
		return shape;
	if (port != NULL) {
		unsigned long n = 0;
		const char *c;

		for (c = port; c < end && isdigit((unsigned char)*c) &&
		    n <= 65535; c++)
			n = n * 10 + (unsigned long)(*c - '0');
		if (c == port || c != end || n < 1 || n > 65535)
			return "has a bad port; expected a number from 1 to "
			    "65535";
	}
	*host = xstrndup(h, hlen);
	return NULL;
}

struct account *
config_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	return NULL;
}

/* ---- printing ------------------------------------------------------- */

void
config_format_duration(long long ms, char *buf, size_t size)
{
	if (ms % 86400000 == 0)
		snprintf(buf, size, "%lldd", ms / 86400000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", ms / 1000);
	else
		snprintf(buf, size, "%lldms", ms);
}

/* A value as written, or double-quoted with escapes when it would
 * otherwise be ambiguous (list separators, edge spaces, control bytes). */
static void
print_value(FILE *out, const char *s, bool in_list)
{
	size_t len = strlen(s);
	bool quote = len == 0 || s[0] == ' ' || s[len - 1] == ' ' ||
	    strpbrk(s, in_list ? "\"\\,[]" : "\"\\") != NULL || has_ctl(s);

	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (iscntrl(c))
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void
print_kv(FILE *out, const char *key, const char *value)
{
	fprintf(out, "  %s: ", key);
	print_value(out, value, false);
	fputc('\n', out);
}

static void
print_argv(FILE *out, const char *key, char *const *argv)
{
	fprintf(out, "  %s: [", key);
	for (char *const *p = argv; *p != NULL; p++) {
		if (p != argv)
			fputs(", ", out);
		print_value(out, *p, true);
	}
	fputs("]\n", out);
}

/* One pin as it is, several as the list they were written as. */
static void
print_pins(FILE *out, const char *pins)
{
	const char *semi = strchr(pins, ';');

	if (semi == NULL) {
		fprintf(out, "  pinned_pubkey: %s\n", pins);
		return;
	}
	fputs("  pinned_pubkey: [", out);
	for (const char *p = pins;; p = semi + 1) {
		semi = strchr(p, ';');
		fwrite(p, 1, semi != NULL ? (size_t)(semi - p) : strlen(p), out);
		if (semi == NULL)
			break;
		fputs(", ", out);
	}
	fputs("]\n", out);
}

void
config_print(const struct config *cfg, FILE *out,
    const char *(*journal)(const struct account *, void *), void *arg)
{
	char t[32];

	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];

		if (i > 0)
			fputc('\n', out);
		fprintf(out, "account %s (%s:%d:%d)\n", a->name, cfg->path,
		    a->line, a->column);
		print_kv(out, "host", a->host);
		fprintf(out, "  port: %d\n", a->port);
		fprintf(out, "  tls: %s\n", tls_names[a->tls]);
		if (a->insecure_plaintext)
			fputs("  insecure_plaintext: true\n", out);
		if (a->ca_file != NULL)
			print_kv(out, "ca_file", a->ca_file);
		if (a->ca_path != NULL)
			print_kv(out, "ca_path", a->ca_path);
		if (a->pinned_pubkey != NULL)
			print_pins(out, a->pinned_pubkey);
		if (a->client_cert != NULL)
			print_kv(out, "client_cert", a->client_cert);
		if (a->client_key != NULL)
			print_kv(out, "client_key", a->client_key);
		if (a->proxy != NULL)
			print_kv(out, "proxy", a->proxy);
		fprintf(out, "  tls_min_version: 1.%d\n", a->tls_min_version % 10);
		fprintf(out, "  auth: %s\n", config_auth_name(a->auth));
		print_kv(out, "user", a->user);
		if (a->password != NULL)
			fputs("  password: ********\n", out);
		else if (a->password_command != NULL)
			print_argv(out, "password_command", a->password_command);
		else if (a->password_env != NULL)
			print_kv(out, "password_env", a->password_env);
		else if (a->password_file != NULL)
			print_kv(out, "password_file", a->password_file);
		else if (a->netrc != NULL)
			print_kv(out, "netrc", a->netrc);
		else if (a->oauth2_token_command != NULL)
			print_argv(out, "oauth2_token_command",
			    a->oauth2_token_command);
		if (a->store == STORE_COMMAND) {
			print_argv(out, "deliver_command", a->deliver_command);
			config_format_duration(a->deliver_timeout_ms, t,
			    sizeof(t));
			fprintf(out, "  deliver_timeout: %s\n", t);
		} else
			print_kv(out, a->store == STORE_MAILDIR ? "maildir" :
			    "mbox", a->store_path);
		if (a->add_headers != 0) {
			const char *sep = "";

			fputs("  add_headers: [", out);
			for (size_t j = 0; j < sizeof(add_header_words) /
			    sizeof(add_header_words[0]); j++)
				if (a->add_headers & add_header_words[j].bit) {
					fprintf(out, "%s%s", sep,
					    add_header_words[j].word);
					sep = ", ";
				}
			fputs("]\n", out);
		}
		fprintf(out, "  keep: %s\n", a->keep ? "true" : "false");
		config_format_duration(a->timeout_ms, t, sizeof(t));
		fprintf(out, "  timeout: %s\n", t);
		config_format_duration(a->lock_timeout_ms, t, sizeof(t));
		fprintf(out, "  lock_timeout: %s\n", t);
		print_kv(out, "state_dir", a->state_dir);
		config_format_duration(a->forget_after_s * 1000, t, sizeof(t));
		fprintf(out, "  forget_after: %s\n", t);
		if (a->delete_after_s > 0) {
			config_format_duration(a->delete_after_s * 1000, t,
			    sizeof(t));
			fprintf(out, "  delete_after: %s\n", t);
		}
		if (a->max_size > 0)
			fprintf(out, "  max_size: %llu\n", a->max_size);
		if (a->max_messages > 0)
			fprintf(out, "  max_messages: %lu\n", a->max_messages);
		if (a->max_bytes > 0)
			fprintf(out, "  max_bytes: %llu\n", a->max_bytes);
		if (journal != NULL)
			print_kv(out, "journal", journal(a, arg));
	}
}

