/*
 * sink_maildir_recover.c - after a crash: find the messages of a Maildir batch
 * that reached new/ (or cur/, where a mail reader moved them), make them
 * durable, and remove what was left in tmp/ (see sink.h).
 */
#include "autoconf.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink.h"
#include "util.h"

/* A mail reader moves a message from new/ to cur/ and appends ":2,FLAGS".
 * Returns the path of the file found there, or NULL. */
static char *
md_in_cur(const char *path, const char *name)
{
	char *dir = xasprintf("%s/cur", path), *found = NULL;
	size_t n = strlen(name);
	struct dirent *d;
	DIR *dp;

	dp = opendir(dir);
	while (dp != NULL && found == NULL && (d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, name, n) == 0 &&
		    (d->d_name[n] == '\0' || d->d_name[n] == ':'))
			found = xasprintf("%s/%s", dir, d->d_name);
	}
	if (dp != NULL)
		closedir(dp);
	free(dir);
	return found;
}

int
sink_maildir_recover(const char *path, const char *name, unsigned *where,
    struct err *e)
{
	struct stat st;
	char *p;
	int rc = 0;

	*where = 0;
	if (name[0] == '\0' || strchr(name, '/') != NULL)
		return 0;
	/* A tmp/ file is either a copy of a message already in new/ or an
	 * unfinished one to be fetched again: never worth keeping. */
	p = xasprintf("%s/tmp/%s", path, name);
	(void)unlink(p);
	free(p);

	p = xasprintf("%s/new/%s", path, name);
	if (lstat(p, &st) == 0)
		*where = SINK_MD_NEW;
	else {
		free(p);
		if ((p = md_in_cur(path, name)) != NULL)
			*where = SINK_MD_CUR;
	}
	/* The crashed run may have been killed between its rename and the
	 * batch's sync: what is recorded as stored must be on disk. */
	if (*where != 0 && (rc = util_fsync_file(p)) != 0)
		rc = err_sys(e, EX_IOERR, rc, "cannot fsync %s", p);
	free(p);
	return rc;
}

int
sink_maildir_sync_dirs(const char *path, unsigned where, struct err *e)
{
	static const struct { unsigned bit; const char *sub; } dirs[] = {
		{ SINK_MD_NEW, "new" }, { SINK_MD_CUR, "cur" },
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && rc == 0;
	    i++) {
		char *d;

		if (!(where & dirs[i].bit))
			continue;
		d = xasprintf("%s/%s", path, dirs[i].sub);
		if ((rc = util_fsync_dir(d)) != 0)
			rc = err_sys(e, EX_IOERR, rc, "cannot fsync %s", d);
		free(d);
	}
	return rc;
}
