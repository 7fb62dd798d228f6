#!/usr/bin/python3
"""
selfcheck_l1t3.py - validates the machinery of test_vp8_l1t3.py without the MMR: the same real
GStreamer sender and receivers on 127.0.0.1, with rtp_media.LayerRelay (a Python stand-in that drops
TIDs above each receiver's target and keeps sequence numbers contiguous) in the middle.

Scenarios (each must come out as stated, else exit 1):
  good        layer flags set, receivers T0/T1/T2 + one switching T2->T0->T2: every check passes;
  no-flags    vp8enc without layer reference flags (TIDs are labels only): the T0 and T1 receivers
              must FAIL the pixel comparison (dropping layers silently corrupts pictures);
  flip-byte   one byte of one VP8 packet flipped on the way to the T2 receiver: it must FAIL;
  no-rewrite  the relay drops layers but keeps the sender's sequence numbers: the T0 receiver must
              FAIL the contiguous-sequence check.
Run: /usr/bin/python3 tests/e2e/selfcheck_l1t3.py [scenario ...]
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import l1t3_session as ls  # noqa: E402
import rtp_media as rm  # noqa: E402

IP = "127.0.0.1"
RELAY_PORT = 45000
SENDER_PORT = 45010


def run(specs, frames, layer_flags=True, rewrite=True, mutate=None):
    relay = rm.LayerRelay((IP, RELAY_PORT), [((IP, s.port), s.target) for s in specs],
                          rewrite=rewrite)
    relay.mutate = mutate
    names = [s.name for s in specs]
    relay.start()
    try:
        sender, rxs, serr, log = ls.run_session(
            IP, (IP, RELAY_PORT), specs, lambda n, t: relay.set_target(names.index(n), t),
            SENDER_PORT, video_ssrc=1111, audio_ssrc=2222, frames=frames, layer_flags=layer_flags)
    finally:
        relay.stop()
    results = [ls.check_receiver(sender, s, r, log) for s, r in rxs]
    for e in serr:
        print("  sender error: " + e)
    ls.report(sender, results, print)
    return serr, {r.spec.name: r for r in results}


def specs_basic():
    return [ls.RxSpec("bob", 45020, 0), ls.RxSpec("carol", 45022, 1), ls.RxSpec("dave", 45024, 2)]


def good():
    specs = specs_basic() + [ls.RxSpec("erin", 45026, 2, switches=[(80, 0), (160, 2)])]
    serr, res = run(specs, 240)
    bad = [n for n, r in res.items() if r.failures]
    return not serr and not bad, "all receivers pass" if not bad else "failed: %s" % bad


def no_flags():
    serr, res = run(specs_basic(), 120, layer_flags=False)
    pix = [n for n in ("bob", "carol")
           if any("not pixel-exact" in m for m in res[n].failures)]
    ok = not serr and pix == ["bob", "carol"] and not res["dave"].failures
    return ok, "pixel mismatch detected for %s (want bob, carol; dave clean)" % pix


def flip_byte():
    seen = {"n": 0}

    def mutate(i, pkt):
        if i != 2:
            return pkt
        r = rm.Rtp(bytes(pkt))
        if r.pt != rm.VIDEO_PT:
            return pkt
        seen["n"] += 1
        if seen["n"] == 150:      # one packet, well after the first keyframe
            mid = r.hdr_len + (len(pkt) - r.hdr_len) // 2
            pkt[mid] ^= 0x10
        return pkt
    serr, res = run(specs_basic(), 120, mutate=mutate)
    f = res["dave"].failures
    return not serr and bool(f) and not res["bob"].failures, "T2 receiver failures: %s" % f[:2]


def no_rewrite():
    serr, res = run(specs_basic(), 60, rewrite=False)
    f = res["bob"].failures
    ok = any("gaps in the video sequence" in m for m in f) and not res["dave"].failures
    return ok, "T0 receiver failures: %s" % f[:2]


SCENARIOS = {"good": good, "no-flags": no_flags, "flip-byte": flip_byte, "no-rewrite": no_rewrite}


def main(argv):
    names = argv or list(SCENARIOS)
    failed = []
    for n in names:
        print("== self-check %s" % n)
        ok, why = SCENARIOS[n]()
        print("== %s: %s (%s)" % (n, "as expected" if ok else "NOT AS EXPECTED", why))
        if not ok:
            failed.append(n)
    if failed:
        print("SELF-CHECK FAILED: %s" % ", ".join(failed))
        return 1
    print("SELF-CHECK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
