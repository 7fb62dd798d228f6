#!/usr/bin/python3
"""
test_dp_capture.py - secondary processes attach to a running mmr-dataplane (issue 14): started as a
primary process with its own --file-prefix (MmrEnv(attachable=True): no --in-memory) and
rte_pdump_init() after EAL init. While a meeting's audio flows (alice sends to bob and carol):
`dpdk-proc-info --file-prefix=X -- --stats` shows the MMR's port and its packets;
`dpdk-dumpcap --file-prefix=X -i 0 -w F.pcapng -c 100` captures 100 packets, read back here
(pcapng, Python) as UDP/RTP with alice's SSRC in both directions (her packets in, the copies out).
Negative control: dumpcap against a file prefix no process has fails. At the end the hugepage
files of the prefix are gone (the harness removes them).
"""
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

SSRC = 0x0CA97001
PORTS = {'alice': 6301, 'bob': 6302, 'carol': 6303}
PPS = 300



def pcapng_packets(path):
    """The packet data of every Enhanced Packet Block of a pcapng file (little-endian sections)."""
    data = open(path, 'rb').read()
    off, out = 0, []
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from('<II', data, off)
        if blen < 12 or off + blen > len(data):
            break
        if btype == 6:    # EPB: interface, ts hi, ts lo, captured len, original len, data
            cap = struct.unpack_from('<I', data, off + 20)[0]
            out.append(data[off + 28:off + 28 + cap])
        off += blen
    return out


def udp_rtp_ssrc(frame):
    """(src port, dst port, RTP SSRC) of an Ethernet/IPv4/UDP frame carrying RTP, else None."""
    if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b'\x08\x00':
        return None
    ihl = (frame[14] & 0x0f) * 4
    if frame[14 + 9] != 17:
        return None
    u = 14 + ihl
    sport, dport = struct.unpack_from('!HH', frame, u)
    r = u + 8
    if frame[r] >> 6 != 2:
        return None
    return sport, dport, struct.unpack_from('!I', frame, r + 8)[0]


def body(c):
    if not mmrtest.hugepages_usable():
        c.check(False, 'hugepages usable (secondary processes need them): scripts/hugepages.sh')
        return
    with MmrEnv('dp_capture', attachable=True) as env:
        env.wait_dp_attached(10)
        prefix = env.shm_name.lstrip('/')
        c.check(not any('--in-memory' in a for a in env.eal_args()), 'the dataplane runs without --in-memory')
        env.meeting('m1')
        for name, port in PORTS.items():
            env.participant('m1', name, port)
        env.stream('m1', 'alice', SSRC, 'audio')
        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        stop, th, sent = mmrtest.paced_sender(
            PPS, lambda i: env.send(socks['alice'], mmrtest.audio_rtp(SSRC, i)))
        pcap = os.path.join(env.tmp, 'capture.pcapng')
        try:
            time.sleep(0.5)
            cp = subprocess.run(['dpdk-proc-info', '--file-prefix=' + prefix, '--no-pci', '--log-level',
                                 'lib.eal:error', '--', '--stats'], capture_output=True, text=True, timeout=30)
            out = cp.stdout
            c.eq(cp.returncode, 0, 'dpdk-proc-info attaches (exit 0)')
            rxm = [int(x) for x in __import__('re').findall(r'RX-packets:\s+(\d+)', out)]
            c.check('NIC statistics for port 0' in out and rxm and rxm[0] > 0,
                    "dpdk-proc-info --stats shows the MMR's port 0 with packets received", out[:400])
            cp = subprocess.run(['dpdk-dumpcap', '--file-prefix=' + prefix, '-i', '0', '-w', pcap, '-c', '100',
                                 '-q'], capture_output=True, text=True, timeout=30)
            c.eq(cp.returncode, 0, 'dpdk-dumpcap -c 100 ran to its end (exit 0)')
            if cp.returncode:
                c.note((cp.stdout + cp.stderr)[-600:])
            bad = subprocess.run(['dpdk-dumpcap', '--file-prefix=mmrt-nobody-1', '-i', '0', '-w',
                                  os.path.join(env.tmp, 'none.pcapng'), '-c', '1', '-q'],
                                 capture_output=True, text=True, timeout=30)
            c.check(bad.returncode != 0, 'negative control: dumpcap with a prefix nobody has fails',
                    bad.returncode)
        finally:
            stop.set()
            th.join()
        pkts = pcapng_packets(pcap) if os.path.exists(pcap) else []
        # dumpcap stops after the burst that reached its count
        c.check(100 <= len(pkts) <= 200, 'the pcapng file holds at least 100 packets', len(pkts))
        rtp_pk = [x for x in (udp_rtp_ssrc(p) for p in pkts) if x]
        ours_in = [x for x in rtp_pk if x[2] == SSRC and x[1] == mmrtest.MMR_PORT]
        ours_out = [x for x in rtp_pk if x[2] == SSRC and x[0] == mmrtest.MMR_PORT]
        c.note('%d packets: %d RTP, %d of alice in, %d copies out' % (len(pkts), len(rtp_pk), len(ours_in),
                                                                    len(ours_out)))
        c.check(len(ours_in) > 20 and len(ours_out) > 40,
                "the capture holds alice's RTP (SSRC %#x) in and the copies out" % SSRC)
        c.check(all(x[1] in (PORTS['bob'], PORTS['carol']) for x in ours_out),
                'the copies go to bob and carol only')
        c.check(env.dp.poll() is None, 'the dataplane still runs after the capture')
    left = [n for n in os.listdir('/dev/hugepages') if n.startswith(prefix + 'map_')] \
        if os.path.isdir('/dev/hugepages') else []
    c.eq(left, [], 'no hugepage files of the prefix left after the run')


if __name__ == '__main__':
    mmrtest.run_test('test_dp_capture', body)
