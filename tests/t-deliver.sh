#!/bin/bash
# t-deliver: deliver_command, the third store.  Each message of the
# private Dovecot is piped to a script that files it (LF line ends, no
# From_ line: byte-exact against the originals) and logs the environment
# popfetch gives it.  Exit 75 leaves one message on the server for the
# next run while the rest are deleted; exit 1 fails the account with the
# script's last stderr line and deletes nothing; a hanging command is
# killed at deliver_timeout with its whole process group; popfetch killed
# -9 while the command runs loses nothing and delivers at most that one
# message twice.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-deliver
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA"/plain[1-5].eml "$DATA/from-lines.eml" "$DATA/dots.eml")
dovecot_add_message "${msgs[@]}"
n=${#msgs[@]}
assert_eq "$n" "$(dovecot_count)" "messages on the server"
pop3_reference "$T/ref" || fail "poplib reference download failed"

# The delivery script: files the message in $OUT/new (tmp/ first), logs
# "ACCOUNT UIDL SIZE" and obeys control files in $CTL: "tempfail" /
# "fail" / "hang" / "stall" hold a line; the message containing it exits
# 75, exits 1, sleeps (never ending), or waits for $CTL/release after it
# is filed.
OUT=$T/out-md CTL=$T/ctl
mkdir -p "$OUT/tmp" "$OUT/new" "$OUT/cur" "$CTL"
cat >"$T/deliver.sh" <<EOF
#!/bin/bash
tmp=\$(mktemp "$OUT/tmp/m.XXXXXX") || exit 74
cat >"\$tmp" || exit 74
for what in tempfail fail hang; do
	if [ -s "$CTL/\$what" ] && grep -qF -f "$CTL/\$what" "\$tmp"; then
		rm -f "\$tmp"
		case \$what in
		tempfail) echo "mailbox busy, try later" >&2; exit 75 ;;
		fail) echo "first line of noise" >&2
		      echo "deliver: quota exceeded for alice" >&2; exit 1 ;;
		hang) echo \$\$ >"$CTL/hang.pid"; sleep 300 & echo \$! >"$CTL/child.pid"; wait; exit 0 ;;
		esac
	fi
done
printf '%s %s %s\n' "\$POPFETCH_ACCOUNT" "\$POPFETCH_UIDL" "\$POPFETCH_SIZE" >>"$CTL/env.log"
mv "\$tmp" "$OUT/new/\${tmp##*/}" || exit 74
if [ -s "$CTL/stall" ] && grep -qF -f "$CTL/stall" "$OUT/new/\${tmp##*/}"; then
	: >"$CTL/inside"
	for i in \$(seq 200); do [ -e "$CTL/release" ] && break; sleep 0.1; done
fi
exit 0
EOF
chmod +x "$T/deliver.sh"

config() {
	popfetch_config "$T/config.yaml" maildir=- \
		"deliver_command:=[$(yaml_str "$T/deliver.sh")]" "$@"
}
subject_of() { sed -n 's/^Subject: //p' "$1" | head -n 1; }

note "keep: every message piped once, byte-exact, with its environment"
config
run_popfetch -c "$T/config.yaml"
expect_rc 0 "first run"
expect_silent "first run"
assert_maildir_matches "$OUT" "${msgs[@]}"
# The environment: the account, each UIDL and LIST size as the server
# gives them (the reference client's listing), once each.
"$PYTHON" - "$T/ref" "$CTL/env.log" <<'EOF' || fail "environment of the command"
import sys
ref, log = sys.argv[1:3]
sizes = dict(l.split() for l in open(ref + "/list"))
uidls = dict(l.split() for l in open(ref + "/uidl"))
want = sorted("test %s %s" % (uidls[k], sizes[k]) for k in sizes)
got = sorted(l.rstrip("\n") for l in open(log))
if got != want:
    print("want %r\ngot  %r" % (want, got), file=sys.stderr)
    sys.exit(1)
