#!/bin/bash
# t-auth-fake: authentication against the fake server, checking the exact
# bytes it received.
#  - tls: starttls to a server that offers no STLS (auth user, plain,
#    xoauth2): exit 69, and nothing but CAPA (and QUIT) reaches the server;
#  - a greeting with an APOP timestamp, no SASL, APOP refused (libcurl's
#    trap): auth: user logs in with USER/PASS and never tries APOP; auth:
#    auto logs in too, also when the timestamp ends a 1,500-byte greeting;
#  - auth: xoauth2 / oauthbearer with oauth2_token_command: the SASL
#    message the server got, decoded, is exactly "user=U^Aauth=Bearer
#    TOKEN^A^A" / "n,a=U,^A...auth=Bearer TOKEN^A^A"; messages stored;
#  - a token the server rejects: 77, one line;
#  - a token command that fails or prints nothing: 77, one line, no AUTH
#    sent; one that outlives "timeout: 1s": killed, 77 within 3 s;
#  - a wrong password with auth: plain (and login, cram-md5): 77 quoting
#    the server;
#  - AUTH PLAIN answered "+OK" (libcurl gives up, no -ERR): 69, and the
#    error lists the capabilities CAPA named before (with tls: starttls,
#    those named after STLS);
#  - password_file, password_command, password_env log in; a password_file
#    group/others can read: 78 with the chmod; a password_env variable is
#    not inherited by the commands popfetch runs; a password_command that
#    outlives the timeout is killed (77), with its process group: a
#    shell's background child (password_command, oauth2_token_command)
#    does not outlive it; nor does the command's group outlive a popfetch
#    killed by SIGTERM while it runs (exit 143);
#  - a CR, LF or NUL inside the password from password_env (78),
#    password_file (78), password_command or oauth2_token_command (77):
#    refused with one line naming the source and not the secret, and no
#    USER/PASS/AUTH/DELE reaches the server; a CRLF ending a file's first
#    line is not part of the password;
#  - auth: auto over tls: none to a host that is not loopback (this
#    machine's own address, insecure_plaintext: true): with only USER,
#    PLAIN and LOGIN offered, exit 69 and nothing but CAPA sent; with
#    CRAM-MD5 offered too, CRAM-MD5; auth: user there does as told;
#  - every mechanism is also run with -vv, its output scanned for the
#    password and the token in every form (and t_cleanup scans all runs).
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-auth-fake
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/m1"
cp "$DATA/plain2.eml" "$T/msgs/m2"
msgs=("$T/msgs/m1" "$T/msgs/m2")
printf '%s\n' "$TEST_TOKEN" >"$T/token"
chmod 600 "$T/token"
# The token as a list item of oauth2_token_command.
token_cmd="[cat, $(yaml_str "$T/token")]"

# A command that records its pid, then sleeps; the pid file must name a
# process that is gone when popfetch has returned.
cat >"$T/slow.sh" <<'EOF'
#!/bin/sh
echo $$ >"$0.pid"
exec sleep 30
EOF
chmod 755 "$T/slow.sh"
# kill_leftover: the EXIT trap's part: a slow command popfetch failed to
# kill (we started it) does not outlive the test.
kill_leftover() {
	local p
	for f in "$T/slow.sh.pid" "$T/bg.pid"; do
		[ -s "$f" ] || continue
		p=$(cat "$f")
		if alive "$p"; then
			kill "$p" 2>/dev/null || true
		fi
	done
}
# alive PID: PID exists and is not a zombie.
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}
t_on_exit kill_leftover

# fake NAME ARGS...: a fresh fake server in $T/NAME.
fake() {
	local name=$1
	shift
	fakepop3_stop
	fakepop3_start "$T/$name" --messages "$T/msgs" --timeout 90 "$@" ||
		fail "cannot start the fake server"
}

# account NAME [KEY=VALUE]...: $T/NAME.yaml for the running fake server,
# with its own store and state.
account() {
	local name=$1
	shift
	popfetch_config "$T/$name.yaml" name="$name" port="$FAKE_PORT" \
		maildir="$T/Maildir-$name" state_dir="$T/state-$name" "$@"
}

