#!/bin/bash
# bench/run.sh - `make bench`: popfetch against mpop and a raw pipelined
# client (the floor), on a private Dovecot on loopback.
#
# Scenarios (BENCH_SHORT=1: the scaled-down sizes in brackets, for CI):
#   keep   5000 x 4 KB, keep            [200]  each run: empty store, state
#   delete 2000 x 4 KB, delete          [200]  the server refilled per run
#   big    10 x 10 MB, keep             [2 x 1 MB]
#   new    50 new among 5000            [10 among 200]  store and state of a
#          full fetch of the others restored before each run; only the
#          incremental run is timed
#   wan    1000 x 4 KB, keep, through bench/delayproxy.py (20 ms RTT) [100]
# Clients: bench/floor, mpop (when installed; MPOP=PATH, MPOP= to leave
# it out) and popfetch ($POPFETCH, default the build tree's).
# Each client runs BENCH_RUNS times per scenario (default 3; 1 when
# short), clients interleaved; every run's Maildir is checked byte for
# byte against the generated messages (bench/mailbox.py verify), the
# floor's count of retrieved messages against the mailbox. Then one more
# run per client under strace counts fsync, fdatasync, syncfs and
# sync_file_range calls (not timed). A failed run or check exits 1.
#
# Output: the Markdown table (bench/report.py) on stdout and in
# $TOP_BUILDDIR/bench/results.md. Work files in $TOP_BUILDDIR/bench/tmp
# (removed after a successful run unless BENCH_KEEP=1).
set -u -o pipefail
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
. "$TOP_SRCDIR/tests/lib.sh"
# No trace file: it would cost popfetch time in every run.
unset POPFETCH_TRACE
BENCH=$TOP_SRCDIR/bench
FLOOR=$TOP_BUILDDIR/bench/floor
TIMED=$TOP_BUILDDIR/bench/timed
SHORT=${BENCH_SHORT:-}
[ "$SHORT" = 0 ] && SHORT=
if [ -n "$SHORT" ]; then RUNS=${BENCH_RUNS:-1}; else RUNS=${BENCH_RUNS:-3}; fi
if [ -z "${MPOP+x}" ]; then MPOP=$(command -v mpop 2>/dev/null) || MPOP=; fi

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for p in "$POPFETCH" "$FLOOR" "$TIMED"; do
	[ -x "$p" ] || die "$p not built (run: make bench)"
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99"
need_dovecot >/dev/null 2>&1 || die "Dovecot is needed (Debian: dovecot-core dovecot-pop3d)"
command -v strace >/dev/null || die "strace is needed (syncs per message)"
CLIENTS=(floor)
[ -n "$MPOP" ] && CLIENTS+=(mpop)
CLIENTS+=(popfetch)

W=$TOP_BUILDDIR/bench/tmp
if [ -f "$W/s/dovecot/dovecot.conf" ]; then
	DOVECOT_DIR=$W/s/dovecot dovecot_stop 2>/dev/null || true
fi
# What earlier runs left goes to the trash, removed only after this
# run's measurements (see settle).
TRASH=$TOP_BUILDDIR/bench/trash
discard() {
	local p
	for p in "$@"; do
		[ -e "$p" ] || continue
		mkdir -p -- "$TRASH" && mv -- "$p" "$(mktemp -d -p "$TRASH")/"
	done
}
discard "$W"
mkdir -p -- "$W/gen" || exit 1
# Dovecot as root runs the mailbox as uid 65534: it must reach $W.
chmod 755 "$W" "$TOP_BUILDDIR/bench" 2>/dev/null
RES=$W/results.tsv SYN=$W/syncs.tsv LAB=$W/scenarios.tsv
: >"$RES" && : >"$SYN" && : >"$LAB"
PROXY_PID=
cleanup() {
	[ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null
	dovecot_stop
}
trap cleanup EXIT

# What was measured, for the report (taken before the runs: the tree may
# change while they go on).
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'machine\t%s cores, %s\n' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	printf 'popfetch\t%s\n' "$("$POPFETCH" --version 2>/dev/null | head -1 |
		sed 's/ (\(libcurl\/[^ ]*\).*/, \1/')"
	printf 'commit\t%s\n' "$(git -C "$TOP_SRCDIR" describe --always --dirty 2>/dev/null || echo unknown)"
	printf 'mpop\t%s\n' "$([ -n "$MPOP" ] && "$MPOP" --version | head -1 || echo 'not installed')"
	printf 'dovecot\t%s\n' "$("$(_dovecot_bin)" --version 2>/dev/null | head -1)"
	printf 'runs\t%s\n' "$RUNS"
	printf 'short\t%s\n' "${SHORT:+yes}"
} >"$W/meta.tsv"

