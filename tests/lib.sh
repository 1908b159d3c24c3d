# tests/lib.sh - shared helpers for popfetch's integration tests.
#
# Sourced (bash) by tests/t-*.sh and by quickstart.sh.  It defines functions
# and a few variables; it never exits or changes options by itself, except
# that t_init (called by the tests) turns on "set -u -o pipefail".
#
# Environment (set by "make check"; derived from this file's location when
# a test is run by hand):
#   TOP_SRCDIR    the source tree          TOP_BUILDDIR  the build tree
#   POPFETCH      the binary (default $TOP_BUILDDIR/popfetch)
#
# Main entry points:
#   dovecot_start DIR        private Dovecot (pop3 + pop3s on 127.0.0.1)
#   dovecot_stop             stop it (call from an EXIT trap)
#   dovecot_add_message FILE deliver FILE's exact bytes into the mailbox
#   pop3_reference OUTDIR    download everything with python's poplib
#   fakepop3_start DIR ARGS  the scriptable fake server (tests/fakepop3.py)
#   fakepop3_stop
#   run_popfetch ARGS...     run $POPFETCH, stdout/stderr/exit code captured
#   setup_tmp NAME, fail, skip, assert_eq, assert_file_eq, pick_port, ...
#   secret_add SECRET [USER]  one more secret t_cleanup must not find
#   secret_scan FILE...       grep files for every secret (plain, base64)
#
# Secrets: every popfetch run of a test (run_popfetch, or $POPFETCH run
# directly) appends its redacted -vv dialogue to $T/trace.log
# ($POPFETCH_TRACE, exported by setup_tmp); run_popfetch keeps every run's
# stdout and stderr in $T/runs.out and $T/runs.err.  t_cleanup (the EXIT
# trap) scans those and every out, err, *.out, *.err and trace*.log file
# directly in $T for $TEST_PASS, $TEST_TOKEN and whatever secret_add
# registered, and fails the test on a hit.

# ---------------------------------------------------------------- locations

