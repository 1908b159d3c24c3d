/*
 * yamltree.c - libyaml's event stream turned into a tree of positioned
 * nodes, and the problem list that goes with it.
 *
 * Events rather than libyaml's document loader, because the loader
 * resolves aliases silently: here an alias is seen where it is written and
 * can be refused with its position. Problems are collected, never
 * returned one at a time, so a user sees everything wrong in one run.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"
#include "yamltree.h"

/* The largest file read. A real account with every key written takes
 * about 650 bytes, so this holds some 100,000 of them; parsed, a file
 * takes about ten times its size in memory, so the cap also bounds what
 * a mistaken path (a mailbox, a disk image) can cost before it is
 * refused. */
#define FILE_MAX	(64 * 1024 * 1024)
#define DEPTH_MAX	32		/* bounds the recursion */

/* ---- problems ------------------------------------------------------- */

void
yamltree_vreport(struct yamltree *t, int line, int col, const char *fmt,
    va_list ap)
{
	struct yamltree_problem *p;
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (t->nprob == t->capprob) {
		t->capprob = t->capprob ? 2 * t->capprob : 16;
		t->prob = xrealloc(t->prob, t->capprob * sizeof(*t->prob));
	}
	p = &t->prob[t->nprob];
	p->line = line;
	p->col = col;
	p->seq = t->nprob++;
	p->text = xasprintf("%s:%d:%d: %s", t->path, line, col, msg);
}

void
yamltree_report_at(struct yamltree *t, int line, int col, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	yamltree_vreport(t, line, col, fmt, ap);
	va_end(ap);
}

void
yamltree_report(struct yamltree *t, const struct ynode *n, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	yamltree_vreport(t, n->line, n->col, fmt, ap);
	va_end(ap);
}

static int
prob_cmp(const void *a, const void *b)
{
	const struct yamltree_problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Identical lines are one problem found twice (config.c checks a value
 * under defaults: for every account that inherits it): show it once. */
char *
yamltree_errors(struct yamltree *t)
{
	size_t i, len = 0;
	char *out, *p;

	if (t->nprob == 0)
		return NULL;
	qsort(t->prob, t->nprob, sizeof(*t->prob), prob_cmp);
	for (i = 0; i < t->nprob; i++)
		len += strlen(t->prob[i].text) + 1;
	p = out = xmalloc(len + 1);
	for (i = 0; i < t->nprob; i++) {
		if (i > 0 && strcmp(t->prob[i].text, t->prob[i - 1].text) == 0)
			continue;
		if (p != out)
			*p++ = '\n';
		p = stpcpy(p, t->prob[i].text);
	}
	*p = '\0';
	return out;
}

/* ---- nodes ---------------------------------------------------------- */

static void
node_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkid; i++)
		node_free(n->kid[i]);
	free(n->kid);
	if (n->text != NULL) {
		util_wipe(n->text, n->len);
		free(n->text);
	}
	free(n);
}

void
yamltree_free(struct yamltree *t)
{
	node_free(t->root);
	for (size_t i = 0; i < t->nprob; i++)
		free(t->prob[i].text);
	free(t->prob);
	memset(t, 0, sizeof(*t));
}

bool
ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->kind != YN_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->text, nulls[i]) == 0)
			return true;
	return false;
}

const char *
ynode_kind(const struct ynode *n)
{
	if (n->kind == YN_MAP)
		return "a mapping";
	if (n->kind == YN_SEQ)
		return "a list";
	return ynode_is_null(n) ? "nothing" : "a single value";
}

/* ---- parsing -------------------------------------------------------- */

/* Position of byte off in the text. */
static void
offset_pos(const struct yamltree *t, size_t off, int *line, int *col)
{
	*line = *col = 1;
	for (size_t i = 0; i < off && i < t->len; i++) {
		if (t->buf[i] == '\n') {
			++*line;
			*col = 1;
		} else if (((unsigned char)t->buf[i] & 0xc0) != 0x80)
			++*col;	/* count characters, not UTF-8 bytes */
	}
}

