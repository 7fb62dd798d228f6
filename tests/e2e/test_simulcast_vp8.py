#!/usr/bin/python3
"""
test_simulcast_vp8.py - VP8 simulcast through the MMR, pixel-exact.

One publisher (alice) sends three VP8 encodings of one synthetic moving picture (160x90, 320x180,
640x360, 30 fps, 150 pictures, keyframes staggered: all at 0, then encoding e at pictures 10e mod 30)
made by libvpx (build/tests/e2e/vp8_simulcast encode), each on its own SSRC with its own sequence
numbers, timestamp offset, PictureID and TL0PICIDX (RFC 7741), as one simulcast stream
(`mmrctl stream add ... --ssrc A,B,C --codec vp8`). Receivers: bob at encoding 0, carol at 1,
dave at 2, erin starting at 0, switched to 2 at picture 42 and to 1 at picture 92 with
`mmrctl sub set ... --encoding E` while the stream runs. Each receiver's packets are depacketized
and decoded by libvpx (vp8_simulcast decode) and judged by simulcast_session.py (one SSRC,
contiguous sequence numbers but at a cut frame, timestamps, every picture pixel-exact against the
reference decode of its encoding, switches at the new encoding's next keyframe); here also:
PictureID +1 and TL0PICIDX +1 from each frame to the next, across switches.

Run as root: /usr/bin/python3 tests/e2e/test_simulcast_vp8.py [--build DIR] [--frames N]
Without the MMR: --relay MODE (any user; simulcast_session.IdealRelay on 127.0.0.1): "ideal" must
pass; early, late, no-pid, no-ts, flip are negative controls that must fail (simulcast_selfcheck.py
runs them all). Exit 0 on pass, 1 on failure. Takes about 10 s.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import simulcast_session as ss  # noqa: E402

MEETING = "m1"
SENDER = "alice"
SENDER_PORT = 40100
SSRCS = (30001, 30002, 30003)
LOOP_IP = os.environ.get("MMR_E2E_LOOP_IP", "127.0.0.1")   # --relay runs: simulcast_selfcheck runs two at once
RELAY_PORT = 45100


def specs():
    return [ss.RxSpec("bob", 40102, 0), ss.RxSpec("carol", 40104, 1),
            ss.RxSpec("dave", 40106, 2), ss.RxSpec("erin", 40108, 0, switches=[(42, 2), (92, 1)])]


def make_stream(tool, tmp, frames):
    subprocess.run([tool, "encode", tmp, str(frames)] + [str(s) for s in SSRCS], check=True)
    pkts = []
    with open(os.path.join(tmp, "packets.bin"), "rb") as f:
        data = f.read()
    off = 0
    while off < len(data):
        enc, pic, flags, n = ss.struct.unpack_from("<BIBH", data, off)
        off += 8
        pkts.append(ss.Pkt(enc, pic, flags, data[off:off + n]))
        off += n
    refs = [[None] * frames for _ in SSRCS]
    with open(os.path.join(tmp, "ref.txt")) as f:
        for line in f:
            e, pic, w, h, hsh = line.split()
            refs[int(e)][int(pic)] = (int(w), int(h), hsh)
    return ss.Stream(pkts, refs, SSRCS)


def decode(tool, tmp, rx, res):
    """libvpx decode of what rx got; returns [(ts, (w, h, hash))]; PictureID/TL0PICIDX checks."""
    cap = os.path.join(tmp, "rx-%s.bin" % rx.spec.name)
    rx.write_capture(cap)
    out = subprocess.run([tool, "decode", cap], check=True, capture_output=True, text=True).stdout
    decoded, frames, errs = [], [], []
    for line in out.splitlines():
        f = line.split()
        if f[0] == "E":
            errs.append(line[2:])
        elif f[0] == "F":
            first, last, npk, ts, pid, tl0, key, complete, dec, w, h = map(int, f[1:12])
            frames.append((first, pid, tl0, complete))
            if dec:
                decoded.append((ts, (w, h, f[12])))
            elif complete:
                res.fail("complete frame ts %d (seq %d) gave no picture" % (ts, first))
    if errs:
        res.fail("depacketizer/decoder: %d errors, first: %s" % (len(errs), "; ".join(errs[:3])))
    for a, b in zip(frames, frames[1:]):
        if (b[1] - a[1]) & 0x7FFF != 1 or (b[2] - a[2]) & 0xFF != 1:
            res.fail("PictureID/TL0PICIDX %d/%d -> %d/%d at seq %d (want +1/+1)"
                     % (a[1], a[2], b[1], b[2], b[0]))
            break
    return decoded


def run(args, tool, tmp, stream):
    return ss.run_call(stream, specs(), "vp8", "e2e-simulcast-vp8", args.build, args.relay, SENDER_PORT, SSRCS,
                       RELAY_PORT, meeting=MEETING, sender=SENDER, loop_ip=LOOP_IP)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--relay", choices=["ideal", "early", "late", "no-pid", "no-ts", "flip"],
                    help="no MMR: run through simulcast_session.IdealRelay on 127.0.0.1")
    args = ap.parse_args()
    t0 = time.monotonic()
    tool = os.path.join(args.build, "tests", "e2e", "vp8_simulcast")
    if not os.access(tool, os.X_OK):
        print("FAIL: %s not built (make %s)" % (tool, os.path.relpath(tool, ROOT)))
        return 1
    if not args.relay and os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK); --relay ideal runs without")
        return 1
    with tempfile.TemporaryDirectory(prefix="simulcast-vp8-") as tmp:
        stream = make_stream(tool, tmp, args.frames)
        probs = stream.problems()
        for p in probs:
            print("FAIL sender: " + p)
        if probs:
            return 1
        print("sender: %d pictures x %d encodings %s, %d packets, keyframes %s"
              % (stream.n, len(SSRCS), ["%dx%d" % s for s in stream.sizes], len(stream.pkts),
                 stream.keyframes))
        rxs, log, errs, src = run(args, tool, tmp, stream)
        return ss.verdict(stream, rxs, log, errs, src, lambda rx, res: decode(tool, tmp, rx, res), "test_simulcast_vp8",
                          args.relay, t0)


if __name__ == "__main__":
    sys.exit(main())
