#!/bin/bash
# t-fault-uidl: inventories a server gets wrong.
#  - duplicate UIDLs (two messages share one): both are stored, none twice
#    on reruns; in delete mode both are deleted.  And when the second one
#    fails to download (cut), the rerun must still store it, not DELE it
#    as "already stored" under its twin's record.
#  - UIDLs with spaces, 8-bit bytes, "/", "%" and 75 characters: stored
#    byte-exact (escaped) in the journal; a rerun stores nothing.
#  - LIST shows a message UIDL does not: 76, nothing fetched or deleted.
#  - UIDL shows a message LIST does not: ignored, the others stored.
#  - LIST sizes that lie: smaller (the body is longer: all of it stored),
#    bigger (the body is shorter but its reply ends with the "." line:
#    stored as sent, with a warning, and never deleted, even with 2 GB
#    announced; a body cut by a closed connection is t-fault-drop's and
#    still fails with 75).
#  - replies without end (a fast server is never a stalled one): a RETR
#    body running on past its announced size (up to 50 MB) fails with 76
#    once it is 64 KiB (or its announced size, if more) too long, naming
#    the message, which is neither stored nor deleted; LIST and UIDL
#    listings with 100000 lines more than STAT's count fail with 76 past
#    count + 1000 lines, nothing fetched or deleted. Both libcurl's
#    reader (auth: auto) and popfetch's own (auth: user).
#  - no UIDL at all, mbox: popfetch killed in the middle of a message
#    leaves part of it in the mbox; the rerun takes it out (the batch's
#    start is journalled for every server) and stores each message once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-fault-uidl
trap t_cleanup EXIT
mkdir -p "$T/m"
cp "$DATA/plain1.eml" "$T/m/1"
cp "$DATA/plain2.eml" "$T/m/2"
cp "$DATA/plain3.eml" "$T/m/3"
FAULT_MSGS=

