/*
 * config.h - the YAML configuration file turned into accounts.
 *
 * File shape:
 *
 *   defaults:            # optional; any account key, applied to every account
 *     keep: true
 *   accounts:            # required, a non-empty list
 *     - name: work       # required, unique
 *       host: pop.example.org
 *       user: me
 *       password_command: [pass, show, mail/work]
 *       maildir: ~/Mail/work
 *
 * config_load() validates everything before anything is fetched; every
 * problem is reported as "FILE:LINE:COLUMN: message".
 *
 * Rules that are easy to miss:
 * - An account's own keys override defaults key by key, except that the
 *   credential (password / password_command / password_env /
 *   password_file / oauth2_token_command) and the destination (maildir /
 *   mbox) are each replaced as a whole: an account naming any key of such
 *   a group ignores the group under defaults.
 * - Paths (ca_file, ca_path, client_cert, client_key, password_file,
 *   maildir, mbox, state_dir) must be absolute or start with "~/";
 *   relative paths are refused (cron's working directory is nobody's
 *   choice).
 * - password_command and oauth2_token_command are lists and run without
 *   a shell: no ~, $VAR or globbing in them.
 * - auth xoauth2/oauthbearer take oauth2_token_command and no password
 *   source; every other auth takes exactly one password source and no
 *   token command (auto with a token command is refused as ambiguous).
 * - tls: none to a host that is not loopback needs insecure_plaintext;
 *   so does tls: none through a proxy that is not loopback.
 * - libcurl's proxy variables (all_proxy, pop3_proxy, ...) are ignored:
 *   only the proxy key sends a connection through a proxy.
 * - A file holding a literal password that group or others can read is
 *   refused as a whole, with "chmod 600 FILE" in the message.
 * - YAML aliases and merge keys ("<<") are refused; anchors and tags are
 *   ignored.
 */
#ifndef POPFETCH_CONFIG_H
#define POPFETCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

enum tls_mode { TLS_IMPLICIT, TLS_STARTTLS, TLS_NONE };
enum store_kind { STORE_MAILDIR, STORE_MBOX, STORE_COMMAND };

/* add_headers: the header lines popfetch adds at the top of each stored
 * message (bits; 0, the default: none, the server's bytes as they are). */
#define ADD_HDR_RECEIVED     0x1u  /* Received: from the server by popfetch */
#define ADD_HDR_DELIVERED_TO 0x2u  /* Delivered-To: the account's user */
#define ADD_HDR_UIDL         0x4u  /* X-Popfetch-UIDL: the server's UIDL */
#define ADD_HDR_RETURN_PATH  0x8u  /* Return-Path: when the message has
                                      none, its envelope sender */
enum auth_mech {
	AUTH_AUTO, AUTH_USER, AUTH_APOP, AUTH_PLAIN, AUTH_LOGIN, AUTH_CRAM_MD5,
	AUTH_XOAUTH2, AUTH_OAUTHBEARER
};

