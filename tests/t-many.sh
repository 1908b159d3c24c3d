#!/bin/bash
# t-many: a configuration of 10,000 accounts, every key written for each
# (over 6 MB), loads, and --check-config checks it and exits 0, printing
# every account once; -a with many names at once works. A duplicate name
# far down the file is still found, with the line of the first. A file
# over the size cap (64 MiB) is refused without being parsed.
# No timing is asserted here (see README, "Many machines", for numbers).
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-many
trap t_cleanup EXIT

# gen N [DUP]: N accounts with every key a file can give an account
# without a file or a command behind it; DUP: the last account takes the
# name of account DUP.
gen() {
	"$PYTHON" - "$@" <<'EOF'
import sys
n = int(sys.argv[1])
dup = int(sys.argv[2]) if len(sys.argv) > 2 else None
out = ["accounts:"]
for i in range(n):
    name = "user%05d-mail" % (dup if dup is not None and i == n - 1 else i)
    out.append(f"""  - name: {name}
    host: pop{i % 97}.example.org
    port: 995
    tls: implicit
    insecure_plaintext: false
    tls_min_version: "1.2"
    pinned_pubkey: "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    proxy: socks5h://127.0.0.1:1080
    auth: auto
    user: user{i:05d}@example.org
    password_env: POPFETCH_T_PW_{i % 10}
    maildir: ~/Mail/user{i:05d}
    add_headers: [received, delivered-to]
    keep: true
    timeout: 60s
    lock_timeout: 30s
    deliver_timeout: 5m
    state_dir: ~/state
    forget_after: 720h
    delete_after: 336h
    max_size: 50M
    max_messages: 1000
    max_bytes: 1G""")
print("\n".join(out))
EOF
}

for i in 0 1 2 3 4 5 6 7 8 9; do
	export "POPFETCH_T_PW_$i=secret-$i"
done
export HOME=$T

note "10,000 accounts: load and --check-config"
gen 10000 | config_write "$T/big.yaml"
size=$(stat -c %s "$T/big.yaml")
[ "$size" -gt $((1024 * 1024)) ] || fail "the generated file is only $size bytes"
run_popfetch -c "$T/big.yaml" --check-config
expect_rc 0 "--check-config of 10,000 accounts"
assert_empty "$T/err" "stderr of --check-config"
assert_eq 10000 "$(grep -c '^account user[0-9]*-mail ' "$T/out")" "accounts printed"
assert_eq 10000 "$(grep '^account ' "$T/out" | sort -u | wc -l)" "distinct accounts printed"
assert_grep "^account user09999-mail \\($T/big.yaml:$(( 9999 * 23 + 2 )):5\\)\$" "$T/out"

note "-a with 2,000 names"
args=()
for i in $(seq 0 5 9999); do
	args+=(-a "$(printf 'user%05d-mail' "$i")")
done
run_popfetch -c "$T/big.yaml" --check-config "${args[@]}"
expect_rc 0 "--check-config -a x 2000"
assert_eq 2000 "$(grep -c '^account ' "$T/out")" "accounts printed for 2,000 -a"
assert_grep '^account user09995-mail ' "$T/out"
assert_no_grep '^account user09996-mail ' "$T/out"

note "a duplicate name at the end of 10,000"
gen 10000 17 | config_write "$T/dup.yaml"
run_popfetch -c "$T/dup.yaml" --check-config
expect_rc 78 "a duplicate name"
assert_eq 1 "$(wc -l <"$T/err")" "lines of errors"
assert_grep "^$T/dup.yaml:$(( 9999 * 23 + 2 )):11: duplicate account name 'user00017-mail' \\(first defined on line $(( 17 * 23 + 2 ))\\)\$" "$T/err"

note "over the cap: refused before parsing"
{
	gen 1
	# Comment lines up to one byte over 64 MiB.
	have=$(gen 1 | wc -c)
	yes '# padding padding padding padding padding padding padding' |
		head -c $(( 64 * 1024 * 1024 + 1 - have ))
} | config_write "$T/huge.yaml"
assert_eq $(( 64 * 1024 * 1024 + 1 )) "$(stat -c %s "$T/huge.yaml")" "size of the huge file"
run_popfetch -c "$T/huge.yaml" --check-config
expect_rc 78 "a file over 64 MiB"
assert_empty "$T/out" "stdout for a file over the cap"
assert_grep "^$T/huge.yaml: too big for a configuration file \\(over 65536 KiB\\)\$" "$T/err"
rm -f "$T/huge.yaml"
exit 0
