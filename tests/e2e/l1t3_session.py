"""
l1t3_session.py - one VP8 L1T3 + Opus call between a real GStreamer sender and several real
GStreamer receivers, and the checks that every receiver decoded exactly the pictures its layer
target entitles it to, each pixel-for-pixel equal to the sender's own decode.

The forwarder in the middle is not this module's business: the caller gives the sender's
destination, the receivers' addresses and a set_target(receiver_name, tid) callback used for
mid-stream target changes (mmrctl for the real MMR, LayerRelay.set_target for the self-check).

Per receiver with a fixed target T the checks are:
  - its decoder and socket reported no error;
  - every decoded picture matches a sender picture, in increasing order (rtp_media.match_frames);
  - the matched frames are exactly the sender's frames with TID <= T (T2: all of them), which puts
    T0 at ~25 % and T1 at ~50 % (the ratios are also asserted within 20-30 % and 45-55 %);
  - video sequence numbers arrive contiguous, with the sender's SSRC;
  - every Opus packet arrives, payload bytes unchanged (audio is passed through).
A receiver with target switches gets the same pixel checks plus: all frames before the first switch,
only TL0 frames while it is at T0 (after a settling margin), all frames again after switching
back up.
"""

import threading
import time

import rtp_media as rm

SETTLE_FRAMES = 30    # frames allowed between issuing a target change and seeing it applied


class RxSpec:
    def __init__(self, name, port, target, switches=()):
        self.name = name
        self.port = port
        self.target = target
        self.switches = list(switches)   # [(sender frame index, new target)], in order


class Result:
    def __init__(self, spec):
        self.spec = spec
        self.failures = []
        self.decoded = 0
        self.matched = 0
        self.expected = 0
        self.ratio = 0.0
        self.switch_frames = []   # sender frame index at which each switch was issued

    def fail(self, msg):
        self.failures.append(msg)


def run_session(client_ip, dest, specs, set_target, sender_port, video_ssrc, audio_ssrc,
                frames=240, layer_flags=True, audio=True, drain_s=1.0, sender_cls=None,
                make_receiver=None):
    """Run one call; returns (sender, [(spec, receiver)], sender_errors, switch_log).
    switch_log: {receiver name: [(frame index, target)]} of switches as issued.
    sender_cls (default rm.Sender, same constructor) and make_receiver(spec, local, video_ssrc,
    audio_ssrc) (default: an rm.Receiver) let a caller put other clients (SRTP) on the call."""
    sender = (sender_cls or rm.Sender)((client_ip, sender_port), dest, video_ssrc, audio_ssrc,
                                       frames=frames, layer_flags=layer_flags, audio=audio)
    if make_receiver is None:
        def make_receiver(s, local, vssrc, assrc):
            return rm.Receiver(s.name, local, vssrc, assrc, s.target)
    receivers = [(s, make_receiver(s, (client_ip, s.port), video_ssrc, audio_ssrc)) for s in specs]
    switch_log = {s.name: [] for s in specs}
    pending = sorted(((f, s.name, t) for s in specs for f, t in s.switches))
    todo = []
    cv = threading.Condition()
    stop = [False]

    def on_frame(idx):
        with cv:
            while pending and pending[0][0] <= idx:
                f, name, t = pending.pop(0)
                todo.append((idx, name, t))
                cv.notify()

    def switcher():
        # Target changes are issued off the streaming thread (mmrctl is a process).
        while True:
            with cv:
                while not todo and not stop[0]:
                    cv.wait()
                if not todo and stop[0]:
                    return
                idx, name, t = todo.pop(0)
            switch_log[name].append((idx, t))
            set_target(name, t)

    sender.on_frame = on_frame
    th = threading.Thread(target=switcher, name="switcher", daemon=True)
    th.start()
    for _, r in receivers:
        r.start()
    time.sleep(0.2)
    try:
        sender_errors = sender.run(timeout=frames / rm.FPS + 30)
        time.sleep(drain_s)
    finally:
        with cv:
            stop[0] = True
            cv.notify()
        th.join()
        sender.close()
    for spec, r in receivers:
        r.finish_errors = r.finish()
    return sender, receivers, sender_errors, switch_log