# --------------------------------------------------------------- mailboxes
if [ -n "$SHORT" ]; then
	N_KEEP=200 N_DEL=200 N_BIG=2 BIG_SIZE=$((1 << 20)) N_NEW=10 N_WAN=100
else
	N_KEEP=5000 N_DEL=2000 N_BIG=10 BIG_SIZE=$((10 << 20)) N_NEW=50 N_WAN=1000
fi
say "generating mailboxes"
gen() { "$PYTHON" "$BENCH/mailbox.py" generate "$@" || die "generate $*"; }
# One pool of small messages: the first N_KEEP-N_NEW (old), the rest (new);
# keep and new use both; delete and wan their own (other seeds).
gen "$W/gen/old" small $((N_KEEP - N_NEW)) --seed 1
gen "$W/gen/new" small "$N_NEW" --seed 1 --first $((N_KEEP - N_NEW + 1))
gen "$W/gen/del" small "$N_DEL" --seed 2
gen "$W/gen/wan" small "$N_WAN" --seed 3
gen "$W/gen/big" big "$N_BIG" --seed 4 --size "$BIG_SIZE"

# --------------------------------------------------------------- server
# server_fresh: a new private Dovecot with an empty mailbox.
server_fresh() {
	dovecot_stop
	discard "$W/s"
	dovecot_start "$W/s/dovecot" >"$W/dovecot-start.log" 2>&1 || {
		cat "$W/dovecot-start.log" >&2
		die "Dovecot did not start"
	}
	export POP3_PASS=$DOVECOT_PASS
}

# fill DIR...: deliver the messages of each DIR, then let Dovecot index
# them (a LIST and UIDL session) so no timed run pays for that.
fill() {
	"$PYTHON" "$BENCH/mailbox.py" deliver "$DOVECOT_MAILDIR" "$@" \
		--uid "$DOVECOT_MAIL_UID" --gid "$DOVECOT_MAIL_GID" || die "deliver $*"
	"$FLOOR" -l 127.0.0.1 "$DOVECOT_PORT" "$DOVECOT_USER" >/dev/null ||
		die "the server does not list the mailbox"
}

# ---------------------------------------------------------------- clients
# setup CLIENT DIR PORT MODE SKIP: make DIR a client's empty run directory
# and set CMD to its command line. MODE keep or delete; SKIP: messages the
# floor leaves alone (the others know them from their state).
setup() {
	local client=$1 dir=$2 port=$3 mode=$4 skip=$5
	mkdir -p -- "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
	case $client in
	floor)
		CMD=("$FLOOR" -s "$skip")
		[ "$mode" = delete ] && CMD+=(-d)
		CMD+=(127.0.0.1 "$port" "$DOVECOT_USER")
		;;
	mpop)
		# received_header off: store the server's bytes, as popfetch does.
		config_write "$dir/mpoprc" <<EOF
