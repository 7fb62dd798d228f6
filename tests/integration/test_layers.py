#!/usr/bin/python3
"""
test_layers.py - layered video through the real mmr-dataplane and mmr-controller, byte by byte.

Four meetings on one MMR, each with one publisher and receivers at different layer targets, every
packet hand-built (tests/lib/rtpgen.py) and every output compared with what a small model of the
layer rules in this file says each receiver must get:
 1. VP9 L3T3, non-flexible mode, SS on keyframes, 1 or 2 packets per layer frame: receivers at
    (spatial, temporal) (2,2), (1,1), (0,0), and one whose target changes: spatial down (next
    picture), spatial up (waits for a P=0 layer frame of the next spatial layer, or a keyframe),
    temporal down, temporal up (one layer at a time at U=1 layer frames), all down, all up (waits
    for the keyframe). Bytes equal the model's rewrite (seq, marker, PictureID, SSRC; the rest
    unchanged); `sub list` current layers at each step.
 2. AV1 L3T3 described by hand-built Dependency Descriptors (template structure with 9 decode
    targets and 3 chains; template ids wrapping mod 64; frame numbers wrapping; a second
    keyframe with a new structure) next to an unrelated extension element: receivers at decode
    targets 8, 4, 0 get exactly the frames whose DTI is not NOT_PRESENT; extension and DD bytes
    unchanged; the marker on the last forwarded packet of each picture (the AV1 RTP spec: last
    packet of the temporal unit; the decode target's top spatial layer follows from the template
    structure, so this holds from the first picture on); IPv4 and UDP checksums of every copy
    valid (read on the tap with AF_PACKET).
 3. Simulcast: VP8 in 3 encodings (own SSRC, seq, ts and PictureID spaces, keyframes staggered), a
    receiver switched 2 -> 0 -> 1 with `sub set --encoding`: one SSRC, contiguous seq, timestamps
    continuing, PictureID +1 and TL0PICIDX continuing at the switches, each switch exactly at the
    target encoding's next keyframe; H.264 in 2 encodings (keyframes as STAP-A SPS+PPS+IDR or
    STAP-A SPS+PPS then FU-A IDR): switch at the IDR.
 Then the controller is killed with SIGKILL and started again: with no packet sent, `sub list`
    (JSON and text) shows every receiver's current layers as before (a snapshot of the dataplane's
    event channel at the attach).
 4. Bad input on good streams: truncated VP9 descriptor, bad SS, AV1 without a DD, a DD before any
    structure, H.264 STAP-B and bad STAP-A sizes: each counted (bad_payload / no_structure),
    nothing forwarded for them, the good traffic complete and unchanged. Invalid `sub set`
    commands fail with one error line and change nothing in `sub list`.
`--selfcheck` runs only the checks of the packet builders (no MMR needed).
The dataplane runs with `rtcp = false`: the receivers' sockets get media only (test_rtcp.py covers
the MMR's own RTCP).
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402

DD_ID, OTHER_ID = 5, 3

# ---- 1. VP9 ----------------------------------------------------------------------------------------
VP9_SSRC = 0x90000001
VP9_PICS = 56
VP9_KEYS = (0, 48)
VP9_SWITCH_PICS = (20,)            # S1 and S2 with P=0: spatial up-switch points
VP9_RX = {'v22': (7101, (2, 2), 0x0A0A0A0A), 'v11': (7102, (1, 1), None), 'v00': (7103, (0, 0), None),
          'vsw': (7104, (2, 2), 0x0B0B0B0B)}
VP9_SW = {8: (1, 2), 12: (2, 2), 24: (2, 0), 28: (2, 2), 42: (0, 0), 45: (2, 2)}
VP9_LOOK = (16, 36)                # extra `sub list` checkpoints for vsw


def vp9_pkts(i, sid, key):
    return 2 if sid == 2 or (key and sid == 0) or (sid == 1 and i % 3 == 0) else 1


# ---- 2. AV1 ----------------------------------------------------------------------------------------
AV1_SSRC = 0xA1000001
AV1_PICS = 24
AV1_KEYS = (0, 16)
AV1_OFFSETS = (60, 5)              # template_id_offset of each keyframe's structure
AV1_RX = {'a8': (7201, 8), 'a4': (7202, 4), 'a0': (7203, 0)}


def av1_pkts(i, sid, key):
    return 2 if sid == 2 or (key and sid == 0) else 1


# ---- 3. simulcast ------------------------------------------------------------------------------------
SIM_SSRCS = (0x51000000, 0x51000001, 0x51000002)
SIM_TICKS = 40
SIM_KEYS = ({20, 31}, {15, 30}, {25})          # forced keyframes per encoding (tick 0 is one for all)
SIM_RX = {'sw': (7301, 2, None), 'fix1': (7302, 1, 0x0F0F0F0F)}
SIM_SW = {12: 0, 24: 1}                         # tick -> new --encoding of 'sw'
H264_SSRCS = (0x26400000, 0x26400001)
H264_TICKS = 30
H264_KEYS = ({18}, {9, 26})
H264_STYLE = ('stap', 'fu')
H264_RX = {'hsw': (7351, 0)}             # meeting 'h264'
H264_SW = {6: 1, 12: 0}

# ---- 4. bad input ------------------------------------------------------------------------------------
BAD_VP9, BAD_AV1, BAD_AV1_NEW, BAD_H264 = 0xBAD00009, 0xBAD000A1, 0xBAD000A2, 0xBAD00264

PACE = 0.004


# ==== models of the rules ==============================================================================

class Vp9Model:
    """What one receiver of a VP9 SVC stream gets (lib/codec/media.h, the brief's rules): nothing before
    a keyframe (P=0 at SID 0), which sets the current layers straight to the target; a new picture
    (new RTP timestamp) takes down-switches; spatial up one layer at a P=0 layer frame (B=1) of SID
    current+1 <= target; temporal up one layer at a U=1 B=1 layer frame of TID current+1 <= target;
    a layer frame is forwarded iff SID <= current spatial and TID <= current temporal. Withheld
    packets leave the seq space, wholly withheld pictures the PictureID space (after the start);
    the marker goes to the last forwarded packet of each picture (set_markers) and, as
    lib/select/layer_select.h documents (the selector cannot know that a higher layer will come up in this
    picture), also to the end of the layer frame that was the top one when it went out: an
    in-picture spatial up-switch marks both the old and the new top layer frame."""

    def __init__(self):
        self.started = False
        self.cur = (0, 0)
        self.fwd = False
        self.pic_ts = None
        self.pic_any = False
        self.seq_off = 0
        self.pid_off = 0

    def feed(self, p, target):
        s, t = self.cur
        if p.start:
            if p.ts != self.pic_ts:
                if self.started and self.pic_ts is not None and not self.pic_any:
                    self.pid_off += 1
                self.pic_ts, self.pic_any = p.ts, False
                if self.started:
                    s, t = min(s, target[0]), min(t, target[1])
            if p.keyframe:
                self.started = True
                s, t = target
            elif self.started:
                if p.sid == s + 1 and p.sid <= target[0] and not p.inter_pic:
                    s += 1
                if p.u and p.tid == t + 1 and p.tid <= target[1]:
                    t += 1
            self.cur = (s, t)
            self.fwd = self.started and p.sid <= s and p.tid <= t
        if not self.fwd:
            if self.started:
                self.seq_off += 1
            return None
        self.pic_any = True
        return {'seq': (p.seq - self.seq_off) & 0xffff, 'pid': (p.picture_id - self.pid_off) & 0x7fff,
                'top_end': p.end and p.sid == self.cur[0]}


class Av1Model:
    """A receiver at a fixed decode target: nothing before the first keyframe (S0, no frame
    dependencies, structure attached); a frame is forwarded iff its DTI for the decode target is
    not NOT_PRESENT; withheld packets leave the seq space; marker as for VP9."""

    def __init__(self, dt):
        self.dt, self.started, self.fwd, self.seq_off = dt, False, False, 0

    def feed(self, p):
        if p.start:
            if p.keyframe:
                self.started = True
            self.fwd = self.started and p.extra['dtis'][self.dt] != rtpgen.DTI_NOT_PRESENT
        if not self.fwd:
            if self.started:
                self.seq_off += 1
            return None
        return {'seq': (p.seq - self.seq_off) & 0xffff}


class SimulcastModel:
    """Which packets of a simulcast group a receiver gets: nothing before a keyframe of the target
    encoding; the encoding changes only at a keyframe (frame start) of the target encoding; a
    frame is forwarded iff it is of the current encoding. Returns True/False per packet."""

    def __init__(self):
        self.started, self.cur, self.fwd = False, None, False

    def feed(self, p, target):
        if p.start:
            if p.keyframe and p.encoding == target:
                self.started, self.cur = True, target
            self.fwd = self.started and p.encoding == self.cur
        return self.fwd


def set_markers(expected):
    """expected: [(packet, out dict)] in order; the last forwarded packet of each picture gets the
    marker, the others none (one picture = one RTP timestamp of one encoding)."""
    for k, (p, o) in enumerate(expected):
        nxt = expected[k + 1][0] if k + 1 < len(expected) else None
        o['marker'] = nxt is None or (nxt.ts, nxt.ssrc) != (p.ts, p.ssrc) or o.get('top_end', False)
    return expected


# ==== receiving ==========================================================================================

class Rx:
    """Client sockets, one per receiver, and everything they got: {name: [(data, (ip, port))]}."""

    def __init__(self, env, ports):
        self.env = env
        self.socks = {n: env.udp_socket(p) for n, p in ports.items()}
        self.got = {n: [] for n in ports}

    def poll(self, timeout=0.0):
        for n, s in self.socks.items():
            self.got[n] += self.env.recv_from_all(s, timeout=timeout)

    def rtp(self, name, ssrc=None):
        out = []
        for d, src in self.got[name]:
            try:
                r = parse_rtp(d)
            except ValueError:
                continue
            if ssrc is None or r.ssrc == ssrc:
                out.append((d, src, r))
        return out

    def wait(self, name, count, ssrc=None, timeout=5.0):
        """Until `name` has at least count RTP packets (of ssrc); returns how many it has."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll(0.01)
            have = len(self.rtp(name, ssrc))
            if have >= count or time.monotonic() > deadline:
                return have

    def settle(self):
        for n, s in self.socks.items():
            self.got[n] += self.env.recv_from_all(s, timeout=0.4, max_wait=5)


def first_diff(got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), None)
            return 'packet %d differs (first at byte %s, %d vs %d bytes): got %s want %s' % (
                i, k, len(a), len(b), a[:28].hex(), b[:28].hex())
    return 'lengths %d vs %d' % (len(got), len(want))


