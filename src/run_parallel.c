/*
 * run_parallel.c - -j N: accounts fetched at once, one process each. See
 * run_parallel.h.
 *
 * The pipe from a child carries frames: a struct frame_hdr and len bytes,
 * each frame one write(2) of at most FRAME_MAX bytes (below PIPE_BUF, so
 * never split); the parent still reassembles them, as read(2) may return
 * any part of what is in the pipe.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "run_parallel.h"

enum frame_kind { FR_LINE_OUT = 1, FR_LINE_ERR, FR_PROGRESS, FR_RESULT };

struct frame_hdr {
	unsigned kind;             /* enum frame_kind */
	unsigned len;              /* bytes after the header */
};

#define FRAME_MAX 4096
_Static_assert(sizeof(struct frame_hdr) + LOG_LINE_MAX <= FRAME_MAX,
    "a line fits a frame");
_Static_assert(sizeof(struct frame_hdr) + sizeof(struct run_result) <=
    FRAME_MAX, "a result fits a frame");
_Static_assert(FRAME_MAX <= PIPE_BUF, "a frame is written at once");

enum job_state { JOB_OFF, JOB_WAITING, JOB_RUNNING, JOB_DONE };

struct job {
	enum job_state state;
	char *store;               /* run_store_id, NULL: none */
	pid_t pid;
	int fd;                    /* the read end of its pipe */
	bool got_result;
	char *progress;            /* its progress text, NULL: none */
	size_t have;               /* bytes in buf */
	char buf[2 * FRAME_MAX];
};

/* The signal that reached the parent (0: none), and how many times. */
static volatile sig_atomic_t got_sig, sig_count;
static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define NSTOP (sizeof(stop_sigs) / sizeof(stop_sigs[0]))

static void
on_stop_signal(int sig)
{
	got_sig = sig;
	sig_count++;
}

int
run_jobs_parse(const char *text, unsigned *jobs)
{
	char *end;
	long v, cpus;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 100000)
		return -1;
	if (v == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		v = cpus < 1 ? 1 : cpus > 100000 ? 100000 : cpus;
	}
	*jobs = (unsigned)v;
	return 0;
}

char *
run_store_id(const struct account *a)
{
	char *head, *rest = xstrdup(""), *real, *slash, *t, *id;
	size_t len;

	if (a->store == STORE_COMMAND)
		return (free(rest), NULL);
	head = xstrdup(a->store_path);
	len = strlen(head);
	while (len > 1 && head[len - 1] == '/')
		head[--len] = '\0';
	/* Up the path until a part of it exists. */
	while ((real = realpath(head[0] != '\0' ? head : ".", NULL)) == NULL) {
		if ((slash = strrchr(head, '/')) == NULL) {
			t = xasprintf("/%s%s", head, rest);
			head[0] = '\0';
		} else if (slash == head) {
			/* "/x" missing: the root exists, so only on an error
			 * other than a missing entry; the path as written. */
			t = xasprintf("%s%s", head, rest);
			free(rest);
			free(head);
			return t;
		} else {
			t = xasprintf("%s%s", slash, rest);
			*slash = '\0';
		}
		free(rest);
		rest = t;
	}
	id = xasprintf("%s%s", strcmp(real, "/") == 0 && rest[0] != '\0' ?
	    "" : real, rest);
	free(real);
	free(rest);
	free(head);
	return id;
}

/* ---- in the child ------------------------------------------------------ */

static void
frame_send(int fd, unsigned kind, const void *data, size_t len)
{
	char buf[FRAME_MAX];
	struct frame_hdr h = { kind, (unsigned)len };

	if (len > FRAME_MAX - sizeof(h))
		len = h.len = FRAME_MAX - sizeof(h);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), data, len);
	log_write_all(fd, buf, sizeof(h) + len);
}

static void
relay_line(void *arg, int fd, const char *line, size_t len)
{
	frame_send(*(int *)arg, fd == STDOUT_FILENO ? FR_LINE_OUT :
	    FR_LINE_ERR, line, len);
}

static void
relay_progress(void *arg, const char *text)
{
	frame_send(*(int *)arg, FR_PROGRESS, text != NULL ? text : "",
	    text != NULL ? strlen(text) + 1 : 0);
}

/* The account's process: as the one-process loop runs an account, then
 * the outcome to the parent. Never returns. */
