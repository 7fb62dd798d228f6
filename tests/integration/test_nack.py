#!/usr/bin/python3
"""
test_nack.py - loss repair through the real mmr-dataplane and mmr-controller (issue 11,
dataplane/repair.c), byte by byte against a small model in this file.

 1. Plain meeting, VP8 L1T3 from alice whose sequence numbers wrap (65400 -> 65535 -> 0); the MMR
    keeps 128 packets per video stream (rtx_video_packets). Receivers: bob (all layers, no RTX),
    carol (T0 only, RTX), dave (T0+T1, RTX). Every copy each receiver gets is checked against the
    layer model (rtpgen.LayerSelModel, rewrite_vp8); then each sends compound RTCP (RR, SDES, generic
    NACK with PID+BLP items) for some of its own sequence numbers, across its wrap and across the
    layer drops in its numbering:
      - bob gets back exactly the bytes of the copies it NACKed (its SSRC, seq, ts, PictureID,
        TL0PICIDX), once each;
      - carol and dave get RTX (RFC 4588): their RTX SSRC and payload type, their own RTX sequence
        numbers (consecutive), the marker and the rest of the header as in the copy, then the
        copy's sequence number (OSN), then the copy's payload;
      - each NACK is sent twice at once: the second brings nothing (not twice within the RTT),
        counted resend_within_rtt;
      - a NACK for a packet the MMR no longer keeps (its first copies: more than 128 inputs ago) and
        for one never sent: nothing, counted resend_gone;
      - counters: nack_in, resent, resent_rtx as asked.
 2. SRTP meeting (AEAD_AES_128_GCM, pylibsrtp): bob takes RTX, carol does not. bob's SRTCP NACK
    brings RTX packets that decrypt under his RECV key to OSN + his decrypted copy's payload; carol's
    brings nothing (a second packet on the media SSRC would reuse an SRTP index): counted srtp_reuse.
 3. Uplink: alice (RTX SSRC and payload type set on her stream) leaves out three packets; the MMR
    NACKs exactly those to her (RTCP from its SSRC for her, media SSRC = her stream); she answers
    each NACK at once with RTX (as a client does within its RTT: the layer selector places a late
    packet only within the current or the previous frame); bob gets each once, rewritten like the
    rest (the model's bytes); the same RTX again is dropped (rtx_unused); counters nack_out, rtx_in,
    repaired.
--rtcp-off (negative control, in tests/run-all.sh): part 1 with rtcp = false must FAIL.
"""
import argparse
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402

try:
    import pylibsrtp
except ImportError:       # reported as a failed check
    pylibsrtp = None

PACE = 0.002
RING = 128                 # rtx_video_packets of this test's dataplane
PT_RTX = 97
VIDEO = 0x7E000001
VIDEO_RTX = 0x7E0000F1
SEQ0 = 65400
FRAMES = 60                # 3 packets each: 180 inputs, wraps at input 136
RX = {   # name: (port, target temporal layer, RTX SSRC or None)
    'bob': (7401, 2, None),
    'carol': (7402, 0, 0xCA000001),
    'dave': (7403, 1, 0xDA000001),
}
GCM = 'AEAD_AES_128_GCM'


# ---- RTCP a receiver sends (RFC 3550, 4585) --------------------------------------------------------

def rtcp_rr(ssrc):
    return struct.pack('!BBHI', 0x80, 201, 1, ssrc)


