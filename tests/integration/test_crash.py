#!/usr/bin/python3
"""
test_crash.py - either process dies with media flowing (about 500 packets/s: Opus-like audio at 250/s
and VP8 L1T3 video at 83 frames/s of 3 packets).

 1. kill -9 the controller: the dataplane forwards on with its tables (no packet lost);
 2. restart it: it reloads its state file and resyncs onto the live dataplane; `meeting show` is the
    same as before, and no packet is lost during the resync (checked exactly for everything sent
    through steps 1-2: every receiver got exactly what the layer-selector model says, in order);
 3. kill -9 the dataplane and start a new one (new segment, new epoch; the harness re-configures the
    tap's kernel side): the controller replays its state and every receiver gets audio and video
    again within a few seconds (video from the next keyframe), with contiguous numbering afterwards.
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402
import rtpgen  # noqa: E402

AUDIO, VIDEO = 0xC0000001, 0xC0000002
PORTS = {'alice': 6001, 'bob': 6002, 'carol': 6003}
TARGETS = {'bob': 2, 'carol': 0}
RESUME_LIMIT = 5.0


class Sender(threading.Thread):
    """alice's media at about 500 packets/s; records what it sent, in order."""

    def __init__(self, env, sock):
        super().__init__(daemon=True)
        self.env, self.sock = env, sock
        self.audio = rtpgen.OpusLike(AUDIO)
        self.video = rtpgen.Vp8L1T3(VIDEO, keyframe_interval=30, pkts_per_frame=3, payload_size=300)
        self.sent = []               # (t, kind, Packet, delivered_to_kernel)
        self.run_ev = threading.Event()
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        tick = 0
        t_next = time.monotonic()
        while not self.stop_ev.is_set():
            if not self.run_ev.is_set():
                self.run_ev.wait(0.05)
                t_next = time.monotonic()
                continue
            batch = [('audio', self.audio.next_packet())]
            if tick % 3 == 0:
                batch += [('video', p) for p in self.video.next_frame().packets]
            for kind, p in batch:
                ok = self.env.send(self.sock, p.data)
                with self.lock:
                    self.sent.append((time.monotonic(), kind, p, ok))
            tick += 1
            t_next += 0.004
            d = t_next - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -0.5:
                t_next = time.monotonic()

    def pause(self):
        self.run_ev.clear()
        time.sleep(0.05)

    def snapshot(self):
        with self.lock:
            return list(self.sent)


class Receiver(threading.Thread):
    def __init__(self, socks):
        super().__init__(daemon=True)
        self.socks = socks          # name -> socket
        self.got = {n: [] for n in socks}   # name -> [(t, bytes)]
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        by_fd = {s.fileno(): n for n, s in self.socks.items()}
        while not self.stop_ev.is_set():
            r, _, _ = select.select(list(self.socks.values()), [], [], 0.05)
            now = time.monotonic()
            for s in r:
                n = by_fd[s.fileno()]
                while True:
                    try:
                        d = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except ConnectionRefusedError:
                        continue
                    with self.lock:
                        self.got[n].append((now, d))

    def snapshot(self, name):
        with self.lock:
            return list(self.got[name])


def expected_for(sent, name, target):
    """What `name` must have received for the packets in `sent` (all delivered, in order)."""
    model = rtpgen.LayerSelModel()
    out = []
    for _, kind, p, _ in sent:
        if kind == 'audio':
            out.append((AUDIO, p.seq))
        else:
            o = model.feed(p, target)
            if o is not None:
                out.append((VIDEO, o[0]))
    return out


def received(rx):
    out = []
    for _, d in rx:
        r = rtpgen.parse_rtp(d)
        out.append((r.ssrc, r.seq))
    return out


