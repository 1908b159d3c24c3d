#!/bin/bash
# t-cut: the server sends "+OK n octets", part of message 2's body, then
# closes (keep: false).  popfetch must fail the account (75 or 76) naming
# it and the message, store nothing partial, and never DELE message 2.  A
# clean rerun then stores messages 2 and 3, nothing twice, and deletes all.
# The same into an mbox: the mbox holds no part of message 2 after the cut
# (popfetch truncates it back), and the rerun completes it.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-cut
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/m1"
make_big_message "$T/msgs/m2" 4000
cp "$DATA/plain3.eml" "$T/msgs/m3"
msgs=("$T/msgs/m1" "$T/msgs/m2" "$T/msgs/m3")
cp -r "$T/msgs" "$T/orig"

# Connection 1 cuts message 2 after 1000 bytes; connection 2 is clean.
fakepop3_start "$T/fake" -v --messages "$T/msgs" --cut-retr 2:1000@1 \
	--max-conns 2 --timeout 60 || fail "cannot start the fake server"
popfetch_config "$T/config.yaml" name=cutacct port="$FAKE_PORT" keep=false \
	timeout=10s

note "run 1: message 2 is cut short"
run_popfetch -c "$T/config.yaml"
case $RC in
75 | 76) ;;
*) show_run; fail "expected exit 75 or 76, got $RC" ;;
esac
assert_empty "$T/out" "stdout"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: cutacct: ' "$T/err" "stderr names the account"
# The message: by number ("message 2", "RETR 2", "#2") or by its UIDL (m2).
assert_grep '([^0-9A-Za-z]2([^0-9]|$)|m2)' "$T/err" "stderr names the message"
grep -q 'cut after 1000 bytes' "$FAKE_DIR/server.err" || fail "the fault did not fire"
assert_no_grep '^DELE 2$' "$FAKE_LOG" "DELE of the cut message"
# Nothing partial: no stored file holds a prefix of message 2, tmp/ empty.
if [ -d "$T/Maildir/tmp" ]; then
	assert_eq 0 "$(file_count "$T/Maildir/tmp")" "files left in tmp/"
fi
n=0
for f in $(maildir_files "$T/Maildir"); do
	n=$((n + 1))
	if cmp -s "$f" "$T/orig/m1"; then
		continue
	fi
	fail "unexpected file after the cut run: $f ($(wc -c <"$f") bytes)"
done
[ "$n" -le 1 ] || fail "$n files stored; only message 1 may be"
# The server did not apply any deletion without a clean QUIT.
"$PYTHON" - "$FAKE_STATE" <<'EOF' || fail "the server lost messages in run 1"
import json, sys
st = json.load(open(sys.argv[1]))
left = [m["uidl"] for m in st["messages"]]
assert "m2" in left and "m3" in left, left
EOF

note "run 2: clean; messages 2 and 3 are stored, nothing twice"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the clean rerun"
expect_silent "the clean rerun"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"
wait "$FAKE_PID" 2>/dev/null # --max-conns 2: it exits after this session
FAKE_PID=
"$PYTHON" - "$FAKE_STATE" <<'EOF' || fail "the server was not emptied"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["messages"] == [], st
assert sorted(st["deleted"]) == ["m1", "m2", "m3"], st
EOF
assert_eq 2 "$(grep -c 'conn [0-9]* from' "$FAKE_DIR/server.err")" "connections"

note "mbox, run 1: message 2 is cut short"
fakepop3_start "$T/fake-mbox" -v --messages "$T/orig" --cut-retr 2:1000@1 \
	--max-conns 2 --timeout 60 || fail "cannot start the fake server"
popfetch_config "$T/mbox.yaml" name=cutmbox port="$FAKE_PORT" keep=false \
	timeout=10s mbox="$T/mbox" state_dir="$T/state-mbox"
run_popfetch -c "$T/mbox.yaml"
case $RC in
75 | 76) ;;
*) show_run; fail "mbox: expected exit 75 or 76, got $RC" ;;
esac
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: cutmbox: ' "$T/err" "stderr names the account"
grep -q 'cut after 1000 bytes' "$FAKE_DIR/server.err" || fail "the fault did not fire"
assert_no_grep '^DELE 2$' "$FAKE_LOG" "DELE of the cut message"
# Only message 1 (or nothing) may be in the mbox: no part of message 2.
if grep -q '^From: Big Sender' "$T/mbox" 2>/dev/null; then
	fail "the mbox holds part of the cut message"
fi
if [ -s "$T/mbox" ]; then
	assert_mbox_matches "$T/mbox" "$T/orig/m1"
fi

note "mbox, run 2: clean; the mbox is complete, nothing twice"
run_popfetch -c "$T/mbox.yaml"
expect_rc 0 "the clean mbox rerun"
expect_silent "the clean mbox rerun"
assert_mbox_matches "$T/mbox" "${msgs[@]}"
wait "$FAKE_PID" 2>/dev/null
FAKE_PID=
"$PYTHON" - "$FAKE_STATE" <<'EOF' || fail "the server was not emptied"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["messages"] == [], st
EOF
exit 0
