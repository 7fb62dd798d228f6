#!/usr/bin/python3
"""
test_ctl_fencing.py - a controller never wipes a live dataplane by mistake, and only one drives it
(docs/design.md "One controller, and no wipe by mistake"). Real dataplane, real controllers, alice's
audio (200 packets/s) flowing to bob throughout:

 1. the controller is killed and its state (snapshot and journal) deleted; the restarted controller (a new, empty state)
    holds: it does not replay, the tables keep their objects, `mmrctl status` says why ("held") and
    what to do; no packet is lost. Its original state file put back: it replays (same state id) and
    nothing is deleted, no packet lost.
 2. the state replaced by a valid, empty snapshot and no journal (an old version-4 file without a state id): held
    the same way, no packet lost. Then `mmrctl dataplane reset --yes-wipe`: the tables are emptied and
    bob gets nothing any more (the negative control: the flow checks above can fail). The meeting
    made again through this controller: media flows again.
 3. a second controller B (a copy of the state file: the same state id, its own socket) started
    while the first, A, is live: refused ("another controller ... drives"), A keeps driving.
 4. A stopped (SIGSTOP) for longer than the dead-heartbeat time: B takes over (fencing token + 1),
    replays the same state (nothing deleted) and applies a change of its own (carol joins). A, with a
    request (`participant remove m1 bob`) in its socket, is continued (SIGCONT): the command it
    pushes is refused by the dataplane for its stale token (counted), A says it is fenced and
    refuses further changes, bob is still served, the tables are B's (3 participants). No packet of
    alice's is lost to bob through 3 and 4.
 5. A restarted on its own state file (the same state id, but its fencing token is older than the
    tables' and it lost bob in the raced request): it waits while B drives, and once B is stopped it
    is held ("last driven by another controller"): nothing is deleted, no packet lost.
 6. B restarted on its own state file drives again; A restarted with --take-over --wipe-dataplane
    takes over from the live B at once and replaces the tables by its state; B is fenced.

Run as root: /usr/bin/python3 tests/integration/test_ctl_fencing.py
Negative control (must make the test FAIL; tests/run-all.sh runs it): --negative-wipe (in 1, the
controller without its state file is started with --wipe-dataplane, as a controller without the
guard would behave: the tables lose their participants and bob his media; the run stops there).
"""
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv  # noqa: E402
import rtpgen  # noqa: E402

AUDIO = 0xA0000001
NEGATIVE_WIPE = '--negative-wipe' in sys.argv[1:]
PORTS = {'alice': 6001, 'bob': 6002, 'carol': 6003}


class Sender(threading.Thread):
    """alice's audio at 200 packets/s; records the sequence numbers sent, with the time."""

    def __init__(self, env, sock):
        super().__init__(daemon=True)
        self.env, self.sock = env, sock
        self.audio = rtpgen.OpusLike(AUDIO)
        self.sent = []
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        t_next = time.monotonic()
        while not self.stop_ev.is_set():
            p = self.audio.next_packet()
            self.env.send(self.sock, p.data)
            with self.lock:
                self.sent.append((time.monotonic(), p.seq))
            t_next += 0.005
            d = t_next - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -0.5:
                t_next = time.monotonic()

    def since(self, t0, t1):
        with self.lock:
            return [s for t, s in self.sent if t0 <= t < t1]


class Receiver(threading.Thread):
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.got = []        # (t, seq)
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.stop_ev.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.05)
            now = time.monotonic()
            while r:
                try:
                    d = self.sock.recv(65536)
                except (BlockingIOError, InterruptedError, ConnectionRefusedError):
                    break
                with self.lock:
                    self.got.append((now, rtpgen.parse_rtp(d).seq))

    def seqs(self):
        with self.lock:
            return set(s for _, s in self.got)

    def count_since(self, t0):
        with self.lock:
            return sum(1 for t, _ in self.got if t >= t0)


