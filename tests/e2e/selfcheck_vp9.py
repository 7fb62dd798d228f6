#!/usr/bin/python3
"""
selfcheck_vp9.py - validates test_vp9_svc.py's machinery without the MMR: the same streams (real
libvpx VP9 SVC from build/tests/e2e/vp9_svc) go through an offline Python relay that applies the
switching rules from the sender's own layer knowledge (test_vp9_svc.Selector), to the same receivers
and target changes, and the same checks (vp9_svc check + test_vp9_svc.evaluate) judge the result.

Scenarios, for each structure (L3T3, K-SVC, L2T3); each must come out as stated, else exit 1:
  ideal           the ideal relay: every receiver passes;
  early-temporal  the relay goes straight to the new temporal target at the next picture (no U=1,
                  not one layer at a time): the switching receiver sw1 (T0 -> T2 issued before a TL2
                  picture that references a TL1 one) must FAIL with a corrupt picture;
  early-spatial   the relay goes straight to the new spatial target (no keyframe or P=0 frame):
                  sw1 and sw2 must FAIL with corrupt pictures;
  drop-needed     the relay withholds from the top receiver one layer frame of TL0 picture 60 that
                  its target needs (full SVC: the layer below the top, which the top layer frame
                  predicts from; K-SVC: the top layer frame itself, which later pictures
                  reference): it alone must FAIL;
  late-switch     the relay applies target changes 20 pictures late: sw1/sw2 must FAIL (bound);
  marker          the relay keeps the sender's marker bits (set on the top layer only): receivers
                  below the top spatial layer must FAIL the marker check;
  no-seq-rewrite  the relay keeps the sender's sequence numbers: receivers that lose packets must
                  FAIL the contiguity check.
Run: /usr/bin/python3 tests/e2e/selfcheck_vp9.py [--build DIR] [--only l3t3,...] [scenario ...]
"""

import argparse
import os
import struct
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_vp9_svc as tv  # noqa: E402


class EarlySelector(tv.Selector):
    """Breaks a rule: jumps to the new target at once in the given dimension(s)."""

    def __init__(self, target, temporal=False, spatial=False):
        super().__init__(target)
        self.t_early = temporal
        self.s_early = spatial

    def picture(self, pic):
        if self.cur is not None:
            s, t = self.cur
            S = min(self.target[0], len(pic.layers) - 1)
            if self.t_early:
                t = self.target[1]
            if self.s_early:
                s = S
            self.cur = (s, t)
        return super().picture(pic)


def top_name(stream):
    return "fix%d2" % (stream.ns - 1)


def drop_sid(stream):
    """The layer frame of TL0 picture 60 the drop-needed relay withholds from the top receiver: one
    its layer-2 frame predicts from (full SVC), or (K-SVC, where upper layers predict only from
    themselves) the top layer frame that later pictures reference."""
    key_svc = all(not pic.layers[-1]["d"] for pic in stream.pics if not pic.key)
    return stream.ns - 1 if key_svc else stream.ns - 2


def relay(stream, specs, scenario):
    """Offline relay: {receiver name: [(time, bytes)]} and the switch log as issued."""
    out = {}
    logs = {}
    for spec in specs:
        if scenario == "early-temporal":
            sel = EarlySelector(spec.target, temporal=True)
        elif scenario == "early-spatial":
            sel = EarlySelector(spec.target, spatial=True)
        else:
            sel = tv.Selector(spec.target)
        delay = 20 if scenario == "late-switch" else 0
        applied = {i + delay: t for i, t in spec.switches}
        logs[spec.name] = list(spec.switches)
        seq = 1000 + 17 * len(out)
        pkts = []
        for pic_pkts in stream.by_picture():
            pic = stream.pics[pic_pkts[0][2]["pic"]]
            if pic.idx in applied:
                sel.target = applied[pic.idx]
            s = sel.picture(pic)
            if s is None:
                continue
            fwd = [(t, bytearray(p), m) for t, p, m in pic_pkts if m["sid"] <= s]
            if scenario == "drop-needed" and spec.name == top_name(stream) and pic.idx == 60:
                fwd = [f for f in fwd if f[2]["sid"] != drop_sid(stream)]
            for k, (t, p, m) in enumerate(fwd):
                if scenario != "no-seq-rewrite":
                    struct.pack_into("!H", p, 2, seq & 0xFFFF)
                if scenario != "marker":
                    last = k == len(fwd) - 1
                    p[1] = (p[1] & 0x7F) | (0x80 if last else 0)
                seq += 1
                pkts.append((t, bytes(p)))
        out[spec.name] = pkts
    return out, logs


