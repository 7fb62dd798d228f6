"""
rtpgen.py - build and parse the RTP the mmr tests send: RTP headers (RFC 3550: CSRCs, header
extension, padding), VP8 payload descriptors (RFC 7741), an L1T3 VP8 frame generator that labels
its frames the way libvpx does, Opus-like audio, and a reference model of the layer selector
(lib/select/layer_select.h) that says what each receiver must get. Python 3 standard library only.
"""

import random
import struct
from collections import namedtuple

RTP_VERSION = 2
PT_OPUS = 111
PT_VP8 = 96
VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000


# ---- RTP ---------------------------------------------------------------------------------------

RtpPacket = namedtuple('RtpPacket', 'version padding extension cc marker pt seq ts ssrc csrcs '
                       'ext_profile ext_data payload pad_len hdr_len')


def rtp_packet(seq, ts, ssrc, pt, payload=b'', marker=False, csrcs=(), ext=None, padding=0,
               version=RTP_VERSION):
    """One RTP packet as bytes. ext = (profile, data) with len(data) a multiple of 4;
    padding = number of padding bytes to append (last byte = the count, RFC 3550 5.1)."""
    b0 = (version << 6) | (0x20 if padding else 0) | (0x10 if ext is not None else 0) | (len(csrcs) & 0x0f)
    b1 = (0x80 if marker else 0) | (pt & 0x7f)
    out = bytearray(struct.pack('!BBHII', b0, b1, seq & 0xffff, ts & 0xffffffff, ssrc & 0xffffffff))
    for c in csrcs:
        out += struct.pack('!I', c & 0xffffffff)
    if ext is not None:
        profile, data = ext
        if len(data) % 4:
            raise ValueError('extension data must be a multiple of 4 bytes')
        out += struct.pack('!HH', profile, len(data) // 4) + bytes(data)
    out += bytes(payload)
    if padding:
        out += bytes(padding - 1) + bytes([padding & 0xff])
    return bytes(out)


def one_byte_ext(elements):
    """RFC 8285 one-byte header extension block from [(id, bytes)], padded to 4 bytes."""
    data = bytearray()
    for eid, val in elements:
        data += bytes([(eid << 4) | (len(val) - 1)]) + bytes(val)
    while len(data) % 4:
        data += b'\0'
    return (0xBEDE, bytes(data))


def parse_rtp(pkt):
    """Parse an RTP packet; raises ValueError on anything malformed."""
    if len(pkt) < 12:
        raise ValueError('short RTP packet')
    b0, b1, seq, ts, ssrc = struct.unpack_from('!BBHII', pkt, 0)
    version, padding, extension, cc = b0 >> 6, bool(b0 & 0x20), bool(b0 & 0x10), b0 & 0x0f
    if version != 2:
        raise ValueError('RTP version %d' % version)
    off = 12
    if len(pkt) < off + 4 * cc:
        raise ValueError('truncated CSRC list')
    csrcs = list(struct.unpack_from('!%dI' % cc, pkt, off))
    off += 4 * cc
    ext_profile, ext_data = None, None
    if extension:
        if len(pkt) < off + 4:
            raise ValueError('truncated extension header')
        ext_profile, words = struct.unpack_from('!HH', pkt, off)
        off += 4
        if len(pkt) < off + 4 * words:
            raise ValueError('truncated extension')
        ext_data = bytes(pkt[off:off + 4 * words])
        off += 4 * words
    pad_len = 0
    if padding:
        if len(pkt) <= off:
            raise ValueError('padding bit without payload')
        pad_len = pkt[-1]
        if pad_len == 0 or pad_len > len(pkt) - off:
            raise ValueError('bad padding count')
    payload = bytes(pkt[off:len(pkt) - pad_len])
    return RtpPacket(version, padding, extension, cc, bool(b1 & 0x80), b1 & 0x7f, seq, ts, ssrc,
                     csrcs, ext_profile, ext_data, payload, pad_len, off)


def is_rtcp(pkt):
    """RFC 5761 demultiplexing: version 2 and second byte (packet type) 192..223."""
    return len(pkt) >= 2 and (pkt[0] >> 6) == 2 and 192 <= pkt[1] <= 223


def rtcp_receiver_report(ssrc):
    """A minimal RTCP RR (PT 201) with no report blocks."""
    return struct.pack('!BBHI', 0x80, 201, 1, ssrc)


def rtcp_sender_report(ssrc, ntp=0, ts=0, pkts=0, octets=0):
    return struct.pack('!BBHIQIII', 0x80, 200, 6, ssrc, ntp, ts, pkts, octets)


# ---- VP8 payload descriptor (RFC 7741 section 4.2) ----------------------------------------------

Vp8Desc = namedtuple('Vp8Desc', 'x n s pid i l t k picture_id m tl0picidx tid y keyidx length '
                     'picture_id_off tl0picidx_off')


def vp8_descriptor(s=True, pid=0, n=False, picture_id=None, m=True, tl0picidx=None, tid=None,
                   y=False, keyidx=None):
    """Bytes of a VP8 payload descriptor. picture_id None: no I; m: 15-bit (M=1) else 7-bit.
    tid None: no T (and Y ignored); keyidx None: no K."""
    has_i, has_l = picture_id is not None, tl0picidx is not None
    has_t, has_k = tid is not None, keyidx is not None
    x = has_i or has_l or has_t or has_k
    out = bytearray([(0x80 if x else 0) | (0x20 if n else 0) | (0x10 if s else 0) | (pid & 0x07)])
    if x:
        out.append((0x80 if has_i else 0) | (0x40 if has_l else 0) | (0x20 if has_t else 0) |
                   (0x10 if has_k else 0))
        if has_i:
            if m:
                out += struct.pack('!H', 0x8000 | (picture_id & 0x7fff))
            else:
                out.append(picture_id & 0x7f)
        if has_l:
            out.append(tl0picidx & 0xff)
        if has_t or has_k:
            out.append(((tid or 0) & 3) << 6 | (0x20 if (has_t and y) else 0) | ((keyidx or 0) & 0x1f))
    return bytes(out)


def parse_vp8(payload):
    """Parse the VP8 descriptor at the start of an RTP payload; ValueError if truncated."""
    if len(payload) < 1:
        raise ValueError('empty VP8 payload')
    b = payload[0]
    x, n, s, pid = bool(b & 0x80), bool(b & 0x20), bool(b & 0x10), b & 0x07
    i = l = t = k = False
    picture_id = tl0 = keyidx = None
    m = False
    tid, y = 0, False
    off = 1
    pid_off = tl0_off = 0
    if x:
        if len(payload) < 2:
            raise ValueError('truncated X byte')
        e = payload[1]
        i, l, t, k = bool(e & 0x80), bool(e & 0x40), bool(e & 0x20), bool(e & 0x10)
        off = 2
        if i:
            if len(payload) < off + 1:
                raise ValueError('truncated PictureID')
            pid_off = off
            if payload[off] & 0x80:
                if len(payload) < off + 2:
                    raise ValueError('truncated 15-bit PictureID')
                m = True
                picture_id = struct.unpack_from('!H', payload, off)[0] & 0x7fff
                off += 2
            else:
                picture_id = payload[off] & 0x7f
                off += 1
        if l:
            if len(payload) < off + 1:
                raise ValueError('truncated TL0PICIDX')
            tl0_off = off
            tl0 = payload[off]
            off += 1
        if t or k:
            if len(payload) < off + 1:
                raise ValueError('truncated TID/KEYIDX')
            tb = payload[off]
            if t:
                tid, y = tb >> 6, bool(tb & 0x20)
            if k:
                keyidx = tb & 0x1f
            off += 1
    return Vp8Desc(x, n, s, pid, i, l, t, k, picture_id, m, tl0, tid, y, keyidx, off, pid_off, tl0_off)


def vp8_is_keyframe(payload):
    """First packet of a frame (S=1, PID=0) whose VP8 payload header has P=0."""
    d = parse_vp8(payload)
    if not (d.s and d.pid == 0) or len(payload) <= d.length:
        return False
    return (payload[d.length] & 0x01) == 0


# ---- VP8 L1T3 stream generator --------------------------------------------------------------------

# libvpx's 3-layer pattern (VP8E_TEMPORAL_LAYERING_MODE_0212, periodicity 8) and the layer-sync flags
# GStreamer's vp8enc is given in practice: Y on the first TID 2 and the first TID 1 frame of each period.
L1T3_TIDS = (0, 2, 1, 2, 0, 2, 1, 2)
L1T3_SYNC = (False, True, True, False, False, False, False, False)

Frame = namedtuple('Frame', 'index tid y keyframe picture_id tl0picidx ts packets')
# one packet of a frame: wire bytes plus what the tests need to check it
Packet = namedtuple('Packet', 'data seq ts ssrc marker frame tid y keyframe picture_id tl0picidx start')


def vp8_payload_header(keyframe, size_hint=0):
    """A plausible 3-byte VP8 frame tag (RFC 6386 9.1): P bit 0 for keyframes, show_frame=1."""
    first_part = max(size_hint, 1) & 0x7ffff
    tag = (0 if keyframe else 1) | (0 << 1) | (1 << 4) | (first_part << 5)
    hdr = struct.pack('<I', tag)[:3]
    if keyframe:
        hdr += b'\x9d\x01\x2a' + struct.pack('<HH', 320, 240)
    return hdr


class Vp8L1T3:
    """Generates an L1T3 VP8 stream frame by frame.

    Each frame has `pkts_per_frame` packets (an int, or a callable frame_index -> int); the first has
    S=1 PID=0 and the VP8 frame tag, the last the RTP marker. Every packet carries I (15-bit PictureID
    by default), L (TL0PICIDX) and T (TID, Y). A keyframe every `keyframe_interval` frames (frame 0 is
    one). Payload bytes are deterministic from (ssrc, seq) so a receiver can check them."""

    def __init__(self, ssrc, pt=PT_VP8, keyframe_interval=30, pkts_per_frame=3, payload_size=200,
                 seq=1000, ts=90000, picture_id=100, tl0picidx=10, fps=30, picture_id_15bit=True,
                 tids=L1T3_TIDS, sync=L1T3_SYNC, csrcs=(), ext=None):
        self.ssrc, self.pt = ssrc, pt
        self.keyframe_interval = keyframe_interval
        self.pkts_per_frame = pkts_per_frame
        self.payload_size = payload_size
        self.seq, self.ts = seq & 0xffff, ts & 0xffffffff
        self.picture_id = picture_id
        self.tl0picidx = tl0picidx & 0xff
        self.ts_step = VIDEO_CLOCK // fps
        self.m = picture_id_15bit
        self.tids, self.sync = tids, sync
        self.csrcs, self.ext = csrcs, ext
        self.index = 0           # frames generated so far
        self.pattern_pos = 0     # position in the temporal pattern (reset by keyframes)
        self.force_key = False

    def request_keyframe(self):
        self.force_key = True

    def next_frame(self):
        i = self.index
        key = i == 0 or self.force_key or (self.keyframe_interval and i % self.keyframe_interval == 0)
        self.force_key = False
        if key:
            self.pattern_pos = 0
        tid = self.tids[self.pattern_pos % len(self.tids)]
        y = True if key else self.sync[self.pattern_pos % len(self.sync)]
        self.pattern_pos += 1
        if tid == 0 and i != 0:
            self.tl0picidx = (self.tl0picidx + 1) & 0xff
        pid = self.picture_id & (0x7fff if self.m else 0x7f)
        n = self.pkts_per_frame(i) if callable(self.pkts_per_frame) else self.pkts_per_frame
        pkts = []
        for k in range(n):
            desc = vp8_descriptor(s=(k == 0), pid=0, n=(tid == max(self.tids)), picture_id=pid, m=self.m,
                                  tl0picidx=self.tl0picidx, tid=tid, y=y)
            body = vp8_payload_header(key, self.payload_size) if k == 0 else b''
            body += payload_pattern(self.ssrc, self.seq, self.payload_size - len(body))
            marker = k == n - 1
            data = rtp_packet(self.seq, self.ts, self.ssrc, self.pt, desc + body, marker=marker,
                              csrcs=self.csrcs, ext=self.ext)
            pkts.append(Packet(data, self.seq, self.ts, self.ssrc, marker, i, tid, y, key, pid,
                               self.tl0picidx, k == 0))
            self.seq = (self.seq + 1) & 0xffff
        frame = Frame(i, tid, y, key, pid, self.tl0picidx, self.ts, pkts)
        self.index += 1
        self.picture_id = (self.picture_id + 1) & (0x7fff if self.m else 0x7f)
        self.ts = (self.ts + self.ts_step) & 0xffffffff
        return frame

    def frames(self, count):
        return [self.next_frame() for _ in range(count)]


def payload_pattern(ssrc, seq, size):
    """size deterministic bytes derived from (ssrc, seq): lets receivers check payload integrity."""
    if size <= 0:
        return b''
    head = struct.pack('!IH', ssrc & 0xffffffff, seq & 0xffff)
    r = random.Random((ssrc << 16) ^ seq)
    body = bytes(r.getrandbits(8) for _ in range(max(0, size - len(head))))
    return (head + body)[:size]


# ---- Opus-like audio -------------------------------------------------------------------------------

class OpusLike:
    """20 ms Opus-like packets (TOC byte for SILK-WB 20 ms mono, then deterministic bytes)."""

    def __init__(self, ssrc, pt=PT_OPUS, seq=500, ts=48000, payload_size=80):
        self.ssrc, self.pt, self.seq, self.ts = ssrc, pt, seq & 0xffff, ts & 0xffffffff
        self.payload_size = payload_size
        self.count = 0

    def next_packet(self):
        body = b'\x48' + payload_pattern(self.ssrc, self.seq, self.payload_size - 1)
        data = rtp_packet(self.seq, self.ts, self.ssrc, self.pt, body, marker=(self.count == 0))
        p = Packet(data, self.seq, self.ts, self.ssrc, self.count == 0, self.count, 0, False, False,
                   None, None, True)
        self.seq = (self.seq + 1) & 0xffff
        self.ts = (self.ts + 960) & 0xffffffff
        self.count += 1
        return p

    def packets(self, count):
        return [self.next_packet() for _ in range(count)]


def seq_payload(ssrc, counter, seq, ts, pt=PT_OPUS, size=60):
    """An audio-like RTP packet whose payload starts with a 32-bit counter (loss tests)."""
    body = struct.pack('!I', counter & 0xffffffff) + bytes(max(0, size - 4))
    return rtp_packet(seq, ts, ssrc, pt, body)


# ---- reference model of the layer selector (lib/select/layer_select.h) -----------------------------------

class LayerSelModel:
    """What one subscription forwards, following the rules in lib/select/layer_select.h (for packets in
    order): nothing until the first keyframe, and nothing counted before it (the first forwarded
    packet keeps its number); decisions per frame at its first packet; a keyframe sets the layer
    straight to the target; down-switch at the next frame start; up-switch one layer at a time at a
    Y=1 frame with TID = current + 1 <= target; forward iff TID <= current; withheld packets leave
    the seq space and withheld frames the PictureID space (after the first keyframe); TL0PICIDX
    passes through.

    feed(pkt, target) -> None (withheld) or (out_seq, out_picture_id, out_tl0picidx)."""

    def __init__(self, pid_bits=15):
        self.started = False
        self.cur = 0
        self.fwd = False
        self.seq_offset = 0
        self.pid_offset = 0
        self.pid_mask = (1 << pid_bits) - 1

    def feed(self, p, target):
        target = min(target, 3)
        if p.start:
            if p.keyframe:
                self.started = True
                self.cur = target
                fwd = True
            elif not self.started:
                fwd = False
            else:
                if target < self.cur:
                    self.cur = target
                elif p.y and p.tid == self.cur + 1 and p.tid <= target:
                    self.cur = p.tid
                fwd = p.tid <= self.cur
            if not fwd and self.started and p.picture_id is not None:
                self.pid_offset += 1
            self.fwd = fwd
        if not self.fwd:
            if self.started:
                self.seq_offset = (self.seq_offset + 1) & 0xffff
            return None
        return ((p.seq - self.seq_offset) & 0xffff,
                (p.picture_id - self.pid_offset) & self.pid_mask if p.picture_id is not None else None,
                p.tl0picidx)


def expected_frames(frames, target):
    """Indexes of the frames a receiver with a fixed target gets, for a stream starting at a keyframe."""
    return [f.index for f in frames if f.tid <= target]


def rewrite_vp8(data, out_seq, out_pid, out_tl0, out_ssrc):
    """The bytes a receiver must get for input packet `data`: seq, SSRC, PictureID, TL0PICIDX rewritten."""
    r = parse_rtp(data)
    b = bytearray(data)
    struct.pack_into('!H', b, 2, out_seq & 0xffff)
    struct.pack_into('!I', b, 8, out_ssrc & 0xffffffff)
    d = parse_vp8(r.payload)
    base = r.hdr_len
    if d.i and out_pid is not None:
        if d.m:
            struct.pack_into('!H', b, base + d.picture_id_off, 0x8000 | (out_pid & 0x7fff))
        else:
            b[base + d.picture_id_off] = out_pid & 0x7f
    if d.l and out_tl0 is not None:
        b[base + d.tl0picidx_off] = out_tl0 & 0xff
    return bytes(b)


def rewrite_passthrough(data, out_ssrc):
    b = bytearray(data)
    struct.pack_into('!I', b, 8, out_ssrc & 0xffffffff)
    return bytes(b)


# ==== layered video: VP9 SVC, AV1 Dependency Descriptor, H.264, two-byte header extensions =======

PT_VP9 = 98
PT_AV1 = 45
PT_H264 = 102


def two_byte_ext(elements):
    """RFC 8285 two-byte header extension block from [(id, bytes)] (ids 1..255, 0..255 bytes),
    padded to 4 bytes. Needed for elements over 16 bytes (a DD carrying its structure)."""
    data = bytearray()
    for eid, val in elements:
        data += bytes([eid & 0xff, len(val)]) + bytes(val)
    while len(data) % 4:
        data += b'\0'
    return (0x1000, bytes(data))


def parse_ext_elements(profile, data):
    """[(id, offset in data, bytes)] of an RFC 8285 extension block (one-byte 0xBEDE or two-byte
    0x100x); ValueError on a malformed one. Padding bytes (0) are skipped."""
    out = []
    off = 0
    if profile == 0xBEDE:
        while off < len(data):
            b = data[off]
            if b == 0:
                off += 1
                continue
            eid, ln = b >> 4, (b & 0x0f) + 1
            if eid == 15:
                break
            if off + 1 + ln > len(data):
                raise ValueError('one-byte element runs past the block')
            out.append((eid, off + 1, bytes(data[off + 1:off + 1 + ln])))
            off += 1 + ln
    elif (profile & 0xfff0) == 0x1000:
        while off < len(data):
            if data[off] == 0:
                off += 1
                continue
            if off + 2 > len(data):
                raise ValueError('two-byte element header runs past the block')
            eid, ln = data[off], data[off + 1]
            if off + 2 + ln > len(data):
                raise ValueError('two-byte element runs past the block')
            out.append((eid, off + 2, bytes(data[off + 2:off + 2 + ln])))
            off += 2 + ln
    else:
        raise ValueError('unknown extension profile 0x%04x' % profile)
    return out


def rtp_ext_element(pkt, eid):
    """(offset from the start of the RTP packet, bytes) of extension element eid, or None."""
    r = parse_rtp(pkt)
    if not r.extension:
        return None
    base = 12 + 4 * r.cc + 4
    for i, off, val in parse_ext_elements(r.ext_profile, r.ext_data):
        if i == eid:
            return base + off, val
    return None


# ---- VP9 payload descriptor (RFC 9628 section 4.2) ------------------------------------------------

Vp9Desc = namedtuple('Vp9Desc', 'i p l f b e v z m picture_id tid u sid d tl0picidx p_diffs ss length '
                     'picture_id_off tl0picidx_off')


def vp9_ss(resolutions=None, n_spatial=None, group=None):
    """A scalability structure: resolutions [(w, h)] per spatial layer (Y=1) or n_spatial (Y=0);
    group [(tid, u, [p_diff, ...])] (G=1) or None."""
    n_s = len(resolutions) if resolutions else n_spatial
    out = bytearray([((n_s - 1) << 5) | (0x10 if resolutions else 0) | (0x08 if group is not None else 0)])
    for w, h in resolutions or ():
        out += struct.pack('!HH', w, h)
    if group is not None:
        out.append(len(group))
        for tid, u, diffs in group:
            out.append((tid << 5) | (0x10 if u else 0) | (len(diffs) << 2))
            out += bytes(diffs)
    return bytes(out)


def vp9_descriptor(picture_id=None, m=True, p=False, b=True, e=True, z=False, tid=None, u=False,
                   sid=0, d=False, tl0picidx=None, flexible=False, p_diffs=(), ss=None):
    """Bytes of a VP9 payload descriptor. picture_id None: no I; tid None: no L (and no TL0PICIDX);
    flexible: F=1 with p_diffs (when p); ss: scalability structure bytes (V=1)."""
    has_i, has_l = picture_id is not None, tid is not None
    out = bytearray([(0x80 if has_i else 0) | (0x40 if p else 0) | (0x20 if has_l else 0) |
                     (0x10 if flexible else 0) | (0x08 if b else 0) | (0x04 if e else 0) |
                     (0x02 if ss is not None else 0) | (0x01 if z else 0)])
    if has_i:
        if m:
            out += struct.pack('!H', 0x8000 | (picture_id & 0x7fff))
        else:
            out.append(picture_id & 0x7f)
    if has_l:
        out.append((tid & 7) << 5 | (0x10 if u else 0) | (sid & 7) << 1 | (1 if d else 0))
        if not flexible:
            out.append((tl0picidx or 0) & 0xff)
    if flexible and p:
        for k, pd in enumerate(p_diffs):
            out.append((pd & 0x7f) << 1 | (1 if k < len(p_diffs) - 1 else 0))
    if ss is not None:
        out += ss
    return bytes(out)


def parse_vp9(payload):
    """Parse the VP9 descriptor at the start of an RTP payload (independent of lib/codec/vp9.c);
    ValueError if truncated. ss is a dict (n_spatial, resolutions, group) or None."""
    def need(n):
        if len(payload) < n:
            raise ValueError('truncated VP9 descriptor')
    need(1)
    b0 = payload[0]
    i, p, l, f = bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10)
    b, e, v, z = bool(b0 & 0x08), bool(b0 & 0x04), bool(b0 & 0x02), bool(b0 & 0x01)
    off, m, pid, pid_off, tl0_off = 1, False, None, 0, 0
    tid = sid = 0
    u = d = False
    tl0 = None
    diffs = []
    ss = None
    if i:
        need(off + 1)
        pid_off = off
        if payload[off] & 0x80:
            need(off + 2)
            m, pid = True, struct.unpack_from('!H', payload, off)[0] & 0x7fff
            off += 2
        else:
            pid = payload[off] & 0x7f
            off += 1
    if l:
        need(off + 1)
        x = payload[off]
        tid, u, sid, d = x >> 5, bool(x & 0x10), (x >> 1) & 7, bool(x & 1)
        off += 1
        if not f:
            need(off + 1)
            tl0_off, tl0 = off, payload[off]
            off += 1
    if f and p:
        while True:
            need(off + 1)
            diffs.append(payload[off] >> 1)
            off += 1
            if not payload[off - 1] & 1:
                break
    if v:
        need(off + 1)
        n_s, y, g = (payload[off] >> 5) + 1, bool(payload[off] & 0x10), bool(payload[off] & 0x08)
        off += 1
        res, group = [], None
        if y:
            need(off + 4 * n_s)
            res = [struct.unpack_from('!HH', payload, off + 4 * k) for k in range(n_s)]
            off += 4 * n_s
        if g:
            need(off + 1)
            n_g = payload[off]
            off += 1
            group = []
            for _ in range(n_g):
                need(off + 1)
                gt, gu, r = payload[off] >> 5, bool(payload[off] & 0x10), (payload[off] >> 2) & 3
                need(off + 1 + r)
                group.append((gt, gu, list(payload[off + 1:off + 1 + r])))
                off += 1 + r
        ss = {'n_spatial': n_s, 'resolutions': res, 'group': group}
    return Vp9Desc(i, p, l, f, b, e, v, z, m, pid, tid, u, sid, d, tl0, diffs, ss, off, pid_off, tl0_off)


