#!/usr/bin/python3
"""
test_wire_checks.py - what comes in is what it says it is (issue 15), through the real dataplane on
a tap, with raw Ethernet frames (AF_PACKET on the kernel side):

1. An untagged port. alice's audio stream to bob (plain meeting), each RTP packet in a frame that is
   either good or broken one way: UDP checksum wrong (a payload bit flipped after it was computed,
   or the field off by one), a VLAN tag (100), two tags (QinQ), another unicast destination MAC,
   broadcast, an IPv4 multicast MAC, IPv4 options (IHL 6, header checksum right), an IPv4 first
   fragment (MF). Each bad frame must be counted under its drop reason (udp_checksum, vlan,
   dst_mac, bad_ip) and never reach bob; the good ones (checksum right, checksum 0 = none on IPv4,
   a priority tag with VLAN id 0) must all reach him unchanged (the positive control), and an ARP
   request to broadcast is still answered.
2. A port with `vlan = 100`: frames tagged 100 are forwarded and bob's copies leave tagged 100
   (seen on the raw socket's PACKET_AUXDATA: the kernel takes the tag off); untagged frames and
   frames of VLAN 200 are counted as `vlan`, never forwarded; an ARP request tagged 100 is answered
   tagged 100.

Negative control (tests/run-all.sh): --no-verify runs part 1 with `verify_udp_checksum = false`: the
corrupted datagrams are then forwarded (with a freshly computed checksum) and the test must fail.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, TAP_MAC, TAP_IFACE, udp_frame, mac_bytes  # noqa: E402
import rtpgen  # noqa: E402

A_AUDIO = 0xA0000001
ALICE, BOB = 6001, 6002
ROUNDS = 6
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 0x10
NO_VERIFY = '--no-verify' in sys.argv[1:]


def raw_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 8 << 20)
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((TAP_IFACE, 0))
    s.setblocking(False)
    return s


def raw_recv_all(s, timeout=1.0):
    """(frame, vlan tci or None) of every frame the kernel side received or sent until none came for
    timeout seconds."""
    out, last = [], time.monotonic()
    while time.monotonic() - last < timeout:
        try:
            data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(32))
        except BlockingIOError:
            time.sleep(0.01)
            continue
        last = time.monotonic()
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        tci = None
        for lvl, typ, val in anc:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(val) >= 20:
                status, _, _, _, _, vtci = struct.unpack_from('=IIIHHH', val)
                if status & TP_STATUS_VLAN_VALID:
                    tci = vtci
        out.append((data, tci))
    return out


def tag(frame, *tcis, tpid0=0x8100):
    """frame with VLAN tags (outer first) put in after the MACs."""
    tags = b''
    for i, t in enumerate(tcis):
        tags += struct.pack('!HH', tpid0 if i == 0 else 0x8100, t)
    return frame[:12] + tags + frame[12:]


def with_ipv4_options(frame):
    """The frame's IPv4 header with 4 bytes of NOP options (IHL 6), its checksums right."""
    ip = bytearray(frame[14:34]) + b'\x01\x01\x01\x01'
    ip[0] = 0x46
    struct.pack_into('!H', ip, 2, struct.unpack_from('!H', ip, 2)[0] + 4)
    struct.pack_into('!H', ip, 10, 0)
    struct.pack_into('!H', ip, 10, mmrtest.ip_checksum(bytes(ip)))
    return frame[:14] + bytes(ip) + frame[34:]


def with_ip_flags(frame, flags):
    ip = bytearray(frame[14:34])
    struct.pack_into('!H', ip, 6, flags)
    struct.pack_into('!H', ip, 10, 0)
    struct.pack_into('!H', ip, 10, mmrtest.ip_checksum(bytes(ip)))
    return frame[:14] + bytes(ip) + frame[34:]


def arp_request(dst_mac=b'\xff' * 6):
    return (dst_mac + mac_bytes(TAP_MAC) + b'\x08\x06' +
            struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac_bytes(TAP_MAC) +
            socket.inet_aton(mmrtest.CLIENT_IP) + bytes(6) + socket.inet_aton(MMR_IP))


def variants(good):
    """(name, expected drop reason or None = forwarded, frame) for one RTP packet's good frame."""
    bad_payload = bytearray(good)
    bad_payload[-1] ^= 0x01
    off = bytearray(good)
    c = struct.unpack_from('!H', off, 40)[0]
    struct.pack_into('!H', off, 40, c + 1 if c < 0xfffe else 1)
    return {
        'good': (None, good),
        'bad checksum (payload bit)': ('udp_checksum', bytes(bad_payload)),
        'bad checksum (field + 1)': ('udp_checksum', bytes(off)),
        'VLAN 100 on an untagged port': ('vlan', tag(good, 0x2000 | 100)),
        'QinQ': ('vlan', tag(good, 100, 100, tpid0=0x88a8)),
        'another unicast MAC': ('dst_mac', bytes.fromhex('020000000199') + good[6:]),
        'broadcast UDP': ('dst_mac', b'\xff' * 6 + good[6:]),
        'IPv4 multicast MAC': ('dst_mac', bytes.fromhex('01005e000001') + good[6:]),
        'IPv4 options': ('bad_ip', with_ipv4_options(good)),
        'IPv4 first fragment (MF)': ('bad_ip', with_ip_flags(good, 0x2000)),
    }


