#!/bin/bash
# t-shard: --shard K/N (no server needed: --check-config prints the
# accounts a run takes, and connects nowhere).
#  - 1,000 accounts, names with UTF-8, blanks and punctuation: for N in
#    1, 2, 3, 7 the N shards are disjoint and together hold every account,
#    and each account is where popfetch(1)'s formula puts it (the 64-bit
#    FNV-1a of the name's UTF-8 bytes, mod N), computed here by Python;
#  - with -a (and names as arguments): the intersection; an unknown name
#    is still exit 64;
#  - a shard that holds no account: exit 0, nothing printed, and with -v
#    one line saying so;
#  - bad values exit 64 with the message that says what K/N must be, and
#    read no configuration; --shard with --host is a usage error.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-shard
trap t_cleanup EXIT

export POPFETCH_T_SHARD_PW=secret-shard
export HOME=$T

# 1,000 accounts; their names, one a line, in $T/names (as written).
"$PYTHON" - "$T/config.yaml" "$T/names" <<'EOF'
import json, sys
names = []
for i in range(1000):
    kind = i % 5
    if kind == 0:
        n = "acct-%d" % i
    elif kind == 1:
        n = "Zürich %d" % i
    elif kind == 2:
        n = "mail.%d@example" % i
    elif kind == 3:
        n = "名前-%d" % i
    else:
        n = "x%d_ü~!" % i
    names.append(n)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("defaults:\n  password_env: POPFETCH_T_SHARD_PW\n"
            "  host: pop.example.org\n  state_dir: ~/state\naccounts:\n")
    for i, n in enumerate(names):
        f.write("  - name: %s\n    user: u%d\n    maildir: ~/Mail/%d\n"
                % (json.dumps(n, ensure_ascii=(i % 2 == 0)), i, i))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("".join(n + "\n" for n in names))
EOF
chmod 600 "$T/config.yaml"

# listed FILE: the account names of a --check-config output, one a line.
listed() {
	sed -n 's/^account \(.*\) ([^()]*:[0-9]*:[0-9]*)$/\1/p' "$1"
}

note "the whole file: 1,000 accounts"
run_popfetch -c "$T/config.yaml" --check-config
expect_rc 0 "--check-config"
listed "$T/out" >"$T/all"
assert_eq 1000 "$(wc -l <"$T/all")" "accounts listed"
assert_file_eq "$T/names" "$T/all" "the names as listed"

for n in 1 2 3 7; do
	note "N = $n: disjoint, covering, by the formula"
	: >"$T/union"
	for ((k = 0; k < n; k++)); do
		run_popfetch -c "$T/config.yaml" --check-config --shard "$k/$n"
		expect_rc 0 "--shard $k/$n"
		assert_empty "$T/err" "stderr of --shard $k/$n"
		listed "$T/out" >"$T/shard.$k.$n"
		cat "$T/shard.$k.$n" >>"$T/union"
	done
	# Each name once over the N shards, and all of them.
	sort "$T/union" >"$T/union.sorted"
	sort "$T/names" >"$T/names.sorted"
	assert_file_eq "$T/names.sorted" "$T/union.sorted" \
		"the $n shards together (each account exactly once)"
	"$PYTHON" - "$T" "$n" <<'EOF' || fail "N = $n: an account is not in the shard the man page's formula gives"
import sys
t, n = sys.argv[1], int(sys.argv[2])
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) % 2**64
    return h
names = open(t + "/names", encoding="utf-8").read().splitlines()
bad = 0
for k in range(n):
    got = open("%s/shard.%d.%d" % (t, k, n), encoding="utf-8").read().splitlines()
    want = [s for s in names if fnv1a64(s.encode("utf-8")) % n == k]
    if got != want:
        print("shard %d/%d: got %d accounts, want %d; first difference: %r" % (
            k, n, len(got), len(want),
            next((a, b) for a, b in zip(got + [None] * len(want), want + [None] * len(got)) if a != b)),
            file=sys.stderr)
        bad = 1
sys.exit(bad)
EOF
done
# N = 7 must not be lopsided (a hash of a constant would pass the rest).
for k in 0 1 2 3 4 5 6; do
	c=$(wc -l <"$T/shard.$k.7")
	[ "$c" -ge 100 ] && [ "$c" -le 190 ] || fail "shard $k/7 holds $c of 1000 accounts"
