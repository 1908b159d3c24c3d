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
#   scale  100,000 x 1 KB, keep                [2000]  the first full fetch
#          (timed once per client), then 50 new among them: the store and
#          state of a full fetch of the others put back before each run
#   huge   one 1 GB message, keep             [20 MB]
#   accts  20 accounts x 250 x 4 KB, keep     [3 accounts]  popfetch -j 8
#          (n/a while popfetch has no -j) against mpop --all-accounts,
#          which fetches them one by one; one Dovecot user per account
#   config popfetch --check-config of 10,000 accounts, every key set
#          [200]; n/a when popfetch refuses the file
# BENCH_ONLY="scale huge" runs only those scenarios.
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
: >"$RES" && : >"$SYN" && : >"$LAB" && : >"$W/notes.tsv"
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
	N_SCALE=2000 HUGE_SIZE=$((20 << 20)) N_ACCT=3 N_CONF=200
else
	N_KEEP=5000 N_DEL=2000 N_BIG=10 BIG_SIZE=$((10 << 20)) N_NEW=50 N_WAN=1000
	N_SCALE=100000 HUGE_SIZE=$((1 << 30)) N_ACCT=20 N_CONF=10000
fi
N_SCALE_NEW=50 N_ACCT_MSG=250 JOBS=8
ALL_SCENARIOS="keep delete big new wan scale huge accts config"
ONLY=${BENCH_ONLY:-$ALL_SCENARIOS}
for sid in $ONLY; do
	[[ " $ALL_SCENARIOS " == *" $sid "* ]] || die "BENCH_ONLY: no scenario $sid (known: $ALL_SCENARIOS)"
done
want() { [[ " $ONLY " == *" $1 "* ]]; }
say "generating mailboxes"
gen() { "$PYTHON" "$BENCH/mailbox.py" generate "$@" || die "generate $*"; }
# One pool of small messages: the first N_KEEP-N_NEW (old), the rest (new);
# keep and new use both; delete and wan their own (other seeds).
if want keep || want new; then
	gen "$W/gen/old" small $((N_KEEP - N_NEW)) --seed 1
	gen "$W/gen/new" small "$N_NEW" --seed 1 --first $((N_KEEP - N_NEW + 1))
fi
want delete && gen "$W/gen/del" small "$N_DEL" --seed 2
want wan && gen "$W/gen/wan" small "$N_WAN" --seed 3
want big && gen "$W/gen/big" big "$N_BIG" --seed 4 --size "$BIG_SIZE"
if want scale; then
	gen "$W/gen/sold" small $((N_SCALE - N_SCALE_NEW)) --seed 5 --size 1024
	gen "$W/gen/snew" small "$N_SCALE_NEW" --seed 5 --size 1024 \
		--first $((N_SCALE - N_SCALE_NEW + 1))
fi
want huge && gen "$W/gen/huge" big 1 --seed 7 --size "$HUGE_SIZE"
want accts && gen "$W/gen/acct" small "$N_ACCT_MSG" --seed 6

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
# note_add SID TEXT: a line under the report's table (a client n/a, say).
note_add() { printf '%s\t%s\n' "$1" "$2" >>"$W/notes.tsv"; say "$1: $2"; }

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

if want keep; then
say "keep: $N_KEEP x 4 KB"
label keep "$N_KEEP × 4 KB, keep"
server_fresh
fill "$W/gen/old" "$W/gen/new"
fresh_runs keep keep "$DOVECOT_PORT" "$N_KEEP" "$W/gen/old" "$W/gen/new"
fi

if want delete; then
say "delete: $N_DEL x 4 KB"
label delete "$N_DEL × 4 KB, delete"
server_fresh
fresh_runs delete delete "$DOVECOT_PORT" "$N_DEL" "$W/gen/del"
fi

if want big; then
if [ "$BIG_SIZE" -ge $((1 << 20)) ]; then bigl="$((BIG_SIZE >> 20)) MB"; else bigl="$(kb "$BIG_SIZE") KB"; fi
say "big: $N_BIG x $bigl"
label big "$N_BIG × $bigl, keep"
server_fresh
fill "$W/gen/big"
fresh_runs big keep "$DOVECOT_PORT" "$N_BIG" "$W/gen/big"
fi

