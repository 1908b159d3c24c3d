#!/usr/bin/env python3
"""bench/mailbox.py - the mailboxes of `make bench`.

  mailbox.py generate DIR KIND COUNT [--seed N] [--size BYTES] [--first K]
      Write COUNT deterministic messages DIR/mNNNNNN (numbered from K,
      default 1) and append "sha1 name" lines to DIR/sums. KIND "small":
      about BYTES (default 4096) bytes each, realistic headers (Received
      chain, Date, From, To, Subject, Message-ID, MIME), some 8-bit
      (UTF-8 and Latin-1 bodies, an encoded or raw 8-bit Subject), body
      lines starting with "From ", ">From ", "." and "..", a lone "."
      line. KIND "big": exactly BYTES each (default 10 MiB), the same line
      mix all through. Same seed, same bytes, on every machine (the
      generator is Python's random.Random, which is stable across
      versions for these calls). LF line ends; no message starts with a
      dot (Dovecot 2.3 does not dot-stuff the first line).
  mailbox.py deliver MAILDIR DIR... [--uid U --gid G]
      Deliver every message of each DIR (sorted names) into MAILDIR/new
      (via tmp/), in order, each under a unique name, owned by U:G.
  mailbox.py clear MAILDIR
      Empty the server's mailbox: new/, cur/, tmp/ and Dovecot's index
      files (dovecot.index*, dovecot-uidlist), only while no session runs.
  mailbox.py count MAILDIR
      Print the number of messages in new/ and cur/.
  mailbox.py verify STORE DIR...
      STORE (a Maildir) holds exactly the messages of the DIRs as a
      multiset (each expected message, CRLF turned into LF, once; nothing
      else) and tmp/ is empty. Compares SHA-1s; on failure prints what is
      missing and what is unexpected, and exits 1.
"""
import hashlib
import os
import random
import shutil
import sys
import time

WORDS = ("the of and to in is that for it as was with be by on not he this "
         "are or his from at which but have an they you were her she there "
         "one all we their can has been if more when will would who so no "
         "mailbox server message fetch store journal batch sync delivery "
         "account timeout network latency window queue reply header body "
         "report invoice meeting schedule quarterly budget review draft").split()
EIGHT_BIT = ["Grüße aus Köln, schöne Tage.", "Ça coûte 12 € — très cher.",
             "Добрый день, коллеги.", "日本語のテキストです。",
             "Smörgåsbord för alla på fredag.", "Zażółć gęślą jaźń."]
NAMES = ["Alice Example", "Bob Sender", "Carol Jones", "Dave Smith",
         "Erin Müller", "Frank O'Brien", "Grace Hopper", "Heidi Klum"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def sentence(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))


def addr(name):
    return name.split()[0].lower().replace("'", "") + "@example.org"


def headers(rng, i, eight_bit):
    d = rng.randint(1, 28)
    date = "%s, %d %s 2026 %02d:%02d:%02d +0000" % (
        DAYS[(i + d) % 7], d, MONTHS[i % 12], rng.randint(0, 23),
        rng.randint(0, 59), rng.randint(0, 59))
    sender = rng.choice(NAMES)
    h = []
    h.append("Return-Path: <%s>" % addr(sender))
    for hop in range(rng.randint(1, 3)):
        h.append("Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\n"
                 "\tby mail.example.net (Postfix) with ESMTPS id %08X%d\n"
                 "\tfor <alice@example.net>; %s"
                 % (hop, hop, rng.randint(1, 254), rng.getrandbits(32), i, date))
    h.append("Date: %s" % date)
    h.append("From: %s <%s>" % (sender, addr(sender)))
    h.append("To: Alice <alice@example.net>")
    subj = sentence(rng)[:60]
    if eight_bit == 2:
        subj = "Raw 8-bit: " + rng.choice(EIGHT_BIT)
    elif eight_bit == 1:
        subj = "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= " + subj
    h.append("Subject: %s #%d" % (subj, i))
    h.append("Message-ID: <bench-%d-%08x@example.org>" % (i, rng.getrandbits(32)))
    h.append("MIME-Version: 1.0")
    if eight_bit:
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: 8bit")
    else:
        h.append("Content-Type: text/plain; charset=us-ascii")
        h.append("Content-Transfer-Encoding: 7bit")
    return "\n".join(h) + "\n\n"


def body_line(rng, eight_bit):
    """One body line; every few lines one that POP3 or mbox must quote."""
    r = rng.random()
    if r < 0.03:
        return "From the desk of %s: %s" % (rng.choice(NAMES), sentence(rng))
    if r < 0.05:
        return ">From an earlier mail, " + sentence(rng)
    if r < 0.07:
        return "." + sentence(rng)
    if r < 0.08:
        return ".. " + sentence(rng)
    if r < 0.085:
        return "."
    if r < 0.10:
        return ""
    if eight_bit and r < 0.25:
        return rng.choice(EIGHT_BIT) + " " + sentence(rng)
    return sentence(rng).capitalize() + "."