static void __attribute__((noreturn))
child_run(const struct account *a, const struct fetch_opts *o, int wfd,
    const struct sigaction *old)
{
	struct log_relay relay = { relay_line, relay_progress, &wfd };
	struct run_result r;
	long long t0 = util_now_ms();
	sigset_t none;

	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_sigs[i], &old[i], NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (o->progress)
		log_set_relay(&relay);
	memset(&r, 0, sizeof(r));
	err_clear(&r.e);
	r.ran = true;
	r.rc = fetch_account(a, o, &r.stats, &r.e);
	r.seconds = (double)(util_now_ms() - t0) / 1000;
	r.finished = time(NULL);
	log_set_relay(NULL);
	fflush(NULL);
	frame_send(wfd, FR_RESULT, &r, sizeof(r));
	_exit(0);
}

/* ---- in the parent ----------------------------------------------------- */

struct sched {
	const struct config *cfg;
	const struct fetch_opts *o;
	struct job *jobs;
	struct run_result *res;
	run_done_fn *done;
	void *arg;
	struct sigaction old[NSTOP];
	unsigned running;
};

static void
draw_progress(struct sched *s)
{
	const char **lines;
	size_t n = 0;

	if (!s->o->progress)
		return;
	lines = xcalloc(s->cfg->naccounts + 1, sizeof(*lines));
	for (size_t i = 0; i < s->cfg->naccounts; i++)
		if (s->jobs[i].state == JOB_RUNNING &&
		    s->jobs[i].progress != NULL)
			lines[n++] = s->jobs[i].progress;
	log_progress_block(lines, n);
	free(lines);
}

static bool
store_busy(const struct sched *s, const char *store)
{
	if (store == NULL)
		return false;
	for (size_t i = 0; i < s->cfg->naccounts; i++)
		if (s->jobs[i].state == JOB_RUNNING &&
		    s->jobs[i].store != NULL &&
		    strcmp(s->jobs[i].store, store) == 0)
			return true;
	return false;
}

static void
job_failed(struct sched *s, size_t i, int rc, const char *what, int errnum)
{
	struct run_result *r = &s->res[i];

	s->jobs[i].state = JOB_DONE;
	memset(r, 0, sizeof(*r));
	r->ran = true;
	r->rc = err_sys(&r->e, rc, errnum, "cannot start a process for the "
	    "account: %s", what);
	r->finished = time(NULL);
	s->done(&s->cfg->accounts[i], r, s->arg);
}

static void
job_start(struct sched *s, size_t i)
{
	struct job *j = &s->jobs[i];
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		job_failed(s, i, EX_OSERR, "pipe", errno);
		return;
	}
	fflush(NULL);   /* nothing of ours written twice */
	if ((pid = fork()) < 0) {
		int saved = errno;

		close(p[0]);
		close(p[1]);
		job_failed(s, i, EX_OSERR, "fork", saved);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		for (size_t k = 0; k < s->cfg->naccounts; k++)
			if (s->jobs[k].state == JOB_RUNNING)
				close(s->jobs[k].fd);
		child_run(&s->cfg->accounts[i], s->o, p[1], s->old);
	}
	close(p[1]);
	j->state = JOB_RUNNING;
	j->pid = pid;
	j->fd = p[0];
	j->have = 0;
	j->got_result = false;
	s->running++;
}

/* Start, in configuration order, what may start. */
static void
start_more(struct sched *s, unsigned jobs)
{
	for (size_t i = 0; i < s->cfg->naccounts && s->running < jobs; i++)
		if (s->jobs[i].state == JOB_WAITING &&
		    !store_busy(s, s->jobs[i].store))
			job_start(s, i);
}

/* The frames complete in j->buf. */
static void
job_frames(struct sched *s, size_t i)
{
	struct job *j = &s->jobs[i];
	struct frame_hdr h;
	size_t off = 0;

	while (j->have - off >= sizeof(h)) {
		memcpy(&h, j->buf + off, sizeof(h));
		if (h.len > FRAME_MAX - sizeof(h)) {
			off = j->have;   /* not ours: drop it all */
			break;
		}
		if (j->have - off < sizeof(h) + h.len)
			break;
		const char *d = j->buf + off + sizeof(h);

		switch (h.kind) {
		case FR_LINE_OUT:
		case FR_LINE_ERR:
			log_relayed_line(h.kind == FR_LINE_OUT ?
			    STDOUT_FILENO : STDERR_FILENO, d, h.len);
			draw_progress(s);
			break;
		case FR_PROGRESS:
			free(j->progress);
			j->progress = h.len > 0 ? xstrndup(d, h.len) : NULL;
			draw_progress(s);
			break;
		case FR_RESULT:
			if (h.len == sizeof(struct run_result)) {
				memcpy(&s->res[i], d, h.len);
				j->got_result = true;
			}
			break;
		}
		off += sizeof(h) + h.len;
	}
	memmove(j->buf, j->buf + off, j->have - off);
	j->have -= off;
}

