#!/usr/bin/python3
"""
demo.py - the README's first command: a demo meeting forwarded by the real mmr-dataplane on a DPDK
virtual device (net_tap, inside a network namespace of its own, so no NIC is needed), programmed by the
real mmr-controller through mmrctl, with live statistics until Ctrl-C or for DURATION seconds.

The meeting: alice and bob publish VP8 video with three temporal layers (30 fps, a keyframe every 2 s)
and Opus audio (50 packets/s); carol publishes Opus and a VP9 SVC camera with three spatial and three
temporal layers (L3T3: 320x180, 640x360, 1280x720 at 30 fps, a keyframe every 2 s); dave only watches.
Layer targets differ per receiver (carol gets alice at T0 = 7.5 fps, dave gets alice at T1 = 15 fps, bob
gets her full 30 fps; alice gets carol at S2T2, bob at S1T1, dave at S0T0), so the per-stream counters
show layer selection at work. Every second the demo prints the receivers' packet rates, the dataplane's
per-lcore rates and cycles per copy, drops by reason, per-stream counters (from `mmrctl --json stats
--streams`) and, on one line, each VP9 receiver's target and current layers (from `mmrctl --json sub
list demo`).

Usage: scripts/demo.py [DURATION_SECONDS] [--rate-scale N]   (0 or nothing = until Ctrl-C)
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'lib'))
import mmrtest  # noqa: E402
import rtpgen   # noqa: E402

PEOPLE = [  # name, port, role, publishes (video ssrc, audio ssrc)
    ('alice', 40000, 'sendrecv', (0xA11CE0, 0xA11CE1)),
    ('bob', 40010, 'sendrecv', (0xB0B000, 0xB0B001)),
    ('carol', 40020, 'sendrecv', (0xCA4010, 0xCA4011)),
    ('dave', 40030, 'recvonly', (None, None)),
]
VP9 = {0xCA4010}  # video ssrcs sent as VP9 L3T3 SVC; the others are VP8 L1T3
TARGETS = [  # subscriber, publisher's video ssrc, target temporal layer
    ('carol', 0xA11CE0, 0), ('dave', 0xA11CE0, 1), ('bob', 0xA11CE0, 2),
    ('alice', 0xB0B000, 2), ('carol', 0xB0B000, 1), ('dave', 0xB0B000, 0),
]
SVC_TARGETS = [  # subscriber, publisher's VP9 ssrc, target spatial layer, target temporal layer
    ('alice', 0xCA4010, 2, 2), ('bob', 0xCA4010, 1, 1), ('dave', 0xCA4010, 0, 0),
]
VP9_PKTS = (1, 2, 4)  # packets per layer frame of ~1000 bytes, spatial layer 0, 1, 2


def setup(env):
    env.ctl('meeting', 'create', 'demo', '--plain')
    for name, port, role, (v, a) in PEOPLE:
        env.ctl('participant', 'add', 'demo', name, '--addr', mmrtest.CLIENT_IP, '--port', str(port),
                '--role', role)
        if v in VP9:
            env.ctl('stream', 'add', 'demo', name, '--ssrc', str(v), '--kind', 'video', '--codec', 'vp9',
                    '--spatial', '3', '--layers', '3')
        elif v is not None:
            env.ctl('stream', 'add', 'demo', name, '--ssrc', str(v), '--kind', 'video', '--codec', 'vp8',
                    '--layers', '3')
        if a is not None:
            env.ctl('stream', 'add', 'demo', name, '--ssrc', str(a), '--kind', 'audio', '--codec', 'opus')
    for sub, ssrc, tid in TARGETS:
        env.ctl('sub', 'set', 'demo', sub, '--ssrc', str(ssrc), '--target', str(tid))
    for sub, ssrc, sid, tid in SVC_TARGETS:
        env.ctl('sub', 'set', 'demo', sub, '--ssrc', str(ssrc), '--spatial', str(sid), '--target', str(tid))


class Every:
    """`i in Every(n)`: picture i is a keyframe (every n-th picture, for as long as the demo runs)."""

    def __init__(self, n):
        self.n = n

    def __contains__(self, i):
        return i % self.n == 0


class Traffic(threading.Thread):
    """Plays every publisher's media in real time: 30 video frames/s (VP8: 4 packets of ~1100 bytes
    each; VP9 L3T3: 1 + 2 + 4 packets of ~1000 bytes for its three spatial layers, a keyframe every 2 s)
    and 50 audio packets/s per publisher, times rate_scale."""

    def __init__(self, env, socks, rate_scale, stop):
        super().__init__(daemon=True)
        self.env, self.socks, self.stop = env, socks, stop
        self.scale = rate_scale
        self.video = {n: rtpgen.Vp8L1T3(v, keyframe_interval=60, pkts_per_frame=4, payload_size=1100)
                      for n, _, _, (v, a) in PEOPLE if v is not None and v not in VP9}
        self.svc = {}
        for n, _, _, (v, a) in PEOPLE:
            if v in VP9:
                gen = rtpgen.Vp9Svc(v, n_spatial=3, pkts=lambda i, sid, key: VP9_PKTS[sid],
                                    payload_size=1000)
                gen.keyframes = Every(60)
                self.svc[n] = gen
        self.audio = {n: rtpgen.OpusLike(a) for n, _, _, (v, a) in PEOPLE if a is not None}
        self.sent = 0

    def run(self):
        tick = 0.02                    # 50 Hz: one audio packet per publisher, video frames at 30 Hz
        t0 = time.monotonic()
        n = 0
        vclock = 0.0
        while not self.stop.is_set():
            for _ in range(self.scale):
                for name, gen in self.audio.items():
                    self._send(name, gen.next_packet().data)
            vclock += tick * 30
            while vclock >= 1.0:
                vclock -= 1.0
                for _ in range(self.scale):
                    for name, gen in self.video.items():
                        for p in gen.next_frame().packets:
                            self._send(name, p.data)
                    for name, gen in self.svc.items():
                        for p in gen.next_picture():
                            self._send(name, p.data)
            n += 1
            delay = t0 + n * tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _send(self, name, data):
        try:
            self.socks[name].sendto(data, (mmrtest.MMR_IP, mmrtest.MMR_PORT))
            self.sent += 1
        except OSError:
            pass


class Receivers(threading.Thread):
    """Drains every participant's socket and counts what arrives."""

    def __init__(self, socks, stop):
        super().__init__(daemon=True)
        self.socks, self.stop = socks, stop
        self.count = {n: 0 for n in socks}

    def run(self):
        import select
        for s in self.socks.values():
            s.setblocking(False)
        by_fd = {s.fileno(): n for n, s in self.socks.items()}
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        while not self.stop.is_set():
            for fd, _ in poller.poll(100):
                s = self.socks[by_fd[fd]]
                while True:
                    try:
                        s.recv(4096, socket.MSG_DONTWAIT)
                        self.count[by_fd[fd]] += 1
                    except (BlockingIOError, InterruptedError):
                        break


