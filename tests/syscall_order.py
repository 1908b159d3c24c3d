#!/usr/bin/env python3
"""syscall_order.py - check from an strace log that popfetch made what it
relies on durable before it relied on it.

A power cut cannot be simulated in a test, but the order of the system
calls that would survive one can be checked.  The log comes from

  strace -f -s 1000000 -e trace=openat,open,close,mkdir,mkdirat,fsync,\
fdatasync,write,rename,renameat,renameat2,link,linkat -o LOG popfetch ...

Usage:
  syscall_order.py recover LOG JOURNAL MAILDIR JOURNAL_BEFORE EXPECT
      The run recovered a Maildir batch a crash left open.  JOURNAL_BEFORE
      is a copy of the journal as the crash left it (its last batch's
      "T uidl name" intents).  For every message the run records as
      stored while recovering (the S records of the first journal write
      that holds any), its file (MAILDIR/new/NAME, or MAILDIR/cur/NAME:2,..
      where a reader moved it) and the directory holding it must each be
      fsynced before that write.  EXPECT: how many such messages there
      must be.
  syscall_order.py batch LOG JOURNAL MAILDIR EXPECT
      Ordinary Maildir batches.  For every message a batch records as
      stored (the S records of the journal write that commits it, named
      by the batch's "T uidl name" intents): its file MAILDIR/tmp/NAME
      is fsynced before it is linked or renamed to MAILDIR/new/NAME (data
      synced before its name is in new/), and MAILDIR/new is fsynced
      after that and before the S record.  Batched: no file of a batch is
      fsynced before the last write of the batch's files, and new/ is
      fsynced exactly once per batch.  EXPECT: how many S records.
  syscall_order.py create LOG JOURNAL ROOT [FILE...]
      A first run: every directory created under ROOT must be followed by
      an fsync of its parent, and the creation of the journal (and of
      each FILE, e.g. an mbox) by an fsync of its directory, all before
      the first journal record after the format line is written.

Prints one line saying what was checked; exits 1 with one line per
problem on stderr.
"""
import os
import re
import sys

LINE_RE = re.compile(r"^(\d+)\s+(.*)$")
CALL_RE = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)")
STR_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')
ESC = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "\\": "\\",
       '"': '"'}