done

note "-v says how many"
run_popfetch -c "$T/config.yaml" --check-config --shard 2/3 -v
expect_rc 0 "--shard 2/3 -v"
assert_grep "^popfetch: shard 2/3: $(wc -l <"$T/shard.2.3") of the 1000 accounts in $T/config.yaml\$" "$T/out"

note "with -a and names as arguments: the intersection"
# Two names of shard 0/2 and two of shard 1/2.
a0=$(sed -n 1p "$T/shard.0.2") b0=$(sed -n 2p "$T/shard.0.2")
a1=$(sed -n 1p "$T/shard.1.2") b1=$(sed -n 2p "$T/shard.1.2")
run_popfetch -c "$T/config.yaml" --check-config --shard 1/2 -a "$a0" -a "$a1" "$b0" "$b1"
expect_rc 0 "--shard 1/2 with names"
listed "$T/out" >"$T/picked"
grep -Fx -e "$a1" -e "$b1" "$T/names" >"$T/picked.want"
assert_file_eq "$T/picked.want" "$T/picked" "the named accounts of shard 1/2"
run_popfetch -c "$T/config.yaml" --check-config --shard 1/2 -a "$a0" -a "no such account"
expect_rc 64 "--shard with an unknown name"
assert_grep '^popfetch: .*: no account named "no such account"; the accounts are: ' "$T/err"

note "a shard without an account: exit 0, nothing done, said with -v"
run_popfetch -c "$T/config.yaml" --check-config --shard 1/2 -a "$a0"
expect_rc 0 "--shard 1/2 -a (an account of shard 0)"
expect_silent "--shard 1/2 -a (an account of shard 0)"
popfetch_config "$T/one.yaml" name=lonely password_env:=POPFETCH_T_SHARD_PW \
	password=- host=pop.example.org tls=implicit port=995
# The one name's shard of 7, by the formula; then another K.
k=$("$PYTHON" -c '
h = 0xcbf29ce484222325
for x in b"lonely":
    h = ((h ^ x) * 0x100000001b3) % 2**64
print((h % 7 + 1) % 7)')
run_popfetch -c "$T/one.yaml" --shard "$k/7"
expect_rc 0 "a run of an empty shard"
expect_silent "a run of an empty shard"
run_popfetch -c "$T/one.yaml" --shard "$k/7" -v
expect_rc 0 "a run of an empty shard, -v"
assert_empty "$T/err" "stderr of an empty shard, -v"
assert_lines 1 "$T/out" "lines of an empty shard, -v"
assert_grep "^popfetch: shard $k/7: 0 of the 1 account in $T/one.yaml: nothing to do\$" "$T/out"
run_popfetch -c "$T/one.yaml" --shard "$k/7" --dry-run
expect_rc 0 "--dry-run of an empty shard"
expect_silent "--dry-run of an empty shard"

note "bad values: exit 64, saying what K/N must be, before reading the file"
while IFS='|' read -r arg why; do
	run_popfetch -c "$T/no-such-file.yaml" --shard "$arg"
	expect_rc 64 "--shard '$arg'"
	assert_empty "$T/out" "stdout of --shard '$arg'"
	assert_lines 1 "$T/err" "error lines of --shard '$arg'"
	assert_has "popfetch: --shard \"$arg\": $why; expected K/N, whole numbers with 0 <= K < N <= 1000000 (e.g. --shard 0/4)" "$T/err"
done <<'EOF'
3/3|K must be less than N
-1/2|K is not a whole number
a/b|K is not a whole number
1/0|N must be at least 1
1/|N is not a whole number
/2|K is not a whole number
1/2/3|N is not a whole number
1/2x|N is not a whole number
1x/2|K is not a whole number
 1/2|K is not a whole number
1|no '/' between K and N
0/1000001|N is too large
0/18446744073709551617|N is too large
18446744073709551617/2|K must be less than N
EOF
run_popfetch -c "$T/config.yaml" --shard 0/2 --shard 1/2 --check-config
expect_rc 64 "two --shard"
run_popfetch --host pop.example.org --user u --maildir "$T/m" --shard 0/2
expect_rc 64 "--shard with --host"
assert_grep '^popfetch: --host \(one-shot mode\) and --shard cannot be used together' "$T/err"
exit 0
