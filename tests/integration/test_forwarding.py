#!/usr/bin/python3
"""
test_forwarding.py - the real mmr-dataplane and mmr-controller on a net_tap device: one publisher
(alice) sends Opus-like audio and VP8 L1T3 video, three receivers subscribe to the video at temporal
targets 0, 1 and 2 (bob and carol with an output SSRC of their own), and a second publisher (bob)
sends audio; a fourth receiver (erin) has its target changed while the video runs (2 -> 0 -> 2 -> 1
-> 2: down-switches at the next frame, up-switches one layer at a time at Y frames or straight at a
keyframe). The test waits until everything sent so far has arrived before each `sub set`, so the
switch point is exact; each switch publishes no output array and waits for no grace period (the
control thread's counters). Checks, per receiver: exactly the frames of the TIDs at or below its target,
contiguous RTP sequence numbers, continuous PictureIDs, bytes equal to the reference model's rewrite
(rtpgen.LayerSelModel), source 198.51.100.2:5000, the configured output SSRC; audio reaches every
other participant unchanged; ARP and ping are answered; the counters in `mmrctl stats` match.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT, DP_MAC  # noqa: E402
import rtpgen  # noqa: E402

ALICE_AUDIO, ALICE_VIDEO, BOB_AUDIO = 0x11110001, 0x22220002, 0x33330003
OUT_SSRC = {'bob': 0x0B0B0B0B, 'carol': 0x0CCCCCCC}
TARGETS = {'bob': 0, 'carol': 1, 'dave': 2, 'erin': 2}     # the targets at the start
SWITCHES = {'erin': {20: 0, 26: 2, 44: 1, 52: 2}}            # frame index -> new target
PORTS = {'alice': 6001, 'bob': 6002, 'carol': 6003, 'dave': 6004, 'erin': 6005}


def target_at(name, frame):
    t = TARGETS[name]
    for f, v in sorted(SWITCHES.get(name, {}).items()):
        if frame >= f:
            t = v
    return t
N_FRAMES = 64          # two keyframes (every 32 frames), 3 packets per frame
N_AUDIO = 60


def body(c):
    with MmrEnv('forwarding') as env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        for name, port in PORTS.items():
            env.participant('m1', name, port)
        env.stream('m1', 'alice', ALICE_AUDIO, 'audio')
        env.stream('m1', 'alice', ALICE_VIDEO, 'video', layers=3)
        env.stream('m1', 'bob', BOB_AUDIO, 'audio')
        for name, tid in TARGETS.items():
            env.sub('m1', name, ALICE_VIDEO, tid, OUT_SSRC.get(name))

        subs = env.ctl('sub', 'list', 'm1', json=True).stdout
        c.check(subs is not None, 'sub list --json answers')

        # ---- ARP and ICMP echo -------------------------------------------------------------------
        subprocess.run(['ip', 'neigh', 'flush', 'dev', mmrtest.TAP_IFACE], capture_output=True)
        ping = subprocess.run(['ping', '-c', '3', '-i', '0.2', '-W', '2', MMR_IP], capture_output=True,
                              text=True)
        c.check(ping.returncode == 0 and ' 0% packet loss' in ping.stdout, 'ping -c 3 %s answered' % MMR_IP,
                ping.stdout.strip().splitlines()[-2:] if ping.stdout else ping.stderr)
        neigh = subprocess.run(['ip', 'neigh', 'show', MMR_IP], capture_output=True, text=True).stdout
        c.check(DP_MAC in neigh.lower(), 'ARP resolved %s to %s' % (MMR_IP, DP_MAC), neigh.strip())

        # ---- media -------------------------------------------------------------------------------
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        video = rtpgen.Vp8L1T3(ALICE_VIDEO, keyframe_interval=32, pkts_per_frame=3, payload_size=300)
        frames = video.frames(N_FRAMES)
        a_audio = rtpgen.OpusLike(ALICE_AUDIO).packets(N_AUDIO)
        b_audio = rtpgen.OpusLike(BOB_AUDIO, seq=65500).packets(N_AUDIO)   # wraps its seq
        vpkts = [p for f in frames for p in f.packets]

        got = {n: [] for n in PORTS}

        def drain_until(name, ssrc, count, timeout=5.0):
            deadline = time.monotonic() + timeout
            while True:
                for n, sk in socks.items():
                    got[n] += env.recv_from_all(sk, timeout=0.02)
                have = sum(1 for d, _ in got[name] if len(d) >= 12 and rtpgen.parse_rtp(d).ssrc == ssrc)
                if have >= count or time.monotonic() > deadline:
                    return have

        # interleave: per video frame, one audio packet from each; erin's switches between frames
        ai = 0
        erin_model = rtpgen.LayerSelModel()
        erin_expected = 0
        for f in frames:
            if f.index in SWITCHES['erin']:
                have = drain_until('erin', ALICE_VIDEO, erin_expected)
                c.check(have == erin_expected, 'erin: everything sent before the switch at frame %d arrived'
                        % f.index, '%d of %d' % (have, erin_expected))
                before = env.stats().get('control') or {}
                env.sub('m1', 'erin', ALICE_VIDEO, SWITCHES['erin'][f.index])
                after = env.stats().get('control') or {}
                # a target is a word in the selection state: the change publishes no output array
                # and waits for no grace period (the switch itself is checked below, frame by frame)
                c.check(after.get('target_updates') == before.get('target_updates', -2) + 1 and
                        after.get('arrays_published') == before.get('arrays_published', -1) and
                        after.get('grace_periods') == before.get('grace_periods', -1),
                        'erin: the target change at frame %d stored one word, published no array, waited '
                        'for no grace period' % f.index, (before, after))
            for p in f.packets:
                env.send(socks['alice'], p.data)
                if erin_model.feed(p, target_at('erin', f.index)) is not None:
                    erin_expected += 1
            if ai < N_AUDIO:
                env.send(socks['alice'], a_audio[ai].data)
                env.send(socks['bob'], b_audio[ai].data)
                ai += 1
            time.sleep(0.002)
        while ai < N_AUDIO:
            env.send(socks['alice'], a_audio[ai].data)
            env.send(socks['bob'], b_audio[ai].data)
            ai += 1

        for n, sk in socks.items():
            got[n] += env.recv_from_all(sk, timeout=1.0, max_wait=10)

        def by_ssrc(pairs, ssrc):
            out = []
            for d, src in pairs:
                if rtpgen.is_rtcp(d):
                    continue          # the MMR's reports and keyframe requests (test_rtcp.py)
                try:
                    r = rtpgen.parse_rtp(d)
                except ValueError:
                    continue
                if r.ssrc == ssrc:
                    out.append((d, src, r))
            return out

        # every datagram comes from the MMR's address and port
        for n, pairs in got.items():
            bad = [src for _, src in pairs if src != (MMR_IP, MMR_PORT)]
            c.check(not bad, '%s: every datagram from %s:%d' % (n, MMR_IP, MMR_PORT), bad[:3])

        # ---- video at each receiver ------------------------------------------------------------------
        copies = 0
        withheld = 0
        for n in TARGETS:
            target = TARGETS[n] if n not in SWITCHES else max(target_at(n, f.index) for f in frames)
            out_ssrc = OUT_SSRC.get(n, ALICE_VIDEO)
            rx = by_ssrc(got[n], out_ssrc)
            other = [r.ssrc for _, _, r in (by_ssrc(got[n], ALICE_VIDEO) if out_ssrc != ALICE_VIDEO else [])]
            c.check(not other, '%s: video arrives only with out SSRC 0x%08x' % (n, out_ssrc),
                    '%d packets with the input SSRC' % len(other))
            model = rtpgen.LayerSelModel()
            want = []
            want_frames = []
            for p in vpkts:
                o = model.feed(p, target_at(n, p.frame))
                if o is not None and p.start:
                    want_frames.append(p.frame)
                if o is None:
                    withheld += 1
                    continue
                want.append(rtpgen.rewrite_vp8(p.data, o[0], o[1], o[2], out_ssrc))
            copies += len(want)
            got_pids, got_tids, seqs = [], [], []
            for d, _, r in rx:
                v = rtpgen.parse_vp8(r.payload)
                seqs.append(r.seq)
                if v.s and v.pid == 0:
                    got_pids.append(v.picture_id)
                    got_tids.append(v.tid)
            c.eq(len(rx), len(want), '%s (T%d): video packet count' % (n, target))
            c.eq(len(got_pids), len(want_frames), '%s (T%d): video frame count' % (n, target))
            c.check(got_tids == [frames[i].tid for i in want_frames],
                    '%s (T%d): exactly the frames the layer rules give (by TID)' % (n, target),
                    'got TIDs %s' % got_tids[:16])
            if n not in SWITCHES:
                c.check(want_frames == rtpgen.expected_frames(frames, target),
                        '%s (T%d): every frame of TID <= %d, no other' % (n, target, target))
            c.check(all(((b - a) & 0xffff) == 1 for a, b in zip(seqs, seqs[1:])),
                    '%s (T%d): contiguous RTP sequence numbers' % (n, target), seqs[:12])
            c.check(all(((b - a) & 0x7fff) == 1 for a, b in zip(got_pids, got_pids[1:])),
                    '%s (T%d): continuous PictureIDs' % (n, target), got_pids[:12])
            c.check([d for d, _, _ in rx] == want,
                    '%s (T%d): bytes equal the reference rewrite (seq, SSRC, PictureID, TL0PICIDX, payload)'
                    % (n, target), first_diff([d for d, _, _ in rx], want))
            markers = sum(1 for _, _, r in rx if r.marker)
            c.eq(markers, len(want_frames), '%s (T%d): one marker per frame' % (n, target))

        c.check(not by_ssrc(got['alice'], ALICE_VIDEO) and not by_ssrc(got['alice'], ALICE_AUDIO),
                'alice gets none of her own streams')

        # ---- audio -----------------------------------------------------------------------------------
        for ssrc, who, pkts in ((ALICE_AUDIO, 'alice', a_audio), (BOB_AUDIO, 'bob', b_audio)):
            for n in PORTS:
                if n == who:
                    continue
                rx = [d for d, _, _ in by_ssrc(got[n], ssrc)]
                c.check(rx == [p.data for p in pkts], '%s audio reaches %s complete and unchanged' % (who, n),
                        '%d of %d packets' % (len(rx), len(pkts)))
        audio_copies = 2 * N_AUDIO * (len(PORTS) - 1)

        # ---- counters ----------------------------------------------------------------------------------
        time.sleep(0.3)   # counters are read with relaxed loads; port counters refresh every 100 ms
        st = env.stats()
        drops = mmrtest.drop_counts(st)
        vs = mmrtest.stream_stats(st, ALICE_VIDEO)
        aas = mmrtest.stream_stats(st, ALICE_AUDIO)
        bas = mmrtest.stream_stats(st, BOB_AUDIO)
        c.check(vs is not None and aas is not None and bas is not None, 'stats --streams lists the 3 streams')
        if vs:
            c.eq(int(vs.get('rx_pkts', -1)), len(vpkts), 'video stream rx_pkts')
            c.eq(int(vs.get('fwd_copies', -1)), copies, 'video stream fwd_copies')
            c.eq(int(vs.get('layer_drops', -1)), withheld, 'video stream layer_drops')
        if aas:
            c.eq(int(aas.get('rx_pkts', -1)), N_AUDIO, 'alice audio rx_pkts')
            c.eq(int(aas.get('fwd_copies', -1)), (len(PORTS) - 1) * N_AUDIO, 'alice audio fwd_copies')
        if bas:
            c.eq(int(bas.get('rx_pkts', -1)), N_AUDIO, 'bob audio rx_pkts')
        c.eq(mmrtest.lcore_total(st, 'rtp_pkts'), len(vpkts) + 2 * N_AUDIO, 'lcore rtp_pkts total')
        c.eq(mmrtest.lcore_total(st, 'copies'), copies + audio_copies, 'lcore copies total')
        c.check(mmrtest.lcore_total(st, 'icmp_replies') >= 3, 'icmp_replies >= 3',
                mmrtest.lcore_total(st, 'icmp_replies'))
        c.check(mmrtest.lcore_total(st, 'arp_replies') >= 1, 'arp_replies >= 1',
                mmrtest.lcore_total(st, 'arp_replies'))
        c.eq(drops.get('layer', 0), withheld, 'drops.layer = withheld copies')
        ports = st.get('ports') or [{}]
        n_sent = len(vpkts) + 2 * N_AUDIO
        c.check(int(ports[0].get('rx_pkts', 0)) >= n_sent and
                int(ports[0].get('tx_pkts', 0)) >= copies + audio_copies,
                'port 0 counters cover what was sent (rx >= %d, tx >= %d)' % (n_sent, copies + audio_copies),
                ports[0])
        nonzero = {k: v for k, v in drops.items() if v and k not in ('layer', 'none', 'arp_other')}
        c.check(not nonzero, 'no other drops', nonzero)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


def first_diff(got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            k = next(j for j in range(min(len(a), len(b))) if a[j] != b[j]) if len(a) == len(b) else None
            return 'packet %d differs (at byte %s): got %s want %s' % (i, k, a[:24].hex(), b[:24].hex())
    return 'lengths %d vs %d' % (len(got), len(want))


if __name__ == '__main__':
    mmrtest.run_test('test_forwarding', body)
