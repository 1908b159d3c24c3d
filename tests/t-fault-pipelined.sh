#!/bin/bash
# t-fault-pipelined: every fault the t-fault-* scenarios test keeps its
# outcome under pipelining (RFC 2449).  The scripts run again with
# FAULT_PIPELINING=1 (tests/fault.sh): every fake server lists PIPELINING
# in CAPA, so popfetch sends its RETRs, and then its DELEs, without
# waiting for each reply, and a fault on RETR 2 or DELE 2 of three meets
# commands in flight on both sides of it.  Each scenario makes the same
# checks as in its own test: the exit code, the one error line (where the
# scenario names one), lost 0 dup 0, nothing partial, the journal right,
# no DELE for an unstored message, a clean rerun.  Their SCENARIO lines
# come out here as "SCENARIO pipelined NAME: ..."; their files are in
# tests/tmp/t-fault-*-pipelined/.
#
# Left out (FAULT_SKIP below; "SCENARIO-SKIPPED NAME" in the log): faults
# that fire before the login completes (greeting, CAPA, USER, PASS, AUTH)
# or before any connection, and scenarios with a single message, where
# nothing can be in flight: popfetch pipelines only RETR and DELE, so
# these runs would repeat the plain ones word for word, and some (stalls
# and trickles at the greeting or PASS) cost seconds each.  Kept although
# nothing is in flight yet: the -ERR, drops and floods on STAT, LIST and
# UIDL (about a second each; they would catch a popfetch that starts
# pipelining its listing commands), but not the LIST reply that trickles
# or never ends (t-fault-time: 2-4 s each, a test of the reader's clock
# and memory bound, which RETR's trickle and hugeline cases cover with
# commands in flight).  About 65 s in all (plain build, 2 CPUs; 75 s
# with ASan, 160 s under make check-valgrind); the 23 scenarios of 90
# left out would add about 50 s.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-fault-pipelined
trap t_cleanup EXIT

# Scenario names (tests/fault.sh: an extended regex, whole name).
skip=(
	# t-fault-drop, t-fault-reset: before or during the login.
	'drop-(greeting|capa|user|pass|auth)-(close|reset)'
	# t-fault-err: refusals of USER and AUTH.
	'in-use-user' 'login-delay-auth' 'auth-auth'
	# t-fault-time: the greeting and PASS stall or trickle; slow-store
	# has one message.
	'stall-greeting' 'trickle-greeting(-raw)?' 'trickle-pass-raw'
	'slow-store'
	# t-fault-time: the LIST reply's clock and memory bound.
	'trickle-list(-raw)?' 'hugeline-LIST'
	# t-fault-disk: the mbox is found locked before the first RETR.
	'lock-dotlock' 'lock-fcntl'
)
FAULT_SKIP=$(IFS='|'; printf '%s' "${skip[*]}")
export FAULT_PIPELINING=1 FAULT_SKIP T_SUFFIX=-pipelined

failed=() scripts_failed=()
npass=0 nskip=0
t0=$(date +%s%N)
# Every t-fault script, so that a new one is covered too.
for script in "$TESTS_SRCDIR"/t-fault-*.sh; do
	name=${script##*/t-fault-}
	name=${name%.sh}
	[ "$name" != pipelined ] || continue
	s0=$(date +%s%N)
	note "t-fault-$name.sh with PIPELINING"
	# Every line as the script wrote it (the summary comes from its
	# SCENARIO lines), the scenario lines tagged.
	bash "$script" 2>&1 | tee "$T/$name.log" |
		sed -u 's/^SCENARIO\([-A-Z]*\) /SCENARIO\1 pipelined /'
	rc=${PIPESTATUS[0]}
	ms=$((($(date +%s%N) - s0) / 1000000))
	n=$(grep -c '^SCENARIO [^:]*:' "$T/$name.log")
	k=$(grep -c '^SCENARIO-SKIPPED ' "$T/$name.log")
	npass=$((npass + n)) nskip=$((nskip + k))
	mapfile -t f < <(sed -n 's/^SCENARIO-FAILED //p' "$T/$name.log")
	failed+=("${f[@]/#/t-fault-$name:}")
	note "t-fault-$name.sh: exit $rc, $n passed, ${#f[@]} failed, $k skipped, $ms ms"
	case $rc in
	0) ;;
	77) note "t-fault-$name.sh skipped itself" ;;
	*) [ ${#f[@]} -gt 0 ] || scripts_failed+=("t-fault-$name (exit $rc)") ;;
	esac
done
note "pipelined: $npass scenario(s) passed, ${#failed[@]} failed, $nskip skipped," \
	"$((($(date +%s%N) - t0) / 1000000)) ms"
[ ${#failed[@]} -eq 0 ] || printf 'FAILED pipelined: %s\n' "${failed[@]}"
[ ${#scripts_failed[@]} -eq 0 ] || printf 'FAILED script: %s\n' "${scripts_failed[@]}"
[ ${#failed[@]} -eq 0 ] && [ ${#scripts_failed[@]} -eq 0 ] ||
	fail "$((${#failed[@]} + ${#scripts_failed[@]})) failure(s) under pipelining (above)"
exit 0
