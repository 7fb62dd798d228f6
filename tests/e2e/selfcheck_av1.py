#!/usr/bin/python3
"""
selfcheck_av1.py - validates test_av1_svc.py's sender, receivers and checks without the MMR: the
same encoded streams and receivers on 127.0.0.1 with IdealRelay in the middle, a Python stand-in
that applies the switching rules from the sender's own layer knowledge (the records of sent.bin):
nothing before a keyframe; down-switch at the next picture; temporal up where the base layer
frame's DTI for the new target is SWITCH; spatial up at a keyframe; sequence numbers contiguous;
marker on the last packet of the highest layer frame forwarded.

Scenarios (each must come out as stated, else exit 1):
  good        L3T3 and L1T3, the test's receivers and switches: every receiver passes;
  early-up    the relay moves frank from S1T0 up to S1T2 at a T2b picture (which predicts from
              a T1 frame frank never got) instead of a switching point: frank must FAIL (libaom
              refuses the picture, or it matches no reference);
  drop-layer  the relay withholds the T1 frames from bob (dt 8 needs them): bob must FAIL, with
              the first T2b picture (3) reported (libaom notices the stale reference, whose
              entropy context the frame inherits, and refuses it; were it decoded it would not
              be pixel-exact);
  marker      the relay leaves the sender's marker bits: dave and erin (S1, S0) must FAIL;
  ext         one byte of the 3-byte extension element flipped in one packet to bob: bob must FAIL;
  seq         the relay keeps the sender's sequence numbers: erin must FAIL (gaps);
  fn          the relay rebases bob's frame numbers in the middle of a GOP: bob must FAIL.
Run: /usr/bin/python3 tests/e2e/selfcheck_av1.py [--build DIR] [scenario ...]. About 70 s.
"""

import argparse
import os
import socket
import struct
import sys
import tempfile
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_av1_svc as t  # noqa: E402

IP = "127.0.0.1"
RELAY_PORT = 46000


class _Out:
    def __init__(self, rx):
        self.rx = rx
        self.addr = (IP, rx.port)
        self.target = rx.dt
        self.cur = None          # current dt; None until the first keyframe
        self.seq = 1000
        self.fn_add = 0


class IdealRelay(threading.Thread):
    def __init__(self, sent, rxs, mode="good"):
        super().__init__(name="relay", daemon=True)
        self.sent = sent
        self.mode = mode
        self.outs = {r.name: _Out(r) for r in rxs}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((IP, RELAY_PORT))
        self.sock.settimeout(0.05)
        self._quit = threading.Event()
        self.n = 0

    def set_dt(self, name, dt):
        self.outs[name].target = dt

    def stop(self):
        self._quit.set()
        self.join()
        self.sock.close()

    def _decide(self, o, rec):
        """At the first packet of a picture: which target this output is on from here."""
        _, _, sid, tid, flags, _, dtis, _, _ = rec
        if o.cur is None:
            if flags & t.F_KEY:
                o.cur = o.target
            return
        cs, ct = divmod(o.cur, 3)
        ts_, tt = divmod(o.target, 3)
        if flags & t.F_KEY:
            o.cur = o.target
            return
        if self.mode == "early-up":
            # the broken relay: up at a picture that is no switching point (T2b predicts from
            # the T1 frame before it, which a T0 receiver never got)
            if rec[5] == 4 or (ts_ <= cs and tt <= ct):
                o.cur = o.target
            return
        ns = ts_ if ts_ <= cs else cs
        nt = tt if tt <= ct or (dtis >> (2 * (ns * 3 + tt))) & 3 == t.DTI_SWITCH else ct
        o.cur = ns * 3 + nt

    def run(self):
        while not self._quit.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            seq = struct.unpack_from("!H", pkt, 2)[0]
            rec = self.sent.recs[self.sent.by_seq[seq]]
            _, pic, sid, tid, flags, _, _, _, _ = rec
            self.n += 1
            for name, o in self.outs.items():
                if sid == 0 and flags & t.F_START:
                    self._decide(o, rec)
                if o.cur is None:
                    continue
                cs, ct = divmod(o.cur, 3)
                if sid > cs or tid > ct:
                    continue
                if self.mode == "drop-layer" and name == "bob" and tid == 1:
                    continue
                out = bytearray(pkt)
                if self.mode != "seq":
                    struct.pack_into("!H", out, 2, o.seq)
                    o.seq = (o.seq + 1) & 0xFFFF
                if self.mode != "marker":
                    m = 1 if (flags & t.F_END and sid == cs) else 0
                    out[1] = (out[1] & 0x7F) | (m << 7)
                if self.mode == "ext" and name == "bob" and self.n == 300:
                    out[12 + 4 + 1] ^= 0x01      # first byte of element 3 (one-byte form)
                    if out[12] == 0x10:          # two-byte form: id, len, data
                        out[12 + 4 + 1] ^= 0x01
                        out[12 + 4 + 2] ^= 0x01
                if self.mode == "fn" and name == "bob" and pic == 50 and sid == 0 and \
                        flags & t.F_START:
                    o.fn_add = 7
                if o.fn_add and out[12] == 0xBE:
                    hl = 12 + 4
                    # descriptor element: find it (one-byte form; no structure mid-GOP)
                    i = hl
                    while i < hl + 4 * struct.unpack_from("!H", out, 14)[0]:
                        b = out[i]
                        if b == 0:
                            i += 1
                            continue
                        eid, ln = b >> 4, (b & 15) + 1
                        if eid == t.DD_EXT:
                            fnv = struct.unpack_from("!H", out, i + 2)[0]
                            struct.pack_into("!H", out, i + 2, (fnv + o.fn_add) & 0xFFFF)
                        i += 1 + ln
                self.sock.sendto(bytes(out), o.addr)