_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TOP_SRCDIR:=$(cd "$_lib_dir/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${POPFETCH:=$TOP_BUILDDIR/popfetch}"
TESTS_SRCDIR=$TOP_SRCDIR/tests
# The python3 interpreter itself (a version-manager shim can cost 0.3 s a
# call); override with $PYTHON.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PYTHON=
	[ -n "$PYTHON" ] || PYTHON=python3
fi
FAKEPOP3=$TESTS_SRCDIR/fakepop3.py
export PYTHON
export TOP_SRCDIR TOP_BUILDDIR POPFETCH

# Distinctive secrets used all through the suite, so that t_cleanup can
# grep every byte popfetch printed for them (see secret_scan).  The
# password has YAML and shell metacharacters on purpose.
TEST_PASS='pw-Zq7!xK2#secret'
TEST_TOKEN='tok-Vb83!Kq_oauth-x1'

# --------------------------------------------------------------- reporting

# fail MSG...: print "FAIL: MSG" on stderr and exit 1.
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip MSG...: the test cannot run here; exit 77 (automake's SKIP).
skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

# note MSG...: progress line on stderr (goes to the test's .log file).
note() {
	printf '== %s\n' "$*" >&2
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	if [ "$1" != "$2" ]; then
		fail "${3:-value}: expected '$1', got '$2'"
	fi
}

# assert_file_eq EXPECTED_FILE ACTUAL_FILE [WHAT]: byte-identical files.
assert_file_eq() {
	[ -f "$1" ] || fail "${3:-file}: expected file $1 missing"
	[ -f "$2" ] || fail "${3:-file}: $2 missing"
	if ! cmp -- "$1" "$2" >&2; then
		fail "${3:-file}: $2 differs from $1"
	fi
}

# assert_grep PATTERN FILE [WHAT]: extended regexp found in FILE.
assert_grep() {
	if ! grep -E -q -- "$1" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat -- "$2" >&2
		fail "${3:-output}: no line matches /$1/"
	fi
}

# assert_has STRING FILE [WHAT]: the fixed STRING occurs in FILE.
assert_has() {
	if ! grep -F -q -- "$1" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat -- "$2" >&2
		fail "${3:-output}: '$1' not found"
	fi
}

# assert_no_grep PATTERN FILE [WHAT]
assert_no_grep() {
	if grep -E -q -- "$1" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat -- "$2" >&2
		fail "${3:-output}: unexpected line matching /$1/"
	fi
}

# assert_lines N FILE [WHAT]: FILE has exactly N lines.
assert_lines() {
	local n
	n=$(wc -l <"$2")
	if [ "$n" -ne "$1" ]; then
		printf -- '--- %s:\n' "$2" >&2
		cat -- "$2" >&2
		fail "${3:-output}: expected $1 line(s), got $n"
	fi
}

# assert_empty FILE [WHAT]
assert_empty() {
	if [ -s "$1" ]; then
		printf -- '--- %s:\n' "$1" >&2
		cat -- "$1" >&2
		fail "${2:-output} should be empty"
	fi
}

# ------------------------------------------------------------------ setup

# t_init: common start of a test script.  Checks the binary and python3.
t_init() {
	set -u -o pipefail
	"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null ||
		skip "python3 (>= 3.7) not found"
	[ -x "$POPFETCH" ] || fail "popfetch binary not found at $POPFETCH (build it first)"
}

# need_dovecot: skip (77) when no dovecot is installed.
need_dovecot() {
	command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] ||
		skip "dovecot not installed (Debian: apt-get install dovecot-core dovecot-pop3d)"
	command -v doveadm >/dev/null 2>&1 || [ -x /usr/bin/doveadm ] ||
		skip "doveadm not installed"
	command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
}

# setup_tmp NAME: make $TOP_BUILDDIR/tests/tmp/NAME fresh; sets $T to it.
# $T_SUFFIX, when set, is appended to NAME: a test that runs another
# test's script a second time under other conditions (t-fault-pipelined)
# sets it, so the two runs do not share (and wipe) one directory.
setup_tmp() {
	T=$TOP_BUILDDIR/tests/tmp/$1${T_SUFFIX:-}
	if [ -f "$T/dovecot/dovecot.conf" ]; then
		# A leftover Dovecot from an interrupted run: stop it first.
		_dovecot_stop_dir "$T/dovecot" 2>/dev/null || true
	fi
	rm -rf -- "$T"
	mkdir -p -- "$T" || fail "cannot create $T"
	export T
	# The -vv dialogue of every popfetch run, at any verbosity.
	POPFETCH_TRACE=$T/trace.log
	export POPFETCH_TRACE
}

# pick_port: print a TCP port on 127.0.0.1 that was free a moment ago.
pick_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: wait until 127.0.0.1:PORT accepts connections.
wait_port() {
	"$PYTHON" - "$1" "${2:-10}" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + limit
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        if time.monotonic() > end:
            sys.exit(1)
        time.sleep(0.05)
EOF
}

# file_count DIR: number of regular files directly in DIR (0 if absent).
file_count() {
	if [ -d "$1" ]; then
		find "$1" -mindepth 1 -maxdepth 1 -type f | wc -l
	else
		echo 0
	fi
}

# ---------------------------------------------------------------- popfetch

# run_popfetch ARGS...: run the binary with stdout in $T/out, stderr in
# $T/err and the exit code in $RC.  Never fails by itself, except when a
# checker finds an error (below).  A run is bounded by
# $POPFETCH_TEST_TIMEOUT seconds (default 60).
#
# Checkers ("make check-valgrind", "configure --enable-sanitizers"):
# $POPFETCH_WRAPPER, when set, is a command prefix for the run (split on
# blanks), e.g. valgrind with --error-exitcode=99 and
# --log-file=%q{POPFETCH_WRAPPER_LOG}: each run gets its own log,
# $T/wrapper.N.log.  Exit 99, or a log without "ERROR SUMMARY: 0 errors",
# fails the test with the log, whatever exit code the test expected.  In
# a sanitizer build ($POPFETCH_SANITIZERS set by make check), a report on
# stderr (ASan, LSan, UBSan) fails it the same way.
_run_seq=0
run_popfetch() {
	RC=0
	local wrap=() wlog=
	if [ -n "${POPFETCH_WRAPPER:-}" ]; then
		read -r -a wrap <<<"$POPFETCH_WRAPPER"
		_run_seq=$((_run_seq + 1))
		wlog=$T/wrapper.$_run_seq.log
		rm -f -- "$wlog"
	fi
	POPFETCH_WRAPPER_LOG=$wlog \
	timeout -k 5 "${POPFETCH_TEST_TIMEOUT:-60}" ${wrap[@]+"${wrap[@]}"} \
		"$POPFETCH" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
	# Kept for the secret scan at exit ($T/out and $T/err are overwritten
	# by the next run).
	cat "$T/out" >>"$T/runs.out" 2>/dev/null
	cat "$T/err" >>"$T/runs.err" 2>/dev/null
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		cat "$T/err" >&2
		fail "popfetch $* did not finish within ${POPFETCH_TEST_TIMEOUT:-60} s"
	fi
	if [ -n "$wlog" ] && { [ "$RC" -eq 99 ] ||
		! grep -q 'ERROR SUMMARY: 0 errors' "$wlog" 2>/dev/null; }; then
		cat -- "$wlog" >&2 2>/dev/null
		fail "popfetch $*: ${wrap[0]} reported errors (exit $RC, log $wlog)"
	fi
	if [ -n "${POPFETCH_SANITIZERS:-}" ] && grep -E -q \
		'^(==[0-9]+==ERROR: [A-Za-z]+Sanitizer|[^ ]+:[0-9]+:[0-9]+: runtime error: )' \
		"$T/err"; then
		cat -- "$T/err" >&2
		fail "popfetch $*: a sanitizer reported an error (exit $RC)"
	fi
	return 0
}

# show_run: print the last run's exit code, stdout and stderr (for logs).
show_run() {
	printf -- '--- exit %s\n--- stdout:\n' "$RC" >&2
	cat "$T/out" >&2
	printf -- '--- stderr:\n' >&2
	cat "$T/err" >&2
}

# expect_rc CODE [WHAT]: the last run exited with CODE.
expect_rc() {
	if [ "$RC" != "$1" ]; then
		show_run
		fail "${2:-popfetch}: expected exit $1, got $RC"
	fi
}

# expect_silent [WHAT]: the last run printed nothing at all.
expect_silent() {
	if [ -s "$T/out" ] || [ -s "$T/err" ]; then
		show_run
		fail "${1:-popfetch}: expected no output"
	fi
}

# state_key USER HOST PORT KIND PATH: the key of the journal (and lock) of
# that server mailbox read into that store (KIND maildir or mbox):
# "<user>@<host>,<port>,<kind>-<hash>", host lowercased, user@host with
# every byte outside [A-Za-z0-9._@+-] written as %XX (uppercase hex), hash
# the 64-bit FNV-1a of PATH in 16 lowercase hex digits.  Written from the
# man page, apart from popfetch's code.
state_key() {
	"$PYTHON" - "$@" <<'EOF'
import sys
user, host, port, kind, path = sys.argv[1:6]
ok = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-")
raw = (user + "@" + host.lower()).encode("utf-8", "surrogateescape")
h = 0xcbf29ce484222325
for b in path.encode("utf-8", "surrogateescape"):
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("".join(chr(b) if b in ok else "%%%02X" % b for b in raw) +
      ",%s,%s-%016x" % (port, kind, h))
EOF
}

# yaml_str STRING: STRING as a double-quoted YAML scalar.  Printable ASCII
# is done in the shell (a python start costs 0.1 s, and a config has many
# strings); anything else goes through json.dumps.
yaml_str() {
	local s=$1 LC_ALL=C
	if [[ $s == *[^\ -~]* ]]; then
		"$PYTHON" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"
		return
	fi
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"\n' "$s"
}

# popfetch_config FILE [KEY=VALUE]...: write a one-account config for the
# running Dovecot (or, with host=/port= given, any server).  Defaults:
# name=test, host=127.0.0.1, port=$DOVECOT_PORT, tls=none, user/password
# from $DOVECOT_USER/$DOVECOT_PASS (else alice/$TEST_PASS, the fake
# server's defaults), maildir=$T/Maildir, state_dir=$T/state.
# mbox=PATH replaces maildir; other KEY=VALUE pairs are added (keep=false,
# timeout=10s, ca_file=...), VALUE as a quoted YAML string except for
# port, keep, timeout, tls and insecure_plaintext; KEY:=VALUE writes VALUE
# as raw YAML (lists: 'oauth2_token_command:=[cat, "/x/token"]').  VALUE
# "-" drops a default key.
# The file is mode 600: popfetch refuses a config holding a literal
# password that group or others can read.
popfetch_config() {
	local file=$1
	shift
	{
		printf 'accounts:\n'
		popfetch_account "$@"
	} | config_write "$file"
}

# config_write FILE: write stdin to FILE, mode 600 (created under umask 077,
# chmod'ed too in case FILE already existed).  Use it for every config that
# holds a literal password.
config_write() {
	(umask 077 && cat >"$1") && chmod 600 -- "$1"
}

# popfetch_account [KEY=VALUE]...: print one account as a YAML list item
# (same keys and defaults as popfetch_config), for multi-account configs.
popfetch_account() {
	local -A kv=(
		[name]=test [host]=127.0.0.1 [port]="${DOVECOT_PORT:-110}"
		[tls]=none [user]="${DOVECOT_USER:-alice}"
		[password]="${DOVECOT_PASS:-$TEST_PASS}"
		[maildir]="$T/Maildir" [state_dir]="$T/state"
	)
	local order=(name host port tls user password maildir state_dir) arg k v
	local -A raw=()
	for arg in "$@"; do
		k=${arg%%=*}
		v=${arg#*=}
		if [ "${k%:}" != "$k" ]; then
			k=${k%:}
			raw[$k]=1
		fi
		if [ "$k" = mbox ]; then
			unset 'kv[maildir]'
		fi
		if [ -z "${kv[$k]+x}" ]; then
			order+=("$k")
		fi
		kv[$k]=$v
	done
	local first=1
	for k in "${order[@]}"; do
		[ -n "${kv[$k]+x}" ] || continue
		v=${kv[$k]}
		[ "$v" = - ] && continue
		case $k in
		port | keep | timeout | tls | insecure_plaintext) ;;
		*) [ -n "${raw[$k]+x}" ] || v=$(yaml_str "$v") ;;
		esac
		if [ $first = 1 ]; then
			printf '  - %s: %s\n' "$k" "$v"
			first=0
		else
			printf '    %s: %s\n' "$k" "$v"
		fi
	done
}

