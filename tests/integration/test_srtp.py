#!/usr/bin/python3
"""
test_srtp.py - SRTP through the real mmr-dataplane and mmr-controller, checked with an independent
SRTP implementation: pylibsrtp (Debian's python3-pylibsrtp, libsrtp2 underneath).

For each suite (AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80), in a meeting created
with `meeting create M --srtp SUITE`, alice sends and bob (VP8 target T0) and carol (T2) receive; the
keys are what `participant add` printed (SDES inline base64; alice encrypts with her send_key, each
receiver decrypts with its own recv_key):
  keys      three lines srtp_suite/send_key/recv_key of the suite's lengths, all different;
            `participant keys --json` gives the same;
  delivery  audio (passed through) and VP8 L1T3 (layer-selected on the decrypted descriptor, seq and
            PictureID rewritten) decrypt at each receiver to exactly the plaintext expected
            (rtpgen.LayerSelModel), contiguous sequence numbers; a copy does not decrypt with the
            other receiver's key; the wire bytes are not the plaintext; the receivers miss exactly
            what the MMR counts as srtp_lease (at most MAX_LEAD leading packets of a new stream);
  bad input with a good stream in parallel (warmed up first: its seq jumps from 1047 to 20000, far
            beyond the stream's inbound and its receivers' outbound leases, whose next packets and
            copies are refused as srtp_lease until the control thread raised them): a tampered
            packet, a replayed one, one protected with a wrong key, a truncated one (tag cut), plain
            RTP, an SRTP packet with an SSRC alice does not own, a tampered SRTCP packet: each
            dropped and counted (srtp_auth / srtp_replay / unknown_ssrc, no srtp_lease), never
            forwarded; a good SRTCP packet is counted as rtcp; the good stream arrives complete;
  wrap      a new stream starting at seq 65500, 100 packets: delivered complete through the rollover
            (the MMR's inbound one; the receivers' copies start at seq 0);
  rekey     `participant rekey` of alice and of bob in the middle of a steady stream (warmed up
            first: seq 40000): alice switches to her new send key once the command returns (a new
            stream for the MMR), bob decrypts with his old or new recv key (a second pylibsrtp
            session; his copies under the new one are a new context: the first at seq 0): zero
            loss (but MAX_LEAD), nothing dropped by the MMR (but as srtp_lease what the receivers
            miss); `participant keys` gives the new keys; (first suite) alice's old send key is
            refused a few seconds later.
The dataplane runs with `rtcp = false` (its SRTCP input authenticated and counted as drop `rtcp`, no
SRTCP of its own toward the receivers); test_rtcp.py covers SRTCP termination and SRTCP reports.
Sequence numbers are rebased per receiver context and new streams may lose leading packets, as
srtp_lease (docs/design.md, "Keys" and "SRTP indexes: never twice"; MAX_LEAD of them, 0 now that a
new stream's first lease is provisional): mmrtest.srtp_match checks every receiver's plaintexts.
Then: no key (inline text, base64, hex) appears in `meeting show/list`, `sub list`, `stats`,
`status` (text and JSON) or in the dataplane's and controller's logs; the state file is 0600;
mixed mode is refused with exit 1 (`participant add --plain` in an SRTP meeting, `--srtp` in a
plain meeting, `participant keys` in a plain meeting, `meeting create --srtp` with a bad suite).

Run as root: /usr/bin/python3 tests/integration/test_srtp.py [--suite NAME ...]
Negative controls (each must make the test FAIL): --wrong-recv-key (bob decrypts with a key that is
not his); --canary (the leak search also looks for the first meeting's name, which `meeting show`
and the logs do print).
"""
import argparse
import base64
import binascii
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402

try:
    import pylibsrtp
except ImportError:       # reported as a failed check in body()
    pylibsrtp = None

SUITES = {   # name: (master key + salt bytes, pylibsrtp profile attribute)
    'AEAD_AES_128_GCM': (28, 'SRTP_PROFILE_AEAD_AES_128_GCM'),
    'AEAD_AES_256_GCM': (44, 'SRTP_PROFILE_AEAD_AES_256_GCM'),
    'AES_CM_128_HMAC_SHA1_80': (30, 'SRTP_PROFILE_AES128_CM_SHA1_80'),
}
PACE = 0.0007          # seconds between packets we send (the tap and the sockets keep up)
MAX_LEAD = 0           # leading packets a new stream may lose (as srtp_lease): none, its first lease
                       # is provisional (docs/design.md, "SRTP indexes: never twice")