# sasl_payload MECH: the decoded SASL message of the first "AUTH MECH" in
# the fake server's log (initial response or the next line), into
# $T/payload.
sasl_payload() {
	"$PYTHON" - "$FAKE_LOG" "$1" "$T/payload" <<'EOF' || fail "no AUTH $1 exchange in $FAKE_LOG"
import base64, sys
log, mech, out = sys.argv[1:4]
lines = open(log, "rb").read().split(b"\n")
for i, l in enumerate(lines):
    f = l.split(b" ")
    if len(f) >= 2 and f[0].upper() == b"AUTH" and f[1].upper() == mech.encode():
        b64 = f[2] if len(f) > 2 else lines[i + 1]
        open(out, "wb").write(base64.b64decode(b64, validate=True))
        sys.exit(0)
sys.exit(1)
EOF
}

# vv_clean WHAT: the last run's stdout and stderr hold no secret.
vv_clean() {
	secret_scan "$T/out" "$T/err" >&2 || fail "a secret in the output of $1"
}

# ---------------------------------------------------- STLS not offered
for mech in user plain xoauth2; do
	note "tls: starttls, auth: $mech, server without STLS: 69, nothing sent"
	fake nostls-$mech --sasl PLAIN,XOAUTH2
	if [ $mech = xoauth2 ]; then
		account nostls-$mech tls=starttls auth=$mech password=- \
			oauth2_token_command:="$token_cmd"
	else
		account nostls-$mech tls=starttls auth=$mech
	fi
	run_popfetch -c "$T/nostls-$mech.yaml"
	assert_only_commands 'CAPA|QUIT' "$FAKE_LOG" "tls: starttls without STLS (auth: $mech)"
	grep -q '^CAPA$' "$FAKE_LOG" || fail "no CAPA (auth: $mech): how was STLS looked for?"
	expect_rc 69 "tls: starttls without STLS (auth: $mech)"
	assert_empty "$T/out" "stdout (no STLS, auth: $mech)"
	assert_lines 1 "$T/err" "stderr (no STLS, auth: $mech)"
	assert_grep "^popfetch: nostls-$mech: .*STLS" "$T/err" "stderr names the account and STLS"
	assert_eq 0 "$(maildir_count "$T/Maildir-nostls-$mech")" "messages stored"
done

# ---------------------------------------------- APOP timestamp, no APOP
note "APOP timestamp in the greeting, APOP refused, no SASL: auth: user"
fake apop --apop-greeting-only
account apopuser auth=user
run_popfetch -c "$T/apopuser.yaml" -vv
expect_rc 0 "auth: user against an APOP-timestamp greeting"
assert_maildir_matches "$T/Maildir-apopuser" "${msgs[@]}"
assert_eq "USER alice" "$(grep '^USER' "$FAKE_LOG")" "USER line the server got"
assert_eq "PASS $TEST_PASS" "$(grep '^PASS' "$FAKE_LOG")" "PASS line the server got"
assert_no_grep '^(APOP|AUTH)' "$FAKE_LOG" "APOP/AUTH with auth: user"
vv_clean "auth: user -vv (APOP greeting)"

note "APOP timestamp in the greeting, APOP refused, no SASL: auth: auto"
fake apop-auto --apop-greeting-only
account apopauto auth=auto
run_popfetch -c "$T/apopauto.yaml" -vv
expect_rc 0 "auth: auto against an APOP-timestamp greeting"
assert_maildir_matches "$T/Maildir-apopauto" "${msgs[@]}"
assert_grep '^PASS ' "$FAKE_LOG" "the login (auth: auto)"
vv_clean "auth: auto -vv (APOP greeting)"

