"""
twccmodel.py - a receiver's side of transport-wide congestion control, as the mmr tests need it: the
transport-wide sequence number of each received RTP packet (the transport-cc header extension,
draft-holmer-rmcat-transport-wide-cc-extensions-01), an optional bottleneck link between the MMR and
the receiver (a bit rate and a queue: the arrival times a slow link would give), and the RTCP
transport-wide feedback (RTPFB PT 205 FMT 15) and REMB (PSFB PT 206 FMT 15) it sends back, and the
reading of a feedback packet (every chunk form). The tests' one Python TWCC builder and parser, written
apart from lib/rtcp/twcc.c so the two check each other. Python 3 standard library only.
"""

import struct

import rtpgen

TWCC_TICK_US = 250
TWCC_REF_US = 64000


def set_ext_u16(pkt, eid, value):
    """pkt with the 2-byte data of its extension element eid set to value (it must have one)."""
    off, val = rtpgen.rtp_ext_element(pkt, eid)
    b = bytearray(pkt)
    struct.pack_into('!H', b, off, value & 0xffff)
    return bytes(b)


def twcc_seq(pkt, eid):
    """The transport-wide seq of an RTP packet (element eid, 2 bytes), or None."""
    try:
        e = rtpgen.rtp_ext_element(pkt, eid)
    except ValueError:
        return None
    if e is None or len(e[1]) != 2:
        return None
    return struct.unpack('!H', e[1])[0]


def ext_ids(pkt):
    """The ids of the extension elements of pkt."""
    try:
        r = rtpgen.parse_rtp(pkt)
        if not r.extension:
            return []
        return [i for i, _, _ in rtpgen.parse_ext_elements(r.ext_profile, r.ext_data)]
    except ValueError:
        return []


class Link:
    """A bottleneck: rate_bps and a queue of at most max_queue_us (beyond: the packet is lost). Gives
    each packet's arrival time at the receiver from the time it left the MMR (both in us)."""

    def __init__(self, rate_bps=None, max_queue_us=300000):
        self.rate_bps = rate_bps
        self.max_queue_us = max_queue_us
        self.free_at = 0

    def arrive(self, t_us, size):
        if not self.rate_bps:
            return t_us
        start = max(t_us, self.free_at)
        if start - t_us > self.max_queue_us:
            return None
        self.free_at = start + (size + 28) * 8 * 1000000 // self.rate_bps
        return self.free_at


class TwccReceiver:
    """Collects (seq, arrival_us) of the packets a receiver got, and builds its feedback."""

    def __init__(self, eid, link=None):
        self.eid = eid
        self.link = link or Link()
        self.arrivals = {}          # extended seq -> arrival us (None: lost on the link)
        self.max_ext = None
        self.next_fb = None         # first extended seq not yet reported
        self.fb_count = 0
        self.seqs = []              # the 16-bit seqs in order of reception (contiguity checks)

    def _extend(self, seq):
        if self.max_ext is None:
            self.max_ext = seq + 0x10000
            return self.max_ext
        e = (self.max_ext & ~0xffff) | seq
        if e - self.max_ext > 0x8000:
            e -= 0x10000
        elif self.max_ext - e > 0x8000:
            e += 0x10000
        self.max_ext = max(self.max_ext, e)
        return e

    def on_packet(self, pkt, t_us):
        s = twcc_seq(pkt, self.eid)
        if s is None:
            return None
        self.seqs.append(s)
        e = self._extend(s)
        self.arrivals[e] = self.link.arrive(t_us, len(pkt))
        if self.next_fb is None:
            self.next_fb = e
        return s

    def feedback(self, sender_ssrc, media_ssrc):
        """One RTCP TWCC feedback packet about everything since the last one, or None."""
        if self.next_fb is None or self.max_ext is None or self.max_ext < self.next_fb:
            return None
        base = self.next_fb
        end = min(self.max_ext, base + 2000)
        st = [self.arrivals.get(e) for e in range(base, end + 1)]
        self.next_fb = end + 1
        got = [a for a in st if a is not None]
        if not got:
            return None
        ref = min(got) // TWCC_REF_US
        pkt = build_twcc(sender_ssrc, media_ssrc, base & 0xffff, ref, self.fb_count & 0xff, st)
        self.fb_count += 1
        return pkt


