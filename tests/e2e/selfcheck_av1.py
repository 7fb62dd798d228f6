#!/usr/bin/python3
"""
selfcheck_av1.py - validates test_av1_svc.py's sender, receivers and checks without the MMR: the
same encoded streams and receivers on 127.0.0.1 with IdealRelay in the middle, a Python stand-in
that applies the switching rules from the sender's own layer knowledge (the records of sent.bin):
nothing before a keyframe; a layer frame forwarded iff its DTI for the current target is not
NOT_PRESENT; down-switch at the next picture (K-SVC: spatial down at a keyframe); temporal up where
the DTI for the new target of the picture's frame of the new target's spatial layer is SWITCH;
spatial up at a keyframe; sequence numbers contiguous; marker on the last packet of the highest
layer frame forwarded; on packets carrying the structure the active decode targets bitmask
inserted, naming the targets all of whose frames (by the DTIs sent) the receiver's current target
has.

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
K-SVC (L3T3_KEY; "good" runs it too):
  ksvc-down   the relay moves oscar spatially down at once (from S2T1 to S0T1 at picture ~68, the
              L3T3 rule) instead of at the next keyframe: oscar has none of S0's delta frames and
              must FAIL (decoder error or a picture equal to no reference); kim and ned pass;
  ksvc-all    the relay forwards the lower layers' delta frames (NOT_PRESENT for S2 and S1 targets)
              to every receiver, as for L3T3: kim and mia must FAIL (layer frames not those of
              their target), ned (S0T0) passes;
  ksvc-drop   the relay withholds the T1 frames from kim (dt 8): kim must FAIL at picture 3.
Run: /usr/bin/python3 tests/e2e/selfcheck_av1.py [--build DIR] [scenario ...]. About 120 s.
"""

import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_av1_svc as t  # noqa: E402

IP = os.environ.get("MMR_E2E_LOOP_IP", "127.0.0.1")   # main() runs two halves at once
RELAY_PORT = 46000


class _Out:
    def __init__(self, rx):
        self.rx = rx
        self.addr = (IP, rx.port)
        self.target = rx.dt
        self.cur = None          # current dt; None until the first keyframe
        self.seq = 1000
        self.fn_add = 0


def _bits(b):
    return [(b[i >> 3] >> (7 - (i & 7))) & 1 for i in range(len(b) * 8)]


def _bytes(bits):
    bits = bits + [0] * (-len(bits) % 8)
    return bytes(sum(bits[i + j] << (7 - j) for j in range(8)) for i in range(0, len(bits), 8))


