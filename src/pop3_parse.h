/*
 * pop3_parse.h - the pure parsers of POP3 reply lines, separate from the
 * session code so they can be unit-tested and fuzzed. Every function takes
 * a line without its CRLF as (pointer, length); bytes are arbitrary (a
 * NUL inside a line is just a byte that makes it malformed where numbers
 * are expected).
 */
#ifndef POPFETCH_POP3_PARSE_H
#define POPFETCH_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* "N SIZE" (LIST): 0, or -1 when malformed. N must be > 0. */
int pop3_parse_list(const char *line, size_t len, unsigned long *num,
    unsigned long long *size);

/* "N UIDL" (UIDL): 0, or -1. *uidl points into line: the rest of the line
 * after the single space, byte for byte, at least one byte. */
int pop3_parse_uidl(const char *line, size_t len, unsigned long *num,
    const char **uidl, size_t *uidl_len);

/* "+OK COUNT OCTETS..." (STAT): 0, or -1. */
int pop3_parse_stat(const char *line, size_t len, unsigned long *count,
    unsigned long long *octets);

/* "+OK N octets..." (RETR): 0 and *n, or -1 when the reply names no
 * count (then the LIST size stands). */
int pop3_parse_octets(const char *line, size_t len, unsigned long long *n);

/* The exit code for a RESP-CODE in "-ERR [CODE] ..." (RFC 2449, 3449):
 * [AUTH] EX_NOPERM; [IN-USE], [LOGIN-DELAY], [SYS/TEMP] EX_TEMPFAIL;
 * [SYS/PERM] EX_UNAVAILABLE; 0 when none of those. */
int pop3_parse_respcode(const char *line, size_t len);

/* True when libcurl will offer APOP for this greeting: it ends in '>'
 * (after any CR/LF), and from its fourth byte on the first '<' opens a
 * timestamp "<...@...>" that runs to that '>'. */
bool pop3_parse_apop_greeting(const char *line, size_t len);

#endif
