/*
 * unit_report.c - the JSON summary and the metrics file byte for byte:
 * JSON escaping (quotes, backslashes, every control, DEL, valid UTF-8
 * kept, each malformed byte → \ufffd), nulls for counts never learned,
 * Prometheus label escaping, the carry-over from a previous metrics file
 * (last success of a failed account, accounts not run, accounts no
 * longer configured, comments, other metrics and labels, malformed lines,
 * CRLF, no final newline, duplicates), and the atomic write (mode kept,
 * new file 0644, no temporary file left, unwritable directory).
 */
#include "autoconf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "unit.h"

static char *
json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;

	report_json_str(&buf, &len, s);
	return buf;
}

static char *
label_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;

	report_prom_label(&buf, &len, s);
	return buf != NULL ? buf : strdup("");
}

static void
check_json_str(const char *in, const char *want)
{
	char *got = json_of(in);

	CHECK_STR(got, want);
	free(got);
}

static void
test_escaping(void)
{
	char all[40], want[300];
	size_t n = 0;

	check_json_str("", "\"\"");
	check_json_str("plain", "\"plain\"");
	check_json_str("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_json_str("t\tn\nr\r", "\"t\\u0009n\\u000ar\\u000d\"");
	check_json_str("del\x7f.", "\"del\\u007f.\"");
	check_json_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"");
	/* Latin-1, overlong, surrogate, above U+10FFFF, cut short, a lone
	 * continuation byte: one \ufffd per byte. */
	check_json_str("caf\xe9", "\"caf\\ufffd\"");
	check_json_str("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_json_str("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_json_str("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_json_str("\xe2\x82", "\"\\ufffd\\ufffd\"");
	check_json_str("x\x80y", "\"x\\ufffdy\"");
	/* Every control character. */
	for (int c = 1; c < 0x20; c++)
		all[n++] = (char)c;
	all[n] = '\0';
	strcpy(want, "\"");
	for (int c = 1; c < 0x20; c++)
		sprintf(want + strlen(want), "\\u%04x", c);
	strcat(want, "\"");
	check_json_str(all, want);

	char *l = label_of("a\\b\"c\nd\te\xff" "f\xc3\xa9");
	CHECK_STR(l, "a\\\\b\\\"c\\nd\xef\xbf\xbd" "e\xef\xbf\xbd" "f\xc3\xa9");
	free(l);
}

static struct fetch_stats
stats(bool inventory, unsigned long on, unsigned long long bytes,
    unsigned long stored, unsigned long long sbytes)
{
	struct fetch_stats s;

	memset(&s, 0, sizeof(s));
	s.inventory = inventory;
	s.on_server = on;
	s.server_bytes = bytes;
	s.stored = stored;
	s.bytes = sbytes;
	return s;
}

static void
test_json(void)
{
	struct report_run r = { 0 };
	struct fetch_stats s = stats(true, 7, 12345, 5, 9000);
	char *j;

	s.too_big = 1;
	s.later = 2;
	s.broken = 1;
	s.deleted = 3;
	s.held = 1;   /* stored: counted in fetched, not skipped */
	r.started = 1700000000;   /* 2023-11-14T22:13:20Z */
	r.seconds = 2.5;
	r.exit_code = 77;
	report_add(&r, "ok", 0, "ignored: rc is 0", &s, 1.25, 1700000001);
	s = stats(false, 99, 99, 99, 99);   /* not learned: all null */
	report_add(&r, "bad \"one\"\n", 77, "login: -ERR [AUTH] "
	    "Authentication failed.", &s, 0.0004, 1700000002);
	j = report_json(&r);
	CHECK_STR(j, "{\"version\": 1, \"started\": \"2023-11-14T22:13:20Z\", "
	    "\"seconds\": 2.500, \"exit_code\": 77, \"accounts\": ["
	    "{\"name\": \"ok\", \"exit_code\": 0, \"error\": null, "
	    "\"server_messages\": 7, \"server_bytes\": 12345, \"fetched\": 5, "
	    "\"fetched_bytes\": 9000, \"skipped\": 4, \"deleted\": 3, "
	    "\"seconds\": 1.250}, "
	    "{\"name\": \"bad \\\"one\\\"\\u000a\", \"exit_code\": 77, "
	    "\"error\": \"login: -ERR [AUTH] Authentication failed.\", "
	    "\"server_messages\": null, \"server_bytes\": null, "
	    "\"fetched\": null, \"fetched_bytes\": null, \"skipped\": null, "
	    "\"deleted\": null, \"seconds\": 0.000}]}\n");
	free(j);
	report_free(&r);

	/* No account selected runs: an empty list. */
	r.started = 0;
	r.seconds = 0;
	r.exit_code = 0;
	j = report_json(&r);
	CHECK_STR(j, "{\"version\": 1, \"started\": \"1970-01-01T00:00:00Z\", "
	    "\"seconds\": 0.000, \"exit_code\": 0, \"accounts\": []}\n");
	free(j);
}

