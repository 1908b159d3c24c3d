#!/bin/bash
# t-refused: nothing listens on the port.  Exit 75 (temporary failure),
# one stderr line naming the account, nothing stored.  A second account
# that works is still fetched, and the exit code stays 75.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-refused
trap t_cleanup EXIT

port=$(pick_port)
popfetch_config "$T/config.yaml" name=nowhere port="$port"
run_popfetch -c "$T/config.yaml"
expect_rc 75 "connection refused"
assert_empty "$T/out" "stdout"
assert_lines 1 "$T/err" "stderr"
assert_grep "^popfetch: nowhere: connect: Failed to connect to 127\.0\.0\.1 port $port" "$T/err" "stderr names the account and the step"
assert_eq 0 "$(maildir_count "$T/Maildir")" "messages stored"

note "a refused account does not stop the next one"
mkdir -p "$T/msgs"
cp "$DATA/plain1.eml" "$T/msgs/1.eml"
cp "$DATA/plain2.eml" "$T/msgs/2.eml"
fakepop3_start "$T/fake" --messages "$T/msgs" --max-conns 1 --timeout 30 ||
	fail "cannot start the fake server"
{
	printf 'accounts:\n'
	popfetch_account name=nowhere port="$port" maildir="$T/Maildir-nowhere"
	popfetch_account name=works port="$FAKE_PORT" maildir="$T/Maildir-works" \
		state_dir="$T/state-works"
} | config_write "$T/two.yaml"
run_popfetch -c "$T/two.yaml"
expect_rc 75 "one refused, one fine"
assert_lines 1 "$T/err" "stderr"
assert_grep '^popfetch: nowhere: ' "$T/err" "stderr names the failed account"
assert_eq 0 "$(maildir_count "$T/Maildir-nowhere")" "messages stored for the refused account"
assert_maildir_matches "$T/Maildir-works" "$DATA/plain1.eml" "$DATA/plain2.eml"
exit 0
