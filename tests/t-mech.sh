#!/bin/bash
# t-mech: every password mechanism against the private Dovecot.
#  - auth: user, plain, login, cram-md5, apop: each logs in and fetches
#    (with -vv on stderr); Dovecot's log confirms the mechanism
#    (method=PLAIN for USER/PASS too, so the dialogue tells user from
#    plain: "USER" vs "AUTH PLAIN"); the -vv output has no secret in any
#    form (and t_cleanup scans every run again);
#  - a wrong password with each mechanism: exit 77, one stderr line
#    quoting the server, nothing stored, the wrong password nowhere;
#  - auth: auto picks the strongest mechanism Dovecot offers (CRAM-MD5,
#    not PLAIN, LOGIN or USER), also over pop3s;
#  - auth: cram-md5 against a Dovecot that does not offer it: exit 69
#    (the server lacks what is required), no credentials sent.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-mech
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml")
dovecot_add_message "${msgs[@]}"
wrong='Wr0ng-pw!7#mech'
secret_add "$wrong"

# Dovecot's name for each mechanism in its "Login:" line.
declare -A method=([user]=PLAIN [plain]=PLAIN [login]=LOGIN [cram-md5]=CRAM-MD5 [apop]=APOP)

# login_method: the method= of the one login Dovecot logged since the mark.
login_method() {
	dovecot_log_wait 'Login: ' 5 || { dovecot_log_new >&2; fail "no login in Dovecot's log"; }
	local n
	n=$(dovecot_log_new | grep -c 'Login: ')
	[ "$n" -eq 1 ] || { dovecot_log_new >&2; fail "$n logins in Dovecot's log, expected 1"; }
	dovecot_log_new | grep 'Login: ' | sed -n 's/.*method=\([A-Z0-9-]*\).*/\1/p'
}

for mech in user plain login cram-md5 apop; do
	note "auth: $mech"
	dovecot_log_mark
	popfetch_config "$T/$mech.yaml" name="$mech" auth="$mech" \
		maildir="$T/Maildir-$mech" state_dir="$T/state-$mech"
	run_popfetch -c "$T/$mech.yaml" -vv
	expect_rc 0 "auth: $mech"
	assert_maildir_matches "$T/Maildir-$mech" "${msgs[@]}"
	assert_eq "${method[$mech]}" "$(login_method)" "Dovecot's method for auth: $mech"
	# What popfetch itself sent (the -vv dialogue on stderr).
	case $mech in
	user)
		assert_grep "C: USER $DOVECOT_USER\$" "$T/err" "USER in the dialogue"
		assert_no_grep 'C: (AUTH|APOP)' "$T/err" "AUTH/APOP with auth: user" ;;
	apop)
		assert_grep 'C: (APOP|<redacted>)' "$T/err" "APOP in the dialogue"
		assert_no_grep 'C: (AUTH|USER)' "$T/err" "AUTH/USER with auth: apop" ;;
	*)
		m=$(printf '%s' "$mech" | tr a-z A-Z)
		assert_grep "C: AUTH $m( <redacted>)?\$" "$T/err" "AUTH $m in the dialogue"
		assert_no_grep 'C: (USER|APOP)' "$T/err" "USER/APOP with auth: $mech" ;;
	esac
	# The dialogue is there, the secret-bearing lines are shown redacted,
	# and no secret in any form.
	assert_grep 'S: \+OK' "$T/err" "server replies in the -vv dialogue"
	assert_grep 'C: .*<redacted>' "$T/err" "a redacted line in the -vv dialogue (auth: $mech)"
	secret_scan "$T/out" "$T/err" >&2 || fail "a secret in the -vv output of auth: $mech"

	note "auth: $mech, wrong password"
	dovecot_log_mark
	popfetch_config "$T/$mech-wrong.yaml" name="$mech-wrong" auth="$mech" \
		password="$wrong" maildir="$T/Maildir-$mech-wrong" state_dir="$T/state-$mech-wrong"
	run_popfetch -c "$T/$mech-wrong.yaml"
	expect_rc 77 "auth: $mech with a wrong password"
	assert_empty "$T/out" "stdout (auth: $mech, wrong password)"
	assert_lines 1 "$T/err" "stderr (auth: $mech, wrong password)"
	assert_grep "^popfetch: $mech-wrong: .*Authentication failed" "$T/err" \
		"stderr quotes the server (auth: $mech)"
	assert_eq 0 "$(maildir_count "$T/Maildir-$mech-wrong")" "messages stored (auth: $mech, wrong password)"
	run_popfetch -c "$T/$mech-wrong.yaml" -vv
	expect_rc 77 "auth: $mech with a wrong password, -vv"
	secret_scan "$T/out" "$T/err" >&2 || fail "a secret in the -vv output of a failed auth: $mech"
