/*
 * yamltree.h - a YAML file as a small tree of nodes that remember where
 * they were written, plus the list of problems found in it, each tied to
 * a position. The tree knows no schema: config.c gives it meaning.
 *
 * Aliases are refused where they are written (a problem, and a YN_BAD
 * node in their place); anchors and tags are ignored. The file must hold
 * at most one document.
 */
#ifndef POPFETCH_YAMLTREE_H
#define POPFETCH_YAMLTREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* YN_BAD stands for a node already reported (an alias): checks skip it. */
enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP, YN_BAD };

struct ynode {
	enum ynode_kind kind;
	int line, col;		/* 1-based */
	char *text;		/* YN_SCALAR: the value, NUL-terminated */
	size_t len;		/* its length (it may hold a NUL byte) */
	bool plain;		/* unquoted: only these can mean null */
	struct ynode **kid;	/* YN_SEQ items; YN_MAP key, value, ... */
	size_t nkid;
};

struct yamltree_problem {
	int line, col;
	size_t seq;
	char *text;		/* "PATH:LINE:COL: message" */
};

struct yamltree {
	const char *path;
	struct ynode *root;	/* NULL for a file without a document */
	bool fatal;		/* broken YAML: root is partial */
	unsigned mode;		/* the file's st_mode (fstat of the open file) */
	struct yamltree_problem *prob;
	size_t nprob, capprob;
	const char *buf;	/* the text, while parsing only */
	size_t len;
};

/*
 * Read and parse the file at path into t. Returns 0 when the file could be
 * read: then t->root is the tree, and YAML errors are problems in t (with
 * t->fatal set). Otherwise returns EX_NOINPUT (cannot open or read) or
 * EX_CONFIG (absurdly large) with *errors set to "PATH: what is wrong".
 * Either way free t with yamltree_free(). Scalars are wiped when freed:
 * the file may hold passwords. t->mode is the st_mode of the file read
 * (from fstat on the open descriptor, so it is the file parsed).
 */
int yamltree_load(struct yamltree *t, const char *path, char **errors);
void yamltree_free(struct yamltree *t);

/* The same from text in memory (the caller's; not wiped here): label
 * stands for the path in problems, and the text counts as mode 600. */
void yamltree_load_text(struct yamltree *t, const char *label,
    const char *text, size_t len);

/* Record a problem at a position, or at a node. */
void yamltree_report_at(struct yamltree *t, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void yamltree_report(struct yamltree *t, const struct ynode *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void yamltree_vreport(struct yamltree *t, int line, int col,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* All problems, one per line in file order, duplicates dropped
 * (malloc'd); NULL when there are none. */
char *yamltree_errors(struct yamltree *t);

/* An unquoted empty value, "~" or "null". */
bool ynode_is_null(const struct ynode *n);

/* "a mapping", "a list", "nothing" or "a single value", for messages. */
const char *ynode_kind(const struct ynode *n);

#endif