# The timestamp at the end of a greeting longer than a reply line buffer
# (1,024 bytes): libcurl reads the whole line and tries APOP, so the
# fallback must see the timestamp too (it once looked only at the first
# 1,023 bytes and gave up with 77).
note "APOP timestamp after 1,500 bytes of greeting, APOP refused: auth: auto"
fake apop-long --apop-greeting-only --greeting-pad 1500
account apoplong auth=auto
run_popfetch -c "$T/apoplong.yaml" -v
expect_rc 0 "auth: auto against a long APOP-timestamp greeting"
assert_maildir_matches "$T/Maildir-apoplong" "${msgs[@]}"
assert_eq 1 "$(grep -c '^APOP ' "$FAKE_LOG")" "APOP tries (long greeting)"
assert_eq "PASS $TEST_PASS" "$(grep '^PASS' "$FAKE_LOG")" "PASS line the server got (long greeting)"

# ------------------------------------------------------------ OAuth2
note "auth: xoauth2 with oauth2_token_command"
fake xoauth2 --sasl PLAIN,XOAUTH2
account xoauth2 auth=xoauth2 password=- oauth2_token_command:="$token_cmd"
run_popfetch -c "$T/xoauth2.yaml" -vv
expect_rc 0 "auth: xoauth2"
assert_maildir_matches "$T/Maildir-xoauth2" "${msgs[@]}"
sasl_payload XOAUTH2
printf 'user=alice\001auth=Bearer %s\001\001' "$TEST_TOKEN" >"$T/payload.want"
assert_file_eq "$T/payload.want" "$T/payload" "the XOAUTH2 message the server got"
assert_no_grep '^(USER|PASS|APOP|AUTH PLAIN)' "$FAKE_LOG" "other logins with auth: xoauth2"
assert_grep 'C: AUTH XOAUTH2' "$T/err" "AUTH XOAUTH2 in the -vv dialogue"
assert_grep 'C: .*<redacted>' "$T/err" "the XOAUTH2 message redacted in the -vv dialogue"
vv_clean "auth: xoauth2 -vv"

note "auth: oauthbearer with oauth2_token_command"
fake oauthbearer --sasl PLAIN,OAUTHBEARER
account oauthbearer auth=oauthbearer password=- oauth2_token_command:="$token_cmd"
run_popfetch -c "$T/oauthbearer.yaml" -vv
expect_rc 0 "auth: oauthbearer"
assert_maildir_matches "$T/Maildir-oauthbearer" "${msgs[@]}"
sasl_payload OAUTHBEARER
"$PYTHON" - "$T/payload" "$TEST_TOKEN" "$FAKE_PORT" <<'EOF' || fail "the OAUTHBEARER message the server got"
import sys
p, tok, port = open(sys.argv[1], "rb").read(), sys.argv[2].encode(), sys.argv[3].encode()
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("OAUTHBEARER message %r: %s" % (p, what), file=sys.stderr)
        ok = False
check(p.startswith(b"n,a=alice,\x01"), "no GS2 header n,a=alice,")
check(p.endswith(b"\x01\x01"), "does not end in ^A^A")
fields = p[:-2].split(b"\x01")[1:]
check(b"auth=Bearer " + tok in fields, "no auth=Bearer TOKEN field")
for f in fields:
    if f.startswith(b"host="):
        check(f == b"host=127.0.0.1", "host field %r" % f)
    if f.startswith(b"port="):
        check(f == b"port=" + port, "port field %r" % f)
sys.exit(0 if ok else 1)
EOF
assert_grep 'C: AUTH OAUTHBEARER' "$T/err" "AUTH OAUTHBEARER in the -vv dialogue"
assert_grep 'C: .*<redacted>' "$T/err" "the OAUTHBEARER message redacted in the -vv dialogue"
vv_clean "auth: oauthbearer -vv"

note "auth: xoauth2, a token the server rejects: 77"
badtok='tok-Rejected!9zz'
secret_add "$badtok"
printf '%s\n' "$badtok" >"$T/badtoken"
fake xoauth2-bad --sasl XOAUTH2
account xoauth2bad auth=xoauth2 password=- \
	oauth2_token_command:="[cat, $(yaml_str "$T/badtoken")]"
