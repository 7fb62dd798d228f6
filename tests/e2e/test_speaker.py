#!/usr/bin/python3
"""
test_speaker.py - issue 12 end to end, audio: the dominant speaker and top-N with real Opus.

A meeting of 20 participants (p00..p19, all sendrecv), each sending one real Opus stream (libopus,
48 kHz mono, 20 ms frames) with the RFC 6464 client-to-mixer audio level extension (one-byte form,
element id 1, `participant add --ext audio-level=1`), through the real MMR (mmr-dataplane on net_tap
+ mmr-controller, tests/lib/mmrtest.py). The meeting runs top-3 audio (`meeting set m1 --top-n 3`).
One participant talks at a time: a sine of its own frequency (400 + 100 * i Hz) at -10 dBov; every
other participant sends low white noise at -60 dBov. Nobody talks for the first second, then the
talker changes every 3 s (8 talkers). The participants are tools/opus_talkers.c (one process: 20
sockets, 20 libopus encoders, the level computed from each encoded frame), which also records every
datagram each participant receives; afterwards it decodes every output with libopus.

Why a C tool and not 20 GStreamer pipelines: 20 opusenc pipelines (plus 60 decoders) are heavy on
the 2-core machine that also runs the busy-polling dataplane; GStreamer 1.22 has the RFC 6464 header
extension writer (rtphdrextclientaudiolevel) but no element that puts the level meta on buffers, so
the level would have to come from somewhere else anyway. libopus is the same encoder and decoder
opusenc/opusdec wrap.

Checks:
  - dominant speaker (`mmrctl --json meeting show`: dominant_speaker, polled every ~50 ms through the
    controller's socket; the controller's model is what the MMR_EV_SPEAKER events made it): after each
    change it names the new talker within 1 s (the measured delays are printed) and keeps it until the
    next change;
  - top-3: every receiver gets RTP audio on at most 3 SSRCs, its slot SSRCs (`sub list`, when it
    shows them; one whose own stream held a slot the whole run never gets that slot's output), each with contiguous sequence numbers and increasing timestamps across the speaker
    changes, every packet decoded by libopus without error; in every talk period, from 1 s after the
    change to the next change, the talker's tone is decoded on one (the same) output of every other
    receiver in >= 90 % of the 20 ms frames (a frame carries tone i when the Goertzel power at i's
    frequency is within 3 dB of the frame's whole power); a talker does not hear its own tone (at most
    2 glitch frames: a decoder fed one encoder's packets after another's may ring for a frame). The delay from
    each change to the tone's first arrival at each receiver is printed (median and max).
--no-level-ext: the negative control (in tests/run-all.sh): the same participants send the same
packets, but are added without `--ext audio-level`: the MMR must not see the levels, so the
dominant speaker must not follow the talker: the test must FAIL ("FAIL dominant speaker ...").

Run as root: /usr/bin/python3 tests/e2e/test_speaker.py [--build DIR] [--no-level-ext] [--talk-ms N]
                                                   [--keep DIR: the capture and the poll timeline]
Exit 0 on pass; 1 with the failures printed otherwise. Takes about 40 s (--no-level-ext: 20 s).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import mmrtest  # noqa: E402
from mmrtest import CLIENT_IP, MMR_IP, MMR_PORT, MmrEnv  # noqa: E402

MEETING = "m1"
N = 20
TOP_N = 3
BASE_PORT = 42000
SSRC_BASE = 0x50000
LEVEL_EXT_ID = 1
TALKERS = [0, 7, 13, 4, 19, 10, 2, 16]
LEAD_MS = 1000           # nobody talks first
FOLLOW_S = 1.0           # the dominant speaker must follow within this
TONE_SHARE = 0.90        # of the frames of a talk period (after FOLLOW_S) that carry the talker's tone
PURE_DB = 3.0            # a decoded frame carries tone i if that tone is within this of its whole RMS
OWN_MAX = 2              # frames of its own tone a talker may decode in its talk period (glitches)


def pname(i):
    return "p%02d" % i


class Poller(threading.Thread):
    """Asks the controller for the meeting's dominant speaker every ~50 ms (one request on its socket,
    no mmrctl process); keeps (monotonic ns when the answer came, name or None)."""

    def __init__(self, env):
        super().__init__(daemon=True)
        self.env = env
        self.samples = []
        self.errors = []
        self.stop_ev = threading.Event()
        self.top_n = None

    def run(self):
        import json
        try:    # this thread only (pid 0 on Linux): the answer times are the measured delays
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except (OSError, AttributeError):
            pass
        while not self.stop_ev.is_set():
            try:
                ok, status, body = self.env.ctl_request("--json", "meeting", "show", MEETING, timeout=5)
                t = time.monotonic_ns()
                if not ok:
                    self.errors.append(status)
                else:
                    m = json.loads(body)
                    ds = m.get("dominant_speaker")
                    if isinstance(ds, dict):
                        ds = ds.get("name")
                    self.top_n = m.get("top_n")
                    self.samples.append((t, ds))
            except Exception as e:  # noqa: a failed poll is recorded, not fatal
                self.errors.append(str(e))
            self.stop_ev.wait(0.05)


def setup(env, level_ext):
    env.ctl("meeting", "create", MEETING, "--plain")
    for i in range(N):
        args = ["participant", "add", MEETING, pname(i), "--addr", CLIENT_IP, "--port", str(BASE_PORT + i)]
        if level_ext:
            args += ["--ext", "audio-level=%d" % LEVEL_EXT_ID]
        env.ctl(*args)
        env.ctl("stream", "add", MEETING, pname(i), "--ssrc", str(SSRC_BASE + i), "--kind", "audio",
                "--codec", "opus")
    env.ctl("meeting", "set", MEETING, "--top-n", str(TOP_N))


def slot_ssrcs(env):
    """{receiver name: set of its audio slot out SSRCs} from `sub list --json` (slot subscriptions:
    those with a topn_slot / slot key, or audio ones without a publisher), {} if it shows none."""
    try:
        subs = env.ctl("sub", "list", MEETING, json=True).stdout.get("subscriptions", [])
    except Exception as e:  # noqa: informative
        print("     sub list: %s" % e)
        return {}
    out = {}
    for s in subs:
        slot = s.get("topn_slot", s.get("slot"))
        if slot or (s.get("kind") == "audio" and not s.get("publisher")):
            out.setdefault(s.get("subscriber"), set()).add(s.get("out_ssrc"))
    return out


def run_talkers(tool, schedule, duration_ms, capture, level_ext):
    sched = ",".join("%d:%d" % (ms, who) for ms, who in schedule)
    argv = [tool, "run", "--dest", "%s:%d" % (MMR_IP, MMR_PORT), "--bind", CLIENT_IP,
            "--port", str(BASE_PORT), "--n", str(N), "--ssrc", str(SSRC_BASE),
            "--ext-id", str(LEVEL_EXT_ID), "--schedule", sched, "--duration", str(duration_ms),
            "--capture", capture]
    # level_ext only changes the MMR's configuration: the packets are the same either way
    del level_ext
    def realtime():
        # an audio sender's thread is real-time in every client; here it keeps the 20 ms ticks on a
        # machine busy with other tests (a tick served 40 ms late is silence to the MMR's detector)
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except (OSError, AttributeError):
            pass
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=duration_ms / 1000 + 60,
                        preexec_fn=realtime)
    if cp.returncode != 0:
        raise RuntimeError("opus_talkers run: exit %d: %s" % (cp.returncode, cp.stderr.strip()))
    changes, info = [], {}
    for line in cp.stdout.splitlines():
        f = line.split()
        if f and f[0] == "CHANGE":
            changes.append((int(f[1]), int(f[2])))
        elif f and f[0] == "END":
            info["END"] = int(f[1])
        elif len(f) == 2:
            info[f[0]] = int(f[1])
    return changes, info


def decode(tool, capture):
    cp = subprocess.run([tool, "decode", "--n", str(N), capture], capture_output=True, text=True,
                        timeout=120)
    if cp.returncode != 0:
        raise RuntimeError("opus_talkers decode: exit %d: %s" % (cp.returncode, cp.stderr.strip()))
    pkts, other = [], 0
    for line in cp.stdout.splitlines():
        f = line.split()
        if f[0] == "P":
            # part ssrc seq ts arrival samples tone tone_db rms_db
            tone = int(f[7])
            # a tone counts when it carries most of the frame's power (a pure sine: tone ~ rms); the
            # glitch of a decoder switched between two encoders' streams is broadband
            if tone >= 0 and float(f[8]) < float(f[9]) - PURE_DB:
                tone = -1
            pkts.append((int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), tone))
        elif f[0] == "OTHER":
            other = int(f[1])
    return pkts, other


def check_dominant(c, changes, samples, end_ns):
    """Per change: the delay until the controller names the talker; it must then hold until the next."""
    delays, held = [], True
    for k, (t, who) in enumerate(changes):
        if who < 0:
            continue
        nxt = changes[k + 1][0] if k + 1 < len(changes) else end_ns
        want = pname(who)
        seen = [(ts, ds) for ts, ds in samples if t <= ts < nxt]
        first = next((ts for ts, ds in seen if ds == want), None)
        if first is None:
            last = seen[-1][1] if seen else None
            delays.append(None)
            print("     change %d to %s: never named (last answer %r, %d polls)" % (k, want, last, len(seen)))
            continue
        d = (first - t) / 1e9
        delays.append(d)
        away = [ds for ts, ds in seen if ts >= first and ds != want]
        if away:
            held = False
            print("     change %d to %s: named after %.2f s, then %d polls said otherwise (%s)"
                  % (k, want, d, len(away), sorted(set(map(str, away)))))
    shown = ", ".join("-" if d is None else "%.2f" % d for d in delays)
    print("     dominant speaker delays (s) per change: %s" % shown)
    ok = all(d is not None and d <= FOLLOW_S for d in delays)
    c.check(ok, "dominant speaker follows the talker within %.1f s of each change" % FOLLOW_S,
            "delays %s" % shown)
    c.check(held and ok, "dominant speaker stays with the talker until the next change")
    return delays


def check_topn(c, changes, pkts, end_ns, slots):
    by_rx = {}
    for p in pkts:
        by_rx.setdefault(p[0], []).append(p)
    bad_ssrcs, bad_slots, bad_seq, bad_ts, bad_dec, own = [], [], [], [], [], []
    talks = {}   # participant -> its talk periods (start, end) in monotonic ns
    for k, (t, who) in enumerate(changes):
        if who >= 0:
            talks.setdefault(who, []).append((t, changes[k + 1][0] if k + 1 < len(changes) else end_ns))
    full = 0
    for r in range(N):
        got = by_rx.get(r, [])
        ssrcs = {}
        for p in got:
            ssrcs.setdefault(p[1], []).append(p)
        if len(ssrcs) > TOP_N:
            bad_ssrcs.append("%s: %d SSRCs %s" % (pname(r), len(ssrcs), sorted(ssrcs)[:6]))
        full += len(ssrcs) == TOP_N
        want = slots.get(pname(r))
        if want and not set(ssrcs) <= want:
            bad_slots.append("%s: %s, slots %s" % (pname(r), sorted(ssrcs), sorted(want)))
        for ssrc, ps in ssrcs.items():
            for a, b in zip(ps, ps[1:]):
                if (b[2] - a[2]) & 0xffff != 1:
                    bad_seq.append("%s ssrc %d: seq %d -> %d" % (pname(r), ssrc, a[2], b[2]))
                    break
            for a, b in zip(ps, ps[1:]):
                dts = (b[3] - a[3]) & 0xffffffff
                if dts == 0 or dts >= 1 << 31:
                    bad_ts.append("%s ssrc %d: ts %d -> %d" % (pname(r), ssrc, a[3], b[3]))
                    break
        nbad = sum(1 for p in got if p[5] <= 0)
        if nbad:
            bad_dec.append("%s: %d of %d packets" % (pname(r), nbad, len(got)))
        # its own stream sent back would give its tone in every frame of its talk periods
        mine = [p for p in got if p[6] == r and any(t <= p[4] < nxt for t, nxt in talks.get(r, ()))]
        if len(mine) > OWN_MAX:
            own.append("%s: %d frames" % (pname(r), len(mine)))
    # a receiver whose own stream held a slot the whole run never got that slot's output
    c.check(not bad_ssrcs, "every receiver gets audio on at most %d SSRCs" % TOP_N, "; ".join(bad_ssrcs[:5]))
    print("     %d of %d receivers got all %d outputs" % (full, N, TOP_N))
    if slots:
        c.check(not bad_slots, "those are its slot SSRCs (sub list)", "; ".join(bad_slots[:5]))
    else:
        print("     sub list shows no slot subscriptions: SSRCs not compared with the controller's")
    c.check(not bad_seq, "contiguous sequence numbers per output across speaker changes", "; ".join(bad_seq[:5]))
    c.check(not bad_ts, "increasing timestamps per output across speaker changes", "; ".join(bad_ts[:5]))
    c.check(not bad_dec, "libopus decodes every packet without error", "; ".join(bad_dec[:5]))
    c.check(not own, "no talker hears its own tone (at most %d glitch frames)" % OWN_MAX, "; ".join(own[:5]))

    short, split, onsets = [], [], []
    for k, (t, who) in enumerate(changes):
        if who < 0:
            continue
        nxt = changes[k + 1][0] if k + 1 < len(changes) else end_ns
        lo = t + int(FOLLOW_S * 1e9)
        frames = (nxt - lo) / 20e6
        for r in range(N):
            if r == who:
                continue
            got = [p for p in by_rx.get(r, []) if lo <= p[4] < nxt and p[6] == who]
            outs = {p[1] for p in got}
            if len(got) < TONE_SHARE * frames:
                short.append("change %d (%s) at %s: %d of %.0f frames" % (k, pname(who), pname(r), len(got), frames))
            if len(outs) > 1:
                split.append("change %d (%s) at %s: on %d outputs" % (k, pname(who), pname(r), len(outs)))
            first = next((p[4] for p in by_rx.get(r, []) if t <= p[4] < nxt and p[6] == who), None)
            if first is not None:
                onsets.append((first - t) / 1e9)
    c.check(not short, "every receiver decodes the talker's tone in >= %d %% of each talk period's frames "
            "(from %.1f s after the change)" % (TONE_SHARE * 100, FOLLOW_S), "; ".join(short[:5]) +
            ("; ... %d in all" % len(short) if len(short) > 5 else ""))
    c.check(not split, "the talker's tone stays on one output of each receiver per talk period", "; ".join(split[:5]))
    if onsets:
        print("     top-%d: talker's tone first decoded after a change: median %.2f s, max %.2f s (%d receivers x changes)"
              % (TOP_N, statistics.median(onsets), max(onsets), len(onsets)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--talk-ms", type=int, default=3000, help="each talker talks this long")
    ap.add_argument("--keep", metavar="DIR", help="keep the capture (capture.bin) and its decode in DIR")
    ap.add_argument("--no-level-ext", action="store_true",
                    help="negative control: participants added without --ext audio-level; must FAIL")
    args = ap.parse_args()

    tool = os.path.join(args.build, "tests", "e2e", "opus_talkers")
    c = mmrtest.Checks("test_speaker" + (" --no-level-ext" if args.no_level_ext else ""))
    if not os.access(tool, os.X_OK):
        c.check(False, "%s built (make)" % tool)
        c.done()
    talkers = TALKERS[:3] if args.no_level_ext else TALKERS
    schedule = [(0, -1)] + [(LEAD_MS + k * args.talk_ms, who) for k, who in enumerate(talkers)]
    duration = LEAD_MS + len(talkers) * args.talk_ms

    def body(c):
        with MmrEnv("e2e-speaker" + ("-noext" if args.no_level_ext else ""), build=args.build) as env:
            env.wait_dp_attached()
            setup(env, not args.no_level_ext)
            env.wait_dp_attached()
            slots = slot_ssrcs(env)
            poller = Poller(env)
            poller.start()
            with tempfile.TemporaryDirectory(prefix="mmrt-speaker-") as tmp:
                cap = os.path.join(tmp, "capture.bin")
                try:
                    changes, info = run_talkers(tool, schedule, duration, cap, not args.no_level_ext)
                finally:
                    poller.stop_ev.set()
                    poller.join()
                end_ns = info.get("END", time.monotonic_ns())
                pkts, other = decode(tool, cap)
                if args.keep:
                    import shutil
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copy(cap, args.keep)
                    with open(os.path.join(args.keep, "timeline.txt"), "w") as f:
                        f.writelines("CHANGE %d %d\n" % ch for ch in changes)
                        f.writelines("POLL %d %s\n" % smp for smp in poller.samples)
            print("     sent %d packets, received %d (%d RTP audio, %d other: RTCP); %d polls, %d poll errors%s"
                  % (info.get("SENT", 0), info.get("RECV", 0), len(pkts), other, len(poller.samples),
                     len(poller.errors), (": " + poller.errors[0]) if poller.errors else ""))
            print("     sender: latest 20 ms tick served %.1f ms late, %d ticks over 40 ms late"
                  % (info.get("LATE_MAX_US", 0) / 1000, info.get("LATE_OVER_40MS", 0)))
            c.eq(poller.top_n, TOP_N, "meeting show says top_n %d" % TOP_N)
            try:
                st = env.stats()
                for i in (0, 7):
                    print("     mmr stream %d: %s" % (SSRC_BASE + i, mmrtest.stream_stats(st, SSRC_BASE + i)))
            except Exception as e:  # noqa: informative
                print("     stats: %s" % e)
            c.eq(len(changes), len(talkers) + 1, "every talker change happened")
            check_dominant(c, changes, poller.samples, end_ns)
            check_topn(c, changes, pkts, end_ns, slots)

    try:
        body(c)
    except Exception as e:  # noqa: a test must report, not crash
        import traceback
        traceback.print_exc()
        c.check(False, "test ran to the end", "%s: %s" % (type(e).__name__, e))
    c.done()


if __name__ == "__main__":
    main()
