#!/usr/bin/python3
"""
impair_relay.py - a user-space UDP impairment relay for the end-to-end loss tests (these machines
have no netem): it sits between each client and the server it talks to (the MMR, or another client
for the direct-path check) and forwards RTP and RTCP both ways, dropping packets with seeded random
loss, single or in bursts, and counting what it passed and dropped per direction and per kind.

One Link per client. The client sends to the link's client-side socket; the relay forwards from its
server-side socket, bound to the (address, port) the server knows the client by, to the server.
What the server sends to that address comes back through the client-side socket to the client (the
client's address is given, or learned from its first packet). "up" is client -> server, "down" is
server -> client.

Loss model (LossModel, per link and direction, its own random.Random seeded from the seed, the link
name and the direction, so a run's drop pattern depends only on the packet count in that direction):
before each packet, if no burst is running, a loss event starts with probability q; an event drops
`burst` consecutive packets (1: independent random loss). q = rate / (burst * (1 - rate) + rate)
makes the long-run dropped fraction equal to `rate`. RTCP is NOT treated apart: it goes through the
same loss process as the media of its direction (a real lossy path does not spare feedback), and is
counted on its own (rtcp_passed, rtcp_dropped) so a report can show what feedback was lost.

Bandwidth shaper (Shaper, per link and direction, optional; test_bwe_svc.py shapes the downlinks):
a token bucket of `rate` bit/s and `depth` bytes in front of a drop-tail queue bounded to `queue_ms`
of the current rate (at least `min_queue` bytes). A packet leaves when the bucket holds its wire size
(UDP payload + 28 bytes of IPv4/UDP header); one that would overflow the queue is dropped (counted
shaped_dropped, with the loss model's drops in the drop log). set_rate() changes the rate at run time
(None: unlimited, the queue drains at once); standalone, a control socket does it (--ctl-port: a UDP
datagram "rate NAME down|up BPS|none"). The relay thread releases queued packets on time (its
select() waits until the next one is due).

Used as a module (ImpairRelay, Link, LossModel, Shaper) by tests/e2e/rtcp_media.py and
test_bwe_svc.py, or standalone:
  impair_relay.py --link NAME:CLIENT_BIND_PORT:SERVER_BIND_PORT:SERVER_HOST:SERVER_PORT[:CLIENT_PORT]
                  [--bind-ip IP] [--up RATE] [--down RATE] [--burst N] [--seed S]
                  [--shape-down BPS] [--shape-up BPS] [--queue-ms MS] [--ctl-port PORT]
runs until SIGINT/SIGTERM and prints the counters as JSON. Python standard library only.
"""

import argparse
import json
import random
import selectors
import signal
import socket
import sys
import threading
import time


def is_rtcp(pkt):
    """RFC 5761 section 4: RTCP packet types 192-223 in the second byte; RTP PTs 96-127 and 0-34
    (with or without the marker bit) never land there."""
    return len(pkt) >= 8 and (pkt[0] >> 6) == 2 and 192 <= pkt[1] <= 223


class LossModel:
    """Seeded random loss of a long-run fraction `rate`, in events of `burst` consecutive packets."""

    def __init__(self, rate=0.0, burst=1, seed=1, start_after=0):
        if not 0.0 <= rate < 1.0:
            raise ValueError("loss rate must be in [0, 1)")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rate = rate
        self.burst = burst
        self.q = rate / (burst * (1.0 - rate) + rate) if rate > 0 else 0.0
        self.rng = random.Random(seed)
        self.left = 0            # packets still to drop in the running burst
        self.start_after = start_after   # never drop the first N packets (0: may drop any)
        self.seen = 0
        self.events = 0

    def drop(self):
        self.seen += 1
        if self.left > 0:
            self.left -= 1
            return True
        if self.q <= 0 or self.seen <= self.start_after:
            return False
        if self.rng.random() < self.q:
            self.events += 1
            self.left = self.burst - 1
            return True
        return False


