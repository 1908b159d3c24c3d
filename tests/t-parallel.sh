#!/bin/bash
# t-parallel: -j N / --jobs N, several accounts fetched at once (one
# process each), against the private Dovecot and the fake server:
#   -j 4 over 6 accounts (Maildirs and mboxes, 46 messages each): every
#     store exact; --summary json lists the accounts in configuration
#     order; at -vv every line of stderr is whole ("popfetch: " at its
#     start, nothing glued to it);
#   two accounts fail with different codes, the first in configuration
#     order finishing last (its server delays the greeting): the exit
#     status is its code, each account's code is in the summary, the
#     others are stored fully; swapped in the file, the other code;
#   two accounts sharing one mbox never run at once: the first's server
#     delays its greeting, the mbox holds the first account's messages
#     and then the second's; a third account with its own store runs
#     meanwhile (the run ends well before the three delays add up);
#   4 accounts whose server delays each greeting 2 s: -j 4 ends in under
#     6 s (one after the other: at least 8);
#   an account whose lock another program holds is skipped silently,
#     the others fetched; -j 0 works;
#   a child killed (SIGKILL) is a failed account (70, the signal named);
#     SIGTERM to popfetch reaches the children and popfetch ends after
#     them, of SIGTERM;
#   on a terminal, one progress line per running account, each whole;
#   -j -1, -j x, --jobs=1x: exit 64, nothing fetched.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-parallel
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
mkdir -p "$T/gen"
msgs=()
for i in $(seq 1 40); do
	{
		printf 'From: Sender %d <s%d@example.org>\n' "$i" "$i"
		printf 'To: alice@example.net\nSubject: message %d\n' "$i"
		printf 'Message-ID: <par-%d@example.org>\n\n' "$i"
		for l in $(seq 1 $((i * 3))); do
			printf 'line %d of message %d\n' "$l" "$i"
		done
	} >"$T/gen/$i.eml"
	msgs+=("$T/gen/$i.eml")
done
msgs+=("$DATA"/plain[1-5].eml "$DATA/from-lines.eml")
dovecot_add_message "${msgs[@]}"

# Several fake servers at once: fake_up DIR ARGS... starts one (FAKE_PORT
# is its port), fakes_stop stops them all.
fakes=()
fake_up() {
	fakepop3_start "$@" || fail "cannot start the fake server"
	fakes+=("$FAKE_PID")
	FAKE_PID=
}
fakes_stop() {
	local p
	for p in ${fakes[@]+"${fakes[@]}"}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	fakes=()
}
t_on_exit fakes_stop

