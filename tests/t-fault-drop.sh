#!/bin/bash
# t-fault-drop: the connection is closed (FIN) or reset (RST) by the server
# at every step of a delete-mode session: before the greeting, on CAPA,
# USER, PASS, AUTH, STAT, LIST, UIDL, on RETR (no reply, and in the middle
# of the body), on DELE (no reply; and right after the reply), on QUIT
# (the DELEs not applied; and applied but the reply lost).  Each run fails
# with 75 and one line; nothing is lost, stored twice or left partial, the
# journal lists exactly what is stored, no DELE names an unstored message;
# a clean rerun completes the job.  FAULT_DROP=reset (t-fault-reset.sh):
# the same with a TCP RST.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
how=${FAULT_DROP:-close}
setup_tmp "t-fault-drop-$how"
trap t_cleanup EXIT
fault_default_msgs

one() {
	local step=$1 fl=$2 extra=$3
	# shellcheck disable=SC2086
	fault_begin "drop-$step-$how" "[$fl]" $extra
	fault_run1 75
	case $step in
	greeting | capa | user | pass | auth | stat | list | uidl)
		not_saw 'RETR.*|DELE.*' ;;
	retr-*) not_saw 'DELE 2' ;;
	esac
	# The cut is inside the body (a RST may discard what was received
	# before it, so only with FIN).
	[ "$step-$how" != retr-cut-close ] || assert_grep \
		'message 2: RETR 2: connection lost after 100 of 277 bytes' "$T/err" "$FNAME: the error"
	fault_rerun
	case $step in
	quit*)
		# Stored in run 1: the rerun deletes without RETR.
		assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "$FNAME: RETRs" ;;
	esac
}

# step | fault | extra fake server arguments
# retr-cut: 100 bytes, inside message 2's body (277 octets on the wire, 280
# with its "." line); at 300 the whole reply went out before the drop, so
# the drop met RETR 3 (or, pipelined, the reply still in flight) instead.
while IFS='|' read -r step fl extra; do
	[ -n "$step" ] && scenario "drop-$step-$how" one "$step" "$fl" "$extra"
done <<EOF
greeting|{"on": "greeting", "conn": 1, "action": "$how"}|
capa|{"on": "CAPA", "conn": 1, "action": "$how"}|
user|{"on": "USER", "conn": 1, "action": "$how"}|
pass|{"on": "PASS", "conn": 1, "action": "$how"}|
auth|{"on": "AUTH", "conn": 1, "action": "$how"}|--sasl PLAIN
stat|{"on": "STAT", "conn": 1, "action": "$how"}|
list|{"on": "LIST", "conn": 1, "action": "$how"}|
uidl|{"on": "UIDL", "conn": 1, "action": "$how"}|
retr-noreply|{"on": "RETR 2", "conn": 1, "action": "$how"}|
retr-cut|{"on": "RETR 2", "conn": 1, "action": "cut", "bytes": 100, "then": "$how"}|
dele-noreply|{"on": "DELE 2", "conn": 1, "action": "$how"}|
dele-after|{"on": "DELE 2", "conn": 1, "action": "closeafter", "then": "$how"}|
quit|{"on": "QUIT", "conn": 1, "action": "$how"}|
quit-commit|{"on": "QUIT", "conn": 1, "action": "$how", "commit": true}|
EOF
fault_summary
exit 0
