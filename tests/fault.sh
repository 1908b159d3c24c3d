# tests/fault.sh - the scenario driver shared by tests/t-fault-*.sh.
#
# Sourced after lib.sh.  One scenario = a fresh fake server (faults on its
# first connection only, unless a fault says otherwise), a fresh store and
# state, a run that meets the fault, checks, and usually a clean rerun:
#
#   fault_begin NAME 'JSON-FAULTS' [FAKEPOP3 ARGS...]
#       $T/NAME/: scenario.json ({"faults": JSON-FAULTS} plus
#       $FAULT_SCENARIO_EXTRA, e.g. '"messages": [...]'), the fake
#       server (messages from $FAULT_MSGS unless empty), config.yaml for
#       account NAME (keep: $FAULT_KEEP, default false; timeout
#       $FAULT_TIMEOUT, default 5s; mbox when FAULT_STORE=mbox; more
#       KEY=VALUE pairs in the array FAULT_CONF).
#   fault_run1 'RC-PATTERN' [ERROR-REGEX]
#       run popfetch; the exit code is one of RC-PATTERN ("75",
#       "75|76"), stdout is empty, stderr is one line
#       "popfetch: NAME: ..." matching ERROR-REGEX; then the promises
#       (check_promises: lost 0, dup 0, nothing partial, journal right).
#       RUN_MS: how long the run took.
#       and no DELE names an unstored message.
#   fault_rerun
#       a clean run: exit 0, silent; promises again; every message stored
#       exactly once and (keep: false) the server empty.  Prints the
#       SCENARIO line with the first run's exit code.
#   fault_end: stop the server (fault_rerun does it; for scenarios
#       without a rerun, call scenario_report yourself, then fault_end).
#   saw REGEX / not_saw REGEX: the server's command log (all runs so far)
#       has / has no line matching ^REGEX$.
#
# FAULT_PIPELINING=1 (set by t-fault-pipelined.sh): every fake server
# offers PIPELINING (RFC 2449), so popfetch sends its RETRs and DELEs
# without waiting for each reply, and each scenario checks that the fault
# keeps its outcome with commands in flight.  The scenarios keep their
# names (the account is named after the scenario and the checks quote
# it); t-fault-pipelined.sh tags their SCENARIO lines, and $T gets the
# suffix "-pipelined" so that both passes can run at once (make -j).

# Three small messages, UIDLs m1 m2 m3.
fault_default_msgs() {
	FAULT_MSGS=$T/msgs
	mkdir -p "$FAULT_MSGS"
	cp "$DATA/plain1.eml" "$FAULT_MSGS/m1"
	cp "$DATA/plain2.eml" "$FAULT_MSGS/m2"
	cp "$DATA/plain3.eml" "$FAULT_MSGS/m3"
}

fault_begin() {
	local args=()
	FNAME=$1
	S=$T/$1
	shift
	local faults=$1
	shift
	fakepop3_stop
	rm -rf -- "$S"
	mkdir -p -- "$S"
	printf '{"faults": %s%s}\n' "$faults" \
		"${FAULT_SCENARIO_EXTRA:+, $FAULT_SCENARIO_EXTRA}" >"$S/scenario.json"
	[ -n "${FAULT_MSGS:-}" ] && args+=(--messages "$FAULT_MSGS")
	[ -n "${FAULT_PIPELINING:-}" ] && args+=(--pipelining)
	fakepop3_start "$S/fake" -v "${args[@]}" --scenario "$S/scenario.json" \
		--timeout 300 "$@" || fail "$FNAME: cannot start the fake server"
	local store=(maildir="$S/Maildir")
	FSTORE_PATH=$S/Maildir
	if [ "${FAULT_STORE:-maildir}" = mbox ]; then
		store=(mbox="$S/mbox")
		FSTORE_PATH=$S/mbox
	fi
	FSTATE=$S/state/$(state_key alice 127.0.0.1 "$FAKE_PORT" \
		"${FAULT_STORE:-maildir}" "$FSTORE_PATH").state
	popfetch_config "$S/config.yaml" name="$FNAME" port="$FAKE_PORT" \
		keep="${FAULT_KEEP:-false}" timeout="${FAULT_TIMEOUT:-5s}" \
		"${store[@]}" state_dir="$S/state" "${FAULT_CONF[@]}"
}

