/*
 * main.c - command line, configuration discovery, account selection, the
 * run over accounts, and the exit code.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "fetch.h"
#include "log.h"
#include "pop3.h"
#include "prompt.h"
#include "report.h"
#include "run_parallel.h"
#include "shard.h"
#include "util.h"

enum {
	OPT_CHECK_CONFIG = 256, OPT_SERVER_INFO, OPT_VERSION, OPT_HELP,
	OPT_DRY_RUN, OPT_STATUS, OPT_KEEP, OPT_NO_KEEP, OPT_REFETCH,
	OPT_SYSLOG,
	OPT_SUMMARY, OPT_SUMMARY_FILE, OPT_METRICS_FILE,
	OPT_HOST, OPT_PORT, OPT_TLS, OPT_USER, OPT_PASSWORD_ENV,
	OPT_PASSWORD_FILE, OPT_PASSWORD_COMMAND, OPT_MAILDIR, OPT_MBOX,
	OPT_DELIVER_COMMAND, OPT_SHARD
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "account", required_argument, NULL, 'a' },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "verbose", no_argument, NULL, 'v' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "server-info", no_argument, NULL, OPT_SERVER_INFO },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "no-keep", no_argument, NULL, OPT_NO_KEEP },
	{ "refetch", no_argument, NULL, OPT_REFETCH },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "summary", required_argument, NULL, OPT_SUMMARY },
	{ "summary-file", required_argument, NULL, OPT_SUMMARY_FILE },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "password-env", required_argument, NULL, OPT_PASSWORD_ENV },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "password-command", required_argument, NULL, OPT_PASSWORD_COMMAND },
	{ "maildir", required_argument, NULL, OPT_MAILDIR },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "deliver-command", required_argument, NULL, OPT_DELIVER_COMMAND },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *out)
{
	fprintf(out,
"usage: popfetch [-c FILE] [-a NAME]... [OPTIONS] [NAME]...\n"
"       popfetch --host HOST --user USER [--port PORT] [--tls MODE]\n"
"                [--password-env VAR | --password-file FILE |\n"
"                 --password-command CMD]\n"
"                (--maildir DIR | --mbox FILE | --deliver-command CMD)\n"
"                [OPTIONS]\n"
"OPTIONS: [-v] [-q] [-j N] [--shard K/N] [--dry-run | --status]\n"
"         [--keep | --no-keep] [--refetch] [--syslog] [--check-config]\n"
"         [--summary json] [--summary-file FILE] [--metrics-file FILE]\n"
"         [--server-info] [--version] [--help]\n"
"\n"
"Fetch mail from the POP3 accounts in the configuration file (all, or\n"
"those named) into their Maildir, mbox or delivery command; or, with\n"
"--host, from one account given on the command line. Silent on success;\n"
"problems go to stderr.\n"
"\n"
"  -c, --config FILE   configuration file (default: $POPFETCH_CONFIG,\n"
"                      $XDG_CONFIG_HOME/popfetch/config.yaml,\n"
"                      /etc/popfetch/config.yaml)\n"
"  -a, --account NAME  fetch only this account (repeatable); NAME... as\n"
"                      arguments says the same\n"
"      --shard K/N     only the accounts of shard K of N (0 <= K < N): those\n"
"                      whose name's 64-bit FNV-1a hash mod N is K\n"
"  -v, --verbose       a line per account and per message; -vv adds the\n"
"                      POP3 dialogue (secrets redacted)\n"
"  -q, --quiet         errors only, no warnings\n"
"  -j, --jobs N        fetch up to N accounts at once, one process each,\n"
"                      never two on one store (default 1; 0: one per CPU)\n"
"      --dry-run       log in and print what a run would fetch, skip and\n"
"                      delete; change nothing\n"
"      --status        one line per account: messages on the server, new,\n"
"                      stored and kept, to delete; change nothing\n"
"      --keep, --no-keep  for this run, keep: true or keep: false\n"
"      --refetch       fetch every message again, also those stored\n"
"      --summary json  print a JSON summary of the run on stdout (the -v\n"
"                      lines go to stderr)\n"
"      --summary-file FILE  write the JSON summary to FILE (atomically)\n"
"      --metrics-file FILE  write Prometheus textfile metrics to FILE\n"
"      --syslog        errors, warnings (and with -v the -v lines) to\n"
"                      syslog too: facility mail, ident popfetch\n"
"      --check-config  validate the configuration, print the accounts\n"
"      --server-info   connect to the selected accounts' servers without\n"
"                      logging in; print greeting, capabilities, TLS and\n"
"                      certificate details with the public-key pin\n"
"One-shot mode (no configuration file is read):\n"
"      --host HOST     the server\n"
"      --port PORT     its port (default 995, or 110 with --tls starttls\n"
"                      or none)\n"
"      --tls MODE      implicit (default), starttls or none (loopback only)\n"
"      --user USER     the login name (required)\n"
"      --password-env VAR, --password-file FILE, --password-command CMD\n"
"                      where the password comes from; without one it is\n"
"                      asked for on the terminal\n"
"      --maildir DIR, --mbox FILE, --deliver-command CMD\n"
"                      the store (exactly one); CMD is split on blanks\n"
"                      into words, no shell\n"
"      --version       print the version\n"
"      --help          print this help\n"
"\n"
"See popfetch(1).\n");
}

/* Passwords and tokens live in this process's memory for a while: keep
 * them out of core dumps, and keep other processes of the same user from
 * reading our memory or environment through /proc or ptrace. */
