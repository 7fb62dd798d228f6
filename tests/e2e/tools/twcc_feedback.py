#!/usr/bin/python3
"""
twcc_feedback.py - the e2e receivers' transport-wide congestion control feedback (RTCP RTPFB FMT 15,
draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1), for test_bwe_svc.py on
tests/lib/twccmodel.py's builder and parser (written apart from the MMR's lib/rtcp/twcc.c, so the two
check each other), plus the reading of the transport-cc header extension (RFC 8285 one-byte and
two-byte forms).

TwccReceiver: on_packet(twcc_seq, arrival_us) for every RTP packet that carries the extension, then
every 100 ms build(sender_ssrc, media_ssrc) -> one feedback packet (bytes) for the packets since the
last one (None when nothing new): base = the first sequence number not reported yet, one status per
sequence number up to the highest received (not received / received with a small 1-byte delta /
received with a large or negative 2-byte delta, in 2-bit status vector chunks of 7), the reference
time (arrival of the first received packet, in 64 ms units, 24 bits) and the receive deltas in
250 us units, each relative to the previous received packet's reported time (rounding does not
accumulate). A packet arriving after its sequence number was reported as lost is not reported again
(counted late). parse() reads a packet back (the module's self-test and the test's own checks).

Python standard library only.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import twccmodel  # noqa: E402  (the tests' one TWCC feedback builder and parser)


def find_ext(pkt, ext_id):
    """The value bytes of RTP header extension element ext_id (None: absent or malformed)."""
    if len(pkt) < 12 or not pkt[0] & 0x10:
        return None
    off = 12 + 4 * (pkt[0] & 0x0F)
    if off + 4 > len(pkt):
        return None
    profile, words = struct.unpack_from("!HH", pkt, off)
    off += 4
    end = off + 4 * words
    if end > len(pkt):
        return None
    if profile == 0xBEDE:                 # one-byte form
        while off < end:
            b = pkt[off]
            if b == 0:
                off += 1
                continue
            eid, ln = b >> 4, (b & 0x0F) + 1
            if eid == 15:
                return None
            if off + 1 + ln > end:
                return None
            if eid == ext_id:
                return pkt[off + 1:off + 1 + ln]
            off += 1 + ln
    elif profile & 0xFFF0 == 0x1000:      # two-byte form
        while off < end:
            if pkt[off] == 0:
                off += 1
                continue
            if off + 2 > end:
                return None
            eid, ln = pkt[off], pkt[off + 1]
            if off + 2 + ln > end:
                return None
            if eid == ext_id:
                return pkt[off + 2:off + 2 + ln]
            off += 2 + ln
    return None


def add_ext(pkt, ext_id, value):
    """pkt (an RTP packet without extension or CSRCs) with a one-byte-form extension element."""
    if pkt[0] & 0x1F:
        raise ValueError("add_ext wants a packet without CSRCs or extension")
    body = bytes([(ext_id << 4) | (len(value) - 1)]) + value
    body += b"\0" * (-len(body) % 4)
    return bytes([pkt[0] | 0x10]) + pkt[1:12] + struct.pack("!HH", 0xBEDE, len(body) // 4) + body + pkt[12:]


class TwccReceiver:
    def __init__(self):
        self.arrivals = {}        # unwrapped seq -> arrival us
        self.next = None          # first unwrapped seq not reported yet
        self.high = None          # highest unwrapped seq seen
        self.fb_count = 0
        self.late = 0
        self.sent = 0

    def _unwrap(self, seq):
        if self.high is None:
            return seq + 65536
        return self.high + ((seq - self.high + 32768) & 0xFFFF) - 32768

    def on_packet(self, seq, arrival_us):
        u = self._unwrap(seq)
        if self.next is None:
            self.next = u
        if u < self.next:
            self.late += 1
            return
        if self.high is None or u > self.high:
            self.high = u
        self.arrivals.setdefault(u, arrival_us)

    def build(self, sender_ssrc, media_ssrc):
        if self.next is None or self.high is None or self.high < self.next:
            return None
        base, count = self.next, self.high - self.next + 1
        if count > 0xFFFF:
            base, count = self.high - 0xFFFF + 1, 0xFFFF
        recv = [(u, self.arrivals[u]) for u in range(base, base + count) if u in self.arrivals]
        if not recv:
            return None
        ref = recv[0][1] // twccmodel.TWCC_REF_US
        pkt = twccmodel.build_twcc(sender_ssrc, media_ssrc, base & 0xFFFF, ref, self.fb_count & 0xFF,
                                   [self.arrivals.get(u) for u in range(base, base + count)])
        self.fb_count += 1
        self.sent += 1
        for u in range(base, base + count):
            self.arrivals.pop(u, None)
        self.next = base + count
        return pkt


parse = twccmodel.parse_twcc


def _selftest():
    r = TwccReceiver()
    arr = {65530: 1000000, 65531: 1000300, 65533: 1001000, 0: 1200000, 1: 1199000, 3: 1300250}
    for s, t in arr.items():
        r.on_packet(s, t)
    pkt = r.build(1, 2)
    _, _, base, n, st = parse(pkt)
    assert base == 65530 and n == 0 and len(st) == 10, (base, n, st)
    for seq, t in st:
        if seq in arr:
            assert abs(t - arr[seq]) < 250, (seq, t, arr[seq])
        else:
            assert t is None, (seq, t)
    r.on_packet(2, 1300000)          # already reported lost: late
    assert r.late == 1 and r.build(1, 2) is None
    r.on_packet(4, 1400000)
    _, _, base, n, st = parse(r.build(1, 2))
    assert base == 4 and n == 1 and st == [(4, 1400000)], (base, n, st)
    p = add_ext(bytes([0x80, 96, 0, 1]) + b"\0" * 8 + b"xy", 3, struct.pack("!H", 513))
    assert find_ext(p, 3) == b"\x02\x01" and p.endswith(b"xy")
    print("twcc_feedback self-test ok")


if __name__ == "__main__":
    _selftest()
