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
the loss on the trunk is not repaired and the repair check must FAIL. --split-secret (negative control
of part 3): host B has another zone secret: its trunk keys differ, the media does not cross, and the
key check must FAIL.
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
SPLIT_SECRET = '--split-secret' in sys.argv   # negative control of part 3: two zone secrets
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


def sub_of(env, subscriber, ssrc, m=M):
    cp = env.ctl('sub', 'list', m, json=True, check=False)
    for s in (cp.stdout.get('subscriptions', []) if cp.returncode == 0 else []):
        if s.get('subscriber') == subscriber and s.get('ssrc') == ssrc:
            return s
    return None


def media_checks(c, a, b, sock_a, sock_b, relay, m, trunk_b, trunk_a, rtx_ssrc, drops=DROP_IDX, tx=None, rx=None):
    """alice (A) -> bob (A), carol (B) with loss on the trunk; dave (B) -> bob; what crossed. tx[name]:
    what a publisher's packet becomes on the wire (SRTP), rx[name]: a receiver's datagram decrypted (None:
    refused); the identity by default."""
    tx = tx or {}
    rx = rx or {}
    enc = {n: tx.get(n, lambda d: d) for n in ('alice', 'dave')}
    gen = rtpgen.Vp8L1T3(VIDEO, seq=1000, keyframe_interval=0, pkts_per_frame=3, payload_size=300)
    vin = [p for f in gen.frames(FRAMES) for p in f.packets]
    ain = rtpgen.OpusLike(AUDIO).packets(len(vin))
    din = rtpgen.OpusLike(DAVE_AUDIO, seq=500).packets(len(vin))
    relay.drop = {vin[i].seq for i in drops}
    relay.start()
    try:
        got = {n: [] for n in ('bob', 'carol')}
        for i, p in enumerate(vin):
            a.send(sock_a['alice'], enc['alice'](p.data))
            if i % 3 == 0:
                a.send(sock_a['alice'], enc['alice'](ain[i // 3].data))
                b.send(sock_b['dave'], enc['dave'](din[i // 3].data))
            time.sleep(PACE)
            got['bob'] += a.recv_all(sock_a['bob'], timeout=0.0005, max_wait=0.001)
            got['carol'] += b.recv_all(sock_b['carol'], timeout=0.0005, max_wait=0.001)
        got['bob'] += a.recv_all(sock_a['bob'], timeout=0.8, max_wait=5)
        got['carol'] += b.recv_all(sock_b['carol'], timeout=0.8, max_wait=5)
    finally:
        relay.stop = True
        relay.join(2)
    n_audio = len(vin) // 3 + (1 if len(vin) % 3 else 0)
    for n in ('bob', 'carol'):
        if n in rx:
            plain = [rx[n](d) for d in got[n] if not rtpgen.is_rtcp(d)]
            c.check(all(plain), '%s: every packet decrypts under its RECV key' % n,
                    '%d of %d' % (sum(1 for x in plain if x), len(plain)))
            got[n] = [x for x in plain if x]

    def media(pkts, ssrc):
        return [parse_rtp(d) for d in pkts if not rtpgen.is_rtcp(d) and len(d) >= 12 and
                parse_rtp(d).ssrc == ssrc]

    c.eq(sorted(relay.dropped), sorted(vin[i].seq for i in drops), 'the relay dropped %d video packets '
         'A -> B once each' % len(drops))
    bv = media(got['bob'], VIDEO)
    c.eq(len(bv), len(vin), 'bob (A, local): every video packet of alice')
    c.eq(len(media(got['bob'], DAVE_AUDIO)), n_audio, "bob (A): every audio packet of dave (B), across the trunk")
    cv = media(got['carol'], VIDEO)
    seqs = [p.seq for p in cv]
    c.eq(len(media(got['carol'], AUDIO)), n_audio, "carol (B): every audio packet of alice (A), across the trunk")
    if tx:
        pl, want = [p.payload for p in cv], [p.data[parse_rtp(p.data).hdr_len:] for p in vin]
        c.check(pl == want, 'carol (B): the payloads decrypted are alice\'s, in order',
                '%d payloads, %d equal to alice\'s' % (len(pl), sum(1 for x, y in zip(pl, want) if x == y)))
    c.check(len(cv) == len(vin) and len(set(seqs)) == len(vin) and max(seqs) - min(seqs) == len(vin) - 1,
            'carol (B): every video packet of alice, the ones lost on the trunk repaired by NACK/RTX '
            'across it, once each', 'got %d distinct of %d' % (len(set(seqs)), len(vin)))
    # each stream crosses once
    ab, ba = relay.count['ab'], relay.count['ba']
    resent = 0 if RTCP_OFF else len(drops)
    c.eq(ab.get(VIDEO, 0), len(vin) - len(drops) + (0 if rtx_ssrc else resent),
         'A -> B: alice\'s video crossed once per packet (less the dropped%s)'
         % ('' if rtx_ssrc else ', plus their resends on the media SSRC'))
    c.eq(ab.get(AUDIO, 0), n_audio, 'A -> B: alice\'s audio crossed once per packet')
    if rtx_ssrc:
        c.eq(ab.get(rtx_ssrc, 0), resent, 'A -> B: RTX for the dropped packets only')
    c.eq(ba.get(DAVE_AUDIO, 0), n_audio, 'B -> A: dave\'s audio crossed once per packet')
    c.eq(sorted(set(ab) | set(ba)), sorted({VIDEO, AUDIO, DAVE_AUDIO} | ({rtx_ssrc} if rtx_ssrc and resent else set())),
         'nothing else crossed (no stream went back)')
    pa, pb = mmrtest.participant_counters(a, m, trunk_b), mmrtest.participant_counters(b, m, trunk_a)
    c.note('A %s: nack_in %s rtcp_in %s rtcp_out %s; B %s: rtcp_in %s rtcp_out %s; relay rtcp %s'
           % (trunk_b, pa.get('nack_in'), pa.get('rtcp_in'), pa.get('rtcp_out'), trunk_a, pb.get('rtcp_in'),
              pb.get('rtcp_out'), relay.rtcp))
    if not drops:
        return
    # (one FCI entry covers neighbours: 20 and 21 are one)
    c.check(pa.get('nack_in', 0) >= 1, "A: NACKs from B on %s (nack_in)" % trunk_b, pa.get('nack_in'))
    sb = mmrtest.stream_stats(b.stats(), VIDEO) or {}  # (B has one stream of that SSRC)
    c.note('B stream %#x: %s' % (VIDEO, {k: v for k, v in sb.items() if k in ('nack_out', 'rtx_in', 'repaired')}))
    c.check(sb.get('repaired', 0) == len(drops), 'B: the %d lost on the trunk counted repaired'
            % len(drops), sb.get('repaired'))



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

            media_checks(c, a, b, sock_a, sock_b, Relay(relay_a, relay_b), M, '_trunk.b', '_trunk.a', rtx_ssrc)


# ---- 2. the zone makes the trunks ------------------------------------------------------------------

ZM = 'zcasc'
FACE = {'mmr-a': 7201, 'mmr-b': 7202}   # each host's media_port: the relay's face of it in the other's namespace


def wait_for(c, what, cond, timeout=10.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
        except Exception as e:  # noqa: the condition may not hold yet in many ways
            last = e
        if last and not isinstance(last, Exception):
            return c.check(True, what)
        time.sleep(0.1)
    return c.check(False, what, 'within %.0f s; last: %r' % (timeout, last))


def admit_if_waiting(env, m, name, cp):
    """A meeting's copy on a host that is not its home has its home's controls (controls/ in etcd), or
    comes up closed (waiting room on) when they cannot be known: a participant added there may wait."""
    if cp.returncode == 0 and 'waits until admitted' in cp.stdout:
        env.ctl('participant', 'admit', m, name)


def streams_of(env, m, participant):
    """The SSRCs participant publishes (participant show --json: its list "published")."""
    cp = env.ctl('participant', 'show', m, participant, json=True, check=False)
    todo = [cp.stdout] if cp.returncode == 0 else []
    while todo:
        o = todo.pop()
        if isinstance(o, dict):
            if isinstance(o.get('published'), list):
                return {x.get('ssrc') for x in o['published']}
            todo += list(o.values())
    return set()


LEVEL_ID = 1


def speaker_checks(c, a, b, sock_a, m):
    """alice talks (audio level element, loud): the dominant speaker is alice on A and the trunk
    from A on B (B reads the levels in the packets as they crossed, with the id A published)."""
    def ext_of(env, p):
        cp = env.ctl('participant', 'show', m, p, json=True, check=False)
        return mmrtest.find_key(cp.stdout, 'ext') if cp.returncode == 0 else None
    wait_for(c, "B: _trunk.mmr-a reads audio levels under alice's id (%d)" % LEVEL_ID,
             lambda: (ext_of(b, '_trunk.mmr-a') or {}).get('audio-level') == LEVEL_ID)
    seq, ts = 2000, 0
    t_end = time.monotonic() + 6
    ok_a = ok_b = False
    while time.monotonic() < t_end and not (ok_a and ok_b):
        for _ in range(10):
            prof, data = rtpgen.one_byte_ext([(LEVEL_ID, bytes([0x80 | 20]))])
            d = rtpgen.rtp_packet(seq, ts, AUDIO, rtpgen.PT_OPUS, bytes(40), ext=(prof, data))
            a.send(sock_a['alice'], d)
            seq, ts = seq + 1, ts + 960
            time.sleep(0.02)
        ok_a = mmrtest.find_key(a.ctl('meeting', 'show', m, json=True).stdout, 'dominant_speaker') == 'alice'
        ok_b = mmrtest.find_key(b.ctl('meeting', 'show', m, json=True).stdout, 'dominant_speaker') == '_trunk.mmr-a'
    c.check(ok_a, 'A: dominant speaker alice (talking)')
    c.check(ok_b, 'B: dominant speaker _trunk.mmr-a (alice\'s levels crossed the trunk)')


def srtp_session(inline, outbound):
    import pylibsrtp
    p = pylibsrtp.Policy(key=mmrtest.key_bytes(inline), srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def zone_body(c, srtp=False):
    """Two hosts of a zone (a 3-member etcd): `zone cascade` makes host B carry a meeting placed on A;
    both controllers make the trunks to each other and publish their streams in etcd, each adds the
    other's to its trunk; the media then goes as in part 1 (no RTX on these trunks: repairs come on
    the media SSRC)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_zone import Etcd
    import tempfile
    tmp = tempfile.mkdtemp(prefix='mmrt-cascade-etcd-')
    etcd = Etcd(tmp)
    zm = ZM + ('-srtp' if srtp else '')
    secret = os.path.join(tmp, 'zone.secret')
    with open(secret, 'w') as f:
        f.write(os.urandom(32).hex())
    os.chmod(secret, 0o600)
    secret_b = secret
    if SPLIT_SECRET:     # the negative control: B derives under another secret
        secret_b = os.path.join(tmp, 'zone.secret.b')
        with open(secret_b, 'w') as f:
            f.write(os.urandom(32).hex())
        os.chmod(secret_b, 0o600)
    keys = {}

    def add(env, name, *args, check=True):
        cp = env.ctl('participant', 'add', zm, name, '--addr', CLIENT_IP, '--port', PORTS[name], *args, check=check)
        if srtp and cp.returncode == 0:
            keys[name] = mmrtest.parse_keys(cp.stdout)
        admit_if_waiting(env, zm, name, cp)
        return cp
    root_ns = os.open('/proc/thread-self/ns/net', os.O_RDONLY)

    def etcd_prefix(env, p):
        # etcd listens on the root namespace's loopback
        mine = os.open('/run/netns/' + env.netns, os.O_RDONLY)
        mmrtest._setns(root_ns)
        try:
            return etcd.prefix(p)
        finally:
            mmrtest._setns(mine)
            os.close(mine)

    def start_ctl(env):
        # the controller talks to etcd on the root namespace's loopback (the dataplane through shm)
        mine = os.open('/run/netns/' + env.netns, os.O_RDONLY)
        mmrtest._setns(root_ns)
        try:
            env.start_controller()
        finally:
            mmrtest._setns(mine)
            os.close(mine)

    def zone_conf(host):
        return ('zone = {\n  etcd = [ %s ];\n  host = "%s";\n  address = "%s";\n  http_url = "http://127.0.0.1:1";\n'
                '  max_meetings = 10;\n  max_participants = %d;\n  lease_s = 3;\n  media_port = %d;\n%s};\n'
                % (', '.join('"%s"' % m['url'] for m in etcd.members), host, CLIENT_IP,
                   2 if host == 'mmr-a' else 100, FACE[host], '  secret_file = "%s";\n' % (secret if host == 'mmr-a' else secret_b) if srtp else ''))
    try:
        with MmrEnv('cascz-a' + ('s' if srtp else ''), controller=False) as a:
            a.extra_ctl_conf = zone_conf('mmr-a')
            a._write_configs()
            start_ctl(a)
            sock_a = {n: a.udp_socket(PORTS[n]) for n in ('alice', 'bob')}
            face_b = a.udp_socket(FACE['mmr-b'])
            with MmrEnv('cascz-b' + ('s' if srtp else ''), controller=False) as b:
                b.extra_ctl_conf = zone_conf('mmr-b')
                b._write_configs()
                start_ctl(b)
                sock_b = {n: b.udp_socket(PORTS[n]) for n in ('carol', 'dave')}
                face_a = b.udp_socket(FACE['mmr-a'])
                wait_for(c, 'both hosts registered', lambda: len([h for h in a.ctl('zone', 'status', json=True)
                                                                  .stdout.get('hosts', []) if h.get('alive')]) == 2, 20)
                cp = a.ctl('meeting', 'create', zm, *([] if srtp else ['--plain']), check=False)
                c.check(cp.returncode == 0, 'meeting %s created (placed on mmr-a)' % zm, cp.stdout + cp.stderr)
                cp = b.ctl('zone', 'cascade', 'nosuch', 'mmr-b', check=False)
                c.check(cp.returncode != 0 and "no meeting 'nosuch'" in cp.stdout + cp.stderr,
                        'zone cascade of a meeting not in the zone is refused', cp.stdout + cp.stderr)
                add(a, 'alice', '--role', 'sendonly', '--ext', 'audio-level=%d' % LEVEL_ID)
                a.ctl('stream', 'add', zm, 'alice', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
                a.ctl('stream', 'add', zm, 'alice', '--ssrc', AUDIO, '--kind', 'audio', '--codec', 'opus')
                add(a, 'bob', '--role', 'recvonly')
                # A is full (max_participants 2): carol is sent to B, which carries the meeting from now on
                cp = add(a, 'carol', check=False)
                c.check(cp.returncode != 0 and 'this host is full' in cp.stderr and 'host mmr-b' in cp.stderr,
                        'participant add on full host A: refused, sent to host mmr-b', cp.stdout + cp.stderr)
                wait_for(c, 'B carries %s: it exists there, with the trunk _trunk.mmr-a' % zm,
                         lambda: b.ctl('participant', 'show', zm, '_trunk.mmr-a', check=False).returncode == 0)
                wait_for(c, 'A made the trunk _trunk.mmr-b',
                         lambda: a.ctl('participant', 'show', zm, '_trunk.mmr-b', check=False).returncode == 0)
                wait_for(c, "B's copy has its home's controls from etcd (waiting room off)",
                         lambda: '"waiting_room": false' in b.ctl('--json', 'meeting', 'show', zm, check=False).stdout)
                ms = b.ctl('--json', 'meeting', 'show', zm, check=False)
                tr = b.ctl('--json', 'participant', 'show', zm, '_trunk.mmr-a', check=False)
                c.check('"waiting_room": false' in ms.stdout and '"waiting": false' in tr.stdout,
                        "B's copy (not its home) has its home's controls (controls/ in etcd): waiting room off as "
                        "on A; its trunk does not wait", ms.stdout[:300] + tr.stdout[:300])
                cp = add(b, 'carol', '--role', 'recvonly')
                c.check('waits until admitted' not in cp.stdout, 'carol added on B does not wait (as on A)',
                        cp.stdout)
                add(b, 'dave', '--role', 'sendonly')
                b.ctl('stream', 'add', zm, 'dave', '--ssrc', DAVE_AUDIO, '--kind', 'audio', '--codec', 'opus')
                wait_for(c, "B: _trunk.mmr-a publishes alice's streams (from etcd)",
                         lambda: streams_of(b, zm, '_trunk.mmr-a') == {VIDEO, AUDIO})
                wait_for(c, "A: _trunk.mmr-b publishes dave's stream (from etcd)",
                         lambda: streams_of(a, zm, '_trunk.mmr-b') == {DAVE_AUDIO})
                c.check(sub_of(b, 'carol', VIDEO, zm) is not None and sub_of(a, 'bob', DAVE_AUDIO, zm) is not None,
                        'carol (B) subscribed to alice\'s video, bob (A) to dave\'s audio')
                kv = etcd_prefix(b, '/mmr/zone/streams/')
                c.check(set(kv) == {'/mmr/zone/streams/%s/mmr-a' % zm, '/mmr/zone/streams/%s/mmr-b' % zm}
                        and 'secret' not in ''.join(kv.values()), 'etcd: streams/<meeting>/<host> for both, no secrets',
                        kv)
                for env in (a, b):
                    env.wait_dp_attached(10)
                tx, rx = {}, {}
                if srtp:
                    ta = mmrtest.parse_keys(a.ctl('participant', 'keys', zm, '_trunk.mmr-b').stdout)
                    tb = mmrtest.parse_keys(b.ctl('participant', 'keys', zm, '_trunk.mmr-a').stdout)
                    c.check(ta.get('send_key') and ta.get('send_key') == tb.get('recv_key') and
                            ta.get('recv_key') == tb.get('send_key') and ta['send_key'] != ta['recv_key'],
                            'the trunks\' SRTP keys mirror each other (derived on each host)')
                    ep = etcd_prefix(b, '/mmr/zone/')
                    c.check(ep.get('/mmr/zone/trunks/%s/mmr-a/mmr-b' % zm, '').isdigit(), 'etcd: the trunk\'s epoch',
                            ep.get('/mmr/zone/trunks/%s/mmr-a/mmr-b' % zm))
                    allv = ''.join(ep.values())
                    secret_hex = open(secret).read().strip()
                    c.check(secret_hex not in allv and not any(k.split(':', 1)[-1] in allv for k in
                                                              (ta['send_key'], ta['recv_key'])),
                            'etcd holds neither the zone secret nor a trunk key')
                    logs = a.log_text() + b.log_text()
                    c.check(secret_hex not in logs and ta['send_key'].split(':', 1)[-1] not in logs,
                            'the logs hold neither the zone secret nor a trunk key')
                    tx = {n: srtp_session(keys[n]['send_key'], True).protect for n in ('alice', 'dave')}

                    def dec(n):
                        sess = srtp_session(keys[n]['recv_key'], False)

                        def f(d):
                            try:
                                return sess.unprotect(d)
                            except Exception:  # noqa: pylibsrtp.Error
                                return None
                        return f
                    rx = {n: dec(n) for n in ('bob', 'carol')}
                media_checks(c, a, b, sock_a, sock_b, Relay(face_b, face_a), zm, '_trunk.mmr-b', '_trunk.mmr-a', 0,
                             drops=() if srtp else DROP_IDX, tx=tx, rx=rx)
                if not srtp:
                    relay = Relay(face_b, face_a)
                    relay.start()
                    try:
                        speaker_checks(c, a, b, sock_a, zm)
                    finally:
                        relay.stop = True
                        relay.join(2)
                # a stream that goes goes from the other side too
                a.ctl('stream', 'remove', zm, 'alice', '--ssrc', AUDIO)
                wait_for(c, "B: alice's audio removed from _trunk.mmr-a after she stopped publishing it",
                         lambda: streams_of(b, zm, '_trunk.mmr-a') == {VIDEO})
                # the meeting ends on its home: it ends on B too
                a.ctl('meeting', 'end', zm)
                wait_for(c, 'meeting end on A ends it on B',
                         lambda: b.ctl('meeting', 'show', zm, check=False).returncode != 0)
    finally:
        etcd.stop()
        os.close(root_ns)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


# ---- 4. three hosts ---------------------------------------------------------------------------------

FACE3 = {'mmr-a': 7301, 'mmr-b': 7302, 'mmr-c': 7303}
RX3 = {'bob': ('mmr-a', 6102), 'carol': ('mmr-b', 6103), 'erin': ('mmr-c', 6105)}


def three_body(c):
    """Three hosts of a zone carry one meeting (placed on A; B and C by zone cascade): a full mesh of
    trunks, three relays. alice (A) publishes video and audio, dave (B) audio; bob (A), carol (B) and
    erin (C) receive. Every stream crosses once to each other host, from its own host only."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_zone import Etcd
    import contextlib
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix='mmrt-cascade3-etcd-')
    etcd = Etcd(tmp)
    root_ns = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
    m = 'casc3'

    def in_ns(env, fn):
        mine = os.open('/run/netns/' + env.netns, os.O_RDONLY)
        mmrtest._setns(root_ns)
        try:
            return fn()
        finally:
            mmrtest._setns(mine)
            os.close(mine)

    def zone_conf(host):
        return ('zone = {\n  etcd = [ %s ];\n  host = "%s";\n  address = "%s";\n  http_url = "http://127.0.0.1:1";\n'
                '  max_meetings = 10;\n  max_participants = 100;\n  lease_s = 3;\n  media_port = %d;\n};\n'
                % (', '.join('"%s"' % x['url'] for x in etcd.members), host, CLIENT_IP, FACE3[host]))
    try:
        with contextlib.ExitStack() as stack:
            env, faces, socks = {}, {}, {}
            for h in ('mmr-a', 'mmr-b', 'mmr-c'):
                e = stack.enter_context(MmrEnv('casc3-' + h[-1], controller=False))
                e.extra_ctl_conf = zone_conf(h)
                e._write_configs()
                in_ns(e, e.start_controller)
                env[h] = e
                faces[h] = {o: e.udp_socket(FACE3[o]) for o in FACE3 if o != h}   # the other hosts, as seen here
                socks[h] = {n: e.udp_socket(port) for n, (hh, port) in RX3.items() if hh == h}
                # (a socket lives in the namespace current when it is made: this host's, now)
                for n, hh in (('alice', 'mmr-a'), ('dave', 'mmr-b')):
                    if hh == h:
                        socks[h][n] = e.udp_socket(PORTS[n])
            a, b, cc = env['mmr-a'], env['mmr-b'], env['mmr-c']
            wait_for(c, 'three hosts registered', lambda: len([h for h in a.ctl('zone', 'status', json=True)
                                                               .stdout.get('hosts', []) if h.get('alive')]) == 3, 20)
            a.ctl('meeting', 'create', m, '--plain')
            for h in ('mmr-b', 'mmr-c'):
                cp = a.ctl('zone', 'cascade', m, h, check=False)
                c.check(cp.returncode == 0, 'zone cascade %s %s' % (m, h), cp.stdout + cp.stderr)
            for h, e in env.items():
                others = {'_trunk.' + o for o in FACE3 if o != h}
                wait_for(c, '%s: the trunks %s' % (h, sorted(others)),
                         lambda e=e, others=others: all(e.ctl('participant', 'show', m, t, check=False).returncode == 0
                                                        for t in others))
            a.ctl('participant', 'add', m, 'alice', '--addr', CLIENT_IP, '--port', PORTS['alice'], '--role', 'sendonly')
            a.ctl('stream', 'add', m, 'alice', '--ssrc', VIDEO, '--kind', 'video', '--codec', 'vp8', '--layers', 3)
            a.ctl('stream', 'add', m, 'alice', '--ssrc', AUDIO, '--kind', 'audio', '--codec', 'opus')
            admit_if_waiting(b, m, 'dave', b.ctl('participant', 'add', m, 'dave', '--addr', CLIENT_IP,
                                                 '--port', PORTS['dave'], '--role', 'sendonly'))
            b.ctl('stream', 'add', m, 'dave', '--ssrc', DAVE_AUDIO, '--kind', 'audio', '--codec', 'opus')
            for n, (h, port) in RX3.items():
                admit_if_waiting(env[h], m, n, env[h].ctl('participant', 'add', m, n, '--addr', CLIENT_IP,
                                                          '--port', port, '--role', 'recvonly'))
            for h, e in env.items():
                want = {'_trunk.mmr-a': {VIDEO, AUDIO}, '_trunk.mmr-b': {DAVE_AUDIO}, '_trunk.mmr-c': set()}
                for t, ss in want.items():
                    if t != '_trunk.' + h:
                        wait_for(c, '%s: %s publishes %s' % (h, t, sorted('%#x' % x for x in ss)),
                                 lambda e=e, t=t, ss=ss: streams_of(e, m, t) == ss or (not ss and
                                 e.ctl('participant', 'show', m, t, check=False).returncode == 0 and not streams_of(e, m, t)))
            # C's trunk to B is not subscribed to A's streams (they come to C from A itself)
            c.check(sub_of(cc, '_trunk.mmr-b', VIDEO, m) is None and sub_of(cc, 'erin', VIDEO, m) is not None,
                    'C: erin subscribed to alice\'s video (from _trunk.mmr-a), _trunk.mmr-b not')
            for e in env.values():
                e.wait_dp_attached(10)
            relays = {}
            hosts = sorted(env)
            for i, x in enumerate(hosts):
                for y in hosts[i + 1:]:
                    r = Relay(faces[x][y], faces[y][x])
                    relays[(x, y)] = r
                    r.start()
            gen = rtpgen.Vp8L1T3(VIDEO, seq=3000, keyframe_interval=0, pkts_per_frame=3, payload_size=300)
            vin = [p for f in gen.frames(20) for p in f.packets]
            ain = rtpgen.OpusLike(AUDIO).packets(20)
            din = rtpgen.OpusLike(DAVE_AUDIO, seq=900).packets(20)
            got = {n: [] for n in RX3}
            try:
                for i, p in enumerate(vin):
                    a.send(socks['mmr-a']['alice'], p.data)
                    if i % 3 == 0:
                        a.send(socks['mmr-a']['alice'], ain[i // 3].data)
                        b.send(socks['mmr-b']['dave'], din[i // 3].data)
                    time.sleep(PACE)
                    for n, (h, _) in RX3.items():
                        got[n] += env[h].recv_all(socks[h][n], timeout=0.0005, max_wait=0.001)
                for n, (h, _) in RX3.items():
                    got[n] += env[h].recv_all(socks[h][n], timeout=0.8, max_wait=5)
            finally:
                for r in relays.values():
                    r.stop = True
                    r.join(2)

            def count(n, ssrc):
                return len({parse_rtp(d).seq for d in got[n] if not rtpgen.is_rtcp(d) and len(d) >= 12 and
                            parse_rtp(d).ssrc == ssrc})
            for n in RX3:
                c.check(count(n, VIDEO) == len(vin) and count(n, AUDIO) == len(ain),
                        '%s (%s): all of alice\'s video and audio' % (n, RX3[n][0]),
                        (count(n, VIDEO), count(n, AUDIO)))
            for n in ('bob', 'erin'):
                c.eq(count(n, DAVE_AUDIO), len(din), '%s (%s): all of dave\'s audio (from B)' % (n, RX3[n][0]))
            want = {('mmr-a', 'mmr-b'): ({VIDEO: len(vin), AUDIO: len(ain)}, {DAVE_AUDIO: len(din)}),
                    ('mmr-a', 'mmr-c'): ({VIDEO: len(vin), AUDIO: len(ain)}, {}),
                    ('mmr-b', 'mmr-c'): ({DAVE_AUDIO: len(din)}, {})}
            for (x, y), (xy, yx) in want.items():
                r = relays[(x, y)]
                c.eq((r.count['ab'], r.count['ba']), (xy, yx),
                     'trunk %s <-> %s: each stream once, from its own host only' % (x, y))
    finally:
        etcd.stop()
        os.close(root_ns)
        shutil.rmtree(tmp, ignore_errors=True)


def all_parts(c):
    if SPLIT_SECRET:
        c.note('== 3 only, B with another zone secret (must FAIL: the trunk keys differ)')
        zone_body(c, srtp=True)
        return
    c.note('== 1. trunks made with mmrctl')
    body(c)
    if not RTCP_OFF and '--no-zone' not in sys.argv:
        c.note('== 2. the zone makes the trunks (a participant spilled to host B)')
        zone_body(c)
        c.note('== 3. SRTP: the trunks\' keys derived from the zone secret (no loss: no RTX on zone trunks yet)')
        zone_body(c, srtp=True)
        c.note('== 4. three hosts: a full mesh of trunks')
        three_body(c)


if __name__ == '__main__':
    mmrtest.run_test('test_cascade' + (' --rtcp-off' if RTCP_OFF else '') + (' --split-secret' if SPLIT_SECRET else ''),
                     all_parts)
