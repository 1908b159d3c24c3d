/*
 * fetch.c - one account, start to finish.
 *
 * The order of events is what keeps the promises (DESIGN.md):
 *   1. lock the mailbox's state; finish or undo a batch a crash left open
 *   2. open the store, resolve the password, log in
 *   3. LIST + UIDL = the inventory; plan what is new and what to delete
 *   4. per batch: journal the intent (synced) -> RETR each message into
 *      the store (with PIPELINING the RETRs went out ahead, the next
 *      batch's before this one is synced) -> sync the store -> journal
 *      "stored" + commit (synced) -> only then DELE (keep: false)
 *   5. QUIT, check its reply; compact the journal to the inventory
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "fetch_hdr.h"
#include "fetch_plan.h"
#include "headers.h"
#include "log.h"
#include "progress.h"
#include "pop3.h"
#include "sink.h"
#include "state.h"
#include "testhook.h"

#define BATCH_MSGS  64
#define BATCH_BYTES (32ULL * 1024 * 1024)

struct ctx {
	const struct account *a;
	const struct fetch_opts *o;
	struct plan_rules rules;   /* keep: the run's (rules.keep) */
	struct fetch_stats *stats;
	struct progress prog;   /* the line on a terminal */
	struct headers hdr;     /* -v: From and Subject of the message */
	struct fetch_hdr add;   /* add_headers */
	struct state *st;
	struct sink *sink;
	struct pop3 *pop;
	struct pop3_msg *msgs;
	size_t nmsgs;
	bool have_uidl;
	bool batch_open;      /* a journalled batch is not committed */
	bool journal_ok;      /* a record reached the journal this run */
	size_t ndele;         /* DELEs sent, waiting for QUIT */
	unsigned long *dele;  /* their message numbers */
	struct sink_msg cur;  /* the message being received */
	/* Messages that cannot be retrieved (a lone "." first line the
	 * server does not stuff): skipped for the rest of the run, by UIDL
	 * (or number without UIDL). */
	struct pop3_msg *broken;
	size_t nbroken;
	bool reconnect;       /* the session is out of step: start anew */
	/* Messages whose first reading said "again" (pop3_retr_info): read
	 * once the plan is done, nothing else in flight. */
	struct pop3_msg **again;
	size_t nagain, againcap;
};

static int
store_write(void *arg, const char *buf, size_t len, struct err *e)
{
	struct ctx *c = arg;

	return c->sink->ops->msg_write(c->sink, buf, len, e);
}

static int
body_write(void *arg, const char *buf, size_t len, struct err *e)
{
	struct ctx *c = arg;

	TESTHOOK("msg-chunk");
	progress_bytes(&c->prog, len);
	if (c->o->verbose)
		headers_feed(&c->hdr, buf, len);
	return fetch_hdr_write(&c->add, buf, len, store_write, c, e);
}

/* The message is read again from its start: drop what it wrote. */
static int
body_restart(void *arg, struct err *e)
{
	struct ctx *c = arg;

	c->sink->ops->msg_abort(c->sink);
	headers_init(&c->hdr);
	fetch_hdr_begin(&c->add, c->cur.uidl, c->cur.uidl_len);
	return c->sink->ops->msg_begin(c->sink, &c->cur, e);
}

static bool
is_broken(const struct ctx *c, const struct pop3_msg *m)
{
	for (size_t i = 0; i < c->nbroken; i++) {
		const struct pop3_msg *b = &c->broken[i];

		/* One set of UIDLs for every session: one reference. */
		if (c->have_uidl ? b->uidl == m->uidl : b->num == m->num)
			return true;
	}
	return false;
}

static bool
skip_broken(void *arg, const struct pop3_msg *m)
{
	return is_broken(arg, m);
}

/* Remember m as one to skip, say so, and ask for a new session. */
static void
mark_broken(struct ctx *c, const struct pop3_msg *m, const struct err *why)
{
	struct pop3_msg *b;
	char q[200];

	c->broken = xrealloc(c->broken, (c->nbroken + 1) * sizeof(*c->broken));
	b = &c->broken[c->nbroken++];
	*b = *m;
	if (m->uidl != 0) {
		size_t ul;
		const char *u = state_uidl(c->st, m->uidl, &ul);

		log_warn(c->a->name, "message %u (UIDL %s): %s", m->num,
		    pop3_quote(c->pop, q, sizeof(q), u, ul), why->msg);
	} else
		log_warn(c->a->name, "message %u: %s", m->num, why->msg);
	c->stats->broken++;
	c->reconnect = true;
}

