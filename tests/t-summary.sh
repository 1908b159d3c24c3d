#!/bin/bash
# t-summary: --summary json, --summary-file and --metrics-file against the
# private Dovecot, with one account that succeeds (keep: false, max_size
# leaving a 2 MB message there) and one that fails (wrong password, 77):
#   stdout is one JSON object and nothing else (-v lines go to stderr);
#     every field compared with the server (poplib's LIST), the store,
#     the exit codes and the error line popfetch printed; nulls for the
#     failing account's counts; the summary file holds the same bytes,
#     mode 0644 when new, its mode kept when it existed;
#   the metrics file parsed line by line: every HELP and TYPE once, each
#     sample's value exact; replaced atomically (new inode, no temporary
#     file left); a later run where the good account fails carries its
#     last success over, and the account not selected (-a) keeps its
#     samples as they were;
#   an unwritable --summary-file: exit 73, reported once, stdout's JSON
#     says 73; --summary with --status and --summary xml: usage errors.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-summary
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"

make_big_message "$T/big.eml" $((2 * 1024 * 1024))
dovecot_add_message "$DATA"/plain[1-3].eml "$T/big.eml" "$DATA/utf8.eml" \
	"$DATA/plain4.eml"
pop3_reference "$T/ref" || fail "poplib reference download failed"

# good, bad and idle (never selected); run2.yaml: the same accounts, good's
# password wrong too.
write_config() {
	{
		printf 'accounts:\n'
		popfetch_account name=good keep=false max_size=1M \
			maildir="$T/good/Maildir" state_dir="$T/good/state" \
			${1:+password="$1"}
		popfetch_account name=bad password='not-the-password' \
			maildir="$T/bad/Maildir" state_dir="$T/bad/state"
		popfetch_account name=idle maildir="$T/idle/Maildir" \
			state_dir="$T/idle/state"
	} | config_write "$2"
}
write_config "" "$T/run1.yaml"
write_config "wrong-password" "$T/run2.yaml"

mkdir -p "$T/rep"
note "run 1: good succeeds, bad fails; JSON on stdout, summary and metrics files"
t0=$(date +%s)
run_popfetch -c "$T/run1.yaml" -a good -a bad -v --summary json \
	--summary-file "$T/rep/summary.json" --metrics-file "$T/rep/metrics.prom"
t1=$(date +%s)
expect_rc 77 "run 1"
assert_grep '^popfetch: good: 6 messages on server, 5 stored, 5 deleted, 1 over max_size left there$' \
	"$T/err" "the -v line on stderr"
# The error line: bad's line that is not -v's tally.
errline=$(grep '^popfetch: bad: ' "$T/err" | grep -v -e ' messages on server, ' \
	-e "failed before the server's list was read")