#define HT(m, help) "# HELP " m " " help "\n# TYPE " m " gauge\n"
#define H_RUN HT("popfetch_last_run_timestamp_seconds", \
	"When popfetch last ran the account (Unix time).")
#define H_SUCC HT("popfetch_last_success_timestamp_seconds", \
	"When a run of the account last succeeded (Unix time).")
#define H_DUR HT("popfetch_run_duration_seconds", \
	"Wall time of the account's last run.")
#define H_FET HT("popfetch_fetched_messages", \
	"Messages stored by the account's last run.")
#define H_FETB HT("popfetch_fetched_bytes", \
	"Octets (server sizes) of the messages stored by the last run.")
#define H_SRV HT("popfetch_server_messages", \
	"Messages on the server at the last run that read the list.")
#define H_EXIT HT("popfetch_exit_code", \
	"Exit code of the account's last run (0: success).")

static void
test_metrics(void)
{
	char *names[] = { "a", "b\"\\\n", "c", "d" };
	struct report_run r = { 0 };
	struct fetch_stats s = stats(true, 7, 100, 2, 50);
	char *m;

	/* First run, no previous file: a succeeds, b fails before LIST. */
	report_add(&r, "a", 0, NULL, &s, 1.5, 1000);
	s = stats(false, 0, 0, 0, 0);
	report_add(&r, names[1], 77, "login failed", &s, 0.25, 1001);
	m = report_metrics(&r, NULL, names, 4);
	CHECK_STR(m,
	    H_RUN
	    "popfetch_last_run_timestamp_seconds{account=\"a\"} 1000\n"
	    "popfetch_last_run_timestamp_seconds{account=\"b\\\"\\\\\\n\"} 1001\n"
	    H_SUCC
	    "popfetch_last_success_timestamp_seconds{account=\"a\"} 1000\n"
	    H_DUR
	    "popfetch_run_duration_seconds{account=\"a\"} 1.500\n"
	    "popfetch_run_duration_seconds{account=\"b\\\"\\\\\\n\"} 0.250\n"
	    H_FET
	    "popfetch_fetched_messages{account=\"a\"} 2\n"
	    H_FETB
	    "popfetch_fetched_bytes{account=\"a\"} 50\n"
	    H_SRV
	    "popfetch_server_messages{account=\"a\"} 7\n"
	    H_EXIT
	    "popfetch_exit_code{account=\"a\"} 0\n"
	    "popfetch_exit_code{account=\"b\\\"\\\\\\n\"} 77\n");

	/* That file as the previous one, and a tricky one after it. */
	report_free(&r);
	s = stats(false, 0, 0, 0, 0);
	report_add(&r, "a", 75, "timeout", &s, 3, 2000);
	char *again = report_metrics(&r, m, names, 4);
	CHECK_STR(again,
	    H_RUN
	    "popfetch_last_run_timestamp_seconds{account=\"a\"} 2000\n"
	    "popfetch_last_run_timestamp_seconds{account=\"b\\\"\\\\\\n\"} 1001\n"
	    H_SUCC
	    "popfetch_last_success_timestamp_seconds{account=\"a\"} 1000\n"
	    H_DUR
	    "popfetch_run_duration_seconds{account=\"a\"} 3.000\n"
	    "popfetch_run_duration_seconds{account=\"b\\\"\\\\\\n\"} 0.250\n"
	    H_FET H_FETB H_SRV
	    H_EXIT
	    "popfetch_exit_code{account=\"a\"} 75\n"
	    "popfetch_exit_code{account=\"b\\\"\\\\\\n\"} 77\n");
	free(again);
	free(m);

	const char *tricky =
	    "# HELP popfetch_last_success_timestamp_seconds x\n"
	    "popfetch_last_success_timestamp_seconds{account=\"a\"} 1e3\r\n"
	    "popfetch_last_success_timestamp_seconds{account=\"a\"} 5\n"
	    "popfetch_last_success_timestamp_seconds{account=\"c\",job=\"x\"} 6\n"
	    "popfetch_last_success_timestamp_seconds{account=\"c\"} NaN\n"
	    "popfetch_last_success_timestamp_seconds{account=\"c\"} 1;rm\n"
	    "popfetch_last_success_timestamp_seconds{account=\"c\"} 7 1700000000000\n"
	    "popfetch_exit_code{account=\"d\\\"} 3\n"
	    "popfetch_exit_code{account=\"d\\q\"} 3\n"
	    "popfetch_exit_code{account=\"d\"}3\n"
	    "popfetch_exit_code {account=\"d\"} 3\n"
	    "popfetch_exit_codes{account=\"d\"} 3\n"
	    "other_metric{account=\"d\"} 3\n"
	    "popfetch_exit_code{account=\"gone\"} 1\n"
	    "popfetch_server_messages{ account=\"d\", } 12\n"
	    "\n"
	    "popfetch_fetched_bytes{account=\"b\\\"\\\\\\n\"} 8";
	report_free(&r);
	s = stats(false, 0, 0, 0, 0);
	report_add(&r, "a", 69, "x", &s, 0, 3000);
	m = report_metrics(&r, tricky, names, 4);
	CHECK_STR(m,
	    H_RUN
	    "popfetch_last_run_timestamp_seconds{account=\"a\"} 3000\n"
	    H_SUCC
	    "popfetch_last_success_timestamp_seconds{account=\"a\"} 1e3\n"
	    "popfetch_last_success_timestamp_seconds{account=\"c\"} 7\n"
	    H_DUR
	    "popfetch_run_duration_seconds{account=\"a\"} 0.000\n"
	    H_FET
	    H_FETB
	    "popfetch_fetched_bytes{account=\"b\\\"\\\\\\n\"} 8\n"
	    H_SRV
	    "popfetch_server_messages{account=\"d\"} 12\n"
	    H_EXIT
	    "popfetch_exit_code{account=\"a\"} 69\n");
	free(m);

	/* A success replaces every carried sample of the account. */
	report_free(&r);
	s = stats(true, 0, 0, 0, 0);
	report_add(&r, "d", 0, NULL, &s, 0.001, 4000);
	m = report_metrics(&r, tricky, names + 3, 1);
	CHECK_STR(m,
	    H_RUN "popfetch_last_run_timestamp_seconds{account=\"d\"} 4000\n"
	    H_SUCC "popfetch_last_success_timestamp_seconds{account=\"d\"} 4000\n"
	    H_DUR "popfetch_run_duration_seconds{account=\"d\"} 0.001\n"
	    H_FET "popfetch_fetched_messages{account=\"d\"} 0\n"
	    H_FETB "popfetch_fetched_bytes{account=\"d\"} 0\n"
	    H_SRV "popfetch_server_messages{account=\"d\"} 0\n"
	    H_EXIT "popfetch_exit_code{account=\"d\"} 0\n");
	free(m);
	report_free(&r);

	/* Garbage as the previous file: as if there were none. */
	report_add(&r, "c", 0, NULL, &s, 0, 5);
	m = report_metrics(&r, "\x01\xff{}\"\\\n#\n popfetch_exit_code{", names + 2, 1);
	CHECK(m != NULL && strstr(m, "popfetch_exit_code{account=\"c\"} 0\n")
	    != NULL);
	free(m);
	report_free(&r);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_write(void)
{
	char dir[] = "/tmp/unit_report.XXXXXX", *path, *ro, *got;
	struct stat st;
	struct err e;
	ino_t ino;

	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/m.prom", dir);
	umask(077);
	CHECK(report_write_atomic(path, "one\n", 4, &e) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	ino = st.st_ino;
	got = report_read_file(path);
	CHECK_STR(got, "one\n");
	free(got);
	CHECK(chmod(path, 0640) == 0);
	CHECK(report_write_atomic(path, "two", 3, &e) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(st.st_ino != ino);
	got = report_read_file(path);
	CHECK_STR(got, "two");
	free(got);
	CHECK(count_entries(dir) == 1);

	/* A directory that does not exist, and a read-only one (unless we
	 * are root, who may write anyway). */
	ro = xasprintf("%s/nope/m.prom", dir);
	err_clear(&e);
	CHECK(report_write_atomic(ro, "x", 1, &e) == EX_CANTCREAT);
	CHECK(strstr(e.msg, ro) != NULL);
	free(ro);
	CHECK(report_read_file("/nonexistent/unit_report") == NULL);
	if (geteuid() != 0) {
		CHECK(chmod(dir, 0555) == 0);
		CHECK(report_write_atomic(path, "three", 5, &e) ==
		    EX_CANTCREAT);
		CHECK(chmod(dir, 0755) == 0);
		got = report_read_file(path);
		CHECK_STR(got, "two");
		free(got);
	}
	CHECK(count_entries(dir) == 1);
	unlink(path);
	rmdir(dir);
	free(path);
}

int
main(void)
{
	test_escaping();
	test_json();
	test_metrics();
	test_write();
	return unit_done("unit_report");
}