static void
secrets_protect(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
#ifdef PR_SET_DUMPABLE
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

static int
file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* The configuration file to use: -c, $POPFETCH_CONFIG, the XDG location,
 * /etc. Returns a new string, or NULL with *tried describing the search. */
static char *
config_discover(const char *opt, char **tried)
{
	const char *env = getenv("POPFETCH_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *user;

	*tried = NULL;
	if (opt != NULL)
		return xstrdup(opt);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (xdg != NULL && xdg[0] == '/')
		user = xasprintf("%s/popfetch/config.yaml", xdg);
	else
		user = util_expand_tilde("~/.config/popfetch/config.yaml");
	if (file_exists(user))
		return user;
	if (file_exists("/etc/popfetch/config.yaml")) {
		free(user);
		return xstrdup("/etc/popfetch/config.yaml");
	}
	*tried = xasprintf("%s, /etc/popfetch/config.yaml", user);
	free(user);
	return NULL;
}

/* Note a one-shot password or store option; true when its group had
 * one already. */
static bool
oneshot_set(struct oneshot *os, int opt, const char *value)
{
	const char **slot = opt == OPT_PASSWORD_ENV ? &os->password_env :
	    opt == OPT_PASSWORD_FILE ? &os->password_file :
	    opt == OPT_PASSWORD_COMMAND ? &os->password_command :
	    opt == OPT_MAILDIR ? &os->maildir : opt == OPT_MBOX ? &os->mbox :
	    &os->deliver_command;
	bool pw = opt == OPT_PASSWORD_ENV || opt == OPT_PASSWORD_FILE ||
	    opt == OPT_PASSWORD_COMMAND;
	bool had = pw ? (os->password_env || os->password_file ||
	    os->password_command) : (os->maildir || os->mbox ||
	    os->deliver_command);

	*slot = value;
	return had;
}

/* One-shot mode without a password option: ask the person at the
 * terminal, or say how to give one. */
static int
oneshot_password(struct account *a)
{
	struct err e;
	char *prompt;
	int rc;

	if (a->password_env != NULL || a->password_file != NULL ||
	    a->password_command != NULL)
		return 0;
	if (!prompt_possible()) {
		log_error(a->name, "no password source: give --password-env, "
		    "--password-file or --password-command, or run popfetch "
		    "at a terminal to be asked");
		return EX_CONFIG;
	}
	err_clear(&e);
	prompt = xasprintf("Password for %s: ", a->name);
	rc = prompt_password(prompt, &a->password, &e);
	free(prompt);
	if (rc != 0)
		log_error(a->name, "%s", e.msg);
	return rc;
}

static bool
selected(char **names, size_t n, const char *name)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

/* --check-config: the journal each account uses. */
static const char *
journal_path(const struct account *a, void *arg)
{
	char **buf = arg, *key = fetch_state_key(a);

	free(*buf);
	*buf = xasprintf("%s/%s.state", a->state_dir, key);
	free(key);
	return *buf;
}

enum look { LOOK_NONE, LOOK_DRY_RUN, LOOK_STATUS };

/* An account's run is over: the notice of a locked one, the error, the
 * -v tally. (arg: the struct fetch_opts.) */
static void
account_said(const struct account *a, const struct run_result *r, void *arg)
{
	const struct fetch_opts *o = arg;
	const struct fetch_stats *stats = &r->stats;

	if (r->rc == 0 && stats->locked) {
		/* Not a failure, and cron must not mail it: said at -v, or
		 * to a person at a terminal. */
		if (isatty(STDERR_FILENO) && !o->verbose && !o->quiet)
			log_warn(a->name, "%s", r->e.msg);
		else
			log_info(a->name, "%s", r->e.msg);
		return;
	}
	if (r->rc != 0)
		log_error(a->name, "%s", r->e.msg);
	char big[64] = "";

	if (stats->too_big > 0)
		snprintf(big, sizeof(big), ", %lu over max_size left there",
		    stats->too_big);
	if (!stats->inventory)
		log_info(a->name, "failed before the server's list was read: "
		    "nothing fetched or deleted");
	else
		log_info(a->name, "%lu message%s on server, %lu stored, %lu "
		    "deleted%s%s", stats->on_server,
		    stats->on_server == 1 ? "" : "s", stats->stored,
		    stats->deleted, big, r->rc != 0 ? " (failed)" : "");
	if (stats->later > 0)
		log_info(a->name, "%lu left for the next run (max_messages, "
		    "max_bytes)", stats->later);
}

/* rep: NULL, or where each account's outcome is added. jobs: -j; with
 * more than one account to fetch and jobs > 1, run_parallel. */
static int
run_accounts(const struct config *cfg, char **names, size_t nnames,
    const struct fetch_opts *o, enum look look, unsigned jobs,
    struct report_run *rep)
{
	struct run_result *res = xcalloc(cfg->naccounts + 1, sizeof(*res));
	bool *want = xcalloc(cfg->naccounts + 1, sizeof(*want));
	size_t nwant = 0;
	int exit_code = 0;

	for (size_t i = 0; i < cfg->naccounts; i++)
		if ((want[i] = selected(names, nnames, cfg->accounts[i].name)))
			nwant++;
	/* --dry-run and --status print reports meant to be read in order:
	 * one account after the other, whatever -j. */
	if (look == LOOK_NONE && jobs > 1 && nwant > 1)
		run_parallel(cfg, want, jobs, o, res, account_said, (void *)o);
	else for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];
		struct run_result *r = &res[i];
		int rc;

		if (!want[i])
			continue;
		err_clear(&r->e);
		if (look != LOOK_NONE) {
			rc = fetch_look(a, o, look == LOOK_STATUS, stdout,
			    &r->e);
			if (rc != 0) {
				log_error(a->name, "%s", r->e.msg);
				if (exit_code == 0)
					exit_code = rc;
			}
			continue;
		}
		long long t0 = util_now_ms();

		r->ran = true;
		r->rc = fetch_account(a, o, &r->stats, &r->e);
		r->seconds = (double)(util_now_ms() - t0) / 1000;
		r->finished = time(NULL);
		account_said(a, r, (void *)o);
	}
	/* In configuration order, however the runs ended: the summary, and
	 * the exit status is the first failed account's. A locked account
	 * was not run: not in the summary, its metrics stay as they were. */
	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct run_result *r = &res[i];

		if (!r->ran || (r->rc == 0 && r->stats.locked))
			continue;
		if (rep != NULL)
			report_add(rep, cfg->accounts[i].name, r->rc, r->e.msg,
			    &r->stats, r->seconds, r->finished);
		if (r->rc != 0 && exit_code == 0)
			exit_code = r->rc;
	}
	free(res);
	free(want);
	return exit_code;
}