# msgs 'UIDL1' 'UIDL2' 'UIDL3' [EXTRA-JSON-FOR-2]: the three messages
# with these UIDLs (JSON strings, without quotes).
msgs() {
	FAULT_SCENARIO_EXTRA="\"messages\": [
  {\"file\": \"$T/m/1\", \"uidl\": \"$1\"},
  {\"file\": \"$T/m/2\", \"uidl\": \"$2\"${4:+, $4}},
  {\"file\": \"$T/m/3\", \"uidl\": \"$3\"}]"
}

dup_delete() {
	note "duplicate UIDLs, keep: false"
	msgs dup dup u3
	fault_begin dup-uidl-delete '[]'
	fault_run1 0
	fault_promises --complete delete
	scenario_report "$FNAME"
	fault_end
}

dup_keep() {
	note "duplicate UIDLs, keep: true: both stored once, the rerun stores nothing"
	FAULT_KEEP=true
	msgs dup dup u3
	fault_begin dup-uidl-keep '[]'
	fault_run1 0
	fault_promises --complete keep
	fault_rerun
	assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "$FNAME: RETRs in both runs"
	FAULT_KEEP=false
}

dup_cut() {
	note "duplicate UIDLs, the second one cut: the rerun stores it"
	msgs dup dup u3
	fault_begin dup-uidl-cut '[{"on": "RETR 2", "conn": 1, "action": "cut", "bytes": 100}]'
	fault_run1 75
	not_saw 'DELE 2'
	fault_rerun
}

odd_uidl() {
	note "odd UIDLs: byte-exact in the journal, nothing stored twice"
	# A space inside, an 8-bit byte (0xE9 as UTF-8 C3 A9, and a lone 0xFF),
	# "/" and "%", and 75 characters.
	long=$(printf 'L%.0s' $(seq 75))
	FAULT_KEEP=true
	msgs 'a b  c' 'caf\u00e9/\udcff%41' "$long"
	fault_begin odd-uidl '[]'
	fault_run1 0
	fault_promises --complete keep
	grep '^S ' "$FSTATE" | cut -d' ' -f3 | sort >"$S/uidls"
	printf '%s\n' 'a%20b%20%20c' 'caf%C3%A9/%FF%2541' "$long" | sort >"$S/want"
	assert_file_eq "$S/want" "$S/uidls" "$FNAME: the escaped UIDLs in the journal"
	fault_rerun
	assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "$FNAME: RETRs in both runs"
	FAULT_KEEP=false
	msgs 'a b  c' 'caf\u00e9/\udcff%41' "$long"
	fault_begin odd-uidl-delete '[{"on": "DELE 3", "conn": 1, "action": "close"}]'
	fault_run1 75
	fault_rerun
	assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "$FNAME: RETRs in both runs"
}

list_not_uidl() {
	note "a message in LIST but not in UIDL: 76, nothing fetched or deleted"
	msgs m1 m2 m3 '"no_uidl": true'
	fault_begin list-not-uidl '[]'
	fault_run1 76 'UIDL.*message 2'
	not_saw 'RETR.*|DELE.*'
	assert_eq 0 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	scenario_report "$FNAME"
	fault_end
}

uidl_not_list() {
	note "a message in UIDL but not in LIST: ignored"
	msgs m1 m2 m3 '"no_list": true'
	fault_begin uidl-not-list '[]'
	fault_run1 0
	expect_silent "$FNAME"
	not_saw 'RETR 2|DELE 2'
	"$PYTHON" -c 'import json,sys; l=[m["uidl"] for m in json.load(open(sys.argv[1]))["messages"]]; sys.exit(l != ["m2"])' \
		"$FAKE_STATE" || fail "$FNAME: the server should hold only m2"
	assert_eq 2 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	scenario_report "$FNAME"
	fault_end
}

# list_smaller N: LIST (and RETR's +OK) say N octets less than the
# message has. 1 and 2 are held back as a possible server-added CRLF
# (1 crashed popfetch once: the held byte was delivered after the body
# callbacks were gone); more is passed through.
list_smaller() {
	local d=$1
	note "LIST says $d octets less than the message has: all of it is stored"
	msgs m1 m2 m3 "\"list_size\": $(($(wc -c <"$T/m/2") + $(wc -l <"$T/m/2") - d))"
	fault_begin "list-smaller-$d" '[]'
	fault_run1 0
	fault_promises --complete delete
	scenario_report "$FNAME"
	fault_end
}

# list_bigger AUTH EXTRA: LIST (and RETR's +OK) say EXTRA octets more than
# the message has, and the reply ends properly with its "." line. Wrong
# sizes or a loss popfetch cannot see: it stores the message as sent (a
# NOOP answered with a status line proves nothing of the message is left
# where replies belong), warns once, and never deletes it, in this run or
# a later one; the others are deleted.
list_bigger() {
	local auth=$1 extra=$2 n
	note "LIST says $extra octets more, the reply is whole (auth: $auth): stored as sent, warned, left on the server"
	n=$(($(wc -c <"$T/m/2") + $(wc -l <"$T/m/2")))
	msgs m1 m2 m3 "\"list_size\": $((n + extra))"
	FAULT_CONF=(auth="$auth")
	fault_begin "list-bigger-$auth-$extra" '[]'
	FAULT_CONF=()
	fault_run1 0
	assert_empty "$T/out" "$FNAME: stdout"
	assert_lines 1 "$T/err" "$FNAME: stderr"
	assert_grep "^popfetch: $FNAME: warning: message 2: the server announced $((n + extra)) bytes but sent $n, ending its reply properly; stored as sent, and left on the server \\(never deleted by popfetch\\)\$" \
		"$T/err" "$FNAME: the warning"
	# One engine for every auth mode: a NOOP (or, pipelined, the next
	# reply) proves the reply ended at its "." line and nothing of the
	# message is left where the next reply belongs.  With PIPELINING
	# (FAULT_PIPELINING, t-fault-pipelined.sh) RETR 3 is already in
	# flight when message 2 comes up short, so its reply is the proof and
	# no NOOP is sent; with 2 GB announced RETR 3 waits (the window's
	# byte limit), and the NOOP is back.  Message 3 stored and deleted
	# (below) shows that reply was read as RETR 3's.  Either way, the
	# command after RETR 2 is the probe.
	local probe
	probe=$(sed -n '/^RETR 2$/{n;p;q}' "$FAKE_LOG")
	if [ -n "${FAULT_PIPELINING:-}" ]; then
		[[ $probe =~ ^(NOOP|RETR\ 3)$ ]] ||
			fail "$FNAME: after RETR 2 the server got '$probe', not NOOP or RETR 3"
	else
		assert_eq NOOP "$probe" "$FNAME: the command after RETR 2"
	fi
	saw 'DELE 1'
	saw 'DELE 3'
	not_saw 'DELE 2'
	fault_promises --complete keep
	assert_eq 3 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	note "the rerun neither fetches nor deletes it"
	local before
	before=$(wc -l <"$FAKE_LOG")
	run_popfetch -c "$S/config.yaml"
	expect_rc 0 "$FNAME: the rerun"
	expect_silent "$FNAME: the rerun"
	fault_promises --complete keep
	assert_eq "" "$(tail -n +$((before + 1)) "$FAKE_LOG" | grep -E '^(RETR|DELE)')" \
		"$FNAME: RETR and DELE commands of the rerun"
	fault_promises --complete keep
	assert_eq 3 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored after the rerun"
	assert_eq '["m2"]' "$("$PYTHON" -c 'import json, sys
print(json.dumps([m["uidl"] for m in json.load(open(sys.argv[1]))["messages"]]))' "$FAKE_STATE")" \
		"$FNAME: messages left on the server"
	scenario_report "$FNAME"
	fault_end
}

# flood_retr AUTH: message 2's body runs on for 50 MB past its size.
flood_retr() {
	local auth=$1 n
	note "RETR 2 sends 50 MB more than it announced (auth: $auth): 76, not stored, not deleted"
	n=$(($(wc -c <"$T/m/2") + $(wc -l <"$T/m/2")))
	msgs m1 m2 m3
	FAULT_CONF=(auth="$auth")
	fault_begin "flood-retr-$auth" '[{"on": "RETR 2", "conn": 1, "action": "flood"}]'
	FAULT_CONF=()
	fault_run1 76 "^popfetch: $FNAME: message 2: the server sent more than $((n + 65536)) bytes for a message it announced as $n bytes; not stored\$"
	not_saw 'DELE 2'
	not_saw 'RETR 3'
	assert_eq 1 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	fault_rerun
}

# flood_list AUTH VERB: LIST or UIDL lists 100000 messages more than
# STAT counted.
flood_list() {
	local auth=$1 verb=$2
	note "$verb lists 100000 more messages than STAT counted (auth: $auth): 76, nothing fetched"
	msgs m1 m2 m3
	FAULT_CONF=(auth="$auth")
	fault_begin "flood-$verb-$auth" "[{\"on\": \"$verb\", \"conn\": 1, \"action\": \"flood\"}]"
	FAULT_CONF=()
	fault_run1 76 "^popfetch: $FNAME: $verb: more than 1003 lines for the 3 messages STAT counted\$"
	not_saw 'RETR.*|DELE.*'
	assert_eq 0 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	fault_rerun
}

# nouidl_mbox_crash: a server without UIDL, an mbox, keep: false.
# popfetch (tests/popfetch_hooks) is killed at the mbox's third flush:
# the first message's end was written, then the first 64 KB of the big
# second one, so a fragment without its end is in the mbox. Without UIDLs
# popfetch cannot tell messages apart, but the batch's start is journalled
# all the same: the rerun cuts the mbox back to it and stores each
# message exactly once, and leaves no batch open in the journal (nor,
# with no UIDL stored, any batch record: they are compacted away).
nouidl_mbox_crash() {
	local hooks=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks} size
	[ -x "$hooks" ] || fail "no $hooks (make check builds it)"
	note "no UIDL, mbox, killed mid-message: the rerun takes the fragment out"
	make_big_message "$T/m/big" 200000
	FAULT_SCENARIO_EXTRA="\"messages\": [
  {\"file\": \"$T/m/1\"}, {\"file\": \"$T/m/big\"}, {\"file\": \"$T/m/3\"}]"
	FAULT_STORE=mbox FAULT_NOUIDL=1
	fault_begin nouidl-mbox-crash '[]' --no-uidl
	# (The inner shell waits for it, so its "Killed" notice goes nowhere.)
	( POPFETCH_CRASH=mbox-flush:3 "$hooks" -q -c "$S/config.yaml"
		exit $? ) >/dev/null 2>&1
	RC1=$?
	assert_eq 137 "$RC1" "$FNAME: killed by SIGKILL"
	size=$(wc -c <"$FSTORE_PATH")
	[ "$size" -gt $((65536 + $(wc -c <"$T/m/1"))) ] ||
		fail "$FNAME: the killed run left only $size bytes in the mbox"
	ERR1=
	fault_rerun
	awk '$1 == "B" || $1 == "M" { open = 1 } $1 == "C" { open = 0 }
		END { exit open }' "$FSTATE" ||
		fail "$FNAME: the journal ends inside a batch"
	# With nothing stored by UIDL, the batch records are compacted away.
	assert_eq 'popfetch-state 1' "$(cat "$FSTATE")" "$FNAME: the journal"
}

# list_bigger_crash: as list_bigger, but popfetch is killed once the short
# message has been moved into the Maildir's new/ and before its batch is
# recorded: recovery finds it, and it must come back held (never deleted).
list_bigger_crash() {
	local n
	note "LIST says 100 octets more, killed after storing it: recovered held, never deleted"
	n=$(($(wc -c <"$T/m/2") + $(wc -l <"$T/m/2")))
	msgs m1 m2 m3 "\"list_size\": $((n + 100))"
	fault_begin list-bigger-crash '[]'
	( POPFETCH_CRASH=maildir-renamed:2 "$TOP_BUILDDIR/tests/popfetch_hooks" -q \
		-c "$S/config.yaml"
		exit $? ) >/dev/null 2>&1
	assert_eq 137 "$?" "$FNAME: killed by SIGKILL"
	assert_eq 2 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored before the kill"
	run_popfetch -c "$S/config.yaml"
	expect_rc 0 "$FNAME: the rerun"
	not_saw 'DELE 2'
	saw 'DELE 1'
	saw 'DELE 3'
	fault_promises --complete keep
	assert_grep ' m2 hold$' "$FSTATE" "$FNAME: the journal holds m2"
	assert_eq 3 "$(maildir_count "$FSTORE_PATH")" "$FNAME: messages stored"
	RC=0
	scenario_report "$FNAME"
	fault_end
}

scenario dup-delete dup_delete
scenario dup-keep dup_keep
scenario dup-cut dup_cut
scenario odd-uidl odd_uidl
scenario list-not-uidl list_not_uidl
scenario uidl-not-list uidl_not_list
scenario list-smaller-1 list_smaller 1
scenario list-smaller-3 list_smaller 3
scenario list-smaller-100 list_smaller 100
scenario list-bigger-auto list_bigger auto 100
scenario list-bigger-user list_bigger user 100
scenario list-huge-auto list_bigger auto 2000000000
scenario list-huge-user list_bigger user 2000000000
scenario flood-retr-auto flood_retr auto
scenario flood-retr-user flood_retr user
scenario flood-list-auto flood_list auto LIST
scenario flood-list-user flood_list user LIST
scenario flood-uidl-auto flood_list auto UIDL
scenario flood-uidl-user flood_list user UIDL
scenario nouidl-mbox-crash nouidl_mbox_crash
scenario list-bigger-crash list_bigger_crash
fault_summary
exit 0
