/*
 * report.c - the JSON summary and the Prometheus metrics of a run, and
 * the atomic replacement of a file (contract in report.h).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

/* ------------------------------------------------------------ buffers */

static void
add(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void __attribute__((format(printf, 3, 4)))
addf(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char small[256], *big;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		add(buf, len, small, (size_t)n);
		return;
	}
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	add(buf, len, big, (size_t)n);
	free(big);
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ?
		    3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		    (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void
report_json_str(char **buf, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	add(buf, len, "\"", 1);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			add(buf, len, "\\ufffd", 6);
			p++;
		} else if (*p == '"' || *p == '\\') {
			add(buf, len, "\\", 1);
			add(buf, len, (const char *)p++, 1);
		} else if (*p < 0x20 || *p == 0x7f)
			addf(buf, len, "\\u%04x", *p++);
		else {
			add(buf, len, (const char *)p, n);
			p += n;
		}
	}
	add(buf, len, "\"", 1);
}

void
report_prom_label(char **buf, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (*p == '\\')
			add(buf, len, "\\\\", 2);
		else if (*p == '"')
			add(buf, len, "\\\"", 2);
		else if (*p == '\n')
			add(buf, len, "\\n", 2);
		else if (n == 0 || *p < 0x20 || *p == 0x7f)
			add(buf, len, "\xef\xbf\xbd", 3);
		else
			add(buf, len, (const char *)p, n);
		p += n == 0 ? 1 : n;
	}
}

/* ------------------------------------------------------------- the run */