# one packet of a layered stream: wire bytes plus the labels a model needs
LPacket = namedtuple('LPacket', 'data seq ts ssrc marker picture sid tid start end keyframe u inter_pic '
                     'picture_id tl0picidx encoding extra')


class Vp9Svc:
    """A VP9 spatial+temporal SVC stream in non-flexible mode (RFC 9628), as libvpx's L3T3 sends it:
    every picture has n_spatial layer frames (SID 0 first, D=1 above SID 0), the temporal pattern
    and U flags of L1T3 (0,2,1,2 / U on the first TID 2 and TID 1 picture of every 8), 15-bit
    PictureID per picture, TL0PICIDX incremented per TID 0 picture, the SS (resolutions and the
    picture group) in the first packet of every keyframe, the RTP marker on the last packet of the
    highest spatial layer. keyframes: picture indexes with P=0 at every layer (0 always);
    switch_pics: pictures whose layer frames above SID 0 have P=0 (spatial up-switch points);
    pkts(picture, sid, keyframe) -> packets of that layer frame."""

    RES = ((320, 180), (640, 360), (1280, 720))

    def __init__(self, ssrc, n_spatial=3, keyframes=(0,), switch_pics=(), pkts=None, pt=PT_VP9,
                 seq=4000, ts=1000, picture_id=32700, tl0picidx=250, payload_size=120,
                 tids=L1T3_TIDS, sync=L1T3_SYNC, ext=None):
        self.ssrc, self.pt, self.n_spatial = ssrc, pt, n_spatial
        self.keyframes, self.switch_pics = set(keyframes) | {0}, set(switch_pics)
        self.pkts = pkts or (lambda i, sid, key: 1)
        self.seq, self.ts, self.picture_id, self.tl0picidx = seq & 0xffff, ts, picture_id, tl0picidx
        self.payload_size, self.tids, self.sync, self.ext = payload_size, tids, sync, ext
        self.index = 0
        self.pos = 0

    def ss(self):
        group = []
        for k, tid in enumerate(self.tids):
            # reference: TID 0 the previous TID 0, others the latest picture of a lower TID
            back = next(j for j in range(1, len(self.tids) + 1)
                        if self.tids[(k - j) % len(self.tids)] < tid or
                        (tid == 0 and self.tids[(k - j) % len(self.tids)] == 0))
            group.append((tid, bool(self.sync[k]), [back]))
        return vp9_ss(resolutions=self.RES[:self.n_spatial], group=group)

    def next_picture(self):
        i = self.index
        key = i in self.keyframes
        if key:
            self.pos = 0
        tid = self.tids[self.pos % len(self.tids)]
        u = bool(key or self.sync[self.pos % len(self.sync)])
        self.pos += 1
        if tid == 0 and i != 0:
            self.tl0picidx = (self.tl0picidx + 1) & 0xff
        pid = self.picture_id & 0x7fff
        out = []
        for sid in range(self.n_spatial):
            inter_pic = not key and not (sid > 0 and i in self.switch_pics)
            n = self.pkts(i, sid, key)
            for k in range(n):
                first, last = k == 0, k == n - 1
                desc = vp9_descriptor(picture_id=pid, p=inter_pic, b=first, e=last,
                                      z=(sid == self.n_spatial - 1), tid=tid, u=u, sid=sid, d=sid > 0,
                                      tl0picidx=self.tl0picidx,
                                      ss=self.ss() if (key and sid == 0 and first) else None)
                body = payload_pattern(self.ssrc, self.seq, self.payload_size)
                marker = sid == self.n_spatial - 1 and last
                data = rtp_packet(self.seq, self.ts, self.ssrc, self.pt, desc + body, marker=marker,
                                  ext=self.ext)
                out.append(LPacket(data, self.seq, self.ts, self.ssrc, marker, i, sid, tid, first, last,
                                   key and sid == 0, u, inter_pic, pid, self.tl0picidx, 0, None))
                self.seq = (self.seq + 1) & 0xffff
        self.index += 1
        self.picture_id = (self.picture_id + 1) & 0x7fff
        self.ts = (self.ts + 3000) & 0xffffffff
        return out

    def pictures(self, count):
        return [self.next_picture() for _ in range(count)]


