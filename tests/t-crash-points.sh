#!/bin/bash
# t-crash-points: kill -9 popfetch at every kind of moment of a run, many
# times over, then let a normal run finish, and check the promises: every
# server message is in the store exactly once, nothing half-written is
# visible, the server ends as the mode says (keep: all there; delete:
# empty). Uses tests/popfetch_hooks, popfetch built with the crash points
# of src/testhook.h; POPFETCH_BATCH=5 gives several batches per run.
# Four modes (Maildir/mbox x keep/delete); the count of distinct kill
# moments is printed and must reach MIN_MOMENTS.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-crash-points
trap t_cleanup EXIT

HOOKS=${POPFETCH_HOOKS:-$TOP_BUILDDIR/tests/popfetch_hooks}
[ -x "$HOOKS" ] || fail "no $HOOKS (make check builds it)"
MIN_MOMENTS=${MIN_MOMENTS:-200}
PER_MODE=${PER_MODE:-55}   # moments per mode, spread over every point
export POPFETCH_BATCH=5

# 24 messages: small ones with From_/dot lines, and three of 150 KB so
# mbox writes flush in the middle of a message.
mkdir -p "$T/orig"
for i in $(seq 1 24); do
	f=$T/orig/$(printf %02d "$i").eml
	printf 'Subject: crash point %02d\n\nbody %d\nFrom here\n.\n' "$i" "$i" >"$f"
	case $i in 5 | 12 | 20)
		"$PYTHON" -c 'import sys; sys.stdout.write(("line %s\n" % ("y" * 70)) * 2000)' >>"$f" ;;
	esac
done
NMSG=24

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"

# reset_all: an empty store and state, the server mailbox refilled with
# the originals (one python call: this runs hundreds of times).
reset_all() {
	rm -rf "$T/store" "$T/state" "$T/hooks.log"
	"$PYTHON" - "$T/orig" "$DOVECOT_MAILDIR" "${DOVECOT_MAIL_UID:-}" \
	    "${DOVECOT_MAIL_GID:-}" <<'PY' || fail "cannot refill the mailbox"
import os, shutil, sys, time
orig, md, uid, gid = sys.argv[1:5]
for sub in ("new", "cur"):
    for f in os.listdir(os.path.join(md, sub)):
        os.unlink(os.path.join(md, sub, f))
now = int(time.time())
for i, f in enumerate(sorted(os.listdir(orig))):
    name = "%d.M%06dP%dQ%d.crashtest" % (now, i, os.getpid(), i)
    tmp = os.path.join(md, "tmp", name)
    shutil.copyfile(os.path.join(orig, f), tmp)
    os.chmod(tmp, 0o600)
    if os.getuid() == 0 and uid:
        os.chown(tmp, int(uid), int(gid))
    os.rename(tmp, os.path.join(md, "new", name))
PY
}

# verify KIND: the store holds every original exactly once, whole.
verify() {
	"$PYTHON" - "$1" "$T/store" "$T/orig" <<'PY'
import os, re, sys
kind, store, orig = sys.argv[1:4]
want = sorted(open(os.path.join(orig, f), "rb").read() for f in os.listdir(orig))
got = []
if kind == "maildir":
    for sub in ("new", "cur"):
        d = os.path.join(store, sub)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            got.append(open(os.path.join(d, f), "rb").read())
    tmp = os.path.join(store, "tmp")
    if os.path.isdir(tmp) and os.listdir(tmp):
        sys.exit("tmp/ not empty: %s" % os.listdir(tmp))
else:
    data = open(store, "rb").read() if os.path.exists(store) else b""
    msgs, cur = [], None
    for line in data.split(b"\n")[:-1] if data else []:
        if line.startswith(b"From "):
            if cur is not None:
                msgs.append(cur)
            cur = []
        elif cur is None:
            sys.exit("mbox does not start with a From_ line")
        else:
            cur.append(line)
    if cur is not None:
        msgs.append(cur)
    if data and not data.endswith(b"\n\n"):
        sys.exit("mbox ends inside a message")
    for m in msgs:
        if not m or m[-1] != b"":
            sys.exit("a message without its separator line")
        body = b"".join(re.sub(rb"^>(>*From )", rb"\1", l) + b"\n" for l in m[:-1])
        got.append(body)
got.sort()
if got != want:
    dups = len(got) - len(set(got))
    missing = len([w for w in want if w not in got])
    sys.exit("store differs: %d stored, %d wanted, %d missing, %d duplicated"
             % (len(got), len(want), missing, dups))
PY
}

