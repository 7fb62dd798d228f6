#!/usr/bin/python3
"""
test_vp8_l1t3.py - end-to-end test of the MMR with real media clients.

A real VP8 encoder (GStreamer vp8enc, three temporal layers L1T3 with a real reference structure,
periodic keyframes) and a real Opus encoder send RTP from one participant (alice) through the MMR
(mmr-dataplane on a net_tap device + mmr-controller, in a network namespace; tests/lib/mmrtest.py)
to four receivers, each of which depayloads (rtpvp8depay) and decodes (vp8dec) what it gets:
  bob T0, carol T1, dave T2, and erin who starts at T2, is switched to T0 at frame 80 and back to
  T2 at frame 160 (mmrctl sub set while the stream runs).
Every picture each receiver decodes must equal, pixel for pixel, the sender's own decode of that
frame (SHA-256 of the I420 picture), found in increasing order; T0 must decode exactly the TL0
frames (~25 %), T1 the TL0+TL1 frames (~50 %), T2 all; the switching receiver all frames before
the first switch, only TL0 frames while at T0, all frames again at the end. Video sequence numbers
must arrive contiguous; every Opus packet must reach every receiver unchanged. See
l1t3_session.py for the checks and rtp_media.py for the clients; selfcheck_l1t3.py shows
(without the MMR) that these checks catch corrupted pictures, missing layer structure and
non-contiguous sequence numbers.

Run as root: /usr/bin/python3 tests/e2e/test_vp8_l1t3.py [--build DIR] [--asan] [--frames N]
                                                   [--no-layer-flags: negative control, must FAIL]
Exit 0 on pass; 1 with the failures printed otherwise. Takes about 10 s.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True   # keep tests/e2e free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import l1t3_session as ls  # noqa: E402

MEETING = "m1"
SENDER = "alice"
SENDER_PORT = 40000
VIDEO_SSRC = 1111
AUDIO_SSRC = 2222


def receivers(frames):
    third = frames // 3
    return [
        ls.RxSpec("bob", 40002, 0),
        ls.RxSpec("carol", 40004, 1),
        ls.RxSpec("dave", 40006, 2),
        ls.RxSpec("erin", 40008, 2, switches=[(third, 0), (2 * third, 2)]),
    ]


def setup_meeting(env, client_ip, specs):
    env.ctl("meeting", "create", MEETING, "--plain")
    env.ctl("participant", "add", MEETING, SENDER, "--addr", client_ip, "--port", str(SENDER_PORT),
            "--role", "sendonly")
    env.ctl("stream", "add", MEETING, SENDER, "--ssrc", str(VIDEO_SSRC), "--kind", "video",
            "--codec", "vp8", "--layers", "3")
    env.ctl("stream", "add", MEETING, SENDER, "--ssrc", str(AUDIO_SSRC), "--kind", "audio",
            "--codec", "opus")
    for s in specs:
        env.ctl("participant", "add", MEETING, s.name, "--addr", client_ip, "--port", str(s.port),
                "--role", "recvonly")
        env.ctl("sub", "set", MEETING, s.name, "--ssrc", str(VIDEO_SSRC), "--target", str(s.target))


def print_stats(env, mmrtest):
    """The MMR's own view, for the log (the verdict comes from the receivers)."""
    try:
        st = env.stats()
    except Exception as e:  # the counters are informative only
        print("mmr stats: unavailable (%s)" % e)
        return
    drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v}
    print("mmr stats: drops %s" % json.dumps(drops, sort_keys=True))
    for ssrc in (VIDEO_SSRC, AUDIO_SSRC):
        print("mmr stats: stream %d %s" % (ssrc, json.dumps(mmrtest.stream_stats(st, ssrc),
                                                            sort_keys=True)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--no-layer-flags", action="store_true",
                    help="negative control: encode without layer reference flags (TIDs are labels "
                    "only), so the T0/T1 receivers decode corrupt pictures and the test must FAIL")
    args = ap.parse_args()

    missing = [p for p in ("mmr-dataplane", "mmr-controller", "mmrctl")
               if not os.access(os.path.join(args.build, p), os.X_OK)]
    if missing:
        print("FAIL: %s not built in %s (make progs)" % (", ".join(missing), args.build))
        return 1
    if os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK)")
        return 1
    try:
        import mmrtest
        from mmrtest import CLIENT_IP, MMR_IP, MMR_PORT, MmrEnv
    except ImportError as e:
        print("FAIL: tests/lib/mmrtest.py not usable: %s" % e)
        return 1

    t0 = time.monotonic()
    specs = receivers(args.frames)
    # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
    # RTCP toward real clients is tested by test_rtcp_loss.py)
    with MmrEnv("e2e-vp8", build=args.build, asan=args.asan, rtcp=False) as env:
        env.wait_dp_attached()
        setup_meeting(env, CLIENT_IP, specs)
        env.wait_dp_attached()   # every table change applied before the first keyframe leaves

        def set_target(name, tid):
            env.ctl("sub", "set", MEETING, name, "--ssrc", str(VIDEO_SSRC), "--target", str(tid))

        sender, rxs, sender_errors, log = ls.run_session(
            CLIENT_IP, (MMR_IP, MMR_PORT), specs, set_target, SENDER_PORT,
            video_ssrc=VIDEO_SSRC, audio_ssrc=AUDIO_SSRC, frames=args.frames,
            layer_flags=not args.no_layer_flags)
        print_stats(env, mmrtest)
    results = [ls.check_receiver(sender, s, r, log) for s, r in rxs]
    for e in sender_errors:
        print("sender error: " + e)
    ok = ls.report(sender, results, print) and not sender_errors
    wrong_source = [(s.name, sorted(r.sources)) for s, r in rxs
                    if r.sources and r.sources != {(MMR_IP, MMR_PORT)}]
    for name, src in wrong_source:
        print("  %s received packets from %s, want only %s:%d" % (name, src, MMR_IP, MMR_PORT))
        ok = False
    print("%s: test_vp8_l1t3 (%.1f s)" % ("PASS" if ok else "FAIL", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
