#!/usr/bin/python3
"""
selfcheck_rtcp.py - validates the machinery of test_rtcp_loss.py without the MMR: the real GStreamer
publisher (keyframes only when asked, RTX) sends straight to one real GStreamer receiver (NACK,
keyframe requests) through tools/impair_relay.py on 127.0.0.1, RTCP both ways, and the same checks
decide: every decoded picture pixel-exact, >= 95 % of the frames decoded, no freeze over 1 s.

Scenarios (each must come out as stated, else exit 1):
  rtcp-1        1 % random loss on the media, 1 % on the feedback: must PASS (NACK + RTX repair);
  rtcp-burst    10-packet bursts, 1 % overall, both ways, keyframes asked by PLI: must PASS;
  rtcp-5        5 % random loss both ways: figures only (the check is not asserted at 5 %);
  off-1         1 % loss, the relay drops ALL RTCP (no NACK, no keyframe request reaches the
                publisher): must FAIL (frames lost for good, the picture frozen until the end);
  off-5         5 % loss, all RTCP dropped: figures only;
  no-rtx        1 % loss, RTCP through but the publisher does not answer NACKs: keyframe requests
                alone must still keep every picture exact (figures; pass/fail printed, not asserted).
Run: /usr/bin/python3 tests/e2e/selfcheck_rtcp.py [--frames N] [--seed S] [scenario ...]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))

import impair_relay as ir  # noqa: E402
import rtcp_media as rmx  # noqa: E402

IP = "127.0.0.1"
PUB_PORT = 46000
RELAY_C = 46002      # the publisher sends here
RELAY_S = 46004      # the receiver sees the publisher here
RX_PORT = 46006
SSRC = 0x1111
RTX_SSRC = 0x1112


def run(frames, seed, media_loss, fb_loss, burst, rtcp_off=False, rtx=True, fir=True):
    link = ir.Link("rx", (IP, RELAY_C), (IP, RELAY_S), (IP, RX_PORT), (IP, PUB_PORT),
                   ir.make_loss(media_loss, burst, seed, "rx", "up"),
                   ir.make_loss(fb_loss, burst, seed, "rx", "down"))
    link.block_rtcp = rtcp_off
    relay = ir.ImpairRelay([link]).start()
    pub = rmx.Publisher((IP, PUB_PORT), (IP, RELAY_C), SSRC, RTX_SSRC if rtx else None,
                        frames=frames)
    rx = rmx.LossReceiver("rx", (IP, RX_PORT), (IP, RELAY_S), rtx=rtx, fir=fir)
    t0 = time.monotonic()
    try:
        rx.start()
        pub.start()
        errors = pub.wait_done(frames / rmx.FPS + 30)
        time.sleep(1.5)      # late repairs and the jitterbuffer's latency
    finally:
        rx_errors = rx.stop()
        pub_errors = pub.stop()
        relay.stop()
    res = rmx.check(pub, rx)
    for e in errors + pub_errors:
        print("  " + e)
    ok = rmx.report(pub, [res], relay.stats(), lambda s: print("  " + s)) and not pub_errors
    print("  (%.1f s)" % (time.monotonic() - t0))
    del rx_errors
    return ok, res, pub


SCENARIOS = {
    # name: (kwargs, must pass: True / False / None = figures only)
    "rtcp-1": (dict(media_loss=0.01, fb_loss=0.01, burst=1), True),
    "rtcp-burst": (dict(media_loss=0.01, fb_loss=0.01, burst=10, fir=False), True),
    "rtcp-5": (dict(media_loss=0.05, fb_loss=0.05, burst=1), None),
    "off-1": (dict(media_loss=0.01, fb_loss=0.01, burst=1, rtcp_off=True), False),
    "off-5": (dict(media_loss=0.05, fb_loss=0.05, burst=1, rtcp_off=True), None),
    "no-rtx": (dict(media_loss=0.01, fb_loss=0.01, burst=1, rtx=False), None),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--seed", default="11")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    names = args.scenarios or list(SCENARIOS)
    bad = []
    for name in names:
        kw, want = SCENARIOS[name]
        print("scenario %s %s" % (name, kw))
        ok, _, _ = run(args.frames, args.seed, **kw)
        if want is None:
            verdict = "figures only (checks %s)" % ("passed" if ok else "failed")
        elif ok == want:
            verdict = "ok (%s as it must)" % ("passed" if ok else "failed")
        else:
            verdict = "WRONG (checks %s, must %s)" % ("passed" if ok else "failed",
                                                       "pass" if want else "fail")
            bad.append(name)
        print("%s: %s" % (name, verdict))
    print("%s: selfcheck_rtcp" % ("FAIL" if bad else "PASS"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
