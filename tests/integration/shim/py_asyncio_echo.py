#!/usr/bin/env python3
"""asyncio UDP echo, the event-loop way (epoll underneath).

  py_asyncio_echo.py server PORT       DatagramProtocol echo server; prints
                                       "ready" once bound, "echoed N" on SIGTERM
  py_asyncio_echo.py client HOST PORT  sends --count datagrams of 1..--max-size
                                       bytes one at a time, checks each echo

Bounded: the server stops after --lifetime seconds (default 120); each client
reply waits at most 1 s, the whole client run at most 60 s.
"""
import argparse
import asyncio
import signal
import sys


def payload(i, size):
    return bytes((i * 11 + k * 7) & 0xFF for k in range(size))


class Echo(asyncio.DatagramProtocol):
    def __init__(self):
        self.transport = None
        self.echoed = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)
        self.echoed += 1


async def server(args):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(Echo, local_addr=("0.0.0.0", args.port))
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    print("ready", flush=True)
    try:
        await asyncio.wait_for(stop, args.lifetime)
    except asyncio.TimeoutError:
        pass
    transport.close()
    print(f"echoed {proto.echoed}", flush=True)
    return 0


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.waiter = None
        self.error = None

    def datagram_received(self, data, addr):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)

    def error_received(self, exc):
        self.error = exc


async def client(args):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(Client, remote_addr=(args.host, args.port))
    start = loop.time()
    try:
        for i in range(args.count):
            if loop.time() - start > 60:
                print(f"client: deadline passed after {i} datagrams", file=sys.stderr)
                return 1
            data = payload(i, 1 + i % args.max_size)
            proto.waiter = loop.create_future()
            transport.sendto(data)
            try:
                got = await asyncio.wait_for(proto.waiter, 1.0)
            except asyncio.TimeoutError:
                print(f"client: no reply to datagram {i} (error {proto.error})", file=sys.stderr)
                return 1
            if got != data:
                print(f"client: datagram {i} came back different", file=sys.stderr)
                return 1
    finally:
        transport.close()
    print(f"client: {args.count} datagrams intact in {loop.time() - start:.2f} s", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--lifetime", type=float, default=120.0)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--count", type=int, default=1000)
    c.add_argument("--max-size", type=int, default=1472)
    args = ap.parse_args()
    return asyncio.run(server(args) if args.mode == "server" else client(args))


if __name__ == "__main__":
    sys.exit(main())
