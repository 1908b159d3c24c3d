#!/bin/bash
# t-keep: keep mode (the default) into a Maildir.  Three messages are
# fetched silently and byte-identically; a second run stores nothing; the
# server still holds all three.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-keep
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml")
dovecot_add_message "${msgs[@]}"
# No "keep:" key: keeping is the default.
popfetch_config "$T/config.yaml"

note "first run stores the three messages, silently"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "first run"
expect_silent "first run"
assert_eq 3 "$(file_count "$T/Maildir/new")" "files in new/"
assert_eq 0 "$(file_count "$T/Maildir/cur")" "files in cur/"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"
# Cross-check against an independent client: each reference copy (poplib,
# CRLF->LF) is one of the stored files.
pop3_reference "$T/ref" || fail "poplib reference download failed"
assert_maildir_matches "$T/Maildir" "$T/ref/1" "$T/ref/2" "$T/ref/3"

note "second run stores nothing"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "second run"
expect_silent "second run"
assert_eq 3 "$(file_count "$T/Maildir/new")" "files in new/ after the second run"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"

note "the server still has the three messages"
assert_eq 3 "$(dovecot_count)" "messages on the server"
rm -rf "$T/ref"
pop3_reference "$T/ref" || fail "poplib reference download failed"
assert_eq 3 "$(wc -l <"$T/ref/list")" "messages listed by the server"
exit 0
