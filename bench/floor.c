/*
 * bench/floor.c - the floor of `make bench`: the least a POP3 client must
 * do to download a mailbox, so the other clients' times have a reference.
 *
 *   floor [-d] [-l] [-s SKIP] [-w WINDOW] [-o FILE] HOST PORT USER
 *
 * The password is read from $POP3_PASS (not the command line, where `ps`
 * would show it). Plain TCP only: USER/PASS, then LIST and UIDL sent
 * together, then RETR 1..N with up to WINDOW (default 100) commands in
 * flight, then with -d DELE 1..N the same way, then QUIT. -s SKIP
 * retrieves only SKIP+1..N (the new messages of a mailbox whose first
 * SKIP the caller already has: what a client with state must do).
 * Bodies are unstuffed and discarded (or, with -o, appended to FILE,
 * CRLF kept); each body's length is compared with its LIST size. With -l
 * it stops after LIST and UIDL (to have the server index a fresh mailbox
 * before a timed run).
 *
 * Prints "messages N octets B" on stdout (N: messages retrieved). Exit 0
 * when every reply was +OK and every body had its LIST size; 1 otherwise,
 * with a reason on stderr.
 *
 * Stand-alone on purpose (libc only, no project code): it must stay the
 * same whatever the engine under test becomes. Lines are parsed where
 * they lie in one receive buffer; a line longer than the buffer is
 * counted piecewise.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

enum cmd { C_GREETING, C_USER, C_PASS, C_LIST, C_UIDL, C_RETR, C_DELE, C_QUIT };

static int fd = -1;
static FILE *out;

/* receive buffer */
static char rbuf[1 << 16];
static size_t rlen;

/* commands written but not yet answered, oldest first (a ring) */
#define MAXWIN 4096
static struct pending {
	enum cmd cmd;
	long n;
} pend[MAXWIN];
static size_t phead, pcount;

/* bytes queued for sending */
static char *obuf;
static size_t olen, ocap, ooff;

/* the mailbox */
static long nmsg;
static long long *sizes;
static long scap;
static long long got_total;

/* reply state */
static int in_body;        /* inside a multi-line reply */
static int at_line_start;  /* the next byte starts a line */
static long long body_len; /* octets of the current RETR body */
static long listed;        /* LIST lines seen */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("floor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void queue(enum cmd c, long n, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int len = 0;

	if (fmt) {
		va_start(ap, fmt);
		len = vsnprintf(line, sizeof line, fmt, ap);
		va_end(ap);
	}
	if (len < 0 || (size_t)len >= sizeof line)
		die("command too long");
	if (pcount == MAXWIN)
		die("too many commands in flight");
	if (olen + (size_t)len > ocap) {
		ocap = (olen + (size_t)len) * 2 + 4096;
		obuf = realloc(obuf, ocap);
		if (!obuf)
			die("out of memory");
	}
	memcpy(obuf + olen, line, (size_t)len);
	olen += (size_t)len;
	pend[(phead + pcount) % MAXWIN] = (struct pending){ c, n };
	pcount++;
}

static int multiline(enum cmd c)
{
	return c == C_LIST || c == C_UIDL || c == C_RETR;
}

/* A complete status line (CRLF stripped) for the oldest pending command. */
static void status_line(const char *s, size_t len)
{
	struct pending *p;

	if (pcount == 0)
		die("unexpected line from the server: %.*s", (int)len, s);
	p = &pend[phead];
	if (len < 3 || memcmp(s, "+OK", 3) != 0)
		die("command %d %ld refused: %.*s", (int)p->cmd, p->n,
		    (int)(len > 200 ? 200 : len), s);
	if (multiline(p->cmd)) {
		in_body = 1;
		at_line_start = 1;
		body_len = 0;
		return;
	}
	phead = (phead + 1) % MAXWIN;
	pcount--;
}

/* The multi-line reply of the oldest command ended. */
static void body_end(void)
{
	struct pending *p = &pend[phead];

	if (p->cmd == C_RETR) {
		if (body_len != sizes[p->n - 1])
			die("message %ld: %lld octets, LIST said %lld", p->n,
			    body_len, sizes[p->n - 1]);
		got_total += body_len;
	}
	in_body = 0;
	phead = (phead + 1) % MAXWIN;
	pcount--;
}

/* Body bytes of one line (or a piece of one), already unstuffed. */
static void body_data(const char *s, size_t len)
{
	struct pending *p = &pend[phead];

	if (p->cmd == C_RETR) {
		body_len += (long long)len;
		if (out && len && fwrite(s, 1, len, out) != len)
			die("cannot write the output file");
	} else if (p->cmd == C_LIST && at_line_start) {
		char l[64];
		long n;
		long long sz;

		if (len >= sizeof l)
			die("bad LIST line: %.*s", (int)len, s);
		memcpy(l, s, len);
		l[len] = '\0';
		if (sscanf(l, "%ld %lld", &n, &sz) != 2 || n != listed + 1)
			die("bad LIST line: %s", l);
		if (n > scap) {
			long cap = scap ? scap * 2 : 1024;
			long long *ns = realloc(sizes, (size_t)cap * sizeof *sizes);

			if (!ns)
				die("out of memory");
			sizes = ns;
			scap = cap;
		}
		sizes[n - 1] = sz;
		listed = n;
	}
}

