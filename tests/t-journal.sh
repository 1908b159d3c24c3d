#!/bin/bash
# t-journal: the journal belongs to a (server mailbox, store) pair.
#  1. One Dovecot mailbox read by two accounts, on its pop3 and its pop3s
#     port (as through two tunnels): A keeps into one Maildir, B deletes
#     from another. Each journal is its own: B downloads all three before
#     deleting them, A's store holds each once.
#  2. Two accounts that resolve to one pair (same host, port, user and
#     Maildir, spelt differently): a configuration error naming both.
#  3. A journal an older popfetch kept per user@host is taken over by the
#     only account it can belong to: nothing is fetched again.
#  4. One such journal that two accounts shared is no one's: set aside
#     (one warning), both stores get every message once.
#  5. A server that hides a message (or lists nothing) once: the record
#     stays, so the message is not stored again when it comes back; a
#     record absent for forget_after goes.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-journal
trap t_cleanup EXIT

# A UIDL that stays with a message file moved out of the Maildir and
# back (Dovecot's default would number it anew): the file's base name.
DOVECOT_EXTRA_CONF='pop3_uidl_format = %g'
dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml")
dovecot_add_message "${msgs[@]}"

journals() { find "$1" -name '*.state' | sort; }

note "case 1: one mailbox, two ports, two stores: two journals"
{
	printf 'accounts:\n'
	popfetch_account name=a maildir="$T/A" keep=true
	popfetch_account name=b port="$DOVECOT_POP3S_PORT" tls=implicit \
		ca_file="$DOVECOT_CA" maildir="$T/B" keep=false
} | config_write "$T/c1.yaml"
run_popfetch -c "$T/c1.yaml" -v
expect_rc 0 "two accounts on one mailbox"
assert_grep '^popfetch: b: 3 messages on server, 3 stored, 3 deleted$' "$T/out" "account b's summary"
assert_maildir_matches "$T/A" "${msgs[@]}"
assert_maildir_matches "$T/B" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages left on the server"
ka=$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/A")
kb=$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_POP3S_PORT" maildir "$T/B")
assert_eq "$(printf '%s\n' "$T/state/$ka.state" "$T/state/$kb.state" | sort)" \
	"$(journals "$T/state")" "journals"
note "the rerun changes nothing"
run_popfetch -c "$T/c1.yaml"
expect_rc 0 "rerun"
expect_silent "rerun"
assert_maildir_matches "$T/A" "${msgs[@]}"
assert_maildir_matches "$T/B" "${msgs[@]}"

note "case 2: two accounts on one pair are refused"
{
	printf 'accounts:\n'
	popfetch_account name=one maildir="$T/C"
	popfetch_account name=two host=127.0.0.1 maildir="$T//C/./"
} | config_write "$T/c2.yaml"
run_popfetch -c "$T/c2.yaml"
expect_rc 78 "one pair, two accounts"
assert_empty "$T/out" "stdout"
assert_lines 1 "$T/err" "stderr"
assert_eq "$T/c2.yaml:10:5: account 'two' reads the same mailbox (user $DOVECOT_USER on 127.0.0.1 port $DOVECOT_PORT) into the same maildir $T/C as account 'one' (line 2): they would share one journal; give each its own destination or remove one" \
	"$(cat "$T/err")" "the error"
[ ! -e "$T/C" ] || fail "a refused configuration created the store"

# Three messages back on the server for the next cases.
dovecot_add_message "${msgs[@]}"

note "case 3: an older per-user@host journal is taken over"
popfetch_config "$T/c3.yaml" name=solo maildir="$T/D" state_dir="$T/s3"
run_popfetch -c "$T/c3.yaml"
expect_rc 0 "first run"
assert_maildir_matches "$T/D" "${msgs[@]}"
kd=$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/D")
# What an older popfetch left: the same records under user@host.
mv "$T/s3/$kd.state" "$T/s3/$DOVECOT_USER@127.0.0.1.state"
rm -f "$T/s3/$kd.lock"
run_popfetch -c "$T/c3.yaml" -v
expect_rc 0 "run with an older journal"
assert_grep "^popfetch: solo: journal of an older popfetch taken over: now $T/s3/$kd.state\$" "$T/out" "the note"
assert_grep '^popfetch: solo: 3 messages on server, 0 stored, 0 deleted$' "$T/out" "the summary"
assert_maildir_matches "$T/D" "${msgs[@]}"
assert_eq "$T/s3/$kd.state" "$(journals "$T/s3")" "journals after the takeover"

