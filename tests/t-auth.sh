#!/bin/bash
# t-auth: a refused login.  Exit 77, exactly one stderr line naming the
# account and quoting the server's -ERR text, the password nowhere in the
# output, the store untouched.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-auth
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
dovecot_add_message "$DATA/plain1.eml" "$DATA/plain2.eml"
wrong=Wr0ng-Passw0rd-8231

note "Dovecot: wrong password"
popfetch_config "$T/config.yaml" name=authtest password="$wrong"
run_popfetch -c "$T/config.yaml"
expect_rc 77 "wrong password"
assert_empty "$T/out" "stdout"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: authtest: ' "$T/err" "stderr names the account"
# Dovecot: "-ERR [AUTH] Authentication failed."
assert_grep 'Authentication failed' "$T/err" "stderr quotes the server"
assert_no_grep "$wrong" "$T/err" "the password in stderr"
assert_eq 0 "$(maildir_count "$T/Maildir")" "messages stored"
[ ! -d "$T/Maildir/tmp" ] || assert_eq 0 "$(file_count "$T/Maildir/tmp")" "files in tmp/"
assert_eq 2 "$(dovecot_count)" "messages on the server"

note "Dovecot: unknown user"
popfetch_config "$T/config2.yaml" name=authtest2 user=nosuchuser \
	maildir="$T/Maildir2"
run_popfetch -c "$T/config2.yaml"
expect_rc 77 "unknown user"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: authtest2: .*Authentication failed' "$T/err" "stderr"
assert_eq 0 "$(maildir_count "$T/Maildir2")" "messages stored"

note "fake server: the server's own words are quoted"
mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/1.eml"
fakepop3_start "$T/fake" --messages "$T/msgs" --max-conns 1 --timeout 30 \
	--err "PASS:[AUTH] Invalid login or password (fake 4711)" ||
	fail "cannot start the fake server"
popfetch_config "$T/config3.yaml" name=fakeauth port="$FAKE_PORT" \
	password="$wrong" maildir="$T/Maildir3"
run_popfetch -c "$T/config3.yaml"
expect_rc 77 "refused by the fake server"
assert_empty "$T/out" "stdout"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: fakeauth: .*Invalid login or password \(fake 4711\)' "$T/err" \
	"stderr quotes the server's -ERR text"
assert_no_grep "$wrong" "$T/err" "the password in stderr"
assert_eq 0 "$(maildir_count "$T/Maildir3")" "messages stored"
assert_no_grep '^(STAT|LIST|UIDL|RETR|DELE)' "$FAKE_LOG" "commands after a failed login"
exit 0
