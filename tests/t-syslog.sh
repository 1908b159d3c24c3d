#!/bin/bash
# t-syslog: --syslog sends errors, warnings and (with -v) the -v lines to
# syslog, facility mail, ident popfetch[pid], without the "popfetch: "
# prefix; without --syslog nothing goes there. syslog(3) writes to
# /dev/log: the runs are made in a mount namespace of their own
# (unshare -m) whose /dev is a directory of this test holding the device
# nodes popfetch needs and a socket this test reads. Also: the trace file
# ($POPFETCH_TRACE) is headed by each run's time and holds popfetch's own
# error lines.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-syslog
trap t_cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (a private /dev in a mount namespace)"
command -v unshare >/dev/null 2>&1 || skip "unshare(1) (util-linux) not installed"
unshare -m --propagation private true 2>/dev/null || skip "unshare -m not permitted here"

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml")
dovecot_add_message "${msgs[@]}"
{
	printf 'accounts:\n'
	popfetch_account name=good maildir="$T/good"
	popfetch_account name=bad maildir="$T/bad" password=wrong-password
} | config_write "$T/config.yaml"

# A /dev with null, zero, random, urandom and a log socket.
mkdir -p "$T/dev"
mknod -m 666 "$T/dev/null" c 1 3 && mknod -m 666 "$T/dev/zero" c 1 5 &&
	mknod -m 666 "$T/dev/random" c 1 8 && mknod -m 666 "$T/dev/urandom" c 1 9 ||
	skip "cannot make device nodes here"
"$PYTHON" - "$T/dev/log" "$T/syslog.txt" "$T/listener.ready" <<'EOF' &
import os, socket, sys, time
path, out, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
s.settimeout(0.2)
open(ready, "w").close()
end = time.time() + 120
with open(out, "ab", buffering=0) as f:
    while time.time() < end and os.path.exists(ready):
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        f.write(data.rstrip(b"\0\n") + b"\n")
EOF
LISTENER=$!
t_on_exit "rm -f '$T/listener.ready'; kill $LISTENER 2>/dev/null; wait $LISTENER 2>/dev/null"
for _ in $(seq 100); do [ -e "$T/listener.ready" ] && break; sleep 0.05; done
[ -e "$T/listener.ready" ] || fail "the syslog listener did not start"

# in_ns ARGS...: popfetch with ARGS in the namespace; RC, $T/out, $T/err.
in_ns() {
	RC=0
	unshare -m --propagation private bash -c \
		'mount --bind "$1" /dev && shift && exec "$@"' _ "$T/dev" \
		"$POPFETCH" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

# wait_log N: the listener has N lines (it reads a moment after).
wait_log() {
	for _ in $(seq 40); do
		[ "$(wc -l <"$T/syslog.txt" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

note "without --syslog nothing reaches syslog"
in_ns -c "$T/config.yaml" -a bad
[ "$RC" = 77 ] || { cat "$T/err" >&2; fail "the bad account: expected exit 77, got $RC"; }
sleep 0.3
[ ! -s "$T/syslog.txt" ] || { cat "$T/syslog.txt" >&2; fail "lines in syslog without --syslog"; }

note "--syslog -v: the run's lines, errors as LOG_ERR, -v lines as LOG_INFO"
in_ns -c "$T/config.yaml" --syslog -v
[ "$RC" = 77 ] || { cat "$T/err" >&2; fail "expected exit 77 (the bad account), got $RC"; }
assert_maildir_matches "$T/good" "${msgs[@]}"
wait_log 4 || { cat "$T/syslog.txt" >&2; fail "fewer than 4 syslog lines"; }
cat "$T/syslog.txt" >&2
# mail.info = <22>, mail.err = <19>; "popfetch[PID]: " then the line
# without its "popfetch: " prefix.
assert_grep '^<22>.*popfetch\[[0-9]+\]: good: stored message 1 \([0-9]+ octets on the server\) from "Sender 1 <sender1@example.org>", subject "plain message 1"$' "$T/syslog.txt"
assert_grep '^<22>.*popfetch\[[0-9]+\]: good: 2 messages on server, 2 stored, 0 deleted$' "$T/syslog.txt"
assert_grep '^<19>.*popfetch\[[0-9]+\]: bad: login: (login refused: )?server said ' "$T/syslog.txt"
assert_no_grep 'wrong-password' "$T/syslog.txt"
# The same lines still reach stdout and stderr.
assert_grep '^popfetch: good: 2 messages on server, 2 stored, 0 deleted$' "$T/out"
assert_grep '^popfetch: bad: login: (login refused: )?server said' "$T/err"

note "log: syslog under defaults does the same"
{
	printf 'defaults:\n  log: syslog\naccounts:\n'
	popfetch_account name=bad maildir="$T/bad" password=wrong-password
} | config_write "$T/logkey.yaml"
before=$(wc -l <"$T/syslog.txt")
in_ns -c "$T/logkey.yaml"
[ "$RC" = 77 ] || { cat "$T/err" >&2; fail "log: syslog: expected exit 77, got $RC"; }
wait_log $((before + 1)) || fail "log: syslog: nothing in syslog"
tail -n +"$((before + 1))" "$T/syslog.txt" | grep -E -q '^<19>.*popfetch\[[0-9]+\]: bad: login: ' ||
	fail "log: syslog: no mail.err line for the refused login"

note "the trace file: a header per run, and popfetch's error lines"
rm -f "$T/trace.log"
POPFETCH_TRACE=$T/trace.log run_popfetch -c "$T/config.yaml" -a bad
expect_rc 77 "the bad account, traced"
POPFETCH_TRACE=$T/trace.log run_popfetch -c "$T/config.yaml" -a good
expect_rc 0 "the good account, traced"
assert_eq 2 "$(grep -c '^=== popfetch [0-9.]*: a run at 20[0-9-]*T[0-9:]*Z, pid [0-9]* ===$' "$T/trace.log")" "run headers in the trace"
assert_grep '^popfetch: bad: login: (login refused: )?server said ' "$T/trace.log"
assert_grep '^popfetch: good: C: STAT$' "$T/trace.log"
exit 0
