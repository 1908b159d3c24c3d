/*
 * fetch_hdr.h - add_headers: the lines popfetch puts at the top of each
 * message before the store sees it (msghdr.c makes them). Between the
 * POP3 body and the store's msg_write: with `return-path` the header
 * section is held back (at most MSGHDR_HEAD_MAX bytes) until it is known
 * whether it has a Return-Path: field; otherwise the lines go out before
 * the first byte. With no add_headers every call passes the bytes
 * through untouched.
 *
 * Life cycle per account: fetch_hdr_init, then per message
 * fetch_hdr_begin, fetch_hdr_write ..., fetch_hdr_end (before the
 * store's msg_commit); fetch_hdr_begin again when a message is read
 * again from its start; fetch_hdr_free. Errors are the out function's.
 */
#ifndef POPFETCH_FETCH_HDR_H
#define POPFETCH_FETCH_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "msghdr.h"
#include "util.h"

struct account;

/* Where the bytes go (the store's msg_write). */
typedef int (*fetch_hdr_out)(void *arg, const char *buf, size_t len,
    struct err *e);

struct fetch_hdr {
	unsigned flags;            /* the account's add_headers */
	const struct account *a;
	char local[256];           /* this machine's name */
	char *uidl;                /* the message's, NUL-terminated */
	bool sent;                 /* the lines (and the head) went out */
	struct msghdr_head head;
};

void fetch_hdr_init(struct fetch_hdr *h, const struct account *a);
void fetch_hdr_begin(struct fetch_hdr *h, const char *uidl, size_t uidl_len);
int fetch_hdr_write(struct fetch_hdr *h, const char *buf, size_t len,
    fetch_hdr_out out, void *arg, struct err *e);
int fetch_hdr_end(struct fetch_hdr *h, fetch_hdr_out out, void *arg,
    struct err *e);
void fetch_hdr_free(struct fetch_hdr *h);

#endif
