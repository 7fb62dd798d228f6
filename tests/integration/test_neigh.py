#!/usr/bin/env python3
"""
test_neigh.py - the dataplane resolves its next hops itself (issue 14, "Neighbours"): a real
mmr-dataplane on net_tap with NO gateway_mac, only gateway_ipv4 = the tap's kernel side
(198.51.100.1) and ipv4_prefix = 24, fast timers (neigh_reachable_s = 2, neigh_retrans_ms = 200).
The kernel side plays the gateway; an AF_PACKET socket on the tap sees every frame the dataplane
sends and sends the gateway's gratuitous ARP.

 A. Audio from alice to bob (both at the gateway's address), erin (a static `neighbours` entry:
    her MAC, never an ARP) and carol (198.51.100.77, on-link, nobody): the dataplane ARPs for the gateway, the kernel answers with MAC A, bob's copies go to
    A and arrive. Carol's address is never answered: her copies are dropped as neigh_unresolved,
    not one frame to her leaves (negative check), her resolution is counted as failed, and the
    dataplane did ARP for her.
 B. The gateway moves to MAC B (the tap's address changed) and announces it (gratuitous ARP): bob's
    copies go to B at once and arrive again; none to A after the announcement.
 C. The gateway moves back to A silently: the periodic re-probe (unicast to B, unanswered, then
    broadcast) finds A; bob's copies go to A and arrive again.
 D. /mmr/neigh (rte_telemetry) shows the gateway reachable at A and carol's entry failed or
    incomplete; the neigh_* counters of `mmrctl stats` agree.
 E. The gateway stops answering ARP (arp_ignore = 8): after the re-probe its entry fails, bob's
    copies are dropped as neigh_unresolved, none leaves, and the dataplane keeps asking.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402

TOOL = '/usr/bin/dpdk-telemetry.py'
SSRC = 0x4E160001
PORTS = {'alice': 6301, 'bob': 6302, 'carol': 6303, 'dave': 6304, 'erin': 6305}
CAROL_IP = '198.51.100.77'
ERIN_IP = '198.51.100.88'          # a static entry (config `neighbours`)
ERIN_MAC = '02:00:00:00:88:88'
GW_IP = mmrtest.CLIENT_IP
MAC_A = mmrtest.TAP_MAC
MAC_B = '02:00:00:00:0b:0b'
PPS = 100


def sniffer():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 8 << 20)
    s.bind((mmrtest.TAP_IFACE, 0))
    s.setblocking(False)
    return s


udp6, ns = [], []      # IPv6 UDP frames and neighbour solicitations the dataplane sent (drain)


def drain(s):
    """Frames the dataplane sent (source MAC DP_MAC) since the last call: (udp list, arp list);
    IPv6 ones are appended to udp6 / ns."""
    udp, arp = [], []
    dp_mac = mmrtest.mac_bytes(mmrtest.DP_MAC)
    while True:
        try:
            f, addr = s.recvfrom(65535)
        except BlockingIOError:
            return udp, arp
        if addr[2] == socket.PACKET_OUTGOING or f[6:12] != dp_mac:
            continue
        if f[12:14] == b'\x86\xdd' and len(f) >= 62:
            nh = f[20]
            if nh == 58 and f[54] == 135:     # our neighbour solicitation
                ns.append({'dst_mac': ':'.join('%02x' % b for b in f[0:6]),
                           'target': socket.inet_ntop(socket.AF_INET6, f[62:78])})
            elif nh == 17:
                udp6.append({'dst_mac': ':'.join('%02x' % b for b in f[0:6]),
                             'dst_ip': socket.inet_ntop(socket.AF_INET6, f[38:54]),
                             'dport': struct.unpack_from('!H', f, 56)[0]})
            continue
        if f[12:14] == b'\x08\x06' and len(f) >= 42:
            arp.append({'dst_mac': ':'.join('%02x' % b for b in f[0:6]), 'op': struct.unpack_from('!H', f, 20)[0],
                        'tpa': socket.inet_ntoa(f[38:42])})
            continue
        p = mmrtest.parse_udp_frame(f)
        if p:
            udp.append(p[0])


def garp(s, mac, ip):
    """A gratuitous ARP (request, sender = target = ip) from mac, broadcast."""
    m = mmrtest.mac_bytes(mac)
    a = socket.inet_aton(ip)
    f = b'\xff' * 6 + m + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + m + a + b'\0' * 6 + a
    s.send(f + b'\0' * (60 - len(f)))


def query(prefix, *cmds):
    cp = subprocess.run(['/usr/bin/python3', TOOL, '-f', prefix], input='\n'.join(cmds) + '\n',
                        capture_output=True, text=True, timeout=20)
    replies = []
    for line in cp.stdout.splitlines():
        line = line.strip()
        if line.startswith('{'):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            replies.append(list(d.values())[0] if len(d) == 1 else d)
    return dict(zip(cmds, replies))


def ctl_counters(env):
    st = env.stats()
    return {k: mmrtest.find_key(st, k) or 0 for k in
            ('neigh_requests', 'neigh_replies', 'neigh_changes', 'neigh_failed', 'neigh_ignored')}


def run_phase(env, socks, sn, seconds, i0):
    """Send alice's audio for `seconds`; (frames the dataplane sent, datagrams bob got, next seq)."""
    udp, arp = [], []
    got = 0
    i = i0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        env.send(socks['alice'], mmrtest.audio_rtp(SSRC, i & 0xffff))
        i += 1
        time.sleep(1.0 / PPS)
        u, a = drain(sn)
        udp += u
        arp += a
        got += len(mmrtest.MmrEnv.recv_all(socks['bob'], timeout=0))
    time.sleep(0.2)
    u, a = drain(sn)
    udp += u
    arp += a
    got += len(mmrtest.MmrEnv.recv_all(socks['bob'], timeout=0.1))
    return udp, arp, got, i


