#!/usr/bin/python3
"""
test_bwe.py - per-receiver downlink bandwidth estimation and layer allocation through the real
mmr-dataplane and mmr-controller (issue 12, dataplane/bwe.c), with receivers modelled in Python
(tests/lib/twccmodel.py: the transport-cc element of every copy, a bottleneck link's arrival times,
transport-wide feedback with those times, REMB).

alice publishes VP8 L1T3 (about 750 kbit/s: T0 ~190, T1 ~190, T2 ~370) and Opus-like audio, both
with a transport-cc element (id 3) whose values go up by 3 (so that they are not what any receiver's
own numbering would be). Receivers (all subscribed to both, video ceiling T2 unless said):
  bob    TWCC, element id 5 (the MMR sets the id), RTX; a fast link (feedback: arrival = receive time);
  carol  TWCC, id 3; a 300 kbit/s link with a 300 ms queue (feedback from the link model);
  dave   takes no TWCC: its copies go unstamped (the publisher's values), at its ceiling;
  eve    TWCC and REMB, id 3, ceiling T1; lies: REMB of 10 Gbit/s, TWCC about packets never sent,
         malformed TWCC FCIs; counted in bwe_bad_fb; never above its ceiling.
Checks:
  - bob's copies (video, audio, probes, on every SSRC) carry his element id and consecutive
    transport-wide seqs (no gap, no repeat) across streams; same for carol;
  - dave's copies carry alice's own values; never stamped;
  - in the last seconds: carol gets T0 only (her link carries no more), bob still all of T2 (his
    ceiling), eve never T2; carol's estimate (bwe_bps) below bob's and below 400 kbit/s;
  - counters: twcc_stamped, twcc_fb_in, alloc_runs, alloc_changes (carol), bwe_bad_fb (eve), the
    MMR_EV_BWE estimate in `mmrctl participant show`; the dataplane alive.
SRTP meeting (AEAD_AES_128_GCM, pylibsrtp): bob (TWCC id 5, RTX), carol (no TWCC), dave (TWCC id 3)
receive VP8; the stamps are written before each copy is encrypted: bob's and dave's decrypted copies
carry their own consecutive seqs (their probes go on the RTX SSRC under the RTX context, or not at
all), carol's the publisher's values whatever the receivers' order; SRTCP TWCC feedback is used.
--bwe-off (negative control, in tests/run-all.sh): the dataplane with bwe = false must FAIL.
"""
import argparse
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402
import twccmodel  # noqa: E402

try:
    import pylibsrtp
except ImportError:       # reported as a failed check
    pylibsrtp = None

VIDEO = 0x7B000001
AUDIO = 0x7B000002
PT_RTX = 97
PUB_ID = 3
ABS_ID = 4                  # eve's abs-send-time id (alice's packets carry none)
SECONDS = 12.0
FPS = 30
TAIL = 3.0                  # the last seconds whose layers are checked
RX = {   # name: (port, twcc id or None, link bit/s or None, ceiling TID, RTX SSRC, rtcp flags)
    'bob': (7601, 5, None, 2, 0xB0B00001, 'nack,pli,twcc'),
    'carol': (7602, 3, 300000, 2, None, 'nack,pli,twcc'),
    'dave': (7603, None, None, 2, None, 'nack,pli'),
    'eve': (7604, 3, None, 1, None, 'nack,pli,twcc,remb'),
}


def vp8_tid(pkt):
    r = parse_rtp(pkt)
    d = rtpgen.parse_vp8(pkt[r.hdr_len:])
    return d.get('tid') if isinstance(d, dict) else getattr(d, 'tid', None)


