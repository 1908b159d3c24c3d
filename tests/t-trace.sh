#!/bin/bash
# t-trace: the POPFETCH_TRACE file holds the POP3 dialogue (redacted, but
# still mail metadata), so only its owner may read it:
#  - a new trace file is created 0600 even under umask 000, and gets the
#    dialogue;
#  - an existing one of ours is appended to, its mode kept (0600, and
#    0644 as the owner chose), silently;
#  - one another user owns (made first in a shared directory) is not
#    written to: one warning, the run goes on (when run as root);
#  - a symlink is not followed: the file it points to is untouched, one
#    warning; the run goes on;
#  - a FIFO (no reader) does not hang the run: one warning, exit 0;
#  - a trace file with a second hard link is not written to: one
#    warning, the run goes on.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-trace
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/m1"
fakepop3_start "$T/fake" --messages "$T/msgs" --timeout 90 ||
	fail "cannot start the fake server"

# run NAME TRACE: one run of a fresh account with POPFETCH_TRACE=TRACE.
run() {
	popfetch_config "$T/$1.yaml" name="$1" port="$FAKE_PORT" \
		maildir="$T/Maildir-$1" state_dir="$T/state-$1"
	POPFETCH_TRACE=$2 run_popfetch -c "$T/$1.yaml"
	expect_rc 0 "$1"
}

note "a new trace file under umask 000: mode 600, the dialogue in it"
(umask 000 && run new "$T/new.trace") || exit 1
assert_eq 600 "$(stat -c %a "$T/new.trace")" "mode of a new trace file"
expect_silent "a new trace file"
assert_grep 'UIDL' "$T/new.trace" "the dialogue in the trace"

note "an existing trace file with mode 600 is appended to"
n=$(wc -l <"$T/new.trace")
(umask 000 && run again "$T/new.trace") || exit 1
[ "$(wc -l <"$T/new.trace")" -gt "$n" ] || fail "the trace was not appended to"
assert_eq 600 "$(stat -c %a "$T/new.trace")" "mode after appending"

note "an existing trace file of ours with mode 644: appended to, mode kept"
printf 'old\n' >"$T/wide.trace"
chmod 644 "$T/wide.trace"
run wide "$T/wide.trace"
expect_silent "a trace file of ours with mode 644"
assert_eq 644 "$(stat -c %a "$T/wide.trace")" "mode of the existing trace"
assert_eq old "$(head -n 1 "$T/wide.trace")" "first line of the existing trace"
assert_grep 'UIDL' "$T/wide.trace" "the dialogue appended"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	note "a trace file another user made (0666): not written to, one warning"
	printf 'theirs\n' >"$T/foreign.trace"
	chmod 666 "$T/foreign.trace"
	chown nobody "$T/foreign.trace"
	run foreign "$T/foreign.trace"
	assert_eq theirs "$(cat "$T/foreign.trace")" "bytes of the other user's file"
	assert_lines 1 "$T/err" "stderr (another user's trace)"
	assert_grep "^popfetch: warning: .*foreign\.trace.*another user" "$T/err" "the warning"
	assert_maildir_matches "$T/Maildir-foreign" "$T/msgs/m1"
else
	note "skipped: a trace file of another user (needs root and user nobody)"
fi

note "a trace path that is a symlink: not followed, one warning"
printf 'target\n' >"$T/target"
chmod 600 "$T/target"
ln -s "$T/target" "$T/link.trace"
run link "$T/link.trace"
assert_eq target "$(cat "$T/target")" "bytes of the symlink's target"
assert_lines 1 "$T/err" "stderr (symlink trace)"
assert_grep "^popfetch: warning: .*link\\.trace" "$T/err" "the warning"
assert_maildir_matches "$T/Maildir-link" "$T/msgs/m1"

note "a trace path that is a FIFO: no hang, one warning"
mkfifo -m 600 "$T/fifo.trace"
POPFETCH_TEST_TIMEOUT=20 run fifo "$T/fifo.trace"
assert_lines 1 "$T/err" "stderr (FIFO trace)"
assert_grep "^popfetch: warning: .*fifo\.trace.*not a regular file" "$T/err" "the warning"
assert_maildir_matches "$T/Maildir-fifo" "$T/msgs/m1"

note "a trace file with two hard links: not written to, one warning"
printf 'linked\n' >"$T/hard.trace"
chmod 600 "$T/hard.trace"
ln "$T/hard.trace" "$T/hard2"
run hard "$T/hard.trace"
assert_eq linked "$(cat "$T/hard2")" "bytes of the hard-linked file"
assert_lines 1 "$T/err" "stderr (hard-linked trace)"
assert_grep "^popfetch: warning: .*hard\.trace.*hard link" "$T/err" "the warning"
assert_maildir_matches "$T/Maildir-hard" "$T/msgs/m1"
exit 0
