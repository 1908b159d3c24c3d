#!/usr/bin/env bash
# quickstart.sh - see popfetch work, start to finish, on this machine.
#
# Installs missing Debian/Ubuntu packages (when root; otherwise prints the
# apt-get command), builds popfetch, starts a private Dovecot on free
# loopback ports with a few sample messages, writes a demo configuration,
# runs popfetch on it and shows what was stored where. Everything lives in
# ./demo; nothing else on the machine is touched. Safe to run again.
set -u
cd "$(dirname "$0")" || exit 1
. build-aux/setup.sh

setup_packages $SETUP_BUILD_PKGS $SETUP_TEST_PKGS || exit 1
setup_build || exit 1

TOP_SRCDIR=$PWD TOP_BUILDDIR=$PWD POPFETCH=$PWD/popfetch
export TOP_SRCDIR TOP_BUILDDIR POPFETCH
. tests/lib.sh

demo=$PWD/demo
rm -rf "$demo/Maildir" "$demo/state" "$demo/messages"
mkdir -p "$demo/messages" || exit 1

setup_say "starting a private Dovecot in $demo/dovecot"
dovecot_start "$demo/dovecot" || {
	echo "could not start Dovecot; its log: $demo/dovecot/dovecot.log" >&2
	exit 1
}
trap dovecot_stop EXIT

# A fresh server mailbox with three sample messages.
rm -f "$DOVECOT_MAILDIR"/new/* "$DOVECOT_MAILDIR"/cur/* 2>/dev/null
for i in 1 2 3; do
	cat >"$demo/messages/$i.eml" <<MSG
From: Sample Sender <sender@example.org>
To: $DOVECOT_USER@example.org
Subject: popfetch demo message $i
Date: $(date -R)
Message-ID: <demo-$i@example.org>

Hello! This is sample message $i, served by a private Dovecot on
127.0.0.1:$DOVECOT_POP3S_PORT over POP3S and stored by popfetch.
MSG
	dovecot_add_message "$demo/messages/$i.eml" || exit 1
done

cat >"$demo/popfetch.yaml" <<CFG
# popfetch demo configuration (written by quickstart.sh)
defaults:
  state_dir: $demo/state
accounts:
  - name: demo
    host: 127.0.0.1
    port: $DOVECOT_POP3S_PORT
    tls: implicit
    ca_file: $DOVECOT_CA
    user: $DOVECOT_USER
    password_env: DEMO_PASSWORD
    maildir: $demo/Maildir
    keep: true
CFG
export DEMO_PASSWORD=$DOVECOT_PASS

setup_say "the configuration, as popfetch sees it"
./popfetch -c "$demo/popfetch.yaml" --check-config || exit 1

setup_say "running: ./popfetch -c demo/popfetch.yaml -v"
./popfetch -c "$demo/popfetch.yaml" -v
rc=$?
echo "(exit status $rc)"
[ $rc -eq 0 ] || exit $rc

setup_say "what was stored where"
echo "Maildir $demo/Maildir/new:"
ls -l "$demo/Maildir/new"
first=$(ls "$demo/Maildir/new" | head -n 1)
echo
echo "--- $first ---"
cat "$demo/Maildir/new/$first"
echo "---"
echo "State (which UIDLs are stored): $(ls "$demo"/state/*.state)"

setup_say "running again: nothing new on the server, so nothing is stored"
./popfetch -c "$demo/popfetch.yaml" -v
echo "(exit status $?; still $(ls "$demo/Maildir/new" | wc -l) messages)"

setup_say "done. The demo Dovecot is stopped again; everything is in ./demo (run this script again to repeat)"