assert_eq 1 "$(printf '%s\n' "$errline" | wc -l)" "bad's error lines"
bad_error=${errline#popfetch: bad: }
assert_eq 5 "$(maildir_count "$T/good/Maildir")" "messages stored"
assert_eq 1 "$(dovecot_count)" "messages left on the server"
cmp -s "$T/out" "$T/rep/summary.json" || fail "the summary file differs from stdout"
assert_eq 644 "$(stat -c %a "$T/rep/summary.json")" "a new summary file's mode"

"$PYTHON" - "$T/out" "$T/ref/list" "$T/good/Maildir" "$bad_error" "$t0" "$t1" <<'EOF' || fail "JSON summary of run 1"
import datetime, json, os, sys
out, listf, md, bad_error, t0, t1 = sys.argv[1:7]
t0, t1 = int(t0), int(t1)
text = open(out, "rb").read().decode("utf-8")
assert text.endswith("\n") and text.count("\n") == 1, "one line: %r" % text
j = json.loads(text)   # the whole of stdout: nothing else in it
sizes = [int(l.split()[1]) for l in open(listf)]
big = [s for s in sizes if s > 1024 * 1024]
assert len(sizes) == 6 and len(big) == 1, sizes
stored = 0
for sub in ("new", "cur"):
    stored += len(os.listdir(os.path.join(md, sub)))
def check(what, got, want):
    if got != want or type(got) != type(want):
        sys.exit("%s: expected %r, got %r" % (what, want, got))
check("keys", list(j), ["version", "started", "seconds", "exit_code", "accounts"])
check("version", j["version"], 1)
check("exit_code", j["exit_code"], 77)
started = datetime.datetime.strptime(j["started"], "%Y-%m-%dT%H:%M:%SZ")
started = int(started.replace(tzinfo=datetime.timezone.utc).timestamp())
assert t0 <= started <= t1, ("started", j["started"], t0, t1)
assert isinstance(j["seconds"], float) and 0 <= j["seconds"] <= t1 - t0 + 1, j["seconds"]
check("names", [a["name"] for a in j["accounts"]], ["good", "bad"])
good, bad = j["accounts"]
keys = ["name", "exit_code", "error", "server_messages", "server_bytes",
        "fetched", "fetched_bytes", "skipped", "deleted", "seconds"]
for a in (good, bad):
    check("account keys", list(a), keys)
    assert isinstance(a["seconds"], float) and 0 <= a["seconds"] <= j["seconds"], a
want_good = {"name": "good", "exit_code": 0, "error": None,
             "server_messages": 6, "server_bytes": sum(sizes),
             "fetched": stored, "fetched_bytes": sum(sizes) - big[0],
             "skipped": 1, "deleted": 5}
want_bad = {"name": "bad", "exit_code": 77, "error": bad_error,
            "server_messages": None, "server_bytes": None, "fetched": None,
            "fetched_bytes": None, "skipped": None, "deleted": None}
check("stored", stored, 5)
for a, want in ((good, want_good), (bad, want_bad)):
    for k, v in want.items():
        check("%s.%s" % (a["name"], k), a[k], v)
assert bad_error.startswith("login"), bad_error
EOF

# check_metrics FILE EXPECTED: FILE parsed line by line; every metric has
# its HELP and TYPE gauge once, before its samples; EXPECTED lists the
# samples as "metric account value" lines (value "T0-T1" for a
# timestamp in that range, "ANY" for a duration), in the file's order.
check_metrics() {
	"$PYTHON" - "$1" "$2" <<'EOF' || fail "metrics file $1"
import re, sys
path, expected = sys.argv[1], sys.argv[2]
names = ["popfetch_last_run_timestamp_seconds",
         "popfetch_last_success_timestamp_seconds",
         "popfetch_run_duration_seconds", "popfetch_fetched_messages",
         "popfetch_fetched_bytes", "popfetch_server_messages",
         "popfetch_exit_code"]
helps, types, samples, seen = {}, {}, [], []
for line in open(path, encoding="utf-8").read().split("\n")[:-1]:
    m = re.fullmatch(r"# HELP (\w+) (.+)", line)
    if m:
        helps[m[1]] = helps.get(m[1], 0) + 1
        seen.append(m[1])
        continue
    m = re.fullmatch(r"# TYPE (\w+) gauge", line)
    if m:
        types[m[1]] = types.get(m[1], 0) + 1
        assert seen and seen[-1] == m[1], "TYPE %s after its HELP" % m[1]
        continue
    m = re.fullmatch(r'(\w+)\{account="([^"\\]*)"\} (\S+)', line)
    assert m, "line %r" % line
    assert m[1] == seen[-1], "sample %r under its HELP" % line
    samples.append((m[1], m[2], m[3]))
assert sorted(helps) == sorted(names) and set(helps.values()) == {1}, helps
assert sorted(types) == sorted(names) and set(types.values()) == {1}, types
assert seen == names, seen
want = [l.split() for l in expected.strip().split("\n")]
assert len(want) == len(samples), (want, samples)
for (wm, wa, wv), (gm, ga, gv) in zip(want, samples):
    assert (wm, wa) == (gm, ga), ((wm, wa), (gm, ga))
    if wv == "ANY":
        assert float(gv) >= 0, gv
    elif "-" in wv:
        lo, hi = map(int, wv.split("-"))
        assert lo <= int(gv) <= hi, (gm, ga, gv, wv)
    else:
        assert gv == wv, (gm, ga, gv, wv)
EOF
}

# sample FILE METRIC ACCOUNT: the value of one sample.
sample() {
	sed -n "s/^$2{account=\"$3\"} //p" "$1"
}

note "run 1's metrics"
m=$T/rep/metrics.prom
good_bytes=$(awk '$2 <= 1048576 {s += $2} END {print s}' "$T/ref/list")
check_metrics "$m" "
popfetch_last_run_timestamp_seconds good $t0-$t1
popfetch_last_run_timestamp_seconds bad $t0-$t1
popfetch_last_success_timestamp_seconds good $t0-$t1
popfetch_run_duration_seconds good ANY
popfetch_run_duration_seconds bad ANY
popfetch_fetched_messages good 5
popfetch_fetched_bytes good $good_bytes
popfetch_server_messages good 6
popfetch_exit_code good 0
popfetch_exit_code bad 77"
assert_eq "$(sample "$m" popfetch_last_run_timestamp_seconds good)" \
	"$(sample "$m" popfetch_last_success_timestamp_seconds good)" "good's last run and last success"
assert_eq 644 "$(stat -c %a "$m")" "a new metrics file's mode"
assert_eq "metrics.prom summary.json" "$(ls -A "$T/rep" | tr '\n' ' ' | sed 's/ $//')" \
	"files in the report directory"
good_success=$(sample "$m" popfetch_last_success_timestamp_seconds good)
bad_lines=$(grep 'account="bad"' "$m")

note "run 2: good fails; its last success is carried over, bad (not selected) keeps its samples"
chmod 600 "$m"
ino=$(stat -c %i "$m")
sleep 1.1   # a new timestamp for good's last run
t2=$(date +%s)
run_popfetch -c "$T/run2.yaml" -a good --metrics-file "$m"
t3=$(date +%s)
expect_rc 77 "run 2"
assert_eq "" "$(cat "$T/out")" "stdout without --summary"
check_metrics "$m" "
popfetch_last_run_timestamp_seconds good $t2-$t3
popfetch_last_run_timestamp_seconds bad $t0-$t1
popfetch_last_success_timestamp_seconds good $good_success
popfetch_run_duration_seconds good ANY
popfetch_run_duration_seconds bad ANY
popfetch_exit_code good 77
popfetch_exit_code bad 77"
assert_eq "$bad_lines" "$(grep 'account="bad"' "$m")" "bad's samples carried over"
[ "$(stat -c %i "$m")" != "$ino" ] || fail "the metrics file was rewritten in place"
assert_eq 600 "$(stat -c %a "$m")" "the metrics file's mode kept"
assert_eq "metrics.prom summary.json" "$(ls -A "$T/rep" | tr '\n' ' ' | sed 's/ $//')" \
	"files in the report directory after run 2"

note "run 3: good succeeds again; an unwritable --summary-file is exit 73, said once"
run_popfetch -c "$T/run1.yaml" -a good --summary json \
	--summary-file "$T/missing/dir/summary.json" --metrics-file "$m"
expect_rc 73 "unwritable summary file"
assert_eq 1 "$(wc -l <"$T/err")" "stderr lines"
assert_grep "^popfetch: --summary-file: cannot create a temporary file beside $T/missing/dir/summary.json: No such file or directory\$" "$T/err"
"$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["exit_code"] == 73, j
a, = j["accounts"]
assert (a["name"], a["exit_code"], a["error"], a["server_messages"],
        a["fetched"], a["skipped"], a["deleted"]) == ("good", 0, None, 1, 0, 1, 0), a
' "$T/out" || fail "JSON of run 3"
assert_eq 0 "$(sample "$m" popfetch_exit_code good)" "good's exit code in run 3"
[ "$(sample "$m" popfetch_last_success_timestamp_seconds good)" -gt "$good_success" ] ||
	fail "good's last success not renewed"

note "usage errors"
run_popfetch -c "$T/run1.yaml" --summary json --status
expect_rc 64 "--summary with --status"
run_popfetch -c "$T/run1.yaml" --summary xml
expect_rc 64 "--summary xml"
assert_grep '^popfetch: --summary: unknown format "xml"' "$T/err"
assert_eq "" "$(cat "$T/out")" "stdout of a usage error"