def lies(me, media):
    """eve's bad feedback: an absurd REMB, TWCC about seqs never sent, and TWCC FCIs that do not parse
    (status count 0; chunks running past the packet) inside well-formed RTCP."""
    out = [twccmodel.rtcp_rr(me) + twccmodel.build_remb(me, 10 * 10 ** 9, [media])]
    out.append(twccmodel.rtcp_rr(me) +
               twccmodel.build_twcc(me, media, 0x1234, 100, 0, [1000, 2000, 3000, None, 5000]))
    fci0 = struct.pack('!HHI', 7, 0, 0) + b'\0' * 4
    out.append(twccmodel.rtcp_rr(me) + struct.pack('!BBHII', 0x8f, 205, 2 + len(fci0) // 4, me, media) + fci0)
    return out


def run(env, c, bwe_on):
    m = 'bwe'
    env.ctl('meeting', 'create', m, '--plain')
    env.ctl('participant', 'add', m, 'alice', '--addr', CLIENT_IP, '--port', 7600, '--role', 'sendonly',
            '--ext', 'twcc=%d' % PUB_ID)
    env.ctl('stream', 'add', m, 'alice', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
    env.ctl('stream', 'add', m, 'alice', '--ssrc', AUDIO, '--kind', 'audio', '--codec', 'opus')
    for name, (port, tid, link, ceil, rtx, fb) in RX.items():
        args = ['participant', 'add', m, name, '--addr', CLIENT_IP, '--port', port, '--role', 'recvonly',
                '--rtcp', fb]
        if tid:
            args += ['--ext', 'twcc=%d' % tid + (',abs-send-time=%d' % ABS_ID if 'remb' in fb else '')]
        if rtx:
            args += ['--rtx', '%d:%d' % (rtpgen.PT_VP8, PT_RTX)]
        env.ctl(*args)
        sub = ['sub', 'set', m, name, '--ssrc', VIDEO, '--target', ceil]
        if rtx:
            sub += ['--rtx-ssrc', rtx]
        env.ctl(*sub)
    env.wait_dp_attached()
    alice = env.udp_socket(7600)
    socks = {n: env.udp_socket(v[0]) for n, v in RX.items()}
    recv = {n: twccmodel.TwccReceiver(v[1], twccmodel.Link(v[2])) if v[1] else None for n, v in RX.items()}
    got = {n: [] for n in RX}               # (t, pkt)
    me = {n: 0x5A000000 + v[0] for n, v in RX.items()}

    ext = rtpgen.one_byte_ext([(PUB_ID, b'\0\0')])
    gen = rtpgen.Vp8L1T3(VIDEO, keyframe_interval=60, pkts_per_frame=3, payload_size=1000, ext=ext)
    audio = rtpgen.OpusLike(AUDIO)
    pub_seq = 100
    sent_values = set()
    t0 = time.monotonic()
    next_frame = t0
    next_fb = t0 + 0.1
    lied = False
    media_ssrc = {}
    while time.monotonic() - t0 < SECONDS:
        now = time.monotonic()
        if now >= next_frame:
            pkts = [p.data for p in gen.next_frame().packets]
            a = audio.next_packet()
            a_data = a.data if hasattr(a, 'data') else a
            r = parse_rtp(a_data)
            a_data = rtpgen.rtp_packet(r.seq, r.ts, r.ssrc, r.pt, a_data[r.hdr_len:], marker=r.marker, ext=ext)
            for d in pkts + [a_data]:
                pub_seq = (pub_seq + 3) & 0xffff
                sent_values.add(pub_seq)
                env.send(alice, twccmodel.set_ext_u16(d, PUB_ID, pub_seq))
            next_frame += 1.0 / FPS
        if now >= next_fb:
            for n, rr in recv.items():
                if rr is None or n not in media_ssrc:
                    continue
                fb = rr.feedback(me[n], media_ssrc[n])
                if fb and n != 'eve':
                    env.send(socks[n], twccmodel.rtcp_rr(me[n]) + fb)
                elif fb and n == 'eve':
                    # eve reports every packet received at once (and lies below)
                    env.send(socks[n], twccmodel.rtcp_rr(me[n]) + fb)
            if not lied and now - t0 > SECONDS / 2 and 'eve' in media_ssrc:
                for p in lies(me['eve'], media_ssrc['eve']):
                    env.send(socks['eve'], p)
                lied = True
            next_fb += 0.1
        wait = max(0.0, min(next_frame, next_fb) - time.monotonic())
        r, _, _ = select.select(list(socks.values()), [], [], wait)
        for s in r:
            n = next(k for k, v in socks.items() if v is s)
            while True:
                try:
                    d = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                t = time.monotonic()
                if rtpgen.is_rtcp(d) or len(d) < 12:
                    continue
                got[n].append((t, d))
                if struct.unpack_from('!I', d, 8)[0] not in (RX[n][4] or 0,):
                    media_ssrc.setdefault(n, struct.unpack_from('!I', d, 8)[0])
                if recv[n] is not None:
                    recv[n].on_packet(d, int(t * 1e6))
    t_end = time.monotonic()
    for n, s in socks.items():
        for d in env.recv_all(s, timeout=0.3, max_wait=2):
            if not rtpgen.is_rtcp(d) and len(d) >= 12:
                got[n].append((time.monotonic(), d))
                if recv[n] is not None:
                    recv[n].on_packet(d, int(time.monotonic() * 1e6))

    # -- stamping --
    for n in ('bob', 'carol'):
        eid = RX[n][1]
        pk = [d for _, d in got[n]]
        seqs = [twccmodel.twcc_seq(d, eid) for d in pk]
        stamped = [s for s in seqs if s is not None]
        c.check(pk and len(stamped) == len(pk), '%s: every copy (%d: video, audio, probes) carries its '
                'transport-cc element under id %d' % (n, len(pk), eid), '%d of %d' % (len(stamped), len(pk)))
        ok, why = twccmodel.contiguous(stamped)
        c.check(ok and len(set(stamped)) == len(stamped), '%s: its transport-wide seqs are consecutive across '
                'its streams, none twice' % n, why)
        c.check(not (set(stamped) <= sent_values), '%s: its seqs are its own, not the publisher\'s' % n)
    dave = [twccmodel.twcc_seq(d, PUB_ID) for _, d in got['dave']]
    c.check(dave and all(v in sent_values for v in dave), 'dave (no TWCC): copies unstamped, the publisher\'s '
            'values as they came', '%d copies' % len(dave))
    ssrcs_bob = set(struct.unpack_from('!I', d, 8)[0] for _, d in got['bob'])
    c.note('bob: %d copies on SSRCs %s' % (len(got['bob']), ', '.join('%#x' % s for s in sorted(ssrcs_bob))))

    # -- allocation --
    def tail_tids(n):
        return [vp8_tid(d) for t, d in got[n] if t > t_end - TAIL and len(d) > 200 and
                struct.unpack_from('!I', d, 8)[0] == media_ssrc.get(n) and parse_rtp(d).pt == rtpgen.PT_VP8]
    tb, tc, te, td = tail_tids('bob'), tail_tids('carol'), tail_tids('eve'), tail_tids('dave')
    c.note('last %.0f s video packets by TID: bob %s, carol %s, dave %s, eve %s' % (
        TAIL, *[[x.count(k) for k in range(3)] for x in (tb, tc, td, te)]))
    c.check(tb.count(2) > 0, 'bob (fast link): still gets T2, his ceiling', tb.count(2))
    c.check(td.count(2) > 0, 'dave (no feedback): his ceiling T2', td.count(2))
    c.check(len(tc) < len(tb) and tc.count(2) == 0 and tc.count(1) == 0,
            'carol (300 kbit/s link): lower layers (T0 only, or paused)', [tc.count(k) for k in range(3)])
    c.check(te.count(2) == 0, 'eve (lying feedback): never above her ceiling T1', te.count(2))
    allt = [vp8_tid(d) for _, d in got['eve'] if struct.unpack_from('!I', d, 8)[0] == media_ssrc.get('eve') and
            parse_rtp(d).pt == rtpgen.PT_VP8]
    c.check(allt.count(2) == 0, 'eve: no T2 packet at all', allt.count(2))

    pc = {n: mmrtest.participant_counters(env, m, n) for n in RX}
    c.note('bwe_bps: ' + ', '.join('%s %s' % (n, pc[n].get('bwe_bps')) for n in RX))
    c.check(0 < int(pc['carol'].get('bwe_bps', 0)) < 400000, 'carol: estimate below 400 kbit/s',
            pc['carol'].get('bwe_bps'))
    c.check(int(pc['bob'].get('bwe_bps', 0)) > int(pc['carol'].get('bwe_bps', 0)), 'bob\'s estimate above carol\'s')
    c.check(int(pc['bob'].get('twcc_fb_in', 0)) > 20, 'bob: twcc_fb_in counted', pc['bob'].get('twcc_fb_in'))
    c.check(int(pc['carol'].get('alloc_changes', 0)) > 0 and int(pc['carol'].get('alloc_runs', 0)) > 0,
            'carol: alloc_runs and alloc_changes counted',
            (pc['carol'].get('alloc_runs'), pc['carol'].get('alloc_changes')))
    c.check(int(pc['eve'].get('bwe_bad_fb', 0)) >= 3, 'eve: her lies counted in bwe_bad_fb (REMB, unknown '
            'seqs, a malformed TWCC, which is also a bad_rtcp drop)', pc['eve'].get('bwe_bad_fb'))
    c.check(mmrtest.drop_counts(env.stats()).get('bad_rtcp', 0) >= 1, 'the malformed TWCC dropped as bad_rtcp')
    c.check(int(pc['dave'].get('bwe_bps', 0)) == 0, 'dave: no estimate', pc['dave'].get('bwe_bps'))
    st = env.stats()
    c.check(mmrtest.lcore_total(st, 'twcc_stamped') > 0, 'lcore counter twcc_stamped',
            mmrtest.lcore_total(st, 'twcc_stamped'))
    vs = mmrtest.stream_stats(st, VIDEO) or {}
    c.note('video layer_kbps: %s' % vs.get('layer_kbps'))


def srtp_session(key, outbound):
    p = pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def run_srtp(env, c):
    c.note('== SRTP meeting')
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp importable'):
        return
    m = 'bwes'
    env.ctl('meeting', 'create', m, '--srtp', 'AEAD_AES_128_GCM')
    keys = {}
    cp = env.ctl('participant', 'add', m, 'alice', '--addr', CLIENT_IP, '--port', 7700, '--role', 'sendonly',
                 '--ext', 'twcc=%d' % PUB_ID)
    keys['alice'] = mmrtest.parse_keys(cp.stdout)
    vid = 0x5B000001
    env.ctl('stream', 'add', m, 'alice', '--ssrc', vid, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
    rx = {'bob': (7701, 5, 0xB0B00011), 'carol': (7702, None, None), 'dave': (7703, 3, None)}
    for n, (port, tid, rtx) in rx.items():
        args = ['participant', 'add', m, n, '--addr', CLIENT_IP, '--port', port, '--role', 'recvonly',
                '--rtcp', 'nack,pli,twcc' if tid else 'nack,pli']
        if tid:
            args += ['--ext', 'twcc=%d' % tid]
        if rtx:
            args += ['--rtx', '%d:%d' % (rtpgen.PT_VP8, PT_RTX)]
        keys[n] = mmrtest.parse_keys(env.ctl(*args).stdout)
        sub = ['sub', 'set', m, n, '--ssrc', vid, '--target', 2]
        if rtx:
            sub += ['--rtx-ssrc', rtx]
        env.ctl(*sub)
    env.wait_dp_attached()
    alice = env.udp_socket(7700)
    socks = {n: env.udp_socket(v[0]) for n, v in rx.items()}
    tx = srtp_session(mmrtest.key_bytes(keys['alice']['send_key']), True)
    dec = {n: srtp_session(mmrtest.key_bytes(keys[n]['recv_key']), False) for n in rx}
    enc = {n: srtp_session(mmrtest.key_bytes(keys[n]['send_key']), True) for n in rx}
    recv = {n: twccmodel.TwccReceiver(v[1]) if v[1] else None for n, v in rx.items()}
    got = {n: [] for n in rx}
    ext = rtpgen.one_byte_ext([(PUB_ID, b'\0\0')])
    gen = rtpgen.Vp8L1T3(vid, keyframe_interval=60, pkts_per_frame=3, payload_size=1000, ext=ext)
    pub_seq = 7
    sent_values = set()
    media = {}
    t0 = time.monotonic()
    next_frame = next_fb = t0
    bad = 0
    while time.monotonic() - t0 < 4.0:
        now = time.monotonic()
        if now >= next_frame:
            for p in gen.next_frame().packets:
                pub_seq = (pub_seq + 3) & 0xffff
                sent_values.add(pub_seq)
                env.send(alice, tx.protect(twccmodel.set_ext_u16(p.data, PUB_ID, pub_seq)))
            next_frame += 1.0 / FPS
        if now >= next_fb:
            for n, rr in recv.items():
                fb = rr.feedback(0x5A100000 + rx[n][0], media[n]) if rr and n in media else None
                if fb:
                    env.send(socks[n], enc[n].protect_rtcp(twccmodel.rtcp_rr(0x5A100000 + rx[n][0]) + fb))
            next_fb += 0.1
        r, _, _ = select.select(list(socks.values()), [], [], max(0.0, min(next_frame, next_fb) - time.monotonic()))
        for sk in r:
            n = next(k for k, v in socks.items() if v is sk)
            while True:
                try:
                    d = sk.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if rtpgen.is_rtcp(d) or len(d) < 12:
                    continue
                try:
                    d = dec[n].unprotect(d)
                except pylibsrtp.Error:
                    bad += 1
                    continue
                got[n].append(d)
                ssrc = struct.unpack_from('!I', d, 8)[0]
                if ssrc != (rx[n][2] or 0) and parse_rtp(d).pt == rtpgen.PT_VP8:
                    media.setdefault(n, ssrc)
                if recv[n] is not None:
                    recv[n].on_packet(d, int(time.monotonic() * 1e6))
    c.eq(bad, 0, 'every SRTP copy (media and probes) decrypts under its receiver\'s RECV key')
    for n in ('bob', 'dave'):
        eid = rx[n][1]
        seqs = [twccmodel.twcc_seq(d, eid) for d in got[n]]
        ok, why = twccmodel.contiguous([x for x in seqs if x is not None])
        c.check(got[n] and None not in seqs and ok, '%s: %d decrypted copies, each with its element id %d and '
                'consecutive seqs' % (n, len(got[n]), eid), why or '%d unstamped' % seqs.count(None))
    cv = [twccmodel.twcc_seq(d, PUB_ID) for d in got['carol']]
    c.check(cv and all(v in sent_values for v in cv), 'carol (no TWCC): the publisher\'s values and id, '
            'whatever the receivers\' order', '%d copies' % len(cv))
    pb = mmrtest.participant_counters(env, m, 'bob')
    c.check(int(pb.get('twcc_fb_in', 0)) > 5 and int(pb.get('bwe_bps', 0)) > 0,
            'bob: his SRTCP TWCC feedback used (twcc_fb_in, bwe_bps)', (pb.get('twcc_fb_in'), pb.get('bwe_bps')))


def body(c, args):
    env = MmrEnv('bwe')
    if args.bwe_off:
        env.extra_dp_conf += 'bwe = false;\n'
    with env:
        env.wait_dp_attached(10)
        run(env, c, not args.bwe_off)
        if not args.bwe_off:
            run_srtp(env, c)
        c.check(all(env.alive()), 'dataplane and controller alive at the end')
        errs = env.sanitizer_errors()
        c.check(not errs, 'no sanitizer reports in the logs', errs[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bwe-off', action='store_true',
                    help='negative control: the dataplane with bwe = false (no stamping, no estimate); '
                    'the checks must FAIL')
    args = ap.parse_args()
    mmrtest.run_test('test_bwe', lambda c: body(c, args))


if __name__ == '__main__':
    main()
