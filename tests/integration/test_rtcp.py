#!/usr/bin/python3
"""
test_rtcp.py - RTCP termination by the real mmr-dataplane (issue 11), checked against an independent
model (tests/lib/rtcpmodel.py: RFC 3550 A.3 report blocks, the SR mapping): client sockets in the
test's network namespace talk to the MMR over net_tap like test_forwarding.py.

Plain meeting (sr_video_ms = sr_audio_ms = rr_ms = 200, kf_throttle_ms = 300): alice publishes VP8
L1T3 video (30 fps, a few sequence numbers skipped on purpose: uplink loss) and audio; bob (out SSRC
of his own) and 50 receivers r00..r49 subscribe to the video.
  SR        bob gets SRs about his out SSRC every ~200 ms, each counting exactly the packets that
            came before it: packet count = the RTP packets bob got on that SSRC before it, octet
            count = their payload bytes; NTP = the MMR's clock now (= ours, same machine); RTP time =
            the RTP time of the SR alice sent + the time since, in 90 kHz (anchored: within 2 ms +
            what the tap adds), never going backwards; SDES CNAME "mmr" in the same compound packet.
  RR        alice gets RRs from the MMR's SSRC for her (not one of anybody's media SSRCs) every ~200
            ms with one block about her video: extended highest seq = one she sent, cumulative lost and
            fraction lost exactly what the RFC 3550 A.3 model gives for what she sent up to it (the
            skipped seqs), jitter plausible, LSR = middle 32 bits of her SR's NTP, DLSR = the time
            since she sent it (within 30 ms); SDES CNAME and an XR RRTR, which she answers with an XR
            DLRR; bob answers SRs with an RR about his copy (LSR/DLSR): both get an RTT in the
            participant counters, small and positive.
  PLI       50 receivers send a compound RR+PLI about their copy 10 times a second for 2 s: every one
            is consumed (stream pli_in = 1000), and alice gets the requests at most once per 300 ms
            (gaps >= 280 ms), at least one; kf_requests counts exactly the PLIs she got.
  new sub   after a keyframe and a quiet second, a new participant (zed, subscribed to every stream as
            it joins) makes the MMR ask alice for a keyframe within a second.
  malformed each of: a second packet with version 1, a bad padding count, a length past the end, a
            lone PLI (compound required), a PLI and a NACK about an SSRC bob does not get: dropped by
            its reason (bad_rtcp, rtcp_truncated, rtcp_not_compound, rtcp_unknown_ssrc), nothing else
            changes (bob's rtcp_in, the stream's pli_in and nack_in).
`rtcp = false`: the same RTCP is counted as drop `rtcp`, and the MMR sends no RTCP at all.
Simulcast (two VP8 encodings, a publisher that makes a keyframe when asked): switching a receiver to
encoding 1 asks for a keyframe of encoding 1 within a second, no more requests once it came, the
receiver's SRs never go backwards across the switch.
SRTP meeting (AEAD_AES_128_GCM, pylibsrtp): bob's SRs decrypt under his recv key (SRTCP), alice's RRs
under hers; bob's SRTCP PLI reaches alice as a PLI; an authentic SRTCP packet with a malformed RTCP
inside is dropped as bad_rtcp.

Run as root: /usr/bin/python3 tests/integration/test_rtcp.py [--asan]  (under the DPDK flock)
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
import rtcpmodel as R  # noqa: E402
import rtpgen  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

A_VIDEO, A_AUDIO = 0x0A0A0001, 0x0A0A0002
B_OUT = 0x0B0B0B0B
N_RECV = 50
PORT_ALICE, PORT_BOB, PORT_ZED, PORT_R0 = 7000, 7001, 7002, 7100
SKIP = {40, 41, 100, 161}          # indexes of alice's video packets never sent (uplink loss)
CONF = 'sr_video_ms = 200;\nsr_audio_ms = 200;\nrr_ms = 200;\nkf_throttle_ms = 300;\n'
CLOCK = 90000
ASAN = '--asan' in sys.argv    # the ASan build (make asan): timing checks may then fail, sanitizer reports must not


class Net:
    """Every client socket read by one thread: (arrival time, data) per name; optional responders."""

    def __init__(self, env, socks):
        self.env, self.socks = env, socks
        self.log = {n: [] for n in socks}
        self.responders = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        import select
        by_fd = {s.fileno(): n for n, s in self.socks.items()}
        while not self.stop.is_set():
            r, _, _ = select.select(list(self.socks.values()), [], [], 0.05)
            for s in r:
                n = by_fd[s.fileno()]
                while True:
                    try:
                        d = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    t = time.time()
                    with self.lock:
                        self.log[n].append((t, d))
                    f = self.responders.get(n)
                    if f and R.is_rtcp(d):
                        f(t, d)

    def rtcp(self, name, since=0.0):
        with self.lock:
            items = list(self.log[name])
        out = []
        for t, d in items:
            if t >= since and R.is_rtcp(d):
                out.append((t, d))
        return out

    def items(self, name):
        with self.lock:
            return list(self.log[name])


class Publisher:
    """alice's media at 30 fps video (2 packets a frame) and 50 pps audio, in a thread; the video
    packets whose index is in SKIP are not sent. The model of what the MMR received of the video."""

    def __init__(self, env, sock, encrypt=None):
        self.env, self.sock, self.encrypt = env, sock, encrypt or (lambda d: d)
        self.video = rtpgen.Vp8L1T3(A_VIDEO, keyframe_interval=0, pkts_per_frame=2, payload_size=400,
                                    seq=65000)
        self.audio = rtpgen.OpusLike(A_AUDIO)
        self.model = R.RecvModel()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.keyframe = False
        self.n_video = 0
        self.sent_keyframes = 0
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        t_next = time.monotonic()
        i = 0
        while not self.stop.is_set():
            with self.lock:
                if self.keyframe:
                    self.video.request_keyframe()
                    self.keyframe = False
                    self.sent_keyframes += 1
                f = self.video.next_frame()
                for p in f.packets:
                    if self.n_video not in SKIP:
                        self.env.send(self.sock, self.encrypt(p.data))
                        self.model.add(p.seq)
                    self.n_video += 1
            if i % 3 != 2:
                self.env.send(self.sock, self.encrypt(self.audio.next_packet().data))
            i += 1
            t_next += 1.0 / 30
            d = t_next - time.monotonic()
            if d > 0:
                time.sleep(d)

    def send_rtcp(self, data):
        with self.lock:
            self.env.send(self.sock, data)


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def packets(d):
    try:
        return R.parse(d)
    except (ValueError, IndexError, struct.error) as e:
        return [{'pt': -1, 'error': str(e)}]


def setup_plain(env, n_recv):
    env.meeting('m1')
    env.participant('m1', 'alice', PORT_ALICE)
    env.participant('m1', 'bob', PORT_BOB)
    for i in range(n_recv):
        env.participant('m1', 'r%02d' % i, PORT_R0 + i)
    env.stream('m1', 'alice', A_VIDEO, 'video', layers=3)
    env.stream('m1', 'alice', A_AUDIO, 'audio')
    env.sub('m1', 'bob', A_VIDEO, 2, B_OUT)
    for i in range(n_recv):
        env.sub('m1', 'r%02d' % i, A_VIDEO, 0)


def check_sr(c, net, t_sr_sent, sr_rtp, label='bob'):
    """bob's SRs against what bob received and the anchor alice sent at t_sr_sent (RTP sr_rtp)."""
    items = net.items('bob')
    srs, n_pkts, n_oct, last_rtp, bad = [], 0, 0, None, []
    for t, d in items:
        if R.is_rtcp(d):
            ps = packets(d)
            if ps[0].get('pt') == 200 and ps[0]['ssrc'] == B_OUT:
                srs.append((t, ps, n_pkts, n_oct))
            elif ps[0].get('pt') == -1:
                bad.append(ps[0]['error'])
            continue
        r = rtpgen.parse_rtp(d)
        if r.ssrc == B_OUT:
            n_pkts += 1
            n_oct += len(r.payload)
    c.check(not bad, '%s: every RTCP datagram from the MMR parses' % label, bad[:3])
    c.check(len(srs) >= 4, '%s: SRs about its out SSRC arrive (%d)' % (label, len(srs)), len(srs))
    if not srs:
        return
    gaps = [b[0] - a[0] for a, b in zip(srs, srs[1:])]
    c.check(all(0.15 <= g <= 0.6 for g in gaps), '%s: one SR about every 200 ms' % label,
            ['%.3f' % g for g in gaps][:10])
    c.check(all(p[1][0]['pkts'] == p[2] for p in srs),
            '%s: SR packet count = the RTP packets it got on that SSRC before the SR' % label,
            [(p[1][0]['pkts'], p[2]) for p in srs][:6])
    c.check(all(p[1][0]['octets'] == p[3] for p in srs),
            '%s: SR octet count = their payload bytes' % label, [(p[1][0]['octets'], p[3]) for p in srs][:6])
    c.check(all(len(p[1]) >= 2 and p[1][1]['pt'] == 202 and p[1][1]['chunks'] == [(B_OUT, 'mmr')]
                for p in srs), '%s: SR + SDES CNAME "mmr" (compound)' % label, srs[0][1])
    c.check(all(abs(R.unix_from_ntp(p[1][0]['ntp']) - p[0]) < 0.05 for p in srs),
            '%s: SR NTP = now (within 50 ms of its arrival)' % label,
            [(R.unix_from_ntp(p[1][0]['ntp']) - p[0]) for p in srs][:4])
    rtps = [p[1][0]['rtp'] for p in srs]
    c.check(all(((b - a) & 0xffffffff) < 0x80000000 for a, b in zip(rtps, rtps[1:])),
            '%s: SR RTP times never go backwards' % label, rtps[:8])
    anchored = [p for p in srs if p[0] > t_sr_sent + 0.05]
    errs = []
    for t, ps, _, _ in anchored:
        want = (sr_rtp + round((R.unix_from_ntp(ps[0]['ntp']) - t_sr_sent) * CLOCK)) & 0xffffffff
        d = (ps[0]['rtp'] - want) & 0xffffffff
        errs.append(d - (1 << 32) if d & 0x80000000 else d)
    c.check(anchored and all(abs(e) <= 0.01 * CLOCK for e in errs),
            '%s: SR RTP time = the SR alice sent + elapsed (within 10 ms)' % label, errs[:8])