# times: seconds since the epoch, with fractions.
now() { date +%s.%N; }
# elapsed T0 T1: T1 - T0 in seconds ("1.23").
elapsed() { "$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
# lt A B: A < B (decimals).
lt() { "$PYTHON" -c 'import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))' "$1" "$2"; }

# ------------------------------------------------------------------ -j 4
note "-j 4 over 6 accounts, -vv --summary json"
{
	printf 'accounts:\n'
	popfetch_account name=m1 maildir="$T/s/m1"
	popfetch_account name=b2 mbox="$T/s/b2.mbox"
	popfetch_account name=m3 maildir="$T/s/m3"
	popfetch_account name=b4 mbox="$T/s/b4.mbox"
	popfetch_account name=m5 maildir="$T/s/m5"
	popfetch_account name=m6 maildir="$T/s/m6"
} | config_write "$T/all.yaml"
run_popfetch -c "$T/all.yaml" -j 4 -vv --summary json
expect_rc 0 "-j 4"
for a in m1 m3 m5 m6; do
	assert_maildir_matches "$T/s/$a" "${msgs[@]}"
done
assert_mbox_matches "$T/s/b2.mbox" "${msgs[@]}"
assert_mbox_matches "$T/s/b4.mbox" "${msgs[@]}"
# Every line whole: each starts with "popfetch: NAME: " (a known account)
# and no other "popfetch: " appears inside a line.
"$PYTHON" - "$T/err" <<'EOF' || fail "stderr of -j 4 -vv: lines not whole"
import re, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "stderr does not end with a newline"
lines = data.split(b"\n")[:-1]
names = set()
bad = 0
for l in lines:
    m = re.match(rb"popfetch: (m1|b2|m3|b4|m5|m6): ", l)
    if not m or l.find(b"popfetch: ", 1) >= 0:
        print("not a whole line: %r" % l[:200], file=sys.stderr)
        bad += 1
    else:
        names.add(m.group(1))
if len(lines) < 6 * 46:
    print("only %d lines at -vv" % len(lines), file=sys.stderr)
    bad += 1
if len(names) != 6:
    print("accounts seen: %r" % names, file=sys.stderr)
    bad += 1
print("%d lines checked" % len(lines), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
"$PYTHON" - "$T/out" <<'EOF' || fail "--summary json of -j 4"
import json, sys
j = json.load(open(sys.argv[1]))
names = [a["name"] for a in j["accounts"]]
assert names == ["m1", "b2", "m3", "b4", "m5", "m6"], names
for a in j["accounts"]:
    assert a["exit_code"] == 0 and a["error"] is None, a
    assert a["fetched"] == 46 and a["server_messages"] == 46, a
assert j["exit_code"] == 0, j
EOF

note "-j 4 again: nothing new, silent"
run_popfetch -c "$T/all.yaml" -j 4
expect_rc 0 "-j 4, nothing new"
expect_silent "-j 4, nothing new"

# ------------------------------------------------- failures and exit codes
note "two failures: the exit status is the first failed in configuration order"
fake_up "$T/fslow" --messages "$T/gen" --delay-greeting 2 --timeout 60
slow_port=$FAKE_PORT
refused=$(pick_port)
# fails: ORDER ("slow-first" or "fast-first") FILE
fails() {
	{
		printf 'accounts:\n'
		popfetch_account name=g1 maildir="$T/f/$1/g1"
		if [ "$1" = slow-first ]; then
			popfetch_account name=slowbad port="$slow_port" \
				password=wrong-password maildir="$T/f/$1/sb"
			popfetch_account name=g2 mbox="$T/f/$1/g2.mbox"
			popfetch_account name=fastbad port="$refused" maildir="$T/f/$1/fb"
		else
			popfetch_account name=fastbad port="$refused" maildir="$T/f/$1/fb"
			popfetch_account name=g2 mbox="$T/f/$1/g2.mbox"
			popfetch_account name=slowbad port="$slow_port" \
				password=wrong-password maildir="$T/f/$1/sb"
		fi
		popfetch_account name=g3 maildir="$T/f/$1/g3"
	} | config_write "$2"
}
fails slow-first "$T/f1.yaml"
fails fast-first "$T/f2.yaml"
run_popfetch -c "$T/f1.yaml" -j 4 --summary json
expect_rc 77 "slowbad (77) before fastbad (75) in the file"
assert_maildir_matches "$T/f/slow-first/g1" "${msgs[@]}"
assert_mbox_matches "$T/f/slow-first/g2.mbox" "${msgs[@]}"
assert_maildir_matches "$T/f/slow-first/g3" "${msgs[@]}"
assert_eq 2 "$(wc -l <"$T/err")" "stderr lines (one per failed account)"
# fastbad finished first: its line came first.
assert_grep '^popfetch: fastbad: ' <(head -1 "$T/err") "the first error line"
assert_grep '^popfetch: slowbad: .*(login|AUTH|password)' <(tail -1 "$T/err") "the second error line"
"$PYTHON" - "$T/out" <<'EOF' || fail "--summary json with two failures"
import json, sys
j = json.load(open(sys.argv[1]))
got = [(a["name"], a["exit_code"]) for a in j["accounts"]]
want = [("g1", 0), ("slowbad", 77), ("g2", 0), ("fastbad", 75), ("g3", 0)]
assert got == want, got
for a in j["accounts"]:
    if a["exit_code"]:
        assert a["error"] and a["fetched"] is None, a
    else:
        assert a["error"] is None and a["fetched"] == 46, a
assert j["exit_code"] == 77, j["exit_code"]
EOF
run_popfetch -c "$T/f2.yaml" -j 4
expect_rc 75 "fastbad (75) before slowbad (77) in the file"
assert_maildir_matches "$T/f/fast-first/g1" "${msgs[@]}"
assert_mbox_matches "$T/f/fast-first/g2.mbox" "${msgs[@]}"
assert_maildir_matches "$T/f/fast-first/g3" "${msgs[@]}"
fakes_stop

# ------------------------------------------------------- one shared mbox
note "two accounts on one mbox run one after the other; a third meanwhile"
mkdir -p "$T/ma" "$T/mb"
for i in 1 2 3; do cp "$DATA/plain$i.eml" "$T/ma/$i"; done
for i in 4 5; do cp "$DATA/plain$i.eml" "$T/mb/$i"; done
cp "$DATA/from-lines.eml" "$T/mb/6"
fake_up "$T/fa" --messages "$T/ma" --delay-greeting 3 --timeout 60
pa=$FAKE_PORT
fake_up "$T/fb" --messages "$T/mb" --timeout 60
pb=$FAKE_PORT
fake_up "$T/fc" --messages "$T/ma" --delay-greeting 3 --timeout 60
pc=$FAKE_PORT
{
	printf 'accounts:\n'
	popfetch_account name=first port="$pa" mbox="$T/shared/mbox"
	# The same mbox by another spelling (a symlink to its directory).
	popfetch_account name=second port="$pb" mbox="$T/link/mbox"
	popfetch_account name=third port="$pc" maildir="$T/third"
} | config_write "$T/shared.yaml"
mkdir -p "$T/shared"
ln -s shared "$T/link"
t0=$(now)
run_popfetch -c "$T/shared.yaml" -j 2
t1=$(now)
expect_rc 0 "shared mbox"
# first's server answers 3 s late: had second run at the same time, its
# messages would be first in the mbox.
assert_mbox_matches "$T/shared/mbox" "$T/ma/1" "$T/ma/2" "$T/ma/3" \
	"$T/mb/4" "$T/mb/5" "$T/mb/6"
assert_maildir_matches "$T/third" "$T/ma/1" "$T/ma/2" "$T/ma/3"
# second waited for first; third did not wait for second: about 3 s, not 6.
lt "$(elapsed "$t0" "$t1")" 5.5 ||
	fail "shared mbox: took $(elapsed "$t0" "$t1") s; third waited behind second"
fakes_stop

# ------------------------------------------------------------ concurrency
note "4 accounts, each greeting delayed 2 s: -j 4 in well under 8 s"
# One server each: the fake server lets one session at a time into its
# mailbox.
dports=()
for i in 1 2 3 4; do
	fake_up "$T/fd$i" --messages "$T/ma" --delay-greeting 2 --timeout 60
	dports+=("$FAKE_PORT")
done
{
	printf 'accounts:\n'
	for i in 1 2 3 4; do
		popfetch_account name=d$i port="${dports[$((i - 1))]}" maildir="$T/d/$i"
	done
} | config_write "$T/delay.yaml"
t0=$(now)
run_popfetch -c "$T/delay.yaml" -j 4
t1=$(now)
expect_rc 0 "-j 4, delayed greetings"
expect_silent "-j 4, delayed greetings"
for i in 1 2 3 4; do
	assert_maildir_matches "$T/d/$i" "$T/ma/1" "$T/ma/2" "$T/ma/3"
done
note "took $(elapsed "$t0" "$t1") s"
lt "$(elapsed "$t0" "$t1")" 6 || fail "-j 4: $(elapsed "$t0" "$t1") s, not at once"

# ---------------------------------------------------------- killed, SIGTERM
# start_bg CONFIG: popfetch -j 2 in the background (no wrapper: the
# children must be popfetch's own); waits until it has 2 children.
start_bg() {
	"$POPFETCH" -c "$1" -j 2 >"$T/bg.out" 2>"$T/bg.err" </dev/null &
	bg=$!
	local i
	for i in $(seq 100); do
		kids=($(pgrep -P "$bg" || true))
		[ "${#kids[@]}" -ge 2 ] && return 0
		sleep 0.05
	done
	fail "popfetch -j 2 did not start 2 processes"
}
{
	printf 'accounts:\n'
	popfetch_account name=k1 port="${dports[0]}" maildir="$T/k/1"
	popfetch_account name=k2 port="${dports[1]}" maildir="$T/k/2"
} | config_write "$T/kill.yaml"
note "a child killed: a failed account, the signal named"
start_bg "$T/kill.yaml"
kill -KILL "${kids[0]}"
rc=0
wait "$bg" || rc=$?
cat "$T/bg.err" >&2
assert_eq 70 "$rc" "exit status with a child killed"
assert_eq 1 "$(wc -l <"$T/bg.err")" "stderr lines"
assert_grep '^popfetch: k[12]: .*signal 9' "$T/bg.err" "the killed account's error"
n1=$(maildir_count "$T/k/1") n2=$(maildir_count "$T/k/2")
[ "$((n1 + n2))" = 3 ] || fail "killed: expected one account stored (3), got $n1 + $n2"

note "SIGTERM to popfetch: the children end, then popfetch, of SIGTERM"
start_bg "$T/kill.yaml"
kill -TERM "$bg"
rc=0
wait "$bg" || rc=$?
assert_eq 143 "$rc" "exit status after SIGTERM"
for k in "${kids[@]}"; do
	if kill -0 "$k" 2>/dev/null; then
		fail "child $k still there after popfetch ended"
	fi
done
fakes_stop

# ------------------------------------------------------------ lock, -j 0
note "an account locked by another program: skipped silently, -j 3"
key=$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/s/m3")
dovecot_add_message "$DATA/utf8.eml"
msgs+=("$DATA/utf8.eml")
lock_hold "$T/state/$key.lock"
run_popfetch -c "$T/all.yaml" -j 3
expect_rc 0 "-j 3, m3 locked"
expect_silent "-j 3, m3 locked"
assert_eq 46 "$(maildir_count "$T/s/m3")" "messages in the locked account's store"
for a in m1 m5 m6; do
	assert_maildir_matches "$T/s/$a" "${msgs[@]}"
done
assert_mbox_matches "$T/s/b4.mbox" "${msgs[@]}"
lock_release

note "-j 0: one per CPU"
run_popfetch -c "$T/all.yaml" -j 0
expect_rc 0 "-j 0"
expect_silent "-j 0"
assert_maildir_matches "$T/s/m3" "${msgs[@]}"

# ------------------------------------------------------------- bad values
for bad in "-j -1" "-j x" "--jobs=1x" "--jobs=" "-j 99999999999999999999"; do
	note "$bad"
	# shellcheck disable=SC2086
	run_popfetch -c "$T/all.yaml" $bad
	expect_rc 64 "$bad"
	assert_lines 1 "$T/err" "stderr of $bad"
	assert_grep '^popfetch: (-j|--jobs)' "$T/err" "the error of $bad"
	assert_empty "$T/out" "stdout of $bad"
done

# ------------------------------------------------------------- progress
if command -v script >/dev/null 2>&1; then
	note "on a terminal: a line per running account"
	mkdir -p "$T/pm"
	make_big_message "$T/pm/1" $((3 * 1024 * 1024))
	cp "$DATA/plain1.eml" "$T/pm/2"
	printf '{"faults": [{"on": "RETR 1", "action": "cut", "bytes": 1000000, "then": "continue", "seconds": 2}]}\n' >"$T/slow.json"
	fake_up "$T/fp1" --messages "$T/pm" --scenario "$T/slow.json" --timeout 60
	p1=$FAKE_PORT
	fake_up "$T/fp2" --messages "$T/pm" --scenario "$T/slow.json" --timeout 60
	{
		printf 'accounts:\n'
		popfetch_account name=pone port="$p1" maildir="$T/p/1"
		popfetch_account name=ptwo port="$FAKE_PORT" maildir="$T/p/2"
	} | config_write "$T/prog.yaml"
	script -qec "$POPFETCH -c $T/prog.yaml -j 2" /dev/null >"$T/tty.out" 2>&1 </dev/null ||
		fail "popfetch -j 2 on a terminal: exit $?"
	assert_maildir_matches "$T/p/1" "$T/pm/1" "$T/pm/2"
	assert_maildir_matches "$T/p/2" "$T/pm/1" "$T/pm/2"
	"$PYTHON" - "$T/tty.out" <<'EOF' || fail "progress lines of -j 2"
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
pat = re.compile(r"^(pone|ptwo): (\d+)/2 messages, [0-9.]+ [KMG]?B/[0-9.]+ [KMG]?B(, [0-9.]+ [KMG]?B/s, \d+:\d\d left)?$")
ok = True
# Every piece between the controls is a whole progress line.
frags = [f for f in re.split(r"\r|\n|\x1b\[K|\x1b\[A", data) if f.strip()]
for f in frags:
    if not pat.match(f):
        print("garbled: %r" % f, file=sys.stderr)
        ok = False
seen = {m.group(1) for m in map(pat.match, frags) if m}
if seen != {"pone", "ptwo"}:
    print("accounts with a line: %r" % seen, file=sys.stderr)
    ok = False
# Both lines on the screen at once: one drawn below the other.
if not re.search(r"(pone|ptwo): [^\r\n\x1b]*\x1b\[K\r?\n(?!\1)(pone|ptwo): ", data):
    print("never two lines at once", file=sys.stderr)
    ok = False
# A terminal's view at the end: every line cleared.
rows, r, c = [""], 0, 0
i = 0
while i < len(data):
    if data.startswith("\x1b[K", i):
        rows[r] = rows[r][:c]; i += 3; continue
    if data.startswith("\x1b[A", i):
        r = max(0, r - 1); i += 3; continue
    ch = data[i]; i += 1
    if ch == "\r":
        c = 0
    elif ch == "\n":
        r += 1; c = 0
        if r == len(rows):
            rows.append("")
    else:
        rows[r] = rows[r][:c].ljust(c) + ch + rows[r][c + 1:]
        c += 1
left = [x for x in rows if x.strip()]
if left:
    print("left on the screen: %r" % left, file=sys.stderr)
    ok = False
print("%d progress renders" % len(frags), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
	fakes_stop
fi
exit 0
