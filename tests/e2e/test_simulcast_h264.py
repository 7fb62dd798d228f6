#!/usr/bin/python3
"""
test_simulcast_h264.py - H.264 simulcast through the MMR, pixel-exact.

ffmpeg with libx264 (one thread, constrained baseline, no B-frames, fixed -g/-keyint_min, no scene
cut, IDR only where forced: all encodings at picture 0, then encoding e at pictures 10e mod 30;
SPS/PPS repeated before every IDR) encodes ffmpeg's testsrc2 at 160x90, 320x180 and 640x360,
30 fps, 150 pictures, into three Annex B streams; ffmpeg decodes each to I420 and hashes every
frame (framemd5): the reference. A Python RFC 6184 packetizer sends them from one participant on
three SSRCs, each with its own sequence numbers and random timestamp offset: the parameter sets
(and SEI) of an access unit aggregated in one STAP-A (encodings 0 and 1) or as single NAL unit
packets (encoding 2: the MMR must see its keyframes by a single-NAL SPS), slices as single NAL
unit packets, or FU-A when bigger than 1200 bytes; marker on an access unit's last packet. Receivers: bob at encoding 0,
carol at 1, dave at 2, erin from 0 switched to 2 at picture 42 and to 1 at picture 92
(`mmrctl sub set ... --encoding E`). Each receiver's depacketizer rebuilds an Annex B stream from
its complete access units, ffmpeg decodes it without scaling (-autoscale 0: each picture keeps the
size of its encoding) and simulcast_session.py judges (one SSRC, contiguous sequence numbers but at
a cut frame, timestamps, every picture pixel-exact against the reference of its encoding and
picture, switches at the new encoding's next IDR).

Run as root: /usr/bin/python3 tests/e2e/test_simulcast_h264.py [--build DIR] [--frames N]
Without the MMR: --relay MODE (any user; simulcast_session.IdealRelay on 127.0.0.1): "ideal" must
pass; early, late, no-ts, flip are negative controls that must fail (simulcast_selfcheck.py runs
them all). Exit 0 on pass, 1 on failure. Takes about 10 s.
"""

import argparse
import os
import random
import struct
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
SENDER_PORT = 40200
SSRCS = (31001, 31002, 31003)
SIZES = ((160, 90), (320, 180), (640, 360))
KBPS = (150, 400, 1000)
PT = 102
MTU_PAYLOAD = 1200
LOOP_IP = os.environ.get("MMR_E2E_LOOP_IP", "127.0.0.1")   # --relay runs: simulcast_selfcheck runs two at once
RELAY_PORT = 45200
FFMPEG = "ffmpeg"


def specs():
    return [ss.RxSpec("bob", 40202, 0), ss.RxSpec("carol", 40204, 1),
            ss.RxSpec("dave", 40206, 2), ss.RxSpec("erin", 40208, 0, switches=[(42, 2), (92, 1)])]


# ---- encoding and reference decode -----------------------------------------------------------

def encode(tmp, e, frames):
    path = os.path.join(tmp, "enc%d.h264" % e)
    w, h = SIZES[e]
    subprocess.run([
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=%d" % (w, h, ss.FPS),
        "-frames:v", str(frames), "-pix_fmt", "yuv420p",
        "-c:v", "libx264", "-threads", "1", "-profile:v", "baseline", "-bf", "0",
        "-g", "300", "-keyint_min", "300", "-sc_threshold", "0", "-forced-idr", "1",
        "-force_key_frames", "expr:eq(n,0)+eq(mod(n,30),%d)" % (10 * e),
        "-x264-params", "sliced-threads=0:scenecut=0:repeat-headers=1",
        "-b:v", "%dk" % KBPS[e], "-f", "h264", path], check=True)
    with open(path, "rb") as f:
        return f.read()


def framemd5(path):
    """ffmpeg's decode of an Annex B file: [(frame bytes, md5)] of each I420 picture, in order,
    each at its own size (no scaler)."""
    out = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-i", path,
                          "-autoscale", "0", "-fps_mode", "passthrough", "-pix_fmt", "yuv420p",
                          "-f", "framemd5", "-"], capture_output=True, text=True)
    pics = []
    for line in out.stdout.splitlines():
        if line.startswith("#"):
            continue
        f = [x.strip() for x in line.split(",")]
        pics.append((int(f[4]), f[5]))
    return pics, out.returncode, out.stderr.strip()


def nal_units(annexb):
    """Split an Annex B byte stream into NAL units (start codes and trailing zeros removed)."""
    out, i, n = [], 0, len(annexb)
    starts = []
    while True:
        i = annexb.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        starts.append(i + 3)
        i += 3
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = annexb[s:end].rstrip(b"\x00")
        if nal:
            out.append(nal)
    return out