/* Does the indentation of line (1-based) contain a tab? */
static bool
indent_has_tab(const struct yamltree *t, int line)
{
	size_t i = 0;

	for (int l = 1; l < line && i < t->len; i++)
		if (t->buf[i] == '\n')
			l++;
	for (; i < t->len && (t->buf[i] == ' ' || t->buf[i] == '\t'); i++)
		if (t->buf[i] == '\t')
			return true;
	return false;
}

static void
syntax_error(struct yamltree *t, const yaml_parser_t *p)
{
	const char *what = p->problem ? p->problem : "the file is not YAML";
	const char *hint = "";
	int line, col;

	if (p->error == YAML_READER_ERROR) {
		/* Bad UTF-8 and the like: libyaml knows the byte offset. */
		offset_pos(t, p->problem_offset, &line, &col);
	} else {
		line = (int)p->problem_mark.line + 1;
		col = (int)p->problem_mark.column + 1;
	}
	/* libyaml's words for a tab are rarely about tabs. */
	if (p->error == YAML_SCANNER_ERROR && strstr(what, "tab") == NULL &&
	    indent_has_tab(t, line))
		hint = "; YAML indentation must use spaces, not tabs";
	if (p->context != NULL)
		yamltree_report_at(t, line, col, "%s (%s at line %d, column "
		    "%d)%s", what, p->context, (int)p->context_mark.line + 1,
		    (int)p->context_mark.column + 1, hint);
	else
		yamltree_report_at(t, line, col, "%s%s", what, hint);
	t->fatal = true;
}

static bool
pull(struct yamltree *t, yaml_parser_t *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(p, ev))
		return true;
	syntax_error(t, p);
	return false;
}

static void
event_free(yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT)
		util_wipe(ev->data.scalar.value, ev->data.scalar.length);
	yaml_event_delete(ev);
}

/* The event ev (consumed) and, for a collection, the events up to its
 * end, as a node. */
static struct ynode *
build(struct yamltree *t, yaml_parser_t *p, yaml_event_t *ev, int depth)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	yaml_event_type_t end;
	yaml_event_t kev;
	size_t cap = 0;

	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = YN_SCALAR;
		n->len = ev->data.scalar.length;
		n->text = xstrndup((char *)ev->data.scalar.value, n->len);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_ALIAS_EVENT:
		n->kind = YN_BAD;
		yamltree_report(t, n, "aliases ('*%s') are not supported; put "
		    "shared settings under 'defaults:'",
		    (char *)ev->data.alias.anchor);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n->kind = ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ :
		    YN_MAP;
		end = n->kind == YN_SEQ ? YAML_SEQUENCE_END_EVENT :
		    YAML_MAPPING_END_EVENT;
		if (depth >= DEPTH_MAX) {
			yamltree_report(t, n, "nested too deeply");
			t->fatal = true;
			break;
		}
		while (pull(t, p, &kev)) {
			if (kev.type == end) {
				event_free(&kev);
				break;
			}
			if (n->nkid == cap) {
				cap = cap ? 2 * cap : 8;
				n->kid = xrealloc(n->kid,
				    cap * sizeof(*n->kid));
			}
			n->kid[n->nkid++] = build(t, p, &kev, depth + 1);
			if (t->fatal)
				break;
		}
		break;
	default:
		n->kind = YN_BAD;
		break;
	}
	event_free(ev);
	return n;
}