# maildir_files MAILDIR: list the files in MAILDIR/new and MAILDIR/cur.
maildir_files() {
	find "$1/new" "$1/cur" -mindepth 1 -maxdepth 1 -type f 2>/dev/null | sort
}

# maildir_count MAILDIR: number of messages in new/ + cur/.
maildir_count() {
	maildir_files "$1" | wc -l
}

# assert_maildir_matches MAILDIR ORIG...: MAILDIR holds exactly the given
# original files (as a multiset: an original given once matches exactly one
# stored file, one given twice two, and nothing else is stored), and tmp/
# is empty.
assert_maildir_matches() {
	local md=$1
	shift
	"$PYTHON" - "$md" "$@" <<'EOF' || fail "Maildir $md does not hold exactly the expected messages"
import os, sys, hashlib
md, origs = sys.argv[1], sys.argv[2:]
stored = {}
for sub in ("new", "cur"):
    d = os.path.join(md, sub)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        with open(p, "rb") as f:
            stored[p] = f.read()
ok = True
tmpd = os.path.join(md, "tmp")
if os.path.isdir(tmpd) and os.listdir(tmpd):
    print("tmp/ not empty: %s" % os.listdir(tmpd), file=sys.stderr)
    ok = False
want = []
for o in origs:
    with open(o, "rb") as f:
        want.append((o, f.read()))
def desc(b):
    return "%d bytes, sha1 %s" % (len(b), hashlib.sha1(b).hexdigest()[:12])
# An original given k times must match exactly k stored files.
remaining = dict(stored)
for o, data in want:
    k = sum(1 for _, d in want if d == data)
    n_all = sum(1 for d in stored.values() if d == data)
    if n_all != k:
        print("original %s (%s) matches %d stored file(s), expected %d"
              % (o, desc(data), n_all, k), file=sys.stderr)
        ok = False
    hit = [p for p, d in remaining.items() if d == data]
    if hit:
        del remaining[hit[0]]
for p, d in remaining.items():
    print("unexpected stored file %s (%s): %r" % (p, desc(d), d[:120]), file=sys.stderr)
    ok = False
if len(stored) != len(origs):
    print("expected %d stored files, found %d" % (len(origs), len(stored)), file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
EOF
}

# make_cert DIR [CN]: write a self-signed certificate DIR/cert.pem (usable
# as its own CA file) and its key DIR/key.pem, valid for IP 127.0.0.1 and
# DNS localhost (CN defaults to localhost).
make_cert() {
	local dir=$1 cn=${2:-localhost}
	mkdir -p -- "$dir" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 3650 -subj "/CN=$cn" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" \
		>"$dir/openssl.log" 2>&1 || {
		cat "$dir/openssl.log" >&2
		echo "make_cert: openssl could not make a certificate" >&2
		return 1
	}
	chmod 600 "$dir/key.pem"
}

