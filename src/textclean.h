/*
 * textclean.h - server text made fit to print.
 *
 * Every piece of text a server chose that popfetch prints (reply lines in
 * error messages, listing lines, the greeting and CAPA of --server-info,
 * the -vv dialogue and the $POPFETCH_TRACE file) goes through
 * textclean_line(), which does two things at once:
 *  - escapes whatever a terminal would act on, so a server cannot set the
 *    window title, clear the screen or hide text;
 *  - replaces every form of the session's secrets with "<redacted>", so a
 *    server that quotes the password (or the SASL message carrying it)
 *    in its -ERR line cannot make popfetch print it.
 * The secrets live in a struct textclean, built per session from the
 * credentials (textclean_for_login) and wiped when freed.
 */
#ifndef POPFETCH_TEXTCLEAN_H
#define POPFETCH_TEXTCLEAN_H

#include <stddef.h>

#define TEXTCLEAN_MARK "<redacted>"

/* Lines longer than this are cut (with "..."): bounds the work per line. */
#define TEXTCLEAN_WINDOW 16384

struct textclean;

struct textclean *textclean_new(void);

/*
 * A secret (a password, a token; 1 to TEXTCLEAN_WINDOW/2 bytes; longer
 * ones are ignored) is redacted where the text
 * holds its bytes; its hex, lowercase or uppercase; or its base64, standard or URL
 * alphabet, at any of the three byte alignments it can have inside a
 * longer encoded message (see textclean.c). A base64 hit takes the whole
 * run of base64 characters around it.
 */
void textclean_add_secret(struct textclean *t, const void *secret, size_t len);

/* A message that carries a secret (a SASL response): redacted where the
 * text holds its base64 (standard alphabet), with the run around it. */
void textclean_add_message(struct textclean *t, const void *msg, size_t len);

/*
 * Everything a POP3 login can put a secret in: the password or the
 * bearer token (either may be NULL) as a secret, and as messages the
 * SASL PLAIN responses ("\0user\0pw", "user\0user\0pw"), LOGIN's
 * password, XOAUTH2's "user=U^Aauth=Bearer T^A^A" and OAUTHBEARER's
 * "n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A" (with and without the port).
 * NULL when there is no secret at all.
 */
struct textclean *textclean_for_login(const char *user, const char *password,
    const char *bearer, const char *host, int port);

/* Wipe the secrets and free; t may be NULL. */
void textclean_free(struct textclean *t);

/*
 * Where a copy of src[0..len) cut to at most max bytes may end so that
 * it holds no part of a form of t's secrets: len when len <= max; else
 * max, moved back to the start of any form (with a base64 hit's whole
 * run) that would straddle the cut (max <= TEXTCLEAN_WINDOW / 2). The forms are looked for in the
 * whole of src (its first TEXTCLEAN_WINDOW bytes), so a secret the cut
 * would leave only partly present, where no pattern matches any more, is
 * still found. Used by the copies of reply lines popfetch keeps: cut
 * there with this, what remains of a form is whole and textclean_line
 * redacts it.
 */
size_t textclean_cut(const struct textclean *t, const char *src, size_t len,
    size_t max);

/*
 * Copy server text src[0..len) to dst for printing: trailing CR/LF
 * dropped; every form of t's secrets (t may be NULL) replaced by
 * TEXTCLEAN_MARK; printable ASCII and valid UTF-8 of printable characters
 * kept; a backslash doubled; every other byte (C0 controls such as ESC,
 * BEL, CR, LF, TAB; DEL; bytes of C1 controls U+0080-U+009F, of the
 * characters that hide or reorder text: the Arabic letter mark U+061C,
 * U+200B-U+200F (zero-width, LRM, RLM), the line and paragraph separators
 * U+2028-U+2029, the bidirectional embeddings and overrides U+202A-U+202E,
 * U+2060-U+206F (word joiner, invisible operators, isolates, deprecated
 * format characters), U+FEFF (zero-width no-break space); bytes of
 * invalid or overlong UTF-8) written as "\xNN". dst (dstlen >= 1)
 * is always NUL-terminated and never ends inside an escape or a UTF-8
 * character; text that does not fit, or lies beyond TEXTCLEAN_WINDOW
 * bytes, is left out and "..." added where there is room. Returns
 * strlen(dst).
 */
size_t textclean_line(char *dst, size_t dstlen, const char *src, size_t len,
    const struct textclean *t);

#endif
