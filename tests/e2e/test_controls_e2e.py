#!/usr/bin/python3
"""
test_controls_e2e.py - issue 15's meeting controls and policing end to end, with real GStreamer clients
(VP8 + Opus, encrypted by srtpenc, decrypted by srtpdec: srtp_media.py) in an SRTP meeting of the MMR.

Part 1, meeting c1 (AEAD_AES_128_GCM, --share host_only, --waiting-room on before carol joins), one
~12 s call in which every client keeps sending throughout:
  alice  host: camera VP8 + Opus, and a screen share (its own VP8 encoder, same socket)
  bob    recvonly: decodes carol's video; every datagram's arrival time and SSRC recorded
  carol  joins into the waiting room: camera VP8 + Opus; decodes alice's video (one socket for both)
  dave   camera VP8 + Opus; ejected at ~3 s and keeps sending valid SRTP under his old keys
  erin   screen share (not a host: host_only denies it)
 (a) waiting room: before `participant admit` (~3 s) carol receives nothing and nobody receives her
     (drops.not_admitted >= what she sent); after it, bob decodes >= 100 of her frames pixel-exact
     and she decodes >= 100 of alice's.
 (b) mute: `participant mute c1 alice audio` (~5 s): no copy of alice's Opus arrives at bob or carol
     later than 100 ms after the command returned, while her client sends on (>= 100 packets) and
     her video keeps arriving; drops.muted >= what she sent muted; `unmute` (~8 s) restores it.
 (c) eject (~3 s): nothing of dave arrives anywhere 100 ms after the command returned though he
     sends on (drops.unknown_sender >= that); his join token is refused with 403 revoked.
 (d) share: erin's screen reaches nobody (drops.share_denied = erin's packets); alice's is forwarded.
Part 2, policing: meeting q (ann -> ben, real GStreamer VP8 + Opus, ~5 s) twice: alone, then while flo
floods meeting fl with audio from a separate process (test_police.flooder, 20,000 packets/s), under the
dataplane's default police limits. ben's forwarded copies and pixel-exact decoded frames must be >= 95 %
of what ann sent and within 5 % of the run without the flood; the flood's excess is counted as
`policed` (the drop reason and flo's counter; ann's counter 0).
Negative control (--no-mute, tests/run-all.sh): the mute is not asked for; the mute check must FAIL.
Run as root: flock /tmp/mmr-dpdk.lock /usr/bin/python3 tests/e2e/test_controls_e2e.py [--no-mute]
Takes about 27 s (--no-mute 14 s).
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))

import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP, MMR_IP, MMR_PORT  # noqa: E402
import rtp_media as rm  # noqa: E402
import srtp_media as sm  # noqa: E402
import test_police as tp  # noqa: E402
from mmrhttp import Http, http_conf, http_port, make_token, token_secret  # noqa: E402

SUITE = 'AEAD_AES_128_GCM'
MMR = (MMR_IP, MMR_PORT)
NO_MUTE = '--no-mute' in sys.argv
PORTS = {'alice': 42001, 'bob': 42002, 'carol': 42003, 'dave': 42004, 'erin': 42005,
         'ann': 42101, 'ben': 42102, 'flo': 42111, 'rx': 42112}
A_V, A_A, A_S, C_V, C_A, D_V, D_A, E_S = 0xA001, 0xA002, 0xA003, 0xC001, 0xC002, 0xD001, 0xD002, 0xE003
FPS = rm.FPS
T_ADMIT, T_MUTE, T_UNMUTE = 3.0, 5.0, 8.0     # seconds into the call
LAG = 0.1                                     # the mute/eject deadline after the command returned
SO_TIMESTAMPNS = 35                           # Linux: the kernel's receive time (CLOCK_REALTIME) per datagram


class Tx(sm.SrtpSender):
    """srtp_media's GStreamer sender that logs (time, ssrc) of every SRTP packet it sends; sock: send
    from that socket (a participant's one socket shared by its camera, its screen and its receiver)."""

    def __init__(self, local, vssrc, assrc, key, frames, sock=None):
        self.sent = []
        super().__init__(local, MMR, vssrc, assrc, suite_name=SUITE, key=key, frames=frames,
                         keyframe_dist=30)
        if sock is not None:
            self.sock.close()
            self.sock = sock

    def _send_protected(self, pkt):
        self.sent.append((time.time(), int.from_bytes(pkt[8:12], 'big')))
        sm.SrtpSender._send_protected(self, pkt)

    def count(self, ssrc, t0=0.0, t1=1e18):
        return sum(1 for t, s in self.sent if s == ssrc and t0 <= t < t1)


class Rx(sm.SrtpReceiver):
    """srtp_media's receiver that logs (time, ssrc) of every datagram on arrival (the kernel's receive
    time, SO_TIMESTAMPNS, so a busy test process does not make copies look late; the SSRC is in the
    clear) and decrypts and decodes only the video SSRC given. Times are time.time() (realtime)."""

    def __init__(self, name, port, vssrc, key):
        self.arrivals = []
        self._t = 0.0
        super().__init__(name, (CLIENT_IP, port), vssrc, None, None, suite_name=SUITE, key=key)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.vssrc = vssrc

    def _loop(self):    # rtp_media.Receiver._loop with the kernel's receive time
        while not self._stop.is_set():
            try:
                pkt, anc, _, src = self.sock.recvmsg(65536, 64)
            except socket.timeout:
                continue
            except OSError as e:
                self.errors.append("recv: %s" % e)
                return
            self._t = time.time()
            for lvl, typ, data in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = struct.unpack('qq', data[:16])
                    self._t = sec + nsec / 1e9
            self.sources.add(src)
            self.handle_packet(pkt)

    def handle_packet(self, pkt):
        ssrc = int.from_bytes(pkt[8:12], 'big') if len(pkt) >= 12 else 0
        self.arrivals.append((self._t, ssrc))
        if ssrc == self.vssrc:
            self.stage.push(pkt)

    def count(self, ssrcs, t0=0.0, t1=1e18):
        return sum(1 for t, s in self.arrivals if s in ssrcs and t0 <= t < t1)

    def last(self, ssrc):
        ts = [t for t, s in self.arrivals if s == ssrc]
        return max(ts) if ts else None


def keys_of(cp):
    return sm.parse_mmrctl_keys(cp.stdout)


def add(env, m, name, role=None):
    args = ['participant', 'add', m, name, '--addr', CLIENT_IP, '--port', PORTS[name]]
    if role:
        args += ['--role', role]
    return keys_of(env.ctl(*args))


def key(k, which):
    return sm.inline_key(k[which], SUITE)


def drops(env):
    return mmrtest.drop_counts(env.stats())


def run_senders(txs):
    """Start every sender's pipeline in its own thread; returns (threads, errors list)."""
    errors = []

    def run(tx):
        errors.extend(tx.run(timeout=60))
    ths = [threading.Thread(target=run, args=(tx,), daemon=True) for tx in txs]
    for th in ths:
        th.start()
    return ths, errors


def part1(c, env, secret):
    env.ctl('meeting', 'create', 'c1', '--srtp', SUITE)
    env.ctl('meeting', 'set', 'c1', '--share', 'host_only')
    k = {'alice': add(env, 'c1', 'alice'), 'bob': add(env, 'c1', 'bob', 'recvonly'),
         'dave': add(env, 'c1', 'dave'), 'erin': add(env, 'c1', 'erin')}
    env.ctl('participant', 'host', 'c1', 'alice', 'on')
    env.ctl('meeting', 'set', 'c1', '--waiting-room', 'on')
    k['carol'] = add(env, 'c1', 'carol')
    for who, ssrc, kind, extra in (('alice', A_V, 'video', []), ('alice', A_A, 'audio', []),
                                   ('alice', A_S, 'video', ['--screen']), ('carol', C_V, 'video', []),
                                   ('carol', C_A, 'audio', []), ('dave', D_V, 'video', []),
                                   ('dave', D_A, 'audio', []), ('erin', E_S, 'video', ['--screen'])):
        env.ctl('stream', 'add', 'c1', who, '--ssrc', ssrc, '--kind', kind, '--codec',
                *(['vp8', '--layers', 3] if kind == 'video' else ['opus']), *extra)
    # every layer of every video to everyone (RTCP is off: no estimate would raise it from layer 0)
    for who in ('bob', 'carol', 'alice', 'dave', 'erin'):
        for ssrc, owner in ((A_V, 'alice'), (A_S, 'alice'), (C_V, 'carol'), (D_V, 'dave'), (E_S, 'erin')):
            if owner != who:
                env.sub('c1', who, ssrc, 2)
    c.check(env.ctl('participant', 'show', 'c1', 'carol', json=True).stdout.get('waiting') is True,
            'carol is in the waiting room')
    env.wait_dp_attached()

    bob = Rx('bob', PORTS['bob'], C_V, key(k['bob'], 'recv_key'))
    carol_rx = Rx('carol', PORTS['carol'], A_V, key(k['carol'], 'recv_key'))
    n = int(12 * FPS)
    alice = Tx((CLIENT_IP, PORTS['alice']), A_V, A_A, key(k['alice'], 'send_key'), n)
    alice_scr = Tx((CLIENT_IP, 0), A_S, None, key(k['alice'], 'send_key'), int(6 * FPS), sock=alice.sock)
    carol = Tx((CLIENT_IP, 0), C_V, C_A, key(k['carol'], 'send_key'), int(11 * FPS), sock=carol_rx.sock)
    dave = Tx((CLIENT_IP, PORTS['dave']), D_V, D_A, key(k['dave'], 'send_key'), int(8 * FPS))
    erin = Tx((CLIENT_IP, PORTS['erin']), E_S, None, key(k['erin'], 'send_key'), int(6 * FPS))
    txs = [alice, alice_scr, carol, dave, erin]
    rxs = [bob, carol_rx]
    d0 = drops(env)
    for r in rxs:
        r.start()
    t0 = time.time()
    ths, tx_errors = run_senders(txs)
    T = {}

    def at(s):
        time.sleep(max(0.0, t0 + s - time.time()))

    at(T_ADMIT)
    T['d_admit'] = drops(env)
    T['admit'] = time.time()
    env.ctl('participant', 'admit', 'c1', 'carol')
    T['admit_ret'] = time.time()
    d_ej = drops(env)
    T['eject'] = time.time()
    env.ctl('participant', 'eject', 'c1', 'dave')
    T['eject_ret'] = time.time()
    at(T_MUTE)
    T['d_mute'] = drops(env)
    T['mute'] = time.time()
    if not NO_MUTE:
        env.ctl('participant', 'mute', 'c1', 'alice', 'audio')
    T['mute_ret'] = time.time()
    at(T_UNMUTE)
    T['unmute'] = time.time()
    env.ctl('participant', 'unmute', 'c1', 'alice', 'audio')
    T['unmute_ret'] = time.time()
    T['d_unmute'] = drops(env)
    for th in ths:
        th.join(60)
    time.sleep(0.5)
    d1 = drops(env)
    rx_errors = []
    for r in rxs:
        rx_errors += ['%s: %s' % (r.name, e) for e in r.finish()]
    for tx in txs:
        tx.close()
    c.check(not tx_errors, 'the GStreamer senders ran without errors', tx_errors[:3])
    c.check(not rx_errors, 'the receivers ran without errors (srtpdec refused nothing)', rx_errors[:3])
    c.note('drops during the call: %s' % {k_: v - d0.get(k_, 0) for k_, v in d1.items() if v != d0.get(k_, 0)})
    rel = {k_: v - t0 for k_, v in T.items() if not k_.startswith('d_')}
    c.note('call %.1f s; times: %s' % (time.time() - t0, ', '.join('%s %.3f' % kv for kv in sorted(rel.items()))))
    c.note('sent: alice video %d audio %d screen %d, carol %d/%d, dave %d/%d, erin screen %d'
           % (alice.count(A_V), alice.count(A_A), alice_scr.count(A_S), carol.count(C_V), carol.count(C_A),
              dave.count(D_V), dave.count(D_A), erin.count(E_S)))

    # (a) waiting room
    c_before = carol.count(C_V, 0, T['admit']) + carol.count(C_A, 0, T['admit'])
    na = T['d_admit'].get('not_admitted', 0) - d0.get('not_admitted', 0)
    c.check(c_before >= 50, '(a) waiting carol\'s client sends before admit (%d SRTP packets)' % c_before)
    c.eq(carol_rx.count(set(s for _, s in carol_rx.arrivals), 0, T['admit']), 0,
         '(a) waiting carol receives nothing before admit')
    c.eq(bob.count({C_V, C_A}, 0, T['admit']), 0, '(a) nobody receives waiting carol (bob: none of hers)')
    c.check(na >= c_before, '(a) drops.not_admitted %d >= her %d packets (+ copies toward her)' % (na, c_before))
    got, problems = rm.match_frames(carol.frames, bob.decoded)
    c.check(len(got) >= 100 and not problems, '(a) after admit bob decodes carol\'s video: %d of %d frames '
            'pixel-exact' % (len(got), len(carol.frames)), problems[:3])
    got2, problems2 = rm.match_frames(alice.frames, carol_rx.decoded)
    first = min(got2) if got2 else -1
    c.check(len(got2) >= 100 and not problems2 and first >= T_ADMIT * FPS - 15,
            '(a) after admit carol decodes alice\'s video: %d frames pixel-exact, the first #%d (admit at ~#%d)'
            % (len(got2), first, T_ADMIT * FPS), problems2[:3])

    # (b) mute
    w0, w1 = T['mute_ret'] + LAG, T['unmute']
    a_sent_muted = alice.count(A_A, T['mute_ret'], T['unmute'])
    late = {r.name: r.count({A_A}, w0, w1) for r in rxs}
    lag = {r.name: ('%.0f ms' % (1000 * (max([t for t, s in r.arrivals if s == A_A and t < w1] or [0]) -
                                          T['mute_ret']))) for r in rxs}
    c.note('(b) last copy of alice\'s audio before unmute, after the mute command returned: %s' % lag)
    c.check(a_sent_muted >= 100, '(b) alice\'s client keeps sending audio while muted (%d packets)' % a_sent_muted)
    c.check(not any(late.values()), '(b) muted audio: no copy of alice\'s Opus arrives later than %d ms after '
            'the mute returned' % (LAG * 1000), late)
    vid = {r.name: r.count({A_V}, w0, w1) for r in rxs}
    c.check(all(v >= 0.9 * alice.count(A_V, w0, w1) for v in vid.values()),
            '(b) her video keeps arriving while muted (%s of %d sent)' % (vid, alice.count(A_V, w0, w1)))
    mu = T['d_unmute'].get('muted', 0) - T['d_mute'].get('muted', 0)
    c.check(mu >= alice.count(A_A, w0, w1), '(b) drops.muted %d >= her %d audio packets sent muted'
            % (mu, alice.count(A_A, w0, w1)))
    after = {r.name: r.count({A_A}, T['unmute_ret'] + LAG, 1e18) for r in rxs}
    sent_after = alice.count(A_A, T['unmute_ret'] + LAG)
    c.check(all(v >= 0.9 * sent_after for v in after.values()) and sent_after >= 50,
            '(b) unmute restores her audio (%s of %d)' % (after, sent_after))

    # (c) eject
    d_after = dave.count(D_V, T['eject_ret']) + dave.count(D_A, T['eject_ret'])
    c.check(bob.count({D_V, D_A}, 0, T['eject']) >= 50, '(c) before eject dave reaches bob (%d packets)'
            % bob.count({D_V, D_A}, 0, T['eject']))
    c.check(d_after >= 100, '(c) the ejected dave\'s client keeps sending SRTP (%d packets)' % d_after)
    late = {r.name: r.count({D_V, D_A}, T['eject_ret'] + LAG) for r in rxs}
    c.check(not any(late.values()), '(c) nothing of dave arrives 100 ms after the eject returned', late)
    us = d1.get('unknown_sender', 0) - d_ej.get('unknown_sender', 0)
    c.check(us >= d_after, '(c) his packets dropped as drops.unknown_sender (%d >= %d)' % (us, d_after))
    api = Http(http_port(env))
    s, h, t = api.req('POST', '/v1/meetings/c1/join', body=b'v=0\r\n', token=make_token(secret, 'dave', 'c1',
                      'participant'), ctype='application/sdp')
    c.check(s == 403 and b'revoked' in t, '(c) his rejoin with his token: 403 revoked', (s, t[:200]))

    # (d) screen share
    e_sent = erin.count(E_S)
    sd = d1.get('share_denied', 0) - d0.get('share_denied', 0)
    c.eq(sum(r.count({E_S}) for r in rxs), 0, '(d) erin\'s screen (not a host, host_only) reaches nobody')
    c.check(e_sent >= 50 and sd == e_sent, '(d) drops.share_denied %d = erin\'s %d screen packets' % (sd, e_sent))
    a_scr = alice_scr.count(A_S)
    got = {r.name: r.count({A_S}) for r in rxs}
    c.check(a_scr >= 50 and got['bob'] >= 0.95 * a_scr,
            '(d) the host alice\'s screen is forwarded (bob %d of %d)' % (got['bob'], a_scr))
    return True


def flood_proc(seconds):
    """A separate process (so the flood does not take this one's CPU) sending flo's audio at
    test_police.FLOOD_PPS for `seconds`: test_police.flooder. Prints the packets sent."""
    code = ('import socket, sys\nsys.path[:0] = %r\nimport test_police as tp\ntp.PHASE_S = %f\n'
            's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind((%r, %d))\ns.setblocking(False)\n'
            'print(tp.flooder(None, s, 0))\n'
            % ([os.path.join(ROOT, 'tests', 'lib'), os.path.join(ROOT, 'tests', 'integration')], seconds,
               CLIENT_IP, PORTS['flo']))
    return subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)