fault_end() {
	fakepop3_stop
}

saw() {
	grep -E -q -- "^($1)\$" "$FAKE_LOG" || {
		printf -- '--- %s:\n' "$FAKE_LOG" >&2
		cat "$FAKE_LOG" >&2
		fail "$FNAME: the server never got /$1/"
	}
}

not_saw() {
	if grep -E -q -- "^($1)\$" "$FAKE_LOG"; then
		printf -- '--- %s:\n' "$FAKE_LOG" >&2
		cat "$FAKE_LOG" >&2
		fail "$FNAME: the server got /$1/"
	fi
}

# fault_promises [OPTION...]: check_promises on the scenario's store and
# journal, once the server's sessions have ended.
fault_promises() {
	check_promises "${FAULT_STORE:-maildir}" "$FSTORE_PATH" "$FSTATE" \
		--settle "${FAULT_SETTLE:-5}" ${FAULT_NOUIDL:+--no-uidl} "$@"
}

fault_run1() {
	local pat=$1 re=${2:-}
	local t0
	t0=$(date +%s%N)
	run_popfetch -c "$S/config.yaml"
	RUN_MS=$((($(date +%s%N) - t0) / 1000000))
	case "|$pat|" in
	*"|$RC|"*) ;;
	*) show_run; fail "$FNAME: expected exit $pat, got $RC" ;;
	esac
	if [ "$RC" != 0 ]; then
		assert_empty "$T/out" "$FNAME: stdout"
		assert_lines 1 "$T/err" "$FNAME: stderr"
		assert_grep "^popfetch: $FNAME: " "$T/err" "$FNAME: stderr names the account"
		[ -z "$re" ] || assert_grep "$re" "$T/err" "$FNAME: the error"
	fi
	RC1=$RC
	ERR1=$(cat "$T/err")
	fault_promises --dele-log "$FAKE_LOG"
}

fault_rerun() {
	run_popfetch -c "$S/config.yaml"
	expect_rc 0 "$FNAME: the clean rerun"
	if [ -z "${FAULT_NOUIDL:-}" ]; then
		expect_silent "$FNAME: the clean rerun"
	fi
	fault_promises --complete "$([ "${FAULT_KEEP:-false}" = true ] && echo keep || echo delete)"
	RC=$RC1
	[ -z "$ERR1" ] || printf '%s\n' "$ERR1" >&2
	scenario_report "$FNAME"
	fault_end
}

# scenario NAME FUNC ARGS...: run FUNC ARGS in a subshell, so that a failing
# scenario (fail exits) does not stop the others; its fake server is
# stopped either way.  fault_summary (at the end) fails the test if any
# scenario failed, naming them.  A NAME matching the extended regex
# $FAULT_SKIP (whole name) is not run: "SCENARIO-SKIPPED NAME" instead
# (t-fault-pipelined.sh leaves out the faults where nothing can be in
# flight).
_fault_failed=()
scenario() {
	local name=$1
	shift
	if [ -n "${FAULT_SKIP:-}" ] && [[ $name =~ ^($FAULT_SKIP)$ ]]; then
		printf 'SCENARIO-SKIPPED %s\n' "$name"
		return 0
	fi
	if ! (trap fakepop3_stop EXIT; "$@" </dev/null); then
		_fault_failed+=("$name")
		printf 'SCENARIO-FAILED %s\n' "$name"
	fi
}

fault_summary() {
	[ ${#_fault_failed[@]} -eq 0 ] ||
		fail "${#_fault_failed[@]} scenario(s) failed: ${_fault_failed[*]}"
}
