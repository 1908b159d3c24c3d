/*
 * progress.c - the progress line of a fetch on a terminal. See
 * progress.h.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "progress.h"
#include "util.h"

/* n bytes as "123 B", "45.6 KB", "7.8 MB", "1.2 GB" (units of 1024). */
static void
human(unsigned long long n, char *buf, size_t size)
{
	static const char *const unit[] = { "KB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%llu B", n);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, unit[u]);
}

void
progress_format(const struct progress *p, long long now_ms, char *buf,
    size_t size)
{
	char done[32], total[32], rate[32];
	long long ms = now_ms - p->start_ms;
	int n;

	human(p->done_bytes, done, sizeof(done));
	human(p->total_bytes, total, sizeof(total));
	n = snprintf(buf, size, "%s: %lu/%lu messages, %s/%s", p->account,
	    p->done_msgs, p->total_msgs, done, total);
	if (n < 0 || (size_t)n >= size || ms < 1000 || p->done_bytes == 0)
		return;
	{
		double bps = (double)p->done_bytes * 1000.0 / (double)ms;
		unsigned long long left = p->total_bytes > p->done_bytes ?
		    p->total_bytes - p->done_bytes : 0;
		long long secs = (long long)((double)left / bps + 0.5);

		human((unsigned long long)bps, rate, sizeof(rate));
		snprintf(buf + n, size - (size_t)n, ", %s/s, %lld:%02lld left",
		    rate, secs / 60, secs % 60);
	}
}

static void
draw(struct progress *p, bool force)
{
	long long now = util_now_ms();
	char line[256];

	if (!p->on || (!force && now - p->drawn_ms < PROGRESS_MS))
		return;
	p->drawn_ms = now;
	progress_format(p, now, line, sizeof(line));
	log_progress(line);
}

void
progress_start(struct progress *p, const char *account, bool on,
    unsigned long msgs, unsigned long long bytes)
{
	memset(p, 0, sizeof(*p));
	p->on = on && msgs > 0;
	p->account = account;
	p->total_msgs = msgs;
	p->total_bytes = bytes;
	p->start_ms = util_now_ms();
	draw(p, true);
}

void
progress_bytes(struct progress *p, unsigned long long n)
{
	p->done_bytes += n;
	draw(p, false);
}

void
progress_msg(struct progress *p)
{
	p->done_msgs++;
	draw(p, false);
}

void
progress_tick(void *arg)
{
	draw(arg, true);
}

void
progress_end(struct progress *p)
{
	if (p->on)
		log_progress(NULL);
	p->on = false;
}