def check_rr(c, net, pub, t_sr_sent, sr_ntp, mmr_ssrcs):
    rrs = []
    for t, d in net.rtcp('alice'):
        ps = packets(d)
        if ps and ps[0].get('pt') == 201:
            rrs.append((t, ps))
    with_block = [(t, ps) for t, ps in rrs if ps[0]['blocks'] and ps[0]['blocks'][0]['ssrc'] == A_VIDEO]
    audio = [(t, ps) for t, ps in rrs if ps[0]['blocks'] and ps[0]['blocks'][0]['ssrc'] == A_AUDIO]
    c.check(len(audio) >= 4, 'alice: RRs about her audio too (%d)' % len(audio))
    c.check(len(with_block) >= 4, 'alice: RRs with a block about her video (%d)' % len(with_block))
    if not with_block:
        return
    senders = {ps[0]['ssrc'] for _, ps in rrs}
    c.check(len(senders) == 1 and not senders & mmr_ssrcs,
            'alice: the RRs come from one SSRC that is none of the media SSRCs', senders)
    gaps = [b[0] - a[0] for a, b in zip(with_block, with_block[1:])]
    c.check(all(0.15 <= g <= 0.6 for g in gaps), 'alice: one RR about every 200 ms',
            ['%.3f' % g for g in gaps][:10])
    model = pub.model
    errs = []
    for t, ps in with_block:
        b = ps[0]['blocks'][0]
        if b['ssrc'] != A_VIDEO:
            errs.append(('ssrc', hex(b['ssrc'])))
            continue
        want = model.block(b['ext_high'])
        if want is None:
            errs.append(('ext_high not sent', b['ext_high']))
            continue
        if (b['cum_lost'], b['fraction']) != want:
            errs.append(('lost', b['ext_high'], (b['cum_lost'], b['fraction']), want))
        if b['jitter'] > 0.03 * CLOCK:
            errs.append(('jitter', b['jitter']))
    c.check(not errs, 'alice: RR blocks = the RFC 3550 A.3 model (ext seq sent, cumulative and fraction '
            'lost, jitter < 30 ms)', errs[:5])
    lost_seen = max(ps[0]['blocks'][0]['cum_lost'] for _, ps in with_block)
    c.check(lost_seen >= 2, 'alice: the skipped seqs show as lost', lost_seen)
    after = [(t, ps[0]['blocks'][0]) for t, ps in with_block if t > t_sr_sent + 0.05]
    errs = [(b['lsr'], R.middle32(sr_ntp)) for _, b in after if b['lsr'] != R.middle32(sr_ntp)]
    c.check(after and not errs, 'alice: LSR = middle 32 bits of her SR\'s NTP', errs[:3])
    errs = [(b['dlsr'] / 65536.0, t - t_sr_sent) for t, b in after if abs(b['dlsr'] / 65536.0 - (t - t_sr_sent)) > 0.03]
    c.check(after and not errs, 'alice: DLSR = time since her SR (within 30 ms)', errs[:3])
    sdes = all(any(p['pt'] == 202 and p['chunks'][0][1] == 'mmr' for p in ps) for _, ps in with_block)
    rrtr = all(any(p['pt'] == 207 and p['xr'] and p['xr'][0][0] == 'rrtr' for p in ps) for _, ps in with_block)
    c.check(sdes and rrtr, 'alice: RR + SDES CNAME + XR RRTR', with_block[0][1])


