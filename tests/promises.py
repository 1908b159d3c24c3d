#!/usr/bin/env python3
"""promises.py - check popfetch's promises after a run against fakepop3.py.

Usage: promises.py [options] maildir|mbox STORE STATEFILE FAKESTATE

Compares the store (a Maildir or an mbox) and popfetch's state journal
with what the fake server held (FAKESTATE, its --state file: the messages
left and deleted, each with the SHA-1 of the bytes a client should store).
Prints "lost N dup N" and exits 1 (after one line per problem on stderr)
when:
  lost     a message the server deleted is not in the store;
  dup      a message is stored more often than the server ever had it;
  partial  a stored message (or mbox part) is none of the server's
           messages, or Maildir tmp/ holds a file;
  state    the journal lists a UIDL of which no copy is stored (a later
           run would DELE it unstored), or (unless --no-uidl) a stored
           message still on the server is missing from the journal (a
           later run would store it again).  S records inside a batch
           (B or M ... C) count only when the batch's C follows.
Options:
  --settle SECS   first wait until every connection the server accepted
                  has ended (it writes FAKESTATE a moment after the client
                  has gone)
  --dele-log LOG  every "DELE N" in the server's command log LOG names a
                  stored message (N = the message's place in the original
                  mailbox: valid for a log of first sessions)
  --complete keep|delete   every message is stored exactly once and, for
                  delete, none is left on the server
  --no-uidl       the server has no UIDL: skip the journal checks
"""
import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter

FROM_RE = re.compile(rb"(?m)^From [^\n]*\n")
QUOTE_RE = re.compile(rb"(?m)^>(>*From )")


def sha1(b):
    return hashlib.sha1(b).hexdigest()


def read_store(kind, path, problems):
    items = []
    if kind == "maildir":
        for sub in ("new", "cur"):
            d = os.path.join(path, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        items.append(sha1(f.read()))
        t = os.path.join(path, "tmp")
        if os.path.isdir(t) and os.listdir(t):
            problems.append("partial: Maildir tmp/ holds %s" % os.listdir(t))
        return items
    data = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    if data and not data.startswith(b"From "):
        problems.append("partial: the mbox does not start with a From line: %r"
                        % data[:60])
    for p in FROM_RE.split(data)[1:]:
        if not p.endswith(b"\n\n") and p != b"\n":
            problems.append("partial: an mbox message does not end in an "
                            "empty line: %r" % p[-60:])
        items.append(sha1(QUOTE_RE.sub(rb"\1", p[:-1])))
    return items


def read_journal(path, problems):
    journal = set()
    if not os.path.exists(path):
        return journal
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[0] != b"popfetch-state 1":
        problems.append("state: first line is %r" % lines[0])
    unesc = lambda t: re.sub(rb"%([0-9A-Fa-f]{2})",
                             lambda m: bytes([int(m.group(1), 16)]), t)
    prov, inbatch = [], False
    for l in lines[1:]:
        fl = l.split(b" ")
        if fl[0] in (b"B", b"M"):
            inbatch, prov = True, []
        elif fl[0] == b"C":
            journal.update(prov)
            inbatch, prov = False, []
        elif fl[0] == b"S" and len(fl) >= 3:
            (prov if inbatch else journal).add(unesc(fl[2]))
    return journal


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["maildir", "mbox"])
    ap.add_argument("store")
    ap.add_argument("statefile")
    ap.add_argument("fakestate")
    ap.add_argument("--settle", type=float, default=0)
    ap.add_argument("--dele-log")
    ap.add_argument("--complete", choices=["keep", "delete"])
    ap.add_argument("--no-uidl", action="store_true")
    a = ap.parse_args()

    end = time.monotonic() + a.settle
    while True:
        try:
            with open(a.fakestate) as f:
                st = json.load(f)
            if not a.settle or st.get("ended", 0) >= st.get("connections", 0):
                break
        except (OSError, ValueError):
            pass
        if time.monotonic() > end:
            print("the fake server's sessions did not end", file=sys.stderr)
            print("lost ? dup ?")
            sys.exit(1)
        time.sleep(0.03)

    left, gone = st["messages"], st.get("deleted_msgs", [])
    key = "sha1" if a.kind == "maildir" else "sha1nl"
    problems = []
    items = read_store(a.kind, a.store, problems)
    have = Counter(items)
    known = Counter(m[key] for m in left + gone)
    for h, n in have.items():
        if h not in known:
            problems.append("partial: %d stored message(s) match none of the "
                            "server's (sha1 %s)" % (n, h[:12]))
    dup = sum(max(0, n - known[h]) for h, n in have.items() if h in known)
    if dup:
        problems.append("dup: %d message(s) stored more than once" % dup)
    lost = 0
    for h, n in Counter(m[key] for m in gone).items():
        if have.get(h, 0) < n:
            lost += n - have.get(h, 0)
            problems.append("lost: %s deleted by the server, not stored"
                            % [m["uidl"] for m in gone if m[key] == h])

    if not a.no_uidl:
        journal = read_journal(a.statefile, problems)
        enc = lambda u: u.encode("utf-8", "surrogateescape")
        stored = set(enc(m["uidl"]) for m in left + gone if have.get(m[key], 0))
        for u in sorted(journal - stored):
            problems.append("state: lists UIDL %r, of which no copy is stored" % u)
        for m in left:
            if have.get(m[key], 0) and enc(m["uidl"]) not in journal:
                problems.append("state: stored message %r (still on the "
                                "server) is not in the journal" % m["uidl"])

    if a.dele_log:
        by_n = {m["n"]: m for m in left + gone}
        bad = []
        with open(a.dele_log, "rb") as f:
            for l in f:
                m = re.match(rb"DELE (\d+)\r?\n?$", l)
                if m and int(m.group(1)) in by_n and \
                        not have.get(by_n[int(m.group(1))][key]):
                    bad.append(int(m.group(1)))
        if bad:
            problems.append("DELE sent for unstored message(s) %s" % bad)

    if a.complete:
        if len(items) != len(left) + len(gone):
            problems.append("incomplete: %d message(s) stored, the server had %d"
                            % (len(items), len(left) + len(gone)))
        if a.complete == "delete" and left:
            problems.append("incomplete: left on the server: %s"
                            % [m["uidl"] for m in left])

    for p in problems:
        print(p, file=sys.stderr)
    print("lost %d dup %d" % (lost, dup))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
