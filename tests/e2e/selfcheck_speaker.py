#!/usr/bin/python3
"""
selfcheck_speaker.py - the negative controls of test_speaker.py's checks, without the MMR.

The same 20 libopus participants (tools/opus_talkers.c) and the same checks (test_speaker.py's
check_dominant and check_topn), but through a Python stand-in on 127.0.0.1 instead of the MMR: it
reads each packet's RFC 6464 level, names a dominant speaker (the loudest over the last 300 ms,
decided every 100 ms, only by a clear margin) whose decisions stand in for the controller's answers,
and forwards top-3 audio: three slot outputs per receiver with their own SSRCs, a stream keeping its
slot while it stays among the 3 loudest, the publisher skipped, sequence numbers continuing +1 and
timestamps by the elapsed time across a change of the slot's stream. Scenarios:
  ideal        must pass every check;
  no-level     the stand-in never reads a level (what the MMR without --ext audio-level is): the
               dominant speaker check must fail;
  slow         decisions 1.5 s late: the dominant speaker check must fail;
  no-renumber  a slot's output keeps the source stream's sequence numbers and timestamps: the
               contiguous sequence numbers check must fail;
  echo         the talker gets its own stream too: "no talker hears its own tone" must fail.
Exit 0 only if every scenario came out as stated. Needs build/tests/e2e/opus_talkers (make); no root.
"""

import argparse
import os
import socket
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import mmrtest  # noqa: E402
import test_speaker as ts  # noqa: E402

HOST = "127.0.0.1"
RELAY_PORT = 43900
BASE = 43000


class Relay(threading.Thread):
    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((HOST, RELAY_PORT))
        self.sock.settimeout(0.05)
        self.stop_ev = threading.Event()
        self.levels = {i: [] for i in range(ts.N)}   # (t, level) of the last 300 ms
        self.dominant = None
        self.decisions = []                          # (t_ns, name) as a poll would have seen them
        self.pending = []                            # slow mode: (due, name)
        self.slots = [None] * ts.TOP_N               # participant index per slot
        self.out = {}                                # (receiver, slot) -> [ssrc, seq, ts, src, seq_off, ts_off, t_last]
        self.next_rank = 0

    @staticmethod
    def level_of(d):
        if not d[0] & 0x10:
            return None
        cc = d[0] & 15
        x = 12 + 4 * cc
        if d[x:x + 2] != b"\xbe\xde":
            return None
        n = struct.unpack_from("!H", d, x + 2)[0] * 4
        i, e = x + 4, x + 4 + n
        while i < e:
            b = d[i]
            if b == 0:
                i += 1
                continue
            eid, ln = b >> 4, (b & 15) + 1
            if eid == ts.LEVEL_EXT_ID:
                return d[i + 1] & 0x7f
            i += 1 + ln
        return None

    def mean(self, i, now, span):
        v = [l for t, l in self.levels[i] if now - t <= span]
        return sum(v) / len(v) if v else 127

    def decide(self, now):
        means = {i: self.mean(i, now, 0.3) for i in range(ts.N)}
        best = min(means, key=means.get)
        cur = self.dominant
        if means[best] < 40 and (cur is None or means[best] + 10 < means[cur]):
            if self.mode == "slow":
                self.pending.append((now + 1.5, best))
            else:
                self.dominant = best
        while self.pending and self.pending[0][0] <= now:
            self.dominant = self.pending.pop(0)[1]
        # top-N: the loudest over 150 ms, the dominant always in; a stream keeps its slot
        short = {i: self.mean(i, now, 0.15) for i in range(ts.N)}
        want = sorted(range(ts.N), key=lambda i: short[i])[:ts.TOP_N]
        if self.dominant is not None and self.dominant not in want:
            want = want[:ts.TOP_N - 1] + [self.dominant]
        free = [k for k in range(ts.TOP_N) if self.slots[k] not in want]
        for i in want:
            if i not in self.slots:
                self.slots[free.pop(0)] = i
        self.decisions.append((time.monotonic_ns(),
                               None if self.dominant is None else ts.pname(self.dominant)))

    def forward(self, src, d, now):
        if src not in self.slots:
            return
        k = self.slots.index(src)
        seq, tstamp = struct.unpack_from("!HI", d, 2)
        for r in range(ts.N):
            o = self.out.get((r, k))
            if o is None:
                o = self.out[(r, k)] = [0x70000000 + r * 16 + k, None, None, None, 0, 0, now]
            if r == src and self.mode != "echo":
                o[3] = None     # whoever comes next on this slot is a new source for r
                continue
            if self.mode == "no-renumber":
                oseq, ots = seq, tstamp
            else:
                if o[3] != src:
                    if o[1] is None:
                        o[4], o[5] = 0, 0
                    else:
                        o[4] = (o[1] + 1 - seq) & 0xffff
                        o[5] = (o[2] + max(1, int((now - o[6]) * 48000)) - tstamp) & 0xffffffff
                    o[3] = src
                oseq, ots = (seq + o[4]) & 0xffff, (tstamp + o[5]) & 0xffffffff
            o[1], o[2], o[6] = oseq, ots, now
            pkt = bytearray(d)
            struct.pack_into("!HII", pkt, 2, oseq, ots, o[0])
            self.sock.sendto(pkt, (HOST, BASE + r))

    def run(self):
        while not self.stop_ev.is_set():
            try:
                d, a = self.sock.recvfrom(2048)
            except socket.timeout:
                d = None
            now = time.monotonic()
            if d is not None and len(d) >= 12:
                src = a[1] - BASE
                if 0 <= src < ts.N:
                    lvl = None if self.mode == "no-level" else self.level_of(d)
                    if lvl is not None:
                        self.levels[src].append((now, lvl))
                        self.levels[src] = [x for x in self.levels[src] if now - x[0] <= 0.3]
                    self.forward(src, d, now)
            if now >= self.next_rank:
                self.next_rank = now + 0.1
                self.decide(now)


