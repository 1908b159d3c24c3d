#!/bin/bash
# t-tls: TLS against Dovecot's self-signed certificate (and the fake server
# for what Dovecot will not do).
#  - pop3s (tls: implicit) and STLS (tls: starttls) with ca_file: work;
#    without ca_file: exit 69, one line naming the host, the certificate
#    and what to configure (ca_file / pinned_pubkey), no login in Dovecot;
#  - ca_path: a hashed directory with the certificate works, an empty one
#    fails (69);
#  - pinned_pubkey (pin computed here with openssl): the right pin works
#    (pop3s and STLS), a wrong one fails with 69 before any login, a list
#    with a wrong and the right pin works; without ca_file the pin alone
#    is trusted (the right one works, a wrong one fails before any login);
#  - the tls setting that does not fit the port: starttls on the POP3S
#    port and implicit on the plain one say which setting fits;
#  - --server-info: greeting, capabilities, TLS version, subject, issuer,
#    validity and the same sha256// pin; Dovecot logs no login and no auth
#    attempt, no credential command in the dialogue; without ca_file the
#    certificate is still described (with its pin) and marked unverified;
#  - tls_min_version "1.3" and "1.2" against Dovecot; "1.3" against a
#    server that stops at TLS 1.2: exit 69, nothing sent;
#  - tls: none to a host that is not loopback: exit 78 (config), unless
#    insecure_plaintext: true;
#  - client_cert + client_key against a server that requires one;
#  - a certificate for another name: 69, no credentials sent;
#  - tls: starttls to a server that offers no STLS: 69, nothing but CAPA
#    reaches the server.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-tls
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/utf8.eml")
dovecot_add_message "${msgs[@]}"

