/*
 * config_check.c - --check-config's look beyond the file: do the files an
 * account names exist and can be read, is its password_env variable set,
 * can its commands be run (password, token and deliver commands), is
 * its password file or netrc readable by others.
 * config_load() checks what the file says;
 * this checks what the file points at, which only matters on the
 * machine that runs popfetch.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

struct problems {
	const struct config *cfg;
	const struct account *a;
	char *text;
	size_t len;
	int n;
};

static void problem(struct problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct problems *p, const char *fmt, ...)
{
	char line[1024];
	int k;
	va_list ap;

	k = snprintf(line, sizeof(line), "%s:%d:%d: account '%s': ",
	    p->cfg->path, p->a->line, p->a->column, p->a->name);
	if (k < 0 || (size_t)k >= sizeof(line))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
	va_end(ap);
	p->text = xrealloc(p->text, p->len + strlen(line) + 2);
	memcpy(p->text + p->len, line, strlen(line));
	p->len += strlen(line);
	p->text[p->len++] = '\n';
	p->text[p->len] = '\0';
	p->n++;
}

/* A file the account reads: it must be a readable regular file (dir:
 * a directory we can search). */
static void
check_path(struct problems *p, const char *key, const char *path, bool dir)
{
	struct stat sb;

	if (path == NULL)
		return;
	if (stat(path, &sb) != 0) {
		problem(p, "%s %s: %s", key, path, strerror(errno));
		return;
	}
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) {
		problem(p, "%s %s: not a %s", key, path, dir ? "directory" :
		    "regular file");
		return;
	}
	if (access(path, dir ? R_OK | X_OK : R_OK) != 0)
		problem(p, "%s %s: %s", key, path, strerror(errno));
	else if ((strcmp(key, "password_file") == 0 ||
	    strcmp(key, "netrc") == 0) &&
	    (sb.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		/* As the run itself would refuse it. */
		char *q = config_shell_quote(path);

		problem(p, "%s %s is readable by others; run: chmod 600 %s",
		    key, path, q);
		free(q);
	}
}

/* argv[0] of a command: a path that can be run, or a name found in
 * $PATH the way execvp finds it. */
static void
check_command(struct problems *p, const char *key, char *const *argv)
{
	const char *path, *name;
	char *dirs, *d, *save = NULL;
	bool found = false;

	if (argv == NULL || argv[0] == NULL)
		return;
	name = argv[0];
	if (strchr(name, '/') != NULL) {
		if (access(name, X_OK) != 0)
			problem(p, "%s: %s: %s", key, name, strerror(errno));
		return;
	}
	path = getenv("PATH");
	dirs = xstrdup(path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d != NULL && !found;
	    d = strtok_r(NULL, ":", &save)) {
		char *full = xasprintf("%s/%s", *d ? d : ".", name);
		struct stat sb;

		found = stat(full, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(full, X_OK) == 0;
		free(full);
	}
	free(dirs);
	if (!found)
		problem(p, "%s: %s: not found in PATH", key, name);
}

int
config_check_account(const struct config *cfg, const struct account *a,
    char **errors)
{
	struct problems p = { cfg, a, NULL, 0, 0 };

	check_path(&p, "ca_file", a->ca_file, false);
	check_path(&p, "ca_path", a->ca_path, true);
	check_path(&p, "client_cert", a->client_cert, false);
	check_path(&p, "client_key", a->client_key, false);
	check_path(&p, "password_file", a->password_file, false);
	check_path(&p, "netrc", a->netrc, false);
	if (a->password_env != NULL && a->env_captured &&
	    a->env_secret == NULL)
		problem(&p, "password_env: the variable %s is not set",
		    a->password_env);
	check_command(&p, "password_command", a->password_command);
	check_command(&p, "oauth2_token_command", a->oauth2_token_command);
	check_command(&p, "deliver_command", a->deliver_command);
	*errors = p.text;
	return p.n > 0 ? EX_CONFIG : 0;
}
