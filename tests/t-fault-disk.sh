#!/bin/bash
# t-fault-disk: the store cannot take a message, and the mbox is locked.
#  - write failure (RLIMIT_FSIZE: "ulimit -f", popfetch ignores SIGXFSZ so
#    write() fails with EFBIG) on a message larger than the limit, into a
#    Maildir (the big message second: the first is stored and deleted) and
#    into an mbox that already holds a message (the big one first): exit
#    74, one line naming the file; the mbox byte-identical to before;
#    Maildir tmp/ and new/ without the message; no DELE for it; a rerun
#    without the limit completes the job.
#  - disk full (ENOSPC) on a 1 MB tmpfs, Maildir and mbox, the same checks
#    (only as root where mount works; skipped otherwise, saying why).
#  - a disk error while a Maildir batch is made durable, all of it
#    stored in one batch (tests/popfetch_hooks, POPFETCH_FAIL makes the
#    call fail with EIO): the second file's fsync, or its move into
#    new/ (the first one already moved), fails -> the batch is undone:
#    tmp/ and new/ empty, no DELE, exit 74 naming the file; the rerun
#    completes. (A write failure before the batch's end keeps the
#    messages committed before it: fsize-maildir.)
#  - the mbox locked by another process (a dotlock "PID HOST" of a live
#    process; an fcntl lock held by a python process): with lock_timeout:
#    1s, exit 75 within ~1-3 s naming the mbox as locked, no RETR, no
#    DELE; the rerun after the lock is gone completes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-fault-disk
trap t_cleanup EXIT

mkdir -p "$T/small" "$T/bigfirst"
cp "$DATA/plain1.eml" "$T/small/m1"
make_big_message "$T/small/m2" 1048576
cp "$DATA/plain3.eml" "$T/small/m3"
cp "$T/small/m2" "$T/bigfirst/a"
cp "$DATA/plain1.eml" "$T/bigfirst/b"
cp "$DATA/plain3.eml" "$T/bigfirst/c"

# mbox_pre FILE: an mbox holding one message from elsewhere.
mbox_pre() {
	printf 'From someone@example.org Mon Jan  1 00:00:00 2024\nFrom: x@example.org\nSubject: already here\n\nold mail\n\n' >"$1"
}

# limited KBYTES: run popfetch on the scenario with RLIMIT_FSIZE set.
limited() {
	local kb=$1
	(
		ulimit -f "$kb"
		POPFETCH_TRACE=$S/trace.log
		run_popfetch -c "$S/config.yaml"
		echo "$RC" >"$S/rc"
	)
	RC=$(cat "$S/rc")
	cat "$S/trace.log" >>"$T/trace.log" 2>/dev/null
	cat "$T/err" >>"$T/runs.err"
}

# expect_store_error: exit 74, one line naming the store.
expect_store_error() {
	expect_rc 74 "$FNAME"
	assert_empty "$T/out" "$FNAME: stdout"
	assert_lines 1 "$T/err" "$FNAME: stderr"
	assert_grep "^popfetch: $FNAME: .*$1" "$T/err" "$FNAME: the error names the file"
	RC1=$RC
	ERR1=$(cat "$T/err")
}

fsize_maildir() {
	FAULT_MSGS=$T/small
	fault_begin fsize-maildir '[]'
	limited 512
	expect_store_error "$S/Maildir"
	not_saw 'DELE 2|DELE 3'
	fault_promises --dele-log "$FAKE_LOG"
	assert_eq 0 "$(file_count "$S/Maildir/tmp")" "$FNAME: files in tmp/"
	fault_rerun
}

