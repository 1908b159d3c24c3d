#!/bin/bash
# t-control: what a run fetches and deletes, against the private Dovecot.
#   --dry-run changes nothing (store tree, state directory, the server's
#     messages compared before and after; keep and delete accounts) and
#     says what a run would do; with -v the From and Subject (TOP);
#   --status: figures equal to the server's STAT and the journal;
#   max_size in delete mode (a 2 MB message stays, is not stored);
#   max_messages: 3 over three runs, the lowest numbers first; max_bytes;
#   --refetch; --keep and --no-keep;
#   a deleted Maildir and a deleted mbox are fetched again (one line
#     says so), while a message deleted from an existing store is not;
#   delete_after: 30d, with the journal's store times moved back (the
#     clock moved forward): nothing deleted before, every stored message
#     after, the store untouched;
#   two accounts on one mailbox (same host, port, user), two stores: each
#     gets every message, each has its own journal;
#   bad values: FILE:LINE:COLUMN, exit 78.
. "$(dirname "$0")/lib.sh"
t_init
need_dovecot
setup_tmp t-control
trap t_cleanup EXIT

dovecot_start "$T/dovecot" || fail "cannot start Dovecot"

# snapshot DIR...: every entry with its type, size and mtime, and every
# file's hash ("absent DIR" for one that does not exist).
snapshot() {
	local d
	for d in "$@"; do
		if [ ! -e "$d" ]; then
			echo "absent $d"
			continue
		fi
		find "$d" -printf '%p %y %s %T@\n' | sort
		find "$d" -type f -exec sha256sum {} + | sort
	done
}

# server_msgs: the hashes of the messages on the server, sorted (Dovecot
# may rename them from new/ to cur/; the contents are what count).
server_msgs() {
	find "$DOVECOT_MAILDIR/new" "$DOVECOT_MAILDIR/cur" -type f \
		-exec sha256sum {} + 2>/dev/null | cut -d' ' -f1 | sort
}

