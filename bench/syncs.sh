#!/bin/bash
# bench/syncs.sh [RUNS] [N] [DIR]: how a batch of Maildir files is best
# made durable on the file system of DIR (default: bench/tmp in the build
# tree). Builds bench/syncs.c, then for each candidate writes N (2000)
# files of 4 KB in batches of 64, syncs them, renames them into new/ and
# fsyncs new/ once per batch; prints the median wall time of RUNS (3).
# Not part of make check: it measures, it asserts nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${1:-3}
N=${2:-2000}
DIR=${3:-$PWD/bench/tmp}
mkdir -p "$DIR"
prog=$DIR/syncs
${CC:-cc} -O2 -Wall -o "$prog" "$here/syncs.c"
echo "file system of $DIR: $(df -T "$DIR" | awk 'NR == 2 { print $2 }'); $N x 4 KB, batches of 64"
modes="each end syncfs sfr"
declare -A times
# Runs interleaved (each mode once per round), so drift in the machine's
# load is shared by all.
for r in $(seq 1 "$RUNS"); do
	for mode in $modes; do
		rm -rf "$DIR/md"
		mkdir -p "$DIR/md/tmp" "$DIR/md/new"
		sync
		times[$mode]="${times[$mode]:-} $("$prog" "$mode" "$DIR/md" "$N" 4096 64)"
	done
done
printf '| %-8s | %s |\n|---|---|\n' mode "median of $RUNS (s), runs"
for mode in $modes; do
	med=$(printf '%s\n' ${times[$mode]} | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	printf '| %-8s | %s (%s) |\n' "$mode" "$med" "${times[$mode]# }"
done
rm -rf "$DIR/md"
