#!/bin/bash
# t-progress: the progress line appears on a terminal only. Under a
# pseudo-terminal (script(1)) a fetch of a 5 MB message that the fake
# server sends slowly (the first 1 MB, a 2 s pause, the rest) shows the
# line inside the message (bytes done between 0 and the total), redrawn
# during the pause (at least every half second), and clears it at the
# end; with -q, or with stderr in a file, there is none.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-progress
trap t_cleanup EXIT
command -v script >/dev/null 2>&1 || skip "script(1) (util-linux) not installed"

mkdir -p "$T/msgs"
make_big_message "$T/msgs/1" $((5 * 1024 * 1024))
cp "$DATA/plain1.eml" "$T/msgs/2"
cp "$DATA/plain2.eml" "$T/msgs/3"
printf '{"faults": [{"on": "RETR 1", "conn": 1, "action": "cut", "bytes": 1000000, "then": "continue", "seconds": 2}]}\n' >"$T/slow.json"
fakepop3_start "$T/fake" --messages "$T/msgs" --scenario "$T/slow.json" \
	--timeout 60 || fail "cannot start the fake server"
popfetch_config "$T/config.yaml" name=prog port="$FAKE_PORT"

note "on a terminal: the line, inside the message and during the pause"
script -qec "$POPFETCH -c $T/config.yaml" /dev/null >"$T/tty.out" 2>&1 </dev/null ||
	fail "popfetch on a terminal: exit $?"
assert_maildir_matches "$T/Maildir" "$T/msgs/1" "$T/msgs/2" "$T/msgs/3"
"$PYTHON" - "$T/tty.out" <<'EOF' || fail "the progress line on the terminal"
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
renders = [r.replace("\x1b[K", "") for r in data.split("\r")]
lines = [r for r in renders if r.startswith("prog: ")]
print("%d renders" % len(lines), file=sys.stderr)
pat = re.compile(r"^prog: (\d+)/3 messages, ([0-9.]+ [KMG]?B)/([0-9.]+ [KMG]?B)(, [0-9.]+ [KMG]?B/s, \d+:\d\d left)?\s*$")
ok = True
parsed = []
for l in lines:
    m = pat.match(l)
    if not m:
        print("odd progress line: %r" % l, file=sys.stderr)
        ok = False
        continue
    parsed.append(m.groups())
# Inside the 5 MB message: 0 messages done, some bytes, not all.
inside = [p for p in parsed if p[0] == "0" and p[1] not in ("0 B",)]
if not inside:
    print("no line inside the first message", file=sys.stderr)
    ok = False
# The pause: the same byte count drawn again and again (every 0.5 s).
from collections import Counter
c = Counter(p[1] for p in inside)
if not c or max(c.values()) < 3:
    print("not redrawn during the pause: %r" % c, file=sys.stderr)
    ok = False
# The total is the LIST sizes: the 5 MB message with CRLF line ends.
if any(not re.match(r"^5\.[0-9] MB$", p[2]) for p in parsed):
    print("total not 5.x MB: %r" % parsed[:3], file=sys.stderr)
    ok = False
if not any(p[3] for p in parsed):
    print("no rate and time left", file=sys.stderr)
    ok = False
# Cleared at the end: the output ends with the clear sequence.
if not data.rstrip("\n").endswith("\r\x1b[K"):
    print("the line is not cleared at the end: %r" % data[-40:], file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
EOF
fakepop3_stop

note "with -q on a terminal, and with stderr in a file: no line"
rm -rf "$T/Maildir" "$T/state"
fakepop3_start "$T/fake2" --messages "$T/msgs" --timeout 60 ||
	fail "cannot start the fake server"
popfetch_config "$T/config2.yaml" name=prog port="$FAKE_PORT"
script -qec "$POPFETCH -q -c $T/config2.yaml" /dev/null >"$T/tty-q.out" 2>&1 </dev/null ||
	fail "popfetch -q on a terminal: exit $?"
[ ! -s "$T/tty-q.out" ] || { cat -A "$T/tty-q.out" >&2; fail "output with -q on a terminal"; }
rm -rf "$T/Maildir" "$T/state"
run_popfetch -c "$T/config2.yaml"
expect_rc 0 "stderr in a file"
expect_silent "stderr in a file"
assert_maildir_matches "$T/Maildir" "$T/msgs/1" "$T/msgs/2" "$T/msgs/3"
exit 0