def wait_for(what, pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    raise mmrtest.HarnessError('%s: not within %.0f s (last: %r)' % (what, timeout, last))


def status_of(env, sock=None):
    cp = env.ctl('status', json=True, check=False, timeout=5) if sock is None else \
        ctl_at(env, sock, 'status', json=True)
    return cp.stdout if cp.returncode == 0 else {}


def ctl_at(env, sock, *args, json=False):
    argv = [env.mmrctl_bin, '-S', sock] + (['--json'] if json else []) + [str(a) for a in args]
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10,
                        env=env._env())
    if json and cp.returncode == 0:
        import json as jsonlib
        cp.stdout = jsonlib.loads(cp.stdout)
    return cp


def dp_of(st):
    return (st or {}).get('dataplane') or {}


def tables_of(st):
    return dp_of(st).get('tables') or {}


def no_loss(c, snd, rcv, t0, t1, what):
    """Every packet alice sent in [t0, t1) reached bob."""
    time.sleep(0.3)     # the last ones in flight
    sent = snd.since(t0, t1)
    got = rcv.seqs()
    missing = [s for s in sent if s not in got]
    c.check(sent and not missing, '%s: bob got all %d packets alice sent' % (what, len(sent)),
            '%d missing, first %s' % (len(missing), missing[:5]))


def read_state(path):
    """A controller's state: its snapshot (text) and its journal (bytes, or None), state_store.h."""
    with open(path) as f:
        snap = f.read()
    try:
        with open(path + '.journal', 'rb') as f:
            journal = f.read()
    except FileNotFoundError:
        journal = None
    return snap, journal


def write_state(path, state):
    """Put a state (read_state) in place: the snapshot, and its journal or none."""
    snap, journal = state
    with open(path, 'w') as f:
        f.write(snap)
    os.chmod(path, 0o600)
    if journal is None:
        if os.path.exists(path + '.journal'):
            os.unlink(path + '.journal')
    else:
        with open(path + '.journal', 'wb') as f:
            f.write(journal)
        os.chmod(path + '.journal', 0o600)


def delete_state(path):
    """The state gone: snapshot and journal."""
    for p in (path, path + '.journal'):
        if os.path.exists(p):
            os.unlink(p)


