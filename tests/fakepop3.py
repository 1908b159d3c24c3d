#!/usr/bin/env python3
"""fakepop3.py - a scriptable fake POP3 server for popfetch's tests.

Python 3 standard library only.  It serves one mailbox on 127.0.0.1 (port 0
unless --port is given; the port is written to --port-file), logs every
command line it receives verbatim (PASS argument included) to --log, and
injects faults that a real server will not produce on demand.

Mailbox
  --messages DIR     every regular file in DIR, sorted by name, is a message;
                     its UIDL is the file name
  --scenario FILE    JSON, see below (may also define the messages)
  --state FILE       JSON written at start and after every session: the
                     messages left on the server, the UIDLs deleted so far,
                     the number of connections served and ended; for each
                     message left ("messages") and deleted ("deleted_msgs")
                     also "n" (its place in the original mailbox, 1-based)
                     and "sha1"/"sha1nl": the SHA-1 of the bytes a client
                     should store (the wire form without dot-stuffing and
                     without an added final CRLF, CRLF -> LF), and of
                     those with a final LF added if missing (as in an
                     mbox; an empty message stays empty)
  --load-state       if --state exists at start, serve only the messages
                     it lists as remaining (to restart a server "in place")

Messages are stored with LF or CRLF line ends; on the wire every line ends
in CRLF and lines starting with "." are dot-stuffed (the first line too).
A message not ending in a newline gets a CRLF added on the wire, and the
octet count (LIST, "+OK n octets") is that of the CRLF form without the
added CRLF - the way Dovecot does it.

Scenario file (every key optional):
  {
    "user": "alice", "password": "secret",
    "token": "tok-1",                  # the bearer token XOAUTH2 and
                                       # OAUTHBEARER accept (default: none)
    "greeting": "fakepop3 ready",      # text after "+OK "
    "apop": false,                     # true: add an APOP <timestamp> to
                                       # it and accept APOP; "greeting":
                                       # the timestamp only, APOP -> -ERR
    "capa": ["TOP", "UIDL", "RESP-CODES", "USER"],   # null: CAPA -> -ERR
    "uidl": true,                      # false: UIDL -> -ERR, not in CAPA
    "sasl": ["PLAIN"],                 # AUTH mechanisms offered, any of
                                       # PLAIN LOGIN CRAM-MD5 XOAUTH2
                                       # OAUTHBEARER (others -> -ERR)
    "messages": [
      {"file": "path"} | {"data": "text"} | {"data_b64": "..."},
      # optional: "uidl": "x" (default: file name or "msgN"; duplicates
      #   are allowed), "list_size": N (a lie told by LIST/STAT/RETR),
      #   "retr_size": N (a lie told only by the RETR +OK line),
      #   "unstuffed_first": true (the first line is not dot-stuffed, as
      #   Dovecot 2.3 and Courier send it),
      #   "raw": true (data is already the wire form: sent verbatim, then
      #   ".\\r\\n"), "no_uidl": true (left out of the UIDL listing),
      #   "no_list": true (left out of LIST and STAT, still in UIDL)
    ],
    "faults": [ FAULT, ... ]
  }

A FAULT fires when a command matches "on":
  "on":   "greeting" (before the greeting), "any", a verb ("RETR"), or a
          verb with its argument ("RETR 2", "DELE 3", "LIST 1") - matched
          case-insensitively, arguments compared after splitting on spaces
  "conn": only on this connection (1-based); default every connection
  "times": fire at most this many times in the server's life
  "action":
    "err"      reply "-ERR " + "text" (default "fault injected")
    "reply"    send "text" verbatim (CRLF added to each line)
    "close"    close the connection without replying
    "reset"    close with a TCP RST (SO_LINGER 0)
    "stall"    send nothing for "seconds" (default 3600), then close
    "delay"    wait "seconds", then handle the command normally
    "trickle"  handle the command (or greet) normally, but send the reply
               one byte every "seconds" (default 1) after its first
               "skip" bytes (default 0; "line": after the status line,
               so that only a multi-line reply's body trickles)
    "closeafter"  handle the command normally, then close the connection
               (the client finds it dead before its next command);
               "then": "reset" closes it with a RST instead
    "hugeline" send a line of "bytes" 'x' characters (no CRLF unless
               "crlf": true), then close
    "cut"      (RETR, LIST, UIDL, TOP, CAPA) send the +OK line (for RETR
               with the real octet count) and the first "bytes" bytes of
               the multi-line body, then per "then": "close" (default),
               "reset", "stall" ("seconds"), or "continue" (pause
               "seconds", then send the rest normally: a slow reply)
    "flood"    (RETR, LIST, UIDL) send the reply as usual but, before its
               "." line, extra body lines: RETR "bytes" bytes of them
               (default 50 MB), LIST and UIDL "lines" listing lines
               (default 100000) numbered after the last message; then
               ".": a reply too big, which ends all the same
  "commit": true   with "close"/"reset" on QUIT: apply the DELEs first
Faults are checked in order; the first that matches fires.

SASL: an initial response on the AUTH line is accepted for every mechanism;
without one the server sends "+ " (CRAM-MD5: "+ <base64 challenge>", LOGIN:
"+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6") and reads the response.  Every line the
client sends, continuations included, goes to --log verbatim.  "*" aborts.
XOAUTH2 ("user=U^Aauth=Bearer T^A^A") and OAUTHBEARER ("n,a=U,^Ahost=...^A
port=...^Aauth=Bearer T^A^A") succeed when U is the user and T the token;
otherwise the server sends "+ <base64 JSON error>", reads the client's
(empty or ^A) reply and answers "-ERR [AUTH] ...".

Shorthands (added after the scenario's faults; "@C" limits to connection C):
  --cut-retr N:BYTES[@C]      cut message N's body after BYTES bytes, close
  --delay-greeting SECS[@C]   wait SECS before the greeting
  --err "CMD[:TEXT]"[@C]      reply -ERR TEXT to CMD (e.g. "PASS:[AUTH] no")
  --drop CMD[@C]              close the connection when CMD arrives
  --no-uidl                   UIDL unsupported
  --pipelining                CAPA lists PIPELINING (RFC 2449)
  --utf8                      CAPA lists UTF8; the UTF8 command is accepted
  --watch-early               log "EARLY <command>" when another command
                              has already arrived before this one is
                              answered (a client that did not wait)

Leaks and escapes (for the tests of what popfetch prints):
  --echo-auth        refuse every login, quoting what the client sent:
                     "-ERR [AUTH] wrong password 'PW'" for PASS, and
                     "-ERR [AUTH] wrong password 'PW' (sent 'B64')" for
                     AUTH PLAIN, LOGIN, XOAUTH2, OAUTHBEARER: PW is the
                     password (the token) decoded, B64 the client's last
                     base64 line as received
  --echo-pad N       with --echo-auth: put the base64 of PW and then "A"s
                     before PW, so that PW starts at byte N of the line
                     (a long line that a client cuts inside PW)
  --evil-text WHERE,...  put EVIL (below) into: "greeting" (after the
                     text), "capa" (a capability "X-EVIL" + EVIL), "list"
                     (after the first LIST line's size), "uidl" (the first
                     UIDL line becomes "1" + EVIL), "err" (RETR is
                     answered "-ERR " + EVIL)
  EVIL = ESC ] 0 ; PWNED BEL ESC [ 2 J, U+009B (C2 9B), a lone 9B byte,
  "caf" U+00E9 (C3 A9), DEL

Other options: --user, --pass (default: the scenario's, else
$FAKEPOP3_PASSWORD, else "secret"), --token (default: the scenario's, else
$FAKEPOP3_TOKEN), --apop, --apop-greeting-only, --greeting-pad N (N bytes
of text added to the greeting, before any APOP timestamp: a long
greeting line), --sasl MECH,...,
--tls implicit|starttls with --cert/--key (and --tls-max-version 1.2|1.3;
--client-ca PEM: require a client certificate signed by PEM), --port,
--listen ADDR (instead of 127.0.0.1),
--max-conns N (exit after N connections have ended), --timeout SECS (exit
after SECS in any case; default 120), --idle SECS (close an idle
connection; default 60), -v (trace to stderr).

Locking: while one session is logged in, a second login gets
"-ERR [IN-USE] Mailbox is locked by another session."
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time

CRLF = b"\r\n"
# Terminal escapes (an OSC title, a CSI clear screen, the C1 CSI as UTF-8
# and as a lone byte), printable UTF-8 and DEL: see --evil-text.
EVIL = b"\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9bcaf\xc3\xa9\x7f"


def to_wire(data):
    """Stored bytes -> (wire body without the final ".", octet count)."""
    lines = data.split(b"\n")
    last = lines.pop()  # b"" when data ends with LF
    out = []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        out.append(line + CRLF)
    octets = sum(len(x) for x in out) + len(last)
    if last:
        out.append(last + CRLF)  # added CRLF, not counted
    body = b"".join(b"." + x if x.startswith(b".") else x for x in out)
    return body, octets


def stored_form(data, raw=False):
    """The bytes a client should store for a message: its wire form
    without dot-stuffing, CRLF -> LF, and without the CRLF a server adds
    to a message lacking a final newline.  raw: data is the wire form."""
    if raw:
        lines = data.split(CRLF)
        tail = lines.pop()  # b"" when data ends with CRLF
        lines = [l[1:] if l.startswith(b"..") else l for l in lines]
        return b"".join(l + b"\n" for l in lines) + tail
    lines = data.split(b"\n")
    last = lines.pop()
    out = [l[:-1] if l.endswith(b"\r") else l for l in lines]
    return b"".join(l + b"\n" for l in out) + last


class Message:
    def __init__(self, data, uidl, spec=None):
        spec = spec or {}
        self.data = data
        self.uidl = uidl
        if spec.get("raw"):
            self.wire = data
            self.octets = len(data)
        else:
            self.wire, self.octets = to_wire(data)
            if spec.get("unstuffed_first") and self.wire.startswith(b".."):
                # As Dovecot 2.3 and Courier: the first line is sent as
                # it is, not dot-stuffed (the octet count is the same).
                self.wire = self.wire[1:]
        self.list_size = spec.get("list_size", self.octets)
        self.retr_size = spec.get("retr_size", self.list_size)
        self.no_uidl = bool(spec.get("no_uidl"))
        self.no_list = bool(spec.get("no_list"))
        self.n = 0  # set by Server.load_messages
        # What a client should store: the unstuffed wire form (CRLF -> LF),
        # without the CRLF the server adds to a message lacking one.
        store = stored_form(data, bool(spec.get("raw")))
        self.sha1 = hashlib.sha1(store).hexdigest()
        self.sha1nl = hashlib.sha1(store if store.endswith(b"\n") or not store
                                   else store + b"\n").hexdigest()


class Server:
    def __init__(self, args, scenario):
        self.args = args
        self.sc = scenario
        self.user = args.user or scenario.get("user", "alice")
        self.password = args.password or scenario.get(
            "password", os.environ.get("FAKEPOP3_PASSWORD") or "secret")
        self.token = args.token or scenario.get(
            "token", os.environ.get("FAKEPOP3_TOKEN") or None)
        self.uidl_ok = scenario.get("uidl", True) and not args.no_uidl
        capa = scenario.get("capa", ["TOP", "UIDL", "RESP-CODES", "USER"])
        if capa is not None:
            capa = [c for c in capa if self.uidl_ok or c.upper() != "UIDL"]
        if capa is not None and args.pipelining:
            capa = capa + ["PIPELINING"]
        if capa is not None and args.utf8:
            capa = capa + ["UTF8"]
        self.capa = capa
        self.sasl = args.sasl.split(",") if args.sasl else scenario.get("sasl", [])
        if args.apop_greeting_only:
            self.apop = "greeting"
        else:
            self.apop = args.apop or scenario.get("apop", False)
        self.greeting = scenario.get("greeting", "fakepop3 ready")
        self.evil = set(args.evil_text.split(",")) if args.evil_text else set()
        if args.greeting_pad:
            pad = "".join("padding%05d " % i for i in range(args.greeting_pad // 13 + 1))
            self.greeting += " " + pad[:args.greeting_pad]
        self.faults = list(scenario.get("faults", []))
        self.fired = {}
        self.lock = threading.Lock()
        self.mailbox = self.load_messages()
        self.deleted = []
        self.deleted_msgs = []
        self.holder = None  # connection number holding the maildrop
        self.nconns = 0
        self.ended = 0
        self.tls_ctx = None
        if args.tls:
            if not (args.cert and args.key):
                sys.exit("fakepop3: --tls needs --cert and --key")
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(args.cert, args.key)
            if args.tls_max_version:
                self.tls_ctx.maximum_version = {
                    "1.2": ssl.TLSVersion.TLSv1_2,
                    "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_max_version]
            if args.client_ca:
                self.tls_ctx.verify_mode = ssl.CERT_REQUIRED
                self.tls_ctx.load_verify_locations(args.client_ca)
        self.logf = open(args.log, "ab", buffering=0) if args.log else None
        if args.load_state and args.state and os.path.exists(args.state):
            with open(args.state) as f:
                st = json.load(f)
            keep = [m["uidl"] for m in st.get("messages", [])]
            self.deleted = list(st.get("deleted", []))
            gone = set(d["n"] for d in st.get("deleted_msgs", []))
            self.deleted_msgs = [m for m in self.mailbox if m.n in gone]
            left = []
            for m in self.mailbox:
                if m.uidl in keep:
                    keep.remove(m.uidl)
                    left.append(m)
            self.mailbox = left
        self.write_state()

    def load_messages(self):
        msgs = []
        if self.args.messages:
            d = self.args.messages
            for name in sorted(os.listdir(d)):
                p = os.path.join(d, name)
                if os.path.isfile(p):
                    with open(p, "rb") as f:
                        msgs.append(Message(f.read(), name))
        base = os.path.dirname(os.path.abspath(self.args.scenario or "."))
        for i, spec in enumerate(self.sc.get("messages", [])):
            if "file" in spec:
                p = os.path.join(base, spec["file"])
                with open(p, "rb") as f:
                    data = f.read()
                uidl = os.path.basename(p)
            elif "data_b64" in spec:
                data = base64.b64decode(spec["data_b64"])
                uidl = "msg%d" % (len(msgs) + 1)
            else:
                data = spec.get("data", "").encode("utf-8", "surrogateescape")
                uidl = "msg%d" % (len(msgs) + 1)
            msgs.append(Message(data, spec.get("uidl", uidl), spec))
        for i, m in enumerate(msgs, 1):
            m.n = i
        return msgs

    def log(self, line):
        if self.logf:
            with self.lock:
                self.logf.write(line + b"\n")

    def trace(self, msg):
        if self.args.verbose:
            sys.stderr.write("fakepop3: %s\n" % msg)
            sys.stderr.flush()

    def write_state(self):
        if not self.args.state:
            return
        desc = lambda m: {"uidl": m.uidl, "size": m.octets, "n": m.n,
                          "sha1": m.sha1, "sha1nl": m.sha1nl}
        st = {
            "messages": [desc(m) for m in self.mailbox],
            "deleted": self.deleted,
            "deleted_msgs": [desc(m) for m in self.deleted_msgs],
            "connections": self.nconns,
            "ended": self.ended,
        }
        tmp = self.args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f, indent=1)
            f.write("\n")
        os.replace(tmp, self.args.state)

    def match_fault(self, conn_no, verb, args):
        """First fault matching this command (verb "GREETING" for the start)."""
        with self.lock:
            for i, fl in enumerate(self.faults):
                on = fl.get("on", "any").split()
                if "conn" in fl and fl["conn"] != conn_no:
                    continue
                if on[0].upper() != "ANY":
                    if on[0].upper() != verb:
                        continue
                    if len(on) > 1 and on[1:] != args[: len(on) - 1]:
                        continue
                elif verb == "GREETING":
                    continue
                if "times" in fl and self.fired.get(i, 0) >= fl["times"]:
                    continue
                self.fired[i] = self.fired.get(i, 0) + 1
                return fl
        return None


class Dropped(Exception):
    pass


class SaslAbort(Exception):
    pass


class Session:
    def __init__(self, srv, sock, no):
        self.srv = srv
        self.sock = sock
        self.no = no
        self.buf = b""
        self.user = None
        self.authed = False
        self.msgs = None  # snapshot at login
        self.dele = set()  # indexes into self.msgs
        self.timestamp = "<%d.%d@fakepop3>" % (os.getpid(), int(time.time() * 1000))
        self.trickle = None  # (seconds, bytes still to send promptly)

    # -- I/O
    def send(self, data):
        try:
            if self.trickle is None:
                self.sock.sendall(data)
                return
            secs, skip = self.trickle
            if skip == "line":  # this send is the status line
                self.sock.sendall(data)
                self.trickle = (secs, 0)
                return
            if skip:
                self.sock.sendall(data[:skip])
                self.trickle = (secs, max(0, skip - len(data)))
                data = data[skip:]
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
                time.sleep(secs)
        except OSError as e:
            raise Dropped("send: %s" % e)

    def line(self, text):
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogateescape")
        self.send(text + CRLF)

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Dropped("client line too long")
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise Dropped("idle timeout")
            except OSError as e:
                raise Dropped("recv: %s" % e)
            if not chunk:
                raise Dropped("client closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line[:-1] if line.endswith(b"\r") else line

    def close(self, reset=False):
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            else:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sock.close()
        except OSError:
            pass

    # -- faults
    def do_fault(self, fl, verb):
        """Run a fault; returns True if the command is handled (or gone)."""
        act = fl.get("action", "err")
        self.srv.trace("conn %d: fault %s on %s" % (self.no, act, verb))
        if act == "delay":
            time.sleep(fl.get("seconds", 1))
            return False
        if act == "trickle":
            skip = fl.get("skip", 0)
            self.trickle = (float(fl.get("seconds", 1)),
                            skip if skip == "line" else int(skip))
            return False
        if act == "closeafter":
            self.close_after = fl.get("then", "close")
            return False
        if act == "cut" and verb in ("RETR", "LIST", "UIDL", "TOP", "CAPA"):
            return False  # handled by send_multi
        if act == "flood" and verb in ("RETR", "LIST", "UIDL"):
            return False  # handled by send_multi
        if act == "err":
            self.line("-ERR " + fl.get("text", "fault injected"))
            return True
        if act == "reply":
            for l in fl.get("text", "").split("\n"):
                self.line(l)
            return True
        if act == "hugeline":
            self.send(b"x" * int(fl.get("bytes", 1 << 20)) + (CRLF if fl.get("crlf") else b""))
            self.close()
            raise Dropped("hugeline")
        if act in ("close", "reset"):
            if verb == "QUIT" and fl.get("commit"):
                self.commit()
            self.close(reset=(act == "reset"))
            raise Dropped(act)
        if act == "stall":
            time.sleep(fl.get("seconds", 3600))
            self.close()
            raise Dropped("stall")
        self.line("-ERR fakepop3: unknown fault action %s" % act)
        return True

    # -- mailbox
    def visible(self, n):
        """Message number n (str) -> index, or None after an -ERR."""
        try:
            i = int(n) - 1
        except ValueError:
            self.line("-ERR Invalid message number: %s" % n)
            return None
        if i < 0 or i >= len(self.msgs):
            self.line("-ERR There's no message %s." % n)
            return None
        if i in self.dele:
            self.line("-ERR Message is deleted.")
            return None
        return i

    def commit(self):
        srv = self.srv
        with srv.lock:
            gone = [self.msgs[i] for i in sorted(self.dele)]
            for m in gone:
                if m in srv.mailbox:
                    srv.mailbox.remove(m)
                    srv.deleted.append(m.uidl)
                    srv.deleted_msgs.append(m)
            self.dele = set()
        srv.trace("conn %d: committed %d deletion(s)" % (self.no, len(gone)))
        return len(gone)

    # -- the session
    def run(self):
        srv = self.srv
        try:
            if srv.tls_ctx and srv.args.tls == "implicit":
                try:
                    self.sock = srv.tls_ctx.wrap_socket(self.sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    raise Dropped("TLS handshake: %s" % e)
            fl = srv.match_fault(self.no, "GREETING", [])
            if fl and self.do_fault(fl, "GREETING"):
                pass
            else:
                g = "+OK " + srv.greeting
                if "greeting" in srv.evil:
                    g += " " + EVIL.decode("utf-8", "surrogateescape")
                if srv.apop:
                    g += " " + self.timestamp
                self.line(g)
                self.trickle = None
            while True:
                raw = self.readline()
                srv.log(raw)
                if srv.args.watch_early:
                    # Another command already here before this one is
                    # answered: the client did not wait for the reply.
                    time.sleep(0.02)
                    if self.buf or select.select([self.sock], [], [], 0)[0]:
                        srv.log(b"EARLY " + raw)
                text = raw.decode("latin-1")
                parts = text.split(" ")
                verb = parts[0].upper()
                args = [a for a in parts[1:] if a != ""]
                fl = srv.match_fault(self.no, verb, args)
                if fl and self.do_fault(fl, verb):
                    continue
                ended = self.dispatch(verb, args, raw, fl)
                self.trickle = None
                if ended:
                    break
                if getattr(self, "close_after", None):
                    self.close(reset=(self.close_after == "reset"))
                    raise Dropped("closeafter")
        except Dropped as e:
            srv.trace("conn %d: %s" % (self.no, e))
        finally:
            self.close()
            with srv.lock:
                if srv.holder == self.no:
                    srv.holder = None
                srv.ended += 1
                srv.write_state()

    def dispatch(self, verb, args, raw, fault):
        """Handle one command; True ends the session."""
        srv = self.srv
        if verb == "QUIT":
            if self.authed:
                n = self.commit()
                self.line("+OK Logging out, messages deleted." if n else "+OK Logging out.")
            else:
                self.line("+OK Logging out.")
            return True
        if verb == "CAPA":
            if srv.capa is None:
                self.line("-ERR Unknown command: CAPA")
                return False
            lines = ["+OK"] + list(srv.capa)
            if "capa" in srv.evil:
                lines.append("X-EVIL" + EVIL.decode("utf-8", "surrogateescape"))
            if srv.tls_ctx and srv.args.tls == "starttls" and not self.authed \
                    and not isinstance(self.sock, ssl.SSLSocket):
                lines.append("STLS")
            if srv.sasl and not self.authed:
                lines.append("SASL " + " ".join(srv.sasl))
            self.send_multi(lines[0], b"".join(
                l.encode("utf-8", "surrogateescape") + CRLF
                for l in lines[1:]), fault)
            return False
        if verb == "NOOP" and self.authed:
            self.line("+OK")
            return False
        if verb == "UTF8" and self.authed:
            if srv.capa is not None and "UTF8" in srv.capa:
                self.line("+OK UTF8 enabled")
            else:
                self.line("-ERR Unknown command: UTF8")
            return False
        if not self.authed:
            return self.auth_state(verb, args, raw)
        return self.transaction(verb, args, fault)

    def login(self, user, password, sent=None):
        srv = self.srv
        if srv.args.echo_auth:
            self.echo_refusal(password, sent)
            return
        if user != srv.user or password != srv.password:
            self.line("-ERR [AUTH] Authentication failed.")
            return
        self.grant()

    def echo_refusal(self, secret, sent):
        """--echo-auth: refuse, quoting the secret and the client's line."""
        text = "-ERR [AUTH] wrong password '%s'" % secret
        if self.srv.args.echo_pad:
            head = "-ERR [AUTH] wrong password " + base64.b64encode(
                secret.encode("utf-8", "surrogateescape")).decode()
            head += "A" * (self.srv.args.echo_pad - 1 - len(head))
            text = head + " " + secret
        if sent is not None:
            text += " (sent '%s')" % sent.decode("latin-1")
        self.line(text)

    def grant(self):
        """Credentials checked: take the maildrop (or report it busy)."""
        srv = self.srv
        with srv.lock:
            if srv.holder is not None:
                busy = True
            else:
                busy = False
                srv.holder = self.no
                self.msgs = list(srv.mailbox)
        if busy:
            self.line("-ERR [IN-USE] Mailbox is locked by another session.")
            return
        self.authed = True
        self.line("+OK Logged in.")

    def auth_state(self, verb, args, raw):
        srv = self.srv
        if verb == "STLS" and srv.tls_ctx and srv.args.tls == "starttls":
            if isinstance(self.sock, ssl.SSLSocket):
                self.line("-ERR TLS is already active.")
                return False
            self.line("+OK Begin TLS negotiation now.")
            self.buf = b""
            try:
                self.sock = srv.tls_ctx.wrap_socket(self.sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                raise Dropped("STLS handshake: %s" % e)
            return False
        if verb == "USER" and args:
            self.user = raw.decode("utf-8", "surrogateescape")[5:]
            self.line("+OK")
            return False
        if verb == "PASS":
            if self.user is None:
                self.line("-ERR No username given.")
                return False
            self.login(self.user, raw.decode("utf-8", "surrogateescape")[5:])
            return False
        if verb == "APOP" and srv.apop is True and len(args) == 2:
            digest = hashlib.md5((self.timestamp + srv.password).encode()).hexdigest()
            if args[0] == srv.user and args[1].lower() == digest:
                self.login(srv.user, srv.password)
            else:
                self.line("-ERR [AUTH] Authentication failed.")
            return False
        if verb == "AUTH" and args and args[0].upper() in [s.upper() for s in srv.sasl]:
            try:
                self.sasl(args[0].upper(), args[1] if len(args) > 1 else None)
            except SaslAbort as e:
                self.line("-ERR " + str(e))
            return False
        self.line("-ERR Unknown command: %s" % verb if verb not in (
            "STAT", "LIST", "UIDL", "RETR", "DELE", "RSET", "TOP", "NOOP")
            else "-ERR Unknown command: %s (not logged in)" % verb)
        return False

    # -- SASL
    def sasl_read(self, challenge=b""):
        """Send "+ <base64 challenge>", read and log the client's reply,
        return it decoded.  "*" aborts; bad base64 is an error."""
        self.line(b"+ " + base64.b64encode(challenge))
        raw = self.readline()
        self.srv.log(raw)
        self.sasl_sent = raw.strip()
        return self.sasl_decode(raw)

    def sasl_decode(self, raw):
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        if raw.strip() == b"*":
            raise SaslAbort("Authentication aborted by client.")
        if raw.strip() == b"=":
            return b""
        try:
            return base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SaslAbort("Invalid base64 data in response.")

    def sasl_bearer_fail(self):
        """RFC 7628 / Google XOAUTH2: an error challenge, the client's
        dummy reply, then -ERR."""
        err = json.dumps({"status": "401", "schemes": "bearer",
                          "scope": "https://mail.example/"}).encode()
        self.line(b"+ " + base64.b64encode(err))
        raw = self.readline()
        self.srv.log(raw)
        self.line("-ERR [AUTH] Invalid bearer token.")

    def sasl(self, mech, ir):
        srv = self.srv
        self.sasl_sent = ir.encode("latin-1") if ir is not None else None
        first = self.sasl_decode(ir) if ir is not None else None
        if mech == "PLAIN":
            data = first if first is not None else self.sasl_read()
            parts = data.split(b"\0")
            if len(parts) != 3:
                raise SaslAbort("Invalid PLAIN response.")
            self.login(parts[1].decode("utf-8", "surrogateescape"),
                       parts[2].decode("utf-8", "surrogateescape"),
                       self.sasl_sent)
        elif mech == "LOGIN":
            user = first if first is not None else self.sasl_read(b"Username:")
            pw = self.sasl_read(b"Password:")
            self.login(user.decode("utf-8", "surrogateescape"),
                       pw.decode("utf-8", "surrogateescape"), self.sasl_sent)
        elif mech == "CRAM-MD5":
            if first is not None:
                raise SaslAbort("CRAM-MD5 takes no initial response.")
            chal = ("<%d.%d@fakepop3>" % (os.getpid(), int(time.time() * 1000))).encode()
            resp = self.sasl_read(chal)
            user, _, digest = resp.decode("utf-8", "surrogateescape").rpartition(" ")
            want = hmac.new(srv.password.encode("utf-8", "surrogateescape"),
                            chal, hashlib.md5).hexdigest()
            if user == srv.user and hmac.compare_digest(digest.lower(), want):
                self.grant()
            else:
                self.line("-ERR [AUTH] Authentication failed.")
        elif mech == "XOAUTH2":
            data = first if first is not None else self.sasl_read()
            kv = {}
            for item in data.split(b"\x01"):
                k, eq, v = item.partition(b"=")
                if eq:
                    kv[k.decode("latin-1")] = v.decode("utf-8", "surrogateescape")
            if srv.args.echo_auth:
                self.echo_refusal(kv.get("auth", "")[7:], self.sasl_sent)
            elif (srv.token is not None and kv.get("user") == srv.user
                    and kv.get("auth") == "Bearer " + srv.token):
                self.grant()
            else:
                self.sasl_bearer_fail()
        elif mech == "OAUTHBEARER":
            data = first if first is not None else self.sasl_read()
            gs2, _, rest = data.partition(b"\x01")
            authzid = None
            for f in gs2.split(b","):
                if f.startswith(b"a="):
                    authzid = f[2:].decode("utf-8", "surrogateescape")
            kv = {}
            for item in rest.split(b"\x01"):
                k, eq, v = item.partition(b"=")
                if eq:
                    kv[k.decode("latin-1")] = v.decode("utf-8", "surrogateescape")
            if srv.args.echo_auth:
                self.echo_refusal(kv.get("auth", "")[7:], self.sasl_sent)
            elif (srv.token is not None and gs2.startswith(b"n,")
                    and authzid == srv.user
                    and kv.get("auth") == "Bearer " + srv.token):
                self.grant()
            else:
                self.sasl_bearer_fail()
        else:
            raise SaslAbort("Unsupported authentication mechanism.")

    def transaction(self, verb, args, fault):
        srv = self.srv
        live = [i for i in range(len(self.msgs)) if i not in self.dele]
        listed = [i for i in live if not self.msgs[i].no_list]
        if verb == "STAT":
            total = sum(self.msgs[i].list_size for i in listed)
            self.line("+OK %d %d" % (len(listed), total))
        elif verb == "LIST":
            if args:
                i = self.visible(args[0])
                if i is not None:
                    self.line("+OK %d %d" % (i + 1, self.msgs[i].list_size))
            else:
                body = b"".join(b"%d %d\r\n" % (i + 1, self.msgs[i].list_size)
                                for i in listed)
                if "list" in srv.evil:
                    body = body.replace(CRLF, EVIL + CRLF, 1)
                self.send_multi("+OK %d messages:" % len(listed), body, fault)
        elif verb == "UIDL":
            if not srv.uidl_ok:
                self.line("-ERR Unknown command: UIDL")
            elif args:
                i = self.visible(args[0])
                if i is not None:
                    self.line("+OK %d %s" % (i + 1, self.msgs[i].uidl))
            else:
                body = b"".join(
                    b"%d %s\r\n" % (i + 1, self.msgs[i].uidl.encode("utf-8", "surrogateescape"))
                    for i in live if not self.msgs[i].no_uidl)
                if "uidl" in srv.evil:
                    body = b"1" + EVIL + CRLF + body.split(CRLF, 1)[1]
                self.send_multi("+OK", body, fault)
        elif verb == "RETR" and "err" in srv.evil:
            self.line(b"-ERR " + EVIL)
        elif verb == "RETR" and args:
            i = self.visible(args[0])
            if i is not None:
                self.retr(self.msgs[i], fault)
        elif verb == "TOP" and len(args) == 2:
            i = self.visible(args[0])
            if i is not None:
                self.top(self.msgs[i], args[1], fault)
        elif verb == "DELE" and args:
            i = self.visible(args[0])
            if i is not None:
                self.dele.add(i)
                self.line("+OK Marked to be deleted.")
        elif verb == "RSET":
            self.dele = set()
            self.line("+OK")
        else:
            self.line("-ERR Unknown command: %s" % verb)
        return False

    def retr(self, m, fault):
        self.send_multi("+OK %d octets" % m.retr_size, m.wire, fault)

    def send_multi(self, first, body, fault):
        """A multi-line reply: status line, body (already dot-stuffed), ".".
        A "cut" fault sends only its first "bytes" bytes of the body."""
        self.line(first)
        body = body + b".\r\n"
        if fault and fault.get("action") == "cut":
            n = int(fault.get("bytes", 0))
            self.send(body[:n])
            then = fault.get("then", "close")
            self.srv.trace("conn %d: cut after %d bytes, then %s" % (self.no, n, then))
            if then == "continue":
                time.sleep(fault.get("seconds", 1))
                self.send(body[n:])
                return
            if then == "stall":
                time.sleep(fault.get("seconds", 3600))
            self.close(reset=(then == "reset"))
            raise Dropped("cut")
        if fault and fault.get("action") == "flood":
            self.send(body[:-3])
            self.flood(fault, first)
            body = b".\r\n"
        self.send(body)

    def flood(self, fault, first):
        """Extra body lines for a "flood" fault (see the docstring)."""
        verb = fault.get("on", "").split()[0].upper()
        if verb == "RETR":
            left = int(fault.get("bytes", 50 << 20))
            line = b"x" * 998 + CRLF
            while left > 0:
                self.send(line[-left:] if left < len(line) else line)
                left -= len(line)
            self.srv.trace("conn %d: flooded RETR" % self.no)
            return
        n0 = len(self.msgs) + 1
        lines = int(fault.get("lines", 100000))
        for k in range(0, lines, 1000):
            self.send(b"".join(
                b"%d 100\r\n" % i if verb == "LIST" else
                b"%d flood%d\r\n" % (i, i)
                for i in range(n0 + k, n0 + min(lines, k + 1000))))
        self.srv.trace("conn %d: flooded %s with %d lines" % (self.no, verb, lines))

    def top(self, m, nlines, fault=None):
        try:
            n = int(nlines)
        except ValueError:
            self.line("-ERR Invalid number of lines: %s" % nlines)
            return
        lines = m.wire.split(CRLF)
        out, i = [], 0
        while i < len(lines) and lines[i] != b"":
            out.append(lines[i])
            i += 1
        out.append(b"")
        out.extend(lines[i + 1:i + 1 + n])
        self.send_multi("+OK", b"".join(l + CRLF for l in out), fault)


def parse_conn(spec):
    """"X@C" -> ("X", {"conn": C}) ; "X" -> ("X", {})."""
    if "@" in spec:
        base, c = spec.rsplit("@", 1)
        if c.isdigit():
            return base, {"conn": int(c)}
    return spec, {}


def shorthand_faults(a):
    faults = []
    for spec in a.cut_retr:
        s, extra = parse_conn(spec)
        n, nbytes = s.split(":")
        faults.append(dict(on="RETR " + n, action="cut", bytes=int(nbytes), **extra))
    for spec in a.delay_greeting:
        s, extra = parse_conn(spec)
        faults.append(dict(on="greeting", action="delay", seconds=float(s), **extra))
    for spec in a.err:
        s, extra = parse_conn(spec)
        cmd, _, text = s.partition(":")
        faults.append(dict(on=cmd, action="err", text=text or "fault injected", **extra))
    for spec in a.drop:
        s, extra = parse_conn(spec)
        faults.append(dict(on=s, action="close", **extra))
    return faults


def main():
    ap = argparse.ArgumentParser(description="scriptable fake POP3 server",
                                 epilog="See the module docstring for the scenario format.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--listen", default="127.0.0.1", metavar="ADDR")
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--state")
    ap.add_argument("--load-state", action="store_true")
    ap.add_argument("--messages")
    ap.add_argument("--scenario")
    ap.add_argument("--user")
    ap.add_argument("--pass", dest="password")
    ap.add_argument("--apop", action="store_true")
    ap.add_argument("--apop-greeting-only", action="store_true")
    ap.add_argument("--greeting-pad", type=int, default=0, metavar="N")
    ap.add_argument("--token")
    ap.add_argument("--sasl", metavar="MECH,...")
    ap.add_argument("--no-uidl", action="store_true")
    ap.add_argument("--pipelining", action="store_true")
    ap.add_argument("--utf8", action="store_true")
    ap.add_argument("--watch-early", action="store_true")
    ap.add_argument("--echo-auth", action="store_true")
    ap.add_argument("--echo-pad", type=int, default=0, metavar="N")
    ap.add_argument("--evil-text", metavar="WHERE,...")
    ap.add_argument("--tls", choices=["implicit", "starttls"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls-max-version", choices=["1.2", "1.3"])
    ap.add_argument("--client-ca", metavar="PEM")
    ap.add_argument("--cut-retr", action="append", default=[], metavar="N:BYTES[@C]")
    ap.add_argument("--delay-greeting", action="append", default=[], metavar="SECS[@C]")
    ap.add_argument("--err", action="append", default=[], metavar="CMD[:TEXT][@C]")
    ap.add_argument("--drop", action="append", default=[], metavar="CMD[@C]")
    ap.add_argument("--max-conns", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    scenario = {}
    if a.scenario:
        with open(a.scenario) as f:
            scenario = json.load(f)
    scenario.setdefault("faults", [])
    scenario["faults"] = scenario["faults"] + shorthand_faults(a)
    srv = Server(a, scenario)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.listen, a.port))
    ls.listen(16)
    port = ls.getsockname()[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    srv.trace("listening on %s:%d" % (a.listen, port))

    deadline = time.monotonic() + a.timeout
    threads = []
    while time.monotonic() < deadline:
        if a.max_conns and srv.nconns >= a.max_conns:
            break
        ls.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            sock, peer = ls.accept()
        except socket.timeout:
            continue
        with srv.lock:
            srv.nconns += 1
            no = srv.nconns
            srv.write_state()  # "connections" > "ended": a session is on
        srv.trace("conn %d from %s:%d" % (no, peer[0], peer[1]))
        sock.settimeout(a.idle)
        t = threading.Thread(target=Session(srv, sock, no).run, daemon=True)
        t.start()
        threads.append(t)
    ls.close()
    for t in threads:
        t.join(max(0, deadline - time.monotonic()))
    with srv.lock:
        srv.write_state()
    os._exit(0)


if __name__ == "__main__":
    main()