def body(c):
    env = MmrEnv('neigh', status_interval_ms=0, ipv6=True, asan='--asan' in sys.argv)   # --asan: make asan's build
    env.gateway_conf = ('gateway_ipv4 = "%s"; ipv4_prefix = 24; gateway_ipv6 = "%s"; ipv6_prefix = 64;\n'
                        '    neighbours = ( { ip = "%s"; mac = "%s"; } );'
                        % (GW_IP, mmrtest.CLIENT_IP6, ERIN_IP, ERIN_MAC))
    env.extra_dp_conf += 'neigh_reachable_s = 2;\nneigh_retrans_ms = 200;\nneigh_tries = 3;\n'
    try:
        env.start()
        env.wait_dp_attached(10)
        sn = sniffer()
        env.meeting('m1')
        env.participant('m1', 'alice', PORTS['alice'])
        env.participant('m1', 'bob', PORTS['bob'], role='recvonly')
        env.participant('m1', 'carol', PORTS['carol'], role='recvonly', addr=CAROL_IP)
        env.participant('m1', 'dave', PORTS['dave'], role='recvonly', addr=mmrtest.CLIENT_IP6)
        env.participant('m1', 'erin', PORTS['erin'], role='recvonly', addr=ERIN_IP)
        env.stream('m1', 'alice', SSRC, 'audio')
        socks = {n: env.udp_socket(PORTS[n]) for n in ('alice', 'bob')}
        socks['dave'] = env.udp_socket(PORTS['dave'], ip=mmrtest.CLIENT_IP6)

        # ---- A: resolved by ARP, the kernel answers with A ----
        udp, arp, got, i = run_phase(env, socks, sn, 2.0, 0)
        to_bob = [u for u in udp if u['dst_ip'] == GW_IP and u['dport'] == PORTS['bob']]
        to_carol = [u for u in udp if u['dst_ip'] == CAROL_IP]
        c.check(got >= PPS, 'A: bob receives alice\'s audio through the resolved gateway', got)
        c.check(to_bob and all(u['dst_mac'] == MAC_A for u in to_bob),
                'A: every copy to bob goes to MAC A (the kernel\'s answer)', sorted({u['dst_mac'] for u in to_bob}))
        c.eq(len(to_carol), 0, 'A: no copy to carol (unresolved) leaves the dataplane')
        to_erin = [u for u in udp if u['dst_ip'] == ERIN_IP]
        c.check(len(to_erin) >= PPS and all(u['dst_mac'] == ERIN_MAC for u in to_erin) and
                not any(a['tpa'] == ERIN_IP for a in arp),
                'A: erin\'s copies go to her static MAC, never asked for', (len(to_erin), arp[:3]))
        c.check(any(a['op'] == 1 and a['tpa'] == GW_IP for a in arp) or
                ctl_counters(env)['neigh_requests'] > 0, 'A: ARP requests for the gateway were sent')
        c.check(any(a['op'] == 1 and a['tpa'] == CAROL_IP for a in arp), 'A: ARP requests for carol were sent',
                arp[:5])
        drops = mmrtest.drop_counts(env.stats())
        c.check(drops.get('neigh_unresolved', 0) >= PPS, 'A: carol\'s copies counted as neigh_unresolved',
                drops.get('neigh_unresolved'))
        k = ctl_counters(env)
        c.note('counters after A: %s' % k)
        c.check(k['neigh_replies'] >= 1 and k['neigh_failed'] >= 1,
                'A: neigh_replies (the gateway) and neigh_failed (carol) counted', k)

        # ---- B: the gateway moves to B and announces it ----
        subprocess.run(['ip', 'link', 'set', mmrtest.TAP_IFACE, 'address', MAC_B], check=True)
        garp(sn, MAC_B, GW_IP)
        garp(sn, MAC_B, ERIN_IP)          # a static entry is never overwritten
        time.sleep(0.3)
        drain(sn)
        mmrtest.MmrEnv.recv_all(socks['bob'], timeout=0.05)
        udp, arp, got, i = run_phase(env, socks, sn, 1.5, i)
        to_bob = [u for u in udp if u['dst_ip'] == GW_IP and u['dport'] == PORTS['bob']]
        c.check(to_bob and all(u['dst_mac'] == MAC_B for u in to_bob),
                'B: after the gratuitous ARP every copy to bob goes to MAC B', sorted({u['dst_mac'] for u in to_bob}))
        c.check(got >= PPS, 'B: bob receives again (at MAC B)', got)
        k = ctl_counters(env)
        c.check(k['neigh_changes'] >= 1, 'B: neigh_changes counted', k)
        to_erin = [u for u in udp if u['dst_ip'] == ERIN_IP]
        c.check(to_erin and all(u['dst_mac'] == ERIN_MAC for u in to_erin) and k['neigh_ignored'] >= 1,
                'B: a gratuitous ARP for erin\'s static entry is ignored (counted), her copies unchanged',
                (sorted({u['dst_mac'] for u in to_erin}), k))

        # ---- C: back to A without a word: the re-probe finds it ----
        subprocess.run(['ip', 'link', 'set', mmrtest.TAP_IFACE, 'address', MAC_A], check=True)
        udp, arp, got, i = run_phase(env, socks, sn, 4.5, i)
        to_bob = [u for u in udp if u['dst_ip'] == GW_IP and u['dport'] == PORTS['bob']]
        macs = [u['dst_mac'] for u in to_bob]
        c.check(macs and macs[-1] == MAC_A and set(macs) <= {MAC_A, MAC_B},
                'C: the refresh follows the silent change: bob\'s copies go to A again (never elsewhere)',
                sorted(set(macs)))
        c.check(any(a['op'] == 1 and a['tpa'] == GW_IP and a['dst_mac'] == MAC_B for a in arp) and
                any(a['op'] == 1 and a['tpa'] == GW_IP and a['dst_mac'] == 'ff:ff:ff:ff:ff:ff' for a in arp),
                'C: probed unicast to the known MAC, then broadcast', arp[:6])
        c.check(got >= PPS, 'C: bob receives again (at MAC A)', got)
        k = ctl_counters(env)
        c.check(k['neigh_changes'] >= 2, 'C: neigh_changes counted again', k)

        # ---- D: the table in telemetry ----
        if os.access(TOOL, os.X_OK):
            t = query(env.shm_name.lstrip('/'), '/mmr/neigh').get('/mmr/neigh') or {}
            c.note('/mmr/neigh: %s' % t)
            gw = [e for e in t.values() if isinstance(e, dict) and e.get('ip') == GW_IP]
            ca = [e for e in t.values() if isinstance(e, dict) and e.get('ip') == CAROL_IP]
            c.check(gw and gw[0].get('state') in ('reachable', 'stale') and gw[0].get('mac') == MAC_A and
                    gw[0].get('gateway') == 1, '/mmr/neigh: the gateway reachable at A', gw)
            c.check(ca and ca[0].get('state') in ('failed', 'incomplete') and ca[0].get('refs') == 1,
                    '/mmr/neigh: carol\'s entry unresolved, one receiver', ca)
        else:
            c.check(False, '%s installed (Debian package dpdk)' % TOOL)
        # carol never got anything at all
        c.eq(len([u for u in udp if u['dst_ip'] == CAROL_IP]), 0, 'D: still no copy to carol')

        # ---- F: IPv6: dave (the gateway's IPv6 address, on-link) resolved by neighbour discovery ----
        got6 = len(mmrtest.MmrEnv.recv_all(socks['dave'], timeout=0.1))
        to_dave = [u for u in udp6 if u['dst_ip'] == mmrtest.CLIENT_IP6 and u['dport'] == PORTS['dave']]
        c.check(got6 >= PPS, 'F: dave (IPv6) receives alice\'s audio', got6)
        c.check(to_dave and all(u['dst_mac'] in (MAC_A, MAC_B) for u in to_dave) and to_dave[-1]['dst_mac'] == MAC_A,
                'F: dave\'s copies go to the MAC neighbour discovery found (the tap\'s, A at the end)',
                sorted({u['dst_mac'] for u in to_dave}))
        c.check(any(n['dst_mac'] == '33:33:ff:00:00:01' and n['target'] == mmrtest.CLIENT_IP6 for n in ns),
                'F: a neighbour solicitation to the solicited-node multicast address was sent', ns[:3])

        # ---- E: the gateway stops answering: its entry fails, bob's copies stop (none to a guess) ----
        k0 = ctl_counters(env)
        d0 = mmrtest.drop_counts(env.stats()).get('neigh_unresolved', 0)
        subprocess.run(['sysctl', '-q', '-w', 'net.ipv4.conf.%s.arp_ignore=8' % mmrtest.TAP_IFACE], check=True)
        run_phase(env, socks, sn, 3.5, i)        # reachable 2 s, then 3 probes 200 ms apart: failed
        udp, arp, got, i = run_phase(env, socks, sn, 1.5, i)
        to_bob = [u for u in udp if u['dst_ip'] == GW_IP and u['dport'] == PORTS['bob']]
        k = ctl_counters(env)
        d = mmrtest.drop_counts(env.stats()).get('neigh_unresolved', 0)
        c.check(k['neigh_failed'] > k0['neigh_failed'], 'E: the unanswered gateway\'s entry failed', (k0, k))
        c.eq((len(to_bob), got), (0, 0), 'E: then no copy to bob leaves, bob gets nothing')
        c.check(d >= d0 + PPS, 'E: bob\'s copies counted as neigh_unresolved', (d0, d))
        c.check(any(a['op'] == 1 and a['tpa'] == GW_IP for a in arp), 'E: the dataplane keeps asking', arp[:3])
        c.check(not env.sanitizer_errors(), 'no sanitizer errors')
        config_refusals(c, env)
    finally:
        env.stop()