fsize_mbox() {
	FAULT_MSGS=$T/bigfirst FAULT_STORE=mbox
	fault_begin fsize-mbox '[]'
	mbox_pre "$S/mbox"
	cp "$S/mbox" "$S/mbox.before"
	limited 512
	expect_store_error "$S/mbox"
	not_saw 'DELE.*'
	assert_file_eq "$S/mbox.before" "$S/mbox" "$FNAME: the mbox after the failure"
	run_popfetch -c "$S/config.yaml"
	expect_rc 0 "$FNAME: the rerun"
	expect_silent "$FNAME: the rerun"
	# The old message, then the three.
	tail -c +"$(($(wc -c <"$S/mbox.before") + 1))" "$S/mbox" >"$S/mbox.new"
	head -c "$(wc -c <"$S/mbox.before")" "$S/mbox" | cmp -s - "$S/mbox.before" ||
		fail "$FNAME: the old message changed"
	assert_mbox_matches "$S/mbox.new" "$T/bigfirst/a" "$T/bigfirst/b" "$T/bigfirst/c"
	FSTORE_PATH=$S/mbox.new
	fault_promises --complete delete
	RC=$RC1
	scenario_report "$FNAME"
}

# ENOSPC on a small tmpfs.
FS_MOUNTS=()
umount_all() {
	local m
	for m in "${FS_MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || true
	done
}
t_on_exit umount_all
tmpfs_ok=
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$T/probe"
	if mount -t tmpfs -o size=1m tmpfs "$T/probe" 2>"$T/probe.err"; then
		umount "$T/probe"
		tmpfs_ok=1
	fi
fi

enospc() {
	local kind=$1
	FAULT_MSGS=$T/bigfirst
	make_big_message "$T/big2m" 2097152
	mkdir -p "$T/msgs-enospc-$kind"
	cp "$T/big2m" "$T/msgs-enospc-$kind/a"
	cp "$DATA/plain1.eml" "$T/msgs-enospc-$kind/b"
	FAULT_MSGS=$T/msgs-enospc-$kind
	[ "$kind" = mbox ] && FAULT_STORE=mbox
	fault_begin "enospc-$kind" '[]'
	mkdir -p "$S/fs"
	mount -t tmpfs -o size=1m tmpfs "$S/fs" || fail "$FNAME: mount"
	# Only this subshell knows about the mount: unmount on its way out.
	trap 'fakepop3_stop; umount "$S/fs" 2>/dev/null' EXIT
	if [ "$kind" = mbox ]; then
		FSTORE_PATH=$S/fs/mbox
		mbox_pre "$FSTORE_PATH"
		cp "$FSTORE_PATH" "$S/mbox.before"
		popfetch_config "$S/config.yaml" name="$FNAME" port="$FAKE_PORT" \
			keep=false timeout=5s mbox="$FSTORE_PATH" state_dir="$S/state"
	else
		FSTORE_PATH=$S/fs/Maildir
		popfetch_config "$S/config.yaml" name="$FNAME" port="$FAKE_PORT" \
			keep=false timeout=5s maildir="$FSTORE_PATH" state_dir="$S/state"
	fi
	run_popfetch -c "$S/config.yaml"
	expect_store_error "$FSTORE_PATH"
	not_saw 'DELE.*'
	if [ "$kind" = mbox ]; then
		assert_file_eq "$S/mbox.before" "$FSTORE_PATH" "$FNAME: the mbox after the failure"
	else
		assert_eq 0 "$(file_count "$FSTORE_PATH/tmp")" "$FNAME: files in tmp/"
		assert_eq 0 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	fi
	mount -o remount,size=16m "$S/fs" || fail "$FNAME: remount"
	run_popfetch -c "$S/config.yaml"
	expect_rc 0 "$FNAME: the rerun"
	expect_silent "$FNAME: the rerun"
	if [ "$kind" = mbox ]; then
		tail -c +"$(($(wc -c <"$S/mbox.before") + 1))" "$FSTORE_PATH" >"$S/mbox.new"
		assert_mbox_matches "$S/mbox.new" "$T/big2m" "$DATA/plain1.eml"
		FSTORE_PATH=$S/mbox.new
	fi
	fault_promises --complete delete
	RC=$RC1
	scenario_report "$FNAME"
}