def quiet_run(c, env, k, vssrc, assrc, flood):
    """ann -> ben in meeting q for ~5 s (flo flooding meanwhile if flood); returns (forwarded share,
    decoded share, flood packets sent or None)."""
    ben = Rx('ben', PORTS['ben'], vssrc, key(k['ben'], 'recv_key'))
    ann = Tx((CLIENT_IP, PORTS['ann']), vssrc, assrc, key(k['ann'], 'send_key'), int(5 * FPS))
    ben.start()
    fp = flood_proc(5.5) if flood else None
    ths, errors = run_senders([ann])
    for th in ths:
        th.join(60)
    n_flood = None
    if fp:
        out, _ = fp.communicate(timeout=30)
        n_flood = int(out.strip() or 0)
    time.sleep(0.5)
    errors += ben.finish()
    ann.close()
    c.check(not errors, 'quiet run%s: clients ran without errors' % (' (flood)' if flood else ''), errors[:3])
    sent = ann.count(vssrc) + ann.count(assrc)
    fwd = ben.count({vssrc, assrc}) / max(1, sent)
    got, problems = rm.match_frames(ann.frames, ben.decoded)
    dec = len(got) / max(1, len(ann.frames))
    c.note('quiet run%s: ann sent %d packets, %d frames; ben got %.3f of the packets, decoded %d frames '
           '(%.3f) pixel-exact%s' % (' with the flood' if flood else '', sent, len(ann.frames), fwd, len(got),
                                    dec, '' if not problems else ', problems: %s' % problems[:2]))
    return fwd, (dec if not problems else 0.0), n_flood


