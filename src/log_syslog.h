/*
 * log_syslog.h - the syslog(3) end of log.c (--syslog). logsys_open once,
 * then one call per line (already formatted, already redacted), then
 * logsys_close. Lines go to facility mail, ident "popfetch", with the pid.
 */
#ifndef POPFETCH_LOG_SYSLOG_H
#define POPFETCH_LOG_SYSLOG_H

enum logsys_kind { LOGSYS_ERROR, LOGSYS_WARNING, LOGSYS_INFO };

void logsys_open(void);
void logsys_line(enum logsys_kind kind, const char *line);
void logsys_close(void);

#endif