def body(c):
    env = MmrEnv('rtcp', asan=ASAN)
    env.extra_dp_conf = CONF
    with env:
        env.wait_dp_attached(10)
        setup_plain(env, N_RECV)
        names = ['alice', 'bob', 'zed'] + ['r%02d' % i for i in range(N_RECV)]
        ports = dict(alice=PORT_ALICE, bob=PORT_BOB, zed=PORT_ZED, **{'r%02d' % i: PORT_R0 + i for i in range(N_RECV)})
        socks = {n: env.udp_socket(ports[n]) for n in names}
        net = Net(env, socks)
        pub = Publisher(env, socks['alice'])

        # alice answers our RRTR with a DLRR; bob answers an SR with an RR about his copy
        def alice_reply(t, d):
            for p in packets(d):
                for kind, v in p.get('xr') or []:
                    if kind == 'rrtr':
                        pub.send_rtcp(R.rr(A_VIDEO) + R.sdes_cname(A_VIDEO, 'alice') +
                                      R.xr_dlrr(A_VIDEO, p['ssrc'], R.middle32(v), 0))

        def bob_reply(t, d):
            ps = packets(d)
            if ps[0].get('pt') == 200 and ps[0]['ssrc'] == B_OUT:
                env.send(socks['bob'], R.rr(0xB0B0B0B1, [R.report_block(B_OUT, lsr=R.middle32(ps[0]['ntp']),
                                                                         dlsr=0)]) + R.sdes_cname(0xB0B0B0B1, 'bob'))
        net.responders['alice'] = alice_reply
        net.responders['bob'] = bob_reply
        net.t.start()
        pub.t.start()

        # ---- SR anchor, then SR/RR fields ---------------------------------------------------------------
        time.sleep(0.4)
        with pub.lock:
            sr_rtp = (pub.video.ts - 1500) & 0xffffffff
            t_sr = time.time()
            sr_ntp = R.ntp_from_unix(t_sr)
            env.send(socks['alice'], R.sr(A_VIDEO, sr_ntp, sr_rtp, 100, 10000) + R.sdes_cname(A_VIDEO, 'alice'))
        time.sleep(1.6)
        check_sr(c, net, t_sr, sr_rtp)
        check_rr(c, net, pub, t_sr, sr_ntp, {A_VIDEO, A_AUDIO, B_OUT})
        pa = wait_for(lambda: int(mmrtest.participant_counters(env, 'm1', 'alice').get('rtt_us', 0)), 3)
        pb = wait_for(lambda: int(mmrtest.participant_counters(env, 'm1', 'bob').get('rtt_us', 0)), 3)
        c.check(0 < pa < 50000, 'alice: RTT from her XR DLRR, small and positive (%s us)' % pa, pa)
        c.check(0 < pb < 50000, 'bob: RTT from his RR about his copy, small and positive (%s us)' % pb, pb)
        st = env.stats()
        vs = mmrtest.stream_stats(st, A_VIDEO) or {}
        c.check(int(vs.get('sr_in', 0)) == 1, 'video stream: sr_in = 1', vs.get('sr_in'))
        c.check(int(vs.get('sr_out', 0)) >= 4 and int(vs.get('rr_out', 0)) >= 4,
                'video stream: sr_out and rr_out counted', (vs.get('sr_out'), vs.get('rr_out')))

        # ---- PLI storm ----------------------------------------------------------------------------------
        def alice_plis(since=0.0):
            out = []
            for t, d in net.rtcp('alice', since):
                for p in packets(d):
                    if p['pt'] == 206 and p['fmt'] == 1 and p['media'] == A_VIDEO:
                        out.append(t)
            return out
        st0 = mmrtest.stream_stats(env.stats(), A_VIDEO) or {}
        pli0 = int(st0.get('pli_in', 0))
        t0 = time.time()
        for rnd in range(20):
            for i in range(N_RECV):
                ssrc = 0x50000000 + i
                env.send(socks['r%02d' % i], R.rr(ssrc) + R.pli(ssrc, A_VIDEO))
            time.sleep(max(0.0, t0 + (rnd + 1) * 0.1 - time.time()))
        t1 = time.time()
        got = wait_for(lambda: int((mmrtest.stream_stats(env.stats(), A_VIDEO) or {}).get('pli_in', 0)) - pli0 >= 20 * N_RECV, 5)
        st1 = mmrtest.stream_stats(env.stats(), A_VIDEO) or {}
        c.eq(int(st1.get('pli_in', 0)) - pli0, 20 * N_RECV, 'PLI storm: every PLI consumed (stream pli_in)')
        plis = [t for t in alice_plis(t0) if t <= t1 + 0.05]
        gaps = [b - a for a, b in zip(plis, plis[1:])]
        c.check(1 <= len(plis) <= int((t1 - t0) / 0.3) + 2 and all(g >= 0.28 for g in gaps),
                'PLI storm: %d receivers x 10/s for %.1f s reach alice as %d PLIs, >= 280 ms apart'
                % (N_RECV, t1 - t0, len(plis)), ['%.3f' % g for g in gaps])

        # ---- a keyframe, quiet, then a new subscriber asks by itself ---------------------------------------
        with pub.lock:
            pub.keyframe = True
        time.sleep(1.2)
        t_q = time.time()
        time.sleep(0.8)
        quiet = alice_plis(t_q)
        c.check(not quiet, 'after the keyframe: no more requests', quiet)
        all_plis = len(alice_plis())
        kfr = int((mmrtest.stream_stats(env.stats(), A_VIDEO) or {}).get('kf_requests', 0))
        c.eq(kfr, all_plis, 'kf_requests = the PLIs alice got')
        t_sub = time.time()
        env.participant('m1', 'zed', PORT_ZED)     # joins: subscribed to every stream (T2 default)
        new = wait_for(lambda: alice_plis(t_sub), 1.5)
        c.check(new and new[0] - t_sub < 1.0, 'new subscriber: alice is asked for a keyframe within 1 s',
                ['%.3f' % (t - t_sub) for t in new or []])

        # ---- malformed RTCP ---------------------------------------------------------------------------
        net.responders.pop('bob')     # bob sends nothing but the bad packets now
        time.sleep(0.1)
        def snapshot():
            st = env.stats()
            return (mmrtest.drop_counts(st), mmrtest.stream_stats(st, A_VIDEO) or {},
                    mmrtest.participant_counters(env, 'm1', 'bob'))
        good_rr = R.rr(0xB0B0B0B1)
        cases = [
            ('bad_rtcp', 'second packet of version 1', good_rr + b'\x41' + R.pli(1, B_OUT)[1:]),
            ('bad_rtcp', 'padding count 0', bytes([0xa0]) + good_rr[1:] + R.pli(0xB0B0B0B1, B_OUT)),
            ('rtcp_truncated', 'length past the end', good_rr + R.pli(0xB0B0B0B1, B_OUT)[:2] + b'\x00\x05'
             + R.pli(0xB0B0B0B1, B_OUT)[4:]),
            ('rtcp_not_compound', 'lone PLI (bob did not negotiate rsize)', R.pli(0xB0B0B0B1, B_OUT)),
            ('rtcp_unknown_ssrc', 'PLI about an SSRC bob does not get', good_rr + R.pli(0xB0B0B0B1, 0xDEADBEEF)),
            ('rtcp_unknown_ssrc', 'NACK about an SSRC bob does not get', good_rr + R.nack(0xB0B0B0B1, A_VIDEO, 5, 0)),
        ]
        for reason, what, data in cases:
            d0, s0, p0 = snapshot()
            env.send(socks['bob'], data)
            ok = wait_for(lambda: mmrtest.drop_counts(env.stats()).get(reason, 0) > d0.get(reason, 0), 3)
            d1, s1, p1 = snapshot()
            c.check(ok and d1.get(reason, 0) == d0.get(reason, 0) + 1,
                    'malformed (%s): dropped as %s' % (what, reason), (d0.get(reason), d1.get(reason)))
            changed = [k for k in ('pli_in', 'nack_in', 'fir_in') if s1.get(k) != s0.get(k)]
            changed += ['bob.' + k for k in ('rtcp_in', 'pli_in', 'nack_in') if p1.get(k) != p0.get(k)]
            c.check(not changed, 'malformed (%s): nothing else changed' % what, changed)

        pub.stop.set()
        pub.t.join()
        net.stop.set()
        net.t.join()
        drops = {k: v for k, v in mmrtest.drop_counts(env.stats()).items()
                 if v and k not in ('layer', 'none', 'arp_other', 'bad_rtcp', 'rtcp_truncated',
                                    'rtcp_not_compound', 'rtcp_unknown_ssrc')}
        c.check(not drops, 'no other drops', drops)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports', env.sanitizer_errors()[:3])

    body_off(c)
    body_simulcast(c)
    body_srtp(c)


