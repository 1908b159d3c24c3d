/*
 * log_syslog.c - --syslog: popfetch's lines to syslog(3), facility mail,
 * ident "popfetch". Apart from log.c because <syslog.h> defines LOG_DEBUG
 * and friends, names log.h uses for its own levels.
 */
#include "autoconf.h"

#include <syslog.h>

#include "log_syslog.h"

void
logsys_open(void)
{
	openlog("popfetch", LOG_PID, LOG_MAIL);
}

void
logsys_line(enum logsys_kind kind, const char *line)
{
	int prio = kind == LOGSYS_ERROR ? LOG_ERR :
	    kind == LOGSYS_WARNING ? LOG_WARNING : LOG_INFO;

	syslog(prio, "%s", line);
}

void
logsys_close(void)
{
	closelog();
}