WIRE_OVERHEAD = 28     # IPv4 + UDP header bytes a shaped packet is charged beyond its payload


class Shaper:
    """Token bucket (rate bit/s, depth bytes) feeding a drop-tail queue bounded to queue_ms of the
    rate (at least min_queue bytes). rate None: unlimited (packets pass at once). Thread-safe
    set_rate(); offer() and release() run on the relay thread."""

    def __init__(self, rate=None, depth=3000, queue_ms=300, min_queue=3000):
        self.lock = threading.Lock()
        self.depth = depth
        self.queue_ms = queue_ms
        self.min_queue = min_queue
        self.rate = rate
        self.tokens = float(depth)
        self.last = time.monotonic()
        self.queue = []            # (enqueue time, packet)
        self.head = 0
        self.queued_bytes = 0
        self.passed = self.dropped = self.max_queued = 0
        self.max_delay = 0.0
        self.rate_log = [(self.last, rate)]

    def limit(self):
        if self.rate is None:
            return 1 << 30
        return max(self.min_queue, int(self.rate * self.queue_ms / 8000))

    def _refill(self, now):
        if self.rate is not None:
            self.tokens = min(float(self.depth), self.tokens + (now - self.last) * self.rate / 8.0)
        self.last = now

    def set_rate(self, rate):
        with self.lock:
            now = time.monotonic()
            self._refill(now)
            self.rate = rate
            self.rate_log.append((now, rate))
            # what the shorter queue of a lower rate cannot hold is dropped from its tail
            lim = self.limit()
            while self.queued_bytes > lim and len(self.queue) > self.head:
                _, p = self.queue.pop()
                self.queued_bytes -= len(p)
                self.dropped += 1

    def offer(self, pkt, now):
        """Queue pkt (True) or drop it (False: the queue is full)."""
        with self.lock:
            if self.queued_bytes + len(pkt) > self.limit():
                self.dropped += 1
                return False
            self.queue.append((now, pkt))
            self.queued_bytes += len(pkt)
            self.max_queued = max(self.max_queued, self.queued_bytes)
            return True

    def release(self, now):
        """([packets to send now], seconds until the next is due or None)."""
        out = []
        with self.lock:
            self._refill(now)
            while self.head < len(self.queue):
                t, p = self.queue[self.head]
                need = len(p) + WIRE_OVERHEAD
                if self.rate is not None:
                    if self.tokens < need and self.tokens < self.depth:
                        break
                    self.tokens -= need
                self.head += 1
                self.queued_bytes -= len(p)
                self.passed += 1
                self.max_delay = max(self.max_delay, now - t)
                out.append(p)
            if self.head > 256 and self.head * 2 > len(self.queue):
                del self.queue[:self.head]
                self.head = 0
            wait = None
            if self.head < len(self.queue):
                need = len(self.queue[self.head][1]) + WIRE_OVERHEAD
                wait = max(0.0, (min(need, self.depth) - self.tokens) * 8.0 / self.rate)
        return out, wait

    def stats(self):
        return {"rate": self.rate, "shaped_passed": self.passed, "shaped_dropped": self.dropped,
                "max_queued_bytes": self.max_queued, "max_delay_ms": round(self.max_delay * 1000, 1)}


class Counts:
    __slots__ = ("passed", "dropped", "rtcp_passed", "rtcp_dropped", "bytes")

    def __init__(self):
        self.passed = self.dropped = self.rtcp_passed = self.rtcp_dropped = self.bytes = 0

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