static void
parse(struct yamltree *t)
{
	yaml_parser_t p;
	yaml_event_t ev;

	if (!yaml_parser_initialize(&p)) {
		yamltree_report_at(t, 1, 1, "cannot start the YAML parser");
		t->fatal = true;
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)t->buf,
	    t->len);
	/* Stream start, then a document start or the end of an empty
	 * stream. */
	for (int i = 0; i < 2; i++) {
		if (!pull(t, &p, &ev))
			goto done;
		if (ev.type == YAML_STREAM_END_EVENT) {
			event_free(&ev);
			goto done;
		}
		event_free(&ev);
	}
	if (!pull(t, &p, &ev))
		goto done;
	t->root = build(t, &p, &ev, 0);
	if (t->fatal || !pull(t, &p, &ev))	/* the document's end */
		goto done;
	event_free(&ev);
	if (!pull(t, &p, &ev))
		goto done;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		yamltree_report_at(t, (int)ev.start_mark.line + 1,
		    (int)ev.start_mark.column + 1, "a second YAML document "
		    "starts here; the file must hold exactly one");
	event_free(&ev);
done:
	/* The parser's buffers and unread tokens hold the raw text,
	 * passwords included. */
	if (p.raw_buffer.start != NULL)
		util_wipe(p.raw_buffer.start, (size_t)(p.raw_buffer.end -
		    p.raw_buffer.start));
	if (p.buffer.start != NULL)
		util_wipe(p.buffer.start, (size_t)(p.buffer.end -
		    p.buffer.start));
	for (yaml_token_t *tk = p.tokens.head; tk != NULL &&
	    tk != p.tokens.tail; tk++)
		if (tk->type == YAML_SCALAR_TOKEN)
			util_wipe(tk->data.scalar.value,
			    tk->data.scalar.length);
	yaml_parser_delete(&p);
}

/* Read the whole file with read(2), so no stdio buffer keeps a copy of
 * its secrets, and every copy can be wiped. */
static int
slurp(const char *path, char **out, size_t *outlen, unsigned *mode,
    char **errors)
{
	struct stat st;
	size_t len = 0, cap = 8192;
	char *buf, *nbuf;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*errors = xasprintf("%s: cannot open: %s", path,
		    strerror(errno));
		return EX_NOINPUT;
	}
	if (fstat(fd, &st) != 0) {
		*errors = xasprintf("%s: cannot read: %s", path,
		    strerror(errno));
		close(fd);
		return EX_NOINPUT;
	}
	*mode = (unsigned)st.st_mode;
	/* A regular file's size (plus one, to see its end) is the buffer
	 * it needs: no copies while reading. Anything else (a pipe) or a
	 * file that grows is read until one byte past FILE_MAX. */
	if (S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    st.st_size <= FILE_MAX)
		cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	if (S_ISREG(st.st_mode) && st.st_size > FILE_MAX)
		goto too_big;
	for (;;) {
		if (len == cap) {
			if (cap > FILE_MAX)
				goto too_big;
			cap = cap > FILE_MAX / 2 ? (size_t)FILE_MAX + 1 :
			    2 * cap;
			nbuf = xmalloc(cap);
			memcpy(nbuf, buf, len);
			util_wipe(buf, len);
			free(buf);
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*errors = xasprintf("%s: cannot read: %s", path,
			    strerror(errno));
			rc = EX_NOINPUT;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
too_big:
	*errors = xasprintf("%s: too big for a configuration file (over %d "
	    "KiB)", path, FILE_MAX / 1024);
	rc = EX_CONFIG;
fail:
	close(fd);
	util_wipe(buf, len);
	free(buf);
	return rc;
}

int
yamltree_load(struct yamltree *t, const char *path, char **errors)
{
	char *buf;
	size_t len;
	int rc;

	memset(t, 0, sizeof(*t));
	t->path = path;
	*errors = NULL;
	if ((rc = slurp(path, &buf, &len, &t->mode, errors)) != 0)
		return rc;
	t->buf = buf;
	t->len = len;
	parse(t);
	util_wipe(buf, len);
	free(buf);
	t->buf = NULL;
	t->len = 0;
	return 0;
}

void
yamltree_load_text(struct yamltree *t, const char *label, const char *text,
    size_t len)
{
	memset(t, 0, sizeof(*t));
	t->path = label;
	t->mode = 0600;
	t->buf = text;
	t->len = len;
	parse(t);
	t->buf = NULL;
	t->len = 0;
}
