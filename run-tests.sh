#!/usr/bin/env bash
# run-tests.sh - set everything up and run popfetch's whole test suite.
#
# Installs missing Debian/Ubuntu packages (when root; otherwise prints the
# apt-get command), bootstraps autotools, configures, builds, runs
# "make check" and ends with a line "N passed, N failed".
set -u
cd "$(dirname "$0")" || exit 1
. build-aux/setup.sh

setup_packages $SETUP_BUILD_PKGS $SETUP_TEST_PKGS || exit 1
setup_build || exit 1

setup_say "running the test suite"
make -j"$(nproc 2>/dev/null || echo 2)" check
check_rc=$?

# Tally the per-test results automake wrote.
passed=0 failed=0 skipped=0
while IFS= read -r trs; do
	case "$(sed -n 's/^:test-result: //p' "$trs")" in
	PASS|XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); echo "failed: ${trs%.trs}" ;;
	esac
done < <(find tests fuzz -name '*.trs' 2>/dev/null | sort)
if [ $check_rc -ne 0 ] && [ $failed -eq 0 ]; then
	failed=1   # make check failed before or outside the tests
	echo "make check failed (exit $check_rc)"
fi
[ $skipped -gt 0 ] && echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
