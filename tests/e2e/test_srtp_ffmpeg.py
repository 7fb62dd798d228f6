#!/usr/bin/python3
"""
test_srtp_ffmpeg.py - ffmpeg's SRTP sender through the MMR to a GStreamer srtpdec receiver.

In an AES_CM_128_HMAC_SHA1_80 meeting (ffmpeg refuses the GCM suites), ffmpeg sends a VP8 clip as
SRTP (`-srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params BASE64`, the base64 of the send_key
`mmrctl participant add` printed, without its `inline:` prefix) from the participant's registered
address and port (`srtp://MMR:5000?localaddr=IP&localport=N`). The MMR authenticates, decrypts,
forwards (one layer: ffmpeg's VP8 carries no TID) and encrypts the copy with the receiver's
recv_key; the receiver decrypts with GStreamer's srtpdec and decodes with rtpvp8depay ! vp8dec.
The clip is encoded once into a file that ffmpeg then sends with -c:v copy, so GStreamer's decode of
the file is the reference: the receiver must decode every picture, in order, pixel-exact; its
sequence numbers must be contiguous, srtpdec must refuse nothing, the MMR must count no
srtp_auth/srtp_replay drops and must have forwarded every packet it received from ffmpeg.

Run as root: /usr/bin/python3 tests/e2e/test_srtp_ffmpeg.py [--build DIR] [--asan] [--frames N]
Negative control: --wrong-key (ffmpeg encrypts with a key that is not its send_key; the MMR must drop
everything as srtp_auth and the test must FAIL).
Exit 0 on pass; 1 with the failures printed otherwise. Takes about 10 s.
"""

import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

MEETING = "ff"
SUITE = "AES_CM_128_HMAC_SHA1_80"
SENDER_PORT = 40500
RECEIVER_PORT = 40502
SSRC = 0x3333


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--wrong-key", action="store_true",
                    help="negative control: ffmpeg uses a wrong key; the test must FAIL")
    args = ap.parse_args()

    missing = [p for p in ("mmr-dataplane", "mmr-controller", "mmrctl")
               if not os.access(os.path.join(args.build, p), os.X_OK)]
    if missing:
        print("FAIL: %s not built in %s (make progs)" % (", ".join(missing), args.build))
        return 1
    if os.geteuid() != 0:
        print("FAIL: must run as root (network namespace, DPDK)")
        return 1
    if not shutil.which("ffmpeg"):
        print("FAIL: ffmpeg not installed (scripts/install-deps.sh)")
        return 1
    try:
        import mmrtest
        from mmrtest import CLIENT_IP, MMR_IP, MMR_PORT, MmrEnv
        import srtp_ffmpeg as sf
        import srtp_media as sm
    except ImportError as e:
        print("FAIL: test helpers not usable: %s" % e)
        return 1

    t0 = time.monotonic()
    problems = []
    clip = sf.Clip(frames=args.frames)
    try:
        # RTCP off: its receivers are RTP-only tools that take every datagram for media (the MMR's
        # RTCP toward real clients is tested by test_rtcp_loss.py)
        with MmrEnv("e2e-srtp-ffmpeg", build=args.build, asan=args.asan, rtcp=False) as env:
            env.wait_dp_attached()
            cp = env.ctl("meeting", "create", MEETING, "--srtp", SUITE, check=False)
            if cp.returncode != 0:
                print("FAIL: mmrctl meeting create %s --srtp %s: exit %d: %s"
                      % (MEETING, SUITE, cp.returncode, cp.stderr.strip()))
                return 1
            tx = sm.parse_mmrctl_keys(env.ctl(
                "participant", "add", MEETING, "ffmpeg", "--addr", CLIENT_IP, "--port",
                str(SENDER_PORT), "--role", "sendonly").stdout)
            env.ctl("stream", "add", MEETING, "ffmpeg", "--ssrc", str(SSRC), "--kind", "video",
                    "--codec", "vp8")
            rxk = sm.parse_mmrctl_keys(env.ctl(
                "participant", "add", MEETING, "rx", "--addr", CLIENT_IP, "--port",
                str(RECEIVER_PORT), "--role", "recvonly", json=True).stdout)
            env.wait_dp_attached()
            send_key = sm.inline_key(tx["send_key"], SUITE)
            if args.wrong_key:
                send_key = bytes(b ^ 0xA5 for b in send_key)
            recv_key = sm.inline_key(rxk["recv_key"], SUITE)
            drops0 = mmrtest.drop_counts(env.stats())

            rx = sm.SrtpReceiver("rx", (CLIENT_IP, RECEIVER_PORT), SSRC, None, 0,
                                 suite_name=SUITE, key=recv_key)
            rx.start()
            try:
                ferr = sf.send_srtp(clip.path, (MMR_IP, MMR_PORT), CLIENT_IP, SENDER_PORT,
                                    send_key, SSRC)
                time.sleep(0.5)
            finally:
                rx_errors = rx.finish()
            st = env.stats()
            drops = {k: v - drops0.get(k, 0) for k, v in mmrtest.drop_counts(st).items()
                     if v - drops0.get(k, 0)}
            vs = mmrtest.stream_stats(st, SSRC) or {}
        problems += ["ffmpeg: " + e for e in ferr]
        problems += sf.check_decode(clip, rx, rx_errors, SSRC)
        print("ffmpeg: clip of %d frames; receiver got %d SRTP packets, srtpdec passed %d, "
              "decoded %d pictures" % (len(clip.hashes), rx.srtp_in, rx.srtp_ok, len(rx.decoded)))
        print("mmr drops during the call: %s" % json.dumps(drops, sort_keys=True))
        print("mmr stream: %s" % json.dumps(vs, sort_keys=True))
        if drops.get("srtp_auth") or drops.get("srtp_replay"):
            problems.append("the MMR dropped %d packets as srtp_auth and %d as srtp_replay"
                            % (drops.get("srtp_auth", 0), drops.get("srtp_replay", 0)))
        if not vs.get("rx_pkts"):
            problems.append("the MMR counted no packets on the stream")
        elif vs.get("fwd_copies") != vs.get("rx_pkts") or rx.srtp_in != vs.get("rx_pkts"):
            problems.append("the MMR received %s packets, forwarded %s, the receiver got %d"
                            % (vs.get("rx_pkts"), vs.get("fwd_copies"), rx.srtp_in))
        if rx.sources and rx.sources != {(MMR_IP, MMR_PORT)}:
            problems.append("receiver got packets from %s, want only %s:%d"
                            % (sorted(rx.sources), MMR_IP, MMR_PORT))
    except (mmrtest.HarnessError, ValueError, RuntimeError) as e:
        problems.append("%s: %s" % (type(e).__name__, e))
    finally:
        clip.remove()
    for p in problems:
        print("  - " + p)
    ok = not problems
    print("%s: test_srtp_ffmpeg (%.1f s)" % ("PASS" if ok else "FAIL", time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
