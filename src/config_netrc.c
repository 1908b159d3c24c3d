/*
 * config_netrc.c - the netrc file an account takes its password from
 * (declared in config.h). libcurl reads the file at the login and sends
 * what it finds; popfetch only looks first: a file others can read is
 * refused as password_file is, and a file without an entry for the
 * account's user on its host is said to be so before libcurl would log
 * in with no password at all (it only notes "Couldn't find host" in its
 * verbose text and goes on).
 *
 * The file is read as libcurl 7.88 reads it: tokens apart by blanks and
 * line ends, a token in double quotes may hold blanks and \-escapes,
 * "machine NAME" (host name compared without case) or "default" starts an
 * entry, "login" and "password" take the next token, "macdef" skips to
 * the next empty line, a line starting with '#' is a comment. An entry matches when its host is the account's
 * and its login is the account's user, exactly. Nothing of the file is
 * quoted in messages, and the buffer is wiped.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define NETRC_MAX	(1024 * 1024)

/* Is buf[i] the first non-blank byte of its line? */
static bool
line_start(const char *buf, size_t i)
{
	while (i > 0 && (buf[i - 1] == ' ' || buf[i - 1] == '\t'))
		i--;
	return i == 0 || buf[i - 1] == '\n';
}

/* The next token of buf[*pos..len) into tok (NUL-terminated, at most
 * size - 1 bytes kept); false at the end. *blank_line is set when a blank
 * line was passed on the way (for macdef). */
static bool
next_token(const char *buf, size_t len, size_t *pos, char *tok, size_t size,
    bool *blank_line)
{
	size_t i = *pos, n = 0;
	int nl = 0;

	*blank_line = false;
	for (;;) {
		for (; i < len && strchr(" \t\r\n", buf[i]) != NULL; i++)
			if (buf[i] == '\n' && ++nl >= 2)
				*blank_line = true;
		/* A line whose first token starts with '#' is a comment. */
		if (i >= len || buf[i] != '#' || !line_start(buf, i))
			break;
		while (i < len && buf[i] != '\n')
			i++;
	}
	if (i >= len) {
		*pos = i;
		return false;
	}
	if (buf[i] == '"') {
		for (i++; i < len && buf[i] != '"' && buf[i] != '\n'; i++) {
			char c = buf[i];

			if (c == '\\' && i + 1 < len) {
				c = buf[++i];
				c = c == 'n' ? '\n' : c == 'r' ? '\r' :
				    c == 't' ? '\t' : c;
			}
			if (n + 1 < size)
				tok[n++] = c;
		}
		if (i < len && buf[i] == '"')
			i++;
	} else
		for (; i < len && strchr(" \t\r\n", buf[i]) == NULL; i++)
			if (n + 1 < size)
				tok[n++] = buf[i];
	tok[n] = '\0';
	*pos = i;
	return true;
}

/* 1: an entry for user on host with a password; 0: with none; -1: no
 * entry at all. */
static int
netrc_find(const char *buf, size_t len, const char *host, const char *user)
{
	char tok[1024];
	size_t pos = 0;
	bool blank, in_entry = false, host_ok = false, login_ok = false;
	bool has_pw = false, macdef = false;
	int found = -1;

	for (;;) {
		bool more = next_token(buf, len, &pos, tok, sizeof(tok), &blank);

		if (macdef && !blank && more)
			continue;
		macdef = false;
		if (!more || strcmp(tok, "machine") == 0 ||
		    strcmp(tok, "default") == 0) {
			if (in_entry && host_ok && login_ok) {
				if (has_pw)
					return 1;
				found = 0;
			}
			if (!more)
				return found;
			in_entry = true;
			login_ok = has_pw = false;
			if (strcmp(tok, "default") == 0)
				host_ok = true;
			else
				host_ok = next_token(buf, len, &pos, tok,
				    sizeof(tok), &blank) &&
				    strcasecmp(tok, host) == 0;
		} else if (strcmp(tok, "login") == 0)
			login_ok = next_token(buf, len, &pos, tok, sizeof(tok),
			    &blank) && strcmp(tok, user) == 0;
		else if (strcmp(tok, "password") == 0)
			has_pw = next_token(buf, len, &pos, tok, sizeof(tok),
			    &blank) && tok[0] != '\0';
		else if (strcmp(tok, "macdef") == 0)
			macdef = true;
	}
}

int
config_netrc_check(const struct account *a, struct err *e)
{
	const char *path = a->netrc;
	char *buf;
	size_t len;
	int rc, found;

	if (path == NULL)
		return err_set(e, EX_CONFIG, "no netrc");
	if ((rc = config_secret_file("netrc", path, NETRC_MAX, false, &buf,
	    &len, e)) != 0)
		return rc;
	found = len > NETRC_MAX ? -2 : netrc_find(buf, len, a->host, a->user);
	if (found == -2)
		rc = err_set(e, EX_CONFIG, "netrc %s: larger than %d KiB",
		    path, NETRC_MAX / 1024);
	else if (found == 1)
		rc = 0;
	else if (found == 0)
		rc = err_set(e, EX_CONFIG, "netrc %s: the entry for user %s on "
		    "host %s has no password", path, a->user, a->host);
	else
		rc = err_set(e, EX_CONFIG, "netrc %s has no entry for user %s "
		    "on host %s (a line 'machine %s login %s password ...')",
		    path, a->user, a->host, a->host, a->user);
	util_wipe(buf, len);
	free(buf);
	return rc;
}
