# bash completion for popfetch                              -*- shell-script -*-
#
# Options (read from "popfetch --help", so new ones complete without an
# edit here), file names after -c/--config and the options that name a
# file, the modes after --tls, a few counts after -j/--jobs, nothing
# after --shard, commands after --password-command and
# --deliver-command, variables after --password-env, and account names
# after -a/--account and as arguments, read from the configuration the
# command line would use:
# the last -c FILE / --config FILE / --config=FILE before the cursor, else
# $POPFETCH_CONFIG, $XDG_CONFIG_HOME/popfetch/config.yaml,
# ~/.config/popfetch/config.yaml, /etc/popfetch/config.yaml.
#
# Plain bash: the helpers of the bash-completion package are not needed.
# Installed as .../bash-completion/completions/popfetch (loaded on demand),
# or source this file from ~/.bashrc.

# _popfetch_config WORD...: the configuration file popfetch would read
# when run with these words (the words before the cursor).
_popfetch_config()
{
	local cfg="" w i=2
	while [ "$i" -le $# ]; do
		w=${!i}
		case $w in
		-c | --config)
			i=$((i + 1))
			# "--config=FILE" reaches us as three words (COMP_WORDBREAKS).
			[ "$i" -le $# ] && [ "${!i}" = "=" ] && i=$((i + 1))
			[ "$i" -le $# ] && cfg=${!i}
			;;
		--config=*) cfg=${w#--config=} ;;
		-c?*) cfg=${w#-c} ;;
		esac
		i=$((i + 1))
	done
	if [ -z "$cfg" ]; then
		if [ -n "${POPFETCH_CONFIG:-}" ]; then
			cfg=$POPFETCH_CONFIG
		elif [ -n "${XDG_CONFIG_HOME:-}" ] &&
			[ -f "$XDG_CONFIG_HOME/popfetch/config.yaml" ]; then
			cfg=$XDG_CONFIG_HOME/popfetch/config.yaml
		elif [ -f "$HOME/.config/popfetch/config.yaml" ]; then
			cfg=$HOME/.config/popfetch/config.yaml
		else
			cfg=/etc/popfetch/config.yaml
		fi
	fi
	# A file name typed with a leading ~/ (the shell had not expanded it).
	case $cfg in
	"~/"*) cfg=$HOME/${cfg#"~/"} ;;
	esac
	printf '%s\n' "$cfg"
}

# _popfetch_accounts FILE: the account names in FILE, one a line. The
# names popfetch --check-config prints ("account NAME (FILE:L:C)") when the
# file loads; else, for a file with an error, a plain reading of its
# "name:" lines (name is a key of accounts only).
_popfetch_accounts()
{
	local cfg=$1 prog=${_popfetch_prog:-popfetch} out
	[ -r "$cfg" ] || return 0
	if out=$("$prog" -c "$cfg" --check-config 2>/dev/null </dev/null); then
		printf '%s\n' "$out" | sed -n 's/^account \(.*\) ([^()]*:[0-9]*:[0-9]*)$/\1/p'
		return 0
	fi
	sed -n -e '/^[[:space:]-]*name:/!d' \
		-e 's/^[[:space:]-]*name:[[:space:]]*//' \
		-e 's/[[:space:]]#.*$//' -e 's/[[:space:]]*$//' \
		-e "s/^'\\(.*\\)'\$/\\1/" -e 's/^"\(.*\)"$/\1/' \
		-e '/./p' "$cfg"
}

# The long and short options "popfetch --help" lists, else a built-in list.
_popfetch_options()
{
	local prog=${_popfetch_prog:-popfetch} help
	help=$("$prog" --help 2>/dev/null </dev/null)
	if [ -n "$help" ]; then
		printf '%s\n' "$help" | grep -o -E -- '(^|[ ,[])--?[A-Za-z][A-Za-z-]*' |
			sed 's/^[ ,[]*//' | sort -u
	else
		printf '%s\n' -c --config -a --account -v --verbose -q --quiet \
			-j --jobs --shard --dry-run --status --keep --no-keep --refetch \
			--check-config --server-info --version --help \
			--host --port --tls --user --password-env \
			--password-file --password-command --maildir --mbox \
			--deliver-command
	fi
}

_popfetch()
{
	local cur prev words=() IFS=$'\n' _popfetch_prog
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--account=NA" arrives as "--account", "=", "NA": '=' is in
	# COMP_WORDBREAKS.
	if [ "$cur" = "=" ]; then
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	_popfetch_prog=${COMP_WORDS[0]}
	case $_popfetch_prog in
	"~/"*) _popfetch_prog=$HOME/${_popfetch_prog#"~/"} ;;
	esac
	COMPREPLY=()

	case $prev in
	-c | --config | --mbox | --password-file | --summary-file | --metrics-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--maildir)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--tls)
		COMPREPLY=($(compgen -W $'implicit\nstarttls\nnone' -- "$cur"))
		return 0
		;;
	--password-command | --deliver-command)
		COMPREPLY=($(compgen -c -- "$cur"))
		return 0
		;;
	--password-env)
		COMPREPLY=($(compgen -v -- "$cur"))
		return 0
		;;
	--host | --port | --user | --summary | --shard)
		return 0
		;;
	-j | --jobs)
		COMPREPLY=($(compgen -W $'0\n1\n2\n4\n8' -- "$cur"))
		return 0
		;;
	-a | --account)
		words=($(_popfetch_accounts "$(_popfetch_config "${COMP_WORDS[@]:0:COMP_CWORD}")"))
		COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
		return 0
		;;
	esac
	case $cur in
	-*)
		words=($(_popfetch_options))
		COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
		return 0
		;;
	esac
	# An argument: an account name (popfetch NAME... is -a NAME...).
	words=($(_popfetch_accounts "$(_popfetch_config "${COMP_WORDS[@]:0:COMP_CWORD}")"))
	COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
	return 0
}
complete -F _popfetch popfetch
