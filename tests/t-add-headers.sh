#!/bin/bash
# t-add-headers: each add_headers choice, alone and all together, into a
# Maildir from the private Dovecot: every stored file is exactly the
# expected header lines followed by the original message, byte for byte.
# Without add_headers nothing is added (t-content checks that too).
# Messages: one with a Return-Path (nothing to add for return-path), one
# with only a From: address, one with neither (Return-Path: <>).  An mbox
# with return-path names the same sender in its From_ line.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-add-headers
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
printf 'Subject: nobody sent this\nMessage-ID: <nofrom@example.org>\n\nbody\n' >"$T/nofrom.eml"
msgs=("$DATA/plain1.eml" "$DATA/from-lines.eml" "$T/nofrom.eml")
dovecot_add_message "${msgs[@]}"
pop3_reference "$T/ref" || fail "poplib reference download failed"

# check CHOICES MAILDIR: the files in MAILDIR/new are the originals, each
# after the lines CHOICES (comma-separated) call for, in popfetch's order.
check() {
	"$PYTHON" - "$1" "$2" "$T/ref" "$DOVECOT_USER" "${msgs[@]}" <<'EOF' || fail "add_headers $1"
import email.parser, email.policy, email.utils, os, re, sys
choices, md, ref, user = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4]
origs = [open(p, "rb").read() for p in sys.argv[5:]]
# The UIDL of each original: the reference client's download, by content.
uidl_of = {}
for line in open(os.path.join(ref, "uidl"), "rb"):
    n, u = line.split()
    uidl_of[open(os.path.join(ref, n.decode()), "rb").read()] = u
def norm(b):   # what poplib gives back: every line LF-ended
    return b if b.endswith(b"\n") else b + b"\n"
def rp_line(data):
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    if msg.get("Return-Path") is not None:
        return None
    for _, a in email.utils.getaddresses([str(msg.get("From") or "")]):
        if a:
            return b"Return-Path: <" + a.encode() + b">\n"
    return b"Return-Path: <>\n"
received = re.compile(rb"Received: from 127\.0\.0\.1 by [!-~]+ with POP3 "
                      rb"\(popfetch [!-~]+\) for <" + re.escape(user.encode()) +
                      rb">; (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                      rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                      rb"\d{4} \d\d:\d\d:\d\d [+-]\d{4}\n")
files = [open(os.path.join(md, "new", f), "rb").read()
         for f in sorted(os.listdir(os.path.join(md, "new")))]
if len(files) != len(origs):
    sys.exit("%d files stored, %d expected" % (len(files), len(origs)))
left = list(files)
for o in origs:
    want = b""
    if "return-path" in choices and rp_line(o) is not None:
        want += rp_line(o)
    rx = re.escape(want)
    if "received" in choices:
        rx += received.pattern
    tail = b""
    if "delivered-to" in choices:
        tail += b"Delivered-To: " + user.encode() + b"\n"
    if "x-popfetch-uidl" in choices:
        tail += b"X-Popfetch-UIDL: " + uidl_of[norm(o)] + b"\n"
    pat = re.compile(rx + re.escape(tail) + re.escape(o) + rb"\Z", re.S)
    hit = [f for f in left if pat.match(f)]
    if len(hit) != 1:
        sys.exit("%s: %d stored files are its expected form %r...; stored: %r"
                 % (choices, len(hit), rx + re.escape(tail), [f[:160] for f in left]))
    left.remove(hit[0])
EOF
}

for choice in received delivered-to x-popfetch-uidl return-path \
	return-path,received,delivered-to,x-popfetch-uidl; do
	note "add_headers: [$choice]"
	rm -rf "$T/Maildir" "$T/state"
	popfetch_config "$T/c.yaml" "add_headers:=[$choice]"
	run_popfetch -c "$T/c.yaml"
	expect_rc 0 "$choice"
	expect_silent "$choice"
	check "$choice" "$T/Maildir"
done

note "none: the server's bytes as they are"
rm -rf "$T/Maildir" "$T/state"
popfetch_config "$T/c.yaml"
run_popfetch -c "$T/c.yaml"
expect_rc 0 "no add_headers"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"

note "mbox with return-path: the added Return-Path is the From_ sender"
popfetch_config "$T/m.yaml" mbox="$T/mbox" state_dir="$T/state-mbox" \
	"add_headers:=[return-path]"
run_popfetch -c "$T/m.yaml"
expect_rc 0 "mbox"
assert_eq 3 "$(grep -c '^From ' "$T/mbox")" "From_ lines"
assert_grep '^From sender1@example\.org ' "$T/mbox" "plain1's envelope"
assert_grep '^From tester@example\.org ' "$T/mbox" "from-lines' envelope"
assert_grep '^From MAILER-DAEMON ' "$T/mbox" "the envelope of one without From:"
assert_eq 3 "$(grep -c '^Return-Path: ' "$T/mbox")" "Return-Path lines"
assert_eq 1 "$(grep -c '^Return-Path: <>$' "$T/mbox")" "empty Return-Path lines"
exit 0
