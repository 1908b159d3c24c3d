#!/bin/bash
# t-newmail: mail that arrives between runs.  Two messages, a run, two more
# messages, a run: exactly four files, each original stored exactly once.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-newmail
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
dovecot_add_message "$DATA/plain1.eml" "$DATA/plain2.eml"
popfetch_config "$T/config.yaml"

note "first run: two messages"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "first run"
expect_silent "first run"
assert_eq 2 "$(file_count "$T/Maildir/new")" "files in new/ after the first run"
assert_maildir_matches "$T/Maildir" "$DATA/plain1.eml" "$DATA/plain2.eml"
ls "$T/Maildir/new" >"$T/first-run-files"

note "two more arrive; second run stores exactly those"
dovecot_add_message "$DATA/plain3.eml" "$DATA/plain4.eml"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "second run"
expect_silent "second run"
assert_eq 4 "$(file_count "$T/Maildir/new")" "files in new/ after the second run"
assert_maildir_matches "$T/Maildir" "$DATA/plain1.eml" "$DATA/plain2.eml" \
	"$DATA/plain3.eml" "$DATA/plain4.eml"
# The first run's files are untouched; the two new files are the new mail.
ls "$T/Maildir/new" >"$T/second-run-files"
comm -23 "$T/first-run-files" "$T/second-run-files" >"$T/vanished"
assert_empty "$T/vanished" "files of the first run missing after the second"
mkdir -p "$T/added"
comm -13 "$T/first-run-files" "$T/second-run-files" | while read -r f; do
	cp "$T/Maildir/new/$f" "$T/added/"
done
assert_eq 2 "$(file_count "$T/added")" "files added by the second run"
mkdir -p "$T/added-md/new"
cp "$T/added/"* "$T/added-md/new/"
assert_maildir_matches "$T/added-md" "$DATA/plain3.eml" "$DATA/plain4.eml"

note "third run: nothing new"
run_popfetch -c "$T/config.yaml"
expect_rc 0 "third run"
expect_silent "third run"
assert_eq 4 "$(file_count "$T/Maildir/new")" "files in new/ after the third run"
assert_eq 4 "$(dovecot_count)" "messages on the server"
exit 0