PIN=$(pubkey_pin "$DOVECOT_CA") || fail "openssl cannot compute the pin"
[[ $PIN =~ ^sha256//[A-Za-z0-9+/]{43}=$ ]] || fail "odd pin from openssl: $PIN"
WRONG_PIN=sha256//$(printf 'not the key' | openssl dgst -sha256 -binary | base64 -w0)
note "pin $PIN"

# account NAME [KEY=VALUE]...: a config $T/NAME.yaml for Dovecot with its
# own store and state.
account() {
	local name=$1
	shift
	popfetch_config "$T/$name.yaml" name="$name" maildir="$T/Maildir-$name" \
		state_dir="$T/state-$name" "$@"
}

# expect_no_login WHAT: Dovecot logged no login and no failed one since
# dovecot_log_mark.
expect_no_login() {
	sleep 0.3
	if dovecot_log_new | grep -E -q 'Login: |auth failed|Authentication failure'; then
		dovecot_log_new >&2
		fail "$1: Dovecot saw a login attempt"
	fi
}

# expect_verify_failure NAME HOST WHAT: exit 69, one stderr line naming the
# account, the host and the certificate, and saying what to configure.
expect_verify_failure() {
	expect_rc 69 "$3"
	assert_empty "$T/out" "stdout ($3)"
	assert_lines 1 "$T/err" "stderr ($3)"
	assert_grep "^popfetch: $1: " "$T/err" "stderr names the account ($3)"
	assert_grep "$2" "$T/err" "stderr names the host ($3)"
	assert_grep '[Cc]ertificate' "$T/err" "stderr mentions the certificate ($3)"
	assert_grep 'ca_file|pinned_pubkey' "$T/err" "stderr says what to configure ($3)"
	assert_eq 0 "$(maildir_count "$T/Maildir-$1")" "messages stored ($3)"
}

note "pop3s with ca_file"
account implicit tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA"
run_popfetch -c "$T/implicit.yaml"
expect_rc 0 "pop3s with ca_file"
expect_silent "pop3s with ca_file"
assert_maildir_matches "$T/Maildir-implicit" "${msgs[@]}"
assert_grep 'Login: user=<alice>, .*, TLS, ' "$DOVECOT_LOG" "a TLS login in Dovecot's log"

note "pop3s without ca_file: the certificate is not trusted"
dovecot_log_mark
account noca tls=implicit port="$DOVECOT_POP3S_PORT"
run_popfetch -c "$T/noca.yaml"
expect_verify_failure noca 127.0.0.1 "pop3s without ca_file"
expect_no_login "pop3s without ca_file"

note "starttls on the plain port with ca_file"
account starttls tls=starttls host=localhost port="$DOVECOT_PORT" ca_file="$DOVECOT_CA"
POPFETCH_TRACE=$T/trace-starttls.log run_popfetch -c "$T/starttls.yaml"
expect_rc 0 "starttls with ca_file"
expect_silent "starttls with ca_file"
assert_maildir_matches "$T/Maildir-starttls" "${msgs[@]}"
assert_grep 'STLS' "$T/trace-starttls.log" "STLS in the dialogue"

note "starttls without ca_file fails too, before any login"
dovecot_log_mark
account stlsnoca tls=starttls host=localhost port="$DOVECOT_PORT"
run_popfetch -c "$T/stlsnoca.yaml"
expect_verify_failure stlsnoca localhost "STLS without ca_file"
expect_no_login "STLS without ca_file"

note "ca_path: a hashed directory holding the certificate"
mkdir -p "$T/capath" "$T/capath-empty"
cp "$DOVECOT_CA" "$T/capath/dovecot.pem"
openssl rehash "$T/capath" 2>/dev/null || c_rehash "$T/capath" >/dev/null 2>&1 ||
	fail "cannot hash $T/capath"
account capath tls=implicit port="$DOVECOT_POP3S_PORT" ca_path="$T/capath"
run_popfetch -c "$T/capath.yaml"
expect_rc 0 "ca_path with the certificate"
expect_silent "ca_path with the certificate"
assert_maildir_matches "$T/Maildir-capath" "${msgs[@]}"
account capathnone tls=implicit port="$DOVECOT_POP3S_PORT" ca_path="$T/capath-empty"
run_popfetch -c "$T/capathnone.yaml"
expect_verify_failure capathnone 127.0.0.1 "ca_path without the certificate"

note "pinned_pubkey: the right pin"
account pinok tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
	pinned_pubkey="$PIN"
run_popfetch -c "$T/pinok.yaml"
expect_rc 0 "the right pin"
expect_silent "the right pin"
assert_maildir_matches "$T/Maildir-pinok" "${msgs[@]}"

note "pinned_pubkey: the right pin over STLS"
account pinstls tls=starttls host=localhost port="$DOVECOT_PORT" \
	ca_file="$DOVECOT_CA" pinned_pubkey="$PIN"
run_popfetch -c "$T/pinstls.yaml"
expect_rc 0 "the right pin over STLS"
assert_maildir_matches "$T/Maildir-pinstls" "${msgs[@]}"

note "pinned_pubkey: a wrong pin fails before any login"
dovecot_log_mark
account pinbad tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
	pinned_pubkey="$WRONG_PIN"
run_popfetch -c "$T/pinbad.yaml"
expect_rc 69 "a wrong pin"
assert_lines 1 "$T/err" "stderr (wrong pin)"
assert_grep '^popfetch: pinbad: ' "$T/err" "stderr names the account (wrong pin)"
assert_grep '127\.0\.0\.1' "$T/err" "stderr names the host (wrong pin)"
assert_grep 'pinned_pubkey' "$T/err" "stderr names pinned_pubkey (wrong pin)"
assert_eq 0 "$(maildir_count "$T/Maildir-pinbad")" "messages stored with a wrong pin"
expect_no_login "a wrong pin"

note "pinned_pubkey: a list with a wrong and the right pin"
account pinlist tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
	pinned_pubkey:="[$(yaml_str "$WRONG_PIN"), $(yaml_str "$PIN")]"
run_popfetch -c "$T/pinlist.yaml"
expect_rc 0 "a list of pins with the right one"
expect_silent "a list of pins with the right one"
assert_maildir_matches "$T/Maildir-pinlist" "${msgs[@]}"

note "pinned_pubkey: a list of wrong pins only"
account pinlistbad tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
	pinned_pubkey:="[$(yaml_str "$WRONG_PIN"), $(yaml_str "${WRONG_PIN%?????}AAAA=")]"
run_popfetch -c "$T/pinlistbad.yaml"
expect_rc 69 "a list of wrong pins"
assert_grep 'pinned_pubkey' "$T/err" "stderr names pinned_pubkey (list of wrong pins)"

note "pinned_pubkey without ca_file: exactly that key is trusted"
account pinnoca tls=implicit port="$DOVECOT_POP3S_PORT" pinned_pubkey="$PIN"
run_popfetch -c "$T/pinnoca.yaml"
expect_rc 0 "the right pin without ca_file"
expect_silent "the right pin without ca_file"
assert_maildir_matches "$T/Maildir-pinnoca" "${msgs[@]}"
dovecot_log_mark
account pinnocabad tls=implicit port="$DOVECOT_POP3S_PORT" \
	pinned_pubkey="$WRONG_PIN"
run_popfetch -c "$T/pinnocabad.yaml"
expect_rc 69 "a wrong pin without ca_file"
assert_grep '^popfetch: pinnocabad: TLS: the public key of 127\.0\.0\.1 does not match pinned_pubkey' "$T/err"
assert_eq 0 "$(maildir_count "$T/Maildir-pinnocabad")" "messages stored with a wrong pin"
expect_no_login "a wrong pin without ca_file"

note "the tls setting does not fit the port: what to set"
account stls995 tls=starttls port="$DOVECOT_POP3S_PORT" timeout=2s \
	ca_file="$DOVECOT_CA"
run_popfetch -c "$T/stls995.yaml"
expect_rc 75 "tls: starttls on the POP3S port"
assert_lines 1 "$T/err" "stderr (starttls on the POP3S port)"
assert_grep "^popfetch: stls995: greeting: timed out \(timeout 2s\); no greeting came: if port $DOVECOT_POP3S_PORT expects TLS at once \(POP3S, usually 995\), set tls: implicit\$" "$T/err"
account implplain tls=implicit port="$DOVECOT_PORT" ca_file="$DOVECOT_CA"
run_popfetch -c "$T/implplain.yaml"
expect_rc 69 "tls: implicit on the plain port"
assert_lines 1 "$T/err" "stderr (implicit on the plain port)"
assert_grep "^popfetch: implplain: TLS: .*; the server at port $DOVECOT_PORT answered without TLS: use tls: starttls there \(or the POP3S port, usually 995\)\$" "$T/err"

note "--server-info (pop3s, ca_file): the same pin, no login"
dovecot_log_mark
account info tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA"
POPFETCH_TRACE=$T/trace-info.log run_popfetch -c "$T/info.yaml" --server-info -a info
expect_rc 0 "--server-info"
show_run
assert_has "$PIN" "$T/out" "the pin printed by --server-info"
assert_grep 'Dovecot.* ready' "$T/out" "the greeting"
assert_grep 'UIDL' "$T/out" "the capabilities"
assert_grep 'SASL' "$T/out" "the capabilities"
assert_grep 'TLS ?v?1\.[23]' "$T/out" "the TLS version"
assert_grep '[Ss]ubject.*CN ?= ?localhost' "$T/out" "the certificate's subject"
assert_grep '[Ii]ssuer.*CN ?= ?localhost' "$T/out" "the certificate's issuer"
assert_grep '[Vv]alid' "$T/out" "the certificate's validity"
# Validity: the year the certificate expires (make_cert: 3650 days).
until_year=$(openssl x509 -in "$DOVECOT_CA" -noout -enddate | grep -o '[0-9]\{4\} GMT' | cut -c1-4)
assert_grep "$until_year" "$T/out" "the certificate's end date"
dovecot_log_wait 'no auth attempts' 5 ||
	{ dovecot_log_new >&2; fail "--server-info: no 'no auth attempts' line in Dovecot's log"; }
expect_no_login "--server-info"
assert_no_grep '(USER|PASS|APOP|AUTH) |<redacted>' "$T/trace-info.log" \
	"a credential command in the --server-info dialogue"
[ ! -e "$T/Maildir-info" ] || fail "--server-info created the Maildir"

note "--server-info over STLS"
dovecot_log_mark
account infostls tls=starttls host=localhost port="$DOVECOT_PORT" ca_file="$DOVECOT_CA"
POPFETCH_TRACE=$T/trace-infostls.log run_popfetch -c "$T/infostls.yaml" --server-info -a infostls
expect_rc 0 "--server-info over STLS"
assert_has "$PIN" "$T/out" "the pin printed by --server-info over STLS"
assert_grep 'Dovecot.* ready' "$T/out" "the greeting (STLS)"
dovecot_log_wait 'no auth attempts' 5 ||
	{ dovecot_log_new >&2; fail "--server-info over STLS: no 'no auth attempts' line"; }
expect_no_login "--server-info over STLS"
assert_no_grep '(USER|PASS|APOP|AUTH) |<redacted>' "$T/trace-infostls.log" \
	"a credential command in the --server-info dialogue (STLS)"

note "--server-info without ca_file: described, marked unverified, still the pin"
dovecot_log_mark
account infonoca tls=implicit port="$DOVECOT_POP3S_PORT"
run_popfetch -c "$T/infonoca.yaml" --server-info -a infonoca
note "exit $RC"
assert_has "$PIN" "$T/out" "the pin of an unverified certificate"
if ! grep -E -i -q 'not verified|verified: *no' "$T/out"; then
	show_run
	fail "--server-info without ca_file: the certificate is not marked unverified"
fi
expect_no_login "--server-info without ca_file"

note "tls_min_version 1.3 and 1.2 against Dovecot"
for v in 1.3 1.2; do
	account "min${v/./}" tls=implicit port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA" \
		tls_min_version="$v"
	POPFETCH_TRACE=$T/trace-min${v/./}.log run_popfetch -c "$T/min${v/./}.yaml"
	expect_rc 0 "tls_min_version $v"
	expect_silent "tls_min_version $v"
	assert_maildir_matches "$T/Maildir-min${v/./}" "${msgs[@]}"
done
assert_grep 'TLSv1\.3' "$T/trace-min13.log" "TLS 1.3 in the dialogue"

note "tls: none to a host that is not loopback needs insecure_plaintext"
for h in pop.example.invalid 192.0.2.1; do
	popfetch_config "$T/plain-$h.yaml" name=plainnet host="$h" tls=none \
		maildir="$T/Maildir-plainnet" state_dir="$T/state-plainnet"
	run_popfetch -c "$T/plain-$h.yaml"
	expect_rc 78 "tls: none to $h"
	assert_empty "$T/out" "stdout (tls: none to $h)"
	assert_grep 'insecure_plaintext' "$T/err" "the error names insecure_plaintext ($h)"
	assert_grep "plain-$h\\.yaml" "$T/err" "the error names the file ($h)"
	[ ! -e "$T/Maildir-plainnet" ] || fail "tls: none to $h: a store was created"
	popfetch_config "$T/plainok-$h.yaml" name=plainnet host="$h" tls=none \
		insecure_plaintext=true maildir="$T/Maildir-plainnet" state_dir="$T/state-plainnet"
	run_popfetch -c "$T/plainok-$h.yaml" --check-config
	expect_rc 0 "tls: none to $h with insecure_plaintext: true (--check-config)"
done

# ------------------------------------------------------ the fake server
mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/1.eml"

note "tls_min_version 1.3 to a server that stops at TLS 1.2"
fakepop3_start "$T/fake-tls12" --messages "$T/msgs" --timeout 60 --tls implicit \
	--tls-max-version 1.2 --cert "$DOVECOT_DIR/cert.pem" --key "$DOVECOT_DIR/key.pem" ||
	fail "cannot start the fake server"
popfetch_config "$T/tls12-min13.yaml" name=old tls=implicit port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" tls_min_version=1.3 maildir="$T/Maildir-old" state_dir="$T/state-old"
run_popfetch -c "$T/tls12-min13.yaml"
expect_rc 69 "tls_min_version 1.3 against a TLS 1.2 server"
assert_lines 1 "$T/err" "stderr (TLS 1.2 server)"
assert_grep '^popfetch: old: ' "$T/err" "stderr names the account (TLS 1.2 server)"
assert_empty "$FAKE_LOG" "commands sent to the TLS 1.2 server"
popfetch_config "$T/tls12.yaml" name=old tls=implicit port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" maildir="$T/Maildir-old" state_dir="$T/state-old"
run_popfetch -c "$T/tls12.yaml"
expect_rc 0 "the default minimum (1.2) against a TLS 1.2 server"
assert_maildir_matches "$T/Maildir-old" "$T/msgs/1.eml"
fakepop3_stop

note "client_cert + client_key for a server that requires one"
make_cert "$T/client" popfetch-client || fail "cannot make a client certificate"
# TLS 1.2, so that a missing client certificate fails the handshake itself.
fakepop3_start "$T/fake-client" --messages "$T/msgs" --timeout 60 --tls implicit \
	--tls-max-version 1.2 --client-ca "$T/client/cert.pem" \
	--cert "$DOVECOT_DIR/cert.pem" --key "$DOVECOT_DIR/key.pem" ||
	fail "cannot start the fake server"
popfetch_config "$T/nocc.yaml" name=nocc tls=implicit port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" maildir="$T/Maildir-nocc" state_dir="$T/state-nocc"
run_popfetch -c "$T/nocc.yaml"
expect_rc 69 "no client certificate"
assert_grep '^popfetch: nocc: ' "$T/err" "stderr names the account (no client certificate)"
assert_empty "$FAKE_LOG" "commands sent without a client certificate"
popfetch_config "$T/cc.yaml" name=cc tls=implicit port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" client_cert="$T/client/cert.pem" client_key="$T/client/key.pem" \
	maildir="$T/Maildir-cc" state_dir="$T/state-cc"
run_popfetch -c "$T/cc.yaml"
expect_rc 0 "with client_cert and client_key"
expect_silent "with client_cert and client_key"
assert_maildir_matches "$T/Maildir-cc" "$T/msgs/1.eml"
fakepop3_stop

note "starttls to a server without STLS: nothing but CAPA sent"
fakepop3_start "$T/fake" --messages "$T/msgs" --timeout 60 --sasl PLAIN ||
	fail "cannot start the fake server"
popfetch_config "$T/nostls.yaml" name=nostls tls=starttls port="$FAKE_PORT" \
	ca_file="$DOVECOT_CA" maildir="$T/Maildir-nostls" state_dir="$T/state-nostls"
run_popfetch -c "$T/nostls.yaml"
expect_rc 69 "tls: starttls without STLS"
assert_lines 1 "$T/err" "stderr (no STLS)"
assert_grep '^popfetch: nostls: .*STLS' "$T/err" "stderr names the account and STLS"
assert_only_commands 'CAPA|QUIT' "$FAKE_LOG" "tls: starttls without STLS"
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
expect_rc 69 "a certificate for another name"
assert_lines 1 "$T/err" "stderr (another name)"
assert_grep '^popfetch: othername: ' "$T/err" "stderr names the account"
assert_grep '127\.0\.0\.1' "$T/err" "stderr names the host (another name)"
assert_empty "$FAKE_LOG" "commands sent to an unverified server"
assert_eq 0 "$(maildir_count "$T/Maildir-othername")" "messages stored"
exit 0
