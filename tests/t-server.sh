#!/bin/bash
# t-server: server behaviours Dovecot will not produce on demand, against
# the fake server: no UIDL (keep and delete mode), a QUIT that never
# confirms the DELEs (the next run deletes without downloading again), a
# connection dropped between commands (no silent reconnect under other
# message numbers), and RESP-CODES mapped to exit codes.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-server
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/m1"
cp "$DATA/plain2.eml" "$T/msgs/m2"
cp "$DATA/plain3.eml" "$T/msgs/m3"

# remaining: the UIDLs the fake server still holds, space-separated.
remaining() {
	"$PYTHON" -c 'import json,sys; print(" ".join(m["uidl"] for m in json.load(open(sys.argv[1]))["messages"]))' "$FAKE_STATE"
}
connections() {
	"$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"])' "$FAKE_STATE"
}
fresh() {   # fresh NAME ARGS...: new store, state and fake server
	local name=$1
	shift
	fakepop3_stop 2>/dev/null
	rm -rf "$T/Maildir" "$T/state" "$T/$name"
	fakepop3_start "$T/$name" --messages "$T/msgs" --timeout 60 "$@" ||
	    fail "cannot start the fake server"
}

note "no UIDL, keep: true: refused, nothing downloaded"
fresh nouidl-keep --no-uidl --max-conns 1
popfetch_config "$T/config.yaml" name=nu port="$FAKE_PORT"
run_popfetch -c "$T/config.yaml"
expect_rc 69 "no UIDL in keep mode"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: nu: .*UIDL.*keep: false' "$T/err" "the error explains UIDL and keep"
assert_no_grep '^RETR' "$FAKE_LOG" "RETR without UIDL in keep mode"
assert_eq 0 "$(maildir_count "$T/Maildir")" "messages stored"

note "no UIDL, keep: false: fetched by number and deleted, with a warning"
fresh nouidl-delete --no-uidl --max-conns 1
popfetch_config "$T/config.yaml" name=nu port="$FAKE_PORT" keep=false
run_popfetch -c "$T/config.yaml"
expect_rc 0 "no UIDL in delete mode"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: nu: warning: .*UIDL' "$T/err" "the warning"
assert_maildir_matches "$T/Maildir" "$T/msgs/m1" "$T/msgs/m2" "$T/msgs/m3"
sleep 0.3
assert_eq "" "$(remaining)" "messages left on the server"

note "QUIT dropped: DELEs unconfirmed; the next run deletes without RETR"
fresh quitdrop --drop QUIT@1 --max-conns 2
popfetch_config "$T/config.yaml" name=qd port="$FAKE_PORT" keep=false
run_popfetch -c "$T/config.yaml"
expect_rc 75 "run with the dropped QUIT"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: qd: deletions not confirmed' "$T/err" "the error"
assert_maildir_matches "$T/Maildir" "$T/msgs/m1" "$T/msgs/m2" "$T/msgs/m3"
sleep 0.3
assert_eq "m1 m2 m3" "$(remaining)" "messages on the server after run 1"
assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "RETRs in run 1"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the next run"
expect_silent "the next run"
assert_eq 3 "$(grep -c '^RETR' "$FAKE_LOG")" "RETRs after run 2 (none new)"
assert_eq 6 "$(grep -c '^DELE [123]$' "$FAKE_LOG")" "DELEs in both runs"
assert_maildir_matches "$T/Maildir" "$T/msgs/m1" "$T/msgs/m2" "$T/msgs/m3"
sleep 0.3
assert_eq "" "$(remaining)" "messages left on the server after run 2"

note "connection dropped after STAT: no second connection, nothing fetched"
echo '{"faults": [{"on": "STAT", "conn": 1, "action": "closeafter"}]}' \
    >"$T/reconnect.json"
fresh reconnect --max-conns 2 --scenario "$T/reconnect.json"
popfetch_config "$T/config.yaml" name=rc port="$FAKE_PORT" keep=false
run_popfetch -c "$T/config.yaml"
expect_rc 75 "connection dropped between commands"
assert_lines 1 "$T/err" "stderr"
# Whether libcurl notices the dead connection before LIST (and would
# reconnect, which popfetch refuses) or sends LIST into it is a race;
# either way the account fails and nothing happens on a new connection.
assert_grep '^popfetch: rc: .*connection (to the server was )?lost' "$T/err" "the error"
sleep 0.3
assert_eq 1 "$(connections)" "connections the server saw"
assert_no_grep '^(RETR|DELE)' "$FAKE_LOG" "RETR or DELE after the drop"
assert_eq 0 "$(maildir_count "$T/Maildir")" "messages stored"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "the next run"
assert_maildir_matches "$T/Maildir" "$T/msgs/m1" "$T/msgs/m2" "$T/msgs/m3"

note "RESP-CODES: [IN-USE] -> 75, [SYS/PERM] -> 69, [AUTH] -> 77"
for pair in "IN-USE:75" "SYS/PERM:69" "AUTH:77" "SYS/TEMP:75" "LOGIN-DELAY:75"; do
	code=${pair%%:*}
	want=${pair##*:}
	fresh resp --max-conns 1 --err "PASS:[$code] try later"
	popfetch_config "$T/config.yaml" name=rs port="$FAKE_PORT"
	run_popfetch -c "$T/config.yaml"
	expect_rc "$want" "-ERR [$code]"
	assert_lines 1 "$T/err" "stderr for [$code]"
	assert_grep "^popfetch: rs: .*\"-ERR \\[$code\\] try later\"" "$T/err" \
	    "the server's words quoted for [$code]"
done
exit 0