class Link:
    """One client's path: client <-> [client_bind | relay | server_bind] <-> server."""

    def __init__(self, name, client_bind, server_bind, server_addr, client_addr=None,
                 up=None, down=None, shape_up=None, shape_down=None):
        self.name = name
        self.client_bind = client_bind
        self.server_bind = server_bind
        self.server_addr = server_addr
        self.client_addr = client_addr
        self.up = up or LossModel()
        self.down = down or LossModel()
        self.up_counts = Counts()
        self.down_counts = Counts()
        self.shape_up = shape_up          # Shaper or None, per direction
        self.shape_down = shape_down
        self.unknown = 0     # packets on the server side from someone other than the server
        self.block_rtcp = False   # drop every RTCP packet both ways (counted rtcp_blocked)
        self.rtcp_blocked = 0
        self.drop_log = []        # (monotonic time, "up"/"down", RTP seq or -1 for RTCP) per drop
        self.csock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ssock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s, b in ((self.csock, client_bind), (self.ssock, server_bind)):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 4 << 20)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(b)
            s.setblocking(False)

    def _pass(self, pkt, model, counts, sock, dest):
        rtcp = is_rtcp(pkt)
        if rtcp and self.block_rtcp:
            self.rtcp_blocked += 1
            return
        if model.drop():
            counts.dropped += 1
            self.drop_log.append((time.monotonic(), "up" if counts is self.up_counts else "down",
                                  -1 if rtcp or len(pkt) < 4 else (pkt[2] << 8) | pkt[3]))
            if rtcp:
                counts.rtcp_dropped += 1
            return
        counts.passed += 1
        counts.bytes += len(pkt)
        if rtcp:
            counts.rtcp_passed += 1
        shaper = self.shape_up if counts is self.up_counts else self.shape_down
        if shaper is not None:
            if not shaper.offer(pkt, time.monotonic()):
                self.drop_log.append((time.monotonic(), "up" if counts is self.up_counts else "down",
                                      -1 if rtcp or len(pkt) < 4 else (pkt[2] << 8) | pkt[3]))
            return
        self._send(sock, pkt, dest)

    @staticmethod
    def _send(sock, pkt, dest):
        try:
            sock.sendto(pkt, dest)
        except OSError:
            pass   # a receiver that went away: like a loss on the wire

    def pump(self, now):
        """Send what the shapers release now; seconds until the next release (None: none queued)."""
        nxt = None
        for shaper, sock, dest in ((self.shape_up, self.ssock, self.server_addr),
                                   (self.shape_down, self.csock, self.client_addr)):
            if shaper is None:
                continue
            pkts, wait = shaper.release(now)
            for p in pkts:
                self._send(sock, p, dest)
            if wait is not None:
                nxt = wait if nxt is None else min(nxt, wait)
        return nxt

    def on_client(self, pkt, src):
        if self.client_addr is None:
            self.client_addr = src
        self._pass(pkt, self.up, self.up_counts, self.ssock, self.server_addr)

    def on_server(self, pkt, src):
        if src != self.server_addr:
            self.unknown += 1
            return
        if self.client_addr is None:
            self.down_counts.dropped += 1   # nobody to give it to yet
            return
        self._pass(pkt, self.down, self.down_counts, self.csock, self.client_addr)

    def stats(self):
        return {"up": dict(self.up_counts.as_dict(), events=self.up.events, rate=self.up.rate,
                           burst=self.up.burst),
                "down": dict(self.down_counts.as_dict(), events=self.down.events,
                             rate=self.down.rate, burst=self.down.burst),
                "unknown_source": self.unknown, "rtcp_blocked": self.rtcp_blocked,
                "shape_up": self.shape_up.stats() if self.shape_up else None,
                "shape_down": self.shape_down.stats() if self.shape_down else None}

    def close(self):
        self.csock.close()
        self.ssock.close()


def make_loss(rate, burst, seed, link_name, direction, start_after=0):
    """A LossModel with its own random stream per (seed, link, direction)."""
    return LossModel(rate, burst, "%s/%s/%s" % (seed, link_name, direction), start_after)


