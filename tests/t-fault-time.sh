#!/bin/bash
# t-fault-time: servers that never finish or go away between commands.
#  - a reply line that never ends (50 MB without CRLF, then close) to
#    LIST and to RETR: the account fails (75 or 76), popfetch's peak RSS
#    stays under 64 MB (/usr/bin/time), nothing partial stored;
#  - with "timeout: 2s", a server that stalls in the middle of a body,
#    that never answers QUIT, or that is slow to greet: the run ends
#    within 10 s with 75, nothing partial, no DELE for the stalled
#    message; the rerun completes (QUIT: without downloading again);
#  - with "timeout: 2s", a server that trickles a reply (one byte a
#    second) to RETR, LIST, the greeting, or PASS (auth: auto and user):
#    75 naming the slow server, within 30 s, nothing partial or twice;
#  - a slow store (2.5 s per body chunk, tests/popfetch_hooks) with a
#    prompt server and "timeout: 2s": not a timeout, all stored;
#  - the server drops the idle connection after LIST, UIDL, RETR 1 or
#    DELE 1 (libcurl would reconnect silently): 75, no second connection
#    in that run, nothing fetched or deleted under another number.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-fault-time
trap t_cleanup EXIT
fault_default_msgs
[ -x /usr/bin/time ] || note "no /usr/bin/time: peak memory not measured"

hugeline() {
	local on=$1 orig=$POPFETCH
	fault_begin "hugeline-${on// /}" "[{\"on\": \"$on\", \"conn\": 1, \"action\": \"hugeline\", \"bytes\": 52428800}]"
	# Under valgrind (POPFETCH_WRAPPER) the RSS would be valgrind's, and
	# valgrind would run the script, not popfetch: not measured there.
	if [ -x /usr/bin/time ] && [ -z "${POPFETCH_WRAPPER:-}" ]; then
		printf '#!/bin/sh\nexec /usr/bin/time -f %%M -o "%s" "%s" "$@"\n' \
			"$S/rss" "$POPFETCH" >"$S/timed"
		chmod 755 "$S/timed"
		POPFETCH=$S/timed
	fi
	fault_run1 '75|76'
	not_saw 'DELE.*'
	if [ -s "$S/rss" ]; then
		local kb
		kb=$(tail -n 1 "$S/rss")
		note "$FNAME: peak RSS $kb KB"
		[ "$kb" -lt 65536 ] || fail "$FNAME: peak RSS $kb KB (limit 64 MB)"
	fi
	POPFETCH=$orig
	fault_rerun
}

# timed_run1 RC: fault_run1, and the run took less than 10 s.
timed_run1() {
	fault_run1 "$@"
	note "$FNAME: the run took $RUN_MS ms (timeout: 2s)"
	[ "$RUN_MS" -lt 10000 ] || fail "$FNAME: the run took $RUN_MS ms with timeout: 2s"
}

stall() {
	local name=$1 fl=$2
	FAULT_TIMEOUT=2s FAULT_SETTLE=15
	fault_begin "$name" "[$fl]"
	timed_run1 75 'timed out|timeout'
	case $name in
	stall-body)
		not_saw 'DELE 2|DELE 3'
		# The stall is inside the body, not at the next reply.
		assert_grep 'message 2: RETR 2: connection lost after 100 of 277 bytes' \
			"$T/err" "$FNAME: the error" ;;
	esac
	fault_rerun
	case $name in
	stall-quit)
		assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "$FNAME: RETRs" ;;
	esac
}

# trickle NAME FAULT [AUTH]: with "timeout: 2s", a server that sends a
# reply one byte a second (fewer than 1 KiB in any 2 s) is a stalled
# server: the run ends with 75 and an error that says so, nothing partial
# or twice, no DELE for the message it was fetching; the rerun completes.
# Bounded: a run still going after 30 s fails the test (it once went on
# for as long as the trickle lasted). AUTH "user": our own USER/PASS
# (pop3_login.c) instead of libcurl's login. The greeting: libcurl hands over
# whole lines only, so popfetch cannot count the bytes of a greeting that
# never ends; libcurl's connect timeout (connect, greeting, login) ends
# it, and the error says "timed out".
trickle() {
	local name=$1 fl=$2 re='server too slow: fewer than 1024 bytes in 2 s'
	FAULT_TIMEOUT=2s FAULT_SETTLE=15
	[ -z "${3:-}" ] || FAULT_CONF=("auth=$3")
	case $name in
	trickle-greeting*) re='timed out \(timeout 2s\)' ;;
	esac
	fault_begin "$name" "[$fl]"
	POPFETCH_TEST_TIMEOUT=30
	fault_run1 75 "$re"
	POPFETCH_TEST_TIMEOUT=60
	case $name in
	trickle-body*) not_saw 'DELE 2|DELE 3' ;;
	trickle-list* | trickle-greeting* | trickle-pass*) not_saw 'RETR.*|DELE.*' ;;
	esac
	fault_rerun
}