# assert_mbox_matches MBOX ORIG...: MBOX is exactly the mboxrd rendering of the
# originals, in order: "From SENDER <date>", the message with
# ^(>*)From  quoted as >\1From , a final LF if missing (an empty message
# gets none), an empty line.
# SENDER is the message's envelope sender, worked out here with Python's
# email package: the address of its first Return-Path: field ("<>":
# MAILER-DAEMON), else of its first From: field, else MAILER-DAEMON; an
# address without an '@' is MAILER-DAEMON too.
# The date is matched loosely (asctime form).  No ORIG: MBOX is empty or
# absent.
assert_mbox_matches() {
	"$PYTHON" - "$@" <<'EOF' || fail "mbox $1 is not the expected mboxrd rendering"
import os, re, sys
mbox_path, origs = sys.argv[1], sys.argv[2:]
mbox = b""
if origs or os.path.exists(mbox_path):
    with open(mbox_path, "rb") as f:
        mbox = f.read()
import email.parser, email.policy, email.utils
def sender(data):
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    rp = msg.get("Return-Path")
    if rp is not None:
        if str(rp).strip() == "<>":
            return "MAILER-DAEMON"
        a = email.utils.parseaddr(str(rp))[1]
        if a:
            return a if "@" in a else "MAILER-DAEMON"
    fr = msg.get("From")
    if fr is not None:
        for _, a in email.utils.getaddresses([str(fr)]):
            if a:
                return a if "@" in a else "MAILER-DAEMON"
    return "MAILER-DAEMON"
quote_re = re.compile(rb"^(>*)From ", re.M)
pos = 0
for i, o in enumerate(origs, 1):
    with open(o, "rb") as f:
        data = f.read()
    who = sender(data)
    from_re = re.compile(rb"From " + re.escape(who.encode()) +
                         rb" [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}\n")
    m = from_re.match(mbox, pos)
    if not m:
        print("message %d (%s): expected a 'From %s <date>' line at "
              "offset %d, found %r" % (i, o, who, pos, mbox[pos:pos + 80]), file=sys.stderr)
        sys.exit(1)
    pos = m.end()
    want = quote_re.sub(rb">\1From ", data)
    if want and not want.endswith(b"\n"):
        want += b"\n"
    want += b"\n"
    got = mbox[pos:pos + len(want)]
    if got != want:
        k = next((j for j in range(min(len(got), len(want))) if got[j] != want[j]),
                 min(len(got), len(want)))
        print("message %d (%s): differs at byte %d of its rendering: expected %r, got %r"
              % (i, o, k, want[max(0, k - 40):k + 40], got[max(0, k - 40):k + 40]),
              file=sys.stderr)
        sys.exit(1)
    pos += len(want)
if pos != len(mbox):
    print("%d unexpected byte(s) after the last message: %r"
          % (len(mbox) - pos, mbox[pos:pos + 200]), file=sys.stderr)
    sys.exit(1)
EOF
}

# DATA: the test messages (tests/data/messages/*.eml).
DATA=$TESTS_SRCDIR/data/messages

