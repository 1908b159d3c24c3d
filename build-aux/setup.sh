# build-aux/setup.sh - sourced by quickstart.sh and run-tests.sh: make sure
# the packages popfetch needs are installed, then bootstrap, configure and
# build in the source tree. Safe to run again: every step is skipped when
# its result is already up to date.
#
# Environment: CONFIGURE_FLAGS (extra ./configure arguments), MAKEFLAGS.

# Debian/Ubuntu packages: to build, and to run the tests and the demo.
SETUP_BUILD_PKGS="gcc make autoconf automake pkg-config libcurl4-openssl-dev libyaml-dev"
SETUP_TEST_PKGS="dovecot-core dovecot-pop3d python3 openssl util-linux strace"

setup_say() { printf '==> %s\n' "$*"; }

# setup_packages PKG...: install what is missing (apt-get as root), or print
# the exact command and fail.
setup_packages() {
	local missing=() p
	if ! command -v dpkg-query >/dev/null 2>&1; then
		setup_say "not a Debian/Ubuntu system: make sure these (or your" \
		    "system's equivalents) are installed: $*"
		return 0
	fi
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "popfetch needs these packages: ${missing[*]}" >&2
		echo "Install them as root, then run this again:" >&2
		echo "  sudo apt-get install -y ${missing[*]}" >&2
		return 1
	fi
	setup_say "installing ${missing[*]}"
	# Keep the distribution's Dovecot service from starting on install:
	# the tests and the demo run their own private one.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" &&
		    made_policy=1
	fi
	local rc=0
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		apt-get update && apt-get install -y --no-install-recommends \
		    "${missing[@]}" || rc=1
	fi
	[ -n "$made_policy" ] && rm -f "$policy"
	return $rc
}

# setup_build: autoreconf, configure and make as needed.
setup_build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	    [ Makefile.am -nt Makefile.in ]; then
		setup_say "bootstrapping (autoreconf)"
		autoreconf -fi || return 1
	fi
	local want="${CONFIGURE_FLAGS:-}"
	if [ ! -f Makefile ] || [ configure -nt config.status ] ||
	    [ "$(cat .configure-flags 2>/dev/null)" != "$want" ]; then
		setup_say "configuring ${want}"
		# shellcheck disable=SC2086
		./configure --quiet $want || return 1
		printf '%s' "$want" >.configure-flags
	fi
	setup_say "building"
	make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null || make || return 1
}