defaults
account bench
host 127.0.0.1
port $port
tls off
auth user
user $DOVECOT_USER
password $DOVECOT_PASS
delivery maildir $dir/Maildir
uidls_file $dir/mpop_uidls
received_header off
keep $([ "$mode" = keep ] && echo on || echo off)
account default : bench
EOF
		CMD=("$MPOP" -q -C "$dir/mpoprc" bench)
		;;
	popfetch)
		T=$dir popfetch_config "$dir/popfetch.yaml" port="$port" \
			maildir="$dir/Maildir" state_dir="$dir/state" \
			keep="$([ "$mode" = keep ] && echo true || echo false)"
		CMD=("$POPFETCH" -c "$dir/popfetch.yaml")
		;;
	esac
}

# check CLIENT DIR EXPECTED_COUNT GEN_DIR...: the run's result is right.
check() {
	local client=$1 dir=$2 n=$3
	shift 3
	if [ "$client" = floor ]; then
		grep -q "^messages $n octets [1-9]" "$dir/out" ||
			die "floor in $dir: expected $n messages, got: $(cat "$dir/out" "$dir/err")"
	else
		"$PYTHON" "$BENCH/mailbox.py" verify "$dir/Maildir" "$@" ||
			die "$client: the store in $dir is not the server's mailbox"
	fi
}

# timed_run SID CLIENT RUN DIR: run CMD once, timed; record the result.
timed_run() {
	local sid=$1 client=$2 run=$3 dir=$4 rc=0 r
	"$TIMED" "$dir/timed" "${CMD[@]}" >"$dir/out" 2>"$dir/err" </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$dir/err" >&2
		die "$client failed (exit $rc) in $sid run $run ($dir)"
	fi
	read -r r <"$dir/timed"
	printf '%s\t%s\t%s\t%s\n' "$sid" "$client" "$run" "$r" >>"$RES"
}

# strace_run SID CLIENT DIR NMSG: run CMD once under strace; record the
# number of sync calls and NMSG, the messages the run stored.
strace_run() {
	local sid=$1 client=$2 dir=$3 nmsg=$4 rc=0 calls
	strace -f -c -o "$dir/strace" \
		-e trace=fsync,fdatasync,syncfs,sync_file_range \
		"${CMD[@]}" >"$dir/out" 2>"$dir/err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || { cat "$dir/err" >&2; die "$client failed under strace (exit $rc) in $sid"; }
	# strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall"
	calls=$(awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range)$/ {
		n += $4 } END {print n + 0}' "$dir/strace")
	printf '%s\t%s\t%s\t%s\n' "$sid" "$client" "$calls" "$nmsg" >>"$SYN"
}

label() { printf '%s\t%s\n' "$1" "$2" >>"$LAB"; }

# settle DIR: before a timed run, the previous run's DIR is moved to the
# trash (removed once all is measured) and the disk is synced, the same
# for every client. Removing thousands of files shortly before a run
# made creating files in it slow: on ext4 without a journal (as here) a
# new inode skips the recently freed ones (recently_deleted(), reading
# their inode table blocks), a third of a millisecond per file, growing
# run after run; and the previous run's dirty pages would be written
# back during it. Costs of the harness, not of the client.
settle() {
	discard "$1"
	sync
}

# ------------------------------------------------------------- scenarios
# fresh_runs SID MODE PORT N GEN...: RUNS timed runs per client from an
# empty store and state (MODE delete: the server refilled before each),
# then the strace run.
fresh_runs() {
	local sid=$1 mode=$2 port=$3 n=$4 run client dir
	shift 4
	for run in $(seq "$RUNS") strace; do
		for client in "${CLIENTS[@]}"; do
			if [ "$mode" = delete ]; then
				"$PYTHON" "$BENCH/mailbox.py" clear "$DOVECOT_MAILDIR"
				fill "$@"
			fi
			dir=$W/$sid/$client
			settle "$dir"
			setup "$client" "$dir" "$port" "$mode" 0
			if [ "$run" = strace ]; then
				strace_run "$sid" "$client" "$dir" "$n"
			else
				timed_run "$sid" "$client" "$run" "$dir"
			fi
			check "$client" "$dir" "$n" "$@"
			if [ "$mode" = delete ]; then
				local left
				left=$("$PYTHON" "$BENCH/mailbox.py" count "$DOVECOT_MAILDIR")
				[ "$left" = 0 ] || die "$client left $left message(s) on the server in $sid"
			fi
		done
		say "$sid: run $run done"
	done
	discard "${W:?}/$sid"
}