/* Parse what is in rbuf; keep an incomplete line for the next read. */
static void parse(void)
{
	size_t off = 0;

	while (off < rlen) {
		char *s = rbuf + off, *nl;
		size_t avail = rlen - off, len;

		nl = memchr(s, '\n', avail);
		if (!nl) {
			/* Only a body line may be longer than the buffer. */
			if (off > 0 || !in_body || avail < sizeof rbuf)
				break;
			if (at_line_start && s[0] == '.') {
				s++;
				avail--;
			}
			body_data(s, avail);
			at_line_start = 0;
			off = rlen;
			break;
		}
		len = (size_t)(nl - s) + 1;
		if (!in_body) {
			size_t l = len - 1;

			if (l > 0 && s[l - 1] == '\r')
				l--;
			status_line(s, l);
		} else if (at_line_start && len == 3 && s[0] == '.' && s[1] == '\r') {
			body_end();
		} else {
			if (at_line_start && s[0] == '.')
				body_data(s + 1, len - 1);
			else
				body_data(s, len);
			at_line_start = 1;
		}
		off += len;
	}
	memmove(rbuf, rbuf + off, rlen - off);
	rlen -= off;
}

/* Send and receive until no command is pending, keeping up to window
 * commands in flight: next(i) queues the i-th further command. */
static void run(long total, int window, void (*next)(long))
{
	long sent = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		while (sent < total && pcount < (size_t)window)
			next(++sent);
		if (pcount == 0 && ooff == olen)
			return;
		if (ooff < olen)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 60000) <= 0)
			die("server silent for 60 s (or poll failed)");
		if (pfd.revents & POLLOUT) {
			r = write(fd, obuf + ooff, olen - ooff);
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				die("write: %s", strerror(errno));
			if (r > 0)
				ooff += (size_t)r;
			if (ooff == olen)
				ooff = olen = 0;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
			if (r == 0)
				die("connection closed by the server");
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				die("read: %s", strerror(errno));
			if (r > 0) {
				rlen += (size_t)r;
				parse();
			}
		}
	}
}

static long skip;

static void next_retr(long i) { queue(C_RETR, i + skip, "RETR %ld\r\n", i + skip); }
static void next_dele(long i) { queue(C_DELE, i, "DELE %ld\r\n", i); }

/* The greeting: one status line, answered by no command. */
static void greeting(void)
{
	queue(C_GREETING, 0, NULL);
	run(0, 1, NULL);
}

int main(int argc, char **argv)
{
	int opt, dele = 0, list_only = 0, window = 100;
	const char *outpath = NULL, *pass = getenv("POP3_PASS");
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	long listed_n;

	while ((opt = getopt(argc, argv, "dls:w:o:")) != -1) {
		switch (opt) {
		case 'd': dele = 1; break;
		case 'l': list_only = 1; break;
		case 's': skip = atol(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'o': outpath = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 3 || skip < 0 || window < 1 || window > MAXWIN / 2 || !pass) {
usage:
		fprintf(stderr, "usage: POP3_PASS=... floor [-d] [-l] [-s SKIP] [-w WINDOW] "
		    "[-o FILE] HOST PORT USER\n");
		return 2;
	}
	if (outpath && !(out = fopen(outpath, "wb")))
		die("%s: %s", outpath, strerror(errno));
	if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0 || !ai)
		die("cannot resolve %s", argv[optind]);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect: %s", strerror(errno));
	freeaddrinfo(ai);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));

	greeting();
	queue(C_USER, 0, "USER %s\r\n", argv[optind + 2]);
	run(0, 1, NULL);
	queue(C_PASS, 0, "PASS %s\r\n", pass);
	run(0, 1, NULL);
	queue(C_LIST, 0, "LIST\r\n");
	queue(C_UIDL, 0, "UIDL\r\n");
	run(0, 1, NULL);
	listed_n = listed;
	nmsg = listed_n;
	if (skip > listed_n)
		die("-s %ld: only %ld messages", skip, listed_n);
	if (!list_only) {
		run(listed_n - skip, window, next_retr);
		if (dele)
			run(listed_n, window, next_dele);
	}
	queue(C_QUIT, 0, "QUIT\r\n");
	run(0, 1, NULL);
	close(fd);
	if (out && fclose(out) != 0)
		die("%s: write error", outpath);
	printf("messages %ld octets %lld\n", list_only ? 0 : listed_n - skip,
	    got_total);
	free(sizes);
	free(obuf);
	return 0;
}
