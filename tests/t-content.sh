#!/bin/bash
# t-content: awkward message content into a Maildir and into an mbox.
# Messages: "From " / ">From " body lines, lines "." and "..", NUL bytes,
# Latin-1 and UTF-8 text, no final newline, a bare CR, an empty body and a
# 10 MiB message.  The Maildir files must equal the originals byte for byte
# (popfetch honours the octet count, dropping the CRLF Dovecot adds to a
# message without a final newline); the mbox must be exactly the mboxrd
# rendering.  Also keep: false into an mbox.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-content
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
make_big_message "$T/big.eml" 10485760
msgs=(
	"$DATA/from-lines.eml"
	"$DATA/dots.eml"
	"$DATA/nul.eml"
	"$DATA/latin1.eml"
	"$DATA/utf8.eml"
	"$DATA/no-final-newline.eml"
	"$DATA/bare-cr.eml"
	"$DATA/empty-body.eml"
	"$T/big.eml"
	"$DATA/plain1.eml"
)
for m in "${msgs[@]}"; do
	# Dovecot mangles a first line starting with "." (see libcurl-pop3.md).
	[ "$(head -c 1 "$m")" != . ] || fail "$m: first line starts with a dot"
done
dovecot_add_message "${msgs[@]}"

note "what Dovecot serves (poplib): the originals, modulo a final newline"
pop3_reference "$T/ref" || fail "poplib reference download failed"
assert_eq "${#msgs[@]}" "$(wc -l <"$T/ref/list")" "messages on the server"
i=0
for m in "${msgs[@]}"; do
	i=$((i + 1))
	if [ "$(tail -c 1 "$m" | od -An -c | tr -d ' ')" = '\n' ]; then
		assert_file_eq "$m" "$T/ref/$i" "poplib copy of message $i"
	else
		# poplib cannot see the missing newline; Dovecot adds CRLF.
		{ cat "$m"; printf '\n'; } >"$T/ref-expected-$i"
		assert_file_eq "$T/ref-expected-$i" "$T/ref/$i" "poplib copy of message $i"
	fi
done

note "Maildir: every file equals its original byte for byte"
popfetch_config "$T/maildir.yaml" maildir="$T/Maildir" state_dir="$T/state-maildir"
run_popfetch -c "$T/maildir.yaml"
expect_rc 0 "Maildir run"
expect_silent "Maildir run"
assert_eq "${#msgs[@]}" "$(file_count "$T/Maildir/new")" "files in new/"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"
run_popfetch -c "$T/maildir.yaml"
expect_rc 0 "second Maildir run"
expect_silent "second Maildir run"
assert_eq "${#msgs[@]}" "$(file_count "$T/Maildir/new")" "files in new/ after a second run"

note "mbox: exactly the mboxrd rendering, in server order"
popfetch_config "$T/mbox.yaml" mbox="$T/mbox" state_dir="$T/state-mbox"
run_popfetch -c "$T/mbox.yaml"
expect_rc 0 "mbox run"
expect_silent "mbox run"
[ -f "$T/mbox" ] || fail "the mbox was not created"
assert_mbox_matches "$T/mbox" "${msgs[@]}"
cp "$T/mbox" "$T/mbox.after-first-run"
run_popfetch -c "$T/mbox.yaml"
expect_rc 0 "second mbox run"
expect_silent "second mbox run"
assert_file_eq "$T/mbox.after-first-run" "$T/mbox" "mbox after a second run"

note "mbox with keep: false: same rendering, server emptied"
assert_eq "${#msgs[@]}" "$(dovecot_count)" "messages on the server before the delete run"
popfetch_config "$T/mbox-delete.yaml" mbox="$T/mbox-delete" \
	state_dir="$T/state-mbox-delete" keep=false
run_popfetch -c "$T/mbox-delete.yaml"
expect_rc 0 "mbox delete run"
expect_silent "mbox delete run"
assert_mbox_matches "$T/mbox-delete" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages left on the server"
cp "$T/mbox-delete" "$T/mbox-delete.after-first-run"
dovecot_add_message "$DATA/plain2.eml"
run_popfetch -c "$T/mbox-delete.yaml"
expect_rc 0 "second mbox delete run"
expect_silent "second mbox delete run"
assert_mbox_matches "$T/mbox-delete" "${msgs[@]}" "$DATA/plain2.eml"
assert_eq 0 "$(dovecot_count)" "messages left on the server after the second delete run"
exit 0