def check_receiver(sender, spec, rx, switch_log):
    res = Result(spec)
    sent = sender.frames
    n = len(sent)
    res.decoded = len(rx.decoded)
    for e in rx.finish_errors:
        res.fail("receiver error: " + e)
    idx, problems = rm.match_frames(sent, rx.decoded)
    res.matched = len(idx)
    res.ratio = res.decoded / n if n else 0.0
    if problems:
        res.fail("%d of %d decoded pictures not matched; first: %s"
                 % (len(problems), res.decoded, problems[0]))
    got = set(idx)
    if not spec.switches:
        want = [i for i, f in enumerate(sent) if f.tid <= spec.target]
        res.expected = len(want)
        missing = [i for i in want if i not in got]
        extra = [i for i in idx if sent[i].tid > spec.target]
        if missing:
            res.fail("%d frames with TID<=%d missing (not decoded, or not pixel-exact), first %s"
                     % (len(missing), spec.target, missing[:8]))
        if extra:
            res.fail("decoded frames above target T%d: %s" % (spec.target, extra[:8]))
        lo, hi = {0: (0.20, 0.30), 1: (0.45, 0.55), 2: (1.0, 1.0)}[spec.target]
        if not lo - 1e-9 <= res.ratio <= hi + 1e-9:
            res.fail("decoded %d of %d frames (%.1f %%), want %d-%d %%"
                     % (res.decoded, n, 100 * res.ratio, 100 * lo, 100 * hi))
    else:
        res.switch_frames = [f for f, _ in switch_log[spec.name]]
        if len(switch_log[spec.name]) != len(spec.switches):
            res.fail("only %d of %d target changes were issued" % (len(switch_log[spec.name]),
                                                                   len(spec.switches)))
        else:
            # Phases: [start, first switch) at the initial target, then each switch's target from
            # its issue frame + SETTLE_FRAMES to the next switch. Frames inside a settling margin
            # may go either way but must still be pixel-exact (checked above).
            bounds = [(0, spec.target)] + [(f, t) for f, t in switch_log[spec.name]]
            for k, (start, t) in enumerate(bounds):
                end = bounds[k + 1][0] if k + 1 < len(bounds) else n
                first = start if k == 0 else start + SETTLE_FRAMES
                want = [i for i in range(first, end) if sent[i].tid <= t]
                extra = [i for i in range(first, end) if i in got and sent[i].tid > t]
                missing = [i for i in want if i not in got]
                if missing:
                    res.fail("phase T%d frames %d-%d: %d frames with TID<=%d missing (not decoded, "
                             "or not pixel-exact), first %s"
                             % (t, first, end - 1, len(missing), t, missing[:8]))
                if extra:
                    res.fail("phase T%d frames %d-%d: frames above the target decoded: %s"
                             % (t, first, end - 1, extra[:8]))
                res.expected += len(want)
            tl0_missing = [i for i, f in enumerate(sent) if f.tid == 0 and i not in got]
            if tl0_missing:
                res.fail("TL0 frames missing: %s" % tl0_missing[:8])
    if rx.video_ssrcs != {sender.video_ssrc}:
        res.fail("video SSRCs %s, want {%d}" % (sorted(rx.video_ssrcs), sender.video_ssrc))
    gaps = rm.seq_gaps(rx.video_seqs)
    if gaps:
        res.fail("%d gaps in the video sequence numbers it received" % gaps)
    if sender.audio_ssrc is not None and sender.audio_payloads:
        if rx.audio_payloads != sender.audio_payloads:
            res.fail("audio: %d of %d Opus packets received%s"
                     % (len(rx.audio_payloads), len(sender.audio_payloads),
                        "" if len(rx.audio_payloads) != len(sender.audio_payloads)
                        else ", payload bytes differ"))
        elif rx.audio_ssrcs != {sender.audio_ssrc}:
            res.fail("audio SSRCs %s, want {%d}" % (sorted(rx.audio_ssrcs), sender.audio_ssrc))
        elif rm.seq_gaps(rx.audio_seqs):
            res.fail("audio sequence numbers not contiguous")
    if rx.other:
        res.fail("%d unexpected packets (neither VP8 pt %d nor Opus pt %d)"
                 % (len(rx.other), rm.VIDEO_PT, rm.AUDIO_PT))
    return res


def report(sender, results, out):
    """Print the per-receiver table; returns True when nothing failed."""
    tids = [f.tid for f in sender.frames]
    out("sender: %d frames (TID0 %d, TID1 %d, TID2 %d, keyframes %d), %d video packets, "
        "%d Opus packets" % (len(tids), tids.count(0), tids.count(1), tids.count(2),
                             sum(1 for f in sender.frames if f.keyframe), sender.video_packets,
                             len(sender.audio_payloads)))
    ok = True
    for r in results:
        sw = ""
        if r.spec.switches:
            sw = " switches " + ", ".join("T%d@frame%d" % (t, f) for f, t in
                                          zip(r.switch_frames, [t for _, t in r.spec.switches]))
        out("  %-6s target T%d%s: decoded %d, matched %d (expected %s%d), ratio %.3f, "
            "audio ok=%s: %s"
            % (r.spec.name, r.spec.target, sw, r.decoded, r.matched,
               ">=" if r.spec.switches else "", r.expected, r.ratio,
               not any(m.startswith("audio") for m in r.failures),
               "PASS" if not r.failures else "FAIL"))
        for m in r.failures:
            out("      - " + m)
        ok = ok and not r.failures
    return ok
