#!/bin/bash
# t-echo: a server that quotes the secret back in its -ERR line.  With
# fakepop3.py --echo-auth every login is refused with "-ERR [AUTH] wrong
# password 'PW'" (USER/PASS) or "... 'PW' (sent 'B64')" (AUTH PLAIN,
# LOGIN, XOAUTH2, OAUTHBEARER: the password or token decoded, and the
# client's base64 line as received).  For each mechanism, at the default
# verbosity, -v and -vv, each with its own $POPFETCH_TRACE file:
#  - exit 77, and the error line is the server's text with every secret
#    replaced by "<redacted>", exactly;
#  - at -vv the dialogue's "S:" line for the -ERR is the same text, and
#    so is the trace file's;
#  - nothing popfetch printed (stdout, stderr, trace) holds the secret in
#    any form (secret_scan: plain, base64 alone, in a PLAIN or XOAUTH2
#    message, at each alignment), nor any word of 16 or more bytes the
#    client sent (the PASS argument, each base64 line);
#  - auth: user, plain and the default with the password at byte 1011 of
#    a longer -ERR line (--echo-pad), so that the 1023-byte cut of the
#    kept line falls inside it: the exact error line, and no part of the
#    password (no prefix of 4 or more bytes) printed.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-echo
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/m1"
printf '%s\n' "$TEST_TOKEN" >"$T/token"
chmod 600 "$T/token"

# sent_words FILE...: no word of 16 bytes or more that the client sent
# (the fake server's log) occurs in FILE...
sent_words() {
	"$PYTHON" - "$FAKE_LOG" "$@" <<'PY'
import sys
words = set(w for l in open(sys.argv[1], "rb").read().split(b"\n")
            for w in l.split(b" ") if len(w) >= 16)
bad = 0
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    for w in words:
        if w in data:
            print("%s: holds %r, sent by the client" % (path, w))
            bad = 1
sys.exit(bad)
PY
}

for mech in user plain login xoauth2 oauthbearer; do
	fakepop3_stop
	fakepop3_start "$T/fake-$mech" --messages "$T/msgs" --timeout 90 \
		--echo-auth --sasl PLAIN,LOGIN,XOAUTH2,OAUTHBEARER ||
		fail "cannot start the fake server"
	case $mech in
	xoauth2 | oauthbearer)
		popfetch_config "$T/$mech.yaml" name="echo-$mech" \
			port="$FAKE_PORT" auth=$mech password=- \
			oauth2_token_command:="[cat, $(yaml_str "$T/token")]"
		;;
	*)
		popfetch_config "$T/$mech.yaml" name="echo-$mech" \
			port="$FAKE_PORT" auth=$mech
		;;
	esac
	if [ $mech = user ]; then
		reply="-ERR [AUTH] wrong password '<redacted>'"
		want="popfetch: echo-$mech: login: login refused: server said \"$reply\""
	else
		reply="-ERR [AUTH] wrong password '<redacted>' (sent '<redacted>')"
		want="popfetch: echo-$mech: login: server said \"$reply\""
	fi
	for v in "" -v -vv; do
		note "auth: $mech${v:+ $v}: the echoed secret is redacted"
		trace=$T/trace-$mech$v.log
		POPFETCH_TRACE=$trace run_popfetch -c "$T/$mech.yaml" $v
		expect_rc 77 "auth: $mech $v"
		secret_scan "$T/out" "$T/err" "$trace" >&2 ||
			fail "a secret in the output (auth: $mech $v)"
		sent_words "$T/out" "$T/err" "$trace" >&2 ||
			fail "the client's words in the output (auth: $mech $v)"
		grep -F -x -q -- "$want" "$T/err" || {
			show_run
			fail "auth: $mech $v: no line '$want'"
		}
		if [ -z "$v" ]; then
			assert_lines 1 "$T/err" "stderr (auth: $mech)"
		fi
		grep -F -x -q -- "popfetch: echo-$mech: S: $reply" "$trace" ||
			fail "auth: $mech $v: the trace lacks 'S: $reply'"
		if [ "$v" = -vv ]; then
			grep -F -x -q -- "popfetch: echo-$mech: S: $reply" "$T/err" ||
				fail "auth: $mech -vv: stderr lacks 'S: $reply'"
		fi
	done
	# The server did get the secret: the check above was not vacuous.
	grep -q -- "$([ $mech = user ] && echo PASS || echo AUTH)" "$FAKE_LOG" ||
		fail "auth: $mech: no login attempt in $FAKE_LOG"
done

# A reply line longer than popfetch keeps (1023 bytes) cut inside the
# echoed password: --echo-pad 1011 puts its base64 and then "A"s before
# it, so the password starts at byte 1011 and the cut falls in its 13th
# byte.  Nothing of it may be printed: not the whole, not its first 4 or
# more bytes; the kept text ends where the password began, marked "...".
# prefix_scan FILE...: no prefix of 4 or more bytes of $TEST_PASS in FILE...
prefix_scan() {
	"$PYTHON" - "$TEST_PASS" "$@" <<'PY'
import sys
pw = sys.argv[1].encode()
bad = 0
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    for k in range(len(pw), 3, -1):
        if pw[:k] in data:
            print("%s: holds %r, the password's first %d bytes" % (path, pw[:k], k))
            bad = 1
            break
sys.exit(bad)
PY
}

for mech in user plain default; do
	fakepop3_stop
	fakepop3_start "$T/fake-cut-$mech" --messages "$T/msgs" --timeout 90 \
		--echo-auth --echo-pad 1011 --sasl PLAIN ||
		fail "cannot start the fake server"
	if [ $mech = default ]; then
		popfetch_config "$T/cut-$mech.yaml" name="cut-$mech" \
			port="$FAKE_PORT"
	else
		popfetch_config "$T/cut-$mech.yaml" name="cut-$mech" \
			port="$FAKE_PORT" auth=$mech
	fi
	reply="-ERR [AUTH] wrong password <redacted> ..."
	if [ $mech = user ]; then
		want="popfetch: cut-$mech: login: login refused: server said \"$reply\""
	else
		want="popfetch: cut-$mech: login: server said \"$reply\""
	fi
	for v in "" -vv; do
		note "auth: $mech${v:+ $v}: a password cut at 1023 bytes is not printed"
		trace=$T/trace-cut-$mech$v.log
		POPFETCH_TRACE=$trace run_popfetch -c "$T/cut-$mech.yaml" $v
		expect_rc 77 "cut: auth: $mech $v"
		secret_scan "$T/out" "$T/err" "$trace" >&2 ||
			fail "a secret in the output (cut: auth: $mech $v)"
		prefix_scan "$T/out" "$T/err" "$trace" >&2 ||
			fail "part of the password in the output (cut: auth: $mech $v)"
		grep -F -x -q -- "$want" "$T/err" || {
			show_run
			fail "cut: auth: $mech $v: no line '$want'"
		}
		if [ -z "$v" ]; then
			assert_lines 1 "$T/err" "stderr (cut: auth: $mech)"
		fi
	done
	grep -q -- "$([ $mech = user ] && echo PASS || echo AUTH)" "$FAKE_LOG" ||
		fail "cut: auth: $mech: no login attempt in $FAKE_LOG"
done