def run(tool, work, structure, scenario):
    stream_dir = os.path.join(work, structure)
    if not os.path.isfile(os.path.join(stream_dir, "info.txt")):
        tv.encode(tool, structure, stream_dir, 7000)
    stream = tv.Stream(stream_dir)
    specs = tv.receivers(stream.ns, 41000)
    got_by, logs = relay(stream, specs, scenario)
    res = {}
    for spec in specs:
        path = os.path.join(stream_dir, "self-%s-%s.bin" % (scenario, spec.name))
        tv.write_pktfile(path, got_by[spec.name])
        got, errs, _ = tv.run_check(tool, stream, path)
        fails = tv.evaluate(stream, spec, logs[spec.name], got, errs)
        print("  %-8s %s%s" % ("ok" if not fails else "FAIL", tv.describe(stream, spec, got),
                               ("\n           " + " | ".join(fails)[:400]) if fails else ""))
        res[spec.name] = fails
    return res


def corrupt(fails):
    return any("corrupt" in f for f in fails)


def verdict(structure, scenario, res):
    top = "fix%d2" % (2 if structure != "l2t3" else 1)
    failed = sorted(n for n, f in res.items() if f)
    if scenario == "ideal":
        return not failed, "failed: %s" % failed
    if scenario == "early-temporal":
        return corrupt(res["sw1"]), "sw1 corrupt: %s" % corrupt(res["sw1"])
    if scenario == "early-spatial":
        return corrupt(res["sw1"]) and corrupt(res["sw2"]), "failed %s" % failed
    if scenario == "drop-needed":
        return bool(res[top]) and failed == [top], "failed %s (want only %s)" % (failed, top)
    if scenario == "late-switch":
        return bool(res["sw1"]) and bool(res["sw2"]) and all(
            not res[n] for n in res if n.startswith("fix")), "failed %s" % failed
    if scenario == "marker":
        below = [n for n in res if n.startswith("fix") and int(n[3]) < (2 if structure != "l2t3" else 1)]
        ok = all(any("marker" in f for f in res[n]) for n in below) and not res[top]
        return ok, "marker failures for %s" % [n for n in below if res[n]]
    if scenario == "no-seq-rewrite":
        return any("seqgap" in f for f in res["fix00" if structure != "l2t3" else "fix01"]) \
            and not res[top], "failed %s" % failed
    return False, "unknown scenario"


SCENARIOS = ["ideal", "early-temporal", "early-spatial", "drop-needed", "late-switch", "marker",
             "no-seq-rewrite"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(tv.ROOT, "build"))
    ap.add_argument("--only", default=",".join(tv.STRUCTURES))
    ap.add_argument("scenarios", nargs="*", default=SCENARIOS)
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "e2e", "vp9_svc")
    work = os.path.join(args.build, "test-logs", "selfcheck-vp9")
    os.makedirs(work, exist_ok=True)
    for structure in args.only.split(","):   # fresh streams each run
        d = os.path.join(work, structure)
        if os.path.isdir(d):
            tv.shutil.rmtree(d)
    bad = []
    for structure in args.only.split(","):
        for scenario in args.scenarios:
            print("== %s %s" % (structure, scenario))
            ok, why = verdict(structure, scenario, run(tool, work, structure, scenario))
            print("== %s %s: %s (%s)" % (structure, scenario,
                                         "as expected" if ok else "NOT AS EXPECTED", why))
            if not ok:
                bad.append("%s/%s" % (structure, scenario))
    print("SELF-CHECK %s" % ("OK" if not bad else "FAILED: " + ", ".join(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
