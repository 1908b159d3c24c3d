#!/bin/bash
# t-config: configuration errors and config file discovery.
#  - each class of error exits 78, names FILE:LINE:COL and the key on
#    stderr, and fetches nothing (the account points at a fake server that
#    must see no connection): unknown key (with "did you mean"), wrong type,
#    missing host, duplicate account name, both maildir and mbox, neither,
#    bad duration, a proxy with a scheme POP3 cannot use, tls: none
#    through a proxy that is not loopback, YAML syntax error;
#  - --check-config on a valid file: exit 0, every account printed, the
#    password never;
#  - lookup order: -c FILE, then $POPFETCH_CONFIG, then
#    $XDG_CONFIG_HOME/popfetch/config.yaml (~/.config when unset); with no
#    file anywhere: 78 (or 66) naming the paths tried.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-config
trap t_cleanup EXIT

mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/1.eml"
fakepop3_start "$T/fake" -v --messages "$T/msgs" --timeout 120 ||
	fail "cannot start the fake server"

# base NAME: lines 1-9 of a valid config for account NAME.
base() {
	cat <<EOF
accounts:
  - name: $1
    host: 127.0.0.1
    port: $FAKE_PORT
    tls: none
    user: alice
    password: secret
    maildir: $T/Maildir-$1
    state_dir: $T/state
EOF
}

