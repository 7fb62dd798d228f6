#!/usr/bin/python3
"""
test_rtcp_loss.py - issue 11 end to end: real encoders and decoders, real loss, the MMR's RTCP.

A GStreamer VP8 publisher (alice) that makes keyframes ONLY when asked (vp8enc keyframe-mode=disabled)
and answers NACKs with RTX (rtprtxsend, SSRC 0x1112 PT 97 in m1) sends through the MMR to three GStreamer
receivers (rtpbin: jitterbuffer NACKs, rtpvp8depay asks for a keyframe after unrepaired loss):
  bob    takes RTX (--rtx 96:97), asks keyframes by FIR;
  carol  takes RTX, asks by PLI;
  dave   takes no RTX (the MMR resends on the media SSRC), asks by PLI.
Every client talks to the MMR through tools/impair_relay.py (user-space, seeded): loss on the uplink
(alice -> MMR, and the MMR's RTCP back to alice) and on every downlink (MMR -> receiver, and its
RTCP back), RTCP dropped like media: 1 % random loss on bob's and dave's links (and the uplink), 1 %
in bursts of 10 packets on carol's. Two sessions, each its own meeting in the same MMR: m1 with loss
on the downlinks only (what the MMR repairs itself from its packet buffer), m2 with loss on every
link (the uplink repaired by the MMR's own NACKs, once for every receiver). Everything else as in
rtcp_media.py (15 tail frames sent after the 300 counted ones).

Required per receiver in each session: every decoded picture pixel-exact (the publisher's own decode
of the frame), >= 95 % of the counted frames decoded, no freeze (frames not shown in a row) over 1 s.
--rtcp-off: the negative control: the dataplane runs with `rtcp = false;` (RTCP counted and dropped,
no repair, no keyframe request); the m2 session alone, which must FAIL those checks
(tests/run-all.sh runs it and passes only if it fails with a "want >= 95 %" or "froze" line).
--loss R / --burst N / --frames N / --seed S change the run; --uplink-loss R and/or --downlink-loss R
run one session with those rates (figures; the verdict is the same checks).
selfcheck_rtcp.py shows the clients and the checks work without the MMR (and fail without RTCP).

Run as root: /usr/bin/python3 tests/e2e/test_rtcp_loss.py [--build DIR] [--rtcp-off] [...]
Exit 0 on pass; 1 with the failures printed otherwise. Takes about 30 s (--rtcp-off 15 s).
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import impair_relay as ir  # noqa: E402
import rtcp_media as rmx  # noqa: E402

SSRC = 0x1111
RTX_SSRC = 0x1112


class RxSpec:
    def __init__(self, name, mmr_port, local_port, relay_port, rtx, fir, rtx_ssrc=None, burst=1):
        self.name, self.mmr_port, self.local_port, self.relay_port = name, mmr_port, local_port, relay_port
        self.rtx, self.fir, self.rtx_ssrc, self.burst = rtx, fir, rtx_ssrc, burst


class Session:
    """One meeting of the run: its own ports (base + k * 100) and SSRCs (+ k * 0x100)."""

    def __init__(self, k, label, up_loss, down_loss):
        self.k, self.label, self.up_loss, self.down_loss = k, label, up_loss, down_loss
        self.meeting = "m%d" % (k + 1)
        o = 100 * k
        self.ssrc, self.rtx_ssrc = SSRC + 0x100 * k, RTX_SSRC + 0x100 * k
        # name, port at the MMR, client's own port, relay's client side
        self.pub = ("alice", 41000 + o, 41001 + o, 41002 + o)
        self.specs = [
            RxSpec("bob", 41010 + o, 41011 + o, 41012 + o, rtx=True, fir=True, rtx_ssrc=0x2221 + 0x100 * k),
            RxSpec("carol", 41020 + o, 41021 + o, 41022 + o, rtx=True, fir=False,
                   rtx_ssrc=0x2331 + 0x100 * k, burst=10),
            RxSpec("dave", 41030 + o, 41031 + o, 41032 + o, rtx=False, fir=False),
        ]


def setup_meeting(env, ip, ss):
    m = ss.meeting
    env.ctl("meeting", "create", m, "--plain")
    env.ctl("participant", "add", m, ss.pub[0], "--addr", ip, "--port", ss.pub[1], "--role", "sendonly",
            "--rtcp", "nack,pli,fir")
    env.ctl("stream", "add", m, ss.pub[0], "--ssrc", ss.ssrc, "--kind", "video", "--codec", "vp8",
            "--rtx-ssrc", ss.rtx_ssrc, "--rtx-pt", rmx.RTX_PT)
    for s in ss.specs:
        args = ["participant", "add", m, s.name, "--addr", ip, "--port", s.mmr_port,
                "--role", "recvonly", "--rtcp", "nack,pli,fir" if s.fir else "nack,pli"]
        if s.rtx:
            args += ["--rtx", "%d:%d" % (rmx.VIDEO_PT, rmx.RTX_PT)]
        env.ctl(*args)
        args = ["sub", "set", m, s.name, "--ssrc", ss.ssrc, "--target", 0]
        if s.rtx_ssrc is not None:
            args += ["--rtx-ssrc", s.rtx_ssrc]
        env.ctl(*args)


def mmr_figures(env, mmrtest, ss):
    """The MMR's own counters for the log and the report (the verdict comes from the receivers)."""
    try:
        st = env.stats()
    except Exception as e:  # informative only
        print("mmr stats: unavailable (%s)" % e)
        return {}
    drops = {k: v for k, v in mmrtest.drop_counts(st).items() if v}
    print("mmr stats (all meetings so far): drops %s" % json.dumps(drops, sort_keys=True))
    s = mmrtest.stream_stats(st, ss.ssrc) or {}
    print("mmr stats: stream %#x %s" % (ss.ssrc, json.dumps(s, sort_keys=True)))
    try:   # RTT, loss and feedback per participant as the controller shows them
        for p in env.ctl("participant", "list", ss.meeting, json=True).stdout or []:
            print("mmr participant: %s" % json.dumps(p, sort_keys=True))
    except Exception as e:  # informative only
        print("mmr participant list: unavailable (%s)" % e)
    return s


