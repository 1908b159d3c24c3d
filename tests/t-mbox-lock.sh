#!/bin/bash
# t-mbox-lock: popfetch holds an mbox's locks (the fcntl lock and the
# dotlock <mbox>.lock) only while it appends a batch or recovers one,
# never while it waits for the server: a local MTA delivering to a shared
# mbox is not blocked by a slow server.  Here the server delays its
# greeting; meanwhile the test takes the fcntl lock (non-blocking) and
# finds no dotlock; then, with the test's own fcntl lock held, the batch
# waits for it (lock_timeout) and the run fails without writing anything.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-mbox-lock
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$DATA/plain2.eml" "$T/msgs/"
fakepop3_start "$T/fake" -v --messages "$T/msgs" --delay-greeting 4@1 \
	--timeout 60 || fail "cannot start the fake server"
printf 'From someone Thu Jan  1 00:00:00 2026\nSubject: old\n\nold\n\n' >"$T/mbox"
cp "$T/mbox" "$T/mbox.before"
popfetch_config "$T/c.yaml" port="$FAKE_PORT" mbox="$T/mbox" timeout=20s

# try_lock: take the mbox's fcntl write lock without waiting; exit 0 when
# it was free (and release it), 1 when someone holds it.
try_lock() {
	"$PYTHON" - "$T/mbox" <<'EOF'
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(1)
sys.exit(0)
EOF
}

note "waiting for the greeting, popfetch holds no lock on the mbox"
timeout 60 "$POPFETCH" -c "$T/c.yaml" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
bg=$!
for _ in $(seq 100); do
	grep -q 'conn 1 from' "$FAKE_DIR/server.err" && break
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.05
done
grep -q 'conn 1 from' "$FAKE_DIR/server.err" || fail "popfetch never connected"
sleep 1   # well into the 4 s wait for the greeting
try_lock || fail "the mbox's fcntl lock is held while popfetch waits for the greeting"
[ ! -e "$T/mbox.lock" ] || fail "the dotlock exists while popfetch waits for the greeting"
rc=0
wait "$bg" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/bg.err" >&2; fail "the run: exit $rc"; }
"$PYTHON" - "$T/mbox" "$T/mbox.before" "$T/mbox.tail" <<'EOF'
import sys
data, before = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert data.startswith(before), "what was in the mbox was changed"
open(sys.argv[3], "wb").write(data[len(before):])
EOF
assert_mbox_matches "$T/mbox.tail" "$DATA/plain1.eml" "$DATA/plain2.eml"
[ ! -e "$T/mbox.lock" ] || fail "the dotlock is left after the run"
try_lock || fail "the fcntl lock is held after the run"

note "a batch waits for the lock another program holds, then gives up"
cp "$DATA/plain3.eml" "$T/msgs/"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
fakepop3_start "$T/fake2" -v --messages "$T/msgs" --timeout 60 ||
	fail "cannot start the fake server"
popfetch_config "$T/c.yaml" port="$FAKE_PORT" mbox="$T/mbox" lock_timeout=1s
cp "$T/mbox" "$T/mbox.before"
"$PYTHON" - "$T/mbox" "$T/held" <<'EOF' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(8)
EOF
holder=$!
for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.05; done
run_popfetch -c "$T/c.yaml"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
expect_rc 75 "the run while the mbox is locked"
assert_has "is locked by another process" "$T/err" "the error"
cmp -s "$T/mbox" "$T/mbox.before" || fail "the mbox changed while locked"
# The server was asked for the list before the lock was wanted.
assert_grep "^UIDL" "$FAKE_LOG" "the inventory came first"
exit 0