# finish: a normal run (retried on 75: the killed session's server
# process may still hold the mailbox lock for a moment).
finish() {
	local i
	for i in 1 2 3 4 5; do
		run_popfetch -c "$T/config.yaml"
		[ "$RC" = 75 ] || break
		sleep 0.5
	done
	expect_rc 0 "$1: the run after the kill"
}

total=0
for mode in "maildir keep" "maildir delete" "mbox keep" "mbox delete"; do
	set -- $mode
	kind=$1 how=$2
	keep=true
	[ "$how" = delete ] && keep=false
	popfetch_config "$T/config.yaml" keep=$keep "$kind=$T/store" \
	    state_dir="$T/state"

	# A complete run, counting how often each crash point is reached.
	reset_all
	POPFETCH_HOOK_LOG=$T/hooks.log "$HOOKS" -c "$T/config.yaml" ||
	    fail "$mode: the counting run failed"
	verify "$kind" || fail "$mode: the counting run stored wrongly"

	# Moments: every hit of rare points, a spread of the frequent ones,
	# then PER_MODE of them taken evenly so every point keeps some.
	moments=$(sort "$T/hooks.log" | uniq -c | while read -r n name; do
		if [ "$n" -le 12 ]; then
			seq 1 "$n"
		else
			seq 1 $(( (n + 11) / 12 )) "$n"
			echo "$n"
		fi | sort -un | sed "s/^/$name:/"
	done | awk -v k="$PER_MODE" '{ a[NR] = $0 } END {
		for (i = 0; i < k && i < NR; i++) print a[int(i * NR / k) + 1] }')
	note "$mode: points $(printf '%s\n' $moments | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' ')"
	# The steps of a Maildir batch's sync (src/sink_maildir.c) must be hit:
	# the even spread depends on how many body chunks this run counted,
	# so add each one's first and last hit when the spread missed it.
	if [ "$kind" = maildir ]; then
		for p in maildir-batch-synced maildir-renamed maildir-dir-synced; do
			n=$(grep -c "^$p\$" "$T/hooks.log")
			[ "$n" -gt 0 ] || fail "$mode: the counting run never reached $p"
			printf '%s\n' $moments | grep -q "^$p:" ||
				moments="$moments $p:1 $p:$n"
		done
		moments=$(printf '%s\n' $moments | sort -u)
	fi
	count=0 killed=0
	for m in $moments; do
		reset_all
		# (In a subshell, so the shell's "Killed" notice goes nowhere.)
		( POPFETCH_CRASH=$m "$HOOKS" -q -c "$T/config.yaml" ) \
		    >/dev/null 2>&1
		rc=$?
		[ $rc -eq 137 ] && killed=$((killed + 1))
		finish "$mode at $m"
		verify "$kind" || fail "$mode: killed at $m: store wrong"
		if [ "$how" = delete ]; then
			assert_eq 0 "$(dovecot_count)" "$mode at $m: messages left on the server"
		else
			assert_eq $NMSG "$(dovecot_count)" "$mode at $m: messages on the server"
		fi
		count=$((count + 1))
	done
	note "$mode: $count kill moments ($killed killed by SIGKILL), lost 0, duplicated 0"
	total=$((total + count))
done
note "crash points: $total distinct moments in all"
[ $total -ge "$MIN_MOMENTS" ] || fail "only $total moments (want $MIN_MOMENTS)"
exit 0
