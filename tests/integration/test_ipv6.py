#!/usr/bin/python3
"""
test_ipv6.py - IPv6 on the net_tap device: the dataplane (2001:db8:100::2) answers neighbour
solicitation and ping6; a publisher on IPv6 reaches receivers on IPv6 and on IPv4, and an IPv4
publisher reaches an IPv6 receiver; each copy comes from the MMR's address of the receiver's family
and UDP port 5000, with contiguous sequence numbers and the frames of its target layer.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_IP6, CLIENT_IP, CLIENT_IP6, MMR_PORT, DP_MAC  # noqa: E402
import rtpgen  # noqa: E402

V6_VIDEO, V6_AUDIO, V4_AUDIO = 0x66000001, 0x66000002, 0x44000001
N_FRAMES = 32


def body(c):
    with MmrEnv('ipv6', ipv6=True) as env:
        env.wait_dp_attached(10)
        ping = subprocess.run(['ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', MMR_IP6],
                              capture_output=True, text=True)
        c.check(ping.returncode == 0, 'ping -6 %s answered' % MMR_IP6, (ping.stdout + ping.stderr).strip()[-200:])
        neigh = subprocess.run(['ip', '-6', 'neigh', 'show', MMR_IP6], capture_output=True, text=True).stdout
        c.check(DP_MAC in neigh.lower(), 'neighbour discovery resolved %s to %s' % (MMR_IP6, DP_MAC),
                neigh.strip())

        env.meeting('m6')
        env.participant('m6', 'alice6', 7001, addr=CLIENT_IP6)
        env.participant('m6', 'bob6', 7002, addr=CLIENT_IP6, role='recvonly')
        env.participant('m6', 'carol4', 7003, addr=CLIENT_IP)
        env.stream('m6', 'alice6', V6_VIDEO, 'video', layers=3)
        env.stream('m6', 'alice6', V6_AUDIO, 'audio')
        env.stream('m6', 'carol4', V4_AUDIO, 'audio')
        env.sub('m6', 'bob6', V6_VIDEO, 1)

        a6 = env.udp_socket(7001, ip=CLIENT_IP6)
        b6 = env.udp_socket(7002, ip=CLIENT_IP6)
        c4 = env.udp_socket(7003)
        video = rtpgen.Vp8L1T3(V6_VIDEO, keyframe_interval=16, pkts_per_frame=2, payload_size=500)
        frames = video.frames(N_FRAMES)
        audio6 = rtpgen.OpusLike(V6_AUDIO).packets(N_FRAMES)
        audio4 = rtpgen.OpusLike(V4_AUDIO).packets(N_FRAMES)
        for i, f in enumerate(frames):
            for p in f.packets:
                env.send(a6, p.data)
            env.send(a6, audio6[i].data)
            env.send(c4, audio4[i].data)
            time.sleep(0.002)

        got = {n: env.recv_from_all(s, timeout=1.0, max_wait=10) for n, s in
               (('alice6', a6), ('bob6', b6), ('carol4', c4))}
        src6 = (MMR_IP6, MMR_PORT)
        src4 = (MMR_IP, MMR_PORT)
        for n, want_src in (('alice6', src6), ('bob6', src6), ('carol4', src4)):
            bad = [a for _, a in got[n] if a != want_src]
            c.check(got[n] and not bad, '%s: copies come from %s port %d' % (n, want_src[0], MMR_PORT), bad[:2])

        def stream_of(n, ssrc):
            return [rtpgen.parse_rtp(d) for d, _ in got[n] if rtpgen.parse_rtp(d).ssrc == ssrc]

        for n, target in (('bob6', 1), ('carol4', 2)):
            rx = stream_of(n, V6_VIDEO)
            model = rtpgen.LayerSelModel()
            want = [o[0] for o in (model.feed(p, target) for f in frames for p in f.packets) if o]
            c.eq([r.seq for r in rx], want, '%s (T%d): video over IPv6 -> %s, exact sequence' %
                 (n, target, 'IPv6' if n.endswith('6') else 'IPv4'))
        c.eq([r.seq for r in stream_of('bob6', V6_AUDIO)], [p.seq for p in audio6], 'bob6: IPv6 audio complete')
        c.eq([r.seq for r in stream_of('carol4', V6_AUDIO)], [p.seq for p in audio6],
             'carol4: IPv6 audio reaches an IPv4 receiver')
        c.eq([r.seq for r in stream_of('alice6', V4_AUDIO)], [p.seq for p in audio4],
             'alice6: IPv4 audio reaches an IPv6 receiver')
        c.eq([r.seq for r in stream_of('bob6', V4_AUDIO)], [p.seq for p in audio4], 'bob6: IPv4 audio complete')
        st = env.stats()
        drops = mmrtest.drop_counts(st)
        c.note('drops: %s' % {k: v for k, v in drops.items() if v})
        for k in ('unknown_sender', 'unknown_ssrc', 'bad_rtp', 'bad_ip', 'bad_udp', 'truncated', 'no_mbuf',
                  'tx_full'):
            c.eq(drops.get(k, 0), 0, 'drops.%s' % k)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_ipv6', body)
