/*
 * fetch_hdr.c - add_headers between the POP3 body and the store (see
 * fetch_hdr.h).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch_hdr.h"

void
fetch_hdr_init(struct fetch_hdr *h, const struct account *a)
{
	memset(h, 0, sizeof(*h));
	h->a = a;
	h->flags = a->add_headers;
	msghdr_head_init(&h->head);
	if (h->flags & ADD_HDR_RECEIVED) {
		if (gethostname(h->local, sizeof(h->local)) != 0)
			h->local[0] = '\0';
		h->local[sizeof(h->local) - 1] = '\0';
	}
}

void
fetch_hdr_begin(struct fetch_hdr *h, const char *uidl, size_t uidl_len)
{
	free(h->uidl);
	h->uidl = uidl != NULL ? xstrndup(uidl, uidl_len) : NULL;
	h->sent = h->flags == 0;
	msghdr_head_reset(&h->head);
}

/* The added lines, then what the head holds. */
static int
send_prefix(struct fetch_hdr *h, fetch_hdr_out out, void *arg,
    struct err *e)
{
	struct msghdr_add_in in;
	char buf[MSGHDR_PREFIX_MAX];
	size_t n, hl = msghdr_head_len(&h->head);
	int rc;

	memset(&in, 0, sizeof(in));
	in.flags = h->flags;
	in.server_host = h->a->host;
	in.local_host = h->local;
	in.user = h->a->user;
	in.uidl = h->uidl;
	in.tls = h->a->tls != TLS_NONE;
	in.when = time(NULL);
	if (h->flags & ADD_HDR_RETURN_PATH) {
		in.head = hl > 0 ? msghdr_head_data(&h->head) : "";
		in.head_len = hl;
	}
	n = msghdr_prefix(&in, buf, sizeof(buf));
	h->sent = true;
	if (n > 0 && (rc = out(arg, buf, n, e)) != 0)
		return rc;
	if (hl > 0 && (rc = out(arg, msghdr_head_data(&h->head), hl, e)) != 0)
		return rc;
	return 0;
}

int
fetch_hdr_write(struct fetch_hdr *h, const char *buf, size_t len,
    fetch_hdr_out out, void *arg, struct err *e)
{
	int rc;

	if (!h->sent) {
		if (h->flags & ADD_HDR_RETURN_PATH) {
			size_t took = msghdr_head_feed(&h->head, buf, len);

			buf += took;
			len -= took;
			if (!msghdr_head_done(&h->head))
				return 0;
		}
		if ((rc = send_prefix(h, out, arg, e)) != 0)
			return rc;
	}
	return len > 0 ? out(arg, buf, len, e) : 0;
}

int
fetch_hdr_end(struct fetch_hdr *h, fetch_hdr_out out, void *arg,
    struct err *e)
{
	if (h->sent)
		return 0;
	msghdr_head_finish(&h->head);
	return send_prefix(h, out, arg, e);
}

void
fetch_hdr_free(struct fetch_hdr *h)
{
	free(h->uidl);
	h->uidl = NULL;
	msghdr_head_reset(&h->head);
}