static int
run_server_info(const struct config *cfg, char **names, size_t nnames)
{
	int exit_code = 0;
	bool first = true;

	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];
		struct pop3_params pp;
		struct err e;
		int rc;

		if (!selected(names, nnames, a->name))
			continue;
		if (!first)
			putchar('\n');
		first = false;
		fetch_pop3_params(a, &pp);
		err_clear(&e);
		if ((rc = pop3_server_info(&pp, stdout, &e)) != 0) {
			log_error(a->name, "%s", e.msg);
			if (exit_code == 0)
				exit_code = rc;
		}
		fflush(stdout);
	}
	return exit_code;
}

struct reports {
	bool json;                 /* --summary json */
	const char *summary_file, *metrics_file;
};

/* After the run: the metrics, the summary file, the JSON on stdout, in
 * that order, so the JSON's exit_code is popfetch's exit status (a file
 * that cannot be written is an error of the run when nothing else was). */
static int
reports_write(const struct reports *o, struct report_run *rep,
    const struct config *cfg, int rc, long long t0)
{
	struct err e;
	int wrc;

	rep->seconds = (double)(util_now_ms() - t0) / 1000;
	rep->exit_code = rc;
	if (o->metrics_file != NULL &&
	    (wrc = report_metrics_file(rep, o->metrics_file, cfg, &e)) != 0) {
		log_error(NULL, "--metrics-file: %s", e.msg);
		if (rc == 0)
			rc = wrc;
	}
	rep->exit_code = rc;
	if (o->summary_file != NULL &&
	    (wrc = report_summary_file(rep, o->summary_file, &e)) != 0) {
		log_error(NULL, "--summary-file: %s", e.msg);
		if (rc == 0)
			rc = wrc;
	}
	rep->exit_code = rc;
	if (o->json) {
		char *json = report_json(rep);

		fputs(json, stdout);
		free(json);
		if (fflush(stdout) != 0 && rc == 0) {
			log_error(NULL, "--summary: cannot write to stdout: %s",
			    strerror(errno));
			rc = EX_IOERR;
		}
	}
	return rc;
}