def body(c):
    with MmrEnv('ctl_fencing') as env:
        env.wait_dp_attached(10)
        env.meeting('m1')
        env.participant('m1', 'alice', PORTS['alice'])
        env.participant('m1', 'bob', PORTS['bob'], role='recvonly')
        env.stream('m1', 'alice', AUDIO, 'audio')
        env.wait_dp_attached(10)
        saved_state = read_state(env.state_file)
        c.check('state_id ' in saved_state[0], 'the state file holds a state id')

        socks = {n: env.udp_socket(p) for n, p in PORTS.items()}
        snd = Sender(env, socks['alice'])
        rcv = Receiver(socks['bob'])
        rcv.start()
        snd.start()
        wait_for('bob receives alice', lambda: rcv.count_since(0) > 20)

        # ---- 1. state file deleted ------------------------------------------------------------------
        t0 = time.monotonic()
        env.kill_controller(9)
        delete_state(env.state_file)
        if NEGATIVE_WIPE:
            # the planted defect: the controller told to wipe (as if it had no guard); the checks
            # that the tables and the media survive must fail
            env.start_controller('--wipe-dataplane')
            env.wait_dp_attached(10)
            c.eq(tables_of(status_of(env)).get('participants'), 2, '1: the tables keep their 2 participants')
            time.sleep(1.0)
            no_loss(c, snd, rcv, t0, time.monotonic(), '1 (state file deleted)')
            return
        env.start_controller()
        st = wait_for('controller holds', lambda: dp_of(status_of(env)).get('mode') == 'held' and status_of(env))
        c.check(not dp_of(st).get('attached'), '1: a controller without its state file does not attach')
        c.eq(tables_of(st).get('participants'), 2, '1: the tables keep their 2 participants')
        why = dp_of(st).get('why', '')
        c.check('held' in why and 'dataplane reset --yes-wipe' in why and 'a replay would delete' in why,
                '1: status says why it holds and what to do', why)
        txt = env.ctl('status').stdout
        c.check('mode           held' in txt and 'not ours' in txt, '1: text status says held, tables not ours', txt)
        time.sleep(1.5)   # held for more than one attach retry
        c.eq(tables_of(status_of(env)).get('participants'), 2, '1: still 2 participants after 1.5 s held')
        env.kill_controller(9)
        write_state(env.state_file, saved_state)
        env.start_controller()
        st = env.wait_dp_attached(10)
        c.eq(dp_of(st).get('mode'), 'driving', '1: with its state file back, the controller drives again')
        c.eq(tables_of(st).get('participants'), 2, '1: replay of the same state: 2 participants')
        no_loss(c, snd, rcv, t0, time.monotonic(), '1 (state file deleted, then restored)')
        c.check('removed 0, 0, 0' in open(env.dp_log).read().split('sync gen')[-1],
                '1: the dataplane deleted nothing in the replay')

        # ---- 2. state file emptied -------------------------------------------------------------------
        t0 = time.monotonic()
        env.kill_controller(9)
        write_state(env.state_file, ('mmr-state 4\nend 0 0 0 0\n', None))
        env.start_controller()
        st = wait_for('controller holds', lambda: dp_of(status_of(env)).get('mode') == 'held' and status_of(env))
        c.eq(tables_of(st).get('participants'), 2, '2: emptied state file: the tables keep their 2 participants')
        time.sleep(1.0)
        no_loss(c, snd, rcv, t0, time.monotonic(), '2 (state file emptied)')
        cp = env.ctl('dataplane', 'reset', check=False)
        c.check(cp.returncode != 0 and 'missing option --yes-wipe' in cp.stdout + cp.stderr,
                '2: dataplane reset without --yes-wipe is refused', cp.stdout + cp.stderr)
        env.ctl('dataplane', 'reset', '--yes-wipe')
        st = wait_for('tables wiped', lambda: (lambda s: dp_of(s).get('mode') == 'driving' and
                                               tables_of(s).get('participants') == 0 and s)(status_of(env)))
        c.check(True, '2: dataplane reset --yes-wipe: the controller drives and the tables are empty')
        time.sleep(0.3)
        t_w = time.monotonic()
        time.sleep(0.7)
        c.eq(rcv.count_since(t_w), 0, '2: negative control: after the wipe bob gets nothing')
        cp = env.ctl('dataplane', 'reset', '--yes-wipe', check=False)
        c.check(cp.returncode != 0 and 'not held' in cp.stdout + cp.stderr,
                '2: a second reset is refused (nothing held)', cp.stdout + cp.stderr)
        env.meeting('m1')
        env.participant('m1', 'alice', PORTS['alice'])
        env.participant('m1', 'bob', PORTS['bob'], role='recvonly')
        env.stream('m1', 'alice', AUDIO, 'audio')
        t_m = time.monotonic()
        wait_for('media again', lambda: rcv.count_since(t_m) > 20)
        c.check(True, '2: the meeting made again: media flows')

        # ---- 3. a second controller while the first is live -------------------------------------------
        t0 = time.monotonic()
        b_sock = os.path.join(env.tmp, 'b.sock')
        b_state = os.path.join(env.tmp, 'b-state')
        b_conf = os.path.join(env.tmp, 'controller-b.conf')
        write_state(b_state, read_state(env.state_file))   # a standby with a copy of the state: the same state id
        with open(b_conf, 'w') as f:
            f.write('socket = "%s";\nsocket_group = "";\nstate_file = "%s";\nshm_name = "%s";\n'
                    'apply_timeout_ms = 1000;\n' % (b_sock, b_state, env.shm_name))
        b_log = os.path.join(env.logdir, 'controller-b.log')
        b_proc, off = env._spawn([env.ctl_bin, '-c', b_conf], b_log, 'controller B', leaks=True)
        a_pid = env.ctl_proc.pid
        try:
            env._wait_line(b_proc, b_log, off, 'MMR-CONTROLLER READY', 20, 'controller B')
            st_b = wait_for('B refused', lambda: (lambda s: 'another controller' in dp_of(s).get('why', '') and s)(
                status_of(env, b_sock)))
            why = dp_of(st_b).get('why', '')
            c.check(not dp_of(st_b).get('attached') and 'pid %d' % a_pid in why and '--take-over' in why,
                    '3: a second controller started while the first is live is refused', why)
            time.sleep(1.2)
            st_a = status_of(env)
            c.check(dp_of(st_a).get('mode') == 'driving' and not dp_of(status_of(env, b_sock)).get('attached'),
                    '3: the first keeps driving, the second stays detached')
            token_a = dp_of(st_a).get('fencing_token')

            # ---- 4. A stopped, B takes over, A continued -----------------------------------------------
            # a request to A, accepted (half a frame header) before A is stopped, completed while it is
            args = [b'participant', b'remove', b'm1', b'bob']
            payload = struct.pack('<I', len(args)) + b''.join(struct.pack('<I', len(a)) + a for a in args)
            frame = b'MMRQ' + struct.pack('<I', len(payload)) + payload
            rq = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            rq.settimeout(20)
            rq.connect(env.socket_path)
            rq.sendall(frame[:4])
            time.sleep(0.3)
            os.kill(a_pid, signal.SIGSTOP)
            t_stop = time.monotonic()
            st_b = wait_for('B takes over', lambda: (lambda s: dp_of(s).get('mode') == 'driving' and
                                                    mmrtest.dp_attached(s) and s)(status_of(env, b_sock)))
            c.note('B took over %.2f s after A was stopped' % (time.monotonic() - t_stop))
            c.check(dp_of(st_b).get('fencing_token', 0) > (token_a or 0),
                    '4: B took over with a higher fencing token (%s > %s)' % (dp_of(st_b).get('fencing_token'), token_a))
            c.eq(tables_of(st_b).get('participants'), 2, '4: B replayed the same state: nothing deleted')
            cp = ctl_at(env, b_sock, 'participant', 'add', 'm1', 'carol', '--addr', mmrtest.CLIENT_IP,
                        '--port', PORTS['carol'], '--role', 'recvonly')
            c.check(cp.returncode == 0 and 'note' not in cp.stdout, '4: B applies a change (carol joins)',
                    cp.stdout + cp.stderr)
            stale0 = tables_of(status_of(env, b_sock)).get('stale_refused', 0)
            rq.sendall(frame[4:])
            while time.monotonic() - t_stop < 2.5:
                time.sleep(0.05)
            os.kill(a_pid, signal.SIGCONT)
            hdr = b''
            while len(hdr) < 8:
                d = rq.recv(8 - len(hdr))
                if not d:
                    break
                hdr += d
            n = struct.unpack('<I', hdr[4:8])[0] if len(hdr) == 8 else 0
            reply = b''
            while len(reply) < n:
                d = rq.recv(n - len(reply))
                if not d:
                    break
                reply += d
            rq.close()
            reply = reply.decode(errors='replace')
            c.check('fenced' in reply, '4: A\'s request that raced the take-over says A is fenced', reply)
            st_b = wait_for('the dataplane refuses A', lambda: (lambda s: tables_of(s).get('stale_refused', 0) > stale0
                                                                and s)(status_of(env, b_sock)))
            c.check(True, '4: the dataplane refused A\'s command for its stale token (%d refused)'
                 % tables_of(st_b).get('stale_refused'))
            st_a = wait_for('A fenced', lambda: (lambda s: dp_of(s).get('mode') == 'fenced' and s)(status_of(env)))
            c.check('fenced' in dp_of(st_a).get('why', '') and 'pid %d' % b_proc.pid in dp_of(st_a).get('why', ''),
                    '4: A\'s status says it is fenced, and by whom', dp_of(st_a).get('why'))
            cp = env.ctl('sub', 'set', 'm1', 'bob', '--ssrc', AUDIO, '--target', 0, check=False)
            c.check(cp.returncode != 0 and 'fenced' in cp.stdout + cp.stderr,
                    '4: A refuses further changes with a clear error', cp.stdout + cp.stderr)
            c.eq(env.ctl('meeting', 'list', check=False).returncode, 0, '4: A still answers read-only requests')
            time.sleep(1.0)
            st_b = status_of(env, b_sock)
            c.check(dp_of(st_b).get('mode') == 'driving' and tables_of(st_b).get('participants') == 3,
                    '4: B still drives; the tables are B\'s (3 participants, bob kept)', tables_of(st_b))
            t_end = time.monotonic()
            no_loss(c, snd, rcv, t0, t_end, '3+4 (second controller, stop, take-over, continue)')
            c.check('fenced' in open(env.ctl_log).read(), '4: A logged that it is fenced')
            c.check('took the dataplane over from controller pid %d' % a_pid in open(b_log).read(),
                    '4: B logged the take-over')

            # ---- 5. the fenced A restarted on its own (forked) state file ---------------------------------
            t0 = time.monotonic()
            env.kill_controller(signal.SIGTERM)
            env.start_controller()
            st = wait_for('restarted A waits', lambda: (lambda s: 'another controller' in dp_of(s).get('why', '')
                                                        and s)(status_of(env)))
            c.check(not dp_of(st).get('attached'), '5: A restarted while B drives waits as a standby')
            b_proc.send_signal(signal.SIGTERM)
            c.eq(b_proc.wait(10), 0, 'controller B exits 0 on SIGTERM')
            st = wait_for('restarted A holds', lambda: (lambda s: dp_of(s).get('mode') == 'held' and s)(status_of(env)))
            why = dp_of(st).get('why', '')
            c.check('last driven by another controller' in why and 'token' in why,
                    '5: A restarted on its forked state file (same state id, older token) is held', why)
            c.eq(env.ctl('meeting', 'list', json=True).stdout.get('meetings', [{}])[0].get('participants'), 1,
                 '5: (A\'s own state lost bob: a replay would have deleted him)')
            time.sleep(1.2)
            c.eq(tables_of(status_of(env)).get('participants'), 3, '5: the tables still hold B\'s 3 participants')
            no_loss(c, snd, rcv, t0, time.monotonic(), '5 (fenced controller restarted)')

            # ---- 6. told in so many words: B back, then A forced over it ------------------------------
            b_proc, off = env._spawn([env.ctl_bin, '-c', b_conf], b_log, 'controller B again', leaks=True)
            env._wait_line(b_proc, b_log, off, 'MMR-CONTROLLER READY', 20, 'controller B')
            st_b = wait_for('B drives again', lambda: (lambda s: dp_of(s).get('mode') == 'driving' and
                                                      mmrtest.dp_attached(s) and s)(status_of(env, b_sock)))
            c.eq(tables_of(st_b).get('participants'), 3, '6: B restarted on its own state file drives again')
            env.kill_controller(signal.SIGTERM)
            t_f = time.monotonic()
            env.start_controller('--take-over', '--wipe-dataplane')
            st = env.wait_dp_attached(10)
            c.check(dp_of(st).get('mode') == 'driving' and time.monotonic() - t_f < 3.0,
                    '6: --take-over: A takes over from the live B at once (%.2f s)' % (time.monotonic() - t_f))
            c.eq(tables_of(st).get('participants'), 1, '6: --wipe-dataplane: the tables are A\'s (1 participant)')
            st_b = wait_for('B fenced', lambda: (lambda s: dp_of(s).get('mode') == 'fenced' and s)(status_of(env, b_sock)))
            c.check('pid %d' % env.ctl_proc.pid in dp_of(st_b).get('why', ''), '6: B is fenced by A')
        finally:
            try:
                os.kill(a_pid, signal.SIGCONT)
            except OSError:
                pass
            if b_proc.poll() is None:
                b_proc.send_signal(signal.SIGTERM)
                try:
                    c.eq(b_proc.wait(10), 0, 'controller B exits 0 on SIGTERM')
                except subprocess.TimeoutExpired:
                    b_proc.kill()
                    b_proc.wait()
        snd.stop_ev.set()
        rcv.stop_ev.set()
        snd.join(2)
        rcv.join(2)
        c.check(all(env.alive()), 'dataplane and controller A alive at the end')
        c.check(not env.sanitizer_errors(), 'no sanitizer reports in the logs', env.sanitizer_errors()[:3])


if __name__ == '__main__':
    mmrtest.run_test('test_ctl_fencing', body)
