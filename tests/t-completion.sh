#!/bin/bash
# t-completion: completions/popfetch.bash, driven through COMP_WORDS and
# COMP_CWORD as bash drives it, without the bash-completion package's
# helpers (and once more with them loaded, when that package is installed):
#  - options from popfetch --help (--ch -> --check-config; "-" lists -a,
#    --account, --config, --status);
#  - -a <TAB> lists the accounts of the configuration popfetch would read:
#    the -c FILE / --config FILE / --config=FILE earlier on the line, else
#    $POPFETCH_CONFIG, else ~/.config/popfetch/config.yaml; a prefix
#    narrows the list; --account=<TAB> likewise;
#  - a file with an error (popfetch --check-config refuses it) still gives
#    its names, read from its "name:" lines (quotes and comments removed);
#  - -c <TAB> completes file names, and so do --mbox and the other
#    options that name a file;
#  - an argument completes as an account name (popfetch NAME... is
#    -a NAME...); --tls <TAB> gives the modes; the one-shot options are
#    among the options.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-completion
trap t_cleanup EXIT

COMPLETION=$TOP_SRCDIR/completions/popfetch.bash
[ -f "$COMPLETION" ] || fail "$COMPLETION missing"
export HOME=$T/home
unset XDG_CONFIG_HOME POPFETCH_CONFIG
mkdir -p "$HOME/.config/popfetch"

# conf FILE NAME...: a valid configuration with these accounts.
conf() {
	local f=$1 n
	shift
	{
		echo "defaults:"
		echo "  state_dir: $T/state"
		echo "accounts:"
		for n in "$@"; do
			echo "  - name: $n"
			echo "    host: pop.example.org"
			echo "    user: $n"
			echo "    password_command: [/bin/echo, x]"
			echo "    maildir: $T/Maildir-$n"
		done
	} | config_write "$f"
}
conf "$T/a.yaml" work work-old home
conf "$T/b.yaml" other1 other2
conf "$HOME/.config/popfetch/config.yaml" mine
cat >"$T/broken.yaml" <<'YAML'
accounts:
  - name: 'quoted1'   # a comment
    host: pop.example.org
    kep: false
  -   name: "quoted2"
YAML

# complete WORD...: run the completion for the command line WORD...,
# the cursor in the last word; COMPREPLY, sorted, one a line, in $T/got.
complete_line() {
	local -a COMP_WORDS=("$@") COMPREPLY=()
	local COMP_CWORD=$(($# - 1))
	local COMP_LINE="$*"
	local COMP_POINT=${#COMP_LINE}
	_popfetch popfetch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort >"$T/got"
}

# expect WANT... -- WORD...: the completions of WORD... are exactly WANT.
expect() {
	local want=() words=()
	while [ "$1" != -- ]; do want+=("$1"); shift; done
	shift
	words=("$@")
	complete_line "${words[@]}"
	printf '%s\n' "${want[@]}" | sed '/^$/d' | sort >"$T/want"
	if ! cmp -s "$T/want" "$T/got"; then
		printf 'line: %s\n--- want:\n' "${words[*]}" >&2
		cat "$T/want" >&2
		printf -- '--- got:\n' >&2
		cat "$T/got" >&2
		fail "completion of '${words[*]}' (${PASS_NAME})"
	fi
}

# expect_has WANT... -- WORD...: the completions include each WANT.
expect_has() {
	local want=() w
	while [ "$1" != -- ]; do want+=("$1"); shift; done
	shift
	complete_line "$@"
	for w in "${want[@]}"; do
		grep -qxF -- "$w" "$T/got" || {
			cat "$T/got" >&2
			fail "completion of '$*' lacks $w (${PASS_NAME})"
		}
	done
}

checks() {
	note "$PASS_NAME: options"
	expect --check-config -- "$POPFETCH" --ch
	expect_has -a --account -c --config --status --dry-run -- "$POPFETCH" -
	expect --no-keep -- "$POPFETCH" -v --no
	expect --shard -- "$POPFETCH" --sh
	note "$PASS_NAME: nothing after --shard (K/N is the user's)"
	expect -- "$POPFETCH" -c "$T/a.yaml" --shard ""
	expect -- "$POPFETCH" -c "$T/a.yaml" --shard = ""
	note "$PASS_NAME: -a NAME from -c FILE"
	expect work work-old -- "$POPFETCH" -c "$T/a.yaml" -a wo
	expect work work-old home -- "$POPFETCH" -c "$T/a.yaml" -v -a ""
	expect other1 other2 -- "$POPFETCH" --config "$T/b.yaml" --account ""
	# --config=FILE --account=o: bash splits at '=' (COMP_WORDBREAKS).
	expect other1 other2 -- "$POPFETCH" --config = "$T/b.yaml" --account = o
	expect other1 other2 -- "$POPFETCH" --config = "$T/b.yaml" --account =
	# The last -c before the cursor counts.
	expect home -- "$POPFETCH" -c "$T/b.yaml" -c "$T/a.yaml" -a h
	note "$PASS_NAME: -a NAME from POPFETCH_CONFIG, then ~/.config"
	POPFETCH_CONFIG=$T/b.yaml expect other2 -- "$POPFETCH" -a other2
	expect mine -- "$POPFETCH" -a ""
	note "$PASS_NAME: a file popfetch refuses still gives its names"
	expect quoted1 quoted2 -- "$POPFETCH" -c "$T/broken.yaml" -a ""
	note "$PASS_NAME: nothing for a file that does not exist"
	expect -- "$POPFETCH" -c "$T/none.yaml" -a ""
	note "$PASS_NAME: -c FILE"
	expect "$T/a.yaml" -- "$POPFETCH" -c "$T/a.y"
	note "$PASS_NAME: account names as arguments"
	expect work work-old -- "$POPFETCH" -c "$T/a.yaml" wo
	expect work work-old home -- "$POPFETCH" -c "$T/a.yaml" work ""
	note "$PASS_NAME: one-shot options"
	expect_has --host --port --tls --user --password-env --password-file \
		--password-command --maildir --mbox --deliver-command -- "$POPFETCH" --
	expect starttls -- "$POPFETCH" --host h --tls s
	expect "$T/a.yaml" -- "$POPFETCH" --host h --mbox "$T/a.y"
	expect -- "$POPFETCH" --host ""
}

# The broken file must really be refused, or the fallback goes untested.
run_popfetch -c "$T/broken.yaml" --check-config
expect_rc 78 "--check-config on the broken file"

PASS_NAME="plain bash"
# shellcheck source=/dev/null
. "$COMPLETION"
complete -p popfetch >/dev/null 2>&1 || fail "the script did not register a completion for popfetch"
checks

bc=
for f in /usr/share/bash-completion/bash_completion /etc/bash_completion; do
	[ -f "$f" ] && { bc=$f; break; }
done
if [ -n "$bc" ]; then
	PASS_NAME="with $bc"
	set +u
	# shellcheck source=/dev/null
	. "$bc" >/dev/null 2>&1
	. "$COMPLETION"
	set -u
	checks
else
	note "bash-completion not installed: checked without its helpers only (the script needs none)"
fi
note "ok"