# make_big_message FILE [BYTES]: write a deterministic message of exactly
# BYTES bytes (default 10 MiB) with many lines of varied length, some of
# them starting with "From ", ">From " or "." (mbox quoting and POP3 dot
# stuffing all through the body), LF line ends.
make_big_message() {
	"$PYTHON" - "$1" "${2:-10485760}" <<'EOF'
import sys
path, want = sys.argv[1], int(sys.argv[2])
out = [b"From: Big Sender <big@example.org>\n",
       b"To: alice@example.net\n",
       b"Subject: a big message\n",
       b"Message-ID: <big-%d@example.org>\n" % want,
       b"\n"]
size = sum(len(x) for x in out)
alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_"
pattern = alphabet * 4
i = 0
while size < want:
    i += 1
    n = (i * 37) % 150
    off = (i * 7) % len(alphabet)
    body = pattern[off:off + n]
    if i % 97 == 0:
        line = b"From line %d " % i + body
    elif i % 101 == 0:
        line = b">From line %d " % i + body
    elif i % 89 == 0:
        line = b"." + body
    elif i % 211 == 0:
        line = b"."
    else:
        line = b"%08d " % i + body
    line = line[: max(0, want - size - 1)] + b"\n"
    out.append(line)
    size += len(line)
with open(path, "wb") as f:
    f.write(b"".join(out))
EOF
}

# --------------------------------------------------------------- Dovecot

_dovecot_bin() {
	command -v dovecot 2>/dev/null || echo /usr/sbin/dovecot
}
_doveadm_bin() {
	command -v doveadm 2>/dev/null || echo /usr/bin/doveadm
}

# dovecot_start DIR: start a private Dovecot with every file under DIR.
# $DOVECOT_EXTRA_CONF, if set, is appended to its configuration (later
# settings win: e.g. "auth_mechanisms = plain login").
# Listens on 127.0.0.1:$DOVECOT_PORT (pop3, STLS offered) and
# 127.0.0.1:$DOVECOT_POP3S_PORT (pop3s).  One user, $DOVECOT_USER with
# password $DOVECOT_PASS, mailbox $DOVECOT_MAILDIR (empty).  As root, mail
# is owned by uid/gid 65534; otherwise everything runs as the caller.
# Exports DOVECOT_DIR DOVECOT_CONF DOVECOT_PORT DOVECOT_POP3S_PORT
# DOVECOT_USER DOVECOT_PASS DOVECOT_MAILDIR DOVECOT_CA DOVECOT_LOG.
# Returns non-zero (after printing why) if it cannot start.
dovecot_start() {
	local dir=$1
	mkdir -p -- "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	local conf=$dir/dovecot.conf log=$dir/dovecot.log
	local user=${DOVECOT_USER:-alice} pass=${DOVECOT_PASS:-$TEST_PASS}
	local home=$dir/home/$user maildir uid gid uname gname

	if [ -f "$conf" ]; then
		_dovecot_stop_dir "$dir" 2>/dev/null || true
	fi
	maildir=$home/Maildir
	uid=$(id -u)
	gid=$(id -g)
	uname=$(id -un)
	gname=$(id -gn)

	# Sockets live in base_dir; keep its path short (sun_path is 108
	# bytes).  When DIR is deep, use a short directory under /tmp and a
	# symlink from DIR/run to it.
	local base=$dir/run
	rm -rf -- "$base"
	if [ ${#base} -gt 70 ]; then
		local short
		short=$(mktemp -d /tmp/pf-dovecot.XXXXXX) || return 1
		ln -s "$short" "$base" || return 1
		base=$short
	else
		mkdir -p -- "$base" || return 1
	fi
	mkdir -p -- "$dir/state" "$maildir/new" "$maildir/cur" "$maildir/tmp" || return 1

	# Self-signed certificate for 127.0.0.1 and localhost (also the CA).
	if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
		make_cert "$dir" || return 1
	fi
	printf '%s:{PLAIN}%s::::::\n' "$user" "$pass" >"$dir/passwd"
	# Read by the auth process (user "dovecot" when started as root).
	chmod 644 "$dir/passwd"

	local mail_settings service_settings
	if [ "$uid" -eq 0 ]; then
		# Mail processes refuse uid 0: the mailbox belongs to nobody.
		uid=65534
		gid=65534
		chown -R "$uid:$gid" "$dir/home"
		chmod 700 "$home" "$maildir"
		chmod 755 "$dir" "$dir/home"
		# uid 65534 must be able to reach the mailbox.
		if command -v setpriv >/dev/null 2>&1 &&
			! setpriv --reuid=65534 --regid=65534 --clear-groups \
				test -w "$maildir/new"; then
			echo "dovecot_start: uid 65534 cannot reach $maildir (a parent directory is not world-searchable); use a directory like /tmp" >&2
			return 1
		fi
		mail_settings="mail_uid = 65534
mail_gid = 65534
first_valid_uid = 1"
		service_settings=""
	else
		chmod 700 "$home" "$maildir"
		mail_settings="first_valid_uid = 1
first_valid_gid = 1
default_internal_user = $uname
default_internal_group = $gname
default_login_user = $uname"
		service_settings="service anvil {
  chroot =
}
service pop3-login {
  chroot =
}
service imap-login {
  chroot =
}"
	fi

	local attempt port port_s rc=1
	for attempt in 1 2 3 4 5; do
		port=$(pick_port)
		port_s=$(pick_port)
		[ "$port" != "$port_s" ] || continue
		cat >"$conf" <<EOF
# Private Dovecot for popfetch tests (generated by tests/lib.sh).
protocols = pop3
listen = 127.0.0.1
base_dir = $base
state_dir = $dir/state
instance_name = popfetch-test-$port
log_path = $log
info_log_path = $log
debug_log_path = $log
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 apop
auth_failure_delay = 0
pop3_uidl_format = %08Xu%08Xv
pop3_lock_session = yes
mail_location = maildir:~/Maildir
$mail_settings

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $port
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $port_s
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
$service_settings
${DOVECOT_EXTRA_CONF:-}
EOF
		if [ ! -f /usr/share/dovecot/dh.pem ]; then
			sed -i '/^ssl_dh = /d' "$conf"
		fi
		: >>"$log"
		local before
		before=$(wc -c <"$log")
		rc=0
		"$(_dovecot_bin)" -c "$conf" </dev/null >>"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ] && wait_port "$port" 10 && wait_port "$port_s" 10; then
			break
		fi
		# Failed: bind race (retry with new ports) or a real error.
		_dovecot_kill "$conf" 2>/dev/null || true
		if ! tail -c +"$((before + 1))" "$log" | grep -q 'in use'; then
			rc=1
			break
		fi
		rc=1
	done
	if [ "$rc" -ne 0 ]; then
		echo "dovecot_start: Dovecot did not start; its log ($log):" >&2
		tail -n 20 "$log" >&2
		return 1
	fi
	export DOVECOT_DIR=$dir DOVECOT_CONF=$conf DOVECOT_LOG=$log
	export DOVECOT_PORT=$port DOVECOT_POP3S_PORT=$port_s
	export DOVECOT_USER=$user DOVECOT_PASS=$pass
	export DOVECOT_MAILDIR=$maildir DOVECOT_CA=$dir/cert.pem
	export DOVECOT_MAIL_UID=$uid DOVECOT_MAIL_GID=$gid
	return 0
}

# _dovecot_kill CONF: stop the Dovecot using CONF and wait (bounded) for
# its master process to go away.
_dovecot_kill() {
	local conf=$1 base pid i
	[ -f "$conf" ] || return 0
	base=$(sed -n 's/^base_dir = //p' "$conf")
	pid=
	[ -f "$base/master.pid" ] && pid=$(cat "$base/master.pid" 2>/dev/null)
	"$(_doveadm_bin)" -c "$conf" stop >/dev/null 2>&1 || true
	if [ -n "$pid" ]; then
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -f -- "$base/master.pid"
	return 0
}

# _dovecot_stop_dir DIR: stop the Dovecot whose config is DIR/dovecot.conf
# and remove its short base_dir, if it had one.
_dovecot_stop_dir() {
	local dir=$1 conf=$1/dovecot.conf base
	[ -f "$conf" ] || return 0
	base=$(sed -n 's/^base_dir = //p' "$conf")
	_dovecot_kill "$conf"
	# A short base_dir under /tmp (see dovecot_start) is ours to remove.
	if [ -L "$dir/run" ]; then
		case $base in
		/tmp/pf-dovecot.*) rm -rf -- "$base" ;;
		esac
		rm -f -- "$dir/run"
	fi
	return 0
}

