#!/bin/bash
# t-fault-err: -ERR replies in the middle of a delete-mode session: on
# RETR, DELE, QUIT, STAT, LIST, UIDL, and RESP-CODES ([SYS/TEMP],
# [SYS/PERM], [IN-USE], [LOGIN-DELAY], [AUTH]) on commands other than
# PASS (t-server covers PASS).  Each: the exit code the RESP-CODE (or its
# absence: 76, the server broke POP3) calls for, one line quoting the
# server, nothing lost, stored twice or partial, no DELE for an unstored
# message; a clean rerun completes the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-fault-err
trap t_cleanup EXIT
fault_default_msgs

one() {
	local name=$1 want=$2 fl=$3 extra=$4 text re
	text=$(printf '%s' "$fl" | sed -n 's/.*"text": "\([^"]*\)".*/\1/p')
	# shellcheck disable=SC2086
	fault_begin "$name" "[$fl]" $extra
	re="\"-ERR ${text//[/\\[}\""
	fault_run1 "$want" "$re"
	case $name in
	err-retr* | sys-temp-retr) not_saw 'DELE 2|DELE 3' ;;
	err-stat | err-list | err-uidl | sys-perm-list | in-use-user | login-delay-auth | auth-auth)
		not_saw 'RETR.*|DELE.*' ;;
	esac
	fault_rerun
}

# name | exit | fault | extra fake server arguments
while IFS='|' read -r name want fl extra; do
	[ -n "$name" ] && scenario "$name" one "$name" "$want" "$fl" "$extra"
done <<'EOF'
err-retr|76|{"on": "RETR 2", "conn": 1, "action": "err", "text": "no such message"}|
err-dele|76|{"on": "DELE 2", "conn": 1, "action": "err", "text": "cannot delete"}|
err-quit|76|{"on": "QUIT", "conn": 1, "action": "err", "text": "cannot commit"}|
err-stat|76|{"on": "STAT", "conn": 1, "action": "err", "text": "stat broken"}|
err-list|76|{"on": "LIST", "conn": 1, "action": "err", "text": "list broken"}|
err-uidl|76|{"on": "UIDL", "conn": 1, "action": "err", "text": "uidl broken"}|
sys-temp-retr|75|{"on": "RETR 2", "conn": 1, "action": "err", "text": "[SYS/TEMP] disk error"}|
sys-temp-dele|75|{"on": "DELE 2", "conn": 1, "action": "err", "text": "[SYS/TEMP] disk error"}|
sys-perm-list|69|{"on": "LIST", "conn": 1, "action": "err", "text": "[SYS/PERM] mailbox corrupt"}|
in-use-user|75|{"on": "USER", "conn": 1, "action": "err", "text": "[IN-USE] locked"}|
in-use-stat|75|{"on": "STAT", "conn": 1, "action": "err", "text": "[IN-USE] locked"}|
login-delay-auth|75|{"on": "AUTH", "conn": 1, "action": "err", "text": "[LOGIN-DELAY] wait 5 minutes"}|--sasl PLAIN
auth-auth|77|{"on": "AUTH", "conn": 1, "action": "err", "text": "[AUTH] bad credentials"}|--sasl PLAIN
EOF
fault_summary
exit 0