class ImpairRelay:
    """Forwards every Link's packets from one thread (selectors); start(), stop(), stats()."""

    def __init__(self, links, ctl_bind=None):
        self.links = list(links)
        self.sel = selectors.DefaultSelector()
        for ln in self.links:
            self.sel.register(ln.csock, selectors.EVENT_READ, (ln, True))
            self.sel.register(ln.ssock, selectors.EVENT_READ, (ln, False))
        self.ctl = None           # control socket: "rate NAME down|up BPS|none"
        if ctl_bind is not None:
            self.ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.ctl.bind(ctl_bind)
            self.ctl.setblocking(False)
            self.sel.register(self.ctl, selectors.EVENT_READ, None)
        self.ctl_errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="impair-relay", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def control(self, msg):
        """Apply one control message ("rate NAME down|up BPS|none"); False if it is malformed."""
        v = msg.split()
        ln = [x for x in self.links if len(v) == 4 and x.name == v[1]]
        if len(v) != 4 or v[0] != "rate" or not ln or v[2] not in ("down", "up"):
            self.ctl_errors += 1
            return False
        shaper = ln[0].shape_down if v[2] == "down" else ln[0].shape_up
        try:
            rate = None if v[3] == "none" else max(1, int(v[3]))
        except ValueError:
            self.ctl_errors += 1
            return False
        if shaper is None:
            shaper = Shaper(rate)
            if v[2] == "down":
                ln[0].shape_down = shaper
            else:
                ln[0].shape_up = shaper
        else:
            shaper.set_rate(rate)
        return True

    def _loop(self):
        wait = 0.1
        while not self._stop.is_set():
            events = self.sel.select(wait)
            wait = 0.1
            for key, _ in events:
                if key.data is None:
                    try:
                        self.control(self.ctl.recv(512).decode("ascii", "replace"))
                    except OSError:
                        pass
                    continue
                ln, client_side = key.data
                sock = key.fileobj
                while True:
                    try:
                        pkt, src = sock.recvfrom(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    if client_side:
                        ln.on_client(pkt, src)
                    else:
                        ln.on_server(pkt, src)
            now = time.monotonic()
            for ln in self.links:
                w = ln.pump(now)
                if w is not None:
                    wait = min(wait, w)

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sel.close()
        if self.ctl is not None:
            self.ctl.close()
        for ln in self.links:
            ln.close()

    def stats(self):
        return {ln.name: ln.stats() for ln in self.links}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--link", action="append", required=True,
                    help="NAME:CLIENT_BIND_PORT:SERVER_BIND_PORT:SERVER_HOST:SERVER_PORT[:CLIENT_PORT]")
    ap.add_argument("--bind-ip", default="127.0.0.1")
    ap.add_argument("--up", type=float, default=0.0, help="loss rate client -> server")
    ap.add_argument("--down", type=float, default=0.0, help="loss rate server -> client")
    ap.add_argument("--burst", type=int, default=1, help="packets per loss event")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--shape-down", type=int, default=None, help="shaper rate server -> client, bit/s")
    ap.add_argument("--shape-up", type=int, default=None, help="shaper rate client -> server, bit/s")
    ap.add_argument("--queue-ms", type=int, default=300, help="shaper queue bound, ms of its rate")
    ap.add_argument("--ctl-port", type=int, default=None,
                    help="UDP control port on --bind-ip: 'rate NAME down|up BPS|none'")
    args = ap.parse_args()
    links = []
    for spec in args.link:
        f = spec.split(":")
        if len(f) not in (5, 6):
            ap.error("bad --link %r" % spec)
        name = f[0]
        client = (args.bind_ip, int(f[5])) if len(f) == 6 else None
        links.append(Link(name, (args.bind_ip, int(f[1])), (args.bind_ip, int(f[2])),
                          (f[3], int(f[4])), client,
                          make_loss(args.up, args.burst, args.seed, name, "up"),
                          make_loss(args.down, args.burst, args.seed, name, "down"),
                          Shaper(args.shape_up, queue_ms=args.queue_ms) if args.shape_up else None,
                          Shaper(args.shape_down, queue_ms=args.queue_ms) if args.shape_down else None))
    relay = ImpairRelay(links, (args.bind_ip, args.ctl_port) if args.ctl_port else None).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    relay.stop()
    print(json.dumps(relay.stats(), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