# dovecot_stop: stop the Dovecot started by dovecot_start (if any).
dovecot_stop() {
	[ -n "${DOVECOT_DIR:-}" ] || return 0
	_dovecot_stop_dir "$DOVECOT_DIR"
}

_msg_seq=0
# dovecot_add_message FILE...: deliver each FILE's exact bytes into the
# server's Maildir (via tmp/, then new/), in the given order.
dovecot_add_message() {
	local f name now
	[ -n "${DOVECOT_MAILDIR:-}" ] || { echo "dovecot_add_message: no Dovecot" >&2; return 1; }
	for f in "$@"; do
		[ -f "$f" ] || { echo "dovecot_add_message: $f: no such file" >&2; return 1; }
		# Dovecot numbers new mail by the time in the name: keep the
		# order of delivery with a per-shell sequence as the "usec".
		_msg_seq=$((_msg_seq + 1))
		now=$(date +%s)
		name=$(printf '%s.M%06dP%dQ%d.popfetch-test' "$now" "$_msg_seq" "$$" "$_msg_seq")
		cp -- "$f" "$DOVECOT_MAILDIR/tmp/$name" || return 1
		chmod 600 "$DOVECOT_MAILDIR/tmp/$name"
		if [ "$(id -u)" -eq 0 ]; then
			chown "$DOVECOT_MAIL_UID:$DOVECOT_MAIL_GID" "$DOVECOT_MAILDIR/tmp/$name"
		fi
		mv -- "$DOVECOT_MAILDIR/tmp/$name" "$DOVECOT_MAILDIR/new/$name" || return 1
	done
}

# dovecot_log_mark: remember the end of Dovecot's log; dovecot_log_new
# prints what was logged since.
dovecot_log_mark() {
	DOVECOT_LOG_MARK=$(wc -c <"$DOVECOT_LOG")
}
dovecot_log_new() {
	tail -c +"$((${DOVECOT_LOG_MARK:-0} + 1))" "$DOVECOT_LOG"
}