def sub_rows(env, meeting):
    cp = env.ctl('sub', 'list', meeting, json=True).stdout
    if isinstance(cp, dict):
        for k in ('subscriptions', 'subs'):
            if isinstance(cp.get(k), list):
                return cp[k]
    return cp if isinstance(cp, list) else []


def sub_row(env, meeting, subscriber, codec=None):
    for row in sub_rows(env, meeting):
        if row.get('subscriber') == subscriber and row.get('kind') == 'video' and \
                codec in (None, row.get('codec')):
            return row
    return None


def layers_of(row, keys):
    cur = (row or {}).get('current') or {}
    return tuple(cur.get(k) for k in keys), bool(cur.get('started'))


def drops(env):
    return mmrtest.drop_counts(env.stats())


def attached(env, timeout=3.0):
    """The controller sees the dataplane alive and synced (its heartbeat is fresh)."""
    try:
        env.wait_dp_attached(timeout)
        return True
    except mmrtest.HarnessError:
        return False


# ==== builder self-checks (no MMR) ===================================================================

def selfcheck(c):
    # VP9: descriptors parse back to what was asked; the SS describes 3 layers and the L1T3 group
    pics = rtpgen.Vp9Svc(VP9_SSRC, keyframes=VP9_KEYS, switch_pics=VP9_SWITCH_PICS, pkts=vp9_pkts).pictures(VP9_PICS)
    bad = []
    for pic in pics:
        for p in pic:
            d = rtpgen.parse_vp9(parse_rtp(p.data).payload)
            want = (True, p.inter_pic, True, False, p.start, p.end, p.picture_id, p.tid, p.u, p.sid, p.sid > 0,
                    p.tl0picidx, d.v == (p.keyframe and p.start))
            have = (d.i, d.p, d.l, d.f, d.b, d.e, d.picture_id, d.tid, d.u, d.sid, d.d, d.tl0picidx, True)
            if want != have or parse_rtp(p.data).marker != (p.sid == 2 and p.end):
                bad.append((p.picture, p.sid, want, have))
            if d.v and (d.ss['n_spatial'] != 3 or d.ss['resolutions'][2] != (1280, 720) or
                        [g[0] for g in d.ss['group']] != list(rtpgen.L1T3_TIDS)):
                bad.append(('ss', d.ss))
    c.check(not bad, 'selfcheck: VP9 descriptors parse back to their labels (B/E, P, D, U, SID, TID, SS)', bad[:2])
    c.check([p.picture for pic in pics for p in pic if p.keyframe and p.start] == list(VP9_KEYS),
            'selfcheck: VP9 keyframes where asked')

    # AV1: every DD parses back; its template resolves to the frame's layers; fdiffs and chains name
    # real frames; for every decode target the frames it contains are closed under their references
    gen = rtpgen.Av1Svc(AV1_SSRC, dd_id=DD_ID, other_id=OTHER_ID, keyframes=AV1_KEYS, offsets=AV1_OFFSETS,
                        pkts=av1_pkts)
    pkts = [p for pic in gen.pictures(AV1_PICS) for p in pic]
    structure, frames, bad = None, {}, []
    for p in pkts:
        el = rtpgen.rtp_ext_element(p.data, DD_ID)
        other = rtpgen.rtp_ext_element(p.data, OTHER_ID)
        dd = rtpgen.parse_dd(el[1], structure)
        if dd.structure is not None:
            structure = dd.structure
            if dd.structure != p.extra['structure']._replace(resolutions=list(p.extra['structure'].resolutions)):
                bad.append(('structure differs', p.picture))
        if (dd.sid, dd.tid, dd.frame_number, dd.start, dd.end) != (p.sid, p.tid, p.extra['fn'], p.start, p.end) or \
                dd.dtis != p.extra['dtis'] or other[1] != p.extra['other']:
            bad.append((p.picture, p.sid, dd))
        frames[dd.frame_number] = (p.picture, dd)
    c.check(not bad, 'selfcheck: AV1 DDs parse back (structure, template -> layers, frame numbers, DTIs)',
            bad[:2])
    c.check(len(pkts[0].extra['dd']) > 16 and parse_rtp(pkts[0].data).ext_profile == 0x1000 and
            parse_rtp(pkts[1].data).ext_profile == 0xBEDE,
            'selfcheck: the structure DD (%d bytes) in a two-byte header, the others one-byte'
            % len(pkts[0].extra['dd']))
    holes, chain_last = [], [None] * 3
    first_fn = pkts[0].extra['fn']
    for fn, (pic, dd) in frames.items():         # in sending order
        for fd in dd.fdiffs:
            ref = frames.get((fn - fd) & 0xffff)
            if ref is None or ref[1].sid > dd.sid or ref[1].tid > dd.tid:
                holes.append(('fdiff', pic, dd.sid, fd))
        if dd.sid == 0 and not dd.fdiffs:        # a keyframe: every chain starts again
            chain_last = [None] * 3
        for ch, cf in enumerate(dd.chain_fdiffs):   # the previous frame of chain ch: TID 0, SID <= ch
            if cf != (0 if chain_last[ch] is None else (fn - chain_last[ch]) & 0xffff):
                holes.append(('chain', pic, dd.sid, ch, cf))
            if dd.tid == 0 and dd.sid <= ch:
                chain_last[ch] = fn
        for dt in range(9):
            if dd.dtis[dt] == rtpgen.DTI_NOT_PRESENT:
                continue
            for fd in dd.fdiffs:
                ref = frames.get((fn - fd) & 0xffff)
                if ref is not None and ref[1].dtis[dt] == rtpgen.DTI_NOT_PRESENT:
                    holes.append(('dt', dt, pic, dd.sid))
            if dd.dtis[dt] == rtpgen.DTI_DISCARDABLE:
                users = [f for f, (_, o) in frames.items() if o.dtis[dt] and ((f - fn) & 0xffff) in o.fdiffs]
                if users:
                    holes.append(('discardable but referenced', dt, pic, dd.sid))
    c.check(not holes and ((pkts[-1].extra['fn'] - first_fn) & 0xffff) == 3 * AV1_PICS - 1,
            'selfcheck: AV1 references and chains name earlier frames; each decode target is closed '
            'under references; frame numbers wrap', holes[:3])

    # H.264: STAP-A / FU-A structure
    h = rtpgen.H264Stream(H264_SSRCS[1], keyframes={3}, style='fu')
    aus = [h.next_au() for _ in range(8)]
    ok = [len(a) for a in aus] == [4, 1, 1, 4, 1, 1, 2, 1]
    ok = ok and [parse_rtp(p.data).payload[1] for p in aus[6]] == [0x81, 0x41]
    k = parse_rtp(aus[3][0].data).payload
    ok = ok and k[0] & 0x1f == 24 and k[3] == 0x67 and parse_rtp(aus[3][1].data).payload[1] == 0x85
    ok = ok and parse_rtp(aus[3][3].data).payload[1] == 0x45 and parse_rtp(aus[3][3].data).marker
    s = rtpgen.H264Stream(H264_SSRCS[0], style='stap').next_au()[0]
    pl = parse_rtp(s.data).payload
    n1 = struct.unpack_from('!H', pl, 1)[0]
    n2 = struct.unpack_from('!H', pl, 3 + n1)[0]
    ok = ok and pl[3 + n1 + 2] == 0x68 and pl[3 + n1 + 2 + n2 + 2] == 0x65
    c.check(ok, 'selfcheck: H.264 keyframes as STAP-A(SPS, PPS[, IDR]) and FU-A IDR, markers on AU ends')

    # the VP9 model follows the rules on a small case: (0,0) gets exactly the S0 T0 layer frames
    m = Vp9Model()
    got = [(p.picture, p.sid) for pic in pics for p in pic if m.feed(p, (0, 0)) is not None and p.start]
    c.check(got == [(pc[0].picture, 0) for pc in pics if pc[0].tid == 0],
            'selfcheck: VP9 model at (0,0) keeps exactly the SID 0 TID 0 layer frames')