note "case 4: an older journal two accounts shared is no one's"
mv "$T/s3/$kd.state" "$T/s3/$DOVECOT_USER@127.0.0.1.state"
rm -f "$T/s3"/*.lock
{
	printf 'accounts:\n'
	popfetch_account name=p maildir="$T/E" state_dir="$T/s3"
	popfetch_account name=q port="$DOVECOT_POP3S_PORT" tls=implicit \
		ca_file="$DOVECOT_CA" maildir="$T/F" state_dir="$T/s3"
} | config_write "$T/c4.yaml"
run_popfetch -c "$T/c4.yaml"
expect_rc 0 "shared older journal"
assert_empty "$T/out" "stdout"
assert_eq "popfetch: p: warning: the journal an older popfetch kept for $DOVECOT_USER@127.0.0.1 was shared by several accounts, so it is no one's: set aside as $T/s3/$DOVECOT_USER@127.0.0.1.state.unused; this account's messages on the server will be fetched again" \
	"$(cat "$T/err")" "the warning"
assert_maildir_matches "$T/E" "${msgs[@]}"
assert_maildir_matches "$T/F" "${msgs[@]}"
run_popfetch -c "$T/c4.yaml"
expect_rc 0 "rerun"
expect_silent "rerun"

note "case 5: a message hidden once is not stored again"
popfetch_config "$T/c5.yaml" name=hide maildir="$T/G" state_dir="$T/s5"
kg=$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/G")
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "first run"
assert_maildir_matches "$T/G" "${msgs[@]}"
mkdir -p "$T/hidden"
# hide N...: take the Nth messages (by name order) out of the mailbox.
hide() {
	local f n=0 i
	for f in $(cd "$DOVECOT_MAILDIR" && ls new/* cur/* 2>/dev/null | sort -t/ -k2); do
		n=$((n + 1))
		for i in "$@"; do
			[ "$i" = "$n" ] && mv "$DOVECOT_MAILDIR/$f" "$T/hidden/"
		done
	done
	return 0
}
unhide() { mv "$T/hidden"/* "$DOVECOT_MAILDIR/cur/"; }
hide 2
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "message 2 hidden"
assert_eq 1 "$(grep -c ' a=' "$T/s5/$kg.state")" "records marked absent"
unhide
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "message 2 back"
expect_silent "message 2 back"
assert_maildir_matches "$T/G" "${msgs[@]}"
assert_eq 0 "$(grep -c ' a=' "$T/s5/$kg.state")" "records marked absent"
note "an empty listing once"
hide 1 2 3
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "empty listing"
assert_eq 3 "$(grep -c ' a=' "$T/s5/$kg.state")" "records marked absent"
unhide
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "all back"
expect_silent "all back"
assert_maildir_matches "$T/G" "${msgs[@]}"
note "absent longer than forget_after (30 days by default): forgotten"
hide 3
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "message 3 hidden"
sed -i 's/ a=[0-9]*$/ a=1000/' "$T/s5/$kg.state"
run_popfetch -c "$T/c5.yaml"
expect_rc 0 "message 3 hidden for long"
assert_eq 2 "$(grep -c '^S ' "$T/s5/$kg.state")" "records left"
unhide
run_popfetch -c "$T/c5.yaml" -v
expect_rc 0 "message 3 back after it was forgotten"
assert_grep '^popfetch: hide: 3 messages on server, 1 stored, 0 deleted$' "$T/out" "the summary"
assert_eq 4 "$(maildir_count "$T/G")" "files in the store"
exit 0