/* Step 1: a batch left open by a crash: the store finishes or undoes it
 * (Maildir: a message whose file reached new/ or cur/ is stored, once it
 * is durable; mbox: the file is cut back to where the batch began) and
 * says which of its messages are stored; its records never committed. */
static int
recover(struct ctx *c, struct err *e)
{
	const struct state_pending *p = state_pending(c->st);
	const struct sink_ops *ops = c->sink->ops;
	size_t found = 0;
	int *got;
	struct err warn;
	int rc = 0;

	if (!p->open)
		return 0;
	/* The batch's own S records (a crash may have cut them before
	 * their C) never count: what it stored is found again below. */
	state_abandon(c->st);
	got = xcalloc(p->nintents + 1, sizeof(*got));
	err_clear(&warn);
	if (ops->recover != NULL)
		rc = ops->recover(c->sink, p->has_mark ? &p->mark : NULL,
		    p->intent_name, p->nintents, got, &warn, e);
	if (rc != 0) {
		err_prefix(e, "recovering an interrupted run");
		goto out;
	}
	if (warn.msg[0] != '\0')
		log_warn(c->a->name, "recovering an interrupted run: %s",
		    warn.msg);
	for (size_t i = 0; i < p->nintents; i++)
		if (got[i]) {
			state_recovered(c->st, p->intent_uidl[i],
			    p->intent_uidl_len[i], p->intent_hold[i]);
			found++;
		}
	if ((rc = state_sync(c->st, e)) != 0)
		goto out;
	log_info(c->a->name, "recovered an interrupted run (%zu message%s "
	    "found stored)", found, found == 1 ? "" : "s");
out:
	free(got);
	return rc;
}

/* DELE these (pipelined when the server allows); remember what was sent
 * for QUIT's confirmation. */
static int
dele_many(struct ctx *c, const unsigned long *nums, size_t n, struct err *e)
{
	int rc;

	if (n == 0)
		return 0;
	rc = pop3_dele_many(c->pop, nums, n, e);
	TESTHOOK("dele");
	/* A long run of DELEs writes nothing: keep the store's lock fresh. */
	if (c->sink->ops->idle != NULL)
		c->sink->ops->idle(c->sink);
	/* On a failure some may have been accepted: counting them all as
	 * pending only makes compaction keep their records longer. */
	if (rc == 0) {
		c->dele = xrealloc(c->dele, (c->ndele + n) * sizeof(*c->dele));
		memcpy(c->dele + c->ndele, nums, n * sizeof(*nums));
		c->ndele += n;
	}
	return rc;
}

/*
 * Step 4 for batch[0..count), whose RETRs are planned (pop3_retr_plan)
 * with the later batches': once this batch is read, the window is
 * topped up, so the server sends the next batch while this one is
 * synced. A message that needs a second reading goes to c->again. Stops
 * at the first failure; what was stored before it is still synced and
 * recorded, and nothing is deleted.
 */
static int
run_batch(struct ctx *c, struct pop3_msg **batch, size_t count,
    struct err *e)
{
	const struct sink_ops *ops = c->sink->ops;
	char **names = xcalloc(count, sizeof(char *));
	struct pop3_body body = { body_write, body_restart, c };
	struct pop3_msg **ok = xcalloc(count, sizeof(*ok));   /* stored */
	bool *held = xcalloc(count, sizeof(bool));            /* of ok[] */
	unsigned long *nums = xcalloc(count, sizeof(*nums));
	size_t nnums = 0;
	struct err e2;
	size_t done = 0;
	struct sink_mark mark;
	bool journalled;
	int rc = 0, rc2;

