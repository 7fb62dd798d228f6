#!/usr/bin/python3
"""
test_srtp_layers.py - layered video in SRTP meetings (AEAD_AES_128_GCM) through the real
mmr-dataplane and mmr-controller, checked with an independent SRTP implementation (pylibsrtp).
Every participant's keys are what `mmrctl participant add` printed; a publisher protects all its
SSRCs with ONE outbound pylibsrtp session (its send_key), each receiver decrypts everything it
gets with ONE inbound session (its recv_key).

 1. Simulcast: VP8 in 3 encodings (`stream add --ssrc A,B,C --layers 1`), keyframes staggered, the
    packets of the three encodings interleaved highest first (so a switch can cut the old
    encoding's frame), every encoding starting near 65535 (inbound rollover counters 0 -> 1; the
    sw receiver's input wraps while on encoding 1, before it first uses encodings 2 and 0). A
    receiver switched 1 -> 2 -> 0 -> 1 -> 2 with `sub set --encoding` and one fixed at encoding 2:
    every copy decrypts with the receiver's one session, one SSRC (encoding 0's), exactly the
    packets of the encoding in force (each switch at the target's next keyframe), sequence numbers
    from 0 and contiguous but for one skipped number right after a switch that cut a frame (one
    outbound context for all encodings: one of its own per encoding would start again at its
    floor), PictureID and TL0PICIDX +1 at a switch, timestamps forward; the bytes otherwise as
    sent; no srtp_auth, srtp_replay or srtp_lease drops.
 2. AV1 with the Dependency Descriptor (L3T3 template structure on keyframes, an unrelated
    extension element beside it): receivers at decode targets 0 and 8. After decryption the DT 0
    receiver's structure packets carry active_decode_targets_bitmask 0x001 (inserted by the MMR),
    the rest of the DD as sent; the DT 8 receiver's DDs are byte for byte as sent; every payload as
    sent; the other extension element unchanged; the frames whose DTI is not NOT_PRESENT; sequence
    numbers from 0, contiguous across the input's 65535 -> 0.
 3. VP9 L3T3: a receiver at (spatial 0, temporal 0) gets exactly the SID 0 TID 0 layer frames, the
    marker on the last packet of each, PictureID +1 per picture, bytes as sent otherwise (seq
    rebased, mmrtest.srtp_match).
Sequence numbers are rebased per receiver context (each receiver here is a new one: its first copy
has seq 0, so no output wraps in this test) and new streams may lose leading packets as srtp_lease
(docs/design.md, "Keys"); here none may: a new stream's first lease is provisional, and every part
counts its packets exactly.

Run as root: /usr/bin/python3 tests/integration/test_srtp_layers.py
The dataplane runs with `rtcp = false`: the receivers' sockets get media only (test_rtcp.py covers
the MMR's own RTCP).
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP, MMR_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402

try:
    import pylibsrtp
except ImportError:
    pylibsrtp = None

SUITE = 'AEAD_AES_128_GCM'
KEY_LEN = 28
PACE = 0.003
DD_ID, OTHER_ID = 5, 3

# ---- 1. simulcast ----------------------------------------------------------------------------------
SIM_SSRCS = (0x5C000000, 0x5C000001, 0x5C000002)
SIM_TICKS = 62
SIM_SEQ = (65380, 65500, 65450)            # encoding 1 (where sw starts) wraps at its 36th packet
SIM_PKTS = (1, 2, 3)                       # packets per frame of each encoding
SIM_KEYS = tuple({t for t in range(1, SIM_TICKS) if t % 12 == (4 * e) % 12} for e in range(3))
SIM_START = {'sw': (7501, 1), 'fix2': (7502, 2)}
SIM_SW = {10: 2, 22: 0, 34: 1, 46: 2}       # tick -> new --encoding of sw
# encoding 2 keys at 8, 20, 32, 44, 56; encoding 0 at 12, 24, 36, 48, 60; encoding 1 at 4, 16, 28, 40, 52
SIM_SW_AT = [20, 24, 40, 56]

# ---- 2. AV1 ----------------------------------------------------------------------------------------
AV1_SSRC = 0xA5000001
AV1_PICS = 24
AV1_KEYS = (0, 16)
AV1_RX = {'a8': (7601, 8), 'a0': (7602, 0)}

# ---- 3. VP9 ----------------------------------------------------------------------------------------
VP9_SSRC = 0x95000001
VP9_PICS = 24
VP9_KEYS = (0, 16)


def av1_pkts(i, sid, key):
    return 2 if sid == 2 or (key and sid == 0) else 1


def vp9_pkts(i, sid, key):
    return 2 if sid == 2 or (key and sid == 0) or (sid == 1 and i % 3 == 0) else 1


# ---- SRTP helpers -----------------------------------------------------------------------------------

def session(key, outbound):
    p = pylibsrtp.Policy(key=key, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def unprotect(sess, pkt):
    try:
        return sess.unprotect(pkt)
    except pylibsrtp.Error:
        return None


def srtp_drops(env):
    env.wait_dp_attached(10)    # on a busy 2-core machine a heartbeat may lag for a moment
    d = mmrtest.drop_counts(env.stats())
    return {k: d.get(k, 0) for k in ('srtp_auth', 'srtp_replay', 'srtp_lease', 'unknown_ssrc')}


def delta(a, b):
    return {k: b[k] - a[k] for k in a}


class SrtpMeeting:
    """An SRTP meeting: a sendonly publisher and receivers, the keys from `participant add`."""

    def __init__(self, env, c, name, pub_port, rx_ports):
        self.env, self.c, self.name = env, c, name
        env.ctl('meeting', 'create', name, '--srtp', SUITE)
        self.keys = {}
        for who, port, role in [('pub', pub_port, 'sendonly')] + [(n, p, 'recvonly') for n, p in rx_ports.items()]:
            cp = env.ctl('participant', 'add', name, who, '--addr', CLIENT_IP, '--port', port, '--role', role)
            k = mmrtest.parse_keys(cp.stdout)
            ok = k.get('srtp_suite') == SUITE and all(
                len(mmrtest.key_bytes(k.get(x, 'inline:'))) == KEY_LEN for x in ('send_key', 'recv_key'))
            if not c.check(ok, '%s: participant add %s prints a %s send_key and recv_key' % (name, who, SUITE),
                           repr(cp.stdout[:160])):
                raise mmrtest.HarnessError('no keys for %s' % who)
            self.keys[who] = k
        self.pub = env.udp_socket(pub_port)
        self.tx = session(mmrtest.key_bytes(self.keys['pub']['send_key']), True)
        self.socks = {n: env.udp_socket(p) for n, p in rx_ports.items()}
        self.rx = {n: session(mmrtest.key_bytes(self.keys[n]['recv_key']), False) for n in rx_ports}
        self.got = {n: [] for n in rx_ports}

    def send(self, plain):
        self.env.send(self.pub, self.tx.protect(plain))

    def poll(self, timeout=0.0):
        for n, s in self.socks.items():
            self.got[n] += self.env.recv_from_all(s, timeout=timeout)

    def wait(self, name, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            self.poll(0.01)
            if len(self.got[name]) >= count or time.monotonic() > deadline:
                return len(self.got[name])

    def settle(self):
        for n, s in self.socks.items():
            self.got[n] += self.env.recv_from_all(s, timeout=0.4, max_wait=5)

    def decrypt(self, name, label):
        """Decrypt everything name got, in arrival order, with its one session; check it all did."""
        wires = self.got[name]
        plain = [unprotect(self.rx[name], d) for d, _ in wires]
        bad = [k for k, p in enumerate(plain) if p is None]
        self.c.check(wires and not bad, '%s: all %d copies authenticate and decrypt with ONE pylibsrtp '
                     'session under %s\'s recv_key' % (label, len(wires), name),
                     '%d undecryptable, first at #%s (seq %s)' % (
                         len(bad), bad[0] if bad else '-',
                         parse_rtp(wires[bad[0]][0]).seq if bad else '-'))
        self.c.check(all(src == (MMR_IP, MMR_PORT) for _, src in wires) and
                     all(p is None or p != d for p, (d, _) in zip(plain, wires)),
                     '%s: every copy from %s:%d, none in plaintext on the wire' % (label, MMR_IP, MMR_PORT))
        return [p for p in plain if p is not None]

    def nothing_to_pub(self, label):
        back = self.env.recv_all(self.pub, timeout=0.2, max_wait=0.5)
        self.c.eq(len(back), 0, '%s: nothing sent to the (sendonly) publisher' % label)


# ==== 1. simulcast =======================================================================================

class SimulcastModel:
    """A receiver of a simulcast group: nothing before a keyframe of the target encoding; the
    encoding changes only at a keyframe start of the target encoding; a packet is forwarded iff it is
    of the current encoding."""

    def __init__(self):
        self.started, self.cur = False, None

    def feed(self, p, target):
        if p.start and p.keyframe and p.encoding == target:
            self.started, self.cur = True, target
        return self.started and p.encoding == self.cur


def part_simulcast(env, c):
    m = SrtpMeeting(env, c, 'ssim', 7500, {n: v[0] for n, v in SIM_START.items()})
    env.ctl('stream', 'add', 'ssim', 'pub', '--ssrc', ','.join(str(x) for x in SIM_SSRCS), '--kind', 'video',
            '--codec', 'vp8', '--layers', 1)
    for n, (_, enc) in SIM_START.items():
        env.ctl('sub', 'set', 'ssim', n, '--ssrc', SIM_SSRCS[0], '--encoding', enc)
    env.wait_dp_attached()
    d0 = srtp_drops(env)
    gens = [rtpgen.Vp8L1T3(SIM_SSRCS[e], keyframe_interval=0, pkts_per_frame=SIM_PKTS[e],
                           payload_size=120 + 60 * e, seq=SIM_SEQ[e], ts=(5000, 2 ** 31, 2 ** 32 - 40000)[e],
                           picture_id=(10, 32700, 5000)[e], tl0picidx=(3, 254, 100)[e],
                           tids=(0,), sync=(False,)) for e in range(3)]
    models = {n: SimulcastModel() for n in SIM_START}
    targets = {n: v[1] for n, v in SIM_START.items()}
    expected = {n: [] for n in SIM_START}
    for tick in range(SIM_TICKS):
        if tick in SIM_SW:
            want = len(expected['sw'])
            have = m.wait('sw', want)
            c.check(have == want, 'simulcast sw: everything before tick %d arrived before the switch to '
                    'encoding %d' % (tick, SIM_SW[tick]), '%d of %d' % (have, want))
            targets['sw'] = SIM_SW[tick]
            env.ctl('sub', 'set', 'ssim', 'sw', '--ssrc', SIM_SSRCS[0], '--encoding', SIM_SW[tick])
        frames = []
        for e in (2, 1, 0):
            if tick in SIM_KEYS[e]:
                gens[e].request_keyframe()
            frames.append(rtpgen.vp8_simulcast_packets(gens[e], e))
        # interleave the encodings' packets, highest first
        order = []
        for k in range(max(len(f) for f in frames)):
            order += [f[k] for f in frames if k < len(f)]
        for p in order:
            m.send(p.data)
            for n in SIM_START:
                if models[n].feed(p, targets[n]):
                    expected[n].append((p, tick))
        time.sleep(PACE)
    m.wait('sw', len(expected['sw']))
    m.settle()

    for n in SIM_START:
        label = 'simulcast %s' % ('sw (1 -> 2 -> 0 -> 1 -> 2)' if n == 'sw' else 'fix2 (encoding 2)')
        plain = m.decrypt(n, label)
        exp = expected[n]
        rs = [parse_rtp(d) for d in plain]
        c.check(all(r.ssrc == SIM_SSRCS[0] for r in rs), '%s: one SSRC, encoding 0\'s 0x%08x'
                % (label, SIM_SSRCS[0]), sorted({'0x%08x' % r.ssrc for r in rs}))
        c.eq(len(plain), len(exp), '%s: packet count' % label)
        # which input packet each copy is: the payload after the VP8 descriptor is unique per packet
        ids = [r.payload[rtpgen.parse_vp8(r.payload).length:] for r in rs]
        want_ids = [w.payload[rtpgen.parse_vp8(w.payload).length:] for w in (parse_rtp(p.data) for p, _ in exp)]
        c.check(ids == want_ids, '%s: exactly the packets of the encoding in force, in order' % label,
                'first difference at #%s' % next((k for k, (a, b) in enumerate(zip(ids, want_ids)) if a != b),
                                                  min(len(ids), len(want_ids))))
        # switches: where the encoding changes in the expected stream
        sw_ticks = [t for k, (p, t) in enumerate(exp) if k and p.encoding != exp[k - 1][0].encoding]
        encs = []
        for p, t in exp:
            if not encs or encs[-1] != p.encoding:
                encs.append(p.encoding)
        if n == 'sw':
            c.check(sw_ticks == SIM_SW_AT and encs == [1, 2, 0, 1, 2],
                    '%s: the model switches at the target\'s next keyframes (ticks %s)' % (label, SIM_SW_AT),
                    'ticks %s, encodings %s' % (sw_ticks, encs))
        else:
            c.check(encs == [2] and len(exp) == SIM_TICKS * SIM_PKTS[2], '%s: every packet of encoding 2'
                    % label)
        # expected output sequence numbers: +1, and +2 right after a switch that cut the old frame
        want_seq, cuts, prev = [], 0, None
        for p, t in exp:
            if prev is None:
                s = p.seq
            elif p.encoding == prev.encoding:
                s = want_seq[-1] + ((p.seq - prev.seq) & 0xffff)
            else:
                cut = not prev.end
                cuts += cut
                s = want_seq[-1] + 1 + cut
            want_seq.append(s & 0xffff)
            prev = p
        # rebased: the receiver's (new) outbound context starts its copies at seq 0
        want_seq = [(s - want_seq[0]) & 0xffff for s in want_seq]
        seqs = [r.seq for r in rs]
        gaps = [(k, seqs[k - 1], seqs[k]) for k in range(1, len(seqs)) if (seqs[k] - seqs[k - 1]) & 0xffff != 1]
        c.check(seqs == want_seq,
                '%s: sequence numbers from 0 (rebased), contiguous across the switches (%d skipped number%s '
                'after a cut frame)' % (label, cuts, '' if cuts == 1 else 's'),
                'first %s, gaps (index, from, to) %s' % (seqs[:1], gaps[:6]))
        # the input's rollover: the MMR's inbound contexts go from ROC 0 to 1 while it forwards
        at = next((k for k in range(1, len(exp)) if exp[k][0].encoding == exp[k - 1][0].encoding and
                   exp[k][0].seq < exp[k - 1][0].seq), None)
        if n == 'sw':
            first_sw = next((k for k in range(1, len(exp)) if exp[k][0].encoding != exp[k - 1][0].encoding), None)
            c.check(at is not None and first_sw is not None and at < first_sw and len(exp) - at > 50 and
                    len(plain) == len(exp),
                    '%s: the input (encoding 1) wraps 65535 -> 0 (ROC 1) before the first switch and the %d '
                    'copies after it arrive' % (label, len(exp) - (at or 0)),
                    'wrap at #%s, first switch at #%s' % (at, first_sw))
        else:
            c.check(at is not None and len(plain) == len(exp),
                    '%s: the input wraps 65535 -> 0 (ROC 1) and the %d copies after it arrive'
                    % (label, len(exp) - (at or 0)), 'wrap at #%s' % at)
        # the rest of the bytes, PictureID / TL0PICIDX / timestamps
        same, pid_ok, tl0_ok, ts_ok = True, True, True, True
        pv = None
        for d, r, (p, t) in zip(plain, rs, exp):
            b = bytearray(d)
            struct.pack_into('!HII', b, 2, p.seq, p.ts, p.ssrc)
            g = rtpgen.parse_vp8(r.payload)
            struct.pack_into('!H', b, r.hdr_len + g.picture_id_off, 0x8000 | p.picture_id)
            b[r.hdr_len + g.tl0picidx_off] = p.tl0picidx
            same &= bytes(b) == p.data
            cur = (p, r.ts, g.picture_id, g.tl0picidx)
            if pv is not None:
                q, qts, qpid, qtl0 = pv
                if p.encoding == q.encoding:
                    ts_ok &= (r.ts - p.ts) & 0xffffffff == (qts - q.ts) & 0xffffffff
                    pid_ok &= (g.picture_id - p.picture_id) & 0x7fff == (qpid - q.picture_id) & 0x7fff
                    tl0_ok &= (g.tl0picidx - p.tl0picidx) & 0xff == (qtl0 - q.tl0picidx) & 0xff
                else:
                    ts_ok &= 0 < (r.ts - qts) & 0xffffffff < 90000
                    pid_ok &= g.picture_id == (qpid + 1) & 0x7fff
                    tl0_ok &= g.tl0picidx == (qtl0 + 1) & 0xff
            pv = cur
        c.check(same and len(plain) == len(exp), '%s: plaintext equals the input but for seq, ts, SSRC, '
                'PictureID, TL0PICIDX' % label)
        c.check(pid_ok and tl0_ok and ts_ok and len(plain) == len(exp),
                '%s: PictureID and TL0PICIDX continuous (+1 at a switch), timestamps forward' % label,
                'pid %s tl0 %s ts %s' % (pid_ok, tl0_ok, ts_ok))
    m.nothing_to_pub('simulcast')
    c.eq(delta(d0, srtp_drops(env)), {'srtp_auth': 0, 'srtp_replay': 0, 'srtp_lease': 0, 'unknown_ssrc': 0},
         'simulcast: no srtp_auth / srtp_replay / srtp_lease / unknown_ssrc drops (three input SSRCs past '
         'their wrap)')


# ==== 2. AV1 ================================================================================================

class Av1Model:
    def __init__(self, dt):
        self.dt, self.started, self.fwd = dt, False, False

    def feed(self, p):
        if p.start:
            if p.keyframe:
                self.started = True
            self.fwd = self.started and p.extra['dtis'][self.dt] != rtpgen.DTI_NOT_PRESENT
        return self.fwd


def part_av1(env, c):
    m = SrtpMeeting(env, c, 'sav1', 7600, {n: v[0] for n, v in AV1_RX.items()})
    env.ctl('stream', 'add', 'sav1', 'pub', '--ssrc', AV1_SSRC, '--kind', 'video', '--codec', 'av1',
            '--layers', 3, '--spatial', 3, '--dd-ext', DD_ID)
    for n, (_, dt) in AV1_RX.items():
        env.ctl('sub', 'set', 'sav1', n, '--ssrc', AV1_SSRC, '--dt', dt)
    env.wait_dp_attached()
    d0 = srtp_drops(env)
    gen = rtpgen.Av1Svc(AV1_SSRC, dd_id=DD_ID, other_id=OTHER_ID, keyframes=AV1_KEYS, offsets=(60, 5),
                        pkts=av1_pkts, seq=65530)
    models = {n: Av1Model(dt) for n, (_, dt) in AV1_RX.items()}
    expected = {n: [] for n in AV1_RX}
    for i in range(AV1_PICS):
        for p in gen.next_picture():
            m.send(p.data)
            for n in AV1_RX:
                if models[n].feed(p):
                    expected[n].append(p)
        time.sleep(PACE)
    m.settle()
    for n, (_, dt) in AV1_RX.items():
        label = 'av1 %s (DT %d)' % (n, dt)
        plain = m.decrypt(n, label)
        exp = expected[n]
        c.eq(len(plain), len(exp), '%s: packet count' % label)
        c.check(all(parse_rtp(d).ssrc == AV1_SSRC for d in plain), '%s: SSRC 0x%08x' % (label, AV1_SSRC))
        want_mask = 0x001 if dt == 0 else 0x1ff
        structure = None
        told, n_struct, dd_ok, other_ok, pl_ok, hdr_ok, frames = [], 0, True, True, True, True, []
        for d, p in zip(plain, exp):
            r, w = parse_rtp(d), parse_rtp(p.data)
            el = rtpgen.rtp_ext_element(d, DD_ID)
            ot = rtpgen.rtp_ext_element(d, OTHER_ID)
            sent = rtpgen.parse_dd(p.extra['dd'], structure)
            if sent.structure is not None:
                structure = sent.structure
            if el is None:
                dd_ok = False
            elif sent.structure is not None:
                n_struct += 1
                got_dd = rtpgen.parse_dd(el[1], structure)
                told.append(got_dd.active_dts)
                if dt == 8:
                    dd_ok &= el[1] == p.extra['dd']
                else:
                    dd_ok &= (got_dd._replace(active_dts=0) == sent._replace(active_dts=0) and
                              got_dd.active_dts == 0x001 and el[1] != p.extra['dd'])
            else:
                dd_ok &= el[1] == p.extra['dd']
            other_ok &= ot is not None and ot[1] == p.extra['other']
            pl_ok &= r.payload == w.payload
            hdr_ok &= (r.version, r.pt, r.ts, r.ssrc, r.cc, r.padding) == (w.version, w.pt, w.ts, w.ssrc, w.cc,
                                                                          w.padding)
            if el is not None and el[1][0] & 0x80:
                frames.append(struct.unpack_from('!H', el[1], 1)[0])
        c.check(frames == [p.extra['fn'] for p in exp if p.start] and len(plain) == len(exp),
                '%s: exactly the frames whose DTI is not NOT_PRESENT (%d)' % (label, sum(p.start for p in exp)),
                'frame numbers %s' % frames[:10])
        if dt == 8:
            c.check(dd_ok and n_struct == len(AV1_KEYS) and len(plain) == len(exp),
                    '%s: every Dependency Descriptor byte for byte as sent (%d structure packets unchanged)'
                    % (label, n_struct), 'told %s' % ['0x%03x' % x for x in told])
        else:
            c.check(dd_ok and n_struct == len(AV1_KEYS) and told == [want_mask] * len(AV1_KEYS),
                    '%s: structure packets carry active_decode_targets_bitmask 0x001, inserted by the MMR, the '
                    'rest of the DD as sent; other DDs as sent' % label,
                    'told %s over %d structure packets' % (['0x%03x' % x if x is not None else None
                                                            for x in told], n_struct))
        c.check(other_ok and len(plain) == len(exp), '%s: the unrelated extension element unchanged' % label)
        c.check(pl_ok and hdr_ok and len(plain) == len(exp),
                '%s: every payload byte as sent (and PT, timestamp, SSRC)' % label)
        seqs = [parse_rtp(d).seq for d in plain]
        c.check(seqs == list(range(len(exp))) and any(b.seq < a.seq for a, b in zip(exp, exp[1:])),
                '%s: seq from 0 (rebased), contiguous across the input\'s 65535 -> 0 wrap' % label, seqs[:8])
    m.nothing_to_pub('av1')
    c.eq(delta(d0, srtp_drops(env)), {'srtp_auth': 0, 'srtp_replay': 0, 'srtp_lease': 0, 'unknown_ssrc': 0},
         'av1: no srtp_auth / srtp_replay / srtp_lease / unknown_ssrc drops')


# ==== 3. VP9 ================================================================================================

def part_vp9(env, c):
    m = SrtpMeeting(env, c, 'svp9', 7700, {'v00': 7701})
    env.ctl('stream', 'add', 'svp9', 'pub', '--ssrc', VP9_SSRC, '--kind', 'video', '--codec', 'vp9',
            '--layers', 3, '--spatial', 3)
    env.ctl('sub', 'set', 'svp9', 'v00', '--ssrc', VP9_SSRC, '--spatial', 0, '--target', 0)
    env.wait_dp_attached()
    d0 = srtp_drops(env)
    gen = rtpgen.Vp9Svc(VP9_SSRC, keyframes=VP9_KEYS, pkts=vp9_pkts, seq=65530)
    sent = []
    for i in range(VP9_PICS):
        for p in gen.next_picture():
            m.send(p.data)
            sent.append(p)
        time.sleep(PACE)
    m.settle()
    label = 'vp9 v00 (S0 T0)'
    plain = m.decrypt('v00', label)
    exp = [p for p in sent if p.sid == 0 and p.tid == 0]
    c.eq(len(plain), len(exp), '%s: packet count' % label)
    got_lf = []
    for d in plain:
        v = rtpgen.parse_vp9(parse_rtp(d).payload)
        if v.b:
            got_lf.append((v.sid, v.tid, parse_rtp(d).ts))
    want_lf = [(p.sid, p.tid, p.ts) for p in exp if p.start]
    c.check(got_lf == want_lf and len(want_lf) == sum(1 for p in sent if p.start and p.sid == 0 and p.tid == 0),
            '%s: only the SID 0 TID 0 layer frames, all %d of them' % (label, len(want_lf)),
            'got (sid, tid) %s' % [x[:2] for x in got_lf[:10]])
    marks = [parse_rtp(d).marker for d in plain]
    c.check(marks == [p.end for p in exp], '%s: marker on the last packet of each layer frame, nowhere else'
            % label, 'markers at %s' % [k for k, x in enumerate(marks) if x][:10])
    first_seq, first_pid = exp[0].seq, exp[0].picture_id
    pics = []
    want = []
    for k, p in enumerate(exp):
        if p.start:
            pics.append(p.picture)
        want.append(rtpgen.rewrite_vp9(p.data, first_seq + k, (first_pid + len(pics) - 1) & 0x7fff, VP9_SSRC,
                                       p.end))
    ok, detail = mmrtest.srtp_match(plain, want, 0)
    c.check(ok and any(b.seq < a.seq for a, b in zip(exp, exp[1:])),
            '%s: bytes as sent but for seq (rebased: from 0, contiguous across the input\'s 65535 -> 0), '
            'PictureID (+1 per picture) and marker' % label, detail)
    m.nothing_to_pub('vp9')
    c.eq(delta(d0, srtp_drops(env)), {'srtp_auth': 0, 'srtp_replay': 0, 'srtp_lease': 0, 'unknown_ssrc': 0},
         'vp9: no srtp_auth / srtp_replay / srtp_lease / unknown_ssrc drops')


# ==== the test ==============================================================================================

def body(c):
    if not c.check(pylibsrtp is not None, 'pylibsrtp importable (python3-pylibsrtp)'):
        return
    with MmrEnv('srtplay', rtcp=False) as env:
        env.wait_dp_attached(10)
        part_simulcast(env, c)
        part_av1(env, c)
        part_vp9(env, c)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_srtp_layers', body)