/* $POPFETCH_TRACE: a trace that cannot be used costs a warning, not
 * the run. */
static void
trace_open(const char *path)
{
	switch (log_open_trace(path)) {
	case 0:
		break;
	case LOG_TRACE_NOT_OURS:
		log_warn(NULL, "$POPFETCH_TRACE %s belongs to another user; "
		    "not tracing to it", path);
		break;
	case LOG_TRACE_NOT_FILE:
		log_warn(NULL, "$POPFETCH_TRACE %s is not a regular file; "
		    "not tracing to it", path);
		break;
	case LOG_TRACE_LINKED:
		log_warn(NULL, "$POPFETCH_TRACE %s has another hard link; "
		    "not tracing to it", path);
		break;
	default:
		log_warn(NULL, "cannot open $POPFETCH_TRACE (%s): %s", path,
		    errno == ELOOP ? "a symbolic link, not followed" :
		    strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	const char *opt_config = NULL, *trace;
	char **names = NULL, *path = NULL, *tried = NULL, *errors = NULL;
	size_t nnames = 0;
	int verbosity = LOG_NORMAL, check_only = 0, server_info = 0, c, rc;
	unsigned jobs = 1;
	struct fetch_opts fo = { -1, false, false, false, false };
	enum look look = LOOK_NONE;
	bool use_syslog = false;
	const char *conflict = NULL;
	struct reports ro = { false, NULL, NULL };
	struct report_run rep = { 0 };
	struct oneshot os;
	struct config cfg, view;
	struct shard shard = { 0, 0 };
	struct err e;

	memset(&cfg, 0, sizeof(cfg));
	memset(&view, 0, sizeof(view));
	memset(&os, 0, sizeof(os));
	while ((c = getopt_long(argc, argv, "c:a:vqj:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt_config = optarg;
			break;
		case 'a':
			names = xrealloc(names, (nnames + 1) * sizeof(*names));
			names[nnames++] = optarg;
			break;
		case OPT_SHARD:
			if (shard.n > 0)
				conflict = "two --shard options";
			else if (shard_parse(optarg, &shard, &e) != 0) {
				log_error(NULL, "%s", e.msg);
				free(names);
				return EX_USAGE;
			}
			break;
		case 'v':
			verbosity = verbosity < LOG_NORMAL ? LOG_VERBOSE :
			    verbosity + 1;
			break;
		case 'q':
			verbosity = LOG_QUIET;
			break;
		case 'j':
			if (run_jobs_parse(optarg, &jobs) != 0) {
				log_error(NULL, "-j/--jobs: \"%s\" is not a "
				    "number of accounts to fetch at once (1 or "
				    "more; 0: one per CPU)", optarg);
				free(names);
				return EX_USAGE;
			}
			break;
		case OPT_CHECK_CONFIG:
			check_only = 1;
			break;
		case OPT_SERVER_INFO:
			server_info = 1;
			break;
		case OPT_DRY_RUN:
		case OPT_STATUS:
			if (look != LOOK_NONE && look != (c == OPT_DRY_RUN ?
			    LOOK_DRY_RUN : LOOK_STATUS))
				conflict = "--dry-run and --status";
			look = c == OPT_DRY_RUN ? LOOK_DRY_RUN : LOOK_STATUS;
			break;
		case OPT_KEEP:
		case OPT_NO_KEEP:
			if (fo.keep >= 0 && fo.keep != (c == OPT_KEEP))
				conflict = "--keep and --no-keep";
			fo.keep = c == OPT_KEEP;
			break;
		case OPT_REFETCH:
			fo.refetch = true;
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_SUMMARY:
			if (strcmp(optarg, "json") != 0) {
				log_error(NULL, "--summary: unknown format "
				    "\"%s\" (json is the one there is)", optarg);
				free(names);
				return EX_USAGE;
			}
			ro.json = true;
			break;
		case OPT_SUMMARY_FILE:
			ro.summary_file = optarg;
			break;
		case OPT_METRICS_FILE:
			ro.metrics_file = optarg;
			break;
		case OPT_HOST:
			os.host = optarg;
			break;
		case OPT_PORT:
			os.port = optarg;
			break;
		case OPT_TLS:
			os.tls = optarg;
			break;
		case OPT_USER:
			os.user = optarg;
			break;
		case OPT_PASSWORD_ENV:
		case OPT_PASSWORD_FILE:
		case OPT_PASSWORD_COMMAND:
			if (oneshot_set(&os, c, optarg))
				conflict = "two password options";
			break;
		case OPT_MAILDIR:
		case OPT_MBOX:
		case OPT_DELIVER_COMMAND:
			if (oneshot_set(&os, c, optarg))
				conflict = "two store options";
			break;
		case OPT_VERSION:
			printf("popfetch %s (%s)\n", PACKAGE_VERSION,
			    curl_version());
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			/* getopt has said what is wrong, in one line. */
			fprintf(stderr, "Try 'popfetch --help' for more "
			    "information.\n");
			free(names);
			return EX_USAGE;
		}
	}
	/* Account names as arguments: the same as -a each. */
	for (; optind < argc; optind++) {
		names = xrealloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = argv[optind];
	}
	if (conflict == NULL && os.host != NULL && opt_config != NULL)
		conflict = "--host (one-shot mode) and -c";
	if (conflict == NULL && os.host != NULL && nnames > 0)
		conflict = "--host (one-shot mode) and account names";
	if (conflict == NULL && os.host != NULL && shard.n > 0)
		conflict = "--host (one-shot mode) and --shard";
	if (conflict == NULL && server_info && look != LOOK_NONE)
		conflict = look == LOOK_STATUS ? "--server-info and --status" :
		    "--server-info and --dry-run";
	if (conflict == NULL && (ro.json || ro.summary_file != NULL ||
	    ro.metrics_file != NULL) && (server_info || check_only ||
	    look != LOOK_NONE))
		conflict = "--summary/--summary-file/--metrics-file and "
		    "--check-config/--server-info/--dry-run/--status";
	if (conflict != NULL) {
		log_error(NULL, "%s cannot be used together (see popfetch "
		    "--help)", conflict);
		free(names);
		return EX_USAGE;
	}
	if ((conflict = config_oneshot_conflict(&os)) != NULL) {
		log_error(NULL, "%s (see popfetch --help)", conflict);
		free(names);
		return EX_USAGE;
	}
	if (use_syslog)
		log_open_syslog();
	fo.verbose = verbosity >= LOG_VERBOSE;
	fo.quiet = verbosity == LOG_QUIET;
	/* On a terminal only: never in a pipe, a file or cron. */
	fo.progress = !fo.quiet && isatty(STDERR_FILENO);
	log_set_level(verbosity);
	log_info_to_stderr(ro.json);
	if ((trace = getenv("POPFETCH_TRACE")) != NULL && *trace != '\0')
		trace_open(trace);

	/* A broken pipe or an exceeded file size limit must become an error
	 * code from write(), handled like any other, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	secrets_protect();

	if (os.host != NULL) {
		if ((rc = config_oneshot(&os, &cfg, &errors)) != 0) {
			for (char *l = strtok(errors, "\n"); l != NULL;
			    l = strtok(NULL, "\n"))
				log_error(NULL, "%s", l);
			goto out;
		}
		path = xstrdup(cfg.path);
	} else if ((path = config_discover(opt_config, &tried)) == NULL) {
		log_error(NULL, "no configuration file found (tried %s); "
		    "use -c FILE or $POPFETCH_CONFIG", tried);
		rc = EX_CONFIG;
		goto out;
	}
	if (os.host == NULL && (rc = config_load(path, &cfg, &errors)) != 0) {
		fputs(errors, stderr);
		if (errors[0] && errors[strlen(errors) - 1] != '\n')
			fputc('\n', stderr);
		goto out;
	}
	/* "log: syslog" under defaults: as --syslog (every account has
	 * it, or none). */
	if (!use_syslog && cfg.naccounts > 0 && cfg.accounts[0].log_syslog) {
		use_syslog = true;
		log_open_syslog();
	}
	/* Take password_env values out of the environment, so commands we
	 * run (password and token commands) never inherit them. */
	config_capture_env(&cfg);
	if (os.host != NULL && !server_info && !check_only &&
	    (rc = oneshot_password(&cfg.accounts[0])) != 0)
		goto out;
	/* The accounts named (-a) and in the shard; the whole file was
	 * loaded and checked all the same. */
	if ((rc = shard_select(&cfg, names, nnames, &shard, &view, &e)) != 0) {
		log_error(NULL, "%s", e.msg);
		goto out;
	}
	if (shard.n > 0)
		log_info(NULL, "shard %lu/%lu: %zu of the %zu account%s in %s%s%s",
		    shard.k, shard.n, view.naccounts, cfg.naccounts,
		    cfg.naccounts == 1 ? "" : "s", path, nnames > 0 ?
		    ", among those named" : "", view.naccounts == 0 ?
		    ": nothing to do" : "");
	if (check_only) {
		/* The selected accounts, as loaded, then what the file
		 * points at: files, variables, commands. */
		char *jbuf = NULL, *problems = NULL;

		config_print(&view, stdout, journal_path, &jbuf);
		fflush(stdout);
		free(jbuf);
		rc = 0;
		for (size_t i = 0; i < view.naccounts; i++) {
			if (config_check_account(&cfg, &view.accounts[i],
			    &problems) != 0) {
				fputs(problems, stderr);
				rc = EX_CONFIG;
			}
			free(problems);
			problems = NULL;
		}
		goto out;
	}

	/* libcurl (and OpenSSL) write every TLS session's secrets to the
	 * file SSLKEYLOGFILE names: with them a capture of the connection
	 * shows the password. A debugging aid popfetch does not offer. */
	unsetenv("SSLKEYLOGFILE");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error(NULL, "cannot initialise libcurl");
		rc = EX_SOFTWARE;
		goto out;
	}
	long long t0 = util_now_ms();
	bool reporting = ro.json || ro.summary_file != NULL ||
	    ro.metrics_file != NULL;

	rep.started = time(NULL);
	rc = server_info ? run_server_info(&view, NULL, 0) :
	    run_accounts(&view, NULL, 0, &fo, look, jobs,
	    reporting ? &rep : NULL);
	if (reporting)
		rc = reports_write(&ro, &rep, &cfg, rc, t0);
	report_free(&rep);
	curl_global_cleanup();
out:
	shard_view_free(&view);
	config_free(&cfg);
	free(errors);
	free(tried);
	free(path);
	free(names);
	log_close_trace();
	log_close_syslog();
	return rc;
}
