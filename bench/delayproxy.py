#!/usr/bin/env python3
"""bench/delayproxy.py - a TCP proxy on loopback that adds latency.

  delayproxy.py --target PORT --port-file FILE [--delay MS]

Listens on 127.0.0.1 (a free port, written to FILE once listening) and
relays every connection to 127.0.0.1:PORT. Each chunk read in either
direction is forwarded DELAY milliseconds (default 10) after it arrived,
in order: a stream of chunks is delayed, not serialised, so a round trip
costs 2 x DELAY while throughput is what the two ends make of it (a
window of pipelined commands costs one round trip, lock-step commands one
each). Stands in for netem (tc qdisc ... delay), which needs a kernel
module and privileges that a container often lacks. Loopback only: it
binds 127.0.0.1 and connects to 127.0.0.1. Runs until killed.
"""
import argparse
import asyncio
import collections
import os
import socket


async def pump(reader, writer, delay):
    """Forward reader to writer, each chunk `delay` seconds after it came."""
    loop = asyncio.get_running_loop()
    q = collections.deque()
    more = asyncio.Event()
    done = False

    async def send():
        while True:
            while not q:
                if done:
                    return
                more.clear()
                await more.wait()
            due, data = q.popleft()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    sender = asyncio.ensure_future(send())
    try:
        while True:
            data = await reader.read(1 << 16)
            q.append((loop.time() + delay, data or None))
            more.set()
            if not data:
                break
    except (ConnectionError, OSError):
        q.append((loop.time() + delay, None))
        more.set()
    done = True
    more.set()
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def handle(creader, cwriter, target, delay):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cwriter.close()
        return
    for w in (cwriter, swriter):
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(pump(creader, swriter, delay), pump(sreader, cwriter, delay),
                         return_exceptions=True)
    for w in (cwriter, swriter):
        try:
            w.close()
        except OSError:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay", type=float, default=10.0, help="milliseconds")
    a = ap.parse_args()
    delay = a.delay / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, a.target, delay), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