def rewrite_vp9(data, out_seq, out_pid, out_ssrc, marker):
    """The bytes a receiver must get for VP9 input packet `data`: seq, SSRC, marker, PictureID."""
    r = parse_rtp(data)
    b = bytearray(data)
    b[1] = (b[1] & 0x7f) | (0x80 if marker else 0)
    struct.pack_into('!H', b, 2, out_seq & 0xffff)
    struct.pack_into('!I', b, 8, out_ssrc & 0xffffffff)
    d = parse_vp9(r.payload)
    if d.i and out_pid is not None:
        if d.m:
            struct.pack_into('!H', b, r.hdr_len + d.picture_id_off, 0x8000 | (out_pid & 0x7fff))
        else:
            b[r.hdr_len + d.picture_id_off] = out_pid & 0x7f
    return bytes(b)


# ---- AV1 Dependency Descriptor (AV1 RTP specification, appendix A) -------------------------------

DTI_NOT_PRESENT, DTI_DISCARDABLE, DTI_SWITCH, DTI_REQUIRED = 0, 1, 2, 3


class BitWriter:
    def __init__(self):
        self.bits = []

    def f(self, n, v):
        if v < 0 or v >= (1 << n) and n:
            raise ValueError('%d does not fit %d bits' % (v, n))
        self.bits += [(v >> (n - 1 - k)) & 1 for k in range(n)]

    def ns(self, n, v):
        """Non-symmetric unsigned value v < n (appendix A ns(n))."""
        if not 0 <= v < n:
            raise ValueError('ns(%d) cannot hold %d' % (n, v))
        w = n.bit_length()
        mm = (1 << w) - n
        if v < mm:
            self.f(w - 1, v)
        else:
            t = v + mm
            self.f(w - 1, t >> 1)
            self.f(1, t & 1)

    def bytes(self):
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int(''.join(map(str, bits[k:k + 8])), 2) for k in range(0, len(bits), 8))


