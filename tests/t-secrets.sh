#!/bin/bash
# t-secrets: the secret scan that every test runs at exit (t_cleanup in
# lib.sh) can fail.  Small child tests plant a secret, in one form, in a
# file popfetch would have written, and exit 0; the child must then exit 1
# and name the file and the kind of hit:
#  - the password plain, in hex, in base64 alone, inside a SASL PLAIN
#    message, at each of the three alignments inside any base64 blob
#    (standard and URL alphabets);
#  - the bearer token inside an XOAUTH2 and an OAUTHBEARER message;
#  - a secret registered with secret_add;
#  - in stdout/stderr of an earlier run (run_popfetch keeps them all),
#    in the trace file, in a *.out / *.err file;
# and the scan must not cry wolf: no hit for clean output, for the secret
# in a config or a server log, for a shorter prefix of the secret; a
# child's own exit code (0, 77) survives a clean scan, and a hit turns a
# skip into a failure.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-secrets
trap t_cleanup EXIT

# child NAME EXPECTED_RC REGEX SCRIPT: run SCRIPT (bash, with lib.sh, a
# fresh $T and the scanning EXIT trap) as a child test; it must exit
# EXPECTED_RC, and its stderr must match REGEX (unless REGEX is empty, in
# which case it must not mention a secret at all).
child() {
	local name=$1 want=$2 re=$3 script=$4 rc=0
	cat >"$T/child-$name.sh" <<EOF
. "$TESTS_SRCDIR/lib.sh"
t_init
setup_tmp t-secrets/child-$name
trap t_cleanup EXIT
$script
EOF
	bash "$T/child-$name.sh" >"$T/child-$name.stdout" 2>"$T/child-$name.stderr" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$T/child-$name.stderr" >&2
		fail "child $name: expected exit $want, got $rc"
	fi
	if [ -n "$re" ]; then
		assert_grep "$re" "$T/child-$name.stderr" "child $name's report"
	else
		assert_no_grep 'secret' "$T/child-$name.stderr" "child $name's report"
	fi
}

# b64 STRING (printf format, %s = the rest): base64 of the bytes.
b64() {
	local fmt=$1
	shift
	# shellcheck disable=SC2059
	printf -- "$fmt" "$@" | base64 -w0
}

note "clean output: exit 0, no report"
child clean 0 '' '
echo "popfetch: test: 2 messages stored" >"$T/out"
printf "popfetch: test: C: PASS <redacted>\n" >"$T/trace.log"
exit 0'

note "the exit code of a child without a hit is kept"
child keep77 77 '' 'echo fine >"$T/err"; exit 77'
child keep1 1 '' 'echo fine >"$T/err"; exit 1'

note "the password, plain, in stderr"
child plain 1 'child-plain/err:2: secret 1 \(user alice\): plain' '
printf "popfetch: test: ok\npopfetch: test: C: PASS %s\n" "$TEST_PASS" >"$T/err"
exit 0'

note "a hit fails a skipped test too"
child skipped 1 'child-skipped/out:1: secret 1 .*plain' '
printf "%s\n" "$TEST_PASS" >"$T/out"; exit 77'

note "hex"
child hex 1 'child-hex/trace.log:1: secret 1 .*hex' '
printf "%s\n" "$(printf %s "$TEST_PASS" | od -An -tx1 | tr -d " \n")" >"$T/trace.log"
exit 0'

note "base64 of the password alone"
child b64 1 'child-b64/trace.log:1: secret 1 .*: base64' "
printf 'C: %s\n' '$(b64 '%s' "$TEST_PASS")' >\"\$T/trace.log\"
exit 0"

note "base64 of a SASL PLAIN message"
child plainsasl 1 'child-plainsasl/runs.err:1: secret 1 .*base64 SASL PLAIN' "
printf 'C: AUTH PLAIN %s\n' '$(b64 '\0alice\0%s' "$TEST_PASS")' >\"\$T/runs.err\"
exit 0"

note "base64 of an XOAUTH2 message (the token)"
child xoauth2 1 'child-xoauth2/trace.log:1: secret 2 .*base64 XOAUTH2' "
printf 'C: AUTH XOAUTH2 %s\n' '$(b64 'user=alice\001auth=Bearer %s\001\001' "$TEST_TOKEN")' >\"\$T/trace.log\"
exit 0"

note "base64 of an OAUTHBEARER message (the token inside, host and port before it)"
child oauthbearer 1 'child-oauthbearer/x.err:1: secret 2 .*base64 at offset' "
printf '%s\n' '$(b64 'n,a=alice,\001host=127.0.0.1\001port=41234\001auth=Bearer %s\001\001' "$TEST_TOKEN")' >\"\$T/x.err\"
exit 0"

for k in 0 1 2 3 4 5; do
	note "the password inside a base64 blob after $k bytes"
	child "offset$k" 1 "child-offset$k/trace.log:1: secret 1 .*base64 at offset $((k % 3)) mod 3" "
printf 'S: %s\n' '$(b64 "$(printf '%*s' $k '' | tr ' ' 'Q')%s-and-more" "$TEST_PASS")' >\"\$T/trace.log\"
exit 0"
done

note "base64url"
# A secret whose encoding has + and / in it.
child url 1 'child-url/out:1: secret 3 .*base64url at offset 0' '
secret_add "$(printf "\xfb\xef\xbe\xfb\xef\xbe-url-secret")"
printf "%s\n" "$(printf "\xfb\xef\xbe\xfb\xef\xbe-url-secret" | base64 -w0 | tr "+/" "-_")" >"$T/out"
exit 0'

note "a secret registered with secret_add"
child added 1 'child-added/err:1: secret 3 \(user bob\): plain' '
secret_add "another-Secret-42" bob
echo "oops another-Secret-42" >"$T/err"
exit 0'

note "stderr of an earlier run_popfetch, overwritten by a later clean run"
child earlier 1 'child-earlier/runs.err:1: secret 1 .*plain' '
printf "#!/bin/sh\nprintf \"leak %%s\\\\n\" \"\$1\" >&2\n" >"$T/fake-popfetch"
chmod 755 "$T/fake-popfetch"
POPFETCH=$T/fake-popfetch
run_popfetch "$TEST_PASS"
run_popfetch clean
grep -q clean "$T/err" || exit 3
exit 0'

note "a popfetch run directly (not through run_popfetch) writing the trace"
child trace 1 'child-trace/trace.log:1: secret 2 .*plain' '
printf "#!/bin/sh\necho \"token \$1\" >>\"\$POPFETCH_TRACE\"\n" >"$T/fake-popfetch"
chmod 755 "$T/fake-popfetch"
"$T/fake-popfetch" "$TEST_TOKEN"
exit 0'

note "no false alarm: the secret in a config, a server log, a prefix of it"
child legit 0 '' '
popfetch_config "$T/config.yaml" port=1
mkdir -p "$T/fake"
printf "PASS %s\n" "$TEST_PASS" >"$T/fake/commands"
printf "%s\n" "$TEST_PASS" >"$T/passwd"
printf "%s\n" "${TEST_PASS%???}" >"$T/out"
grep -q -F "$TEST_PASS" "$T/config.yaml" || exit 3
exit 0'

note "the report names every hit"
child several 1 'child-several/out:1: secret 1 .*plain' '
printf "%s %s\n" "$TEST_PASS" "$TEST_TOKEN" >"$T/out"
exit 0'
assert_grep 'child-several/out:1: secret 2 .*plain' "$T/child-several.stderr" "the second hit"
assert_grep "^FAIL: a secret appears in popfetch's output" "$T/child-several.stderr" "the FAIL line"
exit 0
