#!/bin/bash
# t-sync-order: what popfetch relies on is fsynced before it relies on it.
# A power cut cannot be simulated, so the runs go under strace and
# tests/syscall_order.py checks the order of the system calls:
#  - recover: popfetch is killed after the link() of the second Maildir
#    message into new/ (a reader then moves the first one to cur/); the
#    next run finds both and records them as stored (and DELEs them):
#    each file and its directory (new/, cur/) must be fsynced before the
#    S record is written.
#  - batch: Maildir batches of 2 (tests/popfetch_hooks): each file is
#    fsynced before its link() into new/, new/ once per batch after the
#    links and before the S records, and no file of a batch before the
#    batch's last write (one data sync per batch, not per message).
#  - create: a first run, the state directory two levels below missing
#    ones, into a new Maildir and a new mbox: every directory popfetch
#    creates, the journal and the mbox must have their parent directory
#    fsynced before the journal's first record is written.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-sync-order
trap t_cleanup EXIT

command -v strace >/dev/null 2>&1 ||
	skip "strace is not installed (build-aux/setup.sh installs it)"
strace -f -o /dev/null true 2>/dev/null ||
	skip "strace cannot trace here (ptrace not permitted)"
HOOKS=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
[ -x "$HOOKS" ] || fail "no $HOOKS (make check builds it)"
ORDER=$TESTS_SRCDIR/syscall_order.py

# traced LOG ARGS...: popfetch ARGS under strace (not under the test
# wrapper: one tracer at a time; TRACED: another binary); RC is its exit
# code.
traced() {
	local log=$1
	shift
	RC=0
	# LeakSanitizer cannot run under ptrace: in a sanitizer build the
	# traced runs check everything but leaks (the others do).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout -k 5 60 strace -f -qq -s 1000000 -o "$log" -e \
		trace=openat,open,close,mkdir,mkdirat,fsync,fdatasync,write,rename,renameat,renameat2,link,linkat \
		"${TRACED:-$POPFETCH}" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
	cat "$T/out" >>"$T/runs.out"
	cat "$T/err" >>"$T/runs.err"
}

# finish CONFIG WHAT: a normal run (retried on 75: the killed session's
# server process may still hold the mailbox lock for a moment).
finish() {
	local i
	for i in 1 2 3 4 5; do
		run_popfetch -c "$1"
		[ "$RC" = 75 ] || break
		sleep 0.5
	done
	expect_rc 0 "$2"
}

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml")
dovecot_add_message "${msgs[@]}"

# create NAME STORE-KIND: a first run (keep: true) where nothing exists.
create() {
	local name=$1 kind=$2 store=$T/$1/store/box files=()
	note "create: $name"
	[ "$kind" = mbox ] && files=("$store")
	popfetch_config "$T/$name.yaml" name="$name" "$kind=$store" \
		state_dir="$T/$name/a/b/state" keep=true
	traced "$T/$name.strace" -c "$T/$name.yaml"
	expect_rc 0 "$name: the first run"
	"$PYTHON" "$ORDER" create "$T/$name.strace" \
		"$T/$name/a/b/state/$(state_key alice 127.0.0.1 "$DOVECOT_PORT" "$kind" "$store").state" "$T" \
		${files[@]+"${files[@]}"} >&2 ||
		fail "$name: created entries relied on before they were durable"
	if [ "$kind" = mbox ]; then
		assert_mbox_matches "$store" "${msgs[@]}"
	else
		assert_maildir_matches "$store" "${msgs[@]}"
	fi
}
create create-maildir maildir
create create-mbox mbox

note "batch: data synced before its name is in new/, new/ before the S records"
md=$T/batch/Maildir
popfetch_config "$T/batch.yaml" name=batch maildir="$md" \
	state_dir="$T/batch/state" keep=true
POPFETCH_BATCH=2 TRACED=$HOOKS traced "$T/batch.strace" -c "$T/batch.yaml"
expect_rc 0 "batch: the traced run"
"$PYTHON" "$ORDER" batch "$T/batch.strace" \
	"$T/batch/state/$(state_key alice 127.0.0.1 "$DOVECOT_PORT" maildir "$md").state" \
	"$md" 3 >&2 || fail "batch: messages recorded before they were durable"
assert_maildir_matches "$md" "${msgs[@]}"

note "recover: found messages are synced before they are recorded"
md=$T/recover/Maildir
journal=$T/recover/state/$(state_key alice 127.0.0.1 "$DOVECOT_PORT" maildir "$md").state
popfetch_config "$T/recover.yaml" name=recover maildir="$md" \
	state_dir="$T/recover/state" keep=false
# (The inner shell waits for it, so its "Killed" notice goes nowhere.)
( POPFETCH_CRASH=maildir-linked:2 "$HOOKS" -q -c "$T/recover.yaml"
	exit $? ) >/dev/null 2>&1
assert_eq 137 "$?" "recover: killed by SIGKILL"
assert_eq 2 "$(maildir_count "$md")" "recover: messages in the Maildir after the kill"
assert_eq 3 "$(dovecot_count)" "recover: messages on the server after the kill"
cp "$journal" "$T/recover/journal.before"
# A mail reader moves the first one to cur/.
first=$(ls "$md/new" | sort | head -n 1)
mv "$md/new/$first" "$md/cur/$first:2,S"

traced "$T/recover/strace.log" -c "$T/recover.yaml"
case $RC in 0 | 75) ;; *) show_run; fail "recover: the traced run exited $RC" ;; esac
"$PYTHON" "$ORDER" recover "$T/recover/strace.log" "$journal" "$md" \
	"$T/recover/journal.before" 2 >&2 ||
	fail "recover: found messages recorded before they were durable"
finish "$T/recover.yaml" "recover: the run after the traced one"
assert_maildir_matches "$md" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "recover: messages left on the server"
exit 0