	err_clear(&e2);
	memset(&mark, 0, sizeof(mark));
	if ((rc = ops->batch_begin(c->sink, &mark, e)) != 0)
		goto out;
	for (size_t i = 0; i < count; i++)
		names[i] = ops->msg_name != NULL ? ops->msg_name(c->sink) :
		    NULL;
	/* The batch is journalled before anything is written when a crash
	 * would leave something to resolve: a mark to cut an mbox back to
	 * (also without UIDLs), names to look for (Maildir). A store with
	 * neither (a command) records each message once it is delivered. */
	journalled = mark.set || (c->have_uidl && ops->msg_name != NULL);
	if (journalled) {
		state_begin(c->st, &mark);
		for (size_t i = 0; i < count && c->have_uidl; i++)
			if (names[i] != NULL) {
				size_t ul;
				const char *u = state_uidl(c->st,
				    batch[i]->uidl, &ul);

				state_intent(c->st, u, ul, names[i]);
			}
		if ((rc = state_sync(c->st, e)) != 0) {
			ops->batch_abort(c->sink);
			goto out;
		}
		c->batch_open = true;
		c->journal_ok = true;
	} else if (!c->journal_ok) {
		/* A store that needs no record before it writes (a command)
		 * must not deliver when its record cannot follow: a journal
		 * that cannot be written would have every run deliver the
		 * first message again. An empty batch, synced, shows it can. */
		state_begin(c->st, &mark);
		state_abandon(c->st);
		if ((rc = state_sync(c->st, e)) != 0) {
			ops->batch_abort(c->sink);
			goto out;
		}
		c->journal_ok = true;
	}
	TESTHOOK("batch-journalled");

	for (size_t i = 0; i < count; i++) {
		struct pop3_msg *m = batch[i];
		struct pop3_retr_info info;

		c->cur.name = names[i];
		c->cur.num = m->num;
		c->cur.uidl = state_uidl(c->st, m->uidl, &c->cur.uidl_len);
		c->cur.size = m->size;
		if ((rc = ops->msg_begin(c->sink, &c->cur, e)) != 0)
			break;
		TESTHOOK("msg-begin");
		headers_init(&c->hdr);
		fetch_hdr_begin(&c->add, c->cur.uidl, c->cur.uidl_len);
		rc = pop3_retr(c->pop, m, &body, &info, e);
		if (rc != 0 && info.lone_dot) {
			/* Not stored, never deleted; the others are fetched in
			 * a new session (this one is out of step). */
			ops->msg_abort(c->sink);
			mark_broken(c, m, e);
			rc = EX_PROTOCOL;
			break;
		}
		if (rc == 0 && info.again) {
			/* Not stored in this batch: read again at the end. */
			ops->msg_abort(c->sink);
			if (c->nagain == c->againcap) {
				c->againcap = c->againcap ?
				    c->againcap * 2 : 16;
				c->again = xrealloc(c->again,
				    c->againcap * sizeof(*c->again));
			}
			c->again[c->nagain++] = m;
			continue;
		}
		if (rc == 0 && info.shorter && !c->have_uidl) {
			/* Stored, it could not be told from a new message next
			 * run (no UIDL): it would be stored again every run. */
			ops->msg_abort(c->sink);
			log_warn(c->a->name, "message %u: the server announced "
			    "%llu bytes but sent %llu, ending its reply "
			    "properly; not stored (without UIDL it could not be "
			    "told apart next run) and left on the server",
			    m->num, info.announced, info.received);
			c->stats->held++;
			progress_msg(&c->prog);
			continue;
		}
		if (rc == 0 && info.shorter && c->have_uidl &&
		    names[i] != NULL) {
			/* Once committed, a crash before the batch's records
			 * would let recovery find it, and it must come back
			 * held then too: journal that first. */
			state_hold_intent(c->st, names[i]);
			rc = state_sync(c->st, e);
		}
		if (rc == 0)
			rc = fetch_hdr_end(&c->add, store_write, c, e);
		if (rc == 0) {
			TESTHOOK("msg-received");
			rc = ops->msg_commit(c->sink, e);
			TESTHOOK("msg-committed");
			if (rc == SINK_LATER) {
				/* Declined for now: not stored, not
				 * deleted, fetched again next run. */
				log_warn(c->a->name, "message %u: %s; left on "
				    "the server for the next run", m->num,
				    e->msg);
				c->stats->later++;
				progress_msg(&c->prog);
				rc = 0;
				continue;
			}
		} else
			ops->msg_abort(c->sink);
		if (rc != 0) {
			if (!info.dele_failed)
				err_prefix(e, "message %u", m->num);
			break;
		}
		if (info.shorter) {
			/* Perhaps a server that reports the size of another
			 * form of the message, perhaps a cut we cannot see:
			 * keep what came, and the server's copy too. */
			log_warn(c->a->name, "message %u: the server announced "
			    "%llu bytes but sent %llu, ending its reply "
			    "properly; stored as sent, and left on the server "
			    "(never deleted by popfetch)", m->num,
			    info.announced, info.received);
			held[done] = true;
			c->stats->held++;
		}
		ok[done++] = m;
		progress_msg(&c->prog);
		if (c->o->verbose) {
			char f[HEADERS_MAX * 4 + 8], sj[HEADERS_MAX * 4 + 8];

			log_info(c->a->name, "stored message %u (%llu octets on "
			    "the server) from \"%s\", subject \"%s\"", m->num,
			    m->size, pop3_quote(c->pop, f, sizeof(f),
			    c->hdr.from, strlen(c->hdr.from)),
			    pop3_quote(c->pop, sj, sizeof(sj), c->hdr.subject,
			    strlen(c->hdr.subject)));
		}
	}