def part_untagged(c):
    env = MmrEnv('wire_checks', rtcp=False)
    if NO_VERIFY:
        env.extra_dp_conf += 'verify_udp_checksum = false;\n'
    with env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        env.participant('m1', 'alice', ALICE)
        env.participant('m1', 'bob', BOB, role='recvonly')
        env.stream('m1', 'alice', A_AUDIO, 'audio')
        bob = env.udp_socket(BOB)
        raw = raw_socket()
        audio = rtpgen.OpusLike(A_AUDIO)
        time.sleep(0.3)
        st0 = env.stats()
        d0, arp0 = mmrtest.drop_counts(st0), mmrtest.lcore_total(st0, 'arp_replies')

        want, expect = [], {}
        names = list(variants(udp_frame(bytes(20))).keys()) + ['checksum 0 (IPv4: none)', 'priority tag (VLAN 0)']
        for _ in range(ROUNDS):
            for name in names:
                p = audio.next_packet().data
                good = udp_frame(p, sport=ALICE, dst_mac=env.dp_mac)
                if name == 'checksum 0 (IPv4: none)':
                    reason, fr = None, udp_frame(p, sport=ALICE, dst_mac=env.dp_mac, udp_csum=False)
                elif name == 'priority tag (VLAN 0)':
                    reason, fr = None, tag(good, 0x6000)
                else:
                    reason, fr = variants(good)[name]
                raw.send(fr)
                if reason is None:
                    want.append(p)
                else:
                    expect[reason] = expect.get(reason, 0) + 1
            time.sleep(0.005)
        raw.send(arp_request())

        got = env.recv_all(bob, timeout=1.0, max_wait=10)
        c.eq(len(got), len(want), 'bob got exactly the good frames (checksum right, checksum 0, priority tag)')
        c.check(got == want, 'the good packets arrive unchanged and in order',
                'first: got %s want %s' % (got[:1] and got[0][:12].hex(), want[:1] and want[0][:12].hex()))
        time.sleep(0.3)
        st = env.stats()
        d = mmrtest.drop_counts(st)
        delta = {k: d.get(k, 0) - d0.get(k, 0) for k in set(d) | set(d0)}
        c.note('drops during the test: %s' % {k: v for k, v in delta.items() if v})
        for reason, n in sorted(expect.items()):
            c.eq(delta.get(reason, 0), n, 'drops.%s' % reason)
        c.eq(delta.get('unknown_sender', 0) + delta.get('not_for_us', 0), 0,
             'nothing bad got as far as the participant lookup')
        c.check(mmrtest.lcore_total(st, 'arp_replies') > arp0, 'an ARP request to broadcast is still answered',
                '%d -> %d' % (arp0, mmrtest.lcore_total(st, 'arp_replies')))
        c.check(all(env.alive()), 'dataplane and controller alive')
        raw.close()


def part_vlan(c):
    env = MmrEnv('wire_vlan', rtcp=False)
    env.vlan = 100
    with env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        env.participant('m1', 'alice', ALICE)
        env.participant('m1', 'bob', BOB, role='recvonly')
        env.stream('m1', 'alice', A_AUDIO, 'audio')
        raw = raw_socket()
        audio = rtpgen.OpusLike(A_AUDIO)
        time.sleep(0.3)
        raw_recv_all(raw, timeout=0.2)
        d0 = mmrtest.drop_counts(env.stats())
        want, n_bad = [], 0
        for i in range(ROUNDS * 3):
            p = audio.next_packet().data
            good = udp_frame(p, sport=ALICE, dst_mac=env.dp_mac)
            kind = i % 3
            if kind == 0:
                raw.send(tag(good, 0x2000 | 100))
                want.append(p)
            elif kind == 1:
                raw.send(good)                      # untagged on a VLAN port
                n_bad += 1
            else:
                raw.send(tag(good, 200))            # another VLAN
                n_bad += 1
            time.sleep(0.002)
        raw.send(tag(arp_request(), 100))
        frames = raw_recv_all(raw, timeout=1.0)
        copies, arp_tags = [], []
        for fr, tci in frames:
            if len(fr) >= 14 and fr[12:14] == b'\x08\x06':
                arp_tags.append(tci)
                continue
            pu = mmrtest.parse_udp_frame(fr)
            if pu and pu[0].get('dport') == BOB:
                copies.append((pu[1], tci))
        c.eq([pl for pl, _ in copies], want, 'bob\'s copies: exactly the frames tagged 100, unchanged')
        c.check(copies and all(t is not None and t & 0xfff == 100 for _, t in copies),
                'every copy to bob leaves tagged VLAN 100', str([t for _, t in copies][:5]))
        c.check(any(t is not None and t & 0xfff == 100 for t in arp_tags),
                'the ARP request tagged 100 is answered tagged 100', str(arp_tags))
        time.sleep(0.3)
        d = mmrtest.drop_counts(env.stats())
        c.eq(d.get('vlan', 0) - d0.get('vlan', 0), n_bad, 'drops.vlan = the untagged and VLAN 200 frames')
        c.check(all(env.alive()), 'dataplane and controller alive')
        raw.close()


def body(c):
    part_untagged(c)
    if not NO_VERIFY:
        part_vlan(c)


if __name__ == '__main__':
    mmrtest.run_test('test_wire_checks', body)
