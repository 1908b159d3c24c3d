#!/usr/bin/env python3
"""socks5relay.py - a minimal SOCKS5 relay, and a connection recorder, for
popfetch's proxy tests.

Python 3 standard library only.  Listens on 127.0.0.1 (port 0; the port
is written to --port-file) and appends one line per event to --log.

  socks5relay.py --port-file F --log L [--max-conns N] [--timeout SECS]
      SOCKS5 (RFC 1928): no authentication, CONNECT only, to a loopback
      destination only (IPv4, IPv6 or a name resolving to loopback; others
      are refused with reply 0x02).  Logs "CONNECT HOST:PORT" per request,
      "REFUSED ..." when it refuses, then relays bytes both ways.
  socks5relay.py --http ...
      An HTTP proxy instead, CONNECT only (RFC 9110, 9.3.6), to loopback
      only: reads the request up to its empty line (at most 8 KiB),
      answers "HTTP/1.1 200 Connection established" with a header line
      ("Proxy-Agent: socks5relay"), as real proxies do, and relays; logs
      as above.  Other methods get 405, other hosts 403.
  socks5relay.py --record ...
      No protocol at all: logs "CONNECTION FROM ADDR" for every
      connection and closes it.  A trap for a client that must not
      connect here.

Bounded: exits after --timeout seconds (default 60) or once --max-conns
connections have ended; an idle relayed connection is closed after 30 s.
"""

import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import threading
import time

lock = threading.Lock()


def log(path, text):
    with lock:
        with open(path, "a") as f:
            f.write(text + "\n")


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("client closed")
        data += chunk
    return data


def loopback_addrs(host, port):
    """Loopback addresses for host; [] when it is not loopback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    out = []
    for fam, typ, proto, _, addr in infos:
        if ipaddress.ip_address(addr[0].split("%")[0]).is_loopback:
            out.append((fam, addr))
    return out


def relay(a, b):
    socks = [a, b]
    while True:
        r, _, _ = select.select(socks, [], [], 30)
        if not r:
            return
        for s in r:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def dial(addrs):
    for fam, addr in addrs:
        up = socket.socket(fam, socket.SOCK_STREAM)
        try:
            up.settimeout(10)
            up.connect(addr)
            return up
        except OSError:
            up.close()
    return None


def serve_http(conn, peer, args):
    up = None
    try:
        conn.settimeout(30)
        req = b""
        while b"\r\n\r\n" not in req:
            if len(req) > 8192:
                raise ValueError("request too long")
            chunk = conn.recv(4096)
            if not chunk:
                raise EOFError("client closed")
            req += chunk
        head, rest = req.split(b"\r\n\r\n", 1)
        words = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if len(words) != 3 or words[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            log(args.log, "REFUSED %s" % " ".join(words))
            return
        host, _, port = words[1].rpartition(":")
        host = host.strip("[]")
        port = int(port)
        addrs = loopback_addrs(host, port)
        if not addrs:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            log(args.log, "REFUSED %s:%d (not loopback)" % (host, port))
            return
        log(args.log, "CONNECT %s:%d" % (host, port))
        up = dial(addrs)
        if up is None:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            log(args.log, "FAILED %s:%d" % (host, port))
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n"
                     b"Proxy-Agent: socks5relay\r\n\r\n")
        if rest:
            up.sendall(rest)
        conn.settimeout(None)
        up.settimeout(None)
        relay(conn, up)
    except (OSError, EOFError, ValueError) as e:
        sys.stderr.write("socks5relay: %s: %s\n" % (peer, e))
    finally:
        if up is not None:
            up.close()
        conn.close()


def serve(conn, peer, args):
    up = None
    try:
        conn.settimeout(30)
        ver, nmeth = recv_exact(conn, 2)
        methods = recv_exact(conn, nmeth)
        if ver != 5 or 0 not in methods:
            conn.sendall(b"\x05\xff")
            log(args.log, "REFUSED no acceptable method")
            return
        conn.sendall(b"\x05\x00")
        ver, cmd, _, atyp = recv_exact(conn, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, recv_exact(conn, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, recv_exact(conn, 16))
        elif atyp == 3:
            host = recv_exact(conn, recv_exact(conn, 1)[0]).decode("latin-1")
        else:
            conn.sendall(b"\x05\x08\x00\x01" + bytes(6))
            log(args.log, "REFUSED address type %d" % atyp)
            return
        port = struct.unpack("!H", recv_exact(conn, 2))[0]
        if cmd != 1:
            conn.sendall(b"\x05\x07\x00\x01" + bytes(6))
            log(args.log, "REFUSED command %d" % cmd)
            return
        addrs = loopback_addrs(host, port)
        if not addrs:
            conn.sendall(b"\x05\x02\x00\x01" + bytes(6))
            log(args.log, "REFUSED %s:%d (not loopback)" % (host, port))
            return
        log(args.log, "CONNECT %s:%d" % (host, port))
        up = dial(addrs)
        if up is None:
            conn.sendall(b"\x05\x05\x00\x01" + bytes(6))
            log(args.log, "FAILED %s:%d" % (host, port))
            return
        conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
        conn.settimeout(None)
        up.settimeout(None)
        relay(conn, up)
    except (OSError, EOFError, ValueError) as e:
        sys.stderr.write("socks5relay: %s: %s\n" % (peer, e))
    finally:
        if up is not None:
            up.close()
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--max-conns", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    open(args.log, "a").close()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.replace(tmp, args.port_file)

    deadline = time.monotonic() + args.timeout
    threads, n = [], 0
    while time.monotonic() < deadline:
        if args.max_conns and n >= args.max_conns:
            break
        ls.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            conn, peer = ls.accept()
        except socket.timeout:
            continue
        n += 1
        if args.record:
            log(args.log, "CONNECTION FROM %s:%d" % peer[:2])
            conn.close()
            continue
        t = threading.Thread(target=serve_http if args.http else serve,
                             args=(conn, peer, args),
                             daemon=True)
        t.start()
        threads.append(t)
    ls.close()
    for t in threads:
        t.join(max(0, deadline - time.monotonic()))
    os._exit(0)


if __name__ == "__main__":
    main()