	/* The server sends the next batch while this one is synced. A
	 * failure here ends the run like one above. */
	if (rc == 0)
		rc = pop3_retr_ahead(c->pop, e);
	/* Make what was stored durable, even after a failure above. */
	rc2 = ops->batch_sync(c->sink, &e2);
	TESTHOOK("batch-synced");
	if (rc2 != 0) {
		ops->batch_abort(c->sink);
		if (ops->undo_final && c->batch_open) {
			/* Rolled back: close the batch so no later run cuts
			 * the mbox again after someone else appended. */
			state_abandon(c->st);
			if (state_sync(c->st, NULL) == 0)
				c->batch_open = false;
		}
		if (rc == 0) {
			rc = rc2;
			*e = e2;
		}
		goto out;
	}
	for (size_t i = 0; i < done && c->have_uidl; i++) {
		size_t ul;
		const char *u = state_uidl(c->st, ok[i]->uidl, &ul);

		state_stored(c->st, u, ul, held[i]);
	}
	if (journalled)
		state_commit(c->st);
	if ((rc2 = state_sync(c->st, &e2)) != 0) {
		if (rc == 0) {
			rc = rc2;
			*e = e2;
		}
		goto out;
	}
	c->batch_open = false;
	TESTHOOK("batch-recorded");
	if (ops->batch_done != NULL)
		ops->batch_done(c->sink);
	c->stats->stored += done;
	for (size_t i = 0; i < done; i++)
		c->stats->bytes += ok[i]->size;

	/* Promise 1: only now, with file, directory and record synced. */
	if (!c->rules.keep && c->pop != NULL && rc == 0) {
		for (size_t i = 0; i < done; i++)
			if (!held[i])
				nums[nnums++] = ok[i]->num;
		rc = dele_many(c, nums, nnums, e);
	}
out:
	/* Recorded or not, the batch is over (after a failed record the
	 * next run's recovery takes it out under the locks). */
	if (ops->batch_done != NULL)
		ops->batch_done(c->sink);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(ok);
	free(held);
	free(nums);
	return rc;
}

/* The length of the batch that starts at todo[first]: up to max
 * messages or BATCH_BYTES (the message that reaches it included). */
static size_t
batch_len(struct pop3_msg *const *todo, size_t n, size_t first, size_t max)
{
	unsigned long long bytes = 0;
	size_t i = first;

	while (i < n && i - first < max && bytes < BATCH_BYTES)
		bytes += todo[i++]->size;
	return i - first;
}

/* The same batch drawn from the inventory: the messages from
 * msgs[*next] on whose take[] is set, into batch[]; *next moves past
 * them. */
static size_t
batch_fill(struct pop3_msg *msgs, const unsigned char *take, size_t n,
    size_t *next, size_t max, struct pop3_msg **batch)
{
	unsigned long long bytes = 0;
	size_t k = 0;

	for (; *next < n && k < max && bytes < BATCH_BYTES; (*next)++)
		if (take[*next]) {
			batch[k++] = &msgs[*next];
			bytes += msgs[*next].size;
		}
	return k;
}