kb() { echo $(($1 / 1024)); }

say "keep: $N_KEEP x 4 KB"
label keep "$N_KEEP × 4 KB, keep"
server_fresh
fill "$W/gen/old" "$W/gen/new"
fresh_runs keep keep "$DOVECOT_PORT" "$N_KEEP" "$W/gen/old" "$W/gen/new"

say "delete: $N_DEL x 4 KB"
label delete "$N_DEL × 4 KB, delete"
server_fresh
fresh_runs delete delete "$DOVECOT_PORT" "$N_DEL" "$W/gen/del"

if [ "$BIG_SIZE" -ge $((1 << 20)) ]; then bigl="$((BIG_SIZE >> 20)) MB"; else bigl="$(kb "$BIG_SIZE") KB"; fi
say "big: $N_BIG x $bigl"
label big "$N_BIG × $bigl, keep"
server_fresh
fill "$W/gen/big"
fresh_runs big keep "$DOVECOT_PORT" "$N_BIG" "$W/gen/big"

say "new: $N_NEW new among $N_KEEP"
label new "$N_NEW new among $N_KEEP"
server_fresh
fill "$W/gen/old"
# Each client's store and state after a full fetch of the old messages,
# kept aside and put back (same paths: popfetch's journal is keyed by the
# store's path) before every run.
for client in "${CLIENTS[@]}"; do
	dir=$W/new/$client
	setup "$client" "$dir" "$DOVECOT_PORT" keep 0
	"${CMD[@]}" >"$dir/out" 2>"$dir/err" </dev/null || {
		cat "$dir/err" >&2
		die "$client: the full fetch before the new-mail runs failed"
	}
	check "$client" "$dir" $((N_KEEP - N_NEW)) "$W/gen/old"
	cp -a -- "$dir" "$dir.base"
done
fill "$W/gen/new"
for run in $(seq "$RUNS") strace; do
	for client in "${CLIENTS[@]}"; do
		dir=$W/new/$client
		settle "$dir"
		cp -a -- "$dir.base" "$dir"
		sync
		setup "$client" "$dir" "$DOVECOT_PORT" keep $((N_KEEP - N_NEW))
		if [ "$run" = strace ]; then
			strace_run new "$client" "$dir" "$N_NEW"
		else
			timed_run new "$client" "$run" "$dir"
		fi
		if [ "$client" = floor ]; then
			check floor "$dir" "$N_NEW"
		else
			check "$client" "$dir" "$N_KEEP" "$W/gen/old" "$W/gen/new"
		fi
	done
	say "new: run $run done"
done
discard "$W/new"

say "wan: $N_WAN x 4 KB through a 20 ms round trip"
label wan "$N_WAN × 4 KB, 20 ms RTT"
server_fresh
fill "$W/gen/wan"
rm -f "$W/proxy.port"
"$PYTHON" "$BENCH/delayproxy.py" --target "$DOVECOT_PORT" --delay 10 \
	--port-file "$W/proxy.port" 2>"$W/proxy.err" &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$W/proxy.port" ] && break; sleep 0.05; done
[ -s "$W/proxy.port" ] || { cat "$W/proxy.err" >&2; die "delayproxy did not start"; }
fresh_runs wan keep "$(cat "$W/proxy.port")" "$N_WAN" "$W/gen/wan"
kill "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
PROXY_PID=

dovecot_stop
DOVECOT_DIR=

# ------------------------------------------------------------------ report
"$PYTHON" "$BENCH/report.py" "$W" >"$TOP_BUILDDIR/bench/results.md" ||
	die "report failed"
cat "$TOP_BUILDDIR/bench/results.md"
rm -rf -- "$TRASH"
[ -n "${BENCH_KEEP:-}" ] || rm -rf -- "$W"
