#!/usr/bin/env bash
# fuzz/run.sh - run libFuzzer targets for a bounded time each and report
# executions and coverage ("make fuzz-run" calls it from the build
# directory of a "configure CC=clang --enable-fuzzing" build).
#
#   fuzz/run.sh [--time SECONDS] [--srcdir DIR] NAME...
#
# For each NAME: fuzz/fuzz_NAME runs for SECONDS (default 60) on a working
# corpus fuzz/work/NAME (new inputs go there) seeded from
# DIR/fuzz/corpus/NAME, with DIR/fuzz/NAME.dict when it exists. Output in
# fuzz/NAME.out; a crash, leak, timeout (an input taking over 10 s) or
# out-of-memory (over 4 GB: ASan's quarantine alone keeps up to 256 MB,
# and the targets level off near 1 GB) leaves the input in fuzz/artifacts/
# and makes the script fail, after the other targets ran. At the end one line per
# target: runs, runs per second, libFuzzer's "cov:" (edges covered) and
# "ft:" (features), the corpus size; also in fuzz/summary.txt.
# When the targets were built with -fprofile-instr-generate
# -fcoverage-mapping and llvm-profdata/llvm-cov are found, the line
# coverage of the code under test follows (llvm-cov report).
set -u
time=60 srcdir=.
while [ $# -gt 0 ]; do
	case $1 in
	--time) time=$2; shift 2 ;;
	--srcdir) srcdir=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--time S] [--srcdir DIR] NAME..." >&2; exit 2; }

# The llvm tools that match the compiler, versioned or not.
llvm_tool() {
	local v
	v=$("${CC:-clang}" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	for t in "$1-$v" "$1" /usr/lib/llvm-"$v"/bin/"$1"; do
		command -v "$t" >/dev/null 2>&1 && { command -v "$t"; return 0; }
	done
	return 1
}

# The code each target is about, for the llvm-cov report.
sources_of() {
	case $1 in
	config) echo "src/config.c src/yamltree.c" ;;
	pop3_parse) echo "src/pop3_parse.c" ;;
	msgfilter) echo "src/msgfilter.c" ;;
	msghdr) echo "src/msghdr.c" ;;
	esac
}

mkdir -p fuzz/artifacts
: >fuzz/summary.txt
failed=()
for name in "$@"; do
	bin=fuzz/fuzz_$name
	[ -x "$bin" ] || { echo "$bin: not built" >&2; failed+=("$name"); continue; }
	mkdir -p "fuzz/work/$name"
	dict=()
	[ -f "$srcdir/fuzz/$name.dict" ] && dict=(-dict="$srcdir/fuzz/$name.dict")
	rm -f "fuzz/$name.profraw"
	echo "==> fuzz_$name for $time s"
	rc=0
	LLVM_PROFILE_FILE=fuzz/$name.profraw \
	"$bin" -max_total_time="$time" -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="fuzz/artifacts/$name-" \
		"${dict[@]}" "fuzz/work/$name" "$srcdir/fuzz/corpus/$name" \
		>"fuzz/$name.out" 2>&1 </dev/null || rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "fuzz/$name.out" | tail -1)
	[ -n "$done_line" ] ||
		done_line=$(grep -E '^#[0-9]+[[:space:]].* cov: ' "fuzz/$name.out" | tail -1)
	stat() { sed -n "s/^stat::$1:[[:space:]]*//p" "fuzz/$name.out" | tail -1; }
	field() { sed -n "s/.* $1: \([^ ]*\).*/\1/p" <<<"$done_line"; }
	line=$(printf '%-11s %s  runs %s  exec/s %s  cov %s  ft %s  corpus %s  rss %s MB' \
		"$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" \
		"$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
		"$(field cov)" "$(field ft)" "$(field corp)" "$(stat peak_rss_mb)")
	echo "$line" | tee -a fuzz/summary.txt
	if [ $rc -ne 0 ]; then
		failed+=("$name")
		# The report: from libFuzzer's or a sanitizer's first line.
		sed -n '/==[0-9]*==\(ERROR\|WARNING\)\|^fuzz_\|ERROR: libFuzzer\|SUMMARY/,$p' \
			"fuzz/$name.out" | head -80 >&2
		ls fuzz/artifacts/"$name"-* 2>/dev/null >&2
	fi
done

# Line coverage, when the targets carry profile instrumentation.
profdata=$(llvm_tool llvm-profdata) && cov=$(llvm_tool llvm-cov) || cov=
if [ -n "$cov" ]; then
	for name in "$@"; do
		[ -s "fuzz/$name.profraw" ] || continue
		"$profdata" merge -sparse -o "fuzz/$name.profdata" \
			"fuzz/$name.profraw" 2>/dev/null || continue
		"$cov" report "fuzz/fuzz_$name" -instr-profile="fuzz/$name.profdata" \
			2>/dev/null | awk -v n="$name" -v want="$(sources_of "$name")" '
			BEGIN { split(want, w, " ") }
			{ for (i in w) if ($1 == w[i] || substr($1, length($1) - length(w[i])) == "/" w[i])
				printf "%-11s llvm-cov %-16s lines %s  regions %s  branches %s\n",
				    n, w[i], $10, $4, $13 }' | tee -a fuzz/summary.txt
	done
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/; replay: fuzz/fuzz_NAME FILE)" >&2
	exit 1
fi
echo "fuzz: all ${#} target(s) ran ${time} s without a crash, leak or timeout"
