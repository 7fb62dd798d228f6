#!/usr/bin/python3
"""
test_srtp_gst.py - end-to-end test of SRTP through the MMR with real GStreamer clients.

Like test_vp8_l1t3.py, but in SRTP meetings: a real VP8 L1T3 encoder (vp8enc with layer reference
flags) and an Opus encoder send from one participant (alice), encrypted by GStreamer's srtpenc with
the send_key `mmrctl participant add` printed for alice; the MMR authenticates and decrypts, picks
layers, and encrypts each receiver's copy with that receiver's recv_key; each receiver decrypts with
GStreamer's srtpdec and decodes (rtpvp8depay ! vp8dec). Receivers bob T0, carol T1, dave T2 (and
in the AES-128-GCM meeting erin, switched T2 -> T0 -> T2 mid-stream): every picture pixel-exact
against the sender's own decode, exactly the frames of its layers, contiguous sequence numbers,
every Opus packet intact; srtpdec must refuse nothing; the MMR counts no srtp_auth/srtp_replay drops.
Two meetings in turn: AEAD_AES_128_GCM (srtpenc rtp-cipher=aes-128-gcm rtp-auth=null, 28-byte key)
and AES_CM_128_HMAC_SHA1_80 (aes-128-icm + hmac-sha1-80, 30 bytes). Keys go from mmrctl's SDES
`inline:` base64 to srtpenc's `key` and srtpdec's `srtp-key` caps as hex (srtp_media.py).

Run as root: /usr/bin/python3 tests/e2e/test_srtp_gst.py [--build DIR] [--asan] [--frames N]
                                                  [--suite NAME ...]
Negative controls (each must make the test FAIL):
  --wrong-recv-key   dave decrypts with a key that is not his recv_key (srtpdec refuses his copies)
  --wrong-send-key   alice encrypts with a key that is not her send_key (the MMR must drop it all)
Exit 0 on pass; 1 with the failures printed otherwise. Takes about 25 s.
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

SUITES = ("AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80")


class Plan:
    """One SRTP meeting of the test: its name, suite, ports and SSRCs."""

    def __init__(self, k, suite, frames, switching):
        self.meeting = "srtp%d" % k
        self.suite = suite
        self.sender_port = 40100 + 100 * k
        self.video_ssrc = 0x1000 + k
        self.audio_ssrc = 0x2000 + k
        third = frames // 3
        base = self.sender_port
        self.specs = [ls.RxSpec("bob", base + 2, 0), ls.RxSpec("carol", base + 4, 1),
                      ls.RxSpec("dave", base + 6, 2)]
        if switching:
            self.specs.append(ls.RxSpec("erin", base + 8, 2, switches=[(third, 0), (2 * third, 2)]))
        self.keys = {}       # participant -> {"srtp_suite", "send_key", "recv_key"}


def add_participant(env, sm, plan, name, port, role, client_ip, problems):
    """participant add; returns its keys parsed from the text output (None on a problem)."""
    cp = env.ctl("participant", "add", plan.meeting, name, "--addr", client_ip, "--port", str(port),
                 "--role", role)
    try:
        keys = sm.parse_mmrctl_keys(cp.stdout)
    except ValueError as e:
        problems.append("participant add %s %s: %s" % (plan.meeting, name, e))
        return None
    if keys["srtp_suite"] != plan.suite:
        problems.append("participant add %s %s printed srtp_suite %s, want %s"
                        % (plan.meeting, name, keys["srtp_suite"], plan.suite))
    return keys


def setup_meeting(env, sm, plan, client_ip, problems):
    env.ctl("meeting", "create", plan.meeting, "--srtp", plan.suite)
    plan.keys["alice"] = add_participant(env, sm, plan, "alice", plan.sender_port, "sendonly",
                                         client_ip, problems)
    env.ctl("stream", "add", plan.meeting, "alice", "--ssrc", str(plan.video_ssrc), "--kind",
            "video", "--codec", "vp8", "--layers", "3")
    env.ctl("stream", "add", plan.meeting, "alice", "--ssrc", str(plan.audio_ssrc), "--kind",
            "audio", "--codec", "opus")
    for s in plan.specs:
        plan.keys[s.name] = add_participant(env, sm, plan, s.name, s.port, "recvonly", client_ip,
                                            problems)
        env.ctl("sub", "set", plan.meeting, s.name, "--ssrc", str(plan.video_ssrc), "--target",
                str(s.target))
    # `participant keys` (JSON) must give what `add` printed
    for name, keys in plan.keys.items():
        if keys is None:
            continue
        again = env.ctl("participant", "keys", plan.meeting, name, json=True).stdout
        if {k: again.get(k) for k in keys} != keys:
            problems.append("participant keys %s %s --json differs from what add printed"
                            % (plan.meeting, name))


def srtp_drops(env, mmrtest):
    d = mmrtest.drop_counts(env.stats())
    return {k: d.get(k, 0) for k in ("srtp_auth", "srtp_replay")}


def run_meeting(env, mmrtest, sm, plan, args, client_ip, mmr):
    """One call in one SRTP meeting; returns True when every check passed."""
    problems = []
    print("== %s: %s, %d frames" % (plan.meeting, plan.suite, args.frames))
    setup_meeting(env, sm, plan, client_ip, problems)
    if problems:
        for p in problems:
            print("  " + p)
        return False
    env.wait_dp_attached()
    st = sm.suite(plan.suite)
    send_key = sm.inline_key(plan.keys["alice"]["send_key"], plan.suite)
    if args.wrong_send_key:
        send_key = bytes(b ^ 0x5A for b in send_key)
    recv_keys = {s.name: sm.inline_key(plan.keys[s.name]["recv_key"], plan.suite)
                 for s in plan.specs}
    if args.wrong_recv_key:
        recv_keys["dave"] = bytes([recv_keys["dave"][0] ^ 1]) + recv_keys["dave"][1:]
    before = srtp_drops(env, mmrtest)

    class Sender(sm.SrtpSender):
        def __init__(self, *a, **kw):
            super().__init__(*a, suite_name=st.name, key=send_key, **kw)

    def make_receiver(spec, local, vssrc, assrc):
        return sm.SrtpReceiver(spec.name, local, vssrc, assrc, spec.target, suite_name=st.name,
                               key=recv_keys[spec.name])

    def set_target(name, tid):
        env.ctl("sub", "set", plan.meeting, name, "--ssrc", str(plan.video_ssrc), "--target",
                str(tid))

    sender, rxs, sender_errors, log = ls.run_session(
        client_ip, mmr, plan.specs, set_target, plan.sender_port, video_ssrc=plan.video_ssrc,
        audio_ssrc=plan.audio_ssrc, frames=args.frames, sender_cls=Sender,
        make_receiver=make_receiver)
    after = srtp_drops(env, mmrtest)
    results = [ls.check_receiver(sender, s, r, log) for s, r in rxs]
    for e in sender_errors:
        print("  sender error: " + e)
    ok = ls.report(sender, results, print) and not sender_errors
    print("  srtp: alice sent %d SRTP packets; received/decrypted per receiver: %s"
          % (sender.srtp_packets, ", ".join("%s %d/%d" % (s.name, r.srtp_in, r.srtp_ok)
                                           for s, r in rxs)))
    for s, r in rxs:
        if r.sources and r.sources != {mmr}:
            print("  %s received packets from %s, want only %s:%d" % (s.name, sorted(r.sources),
                                                                    mmr[0], mmr[1]))
            ok = False
    grew = {k: after[k] - before[k] for k in after}
    print("  mmr drops during the call: %s" % json.dumps(grew, sort_keys=True))
    if any(grew.values()):
        print("  FAIL: the MMR dropped packets of this call as srtp_auth/srtp_replay: %s" % grew)
        ok = False
    try:
        vs = mmrtest.stream_stats(env.stats(), plan.video_ssrc) or {}
        print("  mmr video stream: %s" % json.dumps(vs, sort_keys=True))
    except Exception as e:  # informative only
        print("  mmr stats unavailable: %s" % e)
    print("== %s: %s" % (plan.meeting, "PASS" if ok else "FAIL"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--frames", type=int, default=180)
    ap.add_argument("--suite", action="append", choices=SUITES + ("AEAD_AES_256_GCM",),
                    help="run only these suites (default: %s)" % ", ".join(SUITES))
    ap.add_argument("--wrong-recv-key", action="store_true",
                    help="negative control: dave decrypts with a wrong key; the test must FAIL")
    ap.add_argument("--wrong-send-key", action="store_true",
                    help="negative control: alice encrypts with a wrong key; the test must FAIL")
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
        import srtp_media as sm
    except ImportError as e:
        print("FAIL: test helpers not usable: %s" % e)
        return 1

    t0 = time.monotonic()
    suites = args.suite or list(SUITES)
    ok = True
    # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
    # RTCP toward real clients is tested by test_rtcp_loss.py)
    with MmrEnv("e2e-srtp-gst", build=args.build, asan=args.asan, rtcp=False) as env:
        env.wait_dp_attached()
        probe = env.ctl("meeting", "create", "probe", "--srtp", suites[0], check=False)
        if probe.returncode != 0:
            print("FAIL: this MMR has no SRTP meetings: mmrctl meeting create probe --srtp %s: "
                  "exit %d: %s" % (suites[0], probe.returncode, probe.stderr.strip()))
            return 1
        env.ctl("meeting", "end", "probe")
        for k, suite in enumerate(suites):
            plan = Plan(k, suite, args.frames, switching=(k == 0))
            try:
                ok = run_meeting(env, mmrtest, sm, plan, args, CLIENT_IP, (MMR_IP, MMR_PORT)) and ok
            except mmrtest.CtlError as e:
                print("  FAIL: %s" % e)
                ok = False
    print("%s: test_srtp_gst (%.1f s)" % ("PASS" if ok else "FAIL", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
