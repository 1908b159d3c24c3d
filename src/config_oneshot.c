/*
 * config_oneshot.c - one account from command-line options (declared in
 * config.h): popfetch --host H --user U --maildir DIR ... without a
 * configuration file.
 *
 * The options are written out as the YAML of a one-account file, one
 * key per line, and loaded by config_load_text(): the account gets the
 * same defaults, checks and journal key as one from a file, and nothing
 * is checked twice in two ways. A problem's line then says which option
 * it came from, and the message is given as "--OPTION: ...".
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define ONESHOT_LABEL	"command line"

struct text {
	char *s;
	size_t len;
	const char *opt[32];	/* the option of each line (1-based) */
	int lines;
};

static void
add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	t->s = xrealloc(t->s, t->len + n + 1);
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* s as a YAML double-quoted scalar: nothing in it is syntax. */
static void
add_quoted(struct text *t, const char *s)
{
	char b[8];

	add(t, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			snprintf(b, sizeof(b), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			snprintf(b, sizeof(b), "\\x%02x", c);
		else
			snprintf(b, sizeof(b), "%c", c);
		add(t, b);
	}
	add(t, "\"");
}

/* A relative path is taken from the working directory: on a command
 * line it is the user's choice, as in any other program. */
static char *
absolute(const char *path)
{
	char *cwd;
	char *out;

	if (path[0] == '/' || path[0] == '~' || path[0] == '\0')
		return xstrdup(path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);   /* refused as relative, below */
	out = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return out;
}

/* "    KEY: VALUE\n" for the option opt; value NULL: nothing. */
static void
line(struct text *t, const char *opt, const char *key, const char *value,
    bool path)
{
	char *v;

	if (value == NULL)
		return;
	v = path ? absolute(value) : xstrdup(value);
	add(t, "    ");
	add(t, key);
	add(t, ": ");
	add_quoted(t, v);
	add(t, "\n");
	free(v);
	t->opt[++t->lines] = opt;
}

/* A command given as one string: words apart by blanks, no shell. */
static void
line_argv(struct text *t, const char *opt, const char *key,
    const char *value)
{
	const char *p = value;
	size_t n;
	bool first = true;
	char *w;

	if (value == NULL)
		return;
	add(t, "    ");
	add(t, key);
	add(t, ": [");
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		w = xstrndup(p, n);
		if (!first)
			add(t, ", ");
		add_quoted(t, w);
		free(w);
		first = false;
		p += n;
	}
	add(t, "]\n");
	t->opt[++t->lines] = opt;
}

const char *
config_oneshot_conflict(const struct oneshot *o)
{
	int stores = (o->maildir != NULL) + (o->mbox != NULL) +
	    (o->deliver_command != NULL);
	int sources = (o->password_env != NULL) + (o->password_file != NULL) +
	    (o->password_command != NULL);

	if (o->host == NULL) {
		if (stores > 0 || sources > 0 || o->port != NULL ||
		    o->tls != NULL || o->user != NULL)
			return "--port, --tls, --user, --password-*, --maildir, "
			    "--mbox and --deliver-command are for one-shot "
			    "mode: give --host too";
		return NULL;
	}
	if (stores > 1)
		return "give one of --maildir, --mbox and --deliver-command";
	if (sources > 1)
		return "give at most one of --password-env, --password-file "
		    "and --password-command";
	if (o->user == NULL)
		return "one-shot mode (--host) needs --user";
	if (stores == 0)
		return "one-shot mode (--host) needs --maildir, --mbox or "
		    "--deliver-command";
	return NULL;
}

/* Each "command line:LINE:COL: message" as "--OPTION: message". */
static char *
rewrite_errors(const struct text *t, const char *errors)
{
	size_t plen = strlen(ONESHOT_LABEL);
	char *out = xstrdup(""), *next;
	const char *p = errors;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n'), *msg = p, *opt = NULL;
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *end;
		long ln;

		if (strncmp(p, ONESHOT_LABEL ":", plen + 1) == 0) {
			ln = strtol(p + plen + 1, &end, 10);
			if (*end == ':' && (end = strchr(end + 1, ':')) != NULL &&
			    end[1] == ' ' && end < p + n) {
				msg = end + 2;
				if (ln >= 1 && ln <= t->lines)
					opt = t->opt[ln];
			}
		}
		next = xasprintf("%s%s%s%.*s\n", out, opt != NULL ? opt : "",
		    opt != NULL ? ": " : "", (int)(n - (size_t)(msg - p)),
		    msg);
		free(out);
		out = next;
		p += n;
		if (*p == '\n')
			p++;
	}
	return out;
}

int
config_oneshot(const struct oneshot *o, struct config *cfg, char **errors)
{
	struct text t = { NULL, 0, { NULL }, 0 };
	char *name, *raw = NULL;
	bool placeholder = o->password_env == NULL &&
	    o->password_file == NULL && o->password_command == NULL;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	*errors = NULL;
	add(&t, "accounts:\n");
	t.opt[++t.lines] = NULL;
	name = xasprintf("%s@%s", o->user, o->host);
	add(&t, "  - name: ");
	add_quoted(&t, name);
	add(&t, "\n");
	t.opt[++t.lines] = "--user";
	free(name);
	line(&t, "--host", "host", o->host, false);
	line(&t, "--port", "port", o->port, false);
	line(&t, "--tls", "tls", o->tls, false);
	line(&t, "--user", "user", o->user, false);
	line(&t, "--password-env", "password_env", o->password_env, false);
	line(&t, "--password-file", "password_file", o->password_file, true);
	line_argv(&t, "--password-command", "password_command",
	    o->password_command);
	/* Stands for the password asked for later (or refused): the
	 * checks that need a password source pass, and it is taken out
	 * again below. */
	line(&t, NULL, "password", placeholder ? "-" : NULL, false);
	line(&t, "--maildir", "maildir", o->maildir, true);
	line(&t, "--mbox", "mbox", o->mbox, true);
	line_argv(&t, "--deliver-command", "deliver_command",
	    o->deliver_command);
	rc = config_load_text(ONESHOT_LABEL, t.s, cfg, &raw);
	if (rc != 0) {
		*errors = rewrite_errors(&t, raw != NULL ? raw : "");
		free(raw);
	} else if (placeholder) {
		util_free_secret(cfg->accounts[0].password);
		cfg->accounts[0].password = NULL;
	}
	free(t.s);
	return rc;
}
