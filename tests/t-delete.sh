#!/bin/bash
# t-delete: keep: false.  Five messages are stored byte-identically and
# deleted from the server; a second run stores nothing.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-delete
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA"/plain[1-5].eml)
assert_eq 5 "${#msgs[@]}" "test messages"
dovecot_add_message "${msgs[@]}"
assert_eq 5 "$(dovecot_count)" "messages on the server before the run"
popfetch_config "$T/config.yaml" keep=false

note "the run stores five messages and deletes them on the server"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "first run"
expect_silent "first run"
assert_eq 5 "$(file_count "$T/Maildir/new")" "files in new/"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"
assert_eq 0 "$(dovecot_count)" "messages left in the server's Maildir (new+cur)"
pop3_reference "$T/ref" || fail "poplib reference download failed"
assert_eq 0 "$(wc -l <"$T/ref/list")" "messages listed by the server"

note "a second run stores nothing"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "second run"
expect_silent "second run"
assert_eq 5 "$(file_count "$T/Maildir/new")" "files in new/ after the second run"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"

note "new mail after a delete run is fetched and deleted too"
dovecot_add_message "$DATA/plain1.eml"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "third run"
expect_silent "third run"
assert_eq 6 "$(file_count "$T/Maildir/new")" "files in new/ after the third run"
assert_maildir_matches "$T/Maildir" "${msgs[@]}" "$DATA/plain1.eml"
assert_eq 0 "$(dovecot_count)" "messages left on the server after the third run"
exit 0