class Recorder(mmrtest.Checks):
    def __init__(self, name):
        super().__init__(name)
        self.failed_what = []

    def check(self, cond, what, detail=""):
        if not cond:
            self.failed_what.append(what)
        return super().check(cond, what, detail)


def scenario(tool, mode, talk_ms):
    talkers = ts.TALKERS[:3]
    schedule = [(0, -1)] + [(ts.LEAD_MS + k * talk_ms, who) for k, who in enumerate(talkers)]
    duration = ts.LEAD_MS + len(talkers) * talk_ms
    relay = Relay(mode)
    relay.start()
    c = Recorder("selfcheck_speaker " + mode)
    try:
        with tempfile.TemporaryDirectory(prefix="mmrt-speaker-sc-") as tmp:
            cap = os.path.join(tmp, "capture.bin")
            ts_changes, info = run(tool, schedule, duration, cap)
            pkts, _ = ts.decode(tool, cap)
    finally:
        relay.stop_ev.set()
        relay.join()
        relay.sock.close()
    end_ns = info.get("END", time.monotonic_ns())
    ts.check_dominant(c, ts_changes, relay.decisions, end_ns)
    ts.check_topn(c, ts_changes, pkts, end_ns, {})
    return c


def run(tool, schedule, duration, cap):
    import subprocess
    sched = ",".join("%d:%d" % (ms, who) for ms, who in schedule)
    cp = subprocess.run([tool, "run", "--dest", "%s:%d" % (HOST, RELAY_PORT), "--bind", HOST,
                         "--port", str(BASE), "--n", str(ts.N), "--ssrc", str(ts.SSRC_BASE),
                         "--ext-id", str(ts.LEVEL_EXT_ID), "--schedule", sched,
                         "--duration", str(duration), "--capture", cap],
                        capture_output=True, text=True, timeout=duration / 1000 + 60)
    if cp.returncode != 0:
        raise RuntimeError("opus_talkers: %s" % cp.stderr.strip())
    changes, info = [], {}
    for line in cp.stdout.splitlines():
        f = line.split()
        if f and f[0] == "CHANGE":
            changes.append((int(f[1]), int(f[2])))
        elif len(f) == 2:
            info[f[0]] = int(f[1])
    return changes, info


EXPECT = {
    "ideal": None,
    "no-level": "dominant speaker follows the talker",
    "slow": "dominant speaker follows the talker",
    "no-renumber": "contiguous sequence numbers per output",
    "echo": "no talker hears its own tone",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--talk-ms", type=int, default=2000)
    ap.add_argument("modes", nargs="*", default=list(EXPECT))
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "e2e", "opus_talkers")
    if not os.access(tool, os.X_OK):
        print("FAIL: %s not built (make)" % tool)
        return 1
    ok = True
    for mode in args.modes:
        print("=== scenario %s" % mode, flush=True)
        c = scenario(tool, mode, args.talk_ms)
        want = EXPECT[mode]
        if want is None:
            good = not c.failed_what
        else:
            good = any(w.startswith(want) for w in c.failed_what)
        print("%s scenario %s: %s (failed: %s)" % ("ok  " if good else "FAIL", mode,
              "passed" if want is None else "must fail on '%s'" % want, c.failed_what or "none"), flush=True)
        ok = ok and good
    print("%s: selfcheck_speaker" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