def body(c):
    with MmrEnv('crash', rtcp=False) as env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        for n, p in PORTS.items():
            env.participant('m1', n, p)
        env.stream('m1', 'alice', AUDIO, 'audio')
        env.stream('m1', 'alice', VIDEO, 'video', layers=3)
        for n, t in TARGETS.items():
            env.sub('m1', n, VIDEO, t)
        show_before = env.ctl('meeting', 'show', 'm1', json=True).stdout

        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        snd = Sender(env, socks['alice'])
        rcv = Receiver({n: socks[n] for n in TARGETS})
        rcv.start()
        snd.start()
        snd.run_ev.set()
        time.sleep(1.0)

        # ---- 1. controller killed -------------------------------------------------------------------
        env.kill_controller(9)
        c.check(env.alive() == (True, False), 'controller killed with SIGKILL, dataplane up')
        time.sleep(1.5)
        n_before = {n: len(rcv.snapshot(n)) for n in TARGETS}
        time.sleep(0.5)
        c.check(all(len(rcv.snapshot(n)) > n_before[n] for n in TARGETS),
                'media keeps flowing without a controller')

        # ---- 2. controller restarted -------------------------------------------------------------------
        env.start_controller()
        env.wait_dp_attached(10)
        show_after = env.ctl('meeting', 'show', 'm1', json=True).stdout
        c.check(show_after == show_before, 'restarted controller: meeting show equal to before',
                '%s vs %s' % (show_after, show_before))
        time.sleep(1.5)
        snd.pause()
        time.sleep(0.7)   # let the last packets arrive
        sent = snd.snapshot()
        c.check(all(ok for _, _, _, ok in sent), 'every packet handed to the kernel (%d)' % len(sent))
        for n, t in TARGETS.items():
            want = expected_for(sent, n, t)
            got = received(rcv.snapshot(n))
            missing = len(set(want) - set(got))
            c.check(got == want, '%s (T%d): no loss, nothing extra, in order, across controller kill+resync'
                    % (n, t), '%d received, %d expected, %d missing' % (len(got), len(want), missing))
        st = env.stats()
        vs = mmrtest.stream_stats(st, VIDEO)
        c.check(vs is not None and int(vs.get('rx_pkts', 0)) == sum(1 for s in sent if s[1] == 'video'),
                'video rx_pkts counter continuous over the controller restart', vs)

        # ---- 3. dataplane killed and restarted -----------------------------------------------------------
        mark = {n: len(rcv.snapshot(n)) for n in TARGETS}
        snd.run_ev.set()
        time.sleep(0.5)
        env.kill_dataplane(9)
        c.check(env.alive() == (False, True), 'dataplane killed with SIGKILL, controller up')
        time.sleep(1.5)   # the controller must notice a dead heartbeat (1 s)
        cp = env.ctl('status', check=False)
        c.eq(cp.returncode, 0, 'controller answers status while the dataplane is down')
        t_start = time.monotonic()
        env.start_dataplane()
        t_ready = time.monotonic()
        c.note('dataplane restart took %.2f s' % (t_ready - t_start))
        deadline = t_start + RESUME_LIMIT * (2 if env.asan else 1)
        resumed = {}
        while time.monotonic() < deadline and len(resumed) < 2 * len(TARGETS):
            for n in TARGETS:
                for t, d in rcv.snapshot(n)[mark[n]:]:
                    if t < t_ready:
                        continue
                    ssrc = rtpgen.parse_rtp(d).ssrc
                    resumed.setdefault((n, ssrc), t - t_start)
            time.sleep(0.05)
        for n in TARGETS:
            for ssrc, kind in ((AUDIO, 'audio'), (VIDEO, 'video')):
                dt = resumed.get((n, ssrc))
                c.check(dt is not None, '%s: %s resumes after the dataplane restart' % (n, kind),
                        'nothing within %.0f s' % RESUME_LIMIT)
                if dt is not None:
                    c.note('%s %s resumed %.2f s after the restart began' % (n, kind, dt))
        env.wait_dp_attached(10)
        c.check(env.ctl('meeting', 'show', 'm1', json=True).stdout == show_before,
                'meeting show unchanged after the dataplane restart')
        time.sleep(1.0)
        snd.pause()
        time.sleep(0.5)
        snd.stop_ev.set()
        rcv.stop_ev.set()
        snd.join(2)
        rcv.join(2)
        # after resumption the numbering of each stream is contiguous at each receiver
        for n in TARGETS:
            rx = [rtpgen.parse_rtp(d) for t, d in rcv.snapshot(n)[mark[n]:] if t >= t_ready]
            for ssrc, kind in ((AUDIO, 'audio'), (VIDEO, 'video')):
                seqs = [r.seq for r in rx if r.ssrc == ssrc]
                gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if ((b - a) & 0xffff) != 1)
                c.check(seqs and gaps == 0, '%s: %s contiguous after resumption' % (n, kind),
                        '%d packets, %d gaps' % (len(seqs), gaps))
        c.check(all(env.alive()), 'dataplane and controller alive at the end')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_crash', body)