def run_session(env, mmrtest, ss, args, mmr):
    """Set up ss's meeting, run the call through the relay, check and report; returns True if every
    receiver passed."""
    from mmrtest import CLIENT_IP as ip
    print("session %s (%s): %d frames, loss %.3f on the uplink, %.3f on the downlinks, both ways (%s), "
          "seed %s, MMR rtcp %s"
          % (ss.meeting, ss.label, args.frames, ss.up_loss, ss.down_loss,
             "bursts of %d" % args.burst if args.burst else "carol in bursts of 10, others random",
             args.seed, "off" if args.rtcp_off else "on"))
    setup_meeting(env, ip, ss)
    env.wait_dp_attached()   # every table change applied before the first packet leaves

    def loss(name, direction, burst):
        rate = ss.up_loss if name == ss.pub[0] else ss.down_loss
        return ir.make_loss(rate, args.burst or burst, args.seed, name, direction)

    pub_spec = ss.pub
    links = [ir.Link(pub_spec[0], (ip, pub_spec[3]), (ip, pub_spec[1]), mmr, (ip, pub_spec[2]),
                     loss(pub_spec[0], "up", 1), loss(pub_spec[0], "down", 1))]
    for s in ss.specs:
        links.append(ir.Link(s.name, (ip, s.relay_port), (ip, s.mmr_port), mmr, (ip, s.local_port),
                             loss(s.name, "up", s.burst), loss(s.name, "down", s.burst)))
    relay = ir.ImpairRelay(links).start()
    pub = rmx.Publisher((ip, pub_spec[2]), (ip, pub_spec[3]), ss.ssrc, ss.rtx_ssrc, frames=args.frames)
    rxs = [rmx.LossReceiver(s.name, (ip, s.local_port), (ip, s.relay_port), rtx=s.rtx, fir=s.fir)
           for s in ss.specs]
    errors = []
    try:
        for r in rxs:
            r.start()
        pub.start()
        errors += pub.wait_done(args.frames / rmx.FPS + 30)
        time.sleep(1.5)          # late repairs and the jitterbuffers' latency
    finally:
        for r in rxs:
            r.stop()
        errors += pub.stop()
        relay.stop()
    ms = mmr_figures(env, mmrtest, ss)
    results = [rmx.check(pub, r) for r in rxs]
    for e in errors:
        print("error: " + e)
    ok = rmx.report(pub, results, relay.stats(), print) and not errors
    ps = pub.stats()
    print("figures %s (%s): rtcp %s, loss %.3f up %.3f down: frames decoded %s of %d, longest freeze "
          "%s s, publisher keyframes %d, keyframe requests at the publisher %d (PLI+FIR), publisher "
          "RTX resends %d, MMR resent %s (RTX %s), MMR nack_in %s, pli_in %s, fir_in %s, kf_requests %s,"
          " nack_out %s, rtx_in %s, resend_gone %s"
          % (ss.meeting, ss.label, "off" if args.rtcp_off else "on", ss.up_loss, ss.down_loss,
             "/".join(str(r.matched) for r in results), pub.counted,
             "/".join("%.2f" % r.freeze_s for r in results), ps["keyframes"],
             ps["rtcp_in"].get("pli", 0) + ps["rtcp_in"].get("fir", 0), pub.rtx_sent,
             ms.get("resent"), ms.get("resent_rtx"), ms.get("nack_in"), ms.get("pli_in"),
             ms.get("fir_in"), ms.get("kf_requests"), ms.get("nack_out"), ms.get("rtx_in"),
             ms.get("resend_gone")))
    print("session %s (%s): %s" % (ss.meeting, ss.label, "PASS" if ok else "FAIL"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--loss", type=float, default=0.01, help="loss rate on every link, both ways")
    ap.add_argument("--uplink-loss", type=float, default=None,
                    help="one session with this loss rate on the publisher's link (default: --loss)")
    ap.add_argument("--downlink-loss", type=float, default=None,
                    help="one session with this loss rate on the receivers' links (default: --loss)")
    ap.add_argument("--burst", type=int, default=0,
                    help="packets per loss event on every link (default: carol 10, others 1)")
    ap.add_argument("--seed", default="11")
    ap.add_argument("--rtcp-off", action="store_true",
                    help="negative control: the dataplane's `rtcp = false;`; the run must FAIL")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK)")
        return 1
    try:
        import mmrtest
        from mmrtest import MMR_IP, MMR_PORT, MmrEnv
    except ImportError as e:
        print("FAIL: tests/lib/mmrtest.py not usable: %s" % e)
        return 1

    if args.uplink_loss is not None or args.downlink_loss is not None:
        up = args.loss if args.uplink_loss is None else args.uplink_loss
        down = args.loss if args.downlink_loss is None else args.downlink_loss
        sessions = [Session(0, "as given", up, down)]
    elif args.rtcp_off:
        sessions = [Session(0, "every link", args.loss, args.loss)]
    else:
        sessions = [Session(0, "downlinks only", 0.0, args.loss),
                    Session(1, "every link", args.loss, args.loss)]
    t0 = time.monotonic()
    env = MmrEnv("e2e-rtcp" + ("-off" if args.rtcp_off else ""), build=args.build, asan=args.asan)
    if args.rtcp_off:
        env.extra_dp_conf = "rtcp = false;\n"
    verdicts = []
    with env:
        env.wait_dp_attached()
        for ss in sessions:
            verdicts.append(run_session(env, mmrtest, ss, args, (MMR_IP, MMR_PORT)))
    ok = all(verdicts)
    print("%s: test_rtcp_loss%s (%s; %.1f s)"
          % ("PASS" if ok else "FAIL", " --rtcp-off" if args.rtcp_off else "",
             ", ".join("%s %s" % (ss.label, "passed" if v else "FAILED")
                       for ss, v in zip(sessions, verdicts)), time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