/* Step 3 and 4: plan and run the batches. */
static int
fetch_all(struct ctx *c, struct err *e)
{
	size_t batch_max = (size_t)TESTHOOK_BATCH(BATCH_MSGS);
	size_t store_max = c->sink->ops->batch_max;
	struct pop3_msg **batch, **redo;
	unsigned long *old;
	size_t nold = 0, ntodo, nredo, next = 0, len;
	int rc;
	/* One byte per message: its enum plan_act, then whether it is
	 * fetched. Nothing else is allocated per message: the batches are
	 * drawn from the inventory as they go, and the RETR plan is these
	 * two arrays (an incremental run of a large mailbox, or its first
	 * full fetch, adds a byte per message to the inventory). */
	unsigned char *acts = xcalloc(c->nmsgs + 1, sizeof(*acts));
	struct plan_counts pc;

	if (store_max != 0 && store_max < batch_max)
		batch_max = store_max;

	plan_inventory(&c->rules, c->st, c->msgs, c->nmsgs, skip_broken, c,
	    acts, &pc);
	ntodo = pc.n[PLAN_FETCH];
	old = xcalloc(pc.n[PLAN_DELETE] + 1, sizeof(*old));
	for (size_t i = 0; i < c->nmsgs; i++) {
		struct pop3_msg *m = &c->msgs[i];

		switch (acts[i]) {
		case PLAN_DELETE:
			/* Stored by an earlier run (that died before its
			 * QUIT, or kept it for delete_after): delete
			 * without downloading again. */
			old[nold++] = m->num;
			break;
		case PLAN_TOO_BIG:
			log_info(c->a->name, "message %u (%llu octets) is "
			    "bigger than max_size (%llu): left on the server",
			    m->num, m->size, c->rules.max_size);
			break;
		default:
			break;
		}
		acts[i] = acts[i] == PLAN_FETCH;
	}
	c->stats->too_big = pc.n[PLAN_TOO_BIG];
	c->stats->later = pc.n[PLAN_LATER];
	if (pc.n[PLAN_LATER] > 0)
		log_info(c->a->name, "%lu new message%s left for the next "
		    "run (max_messages, max_bytes)", pc.n[PLAN_LATER],
		    pc.n[PLAN_LATER] == 1 ? "" : "s");
	progress_start(&c->prog, c->a->name, c->o->progress, ntodo,
	    pc.fetch_bytes);
	if (c->prog.on)
		pop3_set_tick(c->pop, progress_tick, &c->prog);
	rc = dele_many(c, old, nold, e);
	/* Every RETR is planned: the window runs on from batch to batch,
	 * and the first batch's RETRs go out before its journal is synced. */
	if (rc == 0 && ntodo > 0) {
		pop3_retr_plan(c->pop, c->msgs, acts, c->nmsgs);
		rc = pop3_retr_ahead(c->pop, e);
	}
	batch = xcalloc(batch_max, sizeof(*batch));
	c->again = NULL;
	c->nagain = c->againcap = 0;
	while (rc == 0 && (len = batch_fill(c->msgs, acts, c->nmsgs, &next,
	    batch_max, batch)) > 0)
		rc = run_batch(c, batch, len, e);
	/* Second readings, in batches of their own: out of plan, each
	 * goes alone and is read again at once (nothing else in flight). */
	redo = c->again;
	nredo = c->nagain;
	c->again = NULL;
	c->nagain = c->againcap = 0;
	if (rc == 0 && nredo > 0) {
		for (size_t first = 0; rc == 0 && first < nredo; first += len) {
			len = batch_len(redo, nredo, first, batch_max);
			rc = run_batch(c, redo + first, len, e);
		}
		if (rc == 0 && c->nagain > 0)
			rc = err_set(e, EX_SOFTWARE, "message %u: no second "
			    "reading", c->again[0]->num);
	}
	progress_end(&c->prog);
	pop3_set_tick(c->pop, NULL, NULL);
	/* The plan is these arrays: drop it before they go. */
	pop3_retr_plan(c->pop, NULL, NULL, 0);
	free(c->again);
	c->again = NULL;
	c->nagain = c->againcap = 0;
	free(redo);
	free(batch);
	free(acts);
	free(old);
	return rc;
}