run_popfetch -c "$T/xoauth2bad.yaml"
expect_rc 77 "a rejected token"
assert_empty "$T/out" "stdout (rejected token)"
assert_lines 1 "$T/err" "stderr (rejected token)"
# libcurl gives up at the server's error challenge ("+ <base64 JSON>")
# without the dummy reply, so the final -ERR is never read: no server
# words to quote here, but the line must say the login was refused.
assert_grep '^popfetch: xoauth2bad: .*([Rr]efused|[Rr]ejected|[Ii]nvalid|[Ff]ailed)' "$T/err" \
	"stderr says the login was refused"
assert_eq 0 "$(maildir_count "$T/Maildir-xoauth2bad")" "messages stored with a rejected token"
run_popfetch -c "$T/xoauth2bad.yaml" -vv
expect_rc 77 "a rejected token, -vv"
vv_clean "a rejected token -vv"

for cmd in false true; do
	note "oauth2_token_command [$cmd]: 77, one line, no AUTH sent"
	fake tokfail-$cmd --sasl XOAUTH2
	account tokfail-$cmd auth=xoauth2 password=- oauth2_token_command:="[$cmd]"
	run_popfetch -c "$T/tokfail-$cmd.yaml"
	expect_rc 77 "token command $cmd"
	assert_empty "$T/out" "stdout (token command $cmd)"
	assert_lines 1 "$T/err" "stderr (token command $cmd)"
	assert_grep "^popfetch: tokfail-$cmd: .*oauth2_token_command" "$T/err" \
		"stderr names the account and oauth2_token_command"
	assert_no_grep '^(AUTH|USER|PASS|APOP)' "$FAKE_LOG" "a login without a token ($cmd)"
	assert_eq 0 "$(maildir_count "$T/Maildir-tokfail-$cmd")" "messages stored"
done

# slow_run WHAT CONFIG: run, expect 77 within 3 s and the command killed.
slow_run() {
	local start end ms limit
	rm -f "$T/slow.sh.pid"
	start=${EPOCHREALTIME/./}
	run_popfetch -c "$2"
	end=${EPOCHREALTIME/./}
	ms=$(((end - start) / 1000))
	expect_rc 77 "$1"
	note "$1: exit $RC after $ms ms"
	# Under valgrind (POPFETCH_WRAPPER) the start alone takes seconds;
	# 10 s still proves the 30 s command was killed.
	limit=3000
	[ -z "${POPFETCH_WRAPPER:-}" ] || limit=10000
	[ "$ms" -lt "$limit" ] || fail "$1: popfetch took $ms ms (timeout: 1s)"
	assert_lines 1 "$T/err" "stderr ($1)"
	[ -s "$T/slow.sh.pid" ] || fail "$1: the command never ran"
	if alive "$(cat "$T/slow.sh.pid")"; then
		fail "$1: the command (pid $(cat "$T/slow.sh.pid")) still runs"
	fi
}

note "oauth2_token_command longer than timeout: 1s: killed, 77"
fake tokslow --sasl XOAUTH2
account tokslow auth=xoauth2 password=- timeout=1s \
	oauth2_token_command:="[$(yaml_str "$T/slow.sh")]"
slow_run "slow token command" "$T/tokslow.yaml"
assert_grep '^popfetch: tokslow: .*oauth2_token_command' "$T/err" "stderr names the command"
assert_no_grep '^(AUTH|USER|PASS|APOP)' "$FAKE_LOG" "a login without a token (slow command)"

# ----------------------------------------------------- wrong passwords
wrong='Wr0ng-pw!7#fake'
secret_add "$wrong"
for mech in plain login cram-md5 user; do
	note "a wrong password with auth: $mech: 77 quoting the server"
	fake wrong-$mech --sasl PLAIN,LOGIN,CRAM-MD5
	account wrong-$mech auth=$mech password="$wrong"
	run_popfetch -c "$T/wrong-$mech.yaml"
	expect_rc 77 "wrong password, auth: $mech"
	assert_empty "$T/out" "stdout (wrong password, auth: $mech)"
	assert_lines 1 "$T/err" "stderr (wrong password, auth: $mech)"
	assert_grep "^popfetch: wrong-$mech: .*\\[AUTH\\] Authentication failed" "$T/err" \
		"stderr quotes the server (auth: $mech)"
	assert_no_grep '^(STAT|LIST|UIDL|RETR)' "$FAKE_LOG" "commands after a refused login"
	assert_eq 0 "$(maildir_count "$T/Maildir-wrong-$mech")" "messages stored"
	run_popfetch -c "$T/wrong-$mech.yaml" -vv
	expect_rc 77 "wrong password, auth: $mech, -vv"
	vv_clean "a wrong password with auth: $mech -vv"