server_clear() {
	rm -f -- "$DOVECOT_MAILDIR"/new/* "$DOVECOT_MAILDIR"/cur/*
}

msgs=("$DATA"/plain[1-5].eml)
dovecot_add_message "${msgs[@]}"
popfetch_config "$T/keep.yaml" name=k maildir="$T/k/Maildir" \
	state_dir="$T/k/state"
popfetch_config "$T/del.yaml" name=d keep=false maildir="$T/d/Maildir" \
	state_dir="$T/d/state"

note "--dry-run on a new account creates nothing and lists five to fetch"
before=$(snapshot "$T/k"; server_msgs)
run_popfetch -c "$T/keep.yaml" --dry-run
expect_rc 0 "dry run"
assert_eq 5 "$(grep -c '^k: would fetch message [1-5] ([0-9]* octets, UIDL ' "$T/out")" \
	"'would fetch' lines"
assert_grep '^k: 5 messages \([0-9]+ octets\) on the server: would fetch 5 \([0-9]+ octets\), delete 0, keep 0, skip 0$' "$T/out"
assert_empty "$T/err" "dry run stderr"
assert_eq "$before" "$(snapshot "$T/k"; server_msgs)" "store, state and server after a dry run"

note "a run stores them; two new messages; --dry-run -v shows From and Subject"
run_popfetch -c "$T/keep.yaml"
expect_rc 0 "keep run"
assert_maildir_matches "$T/k/Maildir" "${msgs[@]}"
dovecot_add_message "$DATA/plain1.eml" "$DATA/utf8.eml"
before=$(snapshot "$T/k"; server_msgs)
run_popfetch -c "$T/keep.yaml" --dry-run -v
expect_rc 0 "dry run -v"
assert_eq 2 "$(grep -c '^k: would fetch message [67] ' "$T/out")" "'would fetch' lines"
assert_grep '^k:   From: Sender 1 <sender1@example.org>$' "$T/out"
assert_grep '^k:   Subject: plain message 1$' "$T/out"
assert_eq 2 "$(grep -c '^k:   Subject: ' "$T/out")" "Subject lines"
assert_grep '^k: 7 messages \([0-9]+ octets\) on the server: would fetch 2 \([0-9]+ octets\), delete 0, keep 5, skip 0$' "$T/out"
assert_eq "$before" "$(snapshot "$T/k"; server_msgs)" "store, state and server after a dry run -v"

note "--dry-run of a delete account: all seven, and nothing deleted"
before=$(snapshot "$T/d"; server_msgs)
run_popfetch -c "$T/del.yaml" --dry-run
expect_rc 0 "delete dry run"
assert_eq 7 "$(grep -c '^d: would fetch message ' "$T/out")" "'would fetch' lines"
assert_eq "$before" "$(snapshot "$T/d"; server_msgs)" "store, state and server after a delete dry run"
run_popfetch -c "$T/keep.yaml" --dry-run --no-keep
expect_rc 0 "dry run --no-keep"
assert_grep '^k: 7 messages \([0-9]+ octets\) on the server: would fetch 2 \([0-9]+ octets\), delete 5, keep 0, skip 0$' "$T/out"
assert_eq 5 "$(grep -c '^k: would delete message [1-5] (.*, stored 20[0-9-]* [0-9:]*)$' "$T/out")" "'would delete' lines"

note "--status: the server's STAT and the journal"
pop3_reference "$T/ref" || fail "poplib reference download failed"
octets=$(awk '{s += $2} END {print s}' "$T/ref/list")
before=$(snapshot "$T/k"; server_msgs)
run_popfetch -c "$T/keep.yaml" --status
expect_rc 0 "status"
assert_eq "k: 7 messages ($octets octets) on the server: 2 new, 5 stored and kept, 0 to delete" \
	"$(cat "$T/out")" "status line"
assert_eq "$before" "$(snapshot "$T/k"; server_msgs)" "store, state and server after --status"
run_popfetch -c "$T/keep.yaml" --status --no-keep
assert_eq "k: 7 messages ($octets octets) on the server: 2 new, 0 stored and kept, 5 to delete" \
	"$(cat "$T/out")" "status line, --no-keep"
run_popfetch -c "$T/keep.yaml" --status --dry-run
expect_rc 64 "--status with --dry-run"
# -vv: the dialogue and where it connects, not libcurl's bookkeeping.
run_popfetch -c "$T/keep.yaml" --status -vv
expect_rc 0 "status -vv"
assert_grep '^popfetch: k: \* Connected to 127\.0\.0\.1 ' "$T/err"
assert_grep '^popfetch: k: C: STAT$' "$T/err"
assert_grep '^popfetch: k: S: \+OK 7 ' "$T/err"
assert_no_grep 'bundle|Connection #|[Cc]losing connection|[Rr]e-?using|left intact|cache' "$T/err"

note "--keep on a delete account deletes nothing; --no-keep on a keep account deletes"
run_popfetch -c "$T/del.yaml" --keep
expect_rc 0 "delete account with --keep"
assert_eq 7 "$(maildir_count "$T/d/Maildir")" "stored with --keep"
assert_eq 7 "$(dovecot_count)" "messages on the server after --keep"
run_popfetch -c "$T/keep.yaml" --no-keep
expect_rc 0 "keep account with --no-keep"
assert_maildir_matches "$T/k/Maildir" "${msgs[@]}" "$DATA/plain1.eml" "$DATA/utf8.eml"
assert_eq 0 "$(dovecot_count)" "messages on the server after --no-keep"

note "max_size in delete mode: the 2 MB message stays on the server, unstored"
make_big_message "$T/big.eml" $((2 * 1024 * 1024))
dovecot_add_message "$DATA/plain1.eml" "$T/big.eml" "$DATA/plain2.eml" "$DATA/plain3.eml"
popfetch_config "$T/size.yaml" name=s keep=false max_size=1M \
	maildir="$T/s/Maildir" state_dir="$T/s/state"
run_popfetch -c "$T/size.yaml" -v
expect_rc 0 "max_size run"
assert_maildir_matches "$T/s/Maildir" "$DATA/plain1.eml" "$DATA/plain2.eml" "$DATA/plain3.eml"
assert_eq 1 "$(dovecot_count)" "messages left on the server"
assert_eq "$(sha256sum <"$T/big.eml" | cut -d' ' -f1)" "$(server_msgs)" "the message left"
assert_grep '^popfetch: s: message 2 \([0-9]+ octets\) is bigger than max_size \(1048576\): left on the server$' "$T/out"
assert_grep '^popfetch: s: 4 messages on server, 3 stored, 3 deleted, 1 over max_size left there$' "$T/out"
run_popfetch -c "$T/size.yaml"
expect_rc 0 "max_size rerun"
expect_silent "max_size rerun"
assert_eq 3 "$(maildir_count "$T/s/Maildir")" "stored after the rerun"
assert_eq 1 "$(dovecot_count)" "messages left after the rerun"
server_clear

note "max_messages: 3 over three runs, the lowest numbers first"
seven=("$DATA"/plain[1-5].eml "$DATA/utf8.eml" "$DATA/latin1.eml")
dovecot_add_message "${seven[@]}"
popfetch_config "$T/lim.yaml" name=l max_messages=3 \
	maildir="$T/l/Maildir" state_dir="$T/l/state"
run_popfetch -c "$T/lim.yaml"
expect_rc 0 "max_messages run 1"
assert_maildir_matches "$T/l/Maildir" "${seven[@]:0:3}"
run_popfetch -c "$T/lim.yaml" -v
expect_rc 0 "max_messages run 2"
assert_maildir_matches "$T/l/Maildir" "${seven[@]:0:6}"
assert_grep '^popfetch: l: 1 left for the next run \(max_messages, max_bytes\)$' "$T/out"
run_popfetch -c "$T/lim.yaml"
expect_rc 0 "max_messages run 3"
assert_maildir_matches "$T/l/Maildir" "${seven[@]}"
run_popfetch -c "$T/lim.yaml" -v
assert_grep '^popfetch: l: 7 messages on server, 0 stored, 0 deleted$' "$T/out"

note "max_bytes: a run fetches at least one message"
popfetch_config "$T/bytes.yaml" name=b max_bytes=1 \
	maildir="$T/b/Maildir" state_dir="$T/b/state"
run_popfetch -c "$T/bytes.yaml"
expect_rc 0 "max_bytes run 1"
assert_maildir_matches "$T/b/Maildir" "${seven[0]}"
run_popfetch -c "$T/bytes.yaml"
expect_rc 0 "max_bytes run 2"
assert_maildir_matches "$T/b/Maildir" "${seven[@]:0:2}"

note "--refetch stores every message again"
run_popfetch -c "$T/lim.yaml" --refetch
expect_rc 0 "refetch"
assert_maildir_matches "$T/l/Maildir" "${seven[@]:0:3}" "${seven[@]}"
run_popfetch -c "$T/lim.yaml" --refetch --dry-run
assert_grep '^l: 7 messages \([0-9]+ octets\) on the server: would fetch 3 \([0-9]+ octets\), delete 0, keep 0, skip 4$' "$T/out"
popfetch_config "$T/lim2.yaml" name=l maildir="$T/l/Maildir" state_dir="$T/l/state"
run_popfetch -c "$T/lim2.yaml" --refetch
assert_maildir_matches "$T/l/Maildir" "${seven[@]:0:3}" "${seven[@]}" "${seven[@]}"
run_popfetch -c "$T/lim2.yaml"
expect_rc 0 "after refetch"
expect_silent "after refetch"
assert_eq 17 "$(maildir_count "$T/l/Maildir")" "files after a plain run"

note "a deleted Maildir is fetched again; a deleted message is not"
popfetch_config "$T/m.yaml" name=m maildir="$T/m/Maildir" state_dir="$T/m/state"
run_popfetch -c "$T/m.yaml"
expect_rc 0 "Maildir first run"
one=$(maildir_files "$T/m/Maildir" | head -1)
rm -f -- "$one"
run_popfetch -c "$T/m.yaml"
expect_rc 0 "a message deleted from the store"
expect_silent "a message deleted from the store"
assert_eq 6 "$(maildir_count "$T/m/Maildir")" "files after one was deleted"
rm -rf -- "$T/m/Maildir"
run_popfetch -c "$T/m.yaml" --dry-run
assert_grep "^m: the Maildir $T/m/Maildir no longer exists: a run would forget the journal's 7 records and fetch the messages on the server again\$" "$T/out"
assert_grep 'would fetch 7 ' "$T/out"
[ ! -e "$T/m/Maildir" ] || fail "a dry run created the Maildir"
run_popfetch -c "$T/m.yaml"
expect_rc 0 "Maildir deleted"
assert_lines 1 "$T/err" "stderr lines"
assert_grep "^popfetch: m: warning: the Maildir $T/m/Maildir no longer exists: the journal's 7 records of stored messages are forgotten, and the messages still on the server will be fetched again\$" "$T/err"
assert_maildir_matches "$T/m/Maildir" "${seven[@]}"
run_popfetch -c "$T/m.yaml"
expect_silent "the run after"

note "an unreachable destination (a disk not mounted) is not a removed one"
popfetch_config "$T/u.yaml" name=u maildir="$T/u/disk/Maildir" state_dir="$T/u/state"
run_popfetch -c "$T/u.yaml"
expect_rc 0 "on the disk"
assert_maildir_matches "$T/u/disk/Maildir" "${seven[@]}"
journal_before=$(find "$T/u/state" -name '*.state' -printf '%p %s %T@\n' -exec sha256sum {} +)
# "Unmount": the disk's directory away, an empty mount point left,
# older than the journal.
mv "$T/u/disk" "$T/u/disk.away"
mkdir "$T/u/disk"
touch -d '2001-01-01' "$T/u/disk"
run_popfetch -c "$T/u.yaml"
expect_rc 75 "the disk not mounted"
assert_lines 1 "$T/err" "stderr (not mounted)"
assert_grep "^popfetch: u: the Maildir $T/u/disk/Maildir does not exist, and nothing shows it was removed since the last run \(a disk not mounted\?\); its journal holds 7 records, so nothing is fetched\. If it was removed on purpose, run once with --refetch\$" "$T/err"
[ ! -e "$T/u/disk/Maildir" ] || fail "a shadow Maildir was made on the mount point"
assert_eq "$journal_before" "$(find "$T/u/state" -name '*.state' -printf '%p %s %T@\n' -exec sha256sum {} +)" "the journal while the disk is away"
run_popfetch -c "$T/u.yaml" --dry-run
assert_grep "^u: the Maildir $T/u/disk/Maildir does not exist, and nothing shows it was removed since the last run \(a disk not mounted\?\): a run would fetch nothing\$" "$T/out"
# "Mount" it again: nothing is fetched twice.
rmdir "$T/u/disk"
mv "$T/u/disk.away" "$T/u/disk"
run_popfetch -c "$T/u.yaml"
expect_rc 0 "the disk back"
expect_silent "the disk back"
assert_maildir_matches "$T/u/disk/Maildir" "${seven[@]}"

note "a deleted mbox is fetched again"
popfetch_config "$T/mb.yaml" name=mb mbox="$T/mb/mbox" state_dir="$T/mb/state"
mkdir -p "$T/mb"
run_popfetch -c "$T/mb.yaml"
expect_rc 0 "mbox first run"
assert_mbox_matches "$T/mb/mbox" "${seven[@]}"
rm -f -- "$T/mb/mbox"
run_popfetch -c "$T/mb.yaml"
expect_rc 0 "mbox deleted"
assert_grep "^popfetch: mb: warning: the mbox $T/mb/mbox no longer exists" "$T/err"
assert_mbox_matches "$T/mb/mbox" "${seven[@]}"

note "delete_after: 30d: nothing deleted until the stored messages are 30 days old"
popfetch_config "$T/da.yaml" name=da delete_after=30d \
	maildir="$T/da/Maildir" state_dir="$T/da/state"
run_popfetch -c "$T/da.yaml"
expect_rc 0 "delete_after first run"
assert_maildir_matches "$T/da/Maildir" "${seven[@]}"
run_popfetch -c "$T/da.yaml"
expect_rc 0 "delete_after second run"
assert_eq 7 "$(dovecot_count)" "messages on the server before 30 days"
journal=$T/da/state/$(state_key "$DOVECOT_USER" 127.0.0.1 "$DOVECOT_PORT" maildir "$T/da/Maildir").state
[ -f "$journal" ] || fail "no journal $journal"
# Stored 31 days ago: two messages; 29 days: the rest.
"$PYTHON" - "$journal" <<'EOF'
import sys, time
path = sys.argv[1]
lines = open(path).read().split("\n")
out, n = [], 0
now = int(time.time())
for l in lines:
    if l.startswith("S "):
        f = l.split(" ")
        n += 1
        f[1] = str(now - (31 if n <= 2 else 29) * 86400)
        l = " ".join(f)
    out.append(l)
open(path, "w").write("\n".join(out))
EOF
store_before=$(snapshot "$T/da/Maildir")
pop3_reference "$T/ref2" || fail "poplib reference download failed"
run_popfetch -c "$T/da.yaml" --status
assert_eq "da: 7 messages ($(awk '{s += $2} END {print s}' "$T/ref2/list") octets) on the server: 0 new, 5 stored and kept, 2 to delete" "$(cat "$T/out")" "status with two due"
run_popfetch -c "$T/da.yaml" -v
expect_rc 0 "delete_after run"
assert_grep '^popfetch: da: 7 messages on server, 0 stored, 2 deleted$' "$T/out"
assert_eq 5 "$(dovecot_count)" "messages on the server after 31 days"
assert_eq "$store_before" "$(snapshot "$T/da/Maildir")" "the store after deletions"
run_popfetch -c "$T/da.yaml"
expect_silent "the run after"
assert_eq 5 "$(dovecot_count)" "messages on the server, the run after"

note "two accounts on one mailbox, each with its own store: both get every message"
pop3_reference "$T/ref3" || fail "poplib reference download failed"
left=("$T"/ref3/[0-9]*)
assert_eq 5 "${#left[@]}" "messages on the server"
{
	printf 'accounts:\n'
	popfetch_account name=two1 maildir="$T/two/1" state_dir="$T/two/state"
	popfetch_account name=two2 maildir="$T/two/2" state_dir="$T/two/state"
} | config_write "$T/two.yaml"
run_popfetch -c "$T/two.yaml"
expect_rc 0 "two accounts"
expect_silent "two accounts"
assert_maildir_matches "$T/two/1" "${left[@]}"
assert_maildir_matches "$T/two/2" "${left[@]}"
assert_eq 2 "$(find "$T/two/state" -name '*.state' | wc -l)" "journals"

note "bad values: FILE:LINE:COLUMN, exit 78"
popfetch_config "$T/bad.yaml" name=x max_size=10Q
run_popfetch -c "$T/bad.yaml" --check-config
expect_rc 78 "max_size: 10Q"
assert_grep "^$T/bad.yaml:[0-9]+:[0-9]+: max_size: '10Q' is not a size" "$T/err"
popfetch_config "$T/bad.yaml" name=x keep=false delete_after=30d
run_popfetch -c "$T/bad.yaml"
expect_rc 78 "delete_after with keep: false"
assert_grep "^$T/bad.yaml:[0-9]+:[0-9]+: account 'x': delete_after is for keep: true" "$T/err"
popfetch_config "$T/bad.yaml" name=x max_messages=-1
run_popfetch -c "$T/bad.yaml"
expect_rc 78 "max_messages: -1"
assert_grep "^$T/bad.yaml:[0-9]+:[0-9]+: max_messages: '-1' is not a whole number" "$T/err"
exit 0
