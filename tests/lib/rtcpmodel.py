"""
rtcpmodel.py - RTCP for the tests, written from the RFCs independently of lib/rtcp: builders for what
a test client sends (SR, RR, SDES, PLI, FIR, NACK, XR RRTR/DLRR), a parser of what the MMR sends
(compound and reduced-size; raises ValueError on anything malformed), NTP time helpers, and the
RFC 3550 A.3 receiver-report model the MMR's RR blocks are checked against.

RFC 3550 (SR 200, RR 201, SDES 202, BYE 203), RFC 4585 (RTPFB 205 FMT 1 NACK, PSFB 206 FMT 1 PLI),
RFC 5104 (PSFB FMT 4 FIR), RFC 3611 (XR 207: RRTR block 4, DLRR block 5). Standard library only.
"""
import struct
import time

NTP_UNIX = 2208988800


def ntp_from_unix(t):
    """64-bit NTP (32.32) from Unix seconds (float)."""
    sec = int(t)
    return ((sec + NTP_UNIX) << 32) | int((t - sec) * (1 << 32))


def unix_from_ntp(ntp):
    return (ntp >> 32) - NTP_UNIX + (ntp & 0xffffffff) / float(1 << 32)


def ntp_now():
    return ntp_from_unix(time.time())


def middle32(ntp):
    return (ntp >> 16) & 0xffffffff


# ---- builders ---------------------------------------------------------------------------------------