done

# A login libcurl gives up without an -ERR, after the CAPA listing and a
# later +OK (AUTH PLAIN answered "+OK" instead of "+ "): the error names
# the capabilities the server listed, not "(none listed)".
note "AUTH answered +OK: the error still shows the CAPA listing"
printf '%s\n' '{"faults": [{"on": "AUTH", "action": "reply", "text": "+OK"}]}' \
	>"$T/authok.json"
fake authok --sasl PLAIN --scenario "$T/authok.json"
account authok auth=plain
run_popfetch -c "$T/authok.yaml"
expect_rc 69 "AUTH answered +OK"
assert_lines 1 "$T/err" "stderr (AUTH answered +OK)"
want="popfetch: authok: login: 127.0.0.1 does not offer PLAIN (auth: plain); its capabilities: TOP UIDL RESP-CODES USER SASL PLAIN"
grep -F -x -q -- "$want" "$T/err" || {
	show_run
	fail "AUTH answered +OK: no line '$want'"
}
assert_grep '^AUTH PLAIN$' "$FAKE_LOG" "AUTH PLAIN sent"
# The same over tls: starttls: the listing after STLS (without STLS)
# replaces the one before it, and is kept past AUTH's +OK.
note "AUTH answered +OK after STLS: the second CAPA listing is shown"
make_cert "$T/stlscert" || fail "no certificate"
fake authok-stls --sasl PLAIN --scenario "$T/authok.json" --tls starttls \
	--cert "$T/stlscert/cert.pem" --key "$T/stlscert/key.pem"
account authok-stls auth=plain tls=starttls ca_file="$T/stlscert/cert.pem"
run_popfetch -c "$T/authok-stls.yaml"
expect_rc 69 "AUTH answered +OK after STLS"
want="popfetch: authok-stls: login: 127.0.0.1 does not offer PLAIN (auth: plain); its capabilities: TOP UIDL RESP-CODES USER SASL PLAIN"
grep -F -x -q -- "$want" "$T/err" || {
	show_run
	fail "AUTH answered +OK after STLS: no line '$want'"
}
assert_grep '^STLS$' "$FAKE_LOG" "STLS sent"

note "the right password with auth: plain, login, cram-md5 (-vv)"
for mech in plain login cram-md5; do
	fake right-$mech --sasl PLAIN,LOGIN,CRAM-MD5
	account right-$mech auth=$mech
	run_popfetch -c "$T/right-$mech.yaml" -vv
	expect_rc 0 "auth: $mech"
	assert_maildir_matches "$T/Maildir-right-$mech" "${msgs[@]}"
	m=$(printf '%s' "$mech" | tr a-z A-Z)
	assert_grep "^AUTH $m" "$FAKE_LOG" "AUTH $m sent"
	vv_clean "auth: $mech -vv (fake server)"
	if [ $mech = plain ]; then
		sasl_payload PLAIN
		printf '\0alice\0%s' "$TEST_PASS" >"$T/payload.want"
		printf 'alice\0alice\0%s' "$TEST_PASS" >"$T/payload.want2"
		cmp -s "$T/payload.want" "$T/payload" || cmp -s "$T/payload.want2" "$T/payload" ||
			fail "the PLAIN message the server got: $(od -c "$T/payload" | head -3)"
	fi
done

# --------------------------------------------------- password sources
note "password_file, password_command, password_env"
fake sources
printf '%s\nsecond line ignored\n' "$TEST_PASS" >"$T/pwfile"
chmod 600 "$T/pwfile"
account pwfile password=- password_file="$T/pwfile"
run_popfetch -c "$T/pwfile.yaml"
expect_rc 0 "password_file"
expect_silent "password_file"
assert_maildir_matches "$T/Maildir-pwfile" "${msgs[@]}"

