/*
 * msgfilter.c - CRLF -> LF and mboxrd quoting over a stream of chunks.
 *
 * The input arrives in chunks cut anywhere, often in the middle of a line
 * or between the CR and the LF of a line end. Within a chunk the filter
 * passes bytes on as runs (pointer + length into the caller's buffer) and
 * only breaks a run where a byte must be dropped (the CR of CRLF) or one
 * must be added (the extra '>' of a quoted line). Across chunks it keeps
 * counters, not bytes:
 *
 *   - a CR ending a chunk is held until the next byte shows whether it
 *     starts a CRLF;
 *   - a line beginning ">>>Fr" at the end of a chunk is held as "3 '>' and
 *     2 bytes of From "; whether it needs the extra '>' is only known once
 *     the line either reaches "From " or leaves the pattern. The held bytes
 *     are regenerated from the counts, so a line of ten thousand '>' costs
 *     no memory.
 */
#include "autoconf.h"

#include <string.h>

#include "msgfilter.h"

static const char from_word[] = "From ";
#define FROM_LEN (sizeof(from_word) - 1)

/* Source for emitting held '>' in blocks. */
static const char gt_block[] =
    ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";

void
msgfilter_init(struct msgfilter *f, int flags, msgfilter_out_fn out,
    void *arg)
{
	memset(f, 0, sizeof(*f));
	f->flags = flags;
	f->out = out;
	f->arg = arg;
	/* The first byte of a message starts its first line. */
	f->at_line_start = (flags & MSGFILTER_MBOXRD) != 0;
}

static int
filter_emit(struct msgfilter *f, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	f->out_bytes += n;
	f->last_was_lf = p[n - 1] == '\n';
	return f->out(f->arg, p, n);
}

/* Emit the part of a ">*From " prefix that is no longer in any buffer. */
static int
filter_emit_held(struct msgfilter *f)
{
	int rc;

	while (f->held_gt > 0) {
		size_t n = f->held_gt;

		if (n > sizeof(gt_block) - 1)
			n = sizeof(gt_block) - 1;
		if ((rc = filter_emit(f, gt_block, n)) != 0)
			return rc;
		f->held_gt -= n;
	}
	rc = filter_emit(f, from_word, f->held_from);
	f->held_from = 0;
	return rc;
}

static void
filter_match_begin(struct msgfilter *f)
{
	f->matching = 1;
	f->gt = 0;
	f->from_len = 0;
	f->held_gt = 0;
	f->held_from = 0;
}

/*
 * Advance through a ">*From " prefix. Returns 1 once "From " is complete
 * (the line must be quoted), -1 at the first byte that leaves the pattern
 * (left unconsumed), 0 when the chunk ended first.
 */
static int
filter_match(struct msgfilter *f, const char **pp, const char *end)
{
	const char *p = *pp;
	int r = 0;

	while (p < end) {
		if (f->from_len == 0 && *p == '>') {
			f->gt++;
			p++;
			continue;
		}
		if (*p != from_word[f->from_len]) {
			r = -1;
			break;
		}
		p++;
		if (++f->from_len == FROM_LEN) {
			r = 1;
			break;
		}
	}
	*pp = p;
	return r;
}

int
msgfilter_write(struct msgfilter *f, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	const char *run = buf;		/* first byte not yet emitted */
	const char *mstart = buf;	/* where the current prefix began */
	int rc;

	if (len == 0)
		return 0;
	if (f->pending_cr) {
		/* CR LF split across chunks: the CR goes, the LF stays in
		 * the run. Anything else: the CR was a bare one. */
		f->pending_cr = 0;
		if (*p != '\n' && (rc = filter_emit(f, "\r", 1)) != 0)
			return rc;
	}
	if (f->at_line_start) {
		f->at_line_start = 0;
		if (*p == '>' || *p == 'F')
			filter_match_begin(f);
	}

	while (p < end) {
		const char *lim, *seg_end, *q;

		if (f->matching) {
			int r = filter_match(f, &p, end);

			if (r == 0)
				break;
			/* A prefix begun in this chunk is still in the run
			 * and needs no work unless it gets quoted; one
			 * begun earlier must be regenerated first. */
			if (r > 0 || f->held_gt > 0 || f->held_from > 0) {
				if ((rc = filter_emit(f, run,
				    (size_t)(mstart - run))) != 0)
					return rc;
				if (r > 0 && (rc = filter_emit(f, ">", 1)) != 0)
					return rc;
				if ((rc = filter_emit_held(f)) != 0)
					return rc;
				run = mstart;
			}
			f->matching = 0;
			continue;
		}

		/* Only line starts matter for quoting; without it the whole
		 * chunk is one segment and only CRs stop the scan. */
		lim = NULL;
		if (f->flags & MSGFILTER_MBOXRD)
			lim = memchr(p, '\n', (size_t)(end - p));
		seg_end = lim != NULL ? lim : end;
		while ((q = memchr(p, '\r', (size_t)(seg_end - p))) != NULL) {
			if (q + 1 == end) {
				if ((rc = filter_emit(f, run,
				    (size_t)(q - run))) != 0)
					return rc;
				f->pending_cr = 1;
				return 0;
			}
			if (q[1] == '\n') {
				if ((rc = filter_emit(f, run,
				    (size_t)(q - run))) != 0)
					return rc;
				run = q + 1;
			}
			p = q + 1;
		}
		if (lim == NULL) {
			p = end;
			break;
		}
		p = lim + 1;
		if (p == end)
			f->at_line_start = 1;
		else if (*p == '>' || *p == 'F') {
			filter_match_begin(f);
			mstart = p;
		}
	}

	if (f->matching) {
		/* The chunk ended inside a prefix: keep its bytes back,
		 * from now on as counts. */
		if ((rc = filter_emit(f, run, (size_t)(mstart - run))) != 0)
			return rc;
		f->held_gt = f->gt;
		f->held_from = f->from_len;
		return 0;
	}
	return filter_emit(f, run, (size_t)(end - run));
}

int
msgfilter_finish(struct msgfilter *f)
{
	int rc = 0;

	if (f->pending_cr) {
		f->pending_cr = 0;
		rc = filter_emit(f, "\r", 1);
	} else if (f->matching) {
		/* The input ended inside a prefix that never became
		 * "From ": it stands as it was. */
		f->matching = 0;
		rc = filter_emit_held(f);
	}
	return rc;
}

int
msgfilter_ends_with_lf(const struct msgfilter *f)
{
	return f->out_bytes == 0 || f->last_was_lf;
}