def _hdr(count, pt, body_len):
    assert body_len % 4 == 0
    return struct.pack('!BBH', 0x80 | count, pt, body_len // 4)


def report_block(ssrc, fraction=0, cum_lost=0, ext_high=0, jitter=0, lsr=0, dlsr=0):
    return struct.pack('!IB3sIIII', ssrc, fraction, (cum_lost & 0xffffff).to_bytes(3, 'big'), ext_high, jitter,
                       lsr, dlsr)


def sr(ssrc, ntp, rtp, pkts, octets, blocks=()):
    body = struct.pack('!IQIII', ssrc, ntp, rtp & 0xffffffff, pkts, octets) + b''.join(blocks)
    return _hdr(len(blocks), 200, len(body)) + body


def rr(ssrc, blocks=()):
    body = struct.pack('!I', ssrc) + b''.join(blocks)
    return _hdr(len(blocks), 201, len(body)) + body


def sdes_cname(ssrc, cname):
    c = cname.encode()
    chunk = struct.pack('!IBB', ssrc, 1, len(c)) + c + b'\0'
    chunk += b'\0' * (-len(chunk) % 4)
    return _hdr(1, 202, len(chunk)) + chunk


def pli(sender, media):
    return _hdr(1, 206, 8) + struct.pack('!II', sender, media)


def fir(sender, media, seq):
    body = struct.pack('!IIIB3x', sender, 0, media, seq)
    return _hdr(4, 206, len(body)) + body


def nack(sender, media, pid, blp):
    return _hdr(1, 205, 12) + struct.pack('!IIHH', sender, media, pid, blp)


def xr_rrtr(ssrc, ntp):
    body = struct.pack('!IBBHQ', ssrc, 4, 0, 2, ntp)
    return _hdr(0, 207, len(body)) + body


def xr_dlrr(ssrc, sub_ssrc, lrr, dlrr):
    body = struct.pack('!IBBHIII', ssrc, 5, 0, 3, sub_ssrc, lrr, dlrr)
    return _hdr(0, 207, len(body)) + body


# ---- parser -----------------------------------------------------------------------------------------

def _block(b):
    ssrc, fraction, cum, ext_high, jitter, lsr, dlsr = struct.unpack('!IB3sIIII', b)
    cum = int.from_bytes(cum, 'big')
    if cum & 0x800000:
        cum -= 1 << 24
    return dict(ssrc=ssrc, fraction=fraction, cum_lost=cum, ext_high=ext_high, jitter=jitter, lsr=lsr,
                dlsr=dlsr)


def parse(data):
    """The packets of an RTCP datagram as dicts {'pt', 'fmt', 'ssrc', ...}; ValueError if malformed."""
    out = []
    off = 0
    if len(data) < 4:
        raise ValueError('short')
    while off < len(data):
        if len(data) - off < 4:
            raise ValueError('header cut at %d' % off)
        b0, pt, words = struct.unpack_from('!BBH', data, off)
        if b0 >> 6 != 2:
            raise ValueError('version %d' % (b0 >> 6))
        if b0 & 0x20:
            raise ValueError('padding (the MMR sends none)')
        n = (words + 1) * 4
        if off + n > len(data):
            raise ValueError('length %d past the end' % n)
        body = data[off + 4:off + n]
        cnt = b0 & 0x1f
        p = {'pt': pt, 'fmt': cnt}
        if pt == 200:
            if len(body) != 24 + 24 * cnt:
                raise ValueError('SR length')
            p['ssrc'], p['ntp'], p['rtp'], p['pkts'], p['octets'] = struct.unpack_from('!IQIII', body)
            p['blocks'] = [_block(body[24 + 24 * i:48 + 24 * i]) for i in range(cnt)]
        elif pt == 201:
            if len(body) != 4 + 24 * cnt:
                raise ValueError('RR length')
            p['ssrc'], = struct.unpack_from('!I', body)
            p['blocks'] = [_block(body[4 + 24 * i:28 + 24 * i]) for i in range(cnt)]
        elif pt == 202:
            chunks, pos = [], 0
            for _ in range(cnt):
                ssrc, = struct.unpack_from('!I', body, pos)
                pos += 4
                items = {}
                while body[pos] != 0:
                    t, ln = body[pos], body[pos + 1]
                    items[t] = body[pos + 2:pos + 2 + ln].decode()
                    pos += 2 + ln
                pos += 1
                pos += -pos % 4
                chunks.append((ssrc, items.get(1)))
            if pos != len(body):
                raise ValueError('SDES length')
            p['chunks'] = chunks
            p['ssrc'] = chunks[0][0] if chunks else 0
        elif pt in (205, 206):
            p['ssrc'], p['media'] = struct.unpack_from('!II', body)
            fci = body[8:]
            if pt == 205 and cnt == 1:
                p['nack'] = [struct.unpack_from('!HH', fci, i) for i in range(0, len(fci), 4)]
            elif pt == 206 and cnt == 4:
                p['fir'] = [struct.unpack_from('!IB', fci, i) for i in range(0, len(fci), 8)]
            elif pt == 206 and cnt == 1 and fci:
                raise ValueError('PLI with FCI')
        elif pt == 207:
            p['ssrc'], = struct.unpack_from('!I', body)
            pos, blocks = 4, []
            while pos < len(body):
                bt, _, bl = struct.unpack_from('!BBH', body, pos)
                bb = body[pos + 4:pos + 4 + 4 * bl]
                if bt == 4:
                    blocks.append(('rrtr', struct.unpack('!Q', bb)[0]))
                elif bt == 5:
                    blocks.append(('dlrr', [struct.unpack_from('!III', bb, i) for i in range(0, len(bb), 12)]))
                else:
                    blocks.append((bt, bb))
                pos += 4 + 4 * bl
            if pos != len(body):
                raise ValueError('XR length')
            p['xr'] = blocks
        out.append(p)
        off += n
    return out


def is_rtcp(data):
    return len(data) >= 2 and data[0] >> 6 == 2 and 192 <= data[1] <= 223


# ---- the receiver-report model (RFC 3550 A.1, A.3) ----------------------------------------------------

class RecvModel:
    """What the MMR received of one stream, packet by packet (no reordering in these tests): the
    report block values it must send at any point."""

    def __init__(self):
        self.base = None
        self.max_ext = None
        self.received = 0
        self.prior_expected = 0
        self.prior_received = 0
        self.history = []          # (ext seq, received count so far)

    def add(self, seq):
        if self.max_ext is None:
            ext = seq
            self.base = ext
        else:
            ext = self.max_ext - (self.max_ext & 0xffff) + seq
            if ext < self.max_ext - 0x8000:
                ext += 0x10000
        self.max_ext = ext
        self.received += 1
        self.history.append((ext, self.received))

    def at(self, ext_high):
        """(expected, received) when the highest extended seq received was ext_high; None if never."""
        for ext, rec in self.history:
            if ext == ext_high:
                return ext_high - self.base + 1, rec
        return None

    def block(self, ext_high):
        """(cum_lost, fraction) the block built at ext_high carries, and moves the interval on."""
        er = self.at(ext_high)
        if er is None:
            return None
        expected, rec = er
        lost = expected - rec
        exp_int = expected - self.prior_expected
        rec_int = rec - self.prior_received
        lost_int = exp_int - rec_int
        self.prior_expected, self.prior_received = expected, rec
        fraction = 0 if exp_int == 0 or lost_int <= 0 else (lost_int << 8) // exp_int
        return lost, fraction
