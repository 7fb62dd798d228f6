"""
rtpgen.py - build and parse the RTP the mmr tests send: RTP headers (RFC 3550: CSRCs, header
extension, padding), VP8 payload descriptors (RFC 7741), an L1T3 VP8 frame generator that labels
its frames the way libvpx does, Opus-like audio, and a reference model of the layer selector
(lib/layer_select.h) that says what each receiver must get. Python 3 standard library only.
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


# ---- reference model of the layer selector (lib/layer_select.h) -----------------------------------

class LayerSelModel:
    """What one subscription forwards, following the rules in lib/layer_select.h (for packets in
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