def build_twcc(sender, media, base_seq, ref_64ms, fb_count, arrivals):
    """RTCP TWCC feedback: arrivals[i] is the arrival time (us) of base_seq + i, or None (lost).
    2-bit status vector chunks only (7 statuses each); deltas quantized to 250 us."""
    symbols, deltas = [], b''
    prev = ref_64ms * TWCC_REF_US
    for a in arrivals:
        if a is None:
            symbols.append(0)
            continue
        d = (a - prev) // TWCC_TICK_US
        if 0 <= d <= 255:
            symbols.append(1)
            deltas += struct.pack('!B', d)
        else:
            d = max(-32768, min(32767, d))
            symbols.append(2)
            deltas += struct.pack('!h', d)
        prev += d * TWCC_TICK_US
    chunks = b''
    for i in range(0, len(symbols), 7):
        part = symbols[i:i + 7] + [0] * (7 - len(symbols[i:i + 7]))
        v = 0xC000
        for k, sym in enumerate(part):
            v |= sym << (12 - 2 * k)
        chunks += struct.pack('!H', v)
    fci = struct.pack('!HH', base_seq, len(arrivals)) + struct.pack('!I', ((ref_64ms & 0xffffff) << 8) | fb_count)
    fci += chunks + deltas
    while len(fci) % 4:
        fci += b'\0'
    body = struct.pack('!II', sender, media) + fci
    return struct.pack('!BBH', 0x80 | 15, 205, len(body) // 4) + body


def parse_twcc(pkt):
    """(sender, media, base, fb_count, [(seq, arrival_us or None)]) of one feedback packet (from its
    RTCP header on); ValueError when it is not one or is cut short."""
    if len(pkt) < 20 or pkt[1] != 205 or pkt[0] & 0x1F != 15:
        raise ValueError("not a transport-wide feedback packet")
    sender, media, base, count, rf = struct.unpack_from("!IIHHI", pkt, 4)
    ref = rf >> 8
    if ref & 0x800000:
        ref -= 1 << 24
    off = 20
    syms = []
    try:
        while len(syms) < count:
            (v,) = struct.unpack_from("!H", pkt, off)
            off += 2
            if not v & 0x8000:                     # run length
                syms += [(v >> 13) & 3] * min(v & 0x1FFF, count - len(syms))
            elif not v & 0x4000:                   # 1-bit vector
                syms += [(v >> (13 - j)) & 1 for j in range(14)][:count - len(syms)]
            else:                                  # 2-bit vector
                syms += [(v >> (12 - 2 * j)) & 3 for j in range(7)][:count - len(syms)]
        t = ref * TWCC_REF_US
        out = []
        for i, sym in enumerate(syms):
            seq = (base + i) & 0xFFFF
            if sym == 0:
                out.append((seq, None))
                continue
            if sym == 1:
                d = pkt[off]
                off += 1
            else:
                (d,) = struct.unpack_from("!h", pkt, off)
                off += 2
            t += d * TWCC_TICK_US
            out.append((seq, t))
    except (struct.error, IndexError):
        raise ValueError("transport-wide feedback cut short")
    return sender, media, base, rf & 0xFF, out


def build_remb(sender, bps, ssrcs):
    """RTCP REMB (draft-alvestrand-rmcat-remb): bitrate as 18-bit mantissa and 6-bit exponent."""
    exp = 0
    while bps >> exp > 0x3ffff:
        exp += 1
    mant = bps >> exp
    fci = b'REMB' + struct.pack('!B', len(ssrcs)) + struct.pack('!I', (exp << 18 | mant))[1:]
    fci += b''.join(struct.pack('!I', s) for s in ssrcs)
    body = struct.pack('!II', sender, 0) + fci
    return struct.pack('!BBH', 0x80 | 15, 206, len(body) // 4) + body


def rtcp_rr(ssrc):
    return struct.pack('!BBHI', 0x80, 201, 1, ssrc)


def contiguous(seqs):
    """(True, None) when the 16-bit seqs, sorted modulo wrap, have no gap or duplicate."""
    if not seqs:
        return False, 'none'
    ext = []
    base = seqs[0]
    for s in seqs:
        d = (s - base) & 0xffff
        ext.append(d if d < 0x8000 else d - 0x10000)
    ext.sort()
    for a, b in zip(ext, ext[1:]):
        if b != a + 1:
            return False, 'after %d comes %d' % ((a + base) & 0xffff, (b + base) & 0xffff)
    return True, None