# incremental SID OLD_GEN NEW_GEN NOLD NALL [FULL_SID]: every client
# fetches OLD_GEN (already on the server) once, untimed unless FULL_SID
# names a scenario to record that run under; then NEW_GEN is delivered
# and each timed run starts from a copy of that store and state (same
# paths: popfetch's journal is keyed by the store's path).
incremental() {
	local sid=$1 old=$2 new=$3 nold=$4 nall=$5 full=${6:-} run client dir
	for client in "${CLIENTS[@]}"; do
		dir=$W/$sid/$client
		settle "$dir"
		setup "$client" "$dir" "$DOVECOT_PORT" keep 0
		if [ -n "$full" ]; then
			timed_run "$full" "$client" 1 "$dir"
		elif ! "${CMD[@]}" >"$dir/out" 2>"$dir/err" </dev/null; then
			cat "$dir/err" >&2
			die "$client: the full fetch before the $sid runs failed"
		fi
		check "$client" "$dir" "$nold" "$old"
		cp -a -- "$dir" "$dir.base"
	done
	fill "$new"
	for run in $(seq "$RUNS") strace; do
		for client in "${CLIENTS[@]}"; do
			dir=$W/$sid/$client
			settle "$dir"
			cp -a -- "$dir.base" "$dir"
			sync
			setup "$client" "$dir" "$DOVECOT_PORT" keep "$nold"
			if [ "$run" = strace ]; then
				strace_run "$sid" "$client" "$dir" $((nall - nold))
			else
				timed_run "$sid" "$client" "$run" "$dir"
			fi
			if [ "$client" = floor ]; then
				check floor "$dir" $((nall - nold))
			else
				check "$client" "$dir" "$nall" "$old" "$new"
			fi
		done
		say "$sid: run $run done"
	done
	discard "$W/$sid"
}

if want new; then
say "new: $N_NEW new among $N_KEEP"
label new "$N_NEW new among $N_KEEP"
server_fresh
fill "$W/gen/old"
incremental new "$W/gen/old" "$W/gen/new" $((N_KEEP - N_NEW)) "$N_KEEP"
fi

if want wan; then
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
fi

if want scale; then
say "scale: $N_SCALE x 1 KB, then $N_SCALE_NEW new among them"
label scale-full "$N_SCALE × 1 KB, keep, first full fetch (one run)"
label scale "$N_SCALE_NEW new among $N_SCALE × 1 KB"
server_fresh
fill "$W/gen/sold"
incremental scale "$W/gen/sold" "$W/gen/snew" $((N_SCALE - N_SCALE_NEW)) \
	"$N_SCALE" scale-full
fi

if want huge; then
if [ "$HUGE_SIZE" -ge $((1 << 30)) ]; then hl="$((HUGE_SIZE >> 30)) GB"; else hl="$((HUGE_SIZE >> 20)) MB"; fi
say "huge: one message of $hl"
label huge "1 × $hl, keep"
server_fresh
fill "$W/gen/huge"
fresh_runs huge keep "$DOVECOT_PORT" 1 "$W/gen/huge"
fi

# add_users N: Dovecot users u1..uN (the password of the first user),
# each with an empty Maildir owned by the mail user.
add_users() {
	local k home
	for k in $(seq "$1"); do
		printf 'u%d:{PLAIN}%s::::::\n' "$k" "$DOVECOT_PASS" >>"$DOVECOT_DIR/passwd"
		home=$DOVECOT_DIR/home/u$k
		mkdir -p -- "$home/Maildir/new" "$home/Maildir/cur" "$home/Maildir/tmp"
		chown -R "$DOVECOT_MAIL_UID:$DOVECOT_MAIL_GID" "$home"
		chmod 700 "$home" "$home/Maildir"
	done
}

# popfetch_has_jobs: this popfetch takes -j N.
popfetch_has_jobs() {
	"$POPFETCH" --help 2>&1 | grep -Eq -- '(^|[ ,\[])-j( |,|$| N)'
}

if want accts; then
say "accts: $N_ACCT accounts x $N_ACCT_MSG x 4 KB"
label accts "$N_ACCT accounts × $N_ACCT_MSG × 4 KB, keep (popfetch -j $JOBS, mpop one by one)"
server_fresh
add_users "$N_ACCT"
for k in $(seq "$N_ACCT"); do
	"$PYTHON" "$BENCH/mailbox.py" deliver "$DOVECOT_DIR/home/u$k/Maildir" \
		"$W/gen/acct" --uid "$DOVECOT_MAIL_UID" --gid "$DOVECOT_MAIL_GID" ||
		die "deliver u$k"
	"$FLOOR" -l 127.0.0.1 "$DOVECOT_PORT" "u$k" >/dev/null ||
		die "the server does not list u$k's mailbox"
done
AC_CLIENTS=()
[ -n "$MPOP" ] && AC_CLIENTS+=(mpop)
if popfetch_has_jobs; then
	AC_CLIENTS+=(popfetch)
else
	note_add accts "popfetch n/a: this popfetch has no -j (its --help does not list it)"
