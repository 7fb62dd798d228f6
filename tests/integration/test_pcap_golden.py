#!/usr/bin/python3
"""
test_pcap_golden.py - golden-file test on net_pcap: the dataplane reads an input pcap built by rtpgen
and writes what it sends to out.pcap; the test computes the exact expected output (rtpgen's model of
the layer selector) and compares frame by frame: MACs, addresses, ports, checksums, RTP sequence
numbers, SSRCs, PictureIDs, TL0PICIDX and payload bytes.

Ordering (net_pcap reads its rx_pcap as soon as the port polls, before the controller could have
programmed anything): the harness gives net_pcap a FIFO as rx_pcap (MmrEnv(vdev='pcap')). The EAL
opens it at probe time and gets only the pcap file header; the test then starts the controller,
programs the meeting (each mmrctl call returns once the dataplane applied it), and only then writes
the packets into the FIFO and closes it. No sleep decides anything.

Input: 4 participants on distinct addresses; alice sends VP8 L1T3 (2 packets per frame, keyframe every
24 frames) and Opus-like audio; bob (T0, own out SSRC), carol (T1), dave (T2, own next-hop MAC)
receive; plus an ARP request, an ICMP echo request and a few packets that must be dropped.
The dataplane runs with `rtcp = false` (its RTCP input is counted as drop `rtcp`, and it sends no
reports of its own, which would not be part of this byte-exact model; test_rtcp.py covers them).
The input and expected output are left in build/test-logs/pcap_golden/ as in.pcap / expected.pcap.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, MMR_IP, MMR_PORT, TAP_MAC, udp_frame, mac_bytes  # noqa: E402
import rtpgen  # noqa: E402

VIDEO, AUDIO = 0x5EED0001, 0x5EED0002
PEERS = {  # name: (address, port, target, out ssrc, mac)
    'alice': ('198.51.100.11', 6001, None, None, None),
    'bob': ('198.51.100.12', 6002, 0, 0x0B0B0001, None),
    'carol': ('198.51.100.13', 6003, 1, None, None),
    'dave': ('198.51.100.14', 6004, 2, None, '02:00:00:00:0d:0d'),
}
N_FRAMES = 48


def arp_request(sha, spa, tpa):
    return (b'\xff' * 6 + mac_bytes(sha) + b'\x08\x06' +
            struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac_bytes(sha) + socket.inet_aton(spa) +
            bytes(6) + socket.inet_aton(tpa))


def icmp_echo(dst_mac, src_ip, dst_ip, ident, seq, data):
    icmp = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + data
    icmp = icmp[:2] + struct.pack('!H', mmrtest.ip_checksum(icmp)) + icmp[4:]
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0x1234, 0, 64, 1, 0,
                      socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    iph = iph[:10] + struct.pack('!H', mmrtest.ip_checksum(iph)) + iph[12:]
    return mac_bytes(dst_mac) + mac_bytes(TAP_MAC) + b'\x08\x00' + iph + icmp


def body(c):
    with MmrEnv('pcap_golden', vdev='pcap', rtcp=False) as env:
        DP_MAC = env.dp_mac     # net_pcap keeps its own MAC
        env.wait_dp_attached(10)
        env.meeting('m1')
        for name, (ip, port, _, _, mac) in PEERS.items():
            env.participant('m1', name, port, addr=ip, mac=mac,
                            role=None if name == 'alice' else 'recvonly')
        env.stream('m1', 'alice', VIDEO, 'video', layers=3)
        env.stream('m1', 'alice', AUDIO, 'audio')
        for name, (_, _, target, out_ssrc, _) in PEERS.items():
            if target is not None:
                env.sub('m1', name, VIDEO, target, out_ssrc)

        a_ip, a_port = PEERS['alice'][0], PEERS['alice'][1]
        video = rtpgen.Vp8L1T3(VIDEO, keyframe_interval=24, pkts_per_frame=2, payload_size=400,
                               seq=65500, picture_id=0x7ff0)   # both wrap during the test
        audio = rtpgen.OpusLike(AUDIO)
        frames = video.frames(N_FRAMES)

        inp = []          # Ethernet frames fed to the dataplane
        sent_rtp = []     # (kind, Packet) in input order
        inp.append(arp_request(TAP_MAC, mmrtest.CLIENT_IP, MMR_IP))
        echo_data = bytes(range(48))
        inp.append(icmp_echo(DP_MAC, mmrtest.CLIENT_IP, MMR_IP, 0x4242, 1, echo_data))
        for i, f in enumerate(frames):
            for p in f.packets:
                inp.append(udp_frame(p.data, src_ip=a_ip, sport=a_port, ip_id=len(inp), dst_mac=DP_MAC))
                sent_rtp.append(('video', p))
            a = audio.next_packet()
            inp.append(udp_frame(a.data, src_ip=a_ip, sport=a_port, ip_id=len(inp), dst_mac=DP_MAC))
            sent_rtp.append(('audio', a))
            if i % 8 == 3:   # must all be dropped
                # unknown sender, unknown SSRC, RTCP, not our port
                inp.append(udp_frame(a.data, src_ip='198.51.100.99', sport=a_port, dst_mac=DP_MAC))
                inp.append(udp_frame(rtpgen.rtp_packet(1, 1, 0x0BADBAD0, 111, bytes(30)),
                                     src_ip=a_ip, sport=a_port, dst_mac=DP_MAC))
                inp.append(udp_frame(rtpgen.rtcp_receiver_report(AUDIO), src_ip=a_ip, sport=a_port,
                                     dst_mac=DP_MAC))
                inp.append(udp_frame(a.data, src_ip=a_ip, sport=a_port, dport=5009, dst_mac=DP_MAC))
        mmrtest.write_pcap(os.path.join(env.logdir, 'in.pcap'), inp)

        # ---- expected output ----------------------------------------------------------------------
        expected = {}   # (dst ip, dst port) -> list of (dst mac, udp payload)
        models = {n: rtpgen.LayerSelModel() for n in PEERS}
        for kind, p in sent_rtp:
            for name, (ip, port, target, out_ssrc, mac) in PEERS.items():
                if name == 'alice':
                    continue
                if kind == 'video':
                    o = models[name].feed(p, target)
                    if o is None:
                        continue
                    data = rtpgen.rewrite_vp8(p.data, o[0], o[1], o[2], out_ssrc or VIDEO)
                else:
                    data = p.data
                expected.setdefault((ip, port), []).append((mac or TAP_MAC, data))
        exp_frames = []
        for (ip, port), lst in expected.items():
            for mac, data in lst:
                exp_frames.append(udp_frame(data, src_ip=MMR_IP, sport=MMR_PORT, dst_ip=ip, dport=port,
                                            src_mac=DP_MAC, dst_mac=mac))
        mmrtest.write_pcap(os.path.join(env.logdir, 'expected.pcap'), exp_frames)
        n_expected = sum(len(v) for v in expected.values()) + 2   # + ARP reply + echo reply

        # ---- feed, then wait for the output to settle -----------------------------------------------
        env.pcap_feed(inp)
        env.pcap_close_input()
        out = []
        deadline = time.monotonic() + (30 if env.asan else 15)
        last_n, still = -1, 0
        while time.monotonic() < deadline:
            out = env.pcap_output()
            if len(out) == last_n and len(out) >= n_expected:
                still += 1
                if still >= 5:
                    break
            else:
                still = 0
            last_n = len(out)
            time.sleep(0.1)
        c.eq(len(out), n_expected, 'output frame count')

        # ---- compare ----------------------------------------------------------------------------------
        got = {}
        arp_replies, echo_replies, other = [], [], []
        for fr in out:
            et = struct.unpack_from('!H', fr, 12)[0]
            if et == 0x0806:
                arp_replies.append(fr)
                continue
            u = mmrtest.parse_udp_frame(fr)
            if u is None:
                if et == 0x0800 and len(fr) > 34 and fr[23] == 1:
                    echo_replies.append(fr)
                else:
                    other.append(fr)
                continue
            info, payload = u
            got.setdefault((info['dst_ip'], info['dport']), []).append((info, payload))
        c.check(not other, 'no unexpected non-UDP frames', [f[:20].hex() for f in other[:3]])

        c.eq(len(arp_replies), 1, 'one ARP reply')
        if arp_replies:
            want = (mac_bytes(TAP_MAC) + mac_bytes(DP_MAC) + b'\x08\x06' +
                    struct.pack('!HHBBH', 1, 0x0800, 6, 4, 2) + mac_bytes(DP_MAC) + socket.inet_aton(MMR_IP) +
                    mac_bytes(TAP_MAC) + socket.inet_aton(mmrtest.CLIENT_IP))
            c.check(arp_replies[0][:42] == want, 'ARP reply: who-has 198.51.100.2 answered with %s' % DP_MAC,
                    arp_replies[0][:42].hex())
        c.eq(len(echo_replies), 1, 'one ICMP echo reply')
        if echo_replies:
            e = echo_replies[0]
            ihl = (e[14] & 0x0f) * 4
            icmp = e[14 + ihl:]
            ok = (e[0:6] == mac_bytes(TAP_MAC) and e[6:12] == mac_bytes(DP_MAC) and
                  e[26:30] == socket.inet_aton(MMR_IP) and e[30:34] == socket.inet_aton(mmrtest.CLIENT_IP) and
                  mmrtest.ip_checksum(bytes(e[14:14 + ihl])) == 0 and icmp[0] == 0 and
                  struct.unpack_from('!HH', icmp, 4) == (0x4242, 1) and
                  icmp[8:8 + len(echo_data)] == echo_data and
                  mmrtest.ip_checksum(bytes(icmp[:8 + len(echo_data)])) == 0)
            c.check(ok, 'ICMP echo reply: addresses swapped, id/seq/data kept, checksums valid', e[:50].hex())

        c.eq(sorted(got), sorted(expected), 'receivers that got copies')
        for (ip, port), want in sorted(expected.items()):
            name = next(n for n, v in PEERS.items() if v[0] == ip)
            have = got.get((ip, port), [])
            c.eq(len(have), len(want), '%s: copy count' % name)
            hdr_bad = [i for i, (info, _) in enumerate(have)
                       if not (info['src_ip'] == MMR_IP and info['sport'] == MMR_PORT and
                               info['src_mac'] == DP_MAC and info['dst_mac'] == want[0][0] and
                               info['ip_csum_ok'] and info['udp_csum_ok'])]
            c.check(not hdr_bad,
                    '%s: Ethernet/IP/UDP headers (MACs, %s:%d, checksums)' % (name, MMR_IP, MMR_PORT),
                    have[hdr_bad[0]][0] if hdr_bad else '')
            diffs = [i for i, ((_, pl), (_, wd)) in enumerate(zip(have, want)) if pl != wd]
            detail = ''
            if diffs:
                i = diffs[0]
                detail = 'copy %d of %d differs: got %s want %s' % (i, len(diffs), have[i][1][:26].hex(),
                                                                   want[i][1][:26].hex())
            c.check(not diffs and len(have) == len(want),
                    '%s: RTP bytes identical (seq, SSRC, PictureID, TL0PICIDX, payload)' % name, detail)

        st = env.stats()
        drops = mmrtest.drop_counts(st)
        c.note('drops: %s' % {k: v for k, v in drops.items() if v})
        n_bad = N_FRAMES // 8
        c.eq(drops.get('unknown_sender', 0), n_bad, 'drops.unknown_sender')
        c.eq(drops.get('unknown_ssrc', 0), n_bad, 'drops.unknown_ssrc')
        c.eq(drops.get('rtcp', 0), n_bad, 'drops.rtcp')
        c.eq(drops.get('not_for_us', 0), n_bad, 'drops.not_for_us')
        c.eq(drops.get('bad_l2', 0), env.pcap_fillers, 'drops.bad_l2 = the harness\'s filler frames')
        c.check(all(env.alive()), 'dataplane and controller alive')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_pcap_golden', body)