struct account {
	char *name;
	char *host;
	int port;                 /* default 995 (implicit) or 110 */
	enum tls_mode tls;        /* default TLS_IMPLICIT */
	char *ca_file;            /* NULL: the system's CA store; ~ expanded */
	char *ca_path;            /* directory of CA certs (CURLOPT_CAPATH);
	                             ~ expanded; NULL when not set */
	char *pinned_pubkey;      /* "sha256//A;sha256//B" as libcurl wants it,
	                             or NULL */
	char *client_cert;        /* PEM; ~ expanded; set together with
	                             client_key (both or neither) */
	char *client_key;
	int tls_min_version;      /* 12 or 13 (default 12: TLS 1.2) */
	bool insecure_plaintext;  /* tls: none to a non-loopback host allowed */
	enum auth_mech auth;      /* default AUTH_AUTO */
	char *user;
	/* Exactly one of the four password sources is set, except with
	 * auth xoauth2/oauthbearer, where none is and oauth2_token_command
	 * is. */
	char *password;
	char **password_command;  /* NULL-terminated argv, no shell */
	char *password_env;       /* the name of an environment variable */
	char *password_file;      /* first line of the file; ~ expanded */
	char **oauth2_token_command; /* NULL-terminated argv, no shell; yields
	                                a bearer token for xoauth2/oauthbearer */
	char *env_secret;         /* private: password_env's value, captured
	                             by config_capture_env(); wiped on free */
	bool env_captured;        /* private: config_capture_env() ran */
	enum store_kind store;
	char *store_path;         /* maildir/mbox: the path, ~ expanded;
	                             deliver_command: the command as a shell
	                             would read it (for messages and the
	                             journal's key) */
	char **deliver_command;   /* STORE_COMMAND: NULL-terminated argv, no
	                             shell; NULL otherwise */
	long deliver_timeout_ms;  /* a deliver_command run is killed after
	                             this long (default 300000) */
	unsigned add_headers;     /* ADD_HDR_* bits; default 0 */
	char *netrc;              /* the netrc file the password comes from
	                             (~ expanded; "netrc: true" is ~/.netrc),
	                             or NULL */
	bool keep;                /* default true: never DELE */
	long timeout_ms;          /* default 60000 */
	long lock_timeout_ms;     /* how long to wait for the mbox locks;
	                             default 30000 */
	char *state_dir;          /* default $XDG_STATE_HOME/popfetch or
	                             ~/.local/state/popfetch; ~ expanded */
	long long forget_after_s; /* a stored message's record is kept this
	                             many seconds after the server stops
	                             listing it (default 30 days) */
	bool legacy_state_shared; /* several accounts map to the journal
	                             older versions kept per user@host in
	                             this state_dir: none may adopt it */
	char *proxy;              /* "socks5h://HOST:PORT" etc. as written, or
	                             NULL: no proxy, whatever the
	                             environment says */
	char *proxy_host;         /* the proxy's host (brackets kept for
	                             IPv6), for the plaintext rule; set
	                             with proxy */
	/* What a run fetches and deletes; 0: no limit, never. */
	unsigned long long max_size;   /* bigger messages: neither fetched
	                                  nor deleted */
	unsigned long max_messages;    /* new messages fetched per run */
	unsigned long long max_bytes;  /* bytes (LIST sizes) fetched per run */
	long long delete_after_s;      /* keep: true: delete a message stored
	                                  at least this many seconds ago */
	bool log_syslog;          /* defaults' "log: syslog": as --syslog */
	int line, column;         /* where the account's mapping starts */
};

struct config {
	char *path;
	struct account *accounts;
	size_t naccounts;
};

/*
 * Parse and validate the file at path. On success returns 0 and fills cfg.
 * On failure returns EX_CONFIG (or EX_NOINPUT when the file cannot be
 * read) and sets *errors to a malloc'd text of one or more lines, each
 * "PATH:LINE:COL: what is wrong" (the caller prints them and frees it);
 * cfg is left empty.
 */
int config_load(const char *path, struct config *cfg, char **errors);

/* config_load() on text in memory (config_oneshot's): label stands for
 * the path in every message and becomes cfg->path. */
int config_load_text(const char *label, const char *text, struct config *cfg,
    char **errors);

/* One-shot mode: one account from command-line options, no file. */
struct oneshot {
	const char *host, *port, *tls, *user;   /* --host ... as given */
	const char *password_env, *password_file;
	const char *password_command;   /* one string, words apart by blanks */
	const char *maildir, *mbox;     /* relative: from the working dir */
	const char *deliver_command;    /* one string, as password_command */
};

/* What is wrong with the combination of one-shot options o (a usage
 * error: text for "popfetch: TEXT"), or NULL. Without host nothing else
 * may be set; with it, user and exactly one store, at most one password
 * source. */
const char *config_oneshot_conflict(const struct oneshot *o);

/*
 * Build cfg's one account, named "USER@HOST", from o (which passed
 * config_oneshot_conflict) with the defaults and checks of a file
 * (config_load_text): the same journal key as a file's account with the
 * same host, port, user and store. cfg->path is "command line". On
 * failure EX_CONFIG and *errors, lines of "--OPTION: what is wrong".
 * Without a password option the account has no password source at all
 * (every password field NULL): the caller asks for one or refuses.
 */
int config_oneshot(const struct oneshot *o, struct config *cfg,
    char **errors);

/* Free everything config_load allocated (wiping literal passwords). */
void config_free(struct config *cfg);

/* Print the effective accounts (for --check-config), secrets masked:
 * a literal password prints as "********". journal (may be NULL) names
 * each account's journal file, printed as its last line. */
void config_print(const struct config *cfg, FILE *out,
    const char *(*journal)(const struct account *, void *), void *arg);

/*
 * --check-config's checks of what account a points at (config_check.c):
 * ca_file, ca_path, client_cert, client_key, password_file and netrc
 * exist and can be read (and password_file and netrc by no one else), the
 * password_env variable is set (after
 * config_capture_env), the first word of password_command,
 * oauth2_token_command and deliver_command can be run (a path, or a name
 * in $PATH). 0, or
 * EX_CONFIG with *errors a malloc'd text of lines
 * "PATH:LINE:COL: account 'NAME': what is wrong" (NULL when none).
 */
