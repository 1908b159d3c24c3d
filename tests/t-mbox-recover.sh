#!/bin/bash
# t-mbox-recover: popfetch is killed in the middle of an mbox batch (part
# of a 200 KB message already written), and before the next run another
# program appends a message to the same mbox, as a local delivery agent
# may once popfetch's locks are gone: after a line start, and glued to a
# line the crash cut.  The next run must take out only what the killed
# batch wrote: the mbox then holds what was there before, the other
# program's message byte for byte, and each server message exactly once.
# Then popfetch is killed while it takes the dotlock (<mbox>.lock made,
# its "PID HOST" not yet in it): the next run must neither wait for that
# lock nor fail, and no lock file or leftover of one may stay beside the
# mbox.
# Uses tests/popfetch_hooks (crash points, src/testhook.h).
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-mbox-recover
trap t_cleanup EXIT

HOOKS=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
[ -x "$HOOKS" ] || fail "no $HOOKS (make check builds it)"

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
make_big_message "$T/big.eml" 200000
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml" "$T/big.eml"
	"$DATA/plain1.eml" "$DATA/plain2.eml")
dovecot_add_message "${msgs[@]}"

# What the mbox held before, and what the other program delivers.
printf 'From MAILER-DAEMON Thu Jan  1 00:00:00 2026\nSubject: before\n\nkept\n\n' >"$T/before"
printf 'From someone@example.org Fri Nov 27 07:00:00 2026\nSubject: delivered meanwhile\n\n>From a quoted line\nhello\n\n' >"$T/foreign"

# scenario NAME SEPARATOR: kill, append SEPARATOR + the foreign message,
# run again, check.
scenario() {
	local name=$1 sep=$2 box=$T/$1.mbox
	note "$name"
	cp "$T/before" "$box"
	popfetch_config "$T/$name.yaml" name="$name" mbox="$box" \
		state_dir="$T/$name.state"
	# The mbox is flushed at each message's end and every 64 KB: the kill
	# comes at the fifth flush, after messages 1-3 and the first 64 KB
	# of the big one were written.
	( POPFETCH_CRASH=mbox-flush:5 "$HOOKS" -q -c "$T/$name.yaml" ) \
		>"$T/out" 2>"$T/err"
	RC=$?
	assert_eq 137 "$RC" "$name: killed by SIGKILL"
	local size
	size=$(wc -c <"$box")
	[ "$size" -gt $(($(wc -c <"$T/before") + 60000)) ] ||
		fail "$name: the killed run left only $size bytes in the mbox"
	# popfetch flushes at line ends; a line longer than its buffer, or a
	# power cut, can leave one cut: make it so (10 bytes less), then
	# with no separator the other program's From_ line is glued on.
	if [ -z "$sep" ]; then
		truncate -s -10 "$box"
		[ "$(tail -c 1 "$box" | od -An -c | tr -d ' ')" != '\n' ] ||
			fail "$name: the mbox still ends at a line end"
	fi
	printf '%s' "$sep" >>"$box"
	cat "$T/foreign" >>"$box"

	run_popfetch -c "$T/$name.yaml"
	expect_rc 0 "$name: the run after the kill"
	assert_empty "$T/out" "$name: stdout"
	# The killed run's dotlock is broken at once (its PID is gone), and
	# said so.
	assert_lines 2 "$T/err" "$name: stderr"
	assert_grep "^popfetch: warning: removing lock file $box.lock left by a popfetch that no longer runs\$" \
		"$T/err" "$name: the dotlock"
	assert_grep "^popfetch: $name: warning: recovering an interrupted run: $box: kept the $(wc -c <"$T/foreign") bytes another program appended after the interrupted run\$" \
		"$T/err" "$name: the warning"

	# before + foreign, then the six server messages, each once.
	local head=$(($(wc -c <"$T/before") + $(wc -c <"$T/foreign")))
	cat "$T/before" "$T/foreign" >"$T/want-head"
	head -c "$head" "$box" >"$T/got-head"
	assert_file_eq "$T/want-head" "$T/got-head" "$name: what was there and what was appended"
	tail -c +$((head + 1)) "$box" >"$T/got-tail"
	assert_mbox_matches "$T/got-tail" "${msgs[@]}"

	run_popfetch -c "$T/$name.yaml"
	expect_rc 0 "$name: a third run"
	expect_silent "$name: a third run"
	assert_eq "$((head + $(wc -c <"$T/got-tail")))" "$(wc -c <"$box")" "$name: the third run stored nothing"
	echo "SCENARIO mbox-recover-$name: exit 0 lost 0 dup 0"
}

scenario line-start $'\n'
scenario glued ''

# dotlock NAME FAIL KILL: with KILL "kill", a run killed while it takes
# the dotlock; then two runs; all with POPFETCH_FAIL=FAIL: mbox-tmpfile:0
# makes every lock file a named one, linked, as where the file system has
# no O_TMPFILE; with mbox-link:0 too, links fail as on vfat, and the lock
# is made with O_EXCL (where a kill could leave it empty: no kill there).
dotlock() {
	local name=$1 box=$T/$1.mbox kill=${3:-}
	local -x POPFETCH_FAIL=$2
	note "$name: ${kill:+killed while }taking the dotlock"
	cp "$T/before" "$box"
	popfetch_config "$T/$name.yaml" name="$name" mbox="$box" \
		state_dir="$T/$name.state" lock_timeout=3s
	if [ "$kill" = kill ]; then
		( POPFETCH_CRASH=mbox-dotlock:1 "$HOOKS" -q -c "$T/$name.yaml" ) \
			>"$T/out" 2>"$T/err"
		RC=$?
		assert_eq 137 "$RC" "$name: killed by SIGKILL"
		cmp -s "$box" "$T/before" ||
			fail "$name: the killed run wrote to the mbox"
	fi
	local killed_files
	killed_files=$(cd "$T" && ls -A | grep "^$name\\.mbox\\." || true)
	POPFETCH=$HOOKS run_popfetch -c "$T/$name.yaml"
	expect_rc 0 "$name: the run${kill:+ after the kill}"
	tail -c +$(($(wc -c <"$T/before") + 1)) "$box" >"$T/got-tail"
	assert_mbox_matches "$T/got-tail" "${msgs[@]}"
	# Nothing is left but what the killed run made: no lock, and the
	# named file it had not yet linked, if it made one.
	assert_eq "$killed_files" "$(cd "$T" && ls -A | grep "^$name\\.mbox\\." || true)" \
		"$name: files left beside the mbox"
	POPFETCH=$HOOKS run_popfetch -c "$T/$name.yaml"
	expect_rc 0 "$name: another run"
	expect_silent "$name: another run"
	echo "SCENARIO mbox-recover-$name: exit 0 lost 0 dup 0"
}

dotlock dotlock-tmpfile none:1 kill
dotlock dotlock-named mbox-tmpfile:0 kill
dotlock dotlock-direct mbox-tmpfile:0,mbox-link:0
[ -z "$(cd "$T" && ls -A | grep '^dotlock-tmpfile\.mbox\.')" ] ||
	fail "dotlock-tmpfile: the killed run left a file"
[ -n "$(cd "$T" && ls -A | grep '^dotlock-named\.mbox\.lock\.[0-9]*\.[0-9a-f]\{8\}$')" ] ||
	fail "dotlock-named: the killed run made no named lock file"
[ -z "$(cd "$T" && ls -A | grep '^dotlock-direct\.mbox\.')" ] ||
	fail "dotlock-direct: a file is left beside the mbox"
exit 0