# dovecot_log_wait REGEX [SECONDS]: wait (default 5 s) until a line logged
# since dovecot_log_mark matches REGEX (Dovecot's log process writes a
# moment after the client is gone).  Returns 1 on timeout.
dovecot_log_wait() {
	local i
	for i in $(seq $((${2:-5} * 20))); do
		dovecot_log_new | grep -E -q -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# pubkey_pin CERT.pem: the certificate's public-key pin, "sha256//BASE64",
# computed with openssl alone.
pubkey_pin() {
	local b64
	b64=$(openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64 -w0) || return 1
	printf 'sha256//%s\n' "$b64"
}

# assert_only_commands REGEX LOG [WHAT]: every line of the fake server's
# command LOG matches ^(REGEX)$ (e.g. 'CAPA|QUIT': nothing else was sent).
assert_only_commands() {
	if grep -E -v -q -- "^($1)\$" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat -- "$2" >&2
		fail "${3:-commands}: a command other than $1 reached the server"
	fi
}

# dovecot_count: number of messages in the server's Maildir (new + cur).
dovecot_count() {
	maildir_count "$DOVECOT_MAILDIR"
}

# ------------------------------------------------------ reference client

# pop3_reference OUTDIR [HOST PORT USER PASS]: download every message with
# python's poplib (USER/PASS, RETR, un-dot-stuffed, CRLF -> LF) into
# OUTDIR/1, OUTDIR/2, ... and write OUTDIR/uidl ("N UIDL" per line) and
# OUTDIR/list ("N OCTETS" per line).  Nothing is deleted.  Defaults: the
# running Dovecot.  Note: poplib cannot tell whether a message ended with
# a newline, so every reference copy ends with LF.
pop3_reference() {
	local out=$1
	mkdir -p -- "$out" || return 1
	"$PYTHON" - "$out" "${2:-127.0.0.1}" "${3:-$DOVECOT_PORT}" \
		"${4:-$DOVECOT_USER}" "${5:-$DOVECOT_PASS}" <<'EOF'
import os, poplib, sys
out, host, port, user, pw = sys.argv[1:6]
poplib._MAXLINE = 1 << 30
p = poplib.POP3(host, int(port), timeout=30)
p.user(user)
p.pass_(pw)
resp, listing, _ = p.list()
sizes = [l.decode().split() for l in listing]
resp, ulisting, _ = p.uidl()
with open(os.path.join(out, "list"), "w") as f:
    for n, size in sizes:
        f.write("%s %s\n" % (n, size))
with open(os.path.join(out, "uidl"), "wb") as f:
    for l in ulisting:
        f.write(l + b"\n")
for n, _ in sizes:
    resp, lines, octets = p.retr(int(n))
    with open(os.path.join(out, n), "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))
p.quit()
EOF
}

# lock_hold FILE: another process takes an fcntl write lock on all of
# FILE (created if need be) and holds it until lock_release.
holder=
lock_hold() {
	rm -f "$T/holding"
	"$PYTHON" - "$1" "$T/holding" <<'EOF' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)
EOF
	holder=$!
	for _ in $(seq 200); do
		[ -e "$T/holding" ] && return 0
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.05
	done
	fail "the fcntl lock holder could not take $1"
}
lock_release() {
	[ -n "$holder" ] || return 0
	rm -f "$T/holding"
	wait "$holder" 2>/dev/null || true
	holder=
}

# ------------------------------------------------------- fake POP3 server

# fakepop3_start DIR ARGS...: start tests/fakepop3.py in the background with
# --port-file DIR/port --log DIR/commands --state DIR/state.json plus ARGS;
# wait for its port.  Its user is alice, password $TEST_PASS and bearer
# token $TEST_TOKEN unless ARGS say otherwise.  Exports FAKE_PORT FAKE_PID
# FAKE_LOG FAKE_STATE FAKE_DIR.  Its stderr goes to DIR/server.err.
fakepop3_start() {
	local dir=$1 i
	shift
	mkdir -p -- "$dir" || return 1
	rm -f -- "$dir/port"
	# Its default password and token (--pass / the scenario's win); only
	# in its environment, not in popfetch's.
	FAKEPOP3_PASSWORD=$TEST_PASS FAKEPOP3_TOKEN=$TEST_TOKEN \
		"$PYTHON" "$FAKEPOP3" --port-file "$dir/port" --log "$dir/commands" \
		--state "$dir/state.json" "$@" 2>>"$dir/server.err" </dev/null &
	FAKE_PID=$!
	for i in $(seq 100); do
		[ -s "$dir/port" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$dir/port" ]; then
		cat "$dir/server.err" >&2
		echo "fakepop3_start: the fake server did not start" >&2
		return 1
	fi
	FAKE_PORT=$(cat "$dir/port")
	FAKE_DIR=$dir FAKE_LOG=$dir/commands FAKE_STATE=$dir/state.json
	export FAKE_PORT FAKE_PID FAKE_LOG FAKE_STATE FAKE_DIR
}

# fakepop3_stop: stop the fake server started by fakepop3_start.
fakepop3_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=
}

# check_promises maildir|mbox STORE STATEFILE [OPTION...]: after a run
# against the fake server, compare the store and popfetch's journal with
# what the server held and deleted (tests/promises.py: lost, duplicated or
# partial messages, a journal listing an unstored UIDL or missing a stored
# one; options --settle SECS, --dele-log LOG, --complete keep|delete,
# --no-uidl).  Sets LOST and DUP; fails the test on any problem.
check_promises() {
	local out rc=0
	out=$("$PYTHON" "$TESTS_SRCDIR/promises.py" "$@" -- "$FAKE_STATE") || rc=$?
	LOST=${out#lost }
	LOST=${LOST%% *}
	DUP=${out##* }
	[ "$rc" -eq 0 ] || fail "promises broken (store $2): $out"
	return 0
}

# scenario_report NAME: print "SCENARIO NAME: exit $RC lost $LOST dup $DUP",
# the line fault tests leave for a summary table (after check_promises,
# with RC the exit code of the run that met the fault).
scenario_report() {
	printf 'SCENARIO %s: exit %s lost %s dup %s\n' "$1" "$RC" "${LOST:-?}" "${DUP:-?}"
}

# ------------------------------------------------------------------ secrets

# Secrets and their users (for the PLAIN and XOAUTH2 forms), in step.
_secrets=("$TEST_PASS" "$TEST_TOKEN")
_secret_users=(alice alice)

# secret_add SECRET [USER]: t_cleanup also fails the test if SECRET shows
# up in popfetch's output.  SECRET should be at least 8 bytes.
secret_add() {
	_secrets+=("$1")
	_secret_users+=("${2:-${DOVECOT_USER:-alice}}")
}

# secret_outputs: the files popfetch wrote in $T (not configs, not server
# logs: those legitimately hold the secrets).
secret_outputs() {
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	find "$T" -mindepth 1 -maxdepth 1 -type f \( -name out -o -name err \
		-o -name '*.out' -o -name '*.err' -o -name 'trace*.log' \) | sort
}

# secret_scan FILE...: look for every registered secret in the files: as
# is, in hex, and in base64 - of the secret alone, of a SASL PLAIN message
# ("\0user\0secret", "user\0user\0secret"), of an XOAUTH2 one
# ("user=U^Aauth=Bearer SECRET^A^A"), and, for the secret inside any
# base64 blob, the part of its encoding that does not depend on the
# neighbouring bytes, at each of the three alignments (standard and URL
# alphabets).  Prints one line per hit ("FILE:LINE: secret N (user U):
# KIND") and returns 1 if there was any.
secret_scan() {
	local i args=()
	for i in "${!_secrets[@]}"; do
		args+=("${_secrets[$i]}" "${_secret_users[$i]}")
	done
	"$PYTHON" - "${#args[@]}" "${args[@]}" "$@" <<'EOF'
import base64, sys
n = int(sys.argv[1])
pairs = sys.argv[2:2 + n]
files = sys.argv[2 + n:]
enc = lambda s: s.encode("utf-8", "surrogateescape")

def forms(secret, user):
    s, u = enc(secret), enc(user)
    b64 = lambda b: base64.b64encode(b).rstrip(b"=")
    out = [("plain", s), ("hex", s.hex().encode()),
           ("base64", b64(s)),
           ("base64 SASL PLAIN", b64(b"\0" + u + b"\0" + s)),
           ("base64 SASL PLAIN with authzid", b64(u + b"\0" + u + b"\0" + s)),
           ("base64 XOAUTH2", b64(b"user=" + u + b"\x01auth=Bearer " + s + b"\x01\x01"))]
    for k in range(3):
        e = base64.b64encode(b"\0" * k + s)
        # Only the characters made of the secret's bits alone: not those
        # sharing bits with the k bytes before it, nor the partial last.
        start = (8 * k + 5) // 6
        end = (8 * (k + len(s))) // 6
        core = e[start:end]
        if len(core) >= 8:
            out.append(("base64 at offset %d mod 3" % k, core))
            url = core.translate(bytes.maketrans(b"+/", b"-_"))
            if url != core:
                out.append(("base64url at offset %d mod 3" % k, url))
    return out

hits = 0
for path in files:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        print("%s: cannot read: %s" % (path, e))
        hits += 1
        continue
    for i in range(0, len(pairs), 2):
        secret, user = pairs[i], pairs[i + 1]
        seen = set()
        for kind, needle in forms(secret, user):
            if needle in seen:
                continue
            seen.add(needle)
            at = data.find(needle)
            if at >= 0:
                line = data.count(b"\n", 0, at) + 1
                print("%s:%d: secret %d (user %s): %s"
                      % (path, line, i // 2 + 1, user, kind))
                hits += 1
sys.exit(1 if hits else 0)
EOF
}

# t_cleanup: stop whatever this test started (use as the EXIT trap), then
# scan everything popfetch printed for the secrets: a hit fails the test
# (exit 1), whatever its result was.
# t_on_exit CMD...: run CMD (a function name and arguments, one word each)
# from t_cleanup, before the servers are stopped.
_t_exit_hooks=()
t_on_exit() {
	_t_exit_hooks+=("$*")
}

t_cleanup() {
	local rc=$? files h
	for h in "${_t_exit_hooks[@]}"; do
		$h || true
	done
	fakepop3_stop
	dovecot_stop
	mapfile -t files < <(secret_outputs)
	if [ ${#files[@]} -gt 0 ] &&
		! secret_scan "${files[@]}" >"$T/secret-scan.hits" 2>&1; then
		cat "$T/secret-scan.hits" >&2
		printf 'FAIL: %s\n' "a secret appears in popfetch's output (see above)" >&2
		exit 1
	fi
	return $rc
}
