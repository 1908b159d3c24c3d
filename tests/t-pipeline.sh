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

scenario no-pipelining plain no-pipelining ""
scenario pipelining plain pipelining --pipelining
scenario utf8 utf8
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
