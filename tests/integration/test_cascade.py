#!/usr/bin/python3
"""
test_cascade.py - cascading (issue 16): one meeting carried by two MMR hosts, each a real
mmr-dataplane + mmr-controller in a network namespace of its own (mmrtest.MmrEnv, two at once), joined
by an MMR-to-MMR trunk: on host A a participant `_trunk.b` (participant add --trunk) whose address is
a relay in A's namespace, on host B `_trunk.a` the same in B's; the relay (this process) carries the
datagrams between the two namespaces and drops chosen ones (loss on the trunk). The trunk is an
ordinary participant on each side: A's `_trunk.b` is subscribed at the top to A's own streams; on B,
`_trunk.a` publishes them (same SSRCs, the RTX SSRC A gave `_trunk.b`'s subscription) and B's
receivers are subscribed to them like to any stream.

Checks: alice (publisher on A: VP8 L1T3 video with RTX, Opus-like audio) reaches bob (A) and carol
(B), every video packet once, the ones dropped on the trunk repaired: B NACKs `_trunk.a`, A answers
with RTX on the trunk (nack_in on A's `_trunk.b`, counters nack_out/repaired on B); dave (publisher on
B: audio) reaches bob across the trunk the other way; every stream crosses the trunk once (the
relay's count per SSRC: each input once, plus only the RTX asked for); a second trunk on A
(`_trunk.c`) is subscribed to alice's streams but not to `_trunk.b`'s (a stream crosses once, from
its own host); a trunk name without --trunk, --trunk with another name, and a trunk in an SRTP
meeting (its keys are the zone's: zone_cascade.h, not wired yet) are refused.
--rtcp-off (negative control, tests/run-all.sh): the trunks take no RTCP feedback (--rtcp none):
the loss on the trunk is not repaired and the repair check must FAIL.
"""
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP, MMR_IP, MMR_PORT  # noqa: E402
import rtpgen  # noqa: E402
from rtpgen import parse_rtp  # noqa: E402

RTCP_OFF = '--rtcp-off' in sys.argv
M = 'casc'
VIDEO, AUDIO, DAVE_AUDIO = 0x7A000001, 0x7A000002, 0x7B000001
PT_RTX = 97
PORTS = {'alice': 6101, 'bob': 6102, 'carol': 6103, 'dave': 6104}
TRUNK_A, TRUNK_B = 7101, 7102      # the relay's sockets: A's _trunk.b, B's _trunk.a
FRAMES = 40                        # 3 packets each
DROP_IDX = (20, 21, 50, 77)        # inputs dropped on the trunk A -> B (first copy only)
PACE = 0.004


class Relay(threading.Thread):
    """The wire between the hosts: a datagram to sa (in A's namespace) goes on from sb to B's MMR, one
    to sb goes on from sa to A's MMR; A -> B video packets whose seq is in self.drop are dropped once."""

    def __init__(self, sa, sb):
        super().__init__(daemon=True)
        self.sa, self.sb = sa, sb
        self.drop = set()
        self.count = {'ab': {}, 'ba': {}}    # direction -> ssrc -> RTP packets
        self.rtcp = {'ab': 0, 'ba': 0}
        self.dropped = []
        self.stop = False

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.sa, self.sb], [], [], 0.05)
            for s in r:
                while True:
                    try:
                        d = s.recv(4096)
                    except BlockingIOError:
                        break
                    way, out = ('ab', self.sb) if s is self.sa else ('ba', self.sa)
                    if rtpgen.is_rtcp(d):
                        self.rtcp[way] += 1
                    elif len(d) >= 12:
                        p = parse_rtp(d)
                        if way == 'ab' and p.ssrc == VIDEO and p.seq in self.drop:
                            self.drop.discard(p.seq)
                            self.dropped.append(p.seq)
                            continue
                        self.count[way][p.ssrc] = self.count[way].get(p.ssrc, 0) + 1
                    try:
                        out.sendto(d, (MMR_IP, MMR_PORT))
                    except OSError:
                        pass


def sub_of(env, subscriber, ssrc):
    for s in env.ctl('sub', 'list', M, json=True).stdout.get('subscriptions', []):
        if s.get('subscriber') == subscriber and s.get('ssrc') == ssrc:
            return s
    return None