# batch_fail POINT IN_NEW: the POINT call fails for the second message of
# the batch; IN_NEW messages are left in the Maildir.
batch_fail() {
	local point=$1 innew=$2
	local hooks=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
	[ -x "$hooks" ] || fail "no $hooks (make check builds it)"
	fault_default_msgs
	fault_begin "$point" '[]'
	POPFETCH=$hooks POPFETCH_FAIL=$point:2 run_popfetch -c "$S/config.yaml"
	expect_store_error "$S/Maildir/tmp/.*: Input/output error"
	not_saw 'DELE.*'
	assert_eq 0 "$(file_count "$S/Maildir/tmp")" "$FNAME: files in tmp/"
	assert_eq "$innew" "$(maildir_count "$S/Maildir")" "$FNAME: messages left in the Maildir"
	fault_promises --dele-log "$FAKE_LOG"
	fault_rerun
}

# hold_dotlock MBOX: a live process's "PID HOST" in MBOX.lock; prints
# the pid.
lock_dotlock() {
	FAULT_MSGS=$T/small FAULT_STORE=mbox FAULT_CONF=(lock_timeout:=1s)
	fault_begin lock-dotlock '[]'
	sleep 60 &
	local holder=$!
	trap 'fakepop3_stop; kill '"$holder"' 2>/dev/null' EXIT
	printf '%d %s\n' "$holder" "$(hostname)" >"$S/mbox.lock"
	locked_run
	kill "$holder"
	wait "$holder" 2>/dev/null
	# A lock of a process that is not popfetch's is never broken, even
	# after its owner has gone, until it is stale: remove it ourselves.
	rm -f "$S/mbox.lock"
	fault_rerun
}

lock_fcntl() {
	FAULT_MSGS=$T/small FAULT_STORE=mbox FAULT_CONF=(lock_timeout:=1s)
	fault_begin lock-fcntl '[]'
	: >"$S/mbox"
	"$PYTHON" -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$S/mbox" "$S/locked" &
	local holder=$! i
	trap 'fakepop3_stop; kill '"$holder"' 2>/dev/null' EXIT
	for i in $(seq 100); do
		[ -e "$S/locked" ] && break
		sleep 0.05
	done
	locked_run
	kill "$holder"
	wait "$holder" 2>/dev/null
	fault_rerun
}

locked_run() {
	local t0 t1
	t0=$(date +%s%N)
	run_popfetch -c "$S/config.yaml"
	t1=$(date +%s%N)
	expect_rc 75 "$FNAME"
	assert_empty "$T/out" "$FNAME: stdout"
	assert_lines 1 "$T/err" "$FNAME: stderr"
	assert_grep "^popfetch: $FNAME: .*$S/mbox.* locked" "$T/err" "$FNAME: the error"
	local ms=$(((t1 - t0) / 1000000))
	note "$FNAME: gave up after $ms ms"
	[ "$ms" -ge 900 ] || fail "$FNAME: gave up after $ms ms, before lock_timeout (1s)"
	[ "$ms" -le 3500 ] || fail "$FNAME: took $ms ms with lock_timeout: 1s"
	not_saw 'RETR.*|DELE.*'
	RC1=$RC
	ERR1=$(cat "$T/err")
	fault_promises
}

scenario fsize-maildir fsize_maildir
scenario fsize-mbox fsize_mbox
if [ -n "$tmpfs_ok" ]; then
	scenario enospc-maildir enospc maildir
	scenario enospc-mbox enospc mbox
elif [ "$(id -u)" -ne 0 ]; then
	note "ENOSPC on a tmpfs skipped: not root"
else
	note "ENOSPC on a tmpfs skipped: mount failed: $(cat "$T/probe.err")"
fi
scenario maildir-fsync batch_fail maildir-fsync 0
scenario maildir-link batch_fail maildir-link 0
scenario lock-dotlock lock_dotlock
scenario lock-fcntl lock_fcntl
fault_summary
exit 0