# config_error FILE LINES KEY [REGEX]: popfetch -c FILE exits 78; the first
# stderr line is "FILE:L:C: ..." with L one of LINES ("2|10"), mentioning
# KEY (and matching REGEX, if given); nothing was stored or fetched.
config_error() {
	local file=$1 lines=$2 key=$3 re=${4:-}
	run_popfetch -c "$file"
	expect_rc 78 "$(basename "$file")"
	assert_empty "$T/out" "stdout for $(basename "$file")"
	head -n 1 "$T/err" >"$T/err1"
	assert_grep "^$file:($lines):[0-9]+: " "$T/err1" "FILE:LINE:COL in $(basename "$file")"
	assert_grep "$key" "$T/err1" "the key in the error for $(basename "$file")"
	if [ -n "$re" ]; then
		assert_grep "$re" "$T/err" "error text for $(basename "$file")"
	fi
	if compgen -G "$T/Maildir-*" >/dev/null || compgen -G "$T/*.mbox" >/dev/null; then
		ls -d "$T"/Maildir-* "$T"/*.mbox 2>/dev/null >&2
		fail "$(basename "$file"): a store was created"
	fi
	if [ -s "$FAKE_LOG" ]; then
		fail "$(basename "$file"): popfetch talked to the server"
	fi
}

note "unknown key, with a suggestion"
{ base typo; echo "    kep: false"; } | config_write "$T/unknown.yaml"
config_error "$T/unknown.yaml" 10 kep "did you mean.*keep"

note "wrong type: keep is a boolean"
{ base badbool; echo "    keep: maybe"; } | config_write "$T/type-bool.yaml"
config_error "$T/type-bool.yaml" 10 keep

note "wrong type: port is a number"
base badport | sed "s/port: $FAKE_PORT/port: abc/" | config_write "$T/type-port.yaml"
config_error "$T/type-port.yaml" 4 port

note "wrong type: a list where a string belongs"
{ base badlist | sed '/^    user: /d'; echo "    user: [alice, bob]"; } | config_write "$T/type-list.yaml"
config_error "$T/type-list.yaml" 9 user

note "missing required key: host"
base nohost | sed '/^    host: /d' | config_write "$T/no-host.yaml"
config_error "$T/no-host.yaml" 2 host

note "duplicate account name"
{ base dup; base dup | tail -n +2 | sed 's/Maildir-dup/Maildir-dup2/'; } | config_write "$T/dup.yaml"
config_error "$T/dup.yaml" 10 dup

note "both maildir and mbox"
{ base both; echo "    mbox: $T/both.mbox"; } | config_write "$T/both.yaml"
config_error "$T/both.yaml" "2|8|10" "maildir|mbox"
grep -q mbox "$T/err" && grep -q maildir "$T/err" ||
	fail "both.yaml: the error should name maildir and mbox"

note "neither maildir nor mbox"
base neither | sed '/^    maildir: /d' | config_write "$T/neither.yaml"
config_error "$T/neither.yaml" 2 "maildir|mbox"

note "bad duration"
{ base baddur; echo "    timeout: 5x"; } | config_write "$T/duration.yaml"
config_error "$T/duration.yaml" 10 timeout

note "bad tls value"
base badtls | sed 's/tls: none/tls: sometimes/' | config_write "$T/tls.yaml"
config_error "$T/tls.yaml" 5 tls

note "proxy with a scheme libcurl cannot use for POP3"
{ base badproxy; echo "    proxy: ftp://127.0.0.1:21"; } | config_write "$T/proxy-scheme.yaml"
config_error "$T/proxy-scheme.yaml" 10 proxy "socks5h"

note "tls: none through a proxy that is not loopback"
{ base netproxy; echo "    proxy: socks5h://192.0.2.1:1080"; } | config_write "$T/proxy-plain.yaml"
config_error "$T/proxy-plain.yaml" 10 proxy "insecure_plaintext"

note "unknown key in defaults"
{ printf 'defaults:\n  kepp: true\n'; base indefaults; } | config_write "$T/defaults.yaml"
config_error "$T/defaults.yaml" 2 kepp "did you mean.*keep"

note "YAML syntax error"
{ base syntax; echo '    keep: [true'; } | config_write "$T/syntax.yaml"
config_error "$T/syntax.yaml" "10|11" ""

note "--check-config on a valid file: accounts printed, password masked"
secret=S3cr3t-Pw-4711
{
	printf 'defaults:\n  tls: none\n  state_dir: %s\naccounts:\n' "$(yaml_str "$T/state")"
	popfetch_account name=alpha port="$FAKE_PORT" password="$secret" \
		maildir="$T/Maildir-alpha" tls=- state_dir=-
	popfetch_account name=beta port="$FAKE_PORT" password=- password_env=PF_TEST_PW \
		mbox="$T/beta.mbox" tls=- state_dir=-
} | config_write "$T/valid.yaml"
PF_TEST_PW=$secret run_popfetch -c "$T/valid.yaml" --check-config
expect_rc 0 "--check-config"
assert_grep alpha "$T/out" "account alpha in the --check-config output"
assert_grep beta "$T/out" "account beta in the --check-config output"
assert_no_grep "$secret" "$T/out" "the password on stdout"
assert_no_grep "$secret" "$T/err" "the password on stderr"
[ ! -e "$T/Maildir-alpha" ] && [ ! -e "$T/beta.mbox" ] || fail "--check-config created a store"
[ ! -s "$FAKE_LOG" ] || fail "--check-config talked to the server"

note "--check-config: what the file points at, and -a"
printf 'CA\n' >"$T/ca.pem"
(umask 077 && printf 'pw\n' >"$T/pw")
mkdir -p "$T/bin" && printf '#!/bin/sh\necho pw\n' >"$T/bin/pwcmd" && chmod 755 "$T/bin/pwcmd"
{
	printf 'accounts:\n'
	popfetch_account name=files port="$FAKE_PORT" maildir="$T/M-files" tls=starttls \
		ca_file="$T/nope/ca.pem" client_cert="$T/ca.pem" \
		client_key="$T/nokey.pem" password=- password_file="$T/nopw"
	popfetch_account name=envcmd port="$FAKE_PORT" maildir="$T/M-envcmd" password=- \
		password_env=PF_TEST_UNSET_VAR
	popfetch_account name=cmd port="$FAKE_PORT" maildir="$T/M-cmd" password=- \
		password_command:='[no-such-popfetch-helper, x]'
	popfetch_account name=good port="$FAKE_PORT" maildir="$T/M-good" tls=starttls \
		ca_file="$T/ca.pem" password=- password_file="$T/pw"
	popfetch_account name=goodcmd port="$FAKE_PORT" maildir="$T/M-goodcmd" password=- \
		password_command:="[$(yaml_str "$T/bin/pwcmd")]"
} | config_write "$T/points.yaml"
unset PF_TEST_UNSET_VAR
run_popfetch -c "$T/points.yaml" --check-config
expect_rc 78 "--check-config with missing files, variable, command"
assert_lines 5 "$T/err" "problems"
assert_grep "^$T/points.yaml:2:5: account 'files': ca_file $T/nope/ca.pem: No such file or directory\$" "$T/err"
assert_grep "^$T/points.yaml:2:5: account 'files': client_key $T/nokey.pem: No such file or directory\$" "$T/err"
assert_grep "^$T/points.yaml:2:5: account 'files': password_file $T/nopw: No such file or directory\$" "$T/err"
assert_grep "^$T/points.yaml:[0-9]+:5: account 'envcmd': password_env: the variable PF_TEST_UNSET_VAR is not set\$" "$T/err"
assert_grep "^$T/points.yaml:[0-9]+:5: account 'cmd': password_command: no-such-popfetch-helper: not found in PATH\$" "$T/err"
assert_eq 5 "$(grep -c '^account ' "$T/out")" "accounts printed"
run_popfetch -c "$T/points.yaml" --check-config -a good -a goodcmd
expect_rc 0 "--check-config -a on the good accounts"
assert_empty "$T/err" "stderr (-a good)"
assert_eq "account good account goodcmd" "$(grep '^account ' "$T/out" | cut -d' ' -f1,2 | tr '\n' ' ' | sed 's/ $//')" "accounts printed with -a"
run_popfetch -c "$T/points.yaml" --check-config -a cmd
expect_rc 78 "--check-config -a cmd"
assert_lines 1 "$T/err" "problems (-a cmd)"
chmod 644 "$T/pw"
run_popfetch -c "$T/points.yaml" --check-config -a good
expect_rc 78 "--check-config, a password_file others can read"
assert_grep "^$T/points.yaml:[0-9]+:5: account 'good': password_file $T/pw is readable by others; run: chmod 600 $T/pw\$" "$T/err"
chmod 600 "$T/pw"

note "lookup order"
mkdir -p "$T/xdg/popfetch" "$T/home/.config/popfetch" "$T/emptyhome" "$T/emptyxdg"
base from-dash-c | config_write "$T/dashc.yaml"
base from-env | config_write "$T/env.yaml"
base from-xdg | config_write "$T/xdg/popfetch/config.yaml"
base from-home | config_write "$T/home/.config/popfetch/config.yaml"
# which: the account name --check-config printed (from-...).
which_config() {
	grep -o 'from-[a-z-]*' "$T/out" | head -n 1
}
HOME=$T/home XDG_CONFIG_HOME=$T/xdg POPFETCH_CONFIG=$T/env.yaml \
	run_popfetch -c "$T/dashc.yaml" --check-config
expect_rc 0 "-c with everything present"
assert_eq from-dash-c "$(which_config)" "config chosen with -c"
HOME=$T/home XDG_CONFIG_HOME=$T/xdg POPFETCH_CONFIG=$T/env.yaml \
	run_popfetch --check-config
expect_rc 0 "POPFETCH_CONFIG and XDG"
assert_eq from-env "$(which_config)" "config chosen with POPFETCH_CONFIG"
(
	unset POPFETCH_CONFIG
	HOME=$T/home XDG_CONFIG_HOME=$T/xdg run_popfetch --check-config
	expect_rc 0 "XDG only"
	assert_eq from-xdg "$(which_config)" "config chosen from XDG_CONFIG_HOME"
	unset XDG_CONFIG_HOME
	HOME=$T/home run_popfetch --check-config
	expect_rc 0 "HOME only"
	assert_eq from-home "$(which_config)" "config chosen from ~/.config"
) || exit 1

note "no config anywhere"
if [ -e /etc/popfetch/config.yaml ]; then
	note "skipped: /etc/popfetch/config.yaml exists on this machine"
else
	(
		unset POPFETCH_CONFIG
		HOME=$T/emptyhome XDG_CONFIG_HOME=$T/emptyxdg run_popfetch
		case $RC in
		78 | 66) ;;
		*) show_run; fail "no config: expected exit 78 or 66, got $RC" ;;
		esac
		assert_grep "$T/emptyxdg/popfetch/config.yaml" "$T/err" "the paths tried"
		[ ! -s "$FAKE_LOG" ] || fail "popfetch talked to the server"
	) || exit 1
fi

note "-c with a missing file"
run_popfetch -c "$T/does-not-exist.yaml"
case $RC in
66 | 78) ;;
*) show_run; fail "-c missing file: expected exit 66 or 78, got $RC" ;;
esac
assert_grep "$T/does-not-exist.yaml" "$T/err" "the missing file named"

[ ! -s "$FAKE_LOG" ] || fail "popfetch talked to the server"
exit 0