class BitReader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def f(self, n):
        v = 0
        for _ in range(n):
            if self.pos >= 8 * len(self.data):
                raise ValueError('DD read past its end')
            v = (v << 1) | ((self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ns(self, n):
        w = n.bit_length()
        mm = (1 << w) - n
        v = self.f(w - 1)
        if v < mm:
            return v
        return (v << 1) - mm + self.f(1)


# a template: spatial/temporal id, DTI per decode target, frame diffs, chain diffs per chain
DdTemplate = namedtuple('DdTemplate', 'sid tid dtis fdiffs chain_fdiffs')
DdStructure = namedtuple('DdStructure', 'template_id_offset dt_cnt templates chain_cnt dt_chain resolutions')


def dd_structure_bits(w, st):
    w.f(6, st.template_id_offset)
    w.f(5, st.dt_cnt - 1)
    tl = st.templates
    for k in range(len(tl)):            # template_layers: templates in (sid, tid) order
        if k == len(tl) - 1:
            w.f(2, 3)
        elif (tl[k + 1].sid, tl[k + 1].tid) == (tl[k].sid, tl[k].tid):
            w.f(2, 0)
        elif tl[k + 1].sid == tl[k].sid and tl[k + 1].tid == tl[k].tid + 1:
            w.f(2, 1)
        elif tl[k + 1].sid == tl[k].sid + 1 and tl[k + 1].tid == 0:
            w.f(2, 2)
        else:
            raise ValueError('templates out of order')
    for t in tl:
        for dti in t.dtis:
            w.f(2, dti)
    for t in tl:
        for fd in t.fdiffs:
            w.f(1, 1)
            w.f(4, fd - 1)
        w.f(1, 0)
    w.ns(st.dt_cnt + 1, st.chain_cnt)
    if st.chain_cnt:
        for c in st.dt_chain:
            w.ns(st.chain_cnt, c)
        for t in tl:
            for cf in t.chain_fdiffs:
                w.f(4, cf)
    w.f(1, 1 if st.resolutions else 0)
    for rw, rh in st.resolutions or ():
        w.f(16, rw - 1)
        w.f(16, rh - 1)


def dependency_descriptor(start, end, template_id, frame_number, structure=None, active_dts=None,
                          custom_dtis=None, custom_fdiffs=None, custom_chains=None, dt_cnt=None):
    """Bytes of a Dependency Descriptor. structure (DdStructure): attach it; active_dts: send the
    active_decode_targets_bitmask (dt_cnt bits; dt_cnt from the structure in use); custom_*: the
    frame's own DTIs / fdiffs / chain fdiffs instead of its template's."""
    w = BitWriter()
    w.f(1, 1 if start else 0)
    w.f(1, 1 if end else 0)
    w.f(6, template_id & 0x3f)
    w.f(16, frame_number & 0xffff)
    ext = structure is not None or active_dts is not None or custom_dtis is not None or \
        custom_fdiffs is not None or custom_chains is not None
    if ext:
        w.f(1, structure is not None)
        w.f(1, active_dts is not None)
        w.f(1, custom_dtis is not None)
        w.f(1, custom_fdiffs is not None)
        w.f(1, custom_chains is not None)
        n_dt = structure.dt_cnt if structure is not None else dt_cnt
        if structure is not None:
            dd_structure_bits(w, structure)
        if active_dts is not None:
            w.f(n_dt, active_dts)
        for dti in custom_dtis or ():
            w.f(2, dti)
        if custom_fdiffs is not None:
            for fd in custom_fdiffs:
                size = 1 if fd - 1 < 16 else 2 if fd - 1 < 256 else 3
                w.f(2, size)
                w.f(4 * size, fd - 1)
            w.f(2, 0)
        for cf in custom_chains or ():
            w.f(8, cf)
    out = w.bytes()
    if ext and len(out) == 3:       # 3 bytes means "mandatory fields only": pad to 4
        out += b'\0'
    return out


def parse_dd_structure(r):
    off = r.f(6)
    dt_cnt = r.f(5) + 1
    layers = []
    sid = tid = 0
    while True:
        layers.append((sid, tid))
        idc = r.f(2)
        if idc == 1:
            tid += 1
        elif idc == 2:
            sid, tid = sid + 1, 0
        elif idc == 3:
            break
        if len(layers) > 64:
            raise ValueError('too many templates')
    dtis = [[r.f(2) for _ in range(dt_cnt)] for _ in layers]
    fdiffs = []
    for _ in layers:
        fd = []
        while r.f(1):
            fd.append(r.f(4) + 1)
        fdiffs.append(fd)
    chain_cnt = r.ns(dt_cnt + 1)
    dt_chain, chain_fd = [], [[] for _ in layers]
    if chain_cnt:
        dt_chain = [r.ns(chain_cnt) for _ in range(dt_cnt)]
        chain_fd = [[r.f(4) for _ in range(chain_cnt)] for _ in layers]
    res = None
    if r.f(1):
        res = [(r.f(16) + 1, r.f(16) + 1) for _ in range(layers[-1][0] + 1)]
    tl = [DdTemplate(s, t, dtis[k], fdiffs[k], chain_fd[k]) for k, (s, t) in enumerate(layers)]
    return DdStructure(off, dt_cnt, tl, chain_cnt, dt_chain, res)


Dd = namedtuple('Dd', 'start end template_id frame_number structure active_dts sid tid dtis fdiffs '
                'chain_fdiffs')


def parse_dd(data, structure=None):
    """Parse a DD (independent of lib/); structure: the one in use (the packet's own wins).
    Returns Dd with the frame's resolved sid/tid/dtis/fdiffs/chains (None without a structure)."""
    r = BitReader(data)
    start, end, tmpl, fn = r.f(1), r.f(1), r.f(6), r.f(16)
    st_flag = ad_flag = c_dti = c_fd = c_ch = 0
    st = None
    active = None
    if len(data) > 3:
        st_flag, ad_flag, c_dti, c_fd, c_ch = r.f(1), r.f(1), r.f(1), r.f(1), r.f(1)
        if st_flag:
            st = structure = parse_dd_structure(r)
            active = (1 << st.dt_cnt) - 1
        if ad_flag:
            if structure is None:
                raise ValueError('active decode targets without a structure')
            active = r.f(structure.dt_cnt)
    if structure is None:
        return Dd(bool(start), bool(end), tmpl, fn, st, active, None, None, None, None, None)
    idx = (tmpl + 64 - structure.template_id_offset) % 64
    if idx >= len(structure.templates):
        raise ValueError('template id %d not in the structure' % tmpl)
    t = structure.templates[idx]
    dtis, fdiffs, chains = list(t.dtis), list(t.fdiffs), list(t.chain_fdiffs)
    if c_dti:
        dtis = [r.f(2) for _ in range(structure.dt_cnt)]
    if c_fd:
        fdiffs = []
        while True:
            size = r.f(2)
            if not size:
                break
            fdiffs.append(r.f(4 * size) + 1)
    if c_ch:
        chains = [r.f(8) for _ in range(structure.chain_cnt)]
    return Dd(bool(start), bool(end), tmpl, fn, st, active, t.sid, t.tid, dtis, fdiffs, chains)


def l3t3_structure(template_id_offset=0, resolutions=((320, 180), (640, 360), (1280, 720))):
    """A full-SVC L3T3 template structure (every upper spatial layer predicted from the one below
    in the same picture; temporal pattern 0,2,1,2 per spatial layer; 3 frames per picture, so a
    picture's spatial layer s is frame 3p+s). Decode target d = 3*S + T. Chain c (protecting the
    DTs of spatial c) holds the TID 0 frames of spatial layers 0..c. Templates per spatial layer s:
    key (TID 0, no reference of its own layer), TID 0 delta, TID 1, TID 2 after TID 0 (pos 1),
    TID 2 after TID 1 (pos 3). DTIs: TID 0 frames SWITCH for every DT that contains them; a TID 1
    frame DISCARDABLE for (s,1), SWITCH for (s,2), REQUIRED above s; TID 2 DISCARDABLE for (s,2),
    REQUIRED above s. Returns (structure, {(sid, kind): template index})."""
    tl, index = [], {}
    for s in range(3):
        for kind, tid, k in (('key', 0, 0), ('t0', 0, 0), ('t1', 1, 2), ('t2a', 2, 1), ('t2b', 2, 3)):
            dtis = []
            for S in range(3):
                for T in range(3):
                    if s > S or tid > T:
                        dtis.append(DTI_NOT_PRESENT)
                    elif tid == 0:
                        dtis.append(DTI_SWITCH)
                    elif S > s:
                        dtis.append(DTI_REQUIRED)
                    elif tid == 1:
                        dtis.append(DTI_DISCARDABLE if T == 1 else DTI_SWITCH)
                    else:
                        dtis.append(DTI_DISCARDABLE)
            own = {'key': [], 't0': [12], 't1': [6], 't2a': [3], 't2b': [3]}[kind]
            fdiffs = own + ([1] if s > 0 else [])
            chains = []
            for c in range(3):
                if kind in ('key', 't0') and s > 0:     # the layer below in this picture, or lower
                    chains.append(s - min(c, s - 1))
                elif kind == 'key':                       # a chain starts here
                    chains.append(0)
                elif kind == 't0':                        # chain c's frame of the previous TID 0 picture
                    chains.append(12 - c)
                else:
                    chains.append(3 * k + s - c)
            index[(s, kind)] = len(tl)
            tl.append(DdTemplate(s, tid, dtis, fdiffs, chains))
    st = DdStructure(template_id_offset, 9, tl, 3, [0, 0, 0, 1, 1, 1, 2, 2, 2], list(resolutions))
    return st, index


class Av1Svc:
    """An AV1 L3T3 stream described by Dependency Descriptors (extension id dd_id, one-byte header
    form, or two-byte when the DD carries its structure), with an unrelated extension element
    (other_id, 3 bytes, e.g. abs-send-time) beside the DD, before it on even pictures and after
    it on odd ones. keyframes: picture indexes whose first frame carries the structure (offsets
    from `offsets`, one per keyframe in turn); pkts(picture, sid, key) -> packets of that frame.
    The payload is an AV1 aggregation header plus deterministic bytes (the MMR does not read it)."""

    def __init__(self, ssrc, dd_id=5, other_id=3, keyframes=(0,), offsets=(60,), pkts=None, pt=PT_AV1,
                 seq=20000, ts=5000, frame_number=65530, payload_size=100):
        self.ssrc, self.pt, self.dd_id, self.other_id = ssrc, pt, dd_id, other_id
        self.keyframes, self.offsets = sorted(set(keyframes) | {0}), list(offsets)
        self.pkts = pkts or (lambda i, sid, key: 1)
        self.seq, self.ts, self.fn, self.payload_size = seq & 0xffff, ts, frame_number & 0xffff, payload_size
        self.index = 0
        self.pos = 0
        self.n_keys = 0
        self.structure, self.tindex = None, None

    def next_picture(self):
        i = self.index
        key = i in self.keyframes
        if key:
            self.pos = 0
            off = self.offsets[min(self.n_keys, len(self.offsets) - 1)]
            self.n_keys += 1
            self.structure, self.tindex = l3t3_structure(off)
        k = self.pos % 4
        self.pos += 1
        kind = 'key' if key else ('t0', 't2a', 't1', 't2b')[k]
        tid = {'key': 0, 't0': 0, 't1': 1, 't2a': 2, 't2b': 2}[kind]
        out = []
        for sid in range(3):
            tix = self.tindex[(sid, kind)]
            tmpl_id = (self.structure.template_id_offset + tix) % 64
            n = self.pkts(i, sid, key)
            for pk in range(n):
                first, last = pk == 0, pk == n - 1
                attach = key and sid == 0 and first
                dd = dependency_descriptor(first, last, tmpl_id, self.fn,
                                           structure=self.structure if attach else None)
                other = struct.pack('!I', (self.ts * 77) & 0xffffff)[1:]
                elems = [(self.other_id, other), (self.dd_id, dd)]
                if i % 2:
                    elems.reverse()
                ext = two_byte_ext(elems) if len(dd) > 16 else one_byte_ext(elems)
                agg = (0x80 if pk > 0 else 0) | (0x40 if not last else 0) | 0x10 | \
                    (0x08 if key and sid == 0 and first else 0)    # Z Y W=1 N
                body = bytes([agg]) + payload_pattern(self.ssrc, self.seq, self.payload_size)
                marker = sid == 2 and last
                data = rtp_packet(self.seq, self.ts, self.ssrc, self.pt, body, marker=marker, ext=ext)
                out.append(LPacket(data, self.seq, self.ts, self.ssrc, marker, i, sid, tid, first, last,
                                   key and sid == 0, False, not key, None, None, 0,
                                   {'fn': self.fn, 'dd': dd, 'other': other,
                                    'dtis': self.structure.templates[tix].dtis, 'template': tix,
                                    'structure': self.structure}))
                self.seq = (self.seq + 1) & 0xffff
            self.fn = (self.fn + 1) & 0xffff
        self.index += 1
        self.ts = (self.ts + 3000) & 0xffffffff
        return out

    def pictures(self, count):
        return [self.next_picture() for _ in range(count)]


# ---- H.264 (RFC 6184, non-interleaved) ------------------------------------------------------------

H264_SPS = bytes.fromhex('6742c01e8c8d40a0fd00f0884534')
H264_PPS = bytes.fromhex('68ce3c80')


def h264_slice(idr, ssrc, seq, size):
    """A slice NAL: IDR (type 5, NRI 3) or non-IDR (type 1, NRI 2); first_mb_in_slice 0."""
    return bytes([0x65 if idr else 0x41, 0x88 if idr else 0x9a]) + payload_pattern(ssrc, seq, size)


def h264_stap_a(nals, nri=3):
    out = bytearray([(nri << 5) | 24])
    for n in nals:
        out += struct.pack('!H', len(n)) + n
    return bytes(out)


def h264_fu_a(nal, n_frags):
    """Split one NAL into n_frags FU-A payloads."""
    hdr, body = nal[0], nal[1:]
    step = -(-len(body) // n_frags)
    out = []
    for k in range(n_frags):
        frag = body[k * step:(k + 1) * step]
        fu_hdr = (0x80 if k == 0 else 0) | (0x40 if k == n_frags - 1 else 0) | (hdr & 0x1f)
        out.append(bytes([(hdr & 0xe0) | 28, fu_hdr]) + frag)
    return out


class H264Stream:
    """Access units of an H.264 stream: keyframes (IDR) as one STAP-A of SPS+PPS+IDR (style
    'stap') or a STAP-A of SPS+PPS followed by the IDR in 3 FU-A fragments (style 'fu'); other
    frames a single slice NAL, every third one in 2 FU-A fragments. Marker on the last packet of
    each access unit."""

    def __init__(self, ssrc, keyframes=(0,), style='stap', pt=PT_H264, seq=30000, ts=7000, size=150):
        self.ssrc, self.pt, self.keyframes, self.style = ssrc, pt, set(keyframes) | {0}, style
        self.seq, self.ts, self.size = seq & 0xffff, ts, size
        self.index = 0

    def next_au(self):
        i = self.index
        key = i in self.keyframes
        if key and self.style == 'stap':
            payloads = [h264_stap_a([H264_SPS, H264_PPS, h264_slice(True, self.ssrc, self.seq, self.size)])]
        elif key:
            payloads = [h264_stap_a([H264_SPS, H264_PPS])] + \
                h264_fu_a(h264_slice(True, self.ssrc, self.seq, 3 * self.size), 3)
        elif i % 3 == 0:
            payloads = h264_fu_a(h264_slice(False, self.ssrc, self.seq, 2 * self.size), 2)
        else:
            payloads = [h264_slice(False, self.ssrc, self.seq, self.size)]
        out = []
        for k, pl in enumerate(payloads):
            last = k == len(payloads) - 1
            data = rtp_packet(self.seq, self.ts, self.ssrc, self.pt, pl, marker=last)
            out.append(LPacket(data, self.seq, self.ts, self.ssrc, last, i, 0, 0, k == 0, last,
                               key, False, not key, None, None, 0, None))
            self.seq = (self.seq + 1) & 0xffff
        self.index += 1
        self.ts = (self.ts + 3000) & 0xffffffff
        return out


def vp8_simulcast_packets(gen, encoding):
    """One Vp8L1T3 frame as LPackets (for the simulcast model)."""
    f = gen.next_frame()
    return [LPacket(p.data, p.seq, p.ts, p.ssrc, p.marker, f.index, 0, p.tid, p.start,
                    p.marker, f.keyframe, p.y, not f.keyframe, p.picture_id, p.tl0picidx, encoding, None)
            for p in f.packets]