def run(tool, workdir, name, mode="good", pictures=t.PICTURES, out=print, switches=None):
    nsl, ssrc, sport, rxs = t.STRUCTURES[name]
    sent, summary = t.encode(tool, os.path.join(workdir, "%s-%d" % (name, pictures)), nsl, ssrc,
                             pictures)
    out("  " + summary)
    rxs = [t.Rx(r.name, r.port, r.dt, [(p, d) for p, d in r.switches if p < pictures - 20])
           for r in rxs]
    for r in rxs:
        if switches and r.name in switches:
            r.switches = switches[r.name]
    relay = IdealRelay(sent, rxs, mode)
    relay.start()
    socks = {}
    for r in rxs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((IP, r.port))
        socks[r.name] = s
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind((IP, sport))
    try:
        col, log, errors = t.run_session(sent, sender, (IP, RELAY_PORT), socks, rxs, relay.set_dt)
    finally:
        relay.stop()
        for s in list(socks.values()) + [sender]:
            s.close()
    res = {}
    for r in rxs:
        if log.get(r.name):
            out("  %s: target changes (issued, done, dt): %s" % (r.name, log[r.name]))
        good, text = t.check(tool, sent, workdir, r, col.got[r.name], log)
        for line in text.splitlines()[:14]:
            out("    " + line)
        res[r.name] = (good, text)
    return errors, res


def scenario(tool, workdir, which):
    if which == "good":
        bad = []
        for name in ("L3T3", "L1T3"):
            errors, res = run(tool, workdir, name)
            bad += errors + [n for n, (g, _) in res.items() if not g]
        return not bad, "all receivers pass" if not bad else "failed: %s" % bad
    if which == "early-up":
        errors, res = run(tool, workdir, "L3T3", "early-up", pictures=100,
                          switches={"frank": [(14, 3), (50, 5)]})
        f = res["frank"]
        bad = "corrupt" in f[1] or "decoder error" in f[1]
        ok = not f[0] and bad and res["bob"][0] and res["erin"][0]
        return ok, "frank %s, corrupt picture or decoder error reported: %s" % (
            "FAILS" if not f[0] else "passes", bad)
    if which == "drop-layer":
        errors, res = run(tool, workdir, "L3T3", "drop-layer", pictures=60)
        b = res["bob"]
        bad = "picture 3: decoder error" in b[1] or "picture 3: decoded" in b[1]
        ok = not b[0] and bad and res["dave"][0] and res["erin"][0]
        return ok, "bob %s, the first T2b picture (3) reported: %s" % (
            "FAILS" if not b[0] else "passes", bad)
    if which == "marker":
        errors, res = run(tool, workdir, "L3T3", "marker", pictures=40)
        ok = not res["dave"][0] and not res["erin"][0] and res["bob"][0] and \
            "marker" in res["erin"][1]
        return ok, "dave %s, erin %s" % (res["dave"][0], res["erin"][0])
    if which == "ext":
        errors, res = run(tool, workdir, "L3T3", "ext", pictures=60)
        ok = not res["bob"][0] and "extension element" in res["bob"][1] and res["carol"][0]
        return ok, "bob %s" % ("FAILS" if not res["bob"][0] else "passes")
    if which == "seq":
        errors, res = run(tool, workdir, "L3T3", "seq", pictures=40)
        ok = not res["erin"][0] and "sequence number" in res["erin"][1] and res["bob"][0]
        return ok, "erin %s" % ("FAILS" if not res["erin"][0] else "passes")
    if which == "fn":
        errors, res = run(tool, workdir, "L3T3", "fn", pictures=80)
        ok = not res["bob"][0] and "frame number" in res["bob"][1] and res["carol"][0]
        return ok, "bob %s" % ("FAILS" if not res["bob"][0] else "passes")
    raise SystemExit("unknown scenario %s" % which)


SCENARIOS = ["good", "early-up", "drop-layer", "marker", "ext", "seq", "fn"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(t.ROOT, "build"))
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "e2e", "av1_svc")
    workdir = tempfile.mkdtemp(prefix="av1self-")
    failed = []
    for n in args.scenarios or SCENARIOS:
        print("== self-check %s" % n)
        ok, why = scenario(tool, workdir, n)
        print("== %s: %s (%s)" % (n, "as expected" if ok else "NOT AS EXPECTED", why))
        if not ok:
            failed.append(n)
    os.system("rm -rf '%s'" % workdir)
    if failed:
        print("SELF-CHECK FAILED: %s" % ", ".join(failed))
        return 1
    print("SELF-CHECK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
