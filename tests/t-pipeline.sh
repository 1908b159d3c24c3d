#!/bin/bash
# t-pipeline: commands in flight (RFC 2449), against the fake server.
#  - Without PIPELINING in CAPA, one command at a time: the server logs
#    "EARLY <command>" for any command that arrived before the previous
#    reply went out, and there must be none.
#  - With PIPELINING, RETRs and DELEs do arrive together; every message
#    stored once, all deleted.
#  - Faults in the middle of a window (-ERR, a drop, a reset, a stall):
#    the exit code and one line as without pipelining, nothing deleted
#    that is not stored, nothing lost or twice; a clean rerun completes.
#  - UTF8 (RFC 6856) is sent when CAPA lists it, and only then.
#  - Across batches (tests/popfetch_hooks, POPFETCH_BATCH=3: 1-3, 4-6,
#    7-8; its crash-point names logged into the server's command log, in
#    the order they happen): with PIPELINING the next batch's RETRs
#    arrive before the previous batch's DELEs, and no DELE arrives before
#    its batch is recorded (batch-recorded: files and journal synced);
#    without it, still one command at a time. A DELE's -ERR read behind
#    the next batch's RETRs fails the run as one read at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-pipeline
trap t_cleanup EXIT

FAULT_MSGS=$T/msgs
mkdir -p "$FAULT_MSGS"
for i in 1 2 3 4 5 6 7 8; do
	j=$(((i - 1) % 5 + 1))
	{ printf 'X-Seq: %d\n' "$i"; cat "$DATA/plain$j.eml"; } >"$FAULT_MSGS/m$i"
done

plain() {
	local name=$1 pipe=$2
	note "$name: one command at a time unless PIPELINING is offered"
	# shellcheck disable=SC2086
	fault_begin "$name" '[]' --watch-early $pipe
	fault_run1 0
	if [ -n "$pipe" ]; then
		saw 'EARLY RETR [0-9]+'
		saw 'EARLY DELE [0-9]+'
	else
		not_saw 'EARLY .*'
	fi
	not_saw 'UTF8'
	fault_rerun
}

utf8() {
	note "UTF8 offered: sent once, after the login"
	fault_begin utf8 '[]' --utf8
	fault_run1 0
	saw 'UTF8'
	assert_eq 1 "$(grep -c '^UTF8$' "$FAKE_LOG")" "UTF8 commands"
	fault_rerun
}

# A fault in the middle of a window of pipelined RETRs.
mid() {
	local name=$1 want=$2 fl=$3 re=$4
	fault_begin "$name" "[$fl]" --pipelining --watch-early
	fault_run1 "$want" "$re"
	saw 'EARLY RETR [0-9]+'
	not_saw 'DELE [4-8]'
	fault_rerun
}

# across NAME PIPE: batches of 3; see the top.
HOOKS=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
across() {
	local name=$1 pipe=$2 out
	[ -x "$HOOKS" ] || fail "no $HOOKS (make check builds it)"
	# shellcheck disable=SC2086
	fault_begin "$name" '[]' --watch-early $pipe
	POPFETCH=$HOOKS POPFETCH_BATCH=3 POPFETCH_HOOK_LOG=$FAKE_LOG fault_run1 0
	out=$(awk '
		/^batch-recorded$/ { rec++ }
		/^RETR [0-9]+$/ && !($2 in retr) { retr[$2] = NR }
		/^DELE [0-9]+$/ && !($2 in dele) {
			dele[$2] = NR
			if (rec < int(($2 + 2) / 3))
				print "DELE " $2 " before its batch was recorded"
		}
		END {
			if (length(dele) != 8) print length(dele) " DELEs"
			print (retr[4] < dele[1] && retr[7] < dele[4]) ? \
			    "next-retr-first" : "dele-first"
		}' "$FAKE_LOG")
	if [ -n "$pipe" ]; then
		assert_eq next-retr-first "$out" "$name: the server's log"
		saw 'EARLY RETR [0-9]+'
	else
		assert_eq dele-first "$out" "$name: the server's log"
		not_saw 'EARLY .*'
	fi
	fault_rerun
}

# A DELE refused while the next batch's RETRs are in flight (its reply is
# read before theirs), or at the end (read before QUIT).
across_err() {
	local name=$1 batch=$2 re=$3
	fault_begin "$name" '[{"on": "DELE 2", "conn": 1, "action": "err", "text": "cannot delete"}]' \
		--pipelining
	POPFETCH=$HOOKS POPFETCH_BATCH=$batch fault_run1 76 "$re"
	fault_rerun
}

scenario no-pipelining plain no-pipelining ""
scenario pipelining plain pipelining --pipelining
scenario utf8 utf8
scenario across-batches across across-batches --pipelining
scenario across-batches-no-pipelining across across-batches-no-pipelining ""
scenario pipe-err-dele-across across_err pipe-err-dele-across 3 \
	': DELE 2: server said "-ERR cannot delete"$'
scenario pipe-err-dele-quit across_err pipe-err-dele-quit 64 \
	'deletions not confirmed.*DELE 2: server said "-ERR cannot delete"'
FAULT_TIMEOUT=2s
while IFS='|' read -r name want fl re; do
	[ -n "$name" ] && scenario "$name" mid "$name" "$want" "$fl" "$re"
done <<'EOF2'
pipe-err-retr|76|{"on": "RETR 4", "conn": 1, "action": "err", "text": "no such message"}|"-ERR no such message"
pipe-temp-retr|75|{"on": "RETR 4", "conn": 1, "action": "err", "text": "[SYS/TEMP] disk error"}|SYS/TEMP
pipe-close-retr|75|{"on": "RETR 4", "conn": 1, "action": "close"}|connection lost
pipe-reset-retr|75|{"on": "RETR 4", "conn": 1, "action": "reset"}|connection lost
pipe-cut-retr|75|{"on": "RETR 4", "conn": 1, "action": "cut", "bytes": 40}|RETR 4
pipe-stall-retr|75|{"on": "RETR 4", "conn": 1, "action": "stall", "seconds": 4}|timed out
EOF2
fault_summary
exit 0
