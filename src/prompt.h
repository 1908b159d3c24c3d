/*
 * prompt.h - asking the person at the terminal for a password (one-shot
 * mode without a password option).
 */
#ifndef POPFETCH_PROMPT_H
#define POPFETCH_PROMPT_H

#include <stdbool.h>

#include "util.h"

/* True when there is someone to ask: stdin is a terminal and /dev/tty
 * can be opened. Under cron, in a pipe or with stdin from a file: false. */
bool prompt_possible(void);

/*
 * Write prompt to /dev/tty with echo off, read one line from it (up to
 * LF; a CR before it dropped), turn echo back on and end the line. The
 * terminal's settings are restored on every path, also when SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT arrives while waiting (the signal is then
 * raised again with its default action, so popfetch still dies of it).
 * *out is malloc'd: free it with util_free_secret(). Errors: EX_CONFIG
 * (nothing typed, or a NUL in the line), EX_IOERR (the terminal could
 * not be used). The message never holds what was typed.
 */
int prompt_password(const char *prompt, char **out, struct err *e);

#endif
