#!/bin/bash
# t-dots: messages whose first line starts with a dot, against Dovecot,
# which (like Courier) does not dot-stuff a message's first line: it sends
# ".x" for ".x", "..x" for "..x", and "." for a first line "." (which
# then ends its reply at once).
#  1. ".x", ".<TAB>", "..", "..." first lines (and stuffed body lines):
#     stored byte-exact into a Maildir and as mboxrd into an mbox, for
#     auth: auto and auth: user. A ".." first line is ambiguous on the
#     wire; the octet count tells, and popfetch reads it again (after
#     the replies already in flight).
#     The same against the fake server, stuffing first lines as RFC 1939
#     says and not, with and without PIPELINING.
#  2. A first line that is a lone ".": that message cannot be retrieved;
#     it is not stored, never deleted, reported with its UIDL; the others
#     are fetched (a new session) and, with keep: false, deleted.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-dots
trap t_cleanup EXIT

mkdir -p "$T/m"
printf '.first line: a dot and a letter\nSubject: dots 1\n\nbody\n.\n..\n' >"$T/m/1.eml"
printf '.\tfirst line: a dot and a tab\nSubject: dots 2\n\nbody\n' >"$T/m/2.eml"
printf '..first line: two dots\nSubject: dots 3\n\n..body\n' >"$T/m/3.eml"
printf '...first line: three dots\nSubject: dots 4\n\nend\n' >"$T/m/4.eml"
msgs=("$T/m/1.eml" "$T/m/2.eml" "$T/m/3.eml" "$T/m/4.eml" "$DATA/plain1.eml" "$DATA/dots.eml")

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
dovecot_add_message "${msgs[@]}"

for auth in auto user; do
	note "case 1, auth: $auth, Maildir"
	popfetch_config "$T/md-$auth.yaml" name="md-$auth" auth="$auth" \
		maildir="$T/md-$auth" state_dir="$T/state-md-$auth"
	run_popfetch -c "$T/md-$auth.yaml"
	expect_rc 0 "Maildir, auth: $auth"
	expect_silent "Maildir, auth: $auth"
	assert_maildir_matches "$T/md-$auth" "${msgs[@]}"

	note "case 1, auth: $auth, mbox"
	popfetch_config "$T/mb-$auth.yaml" name="mb-$auth" auth="$auth" \
		mbox="$T/mb-$auth" state_dir="$T/state-mb-$auth"
	run_popfetch -c "$T/mb-$auth.yaml"
	expect_rc 0 "mbox, auth: $auth"
	expect_silent "mbox, auth: $auth"
	# Dovecot offers PIPELINING: the second readings of the ".." and
	# "..." messages come after the replies in flight: appended last.
	assert_mbox_matches "$T/mb-$auth" "$T/m/1.eml" "$T/m/2.eml" \
		"$DATA/plain1.eml" "$DATA/dots.eml" "$T/m/3.eml" "$T/m/4.eml"
done

note "case 1 against the fake server, stuffing first lines (RFC 1939) and not (as Dovecot), with and without PIPELINING"
fake_msgs() {
	local unstuffed=$1 i=0 sep=""
	printf '{"messages": ['
	for m in "${msgs[@]}"; do
		i=$((i + 1))
		printf '%s{"file": "%s", "uidl": "d%d"%s}' "$sep" "$m" "$i" \
			"$([ "$unstuffed" = 1 ] && echo ', "unstuffed_first": true')"
		sep=", "
	done
	printf ']}\n'
}
for unstuffed in 0 1; do
	for pipe in "" --pipelining; do
		name=fake-$unstuffed${pipe:+-pipe}
		fake_msgs "$unstuffed" >"$T/$name.json"
		# shellcheck disable=SC2086
		fakepop3_start "$T/$name" --scenario "$T/$name.json" $pipe ||
			fail "cannot start the fake server"
		popfetch_config "$T/$name.yaml" name="$name" port="$FAKE_PORT" \
			user=alice password="$TEST_PASS" maildir="$T/$name-md" \
			state_dir="$T/$name-state"
		run_popfetch -c "$T/$name.yaml"
		expect_rc 0 "$name"
		expect_silent "$name"
		assert_maildir_matches "$T/$name-md" "${msgs[@]}"
		# A stuffing server's ".." is never read twice.
		[ "$unstuffed" = 1 ] ||
			assert_eq 6 "$(grep -c '^RETR' "$FAKE_LOG")" "$name: RETRs"
		fakepop3_stop
	done
done

note "case 2: a lone \".\" first line"
printf '.\nSubject: after a lone dot\n\nthe rest\n' >"$T/m/lone.eml"
dovecot_add_message "$T/m/lone.eml" "$DATA/plain2.eml"
uidl_lone=$("$PYTHON" - "$DOVECOT_PORT" "$DOVECOT_USER" "$DOVECOT_PASS" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
print(p.uidl(7).decode().split()[2])
p.quit()
PY
)
[ -n "$uidl_lone" ] || fail "no UIDL for the lone-dot message"
popfetch_config "$T/lone.yaml" name=lone keep=false maildir="$T/lone" \
	state_dir="$T/state-lone"
for run in 1 2; do
	# Run 1 finds it as message 7; the others deleted, run 2 as 1.
	n=$([ $run = 1 ] && echo 7 || echo 1)
	run_popfetch -c "$T/lone.yaml"
	expect_rc 0 "lone dot, run $run"
	assert_empty "$T/out" "lone dot, run $run: stdout"
	assert_lines 1 "$T/err" "lone dot, run $run: stderr"
	assert_grep "^popfetch: lone: warning: message $n \\(UIDL $uidl_lone\\): RETR $n: the server sent 0 of [0-9]+ bytes, then lines that are not replies: the message's first line is a lone \"\\.\", which this server does not dot-stuff, so the message cannot be retrieved over POP3; not stored, left on the server\$" \
		"$T/err" "lone dot, run $run: the warning"
	assert_eq 1 "$(dovecot_count)" "lone dot, run $run: messages left on the server"
done
assert_maildir_matches "$T/lone" "${msgs[@]}" "$DATA/plain2.eml"
exit 0