def config_refusals(c, env):
    """Static entries the dataplane would never use, or could not: refused at start (exit 2, before
    EAL) with the entry named; the running config's own entry (erin, on-link) is the positive side."""
    text = open(os.path.join(env.tmp, 'dataplane.conf')).read()
    good = 'neighbours = ( { ip = "%s"; mac = "%s"; } );' % (ERIN_IP, ERIN_MAC)
    c.check(good in text, 'the running config has erin\'s static entry')
    for bad, want in (
            ('neighbours = ( { ip = "203.0.113.9"; mac = "%s"; } );' % ERIN_MAC,
             'neighbours[0]: the address is neither inside the port'),
            ('neighbours = ( { ip = "%s"; mac = "00:00:00:00:00:00"; } );' % ERIN_IP,
             "neighbours[0]: 'mac' must not be 00:00:00:00:00:00"),
            ('neighbours = ( { ip = "%s"; mac = "%s"; }, { ip = "%s"; mac = "%s"; } );'
             % (ERIN_IP, ERIN_MAC, ERIN_IP, ERIN_MAC), 'neighbours[1]: the same address as neighbours[0]')):
        path = os.path.join(env.tmp, 'bad-neigh.conf')
        with open(path, 'w') as f:
            f.write(text.replace(good, bad))
        cp = subprocess.run([env.dp_bin, '-c', path], capture_output=True, text=True, timeout=30)
        out = cp.stdout + cp.stderr
        c.check(cp.returncode == 2 and want in out, 'config refused: %s' % want, (cp.returncode, out[-300:]))


if __name__ == '__main__':
    mmrtest.run_test('test_neigh', body)
