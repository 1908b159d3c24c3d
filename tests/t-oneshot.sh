#!/bin/bash
# t-oneshot: one account from the command line (--host ... --maildir/--mbox,
# no configuration file) against the private Dovecot: exact messages
# stored, a rerun stores nothing, the journal is the one a file's account
# of the same mailbox and store uses; the password asked for on a
# pseudo-terminal (typed, accepted, never shown) and refused without one;
# netrc (mode 600 fetches, 644 refused, no entry for the host refused);
# account names as arguments, an unknown one listed with the known ones;
# one-shot options that conflict.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-oneshot
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml")
dovecot_add_message "${msgs[@]}"
# The default state directory, and ~, inside the test's directory.
export XDG_STATE_HOME=$T/xdg HOME=$T/home
mkdir -p "$HOME"
U=$DOVECOT_USER
server=(--host 127.0.0.1 --port "$DOVECOT_PORT" --tls none --user "$U")

note "one-shot into a Maildir: the three messages, silently"
export PW=$DOVECOT_PASS
run_popfetch "${server[@]}" --password-env PW --maildir "$T/Maildir"
expect_rc 0 "one-shot maildir"
expect_silent "one-shot maildir"
assert_eq 3 "$(maildir_count "$T/Maildir")" "messages in the Maildir"
assert_maildir_matches "$T/Maildir" "${msgs[@]}"
key=$(state_key "$U" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/Maildir")
[ -f "$XDG_STATE_HOME/popfetch/$key.state" ] ||
	fail "no journal $key.state in the default state directory"

note "a rerun stores nothing"
run_popfetch "${server[@]}" --password-env PW --maildir "$T/Maildir" -v
expect_rc 0 "one-shot rerun"
assert_has "$U@127.0.0.1: 3 messages on server, 0 stored, 0 deleted" "$T/out"
assert_eq 3 "$(maildir_count "$T/Maildir")" "messages after the rerun"

note "a file's account of the same mailbox and store shares the journal"
popfetch_config "$T/config.yaml" state_dir=- password=- password_env=PW
run_popfetch -c "$T/config.yaml" -v
expect_rc 0 "config run"
assert_has "test: 3 messages on server, 0 stored, 0 deleted" "$T/out"

note "one-shot into an mbox, a relative path from the working directory"
printf '%s\n' "$DOVECOT_PASS" >"$T/pw"
chmod 600 "$T/pw"
cd "$T"
run_popfetch "${server[@]}" --password-file "$T/pw" --mbox box
expect_rc 0 "one-shot mbox"
expect_silent "one-shot mbox"
assert_mbox_matches "$T/box" "${msgs[@]}"
run_popfetch "${server[@]}" --password-file pw --mbox box -v
expect_rc 0 "one-shot mbox rerun"
assert_has "$U@127.0.0.1: 3 messages on server, 0 stored, 0 deleted" "$T/out"
assert_mbox_matches "$T/box" "${msgs[@]}"
cd - >/dev/null

note "no password option and no terminal: refused"
run_popfetch "${server[@]}" --maildir "$T/Maildir2"
expect_rc 78 "no password, no terminal"
assert_has "no password source: give --password-env, --password-file or --password-command, or run popfetch at a terminal to be asked" "$T/err"
[ ! -e "$T/Maildir2" ] || fail "a store was created without a password"

note "the password asked for on a terminal"
# A pseudo-terminal as stdin, stdout, stderr and controlling terminal;
# the password is typed once the prompt shows.
"$PYTHON" - "$T/pty.out" "$DOVECOT_PASS" "$POPFETCH" "${server[@]}" \
	--maildir "$T/Maildir3" -v <<'PY' || fail "the pty run failed"
import os, pty, sys, time
out, pw, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
buf, typed, deadline = b"", False, time.time() + 30
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
    if not typed and b"Password for " in buf:
        # Echo must be off before the line is typed.
        import termios
        if termios.tcgetattr(fd)[3] & termios.ECHO:
            sys.exit("echo still on at the prompt")
        os.write(fd, pw.encode() + b"\n")
        typed = True
_, status = os.waitpid(pid, 0)
open(out, "wb").write(buf)
sys.exit(0 if typed and os.waitstatus_to_exitcode(status) == 0 else
         "typed %s, status %d" % (typed, status))
PY
assert_has "Password for $U@127.0.0.1: " "$T/pty.out"
assert_has "$U@127.0.0.1: 3 messages on server, 3 stored, 0 deleted" "$T/pty.out"
assert_maildir_matches "$T/Maildir3" "${msgs[@]}"
# The secret scan at exit checks pty.out too: the typed password is
# $DOVECOT_PASS.
grep -qF -- "$DOVECOT_PASS" "$T/pty.out" && fail "the password typed was shown"

note "netrc, mode 600: fetches"
printf '# popfetch test\nmachine other.example login %s password nope\n\nmachine 127.0.0.1\n  login %s\n  password "%s"\n' \
	"$U" "$U" "$DOVECOT_PASS" >"$T/netrc"
chmod 600 "$T/netrc"
popfetch_config "$T/netrc.yaml" password=- netrc="$T/netrc" maildir="$T/Maildir4"
run_popfetch -c "$T/netrc.yaml"
expect_rc 0 "netrc 600"
expect_silent "netrc 600"
assert_maildir_matches "$T/Maildir4" "${msgs[@]}"

note "netrc true is ~/.netrc"
cp "$T/netrc" "$HOME/.netrc"
chmod 600 "$HOME/.netrc"
popfetch_config "$T/netrc-home.yaml" password=- netrc:=true maildir="$T/Maildir5"
run_popfetch -c "$T/netrc-home.yaml"
expect_rc 0 "netrc true"
assert_maildir_matches "$T/Maildir5" "${msgs[@]}"

note "netrc, mode 644: refused at the run and by --check-config"
chmod 644 "$T/netrc"
run_popfetch -c "$T/netrc.yaml" --refetch
expect_rc 78 "netrc 644"
assert_eq "popfetch: test: netrc $T/netrc is readable by others; run: chmod 600 $T/netrc" "$(cat "$T/err")" "netrc 644 message"
run_popfetch -c "$T/netrc.yaml" --check-config
expect_rc 78 "netrc 644 --check-config"
assert_has "account 'test': netrc $T/netrc is readable by others; run: chmod 600 $T/netrc" "$T/err"
assert_maildir_matches "$T/Maildir4" "${msgs[@]}"

note "netrc without an entry for the host and user: refused before the login"
printf 'machine 127.0.0.1 login someone-else password x\nmachine localhost login %s password y\n' \
	"$U" >"$T/netrc"
chmod 600 "$T/netrc"
dovecot_log_mark
run_popfetch -c "$T/netrc.yaml" --refetch
expect_rc 78 "netrc without the entry"
assert_eq "popfetch: test: netrc $T/netrc has no entry for user $U on host 127.0.0.1 (a line 'machine 127.0.0.1 login $U password ...')" "$(cat "$T/err")" "no entry message"
dovecot_log_new | grep -q "Login" && fail "popfetch logged in without the netrc entry"
assert_maildir_matches "$T/Maildir4" "${msgs[@]}"

note "account names as arguments"
{
	printf 'accounts:\n'
	popfetch_account name=acct1 maildir="$T/M1"
	popfetch_account name=acct2 maildir="$T/M2"
} | config_write "$T/two.yaml"
run_popfetch -c "$T/two.yaml" acct2
expect_rc 0 "positional acct2"
expect_silent "positional acct2"
[ ! -e "$T/M1" ] || fail "acct1 was fetched too"
assert_maildir_matches "$T/M2" "${msgs[@]}"
run_popfetch -c "$T/two.yaml" acct1 nosuch
expect_rc 64 "unknown positional name"
assert_eq "popfetch: $T/two.yaml: no account named \"nosuch\"; the accounts are: acct1, acct2" "$(cat "$T/err")" "unknown name message"
run_popfetch -c "$T/two.yaml" -a nosuch
expect_rc 64 "unknown -a name"
assert_has "no account named \"nosuch\"; the accounts are: acct1, acct2" "$T/err"
[ ! -e "$T/M1" ] || fail "acct1 was fetched with an unknown name beside it"

note "conflicting one-shot options: exit 64, nothing fetched"
check_usage() {
	local want=$1
	shift
	run_popfetch "$@"
	expect_rc 64 "popfetch $*"
	assert_eq "popfetch: $want (see popfetch --help)" "$(cat "$T/err")" "popfetch $*"
}
check_usage "--port, --tls, --user, --password-*, --maildir, --mbox and --deliver-command are for one-shot mode: give --host too" \
	--maildir "$T/X"
check_usage "--host (one-shot mode) and -c cannot be used together" \
	-c "$T/two.yaml" "${server[@]}" --maildir "$T/X"
check_usage "--host (one-shot mode) and account names cannot be used together" \
	"${server[@]}" --maildir "$T/X" acct1
check_usage "two store options cannot be used together" \
	"${server[@]}" --maildir "$T/X" --mbox "$T/Y"
check_usage "two password options cannot be used together" \
	"${server[@]}" --password-env PW --password-file "$T/pw" --maildir "$T/X"
check_usage "one-shot mode (--host) needs --user" \
	--host 127.0.0.1 --maildir "$T/X"
check_usage "one-shot mode (--host) needs --maildir, --mbox or --deliver-command" \
	"${server[@]}"
[ ! -e "$T/X" ] && [ ! -e "$T/Y" ] || fail "a conflicting run created a store"

note "a bad one-shot value names its option (exit 78)"
run_popfetch --host 127.0.0.1 --port 0 --user "$U" --password-env PW --maildir "$T/X"
expect_rc 78 "--port 0"
assert_eq "popfetch: --port: port: 0 is out of range (1 to 65535)" "$(cat "$T/err")" "--port 0"
exit 0