def small(rng, i, size):
    # 0: ASCII, 1: 8-bit body and an encoded-word Subject, 2: 8-bit body
    # and a raw 8-bit Subject, 3: a Latin-1 body.
    eight_bit = rng.choice((0, 0, 0, 1, 2, 3))
    head = headers(rng, i, min(eight_bit, 2))
    enc = "latin-1" if eight_bit == 3 else "utf-8"
    if eight_bit == 3:
        head = head.replace("charset=utf-8", "charset=iso-8859-1")
    out = head.encode("utf-8")
    lines = []
    n = len(out)
    while n < size - 80:
        line = body_line(rng, eight_bit)
        if eight_bit == 3:
            line = line.encode("utf-8").decode("ascii", "ignore") + " caf\u00e9 na\u00efve"
        b = (line + "\n").encode(enc, "replace")
        lines.append(b)
        n += len(b)
    lines.append(b"-- \nsent by bench message %d\n" % i)
    return out + b"".join(lines)


def big(rng, i, size):
    """The message's bytes in pieces (a 1 GB one is never in memory)."""
    head = ("From: Big Sender <big@example.org>\nTo: Alice <alice@example.net>\n"
            "Subject: big message %d\nMessage-ID: <big-%d-%08x@example.org>\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0000\n\n"
            % (i, i, rng.getrandbits(32))).encode()
    # A block of varied lines, repeated with a changing line number: fast
    # to make, and still every kind of line all through the message.
    block = []
    for k in range(200):
        block.append(body_line(rng, 1).encode("utf-8"))
    out = [head]
    n = len(head)
    k = 0
    # The text is cut at size - 1 bytes and ends with a newline.
    while n < size - 1:
        line = b"%07d " % k + block[k % len(block)] + b"\n"
        if k % 97 == 5:
            line = b"From line %d\n" % k
        elif k % 89 == 7:
            line = b".dot line %d\n" % k
        elif k % 211 == 9:
            line = b".\n"
        line = line[:size - 1 - n]
        out.append(line)
        n += len(line)
        k += 1
        if len(out) >= 4096:
            yield b"".join(out)
            out = []
    out.append(b"\n")
    yield b"".join(out)


def generate(args):
    d, kind, count = args[0], args[1], int(args[2])
    opts = dict(zip(args[3::2], args[4::2]))
    seed = int(opts.get("--seed", "9"))
    first = int(opts.get("--first", "1"))
    size = int(opts.get("--size", "4096" if kind == "small" else str(10 << 20)))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "sums"), "a") as sums:
        for i in range(first, first + count):
            rng = random.Random("%d/%s/%d/%d" % (seed, kind, size, i))
            parts = [small(rng, i, size)] if kind == "small" else big(rng, i, size)
            name = "m%06d" % i
            # What a store must hold: the bytes with CRLF turned into LF;
            # the generator writes LF only (no CR at all), so that is the
            # bytes themselves.
            h = hashlib.sha1()
            with open(os.path.join(d, name), "wb") as f:
                for data in parts:
                    assert b"\r" not in data
                    f.write(data)
                    h.update(data)
            sums.write("%s %s\n" % (h.hexdigest(), name))


def messages(dirs):
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if name.startswith("m"):
                yield os.path.join(d, name)


_seq = [0]


def deliver(args):
    md, rest = args[0], args[1:]
    uid = gid = None
    if "--uid" in rest:
        k = rest.index("--uid")
        uid = int(rest[k + 1])
        del rest[k:k + 2]
    if "--gid" in rest:
        k = rest.index("--gid")
        gid = int(rest[k + 1])
        del rest[k:k + 2]
    base = "%d.M%%06dP%d.bench" % (int(time.time()), os.getpid())
    for path in messages(rest):
        _seq[0] += 1
        name = base % _seq[0]
        tmp = os.path.join(md, "tmp", name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(path, "rb") as src, os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(src, f, 1 << 20)
        if uid is not None:
            os.chown(tmp, uid, gid if gid is not None else -1)
        os.rename(tmp, os.path.join(md, "new", name))


def clear(args):
    md = args[0]
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(md, sub)
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
    for name in os.listdir(md):
        if name.startswith("dovecot.index") or name.startswith("dovecot-uidlist"):
            os.unlink(os.path.join(md, name))


def stored(md):
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            for name in os.listdir(d):
                yield os.path.join(d, name)


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for data in iter(lambda: f.read(1 << 20), b""):
            h.update(data)
    return h.hexdigest()


def count(args):
    print(sum(1 for _ in stored(args[0])))


def verify(args):
    md, dirs = args[0], args[1:]
    want = {}
    for d in dirs:
        with open(os.path.join(d, "sums")) as f:
            for line in f:
                h, name = line.split()
                want.setdefault(h, []).append(name)
    got = {}
    for p in stored(md):
        h = sha1_file(p)
        got.setdefault(h, []).append(p)
    problems = []
    tmp = os.path.join(md, "tmp")
    if os.path.isdir(tmp) and os.listdir(tmp):
        problems.append("tmp/ not empty: %d file(s)" % len(os.listdir(tmp)))
    for h, names in want.items():
        n = len(got.get(h, []))
        if n != len(names):
            problems.append("%s (sha1 %s): stored %d time(s), expected %d"
                            % (names[0], h[:12], n, len(names)))
    for h, paths in got.items():
        if h not in want:
            problems.append("unexpected stored file %s (sha1 %s)" % (paths[0], h[:12]))
    if problems:
        nwant = sum(len(v) for v in want.values())
        ngot = sum(len(v) for v in got.values())
        print("verify %s: %d stored, %d expected; %d problem(s):"
              % (md, ngot, nwant, len(problems)), file=sys.stderr)
        for p in problems[:10]:
            print("  " + p, file=sys.stderr)
        sys.exit(1)


def main():
    cmds = {"generate": generate, "deliver": deliver, "clear": clear,
            "count": count, "verify": verify}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
