#!/bin/bash
# t-examples: every shipped example works as shipped.
#  - every example YAML (the copies in $TOP_BUILDDIR/examples/, which are
#    the ones make install installs) passes popfetch --check-config, with
#    what it names provided by the test: HOME is a directory of the test
#    (so "~/" paths land in it), each password_env variable is set, each
#    program of a password_command or oauth2_token_command is a stub in
#    PATH, each password_file is created mode 600; absolute paths (those
#    of system.yaml: /etc/popfetch, /srv/mail, /var/lib/popfetch) are
#    rewritten into $T/root (the value of every path key that starts with
#    '/' gets $T/root in front). Every account of the file is printed;
#  - the crontab line: five time fields, then the absolute path of the
#    popfetch make install installs ($POPFETCH_BINDIR/popfetch, configure's
#    bindir), then options popfetch accepts;
#  - the systemd units: ExecStart is that same path with options popfetch
#    accepts; systemd-analyze verify (system and --user) passes without a
#    word, run on copies whose ExecStart names the built popfetch (the
#    installed one need not exist yet); skipped with a note when
#    systemd-analyze is not installed or cannot verify a trivial unit here.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-examples
trap t_cleanup EXIT

EX=$TOP_BUILDDIR/examples
[ -f "$EX/crontab" ] || fail "$EX is not built (make)"
export HOME=$T/home
unset XDG_CONFIG_HOME XDG_STATE_HOME POPFETCH_CONFIG
mkdir -p "$HOME" "$T/bin" "$T/cfg" "$T/root"
PATH=$T/bin:$PATH

PATH_KEYS='maildir|mbox|state_dir|password_file|ca_file|ca_path|client_cert|client_key'

# active FILE: the lines of FILE that are not comments.
active() {
	sed -e 's/[[:space:]]#.*$//' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$1"
}

# provide FILE: set up what FILE's active lines name.
provide() {
	local f=$1 v p
	while read -r v; do
		export "$v=example-password-$v"
	done < <(active "$f" | sed -n 's/^[[:space:]-]*password_env:[[:space:]]*//p')
	while read -r p; do
		[ -e "$T/bin/$p" ] && continue
		printf '#!/bin/sh\necho example-secret\n' >"$T/bin/$p"
		chmod 755 "$T/bin/$p"
	done < <(active "$f" |
		sed -n 's/^[[:space:]-]*\(password_command\|oauth2_token_command\|deliver_command\):[[:space:]]*\[[[:space:]]*\([^],[:space:]]*\).*/\2/p')
	while read -r p; do
		case $p in "~/"*) p=$HOME/${p#"~/"} ;; esac
		mkdir -p "$(dirname "$p")"
		(umask 077 && echo example-password >"$p") && chmod 600 "$p"
	done < <(active "$f" | sed -n 's/^[[:space:]-]*password_file:[[:space:]]*//p')
}

n=0
for src in "$EX"/*.yaml; do
	name=$(basename "$src")
	cfg=$T/cfg/$name
	sed -E "s#^([[:space:]-]*($PATH_KEYS):[[:space:]]*)/#\\1$T/root/#" "$src" >"$cfg"
	chmod 600 "$cfg"
	provide "$cfg"
	note "$name: --check-config"
	run_popfetch -c "$cfg" --check-config
	expect_rc 0 "$name --check-config"
	want=$(active "$cfg" | grep -c '^[[:space:]]*-[[:space:]]*name:' || true)
	got=$(grep -c '^account ' "$T/out" || true)
	[ "$want" -ge 1 ] || fail "$name: no account in the example"
	assert_eq "$want" "$got" "$name: accounts printed by --check-config"
	for a in $(active "$cfg" | sed -n 's/^[[:space:]]*-[[:space:]]*name:[[:space:]]*//p'); do
		assert_grep "^account $a " "$T/out" "$name: account $a"
	done
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "expected at least 5 example configurations, found $n"

if [ -n "${POPFETCH_BINDIR:-}" ]; then
	BIN=$POPFETCH_BINDIR/popfetch
else
	BIN=
	note "POPFETCH_BINDIR unset (not run by make check): install path not compared"
