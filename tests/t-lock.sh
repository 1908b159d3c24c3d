#!/bin/bash
# t-lock: never two runs on one account at the same time.
#  1. Two real popfetch runs: the first is slowed down by the fake server
#     (greeting delayed); the second skips the account: exit 0 and
#     silent (cron must not mail a run that overlaps a long one), the
#     notice at -v and on a terminal, naming the lock; afterwards every
#     message is stored exactly once. While the first run works, another
#     program's fcntl lock (Python's lockf) on the lock file is refused:
#     popfetch's lock is an fcntl (POSIX) lock, the kind NFS carries.
#  2. The lock file (<state_dir>/<key>.lock, key = user@host,port,kind-hash
#     with bytes of user@host outside [A-Za-z0-9._@+-] as %XX, see
#     state_key in lib.sh) held with an fcntl lock by another program
#     (Python's fcntl.lockf): skipped the same way.
#  3. Two accounts, the first locked: the second is still fetched; exit 0.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-lock
trap 'lock_release; t_cleanup' EXIT

mkdir -p "$T/msgs"
msgs=()
for i in 1 2 3; do
	cp "$DATA/plain$i.eml" "$T/msgs/$i.eml"
	msgs+=("$DATA/plain$i.eml")
done

# locked_ok WHAT NAME [CONFIG]: the last run skipped NAME silently with
# exit 0; with CONFIG (the lock still held), run again with -v (one notice
# on stdout) and on a terminal (script(1): the notice there), exit 0.
locked_ok() {
	expect_rc 0 "$1"
	if [ -s "$T/err" ] || grep -q "$2" "$T/out"; then
		show_run
		fail "$1: a skipped account printed something"
	fi
	[ -n "${3:-}" ] || return 0
	run_popfetch -c "$3" -a "$2" -v
	expect_rc 0 "$1 (-v)"
	assert_empty "$T/err" "stderr of $1 (-v)"
	assert_grep "^popfetch: $2: skipped: another popfetch run is working on this account \(it holds .*\.lock\)\$" "$T/out"
	if command -v script >/dev/null 2>&1; then
		script -qec "$POPFETCH -c $3 -a $2" /dev/null >"$T/tty.out" 2>&1 </dev/null ||
			fail "$1: on a terminal: exit $?"
		assert_grep "^popfetch: $2: .*skipped: another popfetch run" "$T/tty.out"
	fi
}

note "case 1: two concurrent runs"
fakepop3_start "$T/fake1" -v --messages "$T/msgs" --delay-greeting 3@1 \
	--timeout 60 || fail "cannot start the fake server"
popfetch_config "$T/c1.yaml" name=slow port="$FAKE_PORT" maildir="$T/Maildir1" \
	state_dir="$T/state1"
timeout 60 "$POPFETCH" -c "$T/c1.yaml" >"$T/first.out" 2>"$T/first.err" </dev/null &
first=$!
# Wait until the first run is connected (it holds the lock by then).
for _ in $(seq 100); do
	grep -q 'conn 1 from' "$FAKE_DIR/server.err" && break
	kill -0 "$first" 2>/dev/null || break
	sleep 0.05