account pwcmd password=- password_command:="[cat, $(yaml_str "$T/pwfile")]"
run_popfetch -c "$T/pwcmd.yaml"
expect_rc 0 "password_command"
expect_silent "password_command"
assert_maildir_matches "$T/Maildir-pwcmd" "${msgs[@]}"

account pwenv password=- password_env=PF_TEST_SECRET_PW
PF_TEST_SECRET_PW=$TEST_PASS run_popfetch -c "$T/pwenv.yaml"
expect_rc 0 "password_env"
expect_silent "password_env"
assert_maildir_matches "$T/Maildir-pwenv" "${msgs[@]}"

note "a line break or NUL in a password from env, file or command: refused, nothing sent"
# Each would reach the server as a second command after PASS.
inj='Inj3ct-s3cret'
secret_add "$inj"
# crlf_refused WHAT RC CONFIG: exit RC, one line naming WHAT and not the
# secret, and neither PASS nor DELE reached the server.
crlf_refused() {
	expect_rc "$2" "$1"
	assert_empty "$T/out" "stdout ($1)"
	assert_lines 1 "$T/err" "stderr ($1)"
	assert_grep "^popfetch: [a-z0-9]*: .*$1.*(line break|CR|NUL)" "$T/err" "stderr names $1 and why"
	if grep -F -q -- "$inj" "$T/err"; then
		fail "$1: the secret is quoted in the error"
	fi
	assert_no_grep '^(USER|PASS|AUTH|APOP|DELE)' "$FAKE_LOG" "commands sent with a refused $1"
	assert_eq 0 "$(maildir_count "$T/Maildir-$3")" "messages stored ($1)"
}
account crlfenv password=- password_env=PF_TEST_SECRET_PW
for v in "$inj"$'\r\n''DELE 1' "$inj"$'\n''DELE 1' "$inj"$'\r''DELE 1' "$inj"$'\n'; do
	: >"$FAKE_LOG"
	PF_TEST_SECRET_PW=$v run_popfetch -c "$T/crlfenv.yaml"
	crlf_refused password_env 78 crlfenv
done
account crlffile password=- password_file="$T/crlfpw"
# printf formats, %s being the secret.
for f in '%s\rDELE 1\n' '%s\r\r\n' '%s\r' '%s\0x\n'; do
	: >"$FAKE_LOG"
	# shellcheck disable=SC2059
	printf "$f" "$inj" >"$T/crlfpw"
	chmod 600 "$T/crlfpw"
	run_popfetch -c "$T/crlffile.yaml"
	crlf_refused password_file 78 crlffile
done
account crlfcmd password=- password_command:="[printf, '%s\\rDELE 1', $(yaml_str "$inj")]"
: >"$FAKE_LOG"
run_popfetch -c "$T/crlfcmd.yaml"
crlf_refused password_command 77 crlfcmd
fake crlf-tok --sasl XOAUTH2
account crlftok auth=xoauth2 password=- \
	oauth2_token_command:="[printf, 'tok\\rDELE 1\\n']"
run_popfetch -c "$T/crlftok.yaml"
crlf_refused oauth2_token_command 77 crlftok
note "the first line's own CRLF ending is not part of the password"
fake crlf-ok
printf '%s\r\nsecond line\r\n' "$TEST_PASS" >"$T/crlfok"
chmod 600 "$T/crlfok"
account crlfok password=- password_file="$T/crlfok"
run_popfetch -c "$T/crlfok.yaml"
expect_rc 0 "a password_file ending in CRLF"
assert_eq "PASS $TEST_PASS" "$(grep '^PASS' "$FAKE_LOG")" "PASS line the server got (CRLF file)"
fake sources

note "a password_file group can read: 78 with the chmod"
chmod 640 "$T/pwfile"
account pwfile640 password=- password_file="$T/pwfile"
run_popfetch -c "$T/pwfile640.yaml"
expect_rc 78 "a group-readable password_file"
assert_grep 'chmod 600' "$T/err" "the error gives the chmod"
assert_eq 0 "$(maildir_count "$T/Maildir-pwfile640")" "messages stored"
chmod 600 "$T/pwfile"

