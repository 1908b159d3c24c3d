#!/bin/bash
# t-crash: kill -9 popfetch at random moments of delete-mode runs into a
# Maildir and into an mbox, then let a run finish: every server message is
# in the store exactly once, nothing half-written is visible, and the
# server ends empty. (Bounded: KILLS kills per store, each run at most a
# few seconds.)
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-crash
trap t_cleanup EXIT

NMSG=${NMSG:-200}
KILLS=${KILLS:-25}

mkdir -p "$T/msgs"
for i in $(seq 1 "$NMSG"); do
	# Distinct subjects; bodies with "From " lines (quoted in the mbox).
	printf 'Subject: crash %04d\n\nbody %d\nFrom line %d\n' "$i" "$i" "$i" \
	    >"$T/msgs/$(printf %04d "$i").eml"
done

# count_store KIND PATH: print "TOTAL DISTINCT" of the Subject lines.
count_store() {
	"$PYTHON" - "$@" <<'PY'
import os, sys
kind, path = sys.argv[1], sys.argv[2]
subjects = []
if kind == "maildir":
    for f in os.listdir(os.path.join(path, "new")):
        with open(os.path.join(path, "new", f), "rb") as fh:
            subjects.append(fh.read().split(b"\n", 1)[0])
else:
    data = open(path, "rb").read() if os.path.exists(path) else b""
    for line in data.split(b"\n"):
        if line.startswith(b"Subject: "):
            subjects.append(line)
    # Every message is "From_ line, Subject, blank, 2 body lines, blank".
    if data and data.count(b"From MAILER-DAEMON ") != len(subjects):
        print("mbox has a From_ line without its message")
        sys.exit(1)
    if data and not data.endswith(b"\n\n"):
        print("mbox ends inside a message")
        sys.exit(1)
print(len(subjects), len(set(subjects)))
PY
}

for kind in maildir mbox; do
	note "$kind: $KILLS kills at random moments, then a clean run"
	dovecot_start "$T/dovecot" || fail "cannot start Dovecot"
	dovecot_add_message "$T/msgs"/*.eml
	rm -rf "$T/store" "$T/state"
	if [ $kind = maildir ]; then
		popfetch_config "$T/config.yaml" keep=false maildir="$T/store" \
		    state_dir="$T/state"
	else
		popfetch_config "$T/config.yaml" keep=false mbox="$T/store" \
		    state_dir="$T/state"
	fi
	killed=0
	for k in $(seq 1 "$KILLS"); do
		"$POPFETCH" -q -c "$T/config.yaml" >/dev/null 2>"$T/kill.err" &
		pid=$!
		# 0 to 150 ms: from before the login to the middle of the run.
		sleep "0.$(printf %03d $((RANDOM % 150)))"
		kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" 2>/dev/null
	done
	note "$kind: $killed of $KILLS runs were killed mid-run"
	run_popfetch -c "$T/config.yaml"
	expect_rc 0 "$kind: the run after the kills"
	run_popfetch -c "$T/config.yaml"
	expect_rc 0 "$kind: one more run"
	expect_silent "$kind: one more run"
	read -r total distinct < <(count_store $kind "$T/store") ||
	    fail "$kind: cannot read the store"
	assert_eq "$NMSG" "$distinct" "$kind: distinct messages stored"
	assert_eq "$NMSG" "$total" "$kind: messages stored (duplicates?)"
	assert_eq 0 "$(dovecot_count)" "$kind: messages left on the server"
	if [ $kind = maildir ]; then
		assert_eq 0 "$(file_count "$T/store/tmp")" "$kind: files left in tmp/"
		# Byte-exact: every original is one of the stored files.
		assert_maildir_matches "$T/store" "$T/msgs"/*.eml
	fi
	dovecot_stop
done
exit 0