fi
for run in $(seq "$RUNS") strace; do
	for client in "${AC_CLIENTS[@]}"; do
		dir=$W/accts/$client
		settle "$dir"
		mkdir -p -- "$dir"
		if [ "$client" = mpop ]; then
			{
				printf 'defaults\nhost 127.0.0.1\nport %s\ntls off\nauth user\n' "$DOVECOT_PORT"
				printf 'password %s\nreceived_header off\nkeep on\n' "$DOVECOT_PASS"
				for k in $(seq "$N_ACCT"); do
					mkdir -p -- "$dir/m$k/Maildir/new" "$dir/m$k/Maildir/cur" "$dir/m$k/Maildir/tmp"
					printf 'account a%d\nuser u%d\ndelivery maildir %s\nuidls_file %s\n' \
						"$k" "$k" "$dir/m$k/Maildir" "$dir/uidls$k"
				done
			} | config_write "$dir/mpoprc"
			CMD=("$MPOP" -q -C "$dir/mpoprc" -a)
		else
			{
				printf 'accounts:\n'
				for k in $(seq "$N_ACCT"); do
					T=$dir popfetch_account name="a$k" user="u$k" \
						port="$DOVECOT_PORT" maildir="$dir/m$k/Maildir" \
						state_dir="$dir/state" keep=true
				done
			} | config_write "$dir/popfetch.yaml"
			CMD=("$POPFETCH" -j "$JOBS" -c "$dir/popfetch.yaml")
		fi
		if [ "$run" = strace ]; then
			strace_run accts "$client" "$dir" $((N_ACCT * N_ACCT_MSG))
		else
			timed_run accts "$client" "$run" "$dir"
		fi
		for k in $(seq "$N_ACCT"); do
			check "$client" "$dir/m$k" "$N_ACCT_MSG" "$W/gen/acct"
		done
	done
	say "accts: run $run done"
done
discard "$W/accts"
fi

if want config; then
say "config: --check-config of $N_CONF accounts"
label config "--check-config, $N_CONF accounts, every key"
dir=$W/config
mkdir -p -- "$dir/ca" "$dir/state"
printf 'secret\n' >"$dir/pass" && chmod 600 "$dir/pass"
cp -- "$TOP_SRCDIR/tests/data/ca.pem" "$dir/ca/ca.pem" 2>/dev/null ||
	printf 'not used\n' >"$dir/ca/ca.pem"
"$PYTHON" - "$dir" "$N_CONF" <<'PY' || die "config generation"
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/popfetch.yaml", "w") as f:
    f.write("defaults:\n  timeout: 60s\n  state_dir: %s/state\naccounts:\n" % d)
    for k in range(1, n + 1):
        f.write(
            "  - name: acct%(k)d\n"
            "    host: pop%(k)d.example.org\n"
            "    port: 995\n"
            "    tls: implicit\n"
            "    tls_min_version: \"1.2\"\n"
            "    ca_file: %(d)s/ca/ca.pem\n"
            "    auth: plain\n"
            "    user: user%(k)d@example.org\n"
            "    password_file: %(d)s/pass\n"
            "    maildir: %(d)s/mail/acct%(k)d\n"
            "    state_dir: %(d)s/state\n"
            "    keep: true\n"
            "    delete_after: 30d\n"
            "    forget_after: 60d\n"
            "    timeout: 90s\n"
            "    max_size: 30M\n"
            "    max_messages: 1000\n"
            "    max_bytes: 500M\n"
            "    add_headers: [received, delivered-to, x-popfetch-uidl, return-path]\n"
            % {"k": k, "d": d})
PY
chmod 600 "$dir/popfetch.yaml"
CMD=("$POPFETCH" --check-config -c "$dir/popfetch.yaml")
ok=1
for run in $(seq "$RUNS"); do
	rc=0
	"$TIMED" "$dir/timed" "${CMD[@]}" >"$dir/out" 2>"$dir/err" </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		note_add config "popfetch n/a: --check-config exited $rc: $(head -c 300 "$dir/err" | head -3 | tr '\n' ' ')"
		ok=
		break
	fi
	read -r r <"$dir/timed"
	printf '%s\t%s\t%s\t%s\n' config popfetch "$run" "$r" >>"$RES"
done
if [ -n "$ok" ]; then
	n=$(grep -c 'acct[0-9]' "$dir/out")
	[ "$n" -ge "$N_CONF" ] ||
		note_add config "--check-config listed $n of $N_CONF accounts"
fi
discard "$dir"
fi

dovecot_stop
DOVECOT_DIR=

# ------------------------------------------------------------------ report
"$PYTHON" "$BENCH/report.py" "$W" >"$TOP_BUILDDIR/bench/results.md" ||
	die "report failed"
cat "$TOP_BUILDDIR/bench/results.md"
rm -rf -- "$TRASH"
[ -n "${BENCH_KEEP:-}" ] || rm -rf -- "$W"