done

note "auth: auto picks CRAM-MD5 (the strongest Dovecot offers)"
dovecot_log_mark
popfetch_config "$T/auto.yaml" name=auto auth=auto maildir="$T/Maildir-auto" \
	state_dir="$T/state-auto"
run_popfetch -c "$T/auto.yaml" -vv
expect_rc 0 "auth: auto"
assert_maildir_matches "$T/Maildir-auto" "${msgs[@]}"
assert_eq CRAM-MD5 "$(login_method)" "Dovecot's method for auth: auto"
assert_grep 'C: AUTH CRAM-MD5$' "$T/err" "AUTH CRAM-MD5 in the dialogue"
secret_scan "$T/out" "$T/err" >&2 || fail "a secret in the -vv output of auth: auto"

note "auth: auto over pop3s still picks CRAM-MD5"
dovecot_log_mark
popfetch_config "$T/auto-tls.yaml" name=autotls auth=auto tls=implicit \
	port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" maildir="$T/Maildir-autotls" \
	state_dir="$T/state-autotls"
run_popfetch -c "$T/auto-tls.yaml"
expect_rc 0 "auth: auto over pop3s"
expect_silent "auth: auto over pop3s"
assert_maildir_matches "$T/Maildir-autotls" "${msgs[@]}"
assert_eq CRAM-MD5 "$(login_method)" "Dovecot's method for auth: auto over pop3s"

note "no auth key: the default is auto"
dovecot_log_mark
popfetch_config "$T/default.yaml" name=default maildir="$T/Maildir-default" \
	state_dir="$T/state-default"
run_popfetch -c "$T/default.yaml"
expect_rc 0 "no auth key"
assert_eq CRAM-MD5 "$(login_method)" "Dovecot's method without an auth key"

note "a Dovecot without CRAM-MD5 (auth_mechanisms = plain login)"
dovecot_stop
DOVECOT_EXTRA_CONF='auth_mechanisms = plain login' dovecot_start "$T/dovecot2" ||
	fail "cannot start the second Dovecot"
dovecot_add_message "${msgs[@]}"
note "auth: auto against a Dovecot with plain and login only: PLAIN (loopback)"
dovecot_log_mark
popfetch_config "$T/auto2.yaml" name=auto2 auth=auto maildir="$T/Maildir-auto2" \
	state_dir="$T/state-auto2"
run_popfetch -c "$T/auto2.yaml" -vv
expect_rc 0 "auth: auto with plain and login offered"
assert_eq PLAIN "$(login_method)" "Dovecot's method for auth: auto (plain, login)"
secret_scan "$T/out" "$T/err" >&2 || fail "a secret in the -vv output (auto, plain/login)"

note "auth: cram-md5 not offered: 69, nothing sent"
dovecot_log_mark
popfetch_config "$T/nocram.yaml" name=nocram auth=cram-md5 maildir="$T/Maildir-nocram" \
	state_dir="$T/state-nocram"
run_popfetch -c "$T/nocram.yaml" -vv
assert_no_grep 'C: (USER|AUTH|APOP)|C: <redacted>' "$T/err" "credentials sent (cram-md5 not offered)"
sleep 0.3
if dovecot_log_new | grep -E -q 'Login: |auth failed'; then
	dovecot_log_new >&2
	fail "auth: cram-md5 not offered: Dovecot saw a login attempt"
fi
expect_rc 69 "auth: cram-md5 not offered"
grep -v '^popfetch: nocram: [*SC]:\? ' "$T/err" >"$T/err-lines" || true
assert_lines 1 "$T/err-lines" "stderr apart from the dialogue (cram-md5 not offered)"
assert_grep 'CRAM-MD5' "$T/err-lines" "the error names the mechanism"

exit 0
