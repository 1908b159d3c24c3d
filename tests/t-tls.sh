#!/bin/bash
# t-tls: TLS against Dovecot's self-signed certificate.
#  - pop3s (tls: implicit) with ca_file: works, messages stored;
#  - pop3s without ca_file: fails (certificate), nothing stored;
#  - tls: starttls on the plain port with ca_file: works;
#  - tls: starttls without ca_file: fails;
#  - pop3s to a certificate for another name (fake server): fails before
#    any credentials are sent;
#  - tls: starttls to a server that offers no STLS: fails before any
#    credentials are sent (fake server's command log).
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-tls
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/utf8.eml")
dovecot_add_message "${msgs[@]}"

note "pop3s with ca_file"
popfetch_config "$T/implicit.yaml" name=implicit tls=implicit \
	port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
	maildir="$T/Maildir-implicit" state_dir="$T/state-implicit"
run_popfetch -c "$T/implicit.yaml"
expect_rc 0 "pop3s with ca_file"
expect_silent "pop3s with ca_file"
assert_maildir_matches "$T/Maildir-implicit" "${msgs[@]}"
assert_grep 'Login: user=<alice>, .*, TLS, ' "$DOVECOT_LOG" "a TLS login in Dovecot's log"

note "pop3s without ca_file: the certificate is not trusted"
popfetch_config "$T/noca.yaml" name=noca tls=implicit port="$DOVECOT_POP3S_PORT" \
	maildir="$T/Maildir-noca" state_dir="$T/state-noca"
run_popfetch -c "$T/noca.yaml"
if [ "$RC" -eq 0 ]; then
	show_run
	fail "an untrusted certificate was accepted"
fi
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: noca: ' "$T/err" "stderr names the account"
assert_grep '[Cc]ertificate' "$T/err" "stderr mentions the certificate"
assert_eq 0 "$(maildir_count "$T/Maildir-noca")" "messages stored without trust"

note "starttls on the plain port with ca_file"
popfetch_config "$T/starttls.yaml" name=starttls tls=starttls host=localhost \
	port="$DOVECOT_PORT" ca_file="$DOVECOT_CA" \
	maildir="$T/Maildir-starttls" state_dir="$T/state-starttls"
run_popfetch -c "$T/starttls.yaml"
expect_rc 0 "starttls with ca_file"
expect_silent "starttls with ca_file"
assert_maildir_matches "$T/Maildir-starttls" "${msgs[@]}"

note "starttls without ca_file fails too"
popfetch_config "$T/starttls-noca.yaml" name=stlsnoca tls=starttls \
	port="$DOVECOT_PORT" maildir="$T/Maildir-stlsnoca" state_dir="$T/state-stlsnoca"
run_popfetch -c "$T/starttls-noca.yaml"
[ "$RC" -ne 0 ] || { show_run; fail "STLS with an untrusted certificate was accepted"; }
assert_grep '^popfetch: stlsnoca: .*[Cc]ertificate' "$T/err" "stderr"
assert_eq 0 "$(maildir_count "$T/Maildir-stlsnoca")" "messages stored without trust"

note "starttls to a server without STLS: no credentials in clear"
mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/1.eml"
fakepop3_start "$T/fake" --messages "$T/msgs" --timeout 60 ||
	fail "cannot start the fake server"
popfetch_config "$T/nostls.yaml" name=nostls tls=starttls port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" maildir="$T/Maildir-nostls" state_dir="$T/state-nostls"
run_popfetch -c "$T/nostls.yaml"
[ "$RC" -ne 0 ] || { show_run; fail "tls: starttls went ahead without STLS"; }
assert_grep '^popfetch: nostls: ' "$T/err" "stderr names the account"
assert_no_grep '^(USER|PASS|APOP|AUTH)' "$FAKE_LOG" "credentials sent without TLS"
assert_eq 0 "$(maildir_count "$T/Maildir-nostls")" "messages stored"
fakepop3_stop

note "pop3s to a server whose certificate is for another name"
# The CA given is that certificate itself, so only the name is wrong.
mkdir -p "$T/othercert"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 30 -subj /CN=other.example -addext subjectAltName=DNS:other.example \
	-keyout "$T/othercert/key.pem" -out "$T/othercert/cert.pem" >/dev/null 2>&1 ||
	fail "cannot make a certificate"
fakepop3_start "$T/fake2" --messages "$T/msgs" --timeout 60 --tls implicit \
	--cert "$T/othercert/cert.pem" --key "$T/othercert/key.pem" ||
	fail "cannot start the fake server"
popfetch_config "$T/othername.yaml" name=othername tls=implicit port="$FAKE_PORT" \
	ca_file="$T/othercert/cert.pem" maildir="$T/Maildir-othername" \
	state_dir="$T/state-othername"
run_popfetch -c "$T/othername.yaml"
[ "$RC" -ne 0 ] || { show_run; fail "a certificate for another name was accepted"; }
assert_grep '^popfetch: othername: ' "$T/err" "stderr names the account"
assert_no_grep '^(USER|PASS|APOP|AUTH)' "$FAKE_LOG" "credentials sent to an unverified server"
assert_eq 0 "$(maildir_count "$T/Maildir-othername")" "messages stored"
exit 0