static int
ulong_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Step 5: rewrite the journal: the inventory minus what QUIT deleted is
 * present; what QUIT deleted goes; the rest ages out (forget_after). */
static void
compact(struct ctx *c, bool quit_ok)
{
	size_t d = 0;
	struct err e;

	/* The inventory is in ascending order; c->dele is made so (the
	 * DELEs of earlier runs' messages go first, a second reading
	 * comes after its batch's others). */
	if (c->ndele > 1)
		qsort(c->dele, c->ndele, sizeof(*c->dele), ulong_cmp);
	for (size_t i = 0; i < c->nmsgs; i++) {
		const struct pop3_msg *m = &c->msgs[i];

		while (d < c->ndele && c->dele[d] < m->num)
			d++;
		state_mark_ref(c->st, m->uidl, quit_ok && d < c->ndele &&
		    c->dele[d] == m->num);
	}
	if (state_compact_marked(c->st, c->a->forget_after_s, &e) != 0)
		log_warn(c->a->name, "%s (the state stays valid)", e.msg);
}

static int
session_once(struct ctx *c, struct err *e)
{
	const struct account *a = c->a;
	unsigned long long octets = 0;
	bool quit_ok = false;
	int rc;

	rc = plan_session_open(a, state_uidls(c->st), &c->pop, &c->msgs,
	    &c->nmsgs, &c->have_uidl,
	    &octets, e);
	if (rc != 0)
		return rc;   /* a later session's failure keeps what the
		                first one learned */
	c->stats->on_server = c->nmsgs;
	c->stats->server_bytes = octets;
	c->stats->inventory = true;
	plan_rules_for(a, c->o->keep, c->o->refetch, c->have_uidl, &c->rules);
	if (!c->have_uidl) {
		if (c->rules.keep)
			return err_set(e, EX_UNAVAILABLE, "the server does not "
			    "support UIDL, so popfetch cannot tell new messages "
			    "from old ones; set \"keep: false\" to fetch and "
			    "delete every message");
		log_warn(a->name, "the server does not support UIDL: "
		    "fetching by message number; if this run is interrupted "
		    "before it ends, messages may be stored twice");
	}

	rc = fetch_all(c, e);
	if (c->reconnect)
		return rc;   /* out of step: no QUIT, no compaction */
	if (rc == 0) {
		struct err qe;
		int qrc;

		TESTHOOK("quit");
		qrc = pop3_quit(c->pop, &qe);
		TESTHOOK("quit-done");
		if (qrc == 0)
			quit_ok = true;
		else if (c->ndele > 0) {
			rc = qe.code;
			*e = qe;
			err_prefix(e, "deletions not confirmed (they will be "
			    "repeated next run)");
		} else
			log_warn(a->name, "%s", qe.msg);
	}
	if (quit_ok)
		c->stats->deleted = c->ndele;
	if (c->have_uidl && !c->batch_open) {
		compact(c, quit_ok);
		TESTHOOK("compacted");
	} else if (!c->batch_open) {
		struct err ce;

		/* Without UIDLs the journal holds only batch records: drop
		 * them, or they pile up run after run. Stored UIDLs from when
		 * the server had UIDL are kept (absent) for forget_after. */
		if (state_compact(c->st, NULL, NULL, 0, NULL, NULL, 0,
		    a->forget_after_s, &ce) != 0)
			log_warn(a->name, "%s (the state stays valid)", ce.msg);
	}
	return rc;
}

/*
 * A session, and new ones while a message that cannot be retrieved puts
 * one out of step (each such message is skipped from then on; a bounded
 * number of times). DELEs of a session left that way were never
 * confirmed: the next session repeats them without downloading again.
 */
