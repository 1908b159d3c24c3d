#include "autoconf.h"
#include <string.h>
#include "msghdr.h"
void msghdr_head_init(struct msghdr_head *h) { memset(h, 0, sizeof(*h)); }
size_t msghdr_head_feed(struct msghdr_head *h, const char *buf, size_t len) { (void)h; (void)buf; (void)len; return 0; }
void msghdr_head_finish(struct msghdr_head *h) { (void)h; }
bool msghdr_head_done(const struct msghdr_head *h) { (void)h; return true; }
enum msghdr_head_end msghdr_head_end(const struct msghdr_head *h) { return h->end; }
const char *msghdr_head_data(const struct msghdr_head *h) { return h->buf; }
size_t msghdr_head_len(const struct msghdr_head *h) { return h->len; }
void msghdr_head_reset(struct msghdr_head *h) { (void)h; }
unsigned msghdr_sender(const char *head, size_t len, char *out, size_t outsz) { (void)head; (void)len; (void)outsz; strcpy(out, "x"); return 0; }
size_t msghdr_prefix(const struct msghdr_add_in *in, char *out, size_t outsz) { (void)in; (void)out; (void)outsz; return 0; }
size_t msghdr_date(time_t when, char *out) { (void)when; out[0] = 0; return 0; }