# slow_store: the store is slow (tests/popfetch_hooks sleeps 2.5 s while
# it hands the last body chunk of the only message to the store) while the
# server is prompt, with "timeout: 2s": time spent writing is not server
# silence, so the message is stored and the run succeeds. (It once failed
# with "timed out" after the whole body had arrived.)
slow_store() {
	local hooks=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks} orig=$POPFETCH n
	[ -x "$hooks" ] || fail "no $hooks (make check builds it)"
	mkdir -p "$T/one"
	cp "$DATA/plain1.eml" "$T/one/m1"
	FAULT_TIMEOUT=2s FAULT_MSGS=$T/one
	fault_begin slow-store '[]'
	# Count the chunks in a keep-mode run first.
	sed 's/^    keep: false$/    keep: true/' "$S/config.yaml" >"$S/count.yaml"
	chmod 600 "$S/count.yaml"
	sed -i "s|state_dir: .*|state_dir: \"$S/count-state\"|; s|maildir: .*|maildir: \"$S/count-md\"|" "$S/count.yaml"
	POPFETCH_HOOK_LOG=$S/hooks.log "$hooks" -c "$S/count.yaml" ||
		fail "$FNAME: the counting run failed"
	n=$(grep -c '^msg-chunk$' "$S/hooks.log")
	[ "$n" -ge 1 ] || fail "$FNAME: no msg-chunk in the counting run"
	note "$FNAME: $n chunks; the store sleeps 2.5 s at the last"
	POPFETCH=$hooks
	export POPFETCH_HOOK_SLEEP=msg-chunk:2500:$n
	fault_run1 0
	unset POPFETCH_HOOK_SLEEP
	POPFETCH=$orig
	expect_silent "$FNAME"
	fault_promises --complete delete
	assert_eq 1 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	scenario_report "$FNAME"
	fault_end
}

closeafter() {
	local on=$1
	fault_begin "idle-drop-after-${on// /}" "[{\"on\": \"$on\", \"conn\": 1, \"action\": \"closeafter\"}]"
	fault_run1 75 'connection'
	"$PYTHON" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["connections"] != 1)' \
		"$FAKE_STATE" || fail "$FNAME: popfetch connected again in the same run"
	case $on in
	LIST | UIDL) not_saw 'RETR.*|DELE.*' ;;
	"RETR 1") not_saw 'RETR [23]|DELE.*' ;;
	"DELE 1") not_saw 'DELE [23]' ;;
	esac
	fault_rerun
}

scenario hugeline-LIST hugeline LIST
scenario hugeline-RETR2 hugeline "RETR 2"
# stall-body: 100 bytes, inside message 2's body (277 octets on the wire);
# at 300 the whole reply, "." line and all, went out before the stall, so
# the timeout hit RETR 3, and no body was ever left half-read.
scenario stall-body stall stall-body \
	'{"on": "RETR 2", "conn": 1, "action": "cut", "bytes": 100, "then": "stall", "seconds": 6}'
scenario stall-quit stall stall-quit '{"on": "QUIT", "conn": 1, "action": "stall", "seconds": 6}'
scenario slow-store slow_store
for auth in auto user; do
	sfx=$([ $auth = user ] && echo -raw)
	scenario trickle-body$sfx trickle trickle-body$sfx \
		'{"on": "RETR 2", "conn": 1, "action": "trickle", "skip": "line"}' $auth
	scenario trickle-list$sfx trickle trickle-list$sfx \
		'{"on": "LIST", "conn": 1, "action": "trickle", "skip": "line"}' $auth
	scenario trickle-greeting$sfx trickle trickle-greeting$sfx \
		'{"on": "greeting", "conn": 1, "action": "trickle"}' $auth
done
scenario trickle-pass-raw trickle trickle-pass-raw \
	'{"on": "PASS", "conn": 1, "action": "trickle"}' user
scenario stall-greeting stall stall-greeting '{"on": "greeting", "conn": 1, "action": "stall", "seconds": 6}'
for on in LIST UIDL "RETR 1" "DELE 1"; do
	scenario "idle-drop-after-$on" closeafter "$on"
done
fault_summary
exit 0