def body(c):
    rtcp = ['--rtcp', 'none'] if RTCP_OFF else []
    with MmrEnv('cascade-a') as a:
        sock_a = {n: a.udp_socket(PORTS[n]) for n in ('alice', 'bob')}
        relay_a = a.udp_socket(TRUNK_A)
        with MmrEnv('cascade-b') as b:
            sock_b = {n: b.udp_socket(PORTS[n]) for n in ('carol', 'dave')}
            relay_b = b.udp_socket(TRUNK_B)
            for env in (a, b):
                env.wait_dp_attached(10)
                env.ctl('meeting', 'create', M, '--plain')
            # -- the names: reserved for trunks
            cp = a.ctl('participant', 'add', M, '_trunk.x', '--addr', CLIENT_IP, '--port', 7199, check=False)
            c.check(cp.returncode != 0 and 'is for trunks' in cp.stdout + cp.stderr,
                    'a participant named _trunk.* without --trunk is refused', cp.stdout + cp.stderr)
            cp = a.ctl('participant', 'add', M, 'zed', '--trunk', '--addr', CLIENT_IP, '--port', 7199, check=False)
            c.check(cp.returncode != 0 and 'is for trunks' in cp.stdout + cp.stderr,
                    'participant add --trunk with another name is refused', cp.stdout + cp.stderr)
            a.ctl('meeting', 'create', 'sec', '--srtp', 'AEAD_AES_128_GCM')
            cp = a.ctl('participant', 'add', 'sec', '_trunk.b', '--trunk', '--addr', CLIENT_IP, '--port', 7199,
                       check=False)
            c.check(cp.returncode != 0 and 'keys come from the zone' in cp.stdout + cp.stderr,
                    'a trunk in an SRTP meeting is refused (its keys are the zone\'s)', cp.stdout + cp.stderr)
            # -- host A: alice publishes, bob receives, the trunk to B
            a.ctl('participant', 'add', M, 'alice', '--addr', CLIENT_IP, '--port', PORTS['alice'], '--role', 'sendonly')
            a.ctl('stream', 'add', M, 'alice', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
            a.ctl('stream', 'add', M, 'alice', '--ssrc', AUDIO, '--kind', 'audio', '--codec', 'opus')
            a.ctl('participant', 'add', M, 'bob', '--addr', CLIENT_IP, '--port', PORTS['bob'], '--role', 'recvonly')
            a.ctl('participant', 'add', M, '_trunk.b', '--trunk', '--addr', CLIENT_IP, '--port', TRUNK_A,
                  '--rtx', '%d:%d' % (rtpgen.PT_VP8, PT_RTX), *rtcp)
            tv = sub_of(a, '_trunk.b', VIDEO)
            c.check(tv is not None and tv.get('target') == 2 and tv.get('out_ssrc') == VIDEO and tv.get('rtx_ssrc'),
                    "A: _trunk.b subscribed to alice's video at the top, her SSRC, an RTX SSRC", tv)
            rtx_ssrc = (tv or {}).get('rtx_ssrc') or 0
            # -- host B: the trunk to A publishes A's streams; carol receives; dave publishes audio
            b.ctl('participant', 'add', M, '_trunk.a', '--trunk', '--addr', CLIENT_IP, '--port', TRUNK_B, *rtcp)
            b.ctl('stream', 'add', M, '_trunk.a', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8', '--layers', 3,
                  '--rtx-ssrc', rtx_ssrc, '--rtx-pt', PT_RTX)
            b.ctl('stream', 'add', M, '_trunk.a', '--ssrc', AUDIO, '--kind', 'audio', '--codec', 'opus')
            b.ctl('participant', 'add', M, 'carol', '--addr', CLIENT_IP, '--port', PORTS['carol'], '--role', 'recvonly')
            b.ctl('participant', 'add', M, 'dave', '--addr', CLIENT_IP, '--port', PORTS['dave'], '--role', 'sendonly')
            b.ctl('stream', 'add', M, 'dave', '--ssrc', DAVE_AUDIO, '--kind', 'audio', '--codec', 'opus')
            # back on A: the trunk publishes B's streams (dave's audio)
            a.ctl('stream', 'add', M, '_trunk.b', '--ssrc', DAVE_AUDIO, '--kind', 'audio', '--codec', 'opus')
            # a third host's trunk on A: takes A's own streams, never another trunk's
            a.ctl('participant', 'add', M, '_trunk.c', '--trunk', '--addr', CLIENT_IP, '--port', 7103)
            c.check(sub_of(a, '_trunk.c', VIDEO) is not None and sub_of(a, '_trunk.c', DAVE_AUDIO) is None,
                    "A: _trunk.c subscribed to alice's video, not to _trunk.b's (dave's) audio")
            c.check(sub_of(a, '_trunk.b', DAVE_AUDIO) is None and sub_of(a, 'bob', DAVE_AUDIO) is not None,
                    "A: bob subscribed to dave's audio from _trunk.b, _trunk.b not to its own")
            for env in (a, b):
                env.wait_dp_attached(10)

            relay = Relay(relay_a, relay_b)
            gen = rtpgen.Vp8L1T3(VIDEO, seq=1000, keyframe_interval=0, pkts_per_frame=3, payload_size=300)
            vin = [p for f in gen.frames(FRAMES) for p in f.packets]
            ain = rtpgen.OpusLike(AUDIO).packets(len(vin))
            din = rtpgen.OpusLike(DAVE_AUDIO, seq=500).packets(len(vin))
            relay.drop = {vin[i].seq for i in DROP_IDX}
            relay.start()
            try:
                got = {n: [] for n in ('bob', 'carol')}
                for i, p in enumerate(vin):
                    a.send(sock_a['alice'], p.data)
                    if i % 3 == 0:
                        a.send(sock_a['alice'], ain[i // 3].data)
                        b.send(sock_b['dave'], din[i // 3].data)
                    time.sleep(PACE)
                    got['bob'] += a.recv_all(sock_a['bob'], timeout=0.0005, max_wait=0.001)
                    got['carol'] += b.recv_all(sock_b['carol'], timeout=0.0005, max_wait=0.001)
                got['bob'] += a.recv_all(sock_a['bob'], timeout=0.8, max_wait=5)
                got['carol'] += b.recv_all(sock_b['carol'], timeout=0.8, max_wait=5)
            finally:
                relay.stop = True
                relay.join(2)
            n_audio = len(vin) // 3 + (1 if len(vin) % 3 else 0)

            def media(pkts, ssrc):
                return [parse_rtp(d) for d in pkts if not rtpgen.is_rtcp(d) and len(d) >= 12 and
                        parse_rtp(d).ssrc == ssrc]

            c.eq(sorted(relay.dropped), sorted(vin[i].seq for i in DROP_IDX), 'the relay dropped %d video packets '
                 'A -> B once each' % len(DROP_IDX))
            bv = media(got['bob'], VIDEO)
            c.eq(len(bv), len(vin), 'bob (A, local): every video packet of alice')
            c.eq(len(media(got['bob'], DAVE_AUDIO)), n_audio, "bob (A): every audio packet of dave (B), across the trunk")
            cv = media(got['carol'], VIDEO)
            seqs = [p.seq for p in cv]
            c.eq(len(media(got['carol'], AUDIO)), n_audio, "carol (B): every audio packet of alice (A), across the trunk")
            c.check(len(cv) == len(vin) and len(set(seqs)) == len(vin) and max(seqs) - min(seqs) == len(vin) - 1,
                    'carol (B): every video packet of alice, the ones lost on the trunk repaired by NACK/RTX '
                    'across it, once each', 'got %d distinct of %d' % (len(set(seqs)), len(vin)))
            # each stream crosses once
            ab, ba = relay.count['ab'], relay.count['ba']
            c.eq(ab.get(VIDEO, 0), len(vin) - len(DROP_IDX), 'A -> B: alice\'s video crossed once per packet '
                 '(less the dropped)')
            c.eq(ab.get(AUDIO, 0), n_audio, 'A -> B: alice\'s audio crossed once per packet')
            c.eq(ab.get(rtx_ssrc, 0), 0 if RTCP_OFF else len(DROP_IDX), 'A -> B: RTX for the dropped packets only')
            c.eq(ba.get(DAVE_AUDIO, 0), n_audio, 'B -> A: dave\'s audio crossed once per packet')
            c.eq(sorted(set(ab) | set(ba)), sorted({VIDEO, AUDIO, DAVE_AUDIO, rtx_ssrc} - ({rtx_ssrc} if RTCP_OFF else set())),
                 'nothing else crossed (no stream went back)')
            pa, pb = mmrtest.participant_counters(a, M, '_trunk.b'), mmrtest.participant_counters(b, M, '_trunk.a')
            c.note('A _trunk.b: nack_in %s rtcp_in %s rtcp_out %s; B _trunk.a: rtcp_in %s rtcp_out %s; relay rtcp %s'
                   % (pa.get('nack_in'), pa.get('rtcp_in'), pa.get('rtcp_out'), pb.get('rtcp_in'),
                      pb.get('rtcp_out'), relay.rtcp))
            c.check(pa.get('nack_in', 0) >= len(DROP_IDX), "A: NACKs from B on _trunk.b (nack_in)", pa.get('nack_in'))
            sb = mmrtest.stream_stats(b.stats(), VIDEO) or {}
            c.note('B stream %#x: %s' % (VIDEO, {k: v for k, v in sb.items() if k in ('nack_out', 'rtx_in', 'repaired')}))
            c.check(sb.get('repaired', 0) == len(DROP_IDX), 'B: the %d lost on the trunk counted repaired'
                    % len(DROP_IDX), sb.get('repaired'))


if __name__ == '__main__':
    mmrtest.run_test('test_cascade' + (' --rtcp-off' if RTCP_OFF else ''), body)