WARM_MAX = 20          # warm-up packets sent at most before the MMR accepts one and copies it to all
LEAD_NOTE = ('no packet missing' if MAX_LEAD == 0 else
             'up to %d leading packets of a new stream missing' % MAX_LEAD)
ROUNDS = 25            # bad-input rounds per suite
WRAP_START, WRAP_N = 65500, 100
REKEY_N, REKEY_AT = 500, 150


# ---- keys ---------------------------------------------------------------------------------------

def parse_keys(text):
    """{'srtp_suite', 'send_key', 'recv_key'} from mmrctl's text lines (or a --json dict)."""
    if isinstance(text, dict):
        return {k: text.get(k) for k in ('srtp_suite', 'send_key', 'recv_key')}
    out = {}
    for line in text.splitlines():
        k, _, v = line.strip().partition(' ')
        if k in ('srtp_suite', 'send_key', 'recv_key'):
            out[k] = v.strip()
    return out


def key_bytes(inline, suite):
    """Master key || salt from 'inline:BASE64'; ValueError if malformed or of the wrong length."""
    if not isinstance(inline, str) or not inline.startswith('inline:'):
        raise ValueError('not an inline: key: %r' % (inline,))
    try:
        raw = base64.b64decode(inline[7:].split('|')[0], validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError('bad base64 in %r: %s' % (inline, e))
    if len(raw) != SUITES[suite][0]:
        raise ValueError('%s key of %d bytes, want %d' % (suite, len(raw), SUITES[suite][0]))
    return raw


def key_forms(inline):
    """Ways a key could leak into text: the inline string, its base64, the raw bytes in hex."""
    b64 = inline[7:]
    raw = base64.b64decode(b64)
    return [inline, b64, raw.hex(), raw.hex().upper()]


def session(suite, key, outbound):
    """A pylibsrtp session for any SSRC in one direction."""
    p = pylibsrtp.Policy(key=key, srtp_profile=getattr(pylibsrtp.Policy, SUITES[suite][1]),
                         ssrc_type=(pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                                    else pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return pylibsrtp.Session(p)


def unprotect(sess, pkt):
    try:
        return sess.unprotect(pkt)
    except pylibsrtp.Error:
        return None


# ---- one suite ----------------------------------------------------------------------------------

class Meeting:
    def __init__(self, env, c, k, suite, wrong_recv_key):
        self.env, self.c, self.suite = env, c, suite
        self.name = 'srtp%d' % k
        base = 7000 + 100 * k
        self.ports = {'alice': base, 'bob': base + 2, 'carol': base + 4}
        self.audio, self.video, self.wrap = 0xA1000000 + k, 0xB1000000 + k, 0xC1000000 + k
        self.targets = {'bob': 0, 'carol': 2}
        self.ctx = {n: {} for n in self.targets}   # per receiver context: {out SSRC: seq rebase}
        self.keys = {}
        self.issued = []            # every key mmrctl gave out (inline strings)
        self.wrong_recv_key = wrong_recv_key

    # -- set-up --
    def setup(self):
        env, c = self.env, self.c
        env.ctl('meeting', 'create', self.name, '--srtp', self.suite)
        for name, role in (('alice', 'sendonly'), ('bob', 'recvonly'), ('carol', 'recvonly')):
            cp = env.ctl('participant', 'add', self.name, name, '--addr', CLIENT_IP, '--port',
                         self.ports[name], '--role', role)
            keys = parse_keys(cp.stdout)
            ok = c.check(keys.get('srtp_suite') == self.suite and keys.get('send_key') and
                         keys.get('recv_key'),
                         '%s: participant add %s prints srtp_suite/send_key/recv_key' % (self.suite,
                                                                                     name),
                         repr(cp.stdout[:200]))
            if not ok:
                raise mmrtest.HarnessError('no keys for %s' % name)
            for k in ('send_key', 'recv_key'):
                try:
                    key_bytes(keys[k], self.suite)
                except ValueError as e:
                    c.check(False, '%s: %s %s well-formed' % (self.suite, name, k), e)
                    raise mmrtest.HarnessError(str(e))
            self.keys[name] = keys
            self.issued += [keys['send_key'], keys['recv_key']]
            again = env.ctl('participant', 'keys', self.name, name, json=True).stdout
            c.eq(parse_keys(again), keys, '%s: participant keys %s --json = what add printed'
                 % (self.suite, name))
        allk = [v for kk in self.keys.values() for v in (kk['send_key'], kk['recv_key'])]
        c.eq(len(set(allk)), len(allk), '%s: all six keys different' % self.suite)
        env.ctl('stream', 'add', self.name, 'alice', '--ssrc', self.audio, '--kind', 'audio',
                '--codec', 'opus')
        env.ctl('stream', 'add', self.name, 'alice', '--ssrc', self.video, '--kind', 'video',
                '--codec', 'vp8', '--layers', 3)
        env.ctl('stream', 'add', self.name, 'alice', '--ssrc', self.wrap, '--kind', 'audio',
                '--codec', 'opus')
        for name, t in self.targets.items():
            env.ctl('sub', 'set', self.name, name, '--ssrc', self.video, '--target', t)
        env.wait_dp_attached()
        self.socks = {n: env.udp_socket(p) for n, p in self.ports.items()}
        self.tx = session(self.suite, key_bytes(self.keys['alice']['send_key'], self.suite), True)
        self.rx = {}
        for n in ('bob', 'carol'):
            k = key_bytes(self.keys[n]['recv_key'], self.suite)
            if n == 'bob' and self.wrong_recv_key:
                k = bytes([k[0] ^ 0x80]) + k[1:]
            self.rx[n] = session(self.suite, k, False)

    def send(self, wire):
        self.env.send(self.socks['alice'], wire)
        time.sleep(PACE)

    def receive(self, name, max_wait=10):
        return self.env.recv_all(self.socks[name], timeout=0.6, max_wait=max_wait)

    def drops(self):
        return mmrtest.drop_counts(self.env.stats())

    def _counts(self, ssrc):
        """(the stream's rx_pkts, its fwd_copies, srtp_lease drops)"""
        st = self.env.stats()
        ss = mmrtest.stream_stats(st, ssrc) or {}
        return (int(ss.get('rx_pkts', 0)), int(ss.get('fwd_copies', 0)),
                mmrtest.drop_counts(st).get('srtp_lease', 0))

    def warm_up(self, packets, ssrc, what, copies):
        """Make the leases of a stream cover where it is: a new stream, or one whose seq jumped far
        ahead. Sends alice's plaintexts from `packets` (an iterator) one at a time, each once the
        MMR has accounted for the one before: refused as srtp_lease (inbound), or accepted (the
        stream's rx_pkts) and its `copies` copies sent (fwd_copies) or refused as srtp_lease (the
        receivers' outbound leases); until one is accepted and all its copies sent. Returns
        (partly, sent): the accepted plaintexts of which some copy was refused (a receiver may
        have any leading part of them) and the last one (every receiver has it)."""
        rx0, fwd0, lease0 = self._counts(ssrc)
        n, refused, partly = 0, 0, []
        for p in packets:
            n += 1
            self.env.send(self.socks['alice'], self.tx.protect(p))
            deadline = time.monotonic() + 5
            while True:
                rx, fwd, lease = self._counts(ssrc)
                done = ((rx == rx0 and lease > lease0) or
                        (rx == rx0 + 1 and fwd - fwd0 + lease - lease0 >= copies))
                if done or time.monotonic() > deadline:
                    break
            if not done or rx not in (rx0, rx0 + 1):
                break
            if rx == rx0 + 1 and fwd - fwd0 == copies:
                self.c.check(True, '%s: warm-up of the %s stream: %d packet(s) refused as srtp_lease, '
                             '%d accepted with some copy refused as srtp_lease, then one copied to '
                             'all' % (self.suite, what, refused, len(partly)))
                return partly, [p]
            if rx == rx0:
                refused += 1
            else:
                partly.append(p)
            rx0, fwd0, lease0 = rx, fwd, lease
            if n >= WARM_MAX:
                break
        self.c.check(False, '%s: warm-up of the %s stream' % (self.suite, what),
                     '%d sent: %d refused, %d partly copied; then rx_pkts +%d, fwd_copies +%d, '
                     'srtp_lease +%d' % (n, refused, len(partly), rx - rx0, fwd - fwd0, lease - lease0))
        raise mmrtest.HarnessError('warm-up of %s failed' % what)

    # -- delivery: audio + VP8 L1T3 --
    def delivery(self):
        c, s = self.c, self.suite
        audio = rtpgen.OpusLike(self.audio, seq=1000)
        video = rtpgen.Vp8L1T3(self.video, keyframe_interval=24, pkts_per_frame=3, payload_size=300)
        models = {n: rtpgen.LayerSelModel() for n in self.targets}
        want = {n: [] for n in self.targets}
        wires = []
        d0 = self.drops()
        for f in range(48):
            a = audio.next_packet()
            for n in want:
                want[n].append(a.data)
            wire = self.tx.protect(a.data)
            wires.append(wire)
            self.send(wire)
            for p in video.next_frame().packets:
                for n, t in self.targets.items():
                    o = models[n].feed(p, t)
                    if o is not None:
                        want[n].append(rtpgen.rewrite_vp8(p.data, o[0], o[1], o[2], self.video))
                wire = self.tx.protect(p.data)
                wires.append(wire)
                self.send(wire)
        got = {n: self.receive(n) for n in self.targets}
        lost = {}
        for n in self.targets:
            plain = [unprotect(self.rx[n], w) for w in got[n]]
            bad = sum(1 for p in plain if p is None)
            c.eq(bad, 0, '%s: every copy to %s authenticates and decrypts with its recv_key' % (s, n))
            plain = [p for p in plain if p is not None]
            ok, detail = mmrtest.srtp_match(plain, want[n], MAX_LEAD, self.ctx[n])
            c.check(ok, '%s: %s gets exactly the expected plaintext (audio unchanged, VP8 T%d '
                    'layer-selected and rewritten; seq rebased, the first copies at 0; %s)'
                    % (s, n, self.targets[n], LEAD_NOTE), detail)
            lost[n] = {'0x%08x' % ssrc: sum(1 for p in want[n] if rtpgen.parse_rtp(p).ssrc == ssrc) -
                       sum(1 for p in plain if rtpgen.parse_rtp(p).ssrc == ssrc)
                       for ssrc in (self.audio, self.video)}
            for ssrc, what in ((self.audio, 'audio'), (self.video, 'video')):
                seqs = [rtpgen.parse_rtp(p).seq for p in plain if rtpgen.parse_rtp(p).ssrc == ssrc]
                gaps = sum(1 for x, y in zip(seqs, seqs[1:]) if (y - x) & 0xffff != 1)
                c.check(seqs and not gaps, '%s: %s %s sequence numbers contiguous' % (s, n, what),
                        '%d packets, %d gaps' % (len(seqs), gaps))
            c.check(got[n] and all(w not in want[n] for w in got[n][:20]),
                    '%s: what %s gets on the wire is not plaintext' % (s, n))
        other = session(self.suite, key_bytes(self.keys['carol']['recv_key'], self.suite), False)
        c.check(got['bob'] and unprotect(other, got['bob'][0]) is None,
                "%s: bob's copy does not decrypt with carol's key" % s)
        alice_in = self.receive('alice', max_wait=0.3)
        c.eq(len(alice_in), 0, '%s: nothing sent back to alice (sendonly)' % s)
        d1 = self.drops()
        c.eq(_delta(d0, d1, 'srtp_auth', 'srtp_replay'), {'srtp_auth': 0, 'srtp_replay': 0},
             '%s: no SRTP drops on the good streams' % s)
        lease = _delta(d0, d1, 'srtp_lease')['srtp_lease']
        c.check(all(sum(lost[n].values()) == lease for n in lost),
                '%s: the receivers miss exactly the packets the MMR refused as srtp_lease (%d)'
                % (s, lease), lost)

    # -- bad input next to a good stream --
    def bad_input(self):
        c, s = self.c, self.suite
        audio = rtpgen.OpusLike(self.audio, seq=20000, ts=7777)
        wrong = session(self.suite, os.urandom(SUITES[self.suite][0]), True)
        stranger = session(self.suite, key_bytes(self.keys['alice']['send_key'], self.suite), True)
        # the audio goes on at seq 20000, far beyond its lease: warm up, then count exactly
        lead, good = self.warm_up((audio.next_packet().data for _ in range(WARM_MAX)), self.audio,
                                  'audio', len(self.targets))
        expect = {'srtp_auth': 0, 'srtp_replay': 0, 'unknown_ssrc': 0, 'rtcp': 0, 'srtp_lease': 0}
        d0 = self.drops()
        for rnd in range(ROUNDS):
            # tampered: one payload bit flipped, sent before the genuine packet of that seq
            g = audio.next_packet().data
            w = self.tx.protect(g)
            t = bytearray(w)
            t[len(g) - 5] ^= 0x01
            self.send(bytes(t))
            expect['srtp_auth'] += 1
            self.send(w)
            good.append(g)
            # replay of the packet just delivered
            self.send(w)
            expect['srtp_replay'] += 1
            # wrong key, then the genuine one
            g = audio.next_packet().data
            self.send(wrong.protect(g))
            expect['srtp_auth'] += 1
            w = self.tx.protect(g)
            # truncated: the last 4 bytes of the tag cut off
            self.send(w[:-4])
            expect['srtp_auth'] += 1
            self.send(w)
            good.append(g)
            # plain RTP into the SRTP meeting, then the genuine one
            g = audio.next_packet().data
            self.send(g)
            expect['srtp_auth'] += 1
            self.send(self.tx.protect(g))
            good.append(g)
            # an SSRC alice does not own (correctly protected with her key)
            self.send(stranger.protect(rtpgen.rtp_packet(rnd, rnd, 0xDEAD0000 + rnd, 111,
                                                         bytes(40))))
            expect['unknown_ssrc'] += 1
            # SRTCP: a good sender report, and a tampered one
            sr = self.tx.protect_rtcp(rtpgen.rtcp_sender_report(self.audio, ts=rnd, pkts=rnd))
            self.send(sr)
            expect['rtcp'] += 1
            tr = bytearray(self.tx.protect_rtcp(rtpgen.rtcp_sender_report(self.audio, ts=rnd + 1)))
            tr[10] ^= 0x40
            self.send(bytes(tr))
            expect['srtp_auth'] += 1
        got = {n: self.receive(n) for n in self.targets}
        time.sleep(0.2)
        d1 = self.drops()
        for n in self.targets:
            plain = [unprotect(self.rx[n], w) for w in got[n]]
            ok, detail = mmrtest.srtp_match(plain, [lead, good], (len(lead), 0), self.ctx[n])
            c.check(ok, '%s: %s gets the good stream complete next to the bad packets, nothing else '
                    '(seq rebased as before)' % (s, n), '%d packets; %s' % (len(plain), detail))
        c.eq(_delta(d0, d1, *expect), expect, '%s: bad packets counted by reason' % s)

    # -- sequence-number wrap --
    def wrap_stream(self):
        c, s = self.c, self.suite
        src = rtpgen.OpusLike(self.wrap, seq=WRAP_START, ts=1)
        good, lost = [], {}
        d0 = self.drops()
        for _ in range(WRAP_N):
            g = src.next_packet().data
            good.append(g)
            self.send(self.tx.protect(g))
        for n in self.targets:
            got = self.receive(n)
            plain = [unprotect(self.rx[n], w) for w in got]
            ok, detail = mmrtest.srtp_match(plain, good, MAX_LEAD, self.ctx[n])
            c.check(ok, '%s: %s gets all %d packets across the seq wrap %d..%d (a new stream: seq '
                    'rebased, the first copy at 0; %s)'
                    % (s, n, WRAP_N, WRAP_START, (WRAP_START + WRAP_N - 1) & 0xffff, LEAD_NOTE),
                    '%d received; %s' % (len(got), detail))
            lost[n] = len(good) - sum(p is not None for p in plain)
        d1 = self.drops()
        c.eq(_delta(d0, d1, 'srtp_auth', 'srtp_replay'), {'srtp_auth': 0, 'srtp_replay': 0},
             '%s: no SRTP drops across the wrap' % s)
        lease = _delta(d0, d1, 'srtp_lease')['srtp_lease']
        c.check(all(x == lease for x in lost.values()), '%s: the receivers miss exactly the packets '
                'the MMR refused as srtp_lease (%d)' % (s, lease), lost)

    # -- rekey during a steady stream --
    def rekey(self, check_old_key_expiry):
        c, s, env = self.c, self.suite, self.env
        src = rtpgen.OpusLike(self.audio, seq=40000, ts=99)
        # the audio goes on at seq 40000, far beyond its lease: warm up first
        lead, sent = self.warm_up((src.next_packet().data for _ in range(WARM_MAX)), self.audio,
                                  'audio', len(self.targets))
        sent = lead + sent
        n_warm = len(sent)
        state = {'tx': self.tx}
        old_tx = self.tx
        new_key = [False] * n_warm      # per packet of sent: under alice's new send key
        reached = threading.Event()

        def sender():
            for i in range(REKEY_N):
                g = src.next_packet().data
                tx = state['tx']
                sent.append(g)
                new_key.append(tx is not old_tx)
                self.send(tx.protect(g))
                if i == REKEY_AT:
                    reached.set()
                time.sleep(0.003)
        d0 = self.drops()
        th = threading.Thread(target=sender)
        th.start()
        reached.wait(20)
        t_rekey = time.monotonic()
        new = {}
        for n in ('alice', 'bob'):
            cp = env.ctl('participant', 'rekey', self.name, n)
            new[n] = parse_keys(cp.stdout)
            self.issued += [new[n].get('send_key', ''), new[n].get('recv_key', '')]
            if n == 'alice':
                # the sender switches to its new send key once the command returns
                state['tx'] = session(self.suite, key_bytes(new[n]['send_key'], self.suite), True)
        t_rekey = time.monotonic() - t_rekey
        th.join()
        for n in ('alice', 'bob'):
            old = self.keys[n]
            c.check(new[n].get('srtp_suite') == self.suite and
                    new[n].get('send_key') not in (None, old['send_key']) and
                    new[n].get('recv_key') not in (None, old['recv_key']),
                    '%s: participant rekey %s prints new keys' % (s, n), new[n])
            c.eq(parse_keys(env.ctl('participant', 'keys', self.name, n).stdout), new[n],
                 '%s: participant keys %s gives the new keys' % (s, n))
        bob_new = session(self.suite, key_bytes(new['bob']['recv_key'], self.suite), False)
        bob_ctx = {}                    # bob's copies under his new recv key: a new context
        # the warm-up's packets of which some copy was refused (a receiver has a leading part of
        # them), the old key's, and alice's under her new send key (a new stream for the MMR)
        j = new_key.index(True) if True in new_key else len(sent)
        streams = [(0, lead, len(lead)), (len(lead), sent[len(lead):j], 0),
                   (j, sent[j:], MAX_LEAD)]                      # (first, packets, max_lead)
        pos = {p[:2] + p[4:]: i for i, p in enumerate(sent)}     # a packet but for its seq

        def part(lo, hi):
            """sent[lo:hi] as srtp_match's segments and max_leads: a packet that is not the first
            of its stream may be missing only if it leads a stream"""
            segs, leads = [], []
            for first, pk, most in streams:
                a, b = max(lo, first), min(hi, first + len(pk))
                if a < b:
                    segs.append(pk[a - first:b - first])
                    leads.append(most if a == first else 0)
            return (segs, leads) if segs else ([], 0)

        got = {n: self.receive(n) for n in self.targets}
        lease = _delta(d0, self.drops(), 'srtp_lease')['srtp_lease']
        for n in self.targets:
            plain, keys = [], []
            for w in got[n]:
                p = unprotect(self.rx[n], w)
                k = 'old' if p is not None else None
                if p is None and n == 'bob':
                    p = unprotect(bob_new, w)
                    k = 'new' if p is not None else None
                plain.append(p)
                keys.append(k)
            n_old, n_new = keys.count('old'), keys.count('new')
            bad = keys.count(None)
            if n == 'bob':
                c.check(n_old > 0 and n_new > 0, '%s: bob got copies under his old and his new '
                        'recv key' % s, 'old %d, new %d' % (n_old, n_new))
                c.check(bad == 0 and keys == sorted(keys, key=lambda x: x == 'new'),
                        '%s: bob\'s copies switch from his old to his new recv key once' % s,
                        '%d undecryptable, keys %s' % (bad, keys))
            # bob: one context until his first copy under the new key, another from there
            new_plain = [p for p, k in zip(plain, keys) if k == 'new']
            k_new = pos.get(new_plain[0][:2] + new_plain[0][4:], len(sent)) if new_plain else len(sent)
            old_plain = [p for p, k in zip(plain, keys) if k != 'new']
            segs, leads = part(0, k_new)
            ok, detail = mmrtest.srtp_match(old_plain, segs, leads, self.ctx[n])
            if ok and n == 'bob':
                segs, leads = part(k_new, len(sent))
                ok, detail = mmrtest.srtp_match(new_plain, segs, leads, bob_ctx)
                detail = 'under his new recv key: ' + detail
            c.check(ok, '%s: %s gets all %d packets of the stream across the rekeys (alice\'s under '
                    'her new key a new stream: %s; seq rebased per receiver context, the first copy '
                    'under a new recv key at 0)' % (s, n, len(sent), LEAD_NOTE),
                    '%d received, %d decrypted; %s' % (len(got[n]), sum(p is not None for p in plain),
                                                       detail))
            have = {p[:2] + p[4:] for p in plain if p is not None}
            c.eq(sum(1 for p in sent[len(lead):] if p[:2] + p[4:] not in have), lease,
                 '%s: %s misses exactly the packets the MMR refused as srtp_lease' % (s, n))
        c.check(j < len(sent), '%s: alice sent with her new send key' % s, len(sent) - j)
        c.eq(_delta(d0, self.drops(), 'srtp_auth', 'srtp_replay'),
             {'srtp_auth': 0, 'srtp_replay': 0}, '%s: the MMR dropped nothing during the rekeys but '
             'what it counts as srtp_lease (%d; %.2f s of mmrctl)' % (s, lease, t_rekey))
        self.keys['alice'], self.keys['bob'] = new['alice'], new['bob']
        self.tx = state['tx']
        self.rx['bob'] = bob_new
        self.ctx['bob'] = bob_ctx
        if check_old_key_expiry:
            time.sleep(4.0)     # "about 2 s" after the first packet under the new key
            d1 = self.drops()
            g = src.next_packet().data
            self.send(old_tx.protect(g))
            time.sleep(0.3)
            stray = self.receive('bob', max_wait=0.5) + self.receive('carol', max_wait=0.5)
            c.check(_delta(d1, self.drops(), 'srtp_auth')['srtp_auth'] == 1 and not stray,
                    "%s: alice's old send key refused 4 s after the switch" % s,
                    '%s, %d copies forwarded' % (_delta(d1, self.drops(), 'srtp_auth'), len(stray)))


def _delta(a, b, *keys):
    return {k: b.get(k, 0) - a.get(k, 0) for k in keys}


# ---- keys out of sight, mixed mode ------------------------------------------------------------------

def keys_hidden(env, c, meetings, canary=False):
    issued = [k for m in meetings for k in m.issued if k]
    forms = [f for k in issued for f in key_forms(k)]
    if canary:      # negative control: a string that is in the outputs must be found
        forms.append('"name": "%s"' % meetings[0].name)
        forms.append(meetings[0].name)
    outputs = {}
    for m in meetings:
        outputs['meeting show %s' % m.name] = env.ctl('meeting', 'show', m.name).stdout
        outputs['meeting show %s --json' % m.name] = env.ctl('meeting', 'show', m.name,
                                                             json=True).raw_stdout
        outputs['sub list %s' % m.name] = env.ctl('sub', 'list', m.name).stdout
    for args in (('meeting', 'list'), ('stats', '--streams'), ('status',)):
        outputs[' '.join(args)] = env.ctl(*args).stdout
        outputs[' '.join(args) + ' --json'] = env.ctl(*args, json=True).raw_stdout
    time.sleep(0.2)
    outputs['dataplane log'] = env.log_text('dataplane')
    outputs['controller log'] = env.log_text('controller')
    for what, text in outputs.items():
        leaks = [f for f in forms if f in text]
        c.check(not leaks, 'no key in %s' % what, 'found %d key forms, e.g. %s' % (
            len(leaks), leaks[0][:12] + '...' if leaks else ''))
    try:
        mode = os.stat(env.state_file).st_mode & 0o777
        c.eq(oct(mode), oct(0o600), 'state file (holds the keys) is mode 0600')
        mode = os.stat(env.state_file + '.journal').st_mode & 0o777
        c.eq(oct(mode), oct(0o600), 'its journal (holds the keys) is mode 0600')
    except OSError as e:
        c.check(False, 'state file exists', e)
    for m in meetings:
        txt = env.ctl('meeting', 'show', m.name).stdout
        c.check(m.suite in txt, 'meeting show %s names its suite' % m.name, txt.splitlines()[:1])


def mixed_mode(env, c, srtp_meeting):
    env.ctl('meeting', 'create', 'plainm', '--plain')
    env.ctl('participant', 'add', 'plainm', 'pat', '--addr', CLIENT_IP, '--port', 7900)
    before = {n: env.ctl('meeting', 'show', n, json=True).stdout for n in (srtp_meeting, 'plainm')}
    bad = [
        ('participant', 'add', srtp_meeting, 'mixer', '--addr', CLIENT_IP, '--port', 7901,
         '--plain'),
        ('participant', 'add', 'plainm', 'mixer', '--addr', CLIENT_IP, '--port', 7902, '--srtp',
         'AEAD_AES_128_GCM'),
        ('participant', 'keys', 'plainm', 'pat'),
        ('participant', 'rekey', 'plainm', 'pat'),
        ('meeting', 'create', 'badsuite', '--srtp', 'AES_CM_128_HMAC_SHA1_32'),
        ('meeting', 'create', 'badsuite', '--srtp'),
        ('meeting', 'create', 'badsuite', '--srtp', 'AEAD_AES_128_GCM', '--plain'),
    ]
    for args in bad:
        cp = env.ctl(*args, check=False)
        c.check(cp.returncode == 1 and cp.stderr.startswith('error:') and not cp.stdout.strip(),
                'mmrctl %s -> exit 1 with "error:"' % ' '.join(map(str, args)),
                'exit %d, stdout %r, stderr %r' % (cp.returncode, cp.stdout[:80],
                                                   cp.stderr.strip()[:120]))
    after = {n: env.ctl('meeting', 'show', n, json=True).stdout for n in before}
    c.check(after == before, 'meetings unchanged by the refused commands')
    c.check(env.ctl('meeting', 'show', 'badsuite', check=False).returncode == 1,
            'no meeting made by the refused meeting create')


# ---- main -------------------------------------------------------------------------------------------

def body(c, args):
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp importable (scripts/install-deps.sh)'):
        return
    suites = args.suite or list(SUITES)
    with MmrEnv('srtp', rtcp=False) as env:
        env.wait_dp_attached(10)
        cp = env.ctl('meeting', 'create', 'probe', '--srtp', suites[0], check=False)
        if not c.check(cp.returncode == 0, 'mmrctl meeting create --srtp %s' % suites[0],
                       cp.stderr.strip()):
            return
        env.ctl('meeting', 'end', 'probe')
        meetings = []
        for k, suite in enumerate(suites):
            c.note('== %s' % suite)
            m = Meeting(env, c, k, suite, args.wrong_recv_key)
            meetings.append(m)
            m.setup()
            m.delivery()
            m.bad_input()
            m.wrap_stream()
            m.rekey(check_old_key_expiry=(k == 0))
        c.note('== keys and mixed mode')
        keys_hidden(env, c, meetings, args.canary)
        mixed_mode(env, c, meetings[0].name)
        c.check(all(env.alive()), 'dataplane and controller alive at the end')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--suite', action='append', choices=list(SUITES))
    ap.add_argument('--wrong-recv-key', action='store_true',
                    help='negative control: bob decrypts with a wrong key; the test must FAIL')
    ap.add_argument('--canary', action='store_true',
                    help='negative control: also look for the first meeting\'s name as if it were a '
                    'key; the "no key in ..." checks that print it must FAIL')
    args = ap.parse_args()
    mmrtest.run_test('test_srtp', lambda c: body(c, args))


if __name__ == '__main__':
    main()