def body_off(c):
    """`rtcp = false`: RTCP counted and dropped as `rtcp`, none sent."""
    env = MmrEnv('rtcpoff', asan=ASAN)
    env.extra_dp_conf = CONF + 'rtcp = false;\n'
    with env:
        env.wait_dp_attached(10)
        setup_plain(env, 0)
        socks = {n: env.udp_socket(p) for n, p in (('alice', PORT_ALICE), ('bob', PORT_BOB))}
        net = Net(env, socks)
        net.t.start()
        pub = Publisher(env, socks['alice'])
        pub.t.start()
        time.sleep(0.3)
        env.send(socks['alice'], R.sr(A_VIDEO, R.ntp_now(), 1, 1, 1) + R.sdes_cname(A_VIDEO, 'a'))
        env.send(socks['bob'], R.rr(0xB0B0B0B1) + R.pli(0xB0B0B0B1, B_OUT))
        ok = wait_for(lambda: mmrtest.drop_counts(env.stats()).get('rtcp', 0) >= 2, 3)
        time.sleep(1.0)
        pub.stop.set()
        pub.t.join()
        net.stop.set()
        net.t.join()
        c.check(ok and mmrtest.drop_counts(env.stats()).get('rtcp', 0) == 2, 'rtcp = false: both counted as rtcp')
        sent = [n for n in ('alice', 'bob') if net.rtcp(n)]
        c.check(not sent, 'rtcp = false: the MMR sends no RTCP', sent)
        got = [d for _, d in net.items('bob') if not R.is_rtcp(d)]
        c.check(len(got) > 20, 'rtcp = false: bob still gets the video (%d packets)' % len(got))


