#!/bin/bash
# bench/stall.sh [RUNS] [TIMEOUT...]: how long a run takes when the server
# stalls, against the configured timeout.
#
# For each timeout (default: 2 5 seconds), each stall (mid-body, before a
# RETR reply, at QUIT, at the greeting, a RETR body trickled at two bytes
# a second) and each session path (auth: auto
# = libcurl performs, auth: user = popfetch's own reader), RUNS runs
# (default 5) against tests/fakepop3.py on 127.0.0.1; prints the median
# wall time, the ratio to the timeout, and an unstalled run of the same
# three messages as the reference. The promise: a stalled run ends within
# the timeout plus about a second (ratio <= (timeout + 1.5) / timeout).
#
# Run from a built tree: bench/stall.sh, or POPFETCH=/path/popfetch.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POPFETCH=${POPFETCH:-$top/popfetch}
FAKE=$top/tests/fakepop3.py
MSGS=$top/tests/data/messages
runs=${1:-5}
shift || true
timeouts=("$@")
[ ${#timeouts[@]} -gt 0 ] || timeouts=(2 5)
[ -x "$POPFETCH" ] || { echo "bench/stall.sh: build popfetch first ($POPFETCH)" >&2; exit 2; }
[ "$runs" -ge 1 ] && [ "$runs" -le 50 ] || { echo "bench/stall.sh: RUNS 1..50" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/popfetch-bench.XXXXXX")
FPID=
cleanup() {
	[ -z "$FPID" ] || kill "$FPID" 2>/dev/null
	rm -rf -- "$W"
}
trap cleanup EXIT
mkdir -p "$W/msgs"
for i in 1 2 3; do cp "$MSGS/plain$i.eml" "$W/msgs/m$i"; done
PASS=bench-$$-secret

# one FAULT-JSON AUTH TIMEOUT: one run; prints its wall time in ms.
one() {
	local fault=$1 auth=$2 to=$3 t0 t1 rc
	rm -rf "$W/s" && mkdir -p "$W/s"
	printf '{"faults": [%s]}\n' "$fault" >"$W/s/scenario.json"
	python3 "$FAKE" --port-file "$W/s/port" --log "$W/s/log" \
		--state "$W/s/state.json" --messages "$W/msgs" --pass "$PASS" \
		--scenario "$W/s/scenario.json" --timeout 120 \
		>/dev/null 2>"$W/s/server.err" </dev/null &
	FPID=$!
	for _ in $(seq 100); do [ -s "$W/s/port" ] && break; sleep 0.05; done
	[ -s "$W/s/port" ] || { cat "$W/s/server.err" >&2; exit 1; }
	(umask 077 && cat >"$W/s/c.yaml") <<CONF
accounts:
  - name: bench
    host: 127.0.0.1
    port: $(cat "$W/s/port")
    tls: none
    user: alice
    password: "$PASS"
    auth: $auth
    keep: false
    timeout: ${to}s
    maildir: $W/s/Maildir
    state_dir: $W/s/st
CONF
	t0=$(date +%s%N)
	"$POPFETCH" -c "$W/s/c.yaml" >/dev/null 2>"$W/s/err"
	rc=$?
	t1=$(date +%s%N)
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
	FPID=
	if [ -n "$fault" ] && [ $rc != 75 ]; then
		echo "bench/stall.sh: expected exit 75, got $rc: $(cat "$W/s/err")" >&2
		exit 1
	fi
	echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-16s %-5s %8s %10s %8s\n' stall auth timeout "median ms" ratio
for to in "${timeouts[@]}"; do
	secs=$((to + 4))
	for auth in auto user; do
		for case in none body retr quit greeting trickle; do
			case $case in
			none) f='' ;;
			body) f="{\"on\": \"RETR 2\", \"conn\": 1, \"action\": \"cut\", \"bytes\": 100, \"then\": \"stall\", \"seconds\": $secs}" ;;
			retr) f="{\"on\": \"RETR 2\", \"conn\": 1, \"action\": \"stall\", \"seconds\": $secs}" ;;
			quit) f="{\"on\": \"QUIT\", \"conn\": 1, \"action\": \"stall\", \"seconds\": $secs}" ;;
			greeting) f="{\"on\": \"greeting\", \"conn\": 1, \"action\": \"stall\", \"seconds\": $secs}" ;;
			trickle) f='{"on": "RETR 2", "conn": 1, "action": "trickle", "skip": "line", "seconds": 0.5}' ;;
			esac
			ms=$(for _ in $(seq "$runs"); do one "$f" "$auth" "$to" || exit 1; done | median)
			[ -n "$ms" ] || exit 1
			printf '%-16s %-5s %7ss %10s %8s\n' "$case" "$auth" "$to" "$ms" \
				"$(awk -v m="$ms" -v t="$to" 'BEGIN {printf "%.2f", m / (t * 1000)}')"
		done
	done
done
