/*
 * sink.c - the one place that knows which stores exist: opens the one an
 * account names and says what kind it is. Everything else (fetch.c,
 * fetch_plan.c) goes through struct sink_ops.
 */
#include "autoconf.h"

#include "config.h"
#include "sink.h"

int
sink_open(const struct account *a, struct sink **out, struct err *e)
{
	switch (a->store) {
	case STORE_MAILDIR:
		return sink_open_maildir(a->store_path, out, e);
	case STORE_MBOX:
		return sink_open_mbox(a->store_path, a->lock_timeout_ms, out,
		    e);
	case STORE_COMMAND:
		return sink_open_command(a->deliver_command, a->name,
		    a->deliver_timeout_ms, out, e);
	}
	*out = NULL;
	return err_set(e, EX_SOFTWARE, "account %s: no store", a->name);
}

const char *
sink_kind_key(const struct account *a)
{
	switch (a->store) {
	case STORE_MAILDIR:
		return "maildir";
	case STORE_MBOX:
		return "mbox";
	case STORE_COMMAND:
		break;
	}
	return "command";
}

const char *
sink_kind_label(const struct account *a)
{
	switch (a->store) {
	case STORE_MAILDIR:
		return "Maildir";
	case STORE_MBOX:
		return "mbox";
	case STORE_COMMAND:
		break;
	}
	return "deliver_command";
}

int
sink_is_path(const struct account *a)
{
	return a->store != STORE_COMMAND;
}