static int
session(struct ctx *c, struct err *e)
{
	unsigned long deleted = 0;
	int rc;

	for (int attempt = 0; ; attempt++) {
		c->reconnect = false;
		rc = session_once(c, e);
		deleted += c->stats->deleted;
		if (!c->reconnect || attempt == 20)
			break;
		pop3_close(c->pop);
		c->pop = NULL;
		pop3_msgs_free(c->msgs, c->nmsgs);
		c->msgs = NULL;
		c->nmsgs = 0;
		c->ndele = 0;
		c->stats->deleted = 0;
		state_claims_reset(c->st);
		log_info(c->a->name, "starting a new session");
	}
	c->stats->deleted = deleted;
	return rc;
}

/* A destination that was removed (deleted, moved away) is not a full
 * one: its journal's records are forgotten, durably, before anything is
 * stored, and the messages still on the server are fetched again as for
 * a new destination. One that is only unreachable (a disk not mounted:
 * nothing shows it was removed since the journal was last written) must
 * not be: that would store everything again once it is back; the
 * account stops, and no shadow store is made. */
static int
forget_missing(struct ctx *c, struct err *e)
{
	const struct account *a = c->a;
	const char *kind = sink_kind_label(a);
	size_t n = state_count(c->st);
	int rc;

	if (n == 0 && !state_pending(c->st)->open)
		return 0;
	switch (plan_store_state(a, state_mtime(c->st))) {
	case STORE_THERE:
		return 0;
	case STORE_UNREACHABLE:
		if (c->o->refetch)
			return 0;
		return err_set(e, EX_TEMPFAIL, "the %s %s does not exist, and "
		    "nothing shows it was removed since the last run (a disk "
		    "not mounted?); its journal holds %zu record%s, so nothing "
		    "is fetched. If it was removed on purpose, run once with "
		    "--refetch", kind, a->store_path, n, n == 1 ? "" : "s");
	case STORE_REMOVED:
		break;
	}
	if ((rc = state_forget_all(c->st, e)) != 0)
		return rc;
	log_warn(a->name, "the %s %s no longer exists: the journal's %zu "
	    "record%s of stored messages are forgotten, and the messages "
	    "still on the server will be fetched again", kind, a->store_path,
	    n, n == 1 ? "" : "s");
	return 0;
}

/* The journal of this (mailbox, store) pair; an older per-user@host
 * journal is taken over when it can only be this account's. */
static int
open_state(struct ctx *c, struct err *e)
{
	const struct account *a = c->a;
	char *key = fetch_state_key(a);
	char *legacy = state_legacy_key(a->host, a->user);
	const char *moved;
	bool adopted;
	int rc;

	rc = state_open(a->state_dir, key, legacy, !a->legacy_state_shared,
	    &c->st, &c->stats->locked, e);
	free(key);
	free(legacy);
	if (rc != 0)
		return rc;
	if ((moved = state_legacy(c->st, &adopted)) == NULL)
		;
	else if (adopted)
		log_info(a->name, "journal of an older popfetch taken over: "
		    "now %s", moved);
	else
		log_warn(a->name, "the journal an older popfetch kept for "
		    "%s@%s was shared by several accounts, so it is no one's: "
		    "set aside as %s; this account's messages on the server "
		    "will be fetched again", a->user, a->host, moved);
	return 0;
}

int
fetch_account(const struct account *a, const struct fetch_opts *o,
    struct fetch_stats *stats, struct err *e)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(stats, 0, sizeof(*stats));
	c.a = a;
	c.o = o;
	c.stats = stats;
	fetch_hdr_init(&c.add, a);

	if ((rc = open_state(&c, e)) != 0) {
		/* Another run is still at it (a long fetch overlapping the
		 * next cron tick): skipped, not failed. */
		if (stats->locked)
			rc = 0;
		goto out;
	}
	if ((rc = forget_missing(&c, e)) != 0)
		goto out;
	if ((rc = sink_open(a, &c.sink, e)) != 0)
		goto out;
	if ((rc = recover(&c, e)) != 0)
		goto out;
	TESTHOOK("recovered");
	rc = session(&c, e);
out:
	pop3_close(c.pop);
	pop3_msgs_free(c.msgs, c.nmsgs);
	if (c.sink != NULL)
		c.sink->ops->close(c.sink);
	state_close(c.st);
	fetch_hdr_free(&c.add);
	free(c.dele);
	free(c.broken);
	return rc;
}