# ==== 1. VP9 ================================================================================================

def part_vp9(env, c):
    env.meeting('vp9')
    env.participant('vp9', 'pub', 7100)
    for n, (port, _, _) in VP9_RX.items():
        env.participant('vp9', n, port)
    env.ctl('stream', 'add', 'vp9', 'pub', '--ssrc', VP9_SSRC, '--kind', 'video', '--codec', 'vp9',
            '--layers', 3, '--spatial', 3)
    for n, (_, (s, t), out) in VP9_RX.items():
        env.ctl('sub', 'set', 'vp9', n, '--ssrc', VP9_SSRC, '--spatial', s, '--target', t,
                *(('--out-ssrc', out) if out else ()))
    rows = {n: sub_row(env, 'vp9', n) for n in VP9_RX}
    c.check(all(r and r.get('target_spatial') == VP9_RX[n][1][0] and r.get('target') == VP9_RX[n][1][1]
                and layers_of(r, ())[1] is False for n, r in rows.items()),
            'vp9: sub list shows each target, nothing started', rows.get('v11'))

    pub = env.udp_socket(7100)
    rx = Rx(env, {n: v[0] for n, v in VP9_RX.items()})
    gen = rtpgen.Vp9Svc(VP9_SSRC, keyframes=VP9_KEYS, switch_pics=VP9_SWITCH_PICS, pkts=vp9_pkts)
    models = {n: Vp9Model() for n in VP9_RX}
    targets = {n: v[1] for n, v in VP9_RX.items()}
    expected = {n: [] for n in VP9_RX}
    withheld = 0
    all_pkts = []
    for i in range(VP9_PICS):
        if i in VP9_SW or i in VP9_LOOK:
            want = len(expected['vsw'])
            have = rx.wait('vsw', want)
            c.check(have == want, 'vp9 vsw: everything before picture %d arrived' % i, '%d of %d' % (have, want))
            row = sub_row(env, 'vp9', 'vsw')
            cur, started = layers_of(row, ('spatial', 'temporal'))
            c.check(started and cur == models['vsw'].cur,
                    'vp9 vsw: before picture %d current layers %s (target %s)' % (i, models['vsw'].cur,
                                                                                   targets['vsw']),
                    (row or {}).get('current'))
            if i in VP9_SW:
                targets['vsw'] = VP9_SW[i]
                env.ctl('sub', 'set', 'vp9', 'vsw', '--ssrc', VP9_SSRC, '--spatial', VP9_SW[i][0],
                        '--target', VP9_SW[i][1])
        for p in gen.next_picture():
            all_pkts.append(p)
            env.send(pub, p.data)
            for n in VP9_RX:
                o = models[n].feed(p, targets[n])
                if o is None:
                    withheld += 1
                else:
                    expected[n].append((p, o))
        time.sleep(PACE)
    rx.settle()

    copies = 0
    for n, (_, tgt, out) in VP9_RX.items():
        label = 'vp9 %s %s' % (n, 'switching' if n == 'vsw' else '(%d,%d)' % tgt)
        exp = set_markers(expected[n])
        copies += len(exp)
        out_ssrc = out or VP9_SSRC
        got = rx.rtp(n)
        c.check(all(src == (MMR_IP, MMR_PORT) for _, src, _ in got) and all(r.ssrc == out_ssrc for _, _, r in got),
                '%s: every packet from %s:%d with SSRC 0x%08x' % (label, MMR_IP, MMR_PORT, out_ssrc))
        c.eq(len(got), len(exp), '%s: packet count' % label)
        layer_frames = [(rtpgen.parse_vp9(r.payload).sid, rtpgen.parse_vp9(r.payload).tid) for _, _, r in got
                        if rtpgen.parse_vp9(r.payload).b]
        want_frames = [(p.sid, p.tid) for p, _ in exp if p.start]
        c.check(layer_frames == want_frames, '%s: exactly the layer frames the rules give (%d)'
                % (label, len(want_frames)), 'got %s' % layer_frames[:12])
        if n != 'vsw':
            c.check(want_frames == [(p.sid, p.tid) for p in all_pkts if p.start and p.sid <= tgt[0] and
                                    p.tid <= tgt[1]], '%s: every layer frame of SID <= %d and TID <= %d'
                    % (label, tgt[0], tgt[1]))
        seqs = [r.seq for _, _, r in got]
        c.check(all(((b - a) & 0xffff) == 1 for a, b in zip(seqs, seqs[1:])), '%s: contiguous seq' % label,
                seqs[:10])
        pids = []
        for _, _, r in got:
            d = rtpgen.parse_vp9(r.payload)
            if d.b and d.sid == min(s.sid for s, _ in exp if s.ts == r.ts):
                pids.append(d.picture_id)
        c.check(all(((b - a) & 0x7fff) == 1 for a, b in zip(pids, pids[1:])),
                '%s: PictureID +1 per forwarded picture' % label, pids[:10])
        tl0 = [(rtpgen.parse_vp9(r.payload).tl0picidx, p.tl0picidx) for (_, _, r), (p, _) in zip(got, exp)]
        c.check(all(a == b for a, b in tl0), '%s: TL0PICIDX passes through' % label)
        marks = [(p.picture, p.sid) for (_, _, r), (p, _) in zip(got, exp) if r.marker]
        want_marks = [(p.picture, p.sid) for p, o in exp if o['marker']]
        twice = sorted(set(pc for pc, _ in want_marks if [x for x, _ in want_marks].count(pc) > 1))
        c.check(marks == want_marks and len(got) == len(exp),
                '%s: a marker on the last forwarded packet of each picture%s' % (
                    label, ' and on the old top layer at the in-picture spatial up-switch of picture %s'
                    % twice if twice else ''), 'markers at (picture, SID) %s' % marks[:12])
        want_bytes = [rtpgen.rewrite_vp9(p.data, o['seq'], o['pid'], out_ssrc, o['marker']) for p, o in exp]
        got_bytes = [d for d, _, _ in got]
        c.check(got_bytes == want_bytes, '%s: bytes equal the model\'s rewrite (seq, marker, PictureID, SSRC)'
                % label, first_diff(got_bytes, want_bytes))
        row = sub_row(env, 'vp9', n)
        cur, started = layers_of(row, ('spatial', 'temporal'))
        c.check(started and cur == models[n].cur, '%s: sub list current layers %s at the end' % (label, models[n].cur),
                (row or {}).get('current'))
    return {'rx': len(all_pkts), 'copies': copies, 'withheld': withheld}


