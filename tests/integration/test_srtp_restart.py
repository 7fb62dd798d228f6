#!/usr/bin/python3
"""
test_srtp_restart.py - SRTP streams whose sequence numbers have wrapped (rollover counter ROC >= 1)
go on through kill -9 of the dataplane and of the controller, checked with pylibsrtp (libsrtp2) on the
client side.

Clients do not restart when the MMR does: alice keeps ONE sending session, bob and carol ONE
receiving session each for the whole test (two meetings: AEAD_AES_128_GCM and
AES_CM_128_HMAC_SHA1_80), so their contexts keep their ROC and the MMR's new contexts must match it.
alice sends audio A and VP8 video V (L1T3, target the top layer, a keyframe every 10 frames) and a
second audio stream P; bob and carol receive everything.

 1. wrap       A from 65500, V from 65400, P from 65530 cross 65535 -> 0 (ROC 1 everywhere): every
               copy decrypts to exactly what alice sent; `stats --streams --json` srtp_roc of A is 1.
 2. dataplane  kill -9 and a new dataplane (new segment, new epoch): the controller replays the
               positions it read from the dead one; A (and V from its next keyframe) reach bob and
               carol, decrypted by their old sessions; srtp_roc of A is 1; no srtp_auth/srtp_replay.
 3. controller kill -9 and restart (its state file holds no positions: it learns them from the live
               dataplane); then A wraps again (ROC 2) and the dataplane is killed: a controller that
               had not re-learnt A's position could not resume it (ROC 2 is beyond the probe's reach
               from 0); everything goes on at ROC 2.
 4. outage     A runs to 65279 and the dataplane is killed; alice goes on sending while it is down
               (those packets are lost) and wraps to ROC 3: after the restart A is delivered again.
               P jumps ahead by more than half the sequence space during the same outage (in steps
               its own context follows), so its published position is one ROC off: the MMR's
               unsynchronised probe (ROC + 1) authenticates it; no srtp_auth. (P's copies are not
               checked: no receiver's context could follow such a jump, libsrtp takes them as replays.)
 5. rekey      alice and bob get new keys (new sessions at ROC 0); carol keeps hers (ROC 3 on A):
               after one more dataplane kill -9 both key generations resume (the positions were reset
               with the keys).
After every restart: no srtp_auth or srtp_replay drop.

Run as root: /usr/bin/python3 tests/integration/test_srtp_restart.py [--asan] (--asan: the
build-asan/ programs; any sanitizer report fails the test at the end).
Negative control (must make the test FAIL): --forget-receivers (bob and carol start new sessions at
ROC 0 after the first dataplane restart, as if the MMR's copies could restart at ROC 0).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402
from test_srtp import SUITES, parse_keys, key_bytes, session, unprotect, pylibsrtp  # noqa: E402

PACE = 0.0007           # seconds between packets we send
TICKS = 100             # per burst: one A and one P packet per tick, a V frame every 2nd tick
RECEIVERS = ('bob', 'carol')


def rtp_ssrc_seq(wire):
    return int.from_bytes(wire[8:12], 'big'), int.from_bytes(wire[2:4], 'big')


class Meeting:
    def __init__(self, env, c, k, suite):
        self.env, self.c, self.suite = env, c, suite
        self.name = 'rst%d' % k
        base = 8000 + 100 * k
        self.ports = {'alice': base, 'bob': base + 2, 'carol': base + 4}
        self.A, self.V, self.P = 0xA0000000 + k, 0xB0000000 + k, 0xD0000000 + k
        self.audio = rtpgen.OpusLike(self.A, seq=65500, ts=1)
        self.probe = rtpgen.OpusLike(self.P, seq=65530, ts=7)
        self.video = rtpgen.Vp8L1T3(self.V, keyframe_interval=10, pkts_per_frame=3, payload_size=300,
                                    seq=65400)

    def setup(self):
        env = self.env
        env.meeting(self.name, srtp=self.suite)
        self.keys = {}
        for n, role in (('alice', 'sendonly'), ('bob', 'recvonly'), ('carol', 'recvonly')):
            self.keys[n] = parse_keys(env.participant(self.name, n, self.ports[n], role=role).stdout)
        env.stream(self.name, 'alice', self.A, kind='audio')
        env.stream(self.name, 'alice', self.V, kind='video', layers=3)
        env.stream(self.name, 'alice', self.P, kind='audio')
        self.socks = {n: env.udp_socket(p) for n, p in self.ports.items()}
        self.tx = session(self.suite, key_bytes(self.keys['alice']['send_key'], self.suite), True)
        self.rx = {n: self.new_rx(n) for n in RECEIVERS}

    def new_rx(self, n):
        return session(self.suite, key_bytes(self.keys[n]['recv_key'], self.suite), False)

    # -- media --
    def send_burst(self, ticks=TICKS, a_before=()):
        """Send a burst; returns {ssrc: [plaintext, ...]} in order (a_before: A packets sent just
        before it)."""
        sent = {self.A: list(a_before), self.V: [], self.P: []}
        keyframes = []
        for t in range(ticks):
            pkts = [self.audio.next_packet(), self.probe.next_packet()]
            if t % 2 == 0:
                f = self.video.next_frame()
                if f.packets[0].keyframe:
                    keyframes.append(len(sent[self.V]))
                pkts += f.packets
            for p in pkts:
                sent[p.ssrc].append(p.data)
                self.env.send(self.socks['alice'], self.tx.protect(p.data))
                time.sleep(PACE)
        self.keyframes = keyframes
        return sent

    def skip(self, gen, n, send):
        """alice's generator jumps n sequence numbers ahead in steps below 2^15, one packet at the end
        of each step: her SRTP context follows, and so do the MMR's and the receivers' if the packets
        are sent (send=True; returns them) - else they are lost on the way (the dataplane is down)."""
        out = []
        while n > 0:
            step = min(n, 0x7000)
            gen.seq = (gen.seq + step - 1) & 0xffff
            p = gen.next_packet().data
            wire = self.tx.protect(p)
            if send:
                self.env.send(self.socks['alice'], wire)
                out.append(p)
            n -= step
        return out

    def check_burst(self, sent, what, fresh_layer_state=False):
        """Every copy bob and carol got decrypts with their session to exactly what was sent: all of A,
        all of V (after a dataplane start: from its first keyframe)."""
        c, s = self.c, self.suite
        want_v = sent[self.V]
        if fresh_layer_state:
            want_v = want_v[self.keyframes[0]:] if self.keyframes else []
        for n in RECEIVERS:
            got = self.env.recv_all(self.socks[n], timeout=0.6, max_wait=10)
            plain = {self.A: [], self.V: []}
            bad = {self.A: 0, self.V: 0}
            for w in got:
                ssrc, _ = rtp_ssrc_seq(w)
                if ssrc not in plain:
                    continue            # P: see the module's doc
                p = unprotect(self.rx[n], w)
                if p is None:
                    bad[ssrc] += 1
                else:
                    plain[ssrc].append(p)
            for ssrc, want, kind in ((self.A, sent[self.A], 'audio'), (self.V, want_v, 'video')):
                c.check(bad[ssrc] == 0 and plain[ssrc] == want and want,
                        '%s: %s: %s gets all %d %s packets, decrypted by its session'
                        % (s, what, n, len(want), kind),
                        '%d received, %d not decrypted, %s' % (len(plain[ssrc]) + bad[ssrc], bad[ssrc],
                                                               _diff(plain[ssrc], want)))

    def roc(self, ssrc):
        for st in self.env.stats().get('streams', []):
            if st.get('meeting') == self.name and st.get('ssrc') == ssrc:
                return st.get('srtp_roc')
        return None

    def rekey(self):
        for n in ('alice', 'bob'):
            self.keys[n] = self.env.rekey(self.name, n)
        self.tx = session(self.suite, key_bytes(self.keys['alice']['send_key'], self.suite), True)
        self.rx['bob'] = self.new_rx('bob')


def _diff(got, want):
    if got == want:
        return 'identical'
    i = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
    g = rtp_ssrc_seq(got[i])[1] if i < len(got) else '-'
    w = rtp_ssrc_seq(want[i])[1] if i < len(want) else '-'
    return 'got %d, want %d; first difference at #%d: got seq %s, want seq %s' % (len(got), len(want),
                                                                                i, g, w)


def no_srtp_drops(env, c, what):
    d = mmrtest.drop_counts(env.stats())
    c.eq({k: d.get(k, 0) for k in ('srtp_auth', 'srtp_replay')}, {'srtp_auth': 0, 'srtp_replay': 0},
         '%s: no SRTP drops since the dataplane started' % what)


def wait_new_dataplane(env, timeout=15):
    """After start_dataplane(): wait until the controller is attached to the NEW dataplane and its
    replay is applied (until it notices the restart, status still shows the dead one)."""
    deadline = time.monotonic() + timeout * (2 if env.asan else 1)
    while True:
        st = env.ctl('status', json=True, check=False, timeout=5)
        if st.returncode == 0 and mmrtest.dp_attached(st.stdout) and \
                st.stdout['dataplane'].get('pid') == env.dp.pid:
            return
        if time.monotonic() > deadline:
            raise mmrtest.HarnessError('controller not synced with dataplane pid %d after %d s: %s'
                                       % (env.dp.pid, timeout, st.stdout if st.returncode == 0
                                          else st.stderr))
        time.sleep(0.05)


def restart_dataplane(env, c, what):
    env.kill_dataplane(9)
    env.start_dataplane()
    wait_new_dataplane(env)
    c.check(all(env.alive()), '%s: dataplane restarted, controller alive' % what)


def body(c, args):
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp importable (scripts/install-deps.sh)'):
        return
    with MmrEnv('srtprst', asan=args.asan) as env:
        env.wait_dp_attached(10)
        ms = [Meeting(env, c, k, s) for k, s in enumerate(('AEAD_AES_128_GCM',
                                                           'AES_CM_128_HMAC_SHA1_80'))]
        for m in ms:
            m.setup()
        env.wait_dp_attached()

        c.note('== 1. wrap (ROC 0 -> 1)')
        for m in ms:
            m.check_burst(m.send_burst(), 'wrap')
            c.eq(m.roc(m.A), 1, '%s: stats srtp_roc of A after the wrap' % m.suite)
        no_srtp_drops(env, c, 'wrap')
        time.sleep(0.3)             # the controller reads the positions every 100 ms

        c.note('== 2. kill -9 of the dataplane at ROC 1')
        restart_dataplane(env, c, 'dataplane restart 1')
        if args.forget_receivers:
            for m in ms:
                m.rx = {n: m.new_rx(n) for n in RECEIVERS}
        for m in ms:
            c.eq(m.roc(m.A), 1, '%s: a new dataplane resumes A at ROC 1 (stats srtp_roc)' % m.suite)
            m.check_burst(m.send_burst(), 'after dataplane restart 1', fresh_layer_state=True)
        no_srtp_drops(env, c, 'dataplane restart 1')

        c.note('== 3. kill -9 of the controller, A wraps to ROC 2, kill -9 of the dataplane')
        env.kill_controller(9)
        env.start_controller()
        env.wait_dp_attached(15)
        for m in ms:
            m.check_burst(m.send_burst(), 'after controller restart')
            pre = m.skip(m.audio, 65536 - 100 - m.audio.seq, send=True)   # A: 100 before the wrap
            m.check_burst(m.send_burst(150, pre), 'A wraps to ROC 2 under the new controller')
            c.eq(m.roc(m.A), 2, '%s: stats srtp_roc of A' % m.suite)
        time.sleep(0.5)             # the new controller learns the positions from the live dataplane
        restart_dataplane(env, c, 'dataplane restart 2')
        for m in ms:
            c.eq(m.roc(m.A), 2, '%s: the new dataplane resumes A at ROC 2' % m.suite)
            m.check_burst(m.send_burst(), 'after dataplane restart 2', fresh_layer_state=True)
        no_srtp_drops(env, c, 'dataplane restart 2')

        c.note('== 4. A wraps while the dataplane is down; P jumps ahead (the probe)')
        for m in ms:
            pre = m.skip(m.audio, 0xff00 - 100 - m.audio.seq, send=True)
            m.check_burst(m.send_burst(a_before=pre), 'A up to 0xff00')
            c.eq((m.roc(m.A), m.roc(m.P)), (2, 1), '%s: stats srtp_roc of A and P' % m.suite)
        time.sleep(0.3)
        env.kill_dataplane(9)
        for m in ms:
            m.skip(m.audio, 300, send=False)                   # lost while the dataplane is down
            m.skip(m.probe, 0xc100 - m.probe.seq, send=False)  # far past the half its position names
        env.start_dataplane()
        wait_new_dataplane(env)
        for m in ms:
            sent = m.send_burst()
            m.check_burst(sent, 'A wrapped to ROC 3 during the outage', fresh_layer_state=True)
            c.eq(m.roc(m.A), 3, '%s: stats srtp_roc of A after the outage' % m.suite)
            st = next((st for st in env.stats().get('streams', [])
                       if st.get('meeting') == m.name and st.get('ssrc') == m.P), {})
            c.check(int(st.get('rx_pkts', -1)) == len(sent[m.P]) and st.get('srtp_roc') == 1,
                    '%s: P (position one ROC off) authenticated by the probe: all %d packets, ROC 1'
                    % (m.suite, len(sent[m.P])), st)
        no_srtp_drops(env, c, 'outage')

        c.note('== 5. rekey of alice and bob, kill -9 of the dataplane')
        for m in ms:
            m.rekey()
            m.check_burst(m.send_burst(), 'after the rekey')
        time.sleep(0.3)
        restart_dataplane(env, c, 'dataplane restart 4')
        for m in ms:
            m.check_burst(m.send_burst(), 'new and old keys after dataplane restart 4',
                          fresh_layer_state=True)
        no_srtp_drops(env, c, 'dataplane restart 4')
        c.check(all(env.alive()), 'dataplane and controller alive at the end')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--asan', action='store_true', help='run the build-asan/ programs')
    ap.add_argument('--forget-receivers', action='store_true',
                    help='negative control: receivers start new sessions after the first restart; '
                    'the test must FAIL')
    args = ap.parse_args()
    mmrtest.run_test('test_srtp_restart', lambda c: body(c, args))


if __name__ == '__main__':
    main()