note "a config with a literal password that others can read: 78 with the chmod"
: >"$FAKE_LOG"
account readable
chmod 644 "$T/readable.yaml"
run_popfetch -c "$T/readable.yaml"
expect_rc 78 "a world-readable config with a password"
assert_grep 'chmod 600' "$T/err" "the error gives the chmod"
assert_grep 'readable\.yaml' "$T/err" "the error names the file"
[ ! -e "$T/Maildir-readable" ] || fail "a store was created"
assert_empty "$FAKE_LOG" "commands sent with a refused config"

note "a password_env variable is not passed on to the commands popfetch runs"
cat >"$T/envdump.sh" <<'EOF'
#!/bin/sh
env >"$0.env"
cat "$(dirname "$0")/pwfile"
EOF
chmod 755 "$T/envdump.sh"
{
	printf 'accounts:\n'
	popfetch_account name=envfirst port="$FAKE_PORT" password=- \
		password_env=PF_TEST_SECRET_PW maildir="$T/Maildir-envfirst" \
		state_dir="$T/state-envfirst"
	popfetch_account name=cmdsecond port="$FAKE_PORT" password=- \
		password_command:="[$(yaml_str "$T/envdump.sh")]" \
		maildir="$T/Maildir-cmdsecond" state_dir="$T/state-cmdsecond"
} | config_write "$T/envcmd.yaml"
PF_TEST_SECRET_PW=$TEST_PASS run_popfetch -c "$T/envcmd.yaml"
expect_rc 0 "password_env and password_command accounts"
[ -s "$T/envdump.sh.env" ] || fail "the password command did not run"
assert_grep '^PATH=' "$T/envdump.sh.env" "the command's environment"
assert_no_grep '^PF_TEST_SECRET_PW=' "$T/envdump.sh.env" "password_env's variable in a command's environment"
if grep -F -q -- "$TEST_PASS" "$T/envdump.sh.env"; then
	fail "the password is in the environment of a command popfetch ran"
fi
assert_maildir_matches "$T/Maildir-envfirst" "${msgs[@]}"
assert_maildir_matches "$T/Maildir-cmdsecond" "${msgs[@]}"

note "a password_command longer than timeout: 1s: killed, 77"
account pwslow password=- timeout=1s password_command:="[$(yaml_str "$T/slow.sh")]"
: >"$FAKE_LOG"
slow_run "slow password command" "$T/pwslow.yaml"
assert_grep '^popfetch: pwslow: .*password_command' "$T/err" "stderr names the command"
assert_no_grep '^(PASS|AUTH|APOP)' "$FAKE_LOG" "a login without a password (slow command)"

note "a timed-out password_command and oauth2_token_command: what they started is killed too"
# The shell's own child keeps running after the shell is killed unless the
# whole process group goes.
bg_cmd="[sh, -c, $(yaml_str "sleep 300 & echo \$! >$T/bg.pid; sleep 300")]"
account pwbg password=- timeout=1s password_command:="$bg_cmd"
fake tokbg --sasl XOAUTH2
account tokbg auth=xoauth2 password=- timeout=1s oauth2_token_command:="$bg_cmd"
for acct in pwbg tokbg; do
	rm -f "$T/bg.pid"
	: >"$FAKE_LOG"
	run_popfetch -c "$T/$acct.yaml"
	expect_rc 77 "$acct: a timed-out command with a background child"
	assert_lines 1 "$T/err" "stderr ($acct)"
	assert_grep "^popfetch: $acct: .*command \\(sh\\) killed after 1s" "$T/err" "stderr ($acct)"
	assert_no_grep '^(PASS|AUTH|APOP)' "$FAKE_LOG" "a login without a secret ($acct)"
	[ -s "$T/bg.pid" ] || fail "$acct: the command never started its child"
	bg=$(cat "$T/bg.pid")
	# SIGKILL is delivered at once; allow the kernel a moment (at most 2 s).
	for _ in $(seq 20); do
		alive "$bg" || break
		sleep 0.1
	done
	if alive "$bg"; then
		fail "$acct: the command's child (pid $bg) still runs"
	fi