def with_active(pkt, dd_id, at, n_dts, mask):
    """The RTP packet pkt with the active decode targets bitmask (n_dts bits, value mask) inserted
    at bit `at` of its descriptor (element dd_id), the present flag set, the extension rebuilt."""
    assert pkt[0] & 0x10 and not pkt[0] & 0x0F
    prof, words = struct.unpack_from("!HH", pkt, 12)
    i, end, els = 16, 16 + 4 * words, []
    while i < end:
        if pkt[i] == 0:
            i += 1
            continue
        if prof == 0xBEDE:
            eid, ln, i = pkt[i] >> 4, (pkt[i] & 15) + 1, i + 1
        else:
            eid, ln, i = pkt[i], pkt[i + 1], i + 2
        els.append([eid, pkt[i:i + ln]])
        i += ln
    for e in els:
        if e[0] == dd_id:
            b = _bits(e[1])
            b[25] = 1
            e[1] = _bytes(b[:at] + [(mask >> (n_dts - 1 - k)) & 1 for k in range(n_dts)] + b[at:])
    two = any(len(d) > 16 for _, d in els)
    ext = b"".join((bytes([eid, len(d)]) if two else bytes([eid << 4 | (len(d) - 1)])) + d
                   for eid, d in els)
    ext += bytes(-len(ext) % 4)
    return pkt[:12] + struct.pack("!HH", 0x1000 if two else 0xBEDE, len(ext) // 4) + ext + \
        pkt[end:]


class IdealRelay(threading.Thread):
    def __init__(self, sent, rxs, mode="good", victim="bob"):
        super().__init__(name="relay", daemon=True)
        self.sent = sent
        self.mode = mode
        self.victim = victim
        self.ksvc = sent.info.get("ksvc", 0) and mode != "ksvc-down"
        # the first packet's record of each layer frame, by (picture, sid)
        self.first = {(r[1], r[2]): r for r in sent.recs if r[4] & t.F_START}
        # the decode targets whose frames all belong to decode target d too, from the DTIs sent
        self.n_dts = 3 * sent.info["spatial"]
        kinds = set(r[6] for r in sent.recs)
        self.within = [sum(1 << x for x in range(self.n_dts)
                           if all(not (v >> 2 * x) & 3 or (v >> 2 * d) & 3 for v in kinds))
                       for d in range(self.n_dts)]
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
        ns = ts_ if ts_ <= cs and not self.ksvc else cs
        dtis = self.first[(rec[1], ns)][6]
        nt = tt if tt <= ct or (dtis >> (2 * (ns * 3 + tt))) & 3 == t.DTI_SWITCH else ct
        o.cur = ns * 3 + nt

    def run(self):
        while not self._quit.is_set():
            try:
                pkt, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            seq = struct.unpack_from("!H", pkt, 2)[0]
            ri = self.sent.by_seq[seq]
            rec = self.sent.recs[ri]
            _, pic, sid, tid, flags, _, dtis, _, _ = rec
            self.n += 1
            for name, o in self.outs.items():
                if sid == 0 and flags & t.F_START:
                    self._decide(o, rec)
                if o.cur is None:
                    continue
                cs, ct = divmod(o.cur, 3)
                if self.mode == "ksvc-all":
                    if sid > cs or tid > ct:       # the L3T3 rule: every layer up to the target
                        continue
                elif not (dtis >> (2 * o.cur)) & 3:   # NOT_PRESENT for the current target
                    continue
                if self.mode == "drop-layer" and name == self.victim and tid == 1:
                    continue
                out = bytearray(pkt)
                if ri in self.sent.dd_end and self.within[o.cur] != (1 << self.n_dts) - 1:
                    out = bytearray(with_active(pkt, t.DD_EXT, self.sent.dd_end[ri], self.n_dts,
                                                self.within[o.cur]))
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


def run(tool, workdir, name, mode="good", pictures=t.PICTURES, out=print, switches=None,
        victim="bob"):
    nsl, ssrc, sport, rxs = t.STRUCTURES[name]
    sent, summary = t.encode(tool, os.path.join(workdir, "%s-%d" % (name, pictures)), nsl, ssrc,
                             pictures, mode=t.MODES.get(name, "svc"))
    out("  " + summary)
    rxs = [t.Rx(r.name, r.port, r.dt, [(p, d) for p, d in r.switches if p < pictures - 20])
           for r in rxs]
    for r in rxs:
        if switches and r.name in switches:
            r.switches = switches[r.name]
    relay = IdealRelay(sent, rxs, mode, victim)
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
        for name in ("L3T3", "L1T3", "L3T3_KEY"):
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
    if which == "ksvc-down":
        errors, res = run(tool, workdir, "L3T3_KEY", "ksvc-down", pictures=120,
                          switches={"oscar": [(14, 6), (36, 7), (58, 1)]})
        o = res["oscar"]
        bad = "corrupt" in o[1] or "decoder error" in o[1] or "not pixel-exact" in o[1]
        ok = not o[0] and bad and res["kim"][0] and res["ned"][0]
        return ok, "oscar %s, corrupt picture or decoder error reported: %s" % (
            "FAILS" if not o[0] else "passes", bad)
    if which == "ksvc-all":
        errors, res = run(tool, workdir, "L3T3_KEY", "ksvc-all", pictures=60)
        ok = not res["kim"][0] and not res["mia"][0] and res["ned"][0] and \
            "layer frames received" in res["kim"][1]
        return ok, "kim %s, mia %s, ned %s" % (res["kim"][0], res["mia"][0], res["ned"][0])
    if which == "ksvc-drop":
        errors, res = run(tool, workdir, "L3T3_KEY", "drop-layer", pictures=60, victim="kim")
        b = res["kim"]
        bad = "picture 3: decoder error" in b[1] or "picture 3: decoded" in b[1]
        ok = not b[0] and bad and res["mia"][0] and res["ned"][0]
        return ok, "kim %s, the first T2b picture (3) reported: %s" % (
            "FAILS" if not b[0] else "passes", bad)
    raise SystemExit("unknown scenario %s" % which)


SCENARIOS = ["good", "early-up", "drop-layer", "marker", "ext", "seq", "fn", "ksvc-down",
             "ksvc-all", "ksvc-drop"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(t.ROOT, "build"))
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    if not args.scenarios:
        # every scenario: two processes at once (each scenario streams in real time and mostly
        # waits), each with half of them on its own loopback address so the fixed ports differ
        halves = [SCENARIOS[0::2], SCENARIOS[1::2]]
        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--build", args.build] + h,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=dict(os.environ, MMR_E2E_LOOP_IP="127.0.0.%d" % (2 + i)))
                 for i, h in enumerate(halves)]
        rcs = []
        for p in procs:
            sys.stdout.write(p.communicate()[0])
            rcs.append(p.returncode)
        ok = rcs == [0, 0]
        print("SELF-CHECK %s" % ("OK" if ok else "FAILED (see above)"))
        return 0 if ok else 1
    tool = os.path.join(args.build, "tests", "e2e", "av1_svc")
    workdir = tempfile.mkdtemp(prefix="av1self-")
    failed = []
    for n in args.scenarios:
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