fi
case ${BIN:-/} in /*) ;; *) fail "bindir '$BIN' is not absolute" ;; esac

# options_ok WHAT ARGS...: popfetch accepts ARGS (with -c and
# --check-config on the reference configuration).
options_ok() {
	local what=$1
	shift
	run_popfetch "$@" -c "$T/cfg/popfetch.yaml" --check-config
	expect_rc 0 "$what: popfetch $*"
}

note "crontab"
mapfile -t lines < <(active "$EX/crontab")
assert_eq 1 "${#lines[@]}" "command lines in the crontab example"
read -r -a f <<<"${lines[0]}"
[ "${#f[@]}" -ge 6 ] || fail "crontab: fewer than 6 fields: ${lines[0]}"
for i in 0 1 2 3 4; do
	[[ ${f[i]} =~ ^([0-9]+|\*)(-[0-9]+)?(/[0-9]+)?(,([0-9]+|\*)(-[0-9]+)?(/[0-9]+)?)*$ ]] ||
		fail "crontab: time field $((i + 1)) '${f[i]}' is not a cron time field"
done
case ${f[5]} in /*) ;; *) fail "crontab: '${f[5]}' is not an absolute path" ;; esac
[ -z "$BIN" ] || assert_eq "$BIN" "${f[5]}" "crontab: the installed popfetch"
options_ok crontab "${f[@]:6}"

for kind in user system; do
	unit=$EX/systemd/$kind/popfetch.service
	note "systemd $kind units: ExecStart"
	exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
	read -r -a f <<<"$exec_line"
	[ -z "$BIN" ] || assert_eq "$BIN" "${f[0]}" "$kind unit: ExecStart's popfetch"
	args=()
	for ((i = 1; i < ${#f[@]}; i++)); do
		if [ "${f[i]}" = -c ]; then
			i=$((i + 1)) # the configuration: the test's copy is used
		else
			args+=("${f[i]}")
		fi
	done
	options_ok "$kind unit" "${args[@]}"
	if [ "$kind" = system ]; then
		assert_grep '^ExecStart=.* -c /etc/popfetch/config\.yaml' "$unit" "system unit's configuration"
		assert_grep '^state_dir: /var/lib/popfetch|^  state_dir: /var/lib/popfetch' "$EX/system.yaml" "system.yaml's state_dir"
		assert_grep '^StateDirectory=popfetch$' "$unit" "system unit's StateDirectory"
		for p in $(active "$EX/system.yaml" | sed -n -E 's/^[[:space:]-]*(maildir|mbox):[[:space:]]*//p'); do
			rw=no
			for w in $(sed -n 's/^ReadWritePaths=//p' "$unit"); do
				case $p/ in "${w%/}"/*) rw=yes ;; esac
			done
			assert_eq yes "$rw" "system unit: $p under ReadWritePaths="
		done
	fi
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
	note "systemd-analyze not installed: the units are not verified"
else
	mkdir -p "$T/run" "$T/units/probe"
	chmod 700 "$T/run"
	printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$T/units/probe/probe.service"
	if ! (cd "$T/units/probe" && systemd-analyze verify --man=no ./probe.service) >"$T/probe.out" 2>&1; then
		cat "$T/probe.out" >&2
		note "systemd-analyze cannot verify a trivial unit here: the units are not verified"
	else
		for kind in system user; do
			note "systemd-analyze verify ($kind)"
			mkdir -p "$T/units/$kind"
			for u in popfetch.service popfetch.timer; do
				sed "s#^ExecStart=[^ ]*#ExecStart=$POPFETCH#" \
					"$EX/systemd/$kind/$u" >"$T/units/$kind/$u"
			done
			mode=()
			[ "$kind" = user ] && mode=(--user)
			rc=0
			(cd "$T/units/$kind" && XDG_RUNTIME_DIR=$T/run \
				systemd-analyze "${mode[@]}" verify --man=no \
				./popfetch.service ./popfetch.timer) >"$T/verify.out" 2>&1 || rc=$?
			if [ "$rc" -ne 0 ] || [ -s "$T/verify.out" ]; then
				cat "$T/verify.out" >&2
				fail "systemd-analyze verify of the $kind units: exit $rc, output above"
			fi
		done
	fi
fi
note "ok"