def unescape(s):
    """strace's C-style string escapes -> bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif n in "01234567":
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xFF)
            i = j
        else:
            out += ESC.get(n, n).encode()
            i += 2
    return bytes(out)


def calls(log):
    """(index, pid, name, args, ret) per completed system call, in the
    order they completed; unfinished/resumed halves are joined."""
    pending, out = {}, []
    with open(log, encoding="utf-8", errors="surrogateescape") as f:
        for raw in f:
            m = LINE_RE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, rest = int(m.group(1)), m.group(2)
            if rest.endswith("<unfinished ...>"):
                pending[pid] = rest[:-len("<unfinished ...>")].rstrip()
                continue
            r = re.match(r"^<\.\.\. \w+ resumed>\s?(.*)$", rest)
            if r:
                rest = pending.pop(pid, "") + r.group(1)
            c = CALL_RE.match(rest)
            if c:
                ret = c.group(3)
                out.append((len(out), pid, c.group(1), c.group(2),
                            int(ret) if ret != "?" else None))
    return out


class Trace:
    def __init__(self, log, journal):
        self.journal = os.path.normpath(journal)
        self.fsyncs = []        # (index, path)
        self.mkdirs = []        # (index, path)
        self.jwrites = []       # (index, bytes)
        self.creates = {}       # path -> index of its first O_CREAT open
        self.moves = []         # (index, from, to): link or rename
        self.writes = []        # (index, path) of every file write
        fds = {}                # (pid, fd) -> path
        for i, pid, name, args, ret in calls(log):
            strs = STR_RE.findall(args)
            if name in ("open", "openat") and ret is not None and ret >= 0:
                path = os.path.normpath(unescape(strs[0]).decode(
                    "utf-8", "surrogateescape"))
                fds[(pid, ret)] = path
                if "O_CREAT" in args:
                    self.creates.setdefault(path, i)
            elif name == "close":
                fds.pop((pid, int(args.split(",")[0])), None)
            elif name in ("mkdir", "mkdirat") and ret == 0:
                self.mkdirs.append((i, os.path.normpath(unescape(
                    strs[0]).decode("utf-8", "surrogateescape"))))
            elif name in ("fsync", "fdatasync") and ret == 0:
                path = fds.get((pid, int(args.split(",")[0])))
                if path is not None:
                    self.fsyncs.append((i, path))
            elif name in ("link", "linkat", "rename", "renameat",
                          "renameat2") and ret == 0 and len(strs) >= 2:
                self.moves.append((i,) + tuple(os.path.normpath(unescape(
                    x).decode("utf-8", "surrogateescape"))
                    for x in strs[:2]))
            elif name == "write" and ret is not None and ret > 0:
                path = fds.get((pid, int(args.split(",")[0])))
                if path == self.journal:
                    self.jwrites.append((i, unescape(strs[0])))
                elif path is not None:
                    self.writes.append((i, path))

    def synced_between(self, path, after, before):
        return any(after < i < before and p == path for i, p in self.fsyncs)


def journal_intents(path):
    """uidl (escaped, as in the journal) -> name, for the last batch."""
    intents = {}
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            fl = line.split(b" ")
            if fl[0] in (b"B", b"M"):
                intents = {}
            elif fl[0] == b"T" and len(fl) == 3:
                intents[fl[1]] = fl[2].decode("utf-8", "surrogateescape")
    return intents


def check_recover(tr, maildir, before, expect, problems):
    maildir = os.path.normpath(maildir)
    intents = journal_intents(before)
    first = next(((i, d) for i, d in tr.jwrites
                  if re.search(rb"(?m)^S ", d)), None)
    if first is None:
        problems.append("no S record written to %s" % tr.journal)
        return 0
    widx, data = first
    uidls = [l.split(b" ")[2] for l in data.split(b"\n")
             if l.startswith(b"S ") and len(l.split(b" ")) == 3]
    if len(uidls) != expect:
        problems.append("%d message(s) recorded while recovering, expected %d"
                        % (len(uidls), expect))
    for u in uidls:
        name = intents.get(u)
        if name is None:
            problems.append("S record for %r, which has no intent" % u)
            continue
        # Where it was found: the file fsynced, in new/ or cur/.
        files = [p for i, p in tr.fsyncs if i < widx and (
            p == os.path.join(maildir, "new", name) or
            p.startswith(os.path.join(maildir, "cur", name + ":")) or
            p == os.path.join(maildir, "cur", name))]
        if not files:
            problems.append("message %r (%s): its file was not fsynced "
                            "before its S record" % (u, name))
            continue
        d = os.path.dirname(files[0])
        if not tr.synced_between(d, -1, widx):
            problems.append("message %r (%s): %s was not fsynced before "
                            "its S record" % (u, name, d))
    return len(uidls)


def check_batch(tr, maildir, expect, problems):
    maildir = os.path.normpath(maildir)
    new = os.path.join(maildir, "new")
    intents, begun, nrec = {}, None, 0
    for widx, data in tr.jwrites:
        lines = data.split(b"\n")
        if b"B" in lines:
            intents, begun = {}, widx
        for l in lines:
            f = l.split(b" ")
            if f[0] == b"T" and len(f) == 3:
                intents[f[1]] = f[2].decode("utf-8", "surrogateescape")
        uidls = [l.split(b" ")[2] for l in lines
                 if l.startswith(b"S ") and len(l.split(b" ")) >= 3]
        if not uidls or begun is None:
            continue
        names = []
        for u in uidls:
            nrec += 1
            name = intents.get(u)
            if name is None:
                problems.append("S record for %r, which has no intent" % u)
                continue
            names.append(name)
            tmp, dst = os.path.join(maildir, "tmp", name), \
                os.path.join(new, name)
            mv = next((i for i, a, b in tr.moves if a == tmp and b == dst
                       and begun < i < widx), None)
            if mv is None:
                problems.append("%s: not moved to new/ before its S record"
                                % name)
                continue
            if not tr.synced_between(tmp, begun, mv):
                problems.append("%s: in new/ before its data was fsynced"
                                % name)
            if not tr.synced_between(new, mv, widx):
                problems.append("%s: new/ not fsynced between its move and "
                                "its S record" % name)
        tmps = {os.path.join(maildir, "tmp", n) for n in names}
        last = max((i for i, p in tr.writes if p in tmps and begun < i < widx),
                   default=None)
        first = min((i for i, p in tr.fsyncs if p in tmps and begun < i < widx),
                    default=None)
        if last is not None and first is not None and first < last:
            problems.append("batch of %d: a file fsynced before the batch's "
                            "last write (one sync per message, not per "
                            "batch)" % len(names))
        dirs = sum(1 for i, p in tr.fsyncs if p == new and begun < i < widx)
        if dirs != 1:
            problems.append("batch of %d: new/ fsynced %d times, not once"
                            % (len(names), dirs))
        begun = None
    if nrec != expect:
        problems.append("%d S record(s), expected %d" % (nrec, expect))
    return nrec


def check_create(tr, root, files, problems):
    root = os.path.normpath(root)
    first = next((i for i, d in tr.jwrites
                  if not d.startswith(b"popfetch-state ")), None)
    if first is None:
        problems.append("no journal record written to %s" % tr.journal)
        return 0
    made = [(i, p) for i, p in tr.mkdirs
            if p.startswith(root + "/") and i < first]
    for i, p in made:
        if not tr.synced_between(os.path.dirname(p), i, first):
            problems.append("mkdir %s: %s not fsynced before the first "
                            "journal record" % (p, os.path.dirname(p)))
    for f in [tr.journal] + [os.path.normpath(f) for f in files]:
        i = tr.creates.get(f)
        if i is None:
            problems.append("%s was not created by this run" % f)
        elif not tr.synced_between(os.path.dirname(f), i, first):
            problems.append("%s created, %s not fsynced before the first "
                            "journal record" % (f, os.path.dirname(f)))
    return len(made)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("recover", "create",
                                                "batch"):
        sys.exit(__doc__)
    problems = []
    if sys.argv[1] == "batch":
        if len(sys.argv) != 6:
            sys.exit(__doc__)
        log, journal, maildir, expect = sys.argv[2:6]
        tr = Trace(log, journal)
        n = check_batch(tr, maildir, int(expect), problems)
        what = "batch: %d message(s) recorded, %d fsync(s)" % (
            n, len(tr.fsyncs))
    elif sys.argv[1] == "recover":
        if len(sys.argv) != 7:
            sys.exit(__doc__)
        log, journal, maildir, before, expect = sys.argv[2:7]
        n = check_recover(Trace(log, journal), maildir, before,
                          int(expect), problems)
        what = "recover: %d message(s) recorded" % n
    else:
        if len(sys.argv) < 5:
            sys.exit(__doc__)
        log, journal, root = sys.argv[2:5]
        n = check_create(Trace(log, journal), root, sys.argv[5:], problems)
        what = "create: %d directories made" % n
    for p in problems:
        print(p, file=sys.stderr)
    print("%s, %d problem(s)" % (what, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
