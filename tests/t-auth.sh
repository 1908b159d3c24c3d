#!/bin/bash
# t-auth: a refused login.  Exit 77, exactly one stderr line naming the
# account and quoting the server's -ERR text, the password nowhere in the
# output, the store untouched.  Also: a successful login traced with -vv
# (USER/PASS and AUTH PLAIN) shows neither the password nor its base64.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-auth
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
dovecot_add_message "$DATA/plain1.eml" "$DATA/plain2.eml"
wrong=Wr0ng-Passw0rd-8231
secret_add "$wrong"

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
fakepop3_stop

# no_secret FILE...: neither the password nor a base64 form of it appears.
no_secret() {
	local f b
	for f in "$@"; do
		assert_no_grep "$good" "$f" "the password in $(basename "$f")"
		for b in "$(printf '\0%s\0%s' "$DOVECOT_USER" "$good" | base64 -w0)" \
			"$(printf '%s' "$good" | base64 -w0)"; do
			b=${b%%=*}
			assert_no_grep "${b:0:12}" "$f" "base64 of the password in $(basename "$f")"
		done
	done
}
good=G00d-Passw0rd-5120
secret_add "$good"

note "-vv with USER/PASS: the password is redacted"
echo '{"password": "'"$good"'"}' >"$T/userpass.json"
fakepop3_start "$T/fake-up" --messages "$T/msgs" --scenario "$T/userpass.json" \
	--timeout 30 || fail "cannot start the fake server"
popfetch_config "$T/config4.yaml" name=traced port="$FAKE_PORT" \
	password="$good" maildir="$T/Maildir4" state_dir="$T/state4"
run_popfetch -c "$T/config4.yaml" -vv
expect_rc 0 "-vv with USER/PASS"
assert_grep '^PASS ' "$FAKE_LOG" "USER/PASS login"
[ -s "$T/err" ] || [ -s "$T/out" ] || fail "-vv printed nothing"
no_secret "$T/out" "$T/err"
fakepop3_stop

note "-vv with AUTH PLAIN: the base64 secret is redacted"
echo '{"password": "'"$good"'", "sasl": ["PLAIN"]}' >"$T/plain.json"
fakepop3_start "$T/fake-plain" --messages "$T/msgs" --scenario "$T/plain.json" \
	--timeout 30 || fail "cannot start the fake server"
popfetch_config "$T/config5.yaml" name=traced port="$FAKE_PORT" \
	password="$good" maildir="$T/Maildir5" state_dir="$T/state5"
run_popfetch -c "$T/config5.yaml" -vv
expect_rc 0 "-vv with AUTH PLAIN"
assert_grep '^AUTH PLAIN' "$FAKE_LOG" "AUTH PLAIN login"
no_secret "$T/out" "$T/err"

note "-vv against Dovecot (SASL): no secret either"
popfetch_config "$T/config6.yaml" name=traced maildir="$T/Maildir6" \
	state_dir="$T/state6"
good=$DOVECOT_PASS
run_popfetch -c "$T/config6.yaml" -vv
expect_rc 0 "-vv against Dovecot"
no_secret "$T/out" "$T/err"
exit 0