def rtcp_sdes(ssrc, cname=b'test'):
    item = bytes([1, len(cname)]) + cname + b'\0'
    item += b'\0' * (-len(item) % 4)
    return struct.pack('!BBHI', 0x81, 202, (4 + len(item)) // 4, ssrc) + item


def rtcp_nack(sender, media, items):
    fci = b''.join(struct.pack('!HH', pid, blp) for pid, blp in items)
    return struct.pack('!BBHII', 0x81, 205, 2 + len(items), sender, media) + fci


def nack_items(seqs):
    """PID+BLP items covering the 16-bit seqs (in the order given, each item up to 17 seqs)."""
    items = []
    for s in seqs:
        for i, (pid, blp) in enumerate(items):
            d = (s - pid) & 0xffff
            if 1 <= d <= 16:
                items[i] = (pid, blp | (1 << (d - 1)))
                break
            if d == 0:
                break
        else:
            items.append((s, 0))
    return items


def compound_nack(sender, media, seqs):
    return rtcp_rr(sender) + rtcp_sdes(sender) + rtcp_nack(sender, media, nack_items(seqs))


def parse_nacks(data):
    """The seqs of every generic NACK in an RTCP compound packet: [(sender, media, [seqs])]."""
    out = []
    off = 0
    while off + 4 <= len(data):
        b0, pt, ln = struct.unpack_from('!BBH', data, off)
        end = off + 4 * (ln + 1)
        if pt == 205 and (b0 & 0x1f) == 1 and end <= len(data):
            sender, media = struct.unpack_from('!II', data, off + 4)
            seqs = []
            for p in range(off + 12, end, 4):
                pid, blp = struct.unpack_from('!HH', data, p)
                seqs.append(pid)
                seqs += [(pid + i + 1) & 0xffff for i in range(16) if blp & (1 << i)]
            out.append((sender, media, seqs))
        off = end
    return out


def rtx_of(copy, rtx_ssrc, rtx_seq):
    """The RTX form (RFC 4588) of a copy: its header with PT_RTX, rtx_seq and rtx_ssrc (marker, X,
    CC, extension as they were), then the copy's seq, then its payload (descriptor included)."""
    r = parse_rtp(copy)
    h = bytearray(copy[:r.hdr_len])
    h[1] = (h[1] & 0x80) | PT_RTX
    struct.pack_into('!H', h, 2, rtx_seq & 0xffff)
    struct.pack_into('!I', h, 8, rtx_ssrc)
    return bytes(h) + struct.pack('!H', r.seq) + copy[r.hdr_len:]


def unwrap_rtx(pkt, media_ssrc, media_pt):
    """What the MMR makes of a publisher's RTX packet: the media packet it carries."""
    r = parse_rtp(pkt)
    osn = struct.unpack_from('!H', pkt, r.hdr_len)[0]
    h = bytearray(pkt[:r.hdr_len])
    h[1] = (h[1] & 0x80) | media_pt
    struct.pack_into('!H', h, 2, osn)
    struct.pack_into('!I', h, 8, media_ssrc)
    return bytes(h) + pkt[r.hdr_len + 2:]


def by_ssrc(pkts):
    out = {}
    for p in pkts:
        if rtpgen.is_rtcp(p) or len(p) < 12:
            continue
        out.setdefault(struct.unpack_from('!I', p, 8)[0], []).append(p)
    return out


def counters(env, ssrc):
    return mmrtest.stream_stats(env.stats(), ssrc) or {}


def delta(after, before, key):
    return int(after.get(key, 0)) - int(before.get(key, 0))


# ---- the controller's RTCP settings (mmrctl, docs/interfaces.md) -----------------------------------

def add_receiver(env, meeting, name, port, rtx):
    args = ['participant', 'add', meeting, name, '--addr', CLIENT_IP, '--port', port, '--role', 'recvonly']
    if rtx:
        args += ['--rtx', '%d:%d' % (rtpgen.PT_VP8, PT_RTX)]
    return env.ctl(*args)


def subscribe(env, meeting, name, ssrc, target, rtx_ssrc):
    args = ['sub', 'set', meeting, name, '--ssrc', ssrc, '--target', target]
    if rtx_ssrc:
        args += ['--rtx-ssrc', rtx_ssrc]
    return env.ctl(*args)


# ---- 1. plain --------------------------------------------------------------------------------------

def plain(env, c):
    c.note('== plain meeting: NACK -> resend / RTX')
    env.ctl('meeting', 'create', 'nack', '--plain')
    env.ctl('participant', 'add', 'nack', 'alice', '--addr', CLIENT_IP, '--port', 7400, '--role', 'sendonly')
    env.ctl('stream', 'add', 'nack', 'alice', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8',
            '--layers', 3)
    for name, (port, target, rtx) in RX.items():
        add_receiver(env, 'nack', name, port, rtx)
        subscribe(env, 'nack', name, VIDEO, target, rtx)
    env.wait_dp_attached()
    alice = env.udp_socket(7400)
    socks = {n: env.udp_socket(p) for n, (p, _, _) in RX.items()}

    gen = rtpgen.Vp8L1T3(VIDEO, seq=SEQ0, keyframe_interval=0)
    frames = gen.frames(FRAMES)
    inputs = [p for f in frames for p in f.packets]
    for p in inputs:
        env.send(alice, p.data)
        time.sleep(PACE)
    copies = {}
    for name, (port, target, rtx) in RX.items():
        got = env.recv_all(socks[name], timeout=0.6, max_wait=10)
        model = rtpgen.LayerSelModel()
        want = []
        out_ssrc = None
        for p in inputs:
            r = model.feed(p, target)
            if r is not None:
                want.append((r, p))
        media = [g for g in got if not rtpgen.is_rtcp(g)]
        if media:
            out_ssrc = parse_rtp(media[0]).ssrc
        exp = [rtpgen.rewrite_vp8(p.data, s, pid, tl0, out_ssrc or 0) for (s, pid, tl0), p in want]
        c.check(media == exp, '%s: %d copies, byte for byte the model\'s (target T%d)' % (name, len(exp), target),
                'got %d, first difference at %s' % (len(media), next((i for i, (a, b) in enumerate(zip(media, exp))
                                                                      if a != b), None)))
        copies[name] = {parse_rtp(m).seq: (m, inp) for m, (_, inp) in zip(media, want)}
        copies[name + '_ssrc'] = out_ssrc
        copies[name + '_order'] = [parse_rtp(m).seq for m in media]

    before = counters(env, VIDEO)
    asked_total = 0
    resent_want, rtx_want = 0, 0
    for name, (port, target, rtx) in RX.items():
        order = copies[name + '_order']
        # among the last RING inputs: across the wrap (the copies around out seq 0) and a run
        kept = [s for s in order if _input_index(copies[name][s][1], inputs) >= len(inputs) - RING + 4]
        if not c.check(len(kept) >= 6, '%s: enough kept copies to ask for' % name, len(kept)):
            continue
        wrap = [s for s in kept if s in (0xfffe, 0xffff, 0, 1)]
        pick = sorted(set(wrap + kept[:2] + kept[-3:] + kept[len(kept) // 2:len(kept) // 2 + 2]),
                      key=lambda s: order.index(s))
        me = 0x55000000 + port
        # twice at once: the second comes within the RTT (default 100 ms) and brings nothing
        env.send(socks[name], compound_nack(me, copies[name + '_ssrc'], pick))
        env.send(socks[name], compound_nack(me, copies[name + '_ssrc'], pick))
        got = env.recv_all(socks[name], timeout=0.5, max_wait=5)
        got = [g for g in got if not rtpgen.is_rtcp(g)]
        asked_total += len(pick)
        if rtx is None:
            want = [copies[name][s][0] for s in pick]
            c.check(sorted(got) == sorted(want), '%s: NACK of %d copies (%s), twice at once -> exactly those bytes again, once each'
                    % (name, len(pick), ','.join(map(str, pick))),
                    'got %d packets, want %d' % (len(got), len(want)))
            resent_want += len(pick)
        else:
            rtx_pkts = [g for g in got if parse_rtp(g).ssrc == rtx]
            c.eq(len(rtx_pkts), len(got), '%s: every resend on its RTX SSRC %#x' % (name, rtx))
            ok = len(rtx_pkts) == len(pick)
            if ok:
                first = parse_rtp(rtx_pkts[0]).seq
                osns = [struct.unpack_from('!H', g, parse_rtp(g).hdr_len)[0] for g in rtx_pkts]
                want = [rtx_of(copies[name][o][0], rtx, first + i) for i, o in enumerate(osns)]
                ok = rtx_pkts == want and sorted(osns) == sorted(pick)
            c.check(ok, '%s: NACK of %d copies (%s), twice at once -> RTX once each: PT %d, own consecutive seqs, OSN first, '
                    'the copy\'s payload' % (name, len(pick), ','.join(map(str, pick)), PT_RTX),
                    'got %d packets' % len(rtx_pkts))
            rtx_want += len(pick)
        asked_total += len(pick)
    after = counters(env, VIDEO)
    c.eq(delta(after, before, 'resent'), resent_want, 'counter resent')
    c.eq(delta(after, before, 'resent_rtx'), rtx_want, 'counter resent_rtx')
    c.eq(delta(after, before, 'resend_within_rtt'), asked_total // 2, 'counter resend_within_rtt')

    # gone: bob's first copies (more than RING inputs ago) and a seq never sent
    before = after
    first = copies['bob_order'][:3]
    never = (copies['bob_order'][-1] + 5000) & 0xffff
    env.send(socks['bob'], compound_nack(0x55000000 + RX['bob'][0], copies['bob_ssrc'], first + [never]))
    got = [g for g in env.recv_all(socks['bob'], timeout=0.4, max_wait=3) if not rtpgen.is_rtcp(g)]
    c.eq(len(got), 0, 'bob: NACK of packets no longer kept and never sent -> nothing')
    after = counters(env, VIDEO)
    c.eq(delta(after, before, 'resend_gone'), 4, 'counter resend_gone')
    c.eq(delta(after, before, 'nack_in'), 4, 'counter nack_in (gone ones)')
    return alice, socks, copies, inputs, gen


def _input_index(p, inputs):
    for i, q in enumerate(inputs):
        if q is p:
            return i
    return -1


# ---- 2. SRTP ---------------------------------------------------------------------------------------

def srtp_session(key, outbound):
    p = pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def srtp(env, c):
    c.note('== SRTP meeting: RTX under the receiver\'s key; no resend on the media SSRC')
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp importable'):
        return
    m = 'nacks'
    env.ctl('meeting', 'create', m, '--srtp', GCM)
    keys = {}
    cp = env.ctl('participant', 'add', m, 'alice', '--addr', CLIENT_IP, '--port', 7500, '--role', 'sendonly')
    keys['alice'] = mmrtest.parse_keys(cp.stdout)
    rx = {'bob': (7501, 0xB0B0B0B1), 'carol': (7502, None)}
    vid = 0x5E000001
    env.ctl('stream', 'add', m, 'alice', '--ssrc', vid, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
    for n, (port, rtx) in rx.items():
        cp = add_receiver(env, m, n, port, rtx)
        keys[n] = mmrtest.parse_keys(cp.stdout)
        subscribe(env, m, n, vid, 2, rtx)
    env.wait_dp_attached()
    alice = env.udp_socket(7500)
    socks = {n: env.udp_socket(p) for n, (p, _) in rx.items()}
    tx = srtp_session(mmrtest.key_bytes(keys['alice']['send_key']), True)
    dec = {n: srtp_session(mmrtest.key_bytes(keys[n]['recv_key']), False) for n in rx}
    enc = {n: srtp_session(mmrtest.key_bytes(keys[n]['send_key']), True) for n in rx}
    gen = rtpgen.Vp8L1T3(vid, seq=100, keyframe_interval=0)
    for f in gen.frames(20):
        for p in f.packets:
            env.send(alice, tx.protect(p.data))
            time.sleep(PACE)
    plain_copies = {}
    for n in rx:
        got = env.recv_all(socks[n], timeout=0.6, max_wait=10)
        dd = []
        for g in got:
            if rtpgen.is_rtcp(g):
                continue
            try:
                dd.append(dec[n].unprotect(g))
            except pylibsrtp.Error:
                pass
        c.check(len(dd) >= 50, '%s: copies decrypt under its RECV key' % n, len(dd))
        plain_copies[n] = {parse_rtp(d).seq: d for d in dd}
    drops0 = mmrtest.drop_counts(env.stats())
    for n, (port, rtx) in rx.items():
        seqs = sorted(plain_copies[n])[-10:-7]
        if len(seqs) < 3:
            continue
        out_ssrc = parse_rtp(plain_copies[n][seqs[0]]).ssrc
        me = 0x66000000 + port
        env.send(socks[n], enc[n].protect_rtcp(compound_nack(me, out_ssrc, seqs)))
        got = [g for g in env.recv_all(socks[n], timeout=0.5, max_wait=5) if not rtpgen.is_rtcp(g)]
        if rtx:
            pl = []
            for g in got:
                try:
                    pl.append(dec[n].unprotect(g))
                except pylibsrtp.Error:
                    pass
            ok = len(pl) == 3
            if ok:
                first = parse_rtp(pl[0]).seq
                osns = [struct.unpack_from('!H', d, parse_rtp(d).hdr_len)[0] for d in pl]
                want = [rtx_of(plain_copies[n][o], rtx, first + i) for i, o in enumerate(osns)]
                ok = pl == want and sorted(osns) == seqs
            c.check(ok, '%s: SRTCP NACK of 3 -> 3 RTX packets, decrypted = OSN + its copy\'s payload' % n,
                    'got %d (%d decrypted)' % (len(got), len(pl)))
        else:
            c.eq(len(got), 0, '%s (no RTX): SRTCP NACK -> nothing on the media SSRC' % n)
    drops1 = mmrtest.drop_counts(env.stats())
    c.eq(drops1.get('srtp_reuse', 0) - drops0.get('srtp_reuse', 0), 3,
         'carol\'s 3 asked packets counted srtp_reuse')


# ---- 3. uplink -------------------------------------------------------------------------------------

def uplink(env, c):
    c.note('== uplink: the MMR NACKs the publisher, the publisher repairs with RTX')
    m = 'uplink'
    vid = 0x7F000001
    env.ctl('meeting', 'create', m, '--plain')
    env.ctl('participant', 'add', m, 'alice', '--addr', CLIENT_IP, '--port', 7600, '--role', 'sendonly')
    env.ctl('stream', 'add', m, 'alice', '--ssrc', vid, '--kind', 'video', '--codec', 'vp8', '--layers', 3,
            '--rtx-ssrc', VIDEO_RTX, '--rtx-pt', PT_RTX)
    env.ctl('participant', 'add', m, 'bob', '--addr', CLIENT_IP, '--port', 7601, '--role', 'recvonly')
    env.ctl('sub', 'set', m, 'bob', '--ssrc', vid, '--target', 2)
    env.wait_dp_attached()
    alice, bob = env.udp_socket(7600), env.udp_socket(7601)
    gen = rtpgen.Vp8L1T3(vid, seq=65530, keyframe_interval=0)
    inputs = [p for f in gen.frames(20) for p in f.packets]
    by_seq = {p.seq: p for p in inputs}
    skip = {inputs[20].seq, inputs[21].seq, inputs[33].seq}
    before = counters(env, vid)
    nacked = set()
    rtx_sent = []
    rtx_seq = 4000

    def answer(datagrams):
        """alice answers each NACK at once (as a client does, within its RTT) with RTX packets."""
        nonlocal rtx_seq
        for d in datagrams:
            for sender, media, seqs in parse_nacks(d):
                if media != vid:
                    continue
                nacked.update(seqs)
                for q in seqs:
                    if q in by_seq and q not in [x[0] for x in rtx_sent]:
                        pkt = by_seq[q].data
                        r = parse_rtp(pkt)
                        h = bytearray(pkt[:r.hdr_len])
                        h[1] = (h[1] & 0x80) | PT_RTX
                        struct.pack_into('!H', h, 2, rtx_seq)
                        struct.pack_into('!I', h, 8, VIDEO_RTX)
                        rtx = bytes(h) + struct.pack('!H', q) + pkt[r.hdr_len:]
                        rtx_seq = (rtx_seq + 1) & 0xffff
                        rtx_sent.append((q, rtx))
                        env.send(alice, rtx)

    for p in inputs:
        if p.seq not in skip:
            env.send(alice, p.data)
        time.sleep(PACE * 3)
        answer(env.recv_all(alice, timeout=0.001, max_wait=0.002))
    answer(env.recv_all(alice, timeout=0.3, max_wait=2))
    c.check(skip <= nacked and nacked <= skip, 'the MMR NACKed exactly the 3 packets alice left out',
            'asked %s, left out %s' % (sorted(nacked), sorted(skip)))
    c.eq(sorted(q for q, _ in rtx_sent), sorted(skip), 'alice repaired them as RTX, answering each NACK at once')
    for _, d in rtx_sent:       # again: the stream has them now
        env.send(alice, d)
        time.sleep(PACE)
    got = [g for g in env.recv_all(bob, timeout=0.6, max_wait=10) if not rtpgen.is_rtcp(g)]
    out_ssrc = parse_rtp(got[0]).ssrc if got else 0
    # bob (all layers) gets every input with its own numbers: the model of the stream without loss;
    # the repairs come within a frame of their gap, where the selector still places late packets
    model = rtpgen.LayerSelModel()
    want = []
    for p in inputs:
        r = model.feed(p, 2)
        if r is not None:
            want.append(rtpgen.rewrite_vp8(p.data, r[0], r[1], r[2], out_ssrc))
    c.check(sorted(got) == sorted(want) and len(got) == len(set(got)),
            'bob got every packet once, the 3 repaired ones included, byte for byte',
            'got %d, want %d; missing seqs %s' % (len(got), len(want),
                                                  sorted(set(parse_rtp(x).seq for x in want) -
                                                         set(parse_rtp(x).seq for x in got))))
    after = counters(env, vid)
    c.eq(delta(after, before, 'rtx_in'), 3, 'counter rtx_in (the second copies are not)')
    c.eq(delta(after, before, 'repaired'), 3, 'counter repaired')
    c.check(delta(after, before, 'nack_out') >= 3, 'counter nack_out >= 3', delta(after, before, 'nack_out'))
    drops = mmrtest.drop_counts(env.stats())
    c.check(drops.get('rtx_unused', 0) >= 3, 'the repeated RTX packets dropped as rtx_unused',
            drops.get('rtx_unused', 0))


def body(c, args):
    env = MmrEnv('nack')
    env.extra_dp_conf = 'rtx_video_packets = %d;\nrtx_max_mbufs = 4096;\n' % RING
    if args.rtcp_off:
        env.extra_dp_conf += 'rtcp = false;\n'
    with env:
        env.wait_dp_attached(10)
        plain(env, c)
        if not args.rtcp_off:
            srtp(env, c)
            uplink(env, c)
        c.check(all(env.alive()), 'dataplane and controller alive at the end')
        errs = env.sanitizer_errors()
        c.check(not errs, 'no sanitizer reports in the logs', errs[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rtcp-off', action='store_true',
                    help='negative control: the dataplane with rtcp = false (nothing kept, RTCP '
                    'dropped); the NACK checks must FAIL')
    args = ap.parse_args()
    mmrtest.run_test('test_nack', lambda c: body(c, args))


if __name__ == '__main__':
    main()