EOF
run_popfetch -c "$T/config.yaml"
expect_rc 0 "second run"
expect_silent "second run"
assert_eq "$n" "$(maildir_count "$OUT")" "messages delivered after a second run"

note "keep: false, exit 75 for one message: it stays, the rest are deleted"
rm -rf "$OUT"/new/* "$CTL/env.log" "$T/state"
subject_of "$DATA/plain3.eml" >"$CTL/tempfail"
config keep=false
run_popfetch -c "$T/config.yaml"
expect_rc 0 "run with one message declined"
assert_has "exited with status 75 (try again later): mailbox busy, try later; left on the server for the next run" "$T/err" "the warning"
assert_eq 1 "$(grep -c 'left on the server' "$T/err")" "warnings"
others=("${msgs[@]}")
unset 'others[2]'
assert_maildir_matches "$OUT" "${others[@]}"
assert_eq 1 "$(dovecot_count)" "messages left on the server"
rm -f "$CTL/tempfail"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the next run"
expect_silent "the next run"
assert_maildir_matches "$OUT" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages left on the server after the next run"

note "exit 1: the account fails with the last stderr line; nothing deleted"
rm -rf "$OUT"/new/* "$T/state"
dovecot_add_message "${msgs[@]}"
subject_of "$DATA/plain3.eml" >"$CTL/fail"
run_popfetch -c "$T/config.yaml"
expect_rc 69 "run with a failing command"
assert_has "deliver_command ($T/deliver.sh) exited with status 1: deliver: quota exceeded for alice" "$T/err" "the error"
assert_no_grep "first line of noise" "$T/err" "only the last line"
assert_maildir_matches "$OUT" "${msgs[@]:0:2}"
assert_eq "$n" "$(dovecot_count)" "messages on the server (no QUIT, no deletion)"
rm -f "$CTL/fail"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the run after the failure"
expect_silent "the run after the failure"
assert_maildir_matches "$OUT" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages on the server after the rerun"

note "a command that hangs is killed at deliver_timeout, with its children"
rm -rf "$OUT"/new/* "$T/state"
dovecot_add_message "${msgs[@]}"
subject_of "$DATA/plain2.eml" >"$CTL/hang"
config keep=false deliver_timeout=1s
start=$(date +%s)
run_popfetch -c "$T/config.yaml"
took=$(($(date +%s) - start))
expect_rc 75 "run with a hanging command"
assert_has "deliver_command ($T/deliver.sh) killed after 1s" "$T/err" "the error"
[ "$took" -lt 20 ] || fail "the run took ${took}s"
for f in hang.pid child.pid; do
	pid=$(cat "$CTL/$f") || fail "no $f"
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		fail "process $pid ($f) outlived the timeout"
	fi
done
assert_maildir_matches "$OUT" "$DATA/plain1.eml"
assert_eq "$n" "$(dovecot_count)" "messages on the server"
rm -f "$CTL/hang"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the run after the hang"
assert_maildir_matches "$OUT" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages on the server after the rerun"

note "popfetch killed -9 while the command runs: at most that one twice"
rm -rf "$OUT"/new/* "$T/state" "$CTL/inside" "$CTL/release"
dovecot_add_message "${msgs[@]}"
subject_of "$DATA/plain4.eml" >"$CTL/stall"
config keep=false
"$POPFETCH" -c "$T/config.yaml" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
bg=$!
for i in $(seq 300); do [ -e "$CTL/inside" ] && break; sleep 0.1; done
[ -e "$CTL/inside" ] || fail "the command never reached the stalled message"
kill -9 "$bg"
wait "$bg" 2>/dev/null
: >"$CTL/release"
for i in $(seq 100); do pgrep -f "$T/deliver.sh" >/dev/null || break; sleep 0.1; done
rm -f "$CTL/stall"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the run after kill -9"
assert_eq 0 "$(dovecot_count)" "messages on the server after the rerun"
# The one message the command accepted as popfetch died was never
# journalled: delivered again, the only one twice.
assert_maildir_matches "$OUT" "${msgs[@]}" "$DATA/plain4.eml"

note "popfetch killed while a message downloads: the command never sees it"
mkdir -p "$T/fmsgs"
cp "$DATA/plain1.eml" "$DATA/plain2.eml" "$T/fmsgs/"
printf '{"faults": [{"on": "RETR 2", "action": "cut", "bytes": 100, "then": "stall", "seconds": 60}]}\n' >"$T/stall.json"
for sig in KILL QUIT; do
	rm -rf "$OUT"/new/* "$T/fstate" "$CTL/env.log" "$CTL/stall"
	fakepop3_start "$T/fake-$sig" -v --messages "$T/fmsgs" \
		--scenario "$T/stall.json" --timeout 120 || fail "cannot start the fake server"
	popfetch_config "$T/f.yaml" port="$FAKE_PORT" maildir=- \
		state_dir="$T/fstate" timeout=60s keep=false \
		"deliver_command:=[$(yaml_str "$T/deliver.sh")]"
	(ulimit -c 0; exec "$POPFETCH" -c "$T/f.yaml" >"$T/bg.out" 2>"$T/bg.err" </dev/null) &
	bg=$!
	for i in $(seq 200); do grep -q '^RETR 2' "$FAKE_LOG" 2>/dev/null && break; sleep 0.05; done
	grep -q '^RETR 2' "$FAKE_LOG" || fail "SIG$sig: popfetch never asked for message 2"
	sleep 0.5   # 100 bytes of it are in, the rest never comes
	kill -"$sig" "$bg"
	wait "$bg" 2>/dev/null
	sleep 0.5
	assert_eq 1 "$(wc -l <"$CTL/env.log")" "SIG$sig: commands run (message 1 only)"
	assert_maildir_matches "$OUT" "$DATA/plain1.eml"
	kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
	# The same port: the journal is the mailbox's (host, port, user).
	fakepop3_start "$T/fake-$sig-2" -v --messages "$T/fmsgs" --timeout 120 \
		--port "$FAKE_PORT" || fail "cannot start the fake server again"
	popfetch_config "$T/f.yaml" port="$FAKE_PORT" maildir=- \
		state_dir="$T/fstate" timeout=60s keep=false \
		"deliver_command:=[$(yaml_str "$T/deliver.sh")]"
	run_popfetch -c "$T/f.yaml"
	expect_rc 0 "SIG$sig: the rerun"
	assert_maildir_matches "$OUT" "$DATA/plain1.eml" "$DATA/plain2.eml"
	kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
done

note "exit 0 after reading part of the message: not delivered"
rm -rf "$OUT"/new/* "$T/state"
printf '#!/bin/sh\nhead -c 10 >/dev/null\nexit 0\n' >"$T/half.sh"
chmod +x "$T/half.sh"
popfetch_config "$T/config.yaml" maildir=- keep=false \
	"deliver_command:=[$(yaml_str "$T/half.sh")]"
dovecot_add_message "$DATA/plain1.eml"
run_popfetch -c "$T/config.yaml"
expect_rc 69 "a command that reads 10 bytes"
assert_grep "exited with status 0 after reading 10 of the message's [0-9]+ bytes: taken as not delivered" "$T/err" "the error"
assert_eq 1 "$(dovecot_count)" "messages on the server"

note "a journal that cannot be written: nothing is delivered"
hooks=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
[ -x "$hooks" ] || fail "no $hooks (make check builds it)"
rm -rf "$OUT"/new/* "$T/state" "$CTL/env.log"
config keep=false
POPFETCH=$hooks POPFETCH_FAIL=state-write:1 run_popfetch -c "$T/config.yaml"
expect_rc 74 "the journal's first write fails"
assert_grep "Input/output error" "$T/err" "the error"
[ ! -s "$CTL/env.log" ] || fail "the command ran though the journal could not be written"
assert_eq 1 "$(dovecot_count)" "messages on the server"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the run after"
assert_maildir_matches "$OUT" "$DATA/plain1.eml"
assert_eq 0 "$(dovecot_count)" "messages on the server after the run"
exit 0
