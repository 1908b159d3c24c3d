#!/bin/bash
# t-fault-body: bodies that trip naive clients, stored byte-exact into a
# Maildir and into an mbox (only CRLF -> LF, and mboxrd quoting plus a
# final newline in the mbox): a 2 MB single line, NUL bytes, bare CR,
# bare LF (sent raw), a first line starting with "." (dot-stuffed on the
# wire, so the client must store the "." line as it was), lines "." and
# "..", no final newline (also after a bare CR), an empty message (in an
# mbox: its From_ line and the empty line, no added newline).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault.sh"
t_init
setup_tmp t-fault-body
trap t_cleanup EXIT

M=$T/bodies
E=$T/expect
mkdir -p "$M" "$E"
"$PYTHON" - "$M" "$E" <<'EOF'
import base64, os, sys
m, e = sys.argv[1:3]
bodies = {
    "b1-longline": b"Subject: one 2 MB line\n\n" + b"x" * (2 << 20) + b"\n",
    "b2-nul": b"Subject: NUL bytes\n\nbefore\0after\n\0\n\0\0end\n",
    "b3-barecr": b"Subject: bare CR\n\none\rtwo\n\rstarts with CR\nno newline, a CR at the end\r",
    "b4-dot": b".first line starts with a dot\nSubject: dots\n\n.\n..\n.. two\n. one\n",
    "b5-nonl": b"Subject: no final newline\n\nthe last line has no newline",
    "b6-empty": b"",
}
for name, data in bodies.items():
    for d in (m, e):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
# Bare LF inside CRLF lines: only as raw wire bytes.
raw = b"Subject: bare LF\r\n\r\nline1\nline2\r\nline3\n\r\n"
with open(os.path.join(e, "b7-barelf"), "wb") as f:
    f.write(b"Subject: bare LF\n\nline1\nline2\nline3\n\n")
with open(os.path.join(sys.argv[2], "..", "raw.json"), "w") as f:
    f.write('"messages": [{"data_b64": "%s", "raw": true, "uidl": "b7-barelf"}]'
            % base64.b64encode(raw).decode())
EOF
FAULT_MSGS=$M
FAULT_SCENARIO_EXTRA=$(cat "$T/raw.json")
mapfile -t want < <(find "$E" -type f | sort)

bodies() {
	local kind=$1
	FAULT_STORE=$kind
	fault_begin "bodies-$kind" '[]'
	fault_run1 0
	expect_silent "$FNAME"
	if [ "$kind" = maildir ]; then
		assert_maildir_matches "$FSTORE_PATH" "${want[@]}"
	else
		assert_mbox_matches "$FSTORE_PATH" "${want[@]}"
	fi
	fault_promises --complete delete
	scenario_report "$FNAME"
	fault_end
}

scenario bodies-maildir bodies maildir
scenario bodies-mbox bodies mbox
fault_summary
exit 0