# ==== 2. AV1 ================================================================================================

def raw_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 8 << 20)
    s.bind((mmrtest.TAP_IFACE, 0))
    s.setblocking(False)
    return s


def part_av1(env, c):
    env.meeting('av1')
    env.participant('av1', 'pub', 7200)
    for n, (port, _) in AV1_RX.items():
        env.participant('av1', n, port)
    env.ctl('stream', 'add', 'av1', 'pub', '--ssrc', AV1_SSRC, '--kind', 'video', '--codec', 'av1',
            '--layers', 3, '--spatial', 3, '--dd-ext', DD_ID)
    for n, (_, dt) in AV1_RX.items():
        env.ctl('sub', 'set', 'av1', n, '--ssrc', AV1_SSRC, '--dt', dt)
    raw = raw_socket()
    pub = env.udp_socket(7200)
    rx = Rx(env, {n: v[0] for n, v in AV1_RX.items()})
    gen = rtpgen.Av1Svc(AV1_SSRC, dd_id=DD_ID, other_id=OTHER_ID, keyframes=AV1_KEYS, offsets=AV1_OFFSETS,
                        pkts=av1_pkts)
    models = {n: Av1Model(dt) for n, (_, dt) in AV1_RX.items()}
    expected = {n: [] for n in AV1_RX}
    withheld, n_pkts = 0, 0
    for i in range(AV1_PICS):
        for p in gen.next_picture():
            n_pkts += 1
            env.send(pub, p.data)
            for n in AV1_RX:
                o = models[n].feed(p)
                if o is None:
                    withheld += 1
                else:
                    expected[n].append((p, o))
        time.sleep(PACE)
    rx.settle()
    frames = []
    while True:
        try:
            frames.append(raw.recv(65536))
        except BlockingIOError:
            break
    raw.close()

    copies = 0
    for n, (_, dt) in AV1_RX.items():
        label = 'av1 %s (DT %d = S%dT%d)' % (n, dt, dt // 3, dt % 3)
        exp = set_markers(expected[n])
        copies += len(exp)
        got = rx.rtp(n)
        c.eq(len(got), len(exp), '%s: packet count' % label)
        fr = [(p.sid, p.tid) for p, _ in exp if p.start]
        c.check(fr == [(p.sid, p.tid) for p, _ in exp if p.start and p.sid <= dt // 3 and p.tid <= dt % 3]
                and len(fr) == sum(1 for s in range(dt // 3 + 1) for i in range(AV1_PICS)
                                   if (0, 2, 1, 2)[(i % 16) % 4] <= dt % 3),
                '%s: model forwards the frames of S <= %d, T <= %d' % (label, dt // 3, dt % 3))
        # frames received: by the DD each packet carries (frame number, start)
        got_fr = []
        dd_same = other_same = True
        dd_told = []      # packets with the structure: the active decode targets the receiver was told
        rewritten = set()
        within = sum(1 << j for j in range(9) if j // 3 <= dt // 3 and j % 3 <= dt % 3)
        structure = None
        for idx, ((d, _, r), (p, _)) in enumerate(zip(got, exp)):
            el = rtpgen.rtp_ext_element(d, DD_ID)
            ot = rtpgen.rtp_ext_element(d, OTHER_ID)
            sent = rtpgen.parse_dd(p.extra['dd'], structure)
            if sent.structure is not None:
                structure = sent.structure
            if el is None:
                dd_same = False
            elif sent.structure is not None:
                # the structure tells a receiver every decode target is active unless the MMR says
                # which ones it gets: those within its own (all of them for the top one)
                rx_dd = rtpgen.parse_dd(el[1], structure)
                dd_told.append(rx_dd.active_dts)
                same_fields = (rx_dd._replace(active_dts=0) == sent._replace(active_dts=0))
                if el[1] != p.extra['dd']:
                    rewritten.add(idx)
                if not same_fields or rx_dd.active_dts != within:
                    dd_same = False
            elif el[1] != p.extra['dd']:
                dd_same = False
            if ot is None or ot[1] != p.extra['other']:
                other_same = False
            if el is not None and el[1][0] & 0x80:
                got_fr.append(struct.unpack_from('!H', el[1], 1)[0])
        c.check(got_fr == [p.extra['fn'] for p, _ in exp if p.start],
                '%s: exactly the frames whose DTI is not NOT_PRESENT (%d)' % (label, len(fr)),
                'got frame numbers %s' % got_fr[:12])
        c.check(dd_same and len(got) == len(exp) and dd_told,
                '%s: Dependency Descriptor unchanged (frame numbers too) but for the active decode targets '
                'on structure packets: 0x%03x, the decode targets within DT %d' % (label, within, dt),
                'told %s' % ['0x%03x' % m for m in dd_told[:4]])
        c.check(other_same and len(got) == len(exp), '%s: the unrelated extension element unchanged' % label)
        seqs = [r.seq for _, _, r in got]
        c.check(all(((b - a) & 0xffff) == 1 for a, b in zip(seqs, seqs[1:])), '%s: contiguous seq' % label)
        marks = [(p.picture, p.sid, p.end) for (_, _, r), (p, _) in zip(got, exp) if r.marker]
        want_marks = [(p.picture, p.sid, p.end) for p, o in exp if o['marker']]
        c.check(marks == want_marks and len(got) == len(exp),
                '%s: one marker per picture, on its last forwarded packet' % label,
                'unexpected markers at (picture, SID, end of frame) %s, missing at %s' % (
                    [m for m in marks if m not in want_marks][:6], [m for m in want_marks if m not in marks][:6]))
        want_bytes = []
        for p, o in exp:
            b = bytearray(p.data)
            b[1] = (b[1] & 0x7f) | (0x80 if o['marker'] else 0)
            struct.pack_into('!H', b, 2, o['seq'])
            want_bytes.append(bytes(b))
        got_bytes = [d for d, _, _ in got]
        # a descriptor that grew moves what follows it: compare those copies without their extension
        # block (checked above, element by element)
        for idx in rewritten:
            g, w = rtpgen.parse_rtp(got_bytes[idx]), rtpgen.parse_rtp(want_bytes[idx])
            if g.payload == w.payload and got_bytes[idx][:12] == want_bytes[idx][:12]:
                got_bytes[idx] = want_bytes[idx]
        c.check(got_bytes == want_bytes, '%s: bytes equal the input but for seq, marker and the descriptor '
                'of structure packets' % label, first_diff(got_bytes, want_bytes))
        row = sub_row(env, 'av1', n)
        cur, started = layers_of(row, ('dt',))
        c.check(started and cur == (dt,), '%s: sub list current decode target %d' % (label, dt),
                (row or {}).get('current'))
    # checksums of the copies as they left the dataplane
    copies_seen, bad_sum = 0, []
    for f in frames:
        pu = mmrtest.parse_udp_frame(f)
        if not pu or pu[0]['src_ip'] != MMR_IP or pu[0]['sport'] != MMR_PORT or len(pu[1]) < 12:
            continue
        if struct.unpack_from('!I', pu[1], 8)[0] != AV1_SSRC:
            continue
        copies_seen += 1
        if not (pu[0]['ip_csum_ok'] and pu[0]['udp_csum_ok']) or pu[0]['ip_total_len'] != 28 + len(pu[1]):
            bad_sum.append(pu[0])
    c.check(copies_seen == copies and not bad_sum,
            'av1: IPv4 and UDP checksums and lengths valid on all %d copies on the wire' % copies,
            '%d seen, bad: %s' % (copies_seen, bad_sum[:2]))
    return {'rx': n_pkts, 'copies': copies, 'withheld': withheld}


# ==== 3. simulcast ==========================================================================================

def check_simulcast(c, label, got, exp, out_ssrc, switch_ticks, vp8):
    """got: [(data, src, rtp)], exp: [(packet, tick)] the model forwards. Checks SSRC, seq, ts, PictureID,
    TL0PICIDX, the encodings and switch points, and the bytes apart from the rewritten fields."""
    c.eq(len(got), len(exp), '%s: packet count' % label)
    c.check(all(r.ssrc == out_ssrc for _, _, r in got) and all(s == (MMR_IP, MMR_PORT) for _, s, _ in got),
            '%s: one SSRC 0x%08x from %s:%d' % (label, out_ssrc, MMR_IP, MMR_PORT))
    seqs = [r.seq for _, _, r in got]
    c.check(all(((b - a) & 0xffff) == 1 for a, b in zip(seqs, seqs[1:])), '%s: contiguous seq' % label, seqs[:8])
    # the bytes, with the rewritten fields put back to the input's
    same, ts_ok, pid_ok, tl0_ok, sw_seen = True, True, True, True, []
    prev = None
    for (d, _, r), (p, tick) in zip(got, exp):
        b = bytearray(d)
        struct.pack_into('!HII', b, 2, p.seq, p.ts, p.ssrc)
        gv = None
        if vp8:
            gv = rtpgen.parse_vp8(r.payload)
            iv = rtpgen.parse_vp8(parse_rtp(p.data).payload)
            struct.pack_into('!H', b, r.hdr_len + gv.picture_id_off, 0x8000 | iv.picture_id)
            b[r.hdr_len + gv.tl0picidx_off] = iv.tl0picidx
        if bytes(b) != p.data:
            same = False
        cur = {'enc': p.encoding, 'ts': r.ts, 'in_ts': p.ts, 'tick': tick, 'start': p.start,
               'pid': gv.picture_id if gv else None, 'in_pid': p.picture_id,
               'tl0': gv.tl0picidx if gv else None, 'in_tl0': p.tl0picidx, 'tid': p.tid}
        if prev is not None:
            if cur['enc'] == prev['enc']:
                ts_ok &= ((cur['ts'] - cur['in_ts']) & 0xffffffff) == ((prev['ts'] - prev['in_ts']) & 0xffffffff)
                if vp8:
                    pid_ok &= ((cur['pid'] - cur['in_pid']) & 0x7fff) == ((prev['pid'] - prev['in_pid']) & 0x7fff)
                    tl0_ok &= ((cur['tl0'] - cur['in_tl0']) & 0xff) == ((prev['tl0'] - prev['in_tl0']) & 0xff)
            else:
                sw_seen.append(tick)
                gap = (cur['ts'] - prev['ts']) & 0xffffffff
                ts_ok &= 0 < gap < 90000
                if vp8:
                    pid_ok &= cur['pid'] == (prev['pid'] + 1) & 0x7fff
                    tl0_ok &= cur['tl0'] == (prev['tl0'] + 1) & 0xff
        prev = cur
    c.check(same, '%s: bytes equal the input apart from seq, ts, SSRC%s' % (label, ', PictureID, TL0PICIDX'
                                                                          if vp8 else ''))
    encs = [(p.encoding, tick) for p, tick in exp if p.start]
    c.check(sw_seen == switch_ticks, '%s: encodings switched exactly at the keyframes of ticks %s'
            % (label, switch_ticks), 'switches seen at ticks %s' % sw_seen)
    c.check(ts_ok, '%s: timestamps keep their steps within an encoding and go forward (< 1 s) at a switch'
            % label)
    if vp8:
        c.check(pid_ok, '%s: PictureID continuous, +1 at each switch' % label)
        c.check(tl0_ok, '%s: TL0PICIDX continuous, +1 at each switch (the keyframe is a TL0 frame)' % label)
    return encs


def part_simulcast(env, c):
    # VP8: three encodings, each its own seq/ts/PictureID/TL0PICIDX space
    env.meeting('sim')
    env.participant('sim', 'pub', 7300)
    for n, (port, _, _) in SIM_RX.items():
        env.participant('sim', n, port)
    env.ctl('stream', 'add', 'sim', 'pub', '--ssrc', ','.join(str(x) for x in SIM_SSRCS), '--kind', 'video',
            '--codec', 'vp8', '--layers', 3)
    for n, (_, enc, out) in SIM_RX.items():
        env.ctl('sub', 'set', 'sim', n, '--ssrc', SIM_SSRCS[0], '--encoding', enc,
                *(('--out-ssrc', out) if out else ()))
    pub = env.udp_socket(7300)
    rx = Rx(env, {n: v[0] for n, v in SIM_RX.items()})
    gens = [rtpgen.Vp8L1T3(SIM_SSRCS[e], keyframe_interval=0, pkts_per_frame=2, payload_size=150 + 100 * e,
                           seq=(1000, 40000, 65500)[e], ts=(10000, 2 ** 31, 2 ** 32 - 30000)[e],
                           picture_id=(100, 20000, 32760)[e], tl0picidx=(3, 100, 250)[e]) for e in range(3)]
    models = {n: SimulcastModel() for n in SIM_RX}
    targets = {n: v[1] for n, v in SIM_RX.items()}
    expected = {n: [] for n in SIM_RX}
    for tick in range(SIM_TICKS):
        if tick in SIM_SW:
            want = len(expected['sw'])
            have = rx.wait('sw', want)
            c.check(have == want, 'simulcast vp8 sw: everything before tick %d arrived' % tick,
                    '%d of %d' % (have, want))
            targets['sw'] = SIM_SW[tick]
            env.ctl('sub', 'set', 'sim', 'sw', '--ssrc', SIM_SSRCS[0], '--encoding', SIM_SW[tick])
        for e in range(3):
            if tick in SIM_KEYS[e]:
                gens[e].request_keyframe()
            for p in rtpgen.vp8_simulcast_packets(gens[e], e):
                env.send(pub, p.data)
                for n in SIM_RX:
                    if models[n].feed(p, targets[n]):
                        expected[n].append((p, tick))
        time.sleep(PACE)
    rx.wait('sw', len(expected['sw']))
    rx.settle()
    for n, (_, enc, out) in SIM_RX.items():
        label = 'simulcast vp8 %s' % (n if n != 'sw' else 'sw (2 -> 0 -> 1)')
        out_ssrc = out or SIM_SSRCS[0]
        others = [r.ssrc for _, _, r in rx.rtp(n) if r.ssrc != out_ssrc]
        c.check(not others, '%s: nothing but SSRC 0x%08x' % (label, out_ssrc), others[:4])
        encs = check_simulcast(c, label, rx.rtp(n, out_ssrc), expected[n], out_ssrc,
                               [20, 30] if n == 'sw' else [], True)
        if n == 'sw':
            c.check([e for e, t in encs] == [2] * 20 + [0] * 11 + [1] * 10,
                    '%s: model frames: encoding 2 to tick 19, 0 from its keyframe at 20 (its tick 30 frame '
                    'too, sent before encoding 1\'s keyframe), 1 from its keyframe at 30' % label)
        else:
            c.check([e for e, t in encs] == [1] * SIM_TICKS, '%s: every frame of encoding 1' % label)
        row = sub_row(env, 'sim', n)
        cur, started = layers_of(row, ('encoding',))
        c.check(started and cur == (1,), '%s: sub list current encoding 1' % label, (row or {}).get('current'))

    # H.264: two encodings; keyframes as STAP-A(SPS, PPS, IDR) or STAP-A(SPS, PPS) + FU-A IDR
    env.meeting('h264')
    env.participant('h264', 'pub', 7350)
    env.participant('h264', 'hsw', 7351)
    env.ctl('stream', 'add', 'h264', 'pub', '--ssrc', ','.join(str(x) for x in H264_SSRCS), '--kind', 'video',
            '--codec', 'h264')
    env.ctl('sub', 'set', 'h264', 'hsw', '--ssrc', H264_SSRCS[0], '--encoding', H264_RX['hsw'][1])
    pub = env.udp_socket(7350)
    rx = Rx(env, {'hsw': 7351})
    hgens = [rtpgen.H264Stream(H264_SSRCS[e], keyframes=H264_KEYS[e], style=H264_STYLE[e],
                               seq=(50000, 300)[e], ts=(123456, 999)[e]) for e in range(2)]
    hmodel, htarget, hexp = SimulcastModel(), H264_RX['hsw'][1], []
    for tick in range(H264_TICKS):
        if tick in H264_SW:
            want = len(hexp)
            have = rx.wait('hsw', want)
            c.check(have == want, 'simulcast h264 hsw: everything before tick %d arrived' % tick,
                    '%d of %d' % (have, want))
            htarget = H264_SW[tick]
            env.ctl('sub', 'set', 'h264', 'hsw', '--ssrc', H264_SSRCS[0], '--encoding', htarget)
        for e in range(2):
            for p in hgens[e].next_au():
                p = p._replace(encoding=e)
                env.send(pub, p.data)
                if hmodel.feed(p, htarget):
                    hexp.append((p, tick))
        time.sleep(PACE)
    rx.wait('hsw', len(hexp))
    rx.settle()
    label = 'simulcast h264 hsw (0 -> 1 -> 0)'
    got = rx.rtp('hsw')
    encs = check_simulcast(c, label, got, hexp, H264_SSRCS[0], [9, 18], False)
    c.check([e for e, t in encs] == [0] * 10 + [1] * 9 + [0] * 12,
            '%s: model frames: encoding 0 to tick 9, 1 from its IDR at tick 9, 0 from its IDR at 18' % label)
    firsts = [parse_rtp(d).payload[:1] for k, ((d, _, _), (p, t)) in enumerate(zip(got, hexp))
              if k and p.encoding != hexp[k - 1][0].encoding]
    c.check(len(firsts) == 2 and all(f[0] & 0x1f == 24 for f in firsts),
            '%s: each switch begins with the STAP-A carrying SPS+PPS' % label, firsts)
    row = sub_row(env, 'h264', 'hsw')
    cur, started = layers_of(row, ('encoding',))
    c.check(started and cur == (0,), '%s: sub list current encoding 0' % label, (row or {}).get('current'))


# ==== 4. bad input ==========================================================================================

def part_bad(env, c, before):
    env.meeting('bad')
    env.participant('bad', 'pub', 7400)
    env.participant('bad', 'rb', 7401)
    env.ctl('stream', 'add', 'bad', 'pub', '--ssrc', BAD_VP9, '--kind', 'video', '--codec', 'vp9',
            '--layers', 3, '--spatial', 3)
    for ssrc in (BAD_AV1, BAD_AV1_NEW):
        env.ctl('stream', 'add', 'bad', 'pub', '--ssrc', ssrc, '--kind', 'video', '--codec', 'av1',
                '--layers', 3, '--spatial', 3, '--dd-ext', DD_ID)
    env.ctl('stream', 'add', 'bad', 'pub', '--ssrc', BAD_H264, '--kind', 'video', '--codec', 'h264')
    pub = env.udp_socket(7400)
    rx = Rx(env, {'rb': 7401})

    def vp9(payload, seq):
        return rtpgen.rtp_packet(seq, 1, BAD_VP9, rtpgen.PT_VP9, payload)
    ss1 = rtpgen.vp9_ss(n_spatial=1)
    bad = [
        ('bad_payload', 'VP9 descriptor cut inside the 15-bit PictureID', vp9(b'\x88\x81', 40000)),
        ('bad_payload', 'VP9 descriptor cut before its layer indices', vp9(b'\xa8\x81\x02\x00', 40001)[:-1]),
        ('bad_payload', 'VP9 SS of 1 spatial layer with SID 2', vp9(rtpgen.vp9_descriptor(
            picture_id=5, tid=0, sid=2, d=True, tl0picidx=1, ss=ss1) + b'\x00' * 20, 40002)),
        ('bad_payload', 'VP9 SS cut inside its resolutions',
         vp9(rtpgen.vp9_descriptor(picture_id=5, tid=0, sid=0, tl0picidx=1, ss=b'\x50' + bytes(6)), 40003)),
        ('no_structure', 'AV1 without a DD (another extension only)',
         rtpgen.rtp_packet(40004, 1, BAD_AV1, rtpgen.PT_AV1, b'\x10' + bytes(40),
                           ext=rtpgen.one_byte_ext([(OTHER_ID, b'\x01\x02\x03')]))),
        ('no_structure', 'AV1 without any header extension',
         rtpgen.rtp_packet(40005, 1, BAD_AV1, rtpgen.PT_AV1, b'\x10' + bytes(40))),
        ('no_structure', 'AV1 DD (no structure attached) on a stream that never had one',
         rtpgen.rtp_packet(40006, 1, BAD_AV1_NEW, rtpgen.PT_AV1, b'\x10' + bytes(40),
                           ext=rtpgen.one_byte_ext([(DD_ID, rtpgen.dependency_descriptor(True, True, 1, 77))]))),
        ('bad_payload', 'H.264 STAP-B', rtpgen.rtp_packet(40007, 1, BAD_H264, rtpgen.PT_H264,
                                                          b'\x79\x00\x01\x00\x04\x67\x42\xc0\x1e')),
        ('bad_payload', 'H.264 STAP-A whose NAL size runs past the end',
         rtpgen.rtp_packet(40008, 1, BAD_H264, rtpgen.PT_H264, b'\x78\x01\x00\x67\x42\xc0\x1e')),
        ('bad_payload', 'H.264 STAP-A with a zero NAL size',
         rtpgen.rtp_packet(40009, 1, BAD_H264, rtpgen.PT_H264, b'\x78\x00\x00\x00\x04\x67\x42\xc0\x1e')),
    ]
    # the good streams, with the bad packets spread among them
    vgen = rtpgen.Vp9Svc(BAD_VP9, pkts=vp9_pkts)
    agen = rtpgen.Av1Svc(BAD_AV1, dd_id=DD_ID, other_id=OTHER_ID, pkts=av1_pkts)
    hgen = rtpgen.H264Stream(BAD_H264, keyframes={6})
    good = []
    for i in range(12):
        pkts = vgen.next_picture() + agen.next_picture() + hgen.next_au()
        for p in pkts:
            env.send(pub, p.data)
            good.append(p.data)
        if i < len(bad):
            env.send(pub, bad[i][2])
        time.sleep(PACE)
    rx.settle()
    time.sleep(0.2)
    c.check(attached(env), 'bad input: dataplane still attached (heartbeat) after the bad packets')
    after = drops(env)
    got = [d for d, _, _ in rx.rtp('rb')]

    def unmark(d):
        return d[:1] + bytes([d[1] & 0x7f]) + d[2:]
    c.check([unmark(d) for d in got] == [unmark(d) for d in good],
            'bad input: the good VP9, AV1 and H.264 streams arrive complete and unchanged (marker aside)',
            first_diff([unmark(d) for d in got], [unmark(d) for d in good]))
    c.check([d[1] >> 7 for d in got] == [d[1] >> 7 for d in good],
            'bad input: markers as sent on the good streams (every layer forwarded)',
            'differ at %s' % [(parse_rtp(a).ssrc, parse_rtp(a).seq) for a, b in zip(got, good) if a[1] != b[1]][:4])
    c.check(not [d for d in got if parse_rtp(d).seq >= 40000] and not rx.rtp('rb', BAD_AV1_NEW),
            'bad input: none of the bad packets forwarded')
    for reason in ('bad_payload', 'no_structure'):
        n = sum(1 for r, _, _ in bad if r == reason)
        c.eq(after.get(reason, 0) - before.get(reason, 0), n, 'bad input: drops.%s +%d (%s)' % (
            reason, n, '; '.join(w for r, w, _ in bad if r == reason)))
    other = {k: after.get(k, 0) - before.get(k, 0) for k in after
             if k not in ('bad_payload', 'no_structure', 'layer', 'none', 'arp_other')}
    c.check(not any(other.values()), 'bad input: no other drop counted', {k: v for k, v in other.items() if v})


def part_bad_commands(env, c):
    cases = [
        ('sim', 'sw', ('--ssrc', SIM_SSRCS[0], '--spatial', 1), '--spatial on a vp8 stream'),
        ('h264', 'hsw', ('--ssrc', H264_SSRCS[0], '--target', 1), '--target 1 on h264 (one layer)'),
        ('vp9', 'v22', ('--ssrc', VP9_SSRC, '--dt', 2), '--dt on a vp9 stream'),
        ('vp9', 'v22', ('--ssrc', VP9_SSRC, '--spatial', 3), '--spatial 3 on an L3T3 vp9 stream'),
        ('vp9', 'v22', ('--ssrc', VP9_SSRC, '--target', 3), '--target 3 on an L3T3 vp9 stream'),
        ('vp9', 'v22', ('--ssrc', VP9_SSRC, '--encoding', 1), '--encoding on a stream that is not simulcast'),
        ('sim', 'sw', ('--ssrc', SIM_SSRCS[0], '--encoding', 3), '--encoding 3 of a 3-encoding group'),
        ('av1', 'a4', ('--ssrc', AV1_SSRC, '--dt', 9), '--dt 9 of 9 decode targets'),
        ('av1', 'a4', ('--ssrc', AV1_SSRC, '--spatial', 1), '--spatial on an av1 stream'),
    ]
    for meeting, who, args, what in cases:
        before = env.ctl('sub', 'list', meeting, json=True).raw_stdout
        cp = env.ctl('sub', 'set', meeting, who, *args, check=False)
        lines = [ln for ln in cp.stderr.splitlines() if ln.strip()]
        after = env.ctl('sub', 'list', meeting, json=True).raw_stdout
        c.check(cp.returncode != 0 and len(lines) == 1 and not cp.stdout.strip() and after == before,
                'sub set %s fails with one error line and changes nothing' % what,
                'exit %d, stderr %r, sub list %s' % (cp.returncode, cp.stderr.strip()[:120],
                                                    'unchanged' if after == before else 'CHANGED'))


# ==== after 3: a restarted controller still knows the current layers ========================================

def part_restart(env, c):
    """The current layers reach the controller as events (lib/contract/event_ring.h) and live in its
    memory: a controller killed with SIGKILL and started again asks the dataplane for a snapshot at
    its attach and shows every receiver's current layers as before, in text and JSON, without a
    packet sent."""
    meetings = ('vp9', 'av1', 'sim')
    cur = {m: [(r.get('subscriber'), r.get('ssrc'), r.get('current')) for r in sub_rows(env, m)] for m in meetings}
    text = {m: env.ctl('sub', 'list', m).stdout for m in meetings}
    started = sum(1 for m in meetings for _, _, x in cur[m] if x and x.get('started'))
    c.check(started >= 8, 'restart: before, sub list shows started receivers with their layers (%d)' % started)
    env.kill_controller()
    env.start_controller()
    env.wait_dp_attached(10)
    deadline = time.monotonic() + 10
    while True:
        now = {m: [(r.get('subscriber'), r.get('ssrc'), r.get('current')) for r in sub_rows(env, m)] for m in meetings}
        if now == cur or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    c.check(now == cur, 'restart: after a controller kill -9 and restart, sub list --json shows every receiver\'s '
            'current layers as before', [(a, b) for m in meetings for a, b in zip(cur[m], now[m]) if a != b][:3])
    c.check({m: env.ctl('sub', 'list', m).stdout for m in meetings} == text,
            'restart: sub list (text) shows the same CURRENT column as before')
    ev = ((env.status() or {}).get('dataplane') or {}).get('events') or {}
    c.check(ev.get('layers_known') is True and ev.get('lost') == 0 and ev.get('snapshots_asked', 0) >= 1,
            'restart: status: a snapshot was asked for and read, no event lost', ev)


# ==== the test ==============================================================================================

def body(c):
    selfcheck(c)
    if '--selfcheck' in sys.argv:
        return
    with MmrEnv('layers', rtcp=False) as env:
        env.wait_dp_attached(10)
        v = part_vp9(env, c)
        a = part_av1(env, c)
        part_simulcast(env, c)
        time.sleep(0.2)
        c.check(attached(env), 'parts 1-3: dataplane still attached (heartbeat fresh)')
        st = env.stats()
        before = mmrtest.drop_counts(st)
        for ssrc, what, counts in ((VP9_SSRC, 'vp9', v), (AV1_SSRC, 'av1', a)):
            ss = mmrtest.stream_stats(st, ssrc) or {}
            c.check((int(ss.get('rx_pkts', -1)), int(ss.get('fwd_copies', -1)), int(ss.get('layer_drops', -1))) ==
                    (counts['rx'], counts['copies'], counts['withheld']),
                    '%s: stream counters rx_pkts %d, fwd_copies %d, layer_drops %d' % (
                        what, counts['rx'], counts['copies'], counts['withheld']),
                    {k: ss.get(k) for k in ('rx_pkts', 'fwd_copies', 'layer_drops')})
        nonzero = {k: n for k, n in before.items() if n and k not in ('layer', 'none', 'arp_other')}
        c.check(not nonzero, 'parts 1-3: no drops but layer selection', nonzero)
        part_restart(env, c)
        part_bad(env, c, before)
        part_bad_commands(env, c)
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_layers', body)