def access_units(annexb):
    """Group NAL units into access units: x264 here makes one slice per picture, so an access
    unit is the non-VCL NAL units before a slice plus the slice."""
    aus, cur = [], []
    for nal in nal_units(annexb):
        t = nal[0] & 0x1F
        if t == 9:          # access unit delimiter: not sent
            continue
        cur.append(nal)
        if t in (1, 5):
            aus.append(cur)
            cur = []
    return aus


# ---- RFC 6184 packetizer (the sender) --------------------------------------------------------

def payloads(au, aggregate=True):
    """RTP payloads of one access unit: non-VCL NAL units aggregated in STAP-As (aggregate) or
    each in a single NAL unit packet, slices as single NAL unit packets or FU-A fragments."""
    out, agg = [], []

    def flush():
        if len(agg) == 1:
            out.append(agg[0])
        elif agg:
            nri = max(n[0] & 0x60 for n in agg)
            out.append(bytes([nri | 24]) + b"".join(struct.pack("!H", len(n)) + n for n in agg))
        agg.clear()

    for nal in au:
        if nal[0] & 0x1F not in (1, 5):
            if not aggregate or sum(2 + len(n) for n in agg) + 3 + len(nal) > MTU_PAYLOAD:
                flush()
            agg.append(nal)
            continue
        flush()
        if len(nal) <= MTU_PAYLOAD:
            out.append(nal)
            continue
        body, ind, typ = nal[1:], (nal[0] & 0xE0) | 28, nal[0] & 0x1F
        n = (len(body) + MTU_PAYLOAD - 3) // (MTU_PAYLOAD - 2)
        for k in range(n):
            chunk = body[k * len(body) // n:(k + 1) * len(body) // n]
            hdr = typ | (0x80 if k == 0 else 0) | (0x40 if k == n - 1 else 0)
            out.append(bytes([ind, hdr]) + chunk)
    flush()
    return out


def make_stream(tmp, frames):
    rng = random.Random(4242)
    per_enc, refs, problems = [], [], []
    for e in range(len(SIZES)):
        data = encode(tmp, e, frames)
        aus = access_units(data)
        if len(aus) != frames:
            problems.append("encoding %d: %d access units, want %d" % (e, len(aus), frames))
        pics, rc, err = framemd5(os.path.join(tmp, "enc%d.h264" % e))
        if rc or len(pics) != frames:
            problems.append("encoding %d: reference decode gave %d pictures (rc %d %s)"
                            % (e, len(pics), rc, err[:200]))
        w, h = SIZES[e]
        refs.append([(w, h, m) for _, m in pics])
        seq, ts0 = rng.randrange(65536), rng.randrange(1 << 32)
        if e == 1:
            seq = 65536 - 50              # a sequence number wrap inside the test
        pkts = []
        for pic, au in enumerate(aus):
            key = any(n[0] & 0x1F == 5 for n in au)
            pls = payloads(au, aggregate=e != 2)
            for k, pl in enumerate(pls):
                last = k == len(pls) - 1
                hdr = struct.pack("!BBHII", 0x80, PT | (0x80 if last else 0), seq & 0xFFFF,
                                  (ts0 + pic * ss.TS_STEP) & 0xFFFFFFFF, SSRCS[e])
                flags = (ss.KEY if key else 0) | (ss.FIRST if k == 0 else 0) | \
                    (ss.LAST if last else 0)
                pkts.append(ss.Pkt(e, pic, flags, hdr + pl))
                seq += 1
        per_enc.append(pkts)
    # send order: per picture, the encodings' packets interleaved, highest first
    order = []
    by = [{} for _ in per_enc]
    for e, pkts in enumerate(per_enc):
        for p in pkts:
            by[e].setdefault(p.pic, []).append(p)
    for pic in range(frames):
        lists = [by[e].get(pic, []) for e in reversed(range(len(per_enc)))]
        for k in range(max(len(x) for x in lists)):
            order.extend(x[k] for x in lists if k < len(x))
    return ss.Stream(order, refs, SSRCS), problems


# ---- RFC 6184 depacketizer (the receiver) ----------------------------------------------------

def depacketize(packets, res):
    """Annex B of the receiver's complete access units, and each one's RTP timestamp."""
    out, tss = [], []
    groups, cur = [], None
    for raw in packets:
        if len(raw) < 12:
            continue
        seq, ts = struct.unpack_from("!HI", raw, 2)
        if cur is not None and (cur[0] != ts or (seq - cur[1]) & 0xFFFF != 1):
            groups.append((cur, False))
            cur = None
        if cur is None:
            cur = [ts, seq, []]
        cur[1] = seq
        off = 12 + 4 * (raw[0] & 0x0F)
        if raw[0] & 0x10 and off + 4 <= len(raw):
            off += 4 + 4 * struct.unpack_from("!H", raw, off + 2)[0]
        end = len(raw) - (raw[-1] if raw[0] & 0x20 else 0)
        cur[2].append(raw[off:end])
        if raw[1] & 0x80:
            groups.append((cur, True))
            cur = None
    if cur is not None:
        groups.append((cur, False))
    for (ts, _, pls), complete in groups:
        if not complete:
            continue                    # a cut frame: a decoder is never given half a picture
        nals, fu = [], None
        for pl in pls:
            if not pl:
                res.fail("empty RTP payload")
                continue
            t = pl[0] & 0x1F
            if 1 <= t <= 23:
                nals.append(pl)
            elif t == 24:
                i = 1
                while i + 2 <= len(pl):
                    n = struct.unpack_from("!H", pl, i)[0]
                    if i + 2 + n > len(pl):
                        res.fail("STAP-A with a truncated NAL unit")
                        break
                    nals.append(pl[i + 2:i + 2 + n])
                    i += 2 + n
            elif t == 28 and len(pl) >= 2:
                s, e = pl[1] & 0x80, pl[1] & 0x40
                if s:
                    fu = bytearray([(pl[0] & 0xE0) | (pl[1] & 0x1F)]) + pl[2:]
                elif fu is None:
                    res.fail("FU-A continuation without its start")
                    continue
                else:
                    fu += pl[2:]
                if e:
                    nals.append(bytes(fu))
                    fu = None
            else:
                res.fail("unexpected NAL unit type %d in RTP payload" % t)
        if fu is not None:
            res.fail("FU-A without its end fragment")
        out.append(b"".join(b"\x00\x00\x00\x01" + n for n in nals))
        tss.append(ts)
    return b"".join(out), tss


def decode(tmp, stream, rx, res):
    annexb, tss = depacketize(rx.packets, res)
    path = os.path.join(tmp, "rx-%s.h264" % rx.spec.name)
    with open(path, "wb") as f:
        f.write(annexb)
    if not annexb:
        return []
    pics, rc, err = framemd5(path)
    if rc:
        res.fail("ffmpeg decode exit %d: %s" % (rc, err[:200]))
    if len(pics) != len(tss):
        res.fail("ffmpeg gave %d pictures for %d complete access units" % (len(pics), len(tss)))
        tss = [None] * len(pics)
    by_size = {w * h * 3 // 2: (w, h) for w, h in stream.sizes}
    return [(ts, by_size.get(n, (0, n)) + (m,)) for ts, (n, m) in zip(tss, pics)]


# ---- the run ---------------------------------------------------------------------------------

def run(args, stream):
    return ss.run_call(stream, specs(), "h264", "e2e-simulcast-h264", args.build, args.relay, SENDER_PORT, SSRCS,
                       RELAY_PORT, meeting=MEETING, sender=SENDER, loop_ip=LOOP_IP)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--relay", choices=["ideal", "early", "late", "no-ts", "flip"],
                    help="no MMR: run through simulcast_session.IdealRelay on 127.0.0.1")
    args = ap.parse_args()
    t0 = time.monotonic()
    if not args.relay and os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK); --relay ideal runs without")
        return 1
    with tempfile.TemporaryDirectory(prefix="simulcast-h264-") as tmp:
        try:
            stream, probs = make_stream(tmp, args.frames)
        except (OSError, subprocess.CalledProcessError) as e:
            print("FAIL: ffmpeg/libx264 encode: %s" % e)
            return 1
        probs += stream.problems()
        for p in probs:
            print("FAIL sender: " + p)
        if probs:
            return 1
        kinds = {}
        for p in stream.pkts:
            t = p.data[12] & 0x1F
            kinds[t] = kinds.get(t, 0) + 1
        print("sender: %d pictures x %d encodings %s, %d packets (by NAL/packet type %s), "
              "IDRs %s" % (stream.n, len(SSRCS), ["%dx%d" % s for s in stream.sizes],
                           len(stream.pkts), dict(sorted(kinds.items())), stream.keyframes))
        rxs, log, errs, src = run(args, stream)
        return ss.verdict(stream, rxs, log, errs, src, lambda rx, res: decode(tmp, stream, rx, res), "test_simulcast_h264",
                          args.relay, t0)


if __name__ == "__main__":
    sys.exit(main())