int config_check_account(const struct config *cfg, const struct account *a,
    char **errors);

/* The configuration file's spelling of a mechanism: "auto", "user",
 * "apop", "plain", "login", "cram-md5", "xoauth2", "oauthbearer". */
const char *config_auth_name(enum auth_mech m);

/* True when host is a loopback name or address: 127.0.0.0/8, ::1,
 * "localhost", "localhost.localdomain" (case-insensitive, an optional
 * trailing dot, IPv6 in brackets allowed). No DNS lookup is made. */
bool config_host_is_loopback(const char *host);

/*
 * For every account with password_env: copy the variable's value into the
 * account (wiped by config_free) and unsetenv() the variable, so that the
 * commands popfetch runs never inherit it. Call once, right after
 * config_load(). config_password() then answers from the copy.
 */
void config_capture_env(struct config *cfg);

/*
 * Run the account's oauth2_token_command the way password_command runs
 * (no shell, stdin from /dev/null, killed after the account's timeout)
 * and return the first line of its output in *out (free it with
 * util_free_secret()). Errors: EX_NOPERM when the command exits non-zero,
 * is killed or prints no token; EX_CONFIG when it cannot be run at all or
 * the account has no token command; EX_OSERR when no process could be
 * started. The message never contains the token.
 */
int config_oauth2_token(const struct account *a, char **out, struct err *e);

/* s quoted for a POSIX shell when it needs it (for commands quoted in
 * error messages, such as "chmod 600 FILE"); malloc'd. */
char *config_shell_quote(const char *s);

/*
 * Check a proxy URL: SCHEME://HOST[:PORT] with an optional final "/",
 * SCHEME (any case) one of socks4, socks4a, socks5, socks5h, http, https,
 * no user or password, PORT 1-65535. NULL when good, with *host set to a
 * malloc'd copy of HOST ("[::1]" keeps its brackets); else the text that
 * says what is wrong (static; *host NULL).
 */
const char *config_proxy_parse(const char *url, char **host);

/* Find an account by name; NULL when absent. */
struct account *config_find(const struct config *cfg, const char *name);

/*
 * Resolve the account's password: the literal, the environment variable,
 * or the first line of the command's stdout (run without a shell, stdin
 * from /dev/null, killed after the account's timeout; a non-zero exit, a
 * signal or empty output is an error). *out is malloc'd; free it with
 * util_free_secret(). Errors: EX_CONFIG (unset variable), EX_NOPERM
 * (command failed), with a message that never contains the secret.
 * (Also EX_CONFIG when the command cannot be run at all, e.g. not found,
 * and EX_OSERR when no process could be started.)
 */
int config_password(const struct account *a, char **out, struct err *e);

/*
 * Before the login of an account with netrc (libcurl reads the file and
 * sends the password; popfetch never holds it): the file must be a
 * regular file that neither group nor others can read, as password_file,
 * and hold an entry for the account's user on its host ("machine HOST
 * login USER password ..." or "default login USER password ..."), with a
 * password. 0, or EX_CONFIG with a message that quotes nothing of the
 * file.
 */
int config_netrc_check(const struct account *a, struct err *e);

/*
 * Read a file that holds a secret (password_file, netrc): it must be a
 * regular file that neither group nor others can read ("<what> <path> is
 * readable by others; run: chmod 600 <path>"). At most max + 1 bytes
 * are read (more than max: the caller says it is too long); with
 * first_line the reading stops after the first line end. *buf (to be
 * wiped with util_wipe and freed) and *len; EX_CONFIG with messages
 * naming "<what> <path>".
 */
int config_secret_file(const char *what, const char *path, size_t max,
    bool first_line, char **buf, size_t *len, struct err *e);

/*
 * Parse a duration: a whole number followed by "ms", "s", "m" or "h", or a
 * bare number of seconds ("30s", "2m", "500ms", "45"). Returns 0 and sets
 * *ms, or -1 when text is not a duration. The range is the caller's
 * business (a timeout must be more than 0 and at most 24h); numbers too
 * big come back as LLONG_MAX.
 */
int config_parse_duration(const char *text, long long *ms);

/*
 * Parse a size: a whole number of bytes, or one followed by K, M or G
 * (either case; units of 1024): "500000", "640K", "10M". Returns 0 and
 * sets *bytes (ULLONG_MAX when too big), or -1 when text is not a size.
 */
int config_parse_size(const char *text, unsigned long long *bytes);

/* Format a duration the way the file writes it: "60s", or "1500ms" when
 * not a whole number of seconds. */
void config_format_duration(long long ms, char *buf, size_t size);

#endif