def body_simulcast(c):
    """A simulcast switch asks the publisher for a keyframe of the new encoding, until it comes; the
    receiver's SRs go on across the switch without going backwards."""
    S = (0x51000000, 0x51000001)
    env = MmrEnv('rtcpsim', asan=ASAN)
    env.extra_dp_conf = CONF
    with env:
        env.wait_dp_attached(10)
        env.meeting('sim')
        env.participant('sim', 'pub', 7300)
        env.participant('sim', 'sw', 7301)
        env.ctl('stream', 'add', 'sim', 'pub', '--ssrc', '%d,%d' % S, '--kind', 'video', '--codec', 'vp8',
                '--layers', 3)
        env.ctl('sub', 'set', 'sim', 'sw', '--ssrc', S[0], '--encoding', 0, '--out-ssrc', B_OUT)
        socks = {'pub': env.udp_socket(7300), 'sw': env.udp_socket(7301)}
        net = Net(env, socks)
        gens = [rtpgen.Vp8L1T3(S[e], keyframe_interval=0, pkts_per_frame=2, payload_size=200 + 100 * e,
                               seq=(1000, 30000)[e], ts=(5000, 7000000)[e]) for e in range(2)]
        lock = threading.Lock()
        keys = {0: [], 1: []}

        def pub_reply(t, d):          # a publisher that makes a keyframe when asked
            for p in packets(d):
                if p['pt'] == 206 and p['fmt'] == 1 and p['media'] in S:
                    with lock:
                        gens[S.index(p['media'])].request_keyframe()
        net.responders['pub'] = pub_reply
        stop = threading.Event()

        def send():
            while not stop.is_set():
                with lock:
                    for e in range(2):
                        f = gens[e].next_frame()
                        if f.keyframe:
                            keys[e].append(time.time())
                        for p in f.packets:
                            env.send(socks['pub'], p.data)
                time.sleep(1.0 / 30)
        th = threading.Thread(target=send, daemon=True)
        net.t.start()
        th.start()

        def plis(ssrc, since):
            return [t for t, d in net.rtcp('pub', since) for p in packets(d)
                    if p['pt'] == 206 and p['fmt'] == 1 and p['media'] == ssrc]
        time.sleep(1.0)
        t_q = time.time()
        time.sleep(0.6)
        c.check(not plis(S[1], t_q), 'simulcast: no request for encoding 1 while nobody wants it')
        t_sw = time.time()
        env.ctl('sub', 'set', 'sim', 'sw', '--ssrc', S[0], '--encoding', 1)
        got = wait_for(lambda: plis(S[1], t_sw), 2)
        c.check(got and got[0] - t_sw < 1.0, 'simulcast switch 0 -> 1: the publisher is asked for a keyframe '
                'of encoding 1 within 1 s', ['%.3f' % (t - t_sw) for t in got or []])
        k1 = wait_for(lambda: [t for t in keys[1] if t > t_sw], 2)
        time.sleep(1.0)
        after = plis(S[1], (k1[0] if k1 else t_sw) + 0.1)
        c.check(k1 and not after, 'simulcast: once the keyframe came, no more requests', after)
        sw_big = [d for _, d in net.items('sw') if not R.is_rtcp(d) and len(d) > 12 + 6 + 250]
        c.check(len(sw_big) > 10, 'simulcast: sw gets encoding 1 after the switch (%d packets)' % len(sw_big))
        srs = [packets(d)[0] for _, d in net.rtcp('sw')]
        rtps = [p['rtp'] for p in srs if p['pt'] == 200 and p['ssrc'] == B_OUT]
        c.check(len(rtps) >= 8 and all(((b - a) & 0xffffffff) < 0x80000000 for a, b in zip(rtps, rtps[1:])),
                'simulcast: SRs to sw never go backwards across the switch (%d)' % len(rtps), rtps[:12])
        stop.set()
        th.join()
        net.stop.set()
        net.t.join()
        c.check(all(env.alive()), 'simulcast: dataplane and controller alive')


