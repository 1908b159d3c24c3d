#!/bin/bash
# t-select: account selection and verbosity on the command line.
#  - -a NAME fetches only that account (two accounts, two Maildirs);
#  - -a unknown exits 64 with an error and fetches nothing;
#  - an unknown option exits 64;
#  - -v prints at least one line per stored message and one summary line
#    per account on stdout;
#  - -q on a clean run prints nothing.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-select
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml")
dovecot_add_message "${msgs[@]}"
# Two accounts on the same mailbox; "localhost" vs "127.0.0.1" keeps their
# state keys apart even in one state_dir.
{
	printf 'accounts:\n'
	popfetch_account name=one maildir="$T/Maildir-one"
	popfetch_account name=two host=localhost maildir="$T/Maildir-two"
} | config_write "$T/config.yaml"

note "-a one"
run_popfetch -c "$T/config.yaml" -a one
expect_rc 0 "-a one"
expect_silent "-a one"
assert_maildir_matches "$T/Maildir-one" "${msgs[@]}"
assert_eq 0 "$(maildir_count "$T/Maildir-two")" "messages in the unselected account"

note "-a unknown"
run_popfetch -c "$T/config.yaml" -a unknown
expect_rc 64 "-a unknown"
assert_empty "$T/out" "stdout"
[ -s "$T/err" ] || fail "-a unknown: no error message"
assert_grep 'unknown' "$T/err" "the error names the account"
assert_eq 0 "$(maildir_count "$T/Maildir-two")" "messages in account two after -a unknown"
assert_eq 3 "$(maildir_count "$T/Maildir-one")" "messages in account one after -a unknown"

note "-a one -a unknown: still a usage error, nothing fetched"
dovecot_add_message "$DATA/plain4.eml"
run_popfetch -c "$T/config.yaml" -a one -a unknown
expect_rc 64 "-a one -a unknown"
assert_eq 3 "$(maildir_count "$T/Maildir-one")" "messages in account one"

note "unknown option"
run_popfetch -c "$T/config.yaml" --no-such-option
expect_rc 64 "--no-such-option"
[ -s "$T/err" ] || fail "--no-such-option: no error message"
assert_eq 3 "$(maildir_count "$T/Maildir-one")" "messages in account one"

note "-v: a line per stored message, a summary per account"
run_popfetch -c "$T/config.yaml" -v
expect_rc 0 "-v"
assert_empty "$T/err" "stderr of -v"
# one: 1 new message (plain4); two: 4 new messages.
assert_maildir_matches "$T/Maildir-one" "${msgs[@]}" "$DATA/plain4.eml"
assert_maildir_matches "$T/Maildir-two" "${msgs[@]}" "$DATA/plain4.eml"
lines=$(wc -l <"$T/out")
if [ "$lines" -lt 7 ]; then
	show_run
	fail "-v: expected at least 5 message lines + 2 summary lines, got $lines lines"
fi
assert_grep '(^|[^a-z])one([^a-z]|$)' "$T/out" "account one in the -v output"
assert_grep '(^|[^a-z])two([^a-z]|$)' "$T/out" "account two in the -v output"
cp "$T/out" "$T/verbose.out"

note "-v with nothing new: still a summary line per account"
run_popfetch -c "$T/config.yaml" -v
expect_rc 0 "-v, nothing new"
assert_empty "$T/err" "stderr of -v"
lines=$(wc -l <"$T/out")
[ "$lines" -ge 2 ] || { show_run; fail "-v, nothing new: expected 2 summary lines"; }
assert_grep '(^|[^a-z])one([^a-z]|$)' "$T/out" "account one in the summary"
assert_grep '(^|[^a-z])two([^a-z]|$)' "$T/out" "account two in the summary"

note "-q: silent"
dovecot_add_message "$DATA/plain5.eml"
run_popfetch -c "$T/config.yaml" -q
expect_rc 0 "-q"
expect_silent "-q"
assert_eq 5 "$(maildir_count "$T/Maildir-one")" "messages in account one"
assert_eq 5 "$(maildir_count "$T/Maildir-two")" "messages in account two"
exit 0