def part2(c, env):
    env.ctl('meeting', 'create', 'q', '--srtp', SUITE)
    k = {'ann': add(env, 'q', 'ann', 'sendonly'), 'ben': add(env, 'q', 'ben', 'recvonly')}
    for ssrc, kind in ((0x5101, 'video'), (0x5102, 'audio'), (0x5201, 'video'), (0x5202, 'audio')):
        env.ctl('stream', 'add', 'q', 'ann', '--ssrc', ssrc, '--kind', kind, '--codec',
                *(['vp8', '--layers', 3] if kind == 'video' else ['opus']))
    for ssrc in (0x5101, 0x5201):
        env.sub('q', 'ben', ssrc, 2)
    env.meeting('fl')
    env.participant('fl', 'flo', PORTS['flo'])
    env.participant('fl', 'rx', PORTS['rx'], role='recvonly')
    env.stream('fl', 'flo', tp.F_SSRC, 'audio')
    env.wait_dp_attached()
    pol0 = drops(env).get('policed', 0)
    fwd1, dec1, _ = quiet_run(c, env, k, 0x5101, 0x5102, False)
    pol1 = drops(env).get('policed', 0)
    fwd2, dec2, n_flood = quiet_run(c, env, k, 0x5201, 0x5202, True)
    time.sleep(0.3)
    pol2 = drops(env).get('policed', 0)
    flo = mmrtest.participant_counters(env, 'fl', 'flo').get('policed', 0)
    ann = mmrtest.participant_counters(env, 'q', 'ann').get('policed', 0)
    c.eq(pol1 - pol0, 0, 'without the flood nothing is policed')
    c.check(n_flood and n_flood >= 20 * 100 * 5.5, 'flo floods: %s packets in 5.5 s (limit 100/s)' % n_flood)
    c.check(fwd1 >= 0.95 and fwd2 >= 0.95 and abs(fwd2 - fwd1) <= 0.05,
            'forwarded copies unchanged within 5 %% during the flood (%.3f vs %.3f)' % (fwd2, fwd1))
    c.check(dec1 >= 0.95 and dec2 >= 0.95 and abs(dec2 - dec1) <= 0.05,
            'decoded frames unchanged within 5 %% during the flood (%.3f vs %.3f)' % (dec2, dec1))
    c.check(pol2 - pol1 >= 0.8 * (n_flood or 1) and flo == pol2 - pol0,
            'the flood\'s excess is counted as policed (%d of %s; flo\'s counter %d)' % (pol2 - pol1, n_flood, flo))
    c.eq(ann, 0, 'the real client ann is not policed')


def body(c):
    secret, secret_file = token_secret('controls-e2e')
    # RTCP off: the receivers take every datagram for media (as test_srtp_gst.py)
    env = MmrEnv('e2e-controls', rtcp=False)
    env.police_conf = ''          # the dataplane's default police limits
    env.extra_ctl_conf = http_conf(secret_file, MMR_IP, MMR_PORT)
    with env:
        env.wait_dp_attached()
        part1(c, env, secret)
        if NO_MUTE:
            return
        part2(c, env)
        c.check(all(env.alive()), 'dataplane and controller alive')


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('FAIL: must run as root (network namespace, DPDK)')
        sys.exit(1)
    mmrtest.run_test('test_controls_e2e', body)