def svc_layers(subs):
    """One line per VP9 stream: each receiver's target and current layers, as `mmrctl sub list` has them."""
    def layers(c):
        if not c:
            return '-'
        if not c.get('started'):
            return 'waiting'
        return 'S%sT%s' % (c.get('spatial'), c.get('temporal'))
    lines = []
    for ssrc in sorted({x['ssrc'] for x in subs if x.get('codec') == 'vp9'}):
        rows = [x for x in subs if x['ssrc'] == ssrc]
        lines.append('  vp9 %s 0x%x target->current: ' % (rows[0]['publisher'], ssrc) + '  '.join(
            '%s S%sT%s->%s' % (x['subscriber'], x.get('target_spatial'), x.get('target'),
                               layers(x.get('current'))) for x in rows))
    return lines


def show(prev, cur, dt, recv_rates, tsc_hz, subs):
    lines = ['', time.strftime('%H:%M:%S') + '  mmr demo: meeting "demo", 4 participants (Ctrl-C to stop)']
    lines.append('  receivers (pkts/s): ' + '  '.join('%s %.0f' % (n, r) for n, r in recv_rates.items()))
    lines.append('  %-6s %10s %10s %12s %10s' % ('lcore', 'rx pkt/s', 'copies/s', 'cyc/copy', 'busy%'))
    for lc in cur['lcores']:
        p = next((x for x in prev['lcores'] if x['lcore'] == lc['lcore']), lc)
        d = {k: lc[k] - p[k] for k in ('rx_pkts', 'copies', 'busy_cycles')}
        cyc = d['busy_cycles'] / d['copies'] if d['copies'] else 0
        busy = 100.0 * d['busy_cycles'] / (tsc_hz * dt) if tsc_hz else 0
        lines.append('  %-6s %10.0f %10.0f %12.0f %9.2f%%' % (lc['lcore'], d['rx_pkts'] / dt,
                                                            d['copies'] / dt, cyc, busy))
    lines.append('  (net_tap costs a system call per packet each way, so cycles per copy here are the tap\'s;'
                 ' `make bench` measures the forwarder)')
    drops = {k: v for k, v in cur['drops'].items() if v}
    lines.append('  drops: ' + (', '.join('%s=%d' % kv for kv in drops.items()) or 'none'))
    lines.append('  %-8s %-10s %-6s %10s %12s %14s' % ('stream', 'ssrc', 'kind', 'rx pkt/s', 'copies/s',
                                                      'withheld/s'))
    for st in cur.get('streams', []):
        p = next((x for x in prev.get('streams', []) if x['id'] == st['id']), st)
        lines.append('  %-8s 0x%-8x %-6s %10.0f %12.0f %14.0f' % (
            st['participant'], st['ssrc'], st['kind'], (st['rx_pkts'] - p['rx_pkts']) / dt,
            (st['fwd_copies'] - p['fwd_copies']) / dt, (st['layer_drops'] - p['layer_drops']) / dt))
    lines += svc_layers(subs)
    print('\n'.join(lines), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('duration', nargs='?', type=float, default=0)
    ap.add_argument('--rate-scale', type=int, default=1, help='multiply the meeting traffic')
    args = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with mmrtest.MmrEnv('demo') as env:
        print('dataplane and controller up (logs in %s)' % env.logdir, flush=True)
        setup(env)
        print(env.ctl('meeting', 'show', 'demo').stdout, flush=True)
        socks = {n: env.udp_socket(port) for n, port, _, _ in PEOPLE}
        rx = Receivers(socks, stop)
        tx = Traffic(env, socks, args.rate_scale, stop)
        rx.start()
        tx.start()
        t_end = time.monotonic() + args.duration if args.duration else None
        prev, prev_t, prev_rx = env.stats(), time.monotonic(), dict(rx.count)
        while not stop.is_set() and (t_end is None or time.monotonic() < t_end):
            stop.wait(1.0)
            cur, now = env.stats(), time.monotonic()
            dt = now - prev_t
            rates = {n: (rx.count[n] - prev_rx[n]) / dt for n in rx.count}
            subs = env.ctl('sub', 'list', 'demo', json=True).stdout.get('subscriptions', [])
            show(prev, cur, dt, rates, cur.get('tsc_hz', 0), subs)
            prev, prev_t, prev_rx = cur, now, dict(rx.count)
        stop.set()
        tx.join(2)
        print('\nfinal counters:\n' + env.ctl('stats', '--streams').stdout, flush=True)
        total = sum(rx.count.values())
        print('demo: %d packets sent by publishers, %d copies received by participants' % (tx.sent, total))
        if total == 0:
            print('demo: FAILED: nothing was forwarded', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