done
note "popfetch killed (SIGTERM) while a password_command runs: the command's group goes too"
# The command runs in a process group of its own (see above), out of
# reach of a signal sent to popfetch or of Ctrl-C at the terminal.
rm -f "$T/pwterm.pid"
account pwterm password=- timeout=60s \
	password_command:="[sh, -c, $(yaml_str "echo \$\$ >$T/pwterm.pid; sleep 300")]"
"$POPFETCH" -c "$T/pwterm.yaml" >"$T/out" 2>"$T/err" </dev/null &
pf=$!
for _ in $(seq 100); do
	[ -s "$T/pwterm.pid" ] && break
	sleep 0.1
done
[ -s "$T/pwterm.pid" ] || { kill -KILL "$pf"; fail "pwterm: the command never started"; }
pg=$(cat "$T/pwterm.pid")
kill -TERM "$pf"
rc=0
wait "$pf" || rc=$?
assert_eq 143 "$rc" "pwterm: popfetch's exit status (killed by SIGTERM)"
# SIGKILL is delivered at once; allow the kernel a moment (at most 5 s).
for _ in $(seq 50); do
	left=
	for p in $(pgrep -g "$pg"); do
		alive "$p" && left="$left $p"
	done
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -n "$left" ]; then
	kill -KILL -- "-$pg" 2>/dev/null || true
	fail "pwterm: the command's process group $pg still runs:$left"
fi

# ------------------------------ plaintext over the network: auth: auto
# A host that is not loopback: this machine's own non-loopback address,
# reached with tls: none and insecure_plaintext: true.
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' |
	grep -v '^127\.' | head -n 1) || ip=
if [ -z "$ip" ]; then
	note "skipped: no non-loopback IPv4 address here for the plaintext checks"
else
	note "auth: auto, plaintext to $ip, CRAM-MD5 offered too: CRAM-MD5"
	fake net-cram --listen "$ip" --sasl PLAIN,LOGIN,CRAM-MD5
	account netcram host="$ip" insecure_plaintext=true auth=auto
	run_popfetch -c "$T/netcram.yaml"
	expect_rc 0 "auth: auto, CRAM-MD5 offered, not loopback"
	assert_maildir_matches "$T/Maildir-netcram" "${msgs[@]}"
	assert_grep '^AUTH CRAM-MD5$' "$FAKE_LOG" "AUTH CRAM-MD5"
	assert_no_grep '^(USER|PASS|APOP|AUTH PLAIN|AUTH LOGIN)' "$FAKE_LOG" \
		"a plaintext login with auth: auto"

	note "auth: user, plaintext to $ip with insecure_plaintext: asked for, done"
	fake net-user --listen "$ip"
	account netuser host="$ip" insecure_plaintext=true auth=user
	run_popfetch -c "$T/netuser.yaml"
	expect_rc 0 "auth: user, not loopback, insecure_plaintext: true"
	assert_maildir_matches "$T/Maildir-netuser" "${msgs[@]}"
	assert_grep '^PASS ' "$FAKE_LOG" "USER/PASS as configured"

	note "auth: auto, plaintext to $ip, only USER/PLAIN/LOGIN offered: refused, nothing sent"
	fake net-plain --listen "$ip" --sasl PLAIN,LOGIN
	account netplain host="$ip" insecure_plaintext=true auth=auto
	run_popfetch -c "$T/netplain.yaml"
	assert_only_commands 'CAPA|QUIT' "$FAKE_LOG" "auth: auto over plaintext to $ip"
	expect_rc 69 "auth: auto, plaintext mechanisms only, not loopback"
	assert_lines 1 "$T/err" "stderr (plaintext mechanisms only)"
	assert_grep '^popfetch: netplain: .*([Mm]echanism|auth|[Pp]laintext)' "$T/err" \
		"stderr names the account and why"
fi

exit 0
