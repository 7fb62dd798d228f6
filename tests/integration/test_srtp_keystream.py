#!/usr/bin/python3
"""
test_srtp_keystream.py - the MMR never encrypts twice under one (key, SSRC, packet index), and never
accepts a packet twice, across dataplane restarts, controller restarts, both (a host reboot: shared
memory gone, only the disk left), simulcast switches, sequence and rollover wraps and rekeys
(issue 9; docs/design.md, "Keys"). Checked on the receivers' side with pylibsrtp (libsrtp2).

One meeting per suite (AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80). alice publishes
audio A and a two-encoding VP8 simulcast group V0/V1; bob receives both (his simulcast encoding is
switched back and forth), carol receives both at encoding 0. bob and carol keep ONE receiving
session each (a new one only when their key changes), as a client does.

A recorder follows every copy a receiver is sent: its key, SSRC, and its packet index (ROC
estimated from the sequence numbers exactly as the receiver does, RFC 3711 appendix A). An index
seen twice under one key and SSRC is keystream reuse and fails the test, whatever the plaintext.
Every copy must also decrypt with the receiver's one session (continuity: ROC guessed right).

 1. start; bob switched 0 -> 1 -> 0 (simulcast, one output context)
 2. dataplane kill -9 right after a switch to 1, restart (controller alive); replays of alice's
    packets captured before the kill are dropped and counted (srtp_replay)
 3. controller kill -9, restart; more traffic; replays refused
 4. bob's audio copies wrap (more than 65536 of them: output ROC 0 -> 1), then BOTH processes are
    killed and the shared segment removed (host reboot emulation), both restarted; replays refused
 5. rekey of alice and bob (new sessions for them), dataplane kill -9 inside the rekey window;
    replays under the old key refused
 6. the ledger cannot be written (chattr +i: every write fails): nothing is accepted or sent
    beyond the durable leases (counted srtp_lease, logged); writable again, media resumes
 7. a stale controller: the state files from before the rekey (snapshot and journal) are put back and the controller
    restarted with it: it holds (its state is older than the tables); made to replay anyway
    (`dataplane reset --yes-wipe`), the dataplane refuses the retired keys (nothing is encrypted
    under them)
 8. the ledger is lost: dataplane kill -9, its ledger file deleted, restart: the controller sees a
    new ledger id and gives every SRTP participant new keys before its replay (logged); alice's
    packets under her old key are dropped (srtp_auth), the receivers' old sessions decrypt none of
    the copies; with the new keys (fetched with `participant keys`) every copy decrypts
Throughout: no reuse, no copy that fails to decrypt; srtp_reuse never counted (the dataplane's own
guard never had to refuse a copy).

Run as root: /usr/bin/python3 tests/integration/test_srtp_keystream.py [--asan]
Negative control (must make the test FAIL; tests/run-all.sh runs it): --forget-ledger (before the
first restart the ledger file is deleted, as if the dataplane kept no durable record, AND the
controller is killed and its state file made to claim that its keys were used under the new ledger,
which bypasses the controller's guard: the replayed keys' copies then reuse indexes; the run stops
after that restart).
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest  # noqa: E402
import rtpgen  # noqa: E402
from test_srtp import parse_keys, key_bytes, session, pylibsrtp  # noqa: E402

SUITES = ('AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80')
PACE = 0.0006
RECEIVERS = ('bob', 'carol')


class Recorder:
    """Every (key, SSRC, index) a receiver was sent, and whether each copy decrypted."""

    def __init__(self):
        self.top = {}           # (key, ssrc) -> highest index seen
        self.seen = set()       # (key, ssrc, index)
        self.reuse = []         # (ssrc, index) seen twice
        self.copies = 0

    def index(self, key, ssrc, seq):
        top = self.top.get((key, ssrc))
        if top is None:
            return seq
        roc, s_l = top >> 16, top & 0xffff
        if s_l < 32768:
            if seq - s_l > 32768 and roc > 0:
                roc -= 1
        elif s_l - 32768 > seq:
            roc += 1
        return roc << 16 | seq

    def record(self, key, wire):
        ssrc = int.from_bytes(wire[8:12], 'big')
        seq = int.from_bytes(wire[2:4], 'big')
        idx = self.index(key, ssrc, seq)
        self.copies += 1
        if (key, ssrc, idx) in self.seen:
            self.reuse.append((ssrc, idx))
        self.seen.add((key, ssrc, idx))
        if idx > self.top.get((key, ssrc), -1):
            self.top[(key, ssrc)] = idx
        return ssrc, idx


class Meeting:
    def __init__(self, env, c, k, suite):
        self.env, self.c, self.suite = env, c, suite
        self.name = 'ks%d' % k
        base = 8200 + 100 * k
        self.ports = {'alice': base, 'bob': base + 2, 'carol': base + 4}
        self.A = 0xA1000000 + k
        self.V = (0xB1000000 + k, 0xB2000000 + k)
        self.audio = rtpgen.OpusLike(self.A, seq=40000, ts=1)
        self.video = [rtpgen.Vp8L1T3(self.V[e], keyframe_interval=6, pkts_per_frame=2 + e,
                                     payload_size=100 + 50 * e, seq=(1000, 30000)[e], tids=(0,),
                                     sync=(False,)) for e in range(2)]
        self.rec = {n: Recorder() for n in RECEIVERS}
        self.undecrypted = {n: 0 for n in RECEIVERS}
        self.got = {n: 0 for n in RECEIVERS}
        self.captured = []      # alice's wires, for replays

    def setup(self):
        env = self.env
        env.meeting(self.name, srtp=self.suite)
        self.keys = {}
        for n, role in (('alice', 'sendonly'), ('bob', 'recvonly'), ('carol', 'recvonly')):
            self.keys[n] = parse_keys(env.participant(self.name, n, self.ports[n], role=role).stdout)
        env.stream(self.name, 'alice', self.A, kind='audio')
        env.ctl('stream', 'add', self.name, 'alice', '--ssrc', ','.join(str(x) for x in self.V),
                '--kind', 'video', '--codec', 'vp8', '--layers', 1)
        for n in RECEIVERS:
            env.ctl('sub', 'set', self.name, n, '--ssrc', self.V[0], '--encoding', 0)
        self.socks = {n: env.udp_socket(p) for n, p in self.ports.items()}
        self.new_tx()
        self.rx = {n: self.new_rx(n) for n in RECEIVERS}

    def new_tx(self):
        self.tx = session(self.suite, key_bytes(self.keys['alice']['send_key'], self.suite), True)

    def new_rx(self, n):
        return session(self.suite, key_bytes(self.keys[n]['recv_key'], self.suite), False)

    def switch(self, n, enc):
        self.env.ctl('sub', 'set', self.name, n, '--ssrc', self.V[0], '--encoding', enc)

    # -- traffic --
    def send(self, ticks, audio_only=False, pace=PACE):
        for t in range(ticks):
            pkts = [self.audio.next_packet()]
            if not audio_only and t % 2 == 0:
                for e, g in enumerate(self.video):
                    if t % 12 == 0:
                        g.request_keyframe()
                    pkts += rtpgen.vp8_simulcast_packets(g, e)
            for p in pkts:
                wire = self.tx.protect(p.data)
                if len(self.captured) < 4000:
                    self.captured.append(wire)
                self.env.send(self.socks['alice'], wire)
            if pace:
                time.sleep(pace)
            if t % 200 == 199:
                self.drain(max_wait=0.01)

    def drain(self, max_wait=3.0):
        """Record and decrypt everything bob and carol got."""
        for n in RECEIVERS:
            key = self.keys[n]['recv_key']
            for w in self.env.recv_all(self.socks[n], timeout=0.3 if max_wait > 0.1 else 0.005,
                                       max_wait=max_wait):
                self.rec[n].record(key, w)
                self.got[n] += 1
                try:
                    self.rx[n].unprotect(w)
                except Exception:     # pylibsrtp raises on auth failure and replay
                    self.undecrypted[n] += 1

    def check(self, what):
        c = self.c
        self.drain()
        for n in RECEIVERS:
            r = self.rec[n]
            c.check(not r.reuse, '%s: %s: no (key, SSRC, index) sent twice to %s (%d copies)'
                    % (self.suite, what, n, r.copies), 'reused: %s' % r.reuse[:5])
            c.check(self.undecrypted[n] == 0 and self.got[n] > 0,
                    '%s: %s: %s decrypts every copy with its one session' % (self.suite, what, n),
                    '%d of %d failed' % (self.undecrypted[n], self.got[n]))
            self.got[n] = 0
            self.undecrypted[n] = 0

    def replay(self, what, wires):
        env, c = self.env, self.c
        d0 = mmrtest.drop_counts(env.stats())
        for w in wires:
            env.send(self.socks['alice'], w)
        deadline = time.monotonic() + 10
        while _delta(d0, mmrtest.drop_counts(env.stats()), 'srtp_replay', 'srtp_auth') < len(wires) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        stray = sum(len(env.recv_all(self.socks[n], timeout=0.3, max_wait=1)) for n in RECEIVERS)
        d = _delta(d0, mmrtest.drop_counts(env.stats()), 'srtp_replay', 'srtp_auth')
        c.check(d == len(wires) and stray == 0,
                '%s: %s: %d replays of alice\'s captured packets dropped and counted, none forwarded'
                % (self.suite, what, len(wires)), '%d counted, %d copies forwarded' % (d, stray))

    def rekey(self):
        for n in ('alice', 'bob'):
            self.keys[n] = self.env.rekey(self.name, n)
        self.new_tx()
        self.rx['bob'] = self.new_rx('bob')


def _delta(a, b, *keys):
    return sum(b.get(k, 0) - a.get(k, 0) for k in keys)


def wait_new_dataplane(env, timeout=20):
    deadline = time.monotonic() + timeout * (2 if env.asan else 1)
    while True:
        st = env.ctl('status', json=True, check=False, timeout=5)
        if st.returncode == 0 and mmrtest.dp_attached(st.stdout) and \
                st.stdout['dataplane'].get('pid') == env.dp.pid:
            return
        if time.monotonic() > deadline:
            raise mmrtest.HarnessError('controller not synced with dataplane pid %d' % env.dp.pid)
        time.sleep(0.05)


def warm(env, ms):
    """After a (re)start the first packets of each inbound stream wait for its first durable lease
    (counted srtp_lease): send until every stream forwards again, then forget those copies' checks
    (they are recorded: reuse is still checked)."""
    for m in ms:
        m.send(140)
    for m in ms:
        m.drain(max_wait=1)


def body(c, args):
    if not c.check(pylibsrtp is not None, 'python3-pylibsrtp importable (scripts/install-deps.sh)'):
        return
    env = mmrtest.MmrEnv('srtpks', asan=args.asan, rtcp=False)
    # small inbound windows: after a restart a publisher's stream resumes within 64 (video 128)
    # packets, which keeps the test short (the default is 128)
    env.extra_dp_conf += 'srtp_lease_in = 64;\n'
    with env:
        env.wait_dp_attached(10)
        ms = [Meeting(env, c, k, s) for k, s in enumerate(SUITES)]
        for m in ms:
            m.setup()
        env.wait_dp_attached()

        def forget_ledger():
            """The negative control's defect: the ledger is lost, and the controller's guard is
            bypassed (its state file claims the keys were used under the new ledger)."""
            env.kill_controller(9)
            os.unlink(env.ledger_path)
            env.start_dataplane()
            with open(env.ledger_path, 'rb') as f:
                new_id = f.read(64)[16:32].hex()     # header: magic, version, slot size, id
            with open(env.state_file) as f:
                lines = [('srtp_ledger %s -\n' % new_id) if l.startswith('srtp_ledger ') else l
                         for l in f]
            with open(env.state_file, 'w') as f:
                f.writelines(lines)
            env.start_controller()

        def restart_dp(what):
            env.kill_dataplane(9)
            if args.forget_ledger:
                forget_ledger()
            else:
                env.start_dataplane()
            wait_new_dataplane(env)
            c.check(all(env.alive()), '%s: dataplane restarted, controller alive' % what)

        c.note('== 1. start, simulcast switches')
        warm(env, ms)
        for m in ms:
            m.send(60)
            m.switch('bob', 1)
            m.send(60)
            m.switch('bob', 0)
            m.send(60)
            m.switch('bob', 1)
            m.send(30)
            m.check('start and switches')
        before = {m.name: list(m.captured[-20:]) for m in ms}

        c.note('== 2. kill -9 of the dataplane right after a simulcast switch')
        restart_dp('dataplane restart')
        warm(env, ms)
        for m in ms:
            m.send(60)
            m.switch('bob', 0)
            m.send(60)
            m.check('after the dataplane restart')
            m.replay('after the dataplane restart', before[m.name][:10])
        if args.forget_ledger:
            return      # the negative control's defect shows here: the rest would only repeat it

        c.note('== 3. kill -9 of the controller')
        env.kill_controller(9)
        env.start_controller()
        env.wait_dp_attached(15)
        for m in ms:
            m.send(60)
            m.switch('bob', 1)
            m.send(60)
            m.check('after the controller restart')
            m.replay('after the controller restart', before[m.name][10:])

        c.note('== 4. bob\'s output wraps (ROC 0 -> 1), then a host reboot')
        for m in ms:
            m.send(66000, audio_only=True, pace=0)
            m.send(40)
            m.check('output wrap')
            rocs = [idx >> 16 for (key, ssrc), idx in m.rec['bob'].top.items() if ssrc == m.A]
            c.check(rocs and max(rocs) >= 1, '%s: bob\'s audio copies wrapped (ROC %s)' % (m.suite, rocs))
        before = {m.name: list(m.captured[-10:]) for m in ms}
        env.kill_controller(9)
        env.kill_dataplane(9)
        try:
            os.unlink('/dev/shm' + env.shm_name)    # a reboot loses the shared segment too
        except OSError:
            pass
        env.start_dataplane()
        env.start_controller()
        wait_new_dataplane(env)
        warm(env, ms)
        for m in ms:
            m.send(60)
            m.check('after the host reboot')
            m.replay('after the host reboot', m.captured[:10])

        c.note('== 5. rekey, dataplane kill -9 inside the rekey window')
        state = os.path.join(env.tmp, 'state')
        # the controller's state is its snapshot and its journal (control/state_store.h): both
        for f in (state, state + '.journal'):
            if os.path.exists(f):
                shutil.copy(f, f + '.before-rekey')
        for m in ms:
            m.rekey()
            m.send(30)
        old = {m.name: list(m.captured[-10:]) for m in ms}
        restart_dp('dataplane restart in the rekey window')
        warm(env, ms)
        for m in ms:
            m.send(60)
            m.check('after the rekey and restart')
            m.replay('after the rekey and restart', old[m.name][:5] + before[m.name][:5])

        c.note('== 6. the ledger cannot be written (chattr +i): packets stop rather than go unrecorded')
        cp = subprocess.run(['chattr', '+i', env.ledger_path], capture_output=True, text=True)
        if c.check(cp.returncode == 0, 'the ledger made unwritable (chattr +i)', cp.stderr.strip()):
            try:
                d0 = mmrtest.drop_counts(env.stats())
                for m in ms:
                    m.send(400, audio_only=True, pace=0)
                    m.check('ledger unwritable')
                d1 = mmrtest.drop_counts(env.stats())
                c.check(d1.get('srtp_lease', 0) - d0.get('srtp_lease', 0) >= 3 * 200,
                        'ledger unwritable: packets beyond the durable leases dropped and counted (srtp_lease)',
                        '%d' % (d1.get('srtp_lease', 0) - d0.get('srtp_lease', 0)))
                c.check('writing the ledger failed' in env.log_text('dataplane'),
                        'ledger unwritable: the dataplane\'s log says so')
            finally:
                subprocess.run(['chattr', '-i', env.ledger_path])
            warm(env, ms)
            for m in ms:
                m.send(60)
                m.check('ledger writable again: media resumes')

        c.note('== 7. a stale controller replays retired keys')
        env.kill_controller(9)
        for f in (state, state + '.journal'):
            if os.path.exists(f + '.before-rekey'):
                shutil.copy(f + '.before-rekey', f)
        env.start_controller()
        # the controller sees that its state file is older than the tables (fewer changes): it holds
        # (docs/design.md "One controller, and no wipe by mistake"); told to in so many words, it
        # replays, and the dataplane's own guard refuses the retired keys
        deadline = time.monotonic() + 15
        st = {}
        while time.monotonic() < deadline:
            st = env.ctl('status', json=True, check=False).stdout
            if isinstance(st, dict) and (st.get('dataplane') or {}).get('mode') == 'held':
                break
            time.sleep(0.05)
        why = (st.get('dataplane') or {}).get('why', '') if isinstance(st, dict) else ''
        c.check('it is older' in why, 'stale controller: held, its state file is older than the tables', why)
        env.ctl('dataplane', 'reset', '--yes-wipe')
        env.wait_dp_attached(15)
        for m in ms:
            m.send(30)
            m.drain(max_wait=1)
            for n in RECEIVERS:
                c.check(not m.rec[n].reuse, '%s: stale controller: no reuse toward %s' % (m.suite, n),
                        m.rec[n].reuse[:5])
        log = env.log_text('dataplane')
        c.check('its SRTP key was retired' in log, 'stale controller: the dataplane refused the retired keys (its log says so)')
        d = mmrtest.drop_counts(env.stats())
        c.eq(d.get('srtp_reuse', 0), 0, 'srtp_reuse: the dataplane never had to refuse a copy (before 8)')

        c.note('== 8. the ledger is lost: every SRTP participant gets new keys before the replay')
        for m in ms:        # 7 counted its copies (checked for reuse only): start afresh
            for n in RECEIVERS:
                m.got[n] = m.undecrypted[n] = 0
        env.kill_dataplane(9)
        os.unlink(env.ledger_path)
        env.start_dataplane()
        wait_new_dataplane(env)
        c.check(all(env.alive()), 'ledger lost: dataplane restarted on a new ledger, controller alive')
        names = ('alice',) + RECEIVERS
        c.check('SRTP ledger changed' in env.log_text('controller') and
                'the %d SRTP participants got new keys' % (len(ms) * len(names)) in env.log_text('controller'),
                'ledger lost: the controller\'s log says every SRTP participant got new keys')
        new = {m.name: {n: env.participant_keys(m.name, n) for n in names} for m in ms}
        for m in ms:
            for n in names:
                c.check(all(new[m.name][n][k] != m.keys[n][k] for k in ('send_key', 'recv_key')),
                        '%s: ledger lost: %s got new send and receive keys' % (m.suite, n))
        # alice still sends under her old key: dropped as srtp_auth, nothing forwarded
        d0 = mmrtest.drop_counts(env.stats())
        for m in ms:
            m.send(100, audio_only=True)
        deadline = time.monotonic() + 10
        while _delta(d0, mmrtest.drop_counts(env.stats()), 'srtp_auth') < 100 * len(ms) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        stray = sum(len(env.recv_all(m.socks[n], timeout=0.3, max_wait=1)) for m in ms for n in RECEIVERS)
        d = _delta(d0, mmrtest.drop_counts(env.stats()), 'srtp_auth')
        c.check(d == 100 * len(ms) and stray == 0,
                'ledger lost: alice\'s packets under her old key dropped as srtp_auth, none forwarded',
                '%d counted, %d copies forwarded' % (d, stray))
        # alice on her new key; the receivers' old sessions decrypt none of their copies
        for m in ms:
            m.keys = new[m.name]
            m.new_tx()
            m.send(140)
        for m in ms:
            m.drain(max_wait=1)
            for n in RECEIVERS:
                c.check(m.got[n] > 0 and m.undecrypted[n] == m.got[n],
                        '%s: ledger lost: %s\'s old session decrypts none of its copies' % (m.suite, n),
                        '%d of %d decrypted' % (m.got[n] - m.undecrypted[n], m.got[n]))
                m.got[n] = m.undecrypted[n] = 0
                m.rx[n] = m.new_rx(n)
        # the new sessions decrypt every copy; no (key, SSRC, index) twice
        for m in ms:
            m.send(60)
            m.switch('bob', 0)
            m.send(60)
            m.check('after the ledger was lost, with the new keys')
            m.replay('after the ledger was lost', m.captured[:10])

        d = mmrtest.drop_counts(env.stats())
        c.eq(d.get('srtp_reuse', 0), 0, 'srtp_reuse: the dataplane never had to refuse a copy')
        c.check(all(env.alive()), 'dataplane and controller alive at the end')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--asan', action='store_true', help='run the build-asan/ programs')
    ap.add_argument('--forget-ledger', action='store_true',
                    help='negative control: delete the ledger before the first restart and make the '
                    'controller\'s state claim its keys were used under the new one; the test must FAIL')
    args = ap.parse_args()
    mmrtest.run_test('test_srtp_keystream', lambda c: body(c, args))


if __name__ == '__main__':
    main()