/* The child closed its pipe: reap it, and the account is done. */
static void
job_end(struct sched *s, size_t i)
{
	struct job *j = &s->jobs[i];
	struct run_result *r = &s->res[i];
	int status = 0;

	close(j->fd);
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->state = JOB_DONE;
	s->running--;
	free(j->progress);
	j->progress = NULL;
	if (!j->got_result) {
		memset(r, 0, sizeof(*r));
		r->ran = true;
		r->finished = time(NULL);
		if (WIFSIGNALED(status))
			r->rc = err_set(&r->e, EX_SOFTWARE, "its process was "
			    "killed by signal %d (%s) before the account was "
			    "done; what it recorded as stored stays so, the "
			    "rest comes next run", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			r->rc = err_set(&r->e, EX_SOFTWARE, "its process "
			    "exited with status %d before the account was "
			    "done", WIFEXITED(status) ? WEXITSTATUS(status) :
			    -1);
	} else if (status != 0 && r->rc == 0) {
		r->rc = err_set(&r->e, EX_SOFTWARE, "its process ended with "
		    "%s %d after the account was done",
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	}
	draw_progress(s);
	/* A signal to popfetch ended it: popfetch dies of the signal too,
	 * without a word per account. */
	if (got_sig == 0)
		s->done(&s->cfg->accounts[i], r, s->arg);
}

static void
job_read(struct sched *s, size_t i)
{
	struct job *j = &s->jobs[i];
	ssize_t n;

	n = read(j->fd, j->buf + j->have, sizeof(j->buf) - j->have);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		job_end(s, i);
		return;
	}
	j->have += (size_t)n;
	job_frames(s, i);
}

void
run_parallel(const struct config *cfg, const bool *want, unsigned jobs,
    const struct fetch_opts *o, struct run_result *res, run_done_fn *done,
    void *arg)
{
	struct sched s;
	struct pollfd *pfd = xcalloc(cfg->naccounts + 1, sizeof(*pfd));
	size_t *who = xcalloc(cfg->naccounts + 1, sizeof(*who));
	struct sigaction sa;
	sigset_t block, waitmask, saved;
	int forwarded = 0;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.o = o;
	s.res = res;
	s.done = done;
	s.arg = arg;
	s.jobs = xcalloc(cfg->naccounts + 1, sizeof(*s.jobs));
	for (size_t i = 0; i < cfg->naccounts; i++) {
		s.jobs[i].state = want[i] ? JOB_WAITING : JOB_OFF;
		s.jobs[i].store = want[i] ? run_store_id(&cfg->accounts[i]) :
		    NULL;
		s.jobs[i].fd = -1;
	}
	/* The stop signals are blocked but while waiting (ppoll), so that
	 * none is missed between a check and the wait, nor lands between a
	 * fork and the note of its child. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	got_sig = 0;
	sig_count = 0;
	for (size_t i = 0; i < NSTOP; i++) {
		sigaction(stop_sigs[i], NULL, &s.old[i]);
		if (s.old[i].sa_handler == SIG_IGN)
			continue;
		sigaction(stop_sigs[i], &sa, NULL);
		sigaddset(&block, stop_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &saved);
	waitmask = saved;
	for (size_t i = 0; i < NSTOP; i++)
		sigdelset(&waitmask, stop_sigs[i]);

	for (;;) {
		nfds_t n = 0;

		if (got_sig == 0)
			start_more(&s, jobs);
		if (s.running == 0)
			break;
		for (size_t i = 0; i < cfg->naccounts; i++) {
			if (s.jobs[i].state != JOB_RUNNING)
				continue;
			pfd[n].fd = s.jobs[i].fd;
			pfd[n].events = POLLIN;
			who[n++] = i;
		}
		if (ppoll(pfd, n, NULL, &waitmask) < 0) {
			if (errno != EINTR)
				break;   /* cannot happen with these args */
			if (sig_count != forwarded) {
				forwarded = sig_count;
				for (size_t i = 0; i < cfg->naccounts; i++)
					if (s.jobs[i].state == JOB_RUNNING)
						kill(s.jobs[i].pid, got_sig);
			}
			continue;
		}
		for (nfds_t k = 0; k < n; k++)
			if (pfd[k].revents != 0)
				job_read(&s, who[k]);
	}
	/* Only if ppoll failed: no child left behind. */
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (s.jobs[i].state == JOB_RUNNING) {
			kill(s.jobs[i].pid, SIGTERM);
			job_end(&s, i);
		}
	log_progress_block(NULL, 0);
	for (size_t i = 0; i < cfg->naccounts; i++)
		free(s.jobs[i].store);
	free(s.jobs);
	free(pfd);
	free(who);
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_sigs[i], &s.old[i], NULL);
	if (got_sig != 0) {
		/* Die of it, as a one-process run would have. */
		fflush(NULL);
		raise(got_sig);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
}