void
report_add(struct report_run *r, const char *name, int rc,
    const char *error, const struct fetch_stats *s, double seconds,
    time_t finished)
{
	struct report_account *a;

	r->accounts = xrealloc(r->accounts,
	    (r->naccounts + 1) * sizeof(*r->accounts));
	a = &r->accounts[r->naccounts++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->exit_code = rc;
	a->error = rc != 0 && error != NULL ? xstrdup(error) : NULL;
	a->known = s->inventory;
	if (a->known) {
		a->server_messages = s->on_server;
		a->server_bytes = s->server_bytes;
		a->fetched = s->stored;
		a->fetched_bytes = s->bytes;
		a->skipped = s->too_big + s->later + s->broken;
		a->deleted = s->deleted;
	}
	a->seconds = seconds;
	a->finished = finished;
}

void
report_free(struct report_run *r)
{
	for (size_t i = 0; i < r->naccounts; i++) {
		free(r->accounts[i].name);
		free(r->accounts[i].error);
	}
	free(r->accounts);
	r->accounts = NULL;
	r->naccounts = 0;
}

static void
json_count(char **buf, size_t *len, const char *key, bool known,
    unsigned long long v)
{
	if (known)
		addf(buf, len, ", \"%s\": %llu", key, v);
	else
		addf(buf, len, ", \"%s\": null", key);
}

char *
report_json(const struct report_run *r)
{
	char *buf = NULL, when[32];
	size_t len = 0;
	struct tm tm;

	if (gmtime_r(&r->started, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(when, "1970-01-01T00:00:00Z");
	addf(&buf, &len, "{\"version\": 1, \"started\": \"%s\", "
	    "\"seconds\": %.3f, \"exit_code\": %d, \"accounts\": [", when,
	    r->seconds, r->exit_code);
	for (size_t i = 0; i < r->naccounts; i++) {
		const struct report_account *a = &r->accounts[i];

		add(&buf, &len, i > 0 ? ", {\"name\": " : "{\"name\": ",
		    i > 0 ? 11 : 9);
		report_json_str(&buf, &len, a->name);
		addf(&buf, &len, ", \"exit_code\": %d, \"error\": ",
		    a->exit_code);
		if (a->error != NULL)
			report_json_str(&buf, &len, a->error);
		else
			add(&buf, &len, "null", 4);
		json_count(&buf, &len, "server_messages", a->known,
		    a->server_messages);
		json_count(&buf, &len, "server_bytes", a->known,
		    a->server_bytes);
		json_count(&buf, &len, "fetched", a->known, a->fetched);
		json_count(&buf, &len, "fetched_bytes", a->known,
		    a->fetched_bytes);
		json_count(&buf, &len, "skipped", a->known, a->skipped);
		json_count(&buf, &len, "deleted", a->known, a->deleted);
		addf(&buf, &len, ", \"seconds\": %.3f}", a->seconds);
	}
	add(&buf, &len, "]}\n", 3);
	return buf;
}

/* ------------------------------------------------------------- metrics */

enum {
	M_LAST_RUN, M_LAST_SUCCESS, M_DURATION, M_FETCHED, M_FETCHED_BYTES,
	M_SERVER_MESSAGES, M_EXIT_CODE, M_COUNT
};

static const struct {
	const char *name, *help;
} metrics[M_COUNT] = {
	{ "popfetch_last_run_timestamp_seconds",
	  "When popfetch last ran the account (Unix time)." },
	{ "popfetch_last_success_timestamp_seconds",
	  "When a run of the account last succeeded (Unix time)." },
	{ "popfetch_run_duration_seconds",
	  "Wall time of the account's last run." },
	{ "popfetch_fetched_messages",
	  "Messages stored by the account's last run." },
	{ "popfetch_fetched_bytes",
	  "Octets (server sizes) of the messages stored by the last run." },
	{ "popfetch_server_messages",
	  "Messages on the server at the last run that read the list." },
	{ "popfetch_exit_code",
	  "Exit code of the account's last run (0: success)." },
};

/* One account's samples; a NULL value is absent. */
struct mrow {
	char *name;                /* as written in the label, unescaped */
	char *val[M_COUNT];
};

/* The label value's unescaped text at *pp (just past the opening
 * quote), up to the closing quote; NULL when malformed. */
static char *
prom_unquote(const char **pp)
{
	const char *p = *pp;
	char *out = xmalloc(strlen(p) + 1);
	size_t n = 0;

	for (; *p != '"'; p++) {
		if (*p == '\0' || *p == '\n')
			goto bad;
		if (*p == '\\') {
			p++;
			if (*p == 'n')
				out[n++] = '\n';
			else if (*p == '\\' || *p == '"')
				out[n++] = *p;
			else
				goto bad;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	*pp = p + 1;
	return out;
bad:
	free(out);
	return NULL;
}

/* A sample value we write back: a finite number in C syntax. */
static bool
value_ok(const char *v, size_t n)
{
	char tmp[64], *end;
	double d;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789+-.eE", tmp[i]) == NULL)
			return false;
	errno = 0;
	d = strtod(tmp, &end);
	return *end == '\0' && errno == 0 && isfinite(d);
}

/* Parse one line of a previous file: metric index, account, value;
 * false for comments, other metrics, other labels, anything malformed. */
static bool
parse_sample(const char *line, int *metric, char **account, char **value)
{
	const char *p = line, *v;
	char *acct = NULL;
	size_t n;
	int m;

	for (m = 0; m < M_COUNT; m++) {
		n = strlen(metrics[m].name);
		if (strncmp(p, metrics[m].name, n) == 0 && p[n] == '{')
			break;
	}
	if (m == M_COUNT)
		return false;
	p += n + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "account=\"", 9) != 0)
		return false;
	p += 9;
	if ((acct = prom_unquote(&p)) == NULL)
		return false;
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (*p != '}')
		goto bad;   /* a label of someone else's */
	p++;
	if (*p != ' ' && *p != '\t')
		goto bad;
	while (*p == ' ' || *p == '\t')
		p++;
	v = p;
	n = strcspn(v, " \t\r");
	p = v + n;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	/* A timestamp after the value is dropped: ours carry none. */
	if (*p != '\0' && strspn(p, "0123456789-") == 0)
		goto bad;
	if (!value_ok(v, n))
		goto bad;
	*metric = m;
	*account = acct;
	*value = xstrndup(v, n);
	return true;
bad:
	free(acct);
	return false;
}

static struct mrow *
row_find(struct mrow *rows, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/* The name as it appears once written and read back. */
static char *
label_form(const char *name)
{
	char *esc = NULL, *out;
	size_t len = 0;
	const char *p;

	report_prom_label(&esc, &len, name);
	if (esc == NULL)
		return xstrdup("");
	p = esc;
	/* Undo the three escapes: what is left is the sanitized name. */
	out = xmalloc(len + 1);
	len = 0;
	for (; *p != '\0'; p++) {
		if (*p == '\\') {
			p++;
			out[len++] = *p == 'n' ? '\n' : *p;
		} else
			out[len++] = *p;
	}
	out[len] = '\0';
	free(esc);
	return out;
}

static void
prev_parse(const char *prev, struct mrow *rows, size_t nrows)
{
	const char *p = prev;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n), *acct, *val;
		struct mrow *row;
		int m;

		p = nl != NULL ? nl + 1 : NULL;
		if (!parse_sample(line, &m, &acct, &val)) {
			free(line);
			continue;
		}
		row = row_find(rows, nrows, acct);
		if (row != NULL && row->val[m] == NULL)
			row->val[m] = val;   /* the first sample counts */
		else
			free(val);
		free(acct);
		free(line);
	}
}

char *
report_metrics(const struct report_run *r, const char *prev,
    char *const *names, size_t nnames)
{
	struct mrow *rows = xcalloc(nnames + 1, sizeof(*rows));
	struct mrow *cur = xcalloc(nnames + 1, sizeof(*cur));
	char *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < nnames; i++) {
		rows[i].name = label_form(names[i]);
		cur[i].name = rows[i].name;
	}
	prev_parse(prev, rows, nnames);
	for (size_t i = 0; i < r->naccounts; i++) {
		const struct report_account *a = &r->accounts[i];
		char *lf = label_form(a->name);
		struct mrow *row = row_find(rows, nnames, lf);

		free(lf);
		if (row == NULL)
			continue;   /* not configured: not a caller's case */
		struct mrow *c = &cur[row - rows];

		c->val[M_LAST_RUN] = xasprintf("%lld", (long long)a->finished);
		if (a->exit_code == 0)
			c->val[M_LAST_SUCCESS] = xasprintf("%lld",
			    (long long)a->finished);
		else if (row->val[M_LAST_SUCCESS] != NULL)
			c->val[M_LAST_SUCCESS] =
			    xstrdup(row->val[M_LAST_SUCCESS]);
		c->val[M_DURATION] = xasprintf("%.3f", a->seconds);
		if (a->known) {
			c->val[M_FETCHED] = xasprintf("%lu", a->fetched);
			c->val[M_FETCHED_BYTES] = xasprintf("%llu",
			    a->fetched_bytes);
			c->val[M_SERVER_MESSAGES] = xasprintf("%lu",
			    a->server_messages);
		}
		c->val[M_EXIT_CODE] = xasprintf("%d", a->exit_code);
		/* Run now: its row replaces the previous one entirely. */
		for (int m = 0; m < M_COUNT; m++) {
			free(row->val[m]);
			row->val[m] = c->val[m];
			c->val[m] = NULL;
		}
	}
	for (int m = 0; m < M_COUNT; m++) {
		addf(&buf, &len, "# HELP %s %s\n# TYPE %s gauge\n",
		    metrics[m].name, metrics[m].help, metrics[m].name);
		for (size_t i = 0; i < nnames; i++) {
			if (rows[i].val[m] == NULL)
				continue;
			addf(&buf, &len, "%s{account=\"", metrics[m].name);
			report_prom_label(&buf, &len, rows[i].name);
			addf(&buf, &len, "\"} %s\n", rows[i].val[m]);
		}
	}
	for (size_t i = 0; i < nnames; i++) {
		free(rows[i].name);
		for (int m = 0; m < M_COUNT; m++)
			free(rows[i].val[m]);
	}
	free(rows);
	free(cur);
	return buf;
}

/* -------------------------------------------------------------- files */

int
report_write_atomic(const char *path, const char *data, size_t len,
    struct err *e)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	mode_t mode = 0644;
	struct stat st;
	int fd, rc = 0, saved;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	if ((fd = mkstemp(tmp)) < 0) {
		rc = err_sys(e, EX_CANTCREAT, errno, "cannot create a "
		    "temporary file beside %s", path);
		free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "%s: chmod", tmp);
		goto fail;
	}
	if ((saved = util_write_all(fd, data, len)) != 0) {
		rc = err_sys(e, EX_IOERR, saved, "%s: write", tmp);
		goto fail;
	}
	if (fsync(fd) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "%s: fsync", tmp);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = err_sys(e, EX_IOERR, errno, "%s: close", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "cannot replace %s", path);
		goto fail;
	}
	if ((saved = util_fsync_parent(path)) != 0) {
		/* Renamed: the new content is there, perhaps not durably. */
		rc = err_sys(e, EX_IOERR, saved, "%s: fsync of its directory",
		    path);
	}
	free(tmp);
	return rc;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

int
report_summary_file(const struct report_run *r, const char *path,
    struct err *e)
{
	char *json = report_json(r);
	int rc = report_write_atomic(path, json, strlen(json), e);

	free(json);
	return rc;
}

int
report_metrics_file(const struct report_run *r, const char *path,
    const struct config *cfg, struct err *e)
{
	char **names = xcalloc(cfg->naccounts + 1, sizeof(*names));
	char *prev = report_read_file(path), *text;
	int rc;

	for (size_t i = 0; i < cfg->naccounts; i++)
		names[i] = cfg->accounts[i].name;
	text = report_metrics(r, prev, names, cfg->naccounts);
	rc = report_write_atomic(path, text, strlen(text), e);
	free(text);
	free(prev);
	free(names);
	return rc;
}

char *
report_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = xstrdup("");
	size_t len = 0, n;
	char chunk[8192];

	if (f == NULL) {
		free(buf);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > 16u << 20) {
			free(buf);
			fclose(f);
			return NULL;
		}
		add(&buf, &len, chunk, n);
	}
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}