done
grep -q 'conn 1 from' "$FAKE_DIR/server.err" || fail "the first run never connected"
# popfetch's lock, seen from another program: an fcntl lock refused.
lockfiles=("$T/state1/"*.lock)
[ ${#lockfiles[@]} = 1 ] && [ -f "${lockfiles[0]}" ] || fail "lock files in state1: ${lockfiles[*]}"
"$PYTHON" - "${lockfiles[0]}" <<'EOF' || fail "another program took an fcntl lock on ${lockfiles[0]} while popfetch held it"
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError as e:
    sys.exit(0 if e.errno in (errno.EAGAIN, errno.EACCES) else 2)
sys.exit(1)
EOF
run_popfetch -c "$T/c1.yaml"
locked_ok "the second run" slow
first_rc=0
wait "$first" || first_rc=$?
if [ "$first_rc" -ne 0 ]; then
	cat "$T/first.err" >&2
	fail "the first run: expected exit 0, got $first_rc"
fi
[ ! -s "$T/first.out" ] && [ ! -s "$T/first.err" ] || {
	cat "$T/first.out" "$T/first.err" >&2
	fail "the first run printed something"
}
assert_maildir_matches "$T/Maildir1" "${msgs[@]}"
assert_eq 1 "$(grep -c 'conn [0-9]* from' "$FAKE_DIR/server.err")" \
	"connections to the server (the second run must not connect)"
note "a third run after both: still each message once"
run_popfetch -c "$T/c1.yaml"
expect_rc 0 "the third run"
expect_silent "the third run"
assert_maildir_matches "$T/Maildir1" "${msgs[@]}"
fakepop3_stop

note "case 2: the lock file held by another program's fcntl lock; a user name that needs escaping"
fakepop3_start "$T/fake2" --messages "$T/msgs" --user "pf/test user" --timeout 60 ||
	fail "cannot start the fake server"
popfetch_config "$T/c2.yaml" name=held port="$FAKE_PORT" user="pf/test user" \
	maildir="$T/Maildir2" state_dir="$T/state2"
key=$(state_key "pf/test user" 127.0.0.1 "$FAKE_PORT" maildir "$T/Maildir2")
case $key in
'pf%2Ftest%20user@127.0.0.1,'"$FAKE_PORT"',maildir-'????????????????) ;;
*) fail "lock key: got '$key'" ;;
esac
mkdir -p "$T/state2"
lock_hold "$T/state2/$key.lock"
run_popfetch -c "$T/c2.yaml"
if [ "$RC" != 0 ]; then
	ls -la "$T/state2" >&2
fi
locked_ok "a run while another program holds an fcntl lock" held "$T/c2.yaml"
assert_eq 0 "$(maildir_count "$T/Maildir2")" "messages stored while locked"
[ ! -s "$FAKE_LOG" ] || fail "a locked run connected to the server"
# As cron runs it: no terminal, an almost empty environment.
rc=0
env -i HOME="$T" PATH=/usr/bin:/bin "$POPFETCH" -c "$T/c2.yaml" \
	>"$T/cron.out" 2>"$T/cron.err" </dev/null || rc=$?
[ "$rc" = 0 ] && [ ! -s "$T/cron.out" ] && [ ! -s "$T/cron.err" ] || {
	cat "$T/cron.out" "$T/cron.err" >&2
	fail "locked, as cron runs it: exit $rc and output"
}

note "case 3: two accounts, the first locked, the second fetched"
{
	printf 'accounts:\n'
	popfetch_account name=held port="$FAKE_PORT" user="pf/test user" \
		maildir="$T/Maildir2" state_dir="$T/state2"
	popfetch_account name=free port="$FAKE_PORT" user="pf/test user" \
		maildir="$T/Maildir3" state_dir="$T/state3"
} | config_write "$T/c3.yaml"
run_popfetch -c "$T/c3.yaml"
locked_ok "two accounts, one locked" held "$T/c3.yaml"
assert_eq 0 "$(maildir_count "$T/Maildir2")" "messages stored for the locked account"
assert_maildir_matches "$T/Maildir3" "${msgs[@]}"

lock_release
note "after the lock is released the account runs normally, silent as cron runs it"
rc=0
env -i HOME="$T" PATH=/usr/bin:/bin "$POPFETCH" -c "$T/c2.yaml" \
	>"$T/cron.out" 2>"$T/cron.err" </dev/null || rc=$?
[ "$rc" = 0 ] && [ ! -s "$T/cron.out" ] && [ ! -s "$T/cron.err" ] || {
	cat "$T/cron.out" "$T/cron.err" >&2
	fail "after the release, as cron runs it: exit $rc and output"
}
assert_maildir_matches "$T/Maildir2" "${msgs[@]}"
exit 0
