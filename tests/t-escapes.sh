#!/bin/bash
# t-escapes: server text with terminal escapes never reaches the terminal
# raw.  fakepop3.py --evil-text puts EVIL (an OSC title with BEL, a CSI
# clear screen, U+009B as UTF-8, a lone 0x9B byte, "café", DEL) into the
# greeting, a CAPA line, the first LIST line, the first UIDL line or the
# -ERR answer to RETR.  For auth: auto (libcurl's commands) and auth: user
# (popfetch's own), the error line, the -vv dialogue and --server-info
# show it escaped, exactly: control bytes (C0, DEL, C1, invalid UTF-8) as
# \xNN, printable UTF-8 as is.  No output (stdout, stderr, the trace
# file) holds a control character other than LF, or invalid UTF-8.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-escapes
trap t_cleanup EXIT

mkdir -p "$T/msgs"
printf 'Subject: x\n\nhi\n' >"$T/msgs/m1"   # 18 octets on the wire
evil='\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9bcafé\x7f'

# no_controls FILE...: valid UTF-8, no control character but LF.
no_controls() {
	"$PYTHON" - "$@" <<'PY'
import sys
bad = 0
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("%s: invalid UTF-8: %s" % (path, e))
        bad = 1
        continue
    for i, c in enumerate(text):
        o = ord(c)
        if (o < 0x20 and c != "\n") or 0x7f <= o <= 0x9f:
            print("%s: control character U+%04X at %d" % (path, o, i))
            bad = 1
            break
sys.exit(bad)
PY
}

# run_evil WHERE AUTH ARGS...: a fresh fake server with --evil-text WHERE,
# account evil-WHERE-AUTH, popfetch ARGS; checks every output.
run_evil() {
	local where=$1 auth=$2
	shift 2
	fakepop3_stop
	fakepop3_start "$T/fake-$where-$auth" --messages "$T/msgs" \
		--timeout 60 --evil-text "$where" || fail "cannot start the fake server"
	name=evil-$where-$auth
	popfetch_config "$T/$name.yaml" name="$name" port="$FAKE_PORT" \
		auth="$auth" maildir="$T/Maildir-$name" state_dir="$T/state-$name"
	trace=$T/trace-$name.log
	POPFETCH_TRACE=$trace run_popfetch -c "$T/$name.yaml" "$@"
	no_controls "$T/out" "$T/err" "$trace" >&2 || {
		show_run
		fail "$name: control characters in the output"
	}
}

# has_line LINE FILE WHAT: FILE holds exactly this line.
has_line() {
	grep -F -x -q -- "$1" "$2" || {
		show_run
		fail "$3: no line '$1' in $2"
	}
}

for auth in auto user; do
	note "auth: $auth: a LIST line with escapes"
	run_evil list $auth
	expect_rc 76 "LIST line, auth: $auth"
	assert_lines 1 "$T/err" "stderr (LIST, auth: $auth)"
	has_line "popfetch: $name: LIST: unexpected line \"1 18$evil\"" "$T/err" "LIST"

	note "auth: $auth: a UIDL line with escapes"
	run_evil uidl $auth
	expect_rc 76 "UIDL line, auth: $auth"
	assert_lines 1 "$T/err" "stderr (UIDL, auth: $auth)"
	has_line "popfetch: $name: UIDL: unexpected line \"1$evil\"" "$T/err" "UIDL"

	note "auth: $auth: an -ERR line with escapes (RETR), -vv"
	run_evil err $auth -vv
	expect_rc 76 "-ERR to RETR, auth: $auth"
	has_line "popfetch: $name: S: -ERR $evil" "$T/err" "-ERR in the dialogue"
	has_line "popfetch: $name: S: -ERR $evil" "$trace" "-ERR in the trace"
	has_line "popfetch: $name: message 1: RETR 1: server said \"-ERR $evil\"" \
		"$T/err" "-ERR quoted"

	note "auth: $auth: greeting and CAPA with escapes, -vv"
	run_evil greeting,capa $auth -vv
	expect_rc 0 "greeting and CAPA, auth: $auth"
	has_line "popfetch: $name: S: +OK fakepop3 ready $evil" "$T/err" "greeting (-vv)"
	has_line "popfetch: $name: S: X-EVIL$evil" "$T/err" "CAPA line (-vv)"
	has_line "popfetch: $name: S: +OK fakepop3 ready $evil" "$trace" "greeting (trace)"
done

note "--server-info: greeting and CAPA with escapes"
run_evil greeting,capa auto --server-info
expect_rc 0 "--server-info"
has_line "greeting: +OK fakepop3 ready $evil" "$T/out" "greeting (--server-info)"
has_line "capabilities: TOP UIDL RESP-CODES USER X-EVIL$evil" "$T/out" "capabilities (--server-info)"