def body_srtp(c):
    if pylibsrtp is None:
        c.check(False, 'pylibsrtp importable (apt install python3-pylibsrtp)')
        return
    suite, profile = 'AEAD_AES_128_GCM', pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM

    def session(key, outbound):
        p = pylibsrtp.Policy(key=key, srtp_profile=profile,
                             ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                        else pylibsrtp.Policy.SSRC_ANY_INBOUND))
        return pylibsrtp.Session(p)

    env = MmrEnv('rtcpsrtp', asan=ASAN)
    env.extra_dp_conf = CONF
    with env:
        env.wait_dp_attached(10)
        env.meeting('m1', srtp=suite)
        keys = {}
        for n, port in (('alice', PORT_ALICE), ('bob', PORT_BOB)):
            env.participant('m1', n, port)
            keys[n] = env.participant_keys('m1', n)
        env.stream('m1', 'alice', A_VIDEO, 'video', layers=3)
        env.stream('m1', 'alice', A_AUDIO, 'audio')
        env.sub('m1', 'bob', A_VIDEO, 2, B_OUT)
        kb = {n: (mmrtest.key_bytes(keys[n]['send_key']), mmrtest.key_bytes(keys[n]['recv_key'])) for n in keys}
        a_tx, b_tx = session(kb['alice'][0], True), session(kb['bob'][0], True)
        a_rx, b_rx = session(kb['alice'][1], False), session(kb['bob'][1], False)
        socks = {n: env.udp_socket(p) for n, p in (('alice', PORT_ALICE), ('bob', PORT_BOB))}
        net = Net(env, socks)
        net.t.start()
        a_lock = threading.Lock()

        def enc(d):
            with a_lock:
                return a_tx.protect_rtcp(d) if R.is_rtcp(d) else a_tx.protect(d)
        pub = Publisher(env, socks['alice'], encrypt=enc)
        pub.t.start()
        time.sleep(0.3)
        with pub.lock:
            sr_rtp = (pub.video.ts - 1500) & 0xffffffff
            t_sr = time.time()
            env.send(socks['alice'], enc(R.sr(A_VIDEO, R.ntp_from_unix(t_sr), sr_rtp, 1, 1) + R.sdes_cname(A_VIDEO, 'a')))
        time.sleep(1.2)

        def decrypted(name, rx):
            out, bad = [], 0
            for t, d in net.rtcp(name):
                try:
                    out.append((t, packets(rx.unprotect_rtcp(d))))
                except pylibsrtp.Error:
                    bad += 1
            return out, bad
        srs, bad_b = decrypted('bob', b_rx)
        srs = [x for x in srs if x[1][0].get('pt') == 200 and x[1][0].get('ssrc') == B_OUT]
        c.check(len(srs) >= 3 and not bad_b, 'SRTP: bob\'s SRs decrypt under his recv key (%d, %d not)'
                % (len(srs), bad_b))
        c.check(srs and all(len(ps) >= 2 and ps[1]['pt'] == 202 for _, ps in srs), 'SRTP: SR + SDES')
        rrs, bad_a = decrypted('alice', a_rx)
        blocks = [ps[0]['blocks'][0] for _, ps in rrs if ps[0].get('pt') == 201 and ps[0]['blocks']]
        blocks = [b for b in blocks if b['ssrc'] == A_VIDEO]
        c.check(len(blocks) >= 3 and not bad_a,
                'SRTP: alice\'s RRs about her video decrypt under her recv key (%d, %d not)' % (len(blocks), bad_a))
        t_p = time.time()
        env.send(socks['bob'], b_tx.protect_rtcp(R.rr(0xB0B0B0B1) + R.pli(0xB0B0B0B1, B_OUT)))

        def plis():
            got, _ = decrypted('alice', a_rx)
            return [t for t, ps in got if t >= t_p and any(p['pt'] == 206 and p.get('media') == A_VIDEO for p in ps)]
        c.check(wait_for(plis, 2), 'SRTP: bob\'s SRTCP PLI reaches alice as a PLI under her key')
        d0 = mmrtest.drop_counts(env.stats()).get('bad_rtcp', 0)
        env.send(socks['bob'], b_tx.protect_rtcp(R.rr(0xB0B0B0B1) + b'\x41\xce\x00\x02' + b'\0' * 8))
        c.check(wait_for(lambda: mmrtest.drop_counts(env.stats()).get('bad_rtcp', 0) == d0 + 1, 3),
                'SRTP: an authentic SRTCP packet with malformed RTCP inside: bad_rtcp')
        pub.stop.set()
        pub.t.join()
        net.stop.set()
        net.t.join()
        c.check(all(env.alive()), 'SRTP: dataplane and controller alive')


if __name__ == '__main__':
    mmrtest.run_test('test_rtcp', body)
