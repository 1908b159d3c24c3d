#!/bin/bash
# t-proxy: proxies only when the configuration names one.
#  - all_proxy, ALL_PROXY, pop3_proxy and pop3s_proxy in the environment
#    (libcurl would honour them) point at a recorder that logs every
#    connection: a tls: none fetch from a private Dovecot on 127.0.0.1
#    works (and a tls: implicit one) and the recorder sees no connection,
#    one variable at a time and all together, also for --server-info;
#  - "proxy: socks5://127.0.0.1:PORT" (and socks5h with host: localhost)
#    to a minimal SOCKS5 relay (tests/socks5relay.py) with the recorder
#    still in the environment and no_proxy=* (which libcurl would let
#    bypass any proxy): the relay logs the CONNECT to Dovecot's port, the
#    messages are stored, the recorder sees nothing;
#  - "proxy: http://127.0.0.1:PORT" to a minimal HTTP CONNECT proxy
#    (socks5relay.py --http) whose 200 reply carries a header line: the
#    fetch works, and --server-info shows Dovecot's greeting, not the
#    proxy's reply;
#  - proxy: from defaults is used by an account;
#  - SSLKEYLOGFILE in the environment (libcurl and OpenSSL would write
#    the TLS session secrets there): a pop3s fetch creates no such file.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-proxy
trap t_cleanup EXIT

RELAY=$TESTS_SRCDIR/socks5relay.py
RELAY_PIDS=()
stop_relays() {
	local p
	for p in ${RELAY_PIDS[@]+"${RELAY_PIDS[@]}"}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
t_on_exit stop_relays

# relay_start DIR [--record]: a relay (or recorder) logging to DIR/log;
# sets RELAY_PORT.
relay_start() {
	local dir=$1 i
	shift
	mkdir -p -- "$dir"
	"$PYTHON" "$RELAY" --port-file "$dir/port" --log "$dir/log" \
		--timeout 120 "$@" 2>>"$dir/err" </dev/null &
	RELAY_PIDS+=($!)
	for i in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	[ -s "$dir/port" ] || fail "the relay in $dir did not start"
	RELAY_PORT=$(cat "$dir/port")
}

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
msgs=("$DATA/plain1.eml" "$DATA/plain2.eml")
dovecot_add_message "${msgs[@]}"

relay_start "$T/trap" --record
TRAP=$T/trap/log
TRAP_URL=socks5://127.0.0.1:$RELAY_PORT

# fetch NAME [KEY=VALUE]...: a keep-mode fetch into a fresh store with
# its own state (so every run fetches both messages); exit 0, silent.
fetch() {
	local name=$1
	shift
	popfetch_config "$T/$name.yaml" name="$name" maildir="$T/Maildir-$name" \
		state_dir="$T/state-$name" "$@"
	run_popfetch -c "$T/$name.yaml"
	expect_rc 0 "$name"
	expect_silent "$name"
	assert_maildir_matches "$T/Maildir-$name" "${msgs[@]}"
}

for var in all_proxy ALL_PROXY pop3_proxy pop3s_proxy; do
	note "$var=$TRAP_URL in the environment: not used"
	export "$var=$TRAP_URL"
	fetch "env-$var"
	# pop3s_proxy is libcurl's for pop3s:// (tls: implicit).
	fetch "env-$var-tls" tls=implicit port="$DOVECOT_POP3S_PORT" \
		ca_file="$DOVECOT_CA"
	unset "$var"
	assert_empty "$TRAP" "connections to the proxy of $var"
done

note "SSLKEYLOGFILE in the environment: no TLS secrets written"
SSLKEYLOGFILE=$T/keys.log fetch env-keylog tls=implicit \
	port="$DOVECOT_POP3S_PORT" ca_file="$DOVECOT_CA"
[ ! -e "$T/keys.log" ] || fail "SSLKEYLOGFILE: $(wc -l <"$T/keys.log") line(s) of TLS secrets written"

note "all four proxy variables at once, no_proxy empty: not used"
export all_proxy=$TRAP_URL ALL_PROXY=$TRAP_URL pop3_proxy=$TRAP_URL \
	pop3s_proxy=$TRAP_URL no_proxy=
fetch env-all
run_popfetch -c "$T/env-all.yaml" --server-info
expect_rc 0 "--server-info with proxy variables"
assert_grep '^greeting: \+OK' "$T/out" "--server-info greeting"
assert_empty "$TRAP" "connections to the proxy of the environment"

note "proxy: socks5://127.0.0.1:PORT: through the relay (no_proxy=* ignored)"
export no_proxy='*' NO_PROXY='*'
relay_start "$T/relay"
RELAY_LOG=$T/relay/log
fetch socks5 proxy="socks5://127.0.0.1:$RELAY_PORT"
assert_eq "CONNECT 127.0.0.1:$DOVECOT_PORT" "$(cat "$RELAY_LOG")" "the relay's log"
assert_empty "$TRAP" "connections to the proxy of the environment"
run_popfetch -c "$T/socks5.yaml" --check-config
expect_rc 0 "--check-config with proxy:"
assert_grep "^  proxy: \"?socks5://127\\.0\\.0\\.1:$RELAY_PORT\"?\$" "$T/out" "--check-config prints the proxy"

note "proxy: socks5h:// with host: localhost: the relay resolves the name"
: >"$RELAY_LOG"
fetch socks5h host=localhost proxy="socks5h://127.0.0.1:$RELAY_PORT"
assert_eq "CONNECT localhost:$DOVECOT_PORT" "$(cat "$RELAY_LOG")" "the relay's log (socks5h)"

note "proxy: http://127.0.0.1:PORT: a CONNECT tunnel; its reply is not the greeting"
relay_start "$T/http" --http
fetch http proxy="http://127.0.0.1:$RELAY_PORT"
assert_eq "CONNECT 127.0.0.1:$DOVECOT_PORT" "$(cat "$T/http/log")" "the HTTP proxy's log"
run_popfetch -c "$T/http.yaml" --server-info
expect_rc 0 "--server-info through the HTTP proxy"
assert_grep '^greeting: \+OK Dovecot (\(Debian\) )?ready\.( <[^>]+>)?$' "$T/out" \
	"--server-info greeting through the HTTP proxy"
assert_eq 1 "$(grep -c '^greeting: ' "$T/out")" "greeting lines through the HTTP proxy"
assert_empty "$TRAP" "connections to the proxy of the environment"
RELAY_PORT=$(cat "$T/relay/port")

note "proxy: under defaults"
: >"$RELAY_LOG"
{
	printf 'defaults:\n  proxy: "socks5://127.0.0.1:%s"\naccounts:\n' "$RELAY_PORT"
	popfetch_account name=defs maildir="$T/Maildir-defs" state_dir="$T/state-defs"
} | config_write "$T/defs.yaml"
run_popfetch -c "$T/defs.yaml"
expect_rc 0 "proxy from defaults"
expect_silent "proxy from defaults"
assert_maildir_matches "$T/Maildir-defs" "${msgs[@]}"
assert_eq "CONNECT 127.0.0.1:$DOVECOT_PORT" "$(cat "$RELAY_LOG")" "the relay's log (defaults)"
assert_empty "$TRAP" "connections to the proxy of the environment"
exit 0
